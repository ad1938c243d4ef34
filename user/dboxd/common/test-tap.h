/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP emitter for dboxd's unit tests (header only). */
#ifndef DBOXD_TEST_TAP_H
#define DBOXD_TEST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned int tap_count, tap_failed;

static inline bool tap_ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list args;

	printf("%sok %u - ", cond ? "" : "not ", ++tap_count);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline void tap_skip(const char *name, const char *why)
{
	printf("ok %u - %s # SKIP %s\n", ++tap_count, name, why);
}

static inline int tap_done(void)
{
	printf("1..%u\n", tap_count);
	return 0;
}

#endif
