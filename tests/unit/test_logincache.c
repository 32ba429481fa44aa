/* SPDX-License-Identifier: MIT */
/* The login cache: keys of startup packets, verifiers (PBKDF2-HMAC-SHA-256, checked against
 * a value computed elsewhere), expiry, eviction, and the bytes that carry entries between
 * workers, whole and broken. */
#include "config.h"

#include "logincache.h"
#include "pgwire.h"
#include "rbuf.h"
#include "unit.h"
#include "util.h"

/* PBKDF2-HMAC-SHA-256("secret", bytes 0..15, 4096 iterations, 32 bytes), from Python's
 * hashlib.pbkdf2_hmac */
static const uint8_t secret_verifier[32] = {0x53, 0xd9, 0x3a, 0xfc, 0x94, 0xb1, 0xe0, 0xdc,
                                            0x86, 0xf6, 0x06, 0x01, 0xea, 0x1d, 0x03, 0xdb,
                                            0xf7, 0x33, 0x0e, 0x4c, 0x0a, 0xb5, 0x70, 0x65,
                                            0x27, 0xf9, 0x10, 0x1d, 0x8d, 0xca, 0xec, 0x29};

static void
startup(struct pgw_startup *st, const char *const *pairs, size_t n)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < n; i++) {
		st->params[i].name = pairs[2 * i];
		st->params[i].value = pairs[2 * i + 1];
	}
	st->nparams = n;
}

static void
key_of(const char *const *pairs, size_t n, uint8_t key[LOGINCACHE_KEY_LEN])
{
	struct pgw_startup st;

	startup(&st, pairs, n);
	logincache_key(&st, key);
}

static void
test_keys(void)
{
	static const char *const a[] = {"user", "alice", "database", "shop"};
	static const char *const same[] = {"user", "alice", "database", "shop"};
	static const char *const other_db[] = {"user", "alice", "database", "shop2"};
	static const char *const moved[] = {"user", "alicedatabase", "", "shop"};
	static const char *const more[] = {"user", "alice", "database", "shop", "TimeZone", "UTC"};
	uint8_t k1[32], k2[32];

	key_of(a, 2, k1);
	key_of(same, 2, k2);
	CHECK(memcmp(k1, k2, 32) == 0);
	key_of(other_db, 2, k2);
	CHECK(memcmp(k1, k2, 32) != 0);
	key_of(moved, 2, k2); /* the same bytes, split elsewhere */
	CHECK(memcmp(k1, k2, 32) != 0);
	key_of(more, 3, k2);
	CHECK(memcmp(k1, k2, 32) != 0);
}

static void
params(struct strbuf *sb)
{
	pgw_put_parameter_status(sb, "server_version", "15.18");
	pgw_put_parameter_status(sb, "TimeZone", "UTC");
}

static void
test_put_find_expire(void)
{
	struct logincache *lc = logincache_new();
	struct logincache_entry *e;
	uint8_t key[32] = {1}, other[32] = {2};
	struct strbuf p;

	strbuf_init(&p);
	params(&p);
	CHECK(logincache_find(lc, key, 0) == NULL);
	e = logincache_put(lc, key, "secret", p.data, p.len, 1, 1000);
	CHECK(e != NULL);
	CHECK(logincache_find(lc, key, 999) == e);
	CHECK(logincache_find(lc, other, 999) == NULL);
	CHECK(logincache_password_ok(e, "secret"));
	CHECK(!logincache_password_ok(e, "Secret"));
	CHECK(!logincache_password_ok(e, "secret "));
	CHECK(!logincache_password_ok(e, ""));
	CHECK_MEM(e->params.data, e->params.len, p.data, p.len);
	/* a salt of its own each time: the same password gives another verifier */
	{
		uint8_t v1[32];

		memcpy(v1, e->verifier, 32);
		e = logincache_put(lc, key, "secret", p.data, p.len, 1, 1000);
		CHECK(memcmp(v1, e->verifier, 32) != 0);
		CHECK(logincache_password_ok(e, "secret"));
		CHECK_INT(logincache_count(lc), 1);
	}
	CHECK(logincache_find(lc, key, 1000) == NULL); /* expired: gone */
	CHECK_INT(logincache_count(lc), 0);
	CHECK(logincache_put(lc, key, "secret", p.data, LOGINCACHE_PARAMS_MAX + 1, 1, 1000) ==
	      NULL);
	e = logincache_put(lc, key, "secret", p.data, p.len, 1, 1000);
	logincache_remove(lc, key, 2, 2000);
	CHECK_INT(logincache_count(lc), 0);
	strbuf_free(&p);
	logincache_free(lc);
}

