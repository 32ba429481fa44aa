/* SPDX-License-Identifier: MIT */
/* Logging: one line per message on stderr, each carrying the process role and pid. */
#ifndef SQLEDGE_LOG_H
#define SQLEDGE_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Sets the role shown on every line ("master", "repl", "proxy#3") and re-reads the pid,
 * so it is called once at start and again in each child after fork(). */
void log_set_role(const char *role);
void log_set_level(enum log_level level);
/* Parses "error", "warning", "info", "debug"; returns -1 for anything else. */
int log_level_parse(const char *name, enum log_level *out);
enum log_level log_get_level(void);
const char *log_get_role(void);

/* The text of the last ERROR line this process logged ("" when none). */
const char *log_last_error(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOG_LEVEL_DEBUG)                                            \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
	} while (0)

#endif
