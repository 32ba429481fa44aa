/* SPDX-License-Identifier: MIT */
/* A proxy worker (see proxy.h): one libevent loop serving many clients. Each client gets its
 * own upstream connection, opened by libpq without blocking the loop; once it is up, bytes are
 * relayed over its socket at the level of protocol messages, with backpressure both ways. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pg_query.h>

#include "cfg.h"
#include "chan.h"
#include "hba.h"
#include "listen.h"
#include "localcat.h"
#include "localexec.h"
#include "localread.h"
#include "log.h"
#include "logincache.h"
#include "pgwire.h"
#include "proxy.h"
#include "rbuf.h"
#include "scram.h"
#include "shm.h"
#include "store.h"
#include "tls.h"
#include "translate.h"
#include "util.h"

#define PROXY_HIGH_WATER (256 * 1024) /* stop reading one side while this much waits */
#define PROXY_READ_MIN (16 * 1024)    /* free space offered to each read */
#define PROXY_PREAUTH_MAX 10000       /* longest message before login, as PostgreSQL */
#define PROXY_AUTH_TIMEOUT_S 60       /* PostgreSQL's authentication_timeout */
#define PROXY_ACCEPT_BATCH 32         /* accepts per wakeup, so one worker cannot hog */
#define PROXY_QUEUE_POLL_MS 20        /* queued logins retry a free upstream slot */
#define PROXY_EMFILE_PAUSE_MS 500     /* out of descriptors: stop accepting for a while */
#define PROXY_FAIL_SLOTS 256          /* addresses remembered for failed logins */
#define PROXY_FAIL_FORGET_US INT64_C(60000000)
#define PROXY_FAIL_DELAY_MAX_MS 5000
#define PROXY_CANCEL_THREADS_MAX 16
#define PROXY_NO_FILE "/nonexistent/sqledge-proxy" /* a credential file libpq must not find */
#define PROXY_LOCAL_MAX_RESULT (4 * 1024 * 1024)   /* bigger answers are read upstream */
#define PROXY_WAIT_SAFETY_MS 100 /* the longest a waiter sleeps without a look anyway */
#define PROXY_SNAPSHOT_MS 20     /* the longest a read transaction is kept for the next reads */
#define PROXY_RECHECK_US INT64_C(1000000) /* a session's check is asked again this often */
#define PROXY_CHECKS_MAX 4                /* checks of a session in flight at once */
#define PROXY_QUERY_SELECT1 "Q\0\0\0\015SELECT 1\0"
#define PROXY_TCP_USER_TIMEOUT_MS "30000"
#define PROXY_PROBE_US INT64_C(1000000)
#define PROXY_SHAPES 32 /* statement shapes counted per worker */
#define PROXY_SHAPE_SAMPLE                                                                         \
	8 /* one forwarded statement in this many is looked at */ /* an unreachable upstream is    \
	                                                             tried this often */
#define PROXY_BATCH_WAIT_MS 20    /* for the rest of a batch, then what came goes upstream */
#define PROXY_STMT_CACHE 32       /* SQLite statements kept prepared for the loop's point reads */
#define PROXY_MAX_ADDRS 4         /* resolved upstream addresses tried per login */
#define PROXY_ERROR_SCAN_MAX 8192 /* ErrorResponses up to this size are read for severity */
#define PROXY_LINGER_MS 2000      /* after a last message, wait this long for the client's EOF */
#define PROXY_CLOSING_MS 10000    /* a client that does not take its last message is dropped */
#define PROXY_DRAIN_MS 60000      /* for the upstream to take what a departed client sent */
#define PROXY_PREAUTH_BUF (4 * PROXY_PREAUTH_MAX) /* the most the input holds before login */
#define PROXY_PREAUTH_FIRST 1024                  /* what it starts with */
#define PROXY_LCACHE_SHARE_US                                                                      \
	INT64_C(1000000)              /* a check answer goes to the other workers                  \
	                               * at most this often per login */
#define PROXY_LCACHE_PURGE_S 10       /* expired logins are wiped this often */
#define PROXY_LCACHE_SUSPECT_PER_S 20 /* verifiers a second for addresses that failed lately */
#define PROXY_LCACHE_FAILS_PER_S 20   /* verifiers a second that may fail */

/* A password against a login of the cache. */
enum proxy_lc_match {
	PROXY_LC_UNKNOWN = 0, /* not checked */
	PROXY_LC_MATCH,
	PROXY_LC_NOMATCH,
};

enum proxy_client_state {
	PC_STARTUP,    /* reading the first packet */
	PC_TLS,        /* answered an SSLRequest with 'S': the TLS handshake */
	PC_PASSWORD,   /* asked for the password */
	PC_SASL,       /* sent AuthenticationSASL: the SASLInitialResponse */
	PC_SASL_FINAL, /* sent AuthenticationSASLContinue: the SASLResponse */
	PC_MD5,        /* sent AuthenticationMD5Password: the answer */
	PC_QUEUED,     /* waiting for an upstream connection slot */
	PC_CONNECTING, /* logging in to the upstream as the client */
	PC_READY,      /* relaying */
	PC_DRAIN,      /* the client left: relay what it sent before, then end the session */
	PC_CLOSING,    /* flushing a last message, reading nothing */
	PC_LINGER,     /* sent it: discarding input until the client closes too */
};

/* Bytes in flight one way: data[off, len) is waiting. */
struct proxy_buf {
	uint8_t *data;
	size_t off;
	size_t len;
	size_t cap;
};

struct proxy;

/* A copy of one whole message. */
struct proxy_msg {
	uint8_t *data;
	size_t len;
};

struct proxy_client {
	struct proxy *p;
	struct proxy_client *prev, *next; /* every client of the worker */
	struct proxy_client *qnext;       /* the queue for an upstream slot */
	enum proxy_client_state state;
	bool dead; /* freed at the end of the current callback */
	int fd;
	bool local; /* loopback or Unix socket */
	bool unix_socket;
	struct sockaddr_storage ss; /* the client's address */
	enum hba_method method;     /* how this client logs in */
	struct scram_state *scram;  /* PC_SASL*: the exchange */
	uint8_t md5_salt[4];        /* PC_MD5 */
	char *up_user;              /* the upstream role when it is not the client's ([proxy]
	                             * auth_file with a verifier: [upstream] user) */
	SSL *ssl;                   /* the client's TLS session, once it asked for one */
	bool tls_want_write;        /* OpenSSL waits for the socket to take bytes */
	bool counted;               /* holds one of max_clients */
	char addr[INET6_ADDRSTRLEN + 8];
	uint32_t session;
	uint32_t key;

	struct event *ev_read, *ev_write, *ev_timer;
	bool reading, writing;

	struct proxy_buf cin;  /* from the client, not handled yet */
	struct proxy_buf cout; /* to the client; upstream bytes before scan are checked */
	size_t scan;           /* index in cout.data: bytes before it may be sent */
	size_t msg_left;       /* bytes of the current upstream message not yet scanned */
	struct proxy_buf uout; /* to the upstream */
	struct strbuf delayed; /* an error held back by the failed-login delay */
	bool delaying;         /* ev_timer sends it */
	bool cin_done;         /* PC_DRAIN: nothing more of cin goes upstream */
	bool closing_armed;    /* PC_CLOSING: the timer that drops a stuck client is set */

	uint8_t *startup; /* the StartupMessage, which st points into */
	struct pgw_startup st;
	char *password;
	int64_t queued_us;

	PGconn *up;
	int up_fd;
	SSL *up_ssl;
	bool up_slot;                /* holds one of max_upstream_connections */
	struct proxy_cancel *cancel; /* the upstream session's cancel key */
	struct event *ev_conn;
	struct event *ev_up_read, *ev_up_write;
	bool up_reading, up_writing, up_read_wants_write;
	bool up_fatal; /* the upstream sent a FATAL error: it is closing the session */
	struct evdns_getaddrinfo_request *dns_req;
	bool dns_sync;    /* inside evdns_getaddrinfo(), which may answer at once */
	char txn;         /* transaction status of the last ReadyForQuery relayed */
	unsigned pending; /* ReadyForQuery messages the upstream still owes the client */
	bool unsynced;    /* extended-protocol messages forwarded since the last Sync */

	/* local reads */
	struct localread_session lr;
	bool held;              /* a Query or a batch waits for the check or for local execution */
	bool held_batch;        /* the extended protocol's [Parse] Bind [Describe] Execute Sync */
	bool held_parse;        /* the batch begins with Parse */
	bool batch_waited;      /* the rest of a batch did not come in time: relay what did */
	struct strbuf held_msg; /* it, whole, for when it goes upstream after all */
	uint64_t ticket;        /* its local execution job */
	struct localexec_job *waiting_job;  /* the job, until the copy has the session's writes */
	bool waiting;                       /* counted in p->nwaiting */
	struct event *ev_wait_timer;        /* ends the wait at max_wait */
	struct localexec_job *finished_job; /* its answer, until the stream is at a boundary */
	int64_t wait_deadline_us;
	/* The checks in flight, in the order of their answers: each comes after `client` more
	 * ReadyForQuery messages of the client's, and has `zs` of its own, the last `tail` of
	 * which end segments that are not the check's (the unnamed statement sent again). A
	 * check is stale when something was forwarded after it, or the catalog it was made for
	 * (epoch) is gone: its answer is skipped. */
	struct proxy_check {
		unsigned client, zs, tail;
		uint64_t epoch;
		bool stale;
		uint64_t forwarded; /* the login's lcache_forwarded when it was sent */
	} checks[PROXY_CHECKS_MAX];
	unsigned nchecks;
	bool checking;                 /* nchecks > 0 */
	struct strbuf icpt;            /* that answer, not yet parsed */
	struct localread_names *names; /* named statements worth asking the check about */
	/* The unnamed prepared statement. A Parse of it answered here never reached the
	 * upstream: it is sent there, as a segment of its own whose answer is not the client's,
	 * before the next message that uses the unnamed statement (unnamed_parse). up_unnamed
	 * is the Parse the upstream's unnamed statement came from. */
	struct proxy_msg unnamed_parse, up_unnamed;
	unsigned swallow; /* upstream segments (up to ReadyForQuery) of ours, after the check */
	/* The check sent ahead: right after a write, in the same flight, so that the next read
	 * finds its answer in, or on its way, and never waits a round trip for it. */
	bool lr_reader;   /* the session has sent statements the copy may answer */
	bool seg_ran;     /* the segment being forwarded has executed a statement, */
	bool seg_other;   /* one of which may start COPY or leave a transaction block open */
	bool seg_ok;      /* the last segment forwarded may be followed by the check */
	bool named_other; /* a named statement of LOCALREAD_KIND_OTHER was prepared */
	uint8_t unnamed_kind, portal_kind; /* enum localread_kind of the unnamed ones */
	bool unnamed_select;               /* the unnamed statement may be a SELECT */
	/* A READ ONLY transaction block answered from the copy: its BEGIN was answered here,
	 * not sent upstream, and its reads share one SQLite snapshot (blk_db, in a read
	 * transaction from its first read on). blk_begin is the client's BEGIN, for the
	 * upstream when a statement of the block must go there. */
	uint8_t blk;       /* enum proxy_blk */
	bool blk_rr;       /* REPEATABLE READ: every answer must come from the snapshot */
	bool blk_answered; /* a read was answered from the snapshot */
	bool blk_skip;     /* an error in the extended protocol: messages are dropped up to Sync */
	const char *blk_code, *blk_message, *blk_hint; /* that error */
	sqlite3 *blk_db;
	char **blk_sp; /* its savepoints, oldest first */
	size_t blk_nsp;
	uint32_t blk_gen; /* the generation and schema version of its snapshot */
	int64_t blk_schema;
	struct proxy_msg blk_begin;
	int64_t blk_now_us;  /* when the block began: its now() */
	int64_t blk_idle_us; /* when it last answered */
	struct event *ev_blk_timer;
	/* on_upstream_down = serve_stale: a session whose upstream connection went away while
	 * it was idle goes on (up_fd < 0), reading the copy; a statement for the upstream makes
	 * a new connection (reconnecting), unless the session holds state that one would not
	 * have (stateful: SET, PREPARE, named statements, LISTEN, temporary tables...) */
	bool stateful;
	bool reconnecting;
	bool refuse; /* the new connection failed: the segment at hand gets an error */
	/* the login cache ([proxy] login_cache_ttl): the login's key, whether the password was
	 * the one the cache knows, whether the session began from it (without the upstream),
	 * and the check answer being read, kept for the next logins */
	bool lc_keyed;
	enum proxy_lc_match lc_match; /* what the password was against lc_salt's login */
	uint8_t lc_salt[LOGINCACHE_SALT_LEN];
	bool lc_started;
	bool lc_connected;     /* it has had an upstream connection */
	bool lc_pristine;      /* nothing of the client's went upstream: its check answers are what
	                        * a new session of the login would get */
	int64_t lc_expires_us; /* begun from the cache: its entry's expiry */
	uint8_t lc_key[LOGINCACHE_KEY_LEN];
	struct strbuf lc_answer;
};

enum proxy_blk {
	PROXY_BLK_NONE = 0,
	PROXY_BLK_LOCAL,  /* answered here so far */
	PROXY_BLK_FAILED, /* an error in it: only its end is answered */
};

/* A session's cancel key, shared with the threads that send a CancelRequest with it. */
struct proxy_cancel {
	PGcancel *pc;
	int refs;
};

/* One cancel for a thread: the key, and the client's cancel connection, closed once the
 * upstream has it (-1: none). */
struct proxy_cancel_job {
	struct proxy_cancel *cancel;
	int hold_fd;
};

static void
proxy_close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

struct proxy_fail {
	char addr[INET6_ADDRSTRLEN + 8];
	unsigned failures;
	int64_t last_us;
};

/* A point read's SQLite statement, kept prepared on the loop's connection. */
struct proxy_stmt {
	char *sql;
	sqlite3_stmt *st;
	uint64_t last_use;
};

struct proxy {
	const struct cfg *cfg;
	SSL_CTX *tls;              /* for clients that ask for TLS; NULL: they are told 'N' */
	struct hba *hba;           /* [proxy] hba_file's rules; NULL: [proxy] auth for all */
	struct scram_users *users; /* [proxy] auth_file */
	struct logincache *lcache; /* [proxy] login_cache_ttl > 0 */
	int lcache_ttl;            /* the ttl it was made for */
	uint8_t check_id[LOGINCACHE_KEY_LEN]; /* logincache_check_id() of check_sql */
	uint64_t logins_cached;
	struct event *ev_lcache; /* wipes expired logins */
	int64_t lc_second_us;    /* the second lc_suspect and lc_fails count in */
	unsigned lc_suspect;     /* verifiers computed for addresses that failed lately */
	unsigned lc_fails;       /* verifiers that did not match */
	bool hba_broken;         /* hba_file could not be read at start: nobody logs in */
	int index;
	struct shm_state *shm;
	struct shm_proxy_worker *slot;
	const struct listen_set *ls;
	struct event_base *base;
	struct evdns_base *dns;
	int chan_fd;
	struct event *ev_chan;
	struct event *ev_listen[LISTEN_MAX_SOCKETS];
	struct event *ev_accept_pause;
	struct event *ev_queue;
	bool accepting;
	bool retiring; /* after its last client, it leaves (fewer workers after a reload) */
	bool stopping; /* the master stops sqledge: sessions end as their statements do */
	struct event *ev_stop;
	bool quit;

	struct proxy_client *clients;
	struct proxy_client *queue, **queue_tail;
	uint32_t next_session;
	uint64_t nclients, nheld, clients_total, logins_failed, queries, upstream_conns;
	struct proxy_fail fails[PROXY_FAIL_SLOTS];
	struct pgw_decoder dec;
	struct pgw_decoder dec_parse, dec_bind, dec_misc; /* reading a batch ahead */
	struct localexec *ex;                             /* NULL: local reads are off */
	struct localcat *cat;
	sqlite3 *cat_db; /* the loop's own read-only connection, for the catalog */
	sqlite3_stmt *cat_version_st;
	struct proxy_stmt stmts[PROXY_STMT_CACHE];
	uint64_t stmt_uses;
	bool snap_open; /* cat_db is in a read transaction, begun at applied_lsn snap_lsn */
	uint64_t snap_lsn;
	struct event *ev_snap; /* ends it: a reader must not hold the writer's WAL for long */
	uint32_t cat_gen;
	int64_t cat_version; /* PRAGMA schema_version it was read at */
	uint64_t cat_epoch;  /* counts the catalogs read */
	struct strbuf check_sql;
	uint64_t ticket_seq;
	bool eventual;      /* [proxy] consistency = eventual: local reads do not wait */
	bool serve_stale;   /* [proxy] on_upstream_down = serve_stale */
	char down_why[256]; /* why this worker last found the upstream unreachable */
	/* local reads waiting for the copy to reach their session's writes: a thread sleeps on
	 * the replication worker's futex while there are any, and wakes the loop (wait_efd) */
	unsigned nwaiting; /* guarded by wait_lock */
	bool wait_stop;
	bool wait_thread_on;
	pthread_t wait_thread;
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
	int wait_efd;
	struct event *ev_wait;
	uint64_t queries_local;
	uint64_t checks_held, checks_ahead;
	/* the statements forwarded most (a sample, counted by the space-saving method) */
	struct proxy_shape {
		char *text; /* normalized, NULL when the slot is free */
		uint64_t count;
	} shapes[PROXY_SHAPES];
	uint64_t shape_tick;
	bool numeric_host; /* upstream address needs no name lookup */
	bool unix_host;
};

static int proxy_cancel_threads;
static int proxy_devnull = -1; /* where libpq's descriptor of a detached session points */

static void proxy_client_update_events(struct proxy_client *c);
static void proxy_client_process(struct proxy_client *c);
static void proxy_up_pump(struct proxy_client *c);
static void proxy_queue_kick(struct proxy *p);
static void proxy_client_drain(struct proxy_client *c);
static void proxy_local_intercept(struct proxy_client *c);
static void proxy_local_release_upstream(struct proxy_client *c);
static void proxy_local_finish(struct proxy_client *c, struct localexec_job *job);
static bool proxy_local_try(struct proxy_client *c, const char *sql, const uint8_t *msg,
                            size_t len);
static void proxy_forward(struct proxy_client *c, uint8_t type, const uint8_t *msg, size_t len);
static void proxy_block_end(struct proxy_client *c);
static void proxy_block_drain(struct proxy_client *c);
static void proxy_block_savepoints_drop(struct proxy_client *c, size_t from);
static void proxy_block_replay(struct proxy_client *c, bool swallow);
static bool proxy_block_leave(struct proxy_client *c);
static void proxy_block_answer(struct proxy_client *c, const char *tag, bool nodata,
                               const char *code, const char *message, const char *hint);
static void proxy_client_timer(struct proxy_client *c, int ms, event_callback_fn cb);
static void proxy_linger_timeout_cb(evutil_socket_t fd, short what, void *arg);
static void proxy_up_read_cb(evutil_socket_t fd, short what, void *arg);
static struct localexec_job *proxy_wait_end(struct proxy_client *c);
static void proxy_wait_remove(struct proxy_client *c);
static void proxy_up_write_cb(evutil_socket_t fd, short what, void *arg);
static void proxy_login_start(struct proxy_client *c);
static void proxy_reload(struct proxy *p);
static void proxy_auth_file_start(struct proxy_client *c);
static void proxy_begin_stop(struct proxy *p);
static void proxy_lcache_answer(struct proxy_client *c, uint64_t seq);
static enum proxy_lc_match proxy_lcache_verify(struct proxy_client *c,
                                               const struct logincache_entry *e);
static void proxy_stop_client(struct proxy_client *c);
static void proxy_retire(struct proxy *p);

/* ---- buffers ---- */

static size_t
proxy_buf_pending(const struct proxy_buf *b)
{
	return b->len - b->off;
}

/* Makes room for at least need more bytes after len, moving waiting bytes to the front
 * first. Returns how far the data moved back (indexes into it shrink by that much). */
static size_t
proxy_buf_reserve(struct proxy_buf *b, size_t need)
{
	size_t moved = 0;

	if (b->off > 0 && (b->off == b->len || b->cap - b->len < need)) {
		moved = b->off;
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < need)
		b->data = xgrow(b->data, &b->cap, b->len + need, 1);
	return moved;
}

static void
proxy_buf_append(struct proxy_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return; /* p may be NULL (an empty strbuf) */
	proxy_buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
proxy_buf_consume(struct proxy_buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

/* Frees the buffer, wiping it first when it may have held a secret. */
static void
proxy_buf_free(struct proxy_buf *b, bool wipe)
{
	if (b->data && wipe)
		secure_zero(b->data, b->cap);
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void
proxy_msg_clear(struct proxy_msg *m)
{
	free(m->data);
	m->data = NULL;
	m->len = 0;
}

static void
proxy_msg_set(struct proxy_msg *m, const uint8_t *data, size_t len)
{
	proxy_msg_clear(m);
	m->data = xmalloc(len);
	memcpy(m->data, data, len);
	m->len = len;
}

/* ---- small helpers ---- */

int
proxy_cancel_target(uint32_t pid, int nworkers)
{
	uint32_t w = pid >> PROXY_SESSION_BITS;

	if (w < 1 || w > (uint32_t)nworkers)
		return -1;
	return (int)w - 1;
}

static uint32_t
proxy_random32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
		/* cannot happen after boot; never hand out a predictable key silently */
		log_error("getrandom() failed: %s", strerror(errno));
		abort();
	}
	return v;
}

static bool
proxy_addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_UNIX)
		return true;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		const uint8_t *a = s6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && a[12] == 127;
	}
	return false;
}

static void
proxy_addr_format(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%d", host, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%d", host, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, size, "local");
	}
}

/* The address without the port: failed logins are counted per host. */
static void
proxy_addr_host(const char *addr, char *buf, size_t size)
{
	const char *colon = strrchr(addr, ':');
	size_t n = colon && addr[0] != 'l' ? (size_t)(colon - addr) : strlen(addr);

	snprintf(buf, size, "%.*s", (int)n, addr);
}

static void
proxy_publish(struct proxy *p)
{
	shm_store(p->slot->clients, p->nclients);
	shm_store(p->slot->clients_held, p->nheld);
	shm_store(p->slot->clients_total, p->clients_total);
	shm_store(p->slot->logins_failed, p->logins_failed);
	shm_store(p->slot->upstream_conns, p->upstream_conns);
}

/* Raises a shared position to at least lsn. */
static void
proxy_lsn_max(uint64_t *shared, uint64_t lsn)
{
	uint64_t cur = __atomic_load_n(shared, __ATOMIC_SEQ_CST);

	while (cur < lsn && !__atomic_compare_exchange_n(shared, &cur, lsn, true, __ATOMIC_SEQ_CST,
	                                                 __ATOMIC_SEQ_CST))
		;
}

/* The bucket of a login cache key in shared memory. */
static size_t
proxy_lcache_bucket(const uint8_t *key)
{
	return ((size_t)key[0] << 8 | key[1]) % SHM_LCACHE_BUCKETS;
}

/* Takes one unit of a shared limit (0 = no limit). */
static bool
proxy_take(uint64_t *total, int limit)
{
	uint64_t cur = __atomic_load_n(total, __ATOMIC_RELAXED);

	if (limit <= 0) {
		__atomic_add_fetch(total, 1, __ATOMIC_RELAXED);
		return true;
	}
	do {
		if (cur >= (uint64_t)limit)
			return false;
	} while (!__atomic_compare_exchange_n(total, &cur, cur + 1, false, __ATOMIC_ACQ_REL,
	                                      __ATOMIC_RELAXED));
	return true;
}

static void
proxy_give(uint64_t *total)
{
	__atomic_sub_fetch(total, 1, __ATOMIC_RELAXED);
}

/* ---- messages of our own ---- */

/* Queues an ErrorResponse (FATAL ones close the client once it is written). Only at a
 * message boundary of the stream to the client; elsewhere the client is just closed. */
static void
proxy_client_error(struct proxy_client *c, const char *severity, const char *code,
                   const char *message, const char *detail, const char *hint)
{
	struct pgw_error e = {.severity = severity,
	                      .code = code,
	                      .message = message,
	                      .detail = detail,
	                      .hint = hint};
	struct strbuf sb;

	if (c->msg_left > 0 || c->scan != c->cout.len) {
		c->dead = true;
		return;
	}
	strbuf_init(&sb);
	pgw_put_error(&sb, &e);
	proxy_buf_append(&c->cout, sb.data, sb.len);
	c->scan = c->cout.len;
	strbuf_free(&sb);
	if (strcmp(severity, "FATAL") == 0)
		c->state = PC_CLOSING;
}

