/* SPDX-License-Identifier: MIT */
/* The master process: supervision of the workers, signals, control socket, systemd states. */
#ifndef SQLEDGE_MASTER_H
#define SQLEDGE_MASTER_H

struct cfg;

/* Takes ownership of cfg. Runs until SIGTERM/SIGINT or a fatal worker exit; returns the
 * process exit code. */
int master_run(struct cfg *cfg);

#endif
