# SPDX-License-Identifier: MIT
"""Every PostgreSQL type, and values at the edges, arrive exactly: through the initial COPY and
through streaming, checked with `sqledgectl verify` (the copy holds what a fresh sync would) and
by the proxy's answers, byte for byte the upstream's."""

import harness
from test_local import counters, raw_answer, raw_direct, raw_proxy

TYPES = r"""
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'with ''quote''');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN short_text AS varchar(8);
CREATE TYPE pair AS (a int, b text);
CREATE TABLE every (
    id int PRIMARY KEY,
    iv interval, ia int[], ta text[], na numeric[], m2 int[][], ea text[],
    e mood, ea2 mood[], dom posint, dt short_text,
    r4 int4range, r8 int8range, nr numrange, tsr tsrange, tzr tstzrange, dr daterange,
    mo money, ip inet, net cidr, mac macaddr, mac8 macaddr8,
    b8 bit(8), vb varbit, x xml, comp pair, ch char(6), vc varchar(6),
    ts timestamp, tz timestamptz, d date, t time, ttz timetz,
    num numeric, f4 float4, f8 float8, u text, pt point, js jsonb, oid_ oid, tsv tsvector
);
"""

# one row per line; every column but id may be NULL in some row
ROWS = r"""
INSERT INTO every VALUES
(1, '1 year 2 mons 3 days 04:05:06.789', '{1,2,3}', '{"a b","c,d","e\"f",NULL,"NULL",""}',
 '{1.50,NaN,-0.001}', '{{1,2},{3,4}}', '{}', 'with ''quote''', '{sad,happy}', 7, 'eight ch',
 '[1,10)', '(,5]', '[1.5,2.5]', '[2024-01-01 00:00,2024-01-02 00:00)',
 '[2024-01-01 00:00+00,infinity)', '[2024-01-01,2024-02-01)', '1234.56', '192.168.1.5/24',
 '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', B'10101010', B'101',
 '<a href="x">t &amp; u</a>', '(1,"x y")', 'ab', 'ab', '2024-02-29 12:34:56.789012',
 '2024-02-29 12:34:56.789012+05:30', '2024-02-29', '23:59:59.999999', '12:00:00+05:30',
 '123456789012345678901234567890.123456789', '-0', '-0', 'plane 0 é ß ✓ plane 1 😀 𝄞 plane 2 𠀀 plane 15 󰀀',
 '(1.5,-2)', '{"k": [1, 2.50, "x"], "a": null}', 4294967295, 'fat cat:2 rat'),
(2, '-178000000 years', '{}', '{}', '{}', '{}', '{""}', 'sad', '{}', 2147483647, '',
 'empty', 'empty', 'empty', 'empty', 'empty', 'empty', '-92233720368547758.08', '::1', '::/0',
 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff', B'00000000', B'', '', '(,)', '', '',
 'infinity', '-infinity', 'infinity', '24:00:00', '00:00:00-15:59', 'NaN', 'NaN', 'Infinity', '',
 '(0,0)', '[]', 0, ''),
(3, '0', '{-2147483648,2147483647}', '{"\\","{}"}', '{1e-20}', '{{NULL,NULL}}', '{NULL}', 'ok',
 '{ok,NULL}', 1, NULL, '(,)', '[-9223372036854775808,9223372036854775807)', '(,)',
 '(,)', '(-infinity,infinity)', '[4713-01-01 BC,294276-12-31)', '0', '2001:db8::ff00:42:8329/128',
 '2001:db8::/32', '00:00:00:00:00:00', '00:00:00:ff:fe:00:00:00', B'11111111', B'1',
 '<?xml version="1.0"?><r/>', '(,"")', 'abcdef', 'abcdef', '4713-01-01 00:00:00 BC',
 '4713-01-01 00:00:00+00 BC', '4713-01-01 BC', '00:00:00', '00:00:00+15:59', '-1e-1000',
 '-Infinity', '-Infinity', E'\u00a0\u2028\ufeff', '(1e300,-1e-300)', '"\u00e9\"q"', 1,
 E'a:1A b:2B'),
(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(5, '1 day -1 second', '{{{1}}}', '{"x"}', '{0.000}', '{{1},{2}}', '{"{}"}', 'happy',
 '{with ''quote''}', 99, 'x', '[5,5]', '[0,1)', '(0,)', '[2024-01-01 00:00,)', '(,2024-01-01 00:00+14]',
 '[infinity,infinity]', '-0.01', '0.0.0.0/0', '0.0.0.0/0', '01-02-03-04-05-06',
 '0102.0304.0506.0708', B'00000001', B'0101010101010101010101010101010101010101', 'plain text',
 '(-1,"a,b")', 'é', 'é', '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00.000001-12',
 '2000-01-01', '12:00', '12:00-00:30', '1.000000000000000000000000000001', '3.4028235e+38',
 '1.7976931348623157e+308', 'ok', '(-0,0)', '1e400', 2147483648, '')
"""


