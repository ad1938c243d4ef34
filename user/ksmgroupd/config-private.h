/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by config.c, config-match.c and config-dump.c; not an interface. */
#ifndef KSMGD_CONFIG_PRIVATE_H
#define KSMGD_CONFIG_PRIVATE_H

#include "config.h"

enum ksmgd_setting_type {
	KSMGD_T_UINT,		/* decimal, within [min, max] */
	KSMGD_T_PERMILLE,	/* "20%" or "0.2", within [min, max] per mille */
	KSMGD_T_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	KSMGD_T_PATH,		/* absolute path */
	KSMGD_T_POLICY,		/* "anon" or "anon,file_private" */
	KSMGD_T_MODE,		/* governor mode: "builtin" or "off" */
};

/* One setting: where it lives in its section's struct, and its rules. */
struct ksmgd_setting {
	const char *name;
	enum ksmgd_setting_type type;
	size_t offset;
	unsigned long min, max;
	/* Parsed exactly like a value from the file, so it is always valid. */
	const char *def;
	const char *help;
};

struct ksmgd_section_type {
	const char *name;
	const struct ksmgd_setting *settings;
	size_t n_settings;
};

extern const struct ksmgd_section_type ksmgd_daemon_section;
extern const struct ksmgd_section_type ksmgd_governor_section;
extern const struct ksmgd_section_type ksmgd_group_section;

/*
 * Parse the value of a "match =" line into rule. On failure returns -1
 * and *error_r is an allocated message without the file:line prefix.
 */
int ksmgd_rule_parse(const char *value, struct ksmgd_rule *rule,
		     char **error_r);
void ksmgd_rule_free(struct ksmgd_rule *rule);

/* Format a setting's value as the file would spell it. */
void ksmgd_setting_format(const struct ksmgd_setting *s, const void *base,
			  char *buf, size_t size);

#endif /* KSMGD_CONFIG_PRIVATE_H */
