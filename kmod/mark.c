// SPDX-License-Identifier: GPL-2.0
/*
 * Marking a member's mappings mergeable.
 *
 * Only whole vmas are marked: split_vma() is not exported, and a whole vma
 * is what the member's own madvise(MADV_MERGEABLE) over its full range
 * would produce. ksm_madvise() does the KSM side (it enters the mm into
 * ksmd's list on first use); we then set VM_MERGEABLE on the vma ourselves,
 * as madvise would, with the mmap write lock held.
 */
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/ksm.h>
#include "ksmg.h"
#include "compat.h"

/* What KSM itself refuses (vma_ksm_compatible() in mm/ksm.c). */
#define KSMG_VM_INCOMPATIBLE	(VM_SHARED | VM_MAYSHARE | VM_PFNMAP | \
				 VM_IO | VM_DONTEXPAND | VM_HUGETLB | \
				 VM_MIXEDMAP | VM_DROPPABLE)

/*
 * Memory the member keeps out of merging. Processes mark their secrets
 * MADV_DONTDUMP (OpenSSL's and libsodium's secure heaps do) or
 * MADV_WIPEONFORK (RNG state); both are deliberate acts of the process and
 * are never set by a sweep, so honouring them makes exclusion sticky.
 */
#define KSMG_VM_SECRET		(VM_DONTDUMP | VM_WIPEONFORK)

/*
 * A private file mapping holds anonymous pages only where it was written:
 * it is writable, or it was and kept its copied-on-write pages (anon_vma
 * set), as ld.so's RELRO segments do after mprotect(PROT_READ). Text that
 * was never written stays out: ksmd would walk its pages for nothing. A
 * mapping that gains copies later is found by the next sweep.
 */
static bool ksmg_file_vma_has_copies(struct vm_area_struct *vma)
{
	return ((vma->vm_flags & VM_WRITE) || READ_ONCE(vma->anon_vma)) &&
	       !vma_is_dax(vma);
}

static bool ksmg_vma_wanted(struct vm_area_struct *vma, u64 policy)
{
	if (vma->vm_flags & (VM_MERGEABLE | KSMG_VM_SECRET |
			     KSMG_VM_INCOMPATIBLE))
		return false;
	if (vma->vm_file)
		return (policy & KSMG_POLICY_FILE_PRIVATE) &&
		       ksmg_file_vma_has_copies(vma);
	/* Special mappings (vdso, vvar, ...) have vm_ops; heap and mmap don't. */
	return (policy & KSMG_POLICY_ANON) && vma_is_anonymous(vma);
}

static bool ksmg_mm_wants_marking(struct mm_struct *mm, u64 policy)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;

	for_each_vma(vmi, vma)
		if (ksmg_vma_wanted(vma, policy))
			return true;
	return false;
}

/**
 * ksmg_mark_mm() - mark every wanted vma of @mm mergeable
 * @mm: the address space; the caller holds its mmap write lock
 * @policy: enum ksmg_policy bits
 * @marked_r: incremented by the number of vmas marked
 *
 * Return: 0, or -ENOMEM when KSM could not take the mm in.
 */
int ksmg_mark_mm(struct mm_struct *mm, u64 policy, unsigned int *marked_r)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	unsigned long flags;
	int err;

	mmap_assert_write_locked(mm);
	for_each_vma(vmi, vma) {
		if (!ksmg_vma_wanted(vma, policy))
			continue;
		flags = vma->vm_flags;
		err = ksm_madvise(vma, vma->vm_start, vma->vm_end,
				  MADV_MERGEABLE, &flags);
		if (err)
			return err;
		if (!(flags & VM_MERGEABLE))
			continue;
		ksmg_vma_set_mergeable(vma);
		(*marked_r)++;
	}
	return 0;
}

/*
 * A sweep must not stall every group behind one member whose mmap_lock is
 * held for long (a fault waiting on slow storage, a large munmap): try the
 * read lock, and only after a few misses in a row wait for it.
 */
#define KSMG_LOCK_MISSES_MAX	4

static bool ksmg_mmap_read_lock(struct ksmg_member *member)
{
	if (mmap_read_trylock(member->mm))
		return true;
	if (++member->lock_misses < KSMG_LOCK_MISSES_MAX)
		return false;
	mmap_read_lock(member->mm);
	return true;
}

/**
 * ksmg_sweep_mm() - mark what a member mapped since the last sweep
 * @member: the member; the caller holds ksmg_lock
 * @policy: enum ksmg_policy bits
 * @marked_r: incremented by the number of vmas marked
 *
 * The common case, nothing new, costs a walk of the vmas under the read
 * lock; the write lock is taken only when there is something to mark.
 *
 * Return: 0; -ESRCH when the member's address space is gone (the process
 * exited or exec'd); -ENOMEM from KSM.
 */
int ksmg_sweep_mm(struct ksmg_member *member, u64 policy,
		  unsigned int *marked_r)
{
	struct mm_struct *mm = member->mm;
	bool wanted;
	int err = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;

	if (!ksmg_mmap_read_lock(member))
		goto out;
	wanted = ksmg_mm_wants_marking(mm, policy);
	mmap_read_unlock(mm);
	if (!wanted)
		goto done;

	/*
	 * Writers queue behind the faults in flight and block new ones only
	 * briefly; 6.12 has no mmap_write_trylock() anyway.
	 */
	mmap_write_lock(mm);
	err = ksmg_mark_mm(mm, policy, marked_r);
	mmap_write_unlock(mm);
done:
	member->lock_misses = 0;
out:
	/* The process may have exited meanwhile: don't tear it down here. */
	mmput_async(mm);
	return err;
}
