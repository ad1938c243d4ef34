// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading ksmgroupd.conf: sections, the settings tables, checks. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksmgroup.h"
#include "names.h"
#include "config-private.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SETTINGS 16

#define DAEMON(f) offsetof(struct ksmgd_daemon_conf, f)
static const struct ksmgd_setting daemon_settings[] = {
	{ "device", KSMGD_T_PATH, DAEMON(device), 0, 0, KSMG_DEVICE_PATH,
	  "the ksmgroup device; each group is one open file of it" },
	{ "state_file", KSMGD_T_PATH, DAEMON(state_file), 0, 0,
	  "/run/ksmgroupd/ksm-settings",
	  "the admin's KSM settings while the governor runs, restored after a crash" },
};

#define GOV(f) offsetof(struct ksmgd_governor_conf, f)
static const struct ksmgd_setting governor_settings[] = {
	{ "mode", KSMGD_T_MODE, GOV(mode), 0, 0, "builtin",
	  "builtin: govern ksmd; off: never touch /sys/kernel/mm/ksm" },
	{ "cpu_budget", KSMGD_T_PERMILLE, GOV(cpu_budget_pm), 1, 1000, "20%",
	  "most ksmd may use, as a share of one core (\"20%\" or \"0.2\")" },
	{ "pages_to_scan_min", KSMGD_T_UINT, GOV(pages_to_scan_min), 1,
	  1000000, "100", "pages_to_scan when idle" },
	{ "pages_to_scan_max", KSMGD_T_UINT, GOV(pages_to_scan_max), 1,
	  1000000, "4000", "highest pages_to_scan while a group settles" },
	{ "sleep_millisecs_min", KSMGD_T_UINT, GOV(sleep_millisecs_min), 1,
	  60000, "10", "lowest sleep_millisecs while a group settles" },
	{ "sleep_millisecs_max", KSMGD_T_UINT, GOV(sleep_millisecs_max), 1,
	  60000, "200", "sleep_millisecs when idle" },
	{ "interval_ms", KSMGD_T_UINT, GOV(interval_ms), 100, 60000, "1000",
	  "how often the governor measures ksmd and adjusts" },
	{ "run_ksmd", KSMGD_T_BOOL, GOV(run_ksmd), 0, 0, "yes",
	  "set /sys/kernel/mm/ksm/run to 1 while the daemon runs" },
};

#define GROUP(f) offsetof(struct ksmgd_group_conf, f)
static const struct ksmgd_setting group_settings[] = {
	{ "policy", KSMGD_T_POLICY, GROUP(policy), 0, 0, "anon",
	  "what the module marks: anon, or anon,file_private" },
	{ "sweep_ms", KSMGD_T_UINT, GROUP(sweep_ms), 0, 3600000, "0",
	  "how often the module sweeps members for new mappings; 0: its default" },
};

const struct ksmgd_section_type ksmgd_daemon_section = {
	"daemon", daemon_settings, ARRAY_SIZE(daemon_settings),
};
const struct ksmgd_section_type ksmgd_governor_section = {
	"governor", governor_settings, ARRAY_SIZE(governor_settings),
};
const struct ksmgd_section_type ksmgd_group_section = {
	"group", group_settings, ARRAY_SIZE(group_settings),
};

struct parser {
	const char *path;
	unsigned int line;
	struct ksmgd_config *config;
	const struct ksmgd_section_type *section;	/* NULL before any */
	void *base;		/* the struct the section's settings fill */
	unsigned int *set_at;	/* line each setting was set on, 0: not */
	unsigned int daemon_set_at[MAX_SETTINGS];
	unsigned int governor_set_at[MAX_SETTINGS];
	unsigned int group_set_at[MAX_SETTINGS];
	char *error;
};

