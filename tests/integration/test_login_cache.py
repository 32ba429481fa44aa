# SPDX-License-Identifier: MIT
"""[proxy] login_cache_ttl: a login the upstream accepted is remembered (as a salted verifier)
by every proxy worker, so that the same user logs in again without the upstream: reconnects
open no upstream connection and read the copy at once, and a known user gets in while the
upstream is stopped. A changed password is caught at the session's first statement upstream;
an entry lasts login_cache_ttl from the login the upstream accepted."""

import contextlib
import struct
import threading
import time

import psycopg2
import pytest

import harness
import pgproto

WORKERS = 2


def start(sqledge_factory, db, ttl, **env):
    settings = {"SQLEDGE_PROXY_WORKERS": str(WORKERS), "SQLEDGE_PROXY_LOGIN_CACHE_TTL": str(ttl),
                "SQLEDGE_UPSTREAM_CONNECT_TIMEOUT": "2"}
    settings.update(env)
    sq = sqledge_factory(db, env=settings).start()
    sq.wait_caught_up()
    return sq


def workers(sq):
    return sq.proxy_workers()["workers"]


def total(sq, key):
    return sum(w[key] for w in workers(sq))


def upstream_sessions(db, role):
    return db.query("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,))[0][0]


def read(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT id, body FROM notes ORDER BY id")
        return cur.fetchall()


def refused(sq, **kw):
    with pytest.raises(psycopg2.OperationalError) as err:
        sq.proxy_connect(**kw)
    return err.value


@pytest.fixture
def app(db):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one'), (2, 'two')")
    role = db.create_role("app_" + harness.unique_suffix(), password="apppw")
    db.execute('GRANT SELECT, INSERT ON notes TO "%s"' % role)
    return role


def remembered(sq, app):
    """Logs app in through the upstream and reads once (the session check), then waits until
    every worker holds the login with the check's answer."""
    with contextlib.closing(sq.proxy_connect(user=app, password="apppw")) as conn:
        assert read(conn) == [(1, "one"), (2, "two")]
    harness.wait_for(lambda: all(w["login_cache_checks"] == 1 for w in workers(sq)), 30,
                     "every worker to hold the login", alive=sq)


def test_reconnects_need_no_upstream_and_outages_let_known_users_in(db, sqledge_factory, app):
    sq = start(sqledge_factory, db, 300)
    remembered(sq, app)
    expected = db.query("SELECT id, body FROM notes ORDER BY id")

    # reconnects: in, and read from the copy, with no upstream session for the role
    cached, local = total(sq, "logins_cached"), sq.proxy_workers()["queries_local"]
    conns = [sq.proxy_connect(user=app, password="apppw") for _ in range(4 * WORKERS)]
    try:
        for conn in conns:
            assert read(conn) == expected
        assert upstream_sessions(db, app) == 0
        assert total(sq, "logins_cached") == cached + len(conns)
        assert sq.proxy_workers()["queries_local"] == local + len(conns)
        # a write connects the session to the upstream as the user; it reads its write
        with conns[0].cursor() as cur:
            cur.execute("INSERT INTO notes VALUES (3, 'three')")
        assert upstream_sessions(db, app) == 1
        assert read(conns[0]) == expected + [(3, "three")]
        # a new session from the cache, on either worker, reads after that write too
        for _ in range(2 * WORKERS):
            with contextlib.closing(sq.proxy_connect(user=app, password="apppw")) as conn:
                assert read(conn) == expected + [(3, "three")]
    finally:
        for conn in conns:
            conn.close()
    # a wrong password is the upstream's to judge
    err = refused(sq, user=app, password="wrong")
    assert 'password authentication failed for user "%s"' % app in str(err), err

    harness.wait_for(lambda: all(w["login_cache_checks"] == 1 for w in workers(sq)), 30,
                     "the login to stay remembered", alive=sq)
    db.cluster.stop("fast")
    try:
        conns = [sq.proxy_connect(user=app, password="apppw") for _ in range(2 * WORKERS)]
        try:
            for conn in conns:
                rows = read(conn)
                assert rows[:2] == expected, rows
                with pytest.raises(psycopg2.OperationalError) as err:
                    with conn.cursor() as cur:
                        cur.execute("INSERT INTO notes VALUES (9, 'lost')")
                assert err.value.pgcode == "08006", err.value
                assert read(conn) == rows  # the session goes on
            # nobody else gets in: not a wrong password, not an unknown user
            for user, password in ((app, "wrong"), ("nobody", "apppw")):
                err = refused(sq, user=user, password=password)
                assert "could not connect to the upstream" in str(err), err
        finally:
            db.cluster.start()

        def writes_again():
            try:
                with conns[0].cursor() as cur:
                    cur.execute("INSERT INTO notes VALUES (4, 'back')")
                return True
            except psycopg2.OperationalError as exc:
                assert exc.pgcode == "08006" and conns[0].closed == 0, exc
                return False

        harness.wait_for(writes_again, 30, "a write once the upstream is back", alive=sq)
        assert db.query("SELECT body FROM notes WHERE id = 4") == [("back",)]
    finally:
        for conn in conns:
            conn.close()


def raw_login(sq, app, password):
    raw = pgproto.Raw(port=sq.proxy_port)
    return raw, [m for m in raw.login(app, sq.db.name, password) if m[0] != "K"]


def test_a_changed_password_is_caught_upstream(db, sqledge_factory, app):
    sq = start(sqledge_factory, db, 300)
    # the login through the upstream, and its session check
    raw, first = raw_login(sq, app, "apppw")
    raw.send("Q", pgproto.cstr("SELECT id FROM notes"))
    assert [m[0] for m in raw.recv_until("Z")] == ["T", "D", "D", "C", "Z"]
    raw.close()
    harness.wait_for(lambda: all(w["login_cache_checks"] == 1 for w in workers(sq)), 30,
                     "every worker to hold the login", alive=sq)
    # a client that pipelines its first statements behind the password gets their answers
    # after its login, from the copy
    local = sq.proxy_workers()["queries_local"]
    raw = pgproto.Raw(port=sq.proxy_port)
    raw.send_startup({"user": app, "database": db.name})
    assert raw.recv() == ("R", struct.pack("!I", 3))
    raw.send_raw(raw.msg("p", pgproto.cstr("apppw")) +
                 raw.msg("Q", pgproto.cstr("SELECT id FROM notes ORDER BY id")) +
                 raw.msg("Q", pgproto.cstr("SELECT count(*) FROM notes")))
    msgs = [m for m in raw.recv_until("Z", 3) if m[0] != "K"]
    assert msgs[:len(first)] == first
    assert [m[0] for m in msgs[len(first):]] == ["T", "D", "D", "C", "Z", "T", "D", "C", "Z"]
    assert msgs[len(first) + 1][1] == b"\0\1\0\0\0\0011"
    assert msgs[len(first) + 6][1] == b"\0\1\0\0\0\0012"
    raw.close()
    assert total(sq, "logins_cached") == 1
    assert sq.proxy_workers()["queries_local"] == local + 2
    db.execute("ALTER ROLE \"%s\" PASSWORD 'newpw'" % app)
    # within the ttl the old password still opens a session from the cache (the documented
    # revocation delay), which begins as the upstream's did; its first statement upstream
    # meets the new password and ends the session with the upstream's error
    cached = total(sq, "logins_cached")
    other, _ = raw_login(sq, app, "apppw")
    raw, again = raw_login(sq, app, "apppw")
    assert total(sq, "logins_cached") == cached + 2
    assert again == first
    raw.send("Q", pgproto.cstr("INSERT INTO notes VALUES (5, 'five')"))
    kind, body = raw.recv()
    assert kind == "E", (kind, body)
    fields = pgproto.error_fields(body)
    assert (fields["S"], fields["C"]) == ("FATAL", "28P01"), fields
    assert fields["M"] == 'password authentication failed for user "%s"' % app, fields
    assert raw.at_eof()
    raw.close()
    # a session begun from the forgotten login reads the copy no more: its next read asks
    # the upstream, which refuses it (on the other worker once the removal is there)
    def read_or_refused():
        other.send("Q", pgproto.cstr("SELECT id FROM notes"))
        kind, body = other.recv()
        if kind == "E":
            return pgproto.error_fields(body)
        other.recv_until("Z")  # still served from the copy: the removal is on its way
        return None

    fields = harness.wait_for(read_or_refused, 30, "the other session to be refused",
                              alive=sq)
    assert (fields["S"], fields["C"]) == ("FATAL", "28P01"), fields
    other.close()
    # every worker forgets the login
    harness.wait_for(lambda: all(w["login_cache_entries"] == 0 for w in workers(sq)), 30,
                     "the login to be forgotten", alive=sq)
    for _ in range(2 * WORKERS):
        raw = pgproto.Raw(port=sq.proxy_port)
        with pytest.raises(pgproto.ProtocolError) as err:
            raw.login(app, sq.db.name, "apppw")
        assert "28P01" in str(err.value), err.value
        raw.close()
    # the new one logs in upstream and is remembered in place of the old
    raw, _ = raw_login(sq, app, "newpw")
    raw.close()
    harness.wait_for(lambda: all(w["login_cache_entries"] == 1 for w in workers(sq)), 30,
                     "the new login to be remembered", alive=sq)


def test_a_write_is_read_by_the_next_session_of_the_login(db, sqledge_factory, app):
    # connection per request: write, leave; the next session (from the cache, on any
    # worker) reads the write
    sq = start(sqledge_factory, db, 300)
    remembered(sq, app)
    cached = total(sq, "logins_cached")
    for i in range(100, 140):
        with contextlib.closing(sq.proxy_connect(user=app, password="apppw")) as conn:
            read(conn)
            with conn.cursor() as cur:
                cur.execute("INSERT INTO notes VALUES (%d, 'n%d')" % (i, i))
        with contextlib.closing(sq.proxy_connect(user=app, password="apppw")) as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT body FROM notes WHERE id = %d" % i)
                assert cur.fetchall() == [("n%d" % i,)], i
    assert total(sq, "logins_cached") == cached + 80


def test_a_cached_session_queues_for_an_upstream_connection(db, sqledge_factory, app):
    sq = start(sqledge_factory, db, 300, SQLEDGE_PROXY_MAX_UPSTREAM_CONNECTIONS="1")
    remembered(sq, app)
    before = total(sq, "logins_cached")
    holder = sq.proxy_connect(user=app, password="apppw")
    cached = sq.proxy_connect(user=app, password="apppw")
    try:
        assert total(sq, "logins_cached") == before + 2
        with holder.cursor() as cur:  # takes the only upstream connection
            cur.execute("INSERT INTO notes VALUES (6, 'six')")
        assert upstream_sessions(db, app) == 1
        done = []

        def write():
            with cached.cursor() as cur:
                cur.execute("INSERT INTO notes VALUES (7, 'seven')")
            done.append(True)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(1)
        assert writer.is_alive() and not done  # queued, not refused
        holder.close()
        writer.join(30)
        assert done == [True]
        assert db.query("SELECT body FROM notes WHERE id = 7") == [("seven",)]
    finally:
        holder.close()
        cached.close()


def test_entries_last_the_ttl_from_the_upstream_login(db, sqledge_factory, app):
    ttl = 3
    sq = start(sqledge_factory, db, ttl)
    before = time.monotonic()
    remembered(sq, app)
    after = time.monotonic()

    def from_upstream():
        cached = total(sq, "logins_cached")
        with contextlib.closing(sq.proxy_connect(user=app, password="apppw")) as conn:
            read(conn)
            return total(sq, "logins_cached") == cached and time.monotonic()

    seen = harness.wait_for(from_upstream, ttl + 30, "a login after the ttl to ask the upstream",
                            interval=0.1, alive=sq)
    # the entry lasted the ttl from the login the upstream accepted, and not much longer
    assert seen - before >= ttl
    assert seen - after < ttl + 5


def test_needs_serve_stale(db, sqledge_factory):
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_LOGIN_CACHE_TTL": "60",
                                  "SQLEDGE_PROXY_ON_UPSTREAM_DOWN": "error"})
    sq.start()
    assert sq.proc.wait(timeout=30) != 0
    assert "login_cache_ttl in section [proxy] needs on_upstream_down = serve_stale" in \
        sq.log(), sq.log()
