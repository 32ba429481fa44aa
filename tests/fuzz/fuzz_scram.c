/* SPDX-License-Identifier: MIT */
/* libFuzzer target for src/scram.c: a client's SASL messages (any bytes as the mechanism,
 * the client-first and the client-final message, with and without channel binding) and any
 * bytes as an auth file. A proof is accepted only when it is right, which random bytes never
 * are. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scram.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_VERIFIER                                                                              \
	"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=" \
	":"                                                                                        \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

/* data: flags, then the client-first message up to a 0xff byte, then the final one */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cbind[32] = {7};
	struct scram_secret secret;
	struct scram_state st;
	struct scram_users *users = NULL;
	struct strbuf out, err;
	const uint8_t *sep;
	char why[256], *text;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	data++, size--;
	strbuf_init(&out);
	strbuf_init(&err);
	if (flags & 4) {
		text = xstrndup((const char *)data, size);
		if (scram_users_parse(text, "f", &users, &err) == 0)
			scram_users_free(users);
		free(text);
		goto out;
	}
	if (scram_secret_parse(FUZZ_VERIFIER, &secret) < 0)
		abort();
	scram_begin(&st, (flags & 1) ? &secret : NULL, (flags & 2) ? cbind : NULL,
	            (flags & 2) ? sizeof(cbind) : 0);
	sep = memchr(data, 0xff, size);
	if (scram_first(&st, (flags & 8) ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-256",
	                (const char *)data, sep ? (size_t)(sep - data) : size, NULL, &out, why,
	                sizeof(why)) == 0 &&
	    sep != NULL) {
		strbuf_reset(&out);
		if (scram_final(&st, (const char *)sep + 1, size - (size_t)(sep - data) - 1, &out,
		                why, sizeof(why)) == 1)
			abort(); /* a random proof that is right: the check is broken */
	}
	scram_end(&st);
	scram_secret_clear(&secret);
out:
	strbuf_free(&out);
	strbuf_free(&err);
	return 0;
}
