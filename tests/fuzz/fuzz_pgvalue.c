/* SPDX-License-Identifier: MIT */
/* libFuzzer target for src/pgvalue.c: splits the input as a COPY text row, then converts every
 * field and the raw input as each kind. Buffers are exactly sized so ASan sees over-reads. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgvalue.h"
#include "util.h"

#define FUZZ_MAX_FIELDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum pgv_kind fuzz_kinds[] = {
        PGV_TEXT, PGV_BOOL, PGV_INT, PGV_FLOAT, PGV_NUMERIC, PGV_BYTEA,
};

/* The output direction: the shortest digits read back as the same double, and float4
 * output as the same float. */
static void
fuzz_float_out(double d)
{
	struct strbuf sb;

	strbuf_init(&sb);
	pgv_float_out(d, false, 1, &sb);
	if (strtod(strbuf_str(&sb), NULL) != d && !isinf(d))
		abort();
	strbuf_reset(&sb);
	pgv_float_out(d, true, 1, &sb);
	if (!isinf((float)d) && strtof(strbuf_str(&sb), NULL) != (float)d)
		abort();
	strbuf_reset(&sb);
	pgv_float_out(d, false, -15, &sb);
	strbuf_free(&sb);
}

/* Text as each stored-as-text type with a binary encoder: a refusal appends nothing. */
static void
fuzz_binary(const char *text, size_t len)
{
	static const uint32_t oids[] = {1082, 1114, 1184, 1700, 2950, 3802};
	struct pgv_value v = {.type = PGV_VAL_TEXT, .p = text, .len = len};
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(oids); i++) {
		strbuf_reset(&sb);
		strbuf_puts(&sb, "x");
		if (pgv_to_binary(oids[i], &v, &sb) < 0 && sb.len != 1)
			abort();
	}
	strbuf_free(&sb);
}

/* Converts text[0..len) as every kind from a copy of exactly len bytes, and checks the
 * invariants the callers rely on. */
static void
fuzz_convert(const char *text, size_t len, struct strbuf *scratch)
{
	char *copy = xmalloc(len);
	size_t i;

	if (len)
		memcpy(copy, text, len);
	fuzz_binary(copy, len);
	for (i = 0; i < ARRAY_SIZE(fuzz_kinds); i++) {
		struct pgv_value v;

		if (pgv_from_text(fuzz_kinds[i], copy, len, scratch, &v) < 0)
			continue;
		switch (v.type) {
		case PGV_VAL_TEXT:
			if (v.p != copy || v.len != len)
				abort();
			break;
		case PGV_VAL_BLOB:
			/* bytea's decoded bytes; a float -0 keeps its sign as the BLOB "-0" */
			if (fuzz_kinds[i] == PGV_FLOAT ? v.len != 2 || memcmp(v.p, "-0", 2) != 0
			                               : v.p == NULL || v.len != (len - 2) / 2)
				abort();
			break;
		case PGV_VAL_REAL:
			if (v.d != v.d)
				abort(); /* a NaN double would be stored as NULL */
			fuzz_float_out(v.d);
			break;
		case PGV_VAL_INT:
			break;
		default:
			abort();
		}
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgv_field fields[FUZZ_MAX_FIELDS];
	struct strbuf scratch;
	char *row = xmalloc(size + 1);
	int n, i;

	strbuf_init(&scratch);
	memcpy(row, data, size);
	row[size] = '\0';
	n = pgv_copy_split(row, size, fields, FUZZ_MAX_FIELDS);
	if (n == 0 || n > FUZZ_MAX_FIELDS)
		abort();
	for (i = 0; i < n; i++) {
		/* fields are written in order over the row and never overlap */
		if (fields[i].p < row || fields[i].p + fields[i].len > row + size ||
		    fields[i].p[fields[i].len] != '\0' ||
		    (fields[i].is_null && fields[i].len != 0) ||
		    (i > 0 && fields[i].p <= fields[i - 1].p + fields[i - 1].len))
			abort();
		fuzz_convert(fields[i].p, fields[i].len, &scratch);
	}
	fuzz_convert((const char *)data, size, &scratch);
	strbuf_free(&scratch);
	free(row);
	return 0;
}
