/* SPDX-License-Identifier: MIT */
/* Translation of local reads: the SQLite statement for what is exactly translatable, and a
 * refusal (upstream) for everything else. */
#include "config.h"

#include "catalog.h"
#include "translate.h"

static struct localcat *test_cat;

static const struct localcat_rel *
resolve(void *arg, const char *schema, const char *name)
{
	return localcat_find(test_cat, schema[0] ? schema : "public", name);
}

static void
setup(void)
{
	test_cat = test_catalog("INSERT INTO _sqledge_relations (relid, nspname, relname, "
	                        "sqlite_name, replident) VALUES "
	                        "(16384, 'public', 'my_table', 'my_table', 'd'), "
	                        "(16390, 'app', 'Items', 'app.Items', 'd');"
	                        "INSERT INTO _sqledge_columns (relid, position, attname, "
	                        "sqlite_name, attnum, type_oid, typmod, collation, kind) VALUES "
	                        "(16384, 0, 'id', 'id', 1, 23, -1, NULL, 'int'), "
	                        "(16384, 1, 'names', 'names', 2, 25, -1, 'default', 'text'), "
	                        "(16384, 2, 'flag', 'flag', 3, 16, -1, NULL, 'bool'), "
	                        "(16384, 3, 'price', 'price', 4, 1700, 655366, NULL, 'numeric'), "
	                        "(16384, 4, 'code', 'code', 5, 1042, 8, 'default', 'text'), "
	                        "(16384, 5, 'big', 'big', 6, 20, -1, NULL, 'int'), "
	                        "(16390, 0, 'Id', 'Id', 1, 20, -1, NULL, 'int')");
}

static void
local(const char *sql, const char *want)
{
	struct translate_result r;

	unit_checks++;
	if (!translate_select(sql, resolve, NULL, &r) || strcmp(strbuf_str(&r.sql), want) != 0) {
		unit_failures++;
		fprintf(stderr, "translate(\"%s\"):\n  got  %s%s%s\n  want %s\n", sql,
		        r.local ? strbuf_str(&r.sql) : "UPSTREAM: ", r.local ? "" : r.reason, "",
		        want);
	}
	translate_result_free(&r);
}

static void
upstream(const char *sql, const char *reason_part)
{
	struct translate_result r;

	unit_checks++;
	if (translate_select(sql, resolve, NULL, &r) || strstr(r.reason, reason_part) == NULL) {
		unit_failures++;
		fprintf(stderr, "translate(\"%s\") = %s (%s), expected UPSTREAM with \"%s\"\n", sql,
		        r.local ? strbuf_str(&r.sql) : "UPSTREAM", r.reason, reason_part);
	}
	translate_result_free(&r);
}

static void
test_plain_selects(void)
{
	local("SELECT * FROM my_table",
	      "SELECT \"t1\".\"id\", \"t1\".\"names\", \"t1\".\"flag\", \"t1\".\"price\", "
	      "\"t1\".\"code\", \"t1\".\"big\" FROM \"my_table\" AS \"t1\"");
	local("select names, id from public.my_table m where m.id = 3",
	      "SELECT \"t1\".\"names\", \"t1\".\"id\" FROM \"my_table\" AS \"t1\" WHERE "
	      "(\"t1\".\"id\" = 3)");
	local("SELECT \"Id\" FROM app.\"Items\" WHERE \"Id\" >= $1 ORDER BY 1 DESC LIMIT 10",
	      "SELECT \"t1\".\"Id\" FROM \"app.Items\" AS \"t1\" WHERE (\"t1\".\"Id\" >= ?1) ORDER "
	      "BY \"t1\".\"Id\" DESC NULLS FIRST LIMIT 10");
	local("SELECT id FROM my_table WHERE names = 'it''s' AND (flag OR big IS NULL) AND NOT "
	      "flag = false ORDER BY big NULLS FIRST, id OFFSET $2 LIMIT $1",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" WHERE ((\"t1\".\"names\" COLLATE "
	      "BINARY = 'it''s') AND (\"t1\".\"flag\" OR (\"t1\".\"big\" IS NULL)) AND (NOT "
	      "(\"t1\".\"flag\" = 0))) ORDER BY \"t1\".\"big\" ASC NULLS FIRST, \"t1\".\"id\" ASC "
	      "NULLS LAST LIMIT ?1 OFFSET ?2");
	local("SELECT id FROM my_table LIMIT ALL OFFSET 5",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" LIMIT -1 OFFSET 5");
}

