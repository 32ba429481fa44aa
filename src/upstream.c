/* SPDX-License-Identifier: MIT */
/* The replication worker's upstream connection: connecting with pinned output settings,
 * checking that the upstream can serve sqledge, the publication and the slot. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cfg.h"
#include "log.h"
#include "upstream.h"
#include "util.h"

/* Output settings pinned on every upstream connection that reads data: the converters and
 * the COPY path depend on them (protocol-brief section 0.2). row_security=off makes a role
 * that would see a filtered copy fail instead. */
static const char upstream_options[] =
        "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c timezone=UTC "
        "-c bytea_output=hex -c row_security=off -c client_encoding=UTF8";

static int upstream_connect_host(const struct cfg *cfg, const char *host, int portnum,
                                 bool replication, PGconn **out, struct strbuf *err);

int
upstream_connect(const struct cfg *cfg, bool replication, PGconn **out, struct strbuf *err)
{
	if (cfg->replication_source_address[0])
		return upstream_connect_host(cfg, cfg->replication_source_address,
		                             cfg->replication_source_port
		                                     ? cfg->replication_source_port
		                                     : cfg->upstream_port,
		                             replication, out, err);
	return upstream_connect_host(cfg, cfg->upstream_address, cfg->upstream_port, replication,
	                             out, err);
}

/* The upstream's system identifier: from pg_control_system() on a plain connection, or,
 * when the role may not call it, from IDENTIFY_SYSTEM on a replication connection. A new
 * string, or NULL (logged). */
static char *
upstream_system_id(const struct cfg *cfg)
{
	struct strbuf err;
	PGconn *conn = NULL;
	PGresult *res;
	char *id = NULL;

	strbuf_init(&err);
	if (upstream_connect_host(cfg, cfg->upstream_address, cfg->upstream_port, false, &conn,
	                          &err) == 0) {
		res = PQexec(conn, "SELECT system_identifier FROM pg_catalog.pg_control_system()");
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			id = xstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		PQfinish(conn);
		conn = NULL;
	}
	if (id == NULL && upstream_connect_host(cfg, cfg->upstream_address, cfg->upstream_port,
	                                        true, &conn, &err) == 0) {
		res = upstream_exec(conn, "IDENTIFY_SYSTEM", PGRES_TUPLES_OK, "IDENTIFY_SYSTEM",
		                    NULL);
		if (res != NULL && PQntuples(res) == 1)
			id = xstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (id == NULL)
		log_warn("cannot learn the upstream's system identifier to compare it with the "
		         "replication source's: %s",
		         err.len ? strbuf_str(&err) : log_last_error());
	if (conn)
		PQfinish(conn);
	strbuf_free(&err);
	return id;
}

int
upstream_timeline_end(const char *history, size_t len, uint32_t tli, uint64_t *lsn)
{
	const char *p = history, *end = history + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		char line[256], lsnbuf[LSN_BUFLEN];
		unsigned long parent;

		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			/* comments and blank lines are allowed */
			if (sscanf(line, "%lu %23s", &parent, lsnbuf) == 2 && parent == tli &&
			    lsn_parse(lsnbuf, lsn) == 0)
				return 0;
		}
		p += n + 1;
	}
	return -1;
}

int
upstream_forked_before(PGconn *conn, uint32_t copy_tli, uint32_t info_tli, uint64_t pos,
                       uint64_t *fork)
{
	char sql[64];
	PGresult *res;
	int r = -1;

	if (copy_tli == info_tli)
		return 0;
	snprintf(sql, sizeof(sql), "TIMELINE_HISTORY %" PRIu32, info_tli);
	res = upstream_exec(conn, sql, PGRES_TUPLES_OK, "TIMELINE_HISTORY", NULL);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && PQnfields(res) >= 2) {
		if (upstream_timeline_end(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1),
		                          copy_tli, fork) == 0)
			r = pos > *fork;
		else
			log_error("upstream: timeline %" PRIu32
			          " is not in the history of timeline %" PRIu32,
			          copy_tli, info_tli);
	}
	PQclear(res);
	return r;
}

