/* SPDX-License-Identifier: MIT */
/* The master process: holds the database lock, opens the proxy's listening sockets, forks and
 * supervises the replication worker and the proxy workers, handles signals, serves the control
 * socket and reports its state to systemd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "chan.h"
#include "ctl.h"
#include "failpoint.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "proxy.h"
#include "repl.h"
#include "metrics.h"
#include "sdnotify.h"
#include "shm.h"
#include "hba.h"
#include "tls.h"
#include "util.h"
#include "verify.h"
#include "version.h"

#define MASTER_BACKOFF_MIN_US INT64_C(500000)     /* first respawn delay */
#define MASTER_BACKOFF_MAX_US INT64_C(30000000)   /* cap of the doubling */
#define MASTER_BACKOFF_RESET_US INT64_C(60000000) /* a worker that ran this long was healthy */
#define MASTER_STOP_TIMEOUT_S 10 /* past [proxy] shutdown_timeout, then a worker gets SIGKILL */
#define MASTER_CTL_LINE_MAX 1024 /* request line, newline included */
#define MASTER_CTL_TIMEOUT_US INT64_C(5000000) /* per control connection */
#define MASTER_CTL_CLIENTS_MAX 64
#define MASTER_LISTEN_BACKLOG 1024
#define MASTER_STATUS_INTERVAL_S 5 /* systemd's STATUS= line is renewed this often */

struct master;
static int master_reload(struct master *m, struct strbuf *answer);
static void master_decommissioned(struct master *m, const char *why, size_t len);
static int master_proxy_workers(const struct cfg *cfg);

/* One control socket connection: read a line, write the answer, close. */
struct master_client {
	struct master *m;
	struct master_client *next;
	int fd;
	struct event *ev;
	int64_t deadline_us; /* time_mono_us() by which the exchange must be over */
	char line[MASTER_CTL_LINE_MAX + 1];
	size_t len;
	struct strbuf out; /* the answer */
	size_t out_off;    /* bytes of it already written */
	bool stop_after;   /* "stop": begin the graceful stop once answered */
	bool deferred;     /* answered later ("decommission", by the replication worker) */
	bool handed_off;   /* answered by another process ("verify"): just close it */
};

enum master_proc_kind {
	MASTER_PROC_REPL,
	MASTER_PROC_PROXY,
};

/* A worker process slot: the process in it is replaced when it dies. */
struct master_proc {
	struct master *m;
	enum master_proc_kind kind;
	int index; /* proxy workers: 0-based number, also their slot in shared memory */
	char role[16];
	pid_t pid;   /* 0 when not running */
	int chan_fd; /* master end of its channel, -1 when closed */
	struct event *chan_ev;
	struct event *respawn_timer;
	bool spawned;       /* the first incarnation has been forked */
	bool retiring;      /* a reload lowered the number of proxy workers: no respawn */
	int64_t started_us; /* time_mono_us() at fork */
	int64_t backoff_us; /* delay before the next respawn */
	uint32_t restarts;
};

struct master {
	struct cfg *cfg;
	struct shm_state *shm;
	struct event_base *base;

	int lock_fd;
	char *lock_path;

	char *sock_path; /* set once we created the socket (and so must remove it) */
	int listen_fd;
	struct event *listen_ev;
	struct master_client *clients;
	int nclients;

	struct event *sig_events[4];
	struct event *stop_timer;

	struct listen_set ls; /* the proxy's listening sockets */

	/* procs[0] is the replication worker, then the proxy workers */
	struct master_proc *procs;
	int nprocs;

	bool stopping;
	int exit_code;
	struct master_client *decommissioning; /* waits for the replication worker's word */
	pid_t verify_pid;                      /* sqledgectl verify's process, 0 when none */
	struct metrics *metrics;               /* [metrics] listen; NULL when off */
	struct event *status_timer;            /* systemd's STATUS= line, when it listens */
};

static void master_begin_stop(struct master *m, int exit_code);
static void master_child_setup(struct master *m, int keep_fd, bool keep_listeners, const char *role,
                               pid_t master_pid);

/* ---- the database lock ---- */

/* Takes "<db_path>.lock" so that two masters never replicate into one file. The descriptor
 * stays open for the master's life and is inherited by the workers, so an orphaned worker
 * keeps the lock until it is gone too. */
static int
master_lock(struct master *m)
{
	const char *db = m->cfg->local_db_path;
	char buf[32];
	char *path;
	ssize_t n;
	long other = 0;
	int fd, r = -1;

	path = xmalloc(strlen(db) + sizeof(".lock"));
	strcpy(path, db);
	strcat(path, ".lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("cannot open lock file \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			log_error("flock() on lock file \"%s\" failed: %s", path, strerror(errno));
			goto out;
		}
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			other = strtol(buf, NULL, 10);
		}
		if (other > 0)
			log_error("another sqledge (pid %ld) is already using \"%s\" (lock file "
			          "\"%s\")",
			          other, db, path);
		else
			log_error("another sqledge is already using \"%s\" (lock file \"%s\")", db,
			          path);
		goto out;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		log_error("cannot write our pid into lock file \"%s\": %s", path, strerror(errno));
		goto out;
	}
	m->lock_fd = fd;
	m->lock_path = path;
	fd = -1;
	path = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* ---- the control socket ---- */

