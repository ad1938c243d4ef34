// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LMTP delivery as the master routes it. The lmtp process asks whether a
 * recipient is a local user (RCPT_LOOKUP; auth answers USER_REPLY without
 * any password involved); the answer is cached as the user's description
 * (uid, gid, home, mail) for starting a worker. A DELIVER then goes with its
 * message (a memfd) to the user's worker, started if needed, and the
 * worker's DELIVERED goes back to the lmtp process. A delivery whose
 * worker dies is answered with a temporary failure.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "master.h"

/* A recipient lookup at auth, for the lmtp process that asked. */
struct master_lookup {
	uint64_t id;
	uint64_t lmtp_req;
	struct master_child *lmtp;
};

/* A delivery sent to a worker. */
struct master_delivery {
	uint64_t id;
	uint64_t lmtp_req;
	struct master_child *lmtp;
	struct master_worker *worker;
};

static void send_rcpt_result(struct master_child *lmtp, uint64_t req,
			     uint32_t result, const char *user)
{
	struct dboxd_ipc_msg msg;

	if (lmtp == NULL || lmtp->ipc == NULL)
		return;
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_RCPT_RESULT, false);
	dboxd_ipc_put_u64(&msg, req);
	dboxd_ipc_put_u32(&msg, result);
	dboxd_ipc_put_str(&msg, user);
	dboxd_ipc_send(lmtp->ipc, &msg, -1);
}

static void send_delivered(struct master_child *lmtp, uint64_t req,
			   uint32_t result, const char *reason)
{
	struct dboxd_ipc_msg msg;

	if (lmtp == NULL || lmtp->ipc == NULL)
		return;
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_DELIVERED, false);
	dboxd_ipc_put_u64(&msg, req);
	dboxd_ipc_put_u32(&msg, result);
	dboxd_ipc_put_str(&msg, reason);
	dboxd_ipc_send(lmtp->ipc, &msg, -1);
}

