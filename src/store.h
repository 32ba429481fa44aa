/* SPDX-License-Identifier: MIT */
/* The SQLite files: generation-numbered database files behind the stable db_path symlink, the
 * writer connection and the internal tables (postgres_pos, _sqledge_*). */
#ifndef SQLEDGE_STORE_H
#define SQLEDGE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "util.h"

/* PRAGMA user_version of the files this build writes; another value means resync. */
#define STORE_FORMAT_VERSION 1

/* What postgres_pos says about the copy. */
struct store_pos {
	char slot_name[64];
	char system_id[32];
	char publication[256];
	char schemas[1024]; /* the [upstream] schema list the copy was made for */
	uint32_t timeline;
	uint64_t lsn;              /* end of the last applied upstream transaction */
	uint64_t consistent_point; /* where the slot started */
	bool resync_required;      /* set when a change could not be applied in place */
};

/* Path of generation gen for db_path ("<db_path>.<gen>"), a new string. */
char *store_generation_path(const char *db_path, uint32_t gen);

/* Reads the db_path symlink. Returns 1 and sets *gen when it names a generation file, 0 when
 * db_path does not exist, -1 (logged) when db_path is something sqledge did not make. */
int store_current_generation(const char *db_path, uint32_t *gen) SQE_MUSTCHECK;

/* Removes every generation file (and its -wal/-shm) of db_path except keep. */
void store_remove_generations(const char *db_path, uint32_t keep);

/* Points db_path at generation gen atomically (new symlink renamed over the old) and makes
 * the change durable. */
int store_switch_generation(const char *db_path, uint32_t gen) SQE_MUSTCHECK;

/* Opens path read-write. bulk: a new file being loaded (no journal, no fsync: it is thrown
 * away if the load does not finish); otherwise WAL with synchronous=FULL. */
int store_open(const char *path, bool bulk, sqlite3 **out) SQE_MUSTCHECK;

/* Creates the internal tables in a new file and stamps user_version. */
int store_init_schema(sqlite3 *db) SQE_MUSTCHECK;

/* Opens a generation file for a proxy's reads: read-only, query_only, with the file mapped
 * into memory (pages come from the OS page cache, shared by every reader, without a read
 * call each) and a busy timeout. Returns 0, or -1 (logged) with *out NULL. */
int store_open_reader(const char *path, sqlite3 **out) SQE_MUSTCHECK;

/* Reads postgres_pos. Returns 1 with *pos filled, 0 when the file has no usable position
 * (no row, other format version), -1 on error. */
int store_read_pos(sqlite3 *db, struct store_pos *pos) SQE_MUSTCHECK;

/* Writes the whole postgres_pos row (after an initial sync). */
int store_write_pos(sqlite3 *db, const struct store_pos *pos) SQE_MUSTCHECK;

/* Marks the copy as needing a full resync at the next start. */
int store_require_resync(sqlite3 *db, const char *why) SQE_MUSTCHECK;

/* Runs SQL without results; logs the statement's purpose on error. */
int store_exec(sqlite3 *db, const char *sql) SQE_MUSTCHECK;

/* Closes the file, then fsyncs it and its directory. */
int store_close_durably(sqlite3 *db, const char *path) SQE_MUSTCHECK;

#endif
