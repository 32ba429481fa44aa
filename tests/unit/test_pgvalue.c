/* SPDX-License-Identifier: MIT */
/* Unit tests for src/pgvalue.c: PostgreSQL text output to SQLite storage values, and the COPY
 * text format splitter. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pgvalue.h"
#include "util.h"
#include "unit.h"

#include "binary_vectors.h"
#include "float_vectors.h"

/* Converts a NUL-terminated string; returns pgv_from_text's result. */
static int
conv(enum pgv_kind kind, const char *s, struct strbuf *scratch, struct pgv_value *out)
{
	return pgv_from_text(kind, s, strlen(s), scratch, out);
}

/* Copies s into a fresh heap buffer with one writable byte after it, as the COPY row from
 * PQgetCopyData has, and splits it. */
static int
split(const char *s, char **buf, struct pgv_field *fields, int max)
{
	size_t n = strlen(s);

	*buf = xmalloc(n + 1);
	memcpy(*buf, s, n);
	(*buf)[n] = 'Z'; /* the splitter may write here; it must not read it as data */
	return pgv_copy_split(*buf, n, fields, max);
}

static void
test_kind_for_type_maps_builtin_oids(void)
{
	CHECK_INT(pgv_kind_for_type(16), PGV_BOOL);
	CHECK_INT(pgv_kind_for_type(21), PGV_INT);
	CHECK_INT(pgv_kind_for_type(23), PGV_INT);
	CHECK_INT(pgv_kind_for_type(20), PGV_INT);
	CHECK_INT(pgv_kind_for_type(26), PGV_INT);
	CHECK_INT(pgv_kind_for_type(700), PGV_FLOAT);
	CHECK_INT(pgv_kind_for_type(701), PGV_FLOAT);
	CHECK_INT(pgv_kind_for_type(1700), PGV_NUMERIC);
	CHECK_INT(pgv_kind_for_type(17), PGV_BYTEA);
	CHECK_INT(pgv_kind_for_type(25), PGV_TEXT);    /* text */
	CHECK_INT(pgv_kind_for_type(1184), PGV_TEXT);  /* timestamptz */
	CHECK_INT(pgv_kind_for_type(1007), PGV_TEXT);  /* _int4 */
	CHECK_INT(pgv_kind_for_type(16384), PGV_TEXT); /* a user type */
	CHECK_INT(pgv_kind_for_type(0), PGV_TEXT);
	CHECK_INT(pgv_kind_for_type(UINT32_MAX), PGV_TEXT);
}

static void
test_decltype_per_kind(void)
{
	CHECK_STR(pgv_decltype(PGV_BOOL), "INTEGER");
	CHECK_STR(pgv_decltype(PGV_INT), "INTEGER");
	CHECK_STR(pgv_decltype(PGV_FLOAT), "REAL");
	CHECK_STR(pgv_decltype(PGV_NUMERIC), "TEXT");
	CHECK_STR(pgv_decltype(PGV_TEXT), "TEXT");
	CHECK_STR(pgv_decltype(PGV_BYTEA), "BLOB");
}

