/* SPDX-License-Identifier: MIT */
/* Initial sync: a new slot and a snapshot-consistent COPY of every published table into a new
 * database generation, switched to only once it is complete and durable. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "apply.h"
#include "cfg.h"
#include "failpoint.h"
#include "log.h"
#include "pgvalue.h"
#include "shm.h"
#include "store.h"
#include "sync.h"
#include "upstream.h"
#include "util.h"

#define SYNC_MAX_FIELDS 1700

static void
append_schema_list(struct strbuf *sb, const char *schemas)
{
	const char *p = schemas;
	int n = 0;

	strbuf_putc(sb, '(');
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *s = p, *e = p + len;
		char *name;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s) {
			name = xstrndup(s, (size_t)(e - s));
			strbuf_puts(sb, n++ ? ", " : "");
			strbuf_quote_literal(sb, name);
			free(name);
		}
		p = end ? end + 1 : p + len;
	}
	if (n == 0)
		strbuf_puts(sb, "'public'");
	strbuf_putc(sb, ')');
}

/* Names the upstream backends whose open transactions keep CREATE_REPLICATION_SLOT waiting
 * (it waits for every transaction that has an xid when it starts). */
static void
report_slot_blockers(const struct cfg *cfg, const char *slot, int timeout_s, int self_pid)
{
	struct strbuf sql, err, list;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	int i;

	strbuf_init(&sql);
	strbuf_init(&err);
	strbuf_init(&list);
	if (upstream_connect(cfg, false, &conn, &err) == 0) {
		strbuf_printf(
		        &sql,
		        "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), "
		        "coalesce(state, ''), coalesce(to_char(xact_start AT TIME ZONE 'UTC', "
		        "'YYYY-MM-DD HH24:MI:SS'), '') FROM pg_catalog.pg_stat_activity WHERE "
		        "backend_xid IS NOT NULL AND pid NOT IN (pg_backend_pid(), %d) ORDER BY "
		        "xact_start LIMIT 5",
		        self_pid);
		res = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK,
		                    "looking for the transactions that block the slot", NULL);
	}
	for (i = 0; res && i < PQntuples(res); i++)
		strbuf_printf(&list, "%spid %s (user \"%s\", application \"%s\", %s since %s UTC)",
		              i ? "; " : "", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		              PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
	log_error("creating replication slot \"%s\" did not finish within %d s: it waits for the "
	          "transactions open upstream when it started to end. %s%s. End them (COMMIT or "
	          "ROLLBACK) or terminate them with pg_terminate_backend(pid); sqledge retries",
	          slot, timeout_s,
	          list.len ? "Blocking: " : "The blocking transactions could not be listed",
	          strbuf_str(&list));
	PQclear(res);
	PQfinish(conn);
	strbuf_free(&sql);
	strbuf_free(&err);
	strbuf_free(&list);
}

PGresult *
sync_create_slot(const struct cfg *cfg, PGconn *conn, const char *slot, bool temporary,
                 int timeout_s, int *err)
{
	struct strbuf sql;
	PGresult *res = NULL;
	int64_t deadline = time_mono_us() + (int64_t)timeout_s * 1000000;
	const char *st;

	*err = UPSTREAM_RETRY;
	strbuf_init(&sql);
	strbuf_puts(&sql, "CREATE_REPLICATION_SLOT ");
	strbuf_quote_ident(&sql, slot);
	strbuf_printf(&sql, "%s LOGICAL pgoutput (SNAPSHOT 'use')", temporary ? " TEMPORARY" : "");
	if (!PQsendQuery(conn, strbuf_str(&sql))) {
		log_error("upstream: CREATE_REPLICATION_SLOT failed: %s", PQerrorMessage(conn));
		goto out;
	}
	while (PQisBusy(conn)) {
		struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
		int64_t left = deadline - time_mono_us();

		if (left <= 0) {
			PGcancel *c = PQgetCancel(conn);
			char buf[256];

			if (c) {
				PQcancel(c, buf, sizeof(buf));
				PQfreeCancel(c);
			}
			report_slot_blockers(cfg, slot, timeout_s, PQbackendPID(conn));
			goto drain;
		}
		if (poll(&pfd, 1, (int)(left / 1000) + 1) < 0 && errno != EINTR) {
			log_error("poll() failed: %s", strerror(errno));
			goto drain;
		}
		if (!PQconsumeInput(conn)) {
			log_error("upstream: connection lost creating the slot: %s",
			          PQerrorMessage(conn));
			goto out;
		}
	}
	res = PQgetResult(conn);
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		PGresult *extra;

		while ((extra = PQgetResult(conn)) != NULL)
			PQclear(extra);
		*err = 0;
		goto out;
	}
	st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (st && strcmp(st, "53400") == 0) {
		log_error("no free replication slot on the upstream: drop unused slots (SELECT "
		          "slot_name FROM pg_replication_slots WHERE NOT active) or raise "
		          "max_replication_slots (%s)",
		          PQresultErrorMessage(res));
		*err = UPSTREAM_FATAL;
	} else {
		log_error("upstream: CREATE_REPLICATION_SLOT failed: %s",
		          res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	}
	PQclear(res);
	res = NULL;
drain : {
	PGresult *r;

	while ((r = PQgetResult(conn)) != NULL)
		PQclear(r);
}
out:
	strbuf_free(&sql);
	return res;
}

