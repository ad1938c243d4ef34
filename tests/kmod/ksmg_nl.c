// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libnl-genl client of the "ksmgroup" family (see ksmg_nl.h).
 *
 * Requests go out on one socket and are answered there; events arrive on
 * a second socket that joined the "events" multicast group, so that an
 * event can never be mistaken for part of a reply.
 *
 * libnl turns kernel errnos into its own NLE_ codes, losing the
 * difference between, say, ESRCH and EEXIST; the error callback keeps the
 * kernel's errno from the NLMSG_ERROR message instead.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <linux/ksmgroup.h>
#include "ksmg_nl.h"
#include "ksmg_test.h"

struct ksmg_nl_req {
	struct ksmg_nl_obj *out;
	size_t max, n;
	int err;
	bool done;
};

static int ksmg_nl_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_PERM:
		return -EPERM;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_AGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

static int ksmg_nl_parse(struct nl_msg *msg, struct ksmg_nl_obj *obj)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[KSMG_A_MAX + 1];
	int i;

	memset(obj, 0, sizeof(*obj));
	if (genlmsg_parse(nlh, 0, tb, KSMG_A_MAX, NULL) < 0)
		return -EPROTO;
	obj->cmd = gh->cmd;
	for (i = 1; i <= KSMG_A_MAX; i++)
		if (tb[i])
			obj->present |= 1ULL << i;
	if (tb[KSMG_A_GROUP_ID])
		obj->group_id = nla_get_u32(tb[KSMG_A_GROUP_ID]);
	if (tb[KSMG_A_NAME])
		snprintf(obj->name, sizeof(obj->name), "%s",
			 nla_get_string(tb[KSMG_A_NAME]));
	if (tb[KSMG_A_POLICY])
		obj->policy = nla_get_u64(tb[KSMG_A_POLICY]);
	if (tb[KSMG_A_STATE])
		obj->state = nla_get_u32(tb[KSMG_A_STATE]);
	if (tb[KSMG_A_MEMBERS])
		obj->members = nla_get_u32(tb[KSMG_A_MEMBERS]);
	if (tb[KSMG_A_PID])
		obj->pid = nla_get_s32(tb[KSMG_A_PID]);
	if (tb[KSMG_A_MERGING_PAGES])
		obj->merging_pages = nla_get_u64(tb[KSMG_A_MERGING_PAGES]);
	if (tb[KSMG_A_RMAP_ITEMS])
		obj->rmap_items = nla_get_u64(tb[KSMG_A_RMAP_ITEMS]);
	if (tb[KSMG_A_ZERO_PAGES])
		obj->zero_pages = nla_get_u64(tb[KSMG_A_ZERO_PAGES]);
	if (tb[KSMG_A_ANON_PAGES])
		obj->anon_pages = nla_get_u64(tb[KSMG_A_ANON_PAGES]);
	if (tb[KSMG_A_PROFIT])
		obj->profit = nla_get_s64(tb[KSMG_A_PROFIT]);
	if (tb[KSMG_A_VMAS_MARKED])
		obj->vmas_marked = nla_get_u64(tb[KSMG_A_VMAS_MARKED]);
	if (tb[KSMG_A_SWEEPS])
		obj->sweeps = nla_get_u64(tb[KSMG_A_SWEEPS]);
	if (tb[KSMG_A_EVENT])
		obj->event = nla_get_u32(tb[KSMG_A_EVENT]);
	return 0;
}

static int ksmg_nl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct ksmg_nl_req *req = arg;

	if (req->n < req->max && ksmg_nl_parse(msg, &req->out[req->n]))
		req->err = -EPROTO;
	req->n++;
	return NL_OK;
}

static int ksmg_nl_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e,
			  void *arg)
{
	struct ksmg_nl_req *req = arg;

	(void)nla;
	req->err = e->error;
	req->done = true;
	return NL_STOP;
}

/* NLMSG_DONE ends a dump; it carries the dump's error, if any. */
static int ksmg_nl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct ksmg_nl_req *req = arg;
	int err;

	if (nlmsg_datalen(nlh) >= (int)sizeof(err)) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0)
			req->err = err;
	}
	req->done = true;
	return NL_STOP;
}

static int ksmg_nl_ack_cb(struct nl_msg *msg, void *arg)
{
	struct ksmg_nl_req *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

static int ksmg_nl_wait(struct nl_sock *sk, struct ksmg_nl_req *req)
{
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ksmg_nl_valid_cb, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, ksmg_nl_finish_cb, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ksmg_nl_ack_cb, req);
	nl_cb_err(cb, NL_CB_CUSTOM, ksmg_nl_err_cb, req);
	while (!req->done) {
		ret = nl_recvmsgs(sk, cb);
		if (ret < 0 && !req->done) {
			req->err = ksmg_nl_errno(ret);
			break;
		}
	}
	nl_cb_put(cb);
	return req->err;
}

/* Send @cmd with the given attributes and collect what comes back. */
static int ksmg_nl_request(struct ksmg_nl *nl, uint8_t cmd, int flags,
			   const uint32_t *group_id, const int32_t *pid,
			   struct ksmg_nl_req *req)
{
	struct nl_msg *msg;
	int ret;

	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, KSMG_GENL_VERSION) ||
	    (group_id && nla_put_u32(msg, KSMG_A_GROUP_ID, *group_id)) ||
	    (pid && nla_put_s32(msg, KSMG_A_PID, *pid))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return ksmg_nl_errno(ret);
	return ksmg_nl_wait(nl->sk, req);
}

