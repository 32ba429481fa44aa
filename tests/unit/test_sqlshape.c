/* SPDX-License-Identifier: MIT */
/* Statement shapes: which literals become $N, which stay, and what the lexer refuses. */
#include "config.h"

#include "sqlshape.h"
#include "unit.h"

static void
shape_is(const char *sql, const char *key)
{
	struct sqlshape sh;

	CHECK_INT(sqlshape_parse(sql, &sh), 0);
	CHECK_STR(strbuf_str(&sh.key), key);
	sqlshape_free(&sh);
}

static void
test_compared_literals_become_parameters(void)
{
	struct sqlshape sh;

	shape_is("SELECT abalance FROM pgbench_accounts WHERE aid = 123456",
	         "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
	shape_is("select * from t where a>=1 and b<>'x''y' and c != 3 and d<=4 and e < 5",
	         "select * from t where a>=$1 and b<>$2 and c != $3 and d<=$4 and e < $5");
	CHECK_INT(sqlshape_parse("SELECT * FROM t WHERE a = 'it''s' AND b = 42", &sh), 0);
	CHECK_INT(sh.nlits, 2);
	CHECK_INT(sh.lits[0].kind, SQLSHAPE_STR);
	CHECK_STR(sh.lits[0].s, "it's");
	CHECK_INT(sh.lits[1].kind, SQLSHAPE_INT);
	CHECK_INT(sh.lits[1].i, 42);
	sqlshape_free(&sh);
}

static void
test_other_literals_stay_in_the_shape(void)
{
	shape_is("SELECT * FROM t ORDER BY 1 LIMIT 10 OFFSET 5",
	         "SELECT * FROM t ORDER BY 1 LIMIT 10 OFFSET 5");
	shape_is("SELECT * FROM t WHERE a = -5 AND b = 1.5 AND c = 1e3 AND d = 1234567890",
	         "SELECT * FROM t WHERE a = -5 AND b = 1.5 AND c = 1e3 AND d = 1234567890");
	shape_is("SELECT 'x' FROM \"we\"\"ird\" WHERE \"a=\" = 'b'",
	         "SELECT 'x' FROM \"we\"\"ird\" WHERE \"a=\" = $1");
}

static void
test_what_the_lexer_refuses(void)
{
	static const char *const refused[] = {
	        "SELECT * FROM t WHERE a = E'x\\n'",
	        "SELECT * FROM t WHERE a = $1",
	        "SELECT $$x$$",
	        "SELECT * FROM t -- comment",
	        "SELECT * FROM t /* c */ WHERE a = 1",
	        "SELECT * FROM t WHERE a = 'open",
	        "SELECT * FROM \"open",
	        "SELECT * FROM t WHERE b = B'101'",
	        "SELECT * FROM t WHERE a = 'x' 'y'",
	};
	struct sqlshape sh;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		CHECK_INT(sqlshape_parse(refused[i], &sh), -1);
		CHECK_INT(sh.nlits, 0);
		sqlshape_free(&sh);
	}
}

int
main(void)
{
	RUN(test_compared_literals_become_parameters);
	RUN(test_other_literals_stay_in_the_shape);
	RUN(test_what_the_lexer_refuses);
	return unit_done();
}
