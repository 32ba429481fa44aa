/* SPDX-License-Identifier: MIT */
/* Local execution for a proxy worker: a thread with its own read-only SQLite connection to
 * the current database generation runs translated statements off the event loop and hands
 * back the encoded answer (RowDescription, DataRows, CommandComplete). */
#ifndef SQLEDGE_LOCALEXEC_H
#define SQLEDGE_LOCALEXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "localread.h"
#include "pgvalue.h"
#include "translate.h"
#include "util.h"

struct event_base;
struct shm_state;
struct localexec;

enum localexec_status {
	LOCALEXEC_OK = 0,
	LOCALEXEC_TOO_BIG,     /* the answer outgrew the cap: forward the statement instead */
	LOCALEXEC_UNAVAILABLE, /* no local copy, or SQLite could not run it: forward it */
	LOCALEXEC_CANCELED,    /* interrupted by a CancelRequest */
	LOCALEXEC_TIMEOUT,     /* ran past the session's statement_timeout */
};

struct localexec_job {
	struct localexec_job *next;
	uint64_t ticket; /* the submitter's, to find its client again */
	/* in */
	char *sql;
	size_t ncols;
	struct translate_col *cols;
	struct pgv_out_settings settings;
	size_t nbinds; /* values for ?1..?nbinds */
	struct sqlshape_lit *binds;
	bool row_description; /* send RowDescription first (a Query; Describe in a batch) */
	int64_t timeout_ms;   /* statement_timeout, from the start of execution; 0: none */
	int64_t now_us;       /* the statement's moment: now(), current_date */
	int64_t deadline_us;  /* its end on time_mono_us()'s clock */
	bool timed_out;
	uint8_t *binary;   /* per column, 1: binary format (NULL: all text) */
	sqlite3 *db;       /* the caller's connection to run on (a transaction's snapshot); NULL:
	                    * the thread's own */
	sqlite3 *close_db; /* no statement: the thread closes this connection, after the jobs
	                    * queued before */
	/* out */
	enum localexec_status status;
	uint64_t rows;
	struct strbuf out; /* the messages, status LOCALEXEC_OK only */
	char errmsg[200];
};

typedef void (*localexec_done_fn)(struct localexec_job *job, void *arg);

/* Starts the thread; done() runs on the event loop of base for each finished job, which it
 * then owns (localexec_job_free). Returns NULL (logged) on failure. */
struct localexec *localexec_start(struct event_base *base, const char *db_path,
                                  struct shm_state *shm, size_t max_result, localexec_done_fn done,
                                  void *arg);
/* Queues a job (the executor owns it until done()). */
void localexec_submit(struct localexec *ex, struct localexec_job *job);
/* Interrupts the job with this ticket if it is running (sqlite3_interrupt). */
void localexec_cancel(struct localexec *ex, uint64_t ticket);
/* Closes db on the thread once the jobs queued before are done (they may run on it). */
void localexec_close_db(struct localexec *ex, sqlite3 *db);
/* Stops the thread; queued and finished jobs are freed without done(). */
void localexec_stop(struct localexec *ex);

/* Runs job on db, here and now (the thread's way, for statements known to be short): with st,
 * job's statement prepared on db, which is reset afterwards and stays the caller's; with
 * NULL, prepared for this run. */
void localexec_execute(sqlite3 *db, sqlite3_stmt *st, struct localexec_job *job, size_t max_result);

/* A job for a translated statement, copying what it needs; the binds' strings move into it
 * (binds is left empty). */
struct localexec_job *localexec_job_new(uint64_t ticket, const struct translate_result *tr,
                                        const struct pgv_out_settings *settings,
                                        struct localread_binds *binds);
void localexec_job_free(struct localexec_job *job);

#endif
