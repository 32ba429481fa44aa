/* SPDX-License-Identifier: MIT */
/* The SQLite functions and collations translated statements use to evaluate as PostgreSQL
 * does over the copy's stored forms: numeric arithmetic and order (pgnum.h), date and time
 * functions and order (pgtime.h), LIKE, case folding with ICU, substring functions, integer
 * overflow and division checks, jsonb -> and ->>. A function that meets a value it cannot
 * treat exactly (or that PostgreSQL rejects) fails the statement, which then goes upstream.
 * Collations named "pg_icu:<locale>" are made on first use. */
#ifndef SQLEDGE_PGFUNC_H
#define SQLEDGE_PGFUNC_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* Registers them all on db. Returns 0 or -1 (logged). */
int pgfunc_register(sqlite3 *db);

/* The moment now() and current_date stand for in statements this thread runs next
 * (microseconds since 1970; 0: none, and those functions fail). */
void pgfunc_set_now(int64_t unix_us);

/* The version ICU gives the collator of locale (as PostgreSQL records it in
 * pg_database.datcollversion), into buf. Returns 0, or -1 when ICU has no such locale. */
int pgfunc_icu_version(const char *locale, char *buf, size_t len);

/* The SQLite collation name for an ICU locale's order ("pg_icu:<locale>"), into buf. */
void pgfunc_icu_collation(const char *locale, char *buf, size_t len);

#endif
