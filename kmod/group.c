// SPDX-License-Identifier: GPL-2.0
/*
 * Merge groups and their members.
 */
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include "ksmg.h"
#include "compat.h"

/* Protects groups, members and figures: see the rules in ksmg.h. */
DEFINE_MUTEX(ksmg_lock);
DEFINE_XARRAY_ALLOC(ksmg_groups);
unsigned int ksmg_nr_members;

/* Every member's mm, so that an mm is in at most one group. */
static DEFINE_HASHTABLE(ksmg_members_by_mm, 8);

/*
 * sizeof(struct ksm_rmap_item) on 64-bit kernels, as ksm_process_profit()
 * charges it; the struct is private to mm/ksm.c.
 */
#define KSMG_RMAP_ITEM_SIZE	64

struct ksmg_group *ksmg_group_create(void)
{
	struct ksmg_group *group;
	int err;

	group = kzalloc(sizeof(*group), GFP_KERNEL);
	if (!group)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&group->members);
	group->policy = KSMG_POLICY_DEFAULT;
	group->state = KSMG_STATE_SETTLING;
	group->flat_since = jiffies;
	kobject_init(&group->kobj, &ksmg_group_ktype);

	mutex_lock(&ksmg_lock);
	err = xa_alloc(&ksmg_groups, &group->id, group, xa_limit_31b,
		       GFP_KERNEL);
	if (!err)
		group->next_sweep = jiffies +
				    msecs_to_jiffies(__ksmg_group_sweep_ms(group));
	mutex_unlock(&ksmg_lock);
	if (err)
		goto err_free;

	/* From here on the kobject release erases the id and frees. */
	err = ksmg_sysfs_add_group(group);
	if (err) {
		kobject_put(&group->kobj);
		return ERR_PTR(err);
	}
	ksmg_notify_group(group, KSMG_EVENT_GROUP_CREATED);
	ksmg_sweep_kick();
	return group;

err_free:
	kfree(group);
	return ERR_PTR(err);
}

/* Called from the kobject release once the sysfs directory is gone. */
void ksmg_group_free(struct ksmg_group *group)
{
	mutex_lock(&ksmg_lock);
	xa_erase(&ksmg_groups, group->id);
	mutex_unlock(&ksmg_lock);
	kfree(group);
}

void ksmg_group_destroy(struct ksmg_group *group)
{
	struct ksmg_member *member, *next;

	mutex_lock(&ksmg_lock);
	group->dead = true;
	list_for_each_entry_safe(member, next, &group->members, node)
		__ksmg_member_drop(member, 0);
	mutex_unlock(&ksmg_lock);

	ksmg_notify_group(group, KSMG_EVENT_GROUP_DESTROYED);
	kobject_put(&group->kobj);
}

struct ksmg_group *__ksmg_group_find(u32 id)
{
	struct ksmg_group *group;

	lockdep_assert_held(&ksmg_lock);
	group = xa_load(&ksmg_groups, id);
	return group && !group->dead ? group : NULL;
}

unsigned int __ksmg_group_sweep_ms(struct ksmg_group *group)
{
	return group->sweep_ms ?: READ_ONCE(ksmg_sweep_ms);
}

static struct ksmg_member *__ksmg_member_find_mm(struct mm_struct *mm)
{
	struct ksmg_member *member;

	hash_for_each_possible(ksmg_members_by_mm, member, hnode,
			       (unsigned long)mm)
		if (member->mm == mm)
			return member;
	return NULL;
}

static struct ksmg_member *__ksmg_member_find_pid(struct ksmg_group *group,
						  struct pid *pid)
{
	struct ksmg_member *member;

	list_for_each_entry(member, &group->members, node)
		if (member->pid == pid)
			return member;
	return NULL;
}

/*
 * Drop a member: @why is the event to report (MEMBER_LEFT, MEMBER_EXITED),
 * or 0 when the whole group goes and GROUP_DESTROYED says it all.
 */
void __ksmg_member_drop(struct ksmg_member *member, enum ksmg_event why)
{
	struct ksmg_group *group = member->group;

	lockdep_assert_held(&ksmg_lock);
	list_del(&member->node);
	hash_del(&member->hnode);
	group->nr_members--;
	ksmg_nr_members--;
	if (why == KSMG_EVENT_MEMBER_EXITED)
		group->members_exited++;
	if (why)
		ksmg_notify_member(group, member->pid, why);
	mmdrop(member->mm);
	put_pid(member->pid);
	kfree(member);
}