void
sync_tables_free(struct sync_table *t, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(t[i].nspname);
		free(t[i].relname);
		free(t[i].rowfilter);
		free(t[i].cols);
	}
	free(t);
}

int
sync_read_catalog(const struct cfg *cfg, PGconn *conn, int server_version, uint32_t only_relid,
                  struct sync_table **out, int *nout, PGresult **colres, int64_t *bytes)
{
	struct strbuf sql;
	PGresult *res = NULL, *cres = NULL;
	struct sync_table *t = NULL;
	int n = 0, i, r = UPSTREAM_RETRY;
	bool pg15 = server_version >= 150000;

	strbuf_init(&sql);
	strbuf_printf(&sql,
	              "SELECT c.oid, n.nspname, c.relname, c.relkind, c.relreplident, "
	              "greatest(c.reltuples, 0)::bigint, %s, "
	              "pg_catalog.pg_table_size(c.oid) "
	              "FROM pg_catalog.pg_publication_tables pt "
	              "JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname "
	              "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = "
	              "pt.tablename WHERE pt.pubname = ",
	              pg15 ? "pt.rowfilter" : "NULL::text");
	strbuf_quote_literal(&sql, cfg->replication_publication);
	strbuf_puts(&sql, " AND pt.schemaname IN ");
	append_schema_list(&sql, cfg->upstream_schema);
	if (only_relid)
		strbuf_printf(&sql, " AND c.oid = %" PRIu32, only_relid);
	strbuf_puts(&sql, " ORDER BY c.oid");
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK, "reading published tables",
	                    NULL);
	if (res == NULL)
		goto out;
	t = xcalloc((size_t)PQntuples(res) + 1, sizeof(*t));
	*bytes = 0;
	for (int k = 0; k < PQntuples(res); k++) {
		/* the table patterns leave some out */
		if (!cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables,
		                       PQgetvalue(res, k, 1), PQgetvalue(res, k, 2)))
			continue;
		i = n++;
		t[i].relid = (uint32_t)strtoul(PQgetvalue(res, k, 0), NULL, 10);
		t[i].nspname = xstrdup(PQgetvalue(res, k, 1));
		t[i].relname = xstrdup(PQgetvalue(res, k, 2));
		t[i].relkind = PQgetvalue(res, k, 3)[0];
		t[i].replident = PQgetvalue(res, k, 4)[0];
		t[i].est_rows = strtoll(PQgetvalue(res, k, 5), NULL, 10);
		if (!PQgetisnull(res, k, 6))
			t[i].rowfilter = xstrdup(PQgetvalue(res, k, 6));
		*bytes += strtoll(PQgetvalue(res, k, 7), NULL, 10);
	}

	strbuf_reset(&sql);
	strbuf_printf(
	        &sql,
	        "SELECT c.oid, a.attnum, a.attname, a.atttypid, a.atttypmod, t.typname, "
	        "co.collname, a.attnotnull, (SELECT k.pos FROM pg_catalog.pg_index i, "
	        "unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, pos) WHERE i.indrelid = c.oid "
	        "AND k.attnum = a.attnum AND CASE c.relreplident WHEN 'd' THEN i.indisprimary "
	        "WHEN 'i' THEN i.indisreplident ELSE false END) "
	        "FROM pg_catalog.pg_publication_tables pt "
	        "JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname "
	        "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
	        "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid "
	        "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
	        "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND "
	        "a.attcollation "
	        "<> 0 WHERE a.attnum > 0 AND NOT a.attisdropped %s %s AND pt.pubname = ",
	        server_version >= 120000 ? "AND a.attgenerated = ''" : "",
	        pg15 ? "AND (pt.attnames IS NULL OR a.attname = ANY (pt.attnames))" : "");
	strbuf_quote_literal(&sql, cfg->replication_publication);
	strbuf_puts(&sql, " AND pt.schemaname IN ");
	append_schema_list(&sql, cfg->upstream_schema);
	if (only_relid)
		strbuf_printf(&sql, " AND c.oid = %" PRIu32, only_relid);
	strbuf_puts(&sql, " ORDER BY c.oid, a.attnum");
	cres = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK, "reading published columns",
	                     NULL);
	if (cres == NULL)
		goto out;
	{
		int row = 0, nrows = PQntuples(cres);

		for (i = 0; i < n; i++) {
			int start;

			/* both results are ordered by oid */
			while (row < nrows &&
			       strtoul(PQgetvalue(cres, row, 0), NULL, 10) < t[i].relid)
				row++;
			start = row;
			while (row < nrows &&
			       strtoul(PQgetvalue(cres, row, 0), NULL, 10) == t[i].relid)
				row++;
			t[i].ncols = row - start;
			t[i].cols = xcalloc((size_t)t[i].ncols + 1, sizeof(*t[i].cols));
			for (int j = 0; j < t[i].ncols; j++) {
				struct apply_coldef *c = &t[i].cols[j];
				int k = start + j;

				c->attnum = atoi(PQgetvalue(cres, k, 1));
				c->name = PQgetvalue(cres, k, 2);
				c->type_oid = (uint32_t)strtoul(PQgetvalue(cres, k, 3), NULL, 10);
				c->typmod = atoi(PQgetvalue(cres, k, 4));
				c->typname = PQgetvalue(cres, k, 5);
				c->collation =
				        PQgetisnull(cres, k, 6) ? NULL : PQgetvalue(cres, k, 6);
				c->notnull = PQgetvalue(cres, k, 7)[0] == 't';
				c->is_key = !PQgetisnull(cres, k, 8) && t[i].replident != 'f';
			}
		}
	}
	*out = t;
	*nout = n;
	*colres = cres;
	t = NULL;
	cres = NULL;
	r = 0;