int
upstream_same_history(const struct cfg *cfg, const char *source_id)
{
	char *id = upstream_system_id(cfg);
	int r = -1;

	if (id != NULL) {
		r = strcmp(id, source_id) == 0;
		if (!r)
			log_warn(
			        "the replication source (system identifier %s) does not share the "
			        "upstream's WAL history (system identifier %s): neither the "
			        "session's writes nor its privileges can be matched with the copy, "
			        "so every read goes upstream",
			        source_id, id);
	}
	free(id);
	return r;
}

int
upstream_classify(const char *sqlstate)
{
	static const char *const fatal[] = {
	        "28000", /* invalid authorization */
	        "28P01", /* invalid password */
	        "3D000", /* database does not exist */
	        "42501", /* insufficient privilege */
	        "53400", /* configuration limit exceeded: no free slot */
	        "55000", /* object not in prerequisite state: wal_level, invalidated slot */
	};
	size_t i;

	for (i = 0; sqlstate && i < ARRAY_SIZE(fatal); i++)
		if (strcmp(sqlstate, fatal[i]) == 0)
			return UPSTREAM_FATAL;
	return UPSTREAM_RETRY;
}

PGresult *
upstream_exec(PGconn *conn, const char *sql, ExecStatusType expect, const char *what,
              char sqlstate[6])
{
	PGresult *res = PQexec(conn, sql);
	const char *st;

	if (sqlstate)
		sqlstate[0] = '\0';
	if (res && PQresultStatus(res) == expect)
		return res;
	st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (sqlstate && st)
		snprintf(sqlstate, 6, "%s", st);
	log_error("upstream: %s failed: %s", what,
	          res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
	                                              : PQerrorMessage(conn));
	PQclear(res);
	return NULL;
}

static bool
contains(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

static int
upstream_connect_host(const struct cfg *cfg, const char *host, int portnum, bool replication,
                      PGconn **out, struct strbuf *err)
{
	const char *kw[16], *val[16];
	char port[16], timeout[16], clean[1024];
	const char *msg;
	PGconn *conn;
	int n = 0;

	snprintf(port, sizeof(port), "%d", portnum);
	snprintf(timeout, sizeof(timeout), "%d", cfg->upstream_connect_timeout);
	kw[n] = "host", val[n++] = host;
	kw[n] = "port", val[n++] = port;
	kw[n] = "dbname", val[n++] = cfg->upstream_name;
	kw[n] = "user", val[n++] = cfg->upstream_user;
	if (cfg->upstream_password[0])
		kw[n] = "password", val[n++] = cfg->upstream_password;
	kw[n] = "sslmode", val[n++] = cfg->upstream_sslmode;
	if (cfg->upstream_sslrootcert[0])
		kw[n] = "sslrootcert", val[n++] = cfg->upstream_sslrootcert;
	kw[n] = "connect_timeout", val[n++] = timeout;
	kw[n] = "application_name", val[n++] = replication ? "sqledge-repl" : "sqledge";
	/* a peer that vanished without a FIN is noticed within about a minute */
	kw[n] = "keepalives_idle", val[n++] = "30";
	kw[n] = "keepalives_interval", val[n++] = "10";
	kw[n] = "options", val[n++] = upstream_options;
	if (replication)
		kw[n] = "replication", val[n++] = "database";
	kw[n] = NULL, val[n] = NULL;

	conn = PQconnectdbParams(kw, val, 0);
	if (conn && PQstatus(conn) == CONNECTION_OK) {
		*out = conn;
		return 0;
	}
	snprintf(clean, sizeof(clean), "%s", conn ? PQerrorMessage(conn) : "out of memory");
	/* libpq ends its messages with a newline; one log line each */
	for (char *p = clean; *p; p++)
		if (*p == '\n')
			*p = (p[1] ? ' ' : '\0');
	msg = clean;
	strbuf_reset(err);
	if (contains(msg, "password authentication failed") ||
	    contains(msg, "no password supplied")) {
		strbuf_printf(err,
		              "upstream refused the login of \"%s\": authentication failed: check "
		              "[upstream] "
		              "user and password (or password_file) (%s)",
		              cfg->upstream_user, msg);
		goto fatal;
	}
	if (contains(msg, "must be superuser or replication role") ||
	    contains(msg, "permission denied to start WAL sender")) {
		strbuf_printf(err,
		              "role \"%s\" lacks the REPLICATION privilege needed for logical "
		              "replication: "
		              "run ALTER ROLE \"%s\" REPLICATION on the upstream (%s)",
		              cfg->upstream_user, cfg->upstream_user, msg);
		goto fatal;
	}
	if (contains(msg, "database \"") && contains(msg, "does not exist")) {
		strbuf_printf(err,
		              "upstream database \"%s\" does not exist: create it or fix "
		              "[upstream] name (%s)",
		              cfg->upstream_name, msg);
		goto fatal;
	}
	if (contains(msg, "role \"") && contains(msg, "does not exist")) {
		strbuf_printf(err,
		              "upstream role \"%s\" does not exist: create it or fix [upstream] "
		              "user (%s)",
		              cfg->upstream_user, msg);
		goto fatal;
	}
	if (contains(msg, "no pg_hba.conf entry")) {
		strbuf_printf(err,
		              "upstream pg_hba.conf has no entry for this connection: allow user "
		              "\"%s\" on "
		              "database \"%s\" (a logical replication connection matches the "
		              "database name, "
		              "not the replication keyword) (%s)",
		              cfg->upstream_user, cfg->upstream_name, msg);
		goto fatal;
	}
	strbuf_printf(err, "could not connect to the upstream at %s:%d: %s", cfg->upstream_address,
	              cfg->upstream_port, msg);
	PQfinish(conn);
	return UPSTREAM_RETRY;
fatal:
	PQfinish(conn);
	return UPSTREAM_FATAL;
}

/* One-row, one-column query; returns a new string or NULL (logged). */
static char *
query_value(PGconn *conn, const char *sql, const char *what)
{
	PGresult *res = upstream_exec(conn, sql, PGRES_TUPLES_OK, what, NULL);
	char *v = NULL;

	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1 && PQnfields(res) >= 1)
		v = xstrdup(PQgetvalue(res, 0, 0));
	else
		log_error("upstream: %s returned %d rows", what, PQntuples(res));
	PQclear(res);
	return v;
}

