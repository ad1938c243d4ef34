// SPDX-License-Identifier: GPL-2.0
/*
 * Who may add a process to a group: whoever could ptrace it.
 *
 * ptrace_may_access() is not exported, so this is a conservative copy of
 * its rule for PTRACE_MODE_ATTACH_REALCREDS. It cannot consult the LSMs
 * (security_ptrace_access_check() is not exported either); to stay on the
 * safe side of Yama's default scope (1, descendants only) an unprivileged
 * caller may only add itself or its own descendants. Marking memory
 * mergeable changes what a side channel can see, so it deserves the same
 * bar as reading that memory.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include "ksmg.h"

static bool ksmg_capable(struct user_namespace *ns)
{
	return ns_capable_noaudit(ns, CAP_SYS_PTRACE) ||
	       ns_capable(ns, CAP_SYS_ADMIN);
}

/* Every real, effective and saved id equal, as ptrace's REALCREDS rule. */
static bool ksmg_same_ids(const struct cred *c, const struct cred *t)
{
	return uid_eq(c->uid, t->euid) && uid_eq(c->uid, t->suid) &&
	       uid_eq(c->uid, t->uid) && gid_eq(c->gid, t->egid) &&
	       gid_eq(c->gid, t->sgid) && gid_eq(c->gid, t->gid);
}

/* Yama's task_is_descendant(), for the current task as the ancestor. */
static bool ksmg_is_descendant(struct task_struct *task)
{
	struct task_struct *walker = task;
	bool found = false;

	rcu_read_lock();
	while (walker->pid > 0) {
		if (same_thread_group(walker, current)) {
			found = true;
			break;
		}
		walker = rcu_dereference(walker->real_parent);
	}
	rcu_read_unlock();
	return found;
}

/**
 * ksmg_may_attach() - may the current task add @task to a group
 * @task: the target, a thread group leader
 * @mm: its address space, pinned by the caller
 *
 * Return: true when the current task could ptrace @task.
 */
bool ksmg_may_attach(struct task_struct *task, struct mm_struct *mm)
{
	const struct cred *tcred;
	bool ok;

	if (same_thread_group(task, current))
		return true;

	tcred = get_task_cred(task);
	if (ksmg_capable(tcred->user_ns))
		ok = get_dumpable(mm) == SUID_DUMP_USER ||
		     ksmg_capable(mm->user_ns);
	else
		ok = ksmg_same_ids(current_cred(), tcred) &&
		     get_dumpable(mm) == SUID_DUMP_USER &&
		     ksmg_is_descendant(task);
	put_cred(tcred);
	return ok;
}
