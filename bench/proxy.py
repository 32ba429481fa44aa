# SPDX-License-Identifier: MIT
"""Proxy benchmark: select-only pgbench throughput and the memory of idle client sessions
through sqledge's proxy, against PgBouncer in session mode and against the upstream
PostgreSQL 15 itself, all measured in the same run against the same throwaway cluster.

It is a measurement, not a test: it exits 0 whatever the figures, and non-zero only when
something failed (a tool, a login, a timeout). A target that fails is reported as failed while
the others are still measured. See bench/README.md.
"""

import argparse
import collections
import contextlib
import os
import pwd
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# the generic helpers of the initial-sync benchmark and, through it, the integration suite's
# harness (PgCluster, Database, Sqledge); it explains a missing psycopg2, so it comes first
from initial_sync import IS_ROOT, BenchError, harness, log, machine_line, run

import psycopg2

DBNAME = "bench"
USER = "postgres"
MODES = ("simple", "prepared")
PGBENCH_CLIENTS = 8
PGBENCH_THREADS = 2
PROXY_LOGIN_TIMEOUT = 30      # seconds for sqledge's proxy to accept its first login
PGBOUNCER_POOL_SIZE = 20      # server connections per pool: more than PGBENCH_CLIENTS
LOGIN_TIMEOUT = 10            # connect_timeout of one client login
# open files needed per idle client: the benchmark holds one socket, sqledge two (the client's
# and its upstream connection); plus room for everything else
FDS_PER_CLIENT = 2
FDS_SPARE = 200
# the errors a target's measurement may end with: the harness reports through RuntimeError
# (PostgreSQL) and AssertionError (sqledge, waits)
TARGET_ERRORS = (BenchError, RuntimeError, AssertionError, psycopg2.Error, OSError,
                 subprocess.SubprocessError)


# ---------------------------------------------------------------------------------------------
# processes and their memory


def process_tree(root):
    """Pids of root and all its live descendants, found through the parent pid in
    /proc/PID/stat (sqledge's workers have process groups of their own)."""
    children = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # the command name in parentheses may hold spaces: split after its closing one
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] not in ("Z", "X"):
            children[int(fields[1])].append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        if os.path.isdir("/proc/%d" % pid):
            pids.append(pid)
            todo.extend(children.get(pid, ()))
    return sorted(pids)


