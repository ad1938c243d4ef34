// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Connections as the master sees them, and the login processes' channel:
 * admission (per-address limit), authentication requests, handoff. The
 * master checks every message against the connection's state: a login that
 * asks about a connection it does not own, or out of order, is broken and
 * is killed (IPC rule: malformed is fatal for the peer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "master.h"

struct master_conn *master_conn_lookup(uint64_t id)
{
	return dboxd_hash_get_id(master_g->conns, id);
}

static unsigned int addr_count(const char *ip)
{
	return (unsigned int)(uintptr_t)dboxd_hash_get_str(master_g->addr_counts,
							    ip);
}

static void addr_count_add(const char *ip, int delta)
{
	unsigned int n = addr_count(ip) + delta;

	if (n == 0)
		dboxd_hash_remove_str(master_g->addr_counts, ip);
	else
		dboxd_hash_set_str(master_g->addr_counts, ip, (void *)(uintptr_t)n);
}

void master_conn_free(struct master_conn *conn)
{
	dboxd_hash_remove_id(master_g->conns, conn->id);
	addr_count_add(conn->ip, -1);
	if (conn->worker != NULL)
		master_worker_conn_closed(conn->worker);
	free(conn->user);
	free(conn->home);
	free(conn->mail);
	free(conn);
	if (master_g->shutting_down)
		master_check_done();
}

/* The login died: the connections it still owned died with it. */
void master_conns_of_login_gone(struct master_child *login)
{
	unsigned int count;
	struct master_conn **conns =
		(struct master_conn **)dboxd_hash_values(master_g->conns, &count);

	for (unsigned int i = 0; i < count; i++) {
		if (conns[i]->login == login && conns[i]->state != CONN_HANDED)
			master_conn_free(conns[i]);
		else if (conns[i]->login == login)
			conns[i]->login = NULL;
	}
	free(conns);
}

struct user_count_ctx {
	const char *user;
	unsigned int count;
};

static void user_count_cb(void *value, void *context)
{
	struct master_conn *conn = value;
	struct user_count_ctx *ctx = context;

	if (conn->user != NULL && conn->state != CONN_AUTHING &&
	    strcmp(conn->user, ctx->user) == 0)
		ctx->count++;
}

unsigned int master_user_conn_count(const char *user)
{
	struct user_count_ctx ctx = { .user = user };

	dboxd_hash_foreach(master_g->conns, user_count_cb, &ctx);
	return ctx.count;
}

static void send_open_reply(struct master_child *login, uint32_t login_cid,
			    uint64_t conn_id, const char *reason)
{
	struct dboxd_ipc_msg msg;

	dboxd_ipc_msg_init(&msg, DBOXD_IPC_CONN_OPEN_REPLY, false);
	dboxd_ipc_put_u32(&msg, login_cid);
	dboxd_ipc_put_u64(&msg, conn_id);
	dboxd_ipc_put_str(&msg, reason);
	dboxd_ipc_send(login->ipc, &msg, -1);
}

static int login_conn_open(void *context, struct dboxd_ipc_reader *r,
			   int fd __attribute__((unused)))
{
	struct master_child *login = context;
	uint32_t login_cid = dboxd_ipc_get_u32(r);
	const char *ip = dboxd_ipc_get_str(r);
	uint32_t port = dboxd_ipc_get_u32(r);
	const char *local_ip = dboxd_ipc_get_str(r);
	uint32_t local_port = dboxd_ipc_get_u32(r);
	uint32_t flags = dboxd_ipc_get_u32(r);
	struct master_conn *conn;

	if (dboxd_ipc_get_end(r) < 0 || (flags & ~DBOXD_CONN_FLAGS_MASK) ||
	    strlen(ip) >= sizeof(conn->ip) || port > 65535 ||
	    local_port > 65535)
		return -1;
	(void)local_ip;
	if (master_g->shutting_down || login->retiring) {
		send_open_reply(login, login_cid, 0, "Server shutting down");
		return 0;
	}
	if (addr_count(ip) >= master_g->config->set.max_address_connections) {
		dboxd_info("refused connection from %s: %u connections from this address",
			   ip, addr_count(ip));
		send_open_reply(login, login_cid, 0,
				"[LIMIT] Too many connections from your address");
		return 0;
	}
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		dboxd_fatal("out of memory");
	conn->id = ++master_g->next_conn_id;
	strcpy(conn->ip, ip);
	conn->port = port;
	conn->flags = flags;
	conn->login = login;
	conn->state = CONN_PREAUTH;
	dboxd_hash_set_id(master_g->conns, conn->id, conn);
	addr_count_add(ip, 1);
	send_open_reply(login, login_cid, conn->id, "");
	return 0;
}

/* The conn a login names must exist, be its own and be in state. */
static struct master_conn *login_conn(struct master_child *login, uint64_t id,
				      enum master_conn_state state)
{
	struct master_conn *conn = master_conn_lookup(id);

	if (conn == NULL || conn->login != login || conn->state != state)
		return NULL;
	return conn;
}

static int login_conn_closed(void *context, struct dboxd_ipc_reader *r,
			     int fd __attribute__((unused)))
{
	struct master_child *login = context;
	uint64_t id = dboxd_ipc_get_u64(r);
	struct master_conn *conn;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	conn = master_conn_lookup(id);
	if (conn == NULL || conn->login != login || conn->state == CONN_HANDED)
		return -1;
	master_conn_free(conn);
	return 0;
}

static int login_auth_request(void *context, struct dboxd_ipc_reader *r,
			      int fd __attribute__((unused)))
{
	struct master_child *login = context;
	uint64_t id = dboxd_ipc_get_u64(r);
	const char *mech = dboxd_ipc_get_str(r);
	const char *authzid = dboxd_ipc_get_str(r);
	const char *authcid = dboxd_ipc_get_str(r);
	const char *password = dboxd_ipc_get_str(r);
	struct master_conn *conn;

	(void)dboxd_ipc_get_str(r);	/* ip: we know it better */
	(void)dboxd_ipc_get_u32(r);	/* flags: likewise */
	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	conn = login_conn(login, id, CONN_PREAUTH);
	if (conn == NULL)
		return -1;
	conn->state = CONN_AUTHING;
	master_auth_forward(conn, mech, authzid, authcid, password);
	return 0;
}

void master_conn_auth_result(struct master_conn *conn, uint32_t result,
			     const char *reason)
{
	struct dboxd_ipc_msg msg;

	conn->state = result == DBOXD_AUTH_OK ? CONN_AUTHED : CONN_PREAUTH;
	if (conn->login == NULL || conn->login->ipc == NULL)
		return;
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_AUTH_RESULT, false);
	dboxd_ipc_put_u64(&msg, conn->id);
	dboxd_ipc_put_u32(&msg, result);
	dboxd_ipc_put_str(&msg, reason);
	dboxd_ipc_send(conn->login->ipc, &msg, -1);
}

