/* SPDX-License-Identifier: MIT */
/* Unit tests for cfg.c: defaults, the ini file and its quoting, SQLEDGE_* overrides, checks,
 * the password file and the dump. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "util.h"
#include "unit.h"

static char *test_files[128];
static size_t test_nfiles;

/* Writes text to a new file under /tmp and returns its path (removed at the end). */
static const char *
test_write_file(const char *text)
{
	char *path = strdup("/tmp/test_cfg.XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(text);

	if (test_nfiles == ARRAY_SIZE(test_files) || fd < 0 ||
	    write(fd, text, len) != (ssize_t)len) {
		perror("test file");
		exit(1);
	}
	close(fd);
	test_files[test_nfiles++] = path;
	return path;
}

/* cfg_load() with err captured: returns its result, the messages in *errs (caller frees). */
static int
test_load(const char *path, struct cfg **cfg, char **errs)
{
	size_t len;
	FILE *err = open_memstream(errs, &len);
	int rc;

	*cfg = NULL;
	rc = cfg_load(path, err, cfg);
	fclose(err);
	return rc;
}

/* Loads a file that must load; on failure shows why and leaves the test. */
#define LOAD_OK(path, cfg, errs)                                                                   \
	do {                                                                                       \
		CHECK_INT(test_load(path, &(cfg), &(errs)), 0);                                    \
		if ((cfg) == NULL) {                                                               \
			fprintf(stderr, "%s", errs);                                               \
			free(errs);                                                                \
			unit_clear_env();                                                          \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static int
test_count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Loads text as a file that must fail, and checks that the messages contain the file's path
 * followed by expect. */
static void
test_load_fails(const char *text, const char *expect, int expect_lines)
{
	const char *path = test_write_file(text);
	char want[512], *errs;
	struct cfg *cfg;

	snprintf(want, sizeof(want), "%s%s", path, expect);
	CHECK_INT(test_load(path, &cfg, &errs), -1);
	CHECK(cfg == NULL);
	if (strstr(errs, want) == NULL)
		fprintf(stderr, "expected \"%s\" in:\n%s", want, errs);
	CHECK(strstr(errs, want) != NULL);
	if (expect_lines)
		CHECK_INT(test_count_lines(errs), expect_lines);
	free(errs);
}

static void
test_defaults_without_file(void)
{
	struct cfg *cfg;
	char *errs;

	LOAD_OK(NULL, cfg, errs);
	CHECK_STR(errs, "");
	CHECK_STR(cfg->upstream_user, "postgres");
	CHECK_STR(cfg->upstream_password, "");
	CHECK_STR(cfg->upstream_password_file, "");
	CHECK_STR(cfg->upstream_address, "localhost");
	CHECK_INT(cfg->upstream_port, 5432);
	CHECK_STR(cfg->upstream_name, "postgres");
	CHECK_STR(cfg->upstream_schema, "public");
	CHECK_STR(cfg->upstream_sslmode, "prefer");
	CHECK_INT(cfg->upstream_connect_timeout, 10);
	CHECK_STR(cfg->replication_plugin, "pgoutput");
	CHECK_STR(cfg->replication_slot_name, "sqledge");
	CHECK_STR(cfg->replication_publication, "sqledge");
	CHECK(cfg->replication_create_slot);
	CHECK(!cfg->replication_temp_slot);
	CHECK(cfg->replication_create_publication);
	CHECK_INT(cfg->replication_status_interval, 10);
	CHECK_INT(cfg->replication_batch_max_ms, 200);
	CHECK_INT(cfg->replication_batch_max_rows, 50000);
	CHECK_INT(cfg->replication_reconnect_max, 30);
	CHECK_INT(cfg->replication_slot_timeout, 60);
	CHECK_STR(cfg->local_db_path, "./sqledge.db");
	CHECK_STR(cfg->proxy_address, "localhost");
	CHECK_INT(cfg->proxy_port, 5433);
	CHECK_INT(cfg->proxy_workers, 0);
	CHECK_STR(cfg->control_socket, "./sqledge.sock");
	CHECK_STR(cfg->log_level, "info");
	CHECK(cfg->source == NULL);
	cfg_free(cfg);
	free(errs);
	cfg_free(NULL);
}

static void
test_file_sets_values(void)
{
	const char *path = test_write_file("\xEF\xBB\xBF; a comment\n"
	                                   "# another\n"
	                                   "\n"
	                                   "[upstream]\n"
	                                   "  address = db.example.com ; inline comment\n"
	                                   "user = alice\r\n"
	                                   "port: 6543\n"
	                                   "schema = public , app,  sales\n"
	                                   "sslmode = verify-full\n"
	                                   "[replication] ; trailing comment\n"
	                                   "slot_name = edge_01\n"
	                                   "temp_slot = yes\n"
	                                   "create_publication = off\n"
	                                   "batch_max_rows = 10000000\n"
	                                   "[local]\n"
	                                   "db_path = /var/lib/sqledge/edge.db\n"
	                                   "[proxy]\n"
	                                   "workers = 4\n"
	                                   "[log]\n"
	                                   "level = debug\n");
	struct cfg *cfg;
	char *errs;

	LOAD_OK(path, cfg, errs);
	CHECK_STR(errs, "");
	CHECK_STR(cfg->upstream_user, "alice");
	CHECK_STR(cfg->upstream_address, "db.example.com");
	CHECK_INT(cfg->upstream_port, 6543);
	CHECK_STR(cfg->upstream_schema, "public,app,sales");
	CHECK_STR(cfg->upstream_sslmode, "verify-full");
	CHECK_STR(cfg->replication_slot_name, "edge_01");
	CHECK(cfg->replication_temp_slot);
	CHECK(!cfg->replication_create_publication);
	CHECK_INT(cfg->replication_batch_max_rows, 10000000);
	CHECK_STR(cfg->local_db_path, "/var/lib/sqledge/edge.db");
	CHECK_STR(cfg->control_socket, "/var/lib/sqledge/sqledge.sock");
	CHECK_INT(cfg->proxy_workers, 4);
	CHECK_STR(cfg->log_level, "debug");
	CHECK_STR(cfg->source, path);
	cfg_free(cfg);
	free(errs);
}

static void
test_env_overrides_file(void)
{
	const char *path = test_write_file("[proxy]\nport = 6000\naddress = 0.0.0.0\n"
	                                   "[log]\nlevel = error\n"
	                                   "[control]\nsocket = /run/a.sock\n");
	struct cfg *cfg;
	char *errs;

	setenv("SQLEDGE_PROXY_PORT", "7000", 1);
	setenv("SQLEDGE_CONTROL_SOCKET", "/run/b.sock", 1);
	setenv("SQLEDGE_LOG_LEVEL", "warning", 1);
	LOAD_OK(path, cfg, errs);
	CHECK_STR(errs, "");
	CHECK_INT(cfg->proxy_port, 7000);
	CHECK_STR(cfg->proxy_address, "0.0.0.0");
	CHECK_STR(cfg->control_socket, "/run/b.sock");
	CHECK_STR(cfg->log_level, "warning");
	cfg_free(cfg);
	free(errs);
	unit_clear_env();
}

static void
test_original_variables_keep_meaning(void)
{
	struct cfg *cfg;
	char *errs;

	setenv("SQLEDGE_UPSTREAM_USER", "repl", 1);
	setenv("SQLEDGE_UPSTREAM_PASSWORD", "pw", 1);
	setenv("SQLEDGE_UPSTREAM_ADDRESS", "10.0.0.5", 1);
	setenv("SQLEDGE_UPSTREAM_PORT", "5444", 1);
	setenv("SQLEDGE_UPSTREAM_NAME", "shop", 1);
	setenv("SQLEDGE_UPSTREAM_SCHEMA", "inventory", 1);
	setenv("SQLEDGE_REPLICATION_PLUGIN", "pgoutput", 1);
	setenv("SQLEDGE_REPLICATION_SLOT_NAME", "edge2", 1);
	setenv("SQLEDGE_REPLICATION_PUBLICATION", "pub2", 1);
	setenv("SQLEDGE_REPLICATION_CREATE_SLOT", "false", 1);
	setenv("SQLEDGE_REPLICATION_TEMP_SLOT", "true", 1);
	setenv("SQLEDGE_LOCAL_DB_PATH", "/tmp/x/edge.db", 1);
	setenv("SQLEDGE_PROXY_ADDRESS", "127.0.0.1", 1);
	setenv("SQLEDGE_PROXY_PORT", "6433", 1);
	LOAD_OK(NULL, cfg, errs);
	CHECK_STR(errs, "");
	CHECK_STR(cfg->upstream_user, "repl");
	CHECK_STR(cfg->upstream_password, "pw");
	CHECK_STR(cfg->upstream_address, "10.0.0.5");
	CHECK_INT(cfg->upstream_port, 5444);
	CHECK_STR(cfg->upstream_name, "shop");
	CHECK_STR(cfg->upstream_schema, "inventory");
	CHECK_STR(cfg->replication_plugin, "pgoutput");
	CHECK_STR(cfg->replication_slot_name, "edge2");
	CHECK_STR(cfg->replication_publication, "pub2");
	CHECK(!cfg->replication_create_slot);
	CHECK(cfg->replication_temp_slot);
	CHECK_STR(cfg->local_db_path, "/tmp/x/edge.db");
	CHECK_STR(cfg->control_socket, "/tmp/x/sqledge.sock");
	CHECK_STR(cfg->proxy_address, "127.0.0.1");
	CHECK_INT(cfg->proxy_port, 6433);
	cfg_free(cfg);
	free(errs);
	unit_clear_env();
}

static void
test_empty_env_value_overrides(void)
{
	const char *path = test_write_file("[upstream]\npassword = secret\naddress = db\n");
	struct cfg *cfg;
	char *errs;

	setenv("SQLEDGE_UPSTREAM_PASSWORD", "", 1);
	setenv("SQLEDGE_UPSTREAM_ADDRESS", "", 1);
	LOAD_OK(path, cfg, errs);
	CHECK_STR(cfg->upstream_password, "");
	CHECK_STR(cfg->upstream_address, "");
	cfg_free(cfg);
	free(errs);

	/* empty is set, so it must then be a valid value */
	setenv("SQLEDGE_PROXY_PORT", "", 1);
	CHECK_INT(test_load(path, &cfg, &errs), -1);
	CHECK(strstr(errs, "SQLEDGE_PROXY_PORT: invalid value \"\" for key \"port\" in section "
	                   "[proxy]: expected an integer") != NULL);
	free(errs);
	unit_clear_env();
}

static void
test_unknown_key_names_line(void)
{
	test_load_fails("[proxy]\nport = 5433\nprot = 1\n",
	                ":3: unknown key \"prot\" in section [proxy]\n", 1);
	test_load_fails("user = x\n", ":1: key \"user\" outside of any section\n", 1);
}

static void
test_tls_settings(void)
{
	const char *path = test_write_file("[proxy]\ntls_require = yes\n"
	                                   "tls_cert_file = /etc/sqledge/tls.crt\n"
	                                   "tls_key_file = /etc/sqledge/tls.key\n"
	                                   "[upstream]\nsslrootcert = /etc/ssl/ca.crt\n");
	struct cfg *cfg;
	char *errs;

	CHECK_INT(test_load(path, &cfg, &errs), 0);
	CHECK_STR(cfg->proxy_tls_require, "on"); /* booleans spelled as PostgreSQL spells them */
	CHECK_STR(cfg->proxy_tls_cert_file, "/etc/sqledge/tls.crt");
	CHECK_STR(cfg->proxy_tls_min_protocol, "TLSv1.2");
	CHECK_STR(cfg->upstream_sslrootcert, "/etc/ssl/ca.crt");
	cfg_free(cfg);
	free(errs);
	test_load_fails("[proxy]\ntls_require = sometimes\n",
	                ":2: invalid value \"sometimes\" for key \"tls_require\" in section "
	                "[proxy]: must be off, on (clients not on loopback) or all",
	                0);
	test_load_fails("[proxy]\ntls_min_protocol = SSLv3\n",
	                ":2: invalid value \"SSLv3\" for key \"tls_min_protocol\" in section "
	                "[proxy]: must be TLSv1.2 or TLSv1.3",
	                0);
}

static void
test_unknown_section_names_line(void)
{
	/* keys under it are not reported again, nor taken for the previous section's */
	test_load_fails("[proxy]\nport = 5433\n\n[proxi]\nport = 1\nworkers = x\n",
	                ":4: unknown section [proxi]\n", 1);
	test_load_fails("[proxy\nport = 1\n", ":1: missing \"]\" in section header\n", 1);
}

static void
test_duplicate_key(void)
{
	test_load_fails("[proxy]\nport = 5433\n[upstream]\n[proxy]\nport = 5434\n",
	                ":5: duplicate key \"port\" in section [proxy] (first set on line 2)\n", 1);
}

static void
test_bad_values_all_reported(void)
{
	const char *path = test_write_file("[upstream]\n"
	                                   "port = 0\n"
	                                   "connect_timeout = ten\n"
	                                   "sslmode = maybe\n"
	                                   "schema = a,,b\n"
	                                   "[replication]\n"
	                                   "create_slot = perhaps\n"
	                                   "slot_name = Bad-Slot\n"
	                                   "plugin = wal2json\n"
	                                   "publication =\n"
	                                   "batch_max_ms = 99999999999\n"
	                                   "[proxy]\n"
	                                   "port = 70000\n"
	                                   "workers = -1\n"
	                                   "oops\n"
	                                   "[log]\n"
	                                   "level = loud\n");
	struct cfg *cfg;
	char *errs, want[256];
	size_t i;
	static const char *const expect[] = {
	        ":2: invalid value \"0\" for key \"port\" in section [upstream]: must be between 1 "
	        "and 65535\n",
	        ":3: invalid value \"ten\" for key \"connect_timeout\" in section [upstream]: "
	        "expected an integer\n",
	        ":4: invalid value \"maybe\" for key \"sslmode\"",
	        ":5: invalid value \"a,,b\" for key \"schema\"",
	        ":7: invalid value \"perhaps\" for key \"create_slot\" in section [replication]: "
	        "expected true or false\n",
	        ":8: invalid value \"Bad-Slot\" for key \"slot_name\"",
	        ":9: invalid value \"wal2json\" for key \"plugin\"",
	        ":10: invalid value \"\" for key \"publication\" in section [replication]: must "
	        "not "
	        "be empty\n",
	        ":11: invalid value \"99999999999\" for key \"batch_max_ms\"",
	        ":13: invalid value \"70000\" for key \"port\" in section [proxy]",
	        ":14: invalid value \"-1\" for key \"workers\" in section [proxy]: must be between "
	        "0 "
	        "and 64\n",
	        ":15: expected \"key = value\"\n",
	        ":17: invalid value \"loud\" for key \"level\" in section [log]",
	};

	CHECK_INT(test_load(path, &cfg, &errs), -1);
	for (i = 0; i < ARRAY_SIZE(expect); i++) {
		snprintf(want, sizeof(want), "%s%s", path, expect[i]);
		if (strstr(errs, want) == NULL)
			fprintf(stderr, "missing \"%s\" in:\n%s", want, errs);
		CHECK(strstr(errs, want) != NULL);
	}
	CHECK_INT(test_count_lines(errs), (int)ARRAY_SIZE(expect));
	free(errs);
}

static void
test_env_error_names_variable(void)
{
	const char *path = test_write_file("[replication]\nslot_name = good\n");
	struct cfg *cfg;
	char *errs;

	setenv("SQLEDGE_REPLICATION_SLOT_NAME", "Bad", 1);
	CHECK_INT(test_load(path, &cfg, &errs), -1);
	CHECK(strstr(errs, "SQLEDGE_REPLICATION_SLOT_NAME: invalid value \"Bad\"") != NULL);
	free(errs);
	unit_clear_env();

	/* a bad file value corrected by the environment is no error */
	path = test_write_file("[proxy]\nport = 0\n");
	setenv("SQLEDGE_PROXY_PORT", "6000", 1);
	LOAD_OK(path, cfg, errs);
	CHECK_INT(cfg->proxy_port, 6000);
	cfg_free(cfg);
	free(errs);
	unit_clear_env();
}

static void
test_long_values(void)
{
	char quoted[600], bare[600], text[1400], *errs;
	const char *path;
	struct cfg *cfg;

	memset(quoted, 'q', 500);
	quoted[0] = ' ';
	quoted[500] = '\0';
	memset(bare, 'b', 500);
	bare[499] = 'e';
	bare[500] = '\0';
	snprintf(text, sizeof(text), "[upstream]\nname = \"%s\"\naddress = %s ; comment\nuser=u\n",
	         quoted, bare);
	path = test_write_file(text);
	LOAD_OK(path, cfg, errs);
	CHECK_STR(errs, "");
	CHECK_STR(cfg->upstream_name, quoted);
	CHECK_STR(cfg->upstream_address, bare);
	CHECK_STR(cfg->upstream_user, "u");
	cfg_free(cfg);
	free(errs);

	/* lines around inih's 200-byte buffer, and the line after them */
	for (size_t n = 190; n < 210; n++) {
		memset(bare, 'x', n);
		bare[n] = '\0';
		snprintf(text, sizeof(text), "[upstream]\naddress = %s\nuser = u%zu\n", bare, n);
		path = test_write_file(text);
		LOAD_OK(path, cfg, errs);
		CHECK_STR(cfg->upstream_address, bare);
		CHECK_INT(strtol(cfg->upstream_user + 1, NULL, 10), n);
		cfg_free(cfg);
		free(errs);
	}
}

static void
test_quoted_password_keeps_semicolons(void)
{
	const char *path =
	        test_write_file("[upstream]\n"
	                        "password = \"se;cret ;x # \\\"q\\\" \\\\\" ; a comment\n"
	                        "user = \"a\\b\"\n"
	                        "address = \"\"\n"
	                        "name = plain ;comment\n"
	                        "schema = x;y\n");
	struct cfg *cfg;
	char *errs;

	LOAD_OK(path, cfg, errs);
	CHECK_STR(errs, "");
	CHECK_STR(cfg->upstream_password, "se;cret ;x # \"q\" \\");
	CHECK_STR(cfg->upstream_user, "a\\b");
	CHECK_STR(cfg->upstream_address, "");
	CHECK_STR(cfg->upstream_name, "plain");
	CHECK_STR(cfg->upstream_schema, "x;y");
	cfg_free(cfg);
	free(errs);
}

static void
test_unterminated_quote(void)
{
	test_load_fails("[upstream]\nuser = x\npassword = \"abc\\\"\n",
	                ":3: unterminated quoted value", 1);
	test_load_fails("[upstream]\nuser = \"x\" y\n", ":2: unexpected text after closing quote",
	                1);
}

static void
test_continuation_line_rejected(void)
{
	test_load_fails("[upstream]\nuser = a\n  b\n",
	                ":3: line starts with whitespace: continuation lines are not supported", 1);
}

static void
test_password_file(void)
{
	const char *pw = test_write_file("s3cr;et \"x\"\r\nsecond line\n");
	char text[256], *errs;
	const char *path;
	struct cfg *cfg;

	chmod(pw, 0600);
	snprintf(text, sizeof(text), "[upstream]\npassword_file = %s\n", pw);
	path = test_write_file(text);
	LOAD_OK(path, cfg, errs);
	CHECK_STR(errs, "");
	CHECK_STR(cfg->upstream_password, "s3cr;et \"x\"");
	CHECK_STR(cfg->upstream_password_file, pw);
	cfg_free(cfg);
	free(errs);

	/* readable by others: loads, with a warning */
	chmod(pw, 0644);
	LOAD_OK(path, cfg, errs);
	CHECK(strstr(errs, "warning: password file \"") != NULL);
	CHECK(strstr(errs, "is readable by group or others") != NULL);
	cfg_free(cfg);
	free(errs);

	/* both set */
	setenv("SQLEDGE_UPSTREAM_PASSWORD", "other", 1);
	snprintf(text, sizeof(text),
	         "%s:2: password_file and password (set by "
	         "SQLEDGE_UPSTREAM_PASSWORD) are both set",
	         path);
	CHECK_INT(test_load(path, &cfg, &errs), -1);
	CHECK(strstr(errs, text) != NULL);
	free(errs);
	unit_clear_env();

	/* unreadable */
	setenv("SQLEDGE_UPSTREAM_PASSWORD_FILE", "/nonexistent/pw", 1);
	CHECK_INT(test_load(NULL, &cfg, &errs), -1);
	CHECK_STR(errs, "SQLEDGE_UPSTREAM_PASSWORD_FILE: cannot read password file "
	                "\"/nonexistent/pw\": No such file or directory\n");
	free(errs);
	unit_clear_env();
}

static void
test_unknown_variable_warns(void)
{
	struct cfg *cfg;
	char *errs;

	setenv("SQLEDGE_FOO", "1", 1);
	setenv("SQLEDGE_FAILPOINTS", "x", 1);
	setenv("SQLEDGE_CONFIG", "/etc/x.ini", 1);
	LOAD_OK(NULL, cfg, errs);
	CHECK_STR(errs, "warning: unknown variable SQLEDGE_FOO ignored\n");
	cfg_free(cfg);
	free(errs);
	unit_clear_env();
}

static void
test_table_patterns(void)
{
	struct cfg *cfg;
	char *errs = NULL;
	char set[256];
	const char *path = test_write_file("[upstream]\nschema = public, inv\n"
	                                   "tables = orders* , inv.stock,t?\n"
	                                   "exclude_tables = orders_archive\n");

	LOAD_OK(path, cfg, errs);
	free(errs);
	CHECK_STR(cfg->upstream_tables, "orders*,inv.stock,t?");
	CHECK_STR(cfg->upstream_exclude_tables, "orders_archive");
	/* no dot: the table's name in any schema; a dot: schema.table */
	CHECK(cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables, "public",
	                        "orders"));
	CHECK(cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables, "inv",
	                        "orders_2024"));
	CHECK(!cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables, "public",
	                         "orders_archive"));
	CHECK(cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables, "inv",
	                        "stock"));
	CHECK(!cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables, "public",
	                         "stock"));
	CHECK(cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables, "public",
	                        "t1"));
	CHECK(!cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables, "public",
	                         "t12"));
	CHECK(!cfg_table_matches(cfg->upstream_tables, cfg->upstream_exclude_tables, "public",
	                         "Orders"));
	/* empty lists take every table */
	CHECK(cfg_table_matches("", "", "public", "anything"));
	CHECK(!cfg_table_matches("", "*.secret*", "hr", "secret_salaries"));
	cfg_replicated_set(cfg, set, sizeof(set));
	CHECK_STR(set, "public,inv; tables orders*,inv.stock,t?; exclude_tables orders_archive");
	cfg_free(cfg);

	/* without patterns the record is the schema list, as copies made before them have */
	path = test_write_file("[upstream]\nschema = public\ntables =   \n");
	LOAD_OK(path, cfg, errs);
	free(errs);
	CHECK_STR(cfg->upstream_tables, "");
	cfg_replicated_set(cfg, set, sizeof(set));
	CHECK_STR(set, "public");
	cfg_free(cfg);

	test_load_fails("[upstream]\ntables = a,,b\n",
	                ":2: invalid value \"a,,b\" for key \"tables\"", 1);
}

