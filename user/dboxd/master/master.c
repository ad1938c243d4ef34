// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The master process: start-up, signals, reload and shutdown. See master.h
 * for what the master owns.
 *
 * Signals arrive through a signalfd: SIGCHLD reaps (the master is a child
 * subreaper, so workers whose template died are reaped here too), SIGHUP
 * reloads the config, SIGTERM and SIGINT shut down.
 *
 * Reload: a new config that fails to load or check is logged and ignored.
 * Otherwise login processes, auth and the template are replaced (the old
 * ones finish what they hold and exit); running workers keep the settings
 * they started with, new workers get the new ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "login/login-tls.h"
#include "master.h"
#include "roles.h"

/* How long children get to finish after SIGTERM before SIGKILL. */
#define SHUTDOWN_GRACE_MSECS 10000

struct dboxd_master *master_g;

static int pid_fd = -1;
static char pid_path[4096];

static int mkdir_owned(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -1;
	if (lstat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* base_dir, base_dir/empty (the chroot of login and auth), the pid file
   (locked for as long as we run, so a second master refuses to start). */
static int master_prepare_dirs(const char **error_r)
{
	static char error[4300];
	const char *base = master_g->config->set.base_dir;
	char empty[4096], pid[32];
	int n;

	if (mkdir_owned(base, 0755) < 0) {
		snprintf(error, sizeof(error),
			 "base_dir %s: %s (must be a root-owned directory not writable by others)",
			 base, strerror(errno));
		goto fail;
	}
	snprintf(empty, sizeof(empty), "%s/empty", base);
	if (mkdir_owned(empty, 0555) < 0) {
		snprintf(error, sizeof(error), "%s: %s", empty,
			 strerror(errno));
		goto fail;
	}
	snprintf(pid_path, sizeof(pid_path), "%s/dboxd.pid", base);
	pid_fd = open(pid_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		      0644);
	if (pid_fd < 0) {
		snprintf(error, sizeof(error), "%s: %s", pid_path,
			 strerror(errno));
		goto fail;
	}
	if (flock(pid_fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(error, sizeof(error),
			 "another dboxd is running with base_dir %s", base);
		close(pid_fd);
		pid_fd = -1;
		goto fail;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(pid_fd, 0) < 0 || pwrite(pid_fd, pid, n, 0) != n) {
		snprintf(error, sizeof(error), "%s: %s", pid_path,
			 strerror(errno));
		goto fail;
	}
	return 0;
fail:
	*error_r = error;
	return -1;
}

void master_check_done(void)
{
	if (!master_g->shutting_down)
		return;
	if (master_children_running() == 0 && master_workers_count() == 0 &&
	    dboxd_hash_count(master_g->conns) == 0)
		dboxd_loop_stop(master_g->loop);
}

static void master_shutdown_deadline(void *context __attribute__((unused)))
{
	dboxd_warn("children still running after %u ms; killing them",
		   SHUTDOWN_GRACE_MSECS);
	master_children_signal(SIGKILL);
	dboxd_loop_stop(master_g->loop);
}

static void master_shutdown(int signo)
{
	if (master_g->shutting_down)
		return;
	dboxd_info("signal %d: shutting down", signo);
	master_g->shutting_down = true;
	master_listeners_close(&master_g->listeners);
	master_children_signal(SIGTERM);
	master_workers_shutdown();
	dboxd_timer_add(master_g->loop, SHUTDOWN_GRACE_MSECS,
			master_shutdown_deadline, NULL);
	master_check_done();
}

/* New auth/template/login children for the current config. */
static void master_create_children(void)
{
	const struct dboxd_settings *set = &master_g->config->set;

	master_g->auth = master_child_new(MASTER_ROLE_AUTH, 0);
	if (strcmp(set->worker_spawn, "template") == 0)
		master_g->template = master_child_new(MASTER_ROLE_TEMPLATE, 0);
	for (unsigned int i = 0; i < set->login_processes; i++)
		master_child_new(MASTER_ROLE_LOGIN, i);
	if (master_g->listeners.lmtp_count > 0)
		master_g->lmtp = master_child_new(MASTER_ROLE_LMTP, 0);
}

static void master_retire(struct master_child *child)
{
	if (child == NULL)
		return;
	child->retiring = true;
	if (child->ipc != NULL)
		dboxd_ipc_send_empty(child->ipc, DBOXD_IPC_SHUTDOWN);
}

static void master_reload(void)
{
	struct dboxd_config *config, *old;
	const char *error;

	dboxd_info("SIGHUP: reloading %s", master_g->config_path);
	if (dboxd_config_load(master_g->config_path, &config, &error) < 0) {
		dboxd_error("reload failed, keeping the running config: %s",
			    error);
		return;
	}
	if (login_tls_check(config, &error) < 0) {
		dboxd_error("reload failed, keeping the running config: %s",
			    error);
		dboxd_config_free(&config);
		return;
	}
	if (strcmp(config->set.base_dir, master_g->config->set.base_dir) != 0)
		dboxd_warn("base_dir changes only on restart");
	if (master_listeners_reload(config, &master_g->listeners, &error) < 0) {
		dboxd_error("reload failed, keeping the running config: %s",
			    error);
		dboxd_config_free(&config);
		return;
	}
	old = master_g->config;
	master_g->config = config;
	free(config->set.base_dir);
	config->set.base_dir = strdup(old->set.base_dir);
	if (config->set.base_dir == NULL)
		dboxd_fatal("out of memory");
	dboxd_log_apply(&config->set);
	master_logins_retire();
	master_retire(master_g->auth);
	master_retire(master_g->template);
	master_retire(master_g->lmtp);
	master_g->auth = NULL;
	master_g->template = NULL;
	master_g->lmtp = NULL;
	master_create_children();
	master_children_start_all();
	dboxd_config_free(&old);
	dboxd_info("reloaded");
}

static void master_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		master_child_exited(pid, status);
}

static void master_signal_cb(void *context __attribute__((unused)),
			     unsigned int events __attribute__((unused)))
{
	struct signalfd_siginfo si;

	while (read(master_g->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			master_reap();
			break;
		case SIGHUP:
			if (!master_g->shutting_down)
				master_reload();
			break;
		case SIGTERM:
		case SIGINT:
			master_shutdown((int)si.ssi_signo);
			break;
		}
	}
}

static int master_signals_init(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	master_g->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (master_g->signal_fd < 0)
		return -1;
	master_g->signal_io = dboxd_io_add(master_g->loop, master_g->signal_fd,
					 DBOXD_IO_READ, master_signal_cb, NULL);
	return 0;
}

int master_main(const char *config_path)
{
	struct dboxd_config *config;
	const char *error;

	if (geteuid() != 0) {
		fprintf(stderr, "dboxd: must be started as root (it drops privileges per role)\n");
		return 1;
	}
	if (dboxd_config_load(config_path, &config, &error) < 0) {
		fprintf(stderr, "dboxd: %s\n", error);
		return 1;
	}
	if (login_tls_check(config, &error) < 0) {
		fprintf(stderr, "dboxd: %s\n", error);
		return 1;
	}
	master_g = calloc(1, sizeof(*master_g));
	if (master_g == NULL)
		dboxd_fatal("out of memory");
	master_g->config = config;
	master_g->config_path = strdup(config_path);
	dboxd_log_set_role("master");
	dboxd_log_apply(&config->set);
	if (master_prepare_dirs(&error) < 0) {
		dboxd_error("%s", error);
		return 1;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		dboxd_warn("PR_SET_CHILD_SUBREAPER: %m");
	/*
	 * No transparent huge pages in any dboxd process (every child
	 * inherits this, exec'd workers too). They are many and small, and
	 * their sparse allocations (LMDB's 3 MiB of page lists per open
	 * index, IPC buffers) would each pin 2 MiB under THP "always",
	 * Debian's default, where khugepaged collapses a range with a single
	 * page present; a huge page must also be split before KSM can merge.
	 */
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		dboxd_warn("PR_SET_THP_DISABLE: %m");
	if (dboxd_loop_create(DBOXD_LOOP_EPOLL, &master_g->loop, &error) < 0) {
		dboxd_error("event loop: %s", error);
		return 1;
	}
	master_g->conns = dboxd_hash_create();
	master_g->addr_counts = dboxd_hash_create();
	master_g->workers = dboxd_hash_create();
	master_g->spawning = dboxd_hash_create();
	master_g->users = dboxd_hash_create();
	master_g->lookups = dboxd_hash_create();
	master_g->deliveries = dboxd_hash_create();
	if (master_signals_init() < 0) {
		dboxd_error("signals: %m");
		return 1;
	}
	if (master_listeners_open(config, &master_g->listeners, &error) < 0) {
		dboxd_error("%s", error);
		return 1;
	}
	master_ksm_init();
	master_create_children();
	master_children_start_all();
	dboxd_info("dboxd started (pid %d, workers from %s)", (int)getpid(),
		   config->set.worker_spawn);
	if (dboxd_loop_run(master_g->loop) < 0)
		dboxd_error("event loop: %m");
	master_ksm_deinit();
	unlink(pid_path);
	dboxd_info("stopped");
	return 0;
}
