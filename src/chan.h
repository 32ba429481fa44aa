/* SPDX-License-Identifier: MIT */
/* Master <-> worker channel: typed, length-prefixed messages over a SOCK_SEQPACKET socketpair,
 * with optional file descriptor passing (SCM_RIGHTS). */
#ifndef SQLEDGE_CHAN_H
#define SQLEDGE_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAN_MAX_PAYLOAD 8192

enum chan_msg_type {
	CHAN_MSG_QUIT = 1,   /* master -> worker: stop gracefully */
	CHAN_MSG_RELOAD,     /* master -> worker: configuration reloaded */
	CHAN_MSG_STATUS_REQ, /* master -> worker: send your counters */
	CHAN_MSG_STATUS_ANS, /* worker -> master: counters (worker-defined payload) */
	CHAN_MSG_CANCEL_FWD, /* either way: a CancelRequest for another worker */
	CHAN_MSG_RETIRE,     /* master -> proxy worker: take no new clients, leave after the last */
	CHAN_MSG_RESYNC,     /* master -> repl: make a new copy (sqledgectl resync) */
	CHAN_MSG_DECOMMISSION,   /* master -> repl: drop the slot (sqledgectl decommission) */
	CHAN_MSG_DECOMMISSIONED, /* repl -> master: done (empty payload) or why not (text) */
	CHAN_MSG_LOGIN_CACHE,    /* proxy -> master -> the other proxies: a login cache entry
	                          * (logincache_encode), in the passed memfd */
	CHAN_MSG_LOGIN_FORGET,   /* the same for a removal, which is never dropped for room */
};

/* Creates the pair with FD_CLOEXEC on both ends. fds[0] is the master's, fds[1] the worker's. */
int chan_pair(int fds[2]);

/* Sends one message; pass_fd < 0 sends none. Returns 0, SQE_AGAIN (non-blocking socket full)
 * or -1 (logged). */
int chan_send(int fd, uint32_t type, const void *payload, size_t len, int pass_fd);

/* Whether the socket's send buffer is less than half full: room for a message that may be
 * dropped (a cache's), with the rest kept for the ones that must not be. */
bool chan_has_room(int fd);

/* Receives one message into buf (cap bytes). Returns 1 with *type, *len (and *recv_fd, -1 when
 * none) set; 0 at EOF (the peer is gone); SQE_AGAIN; or -1 (logged) on a malformed message. */
int chan_recv(int fd, uint32_t *type, void *buf, size_t cap, size_t *len, int *recv_fd);

#endif
