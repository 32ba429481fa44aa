/* SPDX-License-Identifier: MIT */
/* Unit tests for the master <-> worker plumbing: the channel (chan.c), the shared memory and its
 * seqlock (shm.c, with a real second process) and the failpoints (failpoint.c, in children). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "failpoint.h"
#include "shm.h"
#include "util.h"
#include "unit.h"

/* A forked child that hangs is killed by SIGALRM after this long, so a broken build fails
 * instead of stalling make check. */
#define TEST_CHILD_ALARM_S 10

/* Sentinels for out-parameters that a failed call must leave alone. */
#define TEST_TYPE_UNSET 0xdeadu
#define TEST_LEN_UNSET 4242u
#define TEST_FD_UNSET (-77)

/* Reads the pipe's read end without blocking: 1 when every write end is closed (EOF), 0 when
 * one is still open somewhere. Used to prove that a descriptor carried by a rejected message
 * was closed by chan_recv() rather than leaked. */
static int
test_pipe_writers_gone(int rd)
{
	char c;
	ssize_t n;

	if (fcntl(rd, F_SETFL, fcntl(rd, F_GETFL) | O_NONBLOCK) < 0)
		return -1;
	n = read(rd, &c, 1);
	if (n == 0)
		return 1;
	return n < 0 && errno == EAGAIN ? 0 : -1;
}