/* Numerics, text order, character(n), integer arithmetic, aggregates, joins, subqueries:
 * each through the function or collation that gives PostgreSQL's answer. */
static void
test_translations(void)
{
	local("SELECT id FROM my_table WHERE price > 10",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" WHERE (\"t1\".\"price\" COLLATE "
	      "pg_numeric > CAST(10 AS TEXT))");
	local("SELECT id FROM my_table WHERE price = 1.50",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" WHERE (\"t1\".\"price\" COLLATE "
	      "pg_numeric = '1.50')");
	local("SELECT id FROM my_table WHERE code = 'a'",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" WHERE (rtrim(\"t1\".\"code\", ' ') "
	      "COLLATE BINARY = rtrim('a', ' '))");
	local("SELECT id FROM my_table ORDER BY names",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" ORDER BY \"t1\".\"names\" COLLATE "
	      "BINARY ASC NULLS LAST");
	local("SELECT id FROM my_table WHERE id = '1'",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" WHERE (\"t1\".\"id\" = 1)");
	local("SELECT id + 1, big / 2, id % 3 FROM my_table",
	      "SELECT pg_i4((\"t1\".\"id\") + (1)), pg_idiv(\"t1\".\"big\", 2, 3), "
	      "pg_imod(\"t1\".\"id\", 3, 2) FROM \"my_table\" AS \"t1\"");
	local("SELECT flag, count(*), sum(price), avg(id) FROM my_table GROUP BY flag",
	      "SELECT \"t1\".\"flag\", count(*), pg_nsum(\"t1\".\"price\"), pg_navg(\"t1\".\"id\") "
	      "FROM \"my_table\" AS \"t1\" GROUP BY \"t1\".\"flag\"");
	local("SELECT a.id, b.names FROM my_table a JOIN my_table b ON b.id = a.big "
	      "WHERE a.id IN (SELECT id FROM my_table WHERE flag)",
	      "SELECT \"t1\".\"id\", \"t2\".\"names\" FROM \"my_table\" AS \"t1\" JOIN "
	      "\"my_table\" "
	      "AS \"t2\" ON (\"t2\".\"id\" = \"t1\".\"big\") WHERE (\"t1\".\"id\" IN (SELECT "
	      "\"t3\".\"id\" FROM \"my_table\" AS \"t3\" WHERE \"t3\".\"flag\"))");
	/* a negative constant after a minus is no SQL comment */
	local("SELECT id - -1 FROM my_table",
	      "SELECT pg_i4((\"t1\".\"id\") - ((-1))) FROM \"my_table\" AS \"t1\"");
	/* an integer cast to text is TEXT: '010' is not 10 */
	local("SELECT id FROM my_table WHERE id::text = '010'",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" WHERE (CAST(\"t1\".\"id\" AS "
	      "TEXT) COLLATE BINARY = '010')");
	/* a NULL array makes = ANY NULL */
	local("SELECT id FROM my_table WHERE id = ANY($1)",
	      "SELECT \"t1\".\"id\" FROM \"my_table\" AS \"t1\" WHERE (CASE WHEN ?1 IS NULL "
	      "THEN NULL ELSE \"t1\".\"id\" IN (SELECT value FROM json_each(?1)) END)");
	/* nullif() of character(n) keeps the padding it compares without */
	local("SELECT nullif(code, 'zz') FROM my_table",
	      "SELECT (CASE WHEN (rtrim(\"t1\".\"code\", ' ') COLLATE BINARY = rtrim('zz', ' ')) "
	      "THEN NULL ELSE \"t1\".\"code\" END) FROM \"my_table\" AS \"t1\"");
	/* DISTINCT ON: the first row of each group, by row_number() */
	local("SELECT DISTINCT ON (flag) flag, id FROM my_table ORDER BY flag, id DESC",
	      "SELECT \"d1\", \"d2\" FROM (SELECT \"t1\".\"flag\" AS \"d1\", \"t1\".\"id\" AS "
	      "\"d2\", row_number() OVER (PARTITION BY \"t1\".\"flag\" ORDER BY \"t1\".\"flag\" "
	      "ASC NULLS LAST, \"t1\".\"id\" DESC NULLS FIRST) AS \"rn\", \"t1\".\"flag\" AS "
	      "\"s1\", \"t1\".\"id\" AS \"s2\" FROM \"my_table\" AS \"t1\") WHERE \"rn\" = 1 "
	      "ORDER BY \"s1\" ASC NULLS LAST, \"s2\" DESC NULLS FIRST");
	local("WITH w AS (SELECT id AS n FROM my_table) SELECT n FROM w",
	      "SELECT \"t3\".\"c1\" FROM (SELECT \"t2\".\"id\" AS \"c1\" FROM \"my_table\" AS "
	      "\"t2\") AS \"t3\"");
}

