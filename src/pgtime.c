/* SPDX-License-Identifier: MIT */
/* date, timestamp and timestamptz on their stored text: input of literals, interval input and
 * output, arithmetic, date_trunc, extract, casts and order, as PostgreSQL 15 computes them in a
 * UTC session (timestamp.c, date.c, datetime.c). Pure: no I/O, no logging. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pgtime.h"
#include "pgvalue.h"
#include "util.h"

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_MINUTE INT64_C(60000000)
#define USECS_PER_HOUR INT64_C(3600000000)
#define USECS_PER_DAY INT64_C(86400000000)

/* Julian day numbers: 2000-01-01 (PostgreSQL's epoch), 1970-01-01, and the ends of the ranges.
 * Day 0 is 4714-11-24 BC, the first date and timestamp; dates end before 5874898-01-01,
 * timestamps before 294277-01-01. */
#define PGT_EPOCH_JDATE INT64_C(2451545)
#define PGT_UNIX_JDATE INT64_C(2440588)
#define PGT_DATE_END_JULIAN INT64_C(2147483494)
#define PGT_TS_END_JULIAN INT64_C(109203528)
/* Timestamps are microseconds since 2000-01-01 00:00:00, in [PGT_MIN_TS, PGT_END_TS). */
#define PGT_MIN_TS (-PGT_EPOCH_JDATE * USECS_PER_DAY)
#define PGT_END_TS ((PGT_TS_END_JULIAN - PGT_EPOCH_JDATE) * USECS_PER_DAY)
/* 1970-01-01 00:00:00 as a timestamp. */
#define PGT_UNIX_EPOCH_TS ((PGT_UNIX_JDATE - PGT_EPOCH_JDATE) * USECS_PER_DAY)

/* A zone displacement beyond 15:59:59 is "out of range" (MAX_TZDISP_HOUR). */
#define PGT_MAX_ZONE_HOUR 15

/* A value of one of the three types: dates count days, timestamps microseconds, both from
 * 2000-01-01. */
struct pgt_value {
	int inf; /* -1 for -infinity, 1 for infinity, 0 when t is meaningful */
	int64_t t;
};

