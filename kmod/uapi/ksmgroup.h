/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ksmgroup: merge groups of worker processes for KSM.
 *
 * An open file of /dev/ksmgroup is a merge group. The daemon that opened it
 * names the group, sets its policy and registers worker processes by pid;
 * the module then keeps every anonymous private mapping of each member
 * mergeable (VM_MERGEABLE), including mappings created after registration.
 * Closing the last reference to the file dissolves the group.
 *
 * Every ioctl takes a pointer to a struct that begins with
 * "__u32 size; __u32 flags;". size is sizeof() of the struct as the caller
 * knows it, so that structs can grow at their end without new ioctl numbers.
 * The kernel copies min(size, its own size) bytes; bytes beyond what the
 * kernel knows must be zero. Output fields are written back only up to size.
 *
 * Errno contract, the same for every ioctl:
 *   ENOTTY      the ioctl number is not a ksmgroup ioctl.
 *   EINVAL      size is below the struct's first published size, a flag or
 *               policy bit is unknown, a __reserved field is not zero, or a
 *               value is out of range (the field's comment gives the range).
 *   E2BIG       size is larger than the kernel's struct and the extra bytes
 *               are not zero: the caller asks for something this kernel lacks.
 *   EFAULT      a pointer (the argument or a user pointer field) is bad.
 *   EOPNOTSUPP  the request is valid but the running kernel cannot do it.
 *   EPERM       the caller could not ptrace the target process (see below).
 *   ESRCH       no such process in the caller's pid namespace, the process
 *               has no address space (kernel thread, zombie), or it is not a
 *               member of this group.
 *   EEXIST      the process is already a member of this group.
 *   EBUSY       the process is a member of another group.
 *   ENOSPC      the group is full: it holds the module parameter max_members
 *               members (at most KSMG_MAX_MEMBERS).
 *   ENOMEM      out of memory.
 *   EINTR       a fatal signal arrived while waiting for the target's
 *               mmap lock; nothing was changed.
 *
 * Permission: a caller may add a process only where it could ptrace it:
 * it has CAP_SYS_PTRACE or CAP_SYS_ADMIN in the target's user namespace, or
 * it shares every real, effective and saved uid and gid with the target,
 * the target is dumpable and is the caller itself or one of its descendants.
 * The check uses the credentials of the task calling ioctl(), at that time.
 *
 * Keeping memory out of merging: the module never marks a mapping that has
 * VM_DONTDUMP (madvise MADV_DONTDUMP) or VM_WIPEONFORK (MADV_WIPEONFORK).
 * A member keeps secrets out by calling madvise(MADV_DONTDUMP) and then
 * madvise(MADV_UNMERGEABLE) on the range; later sweeps leave it alone.
 */
#ifndef _UAPI_LINUX_KSMGROUP_H
#define _UAPI_LINUX_KSMGROUP_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KSMG_DEVICE_NAME	"ksmgroup"
#define KSMG_API_VERSION	1

#define KSMG_NAME_MAX		32	/* including the terminating NUL */
#define KSMG_MAX_MEMBERS	65536

#define KSMG_TYPE		0xB7	/* see Documentation/userspace-api/ioctl */
#define KSMG_CMD_BASE		0x80

enum {
	KSMG_CMD_GET_INFO = KSMG_CMD_BASE,
	KSMG_CMD_SET_NAME,
	KSMG_CMD_SET_POLICY,
	KSMG_CMD_ADD_MEMBER,
	KSMG_CMD_REMOVE_MEMBER,
	KSMG_CMD_GET_STATS,
	KSMG_CMD_LIST_MEMBERS,
	KSMG_CMD_SWEEP,
};

/* Features of the running kernel, reported by KSMG_IOC_GET_INFO. */
enum ksmg_feature {
	/* mm->ksm_zero_pages exists: zero_pages figures are real (6.10+). */
	KSMG_FEATURE_ZERO_PAGES		= 1 << 0,
	/* The kernel has prctl(PR_SET_MEMORY_MERGE) (6.4+). */
	KSMG_FEATURE_PRCTL_MERGE	= 1 << 1,
	/* /proc/PID/ksm_stat reports ksm_process_profit (6.7+). */
	KSMG_FEATURE_PROCESS_PROFIT	= 1 << 2,
};

/**
 * struct ksmg_info - ioctl(KSMG_IOC_GET_INFO): the version handshake
 * @size: sizeof(struct ksmg_info)
 * @flags: must be 0
 * @api_version: out, KSMG_API_VERSION of the module
 * @group_id: out, the id of this group (its directory under
 *            /sys/kernel/ksmgroup/ and its netlink KSMG_A_GROUP_ID)
 * @features: out, enum ksmg_feature bits
 * @policies: out, every enum ksmg_policy bit this module accepts
 * @sweep_ms_min: out, smallest accepted ksmg_policy_cmd.sweep_ms
 * @sweep_ms_max: out, largest accepted ksmg_policy_cmd.sweep_ms
 */
struct ksmg_info {
	__u32 size;
	__u32 flags;
	__u32 api_version;
	__u32 group_id;
	__aligned_u64 features;
	__aligned_u64 policies;
	__u32 sweep_ms_min;
	__u32 sweep_ms_max;
};

#define KSMG_IOC_GET_INFO	_IO(KSMG_TYPE, KSMG_CMD_GET_INFO)

/**
 * struct ksmg_name_cmd - ioctl(KSMG_IOC_SET_NAME): name the group
 * @size: sizeof(struct ksmg_name_cmd)
 * @flags: must be 0
 * @name: 1 to KSMG_NAME_MAX - 1 printable ASCII characters other than
 *        space and '/', NUL-terminated; the rest of the array must be 0
 */
struct ksmg_name_cmd {
	__u32 size;
	__u32 flags;
	char name[KSMG_NAME_MAX];
};

#define KSMG_IOC_SET_NAME	_IO(KSMG_TYPE, KSMG_CMD_SET_NAME)

/* What the module marks mergeable in a member's address space. */
enum ksmg_policy {
	/* Anonymous private mappings: heap, malloc arenas, stacks, mmap. */
	KSMG_POLICY_ANON		= 1 << 0,
	/*
	 * Also private file mappings that are writable or were written
	 * (RELRO after mprotect): their copied-on-write pages.
	 */
	KSMG_POLICY_FILE_PRIVATE	= 1 << 1,
};

#define KSMG_POLICY_DEFAULT	KSMG_POLICY_ANON

/**
 * struct ksmg_policy_cmd - ioctl(KSMG_IOC_SET_POLICY)
 * @size: sizeof(struct ksmg_policy_cmd)
 * @flags: must be 0
 * @policy: enum ksmg_policy bits; applies from the next sweep on. Mappings
 *          already marked stay marked.
 * @sweep_ms: how often members are swept for new mappings, in ms; 0 keeps
 *            the module default (parameter sweep_ms); otherwise between
 *            ksmg_info.sweep_ms_min and sweep_ms_max
 * @__reserved: must be 0
 */
struct ksmg_policy_cmd {
	__u32 size;
	__u32 flags;
	__aligned_u64 policy;
	__u32 sweep_ms;
	__u32 __reserved;
};

#define KSMG_IOC_SET_POLICY	_IO(KSMG_TYPE, KSMG_CMD_SET_POLICY)

/**
 * struct ksmg_member_cmd - ioctl(KSMG_IOC_ADD_MEMBER, KSMG_IOC_REMOVE_MEMBER)
 * @size: sizeof(struct ksmg_member_cmd)
 * @flags: must be 0
 * @pid: a process id (thread group id) in the caller's pid namespace
 * @__reserved: must be 0
 *
 * ADD_MEMBER marks the process's existing mappings before it returns.
 * REMOVE_MEMBER stops sweeping it; mappings already marked stay mergeable.
 */
struct ksmg_member_cmd {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 __reserved;
};

#define KSMG_IOC_ADD_MEMBER	_IO(KSMG_TYPE, KSMG_CMD_ADD_MEMBER)
#define KSMG_IOC_REMOVE_MEMBER	_IO(KSMG_TYPE, KSMG_CMD_REMOVE_MEMBER)

enum ksmg_state {
	/* Members joined or new mappings were marked recently. */
	KSMG_STATE_SETTLING	= 0,
	/* No new mappings and flat KSM figures for converge_ms. */
	KSMG_STATE_CONVERGED	= 1,
};

/**
 * struct ksmg_stats - ioctl(KSMG_IOC_GET_STATS): the group's figures
 * @size: sizeof(struct ksmg_stats)
 * @flags: must be 0
 * @members: out, live members
 * @state: out, enum ksmg_state
 * @merging_pages: out, sum of the members' ksm_merging_pages
 * @rmap_items: out, sum of the members' ksm_rmap_items
 * @zero_pages: out, sum of the members' ksm_zero_pages (0 where the kernel
 *              lacks KSMG_FEATURE_ZERO_PAGES)
 * @anon_pages: out, sum of the members' resident anonymous pages
 * @profit: out, bytes saved, as /proc/PID/ksm_stat's ksm_process_profit
 * @vmas_marked: out, mappings the module has marked since the group began
 * @sweeps: out, sweeps of the group since it began
 * @members_joined: out, members ever added
 * @members_exited: out, members that exited or exec'd while in the group
 */
struct ksmg_stats {
	__u32 size;
	__u32 flags;
	__u32 members;
	__u32 state;
	__aligned_u64 merging_pages;
	__aligned_u64 rmap_items;
	__aligned_u64 zero_pages;
	__aligned_u64 anon_pages;
	__s64 profit;
	__aligned_u64 vmas_marked;
	__aligned_u64 sweeps;
	__aligned_u64 members_joined;
	__aligned_u64 members_exited;
};

#define KSMG_IOC_GET_STATS	_IO(KSMG_TYPE, KSMG_CMD_GET_STATS)

/**
 * struct ksmg_list_cmd - ioctl(KSMG_IOC_LIST_MEMBERS)
 * @size: sizeof(struct ksmg_list_cmd)
 * @flags: must be 0
 * @count: in, room in @pids (entries); out, live members. When out > in,
 *         only the first in entries were written.
 * @__reserved: must be 0
 * @pids: user pointer to an array of __s32, filled with the members' pids
 *        in the caller's pid namespace (0 where a member is not visible)
 */
struct ksmg_list_cmd {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 __reserved;
	__aligned_u64 pids;
};

#define KSMG_IOC_LIST_MEMBERS	_IO(KSMG_TYPE, KSMG_CMD_LIST_MEMBERS)

/**
 * struct ksmg_sweep_cmd - ioctl(KSMG_IOC_SWEEP): sweep the group now
 * @size: sizeof(struct ksmg_sweep_cmd)
 * @flags: must be 0
 * @vmas_marked: out, mappings marked by this sweep
 * @__reserved: must be 0
 *
 * For a daemon that knows its workers just grew; the periodic sweep
 * catches the same mappings within sweep_ms anyway.
 */
struct ksmg_sweep_cmd {
	__u32 size;
	__u32 flags;
	__u32 vmas_marked;
	__u32 __reserved;
};

#define KSMG_IOC_SWEEP		_IO(KSMG_TYPE, KSMG_CMD_SWEEP)

/*
 * Generic netlink family KSMG_GENL_NAME, version KSMG_GENL_VERSION.
 *
 * KSMG_CMD_GROUP_GET: doit with KSMG_A_GROUP_ID, or dump all groups. Each
 *   reply carries the group attributes below.
 * KSMG_CMD_MEMBER_GET: dump the members of the group KSMG_A_GROUP_ID (or of
 *   every group), one message each with KSMG_A_GROUP_ID, KSMG_A_PID and the
 *   member's figures.
 * KSMG_CMD_MEMBER_ADD, KSMG_CMD_MEMBER_DEL: admin only (CAP_NET_ADMIN); add
 *   or remove KSMG_A_PID to or from KSMG_A_GROUP_ID under the same
 *   permission rule as the ioctls, with errnos as above.
 * KSMG_CMD_GROUP_SWEEP: admin only; sweep KSMG_A_GROUP_ID now.
 *
 * Events go to the multicast group KSMG_GENL_MCGRP_EVENTS with cmd
 * KSMG_CMD_EVENT and KSMG_A_EVENT set to an enum ksmg_event.
 */
#define KSMG_GENL_NAME		"ksmgroup"
#define KSMG_GENL_VERSION	1
#define KSMG_GENL_MCGRP_EVENTS	"events"

enum {
	KSMG_CMD_UNSPEC,
	KSMG_CMD_GROUP_GET,
	KSMG_CMD_MEMBER_GET,
	KSMG_CMD_MEMBER_ADD,
	KSMG_CMD_MEMBER_DEL,
	KSMG_CMD_GROUP_SWEEP,
	KSMG_CMD_EVENT,

	__KSMG_CMD_MAX,
	KSMG_CMD_MAX = __KSMG_CMD_MAX - 1
};

enum {
	KSMG_A_UNSPEC,
	KSMG_A_GROUP_ID,	/* u32 */
	KSMG_A_NAME,		/* string */
	KSMG_A_POLICY,		/* u64, enum ksmg_policy */
	KSMG_A_STATE,		/* u32, enum ksmg_state */
	KSMG_A_MEMBERS,		/* u32 */
	KSMG_A_PID,		/* s32, in the receiver's pid namespace */
	KSMG_A_MERGING_PAGES,	/* u64 */
	KSMG_A_RMAP_ITEMS,	/* u64 */
	KSMG_A_ZERO_PAGES,	/* u64 */
	KSMG_A_ANON_PAGES,	/* u64 */
	KSMG_A_PROFIT,		/* s64 */
	KSMG_A_VMAS_MARKED,	/* u64 */
	KSMG_A_SWEEPS,		/* u64 */
	KSMG_A_EVENT,		/* u32, enum ksmg_event */
	KSMG_A_PAD,

	__KSMG_A_MAX,
	KSMG_A_MAX = __KSMG_A_MAX - 1
};

enum ksmg_event {
	KSMG_EVENT_GROUP_CREATED = 1,
	KSMG_EVENT_GROUP_DESTROYED,
	KSMG_EVENT_MEMBER_JOINED,
	KSMG_EVENT_MEMBER_LEFT,		/* removed by ioctl or netlink */
	KSMG_EVENT_MEMBER_EXITED,	/* the process exited or exec'd */
	KSMG_EVENT_GROUP_CONVERGED,
	KSMG_EVENT_GROUP_SETTLING,	/* a converged group has new memory */
};

#endif /* _UAPI_LINUX_KSMGROUP_H */