static void
test_missing_file(void)
{
	struct cfg *cfg;
	char *errs;

	CHECK_INT(test_load("/nonexistent/sqledge.ini", &cfg, &errs), -1);
	CHECK_STR(errs, "/nonexistent/sqledge.ini: cannot open: No such file or directory\n");
	free(errs);
}

static void
test_check_same(const struct cfg *a, const struct cfg *b)
{
	CHECK_STR(a->upstream_user, b->upstream_user);
	CHECK_STR(a->upstream_password_file, b->upstream_password_file);
	CHECK_STR(a->upstream_address, b->upstream_address);
	CHECK_INT(a->upstream_port, b->upstream_port);
	CHECK_STR(a->upstream_name, b->upstream_name);
	CHECK_STR(a->upstream_schema, b->upstream_schema);
	CHECK_STR(a->upstream_sslmode, b->upstream_sslmode);
	CHECK_INT(a->upstream_connect_timeout, b->upstream_connect_timeout);
	CHECK_STR(a->replication_plugin, b->replication_plugin);
	CHECK_STR(a->replication_slot_name, b->replication_slot_name);
	CHECK_STR(a->replication_publication, b->replication_publication);
	CHECK_INT(a->replication_create_slot, b->replication_create_slot);
	CHECK_INT(a->replication_temp_slot, b->replication_temp_slot);
	CHECK_INT(a->replication_create_publication, b->replication_create_publication);
	CHECK_INT(a->replication_status_interval, b->replication_status_interval);
	CHECK_INT(a->replication_batch_max_ms, b->replication_batch_max_ms);
	CHECK_INT(a->replication_batch_max_rows, b->replication_batch_max_rows);
	CHECK_INT(a->replication_reconnect_max, b->replication_reconnect_max);
	CHECK_INT(a->replication_slot_timeout, b->replication_slot_timeout);
	CHECK_STR(a->local_db_path, b->local_db_path);
	CHECK_STR(a->proxy_address, b->proxy_address);
	CHECK_INT(a->proxy_port, b->proxy_port);
	CHECK_INT(a->proxy_workers, b->proxy_workers);
	CHECK_STR(a->control_socket, b->control_socket);
	CHECK_STR(a->log_level, b->log_level);
}

