/* SPDX-License-Identifier: MIT */
/* Values: PostgreSQL text output -> the SQLite storage class we keep it in and back, and the
 * COPY text format. Pure: no I/O, unit-tested and fuzzed. */
#ifndef SQLEDGE_PGVALUE_H
#define SQLEDGE_PGVALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

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
#define PGV_OID_NAME 19
#define PGV_OID_TEXT 25
#define PGV_OID_JSON 114
#define PGV_OID_BPCHAR 1042
#define PGV_OID_VARCHAR 1043
#define PGV_OID_DATE 1082
#define PGV_OID_TIMESTAMP 1114
#define PGV_OID_TIMESTAMPTZ 1184
#define PGV_OID_UUID 2950
#define PGV_OID_JSONB 3802
#define PGV_OID_INTERVAL 1186
#define PGV_OID_INT2ARRAY 1005
#define PGV_OID_INT4ARRAY 1007
#define PGV_OID_INT8ARRAY 1016
#define PGV_OID_TEXTARRAY 1009
#define PGV_OID_VARCHARARRAY 1015

/* Days from 2000-01-01 to a proleptic Gregorian date (astronomical year: 1 BC is 0). */
int64_t pgv_days_from_2000(int64_t y, int64_t m, int64_t d);

/* How a PostgreSQL type is stored locally (protocol-brief D.5). */
enum pgv_kind {
	PGV_TEXT = 0, /* TEXT, exact text as PostgreSQL printed it (also the fallback) */
	PGV_BOOL,     /* INTEGER 1/0 */
	PGV_INT,      /* INTEGER (int2, int4, int8, oid) */
	PGV_FLOAT,    /* REAL; NaN, Infinity, -Infinity kept as their TEXT spelling */
	PGV_NUMERIC,  /* TEXT, exact, scale kept */
	PGV_BYTEA,    /* BLOB, decoded from the hex format */
};

/* Storage kind for a type OID. Unknown OIDs (user types, enums, arrays...) are PGV_TEXT. */
enum pgv_kind pgv_kind_for_type(uint32_t type_oid);
/* The kind's name as _sqledge_columns.kind records it ("text", "int", ...), and back
 * (unknown names are PGV_TEXT). */
const char *pgv_kind_name(enum pgv_kind kind);
enum pgv_kind pgv_kind_from_name(const char *name);
/* typlen of a type as RowDescription reports it (-1 for variable length, and for the types
 * not listed here). */
int16_t pgv_typlen(uint32_t type_oid);
/* The declared SQLite type of a column of that kind: "INTEGER", "REAL", "TEXT" or "BLOB". */
const char *pgv_decltype(enum pgv_kind kind);

/* A value ready for sqlite3_bind_*: type is one of PGV_VAL_*. */
enum pgv_valtype {
	PGV_VAL_NULL,
	PGV_VAL_INT,
	PGV_VAL_REAL,
	PGV_VAL_TEXT,
	PGV_VAL_BLOB,
};

struct pgv_value {
	enum pgv_valtype type;
	int64_t i;
	double d;
	const char *p; /* TEXT and BLOB: points into the input or into the scratch strbuf */
	size_t len;
};

/* Converts one value in PostgreSQL's text output format (len bytes, not NUL-terminated) to
 * its storage form. scratch receives decoded bytea bytes; *out may point into it, so it is
 * valid until scratch changes. Returns 0, or -1 when the text is not a valid value of the
 * kind (e.g. odd-length hex): the caller logs it. Text for PGV_TEXT/PGV_NUMERIC is passed
 * through unchanged. */
int pgv_from_text(enum pgv_kind kind, const char *text, size_t len, struct strbuf *scratch,
                  struct pgv_value *out);

/* The session settings that change how PostgreSQL prints a value. */
struct pgv_out_settings {
	int extra_float_digits; /* -15..3; 1 and above: shortest exact output */
	bool bytea_escape;      /* bytea_output = escape (else hex) */
};

/* Appends PostgreSQL's text output of a value of type type_oid as stored locally (the type
 * and kind of pgv_kind_for_type(); not NULL). TEXT and NUMERIC kinds are appended as stored:
 * they hold PostgreSQL's output under the pinned settings (ISO dates, UTC), which the caller
 * must have checked the session shares. Returns 0, or -1 when the stored value does not fit
 * the kind (a copy that is not ours). */
int pgv_to_text(uint32_t type_oid, const struct pgv_value *v, const struct pgv_out_settings *s,
                struct strbuf *out);

/* Appends PostgreSQL's binary output (the typsend format) of a stored value of type type_oid:
 * bool, int2/4/8, oid, float4/8, text, varchar, bpchar, name, json, jsonb, bytea, uuid, date,
 * timestamp, timestamptz and numeric. Returns 0, or -1 when the type has no binary encoder
 * here or the stored value does not fit it (nothing appended then). Text is sent as stored:
 * the caller has checked that client_encoding is UTF8. */
int pgv_to_binary(uint32_t type_oid, const struct pgv_value *v, struct strbuf *out);

/* float8out / float4out: shortest exact digits when extra_float_digits > 0, else printf's
 * %g with 15 (float4: 6) + extra_float_digits significant digits. */
void pgv_float_out(double d, bool is_float4, int extra_float_digits, struct strbuf *out);

/* One field of a COPY text-format row. */
struct pgv_field {
	char *p; /* unescaped in place; NUL-terminated */
	size_t len;
	bool is_null; /* \N */
};

/* Splits one COPY ... TO STDOUT text-format row (with or without its trailing newline) into
 * fields at tabs, unescaping in place (\\ \t \n \r \b \f \v \NNN octal, \xHH, other \c -> c)
 * and recognising \N as NULL. Returns the number of fields, or -1 if the row has more than
 * max fields or ends inside an escape. */
int pgv_copy_split(char *row, size_t len, struct pgv_field *fields, int max);

#endif
