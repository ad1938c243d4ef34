/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Entry points of the process roles, one file each (OpenSMTPD style):
 * login/login.c, auth/auth.c, worker/template.c, worker/worker.c. The master
 * forks and calls them in the child; they never return.
 */
#ifndef DBOXD_ROLES_H
#define DBOXD_ROLES_H

#include <sys/types.h>

struct dboxd_config;

struct dboxd_role_env {
	struct dboxd_config *config;
	int ipc_fd;			/* channel to the master */
	unsigned int index;		/* login number */
	/* login: listening sockets */
	const int *imap_fds, *imaps_fds;
	unsigned int imap_count, imaps_count;
	/* login and auth: where to chroot (an empty directory) */
	const char *empty_dir;
};

void login_main(const struct dboxd_role_env *env)
	__attribute__((noreturn));
void auth_main(const struct dboxd_role_env *env)
	__attribute__((noreturn));
void template_main(const struct dboxd_role_env *env)
	__attribute__((noreturn));
/* LMTP (lmtp/lmtp.c); its listeners come in imap_fds. */
void lmtp_main(const struct dboxd_role_env *env)
	__attribute__((noreturn));
/* A worker forked from the template (already running as the user) or
   exec'd by the master ("dboxd -X worker FD"). */
void worker_main(struct dboxd_config *config, int ipc_fd)
	__attribute__((noreturn));

/* Close every descriptor from 3 up except those in keep[]. */
void dboxd_close_fds_except(const int *keep, unsigned int count);
/* Default signal dispositions and an empty mask, for a new child. */
void dboxd_reset_signals(void);
/* signalfd for SIGTERM/SIGINT (and SIGCHLD if want_chld), signals
   blocked. */
int dboxd_signalfd_open(int extra_signo);

#endif
