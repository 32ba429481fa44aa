# SPDX-License-Identifier: MIT
"""Every kind of table replicates exactly: no primary key with REPLICA IDENTITY FULL (a delete
removes one of several equal rows, NULLs included), a unique index as replica identity,
generated columns, partitioned tables published through their leaves or their root, and names
SQLite treats specially (case, reserved prefixes, postgres_pos, several schemas). Each is checked
with `sqledgectl verify` and, where the proxy reads it, by the answers."""

import harness
from test_local import raw_answer, raw_direct, raw_proxy


def same_answer(db, sq, sql):
    through, direct = raw_proxy(sq), raw_direct(db)
    try:
        got, want = raw_answer(through, sql), raw_answer(direct, sql)
    finally:
        through.close()
        direct.close()
    assert got == want, sql
    return got


def test_replica_identity_full_and_unique_index(db, sqledge_factory):
    db.execute("""
        CREATE TABLE nokey (a int, b text, c float8);
        ALTER TABLE nokey REPLICA IDENTITY FULL;
        INSERT INTO nokey VALUES (1, NULL, NULL), (1, NULL, NULL), (NULL, NULL, NULL),
                                 (NULL, NULL, NULL), (2, 'x', 'NaN'), (2, 'x', 'NaN'),
                                 (3, 'y', '-0'), (3, 'y', '-0');
        CREATE TABLE byindex (a int NOT NULL, b text, c int);
        CREATE UNIQUE INDEX byindex_a ON byindex (a);
        ALTER TABLE byindex REPLICA IDENTITY USING INDEX byindex_a;
        INSERT INTO byindex SELECT g, 'v' || g, g FROM generate_series(1, 20) g;
    """)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    harness.assert_verified(sq)

    one = "(SELECT ctid FROM nokey WHERE %s LIMIT 1)"
    db.execute("DELETE FROM nokey WHERE ctid = " + one % "a = 1")
    db.execute("DELETE FROM nokey WHERE ctid = " + one % "a IS NULL")
    db.execute("UPDATE nokey SET b = 'changed' WHERE ctid = " + one % "a = 2")
    db.execute("DELETE FROM nokey WHERE ctid = " + one % "a = 3")
    db.execute("UPDATE byindex SET a = a + 100 WHERE a <= 5")
    db.execute("UPDATE byindex SET b = NULL WHERE a = 10")
    db.execute("DELETE FROM byindex WHERE a IN (11, 12)")
    sq.wait_caught_up()
    out = harness.assert_verified(sq)
    assert "public.nokey: equal, 5 rows" in out, out
    assert "public.byindex: equal, 18 rows" in out, out
    harness.assert_table_equal(db, sq, "nokey")
    harness.assert_table_equal(db, sq, "byindex")


def test_generated_columns(db, sqledge_factory):
    db.execute("CREATE TABLE gen (id int PRIMARY KEY, a int, "
               "twice int GENERATED ALWAYS AS (a * 2) STORED);"
               "INSERT INTO gen (id, a) VALUES (1, 10), (2, NULL)")
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
    sq.wait_caught_up()
    db.execute("INSERT INTO gen (id, a) VALUES (3, 30); UPDATE gen SET a = 11 WHERE id = 1")
    sq.wait_caught_up()
    # PostgreSQL publishes no generated column: the copy has the others, exactly
    assert "public.gen: equal, 3 rows" in harness.assert_verified(sq)
    # and a read of the generated column gets the upstream's answer
    same_answer(db, sq, "SELECT id, a, twice FROM gen ORDER BY id")
    same_answer(db, sq, "SELECT * FROM gen ORDER BY id")
    same_answer(db, sq, "SELECT id, a FROM gen ORDER BY id")


