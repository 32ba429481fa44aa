/* SPDX-License-Identifier: MIT */
/* Per-session decision for local reads (see localread.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localread.h"
#include "log.h"
#include "rbuf.h"

#define LR_MAX_FIELDS 8

static void
localread_cache_clear(struct localread_session *s)
{
	size_t i;

	for (i = 0; s->cache && i < LOCALREAD_CACHE; i++) {
		if (s->cache[i].key) {
			free(s->cache[i].key);
			translate_result_free(&s->cache[i].tr);
			s->cache[i].key = NULL;
		}
	}
	free(s->cache);
	s->cache = NULL;
}

void
localread_session_reset(struct localread_session *s)
{
	localread_cache_clear(s);
	free(s->rels);
	memset(s, 0, sizeof(*s));
}

void
localread_binds_free(struct localread_binds *binds)
{
	size_t i;

	for (i = 0; i < binds->n; i++)
		free(binds->v[i].s);
	binds->n = 0;
}

void
localread_session_free(struct localread_session *s)
{
	localread_session_reset(s);
}

void
localread_check_sql(const struct localcat *cat, struct strbuf *out)
{
	size_t i;

	strbuf_puts(out, "SELECT current_setting('DateStyle'), current_setting('TimeZone'), "
	                 "current_setting('extra_float_digits'), current_setting('bytea_output'), "
	                 "current_setting('standard_conforming_strings'), "
	                 "current_setting('client_encoding'), "
	                 "pg_catalog.pg_current_wal_insert_lsn()::text;");
	if (cat->nrels == 0) {
		strbuf_puts(out, "SELECT NULL::oid, false, false WHERE false");
		return;
	}
	/* readable: table-level SELECT, no row-level security, and every live column of the
	 * table in the copy (a publication column list or a generated column would make * differ);
	 * unqualified: the bare name finds this table under the session's search_path */
	strbuf_puts(out,
	            "SELECT v.relid, has_table_privilege(v.relid, 'SELECT') AND NOT "
	            "c.relrowsecurity AND (SELECT count(*) FROM pg_catalog.pg_attribute a WHERE "
	            "a.attrelid = v.relid AND a.attnum > 0 AND NOT a.attisdropped) = v.ncols, "
	            "coalesce(pg_catalog.to_regclass(pg_catalog.quote_ident(c.relname))::oid "
	            "= v.relid, false) FROM (VALUES ");
	for (i = 0; i < cat->nrels; i++)
		strbuf_printf(out, "%s(%" PRIu32 "::oid, %zu)", i ? ", " : "", cat->rels[i].relid,
		              cat->rels[i].ncols);
	strbuf_puts(out, ") v(relid, ncols) JOIN pg_catalog.pg_class c ON c.oid = v.relid");
}

/* The text fields of a DataRow; NULL fields have len -1. */
static int
localread_row(const uint8_t *body, size_t len, const char **val, int32_t *vlen, int max)
{
	struct rbuf rb;
	uint16_t n;
	int i;

	rbuf_init(&rb, body, len);
	if (rbuf_get_u16(&rb, &n) < 0 || n > max)
		return -1;
	for (i = 0; i < n; i++) {
		const uint8_t *p = NULL;

		if (rbuf_get_i32(&rb, &vlen[i]) < 0 ||
		    (vlen[i] >= 0 && rbuf_get_bytes(&rb, (size_t)vlen[i], &p) < 0))
			return -1;
		val[i] = (const char *)p;
	}
	return n;
}

static bool
localread_eq(const char *v, int32_t len, const char *want)
{
	return len >= 0 && (size_t)len == strlen(want) && memcmp(v, want, (size_t)len) == 0;
}

static void
localread_settings(struct localread_session *s, const char **v, const int32_t *len)
{
	static const char *const utc[] = {"UTC",  "Etc/UTC", "GMT",       "Etc/GMT",
	                                  "UCT",  "Etc/UCT", "Universal", "Etc/Universal",
	                                  "Zulu", "Etc/Zulu"};
	char efd[8];
	size_t i;

	s->datestyle_iso = len[0] >= 3 && memcmp(v[0], "ISO", 3) == 0;
	for (i = 0; i < ARRAY_SIZE(utc); i++)
		if (localread_eq(v[1], len[1], utc[i]))
			s->timezone_utc = true;
	snprintf(efd, sizeof(efd), "%.*s", len[2] > 0 && len[2] < 7 ? (int)len[2] : 0, v[2]);
	s->out.extra_float_digits = atoi(efd);
	s->out.bytea_escape = localread_eq(v[3], len[3], "escape");
	/* literals are parsed as standard strings; text is sent as stored, UTF-8 */
	s->usable = (localread_eq(v[3], len[3], "hex") || s->out.bytea_escape) &&
	            localread_eq(v[4], len[4], "on") && localread_eq(v[5], len[5], "UTF8") &&
	            len[2] > 0;
}

