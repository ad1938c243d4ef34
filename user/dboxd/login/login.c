// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The login role: set-up (TLS context, privilege drop, chroot), accepting,
 * and the channel to the master. See login.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "login-tls.h"
#include "login.h"
#include "privsep.h"
#include "roles.h"
#include "seccomp.h"
#include "secret.h"

struct login_state *login_g;

static void login_listen_cb(void *context, unsigned int events);

void login_accept_update(void)
{
	bool want = !login_g->shutting_down &&
		    login_g->client_count < login_g->config->set.login_max_connections;

	if (want == login_g->accepting)
		return;
	login_g->accepting = want;
	for (unsigned int i = 0; i < login_g->listen_count; i++)
		dboxd_io_set_events(login_g->listen_ios[i],
				    want ? DBOXD_IO_READ : 0);
}

static void login_listen_cb(void *context, unsigned int events)
{
	unsigned int idx = (unsigned int)(uintptr_t)context;

	(void)events;
	/* Accept until EAGAIN (the loop reports edges) or the limit. Other
	   login processes share the socket and may win the race. */
	while (login_g->accepting) {
		int fd = accept4(login_g->listen_fds[idx], NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dboxd_warn("accept: %m");
			break;
		}
		login_client_create(fd, login_g->listen_tls[idx]);
	}
}

static int master_open_reply(void *context __attribute__((unused)),
			     struct dboxd_ipc_reader *r,
			     int fd __attribute__((unused)))
{
	uint32_t cid = dboxd_ipc_get_u32(r);
	uint64_t conn_id = dboxd_ipc_get_u64(r);
	const char *reason = dboxd_ipc_get_str(r);
	struct login_client *c;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	if (dboxd_hash_get_id(login_g->orphans, cid) != NULL) {
		/* The client left before the answer: the master must not
		   count it any longer. */
		dboxd_hash_remove_id(login_g->orphans, cid);
		if (conn_id != 0) {
			struct dboxd_ipc_msg msg;

			dboxd_ipc_msg_init(&msg, DBOXD_IPC_CONN_CLOSED, false);
			dboxd_ipc_put_u64(&msg, conn_id);
			dboxd_ipc_send(login_g->ipc, &msg, -1);
		}
		return 0;
	}
	c = dboxd_hash_get_id(login_g->pending, cid);
	if (c == NULL || c->state != LC_WAIT_MASTER)
		return -1;
	dboxd_hash_remove_id(login_g->pending, cid);
	login_client_master_open_reply(c, conn_id, reason);
	return 0;
}

static int master_auth_result(void *context __attribute__((unused)),
			      struct dboxd_ipc_reader *r,
			      int fd __attribute__((unused)))
{
	uint64_t conn_id = dboxd_ipc_get_u64(r);
	uint32_t result = dboxd_ipc_get_u32(r);
	const char *reason = dboxd_ipc_get_str(r);
	struct login_client *c;

	if (dboxd_ipc_get_end(r) < 0 || result < DBOXD_AUTH_OK ||
	    result > DBOXD_AUTH_RESULT_MAX)
		return -1;
	c = dboxd_hash_get_id(login_g->conns, conn_id);
	if (c == NULL)
		return 0;	/* gone; we told the master already */
	if (c->state != LC_AUTHING)
		return -1;
	login_client_auth_result(c, result, reason);
	return 0;
}

static void login_maybe_exit(void)
{
	if (login_g->shutting_down && login_g->client_count == 0) {
		dboxd_ipc_flush_blocking(login_g->ipc);
		exit(0);
	}
}

static int master_shutdown(void *context __attribute__((unused)),
			   struct dboxd_ipc_reader *r,
			   int fd __attribute__((unused)))
{
	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	dboxd_debug("retiring: no new connections");
	login_g->shutting_down = true;
	login_accept_update();
	for (unsigned int i = 0; i < login_g->listen_count; i++) {
		dboxd_io_remove(&login_g->listen_ios[i]);
		close(login_g->listen_fds[i]);
	}
	login_g->listen_count = 0;
	login_maybe_exit();
	return 0;
}

static const struct dboxd_ipc_handler login_master_handlers[] = {
	{ DBOXD_IPC_CONN_OPEN_REPLY, master_open_reply },
	{ DBOXD_IPC_AUTH_RESULT, master_auth_result },
	{ DBOXD_IPC_SHUTDOWN, master_shutdown },
	{ DBOXD_IPC_NONE, NULL },
};

