/* SPDX-License-Identifier: MIT */
/* A proxy worker: accepts clients on the listening sockets the master opened, authenticates
 * them by logging in to the upstream as them, and relays their sessions message by message. */
#ifndef SQLEDGE_PROXY_H
#define SQLEDGE_PROXY_H

#include <stddef.h>
#include <stdint.h>

struct cfg;
struct listen_set;
struct shm_state;

/* The process id we hand out in BackendKeyData: (worker index + 1) << PROXY_SESSION_BITS |
 * session number, so that any worker can tell which one a CancelRequest is for. */
#define PROXY_SESSION_BITS 24
#define PROXY_SESSION_MASK ((UINT32_C(1) << PROXY_SESSION_BITS) - 1)

/* Payload of CHAN_MSG_CANCEL_FWD: the CancelRequest's key, host byte order. */
struct proxy_cancel_msg {
	uint32_t pid;
	uint32_t key;
};

/* Runs worker number index (0-based) until the master says QUIT or goes away; returns the
 * process exit code. */
int proxy_worker_main(const struct cfg *cfg, int index, int chan_fd, struct shm_state *shm,
                      const struct listen_set *ls);

/* The worker index a BackendKeyData pid belongs to, or -1 when it is none of ours. */
int proxy_cancel_target(uint32_t pid, int nworkers);

/* A login error as the upstream reported it, taken from libpq's verbose connection error
 * text. Pointers point into a copy in buf. */
struct proxy_conn_error {
	const char *severity; /* "FATAL", "ERROR", or NULL when the server sent no error */
	const char *code;     /* SQLSTATE, or NULL */
	const char *message;  /* never NULL: the server's message, or libpq's own text */
	const char *detail;   /* or NULL */
	const char *hint;     /* or NULL */
};

/* Splits libpq's PQerrorMessage() after a failed connection (made with PQERRORS_VERBOSE)
 * into the fields of the server's ErrorResponse. buf receives a copy of msg that the fields
 * point into. */
void proxy_parse_conn_error(const char *msg, char *buf, size_t size, struct proxy_conn_error *out);

#endif
