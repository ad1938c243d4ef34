// SPDX-License-Identifier: GPL-2.0-or-later
/* Client of the "ksmgroup" generic netlink family; see nl.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>

#include "ksmgroup.h"
#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct ksmg_nl {
	struct nl_sock *sk;
	int family;
	unsigned int version;
	char errbuf[256];
};

/* One request or receive in flight: what the callbacks report back. */
struct nl_req {
	struct ksmg_nl *nl;
	ksmg_nl_cb_t *cb;
	void *ctx;
	int err;		/* errno from the kernel or from cb, 0 if none */
	const char *error;	/* sentence for error_r */
	bool done;
};

/* Types are checked by libnl before any field is read. */
static struct nla_policy attr_policy[KSMG_A_MAX + 1] = {
	[KSMG_A_GROUP_ID]	= { .type = NLA_U32 },
	[KSMG_A_NAME]		= { .type = NLA_STRING, .maxlen = KSMG_NAME_MAX },
	[KSMG_A_POLICY]		= { .type = NLA_U64 },
	[KSMG_A_STATE]		= { .type = NLA_U32 },
	[KSMG_A_MEMBERS]	= { .type = NLA_U32 },
	[KSMG_A_PID]		= { .type = NLA_U32 },
	[KSMG_A_MERGING_PAGES]	= { .type = NLA_U64 },
	[KSMG_A_RMAP_ITEMS]	= { .type = NLA_U64 },
	[KSMG_A_ZERO_PAGES]	= { .type = NLA_U64 },
	[KSMG_A_ANON_PAGES]	= { .type = NLA_U64 },
	[KSMG_A_PROFIT]		= { .type = NLA_U64 },
	[KSMG_A_VMAS_MARKED]	= { .type = NLA_U64 },
	[KSMG_A_SWEEPS]		= { .type = NLA_U64 },
	[KSMG_A_EVENT]		= { .type = NLA_U32 },
};

/* Where each fixed-size attribute lands in struct ksmg_nl_attrs. */
static const struct attr_field {
	int attr;
	size_t offset;
	size_t size;
} attr_fields[] = {
#define FIELD(a, f) { a, offsetof(struct ksmg_nl_attrs, f), \
		      sizeof(((struct ksmg_nl_attrs *)0)->f) }
	FIELD(KSMG_A_GROUP_ID, group_id),
	FIELD(KSMG_A_POLICY, policy),
	FIELD(KSMG_A_STATE, state),
	FIELD(KSMG_A_MEMBERS, members),
	FIELD(KSMG_A_PID, pid),
	FIELD(KSMG_A_MERGING_PAGES, merging_pages),
	FIELD(KSMG_A_RMAP_ITEMS, rmap_items),
	FIELD(KSMG_A_ZERO_PAGES, zero_pages),
	FIELD(KSMG_A_ANON_PAGES, anon_pages),
	FIELD(KSMG_A_PROFIT, profit),
	FIELD(KSMG_A_VMAS_MARKED, vmas_marked),
	FIELD(KSMG_A_SWEEPS, sweeps),
	FIELD(KSMG_A_EVENT, event),
#undef FIELD
};

static int parse_msg(struct nl_msg *msg, struct ksmg_nl_attrs *attrs)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[KSMG_A_MAX + 1];
	size_t i;

	if (genlmsg_parse(nlh, 0, tb, KSMG_A_MAX, attr_policy) < 0)
		return -EPROTO;
	memset(attrs, 0, sizeof(*attrs));
	attrs->cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	for (i = 0; i < sizeof(attr_fields) / sizeof(attr_fields[0]); i++) {
		const struct attr_field *f = &attr_fields[i];

		if (tb[f->attr] == NULL)
			continue;
		/* The policy checked the length is exactly f->size. */
		memcpy((char *)attrs + f->offset, nla_data(tb[f->attr]),
		       f->size);
		attrs->present |= 1u << f->attr;
	}
	if (tb[KSMG_A_NAME] != NULL) {
		/* The policy checked NUL termination and length. */
		snprintf(attrs->name, sizeof(attrs->name), "%s",
			 nla_get_string(tb[KSMG_A_NAME]));
		attrs->present |= 1u << KSMG_A_NAME;
	}
	return 0;
}

