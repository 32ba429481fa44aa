# SPDX-License-Identifier: MIT
"""Local reads: statements the local copy can answer exactly are answered from SQLite (the
counters show it), with the upstream's answer byte for byte; everything else, and every
statement a role may not read, goes upstream."""

import contextlib
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


def start(sqledge_factory, db, **env):
    settings = {"SQLEDGE_PROXY_LOCAL_READS": "true", "SQLEDGE_PROXY_WORKERS": "1"}
    settings.update(env)
    sq = sqledge_factory(db, env=settings).start()
    sq.wait_caught_up()
    return sq


def counters(sq):
    st = sq.proxy_workers()
    return st["queries_local"], st["queries_forwarded"]


def raw_answer(r, sql):
    """Every message the server sends for one simple Query, ReadyForQuery included."""
    r.send_raw(pgproto.query(sql))
    return r.recv_until("Z")


def raw_direct(db):
    r = Raw(path=os.path.join(db.cluster.host, ".s.PGSQL.%d" % db.cluster.port))
    r.login(db.user, db.name)
    return r


def raw_proxy(sq, user=None, password=None):
    r = Raw(port=sq.proxy_port)
    r.login(user or sq.db.user, sq.db.name, password or sq.db.password)
    return r


@pytest.fixture
def items(db):
    db.execute("CREATE TABLE items (id int PRIMARY KEY, small int2, big int8, name text, "
               "label varchar(20), code char(4), flag bool, price numeric(10,2), "
               "ratio float8, r4 float4, data bytea, at timestamptz, day date, "
               "ts timestamp, uid uuid, doc jsonb)")
    db.execute("INSERT INTO items VALUES "
               "(1, 1, 10000000000, 'Ada', 'first', 'ab', true, 1.50, 0.1, 0.1, "
               "'\\x00ff', '2024-03-01 12:00:00+00', '2024-03-01', '2024-03-01 12:34:56.5', "
               "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"b\": 1, \"a\": [true, null]}'), "
               "(2, NULL, -5, 'Zoë ☃', NULL, NULL, false, 100, 1e300, 3.4e38, '', "
               "'1999-12-31 23:59:59.999999+00', '0044-03-15 BC', NULL, NULL, '[]'), "
               "(3, 3, NULL, NULL, 'third', 'c', NULL, NULL, 'NaN', '-Infinity', NULL, "
               "'infinity', 'infinity', '-infinity', NULL, NULL), "
               "(4, -32768, 9223372036854775807, '', '', '', true, -0.01, -0.0, 1.5e-45, "
               "'\\x5c', '2000-01-01 00:00:00+00', '2000-01-01', '2000-01-01 00:00:00', "
               "'00000000-0000-0000-0000-000000000000', '\"x\"')")
    return "items"


LOCAL_QUERIES = [
    "SELECT * FROM items",
    "SELECT * FROM items ORDER BY id",
    "SELECT id, name FROM items WHERE id = 2",
    "SELECT name AS who, id FROM public.items i WHERE i.id >= 2 ORDER BY i.id DESC",
    "SELECT id FROM items ORDER BY small",  # NULLs last ascending, as PostgreSQL
    "SELECT id FROM items ORDER BY small DESC",  # and first descending
    "SELECT id FROM items ORDER BY big NULLS FIRST, id LIMIT 3",
    "SELECT id, flag FROM items WHERE flag = true OR flag IS NULL ORDER BY 1",
    "SELECT id FROM items WHERE NOT flag",
    "SELECT id, label FROM items WHERE name = 'Zoë ☃'",
    "SELECT id FROM items WHERE name <> 'Ada' AND big IS NOT NULL",
    "SELECT id FROM items WHERE small >= -1 AND small <= 3",
    "SELECT price, ratio, r4 FROM items ORDER BY id",
    "SELECT data, at, day, ts, uid, doc, code FROM items ORDER BY id",
    "SELECT id FROM items ORDER BY id LIMIT 2 OFFSET 1",
    "SELECT id FROM items WHERE id = 99",
    # one shape, other values: translated once, the values bound
    "SELECT id, name FROM items WHERE id = 1",
    "SELECT id, name FROM items WHERE id = 3",
    "SELECT id, name FROM items WHERE id = 4",
    "SELECT id FROM items WHERE name = 'Ada' AND big > 5",
    "SELECT id FROM items WHERE name = 'it''s nobody' AND big > 5",
    "SELECT id FROM items WHERE name = '' AND big > -1",
    "SELECT id FROM items WHERE name = 'Zoë ☃' AND big > 123456789",
    # translated: aggregates, LIKE, functions, text order, numerics, floats, joins
    "SELECT count(*) FROM items",
    "SELECT id FROM items WHERE name LIKE 'A%'",
    "SELECT lower(name) FROM items WHERE id = 1",
    "SELECT id FROM items ORDER BY name, id",
    "SELECT a.id FROM items a JOIN items b USING (id) ORDER BY 1",
    "SELECT id FROM items WHERE price > 1 ORDER BY id",
    "SELECT id, ratio FROM items ORDER BY ratio, id",
    "SELECT id FROM items WHERE ratio > 0.05 ORDER BY id",
    "SELECT sum(price), avg(small), min(at), max(day), count(DISTINCT flag) FROM items",
    "SELECT flag, count(*) FROM items GROUP BY flag ORDER BY flag",
]


def test_local_answers_equal_the_upstreams(db, sqledge_factory, items):
    sq = start(sqledge_factory, db)
    sq.wait_caught_up()
    through, direct = raw_proxy(sq), raw_direct(db)
    for sql in ("SET TimeZone = 'UTC'",):
        raw_answer(through, sql)
        raw_answer(direct, sql)
    try:
        for sql in LOCAL_QUERIES:
            before = counters(sq)
            got = raw_answer(through, sql)
            want = raw_answer(direct, sql)
            assert got == want, sql
            assert counters(sq)[0] == before[0] + 1, "not answered locally: " + sql
    finally:
        through.close()
        direct.close()


