/* SPDX-License-Identifier: MIT */
/* The proxy's listening sockets (see listen.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "util.h"

#define LISTEN_ADDR_SEPS ", \t"

static void
listen_add(struct listen_set *ls, int fd, const char *name)
{
	ls->fd[ls->n] = fd;
	ls->name[ls->n] = xstrdup(name);
	ls->n++;
}

/* "host:port" or "[v6]:port" for an address the kernel bound. */
static void
listen_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	int port;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	}
}

/* Binds one TCP socket. Returns the descriptor, -1 with the cause in err, or -2 when the host
 * lacks the address family (the caller may skip it). */
static int
listen_tcp_one(const struct addrinfo *ai, int backlog, char *err, size_t errlen)
{
	char name[INET6_ADDRSTRLEN + 16];
	int fd, on = 1;

	listen_format(ai->ai_addr, name, sizeof(name));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		if (errno == EAFNOSUPPORT)
			return -2;
		snprintf(err, errlen, "could not create a socket for %s: %s", name,
		         strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int e = errno;

		close(fd);
		if (e == EADDRNOTAVAIL && ai->ai_family == AF_INET6)
			return -2;
		if (e == EADDRINUSE)
			snprintf(err, errlen,
			         "could not listen on %s: address already in use (is another "
			         "sqledge or PostgreSQL using this port?)",
			         name);
		else
			snprintf(err, errlen, "could not listen on %s: %s", name, strerror(e));
		return -1;
	}
	if (listen(fd, backlog) < 0) {
		snprintf(err, errlen, "could not listen on %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Every address one configured host stands for. Returns 0 or -1 (err set). */
static int
listen_tcp_host(struct listen_set *ls, const char *host, int port, int backlog, char *err,
                size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char portstr[16];
	int rc, added = 0, skipped = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "could not resolve listen address \"%s\": %s", host,
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct sockaddr_storage bound;
		socklen_t blen = sizeof(bound);
		char name[INET6_ADDRSTRLEN + 16];
		int fd, i;
		bool dup = false;

		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		/* "localhost, 127.0.0.1" names one address twice */
		for (i = 0; i < ls->n && port != 0; i++) {
			listen_format(ai->ai_addr, name, sizeof(name));
			if (strcmp(ls->name[i], name) == 0)
				dup = true;
		}
		if (dup)
			continue;
		if (ls->n == LISTEN_MAX_SOCKETS) {
			snprintf(err, errlen, "too many listen addresses (at most %d)",
			         LISTEN_MAX_SOCKETS);
			freeaddrinfo(res);
			return -1;
		}
		fd = listen_tcp_one(ai, backlog, err, errlen);
		if (fd == -2) {
			skipped++;
			continue;
		}
		if (fd < 0) {
			freeaddrinfo(res);
			return -1;
		}
		if (getsockname(fd, (struct sockaddr *)&bound, &blen) < 0)
			memcpy(&bound, ai->ai_addr, ai->ai_addrlen);
		listen_format((struct sockaddr *)&bound, name, sizeof(name));
		listen_add(ls, fd, name);
		added++;
	}
	freeaddrinfo(res);
	if (added == 0 && skipped > 0) {
		snprintf(err, errlen,
		         "could not listen on \"%s\": this host has no such address family", host);
		return -1;
	}
	if (skipped > 0)
		log_warn("listen address \"%s\": skipped %d address(es) of a family this host "
		         "lacks",
		         host, skipped);
	return 0;
}

int
listen_remove_stale_socket(const char *path, const char *what, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat sb;
	bool live;
	int fd;

	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot stat %s \"%s\": %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "%s path \"%s\" exists and is not a socket", what, path);
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s path \"%s\" is too long", what, path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket() failed: %s", strerror(errno));
		return -1;
	}
	/* a full backlog (EAGAIN) still means someone listens */
	live = connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EAGAIN;
	close(fd);
	if (live) {
		snprintf(err, errlen, "%s \"%s\" is in use by another process", what, path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale %s \"%s\": %s", what, path,
		         strerror(errno));
		return -1;
	}
	return 1;
}

/* The Unix socket dir/.s.PGSQL.<port>, guarded by dir/.s.PGSQL.<port>.lock. A leftover socket
 * file nobody accepts on (a crashed sqledge) is replaced; a live one is an error, whoever owns
 * it. Returns 0 or -1 (err set). */
static int
listen_unix(struct listen_set *ls, const char *dir, int port, int backlog, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	char path[sizeof(sun.sun_path)], lock[sizeof(sun.sun_path) + 8], pid[32];
	int n, fd, lfd;

	n = snprintf(path, sizeof(path), "%s/.s.PGSQL.%d", dir, port);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(
		        err, errlen,
		        "Unix socket directory \"%s\" is too long (the socket path must fit in %zu "
		        "bytes)",
		        dir, sizeof(sun.sun_path) - 1);
		return -1;
	}
	snprintf(lock, sizeof(lock), "%s.lock", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, (size_t)n + 1);

	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0) {
		snprintf(err, errlen, "could not create lock file \"%s\": %s", lock,
		         strerror(errno));
		return -1;
	}
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen,
		         "could not listen on \"%s\": another process (sqledge or PostgreSQL) is "
		         "using it",
		         path);
		close(lfd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(lfd, 0) < 0 || write_all(lfd, pid, (size_t)n) < 0) {
		snprintf(err, errlen, "could not write lock file \"%s\": %s", lock,
		         strerror(errno));
		close(lfd);
		return -1;
	}
	if (listen_remove_stale_socket(path, "Unix socket", err, errlen) < 0) {
		close(lfd);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0777) < 0 ||
	    listen(fd, backlog) < 0) {
		snprintf(err, errlen, "could not listen on \"%s\": %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		unlink(lock);
		close(lfd);
		return -1;
	}
	listen_add(ls, fd, path);
	ls->unix_path = xstrdup(path);
	ls->lock_path = xstrdup(lock);
	ls->lock_fd = lfd;
	return 0;
}

int
listen_open(struct listen_set *ls, const char *addresses, int port, const char *unix_dir,
            int backlog, char *err, size_t errlen)
{
	char *list = xstrdup(addresses), *save = NULL, *host;

	memset(ls, 0, sizeof(*ls));
	ls->lock_fd = -1;
	for (host = strtok_r(list, LISTEN_ADDR_SEPS, &save); host != NULL;
	     host = strtok_r(NULL, LISTEN_ADDR_SEPS, &save)) {
		if (listen_tcp_host(ls, host, port, backlog, err, errlen) < 0)
			goto fail;
	}
	if (unix_dir != NULL && unix_dir[0] != '\0' &&
	    listen_unix(ls, unix_dir, port, backlog, err, errlen) < 0)
		goto fail;
	if (ls->n == 0) {
		snprintf(err, errlen, "no listen address configured");
		goto fail;
	}
	free(list);
	return 0;
fail:
	free(list);
	listen_close(ls, true);
	return -1;
}

void
listen_close(struct listen_set *ls, bool remove_files)
{
	int i;

	for (i = 0; i < ls->n; i++) {
		close(ls->fd[i]);
		free(ls->name[i]);
	}
	ls->n = 0;
	if (remove_files && ls->unix_path != NULL) {
		unlink(ls->unix_path);
		unlink(ls->lock_path);
	}
	if (ls->lock_fd >= 0)
		close(ls->lock_fd);
	ls->lock_fd = -1;
	free(ls->unix_path);
	free(ls->lock_path);
	ls->unix_path = ls->lock_path = NULL;
}