/* Broken-down date with the astronomical year (0 is 1 BC, -1 is 2 BC). */
struct pgt_ymd {
	int64_t year;
	int mon;
	int mday;
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* isspace() in the C locale, which is what ParseDateTime skips. */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char
to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
is_alpha(char c)
{
	c = to_lower(c);
	return c >= 'a' && c <= 'z';
}

static bool
equal_nocase(const char *s, size_t len, const char *word)
{
	size_t i;

	if (strlen(word) != len)
		return false;
	for (i = 0; i < len; i++)
		if (to_lower(s[i]) != word[i])
			return false;
	return true;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool
is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int
days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Julian day of a proleptic Gregorian date; exact for any year that fits in a few billions. */
static int64_t
date2j(int64_t y, int m, int d)
{
	return pgv_days_from_2000(y, m, d) + PGT_EPOCH_JDATE;
}

static void
j2date(int64_t julian, struct pgt_ymd *ymd)
{
	int64_t z = julian - PGT_UNIX_JDATE + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	ymd->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	ymd->mon = m;
	ymd->year = yoe + era * 400 + (m <= 2);
}

/* Day of the week, 0 for Sunday (j2day). */
static int
j2day(int64_t julian)
{
	return (int)(julian + 1 - floor_div(julian + 1, 7) * 7);
}

/* The julian day of the Monday of ISO week 1 of ISO year y. */
static int64_t
iso_week1_monday(int64_t y)
{
	int64_t jan4 = date2j(y, 1, 4);

	return jan4 - (j2day(jan4) + 6) % 7;
}

/* ISO 8601 week-numbering year and week of a day. */
static void
j2isoweek(int64_t julian, int64_t *isoyear, int *week)
{
	/* the week belongs to the year its Thursday is in */
	int64_t thursday = julian - (j2day(julian) + 6) % 7 + 3;
	struct pgt_ymd ymd;

	j2date(thursday, &ymd);
	*isoyear = ymd.year;
	*week = (int)((julian - iso_week1_monday(ymd.year)) / 7 + 1);
}

static void
ts_split(int64_t t, int64_t *julian, int64_t *tod)
{
	int64_t days = floor_div(t, USECS_PER_DAY);

	*tod = t - days * USECS_PER_DAY;
	*julian = days + PGT_EPOCH_JDATE;
}

/* tm2timestamp: the timestamp of a day and a time of day, or -1 when out of range. */
static int
ts_make(int64_t julian, int64_t tod, int64_t *t)
{
	if (julian < -1 || julian > PGT_TS_END_JULIAN)
		return -1;
	*t = (julian - PGT_EPOCH_JDATE) * USECS_PER_DAY + tod;
	if (*t < PGT_MIN_TS || *t >= PGT_END_TS)
		return -1;
	return 0;
}

/* ---- output ---- */

static void
put_ymd(struct strbuf *out, int64_t julian, bool *bc)
{
	struct pgt_ymd ymd;

	j2date(julian, &ymd);
	*bc = ymd.year <= 0;
	strbuf_printf(out, "%04" PRId64 "-%02d-%02d", *bc ? 1 - ymd.year : ymd.year, ymd.mon,
	              ymd.mday);
}

/* AppendSeconds: two digits, then the fraction without its trailing zeros. */
static void
put_seconds(struct strbuf *out, int64_t sec, int64_t usec)
{
	char frac[8];
	int n;

	strbuf_printf(out, "%02" PRId64, sec);
	if (usec == 0)
		return;
	snprintf(frac, sizeof(frac), "%06d", (int)usec);
	for (n = 6; frac[n - 1] == '0'; n--)
		;
	strbuf_putc(out, '.');
	strbuf_append(out, frac, (size_t)n);
}

static void
put_value(struct strbuf *out, enum pgtime_type type, const struct pgt_value *v)
{
	int64_t julian, tod;
	bool bc;

	if (v->inf) {
		strbuf_puts(out, v->inf < 0 ? "-infinity" : "infinity");
		return;
	}
	if (type == PGTIME_DATE) {
		put_ymd(out, v->t + PGT_EPOCH_JDATE, &bc);
	} else {
		ts_split(v->t, &julian, &tod);
		put_ymd(out, julian, &bc);
		strbuf_printf(out, " %02d:%02d:", (int)(tod / USECS_PER_HOUR),
		              (int)(tod / USECS_PER_MINUTE % 60));
		put_seconds(out, tod / USECS_PER_SEC % 60, tod % USECS_PER_SEC);
		if (type == PGTIME_TIMESTAMPTZ)
			strbuf_puts(out, "+00");
	}
	if (bc)
		strbuf_puts(out, " BC");
}

/* ---- the stored form ---- */

/* What a stored value says, before it is checked against a type. */
struct pgt_stored {
	int inf;
	bool has_time;
	bool has_zone;
	int64_t julian;
	int64_t usec; /* time of day less the zone: may fall outside the day */
};

/* Reads exactly n digits at s[*i]. */
static int
read_digits(const char *s, size_t len, size_t *i, int n, int *val)
{
	int v = 0, k;

	if (len - *i < (size_t)n)
		return -1;
	for (k = 0; k < n; k++) {
		if (!is_digit(s[*i + k]))
			return -1;
		v = v * 10 + (s[*i + k] - '0');
	}
	*i += (size_t)n;
	*val = v;
	return 0;
}

/* Reads '.' and 1 to 6 digits as microseconds; nothing when there is no '.'. */
static int
read_fraction(const char *s, size_t len, size_t *i, int *usec)
{
	int n = 0, v = 0;

	*usec = 0;
	if (*i >= len || s[*i] != '.')
		return 0;
	(*i)++;
	while (*i < len && is_digit(s[*i])) {
		if (++n > 6)
			return -1;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (n == 0)
		return -1;
	for (; n < 6; n++)
		v *= 10;
	*usec = v;
	return 0;
}

/* Parses the text PostgreSQL prints with DateStyle ISO: "YYYY-MM-DD[ HH:MM:SS[.f][+HH[:MM[:SS]]]]
 * [ BC]", at least four year digits, or an infinity. */
static int
stored_parse(const char *s, size_t len, struct pgt_stored *st)
{
	size_t i = 0, nd = 0;
	int64_t year = 0;
	int mon, mday, h, m, sec, usec = 0, zh = 0, zm = 0, zs = 0, zsign = 0;

	memset(st, 0, sizeof(*st));
	if (len == 8 && memcmp(s, "infinity", 8) == 0) {
		st->inf = 1;
		return 0;
	}
	if (len == 9 && memcmp(s, "-infinity", 9) == 0) {
		st->inf = -1;
		return 0;
	}
	while (nd < len && nd < 8 && is_digit(s[nd]))
		year = year * 10 + (s[nd++] - '0');
	/* "%04d": more than four digits only from 10000 on, and no year has more than 7 */
	if (nd < 4 || nd > 7 || (nd > 4 && s[0] == '0') || year == 0)
		return -1;
	i = nd;
	if (i >= len || s[i++] != '-' || read_digits(s, len, &i, 2, &mon) < 0)
		return -1;
	if (i >= len || s[i++] != '-' || read_digits(s, len, &i, 2, &mday) < 0)
		return -1;
	if (i + 1 < len && s[i] == ' ' && is_digit(s[i + 1])) {
		i++;
		if (read_digits(s, len, &i, 2, &h) < 0 || i >= len || s[i++] != ':' ||
		    read_digits(s, len, &i, 2, &m) < 0 || i >= len || s[i++] != ':' ||
		    read_digits(s, len, &i, 2, &sec) < 0 || read_fraction(s, len, &i, &usec) < 0)
			return -1;
		if (h > 23 || m > 59 || sec > 59)
			return -1;
		st->has_time = true;
		st->usec = h * USECS_PER_HOUR + m * USECS_PER_MINUTE + sec * USECS_PER_SEC + usec;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			zsign = s[i++] == '-' ? -1 : 1;
			if (read_digits(s, len, &i, 2, &zh) < 0)
				return -1;
			if (i < len && s[i] == ':') {
				i++;
				if (read_digits(s, len, &i, 2, &zm) < 0)
					return -1;
				if (i < len && s[i] == ':') {
					i++;
					if (read_digits(s, len, &i, 2, &zs) < 0)
						return -1;
				}
			}
			if (zh > PGT_MAX_ZONE_HOUR || zm > 59 || zs > 59)
				return -1;
			st->has_zone = true;
			/* "+05" is five hours east of UTC: UTC is five hours earlier */
			st->usec -= zsign * ((zh * 60 + zm) * 60 + zs) * USECS_PER_SEC;
		}
	}
	if (len - i == 3 && memcmp(s + i, " BC", 3) == 0) {
		year = 1 - year;
		i += 3;
	}
	if (i != len || mon < 1 || mon > 12 || mday < 1 || mday > days_in_month(year, mon))
		return -1;
	st->julian = date2j(year, mon, mday);
	if (st->julian < 0 || st->julian >= PGT_DATE_END_JULIAN)
		return -1;
	return 0;
}

/* Parses the stored form of a value of the given type (NUL-terminated, NULL refused). */
static int
value_parse(enum pgtime_type type, const char *s, struct pgt_value *v)
{
	struct pgt_stored st;

	if (s == NULL || stored_parse(s, strlen(s), &st) < 0)
		return -1;
	v->inf = st.inf;
	v->t = 0;
	if (st.inf)
		return type <= PGTIME_TIMESTAMPTZ ? 0 : -1;
	switch (type) {
	case PGTIME_DATE:
		if (st.has_time)
			return -1;
		v->t = st.julian - PGT_EPOCH_JDATE;
		return 0;
	case PGTIME_TIMESTAMP:
	case PGTIME_TIMESTAMPTZ:
		if (!st.has_time || st.has_zone != (type == PGTIME_TIMESTAMPTZ))
			return -1;
		return ts_make(st.julian, st.usec, &v->t);
	}
	return -1;
}

/* date2timestamp: midnight of a date, or -1 past the timestamp range. */
static int
date_to_ts(const struct pgt_value *d, struct pgt_value *ts)
{
	ts->inf = d->inf;
	ts->t = 0;
	if (d->inf)
		return 0;
	return ts_make(d->t + PGT_EPOCH_JDATE, 0, &ts->t);
}

/* ---- literal input ---- */

/* "HH:MM[:SS[.f]]" with two-digit fields, in microseconds. Like PostgreSQL, hour 24 and second 60
 * pass as long as the time is not past 24:00:00 (12:59:60.5 is 13:00:00.5). */
static int
literal_time(const char *s, size_t len, size_t *i, int64_t *tod)
{
	int h, m, sec = 0, usec = 0;

	if (read_digits(s, len, i, 2, &h) < 0 || *i >= len || s[(*i)++] != ':' ||
	    read_digits(s, len, i, 2, &m) < 0)
		return -1;
	if (*i < len && s[*i] == ':') {
		(*i)++;
		if (read_digits(s, len, i, 2, &sec) < 0 || read_fraction(s, len, i, &usec) < 0)
			return -1;
	}
	if (h > 24 || m > 59 || sec > 60)
		return -1;
	*tod = h * USECS_PER_HOUR + m * USECS_PER_MINUTE + sec * USECS_PER_SEC + usec;
	return *tod > USECS_PER_DAY ? -1 : 0;
}

/* "Z", "+HH", "+HHMM" or "+HH:MM" (or '-'), as seconds east of UTC. */
static int
literal_zone(const char *s, size_t len, size_t *i, int64_t *east)
{
	int sign, h = 0, m = 0;
	size_t n = 0;

	if (*i < len && (s[*i] == 'Z' || s[*i] == 'z')) {
		(*i)++;
		*east = 0;
		return 0;
	}
	if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
		return -1;
	sign = s[(*i)++] == '-' ? -1 : 1;
	while (*i + n < len && is_digit(s[*i + n]))
		n++;
	if (n == 4) {
		if (read_digits(s, len, i, 2, &h) < 0 || read_digits(s, len, i, 2, &m) < 0)
			return -1;
	} else if (n == 2) {
		if (read_digits(s, len, i, 2, &h) < 0)
			return -1;
		if (*i < len && s[*i] == ':') {
			(*i)++;
			if (read_digits(s, len, i, 2, &m) < 0)
				return -1;
			if (*i < len && is_digit(s[*i]))
				return -1;
		}
	} else {
		return -1;
	}
	if (h > PGT_MAX_ZONE_HOUR || m > 59)
		return -1;
	*east = sign * (h * 60 + m) * 60;
	return 0;
}

int
pgtime_in(enum pgtime_type type, const char *s, size_t len, struct strbuf *out)
{
	struct pgt_value v = {0, 0};
	size_t i = 0, j;
	int year, mon, mday;
	int64_t tod = 0, east = 0, julian;
	bool has_time = false;

	if (s == NULL || type > PGTIME_TIMESTAMPTZ)
		return -1;
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	while (i < len && is_blank(s[i]))
		i++;
	if (equal_nocase(s + i, len - i, "infinity") || equal_nocase(s + i, len - i, "-infinity")) {
		v.inf = s[i] == '-' ? -1 : 1;
		put_value(out, type, &v);
		return 0;
	}
	if (read_digits(s, len, &i, 4, &year) < 0 || i >= len || s[i++] != '-' ||
	    read_digits(s, len, &i, 2, &mon) < 0 || i >= len || s[i++] != '-' ||
	    read_digits(s, len, &i, 2, &mday) < 0)
		return -1;
	if (year < 1 || mon < 1 || mon > 12 || mday < 1 || mday > days_in_month(year, mon))
		return -1;
	/* the time: after blanks, a 'T', or both */
	j = i;
	while (j < len && is_blank(s[j]))
		j++;
	if (j < len && (s[j] == 'T' || s[j] == 't')) {
		j++;
		while (j < len && is_blank(s[j]))
			j++;
	}
	if (j > i && j < len && is_digit(s[j])) {
		if (literal_time(s, len, &j, &tod) < 0)
			return -1;
		has_time = true;
		i = j;
	}
	/* a zone, only after a time */
	j = i;
	while (j < len && is_blank(s[j]))
		j++;
	if (has_time && j < len && !is_digit(s[j])) {
		if (literal_zone(s, len, &j, &east) < 0)
			return -1;
		i = j;
	}
	if (i != len)
		return -1;

	julian = date2j(year, mon, mday);
	if (type == PGTIME_DATE) {
		v.t = julian - PGT_EPOCH_JDATE;
	} else {
		if (type == PGTIME_TIMESTAMP)
			east = 0;
		if (ts_make(julian, tod - east * USECS_PER_SEC, &v.t) < 0)
			return -1;
	}
	put_value(out, type, &v);
	return 0;
}

/* ---- units ---- */

enum pgt_unit {
	U_NONE,
	U_MICROSEC,
	U_MILLISEC,
	U_SECOND,
	U_MINUTE,
	U_HOUR,
	U_DAY,
	U_WEEK,
	U_MONTH,
	U_QUARTER,
	U_YEAR,
	U_DECADE,
	U_CENTURY,
	U_MILLENNIUM,
	U_TZ,
	U_TZ_HOUR,
	U_TZ_MINUTE,
	U_DOW,
	U_DOY,
	U_ISODOW,
	U_ISOYEAR,
	U_JULIAN,
	U_EPOCH,
	U_RESERVED, /* a word PostgreSQL knows but supports for no type ("now") */
};

struct pgt_unit_name {
	const char *name;
	enum pgt_unit unit;
};

/* The UNITS of datetime.c's deltatktbl (DecodeUnits), which interval input and date_trunc use. */
static const struct pgt_unit_name delta_units[] = {
        {"c", U_CENTURY},
        {"cent", U_CENTURY},
        {"centuries", U_CENTURY},
        {"century", U_CENTURY},
        {"d", U_DAY},
        {"day", U_DAY},
        {"days", U_DAY},
        {"dec", U_DECADE},
        {"decade", U_DECADE},
        {"decades", U_DECADE},
        {"decs", U_DECADE},
        {"h", U_HOUR},
        {"hour", U_HOUR},
        {"hours", U_HOUR},
        {"hr", U_HOUR},
        {"hrs", U_HOUR},
        {"m", U_MINUTE},
        {"microsecon", U_MICROSEC},
        {"mil", U_MILLENNIUM},
        {"millennia", U_MILLENNIUM},
        {"millennium", U_MILLENNIUM},
        {"millisecon", U_MILLISEC},
        {"mils", U_MILLENNIUM},
        {"min", U_MINUTE},
        {"mins", U_MINUTE},
        {"minute", U_MINUTE},
        {"minutes", U_MINUTE},
        {"mon", U_MONTH},
        {"mons", U_MONTH},
        {"month", U_MONTH},
        {"months", U_MONTH},
        {"ms", U_MILLISEC},
        {"msec", U_MILLISEC},
        {"msecond", U_MILLISEC},
        {"mseconds", U_MILLISEC},
        {"msecs", U_MILLISEC},
        {"qtr", U_QUARTER},
        {"quarter", U_QUARTER},
        {"s", U_SECOND},
        {"sec", U_SECOND},
        {"second", U_SECOND},
        {"seconds", U_SECOND},
        {"secs", U_SECOND},
        {"timezone", U_TZ},
        {"timezone_h", U_TZ_HOUR},
        {"timezone_m", U_TZ_MINUTE},
        {"us", U_MICROSEC},
        {"usec", U_MICROSEC},
        {"usecond", U_MICROSEC},
        {"useconds", U_MICROSEC},
        {"usecs", U_MICROSEC},
        {"w", U_WEEK},
        {"week", U_WEEK},
        {"weeks", U_WEEK},
        {"y", U_YEAR},
        {"year", U_YEAR},
        {"years", U_YEAR},
        {"yr", U_YEAR},
        {"yrs", U_YEAR},
        {"invalid", U_RESERVED},
        {"undefined", U_RESERVED},
};

/* What extract also finds in datetktbl (DecodeSpecial) when DecodeUnits knows nothing. */
static const struct pgt_unit_name special_units[] = {
        {"dow", U_DOW},
        {"doy", U_DOY},
        {"isodow", U_ISODOW},
        {"isoyear", U_ISOYEAR},
        {"j", U_JULIAN},
        {"jd", U_JULIAN},
        {"julian", U_JULIAN},
        {"mm", U_MINUTE},
        {"epoch", U_EPOCH},
        {"-infinity", U_RESERVED},
        {"infinity", U_RESERVED},
        {"now", U_RESERVED},
        {"today", U_RESERVED},
        {"tomorrow", U_RESERVED},
        {"yesterday", U_RESERVED},
        {"allballs", U_RESERVED},
};

/* Tokens are compared on at most 10 characters (TOKMAXLEN), so "microseconds" finds
 * "microsecon"; the name is lower case, the key any case. */
static bool
unit_matches(const char *key, size_t klen, const char *name)
{
	size_t n = strlen(name), i;

	if (n == 10 ? klen < 10 : klen != n)
		return false;
	for (i = 0; i < n; i++)
		if (to_lower(key[i]) != name[i])
			return false;
	return true;
}

static enum pgt_unit
unit_lookup(const struct pgt_unit_name *table, size_t n, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (unit_matches(key, klen, table[i].name))
			return table[i].unit;
	return U_NONE;
}

static enum pgt_unit
delta_unit(const char *key, size_t klen)
{
	return unit_lookup(delta_units, ARRAY_SIZE(delta_units), key, klen);
}

/* ---- intervals ---- */

/* Bits for the units an interval literal may give once (DecodeInterval's fmask). */
#define IV_YEAR (1u << 0)
#define IV_MONTH (1u << 1)
#define IV_DAY (1u << 2)
#define IV_WEEK (1u << 3)
#define IV_HOUR (1u << 4)
#define IV_MINUTE (1u << 5)
#define IV_SECOND (1u << 6)
#define IV_MILLISEC (1u << 7)
#define IV_MICROSEC (1u << 8)
#define IV_DECADE (1u << 9)
#define IV_CENTURY (1u << 10)
#define IV_MILLENNIUM (1u << 11)
#define IV_TIME (IV_HOUR | IV_MINUTE | IV_SECOND | IV_MILLISEC | IV_MICROSEC)

/* The fields as DecodeInterval gathers them, each in PostgreSQL's width. */
struct pgt_iv_fields {
	int32_t years;
	int32_t mons;
	int32_t days;
	int64_t usecs;
};

/* Reads [+-]digits into an int64 as strtoi64 does (overflow is an error). */
static int
read_int64(const char *s, size_t len, size_t *i, int64_t *val)
{
	bool neg = false;
	uint64_t v = 0;
	size_t start;

	if (*i < len && (s[*i] == '+' || s[*i] == '-'))
		neg = s[(*i)++] == '-';
	start = *i;
	while (*i < len && is_digit(s[*i])) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[(*i)++] - '0');
	}
	if (*i == start)
		return -1;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		*val = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		*val = (int64_t)v;
	}
	return 0;
}