static int
master_listen(struct master *m)
{
	struct sockaddr_un addr;
	char *path = ctl_socket_path(m->cfg);
	mode_t old_umask;
	char err[512];
	int fd = -1, r = -1, rc;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("control socket path \"%s\" is too long (at most %zu bytes)", path,
		          sizeof(addr.sun_path) - 1);
		goto out;
	}
	memcpy(addr.sun_path, path, strlen(path));
	/* only while holding the database lock: a socket there now is stale or another
	 * instance's */
	rc = listen_remove_stale_socket(path, "control socket", err, sizeof(err));
	if (rc < 0) {
		log_error("%s%s", err,
		          strstr(err, "in use") != NULL
		                  ? " (set [control] socket to a path of its own)"
		                  : "");
		goto out;
	}
	if (rc > 0)
		log_info("removed stale control socket \"%s\"", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("socket() for the control socket failed: %s", strerror(errno));
		goto out;
	}
	/* the socket file is created by bind(): 0600, the control socket is not for others */
	old_umask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (rc < 0) {
		log_error("bind() to control socket \"%s\" failed: %s", path, strerror(errno));
		goto out;
	}
	m->sock_path = path;
	path = NULL;
	if (listen(fd, 16) < 0) {
		log_error("listen() on control socket \"%s\" failed: %s", m->sock_path,
		          strerror(errno));
		goto out;
	}
	m->listen_fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

static void
master_client_free(struct master_client *c)
{
	struct master_client **pp;

	if (c == NULL)
		return;
	if (c->m->decommissioning == c)
		c->m->decommissioning = NULL;
	for (pp = &c->m->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			c->m->nclients--;
			break;
		}
	}
	if (c->ev)
		event_free(c->ev);
	close(c->fd);
	strbuf_free(&c->out);
	free(c);
}

static void master_client_cb(evutil_socket_t fd, short what, void *arg);

/* (Re)arms the client's event for reading or writing with what is left of its deadline. */
static int
master_client_arm(struct master_client *c, short what)
{
	int64_t left = c->deadline_us - time_mono_us();
	struct timeval tv;

	if (left < 1)
		left = 1;
	tv.tv_sec = (time_t)(left / 1000000);
	tv.tv_usec = (suseconds_t)(left % 1000000);
	if (c->ev)
		event_free(c->ev);
	c->ev = event_new(c->m->base, c->fd, what, master_client_cb, c);
	if (c->ev == NULL || event_add(c->ev, &tv) < 0) {
		log_error("cannot add control connection event");
		return -1;
	}
	return 0;
}

/* Makes a request printable for the error answer. */
static void
master_client_sanitize(char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
	}
}

static void master_verify_exited(struct master *m, int status);

/* sqledgectl verify: a process of its own compares the copy with the upstream and writes its
 * report to the client's connection, which the master then forgets. */
static void
master_verify(struct master_client *c, const char *args)
{
	struct master *m = c->m;
	struct master_proc *repl = &m->procs[0];
	sigset_t all, old;
	pid_t pid;

	if (m->stopping || repl->pid <= 0) {
		strbuf_puts(&c->out, "error: the replication worker is not running\n");
		return;
	}
	if (m->verify_pid > 0 && shm_load(m->shm->verify_exiting) == m->verify_pid) {
		/* the last one is exiting: its client saw the end of the report before SIGCHLD
		 * reached us */
		int status;

		if (waitpid(m->verify_pid, &status, 0) == m->verify_pid)
			master_verify_exited(m, status);
	}
	if (m->verify_pid > 0) {
		strbuf_printf(&c->out, "error: a verify is already running (pid %d)\n",
		              (int)m->verify_pid);
		return;
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		master_child_setup(m, c->fd, false, "verify", m->shm->master_pid);
		failpoint_init();
		_exit(verify_main(m->cfg, m->shm, c->fd, args));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		log_error("fork() of the verifier failed: %s", strerror(errno));
		strbuf_printf(&c->out, "error: cannot start the verifier: %s\n", strerror(errno));
		return;
	}
	/* a crash test's failpoint fires in the first verifier only */
	unsetenv("SQLEDGE_FAILPOINTS");
	log_info("verify requested over the control socket (pid %d)", (int)pid);
	m->verify_pid = pid;
	c->handed_off = true; /* the verifier answers */
}

/* The verifier exited: whatever hold it had on replication goes with it. */
static void
master_verify_exited(struct master *m, int status)
{
	if (shm_load(m->shm->hold_owner) == m->verify_pid) {
		shm_store(m->shm->hold_req, 0);
		shm_store(m->shm->hold_owner, 0);
		shm_hold_wake(m->shm);
	}
	shm_store(m->shm->verify_reader, 0);
	shm_store(m->shm->verify_exiting, 0);
	if (WIFSIGNALED(status))
		log_warn("the verifier (pid %d) was killed by signal %d", (int)m->verify_pid,
		         WTERMSIG(status));
	m->verify_pid = 0;
}

