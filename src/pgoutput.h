/* SPDX-License-Identifier: MIT */
/* Decoder for the streaming-replication CopyData frames and pgoutput protocol v1 messages.
 * Pure: works on byte buffers only, no I/O, so it is unit-tested and fuzzed. */
#ifndef SQLEDGE_PGOUTPUT_H
#define SQLEDGE_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGO_PROTO_VERSION 1
#define PGO_STATUS_LEN 34 /* 'r' standby status update */
#define PGO_MAX_COLUMNS 1664

/* ---- CopyData framing (walsender <-> client) ---- */

struct pgo_xlogdata {
	uint64_t data_start; /* 0 for Relation and Type messages */
	uint64_t wal_end;
	int64_t send_time;   /* µs since 2000-01-01 */
	const uint8_t *data; /* the pgoutput message, points into the frame */
	size_t len;
};

struct pgo_keepalive {
	uint64_t wal_end;
	int64_t send_time;
	bool reply_requested;
};

/* Splits one CopyData payload from the server. Returns 'w' (xlogdata filled), 'k' (keepalive
 * filled) or -1 when the frame is malformed or of an unknown kind. */
int pgo_parse_frame(const uint8_t *buf, size_t len, struct pgo_xlogdata *xlog,
                    struct pgo_keepalive *ka);

/* Builds the 34-byte 'r' standby status update. */
void pgo_build_status(uint8_t out[PGO_STATUS_LEN], uint64_t write_lsn, uint64_t flush_lsn,
                      uint64_t apply_lsn, int64_t now_pg, bool reply_requested);

/* ---- pgoutput messages ---- */

enum pgo_type {
	PGO_BEGIN = 'B',
	PGO_COMMIT = 'C',
	PGO_ORIGIN = 'O',
	PGO_RELATION = 'R',
	PGO_TYPE = 'Y',
	PGO_INSERT = 'I',
	PGO_UPDATE = 'U',
	PGO_DELETE = 'D',
	PGO_TRUNCATE = 'T',
	PGO_MESSAGE = 'M',
};

#define PGO_COLUMN_KEY 1 /* relation column flag: part of the replica identity */

#define PGO_TRUNCATE_CASCADE 1
#define PGO_TRUNCATE_RESTART_IDENTITY 2

#define PGO_MESSAGE_TRANSACTIONAL 1

/* One column of a TupleData. kind: 'n' null, 'u' unchanged TOAST value, 't' text, 'b' binary.
 * data/len are set for 't' and 'b' only; data points into the message and is NOT
 * NUL-terminated. */
struct pgo_datum {
	char kind;
	uint32_t len;
	const char *data;
};

struct pgo_tuple {
	uint16_t ncols;
	struct pgo_datum *cols;
};

struct pgo_column {
	uint8_t flags; /* PGO_COLUMN_KEY */
	const char *name;
	uint32_t type_oid;
	int32_t typmod;
};

struct pgo_begin {
	uint64_t final_lsn; /* LSN of the commit record */
	int64_t commit_time;
	uint32_t xid;
};

struct pgo_commit {
	uint8_t flags;
	uint64_t commit_lsn;
	uint64_t end_lsn; /* the resume and confirm position */
	int64_t commit_time;
};

struct pgo_origin {
	uint64_t commit_lsn;
	const char *name;
};

struct pgo_relation {
	uint32_t relid;
	const char *nspname; /* "" means pg_catalog */
	const char *relname;
	char replident; /* 'd', 'n', 'f', 'i' */
	uint16_t ncols;
	struct pgo_column *cols;
};

struct pgo_typemsg {
	uint32_t type_oid;
	const char *nspname;
	const char *typname;
};

struct pgo_insert {
	uint32_t relid;
	struct pgo_tuple newtup;
};

struct pgo_update {
	uint32_t relid;
	char oldkind; /* 0 (no old tuple), 'K' (old key) or 'O' (old full row) */
	struct pgo_tuple oldtup;
	struct pgo_tuple newtup;
};

struct pgo_delete {
	uint32_t relid;
	char oldkind; /* 'K' or 'O' */
	struct pgo_tuple oldtup;
};

struct pgo_truncate {
	uint8_t flags;
	uint32_t nrels;
	uint32_t *relids;
};

struct pgo_message {
	uint8_t flags; /* PGO_MESSAGE_TRANSACTIONAL */
	uint64_t lsn;
	const char *prefix;
	uint32_t len;
	const uint8_t *content;
};

struct pgo_msg {
	enum pgo_type type;
	union {
		struct pgo_begin begin;
		struct pgo_commit commit;
		struct pgo_origin origin;
		struct pgo_relation relation;
		struct pgo_typemsg typ;
		struct pgo_insert insert;
		struct pgo_update update;
		struct pgo_delete del;
		struct pgo_truncate truncate;
		struct pgo_message message;
	} u;
};

/* Scratch space reused across messages: the arrays a decoded message points to live here. */
struct pgo_decoder {
	struct pgo_column *cols;
	size_t cols_cap;
	struct pgo_datum *tup[2];
	size_t tup_cap[2];
	uint32_t *relids;
	size_t relids_cap;
	char errmsg[128]; /* why the last pgo_decode() failed */
};

void pgo_decoder_init(struct pgo_decoder *dec);
void pgo_decoder_free(struct pgo_decoder *dec);

/* Decodes one pgoutput v1 message. Returns 0, or -1 with dec->errmsg set when the message is
 * malformed (truncated, trailing bytes, unknown type, bad markers, non-zero commit flags,
 * more than PGO_MAX_COLUMNS columns). Pointers in *out point into buf and into dec; they stay
 * valid until the next pgo_decode() on dec or until buf is freed. */
int pgo_decode(struct pgo_decoder *dec, const uint8_t *buf, size_t len, struct pgo_msg *out);

#endif