int ksmg_nl_open(struct ksmg_nl *nl)
{
	int ret;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	ret = genl_connect(nl->sk);
	if (ret < 0)
		goto err_free;
	ret = genl_ctrl_resolve(nl->sk, KSMG_GENL_NAME);
	if (ret < 0)
		goto err_free;
	nl->family = ret;
	return 0;

err_free:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return ksmg_nl_errno(ret);
}

void ksmg_nl_close(struct ksmg_nl *nl)
{
	if (nl->ev)
		nl_socket_free(nl->ev);
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->ev = NULL;
	nl->sk = NULL;
}

int ksmg_nl_get_group(struct ksmg_nl *nl, uint32_t id,
		      struct ksmg_nl_obj *obj)
{
	struct ksmg_nl_req req = { .out = obj, .max = 1 };
	int ret;

	ret = ksmg_nl_request(nl, KSMG_CMD_GROUP_GET, NLM_F_ACK, &id, NULL,
			      &req);
	if (ret)
		return ret;
	return req.n == 1 ? 0 : -EPROTO;
}

int ksmg_nl_dump_groups(struct ksmg_nl *nl, struct ksmg_nl_obj *out,
			size_t max, size_t *n_r)
{
	struct ksmg_nl_req req = { .out = out, .max = max };
	int ret;

	ret = ksmg_nl_request(nl, KSMG_CMD_GROUP_GET, NLM_F_DUMP, NULL, NULL,
			      &req);
	*n_r = req.n;
	return ret;
}

int ksmg_nl_dump_members(struct ksmg_nl *nl, bool one_group, uint32_t id,
			 struct ksmg_nl_obj *out, size_t max, size_t *n_r)
{
	struct ksmg_nl_req req = { .out = out, .max = max };
	int ret;

	ret = ksmg_nl_request(nl, KSMG_CMD_MEMBER_GET, NLM_F_DUMP,
			      one_group ? &id : NULL, NULL, &req);
	*n_r = req.n;
	return ret;
}

int ksmg_nl_member_add(struct ksmg_nl *nl, uint32_t id, int32_t pid)
{
	struct ksmg_nl_req req = { 0 };

	return ksmg_nl_request(nl, KSMG_CMD_MEMBER_ADD, NLM_F_ACK, &id, &pid,
			       &req);
}

int ksmg_nl_member_del(struct ksmg_nl *nl, uint32_t id, int32_t pid)
{
	struct ksmg_nl_req req = { 0 };

	return ksmg_nl_request(nl, KSMG_CMD_MEMBER_DEL, NLM_F_ACK, &id, &pid,
			       &req);
}

int ksmg_nl_sweep(struct ksmg_nl *nl, uint32_t id)
{
	struct ksmg_nl_req req = { 0 };

	return ksmg_nl_request(nl, KSMG_CMD_GROUP_SWEEP, NLM_F_ACK, &id, NULL,
			       &req);
}

/* Events: a second socket in the multicast group, read without blocking. */

static int ksmg_nl_event_cb(struct nl_msg *msg, void *arg)
{
	struct ksmg_nl *nl = arg;
	struct ksmg_nl_obj *ev;

	if (nl->len == KSMG_NL_QUEUE) {
		nl->overrun = true;
		return NL_OK;
	}
	ev = &nl->queue[(nl->head + nl->len) % KSMG_NL_QUEUE];
	if (ksmg_nl_parse(msg, ev) == 0)
		nl->len++;
	return NL_OK;
}

int ksmg_nl_subscribe(struct ksmg_nl *nl)
{
	struct nl_sock *ev;
	int grp, ret;

	ev = nl_socket_alloc();
	if (!ev)
		return -ENOMEM;
	nl_socket_disable_seq_check(ev);
	nl_socket_modify_cb(ev, NL_CB_VALID, NL_CB_CUSTOM, ksmg_nl_event_cb,
			    nl);
	ret = genl_connect(ev);
	if (ret < 0)
		goto err_free;
	grp = genl_ctrl_resolve_grp(nl->sk, KSMG_GENL_NAME,
				    KSMG_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		ret = grp;
		goto err_free;
	}
	ret = nl_socket_add_membership(ev, grp);
	if (ret < 0)
		goto err_free;
	ret = nl_socket_set_nonblocking(ev);
	if (ret < 0)
		goto err_free;
	/* Room for bursts (the stress of many groups) without ENOBUFS. */
	nl_socket_set_buffer_size(ev, 4 << 20, 0);
	if (nl->ev)
		nl_socket_free(nl->ev);
	nl->ev = ev;
	return 0;

err_free:
	nl_socket_free(ev);
	return ksmg_nl_errno(ret);
}

/* The next event, waiting up to @timeout_ms; -ETIMEDOUT when none came. */
int ksmg_nl_next_event(struct ksmg_nl *nl, int timeout_ms,
		       struct ksmg_nl_obj *ev)
{
	uint64_t end = ksmg_now_ms() + (uint64_t)timeout_ms;
	struct pollfd pfd;
	int ret;

	if (!nl->ev)
		return -EINVAL;
	pfd.fd = nl_socket_get_fd(nl->ev);
	pfd.events = POLLIN;
	while (!nl->len) {
		uint64_t now = ksmg_now_ms();

		if (now >= end)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, (int)(end - now));
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		ret = nl_recvmsgs_default(nl->ev);
		if (ret < 0 && ret != -NLE_AGAIN) {
			/* ENOBUFS: events were lost. */
			nl->overrun = true;
			return ksmg_nl_errno(ret);
		}
	}
	*ev = nl->queue[nl->head];
	nl->head = (nl->head + 1) % KSMG_NL_QUEUE;
	nl->len--;
	return 0;
}
