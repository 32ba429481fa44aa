# SPDX-License-Identifier: MIT
"""The proxy as a forwarding PostgreSQL server: real clients (psql, pgbench, psycopg2) and raw
protocol exchanges get through sqledge exactly what the upstream answers them directly."""

import contextlib
import io
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import psycopg2
import psycopg2.errors
import pytest

import harness
import pgproto
from pgproto import Raw


def start(sqledge_factory, db, workers=1, **env):
    settings = {"SQLEDGE_PROXY_WORKERS": str(workers)}
    settings.update({"SQLEDGE_PROXY_" + k.upper(): str(v) for k, v in env.items()})
    sq = sqledge_factory(db, env=settings).start()
    # streaming: the publication exists, so tests may create tables without a key
    sq.wait_caught_up()
    return sq


def psql(db, port, *args, host="127.0.0.1", password=None, check=True):
    env = db.cluster.client_env()
    env.update(PGHOST=host, PGPORT=str(port), PGUSER=db.user, PGDATABASE=db.name,
               PGPASSWORD=db.password if password is None else password)
    res = subprocess.run([os.path.join(harness.PG_BINDIR, "psql"), "-X", "-v",
                          "ON_ERROR_STOP=1", *args], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=120)
    if check:
        assert res.returncode == 0, res.stdout
    return res


def pgbench(db, port, *args):
    env = db.cluster.client_env()
    env.update(PGHOST="127.0.0.1", PGPORT=str(port), PGUSER=db.user, PGDATABASE=db.name,
               PGPASSWORD=db.password)
    res = subprocess.run([os.path.join(harness.PG_BINDIR, "pgbench"), *args], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=300)
    assert res.returncode == 0, res.stdout
    return res.stdout


def direct_connect(db):
    """Straight to the upstream, over TCP with the same password the proxy's clients use."""
    conn = psycopg2.connect(host="127.0.0.1", port=db.cluster.port, user=db.user,
                            password=db.password, dbname=db.name, connect_timeout=10)
    conn.autocommit = True
    return conn


def raw_proxy(sq):
    r = Raw(port=sq.proxy_port)
    r.login(sq.db.user, sq.db.name, sq.db.password)
    return r


def raw_direct(db):
    """The upstream over its Unix socket, where the scratch cluster trusts local logins."""
    r = Raw(path=os.path.join(db.cluster.host, ".s.PGSQL.%d" % db.cluster.port))
    r.login(db.user, db.name)
    return r


def proxy_error(sq, **kw):
    with pytest.raises(psycopg2.OperationalError) as exc:
        sq.proxy_connect(**kw).close()
    return str(exc.value)


# -- real clients


