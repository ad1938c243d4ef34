/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that differs between the 6.1 and 6.12 kernels we build for.
 * Keep version checks here and nowhere else.
 */
#ifndef _KSMG_COMPAT_H
#define _KSMG_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/ksm.h>
#include <net/genetlink.h>

/* 6.10 moved the per-process count of merged zero pages into mm_struct. */
#define KSMG_HAVE_ZERO_PAGES	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0))
/* prctl(PR_SET_MEMORY_MERGE) arrived in 6.4, ksm_process_profit in 6.7. */
#define KSMG_HAVE_PRCTL_MERGE	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0))
#define KSMG_HAVE_PROFIT	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0))

/* VM_DROPPABLE (6.11) mappings are refused by KSM; older kernels lack it. */
#ifndef VM_DROPPABLE
#define VM_DROPPABLE		VM_NONE
#endif

/*
 * Set VM_MERGEABLE on a whole vma. The caller holds the mmap write lock.
 * 6.3 made vm_flags read-only and added per-vma locks: vm_flags_set() takes
 * the vma write lock for us. On 6.1 the mmap write lock is all it takes.
 */
static inline void ksmg_vma_set_mergeable(struct vm_area_struct *vma)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_MERGEABLE);
#else
	vma->vm_flags |= VM_MERGEABLE;
#endif
}

static inline unsigned long ksmg_mm_zero_pages(struct mm_struct *mm)
{
#if KSMG_HAVE_ZERO_PAGES
	return mm_ksm_zero_pages(mm);
#else
	return 0;
#endif
}

/* The attributes a dump request carried; the struct moved into genl_info in 6.6. */
static inline struct nlattr **ksmg_dump_attrs(struct netlink_callback *cb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* _KSMG_COMPAT_H */
