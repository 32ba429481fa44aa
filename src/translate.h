/* SPDX-License-Identifier: MIT */
/* PostgreSQL SELECT -> SQLite SELECT over the local copy, for the statements whose SQLite
 * evaluation over our storage is exactly PostgreSQL's. Every node of the parse tree is typed
 * as PostgreSQL would type it and checked against an allow-list: replicated tables, joins,
 * subqueries, grouping, aggregates, window functions, set operations, and the operators and
 * functions whose local evaluation (SQLite's own, or the pg_* functions and collations of
 * pgfunc.h) gives PostgreSQL's answer for the types involved. Everything else is refused
 * with the reason, and goes upstream. Pure: no I/O. */
#ifndef SQLEDGE_TRANSLATE_H
#define SQLEDGE_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "localcat.h"
#include "sqlshape.h"
#include "util.h"

#define TRANSLATE_MAX_PARAMS 64

/* Resolves a relation named in FROM (schema "" when unqualified: the caller applies the
 * session's search_path) to the local copy of it, or NULL when it must be read upstream:
 * not replicated, not readable by the role, row-level security, or a copy that lacks some
 * of the table's columns (a publication column list: SELECT * would differ). */
typedef const struct localcat_rel *(*translate_resolve_fn)(void *arg, const char *schema,
                                                           const char *name);

/* One result column: what RowDescription says and how to print the stored value. */
struct translate_col {
	char name[64];
	uint32_t table_oid;
	int16_t attnum;
	uint32_t type_oid;
	int32_t typmod;
	enum pgv_kind kind;
	const struct localcat_col *column; /* in the catalog resolve() returned from */
};

struct translate_result {
	bool local;
	char reason[160];  /* !local: the first thing that keeps it upstream */
	struct strbuf sql; /* local: the SQLite statement, with ?N for $N */
	size_t ncols;
	struct translate_col *cols;
	bool point;  /* WHERE pins the one-column key: at most one row, found by the index */
	int nparams; /* highest $N used */
	uint32_t param_types[TRANSLATE_MAX_PARAMS + 1]; /* [N]: the type $N is compared with */
	uint64_t param_limit; /* bit N-1: $N is a LIMIT or OFFSET (NULL or negative differ) */
	/* bit N-1: $N is only compared (=, <, IN, BETWEEN, LIKE, ANY), so a value declared of
	 * another type of its family compares alike; anywhere else its type shows */
	uint64_t param_compared;
};

/* What a translation may assume of the session it is for. */
struct translate_env {
	translate_resolve_fn resolve;
	void *arg;
	/* The SQLite collation that orders text as the database's default collation does (see
	 * pgfunc.h), "BINARY" for C, or NULL: text ordering and ranges go upstream. */
	const char *collation;
	/* The ICU locale lower(), upper() and ILIKE fold case with, or NULL: then ASCII only
	 * when ascii_fold (a value with other letters fails the local statement, which goes
	 * upstream), else never here (a Turkish LC_CTYPE folds I to ı). */
	const char *case_locale;
	bool ascii_fold;
	bool utc; /* TimeZone is UTC: timestamptz literals, casts and now() are local */
};

/* Translates one query string. Returns true when out->local; out must be freed either way.
 */
bool translate_select_env(const char *sql, const struct translate_env *env,
                          struct translate_result *out);
/* The same with byte-order text, ASCII case folding and UTC. */
bool translate_select(const char *sql, translate_resolve_fn resolve, void *arg,
                      struct translate_result *out);
void translate_result_free(struct translate_result *out);

/* Reads s (len bytes) as the input function of type reads it, into the stored form the
 * copy compares it with: integers and booleans as SQLSHAPE_INT, numeric, dates, times, uuid
 * and text as SQLSHAPE_STR (malloc'ed), the arrays of integers or text = ANY() takes as a
 * JSON array (SQLSHAPE_STR). timestamptz is read in UTC: the caller has checked the session
 * is. Returns 0, or -1 for what the input function would reject and for the forms left to it
 * (the statement then goes upstream). */
int translate_input(uint32_t type, const char *s, size_t len, struct sqlshape_lit *out);
/* int2in/int4in/int8in/oidin of PostgreSQL 15 within the type's range. */
int translate_parse_int(const char *p, size_t len, uint32_t type, int64_t *out);
/* boolin's whole words (t, true, yes, on, 1, ...; any case), as 1 or 0. */
int translate_parse_bool(const char *p, size_t len, int64_t *out);
/* float8in's decimal forms and NaN, Infinity, -Infinity, as text strtod() reads exactly. */
int translate_parse_float(const char *p, size_t len, struct strbuf *out);

/* A transaction statement, as a simple Query may carry it. */
enum translate_txn_kind {
	TRANSLATE_TXN_OTHER = 0,   /* anything else, several statements, or not parsed */
	TRANSLATE_TXN_BEGIN,       /* BEGIN or START TRANSACTION */
	TRANSLATE_TXN_COMMIT,      /* COMMIT or END, without AND CHAIN */
	TRANSLATE_TXN_ROLLBACK,    /* ROLLBACK or ABORT, without AND CHAIN */
	TRANSLATE_TXN_SAVEPOINT,   /* SAVEPOINT name */
	TRANSLATE_TXN_RELEASE,     /* RELEASE [SAVEPOINT] name */
	TRANSLATE_TXN_ROLLBACK_TO, /* ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] name */
};

enum translate_isolation {
	TRANSLATE_ISO_DEFAULT = 0,    /* not given: the session's default_transaction_isolation */
	TRANSLATE_ISO_READ_COMMITTED, /* READ UNCOMMITTED is READ COMMITTED in PostgreSQL */
	TRANSLATE_ISO_REPEATABLE_READ,
	TRANSLATE_ISO_SERIALIZABLE,
};

struct translate_txn {
	enum translate_txn_kind kind;
	enum translate_isolation isolation;
	int read_only;  /* -1: not given (default_transaction_read_only), 0: READ WRITE, 1 */
	int deferrable; /* -1: not given, 0, 1 */
	char name[64];  /* a savepoint's, as the parser folded it */
};

/* Reads a transaction statement. Returns its kind (also in out->kind). */
enum translate_txn_kind translate_transaction(const char *sql, struct translate_txn *out);

#endif