/* AdjustDays/AdjustYears/AdjustMonths: val * scale added to an int field, all in int32. */
static int
iv_add32(int32_t *field, int64_t val, int32_t scale)
{
	int32_t prod;

	if (val < INT32_MIN || val > INT32_MAX)
		return -1;
	if (__builtin_mul_overflow((int32_t)val, scale, &prod) ||
	    __builtin_add_overflow(*field, prod, field))
		return -1;
	return 0;
}

/* AdjustMicroseconds: val * scale added to the microseconds, in int64. */
static int
iv_add64(int64_t *field, int64_t val, int64_t scale)
{
	int64_t prod;

	if (__builtin_mul_overflow(val, scale, &prod) ||
	    __builtin_add_overflow(*field, prod, field))
		return -1;
	return 0;
}

/* "[+-]H:MM[:SS[.f]]", the sign already read; hours of any length. */
static int
iv_time(const char *s, size_t len, size_t *i, bool neg, int64_t *usecs)
{
	int64_t h = 0, v;
	int m, sec = 0, usec = 0;
	size_t start = *i;

	while (*i < len && is_digit(s[*i])) {
		if (h > (INT64_MAX - 9) / 10)
			return -1;
		h = h * 10 + (s[(*i)++] - '0');
	}
	if (*i == start || *i >= len || s[(*i)++] != ':' || read_digits(s, len, i, 2, &m) < 0)
		return -1;
	if (*i < len && s[*i] == ':') {
		(*i)++;
		if (read_digits(s, len, i, 2, &sec) < 0 || read_fraction(s, len, i, &usec) < 0)
			return -1;
	}
	if (m > 59 || sec > 60)
		return -1;
	if (__builtin_mul_overflow(h, USECS_PER_HOUR, &v) ||
	    __builtin_add_overflow(v, m * USECS_PER_MINUTE + sec * USECS_PER_SEC + usec, &v))
		return -1;
	*usecs = neg ? -v : v;
	return 0;
}

