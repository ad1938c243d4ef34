/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Process events from the kernel's process connector (NETLINK_CONNECTOR,
 * CN_IDX_PROC): exec, fork of a new process, and uid changes. Needs
 * CAP_NET_ADMIN. The socket is non-blocking; read it when poll() says so.
 */
#ifndef KSMGD_PROCMON_H
#define KSMGD_PROCMON_H

#include <stdint.h>
#include <sys/types.h>

enum ksmgd_proc_what {
	KSMGD_PROC_EXEC,	/* pid has exec'd a new program */
	KSMGD_PROC_FORK,	/* pid is a new process (not a thread) */
	KSMGD_PROC_UID,		/* pid changed its uids */
};

struct ksmgd_proc_event {
	enum ksmgd_proc_what what;
	pid_t pid;		/* thread group id */
	uint64_t timestamp_ns;	/* CLOCK_MONOTONIC, when the kernel sent it */
};

typedef void ksmgd_procmon_cb_t(const struct ksmgd_proc_event *ev, void *ctx);

struct ksmgd_procmon;

/* errno EPERM: not privileged; EPROTONOSUPPORT: no process connector. */
int ksmgd_procmon_open(struct ksmgd_procmon **pm_r, const char **error_r);
void ksmgd_procmon_close(struct ksmgd_procmon **pm);
int ksmgd_procmon_fd(const struct ksmgd_procmon *pm);
/*
 * Read every queued event and call cb for those above. -1 with errno
 * ENOBUFS means events were lost: the caller should rescan /proc.
 */
int ksmgd_procmon_read(struct ksmgd_procmon *pm, ksmgd_procmon_cb_t *cb,
		       void *ctx);

#endif /* KSMGD_PROCMON_H */
