/* SPDX-License-Identifier: MIT */
/* The login cache of [proxy] auth = password ([proxy] login_cache_ttl): a login the upstream
 * accepted is remembered for a bounded time as a salted verifier (PBKDF2-HMAC-SHA-256, as a
 * SCRAM secret derives its key, never the password), with the ParameterStatus messages the
 * session began with and the upstream's answer to the session check, so that the same user
 * with the same password and startup packet logs in again without the upstream. Entries go
 * from worker to worker as bytes (logincache_encode/decode). Pure: no I/O but the random
 * salt. */
#ifndef SQLEDGE_LOGINCACHE_H
#define SQLEDGE_LOGINCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct pgw_startup;

#define LOGINCACHE_KEY_LEN 32
#define LOGINCACHE_SALT_LEN 16
#define LOGINCACHE_ITERATIONS 4096         /* PostgreSQL's scram_iterations */
#define LOGINCACHE_PARAMS_MAX (64 * 1024)  /* ParameterStatus messages kept per entry */
#define LOGINCACHE_ANSWER_MAX (256 * 1024) /* a bigger check answer is not kept */
#define LOGINCACHE_ENTRIES_MAX 1024        /* per worker; the one to expire first goes */
#define LOGINCACHE_TOMBS_MAX 256           /* keys forgotten, remembered as such */

struct logincache_entry {
	uint8_t key[LOGINCACHE_KEY_LEN]; /* logincache_key() of the startup packet */
	uint8_t salt[LOGINCACHE_SALT_LEN];
	uint8_t verifier[LOGINCACHE_KEY_LEN];
	int64_t login_us;                     /* when the upstream accepted it (time_mono_us) */
	int64_t expires_us;                   /* time_mono_us() from which it is gone */
	struct strbuf params;                 /* the login's ParameterStatus messages, whole */
	uint8_t check_id[LOGINCACHE_KEY_LEN]; /* SHA-256 of the check query answered */
	struct strbuf answer; /* the upstream's answer to it, whole messages; empty: none */
	int64_t answer_us;    /* when that answer came (time_mono_us) */
	int64_t shared_us;    /* when the answer was last sent to the other workers */
};

struct logincache;

struct logincache *logincache_new(void);
/* Wipes and frees every entry. */
void logincache_free(struct logincache *lc);
size_t logincache_count(const struct logincache *lc);
/* Of them, those that hold a check answer. */
size_t logincache_count_answered(const struct logincache *lc);

/* The key of a login: SHA-256 over every startup pair (user and database among them), in
 * packet order. A client that sends other settings makes another entry. Returns 0, or -1
 * when no hash could be made (the login then does without the cache). */
int logincache_key(const struct pgw_startup *st, uint8_t key[LOGINCACHE_KEY_LEN]);

/* SHA-256 of a check query's text. */
void logincache_check_id(const char *sql, size_t len, uint8_t id[LOGINCACHE_KEY_LEN]);
/* The check query this worker asks now: an answer to it is preferred to a newer one to
 * another (logincache_decode). */
void logincache_set_check_id(struct logincache *lc, const uint8_t *id);

/* The entry for key, unless it expired (then it goes). */
struct logincache_entry *logincache_find(struct logincache *lc, const uint8_t *key, int64_t now_us);

/* Whether password is the one the entry was made with (constant time in the verifier; false
 * when the verifier cannot be computed). */
bool logincache_password_ok(const struct logincache_entry *e, const char *password);

/* Remembers a login the upstream accepted at now_us: a new salt and verifier, the session's
 * ParameterStatus messages. An answer kept for the key stays. Returns the entry, or NULL
 * when no random salt or verifier could be had, or params is too long. */
struct logincache_entry *logincache_put(struct logincache *lc, const uint8_t *key,
                                        const char *password, const void *params, size_t plen,
                                        int64_t now_us, int64_t expires_us);

/* Keeps the upstream's answer to the check query id (whole messages; longer than
 * LOGINCACHE_ANSWER_MAX: the entry keeps none). */
void logincache_set_answer(struct logincache_entry *e, const uint8_t *id, const void *answer,
                           size_t len, int64_t at_us);

/* Forgets the logins of key the upstream accepted before refused_us, and remembers until
 * tomb_until that they were forgotten: such a login sent by another worker before that one
 * heard of it is not taken again. */
void logincache_remove(struct logincache *lc, const uint8_t *key, int64_t refused_us,
                       int64_t tomb_until);
/* Wipes the entries, and the forgotten logins, that expired. */
void logincache_expire(struct logincache *lc, int64_t now_us);

/* The bytes that carry e to another worker, or that the logins of key accepted before
 * refused_us are forgotten. */
void logincache_encode(const struct logincache_entry *e, struct strbuf *out);
void logincache_encode_removal(const uint8_t *key, int64_t refused_us, struct strbuf *out);
/* The key of a removal's bytes, NULL when they are not one. */
const uint8_t *logincache_removal_key(const uint8_t *buf, size_t len);

/* Takes an entry (or a removal) another worker sent. Returns 0, or -1 when the bytes are not
 * one (nothing changes). An entry that expired, or whose login is older than a removal of its
 * key, is not taken; one whose login is older than the one this worker has keeps this
 * worker's verifier; its answer replaces this worker's when it is newer, and an answer to
 * the check this worker asks is not replaced by one to another. An entry that
 * expires later than max_expires_us (this worker's own limit) expires then, and a removal is
 * remembered until then. */
int logincache_decode(struct logincache *lc, const uint8_t *buf, size_t len, int64_t now_us,
                      int64_t max_expires_us);

#endif
