/* SPDX-License-Identifier: MIT */
/* Control socket protocol shared by the master and sqledgectl: where the socket lives and how
 * the status is rendered (text for people, JSON for scripts and tests). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "ctl.h"
#include "shm.h"
#include "util.h"
#include "version.h"

#define CTL_SOCKET_NAME "sqledge.sock"

/* Everything the status shows, read once from the shared memory so the text and JSON forms
 * agree. */
#define CTL_BAR_WIDTH 30 /* characters of the initial sync's progress bar */

struct ctl_status {
	pid_t master_pid;
	pid_t repl_pid;
	uint32_t repl_restarts;
	int64_t uptime_s, repl_uptime_s;
	int64_t proxy_uptime_s[SHM_MAX_PROXY_WORKERS];
	const char *upstream_state;
	const char *repl_state;
	char slot[sizeof(((struct shm_state *)0)->slot_name)];
	char system_id[sizeof(((struct shm_state *)0)->system_id)];
	char last_error[sizeof(((struct shm_state *)0)->last_error)];
	char sync_table[sizeof(((struct shm_state *)0)->sync_table)];
	uint32_t generation;
	uint64_t received_lsn, applied_lsn, flushed_lsn, upstream_lsn;
	uint64_t lag_bytes;
	double lag_seconds;
	int64_t current_as_of_us; /* the copy was known current then (realtime); 0: never */
	int64_t unreachable_us;   /* when a proxy found the upstream unreachable; 0: it is not */
	uint64_t txns_applied, rows_applied;
	const char *sync_state;
	int sync_running;
	uint32_t sync_tables_total, sync_tables_done;
	uint64_t sync_rows_done, sync_rows_estimated;
	double sync_rows_per_second;
	int64_t sync_started_us, sync_finished_us;
	uint32_t nproxy;
	uint64_t proxy_clients, proxy_upstream_conns, proxy_queries, proxy_local;
	struct shm_proxy_worker proxy[SHM_MAX_PROXY_WORKERS];
	struct ctl_shape {
		char text[SHM_SHAPE_LEN];
		uint64_t count;
	} top[SHM_SHAPES]; /* the statements forwarded most, all workers together */
	size_t ntop;
};

char *
ctl_socket_path(const struct cfg *cfg)
{
	struct strbuf sb;
	char *dir;

	if (cfg->control_socket != NULL && cfg->control_socket[0] != '\0')
		return xstrdup(cfg->control_socket);
	dir = path_dirname(cfg->local_db_path);
	strbuf_init(&sb);
	strbuf_puts(&sb, dir);
	if (sb.len == 0 || sb.data[sb.len - 1] != '/')
		strbuf_putc(&sb, '/');
	strbuf_puts(&sb, CTL_SOCKET_NAME);
	free(dir);
	/* sb.data is the malloc'ed string; ownership passes to the caller */
	return sb.data;
}

static const char *
ctl_upstream_state_name(uint32_t st)
{
	switch (st) {
	case UPSTREAM_STATE_CONNECTED:
		return "connected";
	case UPSTREAM_STATE_DISCONNECTED:
		return "disconnected";
	default:
		return "unknown";
	}
}

static const char *
ctl_sync_state_name(uint32_t st)
{
	switch (st) {
	case SYNC_STATE_NONE:
		return "none";
	case SYNC_STATE_RUNNING:
		return "running";
	case SYNC_STATE_DONE:
		return "done";
	case SYNC_STATE_FAILED:
		return "failed";
	default:
		return "unknown";
	}
}

/* Replaces every byte that is not part of valid UTF-8 with '?': the strings come from the
 * upstream and may be cut mid-character by the fixed shared-memory fields, and a JSON reader
 * rejects the whole object for one bad byte. */
static void
ctl_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t i, n;
	uint32_t cp;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1, cp = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3, cp = *p & 0x07;
		else
			n = 0, cp = 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* reject truncated, overlong, surrogate and out-of-range sequences */
		if (n == 0 || i <= n || (n == 2 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
			*p++ = '?';
			continue;
		}
		p += n + 1;
	}
}

