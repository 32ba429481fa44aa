/* SPDX-License-Identifier: MIT */
/* Unit tests for the replication codec: rbuf getters, CopyData frames, status updates and
 * every pgoutput v1 message, including the byte sequences verified against PostgreSQL 15. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput.h"
#include "rbuf.h"
#include "unit.h"
#include "util.h"

/* ---- helpers ---- */

/* Decodes a hex message from an exactly-sized heap copy, so ASan sees any over-read. */
static int
decode_hex(struct pgo_decoder *dec, const char *h, struct pgo_msg *out, uint8_t **keep)
{
	uint8_t tmp[1024];
	size_t n = hex(h, tmp, sizeof(tmp));
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, tmp, n);
	rc = pgo_decode(dec, copy, n, out);
	if (keep != NULL)
		*keep = copy;
	else
		free(copy);
	return rc;
}

static int
datum_is(const struct pgo_datum *d, char kind, const char *data, size_t len)
{
	if (d->kind != kind)
		return 0;
	if (kind != 't' && kind != 'b')
		return d->data == NULL && d->len == 0;
	return d->len == len && memcmp(d->data, data, len) == 0;
}

/* Verified on PostgreSQL 15 (protocol-brief A.6). */
#define HEX_BEGIN "42 0000000001539ab8 000303f8ab3ee312 000002dc"
#define HEX_COMMIT "43 00 0000000001539ab8 0000000001539ae8 000303f8ab3ee312"
#define HEX_TRUNCATE "54 00000001 00 0000400c"
/* The verified Relation prefix (id, name) followed by five more columns of our own. */
#define HEX_RELATION                                                                               \
	"52 00004000 7075626c696300 745f706b00 64 0007"                                            \
	" 01 696400 00000014 ffffffff"                                                             \
	" 00 6e616d6500 00000019 ffffffff"                                                         \
	" 00 656d61696c00 00000019 ffffffff"                                                       \
	" 00 73636f726500 00000017 ffffffff"                                                       \
	" 00 707269636500 000006a4 000a0006"                                                       \
	" 00 747300 000004a0 ffffffff"                                                             \
	" 00 6d6f6f6400 00004012 ffffffff"
/* Type 16402 public.mood (the verified enum example, bytes written from its fields). */
#define HEX_TYPE "59 00004012 7075626c696300 6d6f6f6400"
#define HEX_ORIGIN "4f 0000000001539ab8 6e6f64653100"
/* Insert: '1', NULL, binary 00 ff */
#define HEX_INSERT "49 00004000 4e 0003 74 00000001 31 6e 62 00000002 00ff"
#define HEX_UPDATE_NOOLD "55 00004000 4e 0002 74 00000001 32 75"
#define HEX_UPDATE_KEY "55 00004000 4b 0002 74 00000001 31 6e 4e 0002 74 00000001 32 75"
#define HEX_UPDATE_FULL                                                                            \
	"55 00004000 4f 0002 74 00000001 31 74 00000003 616263"                                    \
	" 4e 0002 74 00000001 31 74 00000003 78797a"
#define HEX_DELETE_KEY "44 00004000 4b 0002 74 00000001 37 6e"
#define HEX_DELETE_FULL "44 00004000 4f 0002 74 00000001 37 74 00000000"
/* Transactional message, prefix "tx", content 68 00 69 (an embedded NUL). */
#define HEX_MESSAGE_TX "4d 01 0000000001539ab8 747800 00000003 680069"
/* Non-transactional, prefix "nontx", content "bye" (the verified example's fields). */
#define HEX_MESSAGE_NONTX "4d 00 0000000001539b00 6e6f6e747800 00000003 627965"

static const char *const valid_messages[] = {
        HEX_BEGIN,      HEX_COMMIT,      HEX_TRUNCATE,     HEX_RELATION,      HEX_TYPE,
        HEX_ORIGIN,     HEX_INSERT,      HEX_UPDATE_NOOLD, HEX_UPDATE_KEY,    HEX_UPDATE_FULL,
        HEX_DELETE_KEY, HEX_DELETE_FULL, HEX_MESSAGE_TX,   HEX_MESSAGE_NONTX,
};

/* ---- rbuf ---- */

