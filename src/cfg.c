/* SPDX-License-Identifier: MIT */
/* Configuration: one key table drives the defaults, the ini file (inih fed by our own line
 * reader, so lines may be long and values quoted), the SQLEDGE_* environment, checks and dump. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <ini.h>

#include "cfg.h"
#include "log.h"
#include "util.h"

enum cfg_type {
	CFG_STRING,
	CFG_INT,
	CFG_BOOL,
};

#define CFG_SECRET 0x1 /* never echoed in messages or dumps; wiped before it is freed */
#define CFG_LIVE 0x2   /* a reload changes it while sqledge runs; the others need a restart */

/* Marks a value that the reader stashed: inih sees "key = \x01<n>" instead of the real value. */
#define CFG_STASH_MARK '\x01'
/* Initial getline() buffer: large enough that a line holding a password seldom makes getline()
 * move it with realloc(), which would leave an unwiped copy behind. */
#define CFG_LINE_ALLOC 4096
#define CFG_ENV_PREFIX "SQLEDGE_"
#define CFG_ENV_MAX 64
#define CFG_MASK "********"

struct cfg_key {
	const char *section;
	const char *name;
	enum cfg_type type;
	const char *def; /* default, as text parsed like any other source */
	int min, max;    /* CFG_INT only */
	size_t offset;   /* of the field in struct cfg */
	unsigned flags;
	/* CFG_STRING only, may be NULL: checks the final value, may normalise it in place;
	 * returns NULL when it is fine, else what it must be. */
	const char *(*check)(char **value);
};

static const char *cfg_check_nonempty(char **value);
static const char *cfg_check_schema(char **value);
static const char *cfg_check_patterns(char **value);
static const char *cfg_check_sslmode(char **value);
static const char *cfg_check_plugin(char **value);
static const char *cfg_check_slot_name(char **value);
static const char *cfg_check_log_level(char **value);
static const char *cfg_check_auth(char **value);
static const char *cfg_check_consistency(char **value);
static const char *cfg_check_upstream_down(char **value);
static const char *cfg_check_listen(char **value);
static const char *cfg_check_tls_require(char **value);
static const char *cfg_check_tls_protocol(char **value);

#define KEY_STR(sec, key, field, def, flags, check)                                                \
	{                                                                                          \
		sec, key, CFG_STRING, def, 0, 0, offsetof(struct cfg, field), flags, check         \
	}
#define KEY_INT(sec, key, field, def, min, max)                                                    \
	{                                                                                          \
		sec, key, CFG_INT, #def, min, max, offsetof(struct cfg, field), 0, NULL            \
	}
#define KEY_BOOL(sec, key, field, def)                                                             \
	{                                                                                          \
		sec, key, CFG_BOOL, #def, 0, 0, offsetof(struct cfg, field), 0, NULL               \
	}
#define KEY_INT_LIVE(sec, key, field, def, min, max)                                               \
	{                                                                                          \
		sec, key, CFG_INT, #def, min, max, offsetof(struct cfg, field), CFG_LIVE, NULL     \
	}
#define KEY_BOOL_LIVE(sec, key, field, def)                                                        \
	{                                                                                          \
		sec, key, CFG_BOOL, #def, 0, 0, offsetof(struct cfg, field), CFG_LIVE, NULL        \
	}

