// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ksmgroup: one open file, one merge group; the ioctls of the uAPI.
 *
 * The dispatch follows iommufd: the ioctl number picks an entry of
 * ksmg_ioctl_ops, the struct's leading size field says how much the caller
 * passed, copy_struct_from_user() reconciles old and new struct sizes.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "ksmg.h"
#include "compat.h"

union ksmg_ucmd_buffer {
	struct ksmg_info info;
	struct ksmg_name_cmd name;
	struct ksmg_policy_cmd policy;
	struct ksmg_member_cmd member;
	struct ksmg_stats stats;
	struct ksmg_list_cmd list;
	struct ksmg_sweep_cmd sweep;
};

struct ksmg_ucmd {
	struct ksmg_group *group;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/* Copy the (possibly updated) command struct back to the caller. */
static int ksmg_ucmd_respond(struct ksmg_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static int ksmg_get_info(struct ksmg_ucmd *ucmd)
{
	struct ksmg_info *cmd = ucmd->cmd;

	if (cmd->flags)
		return -EINVAL;
	cmd->api_version = KSMG_API_VERSION;
	cmd->group_id = ucmd->group->id;
	cmd->features = ksmg_kernel_features();
	cmd->policies = KSMG_POLICY_ALL;
	cmd->sweep_ms_min = KSMG_SWEEP_MS_MIN;
	cmd->sweep_ms_max = KSMG_SWEEP_MS_MAX;
	return ksmg_ucmd_respond(ucmd, sizeof(*cmd));
}

/* Printable ASCII without space and '/', so it reads well in every tool. */
static bool ksmg_name_valid(const char *name)
{
	size_t len = strnlen(name, KSMG_NAME_MAX);
	size_t i;

	if (!len || len == KSMG_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '/')
			return false;
	for (; i < KSMG_NAME_MAX; i++)
		if (name[i])
			return false;
	return true;
}

static int ksmg_set_name(struct ksmg_ucmd *ucmd)
{
	struct ksmg_name_cmd *cmd = ucmd->cmd;

	if (cmd->flags || !ksmg_name_valid(cmd->name))
		return -EINVAL;
	mutex_lock(&ksmg_lock);
	memcpy(ucmd->group->name, cmd->name, KSMG_NAME_MAX);
	mutex_unlock(&ksmg_lock);
	return 0;
}

static int ksmg_set_policy(struct ksmg_ucmd *ucmd)
{
	struct ksmg_policy_cmd *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved || (cmd->policy & ~KSMG_POLICY_ALL))
		return -EINVAL;
	if (cmd->sweep_ms && (cmd->sweep_ms < KSMG_SWEEP_MS_MIN ||
			      cmd->sweep_ms > KSMG_SWEEP_MS_MAX))
		return -EINVAL;
	mutex_lock(&ksmg_lock);
	ucmd->group->policy = cmd->policy;
	ucmd->group->sweep_ms = cmd->sweep_ms;
	ucmd->group->next_sweep = jiffies;
	mutex_unlock(&ksmg_lock);
	ksmg_sweep_kick();
	return 0;
}

static int ksmg_add_member(struct ksmg_ucmd *ucmd)
{
	struct ksmg_member_cmd *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	return ksmg_group_add_pid(ucmd->group, cmd->pid);
}

static int ksmg_remove_member(struct ksmg_ucmd *ucmd)
{
	struct ksmg_member_cmd *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	return ksmg_group_remove_pid(ucmd->group, cmd->pid);
}

static int ksmg_get_stats(struct ksmg_ucmd *ucmd)
{
	struct ksmg_stats *cmd = ucmd->cmd;
	struct ksmg_group *group = ucmd->group;
	struct ksmg_figures f;

	if (cmd->flags)
		return -EINVAL;
	mutex_lock(&ksmg_lock);
	__ksmg_group_figures(group, &f);
	cmd->state = group->state;
	cmd->vmas_marked = group->vmas_marked;
	cmd->sweeps = group->sweeps;
	cmd->members_joined = group->members_joined;
	cmd->members_exited = group->members_exited;
	mutex_unlock(&ksmg_lock);
	cmd->members = f.members;
	cmd->merging_pages = f.merging_pages;
	cmd->rmap_items = f.rmap_items;
	cmd->zero_pages = f.zero_pages;
	cmd->anon_pages = f.anon_pages;
	cmd->profit = f.profit;
	return ksmg_ucmd_respond(ucmd, sizeof(*cmd));
}

static int ksmg_list_members(struct ksmg_ucmd *ucmd)
{
	struct ksmg_list_cmd *cmd = ucmd->cmd;
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ksmg_member *member;
	u32 room = cmd->count, n = 0;
	s32 *pids = NULL;
	int err = 0;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	room = min_t(u32, room, KSMG_MAX_MEMBERS);
	if (room) {
		pids = kvcalloc(room, sizeof(*pids), GFP_KERNEL);
		if (!pids)
			return -ENOMEM;
	}
	mutex_lock(&ksmg_lock);
	list_for_each_entry(member, &ucmd->group->members, node) {
		if (n < room)
			pids[n] = pid_nr_ns(member->pid, ns);
		n++;
	}
	mutex_unlock(&ksmg_lock);

	if (pids && copy_to_user(u64_to_user_ptr(cmd->pids), pids,
				 min(n, room) * sizeof(*pids)))
		err = -EFAULT;
	kvfree(pids);
	if (err)
		return err;
	cmd->count = n;
	return ksmg_ucmd_respond(ucmd, sizeof(*cmd));
}

static int ksmg_sweep(struct ksmg_ucmd *ucmd)
{
	struct ksmg_sweep_cmd *cmd = ucmd->cmd;
	unsigned int marked = 0;
	int err;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	err = ksmg_group_sweep(ucmd->group, &marked);
	if (err)
		return err;
	cmd->vmas_marked = marked;
	return ksmg_ucmd_respond(ucmd, sizeof(*cmd));
}

struct ksmg_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct ksmg_ucmd *ucmd);
};

