/* SPDX-License-Identifier: MIT */
/* libFuzzer target for src/translate.c and src/sqlshape.c: any bytes as a query string. A
 * refusal must say why, a translation must name only columns of the table it read, and a
 * shape must keep to its bounds. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sqlshape.h"
#include "store.h"
#include "translate.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct localcat *fuzz_cat;

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
	                   "(1, 3, 'n', 'n', 4, 1700, -1, NULL, 'numeric')") < 0 ||
	    localcat_load(db, &fuzz_cat) < 0)
		abort();
	sqlite3_close(db);
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
		if (tr.reason[0] != '\0' || tr.ncols == 0 || tr.nparams > TRANSLATE_MAX_PARAMS)
			abort();
		for (i = 0; i < tr.ncols; i++)
			if (tr.cols[i].table_oid != 1 || tr.cols[i].column == NULL)
				abort();
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