static void
test_output_columns_and_parameters(void)
{
	struct translate_result r;

	CHECK(translate_select("SELECT names AS n, price FROM my_table WHERE id = $1 AND names "
	                       "<> $2",
	                       resolve, NULL, &r));
	CHECK_INT(r.ncols, 2);
	CHECK_STR(r.cols[0].name, "n");
	CHECK_INT(r.cols[0].table_oid, 16384);
	CHECK_INT(r.cols[0].attnum, 2);
	CHECK_INT(r.cols[0].type_oid, 25);
	CHECK_STR(r.cols[1].name, "price");
	CHECK_INT(r.cols[1].typmod, 655366);
	CHECK_INT(r.cols[1].kind, PGV_NUMERIC);
	CHECK_INT(r.nparams, 2);
	CHECK_INT(r.param_types[1], 23);
	CHECK_INT(r.param_types[2], 25);
	translate_result_free(&r);

	/* computed columns: PostgreSQL's names and types, no table */
	CHECK(translate_select("SELECT count(*), sum(big), avg(id), id + 1, lower(names), "
	                       "price::int, coalesce(names, 'x'), CASE WHEN flag THEN 1 END, "
	                       "big::text AS t FROM my_table GROUP BY id, names, price, flag, big",
	                       resolve, NULL, &r));
	CHECK_INT(r.ncols, 9);
	CHECK_STR(r.cols[0].name, "count");
	CHECK_INT(r.cols[0].type_oid, PGV_OID_INT8);
	CHECK_INT(r.cols[0].table_oid, 0);
	CHECK_STR(r.cols[1].name, "sum");
	CHECK_INT(r.cols[1].type_oid, PGV_OID_NUMERIC); /* sum(int8) is numeric */
	CHECK_STR(r.cols[2].name, "avg");
	CHECK_INT(r.cols[2].type_oid, PGV_OID_NUMERIC); /* avg(int4) too */
	CHECK_STR(r.cols[3].name, "?column?");
	CHECK_INT(r.cols[3].type_oid, PGV_OID_INT4);
	CHECK_STR(r.cols[4].name, "lower");
	CHECK_STR(r.cols[5].name, "price");
	CHECK_INT(r.cols[5].type_oid, PGV_OID_INT4);
	CHECK_STR(r.cols[6].name, "coalesce");
	CHECK_STR(r.cols[7].name, "case");
	CHECK_INT(r.cols[7].type_oid, PGV_OID_INT4);
	CHECK_STR(r.cols[8].name, "t");
	CHECK_INT(r.cols[8].type_oid, PGV_OID_TEXT);
	translate_result_free(&r);
}

