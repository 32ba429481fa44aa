/* SPDX-License-Identifier: MIT */
/* Local execution thread of a proxy worker (see localexec.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "localexec.h"
#include "pgfunc.h"
#include "log.h"
#include "pgwire.h"
#include "shm.h"
#include "store.h"

#define LOCALEXEC_PROGRESS_OPS 1000 /* SQLite steps between two looks at the clock */

struct localexec {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct localexec_job *queue, *done;
	uint64_t running;    /* ticket of the job in SQLite now, 0 when none */
	sqlite3 *running_db; /* the connection it runs on */
	bool stop;

	int efd; /* the thread -> loop wakeup */
	struct event *ev;
	localexec_done_fn done_fn;
	void *done_arg;

	char *db_path;
	struct shm_state *shm;
	size_t max_result;
	sqlite3 *db; /* the thread's; other threads only sqlite3_interrupt() it */
	uint32_t db_gen;
};

struct localexec_job *
localexec_job_new(uint64_t ticket, const struct translate_result *tr,
                  const struct pgv_out_settings *settings, struct localread_binds *binds)
{
	struct localexec_job *job = xcalloc(1, sizeof(*job));

	if (binds && binds->n) {
		job->binds = xmalloc(sizeof(*job->binds) * binds->n);
		memcpy(job->binds, binds->v, sizeof(*job->binds) * binds->n);
		job->nbinds = binds->n;
		binds->n = 0; /* the strings are the job's now */
	}

	job->ticket = ticket;
	job->sql = xstrdup(strbuf_str((struct strbuf *)&tr->sql));
	job->ncols = tr->ncols;
	job->cols = xmalloc(sizeof(*job->cols) * (tr->ncols ? tr->ncols : 1));
	memcpy(job->cols, tr->cols, sizeof(*job->cols) * tr->ncols);
	job->settings = *settings;
	job->now_us = time_real_us();
	job->row_description = true;
	strbuf_init(&job->out);
	return job;
}

void
localexec_job_free(struct localexec_job *job)
{
	if (job == NULL)
		return;
	for (size_t i = 0; i < job->nbinds; i++)
		free(job->binds[i].s);
	free(job->binds);
	free(job->binary);
	free(job->sql);
	free(job->cols);
	strbuf_free(&job->out);
	free(job);
}

/* The thread's connection to the current generation; NULL when there is no copy yet. */
static sqlite3 *
localexec_db(struct localexec *ex)
{
	uint32_t gen = shm_load(ex->shm->generation);
	char *path;
	sqlite3 *db = NULL;

	if (gen == 0)
		return NULL;
	if (ex->db && ex->db_gen == gen)
		return ex->db;
	path = store_generation_path(ex->db_path, gen);
	if (store_open_reader(path, &db) < 0) {
		free(path);
		return NULL;
	}
	free(path);
	pthread_mutex_lock(&ex->lock);
	if (ex->db)
		sqlite3_close(ex->db); /* the old generation: its statements are finalized */
	ex->db = db;
	ex->db_gen = gen;
	pthread_mutex_unlock(&ex->lock);
	return db;
}

static void
localexec_run(struct localexec *ex, struct localexec_job *job)
{
	sqlite3 *db;

	if (job->close_db != NULL) {
		sqlite3_close_v2(job->close_db);
		return;
	}
	db = job->db ? job->db : localexec_db(ex);

	if (db == NULL) {
		job->status = LOCALEXEC_UNAVAILABLE;
		snprintf(job->errmsg, sizeof(job->errmsg), "no local copy");
		return;
	}
	localexec_execute(db, NULL, job, ex->max_result);
}

/* SQLite calls it every LOCALEXEC_PROGRESS_OPS steps: past the deadline, the statement is
 * interrupted. */
static int
localexec_progress(void *arg)
{
	struct localexec_job *job = arg;

	if (time_mono_us() < job->deadline_us)
		return 0;
	job->timed_out = true;
	return 1;
}

