/* SPDX-License-Identifier: MIT */
/* SCRAM-SHA-256 server side and auth file secrets (see scram.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "scram.h"
#include "util.h"

#define SCRAM_DEFAULT_ITERATIONS 4096

void
scram_b64_encode(const uint8_t *in, size_t len, struct strbuf *out)
{
	size_t need = 4 * ((len + 2) / 3) + 1;
	char *buf = xmalloc(need);

	EVP_EncodeBlock((unsigned char *)buf, in, (int)len);
	strbuf_puts(out, buf);
	free(buf);
}

int
scram_b64_decode(const char *in, size_t len, uint8_t *out, size_t max)
{
	uint8_t *buf;
	int n;
	size_t pad = 0;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > max + 2)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!((in[i] >= 'A' && in[i] <= 'Z') || (in[i] >= 'a' && in[i] <= 'z') ||
		      (in[i] >= '0' && in[i] <= '9') || in[i] == '+' || in[i] == '/' ||
		      (in[i] == '=' && i >= len - 2)))
			return -1;
	if (in[len - 1] == '=')
		pad++;
	if (in[len - 2] == '=')
		pad++;
	buf = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > max) {
		free(buf);
		return -1;
	}
	n -= (int)pad;
	memcpy(out, buf, (size_t)n);
	secure_zero(buf, len / 4 * 3 + 1);
	free(buf);
	return n;
}

static void
scram_hmac(const uint8_t *key, size_t klen, const void *msg, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)klen, msg, len, out, &n);
}

/* StoredKey and ServerKey of a password (not SASLprep'ed: ASCII passwords are their own). */
static void
scram_derive(const char *password, const uint8_t *salt, size_t saltlen, int iterations,
             uint8_t stored[32], uint8_t server[32])
{
	uint8_t salted[32], client[32];

	PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)saltlen, iterations,
	                  EVP_sha256(), sizeof(salted), salted);
	scram_hmac(salted, sizeof(salted), "Client Key", 10, client);
	SHA256(client, sizeof(client), stored);
	scram_hmac(salted, sizeof(salted), "Server Key", 10, server);
	secure_zero(salted, sizeof(salted));
	secure_zero(client, sizeof(client));
}

int
scram_secret_parse(const char *text, struct scram_secret *out)
{
	const char *p, *colon, *dollar;
	uint8_t salt[64];
	char num[16];
	long it;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (strncmp(text, "SCRAM-SHA-256$", 14) == 0) {
		p = text + 14;
		colon = strchr(p, ':');
		if (colon == NULL || (size_t)(colon - p) >= sizeof(num))
			return -1;
		memcpy(num, p, (size_t)(colon - p));
		num[colon - p] = '\0';
		it = strtol(num, NULL, 10);
		dollar = strchr(colon, '$');
		if (it < 1 || it > 100000000 || dollar == NULL ||
		    (size_t)(dollar - colon - 1) >= sizeof(out->salt) ||
		    scram_b64_decode(colon + 1, (size_t)(dollar - colon - 1), salt, sizeof(salt)) <=
		            0)
			return -1;
		out->iterations = (int)it;
		memcpy(out->salt, colon + 1, (size_t)(dollar - colon - 1));
		colon = strchr(dollar, ':');
		if (colon == NULL ||
		    scram_b64_decode(dollar + 1, (size_t)(colon - dollar - 1), out->stored_key,
		                     SCRAM_KEY_LEN) != SCRAM_KEY_LEN ||
		    scram_b64_decode(colon + 1, strlen(colon + 1), out->server_key,
		                     SCRAM_KEY_LEN) != SCRAM_KEY_LEN)
			return -1;
		out->kind = SCRAM_SECRET_SCRAM;
		return 0;
	}
	if (strncmp(text, "md5", 3) == 0 && strlen(text) == 35) {
		for (i = 3; i < 35; i++)
			if (!strchr("0123456789abcdef", text[i]))
				break;
		if (i == 35) {
			out->kind = SCRAM_SECRET_MD5;
			memcpy(out->md5, text, 36);
			return 0;
		}
	}
	out->kind = SCRAM_SECRET_PLAIN;
	out->password = xstrdup(text);
	return 0;
}

void
scram_secret_clear(struct scram_secret *s)
{
	if (s->password) {
		secure_zero(s->password, strlen(s->password));
		free(s->password);
	}
	secure_zero(s, sizeof(*s));
}

