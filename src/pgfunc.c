/* SPDX-License-Identifier: MIT */
/* SQLite functions and collations with PostgreSQL's semantics over the stored forms (see
 * pgfunc.h). Errors raised here only make the statement go upstream, never reach a client. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <unicode/ucasemap.h>
#include <unicode/ucol.h>
#include <unicode/uloc.h>
#include <unicode/ustring.h>

#include "log.h"
#include "pgfunc.h"
#include "pgnum.h"
#include "pgtime.h"
#include "translate.h"
#include "util.h"

#define PGFUNC_ICU_PREFIX "pg_icu:"

static _Thread_local int64_t pgfunc_now_us;

void
pgfunc_set_now(int64_t unix_us)
{
	pgfunc_now_us = unix_us;
}

static bool pgfunc_text_args(sqlite3_context *ctx, int argc, sqlite3_value **argv);

static void
pgfunc_error(sqlite3_context *ctx, const char *what)
{
	sqlite3_result_error(ctx, what, -1);
}

/* The text of a numeric argument: its stored TEXT, or an integer's digits. NULL for SQL NULL
 * (*isnull) and for other kinds (an error is set). */
static const char *
pgfunc_num_arg(sqlite3_context *ctx, sqlite3_value *v, bool *isnull)
{
	*isnull = false;
	switch (sqlite3_value_type(v)) {
	case SQLITE_NULL:
		*isnull = true;
		return NULL;
	case SQLITE_INTEGER:
	case SQLITE_TEXT:
		return (const char *)sqlite3_value_text(v);
	default:
		pgfunc_error(ctx, "not a numeric value");
		return NULL;
	}
}

static void
pgfunc_result_strbuf(sqlite3_context *ctx, struct strbuf *sb)
{
	sqlite3_result_text(ctx, strbuf_str(sb), (int)sb->len, SQLITE_TRANSIENT);
}