static void
test_chan_pair_sets_cloexec_on_both_ends(void)
{
	int fds[2];

	CHECK_INT(chan_pair(fds), 0);
	CHECK_INT(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	CHECK_INT(fcntl(fds[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_round_trips_a_message_both_ways(void)
{
	int fds[2], rfd = TEST_FD_UNSET;
	uint32_t type = TEST_TYPE_UNSET;
	size_t len = TEST_LEN_UNSET;
	char buf[CHAN_MAX_PAYLOAD];

	CHECK_INT(chan_pair(fds), 0);
	CHECK_INT(chan_send(fds[0], CHAN_MSG_RELOAD, "hello", 5, -1), 0);
	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), 1);
	CHECK_INT(type, CHAN_MSG_RELOAD);
	CHECK_MEM(buf, len, "hello", 5);
	CHECK_INT(rfd, -1);

	/* an empty payload, the other way, and recv_fd may be NULL when none is expected */
	CHECK_INT(chan_send(fds[1], CHAN_MSG_STATUS_REQ, NULL, 0, -1), 0);
	len = TEST_LEN_UNSET;
	CHECK_INT(chan_recv(fds[0], &type, buf, sizeof(buf), &len, NULL), 1);
	CHECK_INT(type, CHAN_MSG_STATUS_REQ);
	CHECK_INT(len, 0);

	/* message boundaries are kept: two sends are two receives */
	CHECK_INT(chan_send(fds[0], CHAN_MSG_QUIT, "a", 1, -1), 0);
	CHECK_INT(chan_send(fds[0], CHAN_MSG_STATUS_ANS, "bc", 2, -1), 0);
	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), 1);
	CHECK_INT(type, CHAN_MSG_QUIT);
	CHECK_MEM(buf, len, "a", 1);
	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), 1);
	CHECK_INT(type, CHAN_MSG_STATUS_ANS);
	CHECK_MEM(buf, len, "bc", 2);
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_passes_a_descriptor(void)
{
	int fds[2], pfd[2], rfd = TEST_FD_UNSET;
	uint32_t type = TEST_TYPE_UNSET;
	size_t len = TEST_LEN_UNSET;
	char buf[16], c = 0;

	CHECK_INT(chan_pair(fds), 0);
	CHECK_INT(pipe(pfd), 0);
	CHECK_INT(chan_send(fds[1], CHAN_MSG_CANCEL_FWD, "key", 3, pfd[1]), 0);
	/* the sender keeps no claim on it: the message holds its own reference */
	close(pfd[1]);
	CHECK_INT(chan_recv(fds[0], &type, buf, sizeof(buf), &len, &rfd), 1);
	CHECK_INT(type, CHAN_MSG_CANCEL_FWD);
	CHECK_MEM(buf, len, "key", 3);
	CHECK(rfd >= 0);
	if (rfd >= 0) {
		/* received with MSG_CMSG_CLOEXEC: workers exec nothing, but no leak either */
		CHECK_INT(fcntl(rfd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		/* it is the same pipe */
		CHECK_INT(write(rfd, "z", 1), 1);
		CHECK_INT(read(pfd[0], &c, 1), 1);
		CHECK_INT(c, 'z');
		close(rfd);
		CHECK_INT(test_pipe_writers_gone(pfd[0]), 1);
	}
	close(pfd[0]);
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_rejects_and_closes_an_unexpected_descriptor(void)
{
	int fds[2], pfd[2];
	uint32_t type = TEST_TYPE_UNSET;
	size_t len = TEST_LEN_UNSET;
	char buf[16];

	CHECK_INT(chan_pair(fds), 0);
	CHECK_INT(pipe(pfd), 0);
	CHECK_INT(chan_send(fds[1], CHAN_MSG_STATUS_ANS, "x", 1, pfd[1]), 0);
	close(pfd[1]);
	/* the caller passed recv_fd == NULL: it does not expect a descriptor */
	CHECK_INT(chan_recv(fds[0], &type, buf, sizeof(buf), &len, NULL), -1);
	CHECK_INT(type, TEST_TYPE_UNSET);
	CHECK_INT(len, TEST_LEN_UNSET);
	CHECK_INT(test_pipe_writers_gone(pfd[0]), 1);
	close(pfd[0]);
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_rejects_truncated_message(void)
{
	int fds[2], pfd[2], rfd = TEST_FD_UNSET;
	uint32_t type = TEST_TYPE_UNSET;
	size_t len = TEST_LEN_UNSET;
	char small[4];

	CHECK_INT(chan_pair(fds), 0);
	CHECK_INT(pipe(pfd), 0);
	/* 9 payload bytes into a 4 byte buffer, with a descriptor that must not leak */
	CHECK_INT(chan_send(fds[0], CHAN_MSG_STATUS_ANS, "123456789", 9, pfd[1]), 0);
	close(pfd[1]);
	CHECK_INT(chan_recv(fds[1], &type, small, sizeof(small), &len, &rfd), -1);
	CHECK_INT(type, TEST_TYPE_UNSET);
	CHECK_INT(len, TEST_LEN_UNSET);
	CHECK_INT(rfd, TEST_FD_UNSET);
	CHECK_INT(test_pipe_writers_gone(pfd[0]), 1);
	close(pfd[0]);

	/* the rest of that datagram is gone; the next message arrives intact */
	CHECK_INT(chan_send(fds[0], CHAN_MSG_STATUS_REQ, "ab", 2, -1), 0);
	CHECK_INT(chan_recv(fds[1], &type, small, sizeof(small), &len, &rfd), 1);
	CHECK_INT(type, CHAN_MSG_STATUS_REQ);
	CHECK_MEM(small, len, "ab", 2);

	/* a payload that exactly fills the buffer is not truncation */
	CHECK_INT(chan_send(fds[0], CHAN_MSG_STATUS_ANS, "wxyz", 4, -1), 0);
	CHECK_INT(chan_recv(fds[1], &type, small, sizeof(small), &len, &rfd), 1);
	CHECK_MEM(small, len, "wxyz", 4);
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_rejects_short_and_inconsistent_headers(void)
{
	int fds[2], rfd = TEST_FD_UNSET;
	uint32_t type = TEST_TYPE_UNSET;
	size_t len = TEST_LEN_UNSET;
	char buf[64];
	uint32_t says_more[3] = {CHAN_MSG_QUIT, 8, 0};    /* 4 payload bytes, header says 8 */
	uint32_t says_less[4] = {CHAN_MSG_QUIT, 0, 1, 2}; /* 8 payload bytes, header says 0 */

	CHECK_INT(chan_pair(fds), 0);
	/* fewer bytes than a header */
	CHECK_INT(send(fds[0], "abc", 3, 0), 3);
	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), -1);
	CHECK_INT(send(fds[0], says_more, sizeof(says_more), 0), (ssize_t)sizeof(says_more));
	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), -1);
	CHECK_INT(send(fds[0], says_less, sizeof(says_less), 0), (ssize_t)sizeof(says_less));
	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), -1);
	CHECK_INT(type, TEST_TYPE_UNSET);
	CHECK_INT(len, TEST_LEN_UNSET);
	CHECK_INT(rfd, TEST_FD_UNSET);
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_rejects_and_closes_two_descriptors(void)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} control;
	uint32_t hdr[2] = {CHAN_MSG_CANCEL_FWD, 0};
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	struct msghdr msg;
	struct cmsghdr *cmsg;
	int fds[2], p1[2], p2[2], two[2], rfd = TEST_FD_UNSET;
	uint32_t type = TEST_TYPE_UNSET;
	size_t len = TEST_LEN_UNSET;
	char buf[16];

	CHECK_INT(chan_pair(fds), 0);
	CHECK_INT(pipe(p1), 0);
	CHECK_INT(pipe(p2), 0);
	/* a misbehaving sender: one SCM_RIGHTS with two descriptors */
	memset(&msg, 0, sizeof(msg));
	memset(&control, 0, sizeof(control));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
	two[0] = p1[1];
	two[1] = p2[1];
	memcpy(CMSG_DATA(cmsg), two, sizeof(two));
	CHECK_INT(sendmsg(fds[0], &msg, 0), (ssize_t)sizeof(hdr));
	close(p1[1]);
	close(p2[1]);

	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), -1);
	CHECK_INT(rfd, TEST_FD_UNSET);
	CHECK_INT(test_pipe_writers_gone(p1[0]), 1);
	CHECK_INT(test_pipe_writers_gone(p2[0]), 1);
	close(p1[0]);
	close(p2[0]);
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_send_rejects_oversized_payload(void)
{
	int fds[2], rfd;
	uint32_t type;
	size_t len = TEST_LEN_UNSET;
	char *big = xcalloc(1, CHAN_MAX_PAYLOAD + 1);
	char *in = xmalloc(CHAN_MAX_PAYLOAD);

	CHECK_INT(chan_pair(fds), 0);
	CHECK_INT(chan_send(fds[0], CHAN_MSG_STATUS_ANS, big, CHAN_MAX_PAYLOAD + 1, -1), -1);
	/* the limit itself is allowed and arrives whole */
	big[0] = 'f';
	big[CHAN_MAX_PAYLOAD - 1] = 'l';
	CHECK_INT(chan_send(fds[0], CHAN_MSG_STATUS_ANS, big, CHAN_MAX_PAYLOAD, -1), 0);
	CHECK_INT(chan_recv(fds[1], &type, in, CHAN_MAX_PAYLOAD, &len, &rfd), 1);
	CHECK_MEM(in, len, big, CHAN_MAX_PAYLOAD);
	free(big);
	free(in);
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_reports_again_on_nonblocking_socket(void)
{
	int fds[2], rfd = TEST_FD_UNSET, r = 0, i;
	uint32_t type = TEST_TYPE_UNSET;
	size_t len = TEST_LEN_UNSET;
	char buf[4000] = {0};

	CHECK_INT(chan_pair(fds), 0);
	CHECK_INT(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	CHECK_INT(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), SQE_AGAIN);
	CHECK_INT(type, TEST_TYPE_UNSET);
	CHECK_INT(len, TEST_LEN_UNSET);
	CHECK_INT(rfd, TEST_FD_UNSET);
	/* nobody reads: the socket buffer fills up (a few hundred kB at most) */
	for (i = 0; i < 100000; i++) {
		r = chan_send(fds[0], CHAN_MSG_STATUS_ANS, buf, sizeof(buf), -1);
		if (r != 0)
			break;
	}
	CHECK_INT(r, SQE_AGAIN);
	/* and drains message by message */
	CHECK_INT(chan_recv(fds[1], &type, buf, sizeof(buf), &len, &rfd), 1);
	CHECK_INT(len, sizeof(buf));
	close(fds[0]);
	close(fds[1]);
}

static void
test_chan_recv_reports_eof_when_peer_closes(void)
{
	int fds[2], rfd = TEST_FD_UNSET, status = 0;
	uint32_t type = TEST_TYPE_UNSET;
	size_t len = TEST_LEN_UNSET;
	char buf[16];
	pid_t pid;

	CHECK_INT(chan_pair(fds), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* a worker that says one thing and exits */
		alarm(TEST_CHILD_ALARM_S);
		close(fds[0]);
		_exit(chan_send(fds[1], CHAN_MSG_STATUS_ANS, "bye", 3, -1) == 0 ? 0 : 1);
	}
	close(fds[1]);
	/* queued messages come first, then EOF: blocking reads, no sleeps */
	CHECK_INT(chan_recv(fds[0], &type, buf, sizeof(buf), &len, &rfd), 1);
	CHECK_INT(type, CHAN_MSG_STATUS_ANS);
	CHECK_MEM(buf, len, "bye", 3);
	type = TEST_TYPE_UNSET;
	len = TEST_LEN_UNSET;
	rfd = TEST_FD_UNSET;
	CHECK_INT(chan_recv(fds[0], &type, buf, sizeof(buf), &len, &rfd), 0);
	CHECK_INT(type, TEST_TYPE_UNSET);
	CHECK_INT(len, TEST_LEN_UNSET);
	CHECK_INT(rfd, TEST_FD_UNSET);
	/* and it stays at EOF */
	CHECK_INT(chan_recv(fds[0], &type, buf, sizeof(buf), &len, &rfd), 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fds[0]);

	/* sending to a closed peer is an error, not SIGPIPE */
	CHECK_INT(chan_pair(fds), 0);
	close(fds[1]);
	CHECK_INT(chan_send(fds[0], CHAN_MSG_QUIT, NULL, 0, -1), -1);
	close(fds[0]);
}

static void
test_shm_create_initialises_header(void)
{
	struct shm_state *shm = shm_create();
	int64_t now = time_real_us();

	CHECK(shm != NULL);
	if (shm == NULL)
		return;
	CHECK_INT(shm->magic, SHM_MAGIC);
	CHECK_INT(shm->version, SHM_VERSION);
	CHECK(shm->started_us > now - 10000000 && shm->started_us <= now);
	CHECK_INT(shm->seq, 0);
	CHECK_INT(shm_load(shm->repl_state), REPL_STATE_STARTING);
	CHECK_INT(shm_load(shm->applied_lsn), 0);
	CHECK_INT(shm->last_error[0], '\0');
	CHECK_STR(repl_state_name(REPL_STATE_INITIAL_SYNC), "initial_sync");
	CHECK_STR(repl_state_name(REPL_STATE_FAILED), "failed");
	CHECK_STR(repl_state_name((enum repl_state)99), "unknown");
	munmap(shm, sizeof(*shm));
}

static void
test_shm_string_round_trips_and_truncates(void)
{
	struct shm_state *shm = shm_create();
	char out[sizeof(shm->slot_name)], longer[200];
	size_t i;

	if (shm == NULL) {
		CHECK(shm != NULL);
		return;
	}
	SHM_SET_STR(shm, slot_name, "slot_a");
	SHM_GET_STR(shm, slot_name, out);
	CHECK_STR(out, "slot_a");
	CHECK_INT(shm->seq % 2, 0);

	/* longer than the field: cut to size - 1 bytes and terminated */
	memset(longer, 'L', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	SHM_SET_STR(shm, slot_name, longer);
	SHM_GET_STR(shm, slot_name, out);
	CHECK_INT(strlen(out), sizeof(shm->slot_name) - 1);

	/* a shorter value clears the tail of the longer one */
	SHM_SET_STR(shm, slot_name, "b");
	SHM_GET_STR(shm, slot_name, out);
	CHECK_STR(out, "b");
	for (i = 1; i < sizeof(shm->slot_name); i++)
		CHECK_INT(shm->slot_name[i], '\0');

	/* NULL clears */
	SHM_SET_STR(shm, slot_name, NULL);
	SHM_GET_STR(shm, slot_name, out);
	CHECK_STR(out, "");
	munmap(shm, sizeof(*shm));
}

/* Classifies one copy of last_error made while a writer alternates a and b. */
static void
test_shm_classify(const char *got, const char *a, const char *b, int counts[4])
{
	if (strcmp(got, a) == 0)
		counts[0]++;
	else if (strcmp(got, b) == 0)
		counts[1]++;
	else if (got[0] == '\0')
		counts[2]++; /* the reader gave up (writer preempted mid-write): allowed */
	else
		counts[3]++; /* torn */
}

static void
test_shm_seqlock_reader_never_sees_torn_string(void)
{
	struct shm_state *shm = shm_create();
	char a[sizeof(shm->last_error)], b[200], got[sizeof(shm->last_error)];
	int *stop, ready[2], status = 0, counts[4] = {0, 0, 0, 0};
	int64_t end, hard_end, now;
	volatile unsigned spin;
	unsigned i;
	pid_t pid;
	char c;

	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == NULL || stop == MAP_FAILED || pipe(ready) < 0) {
		CHECK(!"setup");
		return;
	}
	*stop = 0;
	/* different bytes and different lengths: any mix of the two is detectable */
	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memset(b, 'b', sizeof(b) - 1);
	b[sizeof(b) - 1] = '\0';
	SHM_SET_STR(shm, last_error, a);

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* the writer: bursts of back-to-back writes and short pauses, so that the reader
		 * both overlaps writes and finds quiet moments */
		alarm(TEST_CHILD_ALARM_S);
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (i = 0; !__atomic_load_n(stop, __ATOMIC_ACQUIRE); i++) {
			SHM_SET_STR(shm, last_error, (i & 1) ? b : a);
			for (spin = 0; spin < (i % 64) * 16; spin++)
				;
		}
		_exit(0);
	}
	close(ready[1]);
	CHECK_INT(read(ready[0], &c, 1), 1);
	close(ready[0]);

	/* read for 300 ms, longer (up to 1.5 s) if one of the values was not seen yet */
	now = time_mono_us();
	end = now + 300000;
	hard_end = now + 1500000;
	while (now < end || ((counts[0] == 0 || counts[1] == 0) && now < hard_end)) {
		SHM_GET_STR(shm, last_error, got);
		test_shm_classify(got, a, b, counts);
		now = time_mono_us();
	}
	__atomic_store_n(stop, 1, __ATOMIC_RELEASE);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	CHECK_INT(counts[3], 0);
	/* both values were read: the writer really ran during the reads */
	CHECK(counts[0] > 0);
	CHECK(counts[1] > 0);
	munmap(stop, sizeof(*stop));
	munmap(shm, sizeof(*shm));
}

