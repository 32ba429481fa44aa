/* SPDX-License-Identifier: MIT */
/* date, timestamp and timestamptz as PostgreSQL 15 computes them for a session with TimeZone UTC,
 * DateStyle ISO and IntervalStyle postgres, on the text it prints ("2024-03-01 12:34:56.5+00"),
 * which is how the local copy stores them. Pure: no I/O, no logging, safe on any bytes. */
#ifndef SQLEDGE_PGTIME_H
#define SQLEDGE_PGTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

enum pgtime_type { PGTIME_DATE, PGTIME_TIMESTAMP, PGTIME_TIMESTAMPTZ };

/* A value the caller should leave to PostgreSQL: the unit is known but PostgreSQL raises
 * "unit ... not supported for type ..." for it. */
#define PGTIME_UNSUPPORTED (-2)

/* Reads a literal or parameter as date_in, timestamp_in or timestamptz_in do, for the forms
 * applications send: "YYYY-MM-DD", then optionally blanks or 'T' and "HH:MM", "HH:MM:SS" or
 * "HH:MM:SS.f" (1 to 6 digits), then optionally blanks and a zone "Z", "+HH", "+HHMM" or
 * "+HH:MM" (or '-'), all within optional blanks; or "infinity", "-infinity" in any case. Like
 * PostgreSQL it accepts 24:00:00 and a leap second :60 (the next day or minute), validates the
 * zone for every type but applies it only to timestamptz, and drops the time of a date. Appends
 * the stored form and returns 0; returns -1 (nothing appended) for anything else, including
 * years outside 1..9999, BC, more than 6 fraction digits, zone names and special words other than
 * infinity: the caller then leaves the statement to PostgreSQL. */
int pgtime_in(enum pgtime_type type, const char *s, size_t len, struct strbuf *out);

/* An interval: months, days and microseconds are kept apart as PostgreSQL does. */
struct pgtime_interval {
	int32_t months;
	int32_t days;
	int64_t usecs;
};

/* Reads an interval literal as interval_in does (IntervalStyle postgres): blank-separated items,
 * each "[+-]<integer> <unit>" (the blank before the unit is optional) or a time
 * "[+-]H:MM[:SS[.f]]" (hours of any length, up to 6 fraction digits; the sign applies to the
 * whole time). Units are those PostgreSQL knows, in any case: microsecond(s)/usec(s)/us,
 * millisecond(s)/msec(s)/ms, second(s)/sec(s)/s, minute(s)/min(s)/m, hour(s)/hr(s)/h, day(s)/d,
 * week(s)/w, month(s)/mon(s), year(s)/yr(s)/y, decade(s)/dec(s), century/centuries/c,
 * millennium/millennia/mil(s). A unit given twice, or a time with hours, minutes or seconds given
 * as units, is an error as in PostgreSQL. Writes *out and returns 0, or returns -1 for other
 * syntax ("ago", "@", fractions of units, ISO 8601, SQL standard forms) and for overflow. */
int pgtime_interval_in(const char *s, size_t len, struct pgtime_interval *out);
/* Appends the interval as interval_out prints it with IntervalStyle postgres ("1 year 2 mons
 * 3 days 04:05:06.5", "00:00:00", "-1 days +02:00:00"). */
void pgtime_interval_out(const struct pgtime_interval *iv, struct strbuf *out);

/* Appends the stored form of ts + iv (sign 1) or ts - iv (sign -1) as timestamp_pl_interval
 * computes it: months first, the day clamped to the end of the month, then days, then
 * microseconds. ts is the stored form of a value of that type; a date gives a timestamp, as
 * date + interval does. Infinities stay. Returns 0, or -1 with nothing appended for malformed
 * input, another sign, or a result out of range (PostgreSQL raises "timestamp out of range").
 */
int pgtime_add_interval(enum pgtime_type type, const char *ts, const struct pgtime_interval *iv,
                        int sign, struct strbuf *out);
/* Appends a - b as PostgreSQL prints it: for timestamps the interval timestamp_mi gives (days and
 * time, justify_hours applied), for dates the integer number of days. Returns -1 with nothing
 * appended for malformed input, infinities ("cannot subtract infinite ...") or overflow. */
int pgtime_sub(enum pgtime_type type, const char *a, const char *b, struct strbuf *out);
/* date - date: writes the days in *days and returns 0, or returns -1 as pgtime_sub does. */
int pgtime_date_diff(const char *a, const char *b, int64_t *days);

/* Appends date_trunc(field, x) in the stored form: the type of x, but timestamptz for a date
 * (date_trunc(text, date) resolves to the timestamptz function). Fields are the unit names
 * PostgreSQL accepts (microseconds ... millennium, week starting on Monday), any case. Like
 * PostgreSQL an infinity is returned as is whatever the field. Returns -1 with nothing appended
 * for an unknown or unsupported field, malformed input, or a result out of range. */
int pgtime_date_trunc(const char *field, enum pgtime_type type, const char *x, struct strbuf *out);

/* extract(field FROM x) as PostgreSQL 15 prints its numeric result ("2024", "5.500000" for
 * second, "1709294400.000000" for the epoch of a timestamp, "Infinity" for the year of
 * infinity). Returns 0 with the text appended, 1 for NULL (nothing appended: the oscillating
 * fields of an infinity), PGTIME_UNSUPPORTED for a field PostgreSQL rejects for that type (time
 * fields of a date, time zone fields of a timestamp, "now"...), -1 for an unknown field or
 * malformed input. */
int pgtime_extract(const char *field, enum pgtime_type type, const char *x, struct strbuf *out);

/* Appends x cast from one type to another, in the session time zone UTC: timestamp(tz) to date
 * (the day), date to timestamp(tz) (midnight), timestamp to timestamptz and back (the same
 * fields, with or without "+00"); a cast to the same type normalises. Returns -1 with nothing
 * appended for malformed input or a date out of the timestamp range. */
int pgtime_cast(enum pgtime_type from, enum pgtime_type to, const char *x, struct strbuf *out);

/* Appends the stored form of the moment us microseconds after 1970-01-01 00:00:00 UTC (now(),
 * current_date...). A moment before 4714-11-24 BC appends "-infinity". */
void pgtime_from_unix_us(enum pgtime_type type, int64_t us, struct strbuf *out);

/* Orders two stored values as date_cmp, timestamp_cmp and timestamptz_cmp do: -infinity, then
 * BC, AD, then infinity. Any of the three types' forms is accepted (a date is its midnight), so
 * it can serve as an SQLite collation. Text that is no stored form sorts after everything, in
 * byte order. Returns <0, 0 or >0. */
int pgtime_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