/* Merges a worker's most forwarded statements into st->top (same text: counts added). */
static void
ctl_shapes_add(struct ctl_status *st, const struct shm_proxy_worker *w)
{
	struct ctl_shape mine[SHM_SHAPES], t;
	uint32_t before, after;
	size_t i, j, tries;

	for (tries = 0; tries < 1000; tries++) {
		before = __atomic_load_n(&w->shapes_seq, __ATOMIC_ACQUIRE);
		if (before & 1)
			continue; /* being written */
		for (i = 0; i < SHM_SHAPES; i++) {
			for (j = 0; j < SHM_SHAPE_LEN; j++)
				mine[i].text[j] =
				        __atomic_load_n(&w->shape[i][j], __ATOMIC_RELAXED);
			mine[i].count = __atomic_load_n(&w->shape_count[i], __ATOMIC_RELAXED);
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&w->shapes_seq, __ATOMIC_RELAXED);
		if (before == after)
			break;
	}
	if (tries == 1000)
		return; /* a worker that died while writing: its shapes are not shown */
	for (i = 0; i < SHM_SHAPES; i++) {
		mine[i].text[SHM_SHAPE_LEN - 1] = '\0';
		if (mine[i].text[0] == '\0' || mine[i].count == 0)
			continue;
		ctl_utf8_clean(mine[i].text);
		for (j = 0; j < st->ntop && strcmp(st->top[j].text, mine[i].text) != 0; j++)
			;
		if (j < st->ntop) {
			st->top[j].count += mine[i].count;
		} else if (st->ntop < SHM_SHAPES) {
			st->top[st->ntop++] = mine[i];
		} else if (st->top[SHM_SHAPES - 1].count < mine[i].count) {
			st->top[SHM_SHAPES - 1] = mine[i];
			j = SHM_SHAPES - 1;
		} else {
			continue;
		}
		/* kept in order, most first */
		for (j = j < st->ntop ? j : st->ntop - 1;
		     j > 0 && st->top[j - 1].count < st->top[j].count; j--) {
			t = st->top[j - 1];
			st->top[j - 1] = st->top[j];
			st->top[j] = t;
		}
	}
}

/* Whole seconds since a realtime start, 0 when not started. */
static int64_t
ctl_uptime(int64_t now, int64_t started)
{
	return started > 0 && now > started ? (now - started) / 1000000 : 0;
}

