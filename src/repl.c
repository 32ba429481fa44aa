/* SPDX-License-Identifier: MIT */
/* The replication worker: the only process that writes the SQLite copy. It connects, decides
 * between resuming and an initial sync, then applies the pgoutput stream, confirming upstream
 * only what SQLite has durably committed. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "apply.h"
#include "cfg.h"
#include "chan.h"
#include "log.h"
#include "pgoutput.h"
#include "rbuf.h"
#include "repl.h"
#include "shm.h"
#include "store.h"
#include "sync.h"
#include "upstream.h"
#include "util.h"

#define REPL_HEARD_MAX 64
#define REPL_TICK_MIN_US 100000
#define REPL_HEARD_US 20000     /* positions heard within this long share one entry */
#define REPL_HOLD_TICK_US 20000 /* how often a hold is looked at */
#define REPL_HOLD_MAX_US (120 * INT64_C(1000000)) /* a verify may hold the copy this long */
/* catalog checks after DDL: at most this often */
#define REPL_DDL_CHECK_US (2 * INT64_C(1000000))

struct repl {
	const struct cfg *cfg;
	struct shm_state *shm;
	int chan_fd;
	struct event_base *base;
	struct event *ev_chan;
	struct event *ev_sock;
	struct event *ev_tick;
	struct event *ev_wake;
	struct event *ev_hold_wake; /* a verifier changed its hold */
	struct event *ev_hold;      /* looks at the hold while one is asked for */

	PGconn *conn;
	sqlite3 *db;
	struct apply *apply;
	struct pgo_decoder dec;

	uint64_t received_lsn;
	uint64_t upstream_lsn;
	uint64_t flushed_lsn; /* what we report as flushed */
	int64_t last_status_us;
	int64_t last_recv_us;
	int64_t reply_every_us; /* a status that asks for a reply at least this often */
	/* When positions were heard of (local realtime): once the copy has applied lsn, it is
	 * current as of at_us, which is what the proxies' max_lag is measured against. */
	struct {
		uint64_t lsn;
		int64_t at_us;
	} heard[REPL_HEARD_MAX];
	unsigned heard_first, heard_n;
	int session_result;       /* set when the stream loop ends */
	int64_t silence_limit_us; /* no message for this long: the link is dead */
	bool quit;
	bool resync_requested; /* sqledgectl resync: the next session makes a new copy */
	bool decommission;     /* sqledgectl decommission: drop the slot, then wait for QUIT */
	bool was_streaming;
	bool outage_logged;
	int failures;

	/* sqledgectl verify's hold (shm hold_req): the Begin of the first transaction the hold
	 * keeps out waits here, unapplied, and nothing more is read meanwhile */
	char *held; /* the frame, from PQgetCopyData() */
	int held_len;
	uint64_t hold_req;     /* the request being served, 0 when none */
	int64_t hold_since_us; /* when it was first seen */
	uint64_t quiet_lsn;    /* walEnd of the last keepalive heard outside a transaction */
	int64_t reconciled_us; /* when the copy's tables were last checked against the catalog */
	bool reconcile_soon;   /* a DDL message came: check again soon */
};

/* libpq's messages span lines; the log has one line per event */
static const char *
one_line(struct strbuf *sb)
{
	size_t i, o = 0;

	for (i = 0; i < sb->len; i++) {
		char c = sb->data[i];

		if (c == '\n' || c == '\t')
			c = ' ';
		if (c == ' ' && o > 0 && sb->data[o - 1] == ' ')
			continue;
		sb->data[o++] = c;
	}
	while (o > 0 && sb->data[o - 1] == ' ')
		o--;
	if (sb->data)
		sb->data[o] = '\0';
	sb->len = o;
	return strbuf_str(sb);
}

static void
repl_set_state(struct repl *r, enum repl_state st)
{
	shm_store(r->shm->repl_state, (uint32_t)st);
}

/* Logs the first failure of an outage; the retries that follow go to the debug level, so a
 * long outage makes one line, not thousands. The status always shows the latest. */
static void
repl_report(struct repl *r, const char *msg)
{
	if (!r->outage_logged) {
		log_error("%s", msg);
		r->outage_logged = true;
	} else {
		log_debug("%s", msg);
	}
	SHM_SET_STR(r->shm, last_error, msg);
}

/* How often a status asks the upstream for a reply, and the tick: an idle copy must hear from
 * the upstream well within max_lag, or it would look behind. */
static void
repl_reply_every(struct repl *r, struct timeval *tick)
{
	const struct cfg *cfg = r->cfg;

	r->reply_every_us = (int64_t)cfg->replication_status_interval * 1000000;
	if (cfg->proxy_max_lag > 0 && r->reply_every_us > (int64_t)cfg->proxy_max_lag * 250)
		r->reply_every_us = (int64_t)cfg->proxy_max_lag * 250;
	if (r->reply_every_us < REPL_TICK_MIN_US)
		r->reply_every_us = REPL_TICK_MIN_US;
	tick->tv_sec = 1;
	tick->tv_usec = 0;
	if (r->reply_every_us < 1000000) {
		tick->tv_sec = 0;
		tick->tv_usec = (suseconds_t)r->reply_every_us;
	}
}

/* ---- the channel and signals ---- */