static void __ksmg_group_unsettle(struct ksmg_group *group)
{
	group->flat_since = jiffies;
	if (group->state == KSMG_STATE_SETTLING)
		return;
	group->state = KSMG_STATE_SETTLING;
	ksmg_notify_group(group, KSMG_EVENT_GROUP_SETTLING);
}

static int __ksmg_group_insert(struct ksmg_group *group,
			       struct ksmg_member *member)
{
	struct ksmg_member *other;
	unsigned int marked = 0;
	int err;

	lockdep_assert_held(&ksmg_lock);
	if (group->dead)
		return -ESRCH;
	other = __ksmg_member_find_mm(member->mm);
	if (other)
		return other->group == group ? -EEXIST : -EBUSY;
	if (group->nr_members >= READ_ONCE(ksmg_max_members))
		return -ENOSPC;

	err = mmap_write_lock_killable(member->mm);
	if (err)
		return err;
	err = ksmg_mark_mm(member->mm, group->policy, &marked);
	mmap_write_unlock(member->mm);
	group->vmas_marked += marked;
	if (err)
		return err;

	list_add_tail(&member->node, &group->members);
	hash_add(ksmg_members_by_mm, &member->hnode, (unsigned long)member->mm);
	group->nr_members++;
	group->members_joined++;
	ksmg_nr_members++;
	ksmg_notify_member(group, member->pid, KSMG_EVENT_MEMBER_JOINED);
	__ksmg_group_unsettle(group);
	return 0;
}

/**
 * ksmg_group_add_pid() - make process @nr a member of @group
 * @group: the group
 * @nr: a thread group id in the caller's pid namespace
 *
 * Marks the process's existing mappings before returning.
 *
 * Return: 0 or the errno of the uAPI contract.
 */
int ksmg_group_add_pid(struct ksmg_group *group, pid_t nr)
{
	struct ksmg_member *member;
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	int err;

	if (nr <= 0)
		return -EINVAL;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task) {
		err = -ESRCH;
		goto out_put_pid;
	}
	mm = get_task_mm(task);		/* NULL for kernel threads, zombies */
	if (!mm) {
		err = -ESRCH;
		goto out_put_task;
	}
	if (!ksmg_may_attach(task, mm)) {
		err = -EPERM;
		goto out_put_mm;
	}
	member = kzalloc(sizeof(*member), GFP_KERNEL);
	if (!member) {
		err = -ENOMEM;
		goto out_put_mm;
	}
	member->group = group;
	member->pid = get_pid(pid);
	member->mm = mm;
	mmgrab(mm);

	mutex_lock(&ksmg_lock);
	err = __ksmg_group_insert(group, member);
	mutex_unlock(&ksmg_lock);
	if (err) {
		mmdrop(mm);
		put_pid(member->pid);
		kfree(member);
	}
out_put_mm:
	mmput(mm);
out_put_task:
	put_task_struct(task);
out_put_pid:
	put_pid(pid);
	return err;
}

int ksmg_group_remove_pid(struct ksmg_group *group, pid_t nr)
{
	struct ksmg_member *member;
	struct pid *pid;
	int err = 0;

	if (nr <= 0)
		return -EINVAL;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	mutex_lock(&ksmg_lock);
	member = group->dead ? NULL : __ksmg_member_find_pid(group, pid);
	if (member)
		__ksmg_member_drop(member, KSMG_EVENT_MEMBER_LEFT);
	else
		err = -ESRCH;
	mutex_unlock(&ksmg_lock);
	put_pid(pid);
	return err;
}

void __ksmg_member_figures(struct ksmg_member *member, struct ksmg_figures *f)
{
	struct mm_struct *mm = member->mm;
	unsigned long merging, rmap, zero;

	/* Counters of an address space that is gone are not the group's. */
	if (!atomic_read(&mm->mm_users))
		return;
	merging = READ_ONCE(mm->ksm_merging_pages);
	rmap = READ_ONCE(mm->ksm_rmap_items);
	zero = ksmg_mm_zero_pages(mm);
	f->members++;
	if (!rmap && !zero)
		f->unvisited++;
	f->merging_pages += merging;
	f->rmap_items += rmap;
	f->zero_pages += zero;
	f->anon_pages += ksmg_mm_anon_pages(mm);
	f->profit += (s64)(merging + zero) * PAGE_SIZE -
		     (s64)rmap * KSMG_RMAP_ITEM_SIZE;
}

