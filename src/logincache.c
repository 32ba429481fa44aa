/* SPDX-License-Identifier: MIT */
/* The login cache (see logincache.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "logincache.h"
#include "pgwire.h"
#include "rbuf.h"

#define LOGINCACHE_MAGIC "SQLC"
#define LOGINCACHE_FORMAT 1
#define LOGINCACHE_KIND_ENTRY 'E'
#define LOGINCACHE_KIND_REMOVAL 'R'

struct logincache {
	size_t n;
	struct logincache_entry *e[LOGINCACHE_ENTRIES_MAX];
	uint8_t check_id[LOGINCACHE_KEY_LEN]; /* logincache_set_check_id() */
	size_t ntombs;
	struct logincache_tomb {
		uint8_t key[LOGINCACHE_KEY_LEN];
		int64_t refused_us; /* logins accepted before this are forgotten */
		int64_t until_us;   /* until then */
	} tombs[LOGINCACHE_TOMBS_MAX];
};

struct logincache *
logincache_new(void)
{
	return xcalloc(1, sizeof(struct logincache));
}

static void
logincache_entry_free(struct logincache_entry *e)
{
	secure_zero(e->verifier, sizeof(e->verifier));
	secure_zero(e->salt, sizeof(e->salt));
	strbuf_free(&e->params);
	strbuf_free(&e->answer);
	free(e);
}

void
logincache_free(struct logincache *lc)
{
	size_t i;

	if (lc == NULL)
		return;
	for (i = 0; i < lc->n; i++)
		logincache_entry_free(lc->e[i]);
	secure_zero(lc->tombs, sizeof(lc->tombs));
	free(lc);
}

size_t
logincache_count(const struct logincache *lc)
{
	return lc ? lc->n : 0;
}

size_t
logincache_count_answered(const struct logincache *lc)
{
	size_t i, n = 0;

	for (i = 0; lc && i < lc->n; i++)
		n += lc->e[i]->answer.len > 0;
	return n;
}

int
logincache_key(const struct pgw_startup *st, uint8_t key[LOGINCACHE_KEY_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = LOGINCACHE_KEY_LEN;
	bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	size_t i;

	/* each with its terminating NUL: the pairs cannot run into each other */
	for (i = 0; ok && i < st->nparams; i++)
		ok = EVP_DigestUpdate(ctx, st->params[i].name, strlen(st->params[i].name) + 1) ==
		             1 &&
		     EVP_DigestUpdate(ctx, st->params[i].value, strlen(st->params[i].value) + 1) ==
		             1;
	ok = ok && EVP_DigestFinal_ex(ctx, key, &n) == 1 && n == LOGINCACHE_KEY_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

void
logincache_check_id(const char *sql, size_t len, uint8_t id[LOGINCACHE_KEY_LEN])
{
	SHA256((const unsigned char *)sql, len, id);
}

void
logincache_set_check_id(struct logincache *lc, const uint8_t *id)
{
	memcpy(lc->check_id, id, LOGINCACHE_KEY_LEN);
}

static int
logincache_index(const struct logincache *lc, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < lc->n; i++)
		if (memcmp(lc->e[i]->key, key, LOGINCACHE_KEY_LEN) == 0)
			return (int)i;
	return -1;
}

static void
logincache_drop(struct logincache *lc, size_t i)
{
	logincache_entry_free(lc->e[i]);
	lc->e[i] = lc->e[--lc->n];
}

struct logincache_entry *
logincache_find(struct logincache *lc, const uint8_t *key, int64_t now_us)
{
	int i = logincache_index(lc, key);

	if (i < 0)
		return NULL;
	if (now_us >= lc->e[i]->expires_us) {
		logincache_drop(lc, (size_t)i);
		return NULL;
	}
	return lc->e[i];
}

static int
logincache_derive(const char *password, const uint8_t *salt, uint8_t out[LOGINCACHE_KEY_LEN])
{
	return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, LOGINCACHE_SALT_LEN,
	                         LOGINCACHE_ITERATIONS, EVP_sha256(), LOGINCACHE_KEY_LEN, out) == 1
	               ? 0
	               : -1;
}