static void
test_shm_reader_survives_writer_killed_mid_write(void)
{
	struct shm_state *shm = shm_create();
	char a[sizeof(shm->last_error)], got[sizeof(shm->last_error)];
	int ready[2], status = 0;
	int64_t start, took;
	uint32_t seq;
	unsigned i;
	pid_t pid;
	char c;

	if (shm == NULL || pipe(ready) < 0) {
		CHECK(!"setup");
		return;
	}
	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	SHM_SET_STR(shm, last_error, "before");

	/* a real writer killed at an arbitrary moment (most of its time is spent mid-write) */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(TEST_CHILD_ALARM_S);
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (i = 0;; i++)
			SHM_SET_STR(shm, last_error, (i & 1) ? "b" : a);
	}
	close(ready[1]);
	CHECK_INT(read(ready[0], &c, 1), 1);
	close(ready[0]);
	CHECK_INT(kill(pid, SIGKILL), 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	start = time_mono_us();
	SHM_GET_STR(shm, last_error, got);
	took = time_mono_us() - start;
	CHECK(took < 1000000);
	CHECK(strcmp(got, "") == 0 || strcmp(got, "b") == 0 || strcmp(got, a) == 0 ||
	      strcmp(got, "before") == 0);

	/* make sure the worst case was exercised whatever the moment of the kill: the state a
	 * writer killed in the middle leaves behind, seq odd and the field half written */
	seq = __atomic_load_n(&shm->seq, __ATOMIC_RELAXED);
	if (!(seq & 1))
		__atomic_store_n(&shm->seq, seq + 1, __ATOMIC_RELEASE);
	memcpy(shm->last_error, "bbbb", 4);
	start = time_mono_us();
	SHM_GET_STR(shm, last_error, got);
	took = time_mono_us() - start;
	/* gives up with "" after about 100 ms instead of spinning or returning the mix */
	CHECK_STR(got, "");
	CHECK(took < 1000000);

	/* the successor (the respawned worker) writes again and readers recover */
	SHM_SET_STR(shm, last_error, "after restart");
	CHECK_INT(shm->seq % 2, 0);
	start = time_mono_us();
	SHM_GET_STR(shm, last_error, got);
	took = time_mono_us() - start;
	CHECK_STR(got, "after restart");
	CHECK(took < 50000);
	munmap(shm, sizeof(*shm));
}

