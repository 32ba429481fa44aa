# SPDX-License-Identifier: MIT
"""Edge benchmark: one client on an edge node whose upstream is far away. A relay in front of
the upstream (tests/integration/relay.py) delays every byte by --delay milliseconds each way;
sqledge (its replication and its proxy's upstream sessions) and the direct client both reach
the upstream through it. For each figure the same statements run through sqledge and straight
at the far upstream, in the same run:

- point read: SELECT of one row by primary key (sqledge answers it from the local copy);
- write: a single-row INSERT, autocommit, in a session that also reads locally (so that
  read-your-writes is on and the session check travels with every write);
- write-to-visible: that INSERT and then the SELECT that returns the new row;
- connect + read: a new connection, the point read, and its close. sqledge runs with
  [proxy] login_cache_ttl set: a login it has seen before opens no upstream session. The same
  figure with another application_name each time (a login the cache has not seen) shows a
  login through the upstream.

It is a measurement, not a test: it exits 0 whatever the figures, non-zero only when something
failed (a tool, a wrong answer, a timeout). See bench/README.md.
"""

import argparse
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import shutil
import time

from initial_sync import BenchError, harness, log, machine_line

import psycopg2

import relay as relay_mod

DBNAME = "bench"
ROWS = 1000
WRITE_TARGET = 1.05


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--delay", type=float, default=10.0,
                   help="milliseconds the relay adds in each direction (default 10)")
    p.add_argument("--rounds", type=int, default=200,
                   help="statements timed per figure and target (default 200)")
    p.add_argument("--keep", action="store_true", help="keep sqledge's directory and log")
    args = p.parse_args(argv)
    if args.delay < 0 or args.rounds < 10:
        p.error("--delay must be at least 0 and --rounds at least 10")
    return args


def connect(port, password):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password=password,
                            dbname=DBNAME, connect_timeout=30)
    conn.autocommit = True
    return conn


def timed(fn, rounds):
    """Runs fn(i) rounds times; the latencies in milliseconds."""
    out = []
    for i in range(rounds):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def measure(conn, rounds, base):
    """The three figures on one connection; ids from base up are this target's."""
    cur = conn.cursor()

    def read(i):
        cur.execute("SELECT id, body FROM edge_items WHERE id = %d" % (i % ROWS + 1))
        if cur.fetchall() != [(i % ROWS + 1, "item %d" % (i % ROWS + 1))]:
            raise BenchError("point read %d returned the wrong row" % i)

    def write(i):
        cur.execute("INSERT INTO edge_notes VALUES (%d, 'w')" % (base + i))

    def write_read(i):
        n = base + 100000 + i
        cur.execute("INSERT INTO edge_notes VALUES (%d, 'v%d')" % (n, n))
        cur.execute("SELECT body FROM edge_notes WHERE id = %d" % n)
        if cur.fetchall() != [("v%d" % n,)]:
            raise BenchError("the read after write %d did not see it" % n)

    read(0)  # the session reads (locally through sqledge) before the timed parts
    return {"point read": timed(read, rounds), "write": timed(write, rounds),
            "write-to-visible": timed(write_read, rounds)}


def reconnects(port, password, rounds, fresh_names):
    """Connect, point read, close; the latencies in milliseconds."""
    def once(i):
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password=password,
                                dbname=DBNAME, connect_timeout=30,
                                application_name="bench %d" % i if fresh_names else "bench")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id, body FROM edge_items WHERE id = %d" % (i % ROWS + 1))
                if cur.fetchall() != [(i % ROWS + 1, "item %d" % (i % ROWS + 1))]:
                    raise BenchError("the read after connect %d returned the wrong row" % i)
        finally:
            conn.close()

    once(0)  # the login the cache remembers
    return timed(once, rounds)


def counters(sq):
    w = sq.proxy_workers()["workers"][0]
    return {k: w[k] for k in ("queries_local", "queries_forwarded", "checks_held",
                              "checks_ahead")}