static void login_master_error(void *context __attribute__((unused)),
			       const char *reason)
{
	/* Without the master nothing can log in: stop. */
	dboxd_log(login_g->shutting_down ? DBOXD_LOG_DEBUG : DBOXD_LOG_ERROR,
		  "master channel: %s", reason);
	login_clients_shutdown("Server shutting down.");
	exit(login_g->shutting_down ? 0 : DBOXD_EXIT_FATAL);
}

static void login_signal_cb(void *context __attribute__((unused)),
			    unsigned int events __attribute__((unused)))
{
	struct signalfd_siginfo si;

	while (read(login_g->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			login_clients_shutdown("Server shutting down.");
			exit(0);
		}
	}
}

void login_client_closed_hook(void)
{
	login_accept_update();
	login_maybe_exit();
}

static void login_add_listeners(const int *fds, unsigned int count, bool tls)
{
	for (unsigned int i = 0; i < count; i++) {
		unsigned int idx = login_g->listen_count++;

		login_g->listen_tls[idx] = tls;
		login_g->listen_fds[idx] = fds[i];
		login_g->listen_ios[idx] = dboxd_io_add(login_g->loop, fds[i],
						      DBOXD_IO_READ,
						      login_listen_cb,
						      (void *)(uintptr_t)idx);
	}
}

void login_main(const struct dboxd_role_env *env)
{
	const struct dboxd_settings *set = &env->config->set;
	const char *error;
	uid_t uid;
	gid_t gid;

	login_g = calloc(1, sizeof(*login_g));
	if (login_g == NULL)
		dboxd_fatal("out of memory");
	login_g->config = env->config;
	if (dboxd_secret_init(&error) < 0)
		dboxd_fatal("secret memory: %s", error);
	/* The key file is root's: load it before dropping privileges. */
	if (login_tls_ctx_create(env->config, &login_g->ssl_ctx, &error) < 0)
		dboxd_fatal("%s", error);
	if (dboxd_user_parse(set->login_user, &uid, &gid, &error) < 0)
		dboxd_fatal("login_user: %s", error);
	if (dboxd_drop_privileges(uid, gid, env->empty_dir, &error) < 0)
		dboxd_fatal("dropping privileges: %s", error);
	if (dboxd_loop_create(DBOXD_LOOP_EPOLL, &login_g->loop, &error) < 0)
		dboxd_fatal("event loop: %s", error);
	login_g->signal_fd = dboxd_signalfd_open(0);
	if (login_g->signal_fd < 0)
		dboxd_fatal("signalfd: %m");
	login_g->signal_io = dboxd_io_add(login_g->loop, login_g->signal_fd,
					DBOXD_IO_READ, login_signal_cb, NULL);
	login_g->pending = dboxd_hash_create();
	login_g->orphans = dboxd_hash_create();
	login_g->conns = dboxd_hash_create();
	login_g->ipc = dboxd_ipc_create(login_g->loop, env->ipc_fd, "master",
				      login_master_handlers,
				      login_master_error, NULL);
	login_g->listen_ios = calloc(env->imap_count + env->imaps_count + 1,
				   sizeof(*login_g->listen_ios));
	login_g->listen_tls = calloc(env->imap_count + env->imaps_count + 1,
				   sizeof(*login_g->listen_tls));
	login_g->listen_fds = calloc(env->imap_count + env->imaps_count + 1,
				   sizeof(*login_g->listen_fds));
	if (login_g->listen_ios == NULL || login_g->listen_tls == NULL ||
	    login_g->listen_fds == NULL)
		dboxd_fatal("out of memory");
	login_add_listeners(env->imap_fds, env->imap_count, false);
	login_add_listeners(env->imaps_fds, env->imaps_count, true);
	login_g->accepting = true;
	dboxd_debug("login ready (uid %u, TLS %s)", (unsigned int)uid,
		    login_g->ssl_ctx != NULL ? "on" : "off");
	/* Set up: from here on only the syscalls serving clients. */
	if (dboxd_seccomp_apply(DBOXD_SECCOMP_LOGIN, &error) < 0)
		dboxd_warn("no seccomp filter: %s", error);
	if (dboxd_loop_run(login_g->loop) < 0)
		dboxd_fatal("event loop: %m");
	exit(0);
}
