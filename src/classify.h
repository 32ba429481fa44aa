/* SPDX-License-Identifier: MIT */
/* Which statements the local copy may answer: libpg_query parses the statement and every node
 * of its tree must be on an allow-list; anything else goes upstream. This is the structural
 * half of the decision: the relations, columns, types and privileges it names are checked
 * against the local copy afterwards. Pure: no I/O. */
#ifndef SQLEDGE_CLASSIFY_H
#define SQLEDGE_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#define CLASSIFY_MAX_RELS 16
#define CLASSIFY_NAME_MAX 64 /* NAMEDATALEN */

enum classify_verdict {
	CLASSIFY_UPSTREAM = 0, /* must be forwarded; reason says why */
	CLASSIFY_LOCAL,        /* a read the local copy may answer, if it holds what it names */
};

/* A relation the statement reads; schema is "" when unqualified (resolved with the
 * session's search_path). CTE names appear here too: the caller tells them apart. */
struct classify_rel {
	char schema[CLASSIFY_NAME_MAX];
	char name[CLASSIFY_NAME_MAX];
};

struct classify_result {
	enum classify_verdict verdict;
	char reason[160]; /* CLASSIFY_UPSTREAM: the first thing that sent it there */
	size_t nrels;
	struct classify_rel rels[CLASSIFY_MAX_RELS];
	size_t nctes; /* names of WITH queries, which are not relations */
	char ctes[CLASSIFY_MAX_RELS][CLASSIFY_NAME_MAX];
};

/* Classifies one query string. A string with a syntax error, more or fewer than one
 * statement, or anything off the allow-list is CLASSIFY_UPSTREAM, so the client gets
 * PostgreSQL's own answer. Returns the verdict, also in out->verdict. */
enum classify_verdict classify_sql(const char *sql, struct classify_result *out);

#endif