def proc_field_kb(path, name):
    """The value of a "Name:   123 kB" line of a /proc file, or None."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_kb(pids):
    """(sum of VmRSS, sum of Pss) in kB over pids; the PSS sum is None when a process's
    smaps_rollup cannot be read. RSS counts pages shared between the processes (libraries, the
    master's pages the workers inherited) once per process; PSS splits them."""
    rss, pss = 0, 0
    for pid in pids:
        rss += proc_field_kb("/proc/%d/status" % pid, "VmRSS") or 0
        value = proc_field_kb("/proc/%d/smaps_rollup" % pid, "Pss")
        pss = None if value is None or pss is None else pss + value
    return rss, pss


def describe(pids):
    """"comm[pid] RSS" of each process, for the log."""
    parts = []
    for pid in pids:
        try:
            with open("/proc/%d/comm" % pid) as f:
                name = f.read().strip()
        except OSError:
            name = "?"
        rss = proc_field_kb("/proc/%d/status" % pid, "VmRSS")
        parts.append("%s[%d] %s" % (name, pid, "%.1f MiB" % (rss / 1024.0) if rss else "-"))
    return ", ".join(parts)


def raise_nofile(clients):
    """Raises this process's limit on open files to the hard limit (sqledge and PgBouncer
    inherit it); fails when the hard limit is too low for the idle clients."""
    needed = FDS_PER_CLIENT * clients + FDS_SPARE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        with open("/proc/sys/fs/nr_open") as f:
            hard = int(f.read())
    if hard < needed:
        raise BenchError("the hard limit on open files is %d (ulimit -Hn), %d idle clients "
                         "need at least %d (sqledge holds two sockets per client): raise it "
                         "(prlimit, limits.conf, LimitNOFILE=) or lower --clients"
                         % (hard, clients, needed))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# ---------------------------------------------------------------------------------------------
# the targets


def client_env(port, password):
    """Environment of pgbench: 127.0.0.1:port with the password, nothing inherited."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PG") and not k.startswith("SQLEDGE_")}
    env.update(PGHOST="127.0.0.1", PGPORT=str(port), PGUSER=USER, PGPASSWORD=password,
               PGDATABASE=DBNAME, PGCONNECT_TIMEOUT=str(LOGIN_TIMEOUT))
    return env


def login(port, password):
    """One client session on 127.0.0.1:port, authenticated and ready for queries."""
    try:
        return psycopg2.connect(host="127.0.0.1", port=port, user=USER, password=password,
                                dbname=DBNAME, connect_timeout=LOGIN_TIMEOUT)
    except psycopg2.Error as exc:
        raise BenchError("login on 127.0.0.1:%d failed: %s"
                         % (port, " ".join(str(exc).split()))) from None


def login_works(port, password):
    login(port, password).close()
    return True


class Target:
    """One place pgbench and the idle clients connect to, with its figures or its failure."""

    label = ""
    has_memory = False
    log_marker = None   # how a log tail in an error message starts

    def __init__(self, port, password):
        self.port = port
        self.password = password
        self.error = None
        self.failed_at = None
        self.pgbench = {}     # mode -> figures of the timed run
        self.memory = None

    def pids(self):
        return []

    def check_running(self, doing="now"):
        pass

    def diagnostics(self):
        """Text appended to a failure's message (a log tail)."""
        return ""

    def stop(self):
        pass

    def fail(self, what, exc):
        self.failed_at = what
        self.error = "%s: %s" % (what, str(exc).strip())
        if self.log_marker and self.log_marker not in self.error:
            self.error += "\n" + self.diagnostics()
        log("%s failed: %s" % (self.label, self.error.splitlines()[0]))
        with contextlib.suppress(*TARGET_ERRORS):
            self.stop()

    def attempt(self, what, func, *args):
        """func(*args), unless this target failed before; a failure marks it failed (its
        further measurements are skipped) and returns None."""
        if self.error:
            return None
        try:
            return func(*args)
        except TARGET_ERRORS as exc:
            self.fail(what, exc)
            return None


class Direct(Target):
    label = "direct (upstream, TCP)"


class PgBouncer(Target):
    """PgBouncer in session mode on its own port, its config and userlist in a temp dir; as
    root it runs as the postgres user (it refuses to run as root)."""

    label = "pgbouncer (session mode)"
    has_memory = True
    log_marker = "--- pgbouncer log"

    def __init__(self, program, cluster, clients):
        super().__init__(harness.free_port(), cluster.password)
        self.program = program
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="sqledge-bench-pgbouncer-")
        self.ini = os.path.join(self.dir, "pgbouncer.ini")
        self.logfile = os.path.join(self.dir, "pgbouncer.log")
        userlist = os.path.join(self.dir, "userlist.txt")
        with open(userlist, "w") as f:
            # a plain password in the userlist lets PgBouncer do SCRAM with both sides
            f.write('"%s" "%s"\n' % (USER, cluster.password))
        settings = {
            "listen_addr": "127.0.0.1",
            "listen_port": self.port,
            "unix_socket_dir": "",  # none: TCP only
            "auth_type": "scram-sha-256",
            "auth_file": userlist,
            "pool_mode": "session",
            "max_client_conn": clients + 100,
            "default_pool_size": PGBOUNCER_POOL_SIZE,
            "log_connections": 0,
            "log_disconnections": 0,
            "logfile": "",
            "pidfile": "",
        }
        with open(self.ini, "w") as f:
            f.write("[databases]\n%s = host=127.0.0.1 port=%d dbname=%s\n\n[pgbouncer]\n"
                    % (DBNAME, cluster.port, DBNAME))
            for key, value in settings.items():
                f.write("%s = %s\n" % (key, value))
        os.chmod(userlist, 0o600)
        os.chmod(self.ini, 0o600)
        os.chmod(self.dir, 0o700)
        if IS_ROOT:
            pw = pwd.getpwnam("postgres")
            for path in (self.dir, self.ini, userlist):
                os.chown(path, pw.pw_uid, pw.pw_gid)

    def version(self):
        out = run([self.program, "--version"], "pgbouncer --version")
        return out.splitlines()[0].strip() if out.strip() else "?"

    def start(self):
        kwargs = {}
        if IS_ROOT:
            # not runuser: its pid would be runuser's, this way it is PgBouncer's own
            pw = pwd.getpwnam("postgres")
            kwargs = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        with open(self.logfile, "ab") as logf:
            self.proc = subprocess.Popen([self.program, self.ini], cwd=self.dir,
                                         stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         **kwargs)
        harness.wait_for(lambda: login_works(self.port, self.password), 30,
                         "a login through PgBouncer on 127.0.0.1:%d" % self.port, alive=self)

    def pids(self):
        return process_tree(self.proc.pid)

    def check_running(self, doing="now"):
        rc = self.proc.poll()
        if rc is not None:
            raise BenchError("pgbouncer exited with %d %s\n%s" % (rc, doing, self.log_tail()))

    def log_tail(self, lines=20):
        return harness.file_tail(self.logfile, "pgbouncer log", lines)

    def diagnostics(self):
        return self.log_tail()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # an immediate shutdown in PgBouncer 1.18
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            log("pgbouncer did not stop within 10 s of SIGTERM; killing it")
            self.proc.kill()
            self.proc.wait(10)

    def cleanup(self, keep):
        try:
            self.stop()
        finally:
            if keep:
                log("kept %s" % self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)


