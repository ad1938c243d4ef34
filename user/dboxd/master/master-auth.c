// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The auth process's channel. The master opens the passwd-file (auth runs
 * chrooted without access to it) and passes the descriptor, again whenever
 * the file changed since (checked before each request, one stat), so edits
 * to the file take effect without a reload. Replies are checked against the
 * uid/gid limits here too: a worker never runs as root, whatever the file
 * says.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "master.h"

void master_auth_send_passwd(bool force)
{
	const char *path = master_g->config->set.passwd_file;
	struct dboxd_ipc_msg msg;
	struct stat st;
	int64_t mtime_ns;
	int fd;

	if (master_g->auth == NULL || master_g->auth->ipc == NULL)
		return;
	if (stat(path, &st) < 0) {
		if (force)
			dboxd_error("passwd_file %s: %m", path);
		return;
	}
	mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (!force && st.st_dev == master_g->passwd_dev &&
	    st.st_ino == master_g->passwd_ino &&
	    mtime_ns == master_g->passwd_mtime_ns &&
	    st.st_size == master_g->passwd_size)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		dboxd_error("passwd_file %s: %m", path);
		return;
	}
	master_g->passwd_dev = st.st_dev;
	master_g->passwd_ino = st.st_ino;
	master_g->passwd_mtime_ns = mtime_ns;
	master_g->passwd_size = st.st_size;
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_PASSWD_FILE, false);
	dboxd_ipc_put_str(&msg, path);
	dboxd_ipc_send(master_g->auth->ipc, &msg, fd);
}

void master_auth_forward(struct master_conn *conn, const char *mech,
			 const char *authzid, const char *authcid,
			 const char *password)
{
	struct dboxd_ipc_msg msg;

	if (master_g->auth == NULL || master_g->auth->ipc == NULL) {
		master_conn_auth_result(conn, DBOXD_AUTH_TEMPFAIL,
					"[UNAVAILABLE] Authentication service unavailable");
		return;
	}
	master_auth_send_passwd(false);
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_AUTH_REQUEST, true);
	dboxd_ipc_put_u64(&msg, conn->id);
	dboxd_ipc_put_str(&msg, mech);
	dboxd_ipc_put_str(&msg, authzid);
	dboxd_ipc_put_str(&msg, authcid);
	dboxd_ipc_put_str(&msg, password);
	dboxd_ipc_put_str(&msg, conn->ip);
	dboxd_ipc_put_u32(&msg, conn->flags);
	dboxd_ipc_send(master_g->auth->ipc, &msg, -1);
}

static void auth_gone_cb(void *value, void *context __attribute__((unused)))
{
	struct master_conn *conn = value;

	if (conn->state == CONN_AUTHING)
		master_conn_auth_result(conn, DBOXD_AUTH_TEMPFAIL,
					"[UNAVAILABLE] Authentication service restarted, try again");
}

void master_auth_gone(void)
{
	dboxd_hash_foreach(master_g->conns, auth_gone_cb, NULL);
	master_lmtp_auth_gone();
	/* The next auth gets the file afresh. */
	master_g->passwd_ino = 0;
}

/* A user the file allows but we do not: log it for the admin. */
static const char *auth_check_user(const char *user, uint32_t uid,
				   uint32_t gid, const char *home)
{
	const struct dboxd_settings *set = &master_g->config->set;

	if (user[0] == '\0' || strchr(user, '/') != NULL)
		return "invalid user name";
	if (uid == 0 || uid < set->first_valid_uid ||
	    (set->last_valid_uid != 0 && uid > set->last_valid_uid))
		return "uid outside first_valid_uid..last_valid_uid";
	if (gid == 0 || gid < set->first_valid_gid)
		return "gid below first_valid_gid";
	if (home[0] != '/' || strstr(home, "/../") != NULL)
		return "home is not an absolute path";
	return NULL;
}

static int auth_reply(void *context __attribute__((unused)),
		      struct dboxd_ipc_reader *r, int fd __attribute__((unused)))
{
	uint64_t id = dboxd_ipc_get_u64(r);
	uint32_t result = dboxd_ipc_get_u32(r);
	const char *user = dboxd_ipc_get_str(r);
	uint32_t uid = dboxd_ipc_get_u32(r);
	uint32_t gid = dboxd_ipc_get_u32(r);
	const char *home = dboxd_ipc_get_str(r);
	const char *mail = dboxd_ipc_get_str(r);
	const char *reason = dboxd_ipc_get_str(r);
	struct master_conn *conn;
	const char *bad;

	if (dboxd_ipc_get_end(r) < 0 || result < DBOXD_AUTH_OK ||
	    result > DBOXD_AUTH_RESULT_MAX)
		return -1;
	conn = master_conn_lookup(id);
	if (conn == NULL || conn->state != CONN_AUTHING)
		return 0;	/* the client left meanwhile */
	if (result != DBOXD_AUTH_OK) {
		master_conn_auth_result(conn, result, reason);
		return 0;
	}
	bad = auth_check_user(user, uid, gid, home);
	if (bad != NULL) {
		dboxd_error("user %s refused: %s (passwd_file %s)", user, bad,
			    master_g->config->set.passwd_file);
		master_conn_auth_result(conn, DBOXD_AUTH_TEMPFAIL,
					"[UNAVAILABLE] Account is misconfigured, contact the administrator");
		return 0;
	}
	if (master_user_conn_count(user) >=
	    master_g->config->set.max_user_connections) {
		dboxd_info("user %s from %s: too many connections", user,
			   conn->ip);
		master_conn_auth_result(conn, DBOXD_AUTH_FAIL,
					"[LIMIT] Too many connections for this user");
		return 0;
	}
	conn->user = strdup(user);
	conn->home = strdup(home);
	conn->mail = strdup(mail);
	if (conn->user == NULL || conn->home == NULL || conn->mail == NULL)
		dboxd_fatal("out of memory");
	conn->uid = uid;
	conn->gid = gid;
	dboxd_info("user %s logged in from %s (connection %llu)", user,
		   conn->ip, (unsigned long long)conn->id);
	master_conn_auth_result(conn, DBOXD_AUTH_OK, "");
	return 0;
}

static int user_reply(void *context __attribute__((unused)),
		      struct dboxd_ipc_reader *r, int fd __attribute__((unused)))
{
	return master_auth_user_reply(r);
}

const struct dboxd_ipc_handler master_auth_handlers[] = {
	{ DBOXD_IPC_AUTH_REPLY, auth_reply },
	{ DBOXD_IPC_USER_REPLY, user_reply },
	{ DBOXD_IPC_NONE, NULL },
};