int
localread_check_message(struct localread_session *s, uint8_t type, const uint8_t *body, size_t len)
{
	const char *v[LR_MAX_FIELDS];
	int32_t vl[LR_MAX_FIELDS];
	int n;

	switch (type) {
	case 'T':
		s->result_no++;
		break;
	case 'D':
		n = localread_row(body, len, v, vl, LR_MAX_FIELDS);
		if (s->result_no == 1 && n == 7) {
			char lsn[LSN_BUFLEN];

			localread_settings(s, v, vl);
			/* every commit of the session so far ends before it */
			snprintf(lsn, sizeof(lsn), "%.*s",
			         vl[6] > 0 && vl[6] < LSN_BUFLEN ? (int)vl[6] : 0, v[6]);
			if (lsn_parse(lsn, &s->min_lsn) < 0)
				s->failed = true;
		} else if (s->result_no == 2 && n == 3 && vl[0] > 0 && vl[0] < 12 && vl[1] == 1 &&
		           vl[2] == 1) {
			struct localread_rel *r;
			char oid[12];

			s->rels = xrealloc(s->rels, sizeof(*s->rels) * (s->nrels + 1));
			r = &s->rels[s->nrels++];
			snprintf(oid, sizeof(oid), "%.*s", (int)vl[0], v[0]);
			r->relid = (uint32_t)strtoul(oid, NULL, 10);
			r->readable = v[1][0] == 't';
			r->unqualified = v[2][0] == 't';
		} else {
			s->failed = true;
		}
		break;
	case 'E':
		s->failed = true;
		break;
	case 'Z':
		s->valid = !s->failed && s->result_no == 2;
		if (!s->valid)
			s->usable = false;
		return 1;
	default:
		break; /* CommandComplete; NoticeResponse and the like were passed on by the caller
		        */
	}
	return 0;
}

struct localread_resolve {
	const struct localread_session *s;
	const struct localcat *cat;
};

static const struct localread_rel *
localread_rel(const struct localread_session *s, uint32_t relid)
{
	size_t i;

	for (i = 0; i < s->nrels; i++)
		if (s->rels[i].relid == relid)
			return &s->rels[i];
	return NULL;
}

/* Before the check: any copy of the name makes the statement a candidate. */
static const struct localcat_rel *
localread_resolve_candidate(void *arg, const char *schema, const char *name)
{
	const struct localread_resolve *r = arg;
	size_t i;

	if (schema[0])
		return localcat_find(r->cat, schema, name);
	for (i = 0; i < r->cat->nrels; i++)
		if (strcmp(r->cat->rels[i].relname, name) == 0)
			return &r->cat->rels[i];
	return NULL;
}

/* After it: only what the session would read, found the way the session would find it. */
static const struct localcat_rel *
localread_resolve_session(void *arg, const char *schema, const char *name)
{
	const struct localread_resolve *r = arg;
	const struct localcat_rel *rel = NULL;
	const struct localread_rel *lr;
	size_t i;

	if (schema[0]) {
		rel = localcat_find(r->cat, schema, name);
		lr = rel ? localread_rel(r->s, rel->relid) : NULL;
		return lr && lr->readable ? rel : NULL;
	}
	for (i = 0; i < r->cat->nrels; i++) {
		if (strcmp(r->cat->rels[i].relname, name) != 0)
			continue;
		lr = localread_rel(r->s, r->cat->rels[i].relid);
		if (lr && lr->unqualified)
			return lr->readable ? &r->cat->rels[i] : NULL;
	}
	return NULL;
}

/* Whether a column of this type prints locally as the session would print it. */
static bool
localread_type_ok(const struct localread_session *s, uint32_t oid)
{
	switch (oid) {
	case PGV_OID_BOOL:
	case PGV_OID_NAME:
	case PGV_OID_INT8:
	case PGV_OID_INT2:
	case PGV_OID_INT4:
	case PGV_OID_TEXT:
	case PGV_OID_OID:
	case PGV_OID_BYTEA: /* hex or escape */
	case PGV_OID_JSON:
	case PGV_OID_FLOAT4: /* by extra_float_digits */
	case PGV_OID_FLOAT8:
	case PGV_OID_BPCHAR:
	case PGV_OID_VARCHAR:
	case PGV_OID_NUMERIC:
	case PGV_OID_UUID:
	case PGV_OID_JSONB:
		return true;
	case PGV_OID_DATE:
	case PGV_OID_TIMESTAMP:
		return s->datestyle_iso;
	case PGV_OID_TIMESTAMPTZ: /* stored in UTC */
		return s->datestyle_iso && s->timezone_utc;
	default:
		return false;
	}
}

