/* SPDX-License-Identifier: MIT */
/* Per-session decision for local reads (see localread.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "localread.h"
#include "pgfunc.h"
#include "log.h"
#include "rbuf.h"

#define LR_MAX_FIELDS LOCALREAD_CHECK_SETTINGS

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

static void
localread_stmts_clear(struct localread_session *s)
{
	size_t i;

	for (i = 0; i < s->nstmts; i++) {
		free(s->stmts[i].name);
		free(s->stmts[i].sql);
		free(s->stmts[i].types);
		free(s->stmts[i].result_types);
	}
	free(s->stmts);
	s->stmts = NULL;
	s->nstmts = 0;
	for (i = 0; i < s->ndesc; i++)
		free(s->desc_names[i]);
	free(s->desc_names);
	s->desc_names = NULL;
	s->ndesc = 0;
}

void
localread_session_reset(struct localread_session *s)
{
	localread_cache_clear(s);
	localread_stmts_clear(s);
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
	                 "pg_catalog.pg_current_wal_insert_lsn()::text, "
	                 "current_setting('statement_timeout'), "
	                 "current_setting('default_transaction_read_only'), "
	                 "current_setting('default_transaction_isolation'), "
	                 "(SELECT pg_catalog.row_to_json(d)::text FROM pg_catalog.pg_database d "
	                 "WHERE d.datname = pg_catalog.current_database());");
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

/* The check's third statement: what the named statements of s->desc_names are upstream. */
static void
localread_check_sql_stmts(const struct localread_session *s, struct strbuf *out)
{
	size_t i;

	strbuf_puts(out,
	            ";SELECT name, statement, parameter_types::pg_catalog.oid[]::pg_catalog.text "
	            "FROM pg_catalog.pg_prepared_statements WHERE NOT from_sql AND "
	            "length(statement) <= ");
	strbuf_printf(out, "%d AND name IN (", LOCALREAD_STMT_MAX);
	for (i = 0; i < s->ndesc; i++) {
		/* an E'' literal reads the same whatever standard_conforming_strings says */
		strbuf_puts(out, i ? ", E" : "E");
		strbuf_quote_literal(out, s->desc_names[i]);
	}
	strbuf_puts(out, s->ndesc ? ")" : "NULL)");
}

void
localread_check_start(struct localread_session *s, struct localread_names *names,
                      const struct localcat *cat, uint64_t epoch, const struct strbuf *check_sql,
                      struct strbuf *out)
{
	struct strbuf sql;
	size_t i, start;

	localread_session_reset(s);
	for (i = 0; names && i < LOCALREAD_NAMES; i++) {
		if (names->name[i] == NULL ||
		    !localread_names_candidate(names, names->name[i], cat, epoch))
			continue;
		if (s->desc_names == NULL)
			s->desc_names = xmalloc(sizeof(*s->desc_names) * LOCALREAD_NAMES);
		s->desc_names[s->ndesc++] = xstrdup(names->name[i]);
	}
	strbuf_init(&sql);
	strbuf_append(&sql, check_sql->data, check_sql->len);
	localread_check_sql_stmts(s, &sql);
	pgw_put_query(out, strbuf_str(&sql));
	strbuf_free(&sql);
	/* each with its Sync: a statement the upstream does not have fails alone */
	for (i = 0; i < s->ndesc; i++) {
		start = out->len;
		strbuf_putc(out, 'D');
		strbuf_append(out, "\0\0\0\0", 4);
		strbuf_putc(out, 'S');
		strbuf_append(out, s->desc_names[i], strlen(s->desc_names[i]) + 1);
		be_put_u32((uint8_t *)out->data + start + 1, (uint32_t)(out->len - start - 1));
		strbuf_append(out, "S\0\0\0\4", 5);
	}
}

