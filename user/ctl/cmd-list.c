// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmgroupctl list and show: groups and members with their figures. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "figures.h"
#include "names.h"

static const char *state_text(const struct ksmg_nl_attrs *g)
{
	const char *name = ksmg_state_name(g->state);

	if (!ksmg_nl_has(g, KSMG_A_STATE))
		return "-";
	return name != NULL ? name : "unknown";
}

static void json_policy_one(const char *name, uint64_t bit, void *arg)
{
	char hex[24];

	if (name == NULL) {
		snprintf(hex, sizeof(hex), "0x%" PRIx64, bit);
		name = hex;
	}
	ksmg_json_string(arg, NULL, name);
}

static void group_json(struct ksmg_json *j, const char *key,
		       const struct ksmg_nl_attrs *g)
{
	ksmg_json_object_begin(j, key);
	ksmg_json_u64(j, "id", g->group_id);
	ksmg_json_string(j, "name", g->name);
	if (ksmg_nl_has(g, KSMG_A_STATE))
		ksmg_json_string(j, "state", state_text(g));
	else
		ksmg_json_null(j, "state");
	if (ksmg_nl_has(g, KSMG_A_POLICY)) {
		ksmg_json_array_begin(j, "policy");
		ksmg_policy_foreach(g->policy, json_policy_one, j);
		ksmg_json_array_end(j);
	} else {
		ksmg_json_null(j, "policy");
	}
	ksmg_figures_json(j, ksmg_group_figures, ksmg_group_figures_count, g);
	ksmg_json_object_end(j);
}

static int name_width(const struct ksmg_nl_attrs *groups, size_t count)
{
	size_t i, width = 4;

	for (i = 0; i < count; i++) {
		if (strlen(groups[i].name) > width)
			width = strlen(groups[i].name);
	}
	return (int)width;
}

static void list_human(const struct ksmg_nl_attrs *groups, size_t count)
{
	int width = name_width(groups, count);
	size_t i;

	if (count == 0) {
		printf("no groups\n");
		return;
	}
	printf("%6s  %-*s %-9s", "ID", width, "NAME", "STATE");
	ksmg_figures_heading(ksmg_group_figures, ksmg_group_figures_count);
	printf("\n");
	for (i = 0; i < count; i++) {
		printf("%6" PRIu32 "  %-*s %-9s", groups[i].group_id, width,
		       groups[i].name[0] ? groups[i].name : "-",
		       state_text(&groups[i]));
		ksmg_figures_row(ksmg_group_figures, ksmg_group_figures_count,
				 &groups[i]);
		printf("\n");
	}
}

int ksmg_ctl_cmd_list(struct ksmg_ctl *ctl, int argc, char **argv)
{
	struct ksmg_nl_attrs *groups;
	size_t count, i;
	int ret;

	(void)argc;
	(void)argv;
	ret = ksmg_ctl_dump_groups(ctl, &groups, &count);
	if (ret != KSMG_EXIT_OK)
		return ret;
	if (ctl->json) {
		ksmg_json_object_begin(&ctl->out, NULL);
		ksmg_json_array_begin(&ctl->out, "groups");
		for (i = 0; i < count; i++)
			group_json(&ctl->out, NULL, &groups[i]);
		ksmg_json_array_end(&ctl->out);
		ksmg_json_object_end(&ctl->out);
		ksmg_json_finish(&ctl->out);
	} else {
		list_human(groups, count);
	}
	free(groups);
	return KSMG_EXIT_OK;
}

struct member_list {
	uint32_t group_id;
	bool zero_pages_counted;
	struct ksmg_nl_attrs *members;
	size_t count, room;
};

static int collect_member(const struct ksmg_nl_attrs *attrs, void *arg)
{
	struct member_list *list = arg;
	struct ksmg_nl_attrs *bigger;

	if (!ksmg_nl_has(attrs, KSMG_A_PID))
		return -EPROTO;
	/* The kernel filters by group; this guards against one that does not. */
	if (ksmg_nl_has(attrs, KSMG_A_GROUP_ID) &&
	    attrs->group_id != list->group_id)
		return 0;
	if (list->count == list->room) {
		list->room = list->room ? list->room * 2 : 64;
		bigger = realloc(list->members, list->room * sizeof(*bigger));
		if (bigger == NULL)
			return -ENOMEM;
		list->members = bigger;
	}
	list->members[list->count] = *attrs;
	if (!list->zero_pages_counted)
		list->members[list->count].present &= ~(1u << KSMG_A_ZERO_PAGES);
	list->count++;
	return 0;
}

