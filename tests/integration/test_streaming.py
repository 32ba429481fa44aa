# SPDX-License-Identifier: MIT
"""Streaming: changes after the initial sync, applied transaction by transaction."""

import contextlib
import threading

import harness
from harness import assert_all_tables_equal, assert_table_equal


def _started(db, sqledge_factory, **kw):
    sq = sqledge_factory(db, **kw).start()
    sq.wait_caught_up()
    return sq


def test_insert_update_delete_truncate_replicate(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text, n int);"
               "CREATE TABLE u (id int PRIMARY KEY, w text)")
    sq = _started(db, sqledge_factory)
    db.execute("INSERT INTO t SELECT g, 'v' || g, g FROM generate_series(1, 100) g;"
               "INSERT INTO u SELECT g, 'w' || g FROM generate_series(1, 10) g")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    db.execute("UPDATE t SET v = 'updated', n = NULL WHERE id % 7 = 0;"
               "UPDATE t SET n = n * 1000 WHERE id % 5 = 0")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    db.execute("DELETE FROM t WHERE id % 3 = 0")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    assert sq.local_count("t") == 67
    db.execute("TRUNCATE t")
    sq.wait_caught_up()
    assert sq.local_count("t") == 0
    db.execute("INSERT INTO t VALUES (1, 'after truncate', 1)")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    db.execute("TRUNCATE t, u")
    sq.wait_caught_up()
    assert sq.local_count("t") == 0 and sq.local_count("u") == 0
    assert_all_tables_equal(db, sq)


def test_table_created_after_start_appears_with_its_rows(db, sqledge_factory):
    sq = _started(db, sqledge_factory)
    assert sq.relations() == {}
    db.execute("CREATE TABLE my_table (id serial primary key, names text);"
               "INSERT INTO my_table (names) VALUES ('Jane'), ('John')")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    name = sq.local_name("my_table")
    assert sq.local_query("SELECT id, names FROM %s ORDER BY id" % harness.qi(name)) == [
        (1, "Jane"), (2, "John")]


def test_update_changing_the_primary_key(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text);"
               "CREATE TABLE pair (a int, b text, v text, PRIMARY KEY (a, b));"
               "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 10) g;"
               "INSERT INTO pair VALUES (1, 'x', 'one'), (2, 'y', 'two')")
    sq = _started(db, sqledge_factory)
    db.execute("UPDATE t SET id = id + 100 WHERE id <= 5;"
               "UPDATE t SET id = -id, v = 'negated' WHERE id = 6;"
               "UPDATE pair SET b = 'z' WHERE a = 1;"
               "UPDATE pair SET a = a + 10, v = 'moved' WHERE a = 2")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    assert sq.local_count("t") == 10
    # one transaction moving a key onto the place another key just left
    db.execute("BEGIN; UPDATE t SET id = 1000 WHERE id = 7; UPDATE t SET id = 7 WHERE id = 8;"
               "COMMIT")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)


def test_replica_identity_full_with_duplicate_rows(db, sqledge_factory):
    db.execute("CREATE TABLE t (a int, b text);"
               "ALTER TABLE t REPLICA IDENTITY FULL;"
               "INSERT INTO t VALUES (1, 'x'), (1, 'x'), (2, 'y'), (3, NULL), (3, NULL)")
    sq = _started(db, sqledge_factory)
    assert_table_equal(db, sq, "t")
    db.execute("DELETE FROM t WHERE ctid = (SELECT ctid FROM t WHERE a = 1 LIMIT 1)")
    sq.wait_caught_up()
    assert_table_equal(db, sq, "t")
    assert sorted(sq.local_query("SELECT a, b FROM %s WHERE a = 1" % harness.qi(
        sq.local_name("t")))) == [(1, "x")]
    db.execute("INSERT INTO t VALUES (1, 'x');"
               "UPDATE t SET b = 'z' WHERE ctid = (SELECT ctid FROM t WHERE a = 1 LIMIT 1);"
               "UPDATE t SET b = 'n' WHERE ctid = (SELECT ctid FROM t WHERE a = 3 LIMIT 1)")
    sq.wait_caught_up()
    assert_table_equal(db, sq, "t")
    rows = sorted(sq.local_query("SELECT a, b FROM %s" % harness.qi(sq.local_name("t"))),
                  key=repr)
    assert rows == sorted([(1, "x"), (1, "z"), (2, "y"), (3, None), (3, "n")], key=repr)


