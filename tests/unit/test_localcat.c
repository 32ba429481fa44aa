/* SPDX-License-Identifier: MIT */
/* The local catalog as readers load it from a generation file's internal tables. */
#include "config.h"

#include "catalog.h"

#define TEST_ROWS                                                                                  \
	"INSERT INTO _sqledge_relations (relid, nspname, relname, "                                \
	"sqlite_name, replident) VALUES "                                                          \
	"(16384, 'public', 'my_table', 'my_table', 'd'), "                                         \
	"(16390, 'sales', 'Orders', 'sales.Orders', 'd');"                                         \
	"INSERT INTO _sqledge_columns (relid, position, attname, "                                 \
	"sqlite_name, attnum, type_oid, typmod, typname, collation, "                              \
	"\"notnull\", key_position, kind) VALUES "                                                 \
	"(16384, 1, 'names', 'names', 2, 25, -1, 'text', 'default', 0, "                           \
	"NULL, 'text'), "                                                                          \
	"(16384, 0, 'id', 'id', 1, 23, -1, 'int4', NULL, 1, 1, 'int'), "                           \
	"(16390, 0, 'total', 'total', 3, 1700, 655366, 'numeric', NULL, "                          \
	"0, NULL, 'numeric'), "                                                                    \
	"(99999, 0, 'orphan', 'orphan', 1, 23, -1, 'int4', NULL, 0, "                              \
	"NULL, 'int')"

static void
test_load_and_find(void)
{
	struct localcat *cat = test_catalog(TEST_ROWS);
	const struct localcat_rel *rel;
	const struct localcat_col *col;

	CHECK_INT(cat->nrels, 2);
	rel = localcat_find(cat, "public", "my_table");
	CHECK(rel != NULL);
	CHECK_INT(rel->relid, 16384);
	CHECK_INT(rel->ncols, 2);
	/* in upstream column order, whatever the insertion order */
	CHECK_STR(rel->cols[0].attname, "id");
	CHECK_INT(rel->cols[0].kind, PGV_INT);
	CHECK_STR(rel->cols[0].collation, "");
	col = localcat_column(rel, "names");
	CHECK(col != NULL);
	CHECK_INT(col->type_oid, 25);
	CHECK_INT(col->attnum, 2);
	CHECK_STR(col->collation, "default");
	CHECK(localcat_column(rel, "NAMES") == NULL);
	/* names are PostgreSQL's: case-sensitive, schema-qualified */
	rel = localcat_find(cat, "sales", "Orders");
	CHECK(rel != NULL);
	CHECK_STR(rel->sqlite_name, "sales.Orders");
	CHECK_INT(rel->cols[0].typmod, 655366);
	CHECK(localcat_find(cat, "sales", "orders") == NULL);
	CHECK(localcat_find(cat, "public", "Orders") == NULL);
	localcat_free(cat);
}

static void
test_load_fails_without_the_tables(void)
{
	sqlite3 *db = NULL;
	struct localcat *cat = NULL;

	CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	CHECK_INT(localcat_load(db, &cat), -1);
	CHECK(cat == NULL);
	sqlite3_close(db);
	localcat_free(NULL);
}

int
main(void)
{
	RUN(test_load_and_find);
	RUN(test_load_fails_without_the_tables);
	return unit_done();
}
