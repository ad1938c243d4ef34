/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for every dboxd process: to stderr or syslog, with levels.
 * Each line names the role ("master", "login", "auth", "worker(alice)")
 * so that one stream from all processes can be read. Log lines never carry
 * passwords or mail content.
 */
#ifndef DBOXD_LOG_H
#define DBOXD_LOG_H

#include <stdbool.h>
#include <stdarg.h>

enum dboxd_log_level {
	DBOXD_LOG_DEBUG,
	DBOXD_LOG_INFO,
	DBOXD_LOG_WARNING,
	DBOXD_LOG_ERROR,
	DBOXD_LOG_FATAL,
};

/* Exit status of a process that stopped on a fatal error; the master
   restarts such a role with back-off. */
#define DBOXD_EXIT_FATAL 89

/* target_syslog: false = stderr. facility: a LOG_* facility. */
void dboxd_log_open(bool target_syslog, int facility,
		    enum dboxd_log_level min_level);
/* The role shown in every line; copied. */
void dboxd_log_set_role(const char *role);
enum dboxd_log_level dboxd_log_get_level(void);
/* Parse "debug", "info", "warning", "error". */
int dboxd_log_level_parse(const char *name, enum dboxd_log_level *level_r);

void dboxd_logv(enum dboxd_log_level level, const char *fmt, va_list args)
	__attribute__((format(printf, 2, 0)));
void dboxd_log(enum dboxd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Log at FATAL and _exit(DBOXD_EXIT_FATAL). */
void dboxd_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define dboxd_debug(...) do { \
	if (dboxd_log_get_level() <= DBOXD_LOG_DEBUG) \
		dboxd_log(DBOXD_LOG_DEBUG, __VA_ARGS__); \
} while (0)
#define dboxd_info(...)	dboxd_log(DBOXD_LOG_INFO, __VA_ARGS__)
#define dboxd_warn(...)	dboxd_log(DBOXD_LOG_WARNING, __VA_ARGS__)
#define dboxd_error(...) dboxd_log(DBOXD_LOG_ERROR, __VA_ARGS__)

#endif