out:
	if (t)
		sync_tables_free(t, n);
	PQclear(res);
	PQclear(cres);
	strbuf_free(&sql);
	return r;
}

static void
append_column_list(struct strbuf *sb, const struct sync_table *t)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		strbuf_puts(sb, i ? ", " : "");
		strbuf_quote_ident(sb, t->cols[i].name);
	}
}

void
sync_copy_sql(const struct sync_table *t, struct strbuf *sql)
{
	if (t->relkind == 'r' && t->rowfilter == NULL) {
		strbuf_puts(sql, "COPY ");
		strbuf_quote_ident(sql, t->nspname);
		strbuf_putc(sql, '.');
		strbuf_quote_ident(sql, t->relname);
		strbuf_puts(sql, " (");
		append_column_list(sql, t);
		strbuf_puts(sql, ") TO STDOUT");
	} else {
		/* partitioned tables and row filters need a query; ONLY keeps inheritance
		 * children out, as the stream reports them separately */
		strbuf_puts(sql, "COPY (SELECT ");
		append_column_list(sql, t);
		strbuf_puts(sql, t->relkind == 'p' ? " FROM " : " FROM ONLY ");
		strbuf_quote_ident(sql, t->nspname);
		strbuf_putc(sql, '.');
		strbuf_quote_ident(sql, t->relname);
		if (t->rowfilter)
			strbuf_printf(sql, " WHERE %s", t->rowfilter);
		strbuf_puts(sql, ") TO STDOUT");
	}
}

