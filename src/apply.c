/* SPDX-License-Identifier: MIT */
/* Applying upstream changes to SQLite (the single writer): the relation map, local table
 * definitions, cached prepared statements, and batches of upstream transactions that commit
 * together with their position. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "apply.h"
#include "cfg.h"
#include "failpoint.h"
#include "log.h"
#include "pgoutput.h"
#include "pgvalue.h"
#include "shm.h"
#include "store.h"
#include "util.h"

#define APPLY_UPD_CACHE 8
#define APPLY_CHECKPOINT_PAGES 1000          /* ~4 MB of WAL */
#define APPLY_CHECKPOINT_RESTART_PAGES 65536 /* ~256 MB: wait for readers to move on */

struct apply_col {
	char *name;        /* upstream column name */
	char *sqlite_name; /* local column name */
	uint32_t type_oid;
	int32_t typmod;
	bool is_key;
	enum pgv_kind kind;
};

struct apply_upd {
	uint8_t *mask; /* 1 per column kept ('u') */
	sqlite3_stmt *st;
};

struct apply_rel {
	uint32_t relid;
	char *nspname;
	char *relname;
	char *sqlite_name; /* NULL when the relation is not replicated (schema not configured) */
	char replident;
	uint64_t synced_lsn; /* changes from transactions before this are in the copy */
	int ncols;
	struct apply_col *cols;
	int nkeys;
	int *keys;         /* column indexes of the replica identity */
	const char *rowid; /* a rowid alias no column shadows */
	sqlite3_stmt *ins;
	sqlite3_stmt *del;
	struct apply_upd upd[APPLY_UPD_CACHE];
	int nupd;
	struct apply_rel *next;
};

struct apply {
	sqlite3 *db;
	struct shm_state *shm;
	char **schemas;
	int nschemas;
	char *include; /* table patterns */
	char *exclude;
	struct apply_rel **buckets;
	size_t nbuckets;
	size_t nrels;
	struct strbuf scratch; /* decoded bytea of the value being bound */
	struct strbuf sql;
	sqlite3_stmt *pos_st;
	bool batch_open;
	bool in_txn;
	bool skip_txn;
	uint64_t txn_final_lsn; /* commit LSN of the transaction being applied */
	uint64_t pos_lsn;       /* end of the last applied transaction (maybe not yet durable) */
	uint64_t durable_lsn;   /* end of the last committed batch */
	uint64_t batch_rows;
	uint64_t batch_txns;
	int64_t batch_started_us;
	int64_t last_commit_time;
	int wal_pages; /* frames in the WAL after the last commit (sqlite3_wal_hook) */
};

static int write_position(struct apply *a, uint64_t lsn);
static int batch_begin(struct apply *a);

/* ---- relation map ---- */

static struct apply_rel *
rel_find(const struct apply *a, uint32_t relid)
{
	struct apply_rel *r;

	for (r = a->buckets[relid & (a->nbuckets - 1)]; r; r = r->next)
		if (r->relid == relid)
			return r;
	return NULL;
}

static void
rel_clear_stmts(struct apply_rel *r)
{
	int i;

	sqlite3_finalize(r->ins);
	sqlite3_finalize(r->del);
	r->ins = r->del = NULL;
	for (i = 0; i < r->nupd; i++) {
		sqlite3_finalize(r->upd[i].st);
		free(r->upd[i].mask);
	}
	r->nupd = 0;
}

static void
rel_free(struct apply_rel *r)
{
	int i;

	if (r == NULL)
		return;
	rel_clear_stmts(r);
	for (i = 0; i < r->ncols; i++) {
		free(r->cols[i].name);
		free(r->cols[i].sqlite_name);
	}
	free(r->cols);
	free(r->keys);
	free(r->nspname);
	free(r->relname);
	free(r->sqlite_name);
	free(r);
}

static void
rel_insert(struct apply *a, struct apply_rel *r)
{
	size_t i;

	if (a->nrels + 1 > a->nbuckets) {
		size_t nb = a->nbuckets * 2;
		struct apply_rel **b = xcalloc(nb, sizeof(*b));

		for (i = 0; i < a->nbuckets; i++) {
			struct apply_rel *p = a->buckets[i], *next;

			for (; p; p = next) {
				next = p->next;
				p->next = b[p->relid & (nb - 1)];
				b[p->relid & (nb - 1)] = p;
			}
		}
		free(a->buckets);
		a->buckets = b;
		a->nbuckets = nb;
	}
	r->next = a->buckets[r->relid & (a->nbuckets - 1)];
	a->buckets[r->relid & (a->nbuckets - 1)] = r;
	a->nrels++;
}

static void
rel_remove(struct apply *a, uint32_t relid)
{
	struct apply_rel **pp = &a->buckets[relid & (a->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->relid == relid) {
			struct apply_rel *r = *pp;

			*pp = r->next;
			rel_free(r);
			a->nrels--;
			return;
		}
	}
}

/* Fills keys[] and the rowid alias from the columns. */
static void
rel_finish(struct apply_rel *r)
{
	static const char *const aliases[] = {"rowid", "_rowid_", "oid"};
	size_t j;
	int i;

	free(r->keys);
	r->keys = xcalloc((size_t)r->ncols + 1, sizeof(int));
	r->nkeys = 0;
	for (i = 0; i < r->ncols; i++)
		if (r->cols[i].is_key)
			r->keys[r->nkeys++] = i;
	r->rowid = NULL;
	for (j = 0; j < ARRAY_SIZE(aliases) && r->rowid == NULL; j++) {
		bool shadowed = false;

		for (i = 0; i < r->ncols; i++)
			if (strcasecmp(r->cols[i].sqlite_name, aliases[j]) == 0)
				shadowed = true;
		if (!shadowed)
			r->rowid = aliases[j];
	}
}

static int
on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct apply *a = arg;

	a->wal_pages = pages;
	return SQLITE_OK;
}

struct apply *
apply_new(sqlite3 *db, struct shm_state *shm, const char *schemas)
{
	struct apply *a = xcalloc(1, sizeof(*a));
	const char *p = schemas;

	a->db = db;
	a->shm = shm;
	sqlite3_wal_hook(db, on_wal_commit, a);
	a->nbuckets = 64;
	a->buckets = xcalloc(a->nbuckets, sizeof(*a->buckets));
	strbuf_init(&a->scratch);
	strbuf_init(&a->sql);
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p, *e = p + n;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s) {
			a->schemas =
			        xrealloc(a->schemas, sizeof(char *) * (size_t)(a->nschemas + 1));
			a->schemas[a->nschemas++] = xstrndup(s, (size_t)(e - s));
		}
		p = end ? end + 1 : p + n;
	}
	if (a->nschemas == 0) {
		a->schemas = xmalloc(sizeof(char *));
		a->schemas[a->nschemas++] = xstrdup("public");
	}
	return a;
}

