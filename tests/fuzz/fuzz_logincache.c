/* SPDX-License-Identifier: MIT */
/* libFuzzer target for src/logincache.c: any bytes as an entry or removal another worker
 * sent, taken twice (the second one against what the first left). What is taken must be
 * found, and encode to bytes that are taken as the same entry. */
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
	struct logincache *lc = logincache_new(), *again = logincache_new();
	struct logincache_entry *e;
	struct strbuf one, two;

	strbuf_init(&one);
	strbuf_init(&two);
	if (logincache_decode(lc, data, size, 0, INT64_MAX) == 0) {
		if (logincache_decode(lc, data, size, 0, INT64_MAX) != 0)
			abort();
		if (logincache_count(lc) == 1) {
			e = logincache_find(lc, data + 6, 0);
			if (e == NULL)
				abort();
			logincache_encode(e, &one);
			if (logincache_decode(again, (const uint8_t *)one.data, one.len, 0,
			                      INT64_MAX) != 0 ||
			    (e = logincache_find(again, data + 6, 0)) == NULL)
				abort();
			logincache_encode(e, &two);
			if (one.len != two.len || memcmp(one.data, two.data, one.len) != 0)
				abort();
		}
	}
	strbuf_free(&one);
	strbuf_free(&two);
	logincache_free(lc);
	logincache_free(again);
	return 0;
}
