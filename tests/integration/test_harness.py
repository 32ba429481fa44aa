# SPDX-License-Identifier: MIT
"""Self-test of the harness: the scratch cluster, process control, the local-copy comparison
(against a SQLite file written by hand to the storage contract) and the config check."""

import contextlib
import os
import sqlite3
import stat
import subprocess

import psycopg2
import pytest

import harness


def test_cluster_has_logical_wal_level_and_room_for_slots(pg):
    settings = dict(pg.query("SELECT name, setting FROM pg_settings WHERE name IN "
                             "('wal_level', 'max_replication_slots', 'max_wal_senders', "
                             "'listen_addresses', 'server_version_num')"))
    assert settings["wal_level"] == "logical"
    assert int(settings["max_replication_slots"]) == 40
    assert int(settings["max_wal_senders"]) == 40
    assert settings["listen_addresses"] == "127.0.0.1"
    assert settings["server_version_num"].startswith("15")
    assert pg.port != 5432


def test_password_login_on_loopback(pg):
    conn = psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres",
                            password=pg.password, dbname="postgres", connect_timeout=10)
    with contextlib.closing(conn), conn.cursor() as cur:
        cur.execute("SELECT inet_server_addr()::text, current_user")
        assert cur.fetchone() == ("127.0.0.1/32", "postgres")
    # the right password mattered: TCP logins use scram-sha-256, not trust
    with pytest.raises(psycopg2.OperationalError, match="authentication"):
        psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres", password="wrong",
                         dbname="postgres", connect_timeout=10)


def test_pgbench_init_works(db):
    db.pgbench("-i", "-s", "1", "-q")
    assert db.scalar("SELECT count(*) FROM pgbench_accounts") == 100000


def test_each_test_gets_a_fresh_database(db, pg):
    assert db.scalar("SELECT current_database()") == db.name
    assert db.scalar("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                     ) == 0
    assert db.name in db.slot and db.name in db.publication
    assert not pg.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (db.slot,))


def test_slot_cleanup_drops_the_database_with_its_slots(pg):
    other = harness.Database(pg, "t_" + harness.unique_suffix())
    pg.create_database(other.name)
    other.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (other.slot,))
    other.drop()
    assert not pg.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (other.slot,))
    assert not pg.query("SELECT 1 FROM pg_database WHERE datname = %s", (other.name,))


FAKE_DAEMON = """#!/bin/bash
echo "fake sqledge in $PWD for $SQLEDGE_UPSTREAM_NAME leaked=${SQLEDGE_TEST_LEAK:-no}" >&2
[ -n "${FAKE_EXIT:-}" ] && exit "$FAKE_EXIT"
sleep 300 &
child=$!
trap 'kill $child; echo "fake sqledge stopping" >&2; exit 0' TERM
wait
"""


@pytest.fixture
def fake_daemon(tmp_path, monkeypatch):
    path = tmp_path / "fake-sqledge"
    path.write_text(FAKE_DAEMON)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(harness, "sqledge_binary", lambda: str(path))
    monkeypatch.setenv("SQLEDGE_TEST_LEAK", "yes")
    return path


def test_process_start_stop_and_log_capture(db, sqledge_factory, fake_daemon):
    sq = sqledge_factory(db).start()
    harness.wait_for(lambda: "fake sqledge in" in sq.log(), 10, "the fake daemon's first line")
    assert "for %s leaked=no" % db.name in sq.log()  # caller's SQLEDGE_* do not leak
    assert os.path.samefile(sq.log().split(" in ")[1].split(" for")[0], sq.workdir)
    harness.wait_for(lambda: len(sq._group_pids()) == 2, 10, "master and child")
    assert sq.stop() == 0
    assert "fake sqledge stopping" in sq.log()
    assert not sq._group_pids()


def test_process_kill9_tree_and_wait_exit(db, sqledge_factory, fake_daemon):
    sq = sqledge_factory(db).start()
    harness.wait_for(lambda: len(sq._group_pids()) == 2, 10, "master and child")
    sq.kill9_tree()
    assert not sq._group_pids()
    sq.start(env={"FAKE_EXIT": "3"})
    assert sq.wait_exit(10) == 3
    assert sq.log().count("=== harness: start #") == 2
    with pytest.raises(AssertionError, match="exited with 3"):
        sq.check_running()


def test_lsn_parsing():
    assert harness.parse_lsn("0/16B3748") == 0x16B3748
    assert harness.parse_lsn("1/0") == 1 << 32
    assert harness.parse_lsn(42) == 42
    assert harness.format_lsn(harness.parse_lsn("AB/CDEF0123")) == "AB/CDEF0123"
    with pytest.raises(ValueError):
        harness.parse_lsn("16B3748")