static void
master_client_answer(struct master_client *c)
{
	struct master *m = c->m;
	char *req = c->line;
	size_t n;

	/* the line ends at the newline (or the end of what was sent); trailing blanks and \r
	 * are not part of the command */
	c->line[c->len] = '\0';
	req[strcspn(req, "\n")] = '\0';
	n = strlen(req);
	while (n > 0 && (req[n - 1] == '\r' || req[n - 1] == ' ' || req[n - 1] == '\t'))
		req[--n] = '\0';
	while (*req == ' ' || *req == '\t')
		req++;

	log_debug("control command \"%s\"", req);
	if (strcmp(req, "status") == 0) {
		ctl_render_status(m->cfg, m->shm, 0, &c->out);
	} else if (strcmp(req, "status json") == 0) {
		ctl_render_status(m->cfg, m->shm, 1, &c->out);
	} else if (strcmp(req, "reload") == 0) {
		master_reload(m, &c->out);
	} else if (strcmp(req, "resync") == 0 || strcmp(req, "decommission") == 0) {
		struct master_proc *repl = &m->procs[0];
		bool resync = req[0] == 'r';

		if (m->stopping || repl->pid <= 0 || repl->chan_fd < 0) {
			strbuf_puts(&c->out, "error: the replication worker is not running\n");
		} else if (m->decommissioning) {
			strbuf_puts(&c->out, "error: decommissioning is under way\n");
		} else if (chan_send(repl->chan_fd,
		                     resync ? CHAN_MSG_RESYNC : CHAN_MSG_DECOMMISSION, NULL, 0,
		                     -1) != 0) {
			strbuf_puts(&c->out, "error: cannot reach the replication worker\n");
		} else if (resync) {
			log_info("resync requested over the control socket");
			strbuf_puts(&c->out, "resyncing: a new copy is being made; the current one "
			                     "keeps serving until it is done\n");
		} else {
			log_info("decommission requested over the control socket");
			c->deferred = true;
			m->decommissioning = c;
		}
	} else if (strcmp(req, "verify") == 0 || strncmp(req, "verify ", 7) == 0) {
		master_verify(c, req + 6);
	} else if (strcmp(req, "stop") == 0) {
		log_info("stop requested over the control socket");
		strbuf_puts(&c->out, "stopping\n");
		c->stop_after = true;
	} else {
		master_client_sanitize(req);
		strbuf_puts(&c->out, "error: unknown command \"");
		strbuf_puts(&c->out, req);
		strbuf_puts(&c->out, "\"\n");
	}
}

/* Writes what it can of the answer; returns 1 when done, 0 to wait, -1 on error. */
static int
master_client_write(struct master_client *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			log_debug("control connection: send() failed: %s", strerror(errno));
			return -1;
		}
		c->out_off += (size_t)n;
	}
	return 1;
}

static void
master_client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_client *c = arg;
	struct master *m = c->m;
	bool stop;
	ssize_t n;
	int r;

	if (what & EV_TIMEOUT) {
		log_warn("control connection timed out, closing it");
		master_client_free(c);
		return;
	}
	if (what & EV_WRITE)
		goto write;

	n = recv(fd, c->line + c->len, MASTER_CTL_LINE_MAX - c->len, 0);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			goto wait_read;
		log_debug("control connection: recv() failed: %s", strerror(errno));
		master_client_free(c);
		return;
	}
	if (n == 0 && c->len == 0) {
		master_client_free(c);
		return;
	}
	c->len += (size_t)n;
	if (n > 0 && memchr(c->line, '\n', c->len) == NULL) {
		if (c->len < MASTER_CTL_LINE_MAX)
			goto wait_read; /* the rest of the line is still coming */
		log_warn("control request longer than %d bytes, closing the connection",
		         MASTER_CTL_LINE_MAX);
		strbuf_puts(&c->out, "error: request too long\n");
	} else {
		master_client_answer(c);
		if (c->handed_off) {
			master_client_free(c);
			return;
		}
		if (c->deferred)
			return; /* no timeout: the answer comes when the work is done */
	}

write:
	r = master_client_write(c);
	if (r == 0) {
		if (master_client_arm(c, EV_WRITE) < 0)
			master_client_free(c);
		return;
	}
	stop = r > 0 && c->stop_after;
	master_client_free(c);
	if (stop)
		master_begin_stop(m, 0);
	return;

wait_read:
	/* a fresh one-shot event with what is left of the deadline, so a client that
	 * trickles bytes cannot extend it */
	if (master_client_arm(c, EV_READ) < 0)
		master_client_free(c);
}

static void
master_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct master *m = arg;
	struct master_client *c;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept() on control socket \"%s\" failed: %s",
				         m->sock_path, strerror(errno));
			return;
		}
		if (m->nclients >= MASTER_CTL_CLIENTS_MAX) {
			log_warn("too many control connections (%d), refusing one",
			         MASTER_CTL_CLIENTS_MAX);
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->m = m;
		c->fd = fd;
		strbuf_init(&c->out);
		c->deadline_us = time_mono_us() + MASTER_CTL_TIMEOUT_US;
		c->next = m->clients;
		m->clients = c;
		m->nclients++;
		if (master_client_arm(c, EV_READ) < 0)
			master_client_free(c);
	}
}

/* ---- the workers ---- */

static void master_chan_cb(evutil_socket_t fd, short what, void *arg);

static void
master_close_chan(struct master_proc *w)
{
	if (w->chan_ev) {
		event_free(w->chan_ev);
		w->chan_ev = NULL;
	}
	if (w->chan_fd >= 0) {
		close(w->chan_fd);
		w->chan_fd = -1;
	}
}

/* In a new child: drops what belongs to the master (keeping the descriptor keep_fd and, for
 * a proxy worker, the listening sockets) and sets up the process. */
