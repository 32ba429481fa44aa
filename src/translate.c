/* SPDX-License-Identifier: MIT */
/* The translation of local reads (see translate.h). Every node is typed as PostgreSQL types
 * it and checked against what it means for those types; when in doubt, the answer is
 * upstream. The SQLite functions and collations named here are pgfunc.c's. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "pgnum.h"
#include "pgtime.h"
#include "translate.h"

#define TR_MAX_RELS 16  /* FROM items per SELECT */
#define TR_MAX_GROUP 32 /* GROUP BY items */
#define TR_MAX_USING 16 /* columns merged by JOIN ... USING */
#define TR_DEPTH 32     /* nesting of expressions and subqueries */

/* PostgreSQL's FRAMEOPTION_DEFAULTS: RANGE UNBOUNDED PRECEDING AND CURRENT ROW, SQLite's too */
#define TR_FRAME_DEFAULT 1058

enum tr_form {
	TRF_VAL = 0, /* a typed value */
	TRF_LIT,     /* a string constant: its type comes from where it is used */
	TRF_PARAM,   /* $N without a type yet */
	TRF_NULL,    /* NULL without a type */
};

/* A translated expression. */
struct tx {
	struct strbuf sql;
	enum tr_form form;
	uint32_t type; /* PostgreSQL type OID; 0 for LIT, PARAM and NULL until coerced */
	int32_t typmod;
	char *lit;   /* TRF_LIT: the constant's text */
	int param;   /* TRF_PARAM: N */
	bool coll_c; /* text under COLLATE "C" (else the default collation) */
	/* a plain column: RowDescription names its table and attnum */
	const struct localcat_col *col;
	uint32_t table_oid;
	int relno; /* a column: the "tN" it is read from */
	int16_t attnum;
	bool derived;  /* a column of a subquery in FROM: col does not outlive the translation */
	bool canon;    /* a numeric whose equal values are equal text (extract()'s) */
	char name[64]; /* PostgreSQL's name for it as an output column (FigureColname) */
	int strength;  /* 0: "?column?", 1: a type's name, 2: a real name */
};

struct tr_rel {
	const struct localcat_rel *rel;
	char alias[64];
	int no; /* emitted as "tN" */
	/* a subquery in FROM or a WITH query: rel is made here (owned), with the table and
	 * attnum each output column comes from */
	struct localcat_rel *own;
	uint32_t *origin;
};

#define TR_MAX_CTES 16

struct tr_scope {
	struct tr_scope *parent;
	struct tr_rel rels[TR_MAX_RELS];
	int nrels;
	char *using_names[TR_MAX_USING]; /* merged by USING: unqualified, the left side's */
	int using_rel[TR_MAX_USING];
	int nusing;
	/* grouping: in a grouped SELECT, a column outside an aggregate must be grouped */
	bool grouped;
	char *group_sql[TR_MAX_GROUP];
	uint32_t group_type[TR_MAX_GROUP]; /* i4 and i4::int8 are one SQL but two keys */
	int ngroup;
	bool key_grouped[TR_MAX_RELS]; /* every key column of the rel is grouped by */
	int in_agg;                    /* inside an aggregate's arguments */
	int ungrouped;                 /* column references seen outside aggregates, not grouped */
	bool agg_ok;                   /* aggregates allowed here (target list, HAVING, ORDER BY) */
	bool window_ok;
	bool has_agg;
	PgQuery__Node *const *windows; /* the SELECT's WINDOW clause */
	size_t nwindows;
	unsigned local_refs; /* columns of this SELECT's FROM read so far */
};

/* One SELECT's output. */
struct tr_out {
	bool alias;    /* name the columns c1, c2... (a subquery in FROM) */
	bool distinct; /* SELECT DISTINCT: ORDER BY only what is output */
	size_t n, cap;
	struct tx *cols;
	char **sql; /* as emitted, for ORDER BY and GROUP BY by position or name */
};

struct tr {
	struct translate_result *out;
	const struct translate_env *env;
	bool failed;
	int nrels;             /* tN aliases given out */
	char coll_clause[128]; /* " COLLATE <env->collation>" */
	int depth;
	unsigned outer_refs; /* columns of an outer query read so far */
	int nkeys;           /* sort keys named "sN" (DISTINCT ON) */
	bool complex;        /* a subquery, WITH or subquery in FROM: not a point lookup */
	uint16_t param_uses[TRANSLATE_MAX_PARAMS + 1];
	uint16_t param_compares[TRANSLATE_MAX_PARAMS + 1];
	/* the WITH queries in scope, innermost last */
	const PgQuery__CommonTableExpr *ctes[TR_MAX_CTES];
	int nctes;
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
tx_init(struct tx *x)
{
	memset(x, 0, sizeof(*x));
	strbuf_init(&x->sql);
	x->typmod = -1;
}

static void
tx_free(struct tx *x)
{
	strbuf_free(&x->sql);
	free(x->lit);
	x->lit = NULL;
}

static void
tx_name(struct tx *x, const char *name, int strength)
{
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->strength = strength;
}

/* Replaces x's SQL by before, its old SQL, after; it is no longer a plain column. */
static void
tx_wrap(struct tx *x, const char *before, const char *after)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_puts(&sb, before);
	strbuf_append(&sb, x->sql.data, x->sql.len);
	strbuf_puts(&sb, after);
	strbuf_free(&x->sql);
	x->sql = sb;
	x->col = NULL;
	x->table_oid = 0;
}

static const char *
tx_str(struct tx *x)
{
	return strbuf_str(&x->sql);
}

static bool
tr_is_int(uint32_t t)
{
	return t == PGV_OID_INT2 || t == PGV_OID_INT4 || t == PGV_OID_INT8;
}

static bool
tr_is_text(uint32_t t)
{
	return t == PGV_OID_TEXT || t == PGV_OID_VARCHAR;
}

static bool
tr_is_datetime(uint32_t t)
{
	return t == PGV_OID_DATE || t == PGV_OID_TIMESTAMP || t == PGV_OID_TIMESTAMPTZ;
}

static enum pgtime_type
tr_time_type(uint32_t t)
{
	return t == PGV_OID_DATE        ? PGTIME_DATE
	       : t == PGV_OID_TIMESTAMP ? PGTIME_TIMESTAMP
	                                : PGTIME_TIMESTAMPTZ;
}

/* Whether equal values of the type are equal bytes as stored (grouping, DISTINCT, IN). Not
 * numeric (1.0 = 1.00), floats (-0 = 0) or jsonb (numbers inside). */
static bool
tr_bytes_equal(uint32_t t)
{
	return tr_is_int(t) || tr_is_text(t) || tr_is_datetime(t) || t == PGV_OID_BOOL ||
	       t == PGV_OID_UUID || t == PGV_OID_OID || t == PGV_OID_NAME;
}

/* The same for one value: char(n) values of one column are padded alike, numeric(p,s) ones
 * all have s decimals. */
static bool
tr_tx_bytes_equal(const struct tx *x)
{
	return tr_bytes_equal(x->type) || (x->type == PGV_OID_BPCHAR && x->col && x->typmod >= 4) ||
	       (x->type == PGV_OID_NUMERIC && (x->typmod >= 4 || x->canon)) ||
	       (x->type == PGV_OID_FLOAT8 && x->canon);
}

static int
tr_int_rank(uint32_t t)
{
	return t == PGV_OID_INT2 ? 1 : t == PGV_OID_INT4 ? 2 : t == PGV_OID_INT8 ? 3 : 0;
}

/* The name of an ordinary type as a cast may spell it (the parser has mapped the SQL
 * spellings: integer is pg_catalog.int4), or 0. */
static uint32_t
tr_type_by_name(const PgQuery__TypeName *tn)
{
	static const struct {
		const char *name;
		uint32_t oid;
	} types[] = {
	        {"int2", PGV_OID_INT2},
	        {"int4", PGV_OID_INT4},
	        {"int8", PGV_OID_INT8},
	        {"bool", PGV_OID_BOOL},
	        {"text", PGV_OID_TEXT},
	        {"varchar", PGV_OID_VARCHAR},
	        {"numeric", PGV_OID_NUMERIC},
	        {"date", PGV_OID_DATE},
	        {"timestamp", PGV_OID_TIMESTAMP},
	        {"timestamptz", PGV_OID_TIMESTAMPTZ},
	        {"interval", PGV_OID_INTERVAL},
	        {"uuid", PGV_OID_UUID},
	        {"float8", PGV_OID_FLOAT8},
	        {"jsonb", PGV_OID_JSONB},
	        {"json", PGV_OID_JSON},
	        {"smallint", PGV_OID_INT2},
	        {"integer", PGV_OID_INT4},
	        {"bigint", PGV_OID_INT8},
	        {"int", PGV_OID_INT4},
	        {"boolean", PGV_OID_BOOL},
	        {"decimal", PGV_OID_NUMERIC},
	};
	const PgQuery__Node *last;
	size_t i;

	if (tn == NULL || tn->n_names == 0 || tn->n_names > 2 || tn->setof || tn->pct_type ||
	    tn->n_array_bounds > 0)
		return 0;
	if (tn->n_names == 2 && (tn->names[0]->node_case != PG_QUERY__NODE__NODE_STRING ||
	                         strcmp(tn->names[0]->string->sval, "pg_catalog") != 0))
		return 0;
	last = tn->names[tn->n_names - 1];
	if (last->node_case != PG_QUERY__NODE__NODE_STRING)
		return 0;
	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(last->string->sval, types[i].name) == 0)
			return types[i].oid;
	return 0;
}

static const char *
tr_type_name_last(const PgQuery__TypeName *tn)
{
	const PgQuery__Node *last = tn->names[tn->n_names - 1];

	return last->node_case == PG_QUERY__NODE__NODE_STRING ? last->string->sval : "?column?";
}

/* A literal of type type in its stored form, emitted as an SQLite constant. */
static void
tr_emit_literal(struct tr *t, uint32_t type, const char *s, struct strbuf *sb)
{
	struct sqlshape_lit v;

	if (type == PGV_OID_TIMESTAMPTZ && !t->env->utc) {
		tr_fail(t, "timestamptz constant outside UTC");
		return;
	}
	if (translate_input(type, s, strlen(s), &v) < 0) {
		tr_fail(t, "constant '%.40s' of type %" PRIu32, s, type);
		return;
	}
	if (type == PGV_OID_FLOAT8) {
		/* strtod() there: SQLite's own reading of a decimal may differ in the last bit */
		strbuf_puts(sb, "pg_text_float(");
		strbuf_quote_literal(sb, v.s);
		strbuf_putc(sb, ')');
	} else if (v.kind == SQLSHAPE_INT)
		strbuf_printf(sb, "%" PRId64, v.i);
	else
		strbuf_quote_literal(sb, v.s);
	free(v.s);
}

static void
tr_param_type(struct tr *t, int n, uint32_t oid)
{
	uint32_t *slot = &t->out->param_types[n];

	if (*slot != 0 && *slot != oid)
		tr_fail(t, "parameter $%d used with two types", n);
	*slot = oid;
}

/* Gives x type type: a literal is read as that type's input function reads it, a parameter
 * takes it, a value is converted where PostgreSQL converts it implicitly. */
static void
tr_coerce(struct tr *t, struct tx *x, uint32_t type)
{
	struct strbuf sb;

	if (t->failed)
		return;
	switch (x->form) {
	case TRF_NULL:
		break;
	case TRF_LIT:
		strbuf_init(&sb);
		tr_emit_literal(t, type, x->lit, &sb);
		strbuf_free(&x->sql);
		x->sql = sb;
		break;
	case TRF_PARAM:
		if (type == PGV_OID_TIMESTAMPTZ && !t->env->utc) {
			tr_fail(t, "timestamptz parameter outside UTC");
			return;
		}
		tr_param_type(t, x->param, type);
		if (type == PGV_OID_FLOAT8)
			tx_wrap(x, "pg_text_float(", ")");
		break;
	case TRF_VAL:
		if (x->type == type || (tr_is_text(x->type) && tr_is_text(type)))
			break;
		if (x->type == PGV_OID_BPCHAR && tr_is_text(type)) {
			tx_wrap(x, "rtrim(", ", ' ')"); /* the cast drops trailing blanks */
			break;
		}
		if (x->type == PGV_OID_VARCHAR && type == PGV_OID_BPCHAR)
			break; /* compared without trailing blanks, as a bpchar */
		if (tr_is_int(x->type) && tr_is_int(type) &&
		    tr_int_rank(x->type) <= tr_int_rank(type))
			break;
		if (tr_is_int(x->type) && type == PGV_OID_NUMERIC) {
			/* an integer's text is its numeric_out */
			tx_wrap(x, "CAST(", " AS TEXT)");
			break;
		}
		if (type == PGV_OID_FLOAT8 && (tr_is_int(x->type) || x->type == PGV_OID_NUMERIC)) {
			/* int8 -> float8 rounds as C does; numeric -> float8 is strtod() of its
			 * text */
			tx_wrap(x, tr_is_int(x->type) ? "CAST(" : "pg_text_float(",
			        tr_is_int(x->type) ? " AS REAL)" : ")");
			break;
		}
		if (tr_is_datetime(x->type) && tr_is_datetime(type) &&
		    (t->env->utc ||
		     (x->type != PGV_OID_TIMESTAMPTZ && type != PGV_OID_TIMESTAMPTZ))) {
			char pre[32];

			snprintf(pre, sizeof(pre), "pg_ts_cast(%d, %d, ",
			         (int)tr_time_type(x->type), (int)tr_time_type(type));
			tx_wrap(x, pre, ")");
			break;
		}
		tr_fail(t, "%" PRIu32 " where %" PRIu32 " is expected", x->type, type);
		return;
	}
	if (x->type != type)
		x->typmod = -1;
	x->form = TRF_VAL;
	x->type = type;
}

/* The type two operands meet at, as PostgreSQL resolves them, or 0. Unknown literals take the
 * other side's type; two of them are text. */
static uint32_t
tr_common_type(const struct tx *a, const struct tx *b)
{
	uint32_t x = a->form == TRF_VAL ? a->type : 0, y = b->form == TRF_VAL ? b->type : 0;

	if (x == 0 || y == 0)
		return x ? x : y ? y : PGV_OID_TEXT;
	if (x == y)
		return x;
	if (tr_is_int(x) && tr_is_int(y))
		return tr_int_rank(x) > tr_int_rank(y) ? x : y;
	if ((tr_is_int(x) || x == PGV_OID_NUMERIC) && (tr_is_int(y) || y == PGV_OID_NUMERIC))
		return PGV_OID_NUMERIC;
	if ((tr_is_int(x) || x == PGV_OID_NUMERIC || x == PGV_OID_FLOAT8) &&
	    (tr_is_int(y) || y == PGV_OID_NUMERIC || y == PGV_OID_FLOAT8))
		return PGV_OID_FLOAT8;
	if ((x == PGV_OID_BPCHAR && y == PGV_OID_VARCHAR) ||
	    (y == PGV_OID_BPCHAR && x == PGV_OID_VARCHAR))
		return PGV_OID_BPCHAR; /* bpchar = varchar compares as bpchar */
	if ((tr_is_text(x) || x == PGV_OID_BPCHAR) && (tr_is_text(y) || y == PGV_OID_BPCHAR))
		return PGV_OID_TEXT; /* bpchar = text is text = text */
	if (tr_is_datetime(x) && tr_is_datetime(y))
		return x == PGV_OID_TIMESTAMPTZ || y == PGV_OID_TIMESTAMPTZ ? PGV_OID_TIMESTAMPTZ
		                                                            : PGV_OID_TIMESTAMP;
	return 0;
}

/* The COLLATE clause that orders values of x's type as PostgreSQL does, "" when SQLite's
 * own order is right, NULL when none is. */
static const char *
tr_order_collation(struct tr *t, const struct tx *x)
{
	switch (x->type) {
	case PGV_OID_INT2:
	case PGV_OID_INT4:
	case PGV_OID_INT8:
	case PGV_OID_BOOL:
	case PGV_OID_OID:
	case PGV_OID_UUID: /* lower-case hex: byte order is uuid_cmp's */
		return "";
	case PGV_OID_NUMERIC:
		return " COLLATE pg_numeric";
	case PGV_OID_FLOAT8: /* ORDER BY sorts pg_fkey(); the rest compares with pg_fcmp() */
		return NULL;
	case PGV_OID_DATE:
	case PGV_OID_TIMESTAMP:
	case PGV_OID_TIMESTAMPTZ:
		return " COLLATE pg_datetime";
	case PGV_OID_TEXT:
	case PGV_OID_VARCHAR:
	case PGV_OID_BPCHAR: /* of rtrim()'s result */
		if (x->coll_c || (t->env->collation && strcmp(t->env->collation, "BINARY") == 0))
			return " COLLATE BINARY";
		if (t->env->collation == NULL)
			return NULL;
		return t->coll_clause;
	default:
		return NULL;
	}
}

static void tr_expr(struct tr *t, struct tr_scope *sc, const PgQuery__Node *n, struct tx *x);
static void tr_select(struct tr *t, struct tr_scope *parent, const PgQuery__SelectStmt *s,
                      struct strbuf *sb, struct tr_out *o);
static void tr_out_free(struct tr_out *o);
static void tr_textout(struct tr *t, struct tx *x, bool cast);
static uint32_t tr_array_elem(uint32_t type);

static const char *
tr_node_str(const PgQuery__Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : NULL;
}

/* A table column as x. */
static void
tr_column_tx(struct tr_scope *sc, int r, const struct localcat_col *c, struct tx *x)
{
	strbuf_printf(&x->sql, "\"t%d\".", sc->rels[r].no);
	strbuf_quote_ident(&x->sql, c->sqlite_name);
	x->form = TRF_VAL;
	x->type = c->type_oid;
	x->typmod = c->typmod;
	x->col = c;
	x->relno = sc->rels[r].no;
	x->attnum = c->attnum;
	if (sc->rels[r].origin) {
		x->table_oid = sc->rels[r].origin[c - sc->rels[r].rel->cols];
		x->derived = true;
	} else {
		x->table_oid = sc->rels[r].rel->relid;
	}
	x->coll_c = c->collation &&
	            (strcmp(c->collation, "C") == 0 || strcmp(c->collation, "POSIX") == 0);
	tx_name(x, c->attname, 2);
}

/* Whether a column of this collation may be read here at all: the default, C and POSIX are
 * known; a column of another collation is left to the upstream. */
static bool
tr_collation_known(const struct localcat_col *c)
{
	return c->collation == NULL || c->collation[0] == '\0' ||
	       strcmp(c->collation, "default") == 0 || strcmp(c->collation, "C") == 0 ||
	       strcmp(c->collation, "POSIX") == 0;
}

static bool
tr_column_in(struct tr *t, struct tr_scope *sc, const char *qual, const char *name, struct tx *x)
{
	const struct localcat_col *c, *found = NULL;
	int i, at = -1;

	for (i = 0; i < sc->nusing && qual == NULL; i++) {
		if (strcmp(sc->using_names[i], name) == 0) {
			at = sc->using_rel[i];
			found = localcat_column(sc->rels[at].rel, name);
			break;
		}
	}
	for (i = 0; i < sc->nrels && found == NULL; i++) {
		if (qual && strcmp(sc->rels[i].alias, qual) != 0)
			continue;
		c = localcat_column(sc->rels[i].rel, name);
		if (qual && c == NULL) {
			tr_fail(t, "column \"%s.%s\" is not in the local copy", qual, name);
			return true;
		}
		if (c == NULL)
			continue;
		for (int j = i + 1; j < sc->nrels && qual == NULL; j++) {
			if (localcat_column(sc->rels[j].rel, name)) {
				tr_fail(t, "column reference \"%s\" is ambiguous", name);
				return true;
			}
		}
		found = c;
		at = i;
	}
	if (found == NULL)
		return false;
	if (!tr_collation_known(found)) {
		tr_fail(t, "column \"%s\" of collation %s", name, found->collation);
		return true;
	}
	tr_column_tx(sc, at, found, x);
	return true;
}

/* Whether the SELECT groups by the expression sql of type. */
static bool
tr_grouped_by(const struct tr_scope *sc, uint32_t type, const char *sql)
{
	int g;

	for (g = 0; g < sc->ngroup; g++)
		if (sc->group_type[g] == type && strcmp(sc->group_sql[g], sql) == 0)
			return true;
	return false;
}

/* Counts a column read outside aggregates that is not grouped by (in the target list,
 * HAVING and ORDER BY; it matters when the SELECT groups or aggregates). */
