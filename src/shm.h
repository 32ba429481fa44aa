/* SPDX-License-Identifier: MIT */
/* Shared memory between the master and its workers: replication position, lag, generation,
 * initial sync progress. Created by the master before fork; written only by the replication
 * worker (except the process fields, which only the master writes). */
#ifndef SQLEDGE_SHM_H
#define SQLEDGE_SHM_H

#include <stdint.h>
#include <sys/types.h>

#define SHM_MAGIC 0x53514c45u /* "SQLE" */
#define SHM_VERSION 10
#define SHM_SHAPES 5             /* most forwarded statement shapes shown per worker */
#define SHM_SHAPE_LEN 160        /* bytes of one, NUL included */
#define SHM_MAX_PROXY_WORKERS 64 /* = CFG_MAX_PROXY_WORKERS */
#define SHM_LCACHE_BUCKETS 4096  /* login cache keys, hashed, for read-your-writes */

enum repl_state {
	REPL_STATE_STARTING = 0,
	REPL_STATE_CONNECTING,
	REPL_STATE_INITIAL_SYNC,
	REPL_STATE_STREAMING,
	REPL_STATE_RECONNECTING,
	REPL_STATE_STOPPED,
	REPL_STATE_FAILED, /* fatal error: see last_error */
};

enum upstream_state {
	UPSTREAM_STATE_UNKNOWN = 0,
	UPSTREAM_STATE_CONNECTED,
	UPSTREAM_STATE_DISCONNECTED,
};

/* sqledgectl verify holds the copy at one upstream position while it takes its snapshots. */
#define SHM_HOLD_PAUSE UINT64_MAX /* hold_req: apply no transaction that has not begun */

enum hold_state {
	HOLD_NONE = 0,
	HOLD_PAUSED, /* no transaction is being applied, and none will start */
	HOLD_AT,     /* the copy has every transaction that commits before hold_req and no other */
};

enum sync_state {
	SYNC_STATE_NONE = 0, /* never ran in this process */
	SYNC_STATE_RUNNING,
	SYNC_STATE_DONE,
	SYNC_STATE_FAILED,
};

/* One proxy worker's slot. pid and restarts are written by the master, the rest by the
 * worker (the master zeroes them when it replaces a dead worker). */
struct shm_proxy_worker {
	pid_t pid; /* 0 when not running */
	uint32_t restarts;
	int64_t started_us; /* when the running worker started (realtime), written by the master */
	uint64_t clients;   /* connected now, logged in or not */
	uint64_t clients_held;      /* of them, those counted in proxy_clients */
	uint64_t clients_total;     /* accepted since the worker started */
	uint64_t logins_failed;     /* refused logins since the worker started */
	uint64_t queries_forwarded; /* Query and Execute messages relayed upstream */
	uint64_t queries_local;     /* queries answered from the local copy */
	uint64_t upstream_conns;    /* upstream connections held now (counted in the total) */
	uint64_t checks_held;       /* session checks a read waited for */
	uint64_t checks_ahead;      /* session checks sent in the same flight as a write */
	uint64_t logins_cached;     /* sessions begun from the login cache, without the upstream */
	uint64_t login_cache_entries; /* logins the cache holds now */
	uint64_t login_cache_checks;  /* of them, those with the session check's answer */
	uint32_t waiting;             /* 1 while counted in applied_waiters */
	/* the statements this worker forwards most, normalized (constants as $n), from a
	 * sample; guarded by shapes_seq (odd while the worker writes them) */
	uint32_t shapes_seq;
	uint64_t shape_count[SHM_SHAPES];
	char shape[SHM_SHAPES][SHM_SHAPE_LEN];
};

/* 64-bit fields are read and written with __atomic builtins (shm_load/shm_store); the strings
 * are guarded by the seqlock seq (odd while being written). */
struct shm_state {
	uint32_t magic;
	uint32_t version;
	int64_t started_us; /* master start, realtime */

	/* replication worker */
	uint32_t repl_state;      /* enum repl_state */
	uint32_t upstream_state;  /* enum upstream_state */
	uint64_t received_lsn;    /* last WAL position received */
	uint64_t applied_lsn;     /* last position applied (and committed) in SQLite */
	uint32_t applied_seq;     /* bumped after each store of applied_lsn: a futex word */
	uint32_t applied_waiters; /* proxy workers waiting on applied_seq */
	uint64_t flushed_lsn;     /* last position reported upstream as flushed */
	uint64_t upstream_lsn;    /* latest walEnd the server reported */
	uint64_t checked_lsn;     /* highest upstream insert position a proxy's session check saw */
	int64_t upstream_lsn_time_us; /* when it was received (local realtime) */
	int64_t caught_up_time_us;    /* when the copy was last known current: it had applied a
	                               * position the upstream reported then (local realtime) */
	/* the proxies' shared view of the upstream: when a session found it unreachable (local
	 * realtime, 0 while it answers), and when a worker last tried to reach it */
	int64_t upstream_down_us;
	int64_t upstream_probe_us;
	int64_t last_commit_time_us; /* upstream commit timestamp of the last applied txn (unix µs)
	                              */
	uint64_t txns_applied;
	uint64_t rows_applied;
	uint32_t generation; /* current database file generation */

