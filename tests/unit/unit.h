/* SPDX-License-Identifier: MIT */
/* A tiny assertion header for the C unit tests (automake TESTS: exit 0 pass, 1 fail). */
#ifndef SQLEDGE_UNIT_H
#define SQLEDGE_UNIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		unit_checks++;                                                                     \
		if (!(cond)) {                                                                     \
			unit_failures++;                                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		unit_checks++;                                                                     \
		if (a_ != b_) {                                                                    \
			unit_failures++;                                                           \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__,  \
			        #a, a_, b_);                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		unit_checks++;                                                                     \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                             \
			unit_failures++;                                                           \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
			        __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
		}                                                                                  \
	} while (0)

#define CHECK_MEM(p, n, expect, expect_n)                                                          \
	do {                                                                                       \
		unit_checks++;                                                                     \
		if ((size_t)(n) != (size_t)(expect_n) || memcmp((p), (expect), (n)) != 0) {        \
			unit_failures++;                                                           \
			fprintf(stderr, "%s:%d: %s differs from %s\n", __FILE__, __LINE__, #p,     \
			        #expect);                                                          \
		}                                                                                  \
	} while (0)

/* Removes every SQLEDGE_* variable, restarting after each since unsetenv() changes environ. */
static inline void
unit_clear_env(void)
{
	char **e, *name;
	bool again = true;

	while (again) {
		again = false;
		for (e = environ; *e; e++) {
			if (strncmp(*e, "SQLEDGE_", 8) != 0)
				continue;
			name = strndup(*e, strcspn(*e, "="));
			unsetenv(name);
			free(name);
			again = true;
			break;
		}
	}
}

/* Runs one test function and names it in the output. */
#define RUN(fn)                                                                                    \
	do {                                                                                       \
		int before_ = unit_failures;                                                       \
		fn();                                                                              \
		fprintf(stderr, "%s %s\n", unit_failures == before_ ? "ok  " : "FAIL", #fn);       \
	} while (0)

static inline int
unit_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses hex digits (anything else is ignored) into out; returns the byte count. An odd digit
 * count or an overflow is a typo in the test: abort. */
static inline size_t
hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = unit_hex_nibble(*s);

		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			abort();
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		abort();
	return n;
}

static inline int
unit_done(void)
{
	fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

#endif
