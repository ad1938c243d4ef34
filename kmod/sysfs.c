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

enum ksmg_figure {
	KSMG_FIG_MEMBERS,
	KSMG_FIG_MERGING,
	KSMG_FIG_RMAP,
	KSMG_FIG_ZERO,
	KSMG_FIG_ANON,
	KSMG_FIG_PROFIT,
};

static ssize_t ksmg_figure_show(struct kobject *kobj, char *buf,
				enum ksmg_figure which)
{
	struct ksmg_figures f;

	mutex_lock(&ksmg_lock);
	__ksmg_group_figures(to_group(kobj), &f);
	mutex_unlock(&ksmg_lock);

	switch (which) {
	case KSMG_FIG_MEMBERS:
		return sysfs_emit(buf, "%u\n", f.members);
	case KSMG_FIG_MERGING:
		return sysfs_emit(buf, "%llu\n", f.merging_pages);
	case KSMG_FIG_RMAP:
		return sysfs_emit(buf, "%llu\n", f.rmap_items);
	case KSMG_FIG_ZERO:
		return sysfs_emit(buf, "%llu\n", f.zero_pages);
	case KSMG_FIG_ANON:
		return sysfs_emit(buf, "%llu\n", f.anon_pages);
	case KSMG_FIG_PROFIT:
		return sysfs_emit(buf, "%lld\n", f.profit);
	}
	return -EINVAL;
}

#define KSMG_FIGURE_ATTR(_name, _which)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return ksmg_figure_show(kobj, buf, _which);			\
}									\
static struct kobj_attribute ksmg_group_attr_##_name = __ATTR_RO(_name)

KSMG_FIGURE_ATTR(merging_pages, KSMG_FIG_MERGING);
KSMG_FIGURE_ATTR(rmap_items, KSMG_FIG_RMAP);
KSMG_FIGURE_ATTR(zero_pages, KSMG_FIG_ZERO);
KSMG_FIGURE_ATTR(anon_pages, KSMG_FIG_ANON);
KSMG_FIGURE_ATTR(profit, KSMG_FIG_PROFIT);

/* The group's "members" counts live members, like the figures above. */
static ssize_t group_members_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return ksmg_figure_show(kobj, buf, KSMG_FIG_MEMBERS);
}

static struct kobj_attribute ksmg_group_attr_members =
	__ATTR(members, 0444, group_members_show, NULL);

/* Counters kept by the group itself, read under ksmg_lock. */
#define KSMG_COUNTER_ATTR(_name)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	u64 val;							\
									\
	mutex_lock(&ksmg_lock);						\
	val = to_group(kobj)->_name;					\
	mutex_unlock(&ksmg_lock);					\
	return sysfs_emit(buf, "%llu\n", val);				\
}									\
static struct kobj_attribute ksmg_group_attr_##_name = __ATTR_RO(_name)

KSMG_COUNTER_ATTR(vmas_marked);
KSMG_COUNTER_ATTR(sweeps);
KSMG_COUNTER_ATTR(members_joined);
KSMG_COUNTER_ATTR(members_exited);

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
	&ksmg_group_attr_members.attr,
	&ksmg_group_attr_pids.attr,
	&ksmg_group_attr_merging_pages.attr,
	&ksmg_group_attr_rmap_items.attr,
	&ksmg_group_attr_zero_pages.attr,
	&ksmg_group_attr_anon_pages.attr,
	&ksmg_group_attr_profit.attr,
	&ksmg_group_attr_vmas_marked.attr,
	&ksmg_group_attr_sweeps.attr,
	&ksmg_group_attr_members_joined.attr,
	&ksmg_group_attr_members_exited.attr,
	&ksmg_group_attr_policy.attr,
	&ksmg_group_attr_sweep_ms.attr,
	&ksmg_group_attr_state.attr,
	NULL,
};

/* zero_pages exists only where the kernel counts them per process. */
static umode_t ksmg_group_attr_visible(struct kobject *kobj,
				       struct attribute *attr, int n)
{
	if (attr == &ksmg_group_attr_zero_pages.attr && !KSMG_HAVE_ZERO_PAGES)
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
