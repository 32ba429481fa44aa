# SPDX-License-Identifier: MIT
"""Setup against the upstream: publication, slot, the checks that refuse to start with a clear
message, resync after slot loss and the single-instance lock."""

import os
import shutil
import subprocess

import harness
from harness import assert_all_tables_equal, assert_table_equal


def _two_tables(db, rows=100):
    db.execute("CREATE TABLE a (id int PRIMARY KEY, v text);"
               "CREATE TABLE b (id int PRIMARY KEY, v text);"
               "INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, %s) g;"
               "INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, %s) g;", (rows, rows))


def test_creates_publication_for_all_tables_when_missing(db, sqledge_factory):
    _two_tables(db)
    assert not db.query("SELECT 1 FROM pg_publication WHERE pubname = %s", (db.publication,))
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    assert db.query("SELECT puballtables FROM pg_publication WHERE pubname = %s",
                    (db.publication,)) == [(True,)]
    assert assert_all_tables_equal(db, sq) == [("public", "a"), ("public", "b")]


def test_refuses_to_create_publication_when_a_table_lacks_replica_identity(db, sqledge_factory):
    db.execute("CREATE TABLE fine (id int PRIMARY KEY);"
               "CREATE TABLE keyless_events (at timestamptz, what text);"
               "INSERT INTO keyless_events VALUES (now(), 'x')")
    sq = sqledge_factory(db).start()
    assert sq.wait_exit(60) != 0
    log = sq.log()
    low = log.lower()
    assert "keyless_events" in log
    assert "replica identity full" in low
    assert "primary key" in low
    assert "publication" in low  # or a publication made by the DBA
    assert not db.query("SELECT 1 FROM pg_publication WHERE pubname = %s", (db.publication,))
    # the upstream's own writes still work: nothing was published
    db.execute("DELETE FROM keyless_events")


def test_uses_existing_publication_with_only_its_tables(db, sqledge_factory):
    _two_tables(db)
    db.execute("CREATE PUBLICATION %s FOR TABLE a" % db.publication)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    assert sorted(sq.relations()) == [("public", "a")]
    assert_table_equal(db, sq, "a")
    db.execute("INSERT INTO a VALUES (1000, 'new a'); INSERT INTO b VALUES (1000, 'new b');"
               "UPDATE a SET v = 'changed' WHERE id = 1")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)
    assert sorted(sq.relations()) == [("public", "a")]
    # the DBA's publication was left as it was
    assert db.query("SELECT puballtables FROM pg_publication WHERE pubname = %s",
                    (db.publication,)) == [(False,)]
    assert db.query("SELECT tablename FROM pg_publication_tables WHERE pubname = %s",
                    (db.publication,)) == [("a",)]


def test_slot_is_permanent_by_default(db, sqledge_factory):
    _two_tables(db, rows=10)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    info = db.slot_info()
    assert info is not None, "no slot %s upstream" % db.slot
    assert info["temporary"] is False
    assert info["plugin"] == "pgoutput"
    assert info["slot_type"] == "logical"
    assert info["database"] == db.name
    assert sq.stop() == 0
    # a permanent slot outlives the connection, so changes made while sqledge is down are kept
    info = db.slot_info()
    assert info is not None and info["active"] is False


def test_fails_when_wal_level_is_not_logical(sqledge_factory):
    cluster = harness.PgCluster(settings={"wal_level": "replica"}, name="walreplica")
    try:
        cluster.init().start()
        other = harness.Database(cluster, "postgres")
        other.execute("CREATE TABLE t (id int PRIMARY KEY)")
        sq = sqledge_factory(other).start()
        assert sq.wait_exit(60) != 0
        log = sq.log()
        assert "wal_level" in log
        assert "logical" in log
    finally:
        cluster.destroy()


def test_fails_without_replication_privilege(db, sqledge_factory):
    _two_tables(db, rows=5)
    role = db.create_role("r_" + db.name, "LOGIN", password="pw-norepl")
    db.execute('GRANT SELECT ON ALL TABLES IN SCHEMA public TO "%s"' % role)
    # an existing publication, so the missing right is REPLICATION and nothing else
    db.execute("CREATE PUBLICATION %s FOR ALL TABLES" % db.publication)
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_USER": role,
                                  "SQLEDGE_UPSTREAM_PASSWORD": "pw-norepl"}).start()
    assert sq.wait_exit(60) != 0
    log = sq.log()
    assert "REPLICATION" in log
    assert "pw-norepl" not in log
    assert db.slot_info() is None


