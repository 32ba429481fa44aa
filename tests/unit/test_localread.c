/* SPDX-License-Identifier: MIT */
/* The per-session decision for local reads: the check's answer as the upstream sends it, and
 * what each answer allows. */
#include "config.h"

#include "catalog.h"
#include "localread.h"
#include "pgwire.h"

static struct localcat *cat;

static void
setup(void)
{
	cat = test_catalog("INSERT INTO _sqledge_relations (relid, nspname, relname, "
	                   "sqlite_name, replident) VALUES "
	                   "(100, 'public', 't', 't', 'd'), (200, 'other', 't', 'other.t', 'd');"
	                   "INSERT INTO _sqledge_columns (relid, position, attname, "
	                   "sqlite_name, attnum, type_oid, typmod, collation, kind) VALUES "
	                   "(100, 0, 'id', 'id', 1, 23, -1, NULL, 'int'),"
	                   "(100, 1, 'at', 'at', 2, 1184, -1, NULL, 'text'),"
	                   "(200, 0, 'id', 'id', 1, 23, -1, NULL, 'int')");
}

/* Feeds one backend message built from a DataRow of text values. */
static int
feed_row(struct localread_session *s, int n, const char *const *vals)
{
	struct pgw_value v[8];
	struct strbuf sb;
	int i, r;

	for (i = 0; i < n; i++) {
		v[i].data = vals[i];
		v[i].len = vals[i] ? (int32_t)strlen(vals[i]) : -1;
	}
	strbuf_init(&sb);
	pgw_put_data_row(&sb, (uint16_t)n, v);
	r = localread_check_message(s, 'D', (const uint8_t *)sb.data + 5, sb.len - 5);
	strbuf_free(&sb);
	return r;
}

static void
answer(struct localread_session *s, const char *timezone, const char *unqualified_100)
{
	const char *settings[] = {"ISO, MDY", timezone, "1", "hex", "on", "UTF8", "0/1A2B3C4"};
	const char *rel100[] = {"100", "t", unqualified_100};
	const char *rel200[] = {"200", "f", "f"};

	localread_session_reset(s);
	CHECK_INT(localread_check_message(s, 'T', NULL, 0), 0);
	CHECK_INT(feed_row(s, 7, settings), 0);
	CHECK_INT(localread_check_message(s, 'C', NULL, 0), 0);
	CHECK_INT(localread_check_message(s, 'T', NULL, 0), 0);
	CHECK_INT(feed_row(s, 3, rel100), 0);
	CHECK_INT(feed_row(s, 3, rel200), 0);
	CHECK_INT(localread_check_message(s, 'C', NULL, 0), 0);
	CHECK_INT(localread_check_message(s, 'Z', (const uint8_t *)"I", 1), 1);
}

static enum localread_plan
plan(struct localread_session *s, const char *sql)
{
	struct translate_result tr;
	struct pgv_out_settings st;
	struct localread_binds binds;
	enum localread_plan p = localread_plan(s, cat, sql, &tr, &binds, &st);

	if (p == LOCALREAD_LOCAL) {
		translate_result_free(&tr);
		localread_binds_free(&binds);
	}
	return p;
}

static void
test_check_then_local(void)
{
	struct localread_session s;
	struct strbuf sql;

	memset(&s, 0, sizeof(s));
	strbuf_init(&sql);
	localread_check_sql(cat, &sql);
	CHECK(strstr(strbuf_str(&sql), "(100::oid, 2), (200::oid, 1)") != NULL);
	CHECK(strstr(strbuf_str(&sql), "pg_current_wal_insert_lsn") != NULL);
	strbuf_free(&sql);

	CHECK_INT(plan(&s, "SELECT id FROM t"), LOCALREAD_CHECK);
	CHECK_INT(plan(&s, "SELECT id FROM nowhere"), LOCALREAD_UPSTREAM);
	answer(&s, "Etc/UTC", "t");
	CHECK(s.valid && s.usable && s.timezone_utc && s.datestyle_iso);
	CHECK_INT(s.min_lsn, 0x1A2B3C4);
	CHECK_INT(plan(&s, "SELECT id FROM t WHERE id = 1"), LOCALREAD_LOCAL);
	CHECK_INT(plan(&s, "SELECT * FROM t"), LOCALREAD_LOCAL); /* timestamptz in UTC */
	/* other.t exists in the copy but the role may not read it */
	CHECK_INT(plan(&s, "SELECT id FROM other.t"), LOCALREAD_UPSTREAM);
	localread_session_free(&s);
}

static void
test_answers_that_keep_it_upstream(void)
{
	struct localread_session s;

	memset(&s, 0, sizeof(s));
	/* a bare "t" that the session resolves elsewhere (an earlier schema) */
	answer(&s, "UTC", "f");
	CHECK_INT(plan(&s, "SELECT id FROM t"), LOCALREAD_UPSTREAM);
	CHECK_INT(plan(&s, "SELECT id FROM public.t"), LOCALREAD_LOCAL);
	/* timestamptz outside UTC */
	answer(&s, "Europe/Paris", "t");
	CHECK_INT(plan(&s, "SELECT id FROM t"), LOCALREAD_LOCAL);
	CHECK_INT(plan(&s, "SELECT at FROM t"), LOCALREAD_UPSTREAM);
	/* an error in the check: the session stays upstream */
	localread_session_reset(&s);
	CHECK_INT(localread_check_message(&s, 'E', NULL, 0), 0);
	CHECK_INT(localread_check_message(&s, 'Z', (const uint8_t *)"I", 1), 1);
	CHECK(!s.valid);
	localread_session_free(&s);
}

int
main(void)
{
	setup();
	RUN(test_check_then_local);
	RUN(test_answers_that_keep_it_upstream);
	localcat_free(cat);
	return unit_done();
}
