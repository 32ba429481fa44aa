/* SPDX-License-Identifier: MIT */
/* Unit tests for the PostgreSQL v3 wire codec: first packets, framing, every frontend message
 * decoder with its strict rejections, and byte-exact vectors for every backend builder. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire.h"
#include "rbuf.h"
#include "unit.h"
#include "util.h"

/* ---- helpers ---- */

/* An exactly-sized heap copy, so ASan sees any over-read. */
static uint8_t *
heap_copy(const void *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	if (copy == NULL)
		abort();
	if (n)
		memcpy(copy, p, n);
	return copy;
}

/* Decodes a hex message from a heap copy that the caller frees (*keep) or that is freed. */
static int
decode_hex(struct pgw_decoder *dec, const char *h, struct pgw_msg *out, uint8_t **keep)
{
	uint8_t tmp[1024];
	size_t n = hex(h, tmp, sizeof(tmp));
	uint8_t *copy = heap_copy(tmp, n);
	int rc = pgw_decode(dec, copy, n, out);

	if (keep != NULL)
		*keep = copy;
	else
		free(copy);
	return rc;
}

/* Parses a hex first packet from a heap copy; the pointers in *out die with it, so tests
 * that read strings use startup_hex_keep(). */
static int
startup_hex_keep(const char *h, struct pgw_startup *out, uint8_t **keep)
{
	uint8_t tmp[1024];
	size_t n = hex(h, tmp, sizeof(tmp));
	uint8_t *copy = heap_copy(tmp, n);
	int rc = pgw_parse_startup(copy, n, out);

	if (keep != NULL)
		*keep = copy;
	else
		free(copy);
	return rc;
}

static int
startup_hex(const char *h, struct pgw_startup *out)
{
	return startup_hex_keep(h, out, NULL);
}

/* Builds a StartupMessage from NULL-terminated name, value, ... pairs. */
static void
build_startup(struct strbuf *sb, uint32_t version, const char *const *kv)
{
	uint8_t w[4];

	strbuf_reset(sb);
	strbuf_append(sb, "\0\0\0\0", 4);
	be_put_u32(w, version);
	strbuf_append(sb, w, 4);
	for (; kv[0] != NULL; kv++)
		strbuf_append(sb, kv[0], strlen(kv[0]) + 1);
	strbuf_putc(sb, '\0');
	be_put_u32((uint8_t *)sb->data, (uint32_t)sb->len);
}

#define CHECK_HEX(sb, h)                                                                           \
	do {                                                                                       \
		uint8_t exp_[1024];                                                                \
		size_t en_ = hex((h), exp_, sizeof(exp_));                                         \
		CHECK_MEM((sb)->data, (sb)->len, exp_, en_);                                       \
	} while (0)

/* ---- first packet ---- */

static void
test_startup_ssl_request(void)
{
	struct pgw_startup st;

	CHECK_INT(startup_hex("00000008 04d2162f", &st), 0);
	CHECK_INT(st.kind, PGW_STARTUP_SSL);
	CHECK_INT(st.nparams, 0);
}

static void
test_startup_gssenc_request(void)
{
	struct pgw_startup st;

	CHECK_INT(startup_hex("00000008 04d21630", &st), 0);
	CHECK_INT(st.kind, PGW_STARTUP_GSSENC);
}

static void
test_startup_cancel_request(void)
{
	struct pgw_startup st;

	CHECK_INT(startup_hex("00000010 04d2162e 00003039 deadbeef", &st), 0);
	CHECK_INT(st.kind, PGW_STARTUP_CANCEL);
	CHECK_INT(st.cancel_pid, 12345);
	CHECK_INT(st.cancel_key, 0xdeadbeef);
}

static void
test_startup_fixed_requests_reject_wrong_size(void)
{
	struct pgw_startup st;

	CHECK_INT(startup_hex("0000000c 04d2162f 00000000", &st), -1);
	CHECK_INT(startup_hex("0000000c 04d21630 00000000", &st), -1);
	CHECK_INT(startup_hex("0000000c 04d2162e 00003039", &st), -1);
	CHECK_INT(startup_hex("00000014 04d2162e 00003039 deadbeef 00000000", &st), -1);
}

static void
test_startup_message_keeps_all_pairs(void)
{
	/* user=u database=d application_name=psql: hand-written like the manual's layout */
	struct pgw_startup st;
	uint8_t *keep;
	int rc = startup_hex_keep("00000031 00030000"
	                          "7573657200 7500"                               /* user, u */
	                          "646174616261736500 6400"                       /* database, d */
	                          "6170706c69636174696f6e5f6e616d6500 7073716c00" /* app name */
	                          "00",
	                          &st, &keep);

	CHECK_INT(rc, 0);
	CHECK_INT(st.kind, PGW_STARTUP_MESSAGE);
	CHECK_INT(st.version, PGW_PROTOCOL_3_0);
	CHECK_INT(st.nparams, 3);
	CHECK_STR(st.user, "u");
	CHECK_STR(st.database, "d");
	CHECK_STR(st.params[2].name, "application_name");
	CHECK_STR(st.params[2].value, "psql");
	free(keep);
}