bool
logincache_password_ok(const struct logincache_entry *e, const char *password)
{
	uint8_t v[LOGINCACHE_KEY_LEN];
	bool ok;

	if (logincache_derive(password, e->salt, v) < 0)
		return false;
	ok = CRYPTO_memcmp(v, e->verifier, sizeof(v)) == 0;
	secure_zero(v, sizeof(v));
	return ok;
}

/* The entry for key, made when there is none; a full cache loses the one that expires
 * first. */
static struct logincache_entry *
logincache_slot(struct logincache *lc, const uint8_t *key)
{
	struct logincache_entry *e;
	size_t i, first = 0;
	int at = logincache_index(lc, key);

	if (at >= 0)
		return lc->e[at];
	if (lc->n == LOGINCACHE_ENTRIES_MAX) {
		for (i = 1; i < lc->n; i++)
			if (lc->e[i]->expires_us < lc->e[first]->expires_us)
				first = i;
		logincache_drop(lc, first);
	}
	e = xcalloc(1, sizeof(*e));
	memcpy(e->key, key, LOGINCACHE_KEY_LEN);
	strbuf_init(&e->params);
	strbuf_init(&e->answer);
	lc->e[lc->n++] = e;
	return e;
}

struct logincache_entry *
logincache_put(struct logincache *lc, const uint8_t *key, const char *password, const void *params,
               size_t plen, int64_t now_us, int64_t expires_us)
{
	uint8_t salt[LOGINCACHE_SALT_LEN], verifier[LOGINCACHE_KEY_LEN];
	struct logincache_entry *e;

	if (plen > LOGINCACHE_PARAMS_MAX ||
	    getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt) ||
	    logincache_derive(password, salt, verifier) < 0)
		return NULL;
	e = logincache_slot(lc, key);
	memcpy(e->salt, salt, sizeof(salt));
	memcpy(e->verifier, verifier, sizeof(verifier));
	secure_zero(verifier, sizeof(verifier));
	e->login_us = now_us;
	e->expires_us = expires_us;
	strbuf_reset(&e->params);
	strbuf_append(&e->params, params, plen);
	return e;
}

void
logincache_set_answer(struct logincache_entry *e, const uint8_t *id, const void *answer, size_t len,
                      int64_t at_us)
{
	strbuf_reset(&e->answer);
	if (len > LOGINCACHE_ANSWER_MAX)
		return;
	memcpy(e->check_id, id, LOGINCACHE_KEY_LEN);
	strbuf_append(&e->answer, answer, len);
	e->answer_us = at_us;
}

/* Remembers that the logins of key accepted before refused_us were forgotten; a full list
 * loses the one that ends first. */
static void
logincache_tomb(struct logincache *lc, const uint8_t *key, int64_t refused_us, int64_t until_us)
{
	struct logincache_tomb *t = NULL;
	size_t i;

	for (i = 0; i < lc->ntombs && t == NULL; i++)
		if (memcmp(lc->tombs[i].key, key, LOGINCACHE_KEY_LEN) == 0)
			t = &lc->tombs[i];
	if (t == NULL && lc->ntombs < LOGINCACHE_TOMBS_MAX) {
		t = &lc->tombs[lc->ntombs++];
		memset(t, 0, sizeof(*t));
	}
	if (t == NULL) {
		t = &lc->tombs[0];
		for (i = 1; i < lc->ntombs; i++)
			if (lc->tombs[i].until_us < t->until_us)
				t = &lc->tombs[i];
		memset(t, 0, sizeof(*t));
	}
	memcpy(t->key, key, LOGINCACHE_KEY_LEN);
	if (refused_us > t->refused_us)
		t->refused_us = refused_us;
	if (until_us > t->until_us)
		t->until_us = until_us;
}

/* Whether a login of key accepted at login_us was forgotten. */
static bool
logincache_is_tomb(const struct logincache *lc, const uint8_t *key, int64_t login_us)
{
	size_t i;

	for (i = 0; i < lc->ntombs; i++)
		if (memcmp(lc->tombs[i].key, key, LOGINCACHE_KEY_LEN) == 0)
			return login_us < lc->tombs[i].refused_us;
	return false;
}

