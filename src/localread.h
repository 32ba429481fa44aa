/* SPDX-License-Identifier: MIT */
/* Whether one client session may have a statement answered from the local copy. What the
 * upstream session would do with it depends on state only the upstream knows (the role's
 * privileges, row-level security, search_path, output settings), so the proxy asks the
 * session itself, once, with the check query below, and asks again after anything it
 * forwarded, which may have changed that state. Pure: no I/O. */
#ifndef SQLEDGE_LOCALREAD_H
#define SQLEDGE_LOCALREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "localcat.h"
#include "pgvalue.h"
#include "sqlshape.h"
#include "translate.h"
#include "util.h"

struct localread_rel {
	uint32_t relid;
	bool readable; /* SELECT on the whole table, no row-level security, every column copied */
	bool unqualified; /* its bare name resolves to it under the session's search_path */
};

#define LOCALREAD_CACHE 16 /* statement shapes remembered per session */

/* A statement shape's translation, with $N standing for the shape's literals. */
struct localread_entry {
	char *key;
	struct translate_result tr;
	uint64_t last_use;
};

/* Values for the ?N of a translation: the literals of the statement at hand. */
struct localread_binds {
	size_t n;
	struct sqlshape_lit v[SQLSHAPE_MAX_LITS];
};

struct localread_session {
	bool valid;  /* the check's answer is in and nothing was forwarded since */
	bool usable; /* the settings allow local answers at all */
	struct pgv_out_settings out;
	uint64_t min_lsn; /* the upstream's insert position at the check: local answers wait
	                   * until the copy has applied it (the session's own writes) */
	bool datestyle_iso;
	bool timezone_utc;
	size_t nrels;
	struct localread_rel *rels;
	struct localread_entry *cache; /* LOCALREAD_CACHE entries, allocated on first use */
	uint64_t uses;
	/* parsing the check's answer */
	int result_no;
	bool failed;
};

void localread_session_reset(struct localread_session *s);
void localread_session_free(struct localread_session *s);

/* The check query for the relations of cat, as one simple Query (two statements). */
void localread_check_sql(const struct localcat *cat, struct strbuf *out);

/* Takes one message of the upstream's answer to the check (type, body without the header).
 * Returns 1 when the answer is complete (ReadyForQuery), 0 for more. A session whose check
 * failed (an error) is left invalid. */
int localread_check_message(struct localread_session *s, uint8_t type, const uint8_t *body,
                            size_t len);

enum localread_plan {
	LOCALREAD_UPSTREAM = 0, /* forward it */
	LOCALREAD_CHECK,        /* a candidate: run the check first, then plan again */
	LOCALREAD_LOCAL,        /* answer it locally with *tr and *settings */
};

/* Plans one simple-protocol query. For LOCALREAD_LOCAL, tr (the SQLite statement, whose ?N
 * take binds) and binds are filled and must be freed (localread_binds_free). Statements
 * that differ only in compared literals are translated once per session. */
enum localread_plan localread_plan(struct localread_session *s, const struct localcat *cat,
                                   const char *sql, struct translate_result *tr,
                                   struct localread_binds *binds,
                                   struct pgv_out_settings *settings);
void localread_binds_free(struct localread_binds *binds);

#endif
