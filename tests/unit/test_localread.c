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
	                   "(100, 2, 'label', 'label', 3, 25, -1, 'default', 'text'),"
	                   "(200, 0, 'id', 'id', 1, 23, -1, NULL, 'int')");
}

/* Feeds one backend message built from a DataRow of text values. */
static int
feed_row(struct localread_session *s, int n, const char *const *vals)
{
	struct pgw_value v[LOCALREAD_CHECK_SETTINGS];
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
	const char *settings[LOCALREAD_CHECK_SETTINGS] = {
	        "ISO, MDY",
	        timezone,
	        "1",
	        "hex",
	        "on",
	        "UTF8",
	        "0/1A2B3C4",
	        "0",
	        "off",
	        "read committed",
	        "{\"oid\":5,\"datname\":\"d\",\"datacl\":[\"=c/x\"],"
	        "\"datlocprovider\":\"c\",\"datcollate\":\"C.UTF-8\","
	        "\"datctype\":\"C.UTF-8\",\"daticulocale\":null}"};
	const char *rel100[] = {"100", "t", unqualified_100};
	const char *rel200[] = {"200", "f", "f"};
	const char *stmt1[] = {"s1", "SELECT id, label FROM t WHERE id = $1 AND label = $2",
	                       "{23,0}"};
	const char *stmt2[] = {"s2", "SELECT id FROM t ORDER BY id LIMIT $1", "{20}"};
	const char *bad[] = {"s3", "SELECT 1", "{x}"};

	localread_session_reset(s);
	CHECK_INT(localread_check_message(s, 'T', NULL, 0), 0);
	CHECK_INT(feed_row(s, LOCALREAD_CHECK_SETTINGS, settings), 0);
	CHECK_INT(localread_check_message(s, 'C', NULL, 0), 0);
	CHECK_INT(localread_check_message(s, 'T', NULL, 0), 0);
	CHECK_INT(feed_row(s, 3, rel100), 0);
	CHECK_INT(feed_row(s, 3, rel200), 0);
	CHECK_INT(localread_check_message(s, 'C', NULL, 0), 0);
	CHECK_INT(localread_check_message(s, 'T', NULL, 0), 0);
	CHECK_INT(feed_row(s, 3, stmt1), 0);
	CHECK_INT(feed_row(s, 3, stmt2), 0);
	CHECK_INT(feed_row(s, 3, bad), 0); /* not understood: not known, not a failure */
	CHECK_INT(localread_check_message(s, 'C', NULL, 0), 0);
	CHECK_INT(localread_check_message(s, 'Z', (const uint8_t *)"I", 1), 1);
	/* the database's collation: C.UTF-8 orders as bytes, folds ASCII as ASCII */
	CHECK_STR(s->collation, "BINARY");
	CHECK(s->ascii_fold && s->case_locale[0] == '\0');
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
	CHECK(strstr(strbuf_str(&sql), "(100::oid, 3), (200::oid, 1)") != NULL);
	CHECK(strstr(strbuf_str(&sql), "pg_current_wal_insert_lsn") != NULL);
	strbuf_free(&sql);

	CHECK_INT(plan(&s, "SELECT id FROM t"), LOCALREAD_CHECK);
	CHECK_INT(plan(&s, "SELECT id FROM nowhere"), LOCALREAD_UPSTREAM);
	answer(&s, "Etc/UTC", "t");
	CHECK(s.valid && s.usable && s.timezone_utc && s.datestyle_iso);
	CHECK_INT(s.min_lsn, 0x1A2B3C4);
	CHECK_INT(s.statement_timeout_ms, 0);
	CHECK(!s.default_read_only && s.default_isolation == TRANSLATE_ISO_READ_COMMITTED);
	CHECK_INT(plan(&s, "SELECT id FROM t WHERE id = 1"), LOCALREAD_LOCAL);
	CHECK_INT(plan(&s, "/* sqledge:upstream */ SELECT id FROM t WHERE id = 1"),
	          LOCALREAD_UPSTREAM);
	CHECK_INT(plan(&s, "SELECT id FROM t WHERE id = 1 -- sqledge:upstream"),
	          LOCALREAD_UPSTREAM);
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

static void
test_names(void)
{
	struct localread_names *n = NULL;
	struct strbuf sql;
	char name[8];
	int i;

	strbuf_init(&sql);
	localread_names_add(&n, "S_1", "SELECT id FROM t WHERE id = $1");
	localread_names_add(&n, "it's", " (select id FROM nowhere)");
	localread_names_add(&n, "back\\slash", "SELECT 1"); /* not spelled into the query */
	localread_names_add(&n, "caf\xc3\xa9", "SELECT 1");
	localread_names_add(&n, "ins", "INSERT INTO t VALUES ($1)"); /* a write: its kind */
	localread_names_add(&n, "cp", "COPY t FROM STDIN");
	CHECK(localread_names_has(n, "S_1") && localread_names_has(n, "it's"));
	CHECK(!localread_names_has(n, "back\\slash") && !localread_names_has(n, "caf\xc3\xa9"));
	CHECK(localread_names_kind(n, "ins") == LOCALREAD_KIND_STMT);
	CHECK(!localread_names_candidate(n, "ins", cat, 1));
	CHECK(localread_names_kind(n, "S_1") == LOCALREAD_KIND_STMT);
	CHECK(!localread_names_has(n, "cp") &&
	      localread_names_kind(n, "cp") == LOCALREAD_KIND_OTHER);
	/* judged against the catalog of the moment */
	CHECK(localread_names_candidate(n, "S_1", cat, 1));
	CHECK(!localread_names_candidate(n, "it's", cat, 1));
	CHECK(!localread_names_candidate(n, "nope", cat, 1));
	/* a new Parse of the name replaces the old text */
	localread_names_add(&n, "S_1", "SELECT id FROM elsewhere");
	CHECK(!localread_names_candidate(n, "S_1", cat, 1));
	localread_names_remove(n, "S_1");
	CHECK(!localread_names_has(n, "S_1"));
	/* the oldest names make room */
	for (i = 0; i < LOCALREAD_NAMES + 3; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		localread_names_add(&n, name, "SELECT 1");
	}
	CHECK(localread_names_has(n, "n34") && !localread_names_has(n, "n0"));
	localread_names_free(n);
	strbuf_free(&sql);
}

/* Which statements the session check may follow in the same flight. */
static void
test_kind(void)
{
	static const struct {
		const char *sql;
		bool simple;
		enum localread_kind kind;
	} cases[] = {
	        {"INSERT INTO t VALUES (1)", true, LOCALREAD_KIND_STMT},
	        {"  insert into t values (1);  ", true, LOCALREAD_KIND_STMT},
	        {"update t set v = 1;  \n", true, LOCALREAD_KIND_STMT},
	        {"/* a /* nested */ comment */ DELETE FROM t", true, LOCALREAD_KIND_STMT},
	        {"/* /* */ SELECT */ COPY t FROM STDIN", true, LOCALREAD_KIND_OTHER},
	        {"/* unterminated SELECT", true, LOCALREAD_KIND_OTHER},
	        {"-- SELECT\nCOPY t FROM STDIN", true, LOCALREAD_KIND_OTHER},
	        {"((SELECT 1))", true, LOCALREAD_KIND_STMT},
	        {"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", true,
	         LOCALREAD_KIND_STMT},
	        {"CALL p()", true, LOCALREAD_KIND_STMT},
	        {"commit", true, LOCALREAD_KIND_END},
	        {"END;", true, LOCALREAD_KIND_END},
	        {"ROLLBACK", false, LOCALREAD_KIND_END},
	        {"abort", true, LOCALREAD_KIND_END},
	        {"BEGIN", true, LOCALREAD_KIND_OTHER},
	        {"COPY t FROM STDIN", true, LOCALREAD_KIND_OTHER},
	        {"copy t from stdin", false, LOCALREAD_KIND_OTHER},
	        {"SELECT 1; COPY t FROM STDIN", true, LOCALREAD_KIND_OTHER},
	        {"SELECT 1; COPY t FROM STDIN", false, LOCALREAD_KIND_STMT}, /* one per Parse */
	        {"INSERT INTO t VALUES (';')", true, LOCALREAD_KIND_OTHER},
	        {"SELECT 1;;", true, LOCALREAD_KIND_OTHER},
	        {"selectx", true, LOCALREAD_KIND_OTHER},
	        {"select_1", true, LOCALREAD_KIND_OTHER},
	        {"SELECT2", true, LOCALREAD_KIND_OTHER},
	        {"SELECT\t1", true, LOCALREAD_KIND_STMT},
	        {"SELECT*FROM t", true, LOCALREAD_KIND_STMT},
	        {"", true, LOCALREAD_KIND_OTHER},
	        {"EXECUTE s", true, LOCALREAD_KIND_OTHER},
	        {"PREPARE s AS SELECT 1", true, LOCALREAD_KIND_OTHER},
	        {"SET x = 1", true, LOCALREAD_KIND_OTHER},
	        {"--\rCOPY t FROM STDIN --\nWITH (FORMAT csv)", true, LOCALREAD_KIND_OTHER},
	        {"--\rCOPY t FROM STDIN --\nWITH (FORMAT csv)", false, LOCALREAD_KIND_OTHER},
	        {"SELECT ';/*'; COPY t FROM STDIN; --*/", true, LOCALREAD_KIND_OTHER},
	        {"SELECT $$;/*$$; COPY t FROM STDIN; -- */", true, LOCALREAD_KIND_OTHER},
	        {"SELECT 1; -- a comment", true, LOCALREAD_KIND_OTHER},
	        {"ROLLBACK TO SAVEPOINT a", true, LOCALREAD_KIND_OTHER},
	        {"rollback to a", false, LOCALREAD_KIND_OTHER},
	        {"COMMIT AND CHAIN", true, LOCALREAD_KIND_OTHER},
	        {"ROLLBACK AND CHAIN", true, LOCALREAD_KIND_OTHER},
	        {"COMMIT PREPARED 'x'", true, LOCALREAD_KIND_OTHER},
	        {"commit work", true, LOCALREAD_KIND_END},
	        {"END TRANSACTION ;  ", true, LOCALREAD_KIND_END},
	        {"commit; commit", true, LOCALREAD_KIND_OTHER},
	        {"COMMIT -- done", true, LOCALREAD_KIND_OTHER},
	        {"\vSELECT 1", true, LOCALREAD_KIND_OTHER},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (localread_kind(cases[i].sql, cases[i].simple) != cases[i].kind) {
			fprintf(stderr, "kind of \"%s\": %d, expected %d\n", cases[i].sql,
			        (int)localread_kind(cases[i].sql, cases[i].simple),
			        (int)cases[i].kind);
			CHECK(false);
		}
	}
}

static void
test_stateless(void)
{
	CHECK(localread_stateless("INSERT INTO t VALUES (1)"));
	CHECK(localread_stateless("begin read only"));
	CHECK(localread_stateless("ROLLBACK TO SAVEPOINT a"));
	CHECK(localread_stateless("COPY t FROM STDIN"));
	CHECK(localread_stateless("show search_path;"));
	CHECK(!localread_stateless("SET search_path = other"));
	CHECK(!localread_stateless("BEGIN; SET LOCAL x = 1; COMMIT"));
	CHECK(!localread_stateless("PREPARE s AS SELECT 1"));
	CHECK(!localread_stateless("LISTEN ch"));
	CHECK(!localread_stateless("CREATE TEMP TABLE x (a int)"));
	CHECK(!localread_stateless("DISCARD ALL"));
	CHECK(!localread_stateless("/* unterminated"));
	CHECK(!localread_stateless("CALL refresh()"));
	CHECK(!localread_stateless("SELECT * INTO TEMP t FROM x"));
	CHECK(!localread_stateless("SELECT pg_advisory_lock(1)"));
	CHECK(!localread_stateless("select set_config('app.tenant', '1', false)"));
	CHECK(!localread_stateless("INSERT INTO t VALUES (nextval('s'))"));
	CHECK(localread_stateless("INSERT INTO t SELECT * FROM u"));
}

/* Binds one parameter given as text (or NULL) for the statement's $1. */
static int
bind1(const struct translate_result *tr, uint32_t type, int fmt, const char *val, size_t len,
      struct localread_binds *out)
{
	struct pgw_bind_param prm = {val ? (int32_t)len : -1, (const uint8_t *)val};
	int16_t f = (int16_t)fmt;
	struct pgw_bind b = {.portal = "",
	                     .stmt = "s",
	                     .nformats = 1,
	                     .formats = &f,
	                     .nparams = 1,
	                     .params = &prm};

	return localread_bind_params(tr, &type, 1, &b, out);
}

/* The check with its Describes, and their answers. */
static void
test_check_describes(void)
{
	struct localread_names *n = NULL;
	struct localread_session s;
	struct strbuf check, out, row;
	const char *settings[LOCALREAD_CHECK_SETTINGS] = {
	        "ISO, MDY",
	        "UTC",
	        "1",
	        "hex",
	        "on",
	        "UTF8",
	        "0/1",
	        "1min",
	        "on",
	        "repeatable read",
	        "{\"datlocprovider\":\"i\",\"daticulocale\":\"und\",\"datcollversion\":\"0\"}"};
	const char *rel100[] = {"100", "t", "t"};
	const char *s1[] = {"s1", "SELECT id, label FROM t WHERE id = $1", "{23}"};
	const char *s2[] = {"it's", "SELECT id FROM t", "{}"};
	struct pgw_field f[2] = {{.name = "id", .type_oid = 23, .typlen = 4, .typmod = -1},
	                         {.name = "label", .type_oid = 25, .typlen = -1, .typmod = -1}};
	const struct localread_stmt *st;

	memset(&s, 0, sizeof(s));
	strbuf_init(&check);
	strbuf_init(&out);
	strbuf_init(&row);
	localread_check_sql(cat, &check);
	localread_names_add(&n, "s1", "SELECT id, label FROM t WHERE id = $1");
	localread_names_add(&n, "it's", "SELECT id FROM t");
	localread_names_add(&n, "far", "SELECT id FROM nowhere"); /* not a candidate */
	localread_check_start(&s, n, cat, 1, &check, &out);
	CHECK_INT(s.ndesc, 2);
	CHECK(out.data[0] == 'Q');
	CHECK(memmem(out.data, out.len, "name IN (E's1', E'it''s')", 24) != NULL);
	CHECK(memmem(out.data, out.len, "D\0\0\0\010Ss1\0S\0\0\0\4", 14) != NULL);
	CHECK(memmem(out.data, out.len, "far", 3) == NULL);

	CHECK_INT(localread_check_message(&s, 'T', NULL, 0), 0);
	CHECK_INT(feed_row(&s, LOCALREAD_CHECK_SETTINGS, settings), 0);
	CHECK_INT(localread_check_message(&s, 'T', NULL, 0), 0);
	CHECK_INT(feed_row(&s, 3, rel100), 0);
	CHECK_INT(localread_check_message(&s, 'T', NULL, 0), 0);
	CHECK_INT(feed_row(&s, 3, s1), 0);
	CHECK_INT(feed_row(&s, 3, s2), 0);
	CHECK_INT(localread_check_message(&s, 'Z', (const uint8_t *)"I", 1), 0);
	CHECK(s.valid);
	/* an ICU database whose collator version is not the local ICU's: text order upstream */
	CHECK(s.collation[0] == '\0' && s.case_locale[0] == '\0');
	CHECK_INT(s.statement_timeout_ms, 60000);
	CHECK(s.default_read_only && s.default_isolation == TRANSLATE_ISO_REPEATABLE_READ);
	/* s1 described; "it's" went away upstream since: an error */
	CHECK_INT(localread_check_message(&s, 't', (const uint8_t *)"\0\1\0\0\0\27", 6), 0);
	pgw_put_row_description(&row, 2, f);
	CHECK_INT(localread_check_message(&s, 'T', (const uint8_t *)row.data + 5, row.len - 5), 0);
	CHECK_INT(localread_check_message(&s, 'Z', (const uint8_t *)"I", 1), 0);
	CHECK_INT(localread_check_message(&s, 'E', NULL, 0), 0);
	CHECK_INT(localread_check_message(&s, 'Z', (const uint8_t *)"I", 1), 1);
	CHECK(s.valid);
	st = localread_stmt(&s, "s1");
	CHECK(st && st->described && st->nresults == 2 && st->result_types[0] == 23 &&
	      st->result_types[1] == 25);
	st = localread_stmt(&s, "it's");
	CHECK(st && !st->described);
	localread_session_free(&s);
	localread_names_free(n);
	strbuf_free(&check);
	strbuf_free(&out);
	strbuf_free(&row);
}

static void
test_statements(void)
{
	struct localread_session s;
	const struct localread_stmt *st;
	struct localread_binds binds;
	struct pgv_out_settings set;
	struct translate_result tr;
	struct pgw_bind_param prm[2] = {{2, (const uint8_t *)"42"}, {3, (const uint8_t *)"abc"}};
	uint32_t types[2] = {PGV_OID_INT4, 0};
	struct pgw_bind b = {.portal = "", .stmt = "s1", .nparams = 2, .params = prm};

	memset(&s, 0, sizeof(s));
	CHECK_INT(localread_plan_statement(&s, cat, "SELECT id FROM t WHERE id = $1", &tr, &set),
	          LOCALREAD_CHECK);
	CHECK_INT(localread_plan_statement(&s, cat, "SELECT version()", &tr, &set),
	          LOCALREAD_UPSTREAM);
	answer(&s, "UTC", "t");
	CHECK_INT(s.nstmts, 2);
	st = localread_stmt(&s, "s1");
	CHECK(st != NULL && st->ntypes == 2 && st->types[0] == 23 && st->types[1] == 0);
	CHECK(!st->described);
	CHECK(localread_stmt(&s, "s3") == NULL && localread_stmt(&s, "nope") == NULL);
	CHECK_INT(localread_plan_statement(&s, cat, st->sql, &tr, &set), LOCALREAD_LOCAL);
	CHECK(tr.nparams == 2);
	CHECK_INT(localread_bind_params(&tr, types, 2, &b, &binds), 0);
	CHECK(binds.n == 2 && binds.v[0].kind == SQLSHAPE_INT && binds.v[0].i == 42);
	CHECK(binds.v[1].kind == SQLSHAPE_STR && strcmp(binds.v[1].s, "abc") == 0);
	localread_binds_free(&binds);
	/* a parameter count other than the statement's: the upstream reports it */
	b.nparams = 1;
	CHECK_INT(localread_bind_params(&tr, types, 1, &b, &binds), -1);
	translate_result_free(&tr);

	/* int4in's forms and range; binary widths */
	CHECK_INT(localread_plan_statement(&s, cat, "SELECT id FROM t WHERE id = $1", &tr, &set),
	          LOCALREAD_LOCAL);
	CHECK_INT(bind1(&tr, 0, 0, " -7\n", 4, &binds), 0);
	CHECK(binds.v[0].i == -7);
	CHECK_INT(bind1(&tr, 0, 0, "+2147483647", 11, &binds), 0);
	CHECK(binds.v[0].i == INT32_MAX);
	CHECK_INT(bind1(&tr, 0, 0, "-2147483648", 11, &binds), 0);
	CHECK(binds.v[0].i == INT32_MIN);
	CHECK_INT(bind1(&tr, 0, 0, "2147483648", 10, &binds), -1); /* out of range for int4 */
	CHECK_INT(bind1(&tr, PGV_OID_INT8, 0, "2147483648", 10, &binds), 0);
	CHECK(binds.v[0].i == INT64_C(2147483648));
	CHECK_INT(bind1(&tr, PGV_OID_INT8, 0, "-9223372036854775808", 20, &binds), 0);
	CHECK(binds.v[0].i == INT64_MIN);
	CHECK_INT(bind1(&tr, PGV_OID_INT8, 0, "9223372036854775808", 19, &binds), -1);
	CHECK_INT(bind1(&tr, PGV_OID_INT2, 0, "40000", 5, &binds), -1);
	CHECK_INT(bind1(&tr, 0, 0, "1_000", 5, &binds), -1);
	CHECK_INT(bind1(&tr, 0, 0, "", 0, &binds), -1);
	CHECK_INT(bind1(&tr, 0, 0, " ", 1, &binds), -1);
	CHECK_INT(bind1(&tr, 0, 0, "0x10", 4, &binds), -1);
	CHECK_INT(bind1(&tr, PGV_OID_NUMERIC, 0, "1", 1, &binds), -1); /* numeric comparison */
	CHECK_INT(bind1(&tr, PGV_OID_TEXT, 0, "1", 1, &binds), -1);    /* no int = text */
	CHECK_INT(bind1(&tr, 0, 1, "\xff\xff\xff\xfe", 4, &binds), 0);
	CHECK(binds.v[0].i == -2);
	CHECK_INT(bind1(&tr, PGV_OID_INT8, 1, "\0\0\0\0\0\0\1\0", 8, &binds), 0);
	CHECK(binds.v[0].i == 256);
	CHECK_INT(bind1(&tr, 0, 1, "\0\0\0\0\0\0\1\0", 8, &binds), -1); /* int4 is 4 bytes */
	CHECK_INT(bind1(&tr, 0, 0, NULL, 0, &binds), 0);
	CHECK(binds.v[0].kind == SQLSHAPE_NULL);
	translate_result_free(&tr);

	/* LIMIT $1: NULL is LIMIT ALL upstream, a negative count an error */
	st = localread_stmt(&s, "s2");
	CHECK_INT(localread_plan_statement(&s, cat, st->sql, &tr, &set), LOCALREAD_LOCAL);
	CHECK_INT(bind1(&tr, PGV_OID_INT8, 0, "10", 2, &binds), 0);
	CHECK_INT(bind1(&tr, PGV_OID_INT8, 0, "-1", 2, &binds), -1);
	CHECK_INT(bind1(&tr, PGV_OID_INT8, 0, NULL, 0, &binds), -1);
	translate_result_free(&tr);

	/* text: UTF-8 as the upstream takes it */
	CHECK_INT(localread_plan_statement(&s, cat, "SELECT id FROM t WHERE label = $1", &tr, &set),
	          LOCALREAD_LOCAL);
	CHECK_INT(bind1(&tr, 0, 0, "caf\xc3\xa9", 5, &binds), 0);
	CHECK(strcmp(binds.v[0].s, "caf\xc3\xa9") == 0);
	localread_binds_free(&binds);
	CHECK_INT(bind1(&tr, PGV_OID_VARCHAR, 1, "x", 1, &binds), 0);
	localread_binds_free(&binds);
	CHECK_INT(bind1(&tr, 0, 0, "caf\xc3", 4, &binds), -1);        /* truncated sequence */
	CHECK_INT(bind1(&tr, 0, 0, "a\0b", 3, &binds), -1);           /* NUL */
	CHECK_INT(bind1(&tr, 0, 0, "\xed\xa0\x80", 3, &binds), -1);   /* surrogate */
	CHECK_INT(bind1(&tr, PGV_OID_BPCHAR, 0, "x", 1, &binds), -1); /* blank-padded comparison */
	translate_result_free(&tr);
	localread_session_free(&s);
}

int
main(void)
{
	setup();
	RUN(test_check_then_local);
	RUN(test_answers_that_keep_it_upstream);
	RUN(test_names);
	RUN(test_kind);
	RUN(test_stateless);
	RUN(test_check_describes);
	RUN(test_statements);
	localcat_free(cat);
	return unit_done();
}
