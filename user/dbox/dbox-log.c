// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "dbox-log.h"

static dbox_log_handler_t *log_handler;

static void default_handler(enum dbox_log_level level, const char *msg)
{
	static const char *const names[] = {
		"debug", "info", "warning", "error"
	};
	const char *env;

	if (level == DBOX_LOG_DEBUG) {
		env = getenv("DBOX_DEBUG");
		if (env == NULL || *env != '1')
			return;
	}
	fprintf(stderr, "dbox %s: %s\n", names[level], msg);
}

void dbox_set_log_handler(dbox_log_handler_t *handler)
{
	log_handler = handler;
}

void dbox_log(enum dbox_log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	(log_handler != NULL ? log_handler : default_handler)(level, buf);
}