#define KSMG_IOCTL_OP(_cmd, _fn, _struct, _last)			\
	[KSMG_CMD_##_cmd - KSMG_CMD_BASE] = {				\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union ksmg_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = KSMG_IOC_##_cmd,				\
		.execute = _fn,						\
	}

/* min_size is the struct as first published: it never changes. */
static const struct ksmg_ioctl_op ksmg_ioctl_ops[] = {
	KSMG_IOCTL_OP(GET_INFO, ksmg_get_info, struct ksmg_info,
		      sweep_ms_max),
	KSMG_IOCTL_OP(SET_NAME, ksmg_set_name, struct ksmg_name_cmd,
		      name),
	KSMG_IOCTL_OP(SET_POLICY, ksmg_set_policy,
		      struct ksmg_policy_cmd, __reserved),
	KSMG_IOCTL_OP(ADD_MEMBER, ksmg_add_member,
		      struct ksmg_member_cmd, __reserved),
	KSMG_IOCTL_OP(REMOVE_MEMBER, ksmg_remove_member,
		      struct ksmg_member_cmd, __reserved),
	KSMG_IOCTL_OP(GET_STATS, ksmg_get_stats, struct ksmg_stats,
		      members_exited),
	KSMG_IOCTL_OP(LIST_MEMBERS, ksmg_list_members,
		      struct ksmg_list_cmd, pids),
	KSMG_IOCTL_OP(SWEEP, ksmg_sweep, struct ksmg_sweep_cmd,
		      __reserved),
};

static long ksmg_fops_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	const struct ksmg_ioctl_op *op;
	union ksmg_ucmd_buffer buf;
	struct ksmg_ucmd ucmd = {
		.group = filp->private_data,
		.ubuffer = (void __user *)arg,
		.cmd = &buf,
	};
	unsigned int nr = _IOC_NR(cmd);
	int err;

	if (_IOC_TYPE(cmd) != KSMG_TYPE || nr < KSMG_CMD_BASE ||
	    nr - KSMG_CMD_BASE >= ARRAY_SIZE(ksmg_ioctl_ops))
		return -ENOTTY;
	op = &ksmg_ioctl_ops[nr - KSMG_CMD_BASE];
	if (op->ioctl_num != cmd)
		return -ENOTTY;

	err = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (err)
		return err;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	err = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (err)
		return err;
	return op->execute(&ucmd);
}

static int ksmg_fops_open(struct inode *inode, struct file *filp)
{
	struct ksmg_group *group;

	group = ksmg_group_create();
	if (IS_ERR(group))
		return PTR_ERR(group);
	filp->private_data = group;
	return 0;
}

static int ksmg_fops_release(struct inode *inode, struct file *filp)
{
	ksmg_group_destroy(filp->private_data);
	return 0;
}

static const struct file_operations ksmg_fops = {
	.owner = THIS_MODULE,
	.open = ksmg_fops_open,
	.release = ksmg_fops_release,
	.unlocked_ioctl = ksmg_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice ksmg_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KSMG_DEVICE_NAME,
	.fops = &ksmg_fops,
	.mode = 0600,
};

int ksmg_device_init(void)
{
	/* Pin the first published sizes of the uAPI structs. */
	BUILD_BUG_ON(sizeof(struct ksmg_info) != 40);
	BUILD_BUG_ON(sizeof(struct ksmg_name_cmd) != 40);
	BUILD_BUG_ON(sizeof(struct ksmg_policy_cmd) != 24);
	BUILD_BUG_ON(sizeof(struct ksmg_member_cmd) != 16);
	BUILD_BUG_ON(sizeof(struct ksmg_stats) != 88);
	BUILD_BUG_ON(sizeof(struct ksmg_list_cmd) != 24);
	BUILD_BUG_ON(sizeof(struct ksmg_sweep_cmd) != 16);
	return misc_register(&ksmg_miscdev);
}

void ksmg_device_exit(void)
{
	misc_deregister(&ksmg_miscdev);
}
