/* SPDX-License-Identifier: MIT */
/* The local copy's catalog for readers (see localcat.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "localcat.h"
#include "log.h"
#include "util.h"

static char *
localcat_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return xstrdup(s ? (const char *)s : "");
}

const struct localcat_rel *
localcat_by_relid(const struct localcat *cat, uint32_t relid)
{
	size_t i;

	for (i = 0; i < cat->nrels; i++)
		if (cat->rels[i].relid == relid)
			return &cat->rels[i];
	return NULL;
}

int
localcat_load(sqlite3 *db, struct localcat **out)
{
	struct localcat *cat = xcalloc(1, sizeof(*cat));
	size_t cap = 0, ccap;
	sqlite3_stmt *st = NULL;
	const char *what = "_sqledge_relations";
	int rc, r = -1;

	rc = sqlite3_prepare_v2(
	        db,
	        "SELECT relid, nspname, relname, sqlite_name, synced_lsn FROM _sqledge_relations "
	        "ORDER BY relid",
	        -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct localcat_rel *rel;

		cat->rels = xgrow(cat->rels, &cap, cat->nrels + 1, sizeof(*cat->rels));
		rel = &cat->rels[cat->nrels++];
		memset(rel, 0, sizeof(*rel));
		rel->relid = (uint32_t)sqlite3_column_int64(st, 0);
		rel->nspname = localcat_text(st, 1);
		rel->relname = localcat_text(st, 2);
		rel->sqlite_name = localcat_text(st, 3);
		rel->synced_lsn = (uint64_t)sqlite3_column_int64(st, 4);
	}
	if (rc != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	what = "_sqledge_columns";
	rc = sqlite3_prepare_v2(db,
	                        "SELECT relid, attname, sqlite_name, attnum, type_oid, typmod, "
	                        "collation, kind, key_position FROM _sqledge_columns "
	                        "ORDER BY relid, position",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct localcat_rel *rel = (struct localcat_rel *)localcat_by_relid(
		        cat, (uint32_t)sqlite3_column_int64(st, 0));
		struct localcat_col *c;

		if (rel == NULL)
			continue; /* columns of a relation being dropped */
		ccap = rel->ncols;
		rel->cols = xgrow(rel->cols, &ccap, rel->ncols + 1, sizeof(*rel->cols));
		c = &rel->cols[rel->ncols++];
		c->attname = localcat_text(st, 1);
		c->sqlite_name = localcat_text(st, 2);
		c->attnum = (int16_t)sqlite3_column_int(st, 3);
		c->type_oid = (uint32_t)sqlite3_column_int64(st, 4);
		c->typmod = (int32_t)sqlite3_column_int64(st, 5);
		c->collation = localcat_text(st, 6);
		c->kind = pgv_kind_from_name((const char *)sqlite3_column_text(st, 7));
		c->key_position = sqlite3_column_int(st, 8);
		if (c->key_position > 0)
			rel->nkeys++;
	}
	if (rc != SQLITE_DONE)
		goto out;
	*out = cat;
	cat = NULL;
	r = 0;
out:
	if (r < 0)
		log_error("cannot read %s of the local copy: %s", what, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	localcat_free(cat);
	return r;
}

void
localcat_free(struct localcat *cat)
{
	size_t i, j;

	if (cat == NULL)
		return;
	for (i = 0; i < cat->nrels; i++) {
		struct localcat_rel *rel = &cat->rels[i];

		for (j = 0; j < rel->ncols; j++) {
			free(rel->cols[j].attname);
			free(rel->cols[j].sqlite_name);
			free(rel->cols[j].collation);
		}
		free(rel->cols);
		free(rel->nspname);
		free(rel->relname);
		free(rel->sqlite_name);
	}
	free(cat->rels);
	free(cat);
}

const struct localcat_rel *
localcat_find(const struct localcat *cat, const char *nspname, const char *relname)
{
	size_t i;

	for (i = 0; i < cat->nrels; i++)
		if (strcmp(cat->rels[i].relname, relname) == 0 &&
		    strcmp(cat->rels[i].nspname, nspname) == 0)
			return &cat->rels[i];
	return NULL;
}

const struct localcat_col *
localcat_column(const struct localcat_rel *rel, const char *attname)
{
	size_t i;

	for (i = 0; i < rel->ncols; i++)
		if (strcmp(rel->cols[i].attname, attname) == 0)
			return &rel->cols[i];
	return NULL;
}