static void proxy_client_fatal(struct proxy_client *c, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
proxy_client_fatal(struct proxy_client *c, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	proxy_client_error(c, "FATAL", code, msg, NULL, NULL);
}

static void
proxy_client_put(struct proxy_client *c, const struct strbuf *sb)
{
	proxy_buf_append(&c->cout, sb->data, sb->len);
	c->scan = c->cout.len;
}

/* ---- client lifetime ---- */

static void
proxy_event_free(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void
proxy_queue_remove(struct proxy_client *c)
{
	struct proxy *p = c->p;
	struct proxy_client **pp;

	for (pp = &p->queue; *pp != NULL; pp = &(*pp)->qnext) {
		if (*pp == c) {
			*pp = c->qnext;
			if (p->queue_tail == &c->qnext)
				p->queue_tail = pp;
			c->qnext = NULL;
			return;
		}
	}
}

/* Wipes libpq's copy of the password, and the session's own unless it is kept for a new
 * upstream connection (keep). */
static void proxy_wipe_password_keep(struct proxy_client *c, bool keep);

static void
proxy_wipe_password(struct proxy_client *c)
{
	proxy_wipe_password_keep(c, false);
}

static void
proxy_wipe_password_keep(struct proxy_client *c, bool keep)
{
	char *libpq_copy;

	if (c->password && !keep) {
		secure_zero(c->password, strlen(c->password));
		free(c->password);
		c->password = NULL;
	}
	/* libpq keeps its own copy for the life of the connection */
	if (c->up && (libpq_copy = PQpass(c->up)) != NULL)
		secure_zero(libpq_copy, strlen(libpq_copy));
}

static void
proxy_cancel_unref(struct proxy_cancel *cancel)
{
	if (cancel && __atomic_sub_fetch(&cancel->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		PQfreeCancel(cancel->pc);
		free(cancel);
	}
}

/* After login a plain-TCP or Unix-socket session needs nothing of libpq but its socket and
 * its cancel key: the socket moves to a descriptor of our own, libpq's descriptor is pointed
 * at /dev/null (so that PQfinish says nothing to the upstream), and the connection object
 * with its two 16 KiB buffers is freed. An idle session then costs a few hundred bytes here.
 * A TLS session keeps libpq's connection, whose SSL object relays it. */
static void
proxy_up_detach(struct proxy_client *c)
{
	int fd;

	if (proxy_devnull < 0 || (fd = fcntl(c->up_fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return;
	if (dup2(proxy_devnull, c->up_fd) < 0) {
		close(fd);
		return;
	}
	proxy_wipe_password_keep(c, c->p->serve_stale);
	PQfinish(c->up);
	c->up = NULL;
	c->up_fd = fd;
}

static void
proxy_up_close(struct proxy_client *c)
{
	struct proxy *p = c->p;

	if (c->dns_req) {
		struct evdns_getaddrinfo_request *req = c->dns_req;

		c->dns_req = NULL;
		evdns_getaddrinfo_cancel(req);
	}
	proxy_event_free(&c->ev_conn);
	proxy_event_free(&c->ev_up_read);
	proxy_event_free(&c->ev_up_write);
	c->up_reading = c->up_writing = false;
	if (c->up) {
		proxy_wipe_password_keep(c, c->p->serve_stale && c->state == PC_READY);
		PQfinish(c->up);
		c->up = NULL;
	} else if (c->up_fd >= 0) {
		/* detached from libpq: end the session as PQfinish would */
		(void)send(c->up_fd, "X\0\0\0\4", 5, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(c->up_fd);
	}
	c->up_ssl = NULL;
	c->up_fd = -1;
	proxy_cancel_unref(c->cancel);
	c->cancel = NULL;
	if (c->up_slot) {
		/* the worker's own count first: a master repairing the total after our death
		 * must never subtract one we already gave back */
		c->up_slot = false;
		p->upstream_conns--;
		proxy_publish(p);
		proxy_give(&p->shm->proxy_upstream_conns);
		proxy_queue_kick(p);
	}
}

static void
proxy_client_free(struct proxy_client *c)
{
	struct proxy *p = c->p;

	proxy_queue_remove(c);
	proxy_up_close(c);
	proxy_wipe_password(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		p->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	proxy_event_free(&c->ev_read);
	proxy_event_free(&c->ev_write);
	proxy_event_free(&c->ev_timer);
	SSL_free(c->ssl);
	if (c->scram) {
		scram_end(c->scram);
		free(c->scram);
	}
	free(c->up_user);
	close(c->fd);
	/* the input may have held the password message */
	proxy_buf_free(&c->cin, true);
	proxy_buf_free(&c->cout, false);
	proxy_buf_free(&c->uout, false);
	strbuf_free(&c->delayed);
	strbuf_free(&c->held_msg);
	strbuf_free(&c->icpt);
	strbuf_free(&c->lc_answer);
	localexec_job_free(proxy_wait_end(c));
	localexec_job_free(c->finished_job);
	proxy_block_end(c);
	localread_session_free(&c->lr);
	localread_names_free(c->names);
	proxy_msg_clear(&c->unnamed_parse);
	proxy_msg_clear(&c->up_unnamed);
	free(c->startup);
	p->nclients--;
	if (c->counted)
		p->nheld--;
	proxy_publish(p);
	if ((p->retiring || p->stopping) && p->nclients == 0) {
		p->quit = true;
		event_base_loopbreak(p->base);
	}
	if (c->counted)
		proxy_give(&p->shm->proxy_clients);
	free(c);
}

/* Every callback that touched a client ends here. */
static void
proxy_client_done(struct proxy_client *c)
{
	/* room upstream again (the upstream side drained it): relay what the client already
	 * sent, or a pipelining client would wait forever */
	if (!c->dead && (c->state == PC_READY || c->state == PC_DRAIN) && !c->cin_done &&
	    !c->held && proxy_buf_pending(&c->cin) >= PGW_HEADER_LEN &&
	    proxy_buf_pending(&c->uout) < PROXY_HIGH_WATER)
		proxy_client_process(c);
	if (!c->dead && c->state == PC_DRAIN)
		proxy_client_drain(c);
	if (c->p->stopping && !c->dead)
		proxy_stop_client(c);
	/* a client that does not take its last message does not keep its slot */
	if (!c->dead && c->state == PC_CLOSING && !c->delaying && !c->closing_armed) {
		c->closing_armed = true;
		proxy_client_timer(c, PROXY_CLOSING_MS, proxy_linger_timeout_cb);
	}
	if (c->dead) {
		proxy_client_free(c);
		return;
	}
	/* an idle session keeps no buffers: most clients are idle most of the time */
	if (c->state == PC_READY && c->cin.len == 0 && c->cout.len == 0 && c->uout.len == 0) {
		proxy_buf_free(&c->cin, false);
		proxy_buf_free(&c->cout, false);
		proxy_buf_free(&c->uout, false);
	}
	proxy_client_update_events(c);
}

/* ---- writing to the client ---- */

static void
proxy_linger_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	c->dead = true;
	proxy_client_done(c);
}

/* (Re)arms the client's one timer; a client whose timer cannot be set is closed. */
/* Arms *ev (replacing what it was) to call cb for c in ms; -1 (logged) when it cannot. */
static int
proxy_timer(struct proxy_client *c, struct event **ev, int ms, event_callback_fn cb)
{
	struct timeval tv = {ms / 1000, ms % 1000 * 1000};

	proxy_event_free(ev);
	*ev = evtimer_new(c->p->base, cb, c);
	if (*ev == NULL || evtimer_add(*ev, &tv) < 0) {
		log_error("cannot create a timer");
		return -1;
	}
	return 0;
}

static void
proxy_client_timer(struct proxy_client *c, int ms, event_callback_fn cb)
{
	if (proxy_timer(c, &c->ev_timer, ms, cb) < 0)
		c->dead = true;
}

/* The last message is out. Closing now, with client bytes unread or still coming (a query
 * sent while we were closing), would make the kernel answer with a reset that can destroy
 * the message before the client reads it; so the write side is shut and input is discarded
 * until the client closes too, for PROXY_LINGER_MS at most. */
static void
proxy_client_linger(struct proxy_client *c)
{
	c->state = PC_LINGER;
	if (c->ssl)
		(void)SSL_shutdown(c->ssl); /* close_notify; the client's is not waited for */
	if (shutdown(c->fd, SHUT_WR) < 0)
		c->dead = true;
	else
		proxy_client_timer(c, PROXY_LINGER_MS, proxy_linger_timeout_cb);
}

/* send() or SSL_write(): bytes written, or -1 with errno (EAGAIN: later). */
static ssize_t
proxy_client_send(struct proxy_client *c, const void *buf, size_t len)
{
	char why[256];
	int n, e;

	if (c->ssl == NULL)
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	ERR_clear_error();
	n = SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0) {
		c->tls_want_write = false;
		return n;
	}
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
		c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	}
	if (e != SSL_ERROR_SYSCALL)
		log_debug("client %s: TLS write failed: %s", c->addr,
		          tls_last_error(why, sizeof(why)));
	if (e != SSL_ERROR_SYSCALL || errno == 0)
		errno = EPIPE;
	return -1;
}

/* recv() or SSL_read(): bytes read, 0 at the end of the stream, -1 with errno (EAGAIN:
 * later). */
static ssize_t
proxy_client_recv(struct proxy_client *c, void *buf, size_t len)
{
	char why[256];
	int n, e;

	if (c->ssl == NULL)
		return recv(c->fd, buf, len, 0);
	ERR_clear_error();
	n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	e = SSL_get_error(c->ssl, n);
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0; /* close_notify */
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			return 0; /* the peer closed without close_notify */
		return -1;
	default:
		log_info("client %s: TLS read failed: %s", c->addr,
		         tls_last_error(why, sizeof(why)));
		errno = EPROTO;
		return -1;
	}
}

/* Sends what may be sent; marks the client dead on a write error. */
static void
proxy_client_flush(struct proxy_client *c)
{
	ssize_t n;

	while (c->cout.off < c->scan) {
		n = proxy_client_send(c, c->cout.data + c->cout.off, c->scan - c->cout.off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_debug("client %s: send() failed: %s", c->addr, strerror(errno));
				c->dead = true;
			}
			return;
		}
		c->cout.off += (size_t)n;
	}
	if (c->cout.off == c->cout.len) {
		c->cout.off = c->cout.len = c->scan = 0;
		if (c->state == PC_CLOSING && !c->delaying)
			proxy_client_linger(c);
	}
}

/* ---- the upstream side of a ready client ---- */

/* recv() or SSL_read(): > 0 bytes, 0 at end of stream, -1 on error, SQE_AGAIN. */
static ssize_t
proxy_up_recv(struct proxy_client *c, void *buf, size_t len, char *why, size_t whylen)
{
	ssize_t n;
	int r, err;

	if (c->up_ssl == NULL) {
		do
			n = recv(c->up_fd, buf, len, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SQE_AGAIN;
		if (n < 0)
			snprintf(why, whylen, "%s", strerror(errno));
		return n;
	}
	c->up_read_wants_write = false;
	ERR_clear_error();
	r = SSL_read(c->up_ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (r > 0)
		return r;
	err = SSL_get_error(c->up_ssl, r);
	if (err == SSL_ERROR_WANT_READ)
		return SQE_AGAIN;
	if (err == SSL_ERROR_WANT_WRITE) {
		c->up_read_wants_write = true;
		return SQE_AGAIN;
	}
	if (err == SSL_ERROR_ZERO_RETURN)
		return 0;
	snprintf(why, whylen, "TLS error: %s",
	         ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) : "connection lost");
	return -1;
}

static ssize_t
proxy_up_send(struct proxy_client *c, const void *buf, size_t len, char *why, size_t whylen)
{
	ssize_t n;
	int r, err;

	if (c->up_ssl == NULL) {
		do
			n = send(c->up_fd, buf, len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SQE_AGAIN;
		if (n < 0)
			snprintf(why, whylen, "%s", strerror(errno));
		return n;
	}
	ERR_clear_error();
	r = SSL_write(c->up_ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (r > 0)
		return r;
	err = SSL_get_error(c->up_ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return SQE_AGAIN;
	snprintf(why, whylen, "TLS error: %s",
	         ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) : "connection lost");
	return -1;
}

/* The upstream link broke or ended. The client gets a connection-class FATAL error unless the
 * upstream already said why it ends the session, and is closed. */
/* The shared view of the upstream: a worker that could not connect marks it down; any
 * connection made marks it up. */
static void
proxy_upstream_down(struct proxy *p)
{
	if (shm_load(p->shm->upstream_down_us) == 0) {
		shm_store(p->shm->upstream_down_us, time_real_us());
		log_warn("the upstream is unreachable: %s; %s", p->down_why,
		         p->serve_stale ? "sessions keep reading the local copy"
		                        : "reads are refused (on_upstream_down = error)");
	}
}

static void
proxy_upstream_up(struct proxy *p)
{
	if (shm_load(p->shm->upstream_down_us) != 0) {
		shm_store(p->shm->upstream_down_us, 0);
		log_info("the upstream is reachable again");
	}
}

/* Whether a session may outlive its upstream connection: serve_stale, nothing owed by the
 * upstream or the session's at stake (no transaction, no statement in flight), and no state
 * upstream that a new connection would lack. */
static bool
proxy_session_keeps(const struct proxy_client *c)
{
	return c->p->serve_stale && c->state == PC_READY && c->pending == 0 && c->txn == 'I' &&
	       c->blk != PROXY_BLK_FAILED && !c->stateful && c->swallow == 0 && !c->reconnecting &&
	       !c->unsynced && !(c->held && c->checking);
}

/* The session goes on without its upstream connection (up_fd < 0). Checks in flight are
 * dropped; the client's unnamed statement is sent again on a new connection before its next
 * use. */
static void
proxy_session_detach(struct proxy_client *c)
{
	c->nchecks = 0;
	c->checking = false;
	strbuf_reset(&c->icpt);
	strbuf_reset(&c->lc_answer);
	if (c->up_unnamed.data && !c->unnamed_parse.data) {
		c->unnamed_parse = c->up_unnamed;
		c->up_unnamed = (struct proxy_msg){0};
	}
	proxy_msg_clear(&c->up_unnamed);
	c->seg_ok = false;
	c->up_fatal = false;
	proxy_buf_consume(&c->uout, proxy_buf_pending(&c->uout)); /* the old session's */
	proxy_up_close(c);
}

/* A statement for the upstream in a session without a connection: a new one, unless another
 * attempt of this worker's or another's failed within PROXY_PROBE_US (the statement then
 * gets an error at once). Returns true when the attempt started. */
static bool
proxy_reconnect(struct proxy_client *c)
{
	struct proxy *p = c->p;
	int64_t now = time_mono_us(); /* one clock for all processes, never stepped */

	if (shm_load(p->shm->upstream_down_us) != 0 &&
	    now - shm_load(p->shm->upstream_probe_us) < PROXY_PROBE_US)
		return false;
	if ((c->lc_started && !c->lc_connected && p->queue != NULL) ||
	    !proxy_take(&p->shm->proxy_upstream_conns, p->cfg->proxy_max_upstream_connections)) {
		if (c->lc_started && !c->lc_connected) {
			/* a session begun from the login cache waits in the queue, behind the
			 * logins there, as its login through the upstream would have */
			c->reconnecting = true;
			c->queued_us = now;
			*p->queue_tail = c;
			p->queue_tail = &c->qnext;
			proxy_queue_kick(p);
			return true;
		}
		snprintf(p->down_why, sizeof(p->down_why),
		         "no upstream connection is free ([proxy] max_upstream_connections)");
		return false;
	}
	shm_store(p->shm->upstream_probe_us, now);
	log_debug("client %s: connecting to the upstream again", c->addr);
	c->reconnecting = true;
	proxy_login_start(c);
	return true;
}

/* The upstream connection is made: detached from libpq when it can be, and watched. */
static int
proxy_up_events(struct proxy_client *c)
{
	struct proxy *p = c->p;

	if (c->up_ssl == NULL)
		proxy_up_detach(c);
	c->ev_up_read = event_new(p->base, c->up_fd, EV_READ | EV_PERSIST, proxy_up_read_cb, c);
	c->ev_up_write = event_new(p->base, c->up_fd, EV_WRITE | EV_PERSIST, proxy_up_write_cb, c);
	if (c->ev_up_read == NULL || c->ev_up_write == NULL) {
		log_error("cannot create upstream events");
		c->dead = true;
		return -1;
	}
	return 0;
}

/* The new upstream connection is up: the session's statements go there again. */
static void
proxy_reconnected(struct proxy_client *c)
{
	c->reconnecting = false;
	c->txn = 'I';
	if (proxy_up_events(c) < 0)
		return;
	if (c->lc_started && !c->lc_connected)
		log_debug("client %s: connected to the upstream for a statement of a session begun "
		          "from the login cache",
		          c->addr);
	else
		log_info("client %s (user \"%s\"): connected to the upstream again", c->addr,
		         c->st.user);
	c->lc_connected = true;
	if (c->held)
		proxy_local_release_upstream(c);
	else
		proxy_client_process(c);
}

static void
proxy_up_lost(struct proxy_client *c, const char *why)
{
	if (c->state == PC_DRAIN) {
		c->dead = true;
	} else if (proxy_session_keeps(c) && c->msg_left == 0 && c->scan == c->cout.len) {
		log_info(
		        "client %s (user \"%s\"): connection to the upstream lost: %s; the session "
		        "goes on with the local copy",
		        c->addr, c->st.user, why);
		proxy_session_detach(c);
		return;
	} else if (c->up_fatal) {
		log_debug("client %s: upstream closed the session after a FATAL error", c->addr);
		c->state = PC_CLOSING;
	} else {
		/* as when a backend dies: the client learns it now, even if it waits for nothing
		 * (a LISTEN loop must reconnect) */
		log_warn("client %s (user \"%s\"): connection to the upstream lost%s: %s", c->addr,
		         c->st.user, c->txn != 'I' ? " inside a transaction" : "", why);
		proxy_client_error(c, "FATAL", "08006", "connection to the upstream was lost", why,
		                   c->txn != 'I'
		                           ? "The transaction in progress was rolled back, or "
		                             "its outcome is unknown if COMMIT had been sent."
		                           : NULL);
		c->state = PC_CLOSING;
	}
	proxy_up_close(c);
	proxy_client_flush(c);
}

static void
proxy_up_flush(struct proxy_client *c)
{
	char why[256];
	ssize_t n;

	while (c->up_fd >= 0 && proxy_buf_pending(&c->uout) > 0) {
		n = proxy_up_send(c, c->uout.data + c->uout.off, proxy_buf_pending(&c->uout), why,
		                  sizeof(why));
		if (n == SQE_AGAIN)
			return;
		if (n <= 0) {
			proxy_up_lost(c, why);
			return;
		}
		proxy_buf_consume(&c->uout, (size_t)n);
	}
}

/* Whether a whole ErrorResponse says the server is going away (57P01 admin shutdown, 57P02
 * crash shutdown, 57P03 cannot connect now): the upstream, not the session, is at fault. */
static bool
proxy_error_is_shutdown(const uint8_t *m, size_t len)
{
	size_t i = PGW_HEADER_LEN, n;

	while (i < len && m[i] != '\0') {
		const char *v = (const char *)m + i + 1;

		n = strnlen(v, len - i - 1);
		if (i + 1 + n >= len)
			break;
		if (m[i] == 'C')
			return strcmp(v, "57P01") == 0 || strcmp(v, "57P02") == 0 ||
			       strcmp(v, "57P03") == 0;
		i += n + 2;
	}
	return false;
}

/* Whether a whole ErrorResponse ends the session: its non-localized severity (V, sent since
 * 9.6) is FATAL or PANIC; the localized S only when V is missing. */
static bool
proxy_error_is_fatal(const uint8_t *m, size_t len)
{
	const char *sev = NULL;
	size_t i = PGW_HEADER_LEN, n;

	while (i < len && m[i] != '\0') {
		const char *v = (const char *)m + i + 1;

		n = strnlen(v, len - i - 1);
		if (i + 1 + n >= len)
			break; /* unterminated */
		if (m[i] == 'V' || (m[i] == 'S' && sev == NULL))
			sev = v;
		i += n + 2;
	}
	return sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0);
}

/* Whether the upstream's next messages are a check's answer. */
static bool
proxy_check_due(const struct proxy_client *c)
{
	return c->nchecks > 0 && c->checks[0].client == 0;
}

/* Walks the upstream messages that arrived in cout[scan, len), noting what the proxy must
 * know: transaction status and FATAL errors. Message bodies stream through: only headers
 * (and the first bytes of a few types) must be complete before they are passed on. Returns
 * 0, -1 on a broken stream, or 1 when a check sent ahead begins at scan. */
static int
proxy_up_scan(struct proxy_client *c)
{
	uint8_t *d = c->cout.data;
	size_t avail, take, need;
	uint32_t mlen;
	uint8_t type;

	while (c->scan < c->cout.len) {
		avail = c->cout.len - c->scan;
		if (c->msg_left > 0) {
			take = avail < c->msg_left ? avail : c->msg_left;
			c->scan += take;
			c->msg_left -= take;
			continue;
		}
		if (avail < PGW_HEADER_LEN)
			return 0;
		type = d[c->scan];
		mlen = be_get_u32(d + c->scan + 1);
		if (mlen < 4 || mlen > INT32_MAX) {
			log_warn("client %s: the upstream sent a message of type 0x%02x with an "
			         "invalid length %u",
			         c->addr, type, mlen);
			return -1;
		}
		/* ReadyForQuery's status; an ErrorResponse whole, for its severity */
		need = type == 'Z' ? 6 : type == 'E' && mlen < PROXY_ERROR_SCAN_MAX ? mlen + 1 : 0;
		if (avail < need)
			return 0;
		if (type == 'Z' && mlen == 5) {
			c->txn = (char)d[c->scan + 5];
			if (c->lc_keyed && c->p->lcache)
				__atomic_add_fetch(
				        &c->p->shm
				                 ->lcache_forwarded[proxy_lcache_bucket(c->lc_key)],
				        1, __ATOMIC_SEQ_CST);
			if (c->pending > 0)
				c->pending--;
			if (c->nchecks > 0 && c->checks[0].client > 0 &&
			    --c->checks[0].client == 0) {
				c->scan += 6;
				return 1;
			}
		} else if (type == 'E') {
			/* the rest of the segment is skipped: a Parse of the unnamed statement
			 * in it may not have replaced the statement */
			c->unnamed_kind = LOCALREAD_KIND_OTHER;
			if (need > 0 && proxy_error_is_fatal(d + c->scan, need)) {
				if (c->pending == 0 && proxy_error_is_shutdown(d + c->scan, need) &&
				    proxy_session_keeps(c)) {
					/* the upstream goes away while the session is idle: it
					 * goes on without it, so the client does not hear it */
					memmove(d + c->scan, d + c->scan + need,
					        c->cout.len - c->scan - need);
					c->cout.len -= need;
					continue;
				}
				c->up_fatal = true;
			}
		}
		c->scan += PGW_HEADER_LEN;
		c->msg_left = mlen - 4;
	}
	return 0;
}

/* Moves bytes from the upstream to the client until either side would block or the client
 * has PROXY_HIGH_WATER waiting. */
static void
proxy_up_pump(struct proxy_client *c)
{
	char why[256];
	size_t moved;
	ssize_t n;

	if (c->up_fd < 0 || (c->state != PC_READY && c->state != PC_DRAIN))
		return;
	if (proxy_buf_pending(&c->uout) > 0)
		proxy_up_flush(c);
	while (!c->dead && c->up_fd >= 0 && proxy_buf_pending(&c->cout) < PROXY_HIGH_WATER) {
		moved = proxy_buf_reserve(&c->cout, PROXY_READ_MIN);
		c->scan -= moved;
		n = proxy_up_recv(c, c->cout.data + c->cout.len, c->cout.cap - c->cout.len, why,
		                  sizeof(why));
		if (n == SQE_AGAIN)
			break;
		if (n <= 0) {
			proxy_up_lost(c, n == 0 ? "the upstream closed the connection" : why);
			return;
		}
		if (c->state == PC_DRAIN)
			continue; /* the client is gone: its answers go nowhere */
		c->cout.len += (size_t)n;
		if (proxy_check_due(c) || c->swallow > 0) {
			proxy_local_intercept(c);
			if (c->dead)
				return;
			continue;
		}
		switch (proxy_up_scan(c)) {
		case 0:
			break;
		case 1: /* the rest is the check's answer */
			proxy_local_intercept(c);
			if (c->dead)
				return;
			continue;
		default:
			c->dead = true;
			return;
		}
		proxy_client_flush(c);
	}
}

/* ---- relaying client messages ---- */

/* Appends one client message for the upstream and notes what the upstream owes for it.
 * Anything forwarded may change what the session could read locally. */
/* Whether a whole message names the unnamed prepared statement: Parse, Bind, or Describe or
 * Close of statement "". */
static bool
proxy_uses_unnamed(uint8_t type, const uint8_t *msg, size_t len)
{
	const uint8_t *body = msg + PGW_HEADER_LEN, *nul;
	size_t blen = len - PGW_HEADER_LEN;

	switch (type) {
	case PGW_PARSE:
		return blen > 0 && body[0] == '\0';
	case PGW_BIND: /* portal, then statement */
		nul = memchr(body, '\0', blen);
		return nul != NULL && nul + 1 < body + blen && nul[1] == '\0';
	case PGW_DESCRIBE:
	case PGW_CLOSE:
		return blen >= 2 && body[0] == 'S' && body[1] == '\0';
	default:
		return false;
	}
}

/* Sends the upstream the client's unnamed statement, which it answered locally, as a segment
 * of its own (Parse, Sync) whose answer is not relayed. Only between segments: false when
 * the client is halfway through one. */
static bool
proxy_unnamed_sync(struct proxy_client *c)
{
	if (c->unsynced || c->pending > 0)
		return false;
	proxy_buf_append(&c->uout, c->unnamed_parse.data, c->unnamed_parse.len);
	proxy_buf_append(&c->uout, "S\0\0\0\4", 5);
	c->swallow++;
	c->up_unnamed = c->unnamed_parse;
	c->unnamed_parse = (struct proxy_msg){0};
	return true;
}

static void
proxy_forward(struct proxy_client *c, uint8_t type, const uint8_t *msg, size_t len)
{
	struct proxy *p = c->p;

	c->lc_pristine = false;

	if (type == PGW_QUERY) {
		/* a simple Query drops the unnamed statement, here and upstream */
		proxy_msg_clear(&c->unnamed_parse);
		proxy_msg_clear(&c->up_unnamed);
	} else if (proxy_uses_unnamed(type, msg, len)) {
		if (type == PGW_PARSE || type == PGW_CLOSE) {
			proxy_msg_clear(&c->unnamed_parse);
			if (type == PGW_PARSE)
				proxy_msg_set(&c->up_unnamed, msg, len);
			else
				proxy_msg_clear(&c->up_unnamed);
		} else if (c->unnamed_parse.data && !proxy_unnamed_sync(c)) {
			/* within a segment the upstream cannot be given the statement without an
			 * answer of its own in the middle of the client's */
			proxy_client_fatal(c, "0A000",
			                   "sqledge cannot relay a use of the unnamed statement, "
			                   "answered from the local copy, in the middle of a "
			                   "pipeline; send Parse before Bind");
			return;
		}
	}
	if (type == PGW_QUERY || type == PGW_EXECUTE || type == PGW_FUNCTION_CALL)
		p->queries++;
	if (type == PGW_QUERY || type == PGW_SYNC || type == PGW_FUNCTION_CALL)
		c->pending++;
	if (type == PGW_SYNC)
		c->unsynced = false;
	else if (type != PGW_QUERY && type != PGW_FUNCTION_CALL && type != PGW_COPY_DATA &&
	         type != PGW_COPY_DONE && type != PGW_COPY_FAIL)
		c->unsynced = true;
	/* what the session may read, and its statements, may change with anything else */
	if (type != PGW_DESCRIBE && type != PGW_SYNC && type != PGW_FLUSH) {
		c->lr.valid = false;
		for (unsigned i = 0; i < c->nchecks; i++)
			c->checks[i].stale = true;
	}
	proxy_buf_append(&c->uout, msg, len);
}

/* ---- local reads ---- */

/* The file's schema version, through a statement kept prepared: it runs for every local
 * candidate. */
static int64_t
proxy_schema_version(struct proxy *p)
{
	int64_t v = -1;

	if (p->cat_version_st == NULL && sqlite3_prepare_v2(p->cat_db, "PRAGMA schema_version", -1,
	                                                    &p->cat_version_st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(p->cat_version_st) == SQLITE_ROW)
		v = sqlite3_column_int64(p->cat_version_st, 0);
	sqlite3_reset(p->cat_version_st);
	return v;
}

static void
proxy_stmts_clear(struct proxy *p)
{
	size_t i;

	for (i = 0; i < PROXY_STMT_CACHE; i++) {
		sqlite3_finalize(p->stmts[i].st);
		free(p->stmts[i].sql);
		p->stmts[i] = (struct proxy_stmt){0};
	}
}

/* sql prepared on the loop's connection, from the cache or into it; NULL when it fails. */
static sqlite3_stmt *
proxy_stmt(struct proxy *p, const char *sql)
{
	struct proxy_stmt *e, *victim = &p->stmts[0];
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < PROXY_STMT_CACHE; i++) {
		e = &p->stmts[i];
		if (e->sql && strcmp(e->sql, sql) == 0) {
			e->last_use = ++p->stmt_uses;
			return e->st;
		}
		if (e->last_use < victim->last_use)
			victim = e;
	}
	if (sqlite3_prepare_v2(p->cat_db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_finalize(victim->st);
	free(victim->sql);
	victim->sql = xstrdup(sql);
	victim->st = st;
	victim->last_use = ++p->stmt_uses;
	return st;
}

static void
proxy_snapshot_end(struct proxy *p)
{
	if (p->snap_open && sqlite3_exec(p->cat_db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_warn("ending a read transaction on the local copy: %s",
		         sqlite3_errmsg(p->cat_db));
		if (!sqlite3_get_autocommit(p->cat_db))
			(void)sqlite3_exec(p->cat_db, "ROLLBACK", NULL, NULL, NULL);
	}
	p->snap_open = false;
}

static void
proxy_snapshot_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	proxy_snapshot_end(arg);
}

/* The loop's reads share one read transaction while nothing new is applied: a snapshot as
 * fresh as a new one, without the file locking each transaction costs. Returns the applied
 * position the loop's reads see at least. */
static uint64_t
proxy_snapshot(struct proxy *p)
{
	uint64_t lsn = shm_load(p->shm->applied_lsn);
	struct timeval tv = {0, PROXY_SNAPSHOT_MS * 1000};

	if (p->snap_open && lsn == p->snap_lsn)
		return lsn;
	proxy_snapshot_end(p);
	/* the snapshot is taken at the first read, after this load: it holds at least lsn */
	if (sqlite3_exec(p->cat_db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return lsn; /* each read is a transaction of its own, as fresh */
	p->snap_open = true;
	p->snap_lsn = lsn;
	if (p->ev_snap == NULL)
		p->ev_snap = evtimer_new(p->base, proxy_snapshot_timeout_cb, p);
	if (p->ev_snap)
		evtimer_add(p->ev_snap, &tv);
	return lsn;
}

/* The catalog of the current generation, reread whenever the file's schema changed (a table
 * copied, dropped or reshaped: each changes the schema); NULL without a copy. */
static const struct localcat *
proxy_catalog(struct proxy *p)
{
	uint32_t gen = shm_load(p->shm->generation);
	struct localcat *cat = NULL;
	struct proxy_client *c;
	int64_t version;
	char *path;

	if (gen == 0)
		return NULL;
	if (p->cat_db == NULL || p->cat_gen != gen) {
		proxy_snapshot_end(p);
		proxy_stmts_clear(p);
		sqlite3_finalize(p->cat_version_st);
		p->cat_version_st = NULL;
		sqlite3_close(p->cat_db);
		p->cat_db = NULL;
		localcat_free(p->cat);
		p->cat = NULL;
		path = store_generation_path(p->cfg->local_db_path, gen);
		if (store_open_reader(path, &p->cat_db) < 0)
			p->cat_db = NULL;
		free(path);
		if (p->cat_db == NULL)
			return NULL;
		p->cat_gen = gen;
		p->cat_version = -1;
	}
	proxy_snapshot(p);
	version = proxy_schema_version(p);
	if (version < 0)
		return NULL;
	if (p->cat && version == p->cat_version)
		return p->cat;
	if (localcat_load(p->cat_db, &cat) < 0)
		return NULL;
	localcat_free(p->cat);
	p->cat = cat;
	p->cat_version = version;
	p->cat_epoch++;
	strbuf_reset(&p->check_sql);
	localread_check_sql(cat, &p->check_sql);
	logincache_check_id(p->check_sql.data, p->check_sql.len, p->check_id);
	if (p->lcache)
		logincache_set_check_id(p->lcache, p->check_id);
	/* the sessions' checks were made against the old relation list */
	for (c = p->clients; c != NULL; c = c->next)
		c->lr.valid = false;
	return p->cat;
}

/* Holds the client's Query, or batch, while the check or the local execution runs. */
static void
proxy_local_hold(struct proxy_client *c, const uint8_t *msg, size_t len, bool batch, bool parse)
{
	strbuf_reset(&c->held_msg);
	strbuf_append(&c->held_msg, msg, len);
	c->held = true;
	c->held_batch = batch;
	c->held_parse = parse;
}

/* The held messages go upstream after all. */
static void
proxy_local_release_upstream(struct proxy_client *c)
{
	const uint8_t *m = (const uint8_t *)c->held_msg.data;
	size_t off = 0, mlen;

	if (c->up_fd < 0 && c->state == PC_READY) {
		/* the upstream went away: a new connection first */
		if (c->reconnecting || (!c->refuse && proxy_reconnect(c)))
			return; /* released again once connected */
		c->refuse = false;
		if (c->blk == PROXY_BLK_LOCAL)
			c->blk = PROXY_BLK_FAILED;
		proxy_block_answer(c, NULL, false, "08006",
		                   "sqledge cannot reach the upstream; the statement was not run",
		                   "Reads of the local copy go on. Try again when the upstream is "
		                   "back.");
		return;
	}
	if (c->blk != PROXY_BLK_NONE && !proxy_block_leave(c)) {
		proxy_block_answer(c, NULL, false, c->blk_code, c->blk_message, c->blk_hint);
		return;
	}
	c->held = false;
	c->seg_ok = false; /* not noted: nothing is sent after it */
	while (c->held_msg.len - off >= PGW_HEADER_LEN) {
		mlen = be_get_u32(m + off + 1) + 1;
		proxy_forward(c, m[off], m + off, mlen);
		off += mlen;
	}
	shm_store(c->p->slot->queries_forwarded, c->p->queries);
	strbuf_reset(&c->held_msg);
	proxy_up_flush(c);
}

/* Appends the check query for the upstream. The check's simple Query drops the upstream's
 * unnamed statement: when the client keeps it (keep_unnamed), it is sent again before its
 * next use there; with resend, at once, behind the check (a client may use it before the
 * check's answer is in). */
static void
proxy_local_check_send(struct proxy_client *c, bool keep_unnamed, bool resend)
{
	struct proxy *p = c->p;
	struct proxy_check k = {c->pending, 0, 0, p->cat_epoch, false, 0};
	struct strbuf sb;

	if (c->up_unnamed.data && keep_unnamed && !resend && !c->unnamed_parse.data) {
		c->unnamed_parse = c->up_unnamed;
		c->up_unnamed = (struct proxy_msg){0};
	}
	strbuf_init(&sb);
	localread_check_start(&c->lr, c->names, p->cat, p->cat_epoch, &p->check_sql, &sb);
	k.zs = 1 + (unsigned)c->lr.ndesc;
	if (c->up_unnamed.data && keep_unnamed && resend) {
		strbuf_append(&sb, c->up_unnamed.data, c->up_unnamed.len);
		strbuf_append(&sb, "S\0\0\0\4", 5);
		k.zs++;
		k.tail++;
	} else {
		proxy_msg_clear(&c->up_unnamed);
	}
	proxy_buf_append(&c->uout, sb.data, sb.len);
	strbuf_free(&sb);
	/* it covers what the upstream answered before, and the session's own statements it
	 * follows on the connection (k.client ReadyForQuery messages still to come) */
	if (c->lc_keyed && p->lcache)
		k.forwarded = shm_load(p->shm->lcache_forwarded[proxy_lcache_bucket(c->lc_key)]) +
		              k.client;
	c->checks[c->nchecks++] = k;
	c->checking = true;
}

/* Sends the check query into the session, with the held statement waiting for its answer. */
static void
proxy_local_check_start(struct proxy_client *c)
{
	struct proxy *p = c->p;

	if (c->up_fd < 0) {
		proxy_local_release_upstream(c); /* a new connection first */
		return;
	}
	/* a held simple Query drops the unnamed statement for the client too, as does a held
	 * Parse of it */
	proxy_local_check_send(c, c->held_batch && !c->held_parse, false);
	p->checks_held++;
	shm_store(p->slot->checks_held, p->checks_held);
	proxy_up_flush(c);
}

/* After a write the check goes in the same flight, behind it, when the session reads
 * locally: its answer (with the position that covers the write) is in, or on its way, when
 * the next read comes. Only after a single segment, whose statements can neither start COPY
 * (which would take the check for its data) nor leave a transaction block open, and with
 * nothing more from the client. A read that comes before the answer waits for it; anything
 * else goes upstream at once and makes the check stale. */
static void
proxy_local_check_ahead(struct proxy_client *c)
{
	struct proxy *p = c->p;

	if (!c->seg_ok || !c->lr_reader || p->ex == NULL || c->state != PC_READY || c->up_fd < 0 ||
	    c->pending != 1 || c->unsynced || c->nchecks == PROXY_CHECKS_MAX || c->swallow > 0 ||
	    c->held || proxy_buf_pending(&c->cin) > 0 || proxy_catalog(p) == NULL)
		return;
	c->seg_ok = false;
	proxy_local_check_send(c, true, true);
	p->checks_ahead++;
	shm_store(p->slot->checks_ahead, p->checks_ahead);
}

/* The position a local answer must wait for: the session's own writes (consistency =
 * session), or none (eventual). */
static uint64_t
proxy_local_min_lsn(const struct proxy_client *c)
{
	return c->p->eventual ? 0 : c->lr.min_lsn;
}

static void *
proxy_wait_thread(void *arg)
{
	struct proxy *p = arg;
	uint64_t one = 1;
	uint32_t seq;

	pthread_mutex_lock(&p->wait_lock);
	for (;;) {
		while (p->nwaiting == 0 && !p->wait_stop)
			pthread_cond_wait(&p->wait_cond, &p->wait_lock);
		if (p->wait_stop)
			break;
		pthread_mutex_unlock(&p->wait_lock);
		/* the loop looks after every change from here on; one that comes before the
		 * sleep ends it at once */
		seq = __atomic_load_n(&p->shm->applied_seq, __ATOMIC_SEQ_CST);
		if (write(p->wait_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("cannot wake the proxy loop: %s", strerror(errno));
		shm_applied_wait(p->shm, seq, PROXY_WAIT_SAFETY_MS);
		pthread_mutex_lock(&p->wait_lock);
	}
	pthread_mutex_unlock(&p->wait_lock);
	return NULL;
}

static void
proxy_wait_add(struct proxy_client *c)
{
	struct proxy *p = c->p;

	c->waiting = true;
	pthread_mutex_lock(&p->wait_lock);
	uint64_t one = 1;

	if (p->nwaiting++ == 0) {
		/* the slot's flag lets the master take it back if this worker dies (set after
		 * the count, cleared before it: a death in between leaves one too many, which
		 * costs wakeups, never one too few, which would cost waits) */
		__atomic_add_fetch(&p->shm->applied_waiters, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&p->slot->waiting, 1, __ATOMIC_SEQ_CST);
		pthread_cond_signal(&p->wait_cond);
	}
	pthread_mutex_unlock(&p->wait_lock);
	/* a position published between the caller's look and the count above woke nobody:
	 * the loop looks once more */
	if (write(p->wait_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("cannot wake the proxy loop: %s", strerror(errno));
}

/* Ends a read's wait for the copy; its job is the caller's. */
static struct localexec_job *
proxy_wait_end(struct proxy_client *c)
{
	struct localexec_job *job = c->waiting_job;

	proxy_wait_remove(c);
	proxy_event_free(&c->ev_wait_timer);
	c->waiting_job = NULL;
	return job;
}

static void
proxy_wait_remove(struct proxy_client *c)
{
	struct proxy *p = c->p;

	if (!c->waiting)
		return;
	c->waiting = false;
	pthread_mutex_lock(&p->wait_lock);
	if (--p->nwaiting == 0) {
		__atomic_store_n(&p->slot->waiting, 0, __ATOMIC_SEQ_CST);
		__atomic_sub_fetch(&p->shm->applied_waiters, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&p->wait_lock);
}

/* The copy moved on: the waiting reads whose sessions' writes it now holds run. */
/* The transaction status the client sees. */
static char
proxy_client_txn(const struct proxy_client *c)
{
	return c->blk == PROXY_BLK_LOCAL ? 'T' : c->blk == PROXY_BLK_FAILED ? 'E' : 'I';
}

/* The block's snapshot: a read transaction on a connection of its own, begun now (the copy
 * has the session's writes). */
static int
proxy_block_snapshot(struct proxy_client *c)
{
	uint32_t gen = shm_load(c->p->shm->generation);
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	char *path;
	int rc;

	if (gen == 0)
		return -1;
	path = store_generation_path(c->p->cfg->local_db_path, gen);
	rc = store_open_reader(path, &db);
	free(path);
	if (rc < 0)
		return -1;
	if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
	            SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		log_warn("client %s: cannot begin a read transaction on the copy: %s", c->addr,
		         sqlite3_errmsg(db));
		sqlite3_finalize(st);
		sqlite3_close(db);
		return -1;
	}
	c->blk_schema = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	c->blk_gen = gen;
	c->blk_db = db;
	return 0;
}

/* Hands a job to the executor: in a REPEATABLE READ block, on the block's snapshot (a READ
 * COMMITTED block's statements each have one of their own, as in PostgreSQL). */
static void
proxy_local_run(struct proxy_client *c, struct localexec_job *job)
{
	struct proxy *p = c->p;

	if (c->blk != PROXY_BLK_NONE && c->blk_rr) {
		if ((c->blk_db == NULL && proxy_block_snapshot(c) < 0) ||
		    p->cat_gen != c->blk_gen || p->cat_version != c->blk_schema) {
			/* no snapshot, or it no longer has the tables the statement was
			 * translated for */
			job->status = LOCALEXEC_UNAVAILABLE;
			snprintf(job->errmsg, sizeof(job->errmsg), "no snapshot of the copy");
			proxy_local_finish(c, job);
			if (c->finished_job != job)
				localexec_job_free(job);
			return;
		}
		job->db = c->blk_db;
	}
	localexec_submit(c->p->ex, job);
}

static void
proxy_block_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;
	int64_t left = (int64_t)c->p->cfg->proxy_idle_in_transaction_timeout * 1000 -
	               (time_mono_us() - c->blk_idle_us);

	if (c->blk == PROXY_BLK_NONE || c->state != PC_READY)
		return;
	if (c->held || left > 0) {
		/* busy, or not idle for long enough yet */
		if (proxy_timer(c, &c->ev_blk_timer,
		                c->held ? c->p->cfg->proxy_idle_in_transaction_timeout
		                        : (int)(left / 1000) + 1,
		                proxy_block_timeout_cb) < 0)
			c->dead = true;
	} else {
		log_info("client %s: idle in a transaction block served from the copy for longer "
		         "than idle_in_transaction_timeout; closing the session",
		         c->addr);
		proxy_block_end(c);
		proxy_client_fatal(c, "25P03",
		                   "terminating connection due to idle-in-transaction timeout");
	}
	proxy_client_done(c);
}

/* Starts a block served from the copy for the held BEGIN, when it is READ ONLY (or READ
 * COMMITTED with read_committed_local) and not SERIALIZABLE (a snapshot of the copy is a
 * prefix of the upstream's commit order, which SERIALIZABLE READ ONLY does not accept).
 * Returns 1 when answered, 0 when the session's check must come first (its defaults), -1
 * to send it upstream. */
static int
proxy_block_begin(struct proxy_client *c, const char *sql)
{
	const struct cfg *cfg = c->p->cfg;
	enum translate_isolation iso;
	struct translate_txn t;
	bool read_only;

	if (!(localread_starts_with(sql, "begin") || localread_starts_with(sql, "start")) ||
	    strstr(sql, LOCALREAD_FORCE_UPSTREAM) != NULL ||
	    translate_transaction(sql, &t) != TRANSLATE_TXN_BEGIN)
		return -1;
	if (!c->lr.valid)
		return 0;
	read_only = t.read_only >= 0 ? t.read_only == 1 : c->lr.default_read_only;
	iso = t.isolation != TRANSLATE_ISO_DEFAULT ? t.isolation : c->lr.default_isolation;
	if (!c->lr.usable || iso == TRANSLATE_ISO_SERIALIZABLE ||
	    (!read_only &&
	     !(iso == TRANSLATE_ISO_READ_COMMITTED && cfg->proxy_read_committed_local)))
		return -1;
	c->blk = PROXY_BLK_LOCAL;
	c->blk_now_us = time_real_us(); /* now() is the transaction's start in all of it */
	c->blk_rr = iso == TRANSLATE_ISO_REPEATABLE_READ;
	c->blk_answered = false;
	proxy_msg_set(&c->blk_begin, (const uint8_t *)c->held_msg.data, c->held_msg.len);
	/* only a REPEATABLE READ block holds a snapshot of the copy between its statements */
	if (c->blk_rr && cfg->proxy_idle_in_transaction_timeout > 0 &&
	    proxy_timer(c, &c->ev_blk_timer, cfg->proxy_idle_in_transaction_timeout,
	                proxy_block_timeout_cb) < 0) {
		proxy_block_end(c);
		return -1;
	}
	proxy_block_answer(c, localread_starts_with(sql, "start") ? "START TRANSACTION" : "BEGIN",
	                   false, NULL, NULL, NULL);
	return 1;
}

/* The end of a block served from the copy: its snapshot goes (closed on the executor's
 * thread, after any job that runs on it). */
static void
proxy_block_end(struct proxy_client *c)
{
	if (c->blk_db != NULL) {
		if (c->p->ex != NULL)
			localexec_close_db(c->p->ex, c->blk_db);
		else
			sqlite3_close_v2(c->blk_db);
		c->blk_db = NULL;
	}
	proxy_msg_clear(&c->blk_begin);
	proxy_block_savepoints_drop(c, 0);
	free(c->blk_sp);
	c->blk_sp = NULL;
	proxy_event_free(&c->ev_blk_timer);
	c->blk = PROXY_BLK_NONE;
	c->blk_rr = c->blk_answered = c->blk_skip = false;
}

/* A statement of a block served from the copy must go upstream. The block moves there (its
 * BEGIN first, as a segment of ours) when nothing was answered from the snapshot or the
 * isolation allows a newer snapshot for the next statement (READ COMMITTED); otherwise the
 * block fails (blk_code, the error to answer with) and false is returned. */
static bool
proxy_block_leave(struct proxy_client *c)
{
	if (c->blk == PROXY_BLK_LOCAL && (!c->blk_rr || !c->blk_answered) && !c->unsynced &&
	    c->pending == 0 && c->up_fd >= 0) {
		proxy_block_replay(c, true);
		c->txn = 'T';
		proxy_block_end(c);
		return true;
	}
	if (c->blk == PROXY_BLK_LOCAL) {
		c->blk_code = "0A000";
		c->blk_message = "sqledge cannot run this statement in the snapshot of the local "
		                 "copy that this REPEATABLE READ transaction has read from";
		c->blk_hint = "Send the whole transaction upstream with /* sqledge:upstream */ in "
		              "its BEGIN, or use READ COMMITTED.";
	} else if (c->blk_code == NULL) {
		c->blk_code = "25P02";
		c->blk_message = "current transaction is aborted, commands ignored until end of "
		                 "transaction block";
		c->blk_hint = NULL;
	}
	c->blk = PROXY_BLK_FAILED;
	return false;
}

/* The client left with a block served here open: what it sent after goes upstream, so the
 * block does too, as it stands (a failed one failed there as well), for PostgreSQL to end
 * it as it would: rolled back, unless a COMMIT follows. */
static void
proxy_block_drain(struct proxy_client *c)
{
	struct strbuf sb;

	if (c->up_fd >= 0 && c->blk_begin.data != NULL) {
		proxy_block_replay(c, false);
		if (c->blk == PROXY_BLK_FAILED) {
			strbuf_init(&sb);
			pgw_put_query(&sb, "sqledge: the transaction block failed");
			proxy_buf_append(&c->uout, sb.data, sb.len);
			strbuf_free(&sb);
		}
	}
	proxy_block_end(c);
}

/* Answers the held statement here with a CommandComplete (after NoData when the batch
 * described its portal), or an error; the ReadyForQuery shows the block's state after it. */
static void
proxy_block_answer(struct proxy_client *c, const char *tag, bool nodata, const char *code,
                   const char *message, const char *hint)
{
	struct localexec_job *job = xcalloc(1, sizeof(*job));

	strbuf_init(&job->out);
	if (code != NULL) {
		struct pgw_error e = {
		        .severity = "ERROR", .code = code, .message = message, .hint = hint};

		pgw_put_error(&job->out, &e);
		c->blk_code = NULL;
	} else if (tag != NULL) {
		if (nodata)
			strbuf_append(&job->out, "n\0\0\0\4", 5);
		pgw_put_command_complete(&job->out, tag);
	}
	job->status = LOCALEXEC_OK;
	c->ticket = 0;
	proxy_local_finish(c, job);
	if (c->finished_job != job)
		localexec_job_free(job);
}

/* Where the block's savepoint called name is, the last of that name; -1 when none is. */
static int
proxy_block_savepoint(const struct proxy_client *c, const char *name)
{
	int i;

	for (i = (int)c->blk_nsp - 1; i >= 0; i--)
		if (strcmp(c->blk_sp[i], name) == 0)
			return i;
	return -1;
}

/* Forgets the block's savepoints from the one at from on. */
static void
proxy_block_savepoints_drop(struct proxy_client *c, size_t from)
{
	while (c->blk_nsp > from)
		free(c->blk_sp[--c->blk_nsp]);
}

/* Transaction control in a block served from the copy, as a Query or a batch's statement:
 * its end, and savepoints (which a read-only block keeps by name only, for ROLLBACK TO to
 * recover a failed block, and for the upstream if the block moves there). Returns true when
 * sql was one and is answered. */
static bool
proxy_block_txn(struct proxy_client *c, const char *sql, bool nodata)
{
	struct translate_txn t;
	char msg[128];
	bool commit;
	int i;

	if (!(localread_starts_with(sql, "commit") || localread_starts_with(sql, "end") ||
	      localread_starts_with(sql, "rollback") || localread_starts_with(sql, "abort") ||
	      localread_starts_with(sql, "savepoint") || localread_starts_with(sql, "release")))
		return false;
	switch (translate_transaction(sql, &t)) {
	case TRANSLATE_TXN_COMMIT:
	case TRANSLATE_TXN_ROLLBACK:
		/* COMMIT of a failed block is a ROLLBACK, as PostgreSQL reports it */
		commit = t.kind == TRANSLATE_TXN_COMMIT && c->blk == PROXY_BLK_LOCAL;
		proxy_block_end(c);
		proxy_block_answer(c, commit ? "COMMIT" : "ROLLBACK", nodata, NULL, NULL, NULL);
		return true;
	case TRANSLATE_TXN_SAVEPOINT:
		if (c->blk != PROXY_BLK_LOCAL)
			return false; /* ignored in a failed block: 25P02 */
		c->blk_sp = xrealloc(c->blk_sp, sizeof(*c->blk_sp) * (c->blk_nsp + 1));
		c->blk_sp[c->blk_nsp++] = xstrdup(t.name);
		proxy_block_answer(c, "SAVEPOINT", nodata, NULL, NULL, NULL);
		return true;
	case TRANSLATE_TXN_RELEASE:
	case TRANSLATE_TXN_ROLLBACK_TO:
		if (t.kind == TRANSLATE_TXN_RELEASE && c->blk != PROXY_BLK_LOCAL)
			return false;
		if ((i = proxy_block_savepoint(c, t.name)) < 0) {
			snprintf(msg, sizeof(msg), "savepoint \"%s\" does not exist", t.name);
			c->blk = PROXY_BLK_FAILED;
			proxy_block_answer(c, NULL, false, "3B001", msg, NULL);
			return true;
		}
		if (t.kind == TRANSLATE_TXN_RELEASE) {
			proxy_block_savepoints_drop(c, (size_t)i);
			proxy_block_answer(c, "RELEASE", nodata, NULL, NULL, NULL);
		} else {
			proxy_block_savepoints_drop(c, (size_t)i + 1);
			c->blk = PROXY_BLK_LOCAL; /* as the block was at the savepoint */
			proxy_block_answer(c, "ROLLBACK", nodata, NULL, NULL, NULL);
		}
		return true;
	default:
		return false;
	}
}

/* The block's BEGIN and savepoints, for the upstream. swallow: as segments of ours. */
static void
proxy_block_replay(struct proxy_client *c, bool swallow)
{
	struct strbuf sb, q;
	size_t i;

	c->lc_pristine = false;

	proxy_buf_append(&c->uout, c->blk_begin.data, c->blk_begin.len);
	c->swallow += swallow;
	if (c->blk_answered) {
		/* the block has read: upstream too, or a SET TRANSACTION would pass */
		proxy_buf_append(&c->uout, PROXY_QUERY_SELECT1, sizeof(PROXY_QUERY_SELECT1) - 1);
		c->swallow += swallow;
	}
	strbuf_init(&sb);
	strbuf_init(&q);
	for (i = 0; i < c->blk_nsp; i++) {
		strbuf_reset(&sb);
		strbuf_reset(&q);
		strbuf_puts(&sb, "SAVEPOINT ");
		strbuf_quote_ident(&sb, c->blk_sp[i]);
		pgw_put_query(&q, strbuf_str(&sb));
		proxy_buf_append(&c->uout, q.data, q.len);
		c->swallow += swallow;
	}
	strbuf_free(&sb);
	strbuf_free(&q);
}

static void
proxy_wait_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *p = arg;
	struct proxy_client *c, *next;
	uint64_t n, applied;

	if (read(p->wait_efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	applied = shm_load(p->shm->applied_lsn);
	for (c = p->clients; c != NULL; c = next) {
		next = c->next;
		if (c->waiting_job == NULL)
			continue;
		if (c->state != PC_READY) {
			/* the session is ending: nobody takes the answer, and what the client
			 * sent after it still goes upstream */
			localexec_job_free(proxy_wait_end(c));
			c->ticket = 0;
			c->held = false;
			strbuf_reset(&c->held_msg);
			proxy_client_done(c);
		} else if (applied >= proxy_local_min_lsn(c)) {
			proxy_local_run(c, proxy_wait_end(c));
			proxy_client_done(c); /* it may have answered, or gone upstream */
		}
	}
}

/* The copy stayed behind the session's own writes for max_wait: the read goes upstream. */
static void
proxy_local_wait_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	if (c->waiting_job != NULL) {
		localexec_job_free(proxy_wait_end(c));
		c->ticket = 0;
		if (c->state == PC_READY) {
			log_debug("client %s: the copy is behind the session's writes; reading "
			          "upstream",
			          c->addr);
			proxy_local_release_upstream(c);
		} else {
			c->held = false; /* the session is ending: nobody takes the answer */
			strbuf_reset(&c->held_msg);
		}
	}
	proxy_client_done(c);
}

/* Runs the job once the copy holds the session's own writes (read-your-writes). binary (per
 * column, NULL for all text) moves into the job. */
static void
proxy_local_submit(struct proxy_client *c, struct translate_result *tr,
                   const struct pgv_out_settings *settings, struct localread_binds *binds,
                   uint8_t *binary, bool row_description)
{
	struct proxy *p = c->p;
	struct localexec_job *job = localexec_job_new(++p->ticket_seq, tr, settings, binds);
	uint64_t applied;

	job->binary = binary;
	job->row_description = row_description;
	job->timeout_ms = c->lr.statement_timeout_ms;
	if (c->blk != PROXY_BLK_NONE)
		job->now_us = c->blk_now_us;
	c->ticket = job->ticket;
	applied = shm_load(p->shm->applied_lsn);
	if (c->blk != PROXY_BLK_NONE && c->blk_rr) {
		if (c->blk_db != NULL || applied >= proxy_local_min_lsn(c)) {
			proxy_local_run(c, job); /* in the block's snapshot */
			return;
		}
	} else if (applied >= proxy_local_min_lsn(c)) {
		/* one row through the key's index: cheaper here than a trip to the thread; in
		 * the loop's snapshot, which is renewed if older than the session's writes */
		if (tr->point && p->cat_db != NULL && proxy_snapshot(p) >= proxy_local_min_lsn(c)) {
			localexec_execute(p->cat_db, proxy_stmt(p, job->sql), job,
			                  PROXY_LOCAL_MAX_RESULT);
			proxy_local_finish(c, job);
			if (c->finished_job != job)
				localexec_job_free(job);
			return;
		}
		localexec_submit(p->ex, job);
		return;
	}
	c->waiting_job = job;
	proxy_wait_add(c);
	if (proxy_timer(c, &c->ev_wait_timer, p->cfg->proxy_max_wait, proxy_local_wait_timeout_cb) <
	    0) {
		localexec_job_free(proxy_wait_end(c));
		c->ticket = 0;
		proxy_local_release_upstream(c);
	}
}

/* Whether the copy is further behind the upstream than max_lag: it was last known current
 * (it had applied a position the upstream had reported) longer ago than that. */
static bool
proxy_copy_behind(const struct proxy *p)
{
	int64_t at;

	/* the replication source has another WAL history (or that is not known): neither the
	 * session's writes nor its privileges (checked by the upstream's table OIDs) can be
	 * matched with the copy */
	if (shm_load(p->shm->positions_comparable) == 0)
		return true;
	if (shm_load(p->shm->upstream_down_us) != 0)
		return !p->serve_stale; /* nothing fresher to be had: serve_stale, or error */
	if (p->cfg->proxy_max_lag == 0)
		return false;
	at = shm_load(p->shm->caught_up_time_us);
	return at == 0 || time_real_us() - at > (int64_t)p->cfg->proxy_max_lag * 1000;
}

/* What the check found can change without the session forwarding anything (a GRANT or
 * REVOKE in another session, a policy): it is asked again after PROXY_RECHECK_US. */
static void
proxy_local_expire(struct proxy_client *c)
{
	struct proxy *p = c->p;
	int64_t age = time_mono_us() - c->lr.checked_us;

	/* without an upstream connection (serve_stale) the last answer stands, but one the
	 * session began with from the login cache only until the cache's entry expires, while
	 * the upstream is there to ask */
	if (c->lr.valid && c->up_fd >= 0 && age > PROXY_RECHECK_US)
		c->lr.valid = false;
	else if (c->lr.valid && c->up_fd < 0 && c->lc_started &&
	         shm_load(p->shm->upstream_down_us) == 0 && time_mono_us() >= c->lc_expires_us)
		c->lr.valid = false;
}

/* Decides a simple Query: true when it was taken (held for the check or for local
 * execution), false to forward it now. */
static bool
proxy_local_try(struct proxy_client *c, const char *sql, const uint8_t *msg, size_t len)
{
	struct proxy *p = c->p;
	struct pgv_out_settings settings;
	struct localread_binds binds;
	struct translate_result tr;
	const struct localcat *cat;

	/* the end of a block served here, or anything in one that failed, is answered here */
	if (c->blk != PROXY_BLK_NONE && c->state == PC_READY && !c->held) {
		proxy_local_hold(c, msg, len, false, false);
		if (proxy_block_txn(c, sql, false))
			return true;
		if (c->blk == PROXY_BLK_FAILED) {
			proxy_block_leave(c); /* the error */
			proxy_block_answer(c, NULL, false, c->blk_code, c->blk_message,
			                   c->blk_hint);
			return true;
		}
		c->held = false;
		strbuf_reset(&c->held_msg);
	}
	/* outside transaction blocks (but the ones served here), with nothing owed by the
	 * upstream; and not while the upstream holds an unnamed statement, which the Query
	 * drops there */
	if (p->ex == NULL || c->txn != 'I' || c->pending > 0 || c->unsynced || c->checking ||
	    c->swallow > 0 || c->up_unnamed.data != NULL ||
	    (proxy_copy_behind(p) && c->blk_db == NULL) || (cat = proxy_catalog(p)) == NULL)
		return false;
	proxy_local_expire(c);
	if (c->blk == PROXY_BLK_NONE) {
		proxy_local_hold(c, msg, len, false, false);
		switch (proxy_block_begin(c, sql)) {
		case 1:
			return true;
		case 0:
			c->lr_reader = true;
			proxy_local_check_start(c);
			return true;
		default:
			c->held = false;
			strbuf_reset(&c->held_msg);
			break;
		}
	}
	switch (localread_plan(&c->lr, cat, sql, &tr, &binds, &settings)) {
	case LOCALREAD_CHECK:
		c->lr_reader = true;
		proxy_local_hold(c, msg, len, false, false);
		proxy_local_check_start(c);
		return true;
	case LOCALREAD_LOCAL:
		proxy_local_hold(c, msg, len, false, false);
		proxy_local_submit(c, &tr, &settings, &binds, NULL, true);
		translate_result_free(&tr);
		localread_binds_free(&binds);
		return true;
	default:
		return false;
	}
}

/* An extended-protocol batch the local copy may answer. */
struct proxy_batch {
	size_t len;      /* its bytes */
	bool parse;      /* it begins with Parse of the unnamed statement: */
	const char *sql; /* its text */
	const uint32_t *types;
	size_t ntypes;
	struct pgw_bind bind; /* arrays in p->dec_bind */
	bool describe;        /* Describe of the portal: RowDescription before the rows */
};

/* Reads ahead data[0, avail) for [Parse ""] Bind "" [Describe portal ""] Execute "" (all
 * rows) Sync. Returns 1 with *b filled, 0 when the messages are something else, SQE_AGAIN
 * when the rest has not arrived yet. */
static int
proxy_batch_read(struct proxy *p, const uint8_t *data, size_t avail, struct proxy_batch *b)
{
	size_t off = 0, total, max = (size_t)p->cfg->proxy_max_message_size;
	struct pgw_decoder *dec;
	struct pgw_msg m;
	int step = 0, r;
	uint8_t type;

	memset(b, 0, sizeof(*b));
	for (;;) {
		r = avail - off < PGW_HEADER_LEN
		            ? SQE_AGAIN
		            : pgw_frame(data + off, avail - off, max, &type, &total);
		if (r == SQE_AGAIN && avail >= max)
			return 0; /* the client's input stops growing at max: no waiting for more */
		if (r != 0)
			return r == SQE_AGAIN ? SQE_AGAIN : 0;
		dec = type == PGW_PARSE  ? &p->dec_parse
		      : type == PGW_BIND ? &p->dec_bind
		                         : &p->dec_misc;
		if (pgw_decode(dec, data + off, total, &m) < 0)
			return 0; /* the relay reports it */
		off += total;
		switch (m.type) {
		case PGW_PARSE:
			if (step != 0 || m.u.parse.name[0] != '\0')
				return 0;
			b->parse = true;
			b->sql = m.u.parse.query;
			b->types = m.u.parse.param_types;
			b->ntypes = m.u.parse.nparam_types;
			step = 1;
			break;
		case PGW_BIND:
			if (step > 1 || m.u.bind.portal[0] != '\0')
				return 0;
			b->bind = m.u.bind;
			step = 2;
			break;
		case PGW_DESCRIBE:
			if (step != 2 || m.u.describe.kind != 'P' || m.u.describe.name[0] != '\0')
				return 0;
			b->describe = true;
			step = 3;
			break;
		case PGW_EXECUTE:
			if (step < 2 || step > 3 || m.u.execute.portal[0] != '\0' ||
			    m.u.execute.max_rows > 0)
				return 0;
			step = 4;
			break;
		case PGW_SYNC:
			if (step != 4)
				return 0;
			b->len = off;
			return 1;
		default:
			return 0;
		}
	}
}

/* Whether the translation returns the columns the upstream's statement was prepared with. */
static bool
proxy_same_result(const struct translate_result *tr, const struct localread_stmt *st)
{
	size_t i;

	if (!st->described || tr->ncols != st->nresults)
		return false;
	for (i = 0; i < tr->ncols; i++)
		if (tr->cols[i].type_oid != st->result_types[i])
			return false;
	return true;
}

/* Plans a batch; for LOCALREAD_LOCAL it is submitted. */
static enum localread_plan
proxy_batch_start(struct proxy_client *c, const struct localcat *cat, const struct proxy_batch *b)
{
	const struct localread_stmt *st = NULL;
	struct pgv_out_settings settings;
	struct localread_binds binds;
	struct translate_result tr;
	enum localread_plan plan;
	const uint32_t *types;
	uint8_t *binary = NULL;
	const char *sql;
	size_t ntypes, i;
	int f;

	if (b->parse) {
		if (b->bind.stmt[0] != '\0')
			return LOCALREAD_UPSTREAM;
		sql = b->sql;
		types = b->types;
		ntypes = b->ntypes;
	} else if (b->bind.stmt[0] == '\0') {
		return LOCALREAD_UPSTREAM; /* its text is the upstream's to know */
	} else if (!c->lr.valid) {
		return localread_names_candidate(c->names, b->bind.stmt, cat, c->p->cat_epoch)
		               ? LOCALREAD_CHECK
		               : LOCALREAD_UPSTREAM;
	} else if ((st = localread_stmt(&c->lr, b->bind.stmt)) != NULL) {
		sql = st->sql;
		types = st->types;
		ntypes = st->ntypes;
	} else {
		return LOCALREAD_UPSTREAM;
	}
	plan = localread_plan_statement(&c->lr, cat, sql, &tr, &settings);
	if (plan != LOCALREAD_LOCAL)
		return plan;
	if (st != NULL && !proxy_same_result(&tr, st)) {
		translate_result_free(&tr);
		return LOCALREAD_UPSTREAM; /* the table changed since it was prepared: an error */
	}
	if (localread_bind_params(&tr, types, ntypes, &b->bind, &binds) < 0 ||
	    (b->bind.nresult_formats > 1 && b->bind.nresult_formats != tr.ncols)) {
		translate_result_free(&tr);
		return LOCALREAD_UPSTREAM; /* the upstream answers, or reports the mismatch */
	}
	for (i = 0; i < tr.ncols; i++) {
		f = pgw_bind_result_format(&b->bind, (uint16_t)i);
		if (f == PGW_FORMAT_BINARY) {
			if (binary == NULL)
				binary = xcalloc(tr.ncols, 1);
			binary[i] = 1;
		}
	}
	proxy_local_submit(c, &tr, &settings, &binds, binary, b->describe);
	translate_result_free(&tr);
	localread_binds_free(&binds);
	return LOCALREAD_LOCAL;
}

static void
proxy_batch_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	c->batch_waited = true;
	if (c->state == PC_READY && !c->held)
		proxy_client_process(c);
	proxy_client_done(c);
}

/* Decides an extended-protocol batch starting at the client's next message: the bytes taken
 * (held for the check or for local execution), 0 to relay the message as usual, or
 * SQE_AGAIN to wait for the rest of the batch. */
static ssize_t
proxy_local_try_batch(struct proxy_client *c)
{
	struct proxy *p = c->p;
	const uint8_t *data = c->cin.data + c->cin.off;
	const struct localcat *cat;
	struct proxy_batch b;
	int r;

	if (c->blk != PROXY_BLK_NONE && c->state == PC_READY && !c->held) {
		r = proxy_batch_read(p, data, proxy_buf_pending(&c->cin), &b);
		if (r == SQE_AGAIN && !c->batch_waited) {
			proxy_client_timer(c, PROXY_BATCH_WAIT_MS, proxy_batch_wait_cb);
			return SQE_AGAIN;
		}
		if (r == 1 && b.parse && b.bind.stmt[0] == '\0' && b.bind.nparams == 0) {
			/* the end of a block served here */
			proxy_local_hold(c, data, b.len, true, true);
			if (proxy_block_txn(c, b.sql, b.describe))
				return (ssize_t)b.len;
			c->held = false;
			strbuf_reset(&c->held_msg);
		}
	}
	if (p->ex == NULL || c->txn != 'I' || c->pending > 0 || c->unsynced || c->checking ||
	    c->swallow > 0 || c->blk == PROXY_BLK_FAILED ||
	    (proxy_copy_behind(p) && c->blk_db == NULL) || (cat = proxy_catalog(p)) == NULL)
		return 0;
	proxy_local_expire(c);
	r = proxy_batch_read(p, data, proxy_buf_pending(&c->cin), &b);
	if (r == SQE_AGAIN && !c->batch_waited) {
		/* a client may also wait for answers before it sends Sync */
		proxy_client_timer(c, PROXY_BATCH_WAIT_MS, proxy_batch_wait_cb);
		return SQE_AGAIN;
	}
	c->batch_waited = false;
	if (r != 1)
		return 0;
	/* held first: the submission may answer at once */
	proxy_local_hold(c, data, b.len, true, b.parse);
	switch (proxy_batch_start(c, cat, &b)) {
	case LOCALREAD_CHECK:
		c->lr_reader = true;
		proxy_local_check_start(c);
		return (ssize_t)b.len;
	case LOCALREAD_LOCAL:
		return (ssize_t)b.len;
	default:
		c->held = false;
		strbuf_reset(&c->held_msg);
		return 0;
	}
}

/* Publishes the most counted shapes in the worker's slot (sqledgectl status, metrics). */
static void
proxy_shapes_publish(struct proxy *p)
{
	struct shm_proxy_worker *w = p->slot;
	const struct proxy_shape *top[SHM_SHAPES] = {0};
	uint32_t seq = __atomic_load_n(&w->shapes_seq, __ATOMIC_RELAXED);
	size_t i, j, k;

	for (i = 0; i < PROXY_SHAPES; i++) {
		const struct proxy_shape *sh = &p->shapes[i];

		if (sh->text == NULL)
			continue;
		for (j = 0; j < SHM_SHAPES && top[j] && top[j]->count >= sh->count; j++)
			;
		if (j == SHM_SHAPES)
			continue;
		for (k = SHM_SHAPES - 1; k > j; k--)
			top[k] = top[k - 1];
		top[j] = sh;
	}
	if (seq & 1)
		seq++; /* a predecessor killed while writing */
	__atomic_store_n(&w->shapes_seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (j = 0; j < SHM_SHAPES; j++) {
		const char *t = top[j] ? top[j]->text : "";
		size_t n = strnlen(t, SHM_SHAPE_LEN - 1);

		for (k = 0; k < SHM_SHAPE_LEN; k++)
			__atomic_store_n(&w->shape[j][k], k < n ? t[k] : '\0', __ATOMIC_RELAXED);
		__atomic_store_n(&w->shape_count[j], top[j] ? top[j]->count : 0, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&w->shapes_seq, seq + 2, __ATOMIC_RELEASE);
}

/* Counts a forwarded statement's shape, for one statement in PROXY_SHAPE_SAMPLE: its text
 * with the constants replaced by $n (PostgreSQL's own normalization), white space folded. */
static void
proxy_shape_note(struct proxy *p, const char *sql)
{
	PgQueryNormalizeResult r;
	struct proxy_shape *sh, *least = NULL;
	char *t, *o;
	size_t i;

	if (++p->shape_tick % PROXY_SHAPE_SAMPLE != 0)
		return;
	r = pg_query_normalize(sql);
	if (r.error != NULL || r.normalized_query == NULL) {
		pg_query_free_normalize_result(r);
		return;
	}
	/* one line, at most what the slot holds */
	for (t = o = r.normalized_query; *t && o - r.normalized_query < SHM_SHAPE_LEN - 1; t++) {
		bool space = *t == ' ' || *t == '\n' || *t == '\t' || *t == '\r';

		if (space && (o == r.normalized_query || o[-1] == ' '))
			continue;
		*o++ = space ? ' ' : *t;
	}
	while (o > r.normalized_query && o[-1] == ' ')
		o--;
	*o = '\0';
	for (i = 0; i < PROXY_SHAPES; i++) {
		sh = &p->shapes[i];
		if (sh->text != NULL && strcmp(sh->text, r.normalized_query) == 0)
			break;
		if (least == NULL || sh->text == NULL ||
		    (least->text != NULL && sh->count < least->count))
			least = sh;
	}
	if (i == PROXY_SHAPES) {
		/* space-saving: the least counted gives its place, and its count, to the new */
		sh = least;
		free(sh->text);
		sh->text = xstrdup(r.normalized_query);
	}
	sh->count += PROXY_SHAPE_SAMPLE;
	pg_query_free_normalize_result(r);
	proxy_shapes_publish(p);
}

/* Whether a statement of kind k, run in the session's transaction state, may be followed by
 * the check. */
static bool
proxy_kind_follows(const struct proxy_client *c, enum localread_kind k)
{
	return k == LOCALREAD_KIND_END || (k == LOCALREAD_KIND_STMT && c->txn == 'I');
}

/* Whether the session's state is worth following: only a session that may get a new upstream
 * connection (serve_stale) needs to know, and once stateful it stays so. */
static bool
proxy_track_state(const struct proxy_client *c)
{
	return c->p->serve_stale && !c->stateful;
}

/* The session holds state a new upstream connection would not have: it ends with its
 * connection, which needs the password no more. */
static void
proxy_stateful(struct proxy_client *c)
{
	if (!c->stateful) {
		c->stateful = true;
		proxy_wipe_password(c);
	}
}

/* Whether a client message may begin a read the copy answers. */
static bool
proxy_may_read_locally(const struct proxy_client *c, const struct pgw_msg *m)
{
	switch (m->type) {
	case PGW_QUERY:
		return localread_is_select(m->u.query.sql);
	case PGW_PARSE:
		return m->u.parse.name[0] == '\0' && localread_is_select(m->u.parse.query);
	case PGW_BIND:
		return m->u.bind.portal[0] == '\0' &&
		       (m->u.bind.stmt[0] == '\0'
		                ? c->unnamed_select
		                : localread_names_select(c->names, m->u.bind.stmt));
	default:
		return false;
	}
}

/* Notes what the segment being forwarded runs, for proxy_local_check_ahead(). */
static void
proxy_note_segment(struct proxy_client *c, const struct pgw_msg *m)
{
	enum localread_kind k;

	switch (m->type) {
	case PGW_PARSE:
		proxy_shape_note(c->p, m->u.parse.query);
		if (proxy_track_state(c) &&
		    (m->u.parse.name[0] != '\0' || !localread_stateless(m->u.parse.query)))
			proxy_stateful(c);
		k = localread_kind(m->u.parse.query, false);
		if (m->u.parse.name[0] == '\0') {
			c->unnamed_kind = (uint8_t)k;
			c->unnamed_select = localread_is_select(m->u.parse.query);
		} else if (k == LOCALREAD_KIND_OTHER)
			/* a Parse that fails upstream leaves the old statement of its name */
			c->named_other = true;
		break;
	case PGW_BIND:
		if (m->u.bind.portal[0] != '\0')
			break;
		if (m->u.bind.stmt[0] == '\0')
			c->portal_kind = c->unnamed_kind;
		else if (c->named_other || c->names == NULL)
			c->portal_kind = LOCALREAD_KIND_OTHER;
		else
			c->portal_kind = (uint8_t)localread_names_kind(c->names, m->u.bind.stmt);
		break;
	case PGW_EXECUTE:
		c->seg_ran = true;
		if (m->u.execute.portal[0] != '\0' || !proxy_kind_follows(c, c->portal_kind))
			c->seg_other = true;
		break;
	case PGW_CLOSE:
		if (m->u.close.name[0] == '\0') {
			c->unnamed_kind = c->portal_kind = LOCALREAD_KIND_OTHER;
			c->unnamed_select = false;
		}
		break;
	case PGW_DESCRIBE:
	case PGW_FLUSH:
		break;
	case PGW_QUERY:
		proxy_shape_note(c->p, m->u.query.sql);
		if (proxy_track_state(c) && !localread_stateless(m->u.query.sql))
			proxy_stateful(c);
		c->unnamed_kind = LOCALREAD_KIND_OTHER; /* dropped, as is the portal */
		c->portal_kind = LOCALREAD_KIND_OTHER;
		c->unnamed_select = false;
		c->seg_ok = c->lr_reader && !c->seg_other &&
		            proxy_kind_follows(c, localread_kind(m->u.query.sql, true));
		c->seg_ran = c->seg_other = false;
		break;
	case PGW_SYNC:
		c->seg_ok = c->seg_ran && !c->seg_other;
		c->seg_ran = c->seg_other = false;
		break;
	default: /* FunctionCall, COPY's messages */
		if (m->type == PGW_FUNCTION_CALL)
			proxy_stateful(c);
		c->seg_ok = false;
		c->seg_other = true;
		break;
	}
}

/* Notes the named statements whose Parse or Close goes upstream. */
static void
proxy_note_statement(struct proxy_client *c, const struct pgw_msg *m)
{
	if (c->p->ex == NULL)
		return;
	if (m->type == PGW_CLOSE && m->u.close.kind == 'S')
		localread_names_remove(c->names, m->u.close.name);
	else if (m->type == PGW_PARSE && m->u.parse.name[0] != '\0')
		localread_names_add(&c->names, m->u.parse.name, m->u.parse.query);
}

/* The check's answer is in: the held statement is planned again. */
static void
proxy_local_checked(struct proxy_client *c)
{
	struct proxy *p = c->p;
	struct pgv_out_settings settings;
	struct localread_binds binds;
	struct translate_result tr;
	const struct localcat *cat;

	if (!c->held) {
		/* a check sent ahead: the next read finds it */
		if (!c->lr.valid)
			log_debug("client %s: the check after a write failed", c->addr);
		return;
	}
	if (!c->lr.valid) {
		log_debug("client %s: local reads stay off for this session (check failed)",
		          c->addr);
		proxy_local_release_upstream(c);
		return;
	}
	cat = proxy_catalog(p);
	if (cat != NULL && c->held_batch) {
		struct proxy_batch b;

		if (proxy_batch_read(p, (const uint8_t *)c->held_msg.data, c->held_msg.len, &b) !=
		            1 ||
		    proxy_batch_start(c, cat, &b) != LOCALREAD_LOCAL)
			proxy_local_release_upstream(c);
	} else if (cat != NULL && c->blk == PROXY_BLK_NONE &&
	           proxy_block_begin(c, c->held_msg.data + PGW_HEADER_LEN) == 1) {
		; /* a block served here begins */
	} else if (cat != NULL && localread_plan(&c->lr, cat, c->held_msg.data + PGW_HEADER_LEN,
	                                         &tr, &binds, &settings) == LOCALREAD_LOCAL) {
		proxy_local_submit(c, &tr, &settings, &binds, NULL, true);
		translate_result_free(&tr);
		localread_binds_free(&binds);
	} else {
		proxy_local_release_upstream(c);
	}
}

/* Upstream answers of the proxy's own (checks, and the segments it sent for itself,
 * c->swallow) arrived in cout past scan: they are read here instead of relayed, and what
 * follows them is the client's again. */
static void
proxy_local_intercept(struct proxy_client *c)
{
	bool checked = false;
	size_t off, mlen;
	int r;

	do {
		strbuf_append(&c->icpt, c->cout.data + c->scan, c->cout.len - c->scan);
		c->cout.len = c->scan;
		off = 0;
		while ((proxy_check_due(c) || c->swallow > 0) &&
		       c->icpt.len - off >= PGW_HEADER_LEN) {
			const uint8_t *m = (const uint8_t *)c->icpt.data + off;
			struct proxy_check *k = &c->checks[0];

			mlen = be_get_u32(m + 1);
			if (mlen < 4 || mlen > 64 * 1024 * 1024) {
				c->dead = true;
				return;
			}
			if (c->icpt.len - off < mlen + 1)
				break;
			if (m[0] == 'E' && c->pending == 0 && proxy_error_is_fatal(m, mlen + 1) &&
			    proxy_error_is_shutdown(m, mlen + 1) && proxy_session_keeps(c)) {
				; /* the upstream goes away while the session is idle */
			} else if (m[0] == 'A' || m[0] == 'N' || m[0] == 'S' ||
			           (m[0] == 'E' && proxy_error_is_fatal(m, mlen + 1))) {
				/* asynchronous messages of the session, and its end: the
				 * client's */
				if (m[0] == 'E')
					c->up_fatal = true;
				proxy_buf_append(&c->cout, m, mlen + 1);
				c->scan = c->cout.len;
			} else if (proxy_check_due(c)) {
				if (k->epoch != c->p->cat_epoch)
					k->stale = true; /* made for relations no longer read */
				if (!k->stale && k->zs > k->tail) {
					localread_check_message(&c->lr, m[0], m + PGW_HEADER_LEN,
					                        mlen - 4);
					if (c->lc_keyed && c->p->lcache)
						strbuf_append(&c->lc_answer, m, mlen + 1);
				}
				if (m[0] == 'Z' && --k->zs == 0) {
					if (!k->stale) {
						c->lr.checked_us = time_mono_us();
						checked = true;
						proxy_lcache_answer(c, k->forwarded);
					}
					strbuf_reset(&c->lc_answer);
					memmove(k, k + 1, sizeof(*k) * --c->nchecks);
					c->checking = c->nchecks > 0;
				}
			} else if (m[0] == 'Z') {
				c->swallow--;
			}
			off += mlen + 1;
		}
		r = 0;
		if (proxy_check_due(c) || c->swallow > 0) {
			memmove(c->icpt.data, c->icpt.data + off, c->icpt.len - off);
			c->icpt.len -= off;
		} else {
			/* what follows our last ReadyForQuery is the session's own again, up to the
			 * next check */
			if (c->icpt.len > off)
				proxy_buf_append(&c->cout, c->icpt.data + off, c->icpt.len - off);
			strbuf_reset(&c->icpt);
			r = proxy_up_scan(c);
			if (r < 0) {
				c->dead = true;
				return;
			}
		}
	} while (r == 1);
	if (checked)
		proxy_local_checked(c);
	proxy_client_flush(c);
}

static void
proxy_local_finish_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;
	struct localexec_job *job = c->finished_job;

	c->finished_job = NULL;
	proxy_local_finish(c, job);
	if (c->finished_job != job)
		localexec_job_free(job);
	proxy_client_done(c);
}

/* Sends the answer of a finished job, or sends the held Query upstream. The job stays the
 * caller's, unless it is parked in c->finished_job: an asynchronous upstream message (a
 * NOTIFY) is halfway into the client's stream, and the answer must wait for its end. */
static void
proxy_local_finish(struct proxy_client *c, struct localexec_job *job)
{
	struct proxy *p = c->p;
	struct strbuf sb;

	bool answered = job->status == LOCALEXEC_OK || job->status == LOCALEXEC_CANCELED ||
	                job->status == LOCALEXEC_TIMEOUT;

	if (answered && (c->msg_left > 0 || c->scan != c->cout.len) && c->up_fd >= 0) {
		c->finished_job = job;
		proxy_client_timer(c, 1, proxy_local_finish_later_cb);
		return;
	}
	c->ticket = 0;
	strbuf_init(&sb);
	if (c->held_batch && answered) {
		if (c->held_parse)
			strbuf_append(&sb, "1\0\0\0\4", 5); /* ParseComplete */
		strbuf_append(&sb, "2\0\0\0\4", 5);         /* BindComplete */
	}
	switch (job->status) {
	case LOCALEXEC_OK:
		strbuf_append(&sb, job->out.data, job->out.len);
		if (job->sql != NULL && c->blk == PROXY_BLK_LOCAL)
			c->blk_answered = true;
		pgw_put_ready_for_query(&sb, proxy_client_txn(c));
		p->queries_local++;
		shm_store(p->slot->queries_local, p->queries_local);
		break;
	case LOCALEXEC_CANCELED:
	case LOCALEXEC_TIMEOUT: {
		struct pgw_error e = {
		        .severity = "ERROR",
		        .code = "57014",
		        .message = job->status == LOCALEXEC_TIMEOUT
		                           ? "canceling statement due to statement timeout"
		                           : "canceling statement due to user request"};

		strbuf_append(&sb, job->out.data, job->out.len); /* RowDescription */
		pgw_put_error(&sb, &e);
		if (c->blk == PROXY_BLK_LOCAL)
			c->blk = PROXY_BLK_FAILED; /* an error ends what a block may do */
		pgw_put_ready_for_query(&sb, proxy_client_txn(c));
		break;
	}
	default:
		log_debug("client %s: read upstream instead (%s)", c->addr,
		          job->status == LOCALEXEC_TOO_BIG ? "large answer" : job->errmsg);
		proxy_local_release_upstream(c);
		break;
	}
	if (sb.len) {
		if (c->held_parse) {
			/* the client's unnamed statement is one the upstream has not seen */
			proxy_msg_set(&c->unnamed_parse, (const uint8_t *)c->held_msg.data,
			              be_get_u32((const uint8_t *)c->held_msg.data + 1) + 1);
			c->unnamed_select = true;
		} else if (!c->held_batch && c->held_msg.data[0] == PGW_QUERY) {
			/* a simple Query: PostgreSQL drops the unnamed statement (the proxy answers
			 * one locally only when the upstream holds none) */
			proxy_msg_clear(&c->unnamed_parse);
		}
		c->held = false;
		strbuf_reset(&c->held_msg);
		c->blk_idle_us = time_mono_us();
		proxy_client_put(c, &sb);
		proxy_client_flush(c);
	}
	strbuf_free(&sb);
}

/* A local execution finished, on the loop. */
static void
proxy_local_done(struct localexec_job *job, void *arg)
{
	struct proxy *p = arg;
	struct proxy_client *c = NULL;

	if (job->close_db == NULL) /* a block's snapshot closed: nobody's answer */
		for (c = p->clients; c != NULL && !(c->held && c->ticket == job->ticket);
		     c = c->next)
			;
	if (c != NULL) {
		proxy_local_finish(c, job);
		if (c->finished_job == job)
			job = NULL; /* parked until the stream is at a message boundary */
		proxy_client_done(c);
	}
	localexec_job_free(job); /* its client may have left meanwhile */
}

/* The client is gone or said Terminate: what it sent before still reaches the upstream, as
 * PostgreSQL runs a query that arrives before the connection closes; then the session ends. */
static void
proxy_client_drain(struct proxy_client *c)
{
	if (c->state != PC_DRAIN) {
		c->state = PC_DRAIN;
		proxy_client_timer(c, PROXY_DRAIN_MS, proxy_linger_timeout_cb);
	}
	if (c->dead)
		return;
	if (c->up_fd < 0 || (proxy_buf_pending(&c->uout) == 0 && c->cin_done))
		c->dead = true;
}

/* The client's next message (total bytes, of type) cannot run: the error in blk_code answers
 * it now (a Query, a FunctionCall, a Sync), or at the Sync that ends its segment, the rest of
 * which is skipped as PostgreSQL skips it after an error. */
static void
proxy_refuse(struct proxy_client *c, uint8_t type, size_t total)
{
	if (type == PGW_QUERY || type == PGW_SYNC || type == PGW_FUNCTION_CALL) {
		proxy_local_hold(c, c->cin.data + c->cin.off, total, false, false);
		proxy_block_answer(c, NULL, false, c->blk_code, c->blk_message, c->blk_hint);
	} else {
		c->blk_skip = true;
	}
	proxy_buf_consume(&c->cin, total);
}

static void
proxy_client_relay(struct proxy_client *c)
{
	struct proxy *p = c->p;
	size_t avail, total, max = (size_t)p->cfg->proxy_max_message_size;
	struct pgw_msg msg;
	uint32_t mlen;
	uint8_t type;
	int r;

	while (!c->dead && !c->cin_done && !c->held && c->state != PC_CLOSING &&
	       proxy_buf_pending(&c->uout) < PROXY_HIGH_WATER) {
		avail = proxy_buf_pending(&c->cin);
		if (avail < PGW_HEADER_LEN)
			break;
		r = pgw_frame(c->cin.data + c->cin.off, avail, max, &type, &total);
		if (r == SQE_AGAIN)
			break; /* the buffer grows as the rest arrives */
		if (r < 0) {
			type = c->cin.data[c->cin.off];
			mlen = be_get_u32(c->cin.data + c->cin.off + 1);
			log_info("client %s: message of type 0x%02x has invalid length %u", c->addr,
			         type, mlen);
			if (c->state == PC_DRAIN)
				c->cin_done = true;
			else if (mlen > max)
				proxy_client_fatal(
				        c, "54000",
				        "message of type \"%c\" is %u bytes long, more than "
				        "[proxy] max_message_size (%zu bytes)",
				        isprint(type) ? type : '?', mlen, max);
			else
				proxy_client_fatal(c, "08P01", "invalid message length %u", mlen);
			break;
		}
		if (pgw_decode(&p->dec, c->cin.data + c->cin.off, total, &msg) < 0) {
			log_info("client %s: invalid frontend message: %s", c->addr, p->dec.errmsg);
			if (c->state == PC_DRAIN)
				c->cin_done = true;
			else
				proxy_client_fatal(c, "08P01", "invalid frontend message: %s",
				                   p->dec.errmsg);
			break;
		}
		if (msg.type == PGW_TERMINATE) {
			proxy_buf_consume(&c->cin, total);
			c->cin_done = true;
			proxy_client_drain(c);
			break;
		}
		if (c->blk_skip && c->state == PC_READY) {
			/* after an error in a block served here: up to Sync, as PostgreSQL */
			if (msg.type == PGW_SYNC) {
				c->blk_skip = false;
				proxy_local_hold(c, c->cin.data + c->cin.off, total, false, false);
				proxy_block_answer(c, NULL, false, c->blk_code, c->blk_message,
				                   c->blk_hint);
			}
			proxy_buf_consume(&c->cin, total);
			continue;
		}
		if (c->checking && c->state == PC_READY && !c->checks[c->nchecks - 1].stale &&
		    proxy_may_read_locally(c, &msg))
			break; /* it waits for the check's answer */
		if (msg.type == PGW_QUERY && c->state == PC_READY &&
		    proxy_local_try(c, msg.u.query.sql, c->cin.data + c->cin.off, total)) {
			proxy_buf_consume(&c->cin, total);
			continue;
		}
		if ((msg.type == PGW_PARSE || msg.type == PGW_BIND) && c->state == PC_READY) {
			ssize_t took = proxy_local_try_batch(c);

			if (took == SQE_AGAIN)
				break; /* the batch's other messages are on their way */
			if (took > 0) {
				proxy_buf_consume(&c->cin, (size_t)took);
				continue;
			}
		}
		if ((c->up_fd < 0 || c->blk != PROXY_BLK_NONE) && c->state == PC_READY &&
		    !c->unsynced && (msg.type == PGW_SYNC || msg.type == PGW_FLUSH)) {
			/* nothing to run: a Sync gets the session's status, a Flush nothing */
			if (msg.type == PGW_SYNC) {
				proxy_local_hold(c, c->cin.data + c->cin.off, total, false, false);
				proxy_block_answer(c, NULL, false, NULL, NULL, NULL);
			}
			proxy_buf_consume(&c->cin, total);
			continue;
		}
		if (c->up_fd < 0 && c->state == PC_READY) {
			/* the upstream went away: a new connection first */
			if (c->reconnecting || (!c->refuse && proxy_reconnect(c)))
				break;
			c->refuse = false;
			if (c->blk == PROXY_BLK_LOCAL)
				c->blk = PROXY_BLK_FAILED; /* an error fails a block */
			c->blk_code = "08006";
			c->blk_message =
			        "sqledge cannot reach the upstream; the statement was not run";
			c->blk_hint =
			        "Reads of the local copy go on. Try again when the upstream is "
			        "back.";
			log_debug("client %s: refused a statement for the upstream: %s", c->addr,
			          p->down_why);
			proxy_refuse(c, msg.type, total);
			continue;
		}
		if (c->blk != PROXY_BLK_NONE && c->state == PC_DRAIN)
			proxy_block_drain(c);
		if (c->blk != PROXY_BLK_NONE && c->state == PC_READY && !proxy_block_leave(c)) {
			/* a block served here that cannot move upstream: an error */
			proxy_refuse(c, msg.type, total);
			continue;
		}
		if (msg.type == PGW_PARSE || msg.type == PGW_CLOSE)
			proxy_note_statement(c, &msg);
		proxy_note_segment(c, &msg);
		proxy_forward(c, msg.type, c->cin.data + c->cin.off, total);
		proxy_buf_consume(&c->cin, total);
	}
	shm_store(p->slot->queries_forwarded, p->queries);
	if (!c->dead)
		proxy_local_check_ahead(c);
	if (!c->dead && c->up_fd >= 0)
		proxy_up_flush(c);
	if (!c->dead && c->state == PC_DRAIN) {
		if (proxy_buf_pending(&c->cin) < PGW_HEADER_LEN ||
		    (pgw_frame(c->cin.data + c->cin.off, proxy_buf_pending(&c->cin), max, &type,
		               &total) == SQE_AGAIN))
			c->cin_done = true; /* an incomplete message never will be */
		proxy_client_drain(c);
	}
}

/* ---- the login cache ([proxy] login_cache_ttl, auth = password) ---- */

/* The cache's size, for the status. */
static void
proxy_lcache_publish(struct proxy *p)
{
	if (p->lcache)
		logincache_expire(p->lcache, time_mono_us());
	shm_store(p->slot->login_cache_entries, (uint64_t)logincache_count(p->lcache));
	shm_store(p->slot->login_cache_checks, (uint64_t)logincache_count_answered(p->lcache));
}

/* login_cache_ttl in microseconds. */
static int64_t
proxy_lcache_ttl_us(const struct proxy *p)
{
	return (int64_t)p->lcache_ttl * 1000000;
}

/* A cache for the configured ttl; a new ttl starts an empty one (the entries were made for
 * the old limit). */
static void
proxy_lcache_config(struct proxy *p)
{
	struct timeval tv = {PROXY_LCACHE_PURGE_S, 0};
	int ttl = p->cfg->proxy_login_cache_ttl;

	if (ttl == p->lcache_ttl)
		return;
	logincache_free(p->lcache);
	p->lcache = ttl > 0 ? logincache_new() : NULL;
	p->lcache_ttl = ttl;
	if (p->lcache)
		logincache_set_check_id(p->lcache, p->check_id);
	proxy_lcache_publish(p);
	if (p->lcache && !evtimer_pending(p->ev_lcache, NULL))
		evtimer_add(p->ev_lcache, &tv);
}

/* Expired entries are wiped within PROXY_LCACHE_PURGE_S. */
static void
proxy_lcache_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *p = arg;
	struct timeval tv = {PROXY_LCACHE_PURGE_S, 0};

	proxy_lcache_publish(p);
	if (p->lcache)
		evtimer_add(p->ev_lcache, &tv);
}

/* Logs that a login cache message stays with this worker, at most once a minute. */
static void
proxy_lcache_dropped(struct proxy *p, const char *what, const char *why)
{
	static int64_t last_us;
	int64_t now = time_mono_us();

	if (last_us != 0 && now - last_us < INT64_C(60000000))
		return;
	last_us = now;
	log_warn("proxy worker %d: a login cache %s stays with this worker: %s", p->index, what,
	         why);
}

/* Sends bytes of logincache_encode*() to the other workers through the master, in a memory
 * file: an entry may be longer than a channel message. */
static void
proxy_lcache_send(struct proxy *p, uint32_t type, struct strbuf *sb, const char *what)
{
	int fd = memfd_create("sqledge-login-cache", MFD_CLOEXEC);

	if (fd < 0 || write_all(fd, sb->data, sb->len) < 0 ||
	    chan_send(p->chan_fd, type, NULL, 0, fd) != 0)
		proxy_lcache_dropped(p, what,
		                     fd < 0 ? strerror(errno) : "the channel did not take it");
	proxy_close_fd(fd);
	secure_zero(sb->data, sb->len);
}

/* Shares an entry. A channel more than half full takes none (the rest is kept for the
 * master's own messages, and for removals): the other workers then ask the upstream once
 * more. */
static void
proxy_lcache_share(struct proxy *p, const struct logincache_entry *e)
{
	struct strbuf sb;

	if (!chan_has_room(p->chan_fd)) {
		proxy_lcache_dropped(p, "entry", "the channel to the master is busy");
		return;
	}
	strbuf_init(&sb);
	logincache_encode(e, &sb);
	proxy_lcache_send(p, CHAN_MSG_LOGIN_CACHE, &sb, "entry");
	strbuf_free(&sb);
}

/* The sessions of key begun from the cache read the copy no more without asking the
 * upstream (while it is there). */
static void
proxy_lcache_sessions_expire(struct proxy *p, const uint8_t *key)
{
	struct proxy_client *c;

	for (c = p->clients; c != NULL; c = c->next)
		if (c->lc_started && memcmp(c->lc_key, key, LOGINCACHE_KEY_LEN) == 0)
			c->lc_expires_us = 0;
}

/* Forgets the logins of the client's key accepted until now, here and in the other
 * workers, and the local reads of the sessions they began. */
static void
proxy_lcache_forget(struct proxy_client *c)
{
	struct proxy *p = c->p;
	int64_t now = time_mono_us();
	struct strbuf sb;

	strbuf_init(&sb);
	logincache_encode_removal(c->lc_key, now, &sb);
	proxy_lcache_send(p, CHAN_MSG_LOGIN_FORGET, &sb, "removal");
	strbuf_free(&sb);
	logincache_remove(p->lcache, c->lc_key, now, now + proxy_lcache_ttl_us(p));
	proxy_lcache_sessions_expire(p, c->lc_key);
	proxy_lcache_publish(p);
}

/* An entry another worker shared. */
static void
proxy_lcache_receive(struct proxy *p, int fd)
{
	size_t max = LOGINCACHE_PARAMS_MAX + LOGINCACHE_ANSWER_MAX + 4096;
	int64_t now = time_mono_us();
	const uint8_t *key;
	struct stat sbuf;
	uint8_t *buf;
	ssize_t n;

	if (p->lcache == NULL || fstat(fd, &sbuf) < 0 || sbuf.st_size <= 0 ||
	    (size_t)sbuf.st_size > max)
		return;
	buf = xmalloc((size_t)sbuf.st_size);
	n = pread(fd, buf, (size_t)sbuf.st_size, 0);
	if (n != sbuf.st_size ||
	    logincache_decode(p->lcache, buf, (size_t)n, now, now + proxy_lcache_ttl_us(p)) < 0)
		log_warn("proxy worker %d: a login cache entry from another worker is unreadable",
		         p->index);
	else if ((key = logincache_removal_key(buf, (size_t)n)) != NULL)
		proxy_lcache_sessions_expire(p, key);
	proxy_lcache_publish(p);
	secure_zero(buf, (size_t)sbuf.st_size);
	free(buf);
}

/* The upstream accepted the client's password: it is remembered, with the ParameterStatus
 * messages the client got. */
static void
proxy_lcache_login(struct proxy_client *c, const void *params, size_t len)
{
	struct proxy *p = c->p;
	struct logincache_entry *e;
	int64_t now = time_mono_us();

	if (!c->lc_keyed || p->lcache == NULL || c->password == NULL)
		return;
	e = logincache_put(p->lcache, c->lc_key, c->password, params, len, now,
	                   now + proxy_lcache_ttl_us(p));
	if (e == NULL)
		return;
	e->shared_us = now;
	memcpy(c->lc_salt, e->salt, LOGINCACHE_SALT_LEN);
	c->lc_match = PROXY_LC_MATCH; /* its password made the entry */
	proxy_lcache_share(p, e);
	proxy_lcache_publish(p);
}

/* The upstream refused a login, or the new connection of a session that began from the
 * cache: the cache forgets the login when the refusal holds for it. A refusal of the role
 * or database (which the upstream says only after the password passed) does, whatever the
 * password; a refused password only when it is the one the cache holds. Anything else (an
 * upstream out of connections, unreachable) says nothing of the login. */
static void
proxy_lcache_refused(struct proxy_client *c, const char *code)
{
	struct proxy *p = c->p;
	struct logincache_entry *e;
	bool password = strcmp(code, "28P01") == 0, same;

	if (!c->lc_keyed || p->lcache == NULL ||
	    (!password && strncmp(code, "28", 2) != 0 && strcmp(code, "42501") != 0 &&
	     strcmp(code, "3D000") != 0) ||
	    (e = logincache_find(p->lcache, c->lc_key, time_mono_us())) == NULL)
		return;
	/* what the login found, when it was about this entry; else a verifier, within the
	 * budget */
	same = c->lc_match != PROXY_LC_UNKNOWN &&
	       memcmp(c->lc_salt, e->salt, LOGINCACHE_SALT_LEN) == 0;
	if (password && (same ? c->lc_match : proxy_lcache_verify(c, e)) != PROXY_LC_MATCH)
		return;
	proxy_lcache_forget(c);
}

/* A check's answer is in: its position raises the one every session begun from the cache
 * waits for; the answer itself is kept for the login's next sessions when it is what a new
 * session would get (nothing of the client's went upstream before it, no named statements
 * asked about). Shared at once when it is the first, else at most every
 * PROXY_LCACHE_SHARE_US. */
static void
proxy_lcache_answer(struct proxy_client *c, uint64_t forwarded)
{
	struct proxy *p = c->p;
	struct logincache_entry *e;
	int64_t now = time_mono_us();
	bool fresh;

	/* its position covers the login's statements answered before it was sent, whatever the
	 * session did (the position first, then the count it covers) */
	if (c->lc_keyed && p->lcache && c->lr.valid) {
		proxy_lsn_max(&p->shm->checked_lsn, c->lr.min_lsn);
		proxy_lsn_max(&p->shm->lcache_checked[proxy_lcache_bucket(c->lc_key)], forwarded);
	}
	if (!c->lc_keyed || p->lcache == NULL || !c->lr.valid || c->lr.ndesc > 0 ||
	    !c->lc_pristine || c->stateful || c->txn != 'I' || c->lc_answer.len == 0 ||
	    (e = logincache_find(p->lcache, c->lc_key, now)) == NULL)
		return;
	/* a first answer, or one to another check, goes to the other workers at once */
	fresh = e->answer.len == 0 || memcmp(e->check_id, p->check_id, LOGINCACHE_KEY_LEN) != 0;
	logincache_set_answer(e, p->check_id, c->lc_answer.data, c->lc_answer.len, now);
	if (fresh || now - e->shared_us >= PROXY_LCACHE_SHARE_US) {
		e->shared_us = now;
		proxy_lcache_share(p, e);
	}
	if (fresh)
		proxy_lcache_publish(p);
}

/* The session begins with the check answer the cache has, when it was made for the
 * relations the copy has now, within login_cache_ttl. */
static void
proxy_lcache_replay(struct proxy_client *c, const struct logincache_entry *e)
{
	struct proxy *p = c->p;
	const uint8_t *m = (const uint8_t *)e->answer.data;
	struct strbuf unused;
	size_t off = 0, mlen;
	int r = 0;

	if (p->ex == NULL || e->answer.len == 0 ||
	    time_mono_us() - e->answer_us > proxy_lcache_ttl_us(p) || proxy_catalog(p) == NULL ||
	    memcmp(e->check_id, p->check_id, LOGINCACHE_KEY_LEN) != 0)
		return;
	strbuf_init(&unused);
	localread_check_start(&c->lr, NULL, p->cat, p->cat_epoch, &p->check_sql, &unused);
	strbuf_free(&unused);
	while (r == 0 && e->answer.len - off >= PGW_HEADER_LEN) {
		mlen = be_get_u32(m + off + 1);
		if (mlen < 4 || mlen > e->answer.len - off - 1)
			break;
		r = localread_check_message(&c->lr, m[off], m + off + PGW_HEADER_LEN, mlen - 4);
		off += mlen + 1;
	}
	if (r == 1 && c->lr.valid) {
		c->lr.checked_us = e->answer_us;
		/* the cached privileges last the ttl from when they were read */
		if (e->answer_us + proxy_lcache_ttl_us(p) < c->lc_expires_us)
			c->lc_expires_us = e->answer_us + proxy_lcache_ttl_us(p);
		/* while the upstream is there, the login's writes: a check sent after the last
		 * of them was answered (else the session asks the upstream), and its position or
		 * a later one is waited for; while it is away, what the copy has */
		if (shm_load(p->shm->upstream_down_us) == 0) {
			size_t b = proxy_lcache_bucket(c->lc_key);
			uint64_t checked = shm_load(p->shm->lcache_checked[b]), seen;

			if (shm_load(p->shm->lcache_forwarded[b]) > checked) {
				localread_session_reset(&c->lr);
				return;
			}
			seen = shm_load(p->shm->checked_lsn);
			if (seen > c->lr.min_lsn)
				c->lr.min_lsn = seen;
		}
	} else {
		localread_session_reset(&c->lr);
	}
}

/* The failed-login record of the client's address (host is set to it), NULL when there is
 * none. */
static struct proxy_fail *
proxy_fail_find(const struct proxy_client *c, char *host, size_t size)
{
	struct proxy *p = c->p;
	size_t i;

	proxy_addr_host(c->addr, host, size);
	for (i = 0; i < PROXY_FAIL_SLOTS; i++)
		if (p->fails[i].failures && strcmp(p->fails[i].addr, host) == 0)
			return &p->fails[i];
	return NULL;
}

/* Whether the client's address failed to log in within PROXY_FAIL_FORGET_US. */
static bool
proxy_login_suspect(const struct proxy_client *c)
{
	char host[sizeof(c->addr)];
	const struct proxy_fail *f = proxy_fail_find(c, host, sizeof(host));

	return f != NULL && time_mono_us() - f->last_us <= PROXY_FAIL_FORGET_US;
}

/* Checks the client's password against e, within a budget of verifier computations (each
 * costs milliseconds of the loop): addresses whose logins failed lately get
 * PROXY_LCACHE_SUSPECT_PER_S a second all together, and failed verifications stop at
 * PROXY_LCACHE_FAILS_PER_S a second. Beyond it nothing is computed (PROXY_LC_UNKNOWN): the
 * login goes to the upstream, and to the failed-login delay. */
static enum proxy_lc_match
proxy_lcache_verify(struct proxy_client *c, const struct logincache_entry *e)
{
	struct proxy *p = c->p;
	int64_t now = time_mono_us();
	bool ok;

	if (now - p->lc_second_us >= 1000000) {
		p->lc_second_us = now;
		p->lc_suspect = 0;
		p->lc_fails = 0;
	}
	if (p->lc_fails >= PROXY_LCACHE_FAILS_PER_S ||
	    (proxy_login_suspect(c) && p->lc_suspect++ >= PROXY_LCACHE_SUSPECT_PER_S))
		return PROXY_LC_UNKNOWN;
	ok = c->password != NULL && logincache_password_ok(e, c->password);
	if (!ok)
		p->lc_fails++;
	memcpy(c->lc_salt, e->salt, LOGINCACHE_SALT_LEN);
	c->lc_match = ok ? PROXY_LC_MATCH : PROXY_LC_NOMATCH;
	return c->lc_match;
}

/* A success forgets the failed logins of the client's address. */
static void
proxy_login_forgive(struct proxy_client *c)
{
	char host[sizeof(c->addr)];
	struct proxy_fail *f = proxy_fail_find(c, host, sizeof(host));

	if (f != NULL)
		f->failures = 0;
}

/* A login the cache knows: the session begins without the upstream, as one of
 * on_upstream_down = serve_stale whose connection went away, and connects there (with the
 * password the client gave) when a statement must go there. */
static void
proxy_login_cached(struct proxy_client *c, const struct logincache_entry *e)
{
	struct proxy *p = c->p;
	struct strbuf sb;

	/* (the address's failed logins stay counted: one login from the cache must not buy an
	 * attacker's address a new budget) */
	proxy_event_free(&c->ev_timer);
	c->lc_started = true;
	c->lc_pristine = true;
	c->lc_expires_us = e->expires_us;
	c->txn = 'I';
	proxy_lcache_replay(c, e);
	strbuf_init(&sb);
	pgw_put_auth_ok(&sb);
	strbuf_append(&sb, e->params.data, e->params.len);
	pgw_put_backend_key(&sb, ((uint32_t)p->index + 1) << PROXY_SESSION_BITS | c->session,
	                    c->key);
	pgw_put_ready_for_query(&sb, c->txn);
	proxy_client_put(c, &sb);
	strbuf_free(&sb);
	c->state = PC_READY;
	p->logins_cached++;
	shm_store(p->slot->logins_cached, p->logins_cached);
	log_debug("client %s: logged in as \"%s\" to database \"%s\" from the login cache%s",
	          c->addr, c->st.user, c->st.database,
	          c->lr.valid ? "" : " (local reads after a check upstream)");
	/* what a pipelining client sent after its password, proxy_client_process() goes on
	 * with: this runs inside it */
}

/* ---- login ---- */

static void proxy_login_failed(struct proxy_client *c, const char *code, const char *message,
                               const char *detail, const char *hint);

/* Appends "-c name=value" for a startup setting, with PostgreSQL's backslash escapes. */
static void
proxy_options_add(struct strbuf *sb, const char *name, const char *value)
{
	const char *s;
	int part;

	if (sb->len)
		strbuf_putc(sb, ' ');
	strbuf_puts(sb, "-c ");
	for (part = 0; part < 2; part++) {
		for (s = part ? value : name; *s; s++) {
			if (isspace((unsigned char)*s) || *s == '\\')
				strbuf_putc(sb, '\\');
			strbuf_putc(sb, *s);
		}
		if (part == 0)
			strbuf_putc(sb, '=');
	}
}

static void proxy_conn_cb(evutil_socket_t fd, short what, void *arg);

static void
proxy_conn_wait(struct proxy_client *c, PostgresPollingStatusType st)
{
	proxy_event_free(&c->ev_conn);
	c->ev_conn = event_new(c->p->base, PQsocket(c->up),
	                       st == PGRES_POLLING_READING ? EV_READ : EV_WRITE, proxy_conn_cb, c);
	if (c->ev_conn == NULL || event_add(c->ev_conn, NULL) < 0) {
		log_error("cannot watch an upstream connection");
		c->dead = true;
	}
}

/* The login went through: the client gets AuthenticationOk and the session's parameters. */
static void
proxy_login_done(struct proxy_client *c)
{
	static const char *const reported[] = {
	        "application_name",
	        "client_encoding",
	        "DateStyle",
	        "default_transaction_read_only",
	        "in_hot_standby",
	        "integer_datetimes",
	        "IntervalStyle",
	        "is_superuser",
	        "scram_iterations",
	        "server_encoding",
	        "server_version",
	        "session_authorization",
	        "standard_conforming_strings",
	        "TimeZone",
	};
	struct proxy *p = c->p;
	struct strbuf sb;
	const char *v;
	size_t i, params_at, params_end;

	proxy_event_free(&c->ev_conn);
	proxy_event_free(&c->ev_timer);
	if (c->method == HBA_PASSWORD && !PQconnectionUsedPassword(c->up)) {
		proxy_login_failed(
		        c, "28000",
		        "sqledge cannot verify the password: the upstream let the user in "
		        "without asking for one",
		        NULL,
		        "Require a password for this connection in the upstream's "
		        "pg_hba.conf, or set [proxy] auth = trust in sqledge.");
		return;
	}
	/* kept for a new upstream connection when the upstream goes away (serve_stale) */
	proxy_wipe_password_keep(c, p->serve_stale);
	proxy_upstream_up(p);
	proxy_login_forgive(c);

	c->up_fd = PQsocket(c->up);
	if (PQsslInUse(c->up)) {
		c->up_ssl = PQsslStruct(c->up, "OpenSSL");
		if (c->up_ssl == NULL) {
			proxy_client_fatal(c, "08006", "upstream TLS library is not OpenSSL");
			return;
		}
	}
	c->cancel = xcalloc(1, sizeof(*c->cancel));
	c->cancel->refs = 1;
	c->cancel->pc = PQgetCancel(c->up);
	if (c->reconnecting) {
		proxy_reconnected(c);
		return;
	}

	strbuf_init(&sb);
	pgw_put_auth_ok(&sb);
	params_at = sb.len;
	for (i = 0; i < ARRAY_SIZE(reported); i++) {
		v = PQparameterStatus(c->up, reported[i]);
		if (v)
			pgw_put_parameter_status(&sb, reported[i], v);
	}
	params_end = sb.len;
	c->lc_pristine = true;
	pgw_put_backend_key(&sb, ((uint32_t)p->index + 1) << PROXY_SESSION_BITS | c->session,
	                    c->key);
	switch (PQtransactionStatus(c->up)) {
	case PQTRANS_INTRANS:
		c->txn = 'T';
		break;
	case PQTRANS_INERROR:
		c->txn = 'E';
		break;
	default:
		c->txn = 'I';
		break;
	}
	pgw_put_ready_for_query(&sb, c->txn);
	if (proxy_up_events(c) < 0) {
		strbuf_free(&sb);
		return;
	}
	proxy_client_put(c, &sb);
	c->state = PC_READY;
	log_debug("client %s: logged in as \"%s\" to database \"%s\"", c->addr, c->st.user,
	          c->st.database);
	proxy_client_flush(c);
	/* remembered once the client has its answer: the verifier takes milliseconds */
	proxy_lcache_login(c, sb.data + params_at, params_end - params_at);
	strbuf_free(&sb);
	/* a pipelining client may have sent its first messages already */
	proxy_client_process(c);
}

/* Turns libpq's error into the client's ErrorResponse. */
static void
proxy_login_error(struct proxy_client *c)
{
	struct proxy_conn_error e;
	char buf[1024], msg[1100];

	proxy_parse_conn_error(c->up ? PQerrorMessage(c->up) : "out of memory", buf, sizeof(buf),
	                       &e);
	if (e.code) {
		proxy_login_failed(c, e.code, e.message, e.detail, e.hint);
		return;
	}
	if (strstr(e.message, "no password supplied")) {
		proxy_login_failed(c, "28000",
		                   "the upstream asks for a password, but sqledge has none to give "
		                   "([proxy] auth = trust)",
		                   NULL, "Set [proxy] auth = password.");
		return;
	}
	snprintf(msg, sizeof(msg), "could not connect to the upstream: %s", e.message);
	log_warn("client %s (user \"%s\"): %s", c->addr, c->st.user, msg);
	proxy_login_failed(c, "08006", msg, NULL, NULL);
}

static void
proxy_conn_step(struct proxy_client *c)
{
	PostgresPollingStatusType st = PQconnectPoll(c->up);

	switch (st) {
	case PGRES_POLLING_OK:
		proxy_login_done(c);
		break;
	case PGRES_POLLING_READING:
	case PGRES_POLLING_WRITING:
		proxy_conn_wait(c, st);
		break;
	default:
		proxy_login_error(c);
		break;
	}
}

static void
proxy_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	proxy_conn_step(c);
	proxy_client_done(c);
}

static void
proxy_conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;
	char msg[200];

	if (c->state != PC_CONNECTING && !c->reconnecting)
		return; /* a timer of an attempt that is over */
	snprintf(msg, sizeof(msg), "could not connect to the upstream: timeout expired after %d s",
	         c->p->cfg->upstream_connect_timeout);
	log_warn("client %s (user \"%s\"): %s", c->addr, c->st.user, msg);
	proxy_login_failed(c, "08006", msg, NULL, NULL);
	proxy_client_done(c);
}

/* Starts libpq's non-blocking login as the client; hostaddr is the resolved address list
 * (NULL when the configured address needs no lookup). */
static void
proxy_conn_start(struct proxy_client *c, const char *hostaddr)
{
	const struct cfg *cfg = c->p->cfg;
	struct timeval tv = {cfg->upstream_connect_timeout, 0};
	const char *kw[24], *val[24];
	char port[16], hosts[(PROXY_MAX_ADDRS + 1) * 256];
	struct strbuf options;
	const char *client_options = NULL, *appname = NULL;
	size_t i, n = 0, naddr;

	strbuf_init(&options);
	for (i = 0; i < c->st.nparams; i++) {
		const struct pgw_param *prm = &c->st.params[i];

		if (strcmp(prm->name, "user") == 0 || strcmp(prm->name, "database") == 0 ||
		    strncmp(prm->name, PGW_PROTOCOL_OPTION_PREFIX,
		            strlen(PGW_PROTOCOL_OPTION_PREFIX)) == 0)
			continue;
		if (strcmp(prm->name, "options") == 0)
			client_options = prm->value;
		else if (strcmp(prm->name, "application_name") == 0)
			appname = prm->value;
		else
			proxy_options_add(&options, prm->name, prm->value);
	}
	if (client_options && *client_options) {
		if (options.len)
			strbuf_putc(&options, ' ');
		strbuf_puts(&options, client_options);
	}

	snprintf(port, sizeof(port), "%d", cfg->upstream_port);
	kw[n] = "host", val[n++] = cfg->upstream_address;
	if (hostaddr) {
		/* libpq wants one host name per address */
		naddr = 1;
		for (i = 0; hostaddr[i]; i++)
			naddr += hostaddr[i] == ',';
		hosts[0] = '\0';
		for (i = 0;
		     i < naddr && strlen(hosts) + strlen(cfg->upstream_address) + 2 < sizeof(hosts);
		     i++) {
			if (i)
				strcat(hosts, ",");
			strcat(hosts, cfg->upstream_address);
		}
		val[0] = hosts;
		kw[n] = "hostaddr", val[n++] = hostaddr;
	}
	kw[n] = "port", val[n++] = port;
	kw[n] = "dbname", val[n++] = c->st.database;
	kw[n] = "user", val[n++] = c->up_user ? c->up_user : c->st.user;
	if (c->password)
		kw[n] = "password", val[n++] = c->password;
	/* never a credential of the daemon's own user for a client: its password file, its
	 * TLS client certificate (KRB5CCNAME is cleared for its Kerberos tickets) */
	kw[n] = "passfile", val[n++] = PROXY_NO_FILE;
	kw[n] = "sslcert", val[n++] = PROXY_NO_FILE;
	kw[n] = "sslkey", val[n++] = PROXY_NO_FILE;
	kw[n] = "sslmode", val[n++] = cfg->upstream_sslmode;
	if (cfg->upstream_sslrootcert[0])
		kw[n] = "sslrootcert", val[n++] = cfg->upstream_sslrootcert;
	kw[n] = "gssencmode", val[n++] = "disable";
	if (appname)
		kw[n] = "application_name", val[n++] = appname;
	if (options.len)
		kw[n] = "options", val[n++] = strbuf_str(&options);
	kw[n] = "keepalives_idle", val[n++] = "30";
	kw[n] = "keepalives_interval", val[n++] = "10";
	/* a link that stops answering fails the statement in flight, not after 15 minutes of
	 * retransmission */
	kw[n] = "tcp_user_timeout", val[n++] = PROXY_TCP_USER_TIMEOUT_MS;
	kw[n] = NULL, val[n] = NULL;

	if (!c->reconnecting)
		c->state = PC_CONNECTING;
	proxy_event_free(&c->ev_timer);
	c->ev_timer = evtimer_new(c->p->base, proxy_conn_timeout_cb, c);
	if (c->ev_timer == NULL || evtimer_add(c->ev_timer, &tv) < 0) {
		log_error("cannot create a timer");
		c->dead = true;
		strbuf_free(&options);
		return;
	}
	c->up = PQconnectStartParams(kw, val, 0);
	strbuf_free(&options);
	if (c->up == NULL || PQstatus(c->up) == CONNECTION_BAD) {
		proxy_login_error(c);
		return;
	}
	PQsetErrorVerbosity(c->up, PQERRORS_VERBOSE);
	proxy_conn_wait(c, PGRES_POLLING_WRITING);
}

static void
proxy_dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct proxy_client *c = arg;
	char list[PROXY_MAX_ADDRS * (INET6_ADDRSTRLEN + 1)], one[INET6_ADDRSTRLEN], msg[512];
	struct evutil_addrinfo *ai;
	int n = 0;

	if (result == EVUTIL_EAI_CANCEL) {
		if (res)
			evutil_freeaddrinfo(res);
		return; /* the client is gone */
	}
	c->dns_req = NULL;
	list[0] = '\0';
	for (ai = result == 0 ? res : NULL; ai && n < PROXY_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, one,
			          sizeof(one));
		else if (ai->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, one,
			          sizeof(one));
		else
			continue;
		if (n++)
			strcat(list, ",");
		strcat(list, one);
	}
	if (res)
		evutil_freeaddrinfo(res);
	if (!c->reconnecting)
		c->state = PC_CONNECTING;
	if (n == 0) {
		snprintf(msg, sizeof(msg),
		         "could not translate upstream host name \"%s\" to an address: %s",
		         c->p->cfg->upstream_address,
		         result ? evutil_gai_strerror(result) : "no IPv4 or IPv6 address");
		log_warn("%s", msg);
		proxy_login_failed(c, "08001", msg, NULL, NULL);
	} else {
		proxy_conn_start(c, list);
	}
	if (!c->dns_sync) /* else the caller of evdns_getaddrinfo() ends the callback chain */
		proxy_client_done(c);
}

/* A connection slot is ours: look the upstream up and log in. */
static void
proxy_login_start(struct proxy_client *c)
{
	struct proxy *p = c->p;
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *req;

	c->up_slot = true;
	p->upstream_conns++;
	proxy_publish(p);
	if (p->numeric_host || p->unix_host || p->dns == NULL) {
		proxy_conn_start(c, NULL);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	if (!c->reconnecting)
		c->state = PC_CONNECTING;
	/* an answer from /etc/hosts comes before this returns (and then req is NULL) */
	c->dns_sync = true;
	req = evdns_getaddrinfo(p->dns, p->cfg->upstream_address, NULL, &hints, proxy_dns_cb, c);
	c->dns_sync = false;
	c->dns_req = req;
}

/* Asks for an upstream slot: at once when one is free, else in the queue. */
static void
proxy_login_request(struct proxy_client *c)
{
	struct proxy *p = c->p;

	/* the client has said all it had to; the queue and connect timeouts take over */
	proxy_event_free(&c->ev_timer);

	if (p->queue == NULL &&
	    proxy_take(&p->shm->proxy_upstream_conns, p->cfg->proxy_max_upstream_connections)) {
		proxy_login_start(c);
		return;
	}
	c->state = PC_QUEUED;
	c->queued_us = time_mono_us();
	*p->queue_tail = c;
	p->queue_tail = &c->qnext;
	log_debug("client %s: waiting for a free upstream connection", c->addr);
	proxy_queue_kick(p);
}

static void
proxy_queue_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *p = arg;
	struct proxy_client *c;
	int64_t now = time_mono_us(), limit = (int64_t)p->cfg->proxy_queue_timeout * 1000000;
	char msg[256];

	while ((c = p->queue) != NULL) {
		if (now - c->queued_us >= limit) {
			proxy_queue_remove(c);
			snprintf(msg, sizeof(msg),
			         "no upstream connection became free within %d s "
			         "([proxy] max_upstream_connections = %d)",
			         p->cfg->proxy_queue_timeout,
			         p->cfg->proxy_max_upstream_connections);
			log_warn("client %s: %s", c->addr, msg);
			proxy_client_error(c, "FATAL", "53300", msg, NULL, NULL);
			proxy_client_flush(c);
			proxy_client_done(c);
			continue;
		}
		if (!proxy_take(&p->shm->proxy_upstream_conns,
		                p->cfg->proxy_max_upstream_connections))
			break;
		proxy_queue_remove(c);
		proxy_login_start(c);
		proxy_client_done(c);
	}
	proxy_queue_kick(p);
}

/* Polls the queue while it is not empty: slots are freed by other workers too. */
static void
proxy_queue_kick(struct proxy *p)
{
	struct timeval tv = {0, PROXY_QUEUE_POLL_MS * 1000};

	if (p->queue && !evtimer_pending(p->ev_queue, NULL))
		evtimer_add(p->ev_queue, &tv);
}

/* ---- failed logins ---- */

static void
proxy_delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	c->delaying = false;
	proxy_client_put(c, &c->delayed);
	c->state = PC_CLOSING;
	proxy_client_flush(c);
	proxy_client_done(c);
}

/* Counts the failure against the client's address and sends the error after a delay that
 * doubles with each failure from that address within a minute. */
static void
proxy_login_failed(struct proxy_client *c, const char *code, const char *message,
                   const char *detail, const char *hint)
{
	struct proxy *p = c->p;
	struct pgw_error e = {.severity = "FATAL",
	                      .code = code,
	                      .message = message,
	                      .detail = detail,
	                      .hint = hint};
	struct proxy_fail *f = NULL, *oldest = &p->fails[0];
	char host[sizeof(c->addr)];
	int64_t now = time_mono_us(), delay_ms = 0;
	struct timeval tv;
	size_t i;

	if (c->reconnecting && (strncmp(code, "08", 2) == 0 || strncmp(code, "57P", 3) == 0)) {
		/* still unreachable: the statement gets an error, the session goes on */
		proxy_event_free(&c->ev_timer);
		proxy_up_close(c);
		c->reconnecting = false;
		c->refuse = true;
		snprintf(p->down_why, sizeof(p->down_why), "%s", message);
		proxy_upstream_down(p);
		if (c->held)
			proxy_local_release_upstream(c); /* answers the error */
		else
			proxy_client_process(c);
		c->refuse = false; /* for that statement only */
		return;
	}
	c->reconnecting = false;
	proxy_lcache_refused(c, code);
	proxy_up_close(c);
	proxy_wipe_password(c);
	if (strncmp(code, "08", 2) == 0) {
		snprintf(p->down_why, sizeof(p->down_why), "%s", message);
		proxy_upstream_down(p);
	}
	p->logins_failed++;
	proxy_publish(p);
	log_info("client %s: login of \"%s\" to database \"%s\" failed: %s", c->addr,
	         c->st.user ? c->st.user : "", c->st.database ? c->st.database : "", message);

	f = proxy_fail_find(c, host, sizeof(host));
	for (i = 0; f == NULL && i < PROXY_FAIL_SLOTS; i++)
		if (p->fails[i].last_us < oldest->last_us)
			oldest = &p->fails[i];
	if (f == NULL || now - f->last_us > PROXY_FAIL_FORGET_US) {
		if (f == NULL) {
			f = oldest;
			snprintf(f->addr, sizeof(f->addr), "%s", host);
		}
		f->failures = 0;
	}
	f->failures++;
	f->last_us = now;
	if (f->failures > 1) {
		delay_ms = INT64_C(250) << (f->failures - 2 < 5 ? f->failures - 2 : 5);
		if (delay_ms > PROXY_FAIL_DELAY_MAX_MS)
			delay_ms = PROXY_FAIL_DELAY_MAX_MS;
	}

	strbuf_reset(&c->delayed);
	pgw_put_error(&c->delayed, &e);
	c->state = PC_CLOSING;
	if (delay_ms == 0) {
		proxy_client_put(c, &c->delayed);
		proxy_client_flush(c);
		return;
	}
	/* nothing is read or written meanwhile */
	c->delaying = true;
	proxy_event_free(&c->ev_timer);
	c->ev_timer = evtimer_new(p->base, proxy_delayed_cb, c);
	tv.tv_sec = (time_t)(delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(delay_ms % 1000 * 1000);
	if (c->ev_timer == NULL || evtimer_add(c->ev_timer, &tv) < 0)
		c->dead = true;
}

/* ---- the first packets ---- */

static void proxy_cancel_local(struct proxy *p, uint32_t pid, uint32_t key, int hold_fd);

static void
proxy_client_cancel(struct proxy_client *c)
{
	struct proxy *p = c->p;
	struct proxy_cancel_msg m = {c->st.cancel_pid, c->st.cancel_key};
	int target = proxy_cancel_target(m.pid, (int)p->shm->proxy_nworkers);

	/* a cancel gets no answer, whatever happens; its connection closes once the upstream
	 * has the cancel, as PostgreSQL's does (libpq waits for that: a statement the client
	 * sends next is not the one canceled) */
	c->dead = true;
	if (target < 0) {
		log_debug("client %s: CancelRequest for unknown process %u", c->addr, m.pid);
		return;
	}
	if (target == p->index)
		proxy_cancel_local(p, m.pid, m.key, fcntl(c->fd, F_DUPFD_CLOEXEC, 0));
	else if (chan_send(p->chan_fd, CHAN_MSG_CANCEL_FWD, &m, sizeof(m), c->fd) != 0)
		log_warn("cannot pass a CancelRequest to worker %d", target);
}

/* Drives the TLS handshake; once done the client sends its StartupMessage over TLS. */
static void
proxy_client_tls_step(struct proxy_client *c)
{
	char why[256];
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->tls_want_write = false;
		c->state = PC_STARTUP;
		log_debug("client %s: TLS %s, %s", c->addr, SSL_get_version(c->ssl),
		          SSL_get_cipher_name(c->ssl));
		if (SSL_pending(c->ssl) > 0)
			event_active(c->ev_read, EV_READ, 0);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
		return;
	}
	/* as PostgreSQL: the handshake failed, so nothing can be said to the client */
	log_info("client %s: TLS handshake failed: %s", c->addr,
	         e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
	                 ? "connection closed"
	                 : tls_last_error(why, sizeof(why)));
	c->dead = true;
}

/* SSLRequest with a certificate configured: 'S', then the handshake. Bytes the client sent
 * after its SSLRequest, before our 'S', would be taken as if they came through TLS: refused
 * (CVE-2021-23222). */
static void
proxy_client_tls_start(struct proxy_client *c)
{
	char why[256];

	if (proxy_buf_pending(&c->cin) > 0 || proxy_buf_pending(&c->cout) > 0) {
		log_info("client %s: unencrypted data after SSLRequest", c->addr);
		proxy_client_fatal(c, "08P01", "received unencrypted data after SSL request");
		return;
	}
	if (send(c->fd, "S", 1, MSG_NOSIGNAL) != 1) {
		c->dead = true;
		return;
	}
	ERR_clear_error();
	c->ssl = SSL_new(c->p->tls);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		log_error("client %s: cannot start TLS: %s", c->addr,
		          tls_last_error(why, sizeof(why)));
		c->dead = true;
		return;
	}
	SSL_set_accept_state(c->ssl);
	c->state = PC_TLS;
	proxy_client_tls_step(c);
}

static void
proxy_client_startup(struct proxy_client *c)
{
	struct proxy *p = c->p;
	enum hba_method method;
	struct strbuf sb;
	size_t total;
	int r;

	r = pgw_frame_startup(c->cin.data + c->cin.off, proxy_buf_pending(&c->cin), &total);
	if (r == SQE_AGAIN)
		return;
	if (r < 0) {
		/* PostgreSQL closes without a word too: the peer may not speak the protocol */
		log_info("client %s: invalid length of startup packet", c->addr);
		c->dead = true;
		return;
	}
	c->startup = xmalloc(total);
	memcpy(c->startup, c->cin.data + c->cin.off, total);
	proxy_buf_consume(&c->cin, total);
	r = pgw_parse_startup(c->startup, total, &c->st);
	if (r == PGW_UNSUPPORTED_PROTOCOL) {
		log_info("client %s: %s", c->addr, c->st.errmsg);
		proxy_client_fatal(
		        c, "0A000",
		        "unsupported frontend protocol %u.%u: server supports 3.0 to 3.0",
		        PGW_PROTOCOL_MAJOR(c->st.version), PGW_PROTOCOL_MINOR(c->st.version));
		goto reset;
	}
	if (r < 0) {
		log_info("client %s: invalid startup packet: %s", c->addr, c->st.errmsg);
		proxy_client_fatal(c, "08P01", "invalid startup packet layout: %s", c->st.errmsg);
		goto reset;
	}

	strbuf_init(&sb);
	switch (c->st.kind) {
	case PGW_STARTUP_SSL:
		if (p->tls != NULL && c->ssl == NULL && !c->unix_socket) {
			proxy_client_tls_start(c);
			break;
		}
		if (c->ssl != NULL) {
			proxy_client_fatal(c, "08P01", "SSLRequest inside TLS");
			break;
		}
		pgw_put_ssl_refusal(&sb);
		proxy_client_put(c, &sb);
		break;
	case PGW_STARTUP_GSSENC:
		pgw_put_ssl_refusal(&sb);
		proxy_client_put(c, &sb);
		break;
	case PGW_STARTUP_CANCEL:
		proxy_client_cancel(c);
		break;
	case PGW_STARTUP_MESSAGE:
		if (!c->counted) {
			proxy_client_fatal(c, "53300",
			                   "sorry, too many clients already ([proxy] max_clients = "
			                   "%d)",
			                   p->cfg->proxy_max_clients);
			break;
		}
		if (pgw_startup_get(&c->st, "replication")) {
			proxy_client_fatal(c, "0A000",
			                   "sqledge does not serve replication connections");
			break;
		}
		if (c->ssl == NULL && tls_required(p->cfg, c->unix_socket, c->local)) {
			char host[INET6_ADDRSTRLEN + 8];

			proxy_addr_host(c->addr, host, sizeof(host));
			log_info("client %s: refused: TLS is required ([proxy] tls_require = %s)",
			         c->addr, p->cfg->proxy_tls_require);
			proxy_client_fatal(c, "28000",
			                   "sqledge requires TLS for connections from %s ([proxy] "
			                   "tls_require)",
			                   host);
			break;
		}
		method = strcmp(p->cfg->proxy_auth, "trust") == 0   ? HBA_TRUST
		         : strcmp(p->cfg->proxy_auth, "scram") == 0 ? HBA_SCRAM
		                                                    : HBA_PASSWORD;
		if (p->hba_broken || p->hba) {
			const struct hba_rule *rule =
			        p->hba_broken
			                ? NULL
			                : hba_match(p->hba, c->unix_socket ? NULL : &c->ss,
			                            c->ssl != NULL, c->st.database, c->st.user);

			if (rule == NULL || rule->method == HBA_REJECT) {
				char host[INET6_ADDRSTRLEN + 8], *h = host;

				/* the host as PostgreSQL names it: no port, no brackets */
				proxy_addr_host(c->addr, host, sizeof(host));
				if (h[0] == '[') {
					h++;
					h[strcspn(h, "]")] = '\0';
				}
				log_info("client %s: user \"%s\", database \"%s\": %s", c->addr,
				         c->st.user, c->st.database,
				         rule ? "rejected by [proxy] hba_file"
				              : "no line of [proxy] hba_file matches");
				proxy_client_fatal(
				        c, "28000",
				        rule ? "sqledge hba_file rejects connection for host "
				               "\"%s\", user \"%s\", database \"%s\", %s"
				             : "no sqledge hba_file entry for host \"%s\", user "
				               "\"%s\", database \"%s\", %s",
				        c->unix_socket ? "[local]" : h, c->st.user, c->st.database,
				        c->ssl ? "TLS encryption" : "no encryption");
				break;
			}
			method = rule->method;
		}
		c->method = method;
		if (PGW_STARTUP_NEEDS_NEGOTIATION(&c->st))
			pgw_put_negotiate_protocol(&sb, &c->st);
		if (method == HBA_SCRAM) {
			proxy_client_put(c, &sb);
			proxy_auth_file_start(c);
			break;
		}
		if (method == HBA_TRUST) {
			proxy_client_put(c, &sb);
			proxy_login_request(c);
			break;
		}
		if (!c->local && c->ssl == NULL) {
			proxy_client_put(c, &sb);
			proxy_client_fatal(c, "28000",
			                   "sqledge accepts passwords from %s only over TLS (set "
			                   "[proxy] tls_cert_file and connect with sslmode=require "
			                   "or stronger)",
			                   c->addr);
			break;
		}
		pgw_put_auth_cleartext(&sb);
		proxy_client_put(c, &sb);
		c->state = PC_PASSWORD;
		break;
	}
	strbuf_free(&sb);
	if (c->st.kind == PGW_STARTUP_MESSAGE)
		return;
reset:
	/* after SSLRequest/GSSENCRequest another first packet follows. With TLS, bytes that
	 * came before our 'S' must be refused (CVE-2021-23222); after 'N' they are simply the
	 * next packet. */
	free(c->startup);
	c->startup = NULL;
}

/* The tls-server-end-point hash of our certificate (RFC 5929: its signature's hash, SHA-256
 * for MD5 and SHA-1), for SCRAM-SHA-256-PLUS; 0 when it cannot be had. */
static size_t
proxy_tls_cbind(struct proxy_client *c, uint8_t *out)
{
	X509 *cert = c->ssl ? SSL_get_certificate(c->ssl) : NULL;
	const EVP_MD *md;
	unsigned int len = 0;
	int md_nid = NID_undef, pk_nid;

	if (cert == NULL || !OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid))
		return 0;
	md = md_nid == NID_md5 || md_nid == NID_sha1 ? EVP_sha256() : EVP_get_digestbynid(md_nid);
	if (md == NULL || EVP_MD_size(md) > SCRAM_MAX_CBIND ||
	    X509_digest(cert, md, out, &len) != 1)
		return 0;
	return len;
}

/* A login by the auth file: an md5 challenge for an md5 secret, else SCRAM-SHA-256 (and
 * -PLUS over TLS); an unknown user goes through SCRAM and fails at its end, as PostgreSQL
 * does, not telling who exists. */
static void
proxy_auth_file_start(struct proxy_client *c)
{
	const struct scram_secret *secret = scram_users_find(c->p->users, c->st.user);
	uint8_t cbind[SCRAM_MAX_CBIND];
	size_t cbind_len = proxy_tls_cbind(c, cbind);
	struct strbuf sb;

	strbuf_init(&sb);
	if (secret && secret->kind == SCRAM_SECRET_MD5) {
		if (getrandom(c->md5_salt, sizeof(c->md5_salt), 0) !=
		    (ssize_t)sizeof(c->md5_salt)) {
			c->dead = true;
			strbuf_free(&sb);
			return;
		}
		strbuf_putc(&sb, 'R');
		strbuf_append(&sb, "\0\0\0\x0c\0\0\0\x05", 8);
		strbuf_append(&sb, c->md5_salt, 4);
		c->state = PC_MD5;
	} else {
		c->scram = xmalloc(sizeof(*c->scram));
		scram_begin(c->scram, secret, cbind_len ? cbind : NULL, cbind_len);
		strbuf_putc(&sb, 'R');
		strbuf_append(&sb, "\0\0\0\0\0\0\0\x0a", 8);
		if (cbind_len)
			strbuf_append(&sb, "SCRAM-SHA-256-PLUS", 19);
		strbuf_append(&sb, "SCRAM-SHA-256", 14);
		strbuf_putc(&sb, '\0');
		be_put_u32((uint8_t *)sb.data + 1, (uint32_t)(sb.len - 1));
		c->state = PC_SASL;
	}
	proxy_client_put(c, &sb);
	strbuf_free(&sb);
}

/* After the auth file let the client in: its upstream session, as itself with the password
 * the file holds, else as [upstream] user (a verifier or hash cannot log in upstream). */
static void
proxy_auth_file_done(struct proxy_client *c)
{
	const struct scram_secret *secret = scram_users_find(c->p->users, c->st.user);

	if (secret && secret->kind == SCRAM_SECRET_PLAIN) {
		c->password = xstrdup(secret->password);
	} else {
		c->up_user = xstrdup(c->p->cfg->upstream_user);
		if (c->p->cfg->upstream_password[0])
			c->password = xstrdup(c->p->cfg->upstream_password);
	}
	proxy_login_request(c);
}

/* SASLInitialResponse / SASLResponse / the md5 answer. */
static void
proxy_client_sasl(struct proxy_client *c)
{
	size_t avail = proxy_buf_pending(&c->cin), total, len;
	uint8_t *m = c->cin.data + c->cin.off, type;
	char why[256], failed[200];
	struct strbuf out;
	int r, ok = 0;

	r = pgw_frame(m, avail, PROXY_PREAUTH_MAX, &type, &total);
	if (r == SQE_AGAIN)
		return;
	if (r < 0 || type != PGW_PASSWORD) {
		proxy_client_fatal(c, "08P01",
		                   r < 0 ? "invalid message length"
		                         : "expected SASL response, got message type %d",
		                   type);
		return;
	}
	len = total - PGW_HEADER_LEN;
	m += PGW_HEADER_LEN;
	snprintf(failed, sizeof(failed), "password authentication failed for user \"%s\"",
	         c->st.user);
	strbuf_init(&out);
	if (c->state == PC_MD5) {
		const struct scram_secret *secret = scram_users_find(c->p->users, c->st.user);
		char want[36];

		if (secret == NULL || secret->kind != SCRAM_SECRET_MD5) {
			ok = 0;
		} else {
			scram_md5_response(secret->md5, c->md5_salt, want);
			ok = len == 36 && m[35] == '\0' && CRYPTO_memcmp(m, want, 35) == 0;
		}
	} else if (c->state == PC_SASL) {
		const char *mech = (const char *)m;
		size_t mlen = strnlen(mech, len);
		int32_t dlen;

		if (mlen == len || len - mlen - 1 < 4) {
			proxy_client_fatal(c, "08P01", "malformed SASLInitialResponse");
			goto out;
		}
		dlen = (int32_t)be_get_u32(m + mlen + 1);
		if (dlen < 0 || (size_t)dlen != len - mlen - 5) {
			proxy_client_fatal(c, "08P01", "malformed SASLInitialResponse");
			goto out;
		}
		strbuf_putc(&out, 'R');
		strbuf_append(&out, "\0\0\0\0\0\0\0\x0b", 8);
		if (scram_first(c->scram, mech, (const char *)m + mlen + 5, (size_t)dlen, NULL,
		                &out, why, sizeof(why)) < 0) {
			proxy_client_fatal(c, "08P01", "%s", why);
			goto out;
		}
		be_put_u32((uint8_t *)out.data + 1, (uint32_t)(out.len - 1));
		proxy_client_put(c, &out);
		c->state = PC_SASL_FINAL;
		proxy_buf_consume(&c->cin, total);
		goto out;
	} else {
		strbuf_putc(&out, 'R');
		strbuf_append(&out, "\0\0\0\0\0\0\0\x0c", 8);
		ok = scram_final(c->scram, (const char *)m, len, &out, why, sizeof(why));
		if (ok < 0) {
			proxy_client_fatal(c, strstr(why, "channel binding") ? "28000" : "08P01",
			                   "%s", why);
			goto out;
		}
		if (ok)
			be_put_u32((uint8_t *)out.data + 1, (uint32_t)(out.len - 1));
	}
	secure_zero(c->cin.data + c->cin.off, total);
	proxy_buf_consume(&c->cin, total);
	if (c->scram) {
		scram_end(c->scram);
		free(c->scram);
		c->scram = NULL;
	}
	if (!ok) {
		proxy_login_failed(c, "28P01", failed, NULL, NULL);
		goto out;
	}
	if (out.len > 0)
		proxy_client_put(c, &out); /* AuthenticationSASLFinal */
	c->state = PC_PASSWORD;            /* no more input until the upstream login is over */
	proxy_auth_file_done(c);
out:
	strbuf_free(&out);
}

static void
proxy_client_password(struct proxy_client *c)
{
	size_t avail = proxy_buf_pending(&c->cin), total, len;
	uint8_t *m = c->cin.data + c->cin.off;
	uint8_t type;
	int r;

	r = pgw_frame(m, avail, PROXY_PREAUTH_MAX, &type, &total);
	if (r == SQE_AGAIN)
		return;
	if (r < 0) {
		proxy_client_fatal(c, "08P01", "invalid message length");
		return;
	}
	if (type != PGW_PASSWORD) {
		proxy_client_fatal(c, "08P01", "expected password response, got message type %d",
		                   type);
		return;
	}
	len = total - PGW_HEADER_LEN;
	if (len == 0 || m[total - 1] != '\0' || strlen((char *)m + PGW_HEADER_LEN) != len - 1) {
		proxy_client_fatal(c, "08P01", "invalid password packet size");
		return;
	}
	c->password = xstrdup((char *)m + PGW_HEADER_LEN);
	secure_zero(m, total);
	/* and any copy that compacting the buffer left past its end */
	secure_zero(c->cin.data + c->cin.len, c->cin.cap - c->cin.len);
	proxy_buf_consume(&c->cin, total);
	if (c->password[0] == '\0') {
		/* libpq would take an empty password for none and look elsewhere */
		char msg[200];

		snprintf(msg, sizeof(msg), "password authentication failed for user \"%s\"",
		         c->st.user);
		proxy_login_failed(c, "28P01", msg, NULL, NULL);
		return;
	}
	if (c->method == HBA_PASSWORD && c->up_user == NULL && c->p->lcache != NULL &&
	    logincache_key(&c->st, c->lc_key) == 0) {
		const struct logincache_entry *e;

		c->lc_keyed = true;
		e = logincache_find(c->p->lcache, c->lc_key, time_mono_us());
		if (e && proxy_lcache_verify(c, e) == PROXY_LC_MATCH) {
			proxy_login_cached(c, e);
			return;
		}
	}
	proxy_login_request(c);
}

static void
proxy_client_process(struct proxy_client *c)
{
	while (!c->dead && proxy_buf_pending(&c->cin) > 0) {
		enum proxy_client_state before = c->state;
		size_t pending = proxy_buf_pending(&c->cin);

		switch (c->state) {
		case PC_STARTUP:
			proxy_client_startup(c);
			break;
		case PC_PASSWORD:
			proxy_client_password(c);
			break;
		case PC_SASL:
		case PC_SASL_FINAL:
		case PC_MD5:
			proxy_client_sasl(c);
			break;
		case PC_READY:
		case PC_DRAIN:
			proxy_client_relay(c);
			break;
		default:
			goto out; /* kept for when the client is ready */
		}
		if (c->state == before && proxy_buf_pending(&c->cin) == pending)
			break; /* needs more bytes, or room upstream */
	}
out:
	proxy_client_flush(c);
}

/* ---- events ---- */

static void
proxy_client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;
	ssize_t n;

	if (c->state == PC_TLS) {
		proxy_client_tls_step(c);
		proxy_client_done(c);
		return;
	}
	if (c->state == PC_LINGER) {
		char sink[4096];

		n = proxy_client_recv(c, sink, sizeof(sink));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
			c->dead = true;
		proxy_client_done(c);
		return;
	}
	if (c->state == PC_STARTUP || c->state == PC_PASSWORD || c->state == PC_SASL ||
	    c->state == PC_SASL_FINAL || c->state == PC_MD5) {
		/* until the password is gone the buffer grows by copying and wiping: realloc()
		 * would leave a copy of it in freed memory */
		if (c->cin.cap == 0) {
			c->cin.data = xmalloc(PROXY_PREAUTH_FIRST);
			c->cin.cap = PROXY_PREAUTH_FIRST;
		}
		if (c->cin.len == c->cin.cap && c->cin.off > 0) {
			memmove(c->cin.data, c->cin.data + c->cin.off, c->cin.len - c->cin.off);
			c->cin.len -= c->cin.off;
			c->cin.off = 0;
		}
		if (c->cin.len == c->cin.cap && c->cin.cap < PROXY_PREAUTH_BUF) {
			uint8_t *bigger = xmalloc(c->cin.cap * 2);

			memcpy(bigger, c->cin.data, c->cin.len);
			secure_zero(c->cin.data, c->cin.cap);
			free(c->cin.data);
			c->cin.data = bigger;
			c->cin.cap *= 2;
		}
		if (c->cin.len == c->cin.cap) {
			/* cannot happen: every first packet and message is checked at 10000 bytes
			 */
			c->dead = true;
			proxy_client_done(c);
			return;
		}
	} else {
		proxy_buf_reserve(&c->cin, PROXY_READ_MIN);
	}
	n = proxy_client_recv(c, c->cin.data + c->cin.len, c->cin.cap - c->cin.len);
	if (n < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			log_debug("client %s: recv() failed: %s", c->addr, strerror(errno));
			c->dead = true;
		}
	} else if (n == 0) {
		if (c->state == PC_READY && c->txn != 'I')
			log_info("client %s: disconnected inside a transaction; the upstream rolls "
			         "it back",
			         c->addr);
		if (c->state == PC_READY) {
			proxy_client_drain(c);
			proxy_client_relay(c);
		} else {
			c->dead = true;
		}
	} else {
		c->cin.len += (size_t)n;
		proxy_client_process(c);
	}
	/* TLS may hold decrypted bytes the socket no longer signals: come back for them */
	if (!c->dead && c->ssl && c->reading && SSL_pending(c->ssl) > 0)
		event_active(c->ev_read, EV_READ, 0);
	proxy_client_done(c);
}

static void
proxy_client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	if (c->state == PC_TLS) {
		proxy_client_tls_step(c);
		proxy_client_done(c);
		return;
	}
	if (c->ssl && c->tls_want_write && c->cout.off == c->scan) {
		/* a read that waited for the socket to take bytes */
		c->tls_want_write = false;
		event_active(c->ev_read, EV_READ, 0);
	}

	proxy_client_flush(c);
	if (!c->dead && proxy_buf_pending(&c->cout) < PROXY_HIGH_WATER)
		proxy_up_pump(c);
	proxy_client_done(c);
}

static void
proxy_up_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	proxy_up_pump(c);
	proxy_client_done(c);
}