static void
tr_check_grouped(struct tr_scope *sc, const struct tx *x)
{
	int i;

	if (!sc->agg_ok || sc->in_agg > 0)
		return;
	/* a table grouped by its whole key: its columns are functionally dependent on it
	 * (upstream, on a primary key; the copy's key is the replica identity, the primary key
	 * unless the table says otherwise) */
	for (i = 0; i < sc->nrels; i++)
		if (sc->rels[i].no == x->relno && sc->key_grouped[i])
			return;
	if (tr_grouped_by(sc, x->type, strbuf_str((struct strbuf *)&x->sql)))
		return;
	sc->ungrouped++;
}

static void
tr_column_ref(struct tr *t, struct tr_scope *sc, const PgQuery__ColumnRef *cr, struct tx *x)
{
	const char *qual = NULL, *name;
	struct tr_scope *s;

	if (cr->n_fields == 1) {
		name = tr_node_str(cr->fields[0]);
	} else if (cr->n_fields == 2) {
		qual = tr_node_str(cr->fields[0]);
		name = tr_node_str(cr->fields[1]);
		if (qual == NULL)
			name = NULL;
	} else {
		name = NULL;
	}
	if (name == NULL) {
		tr_fail(t, "column reference");
		return;
	}
	for (s = sc; s != NULL; s = s->parent) {
		if (!tr_column_in(t, s, qual, name, x))
			continue;
		if (t->failed)
			return;
		/* an outer query's column in a subquery must be grouped there too */
		tr_check_grouped(s, x);
		if (s == sc)
			sc->local_refs++;
		else
			t->outer_refs++;
		return;
	}
	tr_fail(t, "column \"%s\" is not in the local copy", name);
}

static void
tr_const(struct tr *t, const PgQuery__AConst *c, struct tx *x)
{
	struct strbuf v;

	if (c->isnull) {
		x->form = TRF_NULL;
		strbuf_puts(&x->sql, "NULL");
		return;
	}
	switch (c->val_case) {
	case PG_QUERY__A__CONST__VAL_IVAL:
		/* negative numbers in parentheses: "- -1" must not become "--1", a comment */
		strbuf_printf(&x->sql, c->ival->ival < 0 ? "(%" PRId32 ")" : "%" PRId32,
		              c->ival->ival);
		x->type = PGV_OID_INT4;
		break;
	case PG_QUERY__A__CONST__VAL_BOOLVAL:
		strbuf_putc(&x->sql, c->boolval->boolval ? '1' : '0');
		x->type = PGV_OID_BOOL;
		break;
	case PG_QUERY__A__CONST__VAL_FVAL: {
		/* a constant with a point or an exponent is numeric; an integer that did not fit
		 * the parser's int is int4 or int8 by its value (-2147483648 is int4), numeric
		 * beyond */
		const char *f = c->fval->fval;
		int64_t i;

		strbuf_init(&v);
		if (translate_parse_int(f, strlen(f), PGV_OID_INT8, &i) == 0) {
			strbuf_printf(&x->sql, i < 0 ? "(%" PRId64 ")" : "%" PRId64, i);
			x->type = i >= INT32_MIN && i <= INT32_MAX ? PGV_OID_INT4 : PGV_OID_INT8;
		} else if (pgnum_in(f, strlen(f), &v) == 0) {
			strbuf_quote_literal(&x->sql, strbuf_str(&v));
			x->type = PGV_OID_NUMERIC;
		} else {
			tr_fail(t, "numeric constant");
		}
		strbuf_free(&v);
		break;
	}
	case PG_QUERY__A__CONST__VAL_SVAL:
		/* the parser has applied standard_conforming_strings=on; the caller makes sure
		 * the session has it on too */
		x->form = TRF_LIT;
		x->lit = xstrdup(c->sval->sval);
		strbuf_quote_literal(&x->sql, c->sval->sval);
		return;
	default:
		tr_fail(t, "constant of kind %d", (int)c->val_case);
		return;
	}
	x->form = TRF_VAL;
}

/* Both sides to one type for a comparison or a CASE-like choice. Returns the type, 0 on
 * failure. */
static uint32_t
tr_unify(struct tr *t, struct tx *a, struct tx *b)
{
	uint32_t type = tr_common_type(a, b);

	if (type == 0) {
		tr_fail(t, "types %" PRIu32 " and %" PRIu32 " together", a->type, b->type);
		return 0;
	}
	tr_coerce(t, a, type);
	tr_coerce(t, b, type);
	return t->failed ? 0 : type;
}

static bool
tr_comparable(uint32_t type)
{
	return tr_is_int(type) || tr_is_text(type) || tr_is_datetime(type) ||
	       type == PGV_OID_BPCHAR || type == PGV_OID_FLOAT8 || type == PGV_OID_NUMERIC ||
	       type == PGV_OID_BOOL || type == PGV_OID_UUID || type == PGV_OID_OID;
}

/* "a op b" for a comparison operator; x receives the condition. */
/* x, a parameter itself, is compared with something (its declared type may then differ
 * within its family). */
static void
tr_compared(struct tr *t, const struct tx *x)
{
	if (x->param > 0 && x->param <= TRANSLATE_MAX_PARAMS && !x->lit)
		t->param_compares[x->param]++;
}

static void
tr_compare(struct tr *t, struct tx *a, const char *op, struct tx *b, struct tx *x)
{
	bool eq = strcmp(op, "=") == 0 || strcmp(op, "<>") == 0;
	const char *coll;
	uint32_t type;

	tr_compared(t, a);
	tr_compared(t, b);
	type = tr_unify(t, a, b);
	if (t->failed)
		return;
	if (!tr_comparable(type) || (type == PGV_OID_BOOL && !eq)) {
		tr_fail(t, "comparison of type %" PRIu32, type);
		return;
	}
	if (a->coll_c != b->coll_c && tr_is_text(type) && a->col && b->col) {
		tr_fail(t, "comparison of two collations");
		return;
	}
	if (type == PGV_OID_FLOAT8) {
		/* float8_cmp: NaN equals NaN and is above everything; -0 equals 0 */
		strbuf_printf(&x->sql, "(pg_fcmp(%s, %s) %s 0)", tx_str(a), tx_str(b), op);
		x->form = TRF_VAL;
		x->type = PGV_OID_BOOL;
		return;
	}
	a->coll_c = a->coll_c || b->coll_c;
	coll = tr_order_collation(t, a);
	if (coll == NULL && !(eq && (tr_is_text(type) || type == PGV_OID_BPCHAR))) {
		tr_fail(t, "text order of this database's collation");
		return;
	}
	/* equal text is equal bytes under a deterministic collation */
	if (eq && (tr_is_text(type) || type == PGV_OID_BPCHAR))
		coll = " COLLATE BINARY";
	if (type == PGV_OID_BPCHAR) /* character(n) compares without its trailing blanks */
		strbuf_printf(&x->sql, "(rtrim(%s, ' ')%s %s rtrim(%s, ' '))", tx_str(a), coll, op,
		              tx_str(b));
	else
		strbuf_printf(&x->sql, "(%s%s %s %s)", tx_str(a), coll, op, tx_str(b));
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
}

static const char *
tr_aexpr_op(const PgQuery__AExpr *a)
{
	if (a->n_name == 1)
		return tr_node_str(a->name[0]);
	if (a->n_name == 2 && tr_node_str(a->name[0]) &&
	    strcmp(tr_node_str(a->name[0]), "pg_catalog") == 0)
		return tr_node_str(a->name[1]);
	return NULL;
}

static bool
tr_is_cmp_op(const char *op)
{
	return strcmp(op, "=") == 0 || strcmp(op, "<>") == 0 || strcmp(op, "!=") == 0 ||
	       strcmp(op, "<") == 0 || strcmp(op, ">") == 0 || strcmp(op, "<=") == 0 ||
	       strcmp(op, ">=") == 0;
}

/* An interval constant ('1 day'::interval, interval '1 day') as months, days, µs. */
static bool
tr_interval_const(const PgQuery__Node *n, struct pgtime_interval *iv)
{
	const PgQuery__TypeCast *tc;

	if (n->node_case != PG_QUERY__NODE__NODE_TYPE_CAST)
		return false;
	tc = n->type_cast;
	if (tr_type_by_name(tc->type_name) != PGV_OID_INTERVAL || tc->type_name->n_typmods > 0 ||
	    tc->arg == NULL || tc->arg->node_case != PG_QUERY__NODE__NODE_A_CONST ||
	    tc->arg->a_const->val_case != PG_QUERY__A__CONST__VAL_SVAL)
		return false;
	return pgtime_interval_in(tc->arg->a_const->sval->sval,
	                          strlen(tc->arg->a_const->sval->sval), iv) == 0;
}

static const char *
tr_int_check(uint32_t type)
{
	return type == PGV_OID_INT2 ? "pg_i2(" : type == PGV_OID_INT4 ? "pg_i4(" : "pg_i8(";
}

static void
tr_arith(struct tr *t, struct tr_scope *sc, const PgQuery__AExpr *a, const char *op, struct tx *x)
{
	struct tx l, r;
	struct pgtime_interval iv;
	uint32_t type;

	tx_init(&l);
	tx_init(&r);
	if (a->lexpr == NULL) { /* unary minus or plus */
		tr_expr(t, sc, a->rexpr, &r);
		if (t->failed)
			goto out;
		if (r.form != TRF_VAL || (!tr_is_int(r.type) && r.type != PGV_OID_NUMERIC) ||
		    (strcmp(op, "-") != 0 && strcmp(op, "+") != 0)) {
			tr_fail(t, "prefix operator %s", op);
			goto out;
		}
		if (strcmp(op, "+") == 0)
			strbuf_printf(&x->sql, "%s", tx_str(&r));
		else if (r.type == PGV_OID_NUMERIC)
			strbuf_printf(&x->sql, "pg_nsub('0', %s)", tx_str(&r));
		else
			strbuf_printf(&x->sql, "%s-(%s))", tr_int_check(r.type), tx_str(&r));
		x->form = TRF_VAL;
		x->type = r.type;
		goto out;
	}
	tr_expr(t, sc, a->lexpr, &l);
	if (t->failed)
		goto out;
	if (tr_is_datetime(l.type) && l.form == TRF_VAL &&
	    (strcmp(op, "+") == 0 || strcmp(op, "-") == 0) && tr_interval_const(a->rexpr, &iv)) {
		if (l.type == PGV_OID_TIMESTAMPTZ && !t->env->utc) {
			tr_fail(t, "timestamptz arithmetic outside UTC");
			goto out;
		}
		strbuf_printf(&x->sql,
		              "pg_ts_add(%d, %s, %" PRId32 ", %" PRId32 ", %" PRId64 ", %d)",
		              (int)tr_time_type(l.type), tx_str(&l), iv.months, iv.days, iv.usecs,
		              strcmp(op, "+") == 0 ? 1 : -1);
		x->form = TRF_VAL;
		x->type = l.type == PGV_OID_DATE ? PGV_OID_TIMESTAMP : l.type;
		goto out;
	}
	tr_expr(t, sc, a->rexpr, &r);
	if (t->failed)
		goto out;
	if (strcmp(op, "||") == 0) {
		/* text || text; a non-text side prints with its output function */
		if ((l.form == TRF_VAL && !tr_is_text(l.type)) &&
		    (r.form == TRF_VAL && !tr_is_text(r.type))) {
			tr_fail(t, "|| of two non-text values");
			goto out;
		}
		/* character(n) meets text through its cast (blanks dropped) */
		if (l.type == PGV_OID_BPCHAR)
			tr_coerce(t, &l, PGV_OID_TEXT);
		if (r.type == PGV_OID_BPCHAR)
			tr_coerce(t, &r, PGV_OID_TEXT);
		tr_textout(t, &l, true);
		tr_textout(t, &r, true);
		strbuf_printf(&x->sql, "(%s || %s)", tx_str(&l), tx_str(&r));
		x->form = TRF_VAL;
		x->type = PGV_OID_TEXT;
		/* a non-default collation of an input wins over the default (PostgreSQL's rule) */
		x->coll_c = l.coll_c || r.coll_c;
		goto out;
	}
	if (l.form == TRF_VAL && l.type == PGV_OID_DATE && (op[0] == '+' || op[0] == '-') &&
	    op[1] == '\0') {
		/* date ± integer is a date, date - date an integer; an untyped value there is
		 * resolved upstream (date - $1 is date - date, date + '1' ambiguous) */
		if (r.form == TRF_LIT || r.form == TRF_PARAM) {
			tr_fail(t, "date arithmetic with a value of unknown type");
			goto out;
		}
		if (op[0] == '-' && r.type == PGV_OID_DATE) {
			tr_coerce(t, &r, PGV_OID_DATE);
			strbuf_printf(&x->sql, "pg_date_diff(%s, %s)", tx_str(&l), tx_str(&r));
			x->type = PGV_OID_INT4;
		} else {
			tr_coerce(t, &r, PGV_OID_INT4);
			strbuf_printf(&x->sql, "pg_date_add(%s, %s(%s))", tx_str(&l),
			              op[0] == '-' ? "-" : "", tx_str(&r));
			x->type = PGV_OID_DATE;
		}
		x->form = TRF_VAL;
		goto out;
	}
	if (l.form != TRF_VAL && r.form != TRF_VAL) {
		tr_fail(t, "arithmetic on constants of unknown type");
		goto out;
	}
	type = tr_common_type(&l, &r);
	if (!tr_is_int(type) && type != PGV_OID_NUMERIC) {
		tr_fail(t, "operator %s on type %" PRIu32, op, type);
		goto out;
	}
	tr_coerce(t, &l, type);
	tr_coerce(t, &r, type);
	if (t->failed)
		goto out;
	if (type == PGV_OID_NUMERIC) {
		const char *fn = strcmp(op, "+") == 0   ? "pg_nadd"
		                 : strcmp(op, "-") == 0 ? "pg_nsub"
		                 : strcmp(op, "*") == 0 ? "pg_nmul"
		                 : strcmp(op, "/") == 0 ? "pg_ndiv"
		                                        : NULL;
		if (fn == NULL) {
			tr_fail(t, "numeric operator %s", op);
			goto out;
		}
		strbuf_printf(&x->sql, "%s(%s, %s)", fn, tx_str(&l), tx_str(&r));
	} else if (strcmp(op, "/") == 0 || strcmp(op, "%") == 0) {
		strbuf_printf(&x->sql, "%s%s, %s, %d)", op[0] == '/' ? "pg_idiv(" : "pg_imod(",
		              tx_str(&l), tx_str(&r), tr_int_rank(type));
	} else if (strcmp(op, "+") == 0 || strcmp(op, "-") == 0 || strcmp(op, "*") == 0) {
		strbuf_printf(&x->sql, "%s(%s) %s (%s))", tr_int_check(type), tx_str(&l), op,
		              tx_str(&r));
	} else {
		tr_fail(t, "integer operator %s", op);
		goto out;
	}
	x->form = TRF_VAL;
	x->type = type;
out:
	tx_free(&l);
	tx_free(&r);
}

/* x as text for || (cast: a boolean is true/false there) or concat() (its output function:
 * t/f): integers and numerics as stored, character(n) with its blanks (the output function
 * keeps them); others upstream, as their text may depend on settings. */
static void
tr_textout(struct tr *t, struct tx *x, bool cast)
{
	if (t->failed)
		return;
	if (x->form != TRF_VAL) {
		tr_coerce(t, x, PGV_OID_TEXT);
		return;
	}
	if (tr_is_text(x->type))
		return;
	if (tr_is_int(x->type) || x->type == PGV_OID_NUMERIC || x->type == PGV_OID_BPCHAR ||
	    x->type == PGV_OID_UUID)
		tx_wrap(x, "CAST(", " AS TEXT)");
	else if (x->type == PGV_OID_BOOL && cast)
		tx_wrap(x, "(CASE ", " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)");
	else if (x->type == PGV_OID_BOOL)
		tx_wrap(x, "(CASE ", " WHEN 1 THEN 't' WHEN 0 THEN 'f' END)");
	else
		tr_fail(t, "text of type %" PRIu32, x->type);
	x->type = PGV_OID_TEXT;
	x->typmod = -1;
}