/* Runs a child with SQLEDGE_FAILPOINTS=env that hits names[0..n) in order and reports each
 * hit it survives with one byte on a pipe. Returns the child's wait status; *survived is the
 * number of hits that returned. */
static int
test_failpoint_child(const char *env, const char *const *names, size_t n, int *survived)
{
	int pfd[2], status = -1;
	size_t i;
	pid_t pid;
	char c;

	*survived = -1;
	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		alarm(TEST_CHILD_ALARM_S);
		close(pfd[0]);
		if (env)
			setenv("SQLEDGE_FAILPOINTS", env, 1);
		else
			unsetenv("SQLEDGE_FAILPOINTS");
		failpoint_init();
		for (i = 0; i < n; i++) {
			failpoint_hit(names[i]);
			if (write(pfd[1], "h", 1) != 1)
				_exit(3);
		}
		_exit(0);
	}
	close(pfd[1]);
	*survived = 0;
	while (read(pfd[0], &c, 1) == 1)
		(*survived)++;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return status;
}

#define TEST_KILLED(status) (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
#define TEST_EXITED_0(status) (WIFEXITED(status) && WEXITSTATUS(status) == 0)

static void
test_failpoint_fires_on_nth_hit(void)
{
	/* other points in between do not advance the count */
	static const char *const hits[] = {"store.commit", "other",        "store.commit", "other",
	                                   "store.commit", "store.commit", "store.commit"};
	int survived, status;

	status = test_failpoint_child("store.commit@3", hits, ARRAY_SIZE(hits), &survived);
	CHECK(TEST_KILLED(status));
	/* hits 1, 2 (and the two others) returned; the third did not */
	CHECK_INT(survived, 4);

	/* just below the count: never fires */
	status = test_failpoint_child("store.commit@6", hits, ARRAY_SIZE(hits), &survived);
	CHECK(TEST_EXITED_0(status));
	CHECK_INT(survived, ARRAY_SIZE(hits));
}