/* An entry made by hand with the known salt and verifier. */
static void
put_i64(struct strbuf *out, int64_t v)
{
	uint8_t b[4];

	be_put_u32(b, (uint32_t)((uint64_t)v >> 32));
	strbuf_append(out, b, 4);
	be_put_u32(b, (uint32_t)v);
	strbuf_append(out, b, 4);
}

static void
known_entry(struct strbuf *out, const uint8_t *key, int64_t expires, const struct strbuf *p,
            const char *answer, size_t alen)
{
	uint8_t b[4], salt[16], id[32] = {9};
	size_t i;

	for (i = 0; i < 16; i++)
		salt[i] = (uint8_t)i;
	strbuf_append(out, "SQLC\1E", 6);
	strbuf_append(out, key, 32);
	strbuf_append(out, salt, 16);
	strbuf_append(out, secret_verifier, 32);
	put_i64(out, 3); /* the login */
	put_i64(out, expires);
	be_put_u32(b, (uint32_t)p->len);
	strbuf_append(out, b, 4);
	strbuf_append(out, p->data, p->len);
	strbuf_append(out, id, 32);
	strbuf_append(out, "\0\0\0\0\0\0\0\7", 8);
	be_put_u32(b, (uint32_t)alen);
	strbuf_append(out, b, 4);
	strbuf_append(out, answer, alen);
}

static void
test_known_verifier(void)
{
	struct logincache *lc = logincache_new();
	struct logincache_entry *e;
	uint8_t key[32] = {3};
	struct strbuf p, bytes;

	strbuf_init(&p);
	strbuf_init(&bytes);
	params(&p);
	known_entry(&bytes, key, INT64_C(5000000000), &p, "Z\0\0\0\5I", 6);
	CHECK_INT(logincache_decode(lc, (const uint8_t *)bytes.data, bytes.len, 10, INT64_MAX), 0);
	e = logincache_find(lc, key, 10);
	CHECK(e != NULL);
	if (e) {
		CHECK(logincache_password_ok(e, "secret"));
		CHECK(!logincache_password_ok(e, "secreT"));
		CHECK_INT(e->expires_us, INT64_C(5000000000));
		CHECK_INT(e->answer_us, 7);
		CHECK_MEM(e->answer.data, e->answer.len, "Z\0\0\0\5I", 6);
		CHECK_INT(e->check_id[0], 9);
	}
	/* this worker's own limit caps it */
	CHECK_INT(logincache_decode(lc, (const uint8_t *)bytes.data, bytes.len, 10, 4000), 0);
	e = logincache_find(lc, key, 10);
	CHECK(e != NULL && e->expires_us == 4000);
	/* an expired one is not taken (and the one there stays) */
	CHECK_INT(logincache_decode(lc, (const uint8_t *)bytes.data, bytes.len, INT64_C(6000000000),
	                            INT64_MAX),
	          0);
	CHECK_INT(logincache_count(lc), 1);
	strbuf_free(&p);
	strbuf_free(&bytes);
	logincache_free(lc);
}

