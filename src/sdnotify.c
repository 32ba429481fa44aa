/* SPDX-License-Identifier: MIT */
/* systemd notifications without libsystemd: one datagram to $NOTIFY_SOCKET, as openssh's
 * ssh_systemd_notify() does. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

void
sdnotify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr;
	socklen_t addr_len;
	size_t path_len;
	int fd;

	if (path == NULL || *path == '\0')
		return;
	path_len = strlen(path);
	if (path[0] != '/' && path[0] != '@') {
		log_warn("NOTIFY_SOCKET \"%s\" is neither a path nor an abstract socket name, "
		         "not notifying systemd",
		         path);
		return;
	}
	if (path_len >= sizeof(addr.sun_path)) {
		log_warn("NOTIFY_SOCKET \"%s\" is too long, not notifying systemd", path);
		return;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, path_len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0'; /* abstract namespace: the name is not NUL-terminated */
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket() for systemd notification failed: %s", strerror(errno));
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len) < 0)
		log_warn("sending \"%s\" to NOTIFY_SOCKET \"%s\" failed: %s", state, path,
		         strerror(errno));
	else
		log_debug("notified systemd: %s", state);
	close(fd);
}
