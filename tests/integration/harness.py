# SPDX-License-Identifier: MIT
"""Integration test harness: throwaway PostgreSQL 15 clusters, the sqledge process, readers of
the local SQLite copy and table comparison.

Every wait is a bounded poll on a real condition (a position, a process state, a row count);
none is a fixed sleep. When run as root, PostgreSQL runs as the `postgres` user through runuser.

What the harness expects from sqledge (the contract the tests rely on):
- configuration through SQLEDGE_* environment variables only; the control socket defaults to
  sqledge.sock next to the database file;
- `sqledgectl status --json` prints one JSON object with at least
    {"processes": [{"role": "master"|"repl"|..., "pid": N, "restarts": N}, ...],
     "replication": {"state": "streaming"|..., "applied_lsn": "X/X", "generation": N, ...}}
  (positions may also be plain integers);
- ./sqledge.db (the stable name) opens with sqlite3 and holds postgres_pos, _sqledge_relations
  and _sqledge_columns as described in assert_table_equal().
"""

import collections
import contextlib
import itertools
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PG_BINDIR = os.environ.get("SQLEDGE_PG_BINDIR", "/usr/lib/postgresql/15/bin")
ADMIN_PASSWORD = "admin-secret"
IS_ROOT = os.geteuid() == 0
# a SQLite database file starts with these 16 bytes
SQLITE_MAGIC = b"SQLite format 3\x00"
SPECIAL_FLOATS = ("NaN", "Infinity", "-Infinity")
# "2024-01-02 03:04:05.678 UTC repl[123] ERROR: message"
LOG_PREFIX = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ UTC \S+\[\d+\] "
                        r"(ERROR|WARNING|INFO|DEBUG): ")

_counter = itertools.count(1)


def unique_suffix():
    """A short name part unique within this pytest process."""
    return "%d_%d" % (os.getpid(), next(_counter))


def build_dir():
    return os.path.abspath(os.environ.get("SQLEDGE_BUILD_DIR") or os.path.join(REPO, "build"))


def sqledge_binary():
    return os.path.join(build_dir(), "src", "sqledge")


def sqledgectl_binary():
    return os.path.join(build_dir(), "src", "sqledgectl")


def free_port():
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_lsn(value):
    """Parses a position: "X/X" text or an integer. Returns an int."""
    if isinstance(value, bool):
        raise ValueError("not a position: %r" % (value,))
    if isinstance(value, int):
        return value
    m = re.fullmatch(r"\s*([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})\s*", str(value))
    if not m:
        raise ValueError("not a position: %r" % (value,))
    return (int(m.group(1), 16) << 32) | int(m.group(2), 16)


def format_lsn(value):
    return "%X/%X" % (value >> 32, value & 0xFFFFFFFF)


def file_tail(path, what, lines=30):
    """The last lines of a log file, headed by what it is; "" when it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            tail = f.readlines()[-lines:]
    except OSError:
        return ""
    return "--- %s (%s), last lines:\n%s" % (what, path, "".join(tail))


class WaitTimeout(AssertionError):
    pass


def wait_for(predicate, timeout, what, interval=0.05, alive=None):
    """Polls predicate() until it returns a true value, which is returned. Exceptions raised by
    predicate count as "not yet" (the last one is reported). alive, when given, is a Sqledge that
    must keep running: its exit ends the wait at once with its log."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        if alive is not None:
            alive.check_running("while waiting for " + what)
        try:
            result = predicate()
            if result:
                return result
            last_exc = None
        except Exception as exc:  # noqa: BLE001 - reported on timeout
            last_exc = exc
        if time.monotonic() >= deadline:
            msg = "timed out after %ss waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += " (last error: %s: %s)" % (type(last_exc).__name__, last_exc)
            if alive is not None:
                msg += "\n" + alive.log_tail()
            raise WaitTimeout(msg)
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def _postgres_ids():
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