/* jsonb -> key, ->> key, with a constant key or index. */
static void
tr_json_get(struct tr *t, struct tr_scope *sc, const PgQuery__AExpr *a, bool astext, struct tx *x)
{
	struct tx l;
	const PgQuery__Node *k = a->rexpr;
	bool json;

	tx_init(&l);
	tr_expr(t, sc, a->lexpr, &l);
	if (t->failed)
		goto out;
	if (l.form != TRF_VAL || (l.type != PGV_OID_JSONB && l.type != PGV_OID_JSON) || !k) {
		tr_fail(t, "-> on type %" PRIu32, l.type);
		goto out;
	}
	json = l.type == PGV_OID_JSON; /* its text as written: duplicate keys, blanks */
	if (k->node_case == PG_QUERY__NODE__NODE_PARAM_REF && k->param_ref->number >= 1 &&
	    k->param_ref->number <= TRANSLATE_MAX_PARAMS) {
		/* an untyped parameter is a text key there */
		tr_param_type(t, k->param_ref->number, PGV_OID_TEXT);
		if (k->param_ref->number > t->out->nparams)
			t->out->nparams = k->param_ref->number;
		strbuf_printf(&x->sql, "pg_jsonb_get(%s, ?%d, %d, %d)", tx_str(&l),
		              k->param_ref->number, astext ? 1 : 0, json ? 1 : 0);
		x->form = TRF_VAL;
		x->type = astext ? PGV_OID_TEXT : l.type;
		goto out;
	}
	if (k->node_case != PG_QUERY__NODE__NODE_A_CONST ||
	    (k->a_const->val_case != PG_QUERY__A__CONST__VAL_SVAL &&
	     k->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)) {
		tr_fail(t, "-> with a key that is not a constant");
		goto out;
	}
	strbuf_printf(&x->sql, "pg_jsonb_get(%s, ", tx_str(&l));
	if (k->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
		strbuf_printf(&x->sql, "%" PRId32, k->a_const->ival->ival);
	else
		strbuf_quote_literal(&x->sql, k->a_const->sval->sval);
	strbuf_printf(&x->sql, ", %d, %d)", astext ? 1 : 0, json ? 1 : 0);
	x->form = TRF_VAL;
	x->type = astext ? PGV_OID_TEXT : l.type;
out:
	tx_free(&l);
}

/* a [NOT] LIKE / ILIKE b (PostgreSQL: case-sensitive, character by character, '\' escapes). */
static void
tr_like(struct tr *t, struct tr_scope *sc, const PgQuery__AExpr *a, bool ci, bool neg, struct tx *x)
{
	struct tx l, r;

	tx_init(&l);
	tx_init(&r);
	tr_expr(t, sc, a->lexpr, &l);
	tr_expr(t, sc, a->rexpr, &r);
	tr_compared(t, &l);
	tr_compared(t, &r);
	if (t->failed)
		goto out;
	if ((l.form == TRF_VAL && !tr_is_text(l.type)) ||
	    (r.form == TRF_VAL && !tr_is_text(r.type))) {
		tr_fail(t, "LIKE on a non-text value");
		goto out;
	}
	tr_coerce(t, &l, PGV_OID_TEXT);
	tr_coerce(t, &r, PGV_OID_TEXT);
	if (t->failed)
		goto out;
	if (ci && (l.coll_c || (t->env->case_locale == NULL && !t->env->ascii_fold))) {
		tr_fail(t, "ILIKE under this collation or LC_CTYPE");
		goto out;
	}
	strbuf_printf(&x->sql, "(%spg_like(%s, %s", neg ? "NOT " : "", tx_str(&l), tx_str(&r));
	if (ci) {
		strbuf_puts(&x->sql, ", ");
		strbuf_quote_literal(&x->sql, t->env->case_locale ? t->env->case_locale : "");
	}
	strbuf_puts(&x->sql, "))");
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
out:
	tx_free(&l);
	tx_free(&r);
}

/* x IN (a, b, ...), x = ANY (ARRAY[...]): one type for all, equality as the type's. */
static void
tr_in_list(struct tr *t, struct tr_scope *sc, const PgQuery__Node *lexpr,
           PgQuery__Node *const *items, size_t nitems, bool neg, struct tx *x)
{
	struct tx l, *v;
	uint32_t type;
	size_t i;

	if (nitems == 0 || nitems > 1000) {
		tr_fail(t, "IN list of %zu", nitems);
		return;
	}
	tx_init(&l);
	v = xcalloc(nitems, sizeof(*v));
	tr_expr(t, sc, lexpr, &l);
	tr_compared(t, &l);
	for (i = 0; i < nitems; i++) {
		tx_init(&v[i]);
		tr_expr(t, sc, items[i], &v[i]);
		tr_compared(t, &v[i]);
	}
	if (t->failed)
		goto out;
	type = l.form == TRF_VAL ? l.type : 0;
	for (i = 0; i < nitems && type == 0; i++)
		if (v[i].form == TRF_VAL)
			type = v[i].type;
	for (i = 0; i < nitems && type != 0; i++) {
		struct tx probe = l;

		probe.form = TRF_VAL;
		probe.type = type;
		type = tr_common_type(&probe, &v[i]);
	}
	if (type == 0)
		type = PGV_OID_TEXT;
	if (!tr_comparable(type) || type == PGV_OID_FLOAT8) {
		tr_fail(t, "IN on type %" PRIu32, type);
		goto out;
	}
	tr_coerce(t, &l, type);
	for (i = 0; i < nitems; i++) {
		tr_coerce(t, &v[i], type);
		if (type == PGV_OID_BPCHAR)
			tx_wrap(&v[i], "rtrim(", ", ' ')");
	}
	if (t->failed)
		goto out;
	if (type == PGV_OID_BPCHAR)
		tx_wrap(&l, "rtrim(", ", ' ')");
	strbuf_printf(&x->sql, "(%s%s %sIN (", tx_str(&l),
	              type == PGV_OID_NUMERIC                      ? " COLLATE pg_numeric"
	              : tr_is_text(type) || type == PGV_OID_BPCHAR ? " COLLATE BINARY"
	                                                           : "",
	              neg ? "NOT " : "");
	for (i = 0; i < nitems; i++)
		strbuf_printf(&x->sql, "%s%s", i ? ", " : "", tx_str(&v[i]));
	strbuf_puts(&x->sql, "))");
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
out:
	tx_free(&l);
	for (i = 0; i < nitems; i++)
		tx_free(&v[i]);
	free(v);
}

static uint32_t
tr_array_of(uint32_t elem)
{
	switch (elem) {
	case PGV_OID_INT2:
		return PGV_OID_INT2ARRAY;
	case PGV_OID_INT4:
		return PGV_OID_INT4ARRAY;
	case PGV_OID_INT8:
		return PGV_OID_INT8ARRAY;
	case PGV_OID_TEXT:
		return PGV_OID_TEXTARRAY;
	case PGV_OID_VARCHAR:
		return PGV_OID_VARCHARARRAY;
	default:
		return 0;
	}
}

/* The array type a cast names (int8[], text[]...), or 0. */
static uint32_t
tr_array_type_by_name(const PgQuery__TypeName *tn)
{
	PgQuery__TypeName elem;

	if (tn == NULL || tn->n_array_bounds != 1)
		return 0;
	elem = *tn;
	elem.n_array_bounds = 0;
	return tr_array_of(tr_type_by_name(&elem));
}

/* x = ANY(array), x <> ALL(array): a list, or an array parameter or literal ('{1,2}', read
 * at bind time), as x [NOT] IN (...) with the same NULL semantics. */
static void
tr_any(struct tr *t, struct tr_scope *sc, const PgQuery__AExpr *a, bool all, struct tx *x)
{
	const char *op = tr_aexpr_op(a);
	const PgQuery__Node *r = a->rexpr;
	struct tx l, p;
	uint32_t atype, cast = 0;

	if (op == NULL || strcmp(op, all ? "<>" : "=") != 0) {
		tr_fail(t, "%s %s", op ? op : "?", all ? "ALL" : "ANY");
		return;
	}
	if (r->node_case == PG_QUERY__NODE__NODE_TYPE_CAST &&
	    (cast = tr_array_type_by_name(r->type_cast->type_name)) != 0 && r->type_cast->arg)
		r = r->type_cast->arg;
	if (r->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) {
		tr_in_list(t, sc, a->lexpr, r->a_array_expr->elements, r->a_array_expr->n_elements,
		           all, x);
		return;
	}
	tx_init(&l);
	tx_init(&p);
	tr_expr(t, sc, a->lexpr, &l);
	tr_expr(t, sc, r, &p);
	if (t->failed)
		goto out;
	if (p.form == TRF_VAL && cast == 0 && tr_array_elem(p.type) != 0) {
		/* x = ANY(array column): its stored text read as a JSON array */
		uint32_t elem = tr_array_elem(p.type);

		if (l.form != TRF_VAL)
			tr_coerce(t, &l, elem);
		if (t->failed || !((tr_is_int(l.type) && tr_is_int(elem)) ||
		                   (tr_is_text(l.type) && tr_is_text(elem)))) {
			tr_fail(t, "ANY of an array of type %" PRIu32, p.type);
			goto out;
		}
		strbuf_printf(&x->sql,
		              "(CASE WHEN %s IS NULL THEN NULL ELSE %s%s %sIN (SELECT value FROM "
		              "json_each(pg_array_json(%s, %" PRIu32 "))) END)",
		              tx_str(&p), tx_str(&l), tr_is_text(l.type) ? " COLLATE BINARY" : "",
		              all ? "NOT " : "", tx_str(&p), p.type);
		x->form = TRF_VAL;
		x->type = PGV_OID_BOOL;
		goto out;
	}
	if (l.form != TRF_VAL || (atype = tr_array_of(l.type)) == 0 ||
	    (p.form != TRF_PARAM && p.form != TRF_LIT) ||
	    (cast != 0 &&
	     !(tr_is_int(l.type) && (cast == PGV_OID_INT2ARRAY || cast == PGV_OID_INT4ARRAY ||
	                             cast == PGV_OID_INT8ARRAY)) &&
	     !(tr_is_text(l.type) &&
	       (cast == PGV_OID_TEXTARRAY || cast == PGV_OID_VARCHARARRAY)))) {
		tr_fail(t, "%s of this kind", all ? "ALL" : "ANY");
		goto out;
	}
	if (cast != 0)
		atype = cast; /* the elements are read as the cast's type, compared as values */
	if (p.form == TRF_PARAM) {
		tr_param_type(t, p.param, atype);
	} else {
		struct sqlshape_lit v;

		if (translate_input(atype, p.lit, strlen(p.lit), &v) < 0) {
			tr_fail(t, "array constant");
			goto out;
		}
		strbuf_reset(&p.sql);
		strbuf_quote_literal(&p.sql, v.s);
		free(v.s);
	}
	/* a NULL array makes ANY and ALL NULL, where json_each() would make them false/true */
	strbuf_printf(&x->sql,
	              "(CASE WHEN %s IS NULL THEN NULL ELSE %s%s %sIN (SELECT value FROM "
	              "json_each(%s)) END)",
	              tx_str(&p), tx_str(&l), tr_is_text(l.type) ? " COLLATE BINARY" : "",
	              all ? "NOT " : "", tx_str(&p));
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
out:
	tx_free(&l);
	tx_free(&p);
}

static void
tr_between(struct tr *t, struct tr_scope *sc, const PgQuery__AExpr *a, bool neg, struct tx *x)
{
	const PgQuery__Node *r = a->rexpr;
	struct tx v, lo, hi, lo2;
	uint32_t type;
	const char *coll;

	if (r == NULL || r->node_case != PG_QUERY__NODE__NODE_LIST || r->list->n_items != 2) {
		tr_fail(t, "BETWEEN");
		return;
	}
	tx_init(&v);
	tx_init(&lo);
	tx_init(&hi);
	tr_expr(t, sc, a->lexpr, &v);
	tr_expr(t, sc, r->list->items[0], &lo);
	tr_expr(t, sc, r->list->items[1], &hi);
	tr_compared(t, &v);
	tr_compared(t, &lo);
	tr_compared(t, &hi);
	if (t->failed)
		goto out;
	lo2 = lo;
	type = tr_common_type(&v, &lo);
	if (type) {
		lo2.form = TRF_VAL;
		lo2.type = type;
		type = tr_common_type(&lo2, &hi);
	}
	if (type == 0 || !tr_comparable(type) || type == PGV_OID_BOOL || type == PGV_OID_FLOAT8) {
		tr_fail(t, "BETWEEN of type %" PRIu32, type);
		goto out;
	}
	tr_coerce(t, &v, type);
	tr_coerce(t, &lo, type);
	tr_coerce(t, &hi, type);
	if (t->failed)
		goto out;
	coll = tr_order_collation(t, &v);
	if (coll == NULL) {
		tr_fail(t, "text order of this database's collation");
		goto out;
	}
	strbuf_printf(&x->sql, "(%s%s %sBETWEEN %s AND %s)", tx_str(&v), coll, neg ? "NOT " : "",
	              tx_str(&lo), tx_str(&hi));
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
out:
	tx_free(&v);
	tx_free(&lo);
	tx_free(&hi);
}

/* (a, b) op (c, d): lexicographic, as PostgreSQL compares rows: the first pair that is not
 * equal decides; = and <> need all pairs. NULLs give NULL as there. */
static void
tr_row_compare(struct tr *t, struct tr_scope *sc, const PgQuery__RowExpr *l, const char *op,
               const PgQuery__RowExpr *r, struct tx *x)
{
	bool eq = strcmp(op, "=") == 0, ne = strcmp(op, "<>") == 0;
	char strict[3] = {op[0], '\0', '\0'};
	size_t i, j;

	if (l->n_args != r->n_args || l->n_args == 0 || l->n_args > 8) {
		tr_fail(t, "row comparison");
		return;
	}
	strbuf_putc(&x->sql, '(');
	for (i = 0; i < l->n_args && !t->failed; i++) {
		/* term i: the first i pairs equal and pair i compares with op (strictly for all
		 * but the last, for < <= > >=) */
		if (i > 0)
			strbuf_puts(&x->sql, eq ? " AND " : " OR ");
		strbuf_putc(&x->sql, '(');
		for (j = 0; j <= i && !t->failed; j++) {
			struct tx a, b, c;
			const char *o;

			if (eq || ne)
				j = i;
			o = eq ? "=" : ne ? "<>" : j < i ? "=" : i + 1 < l->n_args ? strict : op;
			tx_init(&a);
			tx_init(&b);
			tx_init(&c);
			tr_expr(t, sc, l->args[j], &a);
			tr_expr(t, sc, r->args[j], &b);
			tr_compare(t, &a, o, &b, &c);
			strbuf_printf(&x->sql, "%s%s", j > 0 && !eq && !ne ? " AND " : "",
			              tx_str(&c));
			tx_free(&a);
			tx_free(&b);
			tx_free(&c);
		}
		strbuf_putc(&x->sql, ')');
	}
	strbuf_putc(&x->sql, ')');
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
}

/* An array as a JSON array of its elements' stored forms, into sb: an array column (its
 * text read by pg_array_json()), ARRAY[...] of constants and values, or a literal or
 * parameter of the type want (0: taken from the other side, which must be given). */
static uint32_t
tr_array_json(struct tr *t, struct tr_scope *sc, const PgQuery__Node *n, uint32_t want,
              struct strbuf *sb)
{
	uint32_t cast = 0, type = 0;
	struct tx v;
	size_t i;

	if (n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST &&
	    (cast = tr_array_type_by_name(n->type_cast->type_name)) != 0 && n->type_cast->arg)
		n = n->type_cast->arg;
	if (n->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) {
		const PgQuery__AArrayExpr *ae = n->a_array_expr;
		uint32_t elem = tr_array_elem(cast ? cast : want);

		if (elem == 0 || ae->n_elements == 0) {
			tr_fail(t, "ARRAY[] of unknown type");
			return 0;
		}
		strbuf_puts(sb, "json_array(");
		for (i = 0; i < ae->n_elements && !t->failed; i++) {
			tx_init(&v);
			tr_expr(t, sc, ae->elements[i], &v);
			if (v.form == TRF_VAL && !((tr_is_int(v.type) && tr_is_int(elem)) ||
			                           (tr_is_text(v.type) && tr_is_text(elem))))
				tr_fail(t, "ARRAY[] element of type %" PRIu32, v.type);
			tr_coerce(t, &v, v.form == TRF_VAL ? v.type : elem);
			strbuf_printf(sb, "%s%s", i ? ", " : "", tx_str(&v));
			tx_free(&v);
		}
		strbuf_putc(sb, ')');
		return cast ? cast : want;
	}
	tx_init(&v);
	tr_expr(t, sc, n, &v);
	if (t->failed)
		goto out;
	if (v.form == TRF_VAL && tr_array_elem(v.type) != 0 && cast == 0) {
		strbuf_printf(sb, "pg_array_json(%s, %" PRIu32 ")", tx_str(&v), v.type);
		type = v.type;
	} else if ((v.form == TRF_LIT || v.form == TRF_PARAM) && (cast || want)) {
		struct sqlshape_lit lit;

		type = cast ? cast : want;
		if (v.form == TRF_PARAM) {
			tr_param_type(t, v.param, type);
			strbuf_printf(sb, "?%d", v.param);
		} else if (translate_input(type, v.lit, strlen(v.lit), &lit) < 0) {
			tr_fail(t, "array constant");
		} else {
			strbuf_quote_literal(sb, lit.s);
			free(lit.s);
		}
	} else {
		tr_fail(t, "array of this kind");
	}
out:
	tx_free(&v);
	return t->failed ? 0 : type;
}

/* a @> b, a <@ b (every element of the one, NULLs never equal, is in the other), a && b
 * (they share an element); NULL when either is NULL. */
static void
tr_array_op(struct tr *t, struct tr_scope *sc, const PgQuery__AExpr *a, const char *op,
            struct tx *x)
{
	struct strbuf l, r;
	uint32_t lt, rt;

	if (a->lexpr == NULL || a->rexpr == NULL) {
		tr_fail(t, "prefix operator %s", op);
		return;
	}
	strbuf_init(&l);
	strbuf_init(&r);
	lt = tr_array_json(t, sc, a->lexpr, 0, &l);
	if (!t->failed && lt == 0)
		tr_fail(t, "%s of this kind", op);
	rt = t->failed ? 0 : tr_array_json(t, sc, a->rexpr, lt, &r);
	if (!t->failed && !((tr_is_int(tr_array_elem(lt)) && tr_is_int(tr_array_elem(rt))) ||
	                    (tr_is_text(tr_array_elem(lt)) && tr_is_text(tr_array_elem(rt)))))
		tr_fail(t, "%s of arrays of types %" PRIu32 " and %" PRIu32, op, lt, rt);
	if (!t->failed) {
		const char *big = op[0] == '<' ? strbuf_str(&r) : strbuf_str(&l);
		const char *small = op[0] == '<' ? strbuf_str(&l) : strbuf_str(&r);

		if (op[0] == '&')
			strbuf_printf(
			        &x->sql,
			        "(CASE WHEN %s IS NULL OR %s IS NULL THEN NULL ELSE EXISTS (SELECT "
			        "1 FROM json_each(%s) AS s WHERE s.value IS NOT NULL AND s.value "
			        "IN "
			        "(SELECT b.value FROM json_each(%s) AS b)) END)",
			        small, big, small, big);
		else
			strbuf_printf(
			        &x->sql,
			        "(CASE WHEN %s IS NULL OR %s IS NULL THEN NULL ELSE NOT EXISTS "
			        "(SELECT 1 FROM json_each(%s) AS s WHERE s.value IS NULL OR "
			        "s.value "
			        "NOT IN (SELECT b.value FROM json_each(%s) AS b WHERE b.value IS "
			        "NOT "
			        "NULL)) END)",
			        small, big, small, big);
		x->form = TRF_VAL;
		x->type = PGV_OID_BOOL;
	}
	strbuf_free(&l);
	strbuf_free(&r);
}

/* a[i]: one element of an array value (an index out of the array, or below 1, is NULL). */
static void
tr_subscript(struct tr *t, struct tr_scope *sc, const PgQuery__AIndirection *ind, struct tx *x)
{
	const PgQuery__AIndices *ai;
	struct tx a, i;

	if (ind->n_indirection != 1 ||
	    ind->indirection[0]->node_case != PG_QUERY__NODE__NODE_A_INDICES ||
	    (ai = ind->indirection[0]->a_indices)->is_slice || ai->uidx == NULL) {
		tr_fail(t, "indirection of this kind");
		return;
	}
	tx_init(&a);
	tx_init(&i);
	tr_expr(t, sc, ind->arg, &a);
	tr_expr(t, sc, ai->uidx, &i);
	tr_coerce(t, &i, PGV_OID_INT4);
	if (!t->failed && (a.form != TRF_VAL || tr_array_elem(a.type) == 0))
		tr_fail(t, "subscript of type %" PRIu32, a.type);
	if (!t->failed) {
		strbuf_printf(&x->sql,
		              "(CASE WHEN %s >= 1 THEN json_extract(pg_array_json(%s, %" PRIu32
		              "), '$[' || (%s - 1) || ']') END)",
		              tx_str(&i), tx_str(&a), a.type, tx_str(&i));
		x->form = TRF_VAL;
		x->type = tr_array_elem(a.type);
		tx_name(x, a.strength > 1 ? a.name : "?column?", a.strength > 1 ? 2 : 0);
	}
	tx_free(&a);
	tx_free(&i);
}

static void
tr_aexpr(struct tr *t, struct tr_scope *sc, const PgQuery__AExpr *a, struct tx *x)
{
	const char *op = tr_aexpr_op(a);
	struct tx l, r;

	if (op == NULL) {
		tr_fail(t, "operator name");
		return;
	}
	switch (a->kind) {
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
		break;
	case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
	case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE:
		if (strcmp(op, "~~") != 0 && strcmp(op, "!~~") != 0 && strcmp(op, "~~*") != 0 &&
		    strcmp(op, "!~~*") != 0) {
			tr_fail(t, "LIKE ... ESCAPE");
			return;
		}
		if (a->rexpr->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
			tr_fail(t, "LIKE ... ESCAPE");
			return;
		}
		tr_like(t, sc, a, a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE, op[0] == '!', x);
		return;
	case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
		if (a->rexpr == NULL || a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST) {
			tr_fail(t, "IN");
			return;
		}
		tr_in_list(t, sc, a->lexpr, a->rexpr->list->items, a->rexpr->list->n_items,
		           strcmp(op, "<>") == 0, x);
		return;
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
		tr_any(t, sc, a, a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL, x);
		return;
	case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
		tr_between(t, sc, a, a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN, x);
		return;
	case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
	case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT: {
		struct tx c;

		tx_init(&l);
		tx_init(&r);
		tx_init(&c);
		tr_expr(t, sc, a->lexpr, &l);
		tr_expr(t, sc, a->rexpr, &r);
		if (!t->failed)
			tr_compare(t, &l, "=", &r, &c);
		if (!t->failed && a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF) {
			/* nullif(a, b): a unless a = b */
			strbuf_printf(&x->sql, "(CASE WHEN %s THEN NULL ELSE %s END)", tx_str(&c),
			              tx_str(&l));
			x->form = TRF_VAL;
			x->type = l.type;
			x->typmod = l.typmod;
			x->coll_c = l.coll_c;
			tx_name(x, "nullif", 2);
		} else if (!t->failed) {
			bool distinct = a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT;

			strbuf_printf(
			        &x->sql,
			        "(CASE WHEN %s IS NULL THEN %s IS %sNULL WHEN %s IS NULL THEN "
			        "%d ELSE %s%s END)",
			        tx_str(&l), tx_str(&r), distinct ? "NOT " : "", tx_str(&r),
			        distinct ? 1 : 0, distinct ? "NOT " : "", tx_str(&c));
			x->form = TRF_VAL;
			x->type = PGV_OID_BOOL;
		}
		tx_free(&l);
		tx_free(&r);
		tx_free(&c);
		return;
	}
	default:
		tr_fail(t, "operator expression of kind %d", (int)a->kind);
		return;
	}
	if (strcmp(op, "->") == 0 || strcmp(op, "->>") == 0) {
		tr_json_get(t, sc, a, op[2] == '>', x);
		return;
	}
	if (strcmp(op, "@>") == 0 || strcmp(op, "<@") == 0 || strcmp(op, "&&") == 0) {
		tr_array_op(t, sc, a, op, x);
		return;
	}
	if (!tr_is_cmp_op(op)) {
		tr_arith(t, sc, a, op, x);
		return;
	}
	if (a->lexpr && a->rexpr && a->lexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR &&
	    a->rexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
		tr_row_compare(t, sc, a->lexpr->row_expr, strcmp(op, "!=") == 0 ? "<>" : op,
		               a->rexpr->row_expr, x);
		return;
	}
	tx_init(&l);
	tx_init(&r);
	if (a->lexpr == NULL || a->rexpr == NULL) {
		tr_fail(t, "operator %s", op);
	} else {
		tr_expr(t, sc, a->lexpr, &l);
		tr_expr(t, sc, a->rexpr, &r);
		tr_compare(t, &l, strcmp(op, "!=") == 0 ? "<>" : op, &r, x);
	}
	tx_free(&l);
	tx_free(&r);
}

static void
tr_bool_expr(struct tr *t, struct tr_scope *sc, const PgQuery__BoolExpr *b, struct tx *x)
{
	const char *sep = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR  ? " AND "
	                  : b->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? " OR "
	                                                                   : NULL;
	struct tx a;
	size_t i;

	if (b->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR && b->n_args == 1)
		strbuf_puts(&x->sql, "(NOT ");
	else if (sep != NULL)
		strbuf_putc(&x->sql, '(');
	else {
		tr_fail(t, "boolean expression");
		return;
	}
	for (i = 0; i < b->n_args && !t->failed; i++) {
		tx_init(&a);
		tr_expr(t, sc, b->args[i], &a);
		tr_coerce(t, &a, PGV_OID_BOOL);
		if (!t->failed && a.type != PGV_OID_BOOL)
			tr_fail(t, "AND, OR or NOT of a non-boolean");
		if (i > 0)
			strbuf_puts(&x->sql, sep);
		strbuf_append(&x->sql, a.sql.data, a.sql.len);
		tx_free(&a);
	}
	strbuf_putc(&x->sql, ')');
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
}

/* The arguments of a function or CASE-like node, translated into xs[0..n). */
static void
tr_args(struct tr *t, struct tr_scope *sc, PgQuery__Node *const *args, size_t n, struct tx *xs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		tx_init(&xs[i]);
		if (!t->failed)
			tr_expr(t, sc, args[i], &xs[i]);
	}
}

