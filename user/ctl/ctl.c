// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmgroupctl helpers shared by the commands: errors, groups, numbers. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static const struct {
	int errnum;
	enum ksmg_ctl_exit code;
} exit_codes[] = {
	{ ENOPKG, KSMG_EXIT_NO_MODULE },
	{ EPERM, KSMG_EXIT_PERM },
	{ EACCES, KSMG_EXIT_PERM },
	{ ESRCH, KSMG_EXIT_NOT_FOUND },
	{ ENOENT, KSMG_EXIT_NOT_FOUND },
	{ EOPNOTSUPP, KSMG_EXIT_UNSUPPORTED },
	{ E2BIG, KSMG_EXIT_UNSUPPORTED },
	{ ENOTTY, KSMG_EXIT_UNSUPPORTED },
	{ EEXIST, KSMG_EXIT_CONFLICT },
	{ EBUSY, KSMG_EXIT_CONFLICT },
};

int ksmg_ctl_exit_code(int errnum)
{
	size_t i;

	for (i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++) {
		if (exit_codes[i].errnum == errnum)
			return exit_codes[i].code;
	}
	return KSMG_EXIT_FAILED;
}

const char *ksmg_ctl_advice(const struct ksmg_ctl *ctl, int errnum)
{
	bool attach = ctl->command != NULL && strcmp(ctl->command, "attach") == 0;
	bool watch = ctl->command != NULL && strcmp(ctl->command, "watch") == 0;

	switch (errnum) {
	case EPERM:
	case EACCES:
		if (geteuid() == 0)
			return attach ?
				"the caller may not ptrace the process (see ksmgroupctl(8), PERMISSIONS)" :
				NULL;
		if (watch)	/* the message names CAP_NET_ADMIN already */
			return "run as root";
		return attach ?
			"this needs CAP_NET_ADMIN and the right to ptrace the process: run as root" :
			"this needs CAP_NET_ADMIN: run as root";
	case EOPNOTSUPP:
		return "the running kernel or ksmgroup module lacks this feature";
	default:
		return NULL;
	}
}

static void json_error(struct ksmg_ctl *ctl, int code, int errnum,
		       const char *message)
{
	const char *name = errnum != 0 ? strerrorname_np(errnum) : NULL;

	ksmg_json_init(&ctl->out, stdout);
	ksmg_json_object_begin(&ctl->out, NULL);
	ksmg_json_object_begin(&ctl->out, "error");
	ksmg_json_u64(&ctl->out, "exit_code", (uint64_t)code);
	if (name != NULL)
		ksmg_json_string(&ctl->out, "errno", name);
	else
		ksmg_json_null(&ctl->out, "errno");
	ksmg_json_string(&ctl->out, "message", message);
	ksmg_json_object_end(&ctl->out);
	ksmg_json_object_end(&ctl->out);
	ksmg_json_finish(&ctl->out);
}

static int report(struct ksmg_ctl *ctl, int code, int errnum,
		  const char *message)
{
	fprintf(stderr, "ksmgroupctl: %s\n", message);
	if (ctl->json)
		json_error(ctl, code, errnum, message);
	return code;
}

int ksmg_ctl_fail(struct ksmg_ctl *ctl, int errnum, const char *detail,
		  const char *fmt, ...)
{
	const char *extra = ksmg_ctl_advice(ctl, errnum);
	char message[1024];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	len = strlen(message);
	if (detail != NULL && len < sizeof(message))
		len += snprintf(message + len, sizeof(message) - len, ": %s",
				detail);
	/* The module-not-loaded detail is already the whole advice. */
	if (extra != NULL && len < sizeof(message))
		snprintf(message + len, sizeof(message) - len, " (%s)", extra);
	return report(ctl, ksmg_ctl_exit_code(errnum), errnum, message);
}

int ksmg_ctl_usage_error(struct ksmg_ctl *ctl, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	strncat(message, " (see ksmgroupctl --help)",
		sizeof(message) - strlen(message) - 1);
	return report(ctl, KSMG_EXIT_USAGE, 0, message);
}

int ksmg_ctl_connect(struct ksmg_ctl *ctl)
{
	const char *error;

	if (ctl->nl != NULL)
		return KSMG_EXIT_OK;
	if (ksmg_nl_open(&ctl->nl, &error) < 0) {
		/* error already says "module not loaded: run modprobe". */
		if (errno == ENOPKG)
			return report(ctl, KSMG_EXIT_NO_MODULE, ENOPKG, error);
		return ksmg_ctl_fail(ctl, errno, error, "netlink");
	}
	return KSMG_EXIT_OK;
}

