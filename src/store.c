/* SPDX-License-Identifier: MIT */
/* The SQLite files: generation-numbered database files behind the stable db_path symlink, the
 * writer connection and the internal tables (postgres_pos, _sqledge_*). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "pgfunc.h"
#include "store.h"
#include "util.h"

static const char store_schema_sql[] = "CREATE TABLE postgres_pos ("
                                       " slot_name TEXT NOT NULL,"
                                       " lsn TEXT NOT NULL,"
                                       " lsn_int INTEGER NOT NULL,"
                                       " system_id TEXT NOT NULL,"
                                       " timeline INTEGER NOT NULL,"
                                       " publication TEXT NOT NULL,"
                                       " consistent_point TEXT NOT NULL,"
                                       " synced_at TEXT NOT NULL,"
                                       " schemas TEXT NOT NULL,"
                                       " resync_required TEXT);"
                                       "CREATE TABLE _sqledge_relations ("
                                       " relid INTEGER PRIMARY KEY,"
                                       " nspname TEXT NOT NULL,"
                                       " relname TEXT NOT NULL,"
                                       " sqlite_name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
                                       " replident TEXT NOT NULL,"
                                       " relkind TEXT,"
                                       " synced_lsn INTEGER NOT NULL DEFAULT 0);"
                                       "CREATE TABLE _sqledge_columns ("
                                       " relid INTEGER NOT NULL,"
                                       " position INTEGER NOT NULL,"
                                       " attname TEXT NOT NULL,"
                                       " sqlite_name TEXT NOT NULL,"
                                       " attnum INTEGER,"
                                       " type_oid INTEGER NOT NULL,"
                                       " typmod INTEGER NOT NULL,"
                                       " typname TEXT,"
                                       " collation TEXT,"
                                       " \"notnull\" INTEGER,"
                                       " key_position INTEGER,"
                                       " kind TEXT NOT NULL,"
                                       " PRIMARY KEY (relid, position));"
                                       "CREATE TABLE _sqledge_types ("
                                       " oid INTEGER PRIMARY KEY,"
                                       " nspname TEXT NOT NULL,"
                                       " typname TEXT NOT NULL);";

char *
store_generation_path(const char *db_path, uint32_t gen)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_printf(&sb, "%s.%" PRIu32, db_path, gen);
	return sb.data;
}

/* Parses "<base>.<digits>" where base is the last component of db_path. */
static int
store_parse_generation(const char *db_base, const char *name, uint32_t *gen)
{
	size_t blen = strlen(db_base);
	int64_t v;

	if (strncmp(name, db_base, blen) != 0 || name[blen] != '.')
		return -1;
	if (parse_int64(name + blen + 1, 1, UINT32_MAX, &v) < 0 || name[blen + 1] == '0')
		return -1;
	*gen = (uint32_t)v;
	return 0;
}

static const char *
path_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int
store_current_generation(const char *db_path, uint32_t *gen)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (lstat(db_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("lstat(\"%s\") failed: %s", db_path, strerror(errno));
		return -1;
	}
	if (!S_ISLNK(st.st_mode)) {
		log_error("\"%s\" exists and is not a link to a sqledge generation file: move it "
		          "away "
		          "or set [local] db_path to another path",
		          db_path);
		return -1;
	}
	n = readlink(db_path, target, sizeof(target) - 1);
	if (n < 0) {
		log_error("readlink(\"%s\") failed: %s", db_path, strerror(errno));
		return -1;
	}
	target[n] = '\0';
	if (strchr(target, '/') != NULL ||
	    store_parse_generation(path_base(db_path), target, gen) < 0) {
		log_error("\"%s\" links to \"%s\", which is not a sqledge generation file: move it "
		          "away or set [local] db_path to another path",
		          db_path, target);
		return -1;
	}
	return 1;
}