static int
copy_table(PGconn *conn, struct apply *a, struct shm_state *shm, const struct sync_table *t,
           struct pgv_field *fields, void (*progress)(void *), void *arg)
{
	struct strbuf sql;
	PGresult *res;
	char label[160];
	char *buf = NULL;
	int64_t rows = 0;
	int n, r = UPSTREAM_RETRY;

	snprintf(label, sizeof(label), "%s.%s", t->nspname, t->relname);
	SHM_SET_STR(shm, sync_table, label);
	strbuf_init(&sql);
	sync_copy_sql(t, &sql);
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_COPY_OUT, "COPY", NULL);
	strbuf_free(&sql);
	if (res == NULL)
		return UPSTREAM_RETRY;
	PQclear(res);
	while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
		int nf = pgv_copy_split(buf, (size_t)n, fields, SYNC_MAX_FIELDS);

		if (nf < 0 || apply_copy_row(a, t->relid, fields, nf) < 0) {
			if (nf < 0)
				log_error("malformed COPY row from \"%s\"", label);
			PQfreemem(buf);
			r = -1;
			goto drain;
		}
		PQfreemem(buf);
		buf = NULL;
		if (++rows == 1)
			FAILPOINT("sync-mid-copy");
		if ((rows & 4095) == 0) {
			shm_store(shm->sync_rows_done, shm_load(shm->sync_rows_done) + 4096);
			if (progress)
				progress(arg);
		}
	}
	shm_store(shm->sync_rows_done, shm_load(shm->sync_rows_done) + (uint64_t)(rows & 4095));
	if (n == -2) {
		log_error("upstream: COPY of \"%s\" failed: %s", label, PQerrorMessage(conn));
		return UPSTREAM_RETRY;
	}
	r = 0;
drain:
	if (r < 0) {
		/* stop the COPY: cancel, then read to the end */
		PGcancel *c = PQgetCancel(conn);
		char err[256];

		if (c) {
			PQcancel(c, err, sizeof(err));
			PQfreeCancel(c);
		}
		while ((n = PQgetCopyData(conn, &buf, 0)) > 0)
			PQfreemem(buf);
	}
	while ((res = PQgetResult(conn)) != NULL) {
		if (r == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_error("upstream: COPY of \"%s\" failed: %s", label,
			          PQresultErrorMessage(res));
			r = UPSTREAM_RETRY;
		}
		PQclear(res);
	}
	if (r == 0)
		log_info("copied %" PRId64 " rows of \"%s\"", rows, label);
	return r;
}

static int
build_indexes(const struct cfg *cfg, PGconn *conn, struct apply *a, const char *oids)
{
	struct strbuf sql;
	PGresult *res;
	const char *cols[64];
	int i, n, start, r = UPSTREAM_RETRY;

	strbuf_init(&sql);
	strbuf_printf(&sql,
	              "SELECT i.indrelid, ic.relname, a.attname FROM pg_catalog.pg_index i "
	              "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
	              "JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
	              "CROSS JOIN unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, pos) "
	              "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
	              "k.attnum WHERE i.indrelid IN (%s) AND i.indpred IS NULL AND i.indexprs IS "
	              "NULL AND i.indisvalid AND NOT i.indisprimary AND NOT (i.indisreplident AND "
	              "c.relreplident = 'i') AND k.pos <= i.indnkeyatts "
	              "ORDER BY i.indrelid, ic.relname, k.pos",
	              oids);
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK, "reading indexes", NULL);
	strbuf_free(&sql);
	if (res == NULL)
		return r;
	n = PQntuples(res);
	for (i = 0; i < n; i = start) {
		int k = 0;

		start = i;
		while (start < n && strcmp(PQgetvalue(res, start, 0), PQgetvalue(res, i, 0)) == 0 &&
		       strcmp(PQgetvalue(res, start, 1), PQgetvalue(res, i, 1)) == 0) {
			if (k < (int)ARRAY_SIZE(cols))
				cols[k++] = PQgetvalue(res, start, 2);
			start++;
		}
		if (apply_create_index(a, (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10),
		                       PQgetvalue(res, i, 1), cols, k) < 0) {
			r = -1;
			goto out;
		}
	}
	r = 0;