static void
tr_args_free(struct tx *xs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tx_free(&xs[i]);
	free(xs);
}

/* One type for all of xs (CASE results, COALESCE, GREATEST): PostgreSQL's resolution for the
 * types met here; all unknown is text. Sets *typmod to theirs when they all agree. */
static uint32_t
tr_unify_all(struct tr *t, struct tx *xs, size_t n, int32_t *typmod)
{
	struct tx probe;
	uint32_t type = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (xs[i].form != TRF_VAL)
			continue;
		if (type == 0) {
			type = xs[i].type;
			continue;
		}
		if (type != xs[i].type && (tr_is_text(type) || type == PGV_OID_BPCHAR) &&
		    (tr_is_text(xs[i].type) || xs[i].type == PGV_OID_BPCHAR)) {
			/* text, varchar and bpchar together: the type is the first one's in
			 * PostgreSQL's order of resolution, which is left upstream */
			tr_fail(t, "string values of different types together");
			return 0;
		}
		tx_init(&probe);
		probe.form = TRF_VAL;
		probe.type = type;
		type = tr_common_type(&probe, &xs[i]);
		tx_free(&probe);
		if (type == 0) {
			tr_fail(t, "values of different types together");
			return 0;
		}
	}
	if (type == 0)
		type = PGV_OID_TEXT;
	*typmod = -2;
	for (i = 0; i < n; i++) {
		if (xs[i].form != TRF_VAL || xs[i].type != type)
			*typmod = -1;
		else if (*typmod == -2)
			*typmod = xs[i].typmod;
		else if (*typmod != xs[i].typmod)
			*typmod = -1;
	}
	if (*typmod == -2)
		*typmod = -1;
	for (i = 0; i < n; i++)
		tr_coerce(t, &xs[i], type);
	return t->failed ? 0 : type;
}

static void
tr_case(struct tr *t, struct tr_scope *sc, const PgQuery__CaseExpr *c, struct tx *x)
{
	size_t n = c->n_args + 1, i;
	struct tx *res = xcalloc(n, sizeof(*res)), *conds = xcalloc(c->n_args, sizeof(*conds));
	struct tx arg;
	int32_t typmod;

	tx_init(&arg);
	for (i = 0; i < n; i++)
		tx_init(&res[i]);
	for (i = 0; i < c->n_args; i++)
		tx_init(&conds[i]);
	for (i = 0; i < c->n_args && !t->failed; i++) {
		const PgQuery__CaseWhen *w;

		if (c->args[i]->node_case != PG_QUERY__NODE__NODE_CASE_WHEN) {
			tr_fail(t, "CASE");
			break;
		}
		w = c->args[i]->case_when;
		if (c->arg) {
			/* CASE a WHEN v: a = v, a translated again for each */
			struct tx v;

			tx_init(&v);
			strbuf_reset(&arg.sql);
			tx_free(&arg);
			tx_init(&arg);
			tr_expr(t, sc, c->arg, &arg);
			tr_expr(t, sc, w->expr, &v);
			tr_compare(t, &arg, "=", &v, &conds[i]);
			tx_free(&v);
		} else {
			tr_expr(t, sc, w->expr, &conds[i]);
			tr_coerce(t, &conds[i], PGV_OID_BOOL);
		}
		tr_expr(t, sc, w->result, &res[i]);
	}
	if (c->defresult)
		tr_expr(t, sc, c->defresult, &res[n - 1]);
	else
		tr_const(t, &(PgQuery__AConst){.isnull = true}, &res[n - 1]);
	if (!t->failed && tr_unify_all(t, res, n, &typmod) != 0) {
		strbuf_puts(&x->sql, "(CASE");
		for (i = 0; i < c->n_args; i++)
			strbuf_printf(&x->sql, " WHEN %s THEN %s", tx_str(&conds[i]),
			              tx_str(&res[i]));
		strbuf_printf(&x->sql, " ELSE %s END)", tx_str(&res[n - 1]));
		x->form = TRF_VAL;
		x->type = res[0].type;
		x->typmod = typmod;
		for (i = 0; i < n; i++)
			x->coll_c = x->coll_c || res[i].coll_c;
		if (c->defresult && res[n - 1].strength > 1)
			tx_name(x, res[n - 1].name, res[n - 1].strength);
		else
			tx_name(x, "case", 1);
	}
	tx_free(&arg);
	tr_args_free(conds, c->n_args);
	tr_args_free(res, n);
}

static void
tr_coalesce(struct tr *t, struct tr_scope *sc, PgQuery__Node *const *args, size_t n,
            const char *name, struct tx *x)
{
	struct tx *xs = xcalloc(n ? n : 1, sizeof(*xs));
	int32_t typmod;
	size_t i;

	tr_args(t, sc, args, n, xs);
	if (!t->failed && n >= 1 && tr_unify_all(t, xs, n, &typmod) != 0) {
		if (strcmp(name, "coalesce") == 0) {
			strbuf_puts(&x->sql, n == 1 ? "(" : "coalesce(");
			for (i = 0; i < n; i++)
				strbuf_printf(&x->sql, "%s%s", i ? ", " : "", tx_str(&xs[i]));
			strbuf_putc(&x->sql, ')');
		} else {
			/* GREATEST/LEAST skip NULLs; the first of equal values wins */
			const char *coll;

			for (i = 1; i < n; i++)
				xs[0].coll_c = xs[0].coll_c || xs[i].coll_c;
			coll = tr_order_collation(t, &xs[0]);
			bool greatest = strcmp(name, "greatest") == 0;
			struct strbuf acc;

			if (coll == NULL || xs[0].type == PGV_OID_BOOL) {
				tr_fail(t, "%s of type %" PRIu32, name, xs[0].type);
				tr_args_free(xs, n);
				return;
			}
			strbuf_init(&acc);
			strbuf_puts(&acc, tx_str(&xs[0]));
			for (i = 1; i < n; i++) {
				struct strbuf next;

				strbuf_init(&next);
				strbuf_printf(
				        &next,
				        "(SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a "
				        "WHEN b%s %s a THEN b ELSE a END FROM (SELECT %s AS a, %s "
				        "AS b))",
				        coll, greatest ? ">" : "<", strbuf_str(&acc),
				        tx_str(&xs[i]));
				strbuf_free(&acc);
				acc = next;
			}
			strbuf_append(&x->sql, acc.data, acc.len);
			strbuf_free(&acc);
		}
		x->form = TRF_VAL;
		x->type = xs[0].type;
		x->typmod = typmod;
		for (i = 0; i < n; i++)
			x->coll_c = x->coll_c || xs[i].coll_c;
		tx_name(x, name, 2);
	} else if (!t->failed) {
		tr_fail(t, "%s", name);
	}
	tr_args_free(xs, n);
}

/* x::type, CAST(x AS type) */
static void
tr_cast(struct tr *t, struct tr_scope *sc, const PgQuery__TypeCast *tc, struct tx *x)
{
	uint32_t to = tr_type_by_name(tc->type_name), from;
	int32_t typmod = -1;
	struct tx a;

	tx_init(&a);
	if (to == 0 || to == PGV_OID_INTERVAL) {
		tr_fail(t, "cast to this type");
		goto out;
	}
	if (tc->type_name->n_typmods > 0) {
		const PgQuery__Node *p = tc->type_name->typmods[0], *s;
		int32_t prec, scale = 0;

		if (to != PGV_OID_NUMERIC || tc->type_name->n_typmods > 2 ||
		    p->node_case != PG_QUERY__NODE__NODE_A_CONST ||
		    p->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) {
			tr_fail(t, "cast with a type modifier");
			goto out;
		}
		prec = p->a_const->ival->ival;
		if (tc->type_name->n_typmods == 2) {
			s = tc->type_name->typmods[1];
			if (s->node_case != PG_QUERY__NODE__NODE_A_CONST ||
			    s->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) {
				tr_fail(t, "cast with a type modifier");
				goto out;
			}
			scale = s->a_const->ival->ival;
		}
		if (prec < 1 || prec > 1000 || scale < 0 || scale > prec) {
			tr_fail(t, "numeric(%d,%d)", prec, scale);
			goto out;
		}
		typmod = ((prec << 16) | scale) + 4;
	}
	tr_expr(t, sc, tc->arg, &a);
	if (t->failed)
		goto out;
	if (a.strength > 0)
		tx_name(x, a.name, a.strength);
	if (x->strength <= 1)
		tx_name(x, tr_type_name_last(tc->type_name), 1);
	if (a.form != TRF_VAL) {
		tr_coerce(t, &a, to);
		strbuf_append(&x->sql, a.sql.data, a.sql.len);
		from = to;
	} else {
		from = a.type;
		if (tr_is_int(from) && tr_is_text(to)) {
			/* TEXT storage: SQLite would compare an INTEGER with its own affinity */
			strbuf_printf(&x->sql, "CAST(%s AS TEXT)", tx_str(&a));
		} else if (from == to || (tr_is_text(from) && tr_is_text(to)) ||
		           (tr_is_int(from) && tr_is_int(to) &&
		            tr_int_rank(from) <= tr_int_rank(to)) ||
		           ((to == PGV_OID_TEXT || to == PGV_OID_VARCHAR) &&
		            (from == PGV_OID_NUMERIC || from == PGV_OID_UUID ||
		             from == PGV_OID_JSONB || tr_is_datetime(from)))) {
			/* the stored form is the output text */
			if (tr_is_datetime(from) && to != from && !t->env->utc)
				tr_fail(t, "cast of a time outside UTC");
			strbuf_append(&x->sql, a.sql.data, a.sql.len);
		} else if (from == PGV_OID_BPCHAR && tr_is_text(to)) {
			strbuf_printf(&x->sql, "rtrim(%s, ' ')", tx_str(&a));
		} else if (tr_is_text(from) && to == PGV_OID_BOOL) {
			strbuf_printf(&x->sql, "pg_text_bool(%s)", tx_str(&a));
		} else if (tr_is_int(from) && tr_is_int(to)) {
			strbuf_printf(&x->sql, "%s%s)", tr_int_check(to), tx_str(&a));
		} else if (tr_is_int(from) && to == PGV_OID_NUMERIC) {
			strbuf_printf(&x->sql, "CAST(%s AS TEXT)", tx_str(&a));
		} else if (tr_is_int(from) && to == PGV_OID_FLOAT8) {
			strbuf_printf(&x->sql, "CAST(%s AS REAL)", tx_str(&a));
		} else if ((from == PGV_OID_NUMERIC || tr_is_text(from)) && to == PGV_OID_FLOAT8) {
			strbuf_printf(&x->sql, "pg_text_float(%s)", tx_str(&a));
		} else if (from == PGV_OID_NUMERIC && tr_is_int(to)) {
			strbuf_printf(&x->sql, "pg_num_int(%s, %d)", tx_str(&a), tr_int_rank(to));
		} else if (tr_is_text(from) && tr_is_int(to)) {
			strbuf_printf(&x->sql, "pg_text_int(%s, %d)", tx_str(&a), tr_int_rank(to));
		} else if (tr_is_text(from) && to == PGV_OID_NUMERIC) {
			strbuf_printf(&x->sql, "pg_text_num(%s)", tx_str(&a));
		} else if (from == PGV_OID_BOOL && to == PGV_OID_TEXT) {
			strbuf_printf(&x->sql,
			              "(CASE %s WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)",
			              tx_str(&a));
		} else if (from == PGV_OID_BOOL && to == PGV_OID_INT4) {
			strbuf_append(&x->sql, a.sql.data, a.sql.len);
		} else if (tr_is_datetime(from) && tr_is_datetime(to) && t->env->utc) {
			strbuf_printf(&x->sql, "pg_ts_cast(%d, %d, %s)", (int)tr_time_type(from),
			              (int)tr_time_type(to), tx_str(&a));
		} else {
			tr_fail(t, "cast from %" PRIu32 " to %" PRIu32, from, to);
			goto out;
		}
	}
	if (typmod != -1) {
		tx_wrap(x, "pg_num_typmod(", "");
		strbuf_printf(&x->sql, ", %d, %d)", (typmod - 4) >> 16, (typmod - 4) & 0xffff);
	}
	x->form = TRF_VAL;
	x->type = to;
	x->typmod = typmod;
	x->coll_c = a.coll_c && tr_is_text(to);
	if (from == to && typmod == -1 && a.col) {
		/* a no-op cast keeps the column's typmod */
		x->typmod = a.typmod;
	}
out:
	tx_free(&a);
}

static void
tr_null_test(struct tr *t, struct tr_scope *sc, const PgQuery__NullTest *nt, struct tx *x)
{
	struct tx a;

	tx_init(&a);
	tr_expr(t, sc, nt->arg, &a);
	if (!t->failed && a.form == TRF_LIT)
		tr_coerce(t, &a, PGV_OID_TEXT);
	if (!t->failed)
		strbuf_printf(&x->sql, "(%s IS %sNULL)", tx_str(&a),
		              nt->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL ? "" : "NOT ");
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
	tx_free(&a);
}

static void
tr_boolean_test(struct tr *t, struct tr_scope *sc, const PgQuery__BooleanTest *bt, struct tx *x)
{
	static const char *const forms[] = {
	        [PG_QUERY__BOOL_TEST_TYPE__IS_TRUE] = "IS 1",
	        [PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE] = "IS NOT 1",
	        [PG_QUERY__BOOL_TEST_TYPE__IS_FALSE] = "IS 0",
	        [PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE] = "IS NOT 0",
	        [PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN] = "IS NULL",
	        [PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN] = "IS NOT NULL",
	};
	struct tx a;

	if ((size_t)bt->booltesttype >= ARRAY_SIZE(forms) || forms[bt->booltesttype] == NULL) {
		tr_fail(t, "boolean test");
		return;
	}
	tx_init(&a);
	tr_expr(t, sc, bt->arg, &a);
	tr_coerce(t, &a, PGV_OID_BOOL);
	if (!t->failed)
		strbuf_printf(&x->sql, "(%s %s)", tx_str(&a), forms[bt->booltesttype]);
	x->form = TRF_VAL;
	x->type = PGV_OID_BOOL;
	tx_free(&a);
}

static void
tr_sql_value(struct tr *t, const PgQuery__SQLValueFunction *f, struct tx *x)
{
	switch (f->op) {
	case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE:
		x->type = PGV_OID_DATE;
		tx_name(x, "current_date", 2);
		break;
	case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
	case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N:
		x->type = PGV_OID_TIMESTAMPTZ;
		tx_name(x, "current_timestamp", 2);
		break;
	case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N:
	case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
		x->type = PGV_OID_TIMESTAMP;
		tx_name(x, "localtimestamp", 2);
		break;
	default:
		tr_fail(t, "SQL value function %d", (int)f->op);
		return;
	}
	if (!t->env->utc) {
		tr_fail(t, "the current time outside UTC");
		return;
	}
	/* (n): rounded to n fractional digits, as the typmod rounds */
	if (f->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N ||
	    f->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N) {
		if (f->typmod < 0 || f->typmod > 6) {
			tr_fail(t, "precision %d", f->typmod);
			return;
		}
		strbuf_printf(&x->sql, "pg_now(%d, %d)", (int)tr_time_type(x->type), f->typmod);
	} else {
		strbuf_printf(&x->sql, "pg_now(%d)", (int)tr_time_type(x->type));
	}
	x->form = TRF_VAL;
}

static const char *
tr_func_name(const PgQuery__FuncCall *f)
{
	const char *name;

	if (f->n_funcname == 1)
		return tr_node_str(f->funcname[0]);
	if (f->n_funcname == 2 && (name = tr_node_str(f->funcname[0])) != NULL &&
	    strcmp(name, "pg_catalog") == 0)
		return tr_node_str(f->funcname[1]);
	return NULL;
}

static bool
tr_is_aggregate(const char *name)
{
	static const char *const aggs[] = {"count", "sum",      "avg",     "min",
	                                   "max",   "bool_and", "bool_or", "every"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(aggs); i++)
		if (strcmp(name, aggs[i]) == 0)
			return true;
	return false;
}

/* ORDER BY items (of a SELECT or a window) into sb. */
static void tr_sort_items(struct tr *t, struct tr_scope *sc, PgQuery__Node *const *items, size_t n,
                          const struct tr_out *o, struct strbuf *sb, struct strbuf *keys);

/* " OVER (PARTITION BY ... ORDER BY ...)" for a window of the default frame. */
static void
tr_window_clause(struct tr *t, struct tr_scope *sc, const PgQuery__WindowDef *w, struct strbuf *sb)
{
	const PgQuery__WindowDef *base = NULL;
	const char *ref = w->refname && w->refname[0] ? w->refname
	                  : w->name && w->name[0]     ? w->name
	                                              : NULL;
	PgQuery__Node *const *partition = w->partition_clause, *const *order = w->order_clause;
	size_t i, npartition = w->n_partition_clause, norder = w->n_order_clause;

	if (ref) {
		/* OVER w, OVER (w ORDER BY ...): a window of the WINDOW clause */
		for (i = 0; i < sc->nwindows && base == NULL; i++)
			if (sc->windows[i]->node_case == PG_QUERY__NODE__NODE_WINDOW_DEF &&
			    strcmp(sc->windows[i]->window_def->name, ref) == 0)
				base = sc->windows[i]->window_def;
		if (base == NULL || (base->refname && base->refname[0]) || npartition > 0 ||
		    (norder > 0 && base->n_order_clause > 0) ||
		    base->frame_options != TR_FRAME_DEFAULT) {
			tr_fail(t, "window %s", ref);
			return;
		}
		partition = base->partition_clause;
		npartition = base->n_partition_clause;
		if (norder == 0) {
			order = base->order_clause;
			norder = base->n_order_clause;
		}
	}
	if (w->frame_options != TR_FRAME_DEFAULT) {
		tr_fail(t, "window frame");
		return;
	}
	strbuf_puts(sb, " OVER (");
	for (i = 0; i < npartition && !t->failed; i++) {
		struct tx p;

		tx_init(&p);
		tr_expr(t, sc, partition[i], &p);
		if (!t->failed && (p.form != TRF_VAL || !tr_tx_bytes_equal(&p)))
			tr_fail(t, "PARTITION BY of type %" PRIu32, p.type);
		strbuf_printf(sb, "%s%s", i ? ", " : "PARTITION BY ", tx_str(&p));
		tx_free(&p);
	}
	if (norder > 0) {
		strbuf_puts(sb, npartition ? " " : "");
		tr_sort_items(t, sc, order, norder, NULL, sb, NULL);
	}
	strbuf_putc(sb, ')');
}

