// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Making workers mergeable. With the ksmgroup module loaded the master opens
 * one merge group (/dev/ksmgroup through libksmgroup) and adds every worker
 * as it becomes ready; the module keeps the workers' anonymous memory and
 * their copies of library pages mergeable. Without it, each worker calls
 * prctl(PR_SET_MEMORY_MERGE) on itself (Linux 6.4+). Either way the workers
 * keep their secret memory out (secret.c). The path chosen is logged at
 * start.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "log.h"
#include "master.h"
#ifdef HAVE_KSMGROUP
#include "ksmgroup.h"
#endif

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

const char *master_ksm_mode_name(enum dboxd_ksm_mode mode)
{
	switch (mode) {
	case DBOXD_KSM_OFF:
		return "off";
	case DBOXD_KSM_GROUP:
		return "ksmgroup merge group";
	case DBOXD_KSM_PRCTL:
		return "prctl(PR_SET_MEMORY_MERGE)";
	}
	return "?";
}

static bool prctl_merge_supported(void)
{
	/* EINVAL: the kernel does not know the option (before 6.4). */
	return prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) >= 0;
}

static void ksm_note_run_state(void)
{
	FILE *f = fopen("/sys/kernel/mm/ksm/run", "re");
	int run = -1;

	if (f == NULL) {
		dboxd_warn("kernel without KSM (/sys/kernel/mm/ksm missing): workers will not merge");
		return;
	}
	if (fscanf(f, "%d", &run) != 1)
		run = -1;
	fclose(f);
	if (run == 0)
		dboxd_info("KSM is stopped (/sys/kernel/mm/ksm/run = 0): pages are marked but will merge only once it runs");
}

#ifdef HAVE_KSMGROUP
static int ksm_open_group(const char **error_r)
{
	struct ksmg_group *group;

	if (ksmg_group_open(NULL, &group, error_r) < 0)
		return -1;
	if (ksmg_group_set_name(group, master_g->config->set.ksm_group_name) < 0) {
		*error_r = ksmg_strerror(errno);
		ksmg_group_close(&group);
		return -1;
	}
	/*
	 * The workers' copies of library pages (data, RELRO) are as alike as
	 * their heaps, and prctl's merge-any takes them: without them the
	 * group saved a quarter less than prctl (6.12 guest, 200 workers).
	 */
	if (ksmg_group_set_policy(group, KSMG_POLICY_ANON |
				  KSMG_POLICY_FILE_PRIVATE, 0) < 0)
		dboxd_warn("ksm: the module does not take file-backed copies (%s): anonymous memory only",
			   ksmg_strerror(errno));
	master_g->ksm_group = group;
	return 0;
}
#else
static int ksm_open_group(const char **error_r)
{
	*error_r = "dboxd was built without libksmgroup";
	return -1;
}
#endif

void master_ksm_init(void)
{
	const char *want = master_g->config->set.ksm;
	const char *error = NULL;

	master_g->ksm_mode = DBOXD_KSM_OFF;
	if (strcmp(want, "off") == 0) {
		dboxd_info("ksm: off (workers are not marked mergeable)");
		return;
	}
	if (strcmp(want, "group") == 0 || strcmp(want, "auto") == 0) {
		if (ksm_open_group(&error) == 0) {
			master_g->ksm_mode = DBOXD_KSM_GROUP;
			dboxd_info("ksm: workers join merge group '%s'",
				   master_g->config->set.ksm_group_name);
			ksm_note_run_state();
			return;
		}
		if (strcmp(want, "group") == 0)
			dboxd_fatal("ksm = group: %s", error);
	}
	if (prctl_merge_supported()) {
		master_g->ksm_mode = DBOXD_KSM_PRCTL;
		if (error != NULL)
			dboxd_info("ksm: no merge group (%s); workers use prctl(PR_SET_MEMORY_MERGE)",
				   error);
		else
			dboxd_info("ksm: workers use prctl(PR_SET_MEMORY_MERGE)");
		ksm_note_run_state();
		return;
	}
	if (strcmp(want, "prctl") == 0)
		dboxd_fatal("ksm = prctl: the kernel has no PR_SET_MEMORY_MERGE (6.4+)");
	dboxd_warn("ksm: no merge group (%s) and no PR_SET_MEMORY_MERGE: workers are not marked mergeable",
		   error != NULL ? error : "not tried");
}

void master_ksm_add(pid_t pid, const char *user)
{
#ifdef HAVE_KSMGROUP
	if (master_g->ksm_mode != DBOXD_KSM_GROUP || master_g->ksm_group == NULL)
		return;
	if (ksmg_group_add_member(master_g->ksm_group, pid) < 0)
		dboxd_warn("ksm: cannot add worker %s (pid %d) to the group: %s",
			   user, (int)pid, ksmg_strerror(errno));
	else
		dboxd_debug("ksm: worker %s (pid %d) joined the group", user,
			    (int)pid);
#else
	(void)pid;
	(void)user;
#endif
}

void master_ksm_deinit(void)
{
#ifdef HAVE_KSMGROUP
	ksmg_group_close(&master_g->ksm_group);
#endif
}