class PgCluster:
    """A throwaway PostgreSQL cluster in a temp dir, listening on 127.0.0.1:<free port> and on a
    Unix socket in the same dir (trust for local connections, scram-sha-256 over TCP)."""

    def __init__(self, settings=None, name="pg"):
        self.settings = {
            "listen_addresses": "'127.0.0.1'",
            "wal_level": "logical",
            "max_replication_slots": "40",
            "max_wal_senders": "40",
            "wal_sender_timeout": "'10s'",
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "on",
            "max_connections": "100",
            "shared_buffers": "'64MB'",
            "log_min_messages": "warning",
            "log_line_prefix": "'%m [%p] %q%u@%d '",
        }
        for key, value in (settings or {}).items():
            self.settings[key] = str(value)
        self.base = tempfile.mkdtemp(prefix="sqledge-%s-" % name)
        self.datadir = os.path.join(self.base, "data")
        self.logfile = os.path.join(self.base, "postgres.log")
        self.host = self.base  # Unix socket directory
        self.port = None
        self.password = ADMIN_PASSWORD
        self.running = False
        if IS_ROOT:
            uid, gid = _postgres_ids()
            os.chown(self.base, uid, gid)
        os.chmod(self.base, 0o755)

    # -- processes

    def _pg_cmd(self, name, *args):
        cmd = [os.path.join(PG_BINDIR, name), *args]
        if IS_ROOT:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return cmd

    def _run_pg(self, name, *args, timeout=120):
        # cwd: the postgres user must be able to enter the current directory
        res = subprocess.run(self._pg_cmd(name, *args), cwd=self.base, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=timeout, env=self.client_env())
        if res.returncode != 0:
            raise RuntimeError("%s %s failed (exit %d):\n%s%s" % (
                name, " ".join(args), res.returncode, res.stdout, self.log_tail()))
        return res.stdout

    def init(self):
        pwfile = os.path.join(self.base, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if IS_ROOT:
            os.chown(pwfile, *_postgres_ids())
        self._run_pg("initdb", "-D", self.datadir, "-U", "postgres", "--pwfile", pwfile,
                     "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--auth-local=trust",
                     "--auth-host=scram-sha-256")
        os.unlink(pwfile)
        self.port = free_port()
        conf = dict(self.settings)
        conf["port"] = str(self.port)
        conf["unix_socket_directories"] = "'%s'" % self.base
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write("\n# sqledge integration tests\n")
            for key, value in conf.items():
                f.write("%s = %s\n" % (key, value))
        with open(os.path.join(self.datadir, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "local replication all trust\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n"
                    "host replication all 127.0.0.1/32 scram-sha-256\n")
        return self

    def start(self):
        self._run_pg("pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w", "-t", "60", "start")
        self.running = True
        return self

    def stop(self, mode="fast"):
        if self.running:
            self._run_pg("pg_ctl", "-D", self.datadir, "-m", mode, "-w", "-t", "60", "stop")
            self.running = False

    def destroy(self):
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines=30):
        return file_tail(self.logfile, "postgres log", lines)

    # -- clients

    def client_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=self.host, PGUSER="postgres", PGDATABASE="postgres")
        if self.port:
            env["PGPORT"] = str(self.port)
        return env

    def connect(self, dbname="postgres", autocommit=True, **kw):
        """A superuser connection over the Unix socket (trust), unless host/user/password are
        given."""
        params = dict(host=self.host, port=self.port, user="postgres", dbname=dbname,
                      connect_timeout=10)
        params.update(kw)
        conn = psycopg2.connect(**params)
        conn.autocommit = autocommit
        return conn

    def execute(self, statement, params=None, dbname="postgres"):
        with contextlib.closing(self.connect(dbname)) as conn, conn.cursor() as cur:
            cur.execute(statement, params)

    def query(self, statement, params=None, dbname="postgres"):
        with contextlib.closing(self.connect(dbname)) as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()

    def run_tool(self, name, *args, dbname="postgres", timeout=300, check=True):
        """Runs a client program (psql, pgbench, ...) against the cluster as superuser."""
        env = self.client_env()
        env["PGDATABASE"] = dbname
        res = subprocess.run([os.path.join(PG_BINDIR, name), *args], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise RuntimeError("%s %s failed (exit %d):\n%s" % (name, " ".join(args),
                                                                res.returncode, res.stdout))
        return res

    def create_database(self, name):
        self.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name):
        """Drops the database after dropping its replication slots (a logical slot keeps a
        database from being dropped)."""
        self.drop_slots(dbname=name)
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))

    def drop_slots(self, dbname=None, names=None):
        if names is not None and not names:
            return
        rows = self.query("SELECT slot_name, active_pid FROM pg_replication_slots "
                          "WHERE (%(db)s IS NULL OR database = %(db)s) "
                          "AND (%(names)s IS NULL OR slot_name = ANY(%(names)s))",
                          {"db": dbname, "names": names})
        for slot, pid in rows:
            if pid:
                self.execute("SELECT pg_terminate_backend(%s)", (pid,))
            wait_for(lambda: self._drop_slot(slot), 30, "slot %s to be dropped" % slot)

    def _drop_slot(self, slot):
        try:
            self.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                         "WHERE slot_name = %s", (slot,))
            return True
        except psycopg2.errors.ObjectInUse:
            return False  # the walsender has not exited yet


