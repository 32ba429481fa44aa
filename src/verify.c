/* SPDX-License-Identifier: MIT */
/* sqledgectl verify: compares every replicated table of the local copy with the upstream at
 * one position.
 *
 * The position comes from a temporary slot made upstream inside a REPEATABLE READ
 * transaction, whose snapshot then shows exactly the transactions that commit before the
 * slot's consistent point P. The replication worker is asked to pause first (so the copy
 * cannot pass P while the slot is made), then to hold at P: it applies every transaction
 * that commits before P and none after. A read transaction on the copy taken there sees the
 * same rows as the upstream's snapshot should; replication goes on as soon as both snapshots
 * are taken. Each table's rows are compared as multisets of digests of their stored form:
 * the upstream's values are converted as a sync would store them, so "equal" means the copy
 * holds exactly what a fresh sync at P would. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "apply.h"
#include "cfg.h"
#include "failpoint.h"
#include "localcat.h"
#include "log.h"
#include "pgvalue.h"
#include "shm.h"
#include "store.h"
#include "sync.h"
#include "upstream.h"
#include "util.h"
#include "verify.h"

/* the three waits stay well within the replication worker's own limit (REPL_HOLD_MAX_US) */
#define VERIFY_PAUSE_MS 30000 /* for the replication worker to finish its transaction */
#define VERIFY_SLOT_S 30      /* for the upstream's snapshot, which waits for transactions */
#define VERIFY_HOLD_MS 20000  /* for the copy to reach the snapshot's position */
#define VERIFY_LOCATE_MAX_ROWS (16 * 1024 * 1024) /* rows of a side whose digests are kept */
#define VERIFY_SAMPLES 5                          /* differing rows shown per side and table */
#define VERIFY_SAMPLE_LEN 200                     /* bytes shown of each */
#define VERIFY_MAX_FIELDS 1700

/* 128 bits of a row's SHA-256 */
struct vhash {
	uint64_t a, b;
};

/* what was read of one side of a table */
struct vside {
	uint64_t rows;
	struct vhash sum; /* of the row digests, mod 2^128: equal multisets, equal sums */
	/* the second pass: every digest */
	struct vhash *vec;
	size_t len, cap;
	/* the third pass: the rows to show (digests only this side has), sorted */
	const struct vhash *show;
	size_t nshow;
	bool *used; /* each of them shown once */
	int shown;
};

enum vpass {
	VPASS_SUM = 1,
	VPASS_COLLECT,
	VPASS_SHOW,
};

struct verify {
	const struct cfg *cfg;
	struct shm_state *shm;
	int fd;
	bool out_broken;
	PGconn *conn;
	sqlite3 *db;
	uint64_t at;      /* the upstream position compared at */
	uint64_t copy_at; /* the copy's recorded position there */
	EVP_MD_CTX *md;
	struct strbuf enc; /* one row's stored form, hashed */
	struct strbuf scratch;
	struct strbuf line; /* a row being shown */
	struct pgv_field *fields;
	struct localcat *cat; /* the copy's tables, at its snapshot */
	int compared, differ, skipped;
	uint64_t rows;
};

/* ---- output ---- */