/* row_number(), rank(), dense_rank(), percent_rank(), cume_dist(), ntile(n), lag(x),
 * lead(x), first_value(x), last_value(x): SQLite computes them as PostgreSQL does. */
static void
tr_window_function(struct tr *t, struct tr_scope *sc, const PgQuery__FuncCall *f, const char *name,
                   struct tx *x)
{
	static const struct {
		const char *name;
		int nargs;     /* -1: one argument, the result's type */
		uint32_t type; /* of the result, when fixed */
	} fns[] = {
	        {"row_number", 0, PGV_OID_INT8},
	        {"rank", 0, PGV_OID_INT8},
	        {"dense_rank", 0, PGV_OID_INT8},
	        {"percent_rank", 0, PGV_OID_FLOAT8},
	        {"cume_dist", 0, PGV_OID_FLOAT8},
	        {"ntile", 1, PGV_OID_INT4},
	        {"lag", -1, 0},
	        {"lead", -1, 0},
	        {"first_value", -1, 0},
	        {"last_value", -1, 0},
	};
	struct tx a;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fns); i++)
		if (strcmp(fns[i].name, name) == 0)
			break;
	if (i == ARRAY_SIZE(fns) || f->agg_star || f->agg_distinct || f->agg_filter ||
	    f->n_agg_order || !sc->window_ok ||
	    f->n_args != (size_t)(fns[i].nargs < 0 ? 1 : fns[i].nargs)) {
		tr_fail(t, "window function %s", name);
		return;
	}
	tx_init(&a);
	if (f->n_args == 1) {
		/* window functions see the rows as they are: no aggregate grouping inside */
		tr_expr(t, sc, f->args[0], &a);
		if (fns[i].nargs == 1)
			tr_coerce(t, &a, PGV_OID_INT4);
		else if (a.form != TRF_VAL)
			tr_fail(t, "%s of a constant", name);
	}
	if (!t->failed) {
		strbuf_printf(&x->sql, "%s(%s)", name, f->n_args ? tx_str(&a) : "");
		tr_window_clause(t, sc, f->over, &x->sql);
		x->form = TRF_VAL;
		x->type = fns[i].type ? fns[i].type : a.type;
		x->typmod = -1;
		x->coll_c = a.coll_c;
		tx_name(x, name, 2);
	}
	tx_free(&a);
}

/* An aggregate or window function call. x has the call; over: the window's clause. */
static void
tr_aggregate(struct tr *t, struct tr_scope *sc, const PgQuery__FuncCall *f, const char *name,
             struct tx *x)
{
	struct tx a, filt;
	bool window = f->over != NULL;
	unsigned local_refs, outer_refs;
	const char *fn = NULL, *post = "";
	uint32_t type = 0;

	tx_init(&a);
	tx_init(&filt);
	if (window ? !sc->window_ok : !sc->agg_ok || sc->in_agg > 0) {
		tr_fail(t, "%s here", window ? "window function" : "aggregate");
		goto out;
	}
	if (f->n_agg_order > 0 || f->agg_within_group || f->func_variadic ||
	    (f->agg_star && strcmp(name, "count") != 0) || (!f->agg_star && f->n_args != 1)) {
		tr_fail(t, "%s of this form", name);
		goto out;
	}
	if (!window)
		sc->in_agg++;
	local_refs = sc->local_refs;
	outer_refs = t->outer_refs;
	if (!f->agg_star)
		tr_expr(t, sc, f->args[0], &a);
	if (!t->failed && sc->local_refs == local_refs && t->outer_refs != outer_refs) {
		/* of an outer query's columns only: an aggregate of that query there */
		tr_fail(t, "aggregate of an outer query's columns");
	}
	if (f->agg_filter) {
		tr_expr(t, sc, f->agg_filter, &filt);
		tr_coerce(t, &filt, PGV_OID_BOOL);
	}
	if (!window)
		sc->in_agg--;
	if (t->failed)
		goto out;
	if (a.form == TRF_LIT)
		tr_coerce(t, &a, PGV_OID_TEXT);
	if (a.form != TRF_VAL && !f->agg_star) {
		tr_fail(t, "%s of a constant of unknown type", name);
		goto out;
	}
	if (f->agg_distinct && !tr_tx_bytes_equal(&a)) {
		tr_fail(t, "%s(DISTINCT) of type %" PRIu32, name, a.type);
		goto out;
	}
	if (strcmp(name, "count") == 0) {
		fn = "count(";
		type = PGV_OID_INT8;
	} else if (strcmp(name, "sum") == 0) {
		if (a.type == PGV_OID_INT2 || a.type == PGV_OID_INT4) {
			fn = "sum(", type = PGV_OID_INT8;
		} else if (a.type == PGV_OID_INT8) {
			/* numeric upstream; SQLite fails past int64, and the statement goes there
			 */
			fn = "CAST(sum(", post = " AS TEXT)", type = PGV_OID_NUMERIC;
		} else if (a.type == PGV_OID_NUMERIC) {
			fn = "pg_nsum(", type = PGV_OID_NUMERIC;
		}
	} else if (strcmp(name, "avg") == 0) {
		if (tr_is_int(a.type) || a.type == PGV_OID_NUMERIC)
			fn = "pg_navg(", type = PGV_OID_NUMERIC;
	} else if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0) {
		const char *coll = tr_order_collation(t, &a);

		if (coll != NULL && a.type != PGV_OID_BOOL && a.type != PGV_OID_UUID) {
			/* min() and max() compare with their argument's collation */
			tx_wrap(&a, "(", "");
			strbuf_printf(&a.sql, "%s)", coll);
			fn = name[1] == 'i' ? "min(" : "max(";
			type = a.type;
			x->coll_c = a.coll_c;
		}
	} else if (a.type == PGV_OID_BOOL) { /* bool_and, every, bool_or */
		fn = strcmp(name, "bool_or") == 0 ? "max(" : "min(";
		type = PGV_OID_BOOL;
	}
	if (fn == NULL) {
		tr_fail(t, "%s of type %" PRIu32, name, a.type);
		goto out;
	}
	strbuf_puts(&x->sql, fn);
	if (f->agg_distinct)
		strbuf_puts(&x->sql, "DISTINCT ");
	strbuf_puts(&x->sql, f->agg_star ? "*" : tx_str(&a));
	strbuf_putc(&x->sql, ')');
	if (f->agg_filter)
		strbuf_printf(&x->sql, " FILTER (WHERE %s)", tx_str(&filt));
	if (window) {
		const PgQuery__WindowDef *w = f->over;

		if (f->agg_distinct) {
			tr_fail(t, "window of this form");
			goto out;
		}
		tr_window_clause(t, sc, w, &x->sql);
	} else {
		sc->has_agg = true;
	}
	strbuf_puts(&x->sql, post);
	x->form = TRF_VAL;
	x->type = type;
	tx_name(x, name, 2);
out:
	tx_free(&a);
	tx_free(&filt);
}

/* A function of one text argument and more of type int. */
static bool
tr_func_args(struct tr *t, struct tx *xs, size_t n, size_t min, size_t max, const uint32_t *types)
{
	size_t i;

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++) {
		if (xs[i].form == TRF_VAL && xs[i].type == PGV_OID_BPCHAR && tr_is_text(types[i]))
			tr_coerce(t, &xs[i],
			          PGV_OID_TEXT); /* length(), lower()...: blanks dropped */
		if (xs[i].form == TRF_VAL && xs[i].type != types[i] &&
		    !(tr_is_text(xs[i].type) && tr_is_text(types[i])) &&
		    !(tr_is_int(xs[i].type) && types[i] == PGV_OID_INT4 &&
		      xs[i].type != PGV_OID_INT8))
			return false;
		tr_coerce(t, &xs[i], types[i]);
	}
	return !t->failed;
}

static void
tr_func(struct tr *t, struct tr_scope *sc, const PgQuery__FuncCall *f, struct tx *x)
{
	static const uint32_t text3[] = {PGV_OID_TEXT, PGV_OID_TEXT, PGV_OID_TEXT};
	static const uint32_t text_int_int[] = {PGV_OID_TEXT, PGV_OID_INT4, PGV_OID_INT4};
	static const uint32_t text_text_int[] = {PGV_OID_TEXT, PGV_OID_TEXT, PGV_OID_INT4};
	static const uint32_t num_int[] = {PGV_OID_NUMERIC, PGV_OID_INT4};
	static const uint32_t text_int_text[] = {PGV_OID_TEXT, PGV_OID_INT4, PGV_OID_TEXT};
	const char *name = tr_func_name(f);
	struct tx *xs = NULL;
	size_t n = f->n_args, i;
	uint32_t rtype = PGV_OID_TEXT;

	if (name == NULL) {
		tr_fail(t, "function name");
		return;
	}
	if (tr_is_aggregate(name)) {
		tr_aggregate(t, sc, f, name, x);
		return;
	}
	if (f->over) {
		tr_window_function(t, sc, f, name, x);
		return;
	}
	if (f->agg_star || f->agg_distinct || f->agg_filter || f->n_agg_order || f->func_variadic) {
		tr_fail(t, "%s of this form", name);
		return;
	}
	xs = xcalloc(n ? n : 1, sizeof(*xs));
	tr_args(t, sc, f->args, n, xs);
	if (t->failed)
		goto out;
	tx_name(x, name, 2);
	if (strcmp(name, "lower") == 0 || strcmp(name, "upper") == 0) {
		if (!tr_func_args(t, xs, n, 1, 1, text3) || xs[0].coll_c ||
		    (t->env->case_locale == NULL && !t->env->ascii_fold))
			goto fail;
		strbuf_printf(&x->sql, "pg_%s(%s, ", name, tx_str(&xs[0]));
		strbuf_quote_literal(&x->sql, t->env->case_locale ? t->env->case_locale : "");
		strbuf_putc(&x->sql, ')');
	} else if (strcmp(name, "length") == 0 || strcmp(name, "char_length") == 0 ||
	           strcmp(name, "character_length") == 0) {
		if (!tr_func_args(t, xs, n, 1, 1, text3))
			goto fail;
		strbuf_printf(&x->sql, "length(%s)", tx_str(&xs[0]));
		rtype = PGV_OID_INT4;
	} else if (strcmp(name, "substring") == 0 || strcmp(name, "substr") == 0) {
		if (!tr_func_args(t, xs, n, 2, 3, text_int_int))
			goto fail;
		strbuf_printf(&x->sql, "pg_substr(%s, %s%s%s)", tx_str(&xs[0]), tx_str(&xs[1]),
		              n == 3 ? ", " : "", n == 3 ? tx_str(&xs[2]) : "");
	} else if (strcmp(name, "left") == 0 || strcmp(name, "right") == 0) {
		if (!tr_func_args(t, xs, n, 2, 2, text_int_int))
			goto fail;
		strbuf_printf(&x->sql, "pg_%s(%s, %s)", name, tx_str(&xs[0]), tx_str(&xs[1]));
	} else if (strcmp(name, "position") == 0 || strcmp(name, "strpos") == 0) {
		/* position(b IN a) is position(a, b) */
		if (!tr_func_args(t, xs, n, 2, 2, text3))
			goto fail;
		strbuf_printf(&x->sql, "pg_strpos(%s, %s)", tx_str(&xs[0]), tx_str(&xs[1]));
		rtype = PGV_OID_INT4;
	} else if (strcmp(name, "btrim") == 0 || strcmp(name, "ltrim") == 0 ||
	           strcmp(name, "rtrim") == 0) {
		if (!tr_func_args(t, xs, n, 1, 2, text3))
			goto fail;
		strbuf_printf(&x->sql, "%s(%s%s%s)", name[0] == 'b' ? "trim" : name, tx_str(&xs[0]),
		              n == 2 ? ", " : "", n == 2 ? tx_str(&xs[1]) : "");
	} else if (strcmp(name, "cardinality") == 0 || strcmp(name, "array_length") == 0) {
		/* of a one-dimensional array; array_length() of an empty one is NULL */
		bool card = name[0] == 'c';

		if (n != (card ? 1u : 2u) || xs[0].form != TRF_VAL ||
		    tr_array_elem(xs[0].type) == 0 ||
		    (!card && (f->args[1]->node_case != PG_QUERY__NODE__NODE_A_CONST ||
		               f->args[1]->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL ||
		               f->args[1]->a_const->ival->ival != 1)))
			goto fail;
		strbuf_printf(&x->sql,
		              card ? "json_array_length(pg_array_json(%s, %" PRIu32 "))"
		                   : "nullif(json_array_length(pg_array_json(%s, %" PRIu32 ")), 0)",
		              tx_str(&xs[0]), xs[0].type);
		rtype = PGV_OID_INT4;
	} else if (strcmp(name, "octet_length") == 0) {
		/* of character(n), with its padding */
		if (n != 1 ||
		    (xs[0].type != PGV_OID_BPCHAR && !tr_func_args(t, xs, n, 1, 1, text3)))
			goto fail;
		strbuf_printf(&x->sql, "length(CAST(%s AS BLOB))", tx_str(&xs[0]));
		rtype = PGV_OID_INT4;
	} else if (strcmp(name, "starts_with") == 0) {
		if (!tr_func_args(t, xs, n, 2, 2, text3))
			goto fail;
		strbuf_printf(&x->sql, "(pg_strpos(%s, %s) = 1)", tx_str(&xs[0]), tx_str(&xs[1]));
		rtype = PGV_OID_BOOL;
	} else if (strcmp(name, "reverse") == 0) {
		if (!tr_func_args(t, xs, n, 1, 1, text3))
			goto fail;
		strbuf_printf(&x->sql, "pg_reverse(%s)", tx_str(&xs[0]));
	} else if (strcmp(name, "repeat") == 0) {
		if (!tr_func_args(t, xs, n, 2, 2, text_int_int))
			goto fail;
		strbuf_printf(&x->sql, "pg_repeat(%s, %s)", tx_str(&xs[0]), tx_str(&xs[1]));
	} else if (strcmp(name, "lpad") == 0 || strcmp(name, "rpad") == 0) {
		if (!tr_func_args(t, xs, n, 2, 3, text_int_text))
			goto fail;
		strbuf_printf(&x->sql, "pg_%s(%s, %s, %s)", name, tx_str(&xs[0]), tx_str(&xs[1]),
		              n == 3 ? tx_str(&xs[2]) : "' '");
	} else if (strcmp(name, "concat_ws") == 0) {
		/* the separator between the values that are not NULL */
		if (n < 2 || xs[0].form == TRF_NULL)
			goto fail;
		tr_textout(t, &xs[0], false);
		strbuf_puts(&x->sql, "pg_concat_ws(");
		for (i = 0; i < n; i++) {
			if (i > 0)
				tr_textout(t, &xs[i], false);
			strbuf_printf(&x->sql, "%s%s", i ? ", " : "", tx_str(&xs[i]));
		}
		strbuf_putc(&x->sql, ')');
	} else if (strcmp(name, "mod") == 0) {
		uint32_t type;

		if (n != 2 || (type = tr_common_type(&xs[0], &xs[1])) == 0 || !tr_is_int(type))
			goto fail;
		tr_coerce(t, &xs[0], type);
		tr_coerce(t, &xs[1], type);
		strbuf_printf(&x->sql, "pg_imod(%s, %s, %d)", tx_str(&xs[0]), tx_str(&xs[1]),
		              tr_int_rank(type));
		rtype = type;
	} else if (strcmp(name, "replace") == 0) {
		if (!tr_func_args(t, xs, n, 3, 3, text3))
			goto fail;
		strbuf_printf(&x->sql, "replace(%s, %s, %s)", tx_str(&xs[0]), tx_str(&xs[1]),
		              tx_str(&xs[2]));
	} else if (strcmp(name, "split_part") == 0) {
		if (!tr_func_args(t, xs, n, 3, 3, text_text_int))
			goto fail;
		strbuf_printf(&x->sql, "pg_split_part(%s, %s, %s)", tx_str(&xs[0]), tx_str(&xs[1]),
		              tx_str(&xs[2]));
	} else if (strcmp(name, "concat") == 0) {
		/* NULLs are skipped; other types print with their output functions */
		if (n == 0)
			goto fail;
		strbuf_putc(&x->sql, '(');
		for (i = 0; i < n; i++) {
			tr_textout(t, &xs[i], false);
			strbuf_printf(&x->sql, "%scoalesce(%s, '')", i ? " || " : "",
			              tx_str(&xs[i]));
		}
		strbuf_putc(&x->sql, ')');
	} else if (strcmp(name, "abs") == 0) {
		if (n != 1 || xs[0].form != TRF_VAL)
			goto fail;
		if (xs[0].type == PGV_OID_NUMERIC)
			strbuf_printf(&x->sql, "pg_nabs(%s)", tx_str(&xs[0]));
		else if (tr_is_int(xs[0].type))
			strbuf_printf(&x->sql, "%sabs(%s))", tr_int_check(xs[0].type),
			              tx_str(&xs[0]));
		else
			goto fail;
		rtype = xs[0].type;
	} else if (strcmp(name, "ceil") == 0 || strcmp(name, "ceiling") == 0 ||
	           strcmp(name, "floor") == 0 || strcmp(name, "sign") == 0) {
		/* of numeric; of an integer they are float8 functions upstream */
		if (n != 1 || xs[0].form != TRF_VAL || xs[0].type != PGV_OID_NUMERIC)
			goto fail;
		strbuf_printf(&x->sql, "pg_n%s(%s)", name[0] == 'c' ? "ceil" : name,
		              tx_str(&xs[0]));
		rtype = PGV_OID_NUMERIC;
	} else if (strcmp(name, "md5") == 0) {
		if (!tr_func_args(t, xs, n, 1, 1, text3))
			goto fail;
		strbuf_printf(&x->sql, "pg_md5(%s)", tx_str(&xs[0]));
	} else if (strcmp(name, "date_part") == 0) {
		/* a float8 upstream: exact here for the fields with integral values */
		static const char *const whole[] = {
		        "year",    "month", "day",    "hour",    "minute", "dow",     "doy",
		        "quarter", "week",  "isodow", "isoyear", "decade", "century", "millennium"};
		bool ok = false;

		for (i = 0; n == 2 && xs[0].form == TRF_LIT && i < ARRAY_SIZE(whole); i++)
			ok = ok || strcasecmp(xs[0].lit, whole[i]) == 0;
		if (!ok || xs[1].form != TRF_VAL ||
		    (xs[1].type != PGV_OID_TIMESTAMP && xs[1].type != PGV_OID_TIMESTAMPTZ) ||
		    (xs[1].type == PGV_OID_TIMESTAMPTZ && !t->env->utc))
			goto fail;
		strbuf_printf(&x->sql, "CAST(pg_extract(%s, %d, %s) AS REAL)", tx_str(&xs[0]),
		              (int)tr_time_type(xs[1].type), tx_str(&xs[1]));
		rtype = PGV_OID_FLOAT8;
		x->canon = true; /* whole numbers: equal values are equal REALs */
	} else if (strcmp(name, "round") == 0 || strcmp(name, "trunc") == 0) {
		/* round(numeric[, int]); round(int) is round(float8) upstream */
		if (xs[0].form != TRF_VAL || (xs[0].type != PGV_OID_NUMERIC && n == 1) ||
		    !tr_func_args(t, xs, n, 1, 2, num_int))
			goto fail;
		strbuf_printf(&x->sql, "pg_n%s(%s, %s)", name, tx_str(&xs[0]),
		              n == 2 ? tx_str(&xs[1]) : "0");
		rtype = PGV_OID_NUMERIC;
	} else if (strcmp(name, "now") == 0 || strcmp(name, "transaction_timestamp") == 0) {
		if (n != 0 || !t->env->utc)
			goto fail;
		strbuf_printf(&x->sql, "pg_now(%d)", (int)PGTIME_TIMESTAMPTZ);
		rtype = PGV_OID_TIMESTAMPTZ;
	} else if (strcmp(name, "date_trunc") == 0) {
		if (n == 2 && xs[1].form == TRF_VAL && xs[1].type == PGV_OID_DATE && t->env->utc)
			tr_coerce(t, &xs[1], PGV_OID_TIMESTAMPTZ);
		if (n != 2 || xs[0].form != TRF_LIT || xs[1].form != TRF_VAL ||
		    (xs[1].type != PGV_OID_TIMESTAMP && xs[1].type != PGV_OID_TIMESTAMPTZ) ||
		    (xs[1].type == PGV_OID_TIMESTAMPTZ && !t->env->utc))
			goto fail;
		strbuf_printf(&x->sql, "pg_date_trunc(%s, %d, %s)", tx_str(&xs[0]),
		              (int)tr_time_type(xs[1].type), tx_str(&xs[1]));
		rtype = xs[1].type;
	} else if (strcmp(name, "extract") == 0) {
		if (n != 2 || xs[0].form != TRF_LIT || xs[1].form != TRF_VAL ||
		    !tr_is_datetime(xs[1].type) ||
		    (xs[1].type == PGV_OID_TIMESTAMPTZ && !t->env->utc))
			goto fail;
		strbuf_printf(&x->sql, "pg_extract(%s, %d, %s)", tx_str(&xs[0]),
		              (int)tr_time_type(xs[1].type), tx_str(&xs[1]));
		rtype = PGV_OID_NUMERIC;
		x->canon = true; /* one scale per field */
	} else {
		goto fail;
	}
	x->form = TRF_VAL;
	x->type = rtype;
	for (i = 0; rtype == PGV_OID_TEXT && i < n; i++)
		x->coll_c = x->coll_c || xs[i].coll_c;
	goto out;
fail:
	if (!t->failed)
		tr_fail(t, "function %s of these arguments", name);
out:
	tr_args_free(xs, n);
}