static void
test_startup_message_options_and_replication(void)
{
	static const char *const kv[] = {"user",        "alice", "options", "-c search_path=x",
	                                 "replication", "true",  "_pq_.x",  "1",
	                                 NULL};
	struct strbuf sb;
	struct pgw_startup st;
	uint8_t *copy;

	strbuf_init(&sb);
	build_startup(&sb, PGW_PROTOCOL_3_0, kv);
	copy = heap_copy(sb.data, sb.len);
	CHECK_INT(pgw_parse_startup(copy, sb.len, &st), 0);
	CHECK_INT(st.nparams, 4);
	CHECK_STR(pgw_startup_get(&st, "options"), "-c search_path=x");
	CHECK_STR(pgw_startup_get(&st, "replication"), "true");
	CHECK_STR(pgw_startup_get(&st, "_pq_.x"), "1");
	CHECK(pgw_startup_get(&st, "database") == NULL);
	CHECK_STR(st.database, "alice"); /* defaults to the user name */
	free(copy);
	strbuf_free(&sb);
}

static void
test_startup_rejects_missing_user(void)
{
	static const char *const kv[] = {"database", "d", NULL};
	static const char *const empty[] = {"user", "", NULL};
	struct strbuf sb;
	struct pgw_startup st;

	strbuf_init(&sb);
	build_startup(&sb, PGW_PROTOCOL_3_0, kv);
	CHECK_INT(pgw_parse_startup((uint8_t *)sb.data, sb.len, &st), -1);
	CHECK(strstr(st.errmsg, "user") != NULL);
	build_startup(&sb, PGW_PROTOCOL_3_0, empty);
	CHECK_INT(pgw_parse_startup((uint8_t *)sb.data, sb.len, &st), -1);
	strbuf_free(&sb);
}

static void
test_startup_rejects_missing_terminator(void)
{
	struct pgw_startup st;

	/* user\0u\0 without the closing empty name */
	CHECK_INT(startup_hex("0000000f 00030000 7573657200 7500", &st), -1);
	/* a name without its value */
	CHECK_INT(startup_hex("0000000d 00030000 7573657200", &st), -1);
	/* an unterminated name */
	CHECK_INT(startup_hex("0000000c 00030000 75736572", &st), -1);
}

static void
test_startup_rejects_bytes_after_terminator(void)
{
	struct pgw_startup st;

	CHECK_INT(startup_hex("00000011 00030000 7573657200 7500 00 78", &st), -1);
	CHECK(strstr(st.errmsg, "after") != NULL);
}

static void
test_startup_reports_unsupported_protocol(void)
{
	struct pgw_startup st;

	CHECK_INT(startup_hex("00000010 00020000 7573657200 7500 00", &st),
	          PGW_UNSUPPORTED_PROTOCOL);
	CHECK_INT(PGW_PROTOCOL_MAJOR(st.version), 2);
	CHECK_INT(PGW_PROTOCOL_MINOR(st.version), 0);
	CHECK_STR(st.errmsg, "unsupported frontend protocol 2.0");
	CHECK_INT(startup_hex("00000010 00040000 7573657200 7500 00", &st),
	          PGW_UNSUPPORTED_PROTOCOL);
	CHECK_STR(st.errmsg, "unsupported frontend protocol 4.0");
}

/* PostgreSQL 15 serves any 3.x as 3.0 and answers NegotiateProtocolVersion naming the newest
 * minor it speaks and every "_pq_." option, which it does not treat as a setting. */
static void
test_startup_negotiates_newer_minor_and_options(void)
{
	static const char *const plain[] = {"user", "u", NULL};
	static const char *const opts[] = {"user", "u",        "_pq_.foo", "1", "application_name",
	                                   "a",    "_pq_.bar", "x",        NULL};
	struct strbuf sb, out;
	struct pgw_startup st;
	uint8_t *keep = NULL;

	strbuf_init(&sb);
	strbuf_init(&out);
	build_startup(&sb, PGW_PROTOCOL_3_0, plain);
	CHECK_INT(pgw_parse_startup((uint8_t *)sb.data, sb.len, &st), 0);
	CHECK(!PGW_STARTUP_NEEDS_NEGOTIATION(&st));

	CHECK_INT(startup_hex_keep("00000010 00030002 7573657200 7500 00", &st, &keep), 0);
	CHECK_INT(st.kind, PGW_STARTUP_MESSAGE);
	CHECK_INT(PGW_PROTOCOL_MINOR(st.version), 2);
	CHECK(PGW_STARTUP_NEEDS_NEGOTIATION(&st));
	pgw_put_negotiate_protocol(&out, &st);
	CHECK_HEX(&out, "76 0000000c 00030000 00000000");
	free(keep);

	build_startup(&sb, PGW_PROTOCOL_3_0, opts);
	CHECK_INT(pgw_parse_startup((uint8_t *)sb.data, sb.len, &st), 0);
	CHECK_INT(st.n_protocol_options, 2);
	CHECK_INT(st.nparams, 4);
	CHECK_STR(pgw_startup_get(&st, "application_name"), "a");
	CHECK(PGW_STARTUP_NEEDS_NEGOTIATION(&st));
	strbuf_reset(&out);
	pgw_put_negotiate_protocol(&out, &st);
	/* _pq_.foo\0 _pq_.bar\0 */
	CHECK_HEX(&out, "76 0000001e 00030000 00000002 5f70715f2e666f6f00 5f70715f2e62617200");
	strbuf_free(&out);
	strbuf_free(&sb);
}

