/* SPDX-License-Identifier: MIT */
/* The master process: holds the database lock, forks and supervises the replication worker,
 * handles signals, serves the control socket and reports its state to systemd. */
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
#include "repl.h"
#include "sdnotify.h"
#include "shm.h"
#include "util.h"
#include "version.h"

#define MASTER_BACKOFF_MIN_US INT64_C(500000)     /* first respawn delay */
#define MASTER_BACKOFF_MAX_US INT64_C(30000000)   /* cap of the doubling */
#define MASTER_BACKOFF_RESET_US INT64_C(60000000) /* a worker that ran this long was healthy */
#define MASTER_STOP_TIMEOUT_S 10                  /* then the worker gets SIGKILL */
#define MASTER_CTL_LINE_MAX 256                   /* request line, newline included */
#define MASTER_CTL_TIMEOUT_US INT64_C(5000000)    /* per control connection */
#define MASTER_CTL_CLIENTS_MAX 64

struct master;

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
	struct event *respawn_timer;
	struct event *stop_timer;

	/* the replication worker */
	pid_t repl_pid; /* 0 when not running */
	int chan_fd;    /* master end of its channel, -1 when closed */
	struct event *chan_ev;
	bool repl_spawned;       /* the first incarnation has been forked */
	int64_t repl_started_us; /* time_mono_us() at fork */
	int64_t backoff_us;      /* delay before the next respawn */

	bool stopping;
	int exit_code;
};

static void master_begin_stop(struct master *m, int exit_code);

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

/* ---- the replication worker ---- */

static void master_chan_cb(evutil_socket_t fd, short what, void *arg);

static void
master_close_chan(struct master *m)
{
	if (m->chan_ev) {
		event_free(m->chan_ev);
		m->chan_ev = NULL;
	}
	if (m->chan_fd >= 0) {
		close(m->chan_fd);
		m->chan_fd = -1;
	}
}

/* In the child: drop what belongs to the master and become the replication worker. */
static void __attribute__((noreturn))
master_child(struct master *m, int fds[2], pid_t master_pid, bool first)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE};
	struct master_client *c;
	sigset_t none;
	size_t i;

	close(fds[0]);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	for (c = m->clients; c != NULL; c = c->next)
		close(c->fd);
	/* its own process group: a Ctrl-C in the terminal reaches the master alone, which then
	 * stops the worker over the channel after its last complete batch */
	setpgid(0, 0);
	/* the channel's EOF covers a master that exits; this covers one killed with -9 while
	 * the worker is busy */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		log_set_role("repl");
		log_error("prctl(PR_SET_PDEATHSIG) failed: %s", strerror(errno));
		_exit(EXIT_RESPAWN);
	}
	if (getppid() != master_pid)
		_exit(EXIT_RESPAWN); /* the master died before prctl() took effect */

	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	log_set_role("repl");
	/* only the master talks to systemd */
	unsetenv("NOTIFY_SOCKET");
	if (first)
		failpoint_init();
	_exit(repl_worker_main(m->cfg, fds[1], m->shm));
}

static int
master_spawn_repl(struct master *m)
{
	bool first = !m->repl_spawned;
	sigset_t all, old;
	int fds[2];
	pid_t pid;

	/* a crash test's failpoint fires in the first incarnation only, or the respawned
	 * worker would die at the same place forever */
	if (!first)
		unsetenv("SQLEDGE_FAILPOINTS");
	if (chan_pair(fds) < 0)
		return -1; /* error already logged by chan_pair() */

	/* no signal may reach libevent's handler in the child before it restores the defaults:
	 * the handler would report the child's signal to the master */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		master_child(m, fds, m->shm->master_pid, first);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid < 0) {
		log_error("fork() of the replication worker failed: %s", strerror(errno));
		close(fds[0]);
		return -1;
	}

	m->repl_pid = pid;
	m->repl_spawned = true;
	m->repl_started_us = time_mono_us();
	m->chan_fd = fds[0];
	if (evutil_make_socket_nonblocking(m->chan_fd) < 0)
		log_warn("cannot make the replication worker channel non-blocking");
	m->chan_ev = event_new(m->base, m->chan_fd, EV_READ | EV_PERSIST, master_chan_cb, m);
	if (m->chan_ev == NULL || event_add(m->chan_ev, NULL) < 0)
		log_warn("cannot watch the replication worker channel");
	shm_store(m->shm->repl_pid, pid);
	if (!first)
		shm_store(m->shm->repl_restarts, shm_load(m->shm->repl_restarts) + 1);
	log_info("started replication worker (pid %d)", (int)pid);
	return 0;
}