static void
test_encode_decode(void)
{
	struct logincache *a = logincache_new(), *b = logincache_new();
	struct logincache_entry *e, *f;
	uint8_t key[32] = {4}, id[32];
	struct strbuf p, bytes, answer;
	size_t cut;

	strbuf_init(&p);
	strbuf_init(&bytes);
	strbuf_init(&answer);
	params(&p);
	pgw_put_ready_for_query(&answer, 'I');
	logincache_check_id("SELECT 1", 8, id);
	e = logincache_put(a, key, "pw", p.data, p.len, 5, 777);
	logincache_set_answer(e, id, answer.data, answer.len, 55);
	logincache_encode(e, &bytes);
	CHECK_INT(logincache_decode(b, (const uint8_t *)bytes.data, bytes.len, 1, INT64_MAX), 0);
	f = logincache_find(b, key, 1);
	CHECK(f != NULL);
	if (f) {
		CHECK(logincache_password_ok(f, "pw"));
		CHECK_MEM(f->params.data, f->params.len, p.data, p.len);
		CHECK_MEM(f->answer.data, f->answer.len, answer.data, answer.len);
		CHECK(memcmp(f->check_id, id, 32) == 0);
		CHECK_INT(f->answer_us, 55);
		CHECK_INT(f->expires_us, 777);
		CHECK_INT(f->login_us, 5);
	}
	/* every cut short, and one byte more, is refused and changes nothing */
	logincache_remove(b, key, 6, 0);
	logincache_expire(b, 1); /* and that it was removed: a removal until 0 ends at once */
	for (cut = 0; cut < bytes.len; cut++)
		CHECK_INT(logincache_decode(b, (const uint8_t *)bytes.data, cut, 1, INT64_MAX), -1);
	strbuf_putc(&bytes, 0);
	CHECK_INT(logincache_decode(b, (const uint8_t *)bytes.data, bytes.len, 1, INT64_MAX), -1);
	CHECK_INT(logincache_count(b), 0);
	/* params that are not ParameterStatus messages */
	strbuf_reset(&bytes);
	strbuf_reset(&p);
	pgw_put_ready_for_query(&p, 'I');
	known_entry(&bytes, key, 100, &p, "", 0);
	CHECK_INT(logincache_decode(b, (const uint8_t *)bytes.data, bytes.len, 1, INT64_MAX), -1);
	/* an answer whose last message runs past its end */
	strbuf_reset(&bytes);
	strbuf_reset(&p);
	params(&p);
	known_entry(&bytes, key, 100, &p, "Z\0\0\0\6I", 6);
	CHECK_INT(logincache_decode(b, (const uint8_t *)bytes.data, bytes.len, 1, INT64_MAX), -1);
	CHECK_INT(logincache_count(b), 0);
	/* a removal; the same login sent before the sender heard of it is not taken again */
	strbuf_reset(&bytes);
	logincache_encode(e, &bytes);
	CHECK_INT(logincache_decode(b, (const uint8_t *)bytes.data, bytes.len, 1, INT64_MAX), 0);
	CHECK_INT(logincache_count(b), 1);
	strbuf_reset(&answer);
	logincache_encode_removal(key, 6, &answer);
	CHECK_INT(answer.len, 46);
	CHECK(logincache_removal_key((const uint8_t *)answer.data, answer.len) != NULL);
	CHECK(logincache_removal_key((const uint8_t *)bytes.data, bytes.len) == NULL);
	CHECK_INT(logincache_decode(b, (const uint8_t *)answer.data, answer.len, 1, 500), 0);
	CHECK_INT(logincache_count(b), 0);
	CHECK_INT(logincache_decode(b, (const uint8_t *)bytes.data, bytes.len, 1, 500), 0);
	CHECK_INT(logincache_count(b), 0);
	logincache_expire(b, 500); /* until the removal is forgotten */
	CHECK_INT(logincache_decode(b, (const uint8_t *)bytes.data, bytes.len, 1, 700), 0);
	CHECK_INT(logincache_count(b), 1);
	strbuf_free(&p);
	strbuf_free(&bytes);
	strbuf_free(&answer);
	logincache_free(a);
	logincache_free(b);
}

/* Messages of two logins of one key, in either order: the newer login stays; an answer
 * replaces only an older one; a removal of the older login leaves the newer. */
