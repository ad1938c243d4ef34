// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmgroupctl attach, detach and sweep: the admin-only operations. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct member_op {
	const char *verb;	/* "attach" */
	const char *done;	/* "attached" */
	const char *prep;	/* "to" */
	uint8_t cmd;
};

static const struct member_op attach_op = {
	"attach", "attached", "to", KSMG_CMD_MEMBER_ADD,
};
static const struct member_op detach_op = {
	"detach", "detached", "from", KSMG_CMD_MEMBER_DEL,
};

/* Check every pid before changing anything: a typo changes nothing. */
static int parse_pids(struct ksmg_ctl *ctl, int argc, char **argv,
		      int32_t *pids)
{
	unsigned long pid;
	int i;

	for (i = 0; i < argc; i++) {
		if (ksmg_ctl_parse_ulong(argv[i], INT32_MAX, &pid) < 0 ||
		    pid == 0)
			return ksmg_ctl_usage_error(ctl, "'%s' is not a process id",
						    argv[i]);
		pids[i] = (int32_t)pid;
	}
	return KSMG_EXIT_OK;
}

static int member_one(struct ksmg_ctl *ctl, const struct member_op *op,
		      const struct ksmg_nl_attrs *group, int32_t pid,
		      int *errnum_r, const char **error_r)
{
	struct ksmg_nl_attrs req;

	memset(&req, 0, sizeof(req));
	req.present = (1u << KSMG_A_GROUP_ID) | (1u << KSMG_A_PID);
	req.group_id = group->group_id;
	req.pid = pid;
	if (ksmg_nl_request(ctl->nl, op->cmd, false, &req, NULL, NULL,
			    error_r) < 0) {
		*errnum_r = errno;
		return -1;
	}
	*errnum_r = 0;
	return 0;
}

static void result_json(struct ksmg_ctl *ctl, int32_t pid, int errnum,
			const char *error)
{
	const char *name = errnum ? strerrorname_np(errnum) : NULL;

	ksmg_json_object_begin(&ctl->out, NULL);
	ksmg_json_s64(&ctl->out, "pid", pid);
	ksmg_json_bool(&ctl->out, "ok", errnum == 0);
	if (errnum != 0) {
		ksmg_json_string(&ctl->out, "errno", name ? name : "?");
		ksmg_json_string(&ctl->out, "error", error);
	}
	ksmg_json_object_end(&ctl->out);
}

/*
 * Every pid is tried; the exit status is that of the first failure, and
 * each failure is reported on stderr as it happens.
 */
static int member_cmd(struct ksmg_ctl *ctl, const struct member_op *op,
		      int argc, char **argv)
{
	int ret, status = KSMG_EXIT_OK, errnum, i;
	struct ksmg_nl_attrs group;
	const char *error;
	int32_t *pids;

	pids = calloc((size_t)argc - 1, sizeof(*pids));
	if (pids == NULL)
		return ksmg_ctl_fail(ctl, ENOMEM, NULL, "%s", op->verb);
	ret = parse_pids(ctl, argc - 1, argv + 1, pids);
	if (ret == KSMG_EXIT_OK)
		ret = ksmg_ctl_resolve_group(ctl, argv[0], &group);
	if (ret != KSMG_EXIT_OK) {
		free(pids);
		return ret;
	}
	if (ctl->json) {
		ksmg_json_object_begin(&ctl->out, NULL);
		ksmg_json_u64(&ctl->out, "group_id", group.group_id);
		ksmg_json_string(&ctl->out, "action", op->verb);
		ksmg_json_array_begin(&ctl->out, "results");
	}
	for (i = 0; i < argc - 1; i++) {
		if (member_one(ctl, op, &group, pids[i], &errnum, &error) < 0) {
			const char *extra = ksmg_ctl_advice(ctl, errnum);

			fprintf(stderr, "ksmgroupctl: cannot %s %" PRId32 " %s group %" PRIu32 ": %s%s%s%s\n",
				op->verb, pids[i], op->prep, group.group_id,
				error, extra ? " (" : "", extra ? extra : "",
				extra ? ")" : "");
			if (status == KSMG_EXIT_OK)
				status = ksmg_ctl_exit_code(errnum);
		} else if (!ctl->json) {
			printf("%s %" PRId32 " %s group %" PRIu32 " '%s'\n",
			       op->done, pids[i], op->prep, group.group_id,
			       group.name);
		}
		if (ctl->json)
			result_json(ctl, pids[i], errnum, error);
	}
	if (ctl->json) {
		ksmg_json_array_end(&ctl->out);
		ksmg_json_object_end(&ctl->out);
		ksmg_json_finish(&ctl->out);
	}
	free(pids);
	return status;
}

int ksmg_ctl_cmd_attach(struct ksmg_ctl *ctl, int argc, char **argv)
{
	return member_cmd(ctl, &attach_op, argc, argv);
}

int ksmg_ctl_cmd_detach(struct ksmg_ctl *ctl, int argc, char **argv)
{
	return member_cmd(ctl, &detach_op, argc, argv);
}

struct sweep_reply {
	bool has_marked;
	uint64_t vmas_marked;
};

static int on_sweep_reply(const struct ksmg_nl_attrs *attrs, void *arg)
{
	struct sweep_reply *reply = arg;

	if (ksmg_nl_has(attrs, KSMG_A_VMAS_MARKED)) {
		reply->has_marked = true;
		reply->vmas_marked = attrs->vmas_marked;
	}
	return 0;
}

int ksmg_ctl_cmd_sweep(struct ksmg_ctl *ctl, int argc, char **argv)
{
	struct sweep_reply reply = { 0 };
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
	if (ksmg_nl_request(ctl->nl, KSMG_CMD_GROUP_SWEEP, false, &req,
			    on_sweep_reply, &reply, &error) < 0)
		return ksmg_ctl_fail(ctl, errno, error,
				     "cannot sweep group %" PRIu32,
				     group.group_id);
	if (ctl->json) {
		ksmg_json_object_begin(&ctl->out, NULL);
		ksmg_json_u64(&ctl->out, "group_id", group.group_id);
		ksmg_json_bool(&ctl->out, "ok", true);
		if (reply.has_marked)
			ksmg_json_u64(&ctl->out, "vmas_marked",
				      reply.vmas_marked);
		ksmg_json_object_end(&ctl->out);
		ksmg_json_finish(&ctl->out);
	} else if (reply.has_marked) {
		printf("swept group %" PRIu32 " '%s': %" PRIu64 " mappings marked\n",
		       group.group_id, group.name, reply.vmas_marked);
	} else {
		printf("swept group %" PRIu32 " '%s'\n", group.group_id,
		       group.name);
	}
	return KSMG_EXIT_OK;
}