static void
on_chan(evutil_socket_t fd, short what, void *arg)
{
	struct repl *r = arg;
	char buf[CHAN_MAX_PAYLOAD];
	uint32_t type;
	size_t len;
	int rfd = -1;
	int rc = chan_recv(fd, &type, buf, sizeof(buf), &len, &rfd);

	if (rfd >= 0)
		close(rfd);
	if (rc == SQE_AGAIN)
		return;
	if (rc <= 0 || type == CHAN_MSG_QUIT) {
		if (rc == 0)
			log_info("master went away; stopping");
		r->quit = true;
		event_base_loopbreak(r->base);
	} else if (type == CHAN_MSG_RESYNC || type == CHAN_MSG_DECOMMISSION) {
		if (type == CHAN_MSG_RESYNC) {
			log_info("a new copy was asked for (sqledgectl resync); the current one "
			         "keeps "
			         "serving until it is done");
			r->resync_requested = true;
		} else {
			log_info(
			        "decommissioning: dropping replication slot \"%s\" on the upstream",
			        r->cfg->replication_slot_name);
			r->decommission = true;
		}
		/* the streaming session ends; the loop takes it from there */
		r->session_result = UPSTREAM_RETRY;
		event_base_loopbreak(r->base);
	} else if (type == CHAN_MSG_RELOAD) {
		struct strbuf errs;

		/* the master has logged the changes; the new values apply at their next use */
		strbuf_init(&errs);
		if (cfg_reload_file((struct cfg *)r->cfg, &errs) < 0)
			log_error("the configuration changed again while reloading; the "
			          "replication worker keeps the one it has: %s",
			          strbuf_str(&errs));
		strbuf_free(&errs);
		if (r->ev_tick != NULL) {
			/* max_lag may have changed how often the upstream is asked */
			struct timeval tick;

			repl_reply_every(r, &tick);
			event_del(r->ev_tick);
			event_add(r->ev_tick, &tick);
		}
	}
}

static bool hold_admits(uint64_t req, uint64_t final_lsn);
static uint64_t frame_final_lsn(const char *buf, int n);
static void hold_settle(struct repl *r);
static void hold_keep(struct repl *r, char *buf, int n);
static void hold_update(struct repl *r);
static void stream_end(struct repl *r, int result);
static void stream_drain(struct repl *r);

/* ---- position reporting ---- */

/* The upstream's end of WAL was lsn when a message came, now. */
static void
heard_of(struct repl *r, uint64_t lsn)
{
	int64_t now = time_real_us();
	unsigned last = (r->heard_first + r->heard_n - 1) % REPL_HEARD_MAX;

	if (r->heard_n > 0 &&
	    (now - r->heard[last].at_us < REPL_HEARD_US || r->heard_n == REPL_HEARD_MAX)) {
		/* the later position with the earlier time: the copy that has it is current
		 * as of at least that time */
		if (lsn > r->heard[last].lsn)
			r->heard[last].lsn = lsn;
		return;
	}
	last = (r->heard_first + r->heard_n++) % REPL_HEARD_MAX;
	r->heard[last].lsn = lsn;
	r->heard[last].at_us = now;
}

static void
update_lag(struct repl *r)
{
	uint64_t applied = shm_load(r->shm->applied_lsn);
	int64_t current = 0;

	shm_store(r->shm->upstream_lsn, r->upstream_lsn);
	shm_store(r->shm->received_lsn, r->received_lsn);
	while (r->heard_n > 0 && r->heard[r->heard_first].lsn <= applied) {
		current = r->heard[r->heard_first].at_us;
		r->heard_first = (r->heard_first + 1) % REPL_HEARD_MAX;
		r->heard_n--;
	}
	if (current > 0)
		shm_store(r->shm->caught_up_time_us, current);
}

static int
send_status(struct repl *r, bool reply_requested)
{
	uint8_t msg[PGO_STATUS_LEN];
	uint64_t flush = apply_durable_lsn(r->apply);

	if (flush > r->flushed_lsn)
		r->flushed_lsn = flush;
	pgo_build_status(msg, r->received_lsn > r->flushed_lsn ? r->received_lsn : r->flushed_lsn,
	                 r->flushed_lsn, r->flushed_lsn, pg_time_now(), reply_requested);
	/* non-blocking: 0 or a partial flush means the socket is full; libpq keeps the rest and
	 * the next status (at most one interval away) pushes it out */
	if (PQputCopyData(r->conn, (const char *)msg, sizeof(msg)) < 0 || PQflush(r->conn) < 0) {
		log_error("upstream: could not send a status update: %s", PQerrorMessage(r->conn));
		return -1;
	}
	shm_store(r->shm->flushed_lsn, r->flushed_lsn);
	r->last_status_us = time_mono_us();
	return 0;
}

static int
flush_batch(struct repl *r)
{
	if (!apply_batch_open(r->apply) || apply_in_transaction(r->apply))
		return 0;
	if (apply_flush(r->apply) < 0)
		return -1;
	update_lag(r);
	/* confirm at once: the slot can free WAL and read-your-writes waits end sooner */
	return send_status(r, false);
}

/* ---- the stream ---- */

/* Called while a table is being copied: the walsender must keep hearing from us. */
static void
table_sync_progress(void *arg)
{
	struct repl *r = arg;

	if (time_mono_us() - r->last_status_us >=
	    (int64_t)r->cfg->replication_status_interval * 1000000)
		(void)send_status(r, false);
}