class Database:
    """One database of a cluster, with the slot and publication names a sqledge for it uses and
    the role it logs in with (the superuser postgres unless told otherwise)."""

    def __init__(self, cluster, name, slot=None, publication=None, user="postgres",
                 password=None):
        self.cluster = cluster
        self.name = name
        self.slot = slot or ("sqledge_" + name)[:63]
        self.publication = publication or ("sqledge_" + name)[:63]
        self.user = user
        self.password = password if password is not None else cluster.password
        self.roles = []

    def connect(self, autocommit=True, **kw):
        conn = self.cluster.connect(self.name, autocommit=autocommit, **kw)
        with conn.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; "
                        "SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; "
                        "SET bytea_output = 'hex'")
        return conn

    def execute(self, statement, params=None):
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(statement, params)

    def query(self, statement, params=None):
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()

    def scalar(self, statement, params=None):
        rows = self.query(statement, params)
        return rows[0][0] if rows else None

    def insert_lsn(self):
        """The upstream's current WAL insert position (an int): every commit so far ends at or
        before it."""
        return parse_lsn(self.scalar("SELECT pg_current_wal_insert_lsn()::text"))

    def run_tool(self, name, *args, **kw):
        return self.cluster.run_tool(name, *args, dbname=self.name, **kw)

    def pgbench(self, *args, **kw):
        return self.run_tool("pgbench", *args, **kw)

    def create_role(self, name, attributes="LOGIN", password=None):
        """Creates a cluster role that is dropped with this database."""
        stmt = sql.SQL("CREATE ROLE {} " + attributes).format(sql.Identifier(name))
        if password is not None:
            stmt = stmt + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
        self.cluster.execute(stmt)
        self.roles.append(name)
        return name

    def slot_info(self, slot=None):
        rows = self.query("SELECT slot_name, plugin, slot_type, database, temporary, active, "
                          "confirmed_flush_lsn::text, wal_status FROM pg_replication_slots "
                          "WHERE slot_name = %s", (slot or self.slot,))
        if not rows:
            return None
        keys = ("slot_name", "plugin", "slot_type", "database", "temporary", "active",
                "confirmed_flush_lsn", "wal_status")
        return dict(zip(keys, rows[0]))

    def drop(self):
        self.cluster.drop_database(self.name)
        for role in self.roles:
            self.cluster.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        self.roles = []


# ---------------------------------------------------------------------------------------------
# sqledge


class StatusError(RuntimeError):
    pass