void
store_remove_generations(const char *db_path, uint32_t keep)
{
	char *dir = path_dirname(db_path);
	const char *base = path_base(db_path);
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		log_warn("opendir(\"%s\") failed: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char name[NAME_MAX + 1];
		char *p, *full;
		uint32_t gen;

		snprintf(name, sizeof(name), "%s", de->d_name);
		/* strip SQLite's companion suffixes to find the generation */
		p = strrchr(name, '-');
		if (p && (strcmp(p, "-wal") == 0 || strcmp(p, "-shm") == 0 ||
		          strcmp(p, "-journal") == 0))
			*p = '\0';
		if (store_parse_generation(base, name, &gen) < 0 || gen == keep)
			continue;
		full = xmalloc(strlen(dir) + strlen(de->d_name) + 2);
		sprintf(full, "%s/%s", dir, de->d_name);
		if (unlink(full) < 0 && errno != ENOENT)
			log_warn("could not remove old generation file \"%s\": %s", full,
			         strerror(errno));
		else
			log_debug("removed old generation file \"%s\"", full);
		free(full);
	}
	closedir(d);
	free(dir);
}

int
store_switch_generation(const char *db_path, uint32_t gen)
{
	char *target = store_generation_path(path_base(db_path), gen);
	char *tmp = xmalloc(strlen(db_path) + 16);
	char *dir = path_dirname(db_path);
	int r = -1;

	sprintf(tmp, "%s.link-tmp", db_path);
	if (unlink(tmp) < 0 && errno != ENOENT) {
		log_error("could not remove \"%s\": %s", tmp, strerror(errno));
		goto out;
	}
	if (symlink(target, tmp) < 0) {
		log_error("symlink(\"%s\", \"%s\") failed: %s", target, tmp, strerror(errno));
		goto out;
	}
	/* rename() replaces the link atomically: readers opening db_path see the old or the new
	 * generation, never nothing; files with open connections are never renamed over */
	if (rename(tmp, db_path) < 0) {
		log_error("rename(\"%s\", \"%s\") failed: %s", tmp, db_path, strerror(errno));
		goto out;
	}
	/* the switch has happened: report success even if the directory cannot be synced, so
	 * the caller never removes the generation now in use; a power cut before the entry
	 * reaches the disk brings back the previous link, whose file is then gone or stale, and
	 * the next start syncs again */
	if (fsync_dir(dir) < 0)
		log_warn("fsync of directory \"%s\" failed: %s", dir, strerror(errno));
	r = 0;
out:
	free(target);
	free(tmp);
	free(dir);
	return r;
}

int
store_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_error("sqlite: %s (in \"%.200s\")", err ? err : sqlite3_errmsg(db), sql);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
store_open(const char *path, bool bulk, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc;

	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		log_error("could not open \"%s\": %s", path,
		          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	if (bulk) {
		if (store_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
		                   "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
		                   "PRAGMA foreign_keys=OFF") < 0)
			goto fail;
	} else {
		/* FULL: a commit must survive a power cut before its position is confirmed
		 * upstream (protocol-brief D.2) */
		if (store_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		                   "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
		                   "PRAGMA foreign_keys=OFF; PRAGMA wal_autocheckpoint=0;"
		                   "PRAGMA journal_size_limit=67108864") < 0)
			goto fail;
	}
	*out = db;
	return 0;
fail:
	sqlite3_close(db);
	return -1;
}