static int
handle_xlogdata(struct repl *r, const struct pgo_xlogdata *xl)
{
	struct pgo_msg m;
	int rc = 0;

	if (pgo_decode(&r->dec, xl->data, xl->len, &m) < 0) {
		log_error("malformed pgoutput message: %s", r->dec.errmsg);
		return -1;
	}
	switch (m.type) {
	case PGO_BEGIN:
		rc = apply_begin(r->apply, &m.u.begin);
		break;
	case PGO_COMMIT:
		rc = apply_commit(r->apply, &m.u.commit);
		if (m.u.commit.end_lsn > r->received_lsn)
			r->received_lsn = m.u.commit.end_lsn;
		break;
	case PGO_RELATION:
		rc = apply_relation(r->apply, &m.u.relation);
		if (rc == APPLY_TABLESYNC) {
			char label[160];

			snprintf(label, sizeof(label), "\"%s\".\"%s\"",
			         m.u.relation.nspname[0] ? m.u.relation.nspname : "pg_catalog",
			         m.u.relation.relname);
			rc = sync_table(r->cfg, r->apply, r->shm, m.u.relation.relid, label,
			                table_sync_progress, r) == 0
			             ? 0
			             : -1;
		}
		break;
	case PGO_TYPE:
		rc = apply_type(r->apply, &m.u.typ);
		break;
	case PGO_INSERT:
		rc = apply_insert(r->apply, &m.u.insert);
		break;
	case PGO_UPDATE:
		rc = apply_update(r->apply, &m.u.update);
		break;
	case PGO_DELETE:
		rc = apply_delete(r->apply, &m.u.del);
		break;
	case PGO_TRUNCATE:
		rc = apply_truncate(r->apply, &m.u.truncate);
		break;
	case PGO_ORIGIN:
		log_debug("transaction replayed from origin \"%s\"", m.u.origin.name);
		break;
	case PGO_MESSAGE:
		log_debug("logical decoding message with prefix \"%s\" (%" PRIu32 " bytes%s)",
		          m.u.message.prefix, m.u.message.len,
		          (m.u.message.flags & PGO_MESSAGE_TRANSACTIONAL) ? ", transactional" : "");
		/* ddl_trigger: the catalog check runs at the next tick */
		if (strcmp(m.u.message.prefix, UPSTREAM_DDL_PREFIX) == 0)
			r->reconcile_soon = true;
		break;
	}
	return rc;
}

static int
handle_keepalive(struct repl *r, const struct pgo_keepalive *ka)
{
	if (ka->wal_end > r->upstream_lsn)
		r->upstream_lsn = ka->wal_end;
	if (!apply_in_transaction(r->apply) && !apply_batch_open(r->apply)) {
		/* nothing pending: every transaction before walEnd has been applied, so the
		 * position moves on even when the upstream writes nothing we replicate */
		if (ka->wal_end > apply_durable_lsn(r->apply) &&
		    apply_advance(r->apply, ka->wal_end) < 0)
			return -1;
		if (ka->wal_end > r->received_lsn)
			r->received_lsn = ka->wal_end;
	}
	if (!apply_in_transaction(r->apply)) {
		/* every transaction that commits before walEnd has come */
		if (ka->wal_end > r->quiet_lsn)
			r->quiet_lsn = ka->wal_end;
		if (r->hold_req != 0)
			hold_settle(r);
	}
	update_lag(r);
	return 0;
}

static void
stream_end(struct repl *r, int result)
{
	r->session_result = result;
	event_base_loopbreak(r->base);
}

/* Handles one frame of the stream (and frees it). */
static int
handle_frame(struct repl *r, char *buf, int n)
{
	struct pgo_xlogdata xl;
	struct pgo_keepalive ka;
	int kind, rc = 0;

	kind = pgo_parse_frame((const uint8_t *)buf, (size_t)n, &xl, &ka);
	if (kind == 'w') {
		if (xl.wal_end > r->upstream_lsn)
			r->upstream_lsn = xl.wal_end;
		heard_of(r, xl.wal_end);
		rc = handle_xlogdata(r, &xl);
	} else if (kind == 'k') {
		heard_of(r, ka.wal_end);
		rc = handle_keepalive(r, &ka);
		if (rc == 0 && ka.reply_requested && send_status(r, false) < 0)
			rc = -1;
	} else {
		log_error("unrecognized streaming frame (%d bytes, kind 0x%02x)", n,
		          (unsigned char)buf[0]);
		rc = -1;
	}
	PQfreemem(buf);
	return rc;
}

/* ---- sqledgectl verify's hold ----
 *
 * The verifier asks for a pause (no transaction that has not begun is applied), makes a
 * snapshot upstream at a position P, then asks to hold at P: every transaction that commits
 * before P is applied and none after. That is the copy the snapshot stands for. */

/* The commit position of the transaction a frame begins; 0 for any other frame. */
static uint64_t
frame_final_lsn(const char *buf, int n)
{
	struct pgo_xlogdata xl;
	struct pgo_keepalive ka;

	if (pgo_parse_frame((const uint8_t *)buf, (size_t)n, &xl, &ka) != 'w' || xl.len < 9 ||
	    xl.data[0] != PGO_BEGIN)
		return 0;
	return be_get_u64(xl.data + 1);
}

/* Whether a transaction whose commit record is at final_lsn may be applied under req (0: not
 * a transaction's beginning, always). */
static bool
hold_admits(uint64_t req, uint64_t final_lsn)
{
	return req == 0 || final_lsn == 0 || (req != SHM_HOLD_PAUSE && final_lsn < req);
}