class Sqledge:
    """One sqledge process tree started in its own working directory (its cwd, where the
    database file, the control socket and the log live), configured through the environment."""

    def __init__(self, db, workdir=None, env=None, minimal_env=False):
        self.db = db
        self.own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="sqledge-node-")
        self.db_path = os.path.join(self.workdir, "sqledge.db")
        self.socket_path = os.path.join(self.workdir, "sqledge.sock")
        self.logfile = os.path.join(self.workdir, "sqledge-%s.log" % unique_suffix())
        self.proxy_port = free_port()
        self.proc = None
        self.starts = 0
        if minimal_env:
            self.env = {}
        else:
            self.env = {
                "SQLEDGE_UPSTREAM_ADDRESS": "127.0.0.1",
                "SQLEDGE_UPSTREAM_PORT": str(db.cluster.port),
                "SQLEDGE_UPSTREAM_USER": db.user,
                "SQLEDGE_UPSTREAM_PASSWORD": db.password,
                "SQLEDGE_UPSTREAM_NAME": db.name,
                "SQLEDGE_REPLICATION_SLOT_NAME": db.slot,
                "SQLEDGE_REPLICATION_PUBLICATION": db.publication,
                "SQLEDGE_REPLICATION_STATUS_INTERVAL": "1",
                "SQLEDGE_LOCAL_DB_PATH": self.db_path,
                "SQLEDGE_PROXY_ADDRESS": "127.0.0.1",
                "SQLEDGE_PROXY_PORT": str(self.proxy_port),
                "SQLEDGE_PROXY_WORKERS": "1",
            }
            if os.environ.get("SQLEDGE_TEST_LOG_LEVEL"):
                self.env["SQLEDGE_LOG_LEVEL"] = os.environ["SQLEDGE_TEST_LOG_LEVEL"]
        self._apply(self.env, env)

    @staticmethod
    def _apply(target, overrides):
        for key, value in (overrides or {}).items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = str(value)

    @property
    def schemas(self):
        value = self.env.get("SQLEDGE_UPSTREAM_SCHEMA") or "public"
        return [s.strip() for s in value.split(",") if s.strip()]

    @property
    def publication(self):
        return self.env.get("SQLEDGE_REPLICATION_PUBLICATION") or "sqledge"

    @property
    def slot(self):
        return self.env.get("SQLEDGE_REPLICATION_SLOT_NAME") or "sqledge"

    # -- process control

    def process_env(self, extra=None):
        # nothing of the caller's SQLEDGE_* or libpq PG* settings leaks into the daemon
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SQLEDGE_") and not k.startswith("PG")}
        env.update(self.env)
        self._apply(env, extra)
        return env

    def start(self, env=None, args=()):
        """Starts sqledge (again, on the same files when it ran before). env entries apply to
        this start only (None removes a variable)."""
        assert not self.running(), "sqledge is already running"
        binary = sqledge_binary()
        if not os.access(binary, os.X_OK):
            raise AssertionError("no sqledge binary at %s: build first or set SQLEDGE_BUILD_DIR"
                                 % binary)
        self.starts += 1
        with open(self.logfile, "a") as log:
            log.write("=== harness: start #%d at %s: %s %s ===\n" % (
                self.starts, time.strftime("%H:%M:%S"), binary, " ".join(args)))
            log.flush()
            self.proc = subprocess.Popen([binary, *args], cwd=self.workdir,
                                         env=self.process_env(env), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def check_running(self, doing="now"):
        if self.proc is None:
            raise AssertionError("sqledge was never started")
        rc = self.proc.poll()
        if rc is not None:
            raise AssertionError("sqledge exited with %s %s\n%s" % (rc, doing, self.log_tail()))

    def _group_pids(self):
        """Live (non-zombie) processes of this sqledge's process group."""
        if self.proc is None:
            return []
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            state, pgid = fields[0], int(fields[2])
            if pgid == self.proc.pid and state not in ("Z", "X"):
                pids.append(int(entry))
        return pids

    def _wait_group_gone(self, timeout, what):
        wait_for(lambda: not self._group_pids(), timeout, what)

    def stop(self, timeout=30):
        """SIGTERM and wait for the whole tree to exit; SIGKILL after timeout (then fails).
        Returns the master's exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9_tree()
                raise AssertionError("sqledge did not stop within %ss of SIGTERM\n%s"
                                     % (timeout, self.log_tail()))
        self._wait_group_gone(timeout, "the workers to exit after the master")
        return self.proc.returncode

    def kill9(self, timeout=30):
        """kill -9 of the master alone: its workers must notice and exit by themselves."""
        self.check_running("before kill9")
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._wait_group_gone(timeout, "the workers to exit after the master was killed")

    def kill9_tree(self):
        """kill -9 of every process of the tree at once."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self._wait_group_gone(30, "the killed processes to disappear")

    def repl_pid(self):
        for p in self.status().get("processes", []):
            if p.get("role") == "repl" and p.get("pid"):
                return int(p["pid"])
        raise StatusError("no repl process in status")

    def repl_restarts(self):
        for p in self.status().get("processes", []):
            if p.get("role") == "repl":
                return int(p.get("restarts", 0))
        raise StatusError("no repl process in status")

    def kill9_worker(self, timeout=30):
        """kill -9 of the replication worker; returns its pid."""
        pid = wait_for(self.repl_pid, timeout, "the repl worker's pid in status", alive=self)
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_exit(self, timeout=60):
        """For runs that must end by themselves (a refusal): returns the exit code."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("sqledge still running after %ss, expected it to exit\n%s"
                                 % (timeout, self.log_tail())) from None

    def cleanup(self):
        """Teardown: stop whatever still runs, then remove the working directory."""
        try:
            if self.running():
                try:
                    self.stop(timeout=20)
                except AssertionError:
                    pass
            self.kill9_tree()
        finally:
            if self.own_workdir and not os.environ.get("SQLEDGE_TEST_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True)

    # -- log

    def log(self, since=0):
        try:
            with open(self.logfile, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                         "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")

    def sanitizer_reports(self):
        """The lines around any ASan/LSan/UBSan report in the log ("" when none)."""
        lines = self.log().splitlines()
        hits = [i for i, line in enumerate(lines)
                if any(marker in line for marker in self.SANITIZER_MARKERS)]
        return "\n".join("\n".join(lines[i:i + 20]) for i in hits[:3])

    def log_size(self):
        try:
            return os.path.getsize(self.logfile)
        except FileNotFoundError:
            return 0

    def log_lines(self, since=0):
        """Log lines written by sqledge itself (not the harness markers)."""
        return [line for line in self.log(since).splitlines()
                if line and not line.startswith("=== harness:")]

    def log_entries(self, since=0):
        """Log messages written by sqledge, a message that spans several lines (an upstream
        error text) joined into one entry."""
        entries = []
        for line in self.log_lines(since):
            if LOG_PREFIX.match(line) or not entries:
                entries.append(line)
            else:
                entries[-1] += "\n" + line
        return entries

    def log_tail(self, lines=40):
        text = self.log().splitlines()[-lines:]
        return "--- sqledge log (%s), last %d lines:\n%s" % (self.logfile, len(text),
                                                            "\n".join(text))

    # -- status

    def status(self):
        """`sqledgectl status --json`, parsed. Raises StatusError."""
        env = self.process_env({"SQLEDGE_CONTROL_SOCKET": self.socket_path})
        try:
            res = subprocess.run([sqledgectl_binary(), "status", "--json"], cwd=self.workdir,
                                 env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            raise StatusError("sqledgectl status timed out") from None
        if res.returncode != 0:
            raise StatusError("sqledgectl status exited %d: %s" % (res.returncode,
                                                                  res.stderr.strip()))
        try:
            value = json.loads(res.stdout)
        except ValueError as exc:
            raise StatusError("sqledgectl status --json printed no JSON (%s): %r"
                              % (exc, res.stdout[:200])) from None
        if not isinstance(value, dict):
            raise StatusError("status is not a JSON object: %r" % (res.stdout[:200],))
        return value

    def try_status(self):
        try:
            return self.status()
        except StatusError:
            return None

    def replication(self):
        return self.status().get("replication") or {}

    def state(self):
        return str(self.replication().get("state", "")).lower()

    def applied_lsn(self):
        value = self.replication().get("applied_lsn")
        return parse_lsn(value) if value not in (None, "") else 0

    def generation(self):
        """The current database generation: from status when it says, else from the number
        in the name of the file ./sqledge.db points to."""
        st = self.try_status()
        if st:
            for d in (st.get("replication") or {}, st):
                if isinstance(d.get("generation"), int):
                    return d["generation"]
        target = os.path.basename(os.path.realpath(self.db_path))
        numbers = re.findall(r"\d+", target)
        if not numbers:
            raise AssertionError("cannot tell the generation of %s (-> %s)" % (self.db_path,
                                                                              target))
        return int(numbers[-1])

    def wait_started(self, timeout=30):
        """Until the control socket answers with the repl worker's pid."""
        return wait_for(self.repl_pid, timeout, "sqledge to answer status", alive=self)

    def wait_caught_up(self, db=None, timeout=60):
        """Until the applied position reaches the upstream's insert position taken now, in state
        streaming. Returns the status."""
        db = db or self.db
        target = db.insert_lsn()

        def caught_up():
            st = self.status()
            rep = st.get("replication") or {}
            applied = rep.get("applied_lsn")
            if str(rep.get("state", "")).lower() != "streaming" or applied in (None, ""):
                return None
            return st if parse_lsn(applied) >= target else None

        return wait_for(caught_up, timeout, "applied_lsn >= %s in state streaming"
                        % format_lsn(target), interval=0.1, alive=self)

    def wait_restarts(self, count=1, timeout=60):
        """Until the master has respawned the repl worker at least count times."""
        return wait_for(lambda: self.repl_restarts() >= count, timeout,
                        "%d respawn(s) of the repl worker" % count, alive=self)

    # -- the proxy

    def proxy_connect(self, user=None, password=None, dbname=None, autocommit=True, **kw):
        """A psycopg2 connection through sqledge's proxy (TCP on 127.0.0.1), as the database's
        user unless told otherwise."""
        params = dict(host="127.0.0.1", port=self.proxy_port, user=user or self.db.user,
                      password=self.db.password if password is None else password,
                      dbname=dbname or self.db.name, connect_timeout=10)
        params.update(kw)
        conn = psycopg2.connect(**params)
        conn.autocommit = autocommit
        return conn

    def proxy_workers(self):
        """The proxy section of the status: per-worker counters under "workers"."""
        return self.status().get("proxy") or {}

    # -- the local copy

    def local_connect(self):
        """A read-only connection to ./sqledge.db (close it: an open reader keeps a generation
        file alive)."""
        uri = "file:%s?mode=ro" % urllib.parse.quote(self.db_path)
        conn = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)
        conn.text_factory = str
        return conn

    def local_query(self, statement, params=()):
        with contextlib.closing(self.local_connect()) as conn:
            return conn.execute(statement, params).fetchall()

    def relations(self):
        """{(nspname, relname): sqlite_name} from _sqledge_relations."""
        return {(n, r): s for n, r, s in self.local_query(
            "SELECT nspname, relname, sqlite_name FROM _sqledge_relations")}

    def local_name(self, table):
        """SQLite table name of an upstream table ("schema.table", "table" or a tuple)."""
        nsp, rel = split_table(table)
        rels = self.relations()
        if (nsp, rel) not in rels:
            raise AssertionError("%s.%s is not in _sqledge_relations (it has: %s)"
                                 % (nsp, rel, sorted(rels)))
        return rels[(nsp, rel)]

    def local_count(self, table):
        return self.local_query("SELECT count(*) FROM %s" % qi(self.local_name(table)))[0][0]

    def position(self):
        """The postgres_pos row as a dict."""
        with contextlib.closing(self.local_connect()) as conn:
            cur = conn.execute("SELECT * FROM postgres_pos")
            rows = cur.fetchall()
            names = [d[0] for d in cur.description]
        assert len(rows) == 1, "postgres_pos has %d rows, expected 1" % len(rows)
        return dict(zip(names, rows[0]))

    def generation_files(self):
        """SQLite database files in the directory of the current generation."""
        current = os.path.realpath(self.db_path)
        directory = os.path.dirname(current)
        found = []
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as f:
                    if f.read(16) == SQLITE_MAGIC:
                        found.append(path)
            except OSError:
                continue
        return sorted(found)

    def run_sqlite3(self, *args, timeout=30):
        """The sqlite3 command-line shell run in the working directory."""
        res = subprocess.run(["sqlite3", *args], cwd=self.workdir, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=timeout)
        return res


