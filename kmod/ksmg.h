/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksmgroup internals.
 *
 * Locking: one mutex, ksmg_lock, protects the group table, every group's
 * member list and figures, and the table of member mms. Lock order:
 *
 *	ksmg_lock -> mmap_lock of a member's mm
 *
 * Nothing takes ksmg_lock with an mmap_lock held, and no copy to or from
 * user memory happens under ksmg_lock (a fault there would take the
 * caller's mmap_lock, which a sweep may be waiting for while holding
 * ksmg_lock). sysfs and netlink readers take ksmg_lock too; group
 * teardown therefore removes the sysfs directory only after dropping it.
 */
#ifndef _KSMG_H
#define _KSMG_H

#include <linux/hashtable.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include "uapi/ksmgroup.h"

struct mm_struct;
struct pid;
struct task_struct;

/*
 * A merge group: one per open file of /dev/ksmgroup.
 *
 * Lifetime: the kobject's refcount is the group's. The file holds the only
 * reference; release() dissolves the group (drops its members, marks it
 * dead) under ksmg_lock and then puts the kobject, which removes the sysfs
 * directory and, in ksmg_group_release(), erases the group from
 * ksmg_groups under ksmg_lock and frees it. Everything that finds a group
 * through ksmg_groups does so under ksmg_lock and skips dead groups.
 */
struct ksmg_group {
	struct kobject kobj;
	u32 id;
	bool dead;			/* dissolved; members list is empty */

	/* All below under ksmg_lock. */
	struct list_head members;	/* struct ksmg_member.node */
	unsigned int nr_members;
	char name[KSMG_NAME_MAX];
	u64 policy;			/* enum ksmg_policy bits */
	unsigned int sweep_ms;		/* 0: module parameter sweep_ms */
	unsigned long next_sweep;	/* jiffies */

	u64 vmas_marked;
	u64 sweeps;
	u64 members_joined;
	u64 members_exited;

	/* Convergence: see ksmg_group_update_state(). */
	enum ksmg_state state;
	unsigned long flat_since;	/* jiffies since the figures were flat */
	unsigned long last_merging;
	unsigned long last_rmap;
	unsigned long converged_anon;	/* anon pages when it converged */
};

/*
 * A member: one process (its mm) in one group.
 *
 * The member holds a reference on the struct pid (get_pid) to report the
 * pid and to find the process again, and on the mm_struct (mmgrab: the
 * struct stays, the address space may go). Identity is the mm, never the
 * pid number: when the process exits or execs, its mm loses its last user
 * and the next sweep drops the member; a new process that reuses the pid
 * number has another struct pid and another mm and is never a member.
 */
struct ksmg_member {
	struct list_head node;		/* in group->members */
	struct hlist_node hnode;	/* in ksmg_members_by_mm */
	struct ksmg_group *group;
	struct pid *pid;
	struct mm_struct *mm;
	unsigned int lock_misses;	/* sweeps that found the mm busy */
};

/* Sums over a group's live members; see ksmg_group_figures(). */
struct ksmg_figures {
	u32 members;
	u32 unvisited;		/* members without rmap items or zero pages */
	u64 merging_pages;
	u64 rmap_items;
	u64 zero_pages;
	u64 anon_pages;
	s64 profit;
};

extern struct mutex ksmg_lock;
extern struct xarray ksmg_groups;
extern unsigned int ksmg_nr_members;
extern unsigned int ksmg_sweep_ms;
extern unsigned int ksmg_converge_ms;
extern unsigned int ksmg_max_members;

#define KSMG_SWEEP_MS_MIN	20
#define KSMG_SWEEP_MS_MAX	60000
#define KSMG_POLICY_ALL		(KSMG_POLICY_ANON | KSMG_POLICY_FILE_PRIVATE)

/* group.c */
struct ksmg_group *ksmg_group_create(void);
void ksmg_group_destroy(struct ksmg_group *group);
void ksmg_group_free(struct ksmg_group *group);
struct ksmg_group *__ksmg_group_find(u32 id);
int ksmg_group_add_pid(struct ksmg_group *group, pid_t nr);
int ksmg_group_remove_pid(struct ksmg_group *group, pid_t nr);
void __ksmg_member_drop(struct ksmg_member *member, enum ksmg_event why);
void __ksmg_group_figures(struct ksmg_group *group, struct ksmg_figures *f);
void __ksmg_member_figures(struct ksmg_member *member, struct ksmg_figures *f);
unsigned int __ksmg_group_sweep_ms(struct ksmg_group *group);
int ksmg_group_sweep(struct ksmg_group *group, unsigned int *marked_r);
int __ksmg_group_sweep(struct ksmg_group *group, unsigned int *marked_r);

/* mark.c */
int ksmg_mark_mm(struct mm_struct *mm, u64 policy, unsigned int *marked_r);
int ksmg_sweep_mm(struct ksmg_member *member, u64 policy,
		  unsigned int *marked_r);

/* sweep.c */
int ksmg_sweep_init(void);
void ksmg_sweep_exit(void);
void ksmg_sweep_kick(void);

/* perm.c */
bool ksmg_may_attach(struct task_struct *task, struct mm_struct *mm);

/* device.c */
int ksmg_device_init(void);
void ksmg_device_exit(void);

/* sysfs.c */
int ksmg_sysfs_init(void);
void ksmg_sysfs_exit(void);
int ksmg_sysfs_add_group(struct ksmg_group *group);
extern const struct kobj_type ksmg_group_ktype;

/* netlink.c */
int ksmg_netlink_init(void);
void ksmg_netlink_exit(void);
void ksmg_notify_group(struct ksmg_group *group, enum ksmg_event event);
void ksmg_notify_member(struct ksmg_group *group, struct pid *pid,
			enum ksmg_event event);

#endif /* _KSMG_H */