bool ksmg_ctl_zero_pages_counted(uint32_t group_id)
{
	char path[96];

	/*
	 * The module reports zero_pages as 0 on kernels that do not count
	 * them; its sysfs directory has the file only where they are
	 * counted. If the directory cannot be seen, trust the 0.
	 */
	snprintf(path, sizeof(path), "/sys/kernel/ksmgroup/%u", group_id);
	if (access(path, F_OK) < 0)
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/ksmgroup/%u/zero_pages",
		 group_id);
	return access(path, F_OK) == 0;
}

struct group_list {
	struct ksmg_nl_attrs *groups;
	size_t count, room;
};

static int collect_group(const struct ksmg_nl_attrs *attrs, void *arg)
{
	struct group_list *list = arg;
	struct ksmg_nl_attrs *bigger;

	if (!ksmg_nl_has(attrs, KSMG_A_GROUP_ID))
		return -EPROTO;
	if (list->count == list->room) {
		list->room = list->room ? list->room * 2 : 16;
		bigger = realloc(list->groups, list->room * sizeof(*bigger));
		if (bigger == NULL)
			return -ENOMEM;
		list->groups = bigger;
	}
	list->groups[list->count] = *attrs;
	if (!ksmg_ctl_zero_pages_counted(attrs->group_id))
		list->groups[list->count].present &= ~(1u << KSMG_A_ZERO_PAGES);
	list->count++;
	return 0;
}

static int compare_group_id(const void *a, const void *b)
{
	const struct ksmg_nl_attrs *ga = a, *gb = b;

	return ga->group_id < gb->group_id ? -1 : ga->group_id > gb->group_id;
}

int ksmg_ctl_dump_groups(struct ksmg_ctl *ctl, struct ksmg_nl_attrs **groups_r,
			 size_t *count_r)
{
	struct group_list list = { 0 };
	const char *error;
	int ret;

	ret = ksmg_ctl_connect(ctl);
	if (ret != KSMG_EXIT_OK)
		return ret;
	if (ksmg_nl_request(ctl->nl, KSMG_CMD_GROUP_GET, true, NULL,
			    collect_group, &list, &error) < 0) {
		free(list.groups);
		return ksmg_ctl_fail(ctl, errno, error, "cannot list groups");
	}
	if (list.count > 0)
		qsort(list.groups, list.count, sizeof(*list.groups),
		      compare_group_id);
	*groups_r = list.groups;
	*count_r = list.count;
	return KSMG_EXIT_OK;
}

int ksmg_ctl_parse_ulong(const char *text, unsigned long max,
			 unsigned long *value_r)
{
	unsigned long value;
	char *end;

	/* strtoul accepts " -1" and "+1"; group ids and pids do not. */
	if (text[0] < '0' || text[0] > '9')
		goto invalid;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max)
		goto invalid;
	*value_r = value;
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

int ksmg_ctl_resolve_group(struct ksmg_ctl *ctl, const char *arg,
			   struct ksmg_nl_attrs *group_r)
{
	struct ksmg_nl_attrs *groups, *by_name = NULL;
	size_t count, i, named = 0;
	unsigned long id;
	bool numeric;
	int ret;

	ret = ksmg_ctl_dump_groups(ctl, &groups, &count);
	if (ret != KSMG_EXIT_OK)
		return ret;
	numeric = ksmg_ctl_parse_ulong(arg, UINT32_MAX, &id) == 0;
	for (i = 0; i < count; i++) {
		if (numeric && groups[i].group_id == id) {
			*group_r = groups[i];
			free(groups);
			return KSMG_EXIT_OK;
		}
		if (strcmp(groups[i].name, arg) == 0) {
			by_name = by_name ? by_name : &groups[i];
			named++;
		}
	}
	if (named == 1)
		*group_r = *by_name;
	free(groups);
	if (named > 1)
		return ksmg_ctl_usage_error(ctl, "%zu groups are named '%s': give the group's id (ksmgroupctl list)",
					    named, arg);
	if (named == 0)
		return ksmg_ctl_fail(ctl, ENOENT, NULL,
				     "no group with id or name '%s' (ksmgroupctl list shows the groups)",
				     arg);
	return KSMG_EXIT_OK;
}

void ksmg_ctl_format_bytes(int64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double value = (double)(bytes < 0 ? -bytes : bytes);
	unsigned int unit = 0;

	while (value >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		value /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(buf, size, "%" PRId64 " B", bytes);
	else
		snprintf(buf, size, "%s%.1f %s", bytes < 0 ? "-" : "", value,
			 units[unit]);
}
