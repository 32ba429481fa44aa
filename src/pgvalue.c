/* SPDX-License-Identifier: MIT */
/* Values: PostgreSQL text output (datestyle=ISO, extra_float_digits=3, bytea_output=hex) to the
 * SQLite storage class we keep it in, and the COPY text format. Pure: no I/O, no logging. */
#include "config.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgvalue.h"
#include "util.h"

/* Type OIDs from pg_type.dat; fixed since PostgreSQL 7. */
#define PGV_OID_BOOL 16
#define PGV_OID_BYTEA 17
#define PGV_OID_INT8 20
#define PGV_OID_INT2 21
#define PGV_OID_INT4 23
#define PGV_OID_OID 26
#define PGV_OID_FLOAT4 700
#define PGV_OID_FLOAT8 701
#define PGV_OID_NUMERIC 1700

/* Longest float text copied to the stack for strtod(); float8out prints at most 24 bytes
 * ("-1.7976931348623157e+308"), longer text goes through scratch. */
#define PGV_FLOAT_BUFLEN 64

enum pgv_kind
pgv_kind_for_type(uint32_t type_oid)
{
	switch (type_oid) {
	case PGV_OID_BOOL:
		return PGV_BOOL;
	case PGV_OID_INT2:
	case PGV_OID_INT4:
	case PGV_OID_INT8:
	case PGV_OID_OID:
		return PGV_INT;
	case PGV_OID_FLOAT4:
	case PGV_OID_FLOAT8:
		return PGV_FLOAT;
	case PGV_OID_NUMERIC:
		return PGV_NUMERIC;
	case PGV_OID_BYTEA:
		return PGV_BYTEA;
	default:
		return PGV_TEXT;
	}
}

const char *
pgv_decltype(enum pgv_kind kind)
{
	switch (kind) {
	case PGV_BOOL:
	case PGV_INT:
		return "INTEGER";
	case PGV_FLOAT:
		return "REAL";
	case PGV_BYTEA:
		return "BLOB";
	case PGV_NUMERIC: /* TEXT keeps the scale and every digit (protocol-brief D.5) */
	case PGV_TEXT:
	default:
		return "TEXT";
	}
}

static int
pgv_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
pgv_is_octal(unsigned char c)
{
	return c >= '0' && c <= '7';
}

static bool
pgv_text_equals(const char *text, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len == n && memcmp(text, word, n) == 0;
}

/* Parses the whole of text[0..len) as a decimal int64 by hand: the input is not
 * NUL-terminated, so strtoll() could run past len. */
static int
pgv_parse_int(const char *text, size_t len, int64_t *out)
{
	uint64_t limit = INT64_MAX;
	uint64_t v = 0;
	bool neg = false;
	size_t i = 0;

	if (len > 0 && (text[0] == '-' || text[0] == '+')) {
		neg = text[0] == '-';
		i = 1;
	}
	if (i == len)
		return -1;
	if (neg)
		limit = (uint64_t)INT64_MAX + 1;
	for (; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)text[i] - '0';

		if (d > 9 || v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (!neg)
		*out = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)v;
	return 0;
}

/* Parses float8out/float4out text. Only plain decimal notation is accepted: strtod() would also
 * take "inf", "nan", hex floats and leading blanks, none of which PostgreSQL prints, and a NaN
 * double would be stored as NULL. */
static int
pgv_parse_float(const char *text, size_t len, struct strbuf *scratch, double *out)
{
	char buf[PGV_FLOAT_BUFLEN];
	const char *s;
	char *end;
	bool digit = false;
	double d;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = text[i];

		if (c >= '0' && c <= '9')
			digit = true;
		else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
			return -1;
	}
	if (!digit)
		return -1;
	if (len < sizeof(buf)) {
		memcpy(buf, text, len);
		buf[len] = '\0';
		s = buf;
	} else {
		strbuf_reset(scratch);
		strbuf_append(scratch, text, len);
		s = scratch->data;
	}
	/* errno is not checked: glibc sets ERANGE for subnormals like 1e-310, which are exact. */
	d = strtod(s, &end);
	if (end != s + len || isnan(d) || isinf(d))
		return -1;
	*out = d;
	return 0;
}

