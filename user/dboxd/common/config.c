// SPDX-License-Identifier: GPL-2.0-or-later
/* Loading and checking the config file; see config.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "net.h"
#include "privsep.h"

static char config_error[1024];

static const char *config_err(const struct dboxd_config *config,
			      unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *config_err(const struct dboxd_config *config,
			      unsigned int line, const char *fmt, ...)
{
	char msg[768];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (config->path != NULL && line > 0)
		snprintf(config_error, sizeof(config_error), "%s:%u: %s",
			 config->path, line, msg);
	else if (config->path != NULL)
		snprintf(config_error, sizeof(config_error), "%s: %s",
			 config->path, msg);
	else
		snprintf(config_error, sizeof(config_error), "%s", msg);
	return config_error;
}

static void *set_ptr(struct dboxd_config *config,
		     const struct dboxd_setting_def *def)
{
	return (char *)&config->set + def->offset;
}

static const void *set_cptr(const struct dboxd_config *config,
			    const struct dboxd_setting_def *def)
{
	return (const char *)&config->set + def->offset;
}

int dboxd_parse_size(const char *str, uint64_t *bytes_r)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)*str))
		return -1;
	errno = 0;
	v = strtoull(str, &end, 10);
	if (errno != 0)
		return -1;
	while (*end == ' ')
		end++;
	if (*end == '\0' || strcasecmp(end, "b") == 0)
		mult = 1;
	else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0)
		mult = 1024;
	else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0)
		mult = 1024 * 1024;
	else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0)
		mult = 1024 * 1024 * 1024;
	else
		return -1;
	if (v > UINT64_MAX / mult)
		return -1;
	*bytes_r = v * mult;
	return 0;
}

int dboxd_parse_time(const char *str, unsigned int *msecs_r)
{
	static const struct {
		const char *suffix;
		unsigned int ms;
	} units[] = {
		{ "", 1000 }, { "ms", 1 }, { "msec", 1 }, { "msecs", 1 },
		{ "s", 1000 }, { "sec", 1000 }, { "secs", 1000 },
		{ "m", 60000 }, { "min", 60000 }, { "mins", 60000 },
		{ "h", 3600000 }, { "hour", 3600000 }, { "hours", 3600000 },
		{ "d", 86400000 }, { "day", 86400000 }, { "days", 86400000 },
	};
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*str))
		return -1;
	errno = 0;
	v = strtoull(str, &end, 10);
	if (errno != 0)
		return -1;
	while (*end == ' ')
		end++;
	for (unsigned int i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			/* ~49 days in ms fits an unsigned int */
			if (v > UINT_MAX / units[i].ms)
				return -1;
			*msecs_r = (unsigned int)(v * units[i].ms);
			return 0;
		}
	}
	return -1;
}

int dboxd_parse_bool(const char *str, bool *value_r)
{
	if (strcasecmp(str, "yes") == 0 || strcasecmp(str, "true") == 0 ||
	    strcmp(str, "1") == 0)
		*value_r = true;
	else if (strcasecmp(str, "no") == 0 || strcasecmp(str, "false") == 0 ||
		 strcmp(str, "0") == 0)
		*value_r = false;
	else
		return -1;
	return 0;
}

