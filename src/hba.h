/* SPDX-License-Identifier: MIT */
/* Address rules for the proxy's clients ([proxy] hba_file), a small pg_hba.conf: which users
 * may reach which databases from where, over what, and how they log in. The first line that
 * matches a client decides; no line means no entry, and the client is refused. Pure parsing
 * and matching: the file is read by the caller. */
#ifndef SQLEDGE_HBA_H
#define SQLEDGE_HBA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct strbuf;

enum hba_conn {
	HBA_LOCAL,     /* the Unix socket */
	HBA_HOST,      /* TCP, with or without TLS */
	HBA_HOSTSSL,   /* TCP with TLS */
	HBA_HOSTNOSSL, /* TCP without TLS */
};

enum hba_method {
	HBA_REJECT,
	HBA_PASSWORD, /* verified by the upstream ([proxy] auth = password) */
	HBA_TRUST,
	HBA_SCRAM, /* [proxy] auth_file: SCRAM-SHA-256 (md5 for md5 secrets) */
};

struct hba_rule {
	int line;
	enum hba_conn conn;
	char **databases; /* NULL: all */
	size_t ndatabases;
	char **users; /* NULL: all */
	size_t nusers;
	bool any_address; /* all (or a local line) */
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix; /* bits of addr that must match */
	enum hba_method method;
};

struct hba {
	size_t n;
	struct hba_rule *rules;
};

/* Parses the rules of text (a file's content; name is used in messages). Lines: TYPE
 * DATABASE USER [ADDRESS] METHOD, TYPE local, host, hostssl or hostnossl; DATABASE and USER
 * "all" or comma-separated names (double quotes keep case and commas); ADDRESS "all", an
 * IPv4 or IPv6 address with an optional /prefix (none for local); METHOD password, trust,
 * reject, or scram-sha-256 or md5 (both by [proxy] auth_file). # starts a comment. Returns 0 with
 * *out set, or -1 with every error, by line, in err. */
int hba_parse(const char *text, const char *name, struct hba **out, struct strbuf *err);
/* Reads and parses the file path. */
int hba_load(const char *path, struct hba **out, struct strbuf *err);
void hba_free(struct hba *h);

/* The rule for a client (addr is NULL for the Unix socket), or NULL when no line matches. */
const struct hba_rule *hba_match(const struct hba *h, const struct sockaddr_storage *addr, bool tls,
                                 const char *database, const char *user);

/* Whether some trust line can match a TCP client that is not on a loopback address. */
bool hba_trusts_remote(const struct hba *h);

const char *hba_method_name(enum hba_method m);

struct cfg;
/* Checks the authentication settings of cfg: the hba_file (read and parsed), and that trust
 * (in it, or [proxy] auth) reaches no client beyond loopback unless trust_remote says so
 * while the proxy listens beyond it. Returns 0, or -1 with the reasons in err. */
int hba_check_cfg(const struct cfg *cfg, struct strbuf *err);

#endif