/* Sections appear in this order in cfg_dump(); keep each section's keys together. */
static const struct cfg_key cfg_keys[] = {
        KEY_STR("upstream", "user", upstream_user, "postgres", 0, NULL),
        KEY_STR("upstream", "password", upstream_password, "", CFG_SECRET | CFG_LIVE, NULL),
        KEY_STR("upstream", "password_file", upstream_password_file, "", CFG_LIVE, NULL),
        KEY_STR("upstream", "address", upstream_address, "localhost", 0, NULL),
        KEY_INT("upstream", "port", upstream_port, 5432, 1, 65535),
        KEY_STR("upstream", "name", upstream_name, "postgres", 0, NULL),
        KEY_STR("upstream", "schema", upstream_schema, "public", 0, cfg_check_schema),
        KEY_STR("upstream", "tables", upstream_tables, "", 0, cfg_check_patterns),
        KEY_STR("upstream", "exclude_tables", upstream_exclude_tables, "", 0, cfg_check_patterns),
        KEY_STR("upstream", "sslmode", upstream_sslmode, "prefer", 0, cfg_check_sslmode),
        KEY_STR("upstream", "sslrootcert", upstream_sslrootcert, "", 0, NULL),
        KEY_INT_LIVE("upstream", "connect_timeout", upstream_connect_timeout, 10, 1, 3600),

        KEY_STR("replication", "plugin", replication_plugin, "pgoutput", 0, cfg_check_plugin),
        KEY_STR("replication", "slot_name", replication_slot_name, "sqledge", 0,
                cfg_check_slot_name),
        KEY_STR("replication", "publication", replication_publication, "sqledge", 0,
                cfg_check_nonempty),
        KEY_BOOL("replication", "create_slot", replication_create_slot, true),
        KEY_BOOL("replication", "temp_slot", replication_temp_slot, false),
        KEY_BOOL("replication", "create_publication", replication_create_publication, true),
        KEY_INT("replication", "status_interval", replication_status_interval, 10, 1, 3600),
        KEY_INT_LIVE("replication", "batch_max_ms", replication_batch_max_ms, 200, 1, 60000),
        KEY_INT_LIVE("replication", "batch_max_rows", replication_batch_max_rows, 50000, 1,
                     10000000),
        KEY_INT_LIVE("replication", "reconnect_max", replication_reconnect_max, 30, 1, 3600),
        KEY_INT_LIVE("replication", "reconcile_interval", replication_reconcile_interval, 60, 0,
                     86400),
        KEY_BOOL("replication", "ddl_trigger", replication_ddl_trigger, false),
        KEY_STR("replication", "source_address", replication_source_address, "", 0, NULL),
        KEY_INT("replication", "source_port", replication_source_port, 0, 0, 65535),
        KEY_INT("replication", "slot_timeout", replication_slot_timeout, 60, 1, 86400),

        KEY_STR("local", "db_path", local_db_path, "./sqledge.db", 0, cfg_check_nonempty),
        KEY_INT_LIVE("local", "free_space_reserve", local_free_space_reserve, 0, 0, 1000000000),

        KEY_STR("proxy", "address", proxy_address, "localhost", 0, NULL),
        KEY_INT("proxy", "port", proxy_port, 5433, 1, 65535),
        KEY_INT_LIVE("proxy", "workers", proxy_workers, 0, 0, CFG_MAX_PROXY_WORKERS),
        KEY_STR("proxy", "unix_socket_dir", proxy_unix_socket_dir, "", 0, NULL),
        KEY_STR("proxy", "auth", proxy_auth, "password", CFG_LIVE, cfg_check_auth),
        KEY_INT_LIVE("proxy", "max_clients", proxy_max_clients, 1000, 1, 1000000),
        KEY_INT_LIVE("proxy", "max_upstream_connections", proxy_max_upstream_connections, 0, 0,
                     1000000),
        KEY_INT_LIVE("proxy", "queue_timeout", proxy_queue_timeout, 60, 1, 86400),
        KEY_INT_LIVE("proxy", "max_message_size", proxy_max_message_size, 268435456, 10000,
                     1073741823),
        KEY_BOOL("proxy", "local_reads", proxy_local_reads, true),
        KEY_STR("proxy", "consistency", proxy_consistency, "session", CFG_LIVE,
                cfg_check_consistency),
        KEY_INT_LIVE("proxy", "max_wait", proxy_max_wait, 1000, 0, 3600000),
        KEY_INT_LIVE("proxy", "max_lag", proxy_max_lag, 30000, 0, 86400000),
        KEY_INT_LIVE("proxy", "idle_in_transaction_timeout", proxy_idle_in_transaction_timeout,
                     60000, 0, 86400000),
        KEY_BOOL_LIVE("proxy", "read_committed_local", proxy_read_committed_local, false),
        KEY_STR("proxy", "on_upstream_down", proxy_on_upstream_down, "serve_stale", CFG_LIVE,
                cfg_check_upstream_down),
        KEY_INT_LIVE("proxy", "shutdown_timeout", proxy_shutdown_timeout, 10, 0, 3600),
        KEY_STR("proxy", "hba_file", proxy_hba_file, "", CFG_LIVE, NULL),
        KEY_STR("proxy", "auth_file", proxy_auth_file, "", CFG_LIVE, NULL),
        KEY_BOOL_LIVE("proxy", "trust_remote", proxy_trust_remote, false),
        KEY_INT_LIVE("proxy", "login_cache_ttl", proxy_login_cache_ttl, 0, 0, 604800),
        KEY_STR("proxy", "tls_cert_file", proxy_tls_cert_file, "", CFG_LIVE, NULL),
        KEY_STR("proxy", "tls_key_file", proxy_tls_key_file, "", CFG_LIVE, NULL),
        KEY_STR("proxy", "tls_require", proxy_tls_require, "off", CFG_LIVE, cfg_check_tls_require),
        KEY_STR("proxy", "tls_min_protocol", proxy_tls_min_protocol, "TLSv1.2", CFG_LIVE,
                cfg_check_tls_protocol),
        KEY_STR("proxy", "tls_ciphers", proxy_tls_ciphers, "HIGH:!aNULL:!MD5:!3DES:!RC4", CFG_LIVE,
                cfg_check_nonempty),

        /* empty means "sqledge.sock next to db_path", filled in by cfg_load() */
        KEY_STR("control", "socket", control_socket, "", 0, NULL),

        KEY_STR("log", "level", log_level, "info", CFG_LIVE, cfg_check_log_level),

        KEY_STR("metrics", "listen", metrics_listen, "", 0, cfg_check_listen),
};

#define CFG_NKEYS ARRAY_SIZE(cfg_keys)

/* A file read line by line whose buffers are wiped on close, since it may hold passwords. */
struct cfg_lines {
	FILE *fp;
	char *line;
	size_t cap;
	char iobuf[BUFSIZ];
};