PARTITIONED = """
CREATE TABLE events (id int, at date, what text, PRIMARY KEY (id, at, what))
    PARTITION BY RANGE (at);
CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
    PARTITION BY LIST (what);
CREATE TABLE events_2024_a PARTITION OF events_2024 FOR VALUES IN ('a');
CREATE TABLE events_2024_rest PARTITION OF events_2024 DEFAULT;
INSERT INTO events SELECT g, date '2023-06-01' + g * 2, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END
    FROM generate_series(1, 200) g;
"""


def partition_changes(db):
    db.execute("INSERT INTO events VALUES (1000, '2024-05-05', 'a'), (1001, '2023-02-02', 'z');"
               "UPDATE events SET at = '2024-02-02' WHERE id = 1;"  # moves across partitions
               "UPDATE events SET what = 'a' WHERE id = 101;"
               "UPDATE events SET what = 'c' WHERE id = 150;"
               "DELETE FROM events WHERE id IN (2, 199)")


def test_partitioned_table_published_through_its_leaves(db, sqledge_factory):
    db.execute(PARTITIONED)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    partition_changes(db)
    sq.wait_caught_up()
    out = harness.assert_verified(sq)
    for leaf in ("events_2023", "events_2024_a", "events_2024_rest"):
        assert "public.%s: equal" % leaf in out, out
    assert "public.events:" not in out, out
    same_answer(db, sq, "SELECT * FROM events ORDER BY id")
    same_answer(db, sq, "SELECT count(*) FROM events_2024_a")


def test_partitioned_table_published_through_its_root(db, sqledge_factory):
    db.execute(PARTITIONED)
    db.execute("CREATE PUBLICATION %s FOR TABLE events WITH (publish_via_partition_root = true)"
               % harness.qi(db.publication))
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    partition_changes(db)
    sq.wait_caught_up()
    out = harness.assert_verified(sq)
    assert "public.events: equal, 200 rows" in out, out
    assert "events_2023" not in out, out
    harness.assert_table_equal(db, sq, "events")
    same_answer(db, sq, "SELECT * FROM events ORDER BY id")


NAMES = """
CREATE SCHEMA other;
CREATE SCHEMA "Mixed";
CREATE TABLE "Users" (id int PRIMARY KEY, v text);
CREATE TABLE users (id int PRIMARY KEY, v text);
CREATE TABLE "USERS" (id int PRIMARY KEY, v text);
CREATE TABLE other.users (id int PRIMARY KEY, v text);
CREATE TABLE "Mixed"."Users" (id int PRIMARY KEY, v text);
CREATE TABLE postgres_pos (id int PRIMARY KEY, lsn text);
CREATE TABLE sqlite_stat1 (id int PRIMARY KEY, v text);
CREATE TABLE "sqlite_master" (id int PRIMARY KEY, v text);
CREATE TABLE "_sqledge_relations" (id int PRIMARY KEY, v text);
CREATE TABLE "select" ("from" int PRIMARY KEY, "where" text, "rowid" int, "oid" int);
CREATE TABLE "with space" ("a b" int PRIMARY KEY, "C" text, c text);
"""

NAMED_TABLES = ['"Users"', 'users', '"USERS"', 'other.users', '"Mixed"."Users"', 'postgres_pos',
                'sqlite_stat1', '"sqlite_master"', '"_sqledge_relations"', '"select"',
                '"with space"']


