# SPDX-License-Identifier: MIT
"""Reloading the configuration (SIGHUP, `sqledgectl reload`): an invalid file changes nothing,
live settings change without dropping a client, the number of proxy workers follows the file,
and the keys that need a restart are named in the log. systemd hears RELOADING and READY."""

import contextlib
import os
import signal
import socket
import subprocess

import pytest

import harness


def next_state(notify):
    """The next notification that is not a STATUS= line."""
    while True:
        msg = notify.recv(4096)
        if not msg.startswith(b"STATUS="):
            return msg


def write_config(path, **proxy):
    lines = ["[proxy]"] + ["%s = %s" % kv for kv in proxy.pop("proxy_keys").items()]
    lines += ["[log]", "level = %s" % proxy.pop("level", "info")]
    for section, keys in proxy.items():
        lines += ["[%s]" % section] + ["%s = %s" % kv for kv in keys.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def ctl(sq, *args):
    env = sq.process_env({"SQLEDGE_CONTROL_SOCKET": sq.socket_path})
    return subprocess.run([harness.sqledgectl_binary(), *args], cwd=sq.workdir, env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=30)


def log_text(sq):
    with open(sq.logfile) as f:
        return f.read()


def workers_running(sq):
    return [w for w in sq.proxy_workers()["workers"] if w["pid"]]


def test_reload_changes_live_settings_without_dropping_clients(db, sqledge_factory, tmp_path):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    config = str(tmp_path / "sqledge.ini")
    write_config(config, proxy_keys={"workers": 1, "max_lag": 30000})
    notify_path = str(tmp_path / "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(10)
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_WORKERS": None,
                                  "SQLEDGE_PROXY_LOCAL_READS": "true"})
    sq.start(env={"NOTIFY_SOCKET": notify_path}, args=("-c", config))
    try:
        assert next_state(notify) == b"READY=1"
        sq.wait_caught_up()
        clients = [sq.proxy_connect() for _ in range(3)]
        for conn in clients:
            with conn.cursor() as cur:
                cur.execute("SELECT body FROM notes WHERE id = 1")
        assert len(workers_running(sq)) == 1

        # invalid: nothing changes, the answer says why
        with open(config, "a") as f:
            f.write("[proxy]\nmax_clients = -5\n")
        out = ctl(sq, "reload")
        assert out.returncode == 1 and out.stdout.startswith("error:"), out.stdout
        assert "max_clients" in out.stdout, out.stdout
        assert next_state(notify) == b"RELOADING=1" and next_state(notify) == b"READY=1"
        assert "the new configuration is invalid" in log_text(sq)

        # live: log level, worker count, lag; a restart key is named and kept
        write_config(config, proxy_keys={"workers": 2, "max_lag": 5000}, level="debug",
                     upstream={"schema": "elsewhere"})
        out = ctl(sq, "reload")
        assert out.returncode == 0 and out.stdout.startswith("reloaded: 3 settings changed"), \
            out.stdout
        assert next_state(notify) == b"RELOADING=1" and next_state(notify) == b"READY=1"
        harness.wait_for(lambda: len(workers_running(sq)) == 2, 30, "a second proxy worker")
        text = log_text(sq)
        assert '[upstream] schema changed from "public" to "elsewhere", which needs a restart' \
            in text, text
        assert '[proxy] max_lag changed from "30000" to "5000"' in text
        for conn in clients:  # none dropped
            with conn.cursor() as cur:
                cur.execute("SELECT body FROM notes WHERE id = 1")
                assert cur.fetchall() == [("one",)]
        # the workers log at the new level
        with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT body FROM notes WHERE id = 1")
        harness.wait_for(lambda: "DEBUG: client" in log_text(sq), 10, "a worker's DEBUG line")

        # fewer workers by SIGHUP: the extra one takes no new client, keeps its clients and
        # leaves after the last
        # the kernel spreads new connections over the workers by a hash: open them until the
        # second worker has some
        more = [sq.proxy_connect() for _ in range(6)]
        while sq.proxy_workers()["workers"][1]["clients"] == 0 and len(more) < 60:
            more.append(sq.proxy_connect())
        by_worker = sq.proxy_workers()["workers"]
        assert by_worker[1]["clients"] > 0, by_worker
        write_config(config, proxy_keys={"workers": 1, "max_lag": 5000}, level="debug",
                     upstream={"schema": "elsewhere"})
        os.kill(sq.proc.pid, signal.SIGHUP)
        assert next_state(notify) == b"RELOADING=1" and next_state(notify) == b"READY=1"
        for conn in clients + more:
            with conn.cursor() as cur:
                cur.execute("SELECT body FROM notes WHERE id = 1")
                assert cur.fetchall() == [("one",)]
        for conn in more:
            conn.close()
        harness.wait_for(lambda: len(workers_running(sq)) == 1, 30,
                         "the retired worker to leave after its clients")
        assert "proxy worker 1 retired" in log_text(sq)
        for conn in clients:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            conn.close()
        # the status line systemctl shows, renewed every few seconds
        harness.wait_for(lambda: notify.recv(4096).startswith(b"STATUS=replication streaming"),
                         20, "a STATUS= line")
        sq.stop()
        assert next_state(notify).startswith(b"STOPPING=1\nEXTEND_TIMEOUT_USEC=25000000")
    finally:
        notify.close()