static void
proxy_up_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	if (c->up_read_wants_write) {
		proxy_up_pump(c);
	} else {
		proxy_up_flush(c);
		/* room again: take what the client sent meanwhile */
		if (!c->dead && c->state == PC_READY)
			proxy_client_process(c);
	}
	proxy_client_done(c);
}

static void
proxy_auth_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_client *c = arg;

	log_info("client %s: authentication timed out after %d s", c->addr, PROXY_AUTH_TIMEOUT_S);
	c->dead = true;
	proxy_client_done(c);
}

static void
proxy_event_set(struct event *ev, bool *on, bool want)
{
	if (*on == want || ev == NULL)
		return;
	if (want)
		event_add(ev, NULL);
	else
		event_del(ev);
	*on = want;
}

static void
proxy_client_update_events(struct proxy_client *c)
{
	bool rd, wr, urd = false, uwr = false;

	switch (c->state) {
	case PC_STARTUP:
	case PC_PASSWORD:
	case PC_SASL:
	case PC_SASL_FINAL:
	case PC_MD5:
	case PC_LINGER:
	case PC_TLS:
		rd = true;
		break;
	case PC_DRAIN:
		rd = false;
		urd = true; /* read and dropped: the upstream must not block on its answers */
		uwr = proxy_buf_pending(&c->uout) > 0 || c->up_read_wants_write;
		break;
	case PC_READY:
		rd = proxy_buf_pending(&c->uout) < PROXY_HIGH_WATER &&
		     proxy_buf_pending(&c->cin) < (size_t)c->p->cfg->proxy_max_message_size;
		urd = proxy_buf_pending(&c->cout) < PROXY_HIGH_WATER;
		uwr = proxy_buf_pending(&c->uout) > 0 || c->up_read_wants_write;
		break;
	default:
		rd = false;
		break;
	}
	wr = c->cout.off < c->scan;
	if (c->delaying)
		wr = false;
	if (c->tls_want_write)
		wr = true;
	proxy_event_set(c->ev_read, &c->reading, rd);
	proxy_event_set(c->ev_write, &c->writing, wr);
	proxy_event_set(c->ev_up_read, &c->up_reading, urd);
	proxy_event_set(c->ev_up_write, &c->up_writing, uwr);
}

