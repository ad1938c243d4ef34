// SPDX-License-Identifier: GPL-2.0
/*
 * The periodic sweep: marks mappings members created since the last sweep
 * and drops members whose process exited or exec'd.
 *
 * One delayed work item on an ordered workqueue serves every group. Each
 * run sweeps the groups that are due and re-arms itself for the earliest
 * next one; with no groups it stays idle. Work that changes the schedule
 * (a new group, a new policy, a new member) kicks it to run at once.
 */
#include <linux/jiffies.h>
#include <linux/workqueue.h>
#include "ksmg.h"

static struct workqueue_struct *ksmg_wq;
static void ksmg_sweep_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ksmg_sweep_work, ksmg_sweep_fn);

static void ksmg_sweep_fn(struct work_struct *work)
{
	unsigned long now, next = 0;
	struct ksmg_group *group;
	unsigned long id;
	bool armed = false;

	mutex_lock(&ksmg_lock);
	xa_for_each(&ksmg_groups, id, group) {
		if (group->dead)
			continue;
		if (time_after_eq(jiffies, group->next_sweep))
			__ksmg_group_sweep(group, NULL);
		if (!armed || time_before(group->next_sweep, next))
			next = group->next_sweep;
		armed = true;
		cond_resched();
	}
	mutex_unlock(&ksmg_lock);

	if (!armed)
		return;
	now = jiffies;
	queue_delayed_work(ksmg_wq, &ksmg_sweep_work,
			   time_after(next, now) ? next - now : 1);
}

void ksmg_sweep_kick(void)
{
	mod_delayed_work(ksmg_wq, &ksmg_sweep_work, 0);
}

int ksmg_sweep_init(void)
{
	ksmg_wq = alloc_ordered_workqueue("ksmgroup", WQ_FREEZABLE);
	return ksmg_wq ? 0 : -ENOMEM;
}

/* Only called once no group is left: nothing re-arms the work after this. */
void ksmg_sweep_exit(void)
{
	cancel_delayed_work_sync(&ksmg_sweep_work);
	destroy_workqueue(ksmg_wq);
}
