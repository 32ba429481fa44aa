/* SPDX-License-Identifier: MIT */
/* Strict decoder for the streaming-replication CopyData frames and pgoutput protocol v1
 * messages; every byte comes from the network, so every length is checked before it is used. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput.h"
#include "rbuf.h"
#include "util.h"

#define PGO_XLOGDATA_HDR 25 /* 'w', dataStart, walEnd, sendTime */
#define PGO_KEEPALIVE_LEN 18

/* A sub-decoder ran out of bytes; pgo_decode() words the message so each reader need not. */
#define PGO_DEC_TRUNCATED (-2)

/* Scratch slots: an Update carries an old and a new tuple that must not share storage. */
#define PGO_SLOT_OLD 0
#define PGO_SLOT_NEW 1

struct pgo_ctx {
	struct pgo_decoder *dec;
	struct rbuf rb;
	const char *name; /* message name for errors: "Insert" */
};

int
pgo_parse_frame(const uint8_t *buf, size_t len, struct pgo_xlogdata *xlog, struct pgo_keepalive *ka)
{
	if (len < 1)
		return -1;
	switch (buf[0]) {
	case 'w':
		if (len < PGO_XLOGDATA_HDR)
			return -1;
		xlog->data_start = be_get_u64(buf + 1);
		xlog->wal_end = be_get_u64(buf + 9);
		xlog->send_time = (int64_t)be_get_u64(buf + 17);
		xlog->data = buf + PGO_XLOGDATA_HDR;
		xlog->len = len - PGO_XLOGDATA_HDR;
		return 'w';
	case 'k':
		/* Fixed size: anything else means we are out of step with the server. */
		if (len != PGO_KEEPALIVE_LEN)
			return -1;
		ka->wal_end = be_get_u64(buf + 1);
		ka->send_time = (int64_t)be_get_u64(buf + 9);
		ka->reply_requested = buf[17] != 0;
		return 'k';
	default:
		return -1;
	}
}

void
pgo_build_status(uint8_t out[PGO_STATUS_LEN], uint64_t write_lsn, uint64_t flush_lsn,
                 uint64_t apply_lsn, int64_t now_pg, bool reply_requested)
{
	out[0] = 'r';
	be_put_u64(out + 1, write_lsn);
	be_put_u64(out + 9, flush_lsn);
	be_put_u64(out + 17, apply_lsn);
	be_put_u64(out + 25, (uint64_t)now_pg);
	out[33] = reply_requested ? 1 : 0;
}

void
pgo_decoder_init(struct pgo_decoder *dec)
{
	memset(dec, 0, sizeof(*dec));
}

void
pgo_decoder_free(struct pgo_decoder *dec)
{
	if (dec == NULL)
		return;
	free(dec->cols);
	free(dec->tup[PGO_SLOT_OLD]);
	free(dec->tup[PGO_SLOT_NEW]);
	free(dec->relids);
	pgo_decoder_init(dec);
}

static void pgo_set_error(struct pgo_decoder *dec, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
pgo_set_error(struct pgo_decoder *dec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dec->errmsg, sizeof(dec->errmsg), fmt, ap);
	va_end(ap);
}

/* Quotes a protocol byte for an error message: 'X' when printable, 0xNN otherwise. */
static const char *
pgo_fmt_byte(char buf[8], uint8_t c)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", c);
	return buf;
}

static const char *
pgo_type_name(uint8_t type)
{
	switch (type) {
	case PGO_BEGIN:
		return "Begin";
	case PGO_COMMIT:
		return "Commit";
	case PGO_ORIGIN:
		return "Origin";
	case PGO_RELATION:
		return "Relation";
	case PGO_TYPE:
		return "Type";
	case PGO_INSERT:
		return "Insert";
	case PGO_UPDATE:
		return "Update";
	case PGO_DELETE:
		return "Delete";
	case PGO_TRUNCATE:
		return "Truncate";
	case PGO_MESSAGE:
		return "Message";
	default:
		return NULL;
	}
}

