/* SPDX-License-Identifier: MIT */
/* Query shapes for the local-read cache (see sqlshape.h). */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sqlshape.h"

#define SQLSHAPE_OP_CHARS "+-*/<>=~!@#%^&|`?"

static bool
sqlshape_ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool
sqlshape_ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static bool
sqlshape_is_comparison(const char *op, size_t len)
{
	static const char *const ops[] = {"=", "<>", "!=", "<", ">", "<=", ">="};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strlen(ops[i]) == len && memcmp(op, ops[i], len) == 0)
			return true;
	return false;
}

int
sqlshape_parse(const char *sql, struct sqlshape *out)
{
	const char *p = sql, *op = NULL;
	size_t oplen = 0;
	bool after_comparison, after_string = false;

	memset(out, 0, sizeof(*out));
	strbuf_init(&out->key);
	while (*p) {
		unsigned char c = (unsigned char)*p;

		if (isspace(c)) {
			strbuf_putc(&out->key, *p++);
			continue;
		}
		after_comparison = op != NULL && sqlshape_is_comparison(op, oplen);
		op = NULL;
		if (c == '\'' && after_string)
			goto fail; /* 'a'<newline>'b' is one string to PostgreSQL */
		after_string = c == '\'';
		if (c == '\'') {
			/* a standard string (standard_conforming_strings is on where shapes are
			 * used) */
			struct strbuf v;
			const char *q = p + 1;

			strbuf_init(&v);
			for (;;) {
				if (*q == '\0') {
					strbuf_free(&v);
					goto fail;
				}
				if (*q == '\'' && q[1] == '\'') {
					strbuf_putc(&v, '\'');
					q += 2;
					continue;
				}
				if (*q == '\'')
					break;
				strbuf_putc(&v, *q++);
			}
			q++;
			if (*q == '\'' ||
			    (q > p + 1 && p > sql && sqlshape_ident_char((unsigned char)p[-1]))) {
				strbuf_free(
				        &v); /* E'..', U&'..', 'a' 'b' continuations: not ours */
				goto fail;
			}
			if (after_comparison && out->nlits < SQLSHAPE_MAX_LITS) {
				out->lits[out->nlits].kind = SQLSHAPE_STR;
				out->lits[out->nlits].s = xstrdup(strbuf_str(&v));
				out->nlits++;
				strbuf_printf(&out->key, "$%zu", out->nlits);
			} else {
				strbuf_append(&out->key, p, (size_t)(q - p));
			}
			strbuf_free(&v);
			p = q;
		} else if (isdigit(c)) {
			const char *q = p;

			while (isdigit((unsigned char)*q))
				q++;
			if (*q == '.' || sqlshape_ident_char((unsigned char)*q)) {
				/* 1.5, 1e3, 0x1F, 12abc: kept as they are, or not ours */
				while (isalnum((unsigned char)*q) || *q == '.' || *q == '_')
					q++;
				strbuf_append(&out->key, p, (size_t)(q - p));
			} else if (after_comparison && q - p <= 9 &&
			           out->nlits < SQLSHAPE_MAX_LITS) {
				out->lits[out->nlits].kind = SQLSHAPE_INT;
				out->lits[out->nlits].i = strtoll(p, NULL, 10);
				out->nlits++;
				strbuf_printf(&out->key, "$%zu", out->nlits);
			} else {
				strbuf_append(&out->key, p, (size_t)(q - p));
			}
			p = q;
		} else if (sqlshape_ident_start(c)) {
			const char *q = p;

			while (sqlshape_ident_char((unsigned char)*q))
				q++;
			if (*q == '\'' || memchr(p, '$', (size_t)(q - p)))
				goto fail; /* E'..', B'..', X'..', N'..' and names with $ */
			strbuf_append(&out->key, p, (size_t)(q - p));
			p = q;
		} else if (c == '"') {
			const char *q = p + 1;

			for (;;) {
				if (*q == '\0')
					goto fail;
				if (*q == '"' && q[1] == '"') {
					q += 2;
					continue;
				}
				if (*q == '"')
					break;
				q++;
			}
			q++;
			strbuf_append(&out->key, p, (size_t)(q - p));
			p = q;
		} else if (c == '$') {
			goto fail; /* parameters and dollar quoting */
		} else if (strchr(SQLSHAPE_OP_CHARS, c)) {
			const char *q = p;

			while (*q && strchr(SQLSHAPE_OP_CHARS, *q))
				q++;
			if (memmem(p, (size_t)(q - p), "--", 2) ||
			    memmem(p, (size_t)(q - p), "/*", 2))
				goto fail; /* comments */
			strbuf_append(&out->key, p, (size_t)(q - p));
			op = p;
			oplen = (size_t)(q - p);
			p = q;
		} else {
			strbuf_putc(&out->key, *p++);
		}
	}
	return 0;
fail:
	sqlshape_free(out);
	strbuf_init(&out->key);
	return -1;
}

void
sqlshape_free(struct sqlshape *out)
{
	size_t i;

	for (i = 0; i < out->nlits; i++)
		free(out->lits[i].s);
	out->nlits = 0;
	strbuf_free(&out->key);
}