def test_fails_without_bypassrls_when_a_table_has_row_security(db, sqledge_factory):
    role = db.create_role("r_" + db.name, "LOGIN REPLICATION", password="pw-rls")
    db.execute("CREATE TABLE open_data (id int PRIMARY KEY, v text);"
               "CREATE TABLE guarded_rows (id int PRIMARY KEY, owner text);"
               "INSERT INTO open_data VALUES (1, 'x');"
               "INSERT INTO guarded_rows VALUES (1, 'alice'), (2, 'bob');"
               "ALTER TABLE guarded_rows ENABLE ROW LEVEL SECURITY;"
               "CREATE POLICY only_alice ON guarded_rows FOR SELECT USING (owner = 'alice');"
               'GRANT SELECT ON open_data, guarded_rows TO "%s";'
               "CREATE PUBLICATION %s FOR ALL TABLES" % (role, db.publication))
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_USER": role,
                                  "SQLEDGE_UPSTREAM_PASSWORD": "pw-rls"}).start()
    assert sq.wait_exit(60) != 0
    log = sq.log()
    assert "BYPASSRLS" in log
    assert "guarded_rows" in log


def test_fails_when_no_replication_slot_is_free(db, sqledge_factory):
    _two_tables(db, rows=5)
    total = int(db.scalar("SHOW max_replication_slots"))
    used = db.scalar("SELECT count(*) FROM pg_replication_slots")
    dummies = ["dummy_%s_%d" % (db.name, i) for i in range(total - used)]
    try:
        for name in dummies:
            db.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (name,))
        sq = sqledge_factory(db).start()
        assert sq.wait_exit(60) != 0
        assert "max_replication_slots" in sq.log()
    finally:
        db.cluster.drop_slots(names=dummies)


def test_fails_when_database_is_missing(db, sqledge_factory):
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_NAME": "no_such_database_here"}).start()
    assert sq.wait_exit(60) != 0
    assert "no_such_database_here" in sq.log()


def test_fails_with_wrong_password(db, sqledge_factory):
    sq = sqledge_factory(db, env={"SQLEDGE_UPSTREAM_PASSWORD": "wrong-pw-7f3a"}).start()
    assert sq.wait_exit(60) != 0
    log = sq.log()
    assert "authentication" in log.lower()
    assert "wrong-pw-7f3a" not in log


def test_resyncs_when_slot_was_dropped(db, sqledge_factory):
    _two_tables(db, rows=500)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    before = sq.generation()
    assert sq.stop() == 0
    db.cluster.drop_slots(names=[db.slot])
    # changes the lost slot would have carried, and some made after
    db.execute("INSERT INTO a SELECT g, 'late' FROM generate_series(501, 600) g;"
               "UPDATE b SET v = 'updated' WHERE id % 3 = 0;"
               "DELETE FROM a WHERE id <= 50")
    sq.start()
    sq.wait_caught_up(timeout=90)
    assert_all_tables_equal(db, sq)
    assert sq.generation() > before
    assert db.slot_info() is not None
    db.execute("INSERT INTO b VALUES (9999, 'after resync')")
    sq.wait_caught_up()
    assert_all_tables_equal(db, sq)


def test_second_sqledge_on_same_files_refuses(db, sqledge_factory):
    _two_tables(db, rows=50)
    first = sqledge_factory(db).start()
    first.wait_caught_up()
    second = sqledge_factory(db, workdir=first.workdir).start()
    assert second.wait_exit(30) != 0
    low = second.log().lower()
    assert "lock" in low or "another sqledge" in low
    # the first one is untouched and keeps replicating
    first.check_running()
    db.execute("INSERT INTO a VALUES (777, 'still here')")
    first.wait_caught_up()
    assert_all_tables_equal(db, first)


def test_slot_creation_blocked_by_an_open_transaction_names_the_backend(db, sqledge_factory):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')")
    blocker = db.connect(autocommit=False)
    try:
        cur = blocker.cursor()
        cur.execute("INSERT INTO t VALUES (2, 'b')")  # holds an xid until it ends
        cur.execute("SELECT pg_backend_pid()")
        blocker_pid = cur.fetchone()[0]
        sq = sqledge_factory(db, env={"SQLEDGE_REPLICATION_SLOT_TIMEOUT": "2"}).start()
        harness.wait_for(lambda: "did not finish within 2 s" in sq.log(), 60,
                         "the slot creation timeout", alive=sq)
        line = [entry for entry in sq.log_entries() if "did not finish within" in entry][0]
        assert "pid %d" % blocker_pid in line, line
        assert sq.state() != "streaming"
        blocker.commit()
    finally:
        blocker.close()
    # the worker keeps retrying and gets through once the transaction has ended
    sq.wait_caught_up(timeout=120)
    assert_all_tables_equal(db, sq)


