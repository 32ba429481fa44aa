/* SPDX-License-Identifier: MIT */
/* libFuzzer target for src/translate.c and src/sqlshape.c: any bytes as a query string. A
 * refusal must say why, a translation must describe its columns as coming from the table it
 * read or from no table, and must be a statement SQLite (with the functions of pgfunc.c)
 * accepts; a shape must keep to its bounds. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgfunc.h"
#include "sqlshape.h"
#include "store.h"
#include "translate.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct localcat *fuzz_cat;
static sqlite3 *fuzz_db;

static const struct localcat_rel *
fuzz_resolve(void *arg, const char *schema, const char *name)
{
	return localcat_find(fuzz_cat, schema[0] ? schema : "public", name);
}

/* One table t (id int4, name text, flag bool, n numeric) in an in-memory copy. */
static void
fuzz_setup(void)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || store_init_schema(db) < 0 ||
	    store_exec(db, "INSERT INTO _sqledge_relations (relid, nspname, relname, "
	                   "sqlite_name, replident) VALUES (1, 'public', 't', 't', 'd');"
	                   "INSERT INTO _sqledge_columns (relid, position, attname, sqlite_name, "
	                   "attnum, type_oid, typmod, collation, kind) VALUES "
	                   "(1, 0, 'id', 'id', 1, 23, -1, NULL, 'int'),"
	                   "(1, 1, 'name', 'name', 2, 25, -1, 'default', 'text'),"
	                   "(1, 2, 'flag', 'flag', 3, 16, -1, NULL, 'bool'),"
	                   "(1, 3, 'n', 'n', 4, 1700, -1, NULL, 'numeric');"
	                   "CREATE TABLE t (id INTEGER, name TEXT, flag INTEGER, n TEXT)") < 0 ||
	    localcat_load(db, &fuzz_cat) < 0 || pgfunc_register(db) < 0)
		abort();
	fuzz_db = db;
}

/* A shape keeps every byte that is not a replaced literal, so it is never longer than the
 * statement by more than the $N it adds, and names at most SQLSHAPE_MAX_LITS literals. */
static void
fuzz_shape(const char *sql)
{
	struct sqlshape sh;

	if (sqlshape_parse(sql, &sh) == 0) {
		if (sh.nlits > SQLSHAPE_MAX_LITS || sh.key.len > strlen(sql) + 3 * sh.nlits)
			abort();
		for (size_t i = 0; i < sh.nlits; i++)
			if (sh.lits[i].kind == SQLSHAPE_STR && sh.lits[i].s == NULL)
				abort();
	} else if (sh.nlits != 0) {
		abort();
	}
	sqlshape_free(&sh);
}

static void
fuzz_translate(const char *sql)
{
	struct translate_result tr;
	size_t i;

	if (translate_select(sql, fuzz_resolve, NULL, &tr)) {
		sqlite3_stmt *st = NULL;

		if (tr.reason[0] != '\0' || tr.ncols == 0 || tr.nparams > TRANSLATE_MAX_PARAMS)
			abort();
		for (i = 0; i < tr.ncols; i++)
			if ((tr.cols[i].table_oid != 0 && tr.cols[i].table_oid != 1) ||
			    (tr.cols[i].table_oid == 1 &&
			     (tr.cols[i].attnum < 1 || tr.cols[i].attnum > 4)) ||
			    tr.cols[i].type_oid == 0 || tr.cols[i].name[0] == '\0')
				abort();
		/* SQLite's parser has a fixed stack: a statement nested deeper than it takes is
		 * refused at prepare, and goes upstream, like any statement SQLite cannot run */
		if ((sqlite3_prepare_v2(fuzz_db, strbuf_str(&tr.sql), -1, &st, NULL) != SQLITE_OK &&
		     strstr(sqlite3_errmsg(fuzz_db), "parser stack overflow") == NULL) ||
		    (st != NULL && (size_t)sqlite3_column_count(st) != tr.ncols)) {
			fprintf(stderr, "%s\n-> %s\n%s\n", sql, strbuf_str(&tr.sql),
			        sqlite3_errmsg(fuzz_db));
			abort();
		}
		sqlite3_finalize(st);
	} else if (tr.reason[0] == '\0') {
		abort();
	}
	translate_result_free(&tr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql;

	if (size > 100000)
		return 0;
	if (fuzz_cat == NULL)
		fuzz_setup();
	sql = xmalloc(size + 1);
	memcpy(sql, data, size);
	sql[size] = '\0';
	fuzz_translate(sql);
	fuzz_shape(sql);
	free(sql);
	return 0;
}
