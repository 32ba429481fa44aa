/* SPDX-License-Identifier: MIT */
/* Strict PostgreSQL v3 wire protocol codec for the proxy's client side: every byte comes from
 * an untrusted client, so every length and count is checked before it is used. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgwire.h"
#include "rbuf.h"
#include "util.h"

#define PGW_MAX_MSG_LEN 0x3fffffffu /* PostgreSQL's MaxAllocSize - 1: no message is bigger */

/* A reader ran out of bytes; pgw_decode() words the message so each reader need not. */
#define PGW_DEC_TRUNCATED (-2)

struct pgw_ctx {
	struct pgw_decoder *dec;
	struct rbuf rb;
};

static void pgw_set_error(char *buf, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
pgw_set_error(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

#define PGW_DEC_ERROR(dec, ...) pgw_set_error((dec)->errmsg, sizeof((dec)->errmsg), __VA_ARGS__)

/* Quotes a protocol byte for an error message: 'X' when printable, 0xNN otherwise. */
static const char *
pgw_fmt_byte(char buf[8], uint8_t c)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", c);
	return buf;
}

/* ---- first packet ---- */

int
pgw_frame_startup(const uint8_t *buf, size_t avail, size_t *total_len)
{
	uint32_t len;

	if (avail < 4)
		return SQE_AGAIN;
	len = be_get_u32(buf);
	if (len < PGW_STARTUP_MIN_LEN || len > PGW_STARTUP_MAX_LEN)
		return -1;
	if (avail < len)
		return SQE_AGAIN;
	*total_len = len;
	return 0;
}

int
pgw_parse_startup(const uint8_t *buf, size_t len, struct pgw_startup *out)
{
	struct rbuf rb;
	uint32_t plen, code;
	const char *user = NULL, *database = NULL;
	size_t n = 0, nopts = 0;
	int ret = -1;

#define ST_ERROR(...) pgw_set_error(out->errmsg, sizeof(out->errmsg), __VA_ARGS__)
	if (len < PGW_STARTUP_MIN_LEN || len > PGW_STARTUP_MAX_LEN) {
		ST_ERROR("invalid length of startup packet: %zu bytes", len);
		goto out;
	}
	rbuf_init(&rb, buf, len);
	(void)rbuf_get_u32(&rb, &plen);
	(void)rbuf_get_u32(&rb, &code);
	if (plen != len) {
		ST_ERROR("startup packet length word %u does not match its %zu bytes", plen, len);
		goto out;
	}
	switch (code) {
	case PGW_SSL_REQUEST_CODE:
	case PGW_GSSENC_REQUEST_CODE:
		if (len != 8) {
			ST_ERROR("%s request of %zu bytes, expected 8",
			         code == PGW_SSL_REQUEST_CODE ? "SSL" : "GSSENC", len);
			goto out;
		}
		out->kind = code == PGW_SSL_REQUEST_CODE ? PGW_STARTUP_SSL : PGW_STARTUP_GSSENC;
		out->version = code;
		out->nparams = 0;
		out->user = out->database = NULL;
		ret = 0;
		goto out;
	case PGW_CANCEL_REQUEST_CODE:
		if (len != 16) {
			ST_ERROR("cancel request of %zu bytes, expected 16", len);
			goto out;
		}
		out->kind = PGW_STARTUP_CANCEL;
		out->version = code;
		out->cancel_pid = be_get_u32(buf + 8);
		out->cancel_key = be_get_u32(buf + 12);
		out->nparams = 0;
		out->user = out->database = NULL;
		ret = 0;
		goto out;
	default:
		/* 3.x: served as 3.0, the client told so by NegotiateProtocolVersion */
		if (PGW_PROTOCOL_MAJOR(code) == 3)
			break;
		out->version = code;
		ST_ERROR("unsupported frontend protocol %u.%u", PGW_PROTOCOL_MAJOR(code),
		         PGW_PROTOCOL_MINOR(code));
		ret = PGW_UNSUPPORTED_PROTOCOL;
		goto out;
	}
	/* name\0value\0 ... \0: parse into locals first so *out is untouched on failure. */
	{
		struct pgw_param params[PGW_STARTUP_MAX_PARAMS];

		for (;;) {
			const char *name, *value;

			if (rbuf_get_cstring(&rb, &name) < 0) {
				ST_ERROR("startup packet has an unterminated parameter name");
				goto out;
			}
			if (name[0] == '\0')
				break;
			if (rbuf_get_cstring(&rb, &value) < 0) {
				ST_ERROR("startup parameter \"%.40s\" has no terminated value",
				         name);
				goto out;
			}
			if (n == PGW_STARTUP_MAX_PARAMS) {
				ST_ERROR("startup packet has more than %d parameters",
				         PGW_STARTUP_MAX_PARAMS);
				goto out;
			}
			params[n].name = name;
			params[n].value = value;
			n++;
			if (strncmp(name, PGW_PROTOCOL_OPTION_PREFIX,
			            strlen(PGW_PROTOCOL_OPTION_PREFIX)) == 0)
				nopts++;
			else if (strcmp(name, "user") == 0)
				user = value;
			else if (strcmp(name, "database") == 0)
				database = value;
		}
		if (rbuf_remaining(&rb) != 0) {
			ST_ERROR("%zu bytes after the startup parameter list", rbuf_remaining(&rb));
			goto out;
		}
		if (user == NULL || user[0] == '\0') {
			ST_ERROR("no PostgreSQL user name specified in startup packet");
			goto out;
		}
		out->kind = PGW_STARTUP_MESSAGE;
		out->version = code;
		out->n_protocol_options = nopts;
		out->nparams = n;
		memcpy(out->params, params, n * sizeof(params[0]));
		out->user = user;
		out->database = database != NULL && database[0] != '\0' ? database : user;
		ret = 0;
	}
#undef ST_ERROR
out:
	return ret;
}

const char *
pgw_startup_get(const struct pgw_startup *st, const char *name)
{
	for (size_t i = 0; i < st->nparams; i++)
		if (strcmp(st->params[i].name, name) == 0)
			return st->params[i].value;
	return NULL;
}

/* ---- frontend messages ---- */

int
pgw_frame(const uint8_t *buf, size_t avail, size_t max_len, uint8_t *type, size_t *total_len)
{
	uint32_t len;

	if (avail < PGW_HEADER_LEN)
		return SQE_AGAIN;
	len = be_get_u32(buf + 1);
	if (len < 4 || len > max_len || len > PGW_MAX_MSG_LEN)
		return -1;
	if (avail - 1 < len)
		return SQE_AGAIN;
	*type = buf[0];
	*total_len = (size_t)len + 1;
	return 0;
}

void
pgw_decoder_init(struct pgw_decoder *dec)
{
	memset(dec, 0, sizeof(*dec));
}

void
pgw_decoder_free(struct pgw_decoder *dec)
{
	if (dec == NULL)
		return;
	free(dec->param_types);
	free(dec->formats);
	free(dec->params);
	free(dec->result_formats);
	pgw_decoder_init(dec);
}

static const char *
pgw_type_name(uint8_t type)
{
	switch (type) {
	case PGW_QUERY:
		return "Query";
	case PGW_PARSE:
		return "Parse";
	case PGW_BIND:
		return "Bind";
	case PGW_DESCRIBE:
		return "Describe";
	case PGW_EXECUTE:
		return "Execute";
	case PGW_CLOSE:
		return "Close";
	case PGW_SYNC:
		return "Sync";
	case PGW_FLUSH:
		return "Flush";
	case PGW_TERMINATE:
		return "Terminate";
	case PGW_COPY_DATA:
		return "CopyData";
	case PGW_COPY_DONE:
		return "CopyDone";
	case PGW_COPY_FAIL:
		return "CopyFail";
	case PGW_PASSWORD:
		return "PasswordMessage";
	case PGW_FUNCTION_CALL:
		return "FunctionCall";
	default:
		return NULL;
	}
}

/* Reads an Int16 count of Int16 format codes (each 0 or 1) into a scratch array. */
static int
pgw_read_formats(struct pgw_ctx *c, int16_t **arr, size_t *cap, uint16_t *n_out, const char *what)
{
	uint16_t n;
	int16_t *f;

	if (rbuf_get_u16(&c->rb, &n) < 0)
		return PGW_DEC_TRUNCATED;
	if ((size_t)n * 2 > rbuf_remaining(&c->rb))
		return PGW_DEC_TRUNCATED;
	*arr = xgrow(*arr, cap, n, sizeof(**arr));
	f = *arr;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t v;

		(void)rbuf_get_u16(&c->rb, &v);
		if (v != PGW_FORMAT_TEXT && v != PGW_FORMAT_BINARY) {
			PGW_DEC_ERROR(c->dec, "%s format code %d at %u is not 0 or 1", what,
			              (int16_t)v, i);
			return -1;
		}
		f[i] = (int16_t)v;
	}
	*n_out = n;
	return 0;
}

