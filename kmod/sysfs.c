// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/ksmgroup/: global figures and a directory per group.
 * Every file is described in docs/ABI/sysfs-kernel-ksmgroup.
 */
#include <linux/kobject.h>
#include <linux/pid_namespace.h>
#include <linux/sysfs.h>
#include "ksmg.h"
#include "compat.h"

static struct kobject *ksmg_kobj;

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", KSMG_API_VERSION);
}

static ssize_t groups_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct ksmg_group *group;
	unsigned int n = 0;
	unsigned long id;

	mutex_lock(&ksmg_lock);
	xa_for_each(&ksmg_groups, id, group)
		n += !group->dead;
	mutex_unlock(&ksmg_lock);
	return sysfs_emit(buf, "%u\n", n);
}

static ssize_t members_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(ksmg_nr_members));
}

static struct kobj_attribute ksmg_attr_version = __ATTR_RO(version);
static struct kobj_attribute ksmg_attr_groups = __ATTR_RO(groups);
static struct kobj_attribute ksmg_attr_members = __ATTR_RO(members);

static struct attribute *ksmg_global_attrs[] = {
	&ksmg_attr_version.attr,
	&ksmg_attr_groups.attr,
	&ksmg_attr_members.attr,
	NULL,
};

static const struct attribute_group ksmg_global_group = {
	.attrs = ksmg_global_attrs,
};

/* Per-group files. */

static inline struct ksmg_group *to_group(struct kobject *kobj)
{
	return container_of(kobj, struct ksmg_group, kobj);
}

/*
 * Numeric files: one show function picks the value by the attribute's
 * ksmg_value, reading a consistent snapshot under ksmg_lock.
 */
enum ksmg_value {
	KSMG_VAL_MEMBERS,
	KSMG_VAL_MERGING,
	KSMG_VAL_RMAP,
	KSMG_VAL_ZERO,
	KSMG_VAL_ANON,
	KSMG_VAL_PROFIT,
	KSMG_VAL_VMAS_MARKED,
	KSMG_VAL_SWEEPS,
	KSMG_VAL_JOINED,
	KSMG_VAL_EXITED,
};

struct ksmg_value_attr {
	struct kobj_attribute kattr;
	enum ksmg_value which;
};

static s64 __ksmg_value(struct ksmg_group *group, enum ksmg_value which)
{
	struct ksmg_figures f;

	switch (which) {
	case KSMG_VAL_VMAS_MARKED:
		return group->vmas_marked;
	case KSMG_VAL_SWEEPS:
		return group->sweeps;
	case KSMG_VAL_JOINED:
		return group->members_joined;
	case KSMG_VAL_EXITED:
		return group->members_exited;
	default:
		break;
	}
	__ksmg_group_figures(group, &f);
	switch (which) {
	case KSMG_VAL_MEMBERS:
		return f.members;
	case KSMG_VAL_MERGING:
		return f.merging_pages;
	case KSMG_VAL_RMAP:
		return f.rmap_items;
	case KSMG_VAL_ZERO:
		return f.zero_pages;
	case KSMG_VAL_ANON:
		return f.anon_pages;
	default:
		return f.profit;
	}
}

static ssize_t ksmg_value_show(struct kobject *kobj,
			       struct kobj_attribute *kattr, char *buf)
{
	struct ksmg_value_attr *attr =
		container_of(kattr, struct ksmg_value_attr, kattr);
	s64 val;

	mutex_lock(&ksmg_lock);
	val = __ksmg_value(to_group(kobj), attr->which);
	mutex_unlock(&ksmg_lock);
	return sysfs_emit(buf, "%lld\n", val);
}

#define KSMG_VALUE_ATTR(_name, _which)					\
static struct ksmg_value_attr ksmg_group_attr_##_name = {		\
	.kattr = __ATTR(_name, 0444, ksmg_value_show, NULL),		\
	.which = _which,						\
}

KSMG_VALUE_ATTR(members, KSMG_VAL_MEMBERS);
KSMG_VALUE_ATTR(merging_pages, KSMG_VAL_MERGING);
KSMG_VALUE_ATTR(rmap_items, KSMG_VAL_RMAP);
KSMG_VALUE_ATTR(zero_pages, KSMG_VAL_ZERO);
KSMG_VALUE_ATTR(anon_pages, KSMG_VAL_ANON);
KSMG_VALUE_ATTR(profit, KSMG_VAL_PROFIT);
KSMG_VALUE_ATTR(vmas_marked, KSMG_VAL_VMAS_MARKED);
KSMG_VALUE_ATTR(sweeps, KSMG_VAL_SWEEPS);
KSMG_VALUE_ATTR(members_joined, KSMG_VAL_JOINED);
KSMG_VALUE_ATTR(members_exited, KSMG_VAL_EXITED);

