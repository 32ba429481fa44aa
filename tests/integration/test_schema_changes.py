"""Relations that appear, change or vanish while sqledge streams: each is copied on its own
(a table sync at a known position) and then follows the stream, so the copy stays equal."""
from harness import assert_all_tables_equal, assert_table_equal, qi


def test_table_added_to_publication_later_gets_its_existing_rows(db, sqledge_factory):
    db.execute("CREATE TABLE a (id int PRIMARY KEY, v text);"
               "CREATE TABLE b (id int PRIMARY KEY, v text);"
               "INSERT INTO a VALUES (1, 'a1');"
               "INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 500) g;"
               "CREATE PUBLICATION %s FOR TABLE a" % qi(db.publication))
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    db.execute("ALTER PUBLICATION %s ADD TABLE b" % qi(db.publication))
    db.execute("INSERT INTO b VALUES (1000, 'new'); UPDATE b SET v = 'changed' WHERE id = 2;"
               "DELETE FROM b WHERE id = 3")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    assert sq.local_count("b") == 500
    assert "found no local row" not in sq.log()


def test_table_added_to_publication_without_a_change_since(db, sqledge_factory):
    """No row change brings it through the stream: the catalog check copies it."""
    import harness

    db.execute("CREATE TABLE a (id int PRIMARY KEY, v text);"
               "CREATE TABLE b (id int PRIMARY KEY, v text);"
               "INSERT INTO a VALUES (1, 'a1');"
               "INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 300) g;"
               "CREATE PUBLICATION %s FOR TABLE a" % qi(db.publication))
    sq = sqledge_factory(db, env={"SQLEDGE_REPLICATION_RECONCILE_INTERVAL": "1"}).start()
    sq.wait_caught_up()
    db.execute("ALTER PUBLICATION %s ADD TABLE b" % qi(db.publication))
    harness.wait_for(lambda: ("public", "b") in sq.relations(), 30, "b in the copy")
    out = harness.assert_verified(sq)
    assert "public.b: equal, 300 rows" in out, out
    db.execute("UPDATE b SET v = 'changed' WHERE id = 2")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)


def test_table_created_and_filled_in_separate_transactions(db, sqledge_factory):
    db.execute("CREATE TABLE a (id int PRIMARY KEY)")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    db.execute("CREATE TABLE later (id serial PRIMARY KEY, names text)")
    for name in ("Jane", "John", "Joan"):
        db.execute("INSERT INTO later (names) VALUES (%s)", (name,))
    db.execute("UPDATE later SET names = 'Jo' WHERE names = 'Joan'")
    sq.wait_caught_up()
    assert_table_equal(db, sq, "later")
    assert sq.local_count("later") == 3


def test_table_dropped_and_created_again_under_the_same_name(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text);"
               "INSERT INTO t SELECT g, 'old' || g FROM generate_series(1, 3) g")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    db.execute("DROP TABLE t; CREATE TABLE t (id int PRIMARY KEY, v text);"
               "INSERT INTO t VALUES (42, 'new')")
    sq.wait_caught_up()
    assert sq.local_name("t") == "t"
    assert sq.local_query('SELECT * FROM "t"') == [(42, "new")]
    assert_all_tables_equal(db, sq)


def test_added_and_dropped_columns_are_followed(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, a text, b int);"
               "INSERT INTO t SELECT g, 'a' || g, g FROM generate_series(1, 100) g")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    # a default fills existing rows upstream without any row change in the stream
    db.execute("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 7")
    db.execute("INSERT INTO t VALUES (101, 'x', 1, 8)")
    db.execute("ALTER TABLE t DROP COLUMN b")
    db.execute("UPDATE t SET a = 'y' WHERE id = 5")
    db.execute("ALTER TABLE t ALTER COLUMN a TYPE varchar(10)")
    db.execute("INSERT INTO t VALUES (102, 'z', 9)")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    assert [r[0] for r in sq.local_query(
        "SELECT attname FROM _sqledge_columns c JOIN _sqledge_relations r USING (relid) "
        "WHERE r.relname = 't' ORDER BY position")] == ["id", "a", "c"]


def test_configured_schema_list_change_resyncs(db, sqledge_factory):
    db.execute("CREATE SCHEMA s2; CREATE TABLE public.a (id int PRIMARY KEY);"
               "CREATE TABLE s2.x (id int PRIMARY KEY, v text);"
               "INSERT INTO s2.x SELECT g, 'x' || g FROM generate_series(1, 5) g")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    before = sq.generation()
    assert sq.stop() == 0
    sq.env["SQLEDGE_UPSTREAM_SCHEMA"] = "public,s2"
    sq.start()
    sq.wait_caught_up()
    db.execute("INSERT INTO s2.x VALUES (100, 'new')")
    sq.wait_caught_up()
    assert sq.generation() > before
    assert_all_tables_equal(db, sq)
    assert sq.local_count("s2.x") == 6


def test_table_without_columns_does_not_block_replication(db, sqledge_factory):
    db.execute("CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1);"
               "CREATE TABLE empty (); ALTER TABLE empty REPLICA IDENTITY FULL;"
               "CREATE PUBLICATION %s FOR ALL TABLES" % qi(db.publication))
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    db.execute("INSERT INTO a VALUES (2); INSERT INTO empty DEFAULT VALUES")
    sq.wait_caught_up()
    assert sq.local_count("a") == 2
    assert "has no replicated columns" in sq.log()


def local_tables(sq):
    return sorted((n, r) for (n, r), s in sq.relations().items() if s)


