/* SPDX-License-Identifier: MIT */
/* Statement classification: what may be answered locally, and everything that must not. */
#include "config.h"

#include "classify.h"
#include "unit.h"
#include "util.h"

static void
expect(const char *sql, enum classify_verdict want, const char *reason_part)
{
	struct classify_result r;

	unit_checks++;
	if (classify_sql(sql, &r) != want ||
	    (reason_part && strstr(r.reason, reason_part) == NULL)) {
		unit_failures++;
		fprintf(stderr, "classify(\"%s\") = %s (%s), expected %s%s%s\n", sql,
		        r.verdict == CLASSIFY_LOCAL ? "LOCAL" : "UPSTREAM", r.reason,
		        want == CLASSIFY_LOCAL ? "LOCAL" : "UPSTREAM", reason_part ? " with " : "",
		        reason_part ? reason_part : "");
	}
}

static void
test_plain_reads_are_local(void)
{
	expect("SELECT * FROM my_table", CLASSIFY_LOCAL, NULL);
	expect("SELECT abalance FROM pgbench_accounts WHERE aid = $1", CLASSIFY_LOCAL, NULL);
	expect("select id, names from public.my_table where id between 1 and 10 and names is not "
	       "null order by 1 desc limit 10 offset 5",
	       CLASSIFY_LOCAL, NULL);
	expect("SELECT count(*), max(id) FROM t GROUP BY g HAVING count(*) > 1", CLASSIFY_LOCAL,
	       NULL);
	expect("SELECT a.id FROM a JOIN b ON a.id = b.aid LEFT JOIN c USING (id)", CLASSIFY_LOCAL,
	       NULL);
	expect("SELECT * FROM t WHERE id IN (1, 2, 3) OR id IN (SELECT id FROM u)", CLASSIFY_LOCAL,
	       NULL);
	expect("WITH x AS (SELECT id FROM t) SELECT * FROM x", CLASSIFY_LOCAL, NULL);
	expect("SELECT CASE WHEN a IS NULL THEN 0 ELSE a END, coalesce(b, 1) FROM t",
	       CLASSIFY_LOCAL, NULL);
	expect("SELECT 1 UNION ALL SELECT id FROM t", CLASSIFY_LOCAL, NULL);
}

static bool
has_rel(const struct classify_result *r, const char *schema, const char *name)
{
	size_t i;

	for (i = 0; i < r->nrels; i++)
		if (strcmp(r->rels[i].schema, schema) == 0 && strcmp(r->rels[i].name, name) == 0)
			return true;
	return false;
}

static void
test_relations_are_reported(void)
{
	struct classify_result r;

	CHECK_INT(classify_sql("WITH w AS (SELECT 1 FROM s.a) SELECT * FROM b, w, "
	                       "(SELECT * FROM c) sub WHERE EXISTS (SELECT 1 FROM public.d)",
	                       &r),
	          CLASSIFY_LOCAL);
	CHECK_INT(r.nrels, 5);
	CHECK(has_rel(&r, "s", "a"));
	CHECK(has_rel(&r, "", "b"));
	CHECK(has_rel(&r, "", "w"));
	CHECK(has_rel(&r, "", "c"));
	CHECK(has_rel(&r, "public", "d"));
	CHECK_INT(r.nctes, 1);
	CHECK_STR(r.ctes[0], "w");
}

