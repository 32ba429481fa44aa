# SPDX-License-Identifier: MIT
"""Replication benchmark: how closely the copy follows the upstream, measured against the
upstream's own decoding in the same run.

- bulk: a transaction of --rows rows (INSERT ... SELECT, default one million) commits upstream
  while the consumer is away; then the consumer connects to its slot, whose position is just
  before the transaction, and the time until it has the whole transaction is taken. Reference:
  pg_recvlogical (pgoutput, the same publication) draining it to /dev/null up to the position
  after the commit, which is the upstream's decoding limit. sqledge: from its start until the
  last row is visible in the copy. Both decode the same WAL from the same place; the order of
  the two alternates between rounds. The same transaction is also timed with sqledge streaming
  live while it is written (from the commit until the last row is visible).
- steady: pgbench (tpcb-like, 4 clients) at about half the rate it reached in the same run,
  for --duration seconds, while sqledge streams. Lag by time: a marker row committed every
  10 ms, from its commit until the copy shows it (the copy polled every millisecond). Lag by
  position: the upstream's WAL position minus the copy's applied position, sampled every 10 ms.
  p50 and p99 of each, and the first and last third compared for a trend.

It is a measurement, not a test: it exits 0 whatever the figures, non-zero only when something
failed (a tool, a wrong count, a timeout). See bench/README.md.
"""

import argparse
import contextlib
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from initial_sync import BenchError, harness, log, machine_line

import psycopg2

DBNAME = "bench"
BULK_TARGET = 1.10
LAG_P99_TARGET_MS = 10.0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1000000,
                   help="rows of the bulk transaction (default 1000000)")
    p.add_argument("--rounds", type=int, default=3, help="bulk rounds (default 3)")
    p.add_argument("--duration", type=int, default=60,
                   help="seconds of the steady load (default 60)")
    p.add_argument("--scale", type=int, default=10, help="pgbench scale (default 10)")
    p.add_argument("--only", choices=("bulk", "steady"), help="run one part only")
    p.add_argument("--transport", choices=("tcp", "unix"), default="tcp",
                   help="how sqledge and pg_recvlogical reach the upstream: TCP on 127.0.0.1 "
                        "with a password (default) or the Unix socket")
    p.add_argument("--keep", action="store_true", help="keep sqledge's directory and log")
    args = p.parse_args(argv)
    if args.rows < 1000 or args.rounds < 1 or args.duration < 10:
        p.error("--rows at least 1000, --rounds at least 1, --duration at least 10")
    return args