/* Copy an extended ack's message (NLMSGERR_ATTR_MSG), if any. */
static void take_extack(struct nl_req *req, struct nlmsghdr *nlh,
			size_t payload_used)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t total = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || payload_used >= total)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + payload_used),
		      (int)(total - payload_used), NULL) < 0 ||
	    tb[NLMSGERR_ATTR_MSG] == NULL)
		return;
	snprintf(req->nl->errbuf, sizeof(req->nl->errbuf), "%.*s",
		 nla_len(tb[NLMSGERR_ATTR_MSG]),
		 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	req->error = req->nl->errbuf;
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nl_req *req = arg;
	size_t used = sizeof(*e);

	(void)who;
	/* Without NLM_F_CAPPED the request follows, then the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		used += NLMSG_ALIGN(e->msg.nlmsg_len) - sizeof(e->msg);
	req->err = -e->error;
	/*
	 * The uAPI's words for its errnos, unless the module said more; but
	 * over netlink EPERM may also be genetlink's admin check, so it
	 * stays generic there.
	 */
	req->error = req->err == EPERM ? "permission denied" :
		     ksmg_strerror(req->err);
	take_extack(req, nlh, used);
	req->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

/* End of a dump: NLMSG_DONE carries the dump's errno, if it failed. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nl_req *req = arg;
	int err;

	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0 && req->err == 0) {
			req->err = -err;
			req->error = ksmg_strerror(req->err);
			take_extack(req, nlh, sizeof(int));
		}
	}
	req->done = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct ksmg_nl_attrs attrs;
	struct nl_req *req = arg;
	int ret;

	/* After a failure keep draining the dump, but call nobody. */
	if (req->err != 0)
		return NL_OK;
	if (parse_msg(msg, &attrs) < 0) {
		req->err = EPROTO;
		req->error = "malformed ksmgroup netlink message";
		return NL_OK;
	}
	if (req->cb != NULL) {
		ret = req->cb(&attrs, req->ctx);
		if (ret < 0) {
			req->err = -ret;
			req->error = strerror(req->err);
		}
	}
	return NL_OK;
}

static struct nl_cb *req_cb_alloc(struct nl_req *req)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (cb == NULL)
		return NULL;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, req);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, req);
	return cb;
}

/* libnl error to our errno contract, with libnl's words. */
static int fail_comm(struct ksmg_nl *nl, int nlerr, const char *what,
		     const char **error_r)
{
	snprintf(nl->errbuf, sizeof(nl->errbuf), "netlink %s failed: %s",
		 what, nl_geterror(nlerr));
	*error_r = nl->errbuf;
	errno = ECOMM;
	return -1;
}

static int resolve_family(struct ksmg_nl *nl, const char **error_r)
{
	struct genl_family *family;
	struct nl_cache *cache;
	int ret;

	ret = genl_ctrl_alloc_cache(nl->sk, &cache);
	if (ret < 0)
		return fail_comm(nl, ret, "family lookup", error_r);
	family = genl_ctrl_search_by_name(cache, KSMG_GENL_NAME);
	if (family == NULL) {
		nl_cache_free(cache);
		*error_r = "ksmgroup module not loaded: run modprobe ksmgroup";
		errno = ENOPKG;
		return -1;
	}
	nl->family = (int)genl_family_get_id(family);
	nl->version = genl_family_get_version(family);
	genl_family_put(family);
	nl_cache_free(cache);
	return 0;
}