/* TupleData into scratch slot; 'u' (unchanged TOAST) only where allow_unchanged says so. */
static int
pgo_read_tuple(struct pgo_ctx *c, int slot, bool allow_unchanged, struct pgo_tuple *out)
{
	struct pgo_decoder *dec = c->dec;
	struct pgo_datum *cols;
	uint16_t ncols;
	char kb[8];

	if (rbuf_get_u16(&c->rb, &ncols) < 0)
		return PGO_DEC_TRUNCATED;
	if (ncols > PGO_MAX_COLUMNS) {
		pgo_set_error(dec, "%s tuple has %u columns, more than %d", c->name, ncols,
		              PGO_MAX_COLUMNS);
		return -1;
	}
	dec->tup[slot] = xgrow(dec->tup[slot], &dec->tup_cap[slot], ncols, sizeof(*cols));
	cols = dec->tup[slot];
	for (uint16_t i = 0; i < ncols; i++) {
		struct pgo_datum *d = &cols[i];
		uint8_t kind;
		int32_t dlen;
		const uint8_t *p;

		if (rbuf_get_u8(&c->rb, &kind) < 0)
			return PGO_DEC_TRUNCATED;
		d->kind = (char)kind;
		d->len = 0;
		d->data = NULL;
		switch (kind) {
		case 'n':
			break;
		case 'u':
			if (!allow_unchanged) {
				pgo_set_error(dec,
				              "TOAST 'u' in column %u outside an Update new tuple",
				              i);
				return -1;
			}
			break;
		case 't':
		case 'b':
			if (rbuf_get_i32(&c->rb, &dlen) < 0)
				return PGO_DEC_TRUNCATED;
			if (dlen < 0) {
				pgo_set_error(dec, "negative length %d in column %u of %s message",
				              dlen, i, c->name);
				return -1;
			}
			if (rbuf_get_bytes(&c->rb, (size_t)dlen, &p) < 0) {
				pgo_set_error(dec,
				              "column %u length %d exceeds %zu bytes left in %s", i,
				              dlen, rbuf_remaining(&c->rb), c->name);
				return -1;
			}
			d->len = (uint32_t)dlen;
			d->data = (const char *)p;
			break;
		default:
			pgo_set_error(dec, "unknown column kind %s in column %u of %s message",
			              pgo_fmt_byte(kb, kind), i, c->name);
			return -1;
		}
	}
	out->ncols = ncols;
	out->cols = cols;
	return 0;
}

/* Reads a tuple marker byte; rejects bytes that are no marker at all. */
static int
pgo_read_marker(struct pgo_ctx *c, uint8_t *out)
{
	uint8_t m;
	char mb[8];

	if (rbuf_get_u8(&c->rb, &m) < 0)
		return PGO_DEC_TRUNCATED;
	if (m != 'K' && m != 'O' && m != 'N') {
		pgo_set_error(c->dec, "unknown tuple marker %s in %s message", pgo_fmt_byte(mb, m),
		              c->name);
		return -1;
	}
	*out = m;
	return 0;
}

static int
pgo_unexpected_marker(struct pgo_ctx *c, uint8_t m, const char *expected)
{
	char mb[8];

	pgo_set_error(c->dec, "tuple marker %s in %s message, expected %s", pgo_fmt_byte(mb, m),
	              c->name, expected);
	return -1;
}

static int
pgo_decode_begin(struct pgo_ctx *c, struct pgo_begin *b)
{
	if (rbuf_get_u64(&c->rb, &b->final_lsn) < 0 || rbuf_get_i64(&c->rb, &b->commit_time) < 0 ||
	    rbuf_get_u32(&c->rb, &b->xid) < 0)
		return PGO_DEC_TRUNCATED;
	return 0;
}

static int
pgo_decode_commit(struct pgo_ctx *c, struct pgo_commit *cm)
{
	if (rbuf_get_u8(&c->rb, &cm->flags) < 0)
		return PGO_DEC_TRUNCATED;
	/* No flags are defined; a non-zero value means a protocol we do not understand. */
	if (cm->flags != 0) {
		pgo_set_error(c->dec, "Commit flags 0x%02x, expected 0", cm->flags);
		return -1;
	}
	if (rbuf_get_u64(&c->rb, &cm->commit_lsn) < 0 || rbuf_get_u64(&c->rb, &cm->end_lsn) < 0 ||
	    rbuf_get_i64(&c->rb, &cm->commit_time) < 0)
		return PGO_DEC_TRUNCATED;
	return 0;
}

static int
pgo_decode_origin(struct pgo_ctx *c, struct pgo_origin *o)
{
	if (rbuf_get_u64(&c->rb, &o->commit_lsn) < 0 || rbuf_get_cstring(&c->rb, &o->name) < 0)
		return PGO_DEC_TRUNCATED;
	return 0;
}