	/* initial sync progress */
	uint32_t sync_state; /* enum sync_state */
	uint32_t sync_tables_total;
	uint32_t sync_tables_done;
	uint64_t sync_rows_done;
	uint64_t sync_rows_estimated;
	int64_t sync_started_us;
	int64_t sync_finished_us;

	/* a verify's hold: hold_owner and hold_req are written by the verifier (and cleared by
	 * the master when it exits), hold_state by the replication worker, which is woken by a
	 * write to hold_wake_fd (an eventfd the master made before forking: every process has
	 * it under this number) */
	int hold_wake_fd;
	pid_t hold_owner;     /* the verifier's pid, 0 when none */
	uint64_t hold_req;    /* 0, SHM_HOLD_PAUSE or the upstream position to hold at */
	uint32_t hold_state;  /* enum hold_state */
	pid_t hold_ack_owner; /* whose request hold_state answers */
	pid_t verify_reader;  /* a verifier reading the copy from one snapshot: the replication
	                       * worker's checkpoints do not wait for it */
	pid_t verify_exiting; /* a verifier done with its report, about to exit */
	/* 0 when the replication source's positions are not the write upstream's (another WAL
	 * history): read-your-writes cannot wait for a position (replication worker) */
	uint32_t positions_comparable;

	/* master */
	pid_t master_pid;
	pid_t repl_pid;
	uint32_t repl_restarts;
	int64_t repl_started_us; /* when the running replication worker started (realtime) */

	/* proxy: the totals that the limits apply to, changed by the workers with atomic
	 * read-modify-write and repaired by the master when a worker dies */
	uint32_t proxy_nworkers;
	uint64_t proxy_clients;        /* client connections of all workers */
	uint64_t proxy_upstream_conns; /* upstream connections of all workers */
	struct shm_proxy_worker proxy[SHM_MAX_PROXY_WORKERS];
	/* the login cache: per bucket of keys, the statements of its sessions the upstream
	 * answered (counted at their ReadyForQuery), and the most of them a session check of
	 * the bucket's was sent after: while forwarded > checked, a session begun from the cache
	 * may not have the position of the login's last writes */
	uint64_t lcache_forwarded[SHM_LCACHE_BUCKETS];
	uint64_t lcache_checked[SHM_LCACHE_BUCKETS];

	/* seqlock-protected strings */
	uint32_t seq;
	char last_error[512];
	char system_id[32];
	char slot_name[64];
	char sync_table[160]; /* table being copied */
};

/* Publishes a new applied position (replication worker): wakes the proxy workers that wait
 * for one (shm_applied_wait), with a system call only when some do. */
void shm_applied_publish(struct shm_state *shm, uint64_t lsn);
/* Blocks until applied_seq differs from seq or timeout_ms passes (a thread of a proxy worker,
 * counted in applied_waiters while it may wait). */
void shm_applied_wait(struct shm_state *shm, uint32_t seq, int timeout_ms);

/* Wakes the replication worker to look at the hold (shm_store()s first). */
void shm_hold_wake(struct shm_state *shm);

/* Creates an anonymous MAP_SHARED mapping (inherited across fork). NULL and logged on error. */
struct shm_state *shm_create(void);

#define shm_load(field) __atomic_load_n(&(field), __ATOMIC_ACQUIRE)
#define shm_store(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELEASE)

/* Writes one of the seqlock-protected strings (writer side: the replication worker). */
void shm_set_string(struct shm_state *shm, char *field, size_t size, const char *value);
/* Copies one of them out consistently (reader side). */
void shm_get_string(const struct shm_state *shm, const char *field, size_t size, char *out);
#define SHM_SET_STR(shm, field, value)                                                             \
	shm_set_string((shm), (shm)->field, sizeof((shm)->field), (value))
#define SHM_GET_STR(shm, field, out)                                                               \
	shm_get_string((shm), (shm)->field, sizeof((shm)->field), (out))

const char *repl_state_name(enum repl_state st);

#endif