static void
test_startup_rejects_bad_lengths(void)
{
	struct pgw_startup st;
	uint8_t *big;

	CHECK_INT(startup_hex("00000004", &st), -1);
	CHECK_INT(startup_hex("00000007 04d216", &st), -1);
	/* length word disagrees with the buffer */
	CHECK_INT(startup_hex("00000009 04d2162f", &st), -1);
	big = calloc(1, 10001);
	be_put_u32(big, 10001);
	be_put_u32(big + 4, PGW_PROTOCOL_3_0);
	CHECK_INT(pgw_parse_startup(big, 10001, &st), -1);
	free(big);
}

static void
test_startup_bounds_parameter_count(void)
{
	const char *kv[2 * (PGW_STARTUP_MAX_PARAMS + 1) + 1];
	char names[PGW_STARTUP_MAX_PARAMS + 1][8];
	struct strbuf sb;
	struct pgw_startup st;

	kv[0] = "user";
	kv[1] = "u";
	for (int i = 1; i <= PGW_STARTUP_MAX_PARAMS; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d", i);
		kv[2 * i] = names[i];
		kv[2 * i + 1] = "v";
	}
	strbuf_init(&sb);
	/* exactly the limit */
	kv[2 * PGW_STARTUP_MAX_PARAMS] = NULL;
	build_startup(&sb, PGW_PROTOCOL_3_0, kv);
	CHECK_INT(pgw_parse_startup((uint8_t *)sb.data, sb.len, &st), 0);
	CHECK_INT(st.nparams, PGW_STARTUP_MAX_PARAMS);
	/* one more */
	kv[2 * PGW_STARTUP_MAX_PARAMS] = names[PGW_STARTUP_MAX_PARAMS];
	kv[2 * PGW_STARTUP_MAX_PARAMS + 2] = NULL;
	build_startup(&sb, PGW_PROTOCOL_3_0, kv);
	CHECK_INT(pgw_parse_startup((uint8_t *)sb.data, sb.len, &st), -1);
	strbuf_free(&sb);
}

static void
test_startup_prefixes_rejected(void)
{
	static const char *const kv[] = {"user", "u", "database", "d", NULL};
	struct strbuf sb;
	struct pgw_startup st;

	strbuf_init(&sb);
	build_startup(&sb, PGW_PROTOCOL_3_0, kv);
	for (size_t n = 0; n < sb.len; n++) {
		uint8_t *copy = heap_copy(sb.data, n);

		/* as sent (length word too big) and with the length word fixed up */
		CHECK_INT(pgw_parse_startup(copy, n, &st), -1);
		if (n >= 4) {
			be_put_u32(copy, (uint32_t)n);
			CHECK(pgw_parse_startup(copy, n, &st) < 0);
		}
		free(copy);
	}
	strbuf_free(&sb);
}

static void
test_frame_startup(void)
{
	uint8_t b[16];
	size_t n = hex("00000008 04d2162f 00", b, sizeof(b));
	size_t total = 99;

	CHECK_INT(pgw_frame_startup(b, 3, &total), SQE_AGAIN);
	CHECK_INT(pgw_frame_startup(b, 7, &total), SQE_AGAIN);
	CHECK_INT(total, 99);
	CHECK_INT(pgw_frame_startup(b, n, &total), 0);
	CHECK_INT(total, 8);
	hex("00000007", b, sizeof(b));
	CHECK_INT(pgw_frame_startup(b, 8, &total), -1);
	hex("00002711", b, sizeof(b)); /* 10001 */
	CHECK_INT(pgw_frame_startup(b, 8, &total), -1);
}

/* ---- framing ---- */

static void
test_frame_complete_need_more_malformed(void)
{
	uint8_t b[32];
	size_t n = hex("51 0000000d 53454c4543542031 00 53", b, sizeof(b));
	uint8_t type = 0;
	size_t total = 0;

	CHECK_INT(pgw_frame(b, 0, 1024, &type, &total), SQE_AGAIN);
	CHECK_INT(pgw_frame(b, 4, 1024, &type, &total), SQE_AGAIN);
	CHECK_INT(pgw_frame(b, 13, 1024, &type, &total), SQE_AGAIN);
	CHECK_INT(type, 0);
	CHECK_INT(pgw_frame(b, 14, 1024, &type, &total), 0);
	CHECK_INT(type, 'Q');
	CHECK_INT(total, 14);
	CHECK_INT(pgw_frame(b, n, 1024, &type, &total), 0); /* bytes after are the next one's */
	CHECK_INT(total, 14);
	CHECK_INT(pgw_frame(b, n, 12, &type, &total), -1); /* over max_len */
	hex("53 00000003", b, sizeof(b));
	CHECK_INT(pgw_frame(b, 5, 1024, &type, &total), -1); /* < 4 */
	hex("53 ffffffff", b, sizeof(b));
	CHECK_INT(pgw_frame(b, 5, SIZE_MAX, &type, &total), -1);
}

