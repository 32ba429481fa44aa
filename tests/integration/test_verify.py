# SPDX-License-Identifier: MIT
"""`sqledgectl verify`: the copy compared with the upstream at one position. Equal copies pass
while the upstream keeps writing; a row changed behind sqledge's back, a missing row and an
extra row are each found and shown; a table named on the command line limits the check; a
stopped sqledge or one without a copy is refused."""

import sqlite3
import threading

import harness


ctl = harness.sqledgectl


def table_lines(out):
    """{"schema.table": "the rest of its line"} from a verify report."""
    found = {}
    for line in out.splitlines():
        if line.startswith(" ") or ": " not in line:
            continue
        name, rest = line.split(": ", 1)
        if "." in name and name not in ("error", "ok"):
            found[name] = rest
    return found


SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), qty int8,
                    ratio float8, seen timestamptz, tags text[], doc jsonb, raw bytea,
                    flag bool, m mood, span interval);
CREATE TABLE "Mixed Case" (k text PRIMARY KEY, v int);
CREATE TABLE nokey (a int, b text);
ALTER TABLE nokey REPLICA IDENTITY FULL;
INSERT INTO items SELECT g, 'item ' || g || ' ü€😀', g * 1.25, g * 1000000000::int8,
       g / 7.0, '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour',
       ARRAY['a' || g, NULL], jsonb_build_object('g', g), decode(md5(g::text), 'hex'),
       g % 2 = 0, (ARRAY['sad','ok','happy'])[g % 3 + 1]::mood, g * interval '1 minute'
  FROM generate_series(1, 500) g;