/* Dumps cfg, loads the dump and returns the copy, which must equal cfg. */
static struct cfg *
test_round_trip(const struct cfg *cfg, char **dump)
{
	size_t len;
	FILE *f = open_memstream(dump, &len);
	struct cfg *copy;
	char *errs;

	cfg_dump(cfg, f);
	fclose(f);
	CHECK_INT(test_load(test_write_file(*dump), &copy, &errs), 0);
	CHECK_STR(errs, "");
	free(errs);
	if (copy)
		test_check_same(cfg, copy);
	return copy;
}

static void
test_dump_parses_back(void)
{
	char long_value[400], text[1024], *errs, *dump;
	struct cfg *cfg, *copy;
	const char *path, *pw;

	memset(long_value, 'v', 300);
	long_value[300] = '\0';
	snprintf(text, sizeof(text),
	         "[upstream]\n"
	         "user = \" we;ird \\\"user\\\\ #\"\n"
	         "password = \"top ;secret\"\n"
	         "name = %s\n"
	         "address = \"\x01odd\"\n"
	         "schema = a , b\n"
	         "[replication]\n"
	         "temp_slot = true\n"
	         "slot_timeout = 86400\n"
	         "[proxy]\n"
	         "address = ::1\n",
	         long_value);
	path = test_write_file(text);
	LOAD_OK(path, cfg, errs);
	CHECK_STR(errs, "");
	free(errs);
	CHECK_STR(cfg->upstream_address, "\x01odd");
	copy = test_round_trip(cfg, &dump);
	CHECK(strstr(dump, "top ;secret") == NULL);
	CHECK(strstr(dump, "password = \"********\"\n") != NULL);
	CHECK(strstr(dump, "[upstream]\nuser = ") != NULL);
	CHECK(strstr(dump, "\n[log]\nlevel = info\n") != NULL);
	if (copy)
		CHECK_STR(copy->upstream_password, "********");
	cfg_free(copy);
	cfg_free(cfg);
	free(dump);

	/* a password read from password_file is not written back as a second password */
	pw = test_write_file("filepw\n");
	chmod(pw, 0600);
	setenv("SQLEDGE_UPSTREAM_PASSWORD_FILE", pw, 1);
	LOAD_OK(NULL, cfg, errs);
	CHECK_STR(errs, "");
	free(errs);
	copy = test_round_trip(cfg, &dump);
	CHECK(strstr(dump, "filepw") == NULL);
	if (copy)
		CHECK_STR(copy->upstream_password, "filepw");
	cfg_free(copy);
	cfg_free(cfg);
	free(dump);
	unit_clear_env();

	/* defaults too */
	LOAD_OK(NULL, cfg, errs);
	free(errs);
	copy = test_round_trip(cfg, &dump);
	if (copy)
		CHECK_STR(copy->upstream_password, "");
	cfg_free(copy);
	cfg_free(cfg);
	free(dump);
}

int
main(void)
{
	size_t i;

	unit_clear_env();
	RUN(test_defaults_without_file);
	RUN(test_file_sets_values);
	RUN(test_env_overrides_file);
	RUN(test_original_variables_keep_meaning);
	RUN(test_empty_env_value_overrides);
	RUN(test_unknown_key_names_line);
	RUN(test_tls_settings);
	RUN(test_unknown_section_names_line);
	RUN(test_duplicate_key);
	RUN(test_bad_values_all_reported);
	RUN(test_env_error_names_variable);
	RUN(test_long_values);
	RUN(test_quoted_password_keeps_semicolons);
	RUN(test_unterminated_quote);
	RUN(test_continuation_line_rejected);
	RUN(test_password_file);
	RUN(test_unknown_variable_warns);
	RUN(test_missing_file);
	RUN(test_dump_parses_back);
	RUN(test_table_patterns);
	for (i = 0; i < test_nfiles; i++) {
		unlink(test_files[i]);
		free(test_files[i]);
	}
	return unit_done();
}