void
localexec_execute(sqlite3 *db, sqlite3_stmt *st, struct localexec_job *job, size_t max_result)
{
	struct pgw_field fields[256];
	struct pgw_value values[256];
	size_t offs[256];
	struct strbuf scratch;
	bool own = st == NULL;
	size_t described = 0;
	char tag[32];
	size_t i;
	int rc;

	job->status = LOCALEXEC_UNAVAILABLE;
	if (job->ncols > ARRAY_SIZE(fields)) {
		snprintf(job->errmsg, sizeof(job->errmsg), "too many columns");
		return;
	}
	if (own && sqlite3_prepare_v2(db, job->sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(job->errmsg, sizeof(job->errmsg), "%s", sqlite3_errmsg(db));
		return;
	}
	strbuf_init(&scratch);
	pgfunc_set_now(job->now_us);
	if (job->timeout_ms > 0) {
		job->deadline_us = time_mono_us() + job->timeout_ms * 1000;
		sqlite3_progress_handler(db, LOCALEXEC_PROGRESS_OPS, localexec_progress, job);
	}
	for (i = 0; i < job->nbinds; i++) {
		if (job->binds[i].kind == SQLSHAPE_INT)
			rc = sqlite3_bind_int64(st, (int)i + 1, job->binds[i].i);
		else if (job->binds[i].kind == SQLSHAPE_NULL)
			rc = sqlite3_bind_null(st, (int)i + 1);
		else
			rc = sqlite3_bind_text(st, (int)i + 1, job->binds[i].s, -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			snprintf(job->errmsg, sizeof(job->errmsg), "%s", sqlite3_errmsg(db));
			goto out;
		}
	}
	for (i = 0; i < job->ncols; i++) {
		fields[i] = (struct pgw_field){
		        .name = job->cols[i].name,
		        .table_oid = job->cols[i].table_oid,
		        .attnum = job->cols[i].attnum,
		        .type_oid = job->cols[i].type_oid,
		        .typlen = pgv_typlen(job->cols[i].type_oid),
		        .typmod = job->cols[i].typmod,
		        .format =
		                job->binary && job->binary[i] ? PGW_FORMAT_BINARY : PGW_FORMAT_TEXT,
		};
	}
	if (job->row_description)
		pgw_put_row_description(&job->out, (uint16_t)job->ncols, fields);
	described = job->out.len;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		strbuf_reset(&scratch);
		for (i = 0; i < job->ncols; i++) {
			struct pgv_value v = {0};

			offs[i] = scratch.len;
			switch (sqlite3_column_type(st, (int)i)) {
			case SQLITE_NULL:
				values[i].len = -1;
				continue;
			case SQLITE_INTEGER:
				v.type = PGV_VAL_INT;
				v.i = sqlite3_column_int64(st, (int)i);
				break;
			case SQLITE_FLOAT:
				v.type = PGV_VAL_REAL;
				v.d = sqlite3_column_double(st, (int)i);
				break;
			case SQLITE_BLOB:
				v.type = PGV_VAL_BLOB;
				v.p = sqlite3_column_blob(st, (int)i);
				v.len = (size_t)sqlite3_column_bytes(st, (int)i);
				break;
			default:
				v.type = PGV_VAL_TEXT;
				v.p = (const char *)sqlite3_column_text(st, (int)i);
				v.len = (size_t)sqlite3_column_bytes(st, (int)i);
				break;
			}
			if ((job->binary && job->binary[i]
			             ? pgv_to_binary(job->cols[i].type_oid, &v, &scratch)
			             : pgv_to_text(job->cols[i].type_oid, &v, &job->settings,
			                           &scratch)) < 0) {
				snprintf(job->errmsg, sizeof(job->errmsg),
				         "stored value of column \"%s\" does not fit its type",
				         job->cols[i].name);
				goto out;
			}
			values[i].len = (int32_t)(scratch.len - offs[i]);
		}
		for (i = 0; i < job->ncols; i++)
			values[i].data = values[i].len >= 0 ? scratch.data + offs[i] : NULL;
		pgw_put_data_row(&job->out, (uint16_t)job->ncols, values);
		job->rows++;
		if (job->out.len > max_result) {
			job->status = LOCALEXEC_TOO_BIG;
			goto out;
		}
	}
	if (rc == SQLITE_INTERRUPT) {
		job->status = job->timed_out ? LOCALEXEC_TIMEOUT : LOCALEXEC_CANCELED;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		snprintf(job->errmsg, sizeof(job->errmsg), "%s", sqlite3_errmsg(db));
		goto out;
	}
	snprintf(tag, sizeof(tag), "SELECT %" PRIu64, job->rows);
	pgw_put_command_complete(&job->out, tag);
	job->status = LOCALEXEC_OK;
out:
	if (job->timeout_ms > 0)
		sqlite3_progress_handler(db, 0, NULL, NULL);
	strbuf_free(&scratch);
	if (own) {
		sqlite3_finalize(st);
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	if (job->status == LOCALEXEC_CANCELED || job->status == LOCALEXEC_TIMEOUT)
		job->out.len = described; /* PostgreSQL has sent RowDescription before it runs */
	else if (job->status != LOCALEXEC_OK)
		strbuf_reset(&job->out);
}

static void *
localexec_main(void *arg)
{
	struct localexec *ex = arg;
	struct localexec_job *job;
	uint64_t one = 1;

	pthread_mutex_lock(&ex->lock);
	for (;;) {
		while (!ex->stop && ex->queue == NULL)
			pthread_cond_wait(&ex->cond, &ex->lock);
		if (ex->stop)
			break;
		job = ex->queue;
		ex->queue = job->next;
		ex->running = job->ticket;
		ex->running_db = job->db;
		pthread_mutex_unlock(&ex->lock);

		if (job->status == LOCALEXEC_CANCELED)
			; /* canceled while it waited */
		else
			localexec_run(ex, job);

		pthread_mutex_lock(&ex->lock);
		ex->running = 0;
		ex->running_db = NULL;
		job->next = ex->done;
		ex->done = job;
		if (write(ex->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("cannot wake the proxy worker: %s", strerror(errno));
	}
	pthread_mutex_unlock(&ex->lock);
	return NULL;
}

static void
localexec_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct localexec *ex = arg;
	struct localexec_job *list, *job, *rev = NULL;
	uint64_t n;

	if (read(ex->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("cannot read the local execution wakeup: %s", strerror(errno));
	pthread_mutex_lock(&ex->lock);
	list = ex->done;
	ex->done = NULL;
	pthread_mutex_unlock(&ex->lock);
	/* finished order */
	while (list) {
		job = list;
		list = job->next;
		job->next = rev;
		rev = job;
	}
	while (rev) {
		job = rev;
		rev = job->next;
		job->next = NULL;
		ex->done_fn(job, ex->done_arg);
	}
}

struct localexec *
localexec_start(struct event_base *base, const char *db_path, struct shm_state *shm,
                size_t max_result, localexec_done_fn done, void *arg)
{
	struct localexec *ex = xcalloc(1, sizeof(*ex));

	pthread_mutex_init(&ex->lock, NULL);
	pthread_cond_init(&ex->cond, NULL);
	ex->db_path = xstrdup(db_path);
	ex->shm = shm;
	ex->max_result = max_result;
	ex->done_fn = done;
	ex->done_arg = arg;
	ex->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ex->efd < 0) {
		log_error("eventfd() failed: %s", strerror(errno));
		goto fail;
	}
	ex->ev = event_new(base, ex->efd, EV_READ | EV_PERSIST, localexec_done_cb, ex);
	if (ex->ev == NULL || event_add(ex->ev, NULL) < 0) {
		log_error("cannot watch the local execution thread");
		goto fail;
	}
	if (pthread_create(&ex->thread, NULL, localexec_main, ex) != 0) {
		log_error("cannot start the local execution thread");
		goto fail;
	}
	return ex;
fail:
	if (ex->ev)
		event_free(ex->ev);
	if (ex->efd >= 0)
		close(ex->efd);
	free(ex->db_path);
	free(ex);
	return NULL;
}

void
localexec_submit(struct localexec *ex, struct localexec_job *job)
{
	struct localexec_job **pp;

	job->next = NULL;
	pthread_mutex_lock(&ex->lock);
	for (pp = &ex->queue; *pp; pp = &(*pp)->next)
		;
	*pp = job;
	pthread_cond_signal(&ex->cond);
	pthread_mutex_unlock(&ex->lock);
}

void
localexec_close_db(struct localexec *ex, sqlite3 *db)
{
	struct localexec_job *job = xcalloc(1, sizeof(*job));

	job->close_db = db;
	localexec_submit(ex, job);
}

void
localexec_cancel(struct localexec *ex, uint64_t ticket)
{
	struct localexec_job *job;

	pthread_mutex_lock(&ex->lock);
	if (ex->running == ticket && (ex->running_db || ex->db))
		sqlite3_interrupt(ex->running_db ? ex->running_db : ex->db);
	for (job = ex->queue; job; job = job->next)
		if (job->ticket == ticket)
			job->status = LOCALEXEC_CANCELED;
	pthread_mutex_unlock(&ex->lock);
}

void
localexec_stop(struct localexec *ex)
{
	struct localexec_job *job;

	if (ex == NULL)
		return;
	pthread_mutex_lock(&ex->lock);
	ex->stop = true;
	if (ex->running && (ex->running_db || ex->db))
		sqlite3_interrupt(ex->running_db ? ex->running_db : ex->db);
	pthread_cond_signal(&ex->cond);
	pthread_mutex_unlock(&ex->lock);
	pthread_join(ex->thread, NULL);
	while ((job = ex->queue) != NULL) {
		ex->queue = job->next;
		if (job->close_db)
			sqlite3_close_v2(job->close_db);
		localexec_job_free(job);
	}
	while ((job = ex->done) != NULL) {
		ex->done = job->next;
		localexec_job_free(job);
	}
	if (ex->db)
		sqlite3_close(ex->db);
	event_free(ex->ev);
	close(ex->efd);
	pthread_mutex_destroy(&ex->lock);
	pthread_cond_destroy(&ex->cond);
	free(ex->db_path);
	free(ex);
}
