/* SPDX-License-Identifier: MIT */
/* PostgreSQL SELECT -> SQLite SELECT over the local copy, for the statements whose SQLite
 * evaluation over our storage is exactly PostgreSQL's: one replicated table, plain columns,
 * comparisons on integer and boolean columns, equality on text, IS [NOT] NULL, AND/OR/NOT,
 * ORDER BY integer or boolean columns with PostgreSQL's NULL placement, LIMIT and OFFSET.
 * Everything else is refused with the reason, and goes upstream. Pure: no I/O. */
#ifndef SQLEDGE_TRANSLATE_H
#define SQLEDGE_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "localcat.h"
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
};

/* Translates one query string. Returns true when out->local; out must be freed either way.
 */
bool translate_select(const char *sql, translate_resolve_fn resolve, void *arg,
                      struct translate_result *out);
void translate_result_free(struct translate_result *out);

#endif