static void
test_rbuf_getters_read_big_endian_and_stop_at_the_end(void)
{
	static const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
	struct rbuf rb;
	uint8_t u8 = 0;
	uint16_t u16 = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 0;

	rbuf_init(&rb, b, sizeof(b));
	CHECK_INT(rbuf_remaining(&rb), 9);
	CHECK_INT(rbuf_get_u64(&rb, &u64), 0);
	CHECK(u64 == UINT64_C(0x0102030405060708));
	CHECK_INT(rbuf_remaining(&rb), 1);
	/* Every wider getter fails on one byte and leaves pos and the out-parameter alone. */
	u16 = 0xaaaa;
	u32 = 0xaaaaaaaa;
	CHECK_INT(rbuf_get_u16(&rb, &u16), -1);
	CHECK_INT(rbuf_get_u32(&rb, &u32), -1);
	CHECK_INT(rbuf_get_u64(&rb, &u64), -1);
	CHECK_INT(u16, 0xaaaa);
	CHECK(u32 == 0xaaaaaaaa);
	CHECK_INT(rb.pos, 8);
	CHECK_INT(rbuf_get_u8(&rb, &u8), 0);
	CHECK_INT(u8, 9);
	CHECK_INT(rbuf_get_u8(&rb, &u8), -1);
	CHECK_INT(rb.pos, 9);
	CHECK_INT(rbuf_remaining(&rb), 0);
}

static void
test_rbuf_exact_fit_succeeds_one_short_fails(void)
{
	static const uint8_t b[] = {0xff, 0xff, 0xff, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0};
	struct rbuf rb;
	int32_t i32;
	int64_t i64;
	uint16_t u16;

	rbuf_init(&rb, b, 4);
	CHECK_INT(rbuf_get_i32(&rb, &i32), 0);
	CHECK_INT(i32, -2);
	rbuf_init(&rb, b, 3);
	CHECK_INT(rbuf_get_i32(&rb, &i32), -1);
	CHECK_INT(rb.pos, 0);

	rbuf_init(&rb, b + 4, 8);
	CHECK_INT(rbuf_get_i64(&rb, &i64), 0);
	CHECK(i64 == INT64_MIN);
	rbuf_init(&rb, b + 4, 7);
	CHECK_INT(rbuf_get_i64(&rb, &i64), -1);
	CHECK_INT(rb.pos, 0);

	rbuf_init(&rb, b, 2);
	CHECK_INT(rbuf_get_u16(&rb, &u16), 0);
	CHECK_INT(u16, 0xffff);
	rbuf_init(&rb, NULL, 0);
	CHECK_INT(rbuf_get_u16(&rb, &u16), -1);
}

static void
test_rbuf_cstring_requires_nul_inside_buffer(void)
{
	static const uint8_t b[] = {'a', 'b', 0, 0, 'c', 'd'};
	struct rbuf rb;
	const char *s = NULL;

	rbuf_init(&rb, b, sizeof(b));
	CHECK_INT(rbuf_get_cstring(&rb, &s), 0);
	CHECK_STR(s, "ab");
	CHECK_INT(rb.pos, 3);
	CHECK_INT(rbuf_get_cstring(&rb, &s), 0);
	CHECK_STR(s, "");
	CHECK_INT(rb.pos, 4);
	s = NULL;
	CHECK_INT(rbuf_get_cstring(&rb, &s), -1); /* "cd" runs to the end unterminated */
	CHECK(s == NULL);
	CHECK_INT(rb.pos, 4);

	/* NUL as the very last byte is inside. */
	rbuf_init(&rb, b, 3);
	CHECK_INT(rbuf_get_cstring(&rb, &s), 0);
	CHECK_STR(s, "ab");
	CHECK_INT(rbuf_remaining(&rb), 0);
	CHECK_INT(rbuf_get_cstring(&rb, &s), -1);
	/* One byte short of the NUL. */
	rbuf_init(&rb, b, 2);
	CHECK_INT(rbuf_get_cstring(&rb, &s), -1);
	CHECK_INT(rb.pos, 0);
}

static void
test_rbuf_bytes_bounded_by_remaining(void)
{
	static const uint8_t b[] = {1, 2, 3};
	struct rbuf rb;
	const uint8_t *p = NULL;

	rbuf_init(&rb, b, sizeof(b));
	CHECK_INT(rbuf_get_bytes(&rb, 4, &p), -1);
	CHECK(p == NULL);
	CHECK_INT(rbuf_get_bytes(&rb, SIZE_MAX, &p), -1);
	CHECK_INT(rb.pos, 0);
	CHECK_INT(rbuf_get_bytes(&rb, 3, &p), 0);
	CHECK(p == b);
	CHECK_INT(rbuf_get_bytes(&rb, 0, &p), 0);
	CHECK(p == b + 3);
	CHECK_INT(rbuf_get_bytes(&rb, 1, &p), -1);
	CHECK_INT(rb.pos, 3);
}

