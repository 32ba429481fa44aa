/* SPDX-License-Identifier: MIT */
/* The proxy's listening sockets: TCP on each configured address and, optionally, a Unix socket
 * `.s.PGSQL.<port>` in a directory so that `psql -h DIR` finds it. The master opens them before
 * it forks the proxy workers, which inherit them and all accept on them. */
#ifndef SQLEDGE_LISTEN_H
#define SQLEDGE_LISTEN_H

#include <stdbool.h>

#define LISTEN_MAX_SOCKETS 16

struct listen_set {
	int n;
	int fd[LISTEN_MAX_SOCKETS];     /* non-blocking, close-on-exec */
	char *name[LISTEN_MAX_SOCKETS]; /* "127.0.0.1:5433", "[::1]:5433" or the socket path */
	char *unix_path;                /* socket file we created, NULL if none */
	char *lock_path;                /* its lock file, NULL if none */
	int lock_fd;                    /* holds the flock on lock_path, -1 if none */
};

/* Opens a socket for every address of addresses (comma or space separated host names or
 * literals; "*" means every IPv4 and IPv6 address) on port, plus the Unix socket in unix_dir
 * when unix_dir is neither NULL nor empty. Port 0 lets the kernel choose (tests). An address
 * family the host lacks is skipped with a warning as long as something else was bound. Returns
 * 0, or -1 with the cause in err (nothing left open). */
int listen_open(struct listen_set *ls, const char *addresses, int port, const char *unix_dir,
                int backlog, char *err, size_t errlen);

/* Removes the Unix socket at path when nobody accepts on it (left by a killed process); what
 * names it in messages ("control socket"). Returns 1 when it removed one, 0 when nothing was
 * there, -1 with the cause in err: not a socket, a live socket ("... is in use by another
 * process"), or a system error. */
int listen_remove_stale_socket(const char *path, const char *what, char *err, size_t errlen);

/* Closes every socket; removes the Unix socket and its lock file when remove_files is set (the
 * master on exit; a worker only closes its inherited copies). */
void listen_close(struct listen_set *ls, bool remove_files);

#endif