static void
master_chan_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
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
			master_close_chan(m);
			return;
		}
		if (pass_fd >= 0)
			close(pass_fd);
		log_warn("unexpected channel message type %u (%zu bytes) from the replication "
		         "worker",
		         type, len);
	}
}

static void
master_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct timeval tv;

	if (m->stopping || m->repl_pid > 0)
		return;
	if (master_spawn_repl(m) == 0)
		return;
	/* fork() or socketpair() failures are usually a passing shortage: try again later */
	tv.tv_sec = (time_t)(m->backoff_us / 1000000);
	tv.tv_usec = (suseconds_t)(m->backoff_us % 1000000);
	log_warn("retrying in %.1f s", (double)m->backoff_us / 1e6);
	m->backoff_us = m->backoff_us * 2 > MASTER_BACKOFF_MAX_US ? MASTER_BACKOFF_MAX_US
	                                                          : m->backoff_us * 2;
	evtimer_add(m->respawn_timer, &tv);
}

static void
master_schedule_respawn(struct master *m)
{
	int64_t delay;
	struct timeval tv;

	if (time_mono_us() - m->repl_started_us > MASTER_BACKOFF_RESET_US)
		m->backoff_us = MASTER_BACKOFF_MIN_US;
	delay = m->backoff_us;
	m->backoff_us = delay * 2 > MASTER_BACKOFF_MAX_US ? MASTER_BACKOFF_MAX_US : delay * 2;
	tv.tv_sec = (time_t)(delay / 1000000);
	tv.tv_usec = (suseconds_t)(delay % 1000000);
	log_info("restarting the replication worker in %.1f s", (double)delay / 1e6);
	evtimer_add(m->respawn_timer, &tv);
}

static void
master_repl_exited(struct master *m, int status)
{
	pid_t pid = m->repl_pid;
	int code = -1;

	m->repl_pid = 0;
	shm_store(m->shm->repl_pid, 0);
	master_close_chan(m);

	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		if (code == 0 && m->stopping)
			log_info("replication worker (pid %d) exited with code %d", (int)pid, code);
		else
			log_warn("replication worker (pid %d) exited with code %d", (int)pid, code);
	} else if (WIFSIGNALED(status)) {
		log_warn("replication worker (pid %d) was terminated by signal %d (%s)", (int)pid,
		         WTERMSIG(status), strsignal(WTERMSIG(status)));
	}

	if (m->stopping) {
		event_base_loopbreak(m->base);
		return;
	}
	if (code == EXIT_FATAL) {
		log_error("replication worker stopped on a fatal error; stopping sqledge");
		master_begin_stop(m, 1);
		return;
	}
	master_schedule_respawn(m);
}

/* ---- signals and stopping ---- */

static void
master_stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	if (m->repl_pid > 0) {
		log_warn("replication worker (pid %d) did not stop within %d s, killing it",
		         (int)m->repl_pid, MASTER_STOP_TIMEOUT_S);
		kill(m->repl_pid, SIGKILL);
	}
}

/* Starts the graceful stop: the worker is told to quit over its channel and the loop ends
 * once it has exited (or was killed after MASTER_STOP_TIMEOUT_S). */