/* The column types of a RowDescription, for the statement at hand. */
static void
localread_described(struct localread_session *s, const uint8_t *body, size_t len)
{
	struct localread_stmt *st = NULL;
	const char *name;
	const uint8_t *skipped;
	struct rbuf rb;
	uint16_t n, i;
	int32_t skip;
	uint32_t type;
	size_t k;

	for (k = 0; k < s->nstmts && st == NULL; k++)
		if (strcmp(s->stmts[k].name, s->desc_names[s->desc_done]) == 0)
			st = &s->stmts[k];
	if (st == NULL || st->described)
		return;
	rbuf_init(&rb, body, len);
	if (rbuf_get_u16(&rb, &n) < 0)
		return;
	free(st->result_types);
	st->result_types = xmalloc(sizeof(*st->result_types) * (n ? n : 1));
	for (i = 0; i < n; i++) {
		if (rbuf_get_cstring(&rb, &name) < 0 || rbuf_get_i32(&rb, &skip) < 0 ||
		    rbuf_get_bytes(&rb, 2, &skipped) < 0 || rbuf_get_u32(&rb, &type) < 0 ||
		    rbuf_get_bytes(&rb, 8, &skipped) < 0)
			return;
		st->result_types[i] = type;
	}
	st->nresults = n;
	st->described = true;
}

static int
localread_names_find(const struct localread_names *names, const char *name)
{
	int i;

	for (i = 0; names && i < LOCALREAD_NAMES; i++)
		if (names->name[i] && strcmp(names->name[i], name) == 0)
			return i;
	return -1;
}

static void
localread_names_clear(struct localread_names *names, int i)
{
	free(names->name[i]);
	free(names->sql[i]);
	names->name[i] = NULL;
	names->sql[i] = NULL;
	names->kind[i] = LOCALREAD_KIND_OTHER;
	names->epoch[i] = 0;
}

static const char *localread_skip_blanks(const char *p);
static bool localread_word(const char *p, const char *word);

bool
localread_starts_with(const char *sql, const char *word)
{
	return (sql = localread_skip_blanks(sql)) != NULL && localread_word(sql, word);
}

bool
localread_is_select(const char *sql)
{
	while ((sql = localread_skip_blanks(sql)) != NULL && *sql == '(')
		sql++;
	return sql != NULL && strncasecmp(sql, "select", 6) == 0;
}

/* Skips PostgreSQL's white space. */
static const char *
localread_skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
		p++;
	return p;
}

/* Whether p begins with word (any case) followed by no identifier character. */
static bool
localread_word(const char *p, const char *word)
{
	size_t n = strlen(word);
	char c;

	if (strncasecmp(p, word, n) != 0)
		return false;
	c = p[n];
	return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	         c == '_' || c == '$' || (unsigned char)c >= 0x80);
}

/* Skips blanks and comments (block comments nest, as in PostgreSQL); NULL at an unterminated
 * comment. */
static const char *
localread_skip_blanks(const char *p)
{
	int depth;

	for (;;) {
		p = localread_skip_spaces(p);
		if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n' && *p != '\r') /* as PostgreSQL's lexer */
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (depth = 1, p += 2; depth > 0; p++) {
				if (*p == '\0')
					return NULL;
				if (p[0] == '/' && p[1] == '*')
					depth++, p++;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p++;
			}
		} else {
			return p;
		}
	}
}

enum localread_kind
localread_kind(const char *sql, bool simple)
{
	static const struct {
		const char *word;
		enum localread_kind kind;
	} words[] = {
	        {"select", LOCALREAD_KIND_STMT}, {"insert", LOCALREAD_KIND_STMT},
	        {"update", LOCALREAD_KIND_STMT}, {"delete", LOCALREAD_KIND_STMT},
	        {"merge", LOCALREAD_KIND_STMT},  {"with", LOCALREAD_KIND_STMT},
	        {"values", LOCALREAD_KIND_STMT}, {"table", LOCALREAD_KIND_STMT},
	        {"call", LOCALREAD_KIND_STMT},   {"commit", LOCALREAD_KIND_END},
	        {"end", LOCALREAD_KIND_END},     {"rollback", LOCALREAD_KIND_END},
	        {"abort", LOCALREAD_KIND_END},
	};
	const char *p = sql, *w, *semi;
	size_t i, len;

	while ((p = localread_skip_blanks(p)) != NULL && *p == '(')
		p++;
	if (p == NULL)
		return LOCALREAD_KIND_OTHER;
	for (w = p; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'); p++)
		;
	len = (size_t)(p - w);
	/* a keyword ends at anything but an identifier's characters */
	if ((*p >= '0' && *p <= '9') || *p == '_' || *p == '$' || (unsigned char)*p >= 0x80)
		return LOCALREAD_KIND_OTHER;
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strlen(words[i].word) == len && strncasecmp(w, words[i].word, len) == 0)
			break;
	if (i == ARRAY_SIZE(words))
		return LOCALREAD_KIND_OTHER;
	if (words[i].kind == LOCALREAD_KIND_END) {
		/* only the plain forms end a block: not ROLLBACK TO, AND CHAIN, PREPARED */
		p = localread_skip_spaces(p);
		if (localread_word(p, "transaction"))
			p = localread_skip_spaces(p + strlen("transaction"));
		else if (localread_word(p, "work"))
			p = localread_skip_spaces(p + strlen("work"));
		if (*p == ';')
			p = localread_skip_spaces(p + 1);
		return *p == '\0' ? LOCALREAD_KIND_END : LOCALREAD_KIND_OTHER;
	}
	if (simple) {
		/* one statement: a ';' anywhere but at the end, in a literal too, makes it OTHER
		 * (which only costs it the early check); nothing but white space after it */
		semi = strchr(p, ';');
		if (semi != NULL && *localread_skip_spaces(semi + 1) != '\0')
			return LOCALREAD_KIND_OTHER;
	}
	return words[i].kind;
}

