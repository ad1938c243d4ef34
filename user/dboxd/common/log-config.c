// SPDX-License-Identifier: GPL-2.0-or-later
/* Applying the log settings of a config; used by every role. */
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "log.h"

static int facility_parse(const char *name)
{
	static const struct {
		const char *name;
		int facility;
	} f[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};

	for (unsigned int i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (strcmp(f[i].name, name) == 0)
			return f[i].facility;
	}
	return LOG_MAIL;
}

void dboxd_log_apply(const struct dboxd_settings *set)
{
	enum dboxd_log_level level = DBOXD_LOG_INFO;

	(void)dboxd_log_level_parse(set->log_level, &level);
	dboxd_log_open(strcmp(set->log_target, "syslog") == 0,
		       facility_parse(set->syslog_facility), level);
}