static void
master_child_setup(struct master *m, int keep_fd, bool keep_listeners, const char *role,
                   pid_t master_pid)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE};
	struct master_client *c;
	sigset_t none;
	size_t i;
	int k;

	for (k = 0; k < m->nprocs; k++)
		if (m->procs[k].chan_fd >= 0)
			close(m->procs[k].chan_fd);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	for (c = m->clients; c != NULL; c = c->next)
		if (c->fd != keep_fd)
			close(c->fd);
	metrics_close_fd(m->metrics);
	if (!keep_listeners)
		listen_close(&m->ls, false);
	/* its own process group: a Ctrl-C in the terminal reaches the master alone, which then
	 * stops the worker over the channel (the replication worker after its last complete
	 * batch) */
	setpgid(0, 0);
	log_set_role(role);
	/* the channel's EOF covers a master that exits; this covers one killed with -9 while
	 * the worker is busy */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		log_error("prctl(PR_SET_PDEATHSIG) failed: %s", strerror(errno));
		_exit(EXIT_RESPAWN);
	}
	if (getppid() != master_pid)
		_exit(EXIT_RESPAWN); /* the master died before prctl() took effect */

	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], sigs[i] == SIGHUP ? SIG_IGN : SIG_DFL); /* the master's to act on */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* only the master talks to systemd */
	unsetenv("NOTIFY_SOCKET");
}

/* In the child: drop what belongs to the master and become the worker. */
static void __attribute__((noreturn))
master_child(struct master_proc *w, int fds[2], pid_t master_pid, bool first)
{
	struct master *m = w->m;

	close(fds[0]);
	master_child_setup(m, -1, w->kind == MASTER_PROC_PROXY, w->role, master_pid);
	if (first)
		failpoint_init();
	if (w->kind == MASTER_PROC_REPL)
		_exit(repl_worker_main(m->cfg, fds[1], m->shm));
	_exit(proxy_worker_main(m->cfg, w->index, fds[1], m->shm, &m->ls));
}

static void
master_publish_proc(struct master *m, struct master_proc *w)
{
	int64_t started = w->pid > 0 ? time_real_us() : 0;

	if (w->kind == MASTER_PROC_REPL) {
		shm_store(m->shm->repl_pid, w->pid);
		shm_store(m->shm->repl_restarts, w->restarts);
		shm_store(m->shm->repl_started_us, started);
	} else {
		shm_store(m->shm->proxy[w->index].pid, w->pid);
		shm_store(m->shm->proxy[w->index].restarts, w->restarts);
		shm_store(m->shm->proxy[w->index].started_us, started);
	}
}

static int
master_spawn(struct master_proc *w)
{
	struct master *m = w->m;
	bool first = !w->spawned;
	sigset_t all, old;
	int fds[2];
	pid_t pid;

	/* a crash test's failpoint fires in the first incarnation only, or the respawned
	 * worker would die at the same place forever */
	if (!first && w->kind == MASTER_PROC_REPL)
		unsetenv("SQLEDGE_FAILPOINTS");
	if (chan_pair(fds) < 0)
		return -1; /* error already logged by chan_pair() */

	/* no signal may reach libevent's handler in the child before it restores the defaults:
	 * the handler would report the child's signal to the master */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		master_child(w, fds, m->shm->master_pid, first);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid < 0) {
		log_error("fork() of the %s worker failed: %s", w->role, strerror(errno));
		close(fds[0]);
		return -1;
	}

	w->pid = pid;
	if (!first)
		w->restarts++;
	w->spawned = true;
	w->started_us = time_mono_us();
	w->chan_fd = fds[0];
	if (evutil_make_socket_nonblocking(w->chan_fd) < 0)
		log_warn("cannot make the %s worker's channel non-blocking", w->role);
	w->chan_ev = event_new(m->base, w->chan_fd, EV_READ | EV_PERSIST, master_chan_cb, w);
	if (w->chan_ev == NULL || event_add(w->chan_ev, NULL) < 0)
		log_warn("cannot watch the %s worker's channel", w->role);
	master_publish_proc(m, w);
	if (w->kind == MASTER_PROC_REPL)
		log_info("started replication worker (pid %d)", (int)pid);
	else
		log_debug("started proxy worker %d (pid %d)", w->index, (int)pid);
	return 0;
}

/* A proxy worker passes on a CancelRequest that belongs to another worker. */
static void
master_forward_cancel(struct master *m, const void *buf, size_t len, int client_fd)
{
	struct proxy_cancel_msg cm;
	struct master_proc *to;
	int target;

	if (len != sizeof(cm))
		return;
	memcpy(&cm, buf, sizeof(cm));
	target = proxy_cancel_target(cm.pid, m->nprocs - 1);
	if (target < 0)
		return;
	to = &m->procs[1 + target];
	/* the client's connection goes along: it is closed once the upstream has the cancel */
	if (to->chan_fd < 0 ||
	    chan_send(to->chan_fd, CHAN_MSG_CANCEL_FWD, &cm, sizeof(cm), client_fd) != 0)
		log_debug("dropping a cancel request for proxy worker %d: not running", target);
}

/* A proxy worker's login cache entry (or its removal), in a memory file, goes to the other
 * proxy workers; one whose channel is full does without it. */
static void
master_share_login(struct master_proc *from, uint32_t type, int fd)
{
	struct master *m = from->m;
	struct master_proc *w;
	int k;

	for (k = 0; k < m->nprocs; k++) {
		w = &m->procs[k];
		if (w == from || w->kind != MASTER_PROC_PROXY || w->pid <= 0 || w->chan_fd < 0 ||
		    w->retiring)
			continue;
		/* the channel's other half is kept for the master's own messages and removals */
		if ((type == CHAN_MSG_LOGIN_CACHE && !chan_has_room(w->chan_fd)) ||
		    chan_send(w->chan_fd, type, NULL, 0, fd) != 0)
			log_warn("proxy worker %d is busy: it does without a login cache message",
			         w->index);
	}
}

/* The replication worker dropped the slot (len 0), or says why it could not: the waiting
 * control client hears it, and sqledge stops on success. */