out:
	PQclear(res);
	(void)cfg;
	return r;
}

static int
check_free_space(const char *db_path, int64_t need, int64_t reserve)
{
	char *dir = path_dirname(db_path);
	struct statvfs sv;
	int r = 0;

	if (statvfs(dir, &sv) == 0) {
		int64_t avail = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;

		/* the new generation sits next to the one in use until the switch */
		if (avail - reserve < need + need / 4) {
			log_error(
			        "not enough free disk space in \"%s\" for a copy: about %" PRId64
			        " MB needed, %" PRId64 " MB free, %" PRId64
			        " MB of it kept free ([local] free_space_reserve); the copy in use "
			        "keeps serving",
			        dir, (need + need / 4) >> 20, avail >> 20, reserve >> 20);
			r = -1;
		}
	}
	free(dir);
	return r;
}

int
sync_run(const struct cfg *cfg, PGconn *conn, struct shm_state *shm,
         const struct upstream_info *info, uint32_t cur_gen, struct sync_result *out)
{
	struct sync_table *tables = NULL;
	struct pgv_field *fields = NULL;
	struct apply *a = NULL;
	struct store_pos pos;
	struct strbuf oids;
	PGresult *res = NULL, *colres = NULL;
	sqlite3 *db = NULL;
	char *path = NULL;
	uint32_t gen = cur_gen + 1;
	int64_t bytes = 0, est = 0;
	uint64_t cp;
	int ntables = 0, i, r = UPSTREAM_RETRY, err;

	strbuf_init(&oids);
	shm_store(shm->sync_state, SYNC_STATE_RUNNING);
	shm_store(shm->sync_started_us, time_real_us());
	shm_store(shm->sync_finished_us, 0);
	shm_store(shm->sync_rows_done, 0);
	shm_store(shm->sync_tables_done, 0);

	res = upstream_exec(conn, "BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ",
	                    PGRES_COMMAND_OK, "BEGIN", NULL);
	if (res == NULL)
		goto out;
	PQclear(res);
	res = sync_create_slot(cfg, conn, cfg->replication_slot_name, cfg->replication_temp_slot,
	                       cfg->replication_slot_timeout, &err);
	if (res == NULL) {
		r = err;
		goto out;
	}
	if (lsn_parse(PQgetvalue(res, 0, 1), &cp) < 0) {
		log_error(
		        "upstream: CREATE_REPLICATION_SLOT returned an unreadable position \"%s\"",
		        PQgetvalue(res, 0, 1));
		goto out;
	}
	PQclear(res);
	res = NULL;
	{
		char l[LSN_BUFLEN];

		log_info("created replication slot \"%s\" at %s; copying the published tables",
		         cfg->replication_slot_name, lsn_format(cp, l));
	}

	r = sync_read_catalog(cfg, conn, info->server_version, 0, &tables, &ntables, &colres,
	                      &bytes);
	if (r != 0)
		goto out;
	r = UPSTREAM_RETRY;
	if (check_free_space(cfg->local_db_path, bytes,
	                     (int64_t)cfg->local_free_space_reserve * 1024 * 1024) < 0)
		goto out;
	for (i = 0; i < ntables; i++)
		est += tables[i].est_rows;
	shm_store(shm->sync_tables_total, (uint32_t)ntables);
	shm_store(shm->sync_rows_estimated, (uint64_t)est);

	store_remove_generations(cfg->local_db_path, cur_gen);
	path = store_generation_path(cfg->local_db_path, gen);
	unlink(path);
	if (store_open(path, true, &db) < 0 || store_init_schema(db) < 0) {
		r = -1;
		goto out;
	}
	a = apply_new(db, shm, cfg->upstream_schema);
	apply_set_tables(a, cfg->upstream_tables, cfg->upstream_exclude_tables);
	fields = xcalloc(SYNC_MAX_FIELDS, sizeof(*fields));
	if (store_exec(db, "BEGIN") < 0) {
		r = -1;
		goto out;
	}
	for (i = 0; i < ntables; i++) {
		struct apply_reldef def = {
		        .relid = tables[i].relid,
		        .nspname = tables[i].nspname,
		        .relname = tables[i].relname,
		        .replident = tables[i].replident,
		        .relkind = tables[i].relkind,
		        .ncols = tables[i].ncols,
		        .cols = tables[i].cols,
		};

		if (apply_define(a, &def) != 0) {
			r = -1;
			goto out;
		}
		/* a table without replicated columns is not replicated (apply_define said so) */
		r = tables[i].ncols ? copy_table(conn, a, shm, &tables[i], fields, NULL, NULL) : 0;
		if (r != 0)
			goto out;
		r = UPSTREAM_RETRY;
		shm_store(shm->sync_tables_done, (uint32_t)(i + 1));
		strbuf_printf(&oids, "%s%" PRIu32, i ? ", " : "", tables[i].relid);
	}
	if (ntables > 0 && build_indexes(cfg, conn, a, strbuf_str(&oids)) != 0)
		goto out;
	res = upstream_exec(conn, "COMMIT", PGRES_COMMAND_OK, "COMMIT", NULL);
	if (res == NULL)
		goto out;
	PQclear(res);
	res = NULL;

	memset(&pos, 0, sizeof(pos));
	snprintf(pos.slot_name, sizeof(pos.slot_name), "%s", cfg->replication_slot_name);
	snprintf(pos.system_id, sizeof(pos.system_id), "%s", info->system_id);
	snprintf(pos.publication, sizeof(pos.publication), "%s", cfg->replication_publication);
	cfg_replicated_set(cfg, pos.schemas, sizeof(pos.schemas));
	pos.timeline = info->timeline;
	pos.lsn = cp;
	pos.consistent_point = cp;
	if (store_write_pos(db, &pos) < 0 || store_exec(db, "COMMIT") < 0 ||
	    store_exec(db, "PRAGMA journal_mode=WAL") < 0) {
		r = -1;
		goto out;
	}
	apply_free(a);
	a = NULL;
	if (store_close_durably(db, path) < 0) {
		db = NULL;
		r = -1;
		goto out;
	}
	db = NULL;
	FAILPOINT("sync-before-switch");
	if (store_switch_generation(cfg->local_db_path, gen) < 0) {
		r = -1;
		goto out;
	}
	FAILPOINT("sync-after-switch");
	store_remove_generations(cfg->local_db_path, gen);
	shm_store(shm->generation, gen);
	shm_store(shm->sync_state, SYNC_STATE_DONE);
	shm_store(shm->sync_finished_us, time_real_us());
	SHM_SET_STR(shm, sync_table, "");
	{
		char l[LSN_BUFLEN];
		double secs = (double)(time_real_us() - shm_load(shm->sync_started_us)) / 1e6;

		log_info("initial sync done: %d tables, %" PRIu64
		         " rows in %.1f s; generation %" PRIu32 " in use, streaming from %s",
		         ntables, shm_load(shm->sync_rows_done), secs, gen, lsn_format(cp, l));
	}
	out->generation = gen;
	out->consistent_point = cp;
	r = 0;
out:
	if (r != 0) {
		shm_store(shm->sync_state, SYNC_STATE_FAILED);
		if (path)
			log_info("initial sync did not finish; generation %" PRIu32 " stays in use",
			         cur_gen);
	}
	apply_free(a);
	if (db)
		sqlite3_close(db);
	if (r != 0 && path) {
		store_remove_generations(cfg->local_db_path, cur_gen);
	}
	PQclear(res);
	PQclear(colres);
	if (tables)
		sync_tables_free(tables, ntables);
	free(fields);
	free(path);
	strbuf_free(&oids);
	return r;
}