/* Whether a subquery gives at most one row: an aggregate without GROUP BY, or one table
 * pinned by its whole key. */
static bool
tr_single_row(const PgQuery__SelectStmt *s)
{
	if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE)
		return false;
	if (s->n_group_clause == 0 && s->having_clause == NULL && s->limit_count == NULL &&
	    s->n_target_list == 1 &&
	    s->target_list[0]->node_case == PG_QUERY__NODE__NODE_RES_TARGET &&
	    s->target_list[0]->res_target->val &&
	    s->target_list[0]->res_target->val->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
	    s->target_list[0]->res_target->val->func_call->over == NULL) {
		const char *name = tr_func_name(s->target_list[0]->res_target->val->func_call);

		return name && tr_is_aggregate(name);
	}
	if (s->limit_count && s->limit_count->node_case == PG_QUERY__NODE__NODE_A_CONST &&
	    s->limit_count->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL &&
	    s->limit_count->a_const->ival->ival == 1 && s->limit_offset == NULL)
		return true;
	return false;
}

static void
tr_sublink(struct tr *t, struct tr_scope *sc, const PgQuery__SubLink *l, struct tx *x)
{
	struct tr_out o = {0};
	struct strbuf sub;
	struct tx test;
	const PgQuery__SelectStmt *s;

	if (l->subselect == NULL || l->subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
		tr_fail(t, "subquery");
		return;
	}
	s = l->subselect->select_stmt;
	t->complex = true;
	strbuf_init(&sub);
	tx_init(&test);
	tr_select(t, sc, s, &sub, &o);
	if (t->failed)
		goto out;
	switch (l->sub_link_type) {
	case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK:
		strbuf_printf(&x->sql, "EXISTS (%s)", strbuf_str(&sub));
		x->type = PGV_OID_BOOL;
		tx_name(x, "exists", 2);
		break;
	case PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK:
		/* x IN (SELECT ...) */
		if (l->n_oper_name > 0 &&
		    (l->n_oper_name != 1 || strcmp(tr_node_str(l->oper_name[0]), "=") != 0)) {
			tr_fail(t, "ANY (subquery) with an operator");
			goto out;
		}
		if (o.n != 1 || l->testexpr == NULL) {
			tr_fail(t, "IN (subquery) of %zu columns", o.n);
			goto out;
		}
		tr_expr(t, sc, l->testexpr, &test);
		if (t->failed)
			goto out;
		tr_coerce(t, &test, o.cols[0].type);
		if (!t->failed &&
		    (!tr_bytes_equal(o.cols[0].type) || test.type != o.cols[0].type)) {
			tr_fail(t, "IN (subquery) of type %" PRIu32, o.cols[0].type);
			goto out;
		}
		strbuf_printf(&x->sql, "(%s%s IN (%s))", tx_str(&test),
		              tr_is_text(test.type) ? " COLLATE BINARY" : "", strbuf_str(&sub));
		x->type = PGV_OID_BOOL;
		break;
	case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK:
		if (o.n != 1 || !tr_single_row(s)) {
			tr_fail(t, "scalar subquery that may give several rows");
			goto out;
		}
		strbuf_printf(&x->sql, "(%s)", strbuf_str(&sub));
		x->type = o.cols[0].type;
		x->typmod = o.cols[0].typmod;
		/* its column's name, even "?column?", is a real name here (FigureColname) */
		tx_name(x, o.cols[0].strength > 0 ? o.cols[0].name : "?column?", 2);
		x->coll_c = o.cols[0].coll_c;
		break;
	default:
		tr_fail(t, "subquery of kind %d", (int)l->sub_link_type);
		goto out;
	}
	x->form = TRF_VAL;
out:
	tx_free(&test);
	strbuf_free(&sub);
	tr_out_free(&o);
}

static void
tr_expr(struct tr *t, struct tr_scope *sc, const PgQuery__Node *n, struct tx *x)
{
	int ungrouped = sc->ungrouped;

	if (t->failed)
		return;
	if (n == NULL) {
		tr_fail(t, "empty expression");
		return;
	}
	if (++t->depth > TR_DEPTH) {
		tr_fail(t, "expression nested too deep");
		t->depth--;
		return;
	}
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_COLUMN_REF:
		tr_column_ref(t, sc, n->column_ref, x);
		break;
	case PG_QUERY__NODE__NODE_A_CONST:
		tr_const(t, n->a_const, x);
		break;
	case PG_QUERY__NODE__NODE_PARAM_REF:
		if (n->param_ref->number < 1 || n->param_ref->number > TRANSLATE_MAX_PARAMS) {
			tr_fail(t, "parameter $%d", n->param_ref->number);
			break;
		}
		strbuf_printf(&x->sql, "?%d", n->param_ref->number);
		t->param_uses[n->param_ref->number]++;
		if (n->param_ref->number > t->out->nparams)
			t->out->nparams = n->param_ref->number;
		x->param = n->param_ref->number;
		if (t->out->param_types[x->param] != 0) {
			x->form = TRF_VAL;
			x->type = t->out->param_types[x->param];
		} else {
			x->form = TRF_PARAM;
		}
		break;
	case PG_QUERY__NODE__NODE_A_EXPR:
		tr_aexpr(t, sc, n->a_expr, x);
		break;
	case PG_QUERY__NODE__NODE_BOOL_EXPR:
		tr_bool_expr(t, sc, n->bool_expr, x);
		break;
	case PG_QUERY__NODE__NODE_NULL_TEST:
		tr_null_test(t, sc, n->null_test, x);
		break;
	case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
		tr_boolean_test(t, sc, n->boolean_test, x);
		break;
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		tr_cast(t, sc, n->type_cast, x);
		break;
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		tr_func(t, sc, n->func_call, x);
		break;
	case PG_QUERY__NODE__NODE_CASE_EXPR:
		tr_case(t, sc, n->case_expr, x);
		break;
	case PG_QUERY__NODE__NODE_COALESCE_EXPR:
		tr_coalesce(t, sc, n->coalesce_expr->args, n->coalesce_expr->n_args, "coalesce", x);
		break;
	case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
		tr_coalesce(t, sc, n->min_max_expr->args, n->min_max_expr->n_args,
		            n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "greatest"
		                                                                     : "least",
		            x);
		break;
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
		tr_sql_value(t, n->sqlvalue_function, x);
		break;
	case PG_QUERY__NODE__NODE_SUB_LINK:
		tr_sublink(t, sc, n->sub_link, x);
		break;
	case PG_QUERY__NODE__NODE_A_INDIRECTION:
		tr_subscript(t, sc, n->a_indirection, x);
		break;
	case PG_QUERY__NODE__NODE_COLLATE_CLAUSE: {
		const PgQuery__CollateClause *cc = n->collate_clause;
		const char *cn = cc->n_collname == 1 ? tr_node_str(cc->collname[0]) : NULL;

		if (cn == NULL || (strcmp(cn, "C") != 0 && strcmp(cn, "POSIX") != 0)) {
			tr_fail(t, "COLLATE other than \"C\"");
			break;
		}
		tr_expr(t, sc, cc->arg, x);
		tr_coerce(t, x, x->form == TRF_VAL ? x->type : PGV_OID_TEXT);
		if (!t->failed && !tr_is_text(x->type))
			tr_fail(t, "COLLATE on a non-text value");
		x->coll_c = true;
		break;
	}
	default:
		tr_fail(t, "expression node %d", (int)n->node_case);
		break;
	}
	t->depth--;
	/* an expression that is grouped by as a whole may use ungrouped columns inside */
	if (!t->failed && sc->agg_ok && sc->in_agg == 0 && sc->ungrouped > ungrouped &&
	    tr_grouped_by(sc, x->type, tx_str(x)))
		sc->ungrouped = ungrouped;
}

static void
tr_out_free(struct tr_out *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		tx_free(&o->cols[i]);
		free(o->sql[i]);
	}
	free(o->cols);
	free(o->sql);
	memset(o, 0, sizeof(*o));
}

static void
tr_out_add(struct tr_out *o, struct tx *x, const char *name)
{
	size_t cap = o->cap;

	o->cols = xgrow(o->cols, &o->cap, o->n + 1, sizeof(*o->cols));
	o->sql = xgrow(o->sql, &cap, o->n + 1, sizeof(*o->sql));
	o->sql[o->n] = xstrdup(tx_str(x));
	o->cols[o->n] = *x; /* takes x's buffers */
	if (name)
		tx_name(&o->cols[o->n], name, 2);
	o->n++;
	tx_init(x);
}

static void
tr_scope_free(struct tr_scope *sc)
{
	int i;

	for (i = 0; i < sc->nusing; i++)
		free(sc->using_names[i]);
	for (i = 0; i < sc->ngroup; i++)
		free(sc->group_sql[i]);
	for (i = 0; i < sc->nrels; i++) {
		struct localcat_rel *own = sc->rels[i].own;

		if (own == NULL)
			continue;
		for (size_t c = 0; c < own->ncols; c++) {
			free(own->cols[c].attname);
			free(own->cols[c].sqlite_name);
		}
		free(own->cols);
		free(own->relname);
		free(own);
		free(sc->rels[i].origin);
	}
}

/* A subquery in FROM (or a WITH query named there) as a table of its output columns: alias
 * names it, colnames (if any) rename its columns. */
static int
tr_add_subquery(struct tr *t, struct tr_scope *sc, const PgQuery__Node *query, const char *alias,
                PgQuery__Node *const *colnames, size_t ncolnames, struct strbuf *sb)
{
	struct tr_out o = {.alias = true};
	struct strbuf sub;
	struct localcat_rel *own;
	struct tr_rel *r;
	size_t i;
	int k;

	if (query == NULL || query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT ||
	    alias == NULL || alias[0] == '\0') {
		tr_fail(t, "subquery in FROM without an alias");
		return -1;
	}
	if (sc->nrels == TR_MAX_RELS) {
		tr_fail(t, "too many tables");
		return -1;
	}
	for (k = 0; k < sc->nrels; k++) {
		if (strcmp(sc->rels[k].alias, alias) == 0) {
			tr_fail(t, "table name \"%s\" specified more than once", alias);
			return -1;
		}
	}
	strbuf_init(&sub);
	t->complex = true;
	/* it sees the outer queries' columns, not its siblings' (no LATERAL) */
	tr_select(t, sc->parent, query->select_stmt, &sub, &o);
	if (!t->failed && ncolnames > o.n)
		tr_fail(t, "more column aliases than columns");
	if (t->failed) {
		strbuf_free(&sub);
		tr_out_free(&o);
		return -1;
	}
	own = xcalloc(1, sizeof(*own));
	own->relname = xstrdup(alias);
	own->ncols = o.n;
	own->cols = xcalloc(o.n, sizeof(*own->cols));
	r = &sc->rels[sc->nrels];
	memset(r, 0, sizeof(*r));
	r->own = own;
	r->rel = own;
	r->origin = xcalloc(o.n, sizeof(*r->origin));
	snprintf(r->alias, sizeof(r->alias), "%s", alias);
	r->no = ++t->nrels;
	for (i = 0; i < o.n; i++) {
		struct localcat_col *c = &own->cols[i];
		const struct tx *x = &o.cols[i];
		const char *name = i < ncolnames ? tr_node_str(colnames[i]) : NULL;
		char cn[32];

		c->attname = xstrdup(name ? name : x->strength > 0 ? x->name : "?column?");
		snprintf(cn, sizeof(cn), "c%zu", i + 1);
		c->sqlite_name = xstrdup(cn);
		c->attnum = x->col ? x->attnum : 0;
		c->type_oid = x->type;
		c->typmod = x->typmod;
		c->collation = x->coll_c ? "C" : "default";
		c->kind = pgv_kind_for_type(x->type);
		r->origin[i] = x->col ? x->table_oid : 0;
	}
	strbuf_printf(sb, "(%s) AS \"t%d\"", strbuf_str(&sub), r->no);
	strbuf_free(&sub);
	tr_out_free(&o);
	return sc->nrels++;
}

static const PgQuery__CommonTableExpr *
tr_cte(struct tr *t, const char *name)
{
	int i;

	for (i = t->nctes - 1; i >= 0; i--)
		if (strcmp(t->ctes[i]->ctename, name) == 0)
			return t->ctes[i];
	return NULL;
}

static int
tr_add_rel(struct tr *t, struct tr_scope *sc, const PgQuery__RangeVar *rv, struct strbuf *sb)
{
	const PgQuery__CommonTableExpr *cte;
	struct tr_rel *r;
	int i;

	if ((rv->schemaname == NULL || rv->schemaname[0] == '\0') &&
	    (cte = tr_cte(t, rv->relname)) != NULL) {
		int nctes = t->nctes, at;

		if (!rv->inh || (rv->alias && rv->alias->n_colnames)) {
			tr_fail(t, "WITH query with ONLY or column aliases");
			return -1;
		}
		/* the WITH query sees the ones before it */
		for (i = 0; i < t->nctes; i++)
			if (t->ctes[i] == cte)
				t->nctes = i;
		at = tr_add_subquery(t, sc, cte->ctequery,
		                     rv->alias && rv->alias->aliasname[0] ? rv->alias->aliasname
		                                                          : rv->relname,
		                     cte->aliascolnames, cte->n_aliascolnames, sb);
		t->nctes = nctes;
		return at;
	}

	if ((rv->catalogname && rv->catalogname[0]) || !rv->inh ||
	    (rv->alias && rv->alias->n_colnames)) {
		tr_fail(t, "FROM with a database name, ONLY or column aliases");
		return -1;
	}
	if (sc->nrels == TR_MAX_RELS) {
		tr_fail(t, "too many tables");
		return -1;
	}
	r = &sc->rels[sc->nrels];
	r->rel = t->env->resolve(t->env->arg, rv->schemaname ? rv->schemaname : "", rv->relname);
	if (r->rel == NULL) {
		tr_fail(t, "relation \"%s\" is not read locally", rv->relname);
		return -1;
	}
	snprintf(r->alias, sizeof(r->alias), "%s",
	         rv->alias && rv->alias->aliasname[0] ? rv->alias->aliasname : rv->relname);
	for (i = 0; i < sc->nrels; i++) {
		if (strcmp(sc->rels[i].alias, r->alias) == 0) {
			tr_fail(t, "table name \"%s\" specified more than once", r->alias);
			return -1;
		}
	}
	r->no = ++t->nrels;
	strbuf_quote_ident(sb, r->rel->sqlite_name);
	strbuf_printf(sb, " AS \"t%d\"", r->no);
	return sc->nrels++;
}

/* The column called name among rels [lo, hi), for USING; NULL (failed) when not exactly one. */
static const struct localcat_col *
tr_using_col(struct tr *t, struct tr_scope *sc, int lo, int hi, const char *name, int *at)
{
	const struct localcat_col *c, *found = NULL;
	int i;

	for (i = lo; i < hi; i++) {
		if ((c = localcat_column(sc->rels[i].rel, name)) == NULL)
			continue;
		if (found) {
			tr_fail(t, "USING column \"%s\" on both sides", name);
			return NULL;
		}
		found = c;
		*at = i;
	}
	if (found == NULL)
		tr_fail(t, "USING column \"%s\"", name);
	return found;
}

static void tr_from_item(struct tr *t, struct tr_scope *sc, const PgQuery__Node *n,
                         struct strbuf *sb);

static void
tr_join(struct tr *t, struct tr_scope *sc, const PgQuery__JoinExpr *j, struct strbuf *sb)
{
	static const char *const kinds[] = {
	        [PG_QUERY__JOIN_TYPE__JOIN_INNER] = " JOIN ",
	        [PG_QUERY__JOIN_TYPE__JOIN_LEFT] = " LEFT JOIN ",
	        [PG_QUERY__JOIN_TYPE__JOIN_FULL] = " FULL JOIN ",
	        [PG_QUERY__JOIN_TYPE__JOIN_RIGHT] = " RIGHT JOIN ",
	};
	int lo = sc->nrels, mid, hi;
	size_t i;

	if ((size_t)j->jointype >= ARRAY_SIZE(kinds) || kinds[j->jointype] == NULL ||
	    j->is_natural || j->alias || j->join_using_alias) {
		tr_fail(t, "join of this kind");
		return;
	}
	tr_from_item(t, sc, j->larg, sb);
	mid = sc->nrels;
	strbuf_puts(sb, j->quals == NULL && j->n_using_clause == 0 ? " CROSS JOIN "
	                                                           : kinds[j->jointype]);
	if (j->rarg && j->rarg->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR) {
		strbuf_putc(sb, '(');
		tr_from_item(t, sc, j->rarg, sb);
		strbuf_putc(sb, ')');
	} else {
		tr_from_item(t, sc, j->rarg, sb);
	}
	hi = sc->nrels;
	if (t->failed)
		return;
	if (j->quals) {
		struct tx on;
		struct tr_scope inner = *sc;

		/* ON sees the join's own tables only (and outer queries') */
		memmove(inner.rels, sc->rels + lo, sizeof(inner.rels[0]) * (size_t)(hi - lo));
		inner.nrels = hi - lo;
		inner.nusing = 0;
		inner.ngroup = 0;
		inner.grouped = false;
		inner.agg_ok = inner.window_ok = false;
		tx_init(&on);
		tr_expr(t, &inner, j->quals, &on);
		tr_coerce(t, &on, PGV_OID_BOOL);
		strbuf_printf(sb, " ON %s", tx_str(&on));
		tx_free(&on);
		return;
	}
	if (j->n_using_clause == 0)
		return;
	if (j->jointype == PG_QUERY__JOIN_TYPE__JOIN_FULL) {
		tr_fail(t, "FULL JOIN ... USING");
		return;
	}
	strbuf_puts(sb, " ON ");
	for (i = 0; i < j->n_using_clause && !t->failed; i++) {
		const char *name = tr_node_str(j->using_clause[i]);
		const struct localcat_col *a, *b;
		int la = 0, rb = 0;

		if (name == NULL || sc->nusing == TR_MAX_USING) {
			tr_fail(t, "USING");
			return;
		}
		a = tr_using_col(t, sc, lo, mid, name, &la);
		b = a ? tr_using_col(t, sc, mid, hi, name, &rb) : NULL;
		if (b == NULL)
			return;
		if (a->type_oid != b->type_oid || !tr_bytes_equal(a->type_oid)) {
			tr_fail(t, "USING of types %" PRIu32 " and %" PRIu32, a->type_oid,
			        b->type_oid);
			return;
		}
		strbuf_printf(sb, "%s\"t%d\".", i ? " AND " : "", sc->rels[la].no);
		strbuf_quote_ident(sb, a->sqlite_name);
		strbuf_printf(sb, " = \"t%d\".", sc->rels[rb].no);
		strbuf_quote_ident(sb, b->sqlite_name);
		sc->using_names[sc->nusing] = xstrdup(name);
		sc->using_rel[sc->nusing++] =
		        j->jointype == PG_QUERY__JOIN_TYPE__JOIN_RIGHT ? rb : la;
	}
}