/* ---- frontend decoders ---- */

static void
test_decode_query(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;
	uint8_t *keep;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "51 0000000d 53454c4543542031 00", &m, &keep), 0);
	CHECK_INT(m.type, PGW_QUERY);
	CHECK_STR(m.u.query.sql, "SELECT 1");
	free(keep);
	pgw_decoder_free(&dec);
}

static void
test_decode_parse(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;
	uint8_t *keep;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "50 00000017 733100 53454c45435420243100 0001 00000017", &m,
	                     &keep),
	          0);
	CHECK_INT(m.type, PGW_PARSE);
	CHECK_STR(m.u.parse.name, "s1");
	CHECK_STR(m.u.parse.query, "SELECT $1");
	CHECK_INT(m.u.parse.nparam_types, 1);
	CHECK_INT(m.u.parse.param_types[0], 23);
	free(keep);
	pgw_decoder_free(&dec);
}

static void
test_decode_bind(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;
	uint8_t *keep;
	const struct pgw_bind *b = &m.u.bind;

	pgw_decoder_init(&dec);
	/* portal "", stmt "s1", 1 format (binary for all), 2 params ("42", NULL), 1 result fmt */
	CHECK_INT(decode_hex(&dec,
	                     "42 0000001c 00 733100 0001 0001 0002 00000002 3432 ffffffff"
	                     " 0001 0001",
	                     &m, &keep),
	          0);
	CHECK_INT(m.type, PGW_BIND);
	CHECK_STR(b->portal, "");
	CHECK_STR(b->stmt, "s1");
	CHECK_INT(b->nformats, 1);
	CHECK_INT(b->nparams, 2);
	CHECK_INT(b->params[0].len, 2);
	CHECK(memcmp(b->params[0].data, "42", 2) == 0);
	CHECK_INT(b->params[1].len, -1);
	CHECK(b->params[1].data == NULL);
	CHECK_INT(pgw_bind_param_format(b, 1), PGW_FORMAT_BINARY);
	CHECK_INT(b->nresult_formats, 1);
	CHECK_INT(pgw_bind_result_format(b, 7), PGW_FORMAT_BINARY);
	free(keep);
	pgw_decoder_free(&dec);
}

static void
test_decode_bind_per_parameter_formats(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;

	pgw_decoder_init(&dec);
	/* 2 formats (text, binary), 2 empty params, 0 result formats */
	CHECK_INT(decode_hex(&dec, "42 00000018 00 00 0002 0000 0001 0002 00000000 00000000 0000",
	                     &m, NULL),
	          0);
	CHECK_INT(pgw_bind_param_format(&m.u.bind, 0), PGW_FORMAT_TEXT);
	CHECK_INT(pgw_bind_param_format(&m.u.bind, 1), PGW_FORMAT_BINARY);
	CHECK_INT(m.u.bind.params[0].len, 0);
	CHECK_INT(pgw_bind_result_format(&m.u.bind, 3), PGW_FORMAT_TEXT);
	pgw_decoder_free(&dec);
}

static void
test_decode_describe_close_execute(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;
	uint8_t *keep;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "44 00000008 53 733100", &m, &keep), 0);
	CHECK_INT(m.type, PGW_DESCRIBE);
	CHECK_INT(m.u.describe.kind, 'S');
	CHECK_STR(m.u.describe.name, "s1");
	free(keep);
	CHECK_INT(decode_hex(&dec, "43 00000008 50 703100", &m, &keep), 0);
	CHECK_INT(m.type, PGW_CLOSE);
	CHECK_INT(m.u.close.kind, 'P');
	CHECK_STR(m.u.close.name, "p1");
	free(keep);
	CHECK_INT(decode_hex(&dec, "45 00000009 00 00000005", &m, &keep), 0);
	CHECK_INT(m.type, PGW_EXECUTE);
	CHECK_STR(m.u.execute.portal, "");
	CHECK_INT(m.u.execute.max_rows, 5);
	free(keep);
	pgw_decoder_free(&dec);
}

static void
test_decode_empty_bodies(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "53 00000004", &m, NULL), 0);
	CHECK_INT(m.type, PGW_SYNC);
	CHECK_INT(decode_hex(&dec, "48 00000004", &m, NULL), 0);
	CHECK_INT(m.type, PGW_FLUSH);
	CHECK_INT(decode_hex(&dec, "58 00000004", &m, NULL), 0);
	CHECK_INT(m.type, PGW_TERMINATE);
	CHECK_INT(decode_hex(&dec, "63 00000004", &m, NULL), 0);
	CHECK_INT(m.type, PGW_COPY_DONE);
	pgw_decoder_free(&dec);
}