void
scram_begin(struct scram_state *st, const struct scram_secret *secret, const uint8_t *cbind,
            size_t cbind_len)
{
	memset(st, 0, sizeof(*st));
	if (cbind && cbind_len <= sizeof(st->cbind)) {
		st->cbind_offered = true;
		memcpy(st->cbind, cbind, cbind_len);
		st->cbind_len = cbind_len;
	}
	if (secret && secret->kind == SCRAM_SECRET_SCRAM) {
		st->secret = *secret;
		st->secret.password = NULL;
		return;
	}
	if (secret && secret->kind == SCRAM_SECRET_PLAIN) {
		/* a password: a verifier of our own, with a salt of the moment */
		uint8_t salt[16];
		struct strbuf sb;

		if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
			memset(salt, 0x5a, sizeof(salt)); /* not secret: the exchange still works */
		st->secret.kind = SCRAM_SECRET_SCRAM;
		st->secret.iterations = SCRAM_DEFAULT_ITERATIONS;
		strbuf_init(&sb);
		scram_b64_encode(salt, sizeof(salt), &sb);
		snprintf(st->secret.salt, sizeof(st->secret.salt), "%s", strbuf_str(&sb));
		strbuf_free(&sb);
		scram_derive(secret->password, salt, sizeof(salt), st->secret.iterations,
		             st->secret.stored_key, st->secret.server_key);
		return;
	}
	/* unknown user (or an md5 secret, which SCRAM cannot use): a made-up verifier, refused
	 * at the end as a wrong password would be */
	st->mock = true;
	st->secret.kind = SCRAM_SECRET_SCRAM;
	st->secret.iterations = SCRAM_DEFAULT_ITERATIONS;
	snprintf(st->secret.salt, sizeof(st->secret.salt), "c3FsZWRnZSBtb2NrIHNhbHQ=");
	if (getrandom(st->secret.stored_key, SCRAM_KEY_LEN, 0) != SCRAM_KEY_LEN)
		memset(st->secret.stored_key, 0, SCRAM_KEY_LEN);
}

void
scram_end(struct scram_state *st)
{
	free(st->client_first_bare);
	free(st->server_first);
	free(st->gs2_header);
	secure_zero(st, sizeof(*st));
}

/* The value of attribute name ("r=...") at p, up to the next ',' or the end, into out. */
static bool
scram_attr(const char **p, const char *end, char name, char *out, size_t max)
{
	const char *q = *p, *comma;
	size_t n;

	if (end - q < 2 || q[0] != name || q[1] != '=')
		return false;
	q += 2;
	comma = memchr(q, ',', (size_t)(end - q));
	n = (size_t)((comma ? comma : end) - q);
	if (n >= max)
		return false;
	memcpy(out, q, n);
	out[n] = '\0';
	*p = comma ? comma + 1 : end;
	return true;
}

int
scram_first(struct scram_state *st, const char *mech, const char *msg, size_t len,
            const char *snonce, struct strbuf *out, char *why, size_t whylen)
{
	const char *p = msg, *end = msg + len, *bare;
	char user[256], cnonce[64], *r;
	struct strbuf sb;
	uint8_t raw[18];

	if (strcmp(mech, "SCRAM-SHA-256-PLUS") == 0 && st->cbind_offered)
		st->plus = true;
	else if (strcmp(mech, "SCRAM-SHA-256") != 0) {
		snprintf(why, whylen, "client selected an invalid SASL authentication mechanism");
		return -1;
	}
	if (memchr(msg, '\0', len)) {
		snprintf(why, whylen, "malformed SCRAM message (NUL)");
		return -1;
	}
	/* gs2-header: n,, | y,, | p=tls-server-end-point,, */
	if (len >= 3 && (p[0] == 'n' || p[0] == 'y') && p[1] == ',') {
		if (st->plus) {
			snprintf(why, whylen,
			         "channel binding is required, but client does not support "
			         "it");
			return -1;
		}
		if (p[0] == 'y' && st->cbind_offered) {
			/* the client could bind and thinks we cannot: a downgrade */
			snprintf(why, whylen, "SCRAM channel binding negotiation error");
			return -1;
		}
		p += 2;
	} else if (len > 24 && strncmp(p, "p=tls-server-end-point,", 23) == 0) {
		if (!st->plus) {
			snprintf(why, whylen, "channel binding not supported by this mechanism");
			return -1;
		}
		p += 23;
	} else {
		snprintf(why, whylen, "malformed SCRAM message (gs2 header)");
		return -1;
	}
	if (p >= end || *p != ',') { /* no authzid */
		snprintf(why, whylen, "client uses authorization identity, which is not supported");
		return -1;
	}
	p++;
	st->gs2_header = xstrndup(msg, (size_t)(p - msg));
	bare = p;
	/* n=<user>,r=<nonce>[,extensions]: PostgreSQL ignores the name (the startup user) */
	if (!scram_attr(&p, end, 'n', user, sizeof(user)) ||
	    !scram_attr(&p, end, 'r', cnonce, sizeof(cnonce)) || cnonce[0] == '\0') {
		snprintf(why, whylen, "malformed SCRAM message (client-first)");
		return -1;
	}
	for (r = cnonce; *r; r++)
		if (*r < 0x21 || *r > 0x7e || *r == ',') {
			snprintf(why, whylen, "malformed SCRAM message (nonce)");
			return -1;
		}
	st->client_first_bare = xstrndup(bare, (size_t)(end - bare));
	strbuf_init(&sb);
	if (snonce) {
		strbuf_puts(&sb, snonce);
	} else {
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
			strbuf_free(&sb);
			snprintf(why, whylen, "no random bytes for the nonce");
			return -1;
		}
		scram_b64_encode(raw, sizeof(raw), &sb);
	}
	snprintf(st->nonce, sizeof(st->nonce), "%s%s", cnonce, strbuf_str(&sb));
	strbuf_free(&sb);
	strbuf_init(&sb);
	strbuf_printf(&sb, "r=%s,s=%s,i=%d", st->nonce, st->secret.salt, st->secret.iterations);
	st->server_first = xstrdup(strbuf_str(&sb));
	strbuf_append(out, sb.data, sb.len);
	strbuf_free(&sb);
	return 0;
}

