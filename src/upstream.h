/* SPDX-License-Identifier: MIT */
/* The replication worker's upstream connection: connecting with pinned output settings,
 * checking that the upstream can serve sqledge, the publication and the slot. */
#ifndef SQLEDGE_UPSTREAM_H
#define SQLEDGE_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "util.h"

struct cfg;

/* Results besides 0: */
#define UPSTREAM_RETRY (-1) /* transient (unreachable, restarting, slot busy): retry later */
#define UPSTREAM_FATAL (-3) /* needs an operator: the cause and the fix are logged */

struct upstream_info {
	char system_id[32];
	uint32_t timeline;
	uint64_t xlogpos;
	int server_version;
	int wal_sender_timeout_ms; /* 0: disabled */
};

struct slot_info {
	bool exists;
	bool temporary;
	bool active;
	bool lost; /* wal_status = lost: unusable */
	int active_pid;
	char plugin[64];
	char database[128];
	uint64_t confirmed_flush;
};

/* Connects (replication=database when replication). Returns 0, or UPSTREAM_RETRY or
 * UPSTREAM_FATAL with the cause (and the fix) in err, not logged: a reconnect loop logs a
 * repeated failure once. */
int upstream_connect(const struct cfg *cfg, bool replication, PGconn **out, struct strbuf *err);

/* [replication] source_address set: whether the write upstream has the source's system
 * identifier, so that positions and table OIDs compare (1), not (0, logged), or unknown (-1,
 * logged). */
int upstream_same_history(const struct cfg *cfg, const char *source_id);

/* Where timeline tli ended, from the text of a timeline history file (lines "parent-tli
 * switch-lsn reason"). Returns 0 with *lsn, or -1 when tli is not in it. */
int upstream_timeline_end(const char *history, size_t len, uint32_t tli, uint64_t *lsn);

/* The copy was made on timeline copy_tli at position pos, the upstream is now on
 * info_tli: whether its history forked before pos (1: the copy holds WAL the upstream no
 * longer has; 0: the copy's history is the upstream's; -1: it cannot tell, logged). */
int upstream_forked_before(PGconn *conn, uint32_t copy_tli, uint32_t info_tli, uint64_t pos,
                           uint64_t *fork);

/* IDENTIFY_SYSTEM plus the checks: wal_level, privileges, max_slot_wal_keep_size. */
int upstream_check(const struct cfg *cfg, PGconn *conn, struct upstream_info *info);

/* Makes sure the configured publication exists: creates it FOR ALL TABLES when allowed and
 * every table it would publish has a usable replica identity; refuses otherwise. Also checks
 * row level security against the role's BYPASSRLS. */
int upstream_prepare_publication(const struct cfg *cfg, PGconn *conn);

/* [replication] ddl_trigger: makes sure the upstream has the event trigger that puts a
 * logical decoding message (prefix UPSTREAM_DDL_PREFIX) into the stream after every DDL
 * command, when the role may create it (a superuser); otherwise says once why not. Never
 * fails the session: the periodic catalog check covers what the trigger would speed up. */
#define UPSTREAM_DDL_PREFIX "sqledge.ddl"
void upstream_ddl_trigger(const struct cfg *cfg, PGconn *conn);

int upstream_slot_info(const struct cfg *cfg, PGconn *conn, struct slot_info *out);
int upstream_drop_slot(const struct cfg *cfg, PGconn *conn);

/* Runs one simple-protocol statement; returns the result when its status is expect, else logs
 * the server's message (with what) and returns NULL. *sqlstate receives the SQLSTATE. */
PGresult *upstream_exec(PGconn *conn, const char *sql, ExecStatusType expect, const char *what,
                        char sqlstate[6]);

/* Classifies a failed result or connection error as UPSTREAM_RETRY or UPSTREAM_FATAL. */
int upstream_classify(const char *sqlstate);

#endif
