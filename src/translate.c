/* SPDX-License-Identifier: MIT */
/* The translation of local reads (see translate.h). Every construct is checked against what it
 * means in PostgreSQL for the column types involved; when in doubt, the answer is upstream. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "translate.h"

/* What an expression is, for the checks its parent makes. */
enum tr_type {
	TR_INT,   /* an integer column or constant: SQLite's int64 compares as PostgreSQL */
	TR_BOOL,  /* a boolean column (stored 1/0) or constant */
	TR_TEXT,  /* a text column whose equality is byte equality */
	TR_STR,   /* a string constant: its type comes from the other side */
	TR_PARAM, /* $N: its type comes from the other side */
	TR_COND,  /* a truth value: comparison, IS NULL, AND/OR/NOT */
	TR_OTHER, /* a column of another type: may be output and tested for NULL only */
};

struct tr_expr {
	enum tr_type type;
	uint32_t type_oid; /* columns: the upstream type */
	int param;         /* TR_PARAM: N */
};

struct tr {
	struct translate_result *out;
	const struct localcat_rel *rel;
	const char *alias; /* the name columns may be qualified with */
	bool failed;
};

static void tr_fail(struct tr *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tr_fail(struct tr *t, const char *fmt, ...)
{
	va_list ap;

	if (t->failed)
		return;
	t->failed = true;
	va_start(ap, fmt);
	vsnprintf(t->out->reason, sizeof(t->out->reason), fmt, ap);
	va_end(ap);
}

static void
tr_quote(struct strbuf *sb, const char *name)
{
	strbuf_quote_ident(sb, name);
}

/* Text whose equality is byte equality: text, varchar and name under a deterministic
 * collation (every collation but a nondeterministic ICU one, which the copy would have to
 * name; only the default and C ones are trusted). bpchar ignores trailing blanks, uuid and
 * others normalise their input: not here. */
static bool
tr_text_equality_is_bytes(const struct localcat_col *c)
{
	if (c->type_oid != PGV_OID_TEXT && c->type_oid != PGV_OID_VARCHAR &&
	    c->type_oid != PGV_OID_NAME)
		return false;
	return c->collation[0] == '\0' || strcmp(c->collation, "default") == 0 ||
	       strcmp(c->collation, "C") == 0 || strcmp(c->collation, "POSIX") == 0;
}

static enum tr_type
tr_column_type(const struct localcat_col *c)
{
	switch (c->type_oid) {
	case PGV_OID_INT2:
	case PGV_OID_INT4:
	case PGV_OID_INT8:
	case PGV_OID_OID:
		return TR_INT;
	case PGV_OID_BOOL:
		return TR_BOOL;
	default:
		return tr_text_equality_is_bytes(c) ? TR_TEXT : TR_OTHER;
	}
}

/* A column reference: "col" or "<alias or table>.col". */
static const struct localcat_col *
tr_column(struct tr *t, const PgQuery__ColumnRef *cr)
{
	const char *name;
	const struct localcat_col *c;

	if (cr->n_fields == 2 && cr->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING &&
	    strcmp(cr->fields[0]->string->sval, t->alias) == 0)
		name = cr->fields[1]->node_case == PG_QUERY__NODE__NODE_STRING
		               ? cr->fields[1]->string->sval
		               : NULL;
	else if (cr->n_fields == 1 && cr->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING)
		name = cr->fields[0]->string->sval;
	else
		name = NULL;
	if (name == NULL) {
		tr_fail(t, "column reference");
		return NULL;
	}
	c = localcat_column(t->rel, name);
	if (c == NULL)
		tr_fail(t, "column \"%s\" is not in the local copy", name);
	return c;
}

static void tr_expr(struct tr *t, const PgQuery__Node *n, struct strbuf *sb, struct tr_expr *e);

static void
tr_param(struct tr *t, const PgQuery__ParamRef *p, struct strbuf *sb, struct tr_expr *e)
{
	if (p->number < 1 || p->number > TRANSLATE_MAX_PARAMS) {
		tr_fail(t, "parameter $%d", p->number);
		return;
	}
	strbuf_printf(sb, "?%d", p->number);
	if (p->number > t->out->nparams)
		t->out->nparams = p->number;
	e->type = TR_PARAM;
	e->param = p->number;
}

/* A parameter takes the type of what it is compared with; twice must agree. */
static void
tr_param_type(struct tr *t, int n, uint32_t oid)
{
	uint32_t *slot = &t->out->param_types[n];

	if (*slot != 0 && *slot != oid)
		tr_fail(t, "parameter $%d used with two types", n);
	*slot = oid;
}

static bool
tr_is_comparison(const char *op)
{
	static const char *const ops[] = {"=", "<>", "!=", "<", ">", "<=", ">="};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (strcmp(op, ops[i]) == 0)
			return true;
	return false;
}

static void
tr_comparison(struct tr *t, const PgQuery__AExpr *a, struct strbuf *sb, struct tr_expr *e)
{
	struct tr_expr l = {TR_OTHER, 0, 0}, r = {TR_OTHER, 0, 0};
	const struct tr_expr *col, *other;
	const char *op;
	bool equality;

	if (a->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || a->n_name != 1 ||
	    a->name[0]->node_case != PG_QUERY__NODE__NODE_STRING || a->lexpr == NULL ||
	    a->rexpr == NULL) {
		tr_fail(t, "operator expression");
		return;
	}
	op = a->name[0]->string->sval;
	if (!tr_is_comparison(op)) {
		tr_fail(t, "operator %s", op);
		return;
	}
	equality = strcmp(op, "=") == 0 || strcmp(op, "<>") == 0 || strcmp(op, "!=") == 0;
	strbuf_putc(sb, '(');
	tr_expr(t, a->lexpr, sb, &l);
	strbuf_printf(sb, " %s ", strcmp(op, "!=") == 0 ? "<>" : op);
	tr_expr(t, a->rexpr, sb, &r);
	strbuf_putc(sb, ')');
	if (t->failed)
		return;
	/* one side must give the type: a column (constants of two types compare upstream) */
	col = l.type_oid ? &l : &r;
	other = col == &l ? &r : &l;
	if (col->type_oid == 0) {
		tr_fail(t, "comparison without a column");
		return;
	}
	switch (col->type) {
	case TR_INT:
		if (other->type != TR_INT && other->type != TR_PARAM)
			tr_fail(t, "integer compared with something else");
		break;
	case TR_BOOL:
		if ((other->type != TR_BOOL && other->type != TR_PARAM) || !equality)
			tr_fail(t, "boolean compared other than by equality");
		break;
	case TR_TEXT:
		if ((other->type != TR_STR && other->type != TR_PARAM &&
		     !(other->type == TR_TEXT && other->type_oid == col->type_oid)) ||
		    !equality)
			tr_fail(t, "text compared other than by equality");
		break;
	default:
		tr_fail(t, "comparison of type %" PRIu32, col->type_oid);
		break;
	}
	if (!t->failed && other->type == TR_PARAM)
		tr_param_type(t, other->param, col->type_oid);
	e->type = TR_COND;
}

static void
tr_const(struct tr *t, const PgQuery__AConst *c, struct strbuf *sb, struct tr_expr *e)
{
	if (c->isnull) {
		tr_fail(t, "NULL constant"); /* = NULL and the like: upstream */
		return;
	}
	switch (c->val_case) {
	case PG_QUERY__A__CONST__VAL_IVAL:
		strbuf_printf(sb, "%" PRId32, c->ival->ival);
		e->type = TR_INT;
		break;
	case PG_QUERY__A__CONST__VAL_BOOLVAL:
		strbuf_putc(sb, c->boolval->boolval ? '1' : '0');
		e->type = TR_BOOL;
		break;
	case PG_QUERY__A__CONST__VAL_SVAL:
		/* the parser has applied standard_conforming_strings=on; the caller makes sure
		 * the session has it on too */
		strbuf_quote_literal(sb, c->sval->sval);
		e->type = TR_STR;
		break;
	default:
		/* numeric and float constants, bit strings: their types differ in SQLite */
		tr_fail(t, "constant of kind %d", (int)c->val_case);
		break;
	}
}

static void
tr_bool_expr(struct tr *t, const PgQuery__BoolExpr *b, struct strbuf *sb, struct tr_expr *e)
{
	const char *sep = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR  ? " AND "
	                  : b->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? " OR "
	                                                                   : NULL;
	struct tr_expr a;
	size_t i;

	if (b->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR && b->n_args == 1)
		strbuf_puts(sb, "(NOT ");
	else if (sep != NULL)
		strbuf_putc(sb, '(');
	else {
		tr_fail(t, "boolean expression");
		return;
	}
	for (i = 0; i < b->n_args && !t->failed; i++) {
		if (i > 0)
			strbuf_puts(sb, sep);
		memset(&a, 0, sizeof(a));
		tr_expr(t, b->args[i], sb, &a);
		if (!t->failed && a.type != TR_COND && a.type != TR_BOOL)
			tr_fail(t, "AND, OR or NOT of a non-boolean");
	}
	strbuf_putc(sb, ')');
	e->type = TR_COND;
}

static void
tr_expr(struct tr *t, const PgQuery__Node *n, struct strbuf *sb, struct tr_expr *e)
{
	const struct localcat_col *c;

	if (t->failed)
		return;
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_COLUMN_REF:
		c = tr_column(t, n->column_ref);
		if (c == NULL)
			return;
		tr_quote(sb, "t");
		strbuf_putc(sb, '.');
		tr_quote(sb, c->sqlite_name);
		e->type = tr_column_type(c);
		e->type_oid = c->type_oid;
		break;
	case PG_QUERY__NODE__NODE_A_CONST:
		tr_const(t, n->a_const, sb, e);
		break;
	case PG_QUERY__NODE__NODE_PARAM_REF:
		tr_param(t, n->param_ref, sb, e);
		break;
	case PG_QUERY__NODE__NODE_A_EXPR:
		tr_comparison(t, n->a_expr, sb, e);
		break;
	case PG_QUERY__NODE__NODE_BOOL_EXPR:
		tr_bool_expr(t, n->bool_expr, sb, e);
		break;
	case PG_QUERY__NODE__NODE_NULL_TEST: {
		const PgQuery__NullTest *nt = n->null_test;
		struct tr_expr a = {TR_OTHER, 0, 0};

		if (nt->arg == NULL || nt->arg->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) {
			tr_fail(t, "IS NULL of an expression");
			return;
		}
		strbuf_putc(sb, '(');
		tr_expr(t, nt->arg, sb, &a);
		strbuf_puts(sb, nt->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL
		                        ? " IS NULL)"
		                        : " IS NOT NULL)");
		e->type = TR_COND;
		break;
	}
	default:
		tr_fail(t, "expression node %d", (int)n->node_case);
		break;
	}
}

