// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "ksmgroup": dumps of groups and members with their
 * figures, admin-only member operations, and a multicast group of events.
 */
#include <linux/pid_namespace.h>
#include <net/genetlink.h>
#include "ksmg.h"
#include "compat.h"

static struct genl_family ksmg_genl_family;

static const struct nla_policy ksmg_nl_policy[KSMG_A_MAX + 1] = {
	[KSMG_A_GROUP_ID] = { .type = NLA_U32 },
	[KSMG_A_PID] = NLA_POLICY_MIN(NLA_S32, 1),
};

static int ksmg_put_figures(struct sk_buff *skb, const struct ksmg_figures *f)
{
	if (nla_put_u64_64bit(skb, KSMG_A_MERGING_PAGES, f->merging_pages,
			      KSMG_A_PAD) ||
	    nla_put_u64_64bit(skb, KSMG_A_RMAP_ITEMS, f->rmap_items,
			      KSMG_A_PAD) ||
	    nla_put_u64_64bit(skb, KSMG_A_ZERO_PAGES, f->zero_pages,
			      KSMG_A_PAD) ||
	    nla_put_u64_64bit(skb, KSMG_A_ANON_PAGES, f->anon_pages,
			      KSMG_A_PAD) ||
	    nla_put_s64(skb, KSMG_A_PROFIT, f->profit, KSMG_A_PAD))
		return -EMSGSIZE;
	return 0;
}

/* Caller holds ksmg_lock. */
static int __ksmg_fill_group(struct sk_buff *skb, struct ksmg_group *group,
			     u32 portid, u32 seq, int flags)
{
	struct ksmg_figures f;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &ksmg_genl_family, flags,
			  KSMG_CMD_GROUP_GET);
	if (!hdr)
		return -EMSGSIZE;
	__ksmg_group_figures(group, &f);
	if (nla_put_u32(skb, KSMG_A_GROUP_ID, group->id) ||
	    nla_put_string(skb, KSMG_A_NAME, group->name) ||
	    nla_put_u64_64bit(skb, KSMG_A_POLICY, group->policy, KSMG_A_PAD) ||
	    nla_put_u32(skb, KSMG_A_STATE, group->state) ||
	    nla_put_u32(skb, KSMG_A_MEMBERS, f.members) ||
	    nla_put_u64_64bit(skb, KSMG_A_VMAS_MARKED, group->vmas_marked,
			      KSMG_A_PAD) ||
	    nla_put_u64_64bit(skb, KSMG_A_SWEEPS, group->sweeps, KSMG_A_PAD) ||
	    ksmg_put_figures(skb, &f)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int ksmg_nl_group_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ksmg_group *group;
	struct sk_buff *msg;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KSMG_A_GROUP_ID))
		return -EINVAL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&ksmg_lock);
	group = __ksmg_group_find(nla_get_u32(info->attrs[KSMG_A_GROUP_ID]));
	err = group ? __ksmg_fill_group(msg, group, info->snd_portid,
					info->snd_seq, 0) : -ENOENT;
	mutex_unlock(&ksmg_lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: the id of the next group to dump. */
static int ksmg_nl_group_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct ksmg_group *group;
	unsigned long id;
	int err = 0;

	mutex_lock(&ksmg_lock);
	xa_for_each_start(&ksmg_groups, id, group, cb->args[0]) {
		if (group->dead)
			continue;
		err = __ksmg_fill_group(skb, group, NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err)
			break;
		cb->args[0] = id + 1;
	}
	mutex_unlock(&ksmg_lock);
	return err == -EMSGSIZE && skb->len ? skb->len : err ?: skb->len;
}

static int __ksmg_fill_member(struct sk_buff *skb, struct ksmg_member *member,
			      struct pid_namespace *ns, u32 portid, u32 seq)
{
	struct ksmg_figures f = {};
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &ksmg_genl_family, NLM_F_MULTI,
			  KSMG_CMD_MEMBER_GET);
	if (!hdr)
		return -EMSGSIZE;
	__ksmg_member_figures(member, &f);
	if (nla_put_u32(skb, KSMG_A_GROUP_ID, member->group->id) ||
	    nla_put_s32(skb, KSMG_A_PID, pid_nr_ns(member->pid, ns)) ||
	    ksmg_put_figures(skb, &f)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * cb->args[0]: id of the group being dumped, cb->args[1]: members of it
 * already sent, cb->args[2]: KSMG_DUMP_ONE when the request named one
 * group, KSMG_DUMP_DONE once that group is out.
 */
enum { KSMG_DUMP_ALL, KSMG_DUMP_ONE, KSMG_DUMP_DONE };

static int ksmg_nl_member_get_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct nlattr **attrs = ksmg_dump_attrs(cb);
	struct ksmg_member *member;
	struct ksmg_group *group;
	unsigned long id;
	long skip;
	int err = 0;

	if (cb->args[2] == KSMG_DUMP_DONE)
		return 0;
	if (!cb->args[0] && !cb->args[2] && attrs[KSMG_A_GROUP_ID]) {
		cb->args[0] = nla_get_u32(attrs[KSMG_A_GROUP_ID]);
		cb->args[2] = KSMG_DUMP_ONE;
	}
	mutex_lock(&ksmg_lock);
	xa_for_each_start(&ksmg_groups, id, group, cb->args[0]) {
		if (cb->args[2] == KSMG_DUMP_ONE && id != cb->args[0])
			break;
		if (group->dead)
			continue;
		if (id != cb->args[0]) {
			cb->args[0] = id;
			cb->args[1] = 0;
		}
		skip = cb->args[1];
		list_for_each_entry(member, &group->members, node) {
			if (skip-- > 0)
				continue;
			err = __ksmg_fill_member(skb, member, ns,
						 NETLINK_CB(cb->skb).portid,
						 cb->nlh->nlmsg_seq);
			if (err)
				goto out;
			cb->args[1]++;
		}
		cb->args[0] = id + 1;
		cb->args[1] = 0;
		if (cb->args[2] == KSMG_DUMP_ONE) {
			cb->args[2] = KSMG_DUMP_DONE;
			break;
		}
	}
out:
	mutex_unlock(&ksmg_lock);
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* Run @fn on the group named by the request, with the request's pid. */
static int ksmg_nl_member_op(struct genl_info *info,
			     int (*fn)(struct ksmg_group *group, pid_t nr))
{
	struct ksmg_group *group;
	u32 id;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KSMG_A_GROUP_ID) ||
	    GENL_REQ_ATTR_CHECK(info, KSMG_A_PID))
		return -EINVAL;
	id = nla_get_u32(info->attrs[KSMG_A_GROUP_ID]);

	/*
	 * The group cannot be freed under us: that needs its file closed and
	 * its kobject released, and the release erases it under ksmg_lock
	 * only after this reference is taken.
	 */
	mutex_lock(&ksmg_lock);
	group = __ksmg_group_find(id);
	if (group)
		kobject_get(&group->kobj);
	mutex_unlock(&ksmg_lock);
	if (!group)
		return -ENOENT;
	err = fn(group, nla_get_s32(info->attrs[KSMG_A_PID]));
	kobject_put(&group->kobj);
	return err;
}

