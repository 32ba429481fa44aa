/* SPDX-License-Identifier: MIT */
/* Applying upstream changes to SQLite (the single writer): the relation map, local table
 * definitions, cached prepared statements, and batches of upstream transactions that commit
 * together with their position. */
#ifndef SQLEDGE_APPLY_H
#define SQLEDGE_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "util.h"

struct pgo_relation;
struct pgo_typemsg;
struct pgo_begin;
struct pgo_commit;
struct pgo_insert;
struct pgo_update;
struct pgo_delete;
struct pgo_truncate;
struct pgv_field;
struct shm_state;

/* apply_relation() result: the relation is new to the copy, or changed shape; its rows must
 * be copied (sync_table()) before the stream goes on. */
#define APPLY_TABLESYNC 2

/* One column of an upstream table, from the catalog (initial sync) or a Relation message
 * (then attnum is 0, typname/collation NULL and notnull -1: unknown). */
struct apply_coldef {
	const char *name;
	uint32_t type_oid;
	int32_t typmod;
	bool is_key; /* part of the replica identity */
	int attnum;
	const char *typname;
	const char *collation;
	int notnull;
};

struct apply_reldef {
	uint32_t relid;
	const char *nspname;
	const char *relname;
	char replident; /* 'd', 'n', 'f', 'i' */
	char relkind;   /* 'r', 'p' or 0 when unknown */
	int ncols;
	struct apply_coldef *cols;
};

struct apply;

/* schemas: the configured schema list (the first one is the default schema whose tables keep
 * their bare names). Nothing is read until apply_load(). */
struct apply *apply_new(sqlite3 *db, struct shm_state *shm, const char *schemas);
void apply_free(struct apply *a);

/* Loads the relation map from the side tables of the open file. */
int apply_load(struct apply *a) SQE_MUSTCHECK;

/* Whether relations of this schema are replicated. */
/* The [upstream] tables and exclude_tables patterns (cfg_table_matches()); both empty
 * unless set. */
void apply_set_tables(struct apply *a, const char *include, const char *exclude);
/* Whether a relation is replicated: its schema is configured and the patterns take it. */
bool apply_wanted(const struct apply *a, const char *nspname, const char *relname);

/* Creates the local table for def (with its primary key when the replica identity allows),
 * replacing the relation's previous table if it had one. Returns 0 or -1. */
int apply_define(struct apply *a, const struct apply_reldef *def) SQE_MUSTCHECK;

/* Table sync: changes to relid from upstream transactions that commit before lsn are already
 * in its copied rows and are skipped; recorded with the table, in the open batch. */
int apply_set_synced(struct apply *a, uint32_t relid, uint64_t lsn) SQE_MUSTCHECK;
/* Drops the local table of a relation that no longer exists upstream. */
int apply_drop_relation(struct apply *a, uint32_t relid) SQE_MUSTCHECK;
/* Makes relid a known relation that is not replicated (gone from the publication). */
void apply_ignore_relation(struct apply *a, uint32_t relid, const char *nspname,
                           const char *relname);
/* The relids of every relation with a local table, into a new array. */
uint32_t *apply_relids(const struct apply *a, size_t *n);

/* Whether relid has a local table or is known not to be replicated (a placeholder). */
bool apply_relation_known(const struct apply *a, uint32_t relid);
/* The upstream names a replicated relation is known by (false when it is not replicated). */
bool apply_relation_names(const struct apply *a, uint32_t relid, const char **nspname,
                          const char **relname);
/* The relation was renamed (or moved to another schema) upstream: its local table follows,
 * under the name a new table of that name would get. */
int apply_rename_relation(struct apply *a, uint32_t relid, const char *nspname,
                          const char *relname) SQE_MUSTCHECK;
/* Opens a SQLite transaction for the batch when none is open. */
int apply_ensure_batch(struct apply *a) SQE_MUSTCHECK;

/* Initial sync: inserts one COPY text row into relid's table. */
int apply_copy_row(struct apply *a, uint32_t relid, struct pgv_field *fields,
                   int nfields) SQE_MUSTCHECK;
/* Creates a non-unique index on relid's table over the named upstream columns (skipped with a
 * debug line when a column is not replicated). */
int apply_create_index(struct apply *a, uint32_t relid, const char *indexname,
                       const char *const *colnames, int ncols) SQE_MUSTCHECK;

/* Streaming. Every function returns 0, -1 (logged) or, for apply_relation, APPLY_TABLESYNC. */
int apply_relation(struct apply *a, const struct pgo_relation *rel) SQE_MUSTCHECK;
int apply_type(struct apply *a, const struct pgo_typemsg *typ) SQE_MUSTCHECK;
/* Starts an upstream transaction; opens a SQLite transaction when none is open. Transactions
 * that end at or before the stored position are skipped (resent after an upstream crash). */
int apply_begin(struct apply *a, const struct pgo_begin *b) SQE_MUSTCHECK;
int apply_insert(struct apply *a, const struct pgo_insert *m) SQE_MUSTCHECK;
int apply_update(struct apply *a, const struct pgo_update *m) SQE_MUSTCHECK;
int apply_delete(struct apply *a, const struct pgo_delete *m) SQE_MUSTCHECK;
int apply_truncate(struct apply *a, const struct pgo_truncate *m) SQE_MUSTCHECK;
/* Ends the upstream transaction: its end_lsn is written to postgres_pos in the same SQLite
 * transaction. The SQLite transaction stays open until apply_flush(). */
int apply_commit(struct apply *a, const struct pgo_commit *c) SQE_MUSTCHECK;
/* Commits the open batch (durable: synchronous=FULL). Afterwards apply_durable_lsn() covers
 * every applied upstream transaction. No-op without an open batch. */
int apply_flush(struct apply *a) SQE_MUSTCHECK;
/* Drops the open batch (after an error or a lost connection mid-transaction). */
void apply_rollback(struct apply *a);

/* With nothing pending, moves the position to lsn (a keepalive's walEnd) durably. */
int apply_advance(struct apply *a, uint64_t lsn) SQE_MUSTCHECK;
void apply_set_position(struct apply *a, uint64_t lsn);
bool apply_in_transaction(const struct apply *a); /* between Begin and Commit */
bool apply_batch_open(const struct apply *a);     /* a SQLite transaction is open */
uint64_t apply_batch_rows(const struct apply *a);
int64_t apply_batch_started_us(const struct apply *a);
uint64_t apply_durable_lsn(const struct apply *a);

#endif