static void
test_be_put_and_get_are_big_endian(void)
{
	uint8_t b[8];
	static const uint8_t want16[] = {0xbe, 0xef};
	static const uint8_t want32[] = {0xde, 0xad, 0xbe, 0xef};
	static const uint8_t want64[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

	be_put_u16(b, 0xbeef);
	CHECK_MEM(b, 2, want16, sizeof(want16));
	be_put_u32(b, 0xdeadbeef);
	CHECK_MEM(b, 4, want32, sizeof(want32));
	CHECK(be_get_u32(b) == 0xdeadbeef);
	be_put_u64(b, UINT64_C(0x0123456789abcdef));
	CHECK_MEM(b, 8, want64, sizeof(want64));
	CHECK(be_get_u64(b) == UINT64_C(0x0123456789abcdef));
}

/* ---- CopyData frames ---- */

static void
test_parse_frame_xlogdata_header_and_payload(void)
{
	uint8_t f[64];
	size_t n = hex("77 0000000001539ab8 0000000001539b00 000303f8ab3ee312 " HEX_TRUNCATE, f,
	               sizeof(f));
	struct pgo_xlogdata x;
	struct pgo_keepalive ka;
	struct pgo_decoder dec;
	struct pgo_msg m;

	CHECK_INT(pgo_parse_frame(f, n, &x, &ka), 'w');
	CHECK(x.data_start == UINT64_C(0x1539ab8));
	CHECK(x.wal_end == UINT64_C(0x1539b00));
	CHECK(x.send_time == INT64_C(0x000303f8ab3ee312));
	CHECK(x.data == f + 25);
	CHECK_INT(x.len, n - 25);

	pgo_decoder_init(&dec);
	CHECK_INT(pgo_decode(&dec, x.data, x.len, &m), 0);
	CHECK_INT(m.type, PGO_TRUNCATE);
	pgo_decoder_free(&dec);

	/* A bare 25-byte header is a frame with an empty message; 24 bytes is short. */
	CHECK_INT(pgo_parse_frame(f, 25, &x, &ka), 'w');
	CHECK_INT(x.len, 0);
	for (size_t i = 0; i < 25; i++)
		CHECK_INT(pgo_parse_frame(f, i, &x, &ka), -1);
}

static void
test_parse_frame_keepalive_is_exactly_18_bytes(void)
{
	uint8_t f[32];
	size_t n = hex("6b 0000000001539ae8 000303f8ab3ee312 01 00", f, sizeof(f));
	struct pgo_xlogdata x;
	struct pgo_keepalive ka;

	CHECK_INT(n, 19);
	CHECK_INT(pgo_parse_frame(f, 18, &x, &ka), 'k');
	CHECK(ka.wal_end == UINT64_C(0x1539ae8));
	CHECK(ka.send_time == INT64_C(0x000303f8ab3ee312));
	CHECK(ka.reply_requested);
	f[17] = 0;
	CHECK_INT(pgo_parse_frame(f, 18, &x, &ka), 'k');
	CHECK(!ka.reply_requested);
	CHECK_INT(pgo_parse_frame(f, 17, &x, &ka), -1);
	CHECK_INT(pgo_parse_frame(f, 19, &x, &ka), -1);
	CHECK_INT(pgo_parse_frame(f, 1, &x, &ka), -1);
}

static void
test_parse_frame_rejects_unknown_kind_and_empty(void)
{
	uint8_t f[34];
	struct pgo_xlogdata x;
	struct pgo_keepalive ka;

	memset(f, 0, sizeof(f));
	CHECK_INT(pgo_parse_frame(f, 0, &x, &ka), -1);
	f[0] = 'r';
	CHECK_INT(pgo_parse_frame(f, sizeof(f), &x, &ka), -1);
	f[0] = 'h';
	CHECK_INT(pgo_parse_frame(f, sizeof(f), &x, &ka), -1);
	f[0] = 'W';
	CHECK_INT(pgo_parse_frame(f, sizeof(f), &x, &ka), -1);
}

static void
test_build_status_byte_layout(void)
{
	uint8_t out[PGO_STATUS_LEN];
	uint8_t want[PGO_STATUS_LEN];
	size_t n = hex("72 0000000001539ae8 0000000001539ab8 0000000000000000 000303f8ab3ee312 01",
	               want, sizeof(want));

	CHECK_INT(n, 34);
	memset(out, 0xee, sizeof(out));
	pgo_build_status(out, UINT64_C(0x1539ae8), UINT64_C(0x1539ab8), 0,
	                 INT64_C(0x000303f8ab3ee312), true);
	CHECK_MEM(out, sizeof(out), want, sizeof(want));
	pgo_build_status(out, UINT64_C(0x1539ae8), UINT64_C(0x1539ab8), 0,
	                 INT64_C(0x000303f8ab3ee312), false);
	CHECK_INT(out[33], 0);
	/* A negative clock (before 2000) is sent as its two's complement. */
	pgo_build_status(out, 0, 0, 0, -1, false);
	for (int i = 25; i < 33; i++)
		CHECK_INT(out[i], 0xff);
}

/* ---- pgoutput messages: the verified examples ---- */

static void
test_decode_begin_verified_bytes(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_BEGIN, &m, NULL), 0);
	CHECK_INT(m.type, PGO_BEGIN);
	CHECK(m.u.begin.final_lsn == UINT64_C(0x1539ab8));
	CHECK(m.u.begin.commit_time == INT64_C(0x000303f8ab3ee312));
	CHECK_INT(m.u.begin.xid, 732);
	pgo_decoder_free(&dec);
}