TYPES_TABLE = """
CREATE TABLE typed (
    id int PRIMARY KEY, i8 int8, f4 float4, f8 float8, num numeric(10,2), big numeric,
    t text, ch char(5), b bool, raw bytea, ts timestamptz, j jsonb
);
INSERT INTO typed VALUES
 (1, -9223372036854775808, 'NaN', '-Infinity', 1.5, 1234567890123456789012345678901234567890,
  E'tab\\there\\nnl \\\\ ''q'' \u00fc\u65e5', 'ab', true, '\\x005c41', '2024-01-02 03:04:05.123+02',
  '{"b": 1, "a": [1, 2]}'),
 (2, 9223372036854775807, 0.1, 1e-310, -99999999.99, 0, '', 'abcde', false, '\\x', 'infinity',
  'null'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 1, 'Infinity', 0.1, 0, -0.5, 'dup', 'x', true, '\\xff', '1999-12-31 23:59:59.999999+00',
  '[]');
"""

KINDS = {16: "bool", 20: "int", 21: "int", 23: "int", 700: "float", 701: "float",
         1700: "numeric", 17: "bytea"}


def _to_storage(kind, text):
    """The storage contract, written independently of the comparison code."""
    if text is None:
        return None
    if kind == "bool":
        return 1 if text == "t" else 0
    if kind == "int":
        return int(text)
    if kind == "float":
        return text if text in ("NaN", "Infinity", "-Infinity") else float(text)
    if kind == "bytea":
        return bytes.fromhex(text[2:])
    return text


def _write_fake_copy(db, sq):
    """A local copy of public.typed made by hand the way sqledge stores it."""
    with contextlib.closing(db.connect(autocommit=False)) as conn:
        cols = harness.upstream_columns(conn, "public", "typed")
    names = [c[0] for c in cols]
    rows = harness.upstream_rows(db, "typed", names)
    kinds = [KINDS.get(c[1], "text") for c in cols]
    with contextlib.closing(sqlite3.connect(sq.db_path)) as conn:
        conn.execute("CREATE TABLE _sqledge_relations (relid INTEGER PRIMARY KEY, nspname TEXT, "
                     "relname TEXT, sqlite_name TEXT, replident TEXT, relkind TEXT)")
        conn.execute("CREATE TABLE _sqledge_columns (relid INTEGER, position INTEGER, "
                     "attname TEXT, sqlite_name TEXT, attnum INTEGER, type_oid INTEGER, "
                     "typmod INTEGER, typname TEXT, collation TEXT, \"notnull\" INTEGER, "
                     "key_position INTEGER, kind TEXT)")
        conn.execute("INSERT INTO _sqledge_relations VALUES (1, 'public', 'typed', 'typed', "
                     "'d', 'r')")
        for pos, (name, oid, typmod) in enumerate(cols):
            conn.execute("INSERT INTO _sqledge_columns (relid, position, attname, sqlite_name, "
                         "type_oid, typmod, kind) VALUES (1, ?, ?, ?, ?, ?, ?)",
                         (pos, name, name, oid, typmod, kinds[pos]))
        conn.execute("CREATE TABLE typed (%s)" % ", ".join(harness.qi(n) for n in names))
        for row in rows:
            conn.execute("INSERT INTO typed VALUES (%s)" % ", ".join("?" * len(row)),
                         [_to_storage(k, v) for k, v in zip(kinds, row)])
        conn.commit()


def test_table_comparison_on_a_hand_made_copy(db, sqledge_factory):
    db.execute(TYPES_TABLE)
    sq = sqledge_factory(db)
    _write_fake_copy(db, sq)
    raw = dict(db.query("SELECT id, ch::text FROM typed WHERE id = 1"))
    assert raw[1] == "ab"  # ::text strips char padding: the harness must not use it
    assert dict(sq.local_query("SELECT id, ch FROM typed"))[1] == "ab   "
    assert harness.assert_table_equal(db, sq, "typed") == 4
    assert harness.assert_table_equal(db, sq, ("public", "typed")) == 4

    # a duplicate shows in a multiset comparison
    db.execute("INSERT INTO typed SELECT 5, i8, f4, f8, num, big, t, ch, b, raw, ts, j "
               "FROM typed WHERE id = 4")
    db.execute("ALTER TABLE typed DROP CONSTRAINT typed_pkey")
    db.execute("UPDATE typed SET id = 4 WHERE id = 5")
    with pytest.raises(AssertionError, match=r"1 upstream row\(s\) missing locally"):
        harness.assert_table_equal(db, sq, "typed")
    db.execute("DELETE FROM typed WHERE ctid = (SELECT ctid FROM typed WHERE id = 4 LIMIT 1)")
    harness.assert_table_equal(db, sq, "typed")

    # a value stored with the wrong SQLite type does not compare equal
    with contextlib.closing(sqlite3.connect(sq.db_path)) as conn:
        conn.execute("UPDATE typed SET i8 = CAST(i8 AS TEXT) WHERE id = 4")
        conn.commit()
    with pytest.raises(AssertionError, match="stored as str"):
        harness.assert_table_equal(db, sq, "typed")


def test_check_config_rejects_an_unknown_key(tmp_path):
    ini = tmp_path / "sqledge.ini"
    ini.write_text("[upstream]\nuser = postgres\nno_such_key = 1\n")
    res = subprocess.run([harness.sqledge_binary(), "-c", str(ini), "--check-config"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=30, cwd=tmp_path,
                         env={k: v for k, v in os.environ.items()
                              if not k.startswith("SQLEDGE_")})
    assert res.returncode == 1, res.stdout
    assert "no_such_key" in res.stdout
