/* SPDX-License-Identifier: MIT */
/* The optional Prometheus endpoint: GET /metrics on [metrics] listen, served by the master
 * from the shared memory (the same facts as sqledgectl status). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

struct metrics {
	const struct cfg *cfg;
	const struct shm_state *shm;
	struct evhttp *http;
	int fd; /* the listening socket */
};

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *body = evbuffer_new();
	struct strbuf sb;

	if (body == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	strbuf_init(&sb);
	ctl_render_metrics(m->cfg, m->shm, &sb);
	evbuffer_add(body, sb.data, sb.len);
	strbuf_free(&sb);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; version=0.0.4; charset=utf-8");
	/* no connection stays open: a worker forked meanwhile would hold it too */
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

static void
metrics_other_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is here");
}

/* Splits "host:port" or "[v6]:port"; returns -1 when it is neither. */
static int
metrics_parse(const char *listen, char *host, size_t hostlen, unsigned short *port)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t n;
	long p;
	char *end;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return -1;
	n = (size_t)(colon - listen);
	if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']') {
		h = listen + 1;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (unsigned short)p;
	return 0;
}

struct metrics *
metrics_start(struct event_base *base, const struct cfg *cfg, const struct shm_state *shm)
{
	struct evhttp_bound_socket *bound = NULL;
	struct metrics *m;
	char host[256];
	unsigned short port;

	if (cfg->metrics_listen[0] == '\0')
		return NULL;
	if (metrics_parse(cfg->metrics_listen, host, sizeof(host), &port) < 0) {
		log_error("[metrics] listen \"%s\" is not host:port", cfg->metrics_listen);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->cfg = cfg;
	m->shm = shm;
	m->http = evhttp_new(base);
	m->fd = -1;
	if (m->http == NULL ||
	    (bound = evhttp_bind_socket_with_handle(m->http, host, port)) == NULL) {
		log_error("cannot serve metrics on %s: %s", cfg->metrics_listen,
		          "the address is in use or not this host's");
		metrics_stop(m);
		return NULL;
	}
	m->fd = evhttp_bound_socket_get_fd(bound);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(m->http, 10);
	evhttp_set_cb(m->http, "/metrics", metrics_cb, m);
	evhttp_set_gencb(m->http, metrics_other_cb, m);
	log_info("metrics on http://%s/metrics", cfg->metrics_listen);
	return m;
}

void
metrics_stop(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->http)
		evhttp_free(m->http);
	free(m);
}

void
metrics_close_fd(struct metrics *m)
{
	if (m != NULL && m->fd >= 0)
		close(m->fd);
}
