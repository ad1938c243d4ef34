// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmgroupd's log; see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

static bool log_verbose;
static bool log_journal;

void ksmgd_log_init(bool verbose)
{
	log_verbose = verbose;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

static const char *level_name(int priority)
{
	switch (priority) {
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_DEBUG:
		return "debug";
	default:
		return "info";
	}
}

void ksmgd_log(int priority, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (priority == LOG_DEBUG && !log_verbose)
		return;
	if (log_journal) {
		fprintf(stderr, "<%d>", priority);
	} else {
		/* Monotonic seconds: tests line log lines up with exec times. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "[%ld.%06ld] ksmgroupd: %s: ", (long)ts.tv_sec,
			ts.tv_nsec / 1000, level_name(priority));
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