static void
hold_set_state(struct repl *r, enum hold_state st)
{
	pid_t owner = st == HOLD_NONE ? 0 : shm_load(r->shm->hold_owner);

	/* the state first, then whose request it answers: a verifier that sees its own pid
	 * reads a state meant for it */
	shm_store(r->shm->hold_ack_owner, 0);
	shm_store(r->shm->hold_state, (uint32_t)st);
	shm_store(r->shm->hold_ack_owner, owner);
}

/* Nothing is being applied: the copy is paused, or at the held position once what it has
 * is committed (a reader's snapshot must see it). */
static void
hold_settle(struct repl *r)
{
	enum hold_state st = HOLD_PAUSED;

	if (r->hold_req == 0 || apply_in_transaction(r->apply))
		return;
	if (r->hold_req != SHM_HOLD_PAUSE) {
		if (r->held == NULL && r->quiet_lsn < r->hold_req)
			return; /* transactions before the position may still come */
		st = HOLD_AT;
	}
	/* what has been applied is committed: the verifier's snapshot sees it, and neither
	 * readers nor read-your-writes waits wait for the pause to end */
	if (flush_batch(r) < 0) {
		stream_end(r, UPSTREAM_RETRY);
		return;
	}
	if (shm_load(r->shm->hold_state) != (uint32_t)st ||
	    shm_load(r->shm->hold_ack_owner) != shm_load(r->shm->hold_owner))
		hold_set_state(r, st);
}

/* Keeps back the Begin in buf: nothing more is read until the hold lets it through. */
static void
hold_keep(struct repl *r, char *buf, int n)
{
	r->held = buf;
	r->held_len = n;
	event_del(r->ev_sock); /* libpq would buffer the stream in memory meanwhile */
	hold_settle(r);
}

/* Lets the held frame through and reads on. */
static void
hold_release(struct repl *r)
{
	char *buf = r->held;

	r->held = NULL;
	if (buf == NULL)
		return;
	event_add(r->ev_sock, NULL);
	if (handle_frame(r, buf, r->held_len) < 0) {
		stream_end(r, UPSTREAM_RETRY);
		return;
	}
	stream_drain(r);
}

/* Looks at the verifier's request (when woken, and on a timer while one stands). */
static void
hold_update(struct repl *r)
{
	uint64_t req = shm_load(r->shm->hold_req);
	pid_t owner = shm_load(r->shm->hold_owner);
	int64_t now = time_mono_us();
	struct timeval tv = {0, REPL_HOLD_TICK_US};

	if (r->conn == NULL || r->ev_sock == NULL)
		return; /* not streaming: the verifier gives up on its own */
	if (req != 0 && (owner <= 0 || (kill(owner, 0) < 0 && errno == ESRCH)))
		req = 0; /* the verifier is gone (the master clears its request too) */
	if (req != 0 && r->hold_req == 0)
		r->hold_since_us = now;
	if (req != 0 && req != SHM_HOLD_PAUSE && r->hold_req == SHM_HOLD_PAUSE)
		r->hold_since_us = now; /* the position's own time: the pause may have been long */
	if (req != 0 && now - r->hold_since_us > REPL_HOLD_MAX_US) {
		uint64_t expected = req;

		/* the verifier may have just asked for something else: then that stands (and
		 * its time starts again) */
		if (__atomic_compare_exchange_n(&r->shm->hold_req, &expected, 0, false,
		                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			log_warn("sqledgectl verify (pid %d) held replication for %d s; going on",
			         (int)owner, (int)(REPL_HOLD_MAX_US / 1000000));
			req = 0;
		} else {
			req = expected;
			r->hold_since_us = now;
		}
	}
	if (req != r->hold_req)
		log_debug("verify hold: %s", req == 0                ? "released"
		                             : req == SHM_HOLD_PAUSE ? "pause"
		                                                     : "hold at a position");
	r->hold_req = req;
	if (req == 0) {
		evtimer_del(r->ev_hold);
		hold_set_state(r, HOLD_NONE);
		hold_release(r);
		return;
	}
	if (!evtimer_pending(r->ev_hold, NULL))
		evtimer_add(r->ev_hold, &tv);
	if (r->held && hold_admits(req, frame_final_lsn(r->held, r->held_len))) {
		hold_release(r); /* it commits before the position: apply it and read on */
		if (r->session_result != 0)
			return;
	}
	hold_settle(r);
	/* still waiting for the position: a keepalive will say when the stream has passed it */
	if (req != SHM_HOLD_PAUSE && shm_load(r->shm->hold_state) != HOLD_AT &&
	    now - r->last_status_us >= REPL_HOLD_TICK_US && send_status(r, true) < 0)
		stream_end(r, UPSTREAM_RETRY);
}

static void
on_hold(evutil_socket_t fd, short what, void *arg)
{
	hold_update(arg);
}

static void
on_hold_wake(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	/* the eventfd's count goes back to 0; the request itself is in shared memory */
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("reading the hold's eventfd failed: %s", strerror(errno));
	hold_update(arg);
}

/* Handles every complete message libpq has buffered. */
static void
stream_drain(struct repl *r)
{
	int processed = 0;

	while (!r->quit && r->held == NULL) {
		char *buf = NULL;
		int n = PQgetCopyData(r->conn, &buf, 1);
		int rc;

		if (n == 0) {
			/* nothing more buffered: commit what we have */
			if (flush_batch(r) < 0)
				stream_end(r, UPSTREAM_RETRY);
			return;
		}
		if (n < 0) {
			PGresult *res;

			if (n == -1) {
				struct strbuf sb;

				strbuf_init(&sb);
				strbuf_puts(&sb, "upstream ended the replication stream");
				while ((res = PQgetResult(r->conn)) != NULL) {
					ExecStatusType st = PQresultStatus(res);

					if (st == PGRES_FATAL_ERROR)
						strbuf_printf(&sb, ": %s",
						              PQresultErrorMessage(res));
					PQclear(res);
					/* after a server-side CopyDone libpq stays in COPY IN,
					 * where PQgetResult() would answer forever */
					if (st == PGRES_COPY_IN || st == PGRES_COPY_BOTH)
						break;
				}
				repl_report(r, one_line(&sb));
				strbuf_free(&sb);
			} else {
				struct strbuf sb;

				strbuf_init(&sb);
				strbuf_printf(&sb, "connection to the upstream lost: %s",
				              PQerrorMessage(r->conn));
				repl_report(r, strbuf_str(&sb));
				strbuf_free(&sb);
			}
			stream_end(r, UPSTREAM_RETRY);
			return;
		}
		r->last_recv_us = time_mono_us();
		if (r->hold_req != 0 && !hold_admits(r->hold_req, frame_final_lsn(buf, n))) {
			hold_keep(r, buf, n);
			return;
		}
		rc = handle_frame(r, buf, n);
		if (rc < 0) {
			stream_end(r, UPSTREAM_RETRY);
			return;
		}
		/* bound the batch in time and size so readers see progress under heavy load */
		if (apply_batch_open(r->apply) && !apply_in_transaction(r->apply) &&
		    (apply_batch_rows(r->apply) >= (uint64_t)r->cfg->replication_batch_max_rows ||
		     time_mono_us() - apply_batch_started_us(r->apply) >=
		             (int64_t)r->cfg->replication_batch_max_ms * 1000)) {
			if (flush_batch(r) < 0) {
				stream_end(r, UPSTREAM_RETRY);
				return;
			}
		}
		/* keep the walsender from timing us out in the middle of a huge transaction */
		if (++processed % 1024 == 0 &&
		    time_mono_us() - r->last_status_us >=
		            (int64_t)r->cfg->replication_status_interval * 1000000) {
			if (send_status(r, false) < 0) {
				stream_end(r, UPSTREAM_RETRY);
				return;
			}
		}
	}
}

static void
on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct repl *r = arg;

	if (!PQconsumeInput(r->conn)) {
		struct strbuf sb;

		strbuf_init(&sb);
		strbuf_printf(&sb, "connection to the upstream lost: %s", PQerrorMessage(r->conn));
		repl_report(r, one_line(&sb));
		strbuf_free(&sb);
		stream_end(r, UPSTREAM_RETRY);
		return;
	}
	stream_drain(r);
}

