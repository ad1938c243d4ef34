/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmgroupd's log: lines on stderr. Under systemd (JOURNAL_STREAM set) each
 * line starts with the sd-daemon "<N>" priority so the journal keeps levels.
 */
#ifndef KSMGD_LOG_H
#define KSMGD_LOG_H

#include <stdbool.h>
#include <syslog.h>

void ksmgd_log_init(bool verbose);
void ksmgd_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define ksmgd_error(...)	ksmgd_log(LOG_ERR, __VA_ARGS__)
#define ksmgd_warning(...)	ksmgd_log(LOG_WARNING, __VA_ARGS__)
#define ksmgd_info(...)		ksmgd_log(LOG_INFO, __VA_ARGS__)
#define ksmgd_debug(...)	ksmgd_log(LOG_DEBUG, __VA_ARGS__)

#endif /* KSMGD_LOG_H */
