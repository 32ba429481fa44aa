/* SPDX-License-Identifier: MIT */
/* A local catalog for the unit tests: a fresh in-memory copy with the internal tables, the
 * given rows inserted, loaded as readers load it. */
#ifndef SQLEDGE_TEST_CATALOG_H
#define SQLEDGE_TEST_CATALOG_H

#include "localcat.h"
#include "store.h"
#include "unit.h"

static struct localcat *
test_catalog(const char *inserts)
{
	struct localcat *cat = NULL;
	sqlite3 *db = NULL;

	CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	CHECK_INT(store_init_schema(db), 0);
	CHECK_INT(store_exec(db, inserts), 0);
	CHECK_INT(localcat_load(db, &cat), 0);
	sqlite3_close(db);
	return cat;
}

#endif