def main(argv):
    args = parse_args(argv)

    def terminated(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    cluster = sq = relay = None
    workdir = tempfile.mkdtemp(prefix="sqledge-bench-edge-")
    try:
        cluster = harness.PgCluster(name="bench-edge-pg")
        cluster.init().start()
        cluster.create_database(DBNAME)
        db = harness.Database(cluster, DBNAME, slot="bench_edge_slot",
                              publication="bench_edge_pub")
        db.execute("CREATE TABLE edge_items (id int PRIMARY KEY, body text);"
                   "INSERT INTO edge_items SELECT g, 'item ' || g FROM generate_series(1, %d) g;"
                   "CREATE TABLE edge_notes (id int PRIMARY KEY, body text)" % ROWS)
        relay = relay_mod.Relay(cluster.port, delay=args.delay / 1000.0)
        sq = harness.Sqledge(db, workdir=workdir, env={
            "SQLEDGE_UPSTREAM_PORT": relay.port,
            "SQLEDGE_PROXY_LOCAL_READS": "true",
            "SQLEDGE_PROXY_WORKERS": "1",
            "SQLEDGE_PROXY_LOGIN_CACHE_TTL": "600",
        })
        print("edge benchmark, %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        print("machine: %s" % machine_line())
        print("upstream: PostgreSQL %s on 127.0.0.1:%d behind a relay on port %d that adds "
              "%.1f ms each way" % (cluster.query("SHOW server_version")[0][0], cluster.port,
                                    relay.port, args.delay))
        print("one client, psycopg2 (simple protocol), autocommit; %d statements per figure"
              % args.rounds, flush=True)
        sq.start()
        sq.wait_caught_up(db, timeout=120)

        results = {}
        with contextlib.closing(connect(relay.port, db.password)) as conn:
            log("direct, through the relay")
            results["direct"] = measure(conn, args.rounds, 0)
        before = counters(sq)
        with contextlib.closing(sq.proxy_connect(dbname=DBNAME)) as conn:
            log("sqledge")
            results["sqledge"] = measure(conn, args.rounds, 1000000)
        after = counters(sq)
        delta = {k: after[k] - before[k] for k in after}
        conn_rounds = max(10, args.rounds // 4)
        log("connect + read, direct")
        results["direct"]["connect + read"] = reconnects(relay.port, db.password, conn_rounds,
                                                         False)
        cached = sq.proxy_workers()["workers"][0]["logins_cached"]
        log("connect + read, sqledge")
        results["sqledge"]["connect + read"] = reconnects(sq.proxy_port, db.password,
                                                          conn_rounds, False)
        cached = sq.proxy_workers()["workers"][0]["logins_cached"] - cached
        log("connect + read, sqledge, a new application_name each time")
        results["direct"]["  (cache missed)"] = results["direct"]["connect + read"]
        results["sqledge"]["  (cache missed)"] = reconnects(sq.proxy_port, db.password,
                                                            conn_rounds, True)

        print()
        print("milliseconds        %-18s %-18s %s" % ("direct", "sqledge", "sqledge/direct"))
        print("                    median     p90     median     p90     (median)")
        for fig in ("point read", "write", "write-to-visible", "connect + read",
                    "  (cache missed)"):
            d, s = results["direct"][fig], results["sqledge"][fig]
            dq = statistics.quantiles(d, n=10)[-1]
            sq90 = statistics.quantiles(s, n=10)[-1]
            print("%-18s %7.2f %7.2f    %7.2f %7.2f     %.3fx" % (
                fig, statistics.median(d), dq, statistics.median(s), sq90,
                statistics.median(s) / statistics.median(d)))
        w = statistics.median(results["sqledge"]["write"]) / \
            statistics.median(results["direct"]["write"])
        print()
        print("write through sqledge / direct: %.3fx (target at most %.2fx)" % (w, WRITE_TARGET))
        print("sqledge counters over its part: %d answered locally, %d forwarded, session "
              "checks: %d sent with a write, %d waited for by a read"
              % (delta["queries_local"], delta["queries_forwarded"], delta["checks_ahead"],
                 delta["checks_held"]))
        print("connect + read: %d connections per figure; %d of sqledge's %d logins came from "
              "the login cache (login_cache_ttl = 600)" % (conn_rounds, cached, conn_rounds))
        return 0
    except (BenchError, RuntimeError, AssertionError, psycopg2.Error, OSError) as exc:
        print("bench: error: %s" % exc, file=sys.stderr)
        if sq is not None:
            print(sq.log_tail(), file=sys.stderr)
        return 1
    finally:
        if sq is not None:
            with contextlib.suppress(Exception):
                if sq.running():
                    sq.stop(timeout=30)
                sq.cleanup()
        if relay is not None:
            relay.close()
        if cluster is not None:
            with contextlib.suppress(RuntimeError):
                cluster.destroy()
        if args.keep:
            log("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
