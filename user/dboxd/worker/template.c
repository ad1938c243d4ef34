// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker template (worker_spawn = template): forked by the master
 * before anything drops privileges, it stays root and does nothing but fork
 * workers on request. Every worker is thus a copy of one pre-initialised
 * image (same libraries loaded, same secret-memory region reserved, same
 * tables built, same address-space layout), which is what lets KSM merge
 * the workers' pages best. The price is that all workers share one ASLR
 * layout (docs/dboxd.md discusses it; worker_spawn = exec avoids it).
 *
 * The template accepts only SPAWN and SHUTDOWN from the master, checks the
 * uid and gid again (never root) and reaps its children.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "privsep.h"
#include "roles.h"
#include "seccomp.h"
#include "secret.h"
#include "worker.h"

struct template_state {
	struct dboxd_config *config;
	struct dboxd_loop *loop;
	struct dboxd_ipc *ipc;
	int signal_fd;
	struct dboxd_io *signal_io;
};

static struct template_state *tmpl;

static void template_send_spawned(uint64_t spawn_id, pid_t pid,
				  const char *reason)
{
	struct dboxd_ipc_msg msg;

	dboxd_ipc_msg_init(&msg, DBOXD_IPC_SPAWNED, false);
	dboxd_ipc_put_u64(&msg, spawn_id);
	dboxd_ipc_put_u32(&msg, (uint32_t)pid);
	dboxd_ipc_put_str(&msg, reason);
	dboxd_ipc_send(tmpl->ipc, &msg, -1);
}

static void __attribute__((noreturn))
template_child(uid_t uid, gid_t gid, const char *user, int fd)
{
	char role[128];
	const char *error;

	dboxd_reset_signals();
	dboxd_close_fds_except(&fd, 1);
	snprintf(role, sizeof(role), "worker(%s)", user);
	dboxd_log_set_role(role);
	if (dboxd_drop_privileges(uid, gid, NULL, &error) < 0)
		dboxd_fatal("%s", error);
	worker_main(tmpl->config, fd);
}

static int master_spawn(void *context __attribute__((unused)),
			struct dboxd_ipc_reader *r, int fd)
{
	uint64_t spawn_id = dboxd_ipc_get_u64(r);
	uint32_t uid = dboxd_ipc_get_u32(r);
	uint32_t gid = dboxd_ipc_get_u32(r);
	const char *user = dboxd_ipc_get_str(r);
	pid_t pid;

	if (dboxd_ipc_get_end(r) < 0) {
		close(fd);
		return -1;
	}
	if (uid == 0 || gid == 0) {
		/* The master checks this; we do too, being root. */
		template_send_spawned(spawn_id, 0, "refusing uid or gid 0");
		close(fd);
		return 0;
	}
	pid = fork();
	if (pid < 0) {
		template_send_spawned(spawn_id, 0, strerror(errno));
		close(fd);
		return 0;
	}
	if (pid == 0)
		template_child(uid, gid, user, fd);
	close(fd);
	template_send_spawned(spawn_id, pid, "");
	return 0;
}

static int master_shutdown(void *context __attribute__((unused)),
			   struct dboxd_ipc_reader *r,
			   int fd __attribute__((unused)))
{
	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	/* Workers already forked carry on; the master reaps them. */
	dboxd_ipc_flush_blocking(tmpl->ipc);
	exit(0);
}

static const struct dboxd_ipc_handler template_master_handlers[] = {
	{ DBOXD_IPC_SPAWN, master_spawn },
	{ DBOXD_IPC_SHUTDOWN, master_shutdown },
	{ DBOXD_IPC_NONE, NULL },
};

static void template_master_error(void *context __attribute__((unused)),
				  const char *reason)
{
	dboxd_debug("master channel: %s", reason);
	exit(0);
}

static void template_signal_cb(void *context __attribute__((unused)),
			       unsigned int events __attribute__((unused)))
{
	struct signalfd_siginfo si;

	while (read(tmpl->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			int status;
			pid_t pid;

			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				if (WIFSIGNALED(status))
					dboxd_error("worker (pid %d) killed by signal %d%s",
						    (int)pid, WTERMSIG(status),
						    WTERMSIG(status) == SIGSYS ?
						    " (a syscall outside its seccomp filter;"
						    " the kernel's audit log names it)" : "");
				else if (WIFEXITED(status) &&
					 WEXITSTATUS(status) != 0)
					dboxd_error("worker (pid %d) exited with status %d",
						    (int)pid, WEXITSTATUS(status));
			}
		} else {
			exit(0);
		}
	}
}

void template_main(const struct dboxd_role_env *env)
{
	const char *error;

	tmpl = calloc(1, sizeof(*tmpl));
	if (tmpl == NULL)
		dboxd_fatal("out of memory");
	tmpl->config = env->config;
	/* What every worker would do first, done once here. */
	if (dboxd_secret_init(&error) < 0)
		dboxd_fatal("secret memory: %s", error);
	worker_preinit();
	if (dboxd_loop_create(DBOXD_LOOP_EPOLL, &tmpl->loop, &error) < 0)
		dboxd_fatal("event loop: %s", error);
	tmpl->signal_fd = dboxd_signalfd_open(SIGCHLD);
	if (tmpl->signal_fd < 0)
		dboxd_fatal("signalfd: %m");
	tmpl->signal_io = dboxd_io_add(tmpl->loop, tmpl->signal_fd,
				       DBOXD_IO_READ, template_signal_cb, NULL);
	tmpl->ipc = dboxd_ipc_create(tmpl->loop, env->ipc_fd, "master",
				     template_master_handlers,
				     template_master_error, NULL);
	/* Workers inherit this filter and add their own once their storage
	   is open (common/seccomp-worker.c). */
	if (tmpl->config->set.worker_seccomp &&
	    dboxd_seccomp_apply_template(strcmp(tmpl->config->set.log_target,
						"syslog") == 0, &error) < 0)
		dboxd_warn("no seccomp filter: %s", error);
	dboxd_debug("worker template ready");
	if (dboxd_loop_run(tmpl->loop) < 0)
		dboxd_fatal("event loop: %m");
	exit(0);
}