int
scram_final(struct scram_state *st, const char *msg, size_t len, struct strbuf *out, char *why,
            size_t whylen)
{
	const char *p = msg, *end = msg + len, *proof_at;
	char cb64[256], nonce[160], proofb64[64];
	uint8_t cbind[SCRAM_MAX_CBIND + 64], proof[SCRAM_KEY_LEN], sig[32], key[32], stored[32];
	size_t glen = st->gs2_header ? strlen(st->gs2_header) : 0;
	struct strbuf auth;
	int n, ok;

	if (st->client_first_bare == NULL || memchr(msg, '\0', len)) {
		snprintf(why, whylen, "malformed SCRAM message");
		return -1;
	}
	if (!scram_attr(&p, end, 'c', cb64, sizeof(cb64)) ||
	    (n = scram_b64_decode(cb64, strlen(cb64), cbind, sizeof(cbind))) < 0) {
		snprintf(why, whylen, "malformed SCRAM message (channel binding)");
		return -1;
	}
	/* c= is the gs2 header, then the certificate hash for -PLUS */
	if ((size_t)n != glen + (st->plus ? st->cbind_len : 0) ||
	    memcmp(cbind, st->gs2_header, glen) != 0 ||
	    (st->plus && memcmp(cbind + glen, st->cbind, st->cbind_len) != 0)) {
		snprintf(why, whylen, "SCRAM channel binding check failed");
		return -1;
	}
	if (!scram_attr(&p, end, 'r', nonce, sizeof(nonce)) || strcmp(nonce, st->nonce) != 0) {
		snprintf(why, whylen, "malformed SCRAM message (nonce mismatch)");
		return -1;
	}
	/* extensions, then p= last */
	while (p < end && !(end - p > 2 && p[0] == 'p' && p[1] == '=')) {
		const char *comma = memchr(p, ',', (size_t)(end - p));

		if (comma == NULL)
			break;
		p = comma + 1;
	}
	proof_at = p;
	if (!scram_attr(&p, end, 'p', proofb64, sizeof(proofb64)) || p != end ||
	    scram_b64_decode(proofb64, strlen(proofb64), proof, sizeof(proof)) != SCRAM_KEY_LEN) {
		snprintf(why, whylen, "malformed SCRAM message (proof)");
		return -1;
	}
	/* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
	strbuf_init(&auth);
	strbuf_printf(&auth, "%s,%s,", st->client_first_bare, st->server_first);
	strbuf_append(&auth, msg, (size_t)(proof_at - msg - 1));
	scram_hmac(st->secret.stored_key, SCRAM_KEY_LEN, auth.data, auth.len, sig);
	for (n = 0; n < SCRAM_KEY_LEN; n++)
		key[n] = proof[n] ^ sig[n];
	SHA256(key, sizeof(key), stored);
	ok = !st->mock && CRYPTO_memcmp(stored, st->secret.stored_key, SCRAM_KEY_LEN) == 0;
	if (ok) {
		scram_hmac(st->secret.server_key, SCRAM_KEY_LEN, auth.data, auth.len, sig);
		strbuf_puts(out, "v=");
		scram_b64_encode(sig, sizeof(sig), out);
	}
	secure_zero(key, sizeof(key));
	strbuf_free(&auth);
	return ok;
}

void
scram_md5_response(const char *md5_secret, const uint8_t salt[4], char out[36])
{
	uint8_t in[36], d[16];
	unsigned int dlen = 0;
	int i;

	memcpy(in, md5_secret + 3, 32);
	memcpy(in + 32, salt, 4);
	EVP_Digest(in, sizeof(in), d, &dlen, EVP_md5(), NULL);
	memcpy(out, "md5", 3);
	for (i = 0; i < 16; i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", d[i]);
}

void
scram_users_free(struct scram_users *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++) {
		free(u->names[i]);
		scram_secret_clear(&u->secrets[i]);
	}
	free(u->names);
	free(u->secrets);
	free(u);
}

/* A double-quoted string ("" is a quote) at *p into out. */
static bool
scram_quoted(const char **p, struct strbuf *out)
{
	const char *q = *p;

	while (*q == ' ' || *q == '\t')
		q++;
	if (*q++ != '"')
		return false;
	for (;;) {
		if (*q == '\0' || *q == '\n')
			return false;
		if (*q == '"') {
			if (q[1] != '"')
				break;
			q++;
		}
		strbuf_putc(out, *q++);
	}
	*p = q + 1;
	return true;
}

int
scram_users_parse(const char *text, const char *name, struct scram_users **out, struct strbuf *err)
{
	struct scram_users *u = xcalloc(1, sizeof(*u));
	const char *p = text;
	size_t cap = 0, cap2 = 0;
	int line = 0, errors = 0;

	while (*p) {
		const char *eol = strchr(p, '\n'), *q = p;
		struct strbuf user, secret;

		line++;
		while (*q == ' ' || *q == '\t' || *q == '\r')
			q++;
		if (*q == '\0' || *q == '\n' || *q == '#' || *q == ';') {
			p = eol ? eol + 1 : q + strlen(q);
			continue;
		}
		strbuf_init(&user);
		strbuf_init(&secret);
		if (!scram_quoted(&q, &user) || !scram_quoted(&q, &secret) || user.len == 0) {
			strbuf_printf(err, "%s:%d: expected \"user\" \"secret\"\n", name, line);
			errors++;
		} else {
			struct scram_secret s;

			while (*q == ' ' || *q == '\t' || *q == '\r')
				q++;
			if (*q != '\0' && *q != '\n') {
				strbuf_printf(err, "%s:%d: expected \"user\" \"secret\"\n", name,
				              line);
				errors++;
			} else if (scram_secret_parse(strbuf_str(&secret), &s) < 0) {
				strbuf_printf(err, "%s:%d: malformed SCRAM-SHA-256 secret\n", name,
				              line);
				errors++;
			} else {
				u->names = xgrow(u->names, &cap, u->n + 1, sizeof(*u->names));
				u->secrets =
				        xgrow(u->secrets, &cap2, u->n + 1, sizeof(*u->secrets));
				u->names[u->n] = xstrdup(strbuf_str(&user));
				u->secrets[u->n++] = s;
			}
		}
		if (secret.data)
			secure_zero(secret.data, secret.cap);
		strbuf_free(&user);
		strbuf_free(&secret);
		p = eol ? eol + 1 : p + strlen(p);
	}
	if (errors) {
		scram_users_free(u);
		return -1;
	}
	*out = u;
	return 0;
}

const struct scram_secret *
scram_users_find(const struct scram_users *u, const char *user)
{
	size_t i;

	for (i = 0; u && i < u->n; i++)
		if (strcmp(u->names[i], user) == 0)
			return &u->secrets[i];
	return NULL;
}

int
scram_users_load(const char *path, struct scram_users **out, struct strbuf *err)
{
	struct strbuf text;
	int rc = -1;

	strbuf_init(&text);
	if (read_text_file(path, "[proxy] auth_file", 16 * 1024 * 1024, &text, err) == 0)
		rc = scram_users_parse(strbuf_str(&text), path, out, err);
	if (text.data)
		secure_zero(text.data, text.cap);
	strbuf_free(&text);
	return rc;
}
