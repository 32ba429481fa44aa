# SPDX-License-Identifier: MIT
"""Faults for real: kill -9 at random instants under load, failpoints at the dangerous
instants, an upstream restart. Afterwards the copy equals the upstream, duplicates included."""

import random
import re
import subprocess
import threading
import time

import psycopg2
import pytest

import harness
from harness import assert_all_tables_equal


@pytest.mark.timeout(600)
def test_random_kill9_under_pgbench_load(db, sqledge_factory):
    seed = harness.random_seed()
    rng = random.Random(seed)
    db.pgbench("-i", "-s", "1", "-q")
    # pgbench_history has no key: give it an identity so its rows can be compared and applied
    db.execute("ALTER TABLE pgbench_history REPLICA IDENTITY FULL")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up(timeout=120)

    env = db.cluster.client_env()
    env["PGDATABASE"] = db.name
    load = subprocess.Popen([harness.PG_BINDIR + "/pgbench", "-n", "-c", "4", "-j", "2",
                             "-T", "25"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    kills = []
    try:
        while load.poll() is None:
            # chaos timing, not a wait: the next kill comes 1-4 s later
            time.sleep(rng.uniform(1, 4))
            if load.poll() is not None:
                break
            action = rng.choice(["worker", "worker", "master", "tree"])
            if not sq.running():
                sq.start()
                kills.append("restart")
                continue
            if action == "worker":
                try:
                    sq.kill9_worker(timeout=10)
                    kills.append("worker")
                except AssertionError:
                    kills.append("worker (not up yet)")
            elif action == "master":
                sq.kill9()
                sq.start()
                kills.append("master")
            else:
                sq.kill9_tree()
                sq.start()
                kills.append("tree")
        out, _ = load.communicate(timeout=60)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    print("seed %d, kills: %s" % (seed, ", ".join(kills)))
    assert load.returncode == 0, out
    assert re.search(r"number of transactions actually processed: [1-9]", out), out
    assert kills, "nothing was killed"
    if not sq.running():
        sq.start()
    sq.wait_caught_up(timeout=180)
    assert_all_tables_equal(db, sq)


class WriteLoad:
    """Small random transactions in a thread until stopped (seeded)."""

    def __init__(self, db, seed):
        self.db = db
        self.rng = random.Random(seed)
        self.stop_event = threading.Event()
        self.error = None
        self.txns = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)
        if self.error:
            raise self.error

    def _run(self):
        try:
            conn = self.db.connect(autocommit=False)
            next_id = 100000
            with conn, conn.cursor() as cur:
                while not self.stop_event.is_set():
                    for _ in range(self.rng.randint(1, 5)):
                        op = self.rng.random()
                        key = self.rng.randint(1, 2000)
                        if op < 0.4:
                            next_id += 1
                            cur.execute("INSERT INTO acc VALUES (%s, %s)", (next_id, key))
                        elif op < 0.7:
                            cur.execute("UPDATE acc SET n = n + 1 WHERE id = %s", (key,))
                        elif op < 0.8:
                            cur.execute("DELETE FROM acc WHERE id = %s", (key,))
                        else:
                            cur.execute("INSERT INTO hist VALUES (%s, 'event')", (key,))
                    conn.commit()
                    self.txns += 1
                    time.sleep(0.005)
            conn.close()
        except (psycopg2.Error, OSError) as exc:
            self.error = exc


FAILPOINTS = ["apply-before-commit", "apply-after-commit", "sync-mid-copy",
              "sync-before-switch", "sync-after-switch"]


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_failpoints_lose_and_duplicate_nothing(db, sqledge_factory, failpoint):
    seed = harness.random_seed()
    db.execute("CREATE TABLE acc (id int PRIMARY KEY, n int);"
               "CREATE TABLE hist (k int, what text);"
               "ALTER TABLE hist REPLICA IDENTITY FULL;"
               "INSERT INTO acc SELECT g, 0 FROM generate_series(1, 2000) g;"
               "INSERT INTO hist SELECT g % 10, 'seed' FROM generate_series(1, 5000) g")
    with WriteLoad(db, seed) as load:
        sq = sqledge_factory(db).start(env={"SQLEDGE_FAILPOINTS": failpoint})
        sq.wait_restarts(1, timeout=90)
        # the respawned worker carries on under load
        start = load.txns
        harness.wait_for(lambda: load.txns >= start + 20, 30, "writes after the respawn")
    sq.wait_caught_up(timeout=120)
    assert_all_tables_equal(db, sq)
    assert sq.repl_restarts() == 1
    assert failpoint in sq.log()


def _level(entry):
    m = harness.LOG_PREFIX.match(entry)
    return m.group(1) if m else None


def test_upstream_restart_reconnects_and_copy_stays_readable(db, sqledge_factory):
    pg = db.cluster
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text);"
               "INSERT INTO t SELECT g, 'v' FROM generate_series(1, 1000) g")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    mark = sq.log_size()
    pg.stop("fast")
    try:
        harness.wait_for(lambda: sq.state() not in ("streaming", ""), 30,
                         "replication to leave state streaming", alive=sq)
        # an outage of several reconnect attempts; the copy keeps answering all along
        outage_end = time.monotonic() + 8
        reads = 0
        while time.monotonic() < outage_end:
            assert sq.local_count("t") == 1000
            sq.check_running("during the upstream outage")
            reads += 1
            time.sleep(0.2)
        assert sq.state() != "streaming"
        outage = [entry for entry in sq.log_entries(mark) if _level(entry) != "DEBUG"]
        problems = [line for line in outage if _level(line) in ("ERROR", "WARNING")]
    finally:
        pg.start()
    assert len(problems) == 1, "expected one line for the disconnect, got:\n" + "\n".join(
        outage)
    assert len(outage) <= 2, "the log grows with every retry:\n" + "\n".join(outage)
    db.execute("INSERT INTO t VALUES (1001, 'after the restart'); UPDATE t SET v = 'w' "
               "WHERE id <= 10")
    sq.wait_caught_up(timeout=90)
    assert_all_tables_equal(db, sq)
