/* SPDX-License-Identifier: MIT */
/* Shared memory between the master and its workers: one anonymous shared mapping made before
 * fork, 64-bit counters read with atomics and a seqlock around the strings. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"
#include "util.h"

/* A reader gives up on a consistent copy (and returns "") when seq stays at one odd value this
 * long: the writer was killed in the middle of shm_set_string() and seq stays odd until its
 * successor writes again, and a status request must not spin until then. A live writer holds
 * it for microseconds. */
#define SHM_READ_STUCK_US 100000
/* ... or when the strings keep changing under it for this long (never seen in practice). */
#define SHM_READ_MAX_US 1000000

struct shm_state *
shm_create(void)
{
	struct shm_state *shm;

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		log_error("mmap() of %zu bytes of shared memory failed: %s", sizeof(*shm),
		          strerror(errno));
		return NULL;
	}
	memset(shm, 0, sizeof(*shm));
	shm->magic = SHM_MAGIC;
	shm->version = SHM_VERSION;
	shm->started_us = time_real_us();
	shm->positions_comparable = 1;
	shm->hold_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (shm->hold_wake_fd < 0) {
		log_error("eventfd() failed: %s", strerror(errno));
		munmap(shm, sizeof(*shm));
		return NULL;
	}
	return shm;
}

void
shm_hold_wake(struct shm_state *shm)
{
	uint64_t one = 1;

	if (write(shm->hold_wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("cannot wake the replication worker: %s", strerror(errno));
}

void
shm_set_string(struct shm_state *shm, char *field, size_t size, const char *value)
{
	uint32_t seq = __atomic_load_n(&shm->seq, __ATOMIC_RELAXED);
	size_t n = value ? strnlen(value, size - 1) : 0;
	size_t i;

	/* a predecessor killed mid-write left seq odd: step past it so odd still means
	 * "being written" */
	if (seq & 1)
		seq++;
	__atomic_store_n(&shm->seq, seq + 1, __ATOMIC_RELAXED);
	/* the odd seq must be visible before any byte of the new value */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (i = 0; i < size; i++)
		__atomic_store_n(&field[i], i < n ? value[i] : '\0', __ATOMIC_RELAXED);
	__atomic_store_n(&shm->seq, seq + 2, __ATOMIC_RELEASE);
}

void
shm_get_string(const struct shm_state *shm, const char *field, size_t size, char *out)
{
	uint32_t before, after, stuck_seq = 0;
	int64_t start = 0, stuck_since = 0, now;
	size_t i;

	if (size == 0)
		return;
	for (;;) {
		before = __atomic_load_n(&shm->seq, __ATOMIC_ACQUIRE);
		if (!(before & 1)) {
			for (i = 0; i < size; i++)
				out[i] = __atomic_load_n(&field[i], __ATOMIC_RELAXED);
			/* the copy must be complete before seq is read again */
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			after = __atomic_load_n(&shm->seq, __ATOMIC_RELAXED);
			if (before == after)
				break;
		}
		/* contended: rare, so the clock is read only now */
		now = time_mono_us();
		if (start == 0)
			start = now;
		if (!(before & 1) || before != stuck_seq) {
			stuck_seq = before;
			stuck_since = now;
		}
		if (((before & 1) && now - stuck_since > SHM_READ_STUCK_US) ||
		    now - start > SHM_READ_MAX_US) {
			out[0] = '\0';
			return;
		}
		sched_yield();
	}
	out[size - 1] = '\0';
}

const char *
repl_state_name(enum repl_state st)
{
	switch (st) {
	case REPL_STATE_STARTING:
		return "starting";
	case REPL_STATE_CONNECTING:
		return "connecting";
	case REPL_STATE_INITIAL_SYNC:
		return "initial_sync";
	case REPL_STATE_STREAMING:
		return "streaming";
	case REPL_STATE_RECONNECTING:
		return "reconnecting";
	case REPL_STATE_STOPPED:
		return "stopped";
	case REPL_STATE_FAILED:
		return "failed";
	}
	return "unknown";
}

void
shm_applied_publish(struct shm_state *shm, uint64_t lsn)
{
	shm_store(shm->applied_lsn, lsn);
	/* the store of the sequence and the load of the waiters pair with the waiter's store
	 * of itself and load of the sequence: one of the two sides sees the other */
	__atomic_add_fetch(&shm->applied_seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&shm->applied_waiters, __ATOMIC_SEQ_CST) > 0)
		(void)syscall(SYS_futex, &shm->applied_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void
shm_applied_wait(struct shm_state *shm, uint32_t seq, int timeout_ms)
{
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};

	(void)syscall(SYS_futex, &shm->applied_seq, FUTEX_WAIT, seq, &ts, NULL, 0);
}