static int
pgo_decode_relation(struct pgo_ctx *c, struct pgo_relation *r)
{
	struct pgo_decoder *dec = c->dec;
	uint8_t ident;
	char ib[8];

	if (rbuf_get_u32(&c->rb, &r->relid) < 0 || rbuf_get_cstring(&c->rb, &r->nspname) < 0 ||
	    rbuf_get_cstring(&c->rb, &r->relname) < 0 || rbuf_get_u8(&c->rb, &ident) < 0)
		return PGO_DEC_TRUNCATED;
	if (ident != 'd' && ident != 'n' && ident != 'f' && ident != 'i') {
		pgo_set_error(dec, "unknown replica identity %s in Relation message",
		              pgo_fmt_byte(ib, ident));
		return -1;
	}
	r->replident = (char)ident;
	if (rbuf_get_u16(&c->rb, &r->ncols) < 0)
		return PGO_DEC_TRUNCATED;
	if (r->ncols > PGO_MAX_COLUMNS) {
		pgo_set_error(dec, "Relation has %u columns, more than %d", r->ncols,
		              PGO_MAX_COLUMNS);
		return -1;
	}
	dec->cols = xgrow(dec->cols, &dec->cols_cap, r->ncols, sizeof(*dec->cols));
	for (uint16_t i = 0; i < r->ncols; i++) {
		struct pgo_column *col = &dec->cols[i];

		if (rbuf_get_u8(&c->rb, &col->flags) < 0 ||
		    rbuf_get_cstring(&c->rb, &col->name) < 0 ||
		    rbuf_get_u32(&c->rb, &col->type_oid) < 0 ||
		    rbuf_get_i32(&c->rb, &col->typmod) < 0)
			return PGO_DEC_TRUNCATED;
	}
	r->cols = dec->cols;
	return 0;
}

static int
pgo_decode_type(struct pgo_ctx *c, struct pgo_typemsg *t)
{
	if (rbuf_get_u32(&c->rb, &t->type_oid) < 0 || rbuf_get_cstring(&c->rb, &t->nspname) < 0 ||
	    rbuf_get_cstring(&c->rb, &t->typname) < 0)
		return PGO_DEC_TRUNCATED;
	return 0;
}

static int
pgo_decode_insert(struct pgo_ctx *c, struct pgo_insert *ins)
{
	uint8_t m;
	int rc;

	if (rbuf_get_u32(&c->rb, &ins->relid) < 0)
		return PGO_DEC_TRUNCATED;
	if ((rc = pgo_read_marker(c, &m)) < 0)
		return rc;
	if (m != 'N')
		return pgo_unexpected_marker(c, m, "'N'");
	return pgo_read_tuple(c, PGO_SLOT_NEW, false, &ins->newtup);
}

static int
pgo_decode_update(struct pgo_ctx *c, struct pgo_update *up)
{
	uint8_t m;
	int rc;

	if (rbuf_get_u32(&c->rb, &up->relid) < 0)
		return PGO_DEC_TRUNCATED;
	if ((rc = pgo_read_marker(c, &m)) < 0)
		return rc;
	up->oldkind = 0;
	up->oldtup.ncols = 0;
	up->oldtup.cols = NULL;
	if (m == 'K' || m == 'O') {
		up->oldkind = (char)m;
		if ((rc = pgo_read_tuple(c, PGO_SLOT_OLD, false, &up->oldtup)) < 0)
			return rc;
		if ((rc = pgo_read_marker(c, &m)) < 0)
			return rc;
		if (m != 'N')
			return pgo_unexpected_marker(c, m, "'N'");
	}
	return pgo_read_tuple(c, PGO_SLOT_NEW, true, &up->newtup);
}

static int
pgo_decode_delete(struct pgo_ctx *c, struct pgo_delete *del)
{
	uint8_t m;
	int rc;

	if (rbuf_get_u32(&c->rb, &del->relid) < 0)
		return PGO_DEC_TRUNCATED;
	if ((rc = pgo_read_marker(c, &m)) < 0)
		return rc;
	if (m != 'K' && m != 'O')
		return pgo_unexpected_marker(c, m, "'K' or 'O'");
	del->oldkind = (char)m;
	return pgo_read_tuple(c, PGO_SLOT_OLD, false, &del->oldtup);
}