static void
test_decode_commit_verified_bytes(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_COMMIT, &m, NULL), 0);
	CHECK_INT(m.type, PGO_COMMIT);
	CHECK_INT(m.u.commit.flags, 0);
	CHECK(m.u.commit.commit_lsn == UINT64_C(0x1539ab8));
	CHECK(m.u.commit.end_lsn == UINT64_C(0x1539ae8));
	CHECK(m.u.commit.commit_time == INT64_C(0x000303f8ab3ee312));
	pgo_decoder_free(&dec);
}

static void
test_commit_nonzero_flags_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "43 01 0000000001539ab8 0000000001539ae8 000303f8ab3ee312", &m,
	                     NULL),
	          -1);
	CHECK(strstr(dec.errmsg, "Commit flags") != NULL);
	pgo_decoder_free(&dec);
}

static void
test_decode_relation_verified_bytes(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	const struct pgo_relation *r;
	uint8_t *buf;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_RELATION, &m, &buf), 0);
	CHECK_INT(m.type, PGO_RELATION);
	r = &m.u.relation;
	CHECK_INT(r->relid, 16384);
	CHECK_STR(r->nspname, "public");
	CHECK_STR(r->relname, "t_pk");
	CHECK_INT(r->replident, 'd');
	CHECK_INT(r->ncols, 7);
	CHECK_INT(r->cols[0].flags, PGO_COLUMN_KEY);
	CHECK_STR(r->cols[0].name, "id");
	CHECK_INT(r->cols[0].type_oid, 20);
	CHECK_INT(r->cols[0].typmod, -1);
	CHECK_INT(r->cols[1].flags, 0);
	CHECK_STR(r->cols[1].name, "name");
	CHECK_INT(r->cols[1].type_oid, 25);
	CHECK_STR(r->cols[4].name, "price");
	CHECK_INT(r->cols[4].type_oid, 1700);
	CHECK_INT(r->cols[4].typmod, 655366);
	CHECK_STR(r->cols[6].name, "mood");
	CHECK_INT(r->cols[6].type_oid, 16402);
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_relation_with_no_columns_and_catalog_namespace(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "52 00000001 00 7400 6e 0000", &m, &buf), 0);
	CHECK_STR(m.u.relation.nspname, "");
	CHECK_STR(m.u.relation.relname, "t");
	CHECK_INT(m.u.relation.replident, 'n');
	CHECK_INT(m.u.relation.ncols, 0);
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_relation_unknown_replica_identity_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "52 00000001 00 7400 78 0000", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "replica identity 'x'") != NULL);
	pgo_decoder_free(&dec);
}

static void
test_relation_more_than_max_columns_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	/* 1665 columns: rejected on the count, before any column is read or space reserved. */
	CHECK_INT(decode_hex(&dec, "52 00000001 00 7400 64 0681", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "more than 1664") != NULL);
	CHECK_INT(dec.cols_cap, 0);
	pgo_decoder_free(&dec);
}

static void
test_decode_truncate_verified_bytes(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_TRUNCATE, &m, NULL), 0);
	CHECK_INT(m.type, PGO_TRUNCATE);
	CHECK_INT(m.u.truncate.nrels, 1);
	CHECK_INT(m.u.truncate.flags, 0);
	CHECK_INT(m.u.truncate.relids[0], 16396);

	CHECK_INT(decode_hex(&dec, "54 00000003 03 00004000 00004001 00004002", &m, NULL), 0);
	CHECK_INT(m.u.truncate.nrels, 3);
	CHECK_INT(m.u.truncate.flags, PGO_TRUNCATE_CASCADE | PGO_TRUNCATE_RESTART_IDENTITY);
	CHECK_INT(m.u.truncate.relids[2], 0x4002);
	pgo_decoder_free(&dec);
}