static void
test_merge(void)
{
	struct logincache *a = logincache_new(), *b = logincache_new();
	struct logincache_entry *old, *e;
	uint8_t key[32] = {8}, id[32] = {1};
	struct strbuf p, m_old, m_new, m_rm;

	strbuf_init(&p);
	strbuf_init(&m_old);
	strbuf_init(&m_new);
	strbuf_init(&m_rm);
	params(&p);
	old = logincache_put(a, key, "oldpw", p.data, p.len, 10, 1000);
	logincache_set_answer(old, id, "Z\0\0\0\5I", 6, 30);
	logincache_encode(old, &m_old);
	logincache_encode_removal(key, 15, &m_rm); /* refused between the two logins */
	e = logincache_put(a, key, "newpw", p.data, p.len, 20, 1000); /* the same key, later */
	strbuf_reset(&e->answer);                                     /* no answer yet */
	logincache_encode(e, &m_new);

	CHECK_INT(logincache_decode(b, (const uint8_t *)m_new.data, m_new.len, 1, INT64_MAX), 0);
	CHECK_INT(logincache_decode(b, (const uint8_t *)m_old.data, m_old.len, 1, INT64_MAX), 0);
	e = logincache_find(b, key, 1);
	CHECK(e != NULL);
	if (e) {
		CHECK(logincache_password_ok(e, "newpw")); /* the older login did not replace it */
		CHECK(!logincache_password_ok(e, "oldpw"));
		CHECK_INT(e->answer_us, 30); /* but its answer was the only one */
		/* an answer older than the one there does not replace it */
		e->answer_us = 40;
		CHECK_INT(
		        logincache_decode(b, (const uint8_t *)m_old.data, m_old.len, 1, INT64_MAX),
		        0);
		CHECK_INT(e->answer_us, 40);
	}
	/* an answer to the check this worker asks is not replaced by a newer one to another */
	if (e) {
		uint8_t current[32] = {1}, other[32] = {2};
		struct strbuf m_other;

		strbuf_init(&m_other);
		logincache_set_check_id(b, current); /* = id, the answer there */
		logincache_set_answer(old, other, "Z\0\0\0\5T", 6, 99);
		logincache_encode(old, &m_other);
		CHECK_INT(logincache_decode(b, (const uint8_t *)m_other.data, m_other.len, 1,
		                            INT64_MAX),
		          0);
		CHECK_INT(e->answer_us, 40);
		CHECK(memcmp(e->check_id, current, 32) == 0);
		/* while it asks the other one, the newer answer to it is taken */
		logincache_set_check_id(b, other);
		CHECK_INT(logincache_decode(b, (const uint8_t *)m_other.data, m_other.len, 1,
		                            INT64_MAX),
		          0);
		CHECK_INT(e->answer_us, 99);
		strbuf_free(&m_other);
	}
	/* the removal of the older login leaves the newer one; the older, sent again (by a
	 * worker that had not heard of the removal, whatever its salt), is not taken */
	CHECK_INT(logincache_decode(b, (const uint8_t *)m_rm.data, m_rm.len, 1, INT64_MAX), 0);
	e = logincache_find(b, key, 1);
	CHECK(e != NULL && logincache_password_ok(e, "newpw"));
	logincache_remove(b, key, 25, INT64_MAX); /* now the newer one too */
	CHECK_INT(logincache_count(b), 0);
	CHECK_INT(logincache_decode(b, (const uint8_t *)m_old.data, m_old.len, 1, INT64_MAX), 0);
	CHECK_INT(logincache_decode(b, (const uint8_t *)m_new.data, m_new.len, 1, INT64_MAX), 0);
	CHECK_INT(logincache_count(b), 0);
	strbuf_free(&p);
	strbuf_free(&m_old);
	strbuf_free(&m_new);
	strbuf_free(&m_rm);
	logincache_free(a);
	logincache_free(b);
}

static void
test_limits(void)
{
	struct logincache *lc = logincache_new();
	struct logincache_entry *e;
	uint8_t key[32] = {0}, id[32] = {0};
	char *big = xcalloc(1, LOGINCACHE_ANSWER_MAX + 1);
	size_t i;

	/* full: the entry that expires first makes room */
	for (i = 0; i < LOGINCACHE_ENTRIES_MAX + 1; i++) {
		be_put_u32(key, (uint32_t)i);
		CHECK(logincache_put(lc, key, "x", "", 0, 1, 1000 + (int64_t)((i * 7919) % 5000)) !=
		      NULL);
	}
	CHECK_INT(logincache_count(lc), LOGINCACHE_ENTRIES_MAX);
	be_put_u32(key, 0); /* expires at 1000, the first */
	CHECK(logincache_find(lc, key, 0) == NULL);
	be_put_u32(key, LOGINCACHE_ENTRIES_MAX);
	e = logincache_find(lc, key, 0);
	CHECK(e != NULL);
	/* an answer too long to keep: none is kept */
	if (e) {
		logincache_set_answer(e, id, "Z\0\0\0\5I", 6, 1);
		CHECK_INT(e->answer.len, 6);
		logincache_set_answer(e, id, big, LOGINCACHE_ANSWER_MAX + 1, 2);
		CHECK_INT(e->answer.len, 0);
	}
	free(big);
	logincache_free(lc);
}

int
main(void)
{
	RUN(test_keys);
	RUN(test_put_find_expire);
	RUN(test_known_verifier);
	RUN(test_encode_decode);
	RUN(test_merge);
	RUN(test_limits);
	return unit_done();
}