static void
test_bool_only_t_and_f(void)
{
	struct strbuf sb;
	struct pgv_value v;

	strbuf_init(&sb);
	CHECK_INT(conv(PGV_BOOL, "t", &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_INT);
	CHECK_INT(v.i, 1);
	CHECK_INT(conv(PGV_BOOL, "f", &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_INT);
	CHECK_INT(v.i, 0);
	CHECK_INT(conv(PGV_BOOL, "", &sb, &v), -1);
	CHECK_INT(conv(PGV_BOOL, "true", &sb, &v), -1);
	CHECK_INT(conv(PGV_BOOL, "T", &sb, &v), -1);
	CHECK_INT(conv(PGV_BOOL, "1", &sb, &v), -1);
	CHECK_INT(conv(PGV_BOOL, "tf", &sb, &v), -1);
	strbuf_free(&sb);
}

static void
test_int_parses_whole_string(void)
{
	struct strbuf sb;
	struct pgv_value v;

	strbuf_init(&sb);
	CHECK_INT(conv(PGV_INT, "0", &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_INT);
	CHECK_INT(v.i, 0);
	CHECK_INT(conv(PGV_INT, "-32768", &sb, &v), 0);
	CHECK_INT(v.i, -32768);
	CHECK_INT(conv(PGV_INT, "4294967295", &sb, &v), 0); /* oid max */
	CHECK_INT(v.i, 4294967295LL);
	CHECK_INT(conv(PGV_INT, "007", &sb, &v), 0);
	CHECK_INT(v.i, 7);
	CHECK_INT(conv(PGV_INT, "", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "-", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "+", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, " 1", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "1 ", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "12a", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "1.0", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "0x10", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "--1", &sb, &v), -1);
	strbuf_free(&sb);
}

static void
test_int8_extremes(void)
{
	struct strbuf sb;
	struct pgv_value v;

	strbuf_init(&sb);
	CHECK_INT(conv(PGV_INT, "-9223372036854775808", &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_INT);
	CHECK(v.i == INT64_MIN);
	CHECK_INT(conv(PGV_INT, "9223372036854775807", &sb, &v), 0);
	CHECK(v.i == INT64_MAX);
	CHECK_INT(conv(PGV_INT, "-9223372036854775807", &sb, &v), 0);
	CHECK(v.i == -INT64_MAX);
	CHECK_INT(conv(PGV_INT, "9223372036854775808", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "-9223372036854775809", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "18446744073709551616", &sb, &v), -1);
	CHECK_INT(conv(PGV_INT, "99999999999999999999999", &sb, &v), -1);
	strbuf_free(&sb);
}

static void
test_float_round_trip(void)
{
	static const char *const texts[] = {
	        "0.1",
	        "1e-310",
	        "1.7976931348623157e+308",
	        "5e-324",
	        "2.2250738585072014e-308",
	        "3.4028235e+38",
	        "123456789012345680",
	        "-1.5",
	};
	static const double values[] = {
	        0.1,
	        1e-310,
	        1.7976931348623157e+308,
	        5e-324,
	        2.2250738585072014e-308,
	        3.4028235e+38,
	        123456789012345680.0,
	        -1.5,
	};
	struct strbuf sb;
	struct pgv_value v;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		CHECK_INT(conv(PGV_FLOAT, texts[i], &sb, &v), 0);
		CHECK_INT(v.type, PGV_VAL_REAL);
		CHECK(memcmp(&v.d, &values[i], sizeof(double)) == 0);
	}
	/* -0 keeps its sign as the BLOB "-0" (a REAL column would store 0), and prints back */
	CHECK_INT(conv(PGV_FLOAT, "-0", &sb, &v), 0);
	CHECK(v.type == PGV_VAL_BLOB && v.len == 2 && memcmp(v.p, "-0", 2) == 0);
	{
		struct pgv_out_settings os = {.extra_float_digits = 1};
		struct strbuf txt, bin;
		const uint8_t neg0[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};

		strbuf_init(&txt);
		strbuf_init(&bin);
		CHECK_INT(pgv_to_text(PGV_OID_FLOAT8, &v, &os, &txt), 0);
		CHECK_STR(strbuf_str(&txt), "-0");
		CHECK_INT(pgv_to_binary(PGV_OID_FLOAT8, &v, &bin), 0);
		CHECK(bin.len == 8 && memcmp(bin.data, neg0, 8) == 0);
		strbuf_reset(&bin);
		CHECK_INT(pgv_to_binary(PGV_OID_FLOAT4, &v, &bin), 0);
		CHECK(bin.len == 4 && memcmp(bin.data, neg0, 4) == 0);
		strbuf_free(&txt);
		strbuf_free(&bin);
	}
	CHECK_INT(conv(PGV_FLOAT, "0", &sb, &v), 0);
	CHECK(v.d == 0.0 && !signbit(v.d));
	/* float4 text is stored as the double nearest that text, not the float's exact value */
	CHECK_INT(conv(PGV_FLOAT, "0.1", &sb, &v), 0);
	CHECK(v.d == 0.1);
	/* longer than any float8out text: still the exact strtod result */
	CHECK_INT(conv(PGV_FLOAT,
	               "0.10000000000000000000000000000000000000000000000000000000000000000000001",
	               &sb, &v),
	          0);
	CHECK(v.d == 0.1);
	strbuf_free(&sb);
}

static void
test_float_rejects_non_numbers(void)
{
	static const char *const bad[] = {
	        "",      " 1",  "1 ",   "1e",  "e5",  ".",        "-",     "1.2.3",  "abc",
	        "0x1p3", "inf", "-inf", "nan", "NAN", "infinity", "1e999", "-1e999", "1,5",
	};
	struct strbuf sb;
	struct pgv_value v;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = conv(PGV_FLOAT, bad[i], &sb, &v);

		if (r != -1)
			fprintf(stderr, "accepted float \"%s\"\n", bad[i]);
		CHECK_INT(r, -1);
	}
	strbuf_free(&sb);
}

static void
test_nan_and_infinity_stay_text(void)
{
	static const char *const special[] = {"NaN", "Infinity", "-Infinity"};
	struct strbuf sb;
	struct pgv_value v;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(special); i++) {
		CHECK_INT(conv(PGV_FLOAT, special[i], &sb, &v), 0);
		CHECK_INT(v.type, PGV_VAL_TEXT);
		CHECK_MEM(v.p, v.len, special[i], strlen(special[i]));
		CHECK(v.p == special[i]);
	}
	CHECK_INT(conv(PGV_FLOAT, "+Infinity", &sb, &v), -1);
	CHECK_INT(conv(PGV_FLOAT, "NaNx", &sb, &v), -1);
	strbuf_free(&sb);
}

static void
test_numeric_keeps_scale(void)
{
	static const char *const texts[] = {
	        "1.50",
	        "0.00",
	        "-12345.67",
	        "1234567890123456789012345678901234567890",
	        "0.0000000000000000000000000000000000000001",
	        "NaN",
	};
	struct strbuf sb;
	struct pgv_value v;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		CHECK_INT(conv(PGV_NUMERIC, texts[i], &sb, &v), 0);
		CHECK_INT(v.type, PGV_VAL_TEXT);
		CHECK(v.p == texts[i]);
		CHECK_MEM(v.p, v.len, texts[i], strlen(texts[i]));
	}
	strbuf_free(&sb);
}

