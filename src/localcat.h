/* SPDX-License-Identifier: MIT */
/* The local copy's catalog as a reader sees it: which upstream relations a generation file
 * holds, under which SQLite names, with each column's upstream type, typmod, attnum and
 * collation. Loaded from _sqledge_relations and _sqledge_columns of one open connection; a
 * new generation gets a new catalog. */
#ifndef SQLEDGE_LOCALCAT_H
#define SQLEDGE_LOCALCAT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "pgvalue.h"

struct localcat_col {
	char *attname;     /* upstream column name */
	char *sqlite_name; /* the local column's name */
	int16_t attnum;    /* 0 when unknown */
	uint32_t type_oid;
	int32_t typmod;
	char *collation; /* upstream collation name, "" when the type has none */
	enum pgv_kind kind;
	int key_position; /* 1-based place in the table's key (declared locally), 0 when none */
};

struct localcat_rel {
	uint32_t relid; /* the upstream table's OID */
	char *nspname;
	char *relname;
	char *sqlite_name;
	uint64_t
	        synced_lsn; /* copied by a table sync at this upstream position (0: initial sync) */
	size_t ncols;
	struct localcat_col *cols; /* in upstream column order */
	int nkeys;                 /* columns in the key */
};

struct localcat {
	size_t nrels;
	struct localcat_rel *rels;
};

/* Loads the catalog through db. Returns 0 with *out set, or -1 (logged) when the tables
 * cannot be read. */
int localcat_load(sqlite3 *db, struct localcat **out);
void localcat_free(struct localcat *cat);

/* The relation nspname.relname (exact, case-sensitive names as PostgreSQL stores them), or
 * NULL when the copy does not hold it. */
const struct localcat_rel *localcat_find(const struct localcat *cat, const char *nspname,
                                         const char *relname);
/* The relation with upstream OID relid, or NULL. */
const struct localcat_rel *localcat_by_relid(const struct localcat *cat, uint32_t relid);
/* The column called attname, or NULL. */
const struct localcat_col *localcat_column(const struct localcat_rel *rel, const char *attname);

#endif
