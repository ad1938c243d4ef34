// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Parsing a rule: "match = exe=/usr/lib/dovecot/imap user=vmail".
 * Conditions are KEY=VALUE words separated by blanks; a VALUE may be
 * double-quoted to hold blanks. Every condition given must hold.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"

static int rule_fail(char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int rule_fail(char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(error_r, fmt, ap) < 0)
		*error_r = NULL;
	va_end(ap);
	return -1;
}

/*
 * A literal path (no glob characters) is resolved through symlinks the
 * way /proc/PID/exe shows it, so "/usr/sbin/foo" still matches when it
 * is a link; a path that does not exist yet is kept as written.
 */
static int set_exe(struct ksmgd_rule *rule, const char *value,
		   char **error_r)
{
	char resolved[PATH_MAX];

	if (value[0] != '/')
		return rule_fail(error_r, "exe=%s: want an absolute path (glob allowed)",
				 value);
	if (strpbrk(value, "*?[") == NULL && realpath(value, resolved) != NULL)
		value = resolved;
	rule->exe = strdup(value);
	return rule->exe != NULL ? 0 : rule_fail(error_r, "out of memory");
}

static int set_cgroup(struct ksmgd_rule *rule, const char *value,
		      char **error_r)
{
	size_t len = strlen(value);

	if (value[0] != '/')
		return rule_fail(error_r, "cgroup=%s: want a cgroup v2 path starting with '/', as in /proc/PID/cgroup",
				 value);
	/* "/a/b/" and "/a/b" are the same cgroup; "/" is every process. */
	while (len > 1 && value[len - 1] == '/')
		len--;
	rule->cgroup = strndup(value, len);
	return rule->cgroup != NULL ? 0 : rule_fail(error_r, "out of memory");
}

static int set_user(struct ksmgd_rule *rule, const char *value,
		    char **error_r)
{
	struct passwd *pw;
	unsigned long uid;
	char *end;

	if (isdigit((unsigned char)value[0])) {
		errno = 0;
		uid = strtoul(value, &end, 10);
		if (errno != 0 || *end != '\0' || uid >= (uid_t)-1)
			return rule_fail(error_r, "user=%s: not a valid uid",
					 value);
		rule->uid = (uid_t)uid;
	} else {
		errno = 0;
		pw = getpwnam(value);
		if (pw == NULL)
			return rule_fail(error_r, "user=%s: no such user%s%s",
					 value, errno ? ": " : "",
					 errno ? strerror(errno) : "");
		rule->uid = pw->pw_uid;
	}
	rule->has_uid = true;
	return 0;
}

static bool exe_set(const struct ksmgd_rule *rule)
{
	return rule->exe != NULL;
}

static bool cgroup_set(const struct ksmgd_rule *rule)
{
	return rule->cgroup != NULL;
}

static bool user_set(const struct ksmgd_rule *rule)
{
	return rule->has_uid;
}

static const struct condition {
	const char *key;
	int (*set)(struct ksmgd_rule *rule, const char *value, char **error_r);
	bool (*is_set)(const struct ksmgd_rule *rule);
} conditions[] = {
	{ "exe", set_exe, exe_set },
	{ "cgroup", set_cgroup, cgroup_set },
	{ "user", set_user, user_set },
};

/* Split off the next KEY=VALUE word; *pos moves past it. */
static int next_word(const char **pos, char **key_r, char **value_r,
		     char **error_r)
{
	const char *s = *pos, *eq, *start, *end;

	eq = s;
	while (*eq != '\0' && *eq != '=' && !isspace((unsigned char)*eq))
		eq++;
	if (*eq != '=')
		return rule_fail(error_r, "'%.*s' is not a condition: want exe=PATH, cgroup=PATH or user=NAME",
				 (int)(eq - s), s);
	start = eq + 1;
	if (*start == '"') {
		start++;
		end = strchr(start, '"');
		if (end == NULL)
			return rule_fail(error_r, "unterminated double quote after '%.*s='",
					 (int)(eq - s), s);
		*pos = end + 1;
		if (**pos != '\0' && !isspace((unsigned char)**pos))
			return rule_fail(error_r, "blank expected after the closing quote");
	} else {
		end = start;
		while (*end != '\0' && !isspace((unsigned char)*end))
			end++;
		if (memchr(start, '"', (size_t)(end - start)) != NULL)
			return rule_fail(error_r, "stray double quote in '%.*s'",
					 (int)(end - s), s);
		*pos = end;
	}
	*key_r = strndup(s, (size_t)(eq - s));
	*value_r = strndup(start, (size_t)(end - start));
	if (*key_r == NULL || *value_r == NULL) {
		free(*key_r);
		free(*value_r);
		return rule_fail(error_r, "out of memory");
	}
	return 0;
}

static int apply_word(struct ksmgd_rule *rule, const char *key,
		      const char *value, char **error_r)
{
	size_t i;

	for (i = 0; i < sizeof(conditions) / sizeof(conditions[0]); i++) {
		if (strcmp(conditions[i].key, key) != 0)
			continue;
		if (conditions[i].is_set(rule))
			return rule_fail(error_r, "'%s' given twice in one rule (use two match lines for either-or)",
					 key);
		if (*value == '\0')
			return rule_fail(error_r, "'%s=' has no value", key);
		return conditions[i].set(rule, value, error_r);
	}
	return rule_fail(error_r, "unknown condition '%s' (want exe, cgroup or user)",
			 key);
}

int ksmgd_rule_parse(const char *value, struct ksmgd_rule *rule,
		     char **error_r)
{
	const char *pos = value;
	char *key = NULL, *word = NULL;
	int ret;

	*error_r = NULL;
	rule->text = strdup(value);
	if (rule->text == NULL)
		return rule_fail(error_r, "out of memory");
	for (;;) {
		while (isspace((unsigned char)*pos))
			pos++;
		if (*pos == '\0')
			break;
		if (next_word(&pos, &key, &word, error_r) < 0)
			goto free_rule;
		ret = apply_word(rule, key, word, error_r);
		free(key);
		free(word);
		if (ret < 0)
			goto free_rule;
	}
	if (rule->exe == NULL && rule->cgroup == NULL && !rule->has_uid) {
		rule_fail(error_r, "no condition: want exe=PATH, cgroup=PATH and/or user=NAME");
		goto free_rule;
	}
	return 0;

free_rule:
	ksmgd_rule_free(rule);
	return -1;
}

void ksmgd_rule_free(struct ksmgd_rule *rule)
{
	free(rule->exe);
	free(rule->cgroup);
	free(rule->text);
	memset(rule, 0, sizeof(*rule));
}