def pct(values, q):
    """The q-th percentile (0-100) by nearest rank."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


class Local:
    """Read-only looks at the copy, through its stable name."""

    def __init__(self, path):
        self.conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30,
                                    check_same_thread=False)

    def max_id(self, table):
        try:
            row = self.conn.execute("SELECT max(id) FROM %s" % table).fetchone()
        except sqlite3.OperationalError:  # the table is not there yet
            return None
        return row[0]

    def applied(self):
        return self.conn.execute("SELECT lsn_int FROM postgres_pos").fetchone()[0]

    def close(self):
        self.conn.close()


def wait_visible(sq, table, want, timeout=600):
    """Polls the copy until max(id) of table is want; the time that took from now."""
    t0 = time.monotonic()
    local = None
    try:
        while True:
            if local is None:
                with contextlib.suppress(sqlite3.Error):
                    local = Local(sq.db_path)
            if local is not None and local.max_id(table) == want:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise BenchError("%s did not reach id %d in the copy within %d s"
                                 % (table, want, timeout))
            sq.check_running("waiting for the copy")
            time.sleep(0.002)
    finally:
        if local is not None:
            local.close()


def bulk_insert(db, first, rows):
    """Inserts ids first+1 .. first+rows in one transaction; the WAL position after it."""
    with contextlib.closing(db.connect()) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO bulk SELECT %d + g, md5(g::text), g * 1.5 "
                    "FROM generate_series(1, %d) g" % (first, rows))
        cur.execute("SELECT pg_current_wal_insert_lsn()")
        return cur.fetchone()[0]


def run_recvlogical(db, slot, endpos, transport):
    """pg_recvlogical from slot up to endpos into /dev/null, over the transport sqledge uses;
    its wall time in seconds."""
    env = db.cluster.client_env()
    if transport == "tcp":
        env.update(PGHOST="127.0.0.1", PGPASSWORD=db.password)
    cmd = [os.path.join(harness.PG_BINDIR, "pg_recvlogical"), "-d", DBNAME, "--slot", slot,
           "--start", "-o", "proto_version=1", "-o", "publication_names=%s" % db.publication,
           "--endpos", endpos, "-f", "/dev/null", "--no-loop"]
    t0 = time.monotonic()
    res = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=900)
    if res.returncode != 0:
        raise BenchError("pg_recvlogical failed (exit %d):\n%s" % (res.returncode, res.stdout))
    return time.monotonic() - t0


def bulk(db, sq, args):
    db.execute("CREATE TABLE bulk (id int PRIMARY KEY, body text, amount numeric)")
    sq.start()
    sq.wait_caught_up(db, timeout=300)
    results = []
    for r in range(args.rounds):
        first = r * 3 * args.rows
        # live: sqledge streams while the transaction is written
        t_commit_lsn = bulk_insert(db, first, args.rows)
        live = wait_visible(sq, "bulk", first + args.rows)
        log("round %d: live %.2f s after the commit (%s)" % (r + 1, live, t_commit_lsn))

        # from the slot: both consumers away while it is written. sqledge's slot must not
        # make its walsender decode the live round again: a checkpoint logs the running
        # transactions, and once sqledge confirms past that the slot's restart point moves
        db.execute("CHECKPOINT")
        mark = db.scalar("SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + 60
        while not db.scalar("SELECT restart_lsn >= '%s' FROM pg_replication_slots WHERE "
                            "slot_name = '%s'" % (mark, db.slot)):
            if time.monotonic() > deadline:
                raise BenchError("the slot's restart point did not move past %s" % mark)
            time.sleep(0.1)
        sq.stop()
        slot = "bench_ref_%d" % r
        db.execute("SELECT pg_create_logical_replication_slot('%s', 'pgoutput')" % slot)
        first += args.rows
        endpos = bulk_insert(db, first, args.rows)
        order = ("ref", "sqledge") if r % 2 == 0 else ("sqledge", "ref")
        times = {}
        for who in order:
            if who == "ref":
                times["ref"] = run_recvlogical(db, slot, endpos, args.transport)
            else:
                t0 = time.monotonic()
                sq.start()
                wait_visible(sq, "bulk", first + args.rows)
                times["sqledge"] = time.monotonic() - t0
        db.execute("SELECT pg_drop_replication_slot('%s')" % slot)
        log("round %d: from the slot: pg_recvlogical %.2f s, sqledge %.2f s (%s first)"
            % (r + 1, times["ref"], times["sqledge"], order[0]))
        results.append({"live": live, "ref": times["ref"], "sqledge": times["sqledge"]})
        sq.wait_caught_up(db, timeout=300)
    # the copy holds every row
    want = 2 * args.rows * args.rounds
    local = Local(sq.db_path)
    try:
        got = local.conn.execute("SELECT count(*) FROM bulk").fetchone()[0]
    finally:
        local.close()
    if got != want:
        raise BenchError("the copy has %d bulk rows, the upstream %d" % (got, want))
    sq.stop()
    return results


def pgbench_tps(output):
    m = re.search(r"tps = ([0-9.]+)", output)
    if not m:
        raise BenchError("no tps in pgbench's output:\n" + output)
    return float(m.group(1))


def steady(db, sq, args):
    log("pgbench -i -s %d" % args.scale)
    db.pgbench("-i", "-q", "-s", str(args.scale), timeout=1800)
    db.execute("ALTER TABLE pgbench_history REPLICA IDENTITY FULL;"
               "CREATE TABLE lag_marker (id int PRIMARY KEY, at timestamptz)")
    sq.start()
    sq.wait_caught_up(db, timeout=600)

    log("pgbench at full rate for 10 s, sqledge streaming")
    full = pgbench_tps(db.pgbench("-n", "-c", "4", "-j", "2", "-T", "10").stdout)
    rate = max(1, int(full / 2))
    log("full rate %.0f tps; the steady load runs at %d tps for %d s" % (full, rate,
                                                                       args.duration))
    sq.wait_caught_up(db, timeout=300)

    stop = threading.Event()
    markers = {}   # id -> commit time (monotonic)
    visible = {}   # id -> first time seen in the copy
    positions = []  # (time, upstream WAL position, copy's applied position)
    errors = []

    def marker_writer():
        try:
            with contextlib.closing(db.connect()) as conn, conn.cursor() as cur:
                n = 0
                while not stop.is_set():
                    n += 1
                    cur.execute("INSERT INTO lag_marker VALUES (%d, now())" % n)
                    markers[n] = time.monotonic()
                    written[0] = n
                    cur.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
                    up = int(cur.fetchone()[0])
                    positions.append((time.monotonic(), up, None))
                    time.sleep(0.01)
        except Exception as exc:  # reported below
            errors.append(exc)

    def copy_watcher():
        try:
            local = Local(sq.db_path)
            try:
                last = 0
                while not stop.is_set() or last < written[0]:
                    now = time.monotonic()
                    top = local.max_id("lag_marker") or 0
                    for i in range(last + 1, top + 1):
                        visible[i] = now
                    last = max(last, top)
                    positions.append((now, None, local.applied()))
                    if stop.is_set() and now - stop_time[0] > 30:
                        break
                    time.sleep(0.001)
            finally:
                local.close()
        except Exception as exc:
            errors.append(exc)

    stop_time = [0.0]
    written = [0]  # the last marker committed
    threads = [threading.Thread(target=marker_writer), threading.Thread(target=copy_watcher)]
    for t in threads:
        t.start()
    t_start = time.monotonic()
    try:
        out = db.pgbench("-n", "-c", "4", "-j", "2", "-T", str(args.duration), "-R", str(rate),
                         timeout=args.duration + 120).stdout
    finally:
        stop_time[0] = time.monotonic()
        stop.set()
        for t in threads:
            t.join()
    if errors:
        raise BenchError("sampling failed: %s" % errors[0])
    achieved = pgbench_tps(out)

    lags = []  # (commit time, ms)
    for i, t in sorted(markers.items()):
        if i not in visible:
            raise BenchError("marker %d never reached the copy" % i)
        lags.append((t, (visible[i] - t) * 1000.0))
    # position lag: each upstream sample against the copy's position at that moment
    ups = sorted((t, up) for t, up, ap in positions if up is not None)
    aps = sorted((t, ap) for t, up, ap in positions if ap is not None)
    pos_lag = []
    j = 0
    for t, up in ups:
        while j + 1 < len(aps) and aps[j + 1][0] <= t:
            j += 1
        if aps and aps[j][0] <= t:
            pos_lag.append((t, max(0, up - aps[j][1])))
    return {"full_tps": full, "rate": rate, "achieved_tps": achieved, "t_start": t_start,
            "lags": lags, "pos_lag": pos_lag}


def thirds(samples):
    """p50 of the first and of the last third of (time, value) samples."""
    n = len(samples)
    first = [v for _, v in samples[:n // 3]]
    last = [v for _, v in samples[n - n // 3:]]
    return pct(first, 50), pct(last, 50)


def report_bulk(args, results):
    print()
    print("bulk: one transaction of %d rows (INSERT ... SELECT), %d rounds" % (args.rows,
                                                                             args.rounds))
    print("  round   pg_recvlogical s   sqledge s   ratio   sqledge live s")
    for i, r in enumerate(results):
        print("  %5d   %16.2f   %9.2f   %5.2f   %14.2f" % (i + 1, r["ref"], r["sqledge"],
                                                            r["sqledge"] / r["ref"], r["live"]))
    ref = statistics.median(r["ref"] for r in results)
    sqe = statistics.median(r["sqledge"] for r in results)
    print("  median  %16.2f   %9.2f   %5.2f   %14.2f" % (
        ref, sqe, sqe / ref, statistics.median(r["live"] for r in results)))
    print("bulk: sqledge / pg_recvlogical %.2fx (target at most %.2fx)" % (sqe / ref,
                                                                           BULK_TARGET))


def report_steady(res):
    lags = res["lags"]
    ms = [v for _, v in lags]
    pos = [v for _, v in res["pos_lag"]]
    f50, l50 = thirds(lags)
    pf50, pl50 = thirds(res["pos_lag"])
    print()
    print("steady: pgbench tpcb-like, 4 clients; full rate %.0f tps, load %d tps (achieved "
          "%.0f)" % (res["full_tps"], res["rate"], res["achieved_tps"]))
    print("  lag by time (commit to visible in the copy), %d markers: p50 %.2f ms, p99 %.2f ms, "
          "max %.2f ms" % (len(ms), pct(ms, 50), pct(ms, 99), max(ms)))
    print("  lag by position (upstream WAL position - applied), %d samples: p50 %d bytes, "
          "p99 %d bytes" % (len(pos), pct(pos, 50), pct(pos, 99)))
    print("  trend: p50 by time %.2f ms in the first third, %.2f ms in the last; by position "
          "%d and %d bytes" % (f50, l50, pf50, pl50))
    print("steady: p99 lag %.2f ms (target under %.0f ms)" % (pct(ms, 99), LAG_P99_TARGET_MS))


def main(argv):
    args = parse_args(argv)

    def terminated(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    cluster = sq = None
    workdir = tempfile.mkdtemp(prefix="sqledge-bench-repl-")
    try:
        cluster = harness.PgCluster(name="bench-repl-pg", settings={
            "shared_buffers": "256MB", "max_wal_size": "4GB", "checkpoint_timeout": "30min"})
        cluster.init().start()
        cluster.create_database(DBNAME)
        db = harness.Database(cluster, DBNAME, slot="bench_repl_slot",
                              publication="bench_repl_pub")
        print("replication benchmark, %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        print("machine: %s" % machine_line())
        print("upstream: PostgreSQL %s on 127.0.0.1:%d" % (
            cluster.query("SHOW server_version")[0][0], cluster.port), flush=True)
        env = {"SQLEDGE_PROXY_WORKERS": "1"}
        if args.transport == "unix":
            env["SQLEDGE_UPSTREAM_ADDRESS"] = cluster.host
        print("transport: %s" % ("TCP on 127.0.0.1, scram-sha-256" if args.transport == "tcp"
                                 else "the Unix socket"))
        sq = harness.Sqledge(db, workdir=workdir, env=env)
        if args.only in (None, "bulk"):
            report_bulk(args, bulk(db, sq, args))
        if args.only in (None, "steady"):
            if sq.running():
                sq.stop()
            report_steady(steady(db, sq, args))
        return 0
    except (BenchError, RuntimeError, AssertionError, psycopg2.Error, OSError,
            subprocess.TimeoutExpired) as exc:
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
        if cluster is not None:
            with contextlib.suppress(RuntimeError):
                cluster.destroy()
        if args.keep:
            log("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