/* The catalog check is due: every reconcile_interval, and soon after a DDL message (at most
 * one check per REPL_DDL_CHECK_US however many DDL commands run). */
static bool
reconcile_due(const struct repl *r, int64_t now)
{
	int64_t every = (int64_t)r->cfg->replication_reconcile_interval * 1000000;

	if (r->reconcile_soon && now - r->reconciled_us >= REPL_DDL_CHECK_US)
		return true;
	return every > 0 && now - r->reconciled_us >= every;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct repl *r = arg;
	int64_t now = time_mono_us();

	if (now - r->last_recv_us > r->silence_limit_us) {
		repl_report(r, "no message from the upstream for too long; reconnecting");
		stream_end(r, UPSTREAM_RETRY);
		return;
	}
	if (reconcile_due(r, now) && !apply_in_transaction(r->apply) && r->held == NULL &&
	    r->hold_req == 0) {
		int rc;

		r->reconciled_us = now;
		r->reconcile_soon = false;
		rc = sync_reconcile(r->cfg, r->apply, r->shm, table_sync_progress, r);
		if (rc == -1 || rc == UPSTREAM_FATAL || flush_batch(r) < 0) {
			stream_end(r, UPSTREAM_RETRY);
			return;
		}
	}
	/* ask for a reply: the keepalive that answers moves an idle copy's position on, and
	 * tells how current it is */
	if (now - r->last_status_us >= r->reply_every_us && send_status(r, true) < 0)
		stream_end(r, UPSTREAM_RETRY);
	update_lag(r);
}

/* ---- one session: connect, decide, stream ---- */

static void
session_close(struct repl *r)
{
	if (r->held) {
		PQfreemem(r->held); /* not confirmed: the next session streams it again */
		r->held = NULL;
	}
	r->hold_req = 0;
	r->quiet_lsn = 0;
	if (r->ev_hold)
		evtimer_del(r->ev_hold);
	hold_set_state(r, HOLD_NONE);
	if (r->ev_sock) {
		event_free(r->ev_sock);
		r->ev_sock = NULL;
	}
	if (r->ev_tick) {
		event_free(r->ev_tick);
		r->ev_tick = NULL;
	}
	if (r->apply) {
		apply_rollback(r->apply);
		apply_free(r->apply);
		r->apply = NULL;
	}
	if (r->db) {
		sqlite3_close(r->db);
		r->db = NULL;
	}
	if (r->conn) {
		PQfinish(r->conn);
		r->conn = NULL;
	}
	shm_store(r->shm->upstream_state, UPSTREAM_STATE_DISCONNECTED);
}