static void
test_decode_copy_and_password(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;
	uint8_t *keep;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "64 00000007 616263", &m, &keep), 0);
	CHECK_INT(m.type, PGW_COPY_DATA);
	CHECK_MEM(m.u.copy_data.data, m.u.copy_data.len, "abc", 3);
	free(keep);
	CHECK_INT(decode_hex(&dec, "64 00000004", &m, NULL), 0);
	CHECK_INT(m.u.copy_data.len, 0);
	CHECK_INT(decode_hex(&dec, "66 00000009 6f6f707300", &m, &keep), 0);
	CHECK_INT(m.type, PGW_COPY_FAIL);
	CHECK_STR(m.u.copy_fail.reason, "oops");
	free(keep);
	CHECK_INT(decode_hex(&dec, "70 0000000b 73656372657400", &m, &keep), 0);
	CHECK_INT(m.type, PGW_PASSWORD);
	CHECK_MEM(m.u.password.data, m.u.password.len, "secret\0", 7);
	free(keep);
	pgw_decoder_free(&dec);
}

/* ---- strict rejections ---- */

static void
test_decode_rejects_unknown_type(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "7a 00000004", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "'z'") != NULL);
	CHECK_INT(decode_hex(&dec, "01 00000004", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "0x01") != NULL);
	pgw_decoder_free(&dec);
}

static void
test_decode_rejects_length_mismatch(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "53 00000005", &m, NULL), -1);
	CHECK_INT(decode_hex(&dec, "53 00000003", &m, NULL), -1);
	CHECK_INT(decode_hex(&dec, "51 0000000c 53454c4543542031 00", &m, NULL), -1);
	CHECK_INT(decode_hex(&dec, "53 000000", &m, NULL), -1);
	pgw_decoder_free(&dec);
}

static void
test_decode_rejects_trailing_bytes(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "51 0000000e 53454c4543542031 00 00", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "trailing") != NULL);
	CHECK_INT(decode_hex(&dec, "53 00000005 00", &m, NULL), -1);
	CHECK_INT(decode_hex(&dec, "63 00000005 00", &m, NULL), -1);
	CHECK_INT(decode_hex(&dec, "45 0000000a 00 00000005 00", &m, NULL), -1);
	CHECK_INT(decode_hex(&dec, "44 00000009 53 733100 00", &m, NULL), -1);
	CHECK_INT(decode_hex(&dec, "50 00000018 733100 53454c45435420243100 0001 00000017 00", &m,
	                     NULL),
	          -1);
	CHECK_INT(decode_hex(&dec, "66 0000000a 6f6f707300 00", &m, NULL), -1);
	pgw_decoder_free(&dec);
}

static void
test_decode_rejects_bad_describe_close_kind(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;

	pgw_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "44 00000008 58 733100", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "Describe") != NULL);
	CHECK_INT(decode_hex(&dec, "43 00000008 73 733100", &m, NULL), -1);
	pgw_decoder_free(&dec);
}

static void
test_decode_rejects_bad_bind(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;

	pgw_decoder_init(&dec);
	/* parameter format code 2 */
	CHECK_INT(decode_hex(&dec, "42 0000000e 00 00 0001 0002 0000 0000", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "format code") != NULL);
	/* result format code -1 */
	CHECK_INT(decode_hex(&dec, "42 0000000e 00 00 0000 0000 0001 ffff", &m, NULL), -1);
	/* 2 format codes for 3 parameters */
	CHECK_INT(decode_hex(&dec,
	                     "42 0000001c 00 00 0002 0000 0000 0003 00000000 00000000 00000000"
	                     " 0000",
	                     &m, NULL),
	          -1);
	CHECK(strstr(dec.errmsg, "formats for") != NULL);
	/* parameter length -2 */
	CHECK_INT(decode_hex(&dec, "42 00000010 00 00 0000 0001 fffffffe 0000", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "invalid length") != NULL);
	/* parameter longer than the message */
	CHECK_INT(decode_hex(&dec, "42 00000012 00 00 0000 0001 00000010 4142 0000", &m, NULL), -1);
	pgw_decoder_free(&dec);
}

static void
test_decode_function_call(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;
	uint8_t *buf;

	pgw_decoder_init(&dec);
	/* lo_open(16385, 0x40000): oid 952, one binary format, two int4 args, binary result */
	CHECK_INT(decode_hex(&dec,
	                     "46 00000020 000003b8 0001 0001 0002 00000004 00004001"
	                     " 00000004 00040000 0001",
	                     &m, &buf),
	          0);
	CHECK_INT(m.type, PGW_FUNCTION_CALL);
	CHECK_INT(m.u.function_call.oid, 952);
	CHECK_INT(m.u.function_call.nformats, 1);
	CHECK_INT(m.u.function_call.formats[0], PGW_FORMAT_BINARY);
	CHECK_INT(m.u.function_call.nargs, 2);
	CHECK_INT(m.u.function_call.args[0].len, 4);
	CHECK_MEM(m.u.function_call.args[1].data, 4, "\x00\x04\x00\x00", 4);
	CHECK_INT(m.u.function_call.result_format, PGW_FORMAT_BINARY);
	free(buf);
	/* a NULL argument, no formats, text result */
	CHECK_INT(decode_hex(&dec, "46 00000012 00000001 0000 0001 ffffffff 0000", &m, NULL), 0);
	CHECK_INT(m.u.function_call.args[0].len, -1);
	/* result format 2 */
	CHECK_INT(decode_hex(&dec, "46 0000000e 00000001 0000 0000 0002", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "FunctionCall result format") != NULL);
	/* argument longer than the message */
	CHECK_INT(decode_hex(&dec, "46 00000013 00000001 0000 0001 00000009 41 0000", &m, NULL),
	          -1);
	CHECK(strstr(dec.errmsg, "FunctionCall message is truncated") != NULL);
	pgw_decoder_free(&dec);
}