static void
ctl_status_read(const struct cfg *cfg, const struct shm_state *shm, struct ctl_status *st)
{
	int64_t now = time_real_us();
	int64_t started = shm->started_us;
	int64_t caught_up, elapsed;
	uint32_t sync_state;

	memset(st, 0, sizeof(*st));
	st->master_pid = shm_load(shm->master_pid);
	st->repl_pid = shm_load(shm->repl_pid);
	st->repl_restarts = shm_load(shm->repl_restarts);
	st->uptime_s = now > started ? (now - started) / 1000000 : 0;
	st->repl_uptime_s = ctl_uptime(now, shm_load(shm->repl_started_us));
	st->upstream_state = ctl_upstream_state_name(shm_load(shm->upstream_state));
	st->repl_state = repl_state_name((enum repl_state)shm_load(shm->repl_state));

	SHM_GET_STR(shm, slot_name, st->slot);
	if (st->slot[0] == '\0')
		snprintf(st->slot, sizeof(st->slot), "%s", cfg->replication_slot_name);
	SHM_GET_STR(shm, system_id, st->system_id);
	SHM_GET_STR(shm, last_error, st->last_error);
	SHM_GET_STR(shm, sync_table, st->sync_table);
	ctl_utf8_clean(st->slot);
	ctl_utf8_clean(st->system_id);
	ctl_utf8_clean(st->last_error);
	ctl_utf8_clean(st->sync_table);

	st->generation = shm_load(shm->generation);
	st->received_lsn = shm_load(shm->received_lsn);
	st->applied_lsn = shm_load(shm->applied_lsn);
	st->flushed_lsn = shm_load(shm->flushed_lsn);
	st->upstream_lsn = shm_load(shm->upstream_lsn);
	st->current_as_of_us = shm_load(shm->caught_up_time_us);
	st->unreachable_us = shm_load(shm->upstream_down_us);
	if (st->applied_lsn >= st->upstream_lsn) {
		st->lag_bytes = 0;
		st->lag_seconds = 0;
	} else {
		st->lag_bytes = st->upstream_lsn - st->applied_lsn;
		caught_up = shm_load(shm->caught_up_time_us);
		if (caught_up == 0)
			caught_up = started;
		st->lag_seconds = now > caught_up ? (double)(now - caught_up) / 1e6 : 0;
	}
	st->txns_applied = shm_load(shm->txns_applied);
	st->rows_applied = shm_load(shm->rows_applied);

	st->nproxy = shm_load(shm->proxy_nworkers);
	if (st->nproxy > SHM_MAX_PROXY_WORKERS)
		st->nproxy = SHM_MAX_PROXY_WORKERS;
	st->proxy_clients = shm_load(shm->proxy_clients);
	st->proxy_upstream_conns = shm_load(shm->proxy_upstream_conns);
	for (uint32_t i = 0; i < st->nproxy; i++) {
		const struct shm_proxy_worker *w = &shm->proxy[i];

		st->proxy[i].pid = shm_load(w->pid);
		st->proxy[i].restarts = shm_load(w->restarts);
		st->proxy_uptime_s[i] = ctl_uptime(now, shm_load(w->started_us));
		st->proxy[i].clients = shm_load(w->clients);
		st->proxy[i].clients_total = shm_load(w->clients_total);
		st->proxy[i].logins_failed = shm_load(w->logins_failed);
		st->proxy[i].queries_forwarded = shm_load(w->queries_forwarded);
		st->proxy[i].queries_local = shm_load(w->queries_local);
		st->proxy_local += st->proxy[i].queries_local;
		st->proxy[i].upstream_conns = shm_load(w->upstream_conns);
		st->proxy[i].checks_held = shm_load(w->checks_held);
		st->proxy[i].checks_ahead = shm_load(w->checks_ahead);
		st->proxy[i].logins_cached = shm_load(w->logins_cached);
		st->proxy[i].login_cache_entries = shm_load(w->login_cache_entries);
		st->proxy[i].login_cache_checks = shm_load(w->login_cache_checks);
		ctl_shapes_add(st, w);
		st->proxy_queries += st->proxy[i].queries_forwarded;
	}

	sync_state = shm_load(shm->sync_state);
	st->sync_state = ctl_sync_state_name(sync_state);
	st->sync_running = sync_state == SYNC_STATE_RUNNING;
	st->sync_tables_total = shm_load(shm->sync_tables_total);
	st->sync_tables_done = shm_load(shm->sync_tables_done);
	st->sync_rows_done = shm_load(shm->sync_rows_done);
	st->sync_rows_estimated = shm_load(shm->sync_rows_estimated);
	st->sync_started_us = shm_load(shm->sync_started_us);
	st->sync_finished_us = shm_load(shm->sync_finished_us);
	if (sync_state == SYNC_STATE_NONE)
		st->sync_started_us = st->sync_finished_us = 0;
	if (st->sync_started_us > 0) {
		elapsed = (st->sync_finished_us > 0 ? st->sync_finished_us : now) -
		          st->sync_started_us;
		if (elapsed > 0)
			st->sync_rows_per_second =
			        (double)st->sync_rows_done * 1e6 / (double)elapsed;
	}
}