static int
pgw_read_parse(struct pgw_ctx *c, struct pgw_parse *p)
{
	uint16_t n;

	if (rbuf_get_cstring(&c->rb, &p->name) < 0 || rbuf_get_cstring(&c->rb, &p->query) < 0 ||
	    rbuf_get_u16(&c->rb, &n) < 0)
		return PGW_DEC_TRUNCATED;
	if ((size_t)n * 4 > rbuf_remaining(&c->rb))
		return PGW_DEC_TRUNCATED;
	c->dec->param_types =
	        xgrow(c->dec->param_types, &c->dec->param_types_cap, n, sizeof(uint32_t));
	for (uint16_t i = 0; i < n; i++)
		(void)rbuf_get_u32(&c->rb, &c->dec->param_types[i]);
	p->nparam_types = n;
	p->param_types = c->dec->param_types;
	return 0;
}

/* The format codes and values of Bind's parameters or FunctionCall's arguments, into
 * dec->formats and dec->params. */
static int
pgw_read_values(struct pgw_ctx *c, const char *what, uint16_t *nformats_out, uint16_t *nparams_out)
{
	struct pgw_decoder *dec = c->dec;
	uint16_t nformats, nparams;
	char label[48];
	int rc;

	snprintf(label, sizeof(label), "%s parameter", what);
	rc = pgw_read_formats(c, &dec->formats, &dec->formats_cap, &nformats, label);
	if (rc != 0)
		return rc;
	if (rbuf_get_u16(&c->rb, &nparams) < 0)
		return PGW_DEC_TRUNCATED;
	if (nformats > 1 && nformats != nparams) {
		PGW_DEC_ERROR(dec, "%s has %u parameter formats for %u parameters", what, nformats,
		              nparams);
		return -1;
	}
	/* Each parameter takes at least its 4-byte length: bound the count before allocating. */
	if ((size_t)nparams * 4 > rbuf_remaining(&c->rb))
		return PGW_DEC_TRUNCATED;
	dec->params = xgrow(dec->params, &dec->params_cap, nparams, sizeof(*dec->params));
	for (uint16_t i = 0; i < nparams; i++) {
		struct pgw_bind_param *p = &dec->params[i];
		int32_t plen;

		if (rbuf_get_i32(&c->rb, &plen) < 0)
			return PGW_DEC_TRUNCATED;
		if (plen < -1) {
			PGW_DEC_ERROR(dec, "%s parameter %u has invalid length %d", what, i, plen);
			return -1;
		}
		p->len = plen;
		p->data = NULL;
		if (plen >= 0 && rbuf_get_bytes(&c->rb, (size_t)plen, &p->data) < 0)
			return PGW_DEC_TRUNCATED;
	}
	*nformats_out = nformats;
	*nparams_out = nparams;
	return 0;
}