static void
test_decode_bounds_counts_before_allocating(void)
{
	struct pgw_decoder dec;
	struct pgw_msg m;

	pgw_decoder_init(&dec);
	/* 65535 parameters claimed in a 14-byte Bind */
	CHECK_INT(decode_hex(&dec, "42 0000000c 00 00 0000 ffff 0000", &m, NULL), -1);
	CHECK_INT(dec.params_cap, 0);
	/* 65535 formats claimed */
	CHECK_INT(decode_hex(&dec, "42 0000000a 00 00 ffff 0000", &m, NULL), -1);
	CHECK_INT(dec.formats_cap, 0);
	/* 65535 parameter types claimed in a Parse */
	CHECK_INT(decode_hex(&dec, "50 0000000c 00 00 ffff 00000017", &m, NULL), -1);
	CHECK_INT(dec.param_types_cap, 0);
	pgw_decoder_free(&dec);
}

/* Every proper prefix of each valid message, from exactly-sized heap copies: as received
 * (length word too big) and with the length word shrunk to fit (body truncated). */
static void
test_decode_prefixes_rejected(void)
{
	static const struct {
		const char *hex;
		int shrunk_may_pass; /* a shorter body is still a valid message */
	} msgs[] = {
	        {"51 0000000d 53454c4543542031 00", 0},
	        {"50 00000017 733100 53454c45435420243100 0001 00000017", 0},
	        {"42 0000001c 00 733100 0001 0001 0002 00000002 3432 ffffffff 0001 0001", 0},
	        {"44 00000008 53 733100", 0},
	        {"45 00000009 00 00000005", 0},
	        {"43 00000008 50 703100", 0},
	        {"53 00000004", 0},
	        {"48 00000004", 0},
	        {"58 00000004", 0},
	        {"63 00000004", 0},
	        {"66 00000009 6f6f707300", 0},
	        {"64 00000007 616263", 1},
	        {"70 0000000b 73656372657400", 1},
	};
	struct pgw_decoder dec;

	pgw_decoder_init(&dec);
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++) {
		uint8_t full[128];
		size_t n = hex(msgs[i].hex, full, sizeof(full));
		struct pgw_msg m;
		uint8_t type;
		size_t total;
		uint8_t *copy = heap_copy(full, n);

		CHECK_INT(pgw_decode(&dec, copy, n, &m), 0);
		CHECK_INT(pgw_frame(copy, n, 1024, &type, &total), 0);
		CHECK_INT(total, n);
		free(copy);
		for (size_t k = 0; k < n; k++) {
			copy = heap_copy(full, k);
			CHECK_INT(pgw_decode(&dec, copy, k, &m), -1);
			CHECK_INT(pgw_frame(copy, k, 1024, &type, &total), SQE_AGAIN);
			if (k >= PGW_HEADER_LEN) {
				be_put_u32(copy + 1, (uint32_t)(k - 1));
				if (!msgs[i].shrunk_may_pass)
					CHECK_INT(pgw_decode(&dec, copy, k, &m), -1);
				else
					(void)pgw_decode(&dec, copy, k, &m);
			}
			free(copy);
		}
	}
	pgw_decoder_free(&dec);
}

/* ---- backend builders: byte-exact ---- */

static void
test_put_ssl_refusal_and_auth(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	pgw_put_ssl_refusal(&sb);
	CHECK_HEX(&sb, "4e");
	strbuf_reset(&sb);
	pgw_put_auth_ok(&sb);
	CHECK_HEX(&sb, "52 00000008 00000000");
	strbuf_reset(&sb);
	pgw_put_auth_cleartext(&sb);
	CHECK_HEX(&sb, "52 00000008 00000003");
	strbuf_free(&sb);
}

static void
test_put_parameter_status_backend_key_ready(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	pgw_put_parameter_status(&sb, "client_encoding", "UTF8");
	CHECK_HEX(&sb, "53 00000019 636c69656e745f656e636f64696e6700 5554463800");
	strbuf_reset(&sb);
	pgw_put_backend_key(&sb, 12345, 0xdeadbeef);
	CHECK_HEX(&sb, "4b 0000000c 00003039 deadbeef");
	strbuf_reset(&sb);
	pgw_put_ready_for_query(&sb, 'I');
	pgw_put_ready_for_query(&sb, 'T');
	pgw_put_ready_for_query(&sb, 'E');
	CHECK_HEX(&sb, "5a 00000005 49  5a 00000005 54  5a 00000005 45");
	strbuf_free(&sb);
}