static void
test_what_goes_upstream(void)
{
	upstream("SELECT * FROM other", "not read locally");
	upstream("SELECT nope FROM my_table", "column \"nope\"");
	upstream("SELECT id FROM my_table WHERE names = 1", "types 25 and 23");
	upstream("SELECT id FROM my_table WHERE id = 'x'", "constant 'x'");
	upstream("SELECT id FROM my_table WHERE flag < true", "comparison of type 16");
	upstream("SELECT names, count(*) FROM my_table", "outside GROUP BY");
	upstream("SELECT names FROM my_table GROUP BY id", "outside GROUP BY");
	upstream("SELECT DISTINCT price * 2 FROM my_table", "DISTINCT on type 1700");
	upstream("SELECT id FROM my_table FOR UPDATE", "FOR UPDATE");
	upstream("SELECT id FROM my_table a, my_table b", "ambiguous");
	upstream("SELECT id FROM ONLY my_table", "ONLY");
	upstream("SELECT id FROM my_table LIMIT -1", "non-negative");
	upstream("SELECT id FROM my_table ORDER BY 7", "position 7");
	upstream("SELECT id FROM my_table WHERE id", "23 where 16 is expected");
	upstream("SELECT id FROM my_table t2 WHERE my_table.id = 1", "not in the local copy");
	upstream("SELECT (SELECT id FROM my_table) FROM my_table", "several rows");
	upstream("SELECT 1; SELECT 2", "not one SELECT");
	upstream("UPDATE my_table SET id = 1", "not one SELECT");
	upstream("SELEC", "syntax error");
	upstream("SELECT id FROM my_table FETCH FIRST 1 ROWS WITH TIES", "WITH TIES");
	upstream("SELECT id FROM my_table WHERE names ~ 'a'", "operator ~");
	upstream("SELECT id FROM my_table WHERE names LIKE 'a!%' ESCAPE '!'", "ESCAPE");
	upstream("SELECT sum(id) OVER (ROWS 2 PRECEDING) FROM my_table", "window");
	upstream("SELECT id FROM my_table ORDER BY true", "ORDER BY a constant");
	upstream("SELECT DISTINCT ON (id) id FROM my_table ORDER BY big", "DISTINCT ON other");
	upstream("SELECT count(*) FROM my_table GROUP BY 'x'", "GROUP BY a constant");
	upstream("SELECT id FROM my_table GROUP BY id::int8", "outside GROUP BY");
	upstream("SELECT (SELECT max(a.id) FROM my_table b) FROM my_table a", "outer query");
	upstream("SELECT coalesce(code, names) FROM my_table", "different types");
	upstream("SELECT id FROM my_table WHERE current_date - $1 > 0", "unknown type");
	/* writes, locks and side effects hidden in a read, catalogs */
	upstream("WITH x AS (DELETE FROM my_table RETURNING *) SELECT id FROM x", "WITH query");
	upstream("WITH x AS (DELETE FROM my_table RETURNING *) SELECT 1", "WITH query");
	upstream("WITH x AS (WITH y AS (UPDATE my_table SET id = 1 RETURNING id) SELECT 1) "
	         "SELECT 2",
	         "WITH query");
	upstream("WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r", "RECURSIVE");
	upstream("SELECT * FROM (SELECT * FROM my_table FOR SHARE) s", "FOR UPDATE");
	upstream("SELECT * INTO newtab FROM my_table", "INTO");
	upstream("SELECT nextval('seq')", "function nextval");
	upstream("SELECT id FROM my_table WHERE id = nextval('seq')", "function nextval");
	upstream("SELECT id FROM my_table WHERE EXISTS (SELECT setval('s', 5))", "function setval");
	upstream("SELECT pg_advisory_lock(1)", "function pg_advisory_lock");
	upstream("SELECT set_config('a.b', 'c', false)", "function set_config");
	upstream("SELECT relname FROM pg_catalog.pg_class", "not read locally");
	upstream("SELECT * FROM information_schema.tables", "not read locally");
	upstream("SELECT version()", "function version");
	upstream("SELECT current_user", "SQL value function");
	upstream("EXPLAIN ANALYZE DELETE FROM my_table", "not one SELECT");
}

