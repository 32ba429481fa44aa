/* SPDX-License-Identifier: MIT */
/* Initial sync: a new slot and a snapshot-consistent COPY of every published table into a new
 * database generation, switched to only once it is complete and durable. */
#ifndef SQLEDGE_SYNC_H
#define SQLEDGE_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

struct cfg;
struct shm_state;
struct upstream_info;

struct sync_result {
	uint32_t generation;
	uint64_t consistent_point; /* stream from here */
};

/* Runs on a fresh replication connection (no slot of that name may exist). cur_gen is the
 * generation in use (0 when none); the new one is cur_gen + 1. Returns 0, UPSTREAM_RETRY or
 * UPSTREAM_FATAL (logged). On failure the generation in use stays as it was. */
int sync_run(const struct cfg *cfg, PGconn *conn, struct shm_state *shm,
             const struct upstream_info *info, uint32_t cur_gen, struct sync_result *out);

struct apply;
struct apply_coldef;
struct strbuf;

/* A published table as the upstream's catalog describes it. */
struct sync_table {
	uint32_t relid;
	char *nspname;
	char *relname;
	char relkind;
	char replident;
	char *rowfilter; /* NULL when none */
	int64_t est_rows;
	int ncols;
	struct apply_coldef *cols; /* strings point into the column result */
};

/* Reads the published tables of the configured schemas (only relid when not 0) and their
 * published columns, at the transaction's snapshot. *colres owns the column strings (PQclear
 * it after sync_tables_free); *bytes is their size on disk. Returns 0 or UPSTREAM_RETRY. */
int sync_read_catalog(const struct cfg *cfg, PGconn *conn, int server_version, uint32_t only_relid,
                      struct sync_table **out, int *nout, PGresult **colres, int64_t *bytes);
void sync_tables_free(struct sync_table *t, int n);

/* Sends CREATE_REPLICATION_SLOT slot ... LOGICAL pgoutput (SNAPSHOT 'use') inside conn's
 * REPEATABLE READ transaction and waits for it at most timeout_s seconds: it waits for every
 * transaction running upstream, so a forgotten open one would block forever; the blockers are
 * named in the log then. Returns its one-row result, or NULL (logged) with *err
 * UPSTREAM_RETRY or UPSTREAM_FATAL (no free slot). */
PGresult *sync_create_slot(const struct cfg *cfg, PGconn *conn, const char *slot, bool temporary,
                           int timeout_s, int *err);

/* The COPY ... TO STDOUT that reads a table's published rows and columns, as a sync does. */
void sync_copy_sql(const struct sync_table *t, struct strbuf *sql);

/* Brings the copy's tables in line with the upstream's catalog, for what the stream does not
 * say: tables dropped or no longer published are dropped, renamed ones follow their new
 * names, published tables the copy lacks are copied (sync_table(), with progress), indexes
 * created upstream since are built. Runs between transactions, in a batch of its own (the
 * caller commits it). Returns 0, SYNC_RECONCILE_LATER, UPSTREAM_FATAL, or -1 (logged) when the
 * batch must be rolled back. */
#define SYNC_RECONCILE_LATER 1 /* could not look (logged); nothing changed: try again later */
int sync_reconcile(const struct cfg *cfg, struct apply *a, struct shm_state *shm,
                   void (*progress)(void *), void *arg);

/* Copies one relation that is new to the copy (or changed shape) into the open batch of a:
 * a temporary slot on a second replication connection gives a snapshot at a known position,
 * the relation's local table is made again from the catalog at that snapshot, and changes
 * from transactions that commit before that position are skipped from then on. progress
 * (may be NULL) is called every few thousand rows, so the caller can keep its own stream
 * alive. Returns 0, UPSTREAM_RETRY, UPSTREAM_FATAL or -1 (all logged). */
int sync_table(const struct cfg *cfg, struct apply *a, struct shm_state *shm, uint32_t relid,
               const char *label, void (*progress)(void *), void *arg);

#endif