static void
test_writes_locks_and_side_effects_go_upstream(void)
{
	expect("SELECT * FROM t FOR UPDATE", CLASSIFY_UPSTREAM, "locking");
	expect("SELECT * FROM (SELECT * FROM t FOR SHARE) s", CLASSIFY_UPSTREAM, "locking");
	expect("WITH x AS (DELETE FROM t RETURNING *) SELECT count(*) FROM x", CLASSIFY_UPSTREAM,
	       "data-modifying");
	expect("SELECT nextval('seq')", CLASSIFY_UPSTREAM, "function nextval");
	expect("SELECT pg_advisory_lock(1)", CLASSIFY_UPSTREAM, "function");
	expect("SELECT public.my_func(1)", CLASSIFY_UPSTREAM, "qualified");
	expect("SELECT * INTO newtab FROM t", CLASSIFY_UPSTREAM, "INTO");
	expect("SELECT EXISTS (SELECT 1 FROM t WHERE x IN (SELECT setval('s', 5)))",
	       CLASSIFY_UPSTREAM, "function setval");
	expect("SELECT 1; UPDATE t SET a = 1", CLASSIFY_UPSTREAM, "2 statements");
	expect("EXPLAIN ANALYZE DELETE FROM t", CLASSIFY_UPSTREAM, "not a SELECT");
	expect("INSERT INTO t VALUES (1)", CLASSIFY_UPSTREAM, "not a SELECT");
	expect("SET search_path = x", CLASSIFY_UPSTREAM, "not a SELECT");
	expect("", CLASSIFY_UPSTREAM, "0 statements");
	expect("SELEC broken", CLASSIFY_UPSTREAM, "syntax error");
}

static void
test_catalogs_and_untranslated_constructs_go_upstream(void)
{
	expect("SELECT c.relname FROM pg_catalog.pg_class c", CLASSIFY_UPSTREAM, "catalog");
	expect("SELECT * FROM pg_class", CLASSIFY_UPSTREAM, "catalog");
	expect("SELECT * FROM information_schema.tables", CLASSIFY_UPSTREAM, "catalog");
	expect("SELECT * FROM otherdb.public.t", CLASSIFY_UPSTREAM, "database");
	expect("SELECT * FROM t WHERE name LIKE 'a%'", CLASSIFY_UPSTREAM, "kind");
	expect("SELECT * FROM t WHERE name ~ 'a'", CLASSIFY_UPSTREAM, "operator ~");
	expect("SELECT id::text FROM t", CLASSIFY_UPSTREAM, "node type");
	expect("SELECT now()", CLASSIFY_UPSTREAM, "function now");
	expect("SELECT current_user", CLASSIFY_UPSTREAM, "node type");
	expect("SELECT * FROM generate_series(1, 3)", CLASSIFY_UPSTREAM, "node type");
	expect("SELECT row_number() OVER () FROM t", CLASSIFY_UPSTREAM, "row_number");
	expect("SELECT count(*) OVER () FROM t", CLASSIFY_UPSTREAM, "OVER");
	expect("SELECT * FROM t ORDER BY name COLLATE \"C\"", CLASSIFY_UPSTREAM, "node type");
	expect("SELECT * FROM t WHERE id = ANY ($1)", CLASSIFY_UPSTREAM, "kind");
	expect("SELECT * FROM t WHERE id OPERATOR(public.===) 1", CLASSIFY_UPSTREAM, "operator");
	expect("SELECT x FROM t WHERE x <@ ANY (SELECT y FROM u)", CLASSIFY_UPSTREAM,
	       "before a subquery");
	expect("SELECT B'101'", CLASSIFY_UPSTREAM, "BitString");
}

static void
test_deep_nesting_goes_upstream(void)
{
	struct strbuf sb;
	int i;

	strbuf_init(&sb);
	strbuf_puts(&sb, "SELECT ");
	for (i = 0; i < 300; i++)
		strbuf_puts(&sb, "(");
	strbuf_puts(&sb, "1");
	for (i = 0; i < 300; i++)
		strbuf_puts(&sb, " + 1)");
	expect(strbuf_str(&sb), CLASSIFY_UPSTREAM, "nested");
	strbuf_free(&sb);
}

int
main(void)
{
	RUN(test_plain_reads_are_local);
	RUN(test_relations_are_reported);
	RUN(test_writes_locks_and_side_effects_go_upstream);
	RUN(test_catalogs_and_untranslated_constructs_go_upstream);
	RUN(test_deep_nesting_goes_upstream);
	return unit_done();
}
