/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the wire codec: first-packet parsing of the raw input, then framing and
 * decoding every frontend message (and backend error fields) in it, with one long-lived decoder
 * so scratch-array growth is exercised. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pgwire.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps the touched bytes observable so the reads are not optimised away. */
static volatile size_t fuzz_sink;

static size_t
fuzz_touch_str(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

static size_t
fuzz_touch_bytes(const uint8_t *p, size_t n)
{
	size_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += p[i];
	return sum;
}

/* Touches every byte a decoded message points at, so ASan checks the pointers the decoder
 * hands out, not just the reads it makes itself. */
static size_t
fuzz_touch_msg(const struct pgw_msg *m)
{
	size_t sum = 0;

	switch (m->type) {
	case PGW_QUERY:
		sum += fuzz_touch_str(m->u.query.sql);
		break;
	case PGW_PARSE:
		sum += fuzz_touch_str(m->u.parse.name) + fuzz_touch_str(m->u.parse.query);
		for (uint16_t i = 0; i < m->u.parse.nparam_types; i++)
			sum += m->u.parse.param_types[i];
		break;
	case PGW_BIND: {
		const struct pgw_bind *b = &m->u.bind;

		sum += fuzz_touch_str(b->portal) + fuzz_touch_str(b->stmt);
		for (uint16_t i = 0; i < b->nparams; i++) {
			sum += (size_t)pgw_bind_param_format(b, i);
			if (b->params[i].len >= 0)
				sum += fuzz_touch_bytes(b->params[i].data,
				                        (size_t)b->params[i].len);
		}
		for (uint16_t i = 0; i < b->nresult_formats; i++)
			sum += (size_t)pgw_bind_result_format(b, i);
		break;
	}
	case PGW_DESCRIBE:
		sum += (size_t)m->u.describe.kind + fuzz_touch_str(m->u.describe.name);
		break;
	case PGW_CLOSE:
		sum += (size_t)m->u.close.kind + fuzz_touch_str(m->u.close.name);
		break;
	case PGW_EXECUTE:
		sum += fuzz_touch_str(m->u.execute.portal) + (size_t)m->u.execute.max_rows;
		break;
	case PGW_COPY_DATA:
		sum += fuzz_touch_bytes(m->u.copy_data.data, m->u.copy_data.len);
		break;
	case PGW_COPY_FAIL:
		sum += fuzz_touch_str(m->u.copy_fail.reason);
		break;
	case PGW_PASSWORD:
		sum += fuzz_touch_bytes(m->u.password.data, m->u.password.len);
		break;
	default:
		break;
	}
	return sum;
}

static size_t
fuzz_touch_error(const struct pgw_error_fields *f)
{
	return fuzz_touch_str(f->severity) + fuzz_touch_str(f->severity_nl) +
	       fuzz_touch_str(f->code) + fuzz_touch_str(f->message) + fuzz_touch_str(f->detail) +
	       fuzz_touch_str(f->hint) + fuzz_touch_str(f->position) + fuzz_touch_str(f->where) +
	       fuzz_touch_str(f->schema) + fuzz_touch_str(f->table) + fuzz_touch_str(f->column) +
	       fuzz_touch_str(f->datatype) + fuzz_touch_str(f->constraint);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pgw_decoder dec; /* zeroed = initialised; reused so scratch arrays grow */
	struct pgw_startup st;
	size_t off = 0, total;
	uint8_t type;
	int rc;

	/* The raw input as a first packet, and as a stream that starts with one. */
	rc = pgw_parse_startup(data, size, &st);
	if (rc == 0) {
		fuzz_sink += st.cancel_pid + fuzz_touch_str(st.user) + fuzz_touch_str(st.database);
		for (size_t i = 0; i < st.nparams; i++)
			fuzz_sink += fuzz_touch_str(st.params[i].name) +
			             fuzz_touch_str(st.params[i].value);
	} else {
		fuzz_sink += strlen(st.errmsg);
	}
	if (pgw_frame_startup(data, size, &total) == 0 && pgw_parse_startup(data, total, &st) == 0)
		off = total;

	/* The rest as a stream of typed messages. */
	while (off < size) {
		struct pgw_msg m;
		struct pgw_error_fields f;

		if (pgw_frame(data + off, size - off, PGW_STARTUP_MAX_LEN, &type, &total) != 0)
			break;
		if (pgw_decode(&dec, data + off, total, &m) == 0)
			fuzz_sink += fuzz_touch_msg(&m);
		else
			fuzz_sink += strlen(dec.errmsg);
		if (pgw_decode_error(&dec, data + off, total, &f) == 0)
			fuzz_sink += fuzz_touch_error(&f);
		off += total;
	}
	return 0;
}