/* One "<integer> <unit>" item. */
static int
iv_unit(struct pgt_iv_fields *f, unsigned *mask, int64_t val, const char *unit, size_t ulen)
{
	unsigned bit;
	int rc;

	switch (delta_unit(unit, ulen)) {
	case U_MICROSEC:
		bit = IV_MICROSEC;
		rc = iv_add64(&f->usecs, val, 1);
		break;
	case U_MILLISEC:
		bit = IV_MILLISEC;
		rc = iv_add64(&f->usecs, val, 1000);
		break;
	case U_SECOND:
		bit = IV_SECOND;
		rc = iv_add64(&f->usecs, val, USECS_PER_SEC);
		break;
	case U_MINUTE:
		bit = IV_MINUTE;
		rc = iv_add64(&f->usecs, val, USECS_PER_MINUTE);
		break;
	case U_HOUR:
		bit = IV_HOUR;
		rc = iv_add64(&f->usecs, val, USECS_PER_HOUR);
		break;
	case U_DAY:
		bit = IV_DAY;
		rc = iv_add32(&f->days, val, 1);
		break;
	case U_WEEK:
		bit = IV_WEEK;
		rc = iv_add32(&f->days, val, 7);
		break;
	case U_MONTH:
		bit = IV_MONTH;
		rc = iv_add32(&f->mons, val, 1);
		break;
	case U_YEAR:
		bit = IV_YEAR;
		rc = iv_add32(&f->years, val, 1);
		break;
	case U_DECADE:
		bit = IV_DECADE;
		rc = iv_add32(&f->years, val, 10);
		break;
	case U_CENTURY:
		bit = IV_CENTURY;
		rc = iv_add32(&f->years, val, 100);
		break;
	case U_MILLENNIUM:
		bit = IV_MILLENNIUM;
		rc = iv_add32(&f->years, val, 1000);
		break;
	default:
		return -1;
	}
	if (rc < 0 || (*mask & bit))
		return -1;
	*mask |= bit;
	return 0;
}