def test_resync_makes_a_new_copy_while_the_old_one_serves(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 2000) g")
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
    sq.wait_caught_up()
    generation = sq.status()["replication"]["generation"]
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        out = ctl(sq, "resync")
        assert out.returncode == 0 and out.stdout.startswith("resyncing:"), out.stdout

        def new_copy():
            cur.execute("SELECT body FROM notes WHERE id = 7")  # served all along
            assert cur.fetchall() == [("n7",)]
            return sq.status()["replication"]["generation"] > generation

        harness.wait_for(new_copy, 60, "a new generation")
        assert "starting an initial sync: the local copy was marked for resync" in \
            log_text(sq)
        db.execute("UPDATE notes SET body = 'after' WHERE id = 7")
        sq.wait_caught_up()
        cur.execute("SELECT body FROM notes WHERE id = 7")
        assert cur.fetchall() == [("after",)]
    harness.assert_all_tables_equal(db, sq)


def test_decommission_drops_the_slot_and_stops(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    assert db.slot_info() is not None
    out = ctl(sq, "decommission")
    assert out.returncode == 0 and out.stdout.startswith("decommissioned:"), out.stdout
    assert sq.proc.wait(timeout=60) == 0
    assert db.slot_info() is None
    # every command against a sqledge that is not running: exit status 1
    for args in (("status",), ("status", "--json"), ("reload",), ("resync",),
                 ("decommission",), ("stop",)):
        out = ctl(sq, *args)
        assert out.returncode == 1, (args, out.stdout)


def test_metrics_endpoint(db, sqledge_factory):
    import urllib.error
    import urllib.request

    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    port = harness.free_port()
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_LOCAL_READS": "true",
                                  "SQLEDGE_METRICS_LISTEN": "127.0.0.1:%d" % port}).start()
    sq.wait_caught_up()
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT body FROM notes WHERE id = 1")
        cur.execute("INSERT INTO notes VALUES (2, 'two')")
    sq.wait_caught_up()
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    st = sq.status()
    applied = harness.parse_lsn(st["replication"]["applied_lsn"])
    assert samples['sqledge_replication_lsn{kind="applied"}'] >= applied > 0
    assert samples['sqledge_replication_state{state="streaming"}'] == 1
    assert samples["sqledge_replication_transactions_applied_total"] >= 1
    assert samples['sqledge_proxy_queries_total{worker="0",route="local"}'] >= 1
    assert samples['sqledge_proxy_queries_total{worker="0",route="forwarded"}'] >= 1
    assert samples['sqledge_proxy_clients{worker="0"}'] >= 0
    assert samples["sqledge_upstream_reachable"] == 1
    assert 'sqledge_worker_restarts_total{role="repl"}' in samples
    assert 'sqledge_proxy_logins_failed_total{worker="0"}' in samples
    assert 'sqledge_proxy_session_checks_total{worker="0",kind="ahead"}' in samples
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen("http://127.0.0.1:%d/other" % port, timeout=10)
    assert err.value.code == 404
    # a bad listen value is a configuration error
    out = subprocess.run([harness.sqledge_binary(), "--check-config"],
                         env=sq.process_env({"SQLEDGE_METRICS_LISTEN": "nowhere"}),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    assert out.returncode != 0 and "must be host:port" in out.stdout, out.stdout


def test_sigterm_lets_running_statements_finish(db, sqledge_factory):
    import threading
    import time

    import psycopg2

    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    for timeout, sleep, finishes in (("20", 2, True), ("1", 6, False)):
        sq = sqledge_factory(db, env={"SQLEDGE_PROXY_SHUTDOWN_TIMEOUT": timeout}).start()
        sq.wait_caught_up()
        db.execute("INSERT INTO notes VALUES (%d, 'x')" % sleep)
        idle, busy = sq.proxy_connect(), sq.proxy_connect()
        result = {}

        def run():
            try:
                with busy.cursor() as cur:
                    cur.execute("SELECT pg_sleep(%d), 42" % sleep)
                    result["row"] = cur.fetchone()
            except psycopg2.Error as exc:
                result["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        harness.wait_for(lambda: db.query("SELECT count(*) FROM pg_stat_activity WHERE "
                                          "query LIKE 'SELECT pg_sleep%%'") == [(1,)], 10,
                         "the statement to run upstream")
        started = time.monotonic()
        os.kill(sq.proc.pid, signal.SIGTERM)
        harness.wait_for(lambda: "sessions end when their statements are done" in
                         log_text(sq), 10, "the proxy worker to begin stopping")
        # an idle session ends at once, as in PostgreSQL's fast shutdown
        with pytest.raises(psycopg2.OperationalError) as err:
            with idle.cursor() as cur:
                cur.execute("SELECT 1")
        assert "administrator command" in str(err.value) or "closed" in str(err.value)
        thread.join(30)
        if finishes:
            assert result.get("row") == ("", 42), result
        else:
            assert "error" in result and time.monotonic() - started < sleep, result
        assert sq.proc.wait(timeout=30) == 0
        # the copy's position is the one confirmed upstream
        assert harness.parse_lsn(sq.position()["lsn"]) == \
            harness.parse_lsn(db.slot_info()["confirmed_flush_lsn"])
        idle.close()
        busy.close()