def columns(db):
    return [r[0] for r in db.query(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'every'::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum")]


def assert_same_answers(db, sq, session_settings=()):
    """Each column read through sqledge gets exactly the upstream's bytes, and the share
    answered locally is returned."""
    through, direct = raw_proxy(sq), raw_direct(db)
    local = 0
    try:
        for sql in session_settings:
            raw_answer(through, sql)
            raw_answer(direct, sql)
        cols = columns(db)
        statements = ["SELECT * FROM every ORDER BY id"]
        statements += ["SELECT id, %s FROM every ORDER BY id" % harness.qi(c) for c in cols[1:]]
        for sql in statements:
            before = counters(sq)[0]
            got = raw_answer(through, sql)
            want = raw_answer(direct, sql)
            assert got == want, sql
            local += counters(sq)[0] - before
    finally:
        through.close()
        direct.close()
    return local, len(statements)


def test_every_type_through_sync_and_streaming(db, sqledge_factory):
    db.execute(TYPES)
    db.execute(ROWS)
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_LOCAL_READS": "true",
                                  "SQLEDGE_PROXY_WORKERS": "1"}).start()
    sq.wait_caught_up()
    harness.assert_verified(sq)
    local, total = assert_same_answers(db, sq)
    # the plain types are answered from the copy: char, varchar, numeric, float4/8, text, jsonb,
    # oid (the others, settings-dependent or not yet handled, are forwarded)
    assert local >= 8, (local, total)

    # streaming: the same values again, copied by the server and as literals, then changed
    db.execute("INSERT INTO every SELECT id + 100, " + ", ".join(columns(db)[1:]) +
               " FROM every")
    db.execute(ROWS.replace("\n(", "\n(1000 + "))
    db.execute("UPDATE every SET iv = iv + interval '1 second', ia = ia[1:1], e = 'ok', "
               "r4 = '[3,4)', mo = mo + '0.01', ip = '127.0.0.1', b8 = ~b8, x = '<b/>', "
               "comp = '(9,nine)', ch = 'z', tz = tz + interval '1 microsecond', f4 = -f4 "
               "WHERE id IN (101, 102, 103, 105, 1001)")
    db.execute("DELETE FROM every WHERE id IN (104, 1004)")
    sq.wait_caught_up()
    out = harness.assert_verified(sq)
    assert "public.every: equal, 13 rows" in out, out
    assert_same_answers(db, sq)
    # the answers stay exact under other session settings (sqledge must convert or forward)
    assert_same_answers(db, sq, ("SET TimeZone = 'America/St_Johns'",
                                 "SET DateStyle = 'SQL, DMY'",
                                 "SET IntervalStyle = 'iso_8601'",
                                 "SET extra_float_digits = 0",
                                 "SET bytea_output = 'escape'"))
