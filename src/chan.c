/* SPDX-License-Identifier: MIT */
/* Master <-> worker channel: one typed message per SOCK_SEQPACKET datagram, with an optional
 * file descriptor passed by SCM_RIGHTS. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "chan.h"
#include "log.h"
#include "util.h"

/* Wire header, in host byte order: both ends are on the same machine. */
struct chan_header {
	uint32_t type;
	uint32_t len; /* payload bytes that follow in the same datagram */
};

int
chan_pair(int fds[2])
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("socketpair() for a worker channel failed: %s", strerror(errno));
		return -1;
	}
	fds[0] = sv[0];
	fds[1] = sv[1];
	return 0;
}

bool
chan_has_room(int fd)
{
	int queued = 0, size = 0;
	socklen_t len = sizeof(size);

	if (ioctl(fd, SIOCOUTQ, &queued) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0)
		return false;
	return queued < size / 2;
}

int
chan_send(int fd, uint32_t type, const void *payload, size_t len, int pass_fd)
{
	struct chan_header hdr = {.type = type, .len = (uint32_t)len};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov[2];
	struct msghdr msg;
	struct cmsghdr *cmsg;
	ssize_t n;

	if (len > CHAN_MAX_PAYLOAD) {
		log_error("channel message type %u too large: %zu bytes (at most %d)", type, len,
		          CHAN_MAX_PAYLOAD);
		return -1;
	}

	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	msg.msg_iov = iov;
	msg.msg_iovlen = len > 0 ? 2 : 1;
	if (pass_fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
	}

	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return SQE_AGAIN;
		log_error("sendmsg() of channel message type %u failed: %s", type, strerror(errno));
		return -1;
	}
	/* a SOCK_SEQPACKET datagram is sent whole or not at all */
	return 0;
}

/* Closes every descriptor carried by msg (used when the message is rejected). */
static void
chan_close_fds(struct msghdr *msg)
{
	struct cmsghdr *cmsg;
	size_t i, nfds;
	int fd;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

int
chan_recv(int fd, uint32_t *type, void *buf, size_t cap, size_t *len, int *recv_fd)
{
	struct chan_header hdr;
	union {
		struct cmsghdr align;
		/* room for more than one descriptor so that a bad sender's extras arrive
		 * (and get closed) instead of being lost to MSG_CTRUNC */
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} control;
	struct iovec iov[2];
	struct msghdr msg;
	struct cmsghdr *cmsg;
	ssize_t n;
	int got_fd = -1;
	int r = -1;

	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = buf;
	iov[1].iov_len = cap;
	msg.msg_iov = iov;
	msg.msg_iovlen = cap > 0 ? 2 : 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);

	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return SQE_AGAIN;
		log_error("recvmsg() on a worker channel failed: %s", strerror(errno));
		return -1;
	}
	if (n == 0 && msg.msg_controllen == 0)
		return 0;

	if (msg.msg_flags & MSG_CTRUNC) {
		log_error("channel message with truncated control data (MSG_CTRUNC)");
		goto out;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		log_error("channel message larger than the %zu byte buffer (MSG_TRUNC)", cap);
		goto out;
	}
	if ((size_t)n < sizeof(hdr)) {
		log_error("short channel message: %zd bytes", n);
		goto out;
	}
	if (hdr.len != (size_t)n - sizeof(hdr)) {
		log_error("channel message type %u says %u payload bytes but carries %zu", hdr.type,
		          hdr.len, (size_t)n - sizeof(hdr));
		goto out;
	}
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
			log_error("channel message type %u carries unexpected control data "
			          "(level %d, type %d)",
			          hdr.type, cmsg->cmsg_level, cmsg->cmsg_type);
			goto out;
		}
		if (cmsg->cmsg_len != CMSG_LEN(sizeof(int)) || got_fd >= 0) {
			log_error("channel message type %u carries more than one descriptor",
			          hdr.type);
			goto out;
		}
		memcpy(&got_fd, CMSG_DATA(cmsg), sizeof(int));
	}
	if (got_fd >= 0 && recv_fd == NULL) {
		log_error("channel message type %u carries an unexpected descriptor", hdr.type);
		goto out;
	}

	*type = hdr.type;
	*len = hdr.len;
	if (recv_fd)
		*recv_fd = got_fd;
	r = 1;
out:
	if (r < 0)
		chan_close_fds(&msg);
	return r;
}
