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
#include "pgwire.h"
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

/* A prepared statement of the session as the upstream has it. */
struct localread_stmt {
	char *name;
	char *sql;
	size_t ntypes;
	uint32_t *types; /* its parameters' types, as the upstream resolved them */
	bool described;  /* the upstream described it after the check (it still runs): */
	size_t nresults;
	uint32_t *result_types; /* its columns' types, which a changed table must not change */
};

#define LOCALREAD_CHECK_SETTINGS 11 /* columns of the check's first statement */
#define LOCALREAD_NAMES 32          /* named statements the check asks about, per session */
#define LOCALREAD_FORCE_UPSTREAM "sqledge:upstream" /* in a statement: forward it */
#define LOCALREAD_STMT_MAX 8192 /* longer statement texts are left to the upstream */

/* The session's named statements, noted as their Parse goes upstream with the text it
 * carried: whether a statement is worth a check is judged from that text against the catalog
 * of the moment, and the check asks the upstream what the statements are. A hint, never
 * trusted for what a statement says. */
struct localread_names {
	char *name[LOCALREAD_NAMES];
	char *sql[LOCALREAD_NAMES]; /* a SELECT's; NULL for the other kinds */
	uint8_t kind[LOCALREAD_NAMES];
	uint64_t epoch[LOCALREAD_NAMES]; /* of the catalog candidate[] was judged with; 0: none */
	bool candidate[LOCALREAD_NAMES];
	unsigned next; /* the slot to reuse when all are taken */
};

struct localread_session {
	bool valid;         /* the check's answer is in and nothing was forwarded since */
	int64_t checked_us; /* when it came in (the caller's clock) */
	bool usable;        /* the settings allow local answers at all */
	struct pgv_out_settings out;
	uint64_t min_lsn; /* the upstream's insert position at the check: local answers wait
	                   * until the copy has applied it (the session's own writes) */
	bool datestyle_iso;
	bool timezone_utc;
	int64_t statement_timeout_ms;               /* 0: none */
	bool default_read_only;                     /* default_transaction_read_only */
	enum translate_isolation default_isolation; /* default_transaction_isolation */
	/* the database's default collation, when the local ICU orders it as the upstream's
	 * does (same locale, same collator version): the SQLite collation and the locale case
	 * folding uses; "" when text goes upstream for order (collation) or is folded as ASCII */
	char collation[96];
	char case_locale[64];
	bool ascii_fold; /* LC_CTYPE folds ASCII letters as ASCII does (not a Turkic one) */
	size_t nrels;
	struct localread_rel *rels;
	size_t nstmts;
	struct localread_stmt *stmts;  /* the named statements the check asked about */
	struct localread_entry *cache; /* LOCALREAD_CACHE entries, allocated on first use */
	uint64_t uses;
	/* parsing the check's answer */
	int result_no;
	bool failed;
	bool query_done;   /* the check query's ReadyForQuery came; then the Describes': */
	size_t ndesc;      /* Describe + Sync pairs sent after the check query */
	size_t desc_done;  /* ReadyForQuery messages of those seen */
	char **desc_names; /* the statements they describe, in order */
};

void localread_session_reset(struct localread_session *s);
void localread_session_free(struct localread_session *s);

/* The check query for the relations of cat, as one simple Query (two statements). */
void localread_check_sql(const struct localcat *cat, struct strbuf *out);

/* Starts a session's check: resets s and appends to out the messages for the upstream: the
 * check query (check_sql, then a third statement asking what the session's candidate named
 * statements in names are), then a Describe and a Sync for each of them. */
void localread_check_start(struct localread_session *s, struct localread_names *names,
                           const struct localcat *cat, uint64_t epoch,
                           const struct strbuf *check_sql, struct strbuf *out);

/* What a statement is, for whether the session check may follow it in the same flight. */
enum localread_kind {
	LOCALREAD_KIND_OTHER = 0, /* anything else, or not known: nothing follows it */
	LOCALREAD_KIND_STMT,      /* SELECT, INSERT, UPDATE, DELETE, MERGE, WITH, VALUES, TABLE,
	                           * CALL: it cannot start COPY or a transaction block */
	LOCALREAD_KIND_END,       /* COMMIT, END, ROLLBACK, ABORT */
};

/* The kind of sql by its first keyword (after blanks, comments and parentheses). simple: a
 * Query's text, which may hold several statements: any ';' but a last one makes it OTHER. */
enum localread_kind localread_kind(const char *sql, bool simple);

/* Whether a statement leaves no state in the session that a new connection would not have
 * (SET, PREPARE, LISTEN, CREATE TEMP, CALL, SELECT INTO, set_config(), advisory locks,
 * nextval()... do; so may anything not known). A function of the application's own that
 * changes such state is not seen. */
bool localread_stateless(const char *sql);

/* Notes a Parse of a named statement (forgetting an earlier one of that name): the text of a
 * SELECT, the kind of a STMT. */
void localread_names_add(struct localread_names **names, const char *name, const char *sql);
/* Whether sql's first word (after blanks and comments) is word, in any case. */
bool localread_starts_with(const char *sql, const char *word);
/* Whether sql begins with SELECT (after blanks and parentheses). */
bool localread_is_select(const char *sql);
/* Whether the statement called name was noted as a SELECT. */
bool localread_names_select(const struct localread_names *names, const char *name);
/* The kind of the statement called name as it was noted; OTHER when it was not. */
enum localread_kind localread_names_kind(const struct localread_names *names, const char *name);
void localread_names_remove(struct localread_names *names, const char *name);
bool localread_names_has(const struct localread_names *names, const char *name);
/* Whether the statement called name may be answered from cat (epoch: cat's, > 0), judged once
 * per catalog. */
bool localread_names_candidate(struct localread_names *names, const char *name,
                               const struct localcat *cat, uint64_t epoch);
void localread_names_free(struct localread_names *names);

/* The prepared statement called name, as of the last check; NULL when unknown. */
const struct localread_stmt *localread_stmt(const struct localread_session *s, const char *name);

/* Takes one message of the upstream's answer to the check (type, body without the header).
 * Returns 1 when the answer is complete (the last ReadyForQuery), 0 for more. A session whose
 * check query failed (an error) is left invalid; a Describe that fails leaves its statement
 * undescribed. */
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

/* Plans one extended-protocol statement (its text, with $N parameters). For LOCALREAD_LOCAL,
 * tr is filled (free it); the caller binds the parameters with localread_bind_params(). */
enum localread_plan localread_plan_statement(struct localread_session *s,
                                             const struct localcat *cat, const char *sql,
                                             struct translate_result *tr,
                                             struct pgv_out_settings *settings);

/* The values of a Bind's parameters for the ?N of tr, each read as the upstream's input (or
 * receive) function for its type would read it: types[i] is parameter i+1's type, 0 when the
 * upstream infers it from the statement. Returns 0, or -1 when the local copy cannot take
 * them exactly (a value the upstream would reject, a type whose comparison differs): the
 * statement then goes upstream, which answers, or fails, as it would. */
int localread_bind_params(const struct translate_result *tr, const uint32_t *types, size_t ntypes,
                          const struct pgw_bind *bind, struct localread_binds *out);

#endif
