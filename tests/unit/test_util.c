/* SPDX-License-Identifier: MIT */
/* Unit tests for src/util.c: LSN text form, strbuf and its SQL/JSON quoting, number and
 * boolean parsing, path helpers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "upstream.h"
#include "util.h"
#include "unit.h"

static void
test_lsn_round_trip(void)
{
	static const struct {
		const char *text;
		uint64_t lsn;
	} cases[] = {
	        {"0/0", 0},
	        {"16/B374D848", UINT64_C(0x16B374D848)},
	        {"FFFFFFFF/FFFFFFFF", UINT64_MAX},
	        {"1/0", UINT64_C(0x100000000)},
	        {"0/1", 1},
	};
	char buf[LSN_BUFLEN];
	uint64_t lsn;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		lsn = 42;
		CHECK_INT(lsn_parse(cases[i].text, &lsn), 0);
		CHECK(lsn == cases[i].lsn);
		CHECK_STR(lsn_format(cases[i].lsn, buf), cases[i].text);
	}
	/* lower case and leading zeros are accepted; output is PostgreSQL's %X/%X */
	CHECK_INT(lsn_parse("16/b374d848", &lsn), 0);
	CHECK(lsn == UINT64_C(0x16B374D848));
	CHECK_INT(lsn_parse("00000016/0000000A", &lsn), 0);
	CHECK_STR(lsn_format(lsn, buf), "16/A");
	CHECK(lsn_format(lsn, buf) == buf);
}

static void
test_lsn_parse_rejects_malformed(void)
{
	static const char *const bad[] = {
	        "",     "1",    "1/",    "/1",          "G/0",   "1/2/3",       "100000000/0",
	        "-1/0", "0/-1", "+1/0",  "0/100000000", "1 /0",  "0/1 ",        "0/G",
	        "x",    " 1/0", "0x1/0", "0/0x10",      "0/ +1", "000000001/0",
	};
	uint64_t lsn = 42;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = lsn_parse(bad[i], &lsn);

		if (r != -1)
			fprintf(stderr, "accepted lsn \"%s\"\n", bad[i]);
		CHECK_INT(r, -1);
	}
	CHECK_INT(lsn_parse(NULL, &lsn), -1);
	CHECK(lsn == 42); /* out-parameter untouched on error */
}

static void
test_strbuf_starts_empty_and_grows(void)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	CHECK(sb.data == NULL);
	CHECK_STR(strbuf_str(&sb), "");
	for (i = 0; i < 10000; i++)
		strbuf_putc(&sb, (char)('a' + i % 26));
	CHECK_INT(sb.len, 10000);
	CHECK(sb.cap > sb.len);
	CHECK_INT(strlen(strbuf_str(&sb)), 10000);
	CHECK(sb.data[9999] == (char)('a' + 9999 % 26));
	strbuf_reset(&sb);
	CHECK_INT(sb.len, 0);
	CHECK_STR(strbuf_str(&sb), "");
	strbuf_append(&sb, "a\0b", 3);
	CHECK_INT(sb.len, 3);
	CHECK_MEM(sb.data, sb.len, "a\0b", 3);
	CHECK(sb.data[3] == '\0');
	strbuf_append(&sb, NULL, 0);
	CHECK_INT(sb.len, 3);
	strbuf_puts(&sb, "cd");
	CHECK_MEM(sb.data, sb.len, "a\0bcd", 5);
	strbuf_free(&sb);
	CHECK(sb.data == NULL);
	CHECK_INT(sb.len, 0);
	strbuf_free(&sb); /* twice is fine */
}

