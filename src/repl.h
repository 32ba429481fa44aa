/* SPDX-License-Identifier: MIT */
/* The replication worker: the only process that writes the SQLite copy. */
#ifndef SQLEDGE_REPL_H
#define SQLEDGE_REPL_H

struct cfg;
struct shm_state;

/* Runs the worker in a forked child until told to stop (channel EOF, CHAN_MSG_QUIT or
 * SIGTERM). Returns the process exit code: 0, EXIT_RESPAWN or EXIT_FATAL. */
int repl_worker_main(const struct cfg *cfg, int chan_fd, struct shm_state *shm);

#endif