static void
test_transactions(void)
{
	static const struct {
		const char *sql;
		enum translate_txn_kind kind;
		enum translate_isolation iso;
		int read_only, deferrable;
	} cases[] = {
	        {"BEGIN", TRANSLATE_TXN_BEGIN, TRANSLATE_ISO_DEFAULT, -1, -1},
	        {"begin read only", TRANSLATE_TXN_BEGIN, TRANSLATE_ISO_DEFAULT, 1, -1},
	        {"START TRANSACTION READ ONLY, ISOLATION LEVEL REPEATABLE READ",
	         TRANSLATE_TXN_BEGIN, TRANSLATE_ISO_REPEATABLE_READ, 1, -1},
	        {"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", TRANSLATE_TXN_BEGIN,
	         TRANSLATE_ISO_SERIALIZABLE, 1, 1},
	        {"BEGIN TRANSACTION ISOLATION LEVEL READ UNCOMMITTED READ WRITE",
	         TRANSLATE_TXN_BEGIN, TRANSLATE_ISO_READ_COMMITTED, 0, -1},
	        {"BEGIN WORK ISOLATION LEVEL READ COMMITTED, READ ONLY;", TRANSLATE_TXN_BEGIN,
	         TRANSLATE_ISO_READ_COMMITTED, 1, -1},
	        {"COMMIT", TRANSLATE_TXN_COMMIT, 0, 0, 0},
	        {"end transaction", TRANSLATE_TXN_COMMIT, 0, 0, 0},
	        {"ROLLBACK WORK", TRANSLATE_TXN_ROLLBACK, 0, 0, 0},
	        {"abort", TRANSLATE_TXN_ROLLBACK, 0, 0, 0},
	        {"COMMIT AND CHAIN", TRANSLATE_TXN_OTHER, 0, 0, 0},
	        {"ROLLBACK AND CHAIN", TRANSLATE_TXN_OTHER, 0, 0, 0},
	        {"ROLLBACK TO SAVEPOINT a", TRANSLATE_TXN_ROLLBACK_TO, 0, 0, 0},
	        {"COMMIT PREPARED 'x'", TRANSLATE_TXN_OTHER, 0, 0, 0},
	        {"SAVEPOINT a", TRANSLATE_TXN_SAVEPOINT, 0, 0, 0},
	        {"release savepoint \"A b\"", TRANSLATE_TXN_RELEASE, 0, 0, 0},
	        {"BEGIN; SELECT 1", TRANSLATE_TXN_OTHER, 0, 0, 0},
	        {"SELECT 1", TRANSLATE_TXN_OTHER, 0, 0, 0},
	        {"BEGIN READ ONLY garbage", TRANSLATE_TXN_OTHER, 0, 0, 0},
	};
	struct translate_txn t;
	size_t i;

	CHECK_INT(translate_transaction("RELEASE \"A b\"", &t), TRANSLATE_TXN_RELEASE);
	CHECK_STR(t.name, "A b");
	CHECK_INT(translate_transaction("rollback work to Sp1", &t), TRANSLATE_TXN_ROLLBACK_TO);
	CHECK_STR(t.name, "sp1");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		translate_transaction(cases[i].sql, &t);
		if (t.kind != cases[i].kind ||
		    (t.kind == TRANSLATE_TXN_BEGIN &&
		     (t.isolation != cases[i].iso || t.read_only != cases[i].read_only ||
		      t.deferrable != cases[i].deferrable))) {
			fprintf(stderr, "%s: kind %d iso %d ro %d def %d\n", cases[i].sql, t.kind,
			        t.isolation, t.read_only, t.deferrable);
			CHECK(false);
		}
	}
}

int
main(void)
{
	setup();
	RUN(test_plain_selects);
	RUN(test_translations);
	RUN(test_output_columns_and_parameters);
	RUN(test_what_goes_upstream);
	RUN(test_transactions);
	localcat_free(test_cat);
	return unit_done();
}
