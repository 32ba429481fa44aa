/* SPDX-License-Identifier: MIT */
/* Failpoints for crash tests: SQLEDGE_FAILPOINTS="name[@N],..." arms named points at which the
 * process kills itself (SIGKILL, like kill -9) the Nth time it passes them. */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "failpoint.h"
#include "log.h"
#include "util.h"

#define FAILPOINT_MAX 16
#define FAILPOINT_NAME_MAX 64

struct failpoint {
	char name[FAILPOINT_NAME_MAX];
	uint32_t target; /* fire on this hit (1 = the first) */
	uint32_t hits;   /* updated atomically: proxy workers hit points from several threads */
};

static struct failpoint failpoints[FAILPOINT_MAX];
static size_t failpoint_count;

static int
failpoint_valid_name(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len >= FAILPOINT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == ':'))
			return 0;
	}
	return 1;
}

/* Arms one "name[@N]" entry; logs and ignores a malformed one. */
static void
failpoint_add(const char *entry)
{
	const char *at = strchr(entry, '@');
	size_t name_len = at ? (size_t)(at - entry) : strlen(entry);
	int64_t target = 1;
	struct failpoint *fp;

	if (!failpoint_valid_name(entry, name_len)) {
		log_error("ignoring SQLEDGE_FAILPOINTS entry \"%s\": bad failpoint name", entry);
		return;
	}
	if (at && parse_int64(at + 1, 1, UINT32_MAX, &target) < 0) {
		log_error("ignoring SQLEDGE_FAILPOINTS entry \"%s\": the count after '@' must be a "
		          "positive integer",
		          entry);
		return;
	}
	if (failpoint_count == FAILPOINT_MAX) {
		log_error("ignoring SQLEDGE_FAILPOINTS entry \"%s\": more than %d failpoints",
		          entry, FAILPOINT_MAX);
		return;
	}
	fp = &failpoints[failpoint_count++];
	memcpy(fp->name, entry, name_len);
	fp->name[name_len] = '\0';
	fp->target = (uint32_t)target;
	fp->hits = 0;
	log_info("failpoint \"%s\" armed: fires on hit %u", fp->name, fp->target);
}

void
failpoint_init(void)
{
	const char *env = getenv("SQLEDGE_FAILPOINTS");
	char *copy, *entry, *save = NULL;

	failpoint_count = 0;
	if (env == NULL || *env == '\0')
		return;
#ifndef SQLEDGE_FAILPOINTS
	log_warn("SQLEDGE_FAILPOINTS is set but this build has no failpoints "
	         "(configured with --disable-failpoints)");
#endif
	copy = xstrdup(env);
	for (entry = strtok_r(copy, ",", &save); entry != NULL;
	     entry = strtok_r(NULL, ",", &save)) {
		size_t n;

		entry += strspn(entry, " \t");
		n = strlen(entry);
		while (n > 0 && (entry[n - 1] == ' ' || entry[n - 1] == '\t'))
			entry[--n] = '\0';
		if (*entry == '\0')
			continue;
		failpoint_add(entry);
	}
	free(copy);
}

void
failpoint_hit(const char *name)
{
	size_t i;

	for (i = 0; i < failpoint_count; i++) {
		struct failpoint *fp = &failpoints[i];

		if (strcmp(fp->name, name) != 0)
			continue;
		if (__atomic_add_fetch(&fp->hits, 1, __ATOMIC_RELAXED) == fp->target) {
			log_warn("failpoint \"%s\" reached", name);
			raise(SIGKILL);
		}
	}
}
