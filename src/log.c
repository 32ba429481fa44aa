/* SPDX-License-Identifier: MIT */
/* Logging: one line per message on stderr, each carrying the process role and pid. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char log_role[32] = "sqledge";
static pid_t log_pid;
static enum log_level log_level = LOG_LEVEL_INFO;
static char log_last[512];

static const char *const log_level_names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

void
log_set_role(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
	log_pid = getpid();
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

const char *
log_get_role(void)
{
	return log_role;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	if (strcasecmp(name, "error") == 0)
		*out = LOG_LEVEL_ERROR;
	else if (strcasecmp(name, "warning") == 0 || strcasecmp(name, "warn") == 0)
		*out = LOG_LEVEL_WARN;
	else if (strcasecmp(name, "info") == 0)
		*out = LOG_LEVEL_INFO;
	else if (strcasecmp(name, "debug") == 0)
		*out = LOG_LEVEL_DEBUG;
	else
		return -1;
	return 0;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[4096];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	size_t n, hdr;
	int saved_errno = errno;
	int r;

	if (level > log_level)
		return;
	if (log_pid == 0)
		log_pid = getpid();

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03d UTC %s[%d] %s: ", (int)(tv.tv_usec / 1000),
	             log_role, (int)log_pid, log_level_names[level]);
	if (r > 0)
		n += (size_t)r;
	hdr = n;

	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	if (level == LOG_LEVEL_ERROR)
		snprintf(log_last, sizeof(log_last), "%.*s", (int)(n - hdr), line + hdr);
	/* one write() per line so lines of concurrent processes never interleave */
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved_errno;
}

const char *
log_last_error(void)
{
	return log_last;
}
