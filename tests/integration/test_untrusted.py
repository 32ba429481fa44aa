# SPDX-License-Identifier: MIT
"""Upstream data and names are untrusted input: they arrive as data, never as SQL."""

import harness
from harness import assert_all_tables_equal, assert_table_equal

EVIL = [
    "'); DROP TABLE t; --",
    '"); DROP TABLE "select"; --',
    "Robert'); DROP TABLE students;--",
    "x' OR '1'='1",
    "\\'; SELECT 1; --",
    "?",
    ":name",
    "$1",
]


def test_values_and_identifiers_replicate_as_data(db, sqledge_factory):
    db.execute('''
        CREATE TABLE t (id int PRIMARY KEY, v text);
        CREATE TABLE "select" (id int PRIMARY KEY, "weird ""name""" text, "from" int);
        CREATE TABLE "Foo" (id int PRIMARY KEY, v text);
        CREATE TABLE foo (id int PRIMARY KEY, v text);
        CREATE TABLE "sqlite_master" (id int PRIMARY KEY, v text);
        CREATE TABLE "postgres_pos" (id int PRIMARY KEY, lsn text);
        CREATE TABLE "with space; and -- dash" (id int PRIMARY KEY, "?" text, "a.b" text);
    ''')

    def insert(base):
        for i, value in enumerate(EVIL):
            params = {"id": base + i, "v": value}
            db.execute("INSERT INTO t VALUES (%(id)s, %(v)s);"
                       'INSERT INTO "select" VALUES (%(id)s, %(v)s, %(id)s);'
                       'INSERT INTO "Foo" VALUES (%(id)s, %(v)s);'
                       "INSERT INTO foo VALUES (%(id)s, 'lower ' || %(v)s);"
                       'INSERT INTO "sqlite_master" VALUES (%(id)s, %(v)s);'
                       'INSERT INTO "postgres_pos" VALUES (%(id)s, %(v)s);'
                       'INSERT INTO "with space; and -- dash" VALUES (%(id)s, %(v)s, %(v)s)',
                       params)

    insert(1)  # copied by the initial sync
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    tables = assert_all_tables_equal(db, sq)
    assert len(tables) == 7

    insert(100)  # streamed
    db.execute('UPDATE "select" SET "weird ""name""" = %s WHERE id = 1;'
               'UPDATE "Foo" SET v = %s WHERE id = 2;'
               'DELETE FROM foo WHERE v = %s',
               (EVIL[1], EVIL[0], "lower " + EVIL[2]))
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)

    # nothing was dropped, the internal tables are intact and distinct from the upstream ones
    rels = sq.relations()
    assert rels[("public", "Foo")].lower() != rels[("public", "foo")].lower()
    for table in rels.values():
        sq.local_query("SELECT count(*) FROM %s" % harness.qi(table))
    pos = sq.position()
    assert harness.parse_lsn(pos["lsn"]) > 0
    assert rels[("public", "postgres_pos")] != "postgres_pos"
    assert rels[("public", "sqlite_master")].lower() != "sqlite_master"
    assert sq.local_count("t") == 2 * len(EVIL)


def test_columns_differing_only_in_case_stay_apart(db, sqledge_factory):
    db.execute('CREATE TABLE c (id int PRIMARY KEY, "A" text, a text, "a#2" text);'
               "INSERT INTO c VALUES (1, 'upper', 'lower', 'suffix')")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    db.execute("INSERT INTO c VALUES (2, 'U', 'L', 'S'); UPDATE c SET a = 'l2' WHERE id = 1")
    sq.wait_caught_up()
    assert_table_equal(db, sq, "c")
    names = [r[1] for r in sq.local_query("PRAGMA table_info(\"c\")")]
    assert len({n.lower() for n in names}) == 4, names