int ksmg_nl_open(struct ksmg_nl **nl_r, const char **error_r)
{
	struct ksmg_nl *nl;
	int one = 1, ret, saved_errno;

	nl = calloc(1, sizeof(*nl));
	if (nl == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	nl->sk = nl_socket_alloc();
	if (nl->sk == NULL) {
		*error_r = "out of memory";
		errno = ENOMEM;
		goto free_nl;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		fail_comm(nl, ret, "connect", error_r);
		/* error_r points into nl, which is freed below. */
		*error_r = "cannot open a generic netlink socket";
		goto free_sock;
	}
	/*
	 * Extended acks carry the module's own error text; capped acks do not
	 * echo our request. Kernels without them still work, so failures of
	 * these two are ignored.
	 */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	if (resolve_family(nl, error_r) < 0) {
		if (errno != ENOPKG)
			*error_r = "cannot look up the ksmgroup netlink family";
		goto free_sock;
	}
	*nl_r = nl;
	return 0;

free_sock:
	saved_errno = errno;
	nl_socket_free(nl->sk);
	errno = saved_errno;
free_nl:
	saved_errno = errno;
	free(nl);
	errno = saved_errno;
	return -1;
}

void ksmg_nl_close(struct ksmg_nl **nl)
{
	if (nl == NULL || *nl == NULL)
		return;
	nl_socket_free((*nl)->sk);
	free(*nl);
	*nl = NULL;
}

unsigned int ksmg_nl_family_version(const struct ksmg_nl *nl)
{
	return nl->version;
}

int ksmg_nl_fd(const struct ksmg_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

static int put_request_attrs(struct nl_msg *msg,
			     const struct ksmg_nl_attrs *req)
{
	if (req == NULL)
		return 0;
	if (ksmg_nl_has(req, KSMG_A_GROUP_ID) &&
	    nla_put_u32(msg, KSMG_A_GROUP_ID, req->group_id) < 0)
		return -1;
	if (ksmg_nl_has(req, KSMG_A_PID) &&
	    nla_put_u32(msg, KSMG_A_PID, (uint32_t)req->pid) < 0)
		return -1;
	return 0;
}

static int finish_req(struct nl_req *req, const char **error_r)
{
	if (req->err == 0)
		return 0;
	*error_r = req->error != NULL ? req->error : ksmg_strerror(req->err);
	errno = req->err;
	return -1;
}

int ksmg_nl_request(struct ksmg_nl *nl, uint8_t cmd, bool dump,
		    const struct ksmg_nl_attrs *req_attrs, ksmg_nl_cb_t *cb,
		    void *ctx, const char **error_r)
{
	struct nl_req req = { .nl = nl, .cb = cb, .ctx = ctx };
	struct nl_msg *msg;
	struct nl_cb *nlcb;
	int ret;

	msg = nlmsg_alloc();
	if (msg == NULL) {
		*error_r = "out of memory";
		errno = ENOMEM;
		return -1;
	}
	if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			dump ? NLM_F_DUMP : 0, cmd, KSMG_GENL_VERSION) == NULL ||
	    put_request_attrs(msg, req_attrs) < 0) {
		nlmsg_free(msg);
		*error_r = "netlink message too large";
		errno = EMSGSIZE;
		return -1;
	}
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return fail_comm(nl, ret, "send", error_r);

	nlcb = req_cb_alloc(&req);
	if (nlcb == NULL) {
		*error_r = "out of memory";
		errno = ENOMEM;
		return -1;
	}
	while (!req.done) {
		ret = nl_recvmsgs(nl->sk, nlcb);
		/* on_error() returning NL_STOP also lands here, err set. */
		if (ret < 0 && req.err == 0) {
			nl_cb_put(nlcb);
			return fail_comm(nl, ret, "receive", error_r);
		}
		if (ret < 0)
			break;
	}
	nl_cb_put(nlcb);
	return finish_req(&req, error_r);
}

/* A larger receive buffer keeps bursts of events (1,000 groups closing)
 * from overflowing it; the forced variant needs CAP_NET_ADMIN. */
static void grow_rcvbuf(struct ksmg_nl *nl)
{
	int size = 4 << 20;

	if (setsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUFFORCE,
		       &size, sizeof(size)) < 0)
		nl_socket_set_buffer_size(nl->sk, size, 0);
}

int ksmg_nl_subscribe(struct ksmg_nl *nl, const char **error_r)
{
	int grp, ret;

	grp = genl_ctrl_resolve_grp(nl->sk, KSMG_GENL_NAME,
				    KSMG_GENL_MCGRP_EVENTS);
	if (grp == -NLE_OBJ_NOTFOUND) {
		*error_r = "the loaded ksmgroup module has no events multicast group: update the module";
		errno = EOPNOTSUPP;
		return -1;
	}
	if (grp < 0)
		return fail_comm(nl, grp, "multicast group lookup", error_r);
	/* Events are not replies to our requests: no sequence numbers. */
	nl_socket_disable_seq_check(nl->sk);
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret == -NLE_PERM) {
		/* The module flags its events group GENL_MCAST_CAP_NET_ADMIN. */
		*error_r = "listening to ksmgroup events needs CAP_NET_ADMIN";
		errno = EPERM;
		return -1;
	}
	if (ret < 0)
		return fail_comm(nl, ret, "join of the events group", error_r);
	grow_rcvbuf(nl);
	ret = nl_socket_set_nonblocking(nl->sk);
	if (ret < 0)
		return fail_comm(nl, ret, "set non-blocking", error_r);
	return 0;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int ksmg_nl_receive(struct ksmg_nl *nl, ksmg_nl_cb_t *cb, void *ctx,
		    const char **error_r)
{
	struct nl_req req = { .nl = nl, .cb = cb, .ctx = ctx };
	struct nl_cb *nlcb;
	int ret;

	nlcb = req_cb_alloc(&req);
	if (nlcb == NULL) {
		*error_r = "out of memory";
		errno = ENOMEM;
		return -1;
	}
	/* Multicast events carry sequence number 0. */
	nl_cb_set(nlcb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	for (;;) {
		ret = nl_recvmsgs(nl->sk, nlcb);
		if (ret == -NLE_AGAIN)
			break;
		if (ret == -NLE_NOMEM) {
			nl_cb_put(nlcb);
			*error_r = "netlink receive buffer overflowed: events were lost";
			errno = ENOBUFS;
			return -1;
		}
		if (ret < 0) {
			nl_cb_put(nlcb);
			return fail_comm(nl, ret, "receive", error_r);
		}
		if (req.err != 0)
			break;
	}
	nl_cb_put(nlcb);
	return finish_req(&req, error_r);
}
