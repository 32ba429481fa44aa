/* SPDX-License-Identifier: MIT */
/* libFuzzer target for src/classify.c: any bytes as a query string. The verdict must be one
 * of the two, a rejection must say why, and a LOCAL verdict must name only what fits. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct classify_result r;
	char *sql;
	size_t i;

	if (size > 100000)
		return 0;
	sql = xmalloc(size + 1);
	memcpy(sql, data, size);
	sql[size] = '\0';
	switch (classify_sql(sql, &r)) {
	case CLASSIFY_UPSTREAM:
		if (r.reason[0] == '\0' || r.nrels != 0)
			abort();
		break;
	case CLASSIFY_LOCAL:
		if (r.reason[0] != '\0' || r.nrels > CLASSIFY_MAX_RELS)
			abort();
		for (i = 0; i < r.nrels; i++)
			if (r.rels[i].name[0] == '\0' ||
			    memchr(r.rels[i].name, '\0', CLASSIFY_NAME_MAX) == NULL)
				abort();
		break;
	default:
		abort();
	}
	free(sql);
	return 0;
}