def test_resyncs_when_upstream_was_restored_from_a_backup(db, pg, sqledge_factory):
    """A file-level restore puts the upstream's WAL behind the copy: the rows written after the
    backup are gone upstream and new commits reuse their positions, so the copy must be made
    again rather than resumed."""
    db.execute("CREATE TABLE r (id int PRIMARY KEY, v text); INSERT INTO r VALUES (1, 'base')")
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    assert sq.stop() == 0
    backup = pg.datadir + ".backup"
    pg.stop()
    try:
        subprocess.run(["cp", "-a", pg.datadir, backup], check=True)
        pg.start()
        sq.start()
        for i in range(100, 150):
            db.execute("INSERT INTO r VALUES (%d, 'lost in the restore')" % i)
        sq.wait_caught_up()
        assert sq.stop() == 0
        before = sq.generation()
        pg.stop()
        shutil.rmtree(pg.datadir)
        os.rename(backup, pg.datadir)
    finally:
        if os.path.exists(backup):
            shutil.rmtree(backup)
        pg.start()
    db.execute("INSERT INTO r VALUES (200, 'after the restore')")
    sq.start()
    sq.wait_caught_up()
    assert "restored from a backup" in sq.log(), sq.log()
    assert sq.generation() > before
    assert_all_tables_equal(db, sq)


def test_restart_resumes_from_the_stored_position_without_a_resync(db, sqledge_factory):
    _two_tables(db, rows=50)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    generation = sq.generation()
    for _ in range(2):
        assert sq.stop() == 0
        mark = sq.log_size()
        db.execute("INSERT INTO a VALUES (1000 + (SELECT count(*) FROM a), 'while stopped')")
        sq.start()
        sq.wait_caught_up()
        assert "initial sync" not in sq.log(mark), sq.log(mark)
        assert sq.generation() == generation
    assert_all_tables_equal(db, sq)