static void
proxy_client_new(struct proxy *p, int fd, const struct sockaddr_storage *ss)
{
	struct proxy_client *c = xcalloc(1, sizeof(*c));
	struct timeval tv = {PROXY_AUTH_TIMEOUT_S, 0};

	c->p = p;
	c->fd = fd;
	c->up_fd = -1;
	c->local = proxy_addr_is_loopback(ss);
	c->unix_socket = ss->ss_family == AF_UNIX;
	c->ss = *ss;
	proxy_addr_format(ss, c->addr, sizeof(c->addr));
	strbuf_init(&c->delayed);
	strbuf_init(&c->held_msg);
	strbuf_init(&c->icpt);
	strbuf_init(&c->lc_answer);
	c->counted = proxy_take(&p->shm->proxy_clients, p->cfg->proxy_max_clients);
	p->nheld += c->counted;
	/* a session number no client of ours holds: after 2^24 logins they wrap around */
	for (;;) {
		struct proxy_client *o;

		p->next_session = (p->next_session + 1) & PROXY_SESSION_MASK;
		if (p->next_session == 0)
			continue;
		for (o = p->clients; o != NULL && o->session != p->next_session; o = o->next)
			;
		if (o == NULL)
			break;
	}
	c->session = p->next_session;
	c->key = proxy_random32();
	c->next = p->clients;
	if (p->clients)
		p->clients->prev = c;
	p->clients = c;
	p->nclients++;
	p->clients_total++;
	proxy_publish(p);

	c->ev_read = event_new(p->base, fd, EV_READ | EV_PERSIST, proxy_client_read_cb, c);
	c->ev_write = event_new(p->base, fd, EV_WRITE | EV_PERSIST, proxy_client_write_cb, c);
	c->ev_timer = evtimer_new(p->base, proxy_auth_timeout_cb, c);
	if (c->ev_read == NULL || c->ev_write == NULL || c->ev_timer == NULL ||
	    evtimer_add(c->ev_timer, &tv) < 0) {
		log_error("cannot create the events of a client connection");
		c->dead = true;
	}
	proxy_client_done(c);
}