def test_psql_multi_statement_and_describe_match_upstream(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    script = ("CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, born date);"
              "INSERT INTO people VALUES (1, 'Ada', '1815-12-10'), (2, 'Alan', NULL);"
              "SELECT * FROM people ORDER BY id; SELECT count(*) FROM people")
    out = psql(db, sq.proxy_port, "-c", script).stdout
    assert "Ada" in out and "(1 row)" in out, out
    for args in (["-c", "SELECT * FROM people ORDER BY id; SELECT 42 AS answer"],
                 ["-c", r"\d people"], ["-c", r"\dt"], ["-c", r"\l " + db.name],
                 ["-c", "SELECT 1/0"]):
        through = psql(db, sq.proxy_port, *args, check=False)
        direct = psql(db, db.cluster.port, *args, check=False)
        assert (through.returncode, through.stdout) == (direct.returncode, direct.stdout)


@pytest.mark.parametrize("mode", ["simple", "extended", "prepared"])
def test_pgbench_through_proxy(db, sqledge_factory, mode):
    sq = start(sqledge_factory, db, workers=2)
    db.pgbench("-i", "-s", "1", "-q")
    before = db.scalar("SELECT count(*) FROM pgbench_history")
    out = pgbench(db, sq.proxy_port, "-M", mode, "-c", "4", "-j", "2", "-t", "50")
    assert "number of failed transactions: 0" in out, out
    assert db.scalar("SELECT count(*) FROM pgbench_history") == before + 200
    out = pgbench(db, sq.proxy_port, "-M", mode, "-S", "-c", "4", "-j", "2", "-t", "200")
    assert "number of transactions actually processed: 800/800" in out, out
    st = sq.proxy_workers()
    # the select-only run may be answered from the local copy
    handled = st["queries_forwarded"] + st["queries_local"]
    assert handled >= 800 + 200 * 7, st


def test_psycopg2_session_matches_upstream(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    for table in ("items_a", "items_b"):
        db.execute("CREATE TABLE %s (id int PRIMARY KEY, label text, price numeric(10,2), "
                   "at timestamptz, data bytea, flags bool[])" % table)

    def session(conn, table):
        out = []
        with conn.cursor() as cur:
            cur.execute("SET TimeZone = 'Europe/Paris'")
            for i in range(5):
                cur.execute("INSERT INTO " + table + " VALUES (%s, %s, %s, %s, %s, %s)",
                            (i, "item %d" % i, "%d.25" % i, "2024-03-01 12:00:00+00",
                             bytes([i, 0, 255]), [True, False, None]))
            cur.execute("SELECT id, label, price, at, data, flags FROM " + table +
                        " WHERE id >= %s ORDER BY id", (1,))
            out.append([(r[0], r[1], r[2], r[3].isoformat(), bytes(r[4]), r[5])
                        for r in cur.fetchall()])
            out.append([(d.name, d.type_code) for d in cur.description])
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("UPDATE " + table + " SET label = 'gone' WHERE id = %s", (0,))
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("UPDATE " + table + " SET label = 'kept' WHERE id = %s", (1,))
        conn.commit()
        with conn.cursor() as cur:
            with pytest.raises(psycopg2.errors.UniqueViolation) as exc:
                cur.execute("INSERT INTO " + table + " (id) VALUES (%s)", (0,))
            out.append((exc.value.pgcode, exc.value.diag.message_primary))
        conn.rollback()
        # a named cursor: DECLARE and FETCH in batches inside the transaction
        with conn.cursor(name="big") as cur:
            cur.itersize = 3
            cur.execute("SELECT g, md5(g::text) FROM generate_series(1, 20) g")
            out.append(list(cur))
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT label FROM " + table + " WHERE id IN (0, 1) ORDER BY id")
            out.append(cur.fetchall())
        out.append(conn.get_parameter_status("TimeZone"))
        return repr(out).replace(table, "<table>")

    with contextlib.closing(sq.proxy_connect()) as through:
        got = session(through, "items_a")
    with contextlib.closing(direct_connect(db)) as direct:
        want = session(direct, "items_b")
    assert got == want
    assert "'kept'" in got and "Europe/Paris" in got


def test_copy_listen_notify_and_parameter_status(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    db.execute("CREATE TABLE c (a int, b text)")
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.copy_expert("COPY c FROM STDIN", io.StringIO("".join(
            "%d\tline %d\n" % (i, i) for i in range(5000))))
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT * FROM c ORDER BY a) TO STDOUT", out)
        assert out.getvalue().count("\n") == 5000
        assert out.getvalue().startswith("0\tline 0\n")
        # a COPY FROM that the client aborts
        with pytest.raises(psycopg2.Error):
            cur.copy_expert("COPY c FROM STDIN", io.StringIO("x\tnot a number\n"))
        cur.execute("SELECT count(*) FROM c")
        assert cur.fetchone()[0] == 5000

        cur.execute("SET application_name = 'renamed'")
        assert conn.get_parameter_status("application_name") == "renamed"
        cur.execute("SET DateStyle = 'German'")
        assert conn.get_parameter_status("DateStyle") == "German, DMY"

        with contextlib.closing(sq.proxy_connect()) as other, other.cursor() as ocur:
            cur.execute("LISTEN ch")
            ocur.execute("NOTIFY ch, 'hello'")
            deadline = time.monotonic() + 10
            while not conn.notifies and time.monotonic() < deadline:
                conn.poll()
                time.sleep(0.02)
            assert [n.payload for n in conn.notifies] == ["hello"]
            assert [n.channel for n in conn.notifies] == ["ch"]


# -- the protocol, byte for byte


def extended_script():
    """(bytes to send, how many ReadyForQuery to read, or a message type to read up to)."""
    return [
        # named statement, binary parameter, mixed result formats, row-limited Execute
        (pgproto.parse("s1", "SELECT g, g::text || 'x' AS t, g % 2 = 0 AS even "
                             "FROM generate_series(1, $1::int) g", [23]) +
         pgproto.describe("S", "s1") +
         pgproto.bind("p1", "s1", [struct.pack("!i", 7)], [1], [1, 0, 1]) +
         pgproto.execute("p1", 3) + pgproto.execute("p1", 3) + pgproto.execute("p1", 0) +
         pgproto.SYNC, 1),
        # unnamed statement and portal, text parameter, Describe portal, Close
        (pgproto.parse("", "SELECT $1::text AS v, $2::int8 AS n", []) +
         pgproto.bind("", "", [b"hello", None]) + pgproto.describe("P", "") +
         pgproto.execute("", 0) + pgproto.close("S", "s1") + pgproto.close("P", "nope") +
         pgproto.SYNC, 1),
        # Flush delivers ParseComplete without a Sync
        (pgproto.parse("s2", "SELECT 1") + pgproto.FLUSH, "1"),
        (pgproto.SYNC, 1),
        # an error skips to Sync
        (pgproto.parse("", "SELEC 1") + pgproto.bind("", "") + pgproto.execute("") +
         pgproto.SYNC, 1),
        (pgproto.bind("p2", "s2") + pgproto.execute("p2", 0) + pgproto.SYNC, 1),
        # several statements in one Query, a GUC report, notices, empty query
        (pgproto.query("SELECT 1 AS one; SELECT 'two' AS two; SET application_name = 'abc'; "
                       "SHOW application_name"), 1),
        (pgproto.query("DO $$BEGIN RAISE NOTICE 'note %', 1; END$$"), 1),
        (pgproto.query(""), 1),
        # transaction states: T, E, aborted commands, back to I
        (pgproto.query("BEGIN"), 1),
        (pgproto.query("SELECT 1/0"), 1),
        (pgproto.query("SELECT 1"), 1),
        (pgproto.query("COMMIT"), 1),
        # COPY both ways
        (pgproto.query("COPY (SELECT g, 'r' || g FROM generate_series(1, 5) g) TO STDOUT"),
         1),
        (pgproto.query("BEGIN"), 1),
        (pgproto.query("COPY rawcopy FROM STDIN"), "G"),
        (pgproto.copy_data(b"1\tone\n") + pgproto.copy_data(b"2\ttwo\n") + pgproto.COPY_DONE,
         1),
        (pgproto.query("SELECT * FROM rawcopy ORDER BY a"), 1),
        (pgproto.query("ROLLBACK"), 1),
        (pgproto.query("COPY rawcopy FROM STDIN"), "G"),
        (pgproto.Raw.msg("f", b"client gave up\0"), 1),
    ]


def run_script(r):
    out = []
    for data, until in extended_script():
        r.send_raw(data)
        if isinstance(until, int):
            out.extend(r.recv_until("Z", until))
        else:
            out.extend(r.recv_until(until))
    return out


def test_extended_protocol_is_relayed_byte_for_byte(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    db.execute("CREATE TABLE rawcopy (a int, b text)")
    through = raw_proxy(sq)
    direct = raw_direct(db)
    try:
        got = run_script(through)
        want = run_script(direct)
    finally:
        through.close()
        direct.close()
    assert got == want
    kinds = "".join(k for k, _ in got)
    assert "s" in kinds  # PortalSuspended
    statuses = [body for k, body in got if k == "Z"]
    assert statuses[:12] == [b"I"] * 8 + [b"T", b"E", b"E", b"I"]


def test_startup_variants(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    for code in (pgproto.SSL_REQUEST, pgproto.GSSENC_REQUEST):
        r = Raw(port=sq.proxy_port)
        r.send_request(code)
        assert r.recv_byte() == b"N"
        r.login(db.user, db.name, db.password)
        r.send_raw(pgproto.query("SELECT 1"))
        assert r.recv_until("Z")[-1] == ("Z", b"I")
        r.close()

    r = Raw(port=sq.proxy_port)
    r.send_startup({"user": db.user, "database": db.name}, version=4 << 16)
    kind, body = r.recv()
    assert kind == "E"
    fields = pgproto.error_fields(body)
    assert fields["C"] == "0A000"
    assert fields["M"] == "unsupported frontend protocol 4.0: server supports 3.0 to 3.0"
    assert r.at_eof()
    r.close()

    # a newer 3.x minor with a protocol option: NegotiateProtocolVersion, then a login
    r = Raw(port=sq.proxy_port)
    r.send_startup({"user": db.user, "database": db.name, "_pq_.something": "on"},
                   version=(3 << 16) | 2)
    kind, body = r.recv()
    assert kind == "v"
    assert body == struct.pack("!II", 3 << 16, 1) + b"_pq_.something\0"
    kind, body = r.recv()
    assert (kind, body) == ("R", struct.pack("!I", 3))
    r.close()

    r = Raw(port=sq.proxy_port)
    r.send_startup({"user": db.user, "database": db.name, "replication": "database"})
    kind, body = r.recv()
    assert kind == "E" and pgproto.error_fields(body)["C"] == "0A000"
    r.close()

    r = Raw(port=sq.proxy_port)
    r.send_raw(struct.pack("!I", 3) + b"junk")
    assert r.at_eof() and r.buf == b""
    r.close()


def test_malformed_messages_close_only_that_client(db, sqledge_factory):
    sq = start(sqledge_factory, db, max_message_size=20000)
    bystander = sq.proxy_connect()
    bad_messages = [
        (b"Q" + struct.pack("!I", 3), "08P01", "invalid message length"),
        (Raw.msg("y", b"whatever"), "08P01", "invalid frontend message"),
        # a Bind announcing 5 parameters but carrying none
        (Raw.msg("B", b"\0\0" + struct.pack("!HH", 0, 5)), "08P01",
         "invalid frontend message"),
        (b"Q" + struct.pack("!I", 30000) + b"SELECT", "54000", "max_message_size"),
    ]
    for data, code, text in bad_messages:
        r = raw_proxy(sq)
        r.send_raw(data)
        kind, body = r.recv()
        fields = pgproto.error_fields(body)
        assert kind == "E" and fields["S"] == "FATAL", fields
        assert fields["C"] == code and text in fields["M"], fields
        assert r.at_eof()
        r.close()
        with bystander.cursor() as cur:
            cur.execute("SELECT 'still here'")
            assert cur.fetchone() == ("still here",)
    # a message just under the limit goes through
    with bystander.cursor() as cur:
        cur.execute("SELECT length(%s)", ("x" * 19000,))
        assert cur.fetchone() == (19000,)
    # a password message of the wrong type before login
    r = Raw(port=sq.proxy_port)
    r.send_startup({"user": db.user, "database": db.name})
    assert r.recv() == ("R", struct.pack("!I", 3))
    r.send_raw(pgproto.query("SELECT 1"))
    kind, body = r.recv()
    assert kind == "E" and "expected password response" in pgproto.error_fields(body)["M"]
    r.close()
    bystander.close()
    assert sq.running()


# -- authentication


def test_login_errors_are_the_upstreams_and_failures_slow_down(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    assert 'password authentication failed for user "%s"' % db.user in proxy_error(
        sq, password="wrong")
    assert 'password authentication failed for user "nobody"' in proxy_error(
        sq, user="nobody")
    assert 'database "no_such_db" does not exist' in proxy_error(sq, dbname="no_such_db")
    # libpq never sends an empty password; a raw client can, and PostgreSQL refuses it
    r = Raw(port=sq.proxy_port)
    r.send_startup({"user": db.user, "database": db.name})
    assert r.recv() == ("R", struct.pack("!I", 3))
    r.send("p", b"\0")
    kind, body = r.recv()
    assert kind == "E" and pgproto.error_fields(body)["C"] == "28P01"
    r.close()
    # the 4th failure in a row from this address waits (250 ms << 2) before it answers
    t0 = time.monotonic()
    proxy_error(sq, password="wrong")
    assert time.monotonic() - t0 >= 0.9
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == (db.user,)
    # a success forgets the failures
    t0 = time.monotonic()
    proxy_error(sq, password="wrong")
    assert time.monotonic() - t0 < 0.9
    assert sum(w["logins_failed"] for w in sq.proxy_workers()["workers"]) == 6


def test_role_privileges_apply_upstream(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    db.execute("CREATE TABLE secret (x int)")
    db.execute("CREATE TABLE open_t (x int)")
    role = db.create_role("proxy_reader_" + harness.unique_suffix(), password="rpw")
    db.execute('GRANT SELECT ON open_t TO "%s"' % role)
    with contextlib.closing(sq.proxy_connect(user=role, password="rpw")) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM open_t")
            assert cur.fetchone() == (0,)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT * FROM secret")
            cur.execute("SELECT current_user, session_user")
            assert cur.fetchone() == (role, role)


def test_trust_mode_and_unverifiable_password(db, sqledge_factory):
    sock_dir = db.cluster.host  # the cluster trusts logins over its Unix socket
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_ADDRESS": sock_dir,
                                  "SQLEDGE_PROXY_AUTH": "trust"}).start()
    sq.wait_caught_up()
    with contextlib.closing(sq.proxy_connect(password="anything")) as conn, \
            conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    sq.stop()
    # password mode against an upstream that does not ask for one: refused
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_ADDRESS": sock_dir}).start()
    sq.wait_caught_up()
    assert "cannot verify the password" in proxy_error(sq, password="anything")


# -- cancel, limits, failures


def test_cancel_reaches_the_query_on_any_worker(db, sqledge_factory):
    sq = start(sqledge_factory, db, workers=3)
    for _ in range(6):
        with contextlib.closing(sq.proxy_connect()) as conn:
            errors = []

            def run():
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT pg_sleep(60)")
                except psycopg2.Error as exc:
                    errors.append(exc)

            t0 = time.monotonic()
            th = threading.Thread(target=run)
            th.start()
            harness.wait_for(lambda: db.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' "
                "AND state = 'active'") == 1, 20, "the query to run upstream")
            conn.cancel()
            th.join(20)
            assert not th.is_alive()
            assert len(errors) == 1 and isinstance(errors[0], psycopg2.errors.QueryCanceled)
            assert time.monotonic() - t0 < 20
            with conn.cursor() as cur:  # the session goes on
                cur.execute("SELECT 2")
                assert cur.fetchone() == (2,)


def test_a_cancel_with_nothing_running_touches_no_later_statement(db, sqledge_factory):
    """The cancel connection closes once the upstream has the cancel, as PostgreSQL's does:
    libpq waits for that, so the statement sent next is never the one canceled (on any
    worker: the cancel may have to go to another one)."""
    sq = start(sqledge_factory, db, workers=3)
    conns = [sq.proxy_connect() for _ in range(3)]
    try:
        for _ in range(20):
            for conn in conns:
                conn.cancel()
                with conn.cursor() as cur:
                    cur.execute("SELECT 3")
                    assert cur.fetchone() == (3,)
    finally:
        for conn in conns:
            conn.close()


def test_max_clients_and_upstream_queue(db, sqledge_factory):
    sq = start(sqledge_factory, db, workers=2, max_clients=3, max_upstream_connections=2,
               queue_timeout=2)
    a = sq.proxy_connect()
    b = sq.proxy_connect()
    # the third client waits for an upstream connection...
    result = {}

    def third():
        t0 = time.monotonic()
        try:
            result["conn"] = sq.proxy_connect()
        except psycopg2.Error as exc:
            result["error"] = str(exc)
        result["waited"] = time.monotonic() - t0

    th = threading.Thread(target=third)
    th.start()
    harness.wait_for(lambda: sq.proxy_workers()["clients"] == 3, 10, "3 clients")
    # ...while a fourth is over max_clients
    assert "sorry, too many clients already" in proxy_error(sq)
    a.close()
    th.join(10)
    assert "conn" in result, result
    with result["conn"].cursor() as cur:
        cur.execute("SELECT 1")
    # nothing frees up now: the queue gives up after queue_timeout
    th = threading.Thread(target=third)
    result.clear()
    th.start()
    th.join(15)
    assert "no upstream connection became free within 2 s" in result["error"], result
    assert result["waited"] >= 1.9
    b.close()
    result.clear()
    third()
    assert "conn" in result, result
    result["conn"].close()


def test_terminate_and_eof_release_the_upstream_session(db, sqledge_factory):
    sq = start(sqledge_factory, db)

    def sessions():
        return db.scalar("SELECT count(*) FROM pg_stat_activity "
                         "WHERE application_name = 'probe_app'")

    conns = [sq.proxy_connect(application_name="probe_app") for _ in range(3)]
    assert sessions() == 3
    conns[0].close()  # Terminate
    r = raw_proxy(sq)
    r.send_raw(pgproto.query("SET application_name = 'probe_app'"))
    r.recv_until("Z")
    assert sessions() == 3
    r.close()  # plain EOF
    with conns[1].cursor() as cur:  # EOF in the middle of a transaction
        cur.execute("BEGIN")
    conns[1].close()
    harness.wait_for(lambda: sessions() == 1, 20, "the upstream sessions to end")
    conns[2].close()
    harness.wait_for(lambda: sessions() == 0 and sq.proxy_workers()["clients"] == 0, 20,
                     "every session to end")
    assert sq.proxy_workers()["upstream_connections"] == 0


def test_dead_worker_is_replaced_and_others_keep_serving(db, sqledge_factory):
    sq = start(sqledge_factory, db, workers=2)
    conns = []
    for _ in range(60):
        conns.append(sq.proxy_connect())
        workers = sq.proxy_workers()["workers"]
        if all(w["clients"] > 0 for w in workers):
            break
    workers = sq.proxy_workers()["workers"]
    assert all(w["clients"] > 0 for w in workers), workers
    survivors_expected = workers[1]["clients"]
    os.kill(workers[0]["pid"], signal.SIGKILL)
    survivors = 0
    for conn in conns:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            survivors += 1
        except psycopg2.OperationalError:
            pass
        conn.close()
    assert survivors == survivors_expected
    harness.wait_for(lambda: [p for p in sq.status()["processes"]
                              if p["role"] == "proxy" and p["index"] == 0
                              and p["restarts"] == 1 and p["pid"] > 0], 30,
                     "proxy worker 0 to be restarted")
    for _ in range(4):
        with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")


def test_unix_socket_and_status_counters(db, sqledge_factory, tmp_path):
    sock_dir = str(tmp_path)
    os.chmod(sock_dir, 0o755)
    sq = start(sqledge_factory, db, unix_socket_dir=sock_dir)
    path = os.path.join(sock_dir, ".s.PGSQL.%d" % sq.proxy_port)
    assert os.path.exists(path)
    out = psql(db, sq.proxy_port, "-c", "SELECT 'via unix'", host=sock_dir).stdout
    assert "via unix" in out
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        for _ in range(5):
            cur.execute("SELECT version()")  # the upstream's own: never local
        st = sq.proxy_workers()
        assert st["clients"] == 1
        assert st["workers"][0]["clients"] == 1
        assert st["workers"][0]["queries_forwarded"] >= 5
    text = subprocess.run([harness.sqledgectl_binary(), "status"], cwd=sq.workdir,
                          env=sq.process_env({"SQLEDGE_CONTROL_SOCKET": sq.socket_path}),
                          stdout=subprocess.PIPE, text=True, timeout=10).stdout
    assert "queries forwarded" in text and "proxy0: pid" in text, text
    sq.stop()
    assert not os.path.exists(path)


# -- on a cluster of their own: many sessions, an upstream backend killed


@pytest.fixture
def big_cluster():
    cluster = harness.PgCluster({"max_connections": "260"}, name="pgbig")
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.destroy()


def test_200_concurrent_clients(big_cluster, sqledge_factory):
    db = harness.Database(big_cluster, "many")
    big_cluster.create_database(db.name)
    sq = start(sqledge_factory, db, workers=2)
    n = 200
    barrier = threading.Barrier(n + 1, timeout=120)
    errors, results = [], []

    def client(i):
        try:
            conn = sq.proxy_connect()
            barrier.wait()  # everyone connected at once
            with conn.cursor() as cur:
                cur.execute("SELECT %s::int * 2, pg_backend_pid()", (i,))
                results.append(cur.fetchone())
            barrier.wait()
            conn.close()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
            barrier.abort()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    barrier.wait()
    st = sq.proxy_workers()
    assert st["clients"] == n and st["upstream_connections"] == n, st
    barrier.wait()
    for th in threads:
        th.join(60)
    assert not errors, errors[:5]
    assert sorted(r[0] for r in results) == [2 * i for i in range(n)]
    assert len({r[1] for r in results}) == n  # one upstream session each
    harness.wait_for(lambda: sq.proxy_workers()["clients"] == 0, 30, "clients to leave")


def test_upstream_link_lost_inside_a_transaction(big_cluster, sqledge_factory):
    db = harness.Database(big_cluster, "linklost")
    big_cluster.create_database(db.name)
    db.execute("CREATE TABLE t (x int PRIMARY KEY)")
    sq = start(sqledge_factory, db)
    r = raw_proxy(sq)
    for stmt in ("BEGIN", "INSERT INTO t VALUES (1)", "SELECT pg_backend_pid()"):
        r.send_raw(pgproto.query(stmt))
        reply = r.recv_until("Z")
    assert reply[-1] == ("Z", b"T")
    backend = int(reply[1][1][6:].decode())  # the DataRow's only value
    # a backend that vanishes without a word (the postmaster then restarts the others)
    os.kill(backend, signal.SIGKILL)
    r.send_raw(pgproto.query("INSERT INTO t VALUES (2)"))
    kind, body = r.recv()
    fields = pgproto.error_fields(body)
    assert kind == "E" and fields["S"] == "FATAL" and fields["C"] == "08006", fields
    assert fields["M"] == "connection to the upstream was lost"
    assert "rolled back" in fields["H"]
    assert r.at_eof()
    r.close()
    harness.wait_for(lambda: _can_query(db), 60, "the upstream to recover")
    assert db.scalar("SELECT count(*) FROM t") == 0
    # libpq clients see a connection-class failure of the statement
    conn = sq.proxy_connect(autocommit=False)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO t VALUES (3)")
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    os.kill(backend, signal.SIGKILL)
    with pytest.raises(psycopg2.OperationalError):
        with conn.cursor() as cur:
            cur.execute("INSERT INTO t VALUES (4)")
    conn.close()
    harness.wait_for(lambda: _can_query(db), 60, "the upstream to recover")
    assert db.scalar("SELECT count(*) FROM t") == 0
    with contextlib.closing(sq.proxy_connect()) as again, again.cursor() as cur:
        cur.execute("SELECT count(*) FROM t")
        assert cur.fetchone() == (0,)


def _can_query(db):
    try:
        return db.scalar("SELECT 1") == 1
    except psycopg2.Error:
        return False


# -- streaming and TLS to the upstream


def _rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_big_result_streams_without_being_buffered(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    worker = [p for p in sq.status()["processes"] if p["role"] == "proxy"][0]["pid"]
    r = raw_proxy(sq)
    before = _rss_kb(worker)
    # 200 MB of rows that the client does not read for now
    r.send_raw(pgproto.query("SELECT g, repeat('x', 2000) FROM generate_series(1, 100000) g"))
    harness.wait_for(lambda: db.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'ClientWrite'") >= 1, 30,
        "the upstream to block on a full socket")
    assert _rss_kb(worker) - before < 16 * 1024  # the proxy holds at most a few buffers
    rows = 0
    total = 0
    while True:
        kind, body = r.recv()
        if kind == "D":
            rows += 1
            total += len(body)
        elif kind == "Z":
            break
    assert rows == 100000 and total > 200 * 1000 * 1000
    r.close()


@pytest.fixture
def tls_cluster():
    cluster = harness.PgCluster(name="pgtls")
    cert = os.path.join(cluster.base, "server.crt")
    key = os.path.join(cluster.base, "server.key")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(key, 0o600)
        if harness.IS_ROOT:
            for path in (cert, key):
                os.chown(path, *harness._postgres_ids())
        cluster.settings.update(ssl="on", ssl_cert_file="'%s'" % cert,
                                ssl_key_file="'%s'" % key)
        cluster.init()
        with open(os.path.join(cluster.datadir, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "hostssl all all 127.0.0.1/32 scram-sha-256\n"
                    "hostssl replication all 127.0.0.1/32 scram-sha-256\n")
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def test_sessions_relay_over_tls_to_the_upstream(tls_cluster, sqledge_factory):
    db = harness.Database(tls_cluster, "overtls")
    tls_cluster.create_database(db.name)
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_SSLMODE": "require"}).start()
    sq.wait_caught_up()
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cur.fetchone() == (True,)
        cur.execute("INSERT INTO t SELECT g, repeat('v', 500) FROM generate_series(1, 20000) g")
        cur.execute("SELECT id, v FROM t ORDER BY id")
        rows = cur.fetchall()
        assert len(rows) == 20000 and rows[-1] == (20000, "v" * 500)
        out = io.StringIO()
        cur.copy_expert("COPY t TO STDOUT", out)
        assert out.getvalue().count("\n") == 20000
        conn.cancel()  # nothing running: harmless
        cur.execute("SELECT 1")


def _outbound_address():
    """This host's address on its default route: a non-loopback address of our own."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as s:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
        return s.getsockname()[0]


def test_passwords_in_clear_only_from_loopback(db, sqledge_factory):
    addr = _outbound_address()
    assert not addr.startswith("127."), "no non-loopback address on this host: %s" % addr
    sq = start(sqledge_factory, db, address="127.0.0.1," + addr)
    r = Raw(host=addr, port=sq.proxy_port)
    r.send_startup({"user": db.user, "database": db.name})
    kind, body = r.recv()
    fields = pgproto.error_fields(body)
    assert kind == "E" and fields["C"] == "28000", fields
    assert "sqledge accepts passwords from %s" % addr in fields["M"], fields
    assert "only over TLS" in fields["M"], fields
    r.close()
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")


def test_upstream_named_by_host_name(db, sqledge_factory):
    # "localhost" is looked up without blocking the loop; libpq then tries each address
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_ADDRESS": "localhost",
                                  "SQLEDGE_PROXY_WORKERS": "1"}).start()
    sq.wait_caught_up()
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT inet_server_addr()::text")
        assert cur.fetchone()[0].startswith("127.0.0.1")


def test_queries_sent_before_terminate_or_eof_still_run(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    db.execute("CREATE TABLE last_words (x int PRIMARY KEY)")
    # Query then Terminate in one write, and Query then end of stream without Terminate
    for i, tail in ((1, Raw.msg("X")), (2, b"")):
        r = raw_proxy(sq)
        r.send_raw(pgproto.query("INSERT INTO last_words VALUES (%d)" % i) + tail)
        r.sock.shutdown(socket.SHUT_WR)
        r.at_eof()
        r.close()
        harness.wait_for(lambda: db.scalar("SELECT count(*) FROM last_words") == i, 20,
                         "the insert sent before the client left")


def test_pipelined_flood_is_relayed_whole(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    r = raw_proxy(sq)
    n = 20000
    payload = pgproto.query("SELECT '%s'" % ("x" * 800)) * n
    sender = threading.Thread(target=r.sock.sendall, args=(payload,))
    sender.start()
    ready = sum(1 for kind, _ in r.recv_until("Z", n) if kind == "Z")
    sender.join(30)
    assert ready == n
    r.send_raw(pgproto.query("SELECT 1"))
    assert r.recv_until("Z")[-1] == ("Z", b"I")
    r.close()


def test_client_waiting_after_flush_learns_of_a_lost_upstream(big_cluster, sqledge_factory):
    db = harness.Database(big_cluster, "flushlost")
    big_cluster.create_database(db.name)
    sq = start(sqledge_factory, db)
    r = raw_proxy(sq)
    r.send_raw(pgproto.query("SELECT pg_backend_pid()"))
    backend = int(r.recv_until("Z")[1][1][6:].decode())
    r.send_raw(pgproto.parse("", "SELECT pg_sleep(60)") + pgproto.bind("", "") +
               pgproto.FLUSH)
    assert [r.recv()[0], r.recv()[0]] == ["1", "2"]
    r.send_raw(pgproto.execute("") + pgproto.FLUSH)  # no Sync: nothing is owed a ReadyForQuery
    harness.wait_for(lambda: big_cluster.query(
        "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'",
        dbname=db.name)[0][0] == 1, 20, "the query to run")
    os.kill(backend, signal.SIGKILL)
    kind, body = r.recv()
    fields = pgproto.error_fields(body)
    assert kind == "E" and fields["C"] == "08006" and fields["S"] == "FATAL", fields
    assert r.at_eof()
    r.close()
    harness.wait_for(lambda: _can_query(db), 60, "the upstream to recover")


def test_large_objects_use_the_function_call_path(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    conn = sq.proxy_connect(autocommit=False)
    with contextlib.closing(conn):
        lob = conn.lobject(0, "wb")  # lo_creat, lo_open, lowrite: FunctionCall messages
        lob.write(b"\x00edge\xff" * 1000)
        oid = lob.oid
        lob.close()
        conn.commit()
        lob = conn.lobject(oid, "rb")
        assert lob.read() == b"\x00edge\xff" * 1000
        lob.unlink()
        conn.commit()
    assert sq.proxy_workers()["queries_forwarded"] > 4
