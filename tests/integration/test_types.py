# SPDX-License-Identifier: MIT
"""Values keep their exact PostgreSQL meaning in the local copy, through the initial COPY and
through streaming."""

import contextlib

import harness
from harness import assert_table_equal

TYPED = """
CREATE TABLE typed (
    id int PRIMARY KEY,
    i2 int2, i4 int4, i8 int8,
    f4 float4, f8 float8,
    num numeric(10,2), numbig numeric,
    t text, vc varchar(5), ch char(5),
    b bool, raw bytea,
    d date, tm time, ts timestamp, tstz timestamptz,
    u uuid, j json, jb jsonb
)
"""

ROWS = r"""
INSERT INTO typed VALUES
(1, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', '1.50',
 '1234567890123456789012345678901234567890',
 E'tab\there\nnewline \\ backslash ''single'' "double" \u00fcn\u00efc\u00f8d\u00e9 \u65e5\u672c \U0001F600',
 'abcde', 'ab', true, '\x005c4100ff', '2024-01-02', '03:04:05.123456',
 '2024-01-02 03:04:05.123', '2024-01-02 03:04:05.123+02',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1,  "a": [1, 2]}', '{"b": 1,  "a": [1, 2]}'),
(2, 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity', '-99999999.99',
 '-0.000000000000000000000000000000000000001', '', 'x', 'abcde', false, '\x', 'infinity',
 '24:00:00', 'infinity', '-infinity', '00000000-0000-0000-0000-000000000000', '[]', 'null'),
(3, 0, 0, 0, '-Infinity', '-Infinity', '0.00', '0', 'it''s', E'h\u00e9llo', E'\u00e9', false,
 '\x5c78', '0001-01-01 BC', '00:00:00', '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00',
 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '"string"', '{"nested": {"k": [true, false, null]}}'),
(4, 1, 1, 1, '0.1', '0.1', 'NaN', 'Infinity', '''); DROP TABLE typed; --', '12345', '12345',
 true, '\x00', '2000-02-29', '23:59:59.999999', '2000-02-29 12:00:00', '2000-02-29 12:00:00-11:30',
 '12345678-1234-5678-1234-567812345678', '{}', '{}'),
(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL),
(6, 7, 8, 9, '3.4028235e+38', '1e-310', '-0.01', '-Infinity', 'NULL', '', '', true,
 '\xdeadbeef', '2024-12-31', '12:34:56', '2024-12-31 23:59:59.5', '2024-06-30 23:59:59.5-07',
 'ffffffff-ffff-ffff-ffff-ffffffffffff', '1.50', '1.50'),
(7, -1, -1, -1, '-0', '-1.7976931348623157e+308', '99999999.99', 'NaN', ' ', ' ', ' ', false,
 '\x', '1900-01-01', '00:00:00.000001', '1900-01-01 00:00:00.000001', '1900-01-01 00:00:00+00',
 '00000000-0000-0000-0000-000000000001', '1e1000', '1e1000')
"""

EXPECTED_KINDS = {
    "id": "int", "i2": "int", "i4": "int", "i8": "int", "f4": "float", "f8": "float",
    "num": "numeric", "numbig": "numeric", "t": "text", "vc": "text", "ch": "text",
    "b": "bool", "raw": "bytea", "d": "text", "tm": "text", "ts": "text", "tstz": "text",
    "u": "text", "j": "text", "jb": "text",
}


def test_common_types_exact_in_initial_sync_and_streaming(db, sqledge_factory):
    db.execute(TYPED)
    db.execute(ROWS)
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    assert_table_equal(db, sq, "typed")  # the COPY path

    # the streaming path: the same values copied by the server, then the same literals again
    db.execute("INSERT INTO typed SELECT id + 100, i2, i4, i8, f4, f8, num, numbig, t, vc, ch, "
               "b, raw, d, tm, ts, tstz, u, j, jb FROM typed")
    db.execute(ROWS.replace("\n(", "\n(1000 + "))
    sq.wait_caught_up()
    assert_table_equal(db, sq, "typed")
    assert sq.local_count("typed") == 21

    db.execute("UPDATE typed SET f8 = 'NaN', num = 0.5, t = t || ' updated', b = NOT b, "
               "raw = raw || '\\x00'::bytea WHERE id IN (101, 102, 103, 104);"
               "UPDATE typed SET i8 = 42, f4 = '-Infinity', tstz = '2024-01-01 00:00:00+14' "
               "WHERE id = 105")
    sq.wait_caught_up()
    assert_table_equal(db, sq, "typed")

    # the upstream types are kept beside the table
    with contextlib.closing(db.connect()) as conn:
        upstream = {name: (oid, typmod) for name, oid, typmod in
                    harness.upstream_columns(conn, "public", "typed")}
    relid = sq.local_query("SELECT relid FROM _sqledge_relations WHERE relname = 'typed'")[0][0]
    local = {r[0]: r for r in harness.local_columns(sq, relid)}
    assert sorted(local) == sorted(upstream)
    for name, (oid, typmod) in upstream.items():
        _, _, kind, local_oid, local_typmod = local[name]
        assert (local_oid, local_typmod) == (oid, typmod), name
        assert kind == EXPECTED_KINDS[name], (name, kind)
    assert local["num"][4] == 655366
    assert local["vc"][3:] == (1043, 9)
    assert local["ch"][3:] == (1042, 9)
    assert local["numbig"][3:] == (1700, -1)
    # storage classes, not only values
    typeof = dict(sq.local_query(
        "SELECT 'i8', typeof(i8) FROM typed WHERE id = 1 UNION ALL "
        "SELECT 'b', typeof(b) FROM typed WHERE id = 1 UNION ALL "
        "SELECT 'f8', typeof(f8) FROM typed WHERE id = 4 UNION ALL "
        "SELECT 'f8nan', typeof(f8) FROM typed WHERE id = 1 UNION ALL "
        "SELECT 'raw', typeof(raw) FROM typed WHERE id = 1 UNION ALL "
        "SELECT 'num', typeof(num) FROM typed WHERE id = 1"))
    assert typeof == {"i8": "integer", "b": "integer", "f8": "real", "f8nan": "text",
                      "raw": "blob", "num": "text"}


def test_update_keeps_unchanged_toast_value(db, sqledge_factory):
    db.execute("CREATE TABLE docs (id int PRIMARY KEY, counter int, body text);"
               "ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;"
               "INSERT INTO docs SELECT 1, 0, string_agg(md5(g::text), '') "
               "FROM generate_series(1, 3200) g")
    big = db.scalar("SELECT body FROM docs WHERE id = 1")
    assert len(big) == 102400
    sq = sqledge_factory(db).start()
    sq.wait_caught_up()
    db.execute("INSERT INTO docs SELECT 2, 0, string_agg(md5((g * 2)::text), '') "
               "FROM generate_series(1, 3200) g")
    sq.wait_caught_up()
    assert_table_equal(db, sq, "docs")
    # these updates leave body alone: pgoutput sends it as "unchanged TOAST value"
    db.execute("UPDATE docs SET counter = counter + 1")
    db.execute("UPDATE docs SET counter = counter + 1 WHERE id = 2")
    sq.wait_caught_up()
    assert_table_equal(db, sq, "docs")
    name = harness.qi(sq.local_name("docs"))
    assert sq.local_query("SELECT counter, body FROM %s WHERE id = 1" % name) == [(1, big)]
    assert sq.local_query("SELECT counter, length(body) FROM %s WHERE id = 2" % name) == [
        (2, 102400)]
