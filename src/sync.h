/* SPDX-License-Identifier: MIT */
/* Initial sync: a new slot and a snapshot-consistent COPY of every published table into a new
 * database generation, switched to only once it is complete and durable. */
#ifndef SQLEDGE_SYNC_H
#define SQLEDGE_SYNC_H

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

#endif
