/* SPDX-License-Identifier: MIT */
/* sqledgectl: finds a running sqledge's control socket, sends it one command and prints the
 * answer. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cfg.h"
#include "ctl.h"
#include "util.h"
#include "version.h"

#define SQLEDGECTL_TIMEOUT_MS 10000
#define SQLEDGECTL_DECOMMISSION_TIMEOUT_MS 120000

/* Exit codes. */
#define SQLEDGECTL_EXIT_OK 0
#define SQLEDGECTL_EXIT_FAILED 1 /* sqledge unreachable, or it answered with an error */
#define SQLEDGECTL_EXIT_USAGE 2  /* bad arguments or configuration */

static void
sqledgectl_usage(FILE *out)
{
	fprintf(out, "usage: sqledgectl [-c FILE] status [--json]\n"
	             "       sqledgectl [-c FILE] verify [TABLE ...]\n"
	             "       sqledgectl [-c FILE] reload | resync | decommission | stop\n"
	             "       sqledgectl --version | --help\n"
	             "\n"
	             "  status [--json]  show the state of the running sqledge\n"
	             "  verify [TABLE]   compare the local copy with the upstream at one position\n"
	             "                   (every table, or those named as schema.table or table)\n"
	             "  reload           read the configuration file again (as SIGHUP does)\n"
	             "  resync           make a new local copy; the current one serves meanwhile\n"
	             "  decommission     drop this node's replication slot upstream, then stop\n"
	             "  stop             stop it gracefully\n"
	             "\n"
	             "  -c, --config FILE  find the control socket through FILE (default: "
	             "SQLEDGE_CONTROL_SOCKET,\n"
	             "                     then " CFG_DEFAULT_PATH " when it exists, then "
	             "./sqledge.sock)\n");
}

/* Sends request on the control socket at path and copies the answer to stdout; timeout_ms < 0
 * waits as long as the answer keeps coming. Returns an exit code: a line of the answer that
 * begins with "error:" makes it a failure. */
static int
sqledgectl_send(const char *path, const char *request, int timeout_ms, bool need_ok)
{
	struct sockaddr_un addr;
	struct timeval tv = {.tv_sec = SQLEDGECTL_TIMEOUT_MS / 1000};
	struct pollfd pfd;
	char buf[4096];
	int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;
	int64_t left;
	size_t total = 0, col = 0;
	char head[6];
	int failed = 0, last_ok = 0;
	ssize_t n;
	int fd, r = SQLEDGECTL_EXIT_FAILED;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "sqledgectl: control socket path \"%s\" is too long\n", path);
		return SQLEDGECTL_EXIT_FAILED;
	}
	memcpy(addr.sun_path, path, strlen(path));

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "sqledgectl: socket() failed: %s\n", strerror(errno));
		return SQLEDGECTL_EXIT_FAILED;
	}
	/* bounds connect() and the request write when the master is stuck */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "sqledgectl: cannot connect to \"%s\": %s (is sqledge running?)\n",
		        path, strerror(errno));
		goto out;
	}
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request)) {
		fprintf(stderr, "sqledgectl: sending to \"%s\" failed: %s\n", path,
		        strerror(errno));
		goto out;
	}

	for (;;) {
		left = timeout_ms < 0 ? -1 : (deadline - time_mono_us()) / 1000;
		if (timeout_ms >= 0 && left <= 0) {
			fprintf(stderr, "sqledgectl: no answer from \"%s\" within %d s\n", path,
			        timeout_ms / 1000);
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sqledgectl: poll() failed: %s\n", strerror(errno));
			goto out;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sqledgectl: reading from \"%s\" failed: %s\n", path,
			        strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				last_ok = col >= 3 && memcmp(head, "ok:", 3) == 0;
				col = 0;
				continue;
			}
			if (col < sizeof(head)) {
				head[col] = buf[i];
				if (col == sizeof(head) - 1 && memcmp(head, "error:", 6) == 0)
					failed = 1;
			}
			col++;
		}
		total += (size_t)n;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	if (total == 0) {
		fprintf(stderr, "sqledgectl: \"%s\" closed the connection without an answer\n",
		        path);
		goto out;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "sqledgectl: writing the answer failed: %s\n", strerror(errno));
		goto out;
	}
	if (need_ok && !failed && !last_ok) {
		fprintf(stderr, "sqledgectl: the answer ended without a result (sqledge stopped, "
		                "or the process that answered died: see its log)\n");
		failed = 1;
	}
	r = failed ? SQLEDGECTL_EXIT_FAILED : SQLEDGECTL_EXIT_OK;