void
logincache_remove(struct logincache *lc, const uint8_t *key, int64_t refused_us, int64_t tomb_until)
{
	int i = logincache_index(lc, key);

	if (i >= 0 && lc->e[i]->login_us < refused_us)
		logincache_drop(lc, (size_t)i);
	logincache_tomb(lc, key, refused_us, tomb_until);
}

void
logincache_expire(struct logincache *lc, int64_t now_us)
{
	size_t i = 0;

	while (i < lc->n) {
		if (now_us >= lc->e[i]->expires_us)
			logincache_drop(lc, i);
		else
			i++;
	}
	i = 0;
	while (i < lc->ntombs) {
		if (now_us >= lc->tombs[i].until_us)
			lc->tombs[i] = lc->tombs[--lc->ntombs];
		else
			i++;
	}
}

static void
logincache_put_u32(struct strbuf *out, uint32_t v)
{
	uint8_t b[4];

	be_put_u32(b, v);
	strbuf_append(out, b, 4);
}

static void
logincache_put_i64(struct strbuf *out, int64_t v)
{
	logincache_put_u32(out, (uint32_t)((uint64_t)v >> 32));
	logincache_put_u32(out, (uint32_t)v);
}

/* Format: "SQLC", format byte, kind byte, key; for an entry then salt, verifier, login
 * time, expiry, params (length, bytes), check id, answer time, answer (length, bytes); for
 * a removal the time of the refusal. Times are time_mono_us(), one clock for every process
 * of the machine. */
static void
logincache_head(const uint8_t *key, char kind, struct strbuf *out)
{
	strbuf_append(out, LOGINCACHE_MAGIC, 4);
	strbuf_putc(out, LOGINCACHE_FORMAT);
	strbuf_putc(out, kind);
	strbuf_append(out, key, LOGINCACHE_KEY_LEN);
}

void
logincache_encode(const struct logincache_entry *e, struct strbuf *out)
{
	/* room for all of it first: a buffer that grew would leave copies of the verifier */
	strbuf_reserve(out, 6 + 3 * LOGINCACHE_KEY_LEN + LOGINCACHE_SALT_LEN + 3 * 8 + 2 * 4 +
	                            e->params.len + e->answer.len);
	logincache_head(e->key, LOGINCACHE_KIND_ENTRY, out);
	strbuf_append(out, e->salt, LOGINCACHE_SALT_LEN);
	strbuf_append(out, e->verifier, LOGINCACHE_KEY_LEN);
	logincache_put_i64(out, e->login_us);
	logincache_put_i64(out, e->expires_us);
	logincache_put_u32(out, (uint32_t)e->params.len);
	strbuf_append(out, e->params.data, e->params.len);
	strbuf_append(out, e->check_id, LOGINCACHE_KEY_LEN);
	logincache_put_i64(out, e->answer_us);
	logincache_put_u32(out, (uint32_t)e->answer.len);
	strbuf_append(out, e->answer.data, e->answer.len);
}

void
logincache_encode_removal(const uint8_t *key, int64_t refused_us, struct strbuf *out)
{
	logincache_head(key, LOGINCACHE_KIND_REMOVAL, out);
	logincache_put_i64(out, refused_us);
}

const uint8_t *
logincache_removal_key(const uint8_t *buf, size_t len)
{
	if (len != 6 + LOGINCACHE_KEY_LEN + 8 || memcmp(buf, LOGINCACHE_MAGIC, 4) != 0 ||
	    buf[4] != LOGINCACHE_FORMAT || buf[5] != LOGINCACHE_KIND_REMOVAL)
		return NULL;
	return buf + 6;
}

static int
logincache_get_i64(struct rbuf *rb, int64_t *v)
{
	uint32_t hi, lo;

	if (rbuf_get_u32(rb, &hi) < 0 || rbuf_get_u32(rb, &lo) < 0)
		return -1;
	*v = (int64_t)((uint64_t)hi << 32 | lo);
	return 0;
}

