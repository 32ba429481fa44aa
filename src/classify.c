/* SPDX-License-Identifier: MIT */
/* Statement classification (see classify.h): a walk over libpg_query's protobuf tree by
 * reflection, so that no subquery, CTE or sublink is missed, against allow-lists of node
 * types, operators and functions. Unknown means upstream. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "classify.h"
#include "util.h"

/* Operators whose meaning the local evaluation can match once the operand types are known
 * to be ones it handles (checked later, with the columns' types). */
static const char *const classify_ops[] = {
        "=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%",
};

/* Functions and aggregates, by name, under pg_catalog or unqualified. */
static const char *const classify_funcs[] = {
        "count", "sum", "min", "max", "avg", "abs", "length", "char_length", "coalesce",
};

/* Messages that may appear directly (not inside a Node) in a tree we accept. */
static const ProtobufCMessageDescriptor *const classify_plain[] = {
        &pg_query__parse_result__descriptor, &pg_query__raw_stmt__descriptor,
        &pg_query__select_stmt__descriptor,  &pg_query__with_clause__descriptor,
        &pg_query__alias__descriptor,        &pg_query__range_var__descriptor,
        &pg_query__string__descriptor,       &pg_query__integer__descriptor,
        &pg_query__float__descriptor,        &pg_query__boolean__descriptor,
        &pg_query__list__descriptor,
};

struct classify_walk {
	struct classify_result *out;
	bool rejected;
	int depth;
};

#define CLASSIFY_MAX_DEPTH 200 /* deeper trees go upstream rather than deep into the stack */

static void classify_reject(struct classify_walk *w, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
classify_reject(struct classify_walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->rejected)
		return;
	w->rejected = true;
	va_start(ap, fmt);
	vsnprintf(w->out->reason, sizeof(w->out->reason), fmt, ap);
	va_end(ap);
}

