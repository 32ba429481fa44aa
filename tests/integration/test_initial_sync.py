# SPDX-License-Identifier: MIT
"""Initial sync: the snapshot copy of the published tables into a new generation file."""

import os

import harness
from harness import assert_all_tables_equal


def test_initial_sync_copies_existing_rows(db, sqledge_factory):
    db.execute("""
        CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2));
        INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.25 FROM generate_series(1, 10000) g;
        CREATE TABLE events (id bigint PRIMARY KEY, account int, at timestamptz, payload bytea);
        INSERT INTO events SELECT g, g % 100, timestamptz '2024-01-01 00:00:00+00'
            + g * interval '1 minute', decode(md5(g::text), 'hex')
            FROM generate_series(1, 5000) g;
        CREATE TABLE tags (account int, tag text, PRIMARY KEY (tag, account));
        INSERT INTO tags SELECT g % 1000, 'tag' || (g % 7) FROM generate_series(1, 3000) g
            ON CONFLICT DO NOTHING;
        CREATE TABLE empty_one (id int PRIMARY KEY, v text);
    """)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up(timeout=120)
    assert assert_all_tables_equal(db, sq) == [("public", "accounts"), ("public", "empty_one"),
                                               ("public", "events"), ("public", "tags")]
    assert sq.local_count("accounts") == 10000
    assert sq.local_count("empty_one") == 0
    pos = sq.position()
    assert harness.parse_lsn(pos["lsn"]) > 0


def test_primary_key_declared_and_secondary_indexes_built(db, sqledge_factory):
    db.execute("""
        CREATE TABLE t (a int PRIMARY KEY, b text, c int);
        CREATE INDEX ON t (b);
        CREATE UNIQUE INDEX t_c_uniq ON t (c);
        CREATE TABLE pair (x int, y int, v text, PRIMARY KEY (y, x));
        INSERT INTO t SELECT g, 'b' || (g % 10), g FROM generate_series(1, 100) g;
        INSERT INTO pair VALUES (1, 2, 'one-two'), (2, 1, 'two-one');
    """)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    name = sq.local_name("t")
    (create,) = sq.local_query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (name,))[0]
    assert "PRIMARY KEY" in create.upper(), create
    indexed = []
    for (index,) in sq.local_query("SELECT name FROM sqlite_master WHERE type = 'index' "
                                   "AND tbl_name = ?", (name,)):
        cols = [r[2] for r in sq.local_query("SELECT * FROM pragma_index_info(?)", (index,))]
        indexed.append(cols)
    assert ["b"] in indexed, "no local index over b of t (indexes: %s)" % indexed
    assert ["c"] in indexed, "no local index over c of t (indexes: %s)" % indexed

    pair = sq.local_name("pair")
    (create,) = sq.local_query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (pair,))[0]
    assert "PRIMARY KEY" in create.upper(), create
    pk = sorted(r[1] for r in sq.local_query("SELECT * FROM pragma_table_info(?)", (pair,))
                if r[5])
    assert pk == ["x", "y"], pk

    keys = {r[0]: r[1] for r in sq.local_query(
        "SELECT c.attname, c.key_position FROM _sqledge_columns c "
        "JOIN _sqledge_relations r USING (relid) WHERE r.relname = 't'")}
    assert keys["a"], keys
    assert not keys["b"] and not keys["c"], keys


def test_only_configured_schemas_are_copied(db, sqledge_factory):
    db.execute("""
        CREATE SCHEMA other;
        CREATE TABLE public.things (id int PRIMARY KEY, v text);
        CREATE TABLE other.things (id int PRIMARY KEY, v text, extra int);
        CREATE TABLE other.only_other (id int PRIMARY KEY);
        INSERT INTO public.things SELECT g, 'public' FROM generate_series(1, 10) g;
        INSERT INTO other.things SELECT g, 'other', g FROM generate_series(1, 25) g;
        INSERT INTO other.only_other VALUES (1), (2);
    """)
    default = sqledge_factory(db).start()
    default.wait_caught_up()
    assert sorted(default.relations()) == [("public", "things")]
    assert_all_tables_equal(db, default)
    assert default.stop() == 0

    both = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_SCHEMA": "public,other",
                                    "SQLEDGE_REPLICATION_SLOT_NAME": db.slot + "_both"})
    both.start()
    both.wait_caught_up()
    rels = both.relations()
    assert sorted(rels) == [("other", "only_other"), ("other", "things"), ("public", "things")]
    assert_all_tables_equal(db, both)
    # the first schema keeps bare names; the other schema's table of the same name is elsewhere
    assert rels[("public", "things")] == "things"
    assert rels[("other", "things")].lower() != "things"
    assert both.local_query("SELECT DISTINCT v FROM things") == [("public",)]
    db.execute("INSERT INTO other.things VALUES (100, 'other later', 1);"
               "INSERT INTO public.things VALUES (100, 'public later')")
    both.wait_caught_up()
    assert_all_tables_equal(db, both)


