/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Narrowing the syscalls of the pre-login roles (house rule 10): login,
 * auth and lmtp install a seccomp filter once set up, just before their
 * event loop runs. Listed syscalls are allowed; a few that no role may
 * ever make (execve, ptrace, mount, ...) kill the process; anything else
 * fails with EPERM, so an unexpected library call fails cleanly rather than
 * killing a process that serves many connections.
 */
#ifndef DBOXD_SECCOMP_H
#define DBOXD_SECCOMP_H

enum dboxd_seccomp_role {
	DBOXD_SECCOMP_LOGIN,
	DBOXD_SECCOMP_AUTH,
	DBOXD_SECCOMP_LMTP,
};

/* Needs no_new_privs (dboxd_drop_privileges sets it). */
int dboxd_seccomp_apply(enum dboxd_seccomp_role role, const char **error_r);

#endif