/* pg_nadd(a, b) and the like: numeric arithmetic, NULL in NULL out. */
static void
pgfunc_numeric2(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int (*fn)(const char *, const char *, struct strbuf *) = sqlite3_user_data(ctx);
	const char *a, *b;
	struct strbuf out;
	bool na, nb;

	(void)argc;
	a = pgfunc_num_arg(ctx, argv[0], &na);
	b = pgfunc_num_arg(ctx, argv[1], &nb);
	if (na || nb) {
		sqlite3_result_null(ctx);
		return;
	}
	if (a == NULL || b == NULL)
		return;
	strbuf_init(&out);
	if (fn(a, b, &out) < 0)
		pgfunc_error(ctx, "numeric operation PostgreSQL rejects or that is left to it");
	else
		pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* pg_nround(a, s), pg_ntrunc(a, s) */
static void
pgfunc_numeric_scale(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int (*fn)(const char *, int, struct strbuf *) = sqlite3_user_data(ctx);
	const char *a;
	struct strbuf out;
	bool na;

	(void)argc;
	a = pgfunc_num_arg(ctx, argv[0], &na);
	if (na || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (a == NULL)
		return;
	if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER) {
		pgfunc_error(ctx, "scale is not an integer");
		return;
	}
	strbuf_init(&out);
	if (fn(a, (int)sqlite3_value_int64(argv[1]), &out) < 0)
		pgfunc_error(ctx, "numeric rounding failed");
	else
		pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* pg_nceil, pg_nfloor, pg_nsign of a numeric */
static void
pgfunc_numeric1(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int which = (int)(intptr_t)sqlite3_user_data(ctx); /* 0 ceil, 1 floor, 2 sign */
	struct strbuf tr, out;
	const char *a;
	bool na;
	int c, z;

	(void)argc;
	a = pgfunc_num_arg(ctx, argv[0], &na);
	if (na) {
		sqlite3_result_null(ctx);
		return;
	}
	if (a == NULL)
		return;
	if (strcmp(a, "NaN") == 0 || strchr(a, 'I') != NULL) {
		pgfunc_error(ctx, "numeric special value"); /* upstream's rules */
		return;
	}
	z = pgnum_cmp(a, strlen(a), "0", 1);
	if (which == 2) {
		sqlite3_result_text(ctx, z < 0 ? "-1" : z > 0 ? "1" : "0", -1, SQLITE_STATIC);
		return;
	}
	strbuf_init(&tr);
	strbuf_init(&out);
	if (pgnum_trunc(a, 0, &tr) < 0) {
		pgfunc_error(ctx, "numeric ceil/floor");
		goto out;
	}
	c = pgnum_cmp(strbuf_str(&tr), tr.len, a, strlen(a));
	if (c == 0 || (which == 0 && z < 0) || (which == 1 && z > 0))
		pgfunc_result_strbuf(ctx, &tr);
	else if (pgnum_add(strbuf_str(&tr), which == 0 ? "1" : "-1", &out) < 0)
		pgfunc_error(ctx, "numeric ceil/floor");
	else
		pgfunc_result_strbuf(ctx, &out);
out:
	strbuf_free(&tr);
	strbuf_free(&out);
}

/* A float8 as stored (REAL, or TEXT for NaN and the infinities; an integer from a cast) as a
 * double; false (error set) for anything else. */
static bool
pgfunc_float_arg(sqlite3_context *ctx, sqlite3_value *v, double *out)
{
	const char *t;

	switch (sqlite3_value_type(v)) {
	case SQLITE_FLOAT:
	case SQLITE_INTEGER:
		*out = sqlite3_value_double(v);
		return true;
	case SQLITE_BLOB: /* the copy keeps -0 as the BLOB "-0" */
		if (sqlite3_value_bytes(v) == 2 && memcmp(sqlite3_value_blob(v), "-0", 2) == 0) {
			*out = -0.0;
			return true;
		}
		break;
	case SQLITE_TEXT:
		t = (const char *)sqlite3_value_text(v);
		if (strcmp(t, "NaN") == 0)
			*out = NAN;
		else if (strcmp(t, "Infinity") == 0)
			*out = INFINITY;
		else if (strcmp(t, "-Infinity") == 0)
			*out = -INFINITY;
		else
			break;
		return true;
	default:
		break;
	}
	pgfunc_error(ctx, "not a float8 value");
	return false;
}

/* float8_cmp: NaN = NaN, NaN above all else, -0 = 0 */
static int
pgfunc_float_cmp(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : 1;
	if (isnan(b))
		return -1;
	return a < b ? -1 : a > b ? 1 : 0;
}

static void
pgfunc_fcmp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	double a, b;

	if (!pgfunc_text_args(ctx, argc, argv) || !pgfunc_float_arg(ctx, argv[0], &a) ||
	    !pgfunc_float_arg(ctx, argv[1], &b))
		return;
	sqlite3_result_int(ctx, pgfunc_float_cmp(a, b));
}

/* A BLOB whose byte order is float8_cmp's order (for ORDER BY). */
static void
pgfunc_fkey(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	unsigned char key[8];
	uint64_t bits;
	double d;
	int i;

	if (!pgfunc_text_args(ctx, argc, argv) || !pgfunc_float_arg(ctx, argv[0], &d))
		return;
	if (isnan(d)) {
		bits = UINT64_MAX;
	} else {
		if (d == 0)
			d = 0; /* -0 sorts with 0 */
		memcpy(&bits, &d, sizeof(bits));
		bits = (bits >> 63) ? ~bits : bits | (UINT64_C(1) << 63);
	}
	for (i = 7; i >= 0; i--, bits >>= 8)
		key[i] = (unsigned char)(bits & 0xff);
	sqlite3_result_blob(ctx, key, sizeof(key), SQLITE_TRANSIENT);
}

/* float8in of a text (a literal, a parameter, a numeric's text): REAL, or the TEXT that
 * stands for NaN and the infinities. */
static void
pgfunc_text_float(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct strbuf v;
	char *end;
	double d;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	strbuf_init(&v);
	if (translate_parse_float((const char *)sqlite3_value_text(argv[0]),
	                          (size_t)sqlite3_value_bytes(argv[0]), &v) < 0) {
		pgfunc_error(ctx, "invalid input syntax for type double precision");
	} else if (strcmp(strbuf_str(&v), "NaN") == 0 || strcmp(strbuf_str(&v), "Infinity") == 0 ||
	           strcmp(strbuf_str(&v), "-Infinity") == 0) {
		pgfunc_result_strbuf(ctx, &v);
	} else {
		d = strtod(strbuf_str(&v), &end);
		sqlite3_result_double(ctx, d);
	}
	strbuf_free(&v);
}

/* pg_array_json(stored array text, array type): a JSON array of its elements' stored
 * forms (for json_each()); an array of another shape (dimensions, bounds) fails. */
static void
pgfunc_array_json(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sqlshape_lit v;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (translate_input((uint32_t)sqlite3_value_int64(argv[1]),
	                    (const char *)sqlite3_value_text(argv[0]),
	                    (size_t)sqlite3_value_bytes(argv[0]), &v) < 0 ||
	    v.kind != SQLSHAPE_STR) {
		pgfunc_error(ctx, "array of another shape");
		return;
	}
	sqlite3_result_text(ctx, v.s, -1, free);
}

static void
pgfunc_md5(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int i;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	if (!EVP_Digest(sqlite3_value_text(argv[0]), (size_t)sqlite3_value_bytes(argv[0]), d, &dlen,
	                EVP_md5(), NULL)) {
		pgfunc_error(ctx, "md5");
		return;
	}
	for (i = 0; i < dlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	sqlite3_result_text(ctx, hex, (int)(2 * dlen), SQLITE_TRANSIENT);
}

static void
pgfunc_num_typmod(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *a;
	struct strbuf out;
	bool na;

	(void)argc;
	a = pgfunc_num_arg(ctx, argv[0], &na);
	if (na) {
		sqlite3_result_null(ctx);
		return;
	}
	if (a == NULL)
		return;
	strbuf_init(&out);
	if (pgnum_typmod(a, sqlite3_value_int(argv[1]), sqlite3_value_int(argv[2]), &out) < 0)
		pgfunc_error(ctx, "numeric field overflow");
	else
		pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

static void
pgfunc_nabs(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *a;
	bool na;

	(void)argc;
	a = pgfunc_num_arg(ctx, argv[0], &na);
	if (na) {
		sqlite3_result_null(ctx);
		return;
	}
	if (a == NULL)
		return;
	sqlite3_result_text(ctx, a[0] == '-' ? a + 1 : a, -1, SQLITE_TRANSIENT);
}

static const uint32_t pgfunc_int_types[] = {0, PGV_OID_INT2, PGV_OID_INT4, PGV_OID_INT8};

static bool
pgfunc_int_fits(int64_t v, int rank)
{
	return rank == 3 || (rank == 2 && v >= INT32_MIN && v <= INT32_MAX) ||
	       (rank == 1 && v >= INT16_MIN && v <= INT16_MAX);
}

/* pg_i2/pg_i4/pg_i8(x): an integer result of PostgreSQL's width, or the overflow error
 * PostgreSQL raises (SQLite turns an int64 overflow into a REAL). */
static void
pgfunc_int_check(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int rank = (int)(intptr_t)sqlite3_user_data(ctx);
	int64_t v;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER) {
		pgfunc_error(ctx, "integer out of range");
		return;
	}
	v = sqlite3_value_int64(argv[0]);
	if (!pgfunc_int_fits(v, rank))
		pgfunc_error(ctx, "integer out of range");
	else
		sqlite3_result_int64(ctx, v);
}

/* pg_idiv(a, b, rank), pg_imod(a, b, rank): truncating, and failing on zero as PostgreSQL. */
static void
pgfunc_int_divmod(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	bool mod = sqlite3_user_data(ctx) != NULL;
	int rank = sqlite3_value_int(argv[2]);
	int64_t a, b;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER ||
	    sqlite3_value_type(argv[1]) != SQLITE_INTEGER) {
		pgfunc_error(ctx, "not an integer");
		return;
	}
	a = sqlite3_value_int64(argv[0]);
	b = sqlite3_value_int64(argv[1]);
	if (b == 0) {
		pgfunc_error(ctx, "division by zero");
		return;
	}
	if (b == -1) {
		/* INT_MIN / -1 overflows; INT_MIN % -1 is 0 */
		if (mod) {
			sqlite3_result_int64(ctx, 0);
		} else if (a == INT64_MIN || !pgfunc_int_fits(-a, rank)) {
			pgfunc_error(ctx, "integer out of range");
		} else {
			sqlite3_result_int64(ctx, -a);
		}
		return;
	}
	sqlite3_result_int64(ctx, mod ? a % b : a / b);
}

/* pg_num_int(numeric, rank): numeric_int2/4/8, rounding half away from zero. */
static void
pgfunc_num_int(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int rank = sqlite3_value_int(argv[1]);
	struct strbuf r;
	const char *a;
	int64_t v;
	bool na;

	(void)argc;
	a = pgfunc_num_arg(ctx, argv[0], &na);
	if (na) {
		sqlite3_result_null(ctx);
		return;
	}
	if (a == NULL)
		return;
	strbuf_init(&r);
	if (rank < 1 || rank > 3 || pgnum_round(a, 0, &r) < 0 ||
	    translate_parse_int(r.data, r.len, pgfunc_int_types[rank], &v) < 0)
		pgfunc_error(ctx, "integer out of range");
	else
		sqlite3_result_int64(ctx, v);
	strbuf_free(&r);
}

/* pg_text_int(text, rank), pg_text_num(text): the input functions. */
static void
pgfunc_text_int(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int rank = sqlite3_value_int(argv[1]);
	int64_t v;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (rank < 1 || rank > 3 ||
	    translate_parse_int((const char *)sqlite3_value_text(argv[0]),
	                        (size_t)sqlite3_value_bytes(argv[0]), pgfunc_int_types[rank],
	                        &v) < 0)
		pgfunc_error(ctx, "invalid input syntax for type integer");
	else
		sqlite3_result_int64(ctx, v);
}

static void
pgfunc_text_bool(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t v;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (translate_parse_bool((const char *)sqlite3_value_text(argv[0]),
	                         (size_t)sqlite3_value_bytes(argv[0]), &v) < 0)
		pgfunc_error(ctx, "invalid input syntax for type boolean");
	else
		sqlite3_result_int64(ctx, v);
}

static void
pgfunc_text_num(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct strbuf r;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	strbuf_init(&r);
	if (pgnum_in((const char *)sqlite3_value_text(argv[0]),
	             (size_t)sqlite3_value_bytes(argv[0]), &r) < 0)
		pgfunc_error(ctx, "invalid input syntax for type numeric");
	else
		pgfunc_result_strbuf(ctx, &r);
	strbuf_free(&r);
}

/* sum(numeric) and avg(integer or numeric): exact, as numeric_sum / numeric_avg. */
struct pgfunc_agg {
	struct strbuf sum;
	int64_t count;
	bool failed;
};

static void
pgfunc_agg_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct pgfunc_agg *st = sqlite3_aggregate_context(ctx, sizeof(*st));
	struct strbuf next;
	const char *v;
	bool isnull;

	(void)argc;
	if (st == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (st->failed)
		return;
	v = pgfunc_num_arg(ctx, argv[0], &isnull);
	if (isnull)
		return;
	if (v == NULL) {
		st->failed = true;
		return;
	}
	if (st->count == 0) {
		strbuf_init(&st->sum);
		strbuf_puts(&st->sum, v);
		/* an integer's text is already numeric_out's; a stored numeric is too */
		st->count = 1;
		return;
	}
	strbuf_init(&next);
	if (pgnum_add(strbuf_str(&st->sum), v, &next) < 0) {
		st->failed = true;
		strbuf_free(&next);
		return;
	}
	strbuf_free(&st->sum);
	st->sum = next;
	st->count++;
}

/* The current result (a window's, or the final one). */
static void
pgfunc_agg_value(sqlite3_context *ctx)
{
	struct pgfunc_agg *st = sqlite3_aggregate_context(ctx, 0);
	bool avg = sqlite3_user_data(ctx) != NULL;
	struct strbuf out;
	char count[32];

	if (st == NULL || st->count == 0 || st->failed) {
		if (st && st->failed)
			pgfunc_error(ctx, "numeric aggregate of a value it cannot take");
		else
			sqlite3_result_null(ctx);
		return;
	}
	strbuf_init(&out);
	if (!avg) {
		/* "007"-like text cannot be stored; normalise through numeric_in anyway */
		if (pgnum_add(strbuf_str(&st->sum), "0", &out) < 0)
			pgfunc_error(ctx, "numeric sum failed");
		else
			pgfunc_result_strbuf(ctx, &out);
	} else {
		snprintf(count, sizeof(count), "%" PRId64, st->count);
		if (pgnum_div(strbuf_str(&st->sum), count, &out) < 0)
			pgfunc_error(ctx, "numeric average failed");
		else
			pgfunc_result_strbuf(ctx, &out);
	}
	strbuf_free(&out);
}

static void
pgfunc_agg_final(sqlite3_context *ctx)
{
	struct pgfunc_agg *st = sqlite3_aggregate_context(ctx, 0);

	pgfunc_agg_value(ctx);
	if (st && st->count > 0)
		strbuf_free(&st->sum);
}

/* Rows leaving a moving frame: only default frames (which never shrink) are translated. */
static void
pgfunc_agg_inverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	pgfunc_error(ctx, "moving window frame");
}