bool
localread_stateless(const char *sql)
{
	static const char *const words[] = {
	        "begin",   "start",  "savepoint", "release",  "rollback",
	        "commit",  "end",    "abort",     "show",     "copy",
	        "explain", "vacuum", "analyze",   "truncate", "checkpoint",
	};
	/* functions that leave state in the session when called from a plain statement */
	static const char *const calls[] = {"set_config", "pg_advisory", "nextval",
	                                    "setval",     "lo_open",     "dblink"};
	const char *p, *semi;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(calls); i++)
		if (strcasestr(sql, calls[i]) != NULL)
			return false;
	if ((p = localread_skip_blanks(sql)) == NULL)
		return false;
	if (localread_word(p, "call"))
		return false; /* a procedure may do anything, SET included */
	if (localread_kind(sql, true) != LOCALREAD_KIND_OTHER)
		/* SELECT ... INTO makes a table, a temporary one perhaps */
		return !(localread_word(p, "select") && strcasestr(p, "into") != NULL);
	semi = strchr(p, ';');
	if (semi != NULL && *localread_skip_spaces(semi + 1) != '\0')
		return false; /* several statements: any of them may be a SET */
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (localread_word(p, words[i]))
			return true;
	return false;
}

void
localread_names_add(struct localread_names **names, const char *name, const char *sql)
{
	struct localread_names *n = *names;
	enum localread_kind kind;
	const char *c;
	int i;

	localread_names_remove(n, name);
	/* plain names only: they are spelled into the check query */
	for (c = name; *c; c++)
		if (*c < 0x20 || *c > 0x7e || *c == '\\')
			return;
	kind = localread_kind(sql, false);
	if (name[0] == '\0' || c - name > 63 || strlen(sql) > LOCALREAD_STMT_MAX ||
	    kind == LOCALREAD_KIND_OTHER)
		return;
	if (n == NULL)
		n = *names = xcalloc(1, sizeof(*n));
	for (i = 0; i < LOCALREAD_NAMES && n->name[i]; i++)
		;
	if (i == LOCALREAD_NAMES) {
		i = (int)(n->next++ % LOCALREAD_NAMES);
		localread_names_clear(n, i);
	}
	n->name[i] = xstrdup(name);
	n->sql[i] = localread_is_select(sql) ? xstrdup(sql) : NULL;
	n->kind[i] = (uint8_t)kind;
}

bool
localread_names_select(const struct localread_names *names, const char *name)
{
	int i = localread_names_find(names, name);

	return i >= 0 && names->sql[i] != NULL;
}

enum localread_kind
localread_names_kind(const struct localread_names *names, const char *name)
{
	int i = localread_names_find(names, name);

	return i < 0 ? LOCALREAD_KIND_OTHER : (enum localread_kind)names->kind[i];
}

void
localread_names_remove(struct localread_names *names, const char *name)
{
	int i = localread_names_find(names, name);

	if (i >= 0)
		localread_names_clear(names, i);
}

bool
localread_names_has(const struct localread_names *names, const char *name)
{
	return localread_names_find(names, name) >= 0;
}

void
localread_names_free(struct localread_names *names)
{
	size_t i;

	for (i = 0; names && i < LOCALREAD_NAMES; i++)
		localread_names_clear(names, (int)i);
	free(names);
}