static void
master_begin_stop(struct master *m, int exit_code)
{
	struct timeval tv = {.tv_sec = MASTER_STOP_TIMEOUT_S};

	if (m->stopping) {
		if (exit_code > m->exit_code)
			m->exit_code = exit_code;
		return;
	}
	m->stopping = true;
	m->exit_code = exit_code;
	sdnotify("STOPPING=1");
	evtimer_del(m->respawn_timer);
	if (m->repl_pid <= 0) {
		event_base_loopbreak(m->base);
		return;
	}
	log_info("stopping the replication worker (pid %d)", (int)m->repl_pid);
	if (m->chan_fd >= 0 && chan_send(m->chan_fd, CHAN_MSG_QUIT, NULL, 0, -1) != 0)
		log_warn("cannot send QUIT to the replication worker, closing its channel");
	/* the channel's EOF tells a worker that missed QUIT */
	master_close_chan(m);
	evtimer_add(m->stop_timer, &tv);
}

static void
master_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	const char *sig_name = sig == SIGINT ? "SIGINT" : "SIGTERM";
	pid_t pid;
	int status;

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
		log_warn("received SIGHUP: configuration reload is not supported yet, ignoring it");
		break;
	case SIGCHLD:
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == m->repl_pid)
				master_repl_exited(m, status);
			else
				log_debug("reaped unknown child process %d", (int)pid);
		}
		break;
	}
}

/* ---- setup and teardown ---- */

static int
master_setup_events(struct master *m)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		m->sig_events[i] = evsignal_new(m->base, sigs[i], master_signal_cb, m);
		if (m->sig_events[i] == NULL || event_add(m->sig_events[i], NULL) < 0) {
			log_error("cannot install the handler for signal %d", sigs[i]);
			return -1;
		}
	}
	m->respawn_timer = evtimer_new(m->base, master_respawn_cb, m);
	m->stop_timer = evtimer_new(m->base, master_stop_timeout_cb, m);
	m->listen_ev = event_new(m->base, m->listen_fd, EV_READ | EV_PERSIST, master_accept_cb, m);
	if (m->respawn_timer == NULL || m->stop_timer == NULL || m->listen_ev == NULL ||
	    event_add(m->listen_ev, NULL) < 0) {
		log_error("cannot set up the master's events");
		return -1;
	}
	return 0;
}

static void
master_cleanup(struct master *m)
{
	size_t i;

	while (m->clients)
		master_client_free(m->clients);
	master_close_chan(m);
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
	if (m->respawn_timer)
		event_free(m->respawn_timer);
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
	        .chan_fd = -1,
	        .backoff_us = MASTER_BACKOFF_MIN_US,
	};
	struct master *m = &master;
	int r = 1;

	log_set_role("master");
	log_info("sqledge %s starting (configuration: %s, database: \"%s\")", SQLEDGE_VERSION,
	         cfg->source ? cfg->source : "defaults and environment", cfg->local_db_path);
	signal(SIGPIPE, SIG_IGN);

	if (master_lock(m) < 0)
		goto out;
	m->shm = shm_create();
	if (m->shm == NULL)
		goto out;
	m->shm->master_pid = getpid();
	if (master_listen(m) < 0)
		goto out;
	m->base = event_base_new();
	if (m->base == NULL) {
		log_error("event_base_new() failed");
		goto out;
	}
	if (master_setup_events(m) < 0)
		goto out;
	if (master_spawn_repl(m) < 0)
		goto out;
	log_info("control socket listening on \"%s\"", m->sock_path);
	sdnotify("READY=1");

	if (event_base_dispatch(m->base) < 0) {
		log_error("event loop failed");
		m->exit_code = 1;
	}
	r = m->exit_code;
	if (m->repl_pid > 0) {
		/* the loop failed with the worker still running: it must not outlive us */
		kill(m->repl_pid, SIGKILL);
		waitpid(m->repl_pid, NULL, 0);
	}
	log_info("sqledge stopped");
out:
	master_cleanup(m);
	return r;
}
