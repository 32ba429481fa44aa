# SPDX-License-Identifier: MIT
"""The upstream goes away: with on_upstream_down = serve_stale (the default) open sessions keep
reading the copy, statements for the upstream fail at once with a connection-class SQLSTATE and
the session stays usable, and once the upstream is back they work again without a new client
connection. With on_upstream_down = error, reads are refused."""

import contextlib
import time

import psycopg2
import psycopg2.errors
import pytest

import harness
import relay as relay_mod


def counters(sq):
    st = sq.proxy_workers()
    return st["queries_local"], st["queries_forwarded"]


def start(sqledge_factory, db, upstream_port=None, **env):
    settings = {"SQLEDGE_PROXY_LOCAL_READS": "true", "SQLEDGE_PROXY_WORKERS": "2"}
    if upstream_port:
        settings["SQLEDGE_UPSTREAM_PORT"] = upstream_port
    settings.update(env)
    sq = sqledge_factory(db, env=settings).start()
    sq.wait_caught_up()
    return sq


def read(cur, id_):
    cur.execute("SELECT body FROM notes WHERE id = %d" % id_)
    return cur.fetchall()


def test_sessions_read_the_copy_while_the_upstream_is_stopped(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    sq = start(sqledge_factory, db, SQLEDGE_UPSTREAM_CONNECT_TIMEOUT="1")
    conns = [sq.proxy_connect() for _ in range(4)]  # over both workers
    stateful = [sq.proxy_connect(), sq.proxy_connect()]
    try:
        for conn in conns:
            with conn.cursor() as cur:
                assert read(cur, 1) == [("one",)]
        # state a new connection would not have
        for conn, sql in zip(stateful, ("SET search_path = public",
                                        "SELECT set_config('app.tenant', '7', false)")):
            with conn.cursor() as cur:
                cur.execute(sql)
                assert read(cur, 1) == [("one",)]
        db.cluster.stop("fast")
        try:
            for n, conn in enumerate(conns):
                with conn.cursor() as cur:
                    local, _ = counters(sq)
                    assert read(cur, 1) == [("one",)]
                    assert counters(sq)[0] == local + 1
                    started = time.monotonic()
                    with pytest.raises(psycopg2.OperationalError) as err:
                        cur.execute("INSERT INTO notes VALUES (%d, 'lost')" % (100 + n))
                    assert err.value.pgcode == "08006", err.value
                    assert "cannot reach the upstream" in str(err.value)
                    assert time.monotonic() - started < 5
                    assert conn.closed == 0
                    assert read(cur, 1) == [("one",)]  # still usable, still local
            # a session with state a new connection would lack ended with the upstream's
            for conn in stateful:
                with pytest.raises(psycopg2.OperationalError):
                    with conn.cursor() as cur:
                        read(cur, 1)
            # the timer of the failed attempt does not end the session later
            time.sleep(1.5)
            with conns[0].cursor() as cur:
                assert read(cur, 1) == [("one",)] and conns[0].closed == 0
            # the shared view: refused at once by every worker, the next probe a second on
            st = sq.status()
            assert st["upstream"]["reachable"] is False, st["upstream"]
        finally:
            db.cluster.start()

        def writes_again(conn, n):
            with conn.cursor() as cur:
                try:
                    cur.execute("INSERT INTO notes VALUES (%d, 'back')" % (200 + n))
                    return True
                except psycopg2.OperationalError as exc:
                    assert exc.pgcode == "08006" and conn.closed == 0, exc
                    return False

        for n, conn in enumerate(conns):
            harness.wait_for(lambda: writes_again(conn, n), 30,
                             "a write through a session that outlived the upstream")
            with conn.cursor() as cur:  # read-your-writes, from the copy again
                assert read(cur, 200 + n) == [("back",)]
        assert sq.status()["upstream"]["reachable"] is True
        assert db.query("SELECT count(*) FROM notes WHERE body = 'back'") == [(4,)]
    finally:
        for conn in conns + stateful:
            conn.close()


def test_error_mode_refuses_reads_and_a_cut_link_is_the_same_as_a_stop(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    relay = relay_mod.Relay(db.cluster.port)
    try:
        # serve_stale through a link that is cut (no FATAL from the server, a reset)
        sq = start(sqledge_factory, db, upstream_port=relay.port)
        with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
            assert read(cur, 1) == [("one",)]
            relay.cut()
            assert read(cur, 1) == [("one",)]
            with pytest.raises(psycopg2.OperationalError) as err:
                cur.execute("UPDATE notes SET body = 'x' WHERE id = 1")
            assert err.value.pgcode == "08006"
            assert read(cur, 1) == [("one",)]
            relay.restore()

            def updates():
                try:
                    cur.execute("UPDATE notes SET body = 'uno' WHERE id = 1")
                    return True
                except psycopg2.OperationalError:
                    return False

            harness.wait_for(updates, 30, "an update once the link is back")
            assert read(cur, 1) == [("uno",)]
        sq.stop()
        # error: with the upstream unreachable, reads are refused too
        sq = start(sqledge_factory, db, upstream_port=relay.port,
                   SQLEDGE_PROXY_ON_UPSTREAM_DOWN="error")
        with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
            assert read(cur, 1) == [("uno",)]
            relay.cut()
            with pytest.raises(psycopg2.OperationalError):
                read(cur, 1)
    finally:
        relay.close()
