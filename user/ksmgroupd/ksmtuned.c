// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ksmtuned also writes /sys/kernel/mm/ksm, and switches KSM off on hosts
 * without qemu: with both running, the admin gets neither's behaviour.
 * We warn rather than stop it: it is the admin's service.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksmgd.h"
#include "log.h"

static bool is_ksmtuned(const char *pid)
{
	char path[300], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	/* A shell script: its comm is the script's name. */
	return strcmp(comm, "ksmtuned") == 0;
}

void ksmgd_check_ksmtuned(void)
{
	static long warned_pid;
	struct dirent *de;
	DIR *dir;
	long pid;

	dir = opendir("/proc");
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    !is_ksmtuned(de->d_name))
			continue;
		pid = strtol(de->d_name, NULL, 10);
		if (pid != warned_pid)
			ksmgd_warning("ksmtuned is running (pid %ld): it also sets /sys/kernel/mm/ksm and turns KSM off on hosts without qemu; stop it with: systemctl disable --now ksmtuned",
				      pid);
		warned_pid = pid;
		break;
	}
	closedir(dir);
}
