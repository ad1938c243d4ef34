// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging to stderr or syslog; see log.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static bool log_syslog;
static enum dboxd_log_level log_min = DBOXD_LOG_INFO;
static char log_role[64] = "dboxd";

static const char *const level_names[] = {
	[DBOXD_LOG_DEBUG] = "debug",
	[DBOXD_LOG_INFO] = "info",
	[DBOXD_LOG_WARNING] = "warning",
	[DBOXD_LOG_ERROR] = "error",
	[DBOXD_LOG_FATAL] = "fatal",
};

static const int level_prio[] = {
	[DBOXD_LOG_DEBUG] = LOG_DEBUG,
	[DBOXD_LOG_INFO] = LOG_INFO,
	[DBOXD_LOG_WARNING] = LOG_WARNING,
	[DBOXD_LOG_ERROR] = LOG_ERR,
	[DBOXD_LOG_FATAL] = LOG_CRIT,
};

void dboxd_log_open(bool target_syslog, int facility,
		    enum dboxd_log_level min_level)
{
	if (log_syslog && !target_syslog)
		closelog();
	log_syslog = target_syslog;
	log_min = min_level;
	if (target_syslog)
		openlog("dboxd", LOG_PID | LOG_NDELAY, facility);
}

void dboxd_log_set_role(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
}

enum dboxd_log_level dboxd_log_get_level(void)
{
	return log_min;
}

int dboxd_log_level_parse(const char *name, enum dboxd_log_level *level_r)
{
	for (unsigned int i = 0; i < DBOXD_LOG_FATAL; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level_r = i;
			return 0;
		}
	}
	return -1;
}

void dboxd_logv(enum dboxd_log_level level, const char *fmt, va_list args)
{
	char msg[2048];
	int saved_errno = errno;

	if (level < log_min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, args);
	/* One write per line so lines of several processes sharing stderr
	   do not interleave. */
	if (log_syslog) {
		syslog(level_prio[level], "%s: %s", log_role, msg);
	} else {
		char line[2300];
		struct timespec ts;
		struct tm tm;
		int n;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
			     "%04d-%02d-%02d %02d:%02d:%02d.%03ld dboxd[%d] %s: %s: %s\n",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000, (int)getpid(), log_role,
			     level_names[level], msg);
		if (n > (int)sizeof(line) - 1) {
			n = sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		if (write(STDERR_FILENO, line, n) < 0) {
			/* nowhere left to report it */
		}
	}
	errno = saved_errno;
}

void dboxd_log(enum dboxd_log_level level, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	dboxd_logv(level, fmt, args);
	va_end(args);
}

void dboxd_fatal(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	dboxd_logv(DBOXD_LOG_FATAL, fmt, args);
	va_end(args);
	_exit(DBOXD_EXIT_FATAL);
}