const struct localread_stmt *
localread_stmt(const struct localread_session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nstmts; i++)
		if (strcmp(s->stmts[i].name, name) == 0)
			return &s->stmts[i];
	return NULL;
}

/* "{23,25}" (an oid[] as text) -> types; false when it is something else. */
static bool
localread_oid_array(const char *v, int32_t len, uint32_t **types, size_t *n)
{
	const char *p, *end;
	char num[12];
	size_t k;

	*types = NULL;
	*n = 0;
	if (len < 2 || v[0] != '{' || v[len - 1] != '}')
		return false;
	p = v + 1;
	end = v + len - 1;
	*types = xmalloc(sizeof(**types) * ((size_t)len / 2 + 1));
	while (p < end) {
		for (k = 0; p + k < end && p[k] != ',' && k < sizeof(num) - 1; k++)
			num[k] = p[k];
		num[k] = '\0';
		if (k == 0 || strspn(num, "0123456789") != k || (p + k < end && p[k] != ',')) {
			free(*types);
			*types = NULL;
			*n = 0;
			return false;
		}
		(*types)[(*n)++] = (uint32_t)strtoul(num, NULL, 10);
		p += k + (p + k < end);
	}
	return true;
}

/* A row of the check's third result: name, statement, "{23,25}". */
static void
localread_add_stmt(struct localread_session *s, const char *const *v, const int32_t *len)
{
	struct localread_stmt st = {0};

	if (len[0] <= 0 || len[1] <= 0 || !localread_oid_array(v[2], len[2], &st.types, &st.ntypes))
		return;
	st.name = xstrndup(v[0], (size_t)len[0]);
	st.sql = xstrndup(v[1], (size_t)len[1]);
	s->stmts = xrealloc(s->stmts, sizeof(*s->stmts) * (s->nstmts + 1));
	s->stmts[s->nstmts++] = st;
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

/* The string value of key in the flat JSON object row_to_json() made of a pg_database row
 * (its other values may be arrays or numbers), into buf; false when absent or not a string. */
static bool
localread_json_field(const char *v, int32_t len, const char *key, char *buf, size_t size)
{
	char pat[40];
	const char *p, *end = v + (len > 0 ? len : 0);
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if (len <= 0 || (p = memmem(v, (size_t)len, pat, strlen(pat))) == NULL)
		return false;
	for (p += strlen(pat); p < end && *p != '"'; p++) {
		if (*p == '\\' || n + 1 >= size)
			return false; /* locale names have no escapes; too long: not ours */
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return p < end;
}

/* Which collation orders text as the database's default does here: byte order for C (and
 * C.UTF-8: code point order is byte order in UTF-8), the ICU collator of the locale when the
 * local ICU gives it the version the database recorded; else none. */
static void
localread_collation(struct localread_session *s, const char *v, int32_t len)
{
	char provider[4] = "c", locale[64], version[64], ours[64], ctype[64];

	s->collation[0] = s->case_locale[0] = '\0';
	/* lower() of a libc database folds with LC_CTYPE: ASCII as ASCII, but for Turkic ones */
	s->ascii_fold = localread_json_field(v, len, "datctype", ctype, sizeof(ctype)) &&
	                strncmp(ctype, "tr", 2) != 0 && strncmp(ctype, "az", 2) != 0;
	localread_json_field(v, len, "datlocprovider", provider, sizeof(provider));
	if (strcmp(provider, "i") == 0) {
		if (!localread_json_field(v, len, "daticulocale", locale, sizeof(locale)) ||
		    !localread_json_field(v, len, "datcollversion", version, sizeof(version)) ||
		    pgfunc_icu_version(locale, ours, sizeof(ours)) < 0 ||
		    strcmp(ours, version) != 0)
			return;
		pgfunc_icu_collation(locale, s->collation, sizeof(s->collation));
		snprintf(s->case_locale, sizeof(s->case_locale), "%s", locale);
		return;
	}
	if (strcmp(provider, "c") == 0 &&
	    localread_json_field(v, len, "datcollate", locale, sizeof(locale)) &&
	    (strcmp(locale, "C") == 0 || strcmp(locale, "POSIX") == 0 ||
	     strcmp(locale, "C.UTF-8") == 0 || strcmp(locale, "C.utf8") == 0))
		snprintf(s->collation, sizeof(s->collation), "BINARY");
}

/* statement_timeout as current_setting() shows it: "0", "250ms", "2s", "5min", "1h", "1d". */
static int
localread_timeout_ms(const char *v, int32_t len, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
	int64_t n = 0;
	int32_t i;
	size_t u;

	for (i = 0; i < len && v[i] >= '0' && v[i] <= '9' && n < INT64_MAX / 100; i++)
		n = n * 10 + (v[i] - '0');
	if (i == 0)
		return -1;
	if (i == len) {
		*out = n; /* a bare number is milliseconds */
		return 0;
	}
	for (u = 0; u < ARRAY_SIZE(units); u++) {
		if ((size_t)(len - i) == strlen(units[u].unit) &&
		    memcmp(v + i, units[u].unit, (size_t)(len - i)) == 0) {
			*out = n * units[u].ms;
			return 0;
		}
	}
	return -1;
}

int
localread_check_message(struct localread_session *s, uint8_t type, const uint8_t *body, size_t len)
{
	const char *v[LR_MAX_FIELDS];
	int32_t vl[LR_MAX_FIELDS];
	int n;

	if (s->query_done) {
		/* the Describes' answers: ParameterDescription, RowDescription or NoData, or an
		 * error, then ReadyForQuery, for each */
		if (type == 'T' && s->desc_done < s->ndesc)
			localread_described(s, body, len);
		else if (type == 'Z' && ++s->desc_done >= s->ndesc)
			return 1;
		return 0;
	}
	switch (type) {
	case 'T':
		s->result_no++;
		break;
	case 'D':
		n = localread_row(body, len, v, vl, LR_MAX_FIELDS);
		if (s->result_no == 1 && n == LOCALREAD_CHECK_SETTINGS) {
			char lsn[LSN_BUFLEN];

			localread_settings(s, v, vl);
			if (localread_timeout_ms(v[7], vl[7], &s->statement_timeout_ms) < 0)
				s->failed = true;
			s->default_read_only = localread_eq(v[8], vl[8], "on");
			if (localread_eq(v[9], vl[9], "repeatable read"))
				s->default_isolation = TRANSLATE_ISO_REPEATABLE_READ;
			else if (localread_eq(v[9], vl[9], "serializable"))
				s->default_isolation = TRANSLATE_ISO_SERIALIZABLE;
			else if (localread_eq(v[9], vl[9], "read committed") ||
			         localread_eq(v[9], vl[9], "read uncommitted"))
				s->default_isolation = TRANSLATE_ISO_READ_COMMITTED;
			else
				s->failed = true;
			/* every commit of the session so far ends before it */
			snprintf(lsn, sizeof(lsn), "%.*s",
			         vl[6] > 0 && vl[6] < LSN_BUFLEN ? (int)vl[6] : 0, v[6]);
			if (lsn_parse(lsn, &s->min_lsn) < 0)
				s->failed = true;
			localread_collation(s, v[10], vl[10]);
		} else if (s->result_no == 3 && n == 3) {
			localread_add_stmt(s, v, vl);
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
		s->valid = !s->failed && s->result_no == 3;
		if (!s->valid)
			s->usable = false;
		s->query_done = true;
		return s->ndesc == 0;
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

/* Translates sql for the session (candidate: before its check, with what any session could
 * have: a statement that may be local with the right settings is worth the check). */
static bool
localread_translate(const struct localread_resolve *r, bool candidate, const char *sql,
                    struct translate_result *tr)
{
	const struct localread_session *s = r->s;
	struct translate_env env = {
	        .resolve = candidate ? localread_resolve_candidate : localread_resolve_session,
	        .arg = (void *)r,
	        .collation = candidate         ? "BINARY"
	                     : s->collation[0] ? s->collation
	                                       : NULL,
	        .case_locale = candidate || !s->case_locale[0] ? NULL : s->case_locale,
	        .ascii_fold = candidate || s->ascii_fold,
	        .utc = candidate || s->timezone_utc,
	};

	return translate_select_env(sql, &env, tr);
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
	case PGV_OID_INT2ARRAY: /* arrays of these print alike whatever the settings */
	case PGV_OID_INT4ARRAY:
	case PGV_OID_INT8ARRAY:
	case PGV_OID_TEXTARRAY:
	case PGV_OID_VARCHARARRAY:
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
/* Whether the shape's literals fit the template's parameters, each read as the type it is
 * compared with is read upstream: the literals are converted to their stored forms in place.
 * An integer literal may stand for an integer or a numeric; a string literal for any type
 * translate_input() reads. */
static bool
localread_binds_fit(const struct translate_result *tmpl, struct sqlshape *shape)
{
	size_t i;

	if ((size_t)tmpl->nparams != shape->nlits)
		return false;
	for (i = 0; i < shape->nlits; i++) {
		struct sqlshape_lit *lit = &shape->lits[i], v;
		uint32_t t = tmpl->param_types[i + 1];
		char digits[24];

		if (lit->kind == SQLSHAPE_INT) {
			if (t == PGV_OID_INT8 || t == PGV_OID_INT2 || t == PGV_OID_INT4 ||
			    t == PGV_OID_OID)
				continue;
			if (t != PGV_OID_NUMERIC)
				return false;
			snprintf(digits, sizeof(digits), "%" PRId64, lit->i);
			lit->kind = SQLSHAPE_STR;
			lit->s = xstrdup(digits);
			continue;
		}
		if (lit->kind != SQLSHAPE_STR || translate_input(t, lit->s, strlen(lit->s), &v) < 0)
			return false;
		free(lit->s);
		*lit = v;
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

/* A statement that names LOCALREAD_FORCE_UPSTREAM (in a comment, say) is the upstream's. */
static bool
localread_forced_upstream(const char *sql)
{
	return strstr(sql, LOCALREAD_FORCE_UPSTREAM) != NULL;
}

static struct localread_entry *
localread_cache_find(struct localread_session *s, const char *key)
{
	size_t i;

	for (i = 0; s->cache && i < LOCALREAD_CACHE; i++) {
		if (s->cache[i].key && strcmp(s->cache[i].key, key) == 0) {
			s->cache[i].last_use = ++s->uses;
			return &s->cache[i];
		}
	}
	return NULL;
}

/* Remembers the translation of key (moved in), in place of the least recently used. */
static struct localread_entry *
localread_cache_put(struct localread_session *s, const char *key, struct translate_result *tr)
{
	struct localread_entry *victim;
	size_t i;

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
	victim->key = xstrdup(key);
	victim->tr = *tr;
	victim->last_use = ++s->uses;
	return victim;
}

enum localread_plan
localread_plan(struct localread_session *s, const struct localcat *cat, const char *sql,
               struct translate_result *tr, struct localread_binds *binds,
               struct pgv_out_settings *settings)
{
	struct localread_resolve r = {s, cat};
	struct localread_entry *e;
	struct translate_result tmpl;
	struct sqlshape shape;
	bool have_shape;

	binds->n = 0;
	if (localread_forced_upstream(sql))
		return LOCALREAD_UPSTREAM;
	if (!s->valid) {
		bool candidate = localread_translate(&r, true, sql, tr);

		if (!candidate)
			log_debug("read upstream: %s: %.200s", tr->reason, sql);
		translate_result_free(tr);
		return candidate ? LOCALREAD_CHECK : LOCALREAD_UPSTREAM;
	}
	if (!s->usable) {
		log_debug("read upstream: the session's settings differ from the copy's");
		return LOCALREAD_UPSTREAM;
	}
	have_shape = sqlshape_parse(sql, &shape) == 0;
	if (have_shape && (e = localread_cache_find(s, strbuf_str(&shape.key))) != NULL &&
	    localread_binds_fit(&e->tr, &shape)) {
		localread_tr_copy(&e->tr, tr);
		localread_take_binds(&shape, binds);
		sqlshape_free(&shape);
		*settings = s->out;
		return LOCALREAD_LOCAL;
	}
	/* the statement itself decides; its shape only says how to remember the decision */
	if (!localread_translate(&r, false, sql, tr) || tr->nparams > 0 ||
	    !localread_output_ok(s, tr)) {
		log_debug("read upstream: %s: %.200s",
		          tr->reason[0] ? tr->reason : "types printed differently", sql);
		translate_result_free(tr);
		if (have_shape)
			sqlshape_free(&shape);
		return LOCALREAD_UPSTREAM;
	}
	*settings = s->out;
	if (!have_shape)
		return LOCALREAD_LOCAL;
	if (localread_translate(&r, false, strbuf_str(&shape.key), &tmpl) &&
	    localread_binds_fit(&tmpl, &shape) && localread_output_ok(s, &tmpl)) {
		e = localread_cache_put(s, strbuf_str(&shape.key), &tmpl);
		/* run the template too: one way for the first statement and the next */
		translate_result_free(tr);
		localread_tr_copy(&e->tr, tr);
		localread_take_binds(&shape, binds);
	} else {
		translate_result_free(&tmpl);
	}
	sqlshape_free(&shape);
	return LOCALREAD_LOCAL;
}

enum localread_plan
localread_plan_statement(struct localread_session *s, const struct localcat *cat, const char *sql,
                         struct translate_result *tr, struct pgv_out_settings *settings)
{
	struct localread_resolve r = {s, cat};
	struct localread_entry *e;
	struct translate_result tmpl;

	if (localread_forced_upstream(sql))
		return LOCALREAD_UPSTREAM;
	if (!s->valid) {
		bool candidate = localread_translate(&r, true, sql, tr);

		translate_result_free(tr);
		return candidate ? LOCALREAD_CHECK : LOCALREAD_UPSTREAM;
	}
	if (!s->usable)
		return LOCALREAD_UPSTREAM;
	/* the text with its $N translates as a simple query's shape does: one cache for both */
	e = localread_cache_find(s, sql);
	if (e == NULL) {
		if (!localread_translate(&r, false, sql, &tmpl) || !localread_output_ok(s, &tmpl)) {
			log_debug("read upstream: %s: %.200s",
			          tmpl.reason[0] ? tmpl.reason : "types printed differently", sql);
			translate_result_free(&tmpl);
			return LOCALREAD_UPSTREAM;
		}
		e = localread_cache_put(s, sql, &tmpl);
	}
	localread_tr_copy(&e->tr, tr);
	*settings = s->out;
	return LOCALREAD_LOCAL;
}

static bool
localread_all_digits(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return len > 0;
}

static int64_t
localread_be_int(const uint8_t *p, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++)
		v = v << 8 | p[i];
	if (len < 8 && (p[0] & 0x80))
		v |= ~UINT64_C(0) << (len * 8); /* sign extension */
	return (int64_t)v;
}

/* One parameter of type type (declared, or inferred as the compared column's) in format fmt. */
static int
localread_bind_one(uint32_t col_type, uint32_t type, bool limit, int fmt,
                   const struct pgw_bind_param *prm, struct sqlshape_lit *out)
{
	const uint8_t *d = prm->data;
	size_t len = (size_t)prm->len;
	int64_t v;
	size_t width;

	out->s = NULL;
	if (prm->len < 0) {
		out->kind = SQLSHAPE_NULL; /* a comparison with NULL: no row, as upstream */
		return limit ? -1 : 0;     /* LIMIT NULL is LIMIT ALL there */
	}
	switch (col_type) {
	case PGV_OID_INT2:
	case PGV_OID_INT4:
	case PGV_OID_INT8:
		switch (type ? type : col_type) {
		case PGV_OID_INT2:
			width = 2;
			break;
		case PGV_OID_INT4:
			width = 4;
			break;
		case PGV_OID_INT8:
			width = 8;
			break;
		default:
			return -1;
		}
		if (fmt == PGW_FORMAT_BINARY) {
			if (len != width)
				return -1;
			v = localread_be_int(d, len);
		} else if (translate_parse_int((const char *)d, len, type ? type : col_type, &v) <
		           0) {
			return -1;
		}
		if (limit && v < 0)
			return -1; /* an error upstream */
		break;
	case PGV_OID_OID:
		if (type != 0 && type != PGV_OID_OID)
			return -1;
		if (fmt == PGW_FORMAT_BINARY) {
			if (len != 4)
				return -1;
			v = localread_be_int(d, len) & INT64_C(0xffffffff);
		} else if (!localread_all_digits(d, len) ||
		           translate_parse_int((const char *)d, len, PGV_OID_OID, &v) < 0) {
			return -1; /* oidin takes more forms than these (signs, blanks) */
		}
		break;
	case PGV_OID_BOOL:
		if (type != 0 && type != PGV_OID_BOOL)
			return -1;
		if (fmt == PGW_FORMAT_BINARY) {
			if (len != 1)
				return -1;
			v = d[0] != 0;
		} else if ((len == 1 && (d[0] == 't' || d[0] == '1')) ||
		           (len == 4 && memcmp(d, "true", 4) == 0)) {
			v = 1;
		} else if ((len == 1 && (d[0] == 'f' || d[0] == '0')) ||
		           (len == 5 && memcmp(d, "false", 5) == 0)) {
			v = 0;
		} else {
			return -1; /* boolin's other spellings: upstream */
		}
		break;
	case PGV_OID_TEXT:
	case PGV_OID_VARCHAR:
	case PGV_OID_NAME:
		if (col_type == PGV_OID_NAME
		            ? type != 0 && type != PGV_OID_NAME
		            : type != 0 && type != PGV_OID_TEXT && type != PGV_OID_VARCHAR)
			return -1;
		/* the same bytes in both formats; a name longer than 63 bytes is cut upstream */
		if (!utf8_is_valid(d, len) || (col_type == PGV_OID_NAME && len > 63))
			return -1;
		out->kind = SQLSHAPE_STR;
		out->s = xstrndup((const char *)d, len);
		return 0;
	default:
		/* the others in text format only, declared as compared or not at all (an integer
		 * for a numeric is read as numeric_in would read its text) */
		if (fmt == PGW_FORMAT_BINARY ||
		    (type != 0 && type != col_type &&
		     !(col_type == PGV_OID_NUMERIC &&
		       (type == PGV_OID_INT2 || type == PGV_OID_INT4 || type == PGV_OID_INT8))))
			return -1;
		return translate_input(col_type, (const char *)d, len, out);
	}
	/* the integer kinds */
	out->kind = SQLSHAPE_INT;
	out->i = v;
	return 0;
}

static bool
localread_is_int(uint32_t t)
{
	return t == PGV_OID_INT2 || t == PGV_OID_INT4 || t == PGV_OID_INT8;
}

/* Types whose values compare alike once read (integers of any width, an integer for a
 * numeric, the string types). */
static bool
localread_same_family(uint32_t declared, uint32_t want)
{
	if (localread_is_int(declared))
		return localread_is_int(want) || want == PGV_OID_NUMERIC;
	if (declared == PGV_OID_TEXT || declared == PGV_OID_VARCHAR)
		return want == PGV_OID_TEXT || want == PGV_OID_VARCHAR || want == PGV_OID_BPCHAR;
	return false;
}

int
localread_bind_params(const struct translate_result *tr, const uint32_t *types, size_t ntypes,
                      const struct pgw_bind *bind, struct localread_binds *out)
{
	uint16_t i;

	out->n = 0;
	if (bind->nparams != tr->nparams || ntypes > (size_t)tr->nparams ||
	    tr->nparams > SQLSHAPE_MAX_LITS)
		return -1;
	for (i = 0; i < bind->nparams; i++) {
		bool limit = (tr->param_limit >> i) & 1;
		uint32_t declared = i < ntypes ? types[i] : 0, want = tr->param_types[i + 1];

		/* a type declared in Parse other than the one the translation gave the parameter
		 * types the statement differently upstream, unless the parameter is only compared
		 * and the two are of one family */
		if (declared != 0 && declared != want &&
		    !(((tr->param_compared >> i) & 1) && localread_same_family(declared, want))) {
			localread_binds_free(out);
			return -1;
		}

		if (localread_bind_one(tr->param_types[i + 1], i < ntypes ? types[i] : 0, limit,
		                       pgw_bind_param_format(bind, i), &bind->params[i],
		                       &out->v[i]) < 0) {
			localread_binds_free(out);
			return -1;
		}
		out->n = i + 1u;
	}
	return 0;
}

bool
localread_names_candidate(struct localread_names *names, const char *name,
                          const struct localcat *cat, uint64_t epoch)
{
	struct localread_session none = {0};
	struct localread_resolve r = {&none, cat};
	struct translate_result tr;
	int i = localread_names_find(names, name);

	if (i < 0 || names->sql[i] == NULL)
		return false;
	if (names->epoch[i] != epoch) {
		names->candidate[i] = localread_translate(&r, true, names->sql[i], &tr);
		translate_result_free(&tr);
		names->epoch[i] = epoch;
	}
	return names->candidate[i];
}