out:
	close(fd);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	const char *request;
	struct strbuf verify;
	int timeout_ms = SQLEDGECTL_TIMEOUT_MS;
	const char *env;
	struct cfg *cfg = NULL;
	char *sock;
	int opt, r;

	/* '+': stop at the command, whose own options ("--json") are parsed below */
	while ((opt = getopt_long(argc, argv, "+c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'V':
			printf("sqledgectl %s\n", SQLEDGE_VERSION);
			return SQLEDGECTL_EXIT_OK;
		case 'h':
			sqledgectl_usage(stdout);
			return SQLEDGECTL_EXIT_OK;
		default:
			sqledgectl_usage(stderr);
			return SQLEDGECTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	strbuf_init(&verify);
	if (argc >= 1 && strcmp(argv[0], "verify") == 0) {
		strbuf_puts(&verify, "verify");
		for (int i = 1; i < argc; i++) {
			const char *a = argv[i];

			if (*a == '\0' || a[strcspn(a, " \t\r\n")] != '\0' || a[0] == '-') {
				fprintf(stderr,
				        "sqledgectl: \"%s\" is not a table name (schema.table or "
				        "table)\n",
				        a);
				sqledgectl_usage(stderr);
				strbuf_free(&verify);
				return SQLEDGECTL_EXIT_USAGE;
			}
			strbuf_printf(&verify, " %s", a);
		}
		strbuf_putc(&verify, '\n');
		if (verify.len > 1000) {
			fprintf(stderr, "sqledgectl: too many table names for one verify\n");
			strbuf_free(&verify);
			return SQLEDGECTL_EXIT_USAGE;
		}
		request = strbuf_str(&verify);
		timeout_ms = -1; /* it reports each table as it goes */
	} else if (argc == 1 && strcmp(argv[0], "status") == 0) {
		request = "status\n";
	} else if (argc == 2 && strcmp(argv[0], "status") == 0 && strcmp(argv[1], "--json") == 0) {
		request = "status json\n";
	} else if (argc == 1 && strcmp(argv[0], "stop") == 0) {
		request = "stop\n";
	} else if (argc == 1 && strcmp(argv[0], "reload") == 0) {
		request = "reload\n";
	} else if (argc == 1 && strcmp(argv[0], "resync") == 0) {
		request = "resync\n";
	} else if (argc == 1 && strcmp(argv[0], "decommission") == 0) {
		request = "decommission\n";
		timeout_ms = SQLEDGECTL_DECOMMISSION_TIMEOUT_MS; /* it waits for the upstream */
	} else {
		if (argc == 0)
			fprintf(stderr, "sqledgectl: no command given\n");
		else
			fprintf(stderr, "sqledgectl: unknown command or arguments: \"%s\"%s\n",
			        argv[0], argc > 1 ? " ..." : "");
		sqledgectl_usage(stderr);
		return SQLEDGECTL_EXIT_USAGE;
	}

	/* Where the socket is (DESIGN.md section 7): -c FILE, then SQLEDGE_CONTROL_SOCKET, then
	 * the system configuration when present, then the default next to a sqledge started
	 * without one. The environment applies on top of the file in every case (cfg_load()),
	 * and an explicitly set socket needs no (possibly unreadable) system file. */
	env = getenv("SQLEDGE_CONTROL_SOCKET");
	if (path == NULL && (env == NULL || *env == '\0') && access(CFG_DEFAULT_PATH, F_OK) == 0)
		path = CFG_DEFAULT_PATH;
	if (cfg_load(path, stderr, &cfg) < 0) {
		strbuf_free(&verify);
		return SQLEDGECTL_EXIT_USAGE; /* the problems are on stderr already */
	}

	sock = ctl_socket_path(cfg);
	r = sqledgectl_send(sock, request, timeout_ms, verify.len > 0);
	strbuf_free(&verify);
	free(sock);
	cfg_free(cfg);
	return r;
}