/* Formats a realtime microsecond timestamp as ISO-8601 UTC ("2024-05-01T12:00:00Z"). */
static void
ctl_format_time(int64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
ctl_json_time(struct strbuf *out, int64_t us)
{
	char buf[32];

	if (us <= 0) {
		strbuf_puts(out, "null");
		return;
	}
	ctl_format_time(us, buf, sizeof(buf));
	strbuf_json_string(out, buf);
}

static void
ctl_render_json(const struct cfg *cfg, const struct ctl_status *st, struct strbuf *out)
{
	char lsn[4][LSN_BUFLEN];

	strbuf_puts(out, "{\"version\":");
	strbuf_json_string(out, SQLEDGE_VERSION);
	strbuf_printf(out, ",\"pid\":%d,\"uptime_seconds\":%lld", (int)st->master_pid,
	              (long long)st->uptime_s);
	strbuf_printf(out,
	              ",\"processes\":[{\"role\":\"master\",\"pid\":%d,\"uptime_seconds\":%lld},"
	              "{\"role\":\"repl\",\"pid\":%d,\"restarts\":%u,\"uptime_seconds\":%lld}",
	              (int)st->master_pid, (long long)st->uptime_s, (int)st->repl_pid,
	              st->repl_restarts, (long long)st->repl_uptime_s);
	for (uint32_t i = 0; i < st->nproxy; i++)
		strbuf_printf(out,
		              ",{\"role\":\"proxy\",\"index\":%u,\"pid\":%d,\"restarts\":%u,"
		              "\"uptime_seconds\":%lld}",
		              i, (int)st->proxy[i].pid, st->proxy[i].restarts,
		              (long long)st->proxy_uptime_s[i]);
	strbuf_putc(out, ']');

	strbuf_puts(out, ",\"upstream\":{\"state\":");
	strbuf_json_string(out, st->upstream_state);
	strbuf_puts(out, ",\"host\":");
	strbuf_json_string(out, cfg->upstream_address);
	strbuf_printf(out, ",\"port\":%d,\"database\":", cfg->upstream_port);
	strbuf_json_string(out, cfg->upstream_name);
	strbuf_puts(out, ",\"user\":");
	strbuf_json_string(out, cfg->upstream_user);
	strbuf_printf(out, ",\"reachable\":%s,\"unreachable_since\":",
	              st->unreachable_us ? "false" : "true");
	ctl_json_time(out, st->unreachable_us);
	strbuf_putc(out, '}');

	strbuf_puts(out, ",\"replication\":{\"state\":");
	strbuf_json_string(out, st->repl_state);
	strbuf_puts(out, ",\"slot\":");
	strbuf_json_string(out, st->slot);
	strbuf_puts(out, ",\"publication\":");
	strbuf_json_string(out, cfg->replication_publication);
	strbuf_puts(out, ",\"system_id\":");
	strbuf_json_string(out, st->system_id);
	strbuf_printf(out,
	              ",\"generation\":%u,\"received_lsn\":\"%s\",\"applied_lsn\":\"%s\","
	              "\"flushed_lsn\":\"%s\",\"upstream_lsn\":\"%s\"",
	              st->generation, lsn_format(st->received_lsn, lsn[0]),
	              lsn_format(st->applied_lsn, lsn[1]), lsn_format(st->flushed_lsn, lsn[2]),
	              lsn_format(st->upstream_lsn, lsn[3]));
	strbuf_printf(out,
	              ",\"lag_bytes\":%llu,\"lag_seconds\":%.3f,\"txns_applied\":%llu,"
	              "\"rows_applied\":%llu,\"last_error\":",
	              (unsigned long long)st->lag_bytes, st->lag_seconds,
	              (unsigned long long)st->txns_applied, (unsigned long long)st->rows_applied);
	strbuf_json_string(out, st->last_error[0] ? st->last_error : NULL);
	strbuf_puts(out, ",\"current_as_of\":");
	ctl_json_time(out, st->current_as_of_us);

	strbuf_puts(out, ",\"initial_sync\":{\"state\":");
	strbuf_json_string(out, st->sync_state);
	strbuf_printf(out,
	              ",\"tables_total\":%u,\"tables_done\":%u,\"rows_done\":%llu,"
	              "\"rows_estimated\":%llu,\"rows_per_second\":%.1f,\"current_table\":",
	              st->sync_tables_total, st->sync_tables_done,
	              (unsigned long long)st->sync_rows_done,
	              (unsigned long long)st->sync_rows_estimated, st->sync_rows_per_second);
	strbuf_json_string(out, st->sync_running && st->sync_table[0] ? st->sync_table : NULL);
	strbuf_puts(out, ",\"started_at\":");
	ctl_json_time(out, st->sync_started_us);
	strbuf_puts(out, ",\"finished_at\":");
	ctl_json_time(out, st->sync_finished_us);
	strbuf_puts(out, "}}");

	strbuf_puts(out, ",\"proxy\":{\"address\":");
	strbuf_json_string(out, cfg->proxy_address);
	strbuf_printf(out,
	              ",\"port\":%d,\"clients\":%llu,\"max_clients\":%d,"
	              "\"upstream_connections\":%llu,\"queries_forwarded\":%llu,"
	              "\"queries_local\":%llu,\"local_reads\":%s,\"workers\":[",
	              cfg->proxy_port, (unsigned long long)st->proxy_clients,
	              cfg->proxy_max_clients, (unsigned long long)st->proxy_upstream_conns,
	              (unsigned long long)st->proxy_queries, (unsigned long long)st->proxy_local,
	              cfg->proxy_local_reads ? "true" : "false");
	for (uint32_t i = 0; i < st->nproxy; i++) {
		const struct shm_proxy_worker *w = &st->proxy[i];

		strbuf_printf(
		        out,
		        "%s{\"index\":%u,\"pid\":%d,\"clients\":%llu,\"clients_total\":%llu,"
		        "\"logins_failed\":%llu,\"queries_forwarded\":%llu,"
		        "\"queries_local\":%llu,\"upstream_connections\":%llu,"
		        "\"checks_held\":%llu,\"checks_ahead\":%llu,\"logins_cached\":%llu,"
		        "\"login_cache_entries\":%llu,\"login_cache_checks\":%llu}",
		        i ? "," : "", i, (int)w->pid, (unsigned long long)w->clients,
		        (unsigned long long)w->clients_total, (unsigned long long)w->logins_failed,
		        (unsigned long long)w->queries_forwarded,
		        (unsigned long long)w->queries_local, (unsigned long long)w->upstream_conns,
		        (unsigned long long)w->checks_held, (unsigned long long)w->checks_ahead,
		        (unsigned long long)w->logins_cached,
		        (unsigned long long)w->login_cache_entries,
		        (unsigned long long)w->login_cache_checks);
	}
	strbuf_puts(out, "],\"top_forwarded\":[");
	for (size_t i = 0; i < st->ntop; i++) {
		strbuf_puts(out, i ? ",{\"statement\":" : "{\"statement\":");
		strbuf_json_string(out, st->top[i].text);
		strbuf_printf(out, ",\"count\":%llu}", (unsigned long long)st->top[i].count);
	}
	strbuf_puts(out, "]}}\n");
}

/* A bar of the rows copied, with the time left at the current rate. */
static void
ctl_text_progress(struct strbuf *out, const struct ctl_status *st)
{
	char bar[CTL_BAR_WIDTH + 1];
	double done = st->sync_rows_estimated > 0
	                      ? (double)st->sync_rows_done / (double)st->sync_rows_estimated
	                      : 0;
	int i, n;

	if (done > 1)
		done = 1; /* the estimate is the planner's, and may be low */
	n = (int)(done * CTL_BAR_WIDTH + 0.5);
	for (i = 0; i < CTL_BAR_WIDTH; i++)
		bar[i] = i < n ? '#' : '.';
	bar[CTL_BAR_WIDTH] = '\0';
	strbuf_printf(out, "  progress: [%s] %3.0f%%", bar, done * 100);
	if (st->sync_rows_per_second > 0 && st->sync_rows_estimated > st->sync_rows_done)
		strbuf_printf(out, ", about %.0f s left",
		              (double)(st->sync_rows_estimated - st->sync_rows_done) /
		                      st->sync_rows_per_second);
	strbuf_putc(out, '\n');
}

static void
ctl_text_time(struct strbuf *out, const char *key, int64_t us)
{
	char buf[32];

	if (us <= 0) {
		strbuf_printf(out, "  %s: -\n", key);
		return;
	}
	ctl_format_time(us, buf, sizeof(buf));
	strbuf_printf(out, "  %s: %s\n", key, buf);
}

static void
ctl_render_text(const struct cfg *cfg, const struct ctl_status *st, struct strbuf *out)
{
	char lsn[LSN_BUFLEN];
	int64_t up = st->uptime_s;

	strbuf_printf(out, "version: %s\n", SQLEDGE_VERSION);
	strbuf_printf(out, "pid: %d\n", (int)st->master_pid);
	strbuf_printf(out, "uptime: %lldd %02lld:%02lld:%02lld (%lld s)\n", (long long)(up / 86400),
	              (long long)(up / 3600 % 24), (long long)(up / 60 % 60), (long long)(up % 60),
	              (long long)up);

	strbuf_puts(out, "\nprocesses:\n");
	strbuf_printf(out, "  master: pid %d, up %lld s\n", (int)st->master_pid,
	              (long long)st->uptime_s);
	if (st->repl_pid > 0)
		strbuf_printf(out, "  repl: pid %d, restarts %u, up %lld s\n", (int)st->repl_pid,
		              st->repl_restarts, (long long)st->repl_uptime_s);
	else
		strbuf_printf(out, "  repl: not running, restarts %u\n", st->repl_restarts);
	for (uint32_t i = 0; i < st->nproxy; i++) {
		if (st->proxy[i].pid > 0)
			strbuf_printf(out, "  proxy%u: pid %d, restarts %u, up %lld s\n", i,
			              (int)st->proxy[i].pid, st->proxy[i].restarts,
			              (long long)st->proxy_uptime_s[i]);
		else
			strbuf_printf(out, "  proxy%u: not running, restarts %u\n", i,
			              st->proxy[i].restarts);
	}

	strbuf_puts(out, "\nupstream:\n");
	strbuf_printf(out, "  state: %s\n", st->upstream_state);
	strbuf_printf(out, "  host: %s\n", cfg->upstream_address);
	strbuf_printf(out, "  port: %d\n", cfg->upstream_port);
	strbuf_printf(out, "  database: %s\n", cfg->upstream_name);
	strbuf_printf(out, "  user: %s\n", cfg->upstream_user);
	if (st->unreachable_us)
		ctl_text_time(out, "unreachable_since", st->unreachable_us);
	else
		strbuf_puts(out, "  reachable: yes\n");

	strbuf_puts(out, "\nreplication:\n");
	strbuf_printf(out, "  state: %s\n", st->repl_state);
	strbuf_printf(out, "  slot: %s\n", st->slot);
	strbuf_printf(out, "  publication: %s\n", cfg->replication_publication);
	strbuf_printf(out, "  system_id: %s\n", st->system_id[0] ? st->system_id : "-");
	strbuf_printf(out, "  generation: %u\n", st->generation);
	strbuf_printf(out, "  received_lsn: %s\n", lsn_format(st->received_lsn, lsn));
	strbuf_printf(out, "  applied_lsn: %s\n", lsn_format(st->applied_lsn, lsn));
	strbuf_printf(out, "  flushed_lsn: %s\n", lsn_format(st->flushed_lsn, lsn));
	strbuf_printf(out, "  upstream_lsn: %s\n", lsn_format(st->upstream_lsn, lsn));
	strbuf_printf(out, "  lag: %llu bytes, %.3f s\n", (unsigned long long)st->lag_bytes,
	              st->lag_seconds);
	ctl_text_time(out, "current_as_of", st->current_as_of_us);
	strbuf_printf(out, "  applied: %llu transactions, %llu rows\n",
	              (unsigned long long)st->txns_applied, (unsigned long long)st->rows_applied);
	strbuf_printf(out, "  last_error: %s\n", st->last_error[0] ? st->last_error : "-");

	strbuf_puts(out, "\ninitial sync:\n");
	strbuf_printf(out, "  state: %s\n", st->sync_state);
	strbuf_printf(out, "  tables: %u of %u done\n", st->sync_tables_done,
	              st->sync_tables_total);
	strbuf_printf(out, "  rows: %llu of about %llu, %.1f rows/s\n",
	              (unsigned long long)st->sync_rows_done,
	              (unsigned long long)st->sync_rows_estimated, st->sync_rows_per_second);
	strbuf_printf(out, "  current_table: %s\n",
	              st->sync_running && st->sync_table[0] ? st->sync_table : "-");
	if (st->sync_running)
		ctl_text_progress(out, st);
	ctl_text_time(out, "started_at", st->sync_started_us);
	ctl_text_time(out, "finished_at", st->sync_finished_us);

	strbuf_puts(out, "\nproxy:\n");
	strbuf_printf(out, "  listen: %s port %d\n", cfg->proxy_address, cfg->proxy_port);
	strbuf_printf(out, "  clients: %llu (max %d)\n", (unsigned long long)st->proxy_clients,
	              cfg->proxy_max_clients);
	strbuf_printf(out, "  upstream connections: %llu\n",
	              (unsigned long long)st->proxy_upstream_conns);
	strbuf_printf(out, "  queries forwarded: %llu\n", (unsigned long long)st->proxy_queries);
	strbuf_printf(out, "  queries answered locally: %llu (local reads %s)\n",
	              (unsigned long long)st->proxy_local, cfg->proxy_local_reads ? "on" : "off");
	for (uint32_t i = 0; i < st->nproxy; i++) {
		const struct shm_proxy_worker *w = &st->proxy[i];

		strbuf_printf(
		        out,
		        "  worker %u: %llu clients (%llu since start), %llu queries "
		        "forwarded, %llu answered locally, %llu failed logins",
		        i, (unsigned long long)w->clients, (unsigned long long)w->clients_total,
		        (unsigned long long)w->queries_forwarded,
		        (unsigned long long)w->queries_local, (unsigned long long)w->logins_failed);
		if (cfg->proxy_login_cache_ttl > 0)
			strbuf_printf(out, ", %llu from the login cache",
			              (unsigned long long)w->logins_cached);
		strbuf_putc(out, '\n');
	}
	if (st->ntop > 0) {
		strbuf_puts(out, "  forwarded most (estimated from a sample):\n");
		for (size_t i = 0; i < st->ntop; i++)
			strbuf_printf(out, "    %8llu  %s\n", (unsigned long long)st->top[i].count,
			              st->top[i].text);
	}
}

/* One Prometheus sample; name has the sqledge_ prefix added, labels may be NULL. */
static void
ctl_metric(struct strbuf *out, const char *name, const char *labels, double v)
{
	strbuf_printf(out, "sqledge_%s%s%s%s %.17g\n", name, labels ? "{" : "",
	              labels ? labels : "", labels ? "}" : "", v);
}

/* The HELP and TYPE lines of a family. */
static void
ctl_metric_family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf_printf(out, "# HELP sqledge_%s %s\n# TYPE sqledge_%s %s\n", name, help, name, type);
}