static void
proxy_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct proxy *p = arg;
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, i, one = 1;

	for (i = 0; i < PROXY_ACCEPT_BATCH && p->accepting; i++) {
		sslen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct timeval tv = {0, PROXY_EMFILE_PAUSE_MS * 1000};
				int k;

				log_warn("accept() failed: %s; not accepting for %d ms (raise the "
				         "open files limit or lower [proxy] max_clients)",
				         strerror(errno), PROXY_EMFILE_PAUSE_MS);
				for (k = 0; k < p->ls->n; k++)
					event_del(p->ev_listen[k]);
				evtimer_add(p->ev_accept_pause, &tv);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_warn("accept() failed: %s", strerror(errno));
			}
			return;
		}
		if (ss.ss_family != AF_UNIX)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		proxy_client_new(p, fd, &ss);
	}
}

static void
proxy_accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *p = arg;
	int k;

	for (k = 0; p->accepting && k < p->ls->n; k++)
		event_add(p->ev_listen[k], NULL);
}

/* ---- cancel ---- */

static void *
proxy_cancel_thread(void *arg)
{
	struct proxy_cancel_job *cj = arg;
	char err[256];

	if (!PQcancel(cj->cancel->pc, err, sizeof(err)))
		log_warn("could not send a cancel request to the upstream: %s", err);
	/* the upstream has it: now the client's cancel connection may close */
	proxy_close_fd(cj->hold_fd);
	proxy_cancel_unref(cj->cancel);
	free(cj);
	__atomic_sub_fetch(&proxy_cancel_threads, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* A CancelRequest for one of our clients: the upstream gets one for that client's session.
 * PQcancel() blocks, so it runs on a thread of its own. */
static void
proxy_cancel_local(struct proxy *p, uint32_t pid, uint32_t key, int hold_fd)
{
	struct proxy_client *c;
	struct proxy_cancel_job *cj;
	pthread_attr_t attr;
	pthread_t th;

	for (c = p->clients; c != NULL; c = c->next)
		if (c->session == (pid & PROXY_SESSION_MASK))
			break;
	/* no timing hint: the key is compared in full whether the session exists or not */
	if (c == NULL || ((c->key ^ key) | (c->state != PC_READY)) != 0) {
		log_debug("CancelRequest for process %u does not match a session", pid);
		proxy_close_fd(hold_fd);
		return;
	}
	if (c->waiting_job != NULL) {
		/* waiting for the copy: canceled before it ran */
		struct localexec_job *job = proxy_wait_end(c);

		job->status = LOCALEXEC_CANCELED;
		proxy_local_finish(c, job);
		if (c->finished_job != job)
			localexec_job_free(job);
		proxy_client_done(c);
		proxy_close_fd(hold_fd);
		return;
	}
	if (c->held && c->ticket != 0) {
		localexec_cancel(p->ex, c->ticket); /* the statement runs here, not upstream */
		proxy_close_fd(hold_fd);
		return;
	}
	if (c->cancel == NULL || c->cancel->pc == NULL) {
		proxy_close_fd(
		        hold_fd); /* no upstream connection (serve_stale): nothing runs there */
		return;
	}
	if (__atomic_add_fetch(&proxy_cancel_threads, 1, __ATOMIC_RELAXED) >
	    PROXY_CANCEL_THREADS_MAX) {
		__atomic_sub_fetch(&proxy_cancel_threads, 1, __ATOMIC_RELAXED);
		log_warn("too many cancel requests in flight, dropping one for client %s", c->addr);
		proxy_close_fd(hold_fd);
		return;
	}
	cj = xmalloc(sizeof(*cj));
	cj->cancel = c->cancel;
	cj->hold_fd = hold_fd;
	__atomic_add_fetch(&cj->cancel->refs, 1, __ATOMIC_ACQ_REL);
	log_debug("client %s: passing a cancel request to the upstream", c->addr);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, proxy_cancel_thread, cj) != 0) {
		log_warn("cannot start a thread for a cancel request");
		proxy_cancel_unref(cj->cancel);
		proxy_close_fd(cj->hold_fd);
		free(cj);
		__atomic_sub_fetch(&proxy_cancel_threads, 1, __ATOMIC_RELAXED);
	}
	pthread_attr_destroy(&attr);
}

