/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dropping privileges (house rule 10). */
#ifndef DBOXD_PRIVSEP_H
#define DBOXD_PRIVSEP_H

#include <sys/types.h>

/* "name" (looked up in the system's user database) or "uid:gid". */
int dboxd_user_parse(const char *spec, uid_t *uid_r, gid_t *gid_r,
		     const char **error_r);
/*
 * Become uid/gid for good: supplementary groups = { gid }, chroot into
 * chroot_dir first if not NULL, real/effective/saved ids all changed,
 * no_new_privs set. Checks afterwards that root cannot be regained.
 */
int dboxd_drop_privileges(uid_t uid, gid_t gid, const char *chroot_dir,
			  const char **error_r);

#endif
