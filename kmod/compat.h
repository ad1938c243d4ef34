/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that differs between the 6.1 and 6.12 kernels we build for.
 * The KSMG_HAVE_* macros come from feature tests in Kbuild; keep every
 * #ifdef on them here and nowhere else.
 */
#ifndef _KSMG_COMPAT_H
#define _KSMG_COMPAT_H

#include <linux/mm.h>
#include <linux/ksm.h>
#include <net/genetlink.h>
#include "uapi/ksmgroup.h"

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
#ifdef KSMG_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, VM_MERGEABLE);
#else
	vma->vm_flags |= VM_MERGEABLE;
#endif
}

/*
 * Resident anonymous pages, exactly as RssAnon in /proc/PID/status counts
 * them: on kernels with per-cpu rss counters (6.2+) the plain read is off
 * by up to a batch per cpu, so sum the counter where the kernel can.
 */
static inline unsigned long ksmg_mm_anon_pages(struct mm_struct *mm)
{
#ifdef KSMG_HAVE_MM_COUNTER_SUM
	return get_mm_counter_sum(mm, MM_ANONPAGES);
#else
	return get_mm_counter(mm, MM_ANONPAGES);
#endif
}

/* Merged zero pages per process: counted in mm_struct since 6.10. */
static inline bool ksmg_have_zero_pages(void)
{
#ifdef KSMG_HAVE_ZERO_PAGES
	return true;
#else
	return false;
#endif
}

static inline unsigned long ksmg_mm_zero_pages(struct mm_struct *mm)
{
#ifdef KSMG_HAVE_ZERO_PAGES
	return mm_ksm_zero_pages(mm);
#else
	return 0;
#endif
}

/* enum ksmg_feature bits of the running kernel. */
static inline u64 ksmg_kernel_features(void)
{
	u64 features = 0;

	if (ksmg_have_zero_pages())
		features |= KSMG_FEATURE_ZERO_PAGES;
#ifdef KSMG_HAVE_PRCTL_MERGE
	features |= KSMG_FEATURE_PRCTL_MERGE;
#endif
#ifdef KSMG_HAVE_PROFIT
	features |= KSMG_FEATURE_PROCESS_PROFIT;
#endif
	return features;
}

/* The attributes a dump request carried; they moved into genl_info in 6.6. */
static inline struct nlattr **ksmg_dump_attrs(struct netlink_callback *cb)
{
#ifdef KSMG_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* _KSMG_COMPAT_H */