void
ctl_render_metrics(const struct cfg *cfg, const struct shm_state *shm, struct strbuf *out)
{
	struct ctl_status st;
	char labels[64];
	size_t i;

	ctl_status_read(cfg, shm, &st);
	ctl_metric_family(out, "up", "gauge", "1 while sqledge answers.");
	ctl_metric(out, "up", NULL, 1);
	ctl_metric_family(out, "uptime_seconds", "gauge", "Seconds since the master started.");
	ctl_metric(out, "uptime_seconds", NULL, (double)st.uptime_s);
	ctl_metric_family(out, "replication_state", "gauge",
	                  "1 for the replication worker's state, 0 for the others.");
	for (i = REPL_STATE_STARTING; i <= REPL_STATE_FAILED; i++) {
		const char *name = repl_state_name((enum repl_state)i);

		snprintf(labels, sizeof(labels), "state=\"%s\"", name);
		ctl_metric(out, "replication_state", labels, strcmp(st.repl_state, name) == 0);
	}
	ctl_metric_family(out, "upstream_reachable", "gauge",
	                  "0 while the proxies find the upstream unreachable.");
	ctl_metric(out, "upstream_reachable", NULL, st.unreachable_us == 0);
	ctl_metric_family(out, "replication_lsn", "gauge",
	                  "WAL positions as byte offsets: received, applied, flushed, upstream.");
	ctl_metric(out, "replication_lsn", "kind=\"received\"", (double)st.received_lsn);
	ctl_metric(out, "replication_lsn", "kind=\"applied\"", (double)st.applied_lsn);
	ctl_metric(out, "replication_lsn", "kind=\"flushed\"", (double)st.flushed_lsn);
	ctl_metric(out, "replication_lsn", "kind=\"upstream\"", (double)st.upstream_lsn);
	ctl_metric_family(out, "replication_lag_bytes", "gauge",
	                  "Upstream position minus applied position.");
	ctl_metric(out, "replication_lag_bytes", NULL, (double)st.lag_bytes);
	ctl_metric_family(out, "replication_lag_seconds", "gauge",
	                  "0 when caught up, else seconds since the copy was last caught up.");
	ctl_metric(out, "replication_lag_seconds", NULL, st.lag_seconds);
	ctl_metric_family(out, "replication_current_as_of_seconds", "gauge",
	                  "Unix time when the copy was last known current.");
	ctl_metric(out, "replication_current_as_of_seconds", NULL,
	           (double)st.current_as_of_us / 1e6);
	ctl_metric_family(out, "replication_transactions_applied_total", "counter",
	                  "Upstream transactions applied to the copy.");
	ctl_metric(out, "replication_transactions_applied_total", NULL, (double)st.txns_applied);
	ctl_metric_family(out, "replication_rows_applied_total", "counter",
	                  "Row changes applied to the copy.");
	ctl_metric(out, "replication_rows_applied_total", NULL, (double)st.rows_applied);
	ctl_metric_family(out, "generation", "gauge", "The database generation in use.");
	ctl_metric(out, "generation", NULL, st.generation);
	ctl_metric_family(out, "initial_sync_running", "gauge", "1 while an initial sync runs.");
	ctl_metric(out, "initial_sync_running", NULL, st.sync_running);
	ctl_metric_family(out, "initial_sync_tables", "gauge", "Tables of the initial sync.");
	ctl_metric(out, "initial_sync_tables", "kind=\"done\"", st.sync_tables_done);
	ctl_metric(out, "initial_sync_tables", "kind=\"total\"", st.sync_tables_total);
	ctl_metric_family(out, "initial_sync_rows", "gauge", "Rows of the initial sync.");
	ctl_metric(out, "initial_sync_rows", "kind=\"done\"", (double)st.sync_rows_done);
	ctl_metric(out, "initial_sync_rows", "kind=\"estimated\"", (double)st.sync_rows_estimated);
	ctl_metric_family(out, "worker_restarts_total", "counter",
	                  "Times the master restarted a worker.");
	ctl_metric(out, "worker_restarts_total", "role=\"repl\"", st.repl_restarts);
	for (i = 0; i < st.nproxy; i++) {
		snprintf(labels, sizeof(labels), "role=\"proxy\",worker=\"%zu\"", i);
		ctl_metric(out, "worker_restarts_total", labels, st.proxy[i].restarts);
	}
	ctl_metric_family(out, "proxy_clients", "gauge", "Clients connected, per proxy worker.");
	for (i = 0; i < st.nproxy; i++) {
		snprintf(labels, sizeof(labels), "worker=\"%zu\"", i);
		ctl_metric(out, "proxy_clients", labels, (double)st.proxy[i].clients);
	}
	ctl_metric_family(out, "proxy_upstream_connections", "gauge",
	                  "Upstream connections the proxy holds.");
	ctl_metric(out, "proxy_upstream_connections", NULL, (double)st.proxy_upstream_conns);
	/* counters per worker: a worker that restarts starts from 0, which Prometheus reads as
	 * that series' reset */
	ctl_metric_family(out, "proxy_queries_total", "counter",
	                  "Statements answered from the local copy or forwarded upstream.");
	for (i = 0; i < st.nproxy; i++) {
		snprintf(labels, sizeof(labels), "worker=\"%zu\",route=\"local\"", i);
		ctl_metric(out, "proxy_queries_total", labels, (double)st.proxy[i].queries_local);
		snprintf(labels, sizeof(labels), "worker=\"%zu\",route=\"forwarded\"", i);
		ctl_metric(out, "proxy_queries_total", labels,
		           (double)st.proxy[i].queries_forwarded);
	}
	ctl_metric_family(out, "proxy_session_checks_total", "counter",
	                  "Session checks sent with a write (ahead) or waited for by a read "
	                  "(held).");
	for (i = 0; i < st.nproxy; i++) {
		snprintf(labels, sizeof(labels), "worker=\"%zu\",kind=\"ahead\"", i);
		ctl_metric(out, "proxy_session_checks_total", labels,
		           (double)st.proxy[i].checks_ahead);
		snprintf(labels, sizeof(labels), "worker=\"%zu\",kind=\"held\"", i);
		ctl_metric(out, "proxy_session_checks_total", labels,
		           (double)st.proxy[i].checks_held);
	}
	ctl_metric_family(out, "proxy_logins_failed_total", "counter",
	                  "Logins refused (wrong password, unknown user...).");
	for (i = 0; i < st.nproxy; i++) {
		snprintf(labels, sizeof(labels), "worker=\"%zu\"", i);
		ctl_metric(out, "proxy_logins_failed_total", labels,
		           (double)st.proxy[i].logins_failed);
	}
	ctl_metric_family(out, "proxy_logins_cached_total", "counter",
	                  "Sessions begun from the login cache, without asking the upstream.");
	for (i = 0; i < st.nproxy; i++) {
		snprintf(labels, sizeof(labels), "worker=\"%zu\"", i);
		ctl_metric(out, "proxy_logins_cached_total", labels,
		           (double)st.proxy[i].logins_cached);
	}
}

void
ctl_render_brief(const struct cfg *cfg, const struct shm_state *shm, struct strbuf *out)
{
	struct ctl_status st;

	ctl_status_read(cfg, shm, &st);
	strbuf_printf(out,
	              "replication %s, lag %llu bytes (%.1f s), %llu clients, %llu local / "
	              "%llu forwarded",
	              st.repl_state, (unsigned long long)st.lag_bytes, st.lag_seconds,
	              (unsigned long long)st.proxy_clients, (unsigned long long)st.proxy_local,
	              (unsigned long long)st.proxy_queries);
	if (st.unreachable_us)
		strbuf_puts(out, ", upstream unreachable");
}

void
ctl_render_status(const struct cfg *cfg, const struct shm_state *shm, int json, struct strbuf *out)
{
	struct ctl_status st;

	ctl_status_read(cfg, shm, &st);
	if (json)
		ctl_render_json(cfg, &st, out);
	else
		ctl_render_text(cfg, &st, out);
}
