/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the replication codec: CopyData frame splitting and pgoutput decoding
 * of untrusted bytes, with one long-lived decoder so scratch-array growth is exercised. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pgoutput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps the touched bytes observable so the reads are not optimised away. */
static volatile size_t fuzz_sink;

/* Touches every byte a decoded message points at, so ASan checks the pointers the decoder
 * hands out, not just the reads it makes itself. */
static size_t
fuzz_touch_tuple(const struct pgo_tuple *t)
{
	size_t sum = 0;

	for (uint16_t i = 0; i < t->ncols; i++) {
		const struct pgo_datum *d = &t->cols[i];

		sum += (uint8_t)d->kind;
		for (uint32_t j = 0; j < d->len; j++)
			sum += (uint8_t)d->data[j];
	}
	return sum;
}

static size_t
fuzz_touch_msg(const struct pgo_msg *m)
{
	size_t sum = 0;

	switch (m->type) {
	case PGO_ORIGIN:
		sum += strlen(m->u.origin.name);
		break;
	case PGO_RELATION:
		sum += strlen(m->u.relation.nspname) + strlen(m->u.relation.relname);
		for (uint16_t i = 0; i < m->u.relation.ncols; i++)
			sum += strlen(m->u.relation.cols[i].name) + m->u.relation.cols[i].type_oid;
		break;
	case PGO_TYPE:
		sum += strlen(m->u.typ.nspname) + strlen(m->u.typ.typname);
		break;
	case PGO_INSERT:
		sum += fuzz_touch_tuple(&m->u.insert.newtup);
		break;
	case PGO_UPDATE:
		sum += fuzz_touch_tuple(&m->u.update.oldtup) +
		       fuzz_touch_tuple(&m->u.update.newtup);
		break;
	case PGO_DELETE:
		sum += fuzz_touch_tuple(&m->u.del.oldtup);
		break;
	case PGO_TRUNCATE:
		for (uint32_t i = 0; i < m->u.truncate.nrels; i++)
			sum += m->u.truncate.relids[i];
		break;
	case PGO_MESSAGE:
		sum += strlen(m->u.message.prefix);
		for (uint32_t i = 0; i < m->u.message.len; i++)
			sum += m->u.message.content[i];
		break;
	default:
		break;
	}
	return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pgo_decoder dec; /* zeroed = initialised; reused so scratch arrays grow */
	struct pgo_xlogdata x;
	struct pgo_keepalive ka;
	struct pgo_msg m;

	if (pgo_parse_frame(data, size, &x, &ka) == 'w' && pgo_decode(&dec, x.data, x.len, &m) == 0)
		fuzz_sink += fuzz_touch_msg(&m);
	if (pgo_decode(&dec, data, size, &m) == 0)
		fuzz_sink += fuzz_touch_msg(&m);
	return 0;
}