static int compare_pid(const void *a, const void *b)
{
	const struct ksmg_nl_attrs *ma = a, *mb = b;

	return ma->pid < mb->pid ? -1 : ma->pid > mb->pid;
}

/* The member's command name, best effort: it may exit under us. */
static void read_comm(int32_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(buf, size, "?");
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%" PRId32 "/comm", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return;
	if (fgets(buf, (int)size, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	else
		snprintf(buf, size, "?");
	fclose(f);
}

static void show_json(struct ksmg_ctl *ctl, const struct ksmg_nl_attrs *g,
		      const struct member_list *list)
{
	struct ksmg_json *j = &ctl->out;
	char comm[64];
	size_t i;

	ksmg_json_object_begin(j, NULL);
	group_json(j, "group", g);
	ksmg_json_array_begin(j, "members");
	for (i = 0; i < list->count; i++) {
		ksmg_json_object_begin(j, NULL);
		ksmg_json_s64(j, "pid", list->members[i].pid);
		read_comm(list->members[i].pid, comm, sizeof(comm));
		ksmg_json_string(j, "comm", comm);
		ksmg_figures_json(j, ksmg_member_figures,
				  ksmg_member_figures_count, &list->members[i]);
		ksmg_json_object_end(j);
	}
	ksmg_json_array_end(j);
	ksmg_json_object_end(j);
	ksmg_json_finish(j);
}

static void show_human(const struct ksmg_nl_attrs *g,
		       const struct member_list *list)
{
	char policy[64], cell[32], comm[64];
	size_t i, f;

	ksmg_policy_format(g->policy, policy, sizeof(policy));
	printf("group %" PRIu32 " '%s': %s, policy %s\n", g->group_id,
	       g->name, state_text(g),
	       ksmg_nl_has(g, KSMG_A_POLICY) ? policy : "-");
	for (f = 0; f < ksmg_group_figures_count; f++) {
		ksmg_figure_format(&ksmg_group_figures[f], g, cell,
				   sizeof(cell));
		printf("  %-14s %s\n", ksmg_group_figures[f].key, cell);
	}
	if (list->count == 0) {
		printf("no members\n");
		return;
	}
	printf("\n%8s  %-16s", "PID", "COMM");
	ksmg_figures_heading(ksmg_member_figures, ksmg_member_figures_count);
	printf("\n");
	for (i = 0; i < list->count; i++) {
		read_comm(list->members[i].pid, comm, sizeof(comm));
		printf("%8" PRId32 "  %-16s", list->members[i].pid, comm);
		ksmg_figures_row(ksmg_member_figures,
				 ksmg_member_figures_count, &list->members[i]);
		printf("\n");
	}
}

int ksmg_ctl_cmd_show(struct ksmg_ctl *ctl, int argc, char **argv)
{
	struct member_list list = { 0 };
	struct ksmg_nl_attrs group, req;
	const char *error;
	int ret;

	(void)argc;
	ret = ksmg_ctl_resolve_group(ctl, argv[0], &group);
	if (ret != KSMG_EXIT_OK)
		return ret;
	memset(&req, 0, sizeof(req));
	req.present = 1u << KSMG_A_GROUP_ID;
	req.group_id = group.group_id;
	list.group_id = group.group_id;
	list.zero_pages_counted = ksmg_ctl_zero_pages_counted(group.group_id);
	if (ksmg_nl_request(ctl->nl, KSMG_CMD_MEMBER_GET, true, &req,
			    collect_member, &list, &error) < 0) {
		ret = ksmg_ctl_fail(ctl, errno, error,
				    "cannot list the members of group %" PRIu32,
				    group.group_id);
		free(list.members);
		return ret;
	}
	if (list.count > 0)
		qsort(list.members, list.count, sizeof(*list.members),
		      compare_pid);
	if (ctl->json)
		show_json(ctl, &group, &list);
	else
		show_human(&group, &list);
	free(list.members);
	return KSMG_EXIT_OK;
}