static void
test_truncate_nrels_bounded_by_message_before_allocating(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "54 ffffffff 00 0000400c", &m, NULL), -1);
	CHECK_INT(dec.relids_cap, 0);
	CHECK(dec.errmsg[0] != '\0');
	CHECK_INT(decode_hex(&dec, "54 00000002 00 0000400c", &m, NULL), -1);
	CHECK_INT(dec.relids_cap, 0);
	pgo_decoder_free(&dec);
}

static void
test_truncate_unknown_flags_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "54 00000001 04 0000400c", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "Truncate flags") != NULL);
	pgo_decoder_free(&dec);
}

/* ---- Type, Origin, Message ---- */

static void
test_decode_type_for_enum(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_TYPE, &m, &buf), 0);
	CHECK_INT(m.type, PGO_TYPE);
	CHECK_INT(m.u.typ.type_oid, 16402);
	CHECK_STR(m.u.typ.nspname, "public");
	CHECK_STR(m.u.typ.typname, "mood");
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_decode_origin(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_ORIGIN, &m, &buf), 0);
	CHECK_INT(m.type, PGO_ORIGIN);
	CHECK(m.u.origin.commit_lsn == UINT64_C(0x1539ab8));
	CHECK_STR(m.u.origin.name, "node1");
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_decode_transactional_message_with_binary_content(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;
	static const uint8_t want[] = {'h', 0, 'i'};

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_MESSAGE_TX, &m, &buf), 0);
	CHECK_INT(m.type, PGO_MESSAGE);
	CHECK_INT(m.u.message.flags, PGO_MESSAGE_TRANSACTIONAL);
	CHECK(m.u.message.lsn == UINT64_C(0x1539ab8));
	CHECK_STR(m.u.message.prefix, "tx");
	CHECK_MEM(m.u.message.content, m.u.message.len, want, sizeof(want));
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_decode_nontransactional_message(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_MESSAGE_NONTX, &m, &buf), 0);
	CHECK_INT(m.u.message.flags, 0);
	CHECK_STR(m.u.message.prefix, "nontx");
	CHECK_MEM(m.u.message.content, m.u.message.len, "bye", 3);
	free(buf);
	/* Empty content is fine. */
	CHECK_INT(decode_hex(&dec, "4d 00 0000000000000001 7000 00000000", &m, NULL), 0);
	CHECK_INT(m.u.message.len, 0);
	pgo_decoder_free(&dec);
}

static void
test_message_negative_length_and_unknown_flags_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "4d 00 0000000000000001 7000 ffffffff", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "negative") != NULL);
	CHECK_INT(decode_hex(&dec, "4d 00 0000000000000001 7000 7fffffff 00", &m, NULL), -1);
	CHECK_STR(dec.errmsg, "truncated Message message");
	CHECK_INT(decode_hex(&dec, "4d 02 0000000000000001 7000 00000000", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "Message flags") != NULL);
	pgo_decoder_free(&dec);
}

/* ---- Insert, Update, Delete ---- */