static void
master_decommissioned(struct master *m, const char *why, size_t len)
{
	struct master_client *c = m->decommissioning;
	bool ok = len == 0;

	m->decommissioning = NULL;
	if (ok)
		log_info("decommissioned: the replication slot is gone upstream; stopping");
	else
		log_error("decommissioning failed: %.*s", (int)len, why);
	if (c != NULL) {
		c->deferred = false;
		c->deadline_us = time_mono_us() + MASTER_CTL_TIMEOUT_US;
		if (ok)
			strbuf_puts(&c->out,
			            "decommissioned: the replication slot is gone upstream; "
			            "sqledge stops\n");
		else
			strbuf_printf(&c->out, "error: %.*s\n", (int)len, why);
		c->stop_after = false;
		master_client_cb(c->fd, EV_WRITE, c);
	}
	if (ok)
		master_begin_stop(m, 0); /* whether or not the client took the answer */
}

static void
master_chan_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_proc *w = arg;
	char buf[CHAN_MAX_PAYLOAD];
	uint32_t type;
	size_t len;
	int r, pass_fd;

	for (;;) {
		r = chan_recv(fd, &type, buf, sizeof(buf), &len, &pass_fd);
		if (r == SQE_AGAIN)
			return;
		if (r <= 0) {
			/* EOF: the worker is exiting and SIGCHLD follows; -1: already logged */
			master_close_chan(w);
			return;
		}
		if (type == CHAN_MSG_CANCEL_FWD && w->kind == MASTER_PROC_PROXY)
			master_forward_cancel(w->m, buf, len, pass_fd);
		else if ((type == CHAN_MSG_LOGIN_CACHE || type == CHAN_MSG_LOGIN_FORGET) &&
		         w->kind == MASTER_PROC_PROXY && pass_fd >= 0)
			master_share_login(w, type, pass_fd);
		else if (type == CHAN_MSG_DECOMMISSIONED && w->kind == MASTER_PROC_REPL)
			master_decommissioned(w->m, buf, len);
		else
			log_warn(
			        "unexpected channel message type %u (%zu bytes) from the %s worker",
			        type, len, w->role);
		if (pass_fd >= 0)
			close(pass_fd);
		if (w->chan_fd != fd)
			return; /* closed meanwhile (the master began to stop) */
	}
}

static void
master_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_proc *w = arg;
	struct timeval tv;

	if (w->m->stopping || w->pid > 0)
		return;
	if (master_spawn(w) == 0)
		return;
	/* fork() or socketpair() failures are usually a passing shortage: try again later */
	tv.tv_sec = (time_t)(w->backoff_us / 1000000);
	tv.tv_usec = (suseconds_t)(w->backoff_us % 1000000);
	log_warn("retrying in %.1f s", (double)w->backoff_us / 1e6);
	w->backoff_us = w->backoff_us * 2 > MASTER_BACKOFF_MAX_US ? MASTER_BACKOFF_MAX_US
	                                                          : w->backoff_us * 2;
	evtimer_add(w->respawn_timer, &tv);
}

static void
master_schedule_respawn(struct master_proc *w)
{
	int64_t delay;
	struct timeval tv;

	if (time_mono_us() - w->started_us > MASTER_BACKOFF_RESET_US)
		w->backoff_us = MASTER_BACKOFF_MIN_US;
	delay = w->backoff_us;
	w->backoff_us = delay * 2 > MASTER_BACKOFF_MAX_US ? MASTER_BACKOFF_MAX_US : delay * 2;
	tv.tv_sec = (time_t)(delay / 1000000);
	tv.tv_usec = (suseconds_t)(delay % 1000000);
	log_info("restarting the %s worker in %.1f s", w->role, (double)delay / 1e6);
	evtimer_add(w->respawn_timer, &tv);
}

/* A dead proxy worker's clients are gone: give back what it held of the shared limits. */
static void
master_proxy_slot_reset(struct master *m, int index)
{
	struct shm_proxy_worker *s = &m->shm->proxy[index];

	__atomic_sub_fetch(&m->shm->proxy_clients, shm_load(s->clients_held), __ATOMIC_RELAXED);
	__atomic_sub_fetch(&m->shm->proxy_upstream_conns, shm_load(s->upstream_conns),
	                   __ATOMIC_RELAXED);
	shm_store(s->clients, 0);
	shm_store(s->clients_held, 0);
	shm_store(s->upstream_conns, 0);
	if (__atomic_exchange_n(&s->waiting, 0, __ATOMIC_SEQ_CST))
		__atomic_sub_fetch(&m->shm->applied_waiters, 1, __ATOMIC_SEQ_CST);
}

static bool
master_any_running(struct master *m)
{
	int k;

	for (k = 0; k < m->nprocs; k++)
		if (m->procs[k].pid > 0)
			return true;
	return false;
}

/* The slots past the last proxy worker wanted or still running go. */
static void
master_trim_procs(struct master *m)
{
	while (m->nprocs > 1 && m->procs[m->nprocs - 1].retiring &&
	       m->procs[m->nprocs - 1].pid <= 0)
		m->nprocs--;
	m->shm->proxy_nworkers = (uint32_t)(m->nprocs - 1);
}