int
store_init_schema(sqlite3 *db)
{
	char sql[64];

	if (store_exec(db, store_schema_sql) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", STORE_FORMAT_VERSION);
	return store_exec(db, sql);
}

static void
copy_text_column(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", s ? (const char *)s : "");
}

int
store_read_pos(sqlite3 *db, struct store_pos *pos)
{
	sqlite3_stmt *st = NULL;
	struct store_pos p;
	int r = -1, rc;

	memset(&p, 0, sizeof(p));
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto sqlerr;
	if (sqlite3_column_int(st, 0) != STORE_FORMAT_VERSION) {
		log_info("local copy has format version %d, this sqledge writes %d: it will be "
		         "synced again",
		         sqlite3_column_int(st, 0), STORE_FORMAT_VERSION);
		r = 0;
		goto out;
	}
	sqlite3_finalize(st);
	rc = sqlite3_prepare_v2(db,
	                        "SELECT slot_name, lsn, system_id, timeline, publication, "
	                        "consistent_point, resync_required, schemas FROM postgres_pos",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto sqlerr;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = 0;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto sqlerr;
	copy_text_column(st, 0, p.slot_name, sizeof(p.slot_name));
	copy_text_column(st, 2, p.system_id, sizeof(p.system_id));
	copy_text_column(st, 4, p.publication, sizeof(p.publication));
	copy_text_column(st, 7, p.schemas, sizeof(p.schemas));
	p.timeline = (uint32_t)sqlite3_column_int64(st, 3);
	if (lsn_parse((const char *)sqlite3_column_text(st, 1), &p.lsn) < 0 ||
	    lsn_parse((const char *)sqlite3_column_text(st, 5), &p.consistent_point) < 0) {
		log_warn(
		        "postgres_pos holds an unreadable position: the copy will be synced again");
		r = 0;
		goto out;
	}
	p.resync_required = sqlite3_column_type(st, 6) != SQLITE_NULL;
	if (p.resync_required)
		log_info("local copy was marked for resync: %s", sqlite3_column_text(st, 6));
	*pos = p;
	r = 1;
	goto out;
sqlerr:
	log_error("could not read postgres_pos: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	return r;
}

int
store_write_pos(sqlite3 *db, const struct store_pos *pos)
{
	sqlite3_stmt *st = NULL;
	char lsn[LSN_BUFLEN], cp[LSN_BUFLEN];
	int r = -1;

	if (store_exec(db, "DELETE FROM postgres_pos") < 0)
		return -1;
	if (sqlite3_prepare_v2(
	            db,
	            "INSERT INTO postgres_pos (slot_name, lsn, lsn_int, system_id, "
	            "timeline, publication, consistent_point, schemas, synced_at) VALUES "
	            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
	            -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, pos->slot_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lsn_format(pos->lsn, lsn), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)pos->lsn);
	sqlite3_bind_text(st, 4, pos->system_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, pos->timeline);
	sqlite3_bind_text(st, 6, pos->publication, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, lsn_format(pos->consistent_point, cp), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, pos->schemas, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	r = 0;
out:
	if (r < 0)
		log_error("could not write postgres_pos: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return r;
}

int
store_require_resync(sqlite3 *db, const char *why)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(db, "UPDATE postgres_pos SET resync_required = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	r = 0;
out:
	if (r < 0)
		log_error("could not mark the copy for resync: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return r;
}

int
store_close_durably(sqlite3 *db, const char *path)
{
	char *dir;
	int fd, r = -1;

	if (sqlite3_close(db) != SQLITE_OK) {
		log_error("could not close \"%s\": %s", path, sqlite3_errmsg(db));
		return -1;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		log_error("open(\"%s\") failed: %s", path, strerror(errno));
		return -1;
	}
	if (fsync(fd) < 0) {
		log_error("fsync(\"%s\") failed: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	dir = path_dirname(path);
	if (fsync_dir(dir) < 0)
		log_error("fsync of directory \"%s\" failed: %s", dir, strerror(errno));
	else
		r = 0;
	free(dir);
	return r;
}

/* address space a reader maps of its file (the pages are the page cache's) */
#define STORE_READER_MMAP "4294967296"

int
store_open_reader(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	            SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA query_only = 1; PRAGMA mmap_size = " STORE_READER_MMAP, NULL,
	                 NULL, NULL) != SQLITE_OK) {
		log_warn("cannot open local copy \"%s\" for reading: %s", path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 1000);
	if (pgfunc_register(db) < 0) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}
