/* SPDX-License-Identifier: MIT */
/* Address rules for the proxy's clients (see hba.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "hba.h"
#include "scram.h"
#include "util.h"

#define HBA_MAX_FILE (1024 * 1024)
#define HBA_MAX_TOKENS 5

const char *
hba_method_name(enum hba_method m)
{
	return m == HBA_TRUST      ? "trust"
	       : m == HBA_PASSWORD ? "password"
	       : m == HBA_SCRAM    ? "scram-sha-256"
	                           : "reject";
}

static void
hba_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void
hba_free(struct hba *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		hba_names_free(h->rules[i].databases, h->rules[i].ndatabases);
		hba_names_free(h->rules[i].users, h->rules[i].nusers);
	}
	free(h->rules);
	free(h);
}

/* Splits a line into whitespace-separated tokens (a double-quoted part keeps blanks).
 * Returns the number of tokens, -1 when there are too many or a quote is not closed. */
static int
hba_tokens(char *line, char **tok)
{
	int n = 0;
	char *p = line;

	for (;;) {
		bool quoted = false;

		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == HBA_MAX_TOKENS)
			return -1;
		tok[n++] = p;
		while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '#'))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		if (quoted)
			return -1;
		if (*p == '#') {
			*p = '\0';
			return n;
		}
		if (*p)
			*p++ = '\0';
	}
}

/* "all", or comma-separated names; "x" keeps case, commas and blanks; bare names are as
 * written (PostgreSQL does not fold them in pg_hba.conf either). */
static int
hba_names(const char *tok, char ***out, size_t *n)
{
	struct strbuf cur;
	const char *p = tok;
	bool quoted = false;

	*out = NULL;
	*n = 0;
	if (strcmp(tok, "all") == 0)
		return 0;
	strbuf_init(&cur);
	for (;; p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (*p == '\0' || (*p == ',' && !quoted)) {
			if (cur.len == 0) {
				strbuf_free(&cur);
				hba_names_free(*out, *n);
				*out = NULL;
				*n = 0;
				return -1;
			}
			*out = xrealloc(*out, sizeof(**out) * (*n + 1));
			(*out)[(*n)++] = xstrdup(strbuf_str(&cur));
			strbuf_reset(&cur);
			if (*p == '\0')
				break;
			continue;
		}
		strbuf_putc(&cur, *p);
	}
	strbuf_free(&cur);
	return 0;
}

static int
hba_address(const char *tok, struct hba_rule *r)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	long bits;
	int max;

	if (strcmp(tok, "all") == 0) {
		r->any_address = true;
		return 0;
	}
	if (strlen(tok) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", tok);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, r->addr) == 1) {
		r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
		r->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	if (slash == NULL) {
		r->prefix = max;
		return 0;
	}
	errno = 0;
	bits = strtol(slash, &slash, 10);
	if (errno || *slash || bits < 0 || bits > max)
		return -1;
	r->prefix = (int)bits;
	return 0;
}