/* ---- waiting for the copy ---- */

static int
proxy_wait_start(struct proxy *p)
{
	p->wait_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->wait_efd < 0) {
		log_error("eventfd: %s", strerror(errno));
		return -1;
	}
	p->ev_wait = event_new(p->base, p->wait_efd, EV_READ | EV_PERSIST, proxy_wait_wake_cb, p);
	if (p->ev_wait == NULL || event_add(p->ev_wait, NULL) < 0 ||
	    pthread_create(&p->wait_thread, NULL, proxy_wait_thread, p) != 0) {
		log_error("cannot start the proxy worker's waiter");
		return -1;
	}
	p->wait_thread_on = true;
	return 0;
}

static void
proxy_wait_stop(struct proxy *p)
{
	if (p->wait_thread_on) {
		pthread_mutex_lock(&p->wait_lock);
		p->wait_stop = true;
		pthread_cond_signal(&p->wait_cond);
		pthread_mutex_unlock(&p->wait_lock);
		pthread_join(p->wait_thread, NULL);
		p->wait_thread_on = false;
	}
	proxy_event_free(&p->ev_wait);
	if (p->wait_efd >= 0)
		close(p->wait_efd);
	p->wait_efd = -1;
}

/* ---- the channel ---- */

static void
proxy_shutdown_clients(struct proxy *p)
{
	struct proxy_client *c, *next;

	for (c = p->clients; c != NULL; c = next) {
		next = c->next;
		if (c->state == PC_READY)
			proxy_client_error(c, "FATAL", "57P01",
			                   "terminating connection due to administrator command",
			                   NULL, NULL);
		proxy_client_flush(c);
		proxy_client_free(c);
	}
}

