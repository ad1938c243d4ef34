// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The auth role: checks credentials against the passwd-file and answers the
 * master. See auth.h. Password checks run synchronously (a SHA512-CRYPT
 * check takes a few milliseconds, bcrypt tens); failed ones are answered
 * from a timer after the penalty delay, so a delay never blocks others.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "privsep.h"
#include "roles.h"
#include "seccomp.h"
#include "secret.h"

struct auth_delayed {
	struct auth_delayed *prev, *next;
	struct dboxd_timer *timer;
	uint64_t conn_id;
	uint32_t result;
	char reason[128];
};

struct auth_state {
	struct dboxd_config *config;
	struct dboxd_loop *loop;
	struct dboxd_ipc *ipc;
	struct auth_passwd *passwd;
	char passwd_path[1100];
	struct auth_delayed *delayed;
	int signal_fd;
	struct dboxd_io *signal_io;
};

static struct auth_state *auth;

static void auth_send_reply(uint64_t conn_id, uint32_t result,
			    const struct auth_user *u, const char *reason)
{
	struct dboxd_ipc_msg msg;

	dboxd_ipc_msg_init(&msg, DBOXD_IPC_AUTH_REPLY, false);
	dboxd_ipc_put_u64(&msg, conn_id);
	dboxd_ipc_put_u32(&msg, result);
	dboxd_ipc_put_str(&msg, u != NULL ? u->name : "");
	dboxd_ipc_put_u32(&msg, u != NULL ? u->uid : 0);
	dboxd_ipc_put_u32(&msg, u != NULL ? u->gid : 0);
	dboxd_ipc_put_str(&msg, u != NULL ? u->home : "");
	dboxd_ipc_put_str(&msg, u != NULL ? u->mail : "");
	dboxd_ipc_put_str(&msg, reason);
	dboxd_ipc_send(auth->ipc, &msg, -1);
}

static void delayed_free(struct auth_delayed *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		auth->delayed = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	dboxd_timer_remove(&d->timer);
	free(d);
}

static void delayed_cb(void *context)
{
	struct auth_delayed *d = context;

	auth_send_reply(d->conn_id, d->result, NULL, d->reason);
	delayed_free(d);
}

static void auth_fail_later(uint64_t conn_id, uint32_t result,
			    const char *ip, const char *reason)
{
	struct auth_delayed *d = calloc(1, sizeof(*d));
	unsigned int delay = auth_penalty_fail(ip);

	if (d == NULL)
		dboxd_fatal("out of memory");
	d->conn_id = conn_id;
	d->result = result;
	strncpy(d->reason, reason, sizeof(d->reason) - 1);
	d->timer = dboxd_timer_add(auth->loop, delay, delayed_cb, d);
	d->next = auth->delayed;
	if (d->next != NULL)
		d->next->prev = d;
	auth->delayed = d;
}

static void auth_flush_delayed(void)
{
	while (auth->delayed != NULL)
		delayed_cb(auth->delayed);
}

/* Log lines name the user and address, never the password. */
static void auth_check(uint64_t conn_id, const char *authzid,
		       const char *authcid, const char *password,
		       const char *ip)
{
	const struct auth_user *u;
	const char *error = NULL;

	if (auth->passwd == NULL) {
		dboxd_error("no passwd_file loaded; cannot check %s", authcid);
		auth_send_reply(conn_id, DBOXD_AUTH_TEMPFAIL, NULL,
				"[UNAVAILABLE] Authentication service unavailable");
		return;
	}
	if (authzid[0] != '\0' && strcmp(authzid, authcid) != 0) {
		dboxd_info("%s: %s may not log in as %s", ip, authcid, authzid);
		auth_fail_later(conn_id, DBOXD_AUTH_FAIL, ip, "");
		return;
	}
	u = auth_passwd_lookup(auth->passwd, authcid);
	if (u == NULL) {
		/* Spend the time a real check would, so that a quick answer
		   does not tell which users exist. */
		(void)auth_scheme_verify("{SHA512-CRYPT}$6$dboxdfake$", password,
					 &error);
		dboxd_info("%s: unknown user %.100s", ip, authcid);
		auth_fail_later(conn_id, DBOXD_AUTH_FAIL, ip, "");
		return;
	}
	switch (auth_scheme_verify(u->password, password, &error)) {
	case AUTH_VERIFY_OK:
		break;
	case AUTH_VERIFY_MISMATCH:
		dboxd_info("%s: wrong password for %s", ip, u->name);
		auth_fail_later(conn_id, DBOXD_AUTH_FAIL, ip, "");
		return;
	case AUTH_VERIFY_ERROR:
		dboxd_error("%s: user %s: %s", auth->passwd_path, u->name, error);
		auth_fail_later(conn_id, DBOXD_AUTH_FAIL, ip, "");
		return;
	}
	if (!u->has_uid || !u->has_gid || u->home[0] == '\0') {
		dboxd_error("%s: user %s has no uid, gid or home",
			    auth->passwd_path, u->name);
		auth_send_reply(conn_id, DBOXD_AUTH_TEMPFAIL, NULL,
				"[UNAVAILABLE] Account is misconfigured, contact the administrator");
		return;
	}
	auth_penalty_reset(ip);
	auth_send_reply(conn_id, DBOXD_AUTH_OK, u, "");
}

static int master_auth_request(void *context __attribute__((unused)),
			       struct dboxd_ipc_reader *r,
			       int fd __attribute__((unused)))
{
	uint64_t conn_id = dboxd_ipc_get_u64(r);
	const char *mech = dboxd_ipc_get_str(r);
	const char *authzid = dboxd_ipc_get_str(r);
	const char *authcid = dboxd_ipc_get_str(r);
	const char *password = dboxd_ipc_get_str(r);
	const char *ip = dboxd_ipc_get_str(r);

	(void)dboxd_ipc_get_u32(r);
	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	(void)mech;
	auth_check(conn_id, authzid, authcid, password, ip);
	return 0;
}