void
apply_free(struct apply *a)
{
	size_t i;
	int j;

	if (a == NULL)
		return;
	sqlite3_wal_hook(a->db, NULL, NULL);
	for (i = 0; i < a->nbuckets; i++) {
		struct apply_rel *r = a->buckets[i], *next;

		for (; r; r = next) {
			next = r->next;
			rel_free(r);
		}
	}
	free(a->buckets);
	for (j = 0; j < a->nschemas; j++)
		free(a->schemas[j]);
	free(a->schemas);
	free(a->include);
	free(a->exclude);
	sqlite3_finalize(a->pos_st);
	strbuf_free(&a->scratch);
	strbuf_free(&a->sql);
	free(a);
}

void
apply_set_tables(struct apply *a, const char *include, const char *exclude)
{
	free(a->include);
	free(a->exclude);
	a->include = xstrdup(include ? include : "");
	a->exclude = xstrdup(exclude ? exclude : "");
}

bool
apply_wanted(const struct apply *a, const char *nspname, const char *relname)
{
	int i;

	for (i = 0; i < a->nschemas; i++)
		if (strcmp(a->schemas[i], nspname) == 0)
			return cfg_table_matches(a->include, a->exclude, nspname, relname);
	return false;
}

static int
sql_error(struct apply *a, const char *what)
{
	log_error("sqlite: %s: %s", what, sqlite3_errmsg(a->db));
	return -1;
}

int
apply_load(struct apply *a)
{
	sqlite3_stmt *st = NULL;
	int r = -1, rc;

	if (sqlite3_prepare_v2(a->db,
	                       "SELECT relid, nspname, relname, sqlite_name, replident, synced_lsn "
	                       "FROM _sqledge_relations",
	                       -1, &st, NULL) != SQLITE_OK)
		return sql_error(a, "reading _sqledge_relations");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct apply_rel *rel = xcalloc(1, sizeof(*rel));

		rel->relid = (uint32_t)sqlite3_column_int64(st, 0);
		rel->nspname = xstrdup((const char *)sqlite3_column_text(st, 1));
		rel->relname = xstrdup((const char *)sqlite3_column_text(st, 2));
		rel->sqlite_name = xstrdup((const char *)sqlite3_column_text(st, 3));
		rel->replident = ((const char *)sqlite3_column_text(st, 4))[0];
		rel->synced_lsn = (uint64_t)sqlite3_column_int64(st, 5);
		rel_insert(a, rel);
	}
	if (rc != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(
	            a->db,
	            "SELECT relid, attname, sqlite_name, type_oid, typmod, key_position, "
	            "kind FROM _sqledge_columns ORDER BY relid, position",
	            -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct apply_rel *rel = rel_find(a, (uint32_t)sqlite3_column_int64(st, 0));
		struct apply_col *c;

		if (rel == NULL)
			continue;
		rel->cols = xrealloc(rel->cols, sizeof(*rel->cols) * (size_t)(rel->ncols + 1));
		c = &rel->cols[rel->ncols++];
		c->name = xstrdup((const char *)sqlite3_column_text(st, 1));
		c->sqlite_name = xstrdup((const char *)sqlite3_column_text(st, 2));
		c->type_oid = (uint32_t)sqlite3_column_int64(st, 3);
		c->typmod = (int32_t)sqlite3_column_int64(st, 4);
		c->is_key = sqlite3_column_type(st, 5) != SQLITE_NULL;
		c->kind = pgv_kind_from_name((const char *)sqlite3_column_text(st, 6));
	}
	if (rc != SQLITE_DONE)
		goto out;
	{
		size_t i;

		for (i = 0; i < a->nbuckets; i++) {
			struct apply_rel *rel;

			for (rel = a->buckets[i]; rel; rel = rel->next)
				rel_finish(rel);
		}
	}
	r = 0;
out:
	if (r < 0)
		sql_error(a, "loading the relation map");
	sqlite3_finalize(st);
	return r;
}

/* ---- table definitions ---- */

/* Names SQLite or sqledge keep for themselves (SQLite names ignore case). */
static bool
name_reserved(const char *name)
{
	return strncasecmp(name, "sqlite_", 7) == 0 || strncasecmp(name, "_sqledge", 8) == 0 ||
	       strcasecmp(name, "postgres_pos") == 0;
}

static bool
name_taken(const struct apply *a, const char *name, uint32_t self)
{
	size_t i;

	for (i = 0; i < a->nbuckets; i++) {
		const struct apply_rel *r;

		for (r = a->buckets[i]; r; r = r->next)
			if (r->relid != self && r->sqlite_name &&
			    strcasecmp(r->sqlite_name, name) == 0)
				return true;
	}
	return false;
}

/* Tables of the default schema keep their bare name when it is free and not reserved; other
 * schemas' tables (and reserved names) are called "schema.table"; a clash adds "#relid". */
static char *
choose_table_name(const struct apply *a, const struct apply_reldef *def)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (strcmp(def->nspname, a->schemas[0]) != 0 || name_reserved(def->relname))
		strbuf_printf(&sb, "%s.", def->nspname);
	strbuf_puts(&sb, def->relname);
	if (name_reserved(sb.data) || name_taken(a, sb.data, def->relid))
		strbuf_printf(&sb, "#%" PRIu32, def->relid);
	return sb.data;
}

static char *
choose_column_name(const struct apply_rel *r, int upto, const char *name, int pos)
{
	struct strbuf sb;
	int i;

	strbuf_init(&sb);
	strbuf_puts(&sb, name);
	/* SQLite column names ignore case: "A" and "a" need different local names, and a
	 * suffix must not land on a name that is taken too */
	for (i = 0; i < upto; i++) {
		if (strcasecmp(r->cols[i].sqlite_name, sb.data) == 0) {
			strbuf_reset(&sb);
			strbuf_printf(&sb, "%s#%d", name, pos++);
			i = -1;
		}
	}
	return sb.data;
}