class SqledgeProxy(Target):
    """sqledge started as the integration suite does (harness.Sqledge: SQLEDGE_* environment,
    its own working directory), its proxy on its own port; clients log in with the upstream
    user's password, which sqledge checks by logging in to the upstream with it."""

    label = "sqledge proxy"
    has_memory = True
    log_marker = "--- sqledge log"

    def __init__(self, db, workers, clients, keep, login_cache):
        self.workdir = tempfile.mkdtemp(prefix="sqledge-bench-node-")
        self.keep = keep
        # room for the idle clients while the earlier sessions may still be winding down,
        # as PgBouncer's max_client_conn
        self.sq = harness.Sqledge(db, workdir=self.workdir, env={
            "SQLEDGE_PROXY_WORKERS": workers,
            "SQLEDGE_PROXY_MAX_CLIENTS": clients + 100,
            "SQLEDGE_PROXY_LOGIN_CACHE_TTL": login_cache,
        })
        super().__init__(self.sq.proxy_port, db.password)
        self.db = db
        self.workers = workers

    def start(self, sync_timeout):
        self.sq.start()
        # replication idle during the runs: the initial sync must be over first
        self.sq.wait_caught_up(self.db, timeout=sync_timeout)
        try:
            harness.wait_for(lambda: login_works(self.port, self.password),
                             PROXY_LOGIN_TIMEOUT, "a login on 127.0.0.1:%d" % self.port,
                             interval=0.1, alive=self.sq)
        except harness.WaitTimeout as exc:
            raise BenchError("sqledge's proxy never accepted a login: %s" % exc) from None

    def pids(self):
        if self.sq.proc is None:
            return []
        return process_tree(self.sq.proc.pid)

    def check_running(self, doing="now"):
        self.sq.check_running(doing)

    def diagnostics(self):
        return self.sq.log_tail()

    def stop(self):
        if self.sq.running():
            self.sq.stop(timeout=30)

    def cleanup(self):
        try:
            self.sq.cleanup()
        finally:
            if self.keep:
                log("kept %s (log %s)" % (self.workdir, self.sq.logfile))
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# measurements


def parse_pgbench(out):
    """The figures of a pgbench run's summary."""
    def number(pattern):
        m = re.search(pattern, out, re.MULTILINE)
        return float(m.group(1)) if m else None

    figures = {
        "tps": number(r"^tps = ([0-9.]+) \(without initial connection time\)"),
        "latency_ms": number(r"^latency average = ([0-9.]+) ms"),
        "transactions": number(r"^number of transactions actually processed: (\d+)"),
        "failed": number(r"^number of failed transactions: (\d+)") or 0,
    }
    if figures["tps"] is None or not figures["transactions"]:
        raise BenchError("no tps or no transactions in pgbench's output:\n%s" % out)
    if figures["failed"]:
        raise BenchError("%d failed transactions in pgbench's run:\n%s"
                         % (figures["failed"], out))
    return figures