def test_catalog_changes_the_stream_does_not_carry(db, sqledge_factory):
    """A rename, a drop, a table removed from the publication and a new index show up in the
    change stream late or never: the catalog check finds them."""
    import harness
    from test_every_table import same_answer

    db.execute("CREATE TABLE keep (id int PRIMARY KEY, v text);"
               "CREATE TABLE renamed (id int PRIMARY KEY, v text);"
               "CREATE INDEX renamed_v ON renamed (v);"
               "CREATE TABLE dropped (id int PRIMARY KEY, v text);"
               "CREATE TABLE unpublished (id int PRIMARY KEY, v text);"
               "INSERT INTO keep VALUES (1, 'k'); INSERT INTO renamed VALUES (1, 'r');"
               "INSERT INTO dropped VALUES (1, 'd'); INSERT INTO unpublished VALUES (1, 'u');"
               "CREATE PUBLICATION %s FOR TABLE keep, renamed, dropped, unpublished"
               % qi(db.publication))
    sq = sqledge_factory(db, env={"SQLEDGE_REPLICATION_RECONCILE_INTERVAL": "1",
                                  "SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
    sq.wait_caught_up()
    assert local_tables(sq) == [("public", "dropped"), ("public", "keep"),
                                ("public", "renamed"), ("public", "unpublished")]

    db.execute("ALTER TABLE renamed RENAME TO now_named")
    db.execute("DROP TABLE dropped")
    db.execute("ALTER PUBLICATION %s DROP TABLE unpublished" % qi(db.publication))
    db.execute("CREATE INDEX keep_v ON keep (v)")
    harness.wait_for(lambda: local_tables(sq) == [("public", "keep"), ("public", "now_named")],
                     30, "the copy to follow the catalog")
    assert sq.local_name("now_named") == "now_named"
    harness.wait_for(lambda: sq.local_query(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'keep:keep_v'"
    )[0][0] == 1, 30, "the new index")
    # the renamed table's index is mirrored under its new name only
    harness.wait_for(lambda: sorted(r[0] for r in sq.local_query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'now_named' "
        "AND name NOT LIKE 'sqlite_autoindex%'")) == ["now_named:renamed_v"], 30,
        "the renamed table's index")
    out = harness.assert_verified(sq)
    assert out.splitlines()[-1].startswith("ok: 2 tables equal"), out
    # the proxies read the renamed table under its new name, and the old name fails as
    # upstream
    same_answer(db, sq, "SELECT * FROM now_named ORDER BY id")
    same_answer(db, sq, "SELECT * FROM renamed ORDER BY id")
    db.execute("INSERT INTO now_named VALUES (2, 'r2')")
    sq.wait_caught_up()
    assert_table_equal(db, sq, "now_named")


def test_changed_primary_key_rebuilds_the_table(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL, v int);"
               "INSERT INTO t SELECT g, 'c' || g, g FROM generate_series(1, 50) g")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    db.execute("ALTER TABLE t DROP CONSTRAINT t_pkey; ALTER TABLE t ADD PRIMARY KEY (code)")
    db.execute("UPDATE t SET v = -v WHERE id <= 5; DELETE FROM t WHERE code = 'c10'")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    local = sq.local_name("t")
    pk = [r[1] for r in sq.local_query('PRAGMA table_info("%s")' % local) if r[5]]
    assert pk == ["code"], pk


def test_ddl_trigger_brings_catalog_changes_through_the_stream(db, sqledge_factory):
    """With [replication] ddl_trigger an event trigger upstream puts a message into the stream
    after each DDL command, and the copy follows at once (the periodic check is off here)."""
    import harness

    db.execute("CREATE TABLE old_name (id int PRIMARY KEY, v text);"
               "CREATE TABLE gone (id int PRIMARY KEY);"
               "INSERT INTO old_name VALUES (1, 'x'); INSERT INTO gone VALUES (1)")
    sq = sqledge_factory(db, env={"SQLEDGE_REPLICATION_DDL_TRIGGER": "true",
                                  "SQLEDGE_REPLICATION_RECONCILE_INTERVAL": "0"}).start()
    sq.wait_caught_up()
    assert db.scalar("SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'sqledge%'") == 2
    db.execute("ALTER TABLE old_name RENAME TO new_name")
    db.execute("DROP TABLE gone")
    db.execute("CREATE INDEX new_name_v ON new_name (v)")
    harness.wait_for(lambda: local_tables(sq) == [("public", "new_name")], 30,
                     "the rename and the drop to reach the copy")
    harness.wait_for(lambda: sq.local_query(
        "SELECT count(*) FROM sqlite_master WHERE name = 'new_name:new_name_v'")[0][0] == 1,
        30, "the new index")
    assert "created event triggers" in sq.log()


def test_rename_inside_a_transaction_and_a_move_out_of_the_schemas(db, sqledge_factory):
    """Rows before and after a rename in one upstream transaction land in the renamed table;
    a table moved to a schema that is not replicated leaves the copy."""
    db.execute("CREATE SCHEMA elsewhere;"
               "CREATE TABLE r (id int PRIMARY KEY, v text); INSERT INTO r VALUES (1, 'one');"
               "CREATE TABLE moving (id int PRIMARY KEY); INSERT INTO moving VALUES (1)")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    db.execute("BEGIN; INSERT INTO r VALUES (2, 'two'); ALTER TABLE r RENAME TO r2;"
               "INSERT INTO r2 VALUES (3, 'three'); COMMIT")
    db.execute("INSERT INTO r2 VALUES (4, 'four')")
    db.execute("ALTER TABLE moving SET SCHEMA elsewhere")
    db.execute("INSERT INTO elsewhere.moving VALUES (2)")
    sq.wait_caught_up()
    assert local_tables(sq) == [("public", "r2")]
    assert sq.local_name("r2") == "r2"
    assert_table_equal(db, sq, "r2")
    assert sq.repl_restarts() == 0