# ---------------------------------------------------------------------------------------------
# comparing the local copy with the upstream


def qi(name):
    """Quotes a SQLite identifier."""
    return '"' + name.replace('"', '""') + '"'


def split_table(table):
    if isinstance(table, tuple):
        return table
    if "." in table:
        nsp, rel = table.split(".", 1)
        return nsp, rel
    return "public", table


class _Raw:
    """Makes a psycopg2 connection return every value as PostgreSQL's own text output."""

    @staticmethod
    def register(conn, oids):
        oids = tuple(sorted(set(oids)))
        if oids:
            raw = psycopg2.extensions.new_type(oids, "SQLEDGE_RAW", lambda value, cur: value)
            psycopg2.extensions.register_type(raw, conn)


def upstream_columns(conn, nsp, rel):
    with conn.cursor() as cur:
        cur.execute("SELECT a.attname, a.atttypid::int, a.atttypmod FROM pg_attribute a "
                    "JOIN pg_class c ON c.oid = a.attrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 "
                    "AND NOT a.attisdropped ORDER BY a.attnum", (nsp, rel))
        return cur.fetchall()


def upstream_rows(db, table, columns):
    """Rows of an upstream table as tuples of text exactly as PostgreSQL prints the values
    (output functions, UTC, ISO dates, hex bytea), None for NULL."""
    nsp, rel = split_table(table)
    with contextlib.closing(db.connect(autocommit=False)) as conn:
        cols = upstream_columns(conn, nsp, rel)
        if not cols:
            raise AssertionError("upstream has no table %s.%s" % (nsp, rel))
        types = {name: oid for name, oid, _ in cols}
        missing = [c for c in columns if c not in types]
        assert not missing, "columns %s not in upstream %s.%s" % (missing, nsp, rel)
        _Raw.register(conn, types.values())
        # arrays of those types, if any, come back raw as well
        with conn.cursor() as cur:
            cur.execute("SELECT typarray::int FROM pg_type WHERE oid = ANY(%s) AND typarray <> 0",
                        (list(types.values()),))
            _Raw.register(conn, [r[0] for r in cur.fetchall()])
            cur.execute(sql.SQL("SELECT {} FROM {}.{}").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in columns) if columns
                else sql.SQL("1"),
                sql.Identifier(nsp), sql.Identifier(rel)))
            rows = cur.fetchall()
        conn.rollback()
    if not columns:
        return [() for _ in rows]
    return rows