def test_names_sqlite_treats_specially(db, sqledge_factory):
    db.execute(NAMES)
    for i, table in enumerate(NAMED_TABLES):
        db.execute("INSERT INTO %s VALUES (%d, 'initial %s')" % (table, i, table.replace("'", ""))
                   if table != '"select"' else
                   "INSERT INTO \"select\" VALUES (%d, 'initial', 1, 2)" % i)
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_SCHEMA": 'public, other, Mixed',
                                  "SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
    sq.wait_caught_up()
    for i, table in enumerate(NAMED_TABLES):
        if table == '"select"':
            db.execute("INSERT INTO \"select\" VALUES (%d, 'streamed', 3, 4)" % (i + 100))
        elif table == '"with space"':
            db.execute("INSERT INTO \"with space\" VALUES (%d, 'C', 'c')" % (i + 100))
        else:
            db.execute("INSERT INTO %s VALUES (%d, 'streamed')" % (table, i + 100))
    db.execute("UPDATE postgres_pos SET lsn = 'not ours'")
    sq.wait_caught_up()
    out = harness.assert_verified(sq)
    assert out.splitlines()[-1].startswith("ok: 11 tables equal"), out
    # every table kept apart, and the mapping recorded
    mapping = sq.local_query("SELECT nspname, relname, sqlite_name FROM _sqledge_relations")
    assert len(mapping) == 11 and len({m[2].lower() for m in mapping}) == 11, mapping
    assert ("other", "users", "other.users") in mapping, mapping
    # sqledge's own position is untouched by the table of the same name
    assert sq.local_query("SELECT count(*) FROM postgres_pos")[0][0] == 1
    assert sq.applied_lsn() > 0
    for table in NAMED_TABLES:
        same_answer(db, sq, "SELECT * FROM %s ORDER BY 1" % table)


def copied(sq):
    return sorted(k for k, v in sq.relations().items() if v)


def test_table_patterns_choose_what_is_replicated(db, sqledge_factory):
    db.execute("CREATE SCHEMA inv;"
               "CREATE TABLE orders (id int PRIMARY KEY, v text);"
               "CREATE TABLE orders_archive (id int PRIMARY KEY, v text);"
               "CREATE TABLE customers (id int PRIMARY KEY, v text);"
               "CREATE TABLE inv.stock (id int PRIMARY KEY, v text);"
               "CREATE TABLE inv.orders_x (id int PRIMARY KEY, v text);"
               "CREATE TABLE inv.other (id int PRIMARY KEY, v text)")
    for t in ("orders", "orders_archive", "customers", "inv.stock", "inv.orders_x", "inv.other"):
        db.execute("INSERT INTO %s VALUES (1, 'one')" % t)
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_SCHEMA": "public, inv",
                                  "SQLEDGE_UPSTREAM_TABLES": "orders*, inv.stock",
                                  "SQLEDGE_UPSTREAM_EXCLUDE_TABLES": "orders_archive",
                                  "SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
    sq.wait_caught_up()
    assert copied(sq) == [("inv", "orders_x"), ("inv", "stock"), ("public", "orders")]

    # streaming: a new table the patterns take, one they do not, changes to tables left out
    db.execute("CREATE TABLE orders_2025 (id int PRIMARY KEY, v text);"
               "INSERT INTO orders_2025 VALUES (1, 'new');"
               "CREATE TABLE notes (id int PRIMARY KEY, v text);"
               "INSERT INTO notes VALUES (1, 'left out');"
               "INSERT INTO orders_archive VALUES (2, 'left out');"
               "INSERT INTO customers VALUES (2, 'left out');"
               "INSERT INTO orders VALUES (2, 'two'); INSERT INTO inv.stock VALUES (2, 'two')")
    sq.wait_caught_up()
    assert copied(sq) == [("inv", "orders_x"), ("inv", "stock"), ("public", "orders"),
                          ("public", "orders_2025")]
    out = harness.assert_verified(sq)
    assert out.splitlines()[-1].startswith("ok: 4 tables equal"), out
    # a table left out is read upstream
    same_answer(db, sq, "SELECT * FROM customers ORDER BY id")
    same_answer(db, sq, "SELECT * FROM orders ORDER BY id")

    # other patterns make a new copy at the next start
    sq.stop()
    sq.start(env={"SQLEDGE_UPSTREAM_EXCLUDE_TABLES": "orders_archive, orders_2*"})
    sq.wait_caught_up()
    assert copied(sq) == [("inv", "orders_x"), ("inv", "stock"), ("public", "orders")]
    assert "table patterns changed" in sq.log()
