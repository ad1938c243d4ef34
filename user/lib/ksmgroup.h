/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libksmgroup: a small C library over the ksmgroup ioctls.
 *
 * One struct ksmg_group is one open file of /dev/ksmgroup, which is one
 * merge group: it lives until ksmg_group_close() (or until the process
 * dies). See libksmgroup(3).
 *
 * Every function returning int returns 0 on success and -1 on failure with
 * errno set; the errno values are those of the module's contract written at
 * the top of <linux/ksmgroup.h>, plus EINVAL for arguments the library
 * refuses before asking the kernel, and EPROTONOSUPPORT when the module
 * speaks an API version this library does not know.
 */
#ifndef KSMG_LIB_KSMGROUP_H
#define KSMG_LIB_KSMGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/ksmgroup.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSMG_LIB_VERSION	"1.0.0"
#define KSMG_DEVICE_PATH	"/dev/" KSMG_DEVICE_NAME

struct ksmg_group;

/*
 * Open a new merge group on path (NULL means KSMG_DEVICE_PATH) and run the
 * version handshake. On failure *error_r (if error_r is not NULL) points to
 * a static sentence saying what to do, for example that the module is not
 * loaded.
 */
int ksmg_group_open(const char *path, struct ksmg_group **group_r,
		    const char **error_r);
/* Close the group (dissolving it) and set *group to NULL. NULL is fine. */
void ksmg_group_close(struct ksmg_group **group);

/* The group's file descriptor, for poll() or for passing to a child. */
int ksmg_group_fd(const struct ksmg_group *group);
/* What the handshake returned; valid as long as the group is open. */
const struct ksmg_info *ksmg_group_info(const struct ksmg_group *group);
/* The group's id: its directory under /sys/kernel/ksmgroup/. */
uint32_t ksmg_group_id(const struct ksmg_group *group);

/* 0 if name is a valid group name (see KSMG_IOC_SET_NAME), else EINVAL. */
int ksmg_name_check(const char *name);
int ksmg_group_set_name(struct ksmg_group *group, const char *name);
/*
 * policy: enum ksmg_policy bits; sweep_ms: 0 for the module's default, or
 * between the handshake's sweep_ms_min and sweep_ms_max.
 */
int ksmg_group_set_policy(struct ksmg_group *group, uint64_t policy,
			  uint32_t sweep_ms);

int ksmg_group_add_member(struct ksmg_group *group, pid_t pid);
int ksmg_group_remove_member(struct ksmg_group *group, pid_t pid);
/*
 * The group's live members. *pids_r is allocated with malloc() (NULL when
 * the group is empty) and the caller frees it.
 */
int ksmg_group_list_members(struct ksmg_group *group, pid_t **pids_r,
			    unsigned int *count_r);

int ksmg_group_get_stats(struct ksmg_group *group, struct ksmg_stats *stats_r);
/* Sweep now; vmas_marked_r (may be NULL) gets the mappings marked. */
int ksmg_group_sweep(struct ksmg_group *group, unsigned int *vmas_marked_r);

/*
 * Keep [addr, addr + len) of the calling process out of merging for good:
 * madvise(MADV_DONTDUMP) and then madvise(MADV_UNMERGEABLE). The module's
 * sweeps never re-mark a VM_DONTDUMP mapping. addr must be page aligned.
 * Note that MADV_DONTDUMP also keeps the range out of core dumps, which is
 * what one wants for secrets anyway.
 */
int ksmg_exclude_self(void *addr, size_t len);

/* The errno contract of <linux/ksmgroup.h> in words, for messages. */
const char *ksmg_strerror(int errnum);

#ifdef __cplusplus
}
#endif

#endif /* KSMG_LIB_KSMGROUP_H */