INSERT INTO items (id, ratio) VALUES (0, '-0');
INSERT INTO "Mixed Case" VALUES ('x', 1), ('y', NULL);
INSERT INTO nokey VALUES (1, 'dup'), (1, 'dup'), (2, NULL);
"""


def test_verify_equal_while_the_upstream_writes(db, sqledge_factory):
    db.execute(SCHEMA)
    sq = sqledge_factory(db)
    sq.start()
    sq.wait_caught_up()

    stop = threading.Event()
    writes = [0]

    def writer():
        conn = db.connect()
        with conn.cursor() as cur:
            n = 1000
            while not stop.is_set():
                n += 1
                cur.execute("INSERT INTO items (id, name, qty) VALUES (%s, 'w', %s)", (n, n))
                cur.execute("UPDATE items SET qty = qty + 1 WHERE id = %s", (n % 500 + 1,))
                cur.execute("DELETE FROM items WHERE id = %s", (n - 20,))
                cur.execute("INSERT INTO nokey VALUES (%s, 'w')", (n,))
                writes[0] += 1
        conn.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        harness.wait_for(lambda: writes[0] >= 20, 30, "the writer to get going")
        for _ in range(3):
            out = ctl(sq, "verify")
            assert out.returncode == 0, out.stdout
            lines = table_lines(out.stdout)
            assert set(lines) == {"public.items", "public.Mixed Case", "public.nokey"}, \
                out.stdout
            assert all(v.startswith("equal, ") for v in lines.values()), out.stdout
            assert out.stdout.splitlines()[-1].startswith("ok: 3 tables equal at "), out.stdout
    finally:
        stop.set()
        t.join()
    assert writes[0] > 20
    # the hold is gone: replication goes on
    sq.wait_caught_up()
    assert "verify: comparing at" in sq.log()


def test_verify_finds_changed_missing_and_extra_rows(db, sqledge_factory):
    db.execute(SCHEMA)
    sq = sqledge_factory(db)
    sq.start()
    sq.wait_caught_up()

    # damage the copy behind sqledge's back (its own writer is idle: nothing changes upstream)
    local = sqlite3.connect(sq.db_path, timeout=30)
    table = local.execute("SELECT sqlite_name FROM _sqledge_relations "
                          "WHERE relname = 'items'").fetchone()[0]
    nokey = local.execute("SELECT sqlite_name FROM _sqledge_relations "
                          "WHERE relname = 'nokey'").fetchone()[0]
    local.execute('UPDATE "%s" SET name = \'tam\npered\' WHERE id = 7' % table)
    local.execute('DELETE FROM "%s" WHERE id = 8' % table)
    local.execute('DELETE FROM "%s" WHERE rowid IN (SELECT rowid FROM "%s" WHERE a = 1 '
                  'LIMIT 1)' % (nokey, nokey))
    local.commit()
    local.close()

    out = ctl(sq, "verify")
    assert out.returncode == 1, out.stdout
    lines = table_lines(out.stdout)
    assert lines["public.Mixed Case"].startswith("equal, 2 rows"), out.stdout
    assert lines["public.items"].startswith(
        "DIFFERS: 2 rows only upstream, 1 only in the copy (501 upstream, 500 in the copy)"), \
        out.stdout
    assert lines["public.nokey"].startswith(
        "DIFFERS: 1 row only upstream, 0 only in the copy (3 upstream, 2 in the copy)"), \
        out.stdout
    shown = [line.strip() for line in out.stdout.splitlines() if line.startswith("    ")]
    # one line per row: a newline in a value is escaped, as COPY does
    assert any(s.startswith("only in the copy: 7\ttam\\npered\t") for s in shown), out.stdout
    assert any(s.startswith("only upstream: 7\titem 7 ") for s in shown), out.stdout
    assert any(s.startswith("only upstream: 8\titem 8 ") for s in shown), out.stdout
    assert "only upstream: 1\tdup" in shown and len(shown) == 4, out.stdout
    # values show as COPY prints them, the same on both sides
    assert sum(s.count("\t\\\\x8f14e45fceea167a5a36dedd4bea2543\t") for s in shown) == 2, \
        out.stdout
    assert out.stdout.splitlines()[-1].startswith("error: 2 of 3 tables differ at "), out.stdout

    # one table named: only it is compared
    out = ctl(sq, "verify", "public.Mixed Case".replace(" ", "_"))
    assert out.returncode == 1 and "is neither published upstream nor in the copy" in \
        out.stdout, out.stdout
    out = ctl(sq, "verify", "nokey")
    assert out.returncode == 1 and set(table_lines(out.stdout)) == {"public.nokey"}, out.stdout
    db.execute("CREATE TABLE solo (id int PRIMARY KEY)")
    db.execute("INSERT INTO solo VALUES (1)")
    sq.wait_caught_up()
    out = ctl(sq, "verify", "public.solo")
    assert out.returncode == 0, out.stdout
    assert table_lines(out.stdout) == {"public.solo": "equal, 1 row"}, out.stdout
    # published after the sync and never changed: not copied yet, and nothing to copy
    db.execute("CREATE TABLE later (id int PRIMARY KEY)")
    out = ctl(sq, "verify", "later")
    assert out.returncode == 0, out.stdout
    assert table_lines(out.stdout)["public.later"].startswith(
        "equal, 0 rows (not in the copy yet"), out.stdout
    db.execute("INSERT INTO later VALUES (1)")
    db.execute("DELETE FROM later")
    db.execute("INSERT INTO later VALUES (2)")
    sq.wait_caught_up()
    out = ctl(sq, "verify", "later", "solo")
    assert out.returncode == 0, out.stdout
    assert table_lines(out.stdout) == {"public.later": "equal, 1 row",
                                       "public.solo": "equal, 1 row"}, out.stdout


def test_verify_refused_without_a_streaming_copy(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    sq = sqledge_factory(db)
    out = ctl(sq, "verify")
    assert out.returncode == 1 and "is sqledge running?" in out.stdout, out.stdout
    sq.start()
    sq.wait_caught_up()
    out = ctl(sq, "verify", "--all")
    assert out.returncode == 2 and "is not a table name" in out.stdout, out.stdout
    sq.stop()
    out = ctl(sq, "verify")
    assert out.returncode == 1, out.stdout


def test_a_verifier_that_dies_while_holding_releases_replication(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    db.execute("INSERT INTO t VALUES (1, 'one')")
    sq = sqledge_factory(db)
    sq.start(env={"SQLEDGE_FAILPOINTS": "verify-held"})
    sq.wait_caught_up()
    out = ctl(sq, "verify")
    # killed while the copy was held: no result, and sqledgectl says so
    assert out.returncode == 1, out.stdout
    assert "without an answer" in out.stdout or "ended without a result" in out.stdout, \
        out.stdout
    assert "verify-held" in sq.log(), sq.log_tail()
    # the master let the copy go: changes keep arriving
    db.execute("INSERT INTO t SELECT g, 'more' FROM generate_series(2, 100) g")
    sq.wait_caught_up()
    with sq.local_connect() as local:
        table = local.execute("SELECT sqlite_name FROM _sqledge_relations "
                              "WHERE relname = 't'").fetchone()[0]
        assert local.execute('SELECT count(*) FROM "%s"' % table).fetchone()[0] == 100
    # the failpoint fires once: the next verify runs to its end
    out = ctl(sq, "verify")
    assert out.returncode == 0 and table_lines(out.stdout) == {"public.t": "equal, 100 rows"}, \
        out.stdout