static ssize_t name_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	ssize_t len;

	mutex_lock(&ksmg_lock);
	len = sysfs_emit(buf, "%s\n", to_group(kobj)->name);
	mutex_unlock(&ksmg_lock);
	return len;
}

static ssize_t policy_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	u64 policy;
	int len = 0;

	mutex_lock(&ksmg_lock);
	policy = to_group(kobj)->policy;
	mutex_unlock(&ksmg_lock);
	if (policy & KSMG_POLICY_ANON)
		len += sysfs_emit_at(buf, len, "anon ");
	if (policy & KSMG_POLICY_FILE_PRIVATE)
		len += sysfs_emit_at(buf, len, "file_private ");
	if (!len)
		return sysfs_emit(buf, "none\n");
	buf[len - 1] = '\n';
	return len;
}

static ssize_t sweep_ms_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	unsigned int ms;

	mutex_lock(&ksmg_lock);
	ms = __ksmg_group_sweep_ms(to_group(kobj));
	mutex_unlock(&ksmg_lock);
	return sysfs_emit(buf, "%u\n", ms);
}

static ssize_t state_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	enum ksmg_state state;

	mutex_lock(&ksmg_lock);
	state = to_group(kobj)->state;
	mutex_unlock(&ksmg_lock);
	return sysfs_emit(buf, "%s\n", state == KSMG_STATE_CONVERGED ?
			  "converged" : "settling");
}

/* One pid per line, in the reader's pid namespace, as many as fit a page. */
static ssize_t pids_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ksmg_member *member;
	int len = 0;
	pid_t nr;

	mutex_lock(&ksmg_lock);
	list_for_each_entry(member, &to_group(kobj)->members, node) {
		if (len > PAGE_SIZE - 16)
			break;
		nr = pid_nr_ns(member->pid, ns);
		if (nr)
			len += sysfs_emit_at(buf, len, "%d\n", nr);
	}
	mutex_unlock(&ksmg_lock);
	return len;
}

static struct kobj_attribute ksmg_group_attr_name = __ATTR_RO(name);
static struct kobj_attribute ksmg_group_attr_policy = __ATTR_RO(policy);
static struct kobj_attribute ksmg_group_attr_sweep_ms = __ATTR_RO(sweep_ms);
static struct kobj_attribute ksmg_group_attr_state = __ATTR_RO(state);
static struct kobj_attribute ksmg_group_attr_pids = __ATTR_RO(pids);

static struct attribute *ksmg_group_attrs[] = {
	&ksmg_group_attr_name.attr,
	&ksmg_group_attr_members.kattr.attr,
	&ksmg_group_attr_pids.attr,
	&ksmg_group_attr_merging_pages.kattr.attr,
	&ksmg_group_attr_rmap_items.kattr.attr,
	&ksmg_group_attr_zero_pages.kattr.attr,
	&ksmg_group_attr_anon_pages.kattr.attr,
	&ksmg_group_attr_profit.kattr.attr,
	&ksmg_group_attr_vmas_marked.kattr.attr,
	&ksmg_group_attr_sweeps.kattr.attr,
	&ksmg_group_attr_members_joined.kattr.attr,
	&ksmg_group_attr_members_exited.kattr.attr,
	&ksmg_group_attr_policy.attr,
	&ksmg_group_attr_sweep_ms.attr,
	&ksmg_group_attr_state.attr,
	NULL,
};

/* zero_pages exists only where the kernel counts them per process. */
static umode_t ksmg_group_attr_visible(struct kobject *kobj,
				       struct attribute *attr, int n)
{
	if (attr == &ksmg_group_attr_zero_pages.kattr.attr && !ksmg_have_zero_pages())
		return 0;
	return attr->mode;
}

static const struct attribute_group ksmg_group_attr_group = {
	.attrs = ksmg_group_attrs,
	.is_visible = ksmg_group_attr_visible,
};

static const struct attribute_group *ksmg_group_attr_groups[] = {
	&ksmg_group_attr_group,
	NULL,
};

static void ksmg_group_kobj_release(struct kobject *kobj)
{
	ksmg_group_free(to_group(kobj));
}

const struct kobj_type ksmg_group_ktype = {
	.release = ksmg_group_kobj_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = ksmg_group_attr_groups,
};

int ksmg_sysfs_add_group(struct ksmg_group *group)
{
	return kobject_add(&group->kobj, ksmg_kobj, "%u", group->id);
}

int ksmg_sysfs_init(void)
{
	int err;

	ksmg_kobj = kobject_create_and_add("ksmgroup", kernel_kobj);
	if (!ksmg_kobj)
		return -ENOMEM;
	err = sysfs_create_group(ksmg_kobj, &ksmg_global_group);
	if (err)
		kobject_put(ksmg_kobj);
	return err;
}

void ksmg_sysfs_exit(void)
{
	sysfs_remove_group(ksmg_kobj, &ksmg_global_group);
	kobject_put(ksmg_kobj);
}