int
upstream_check(const struct cfg *cfg, PGconn *conn, struct upstream_info *info)
{
	struct upstream_info in;
	PGresult *res;
	char *v;
	int r = UPSTREAM_RETRY;

	memset(&in, 0, sizeof(in));
	in.server_version = PQserverVersion(conn);
	if (in.server_version < 100000) {
		log_error("upstream runs PostgreSQL %d, logical replication with pgoutput needs 10 "
		          "or "
		          "later",
		          in.server_version);
		return UPSTREAM_FATAL;
	}
	v = query_value(conn, "SHOW wal_level", "SHOW wal_level");
	if (v == NULL)
		return UPSTREAM_RETRY;
	if (strcmp(v, "logical") != 0) {
		log_error("upstream wal_level is \"%s\"; logical replication needs wal_level = "
		          "logical: "
		          "set it in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and "
		          "restart "
		          "PostgreSQL",
		          v);
		free(v);
		return UPSTREAM_FATAL;
	}
	free(v);

	res = upstream_exec(conn, "IDENTIFY_SYSTEM", PGRES_TUPLES_OK, "IDENTIFY_SYSTEM", NULL);
	if (res == NULL)
		return UPSTREAM_RETRY;
	if (PQntuples(res) != 1 || PQnfields(res) < 3) {
		log_error("upstream: IDENTIFY_SYSTEM returned %d rows and %d fields, expected 1 "
		          "and 3 "
		          "or more",
		          PQntuples(res), PQnfields(res));
		goto out;
	}
	snprintf(in.system_id, sizeof(in.system_id), "%s", PQgetvalue(res, 0, 0));
	in.timeline = (uint32_t)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	if (lsn_parse(PQgetvalue(res, 0, 2), &in.xlogpos) < 0) {
		log_error("upstream: IDENTIFY_SYSTEM returned an unreadable position \"%s\"",
		          PQgetvalue(res, 0, 2));
		goto out;
	}
	v = query_value(conn,
	                "SELECT setting FROM pg_catalog.pg_settings WHERE name = "
	                "'wal_sender_timeout'",
	                "reading wal_sender_timeout");
	in.wal_sender_timeout_ms = v ? atoi(v) : 60000;
	free(v);
	v = query_value(conn, "SHOW max_slot_wal_keep_size", "SHOW max_slot_wal_keep_size");
	if (v && strcmp(v, "-1") == 0)
		log_warn(
		        "upstream max_slot_wal_keep_size is unlimited: while this node is down its "
		        "slot keeps WAL on the upstream without limit; set max_slot_wal_keep_size");
	free(v);
	*info = in;
	r = 0;
out:
	PQclear(res);
	return r;
}