static int
open_generation(struct repl *r, uint32_t gen)
{
	char *path = store_generation_path(r->cfg->local_db_path, gen);
	int rc = store_open(path, false, &r->db);

	free(path);
	return rc;
}

static int
start_streaming(struct repl *r, uint64_t lsn, int server_version)
{
	struct strbuf sql, pub;
	PGresult *res;
	char l[LSN_BUFLEN];

	strbuf_init(&sql);
	strbuf_init(&pub);
	strbuf_quote_ident(&pub, r->cfg->replication_publication);
	strbuf_puts(&sql, "START_REPLICATION SLOT ");
	strbuf_quote_ident(&sql, r->cfg->replication_slot_name);
	strbuf_printf(&sql, " LOGICAL %s (proto_version '1', publication_names ",
	              lsn_format(lsn, l));
	strbuf_quote_literal(&sql, strbuf_str(&pub));
	if (server_version >= 140000)
		strbuf_puts(&sql, ", messages 'true'");
	strbuf_putc(&sql, ')');
	res = upstream_exec(r->conn, strbuf_str(&sql), PGRES_COPY_BOTH, "START_REPLICATION", NULL);
	strbuf_free(&sql);
	strbuf_free(&pub);
	if (res == NULL)
		return UPSTREAM_RETRY;
	PQclear(res);
	if (PQsetnonblocking(r->conn, 1) < 0) {
		log_error("upstream: could not make the connection non-blocking");
		return UPSTREAM_RETRY;
	}
	return 0;
}