static int
pgw_read_bind(struct pgw_ctx *c, struct pgw_bind *b)
{
	struct pgw_decoder *dec = c->dec;
	uint16_t nformats, nparams, nrformats;
	int rc;

	if (rbuf_get_cstring(&c->rb, &b->portal) < 0 || rbuf_get_cstring(&c->rb, &b->stmt) < 0)
		return PGW_DEC_TRUNCATED;
	rc = pgw_read_values(c, "Bind", &nformats, &nparams);
	if (rc != 0)
		return rc;
	rc = pgw_read_formats(c, &dec->result_formats, &dec->result_formats_cap, &nrformats,
	                      "Bind result");
	if (rc != 0)
		return rc;
	b->nformats = nformats;
	b->formats = dec->formats;
	b->nparams = nparams;
	b->params = dec->params;
	b->nresult_formats = nrformats;
	b->result_formats = dec->result_formats;
	return 0;
}

static int
pgw_read_function_call(struct pgw_ctx *c, struct pgw_function_call *f)
{
	uint16_t nformats, nargs, rformat;
	int rc;

	if (rbuf_get_u32(&c->rb, &f->oid) < 0)
		return PGW_DEC_TRUNCATED;
	rc = pgw_read_values(c, "FunctionCall", &nformats, &nargs);
	if (rc != 0)
		return rc;
	if (rbuf_get_u16(&c->rb, &rformat) < 0)
		return PGW_DEC_TRUNCATED;
	if (rformat != PGW_FORMAT_TEXT && rformat != PGW_FORMAT_BINARY) {
		PGW_DEC_ERROR(c->dec, "FunctionCall result format code %d is not 0 or 1",
		              (int16_t)rformat);
		return -1;
	}
	f->nformats = nformats;
	f->formats = c->dec->formats;
	f->nargs = nargs;
	f->args = c->dec->params;
	f->result_format = (int16_t)rformat;
	return 0;
}