static int master_user_lookup(void *context __attribute__((unused)),
			      struct dboxd_ipc_reader *r,
			      int fd __attribute__((unused)))
{
	uint64_t id = dboxd_ipc_get_u64(r);
	const char *address = dboxd_ipc_get_str(r);
	const struct auth_user *u = NULL;
	struct dboxd_ipc_msg msg;
	uint32_t result;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	if (auth->passwd == NULL) {
		result = DBOXD_AUTH_TEMPFAIL;
	} else {
		u = auth_passwd_lookup_rcpt(auth->passwd, address);
		result = u == NULL ? DBOXD_AUTH_FAIL :
			 (!u->has_uid || !u->has_gid || u->home[0] == '\0') ?
			 DBOXD_AUTH_TEMPFAIL : DBOXD_AUTH_OK;
	}
	if (result != DBOXD_AUTH_OK)
		u = NULL;
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_USER_REPLY, false);
	dboxd_ipc_put_u64(&msg, id);
	dboxd_ipc_put_u32(&msg, result);
	dboxd_ipc_put_str(&msg, u != NULL ? u->name : "");
	dboxd_ipc_put_u32(&msg, u != NULL ? u->uid : 0);
	dboxd_ipc_put_u32(&msg, u != NULL ? u->gid : 0);
	dboxd_ipc_put_str(&msg, u != NULL ? u->home : "");
	dboxd_ipc_put_str(&msg, u != NULL ? u->mail : "");
	dboxd_ipc_send(auth->ipc, &msg, -1);
	return 0;
}

static int master_passwd_file(void *context __attribute__((unused)),
			      struct dboxd_ipc_reader *r, int fd)
{
	const char *path = dboxd_ipc_get_str(r);
	struct auth_passwd *pw;
	const char *error;

	if (dboxd_ipc_get_end(r) < 0) {
		close(fd);
		return -1;
	}
	snprintf(auth->passwd_path, sizeof(auth->passwd_path), "%s", path);
	if (auth_passwd_load(fd, path, &pw, &error) < 0) {
		dboxd_error("%s: %s; keeping the previous users", path, error);
		close(fd);
		return 0;
	}
	close(fd);
	auth_passwd_free(&auth->passwd);
	auth->passwd = pw;
	dboxd_info("%s: %u users", path, auth_passwd_count(pw));
	return 0;
}

static int master_shutdown(void *context __attribute__((unused)),
			   struct dboxd_ipc_reader *r,
			   int fd __attribute__((unused)))
{
	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	auth_flush_delayed();
	dboxd_ipc_flush_blocking(auth->ipc);
	exit(0);
}

static const struct dboxd_ipc_handler auth_master_handlers[] = {
	{ DBOXD_IPC_AUTH_REQUEST, master_auth_request },
	{ DBOXD_IPC_USER_LOOKUP, master_user_lookup },
	{ DBOXD_IPC_PASSWD_FILE, master_passwd_file },
	{ DBOXD_IPC_SHUTDOWN, master_shutdown },
	{ DBOXD_IPC_NONE, NULL },
};

static void auth_master_error(void *context __attribute__((unused)),
			      const char *reason)
{
	dboxd_debug("master channel: %s", reason);
	exit(0);
}

static void auth_signal_cb(void *context __attribute__((unused)),
			   unsigned int events __attribute__((unused)))
{
	struct signalfd_siginfo si;

	while (read(auth->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			auth_flush_delayed();
			dboxd_ipc_flush_blocking(auth->ipc);
			exit(0);
		}
	}
}

void auth_main(const struct dboxd_role_env *env)
{
	const struct dboxd_settings *set = &env->config->set;
	const char *error;
	uid_t uid;
	gid_t gid;

	auth = calloc(1, sizeof(*auth));
	if (auth == NULL)
		dboxd_fatal("out of memory");
	auth->config = env->config;
	if (dboxd_secret_init(&error) < 0)
		dboxd_fatal("secret memory: %s", error);
	if (dboxd_user_parse(set->auth_user, &uid, &gid, &error) < 0)
		dboxd_fatal("auth_user: %s", error);
	if (dboxd_drop_privileges(uid, gid, env->empty_dir, &error) < 0)
		dboxd_fatal("dropping privileges: %s", error);
	auth_penalty_init(set->auth_failure_delay, set->auth_failure_delay_max);
	if (dboxd_loop_create(DBOXD_LOOP_EPOLL, &auth->loop, &error) < 0)
		dboxd_fatal("event loop: %s", error);
	auth->signal_fd = dboxd_signalfd_open(0);
	if (auth->signal_fd < 0)
		dboxd_fatal("signalfd: %m");
	auth->signal_io = dboxd_io_add(auth->loop, auth->signal_fd,
				       DBOXD_IO_READ, auth_signal_cb, NULL);
	auth->ipc = dboxd_ipc_create(auth->loop, env->ipc_fd, "master",
				     auth_master_handlers, auth_master_error,
				     NULL);
	dboxd_debug("auth ready (uid %u; schemes: %s)", (unsigned int)uid,
		    auth_scheme_list());
	/* Set up: from here on only the syscalls serving clients. */
	if (dboxd_seccomp_apply(DBOXD_SECCOMP_AUTH, &error) < 0)
		dboxd_warn("no seccomp filter: %s", error);
	if (dboxd_loop_run(auth->loop) < 0)
		dboxd_fatal("event loop: %m");
	exit(0);
}
