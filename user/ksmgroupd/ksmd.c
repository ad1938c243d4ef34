// SPDX-License-Identifier: GPL-2.0-or-later
/* ksmd's pid and CPU time; see ksmd.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksmd.h"

#define PF_KTHREAD_FLAG 0x00200000	/* include/linux/sched.h */

/* The fields after "(comm)" in /proc/PID/stat; comm may hold anything. */
static int read_stat(pid_t pid, char *comm, size_t comm_size, char **rest_r,
		     char *buf, size_t size)
{
	char path[64], *open, *close;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	len = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[len] = '\0';
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (open == NULL || close == NULL || close < open) {
		errno = EINVAL;
		return -1;
	}
	snprintf(comm, comm_size, "%.*s", (int)(close - open - 1), open + 1);
	*rest_r = close + 1;
	return 0;
}

static bool is_ksmd(pid_t pid)
{
	unsigned long flags;
	char comm[32], buf[1024], *rest;

	if (read_stat(pid, comm, sizeof(comm), &rest, buf, sizeof(buf)) < 0 ||
	    strcmp(comm, "ksmd") != 0)
		return false;
	/* state ppid pgrp session tty_nr tpgid flags */
	if (sscanf(rest, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	/* A user process may call itself ksmd; the kernel thread cannot lie. */
	return (flags & PF_KTHREAD_FLAG) != 0;
}

int ksmgd_ksmd_find(pid_t *pid_r)
{
	struct dirent *de;
	DIR *dir;
	long pid;
	char *end;

	dir = opendir("/proc");
	if (dir == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || !is_ksmd((pid_t)pid))
			continue;
		closedir(dir);
		*pid_r = (pid_t)pid;
		return 0;
	}
	closedir(dir);
	errno = ESRCH;
	return -1;
}

int ksmgd_ksmd_cpu_ticks(pid_t pid, unsigned long long *ticks_r)
{
	unsigned long long utime, stime;
	char comm[32], buf[1024], *rest;

	if (read_stat(pid, comm, sizeof(comm), &rest, buf, sizeof(buf)) < 0)
		return -1;
	/* Fields 3..13 skipped, then utime (14) and stime (15). */
	if (sscanf(rest, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &utime, &stime) != 2) {
		errno = EINVAL;
		return -1;
	}
	*ticks_r = utime + stime;
	return 0;
}