static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record the first error as "FILE:LINE: message". */
static int fail(struct parser *p, const char *fmt, ...)
{
	char *message;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (ret < 0)
		message = NULL;
	if (p->line > 0)
		ret = asprintf(&p->error, "%s:%u: %s", p->path, p->line,
			       message ? message : "out of memory");
	else
		ret = asprintf(&p->error, "%s: %s", p->path,
			       message ? message : "out of memory");
	if (ret < 0)
		p->error = NULL;
	free(message);
	return -1;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Cut a '#' comment, unless the '#' is inside double quotes. */
static void strip_comment(char *line)
{
	bool quoted = false;

	for (; *line != '\0'; line++) {
		if (*line == '"')
			quoted = !quoted;
		else if (*line == '#' && !quoted) {
			*line = '\0';
			return;
		}
	}
}

/* "value" or value; a lone or inner quote is an error. */
static int unquote(struct parser *p, const char *name, char *value,
		   char **out_r)
{
	size_t len = strlen(value);

	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		value[len - 1] = '\0';
		value++;
	}
	if (strchr(value, '"') != NULL)
		return fail(p, "'%s': unbalanced double quote", name);
	*out_r = value;
	return 0;
}

static int parse_uint(const char *text, unsigned long *value_r)
{
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	*value_r = strtoul(text, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* "20%", "2.5%" or "0.2" to per mille; -1 if it is none of those. */
static int parse_permille(const char *text, unsigned long *value_r)
{
	size_t len = strlen(text);
	double value;
	char *end;

	if (len == 0 || !(isdigit((unsigned char)text[0]) || text[0] == '.'))
		return -1;
	errno = 0;
	value = strtod(text, &end);
	if (errno != 0 || end == text)
		return -1;
	if (*end == '%' && end[1] == '\0')
		value *= 10;
	else if (*end == '\0')
		value *= 1000;
	else
		return -1;
	/* Round so that "0.1" is exactly 100 per mille. */
	*value_r = (unsigned long)(value + 0.5);
	return 0;
}

static int parse_bool(const char *text, bool *value_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	return -1;
}

static int parse_mode(const char *text, unsigned int *value_r)
{
	if (strcmp(text, "builtin") == 0)
		*value_r = KSMGD_GOVERNOR_BUILTIN;
	else if (strcmp(text, "off") == 0)
		*value_r = KSMGD_GOVERNOR_OFF;
	else
		return -1;
	return 0;
}

static int set_ranged(struct parser *p, const struct ksmgd_setting *s,
		      unsigned long value, const char *text, void *field)
{
	if (value < s->min || value > s->max) {
		if (s->type == KSMGD_T_PERMILLE)
			return fail(p, "%s = %s: must be between %.1f%% and %.1f%%",
				    s->name, text, s->min / 10.0,
				    s->max / 10.0);
		return fail(p, "%s = %s: must be between %lu and %lu", s->name,
			    text, s->min, s->max);
	}
	*(unsigned int *)field = (unsigned int)value;
	return 0;
}

static int set_path(struct parser *p, const struct ksmgd_setting *s,
		    const char *text, void *field)
{
	char *copy;

	if (text[0] != '/')
		return fail(p, "%s = %s: must be an absolute path", s->name,
			    text);
	copy = strdup(text);
	if (copy == NULL)
		return fail(p, "out of memory");
	free(*(char **)field);
	*(char **)field = copy;
	return 0;
}

/* Parse text into the setting's field inside base. */
static int apply_setting(struct parser *p, const struct ksmgd_setting *s,
			 void *base, const char *text)
{
	void *field = (char *)base + s->offset;
	unsigned long value;

	switch (s->type) {
	case KSMGD_T_UINT:
		if (parse_uint(text, &value) < 0)
			return fail(p, "%s = %s: not a whole number", s->name,
				    text);
		return set_ranged(p, s, value, text, field);
	case KSMGD_T_PERMILLE:
		if (parse_permille(text, &value) < 0)
			return fail(p, "%s = %s: want a share such as 20%% or 0.2",
				    s->name, text);
		return set_ranged(p, s, value, text, field);
	case KSMGD_T_BOOL:
		if (parse_bool(text, field) < 0)
			return fail(p, "%s = %s: want yes or no", s->name,
				    text);
		return 0;
	case KSMGD_T_PATH:
		return set_path(p, s, text, field);
	case KSMGD_T_POLICY:
		if (ksmg_policy_parse(text, field) < 0)
			return fail(p, "%s = %s: want anon or anon,file_private",
				    s->name, text);
		return 0;
	case KSMGD_T_MODE:
		if (parse_mode(text, field) < 0)
			return fail(p, "%s = %s: want builtin or off", s->name,
				    text);
		return 0;
	}
	return fail(p, "%s: internal error: bad setting type", s->name);
}

static int apply_defaults(struct parser *p,
			  const struct ksmgd_section_type *type, void *base)
{
	size_t i;

	for (i = 0; i < type->n_settings; i++) {
		if (apply_setting(p, &type->settings[i], base,
				  type->settings[i].def) < 0)
			return -1;
	}
	return 0;
}

static int add_group(struct parser *p, const char *name)
{
	struct ksmgd_config *c = p->config;
	struct ksmgd_group_conf *bigger, *g;
	size_t i;

	if (ksmg_name_check(name) < 0)
		return fail(p, "group name '%s': want 1 to %d printable characters without spaces or '/'",
			    name, KSMG_NAME_MAX - 1);
	for (i = 0; i < c->n_groups; i++) {
		if (strcmp(c->groups[i].name, name) == 0)
			return fail(p, "group '%s' is declared twice (first on line %u)",
				    name, c->groups[i].line);
	}
	bigger = realloc(c->groups, (c->n_groups + 1) * sizeof(*bigger));
	if (bigger == NULL)
		return fail(p, "out of memory");
	c->groups = bigger;
	g = &c->groups[c->n_groups++];
	memset(g, 0, sizeof(*g));
	g->line = p->line;
	snprintf(g->name, sizeof(g->name), "%s", name);
	memset(p->group_set_at, 0, sizeof(p->group_set_at));
	p->section = &ksmgd_group_section;
	p->base = g;
	p->set_at = p->group_set_at;
	return apply_defaults(p, &ksmgd_group_section, g);
}

/* "[daemon]", "[governor]" or "[group NAME]". */
static int parse_section(struct parser *p, char *line)
{
	size_t len = strlen(line);
	char *inner, *name;

	if (line[len - 1] != ']')
		return fail(p, "section header '%s' lacks its ']'", line);
	line[len - 1] = '\0';
	inner = trim(line + 1);
	if (strcmp(inner, "daemon") == 0) {
		p->section = &ksmgd_daemon_section;
		p->base = &p->config->daemon;
		p->set_at = p->daemon_set_at;
		return 0;
	}
	if (strcmp(inner, "governor") == 0) {
		p->section = &ksmgd_governor_section;
		p->base = &p->config->governor;
		p->set_at = p->governor_set_at;
		return 0;
	}
	if (strncmp(inner, "group", 5) == 0 &&
	    (inner[5] == '\0' || isspace((unsigned char)inner[5]))) {
		name = trim(inner + 5);
		if (*name == '\0')
			return fail(p, "[group] needs a name: [group NAME]");
		return add_group(p, name);
	}
	return fail(p, "unknown section [%s] (want [daemon], [governor] or [group NAME])",
		    inner);
}

static int add_rule(struct parser *p, const char *value)
{
	struct ksmgd_group_conf *g = p->base;
	struct ksmgd_rule rule, *bigger;
	char *error;

	memset(&rule, 0, sizeof(rule));
	if (ksmgd_rule_parse(value, &rule, &error) < 0) {
		fail(p, "match: %s", error ? error : "out of memory");
		free(error);
		return -1;
	}
	rule.line = p->line;
	bigger = realloc(g->rules, (g->n_rules + 1) * sizeof(*bigger));
	if (bigger == NULL) {
		ksmgd_rule_free(&rule);
		return fail(p, "out of memory");
	}
	g->rules = bigger;
	g->rules[g->n_rules++] = rule;
	return 0;
}

static void known_settings(const struct ksmgd_section_type *type, char *buf,
			   size_t size)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < type->n_settings && used < size; i++)
		used += snprintf(buf + used, size - used, "%s%s",
				 i ? ", " : "", type->settings[i].name);
	if (type == &ksmgd_group_section && used < size)
		snprintf(buf + used, size - used, ", match");
}

