# SPDX-License-Identifier: MIT
"""Real client drivers through the proxy: pgjdbc and node-postgres each run the same scenario
once straight at the upstream and once through sqledge, and must print the same lines.

The programs live in clients/: JdbcCheck.java (Debian's libpostgresql-jdbc-java, with
prepareThreshold=1 for server-prepared statements, binary transfer and cursor fetches) and
node_check.js (the pg module pinned in clients/package.json, installed by scripts/test.sh).
Each prints one deterministic line per step; the only difference allowed between the two runs
is the table name, which is passed in and replaced before comparing."""

import contextlib
import difflib
import os
import shutil
import subprocess

import psycopg2
import pytest

import harness

CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients")
JDBC_JAR = "/usr/share/java/postgresql.jar"
NODE_MODULES = os.path.join(CLIENTS, "node_modules")
RUN_TIMEOUT = 180
INSTALL_HINT = "run scripts/install-deps.sh, or as root: apt-get install %s"


class Jdbc:
    """The compiled JdbcCheck, or why it cannot run."""

    def __init__(self, classes=None, problem=None):
        self.classes = classes
        self.problem = problem


@pytest.fixture(scope="session")
def jdbc(tmp_path_factory):
    """JdbcCheck.java compiled once per session (a missing tool fails the tests that use it)."""
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            return Jdbc(problem="%s is not on PATH: %s" % (
                tool, INSTALL_HINT % "default-jdk-headless"))
    if not os.path.isfile(JDBC_JAR):
        return Jdbc(problem="no pgjdbc jar at %s: %s" % (
            JDBC_JAR, INSTALL_HINT % "libpostgresql-jdbc-java"))
    classes = str(tmp_path_factory.mktemp("jdbc-classes"))
    res = subprocess.run(["javac", "-cp", JDBC_JAR, "-d", classes,
                          os.path.join(CLIENTS, "JdbcCheck.java")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=RUN_TIMEOUT)
    if res.returncode != 0:
        return Jdbc(problem="javac JdbcCheck.java failed (exit %d):\n%s"
                    % (res.returncode, res.stdout))
    return Jdbc(classes=classes)


def node_problem():
    """Why node_check.js cannot run, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH: %s" % (INSTALL_HINT % "nodejs npm")
    if not os.path.isfile(os.path.join(NODE_MODULES, "pg", "package.json")):
        return ("%s has no pg module: run `npm ci --prefix tests/integration/clients "
                "--no-audit --no-fund` from the repository root (scripts/test.sh does this; "
                "npm comes with `apt-get install nodejs npm`)" % NODE_MODULES)
    return None


def client_env():
    # nothing of the caller's libpq settings reaches a driver that reads them (pg does)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["TZ"] = "UTC"
    return env


def _text(output):
    # TimeoutExpired carries bytes even from a text-mode run
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""


def run_client(what, cmd, table):
    """Runs one driver program; returns its stdout lines with the table name replaced."""
    try:
        res = subprocess.run(cmd, env=client_env(), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("%s did not finish within %ss; its output so far:\n%s\n%s"
                             % (what, RUN_TIMEOUT, _text(exc.stdout), _text(exc.stderr))) from None
    if res.returncode != 0:
        out = res.stdout.splitlines()
        raise AssertionError("%s exited %d after %d line(s) of output%s\nstderr:\n%s"
                             % (what, res.returncode, len(out),
                                (", the last ones:\n" + "\n".join(out[-5:])) if out else "",
                                res.stderr.strip()))
    lines = [line.replace(table, "<table>") for line in res.stdout.splitlines()]
    assert lines, "%s exited 0 but printed nothing" % what
    assert lines[-1].startswith("drop "), (
        "%s did not get to its last step (DROP TABLE); it ended with: %s" % (what, lines[-1]))
    return lines


def assert_same_output(direct, proxied, what):
    if direct == proxied:
        return
    diff = list(difflib.unified_diff(direct, proxied, "straight at PostgreSQL",
                                     "through sqledge", n=1, lineterm=""))
    shown = "\n".join(diff[:60])
    if len(diff) > 60:
        shown += "\n... %d more diff lines" % (len(diff) - 60)
    raise AssertionError("%s prints differently through sqledge (%d lines straight, %d "
                         "through sqledge):\n%s" % (what, len(direct), len(proxied), shown))


def proxy_login(db, port):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user=db.user, password=db.password,
                            dbname=db.name, connect_timeout=5)
    with contextlib.closing(conn), conn.cursor() as cur:
        cur.execute("SELECT 1")
        return cur.fetchone() == (1,)


def started_proxy(db, sqledge_factory):
    """A sqledge that has caught up with the upstream and whose proxy accepts a login."""
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    harness.wait_for(lambda: proxy_login(db, sq.proxy_port), 60,
                     "the proxy on 127.0.0.1:%d to accept a login" % sq.proxy_port,
                     interval=0.2, alive=sq)
    return sq


def compare_through_proxy(db, sqledge_factory, what, command):
    """command(port, table) -> argv; runs it straight at the upstream, then through sqledge.
    Both runs happen while sqledge runs, so both see the same upstream (its publication of all
    tables, for one: UPDATE on a published table needs a replica identity)."""
    suffix = harness.unique_suffix()
    direct_table, proxied_table = "drv_direct_" + suffix, "drv_proxied_" + suffix
    sq = started_proxy(db, sqledge_factory)
    direct = run_client("%s straight at PostgreSQL" % what,
                        command(db.cluster.port, direct_table), direct_table)
    proxied = run_client("%s through sqledge" % what,
                         command(sq.proxy_port, proxied_table), proxied_table)
    sq.check_running("after %s ran through it" % what)
    assert_same_output(direct, proxied, what)
    return direct


def client_args(db, port, table):
    return ["127.0.0.1", str(port), db.name, db.user, db.password, table]


def test_pgjdbc_same_through_proxy(db, sqledge_factory, jdbc):
    if jdbc.problem:
        pytest.fail("pgjdbc check cannot run: " + jdbc.problem, pytrace=False)
    classpath = jdbc.classes + os.pathsep + JDBC_JAR
    lines = compare_through_proxy(
        db, sqledge_factory, "JdbcCheck (pgjdbc)",
        lambda port, table: ["java", "-cp", classpath, "JdbcCheck",
                             *client_args(db, port, table)])
    # the scenario itself went where it should have
    assert any('"sqlstate": "23505"' in line for line in lines), lines
    assert sum(line.startswith("fetch ") for line in lines) >= 10, lines


def jdbc_table(db, sqledge_factory, jdbc, prefix):
    """sqledge, and a function that runs a JdbcCheck mode against a port, on a table that the
    setup mode made straight upstream and the copy has."""
    if jdbc.problem:
        pytest.fail("pgjdbc check cannot run: " + jdbc.problem, pytrace=False)
    classpath = jdbc.classes + os.pathsep + JDBC_JAR
    table = prefix + harness.unique_suffix()
    sq = started_proxy(db, sqledge_factory)

    def jdbc_run(port, mode):
        return jdbc_mode(classpath, db, port, table, mode)

    jdbc_run(db.cluster.port, "setup")
    sq.wait_caught_up()
    return sq, jdbc_run


def jdbc_mode(classpath, db, port, table, mode):
    """JdbcCheck's output lines for one of its modes (setup, reads, ryw)."""
    res = subprocess.run(["java", "-cp", classpath, "JdbcCheck", *client_args(db, port, table),
                          mode], env=client_env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=RUN_TIMEOUT)
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


def test_pgjdbc_binary_reads_from_the_copy(db, sqledge_factory, jdbc):
    """Server-prepared statements with binary results, answered from the copy: the same
    values through sqledge as straight from PostgreSQL."""
    sq, jdbc_run = jdbc_table(db, sqledge_factory, jdbc, "drv_reads_")
    direct = jdbc_run(db.cluster.port, "reads")
    before = sq.proxy_workers()["queries_local"]
    proxied = jdbc_run(sq.proxy_port, "reads")
    assert_same_output(direct, proxied, "JdbcCheck reads (pgjdbc)")
    assert sum(line.startswith("select_pass2 ") for line in direct) >= 5, direct
    # each statement's first execution prepares it upstream; the point reads after it are
    # the copy's, in binary after the first
    assert sq.proxy_workers()["queries_local"] - before >= 10


def test_pgjdbc_reads_its_own_writes_from_the_copy(db, sqledge_factory, jdbc):
    """INSERT then SELECT of the new row, thirty times, through server-prepared statements:
    every read sees its write, and the reads are the copy's."""
    sq, jdbc_run = jdbc_table(db, sqledge_factory, jdbc, "drv_ryw_")
    before = sq.proxy_workers()["queries_local"]
    lines = jdbc_run(sq.proxy_port, "ryw")
    rows = [line for line in lines if line.startswith("ryw ")]
    assert len(rows) == 30, lines
    for i, line in enumerate(rows):
        assert '"row": "%d|ryw %d"' % (100000 + i, i) in line, line
    # the statements are prepared upstream on first use; the reads after are the copy's
    assert sq.proxy_workers()["queries_local"] - before >= 25


def test_node_postgres_same_through_proxy(db, sqledge_factory):
    problem = node_problem()
    if problem:
        pytest.fail("node-postgres check cannot run: " + problem, pytrace=False)
    script = os.path.join(CLIENTS, "node_check.js")
    lines = compare_through_proxy(
        db, sqledge_factory, "node_check.js (node-postgres)",
        lambda port, table: ["node", script, *client_args(db, port, table)])
    assert any('"code":"23505"' in line for line in lines), lines
    assert sum(line.startswith("notification ") for line in lines) == 4, lines


def test_node_postgres_reads_its_own_writes_from_the_copy(db, sqledge_factory):
    """INSERT then SELECT of the new row, thirty times, with parameters (the unnamed
    statement): every read sees its write, and the reads are the copy's."""
    problem = node_problem()
    if problem:
        pytest.fail("node-postgres check cannot run: " + problem, pytrace=False)
    script = os.path.join(CLIENTS, "node_check.js")
    table = "drv_nryw_" + harness.unique_suffix()
    sq = started_proxy(db, sqledge_factory)

    def node_run(port, mode):
        res = subprocess.run(["node", script, *client_args(db, port, table), mode],
                             env=client_env(), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=RUN_TIMEOUT)
        assert res.returncode == 0, res.stderr
        return res.stdout.splitlines()

    node_run(db.cluster.port, "setup")
    sq.wait_caught_up()
    before = sq.proxy_workers()["queries_local"]
    rows = [line for line in node_run(sq.proxy_port, "ryw") if line.startswith("ryw ")]
    assert len(rows) == 30, rows
    for i, line in enumerate(rows):
        assert '"row":"%d|ryw %d"' % (100000 + i, i) in line, line
    assert sq.proxy_workers()["queries_local"] - before >= 25