static void
test_decode_insert_text_null_and_binary(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;
	const struct pgo_tuple *t;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_INSERT, &m, &buf), 0);
	CHECK_INT(m.type, PGO_INSERT);
	CHECK_INT(m.u.insert.relid, 16384);
	t = &m.u.insert.newtup;
	CHECK_INT(t->ncols, 3);
	CHECK(datum_is(&t->cols[0], 't', "1", 1));
	CHECK(datum_is(&t->cols[1], 'n', NULL, 0));
	CHECK(datum_is(&t->cols[2], 'b', "\x00\xff", 2));
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_datum_is_length_delimited_not_nul_terminated(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;
	const struct pgo_tuple *t;

	pgo_decoder_init(&dec);
	/* A text datum with an embedded NUL and bytes >= 0x80, immediately followed by the next
	 * datum's kind byte (no terminator), then a zero-length text value. */
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0002 74 00000005 610062ff0a 74 00000000", &m,
	                     &buf),
	          0);
	t = &m.u.insert.newtup;
	CHECK_INT(t->ncols, 2);
	CHECK(datum_is(&t->cols[0], 't', "a\0b\xff\n", 5));
	CHECK(t->cols[0].data[5] == 't'); /* the next kind byte, not a NUL */
	CHECK_INT(t->cols[1].kind, 't');
	CHECK_INT(t->cols[1].len, 0);
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_update_without_old_tuple(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_UPDATE_NOOLD, &m, &buf), 0);
	CHECK_INT(m.type, PGO_UPDATE);
	CHECK_INT(m.u.update.relid, 16384);
	CHECK_INT(m.u.update.oldkind, 0);
	CHECK_INT(m.u.update.oldtup.ncols, 0);
	CHECK_INT(m.u.update.newtup.ncols, 2);
	CHECK(datum_is(&m.u.update.newtup.cols[0], 't', "2", 1));
	CHECK(datum_is(&m.u.update.newtup.cols[1], 'u', NULL, 0));
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_update_with_old_key_and_unchanged_toast(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;
	const struct pgo_update *u;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_UPDATE_KEY, &m, &buf), 0);
	u = &m.u.update;
	CHECK_INT(u->oldkind, 'K');
	CHECK_INT(u->oldtup.ncols, 2);
	CHECK(datum_is(&u->oldtup.cols[0], 't', "1", 1));
	CHECK(datum_is(&u->oldtup.cols[1], 'n', NULL, 0));
	CHECK_INT(u->newtup.ncols, 2);
	CHECK(datum_is(&u->newtup.cols[0], 't', "2", 1));
	CHECK(datum_is(&u->newtup.cols[1], 'u', NULL, 0));
	CHECK(u->oldtup.cols != u->newtup.cols);
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_update_with_old_full_row(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;
	const struct pgo_update *u;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_UPDATE_FULL, &m, &buf), 0);
	u = &m.u.update;
	CHECK_INT(u->oldkind, 'O');
	CHECK(datum_is(&u->oldtup.cols[1], 't', "abc", 3));
	CHECK(datum_is(&u->newtup.cols[1], 't', "xyz", 3));
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_update_old_tuple_must_be_followed_by_new(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "55 00000001 4b 0001 6e 4b 0001 6e", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "expected 'N'") != NULL);
	CHECK_INT(decode_hex(&dec, "55 00000001 4b 0001 6e", &m, NULL), -1);
	CHECK_STR(dec.errmsg, "truncated Update message");
	pgo_decoder_free(&dec);
}

static void
test_unchanged_toast_only_in_update_new_tuple(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0001 75", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "TOAST 'u' in column 0 outside") != NULL);
	CHECK_INT(decode_hex(&dec, "44 00000001 4b 0001 75", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "TOAST 'u' in column 0 outside") != NULL);
	CHECK_INT(decode_hex(&dec, "55 00000001 4f 0001 75 4e 0001 75", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "TOAST 'u' in column 0 outside") != NULL);
	pgo_decoder_free(&dec);
}

static void
test_decode_delete_with_old_key_and_full_row(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t *buf;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_DELETE_KEY, &m, &buf), 0);
	CHECK_INT(m.type, PGO_DELETE);
	CHECK_INT(m.u.del.relid, 16384);
	CHECK_INT(m.u.del.oldkind, 'K');
	CHECK_INT(m.u.del.oldtup.ncols, 2);
	CHECK(datum_is(&m.u.del.oldtup.cols[0], 't', "7", 1));
	CHECK(datum_is(&m.u.del.oldtup.cols[1], 'n', NULL, 0));
	free(buf);

	CHECK_INT(decode_hex(&dec, HEX_DELETE_FULL, &m, &buf), 0);
	CHECK_INT(m.u.del.oldkind, 'O');
	CHECK(datum_is(&m.u.del.oldtup.cols[1], 't', "", 0));
	free(buf);
	pgo_decoder_free(&dec);
}

static void
test_delete_without_old_tuple_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "44 00000001 4e 0001 6e", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "expected 'K' or 'O'") != NULL);
	pgo_decoder_free(&dec);
}

static void
test_insert_requires_new_tuple_marker(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "49 00000001 4b 0001 6e", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "expected 'N'") != NULL);
	pgo_decoder_free(&dec);
}

static void
test_unknown_tuple_marker_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "49 00000001 58 0001 6e", &m, NULL), -1);
	CHECK_STR(dec.errmsg, "unknown tuple marker 'X' in Insert message");
	CHECK_INT(decode_hex(&dec, "55 00000001 00 0001 6e", &m, NULL), -1);
	CHECK_STR(dec.errmsg, "unknown tuple marker 0x00 in Update message");
	CHECK_INT(decode_hex(&dec, "55 00000001 4f 0001 6e 6e 0001 6e", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "unknown tuple marker 'n'") != NULL);
	pgo_decoder_free(&dec);
}