def run_pgbench(target, mode, seconds):
    """One select-only pgbench run against target; returns its figures."""
    cmd = [os.path.join(harness.PG_BINDIR, "pgbench"), "-n", "-S", "-c", str(PGBENCH_CLIENTS),
           "-j", str(PGBENCH_THREADS), "-T", str(seconds), "-M", mode]
    out = run(cmd, "pgbench -M %s against %s" % (mode, target.label),
              env=client_env(target.port, target.password), timeout=seconds + 120)
    target.check_running("after pgbench")
    return parse_pgbench(out)


def upstream_backends(cluster):
    """Client backends connected to the benchmark's database (PgBouncer's server connections,
    sqledge's upstream sessions)."""
    rows = cluster.query("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
                         "backend_type = 'client backend'", (DBNAME,))
    return rows[0][0]


def measure_memory(target, cluster, clients):
    """Memory of the target's processes idle and with `clients` idle authenticated sessions."""
    pids = target.pids()
    idle_rss, idle_pss = memory_kb(pids)
    log("%s idle: %s" % (target.label, describe(pids)))
    backends_before = upstream_backends(cluster)
    conns = []
    try:
        t0 = time.monotonic()
        for i in range(clients):
            try:
                conns.append(login(target.port, target.password))
            except BenchError as exc:
                raise BenchError("idle client %d of %d: %s" % (i + 1, clients, exc)) from None
            if (i + 1) % 250 == 0:
                target.check_running("while the idle clients logged in")
                log("%s: %d idle clients logged in" % (target.label, i + 1))
        login_seconds = time.monotonic() - t0
        pids = target.pids()
        rss, pss = memory_kb(pids)
        log("%s with %d clients: %s" % (target.label, clients, describe(pids)))
        backends = upstream_backends(cluster)
        # the sessions are real: the first and the last one still answer
        for conn in (conns[0], conns[-1]):
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchall()
    finally:
        for conn in conns:
            with contextlib.suppress(psycopg2.Error):
                conn.close()
    target.check_running("after the idle clients")

    def per_client(busy, idle):
        return (busy - idle) / clients if busy is not None and idle is not None else None

    return {"processes": len(pids), "idle_rss": idle_rss, "rss": rss,
            "rss_per_client": per_client(rss, idle_rss),
            "pss_per_client": per_client(pss, idle_pss),
            "backends_added": backends - backends_before,
            "logins_per_second": clients / login_seconds if login_seconds > 0 else None}


# ---------------------------------------------------------------------------------------------
# report


def fmt(value, spec):
    return format(value, spec) if value is not None else "-"


def ratio(targets, num, den, mode):
    a, b = targets[num].pgbench.get(mode), targets[den].pgbench.get(mode)
    return a["tps"] / b["tps"] if a and b and b["tps"] else None


def report(args, targets):
    print()
    print("throughput: pgbench -n -S -c %d -j %d, %d s per run, %s"
          % (PGBENCH_CLIENTS, PGBENCH_THREADS, args.seconds,
             "each after a %d s warm-up" % args.warmup if args.warmup else "no warm-up"))
    print("%-26s %22s %22s" % ("", "---- -M simple ----", "--- -M prepared ---"))
    print("%-26s %11s %10s %11s %10s" % ("target", "tps", "latency ms", "tps", "latency ms"))
    for t in targets.values():
        cells = []
        for mode in MODES:
            r = t.pgbench.get(mode)
            cells += [fmt(r and r["tps"], ",.0f"), fmt(r and r["latency_ms"], ".3f")]
        if t.error and not t.pgbench:
            print("%-26s %s" % (t.label, "failed (see below)"))
        else:
            print("%-26s %11s %10s %11s %10s%s" % (t.label, *cells,
                                                   "  failed (see below)" if t.error else ""))
    print()
    print("%-26s %11s %11s" % ("tps ratio", "simple", "prepared"))
    pairs = (("pgbouncer", "direct"), ("sqledge", "direct"), ("sqledge", "pgbouncer"))
    for num, den in pairs:
        print("%-26s %11s %11s" % ("%s / %s" % (num, den),
                                   *(fmt(ratio(targets, num, den, m), ".2f") for m in MODES)))
    print()
    print("memory with %d idle authenticated clients (sum over the process tree)" % args.clients)
    print("%-26s %5s %9s %12s %10s %10s %9s %8s" % (
        "target", "procs", "idle MiB", "clients MiB", "KiB/client", "PSS KiB/c", "upstream+",
        "logins/s"))
    for t in targets.values():
        if not t.has_memory:
            continue
        m = t.memory
        if m is None:
            print("%-26s %s" % (t.label, "failed (see below)" if t.error else "-"))
            continue
        print("%-26s %5d %9.1f %12.1f %10.1f %10s %9d %8s" % (
            t.label, m["processes"], m["idle_rss"] / 1024.0, m["rss"] / 1024.0,
            m["rss_per_client"], fmt(m["pss_per_client"], ".1f"), m["backends_added"],
            fmt(m["logins_per_second"], ",.0f")))
    print("KiB/client: VmRSS with the clients minus idle, per client; PSS KiB/c: the same in PSS,\n"
          "which splits shared pages; upstream+: client backends the clients added upstream")
    print()
    print(summary(targets))