def _bad(value):
    return "<stored as %s: %r>" % (type(value).__name__, value)


def render_local(kind, value):
    """A local value as the text PostgreSQL prints, per the storage contract; a value stored
    with the wrong SQLite type renders as a marker that cannot match."""
    if value is None:
        return None
    if kind == "bool":
        if type(value) is int and value in (0, 1):
            return "t" if value else "f"
        return _bad(value)
    if kind == "int":
        return str(value) if type(value) is int else _bad(value)
    if kind == "float":
        if isinstance(value, str):
            return value if value in SPECIAL_FLOATS else _bad(value)
        if type(value) in (float, int):
            return float(value)
        if value == b"-0":  # -0 keeps its sign as this BLOB
            return "-0"
        return _bad(value)
    if kind == "bytea":
        return "\\x" + value.hex() if isinstance(value, bytes) else _bad(value)
    # text, numeric and everything else: the exact text
    return value if isinstance(value, str) else _bad(value)


def render_upstream(kind, value):
    """An upstream value (PostgreSQL's text) in the form render_local() gives: the text, except
    finite floats other than -0, which compare as numbers (so "1e-310" equals 1e-310)."""
    if value is None:
        return None
    if kind == "float" and value not in SPECIAL_FLOATS and value != "-0":
        return float(value)
    return value