static void
proxy_chan_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *p = arg;
	char buf[CHAN_MAX_PAYLOAD];
	struct proxy_cancel_msg m;
	uint32_t type;
	size_t len;
	int rfd = -1, rc;

	for (;;) {
		rfd = -1;
		rc = chan_recv(fd, &type, buf, sizeof(buf), &len, &rfd);
		if (rc <= 0 && rfd >= 0)
			close(rfd);
		if (rc == SQE_AGAIN)
			return;
		if (rc <= 0) {
			if (p->stopping) {
				/* the master closes the channel after QUIT: the sessions still end
				 * as their statements do (or at shutdown_timeout) */
				event_del(p->ev_chan);
				return;
			}
			if (rc == 0)
				log_info("master went away; stopping");
			p->quit = true;
			event_base_loopbreak(p->base);
			return;
		}
		if (type == CHAN_MSG_QUIT) {
			proxy_begin_stop(p);
			continue;
		}
		if (type == CHAN_MSG_CANCEL_FWD && len == sizeof(m)) {
			memcpy(&m, buf, sizeof(m));
			proxy_cancel_local(p, m.pid, m.key, rfd); /* the client's connection */
			rfd = -1;
		} else if (type == CHAN_MSG_RELOAD) {
			proxy_reload(p);
		} else if (type == CHAN_MSG_RETIRE) {
			proxy_retire(p);
		} else if ((type == CHAN_MSG_LOGIN_CACHE || type == CHAN_MSG_LOGIN_FORGET) &&
		           rfd >= 0) {
			proxy_lcache_receive(p, rfd);
		} else {
			log_warn("unexpected channel message type %u (%zu bytes)", type, len);
		}
		if (rfd >= 0)
			close(rfd);
	}
}

