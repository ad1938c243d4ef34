/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Library logging: one handler for the process, stderr by default. */
#ifndef DBOX_LOG_H
#define DBOX_LOG_H

enum dbox_log_level {
	DBOX_LOG_DEBUG,
	DBOX_LOG_INFO,
	DBOX_LOG_WARNING,
	DBOX_LOG_ERROR,
};

typedef void dbox_log_handler_t(enum dbox_log_level level, const char *msg);

/* NULL restores the default (stderr, INFO and above; DBOX_DEBUG=1 in the
   environment shows DEBUG too). Log lines never contain mail content. */
void dbox_set_log_handler(dbox_log_handler_t *handler);
void dbox_log(enum dbox_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
