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

static const char *const pgv_kind_names[] = {
        [PGV_TEXT] = "text",   [PGV_BOOL] = "bool",       [PGV_INT] = "int",
        [PGV_FLOAT] = "float", [PGV_NUMERIC] = "numeric", [PGV_BYTEA] = "bytea",
};

const char *
pgv_kind_name(enum pgv_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(pgv_kind_names) ? pgv_kind_names[kind] : "text";
}

enum pgv_kind
pgv_kind_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pgv_kind_names); i++)
		if (name && strcmp(name, pgv_kind_names[i]) == 0)
			return (enum pgv_kind)i;
	return PGV_TEXT;
}

int16_t
pgv_typlen(uint32_t type_oid)
{
	switch (type_oid) {
	case PGV_OID_BOOL:
		return 1;
	case PGV_OID_INT2:
		return 2;
	case PGV_OID_INT4:
	case PGV_OID_OID:
	case PGV_OID_FLOAT4:
	case PGV_OID_DATE:
		return 4;
	case PGV_OID_INT8:
	case PGV_OID_FLOAT8:
	case PGV_OID_TIMESTAMP:
	case PGV_OID_TIMESTAMPTZ:
		return 8;
	case PGV_OID_UUID:
		return 16;
	case PGV_OID_NAME:
		return 64;
	default:
		return -1;
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
		 * the BLOB "-0": a REAL column keeps whole numbers as integers, which loses the
		 * sign, and converts text that looks like a number */
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
		if (v.d == 0 && signbit(v.d)) {
			v.type = PGV_VAL_BLOB;
			v.p = "-0";
			v.len = 2;
		}
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

/* Whether the decimal cand lies exactly halfway between d and a neighbour: it reads back as
 * d only by the ties-to-even rule, and PostgreSQL's Ryu does not take such bounds. The
 * midpoints of floats are exact in double, those of doubles in x87 long double. */
static bool
pgv_is_midpoint(const char *cand, double d, bool is_float4)
{
	if (is_float4) {
		float f = (float)d;
		double c = strtod(cand, NULL);

		return c == ((double)f + (double)nextafterf(f, INFINITY)) / 2 ||
		       c == ((double)f + (double)nextafterf(f, 0)) / 2;
	}
	if (LDBL_MANT_DIG < 64)
		return false; /* no wider type to tell: accept, as Ryu would for an even value */
	{
		long double c = strtold(cand, NULL);

		return c == ((long double)d + (long double)nextafter(d, INFINITY)) / 2 ||
		       c == ((long double)d + (long double)nextafter(d, 0)) / 2;
	}
}

/* The shortest decimal digits that read back as d (as a float when is_float4), as PostgreSQL's
 * Ryu output finds them: digits[] without the point, *exp10 the exponent of the first digit.
 * For each length the correctly rounded candidate (printf's) is the closest to d, so it wins
 * when it reads back; near a power of two the interval that reads back is lopsided, and then
 * a neighbour one unit away may be the shortest. */
static int
pgv_shortest_digits(double d, bool is_float4, char *digits, int *exp10)
{
	static const int steps[] = {0, -1, 1};
	char buf[40], cand[40];
	int p, maxp = is_float4 ? 9 : 17;
	size_t k, n;

	for (p = 1; p <= maxp; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
		for (k = 0; k < ARRAY_SIZE(steps); k++) {
			const char *e = strchr(buf, 'e'), *q;
			long long mant = 0, limit = 1;
			int ex = atoi(e + 1), nd = 0;
			double back;

			/* the mantissa's digits as an integer, stepped in the last place */
			for (q = buf; q < e; q++)
				if (*q >= '0' && *q <= '9')
					mant = mant * 10 + (*q - '0'), nd++, limit *= 10;
			mant += steps[k];
			if (mant <= 0)
				continue;
			if (mant >= limit) {
				mant /= 10; /* 9.99 and one unit is 10.0: the exponent grows */
				ex++;
			}
			snprintf(cand, sizeof(cand), "%lldE%d", mant, ex - (nd - 1));
			back = is_float4 ? (double)strtof(cand, NULL) : strtod(cand, NULL);
			if (back != d || pgv_is_midpoint(cand, d, is_float4))
				continue;
			snprintf(digits, 40, "%lld", mant);
			/* strip trailing zeros: 1.50 is 15 with the same exponent */
			n = strlen(digits);
			while (n > 1 && digits[n - 1] == '0')
				digits[--n] = '\0';
			*exp10 = ex;
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
		if (v->type == PGV_VAL_TEXT || v->type == PGV_VAL_BLOB) {
			/* NaN, the infinities and -0 are kept as PostgreSQL spells them */
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

/* ---- stored value -> binary output ---- */

static void
pgv_put_be(struct strbuf *out, uint64_t v, int bytes)
{
	char b[8];
	int i;

	for (i = 0; i < bytes; i++)
		b[i] = (char)(v >> (8 * (bytes - 1 - i)));
	strbuf_append(out, b, (size_t)bytes);
}

/* Reads exactly n decimal digits at *p. */
static int
pgv_digits(const char **p, const char *end, int n, int64_t *out)
{
	int64_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (*p >= end || **p < '0' || **p > '9')
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

int64_t
pgv_days_from_2000(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 - 10957; /* days from 1970, then from 2000 */
}

/* "YYYY-MM-DD" (4 or more year digits); advances *p. */
static int
pgv_parse_date(const char **p, const char *end, int64_t *year, int64_t *month, int64_t *day)
{
	const char *q = *p;
	int64_t y = 0, m, d;
	int n = 0;

	while (q < end && *q >= '0' && *q <= '9' && n < 9)
		y = y * 10 + (*q++ - '0'), n++;
	if (n < 4 || q >= end || *q++ != '-' || pgv_digits(&q, end, 2, &m) < 0 || q >= end ||
	    *q++ != '-' || pgv_digits(&q, end, 2, &d) < 0 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*year = y;
	*month = m;
	*day = d;
	*p = q;
	return 0;
}

/* date, timestamp and timestamptz as stored (ISO, UTC): days or microseconds since 2000. */
static int
pgv_datetime_binary(uint32_t oid, const char *s, size_t len, struct strbuf *out)
{
	const char *p = s, *end = s + len;
	int64_t days, year, month, day, hh, mi, ss, frac = 0, us;
	int nfrac = 0;
	bool bc;

	if (len == 8 && memcmp(s, "infinity", 8) == 0) {
		pgv_put_be(out, oid == PGV_OID_DATE ? INT32_MAX : INT64_MAX,
		           oid == PGV_OID_DATE ? 4 : 8);
		return 0;
	}
	if (len == 9 && memcmp(s, "-infinity", 9) == 0) {
		pgv_put_be(out, oid == PGV_OID_DATE ? (uint32_t)INT32_MIN : (uint64_t)INT64_MIN,
		           oid == PGV_OID_DATE ? 4 : 8);
		return 0;
	}
	bc = len > 3 && memcmp(end - 3, " BC", 3) == 0;
	if (bc)
		end -= 3;
	if (pgv_parse_date(&p, end, &year, &month, &day) < 0)
		return -1;
	/* year Y BC is the astronomical year 1 - Y */
	days = pgv_days_from_2000(bc ? 1 - year : year, month, day);
	if (oid == PGV_OID_DATE) {
		if (p != end)
			return -1;
		pgv_put_be(out, (uint32_t)(int32_t)days, 4);
		return 0;
	}
	if (p >= end || *p++ != ' ' || pgv_digits(&p, end, 2, &hh) < 0 || p >= end || *p++ != ':' ||
	    pgv_digits(&p, end, 2, &mi) < 0 || p >= end || *p++ != ':' ||
	    pgv_digits(&p, end, 2, &ss) < 0)
		return -1;
	if (p < end && *p == '.') {
		p++;
		while (p < end && *p >= '0' && *p <= '9' && nfrac < 6)
			frac = frac * 10 + (*p++ - '0'), nfrac++;
		if (nfrac == 0)
			return -1;
		for (; nfrac < 6; nfrac++)
			frac *= 10;
	}
	if (oid == PGV_OID_TIMESTAMPTZ) {
		/* stored with TimeZone=UTC: always "+00" */
		if (end - p != 3 || memcmp(p, "+00", 3) != 0)
			return -1;
		p += 3;
	}
	if (p != end || hh > 24 || mi > 59 || ss > 60)
		return -1;
	us = ((days * 24 + hh) * 60 + mi) * 60 + ss;
	us = us * 1000000 + frac;
	pgv_put_be(out, (uint64_t)us, 8);
	return 0;
}

static int
pgv_uuid_binary(const char *s, size_t len, struct strbuf *out)
{
	char b[16];
	size_t i, n = 0;

	for (i = 0; i < len && n < 32; i++) {
		int hi;

		if (s[i] == '-')
			continue;
		hi = pgv_hexval((unsigned char)s[i]);
		if (hi < 0)
			return -1;
		if (n % 2 == 0)
			b[n / 2] = (char)(hi << 4);
		else
			b[n / 2] |= (char)hi;
		n++;
	}
	if (n != 32 || i != len)
		return -1;
	strbuf_append(out, b, 16);
	return 0;
}

/* numeric_send: base-10000 digits of numeric_out text ("-123.4500", "NaN", "Infinity"). */
static int
pgv_numeric_binary(const char *s, size_t len, struct strbuf *out)
{
	static const struct {
		const char *text;
		uint16_t sign, dscale;
	} special[] = {
	        {"NaN", 0xC000, 0},
	        {"Infinity", 0xD000, 0x20},
	        {"-Infinity", 0xF000, 0x20},
	};
	const char *p = s, *end = s + len, *dot, *q;
	uint16_t digits[300], sign = 0;
	size_t nint, nfrac, ndig = 0, i, first, last;
	int weight, pos;

	for (i = 0; i < ARRAY_SIZE(special); i++) {
		if (len == strlen(special[i].text) && memcmp(s, special[i].text, len) == 0) {
			pgv_put_be(out, 0, 2);
			pgv_put_be(out, 0, 2);
			pgv_put_be(out, special[i].sign, 2);
			pgv_put_be(out, special[i].dscale, 2);
			return 0;
		}
	}
	if (p < end && *p == '-')
		sign = 0x4000, p++;
	dot = memchr(p, '.', (size_t)(end - p));
	nint = (size_t)((dot ? dot : end) - p);
	nfrac = dot ? (size_t)(end - dot - 1) : 0;
	if (nint == 0 || (dot && nfrac == 0) || nfrac > 16383)
		return -1;
	for (q = p; q < end; q++)
		if ((*q < '0' || *q > '9') && q != dot)
			return -1;
	/* groups of 4 digits around the point: the integer part from the right */
	pos = (int)((nint + 3) / 4) * 4 - (int)nint; /* leading pad of the first group */
	weight = (int)((nint + 3) / 4) - 1;
	for (q = p; q < end; q++) {
		if (q == dot)
			continue;
		if (ndig == 0 || pos % 4 == 0) {
			if (ndig == ARRAY_SIZE(digits))
				return -1;
			digits[ndig++] = 0;
		}
		digits[ndig - 1] = (uint16_t)(digits[ndig - 1] * 10 + (*q - '0'));
		pos++;
	}
	/* the last fraction group is padded on the right */
	for (; pos % 4 != 0; pos++)
		digits[ndig - 1] = (uint16_t)(digits[ndig - 1] * 10);
	/* no leading or trailing zero groups, as make_result() leaves them */
	for (first = 0; first < ndig && digits[first] == 0; first++)
		weight--;
	for (last = ndig; last > first && digits[last - 1] == 0; last--)
		;
	if (first == last) {
		weight = 0;
		sign = 0;
	}
	pgv_put_be(out, last - first, 2);
	pgv_put_be(out, (uint16_t)(int16_t)weight, 2);
	pgv_put_be(out, sign, 2);
	pgv_put_be(out, nfrac, 2);
	for (i = first; i < last; i++)
		pgv_put_be(out, digits[i], 2);
	return 0;
}

int
pgv_to_binary(uint32_t type_oid, const struct pgv_value *v, struct strbuf *out)
{
	size_t start = out->len;
	uint64_t bits;
	double d;
	float f;
	int r = 0;

	switch (type_oid) {
	case PGV_OID_BOOL:
		if (v->type != PGV_VAL_INT || (v->i != 0 && v->i != 1))
			return -1;
		strbuf_putc(out, (char)v->i);
		return 0;
	case PGV_OID_INT2:
	case PGV_OID_INT4:
	case PGV_OID_OID:
	case PGV_OID_INT8:
		if (v->type != PGV_VAL_INT)
			return -1;
		pgv_put_be(out, (uint64_t)v->i,
		           type_oid == PGV_OID_INT2   ? 2
		           : type_oid == PGV_OID_INT8 ? 8
		                                      : 4);
		return 0;
	case PGV_OID_FLOAT4:
	case PGV_OID_FLOAT8:
		if (v->type == PGV_VAL_REAL || v->type == PGV_VAL_INT)
			d = v->type == PGV_VAL_REAL ? v->d : (double)v->i;
		else if (v->type == PGV_VAL_TEXT && v->len == 3 && memcmp(v->p, "NaN", 3) == 0)
			d = NAN;
		else if (v->type == PGV_VAL_BLOB && v->len == 2 && memcmp(v->p, "-0", 2) == 0)
			d = -0.0;
		else if (v->type == PGV_VAL_TEXT && v->len == 8 && memcmp(v->p, "Infinity", 8) == 0)
			d = INFINITY;
		else if (v->type == PGV_VAL_TEXT && v->len == 9 &&
		         memcmp(v->p, "-Infinity", 9) == 0)
			d = -INFINITY;
		else
			return -1;
		if (type_oid == PGV_OID_FLOAT4) {
			uint32_t fb;

			f = (float)d;
			memcpy(&fb, &f, 4);
			pgv_put_be(out, fb, 4);
		} else {
			memcpy(&bits, &d, 8);
			pgv_put_be(out, bits, 8);
		}
		return 0;
	case PGV_OID_BYTEA:
		if (v->type != PGV_VAL_BLOB)
			return -1;
		strbuf_append(out, v->p, v->len);
		return 0;
	case PGV_OID_TEXT:
	case PGV_OID_VARCHAR:
	case PGV_OID_BPCHAR:
	case PGV_OID_NAME:
	case PGV_OID_JSON:
	case PGV_OID_JSONB:
		if (v->type != PGV_VAL_TEXT)
			return -1;
		if (type_oid == PGV_OID_JSONB)
			strbuf_putc(out, 1); /* jsonb's binary format version */
		strbuf_append(out, v->p, v->len);
		return 0;
	case PGV_OID_UUID:
	case PGV_OID_DATE:
	case PGV_OID_TIMESTAMP:
	case PGV_OID_TIMESTAMPTZ:
	case PGV_OID_NUMERIC:
		if (v->type != PGV_VAL_TEXT)
			return -1;
		if (type_oid == PGV_OID_UUID)
			r = pgv_uuid_binary(v->p, v->len, out);
		else if (type_oid == PGV_OID_NUMERIC)
			r = pgv_numeric_binary(v->p, v->len, out);
		else
			r = pgv_datetime_binary(type_oid, v->p, v->len, out);
		if (r < 0 && out->data) {
			out->len = start; /* nothing half-written */
			out->data[start] = '\0';
		}
		return r;
	default:
		return -1;
	}
}
