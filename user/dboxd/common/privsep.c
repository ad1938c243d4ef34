// SPDX-License-Identifier: GPL-2.0-or-later
/* Dropping privileges; see privsep.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "privsep.h"

int dboxd_user_parse(const char *spec, uid_t *uid_r, gid_t *gid_r,
		     const char **error_r)
{
	static char error[160];
	unsigned long uid, gid;
	char end;
	struct passwd *pw;

	if (sscanf(spec, "%lu:%lu%c", &uid, &gid, &end) == 2) {
		*uid_r = (uid_t)uid;
		*gid_r = (gid_t)gid;
		return 0;
	}
	errno = 0;
	pw = getpwnam(spec);
	if (pw == NULL) {
		snprintf(error, sizeof(error),
			 "no user '%s' (create it, or write uid:gid)", spec);
		*error_r = error;
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	return 0;
}

int dboxd_drop_privileges(uid_t uid, gid_t gid, const char *chroot_dir,
			  const char **error_r)
{
	static char error[200];
	const char *what;

	what = "setgroups";
	if (setgroups(1, &gid) < 0)
		goto fail;
	if (chroot_dir != NULL) {
		what = "chroot";
		if (chroot(chroot_dir) < 0 || chdir("/") < 0)
			goto fail;
	}
	what = "setresgid";
	if (setresgid(gid, gid, gid) < 0)
		goto fail;
	what = "setresuid";
	if (setresuid(uid, uid, uid) < 0)
		goto fail;
	what = "prctl(PR_SET_NO_NEW_PRIVS)";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(error, sizeof(error),
			 "could regain root after dropping to uid %u",
			 (unsigned int)uid);
		*error_r = error;
		return -1;
	}
	return 0;
fail:
	snprintf(error, sizeof(error), "%s: %s", what, strerror(errno));
	*error_r = error;
	return -1;
}
