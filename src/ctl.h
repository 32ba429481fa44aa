/* SPDX-License-Identifier: MIT */
/* Control socket protocol shared by the master (server) and sqledgectl (client): one request
 * line ("status", "status json", "stop", ...) answered by text, then the server closes. */
#ifndef SQLEDGE_CTL_H
#define SQLEDGE_CTL_H

#include <stdio.h>

struct cfg;
struct shm_state;
struct strbuf;

/* Default control socket path for a configuration: cfg->control_socket when set, else
 * "sqledge.sock" in the directory of cfg->local_db_path. Returns a new string. */
char *ctl_socket_path(const struct cfg *cfg);

/* Renders the status (json != 0: one JSON object) from the shared memory into out. */
/* One line of the status for systemd's STATUS=: state, lag, clients, statements. */
void ctl_render_brief(const struct cfg *cfg, const struct shm_state *shm, struct strbuf *out);
/* The status as Prometheus text exposition (format 0.0.4). */
void ctl_render_metrics(const struct cfg *cfg, const struct shm_state *shm, struct strbuf *out);
void ctl_render_status(const struct cfg *cfg, const struct shm_state *shm, int json,
                       struct strbuf *out);

#endif