static void
append_table_list(struct strbuf *sb, PGresult *res)
{
	int i;

	for (i = 0; i < PQntuples(res) && i < 20; i++) {
		strbuf_puts(sb, i ? ", " : "");
		strbuf_quote_ident(sb, PQgetvalue(res, i, 0));
		strbuf_putc(sb, '.');
		strbuf_quote_ident(sb, PQgetvalue(res, i, 1));
	}
	if (PQntuples(res) > 20)
		strbuf_printf(sb, " and %d more", PQntuples(res) - 20);
}

static int
check_row_security(const struct cfg *cfg, PGconn *conn)
{
	struct strbuf sql, list;
	PGresult *res;
	int r = UPSTREAM_RETRY;

	strbuf_init(&sql);
	strbuf_init(&list);
	strbuf_puts(&sql, "SELECT n.nspname, c.relname FROM pg_catalog.pg_publication_tables pt "
	                  "JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname "
	                  "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = "
	                  "pt.tablename WHERE pt.pubname = ");
	strbuf_quote_literal(&sql, cfg->replication_publication);
	strbuf_puts(&sql,
	            " AND c.relrowsecurity AND NOT (SELECT rolsuper OR rolbypassrls FROM "
	            "pg_catalog.pg_roles WHERE rolname = current_user) AND "
	            "(c.relforcerowsecurity OR NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')) "
	            "ORDER BY 1, 2");
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK, "checking row level security",
	                    NULL);
	if (res == NULL)
		goto out;
	if (PQntuples(res) > 0) {
		append_table_list(&list, res);
		log_error("row level security is enabled on published tables %s and role \"%s\" "
		          "lacks "
		          "BYPASSRLS, so its copy would silently miss rows: run ALTER ROLE \"%s\" "
		          "BYPASSRLS on the upstream, or leave those tables out of the publication",
		          strbuf_str(&list), cfg->upstream_user, cfg->upstream_user);
		r = UPSTREAM_FATAL;
	} else {
		r = 0;
	}
	PQclear(res);
out:
	strbuf_free(&sql);
	strbuf_free(&list);
	return r;
}