static void
tr_from_item(struct tr *t, struct tr_scope *sc, const PgQuery__Node *n, struct strbuf *sb)
{
	if (t->failed)
		return;
	if (n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR)
		tr_add_rel(t, sc, n->range_var, sb);
	else if (n->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT &&
	         !n->range_subselect->lateral)
		tr_add_subquery(
		        t, sc, n->range_subselect->subquery,
		        n->range_subselect->alias ? n->range_subselect->alias->aliasname : NULL,
		        n->range_subselect->alias ? n->range_subselect->alias->colnames : NULL,
		        n->range_subselect->alias ? n->range_subselect->alias->n_colnames : 0, sb);
	else if (n->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR)
		tr_join(t, sc, n->join_expr, sb);
	else
		tr_fail(t, "FROM item of kind %d", (int)n->node_case);
}

/* An output column by position (ORDER BY 2) or by name (ORDER BY total), or -1. */
static int
tr_out_ref(struct tr *t, const PgQuery__Node *n, const struct tr_out *o)
{
	const char *name;
	int found = -1;
	size_t i;

	if (o == NULL)
		return -1;
	if (n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
	    n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
		int32_t pos = n->a_const->ival->ival;

		if (pos < 1 || (size_t)pos > o->n) {
			tr_fail(t, "position %d is not in select list", pos);
			return -1;
		}
		return pos - 1;
	}
	if (n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || n->column_ref->n_fields != 1 ||
	    (name = tr_node_str(n->column_ref->fields[0])) == NULL)
		return -1;
	for (i = 0; i < o->n; i++) {
		if (o->cols[i].strength < 2 || strcmp(o->cols[i].name, name) != 0)
			continue;
		if (found >= 0 && strcmp(o->sql[found], o->sql[i]) != 0) {
			tr_fail(t, "ORDER BY \"%s\" is ambiguous", name);
			return -1;
		}
		found = (int)i;
	}
	return found;
}

