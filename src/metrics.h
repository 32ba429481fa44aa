/* SPDX-License-Identifier: MIT */
/* The optional Prometheus endpoint ([metrics] listen), served by the master. */
#ifndef SQLEDGE_METRICS_H
#define SQLEDGE_METRICS_H

#include "cfg.h"
#include "shm.h"

struct event_base;
struct metrics;

/* Starts serving GET /metrics on cfg->metrics_listen; NULL when that is empty, or (logged)
 * when it cannot listen there. */
struct metrics *metrics_start(struct event_base *base, const struct cfg *cfg,
                              const struct shm_state *shm);
void metrics_stop(struct metrics *m);
/* In a worker after fork(): the master's listening socket is not the worker's to hold. */
void metrics_close_fd(struct metrics *m);

#endif
