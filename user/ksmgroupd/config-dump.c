// SPDX-License-Identifier: GPL-2.0-or-later
/* Printing the effective configuration (ksmgroupd -n -v). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "config-private.h"

void ksmgd_setting_format(const struct ksmgd_setting *s, const void *base,
			  char *buf, size_t size)
{
	const void *field = (const char *)base + s->offset;
	unsigned int value;

	switch (s->type) {
	case KSMGD_T_UINT:
		snprintf(buf, size, "%u", *(const unsigned int *)field);
		return;
	case KSMGD_T_PERMILLE:
		value = *(const unsigned int *)field;
		snprintf(buf, size, "%u.%u%%", value / 10, value % 10);
		return;
	case KSMGD_T_BOOL:
		snprintf(buf, size, "%s", *(const bool *)field ? "yes" : "no");
		return;
	case KSMGD_T_PATH:
		snprintf(buf, size, "%s", *(char *const *)field);
		return;
	case KSMGD_T_POLICY:
		ksmg_policy_format(*(const uint64_t *)field, buf, size);
		return;
	case KSMGD_T_MODE:
		snprintf(buf, size, "%s",
			 *(const unsigned int *)field == KSMGD_GOVERNOR_OFF ?
			 "off" : "builtin");
		return;
	}
	snprintf(buf, size, "?");
}

static void dump_section(FILE *f, const struct ksmgd_section_type *type,
			 const void *base)
{
	char value[256];
	size_t i;

	for (i = 0; i < type->n_settings; i++) {
		ksmgd_setting_format(&type->settings[i], base, value,
				     sizeof(value));
		fprintf(f, "%s = %s\n", type->settings[i].name, value);
	}
}

static void dump_rule(FILE *f, const struct ksmgd_rule *rule)
{
	fprintf(f, "match =");
	if (rule->exe != NULL)
		fprintf(f, " exe=\"%s\"", rule->exe);
	if (rule->cgroup != NULL)
		fprintf(f, " cgroup=\"%s\"", rule->cgroup);
	if (rule->has_uid)
		fprintf(f, " user=%u", (unsigned int)rule->uid);
	fprintf(f, "    # line %u\n", rule->line);
}

void ksmgd_config_dump(const struct ksmgd_config *config, FILE *f)
{
	size_t i, j;

	fprintf(f, "# effective configuration of %s\n[daemon]\n",
		config->path);
	dump_section(f, &ksmgd_daemon_section, &config->daemon);
	fprintf(f, "\n[governor]\n");
	dump_section(f, &ksmgd_governor_section, &config->governor);
	for (i = 0; i < config->n_groups; i++) {
		const struct ksmgd_group_conf *g = &config->groups[i];

		fprintf(f, "\n[group %s]    # line %u\n", g->name, g->line);
		dump_section(f, &ksmgd_group_section, g);
		for (j = 0; j < g->n_rules; j++)
			dump_rule(f, &g->rules[j]);
	}
}