def test_status_shows_the_statements_forwarded_most(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_WORKERS": "1"}).start()
    sq.wait_caught_up()
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        for i in range(80):
            cur.execute("INSERT INTO notes VALUES (%d, 'n%d')" % (i, i))
        for i in range(16):
            cur.execute("SELECT count(*) FROM notes WHERE body ~ 'n%d'" % i)  # upstream
    top = sq.proxy_workers()["top_forwarded"]
    assert top[0]["statement"] == "INSERT INTO notes VALUES ($1, $2)", top
    assert 60 <= top[0]["count"] <= 100, top
    assert any(t["statement"] == "SELECT count(*) FROM notes WHERE body ~ $1" for t in top), top
    out = ctl(sq, "status")
    assert "forwarded most (estimated from a sample):" in out.stdout, out.stdout
    assert "INSERT INTO notes VALUES ($1, $2)" in out.stdout


def test_a_crash_loop_backs_off(db, sqledge_factory):
    import re

    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    for _ in range(3):
        pid = sq.repl_pid()
        os.kill(pid, signal.SIGKILL)
        harness.wait_for(lambda: sq.repl_pid() not in (None, 0, pid), 30,
                         "the replication worker to be started again")
    delays = [float(d) for d in
              re.findall(r"restarting the repl worker in ([0-9.]+) s", log_text(sq))]
    assert delays[:3] == [0.5, 1.0, 2.0], delays
    processes = sq.status()["processes"]
    assert processes[1]["role"] == "repl" and processes[1]["restarts"] == 3
    assert processes[0]["uptime_seconds"] >= processes[1]["uptime_seconds"] >= 0
    sq.wait_caught_up()