def test_transaction_is_applied_atomically(db, sqledge_factory):
    db.execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY)")
    sq = _started(db, sqledge_factory)
    query = "SELECT (SELECT count(*) FROM %s), (SELECT count(*) FROM %s)" % (
        harness.qi(sq.local_name("a")), harness.qi(sq.local_name("b")))
    seen = []
    stop = threading.Event()

    def reader():
        with contextlib.closing(sq.local_connect()) as conn:
            while not stop.is_set():
                seen.append(conn.execute(query).fetchone())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        for k in range(5):
            db.execute("BEGIN;"
                       "INSERT INTO a SELECT g FROM generate_series(%(lo)s, %(hi)s) g;"
                       "INSERT INTO b SELECT g FROM generate_series(%(lo)s, %(hi)s) g;"
                       "COMMIT", {"lo": k * 1000 + 1, "hi": (k + 1) * 1000})
        sq.wait_caught_up()
    finally:
        stop.set()
        thread.join(10)
    partial = sorted({s for s in seen if s[0] != s[1] or s[0] % 1000})
    assert not partial, "the reader saw partial transactions: %s" % partial[:10]
    assert sq.local_query(query) == [(5000, 5000)]
    assert len(seen) > 10, "the reader hardly ran (%d reads)" % len(seen)
    assert_all_tables_equal(db, sq)


def test_large_transaction(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text, n bigint)")
    sq = _started(db, sqledge_factory)
    db.execute("INSERT INTO t SELECT g, md5(g::text), g * 7 FROM generate_series(1, 300000) g")
    sq.wait_caught_up(timeout=240)
    assert sq.local_count("t") == 300000
    assert_table_equal(db, sq, "t")


def test_logical_message_is_ignored_safely(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    sq = _started(db, sqledge_factory)
    db.execute("INSERT INTO t VALUES (1, 'before');"
               "SELECT pg_logical_emit_message(false, 'sqledge-test', 'outside a transaction');"
               "SELECT pg_logical_emit_message(false, 'sqledge-test', '\\x00ff'::bytea)")
    db.execute("BEGIN;"
               "INSERT INTO t VALUES (2, 'in');"
               "SELECT pg_logical_emit_message(true, 'sqledge-test', 'in a transaction');"
               "INSERT INTO t VALUES (3, 'in');"
               "SELECT pg_logical_emit_message(false, 'sqledge-test', 'non-transactional');"
               "COMMIT")
    db.execute("BEGIN;"
               "INSERT INTO t VALUES (4, 'rolled back');"
               "SELECT pg_logical_emit_message(true, 'sqledge-test', 'rolled back');"
               "ROLLBACK")
    db.execute("INSERT INTO t VALUES (5, 'after')")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    assert sq.local_count("t") == 4
    sq.check_running()


def test_position_stored_in_postgres_pos(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    sq = _started(db, sqledge_factory)
    with contextlib.closing(db.connect(autocommit=False)) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO t VALUES (1, 'x')")
        cur.execute("SELECT pg_current_wal_insert_lsn()::text")
        before_commit = harness.parse_lsn(cur.fetchone()[0])
        conn.commit()
    sq.wait_caught_up()
    pos = sq.position()
    lsn = harness.parse_lsn(pos["lsn"])
    assert lsn > before_commit, "stored %s, the commit ends after %s" % (
        pos["lsn"], harness.format_lsn(before_commit))
    assert pos["lsn_int"] == lsn
    assert pos["slot_name"] == db.slot
    assert pos["publication"] == db.publication
    assert pos["system_id"] == str(db.scalar("SELECT system_identifier FROM pg_control_system()"))
    assert pos["timeline"] == db.scalar("SELECT timeline_id FROM pg_control_checkpoint()")
    assert harness.parse_lsn(pos["consistent_point"]) > 0
    assert pos["synced_at"]

    # the slot is told about a position only once it is durable locally
    violations = []

    def flushed_past_commit():
        confirmed = harness.parse_lsn(db.slot_info()["confirmed_flush_lsn"])
        stored = harness.parse_lsn(sq.position()["lsn"])  # read second: it only grows
        if confirmed > stored:
            violations.append("slot confirmed %s, local copy has %s" % (
                harness.format_lsn(confirmed), harness.format_lsn(stored)))
        return confirmed >= before_commit

    try:
        harness.wait_for(flushed_past_commit, 30,
                         "the slot's confirmed_flush_lsn to pass the commit", alive=sq)
    finally:
        assert not violations, violations[0]


def test_idle_upstream_keepalive_advances_applied_position(db, sqledge_factory):
    db.execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);"
               "CREATE PUBLICATION %s FOR TABLE a;"
               "INSERT INTO a VALUES (1)" % db.publication)
    sq = _started(db, sqledge_factory)
    txns = sq.replication().get("txns_applied")
    # WAL that the publication does not carry: only keepalives can move the position
    db.execute("INSERT INTO b SELECT g FROM generate_series(1, 20000) g")
    db.execute("UPDATE b SET id = id + 100000")
    sq.wait_caught_up(timeout=60)
    assert sorted(sq.relations()) == [("public", "a")]
    assert_all_tables_equal(db, sq)
    assert sq.replication().get("txns_applied") == txns


