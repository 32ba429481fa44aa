/* SPDX-License-Identifier: MIT */
/* PostgreSQL 15 numeric semantics on numeric_out text: numeric_in's parser, exact + - *,
 * numeric_div's result scale and rounding, round/trunc, numeric_cmp and typmod casts. Finite
 * values are decimal digit strings with a display scale; * and / go through base-10^9 limbs. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgnum.h"
#include "util.h"

/* What numeric can store: an int16 weight in base-10000 digits, a 14-bit display scale. */
#define PGNUM_MAX_INT_DIGITS 131072
#define PGNUM_MAX_DSCALE 16383
/* numeric.c's constants for select_div_scale(), numeric_round() and typmods. */
#define PGNUM_DEC_DIGITS 4 /* decimal digits per base-10000 digit */
#define PGNUM_MIN_SIG_DIGITS 16
#define PGNUM_MAX_DISPLAY_SCALE 1000
#define PGNUM_MAX_PRECISION 1000
#define PGNUM_MAX_SCALE 1000
/* set_var_from_str() rejects exponents at or beyond INT_MAX / 2. */
#define PGNUM_MAX_EXPONENT (INT32_MAX / 2)

/* Limbs for multiplication and division: base 10^9, least significant first. */
#define BIG_BASE UINT64_C(1000000000)
#define BIG_DIGITS 9

enum pgnum_kind {
	PGNUM_NINF, /* ordered as numeric_cmp sorts them */
	PGNUM_FINITE,
	PGNUM_PINF,
	PGNUM_NAN,
	PGNUM_BAD,
};

/* A numeric_out text taken apart in place, without allocating. */
struct pgnum_text {
	enum pgnum_kind kind;
	bool neg;
	const char *ip; /* digits before the point, leading zeros skipped */
	size_t ilen;
	const char *fp; /* digits after the point as written: flen is the display scale */
	size_t flen;
};

/* A value. A finite one is (neg ? -1 : 1) * d / 10^dscale where d holds len ASCII digits
 * without leading zeros (len 0 is zero, which is never negative). */
struct pgnum {
	enum pgnum_kind kind;
	bool neg;
	int64_t dscale;
	char *d;
	size_t len;
};

/* Magnitude of a finite value as up to two digit runs, for comparing without copying. */
struct pgnum_mag {
	const char *p1;
	size_t n1;
	const char *p2;
	size_t n2;
	int64_t pos; /* digits before the point, counted from the first nonzero one */
};

enum pgnum_op {
	PGNUM_ADD,
	PGNUM_SUB,
	PGNUM_MUL,
	PGNUM_DIV,
};

static bool
pgnum_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* isspace() in the C locale; other bytes depend on the server's locale, so they are rejected. */
static bool
pgnum_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void
pgnum_text_parse(const char *s, size_t len, struct pgnum_text *t)
{
	size_t i = 0, start;

	t->kind = PGNUM_BAD;
	t->neg = false;
	t->ip = s;
	t->ilen = 0;
	t->fp = s;
	t->flen = 0;
	if (s == NULL || len == 0)
		return;
	if (len == 3 && memcmp(s, "NaN", 3) == 0) {
		t->kind = PGNUM_NAN;
		return;
	}
	if (len == 8 && memcmp(s, "Infinity", 8) == 0) {
		t->kind = PGNUM_PINF;
		return;
	}
	if (len == 9 && memcmp(s, "-Infinity", 9) == 0) {
		t->kind = PGNUM_NINF;
		return;
	}
	if (i < len && s[i] == '-') {
		t->neg = true;
		i++;
	}
	start = i;
	while (i < len && pgnum_is_digit(s[i]))
		i++;
	if (i == start)
		return;
	t->ip = s + start;
	t->ilen = i - start;
	while (t->ilen > 0 && t->ip[0] == '0') {
		t->ip++;
		t->ilen--;
	}
	t->fp = s + i;
	if (i < len) {
		if (s[i] != '.')
			return;
		start = ++i;
		while (i < len && pgnum_is_digit(s[i]))
			i++;
		if (i == start || i != len)
			return;
		t->fp = s + start;
		t->flen = i - start;
	}
	if (t->ilen > PGNUM_MAX_INT_DIGITS || t->flen > PGNUM_MAX_DSCALE)
		return;
	t->kind = PGNUM_FINITE;
}