/* Whether buf is whole protocol messages, of type only when only is not 0. */
static bool
logincache_messages_ok(const uint8_t *buf, size_t len, uint8_t only)
{
	size_t off = 0;
	uint32_t mlen;

	while (off < len) {
		if (len - off < PGW_HEADER_LEN || (only && buf[off] != only))
			return false;
		mlen = be_get_u32(buf + off + 1);
		if (mlen < 4 || mlen > len - off - 1)
			return false;
		off += (size_t)mlen + 1;
	}
	return true;
}

int
logincache_decode(struct logincache *lc, const uint8_t *buf, size_t len, int64_t now_us,
                  int64_t max_expires_us)
{
	const uint8_t *magic, *key, *salt, *verifier, *params, *id, *answer;
	uint8_t format, kind;
	uint32_t plen, alen;
	int64_t login_us, expires, answer_us, refused_us;
	struct logincache_entry *e;
	bool in_current, have_current;
	struct rbuf rb;
	int at;

	rbuf_init(&rb, buf, len);
	if (rbuf_get_bytes(&rb, 4, &magic) < 0 || memcmp(magic, LOGINCACHE_MAGIC, 4) != 0 ||
	    rbuf_get_u8(&rb, &format) < 0 || format != LOGINCACHE_FORMAT ||
	    rbuf_get_u8(&rb, &kind) < 0 || rbuf_get_bytes(&rb, LOGINCACHE_KEY_LEN, &key) < 0)
		return -1;
	if (kind == LOGINCACHE_KIND_REMOVAL) {
		if (logincache_get_i64(&rb, &refused_us) < 0 || rbuf_remaining(&rb) != 0)
			return -1;
		logincache_remove(lc, key, refused_us, max_expires_us);
		return 0;
	}
	if (kind != LOGINCACHE_KIND_ENTRY || rbuf_get_bytes(&rb, LOGINCACHE_SALT_LEN, &salt) < 0 ||
	    rbuf_get_bytes(&rb, LOGINCACHE_KEY_LEN, &verifier) < 0 ||
	    logincache_get_i64(&rb, &login_us) < 0 || logincache_get_i64(&rb, &expires) < 0 ||
	    rbuf_get_u32(&rb, &plen) < 0 || plen > LOGINCACHE_PARAMS_MAX ||
	    rbuf_get_bytes(&rb, plen, &params) < 0 || !logincache_messages_ok(params, plen, 'S') ||
	    rbuf_get_bytes(&rb, LOGINCACHE_KEY_LEN, &id) < 0 ||
	    logincache_get_i64(&rb, &answer_us) < 0 || rbuf_get_u32(&rb, &alen) < 0 ||
	    alen > LOGINCACHE_ANSWER_MAX || rbuf_get_bytes(&rb, alen, &answer) < 0 ||
	    !logincache_messages_ok(answer, alen, 0) || rbuf_remaining(&rb) != 0)
		return -1;
	if (expires <= now_us || logincache_is_tomb(lc, key, login_us))
		return 0;
	at = logincache_index(lc, key);
	e = logincache_slot(lc, key);
	if (at < 0 || e->login_us <= login_us) {
		memcpy(e->salt, salt, LOGINCACHE_SALT_LEN);
		memcpy(e->verifier, verifier, LOGINCACHE_KEY_LEN);
		e->login_us = login_us;
		e->expires_us = expires < max_expires_us ? expires : max_expires_us;
		strbuf_reset(&e->params);
		strbuf_append(&e->params, params, plen);
	}
	in_current = memcmp(id, lc->check_id, LOGINCACHE_KEY_LEN) == 0;
	have_current = memcmp(e->check_id, lc->check_id, LOGINCACHE_KEY_LEN) == 0;
	if (alen > 0 && (e->answer.len == 0 || (in_current && !have_current) ||
	                 (in_current == have_current && answer_us > e->answer_us)))
		logincache_set_answer(e, id, answer, alen, answer_us);
	e->shared_us = now_us; /* the sender shares it */
	return 0;
}