def test_status_updates_continue_during_a_huge_transaction(db, sqledge_factory):
    """The walsender drops a client that stays silent for wal_sender_timeout; while sqledge
    applies one huge transaction (several seconds) it must keep reporting, with the old flush
    position. A 2 s timeout makes a silent apply lose its connection."""
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    sq = _started(db, sqledge_factory)  # status_interval is 1 s in the tests
    db.cluster.execute("ALTER SYSTEM SET wal_sender_timeout = '2s'")
    db.cluster.execute("SELECT pg_reload_conf()")
    try:
        # a new walsender picks the setting up: reconnect by restarting the worker
        sq.kill9_worker()
        sq.wait_restarts(1)
        sq.wait_caught_up()
        mark = sq.log_size()
        db.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000000) g")
        sq.wait_caught_up(timeout=300)
        lost = [line for line in sq.log_lines(mark) if "upstream" in line and "ERROR" in line]
    finally:
        db.cluster.execute("ALTER SYSTEM RESET wal_sender_timeout")
        db.cluster.execute("SELECT pg_reload_conf()")
    assert not lost, "\n".join(lost)
    assert sq.repl_restarts() == 1
    assert sq.local_count("t") == 1000000
    assert_table_equal(db, sq, "t")


def test_user_types_and_replication_origins_are_followed(db, sqledge_factory):
    """Columns of a user type bring a Type message before their Relation; a transaction made
    under a replication origin (as a cascading replica's are) brings an Origin message."""
    db.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"
               "CREATE DOMAIN posint AS int CHECK (VALUE > 0);"
               "CREATE TABLE t (id int PRIMARY KEY, m mood, p posint)")
    sq = _started(db, sqledge_factory)
    db.execute("INSERT INTO t VALUES (1, 'happy', 5), (2, NULL, 7)")
    origin = "sqledge_test_origin_%s" % db.name
    conn = db.connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT pg_replication_origin_create(%s)", (origin,))
        cur.execute("SELECT pg_replication_origin_session_setup(%s)", (origin,))
        cur.execute("INSERT INTO t VALUES (3, 'sad', 9)")
        cur.execute("UPDATE t SET m = 'ok' WHERE id = 1")
        cur.execute("SELECT pg_replication_origin_session_reset()")
        cur.execute("SELECT pg_replication_origin_drop(%s)", (origin,))
    finally:
        conn.close()
    sq.wait_caught_up()
    assert_table_equal(db, sq, "t")
    # the upstream OIDs of both user types are recorded (pgoutput names a domain by its
    # base type)
    recorded = {oid for (oid,) in sq.local_query("SELECT oid FROM _sqledge_types")}
    upstream = {oid for (oid,) in db.query(
        "SELECT oid FROM pg_type WHERE typname IN ('mood', 'posint')")}
    assert upstream <= recorded, (upstream, recorded)
    column_types = {oid for (oid,) in sq.local_query(
        "SELECT type_oid FROM _sqledge_columns c JOIN _sqledge_relations r USING (relid) "
        "WHERE r.relname = 't' AND c.attname IN ('m', 'p')")}
    assert column_types == upstream