static int lmtp_rcpt_lookup(void *context, struct dboxd_ipc_reader *r,
			    int fd __attribute__((unused)))
{
	struct master_child *lmtp = context;
	uint64_t req = dboxd_ipc_get_u64(r);
	const char *address = dboxd_ipc_get_str(r);
	struct master_lookup *l;
	struct dboxd_ipc_msg msg;

	if (dboxd_ipc_get_end(r) < 0)
		return -1;
	if (master_g->auth == NULL || master_g->auth->ipc == NULL) {
		send_rcpt_result(lmtp, req, DBOXD_AUTH_TEMPFAIL, "");
		return 0;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		dboxd_fatal("out of memory");
	l->id = ++master_g->next_req_id;
	l->lmtp_req = req;
	l->lmtp = lmtp;
	dboxd_hash_set_id(master_g->lookups, l->id, l);
	master_auth_send_passwd(false);
	dboxd_ipc_msg_init(&msg, DBOXD_IPC_USER_LOOKUP, false);
	dboxd_ipc_put_u64(&msg, l->id);
	dboxd_ipc_put_str(&msg, address);
	dboxd_ipc_send(master_g->auth->ipc, &msg, -1);
	return 0;
}

static void userinfo_free(struct master_userinfo *u)
{
	if (u == NULL)
		return;
	free(u->user);
	free(u->home);
	free(u->mail);
	free(u);
}

int master_auth_user_reply(struct dboxd_ipc_reader *r)
{
	uint64_t id = dboxd_ipc_get_u64(r);
	uint32_t result = dboxd_ipc_get_u32(r);
	const char *user = dboxd_ipc_get_str(r);
	uint32_t uid = dboxd_ipc_get_u32(r);
	uint32_t gid = dboxd_ipc_get_u32(r);
	const char *home = dboxd_ipc_get_str(r);
	const char *mail = dboxd_ipc_get_str(r);
	const struct dboxd_settings *set = &master_g->config->set;
	struct master_lookup *l;
	struct master_userinfo *u;

	if (dboxd_ipc_get_end(r) < 0 || result < DBOXD_AUTH_OK ||
	    result > DBOXD_AUTH_RESULT_MAX)
		return -1;
	l = dboxd_hash_get_id(master_g->lookups, id);
	if (l == NULL)
		return 0;
	dboxd_hash_remove_id(master_g->lookups, id);
	if (result == DBOXD_AUTH_OK &&
	    (uid == 0 || uid < set->first_valid_uid ||
	     (set->last_valid_uid != 0 && uid > set->last_valid_uid) ||
	     gid == 0 || gid < set->first_valid_gid || home[0] != '/' ||
	     user[0] == '\0' || strchr(user, '/') != NULL)) {
		dboxd_error("LMTP recipient %s refused: uid/gid/home outside the limits",
			    user);
		result = DBOXD_AUTH_TEMPFAIL;
	}
	if (result == DBOXD_AUTH_OK) {
		u = calloc(1, sizeof(*u));
		if (u == NULL || (u->user = strdup(user)) == NULL ||
		    (u->home = strdup(home)) == NULL ||
		    (u->mail = strdup(mail)) == NULL)
			dboxd_fatal("out of memory");
		u->uid = uid;
		u->gid = gid;
		userinfo_free(dboxd_hash_get_str(master_g->users, user));
		dboxd_hash_set_str(master_g->users, user, u);
	}
	send_rcpt_result(l->lmtp, l->lmtp_req, result, user);
	free(l);
	return 0;
}

static void lookup_gone_cb(void *value, void *context)
{
	struct master_lookup *l = value;
	struct master_child *lmtp = context;

	if (lmtp == NULL)
		send_rcpt_result(l->lmtp, l->lmtp_req, DBOXD_AUTH_TEMPFAIL, "");
	else if (l->lmtp == lmtp)
		l->lmtp = NULL;
}

static void lookups_clear(struct master_child *lmtp)
{
	unsigned int count;
	void **values;

	dboxd_hash_foreach(master_g->lookups, lookup_gone_cb, lmtp);
	if (lmtp != NULL)
		return;
	values = dboxd_hash_values(master_g->lookups, &count);
	for (unsigned int i = 0; i < count; i++) {
		dboxd_hash_remove_id(master_g->lookups,
				     ((struct master_lookup *)values[i])->id);
		free(values[i]);
	}
	free(values);
}

void master_lmtp_auth_gone(void)
{
	lookups_clear(NULL);
}

static void delivery_gone_cb(void *value, void *context)
{
	struct master_delivery *d = value;

	if (d->lmtp == context)
		d->lmtp = NULL;
}

void master_lmtp_child_gone(struct master_child *lmtp)
{
	lookups_clear(lmtp);
	dboxd_hash_foreach(master_g->deliveries, delivery_gone_cb, lmtp);
}

static int lmtp_deliver(void *context, struct dboxd_ipc_reader *r, int fd)
{
	struct master_child *lmtp = context;
	uint64_t req = dboxd_ipc_get_u64(r);
	const char *user = dboxd_ipc_get_str(r);
	const char *sender = dboxd_ipc_get_str(r);
	const char *rcpt = dboxd_ipc_get_str(r);
	struct master_userinfo *u;
	struct master_worker *w;
	struct master_delivery *d;
	const char *error;

	if (dboxd_ipc_get_end(r) < 0) {
		close(fd);
		return -1;
	}
	u = dboxd_hash_get_str(master_g->users, user);
	if (u == NULL) {
		/* only users a RCPT_LOOKUP found may be delivered to */
		close(fd);
		return -1;
	}
	w = master_worker_get(u, &error);
	if (w == NULL) {
		dboxd_error("cannot start a worker for %s: %s", user, error);
		close(fd);
		send_delivered(lmtp, req, DBOXD_AUTH_TEMPFAIL,
			       "Mail service unavailable");
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		dboxd_fatal("out of memory");
	d->id = ++master_g->next_req_id;
	d->lmtp_req = req;
	d->lmtp = lmtp;
	d->worker = w;
	dboxd_hash_set_id(master_g->deliveries, d->id, d);
	master_worker_deliver(w, d->id, sender, rcpt, fd);
	return 0;
}

int master_worker_delivered(struct master_worker *w,
			    struct dboxd_ipc_reader *r)
{
	uint64_t id = dboxd_ipc_get_u64(r);
	uint32_t result = dboxd_ipc_get_u32(r);
	const char *reason = dboxd_ipc_get_str(r);
	struct master_delivery *d;

	if (dboxd_ipc_get_end(r) < 0 || result < DBOXD_AUTH_OK ||
	    result > DBOXD_AUTH_RESULT_MAX)
		return -1;
	d = dboxd_hash_get_id(master_g->deliveries, id);
	if (d == NULL || d->worker != w)
		return -1;
	dboxd_hash_remove_id(master_g->deliveries, id);
	if (w->delivery_count > 0)
		w->delivery_count--;
	send_delivered(d->lmtp, d->lmtp_req, result, reason);
	free(d);
	return 0;
}

void master_deliveries_of_worker_gone(struct master_worker *w)
{
	unsigned int count;
	void **values = dboxd_hash_values(master_g->deliveries, &count);

	for (unsigned int i = 0; i < count; i++) {
		struct master_delivery *d = values[i];

		if (d->worker != w)
			continue;
		dboxd_hash_remove_id(master_g->deliveries, d->id);
		send_delivered(d->lmtp, d->lmtp_req, DBOXD_AUTH_TEMPFAIL,
			       "Mail service restarted, try again");
		free(d);
	}
	free(values);
	w->delivery_count = 0;
}

const struct dboxd_ipc_handler master_lmtp_handlers[] = {
	{ DBOXD_IPC_RCPT_LOOKUP, lmtp_rcpt_lookup },
	{ DBOXD_IPC_DELIVER, lmtp_deliver },
	{ DBOXD_IPC_NONE, NULL },
};