def summary(targets):
    parts = ["%s FAILED (%s, error below)" % (name, t.failed_at)
             for name, t in targets.items() if t.error]
    for num, den in (("sqledge", "direct"), ("sqledge", "pgbouncer"), ("pgbouncer", "direct")):
        values = [ratio(targets, num, den, m) for m in MODES]
        if any(v is not None for v in values):
            parts.append("%s/%s tps %s simple, %s prepared" % (
                num, den, *(fmt(v, ".2f") for v in values)))
    mem = ["%s %s" % (name, fmt(targets[name].memory["rss_per_client"], ".1f"))
           for name in ("sqledge", "pgbouncer") if targets[name].memory]
    if mem:
        parts.append("KiB per idle client: " + ", ".join(mem))
    return "summary: " + "; ".join(parts)


# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=15,
                   help="duration of each timed pgbench run (default 15)")
    p.add_argument("--warmup", type=int, default=3,
                   help="duration of the warm-up run before each timed one, 0 for none "
                        "(default 3)")
    p.add_argument("--scale", type=int, default=10,
                   help="pgbench scale factor (default 10)")
    p.add_argument("--clients", type=int, default=1000,
                   help="idle clients for the memory figures (default 1000)")
    p.add_argument("--proxy-workers", type=int, default=2,
                   help="SQLEDGE_PROXY_WORKERS; 0 is sqledge's default, one per CPU "
                        "(default 2)")
    p.add_argument("--login-cache", type=int, default=0, metavar="TTL",
                   help="SQLEDGE_PROXY_LOGIN_CACHE_TTL (default 0: off); with it, the idle "
                        "clients after the first log in from the cache and hold no upstream "
                        "session")
    p.add_argument("--pgbouncer", default=shutil.which("pgbouncer") or "/usr/sbin/pgbouncer",
                   help="the PgBouncer program (default %(default)s)")
    p.add_argument("--sync-timeout", type=int, default=600,
                   help="bound on sqledge's initial sync before the runs, seconds "
                        "(default 600)")
    p.add_argument("--keep", action="store_true",
                   help="keep sqledge's and PgBouncer's directories (with their logs)")
    p.epilog = ("environment: SQLEDGE_BUILD_DIR (default <repo>/build) holds src/sqledge and "
                "src/sqledgectl; SQLEDGE_PG_BINDIR (default /usr/lib/postgresql/15/bin)")
    args = p.parse_args(argv)
    if args.seconds < 1 or args.warmup < 0 or args.scale < 1 or args.clients < 1:
        p.error("--seconds, --scale and --clients must be at least 1, --warmup at least 0")
    return args


def check_prerequisites(args):
    for path in (harness.sqledge_binary(), harness.sqledgectl_binary()):
        if not os.access(path, os.X_OK):
            raise BenchError("no %s: build first (bench/run.sh does) or set SQLEDGE_BUILD_DIR"
                             % path)
    for prog in ("initdb", "pg_ctl", "pgbench"):
        if not os.access(os.path.join(harness.PG_BINDIR, prog), os.X_OK):
            raise BenchError("no %s in %s (SQLEDGE_PG_BINDIR)" % (prog, harness.PG_BINDIR))
    if not os.access(args.pgbouncer, os.X_OK):
        raise BenchError("no PgBouncer at %s: install the pgbouncer package "
                         "(scripts/install-deps.sh) or pass --pgbouncer" % args.pgbouncer)