static int ksmg_nl_member_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	return ksmg_nl_member_op(info, ksmg_group_add_pid);
}

static int ksmg_nl_member_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	return ksmg_nl_member_op(info, ksmg_group_remove_pid);
}

static int ksmg_nl_group_sweep_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct ksmg_group *group;
	int err = -ENOENT;

	if (GENL_REQ_ATTR_CHECK(info, KSMG_A_GROUP_ID))
		return -EINVAL;
	mutex_lock(&ksmg_lock);
	group = __ksmg_group_find(nla_get_u32(info->attrs[KSMG_A_GROUP_ID]));
	if (group)
		err = __ksmg_group_sweep(group, NULL);
	mutex_unlock(&ksmg_lock);
	return err;
}

static const struct genl_small_ops ksmg_nl_ops[] = {
	{
		.cmd = KSMG_CMD_GROUP_GET,
		.doit = ksmg_nl_group_get_doit,
		.dumpit = ksmg_nl_group_get_dumpit,
	},
	{
		.cmd = KSMG_CMD_MEMBER_GET,
		.dumpit = ksmg_nl_member_get_dumpit,
	},
	{
		.cmd = KSMG_CMD_MEMBER_ADD,
		.doit = ksmg_nl_member_add_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KSMG_CMD_MEMBER_DEL,
		.doit = ksmg_nl_member_del_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KSMG_CMD_GROUP_SWEEP,
		.doit = ksmg_nl_group_sweep_doit,
		.flags = GENL_ADMIN_PERM,
	},
};

enum { KSMG_NL_MCGRP_EVENTS };

static const struct genl_multicast_group ksmg_nl_mcgrps[] = {
	[KSMG_NL_MCGRP_EVENTS] = {
		.name = KSMG_GENL_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family ksmg_genl_family __ro_after_init = {
	.name = KSMG_GENL_NAME,
	.version = KSMG_GENL_VERSION,
	.maxattr = KSMG_A_MAX,
	.policy = ksmg_nl_policy,
	.module = THIS_MODULE,
	.small_ops = ksmg_nl_ops,
	.n_small_ops = ARRAY_SIZE(ksmg_nl_ops),
	.resv_start_op = KSMG_CMD_EVENT + 1,
	.mcgrps = ksmg_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ksmg_nl_mcgrps),
};

/*
 * Events name pids in the initial pid namespace: a multicast has no single
 * reader whose namespace could be used. The family is not netns-aware, so
 * only the initial network namespace can listen.
 */
static void ksmg_notify(struct ksmg_group *group, struct pid *pid,
			enum ksmg_event event)
{
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&ksmg_genl_family, &init_net,
				KSMG_NL_MCGRP_EVENTS))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &ksmg_genl_family, 0, KSMG_CMD_EVENT);
	if (!hdr)
		goto err_free;
	if (nla_put_u32(skb, KSMG_A_EVENT, event) ||
	    nla_put_u32(skb, KSMG_A_GROUP_ID, group->id) ||
	    nla_put_string(skb, KSMG_A_NAME, group->name) ||
	    (pid && nla_put_s32(skb, KSMG_A_PID, pid_nr(pid))))
		goto err_free;
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&ksmg_genl_family, skb, 0, KSMG_NL_MCGRP_EVENTS,
			  GFP_KERNEL);
	return;

err_free:
	nlmsg_free(skb);
}

void ksmg_notify_group(struct ksmg_group *group, enum ksmg_event event)
{
	ksmg_notify(group, NULL, event);
}

void ksmg_notify_member(struct ksmg_group *group, struct pid *pid,
			enum ksmg_event event)
{
	ksmg_notify(group, pid, event);
}

int ksmg_netlink_init(void)
{
	return genl_register_family(&ksmg_genl_family);
}

void ksmg_netlink_exit(void)
{
	genl_unregister_family(&ksmg_genl_family);
}