static int parse_setting(struct parser *p, char *line)
{
	char *eq = strchr(line, '='), *key, *value, known[256];
	const struct ksmgd_section_type *type = p->section;
	size_t i;

	if (eq == NULL)
		return fail(p, "expected 'key = value' or '[section]', got '%s'",
			    line);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (*key == '\0')
		return fail(p, "'= %s' has no key", value);
	if (type == NULL)
		return fail(p, "'%s' is outside any section: put it under [daemon], [governor] or [group NAME]",
			    key);
	if (*value == '\0')
		return fail(p, "'%s' has no value", key);
	if (type == &ksmgd_group_section && strcmp(key, "match") == 0)
		return add_rule(p, value);
	if (unquote(p, key, value, &value) < 0)
		return -1;
	for (i = 0; i < type->n_settings; i++) {
		if (strcmp(type->settings[i].name, key) != 0)
			continue;
		if (p->set_at[i] != 0)
			return fail(p, "'%s' is set twice in [%s] (first on line %u)",
				    key, type->name, p->set_at[i]);
		p->set_at[i] = p->line;
		return apply_setting(p, &type->settings[i], p->base, value);
	}
	known_settings(type, known, sizeof(known));
	return fail(p, "unknown setting '%s' in [%s] (known: %s)", key,
		    type->name, known);
}