static void
tr_sort_items(struct tr *t, struct tr_scope *sc, PgQuery__Node *const *items, size_t n,
              const struct tr_out *o, struct strbuf *sb, struct strbuf *keys)
{
	size_t i;

	for (i = 0; i < n && !t->failed; i++) {
		const PgQuery__SortBy *by;
		const char *coll;
		struct tx e;
		bool desc, nulls_first;
		int ref;

		if (items[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY ||
		    (by = items[i]->sort_by)->node == NULL ||
		    by->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING) {
			tr_fail(t, "ORDER BY USING");
			return;
		}
		if (by->node->node_case == PG_QUERY__NODE__NODE_A_CONST &&
		    (o == NULL || by->node->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)) {
			tr_fail(t, "ORDER BY a constant"); /* non-integer: an error upstream */
			return;
		}
		tx_init(&e);
		ref = tr_out_ref(t, by->node, o);
		if (t->failed) {
			tx_free(&e);
			return;
		}
		if (ref >= 0) {
			strbuf_puts(&e.sql, o->sql[ref]);
			e.form = TRF_VAL;
			e.type = o->cols[ref].type;
			e.coll_c = o->cols[ref].coll_c;
		} else {
			tr_expr(t, sc, by->node, &e);
			if (!t->failed && e.form != TRF_VAL)
				tr_fail(t, "ORDER BY a constant");
			if (!t->failed && o && o->distinct) {
				size_t k;

				for (k = 0; k < o->n && strcmp(o->sql[k], tx_str(&e)) != 0; k++)
					;
				if (k == o->n)
					tr_fail(t, "SELECT DISTINCT ordered by what it does not "
					           "output");
			}
		}
		coll = t->failed || e.type == PGV_OID_FLOAT8 ? "" : tr_order_collation(t, &e);
		if (coll == NULL)
			tr_fail(t, "ORDER BY a value of type %" PRIu32, e.type);
		if (e.type == PGV_OID_BPCHAR)
			tx_wrap(&e, "rtrim(", ", ' ')");
		if (e.type == PGV_OID_FLOAT8) /* a BLOB in float8_cmp's order */
			tx_wrap(&e, "pg_fkey(", ")");
		desc = by->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
		/* PostgreSQL puts NULLs last ascending and first descending; SQLite the opposite */
		nulls_first =
		        by->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
		        (by->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && desc);
		if (!t->failed && keys) {
			/* the key as a column of a subquery ("sN"), ordered by name outside it */
			int k = ++t->nkeys;

			strbuf_printf(keys, ", %s AS \"s%d\"", tx_str(&e), k);
			strbuf_printf(sb, "%s\"s%d\"%s %s NULLS %s", i == 0 ? "ORDER BY " : ", ", k,
			              coll, desc ? "DESC" : "ASC", nulls_first ? "FIRST" : "LAST");
		} else if (!t->failed) {
			strbuf_printf(sb, "%s%s%s %s NULLS %s", i == 0 ? "ORDER BY " : ", ",
			              tx_str(&e), coll, desc ? "DESC" : "ASC",
			              nulls_first ? "FIRST" : "LAST");
		}
		tx_free(&e);
	}
}

/* LIMIT / OFFSET: a non-negative integer constant, ALL (NULL), or a parameter. */
static void
tr_limit(struct tr *t, struct tr_scope *sc, const PgQuery__Node *n, const char *what,
         struct strbuf *sb)
{
	struct tx e;

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
	tx_init(&e);
	tr_expr(t, sc, n, &e);
	tr_compared(t, &e); /* its type does not show: an integer of any width */
	if (e.form == TRF_PARAM || (e.param > 0 && e.type == PGV_OID_INT8)) {
		tr_param_type(t, e.param, PGV_OID_INT8);
		t->out->param_limit |= UINT64_C(1) << (e.param - 1);
	} else if (e.param > 0) {
		tr_fail(t, "%s parameter of another type", what);
	}
	strbuf_printf(sb, " %s %s", what, tx_str(&e));
	tx_free(&e);
}

/* A SELECT's LIMIT and OFFSET, appended to sb. */
static void
tr_limit_offset(struct tr *t, struct tr_scope *sc, const PgQuery__SelectStmt *s, struct strbuf *sb)
{
	if (s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
		tr_fail(t, "FETCH ... WITH TIES");
	if (s->limit_count && !t->failed)
		tr_limit(t, sc, s->limit_count, "LIMIT", sb);
	if (s->limit_offset && !t->failed) {
		if (s->limit_count == NULL)
			strbuf_puts(sb, " LIMIT -1");
		tr_limit(t, sc, s->limit_offset, "OFFSET", sb);
	}
}

static bool
tr_is_plain_distinct(const PgQuery__SelectStmt *s)
{
	size_t i;

	for (i = 0; i < s->n_distinct_clause; i++)
		if (s->distinct_clause[i] != NULL &&
		    s->distinct_clause[i]->node_case != PG_QUERY__NODE__NODE__NOT_SET)
			return false;
	return true;
}

static void
tr_targets(struct tr *t, struct tr_scope *sc, const PgQuery__SelectStmt *s, struct tr_out *o)
{
	size_t i;
	int r;

	for (i = 0; i < s->n_target_list && !t->failed; i++) {
		const PgQuery__ResTarget *rt;
		const PgQuery__ColumnRef *cr;
		struct tx x;

		if (s->target_list[i]->node_case != PG_QUERY__NODE__NODE_RES_TARGET ||
		    (rt = s->target_list[i]->res_target)->val == NULL || rt->n_indirection > 0) {
			tr_fail(t, "output expression");
			return;
		}
		if (rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
		    (cr = rt->val->column_ref)->n_fields > 0 &&
		    cr->fields[cr->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
			const char *qual = cr->n_fields == 2 ? tr_node_str(cr->fields[0]) : NULL;
			bool any = false;

			if (cr->n_fields > 2 || (cr->n_fields == 2 && qual == NULL) ||
			    (qual == NULL && sc->nusing > 0)) {
				tr_fail(t, "* of this kind");
				return;
			}
			for (r = 0; r < sc->nrels; r++) {
				if (qual && strcmp(sc->rels[r].alias, qual) != 0)
					continue;
				any = true;
				for (size_t c = 0; c < sc->rels[r].rel->ncols; c++) {
					const struct localcat_col *col = &sc->rels[r].rel->cols[c];

					if (!tr_collation_known(col)) {
						tr_fail(t, "column of collation %s",
						        col->collation);
						return;
					}
					tx_init(&x);
					tr_column_tx(sc, r, col, &x);
					tr_check_grouped(sc, &x);
					tr_out_add(o, &x, NULL);
				}
			}
			if (!any)
				tr_fail(t, "%s.* is not in FROM", qual ? qual : "");
			continue;
		}
		tx_init(&x);
		tr_expr(t, sc, rt->val, &x);
		/* an output constant of unknown type is text; an untyped NULL too */
		if (!t->failed && x.form != TRF_VAL)
			tr_coerce(t, &x, PGV_OID_TEXT);
		if (!t->failed && x.form != TRF_VAL)
			tr_fail(t, "output parameter of unknown type");
		tr_out_add(o, &x, rt->name && rt->name[0] ? rt->name : NULL);
	}
	if (o->n == 0 && !t->failed)
		tr_fail(t, "no output columns");
}

/* GROUP BY name where name is no input column but an output column's alias: that output
 * expression (PostgreSQL's rule: input columns first). */
static const PgQuery__Node *
tr_group_alias(struct tr_scope *sc, const PgQuery__SelectStmt *s, const PgQuery__Node *g)
{
	const char *name;
	size_t i;
	int r;

	if (g->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || g->column_ref->n_fields != 1 ||
	    (name = tr_node_str(g->column_ref->fields[0])) == NULL)
		return NULL;
	for (r = 0; r < sc->nrels; r++)
		if (localcat_column(sc->rels[r].rel, name))
			return NULL;
	for (i = 0; i < s->n_target_list; i++) {
		const PgQuery__ResTarget *rt = s->target_list[i]->res_target;

		if (s->target_list[i]->node_case == PG_QUERY__NODE__NODE_RES_TARGET && rt->name &&
		    strcmp(rt->name, name) == 0)
			return rt->val;
	}
	return NULL;
}

static void
tr_group_by(struct tr *t, struct tr_scope *sc, const PgQuery__SelectStmt *s)
{
	const PgQuery__Node *alias;
	size_t i, c;
	int r;

	for (i = 0; i < s->n_group_clause && !t->failed; i++) {
		const PgQuery__Node *g = s->group_clause[i];
		struct tx x;

		if (sc->ngroup == TR_MAX_GROUP) {
			tr_fail(t, "GROUP BY of many items");
			return;
		}
		tx_init(&x);
		if (g->node_case == PG_QUERY__NODE__NODE_A_CONST &&
		    g->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
			/* GROUP BY n: the n-th output expression, translated ungrouped */
			int32_t pos = g->a_const->ival->ival;
			const PgQuery__ResTarget *rt;

			if (pos < 1 || (size_t)pos > s->n_target_list ||
			    s->target_list[pos - 1]->node_case != PG_QUERY__NODE__NODE_RES_TARGET) {
				tr_fail(t, "GROUP BY position %d", pos);
				tx_free(&x);
				return;
			}
			rt = s->target_list[pos - 1]->res_target;
			tr_expr(t, sc, rt->val, &x);
		} else if (g->node_case == PG_QUERY__NODE__NODE_A_CONST) {
			tr_fail(t, "GROUP BY a constant"); /* non-integer: an error upstream */
		} else if ((alias = tr_group_alias(sc, s, g)) != NULL) {
			tr_expr(t, sc, alias, &x);
		} else {
			tr_expr(t, sc, g, &x);
		}
		if (!t->failed && (x.form != TRF_VAL || !tr_tx_bytes_equal(&x)))
			tr_fail(t, "GROUP BY a value of type %" PRIu32, x.type);
		sc->group_type[sc->ngroup] = x.type;
		sc->group_sql[sc->ngroup++] = xstrdup(tx_str(&x));
		tx_free(&x);
	}
	/* a table whose whole key is grouped by: its other columns are functionally dependent */
	for (r = 0; r < sc->nrels; r++) {
		const struct localcat_rel *rel = sc->rels[r].rel;
		int keys = 0;

		for (c = 0; c < rel->ncols; c++) {
			struct strbuf sb;

			if (rel->cols[c].key_position == 0)
				continue;
			strbuf_init(&sb);
			strbuf_printf(&sb, "\"t%d\".", sc->rels[r].no);
			strbuf_quote_ident(&sb, rel->cols[c].sqlite_name);
			keys += tr_grouped_by(sc, rel->cols[c].type_oid, strbuf_str(&sb));
			strbuf_free(&sb);
		}
		/* the local key is the replica identity; only a primary key counts upstream: the
		 * check of the grouping is then PostgreSQL's, which may refuse what we allow */
		sc->key_grouped[r] = rel->nkeys > 0 && keys == rel->nkeys;
	}
}

/* One side of a set operation. SQLite's compound SELECTs have no ORDER BY or LIMIT of their
 * own and group left to right: a side with those, or a right side that is itself a set
 * operation (PostgreSQL's INTERSECT binds tighter), is read as a subquery. */
static void
tr_set_arm(struct tr *t, struct tr_scope *parent, const PgQuery__SelectStmt *arm, bool right,
           struct strbuf *sb, struct tr_out *o)
{
	struct strbuf sub;

	if (!arm->n_sort_clause && !arm->limit_count && !arm->limit_offset &&
	    (!right || arm->op == PG_QUERY__SET_OPERATION__SETOP_NONE)) {
		tr_select(t, parent, arm, sb, o);
		return;
	}
	strbuf_init(&sub);
	tr_select(t, parent, arm, &sub, o);
	strbuf_printf(sb, "SELECT * FROM (%s)", strbuf_str(&sub));
	strbuf_free(&sub);
}

static void
tr_set_op(struct tr *t, struct tr_scope *parent, const PgQuery__SelectStmt *s, struct strbuf *sb,
          struct tr_out *o)
{
	struct tr_out ro = {0};
	struct strbuf rsb;
	const char *op;
	size_t i;

	if (s->larg == NULL || s->rarg == NULL || s->with_clause || s->n_locking_clause ||
	    s->into_clause) {
		tr_fail(t, "set operation of this form");
		return;
	}
	switch (s->op) {
	case PG_QUERY__SET_OPERATION__SETOP_UNION:
		op = s->all ? " UNION ALL " : " UNION ";
		break;
	case PG_QUERY__SET_OPERATION__SETOP_INTERSECT:
		op = s->all ? NULL : " INTERSECT ";
		break;
	case PG_QUERY__SET_OPERATION__SETOP_EXCEPT:
		op = s->all ? NULL : " EXCEPT ";
		break;
	default:
		op = NULL;
		break;
	}
	if (op == NULL) {
		tr_fail(t, "INTERSECT ALL or EXCEPT ALL");
		return;
	}
	strbuf_init(&rsb);
	tr_set_arm(t, parent, s->larg, false, sb, o);
	tr_set_arm(t, parent, s->rarg, true, &rsb, &ro);
	if (t->failed)
		goto out;
	if (o->n != ro.n) {
		tr_fail(t, "set operation of different widths");
		goto out;
	}
	for (i = 0; i < o->n; i++) {
		if (o->cols[i].type != ro.cols[i].type ||
		    (!s->all &&
		     (!tr_tx_bytes_equal(&o->cols[i]) || o->cols[i].typmod != ro.cols[i].typmod))) {
			tr_fail(t, "set operation on types %" PRIu32 " and %" PRIu32,
			        o->cols[i].type, ro.cols[i].type);
			goto out;
		}
		if (o->cols[i].typmod != ro.cols[i].typmod)
			o->cols[i].typmod = -1;
		o->cols[i].col = NULL;
		o->cols[i].table_oid = 0;
	}
	strbuf_puts(sb, op);
	strbuf_append(sb, rsb.data, rsb.len);
out:
	strbuf_free(&rsb);
	tr_out_free(&ro);
}

static void
tr_set_op_tail(struct tr *t, struct tr_scope *parent, const PgQuery__SelectStmt *s,
               struct strbuf *sb, const struct tr_out *o)
{
	struct tr_scope none = {.parent = parent};
	size_t i;

	for (i = 0; i < s->n_sort_clause && !t->failed; i++) {
		const PgQuery__SortBy *by =
		        s->sort_clause[i]->node_case == PG_QUERY__NODE__NODE_SORT_BY
		                ? s->sort_clause[i]->sort_by
		                : NULL;
		struct tx e;
		const char *coll;
		int ref;
		bool desc, nulls_first;

		if (by == NULL || by->node == NULL ||
		    by->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING ||
		    (ref = tr_out_ref(t, by->node, o)) < 0) {
			tr_fail(t, "ORDER BY of a set operation other than by its columns");
			return;
		}
		tx_init(&e);
		e.type = o->cols[ref].type;
		e.coll_c = o->cols[ref].coll_c;
		coll = tr_order_collation(t, &e);
		tx_free(&e);
		if (coll == NULL) {
			tr_fail(t, "ORDER BY a value of type %" PRIu32, o->cols[ref].type);
			return;
		}
		desc = by->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
		nulls_first =
		        by->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
		        (by->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && desc);
		strbuf_printf(sb, "%s%d%s %s NULLS %s", i == 0 ? " ORDER BY " : ", ", ref + 1, coll,
		              desc ? "DESC" : "ASC", nulls_first ? "FIRST" : "LAST");
	}
	tr_limit_offset(t, &none, s, sb);
}

/* The SQL of an ORDER BY or DISTINCT ON item: an output column by position or name, or the
 * expression. Returns false (failed) for a constant or a value that is not typed. */
static bool
tr_item_sql(struct tr *t, struct tr_scope *sc, const PgQuery__Node *n, const struct tr_out *o,
            struct tx *e)
{
	int ref = tr_out_ref(t, n, o);

	if (t->failed)
		return false;
	if (ref >= 0) {
		strbuf_puts(&e->sql, o->sql[ref]);
		e->form = TRF_VAL;
		e->type = o->cols[ref].type;
		e->typmod = o->cols[ref].typmod;
		e->col = o->cols[ref].col;
		e->canon = o->cols[ref].canon;
		return true;
	}
	if (n->node_case == PG_QUERY__NODE__NODE_A_CONST) {
		tr_fail(t, "a constant in DISTINCT ON");
		return false;
	}
	tr_expr(t, sc, n, e);
	if (!t->failed && e->form != TRF_VAL)
		tr_fail(t, "DISTINCT ON a value of unknown type");
	return !t->failed;
}

/* DISTINCT ON (a, b): "PARTITION BY a, b ORDER BY <the ORDER BY>" into on, after checking
 * PostgreSQL's rule that the ORDER BY starts with them. */
static void
tr_distinct_on(struct tr *t, struct tr_scope *sc, const PgQuery__SelectStmt *s,
               const struct tr_out *o, struct strbuf *on)
{
	size_t i;

	if (s->n_sort_clause > 0 && s->n_sort_clause < s->n_distinct_clause) {
		tr_fail(t, "DISTINCT ON beyond the ORDER BY");
		return;
	}
	strbuf_puts(on, "PARTITION BY ");
	for (i = 0; i < s->n_distinct_clause && !t->failed; i++) {
		struct tx e, k;

		tx_init(&e);
		tx_init(&k);
		if (tr_item_sql(t, sc, s->distinct_clause[i], o, &e) && !tr_tx_bytes_equal(&e))
			tr_fail(t, "DISTINCT ON a value of type %" PRIu32, e.type);
		if (!t->failed && s->n_sort_clause > 0) {
			const PgQuery__Node *by = s->sort_clause[i];

			if (by->node_case != PG_QUERY__NODE__NODE_SORT_BY ||
			    !tr_item_sql(t, sc, by->sort_by->node, o, &k) ||
			    strcmp(tx_str(&k), tx_str(&e)) != 0)
				tr_fail(t, "DISTINCT ON other than the ORDER BY's first items");
		}
		strbuf_printf(on, "%s%s", i ? ", " : "", tx_str(&e));
		tx_free(&e);
		tx_free(&k);
	}
	if (s->n_sort_clause > 0 && !t->failed) {
		strbuf_putc(on, ' ');
		tr_sort_items(t, sc, s->sort_clause, s->n_sort_clause, o, on, NULL);
	}
}

static void
tr_select(struct tr *t, struct tr_scope *parent, const PgQuery__SelectStmt *s, struct strbuf *sb,
          struct tr_out *o)
{
	struct tr_scope *sc;
	struct strbuf from, where, tail, having, on, keys;
	bool distinct_on = !tr_is_plain_distinct(s);
	size_t i;
	int nctes;

	if (t->failed)
		return;
	if (++t->depth > TR_DEPTH) {
		tr_fail(t, "queries nested too deep");
		t->depth--;
		return;
	}
	if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
		tr_set_op(t, parent, s, sb, o);
		tr_set_op_tail(t, parent, s, sb, o);
		t->depth--;
		return;
	}
	if (s->into_clause || s->n_locking_clause || s->n_values_lists || s->group_distinct ||
	    (s->with_clause && s->with_clause->recursive)) {
		tr_fail(t, "SELECT with INTO, WITH RECURSIVE, FOR UPDATE or VALUES");
		t->depth--;
		return;
	}
	nctes = t->nctes;
	for (i = 0; s->with_clause && i < s->with_clause->n_ctes && !t->failed; i++) {
		const PgQuery__Node *c = s->with_clause->ctes[i];

		if (c->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR ||
		    t->nctes == TR_MAX_CTES || c->common_table_expr->search_clause ||
		    c->common_table_expr->cycle_clause || c->common_table_expr->ctequery == NULL ||
		    c->common_table_expr->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
			/* WITH x AS (DELETE ...) runs even when x is not read: upstream */
			tr_fail(t, "WITH query that is not a plain SELECT");
		} else {
			/* each one is checked here, read or not (a WITH inside it may write) */
			struct tr_out co = {0};
			struct strbuf csb;

			strbuf_init(&csb);
			tr_select(t, NULL, c->common_table_expr->ctequery->select_stmt, &csb, &co);
			strbuf_free(&csb);
			tr_out_free(&co);
			t->ctes[t->nctes++] = c->common_table_expr;
		}
	}
	sc = xcalloc(1, sizeof(*sc));
	sc->parent = parent;
	sc->windows = s->window_clause;
	sc->nwindows = s->n_window_clause;
	strbuf_init(&from);
	strbuf_init(&where);
	strbuf_init(&tail);
	strbuf_init(&having);
	strbuf_init(&on);
	strbuf_init(&keys);
	for (i = 0; i < s->n_from_clause && !t->failed; i++) {
		if (i > 0)
			strbuf_puts(&from, ", ");
		tr_from_item(t, sc, s->from_clause[i], &from);
	}
	if (s->where_clause && !t->failed) {
		struct tx e;

		tx_init(&e);
		tr_expr(t, sc, s->where_clause, &e);
		tr_coerce(t, &e, PGV_OID_BOOL);
		strbuf_printf(&where, " WHERE %s", tx_str(&e));
		tx_free(&e);
	}
	if (!t->failed)
		tr_group_by(t, sc, s);
	sc->grouped = s->n_group_clause > 0 || s->having_clause != NULL;
	sc->ungrouped = 0;
	sc->agg_ok = sc->window_ok = true;
	if (!t->failed)
		tr_targets(t, sc, s, o);
	if (s->having_clause && !t->failed) {
		struct tx e;

		sc->window_ok = false;
		tx_init(&e);
		tr_expr(t, sc, s->having_clause, &e);
		tr_coerce(t, &e, PGV_OID_BOOL);
		strbuf_printf(&having, " HAVING %s", tx_str(&e));
		tx_free(&e);
		sc->window_ok = true;
	}
	if (s->n_sort_clause && !t->failed) {
		struct strbuf order;

		strbuf_init(&order);
		/* SELECT DISTINCT: ORDER BY only what is output (PostgreSQL's rule) */
		o->distinct = s->n_distinct_clause > 0 && !distinct_on;
		tr_sort_items(t, sc, s->sort_clause, s->n_sort_clause, o, &order,
		              distinct_on ? &keys : NULL);
		strbuf_printf(&tail, " %s", strbuf_str(&order));
		strbuf_free(&order);
	}
	if (distinct_on && !t->failed)
		tr_distinct_on(t, sc, s, o, &on);
	if (!t->failed && (sc->grouped || sc->has_agg) && sc->ungrouped > 0)
		tr_fail(t, "a column outside GROUP BY and aggregates");
	if (!t->failed && s->n_distinct_clause > 0 && !distinct_on)
		for (i = 0; i < o->n; i++)
			if (!tr_tx_bytes_equal(&o->cols[i]))
				tr_fail(t, "DISTINCT on type %" PRIu32, o->cols[i].type);
	tr_limit_offset(t, sc, s, &tail);
	if (!t->failed && distinct_on) {
		/* the first row of each group in the ORDER BY's order: row_number() in a
		 * subquery that also carries the sort keys, filtered and ordered outside */
		strbuf_puts(sb, "SELECT ");
		for (i = 0; i < o->n; i++) {
			strbuf_printf(sb, "%s\"d%zu\"", i ? ", " : "", i + 1);
			if (o->alias)
				strbuf_printf(sb, " AS \"c%zu\"", i + 1);
		}
		strbuf_puts(sb, " FROM (SELECT ");
		for (i = 0; i < o->n; i++)
			strbuf_printf(sb, "%s%s AS \"d%zu\"", i ? ", " : "", o->sql[i], i + 1);
		strbuf_printf(sb, ", row_number() OVER (%s) AS \"rn\"%s", strbuf_str(&on),
		              strbuf_str(&keys));
		if (s->n_from_clause)
			strbuf_printf(sb, " FROM %s", strbuf_str(&from));
		strbuf_append(sb, where.data, where.len);
		for (i = 0; i < (size_t)sc->ngroup; i++)
			strbuf_printf(sb, "%s%s", i ? ", " : " GROUP BY ", sc->group_sql[i]);
		strbuf_append(sb, having.data, having.len);
		strbuf_puts(sb, ") WHERE \"rn\" = 1");
		strbuf_append(sb, tail.data, tail.len);
	} else if (!t->failed) {
		strbuf_puts(sb, s->n_distinct_clause > 0 ? "SELECT DISTINCT " : "SELECT ");
		for (i = 0; i < o->n; i++) {
			strbuf_printf(sb, "%s%s", i ? ", " : "", o->sql[i]);
			if (o->alias)
				strbuf_printf(sb, " AS \"c%zu\"", i + 1);
		}
		if (s->n_from_clause)
			strbuf_printf(sb, " FROM %s", strbuf_str(&from));
		strbuf_append(sb, where.data, where.len);
		for (i = 0; i < (size_t)sc->ngroup; i++)
			strbuf_printf(sb, "%s%s", i ? ", " : " GROUP BY ", sc->group_sql[i]);
		strbuf_append(sb, having.data, having.len);
		strbuf_append(sb, tail.data, tail.len);
	}
	strbuf_free(&from);
	strbuf_free(&where);
	strbuf_free(&tail);
	strbuf_free(&having);
	strbuf_free(&on);
	strbuf_free(&keys);
	tr_scope_free(sc);
	free(sc);
	t->nctes = nctes;
	t->depth--;
}

/* Whether where pins every key column of the one table of s to a value: one row at most. */
static bool
tr_is_point(const PgQuery__SelectStmt *s, const struct localcat_rel *rel, const char *alias)
{
	const PgQuery__Node *w = s->where_clause;
	PgQuery__Node *const *conj;
	size_t n, i;
	int found = 0;

	if (w == NULL || rel->nkeys != 1)
		return false;
	if (w->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
	    w->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR) {
		conj = w->bool_expr->args;
		n = w->bool_expr->n_args;
	} else {
		conj = (PgQuery__Node *const *)&s->where_clause;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		const PgQuery__AExpr *a;
		const PgQuery__Node *col, *other;
		const PgQuery__ColumnRef *cr;
		const char *name;
		const struct localcat_col *c;

		if (conj[i]->node_case != PG_QUERY__NODE__NODE_A_EXPR)
			continue;
		a = conj[i]->a_expr;
		if (a->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || tr_aexpr_op(a) == NULL ||
		    strcmp(tr_aexpr_op(a), "=") != 0 || a->lexpr == NULL || a->rexpr == NULL)
			continue;
		col = a->lexpr->node_case == PG_QUERY__NODE__NODE_COLUMN_REF ? a->lexpr : a->rexpr;
		other = col == a->lexpr ? a->rexpr : a->lexpr;
		if (col->node_case != PG_QUERY__NODE__NODE_COLUMN_REF ||
		    (other->node_case != PG_QUERY__NODE__NODE_A_CONST &&
		     other->node_case != PG_QUERY__NODE__NODE_PARAM_REF))
			continue;
		cr = col->column_ref;
		if (cr->n_fields == 2 && (tr_node_str(cr->fields[0]) == NULL ||
		                          strcmp(tr_node_str(cr->fields[0]), alias) != 0))
			continue;
		name = tr_node_str(cr->fields[cr->n_fields - 1]);
		c = name ? localcat_column(rel, name) : NULL;
		if (c && c->key_position == 1 && tr_is_int(c->type_oid))
			found++;
	}
	return found > 0;
}

bool
translate_select_env(const char *sql, const struct translate_env *env, struct translate_result *out)
{
	struct tr t = {.out = out, .env = env};
	PgQueryProtobufParseResult r;
	PgQuery__ParseResult *tree = NULL;
	const PgQuery__SelectStmt *s;
	struct tr_out o = {0};
	size_t i;

	memset(out, 0, sizeof(*out));
	strbuf_init(&out->sql);
	if (env->collation)
		snprintf(t.coll_clause, sizeof(t.coll_clause), " COLLATE \"%s\"", env->collation);
	if (env->collation && strchr(env->collation, '"')) {
		tr_fail(&t, "collation name");
		goto out_noparse;
	}
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
	tr_select(&t, NULL, s, &out->sql, &o);
	for (i = 1; i <= (size_t)out->nparams && !t.failed; i++) {
		if (out->param_types[i] == 0)
			tr_fail(&t, "parameter $%zu of unknown type", i);
		if (t.param_uses[i] > 0 && t.param_uses[i] == t.param_compares[i])
			out->param_compared |= UINT64_C(1) << (i - 1);
	}
	if (t.failed)
		goto out;
	out->cols = xcalloc(o.n, sizeof(*out->cols));
	out->ncols = o.n;
	for (i = 0; i < o.n; i++) {
		struct translate_col *c = &out->cols[i];
		const struct tx *x = &o.cols[i];

		snprintf(c->name, sizeof(c->name), "%s", x->strength > 0 ? x->name : "?column?");
		c->table_oid = x->col ? x->table_oid : 0;
		c->attnum = x->col && x->table_oid ? x->attnum : 0;
		c->type_oid = x->type;
		c->typmod = x->typmod;
		c->kind = x->col && !x->derived ? x->col->kind : pgv_kind_for_type(x->type);
		c->column = x->derived ? NULL : x->col;
	}
	if (s->op == PG_QUERY__SET_OPERATION__SETOP_NONE && s->n_from_clause == 1 &&
	    s->from_clause[0]->node_case == PG_QUERY__NODE__NODE_RANGE_VAR &&
	    s->n_group_clause == 0) {
		const PgQuery__RangeVar *rv = s->from_clause[0]->range_var;
		const struct localcat_rel *rel =
		        env->resolve(env->arg, rv->schemaname ? rv->schemaname : "", rv->relname);

		out->point = rel && !t.complex &&
		             tr_is_point(s, rel,
		                         rv->alias && rv->alias->aliasname[0] ? rv->alias->aliasname
		                                                              : rv->relname);
	}
out:
	tr_out_free(&o);
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(r);
out_noparse:
	if (t.failed) {
		free(out->cols);
		out->cols = NULL;
		out->ncols = 0;
	}
	out->local = !t.failed;
	return out->local;
}

bool
translate_select(const char *sql, translate_resolve_fn resolve, void *arg,
                 struct translate_result *out)
{
	const struct translate_env env = {
	        .resolve = resolve,
	        .arg = arg,
	        .collation = "BINARY",
	        .case_locale = NULL,
	        .ascii_fold = true,
	        .utc = true,
	};

	return translate_select_env(sql, &env, out);
}

static bool
tr_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int
translate_parse_int(const char *p, size_t len, uint32_t type, int64_t *out)
{
	int64_t min, max;
	uint64_t v = 0, limit;
	size_t i = 0;
	bool neg = false, digits = false;

	switch (type) {
	case PGV_OID_INT2:
		min = INT16_MIN, max = INT16_MAX;
		break;
	case PGV_OID_INT4:
		min = INT32_MIN, max = INT32_MAX;
		break;
	case PGV_OID_INT8:
		min = INT64_MIN, max = INT64_MAX;
		break;
	case PGV_OID_OID:
		min = 0, max = UINT32_MAX;
		break;
	default:
		return -1;
	}
	/* int2in / int4in / int8in of PostgreSQL 15: blanks, sign, decimal digits, blanks */
	while (i < len && tr_blank(p[i]))
		i++;
	if (i < len && (p[i] == '-' || p[i] == '+'))
		neg = p[i++] == '-';
	if (neg && type == PGV_OID_OID)
		return -1; /* oidin wraps negatives: upstream */
	limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (limit - (uint64_t)(p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
		digits = true;
	}
	while (i < len && tr_blank(p[i]))
		i++;
	if (!digits || i != len)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int
translate_parse_bool(const char *p, size_t len, int64_t *out)
{
	static const struct {
		const char *s;
		int v;
	} forms[] = {{"t", 1}, {"true", 1},  {"y", 1}, {"yes", 1}, {"on", 1},  {"1", 1},
	             {"f", 0}, {"false", 0}, {"n", 0}, {"no", 0},  {"off", 0}, {"0", 0}};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		if (strlen(forms[i].s) == len && strncasecmp(p, forms[i].s, len) == 0) {
			*out = forms[i].v;
			return 0;
		}
	}
	return -1; /* prefixes and blanks boolin also takes: upstream */
}

static int
tr_hex(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* uuid_in's usual forms (36 characters with dashes, or 32 hex digits), lower-cased. */
static int
translate_parse_uuid(const char *p, size_t len, struct strbuf *out)
{
	size_t i, n = 0;
	bool dashes = len == 36;

	if (len != 36 && len != 32)
		return -1;
	for (i = 0; i < len; i++) {
		if (dashes && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (p[i] != '-')
				return -1;
			continue;
		}
		if (tr_hex(p[i]) < 0)
			return -1;
	}
	for (i = 0; i < len; i++) {
		if (p[i] == '-')
			continue;
		if (n == 8 || n == 12 || n == 16 || n == 20)
			strbuf_putc(out, '-');
		strbuf_putc(out, "0123456789abcdef"[tr_hex(p[i])]);
		n++;
	}
	return 0;
}

int
translate_parse_float(const char *p, size_t len, struct strbuf *out)
{
	static const char *const special[] = {"NaN", "Infinity", "-Infinity"};
	char buf[64], *end;
	size_t i = 0, n;
	double d;

	while (i < len && tr_blank(p[i]))
		i++;
	while (len > i && tr_blank(p[len - 1]))
		len--;
	n = len - i;
	for (size_t k = 0; k < ARRAY_SIZE(special); k++) {
		if (n == strlen(special[k]) && strncasecmp(p + i, special[k], n) == 0) {
			strbuf_puts(out, special[k]);
			return 0;
		}
	}
	/* float8in: strtod's decimal forms (no hex, no inf/nan spellings but the above) */
	if (n == 0 || n >= sizeof(buf))
		return -1;
	for (size_t k = 0; k < n; k++)
		if (strchr("0123456789.eE+-", p[i + k]) == NULL || p[i + k] == '\0')
			return -1;
	memcpy(buf, p + i, n);
	buf[n] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(d))
		return -1; /* out of range: an error there */
	strbuf_puts(out, buf);
	return 0;
}

static uint32_t
tr_array_elem(uint32_t type)
{
	switch (type) {
	case PGV_OID_INT2ARRAY:
		return PGV_OID_INT2;
	case PGV_OID_INT4ARRAY:
		return PGV_OID_INT4;
	case PGV_OID_INT8ARRAY:
		return PGV_OID_INT8;
	case PGV_OID_TEXTARRAY:
		return PGV_OID_TEXT;
	case PGV_OID_VARCHARARRAY:
		return PGV_OID_VARCHAR;
	default:
		return 0;
	}
}

/* A one-dimensional array literal ('{1,2}', '{"a b",c,NULL}') as a JSON array of its
 * elements' stored forms, for json_each(). */
static int
tr_array_in(uint32_t elem, const char *p, size_t len, struct strbuf *out)
{
	struct strbuf item;
	size_t i = 0;
	int n = 0, rc = -1;

	strbuf_init(&item);
	while (i < len && tr_blank(p[i]))
		i++;
	if (i == len || p[i++] != '{')
		goto out;
	strbuf_putc(out, '[');
	while (i < len && tr_blank(p[i]))
		i++;
	if (i < len && p[i] == '}') {
		i++;
		goto end;
	}
	for (;;) {
		bool quoted = false;
		struct sqlshape_lit v;

		strbuf_reset(&item);
		while (i < len && tr_blank(p[i]))
			i++;
		if (i < len && p[i] == '"') {
			quoted = true;
			for (i++; i < len && p[i] != '"'; i++) {
				if (p[i] == '\\' && i + 1 < len)
					i++;
				strbuf_putc(&item, p[i]);
			}
			if (i == len)
				goto out;
			i++;
		} else {
			for (; i < len && p[i] != ',' && p[i] != '}'; i++) {
				if (p[i] == '"' || p[i] == '{' || p[i] == '\\')
					goto out;
				strbuf_putc(&item, p[i]);
			}
			while (item.len > 0 && tr_blank(item.data[item.len - 1]))
				item.len--;
			if (item.len == 0)
				goto out;
		}
		while (i < len && tr_blank(p[i]))
			i++;
		if (n++ > 0)
			strbuf_putc(out, ',');
		if (!quoted && item.len == 4 && strncasecmp(strbuf_str(&item), "NULL", 4) == 0) {
			strbuf_puts(out, "null");
		} else {
			if (translate_input(elem, strbuf_str(&item), item.len, &v) < 0)
				goto out;
			if (v.kind == SQLSHAPE_INT)
				strbuf_printf(out, "%" PRId64, v.i);
			else
				strbuf_json_string(out, v.s);
			free(v.s);
		}
		if (i < len && p[i] == ',') {
			i++;
			continue;
		}
		if (i < len && p[i] == '}') {
			i++;
			break;
		}
		goto out;
	}
end:
	while (i < len && tr_blank(p[i]))
		i++;
	if (i != len)
		goto out;
	strbuf_putc(out, ']');
	rc = 0;
out:
	strbuf_free(&item);
	return rc;
}

int
translate_input(uint32_t type, const char *s, size_t len, struct sqlshape_lit *out)
{
	struct strbuf v;
	int64_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (memchr(s, '\0', len) != NULL)
		return -1;
	switch (type) {
	case PGV_OID_INT2:
	case PGV_OID_INT4:
	case PGV_OID_INT8:
	case PGV_OID_OID:
		if (translate_parse_int(s, len, type, &i) < 0)
			return -1;
		out->kind = SQLSHAPE_INT;
		out->i = i;
		return 0;
	case PGV_OID_BOOL:
		if (translate_parse_bool(s, len, &i) < 0)
			return -1;
		out->kind = SQLSHAPE_INT;
		out->i = i;
		return 0;
	case PGV_OID_TEXT:
	case PGV_OID_VARCHAR:
	case PGV_OID_BPCHAR: /* compared without trailing blanks, as bpchar is */
	case PGV_OID_NAME:
		/* a name longer than 63 bytes is cut upstream */
		if (!utf8_is_valid((const uint8_t *)s, len) || (type == PGV_OID_NAME && len > 63))
			return -1;
		out->kind = SQLSHAPE_STR;
		out->s = xstrndup(s, len);
		return 0;
	default:
		break;
	}
	strbuf_init(&v);
	switch (type) {
	case PGV_OID_NUMERIC:
		rc = pgnum_in(s, len, &v);
		break;
	case PGV_OID_DATE:
	case PGV_OID_TIMESTAMP:
	case PGV_OID_TIMESTAMPTZ:
		rc = pgtime_in(tr_time_type(type), s, len, &v);
		break;
	case PGV_OID_UUID:
		rc = translate_parse_uuid(s, len, &v);
		break;
	case PGV_OID_FLOAT8:
		rc = translate_parse_float(s, len, &v);
		break;
	default:
		if (tr_array_elem(type) != 0)
			rc = tr_array_in(tr_array_elem(type), s, len, &v);
		break;
	}
	if (rc == 0) {
		/* the buffer itself, terminated: no copy per value */
		out->kind = SQLSHAPE_STR;
		out->s = v.data ? (char *)strbuf_str(&v) : xstrdup("");
		return 0;
	}
	strbuf_free(&v);
	return rc < 0 ? -1 : 0;
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