static int
session_run(struct repl *r)
{
	const struct cfg *cfg = r->cfg;
	struct upstream_info info;
	struct slot_info slot;
	struct store_pos pos;
	struct strbuf err;
	const char *why = NULL;
	uint32_t gen = 0;
	int rc, have_pos = 0;
	char l[LSN_BUFLEN];
	char replicated[sizeof(pos.schemas)];
	uint64_t fork = 0;
	int forked = 0;
	struct timeval tick = {1, 0};

	strbuf_init(&err);
	repl_set_state(r, r->was_streaming ? REPL_STATE_RECONNECTING : REPL_STATE_CONNECTING);
	rc = upstream_connect(cfg, true, &r->conn, &err);
	if (rc != 0) {
		repl_report(r, strbuf_str(&err));
		strbuf_free(&err);
		return rc;
	}
	strbuf_free(&err);
	shm_store(r->shm->upstream_state, UPSTREAM_STATE_CONNECTED);
	if (r->failures > 0)
		log_info("connected to the upstream again after %d failed attempts", r->failures);
	rc = upstream_check(cfg, r->conn, &info);
	if (rc == 0)
		rc = upstream_prepare_publication(cfg, r->conn);
	if (rc == 0)
		upstream_ddl_trigger(cfg, r->conn);
	if (rc != 0)
		return rc;
	SHM_SET_STR(r->shm, system_id, info.system_id);
	if (cfg->replication_source_address[0]) {
		/* unknown counts as not comparable: a wrong wait is a wrong answer */
		uint32_t same = upstream_same_history(cfg, info.system_id) == 1;

		if (same != shm_load(r->shm->positions_comparable))
			shm_store(r->shm->positions_comparable, same);
	}
	SHM_SET_STR(r->shm, slot_name, cfg->replication_slot_name);

	rc = store_current_generation(cfg->local_db_path, &gen);
	if (rc < 0)
		return UPSTREAM_FATAL;
	if (rc == 1) {
		if (open_generation(r, gen) < 0)
			return -1;
		have_pos = store_read_pos(r->db, &pos);
		if (have_pos < 0)
			return -1;
		shm_store(r->shm->generation, gen);
		if (r->resync_requested && have_pos == 1) {
			/* marked in the copy: a crash before the new one is done resyncs too */
			if (store_require_resync(r->db, "asked for with sqledgectl resync") < 0)
				return -1;
			pos.resync_required = true;
		}
	}
	r->resync_requested = false;
	if (upstream_slot_info(cfg, r->conn, &slot) < 0)
		return UPSTREAM_RETRY;
	if (slot.exists && (strcmp(slot.plugin, "pgoutput") != 0 ||
	                    strcmp(slot.database, cfg->upstream_name) != 0)) {
		log_error("replication slot \"%s\" exists for plugin \"%s\" on database \"%s\": "
		          "choose "
		          "another [replication] slot_name, or drop that slot if it is unused",
		          cfg->replication_slot_name, slot.plugin, slot.database);
		return UPSTREAM_FATAL;
	}
	if (slot.exists && slot.active) {
		struct strbuf sb;

		strbuf_init(&sb);
		strbuf_printf(&sb,
		              "replication slot \"%s\" is in use by upstream process %d; waiting "
		              "for it to be released",
		              cfg->replication_slot_name, slot.active_pid);
		repl_report(r, strbuf_str(&sb));
		strbuf_free(&sb);
		return UPSTREAM_RETRY;
	}

	cfg_replicated_set(cfg, replicated, sizeof(replicated));
	if (have_pos == 1 && strcmp(pos.system_id, info.system_id) == 0 && pos.timeline != 0) {
		/* a new timeline (a restore or a failover): the copy holds WAL the upstream no
		 * longer has when the old timeline ended before the copy's position */
		forked = upstream_forked_before(r->conn, pos.timeline, info.timeline, pos.lsn,
		                                &fork);
		if (forked < 0)
			return UPSTREAM_RETRY;
		if (forked > 0) {
			char f[LSN_BUFLEN], c[LSN_BUFLEN];

			log_info("timeline %" PRIu32 " ended at %s upstream (now on %" PRIu32
			         "), before the copy's position %s",
			         pos.timeline, lsn_format(fork, f), info.timeline,
			         lsn_format(pos.lsn, c));
		}
	}
	if (have_pos != 1)
		why = gen ? "the local copy has no usable position" : "there is no local copy yet";
	else if (pos.resync_required)
		why = "the local copy was marked for resync";
	else if (strcmp(pos.system_id, info.system_id) != 0)
		why = "the upstream is a different PostgreSQL cluster (system identifier changed)";
	else if (forked > 0)
		why = "the upstream's history forked before the local copy's position (a new "
		      "timeline, after a restore or a failover)";
	else if (strcmp(pos.slot_name, cfg->replication_slot_name) != 0)
		why = "the configured slot name changed";
	else if (strcmp(pos.publication, cfg->replication_publication) != 0)
		why = "the configured publication changed";
	else if (strcmp(pos.schemas, replicated) != 0)
		why = "the configured schema list or table patterns changed";
	else if (info.xlogpos < pos.lsn)
		/* the upstream's WAL ends before our copy: it was restored from a backup or is
		 * another server that shares its system identifier */
		why = "the upstream is behind the local copy (restored from a backup?)";
	else if (!slot.exists)
		why = "the replication slot no longer exists upstream";
	else if (slot.lost)
		why = "the replication slot was invalidated (wal_status = lost)";
	else if (slot.confirmed_flush > pos.lsn)
		/* we never confirm past postgres_pos, so this slot was made for another copy
		 * (e.g. by a sync that crashed before switching to its copy) */
		why = "the replication slot is ahead of the local copy";
	else if (slot.temporary || cfg->replication_temp_slot)
		why = "a temporary slot does not survive a disconnect";

	if (why) {
		struct sync_result res;

		log_info("starting an initial sync: %s", why);
		if (slot.exists) {
			if (!cfg->replication_create_slot) {
				log_error("the copy must be synced again (%s) but that needs a new "
				          "slot and create_slot = false: set [replication] "
				          "create_slot = true",
				          why);
				return UPSTREAM_FATAL;
			}
			if ((rc = upstream_drop_slot(cfg, r->conn)) != 0)
				return rc;
		} else if (!cfg->replication_create_slot) {
			log_error("replication slot \"%s\" does not exist and create_slot = false: "
			          "create the slot or set [replication] create_slot = true",
			          cfg->replication_slot_name);
			return UPSTREAM_FATAL;
		}
		if (r->db) {
			sqlite3_close(r->db);
			r->db = NULL;
		}
		repl_set_state(r, REPL_STATE_INITIAL_SYNC);
		rc = sync_run(cfg, r->conn, r->shm, &info, gen, &res);
		if (rc != 0)
			return rc == -1 ? UPSTREAM_RETRY : rc;
		gen = res.generation;
		if (open_generation(r, gen) < 0 || store_read_pos(r->db, &pos) != 1)
			return -1;
	} else {
		store_remove_generations(cfg->local_db_path, gen);
	}

	r->apply = apply_new(r->db, r->shm, cfg->upstream_schema);
	apply_set_tables(r->apply, cfg->upstream_tables, cfg->upstream_exclude_tables);
	if (apply_load(r->apply) < 0)
		return -1;
	apply_set_position(r->apply, pos.lsn);
	/* what the stream will not say: tables dropped, renamed or unpublished meanwhile */
	rc = sync_reconcile(cfg, r->apply, r->shm, NULL, NULL);
	if (rc == -1 || rc == UPSTREAM_FATAL ||
	    (apply_batch_open(r->apply) && apply_flush(r->apply) < 0))
		return rc == UPSTREAM_FATAL ? rc : -1;
	r->reconciled_us = time_mono_us();
	r->flushed_lsn = pos.lsn;
	r->received_lsn = pos.lsn;
	if (r->upstream_lsn < info.xlogpos)
		r->upstream_lsn = info.xlogpos;
	shm_applied_publish(r->shm, pos.lsn);
	shm_store(r->shm->flushed_lsn, pos.lsn);
	update_lag(r);

	rc = start_streaming(r, pos.lsn, info.server_version);
	if (rc != 0)
		return rc;
	log_info("streaming changes from %s (slot \"%s\", publication \"%s\", generation %" PRIu32
	         ")",
	         lsn_format(pos.lsn, l), cfg->replication_slot_name, cfg->replication_publication,
	         gen);
	repl_set_state(r, REPL_STATE_STREAMING);
	r->was_streaming = true;
	r->failures = 0;
	r->outage_logged = false;
	SHM_SET_STR(r->shm, last_error, "");
	r->last_recv_us = time_mono_us();
	r->last_status_us = 0;
	/* the walsender answers every status we send with replyRequested; a silent walsender
	 * may be busy replaying a long transaction it filters out, so allow it a good while
	 * beyond its own timeout before calling the link dead */
	r->silence_limit_us = 2 * (int64_t)info.wal_sender_timeout_ms * 1000;
	if (r->silence_limit_us < 120 * INT64_C(1000000))
		r->silence_limit_us = 120 * INT64_C(1000000);

	repl_reply_every(r, &tick);
	r->heard_n = 0;
	r->ev_sock = event_new(r->base, PQsocket(r->conn), EV_READ | EV_PERSIST, on_sock, r);
	r->ev_tick = event_new(r->base, -1, EV_PERSIST, on_tick, r);
	event_add(r->ev_sock, NULL);
	event_add(r->ev_tick, &tick);
	r->session_result = 0;
	if (send_status(r, true) < 0)
		return UPSTREAM_RETRY;
	hold_update(r);  /* a verifier may be waiting: its hold applies from the first frame */
	stream_drain(r); /* START_REPLICATION may have brought data already */
	if (!r->quit && r->session_result == 0)
		event_base_dispatch(r->base);
	if (r->quit) {
		/* a clean stop keeps every complete transaction applied so far */
		if (!apply_in_transaction(r->apply) && flush_batch(r) == 0)
			log_info("stopped at %s", lsn_format(apply_durable_lsn(r->apply), l));
		return 0;
	}
	return r->session_result ? r->session_result : UPSTREAM_RETRY;
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct repl *r = arg;

	event_base_loopbreak(r->base);
}

