// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Forking the roles and supervising them: a role that exits while the
 * master is not shutting down is restarted, at once if it had run for a
 * while, otherwise after a delay that doubles up to 30 s (so a role that
 * crashes at start does not spin).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "roles.h"

#define BACKOFF_FIRST_MSECS	250
#define BACKOFF_MAX_MSECS	30000
/* A role that ran this long before exiting is restarted at once. */
#define BACKOFF_RESET_MSECS	10000

const char *master_role_name(enum master_role role)
{
	switch (role) {
	case MASTER_ROLE_AUTH:
		return "auth";
	case MASTER_ROLE_LOGIN:
		return "login";
	case MASTER_ROLE_TEMPLATE:
		return "worker-template";
	case MASTER_ROLE_LMTP:
		return "lmtp";
	}
	return "?";
}

struct master_child *master_child_new(enum master_role role,
				      unsigned int index)
{
	struct master_child *child = calloc(1, sizeof(*child));

	if (child == NULL)
		dboxd_fatal("out of memory");
	child->role = role;
	child->index = index;
	child->next = master_g->children;
	master_g->children = child;
	return child;
}

static void master_child_unlink(struct master_child *child)
{
	struct master_child **p;

	for (p = &master_g->children; *p != NULL; p = &(*p)->next) {
		if (*p == child) {
			*p = child->next;
			break;
		}
	}
	if (master_g->auth == child)
		master_g->auth = NULL;
	if (master_g->template == child)
		master_g->template = NULL;
	if (master_g->lmtp == child)
		master_g->lmtp = NULL;
	dboxd_timer_remove(&child->restart_timer);
	dboxd_ipc_destroy(&child->ipc);
	free(child);
}

void master_child_kill(struct master_child *child, const char *reason)
{
	if (child->pid > 0) {
		dboxd_error("%s (pid %d): %s; killing it",
			    master_role_name(child->role), (int)child->pid,
			    reason);
		kill(child->pid, SIGKILL);
	}
	dboxd_ipc_destroy(&child->ipc);
}

/* The role lost its channel: it is dead or dying, and its work is lost. */
static void master_child_channel_lost(struct master_child *child)
{
	switch (child->role) {
	case MASTER_ROLE_AUTH:
		master_auth_gone();
		break;
	case MASTER_ROLE_LOGIN:
		master_conns_of_login_gone(child);
		break;
	case MASTER_ROLE_TEMPLATE:
		master_workers_template_gone();
		break;
	case MASTER_ROLE_LMTP:
		master_lmtp_child_gone(child);
		break;
	}
}

static void master_child_ipc_error(void *context, const char *reason)
{
	struct master_child *child = context;

	if (master_g->shutting_down || child->retiring)
		dboxd_debug("%s: %s", master_role_name(child->role), reason);
	/* Closing is how a child says goodbye when it exits; anything else
	   was a malformed message, fatal for the child. */
	if (strstr(reason, "closed the channel") != NULL) {
		dboxd_ipc_destroy(&child->ipc);
	} else {
		master_child_kill(child, reason);
	}
	master_child_channel_lost(child);
	if (master_g->shutting_down)
		master_check_done();
}

static const struct dboxd_ipc_handler *role_handlers(enum master_role role)
{
	switch (role) {
	case MASTER_ROLE_AUTH:
		return master_auth_handlers;
	case MASTER_ROLE_LOGIN:
		return master_login_handlers;
	case MASTER_ROLE_TEMPLATE:
		return master_template_handlers;
	case MASTER_ROLE_LMTP:
		return master_lmtp_handlers;
	}
	return NULL;
}

static char empty_dir[4096];

static void master_child_schedule_restart(struct master_child *child);

static void __attribute__((noreturn))
master_child_run(struct master_child *child, int ipc_fd)
{
	struct master_listeners *l = &master_g->listeners;
	struct dboxd_role_env env = {
		.config = master_g->config,
		.ipc_fd = ipc_fd,
		.index = child->index,
		.empty_dir = empty_dir,
	};
	int keep[64];
	unsigned int n = 0;
	char role[32];

	dboxd_reset_signals();
	snprintf(role, sizeof(role), "%s%s", master_role_name(child->role),
		 child->role == MASTER_ROLE_LOGIN ?
		 (char[]){ (char)('0' + child->index % 10), '\0' } : "");
	dboxd_log_set_role(role);
	keep[n++] = ipc_fd;
	if (child->role == MASTER_ROLE_LOGIN) {
		env.imap_fds = l->imap_fds;
		env.imap_count = l->imap_count;
		env.imaps_fds = l->imaps_fds;
		env.imaps_count = l->imaps_count;
		for (unsigned int i = 0; i < l->imap_count && n < 64; i++)
			keep[n++] = l->imap_fds[i];
		for (unsigned int i = 0; i < l->imaps_count && n < 64; i++)
			keep[n++] = l->imaps_fds[i];
	}
	if (child->role == MASTER_ROLE_LMTP) {
		/* the lmtp role takes its listeners where login takes
		   plain IMAP's */
		env.imap_fds = l->lmtp_fds;
		env.imap_count = l->lmtp_count;
		for (unsigned int i = 0; i < l->lmtp_count && n < 64; i++)
			keep[n++] = l->lmtp_fds[i];
	}
	/* Nothing of the master's survives but what the role needs: its
	   other channels, the signalfd, the epoll/io_uring instance (whose
	   registrations are the master's: never touch them from here). */
	dboxd_close_fds_except(keep, n);
	switch (child->role) {
	case MASTER_ROLE_AUTH:
		auth_main(&env);
	case MASTER_ROLE_LOGIN:
		login_main(&env);
	case MASTER_ROLE_TEMPLATE:
		template_main(&env);
	case MASTER_ROLE_LMTP:
		lmtp_main(&env);
	}
	_exit(DBOXD_EXIT_FATAL);
}