static bool
same_shape(const struct apply_rel *r, const struct apply_reldef *def)
{
	int i;

	if (r->sqlite_name == NULL || r->ncols != def->ncols || r->replident != def->replident)
		return false;
	for (i = 0; i < def->ncols; i++) {
		const struct apply_col *c = &r->cols[i];
		const struct apply_coldef *d = &def->cols[i];

		if (strcmp(c->name, d->name) != 0 || c->type_oid != d->type_oid ||
		    c->typmod != d->typmod || c->is_key != d->is_key)
			return false;
	}
	return true;
}

static int
record_relation(struct apply *a, const struct apply_rel *r, const struct apply_reldef *def)
{
	sqlite3_stmt *st = NULL;
	int i, keypos = 0, rc = -1;
	char rk[2] = {r->replident, 0}, kind[2] = {def->relkind, 0};

	if (sqlite3_prepare_v2(
	            a->db,
	            "INSERT OR REPLACE INTO _sqledge_relations (relid, nspname, relname, "
	            "sqlite_name, replident, relkind, synced_lsn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	            "?7)",
	            -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, r->relid);
	sqlite3_bind_text(st, 2, r->nspname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->relname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->sqlite_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rk, -1, SQLITE_STATIC);
	if (def->relkind)
		sqlite3_bind_text(st, 6, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)r->synced_lsn);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	strbuf_reset(&a->sql);
	strbuf_printf(&a->sql, "DELETE FROM _sqledge_columns WHERE relid = %" PRIu32, r->relid);
	if (store_exec(a->db, strbuf_str(&a->sql)) < 0)
		goto out;
	if (sqlite3_prepare_v2(
	            a->db,
	            "INSERT INTO _sqledge_columns (relid, position, attname, sqlite_name, "
	            "attnum, type_oid, typmod, typname, collation, \"notnull\", key_position, "
	            "kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	            -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < r->ncols; i++) {
		const struct apply_coldef *d = &def->cols[i];

		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_int64(st, 1, r->relid);
		sqlite3_bind_int(st, 2, i);
		sqlite3_bind_text(st, 3, r->cols[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->cols[i].sqlite_name, -1, SQLITE_STATIC);
		if (d->attnum > 0)
			sqlite3_bind_int(st, 5, d->attnum);
		sqlite3_bind_int64(st, 6, d->type_oid);
		sqlite3_bind_int(st, 7, d->typmod);
		if (d->typname)
			sqlite3_bind_text(st, 8, d->typname, -1, SQLITE_STATIC);
		if (d->collation)
			sqlite3_bind_text(st, 9, d->collation, -1, SQLITE_STATIC);
		if (d->notnull >= 0)
			sqlite3_bind_int(st, 10, d->notnull);
		if (d->is_key)
			sqlite3_bind_int(st, 11, ++keypos);
		sqlite3_bind_text(st, 12, pgv_kind_name(r->cols[i].kind), -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		sql_error(a, "recording the table definition");
	sqlite3_finalize(st);
	return rc;
}

static int
create_table(struct apply *a, struct apply_rel *r)
{
	bool inline_pk;
	int i;

	/* a single integer key becomes the rowid alias: the fastest lookup SQLite has */
	inline_pk = r->nkeys == 1 && r->cols[r->keys[0]].kind == PGV_INT &&
	            (r->replident == 'd' || r->replident == 'i');
	strbuf_reset(&a->sql);
	strbuf_puts(&a->sql, "CREATE TABLE ");
	strbuf_quote_ident(&a->sql, r->sqlite_name);
	strbuf_puts(&a->sql, " (");
	for (i = 0; i < r->ncols; i++) {
		if (i)
			strbuf_puts(&a->sql, ", ");
		strbuf_quote_ident(&a->sql, r->cols[i].sqlite_name);
		strbuf_printf(&a->sql, " %s", pgv_decltype(r->cols[i].kind));
		if (inline_pk && r->cols[i].is_key)
			strbuf_puts(&a->sql, " PRIMARY KEY");
	}
	if (!inline_pk && r->nkeys > 0 && (r->replident == 'd' || r->replident == 'i')) {
		strbuf_puts(&a->sql, ", PRIMARY KEY (");
		for (i = 0; i < r->nkeys; i++) {
			if (i)
				strbuf_puts(&a->sql, ", ");
			strbuf_quote_ident(&a->sql, r->cols[r->keys[i]].sqlite_name);
		}
		strbuf_putc(&a->sql, ')');
	}
	strbuf_putc(&a->sql, ')');
	return store_exec(a->db, strbuf_str(&a->sql));
}

static void
add_placeholder(struct apply *a, uint32_t relid, const char *nspname, const char *relname,
                char replident)
{
	struct apply_rel *r = xcalloc(1, sizeof(*r));

	rel_remove(a, relid);
	r->relid = relid;
	r->nspname = xstrdup(nspname);
	r->relname = xstrdup(relname);
	r->replident = replident;
	rel_insert(a, r);
}

int
apply_drop_relation(struct apply *a, uint32_t relid)
{
	struct apply_rel *r = rel_find(a, relid);

	if (r == NULL)
		return 0;
	if (r->sqlite_name) {
		strbuf_reset(&a->sql);
		strbuf_puts(&a->sql, "DROP TABLE IF EXISTS ");
		strbuf_quote_ident(&a->sql, r->sqlite_name);
		if (store_exec(a->db, strbuf_str(&a->sql)) < 0)
			return -1;
		log_info("dropped local table \"%s\" of \"%s\".\"%s\"", r->sqlite_name, r->nspname,
		         r->relname);
	}
	strbuf_reset(&a->sql);
	strbuf_printf(&a->sql,
	              "DELETE FROM _sqledge_relations WHERE relid = %" PRIu32 ";"
	              "DELETE FROM _sqledge_columns WHERE relid = %" PRIu32,
	              relid, relid);
	if (store_exec(a->db, strbuf_str(&a->sql)) < 0)
		return -1;
	rel_remove(a, relid);
	return 0;
}

void
apply_ignore_relation(struct apply *a, uint32_t relid, const char *nspname, const char *relname)
{
	add_placeholder(a, relid, nspname, relname, 'd');
}

bool
apply_relation_known(const struct apply *a, uint32_t relid)
{
	return rel_find(a, relid) != NULL;
}

bool
apply_relation_names(const struct apply *a, uint32_t relid, const char **nspname,
                     const char **relname)
{
	const struct apply_rel *r = rel_find((struct apply *)a, relid);

	if (r == NULL || r->sqlite_name == NULL)
		return false;
	*nspname = r->nspname;
	*relname = r->relname;
	return true;
}

/* Drops the mirrored indexes named after a table's old local name ("<name>:<index>"): the
 * catalog check builds them again under the new one. */
static int
drop_indexes_named(struct apply *a, const char *old)
{
	sqlite3_stmt *st = NULL;
	struct strbuf names;
	size_t off = 0;
	int rc;

	if (sqlite3_prepare_v2(a->db,
	                       "SELECT name FROM sqlite_master WHERE type = 'index' AND "
	                       "substr(name, 1, length(?1) + 1) = ?1 || ':'",
	                       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, old, -1, SQLITE_STATIC);
	strbuf_init(&names);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		strbuf_puts(&names, (const char *)sqlite3_column_text(st, 0));
		strbuf_putc(&names, '\0');
	}
	sqlite3_finalize(st);
	while (rc == SQLITE_DONE && off < names.len) {
		const char *name = names.data + off;

		off += strlen(name) + 1;
		strbuf_reset(&a->sql);
		strbuf_puts(&a->sql, "DROP INDEX IF EXISTS ");
		strbuf_quote_ident(&a->sql, name);
		if (store_exec(a->db, strbuf_str(&a->sql)) < 0)
			rc = SQLITE_ERROR;
	}
	strbuf_free(&names);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
apply_rename_relation(struct apply *a, uint32_t relid, const char *nspname, const char *relname)
{
	struct apply_rel *r = rel_find(a, relid);
	struct apply_reldef def;
	sqlite3_stmt *st = NULL;
	char *name;
	int rc = -1;

	if (r == NULL || r->sqlite_name == NULL)
		return 0;
	memset(&def, 0, sizeof(def));
	def.relid = relid;
	def.nspname = nspname;
	def.relname = relname;
	name = choose_table_name(a, &def);
	strbuf_reset(&a->sql);
	if (strcasecmp(name, r->sqlite_name) != 0) {
		strbuf_puts(&a->sql, "ALTER TABLE ");
		strbuf_quote_ident(&a->sql, r->sqlite_name);
		strbuf_puts(&a->sql, " RENAME TO ");
		strbuf_quote_ident(&a->sql, name);
	} else {
		/* the same local name: the proxies still need to notice (they reread the catalog
		 * when the schema changes) */
		strbuf_puts(&a->sql, "CREATE TABLE _sqledge_touch (x); DROP TABLE _sqledge_touch");
	}
	if (store_exec(a->db, strbuf_str(&a->sql)) < 0 ||
	    (strcasecmp(name, r->sqlite_name) != 0 && drop_indexes_named(a, r->sqlite_name) < 0))
		goto out;
	if (sqlite3_prepare_v2(a->db,
	                       "UPDATE _sqledge_relations SET nspname = ?1, relname = ?2, "
	                       "sqlite_name = ?3 WHERE relid = ?4",
	                       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, nspname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, relname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, relid);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	log_info("\"%s\".\"%s\" was renamed to \"%s\".\"%s\" upstream: its local table is \"%s\"",
	         r->nspname, r->relname, nspname, relname, name);
	free(r->nspname);
	free(r->relname);
	free(r->sqlite_name);
	r->nspname = xstrdup(nspname);
	r->relname = xstrdup(relname);
	r->sqlite_name = name;
	name = NULL;
	rel_clear_stmts(r); /* prepared with the old name */
	rc = 0;
out:
	if (rc < 0)
		sql_error(a, "renaming a local table");
	sqlite3_finalize(st);
	free(name);
	return rc;
}

uint32_t *
apply_relids(const struct apply *a, size_t *n)
{
	uint32_t *ids = xcalloc(a->nrels + 1, sizeof(*ids));
	size_t i, k = 0;

	for (i = 0; i < a->nbuckets; i++) {
		const struct apply_rel *r;

		for (r = a->buckets[i]; r; r = r->next)
			if (r->sqlite_name)
				ids[k++] = r->relid;
	}
	*n = k;
	return ids;
}

int
apply_set_synced(struct apply *a, uint32_t relid, uint64_t lsn)
{
	struct apply_rel *r = rel_find(a, relid);

	if (r == NULL)
		return 0;
	r->synced_lsn = lsn;
	if (r->sqlite_name == NULL)
		return 0;
	strbuf_reset(&a->sql);
	strbuf_printf(&a->sql,
	              "UPDATE _sqledge_relations SET synced_lsn = %" PRIu64
	              " WHERE relid = %" PRIu32,
	              lsn, relid);
	return store_exec(a->db, strbuf_str(&a->sql));
}

int
apply_define(struct apply *a, const struct apply_reldef *def)
{
	struct apply_rel *r;
	int i;

	if (!apply_wanted(a, def->nspname, def->relname)) {
		add_placeholder(a, def->relid, def->nspname, def->relname, def->replident);
		log_debug("relation \"%s\".\"%s\" is not in a configured schema, or the table "
		          "patterns leave it out: not replicated",
		          def->nspname, def->relname);
		return 0;
	}
	/* a relation defined again (changed shape, or synced again) gets a fresh table */
	if (apply_drop_relation(a, def->relid) < 0)
		return -1;
	if (def->ncols == 0) {
		/* SQLite has no table without columns */
		add_placeholder(a, def->relid, def->nspname, def->relname, def->replident);
		log_warn("table \"%s\".\"%s\" has no replicated columns: not replicated",
		         def->nspname, def->relname);
		return 0;
	}

	r = xcalloc(1, sizeof(*r));
	r->relid = def->relid;
	r->nspname = xstrdup(def->nspname);
	r->relname = xstrdup(def->relname);
	r->replident = def->replident;
	r->sqlite_name = choose_table_name(a, def);
	r->cols = xcalloc((size_t)def->ncols + 1, sizeof(*r->cols));
	for (i = 0; i < def->ncols; i++) {
		struct apply_col *c = &r->cols[i];

		c->name = xstrdup(def->cols[i].name);
		c->sqlite_name = choose_column_name(r, i, def->cols[i].name, i);
		c->type_oid = def->cols[i].type_oid;
		c->typmod = def->cols[i].typmod;
		c->is_key = def->cols[i].is_key;
		c->kind = pgv_kind_for_type(c->type_oid);
		r->ncols = i + 1;
	}
	rel_finish(r);
	if (r->replident == 'f' && r->rowid == NULL) {
		log_warn("table \"%s\".\"%s\" (REPLICA IDENTITY FULL) has columns named rowid, "
		         "_rowid_ and oid, which hide SQLite's row id: not replicated",
		         def->nspname, def->relname);
		rel_free(r);
		add_placeholder(a, def->relid, def->nspname, def->relname, def->replident);
		return 0;
	}
	rel_insert(a, r);
	if (create_table(a, r) < 0 || record_relation(a, r, def) < 0)
		return -1;
	log_info("created local table \"%s\" for \"%s\".\"%s\" (%d columns)", r->sqlite_name,
	         r->nspname, r->relname, r->ncols);
	return 0;
}

int
apply_create_index(struct apply *a, uint32_t relid, const char *indexname,
                   const char *const *colnames, int ncols)
{
	struct apply_rel *r = rel_find(a, relid);
	int i, j;

	if (r == NULL || r->sqlite_name == NULL)
		return 0;
	strbuf_reset(&a->sql);
	strbuf_puts(&a->sql, "CREATE INDEX IF NOT EXISTS ");
	{
		struct strbuf name;

		strbuf_init(&name);
		strbuf_printf(&name, "%s:%s", r->sqlite_name, indexname);
		strbuf_quote_ident(&a->sql, name.data);
		strbuf_free(&name);
	}
	strbuf_puts(&a->sql, " ON ");
	strbuf_quote_ident(&a->sql, r->sqlite_name);
	strbuf_puts(&a->sql, " (");
	for (i = 0; i < ncols; i++) {
		for (j = 0; j < r->ncols; j++)
			if (strcmp(r->cols[j].name, colnames[i]) == 0)
				break;
		if (j == r->ncols) {
			log_debug("index \"%s\" not mirrored: column \"%s\" is not replicated",
			          indexname, colnames[i]);
			return 0;
		}
		if (i)
			strbuf_puts(&a->sql, ", ");
		strbuf_quote_ident(&a->sql, r->cols[j].sqlite_name);
	}
	strbuf_putc(&a->sql, ')');
	return store_exec(a->db, strbuf_str(&a->sql));
}

/* ---- binding values ---- */

static int
bind_text_value(struct apply *a, sqlite3_stmt *st, int idx, const struct apply_rel *r, int col,
                const char *p, size_t len)
{
	struct pgv_value v;

	if (pgv_from_text(r->cols[col].kind, p, len, &a->scratch, &v) < 0) {
		/* never lose a value: keep PostgreSQL's text when it does not parse */
		log_warn("value of \"%s\".\"%s\" column \"%s\" is not a valid %s; stored as text",
		         r->nspname, r->relname, r->cols[col].name,
		         pgv_kind_name(r->cols[col].kind));
		v.type = PGV_VAL_TEXT;
		v.p = p;
		v.len = len;
	}
	switch (v.type) {
	case PGV_VAL_NULL:
		return sqlite3_bind_null(st, idx);
	case PGV_VAL_INT:
		return sqlite3_bind_int64(st, idx, v.i);
	case PGV_VAL_REAL:
		return sqlite3_bind_double(st, idx, v.d);
	case PGV_VAL_TEXT:
		return sqlite3_bind_text(st, idx, v.p, (int)v.len, SQLITE_TRANSIENT);
	case PGV_VAL_BLOB:
		return sqlite3_bind_blob(st, idx, v.p, (int)v.len, SQLITE_TRANSIENT);
	}
	return SQLITE_MISUSE;
}

static int
bind_datum(struct apply *a, sqlite3_stmt *st, int idx, const struct apply_rel *r, int col,
           const struct pgo_datum *d)
{
	int rc;

	if (d->kind == 'n')
		rc = sqlite3_bind_null(st, idx);
	else if (d->kind == 't')
		rc = bind_text_value(a, st, idx, r, col, d->data, d->len);
	else {
		log_error("unexpected '%c' value for column \"%s\" of \"%s\".\"%s\"", d->kind,
		          r->cols[col].name, r->nspname, r->relname);
		return -1;
	}
	if (rc != SQLITE_OK)
		return sql_error(a, "binding a value");
	return 0;
}

static int
step_done(struct apply *a, sqlite3_stmt *st, const struct apply_rel *r, const char *op)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_error("sqlite: %s on \"%s\" failed: %s", op, r->sqlite_name,
		          sqlite3_errmsg(a->db));
		return -1;
	}
	return 0;
}

static sqlite3_stmt *
prepare(struct apply *a, const struct apply_rel *r)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v3(a->db, strbuf_str(&a->sql), -1, SQLITE_PREPARE_PERSISTENT, &st,
	                       NULL) != SQLITE_OK) {
		log_error("sqlite: could not prepare a statement for \"%s\": %s", r->sqlite_name,
		          sqlite3_errmsg(a->db));
		return NULL;
	}
	return st;
}

static sqlite3_stmt *
insert_stmt(struct apply *a, struct apply_rel *r)
{
	int i;

	if (r->ins)
		return r->ins;
	strbuf_reset(&a->sql);
	strbuf_puts(&a->sql, "INSERT INTO ");
	strbuf_quote_ident(&a->sql, r->sqlite_name);
	strbuf_puts(&a->sql, " (");
	for (i = 0; i < r->ncols; i++) {
		if (i)
			strbuf_puts(&a->sql, ", ");
		strbuf_quote_ident(&a->sql, r->cols[i].sqlite_name);
	}
	strbuf_puts(&a->sql, ") VALUES (");
	for (i = 0; i < r->ncols; i++)
		strbuf_printf(&a->sql, "%s?%d", i ? ", " : "", i + 1);
	strbuf_putc(&a->sql, ')');
	r->ins = prepare(a, r);
	return r->ins;
}

/* WHERE clause matching one row: by the key columns (= on ?start..), or under REPLICA
 * IDENTITY FULL by every column (NULL-safe IS), one row only since duplicates may exist. */
static void
append_match(struct apply *a, const struct apply_rel *r, int start)
{
	int i;

	if (r->replident == 'f') {
		strbuf_printf(&a->sql, " WHERE %s = (SELECT %s FROM ", r->rowid, r->rowid);
		strbuf_quote_ident(&a->sql, r->sqlite_name);
		strbuf_puts(&a->sql, " WHERE ");
		for (i = 0; i < r->ncols; i++) {
			if (i)
				strbuf_puts(&a->sql, " AND ");
			strbuf_quote_ident(&a->sql, r->cols[i].sqlite_name);
			strbuf_printf(&a->sql, " IS ?%d", start + i);
		}
		strbuf_puts(&a->sql, " LIMIT 1)");
		return;
	}
	strbuf_puts(&a->sql, " WHERE ");
	for (i = 0; i < r->nkeys; i++) {
		if (i)
			strbuf_puts(&a->sql, " AND ");
		strbuf_quote_ident(&a->sql, r->cols[r->keys[i]].sqlite_name);
		strbuf_printf(&a->sql, " = ?%d", start + i);
	}
}

static sqlite3_stmt *
delete_stmt(struct apply *a, struct apply_rel *r)
{
	if (r->del)
		return r->del;
	strbuf_reset(&a->sql);
	strbuf_puts(&a->sql, "DELETE FROM ");
	strbuf_quote_ident(&a->sql, r->sqlite_name);
	append_match(a, r, 1);
	r->del = prepare(a, r);
	return r->del;
}

/* UPDATE setting every column not kept ('u'), cached per kept-column mask. Parameters: ?1..?n
 * new values by column index, ?n+1.. the match values. */
static sqlite3_stmt *
update_stmt(struct apply *a, struct apply_rel *r, const uint8_t *mask)
{
	int i, n = 0;

	for (i = 0; i < r->nupd; i++)
		if (memcmp(r->upd[i].mask, mask, (size_t)r->ncols) == 0)
			return r->upd[i].st;
	strbuf_reset(&a->sql);
	strbuf_puts(&a->sql, "UPDATE ");
	strbuf_quote_ident(&a->sql, r->sqlite_name);
	strbuf_puts(&a->sql, " SET ");
	for (i = 0; i < r->ncols; i++) {
		if (mask[i])
			continue;
		if (n++)
			strbuf_puts(&a->sql, ", ");
		strbuf_quote_ident(&a->sql, r->cols[i].sqlite_name);
		strbuf_printf(&a->sql, " = ?%d", i + 1);
	}
	if (n == 0)
		return NULL; /* nothing to set */
	append_match(a, r, r->ncols + 1);
	if (r->nupd == APPLY_UPD_CACHE) {
		sqlite3_finalize(r->upd[APPLY_UPD_CACHE - 1].st);
		free(r->upd[APPLY_UPD_CACHE - 1].mask);
		r->nupd--;
	}
	memmove(&r->upd[1], &r->upd[0], sizeof(r->upd[0]) * (size_t)r->nupd);
	r->upd[0].mask = xmalloc((size_t)r->ncols);
	memcpy(r->upd[0].mask, mask, (size_t)r->ncols);
	r->upd[0].st = prepare(a, r);
	if (r->upd[0].st == NULL) {
		free(r->upd[0].mask);
		memmove(&r->upd[0], &r->upd[1], sizeof(r->upd[0]) * (size_t)r->nupd);
		return NULL;
	}
	r->nupd++;
	return r->upd[0].st;
}

static struct apply_rel *
rel_for_change(struct apply *a, uint32_t relid, int ncols, const char *op)
{
	struct apply_rel *r = rel_find(a, relid);

	if (r == NULL) {
		log_error("%s for relation %" PRIu32 " that no Relation message described", op,
		          relid);
		return NULL;
	}
	if (r->sqlite_name == NULL || a->txn_final_lsn < r->synced_lsn)
		return r; /* skipped: not replicated, or already in the table's copy */
	if (ncols >= 0 && ncols != r->ncols) {
		log_error("%s on \"%s\".\"%s\" carries %d columns, the relation has %d", op,
		          r->nspname, r->relname, ncols, r->ncols);
		return NULL;
	}
	return r;
}

/* Binds the match values: the key columns of tup, or all columns for FULL. */
static int
bind_match(struct apply *a, sqlite3_stmt *st, const struct apply_rel *r,
           const struct pgo_tuple *tup, int start)
{
	int i;

	if (r->replident == 'f') {
		for (i = 0; i < r->ncols; i++)
			if (bind_datum(a, st, start + i, r, i, &tup->cols[i]) < 0)
				return -1;
		return 0;
	}
	for (i = 0; i < r->nkeys; i++)
		if (bind_datum(a, st, start + i, r, r->keys[i], &tup->cols[r->keys[i]]) < 0)
			return -1;
	return 0;
}

static void
warn_missing_row(struct apply *a, const struct apply_rel *r, const char *op)
{
	if (sqlite3_changes(a->db) == 0)
		log_warn("%s on \"%s\".\"%s\" found no local row to change: the local copy "
		         "differs from the upstream (sqledgectl resync repairs it)",
		         op, r->nspname, r->relname);
}

/* ---- the change stream ---- */

int
apply_relation(struct apply *a, const struct pgo_relation *m)
{
	const char *nspname = m->nspname[0] ? m->nspname : "pg_catalog";
	struct apply_rel *old = rel_find(a, m->relid);
	struct apply_reldef def;
	int i, r;

	if (!apply_wanted(a, nspname, m->relname)) {
		/* moved out of the configured schemas: its local table goes */
		if (old && old->sqlite_name && apply_drop_relation(a, m->relid) < 0)
			return -1;
		if (rel_find(a, m->relid) == NULL)
			add_placeholder(a, m->relid, nspname, m->relname, m->replident);
		return 0;
	}
	/* sent before the table's copy was taken: its changes are skipped anyway */
	if (old && a->in_txn && a->txn_final_lsn < old->synced_lsn)
		return 0;
	def.relid = m->relid;
	def.nspname = nspname;
	def.relname = m->relname;
	def.replident = m->replident;
	def.relkind = 0;
	def.ncols = m->ncols;
	def.cols = xcalloc((size_t)m->ncols + 1, sizeof(*def.cols));
	for (i = 0; i < m->ncols; i++) {
		def.cols[i].name = m->cols[i].name;
		def.cols[i].type_oid = m->cols[i].type_oid;
		def.cols[i].typmod = m->cols[i].typmod;
		/* under FULL every column is flagged as key: the whole row identifies it */
		def.cols[i].is_key = (m->cols[i].flags & PGO_COLUMN_KEY) && m->replident != 'f';
		def.cols[i].notnull = -1;
	}
	if (old && old->sqlite_name && same_shape(old, &def)) {
		r = 0;
		if (strcmp(old->nspname, nspname) != 0 || strcmp(old->relname, m->relname) != 0)
			r = apply_rename_relation(a, m->relid, nspname, m->relname);
	} else {
		/* new to the copy (created, added to the publication, attached, moved into a
		 * configured schema) or changed shape: its rows must be copied */
		log_info("relation \"%s\".\"%s\" %s: copying it", nspname, m->relname,
		         old ? "changed shape upstream" : "is new to the local copy");
		r = APPLY_TABLESYNC;
	}
	free(def.cols);
	return r;
}

int
apply_ensure_batch(struct apply *a)
{
	return batch_begin(a);
}

int
apply_type(struct apply *a, const struct pgo_typemsg *m)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (!a->batch_open) /* a Type message may come outside a transaction */
		return 0;
	if (sqlite3_prepare_v2(a->db,
	                       "INSERT OR REPLACE INTO _sqledge_types (oid, nspname, typname) "
	                       "VALUES (?1, ?2, ?3)",
	                       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, m->type_oid);
	sqlite3_bind_text(st, 2, m->nspname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->typname, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		r = 0;
out:
	if (r < 0)
		sql_error(a, "recording a type");
	sqlite3_finalize(st);
	return r;
}

static int
batch_begin(struct apply *a)
{
	if (a->batch_open)
		return 0;
	if (store_exec(a->db, "BEGIN IMMEDIATE") < 0)
		return -1;
	a->batch_open = true;
	a->batch_rows = 0;
	a->batch_txns = 0;
	a->batch_started_us = time_mono_us();
	return 0;
}

int
apply_begin(struct apply *a, const struct pgo_begin *b)
{
	if (a->in_txn) {
		log_error("Begin inside an open transaction");
		return -1;
	}
	a->in_txn = true;
	a->txn_final_lsn = b->final_lsn;
	/* the slot can go back after an upstream crash and resend what we already have */
	a->skip_txn = b->final_lsn < a->pos_lsn;
	if (a->skip_txn) {
		char l1[LSN_BUFLEN], l2[LSN_BUFLEN];

		log_debug("skipping transaction %u at %s: already applied up to %s", b->xid,
		          lsn_format(b->final_lsn, l1), lsn_format(a->pos_lsn, l2));
		return 0;
	}
	a->last_commit_time = b->commit_time;
	return batch_begin(a);
}

static int
check_in_txn(struct apply *a, const char *op)
{
	if (!a->in_txn) {
		log_error("%s outside a transaction", op);
		return -1;
	}
	return 0;
}

int
apply_insert(struct apply *a, const struct pgo_insert *m)
{
	struct apply_rel *r;
	sqlite3_stmt *st;
	int i;

	if (check_in_txn(a, "Insert") < 0)
		return -1;
	if (a->skip_txn)
		return 0;
	r = rel_for_change(a, m->relid, m->newtup.ncols, "Insert");
	if (r == NULL)
		return -1;
	if (r->sqlite_name == NULL || a->txn_final_lsn < r->synced_lsn)
		return 0;
	st = insert_stmt(a, r);
	if (st == NULL)
		return -1;
	for (i = 0; i < r->ncols; i++)
		if (bind_datum(a, st, i + 1, r, i, &m->newtup.cols[i]) < 0) {
			sqlite3_reset(st);
			return -1;
		}
	a->batch_rows++;
	return step_done(a, st, r, "INSERT");
}

int
apply_copy_row(struct apply *a, uint32_t relid, struct pgv_field *fields, int nfields)
{
	struct apply_rel *r = rel_find(a, relid);
	sqlite3_stmt *st;
	int i, rc;

	if (r == NULL || r->sqlite_name == NULL)
		return -1;
	if (nfields != r->ncols) {
		log_error("COPY row of \"%s\".\"%s\" has %d fields, expected %d", r->nspname,
		          r->relname, nfields, r->ncols);
		return -1;
	}
	st = insert_stmt(a, r);
	if (st == NULL)
		return -1;
	for (i = 0; i < nfields; i++) {
		if (fields[i].is_null)
			rc = sqlite3_bind_null(st, i + 1);
		else
			rc = bind_text_value(a, st, i + 1, r, i, fields[i].p, fields[i].len);
		if (rc != SQLITE_OK) {
			sqlite3_reset(st);
			return sql_error(a, "binding a copied value");
		}
	}
	return step_done(a, st, r, "INSERT");
}

int
apply_update(struct apply *a, const struct pgo_update *m)
{
	struct apply_rel *r;
	const struct pgo_tuple *match;
	sqlite3_stmt *st;
	uint8_t stackmask[64];
	uint8_t *mask;
	int i, rc = -1;

	if (check_in_txn(a, "Update") < 0)
		return -1;
	if (a->skip_txn)
		return 0;
	r = rel_for_change(a, m->relid, m->newtup.ncols, "Update");
	if (r == NULL)
		return -1;
	if (r->sqlite_name == NULL || a->txn_final_lsn < r->synced_lsn)
		return 0;
	if (m->oldkind && m->oldtup.ncols != r->ncols) {
		log_error("Update on \"%s\".\"%s\": old tuple has %d columns, expected %d",
		          r->nspname, r->relname, m->oldtup.ncols, r->ncols);
		return -1;
	}
	if (r->replident == 'f' && m->oldkind != 'O') {
		log_error("Update on \"%s\".\"%s\" (REPLICA IDENTITY FULL) without the old row",
		          r->nspname, r->relname);
		return -1;
	}
	if (r->replident != 'f' && r->nkeys == 0) {
		log_error("Update on \"%s\".\"%s\", which has no replica identity", r->nspname,
		          r->relname);
		return -1;
	}
	/* the key comes from the old tuple when the key changed, else from the new one */
	match = m->oldkind ? &m->oldtup : &m->newtup;
	mask = r->ncols <= (int)sizeof(stackmask) ? stackmask : xmalloc((size_t)r->ncols);
	for (i = 0; i < r->ncols; i++)
		mask[i] = m->newtup.cols[i].kind == 'u';
	st = update_stmt(a, r, mask);
	if (st == NULL) {
		/* every column unchanged: nothing to write, unless preparing failed */
		for (i = 0; i < r->ncols && mask[i]; i++)
			;
		rc = i == r->ncols ? 0 : -1;
		goto out;
	}
	for (i = 0; i < r->ncols; i++)
		if (!mask[i] && bind_datum(a, st, i + 1, r, i, &m->newtup.cols[i]) < 0)
			goto reset;
	if (bind_match(a, st, r, match, r->ncols + 1) < 0)
		goto reset;
	a->batch_rows++;
	rc = step_done(a, st, r, "UPDATE");
	if (rc == 0)
		warn_missing_row(a, r, "Update");
	goto out;
reset:
	sqlite3_reset(st);
out:
	if (mask != stackmask)
		free(mask);
	return rc;
}

int
apply_delete(struct apply *a, const struct pgo_delete *m)
{
	struct apply_rel *r;
	sqlite3_stmt *st;

	if (check_in_txn(a, "Delete") < 0)
		return -1;
	if (a->skip_txn)
		return 0;
	r = rel_for_change(a, m->relid, m->oldtup.ncols, "Delete");
	if (r == NULL)
		return -1;
	if (r->sqlite_name == NULL || a->txn_final_lsn < r->synced_lsn)
		return 0;
	if ((r->replident == 'f' && m->oldkind != 'O') || (r->replident != 'f' && r->nkeys == 0)) {
		log_error("Delete on \"%s\".\"%s\" without a usable replica identity", r->nspname,
		          r->relname);
		return -1;
	}
	st = delete_stmt(a, r);
	if (st == NULL)
		return -1;
	if (bind_match(a, st, r, &m->oldtup, 1) < 0) {
		sqlite3_reset(st);
		return -1;
	}
	a->batch_rows++;
	if (step_done(a, st, r, "DELETE") < 0)
		return -1;
	warn_missing_row(a, r, "Delete");
	return 0;
}

int
apply_truncate(struct apply *a, const struct pgo_truncate *m)
{
	uint32_t i;

	if (check_in_txn(a, "Truncate") < 0)
		return -1;
	if (a->skip_txn)
		return 0;
	for (i = 0; i < m->nrels; i++) {
		struct apply_rel *r = rel_for_change(a, m->relids[i], -1, "Truncate");

		if (r == NULL)
			return -1;
		if (r->sqlite_name == NULL || a->txn_final_lsn < r->synced_lsn)
			continue;
		strbuf_reset(&a->sql);
		strbuf_puts(&a->sql, "DELETE FROM ");
		strbuf_quote_ident(&a->sql, r->sqlite_name);
		if (store_exec(a->db, strbuf_str(&a->sql)) < 0)
			return -1;
		a->batch_rows++;
	}
	return 0;
}

int
apply_commit(struct apply *a, const struct pgo_commit *c)
{
	if (check_in_txn(a, "Commit") < 0)
		return -1;
	a->in_txn = false;
	if (a->skip_txn) {
		a->skip_txn = false;
		return 0;
	}
	if (write_position(a, c->end_lsn) < 0)
		return -1;
	a->pos_lsn = c->end_lsn;
	a->batch_txns++;
	a->last_commit_time = c->commit_time;
	return 0;
}

int
apply_flush(struct apply *a)
{
	if (!a->batch_open)
		return 0;
	if (a->in_txn && !a->skip_txn) {
		log_error("cannot commit a batch in the middle of an upstream transaction");
		return -1;
	}
	FAILPOINT("apply-before-commit");
	if (store_exec(a->db, "COMMIT") < 0) {
		apply_rollback(a);
		return -1;
	}
	a->batch_open = false;
	a->durable_lsn = a->pos_lsn;
	if (a->shm) {
		shm_applied_publish(a->shm, a->durable_lsn);
		shm_store(a->shm->txns_applied, shm_load(a->shm->txns_applied) + a->batch_txns);
		shm_store(a->shm->rows_applied, shm_load(a->shm->rows_applied) + a->batch_rows);
		shm_store(a->shm->last_commit_time_us, a->last_commit_time + PG_EPOCH_UNIX_US);
	}
	FAILPOINT("apply-after-commit");
	/* checkpoint between batches once the WAL has grown (not after every small batch: a
	 * checkpoint costs fsyncs of its own); PASSIVE never waits for readers, and readers
	 * that hold the WAL for long make it escalate to RESTART, which briefly waits for them */
	if (a->wal_pages >= APPLY_CHECKPOINT_PAGES) {
		int log = 0, done = 0;
		/* a verify reads from one snapshot for as long as it takes: RESTART would wait
		 * for it at every batch */
		int mode = a->wal_pages >= APPLY_CHECKPOINT_RESTART_PAGES &&
		                           (a->shm == NULL || shm_load(a->shm->verify_reader) == 0)
		                   ? SQLITE_CHECKPOINT_RESTART
		                   : SQLITE_CHECKPOINT_PASSIVE;

		if (sqlite3_wal_checkpoint_v2(a->db, NULL, mode, &log, &done) == SQLITE_OK &&
		    done == log)
			a->wal_pages = 0;
	}
	return 0;
}

void
apply_rollback(struct apply *a)
{
	if (a->batch_open && !sqlite3_get_autocommit(a->db))
		sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
	a->batch_open = false;
	a->in_txn = false;
	a->skip_txn = false;
	a->pos_lsn = a->durable_lsn;
}

static int
write_position(struct apply *a, uint64_t lsn)
{
	char text[LSN_BUFLEN];

	if (a->pos_st == NULL &&
	    sqlite3_prepare_v3(a->db, "UPDATE postgres_pos SET lsn = ?1, lsn_int = ?2", -1,
	                       SQLITE_PREPARE_PERSISTENT, &a->pos_st, NULL) != SQLITE_OK)
		return sql_error(a, "preparing the position update");
	sqlite3_bind_text(a->pos_st, 1, lsn_format(lsn, text), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(a->pos_st, 2, (sqlite3_int64)lsn);
	if (sqlite3_step(a->pos_st) != SQLITE_DONE) {
		sqlite3_reset(a->pos_st);
		return sql_error(a, "updating postgres_pos");
	}
	sqlite3_reset(a->pos_st);
	return 0;
}

int
apply_advance(struct apply *a, uint64_t lsn)
{
	if (a->batch_open || a->in_txn || lsn <= a->durable_lsn)
		return 0;
	/* durable before it is confirmed: the slot's confirmed position never passes what
	 * postgres_pos says, which is how a slot that is not ours is recognised */
	if (write_position(a, lsn) < 0)
		return -1;
	a->pos_lsn = a->durable_lsn = lsn;
	if (a->shm)
		shm_applied_publish(a->shm, lsn);
	return 0;
}

void
apply_set_position(struct apply *a, uint64_t lsn)
{
	a->pos_lsn = lsn;
	a->durable_lsn = lsn;
}

bool
apply_in_transaction(const struct apply *a)
{
	return a->in_txn;
}

bool
apply_batch_open(const struct apply *a)
{
	return a->batch_open;
}

uint64_t
apply_batch_rows(const struct apply *a)
{
	return a->batch_rows;
}

int64_t
apply_batch_started_us(const struct apply *a)
{
	return a->batch_started_us;
}

uint64_t
apply_durable_lsn(const struct apply *a)
{
	return a->durable_lsn;
}