static int
pgw_read_target(struct pgw_ctx *c, const char *what, struct pgw_target *t)
{
	uint8_t kind;
	char kb[8];

	if (rbuf_get_u8(&c->rb, &kind) < 0)
		return PGW_DEC_TRUNCATED;
	if (kind != 'S' && kind != 'P') {
		PGW_DEC_ERROR(c->dec, "%s kind %s is not 'S' or 'P'", what, pgw_fmt_byte(kb, kind));
		return -1;
	}
	if (rbuf_get_cstring(&c->rb, &t->name) < 0)
		return PGW_DEC_TRUNCATED;
	t->kind = (char)kind;
	return 0;
}

static int
pgw_read_body(struct pgw_ctx *c, uint8_t type, struct pgw_msg *m)
{
	switch (type) {
	case PGW_QUERY:
		return rbuf_get_cstring(&c->rb, &m->u.query.sql) < 0 ? PGW_DEC_TRUNCATED : 0;
	case PGW_PARSE:
		return pgw_read_parse(c, &m->u.parse);
	case PGW_BIND:
		return pgw_read_bind(c, &m->u.bind);
	case PGW_FUNCTION_CALL:
		return pgw_read_function_call(c, &m->u.function_call);
	case PGW_DESCRIBE:
		return pgw_read_target(c, "Describe", &m->u.describe);
	case PGW_CLOSE:
		return pgw_read_target(c, "Close", &m->u.close);
	case PGW_EXECUTE:
		if (rbuf_get_cstring(&c->rb, &m->u.execute.portal) < 0 ||
		    rbuf_get_i32(&c->rb, &m->u.execute.max_rows) < 0)
			return PGW_DEC_TRUNCATED;
		return 0;
	case PGW_COPY_FAIL:
		return rbuf_get_cstring(&c->rb, &m->u.copy_fail.reason) < 0 ? PGW_DEC_TRUNCATED : 0;
	case PGW_COPY_DATA:
	case PGW_PASSWORD: {
		/* Same layout; copy_data and password are the same struct type. */
		struct pgw_bytes *b = type == PGW_COPY_DATA ? &m->u.copy_data : &m->u.password;

		b->len = rbuf_remaining(&c->rb);
		(void)rbuf_get_bytes(&c->rb, b->len, &b->data);
		return 0;
	}
	default: /* Sync, Flush, Terminate, CopyDone: empty bodies */
		return 0;
	}
}

