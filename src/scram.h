/* SPDX-License-Identifier: MIT */
/* The server side of SCRAM-SHA-256 (RFC 5802, 7677) as PostgreSQL runs it, with
 * tls-server-end-point channel binding (SCRAM-SHA-256-PLUS, RFC 5929), and the stored secrets
 * of an auth file (PgBouncer's userlist.txt): SCRAM verifiers as pg_authid keeps them, md5
 * hashes, or passwords. Pure: no I/O but the random nonce. */
#ifndef SQLEDGE_SCRAM_H
#define SQLEDGE_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define SCRAM_KEY_LEN 32
#define SCRAM_MAX_CBIND 64 /* a SHA-512 certificate hash */

/* A user's secret as the auth file holds it. */
struct scram_secret {
	enum { SCRAM_SECRET_SCRAM, SCRAM_SECRET_MD5, SCRAM_SECRET_PLAIN } kind;
	int iterations;
	char salt[64]; /* base64, as in the verifier */
	uint8_t stored_key[SCRAM_KEY_LEN];
	uint8_t server_key[SCRAM_KEY_LEN];
	char md5[36];   /* "md5" + 32 hex digits */
	char *password; /* SCRAM_SECRET_PLAIN: malloc'ed, wiped by scram_secret_clear() */
};

/* Reads a secret: "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", "md5" and 32
 * hex digits, or anything else as a password. Returns 0, or -1 for a malformed SCRAM one. */
int scram_secret_parse(const char *text, struct scram_secret *out);
void scram_secret_clear(struct scram_secret *s);

/* One exchange. */
struct scram_state {
	struct scram_secret secret;     /* keys to check against (a plain password derived) */
	bool cbind_offered;             /* -PLUS was offered (TLS) */
	uint8_t cbind[SCRAM_MAX_CBIND]; /* the certificate hash the client must bind to */
	size_t cbind_len;
	bool plus; /* the client chose SCRAM-SHA-256-PLUS */
	char *client_first_bare;
	char *server_first;
	char *gs2_header;
	char nonce[128]; /* client's and server's */
	bool mock;       /* an unknown user: the exchange goes on and fails at the end */
};

/* Starts an exchange for secret (NULL: an unknown user, answered as a known one and refused
 * at the end). cbind: the tls-server-end-point hash when TLS is on (offer -PLUS), else NULL. */
void scram_begin(struct scram_state *st, const struct scram_secret *secret, const uint8_t *cbind,
                 size_t cbind_len);
void scram_end(struct scram_state *st);

/* The client-first-message of mechanism mech (SASLInitialResponse). Appends the
 * server-first-message to out. snonce: the server's nonce for tests, NULL for a random one.
 * Returns 0, or -1 with PostgreSQL's reason in why (a protocol violation: 08P01). */
int scram_first(struct scram_state *st, const char *mech, const char *msg, size_t len,
                const char *snonce, struct strbuf *out, char *why, size_t whylen);

/* The client-final-message. Appends the server-final-message to out and returns 1 when the
 * proof is right, 0 when it is not (a wrong password or unknown user: 28P01), -1 for a
 * malformed message or a channel binding that does not match (why says which). */
int scram_final(struct scram_state *st, const char *msg, size_t len, struct strbuf *out, char *why,
                size_t whylen);

/* The response an md5 challenge with salt expects for secret ("md5" + 32 hex digits). */
void scram_md5_response(const char *md5_secret, const uint8_t salt[4], char out[36]);

/* The users of an auth file (PgBouncer's userlist.txt): lines "user" "secret" ("" inside
 * quotes is a quote); blank lines and lines starting with # or ; are skipped. */
struct scram_users {
	size_t n;
	char **names;
	struct scram_secret *secrets;
};

/* Parses text (name in messages). Returns 0 with *out set, or -1 with every error, by line,
 * in err (never the secrets). */
int scram_users_parse(const char *text, const char *name, struct scram_users **out,
                      struct strbuf *err);
/* Reads and parses the file path (its buffers wiped). */
int scram_users_load(const char *path, struct scram_users **out, struct strbuf *err);
void scram_users_free(struct scram_users *u);
const struct scram_secret *scram_users_find(const struct scram_users *u, const char *user);

/* base64 helpers */
void scram_b64_encode(const uint8_t *in, size_t len, struct strbuf *out);
/* Returns the decoded length, or -1 when in is not base64 or does not fit max. */
int scram_b64_decode(const char *in, size_t len, uint8_t *out, size_t max);

#endif