static void
master_proc_exited(struct master_proc *w, int status)
{
	struct master *m = w->m;
	pid_t pid = w->pid;
	char name[48];
	int code = -1;

	w->pid = 0;
	master_publish_proc(m, w);
	master_close_chan(w);
	if (w->kind == MASTER_PROC_PROXY) {
		master_proxy_slot_reset(m, w->index);
		snprintf(name, sizeof(name), "proxy worker %d", w->index);
	} else {
		snprintf(name, sizeof(name), "replication worker");
	}

	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		if (code == 0 && m->stopping)
			log_info("%s (pid %d) exited with code %d", name, (int)pid, code);
		else
			log_warn("%s (pid %d) exited with code %d", name, (int)pid, code);
	} else if (WIFSIGNALED(status)) {
		log_warn("%s (pid %d) was terminated by signal %d (%s)", name, (int)pid,
		         WTERMSIG(status), strsignal(WTERMSIG(status)));
	}

	if (m->stopping) {
		if (!master_any_running(m))
			event_base_loopbreak(m->base);
		return;
	}
	if (w->kind == MASTER_PROC_REPL && m->decommissioning) {
		static const char why[] = "the replication worker exited while decommissioning";

		master_decommissioned(m, why, sizeof(why) - 1);
	}
	if (w->retiring) {
		log_info("%s retired", name);
		if (w->index < master_proxy_workers(m->cfg)) {
			/* a reload raised the count again meanwhile: the slot is wanted */
			w->retiring = false;
			master_proxy_slot_reset(m, w->index);
			if (master_spawn(w) < 0)
				master_schedule_respawn(w);
			return;
		}
		master_trim_procs(m);
		return;
	}
	if (code == EXIT_FATAL) {
		log_error("%s stopped on a fatal error; stopping sqledge", name);
		master_begin_stop(m, 1);
		return;
	}
	master_schedule_respawn(w);
}

/* ---- signals and stopping ---- */

static void
master_stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	int k;

	for (k = 0; k < m->nprocs; k++) {
		struct master_proc *w = &m->procs[k];

		if (w->pid > 0) {
			log_warn("%s worker (pid %d) did not stop within %d s, killing it", w->role,
			         (int)w->pid,
			         m->cfg->proxy_shutdown_timeout + MASTER_STOP_TIMEOUT_S);
			kill(w->pid, SIGKILL);
		}
	}
}

/* Starts the graceful stop: the workers are told to quit over their channels and the loop
 * ends once they have exited (or were killed after shutdown_timeout + MASTER_STOP_TIMEOUT_S). */
static void
master_begin_stop(struct master *m, int exit_code)
{
	struct timeval tv = {.tv_sec = m->cfg->proxy_shutdown_timeout + MASTER_STOP_TIMEOUT_S};
	int k;

	if (m->stopping) {
		if (exit_code > m->exit_code)
			m->exit_code = exit_code;
		return;
	}
	m->stopping = true;
	m->exit_code = exit_code;
	{
		char msg[96];

		/* room for the statements still running, and the workers after them */
		snprintf(msg, sizeof(msg), "STOPPING=1\nEXTEND_TIMEOUT_USEC=%lld",
		         (long long)(m->cfg->proxy_shutdown_timeout + MASTER_STOP_TIMEOUT_S + 5) *
		                 1000000LL);
		sdnotify(msg);
	}
	for (k = 0; k < m->nprocs; k++)
		evtimer_del(m->procs[k].respawn_timer);
	if (m->verify_pid > 0)
		kill(m->verify_pid, SIGTERM);
	if (!master_any_running(m)) {
		event_base_loopbreak(m->base);
		return;
	}
	log_info("stopping the workers");
	for (k = 0; k < m->nprocs; k++) {
		struct master_proc *w = &m->procs[k];

		if (w->pid <= 0)
			continue;
		if (w->chan_fd >= 0 && chan_send(w->chan_fd, CHAN_MSG_QUIT, NULL, 0, -1) != 0)
			log_warn("cannot send QUIT to the %s worker, closing its channel", w->role);
		/* the channel's EOF tells a worker that missed QUIT */
		master_close_chan(w);
	}
	evtimer_add(m->stop_timer, &tv);
}

/* As many proxy workers as the configuration says: new ones start; extra ones stop taking
 * clients and leave once their last client has (no client is dropped). */
static void
master_resize_proxies(struct master *m)
{
	int want = 1 + master_proxy_workers(m->cfg), k;

	for (k = 1; k < want; k++) {
		struct master_proc *w = &m->procs[k];

		if (k < m->nprocs && !w->retiring)
			continue;
		if (w->retiring && w->pid > 0) {
			/* a retiring worker cannot take clients again: the slot waits for it */
			continue;
		}
		w->retiring = false;
		if (k >= m->nprocs)
			m->nprocs = k + 1;
		if (w->pid <= 0 && !evtimer_pending(w->respawn_timer, NULL)) {
			log_info("starting proxy worker %d", w->index);
			master_proxy_slot_reset(m, w->index);
			if (master_spawn(w) < 0)
				master_schedule_respawn(w);
		}
	}
	for (k = want; k < m->nprocs; k++) {
		struct master_proc *w = &m->procs[k];

		if (w->retiring)
			continue;
		w->retiring = true;
		evtimer_del(w->respawn_timer);
		if (w->pid > 0 && w->chan_fd >= 0) {
			log_info("proxy worker %d stops taking clients and leaves after its last "
			         "one",
			         w->index);
			if (chan_send(w->chan_fd, CHAN_MSG_RETIRE, NULL, 0, -1) != 0)
				log_warn("cannot tell the %s worker to retire", w->role);
		}
	}
	master_trim_procs(m);
}

/* SIGHUP or "reload": the configuration is read again and validated first; an invalid one
 * changes nothing. What may change live is taken (the other changes are logged as needing a
 * restart), the workers reload it too, and the proxy workers are as many as it says. answer,
 * when not NULL, gets the outcome for a control client. */