int
pgtime_interval_in(const char *s, size_t len, struct pgtime_interval *out)
{
	struct pgt_iv_fields f = {0, 0, 0, 0};
	unsigned mask = 0;
	size_t i = 0, u;
	int64_t val, months, usecs;
	bool neg;

	if (s == NULL)
		return -1;
	for (;;) {
		while (i < len && is_blank(s[i]))
			i++;
		if (i >= len)
			break;
		neg = s[i] == '-';
		u = i + (s[i] == '+' || s[i] == '-');
		while (u < len && is_digit(s[u]))
			u++;
		if (u < len && s[u] == ':') {
			/* a time replaces hours, minutes and seconds */
			i += s[i] == '+' || s[i] == '-';
			if ((mask & IV_TIME) || iv_time(s, len, &i, neg, &usecs) < 0 ||
			    __builtin_add_overflow(f.usecs, usecs, &f.usecs))
				return -1;
			mask |= IV_TIME;
		} else {
			if (read_int64(s, len, &i, &val) < 0)
				return -1;
			while (i < len && is_blank(s[i]))
				i++;
			u = i;
			while (i < len && is_alpha(s[i]))
				i++;
			if (i == u || iv_unit(&f, &mask, val, s + u, i - u) < 0)
				return -1;
		}
		if (i < len && !is_blank(s[i]))
			return -1;
	}
	if (mask == 0)
		return -1;
	months = (int64_t)f.years * 12 + f.mons;
	if (months < INT32_MIN || months > INT32_MAX)
		return -1;
	out->months = (int32_t)months;
	out->days = f.days;
	out->usecs = f.usecs;
	return 0;
}

/* AddPostgresIntPart */
static void
iv_put_part(struct strbuf *out, int64_t value, const char *unit, bool *is_zero, bool *is_before)
{
	if (value == 0)
		return;
	strbuf_printf(out, "%s%s%" PRId64 " %s%s", *is_zero ? "" : " ",
	              *is_before && value > 0 ? "+" : "", value, unit, value != 1 ? "s" : "");
	*is_before = value < 0;
	*is_zero = false;
}

void
pgtime_interval_out(const struct pgtime_interval *iv, struct strbuf *out)
{
	bool is_zero = true, is_before = false, minus;
	int64_t hour, min, sec, usec;

	hour = iv->usecs / USECS_PER_HOUR;
	min = iv->usecs % USECS_PER_HOUR / USECS_PER_MINUTE;
	sec = iv->usecs % USECS_PER_MINUTE / USECS_PER_SEC;
	usec = iv->usecs % USECS_PER_SEC;
	iv_put_part(out, iv->months / 12, "year", &is_zero, &is_before);
	iv_put_part(out, iv->months % 12, "mon", &is_zero, &is_before);
	iv_put_part(out, iv->days, "day", &is_zero, &is_before);
	if (!is_zero && iv->usecs == 0)
		return;
	minus = iv->usecs < 0;
	strbuf_printf(out, "%s%s%02" PRId64 ":%02" PRId64 ":", is_zero ? "" : " ",
	              minus ? "-" : (is_before ? "+" : ""), minus ? -hour : hour,
	              minus ? -min : min);
	put_seconds(out, minus ? -sec : sec, minus ? -usec : usec);
}