static void
test_unknown_column_kind_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0002 6e 78", &m, NULL), -1);
	CHECK_STR(dec.errmsg, "unknown column kind 'x' in column 1 of Insert message");
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0001 ff", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "0xff") != NULL);
	pgo_decoder_free(&dec);
}

static void
test_tuple_more_than_max_columns_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0681 6e", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "more than 1664") != NULL);
	CHECK_INT(dec.tup_cap[1], 0);
	CHECK_INT(decode_hex(&dec, "49 00000001 4e ffff 6e", &m, NULL), -1);
	pgo_decoder_free(&dec);
}

static void
test_negative_or_oversized_datum_length_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0001 74 ffffffff", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "negative length -1") != NULL);
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0001 62 80000000 00", &m, NULL), -1);
	CHECK(strstr(dec.errmsg, "negative length") != NULL);
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0001 74 00000004 616263", &m, NULL), -1);
	CHECK_STR(dec.errmsg, "column 0 length 4 exceeds 3 bytes left in Insert");
	CHECK_INT(decode_hex(&dec, "49 00000001 4e 0001 74 7fffffff 616263", &m, NULL), -1);
	pgo_decoder_free(&dec);
}

/* ---- whole-message strictness ---- */

static void
test_truncated_message_rejected_at_every_length(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	for (size_t i = 0; i < ARRAY_SIZE(valid_messages); i++) {
		uint8_t tmp[1024];
		size_t n = hex(valid_messages[i], tmp, sizeof(tmp));

		for (size_t len = 0; len < n; len++) {
			/* An exactly-sized heap copy: reading byte len would trip ASan. */
			uint8_t *p = malloc(len ? len : 1);
			int rc;

			memcpy(p, tmp, len);
			memset(&m, 0x5a, sizeof(m));
			rc = pgo_decode(&dec, p, len, &m);
			CHECK_INT(rc, -1);
			CHECK(dec.errmsg[0] != '\0');
			CHECK(((const uint8_t *)&m)[0] == 0x5a); /* out untouched on failure */
			if (rc == 0)
				fprintf(stderr, "  message %zu accepted at length %zu\n", i, len);
			free(p);
		}
		CHECK_INT(decode_hex(&dec, valid_messages[i], &m, NULL), 0);
		CHECK_STR(dec.errmsg, "");
	}
	pgo_decoder_free(&dec);
}

static void
test_trailing_bytes_after_complete_message_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	for (size_t i = 0; i < ARRAY_SIZE(valid_messages); i++) {
		char h[2048];

		snprintf(h, sizeof(h), "%s 00", valid_messages[i]);
		CHECK_INT(decode_hex(&dec, h, &m, NULL), -1);
		CHECK(strstr(dec.errmsg, "1 trailing bytes after") != NULL);
	}
	pgo_decoder_free(&dec);
}

static void
test_unknown_and_empty_messages_rejected(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_init(&dec);
	CHECK_INT(pgo_decode(&dec, (const uint8_t *)"", 0, &m), -1);
	CHECK_STR(dec.errmsg, "empty pgoutput message");
	/* 'S' (stream start) is a protocol v2 message: not ours. */
	CHECK_INT(decode_hex(&dec, "53 00000001 01", &m, NULL), -1);
	CHECK_STR(dec.errmsg, "unknown pgoutput message type 'S'");
	CHECK_INT(decode_hex(&dec, "00", &m, NULL), -1);
	CHECK_STR(dec.errmsg, "unknown pgoutput message type 0x00");
	pgo_decoder_free(&dec);
}