static int
master_reload(struct master *m, struct strbuf *answer)
{
	struct strbuf errs;
	int changed, k;

	if (m->stopping) {
		if (answer)
			strbuf_puts(answer, "error: sqledge is stopping\n");
		return -1;
	}
	sdnotify("RELOADING=1");
	log_info("reloading the configuration (%s)",
	         m->cfg->source ? m->cfg->source : "defaults and environment");
	strbuf_init(&errs);
	changed = cfg_reload_file(m->cfg, &errs);
	if (changed < 0) {
		char *line = errs.data, *nl;

		while (line && *line) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			log_error("%s", line);
			line = nl ? nl + 1 : NULL;
		}
		log_error("the new configuration is invalid: sqledge goes on with the one it has");
		if (answer) {
			strbuf_puts(answer,
			            "error: the new configuration is invalid, nothing changed\n");
			if (errs.data)
				for (k = 0; k < (int)errs.len; k++)
					strbuf_putc(answer, errs.data[k] ? errs.data[k] : '\n');
		}
		strbuf_free(&errs);
		sdnotify("READY=1");
		return -1;
	}
	strbuf_reset(&errs);
	{
		/* the certificate is read again by each proxy worker; a broken one is reported
		 * here, and the workers keep the one they have */
		SSL_CTX *ctx = tls_server_ctx(m->cfg, &errs);

		SSL_CTX_free(ctx);
		if (errs.len > 0) {
			log_error("%s; TLS goes on with the certificate loaded before",
			          strbuf_str(&errs));
			if (answer)
				strbuf_printf(answer, "warning: %s\n", strbuf_str(&errs));
		}
		strbuf_reset(&errs);
		if (hba_check_cfg(m->cfg, &errs) < 0) {
			log_error("%sthe proxy workers keep the address rules they have",
			          strbuf_str(&errs));
			if (answer)
				strbuf_printf(answer, "warning: %s", strbuf_str(&errs));
		}
	}
	strbuf_free(&errs);
	for (k = 0; k < m->nprocs; k++) {
		struct master_proc *w = &m->procs[k];

		if (w->pid > 0 && w->chan_fd >= 0 && !w->retiring &&
		    chan_send(w->chan_fd, CHAN_MSG_RELOAD, NULL, 0, -1) != 0)
			log_warn("cannot tell the %s worker to reload", w->role);
	}
	master_resize_proxies(m);
	log_info("configuration reloaded: %d setting%s changed", changed, changed == 1 ? "" : "s");
	if (answer)
		strbuf_printf(answer, "reloaded: %d setting%s changed\n", changed,
		              changed == 1 ? "" : "s");
	sdnotify("READY=1");
	return 0;
}

/* systemctl status shows this line. */
static void
master_status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_puts(&sb, "STATUS=");
	ctl_render_brief(m->cfg, m->shm, &sb);
	sdnotify(strbuf_str(&sb));
	strbuf_free(&sb);
}

static void
master_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	const char *sig_name = sig == SIGINT ? "SIGINT" : "SIGTERM";
	pid_t pid;
	int status, k;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (m->stopping) {
			log_info("received %s while already stopping", sig_name);
			break;
		}
		log_info("received %s, stopping", sig_name);
		master_begin_stop(m, 0);
		break;
	case SIGHUP:
		log_info("received SIGHUP");
		master_reload(m, NULL);
		break;
	case SIGCHLD:
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (k = 0; k < m->nprocs && m->procs[k].pid != pid; k++)
				;
			if (k < m->nprocs)
				master_proc_exited(&m->procs[k], status);
			else if (pid == m->verify_pid)
				master_verify_exited(m, status);
			else
				log_debug("reaped unknown child process %d", (int)pid);
		}
		break;
	}
}

/* ---- setup and teardown ---- */

static int
master_proxy_workers(const struct cfg *cfg)
{
	long n = cfg->proxy_workers;

	if (n == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			n = 1;
	}
	return n > CFG_MAX_PROXY_WORKERS ? CFG_MAX_PROXY_WORKERS : (int)n;
}

static void
master_init_procs(struct master *m)
{
	int k, nproxy = master_proxy_workers(m->cfg);

	m->nprocs = 1 + nproxy;
	/* room for as many proxy workers as a reload may ask for: the slots do not move */
	m->procs = xcalloc(1 + CFG_MAX_PROXY_WORKERS, sizeof(*m->procs));
	for (k = 0; k < 1 + CFG_MAX_PROXY_WORKERS; k++) {
		struct master_proc *w = &m->procs[k];

		w->m = m;
		w->chan_fd = -1;
		w->backoff_us = MASTER_BACKOFF_MIN_US;
		if (k == 0) {
			w->kind = MASTER_PROC_REPL;
			snprintf(w->role, sizeof(w->role), "repl");
		} else {
			w->kind = MASTER_PROC_PROXY;
			w->index = k - 1;
			snprintf(w->role, sizeof(w->role), "proxy%d", w->index);
		}
	}
	m->shm->proxy_nworkers = (uint32_t)nproxy;
}

/* Every client of the proxy costs two descriptors (its socket and its upstream connection):
 * the soft limit goes up to the hard one, as much as the system allows. */
static void
master_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the open files limit to %llu: %s",
		         (unsigned long long)rl.rlim_max, strerror(errno));
}