void __ksmg_group_figures(struct ksmg_group *group, struct ksmg_figures *f)
{
	struct ksmg_member *member;

	lockdep_assert_held(&ksmg_lock);
	memset(f, 0, sizeof(*f));
	list_for_each_entry(member, &group->members, node)
		__ksmg_member_figures(member, f);
}

/* Changes of at most this many pages count as flat. */
static unsigned long ksmg_slack(unsigned long pages)
{
	return max(8UL, pages / 128);
}

static bool ksmg_moved(unsigned long now, unsigned long before)
{
	unsigned long delta = now > before ? now - before : before - now;

	return delta > ksmg_slack(before);
}

/*
 * Has ksmd been over the group? Until then flat figures only mean ksmd is
 * busy elsewhere (or stopped). ksmd leaves an rmap item on every page it
 * scanned, or makes it a zero page. It has been over the group once it has
 * been over every member, or once its items cover a quarter of the resident
 * anonymous pages (a member with nothing mergeable resident never gets an
 * item). The quarter alone is not enough: members that keep most of their
 * memory out of merging (secrets, library data the policy leaves alone)
 * never reach it, and their group would settle for ever.
 */
static bool ksmg_scanned(const struct ksmg_figures *f)
{
	if (!f->rmap_items)
		return false;
	return !f->unvisited ||
	       (f->rmap_items + f->zero_pages) * 4 >= f->anon_pages;
}

/*
 * A group converges when ksmd has been over it, a sweep marked nothing new
 * and the members' KSM figures have stayed flat for converge_ms. A
 * converged group settles again when members join, new mappings get
 * marked, its anonymous memory grows by a sixteenth, or ksmd is visibly
 * still at work on it (more pages tracked or merging than when it
 * converged). The state is a signal for a user-space governor of ksmd,
 * which should confirm it with ksmd's own full_scans count.
 */
static void __ksmg_group_update_state(struct ksmg_group *group,
				      unsigned int marked)
{
	struct ksmg_figures f;
	unsigned long converge;
	bool grew;

	__ksmg_group_figures(group, &f);
	grew = f.merging_pages > group->last_merging +
				 ksmg_slack(group->last_merging) ||
	       f.rmap_items > group->last_rmap + ksmg_slack(group->last_rmap);
	if (marked || (group->state == KSMG_STATE_CONVERGED &&
		       (grew || f.anon_pages > group->converged_anon +
				max(256UL, group->converged_anon / 16))))
		__ksmg_group_unsettle(group);

	if (ksmg_moved(f.merging_pages, group->last_merging) ||
	    ksmg_moved(f.rmap_items, group->last_rmap)) {
		group->last_merging = f.merging_pages;
		group->last_rmap = f.rmap_items;
		group->flat_since = jiffies;
		return;
	}
	converge = msecs_to_jiffies(READ_ONCE(ksmg_converge_ms));
	if (group->state == KSMG_STATE_SETTLING && f.members &&
	    ksmg_scanned(&f) &&
	    time_after_eq(jiffies, group->flat_since + converge)) {
		group->state = KSMG_STATE_CONVERGED;
		group->converged_anon = f.anon_pages;
		ksmg_notify_group(group, KSMG_EVENT_GROUP_CONVERGED);
	}
}

int __ksmg_group_sweep(struct ksmg_group *group, unsigned int *marked_r)
{
	struct ksmg_member *member, *next;
	unsigned int marked = 0;
	int err, ret = 0;

	lockdep_assert_held(&ksmg_lock);
	list_for_each_entry_safe(member, next, &group->members, node) {
		err = ksmg_sweep_mm(member, group->policy, &marked);
		if (err == -ESRCH)
			__ksmg_member_drop(member, KSMG_EVENT_MEMBER_EXITED);
		else if (err && !ret)
			ret = err;
	}
	group->sweeps++;
	group->vmas_marked += marked;
	group->next_sweep = jiffies +
			    msecs_to_jiffies(__ksmg_group_sweep_ms(group));
	__ksmg_group_update_state(group, marked);
	if (marked_r)
		*marked_r = marked;
	return ret;
}

int ksmg_group_sweep(struct ksmg_group *group, unsigned int *marked_r)
{
	int err;

	mutex_lock(&ksmg_lock);
	err = group->dead ? -ESRCH : __ksmg_group_sweep(group, marked_r);
	mutex_unlock(&ksmg_lock);
	return err;
}