/* sqledgectl decommission: the slot goes (this node will hold no WAL upstream) and the
 * master is told, which then stops sqledge; on failure the master is told why and streaming
 * goes on. */
static void
repl_decommission(struct repl *r)
{
	struct strbuf err;
	PGconn *conn = NULL;
	int rc = UPSTREAM_RETRY, tries;

	r->decommission = false;
	strbuf_init(&err);
	if (upstream_connect(r->cfg, true, &conn, &err) == 0) {
		/* the walsender of the session just ended may still hold the slot a moment */
		for (tries = 0; tries < 20 && (rc = upstream_drop_slot(r->cfg, conn)) != 0; tries++)
			usleep(250000);
		if (rc != 0)
			strbuf_printf(&err, "could not drop replication slot \"%s\": %s",
			              r->cfg->replication_slot_name, log_last_error());
	}
	if (conn)
		PQfinish(conn);
	if (chan_send(r->chan_fd, CHAN_MSG_DECOMMISSIONED, rc == 0 ? "" : strbuf_str(&err),
	              rc == 0 ? 0 : strlen(strbuf_str(&err)), -1) != 0)
		log_warn("cannot tell the master how decommissioning went");
	strbuf_free(&err);
	if (rc == 0) {
		/* nothing more to do: the master stops us */
		repl_set_state(r, REPL_STATE_STOPPED);
		while (!r->quit)
			event_base_dispatch(r->base);
	}
}

static void
backoff_wait(struct repl *r, int64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};

	r->ev_wake = evtimer_new(r->base, on_wake, r);
	evtimer_add(r->ev_wake, &tv);
	event_base_dispatch(r->base);
	event_free(r->ev_wake);
	r->ev_wake = NULL;
}

int
repl_worker_main(const struct cfg *cfg, int chan_fd, struct shm_state *shm)
{
	struct repl r;
	int64_t backoff_ms = 500;
	int code = 0;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.shm = shm;
	r.chan_fd = chan_fd;
	pgo_decoder_init(&r.dec);
	signal(SIGPIPE, SIG_IGN);
	r.base = event_base_new();
	if (r.base == NULL) {
		log_error("could not create an event base");
		return EXIT_RESPAWN;
	}
	r.ev_chan = event_new(r.base, chan_fd, EV_READ | EV_PERSIST, on_chan, &r);
	hold_set_state(&r, HOLD_NONE); /* what a worker before us left means nothing now */
	r.ev_hold_wake =
	        event_new(r.base, shm->hold_wake_fd, EV_READ | EV_PERSIST, on_hold_wake, &r);
	r.ev_hold = evtimer_new(r.base, on_hold, &r);
	if (r.ev_chan == NULL || r.ev_hold_wake == NULL || r.ev_hold == NULL ||
	    event_add(r.ev_hold_wake, NULL) < 0) {
		log_error("could not set up the replication worker's events");
		return EXIT_RESPAWN;
	}
	/* the master stops us over the channel; a SIGTERM from elsewhere may kill us at any
	 * instant, which loses nothing (every confirmed position is durable) */
	event_add(r.ev_chan, NULL);

	while (!r.quit) {
		int rc;

		if (r.decommission) {
			repl_decommission(&r);
			continue;
		}
		rc = session_run(&r);

		session_close(&r);
		if (r.quit)
			break;
		if (rc != 0 && log_last_error()[0])
			SHM_SET_STR(shm, last_error, log_last_error());
		if (rc == UPSTREAM_FATAL) {
			repl_set_state(&r, REPL_STATE_FAILED);
			if (log_last_error()[0])
				SHM_SET_STR(shm, last_error, log_last_error());
			code = EXIT_FATAL;
			break;
		}
		/* a session that reached streaming starts the backoff over */
		if (r.failures == 0)
			backoff_ms = 500;
		r.failures++;
		repl_set_state(&r,
		               r.was_streaming ? REPL_STATE_RECONNECTING : REPL_STATE_CONNECTING);
		backoff_wait(&r, backoff_ms);
		backoff_ms *= 2;
		if (backoff_ms > (int64_t)cfg->replication_reconnect_max * 1000)
			backoff_ms = (int64_t)cfg->replication_reconnect_max * 1000;
	}
	if (code == 0)
		repl_set_state(&r, REPL_STATE_STOPPED);
	event_free(r.ev_hold);
	event_free(r.ev_hold_wake);
	event_free(r.ev_chan);
	event_base_free(r.base);
	pgo_decoder_free(&r.dec);
	return code;
}
