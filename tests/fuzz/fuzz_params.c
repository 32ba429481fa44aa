/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the Bind parameters a client sends for a local read (src/localread.c,
 * localread_bind_params): any bytes as a value of any compared type, in either format, with
 * any declared type. A value that is taken must be what the type's input function would read:
 * an integer within its type's range, text byte for byte as sent and valid UTF-8, the other
 * types in a stored form that reads back as itself. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "localread.h"
#include "pgvalue.h"
#include "pgwire.h"
#include "translate.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t fuzz_types[] = {0,
                                      PGV_OID_INT2,
                                      PGV_OID_INT4,
                                      PGV_OID_INT8,
                                      PGV_OID_OID,
                                      PGV_OID_BOOL,
                                      PGV_OID_TEXT,
                                      PGV_OID_VARCHAR,
                                      PGV_OID_NAME,
                                      PGV_OID_NUMERIC,
                                      PGV_OID_BPCHAR,
                                      PGV_OID_DATE,
                                      PGV_OID_TIMESTAMP,
                                      PGV_OID_TIMESTAMPTZ,
                                      PGV_OID_UUID,
                                      PGV_OID_FLOAT8,
                                      PGV_OID_INT4ARRAY,
                                      PGV_OID_TEXTARRAY};

static void
fuzz_range(uint32_t type, int64_t v)
{
	switch (type) {
	case PGV_OID_INT2:
		if (v < INT16_MIN || v > INT16_MAX)
			abort();
		break;
	case PGV_OID_INT4:
		if (v < INT32_MIN || v > INT32_MAX)
			abort();
		break;
	case PGV_OID_OID:
		if (v < 0 || v > UINT32_MAX)
			abort();
		break;
	case PGV_OID_BOOL:
		if (v != 0 && v != 1)
			abort();
		break;
	default:
		break;
	}
}

/* data: column type, declared type, flags (1 binary, 2 LIMIT, 4 NULL), then the value. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct translate_result tr;
	struct localread_binds binds;
	struct pgw_bind_param prm;
	struct pgw_bind bind;
	uint32_t col, declared;
	int16_t fmt;
	uint8_t flags;

	if (size < 3)
		return 0;
	col = fuzz_types[1 + data[0] % (ARRAY_SIZE(fuzz_types) - 1)];
	declared = fuzz_types[data[1] % ARRAY_SIZE(fuzz_types)];
	flags = data[2];
	memset(&tr, 0, sizeof(tr));
	tr.nparams = 1;
	tr.param_types[1] = (flags & 2) ? PGV_OID_INT8 : col;
	tr.param_limit = (flags & 2) ? 1 : 0;
	fmt = (flags & 1) ? PGW_FORMAT_BINARY : PGW_FORMAT_TEXT;
	prm.len = (flags & 4) ? -1 : (int32_t)(size - 3);
	prm.data = (flags & 4) ? NULL : data + 3;
	memset(&bind, 0, sizeof(bind));
	bind.portal = "";
	bind.stmt = "";
	bind.nformats = 1;
	bind.formats = &fmt;
	bind.nparams = 1;
	bind.params = &prm;
	if (localread_bind_params(&tr, &declared, 1, &bind, &binds) < 0) {
		if (binds.n != 0)
			abort();
		return 0;
	}
	if (binds.n != 1)
		abort();
	switch (binds.v[0].kind) {
	case SQLSHAPE_NULL:
		if (prm.len >= 0 || (flags & 2))
			abort(); /* LIMIT NULL is LIMIT ALL upstream: never bound here */
		break;
	case SQLSHAPE_INT:
		fuzz_range(declared ? declared : tr.param_types[1], binds.v[0].i);
		if ((flags & 2) && binds.v[0].i < 0)
			abort();
		break;
	case SQLSHAPE_STR:
		if (col == PGV_OID_TEXT || col == PGV_OID_VARCHAR || col == PGV_OID_NAME ||
		    col == PGV_OID_BPCHAR) {
			/* text is taken byte for byte */
			if (strlen(binds.v[0].s) != (size_t)prm.len ||
			    memcmp(binds.v[0].s, prm.data, (size_t)prm.len) != 0 ||
			    !utf8_is_valid(prm.data, (size_t)prm.len))
				abort();
		} else if (col != PGV_OID_INT4ARRAY && col != PGV_OID_TEXTARRAY) {
			/* the others in their stored form, which reads back as itself */
			struct sqlshape_lit again;

			if (translate_input(col, binds.v[0].s, strlen(binds.v[0].s), &again) == 0) {
				if (again.kind != SQLSHAPE_STR ||
				    strcmp(again.s, binds.v[0].s) != 0)
					abort();
				free(again.s);
			}
		}
		break;
	default:
		abort();
	}
	localread_binds_free(&binds);
	return 0;
}