static void
test_strbuf_printf_long_strings(void)
{
	struct strbuf sb;
	char *big = xmalloc(5001);
	char *expect;

	memset(big, 'x', 5000);
	big[5000] = '\0';
	strbuf_init(&sb);
	strbuf_printf(&sb, "%d:", 7);
	CHECK_STR(strbuf_str(&sb), "7:");
	/* longer than the first vsnprintf attempt: takes the grow-and-retry path */
	strbuf_printf(&sb, "[%s]%s", big, "end");
	CHECK_INT(sb.len, 2 + 1 + 5000 + 1 + 3);
	expect = xmalloc(sb.len + 1);
	snprintf(expect, sb.len + 1, "7:[%s]end", big);
	CHECK_STR(strbuf_str(&sb), expect);
	CHECK_INT(strlen(sb.data), sb.len);
	strbuf_printf(&sb, "%s", "");
	CHECK_INT(sb.len, 5007);
	free(expect);
	free(big);
	strbuf_free(&sb);

	/* exactly at the 64-byte boundary of the first attempt */
	strbuf_init(&sb);
	strbuf_printf(&sb, "%063d", 1);
	CHECK_INT(sb.len, 63);
	strbuf_printf(&sb, "%064d", 2);
	CHECK_INT(sb.len, 127);
	CHECK(sb.data[126] == '2' && sb.data[127] == '\0');
	strbuf_free(&sb);
}

static void
test_strbuf_quote_ident_doubles_quotes(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_quote_ident(&sb, "weird \"name\"");
	CHECK_STR(strbuf_str(&sb), "\"weird \"\"name\"\"\"");
	strbuf_reset(&sb);
	strbuf_quote_ident(&sb, "");
	CHECK_STR(strbuf_str(&sb), "\"\"");
	strbuf_reset(&sb);
	strbuf_quote_ident(&sb, "it's");
	CHECK_STR(strbuf_str(&sb), "\"it's\"");
	strbuf_free(&sb);
}

static void
test_strbuf_quote_literal_doubles_quotes(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_quote_literal(&sb, "'); DROP TABLE t; --");
	CHECK_STR(strbuf_str(&sb), "'''); DROP TABLE t; --'");
	strbuf_reset(&sb);
	strbuf_quote_literal(&sb, "a\\b\"c");
	CHECK_STR(strbuf_str(&sb), "'a\\b\"c'"); /* standard strings: backslash is literal */
	strbuf_reset(&sb);
	strbuf_quote_literal(&sb, "''");
	CHECK_STR(strbuf_str(&sb), "''''''");
	strbuf_free(&sb);
}

static void
test_strbuf_json_string_escapes(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_json_string(&sb, "say \"hi\"\\ now");
	CHECK_STR(strbuf_str(&sb), "\"say \\\"hi\\\"\\\\ now\"");
	strbuf_reset(&sb);
	strbuf_json_string(&sb, "a\nb\rc\td\001e\037f\x7f");
	CHECK_STR(strbuf_str(&sb), "\"a\\nb\\rc\\td\\u0001e\\u001ff\x7f\"");
	strbuf_reset(&sb);
	strbuf_json_string(&sb, "\b\f");
	CHECK_STR(strbuf_str(&sb), "\"\\u0008\\u000c\"");
	strbuf_reset(&sb);
	strbuf_json_string(&sb, "caf\xc3\xa9"); /* UTF-8 passes through */
	CHECK_STR(strbuf_str(&sb), "\"caf\xc3\xa9\"");
	strbuf_reset(&sb);
	strbuf_json_string(&sb, "");
	CHECK_STR(strbuf_str(&sb), "\"\"");
	strbuf_reset(&sb);
	strbuf_json_string(&sb, NULL);
	CHECK_STR(strbuf_str(&sb), "null");
	strbuf_free(&sb);
}