static void
test_scratch_grows_and_update_tuples_stay_apart(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;
	uint8_t buf[2 * (7 + 1664 * 6) + 16];
	size_t n = 0;
	const struct pgo_update *u;

	pgo_decoder_init(&dec);
	/* Small first, so the arrays must grow on the second message. */
	CHECK_INT(decode_hex(&dec, HEX_UPDATE_KEY, &m, NULL), 0);

	/* Update with K and N tuples of PGO_MAX_COLUMNS text columns each: old col i = i % 251,
	 * new col i = 250 - i % 251. */
	buf[n++] = 'U';
	be_put_u32(buf + n, 42);
	n += 4;
	for (int part = 0; part < 2; part++) {
		buf[n++] = part == 0 ? 'K' : 'N';
		be_put_u16(buf + n, PGO_MAX_COLUMNS);
		n += 2;
		for (int i = 0; i < PGO_MAX_COLUMNS; i++) {
			buf[n++] = 't';
			be_put_u32(buf + n, 1);
			n += 4;
			buf[n++] = (uint8_t)(part == 0 ? i % 251 : 250 - i % 251);
		}
	}
	CHECK_INT(pgo_decode(&dec, buf, n, &m), 0);
	u = &m.u.update;
	CHECK_INT(u->oldtup.ncols, PGO_MAX_COLUMNS);
	CHECK_INT(u->newtup.ncols, PGO_MAX_COLUMNS);
	CHECK(dec.tup_cap[0] >= PGO_MAX_COLUMNS);
	CHECK(dec.tup_cap[1] >= PGO_MAX_COLUMNS);
	for (int i = 0; i < PGO_MAX_COLUMNS; i++) {
		if ((uint8_t)u->oldtup.cols[i].data[0] != i % 251 ||
		    (uint8_t)u->newtup.cols[i].data[0] != 250 - i % 251) {
			CHECK(!"old and new tuple values intact");
			break;
		}
	}
	/* And back to a small one on the same decoder. */
	CHECK_INT(decode_hex(&dec, HEX_INSERT, &m, NULL), 0);
	CHECK_INT(m.u.insert.newtup.ncols, 3);
	pgo_decoder_free(&dec);
	CHECK(dec.tup[0] == NULL && dec.tup_cap[0] == 0);
}

static void
test_decoder_free_accepts_null_and_reuse(void)
{
	struct pgo_decoder dec;
	struct pgo_msg m;

	pgo_decoder_free(NULL);
	pgo_decoder_init(&dec);
	pgo_decoder_free(&dec); /* nothing allocated yet */
	pgo_decoder_init(&dec);
	CHECK_INT(decode_hex(&dec, HEX_RELATION, &m, NULL), 0);
	pgo_decoder_free(&dec);
	pgo_decoder_free(&dec); /* free leaves it re-initialised */
}

int
main(void)
{
	RUN(test_rbuf_getters_read_big_endian_and_stop_at_the_end);
	RUN(test_rbuf_exact_fit_succeeds_one_short_fails);
	RUN(test_rbuf_cstring_requires_nul_inside_buffer);
	RUN(test_rbuf_bytes_bounded_by_remaining);
	RUN(test_be_put_and_get_are_big_endian);
	RUN(test_parse_frame_xlogdata_header_and_payload);
	RUN(test_parse_frame_keepalive_is_exactly_18_bytes);
	RUN(test_parse_frame_rejects_unknown_kind_and_empty);
	RUN(test_build_status_byte_layout);
	RUN(test_decode_begin_verified_bytes);
	RUN(test_decode_commit_verified_bytes);
	RUN(test_commit_nonzero_flags_rejected);
	RUN(test_decode_relation_verified_bytes);
	RUN(test_relation_with_no_columns_and_catalog_namespace);
	RUN(test_relation_unknown_replica_identity_rejected);
	RUN(test_relation_more_than_max_columns_rejected);
	RUN(test_decode_truncate_verified_bytes);
	RUN(test_truncate_nrels_bounded_by_message_before_allocating);
	RUN(test_truncate_unknown_flags_rejected);
	RUN(test_decode_type_for_enum);
	RUN(test_decode_origin);
	RUN(test_decode_transactional_message_with_binary_content);
	RUN(test_decode_nontransactional_message);
	RUN(test_message_negative_length_and_unknown_flags_rejected);
	RUN(test_decode_insert_text_null_and_binary);
	RUN(test_datum_is_length_delimited_not_nul_terminated);
	RUN(test_update_without_old_tuple);
	RUN(test_update_with_old_key_and_unchanged_toast);
	RUN(test_update_with_old_full_row);
	RUN(test_update_old_tuple_must_be_followed_by_new);
	RUN(test_unchanged_toast_only_in_update_new_tuple);
	RUN(test_decode_delete_with_old_key_and_full_row);
	RUN(test_delete_without_old_tuple_rejected);
	RUN(test_insert_requires_new_tuple_marker);
	RUN(test_unknown_tuple_marker_rejected);
	RUN(test_unknown_column_kind_rejected);
	RUN(test_tuple_more_than_max_columns_rejected);
	RUN(test_negative_or_oversized_datum_length_rejected);
	RUN(test_truncated_message_rejected_at_every_length);
	RUN(test_trailing_bytes_after_complete_message_rejected);
	RUN(test_unknown_and_empty_messages_rejected);
	RUN(test_scratch_grows_and_update_tuples_stay_apart);
	RUN(test_decoder_free_accepts_null_and_reuse);
	return unit_done();
}