static int parse_line(struct parser *p, char *raw)
{
	char *line;

	strip_comment(raw);
	line = trim(raw);
	if (*line == '\0')
		return 0;
	if (*line == '[')
		return parse_section(p, line);
	return parse_setting(p, line);
}

/* The line a governor setting was set on, for cross-check messages. */
static unsigned int governor_line(struct parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(governor_settings); i++) {
		if (strcmp(governor_settings[i].name, name) == 0)
			return p->governor_set_at[i];
	}
	return 0;
}

/* A min above its max: blame the line set last, or the file. */
static int check_order(struct parser *p, const char *lo_name, unsigned int lo,
		       const char *hi_name, unsigned int hi)
{
	unsigned int lo_line = governor_line(p, lo_name);
	unsigned int hi_line = governor_line(p, hi_name);

	if (lo <= hi)
		return 0;
	p->line = lo_line > hi_line ? lo_line : hi_line;
	return fail(p, "%s (%u) is above %s (%u)", lo_name, lo, hi_name, hi);
}

static int check_config(struct parser *p)
{
	const struct ksmgd_governor_conf *g = &p->config->governor;

	if (check_order(p, "pages_to_scan_min", g->pages_to_scan_min,
			"pages_to_scan_max", g->pages_to_scan_max) < 0 ||
	    check_order(p, "sleep_millisecs_min", g->sleep_millisecs_min,
			"sleep_millisecs_max", g->sleep_millisecs_max) < 0)
		return -1;
	return 0;
}

static int parse_file(struct parser *p, FILE *f)
{
	size_t size = 0;
	char *raw = NULL;
	ssize_t len;
	int ret = 0;

	while ((len = getline(&raw, &size, f)) >= 0) {
		p->line++;
		if ((size_t)len != strlen(raw)) {
			ret = fail(p, "line contains a NUL byte");
			break;
		}
		ret = parse_line(p, raw);
		if (ret < 0)
			break;
	}
	if (ret == 0 && ferror(f)) {
		p->line = 0;
		ret = fail(p, "read error: %s", strerror(errno));
	}
	free(raw);
	return ret;
}

int ksmgd_config_load(const char *path, struct ksmgd_config **config_r,
		      char **error_r)
{
	struct parser p = { .path = path };
	struct ksmgd_config *c;
	FILE *f;

	*error_r = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		*error_r = strdup("out of memory");
		return -1;
	}
	p.config = c;
	if (apply_defaults(&p, &ksmgd_daemon_section, &c->daemon) < 0 ||
	    apply_defaults(&p, &ksmgd_governor_section, &c->governor) < 0)
		goto free_config;
	f = fopen(path, "re");
	if (f == NULL) {
		fail(&p, "cannot open: %s", strerror(errno));
		goto free_config;
	}
	if (parse_file(&p, f) < 0) {
		fclose(f);
		goto free_config;
	}
	fclose(f);
	if (check_config(&p) < 0)
		goto free_config;
	*config_r = c;
	return 0;

free_config:
	ksmgd_config_free(&c);
	*error_r = p.error != NULL ? p.error : strdup("out of memory");
	return -1;
}

void ksmgd_config_free(struct ksmgd_config **config)
{
	struct ksmgd_config *c = config ? *config : NULL;
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_groups; i++) {
		for (j = 0; j < c->groups[i].n_rules; j++)
			ksmgd_rule_free(&c->groups[i].rules[j]);
		free(c->groups[i].rules);
	}
	free(c->groups);
	free(c->daemon.device);
	free(c->daemon.state_file);
	free(c->path);
	free(c);
	*config = NULL;
}