/* Decodes bytea hex output ("\x0a5c...") into scratch. */
static int
pgv_decode_bytea(const char *text, size_t len, struct strbuf *scratch, size_t *out_len)
{
	size_t n, i;

	if (len < 2 || text[0] != '\\' || text[1] != 'x' || (len - 2) % 2 != 0)
		return -1;
	n = (len - 2) / 2;
	strbuf_reset(scratch);
	/* always allocates, so a zero-length blob still gets a non-NULL pointer */
	strbuf_reserve(scratch, n);
	for (i = 0; i < n; i++) {
		int hi = pgv_hexval((unsigned char)text[2 + 2 * i]);
		int lo = pgv_hexval((unsigned char)text[3 + 2 * i]);

		if (hi < 0 || lo < 0) {
			strbuf_reset(scratch);
			return -1;
		}
		scratch->data[i] = (char)(hi << 4 | lo);
	}
	scratch->len = n;
	scratch->data[n] = '\0';
	*out_len = n;
	return 0;
}

int
pgv_from_text(enum pgv_kind kind, const char *text, size_t len, struct strbuf *scratch,
              struct pgv_value *out)
{
	struct pgv_value v = {.type = PGV_VAL_NULL};

	switch (kind) {
	case PGV_BOOL:
		if (pgv_text_equals(text, len, "t"))
			v.i = 1;
		else if (pgv_text_equals(text, len, "f"))
			v.i = 0;
		else
			return -1;
		v.type = PGV_VAL_INT;
		break;
	case PGV_INT:
		if (pgv_parse_int(text, len, &v.i) < 0)
			return -1;
		v.type = PGV_VAL_INT;
		break;
	case PGV_FLOAT:
		/* SQLite binds a NaN double as NULL, so the special values stay text (D.5). -0 is
		 * stored as 0: a REAL column keeps whole numbers as integers, losing the sign */
		if (pgv_text_equals(text, len, "NaN") || pgv_text_equals(text, len, "Infinity") ||
		    pgv_text_equals(text, len, "-Infinity")) {
			v.type = PGV_VAL_TEXT;
			v.p = text;
			v.len = len;
			break;
		}
		if (pgv_parse_float(text, len, scratch, &v.d) < 0)
			return -1;
		v.type = PGV_VAL_REAL;
		break;
	case PGV_BYTEA:
		if (pgv_decode_bytea(text, len, scratch, &v.len) < 0)
			return -1;
		v.type = PGV_VAL_BLOB;
		v.p = scratch->data;
		break;
	case PGV_NUMERIC:
	case PGV_TEXT:
		v.type = PGV_VAL_TEXT;
		v.p = text;
		v.len = len;
		break;
	default:
		return -1;
	}
	*out = v;
	return 0;
}

/* Decodes the escape whose backslash is at *rp (*rp + 1 < end), as CopyReadAttributesText()
 * does: advances *rp past it and returns the byte it stands for. */
static char
pgv_copy_unescape(const char **rp, const char *end)
{
	const char *r = *rp + 1;
	unsigned char c = (unsigned char)*r++;
	unsigned v;
	int h;

	switch (c) {
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
		v = c - '0';
		if (r < end && pgv_is_octal((unsigned char)*r)) {
			v = v * 8 + (unsigned)(*r++ - '0');
			if (r < end && pgv_is_octal((unsigned char)*r))
				v = v * 8 + (unsigned)(*r++ - '0');
		}
		c = (unsigned char)(v & 0377);
		break;
	case 'x':
		/* "\x" not followed by a hex digit is a plain 'x' */
		if (r < end && (h = pgv_hexval((unsigned char)*r)) >= 0) {
			r++;
			v = (unsigned)h;
			if (r < end && (h = pgv_hexval((unsigned char)*r)) >= 0) {
				r++;
				v = v * 16 + (unsigned)h;
			}
			c = (unsigned char)v;
		}
		break;
	case 'b':
		c = '\b';
		break;
	case 'f':
		c = '\f';
		break;
	case 'n':
		c = '\n';
		break;
	case 'r':
		c = '\r';
		break;
	case 't':
		c = '\t';
		break;
	case 'v':
		c = '\v';
		break;
	default:
		/* any other character, including a backslash or a raw tab, stands for itself */
		break;
	}
	*rp = r;
	return (char)c;
}