static void vout(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes one line of the report to the control connection (and gives up on it quietly once
 * the client has gone). */
static void
vout(struct verify *v, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	size_t len, off = 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(buf) - 1 ? (size_t)n : sizeof(buf) - 2;
	buf[len++] = '\n';
	while (!v->out_broken && off < len) {
		ssize_t w = send(v->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_info("verify: the control client went away: %s", strerror(errno));
			v->out_broken = true;
			break;
		}
		off += (size_t)w;
	}
}

/* libpq's messages span lines and end with one */
static const char *
pq_message(PGconn *conn, const PGresult *res)
{
	static char buf[512];
	const char *m = res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
	                                                    : PQerrorMessage(conn);
	size_t i, o = 0;

	for (i = 0; m[i] && o < sizeof(buf) - 1; i++)
		buf[o++] = m[i] == '\n' || m[i] == '\t' ? ' ' : m[i];
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
	return buf;
}

/* ---- the hold ---- */

static void
hold_ask(struct verify *v, uint64_t req)
{
	if (req != 0) {
		shm_store(v->shm->hold_owner, getpid());
		shm_store(v->shm->hold_req, req);
	} else {
		shm_store(v->shm->hold_req, 0);
		shm_store(v->shm->hold_owner, 0);
	}
	shm_hold_wake(v->shm);
}

/* Whether the replication worker answers our request with state want. */
static bool
hold_is(struct verify *v, enum hold_state want)
{
	return shm_load(v->shm->hold_ack_owner) == getpid() &&
	       shm_load(v->shm->hold_state) == (uint32_t)want &&
	       shm_load(v->shm->hold_ack_owner) == getpid();
}

static int
hold_wait(struct verify *v, enum hold_state want, int timeout_ms)
{
	int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;

	while (!hold_is(v, want)) {
		if (shm_load(v->shm->repl_state) != REPL_STATE_STREAMING)
			return -1;
		if (time_mono_us() > deadline)
			return -1;
		usleep(2000);
	}
	return 0;
}

/* Takes the two snapshots at one position: the upstream's (v->conn's transaction) and the
 * copy's (v->db's read transaction). The copy is held for as short a time as that takes. */
static int
take_snapshots(struct verify *v)
{
	const struct cfg *cfg = v->cfg;
	struct strbuf name;
	PGresult *res;
	sqlite3_stmt *st = NULL;
	char *path = NULL;
	char l[LSN_BUFLEN];
	int64_t t0;
	uint32_t gen;
	int n, err, r = -1;

	res = PQexec(v->conn, "BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		vout(v, "error: BEGIN upstream failed: %s", pq_message(v->conn, res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	res = NULL;

	t0 = time_mono_us();
	hold_ask(v, SHM_HOLD_PAUSE);
	if (hold_wait(v, HOLD_PAUSED, VERIFY_PAUSE_MS) < 0) {
		vout(v,
		     "error: the replication worker did not pause within %d s (it stopped "
		     "streaming, or applies a very large transaction); try again",
		     VERIFY_PAUSE_MS / 1000);
		goto out;
	}
	gen = shm_load(v->shm->generation);

	strbuf_init(&name);
	n = (int)strlen(cfg->replication_slot_name);
	strbuf_printf(&name, "%.*s_verify_%d", n > 40 ? 40 : n, cfg->replication_slot_name,
	              (int)getpid());
	/* the snapshot waits for the transactions running when it begins: not for long */
	res = sync_create_slot(cfg, v->conn, strbuf_str(&name), true, VERIFY_SLOT_S, &err);
	strbuf_free(&name);
	if (res == NULL) {
		vout(v, "error: %s; try again later", log_last_error());
		goto out;
	}
	if (lsn_parse(PQgetvalue(res, 0, 1), &v->at) < 0) {
		vout(v, "error: CREATE_REPLICATION_SLOT returned an unreadable position");
		goto out;
	}
	PQclear(res);
	res = NULL;

	hold_ask(v, v->at);
	if (hold_wait(v, HOLD_AT, VERIFY_HOLD_MS) < 0) {
		vout(v, "error: the copy did not reach %s within %d s (replication %s); try again",
		     lsn_format(v->at, l), VERIFY_HOLD_MS / 1000,
		     repl_state_name((enum repl_state)shm_load(v->shm->repl_state)));
		goto out;
	}
	path = store_generation_path(cfg->local_db_path, gen);
	shm_store(v->shm->verify_reader, getpid());
	if (store_open_reader(path, &v->db) < 0) {
		vout(v, "error: cannot open the copy \"%s\": %s", path, log_last_error());
		goto out;
	}
	/* a read transaction's snapshot is taken by its first read */
	if (sqlite3_exec(v->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(v->db, "SELECT lsn_int FROM postgres_pos", -1, &st, NULL) !=
	            SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		vout(v, "error: cannot read the copy's position: %s", sqlite3_errmsg(v->db));
		goto out;
	}
	v->copy_at = (uint64_t)sqlite3_column_int64(st, 0);
	FAILPOINT("verify-held");
	/* still held there, in the same copy, now that the snapshot is taken */
	if (!hold_is(v, HOLD_AT) || shm_load(v->shm->hold_req) != v->at ||
	    shm_load(v->shm->generation) != gen) {
		vout(v, "error: the copy moved on (replication restarted or a resync finished) "
		        "while verify took its snapshot; try again");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	hold_ask(v, 0);
	PQclear(res);
	free(path);
	if (r == 0)
		log_info("verify: comparing at %s; replication was held for %" PRId64 " ms",
		         lsn_format(v->at, l), (time_mono_us() - t0) / 1000);
	return r;
}

/* ---- the copy's catalog ---- */

static int
load_copy_catalog(struct verify *v)
{
	if (localcat_load(v->db, &v->cat) == 0)
		return 0;
	vout(v, "error: cannot read the copy's catalog: %s", sqlite3_errmsg(v->db));
	return -1;
}

/* ---- rows ---- */

static void
enc_value(struct strbuf *enc, const struct pgv_value *val)
{
	uint64_t x;

	switch (val->type) {
	case PGV_VAL_NULL:
		strbuf_putc(enc, 'n');
		return;
	case PGV_VAL_INT:
		strbuf_putc(enc, 'i');
		x = (uint64_t)val->i;
		strbuf_append(enc, &x, sizeof(x));
		return;
	case PGV_VAL_REAL:
		strbuf_putc(enc, 'r');
		memcpy(&x, &val->d, sizeof(x));
		strbuf_append(enc, &x, sizeof(x));
		return;
	case PGV_VAL_TEXT:
	case PGV_VAL_BLOB:
		strbuf_putc(enc, val->type == PGV_VAL_TEXT ? 't' : 'b');
		x = val->len;
		strbuf_append(enc, &x, sizeof(x));
		strbuf_append(enc, val->p, val->len);
		return;
	}
}

static struct vhash
enc_hash(struct verify *v)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct vhash h;

	EVP_DigestInit_ex(v->md, EVP_sha256(), NULL);
	EVP_DigestUpdate(v->md, v->enc.data ? v->enc.data : "", v->enc.len);
	EVP_DigestFinal_ex(v->md, md, &mdlen);
	memcpy(&h.a, md, sizeof(h.a));
	memcpy(&h.b, md + sizeof(h.a), sizeof(h.b));
	return h;
}

static int
vhash_cmp(const void *x, const void *y)
{
	const struct vhash *a = x, *b = y;

	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	return 0;
}

/* Adds a row's digest; true when the row is one to show. */
static bool
side_add(struct vside *s, enum vpass pass, struct vhash h)
{
	s->rows++;
	s->sum.a += h.a;
	s->sum.b += h.b + (s->sum.a < h.a);
	if (pass == VPASS_COLLECT) {
		if (s->len == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 1024;
			s->vec = xrealloc(s->vec, s->cap * sizeof(*s->vec));
		}
		s->vec[s->len++] = h;
	} else if (pass == VPASS_SHOW && s->shown < VERIFY_SAMPLES) {
		const struct vhash *f = bsearch(&h, s->show, s->nshow, sizeof(h), vhash_cmp);
		size_t i;

		if (f == NULL)
			return false;
		/* a row there twice differs twice: show it as often as it differs */
		for (i = (size_t)(f - s->show); i > 0 && vhash_cmp(&s->show[i - 1], &h) == 0; i--)
			;
		for (; i < s->nshow && vhash_cmp(&s->show[i], &h) == 0; i++) {
			if (!s->used[i]) {
				s->used[i] = true;
				s->shown++;
				return true;
			}
		}
	}
	return false;
}

static void
side_reset(struct vside *s)
{
	s->rows = 0;
	s->sum.a = s->sum.b = 0;
	s->shown = 0;
}

/* Appends a value to a row being shown, escaped as COPY escapes it: one line per row. */
static void
show_value(struct strbuf *line, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\')
			strbuf_puts(line, "\\\\");
		else if (c == '\n')
			strbuf_puts(line, "\\n");
		else if (c == '\r')
			strbuf_puts(line, "\\r");
		else if (c == '\t')
			strbuf_puts(line, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_printf(line, "\\x%02x", c);
		else
			strbuf_putc(line, (char)c);
	}
}

static void
show_row(struct verify *v, const char *which)
{
	size_t len = v->line.len;

	while (len > 0 && (v->line.data[len - 1] == '\n' || v->line.data[len - 1] == '\r'))
		len--;
	if (len > VERIFY_SAMPLE_LEN)
		vout(v, "    %s: %.*s...", which, VERIFY_SAMPLE_LEN, v->line.data);
	else
		vout(v, "    %s: %.*s", which, (int)len, v->line.data ? v->line.data : "");
}

/* Reads the table upstream (at the snapshot) into s; map[j] is the copy's column for the
 * upstream's column j. */
static int
scan_upstream(struct verify *v, const struct sync_table *t, const struct localcat_rel *rel,
              const int *map, enum vpass pass, struct vside *s)
{
	struct strbuf sql;
	PGresult *res;
	char *buf = NULL;
	int n, r = 0;

	strbuf_init(&sql);
	sync_copy_sql(t, &sql);
	res = PQexec(v->conn, strbuf_str(&sql));
	strbuf_free(&sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		vout(v, "error: reading %s.%s upstream failed: %s", t->nspname, t->relname,
		     pq_message(v->conn, res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	while ((n = PQgetCopyData(v->conn, &buf, 0)) > 0) {
		int nf, j;

		nf = pgv_copy_split(buf, (size_t)n, v->fields, VERIFY_MAX_FIELDS);
		if (nf != t->ncols) {
			if (r == 0)
				vout(v, "error: a COPY row of %s.%s has %d fields, not %d",
				     t->nspname, t->relname, nf, t->ncols);
			r = -1;
		}
		strbuf_reset(&v->enc);
		for (j = 0; r == 0 && j < nf; j++) {
			struct pgv_value val = {.type = PGV_VAL_NULL};

			/* stored as a sync stores it: text that does not parse stays text */
			if (!v->fields[j].is_null &&
			    pgv_from_text(rel->cols[map[j]].kind, v->fields[j].p, v->fields[j].len,
			                  &v->scratch, &val) < 0) {
				val.type = PGV_VAL_TEXT;
				val.p = v->fields[j].p;
				val.len = v->fields[j].len;
			}
			enc_value(&v->enc, &val);
		}
		if (r == 0 && side_add(s, pass, enc_hash(v))) {
			strbuf_reset(&v->line);
			for (j = 0; j < nf; j++) {
				if (j > 0)
					strbuf_putc(&v->line, '\t');
				if (v->fields[j].is_null)
					strbuf_puts(&v->line, "\\N");
				else
					show_value(&v->line, v->fields[j].p, v->fields[j].len);
			}
			show_row(v, "only upstream");
		}
		PQfreemem(buf);
		buf = NULL;
	}
	if (n == -2 && r == 0) {
		vout(v, "error: reading %s.%s upstream failed: %s", t->nspname, t->relname,
		     pq_message(v->conn, NULL));
		r = -1;
	}
	while ((res = PQgetResult(v->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && r == 0) {
			vout(v, "error: reading %s.%s upstream failed: %s", t->nspname, t->relname,
			     pq_message(v->conn, res));
			r = -1;
		}
		PQclear(res);
	}
	return r;
}

/* Reads the table in the copy (at its snapshot) into s, its columns in the upstream's order. */
static int
scan_copy(struct verify *v, const struct sync_table *t, const struct localcat_rel *rel,
          const int *map, enum vpass pass, struct vside *s)
{
	static const struct pgv_out_settings out = {.extra_float_digits = 1};
	struct strbuf sql;
	sqlite3_stmt *st = NULL;
	int rc, j;

	strbuf_init(&sql);
	strbuf_puts(&sql, "SELECT ");
	for (j = 0; j < t->ncols; j++) {
		strbuf_puts(&sql, j ? ", " : "");
		strbuf_quote_ident(&sql, rel->cols[map[j]].sqlite_name);
	}
	strbuf_puts(&sql, " FROM ");
	strbuf_quote_ident(&sql, rel->sqlite_name);
	rc = sqlite3_prepare_v2(v->db, strbuf_str(&sql), -1, &st, NULL);
	strbuf_free(&sql);
	if (rc != SQLITE_OK) {
		vout(v, "error: reading %s.%s in the copy failed: %s", t->nspname, t->relname,
		     sqlite3_errmsg(v->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		strbuf_reset(&v->enc);
		if (pass == VPASS_SHOW)
			strbuf_reset(&v->line);
		for (j = 0; j < t->ncols; j++) {
			struct pgv_value val = {.type = PGV_VAL_NULL};

			switch (sqlite3_column_type(st, j)) {
			case SQLITE_INTEGER:
				val.type = PGV_VAL_INT;
				val.i = sqlite3_column_int64(st, j);
				break;
			case SQLITE_FLOAT:
				val.type = PGV_VAL_REAL;
				val.d = sqlite3_column_double(st, j);
				break;
			case SQLITE_TEXT:
				val.type = PGV_VAL_TEXT;
				val.p = (const char *)sqlite3_column_text(st, j);
				val.len = (size_t)sqlite3_column_bytes(st, j);
				break;
			case SQLITE_BLOB:
				val.type = PGV_VAL_BLOB;
				val.p = sqlite3_column_blob(st, j);
				val.len = (size_t)sqlite3_column_bytes(st, j);
				break;
			}
			enc_value(&v->enc, &val);
			if (pass == VPASS_SHOW) {
				if (j > 0)
					strbuf_putc(&v->line, '\t');
				strbuf_reset(&v->scratch);
				if (val.type == PGV_VAL_NULL)
					strbuf_puts(&v->line, "\\N");
				else if (pgv_to_text(rel->cols[map[j]].type_oid, &val, &out,
				                     &v->scratch) < 0)
					strbuf_puts(&v->line, "?");
				else
					show_value(&v->line, v->scratch.data, v->scratch.len);
			}
		}
		if (side_add(s, pass, enc_hash(v)))
			show_row(v, "only in the copy");
	}
	if (rc != SQLITE_DONE)
		vout(v, "error: reading %s.%s in the copy failed: %s", t->nspname, t->relname,
		     sqlite3_errmsg(v->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The digests only a has (a and b sorted). */
static size_t
only_in(const struct vside *a, const struct vside *b, struct vhash **out)
{
	size_t i = 0, j = 0, n = 0;
	struct vhash *res = xcalloc(a->len + 1, sizeof(*res));

	while (i < a->len) {
		int c = j < b->len ? vhash_cmp(&a->vec[i], &b->vec[j]) : -1;

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			res[n++] = a->vec[i++];
		} else {
			j++;
		}
	}
	*out = res;
	return n;
}

/* Compares one table's rows; reports and returns 1 when they differ, -1 on error. */
static int
compare_rows(struct verify *v, const struct sync_table *t, const struct localcat_rel *rel,
             const int *map, const char *label)
{
	struct vside up, cp;
	struct vhash *up_only = NULL, *cp_only = NULL;
	size_t nup = 0, ncp = 0;
	int r = -1;

	memset(&up, 0, sizeof(up));
	memset(&cp, 0, sizeof(cp));
	if (scan_upstream(v, t, rel, map, VPASS_SUM, &up) < 0 ||
	    scan_copy(v, t, rel, map, VPASS_SUM, &cp) < 0)
		goto out;
	v->rows += up.rows;
	if (up.rows == cp.rows && up.sum.a == cp.sum.a && up.sum.b == cp.sum.b) {
		vout(v, "%s: equal, %" PRIu64 " %s", label, up.rows, up.rows == 1 ? "row" : "rows");
		r = 0;
		goto out;
	}
	if (up.rows > VERIFY_LOCATE_MAX_ROWS || cp.rows > VERIFY_LOCATE_MAX_ROWS) {
		vout(v,
		     "%s: DIFFERS: %" PRIu64 " rows upstream, %" PRIu64 " in the copy, and their "
		     "values differ (too many rows to list the differing ones: name a smaller "
		     "table, or compare by hand)",
		     label, up.rows, cp.rows);
		r = 1;
		goto out;
	}
	/* they differ: find the rows */
	side_reset(&up);
	side_reset(&cp);
	if (scan_upstream(v, t, rel, map, VPASS_COLLECT, &up) < 0 ||
	    scan_copy(v, t, rel, map, VPASS_COLLECT, &cp) < 0)
		goto out;
	qsort(up.vec, up.len, sizeof(*up.vec), vhash_cmp);
	qsort(cp.vec, cp.len, sizeof(*cp.vec), vhash_cmp);
	nup = only_in(&up, &cp, &up_only);
	ncp = only_in(&cp, &up, &cp_only);
	vout(v,
	     "%s: DIFFERS: %zu %s only upstream, %zu only in the copy (%" PRIu64
	     " upstream, %" PRIu64 " in the copy)",
	     label, nup, nup == 1 ? "row" : "rows", ncp, up.rows, cp.rows);
	side_reset(&up);
	side_reset(&cp);
	up.show = up_only;
	up.nshow = nup;
	up.used = xcalloc(nup + 1, sizeof(*up.used));
	cp.show = cp_only;
	cp.nshow = ncp;
	cp.used = xcalloc(ncp + 1, sizeof(*cp.used));
	if ((nup == 0 || scan_upstream(v, t, rel, map, VPASS_SHOW, &up) == 0) &&
	    (ncp == 0 || scan_copy(v, t, rel, map, VPASS_SHOW, &cp) == 0))
		r = 1;
out:
	free(up.vec);
	free(cp.vec);
	free(up.used);
	free(cp.used);
	free(up_only);
	free(cp_only);
	return r;
}

/* Matches the upstream's columns with the copy's by name; reports and returns 1 when they
 * differ. */
static int
match_columns(struct verify *v, const struct sync_table *t, const struct localcat_rel *rel,
              int *map, const char *label)
{
	size_t i;
	int j;

	for (j = 0; j < t->ncols; j++) {
		const struct apply_coldef *c = &t->cols[j];
		const struct localcat_col *lc = localcat_column(rel, c->name);

		map[j] = lc ? (int)(lc - rel->cols) : -1;
		if (map[j] < 0) {
			vout(v, "%s: DIFFERS: column \"%s\" is missing from the copy", label,
			     c->name);
			return 1;
		}
		if (rel->cols[map[j]].type_oid != c->type_oid) {
			vout(v,
			     "%s: DIFFERS: column \"%s\" has type %" PRIu32 " upstream, %" PRIu32
			     " in the copy",
			     label, c->name, c->type_oid, rel->cols[map[j]].type_oid);
			return 1;
		}
	}
	if (rel->ncols != (size_t)t->ncols) {
		for (i = 0; i < rel->ncols; i++) {
			for (j = 0; j < t->ncols && map[j] != (int)i; j++)
				;
			if (j == t->ncols) {
				vout(v,
				     "%s: DIFFERS: the copy has column \"%s\", which the upstream "
				     "does not publish",
				     label, rel->cols[i].attname);
				return 1;
			}
		}
	}
	return 0;
}

/* ---- the tables ---- */

struct vpair {
	const struct sync_table *up;     /* NULL: only in the copy */
	const struct localcat_rel *copy; /* NULL: only upstream */
	char label[256];
};

static int
vpair_cmp(const void *x, const void *y)
{
	const struct vpair *a = x, *b = y;

	return strcmp(a->label, b->label);
}

/* Whether the table was asked for: args lists "schema.table" or "table" names. */
static bool
selected(const char *args, const char *nspname, const char *relname, bool *matched, int nwords)
{
	const char *p = args;
	size_t nl = strlen(nspname), rl = strlen(relname);
	bool any = false;
	int w = 0;

	if (nwords == 0)
		return true;
	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t");
		if (len == 0)
			break;
		if ((len == rl && memcmp(p, relname, rl) == 0) ||
		    (len == nl + 1 + rl && memcmp(p, nspname, nl) == 0 && p[nl] == '.' &&
		     memcmp(p + nl + 1, relname, rl) == 0)) {
			matched[w] = true;
			any = true;
		}
		p += len;
		w++;
	}
	return any;
}

static int
count_words(const char *p)
{
	int n = 0;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		n++;
		p += strcspn(p, " \t");
	}
	return n;
}

/* Whether a table upstream has any (published) row: 1, 0, or -1 (reported). */
static int
upstream_has_rows(struct verify *v, const struct sync_table *t)
{
	struct strbuf sql;
	PGresult *res;
	int r;

	strbuf_init(&sql);
	strbuf_puts(&sql, t->relkind == 'p' ? "SELECT EXISTS (SELECT FROM "
	                                    : "SELECT EXISTS (SELECT FROM ONLY ");
	strbuf_quote_ident(&sql, t->nspname);
	strbuf_putc(&sql, '.');
	strbuf_quote_ident(&sql, t->relname);
	if (t->rowfilter)
		strbuf_printf(&sql, " WHERE %s", t->rowfilter);
	strbuf_putc(&sql, ')');
	res = PQexec(v->conn, strbuf_str(&sql));
	strbuf_free(&sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		vout(v, "error: reading %s.%s upstream failed: %s", t->nspname, t->relname,
		     pq_message(v->conn, res));
		r = -1;
	} else {
		r = PQgetvalue(res, 0, 0)[0] == 't';
	}
	PQclear(res);
	return r;
}

static int
compare_all(struct verify *v, const char *args)
{
	struct sync_table *tables = NULL;
	PGresult *colres = NULL;
	struct vpair *pairs;
	int64_t bytes = 0;
	int ntables = 0, npairs = 0, i, nwords = count_words(args), bad = 0;
	bool *matched = xcalloc((size_t)nwords + 1, sizeof(*matched));
	char l[LSN_BUFLEN];

	if (sync_read_catalog(v->cfg, v->conn, PQserverVersion(v->conn), 0, &tables, &ntables,
	                      &colres, &bytes) != 0) {
		vout(v, "error: reading the published tables upstream failed: %s",
		     log_last_error());
		free(matched);
		return -1;
	}
	pairs = xcalloc((size_t)ntables + v->cat->nrels + 1, sizeof(*pairs));
	for (i = 0; i < ntables; i++) {
		if (!selected(args, tables[i].nspname, tables[i].relname, matched, nwords))
			continue;
		pairs[npairs].up = &tables[i];
		pairs[npairs].copy = localcat_by_relid(v->cat, tables[i].relid);
		snprintf(pairs[npairs].label, sizeof(pairs[npairs].label), "%s.%s",
		         tables[i].nspname, tables[i].relname);
		npairs++;
	}
	for (size_t c = 0; c < v->cat->nrels; c++) {
		const struct localcat_rel *rel = &v->cat->rels[c];
		int k;

		for (k = 0; k < ntables && tables[k].relid != rel->relid; k++)
			;
		if (k < ntables || !selected(args, rel->nspname, rel->relname, matched, nwords))
			continue;
		pairs[npairs].copy = rel;
		snprintf(pairs[npairs].label, sizeof(pairs[npairs].label), "%s.%s", rel->nspname,
		         rel->relname);
		npairs++;
	}
	for (i = 0; i < nwords; i++) {
		if (!matched[i]) {
			const char *p = args;
			int w = 0;
			size_t len = 0;

			for (;;) {
				while (*p == ' ' || *p == '\t')
					p++;
				len = strcspn(p, " \t");
				if (w++ == i)
					break;
				p += len;
			}
			vout(v, "error: \"%.*s\" is neither published upstream nor in the copy",
			     (int)len, p);
			bad++;
		}
	}
	qsort(pairs, (size_t)npairs, sizeof(*pairs), vpair_cmp);

	for (i = 0; i < npairs && !v->out_broken; i++) {
		const struct vpair *pr = &pairs[i];
		int *map, rc;

		v->compared++;
		if (pr->copy == NULL) {
			rc = upstream_has_rows(v, pr->up);
			if (rc == 0) {
				/* nothing has happened to it since it was published */
				vout(v,
				     "%s: equal, 0 rows (not in the copy yet: a table published "
				     "after the initial sync is copied at its first change)",
				     pr->label);
				continue;
			}
			if (rc > 0)
				vout(v,
				     "%s: DIFFERS: published upstream, with rows, but missing "
				     "from the copy",
				     pr->label);
			v->differ++;
			bad += rc < 0;
			continue;
		}
		if (pr->up == NULL) {
			vout(v, "%s: DIFFERS: in the copy but no longer published upstream",
			     pr->label);
			v->differ++;
			continue;
		}
		if (pr->copy->synced_lsn > v->at) {
			/* a table sync (of a table new to the copy) ran after the position */
			vout(v, "%s: not compared: copied at %s, after the position verified",
			     pr->label, lsn_format(pr->copy->synced_lsn, l));
			v->compared--;
			v->skipped++;
			continue;
		}
		map = xcalloc((size_t)pr->up->ncols + 1, sizeof(*map));
		rc = match_columns(v, pr->up, pr->copy, map, pr->label);
		if (rc == 0 && pr->up->ncols > 0)
			rc = compare_rows(v, pr->up, pr->copy, map, pr->label);
		else if (rc == 0)
			vout(v, "%s: equal (no published columns)", pr->label);
		free(map);
		if (rc != 0)
			v->differ++;
		if (rc < 0)
			bad++;
	}
	free(pairs);
	free(matched);
	sync_tables_free(tables, ntables);
	PQclear(colres);
	return bad ? -1 : 0;
}

int
verify_main(const struct cfg *cfg, struct shm_state *shm, int fd, const char *args)
{
	struct verify v;
	struct strbuf err;
	char l[LSN_BUFLEN], c[LSN_BUFLEN], last[256] = "";
	int flags, r = VERIFY_DIFFERS;

	memset(&v, 0, sizeof(v));
	v.cfg = cfg;
	v.shm = shm;
	v.fd = fd;
	strbuf_init(&v.enc);
	strbuf_init(&v.scratch);
	strbuf_init(&v.line);
	strbuf_init(&err);
	signal(SIGPIPE, SIG_IGN);
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	v.md = EVP_MD_CTX_new();
	v.fields = xcalloc(VERIFY_MAX_FIELDS, sizeof(*v.fields));
	if (v.md == NULL) {
		vout(&v, "error: out of memory");
		goto out;
	}
	if (shm_load(shm->repl_state) != REPL_STATE_STREAMING) {
		vout(&v, "error: replication is %s; verify compares a streaming copy",
		     repl_state_name((enum repl_state)shm_load(shm->repl_state)));
		goto out;
	}
	if (upstream_connect(cfg, true, &v.conn, &err) != 0) {
		vout(&v, "error: %s", strbuf_str(&err));
		goto out;
	}
	if (take_snapshots(&v) < 0)
		goto out;
	vout(&v, "comparing the copy with the upstream at %s (the copy's position there: %s)",
	     lsn_format(v.at, l), lsn_format(v.copy_at, c));
	if (load_copy_catalog(&v) < 0 || compare_all(&v, args) < 0) {
		if (v.differ > 0)
			snprintf(last, sizeof(last),
			         "error: %d of %d tables differ at %s; some "
			         "could not be compared",
			         v.differ, v.compared, lsn_format(v.at, l));
		else
			snprintf(last, sizeof(last), "error: the comparison did not finish");
	} else if (v.differ > 0) {
		snprintf(last, sizeof(last), "error: %d of %d tables differ at %s", v.differ,
		         v.compared, lsn_format(v.at, l));
	} else if (v.skipped > 0) {
		snprintf(last, sizeof(last),
		         "error: %d tables equal, but %d copied after %s could not be compared "
		         "there; verify again",
		         v.compared, v.skipped, lsn_format(v.at, l));
	} else {
		snprintf(last, sizeof(last), "ok: %d tables equal at %s (%" PRIu64 " rows)",
		         v.compared, lsn_format(v.at, l), v.rows);
		r = VERIFY_EQUAL;
	}
out:
	log_info("verify: %s", r == VERIFY_EQUAL ? "the copy equals the upstream"
	                                         : "differences or errors (see the report)");
	if (v.db)
		sqlite3_close(v.db);
	shm_store(shm->verify_reader, 0);
	if (v.conn)
		PQfinish(v.conn); /* drops the temporary slot */
	localcat_free(v.cat);
	EVP_MD_CTX_free(v.md);
	free(v.fields);
	strbuf_free(&v.enc);
	strbuf_free(&v.scratch);
	strbuf_free(&v.line);
	strbuf_free(&err);
	/* the master may reap us as soon as the client has its last line */
	shm_store(shm->verify_exiting, getpid());
	if (last[0])
		vout(&v, "%s", last);
	return r;
}