static void
test_put_error_has_s_v_c_m(void)
{
	struct strbuf sb;
	struct pgw_error e = {.severity = "ERROR", .code = "22012", .message = "division by zero"};

	strbuf_init(&sb);
	pgw_put_error(&sb, &e);
	CHECK_HEX(&sb, "45 0000002c 534552524f5200 564552524f5200 433232303132 00"
	               " 4d6469766973696f6e206279207a65726f00 00");
	strbuf_free(&sb);
}

static void
test_put_notice_with_detail_hint_position(void)
{
	struct strbuf sb;
	struct pgw_error e = {.severity = "NOTICE",
	                      .code = "00000",
	                      .message = "m",
	                      .detail = "d",
	                      .hint = "h",
	                      .position = 12};

	strbuf_init(&sb);
	pgw_put_notice(&sb, &e);
	/* S NOTICE, V NOTICE, C 00000, M m, D d, H h, P 12, end */
	CHECK_HEX(&sb, "4e 00000029 534e4f5449434500 564e4f5449434500 433030303030 00"
	               " 4d6d00 446400 486800 50313200 00");
	strbuf_free(&sb);
}

static void
test_put_command_complete_and_empty_messages(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	pgw_put_command_complete(&sb, "SELECT 1");
	CHECK_HEX(&sb, "43 0000000d 53454c4543542031 00");
	strbuf_reset(&sb);
	pgw_put_empty_query(&sb);
	pgw_put_parse_complete(&sb);
	pgw_put_bind_complete(&sb);
	pgw_put_close_complete(&sb);
	pgw_put_no_data(&sb);
	pgw_put_portal_suspended(&sb);
	CHECK_HEX(&sb, "49 00000004 31 00000004 32 00000004 33 00000004 6e 00000004"
	               " 73 00000004");
	strbuf_free(&sb);
}

static void
test_put_parameter_description(void)
{
	static const uint32_t oids[] = {23, 25};
	struct strbuf sb;

	strbuf_init(&sb);
	pgw_put_parameter_description(&sb, 2, oids);
	CHECK_HEX(&sb, "74 0000000e 0002 00000017 00000019");
	strbuf_reset(&sb);
	pgw_put_parameter_description(&sb, 0, NULL);
	CHECK_HEX(&sb, "74 00000006 0000");
	strbuf_free(&sb);
}

static void
test_put_row_description(void)
{
	static const struct pgw_field f[] = {
	        {.name = "a",
	         .table_oid = 16384,
	         .attnum = 2,
	         .type_oid = 23,
	         .typlen = 4,
	         .typmod = -1,
	         .format = 0},
	        {.name = "n",
	         .table_oid = 0,
	         .attnum = 0,
	         .type_oid = 1700,
	         .typlen = -1,
	         .typmod = 655366,
	         .format = 1},
	};
	struct strbuf sb;

	strbuf_init(&sb);
	pgw_put_row_description(&sb, 2, f);
	CHECK_HEX(&sb, "54 0000002e 0002"
	               " 6100 00004000 0002 00000017 0004 ffffffff 0000"
	               " 6e00 00000000 0000 000006a4 ffff 000a0006 0001");
	strbuf_free(&sb);
}

static void
test_put_data_row_with_null(void)
{
	static const struct pgw_value v[] = {{"1", 1}, {NULL, -1}, {"", 0}};
	struct strbuf sb;

	strbuf_init(&sb);
	pgw_put_data_row(&sb, 3, v);
	CHECK_HEX(&sb, "44 00000013 0003 00000001 31 ffffffff 00000000");
	strbuf_free(&sb);
}

static void
test_builders_append_after_existing_bytes(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_puts(&sb, "xy");
	pgw_put_command_complete(&sb, "BEGIN");
	CHECK_HEX(&sb, "7879 43 0000000a 424547494e00");
	strbuf_free(&sb);
}

/* ---- backend error decoder ---- */

static void
test_error_round_trip(void)
{
	struct pgw_error e = {.severity = "ERROR",
	                      .code = "42601",
	                      .message = "syntax error at or near \"x\"",
	                      .detail = "det",
	                      .hint = "hin",
	                      .position = 8};
	struct pgw_decoder dec;
	struct pgw_error_fields f;
	struct strbuf sb;
	uint8_t *copy;

	pgw_decoder_init(&dec);
	strbuf_init(&sb);
	pgw_put_error(&sb, &e);
	copy = heap_copy(sb.data, sb.len);
	CHECK_INT(pgw_decode_error(&dec, copy, sb.len, &f), 0);
	CHECK_INT(f.type, 'E');
	CHECK_STR(f.severity, "ERROR");
	CHECK_STR(f.severity_nl, "ERROR");
	CHECK_STR(f.code, "42601");
	CHECK_STR(f.message, e.message);
	CHECK_STR(f.detail, "det");
	CHECK_STR(f.hint, "hin");
	CHECK_STR(f.position, "8");
	CHECK(f.where == NULL);
	free(copy);
	strbuf_reset(&sb);
	e.detail = e.hint = NULL;
	pgw_put_notice(&sb, &e);
	CHECK_INT(pgw_decode_error(&dec, (uint8_t *)sb.data, sb.len, &f), 0);
	CHECK_INT(f.type, 'N');
	CHECK(f.detail == NULL);
	strbuf_free(&sb);
	pgw_decoder_free(&dec);
}