/* ---- arithmetic ---- */

/* timestamp_pl_interval on a finite timestamp. */
static int
ts_add(int64_t t, int64_t months, int64_t days, int64_t usecs, int64_t *res)
{
	int64_t julian, tod, m0;
	struct pgt_ymd ymd;

	if (months != 0) {
		ts_split(t, &julian, &tod);
		j2date(julian, &ymd);
		m0 = ymd.mon - 1 + months;
		ymd.year += floor_div(m0, 12);
		ymd.mon = (int)(m0 - floor_div(m0, 12) * 12) + 1;
		if (ymd.year < -5000 || ymd.year > 300000)
			return -1;
		if (ymd.mday > days_in_month(ymd.year, ymd.mon))
			ymd.mday = days_in_month(ymd.year, ymd.mon);
		if (ts_make(date2j(ymd.year, ymd.mon, ymd.mday), tod, &t) < 0)
			return -1;
	}
	if (days != 0) {
		ts_split(t, &julian, &tod);
		if (ts_make(julian + days, tod, &t) < 0)
			return -1;
	}
	if (__builtin_add_overflow(t, usecs, &t) || t < PGT_MIN_TS || t >= PGT_END_TS)
		return -1;
	*res = t;
	return 0;
}

int
pgtime_add_interval(enum pgtime_type type, const char *ts, const struct pgtime_interval *iv,
                    int sign, struct strbuf *out)
{
	struct pgt_value v, d;
	int64_t months, days, usecs;

	if (iv == NULL || (sign != 1 && sign != -1) || value_parse(type, ts, &v) < 0)
		return -1;
	months = iv->months;
	days = iv->days;
	usecs = iv->usecs;
	if (sign < 0) {
		/* PostgreSQL 15 negates without a check: the minimum wraps to itself */
		if (months == INT32_MIN || days == INT32_MIN || usecs == INT64_MIN)
			return -1;
		months = -months;
		days = -days;
		usecs = -usecs;
	}
	if (type == PGTIME_DATE) {
		d = v;
		if (date_to_ts(&d, &v) < 0)
			return -1;
		type = PGTIME_TIMESTAMP;
	}
	if (!v.inf && ts_add(v.t, months, days, usecs, &v.t) < 0)
		return -1;
	put_value(out, type, &v);
	return 0;
}

int
pgtime_date_diff(const char *a, const char *b, int64_t *days)
{
	struct pgt_value va, vb;

	if (value_parse(PGTIME_DATE, a, &va) < 0 || value_parse(PGTIME_DATE, b, &vb) < 0)
		return -1;
	if (va.inf || vb.inf)
		return -1;
	*days = va.t - vb.t;
	return 0;
}

int
pgtime_sub(enum pgtime_type type, const char *a, const char *b, struct strbuf *out)
{
	struct pgt_value va, vb;
	struct pgtime_interval iv;
	int64_t diff, wholeday;

	if (type == PGTIME_DATE) {
		if (pgtime_date_diff(a, b, &diff) < 0)
			return -1;
		strbuf_printf(out, "%" PRId64, diff);
		return 0;
	}
	if (value_parse(type, a, &va) < 0 || value_parse(type, b, &vb) < 0)
		return -1;
	/* PostgreSQL 15 wraps a difference past int64; leave that to it */
	if (va.inf || vb.inf || __builtin_sub_overflow(va.t, vb.t, &diff))
		return -1;
	/* interval_justify_hours */
	wholeday = diff / USECS_PER_DAY;
	diff -= wholeday * USECS_PER_DAY;
	if (wholeday > 0 && diff < 0) {
		diff += USECS_PER_DAY;
		wholeday--;
	} else if (wholeday < 0 && diff > 0) {
		diff -= USECS_PER_DAY;
		wholeday++;
	}
	iv.months = 0;
	iv.days = (int32_t)wholeday;
	iv.usecs = diff;
	pgtime_interval_out(&iv, out);
	return 0;
}

/* ---- date_trunc ---- */

/* The first year of the millennium, century or decade of an astronomical year, as
 * timestamp_trunc computes it (year 0 is 1 BC, centuries run 1..100 and -99..0). */
static int64_t
trunc_year(enum pgt_unit unit, int64_t y)
{
	switch (unit) {
	case U_MILLENNIUM:
		return y > 0 ? (y + 999) / 1000 * 1000 - 999 : -((999 - (y - 1)) / 1000) * 1000 + 1;
	case U_CENTURY:
		return y > 0 ? (y + 99) / 100 * 100 - 99 : -((99 - (y - 1)) / 100) * 100 + 1;
	case U_DECADE:
		return y > 0 ? y / 10 * 10 : -((8 - (y - 1)) / 10) * 10;
	default:
		return y;
	}
}