def local_columns(sq, relid):
    with contextlib.closing(sq.local_connect()) as conn:
        return conn.execute("SELECT attname, sqlite_name, kind, type_oid, typmod FROM "
                            "_sqledge_columns WHERE relid = ? ORDER BY position",
                            (relid,)).fetchall()


def local_rows(sq, table):
    """(columns, rows): attnames in local order and the rendered local rows."""
    nsp, rel = split_table(table)
    with contextlib.closing(sq.local_connect()) as conn:
        found = conn.execute("SELECT relid, sqlite_name FROM _sqledge_relations "
                             "WHERE nspname = ? AND relname = ?", (nsp, rel)).fetchall()
        if not found:
            have = conn.execute("SELECT nspname, relname FROM _sqledge_relations").fetchall()
            raise AssertionError("%s.%s is not in the local copy's _sqledge_relations "
                                 "(it has: %s)" % (nsp, rel, sorted(have)))
        relid, sqlite_name = found[0]
        cols = conn.execute("SELECT attname, sqlite_name, kind FROM _sqledge_columns "
                            "WHERE relid = ? ORDER BY position", (relid,)).fetchall()
        select = ", ".join(qi(c[1]) for c in cols) or "1"
        raw = conn.execute("SELECT %s FROM %s" % (select, qi(sqlite_name))).fetchall()
    kinds = [c[2] for c in cols]
    rows = [tuple(render_local(k, v) for k, v in zip(kinds, r)) for r in raw] if cols \
        else [() for _ in raw]
    return [c[0] for c in cols], kinds, rows