/* A copy of a translation, for the caller to own. */
static void
localread_tr_copy(const struct translate_result *from, struct translate_result *to)
{
	*to = *from;
	strbuf_init(&to->sql);
	strbuf_append(&to->sql, from->sql.data, from->sql.len);
	to->cols = xmalloc(sizeof(*to->cols) * (from->ncols ? from->ncols : 1));
	memcpy(to->cols, from->cols, sizeof(*to->cols) * from->ncols);
}

/* Whether the shape's literal kinds fit where the template binds them: integers where an
 * integer column is compared, strings where a text column is. */
static bool
localread_binds_fit(const struct translate_result *tmpl, const struct sqlshape *shape)
{
	size_t i;

	if ((size_t)tmpl->nparams != shape->nlits)
		return false;
	for (i = 0; i < shape->nlits; i++) {
		uint32_t t = tmpl->param_types[i + 1];
		bool is_int = t == PGV_OID_INT8 || t == PGV_OID_INT2 || t == PGV_OID_INT4 ||
		              t == PGV_OID_OID;
		bool is_text = t == PGV_OID_TEXT || t == PGV_OID_VARCHAR || t == PGV_OID_NAME;

		if (shape->lits[i].kind == SQLSHAPE_INT ? !is_int : !is_text)
			return false;
	}
	return true;
}

static bool
localread_output_ok(const struct localread_session *s, const struct translate_result *tr)
{
	size_t i;

	for (i = 0; i < tr->ncols; i++)
		if (!localread_type_ok(s, tr->cols[i].type_oid))
			return false;
	return true;
}

/* Moves the shape's literals into binds. */
static void
localread_take_binds(struct sqlshape *shape, struct localread_binds *binds)
{
	size_t i;

	binds->n = shape->nlits;
	for (i = 0; i < shape->nlits; i++) {
		binds->v[i] = shape->lits[i];
		shape->lits[i].s = NULL;
	}
}

enum localread_plan
localread_plan(struct localread_session *s, const struct localcat *cat, const char *sql,
               struct translate_result *tr, struct localread_binds *binds,
               struct pgv_out_settings *settings)
{
	struct localread_resolve r = {s, cat};
	struct localread_entry *e, *victim;
	struct translate_result tmpl;
	struct sqlshape shape;
	bool have_shape;
	size_t i;

	binds->n = 0;
	if (!s->valid) {
		bool candidate = translate_select(sql, localread_resolve_candidate, &r, tr);

		if (!candidate)
			log_debug("read upstream: %s", tr->reason);
		translate_result_free(tr);
		return candidate ? LOCALREAD_CHECK : LOCALREAD_UPSTREAM;
	}
	if (!s->usable) {
		log_debug("read upstream: the session's settings differ from the copy's");
		return LOCALREAD_UPSTREAM;
	}
	have_shape = sqlshape_parse(sql, &shape) == 0;
	if (have_shape && s->cache) {
		for (i = 0; i < LOCALREAD_CACHE; i++) {
			e = &s->cache[i];
			if (e->key && strcmp(e->key, strbuf_str(&shape.key)) == 0 &&
			    localread_binds_fit(&e->tr, &shape)) {
				e->last_use = ++s->uses;
				localread_tr_copy(&e->tr, tr);
				localread_take_binds(&shape, binds);
				sqlshape_free(&shape);
				*settings = s->out;
				return LOCALREAD_LOCAL;
			}
		}
	}
	/* the statement itself decides; its shape only says how to remember the decision */
	if (!translate_select(sql, localread_resolve_session, &r, tr) || tr->nparams > 0 ||
	    !localread_output_ok(s, tr)) {
		log_debug("read upstream: %s", tr->reason[0] ? tr->reason : "parameters or types");
		translate_result_free(tr);
		if (have_shape)
			sqlshape_free(&shape);
		return LOCALREAD_UPSTREAM;
	}
	*settings = s->out;
	if (!have_shape)
		return LOCALREAD_LOCAL;
	if (translate_select(strbuf_str(&shape.key), localread_resolve_session, &r, &tmpl) &&
	    localread_binds_fit(&tmpl, &shape) && localread_output_ok(s, &tmpl)) {
		if (s->cache == NULL)
			s->cache = xcalloc(LOCALREAD_CACHE, sizeof(*s->cache));
		victim = &s->cache[0];
		for (i = 1; i < LOCALREAD_CACHE; i++)
			if (s->cache[i].last_use < victim->last_use)
				victim = &s->cache[i];
		if (victim->key) {
			free(victim->key);
			translate_result_free(&victim->tr);
		}
		victim->key = xstrdup(strbuf_str(&shape.key));
		victim->tr = tmpl;
		victim->last_use = ++s->uses;
		/* run the template too: one way for the first statement and the next */
		translate_result_free(tr);
		localread_tr_copy(&victim->tr, tr);
		localread_take_binds(&shape, binds);
	} else {
		translate_result_free(&tmpl);
	}
	sqlshape_free(&shape);
	return LOCALREAD_LOCAL;
}
