/* SPDX-License-Identifier: MIT */
/* Configuration: built-in defaults, then the ini file, then SQLEDGE_<SECTION>_<KEY> variables. */
#ifndef SQLEDGE_CFG_H
#define SQLEDGE_CFG_H

#include <stdbool.h>
#include <stdio.h>

#define CFG_DEFAULT_PATH SYSCONFDIR "/sqledge.ini"
#define CFG_MAX_PROXY_WORKERS 64

/* One process-wide configuration, allocated, validated and freed as a unit. Every string is
 * non-NULL after cfg_load() (empty when unset) unless noted. */
struct cfg {
	/* [upstream]: the PostgreSQL that sqledge replicates from and forwards to */
	char *upstream_user;           /* user = postgres */
	char *upstream_password;       /* password = (empty) */
	char *upstream_password_file;  /* password_file = (empty): first line is the password */
	char *upstream_address;        /* address = localhost (host name, IP or socket directory) */
	int upstream_port;             /* port = 5432 */
	char *upstream_name;           /* name = postgres (database) */
	char *upstream_schema;         /* schema = public (comma-separated list of schemas) */
	char *upstream_tables;         /* tables = (every table) patterns of tables to replicate */
	char *upstream_exclude_tables; /* exclude_tables = (none) patterns of tables not to */
	char *upstream_sslmode;        /* sslmode = prefer */
	char *upstream_sslrootcert;    /* sslrootcert = (libpq's default) */
	int upstream_connect_timeout;  /* connect_timeout = 10 (seconds) */

	/* [replication] */
	char *replication_plugin;            /* plugin = pgoutput (the only one supported) */
	char *replication_slot_name;         /* slot_name = sqledge */
	char *replication_publication;       /* publication = sqledge */
	bool replication_create_slot;        /* create_slot = true */
	bool replication_temp_slot;          /* temp_slot = false */
	bool replication_create_publication; /* create_publication = true (FOR ALL TABLES) */
	int replication_status_interval;     /* status_interval = 10 (seconds) */
	int replication_batch_max_ms;        /* batch_max_ms = 200 */
	int replication_batch_max_rows;      /* batch_max_rows = 50000 */
	int replication_reconnect_max;       /* reconnect_max = 30 (seconds, backoff cap) */
	int replication_reconcile_interval;  /* reconcile_interval = 60 (seconds; 0: at connect) */
	bool replication_ddl_trigger;        /* ddl_trigger = false */
	char *replication_source_address;    /* source_address = (the upstream) */
	int replication_source_port;         /* source_port = 0 (the upstream's port) */
	int replication_slot_timeout; /* slot_timeout = 60 (seconds to wait creating a slot) */

	/* [local] */
	char *local_db_path;          /* db_path = ./sqledge.db */
	int local_free_space_reserve; /* free_space_reserve = 0 (MB a new copy leaves free) */

	/* [proxy] */
	char *proxy_address;         /* address = localhost */
	int proxy_port;              /* port = 5433 */
	int proxy_workers;           /* workers = 0 (one per CPU, at most CFG_MAX_PROXY_WORKERS) */
	char *proxy_unix_socket_dir; /* unix_socket_dir = (empty: no Unix socket) */
	char *proxy_auth;            /* auth = password | trust | scram */
	int proxy_max_clients;       /* max_clients = 1000 (all workers together) */
	int proxy_max_upstream_connections; /* max_upstream_connections = 0 (no cap) */
	int proxy_queue_timeout;            /* queue_timeout = 60 (seconds) */
	int proxy_max_message_size;         /* max_message_size = 268435456 (bytes) */
	bool proxy_local_reads;             /* local_reads = true: answer reads from the copy */
	char *proxy_consistency;            /* session (read-your-writes) | eventual */
	int proxy_max_wait; /* ms a local read waits for the session's writes, then upstream */
	int proxy_max_lag;  /* ms the copy may be behind the upstream for local reads; 0: any */
	int proxy_idle_in_transaction_timeout; /* ms a block served locally may sit idle */
	bool proxy_read_committed_local; /* READ COMMITTED blocks read locally until they write */
	char *proxy_on_upstream_down;    /* serve_stale | error */
	int proxy_shutdown_timeout;      /* s running statements may finish when sqledge stops */
	char *proxy_auth_file;           /* auth_file = (none) users and secrets for auth = scram */
	char *proxy_hba_file;            /* hba_file = (none: [proxy] auth for every client) */
	bool proxy_trust_remote;   /* trust_remote = false: trust only for loopback, Unix socket */
	int proxy_login_cache_ttl; /* login_cache_ttl = 0 (s a login the upstream accepted is
	                            * remembered for auth = password; 0: off) */
	char *proxy_tls_cert_file; /* tls_cert_file = (none: clients get no TLS) */
	char *proxy_tls_key_file;  /* tls_key_file = (its private key) */
	char *proxy_tls_require;   /* off | on (clients not on loopback) | all (TCP) */
	char *proxy_tls_min_protocol; /* TLSv1.2 | TLSv1.3 */
	char *proxy_tls_ciphers;      /* TLS 1.2 cipher list (OpenSSL syntax) */

	/* [control] */
	char *control_socket; /* socket = sqledge.sock next to db_path */

	/* [log] */
	char *log_level; /* level = info */

	/* [metrics] */
	char *metrics_listen; /* listen = (empty: no endpoint), host:port of GET /metrics */

	char *source; /* the file read, or NULL for defaults + environment only */
};

/* Loads defaults, then path (when not NULL), then the environment. Every problem is written
 * to err (one line each, naming the file and line, or the variable) and makes it return -1;
 * on success *out is a new cfg owned by the caller. The password file is read here. */
int cfg_load(const char *path, FILE *err, struct cfg **out);
void cfg_free(struct cfg *cfg);

/* A reload: takes from next (loaded from the same sources) the values that may change while
 * sqledge runs into cur, and logs each key that changed, or that changed but needs a restart
 * (cur keeps its value then). Returns how many keys took a new value. */
int cfg_reload(struct cfg *cur, struct cfg *next);

struct strbuf;
/* cfg_reload() from cur's own sources (its file, then the environment), and the log level
 * applied. Returns the number of keys changed, or -1 when the new configuration is invalid:
 * errors gets its problems (one line each) and cur is left as it was. */
int cfg_reload_file(struct cfg *cur, struct strbuf *errors);

/* Writes the effective configuration as ini text, passwords masked. */
void cfg_dump(const struct cfg *cfg, FILE *out);

/* Whether a table of a configured schema is replicated by the [upstream] tables and
 * exclude_tables patterns (comma-separated; '*' and '?' wildcards; a pattern with a dot
 * matches "schema.table", one without the table's name): it must match a tables pattern (an
 * empty list matches every table) and no exclude_tables pattern. */
bool cfg_table_matches(const char *include, const char *exclude, const char *nspname,
                       const char *relname);

/* What a copy is made of: the schema list, and the table patterns when there are any, as
 * postgres_pos records it (a change means a new copy). */
void cfg_replicated_set(const struct cfg *cfg, char *buf, size_t size);

#endif