def _fmt_row(row):
    return "(" + ", ".join("NULL" if v is None else repr(v) for v in row) + ")"


def assert_table_equal(db, sq, table, show=10):
    """The local copy of table equals the upstream table as a multiset of rows (duplicates
    count), value by value in PostgreSQL's text form."""
    nsp, rel = split_table(table)
    columns, kinds, local = local_rows(sq, (nsp, rel))
    with contextlib.closing(db.connect()) as conn:
        up_cols = [c[0] for c in upstream_columns(conn, nsp, rel)]
    assert sorted(columns) == sorted(up_cols), (
        "%s.%s: local columns %s, upstream columns %s" % (nsp, rel, columns, up_cols))
    upstream = [tuple(render_upstream(k, v) for k, v in zip(kinds, r))
                for r in upstream_rows(db, (nsp, rel), columns)]
    up, lo = collections.Counter(upstream), collections.Counter(local)
    if up == lo:
        return len(upstream)
    missing = list((up - lo).elements())
    extra = list((lo - up).elements())
    lines = ["%s.%s differs: %d rows upstream, %d local; columns %s"
             % (nsp, rel, len(upstream), len(local), ", ".join(columns)),
             "%d upstream row(s) missing locally%s" % (len(missing), ":" if missing else "")]
    lines += ["  - " + _fmt_row(r) for r in sorted(missing, key=repr)[:show]]
    lines.append("%d local row(s) not upstream%s" % (len(extra), ":" if extra else ""))
    lines += ["  + " + _fmt_row(r) for r in sorted(extra, key=repr)[:show]]
    raise AssertionError("\n".join(lines))


def published_tables(db, sq):
    """(schema, table) of every table in sq's publication within its configured schemas."""
    rows = db.query("SELECT schemaname, tablename FROM pg_publication_tables "
                    "WHERE pubname = %s AND schemaname = ANY(%s)",
                    (sq.publication, sq.schemas))
    return sorted((r[0], r[1]) for r in rows)


def assert_all_tables_equal(db, sq):
    """Every published table of the configured schemas is in the local copy and equal to the
    upstream; the local copy has no other tables."""
    expected = published_tables(db, sq)
    local = sorted(sq.relations())
    assert local == expected, "local tables %s, published upstream %s" % (local, expected)
    failures = []
    for table in expected:
        try:
            assert_table_equal(db, sq, table)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n\n".join(failures)
    return expected


# ---------------------------------------------------------------------------------------------
# helpers for tests


def random_seed():
    """The seed of a randomized test: SQLEDGE_TEST_SEED or a fresh one, printed."""
    value = os.environ.get("SQLEDGE_TEST_SEED")
    seed = int(value) if value else random.SystemRandom().randrange(1, 2**31)
    print("random seed: %d (rerun with SQLEDGE_TEST_SEED=%d)" % (seed, seed))
    return seed


if __name__ == "__main__":
    sys.exit("this module is imported by the pytest suite in tests/integration")


def sqledgectl(sq, *args, timeout=120):
    """Runs sqledgectl against sq's control socket; the CompletedProcess (stdout and stderr
    together in stdout)."""
    env = sq.process_env({"SQLEDGE_CONTROL_SOCKET": sq.socket_path})
    return subprocess.run([sqledgectl_binary(), *args], cwd=sq.workdir, env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)


def assert_verified(sq, *tables):
    """`sqledgectl verify` finds the copy equal to the upstream; its report."""
    out = sqledgectl(sq, "verify", *tables)
    assert out.returncode == 0, out.stdout
    return out.stdout