/* UTF-8 helpers: the byte length of the character at p, at most n. */
static size_t
pgfunc_utf8_len(const unsigned char *p, size_t n)
{
	size_t l = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;

	return l > n ? n : l;
}

/* The byte offset of character number k (0-based) of s, or len. */
static size_t
pgfunc_utf8_offset(const unsigned char *s, size_t len, int64_t k)
{
	size_t off = 0;

	while (k-- > 0 && off < len)
		off += pgfunc_utf8_len(s + off, len - off);
	return off;
}

static int64_t
pgfunc_utf8_count(const unsigned char *s, size_t len)
{
	int64_t n = 0;
	size_t off = 0;

	while (off < len) {
		off += pgfunc_utf8_len(s + off, len - off);
		n++;
	}
	return n;
}

static bool
pgfunc_text_args(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
			sqlite3_result_null(ctx);
			return false;
		}
	}
	return true;
}

/* pg_substr(s, start[, count]): text_substr on characters. */
static void
pgfunc_substr(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *s;
	size_t len, b, e;
	int64_t start, count, end;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	s = sqlite3_value_text(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	start = sqlite3_value_int64(argv[1]);
	if (argc == 3) {
		count = sqlite3_value_int64(argv[2]);
		if (count < 0) {
			pgfunc_error(ctx, "negative substring length not allowed");
			return;
		}
		end = start > INT64_MAX - count ? INT64_MAX : start + count; /* exclusive */
	} else {
		end = INT64_MAX;
	}
	if (start < 1)
		start = 1;
	if (end <= start) {
		sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
		return;
	}
	b = pgfunc_utf8_offset(s, len, start - 1);
	e = end == INT64_MAX ? len : b + pgfunc_utf8_offset(s + b, len - b, end - start);
	sqlite3_result_text(ctx, (const char *)s + b, (int)(e - b), SQLITE_TRANSIENT);
}

/* pg_left(s, n), pg_right(s, n): negative n counts from the other end. */
static void
pgfunc_left_right(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	bool right = sqlite3_user_data(ctx) != NULL;
	const unsigned char *s;
	size_t len, cut;
	int64_t n, chars;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	s = sqlite3_value_text(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	n = sqlite3_value_int64(argv[1]);
	chars = pgfunc_utf8_count(s, len);
	if (n < 0)
		n = n < -chars ? 0 : chars + n;
	if (n > chars)
		n = chars;
	if (!right) {
		cut = pgfunc_utf8_offset(s, len, n);
		sqlite3_result_text(ctx, (const char *)s, (int)cut, SQLITE_TRANSIENT);
	} else {
		cut = pgfunc_utf8_offset(s, len, chars - n);
		sqlite3_result_text(ctx, (const char *)s + cut, (int)(len - cut), SQLITE_TRANSIENT);
	}
}

static void
pgfunc_strpos(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *s, *sub, *hit;
	size_t len, sublen;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	s = sqlite3_value_text(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	sub = sqlite3_value_text(argv[1]);
	sublen = (size_t)sqlite3_value_bytes(argv[1]);
	if (sublen == 0) {
		sqlite3_result_int64(ctx, 1);
		return;
	}
	hit = memmem(s, len, sub, sublen);
	sqlite3_result_int64(ctx, hit ? pgfunc_utf8_count(s, (size_t)(hit - s)) + 1 : 0);
}

/* split_part(s, delim, n) of PostgreSQL 15 (negative n counts from the end). */
static void
pgfunc_split_part(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *s, *d, *p, *hit, *starts[1024];
	size_t len, dlen;
	int64_t n, nparts = 0, want;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	s = (const char *)sqlite3_value_text(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	d = (const char *)sqlite3_value_text(argv[1]);
	dlen = (size_t)sqlite3_value_bytes(argv[1]);
	n = sqlite3_value_int64(argv[2]);
	if (n == 0) {
		pgfunc_error(ctx, "field position must not be zero");
		return;
	}
	if (len == 0) {
		sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
		return;
	}
	if (dlen == 0) {
		if (n == 1 || n == -1)
			sqlite3_result_text(ctx, s, (int)len, SQLITE_TRANSIENT);
		else
			sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
		return;
	}
	p = s;
	starts[nparts++] = p;
	while ((hit = memmem(p, len - (size_t)(p - s), d, dlen)) != NULL) {
		if (nparts == (int64_t)ARRAY_SIZE(starts)) {
			pgfunc_error(ctx, "too many fields");
			return;
		}
		p = hit + dlen;
		starts[nparts++] = p;
	}
	want = n > 0 ? n - 1 : nparts + n;
	if (want < 0 || want >= nparts) {
		sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
		return;
	}
	p = starts[want];
	hit = want + 1 < nparts ? starts[want + 1] - dlen : s + len;
	sqlite3_result_text(ctx, p, (int)(hit - p), SQLITE_TRANSIENT);
}

static void
pgfunc_reverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *s;
	size_t len, off = 0, l;
	char *out;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	s = sqlite3_value_text(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	out = xmalloc(len + 1);
	while (off < len) {
		l = pgfunc_utf8_len(s + off, len - off);
		memcpy(out + len - off - l, s + off, l);
		off += l;
	}
	sqlite3_result_text(ctx, out, (int)len, free);
}

#define PGFUNC_MAX_TEXT (64 * 1024 * 1024) /* longer results: upstream (and its limits) */

static void
pgfunc_repeat(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	size_t len = (size_t)sqlite3_value_bytes(argv[0]);
	int64_t n;
	struct strbuf out;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	n = sqlite3_value_int64(argv[1]);
	if (n < 0)
		n = 0;
	if (len > 0 && (uint64_t)n > PGFUNC_MAX_TEXT / len) {
		pgfunc_error(ctx, "repeat() result too long");
		return;
	}
	strbuf_init(&out);
	while (n-- > 0)
		strbuf_append(&out, sqlite3_value_text(argv[0]), len);
	pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* lpad(s, n, fill) / rpad: to n characters, cut or filled (no fill: cut only). */
static void
pgfunc_pad(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	bool right = sqlite3_user_data(ctx) != NULL;
	const unsigned char *s, *f;
	size_t len, flen, cut, off = 0;
	int64_t n, chars, need;
	struct strbuf out;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	s = sqlite3_value_text(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	n = sqlite3_value_int64(argv[1]);
	f = sqlite3_value_text(argv[2]);
	flen = (size_t)sqlite3_value_bytes(argv[2]);
	if (n < 0)
		n = 0;
	if (n > PGFUNC_MAX_TEXT / 4) {
		pgfunc_error(ctx, "requested length too large");
		return;
	}
	chars = pgfunc_utf8_count(s, len);
	strbuf_init(&out);
	if (chars >= n || flen == 0) {
		cut = pgfunc_utf8_offset(s, len, chars >= n ? n : chars);
		strbuf_append(&out, s, cut);
	} else {
		need = n - chars;
		if (right)
			strbuf_append(&out, s, len);
		while (need-- > 0) {
			size_t l = pgfunc_utf8_len(f + off, flen - off);

			strbuf_append(&out, f + off, l);
			off += l;
			if (off >= flen)
				off = 0;
		}
		if (!right)
			strbuf_append(&out, s, len);
	}
	pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* concat_ws(sep, ...): the values that are not NULL, sep between them; NULL sep: NULL. */
static void
pgfunc_concat_ws(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct strbuf out;
	bool first = true;
	int i;

	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	strbuf_init(&out);
	for (i = 1; i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			continue;
		if (!first)
			strbuf_append(&out, sqlite3_value_text(argv[0]),
			              (size_t)sqlite3_value_bytes(argv[0]));
		strbuf_append(&out, sqlite3_value_text(argv[i]),
		              (size_t)sqlite3_value_bytes(argv[i]));
		first = false;
	}
	pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* The ICU case map of locale, opened once per thread (and again when the locale changes): a
 * statement folds every row with it. NULL when ICU cannot open one. */
static UCaseMap *
pgfunc_casemap(const char *locale)
{
	static _Thread_local UCaseMap *map;
	static _Thread_local char *map_locale;
	UErrorCode err = U_ZERO_ERROR;

	if (map != NULL && strcmp(map_locale, locale) == 0)
		return map;
	if (map != NULL)
		ucasemap_close(map);
	free(map_locale);
	map_locale = NULL;
	map = ucasemap_open(locale, 0, &err);
	if (U_FAILURE(err)) {
		map = NULL;
		return NULL;
	}
	map_locale = xstrdup(locale);
	return map;
}

static int32_t
pgfunc_casemap_run(UCaseMap *map, bool upper, char *out, int32_t cap, const char *s, int32_t len,
                   UErrorCode *err)
{
	return upper ? ucasemap_utf8ToUpper(map, out, cap, s, len, err)
	             : ucasemap_utf8ToLower(map, out, cap, s, len, err);
}

/* Case folding: with an ICU locale as PostgreSQL's ICU provider folds, else ASCII only (a
 * value with other bytes fails: its folding depends on the server's locale). Returns a
 * malloc'ed string or NULL with an error set. */
static char *
pgfunc_fold(sqlite3_context *ctx, const char *s, size_t len, const char *locale, bool upper)
{
	UErrorCode err = U_ZERO_ERROR;
	UCaseMap *map;
	char *out;
	int32_t n, cap;
	size_t i;

	if (locale == NULL || locale[0] == '\0') {
		out = xmalloc(len + 1);
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c >= 0x80) {
				free(out);
				pgfunc_error(ctx, "case folding beyond ASCII");
				return NULL;
			}
			out[i] = (char)(upper ? (c >= 'a' && c <= 'z' ? c - 32 : c)
			                      : (c >= 'A' && c <= 'Z' ? c + 32 : c));
		}
		out[len] = '\0';
		return out;
	}
	map = pgfunc_casemap(locale);
	if (map == NULL) {
		pgfunc_error(ctx, "ICU case map");
		return NULL;
	}
	/* most foldings keep the length: one call, and a second only when it grows */
	cap = (int32_t)len + 1;
	out = xmalloc((size_t)cap);
	n = pgfunc_casemap_run(map, upper, out, cap, s, (int32_t)len, &err);
	if (err == U_BUFFER_OVERFLOW_ERROR || (U_SUCCESS(err) && n >= cap)) {
		free(out);
		err = U_ZERO_ERROR;
		cap = n + 1;
		out = xmalloc((size_t)cap);
		n = pgfunc_casemap_run(map, upper, out, cap, s, (int32_t)len, &err);
	}
	if (U_FAILURE(err) || n >= cap) {
		free(out);
		pgfunc_error(ctx, "ICU case folding");
		return NULL;
	}
	out[n] = '\0';
	return out;
}

static void
pgfunc_case(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	bool upper = sqlite3_user_data(ctx) != NULL;
	char *out;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	out = pgfunc_fold(ctx, (const char *)sqlite3_value_text(argv[0]),
	                  (size_t)sqlite3_value_bytes(argv[0]),
	                  (const char *)sqlite3_value_text(argv[1]), upper);
	if (out)
		sqlite3_result_text(ctx, out, -1, free);
}

/* MB_MatchText of PostgreSQL's like_match.c: '%' any run, '_' one character, '\' escapes. */
static int
pgfunc_like_match(const unsigned char *t, size_t tlen, const unsigned char *p, size_t plen)
{
	while (plen > 0) {
		if (*p == '\\') {
			size_t l;

			if (plen < 2)
				return -1; /* PostgreSQL: LIKE pattern must not end with escape
				              character */
			p++, plen--;
			l = pgfunc_utf8_len(p, plen);
			if (tlen < l || memcmp(t, p, l) != 0)
				return 0;
			t += l, tlen -= l, p += l, plen -= l;
		} else if (*p == '%') {
			int r;

			while (plen > 0 && (*p == '%' || *p == '_')) {
				if (*p == '_') {
					size_t l;

					if (tlen == 0)
						return 0;
					l = pgfunc_utf8_len(t, tlen);
					t += l, tlen -= l;
				}
				p++, plen--;
			}
			if (plen == 0)
				return 1;
			for (;;) {
				r = pgfunc_like_match(t, tlen, p, plen);
				if (r != 0)
					return r;
				if (tlen == 0)
					return 0;
				{
					size_t l = pgfunc_utf8_len(t, tlen);

					t += l, tlen -= l;
				}
			}
		} else if (*p == '_') {
			size_t l;

			if (tlen == 0)
				return 0;
			l = pgfunc_utf8_len(t, tlen);
			t += l, tlen -= l;
			p++, plen--;
		} else {
			size_t l = pgfunc_utf8_len(p, plen);

			if (tlen < l || memcmp(t, p, l) != 0)
				return 0;
			t += l, tlen -= l, p += l, plen -= l;
		}
	}
	return tlen == 0;
}

/* pg_like(s, pattern) and pg_like(s, pattern, locale) for ILIKE (both folded to lower case
 * first, as PostgreSQL does for multibyte encodings). */
static void
pgfunc_like(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char *s = NULL, *p = NULL;
	int r;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	if (argc == 3) {
		const char *loc = (const char *)sqlite3_value_text(argv[2]);

		s = pgfunc_fold(ctx, (const char *)sqlite3_value_text(argv[0]),
		                (size_t)sqlite3_value_bytes(argv[0]), loc, false);
		p = s ? pgfunc_fold(ctx, (const char *)sqlite3_value_text(argv[1]),
		                    (size_t)sqlite3_value_bytes(argv[1]), loc, false)
		      : NULL;
		if (p == NULL) {
			free(s);
			return;
		}
		r = pgfunc_like_match((const unsigned char *)s, strlen(s), (const unsigned char *)p,
		                      strlen(p));
	} else {
		r = pgfunc_like_match(
		        sqlite3_value_text(argv[0]), (size_t)sqlite3_value_bytes(argv[0]),
		        sqlite3_value_text(argv[1]), (size_t)sqlite3_value_bytes(argv[1]));
	}
	free(s);
	free(p);
	if (r < 0)
		pgfunc_error(ctx, "LIKE pattern must not end with escape character");
	else
		sqlite3_result_int(ctx, r);
}

static bool
pgfunc_time_type(sqlite3_context *ctx, sqlite3_value *v, enum pgtime_type *out)
{
	int t = sqlite3_value_int(v);

	if (t != PGTIME_DATE && t != PGTIME_TIMESTAMP && t != PGTIME_TIMESTAMPTZ) {
		pgfunc_error(ctx, "time type");
		return false;
	}
	*out = (enum pgtime_type)t;
	return true;
}

/* pg_ts_add(type, ts, months, days, usecs, sign) */
static void
pgfunc_ts_add(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct pgtime_interval iv;
	enum pgtime_type type;
	struct strbuf out;

	if (!pgfunc_text_args(ctx, argc, argv) || !pgfunc_time_type(ctx, argv[0], &type))
		return;
	iv.months = sqlite3_value_int(argv[2]);
	iv.days = sqlite3_value_int(argv[3]);
	iv.usecs = sqlite3_value_int64(argv[4]);
	strbuf_init(&out);
	if (pgtime_add_interval(type, (const char *)sqlite3_value_text(argv[1]), &iv,
	                        sqlite3_value_int(argv[5]), &out) < 0)
		pgfunc_error(ctx, "timestamp out of range");
	else
		pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* pg_date_add(date, days): date + integer */
static void
pgfunc_date_add(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct pgtime_interval iv = {0, 0, 0};
	struct strbuf ts, out;
	int64_t days;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	days = sqlite3_value_int64(argv[1]);
	if (days < INT32_MIN || days > INT32_MAX) {
		pgfunc_error(ctx, "date out of range");
		return;
	}
	iv.days = (int32_t)days;
	strbuf_init(&ts);
	strbuf_init(&out);
	if (pgtime_add_interval(PGTIME_DATE, (const char *)sqlite3_value_text(argv[0]), &iv, 1,
	                        &ts) < 0 ||
	    pgtime_cast(PGTIME_TIMESTAMP, PGTIME_DATE, strbuf_str(&ts), &out) < 0)
		pgfunc_error(ctx, "date out of range");
	else
		pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&ts);
	strbuf_free(&out);
}

/* pg_date_diff(a, b): date - date, in days */
static void
pgfunc_date_diff(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t days;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	if (pgtime_date_diff((const char *)sqlite3_value_text(argv[0]),
	                     (const char *)sqlite3_value_text(argv[1]), &days) < 0 ||
	    days < INT32_MIN || days > INT32_MAX)
		pgfunc_error(ctx, "cannot subtract infinite dates");
	else
		sqlite3_result_int64(ctx, days);
}

/* pg_ts_cast(from, to, x) */
static void
pgfunc_ts_cast(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	enum pgtime_type from, to;
	struct strbuf out;

	if (!pgfunc_text_args(ctx, argc, argv) || !pgfunc_time_type(ctx, argv[0], &from) ||
	    !pgfunc_time_type(ctx, argv[1], &to))
		return;
	strbuf_init(&out);
	if (pgtime_cast(from, to, (const char *)sqlite3_value_text(argv[2]), &out) < 0)
		pgfunc_error(ctx, "date or time cast");
	else
		pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* pg_date_trunc(field, type, ts), pg_extract(field, type, x) */
static void
pgfunc_ts_field(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	bool extract = sqlite3_user_data(ctx) != NULL;
	enum pgtime_type type;
	struct strbuf out;
	int rc;

	if (!pgfunc_text_args(ctx, argc, argv) || !pgfunc_time_type(ctx, argv[1], &type))
		return;
	strbuf_init(&out);
	rc = extract ? pgtime_extract((const char *)sqlite3_value_text(argv[0]), type,
	                              (const char *)sqlite3_value_text(argv[2]), &out)
	             : pgtime_date_trunc((const char *)sqlite3_value_text(argv[0]), type,
	                                 (const char *)sqlite3_value_text(argv[2]), &out);
	if (rc < 0)
		pgfunc_error(ctx, "date or time field");
	else if (rc == 1)
		sqlite3_result_null(ctx);
	else
		pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* pg_now(type[, precision]): the statement's moment (rounded to precision fractional
 * digits as a typmod rounds) */
static void
pgfunc_now(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	enum pgtime_type type;
	struct strbuf out;
	int64_t us = pgfunc_now_us, scale = 1;
	int p;

	if (!pgfunc_time_type(ctx, argv[0], &type))
		return;
	if (us <= 0) {
		pgfunc_error(ctx, "no statement time");
		return;
	}
	if (argc == 2) {
		for (p = sqlite3_value_int(argv[1]); p < 6; p++)
			scale *= 10;
		us = (us + scale / 2) / scale * scale;
	}
	strbuf_init(&out);
	pgtime_from_unix_us(type, us, &out);
	pgfunc_result_strbuf(ctx, &out);
	strbuf_free(&out);
}

/* p past JSON's blanks. */
static const char *
pgfunc_json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A minimal JSON scanner over jsonb's output text (valid JSON by construction; anything
 * else fails). Returns the end of the value starting at p (after blanks), or NULL. */
static const char *
pgfunc_json_skip(const char *p, const char *end, int depth)
{
	p = pgfunc_json_ws(p, end);
	if (p == end || depth > 64)
		return NULL;
	if (*p == '"') {
		for (p++; p < end && *p != '"'; p++)
			if (*p == '\\')
				p++;
		return p < end ? p + 1 : NULL;
	}
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p++;
		for (;;) {
			p = pgfunc_json_ws(p, end);
			if (p < end && *p == close)
				return p + 1;
			if (close == '}') {
				if ((p = pgfunc_json_skip(p, end, depth + 1)) == NULL)
					return NULL;
				while (p < end && *p == ' ')
					p++;
				if (p == end || *p++ != ':')
					return NULL;
			}
			if ((p = pgfunc_json_skip(p, end, depth + 1)) == NULL)
				return NULL;
			p = pgfunc_json_ws(p, end);
			if (p < end && *p == ',')
				p++;
			else if (p < end && *p == close)
				return p + 1;
			else
				return NULL;
		}
	}
	while (p < end && !strchr(",:]} \n\t\r", *p))
		p++;
	return p;
}

/* A JSON string's text (p at the opening quote, q after the closing one), unescaped. */
static int
pgfunc_json_unescape(const char *p, const char *q, struct strbuf *out)
{
	for (p++, q--; p < q; p++) {
		unsigned cp;

		if (*p != '\\') {
			strbuf_putc(out, *p);
			continue;
		}
		if (++p == q)
			return -1;
		switch (*p) {
		case 'b':
			strbuf_putc(out, '\b');
			break;
		case 'f':
			strbuf_putc(out, '\f');
			break;
		case 'n':
			strbuf_putc(out, '\n');
			break;
		case 'r':
			strbuf_putc(out, '\r');
			break;
		case 't':
			strbuf_putc(out, '\t');
			break;
		case 'u':
			if (q - p < 5 || sscanf(p + 1, "%4x", &cp) != 1)
				return -1;
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				unsigned lo;

				if (q - p < 7 || p[1] != '\\' || p[2] != 'u' ||
				    sscanf(p + 3, "%4x", &lo) != 1 || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if ((cp >= 0xdc00 && cp < 0xe000) || cp == 0) {
				return -1;
			}
			if (cp < 0x80) {
				strbuf_putc(out, (char)cp);
			} else if (cp < 0x800) {
				strbuf_putc(out, (char)(0xc0 | cp >> 6));
				strbuf_putc(out, (char)(0x80 | (cp & 0x3f)));
			} else if (cp < 0x10000) {
				strbuf_putc(out, (char)(0xe0 | cp >> 12));
				strbuf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
				strbuf_putc(out, (char)(0x80 | (cp & 0x3f)));
			} else {
				strbuf_putc(out, (char)(0xf0 | cp >> 18));
				strbuf_putc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
				strbuf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
				strbuf_putc(out, (char)(0x80 | (cp & 0x3f)));
			}
			break;
		default:
			strbuf_putc(out, *p);
			break;
		}
	}
	return 0;
}

/* pg_jsonb_get(doc, key or index, astext[, json]): jsonb -> and ->>, and json's (which keep
 * the text as written, duplicate keys and all). */
static void
pgfunc_jsonb_get(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *doc, *end, *p, *v = NULL, *vend = NULL;
	bool astext = sqlite3_value_int(argv[2]) != 0, by_index;
	bool json = argc > 3 && sqlite3_value_int(argv[3]) != 0; /* json: its text as written */
	const char *found = NULL, *found_end = NULL;
	struct strbuf key;
	int64_t index = 0, n = 0;

	if (!pgfunc_text_args(ctx, argc, argv))
		return;
	doc = (const char *)sqlite3_value_text(argv[0]);
	end = doc + sqlite3_value_bytes(argv[0]);
	by_index = sqlite3_value_type(argv[1]) == SQLITE_INTEGER;
	if (by_index)
		index = sqlite3_value_int64(argv[1]);
	p = doc;
	p = pgfunc_json_ws(p, end);
	if (by_index && !json && p < end && *p != '[' && *p != '{') {
		/* a scalar document is a one-element array to jsonb: [0] and [-1] are it */
		strbuf_init(&key);
		v = p;
		vend = pgfunc_json_skip(p, end, 1);
		if (vend == NULL)
			goto malformed;
		if (index != 0 && index != -1)
			sqlite3_result_null(ctx);
		else if (astext && *v == '"') {
			if (pgfunc_json_unescape(v, vend, &key) < 0)
				goto malformed;
			pgfunc_result_strbuf(ctx, &key);
		} else if (astext && vend - v == 4 && memcmp(v, "null", 4) == 0)
			sqlite3_result_null(ctx);
		else
			sqlite3_result_text(ctx, v, (int)(vend - v), SQLITE_TRANSIENT);
		strbuf_free(&key);
		return;
	}
	if (p == end || *p != (by_index ? '[' : '{')) {
		sqlite3_result_null(ctx); /* not an array or object: NULL, as PostgreSQL */
		return;
	}
	if (by_index && index < 0) {
		/* counts from the end */
		const char *q = p + 1;
		int64_t count = 0;

		while (q && q < end) {
			q = pgfunc_json_ws(q, end);
			if (q < end && *q == ']')
				break;
			if ((q = pgfunc_json_skip(q, end, 1)) == NULL)
				break;
			count++;
			q = pgfunc_json_ws(q, end);
			if (q < end && *q == ',')
				q++;
		}
		if (q == NULL) {
			pgfunc_error(ctx, "malformed jsonb");
			return;
		}
		index += count;
		if (index < 0) {
			sqlite3_result_null(ctx);
			return;
		}
	}
	strbuf_init(&key);
	p++;
	for (;;) {
		const char *k = NULL, *kend = NULL;

		p = pgfunc_json_ws(p, end);
		if (p < end && (*p == ']' || *p == '}'))
			break;
		if (!by_index) {
			k = p;
			if ((kend = p = pgfunc_json_skip(p, end, 1)) == NULL || *k != '"')
				goto malformed;
			p = pgfunc_json_ws(p, end);
			if (p == end || *p++ != ':')
				goto malformed;
			p = pgfunc_json_ws(p, end);
		}
		v = p;
		if ((vend = p = pgfunc_json_skip(p, end, 1)) == NULL)
			goto malformed;
		if (by_index ? n == index : true) {
			if (by_index)
				break;
			strbuf_reset(&key);
			if (pgfunc_json_unescape(k, kend, &key) < 0)
				goto malformed;
			if (key.len == (size_t)sqlite3_value_bytes(argv[1]) &&
			    memcmp(strbuf_str(&key), sqlite3_value_text(argv[1]), key.len) == 0) {
				if (!json)
					break;
				/* json keeps duplicate keys: the last one is the value */
				found = v;
				found_end = vend;
			}
		}
		v = NULL;
		n++;
		p = pgfunc_json_ws(p, end);
		if (p < end && *p == ',')
			p++;
	}
	if (v == NULL && found != NULL) {
		v = found;
		vend = found_end;
	}
	if (v == NULL) {
		sqlite3_result_null(ctx);
	} else if (astext && *v == '"') {
		strbuf_reset(&key);
		if (pgfunc_json_unescape(v, vend, &key) < 0)
			goto malformed;
		pgfunc_result_strbuf(ctx, &key);
	} else if (astext && vend - v == 4 && memcmp(v, "null", 4) == 0) {
		sqlite3_result_null(ctx);
	} else {
		sqlite3_result_text(ctx, v, (int)(vend - v), SQLITE_TRANSIENT);
	}
	strbuf_free(&key);
	return;
malformed:
	strbuf_free(&key);
	pgfunc_error(ctx, "malformed jsonb");
}

static int
pgfunc_numeric_collation(void *arg, int alen, const void *a, int blen, const void *b)
{
	(void)arg;
	return pgnum_cmp(a, (size_t)alen, b, (size_t)blen);
}

static int
pgfunc_datetime_collation(void *arg, int alen, const void *a, int blen, const void *b)
{
	(void)arg;
	return pgtime_cmp(a, (size_t)alen, b, (size_t)blen);
}

/* varstr_cmp with an ICU collator: the collator's order, ties broken by the bytes (every
 * collation PostgreSQL 15 makes from a locale is deterministic). */
static int
pgfunc_icu_collation_cmp(void *arg, int alen, const void *a, int blen, const void *b)
{
	UErrorCode err = U_ZERO_ERROR;
	UCollationResult r;
	int c;

	r = ucol_strcollUTF8(arg, a, alen, b, blen, &err);
	if (U_FAILURE(err) || r == UCOL_EQUAL) {
		c = memcmp(a, b, (size_t)(alen < blen ? alen : blen));
		return c != 0 ? c : alen - blen;
	}
	return r == UCOL_LESS ? -1 : 1;
}

static void
pgfunc_icu_close(void *arg)
{
	ucol_close(arg);
}

static void
pgfunc_collation_needed(void *arg, sqlite3 *db, int enc, const char *name)
{
	UErrorCode err = U_ZERO_ERROR;
	UCollator *coll;

	(void)arg;
	(void)enc;
	if (strncmp(name, PGFUNC_ICU_PREFIX, strlen(PGFUNC_ICU_PREFIX)) != 0)
		return;
	coll = ucol_open(name + strlen(PGFUNC_ICU_PREFIX), &err);
	if (U_FAILURE(err))
		goto fail;
	if (sqlite3_create_collation_v2(db, name, SQLITE_UTF8, coll, pgfunc_icu_collation_cmp,
	                                pgfunc_icu_close) == SQLITE_OK)
		return;
fail:
	if (coll)
		ucol_close(coll);
	log_warn("ICU has no collation for locale \"%s\"", name + strlen(PGFUNC_ICU_PREFIX));
}

int
pgfunc_icu_version(const char *locale, char *buf, size_t len)
{
	UErrorCode err = U_ZERO_ERROR;
	UVersionInfo v;
	char s[U_MAX_VERSION_STRING_LENGTH];
	UCollator *coll = ucol_open(locale, &err);

	if (U_FAILURE(err)) {
		if (coll)
			ucol_close(coll);
		return -1;
	}
	ucol_getVersion(coll, v);
	ucol_close(coll);
	u_versionToString(v, s);
	snprintf(buf, len, "%s", s);
	return 0;
}

void
pgfunc_icu_collation(const char *locale, char *buf, size_t len)
{
	snprintf(buf, len, PGFUNC_ICU_PREFIX "%s", locale);
}

struct pgfunc_def {
	const char *name;
	int nargs;
	void (*fn)(sqlite3_context *, int, sqlite3_value **);
	void *data;
};

int
pgfunc_register(sqlite3 *db)
{
	static const struct pgfunc_def defs[] = {
	        {"pg_nadd", 2, pgfunc_numeric2, (void *)pgnum_add},
	        {"pg_nsub", 2, pgfunc_numeric2, (void *)pgnum_sub},
	        {"pg_nmul", 2, pgfunc_numeric2, (void *)pgnum_mul},
	        {"pg_ndiv", 2, pgfunc_numeric2, (void *)pgnum_div},
	        {"pg_nround", 2, pgfunc_numeric_scale, (void *)pgnum_round},
	        {"pg_ntrunc", 2, pgfunc_numeric_scale, (void *)pgnum_trunc},
	        {"pg_num_typmod", 3, pgfunc_num_typmod, NULL},
	        {"pg_nabs", 1, pgfunc_nabs, NULL},
	        {"pg_nceil", 1, pgfunc_numeric1, NULL},
	        {"pg_nfloor", 1, pgfunc_numeric1, (void *)(intptr_t)1},
	        {"pg_nsign", 1, pgfunc_numeric1, (void *)(intptr_t)2},
	        {"pg_md5", 1, pgfunc_md5, NULL},
	        {"pg_array_json", 2, pgfunc_array_json, NULL},
	        {"pg_fcmp", 2, pgfunc_fcmp, NULL},
	        {"pg_fkey", 1, pgfunc_fkey, NULL},
	        {"pg_text_float", 1, pgfunc_text_float, NULL},
	        {"pg_i2", 1, pgfunc_int_check, (void *)(intptr_t)1},
	        {"pg_i4", 1, pgfunc_int_check, (void *)(intptr_t)2},
	        {"pg_i8", 1, pgfunc_int_check, (void *)(intptr_t)3},
	        {"pg_idiv", 3, pgfunc_int_divmod, NULL},
	        {"pg_imod", 3, pgfunc_int_divmod, (void *)(intptr_t)1},
	        {"pg_num_int", 2, pgfunc_num_int, NULL},
	        {"pg_text_int", 2, pgfunc_text_int, NULL},
	        {"pg_text_num", 1, pgfunc_text_num, NULL},
	        {"pg_text_bool", 1, pgfunc_text_bool, NULL},
	        {"pg_substr", 2, pgfunc_substr, NULL},
	        {"pg_substr", 3, pgfunc_substr, NULL},
	        {"pg_left", 2, pgfunc_left_right, NULL},
	        {"pg_right", 2, pgfunc_left_right, (void *)(intptr_t)1},
	        {"pg_strpos", 2, pgfunc_strpos, NULL},
	        {"pg_split_part", 3, pgfunc_split_part, NULL},
	        {"pg_lower", 2, pgfunc_case, NULL},
	        {"pg_upper", 2, pgfunc_case, (void *)(intptr_t)1},
	        {"pg_like", 2, pgfunc_like, NULL},
	        {"pg_like", 3, pgfunc_like, NULL},
	        {"pg_ts_add", 6, pgfunc_ts_add, NULL},
	        {"pg_ts_cast", 3, pgfunc_ts_cast, NULL},
	        {"pg_date_trunc", 3, pgfunc_ts_field, NULL},
	        {"pg_extract", 3, pgfunc_ts_field, (void *)(intptr_t)1},
	        {"pg_jsonb_get", 3, pgfunc_jsonb_get, NULL},
	        {"pg_jsonb_get", 4, pgfunc_jsonb_get, NULL},
	        {"pg_date_add", 2, pgfunc_date_add, NULL},
	        {"pg_date_diff", 2, pgfunc_date_diff, NULL},
	        {"pg_reverse", 1, pgfunc_reverse, NULL},
	        {"pg_repeat", 2, pgfunc_repeat, NULL},
	        {"pg_lpad", 3, pgfunc_pad, NULL},
	        {"pg_rpad", 3, pgfunc_pad, (void *)(intptr_t)1},
	        {"pg_concat_ws", -1, pgfunc_concat_ws, NULL},
	};
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < ARRAY_SIZE(defs) && rc == SQLITE_OK; i++)
		rc = sqlite3_create_function_v2(db, defs[i].name, defs[i].nargs,
		                                SQLITE_UTF8 | SQLITE_DETERMINISTIC, defs[i].data,
		                                defs[i].fn, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "pg_now", 1, SQLITE_UTF8, NULL, pgfunc_now,
		                                NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "pg_now", 2, SQLITE_UTF8, NULL, pgfunc_now,
		                                NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_window_function(db, "pg_nsum", 1, SQLITE_UTF8, NULL,
		                                    pgfunc_agg_step, pgfunc_agg_final,
		                                    pgfunc_agg_value, pgfunc_agg_inverse, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_window_function(
		        db, "pg_navg", 1, SQLITE_UTF8, (void *)(intptr_t)1, pgfunc_agg_step,
		        pgfunc_agg_final, pgfunc_agg_value, pgfunc_agg_inverse, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_collation_v2(db, "pg_numeric", SQLITE_UTF8, NULL,
		                                 pgfunc_numeric_collation, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_collation_v2(db, "pg_datetime", SQLITE_UTF8, NULL,
		                                 pgfunc_datetime_collation, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_collation_needed(db, NULL, pgfunc_collation_needed);
	if (rc != SQLITE_OK) {
		log_error("cannot register the SQL functions: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}
