/* SPDX-License-Identifier: MIT */
/* libFuzzer target for src/logincache.c: any bytes as an entry another worker sent. What is
 * taken must encode back to the same bytes, and be found. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logincache.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logincache *lc = logincache_new();
	struct logincache_entry *e;
	struct strbuf sb;

	strbuf_init(&sb);
	if (logincache_decode(lc, data, size, 0, INT64_MAX) == 0 && logincache_count(lc) == 1) {
		e = logincache_find(lc, data + 6, 0);
		if (e == NULL)
			abort();
		logincache_encode(e, &sb);
		if (sb.len != size || memcmp(sb.data, data, size) != 0)
			abort();
	}
	strbuf_free(&sb);
	logincache_free(lc);
	return 0;
}
