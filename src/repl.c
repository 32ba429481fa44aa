/* SPDX-License-Identifier: MIT */
/* The replication worker: the only process that writes the SQLite copy. (stub) */
#include "config.h"

#include <poll.h>
#include <unistd.h>

#include "repl.h"

int
repl_worker_main(const struct cfg *cfg, int chan_fd, struct shm_state *shm)
{
	char buf[64];
	struct pollfd pfd = {.fd = chan_fd, .events = POLLIN};

	for (;;) {
		if (poll(&pfd, 1, -1) > 0 && read(chan_fd, buf, sizeof(buf)) <= 0)
			return 0;
	}
}