static void
tr_add_col(struct tr *t, const struct localcat_col *c, const char *name, size_t *cap)
{
	struct translate_result *out = t->out;
	struct translate_col *tc;

	out->cols = xgrow(out->cols, cap, out->ncols + 1, sizeof(*out->cols));
	tc = &out->cols[out->ncols++];
	snprintf(tc->name, sizeof(tc->name), "%s", name);
	tc->table_oid = t->rel->relid;
	tc->attnum = c->attnum;
	tc->type_oid = c->type_oid;
	tc->typmod = c->typmod;
	tc->kind = c->kind;
	tc->column = c;
	if (out->ncols > 1)
		strbuf_puts(&out->sql, ", ");
	tr_quote(&out->sql, "t");
	strbuf_putc(&out->sql, '.');
	tr_quote(&out->sql, c->sqlite_name);
}

static void
tr_targets(struct tr *t, const PgQuery__SelectStmt *s)
{
	size_t i, j, cap = 0;

	for (i = 0; i < s->n_target_list && !t->failed; i++) {
		const PgQuery__ResTarget *rt;
		const PgQuery__ColumnRef *cr;
		const struct localcat_col *c;

		if (s->target_list[i]->node_case != PG_QUERY__NODE__NODE_RES_TARGET ||
		    (rt = s->target_list[i]->res_target)->val == NULL ||
		    rt->val->node_case != PG_QUERY__NODE__NODE_COLUMN_REF ||
		    rt->n_indirection > 0) {
			tr_fail(t, "output expression");
			return;
		}
		cr = rt->val->column_ref;
		if (cr->n_fields > 0 &&
		    cr->fields[cr->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
			/* * or alias.*: every column in upstream order */
			if (cr->n_fields == 2 &&
			    (cr->fields[0]->node_case != PG_QUERY__NODE__NODE_STRING ||
			     strcmp(cr->fields[0]->string->sval, t->alias) != 0)) {
				tr_fail(t, "qualified *");
				return;
			}
			if (cr->n_fields > 2) {
				tr_fail(t, "qualified *");
				return;
			}
			for (j = 0; j < t->rel->ncols; j++)
				tr_add_col(t, &t->rel->cols[j], t->rel->cols[j].attname, &cap);
			continue;
		}
		c = tr_column(t, cr);
		if (c != NULL)
			tr_add_col(t, c, rt->name && rt->name[0] ? rt->name : c->attname, &cap);
	}
	if (t->out->ncols == 0 && !t->failed)
		tr_fail(t, "no output columns");
}

static void
tr_order_by(struct tr *t, const PgQuery__SelectStmt *s)
{
	struct strbuf *sb = &t->out->sql;
	size_t i;

	for (i = 0; i < s->n_sort_clause && !t->failed; i++) {
		const PgQuery__SortBy *sb_node;
		const struct localcat_col *c = NULL;
		bool desc, nulls_first;

		if (s->sort_clause[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY) {
			tr_fail(t, "ORDER BY");
			return;
		}
		sb_node = s->sort_clause[i]->sort_by;
		if (sb_node->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING ||
		    sb_node->node == NULL) {
			tr_fail(t, "ORDER BY USING");
			return;
		}
		if (sb_node->node->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
			c = tr_column(t, sb_node->node->column_ref);
		} else if (sb_node->node->node_case == PG_QUERY__NODE__NODE_A_CONST &&
		           sb_node->node->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
			/* ORDER BY n: the n-th output column */
			int32_t pos = sb_node->node->a_const->ival->ival;

			if (pos < 1 || (size_t)pos > t->out->ncols) {
				tr_fail(t, "ORDER BY position %d", pos); /* PostgreSQL's error */
				return;
			}
			c = t->out->cols[pos - 1].column;
		} else {
			tr_fail(t, "ORDER BY expression");
			return;
		}
		if (c == NULL) {
			tr_fail(t, "ORDER BY column");
			return;
		}
		/* integers and booleans order alike in both; text follows a collation */
		if (tr_column_type(c) != TR_INT && tr_column_type(c) != TR_BOOL) {
			tr_fail(t, "ORDER BY a column of type %" PRIu32, c->type_oid);
			return;
		}
		desc = sb_node->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
		/* PostgreSQL puts NULLs last ascending and first descending; SQLite the opposite */
		nulls_first =
		        sb_node->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
		        (sb_node->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST &&
		         desc);
		strbuf_puts(sb, i == 0 ? " ORDER BY " : ", ");
		tr_quote(sb, "t");
		strbuf_putc(sb, '.');
		tr_quote(sb, c->sqlite_name);
		strbuf_puts(sb, desc ? " DESC" : " ASC");
		strbuf_puts(sb, nulls_first ? " NULLS FIRST" : " NULLS LAST");
	}
}

/* LIMIT / OFFSET: a non-negative integer constant, ALL (NULL), or a parameter. */
static void
tr_limit(struct tr *t, const PgQuery__Node *n, const char *what, struct strbuf *sb)
{
	struct tr_expr e = {TR_OTHER, 0, 0};

	if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->isnull) {
		strbuf_printf(sb, " %s %s", what, strcmp(what, "LIMIT") == 0 ? "-1" : "0");
		return;
	}
	if (n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
	    (n->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL || n->a_const->ival->ival < 0)) {
		tr_fail(t, "%s that is not a non-negative integer", what);
		return;
	}
	if (n->node_case != PG_QUERY__NODE__NODE_A_CONST &&
	    n->node_case != PG_QUERY__NODE__NODE_PARAM_REF) {
		tr_fail(t, "%s expression", what);
		return;
	}
	strbuf_printf(sb, " %s ", what);
	tr_expr(t, n, sb, &e);
	if (e.type == TR_PARAM) {
		tr_param_type(t, e.param, PGV_OID_INT8);
		t->out->param_limit |= UINT64_C(1) << (e.param - 1);
	}
}

/* Whether n is "key = integer constant or parameter" on the table's one-column key. */
static bool
tr_is_key_equality(const struct tr *t, const PgQuery__Node *n)
{
	const PgQuery__AExpr *a;
	const PgQuery__Node *col, *other;
	const char *name;
	const struct localcat_col *c;

	if (n->node_case != PG_QUERY__NODE__NODE_A_EXPR)
		return false;
	a = n->a_expr;
	if (a->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || a->n_name != 1 ||
	    strcmp(a->name[0]->string->sval, "=") != 0 || a->lexpr == NULL || a->rexpr == NULL)
		return false;
	col = a->lexpr->node_case == PG_QUERY__NODE__NODE_COLUMN_REF ? a->lexpr : a->rexpr;
	other = col == a->lexpr ? a->rexpr : a->lexpr;
	if (col->node_case != PG_QUERY__NODE__NODE_COLUMN_REF ||
	    (other->node_case != PG_QUERY__NODE__NODE_A_CONST &&
	     other->node_case != PG_QUERY__NODE__NODE_PARAM_REF))
		return false;
	name = col->column_ref->fields[col->column_ref->n_fields - 1]->node_case ==
	                       PG_QUERY__NODE__NODE_STRING
	               ? col->column_ref->fields[col->column_ref->n_fields - 1]->string->sval
	               : NULL;
	c = name ? localcat_column(t->rel, name) : NULL;
	return c != NULL && c->key_position == 1 && t->rel->nkeys == 1 &&
	       tr_column_type(c) == TR_INT;
}

/* A point lookup: the key equality alone, or as one operand of a top-level AND. */
static bool
tr_is_point(const struct tr *t, const PgQuery__Node *where)
{
	size_t i;

	if (where == NULL)
		return false;
	if (tr_is_key_equality(t, where))
		return true;
	if (where->node_case != PG_QUERY__NODE__NODE_BOOL_EXPR ||
	    where->bool_expr->boolop != PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR)
		return false;
	for (i = 0; i < where->bool_expr->n_args; i++)
		if (tr_is_key_equality(t, where->bool_expr->args[i]))
			return true;
	return false;
}

bool
translate_select(const char *sql, translate_resolve_fn resolve, void *arg,
                 struct translate_result *out)
{
	struct tr t = {.out = out};
	PgQueryProtobufParseResult r;
	PgQuery__ParseResult *tree = NULL;
	const PgQuery__SelectStmt *s;
	const PgQuery__RangeVar *rv;
	struct strbuf where;

	memset(out, 0, sizeof(*out));
	strbuf_init(&out->sql);
	strbuf_init(&where);
	r = pg_query_parse_protobuf(sql);
	if (r.error) {
		tr_fail(&t, "syntax error: %s", r.error->message);
		goto out;
	}
	tree = pg_query__parse_result__unpack(NULL, r.parse_tree.len,
	                                      (const uint8_t *)r.parse_tree.data);
	if (tree == NULL || tree->n_stmts != 1 || tree->stmts[0]->stmt == NULL ||
	    tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
		tr_fail(&t, "not one SELECT");
		goto out;
	}
	s = tree->stmts[0]->stmt->select_stmt;
	if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE || s->into_clause || s->with_clause ||
	    s->n_locking_clause || s->n_distinct_clause || s->n_group_clause || s->having_clause ||
	    s->n_window_clause || s->n_values_lists || s->group_distinct) {
		tr_fail(&t, "SELECT clause beyond columns, WHERE, ORDER BY, LIMIT");
		goto out;
	}
	if (s->n_from_clause != 1 ||
	    s->from_clause[0]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR) {
		tr_fail(&t, "FROM other than one table");
		goto out;
	}
	rv = s->from_clause[0]->range_var;
	if ((rv->catalogname && rv->catalogname[0]) || !rv->inh) {
		tr_fail(&t, "FROM with a database name or ONLY");
		goto out;
	}
	t.rel = resolve(arg, rv->schemaname ? rv->schemaname : "", rv->relname);
	if (t.rel == NULL) {
		tr_fail(&t, "relation \"%s\" is not read locally", rv->relname);
		goto out;
	}
	t.alias = rv->alias && rv->alias->aliasname[0] ? rv->alias->aliasname : rv->relname;
	if (rv->alias && rv->alias->n_colnames) {
		tr_fail(&t, "column aliases in FROM");
		goto out;
	}

	strbuf_puts(&out->sql, "SELECT ");
	tr_targets(&t, s);
	strbuf_puts(&out->sql, " FROM ");
	tr_quote(&out->sql, t.rel->sqlite_name);
	strbuf_puts(&out->sql, " AS ");
	tr_quote(&out->sql, "t");
	if (s->where_clause && !t.failed) {
		struct tr_expr e = {TR_OTHER, 0, 0};

		tr_expr(&t, s->where_clause, &where, &e);
		if (!t.failed && e.type != TR_COND && e.type != TR_BOOL)
			tr_fail(&t, "WHERE of a non-boolean");
		strbuf_puts(&out->sql, " WHERE ");
		strbuf_puts(&out->sql, strbuf_str(&where));
	}
	if (!t.failed)
		tr_order_by(&t, s);
	if (s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
		tr_fail(&t, "FETCH ... WITH TIES");
	if (s->limit_count && !t.failed)
		tr_limit(&t, s->limit_count, "LIMIT", &out->sql);
	if (s->limit_offset && !t.failed) {
		if (s->limit_count == NULL)
			strbuf_puts(&out->sql, " LIMIT -1");
		tr_limit(&t, s->limit_offset, "OFFSET", &out->sql);
	}
	for (int i = 1; i <= out->nparams && !t.failed; i++)
		if (out->param_types[i] == 0)
			tr_fail(&t, "parameter $%d of unknown type", i);
	if (!t.failed)
		out->point = tr_is_point(&t, s->where_clause);
out:
	strbuf_free(&where);
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(r);
	out->local = !t.failed;
	return out->local;
}

/* The integer of a transaction option's constant (READ ONLY is 1, DEFERRABLE too); -1 for
 * anything else. */
static int
tr_option_int(const PgQuery__Node *arg)
{
	if (arg == NULL || arg->node_case != PG_QUERY__NODE__NODE_A_CONST ||
	    arg->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL || arg->a_const->ival == NULL)
		return -1;
	return arg->a_const->ival->ival != 0;
}

enum translate_txn_kind
translate_transaction(const char *sql, struct translate_txn *out)
{
	static const struct {
		const char *name;
		enum translate_isolation iso;
	} levels[] = {
	        {"read uncommitted", TRANSLATE_ISO_READ_COMMITTED},
	        {"read committed", TRANSLATE_ISO_READ_COMMITTED},
	        {"repeatable read", TRANSLATE_ISO_REPEATABLE_READ},
	        {"serializable", TRANSLATE_ISO_SERIALIZABLE},
	};
	PgQueryProtobufParseResult r;
	PgQuery__ParseResult *tree = NULL;
	const PgQuery__TransactionStmt *ts;
	const PgQuery__DefElem *d;
	const PgQuery__Node *arg;
	bool ok = true;
	size_t i, l;

	memset(out, 0, sizeof(*out));
	out->read_only = out->deferrable = -1;
	r = pg_query_parse_protobuf(sql);
	if (!r.error)
		tree = pg_query__parse_result__unpack(NULL, r.parse_tree.len,
		                                      (const uint8_t *)r.parse_tree.data);
	if (tree == NULL || tree->n_stmts != 1 || tree->stmts[0]->stmt == NULL ||
	    tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_TRANSACTION_STMT)
		goto out;
	ts = tree->stmts[0]->stmt->transaction_stmt;
	switch (ts->kind) {
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
		for (i = 0; i < ts->n_options && ok; i++) {
			if (ts->options[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) {
				ok = false;
				break;
			}
			d = ts->options[i]->def_elem;
			arg = d->arg;
			if (strcmp(d->defname, "transaction_read_only") == 0) {
				out->read_only = tr_option_int(arg);
				ok = out->read_only >= 0;
			} else if (strcmp(d->defname, "transaction_deferrable") == 0) {
				out->deferrable = tr_option_int(arg);
				ok = out->deferrable >= 0;
			} else if (strcmp(d->defname, "transaction_isolation") == 0 && arg &&
			           arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
			           arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL &&
			           arg->a_const->sval) {
				for (l = 0; l < ARRAY_SIZE(levels); l++)
					if (strcmp(arg->a_const->sval->sval, levels[l].name) == 0)
						out->isolation = levels[l].iso;
				ok = out->isolation != TRANSLATE_ISO_DEFAULT;
			} else {
				ok = false;
			}
		}
		if (ok)
			out->kind = TRANSLATE_TXN_BEGIN;
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
		if (!ts->chain)
			out->kind = TRANSLATE_TXN_COMMIT;
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
		if (!ts->chain)
			out->kind = TRANSLATE_TXN_ROLLBACK;
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
		if (ts->savepoint_name == NULL || ts->savepoint_name[0] == '\0' ||
		    strlen(ts->savepoint_name) >= sizeof(out->name))
			break;
		snprintf(out->name, sizeof(out->name), "%s", ts->savepoint_name);
		out->kind = ts->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT
		                    ? TRANSLATE_TXN_SAVEPOINT
		            : ts->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE
		                    ? TRANSLATE_TXN_RELEASE
		                    : TRANSLATE_TXN_ROLLBACK_TO;
		break;
	default:
		break;
	}
out:
	if (out->kind == TRANSLATE_TXN_OTHER)
		memset(out, 0, sizeof(*out));
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(r);
	return out->kind;
}

void
translate_result_free(struct translate_result *out)
{
	strbuf_free(&out->sql);
	free(out->cols);
	out->cols = NULL;
	out->ncols = 0;
}