/* Drops the local tables of relations that no longer exist upstream, so a table created again
 * under the same name gets that name back. */
static int
drop_vanished(PGconn *conn, struct apply *a)
{
	struct strbuf sql;
	PGresult *res;
	uint32_t *ids;
	size_t n, i;
	int r = UPSTREAM_RETRY;

	ids = apply_relids(a, &n);
	if (n == 0) {
		free(ids);
		return 0;
	}
	strbuf_init(&sql);
	strbuf_puts(&sql, "SELECT x.oid FROM unnest('{");
	for (i = 0; i < n; i++)
		strbuf_printf(&sql, "%s%" PRIu32, i ? "," : "", ids[i]);
	strbuf_puts(&sql, "}'::oid[]) x(oid) WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
	                  "WHERE c.oid = x.oid)");
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK, "looking for dropped tables",
	                    NULL);
	if (res) {
		r = 0;
		for (i = 0; i < (size_t)PQntuples(res) && r == 0; i++)
			if (apply_drop_relation(
			            a, (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10)) < 0)
				r = -1;
		PQclear(res);
	}
	strbuf_free(&sql);
	free(ids);
	return r;
}

int
sync_reconcile(const struct cfg *cfg, struct apply *a, struct shm_state *shm,
               void (*progress)(void *), void *arg)
{
	struct sync_table *tables = NULL;
	PGresult *colres = NULL;
	struct strbuf err, oids;
	PGconn *conn = NULL;
	uint32_t *ids = NULL;
	size_t nids = 0, i;
	int64_t bytes = 0;
	int ntables = 0, k, r;

	strbuf_init(&err);
	strbuf_init(&oids);
	if (upstream_connect(cfg, false, &conn, &err) != 0) {
		log_warn("catalog check skipped: %s", strbuf_str(&err));
		r = SYNC_RECONCILE_LATER;
		goto out;
	}
	if (sync_read_catalog(cfg, conn, PQserverVersion(conn), 0, &tables, &ntables, &colres,
	                      &bytes) != 0) {
		r = SYNC_RECONCILE_LATER; /* nothing changed yet */
		goto out;
	}
	r = -1;
	if (apply_ensure_batch(a) < 0)
		goto out;
	r = drop_vanished(conn, a);
	if (r != 0)
		goto out;
	ids = apply_relids(a, &nids);
	for (i = 0; i < nids && r == 0; i++) {
		const char *nsp, *rel;

		for (k = 0; k < ntables && tables[k].relid != ids[i]; k++)
			;
		if (!apply_relation_names(a, ids[i], &nsp, &rel))
			continue;
		if (k == ntables) {
			char *n = xstrdup(nsp), *t = xstrdup(rel);

			log_info("\"%s\".\"%s\" is no longer published (or the table patterns "
			         "leave it out): dropping it from the copy",
			         n, t);
			r = apply_drop_relation(a, ids[i]);
			/* its changes still in the stream are skipped */
			if (r == 0)
				apply_ignore_relation(a, ids[i], n, t);
			free(n);
			free(t);
		} else if (strcmp(nsp, tables[k].nspname) != 0 ||
		           strcmp(rel, tables[k].relname) != 0) {
			r = apply_rename_relation(a, ids[i], tables[k].nspname, tables[k].relname);
		}
		if (r == 0 && k < ntables)
			strbuf_printf(&oids, "%s%" PRIu32, oids.len ? "," : "", ids[i]);
	}
	/* indexes created upstream since the table was copied */
	if (r == 0 && oids.len > 0)
		r = build_indexes(cfg, conn, a, strbuf_str(&oids));
	/* published (e.g. added to the publication) with no row change since: the stream has
	 * not brought it, so its rows are copied now */
	for (k = 0; k < ntables && r == 0; k++) {
		char label[160];

		/* known: replicated, or not to be (no columns, say; until the next session) */
		if (apply_relation_known(a, tables[k].relid))
			continue;
		snprintf(label, sizeof(label), "\"%s\".\"%s\"", tables[k].nspname,
		         tables[k].relname);
		log_info("%s is published but not in the copy: copying it", label);
		r = sync_table(cfg, a, shm, tables[k].relid, label, progress, arg);
		if (r == UPSTREAM_RETRY)
			r = -1; /* part of a table may be in the batch: it must not be committed */
	}
out:
	free(ids);
	if (tables)
		sync_tables_free(tables, ntables);
	PQclear(colres);
	if (conn)
		PQfinish(conn);
	strbuf_free(&err);
	strbuf_free(&oids);
	return r;
}

