# SPDX-License-Identifier: MIT
"""Fixtures of the integration suite: one scratch PostgreSQL 15 cluster per session, a fresh
database (with its own slot and publication names) per test, and sqledge processes that are
stopped after the test, their log tails attached to any failure report."""

import os
import signal

import pytest

import harness

DEFAULT_TIMEOUT = 420


def pytest_report_header(config):
    binary = harness.sqledge_binary()
    state = "" if os.access(binary, os.X_OK) else " (missing: build first)"
    return ["sqledge binary: %s%s" % (binary, state),
            "postgresql: %s, running as %s" % (harness.PG_BINDIR,
                                               "root (postgres via runuser)" if harness.IS_ROOT
                                               else "uid %d" % os.getuid())]


@pytest.fixture(scope="session")
def pg():
    """The session's scratch cluster (wal_level=logical, superuser postgres)."""
    cluster = harness.PgCluster()
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def db(pg, request):
    """A fresh database with unique slot and publication names; dropped afterwards together
    with its replication slots and the roles made through db.create_role()."""
    database = harness.Database(pg, "t_" + harness.unique_suffix())
    pg.create_database(database.name)
    yield database
    # whatever the fixture order, no sqledge may recreate a slot while the database goes
    for sq in getattr(request.node, "_sqledge_instances", []):
        sq.cleanup()
    if not pg.running:  # a test that stopped the cluster and failed before restarting it
        pg.start()
    database.drop()


@pytest.fixture
def sqledge_factory(request):
    """sqledge_factory(db, workdir=None, env=None, minimal_env=False) -> harness.Sqledge, not
    yet started; every instance is stopped and cleaned up after the test."""
    instances = []
    request.node._sqledge_instances = instances

    def make(database, **kw):
        sq = harness.Sqledge(database, **kw)
        instances.append(sq)
        return sq

    yield make
    reports = []
    for sq in reversed(instances):
        try:
            if sq.running():
                sq.stop(timeout=20)
        except AssertionError:
            pass
        found = sq.sanitizer_reports()
        if found:
            reports.append("%s:\n%s" % (sq.logfile, found))
        sq.cleanup()
    if reports:
        # an ASan/UBSan build aborts the offending process, which the master may simply
        # respawn: the log is where such a failure shows
        pytest.fail("sanitizer reports in the sqledge log:\n" + "\n".join(reports))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for sq in getattr(item, "_sqledge_instances", []):
            if sq.starts:
                report.sections.append(("sqledge log", sq.log_tail(60)))


class CallTimeout(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """A bound on every test's call phase (no timeout plugin is installed): the waits are
    bounded, this catches anything else."""
    marker = item.get_closest_marker("timeout")
    seconds = int(marker.args[0]) if marker else DEFAULT_TIMEOUT

    def expired(signum, frame):
        raise CallTimeout("test exceeded its %d s bound" % seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