/* Everything one cfg_load() call needs; the reader and handler get it as their user pointer. */
struct cfg_load {
	struct cfg *cfg;
	FILE *err;
	int errors;
	int line[CFG_NKEYS];      /* file line that set each key, 0 when not set by the file */
	bool from_env[CFG_NKEYS]; /* the environment overrode it */
	const char *path;         /* the ini file */
	struct cfg_lines lines;
	int lineno;          /* physical line the reader handed to inih last */
	bool key_seen;       /* a key since the last section header */
	const char *section; /* current section as the table spells it, NULL if none */
	bool section_bad;    /* current section is unknown (reported at its header) */
	char **stash;        /* values inih never sees, indexed by the \x01<n> mark */
	size_t nstash;
};

static const char *
cfg_check_nonempty(char **value)
{
	return **value ? NULL : "must not be empty";
}

/* Also rewrites "a , b" as "a,b", so that users of the list only split on commas. */
/* Normalizes a comma-separated list: items trimmed, none empty (the list may be, when
 * allow_empty). */
static const char *
cfg_check_list(char **value, bool allow_empty, const char *why_bad)
{
	struct strbuf sb;
	const char *p = *value, *end, *comma;
	const char *why = NULL;

	if (allow_empty) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0') {
			free(*value);
			*value = xstrdup("");
			return NULL;
		}
	}
	strbuf_init(&sb);
	for (;;) {
		comma = strchr(p, ',');
		end = comma ? comma : p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		if (end == p) {
			why = why_bad;
			goto out;
		}
		if (sb.len)
			strbuf_putc(&sb, ',');
		strbuf_append(&sb, p, (size_t)(end - p));
		if (!comma)
			break;
		p = comma + 1;
	}
	free(*value);
	*value = xstrdup(strbuf_str(&sb));
out:
	strbuf_free(&sb);
	return why;
}

static const char *
cfg_check_patterns(char **value)
{
	return cfg_check_list(value, true,
	                      "must be a comma-separated list of table patterns (table, "
	                      "schema.table, with * and ? wildcards)");
}

