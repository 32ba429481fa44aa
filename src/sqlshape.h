/* SPDX-License-Identifier: MIT */
/* The shape of a simple-protocol query: its text with the literals that are compared with
 * something (after =, <>, !=, <, >, <=, >=) replaced by $1, $2, ... so that statements that
 * differ only in those values share one translation. ORDER BY 1, LIMIT 10 and every other
 * literal stay part of the shape. A deliberately small lexer: anything it does not know
 * (comments, dollar quotes, escape strings, parameters) means "no shape", never a wrong one.
 * Pure: no I/O. */
#ifndef SQLEDGE_SQLSHAPE_H
#define SQLEDGE_SQLSHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SQLSHAPE_MAX_LITS 32

enum sqlshape_kind {
	SQLSHAPE_INT,  /* an integer of at most 9 digits: always an int4 constant */
	SQLSHAPE_STR,  /* a standard string constant, unescaped */
	SQLSHAPE_NULL, /* a NULL: bound parameters only */
};

struct sqlshape_lit {
	enum sqlshape_kind kind;
	int64_t i;
	char *s; /* SQLSHAPE_STR: malloc'ed, NUL-terminated */
};

struct sqlshape {
	struct strbuf key; /* the shape: valid SQL, with $N for the literals */
	size_t nlits;
	struct sqlshape_lit lits[SQLSHAPE_MAX_LITS];
};

/* Takes the shape of sql. Returns 0, or -1 when sql has something the lexer leaves alone
 * (out is then empty). out must be freed either way. */
int sqlshape_parse(const char *sql, struct sqlshape *out);
void sqlshape_free(struct sqlshape *out);

#endif