static void
test_error_decoder_upstream_fields(void)
{
	/* The verified PG 15 division-by-zero error with F, L, R and an unknown 'Z' field. */
	static const char h[] = "45 00000044 534552524f5200 564552524f5200 433232303132 00"
	                        " 4d6469766973696f6e206279207a65726f00 46696e742e6300"
	                        " 4c38363900 52696e7434646976 00 5a7a00 00";
	struct pgw_decoder dec;
	struct pgw_error_fields f;
	uint8_t tmp[128];
	size_t n = hex(h, tmp, sizeof(tmp));
	uint8_t *copy = heap_copy(tmp, n);

	pgw_decoder_init(&dec);
	CHECK_INT(pgw_decode_error(&dec, copy, n, &f), 0);
	CHECK_STR(f.code, "22012");
	CHECK_STR(f.message, "division by zero");
	for (size_t k = 0; k < n; k++) {
		uint8_t *pre = heap_copy(tmp, k);

		CHECK_INT(pgw_decode_error(&dec, pre, k, &f), -1);
		if (k >= PGW_HEADER_LEN) {
			be_put_u32(pre + 1, (uint32_t)(k - 1));
			CHECK_INT(pgw_decode_error(&dec, pre, k, &f), -1);
		}
		free(pre);
	}
	free(copy);
	pgw_decoder_free(&dec);
}

static void
test_error_decoder_rejects(void)
{
	struct pgw_decoder dec;
	struct pgw_error_fields f;
	uint8_t b[64];
	size_t n;

	pgw_decoder_init(&dec);
	/* no M */
	n = hex("45 00000013 534552524f5200 433232303132 00 00", b, sizeof(b));
	CHECK_INT(pgw_decode_error(&dec, b, n, &f), -1);
	CHECK(strstr(dec.errmsg, "M") != NULL);
	/* trailing byte after the terminator */
	n = hex("45 00000017 534500 433000 4d6d00 00 00 0000", b, sizeof(b));
	be_put_u32(b + 1, (uint32_t)(n - 1));
	CHECK_INT(pgw_decode_error(&dec, b, n, &f), -1);
	/* a frontend type */
	n = hex("51 00000004", b, sizeof(b));
	CHECK_INT(pgw_decode_error(&dec, b, n, &f), -1);
	pgw_decoder_free(&dec);
}

int
main(void)
{
	RUN(test_startup_ssl_request);
	RUN(test_startup_gssenc_request);
	RUN(test_startup_cancel_request);
	RUN(test_startup_fixed_requests_reject_wrong_size);
	RUN(test_startup_message_keeps_all_pairs);
	RUN(test_startup_message_options_and_replication);
	RUN(test_startup_rejects_missing_user);
	RUN(test_startup_rejects_missing_terminator);
	RUN(test_startup_rejects_bytes_after_terminator);
	RUN(test_startup_reports_unsupported_protocol);
	RUN(test_startup_negotiates_newer_minor_and_options);
	RUN(test_startup_rejects_bad_lengths);
	RUN(test_startup_bounds_parameter_count);
	RUN(test_startup_prefixes_rejected);
	RUN(test_frame_startup);
	RUN(test_frame_complete_need_more_malformed);
	RUN(test_decode_query);
	RUN(test_decode_parse);
	RUN(test_decode_bind);
	RUN(test_decode_bind_per_parameter_formats);
	RUN(test_decode_describe_close_execute);
	RUN(test_decode_empty_bodies);
	RUN(test_decode_copy_and_password);
	RUN(test_decode_rejects_unknown_type);
	RUN(test_decode_rejects_length_mismatch);
	RUN(test_decode_rejects_trailing_bytes);
	RUN(test_decode_rejects_bad_describe_close_kind);
	RUN(test_decode_rejects_bad_bind);
	RUN(test_decode_function_call);
	RUN(test_decode_bounds_counts_before_allocating);
	RUN(test_decode_prefixes_rejected);
	RUN(test_put_ssl_refusal_and_auth);
	RUN(test_put_parameter_status_backend_key_ready);
	RUN(test_put_error_has_s_v_c_m);
	RUN(test_put_notice_with_detail_hint_position);
	RUN(test_put_command_complete_and_empty_messages);
	RUN(test_put_parameter_description);
	RUN(test_put_row_description);
	RUN(test_put_data_row_with_null);
	RUN(test_builders_append_after_existing_bytes);
	RUN(test_error_round_trip);
	RUN(test_error_decoder_upstream_fields);
	RUN(test_error_decoder_rejects);
	return unit_done();
}