static bool
classify_in(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/* The name of a qualified-name list (funcname, operator name): the last String, or NULL when
 * it is qualified by anything but pg_catalog. */
static const char *
classify_qualified_name(PgQuery__Node **parts, size_t n)
{
	size_t i;

	if (n == 0 || n > 2)
		return NULL;
	for (i = 0; i < n; i++)
		if (parts[i]->node_case != PG_QUERY__NODE__NODE_STRING)
			return NULL;
	if (n == 2 && strcmp(parts[0]->string->sval, "pg_catalog") != 0)
		return NULL;
	return parts[n - 1]->string->sval;
}

static void
classify_range_var(struct classify_walk *w, const PgQuery__RangeVar *rv)
{
	struct classify_result *out = w->out;
	struct classify_rel *rel;

	if (rv->catalogname && rv->catalogname[0]) {
		classify_reject(w, "relation named with a database");
		return;
	}
	if ((rv->schemaname && (strcmp(rv->schemaname, "pg_catalog") == 0 ||
	                        strcmp(rv->schemaname, "information_schema") == 0)) ||
	    ((!rv->schemaname || !rv->schemaname[0]) && strncmp(rv->relname, "pg_", 3) == 0)) {
		classify_reject(w, "catalog relation \"%s\"", rv->relname);
		return;
	}
	if (strlen(rv->relname) >= CLASSIFY_NAME_MAX ||
	    (rv->schemaname && strlen(rv->schemaname) >= CLASSIFY_NAME_MAX)) {
		classify_reject(w, "relation name too long");
		return;
	}
	if (out->nrels == CLASSIFY_MAX_RELS) {
		classify_reject(w, "more than %d relations", CLASSIFY_MAX_RELS);
		return;
	}
	rel = &out->rels[out->nrels++];
	snprintf(rel->schema, sizeof(rel->schema), "%s", rv->schemaname ? rv->schemaname : "");
	snprintf(rel->name, sizeof(rel->name), "%s", rv->relname);
}

static void
classify_a_expr(struct classify_walk *w, const PgQuery__AExpr *e)
{
	const char *op = classify_qualified_name(e->name, e->n_name);

	switch (e->kind) {
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
	case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
	case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
	case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
		break;
	default:
		/* LIKE (case-sensitive in PostgreSQL, not in SQLite), ILIKE, SIMILAR, ANY/ALL
		 * over arrays, NULLIF, symmetric BETWEEN: not translated yet */
		classify_reject(w, "operator expression of kind %d", (int)e->kind);
		return;
	}
	if (e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN ||
	    e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN)
		return; /* named "BETWEEN": its comparisons are <= and >= */
	if (op == NULL || !classify_in(op, classify_ops, ARRAY_SIZE(classify_ops)))
		classify_reject(w, "operator %s", op ? op : "(qualified)");
}

static void
classify_func_call(struct classify_walk *w, const PgQuery__FuncCall *f)
{
	const char *name = classify_qualified_name(f->funcname, f->n_funcname);

	if (name == NULL || !classify_in(name, classify_funcs, ARRAY_SIZE(classify_funcs))) {
		classify_reject(w, "function %s", name ? name : "(qualified)");
		return;
	}
	if (f->over != NULL || f->agg_within_group || f->func_variadic || f->n_agg_order > 0)
		classify_reject(w, "function %s with OVER, WITHIN GROUP, VARIADIC or ORDER BY",
		                name);
}

static void
classify_node(struct classify_walk *w, const PgQuery__Node *n)
{
	switch (n->node_case) {
	/* structure */
	case PG_QUERY__NODE__NODE_SELECT_STMT:
		if (n->select_stmt->into_clause != NULL)
			classify_reject(w, "SELECT INTO");
		break;
	case PG_QUERY__NODE__NODE_RANGE_VAR:
		classify_range_var(w, n->range_var);
		break;
	case PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR: {
		const PgQuery__CommonTableExpr *cte = n->common_table_expr;
		struct classify_result *out = w->out;

		if (cte->ctequery == NULL ||
		    cte->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
			classify_reject(w, "data-modifying WITH query");
			break;
		}
		if (out->nctes == CLASSIFY_MAX_RELS || strlen(cte->ctename) >= CLASSIFY_NAME_MAX) {
			classify_reject(w, "too many WITH queries");
			break;
		}
		snprintf(out->ctes[out->nctes++], CLASSIFY_NAME_MAX, "%s", cte->ctename);
		break;
	}
	case PG_QUERY__NODE__NODE_ALIAS:
	case PG_QUERY__NODE__NODE_JOIN_EXPR:
	case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
	case PG_QUERY__NODE__NODE_WITH_CLAUSE:
	case PG_QUERY__NODE__NODE_RES_TARGET:
	case PG_QUERY__NODE__NODE_SORT_BY:
	case PG_QUERY__NODE__NODE_LIST:
	/* expressions */
	case PG_QUERY__NODE__NODE_COLUMN_REF:
	case PG_QUERY__NODE__NODE_A_STAR:
	case PG_QUERY__NODE__NODE_PARAM_REF:
	case PG_QUERY__NODE__NODE_A_CONST:
	case PG_QUERY__NODE__NODE_BOOL_EXPR:
	case PG_QUERY__NODE__NODE_NULL_TEST:
	case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
	case PG_QUERY__NODE__NODE_CASE_EXPR:
	case PG_QUERY__NODE__NODE_CASE_WHEN:
	case PG_QUERY__NODE__NODE_COALESCE_EXPR:
	/* leaves of names and constants */
	case PG_QUERY__NODE__NODE_STRING:
	case PG_QUERY__NODE__NODE_INTEGER:
	case PG_QUERY__NODE__NODE_FLOAT:
	case PG_QUERY__NODE__NODE_BOOLEAN:
		break;
	case PG_QUERY__NODE__NODE_A_EXPR:
		classify_a_expr(w, n->a_expr);
		break;
	case PG_QUERY__NODE__NODE_SUB_LINK: {
		/* x op ANY (SELECT ...): the operator is checked like any other */
		const PgQuery__SubLink *sl = n->sub_link;
		const char *op = classify_qualified_name(sl->oper_name, sl->n_oper_name);

		if (sl->n_oper_name > 0 &&
		    (op == NULL || !classify_in(op, classify_ops, ARRAY_SIZE(classify_ops))))
			classify_reject(w, "operator %s before a subquery",
			                op ? op : "(qualified)");
		break;
	}
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		classify_func_call(w, n->func_call);
		break;
	case PG_QUERY__NODE__NODE_LOCKING_CLAUSE:
		classify_reject(w, "locking clause");
		break;
	case PG_QUERY__NODE__NODE_INSERT_STMT:
	case PG_QUERY__NODE__NODE_UPDATE_STMT:
	case PG_QUERY__NODE__NODE_DELETE_STMT:
	case PG_QUERY__NODE__NODE_MERGE_STMT:
		classify_reject(w, "data-modifying statement");
		break;
	default:
		/* casts, SQL value functions (current_user, now), functions in FROM, arrays,
		 * subscripts, collations, window definitions, ...: not yet */
		classify_reject(w, "node type %d", (int)n->node_case);
		break;
	}
}

/* Walks m and everything below it. in_node: m is the member of a Node, already judged by
 * classify_node(). */
static void
classify_walk_msg(struct classify_walk *w, const ProtobufCMessage *m, bool in_node)
{
	const ProtobufCMessageDescriptor *d;
	const char *base;
	unsigned i;
	size_t j;

	if (m == NULL || w->rejected)
		return;
	if (++w->depth > CLASSIFY_MAX_DEPTH) {
		classify_reject(w, "expression nested more than %d deep", CLASSIFY_MAX_DEPTH);
		return;
	}
	d = m->descriptor;
	if (in_node) {
		/* judged with its Node */
	} else if (d == &pg_query__node__descriptor) {
		classify_node(w, (const PgQuery__Node *)m);
	} else if (d == &pg_query__into_clause__descriptor) {
		classify_reject(w, "SELECT INTO");
	} else if (d == &pg_query__range_var__descriptor) {
		classify_range_var(w, (const PgQuery__RangeVar *)m);
	} else {
		for (i = 0; i < ARRAY_SIZE(classify_plain) && classify_plain[i] != d; i++)
			;
		if (i == ARRAY_SIZE(classify_plain))
			classify_reject(w, "%s", d->short_name);
	}
	base = (const char *)m;
	for (i = 0; i < d->n_fields && !w->rejected; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(const void *)(base + f->quantifier_offset);
			ProtobufCMessage *const *a =
			        *(ProtobufCMessage *const *const *)(const void *)(base + f->offset);

			for (j = 0; j < n; j++)
				classify_walk_msg(w, a[j], false);
		} else {
			/* only the member of a oneof that is set */
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
				continue;
			classify_walk_msg(
			        w,
			        *(const ProtobufCMessage *const *)(const void *)(base + f->offset),
			        d == &pg_query__node__descriptor);
		}
	}
	w->depth--;
}

enum classify_verdict
classify_sql(const char *sql, struct classify_result *out)
{
	struct classify_walk w = {.out = out};
	PgQueryProtobufParseResult r;
	PgQuery__ParseResult *tree = NULL;

	memset(out, 0, sizeof(*out));
	r = pg_query_parse_protobuf(sql);
	if (r.error) {
		classify_reject(&w, "syntax error: %s", r.error->message);
		goto out;
	}
	tree = pg_query__parse_result__unpack(NULL, r.parse_tree.len,
	                                      (const uint8_t *)r.parse_tree.data);
	if (tree == NULL) {
		classify_reject(&w, "parse tree could not be read");
		goto out;
	}
	if (tree->n_stmts != 1) {
		classify_reject(&w, "%zu statements", tree->n_stmts);
		goto out;
	}
	if (tree->stmts[0]->stmt == NULL ||
	    tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
		classify_reject(&w, "not a SELECT");
		goto out;
	}
	classify_walk_msg(&w, (const ProtobufCMessage *)tree, false);
out:
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(r);
	out->verdict = w.rejected ? CLASSIFY_UPSTREAM : CLASSIFY_LOCAL;
	if (w.rejected) {
		out->nrels = 0;
		out->nctes = 0;
	}
	return out->verdict;
}
