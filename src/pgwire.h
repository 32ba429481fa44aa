/* SPDX-License-Identifier: MIT */
/* PostgreSQL v3 wire protocol codec, server side: first-packet parsing, frontend message
 * framing and decoding, backend message builders. Pure: byte buffers only, no I/O. */
#ifndef SQLEDGE_PGWIRE_H
#define SQLEDGE_PGWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ---- first packet (no type byte: Int32 length including itself, Int32 code) ---- */

#define PGW_CANCEL_REQUEST_CODE 80877102u
#define PGW_SSL_REQUEST_CODE 80877103u
#define PGW_GSSENC_REQUEST_CODE 80877104u
#define PGW_PROTOCOL_3_0 196608u /* 3 << 16 | 0 */
#define PGW_PROTOCOL_MAJOR(v) ((unsigned)((v) >> 16))
#define PGW_PROTOCOL_MINOR(v) ((unsigned)((v)&0xffff))
/* Startup parameters with this prefix are protocol options, not settings; PostgreSQL 15 knows
 * none and names them in NegotiateProtocolVersion. */
#define PGW_PROTOCOL_OPTION_PREFIX "_pq_."

#define PGW_STARTUP_MIN_LEN 8
#define PGW_STARTUP_MAX_LEN 10000 /* PostgreSQL's MAX_STARTUP_PACKET_LENGTH */
#define PGW_STARTUP_MAX_PARAMS 64

/* pgw_parse_startup(): a StartupMessage asked for a protocol other than 3.0. */
#define PGW_UNSUPPORTED_PROTOCOL (-3)

enum pgw_startup_kind {
	PGW_STARTUP_SSL =
	        1, /* answer 'S' or 'N' (pgw_put_ssl_refusal), then read a new first packet */
	PGW_STARTUP_GSSENC,  /* answer 'N', then read a new first packet */
	PGW_STARTUP_CANCEL,  /* cancel_pid / cancel_key set; answer nothing, close */
	PGW_STARTUP_MESSAGE, /* StartupMessage v3.0: params set */
};

struct pgw_param {
	const char *name;
	const char *value;
};

struct pgw_startup {
	enum pgw_startup_kind kind;
	uint32_t version; /* the code word: request code, or the requested protocol version */
	size_t n_protocol_options; /* StartupMessage: how many "_pq_." pairs it has */
	uint32_t cancel_pid;
	uint32_t cancel_key;
	/* StartupMessage only: every name/value pair in packet order (names unique not
	 * enforced), pointing into the packet buffer. */
	size_t nparams;
	struct pgw_param params[PGW_STARTUP_MAX_PARAMS];
	const char *user;     /* never NULL for PGW_STARTUP_MESSAGE */
	const char *database; /* the "database" pair, or user when absent */
	char errmsg[128];     /* why the last pgw_parse_startup() failed */
};

/* Splits the first packet off a stream. On 0 the packet is buf[0, *total_len) and *total_len
 * is written; SQE_AGAIN: fewer bytes than the packet needs are buffered; -1: the length word
 * is < PGW_STARTUP_MIN_LEN or > PGW_STARTUP_MAX_LEN (close the connection). After an
 * SSLRequest the caller must check that nothing follows it in the buffer before the TLS
 * handshake (CVE-2021-23222): such bytes were sent in clear text and must be rejected. */
int pgw_frame_startup(const uint8_t *buf, size_t avail, size_t *total_len);

/* Parses one whole first packet (buf[0, len), length word included and equal to len).
 * Returns 0 with *out filled; -1 when malformed (bad length, wrong size for a fixed-size
 * request, unknown code, more than PGW_STARTUP_MAX_PARAMS pairs, unterminated pair list,
 * bytes after the terminator, missing "user") with out->errmsg set; PGW_UNSUPPORTED_PROTOCOL
 * with out->version set (report PGW_PROTOCOL_MAJOR/MINOR) and out->errmsg set. Apart from
 * errmsg and version on failure, *out is written only on success. String pointers point
 * into buf and are valid as long as buf is. */
int pgw_parse_startup(const uint8_t *buf, size_t len, struct pgw_startup *out);

/* True when the client must be sent NegotiateProtocolVersion before authentication, as
 * PostgreSQL does: it asked for a 3.x newer than 3.0 or sent protocol options. */
#define PGW_STARTUP_NEEDS_NEGOTIATION(st)                                                          \
	(PGW_PROTOCOL_MINOR((st)->version) > 0 || (st)->n_protocol_options > 0)

/* Value of the startup pair called name, or NULL. Points into the packet buffer. */
const char *pgw_startup_get(const struct pgw_startup *st, const char *name);