int
sync_table(const struct cfg *cfg, struct apply *a, struct shm_state *shm, uint32_t relid,
           const char *label, void (*progress)(void *), void *arg)
{
	struct sync_table *tables = NULL;
	struct pgv_field *fields = NULL;
	struct upstream_info info;
	struct strbuf err, sql, oid;
	PGresult *res = NULL, *colres = NULL;
	PGconn *conn = NULL;
	int64_t bytes = 0;
	uint64_t cp;
	int ntables = 0, r, n;
	char l[LSN_BUFLEN];

	strbuf_init(&err);
	strbuf_init(&sql);
	strbuf_init(&oid);
	r = upstream_connect(cfg, true, &conn, &err);
	if (r != 0) {
		log_error("table sync of %s: %s", label, strbuf_str(&err));
		goto out;
	}
	r = UPSTREAM_RETRY;
	memset(&info, 0, sizeof(info));
	info.server_version = PQserverVersion(conn);
	res = upstream_exec(conn, "BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ",
	                    PGRES_COMMAND_OK, "BEGIN", NULL);
	if (res == NULL)
		goto out;
	PQclear(res);
	/* a temporary slot gives a snapshot and the exact position it stands for: changes
	 * committed before it are in the copy, later ones come through the stream */
	n = (int)strlen(cfg->replication_slot_name);
	strbuf_puts(&sql, "CREATE_REPLICATION_SLOT ");
	{
		struct strbuf name;

		strbuf_init(&name);
		strbuf_printf(&name, "%.*s_sync_%" PRIu32, n > 40 ? 40 : n,
		              cfg->replication_slot_name, relid);
		strbuf_quote_ident(&sql, strbuf_str(&name));
		strbuf_free(&name);
	}
	strbuf_puts(&sql, " TEMPORARY LOGICAL pgoutput (SNAPSHOT 'use')");
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK, "creating a table sync slot",
	                    NULL);
	if (res == NULL)
		goto out;
	if (lsn_parse(PQgetvalue(res, 0, 1), &cp) < 0) {
		log_error("upstream: CREATE_REPLICATION_SLOT returned an unreadable position");
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (apply_ensure_batch(a) < 0 || drop_vanished(conn, a) != 0)
		goto out;
	r = sync_read_catalog(cfg, conn, info.server_version, relid, &tables, &ntables, &colres,
	                      &bytes);
	if (r != 0)
		goto out;
	r = -1;
	if (ntables == 0) {
		/* gone from the publication (or dropped) by the time of the snapshot */
		if (apply_drop_relation(a, relid) < 0)
			goto out;
		apply_ignore_relation(a, relid, "", label);
		if (apply_set_synced(a, relid, cp) < 0)
			goto out;
		log_info("%s is no longer published: not replicated", label);
	} else {
		struct apply_reldef def = {
		        .relid = tables[0].relid,
		        .nspname = tables[0].nspname,
		        .relname = tables[0].relname,
		        .replident = tables[0].replident,
		        .relkind = tables[0].relkind,
		        .ncols = tables[0].ncols,
		        .cols = tables[0].cols,
		};

		fields = xcalloc(SYNC_MAX_FIELDS, sizeof(*fields));
		if (apply_define(a, &def) != 0 || apply_set_synced(a, relid, cp) < 0)
			goto out;
		r = tables[0].ncols ? copy_table(conn, a, shm, &tables[0], fields, progress, arg)
		                    : 0;
		if (r != 0)
			goto out;
		strbuf_printf(&oid, "%" PRIu32, relid);
		r = build_indexes(cfg, conn, a, strbuf_str(&oid));
		if (r != 0)
			goto out;
	}
	res = upstream_exec(conn, "COMMIT", PGRES_COMMAND_OK, "COMMIT", NULL);
	if (res == NULL) {
		r = UPSTREAM_RETRY;
		goto out;
	}
	log_info("table sync of %s done at %s", label, lsn_format(cp, l));
	r = 0;
out:
	PQclear(res);
	PQclear(colres);
	if (tables)
		sync_tables_free(tables, ntables);
	free(fields);
	PQfinish(conn); /* drops the temporary slot */
	strbuf_free(&err);
	strbuf_free(&sql);
	strbuf_free(&oid);
	return r;
}