/* Fields are written back over the row: the output cursor w never passes the input cursor r,
 * since every escape is at least as long as the byte it decodes to. Per field the next raw tab
 * and the next backslash before it are found with memchr(), so a field without backslashes is
 * a single memmove (or nothing, while no escape has been seen yet). */
int
pgv_copy_split(char *row, size_t len, struct pgv_field *fields, int max)
{
	const char *r = row;
	const char *end;
	char *w = row;
	int n = 0;

	if (len > 0 && row[len - 1] == '\n')
		len--;
	end = row + len;
	for (;;) {
		const char *tab = memchr(r, '\t', (size_t)(end - r));
		const char *stop = tab ? tab : end;
		char *start = w;
		bool is_null = false;

		if (n >= max)
			return -1;
		if (stop - r == 2 && r[0] == '\\' && r[1] == 'N') {
			/* NULL is recognised on the raw text, before unescaping: \\N is the text \N
			 */
			is_null = true;
			r = stop;
		}
		while (r < stop) {
			const char *bs = memchr(r, '\\', (size_t)(stop - r));
			size_t run = bs ? (size_t)(bs - r) : (size_t)(stop - r);

			if (w != r)
				memmove(w, r, run);
			w += run;
			r += run;
			if (bs == NULL)
				break;
			if (bs + 1 >= end)
				return -1; /* the row ends inside an escape */
			*w++ = pgv_copy_unescape(&r, end);
			if (r > stop) {
				/* the escape was a backslash before a raw tab: the field goes on */
				tab = memchr(r, '\t', (size_t)(end - r));
				stop = tab ? tab : end;
			}
		}
		fields[n].p = start;
		fields[n].len = (size_t)(w - start);
		fields[n].is_null = is_null;
		n++;
		/* w <= r == stop here, so this overwrites at most the tab just consumed or row[len]
		 */
		*w++ = '\0';
		if (tab == NULL)
			break;
		r = tab + 1;
	}
	return n;
}

/* ---- stored value -> PostgreSQL text output ---- */

/* The shortest decimal digits that read back as d (as a float when is_float4), as PostgreSQL's
 * Ryu output finds them: digits[] without the point, *exp10 the exponent of the first digit.
 * For each length the correctly rounded candidate and its neighbours are tried, since near a
 * power of two the interval that reads back is lopsided. */
static int
pgv_shortest_digits(double d, bool is_float4, char *digits, int *exp10)
{
	char buf[40], best[40];
	int p, maxp = is_float4 ? 9 : 17, k;

	for (p = 1; p <= maxp; p++) {
		double best_err = -1;

		snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
		best[0] = '\0';
		for (k = -1; k <= 1; k++) {
			char cand[40], *e = strchr(buf, 'e');
			long long mant, limit = 1;
			int ex = atoi(e + 1), nd = 0;
			const char *q;
			double back, err;

			/* the mantissa's digits as an integer, stepped by k in the last place */
			mant = 0;
			for (q = buf; q < e; q++)
				if (*q >= '0' && *q <= '9')
					mant = mant * 10 + (*q - '0'), nd++, limit *= 10;
			mant += k;
			if (mant <= 0)
				continue;
			if (mant >= limit) {
				mant /= 10; /* 9.99 + 1 ulp = 10.0: one digit more in the exponent
				             */
				ex++;
			}
			snprintf(cand, sizeof(cand), "%lldE%d", mant, ex - (nd - 1));
			back = is_float4 ? (double)strtof(cand, NULL) : strtod(cand, NULL);
			if (back != fabs(d))
				continue;
			err = fabs(strtod(cand, NULL) - fabs(d));
			if (best_err < 0 || err < best_err) {
				best_err = err;
				snprintf(best, sizeof(best), "%lld", mant);
				*exp10 = ex;
			}
		}
		if (best[0]) {
			/* strip trailing zeros: 1.50 is 15 with the same exponent */
			size_t n = strlen(best);

			while (n > 1 && best[n - 1] == '0')
				best[--n] = '\0';
			memcpy(digits, best, n + 1);
			return (int)n;
		}
	}
	/* cannot happen: 17 (9) digits always read back */
	snprintf(digits, 2, "0");
	*exp10 = 0;
	return 1;
}