static void
test_parse_int64_bounds(void)
{
	int64_t v = 42;

	CHECK_INT(parse_int64("0", 0, 10, &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(parse_int64("10", 0, 10, &v), 0);
	CHECK_INT(v, 10);
	CHECK_INT(parse_int64("-5", -5, 5, &v), 0);
	CHECK_INT(v, -5);
	CHECK_INT(parse_int64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	CHECK(v == INT64_MIN);
	CHECK_INT(parse_int64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	CHECK(v == INT64_MAX);

	v = 42;
	CHECK_INT(parse_int64("11", 0, 10, &v), -1);
	CHECK_INT(parse_int64("-1", 0, 10, &v), -1);
	CHECK_INT(parse_int64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -1);
	CHECK_INT(parse_int64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -1);
	CHECK_INT(parse_int64("", 0, 10, &v), -1);
	CHECK_INT(parse_int64(NULL, 0, 10, &v), -1);
	CHECK_INT(parse_int64("5x", 0, 10, &v), -1);
	CHECK_INT(parse_int64("x5", 0, 10, &v), -1);
	CHECK_INT(parse_int64("5 ", 0, 10, &v), -1);
	CHECK_INT(parse_int64("1.0", 0, 10, &v), -1);
	CHECK_INT(v, 42); /* out-parameter untouched on error */
}

static void
test_parse_bool_words(void)
{
	static const char *const yes[] = {"true", "on", "yes", "1", "TRUE", "On", "YES"};
	static const char *const no[] = {"false", "off", "no", "0", "False", "OFF", "No"};
	static const char *const bad[] = {"", "t", "f", "y", "n", "2", "truee", " true", "of"};
	size_t i;
	bool b;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		b = false;
		CHECK_INT(parse_bool(yes[i], &b), 0);
		CHECK(b == true);
	}
	for (i = 0; i < ARRAY_SIZE(no); i++) {
		b = true;
		CHECK_INT(parse_bool(no[i], &b), 0);
		CHECK(b == false);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = parse_bool(bad[i], &b);

		if (r != -1)
			fprintf(stderr, "accepted bool \"%s\"\n", bad[i]);
		CHECK_INT(r, -1);
	}
}

static void
test_path_dirname_cases(void)
{
	static const struct {
		const char *path;
		const char *dir;
	} cases[] = {
	        {"/var/lib/sqledge/db.sqlite", "/var/lib/sqledge"},
	        {"db.sqlite", "."},
	        {"", "."},
	        {"/db.sqlite", "/"},
	        {"/", "/"},
	        {"a/b", "a"},
	        {"./x", "."},
	        {"../x", ".."},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *d = path_dirname(cases[i].path);

		CHECK_STR(d, cases[i].dir);
		free(d);
	}
}

static void
test_xstrndup_copies_prefix(void)
{
	char *s = xstrndup("abcdef", 3);

	CHECK_STR(s, "abc");
	free(s);
	s = xstrdup("");
	CHECK_STR(s, "");
	free(s);
}

static void
test_pg_time_now_uses_2000_epoch(void)
{
	int64_t pg = pg_time_now();
	int64_t unix_us = time_real_us();

	/* both clocks are read within a second of each other */
	CHECK(unix_us - PG_EPOCH_UNIX_US - pg < 1000000);
	CHECK(unix_us - PG_EPOCH_UNIX_US - pg >= 0);
	CHECK(pg > 0);
	CHECK(time_mono_us() > 0);
}

/* A timeline history file as TIMELINE_HISTORY returns it. */
static void
test_timeline_history(void)
{
	static const char h[] = "1\t0/3000158\tno recovery target specified\n"
	                        "\n"
	                        "2\t0/5A00000\tat restore point \"x\"\n";
	uint64_t lsn = 0;

	CHECK_INT(upstream_timeline_end(h, strlen(h), 1, &lsn), 0);
	CHECK(lsn == 0x3000158);
	CHECK_INT(upstream_timeline_end(h, strlen(h), 2, &lsn), 0);
	CHECK(lsn == 0x5A00000);
	CHECK_INT(upstream_timeline_end(h, strlen(h), 3, &lsn), -1);
	CHECK_INT(upstream_timeline_end(h, 10, 2, &lsn), -1); /* cut short */
	CHECK_INT(upstream_timeline_end("", 0, 1, &lsn), -1);
}

int
main(void)
{
	RUN(test_lsn_round_trip);
	RUN(test_lsn_parse_rejects_malformed);
	RUN(test_strbuf_starts_empty_and_grows);
	RUN(test_strbuf_printf_long_strings);
	RUN(test_strbuf_quote_ident_doubles_quotes);
	RUN(test_strbuf_quote_literal_doubles_quotes);
	RUN(test_strbuf_json_string_escapes);
	RUN(test_parse_int64_bounds);
	RUN(test_parse_bool_words);
	RUN(test_path_dirname_cases);
	RUN(test_xstrndup_copies_prefix);
	RUN(test_pg_time_now_uses_2000_epoch);
	RUN(test_timeline_history);
	return unit_done();
}
