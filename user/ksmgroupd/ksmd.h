/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding the ksmd kernel thread and reading the CPU time it has used. */
#ifndef KSMGD_KSMD_H
#define KSMGD_KSMD_H

#include <sys/types.h>

/* -1 with errno ESRCH when there is no ksmd (kernel without KSM). */
int ksmgd_ksmd_find(pid_t *pid_r);
/* utime + stime of pid from /proc/PID/stat, in clock ticks. */
int ksmgd_ksmd_cpu_ticks(pid_t pid, unsigned long long *ticks_r);

#endif /* KSMGD_KSMD_H */