static int
master_open_proxy(struct master *m)
{
	char err[512];
	struct strbuf names;
	int k;

	if (listen_open(&m->ls, m->cfg->proxy_address, m->cfg->proxy_port,
	                m->cfg->proxy_unix_socket_dir, MASTER_LISTEN_BACKLOG, err,
	                sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	strbuf_init(&names);
	for (k = 0; k < m->ls.n; k++)
		strbuf_printf(&names, "%s%s", k ? ", " : "", m->ls.name[k]);
	log_info("proxy listening on %s (%d workers)", strbuf_str(&names), m->nprocs - 1);
	strbuf_free(&names);
	return 0;
}

static int
master_setup_events(struct master *m)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
	size_t i;
	int k;

	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		m->sig_events[i] = evsignal_new(m->base, sigs[i], master_signal_cb, m);
		if (m->sig_events[i] == NULL || event_add(m->sig_events[i], NULL) < 0) {
			log_error("cannot install the handler for signal %d", sigs[i]);
			return -1;
		}
	}
	for (k = 0; k < 1 + CFG_MAX_PROXY_WORKERS; k++) {
		m->procs[k].respawn_timer = evtimer_new(m->base, master_respawn_cb, &m->procs[k]);
		if (m->procs[k].respawn_timer == NULL) {
			log_error("cannot set up the master's events");
			return -1;
		}
	}
	m->stop_timer = evtimer_new(m->base, master_stop_timeout_cb, m);
	m->listen_ev = event_new(m->base, m->listen_fd, EV_READ | EV_PERSIST, master_accept_cb, m);
	if (m->stop_timer == NULL || m->listen_ev == NULL || event_add(m->listen_ev, NULL) < 0) {
		log_error("cannot set up the master's events");
		return -1;
	}
	return 0;
}

static void
master_cleanup(struct master *m)
{
	size_t i;
	int k;

	while (m->clients)
		master_client_free(m->clients);
	metrics_stop(m->metrics);
	m->metrics = NULL;
	if (m->status_timer)
		event_free(m->status_timer);
	m->status_timer = NULL;
	for (k = 0; m->procs && k < 1 + CFG_MAX_PROXY_WORKERS; k++) {
		master_close_chan(&m->procs[k]);
		if (m->procs[k].respawn_timer)
			event_free(m->procs[k].respawn_timer);
	}
	free(m->procs);
	listen_close(&m->ls, true);
	if (m->listen_ev)
		event_free(m->listen_ev);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->sock_path && unlink(m->sock_path) < 0 && errno != ENOENT)
		log_warn("cannot remove control socket \"%s\": %s", m->sock_path, strerror(errno));
	free(m->sock_path);
	for (i = 0; i < ARRAY_SIZE(m->sig_events); i++) {
		if (m->sig_events[i])
			event_free(m->sig_events[i]);
	}
	if (m->stop_timer)
		event_free(m->stop_timer);
	if (m->base)
		event_base_free(m->base);
	if (m->shm)
		munmap(m->shm, sizeof(*m->shm));
	/* the lock file itself stays: removing it would race with a starting instance */
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	free(m->lock_path);
	cfg_free(m->cfg);
}

int
master_run(struct cfg *cfg)
{
	struct master master = {
	        .cfg = cfg,
	        .lock_fd = -1,
	        .listen_fd = -1,
	        .ls = {.lock_fd = -1},
	};
	struct master *m = &master;
	int r = 1, k;

	log_set_role("master");
	log_info("sqledge %s starting (configuration: %s, database: \"%s\")", SQLEDGE_VERSION,
	         cfg->source ? cfg->source : "defaults and environment", cfg->local_db_path);
	signal(SIGPIPE, SIG_IGN);
	master_raise_nofile();

	if (master_lock(m) < 0)
		goto out;
	m->shm = shm_create();
	/* a separate replication source must first be shown to share the upstream's WAL
	 * history */
	if (m->shm && cfg->replication_source_address[0])
		m->shm->positions_comparable = 0;
	if (m->shm == NULL)
		goto out;
	m->shm->master_pid = getpid();
	master_init_procs(m);
	if (master_listen(m) < 0)
		goto out;
	if (master_open_proxy(m) < 0)
		goto out;
	m->base = event_base_new();
	if (m->base == NULL) {
		log_error("event_base_new() failed");
		goto out;
	}
	if (master_setup_events(m) < 0)
		goto out;
	if (m->cfg->metrics_listen[0] != '\0' &&
	    (m->metrics = metrics_start(m->base, m->cfg, m->shm)) == NULL)
		goto out;
	for (k = 0; k < m->nprocs; k++)
		if (master_spawn(&m->procs[k]) < 0)
			goto out;
	log_info("control socket listening on \"%s\"", m->sock_path);
	sdnotify("READY=1");
	if (getenv("NOTIFY_SOCKET") != NULL) {
		struct timeval tv = {MASTER_STATUS_INTERVAL_S, 0};

		m->status_timer = event_new(m->base, -1, EV_PERSIST, master_status_cb, m);
		if (m->status_timer)
			event_add(m->status_timer, &tv);
	}

	if (event_base_dispatch(m->base) < 0) {
		log_error("event loop failed");
		m->exit_code = 1;
	}
	r = m->exit_code;
	log_info("sqledge stopped");
out:
	/* whatever went wrong, no worker may outlive us */
	for (k = 0; k < m->nprocs; k++) {
		if (m->procs[k].pid > 0) {
			kill(m->procs[k].pid, SIGKILL);
			waitpid(m->procs[k].pid, NULL, 0);
		}
	}
	master_cleanup(m);
	return r;
}