int
pgw_decode(struct pgw_decoder *dec, const uint8_t *buf, size_t len, struct pgw_msg *out)
{
	struct pgw_ctx c = {.dec = dec};
	struct pgw_msg m;
	const char *name;
	uint32_t mlen;
	char tb[8];
	int rc;

	dec->errmsg[0] = '\0';
	if (len < PGW_HEADER_LEN) {
		PGW_DEC_ERROR(dec, "message of %zu bytes is shorter than its header", len);
		return -1;
	}
	name = pgw_type_name(buf[0]);
	if (name == NULL) {
		PGW_DEC_ERROR(dec, "unknown frontend message type %s", pgw_fmt_byte(tb, buf[0]));
		return -1;
	}
	mlen = be_get_u32(buf + 1);
	if (mlen != len - 1) {
		PGW_DEC_ERROR(dec, "%s length word %u does not match its %zu bytes", name, mlen,
		              len - 1);
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.type = (enum pgw_type)buf[0];
	rbuf_init(&c.rb, buf + PGW_HEADER_LEN, len - PGW_HEADER_LEN);
	rc = pgw_read_body(&c, buf[0], &m);
	if (rc == PGW_DEC_TRUNCATED) {
		PGW_DEC_ERROR(dec, "%s message is truncated", name);
		return -1;
	}
	if (rc < 0)
		return -1;
	if (rbuf_remaining(&c.rb) != 0) {
		PGW_DEC_ERROR(dec, "%s message has %zu trailing bytes", name,
		              rbuf_remaining(&c.rb));
		return -1;
	}
	*out = m;
	return 0;
}

int
pgw_bind_param_format(const struct pgw_bind *bind, uint16_t i)
{
	if (bind->nformats == 0)
		return PGW_FORMAT_TEXT;
	if (bind->nformats == 1)
		return bind->formats[0];
	return bind->formats[i];
}

int
pgw_bind_result_format(const struct pgw_bind *bind, uint16_t i)
{
	if (bind->nresult_formats == 0)
		return PGW_FORMAT_TEXT;
	if (bind->nresult_formats == 1)
		return bind->result_formats[0];
	if (i >= bind->nresult_formats)
		return -1;
	return bind->result_formats[i];
}

int
pgw_decode_error(struct pgw_decoder *dec, const uint8_t *buf, size_t len,
                 struct pgw_error_fields *out)
{
	struct pgw_error_fields f;
	struct rbuf rb;
	uint32_t mlen;
	char tb[8];

	dec->errmsg[0] = '\0';
	if (len < PGW_HEADER_LEN) {
		PGW_DEC_ERROR(dec, "message of %zu bytes is shorter than its header", len);
		return -1;
	}
	if (buf[0] != 'E' && buf[0] != 'N') {
		PGW_DEC_ERROR(dec, "message type %s is not 'E' or 'N'", pgw_fmt_byte(tb, buf[0]));
		return -1;
	}
	mlen = be_get_u32(buf + 1);
	if (mlen != len - 1) {
		PGW_DEC_ERROR(dec, "error length word %u does not match its %zu bytes", mlen,
		              len - 1);
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.type = (char)buf[0];
	rbuf_init(&rb, buf + PGW_HEADER_LEN, len - PGW_HEADER_LEN);
	for (;;) {
		uint8_t code;
		const char *value;

		if (rbuf_get_u8(&rb, &code) < 0) {
			PGW_DEC_ERROR(dec, "error fields are not terminated");
			return -1;
		}
		if (code == 0)
			break;
		if (rbuf_get_cstring(&rb, &value) < 0) {
			PGW_DEC_ERROR(dec, "error field %s is truncated", pgw_fmt_byte(tb, code));
			return -1;
		}
		switch (code) {
		case 'S':
			f.severity = value;
			break;
		case 'V':
			f.severity_nl = value;
			break;
		case 'C':
			f.code = value;
			break;
		case 'M':
			f.message = value;
			break;
		case 'D':
			f.detail = value;
			break;
		case 'H':
			f.hint = value;
			break;
		case 'P':
			f.position = value;
			break;
		case 'W':
			f.where = value;
			break;
		case 's':
			f.schema = value;
			break;
		case 't':
			f.table = value;
			break;
		case 'c':
			f.column = value;
			break;
		case 'd':
			f.datatype = value;
			break;
		case 'n':
			f.constraint = value;
			break;
		default:
			break; /* the protocol says to ignore fields we do not know */
		}
	}
	if (rbuf_remaining(&rb) != 0) {
		PGW_DEC_ERROR(dec, "error message has %zu trailing bytes", rbuf_remaining(&rb));
		return -1;
	}
	if (f.severity == NULL || f.code == NULL || f.message == NULL) {
		PGW_DEC_ERROR(dec, "error message lacks its %s field",
		              f.severity == NULL ? "S"
		              : f.code == NULL   ? "C"
		                                 : "M");
		return -1;
	}
	*out = f;
	return 0;
}

/* ---- backend builders ---- */

/* Starts a message with a placeholder length; returns where the message starts. */
static size_t
pgw_begin(struct strbuf *sb, char type)
{
	static const uint8_t zero[4];
	size_t start = sb->len;

	strbuf_putc(sb, type);
	strbuf_append(sb, zero, sizeof(zero));
	return start;
}

/* Patches the length word of the message begun at start. */
static void
pgw_end(struct strbuf *sb, size_t start)
{
	size_t len = sb->len - start - 1;

	if (len > PGW_MAX_MSG_LEN) {
		log_error("backend message '%c' of %zu bytes exceeds the protocol limit",
		          sb->data[start], len);
		abort();
	}
	be_put_u32((uint8_t *)sb->data + start + 1, (uint32_t)len);
}

static void
pgw_put_u16(struct strbuf *sb, uint16_t v)
{
	uint8_t b[2];

	be_put_u16(b, v);
	strbuf_append(sb, b, sizeof(b));
}

static void
pgw_put_u32(struct strbuf *sb, uint32_t v)
{
	uint8_t b[4];

	be_put_u32(b, v);
	strbuf_append(sb, b, sizeof(b));
}

/* A String: the bytes and their NUL terminator. */
static void
pgw_put_str(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s) + 1);
}