static bool enum_allowed(const char *values, const char *value)
{
	size_t len = strlen(value);

	for (const char *p = values; *p != '\0';) {
		const char *bar = strchr(p, '|');
		size_t n = bar == NULL ? strlen(p) : (size_t)(bar - p);

		if (n == len && strncmp(p, value, n) == 0)
			return true;
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	return false;
}

static int parse_uint(const struct dboxd_setting_def *def, const char *value,
		      unsigned int *v_r)
{
	unsigned long long v, min = 0, max = UINT_MAX;
	char *end;

	if (!isdigit((unsigned char)*value))
		return -1;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	if (def->values != NULL &&
	    sscanf(def->values, "%llu-%llu", &min, &max) != 2)
		return -1;
	if (v < min || v > max)
		return -1;
	*v_r = (unsigned int)v;
	return 0;
}

int dboxd_config_set(struct dboxd_config *config, const char *name,
		     const char *value, unsigned int line,
		     const char **error_r)
{
	const struct dboxd_setting_def *def = dboxd_setting_find(name);
	void *p;

	if (def == NULL) {
		*error_r = config_err(config, line, "unknown setting '%s'",
				      name);
		return -1;
	}
	p = set_ptr(config, def);
	switch (def->type) {
	case DBOXD_SET_ENUM:
		if (!enum_allowed(def->values, value)) {
			*error_r = config_err(config, line,
					      "%s: '%s' is not one of %s",
					      name, value, def->values);
			return -1;
		}
		/* fall through */
	case DBOXD_SET_STR: {
		char *copy = strdup(value);

		if (copy == NULL)
			dboxd_fatal("out of memory");
		free(*(char **)p);
		*(char **)p = copy;
		break;
	}
	case DBOXD_SET_BOOL:
		if (dboxd_parse_bool(value, p) < 0) {
			*error_r = config_err(config, line,
					      "%s: '%s' is not yes or no",
					      name, value);
			return -1;
		}
		break;
	case DBOXD_SET_UINT:
		if (parse_uint(def, value, p) < 0) {
			*error_r = config_err(config, line,
					      "%s: '%s' is not a number%s%s",
					      name, value,
					      def->values ? " in " : "",
					      def->values ? def->values : "");
			return -1;
		}
		break;
	case DBOXD_SET_SIZE:
		if (dboxd_parse_size(value, p) < 0) {
			*error_r = config_err(config, line,
					      "%s: '%s' is not a size (like 64k, 50M)",
					      name, value);
			return -1;
		}
		break;
	case DBOXD_SET_TIME:
		if (dboxd_parse_time(value, p) < 0) {
			*error_r = config_err(config, line,
					      "%s: '%s' is not a duration (like 500ms, 2s, 30min)",
					      name, value);
			return -1;
		}
		break;
	}
	config->lines[def - dboxd_setting_defs] = line;
	return 0;
}

struct dboxd_config *dboxd_config_new(void)
{
	struct dboxd_config *config = calloc(1, sizeof(*config));
	const char *error;

	if (config == NULL)
		dboxd_fatal("out of memory");
	config->lines = calloc(dboxd_setting_count, sizeof(*config->lines));
	if (config->lines == NULL)
		dboxd_fatal("out of memory");
	for (unsigned int i = 0; i < dboxd_setting_count; i++) {
		const struct dboxd_setting_def *def = &dboxd_setting_defs[i];

		if (dboxd_config_set(config, def->name, def->default_value, 0,
				     &error) < 0)
			dboxd_fatal("bad default: %s", error);
	}
	return config;
}

void dboxd_config_free(struct dboxd_config **_config)
{
	struct dboxd_config *config = *_config;

	if (config == NULL)
		return;
	*_config = NULL;
	for (unsigned int i = 0; i < dboxd_setting_count; i++) {
		const struct dboxd_setting_def *def = &dboxd_setting_defs[i];

		if (def->type == DBOXD_SET_STR || def->type == DBOXD_SET_ENUM)
			free(*(char **)set_ptr(config, def));
	}
	free(config->lines);
	free(config->path);
	free(config);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Split "name = value" in place; handles quotes and trailing comments. */
static int config_parse_line(struct dboxd_config *config, char *line,
			     unsigned int lineno, const char **error_r)
{
	char *eq, *name, *value, *p;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (eq == NULL) {
		*error_r = config_err(config, lineno,
				      "expected 'name = value'");
		return -1;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (*value == '"') {
		p = strchr(value + 1, '"');
		if (p == NULL) {
			*error_r = config_err(config, lineno,
					      "unterminated quoted value");
			return -1;
		}
		*p = '\0';
		if (*trim(p + 1) != '\0' && *trim(p + 1) != '#') {
			*error_r = config_err(config, lineno,
					      "junk after the quoted value");
			return -1;
		}
		value++;
	} else {
		for (p = value; *p != '\0'; p++) {
			if (*p == '#' && p > value &&
			    (p[-1] == ' ' || p[-1] == '\t')) {
				*p = '\0';
				value = trim(value);
				break;
			}
		}
	}
	for (p = name; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			*error_r = config_err(config, lineno,
					      "bad setting name '%s'", name);
			return -1;
		}
	}
	return dboxd_config_set(config, name, value, lineno, error_r);
}

int dboxd_config_load(const char *path, struct dboxd_config **config_r,
		      const char **error_r)
{
	struct dboxd_config *config = dboxd_config_new();
	char *line = NULL;
	size_t size = 0;
	unsigned int lineno = 0;
	FILE *f;

	config->path = strdup(path);
	if (config->path == NULL)
		dboxd_fatal("out of memory");
	f = fopen(path, "re");
	if (f == NULL) {
		*error_r = config_err(config, 0, "cannot open: %s",
				      strerror(errno));
		goto free_config;
	}
	while (getline(&line, &size, f) >= 0) {
		lineno++;
		if (strlen(line) > 4096) {
			*error_r = config_err(config, lineno, "line too long");
			goto close_file;
		}
		if (config_parse_line(config, line, lineno, error_r) < 0)
			goto close_file;
	}
	if (ferror(f)) {
		*error_r = config_err(config, lineno, "read error");
		goto close_file;
	}
	free(line);
	fclose(f);
	if (dboxd_config_check(config, error_r) < 0)
		goto free_config;
	*config_r = config;
	return 0;

close_file:
	free(line);
	fclose(f);
free_config:
	dboxd_config_free(&config);
	return -1;
}

static unsigned int line_of(const struct dboxd_config *config,
			    const char *name)
{
	const struct dboxd_setting_def *def = dboxd_setting_find(name);

	return config->lines[def - dboxd_setting_defs];
}

static int check_listen(struct dboxd_config *config, const char *name,
			const char *value, const char **error_r)
{
	struct dboxd_listen_addr *addrs;
	unsigned int count;
	const char *error;

	if (dboxd_listen_parse(value, &addrs, &count, &error) < 0) {
		*error_r = config_err(config, line_of(config, name), "%s: %s",
				      name, error);
		return -1;
	}
	free(addrs);
	return 0;
}

static int check_user(struct dboxd_config *config, const char *name,
		      const char *value, const char **error_r)
{
	uid_t uid;
	gid_t gid;
	const char *error;

	if (dboxd_user_parse(value, &uid, &gid, &error) < 0) {
		*error_r = config_err(config, line_of(config, name), "%s: %s",
				      name, error);
		return -1;
	}
	if (uid == 0 || gid == 0) {
		*error_r = config_err(config, line_of(config, name),
				      "%s: must not be root", name);
		return -1;
	}
	return 0;
}

int dboxd_config_check(struct dboxd_config *config, const char **error_r)
{
	struct dboxd_settings *set = &config->set;
	const char *ml = set->mail_location;

	if (check_listen(config, "imap_listen", set->imap_listen, error_r) < 0 ||
	    check_listen(config, "imaps_listen", set->imaps_listen, error_r) < 0 ||
	    check_listen(config, "lmtp_listen", set->lmtp_listen, error_r) < 0)
		return -1;
	if (set->imaps_listen[0] != '\0' && set->ssl_cert[0] == '\0') {
		*error_r = config_err(config, line_of(config, "imaps_listen"),
				      "imaps_listen needs ssl_cert and ssl_key");
		return -1;
	}
	if ((set->ssl_cert[0] == '\0') != (set->ssl_key[0] == '\0')) {
		*error_r = config_err(config, line_of(config,
				set->ssl_cert[0] == '\0' ? "ssl_key" : "ssl_cert"),
				"ssl_cert and ssl_key go together");
		return -1;
	}
	if (set->lmtp_require_tls && set->ssl_cert[0] == '\0') {
		*error_r = config_err(config, line_of(config, "lmtp_require_tls"),
				      "lmtp_require_tls needs ssl_cert and ssl_key");
		return -1;
	}
	if (check_user(config, "login_user", set->login_user, error_r) < 0 ||
	    check_user(config, "auth_user", set->auth_user, error_r) < 0)
		return -1;
	if (strncmp(ml, "sdbox:", 6) != 0 && strncmp(ml, "mdbox:", 6) != 0) {
		*error_r = config_err(config, line_of(config, "mail_location"),
				      "mail_location must start with sdbox: or mdbox:");
		return -1;
	}
	if (ml[6] != '/' && ml[6] != '~') {
		*error_r = config_err(config, line_of(config, "mail_location"),
				      "mail_location needs an absolute path or ~/");
		return -1;
	}
	if (set->imap_max_line_length < 1024 ||
	    set->imap_max_line_length > 1024 * 1024) {
		*error_r = config_err(config,
				      line_of(config, "imap_max_line_length"),
				      "imap_max_line_length must be 1k to 1M");
		return -1;
	}
	if (set->imap_max_literal_size < 1024 ||
	    set->imap_max_literal_size > 1024ULL * 1024 * 1024) {
		*error_r = config_err(config,
				      line_of(config, "imap_max_literal_size"),
				      "imap_max_literal_size must be 1k to 1G");
		return -1;
	}
	if (set->auth_failure_delay_max < set->auth_failure_delay) {
		*error_r = config_err(config,
				      line_of(config, "auth_failure_delay_max"),
				      "auth_failure_delay_max is below auth_failure_delay");
		return -1;
	}
	if (set->last_valid_uid != 0 &&
	    set->last_valid_uid < set->first_valid_uid) {
		*error_r = config_err(config, line_of(config, "last_valid_uid"),
				      "last_valid_uid is below first_valid_uid");
		return -1;
	}
	if (set->base_dir[0] != '/') {
		*error_r = config_err(config, line_of(config, "base_dir"),
				      "base_dir must be an absolute path");
		return -1;
	}
	return 0;
}

static void format_size(uint64_t v, char *buf, size_t size)
{
	static const char suffix[] = "kMG";
	int i = -1;

	while (v >= 1024 && v % 1024 == 0 && i < 2) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, size, "%" PRIu64, v);
	else
		snprintf(buf, size, "%" PRIu64 "%c", v, suffix[i]);
}

static void format_time(unsigned int ms, char *buf, size_t size)
{
	if (ms % 3600000 == 0 && ms != 0)
		snprintf(buf, size, "%uh", ms / 3600000);
	else if (ms % 60000 == 0 && ms != 0)
		snprintf(buf, size, "%umin", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%us", ms / 1000);
	else
		snprintf(buf, size, "%ums", ms);
}

void dboxd_config_format(const struct dboxd_config *config,
			 const struct dboxd_setting_def *def, char *buf,
			 size_t size)
{
	const void *p = set_cptr(config, def);

	switch (def->type) {
	case DBOXD_SET_STR:
	case DBOXD_SET_ENUM:
		snprintf(buf, size, "%s", *(char *const *)p);
		break;
	case DBOXD_SET_BOOL:
		snprintf(buf, size, "%s", *(const bool *)p ? "yes" : "no");
		break;
	case DBOXD_SET_UINT:
		snprintf(buf, size, "%u", *(const unsigned int *)p);
		break;
	case DBOXD_SET_SIZE:
		format_size(*(const uint64_t *)p, buf, size);
		break;
	case DBOXD_SET_TIME:
		format_time(*(const unsigned int *)p, buf, size);
		break;
	}
}

void dboxd_config_print(const struct dboxd_config *config, FILE *out,
			bool all)
{
	struct dboxd_config *defaults = dboxd_config_new();

	for (unsigned int i = 0; i < dboxd_setting_count; i++) {
		const struct dboxd_setting_def *def = &dboxd_setting_defs[i];
		char value[4096], dvalue[4096];

		dboxd_config_format(config, def, value, sizeof(value));
		dboxd_config_format(defaults, def, dvalue, sizeof(dvalue));
		if (!all && strcmp(value, dvalue) == 0)
			continue;
		if (all)
			fprintf(out, "# %s\n", def->description);
		if (value[0] == '\0' || strchr(value, '#') != NULL ||
		    value[0] == ' ' || value[strlen(value) - 1] == ' ')
			fprintf(out, "%s = \"%s\"\n", def->name, value);
		else
			fprintf(out, "%s = %s\n", def->name, value);
	}
	dboxd_config_free(&defaults);
}