static void
test_text_passes_through(void)
{
	static const char weird[] = "a\tb\\c\0d";
	struct strbuf sb;
	struct pgv_value v;

	strbuf_init(&sb);
	CHECK_INT(pgv_from_text(PGV_TEXT, weird, sizeof(weird) - 1, &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_TEXT);
	CHECK(v.p == weird);
	CHECK_INT(v.len, sizeof(weird) - 1);
	CHECK_INT(conv(PGV_TEXT, "", &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_TEXT);
	CHECK_INT(v.len, 0);
	CHECK_INT(conv(PGV_TEXT, "2024-01-02 03:04:05.123456+00", &sb, &v), 0);
	CHECK_STR(v.p, "2024-01-02 03:04:05.123456+00");
	strbuf_free(&sb);
}

static void
test_bytea_hex_decodes(void)
{
	static const char expect[] = {0x00, 0x5c, (char)0xff, 0x0a, (char)0xab, (char)0xcd};
	struct strbuf sb;
	struct pgv_value v;

	strbuf_init(&sb);
	CHECK_INT(conv(PGV_BYTEA, "\\x005cff0aabCD", &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_BLOB);
	CHECK(v.p == sb.data);
	CHECK_MEM(v.p, v.len, expect, sizeof(expect));

	/* a second value replaces the first in scratch */
	CHECK_INT(conv(PGV_BYTEA, "\\x41", &sb, &v), 0);
	CHECK_MEM(v.p, v.len, "A", 1);
	CHECK_INT(sb.len, 1);

	strbuf_free(&sb);
	CHECK_INT(conv(PGV_BYTEA, "\\x", &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_BLOB);
	CHECK_INT(v.len, 0);
	CHECK(v.p != NULL);
	strbuf_free(&sb);
}

static void
test_bytea_rejects_odd_hex(void)
{
	static const char *const bad[] = {
	        "\\x0",  "\\x123", "",      "\\",    "x00", "\\X00",
	        "\\x0g", "\\xg0",  "\\x 0", "\\000", /* the old escape format is not accepted:
	                                                bytea_output=hex is pinned */
	        "00",
	};
	struct strbuf sb;
	struct pgv_value v = {.type = PGV_VAL_NULL};
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_INT(conv(PGV_BYTEA, bad[i], &sb, &v), -1);
		CHECK_INT(v.type, PGV_VAL_NULL); /* out is left alone on error */
	}
	strbuf_free(&sb);
}

static void
test_unknown_kind_rejected(void)
{
	struct strbuf sb;
	struct pgv_value v;

	strbuf_init(&sb);
	CHECK_INT(conv((enum pgv_kind)99, "1", &sb, &v), -1);
	strbuf_free(&sb);
}

static void
test_input_not_nul_terminated(void)
{
	/* each value is followed by bytes that would change the result if read past len */
	char buf[64];
	struct strbuf sb;
	struct pgv_value v;

	strbuf_init(&sb);
	memcpy(buf, "12345678", 8);
	CHECK_INT(pgv_from_text(PGV_INT, buf, 3, &sb, &v), 0);
	CHECK_INT(v.i, 123);
	memcpy(buf, "922337203685477580799", 21);
	CHECK_INT(pgv_from_text(PGV_INT, buf, 19, &sb, &v), 0);
	CHECK(v.i == INT64_MAX);
	memcpy(buf, "-", 1);
	CHECK_INT(pgv_from_text(PGV_INT, buf, 1, &sb, &v), -1);

	memcpy(buf, "1.2345e10", 9);
	CHECK_INT(pgv_from_text(PGV_FLOAT, buf, 3, &sb, &v), 0);
	CHECK(v.d == 1.2);
	memcpy(buf, "1e5", 3);
	CHECK_INT(pgv_from_text(PGV_FLOAT, buf, 2, &sb, &v), -1);
	memcpy(buf, "NaN1", 4);
	CHECK_INT(pgv_from_text(PGV_FLOAT, buf, 3, &sb, &v), 0);
	CHECK_INT(v.type, PGV_VAL_TEXT);
	CHECK_INT(v.len, 3);

	memcpy(buf, "tt", 2);
	CHECK_INT(pgv_from_text(PGV_BOOL, buf, 1, &sb, &v), 0);
	CHECK_INT(v.i, 1);

	memcpy(buf, "\\x41424", 7);
	CHECK_INT(pgv_from_text(PGV_BYTEA, buf, 6, &sb, &v), 0);
	CHECK_MEM(v.p, v.len, "AB", 2);
	CHECK_INT(pgv_from_text(PGV_BYTEA, buf, 7, &sb, &v), -1);

	memcpy(buf, "1.50123", 7);
	CHECK_INT(pgv_from_text(PGV_NUMERIC, buf, 4, &sb, &v), 0);
	CHECK_INT(v.len, 4);
	CHECK(v.p == buf);
	strbuf_free(&sb);
}

static void
test_copy_split_plain_row(void)
{
	struct pgv_field f[8];
	char *buf;

	CHECK_INT(split("1\thello\t2.5\n", &buf, f, 8), 3);
	CHECK_STR(f[0].p, "1");
	CHECK_INT(f[0].len, 1);
	CHECK(!f[0].is_null);
	CHECK_STR(f[1].p, "hello");
	CHECK_INT(f[1].len, 5);
	CHECK_STR(f[2].p, "2.5");
	CHECK_INT(f[2].len, 3);
	free(buf);

	/* without the newline too */
	CHECK_INT(split("a\tb", &buf, f, 8), 2);
	CHECK_STR(f[0].p, "a");
	CHECK_STR(f[1].p, "b");
	free(buf);
}

static void
test_copy_split_escapes(void)
{
	struct pgv_field f[16];
	char *buf;

	CHECK_INT(split("\\b\\f\\n\\r\\t\\v\\\\\t\\N\t\\\\N\t\t\\0\t\\101\t\\x41\t\\q\\.\n", &buf,
	                f, 16),
	          8);
	CHECK_MEM(f[0].p, f[0].len, "\b\f\n\r\t\v\\", 7);
	CHECK(!f[0].is_null);
	CHECK(f[1].is_null);
	CHECK_INT(f[1].len, 0);
	CHECK_STR(f[1].p, "");
	CHECK(!f[2].is_null); /* \\N is the two characters \N */
	CHECK_STR(f[2].p, "\\N");
	CHECK_INT(f[2].len, 2);
	CHECK(!f[3].is_null); /* an empty field is an empty string, not NULL */
	CHECK_INT(f[3].len, 0);
	CHECK_STR(f[3].p, "");
	CHECK_INT(f[4].len, 1); /* \0 decodes to a NUL byte: len says so */
	CHECK(f[4].p[0] == '\0');
	CHECK_STR(f[5].p, "A");
	CHECK_STR(f[6].p, "A");
	CHECK_STR(f[7].p, "q.");
	CHECK_INT(f[7].len, 2);
	free(buf);

	/* trailing tab: an empty last field */
	CHECK_INT(split("a\t\n", &buf, f, 16), 2);
	CHECK_STR(f[0].p, "a");
	CHECK_INT(f[1].len, 0);
	CHECK(!f[1].is_null);
	free(buf);

	/* leading and consecutive tabs */
	CHECK_INT(split("\t\t", &buf, f, 16), 3);
	CHECK_INT(f[0].len + f[1].len + f[2].len, 0);
	free(buf);

	/* \N only as a whole field */
	CHECK_INT(split("\\Nx\tx\\N\t\\N\n", &buf, f, 16), 3);
	CHECK_STR(f[0].p, "Nx");
	CHECK(!f[0].is_null);
	CHECK_STR(f[1].p, "xN");
	CHECK(!f[1].is_null);
	CHECK(f[2].is_null);
	free(buf);
}

static void
test_copy_split_numeric_escapes(void)
{
	struct pgv_field f[16];
	char *buf;

	/* octal takes at most three digits; the value is masked to a byte */
	CHECK_INT(split("\\1011\t\\7\t\\777\t\\08\t\\x414\t\\xg\t\\x\t\\x4", &buf, f, 16), 8);
	CHECK_STR(f[0].p, "A1");
	CHECK_STR(f[1].p, "\7");
	CHECK_MEM(f[2].p, f[2].len, "\377", 1);
	CHECK_MEM(f[3].p, f[3].len, "\0008", 2);
	CHECK_STR(f[4].p, "A4");
	CHECK_STR(f[5].p, "xg"); /* \x without a hex digit is a plain x */
	CHECK_STR(f[6].p, "x");
	CHECK_STR(f[7].p, "\4");
	free(buf);

	/* an escaped raw tab is data, not a separator */
	CHECK_INT(split("a\\\tb\tc", &buf, f, 16), 2);
	CHECK_STR(f[0].p, "a\tb");
	CHECK_STR(f[1].p, "c");
	free(buf);

	/* text after an escape is moved back over the row */
	CHECK_INT(split("\\\\abc\tdef\\n\tghi", &buf, f, 16), 3);
	CHECK_STR(f[0].p, "\\abc");
	CHECK_STR(f[1].p, "def\n");
	CHECK_STR(f[2].p, "ghi");
	free(buf);
}

static void
test_copy_split_newline_handling(void)
{
	struct pgv_field f[4];
	char *buf;

	/* a zero-length row is one empty field (a one-column table holding '') */
	CHECK_INT(split("", &buf, f, 4), 1);
	CHECK_INT(f[0].len, 0);
	CHECK(!f[0].is_null);
	CHECK_STR(f[0].p, "");
	free(buf);
	CHECK_INT(split("\n", &buf, f, 4), 1);
	CHECK_INT(f[0].len, 0);
	free(buf);

	/* only one newline is stripped, and never a \r before it */
	CHECK_INT(split("a\r\n", &buf, f, 4), 1);
	CHECK_MEM(f[0].p, f[0].len, "a\r", 2);
	free(buf);
	CHECK_INT(split("a\n\n", &buf, f, 4), 1);
	CHECK_MEM(f[0].p, f[0].len, "a\n", 2);
	free(buf);
}

static void
test_copy_split_too_many_fields(void)
{
	struct pgv_field f[4];
	char *buf;

	CHECK_INT(split("1\t2\t3\n", &buf, f, 3), 3);
	free(buf);
	CHECK_INT(split("1\t2\t3\t4\n", &buf, f, 3), -1);
	free(buf);
	CHECK_INT(split("1\t2\t3\t\n", &buf, f, 3), -1);
	free(buf);
	CHECK_INT(split("", &buf, f, 0), -1);
	free(buf);
}

static void
test_copy_split_rejects_trailing_backslash(void)
{
	struct pgv_field f[4];
	char *buf;

	CHECK_INT(split("abc\\", &buf, f, 4), -1);
	free(buf);
	CHECK_INT(split("abc\\\n", &buf, f, 4), -1);
	free(buf);
	CHECK_INT(split("a\tb\\", &buf, f, 4), -1);
	free(buf);
	CHECK_INT(split("\\", &buf, f, 4), -1);
	free(buf);
	/* an escaped backslash at the end is fine */
	CHECK_INT(split("abc\\\\", &buf, f, 4), 1);
	CHECK_STR(f[0].p, "abc\\");
	free(buf);
}

static void
test_copy_split_does_not_read_past_len(void)
{
	struct pgv_field f[4];
	char buf[32];

	/* len excludes the rest of the buffer: the splitter must stop at len */
	memcpy(buf, "ab\tc\\x41\t9", 10);
	CHECK_INT(pgv_copy_split(buf, 4, f, 4), 2);
	CHECK_STR(f[0].p, "ab");
	CHECK_MEM(f[1].p, f[1].len, "c", 1);
	memcpy(buf, "ab\tc\\x41\t9", 10);
	CHECK_INT(pgv_copy_split(buf, 6, f, 4), 2);
	CHECK_STR(f[1].p, "cx"); /* \x with its digits beyond len is a plain x */
	memcpy(buf, "\\1234", 5);
	CHECK_INT(pgv_copy_split(buf, 3, f, 4), 1);
	CHECK_MEM(f[0].p, f[0].len, "\12", 1);
}

static void
test_copy_split_long_row(void)
{
	/* a row with many fields and escapes decodes the same as its fields one by one */
	struct strbuf row;
	struct pgv_field f[1000];
	char expect[32];
	int i, n;

	strbuf_init(&row);
	for (i = 0; i < 1000; i++) {
		if (i)
			strbuf_putc(&row, '\t');
		if (i % 7 == 0)
			strbuf_puts(&row, "\\N");
		else
			strbuf_printf(&row, "v%d\\t\\\\%d", i, i);
	}
	strbuf_putc(&row, '\n');
	strbuf_reserve(&row, 1);
	n = pgv_copy_split(row.data, row.len, f, 1000);
	CHECK_INT(n, 1000);
	for (i = 0; i < n; i++) {
		if (i % 7 == 0) {
			CHECK(f[i].is_null);
			continue;
		}
		snprintf(expect, sizeof(expect), "v%d\t\\%d", i, i);
		CHECK(!f[i].is_null);
		CHECK_STR(f[i].p, expect);
		CHECK_INT(f[i].len, strlen(expect));
	}
	strbuf_free(&row);
}

static double
bits_to_double(const char *hexbits)
{
	uint8_t b[8];
	double d;

	CHECK_INT(hex(hexbits, b, sizeof(b)), 8);
	memcpy(&d, b, sizeof(d)); /* little-endian, as generated */
	return d;
}

static void
test_float_out_matches_postgresql(void)
{
	struct strbuf sb;
	size_t i;
	int bad = 0;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(float_vectors); i++) {
		const struct float_vector *fv = &float_vectors[i];
		double d = bits_to_double(fv->bits);

		strbuf_reset(&sb);
		pgv_float_out(d, false, fv->extra_float_digits, &sb);
		if (strcmp(strbuf_str(&sb), fv->float8) != 0 && bad++ < 10)
			fprintf(stderr, "float8 %s efd %d: got %s, PostgreSQL prints %s\n",
			        fv->bits, fv->extra_float_digits, strbuf_str(&sb), fv->float8);
		CHECK_STR(strbuf_str(&sb), fv->float8);
		if (fv->float4[0] == '\0')
			continue;
		strbuf_reset(&sb);
		pgv_float_out(d, true, fv->extra_float_digits, &sb);
		if (strcmp(strbuf_str(&sb), fv->float4) != 0 && bad++ < 10)
			fprintf(stderr, "float4 %s efd %d: got %s, PostgreSQL prints %s\n",
			        fv->bits, fv->extra_float_digits, strbuf_str(&sb), fv->float4);
		CHECK_STR(strbuf_str(&sb), fv->float4);
	}
	strbuf_reset(&sb);
	pgv_float_out(NAN, false, 1, &sb);
	pgv_float_out(-INFINITY, true, 1, &sb);
	CHECK_STR(strbuf_str(&sb), "NaN-Infinity");
	strbuf_free(&sb);
}

static void
check_to_text(uint32_t oid, struct pgv_value v, const struct pgv_out_settings *s, const char *want)
{
	struct strbuf sb;

	strbuf_init(&sb);
	CHECK_INT(pgv_to_text(oid, &v, s, &sb), 0);
	CHECK_STR(strbuf_str(&sb), want);
	strbuf_free(&sb);
}

static void
test_to_text_per_kind(void)
{
	struct pgv_out_settings def = {.extra_float_digits = 1}, esc = {.bytea_escape = true};
	struct pgv_value v = {0};
	struct strbuf sb;

	check_to_text(16, (struct pgv_value){.type = PGV_VAL_INT, .i = 1}, &def, "t");
	check_to_text(16, (struct pgv_value){.type = PGV_VAL_INT, .i = 0}, &def, "f");
	check_to_text(20, (struct pgv_value){.type = PGV_VAL_INT, .i = INT64_MIN}, &def,
	              "-9223372036854775808");
	check_to_text(701, (struct pgv_value){.type = PGV_VAL_REAL, .d = 0.1}, &def, "0.1");
	check_to_text(700, (struct pgv_value){.type = PGV_VAL_REAL, .d = 0.1}, &def, "0.1");
	check_to_text(701, (struct pgv_value){.type = PGV_VAL_TEXT, .p = "NaN", .len = 3}, &def,
	              "NaN");
	check_to_text(1700, (struct pgv_value){.type = PGV_VAL_TEXT, .p = "1.50", .len = 4}, &def,
	              "1.50");
	check_to_text(17,
	              (struct pgv_value){.type = PGV_VAL_BLOB,
	                                 .p = "\x00\xff"
	                                      "A\\",
	                                 .len = 4},
	              &def, "\\x00ff415c");
	check_to_text(17,
	              (struct pgv_value){.type = PGV_VAL_BLOB,
	                                 .p = "\x00\xff"
	                                      "A\\",
	                                 .len = 4},
	              &esc, "\\000\\377A\\\\");
	check_to_text(17, (struct pgv_value){.type = PGV_VAL_BLOB, .p = "", .len = 0}, &def, "\\x");
	check_to_text(25, (struct pgv_value){.type = PGV_VAL_TEXT, .p = "h\xc3\xa9", .len = 3},
	              &def, "h\xc3\xa9");
	/* a stored value of the wrong class is refused, not printed */
	strbuf_init(&sb);
	v.type = PGV_VAL_TEXT;
	v.p = "1";
	v.len = 1;
	CHECK_INT(pgv_to_text(23, &v, &def, &sb), -1);
	v.type = PGV_VAL_INT;
	v.i = 2;
	CHECK_INT(pgv_to_text(16, &v, &def, &sb), -1);
	CHECK_INT(pgv_to_text(17, &v, &def, &sb), -1);
	CHECK_INT(pgv_to_text(25, &v, &def, &sb), -1);
	CHECK_INT((int)sb.len, 0);
	strbuf_free(&sb);
}

static void
test_binary_matches_postgresql(void)
{
	struct strbuf scratch, out;
	uint8_t want[64];
	size_t i, n;

	strbuf_init(&scratch);
	strbuf_init(&out);
	for (i = 0; i < ARRAY_SIZE(binary_vectors); i++) {
		const struct binary_vector *bv = &binary_vectors[i];
		struct pgv_value v;

		/* stored as replication stores it, then sent as PostgreSQL sends it */
		CHECK_INT(pgv_from_text(pgv_kind_for_type(bv->oid), bv->text, strlen(bv->text),
		                        &scratch, &v),
		          0);
		strbuf_reset(&out);
		if (pgv_to_binary(bv->oid, &v, &out) < 0) {
			fprintf(stderr, "oid %u \"%s\": no binary output\n", bv->oid, bv->text);
			CHECK(0);
			continue;
		}
		n = hex(bv->binary, want, sizeof(want));
		if (out.len != n || memcmp(out.data, want, n) != 0) {
			fprintf(stderr, "oid %u \"%s\": binary differs from PostgreSQL's %s\n",
			        bv->oid, bv->text, bv->binary);
			CHECK(0);
		}
	}
	strbuf_free(&scratch);
	strbuf_free(&out);
}

static void
test_binary_refuses_what_it_cannot_encode(void)
{
	struct strbuf out;
	struct pgv_value v = {.type = PGV_VAL_TEXT, .p = "2024-13-01", .len = 10};

	strbuf_init(&out);
	strbuf_puts(&out, "kept");
	CHECK_INT(pgv_to_binary(1082, &v, &out), -1);
	v.p = "2024-01-01 10:00:00+02";
	v.len = strlen(v.p);
	CHECK_INT(pgv_to_binary(1184, &v, &out), -1); /* not stored in UTC */
	v.p = "12.3.4";
	v.len = strlen(v.p);
	CHECK_INT(pgv_to_binary(1700, &v, &out), -1);
	v.p = "a0eebc99-9c0b-4ef8-bb6d";
	v.len = strlen(v.p);
	CHECK_INT(pgv_to_binary(2950, &v, &out), -1);
	CHECK_INT(pgv_to_binary(1186, &v, &out), -1); /* interval: no encoder */
	CHECK_STR(strbuf_str(&out), "kept");
	strbuf_free(&out);
}

int
main(void)
{
	RUN(test_kind_for_type_maps_builtin_oids);
	RUN(test_decltype_per_kind);
	RUN(test_bool_only_t_and_f);
	RUN(test_int_parses_whole_string);
	RUN(test_int8_extremes);
	RUN(test_float_round_trip);
	RUN(test_float_rejects_non_numbers);
	RUN(test_nan_and_infinity_stay_text);
	RUN(test_numeric_keeps_scale);
	RUN(test_text_passes_through);
	RUN(test_bytea_hex_decodes);
	RUN(test_bytea_rejects_odd_hex);
	RUN(test_unknown_kind_rejected);
	RUN(test_input_not_nul_terminated);
	RUN(test_copy_split_plain_row);
	RUN(test_copy_split_escapes);
	RUN(test_copy_split_numeric_escapes);
	RUN(test_copy_split_newline_handling);
	RUN(test_copy_split_too_many_fields);
	RUN(test_copy_split_rejects_trailing_backslash);
	RUN(test_copy_split_does_not_read_past_len);
	RUN(test_copy_split_long_row);
	RUN(test_float_out_matches_postgresql);
	RUN(test_to_text_per_kind);
	RUN(test_binary_matches_postgresql);
	RUN(test_binary_refuses_what_it_cannot_encode);
	return unit_done();
}