def test_session_settings_decide(db, sqledge_factory, items):
    sq = start(sqledge_factory, db)
    through, direct = raw_proxy(sq), raw_direct(db)
    try:
        for sql in ("SET extra_float_digits = 0", "SET bytea_output = 'escape'",
                    "SET TimeZone = 'Europe/Paris'"):
            raw_answer(through, sql)
            raw_answer(direct, sql)
        # floats and bytea follow the session's settings locally too
        local, _ = counters(sq)
        sql = "SELECT ratio, r4, data FROM items ORDER BY id"
        assert raw_answer(through, sql) == raw_answer(direct, sql)
        assert counters(sq)[0] == local + 1
        # timestamptz in a zone other than UTC is printed upstream
        sql = "SELECT at FROM items ORDER BY id"
        assert raw_answer(through, sql) == raw_answer(direct, sql)
        assert counters(sq)[0] == local + 1
    finally:
        through.close()
        direct.close()


def test_what_stays_upstream(db, sqledge_factory, items):
    sq = start(sqledge_factory, db)
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM items LIMIT 1")  # the session's check runs once
        local, _ = counters(sq)
        for sql in ("SELECT id FROM items WHERE name ~ 'A'", "SELECT version()",
                    "SELECT current_user", "SELECT id FROM items ORDER BY r4",
                    "SELECT id FROM items FOR UPDATE", "SELECT relname FROM pg_class LIMIT 1",
                    "WITH gone AS (DELETE FROM items WHERE id = 99 RETURNING id) SELECT 1",
                    "SELECT id, (SELECT id FROM items) FROM items WHERE false",
                    "/* sqledge:upstream */ SELECT id FROM items WHERE id = 1"):
            cur.execute(sql)
            cur.fetchall()
        assert counters(sq)[0] == local
        # inside a transaction block everything goes upstream
        conn.autocommit = False
        cur.execute("SELECT id FROM items")
        cur.fetchall()
        conn.rollback()
        assert counters(sq)[0] == local