void
upstream_ddl_trigger(const struct cfg *cfg, PGconn *conn)
{
	static bool told;
	struct strbuf sql, schema;
	PGresult *res;
	char *v;
	size_t len = strcspn(cfg->upstream_schema, ",");

	if (!cfg->replication_ddl_trigger)
		return;
	if (cfg->replication_source_address[0] || PQserverVersion(conn) < 140000) {
		/* on the primary, which this connection may not reach; decoding messages come
		 * with PostgreSQL 14 */
		if (!told)
			log_info(
			        "[replication] ddl_trigger: not with a separate replication source "
			        "or before PostgreSQL 14; the catalog check every "
			        "reconcile_interval seconds finds DDL instead");
		told = true;
		return;
	}
	v = query_value(conn,
	                "SELECT count(*) FROM pg_catalog.pg_event_trigger WHERE evtname IN "
	                "('sqledge_ddl', 'sqledge_ddl_drop')",
	                "looking for the DDL event trigger");
	if (v && strcmp(v, "2") == 0) {
		free(v);
		return;
	}
	free(v);
	v = query_value(conn,
	                "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user",
	                "checking for superuser");
	if (v == NULL || strcmp(v, "t") != 0) {
		if (!told)
			log_info("[replication] ddl_trigger: role \"%s\" may not create event "
			         "triggers (a superuser may); the catalog check every "
			         "reconcile_interval seconds finds DDL instead",
			         cfg->upstream_user);
		told = true;
		free(v);
		return;
	}
	free(v);
	/* in the first configured schema; it never fails the DDL it follows */
	strbuf_init(&schema);
	strbuf_init(&sql);
	{
		char *first = xstrndup(cfg->upstream_schema, len);

		strbuf_quote_ident(&schema, first);
		free(first);
	}
	strbuf_printf(&sql,
	              "BEGIN; "
	              "CREATE OR REPLACE FUNCTION %s.sqledge_ddl_message() RETURNS event_trigger "
	              "LANGUAGE plpgsql SET search_path = pg_catalog AS $sqledge$ BEGIN "
	              "IF current_setting('wal_level') = 'logical' THEN "
	              "PERFORM pg_catalog.pg_logical_emit_message(true, '" UPSTREAM_DDL_PREFIX
	              "', tg_tag); END IF; "
	              "EXCEPTION WHEN OTHERS THEN NULL; END $sqledge$; "
	              "DROP EVENT TRIGGER IF EXISTS sqledge_ddl; "
	              "DROP EVENT TRIGGER IF EXISTS sqledge_ddl_drop; "
	              "CREATE EVENT TRIGGER sqledge_ddl ON ddl_command_end "
	              "EXECUTE FUNCTION %s.sqledge_ddl_message(); "
	              "CREATE EVENT TRIGGER sqledge_ddl_drop ON sql_drop "
	              "EXECUTE FUNCTION %s.sqledge_ddl_message(); COMMIT",
	              strbuf_str(&schema), strbuf_str(&schema), strbuf_str(&schema));
	res = PQexec(conn, strbuf_str(&sql));
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warn("[replication] ddl_trigger: could not create the event trigger: %s",
		         PQresultErrorMessage(res));
		PQclear(res);
		res = PQexec(conn, "ROLLBACK");
	} else {
		log_info(
		        "created event triggers sqledge_ddl and sqledge_ddl_drop upstream: DDL now "
		        "reaches the copy through the stream");
	}
	PQclear(res);
	strbuf_free(&sql);
	strbuf_free(&schema);
}

int
upstream_prepare_publication(const struct cfg *cfg, PGconn *conn)
{
	struct strbuf sql, list;
	PGresult *res = NULL;
	char sqlstate[6];
	int r = UPSTREAM_RETRY;

	strbuf_init(&sql);
	strbuf_init(&list);
	strbuf_puts(&sql, "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = ");
	strbuf_quote_literal(&sql, cfg->replication_publication);
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK, "looking up the publication",
	                    NULL);
	if (res == NULL)
		goto out;
	if (PQntuples(res) == 1) {
		r = check_row_security(cfg, conn);
		goto out;
	}
	if (!cfg->replication_create_publication) {
		log_error("publication \"%s\" does not exist on the upstream: create it (CREATE "
		          "PUBLICATION \"%s\" FOR TABLE ...) or set [replication] "
		          "create_publication = "
		          "true",
		          cfg->replication_publication, cfg->replication_publication);
		r = UPSTREAM_FATAL;
		goto out;
	}
	/* A published table without a usable replica identity makes the upstream's own UPDATE and
	 * DELETE on it fail (protocol-brief 0.4): never break the upstream to feed a replica. */
	PQclear(res);
	res = upstream_exec(
	        conn,
	        "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN "
	        "pg_catalog.pg_namespace n "
	        "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND "
	        "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ "
	        "'^pg_toast' "
	        "AND n.nspname !~ '^pg_temp' AND NOT (c.relreplident = 'f' OR (c.relreplident = "
	        "'d' "
	        "AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND "
	        "i.indisprimary)) OR (c.relreplident = 'i' AND EXISTS (SELECT 1 FROM "
	        "pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisreplident))) ORDER BY "
	        "1, 2",
	        PGRES_TUPLES_OK, "checking replica identities", NULL);
	if (res == NULL)
		goto out;
	if (PQntuples(res) > 0) {
		append_table_list(&list, res);
		log_error(
		        "refusing to create publication \"%s\" FOR ALL TABLES: tables %s have no "
		        "usable replica identity, and publishing them would make UPDATE and DELETE "
		        "on "
		        "them fail on the upstream. Fix each with a primary key or ALTER TABLE ... "
		        "REPLICA IDENTITY FULL, or create the publication yourself (e.g. CREATE "
		        "PUBLICATION \"%s\" FOR TABLE ..., or WITH (publish = 'insert'))",
		        cfg->replication_publication, strbuf_str(&list),
		        cfg->replication_publication);
		r = UPSTREAM_FATAL;
		goto out;
	}
	strbuf_reset(&sql);
	strbuf_puts(&sql, "CREATE PUBLICATION ");
	strbuf_quote_ident(&sql, cfg->replication_publication);
	strbuf_puts(&sql, " FOR ALL TABLES");
	PQclear(res);
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_COMMAND_OK, "CREATE PUBLICATION",
	                    sqlstate);
	if (res == NULL) {
		if (strcmp(sqlstate, "42501") == 0)
			log_error(
			        "role \"%s\" may not create a publication FOR ALL TABLES (it needs "
			        "superuser): have a superuser create publication \"%s\", or grant "
			        "it",
			        cfg->upstream_user, cfg->replication_publication);
		r = upstream_classify(sqlstate);
		goto out;
	}
	log_info("created publication \"%s\" FOR ALL TABLES on the upstream",
	         cfg->replication_publication);
	r = check_row_security(cfg, conn);