int
pgtime_date_trunc(const char *field, enum pgtime_type type, const char *x, struct strbuf *out)
{
	struct pgt_value v, d;
	enum pgt_unit unit;
	int64_t julian, tod;
	struct pgt_ymd ymd;

	if (field == NULL || value_parse(type, x, &v) < 0)
		return -1;
	if (type == PGTIME_DATE) {
		d = v;
		if (date_to_ts(&d, &v) < 0)
			return -1;
		type = PGTIME_TIMESTAMPTZ;
	}
	if (v.inf) {
		/* timestamp_trunc returns an infinity before it looks at the field */
		put_value(out, type, &v);
		return 0;
	}
	unit = delta_unit(field, strlen(field));
	ts_split(v.t, &julian, &tod);
	j2date(julian, &ymd);
	switch (unit) {
	case U_WEEK:
		/* the Monday of the ISO week */
		julian -= (j2day(julian) + 6) % 7;
		tod = 0;
		break;
	case U_MILLENNIUM:
	case U_CENTURY:
	case U_DECADE:
	case U_YEAR:
	case U_QUARTER:
	case U_MONTH:
		ymd.year = trunc_year(unit, ymd.year);
		if (unit == U_QUARTER)
			ymd.mon = (ymd.mon - 1) / 3 * 3 + 1;
		else if (unit != U_MONTH)
			ymd.mon = 1;
		julian = date2j(ymd.year, ymd.mon, 1);
		tod = 0;
		break;
	case U_DAY:
		tod = 0;
		break;
	case U_HOUR:
		tod -= tod % USECS_PER_HOUR;
		break;
	case U_MINUTE:
		tod -= tod % USECS_PER_MINUTE;
		break;
	case U_SECOND:
		tod -= tod % USECS_PER_SEC;
		break;
	case U_MILLISEC:
		tod -= tod % 1000;
		break;
	case U_MICROSEC:
		break;
	default:
		return -1;
	}
	if (ts_make(julian, tod, &v.t) < 0)
		return -1;
	put_value(out, type, &v);
	return 0;
}

/* ---- extract ---- */

/* Appends mag / 10^scale with exactly scale decimals, as numeric_out prints it. */
static void
put_scaled(struct strbuf *out, bool neg, uint64_t mag, int scale)
{
	uint64_t p = 1;
	int i;

	for (i = 0; i < scale; i++)
		p *= 10;
	if (neg && mag != 0)
		strbuf_putc(out, '-');
	strbuf_printf(out, "%" PRIu64, mag / p);
	if (scale > 0)
		strbuf_printf(out, ".%0*" PRIu64, scale, mag % p);
}

static void
put_signed_scaled(struct strbuf *out, int64_t v, int scale)
{
	put_scaled(out, v < 0, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, scale);
}

/* The julian day of a timestamp: the day plus tod / USECS_PER_DAY as numeric_div rounds it to
 * the scale select_div_scale picks (16 significant digits at least) and numeric_add keeps. */
static void
put_julian(struct strbuf *out, int64_t julian, int64_t tod)
{
	char digits[32];
	int64_t x = tod, rem = tod;
	int weight = 0, qweight, rscale, k;

	while (x >= 10000) {
		x /= 10000;
		weight++;
	}
	/* 86400000000 is 864 0000 0000 in base 10000: weight 2, first digit 864 */
	qweight = weight - 2;
	if (x <= 864)
		qweight--;
	/* 20 to 28 for a time of day: the clamp only tells the compiler */
	rscale = 16 - qweight * 4;
	if (rscale < 0 || rscale > 28)
		rscale = 28;
	for (k = 0; k <= rscale; k++) {
		rem *= 10;
		digits[k] = (char)('0' + rem / USECS_PER_DAY);
		rem %= USECS_PER_DAY;
	}
	if (digits[rscale] >= '5') {
		for (k = rscale - 1; k >= 0 && digits[k] == '9'; k--)
			digits[k] = '0';
		if (k >= 0)
			digits[k]++;
		else
			julian++;
	}
	strbuf_printf(out, "%" PRId64 ".", julian);
	strbuf_append(out, digits, (size_t)rscale);
}

/* The epoch of a timestamp: seconds since 1970 with 6 decimals. Past int64 PostgreSQL goes
 * through numeric division, rounding to 4 decimals first. */
static void
put_epoch(struct strbuf *out, int64_t t)
{
	uint64_t v;

	if (t < INT64_MAX + PGT_UNIX_EPOCH_TS) {
		put_signed_scaled(out, t - PGT_UNIX_EPOCH_TS, 6);
		return;
	}
	v = (uint64_t)t + (uint64_t)(-PGT_UNIX_EPOCH_TS);
	put_scaled(out, false, (v + 50) / 100, 4);
	strbuf_puts(out, "00");
}

/* The fields of a day that a date and a timestamp share; -2 for the others. */
static int
extract_day_field(enum pgt_unit unit, int64_t julian, struct strbuf *out)
{
	struct pgt_ymd ymd;
	int64_t y, r, isoyear;
	int week;

	j2date(julian, &ymd);
	y = ymd.year;
	switch (unit) {
	case U_DAY:
		r = ymd.mday;
		break;
	case U_MONTH:
		r = ymd.mon;
		break;
	case U_QUARTER:
		r = (ymd.mon - 1) / 3 + 1;
		break;
	case U_WEEK:
		j2isoweek(julian, &isoyear, &week);
		r = week;
		break;
	case U_YEAR:
		/* there is no year 0: 1 BC is -1 */
		r = y > 0 ? y : y - 1;
		break;
	case U_DECADE:
		r = y >= 0 ? y / 10 : -((8 - (y - 1)) / 10);
		break;
	case U_CENTURY:
		r = y > 0 ? (y + 99) / 100 : -((99 - (y - 1)) / 100);
		break;
	case U_MILLENNIUM:
		r = y > 0 ? (y + 999) / 1000 : -((999 - (y - 1)) / 1000);
		break;
	case U_ISOYEAR:
		j2isoweek(julian, &isoyear, &week);
		r = isoyear > 0 ? isoyear : isoyear - 1;
		break;
	case U_DOW:
		r = j2day(julian);
		break;
	case U_ISODOW:
		r = j2day(julian) == 0 ? 7 : j2day(julian);
		break;
	case U_DOY:
		r = julian - date2j(y, 1, 1) + 1;
		break;
	default:
		return PGTIME_UNSUPPORTED;
	}
	strbuf_printf(out, "%" PRId64, r);
	return 0;
}

/* NonFiniteTimestampTzPart and its date counterpart: NULL for the fields that come round
 * again, an infinity for those that grow, an error for the rest. */
