# SPDX-License-Identifier: MIT
"""Initial-sync benchmark: sqledge's initial copy of a `pgbench -i` database against the
shortest hand-made path to the same SQLite table (`psql \\copy` to a file, then `sqlite3
.import` into a typed table with its primary key), both measured in the same run against the
same throwaway PostgreSQL 15 cluster.

It is a measurement, not a test: it exits 0 whatever the ratio, and non-zero only when
something failed (a tool, a wrong row count or sum in a copy, a timeout). See bench/README.md.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
try:
    import harness  # the integration suite's PostgreSQL cluster
except ImportError as _exc:
    sys.exit("bench: error: cannot import tests/integration/harness.py: %s (psycopg2 comes "
             "with the python3-psycopg2 package; scripts/install-deps.sh installs it)" % _exc)

PG_BINDIR_DEFAULT = "/usr/lib/postgresql/15/bin"
IS_ROOT = harness.IS_ROOT
PASSWORD = "bench-secret"
DBNAME = "bench"
TARGET_RATIO = 0.50
POLL_INTERVAL = 0.05
ACCOUNTS_PER_SCALE = 100000
PGBENCH_TABLES = ("pgbench_accounts", "pgbench_branches", "pgbench_tellers",
                  "pgbench_history")


class BenchError(Exception):
    """A failure that makes the run's figures meaningless."""


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(cmd, what, env=None, cwd=None, stdin_text=None, timeout=3600):
    """Runs a command to completion; raises BenchError with its output when it fails.
    Returns stdout."""
    try:
        res = subprocess.run(cmd, env=env, cwd=cwd, text=True, timeout=timeout,
                             input=stdin_text,
                             stdin=None if stdin_text is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired:
        raise BenchError("%s: timed out after %d s" % (what, timeout)) from None
    except OSError as exc:
        raise BenchError("%s: cannot run %s: %s" % (what, cmd[0], exc)) from None
    if res.returncode != 0:
        raise BenchError("%s failed (exit %d):\n%s%s" % (what, res.returncode, res.stdout,
                                                        res.stderr))
    return res.stdout


# ---------------------------------------------------------------------------------------------
# the throwaway PostgreSQL cluster


class Cluster(harness.PgCluster):
    """The integration suite's throwaway cluster (a temp dir; TCP on 127.0.0.1:<free port> only
    with scram-sha-256, which sqledge and the reference use, and trust on a Unix socket in the
    same dir, for setup; run as postgres through runuser as root) with this benchmark's
    settings, its PostgreSQL programs from --pg-bindir and BenchError for failures."""

    def __init__(self, bindir):
        super().__init__(name="bench-pg", settings={
            "max_replication_slots": "10",
            "max_wal_senders": "10",
            "wal_sender_timeout": "'60s'",  # PostgreSQL's default, not the suite's 10 s
            "shared_buffers": "'256MB'",
            "max_wal_size": "'2GB'",
        })
        self.bindir = bindir
        self.password = PASSWORD

    def _pg_cmd(self, name, *args):
        cmd = [os.path.join(self.bindir, name), *args]
        if IS_ROOT:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return cmd

    def _run_pg(self, name, *args, timeout=300):
        try:
            return super()._run_pg(name, *args, timeout=timeout)
        except RuntimeError as exc:
            raise BenchError(str(exc)) from None
        except subprocess.TimeoutExpired:
            raise BenchError("%s: timed out after %d s\n%s" % (name, timeout,
                                                              self.log_tail())) from None

    def env(self, tcp=False, dbname="postgres"):
        """Environment of a client: the Unix socket (trust) unless tcp, then 127.0.0.1 with
        the password, like sqledge connects."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PG") and not k.startswith("SQLEDGE_")}
        env.update(PGUSER="postgres", PGDATABASE=dbname, PGCONNECT_TIMEOUT="10")
        if tcp:
            env.update(PGHOST="127.0.0.1", PGPASSWORD=PASSWORD)
        else:
            env["PGHOST"] = self.base
        if self.port:
            env["PGPORT"] = str(self.port)
        return env

    def tool(self, name, *args, dbname=DBNAME, tcp=False, timeout=3600):
        return run([os.path.join(self.bindir, name), *args], "%s %s" % (name, " ".join(args)),
                   env=self.env(tcp=tcp, dbname=dbname), timeout=timeout)

    def psql(self, statement, dbname=DBNAME):
        """One statement through psql; returns the rows as lists of strings."""
        out = self.tool("psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                        "-c", statement, dbname=dbname)
        return [line.split("\t") for line in out.splitlines() if line]

    def scalar(self, statement):
        rows = self.psql(statement)
        return rows[0][0] if rows else None


# ---------------------------------------------------------------------------------------------
# the reference: psql \copy + sqlite3 .import


def run_reference(cluster, workdir):
    """One timed reference run into a fresh file; returns a dict of its figures."""
    tsv = os.path.join(workdir, "accounts.tsv")
    ref_db = os.path.join(workdir, "ref.db")
    for path in (tsv, ref_db):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    script = ("PRAGMA journal_mode=OFF;\n"
              "PRAGMA synchronous=OFF;\n"
              "CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER, "
              "abalance INTEGER, filler TEXT);\n"
              ".mode tabs\n"
              ".import '%s' pgbench_accounts\n" % tsv)
    psql = [os.path.join(cluster.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
            "\\copy pgbench_accounts TO '%s'" % tsv]
    env = cluster.env(tcp=True, dbname=DBNAME)

    t0 = time.monotonic()
    run(psql, "psql \\copy", env=env)
    t1 = time.monotonic()
    run(["sqlite3", "-batch", "-bail", ref_db], "sqlite3 .import", stdin_text=script)
    t2 = time.monotonic()

    with contextlib.closing(sqlite3.connect(ref_db)) as conn:
        count, total = conn.execute(
            "SELECT count(*), coalesce(sum(abalance), 0) FROM pgbench_accounts").fetchone()
    size = os.path.getsize(ref_db)
    os.unlink(tsv)
    os.unlink(ref_db)
    return {"seconds": t2 - t1 + (t1 - t0), "copy_seconds": t1 - t0, "import_seconds": t2 - t1,
            "count": count, "sum": total, "db_bytes": size}


# ---------------------------------------------------------------------------------------------
# sqledge


def vm_hwm_kb(pid):
    """Peak resident set size of a live process in kB, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def parse_iso(value):
    if not value:
        return None
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


class Sqledge:
    """One sqledge process tree in its own working directory, fresh slot and publication."""

    def __init__(self, build, cluster, run_id):
        self.build = build
        self.cluster = cluster
        self.workdir = tempfile.mkdtemp(prefix="sqledge-bench-node-")
        self.db_path = os.path.join(self.workdir, "sqledge.db")
        self.socket_path = os.path.join(self.workdir, "sqledge.sock")
        self.logfile = os.path.join(self.workdir, "sqledge.log")
        self.slot = "bench_slot_%d_%d" % (os.getpid(), run_id)
        self.publication = "bench_pub_%d_%d" % (os.getpid(), run_id)
        self.proc = None
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("SQLEDGE_") and not k.startswith("PG")}
        self.env = dict(base)
        self.env.update({
            "SQLEDGE_UPSTREAM_ADDRESS": "127.0.0.1",
            "SQLEDGE_UPSTREAM_PORT": str(cluster.port),
            "SQLEDGE_UPSTREAM_USER": "postgres",
            "SQLEDGE_UPSTREAM_PASSWORD": PASSWORD,
            "SQLEDGE_UPSTREAM_NAME": DBNAME,
            "SQLEDGE_REPLICATION_SLOT_NAME": self.slot,
            "SQLEDGE_REPLICATION_PUBLICATION": self.publication,
            "SQLEDGE_LOCAL_DB_PATH": self.db_path,
            "SQLEDGE_PROXY_ADDRESS": "127.0.0.1",
            "SQLEDGE_PROXY_PORT": str(harness.free_port()),
        })
        self.ctl_env = dict(base)
        self.ctl_env["SQLEDGE_CONTROL_SOCKET"] = self.socket_path

    def start(self):
        binary = os.path.join(self.build, "src", "sqledge")
        with open(self.logfile, "ab") as logf:
            self.proc = subprocess.Popen([binary], cwd=self.workdir, env=self.env,
                                         stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def status(self):
        """The parsed `sqledgectl status --json`, or None while it does not answer."""
        try:
            res = subprocess.run([os.path.join(self.build, "src", "sqledgectl"), "status",
                                  "--json"], cwd=self.workdir, env=self.ctl_env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            return None
        if res.returncode != 0:
            return None
        try:
            value = json.loads(res.stdout)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def check_running(self, doing):
        rc = self.proc.poll()
        if rc is not None:
            raise BenchError("sqledge exited with %d %s\n%s" % (rc, doing, self.log_tail()))

    def stop(self, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log("sqledge did not stop within %d s of SIGTERM; killing it" % timeout)
        # the workers share the master's process group (start_new_session)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)

    def log_tail(self, lines=30):
        return harness.file_tail(self.logfile, "sqledge log", lines)

    def local_tables(self):
        """{relname: sqlite table name} of the public schema, from _sqledge_relations."""
        uri = "file:%s?mode=ro" % self.db_path
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            return {r: s for r, s in conn.execute(
                "SELECT relname, sqlite_name FROM _sqledge_relations "
                "WHERE nspname = 'public'")}

    def local_query(self, statement):
        uri = "file:%s?mode=ro" % self.db_path
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            return conn.execute(statement).fetchall()

    def cleanup(self, keep=False):
        """Stops the process, drops the slot and publication, removes the directory."""
        try:
            self.stop()
        finally:
            try:
                drop_slot(self.cluster, self.slot)
                self.cluster.psql("DROP PUBLICATION IF EXISTS %s" % self.publication)
            finally:
                if keep:
                    log("kept %s" % self.workdir)
                else:
                    shutil.rmtree(self.workdir, ignore_errors=True)


def drop_slot(cluster, slot, timeout=30):
    """Drops a replication slot, waiting for its walsender to let go of it."""
    deadline = time.monotonic() + timeout
    while True:
        rows = cluster.psql("SELECT active_pid FROM pg_replication_slots WHERE slot_name = "
                            "'%s'" % slot)
        if not rows:
            return
        if rows[0][0]:
            cluster.psql("SELECT pg_terminate_backend(%s)" % rows[0][0])
        else:
            try:
                cluster.psql("SELECT pg_drop_replication_slot('%s')" % slot)
                return
            except BenchError:
                pass  # it became active again in between: retry
        if time.monotonic() > deadline:
            raise BenchError("replication slot %s still in use after %d s" % (slot, timeout))
        time.sleep(0.1)


def run_sqledge(build, cluster, run_id, upstream, timeout, keep):
    """One timed initial sync into a fresh directory; returns a dict of its figures."""
    sq = Sqledge(build, cluster, run_id)
    try:
        t0 = time.monotonic()
        sq.start()
        repl_pid = None
        peak_kb = None
        st = None
        while True:
            sq.check_running("during the initial sync")
            st = sq.status()
            if st is not None:
                for p in st.get("processes") or []:
                    if p.get("role") == "repl" and p.get("pid"):
                        repl_pid = int(p["pid"])
                if repl_pid:
                    hwm = vm_hwm_kb(repl_pid)
                    if hwm is not None:
                        peak_kb = max(peak_kb or 0, hwm)
                sync = (st.get("replication") or {}).get("initial_sync") or {}
                state = sync.get("state")
                if state == "done":
                    break
                if state == "failed":
                    raise BenchError("sqledge's initial sync failed: %s\n%s" % (
                        (st.get("replication") or {}).get("last_error"), sq.log_tail()))
            if time.monotonic() - t0 > timeout:
                raise BenchError("initial sync not done after %d s\n%s" % (timeout,
                                                                          sq.log_tail()))
            time.sleep(POLL_INTERVAL)
        t1 = time.monotonic()
        rep = st.get("replication") or {}
        sync = rep.get("initial_sync") or {}
        restarts = sum(int(p.get("restarts") or 0) for p in st.get("processes") or [])

        started, finished = parse_iso(sync.get("started_at")), parse_iso(sync.get("finished_at"))
        own_seconds = None
        if started and finished:
            own_seconds = (finished - started).total_seconds()
        # rows_per_second comes from microsecond timestamps: a finer figure than the
        # one-second resolution of started_at/finished_at
        rows_done = int(sync.get("rows_done") or 0)
        rps = float(sync.get("rows_per_second") or 0)
        fine_seconds = rows_done / rps if rps > 0 else None

        # the state must become streaming (the copy is in use); a short bounded wait
        deadline = time.monotonic() + 30
        while str(rep.get("state", "")).lower() != "streaming":
            sq.check_running("after the initial sync")
            if time.monotonic() > deadline:
                raise BenchError("replication state is %r, not streaming, 30 s after the "
                                 "initial sync\n%s" % (rep.get("state"), sq.log_tail()))
            time.sleep(POLL_INTERVAL)
            rep = (sq.status() or {}).get("replication") or rep
        sq.stop()

        local = sq.local_tables()
        counts = {}
        for table in PGBENCH_TABLES:
            if table not in local:
                raise BenchError("%s is missing from the local copy (it has %s)"
                                 % (table, sorted(local)))
            counts[table] = sq.local_query('SELECT count(*) FROM "%s"'
                                           % local[table].replace('"', '""'))[0][0]
        total = sq.local_query('SELECT coalesce(sum(abalance), 0) FROM "%s"'
                               % local["pgbench_accounts"].replace('"', '""'))[0][0]
        for table in PGBENCH_TABLES:
            if counts[table] != upstream["counts"][table]:
                raise BenchError("%s: %d rows in the local copy, %d upstream"
                                 % (table, counts[table], upstream["counts"][table]))
        if int(total) != upstream["sum"]:
            raise BenchError("pgbench_accounts: sum(abalance) is %s in the local copy, %d "
                             "upstream" % (total, upstream["sum"]))
        size = os.path.getsize(os.path.realpath(sq.db_path))
        return {"seconds": t1 - t0, "own_seconds": own_seconds, "fine_seconds": fine_seconds,
                "rows_done": rows_done, "count": counts["pgbench_accounts"],
                "total_rows": sum(counts.values()), "sum": int(total), "peak_kb": peak_kb,
                "restarts": restarts, "db_bytes": size}
    finally:
        sq.cleanup(keep=keep)


# ---------------------------------------------------------------------------------------------
# report


def machine_line():
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/meminfo") as f:
            mem = ", %.1f GiB RAM" % (int(f.readline().split()[1]) / 1048576)
    return "%s, %d cores%s, %s" % (cpu, os.cpu_count() or 0, mem, platform.platform())


def fmt_rate(rows, seconds):
    return "{:,.0f}".format(rows / seconds) if seconds > 0 else "-"


def report(args, upstream, refs, sqs):
    ref_s = statistics.median(r["seconds"] for r in refs)
    sq_s = statistics.median(r["seconds"] for r in sqs)
    rows = upstream["counts"]["pgbench_accounts"]
    ref_rate = rows / ref_s
    sq_rate = rows / sq_s
    ratio = sq_rate / ref_rate

    print()
    print("per run (seconds):")
    for i, (r, s) in enumerate(zip(refs, sqs), 1):
        own = "%.0f" % s["own_seconds"] if s["own_seconds"] is not None else "-"
        fine = "%.2f" % s["fine_seconds"] if s["fine_seconds"] is not None else "-"
        print("  run %d: reference %.2f (copy %.2f + import %.2f)   sqledge %.2f "
              "(own %s, finer %s)" % (i, r["seconds"], r["copy_seconds"], r["import_seconds"],
                                      s["seconds"], own, fine))
    print()
    print("%-34s %10s %9s %12s" % ("median of %d" % len(refs), "rows", "seconds", "rows/s"))
    print("%-34s %10d %9.2f %12s" % ("reference (\\copy + sqlite3 .import)", rows, ref_s,
                                    fmt_rate(rows, ref_s)))
    print("%-34s %10d %9.2f %12s" % ("sqledge initial sync", rows, sq_s, fmt_rate(rows, sq_s)))
    own = [s["own_seconds"] for s in sqs if s["own_seconds"] is not None]
    fine = [s["fine_seconds"] for s in sqs if s["fine_seconds"] is not None]
    if own:
        print("%-34s %10d %9.2f %12s" % ("  sqledge started_at..finished_at", rows,
                                        statistics.median(own),
                                        fmt_rate(rows, statistics.median(own))))
    if fine:
        print("%-34s %10d %9.2f %12s" % ("  same, from rows_per_second", rows,
                                        statistics.median(fine),
                                        fmt_rate(rows, statistics.median(fine))))
    total = sqs[0]["total_rows"]
    print("%-34s %10d %9.2f %12s" % ("  sqledge, all 4 pgbench tables", total, sq_s,
                                    fmt_rate(total, sq_s)))
    peaks = [s["peak_kb"] for s in sqs if s["peak_kb"]]
    if peaks:
        print("sqledge repl worker peak RSS (VmHWM): %.1f MiB (max of %d runs)"
              % (max(peaks) / 1024.0, len(peaks)))
    print("SQLite file size: reference %.1f MiB, sqledge %.1f MiB" % (
        refs[-1]["db_bytes"] / 1048576.0, sqs[-1]["db_bytes"] / 1048576.0))
    restarts = sum(s["restarts"] for s in sqs)
    if restarts:
        print("note: the repl worker restarted %d time(s) during the runs" % restarts)
    print("verified: pgbench_accounts count %d and sum(abalance) %d equal upstream in every "
          "copy" % (rows, upstream["sum"]))
    print("ratio: %.2f (target >= %.2f)" % (ratio, TARGET_RATIO))


# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=int, default=10,
                   help="pgbench scale factor (100000 accounts each; default 10)")
    p.add_argument("--repeat", type=int, default=3,
                   help="timed runs of each side; the median is reported (default 3)")
    p.add_argument("--pg-bindir", default=os.environ.get("SQLEDGE_PG_BINDIR")
                   or PG_BINDIR_DEFAULT, help="PostgreSQL 15 programs (default %(default)s)")
    p.add_argument("--timeout", type=int, default=1800,
                   help="bound on one initial sync, seconds (default 1800)")
    p.epilog = ("environment: SQLEDGE_BUILD_DIR (default <repo>/build) holds src/sqledge and "
                "src/sqledgectl")
    p.add_argument("--keep", action="store_true",
                   help="keep each run's sqledge directory (with its log)")
    args = p.parse_args(argv)
    if args.scale < 1 or args.repeat < 1:
        p.error("--scale and --repeat must be at least 1")
    # one knob for the build dir, shared with bench/run.sh and the integration suite
    args.build_dir = os.path.abspath(os.environ.get("SQLEDGE_BUILD_DIR")
                                     or os.path.join(REPO, "build"))
    return args


def check_prerequisites(args):
    for prog in ("sqledge", "sqledgectl"):
        path = os.path.join(args.build_dir, "src", prog)
        if not os.access(path, os.X_OK):
            raise BenchError("no %s at %s: build first (bench/run.sh does) or set "
                             "SQLEDGE_BUILD_DIR" % (prog, path))
    for prog in ("initdb", "pg_ctl", "psql", "pgbench"):
        if not os.access(os.path.join(args.pg_bindir, prog), os.X_OK):
            raise BenchError("no %s in %s" % (prog, args.pg_bindir))
    if shutil.which("sqlite3") is None:
        raise BenchError("no sqlite3 command-line program on PATH")


def prepare(cluster, scale):
    """Creates the database, fills it with pgbench and returns the upstream figures."""
    cluster.psql("CREATE DATABASE %s" % DBNAME, dbname="postgres")
    t0 = time.monotonic()
    cluster.tool("pgbench", "-i", "-q", "-s", str(scale))
    log("pgbench -i -s %d took %.1f s" % (scale, time.monotonic() - t0))
    # a few transactions so that sum(abalance) and pgbench_history check something
    cluster.tool("pgbench", "-n", "-c", "1", "-t", "500")
    # sqledge refuses a published table without a replica identity, by design
    cluster.psql("ALTER TABLE pgbench_history REPLICA IDENTITY FULL")
    cluster.psql("VACUUM ANALYZE")
    cluster.psql("CHECKPOINT")
    counts = {}
    for table in PGBENCH_TABLES:
        counts[table] = int(cluster.scalar("SELECT count(*) FROM %s" % table))
    total = int(cluster.scalar("SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts"))
    if counts["pgbench_accounts"] != scale * ACCOUNTS_PER_SCALE:
        raise BenchError("pgbench_accounts has %d rows, expected %d"
                         % (counts["pgbench_accounts"], scale * ACCOUNTS_PER_SCALE))
    return {"counts": counts, "sum": total}


def main(argv):
    args = parse_args(argv)

    def terminated(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    cluster = None
    workdir = None
    try:
        check_prerequisites(args)
        print("initial-sync benchmark, %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        print("machine: %s" % machine_line())
        print("sqledge: %s; sqlite3 %s" % (args.build_dir,
                                           run(["sqlite3", "-version"], "sqlite3").split()[0]))
        cluster = Cluster(args.pg_bindir)
        cluster.init()
        cluster.start()
        upstream = prepare(cluster, args.scale)
        print("upstream: pgbench scale %d on PostgreSQL 15 (127.0.0.1:%d): %s; "
              "sum(abalance) %d" % (args.scale, cluster.port, ", ".join(
                  "%s %d" % (t, c) for t, c in upstream["counts"].items()), upstream["sum"]))
        print("runs: %d of each, interleaved" % args.repeat, flush=True)

        workdir = tempfile.mkdtemp(prefix="sqledge-bench-ref-")
        refs, sqs = [], []
        for i in range(1, args.repeat + 1):
            r = run_reference(cluster, workdir)
            if r["count"] != upstream["counts"]["pgbench_accounts"] or r["sum"] != \
                    upstream["sum"]:
                raise BenchError("reference copy has %d rows, sum %d; upstream %d, %d" % (
                    r["count"], r["sum"], upstream["counts"]["pgbench_accounts"],
                    upstream["sum"]))
            refs.append(r)
            log("run %d/%d: reference %.2f s" % (i, args.repeat, r["seconds"]))
            s = run_sqledge(args.build_dir, cluster, i, upstream, args.timeout, args.keep)
            sqs.append(s)
            log("run %d/%d: sqledge %.2f s, peak RSS %s kB" % (i, args.repeat, s["seconds"],
                                                               s["peak_kb"]))
        report(args, upstream, refs, sqs)
        return 0
    except BenchError as exc:
        print("bench: error: %s" % exc, file=sys.stderr)
        return 1
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        if cluster:
            try:
                cluster.destroy()
            except BenchError as exc:
                print("bench: error while removing the cluster: %s" % exc, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