static int
pgo_decode_truncate(struct pgo_ctx *c, struct pgo_truncate *t)
{
	struct pgo_decoder *dec = c->dec;

	if (rbuf_get_u32(&c->rb, &t->nrels) < 0 || rbuf_get_u8(&c->rb, &t->flags) < 0)
		return PGO_DEC_TRUNCATED;
	if (t->flags & ~(PGO_TRUNCATE_CASCADE | PGO_TRUNCATE_RESTART_IDENTITY)) {
		pgo_set_error(dec, "unknown Truncate flags 0x%02x", t->flags);
		return -1;
	}
	/* Bound the count by the bytes present before allocating for it. */
	if (t->nrels > rbuf_remaining(&c->rb) / 4) {
		pgo_set_error(dec, "Truncate lists %u relations but only %zu bytes follow",
		              t->nrels, rbuf_remaining(&c->rb));
		return -1;
	}
	dec->relids = xgrow(dec->relids, &dec->relids_cap, t->nrels, sizeof(*dec->relids));
	for (uint32_t i = 0; i < t->nrels; i++) {
		if (rbuf_get_u32(&c->rb, &dec->relids[i]) < 0)
			return PGO_DEC_TRUNCATED;
	}
	t->relids = dec->relids;
	return 0;
}

static int
pgo_decode_message(struct pgo_ctx *c, struct pgo_message *msg)
{
	int32_t len;

	if (rbuf_get_u8(&c->rb, &msg->flags) < 0)
		return PGO_DEC_TRUNCATED;
	if (msg->flags & ~PGO_MESSAGE_TRANSACTIONAL) {
		pgo_set_error(c->dec, "unknown Message flags 0x%02x", msg->flags);
		return -1;
	}
	if (rbuf_get_u64(&c->rb, &msg->lsn) < 0 || rbuf_get_cstring(&c->rb, &msg->prefix) < 0 ||
	    rbuf_get_i32(&c->rb, &len) < 0)
		return PGO_DEC_TRUNCATED;
	if (len < 0) {
		pgo_set_error(c->dec, "negative content length %d in Message message", len);
		return -1;
	}
	if (rbuf_get_bytes(&c->rb, (size_t)len, &msg->content) < 0)
		return PGO_DEC_TRUNCATED;
	msg->len = (uint32_t)len;
	return 0;
}

int
pgo_decode(struct pgo_decoder *dec, const uint8_t *buf, size_t len, struct pgo_msg *out)
{
	struct pgo_ctx c;
	struct pgo_msg m;
	uint8_t type;
	char tb[8];
	int rc;

	memset(&m, 0, sizeof(m));
	c.dec = dec;
	rbuf_init(&c.rb, buf, len);
	if (rbuf_get_u8(&c.rb, &type) < 0) {
		pgo_set_error(dec, "empty pgoutput message");
		return -1;
	}
	c.name = pgo_type_name(type);
	if (c.name == NULL) {
		pgo_set_error(dec, "unknown pgoutput message type %s", pgo_fmt_byte(tb, type));
		return -1;
	}
	m.type = (enum pgo_type)type;
	switch (m.type) {
	case PGO_BEGIN:
		rc = pgo_decode_begin(&c, &m.u.begin);
		break;
	case PGO_COMMIT:
		rc = pgo_decode_commit(&c, &m.u.commit);
		break;
	case PGO_ORIGIN:
		rc = pgo_decode_origin(&c, &m.u.origin);
		break;
	case PGO_RELATION:
		rc = pgo_decode_relation(&c, &m.u.relation);
		break;
	case PGO_TYPE:
		rc = pgo_decode_type(&c, &m.u.typ);
		break;
	case PGO_INSERT:
		rc = pgo_decode_insert(&c, &m.u.insert);
		break;
	case PGO_UPDATE:
		rc = pgo_decode_update(&c, &m.u.update);
		break;
	case PGO_DELETE:
		rc = pgo_decode_delete(&c, &m.u.del);
		break;
	case PGO_TRUNCATE:
		rc = pgo_decode_truncate(&c, &m.u.truncate);
		break;
	case PGO_MESSAGE:
		rc = pgo_decode_message(&c, &m.u.message);
		break;
	default:
		rc = -1; /* unreachable: pgo_type_name() knows every type */
		pgo_set_error(dec, "unknown pgoutput message type %s", pgo_fmt_byte(tb, type));
		break;
	}
	if (rc == PGO_DEC_TRUNCATED) {
		pgo_set_error(dec, "truncated %s message", c.name);
		return -1;
	}
	if (rc < 0)
		return -1;
	if (rbuf_remaining(&c.rb) != 0) {
		pgo_set_error(dec, "%zu trailing bytes after %s message", rbuf_remaining(&c.rb),
		              c.name);
		return -1;
	}
	dec->errmsg[0] = '\0';
	*out = m;
	return 0;
}