out:
	PQclear(res);
	strbuf_free(&sql);
	strbuf_free(&list);
	return r;
}

int
upstream_slot_info(const struct cfg *cfg, PGconn *conn, struct slot_info *out)
{
	struct slot_info si;
	struct strbuf sql;
	PGresult *res;
	int r = UPSTREAM_RETRY;

	memset(&si, 0, sizeof(si));
	strbuf_init(&sql);
	strbuf_puts(&sql, "SELECT plugin, database, temporary, active, coalesce(active_pid, 0), "
	                  "coalesce(wal_status, ''), coalesce(confirmed_flush_lsn::text, '0/0') "
	                  "FROM pg_catalog.pg_replication_slots WHERE slot_name = ");
	strbuf_quote_literal(&sql, cfg->replication_slot_name);
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_TUPLES_OK, "looking up the slot", NULL);
	strbuf_free(&sql);
	if (res == NULL)
		return r;
	if (PQntuples(res) == 1) {
		si.exists = true;
		snprintf(si.plugin, sizeof(si.plugin), "%s", PQgetvalue(res, 0, 0));
		snprintf(si.database, sizeof(si.database), "%s", PQgetvalue(res, 0, 1));
		si.temporary = PQgetvalue(res, 0, 2)[0] == 't';
		si.active = PQgetvalue(res, 0, 3)[0] == 't';
		si.active_pid = atoi(PQgetvalue(res, 0, 4));
		si.lost = strcmp(PQgetvalue(res, 0, 5), "lost") == 0;
		if (lsn_parse(PQgetvalue(res, 0, 6), &si.confirmed_flush) < 0)
			si.confirmed_flush = 0;
	}
	PQclear(res);
	*out = si;
	return 0;
}

int
upstream_drop_slot(const struct cfg *cfg, PGconn *conn)
{
	struct strbuf sql;
	PGresult *res;
	char sqlstate[6];

	strbuf_init(&sql);
	strbuf_puts(&sql, "DROP_REPLICATION_SLOT ");
	strbuf_quote_ident(&sql, cfg->replication_slot_name);
	res = upstream_exec(conn, strbuf_str(&sql), PGRES_COMMAND_OK, "DROP_REPLICATION_SLOT",
	                    sqlstate);
	strbuf_free(&sql);
	if (res == NULL)
		return strcmp(sqlstate, "42704") == 0 ? 0 : UPSTREAM_RETRY;
	PQclear(res);
	log_info("dropped replication slot \"%s\" on the upstream", cfg->replication_slot_name);
	return 0;
}