def test_invalidated_slot_resyncs_while_the_old_copy_serves(sqledge_factory):
    """max_slot_wal_keep_size lets the upstream drop WAL a slot still needs (wal_status = lost):
    sqledge makes a new copy while the old one keeps answering reads, none of which fails."""
    import threading

    import harness

    cluster = harness.PgCluster(name="pg-lost", settings={"max_slot_wal_keep_size": "1MB",
                                                          "wal_keep_size": "0"})
    try:
        cluster.init().start()
        cluster.create_database("lost")
        db = harness.Database(cluster, "lost")
        db.execute("CREATE TABLE t (id int PRIMARY KEY, v text);"
                   "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 20000) g")
        sq = sqledge_factory(db, env={"SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
        sq.wait_caught_up()
        before = sq.generation()
        assert sq.stop() == 0
        # WAL the slot needs goes: more than max_slot_wal_keep_size, then a checkpoint
        for _ in range(4):
            db.execute("UPDATE t SET v = v || 'x'; SELECT pg_switch_wal()")
        db.execute("CHECKPOINT")
        harness.wait_for(lambda: db.scalar("SELECT wal_status FROM pg_replication_slots "
                                           "WHERE slot_name = %s", (db.slot,)) == "lost",
                         30, "the slot to be invalidated")

        failures, answers = [], [0]
        stop = threading.Event()
        sq.start()
        harness.wait_for(lambda: sq.try_status() is not None, 30, "sqledge to answer")

        def reader():
            while not stop.is_set():
                try:
                    with sq.proxy_connect() as conn, conn.cursor() as cur:
                        cur.execute("SELECT count(*) FROM t")
                        cur.fetchall()
                        answers[0] += 1
                    conn.close()
                except Exception as exc:  # every failure is reported
                    failures.append(repr(exc))

        t = threading.Thread(target=reader)
        t.start()
        try:
            sq.wait_caught_up(timeout=120)
            harness.wait_for(lambda: sq.generation() > before, 60, "the new generation")
        finally:
            stop.set()
            t.join()
        assert not failures, failures[:3]
        assert answers[0] > 0
        assert "invalidated (wal_status = lost)" in sq.log()
        assert "max_slot_wal_keep_size is unlimited" not in sq.log()
        harness.assert_all_tables_equal(db, sq)
        sq.stop()
    finally:
        cluster.destroy()


def test_copy_of_another_format_version_is_made_again(db, sqledge_factory):
    """PRAGMA user_version records the file format: a copy of another one is never read as
    this one; a new copy is made (the old one serves meanwhile)."""
    import sqlite3

    _two_tables(db, rows=50)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    before = sq.generation()
    assert sq.stop() == 0
    local = sqlite3.connect(sq.db_path)
    assert local.execute("PRAGMA user_version").fetchone()[0] == 1
    local.execute("PRAGMA user_version = 99")
    local.commit()
    local.close()
    db.execute("INSERT INTO a VALUES (1000, 'after')")
    sq.start()
    sq.wait_caught_up(timeout=90)
    assert sq.generation() > before
    assert "local copy has format version 99, this sqledge writes 1" in sq.log()
    assert_all_tables_equal(db, sq)


def test_another_cluster_behind_the_same_address_resyncs(db, sqledge_factory):
    """A different system identifier (a failover to a server that is not a copy, or another
    cluster put behind the address) means a new copy, made from the new upstream. The start
    warns that the upstream keeps WAL for slots without limit (the default)."""
    import harness

    _two_tables(db, rows=20)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    assert "max_slot_wal_keep_size is unlimited" in sq.log()
    before = sq.generation()
    assert sq.stop() == 0
    other = harness.PgCluster(name="pg-other")
    try:
        other.init().start()
        other.create_database(db.name)
        moved = harness.Database(other, db.name, slot=db.slot, publication=db.publication)
        _two_tables(moved, rows=7)
        sq.start(env={"SQLEDGE_UPSTREAM_PORT": str(other.port)})
        sq.wait_caught_up(moved, timeout=90)
        assert "the upstream is a different PostgreSQL cluster" in sq.log()
        assert sq.generation() > before
        assert_all_tables_equal(moved, sq)
        assert sq.stop() == 0
    finally:
        other.destroy()


def test_new_timeline_forked_before_the_copy_resyncs(sqledge_factory):
    """A point-in-time restore: the upstream goes back to a cold copy of itself and is promoted
    onto timeline 2, then writes more WAL than the copy had seen. The slot survives, the system
    identifier is the same and the WAL is now longer than the copy's position, so only the
    timeline history shows that the copy holds changes the upstream no longer has."""
    cluster = harness.PgCluster(name="pg-pitr")
    try:
        cluster.init().start()
        cluster.create_database("pitr")
        db = harness.Database(cluster, "pitr")
        db.execute("CREATE TABLE t (id int PRIMARY KEY, v text);"
                   "INSERT INTO t SELECT g, 'base' FROM generate_series(1, 10) g")
        sq = sqledge_factory(db).start()
        sq.wait_caught_up()
        assert sq.stop() == 0
        backup = cluster.datadir + ".backup"
        cluster.stop()
        subprocess.run(["cp", "-a", cluster.datadir, backup], check=True)
        cluster.start()
        sq.start()
        db.execute("INSERT INTO t SELECT g, 'lost in the restore' FROM generate_series(100, 149) g")
        copy_at = harness.parse_lsn(sq.wait_caught_up()["replication"]["applied_lsn"])
        assert sq.stop() == 0
        before = sq.generation()

        cluster.stop()
        shutil.rmtree(cluster.datadir)
        os.rename(backup, cluster.datadir)
        with open(os.path.join(cluster.datadir, "recovery.signal"), "w"):
            pass
        with open(os.path.join(cluster.datadir, "postgresql.auto.conf"), "a") as f:
            # archive recovery to the end of the WAL it has, then a new timeline
            f.write("restore_command = 'false'\n")
        cluster.start()
        harness.wait_for(lambda: not db.scalar("SELECT pg_is_in_recovery()"), 60,
                         "the restored upstream to be promoted")
        # new history, past the copy's position
        n = 200
        while harness.parse_lsn(db.scalar("SELECT pg_current_wal_insert_lsn()::text")) <= copy_at:
            db.execute("INSERT INTO t SELECT g, repeat('new', 100) FROM generate_series(%d, %d) g"
                       % (n, n + 99))
            n += 100
        db.execute("CHECKPOINT")
        assert db.scalar("SELECT timeline_id FROM pg_control_checkpoint()") == 2

        sq.start()
        sq.wait_caught_up(timeout=90)
        assert "history forked before the local copy's position" in sq.log(), sq.log_tail()
        assert sq.generation() > before
        assert_all_tables_equal(db, sq)
        assert sq.stop() == 0
    finally:
        if os.path.exists(cluster.datadir + ".backup"):
            shutil.rmtree(cluster.datadir + ".backup")
        cluster.destroy()


def test_resync_waits_for_free_space_while_the_copy_serves(db, sqledge_factory):
    """A resync needs room for a second copy (plus [local] free_space_reserve): without it the
    copy in use keeps serving reads and the resync starts once there is room."""
    _two_tables(db, rows=30)
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
    sq.wait_caught_up()
    before = sq.generation()
    assert sq.stop() == 0
    db.cluster.drop_slots(names=[db.slot])
    # no file system has a million terabytes to spare
    sq.start(env={"SQLEDGE_LOCAL_FREE_SPACE_RESERVE": "1000000000"})
    harness.wait_for(lambda: "not enough free disk space" in sq.log(), 30,
                     "the free-space check to refuse the sync")
    with sq.proxy_connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM a")
        assert cur.fetchall() == [(30,)]
    conn.close()
    assert sq.generation() == before
    assert sq.stop() == 0
    sq.start()
    sq.wait_caught_up(timeout=90)
    assert sq.generation() > before
    assert_all_tables_equal(db, sq)