/* Whether name matches one pattern of the normalized list. */
static bool
cfg_list_matches(const char *list, const char *nspname, const char *relname)
{
	const char *p = list;
	char pat[512], full[512];

	snprintf(full, sizeof(full), "%s.%s", nspname, relname);
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len < sizeof(pat)) {
			memcpy(pat, p, len);
			pat[len] = '\0';
			if (fnmatch(pat, strchr(pat, '.') ? full : relname, 0) == 0)
				return true;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

bool
cfg_table_matches(const char *include, const char *exclude, const char *nspname,
                  const char *relname)
{
	if (include && include[0] && !cfg_list_matches(include, nspname, relname))
		return false;
	return !(exclude && exclude[0] && cfg_list_matches(exclude, nspname, relname));
}

void
cfg_replicated_set(const struct cfg *cfg, char *buf, size_t size)
{
	if (cfg->upstream_tables[0] == '\0' && cfg->upstream_exclude_tables[0] == '\0')
		snprintf(buf, size, "%s", cfg->upstream_schema);
	else
		snprintf(buf, size, "%s; tables %s; exclude_tables %s", cfg->upstream_schema,
		         cfg->upstream_tables[0] ? cfg->upstream_tables : "*",
		         cfg->upstream_exclude_tables);
}

static const char *
cfg_check_schema(char **value)
{
	return cfg_check_list(value, false, "must be a comma-separated list of schema names");
}

static const char *
cfg_check_sslmode(char **value)
{
	static const char *const modes[] = {"disable", "allow",     "prefer",
	                                    "require", "verify-ca", "verify-full"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (strcmp(*value, modes[i]) == 0)
			return NULL;
	return "must be disable, allow, prefer, require, verify-ca or verify-full";
}

static const char *
cfg_check_plugin(char **value)
{
	return strcmp(*value, "pgoutput") == 0 ? NULL : "only \"pgoutput\" is supported";
}

/* PostgreSQL's own rule for replication slot names. */
static const char *
cfg_check_slot_name(char **value)
{
	size_t n = strlen(*value);

	if (n < 1 || n > 63 || strspn(*value, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return "must be 1 to 63 characters of a-z, 0-9 and _";
	return NULL;
}

static const char *
cfg_check_log_level(char **value)
{
	enum log_level level;

	if (log_level_parse(*value, &level) < 0)
		return "must be error, warning, info or debug";
	return NULL;
}

static const char *
cfg_check_tls_require(char **value)
{
	bool b;

	if (strcmp(*value, "all") == 0)
		return NULL;
	if (parse_bool(*value, &b) < 0)
		return "must be off, on (clients not on loopback) or all (every TCP client)";
	free(*value);
	*value = xstrdup(b ? "on" : "off");
	return NULL;
}

static const char *
cfg_check_tls_protocol(char **value)
{
	if (strcmp(*value, "TLSv1.2") == 0 || strcmp(*value, "TLSv1.3") == 0)
		return NULL;
	return "must be TLSv1.2 or TLSv1.3";
}

static const char *
cfg_check_auth(char **value)
{
	if (strcmp(*value, "password") == 0 || strcmp(*value, "trust") == 0 ||
	    strcmp(*value, "scram") == 0)
		return NULL;
	return "must be password, scram or trust";
}

static const char *
cfg_check_consistency(char **value)
{
	if (strcmp(*value, "session") == 0 || strcmp(*value, "eventual") == 0)
		return NULL;
	return "must be session or eventual";
}

static const char *
cfg_check_listen(char **value)
{
	const char *colon = strrchr(*value, ':');
	char *end;
	long port;

	if (**value == '\0')
		return NULL;
	if (colon == NULL || colon == *value)
		return "must be host:port (for example 127.0.0.1:9187), or empty";
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		return "must be host:port with a port from 1 to 65535, or empty";
	return NULL;
}

static const char *
cfg_check_upstream_down(char **value)
{
	if (strcmp(*value, "serve_stale") == 0 || strcmp(*value, "error") == 0)
		return NULL;
	return "must be serve_stale or error";
}

static int
cfg_find_key(const char *section, const char *name)
{
	size_t k;

	for (k = 0; k < CFG_NKEYS; k++)
		if (strcmp(cfg_keys[k].section, section) == 0 &&
		    strcmp(cfg_keys[k].name, name) == 0)
			return (int)k;
	return -1;
}

/* Returns the table's spelling of the section, or NULL when there is no such section. */
static const char *
cfg_find_section(const char *name, size_t len)
{
	size_t k;

	for (k = 0; k < CFG_NKEYS; k++)
		if (strlen(cfg_keys[k].section) == len &&
		    memcmp(cfg_keys[k].section, name, len) == 0)
			return cfg_keys[k].section;
	return NULL;
}

/* SQLEDGE_<SECTION>_<KEY>, upper case. */
static void
cfg_env_name(const struct cfg_key *key, char *buf, size_t size)
{
	char *p;

	snprintf(buf, size, CFG_ENV_PREFIX "%s_%s", key->section, key->name);
	for (p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
}

/* Where key k got its current value: "FILE:LINE", the variable, or "default". */
static void
cfg_origin(const struct cfg_load *ld, size_t k, struct strbuf *sb)
{
	char env[CFG_ENV_MAX];

	if (ld->from_env[k]) {
		cfg_env_name(&cfg_keys[k], env, sizeof(env));
		strbuf_puts(sb, env);
	} else if (ld->line[k] > 0) {
		strbuf_printf(sb, "%s:%d", ld->path, ld->line[k]);
	} else {
		strbuf_puts(sb, "default");
	}
}

static void __attribute__((format(printf, 4, 0)))
cfg_vreport(struct cfg_load *ld, const char *where, int line, const char *fmt, va_list ap)
{
	if (line > 0)
		fprintf(ld->err, "%s:%d: ", where, line);
	else
		fprintf(ld->err, "%s: ", where);
	vfprintf(ld->err, fmt, ap);
	fputc('\n', ld->err);
	ld->errors++;
}

static void __attribute__((format(printf, 3, 4)))
cfg_report(struct cfg_load *ld, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vreport(ld, where, 0, fmt, ap);
	va_end(ap);
}

/* An error on the physical line the reader is at. */
static void __attribute__((format(printf, 2, 3)))
cfg_report_line(struct cfg_load *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vreport(ld, ld->path, ld->lineno, fmt, ap);
	va_end(ap);
}

/* An error about key k, named by where its value came from. */
static void __attribute__((format(printf, 3, 4)))
cfg_report_key(struct cfg_load *ld, size_t k, const char *fmt, ...)
{
	struct strbuf where;
	va_list ap;

	strbuf_init(&where);
	cfg_origin(ld, k, &where);
	va_start(ap, fmt);
	cfg_vreport(ld, strbuf_str(&where), 0, fmt, ap);
	va_end(ap);
	strbuf_free(&where);
}

static void
cfg_report_value(struct cfg_load *ld, size_t k, const char *text, const char *why)
{
	const struct cfg_key *key = &cfg_keys[k];

	if (key->flags & CFG_SECRET)
		cfg_report_key(ld, k, "invalid value for key \"%s\" in section [%s]: %s", key->name,
		               key->section, why);
	else
		cfg_report_key(ld, k, "invalid value \"%s\" for key \"%s\" in section [%s]: %s",
		               text, key->name, key->section, why);
}

static void
cfg_set_string(struct cfg_load *ld, size_t k, const char *text)
{
	char **field = (char **)(void *)((char *)ld->cfg + cfg_keys[k].offset);
	char *old = *field;

	*field = xstrdup(text);
	if (old && (cfg_keys[k].flags & CFG_SECRET))
		secure_zero(old, strlen(old));
	free(old);
}

/* Parses text by the key's type into the field; ranges and string rules are checked later, on
 * the final value, so that a later source may still correct an earlier one. */
static void
cfg_set(struct cfg_load *ld, size_t k, const char *text)
{
	const struct cfg_key *key = &cfg_keys[k];
	void *field = (char *)ld->cfg + key->offset;
	char why[64];
	int64_t v;
	bool b;

	switch (key->type) {
	case CFG_STRING:
		cfg_set_string(ld, k, text);
		break;
	case CFG_INT:
		if (parse_int64(text, INT64_MIN, INT64_MAX, &v) < 0) {
			cfg_report_value(ld, k, text, "expected an integer");
		} else if (v < INT_MIN || v > INT_MAX) {
			snprintf(why, sizeof(why), "must be between %d and %d", key->min, key->max);
			cfg_report_value(ld, k, text, why);
		} else {
			*(int *)field = (int)v;
		}
		break;
	case CFG_BOOL:
		if (parse_bool(text, &b) < 0)
			cfg_report_value(ld, k, text, "expected true or false");
		else
			*(bool *)field = b;
		break;
	}
}

static int
cfg_lines_open(struct cfg_lines *cl, const char *path)
{
	cl->fp = fopen(path, "re");
	if (cl->fp == NULL)
		return -1;
	setvbuf(cl->fp, cl->iobuf, _IOFBF, sizeof(cl->iobuf));
	cl->cap = CFG_LINE_ALLOC;
	cl->line = xmalloc(cl->cap);
	return 0;
}

/* Returns the next line without its "\n" or "\r\n" and sets *len; NULL at the end or on error
 * (then errno is set and ferror() is true). */
static char *
cfg_lines_next(struct cfg_lines *cl, size_t *len)
{
	ssize_t n = getline(&cl->line, &cl->cap, cl->fp);

	if (n < 0)
		return NULL;
	if (n > 0 && cl->line[n - 1] == '\n')
		cl->line[--n] = '\0';
	if (n > 0 && cl->line[n - 1] == '\r')
		cl->line[--n] = '\0';
	*len = (size_t)n;
	return cl->line;
}

static void
cfg_lines_close(struct cfg_lines *cl)
{
	if (cl->fp)
		fclose(cl->fp);
	cl->fp = NULL;
	secure_zero(cl->iobuf, sizeof(cl->iobuf));
	secure_zero(cl->line, cl->cap);
	free(cl->line);
	cl->line = NULL;
	cl->cap = 0;
}

/* inih's find_chars_or_comment(): the first of chars, or of an inline ';' comment (a ';'
 * preceded by whitespace), or the end. */
static const char *
cfg_find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static const char *
cfg_skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static char *
cfg_blank_line(char *str)
{
	str[0] = '\n';
	str[1] = '\0';
	return str;
}

/* A "[section]" line: handed to inih in canonical form, or as "[\x01]" when unknown so that the
 * keys under it are not taken for the previous section's. */
static char *
cfg_read_section(struct cfg_load *ld, const char *start, char *str, int num)
{
	const char *end = strchr(start + 1, ']');
	const char *rest;

	ld->key_seen = false;
	ld->section = NULL;
	ld->section_bad = true;
	if (end == NULL) {
		cfg_report_line(ld, "missing \"]\" in section header");
		goto bad;
	}
	rest = cfg_skip_space(end + 1);
	if (*rest && *rest != ';' && *rest != '#') {
		cfg_report_line(ld, "unexpected text after section header");
		goto bad;
	}
	ld->section = cfg_find_section(start + 1, (size_t)(end - start - 1));
	if (ld->section == NULL) {
		cfg_report_line(ld, "unknown section [%.*s]", (int)(end - start - 1), start + 1);
		goto bad;
	}
	ld->section_bad = false;
	snprintf(str, (size_t)num, "[%s]\n", ld->section);
	return str;
bad:
	snprintf(str, (size_t)num, "[%c]\n", CFG_STASH_MARK);
	return str;
}

/* Parses a double-quoted value starting at the opening quote into a new string, or returns NULL
 * after reporting why not. Only \" and \\ are escapes. */
static char *
cfg_unquote(struct cfg_load *ld, const char *q)
{
	size_t size = strlen(q) + 1;
	char *out = xmalloc(size);
	char *o = out;

	for (q++; *q != '"'; q++) {
		if (*q == '\0') {
			cfg_report_line(ld, "unterminated quoted value (missing closing \")");
			goto fail;
		}
		if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
			q++;
		*o++ = *q;
	}
	*o = '\0';
	q = cfg_skip_space(q + 1);
	if (*q && *q != ';' && *q != '#') {
		cfg_report_line(ld, "unexpected text after closing quote");
		goto fail;
	}
	return out;
fail:
	secure_zero(out, size);
	free(out);
	return NULL;
}

/* A "key = value" line. Passed through unchanged when inih would read it right; the value is
 * stashed when the line does not fit inih's buffer, is quoted, is a secret (so it never sits in
 * inih's buffer) or could be mistaken for a stash mark. */
static char *
cfg_read_key(struct cfg_load *ld, const char *line, size_t len, const char *start, char *str,
             int num)
{
	const char *sep = cfg_find_chars_or_comment(start, "=:");
	const char *name_end = sep, *v, *v_end;
	char *value;
	int k = -1, n;

	if (*sep != '=' && *sep != ':') {
		cfg_report_line(ld, "expected \"key = value\"");
		return cfg_blank_line(str);
	}
	while (name_end > start && isspace((unsigned char)name_end[-1]))
		name_end--;
	if (name_end == start) {
		cfg_report_line(ld, "missing key name before \"%c\"", *sep);
		return cfg_blank_line(str);
	}
	ld->key_seen = true;
	if (ld->section) {
		char *name = xstrndup(start, (size_t)(name_end - start));

		k = cfg_find_key(ld->section, name);
		free(name);
	}

	v = cfg_skip_space(sep + 1);
	if (*v == '"') {
		value = cfg_unquote(ld, v);
		if (value == NULL)
			return cfg_blank_line(str);
	} else {
		v_end = cfg_find_chars_or_comment(sep + 1, NULL);
		if (v_end < v)
			v_end = v;
		while (v_end > v && isspace((unsigned char)v_end[-1]))
			v_end--;
		if (len + 2 <= (size_t)num && *v != CFG_STASH_MARK &&
		    !(k >= 0 && (cfg_keys[k].flags & CFG_SECRET))) {
			memcpy(str, line, len);
			str[len] = '\n';
			str[len + 1] = '\0';
			return str;
		}
		value = xstrndup(v, (size_t)(v_end - v));
	}

	n = snprintf(str, (size_t)num, "%.*s = %c%zu\n", (int)(name_end - start), start,
	             CFG_STASH_MARK, ld->nstash);
	if (n < 0 || n >= num) {
		cfg_report_line(ld, "key name too long");
		secure_zero(value, strlen(value));
		free(value);
		return cfg_blank_line(str);
	}
	ld->stash = xrealloc(ld->stash, (ld->nstash + 1) * sizeof(*ld->stash));
	ld->stash[ld->nstash++] = value;
	return str;
}

/* inih's fgets()-like reader. Hands inih exactly one line per physical line, so that ld->lineno
 * is the line of every handler call (this inih build gives the handler no line number). Lines
 * inih would get wrong are reported here and replaced by an empty line. */
static char *
cfg_read_line(char *str, int num, void *stream)
{
	struct cfg_load *ld = stream;
	const char *line, *start;
	size_t len;

	line = cfg_lines_next(&ld->lines, &len);
	if (line == NULL) {
		if (ferror(ld->lines.fp))
			cfg_report(ld, ld->path, "cannot read: %s", strerror(errno));
		return NULL;
	}
	ld->lineno++;
	if (num < 16) /* never: inih's buffer holds 200 */
		return NULL;
	if (strlen(line) != len) {
		cfg_report_line(ld, "line contains a NUL byte");
		return cfg_blank_line(str);
	}
	if (ld->lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;
		len -= 3;
	}
	start = cfg_skip_space(line);
	if (*start == '\0' || *start == ';' || *start == '#')
		return cfg_blank_line(str);
	/* inih would append this line to the previous key's value, which hides mistakes */
	if (start > line && ld->key_seen) {
		cfg_report_line(ld, "line starts with whitespace: continuation lines are not "
		                    "supported (write the value on one line, quoted if need be)");
		return cfg_blank_line(str);
	}
	if (*start == '[')
		return cfg_read_section(ld, start, str, num);
	return cfg_read_key(ld, line, len, start, str, num);
}

static int
cfg_handle(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_load *ld = user;
	int k;

	if (value[0] == CFG_STASH_MARK) {
		char *end;
		unsigned long i = strtoul(value + 1, &end, 10);

		if (end == value + 1 || *end || i >= ld->nstash) {
			cfg_report_line(ld, "malformed line");
			return 1;
		}
		value = ld->stash[i];
	}
	if (ld->section_bad)
		return 1;
	if (*section == '\0') {
		cfg_report_line(ld, "key \"%s\" outside of any section", name);
		return 1;
	}
	k = cfg_find_key(section, name);
	if (k < 0) {
		cfg_report_line(ld, "unknown key \"%s\" in section [%s]", name, section);
		return 1;
	}
	if (ld->line[k] > 0) {
		cfg_report_line(ld, "duplicate key \"%s\" in section [%s] (first set on line %d)",
		                name, section, ld->line[k]);
		return 1;
	}
	ld->line[k] = ld->lineno;
	cfg_set(ld, (size_t)k, value);
	return 1;
}

static void
cfg_load_file(struct cfg_load *ld)
{
	size_t i;
	int rc;

	if (cfg_lines_open(&ld->lines, ld->path) < 0) {
		cfg_report(ld, ld->path, "cannot open: %s", strerror(errno));
		return;
	}
	rc = ini_parse_stream(cfg_read_line, ld, cfg_handle, ld);
	/* the reader reports every malformed line itself; this is a safety net */
	if (rc == -2)
		cfg_report(ld, ld->path, "out of memory");
	else if (rc > 0 && ld->errors == 0) {
		ld->lineno = rc;
		cfg_report_line(ld, "malformed line");
	}
	for (i = 0; i < ld->nstash; i++) {
		secure_zero(ld->stash[i], strlen(ld->stash[i]));
		free(ld->stash[i]);
	}
	free(ld->stash);
	ld->stash = NULL;
	ld->nstash = 0;
	cfg_lines_close(&ld->lines);
}

static bool
cfg_env_known(const char *var, size_t len)
{
	static const char *const others[] = {"SQLEDGE_FAILPOINTS", "SQLEDGE_CONFIG"};
	char env[CFG_ENV_MAX];
	size_t k;

	for (k = 0; k < ARRAY_SIZE(others); k++)
		if (strlen(others[k]) == len && memcmp(others[k], var, len) == 0)
			return true;
	for (k = 0; k < CFG_NKEYS; k++) {
		cfg_env_name(&cfg_keys[k], env, sizeof(env));
		if (strlen(env) == len && memcmp(env, var, len) == 0)
			return true;
	}
	return false;
}

/* A set variable overrides even when empty, as in the original design. */
static void
cfg_load_env(struct cfg_load *ld)
{
	char env[CFG_ENV_MAX];
	const char *v;
	char **e;
	size_t k, len;

	for (k = 0; k < CFG_NKEYS; k++) {
		cfg_env_name(&cfg_keys[k], env, sizeof(env));
		v = getenv(env);
		if (v == NULL)
			continue;
		ld->from_env[k] = true;
		cfg_set(ld, k, v);
	}
	for (e = environ; *e; e++) {
		if (strncmp(*e, CFG_ENV_PREFIX, strlen(CFG_ENV_PREFIX)) != 0)
			continue;
		len = strcspn(*e, "=");
		if (!cfg_env_known(*e, len))
			fprintf(ld->err, "warning: unknown variable %.*s ignored\n", (int)len, *e);
	}
}

/* Reads the first line of password_file into password. */
static void
cfg_read_password(struct cfg_load *ld, size_t k_file, size_t k_password)
{
	const char *path = ld->cfg->upstream_password_file;
	struct cfg_lines cl = {0};
	struct stat st;
	const char *line;
	size_t len;

	if (cfg_lines_open(&cl, path) < 0) {
		cfg_report_key(ld, k_file, "cannot read password file \"%s\": %s", path,
		               strerror(errno));
		goto out;
	}
	if (fstat(fileno(cl.fp), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
		fprintf(ld->err, "warning: password file \"%s\" is readable by group or others\n",
		        path);
	line = cfg_lines_next(&cl, &len);
	if (line == NULL) {
		if (ferror(cl.fp))
			cfg_report_key(ld, k_file, "cannot read password file \"%s\": %s", path,
			               strerror(errno));
		else
			cfg_report_key(ld, k_file, "password file \"%s\" is empty", path);
		goto out;
	}
	cfg_set_string(ld, k_password, line);
out:
	cfg_lines_close(&cl);
}

static void
cfg_validate(struct cfg_load *ld)
{
	const struct cfg_key *key;
	char text[16], why[64];
	struct strbuf where;
	const char *problem;
	char **s;
	size_t k;
	int v, k_password = cfg_find_key("upstream", "password");
	int k_file = cfg_find_key("upstream", "password_file");

	for (k = 0; k < CFG_NKEYS; k++) {
		key = &cfg_keys[k];
		if (key->type == CFG_INT) {
			v = *(int *)(void *)((char *)ld->cfg + key->offset);
			if (v < key->min || v > key->max) {
				snprintf(text, sizeof(text), "%d", v);
				snprintf(why, sizeof(why), "must be between %d and %d", key->min,
				         key->max);
				cfg_report_value(ld, k, text, why);
			}
		} else if (key->type == CFG_STRING) {
			s = (char **)(void *)((char *)ld->cfg + key->offset);
			/* the file cannot hold one, so a dump could not either */
			if (strpbrk(*s, "\r\n"))
				cfg_report_value(ld, k, *s, "must not contain a line break");
			else if (key->check && (problem = key->check(s)) != NULL)
				cfg_report_value(ld, k, *s, problem);
		}
	}

	if (ld->cfg->proxy_login_cache_ttl > 0 &&
	    strcmp(ld->cfg->proxy_on_upstream_down, "serve_stale") != 0)
		cfg_report_key(ld, (size_t)cfg_find_key("proxy", "login_cache_ttl"),
		               "login_cache_ttl in section [proxy] needs on_upstream_down = "
		               "serve_stale: a session that logs in from the cache has no upstream "
		               "connection until a statement needs one");

	if (*ld->cfg->upstream_password_file && *ld->cfg->upstream_password) {
		strbuf_init(&where);
		cfg_origin(ld, (size_t)k_password, &where);
		cfg_report_key(ld, (size_t)k_file,
		               "password_file and password (set by %s) are both set in section "
		               "[upstream]: use one",
		               strbuf_str(&where));
		strbuf_free(&where);
	} else if (*ld->cfg->upstream_password_file) {
		cfg_read_password(ld, (size_t)k_file, (size_t)k_password);
	}
}

/* The control socket defaults to sqledge.sock in db_path's directory. */
static void
cfg_derive_socket(struct cfg *cfg)
{
	struct strbuf sb;
	char *dir;

	if (*cfg->control_socket)
		return;
	dir = path_dirname(cfg->local_db_path);
	strbuf_init(&sb);
	strbuf_printf(&sb, "%s%ssqledge.sock", dir, dir[strlen(dir) - 1] == '/' ? "" : "/");
	free(cfg->control_socket);
	cfg->control_socket = xstrdup(strbuf_str(&sb));
	strbuf_free(&sb);
	free(dir);
}

int
cfg_load(const char *path, FILE *err, struct cfg **out)
{
	struct cfg_load *ld = xcalloc(1, sizeof(*ld));
	struct cfg *cfg = xcalloc(1, sizeof(*cfg));
	int rc = -1;
	size_t k;

	ld->cfg = cfg;
	ld->err = err ? err : stderr;
	ld->path = path;
	for (k = 0; k < CFG_NKEYS; k++)
		cfg_set(ld, k, cfg_keys[k].def);
	if (path) {
		cfg->source = xstrdup(path);
		cfg_load_file(ld);
	}
	cfg_load_env(ld);
	cfg_validate(ld);
	if (ld->errors)
		goto out;
	cfg_derive_socket(cfg);
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	cfg_free(cfg);
	free(ld);
	return rc;
}

void
cfg_free(struct cfg *cfg)
{
	char **s;
	size_t k;

	if (cfg == NULL)
		return;
	for (k = 0; k < CFG_NKEYS; k++) {
		if (cfg_keys[k].type != CFG_STRING)
			continue;
		s = (char **)(void *)((char *)cfg + cfg_keys[k].offset);
		if (*s && (cfg_keys[k].flags & CFG_SECRET))
			secure_zero(*s, strlen(*s));
		free(*s);
	}
	free(cfg->source);
	free(cfg);
}

int
cfg_reload(struct cfg *cur, struct cfg *next)
{
	int changed = 0;
	size_t k;

	for (k = 0; k < CFG_NKEYS; k++) {
		const struct cfg_key *key = &cfg_keys[k];
		void *a = (char *)cur + key->offset, *b = (char *)next + key->offset;
		bool same, secret = key->flags & CFG_SECRET;
		char was[32], now[32];
		const char *ws = was, *ns = now;

		switch (key->type) {
		case CFG_STRING:
			same = strcmp(*(char **)a, *(char **)b) == 0;
			ws = *(char **)a;
			ns = *(char **)b;
			break;
		case CFG_INT:
			same = *(int *)a == *(int *)b;
			snprintf(was, sizeof(was), "%d", *(int *)a);
			snprintf(now, sizeof(now), "%d", *(int *)b);
			break;
		default:
			same = *(bool *)a == *(bool *)b;
			ws = *(bool *)a ? "true" : "false";
			ns = *(bool *)b ? "true" : "false";
			break;
		}
		if (same)
			continue;
		if (!(key->flags & CFG_LIVE)) {
			if (secret)
				log_warn("[%s] %s changed, which needs a restart: the old value "
				         "stays "
				         "until then",
				         key->section, key->name);
			else
				log_warn("[%s] %s changed from \"%s\" to \"%s\", which needs a "
				         "restart: \"%s\" stays until then",
				         key->section, key->name, ws, ns, ws);
			continue;
		}
		if (secret)
			log_info("[%s] %s changed", key->section, key->name);
		else
			log_info("[%s] %s changed from \"%s\" to \"%s\"", key->section, key->name,
			         ws, ns);
		changed++;
		if (key->type == CFG_STRING) {
			char *old = *(char **)a;

			*(char **)a = *(char **)b;
			*(char **)b = old; /* freed with next, wiped first when secret */
		} else if (key->type == CFG_INT) {
			*(int *)a = *(int *)b;
		} else {
			*(bool *)a = *(bool *)b;
		}
	}
	return changed;
}

int
cfg_reload_file(struct cfg *cur, struct strbuf *errors)
{
	struct cfg *next = NULL;
	enum log_level level;
	char *text = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);
	int rc;

	if (err == NULL) {
		strbuf_printf(errors, "cannot collect the configuration's errors: %s\n",
		              strerror(errno));
		return -1;
	}
	rc = cfg_load(cur->source, err, &next);
	fclose(err);
	if (rc < 0) {
		strbuf_puts(errors, text ? text : "");
		free(text);
		return -1;
	}
	free(text);
	rc = cfg_reload(cur, next);
	cfg_free(next);
	if (log_level_parse(cur->log_level, &level) == 0)
		log_set_level(level);
	return rc;
}

/* Writes s so that the reader gives back exactly s: bare when that is safe, else quoted. */
static void
cfg_put_value(const char *s, FILE *out)
{
	const char *p;

	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	                    "._/@+,:=-") == strlen(s)) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

void
cfg_dump(const struct cfg *cfg, FILE *out)
{
	const struct cfg_key *key;
	const char *section = NULL;
	const void *field;
	const char *s;
	size_t k;

	fprintf(out, "; sqledge effective configuration: defaults, %s%s%s, then the environment\n",
	        cfg->source ? "\"" : "", cfg->source ? cfg->source : "no file",
	        cfg->source ? "\"" : "");
	for (k = 0; k < CFG_NKEYS; k++) {
		key = &cfg_keys[k];
		field = (const char *)cfg + key->offset;
		if (section == NULL || strcmp(section, key->section) != 0) {
			fprintf(out, "%s[%s]\n", section ? "\n" : "", key->section);
			section = key->section;
		}
		fprintf(out, "%s = ", key->name);
		switch (key->type) {
		case CFG_INT:
			fprintf(out, "%d\n", *(const int *)field);
			break;
		case CFG_BOOL:
			fprintf(out, "%s\n", *(const bool *)field ? "true" : "false");
			break;
		case CFG_STRING:
			s = *(char *const *)field;
			if (!(key->flags & CFG_SECRET) || *s == '\0')
				cfg_put_value(s, out);
			else if (key->offset == offsetof(struct cfg, upstream_password) &&
			         *cfg->upstream_password_file)
				/* read from the file: writing it here too would be refused */
				fputs("\"\" ; read from password_file", out);
			else
				fputs("\"" CFG_MASK "\"", out);
			fputc('\n', out);
			break;
		}
	}
}