static void
pgw_put_empty(struct strbuf *sb, char type)
{
	pgw_end(sb, pgw_begin(sb, type));
}

static void
pgw_put_auth(struct strbuf *sb, uint32_t code)
{
	size_t start = pgw_begin(sb, 'R');

	pgw_put_u32(sb, code);
	pgw_end(sb, start);
}

void
pgw_put_query(struct strbuf *sb, const char *sql)
{
	size_t start = pgw_begin(sb, 'Q');

	strbuf_append(sb, sql, strlen(sql) + 1);
	pgw_end(sb, start);
}

void
pgw_put_ssl_refusal(struct strbuf *sb)
{
	strbuf_putc(sb, 'N');
}

void
pgw_put_auth_ok(struct strbuf *sb)
{
	pgw_put_auth(sb, 0);
}

void
pgw_put_auth_cleartext(struct strbuf *sb)
{
	pgw_put_auth(sb, 3);
}

void
pgw_put_parameter_status(struct strbuf *sb, const char *name, const char *value)
{
	size_t start = pgw_begin(sb, 'S');

	pgw_put_str(sb, name);
	pgw_put_str(sb, value);
	pgw_end(sb, start);
}

void
pgw_put_negotiate_protocol(struct strbuf *sb, const struct pgw_startup *st)
{
	size_t start = pgw_begin(sb, 'v'), i;

	pgw_put_u32(sb, PGW_PROTOCOL_3_0);
	pgw_put_u32(sb, (uint32_t)st->n_protocol_options);
	for (i = 0; i < st->nparams; i++) {
		if (strncmp(st->params[i].name, PGW_PROTOCOL_OPTION_PREFIX,
		            strlen(PGW_PROTOCOL_OPTION_PREFIX)) == 0)
			pgw_put_str(sb, st->params[i].name);
	}
	pgw_end(sb, start);
}

void
pgw_put_backend_key(struct strbuf *sb, uint32_t pid, uint32_t key)
{
	size_t start = pgw_begin(sb, 'K');

	pgw_put_u32(sb, pid);
	pgw_put_u32(sb, key);
	pgw_end(sb, start);
}