void
pgv_float_out(double d, bool is_float4, int extra_float_digits, struct strbuf *out)
{
	char digits[40];
	int n, e = 0, i, maxfixed = is_float4 ? 5 : 14;

	if (is_float4)
		d = (double)(float)d;
	if (isnan(d)) {
		strbuf_puts(out, "NaN");
		return;
	}
	if (isinf(d)) {
		strbuf_puts(out, d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	if (extra_float_digits <= 0) {
		int prec = (is_float4 ? FLT_DIG : DBL_DIG) + extra_float_digits;

		strbuf_printf(out, "%.*g", prec < 1 ? 1 : prec, d);
		return;
	}
	if (signbit(d))
		strbuf_putc(out, '-');
	if (d == 0) {
		strbuf_putc(out, '0');
		return;
	}
	n = pgv_shortest_digits(fabs(d), is_float4, digits, &e);
	if (e < -4 || e > maxfixed) {
		strbuf_putc(out, digits[0]);
		if (n > 1) {
			strbuf_putc(out, '.');
			strbuf_puts(out, digits + 1);
		}
		strbuf_printf(out, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
		return;
	}
	if (e < 0) {
		strbuf_puts(out, "0.");
		for (i = -1; i > e; i--)
			strbuf_putc(out, '0');
		strbuf_puts(out, digits);
		return;
	}
	for (i = 0; i <= e; i++)
		strbuf_putc(out, i < n ? digits[i] : '0');
	if (n > e + 1) {
		strbuf_putc(out, '.');
		strbuf_puts(out, digits + e + 1);
	}
}

int
pgv_to_text(uint32_t type_oid, const struct pgv_value *v, const struct pgv_out_settings *s,
            struct strbuf *out)
{
	static const char hexdig[] = "0123456789abcdef";
	const unsigned char *b;
	size_t i;

	switch (pgv_kind_for_type(type_oid)) {
	case PGV_BOOL:
		if (v->type != PGV_VAL_INT || (v->i != 0 && v->i != 1))
			return -1;
		strbuf_putc(out, v->i ? 't' : 'f');
		return 0;
	case PGV_INT:
		if (v->type != PGV_VAL_INT)
			return -1;
		strbuf_printf(out, "%" PRId64, v->i);
		return 0;
	case PGV_FLOAT:
		if (v->type == PGV_VAL_TEXT) {
			/* NaN and the infinities are kept as PostgreSQL spells them */
			strbuf_append(out, v->p, v->len);
			return 0;
		}
		if (v->type != PGV_VAL_REAL && v->type != PGV_VAL_INT)
			return -1;
		pgv_float_out(v->type == PGV_VAL_REAL ? v->d : (double)v->i,
		              type_oid == PGV_OID_FLOAT4, s->extra_float_digits, out);
		return 0;
	case PGV_BYTEA:
		if (v->type != PGV_VAL_BLOB)
			return -1;
		b = (const unsigned char *)v->p;
		if (!s->bytea_escape) {
			strbuf_reserve(out, 2 + 2 * v->len);
			strbuf_puts(out, "\\x");
			for (i = 0; i < v->len; i++) {
				strbuf_putc(out, hexdig[b[i] >> 4]);
				strbuf_putc(out, hexdig[b[i] & 15]);
			}
			return 0;
		}
		for (i = 0; i < v->len; i++) {
			if (b[i] == '\\')
				strbuf_puts(out, "\\\\");
			else if (b[i] < 0x20 || b[i] > 0x7e)
				strbuf_printf(out, "\\%03o", b[i]);
			else
				strbuf_putc(out, (char)b[i]);
		}
		return 0;
	case PGV_NUMERIC:
	case PGV_TEXT:
	default:
		if (v->type != PGV_VAL_TEXT)
			return -1;
		strbuf_append(out, v->p, v->len);
		return 0;
	}
}
