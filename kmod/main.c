// SPDX-License-Identifier: GPL-2.0
/*
 * ksmgroup: merge groups of worker processes with prioritised KSM scanning.
 *
 * A privileged daemon opens /dev/ksmgroup (one open file, one group) and
 * registers its workers by pid. Their anonymous private mappings, existing
 * and future, are kept mergeable; the group's figures are published in
 * /sys/kernel/ksmgroup/ and over the generic netlink family "ksmgroup".
 * See docs/design.md.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/genetlink.h>
#include "ksmg.h"

unsigned int ksmg_sweep_ms = 250;
unsigned int ksmg_converge_ms = 3000;
unsigned int ksmg_max_members = KSMG_MAX_MEMBERS;

static int ksmg_param_set_range(const char *val,
				const struct kernel_param *kp,
				unsigned int min, unsigned int max)
{
	unsigned int n;
	int err;

	err = kstrtouint(val, 0, &n);
	if (err)
		return err;
	if (n < min || n > max)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
}

static int ksmg_sweep_ms_set(const char *val, const struct kernel_param *kp)
{
	return ksmg_param_set_range(val, kp, KSMG_SWEEP_MS_MIN, KSMG_SWEEP_MS_MAX);
}

static int ksmg_converge_ms_set(const char *val, const struct kernel_param *kp)
{
	return ksmg_param_set_range(val, kp, 100, 600000);
}

static int ksmg_max_members_set(const char *val, const struct kernel_param *kp)
{
	return ksmg_param_set_range(val, kp, 1, KSMG_MAX_MEMBERS);
}

static const struct kernel_param_ops ksmg_sweep_ms_ops = {
	.set = ksmg_sweep_ms_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops ksmg_converge_ms_ops = {
	.set = ksmg_converge_ms_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops ksmg_max_members_ops = {
	.set = ksmg_max_members_set,
	.get = param_get_uint,
};

module_param_cb(sweep_ms, &ksmg_sweep_ms_ops, &ksmg_sweep_ms, 0644);
MODULE_PARM_DESC(sweep_ms,
		 "How often members are swept for new mappings and exits, in ms (20-60000, default 250)");
module_param_cb(converge_ms, &ksmg_converge_ms_ops, &ksmg_converge_ms, 0644);
module_param_cb(max_members, &ksmg_max_members_ops, &ksmg_max_members, 0644);
MODULE_PARM_DESC(max_members,
		 "Most processes one group may hold; adding more fails with ENOSPC (1-65536, default 65536)");
MODULE_PARM_DESC(converge_ms,
		 "How long a group's KSM figures must stay flat before it counts as converged, in ms (100-600000, default 3000)");

static int __init ksmg_init(void)
{
	int err;

	err = ksmg_sweep_init();
	if (err)
		return err;
	err = ksmg_sysfs_init();
	if (err)
		goto err_sweep;
	err = ksmg_netlink_init();
	if (err)
		goto err_sysfs;
	err = ksmg_device_init();
	if (err)
		goto err_netlink;
	pr_info("version %d loaded\n", KSMG_API_VERSION);
	return 0;

err_netlink:
	ksmg_netlink_exit();
err_sysfs:
	ksmg_sysfs_exit();
err_sweep:
	ksmg_sweep_exit();
	return err;
}

/*
 * Open files pin the module, so no group is left by the time this runs;
 * netlink operations in flight finish inside genl_unregister_family().
 */
static void __exit ksmg_exit(void)
{
	ksmg_device_exit();
	ksmg_netlink_exit();
	ksmg_sweep_exit();
	ksmg_sysfs_exit();
	WARN_ON(!xa_empty(&ksmg_groups));
	xa_destroy(&ksmg_groups);
}

module_init(ksmg_init);
module_exit(ksmg_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("ksmgroup developers");
MODULE_DESCRIPTION("Merge groups of worker processes with prioritised KSM scanning");
MODULE_VERSION("1.0");
MODULE_ALIAS_GENL_FAMILY(KSMG_GENL_NAME);