static int
hba_rule_parse(char **tok, int ntok, struct hba_rule *r, const char **why)
{
	static const struct {
		const char *name;
		enum hba_conn conn;
	} conns[] = {{"local", HBA_LOCAL},
	             {"host", HBA_HOST},
	             {"hostssl", HBA_HOSTSSL},
	             {"hostnossl", HBA_HOSTNOSSL}};
	const char *method;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conns); i++)
		if (strcmp(tok[0], conns[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(conns)) {
		*why = "the type must be local, host, hostssl or hostnossl";
		return -1;
	}
	r->conn = conns[i].conn;
	if (ntok != (r->conn == HBA_LOCAL ? 4 : 5)) {
		*why = r->conn == HBA_LOCAL ? "expected: local DATABASE USER METHOD"
		                            : "expected: TYPE DATABASE USER ADDRESS METHOD";
		return -1;
	}
	if (hba_names(tok[1], &r->databases, &r->ndatabases) < 0) {
		*why = "invalid database list";
		return -1;
	}
	if (hba_names(tok[2], &r->users, &r->nusers) < 0) {
		*why = "invalid user list";
		return -1;
	}
	if (r->conn == HBA_LOCAL) {
		r->any_address = true;
	} else if (hba_address(tok[3], r) < 0) {
		*why = "the address must be all, or an IPv4 or IPv6 address with an optional /bits";
		return -1;
	}
	method = tok[ntok - 1];
	if (strcmp(method, "password") == 0) {
		r->method = HBA_PASSWORD;
	} else if (strcmp(method, "trust") == 0) {
		r->method = HBA_TRUST;
	} else if (strcmp(method, "reject") == 0) {
		r->method = HBA_REJECT;
	} else if (strcmp(method, "scram-sha-256") == 0 || strcmp(method, "md5") == 0) {
		r->method = HBA_SCRAM;
	} else {
		*why = "the method must be password, scram-sha-256, md5, trust or reject";
		return -1;
	}
	return 0;
}

int
hba_parse(const char *text, const char *name, struct hba **out, struct strbuf *err)
{
	struct hba *h = xcalloc(1, sizeof(*h));
	size_t cap = 0;
	char *copy = xstrdup(text), *line = copy, *next;
	int lineno = 0, errors = 0;

	for (; line; line = next) {
		char *tok[HBA_MAX_TOKENS];
		const char *why = NULL;
		struct hba_rule r;
		int ntok;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		ntok = hba_tokens(line, tok);
		if (ntok == 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.line = lineno;
		if (ntok < 0)
			why = "too many fields, or an unclosed quote";
		else if (hba_rule_parse(tok, ntok, &r, &why) == 0) {
			h->rules = xgrow(h->rules, &cap, h->n + 1, sizeof(*h->rules));
			h->rules[h->n++] = r;
			continue;
		}
		hba_names_free(r.databases, r.ndatabases);
		hba_names_free(r.users, r.nusers);
		strbuf_printf(err, "%s:%d: %s\n", name, lineno, why);
		errors++;
	}
	free(copy);
	if (errors) {
		hba_free(h);
		return -1;
	}
	*out = h;
	return 0;
}

int
hba_load(const char *path, struct hba **out, struct strbuf *err)
{
	struct strbuf text;
	int rc = -1;

	strbuf_init(&text);
	if (read_text_file(path, "[proxy] hba_file", HBA_MAX_FILE, &text, err) == 0)
		rc = hba_parse(strbuf_str(&text), path, out, err);
	strbuf_free(&text);
	return rc;
}

static bool
hba_name_in(char **names, size_t n, const char *name)
{
	size_t i;

	if (names == NULL)
		return true;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Whether the first prefix bits of a and b are equal. */
static bool
hba_prefix_equal(const uint8_t *a, const uint8_t *b, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool
hba_address_matches(const struct hba_rule *r, const struct sockaddr_storage *ss)
{
	uint8_t a[16];

	if (r->any_address)
		return true;
	if (ss->ss_family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		if (r->family == AF_INET)
			return hba_prefix_equal(a, r->addr, r->prefix);
		return false;
	}
	if (ss->ss_family == AF_INET6) {
		const uint8_t *v6 = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (r->family == AF_INET6)
			return hba_prefix_equal(v6, r->addr, r->prefix);
		/* an IPv4-mapped client against an IPv4 rule */
		return memcmp(v6, mapped, 12) == 0 && hba_prefix_equal(v6 + 12, r->addr, r->prefix);
	}
	return false;
}

const struct hba_rule *
hba_match(const struct hba *h, const struct sockaddr_storage *addr, bool tls, const char *database,
          const char *user)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		const struct hba_rule *r = &h->rules[i];

		if (addr == NULL ? r->conn != HBA_LOCAL : r->conn == HBA_LOCAL)
			continue;
		if ((r->conn == HBA_HOSTSSL && !tls) || (r->conn == HBA_HOSTNOSSL && tls))
			continue;
		if (addr != NULL && !hba_address_matches(r, addr))
			continue;
		if (hba_name_in(r->databases, r->ndatabases, database) &&
		    hba_name_in(r->users, r->nusers, user))
			return r;
	}
	return NULL;
}

bool
hba_trusts_remote(const struct hba *h)
{
	static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	size_t i;

	for (i = 0; i < h->n; i++) {
		const struct hba_rule *r = &h->rules[i];

		if (r->method != HBA_TRUST || r->conn == HBA_LOCAL)
			continue;
		if (r->any_address)
			return true;
		/* within 127.0.0.0/8 or ::1 is loopback */
		if (r->family == AF_INET && (r->prefix < 8 || r->addr[0] != 127))
			return true;
		if (r->family == AF_INET6 && (r->prefix < 128 || memcmp(r->addr, lo6, 16) != 0))
			return true;
	}
	return false;
}

static bool
hba_uses_scram(const struct hba *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->rules[i].method == HBA_SCRAM)
			return true;
	return false;
}

/* Whether every address of a [proxy] address list is a loopback one. */
static bool
hba_listen_is_local(const char *addresses)
{
	char *copy = xstrdup(addresses), *tok, *save = NULL;
	bool local = true;

	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		uint8_t a[16];

		if (strcmp(tok, "localhost") == 0 || strcmp(tok, "::1") == 0)
			continue;
		if (inet_pton(AF_INET, tok, a) == 1 && a[0] == 127)
			continue;
		local = false;
	}
	free(copy);
	return local;
}

int
hba_check_cfg(const struct cfg *cfg, struct strbuf *err)
{
	struct hba *h = NULL;
	bool remote;

	if (cfg->proxy_hba_file[0] && hba_load(cfg->proxy_hba_file, &h, err) < 0)
		return -1;
	remote = !hba_listen_is_local(cfg->proxy_address);
	if (remote && !cfg->proxy_trust_remote &&
	    (h ? hba_trusts_remote(h) : strcmp(cfg->proxy_auth, "trust") == 0)) {
		strbuf_printf(
		        err,
		        "%s lets clients from other hosts in without a password while [proxy] "
		        "address = %s listens beyond loopback; set [proxy] trust_remote = on "
		        "if that is meant\n",
		        h ? "a trust line of [proxy] hba_file" : "[proxy] auth = trust",
		        cfg->proxy_address);
		hba_free(h);
		return -1;
	}
	if (!cfg->proxy_auth_file[0] &&
	    (strcmp(cfg->proxy_auth, "scram") == 0 || (h && hba_uses_scram(h)))) {
		strbuf_printf(err, "%s needs [proxy] auth_file\n",
		              h && hba_uses_scram(h)
		                      ? "a scram-sha-256 or md5 line of [proxy] hba_file"
		                      : "[proxy] auth = scram");
		hba_free(h);
		return -1;
	}
	hba_free(h);
	if (cfg->proxy_auth_file[0]) {
		struct scram_users *u = NULL;

		if (scram_users_load(cfg->proxy_auth_file, &u, err) < 0)
			return -1;
		scram_users_free(u);
	}
	return 0;
}