static void
pgnum_text_mag(const struct pgnum_text *t, struct pgnum_mag *m)
{
	size_t skip = 0;

	if (t->ilen == 0)
		while (skip < t->flen && t->fp[skip] == '0')
			skip++;
	m->p1 = t->ip;
	m->n1 = t->ilen;
	m->p2 = t->fp + skip;
	m->n2 = t->flen - skip;
	m->pos = t->ilen > 0 ? (int64_t)t->ilen : -(int64_t)skip;
}

static void
pgnum_mag(const struct pgnum *n, struct pgnum_mag *m)
{
	m->p1 = n->d;
	m->n1 = n->len;
	m->p2 = NULL;
	m->n2 = 0;
	m->pos = (int64_t)n->len - n->dscale;
}

static char
pgnum_mag_digit(const struct pgnum_mag *m, size_t i)
{
	if (i < m->n1)
		return m->p1[i];
	i -= m->n1;
	return i < m->n2 ? m->p2[i] : '0';
}

/* Compares magnitudes: <0, 0, >0. */
static int
pgnum_mag_cmp(const struct pgnum_mag *a, const struct pgnum_mag *b)
{
	size_t la = a->n1 + a->n2, lb = b->n1 + b->n2, n, i;

	if (la == 0 || lb == 0)
		return (la != 0) - (lb != 0);
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	n = la > lb ? la : lb;
	for (i = 0; i < n; i++) {
		char ca = pgnum_mag_digit(a, i), cb = pgnum_mag_digit(b, i);

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

static void
pgnum_init(struct pgnum *n, enum pgnum_kind kind)
{
	n->kind = kind;
	n->neg = false;
	n->dscale = 0;
	n->d = NULL;
	n->len = 0;
}

static void
pgnum_free(struct pgnum *n)
{
	free(n->d);
	n->d = NULL;
	n->len = 0;
}

/* Loads a NUL-terminated numeric_out text. */
static int
pgnum_load(const char *s, struct pgnum *n)
{
	struct pgnum_text t;
	size_t skip = 0;

	pgnum_text_parse(s, s ? strlen(s) : 0, &t);
	pgnum_init(n, t.kind);
	if (t.kind != PGNUM_FINITE)
		return t.kind == PGNUM_BAD ? -1 : 0;
	if (t.ilen == 0)
		while (skip < t.flen && t.fp[skip] == '0')
			skip++;
	n->dscale = (int64_t)t.flen;
	n->len = t.ilen + t.flen - skip;
	n->d = xmalloc(n->len + 1);
	memcpy(n->d, t.ip, t.ilen);
	memcpy(n->d + t.ilen, t.fp + skip, t.flen - skip);
	n->neg = t.neg && n->len > 0;
	return 0;
}

/* Drops leading zero digits; a zero loses its sign. */
static void
pgnum_strip(struct pgnum *n)
{
	size_t skip = 0;

	while (skip < n->len && n->d[skip] == '0')
		skip++;
	if (skip > 0) {
		memmove(n->d, n->d + skip, n->len - skip);
		n->len -= skip;
	}
	if (n->len == 0)
		n->neg = false;
}

/* Multiplies a nonzero n's digits by 10^count. */
static void
pgnum_append_zeros(struct pgnum *n, size_t count)
{
	if (n->len == 0 || count == 0)
		return;
	n->d = xrealloc(n->d, n->len + count + 1);
	memset(n->d + n->len, '0', count);
	n->len += count;
}

/* Adds one unit of the last digit. */
static void
pgnum_increment(struct pgnum *n)
{
	size_t i = n->len;

	while (i > 0) {
		i--;
		if (n->d[i] != '9') {
			n->d[i]++;
			return;
		}
		n->d[i] = '0';
	}
	n->d = xrealloc(n->d, n->len + 2);
	memmove(n->d + 1, n->d, n->len);
	n->d[0] = '1';
	n->len++;
}

/* round_var() (half away from zero) or trunc_var() at rscale digits after the point; a
 * negative rscale zeroes digits left of it. The display scale becomes max(rscale, 0). */
static void
pgnum_round_to(struct pgnum *n, int64_t rscale, bool round)
{
	size_t keep = 0;
	bool up = false;

	if (n->kind != PGNUM_FINITE)
		return;
	if (rscale >= n->dscale) {
		pgnum_append_zeros(n, (size_t)(rscale - n->dscale));
		n->dscale = rscale;
		return;
	}
	if ((uint64_t)(n->dscale - rscale) <= n->len) {
		keep = n->len - (size_t)(n->dscale - rscale);
		up = round && n->d[keep] >= '5';
	}
	n->len = keep;
	if (up)
		pgnum_increment(n);
	if (rscale < 0) {
		pgnum_append_zeros(n, (size_t)-rscale);
		n->dscale = 0;
	} else {
		n->dscale = rscale;
	}
	pgnum_strip(n);
}

static void
pgnum_append_zero_chars(struct strbuf *out, size_t count)
{
	static const char zeros[] =
	        "0000000000000000000000000000000000000000000000000000000000000000";

	while (count > 0) {
		size_t n = count < sizeof(zeros) - 1 ? count : sizeof(zeros) - 1;

		strbuf_append(out, zeros, n);
		count -= n;
	}
}

/* get_str_from_var(), after make_result()'s check that the value fits numeric. */
static int
pgnum_out(const struct pgnum *n, struct strbuf *out)
{
	size_t dscale, intlen;

	switch (n->kind) {
	case PGNUM_NAN:
		strbuf_puts(out, "NaN");
		return 0;
	case PGNUM_PINF:
		strbuf_puts(out, "Infinity");
		return 0;
	case PGNUM_NINF:
		strbuf_puts(out, "-Infinity");
		return 0;
	case PGNUM_FINITE:
		break;
	default:
		return -1;
	}
	if (n->dscale < 0 || n->dscale > PGNUM_MAX_DSCALE)
		return -1;
	dscale = (size_t)n->dscale;
	intlen = n->len > dscale ? n->len - dscale : 0;
	if (intlen > PGNUM_MAX_INT_DIGITS)
		return -1;
	strbuf_reserve(out, intlen + dscale + 3);
	if (n->neg && n->len > 0)
		strbuf_putc(out, '-');
	if (intlen > 0)
		strbuf_append(out, n->d, intlen);
	else
		strbuf_putc(out, '0');
	if (dscale > 0) {
		strbuf_putc(out, '.');
		if (n->len < dscale) {
			pgnum_append_zero_chars(out, dscale - n->len);
			strbuf_append(out, n->d, n->len);
		} else {
			strbuf_append(out, n->d + intlen, dscale);
		}
	}
	return 0;
}

/* -1, 0 or 1; infinities count as nonzero. */
static int
pgnum_sign(const struct pgnum *n)
{
	if (n->kind == PGNUM_PINF)
		return 1;
	if (n->kind == PGNUM_NINF)
		return -1;
	if (n->len == 0)
		return 0;
	return n->neg ? -1 : 1;
}

/* Digit i counted from the right of d[0, len) followed by pad zeros. */
static int
pgnum_dec_digit(const char *d, size_t len, size_t pad, size_t i)
{
	if (i < pad)
		return 0;
	i -= pad;
	return i < len ? d[len - 1 - i] - '0' : 0;
}

/* |a| + |b|, or |a| - |b| when |a| >= |b|, both taken at display scale `scale`. */
static void
pgnum_add_abs(const struct pgnum *a, const struct pgnum *b, bool sub, int64_t scale,
              struct pgnum *r)
{
	size_t pa = (size_t)(scale - a->dscale), pb = (size_t)(scale - b->dscale);
	size_t la = a->len ? a->len + pa : 0, lb = b->len ? b->len + pb : 0;
	size_t n = (la > lb ? la : lb) + 1, i;
	int carry = 0;

	pgnum_init(r, PGNUM_FINITE);
	r->d = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		int x = pgnum_dec_digit(b->d, b->len, pb, i);
		int v = pgnum_dec_digit(a->d, a->len, pa, i) + (sub ? -x : x) + carry;

		carry = 0;
		if (v < 0) {
			v += 10;
			carry = -1;
		} else if (v >= 10) {
			v -= 10;
			carry = 1;
		}
		r->d[n - 1 - i] = (char)('0' + v);
	}
	r->len = n;
	r->dscale = scale;
	pgnum_strip(r);
}

/* a + b, or a - b when negate_b; exact at the larger display scale (add_var, sub_var). */
static void
pgnum_add_finite(const struct pgnum *a, const struct pgnum *b, bool negate_b, struct pgnum *r)
{
	bool bneg = b->neg != negate_b;
	int64_t scale = a->dscale > b->dscale ? a->dscale : b->dscale;
	struct pgnum_mag ma, mb;

	if (a->neg == bneg) {
		pgnum_add_abs(a, b, false, scale, r);
		r->neg = a->neg;
	} else {
		pgnum_mag(a, &ma);
		pgnum_mag(b, &mb);
		if (pgnum_mag_cmp(&ma, &mb) >= 0) {
			pgnum_add_abs(a, b, true, scale, r);
			r->neg = a->neg;
		} else {
			pgnum_add_abs(b, a, true, scale, r);
			r->neg = bneg;
		}
	}
	if (r->len == 0)
		r->neg = false;
}

/* Limbs of d[0, len) followed by `zeros` zero digits; *nl excludes leading zero limbs. */
static uint32_t *
pgnum_big_from_dec(const char *d, size_t len, size_t zeros, size_t *nl)
{
	size_t total = len + zeros, n = (total + BIG_DIGITS - 1) / BIG_DIGITS, k, i;
	uint32_t *l = xmalloc((n ? n : 1) * sizeof(*l));

	for (k = 0; k < n; k++) {
		uint32_t v = 0;

		for (i = BIG_DIGITS; i-- > 0;)
			v = v * 10 + (uint32_t)pgnum_dec_digit(d, len, zeros, k * BIG_DIGITS + i);
		l[k] = v;
	}
	while (n > 0 && l[n - 1] == 0)
		n--;
	*nl = n;
	return l;
}

/* Decimal digits of l[0, n), into a fresh string without leading zeros. */
static char *
pgnum_big_to_dec(const uint32_t *l, size_t n, size_t *len)
{
	char *d = xmalloc(n * BIG_DIGITS + 1);
	size_t out = 0, k;
	int i;

	while (n > 0 && l[n - 1] == 0)
		n--;
	for (k = n; k-- > 0;) {
		char tmp[BIG_DIGITS];
		uint32_t v = l[k];

		for (i = BIG_DIGITS; i-- > 0;) {
			tmp[i] = (char)('0' + v % 10);
			v /= 10;
		}
		i = 0;
		if (k == n - 1)
			while (i < BIG_DIGITS - 1 && tmp[i] == '0')
				i++;
		memcpy(d + out, tmp + i, (size_t)(BIG_DIGITS - i));
		out += (size_t)(BIG_DIGITS - i);
	}
	*len = out;
	return d;
}

/* a * b into a fresh array of na + nb limbs (schoolbook). */
static uint32_t *
pgnum_big_mul(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	uint32_t *r = xcalloc(na + nb, sizeof(*r));
	size_t i, j;

	for (i = 0; i < na; i++) {
		uint64_t carry = 0;

		if (a[i] == 0)
			continue;
		for (j = 0; j < nb; j++) {
			uint64_t t = (uint64_t)a[i] * b[j] + r[i + j] + carry;

			r[i + j] = (uint32_t)(t % BIG_BASE);
			carry = t / BIG_BASE;
		}
		r[i + nb] = (uint32_t)carry;
	}
	return r;
}

/* q = floor(u / v) with nu >= nv >= 1 and v[nv - 1] != 0; q gets nu - nv + 1 limbs. Knuth's
 * algorithm D (TAOCP 4.3.1) in base 10^9. */
static void
pgnum_big_div(const uint32_t *u, size_t nu, const uint32_t *v, size_t nv, uint32_t *q)
{
	uint32_t *un, *vn;
	uint64_t d, carry, vtop;
	size_t i, j;

	if (nv == 1) {
		uint64_t rem = 0;

		for (i = nu; i-- > 0;) {
			uint64_t cur = rem * BIG_BASE + u[i];

			q[i] = (uint32_t)(cur / v[0]);
			rem = cur % v[0];
		}
		return;
	}
	/* Scale both so the divisor's top limb is at least BIG_BASE / 2. */
	d = BIG_BASE / ((uint64_t)v[nv - 1] + 1);
	un = xmalloc((nu + 1) * sizeof(*un));
	vn = xmalloc(nv * sizeof(*vn));
	carry = 0;
	for (i = 0; i < nu; i++) {
		uint64_t t = u[i] * d + carry;

		un[i] = (uint32_t)(t % BIG_BASE);
		carry = t / BIG_BASE;
	}
	un[nu] = (uint32_t)carry;
	carry = 0;
	for (i = 0; i < nv; i++) {
		uint64_t t = v[i] * d + carry;

		vn[i] = (uint32_t)(t % BIG_BASE);
		carry = t / BIG_BASE;
	}
	vtop = vn[nv - 1];
	for (j = nu - nv + 1; j-- > 0;) {
		uint64_t num = (uint64_t)un[j + nv] * BIG_BASE + un[j + nv - 1];
		uint64_t qhat = num / vtop, rhat;
		int64_t t, borrow = 0;

		if (qhat >= BIG_BASE)
			qhat = BIG_BASE - 1;
		rhat = num - qhat * vtop;
		while (rhat < BIG_BASE && qhat * vn[nv - 2] > rhat * BIG_BASE + un[j + nv - 2]) {
			qhat--;
			rhat += vtop;
		}
		/* Subtract qhat * vn from the window un[j, j + nv]. */
		carry = 0;
		for (i = 0; i < nv; i++) {
			uint64_t p = qhat * vn[i] + carry;

			carry = p / BIG_BASE;
			t = (int64_t)un[i + j] - (int64_t)(p % BIG_BASE) - borrow;
			borrow = t < 0;
			un[i + j] = (uint32_t)(t < 0 ? t + (int64_t)BIG_BASE : t);
		}
		t = (int64_t)un[j + nv] - (int64_t)carry - borrow;
		/* qhat was too large: add the divisor back until the window is not negative. */
		while (t < 0) {
			uint64_t c = 0;

			qhat--;
			for (i = 0; i < nv; i++) {
				uint64_t s = (uint64_t)un[i + j] + vn[i] + c;

				c = s >= BIG_BASE;
				un[i + j] = (uint32_t)(c ? s - BIG_BASE : s);
			}
			t += (int64_t)c;
		}
		un[j + nv] = (uint32_t)t;
		q[j] = (uint32_t)qhat;
	}
	free(un);
	free(vn);
}

/* Power of ten of the first nonzero digit of a nonzero n. */
static int64_t
pgnum_lead_pos(const struct pgnum *n)
{
	return (int64_t)n->len - 1 - n->dscale;
}

/* a * b exactly at dscale1 + dscale2, rounded to 16383 digits when more (numeric_mul).
 * -1 when the product cannot fit numeric. */
static int
pgnum_mul_finite(const struct pgnum *a, const struct pgnum *b, struct pgnum *r)
{
	uint32_t *la, *lb, *lr;
	size_t na, nb;

	pgnum_init(r, PGNUM_FINITE);
	r->dscale = a->dscale + b->dscale;
	if (a->len > 0 && b->len > 0) {
		/* |a * b| >= 10^(lead_a + lead_b): spare the work when that overflows anyway. */
		if (pgnum_lead_pos(a) + pgnum_lead_pos(b) >= PGNUM_MAX_INT_DIGITS)
			return -1;
		la = pgnum_big_from_dec(a->d, a->len, 0, &na);
		lb = pgnum_big_from_dec(b->d, b->len, 0, &nb);
		lr = pgnum_big_mul(la, na, lb, nb);
		r->d = pgnum_big_to_dec(lr, na + nb, &r->len);
		r->neg = a->neg != b->neg;
		free(la);
		free(lb);
		free(lr);
	}
	if (r->dscale > PGNUM_MAX_DSCALE)
		pgnum_round_to(r, PGNUM_MAX_DSCALE, true);
	return 0;
}

/* Weight and first digit of n in numeric's base-10000 form (0 and 0 for zero). */
static void
pgnum_nbase_lead(const struct pgnum *n, int64_t *weight, int *first)
{
	int64_t p, w;
	int m, i, f = 0;

	*weight = 0;
	*first = 0;
	if (n->len == 0)
		return;
	p = pgnum_lead_pos(n);
	w = p >= 0 ? p / PGNUM_DEC_DIGITS : -((-p + PGNUM_DEC_DIGITS - 1) / PGNUM_DEC_DIGITS);
	m = (int)(p - w * PGNUM_DEC_DIGITS) + 1;
	for (i = 0; i < m; i++)
		f = f * 10 + ((size_t)i < n->len ? n->d[i] - '0' : 0);
	*weight = w;
	*first = f;
}

/* select_div_scale(): about 16 significant digits, at least either operand's scale. */
static int64_t
pgnum_div_scale(const struct pgnum *a, const struct pgnum *b)
{
	int64_t w1, w2, qweight, rscale;
	int f1, f2;

	pgnum_nbase_lead(a, &w1, &f1);
	pgnum_nbase_lead(b, &w2, &f2);
	qweight = w1 - w2;
	if (f1 <= f2)
		qweight--;
	rscale = PGNUM_MIN_SIG_DIGITS - qweight * PGNUM_DEC_DIGITS;
	if (rscale < a->dscale)
		rscale = a->dscale;
	if (rscale < b->dscale)
		rscale = b->dscale;
	if (rscale < 0)
		rscale = 0;
	if (rscale > PGNUM_MAX_DISPLAY_SCALE)
		rscale = PGNUM_MAX_DISPLAY_SCALE;
	return rscale;
}

/* a / b rounded half away from zero at select_div_scale() digits (div_var with round). The
 * quotient is truncated one digit further, and that digit decides the rounding. */
static int
pgnum_div_finite(const struct pgnum *a, const struct pgnum *b, struct pgnum *r)
{
	uint32_t *u, *v, *q;
	size_t nu, nv, nq = 0;
	int64_t rscale, e;

	if (b->len == 0)
		return -2;
	rscale = pgnum_div_scale(a, b);
	pgnum_init(r, PGNUM_FINITE);
	r->dscale = rscale;
	if (a->len == 0)
		return 0;
	/* |a| / |b| * 10^(rscale + 1) = (A * 10^e) / B for the digit strings A and B */
	e = b->dscale + rscale + 1 - a->dscale;
	u = pgnum_big_from_dec(a->d, a->len, e > 0 ? (size_t)e : 0, &nu);
	v = pgnum_big_from_dec(b->d, b->len, e < 0 ? (size_t)-e : 0, &nv);
	q = xcalloc(nu + 1, sizeof(*q));
	if (nu >= nv) {
		pgnum_big_div(u, nu, v, nv, q);
		nq = nu - nv + 1;
	}
	r->d = pgnum_big_to_dec(q, nq, &r->len);
	r->neg = a->neg != b->neg;
	r->dscale = rscale + 1;
	free(u);
	free(v);
	free(q);
	pgnum_round_to(r, rscale, true);
	return 0;
}

/* The NaN and infinity rules of numeric_add/sub/mul/div; returns whether they decided. */
static bool
pgnum_special(enum pgnum_op op, const struct pgnum *a, const struct pgnum *b, struct pgnum *r,
              int *rc)
{
	int sa = pgnum_sign(a), sb = pgnum_sign(b);
	bool ainf = a->kind == PGNUM_PINF || a->kind == PGNUM_NINF;
	bool binf = b->kind == PGNUM_PINF || b->kind == PGNUM_NINF;

	*rc = 0;
	if (a->kind == PGNUM_NAN || b->kind == PGNUM_NAN) {
		pgnum_init(r, PGNUM_NAN);
		return true;
	}
	if (!ainf && !binf)
		return false;
	if (op == PGNUM_SUB)
		sb = -sb; /* a - b is a + -b for these rules */
	switch (op) {
	case PGNUM_ADD:
	case PGNUM_SUB:
		/* Inf + -Inf is NaN; otherwise the infinite operand wins */
		if (ainf && binf && sa != sb)
			pgnum_init(r, PGNUM_NAN);
		else
			pgnum_init(r, (ainf ? sa : sb) > 0 ? PGNUM_PINF : PGNUM_NINF);
		return true;
	case PGNUM_MUL:
		if (sa * sb == 0)
			pgnum_init(r, PGNUM_NAN);
		else
			pgnum_init(r, sa * sb > 0 ? PGNUM_PINF : PGNUM_NINF);
		return true;
	case PGNUM_DIV:
		if (!ainf) {
			/* finite / infinity: numeric has no underflow, the result is 0 */
			pgnum_init(r, PGNUM_FINITE);
		} else if (binf) {
			pgnum_init(r, PGNUM_NAN);
		} else if (sb == 0) {
			*rc = -2;
		} else {
			pgnum_init(r, sa * sb > 0 ? PGNUM_PINF : PGNUM_NINF);
		}
		return true;
	}
	return false;
}

static int
pgnum_binary(enum pgnum_op op, const char *as, const char *bs, struct strbuf *out)
{
	struct pgnum a, b, r;
	int rc = -1;

	pgnum_init(&r, PGNUM_BAD);
	if (pgnum_load(as, &a) < 0) {
		pgnum_free(&a);
		return -1;
	}
	if (pgnum_load(bs, &b) < 0)
		goto out;
	if (!pgnum_special(op, &a, &b, &r, &rc)) {
		switch (op) {
		case PGNUM_ADD:
		case PGNUM_SUB:
			pgnum_add_finite(&a, &b, op == PGNUM_SUB, &r);
			rc = 0;
			break;
		case PGNUM_MUL:
			rc = pgnum_mul_finite(&a, &b, &r);
			break;
		case PGNUM_DIV:
			rc = pgnum_div_finite(&a, &b, &r);
			break;
		}
	}
	if (rc == 0)
		rc = pgnum_out(&r, out);
out:
	pgnum_free(&a);
	pgnum_free(&b);
	pgnum_free(&r);
	return rc;
}

int
pgnum_add(const char *a, const char *b, struct strbuf *out)
{
	return pgnum_binary(PGNUM_ADD, a, b, out);
}

int
pgnum_sub(const char *a, const char *b, struct strbuf *out)
{
	return pgnum_binary(PGNUM_SUB, a, b, out);
}

int
pgnum_mul(const char *a, const char *b, struct strbuf *out)
{
	return pgnum_binary(PGNUM_MUL, a, b, out);
}

int
pgnum_div(const char *a, const char *b, struct strbuf *out)
{
	return pgnum_binary(PGNUM_DIV, a, b, out);
}

static int
pgnum_round_trunc(const char *as, int scale, bool round, struct strbuf *out)
{
	struct pgnum a;
	int rc;

	if (pgnum_load(as, &a) < 0) {
		pgnum_free(&a);
		return -1;
	}
	/* numeric_round() and numeric_trunc() clamp the scale to what numeric can hold, as
	 * 15.18 does (older minor releases clamped to +-2000: the results differ only beyond) */
	if (scale < -PGNUM_MAX_INT_DIGITS)
		scale = -PGNUM_MAX_INT_DIGITS;
	if (scale > PGNUM_MAX_DSCALE)
		scale = PGNUM_MAX_DSCALE;
	pgnum_round_to(&a, scale, round);
	rc = pgnum_out(&a, out);
	pgnum_free(&a);
	return rc;
}

int
pgnum_round(const char *a, int scale, struct strbuf *out)
{
	return pgnum_round_trunc(a, scale, true, out);
}

int
pgnum_trunc(const char *a, int scale, struct strbuf *out)
{
	return pgnum_round_trunc(a, scale, false, out);
}

int
pgnum_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct pgnum_text ta, tb;
	struct pgnum_mag ma, mb;
	int sa, sb, c;

	if (a == NULL)
		alen = 0;
	if (b == NULL)
		blen = 0;
	pgnum_text_parse(a, alen, &ta);
	pgnum_text_parse(b, blen, &tb);
	if (ta.kind != tb.kind)
		return ta.kind < tb.kind ? -1 : 1;
	if (ta.kind == PGNUM_BAD) {
		size_t n = alen < blen ? alen : blen;

		c = n > 0 ? memcmp(a, b, n) : 0;
		if (c != 0)
			return c < 0 ? -1 : 1;
		return (alen > blen) - (alen < blen);
	}
	if (ta.kind != PGNUM_FINITE)
		return 0;
	pgnum_text_mag(&ta, &ma);
	pgnum_text_mag(&tb, &mb);
	sa = ma.n1 + ma.n2 == 0 ? 0 : ta.neg ? -1 : 1;
	sb = mb.n1 + mb.n2 == 0 ? 0 : tb.neg ? -1 : 1;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	c = pgnum_mag_cmp(&ma, &mb);
	return sa < 0 ? -c : c;
}

