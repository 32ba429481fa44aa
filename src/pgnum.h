/* SPDX-License-Identifier: MIT */
/* PostgreSQL 15 numeric arithmetic on numeric_out text, so numeric expressions answered from the
 * local copy print exactly what the server would. Pure: no I/O, no logging. */
#ifndef SQLEDGE_PGNUM_H
#define SQLEDGE_PGNUM_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/*
 * Operands are numeric_out text: "NaN", "Infinity", "-Infinity", or an optional '-', one or
 * more digits and optionally '.' with one or more digits; the digits after the point are the
 * display scale. Leading zeros and "-0" are accepted and normalised; anything else (spaces, '+',
 * exponents, "1.", ".5") is malformed. Values beyond what numeric can store (more than 131072
 * digits before the point or 16383 after) are malformed too.
 *
 * Every function appends to out only on success (return 0). A negative return appends nothing:
 * -1 for malformed input and for every case where PostgreSQL raises an error other than
 * division by zero (overflow of the numeric format, typmod overflow), -2 for division by zero.
 * The caller can then let the server answer and report the error itself.
 */

/* numeric_in for the forms applications send: optional leading/trailing whitespace, sign,
 * digits with an optional '.', optional exponent e/E[+-]N, and NaN / [+-]Infinity / [+-]inf
 * (case-insensitive) as numeric_in accepts them. Appends numeric_out's text of the value
 * (" +1.500e1 " -> "15.00", ".5" -> "0.5", "-0" -> "0", "1e-3" -> "0.001", "007" -> "7").
 * Returns 0, or -1 for anything numeric_in would reject and for bytes whose treatment depends
 * on the server's locale (NUL, non-ASCII). */
int pgnum_in(const char *s, size_t len, struct strbuf *out);

/* a + b, a - b, a * b. Result scale as PostgreSQL: add/sub max(dscale), mul dscale1 + dscale2
 * (rounded to 16383 when larger). NaN and Infinity follow PostgreSQL 15 (NaN + x = NaN,
 * Infinity - Infinity = NaN, Infinity * 0 = NaN). */
int pgnum_add(const char *a, const char *b, struct strbuf *out);
int pgnum_sub(const char *a, const char *b, struct strbuf *out);
int pgnum_mul(const char *a, const char *b, struct strbuf *out);

/* a / b as numeric_div: the scale select_div_scale() picks, rounded half away from zero.
 * -2 on division by zero (PostgreSQL raises 22012), also for +-Infinity / 0; NaN / 0 is NaN. */
int pgnum_div(const char *a, const char *b, struct strbuf *out);

/* round(numeric, int) and trunc(numeric, int): half away from zero resp. toward zero at scale
 * digits after the point; a negative scale works left of it (round(1234.5, -2) = 1200). The
 * scale is clamped to [-131072, 16383] as PostgreSQL 15.18 does; NaN and infinities are
 * returned as is. */
int pgnum_round(const char *a, int scale, struct strbuf *out);
int pgnum_trunc(const char *a, int scale, struct strbuf *out);

/* numeric_cmp's order: <0, 0, >0 with -Infinity < finite < Infinity < NaN, NaN = NaN and
 * 1.0 = 1.00. Lengths given because it serves as an SQLite collation. Malformed text sorts
 * after NaN, bytewise among itself, so the order stays total. Never allocates. */
int pgnum_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* A cast to numeric(precision, scale): appends the value rounded to scale, or returns -1 when
 * PostgreSQL raises "numeric field overflow" (including for infinities), for a precision outside
 * [1, 1000] or a scale outside [-1000, 1000] (invalid typmods), or on malformed input.
 * NaN fits any typmod. */
int pgnum_typmod(const char *a, int precision, int scale, struct strbuf *out);

#endif