def test_sqledge_db_is_what_sqlite3_opens(db, sqledge_factory):
    db.execute("CREATE TABLE my_table (id serial PRIMARY KEY, names text);"
               "INSERT INTO my_table (names) VALUES ('Jane'), ('John'), ('Jim')")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    res = sq.run_sqlite3("./sqledge.db", ".schema")
    assert res.returncode == 0, res.stdout
    assert "CREATE TABLE" in res.stdout and "my_table" in res.stdout, res.stdout
    res = sq.run_sqlite3("./sqledge.db", "select count(*) from my_table")
    assert res.returncode == 0, res.stdout
    assert res.stdout.strip() == "3"
    res = sq.run_sqlite3("./sqledge.db", "select names from my_table order by id")
    assert res.stdout.split() == ["Jane", "John", "Jim"]


def _load_tables(db, tables=3, rows=20000):
    for i in range(tables):
        db.execute("CREATE TABLE big%d (id int PRIMARY KEY, v text);"
                   "INSERT INTO big%d SELECT g, repeat(md5(g::text), 4) "
                   "FROM generate_series(1, %d) g" % (i, i, rows))


def test_crash_during_initial_sync_restarts_cleanly(db, sqledge_factory):
    _load_tables(db)
    sq = sqledge_factory(db).start(env={"SQLEDGE_FAILPOINTS": "sync-mid-copy"})
    sq.wait_restarts(1, timeout=60)
    sq.wait_caught_up(timeout=120)
    assert_all_tables_equal(db, sq)
    current = os.path.realpath(sq.db_path)
    harness.wait_for(lambda: sq.generation_files() == [current], 30,
                     "the partial generation file to be removed (files: %s)"
                     % sq.generation_files(), alive=sq)
    assert sq.repl_restarts() == 1  # the respawned worker ran without the failpoint


def test_crash_during_resync_keeps_previous_copy_readable(db, sqledge_factory):
    old_rows = 5000
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text);"
               "INSERT INTO t SELECT g, 'old' FROM generate_series(1, %d) g" % old_rows)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    before = sq.generation()
    assert sq.stop() == 0
    db.cluster.drop_slots(names=[db.slot])
    # enough new rows that the second copy takes a while after the respawn
    db.execute("UPDATE t SET v = 'new';"
               "INSERT INTO t SELECT g, 'new' FROM generate_series(%d, 200000) g"
               % (old_rows + 1))
    new_rows = 200000

    def counts():
        return sq.local_query("SELECT count(*), total(v = 'old'), total(v = 'new') FROM t")[0]

    old_state = (old_rows, float(old_rows), 0.0)
    new_state = (new_rows, 0.0, float(new_rows))
    sq.start(env={"SQLEDGE_FAILPOINTS": "sync-before-switch"})
    sq.wait_restarts(1, timeout=90)
    # the worker died just before switching: ./sqledge.db is still the previous copy
    seen_after_crash = counts()
    assert seen_after_crash in (old_state, new_state), seen_after_crash
    assert seen_after_crash == old_state, (
        "the respawned worker finished the resync before the old copy could be checked")
    # every read on the way to the new copy sees one whole copy or the other
    partial = []

    def switched():
        state = counts()
        if state not in (old_state, new_state):
            partial.append(state)
        return state == new_state and sq.state() == "streaming"

    try:
        harness.wait_for(switched, 120, "the resync to finish", alive=sq)
    finally:
        assert not partial, "reads saw a partial copy: %s" % partial[:5]
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    assert sq.generation() > before