void
pgw_put_ready_for_query(struct strbuf *sb, char status)
{
	size_t start = pgw_begin(sb, 'Z');

	strbuf_putc(sb, status);
	pgw_end(sb, start);
}

static void
pgw_put_field(struct strbuf *sb, char code, const char *value)
{
	strbuf_putc(sb, code);
	pgw_put_str(sb, value != NULL ? value : "");
}

static void
pgw_put_error_fields(struct strbuf *sb, char type, const struct pgw_error *e)
{
	size_t start = pgw_begin(sb, type);

	pgw_put_field(sb, 'S', e->severity);
	pgw_put_field(sb, 'V', e->severity);
	pgw_put_field(sb, 'C', e->code);
	pgw_put_field(sb, 'M', e->message);
	if (e->detail != NULL)
		pgw_put_field(sb, 'D', e->detail);
	if (e->hint != NULL)
		pgw_put_field(sb, 'H', e->hint);
	if (e->position != 0) {
		char pos[16];

		snprintf(pos, sizeof(pos), "%u", e->position);
		pgw_put_field(sb, 'P', pos);
	}
	strbuf_putc(sb, '\0');
	pgw_end(sb, start);
}

void
pgw_put_error(struct strbuf *sb, const struct pgw_error *e)
{
	pgw_put_error_fields(sb, 'E', e);
}

void
pgw_put_notice(struct strbuf *sb, const struct pgw_error *e)
{
	pgw_put_error_fields(sb, 'N', e);
}

void
pgw_put_command_complete(struct strbuf *sb, const char *tag)
{
	size_t start = pgw_begin(sb, 'C');

	pgw_put_str(sb, tag);
	pgw_end(sb, start);
}

void
pgw_put_empty_query(struct strbuf *sb)
{
	pgw_put_empty(sb, 'I');
}

void
pgw_put_parse_complete(struct strbuf *sb)
{
	pgw_put_empty(sb, '1');
}

void
pgw_put_bind_complete(struct strbuf *sb)
{
	pgw_put_empty(sb, '2');
}

void
pgw_put_close_complete(struct strbuf *sb)
{
	pgw_put_empty(sb, '3');
}

void
pgw_put_no_data(struct strbuf *sb)
{
	pgw_put_empty(sb, 'n');
}

void
pgw_put_portal_suspended(struct strbuf *sb)
{
	pgw_put_empty(sb, 's');
}

void
pgw_put_parameter_description(struct strbuf *sb, uint16_t n, const uint32_t *oids)
{
	size_t start = pgw_begin(sb, 't');

	pgw_put_u16(sb, n);
	for (uint16_t i = 0; i < n; i++)
		pgw_put_u32(sb, oids[i]);
	pgw_end(sb, start);
}

void
pgw_put_row_description(struct strbuf *sb, uint16_t n, const struct pgw_field *fields)
{
	size_t start = pgw_begin(sb, 'T');

	pgw_put_u16(sb, n);
	for (uint16_t i = 0; i < n; i++) {
		const struct pgw_field *f = &fields[i];

		pgw_put_str(sb, f->name);
		pgw_put_u32(sb, f->table_oid);
		pgw_put_u16(sb, (uint16_t)f->attnum);
		pgw_put_u32(sb, f->type_oid);
		pgw_put_u16(sb, (uint16_t)f->typlen);
		pgw_put_u32(sb, (uint32_t)f->typmod);
		pgw_put_u16(sb, (uint16_t)f->format);
	}
	pgw_end(sb, start);
}

void
pgw_put_data_row(struct strbuf *sb, uint16_t n, const struct pgw_value *values)
{
	size_t start = pgw_begin(sb, 'D');

	pgw_put_u16(sb, n);
	for (uint16_t i = 0; i < n; i++) {
		const struct pgw_value *v = &values[i];

		if (v->len < 0) {
			pgw_put_u32(sb, UINT32_MAX); /* -1: NULL */
			continue;
		}
		pgw_put_u32(sb, (uint32_t)v->len);
		strbuf_append(sb, v->data, (size_t)v->len);
	}
	pgw_end(sb, start);
}