int
pgnum_typmod(const char *as, int precision, int scale, struct strbuf *out)
{
	struct pgnum a;
	int rc = -1;

	if (precision < 1 || precision > PGNUM_MAX_PRECISION || scale < -PGNUM_MAX_SCALE ||
	    scale > PGNUM_MAX_SCALE)
		return -1;
	if (pgnum_load(as, &a) < 0)
		goto out;
	/* apply_typmod_special(): NaN fits any typmod, an infinity none */
	if (a.kind == PGNUM_PINF || a.kind == PGNUM_NINF)
		goto out;
	pgnum_round_to(&a, scale, true);
	/* apply_typmod(): at most precision - scale digits before the point */
	if (a.kind == PGNUM_FINITE && a.len > 0 && (int64_t)a.len - a.dscale > precision - scale)
		goto out;
	rc = pgnum_out(&a, out);
out:
	pgnum_free(&a);
	return rc;
}

/* Whether s[0, len) starts with the lower-case word, ignoring ASCII case (pg_strncasecmp). */
static bool
pgnum_prefix_ci(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word), i;

	if (len < n)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return false;
	}
	return true;
}

int
pgnum_in(const char *s, size_t len, struct strbuf *out)
{
	static const struct {
		const char *word;
		enum pgnum_kind kind;
	} specials[] = {
	        /* numeric_in's order: "Infinity" before "inf" */
	        {"nan", PGNUM_NAN},        {"infinity", PGNUM_PINF}, {"+infinity", PGNUM_PINF},
	        {"-infinity", PGNUM_NINF}, {"inf", PGNUM_PINF},      {"+inf", PGNUM_PINF},
	        {"-inf", PGNUM_NINF},
	};
	struct pgnum n;
	size_t i = 0, k, ibeg, ilen, fbeg = 0, flen = 0, skip;
	int64_t exponent = 0, dscale, zeros;
	bool neg = false;
	int rc;

	if (s == NULL)
		return -1;
	while (i < len && pgnum_is_space(s[i]))
		i++;
	for (k = 0; k < ARRAY_SIZE(specials); k++) {
		if (!pgnum_prefix_ci(s + i, len - i, specials[k].word))
			continue;
		i += strlen(specials[k].word);
		while (i < len && pgnum_is_space(s[i]))
			i++;
		if (i != len)
			return -1;
		pgnum_init(&n, specials[k].kind);
		return pgnum_out(&n, out);
	}

	/* set_var_from_str(): sign, digits with at most one point, at least one digit */
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		i++;
	}
	ibeg = i;
	while (i < len && pgnum_is_digit(s[i]))
		i++;
	ilen = i - ibeg;
	if (i < len && s[i] == '.') {
		fbeg = ++i;
		while (i < len && pgnum_is_digit(s[i]))
			i++;
		flen = i - fbeg;
	}
	if (ilen + flen == 0)
		return -1;
	/* The exponent goes through strtol(): it may have spaces and a sign before its digits. */
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		bool eneg = false;
		size_t ebeg;

		i++;
		while (i < len && pgnum_is_space(s[i]))
			i++;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			eneg = s[i] == '-';
			i++;
		}
		ebeg = i;
		while (i < len && pgnum_is_digit(s[i])) {
			if (exponent <= PGNUM_MAX_EXPONENT)
				exponent = exponent * 10 + (s[i] - '0');
			i++;
		}
		if (i == ebeg)
			return -1;
		if (exponent >= PGNUM_MAX_EXPONENT)
			return -1; /* "value overflows numeric format" */
		if (eneg)
			exponent = -exponent;
	}
	while (i < len && pgnum_is_space(s[i]))
		i++;
	if (i != len)
		return -1;

	/* The digits, leading zeros skipped, times 10^(exponent - flen). */
	skip = 0;
	while (skip < ilen && s[ibeg + skip] == '0')
		skip++;
	if (skip == ilen)
		while (skip < ilen + flen && s[fbeg + skip - ilen] == '0')
			skip++;
	dscale = (int64_t)flen - exponent;
	if (dscale < 0)
		dscale = 0;
	if (dscale > PGNUM_MAX_DSCALE)
		return -1;
	pgnum_init(&n, PGNUM_FINITE);
	n.dscale = dscale;
	if (skip < ilen + flen) {
		size_t dlen = ilen + flen - skip;

		/* digits before the point, checked before allocating for them */
		if ((int64_t)dlen - (int64_t)flen + exponent > PGNUM_MAX_INT_DIGITS)
			return -1;
		zeros = dscale + exponent - (int64_t)flen;
		n.d = xmalloc(dlen + (size_t)zeros + 1);
		if (skip < ilen) {
			memcpy(n.d, s + ibeg + skip, ilen - skip);
			memcpy(n.d + ilen - skip, s + fbeg, flen);
		} else {
			memcpy(n.d, s + fbeg + (skip - ilen), dlen);
		}
		memset(n.d + dlen, '0', (size_t)zeros);
		n.len = dlen + (size_t)zeros;
		n.neg = neg;
	}
	rc = pgnum_out(&n, out);
	pgnum_free(&n);
	return rc;
}