def test_privileges_and_row_level_security(db, sqledge_factory, items):
    db.execute("CREATE TABLE secret (id int PRIMARY KEY, v text)")
    db.execute("INSERT INTO secret VALUES (1, 'no')")
    db.execute("CREATE TABLE guarded (id int PRIMARY KEY, owner text)")
    db.execute("INSERT INTO guarded VALUES (1, 'a'), (2, 'b')")
    role = db.create_role("reader_" + harness.unique_suffix(), password="rpw")
    db.execute('GRANT SELECT ON items, guarded TO "%s"' % role)
    db.execute("ALTER TABLE guarded ENABLE ROW LEVEL SECURITY")
    db.execute("CREATE POLICY only_a ON guarded TO \"%s\" USING (owner = 'a')" % role)
    sq = start(sqledge_factory, db)
    with contextlib.closing(sq.proxy_connect(user=role, password="rpw")) as conn, \
            conn.cursor() as cur:
        local, _ = counters(sq)
        cur.execute("SELECT id FROM items ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == [1, 2, 3, 4]
        assert counters(sq)[0] == local + 1
        with pytest.raises(psycopg2.errors.InsufficientPrivilege) as exc:
            cur.execute("SELECT * FROM secret")
        assert exc.value.pgcode == "42501"
        cur.execute("SELECT * FROM guarded")  # row-level security: read upstream
        assert cur.fetchall() == [(1, "a")]
        assert counters(sq)[0] == local + 1
        # a REVOKE in another session reaches this one's local reads within a second
        db.execute('REVOKE SELECT ON items FROM "%s"' % role)

        def denied():
            try:
                cur.execute("SELECT id FROM items WHERE id = 1")
                cur.fetchall()
                return False
            except psycopg2.errors.InsufficientPrivilege:
                return True

        harness.wait_for(denied, 10, "the REVOKE to reach the session's local reads",
                         interval=0.2)


def test_seed_step4_select_is_answered_locally(db, sqledge_factory):
    sq = start(sqledge_factory, db)
    env = db.cluster.client_env()
    env.update(PGPASSWORD=db.password)
    psql = [os.path.join(harness.PG_BINDIR, "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h",
            "127.0.0.1", "-p", str(sq.proxy_port), "-U", db.user, db.name]
    out = subprocess.run(psql, input="CREATE TABLE my_table (id serial not null primary key, "
                         "names text);\nINSERT INTO my_table (names) VALUES ('Jane'), "
                         "('John');\n", env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=60)
    assert out.returncode == 0, out.stdout
    sq.wait_caught_up()
    local, _ = counters(sq)
    out = subprocess.run(psql + ["-c", "SELECT * FROM my_table"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=60)
    assert " 1 | Jane\n  2 | John\n(2 rows)" in out.stdout, out.stdout
    assert counters(sq)[0] == local + 1


def test_seed_insert_then_select_always_shows_the_new_rows(db, sqledge_factory):
    """The original try-it-out's INSERT then SELECT, in one psql session, many times: each
    SELECT shows the row just inserted, and is answered from the copy (it waits for it)."""
    db.execute("CREATE TABLE my_table (id serial not null primary key, names text)")
    sq = start(sqledge_factory, db)
    env = db.cluster.client_env()
    env.update(PGPASSWORD=db.password)
    script = "".join("INSERT INTO my_table (names) VALUES ('name %d');\n"
                     "SELECT * FROM my_table WHERE id = %d;\n" % (i, i) for i in range(1, 31))
    local, _ = counters(sq)
    out = subprocess.run([os.path.join(harness.PG_BINDIR, "psql"), "-X", "-v",
                          "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(sq.proxy_port), "-U",
                          db.user, db.name], input=script, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=120)
    assert out.returncode == 0, out.stdout
    for i in range(1, 31):
        assert "%3d | name %d\n(1 row)" % (i, i) in out.stdout, (i, out.stdout)
    assert counters(sq)[0] - local >= 25, counters(sq)


def test_notifications_interleave_with_local_answers(db, sqledge_factory, items):
    import threading
    sq = start(sqledge_factory, db)
    r = raw_proxy(sq)
    raw_answer(r, "LISTEN big")
    sent = 60
    payload = "n" * 7000

    def notifier():
        with contextlib.closing(direct_connect(db)) as conn, conn.cursor() as cur:
            for i in range(sent):
                cur.execute("SELECT pg_notify('big', %s)", ("%03d" % i + payload,))

    th = threading.Thread(target=notifier)
    th.start()
    local, _ = counters(sq)
    notes = []
    for _ in range(300):
        msgs = raw_answer(r, "SELECT id FROM items WHERE id = 1")
        notes += [m for m in msgs if m[0] == "A"]
        rows = [m for m in msgs if m[0] == "D"]
        assert len(rows) == 1 and msgs[-1] == ("Z", b"I")
    th.join(60)
    while len(notes) < sent:  # the rest arrive with the next answers
        notes += [m for m in raw_answer(r, "SELECT 1") if m[0] == "A"]
    assert len(notes) == sent
    assert all(n[1].endswith(payload.encode() + b"\0") for n in notes)
    assert counters(sq)[0] >= local + 1
    r.close()


def direct_connect(db):
    conn = psycopg2.connect(host="127.0.0.1", port=db.cluster.port, user=db.user,
                            password=db.password, dbname=db.name, connect_timeout=10)
    conn.autocommit = True
    return conn


def raw_batch(r, *msgs):
    """Sends extended-protocol messages ending with Sync; every message up to ReadyForQuery."""
    r.send_raw(b"".join(msgs) + pgproto.SYNC)
    return r.recv_until("Z")


def same_answers(through, direct, *msgs):
    """The same batch through sqledge and straight at the upstream: the same messages back."""
    got, want = raw_batch(through, *msgs), raw_batch(direct, *msgs)
    assert got == want, msgs
    return got


def i4(v):
    return struct.pack("!i", v)


def i8(v):
    return struct.pack("!q", v)


P, B, D, E = pgproto.parse, pgproto.bind, pgproto.describe, pgproto.execute
# (messages, answered locally); each runs through sqledge and straight at the upstream
EXTENDED = [
    # what drivers send for a statement used once: the unnamed statement
    ((P("", "SELECT * FROM items WHERE id = $1"), B("", "", [b"2"]), D("P", ""), E("")), True),
    ((P("", "SELECT * FROM items ORDER BY id"), B("", "", result_formats=[1]), D("P", ""),
      E("")), True),
    ((P("", "SELECT id, name FROM items WHERE id = $1", [23]), B("", "", [i4(4)], [1], [0, 1]),
      D("P", ""), E("")), True),
    # no Describe: no RowDescription
    ((P("", "SELECT id FROM items WHERE id >= $1 ORDER BY id"), B("", "", [b" 2 "]), E("")),
     True),
    ((P("", "SELECT id FROM items ORDER BY id LIMIT $1 OFFSET $2", [20, 0]),
      B("", "", [i8(2), b"1"], [1, 0]), D("P", ""), E("")), True),
    ((P("", "SELECT id FROM items WHERE name = $1 OR label = $2"),
      B("", "", ["Zoë ☃".encode(), b"third"]), D("P", ""), E("")), True),
    ((P("", "SELECT id FROM items WHERE id = $1"), B("", "", [None]), D("P", ""), E("")), True),
    ((P("", "SELECT id FROM items WHERE flag = $1 ORDER BY id"), B("", "", [b"\x01"], [1]),
      D("P", ""), E("")), True),
    # values the upstream rejects, or reads its own way: its answer, its error
    ((P("", "SELECT id FROM items WHERE id = $1"), B("", "", [b"abc"]), D("P", ""), E("")),
     False),
    ((P("", "SELECT id FROM items WHERE id = $1"), B("", "", [b"2147483648"]), D("P", ""),
      E("")), False),
    ((P("", "SELECT id FROM items WHERE small = $1"), B("", "", [i4(1)], [1]), D("P", ""),
      E("")), False),
    ((P("", "SELECT id FROM items LIMIT $1"), B("", "", [b"-1"]), D("P", ""), E("")), False),
    ((P("", "SELECT id FROM items LIMIT $1"), B("", "", [None]), D("P", ""), E("")), False),
    ((P("", "SELECT id FROM items WHERE flag = $1"), B("", "", [b"yes"]), D("P", ""), E("")),
     False),
    ((P("", "SELECT id FROM items WHERE name = $1"), B("", "", [b"\xff"]), D("P", ""), E("")),
     False),
    ((P("", "SELECT id FROM items WHERE id = $1"), B("", "", [b"1", b"2"]), D("P", ""), E("")),
     False),
    ((P("", "SELECT id FROM items WHERE id = $1"), B("", "", [b"1"], result_formats=[1, 1]),
      D("P", ""), E("")), False),
    ((P("", "SELECT count(*) FROM items WHERE id = $1"), B("", "", [b"1"]), D("P", ""), E("")),
     True),
    ((P("", "SELECT id FROM items WHERE name ~ $1"), B("", "", [b"A"]), D("P", ""), E("")),
     False),
    ((P("", "SELECT id FROM items"), B("", ""), D("P", ""), E("", 2)), False),
]


def test_extended_local_answers_equal_the_upstreams(db, sqledge_factory, items):
    sq = start(sqledge_factory, db)
    through, direct = raw_proxy(sq), raw_direct(db)
    try:
        for sql in ("SET TimeZone = 'UTC'",):
            raw_answer(through, sql)
            raw_answer(direct, sql)
        for msgs, local in EXTENDED:
            before = counters(sq)
            got = raw_batch(through, *msgs)
            want = raw_batch(direct, *msgs)
            assert got == want, msgs
            assert counters(sq)[0] == before[0] + int(local), ("local" if local else
                                                                "upstream", msgs)
    finally:
        through.close()
        direct.close()


def test_named_statements_and_the_unnamed_one(db, sqledge_factory, items):
    sq = start(sqledge_factory, db)
    through, direct = raw_proxy(sq), raw_direct(db)
    both = (through, direct)

    def same(*msgs):
        return same_answers(through, direct, *msgs)

    try:
        raw_answer(through, "SET TimeZone = 'UTC'")
        raw_answer(direct, "SET TimeZone = 'UTC'")
        # prepared once upstream, then executed from the copy (libpq's PQprepare, pgbench)
        same(P("s1", "SELECT id, name, price FROM items WHERE id = $1"))
        local, _ = counters(sq)
        for v in (b"1", b"2", b"3", b"99"):
            same(B("", "s1", [v], result_formats=[1]), D("P", ""), E(""))
        assert counters(sq)[0] == local + 4
        # gone upstream: its error, never a local answer
        same(pgproto.close("S", "s1"))
        same(B("", "s1", [b"1"]), E(""))
        # redefined through SQL: what the upstream says it is now
        for r in both:
            raw_answer(r, "PREPARE s1 AS SELECT name FROM items WHERE id = $1")
        local, _ = counters(sq)
        same(B("", "s1", [b"2"]), D("P", ""), E(""))
        for r in both:
            raw_answer(r, "DEALLOCATE s1")
        same(P("s1", "SELECT id FROM items WHERE id = $1"))
        same(B("", "s1", [b"3"]), D("P", ""), E(""))
        assert counters(sq)[0] == local + 1
        # the unnamed statement answered here, then used on its own upstream
        same(P("", "SELECT id, label FROM items WHERE id = $1"), B("", "", [b"3"]), E(""))
        local, _ = counters(sq)
        same(pgproto.describe("S", ""))
        same(B("", "", [b"1"]), D("P", ""), E("", 1))
        same(B("", "", [b"4"]), D("P", ""), E(""))
        assert counters(sq)[0] == local
        # a bad Parse answered by the upstream does not leave a statement behind
        same(P("s2", "SELECT id FROM items WHERE id = $1 AND"))
        same(B("", "s2", [b"1"]), E(""))
        same(P("s3", "SELECT id FROM items WHERE id = $1"), P("s3", "SELECT 1"))
        same(B("", "s3", [b"1"]), E(""))
        # a table changed since the statement was prepared: the upstream's error
        same(P("s4", "SELECT * FROM items WHERE id = $1"))
        local, _ = counters(sq)
        same(B("", "s4", [b"1"]), E(""))
        assert counters(sq)[0] == local + 1
        db.execute("ALTER TABLE items ADD COLUMN extra int")
        db.execute("UPDATE items SET extra = 1 WHERE id = 1")
        sq.wait_caught_up()
        got = same(B("", "s4", [b"1"]), E(""))
        assert got[0][0] == "E" and b"0A000" in got[0][1], got
        assert counters(sq)[0] == local + 1
    finally:
        through.close()
        direct.close()


def slow_sql(table, groups=5, terms=800):
    """A statement of the local subset that runs for seconds: each row is compared with
    groups x terms constants; every OR group but the last is true only at its last term, and
    the last is never true, so no row comes back."""
    parts = []
    for g in range(groups):
        ors = ["v < %d" % -(i + 1) for i in range(terms - 1)]
        ors.append("v < -999999" if g == groups - 1 else "v > -1")
        parts.append("(" + " OR ".join(ors) + ")")
    return "SELECT id FROM %s WHERE %s" % (table, " AND ".join(parts))


def test_cancel_and_statement_timeout_interrupt_local_work(db, sqledge_factory):
    db.execute("CREATE TABLE big (id int PRIMARY KEY, v int);"
               "INSERT INTO big SELECT g, g FROM generate_series(1, 200000) g")
    sq = start(sqledge_factory, db)
    sql = slow_sql("big")
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT v FROM big WHERE id = 1")  # the session's check
        _, forwarded = counters(sq)
        timer = threading.Timer(0.5, conn.cancel)
        timer.start()
        with pytest.raises(psycopg2.errors.QueryCanceled) as exc:
            cur.execute(sql)
        timer.join()
        assert exc.value.pgerror.startswith("ERROR:  canceling statement due to user request")
        assert counters(sq)[1] == forwarded, "the statement went upstream"
        cur.execute("SET statement_timeout = '300ms'")
        _, forwarded = counters(sq)
        with pytest.raises(psycopg2.errors.QueryCanceled) as exc:
            cur.execute(sql)
        assert exc.value.pgerror.startswith(
            "ERROR:  canceling statement due to statement timeout"), exc.value.pgerror
        assert counters(sq)[1] == forwarded, "the statement went upstream"
        # the session goes on, locally
        cur.execute("SET statement_timeout = 0")
        local, _ = counters(sq)
        cur.execute("SELECT v FROM big WHERE id = 7")
        assert cur.fetchone() == (7,)
        assert counters(sq)[0] == local + 1


def test_readers_move_to_a_new_generation_without_a_failed_query(db, sqledge_factory, items):
    sq = start(sqledge_factory, db)
    before = sq.generation()
    stop = threading.Event()
    errors, seen, reads = [], set(), [0]

    def reader():
        with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
            while not stop.is_set():
                try:
                    cur.execute("SELECT name FROM items WHERE id = 1")
                    seen.add(cur.fetchone()[0])
                    reads[0] += 1
                except Exception as exc:  # any failure is the test's failure
                    errors.append(repr(exc))
                    return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for th in threads:
        th.start()
    try:
        harness.wait_for(lambda: reads[0] > 20 or errors, 30, "the readers to start")
        local = counters(sq)[0]
        # the slot is lost under the running worker: it makes a whole new copy while the
        # proxy goes on answering from the old one, then switches
        db.cluster.drop_slots(names=[db.slot])
        db.execute("UPDATE items SET name = 'after' WHERE id = 1")
        harness.wait_for(lambda: sq.generation() > before or errors, 120,
                         "a new generation", alive=sq)
        sq.wait_caught_up()
        harness.wait_for(lambda: "after" in seen or errors, 30,
                         "a read from the new generation")
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    assert not errors, errors
    assert seen == {"Ada", "after"}, seen
    assert counters(sq)[0] > local + 20


def test_the_unnamed_statement_stays_the_clients(db, sqledge_factory, items):
    """The unnamed statement lives in the session: the check query (a simple Query) must not
    take it from the client, and a local answer must not leave the upstream's behind."""
    sq = start(sqledge_factory, db)
    through, direct = raw_proxy(sq), raw_direct(db)

    def same(*msgs):
        return same_answers(through, direct, *msgs)

    try:
        same(P("s1", "SELECT id FROM items WHERE id = $1"))
        # parsed upstream; then a named statement's batch sends the check
        same(P("", "SELECT name FROM items WHERE id = 2"))
        local, _ = counters(sq)
        same(B("", "s1", [b"1"]), E(""))
        assert counters(sq)[0] == local + 1
        got = same(B("", ""), D("P", ""), E(""))  # still the client's
        assert ("D", b"\x00\x01\x00\x00\x00\x08Zo\xc3\xab \xe2\x98\x83") in got, got
        # a simple Query drops the unnamed statement: upstream it is gone too
        same(P("", "SELECT name FROM items WHERE id = 3"))
        for r in (through, direct):
            raw_answer(r, "SELECT id FROM items WHERE id = 1")
        got = same(B("", ""), E(""))
        assert got[0][0] == "E" and b"26000" in got[0][1], got
        # answered here, then used upstream: it is sent there first
        same(P("", "SELECT id, name FROM items WHERE id = $1"), B("", "", [b"4"]), E(""))
        got = same(pgproto.describe("S", ""))
        assert [m[0] for m in got] == ["t", "T", "Z"], got
        same(B("", "", [b"1"]), D("P", ""), E("", 1))
        # a batch whose Sync is late: what came goes upstream, as the client may wait for
        # rows before it sends Sync (PostgreSQL sends them when its buffer fills)
        for r in (through, direct):
            r.send_raw(P("", "SELECT repeat('x', 100000) FROM items") + B("", "") + E(""))
        firsts = [r.recv_until("D") for r in (through, direct)]
        assert firsts[0] == firsts[1]
        rest = []
        for r in (through, direct):
            r.send_raw(pgproto.SYNC)
            rest.append(r.recv_until("Z"))
        assert rest[0] == rest[1]
    finally:
        through.close()
        direct.close()


def checks(sq):
    w = sq.proxy_workers()["workers"][0]
    return w["checks_held"], w["checks_ahead"]


def test_reads_after_writes_see_them(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    sq = start(sqledge_factory, db)
    rounds = 40
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur, \
            contextlib.closing(direct_connect(db)) as other, other.cursor() as ocur:
        cur.execute("SELECT body FROM notes WHERE id = 0")  # the session reads locally
        local, _ = counters(sq)
        held, ahead = checks(sq)
        for i in range(rounds):
            ocur.execute("INSERT INTO notes VALUES (%s, 'other')", (10000 + i,))
            cur.execute("INSERT INTO notes VALUES (%s, %s)", (i, "note %d" % i))
            cur.execute("SELECT body FROM notes WHERE id = %d" % i)
            assert cur.fetchall() == [("note %d" % i,)], "round %d" % i
        # waited for, not sent upstream (a slow round may go upstream after max_wait)
        assert counters(sq)[0] - local >= rounds * 3 // 4
        # the position came with each write: no read waited a round trip for a check
        now_held, now_ahead = checks(sq)
        assert now_ahead - ahead == rounds and now_held == held, checks(sq)


def test_the_check_after_a_write_in_the_extended_protocol(db, sqledge_factory):
    """Writes sent as drivers send them (the unnamed statement, a named one) carry the check in
    the same flight; the client's unnamed statement survives it; COPY, in either protocol, and
    transaction blocks get none, and work as they do upstream."""
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    sq = start(sqledge_factory, db)
    through, direct = raw_proxy(sq), raw_direct(db)
    ins = "INSERT INTO notes VALUES ($1, $2)"
    sel = "SELECT body FROM notes WHERE id = $1"
    try:
        same_answers(through, direct, P("", sel), B("", "", [b"0"]), E(""))
        same_answers(through, direct, P("ins", ins))
        local, _ = counters(sq)
        held, ahead = checks(sq)
        for i in range(1, 21):
            if i % 2:
                msgs = (P("", ins), B("", "", [b"%d" % i, b"n%d" % i]), E(""))
            else:
                msgs = (B("", "ins", [b"%d" % i, b"n%d" % i]), E(""))
            got = raw_batch(through, *msgs)
            assert got == [("1", b"")] * (i % 2) + [("2", b""), ("C", b"INSERT 0 1\0"),
                                                   ("Z", b"I")], got
            got = raw_batch(through, P("", sel), B("", "", [b"%d" % i]), E(""))
            assert ("D", b"\x00\x01\x00\x00\x00" + bytes([len("n%d" % i)]) +
                    b"n%d" % i) in got, (i, got)
        assert counters(sq)[0] - local >= 15
        assert checks(sq) == (held, ahead + 20), checks(sq)
        # the check's simple Query does not take the client's unnamed statement, even from a
        # client that uses it again before the check's answer is in
        raw_batch(through, P("", ins), B("", "", [b"100", b"x"]), E(""))
        got = raw_batch(through, B("", "", [b"101", b"y"]), E(""))
        assert got[-2:] == [("C", b"INSERT 0 1\0"), ("Z", b"I")], got
        for n in range(102, 110, 2):
            raw_batch(through, P("", ins), B("", "", [b"%d" % n, b"x"]), E(""))
            through.send_raw(B("", "", [b"%d" % (n + 1), b"y"]) + E("") + pgproto.SYNC)
            got = through.recv_until("Z")
            assert got[-2:] == [("C", b"INSERT 0 1\0"), ("Z", b"I")], got
        # inside a block nothing follows the statements; the COMMIT carries the check
        held, ahead = checks(sq)
        raw_answer(through, "BEGIN")
        raw_answer(through, "INSERT INTO notes VALUES (400, 'in a block')")
        raw_answer(through, "UPDATE notes SET body = 'updated' WHERE id = 400")
        assert checks(sq) == (held, ahead)
        assert raw_answer(through, "COMMIT") == [("C", b"COMMIT\0"), ("Z", b"I")]
        local, _ = counters(sq)
        got = raw_answer(through, "SELECT body FROM notes WHERE id = 400")
        assert ("D", b"\x00\x01\x00\x00\x00\x07updated") in got, got
        assert counters(sq)[0] == local + 1 and checks(sq) == (held, ahead + 1)
        # COPY after a write, simple and extended: no check follows it
        for n, r in enumerate((through, direct)):
            r.send_raw(pgproto.query("COPY notes FROM STDIN"))
            assert r.recv_until("G")[-1][0] == "G"
            r.send_raw(pgproto.copy_data(b"%d\tc\n" % (200 + n)) + pgproto.COPY_DONE)
            assert r.recv_until("Z")[-2:] == [("C", b"COPY 1\0"), ("Z", b"I")]
        for n, r in enumerate((through, direct)):
            r.send_raw(P("", "COPY notes FROM STDIN") + B("", "") + E("") + pgproto.SYNC)
            assert r.recv_until("G")[-1][0] == "G"
            # the Sync before the data is ignored in COPY: one after it ends the segment
            r.send_raw(pgproto.copy_data(b"%d\tc\n" % (300 + n)) + pgproto.COPY_DONE +
                       pgproto.SYNC)
            assert r.recv_until("Z")[-2:] == [("C", b"COPY 1\0"), ("Z", b"I")]
    finally:
        through.close()
        direct.close()


def test_statements_sent_before_the_checks_answer(db, sqledge_factory):
    """What a client sends while the check after its write is on its way: a write goes upstream
    at once (the check is then stale, and the next one covers it), a statement that changes
    what a name reads too, and a read waits for the answer that covers everything before it."""
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "CREATE SCHEMA other; CREATE TABLE other.notes (id int PRIMARY KEY, body text);"
               "INSERT INTO other.notes VALUES (1, 'the other one')")
    sq = start(sqledge_factory, db, SQLEDGE_UPSTREAM_SCHEMA="public")
    r = raw_proxy(sq)
    try:
        raw_answer(r, "SELECT body FROM notes WHERE id = 1")
        held, ahead = checks(sq)
        for i in range(20):
            # no wait between the answers and the next statement: the check's answer is
            # seldom in when it comes
            r.send_raw(pgproto.query("INSERT INTO notes VALUES (%d, 'a%d')" % (2 * i + 10, i)))
            r.recv_until("Z")
            r.send_raw(pgproto.query("INSERT INTO notes VALUES (%d, 'b%d')" % (2 * i + 11, i)))
            r.recv_until("Z")
            got = raw_answer(r, "SELECT body FROM notes WHERE id = %d" % (2 * i + 11))
            assert ("D", b"\x00\x01\x00\x00\x00" + bytes([len("b%d" % i)]) +
                    b"b%d" % i) in got, (i, got)
            # the search path changes what the bare name reads: upstream's other.notes
            r.send_raw(pgproto.query("INSERT INTO notes VALUES (%d, 'c')" % (1000 + i)))
            r.recv_until("Z")
            raw_answer(r, "SET search_path = other, public")
            got = raw_answer(r, "SELECT body FROM notes WHERE id = 1")
            assert ("D", b"\x00\x01\x00\x00\x00\x0dthe other one") in got, (i, got)
            raw_answer(r, "SET search_path = public")
        now_held, now_ahead = checks(sq)
        assert now_ahead - ahead >= 40, checks(sq)
    finally:
        r.close()


def test_max_lag_sends_reads_upstream_while_the_copy_is_behind(db, sqledge_factory):
    """max_lag is measured from when the upstream last reported a position the copy has
    applied: an idle copy stays current (its keepalives say so), a stalled one is behind."""
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    sq = start(sqledge_factory, db, SQLEDGE_PROXY_MAX_LAG="1500",
               SQLEDGE_PROXY_CONSISTENCY="eventual")
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        local, forwarded = counters(sq)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:  # idle, and current all along
            cur.execute("SELECT body FROM notes WHERE id = 1")
            assert cur.fetchall() == [("one",)]
            time.sleep(0.2)
        now_local, now_forwarded = counters(sq)
        assert now_forwarded == forwarded and now_local - local >= 15, counters(sq)
        pid = sq.repl_pid()
        os.kill(pid, signal.SIGSTOP)  # the copy stops moving
        try:
            db.execute("UPDATE notes SET body = 'changed' WHERE id = 1")
            cur.execute("SELECT body FROM notes WHERE id = 1")
            assert cur.fetchall() == [("one",)]  # eventual: the copy, within max_lag
            time.sleep(2.0)
            _, forwarded = counters(sq)
            cur.execute("SELECT body FROM notes WHERE id = 1")
            assert cur.fetchall() == [("changed",)]  # behind: the upstream answers
            assert counters(sq)[1] == forwarded + 1
        finally:
            os.kill(pid, signal.SIGCONT)
        sq.wait_caught_up()

        def local_again():
            before = counters(sq)[0]
            cur.execute("SELECT body FROM notes WHERE id = 1")
            return cur.fetchall() == [("changed",)] and counters(sq)[0] == before + 1

        harness.wait_for(local_again, 10, "local reads of the current copy again")


def status_of(conn):
    return {psycopg2.extensions.TRANSACTION_STATUS_IDLE: "I",
            psycopg2.extensions.TRANSACTION_STATUS_INTRANS: "T",
            psycopg2.extensions.TRANSACTION_STATUS_INERROR: "E"}[conn.info.transaction_status]


def read_one(cur, id_):
    cur.execute("SELECT body FROM notes WHERE id = %d" % id_)
    return cur.fetchall()


def test_read_only_blocks_are_served_from_one_snapshot(db, sqledge_factory):
    """BEGIN READ ONLY blocks read the copy: REPEATABLE READ ones from one SQLite snapshot
    for the whole block, READ COMMITTED ones until a statement needs the upstream, where the
    block moves; SERIALIZABLE ones and read-write ones go upstream."""
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one'), (2, 'two')")
    sq = start(sqledge_factory, db)
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur, \
            contextlib.closing(direct_connect(db)) as other, other.cursor() as ocur:
        cur.execute("SELECT body FROM notes WHERE id = 1")  # the session check
        # REPEATABLE READ READ ONLY: a change committed meanwhile is not seen in the block
        local, forwarded = counters(sq)
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        assert status_of(conn) == "T"
        cur.execute("SELECT body FROM notes WHERE id = 1")
        assert cur.fetchall() == [("one",)]
        ocur.execute("UPDATE notes SET body = 'uno' WHERE id = 1")
        sq.wait_caught_up()
        cur.execute("SELECT body FROM notes WHERE id = 1")
        assert cur.fetchall() == [("one",)]
        cur.execute("SELECT id, body FROM notes ORDER BY id")
        assert cur.fetchall() == [(1, "one"), (2, "two")]
        cur.execute("COMMIT")
        assert status_of(conn) == "I"
        assert counters(sq) == (local + 5, forwarded), counters(sq)
        cur.execute("SELECT body FROM notes WHERE id = 1")
        assert cur.fetchall() == [("uno",)]
        # a statement the copy cannot answer, after answers from the snapshot: an error
        # rather than another snapshot; the session goes on
        cur.execute("START TRANSACTION READ ONLY, ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT body FROM notes WHERE id = 2")
        with pytest.raises(psycopg2.errors.FeatureNotSupported) as err:
            cur.execute("SELECT count(*) FROM notes WHERE body ~ 'o'")
        assert "REPEATABLE READ" in str(err.value)
        assert status_of(conn) == "E"
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cur.execute("SELECT body FROM notes WHERE id = 2")
        cur.execute("COMMIT")
        assert cur.statusmessage == "ROLLBACK" and status_of(conn) == "I"
        # savepoints are kept by name: ROLLBACK TO recovers a failed block, as upstream
        local, forwarded = counters(sq)
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cur.execute("SELECT body FROM notes WHERE id = 2")
        cur.execute("SAVEPOINT a")
        with pytest.raises(psycopg2.errors.FeatureNotSupported):
            cur.execute("SELECT count(*) FROM notes WHERE body ~ 'o'")
        cur.execute("ROLLBACK TO SAVEPOINT a")
        assert cur.statusmessage == "ROLLBACK" and status_of(conn) == "T"
        assert read_one(cur, 2) == [("two",)]
        cur.execute("RELEASE a")
        with pytest.raises(psycopg2.errors.InvalidSavepointSpecification):
            cur.execute("RELEASE a")
        assert status_of(conn) == "E"
        cur.execute("ROLLBACK")
        assert counters(sq)[1] == forwarded
        # a READ COMMITTED block moves upstream with its savepoints
        cur.execute("BEGIN READ ONLY")
        cur.execute("SAVEPOINT \"Sp 1\"")
        assert read_one(cur, 2) == [("two",)]
        cur.execute("SELECT count(*) FROM notes WHERE body ~ 'o'")
        with pytest.raises(psycopg2.errors.DivisionByZero):
            cur.execute("SELECT 1 / 0")
        cur.execute("ROLLBACK TO \"Sp 1\"")  # upstream's savepoint
        cur.execute("SELECT count(*) FROM notes WHERE body ~ 'o'")
        assert cur.fetchall() == [(2,)]
        cur.execute("COMMIT")
        # ... but before any answer, the whole block goes upstream
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cur.execute("SELECT count(*) FROM notes WHERE body ~ 'o'")
        assert cur.fetchall() == [(2,)]
        cur.execute("SELECT body FROM notes WHERE id = 2")
        assert cur.fetchall() == [("two",)]
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cur.execute("INSERT INTO notes VALUES (9, 'nine')")  # upstream's own error
        cur.execute("ROLLBACK")
        # the comment sends a block upstream
        local, forwarded = counters(sq)
        cur.execute("/* sqledge:upstream */ BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cur.execute("SELECT body FROM notes WHERE id = 2")
        cur.execute("SELECT count(*) FROM notes WHERE body ~ 'o'")
        cur.execute("COMMIT")
        assert counters(sq) == (local, forwarded + 4), counters(sq)
        # READ COMMITTED READ ONLY: each statement reads the copy as it is then
        cur.execute("START TRANSACTION READ ONLY")
        assert cur.statusmessage == "START TRANSACTION"
        cur.execute("SELECT body FROM notes WHERE id = 2")
        assert cur.fetchall() == [("two",)]
        ocur.execute("UPDATE notes SET body = 'dos' WHERE id = 2")
        sq.wait_caught_up()
        cur.execute("SELECT body FROM notes WHERE id = 2")
        assert cur.fetchall() == [("dos",)]
        with pytest.raises(psycopg2.errors.ActiveSqlTransaction):
            cur.execute("SET TRANSACTION READ WRITE")  # after a query, as upstream
        cur.execute("ROLLBACK")
        ocur.execute("UPDATE notes SET body = 'two' WHERE id = 2")
        sq.wait_caught_up()
        # READ COMMITTED READ ONLY: local reads, then the block moves upstream
        local, forwarded = counters(sq)
        cur.execute("BEGIN READ ONLY")
        cur.execute("SELECT body FROM notes WHERE id = 2")
        assert cur.fetchall() == [("two",)]
        cur.execute("SELECT count(*) FROM notes WHERE body ~ 'o'")
        assert cur.fetchall() == [(2,)]
        cur.execute("SHOW transaction_read_only")
        assert cur.fetchall() == [("on",)]
        cur.execute("SELECT body FROM notes WHERE id = 2")  # in the upstream's block now
        assert cur.fetchall() == [("two",)]
        cur.execute("COMMIT")
        assert status_of(conn) == "I"
        now_local, now_forwarded = counters(sq)
        assert now_local - local == 2 and now_forwarded - forwarded == 4, counters(sq)
        # SERIALIZABLE and read-write blocks go upstream from their BEGIN
        for begin in ("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", "BEGIN"):
            local, forwarded = counters(sq)
            cur.execute(begin)
            cur.execute("SELECT body FROM notes WHERE id = 2")
            cur.execute("COMMIT")
            assert counters(sq) == (local, forwarded + 3), (begin, counters(sq))
        # default_transaction_read_only makes a plain BEGIN read only
        cur.execute("SET default_transaction_read_only = on")
        cur.execute("SELECT 1")
        local, _ = counters(sq)
        cur.execute("BEGIN")
        cur.execute("SELECT body FROM notes WHERE id = 2")
        cur.execute("END")
        assert counters(sq)[0] - local == 3


def test_read_only_blocks_in_the_extended_protocol_and_their_timeout(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    sq = start(sqledge_factory, db, SQLEDGE_PROXY_IDLE_IN_TRANSACTION_TIMEOUT="700")
    sel = (P("", "SELECT body FROM notes WHERE id = $1"), B("", "", [b"1"]), D("P", ""), E(""))
    through, direct = raw_proxy(sq), raw_direct(db)
    try:
        raw_answer(through, "SELECT body FROM notes WHERE id = 1")
        for begin in ("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "BEGIN READ ONLY"):
            local, _ = counters(sq)
            for r in (through, direct):
                assert raw_answer(r, begin) == [("C", b"BEGIN\0"), ("Z", b"T")]
            got = same_answers(through, direct, *sel)
            assert got[-1] == ("Z", b"T"), got
            got = same_answers(through, direct, P("", "COMMIT"), B("", ""), D("P", ""),
                               E(""))
            assert got[-2:] == [("C", b"COMMIT\0"), ("Z", b"I")], got
            assert counters(sq)[0] - local == 3
        # an error in the extended protocol: the rest up to Sync is skipped
        raw_answer(through, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        raw_batch(through, *sel)
        got = raw_batch(through, P("", "SELECT count(*) FROM notes WHERE body ~ 'o'"), B("", ""), E(""))
        assert [m[0] for m in got] == ["E", "Z"] and got[-1] == ("Z", b"E"), got
        assert b"0A000" in got[0][1]
        got = raw_batch(through, P("", "ROLLBACK"), B("", ""), E(""))
        assert got[-2:] == [("C", b"ROLLBACK\0"), ("Z", b"I")], got
        # a Sync alone, or a Flush, runs nothing: the block goes on
        raw_answer(through, "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        raw_batch(through, *sel)
        through.send_raw(pgproto.FLUSH + pgproto.SYNC)
        assert through.recv_until("Z") == [("Z", b"T")]
        assert raw_answer(through, "COMMIT") == [("C", b"COMMIT\0"), ("Z", b"I")]
        # a REPEATABLE READ block left idle longer than idle_in_transaction_timeout ends the
        # session, so that it cannot hold a snapshot of the copy for ever
        assert raw_answer(through, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") == [
            ("C", b"BEGIN\0"), ("Z", b"T")]
        raw_answer(through, "SELECT body FROM notes WHERE id = 1")
        time.sleep(1.5)
        got = through.recv_until("E")
        assert b"25P03" in got[-1][1] and b"idle-in-transaction timeout" in got[-1][1], got
        assert through.at_eof()
    finally:
        through.close()
        direct.close()


def test_read_committed_local_reads_until_the_first_write(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    sq = start(sqledge_factory, db, SQLEDGE_PROXY_READ_COMMITTED_LOCAL="on")
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT body FROM notes WHERE id = 1")
        local, forwarded = counters(sq)
        cur.execute("BEGIN")
        cur.execute("SELECT body FROM notes WHERE id = 1")
        assert cur.fetchall() == [("one",)]
        cur.execute("UPDATE notes SET body = 'uno' WHERE id = 1")  # the block moves upstream
        cur.execute("SELECT body FROM notes WHERE id = 1")
        assert cur.fetchall() == [("uno",)]  # its own write, upstream
        cur.execute("COMMIT")
        assert counters(sq) == (local + 2, forwarded + 3), counters(sq)
        # a client that leaves with a block open: its write is not committed
        r = Raw(port=sq.proxy_port)
        r.login(db.user, db.name, db.password, params={"application_name": "leaver"})
        raw_answer(r, "SELECT body FROM notes WHERE id = 1")
        r.send_raw(pgproto.query("BEGIN") + pgproto.query("SELECT body FROM notes ORDER BY id") +
                   pgproto.query("INSERT INTO notes VALUES (77, 'uncommitted')"))
        r.sock.shutdown(socket.SHUT_WR)  # leaves, taking the answers (PostgreSQL rolls back)
        harness.wait_for(lambda: db.query("SELECT count(*) FROM pg_stat_activity WHERE "
                                          "application_name = 'leaver'") == [(0,)], 10,
                         "the leaving client's upstream session to end")
        r.close()
        assert db.query("SELECT count(*) FROM notes WHERE id = 77") == [(0,)]
        local, _ = counters(sq)
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")  # not READ COMMITTED: upstream
        cur.execute("SELECT body FROM notes WHERE id = 1")
        assert cur.fetchall() == [("uno",)]
        cur.execute("COMMIT")
        assert counters(sq)[0] == local
    assert db.query("SELECT body FROM notes WHERE id = 1") == [("uno",)]


def test_reads_go_upstream_until_the_first_copy_is_made(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    # an open transaction with a write holds the slot's creation, so the initial sync
    blocker = psycopg2.connect(host="127.0.0.1", port=db.cluster.port, user=db.user,
                               password=db.password, dbname=db.name)
    try:
        with blocker.cursor() as bcur:
            bcur.execute("INSERT INTO notes VALUES (2, 'two')")
        sq = sqledge_factory(db, env={"SQLEDGE_PROXY_LOCAL_READS": "true",
                                      "SQLEDGE_PROXY_WORKERS": "1"}).start()
        harness.wait_for(lambda: sq.status()["replication"]["state"] == "initial_sync", 30,
                         "the initial sync to wait for the open transaction")
        with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
            for _ in range(3):
                cur.execute("SELECT body FROM notes WHERE id = 1")
                assert cur.fetchall() == [("one",)]
            assert counters(sq) == (0, 3)
            blocker.commit()
            sq.wait_caught_up()
            cur.execute("SELECT body FROM notes WHERE id = 2")
            assert cur.fetchall() == [("two",)]
            assert counters(sq)[0] == 1
    finally:
        blocker.close()


def test_eventual_consistency_and_max_wait_settings(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    sq = start(sqledge_factory, db, SQLEDGE_PROXY_CONSISTENCY="eventual",
               SQLEDGE_PROXY_MAX_WAIT="0")
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT body FROM notes WHERE id = 1")
        local, _ = counters(sq)
        cur.execute("INSERT INTO notes VALUES (2, 'two')")
        # eventual: answered from the copy at once, whatever it holds yet
        cur.execute("SELECT body FROM notes WHERE id = 1")
        assert cur.fetchall() == [("one",)]
        assert counters(sq)[0] == local + 1
    out = subprocess.run([harness.sqledge_binary(), "--check-config"],
                         env=sq.process_env({"SQLEDGE_PROXY_CONSISTENCY": "sometimes"}),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    assert out.returncode != 0 and "must be session or eventual" in out.stdout, out.stdout


def test_a_read_waiting_for_the_copy_can_be_canceled_or_goes_upstream(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text);"
               "INSERT INTO notes VALUES (1, 'one')")
    sq = start(sqledge_factory, db, SQLEDGE_PROXY_MAX_WAIT="3000")
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT body FROM notes WHERE id = 1")
        pid = sq.repl_pid()
        os.kill(pid, signal.SIGSTOP)  # the copy stops moving
        try:
            cur.execute("INSERT INTO notes VALUES (2, 'two')")
            timer = threading.Timer(0.5, conn.cancel)
            timer.start()
            started = time.monotonic()
            with pytest.raises(psycopg2.errors.QueryCanceled):
                cur.execute("SELECT body FROM notes WHERE id = 2")
            timer.join()
            assert time.monotonic() - started < 2.5, "the cancel waited for max_wait"
            # past max_wait the read goes upstream, which has the row
            _, forwarded = counters(sq)
            cur.execute("SELECT body FROM notes WHERE id = 2")
            assert cur.fetchall() == [("two",)]
            assert counters(sq)[1] == forwarded + 1
        finally:
            os.kill(pid, signal.SIGCONT)
        sq.wait_caught_up()
        local, _ = counters(sq)
        cur.execute("SELECT body FROM notes WHERE id = 2")
        assert cur.fetchall() == [("two",)]
        assert counters(sq)[0] == local + 1