/* ---- frontend messages (Byte1 type, Int32 length including itself, body) ---- */

#define PGW_HEADER_LEN 5

/* Splits one typed message off a stream. Returns 0 with *type and *total_len (type byte
 * included, so the message is buf[0, *total_len)) written; SQE_AGAIN when buf does not yet
 * hold the whole message; -1 when the length word is < 4 or > max_len (protocol violation:
 * close the connection). Nothing is written unless it returns 0. */
int pgw_frame(const uint8_t *buf, size_t avail, size_t max_len, uint8_t *type, size_t *total_len);

enum pgw_type {
	PGW_QUERY = 'Q',
	PGW_PARSE = 'P',
	PGW_BIND = 'B',
	PGW_DESCRIBE = 'D',
	PGW_EXECUTE = 'E',
	PGW_CLOSE = 'C',
	PGW_SYNC = 'S',
	PGW_FLUSH = 'H',
	PGW_TERMINATE = 'X',
	PGW_COPY_DATA = 'd',
	PGW_COPY_DONE = 'c',
	PGW_COPY_FAIL = 'f',
	PGW_PASSWORD = 'p', /* also SASLInitialResponse / SASLResponse: told apart by context */
	PGW_FUNCTION_CALL = 'F',
};

#define PGW_FORMAT_TEXT 0
#define PGW_FORMAT_BINARY 1

struct pgw_query {
	const char *sql;
};

struct pgw_parse {
	const char *name; /* "" = unnamed statement */
	const char *query;
	uint16_t nparam_types;
	const uint32_t *param_types; /* host order; 0 = unspecified */
};

struct pgw_bind_param {
	int32_t len; /* -1 = NULL (data is NULL) */
	const uint8_t *data;
};

struct pgw_bind {
	const char *portal; /* "" = unnamed portal */
	const char *stmt;
	uint16_t nformats; /* 0, 1 or nparams (checked); codes are 0 or 1 (checked) */
	const int16_t *formats;
	uint16_t nparams;
	const struct pgw_bind_param *params;
	uint16_t nresult_formats; /* 0, 1 or the column count (not checkable here) */
	const int16_t *result_formats;
};

/* FunctionCall (the fast-path interface libpq's large object functions use). */
struct pgw_function_call {
	uint32_t oid;
	uint16_t nformats; /* 0, 1 or nargs (checked) */
	const int16_t *formats;
	uint16_t nargs;
	const struct pgw_bind_param *args;
	int16_t result_format;
};

/* Describe and Close. */
struct pgw_target {
	char kind; /* 'S' statement or 'P' portal */
	const char *name;
};

struct pgw_execute {
	const char *portal;
	int32_t max_rows; /* <= 0 = all rows */
};

/* CopyData, PasswordMessage (raw bytes: SASL messages are binary). */
struct pgw_bytes {
	const uint8_t *data;
	size_t len;
};

struct pgw_copy_fail {
	const char *reason;
};

struct pgw_msg {
	enum pgw_type type;
	union {
		struct pgw_query query;
		struct pgw_parse parse;
		struct pgw_bind bind;
		struct pgw_function_call function_call;
		struct pgw_target describe;
		struct pgw_execute execute;
		struct pgw_target close;
		struct pgw_bytes copy_data;
		struct pgw_copy_fail copy_fail;
		struct pgw_bytes password;
	} u; /* Sync, Flush, Terminate and CopyDone carry nothing */
};

/* Scratch space reused across messages: the arrays a decoded message points to live here. */
struct pgw_decoder {
	uint32_t *param_types;
	size_t param_types_cap;
	int16_t *formats;
	size_t formats_cap;
	struct pgw_bind_param *params;
	size_t params_cap;
	int16_t *result_formats;
	size_t result_formats_cap;
	char errmsg[128]; /* why the last pgw_decode() / pgw_decode_error() failed */
};

void pgw_decoder_init(struct pgw_decoder *dec);
/* Frees the scratch arrays; dec may be NULL. */
void pgw_decoder_free(struct pgw_decoder *dec);

/* Decodes one whole frontend message buf[0, len) as framed by pgw_frame() (type byte and
 * length word included; the length word must equal len - 1). Returns 0, or -1 with
 * dec->errmsg set when the message is malformed: unknown type, truncated, trailing bytes,
 * Describe/Close kind other than 'S'/'P', format code other than 0/1, Bind format count other
 * than 0, 1 or nparams, negative parameter length other than -1. Nothing is allocated before
 * a count is checked against the bytes left. Pointers in *out point into buf and into dec;
 * they are valid until the next pgw_decode() on dec or until buf is freed. Strings are
 * NUL-terminated inside buf. */
int pgw_decode(struct pgw_decoder *dec, const uint8_t *buf, size_t len, struct pgw_msg *out);

