/* SPDX-License-Identifier: MIT */
/* Unit tests for the proxy's listening sockets (listen.c): real sockets on loopback and in a
 * temporary directory, connected to and accepted from. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "util.h"
#include "unit.h"

#define TEST_BACKLOG 16

static char test_err[512];

/* The TCP port a listening socket got. */
static int
test_port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Connects a blocking client to 127.0.0.1:port; returns the descriptor or -1. */
static int
test_connect_tcp(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
test_connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Accepts one pending connection on a non-blocking listener; returns 1 when one was there. */
static int
test_accept_one(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static void
test_listen_tcp_loopback_accepts(void)
{
	struct listen_set ls;
	int port, cfd;

	CHECK_INT(listen_open(&ls, "127.0.0.1", 0, NULL, TEST_BACKLOG, test_err, sizeof(test_err)),
	          0);
	CHECK_INT(ls.n, 1);
	CHECK(strncmp(ls.name[0], "127.0.0.1:", 10) == 0);
	port = test_port_of(ls.fd[0]);
	CHECK(port > 0);
	CHECK(fcntl(ls.fd[0], F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(ls.fd[0], F_GETFD) & FD_CLOEXEC);
	CHECK_INT(test_accept_one(ls.fd[0]), 0); /* nothing pending: EAGAIN, not a hang */
	cfd = test_connect_tcp(port);
	CHECK(cfd >= 0);
	CHECK_INT(test_accept_one(ls.fd[0]), 1);
	if (cfd >= 0)
		close(cfd);
	listen_close(&ls, true);
	CHECK_INT(ls.n, 0);
}

static void
test_listen_port_in_use_is_named(void)
{
	struct listen_set a, b;
	char addr[64];
	int port;

	CHECK_INT(listen_open(&a, "127.0.0.1", 0, NULL, TEST_BACKLOG, test_err, sizeof(test_err)),
	          0);
	port = test_port_of(a.fd[0]);
	CHECK_INT(
	        listen_open(&b, "127.0.0.1", port, NULL, TEST_BACKLOG, test_err, sizeof(test_err)),
	        -1);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	CHECK(strstr(test_err, addr) != NULL);
	CHECK(strstr(test_err, "address already in use") != NULL);
	CHECK_INT(b.n, 0);
	listen_close(&a, true);
}

static void
test_listen_localhost_binds_each_address_once(void)
{
	struct listen_set a, ls;
	int port, i, j, v4 = 0;

	/* a free port, then released, so "localhost" can bind both families on it */
	CHECK_INT(listen_open(&a, "127.0.0.1", 0, NULL, TEST_BACKLOG, test_err, sizeof(test_err)),
	          0);
	port = test_port_of(a.fd[0]);
	listen_close(&a, true);

	CHECK_INT(listen_open(&ls, "localhost, 127.0.0.1 localhost", port, NULL, TEST_BACKLOG,
	                      test_err, sizeof(test_err)),
	          0);
	CHECK(ls.n >= 1 && ls.n <= 2);
	for (i = 0; i < ls.n; i++) {
		CHECK_INT(test_port_of(ls.fd[i]), port);
		if (strncmp(ls.name[i], "127.0.0.1:", 10) == 0)
			v4++;
		for (j = 0; j < i; j++)
			CHECK(strcmp(ls.name[i], ls.name[j]) != 0);
	}
	CHECK_INT(v4, 1);
	listen_close(&ls, true);
}

static void
test_listen_bad_host_is_named(void)
{
	struct listen_set ls;

	CHECK_INT(listen_open(&ls, "127.0.0.1,no-such-host.invalid", 0, NULL, TEST_BACKLOG,
	                      test_err, sizeof(test_err)),
	          -1);
	CHECK(strstr(test_err, "\"no-such-host.invalid\"") != NULL);
	CHECK_INT(ls.n, 0); /* the 127.0.0.1 socket opened first was closed again */
}

static void
test_listen_nothing_configured(void)
{
	struct listen_set ls;

	CHECK_INT(listen_open(&ls, " , ", 0, "", TEST_BACKLOG, test_err, sizeof(test_err)), -1);
	CHECK_STR(test_err, "no listen address configured");
}

static void
test_listen_unix_socket_lifecycle(void)
{
	char dir[] = "/tmp/sqledge-listen-XXXXXX", path[256], lock[300];
	struct listen_set ls, other;
	struct stat st;
	int cfd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/.s.PGSQL.6543", dir);
	snprintf(lock, sizeof(lock), "%s.lock", path);

	/* only the Unix socket: an empty address list is allowed with a directory */
	CHECK_INT(listen_open(&ls, "", 6543, dir, TEST_BACKLOG, test_err, sizeof(test_err)), 0);
	CHECK_INT(ls.n, 1);
	CHECK_STR(ls.name[0], path);
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK(stat(lock, &st) == 0);
	cfd = test_connect_unix(path);
	CHECK(cfd >= 0);
	CHECK_INT(test_accept_one(ls.fd[0]), 1);
	if (cfd >= 0)
		close(cfd);

	/* a second sqledge on the same directory and port is refused, and removes nothing */
	CHECK_INT(listen_open(&other, "", 6543, dir, TEST_BACKLOG, test_err, sizeof(test_err)), -1);
	CHECK(strstr(test_err, path) != NULL);
	CHECK(strstr(test_err, "another process") != NULL);
	CHECK(stat(path, &st) == 0);

	listen_close(&ls, true);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	CHECK(stat(lock, &st) < 0 && errno == ENOENT);
	rmdir(dir);
}

static void
test_listen_unix_replaces_stale_socket(void)
{
	char dir[] = "/tmp/sqledge-listen-XXXXXX", path[64];
	struct sockaddr_un sun;
	struct listen_set ls;
	int fd, cfd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/.s.PGSQL.6544", dir);
	/* what a killed process leaves: a socket file nobody accepts on */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(fd);
	CHECK(test_connect_unix(path) < 0);

	CHECK_INT(listen_open(&ls, "", 6544, dir, TEST_BACKLOG, test_err, sizeof(test_err)), 0);
	cfd = test_connect_unix(path);
	CHECK(cfd >= 0);
	if (cfd >= 0)
		close(cfd);
	listen_close(&ls, true);
	rmdir(dir);
}

static void
test_listen_unix_dir_too_long(void)
{
	char dir[200];
	struct listen_set ls;

	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	CHECK_INT(listen_open(&ls, "", 5433, dir, TEST_BACKLOG, test_err, sizeof(test_err)), -1);
	CHECK(strstr(test_err, "too long") != NULL);
}

static void
test_listen_unix_dir_missing(void)
{
	struct listen_set ls;

	CHECK_INT(listen_open(&ls, "", 5433, "/nonexistent-sqledge-dir", TEST_BACKLOG, test_err,
	                      sizeof(test_err)),
	          -1);
	CHECK(strstr(test_err, "/nonexistent-sqledge-dir/.s.PGSQL.5433.lock") != NULL);
}

int
main(void)
{
	RUN(test_listen_tcp_loopback_accepts);
	RUN(test_listen_port_in_use_is_named);
	RUN(test_listen_localhost_binds_each_address_once);
	RUN(test_listen_bad_host_is_named);
	RUN(test_listen_nothing_configured);
	RUN(test_listen_unix_socket_lifecycle);
	RUN(test_listen_unix_replaces_stale_socket);
	RUN(test_listen_unix_dir_too_long);
	RUN(test_listen_unix_dir_missing);
	return unit_done();
}
