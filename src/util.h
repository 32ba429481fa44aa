/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every module: allocation, growable strings, LSNs, clocks. */
#ifndef SQLEDGE_UTIL_H
#define SQLEDGE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SQE_MUSTCHECK __attribute__((warn_unused_result))
#define SQE_AGAIN (-2) /* would block: try again when the descriptor is ready */

/* Worker exit codes read by the master. */
#define EXIT_RESPAWN 1 /* transient failure: restart me with backoff */
#define EXIT_FATAL 2   /* configuration or permission error: do not respawn, stop sqledge */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Abort with a message on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grows arr (capacity *cap elements of elsize bytes, doubling from 8) to hold need elements;
 * returns the array, possibly moved. Callers bound need so need * elsize cannot overflow. */
void *xgrow(void *arr, size_t *cap, size_t need, size_t elsize);

/* Growable NUL-terminated byte string. data is NULL until something is appended. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const void *p, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the string (never NULL: "" when empty). Valid until the next change. */
const char *strbuf_str(struct strbuf *sb);
/* Appends name as an SQL identifier: "..." with embedded quotes doubled. */
void strbuf_quote_ident(struct strbuf *sb, const char *name);
/* Appends s as an SQL string literal: '...' with embedded quotes doubled (standard strings). */
void strbuf_quote_literal(struct strbuf *sb, const char *s);
/* Whether s[0, len) is UTF-8 as PostgreSQL accepts it: well formed, no NUL byte. */
bool utf8_is_valid(const uint8_t *s, size_t len);
/* Appends s as a JSON string with quotes; NULL appends null. */
void strbuf_json_string(struct strbuf *sb, const char *s);

/* LSNs: PostgreSQL's "%X/%X" text form. */
#define LSN_BUFLEN 24
int lsn_parse(const char *s, uint64_t *out) SQE_MUSTCHECK;
/* Writes into buf (LSN_BUFLEN bytes) and returns it. */
char *lsn_format(uint64_t lsn, char *buf);

/* Clocks, in microseconds. */
int64_t time_mono_us(void);
int64_t time_real_us(void);
/* PostgreSQL timestamps: microseconds since 2000-01-01 00:00:00 UTC. */
#define PG_EPOCH_UNIX_US (INT64_C(946684800) * 1000000)
int64_t pg_time_now(void);

/* write() until done or a real error; retries EINTR. */
int write_all(int fd, const void *buf, size_t len) SQE_MUSTCHECK;
/* Wipe secrets so the compiler cannot drop the store. */
void secure_zero(void *p, size_t n);
/* Parses a whole decimal string into [min, max]. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out) SQE_MUSTCHECK;
/* Parses true/false/on/off/yes/no/1/0. */
int parse_bool(const char *s, bool *out) SQE_MUSTCHECK;
/* fsync() a directory; 0 or -1 with errno set. */
int fsync_dir(const char *dir);

/* Reads the text file path (at most max bytes, no NUL) into out, the read buffer wiped (it may
 * hold secrets). Returns 0, or -1 with "cannot open/read <what> "path": reason" in err. */
int read_text_file(const char *path, const char *what, size_t max, struct strbuf *out,
                   struct strbuf *err);
/* Directory part of path ("." when none), into a fresh string. */
char *path_dirname(const char *path);

#endif