static int login_handoff(void *context, struct dboxd_ipc_reader *r, int fd)
{
	struct master_child *login = context;
	uint64_t id = dboxd_ipc_get_u64(r);
	const char *tag = dboxd_ipc_get_str(r);
	size_t pending_len;
	const void *pending = dboxd_ipc_get_bytes(r, &pending_len);
	uint32_t flags = dboxd_ipc_get_u32(r);
	struct master_conn *conn;

	if (dboxd_ipc_get_end(r) < 0 || (flags & ~DBOXD_CONN_FLAGS_MASK) ||
	    tag[0] == '\0') {
		close(fd);
		return -1;
	}
	conn = login_conn(login, id, CONN_AUTHED);
	if (conn == NULL) {
		close(fd);
		return -1;
	}
	conn->state = CONN_HANDED;
	conn->flags = flags;
	master_worker_handoff(conn, tag, pending, pending_len, flags, fd);
	return 0;
}

const struct dboxd_ipc_handler master_login_handlers[] = {
	{ DBOXD_IPC_CONN_OPEN, login_conn_open },
	{ DBOXD_IPC_CONN_CLOSED, login_conn_closed },
	{ DBOXD_IPC_AUTH_REQUEST, login_auth_request },
	{ DBOXD_IPC_HANDOFF, login_handoff },
	{ DBOXD_IPC_NONE, NULL },
};