def prepare(cluster, scale):
    """The benchmark's database, filled by pgbench -i; returns its harness.Database."""
    cluster.create_database(DBNAME)
    db = harness.Database(cluster, DBNAME, slot="bench_proxy_slot",
                          publication="bench_proxy_pub")
    t0 = time.monotonic()
    db.pgbench("-i", "-q", "-s", str(scale), timeout=3600)
    log("pgbench -i -s %d took %.1f s" % (scale, time.monotonic() - t0))
    # sqledge refuses a published table without a replica identity, by design
    db.execute("ALTER TABLE pgbench_history REPLICA IDENTITY FULL")
    # the runs use -n (no vacuum of their own, which would also truncate pgbench_history
    # through the proxy): vacuum once here
    db.execute("VACUUM ANALYZE")
    db.execute("CHECKPOINT")
    return db


def main(argv):
    args = parse_args(argv)

    def terminated(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    cluster = bouncer = sqledge = None
    try:
        check_prerequisites(args)
        nofile = raise_nofile(args.clients)
        cluster = harness.PgCluster(settings={
            # every idle sqledge client holds an upstream session
            "max_connections": args.clients + FDS_SPARE,
            "shared_buffers": "'128MB'",
        }, name="bench-proxy-pg")
        cluster.init().start()
        db = prepare(cluster, args.scale)
        bouncer = PgBouncer(args.pgbouncer, cluster, args.clients)
        sqledge = SqledgeProxy(db, args.proxy_workers, args.clients, args.keep,
                               args.login_cache)
        targets = {"direct": Direct(cluster.port, cluster.password), "pgbouncer": bouncer,
                   "sqledge": sqledge}

        print("proxy benchmark, %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        print("machine: %s; open files limit %d" % (machine_line(), nofile))
        print("upstream: PostgreSQL %s on 127.0.0.1:%d, pgbench scale %d, max_connections %d"
              % (cluster.query("SHOW server_version")[0][0], cluster.port, args.scale,
                 args.clients + FDS_SPARE))
        print("pgbouncer: %s on 127.0.0.1:%d, session mode, scram-sha-256, pool size %d"
              % (bouncer.version(), bouncer.port, PGBOUNCER_POOL_SIZE))
        print("sqledge: %s, proxy on 127.0.0.1:%d, SQLEDGE_PROXY_WORKERS=%d, "
              "SQLEDGE_PROXY_LOGIN_CACHE_TTL=%d"
              % (harness.build_dir(), sqledge.port, args.proxy_workers, args.login_cache),
              flush=True)

        bouncer.attempt("starting PgBouncer", bouncer.start)
        log("starting sqledge and waiting for its initial sync and a proxy login")
        sqledge.attempt("starting sqledge", sqledge.start, args.sync_timeout)

        for mode in MODES:
            for t in targets.values():
                if args.warmup:
                    t.attempt("pgbench warm-up (-M %s)" % mode, run_pgbench, t, mode,
                              args.warmup)
                r = t.attempt("pgbench -M %s" % mode, run_pgbench, t, mode, args.seconds)
                if r:
                    t.pgbench[mode] = r
                    log("%s, -M %s: %.0f tps" % (t.label, mode, r["tps"]))
        for t in targets.values():
            if t.has_memory:
                log("%s: memory with %d idle clients" % (t.label, args.clients))
                t.memory = t.attempt("idle clients", measure_memory, t, cluster, args.clients)

        report(args, targets)
        failed = [t for t in targets.values() if t.error]
        for t in failed:
            print("bench: error: %s: %s" % (t.label, t.error), file=sys.stderr)
        return 1 if failed else 0
    except (BenchError, RuntimeError, AssertionError, psycopg2.Error) as exc:
        print("bench: error: %s" % exc, file=sys.stderr)
        return 1
    finally:
        if sqledge:
            with contextlib.suppress(*TARGET_ERRORS):
                sqledge.cleanup()
        if bouncer:
            bouncer.cleanup(args.keep)
        if cluster:
            try:
                cluster.destroy()
            except RuntimeError as exc:
                print("bench: error while removing the cluster: %s" % exc, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