/* ---- the worker ---- */

/* (Re)reads [proxy] auth_file (as proxy_hba_load() the rules). */
static void
proxy_users_load(struct proxy *p, bool reload)
{
	struct strbuf err;
	struct scram_users *u = NULL;

	if (p->cfg->proxy_auth_file[0] == '\0') {
		scram_users_free(p->users);
		p->users = NULL;
		return;
	}
	strbuf_init(&err);
	if (scram_users_load(p->cfg->proxy_auth_file, &u, &err) < 0) {
		log_error("%s%s", strbuf_str(&err),
		          reload ? "the worker keeps the users it has" : "nobody is known");
	} else {
		scram_users_free(p->users);
		p->users = u;
	}
	strbuf_free(&err);
}

/* (Re)reads [proxy] hba_file. A file that cannot be read at start lets nobody in (the master
 * checked it before; it changed since); after a reload the rules the worker had stay. */
static void
proxy_hba_load(struct proxy *p, bool reload)
{
	struct strbuf err;
	struct hba *h = NULL;

	if (p->cfg->proxy_hba_file[0] == '\0') {
		hba_free(p->hba);
		p->hba = NULL;
		p->hba_broken = false;
		return;
	}
	strbuf_init(&err);
	if (hba_load(p->cfg->proxy_hba_file, &h, &err) < 0) {
		log_error("%s%s", strbuf_str(&err),
		          reload ? "the worker keeps the address rules it has"
		                 : "no client can log in until they can be read (reload)");
		p->hba_broken = p->hba_broken || !reload || (p->hba == NULL);
	} else {
		hba_free(p->hba);
		p->hba = h;
		p->hba_broken = false;
	}
	strbuf_free(&err);
}

/* (Re)reads the TLS certificate and key: sessions keep the context they started with, new
 * ones get the new one; on failure the worker keeps what it had (logged). */
static void
proxy_tls_load(struct proxy *p, bool reload)
{
	struct strbuf err;
	SSL_CTX *ctx;

	strbuf_init(&err);
	ctx = tls_server_ctx(p->cfg, &err);
	if (ctx == NULL && err.len > 0) {
		log_error("%s%s", strbuf_str(&err),
		          reload && p->tls ? "; TLS goes on with the certificate loaded before"
		                           : "");
	} else {
		SSL_CTX_free(p->tls);
		p->tls = ctx;
	}
	strbuf_free(&err);
}

/* The master reloaded the configuration: this worker reads it too, and takes what may change
 * live (the master has logged the changes). Settings read at each use need nothing more. */
static void
proxy_reload(struct proxy *p)
{
	struct strbuf errs;

	strbuf_init(&errs);
	if (cfg_reload_file((struct cfg *)p->cfg, &errs) < 0)
		log_error("the configuration changed again while reloading; this worker keeps "
		          "the one it has: %s",
		          strbuf_str(&errs));
	strbuf_free(&errs);
	p->eventual = strcmp(p->cfg->proxy_consistency, "eventual") == 0;
	p->serve_stale = strcmp(p->cfg->proxy_on_upstream_down, "serve_stale") == 0;
	proxy_tls_load(p, true);
	proxy_hba_load(p, true);
	proxy_users_load(p, true);
	proxy_lcache_config(p);
}

/* A session that is not running a statement ends now that the worker stops (FATAL 57P01, as
 * PostgreSQL's fast shutdown); one that is ends when its statement is done. */
static void
proxy_stop_client(struct proxy_client *c)
{
	/* (a session from the login cache waiting in the queue for its first upstream
	 * connection is busy: its statement runs when one frees up) */
	bool busy =
	        c->state == PC_READY &&
	        (c->pending > 0 || c->held || c->checking || c->swallow > 0 || c->reconnecting ||
	         c->msg_left > 0 || c->scan != c->cout.len || proxy_buf_pending(&c->cout) > 0);

	if (c->dead || busy || c->state == PC_CLOSING || c->state == PC_LINGER ||
	    c->state == PC_DRAIN)
		return;
	/* one waiting for an upstream connection, or logging in, gets none */
	if (c->state == PC_QUEUED)
		proxy_queue_remove(c);
	if (c->state == PC_QUEUED || c->state == PC_CONNECTING)
		proxy_up_close(c);
	proxy_client_error(c, "FATAL", "57P01",
	                   "terminating connection due to administrator command", NULL, NULL);
	proxy_client_flush(c);
}

static void
proxy_stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *p = arg;

	log_warn("statements still running after [proxy] shutdown_timeout (%d s): their sessions "
	         "end now",
	         p->cfg->proxy_shutdown_timeout);
	p->quit = true;
	event_base_loopbreak(p->base);
}

/* The master stops sqledge: no new clients; idle sessions end at once, the others when their
 * statement is done, all of them after shutdown_timeout at the latest. */
static void
proxy_begin_stop(struct proxy *p)
{
	struct timeval tv = {p->cfg->proxy_shutdown_timeout, 0};
	struct proxy_client *c, *next;
	int k;

	if (p->stopping)
		return;
	p->stopping = true;
	p->accepting = false;
	for (k = 0; k < p->ls->n; k++)
		if (p->ev_listen[k])
			event_del(p->ev_listen[k]);
	for (c = p->clients; c != NULL; c = next) {
		next = c->next;
		proxy_stop_client(c);
		proxy_client_done(c);
	}
	if (p->nclients == 0 || p->cfg->proxy_shutdown_timeout == 0) {
		p->quit = true;
		event_base_loopbreak(p->base);
		return;
	}
	log_info("stopping: %llu sessions end when their statements are done",
	         (unsigned long long)p->nclients);
	p->ev_stop = evtimer_new(p->base, proxy_stop_timeout_cb, p);
	if (p->ev_stop == NULL || evtimer_add(p->ev_stop, &tv) < 0) {
		p->quit = true;
		event_base_loopbreak(p->base);
	}
}

/* Fewer workers after a reload: this one takes no new clients and leaves once its last client
 * has (none is dropped). */
static void
proxy_retire(struct proxy *p)
{
	int k;

	p->retiring = true;
	p->accepting = false;
	for (k = 0; k < p->ls->n; k++)
		if (p->ev_listen[k])
			event_del(p->ev_listen[k]);
	log_info("no new clients for this worker; it leaves after its last client (%llu now)",
	         (unsigned long long)p->nclients);
	if (p->nclients == 0) {
		p->quit = true;
		event_base_loopbreak(p->base);
	}
}

/* libpq reads PG* variables of the daemon's environment; none of them may shape a client's
 * session (PGOPTIONS, PGTZ) or log a client in (PGPASSWORD). */
static void
proxy_clear_libpq_env(void)
{
	extern char **environ;
	char name[128];
	size_t i;

	for (i = 0; environ[i] != NULL;) {
		const char *eq = strchr(environ[i], '=');

		if (strncmp(environ[i], "PG", 2) == 0 && eq &&
		    (size_t)(eq - environ[i]) < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - environ[i]), environ[i]);
			unsetenv(name);
			continue;
		}
		i++;
	}
}

static bool
proxy_host_is_numeric(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
}

int
proxy_worker_main(const struct cfg *cfg, int index, int chan_fd, struct shm_state *shm,
                  const struct listen_set *ls)
{
	struct proxy *p = xcalloc(1, sizeof(*p));
	int code = EXIT_RESPAWN, k;

	p->cfg = cfg;
	p->index = index;
	p->shm = shm;
	p->slot = &shm->proxy[index];
	p->ls = ls;
	p->chan_fd = chan_fd;
	p->queue_tail = &p->queue;
	p->accepting = true;
	p->wait_efd = -1;
	p->eventual = strcmp(cfg->proxy_consistency, "eventual") == 0;
	p->serve_stale = strcmp(cfg->proxy_on_upstream_down, "serve_stale") == 0;
	proxy_tls_load(p, false);
	proxy_hba_load(p, false);
	proxy_users_load(p, false);
	pthread_mutex_init(&p->wait_lock, NULL);
	pthread_cond_init(&p->wait_cond, NULL);
	if (proxy_devnull < 0)
		proxy_devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pgw_decoder_init(&p->dec);
	pgw_decoder_init(&p->dec_parse);
	pgw_decoder_init(&p->dec_bind);
	pgw_decoder_init(&p->dec_misc);
	signal(SIGPIPE, SIG_IGN);
	proxy_clear_libpq_env();
	setenv("KRB5CCNAME", "FILE:" PROXY_NO_FILE, 1);
	p->unix_host = cfg->upstream_address[0] == '/' || cfg->upstream_address[0] == '@';
	p->numeric_host = proxy_host_is_numeric(cfg->upstream_address);

	p->base = event_base_new();
	if (p->base == NULL) {
		log_error("could not create an event base");
		goto out;
	}
	if (!p->numeric_host && !p->unix_host) {
		p->dns = evdns_base_new(p->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (p->dns == NULL)
			log_warn("cannot read the resolver configuration; upstream host name "
			         "\"%s\" is looked up by libpq, which blocks",
			         cfg->upstream_address);
	}
	/* the callback reads until the channel is empty */
	if (evutil_make_socket_nonblocking(chan_fd) < 0) {
		log_error("cannot make the channel non-blocking");
		goto out;
	}
	p->ev_chan = event_new(p->base, chan_fd, EV_READ | EV_PERSIST, proxy_chan_cb, p);
	p->ev_queue = evtimer_new(p->base, proxy_queue_cb, p);
	p->ev_accept_pause = evtimer_new(p->base, proxy_accept_resume_cb, p);
	p->ev_lcache = evtimer_new(p->base, proxy_lcache_timer_cb, p);
	if (p->ev_chan == NULL || p->ev_queue == NULL || p->ev_accept_pause == NULL ||
	    p->ev_lcache == NULL || event_add(p->ev_chan, NULL) < 0) {
		log_error("cannot set up the worker's events");
		goto out;
	}
	proxy_lcache_config(p);
	for (k = 0; k < ls->n; k++) {
		p->ev_listen[k] =
		        event_new(p->base, ls->fd[k], EV_READ | EV_PERSIST, proxy_accept_cb, p);
		if (p->ev_listen[k] == NULL || event_add(p->ev_listen[k], NULL) < 0) {
			log_error("cannot watch listening socket %s", ls->name[k]);
			goto out;
		}
	}

	strbuf_init(&p->check_sql);
	if (cfg->proxy_local_reads) {
		p->ex = localexec_start(p->base, cfg->local_db_path, shm, PROXY_LOCAL_MAX_RESULT,
		                        proxy_local_done, p);
		if (p->ex == NULL)
			log_warn("local reads are off in proxy worker %d", index);
		else if (proxy_wait_start(p) < 0)
			goto out;
	}
	log_debug("proxy worker %d accepting", index);
	if (event_base_dispatch(p->base) < 0)
		log_error("event loop failed");
	else if (p->quit)
		code = 0;
	p->accepting = false;
	proxy_shutdown_clients(p);
out:
	for (k = 0; k < ls->n; k++)
		proxy_event_free(&p->ev_listen[k]);
	proxy_event_free(&p->ev_chan);
	proxy_event_free(&p->ev_queue);
	proxy_event_free(&p->ev_accept_pause);
	proxy_event_free(&p->ev_lcache);
	proxy_event_free(&p->ev_stop);
	proxy_event_free(&p->ev_snap);
	proxy_wait_stop(p);
	if (p->dns)
		evdns_base_free(p->dns, 1);
	if (p->base)
		event_base_free(p->base);
	localexec_stop(p->ex);
	localcat_free(p->cat);
	proxy_stmts_clear(p);
	sqlite3_finalize(p->cat_version_st);
	sqlite3_close(p->cat_db);
	strbuf_free(&p->check_sql);
	logincache_free(p->lcache);
	for (k = 0; k < PROXY_SHAPES; k++)
		free(p->shapes[k].text);
	pgw_decoder_free(&p->dec);
	pgw_decoder_free(&p->dec_parse);
	pgw_decoder_free(&p->dec_bind);
	pgw_decoder_free(&p->dec_misc);
	free(p);
	return code;
}

/* ---- libpq's connection errors ---- */

static bool
proxy_is_sqlstate(const char *s)
{
	int i;

	for (i = 0; i < 5; i++)
		if (!isdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]))
			return false;
	return s[5] == ':' && s[6] == ' ';
}

/* Cuts s at the end of its line and returns the start of the next one. */
static char *
proxy_cut_line(char *s)
{
	char *nl = strchr(s, '\n');

	if (nl == NULL)
		return s + strlen(s);
	*nl = '\0';
	return nl + 1;
}

void
proxy_parse_conn_error(const char *msg, char *buf, size_t size, struct proxy_conn_error *out)
{
	static const char *const severities[] = {"FATAL:  ", "ERROR:  ", "PANIC:  "};
	char *p = NULL, *q, *line;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	snprintf(buf, size, "%s", msg);
	for (i = 0; i < ARRAY_SIZE(severities); i++) {
		q = strstr(buf, severities[i]);
		if (q && (p == NULL || q < p))
			p = q;
	}
	if (p == NULL) {
		/* libpq's own failure: one line, without the trailing newline */
		for (q = buf; *q; q++)
			if (*q == '\n' || *q == '\t')
				*q = q[1] ? ' ' : '\0';
		n = strlen(buf);
		while (n > 0 && buf[n - 1] == ' ')
			buf[--n] = '\0';
		out->message = buf;
		return;
	}
	p[5] = '\0';
	out->severity = p;
	p += 8;
	if (proxy_is_sqlstate(p)) {
		p[5] = '\0';
		out->code = p;
		p += 7;
	}
	out->message = p;
	line = proxy_cut_line(p);
	while (*line) {
		p = line;
		line = proxy_cut_line(p);
		if (strncmp(p, "DETAIL:  ", 9) == 0)
			out->detail = p + 9;
		else if (strncmp(p, "HINT:  ", 7) == 0)
			out->hint = p + 7;
	}
}