/* Format code of Bind parameter i (< bind->nparams) after the 0 / 1 / n rule. */
int pgw_bind_param_format(const struct pgw_bind *bind, uint16_t i);
/* Format code of result column i after the 0 / 1 / n rule; -1 when the Bind gave a per-column
 * count and i is outside it (the caller reports the mismatch). */
int pgw_bind_result_format(const struct pgw_bind *bind, uint16_t i);

/* ---- backend ErrorResponse / NoticeResponse fields (relaying upstream errors) ---- */

struct pgw_error_fields {
	char type;               /* 'E' or 'N' */
	const char *severity;    /* S (localized), required */
	const char *severity_nl; /* V, NULL from servers older than 9.6 */
	const char *code;        /* C, required */
	const char *message;     /* M, required */
	const char *detail;      /* D, or NULL */
	const char *hint;        /* H, or NULL */
	const char *position;    /* P, or NULL */
	const char *where;       /* W, or NULL */
	const char *schema;      /* s, or NULL */
	const char *table;       /* t, or NULL */
	const char *column;      /* c, or NULL */
	const char *datatype;    /* d, or NULL */
	const char *constraint;  /* n, or NULL */
};

/* Decodes a whole backend 'E' or 'N' message buf[0, len) (type byte and length word
 * included). Unknown field codes are skipped, as the protocol asks. Returns 0, or -1 with
 * dec->errmsg set when truncated, unterminated, followed by trailing bytes, of another type,
 * or missing S, C or M. Pointers point into buf. */
int pgw_decode_error(struct pgw_decoder *dec, const uint8_t *buf, size_t len,
                     struct pgw_error_fields *out);

/* ---- backend message builders: each appends one whole message to sb ---- */

/* Localized and non-localized severity are the same: sqledge does not translate. */
struct pgw_error {
	const char *severity; /* "ERROR", "FATAL", "WARNING", "NOTICE", ... */
	const char *code;     /* SQLSTATE, 5 characters */
	const char *message;
	const char *detail; /* NULL = omitted */
	const char *hint;   /* NULL = omitted */
	uint32_t position;  /* 1-based character index into the query; 0 = omitted */
};

struct pgw_field {
	const char *name;
	uint32_t table_oid; /* 0 for expressions */
	int16_t attnum;     /* 0 for expressions */
	uint32_t type_oid;
	int16_t typlen;
	int32_t typmod;
	int16_t format; /* PGW_FORMAT_TEXT / PGW_FORMAT_BINARY */
};

struct pgw_value {
	const void *data;
	int32_t len; /* -1 = NULL (data ignored) */
};

/* A frontend Query message (the proxy's own questions to the upstream). */
void pgw_put_query(struct strbuf *sb, const char *sql);

/* The single byte 'N' refusing an SSLRequest or GSSENCRequest. */
void pgw_put_ssl_refusal(struct strbuf *sb);
void pgw_put_auth_ok(struct strbuf *sb);
void pgw_put_auth_cleartext(struct strbuf *sb);
void pgw_put_parameter_status(struct strbuf *sb, const char *name, const char *value);
/* NegotiateProtocolVersion: newest minor we speak (3.0) and every "_pq_." option of st. */
void pgw_put_negotiate_protocol(struct strbuf *sb, const struct pgw_startup *st);
void pgw_put_backend_key(struct strbuf *sb, uint32_t pid, uint32_t key);
/* status: 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block. */
void pgw_put_ready_for_query(struct strbuf *sb, char status);
/* Always writes S, V, C and M (NULL strings as ""), then D, H and P when set. */
void pgw_put_error(struct strbuf *sb, const struct pgw_error *e);
void pgw_put_notice(struct strbuf *sb, const struct pgw_error *e);
void pgw_put_command_complete(struct strbuf *sb, const char *tag);
void pgw_put_empty_query(struct strbuf *sb);
void pgw_put_parse_complete(struct strbuf *sb);
void pgw_put_bind_complete(struct strbuf *sb);
void pgw_put_close_complete(struct strbuf *sb);
void pgw_put_no_data(struct strbuf *sb);
void pgw_put_portal_suspended(struct strbuf *sb);
void pgw_put_parameter_description(struct strbuf *sb, uint16_t n, const uint32_t *oids);
void pgw_put_row_description(struct strbuf *sb, uint16_t n, const struct pgw_field *fields);
/* Values are sent as given (text or binary is the caller's business). The whole message
 * must stay under 1 GB (PostgreSQL's limit); a bigger one aborts as a programming error. */
void pgw_put_data_row(struct strbuf *sb, uint16_t n, const struct pgw_value *values);

#endif