static int
extract_infinite(enum pgt_unit unit, enum pgtime_type type, int inf, struct strbuf *out)
{
	switch (unit) {
	case U_MICROSEC:
	case U_MILLISEC:
	case U_SECOND:
	case U_MINUTE:
	case U_HOUR:
	case U_TZ:
	case U_TZ_HOUR:
	case U_TZ_MINUTE:
		if (type == PGTIME_DATE)
			return PGTIME_UNSUPPORTED;
		return 1;
	case U_DAY:
	case U_MONTH:
	case U_QUARTER:
	case U_WEEK:
	case U_DOW:
	case U_ISODOW:
	case U_DOY:
		return 1;
	case U_YEAR:
	case U_DECADE:
	case U_CENTURY:
	case U_MILLENNIUM:
	case U_JULIAN:
	case U_ISOYEAR:
	case U_EPOCH:
		strbuf_puts(out, inf < 0 ? "-Infinity" : "Infinity");
		return 0;
	default:
		return PGTIME_UNSUPPORTED;
	}
}

int
pgtime_extract(const char *field, enum pgtime_type type, const char *x, struct strbuf *out)
{
	struct pgt_value v;
	enum pgt_unit unit;
	int64_t julian, tod;
	size_t flen;

	if (field == NULL || value_parse(type, x, &v) < 0)
		return -1;
	flen = strlen(field);
	unit = delta_unit(field, flen);
	if (unit == U_NONE)
		unit = unit_lookup(special_units, ARRAY_SIZE(special_units), field, flen);
	if (unit == U_NONE)
		return -1;
	if (v.inf)
		return extract_infinite(unit, type, v.inf, out);

	if (type == PGTIME_DATE) {
		julian = v.t + PGT_EPOCH_JDATE;
		if (unit == U_JULIAN) {
			strbuf_printf(out, "%" PRId64, julian);
			return 0;
		}
		if (unit == U_EPOCH) {
			strbuf_printf(out, "%" PRId64, (julian - PGT_UNIX_JDATE) * 86400);
			return 0;
		}
		return extract_day_field(unit, julian, out);
	}

	ts_split(v.t, &julian, &tod);
	switch (unit) {
	case U_MICROSEC:
		strbuf_printf(out, "%" PRId64, tod % USECS_PER_MINUTE);
		return 0;
	case U_MILLISEC:
		put_signed_scaled(out, tod % USECS_PER_MINUTE, 3);
		return 0;
	case U_SECOND:
		put_signed_scaled(out, tod % USECS_PER_MINUTE, 6);
		return 0;
	case U_MINUTE:
		strbuf_printf(out, "%" PRId64, tod / USECS_PER_MINUTE % 60);
		return 0;
	case U_HOUR:
		strbuf_printf(out, "%" PRId64, tod / USECS_PER_HOUR);
		return 0;
	case U_TZ:
	case U_TZ_HOUR:
	case U_TZ_MINUTE:
		if (type != PGTIME_TIMESTAMPTZ)
			return PGTIME_UNSUPPORTED;
		/* the session zone is UTC */
		strbuf_putc(out, '0');
		return 0;
	case U_JULIAN:
		put_julian(out, julian, tod);
		return 0;
	case U_EPOCH:
		put_epoch(out, v.t);
		return 0;
	default:
		return extract_day_field(unit, julian, out);
	}
}

/* ---- casts, clock, order ---- */

int
pgtime_cast(enum pgtime_type from, enum pgtime_type to, const char *x, struct strbuf *out)
{
	struct pgt_value v, r;

	if (to > PGTIME_TIMESTAMPTZ || value_parse(from, x, &v) < 0)
		return -1;
	r = v;
	if (from == PGTIME_DATE && to != PGTIME_DATE) {
		if (date_to_ts(&v, &r) < 0)
			return -1;
	} else if (from != PGTIME_DATE && to == PGTIME_DATE && !v.inf) {
		r.t = floor_div(v.t, USECS_PER_DAY);
	}
	put_value(out, to, &r);
	return 0;
}

void
pgtime_from_unix_us(enum pgtime_type type, int64_t us, struct strbuf *out)
{
	struct pgt_value v = {0, 0};

	if (type > PGTIME_TIMESTAMPTZ)
		type = PGTIME_TIMESTAMPTZ;
	if (__builtin_add_overflow(us, PGT_UNIX_EPOCH_TS, &v.t) || v.t < PGT_MIN_TS)
		v.inf = -1;
	else if (v.t >= PGT_END_TS)
		v.inf = 1;
	else if (type == PGTIME_DATE)
		v.t = floor_div(v.t, USECS_PER_DAY);
	put_value(out, type, &v);
}

/* Where a stored value sorts: rank 0 -infinity, 1 finite, 2 infinity, 3 malformed; finite
 * values by day, then microsecond of the day. */
struct pgt_key {
	int rank;
	int64_t day;
	int64_t usec;
};

static void
cmp_key(const char *s, size_t len, struct pgt_key *k)
{
	struct pgt_stored st;

	k->day = 0;
	k->usec = 0;
	if (s == NULL || stored_parse(s, len, &st) < 0) {
		k->rank = 3;
		return;
	}
	k->rank = st.inf + 1;
	if (st.inf)
		return;
	k->day = st.julian + floor_div(st.usec, USECS_PER_DAY);
	k->usec = st.usec - floor_div(st.usec, USECS_PER_DAY) * USECS_PER_DAY;
}

int
pgtime_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct pgt_key ka, kb;
	int c;

	cmp_key(a, alen, &ka);
	cmp_key(b, blen, &kb);
	if (ka.rank != kb.rank)
		return ka.rank < kb.rank ? -1 : 1;
	if (ka.rank == 3) {
		if (a == NULL || b == NULL)
			return (a != NULL) - (b != NULL);
		c = memcmp(a, b, alen < blen ? alen : blen);
		if (c != 0)
			return c;
		return alen < blen ? -1 : alen > blen;
	}
	if (ka.day != kb.day)
		return ka.day < kb.day ? -1 : 1;
	if (ka.usec != kb.usec)
		return ka.usec < kb.usec ? -1 : 1;
	return 0;
}