static void
test_failpoint_fires_on_first_hit_by_default(void)
{
	static const char *const hits[] = {"other", "repl.after_apply", "repl.after_apply"};
	int survived, status;

	status = test_failpoint_child("repl.after_apply", hits, ARRAY_SIZE(hits), &survived);
	CHECK(TEST_KILLED(status));
	CHECK_INT(survived, 1);
	/* explicit @1 is the same */
	status = test_failpoint_child("x,repl.after_apply@1", hits, ARRAY_SIZE(hits), &survived);
	CHECK(TEST_KILLED(status));
	CHECK_INT(survived, 1);
}

static void
test_failpoint_does_nothing_when_unset(void)
{
	static const char *const hits[] = {"a", "a", "b", "store.commit"};
	int survived, status;

	status = test_failpoint_child(NULL, hits, ARRAY_SIZE(hits), &survived);
	CHECK(TEST_EXITED_0(status));
	CHECK_INT(survived, ARRAY_SIZE(hits));
	status = test_failpoint_child("", hits, ARRAY_SIZE(hits), &survived);
	CHECK(TEST_EXITED_0(status));
	CHECK_INT(survived, ARRAY_SIZE(hits));
}

static void
test_failpoint_ignores_malformed_entries(void)
{
	/* bad names, bad counts, an over-long name, empty entries; " b " and "a@2" are fine */
	static const char env[] =
	        "bad name,c@0,d@x,@2,e@-1,f@4294967296,g@,h@3x,"
	        "waytoolong_waytoolong_waytoolong_waytoolong_waytoolong_waytoolong_x,"
	        " b ,,a@2";
	static const char *const malformed[] = {
	        "bad name",
	        "bad",
	        "c",
	        "c",
	        "d",
	        "",
	        "e",
	        "f",
	        "g",
	        "h",
	        "waytoolong_waytoolong_waytoolong_waytoolong_waytoolong_waytoolong_x",
	        "waytoolong_waytoolong_waytoolong_waytoolong_waytoolong_waytoolong_",
	        "waytoolong_waytoolong_waytoolong_waytoolong_waytoolong_waytoolo",
	        "a",
	};
	static const char *const hit_b[] = {"b"};
	static const char *const hit_a[] = {"a", "a", "a"};
	int survived, status;

	/* none of the malformed entries is armed (and "a" only fires on its 2nd hit) */
	status = test_failpoint_child(env, malformed, ARRAY_SIZE(malformed), &survived);
	CHECK(TEST_EXITED_0(status));
	CHECK_INT(survived, ARRAY_SIZE(malformed));
	/* the well-formed entries among them are armed, blanks trimmed */
	status = test_failpoint_child(env, hit_b, ARRAY_SIZE(hit_b), &survived);
	CHECK(TEST_KILLED(status));
	CHECK_INT(survived, 0);
	status = test_failpoint_child(env, hit_a, ARRAY_SIZE(hit_a), &survived);
	CHECK(TEST_KILLED(status));
	CHECK_INT(survived, 1);
}

int
main(void)
{
	RUN(test_chan_pair_sets_cloexec_on_both_ends);
	RUN(test_chan_round_trips_a_message_both_ways);
	RUN(test_chan_passes_a_descriptor);
	RUN(test_chan_rejects_and_closes_an_unexpected_descriptor);
	RUN(test_chan_rejects_truncated_message);
	RUN(test_chan_rejects_short_and_inconsistent_headers);
	RUN(test_chan_rejects_and_closes_two_descriptors);
	RUN(test_chan_send_rejects_oversized_payload);
	RUN(test_chan_reports_again_on_nonblocking_socket);
	RUN(test_chan_recv_reports_eof_when_peer_closes);
	RUN(test_shm_create_initialises_header);
	RUN(test_shm_string_round_trips_and_truncates);
	RUN(test_shm_seqlock_reader_never_sees_torn_string);
	RUN(test_shm_reader_survives_writer_killed_mid_write);
	RUN(test_failpoint_fires_on_nth_hit);
	RUN(test_failpoint_fires_on_first_hit_by_default);
	RUN(test_failpoint_does_nothing_when_unset);
	RUN(test_failpoint_ignores_malformed_entries);
	return unit_done();
}