void master_child_start(struct master_child *child)
{
	struct dboxd_ipc_pair pair;
	const char *error;
	char name[32];
	pid_t pid;

	snprintf(empty_dir, sizeof(empty_dir), "%s/empty",
		 master_g->config->set.base_dir);
	if (dboxd_ipc_pair_create(&pair, &error) < 0) {
		dboxd_error("socketpair: %s", error);
		goto retry;
	}
	pid = fork();
	if (pid < 0) {
		dboxd_error("fork: %m");
		close(pair.parent_fd);
		close(pair.child_fd);
		goto retry;
	}
	if (pid == 0)
		master_child_run(child, pair.child_fd);
	close(pair.child_fd);
	child->pid = pid;
	child->started_msecs = dboxd_loop_now_msecs();
	snprintf(name, sizeof(name), "%s", master_role_name(child->role));
	child->ipc = dboxd_ipc_create(master_g->loop, pair.parent_fd, name,
				      role_handlers(child->role),
				      master_child_ipc_error, child);
	dboxd_debug("started %s (pid %d)", name, (int)pid);
	if (child->role == MASTER_ROLE_AUTH)
		master_auth_send_passwd(true);
	return;
retry:
	child->pid = 0;
	child->started_msecs = dboxd_loop_now_msecs();
	master_child_schedule_restart(child);
}

static void master_child_restart_cb(void *context)
{
	struct master_child *child = context;

	dboxd_timer_remove(&child->restart_timer);
	if (!master_g->shutting_down)
		master_child_start(child);
}

static void master_child_schedule_restart(struct master_child *child)
{
	uint64_t ran = dboxd_loop_now_msecs() - child->started_msecs;
	unsigned int delay;

	if (ran >= BACKOFF_RESET_MSECS)
		child->backoff_msecs = 0;
	else if (child->backoff_msecs == 0)
		child->backoff_msecs = BACKOFF_FIRST_MSECS;
	else if (child->backoff_msecs < BACKOFF_MAX_MSECS / 2)
		child->backoff_msecs *= 2;
	else
		child->backoff_msecs = BACKOFF_MAX_MSECS;
	delay = child->backoff_msecs;
	dboxd_info("restarting %s in %u ms", master_role_name(child->role),
		   delay);
	dboxd_timer_remove(&child->restart_timer);
	child->restart_timer = dboxd_timer_add(master_g->loop, delay,
					       master_child_restart_cb, child);
}

static void log_exit(const char *what, pid_t pid, int status, bool expected)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		dboxd_log(expected ? DBOXD_LOG_DEBUG : DBOXD_LOG_WARNING,
			  "%s (pid %d) exited", what, (int)pid);
	else if (WIFEXITED(status))
		dboxd_log(expected ? DBOXD_LOG_INFO : DBOXD_LOG_ERROR,
			  "%s (pid %d) exited with status %d", what, (int)pid,
			  WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		dboxd_log(expected ? DBOXD_LOG_INFO : DBOXD_LOG_ERROR,
			  "%s (pid %d) killed by signal %d", what, (int)pid,
			  WTERMSIG(status));
}

void master_child_exited(pid_t pid, int status)
{
	struct master_child *child;

	for (child = master_g->children; child != NULL; child = child->next) {
		if (child->pid == pid)
			break;
	}
	if (child == NULL) {
		/* A worker (exec mode: ours; template mode: reparented to
		   us, the subreaper, when the template died). */
		log_exit("worker", pid, status, true);
		return;
	}
	if (pid != 0)
		log_exit(master_role_name(child->role), pid, status,
			 master_g->shutting_down || child->retiring);
	child->pid = 0;
	if (child->ipc != NULL) {
		dboxd_ipc_destroy(&child->ipc);
		master_child_channel_lost(child);
	}
	if (master_g->shutting_down || child->retiring) {
		master_child_unlink(child);
		if (master_g->shutting_down)
			master_check_done();
		return;
	}
	master_child_schedule_restart(child);
}

void master_children_start_all(void)
{
	for (struct master_child *c = master_g->children; c != NULL;
	     c = c->next) {
		if (c->pid == 0 && c->restart_timer == NULL)
			master_child_start(c);
	}
}

void master_children_signal(int signo)
{
	for (struct master_child *c = master_g->children; c != NULL;
	     c = c->next) {
		if (c->pid > 0)
			kill(c->pid, signo);
		dboxd_timer_remove(&c->restart_timer);
	}
}

unsigned int master_children_running(void)
{
	unsigned int n = 0;

	for (struct master_child *c = master_g->children; c != NULL;
	     c = c->next) {
		if (c->pid > 0)
			n++;
	}
	return n;
}

void master_logins_retire(void)
{
	struct master_child *c, *next;

	for (c = master_g->children; c != NULL; c = next) {
		next = c->next;
		if (c->role != MASTER_ROLE_LOGIN || c->retiring)
			continue;
		c->retiring = true;
		if (c->pid == 0) {
			/* waiting for a restart: just forget it */
			master_child_unlink(c);
			continue;
		}
		if (c->ipc != NULL)
			dboxd_ipc_send_empty(c->ipc, DBOXD_IPC_SHUTDOWN);
	}
}
