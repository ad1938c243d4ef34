// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The KSM knobs in /sys/kernel/mm/ksm. Tests that need ksmd running make
 * sure it runs at a rate that finishes under TCG and put back what they
 * found; the runner normally has it running already.
 */
#include <stdio.h>
#include "ksmg_test.h"

/* Fast enough for a few thousand pages a second under TCG. */
#define KSMG_KSM_PAGES_TO_SCAN	1000
#define KSMG_KSM_SLEEP_MS	10

int ksmg_ksm_get(const char *knob, uint64_t *val_r)
{
	char path[256];

	snprintf(path, sizeof(path), KSM_SYSFS "/%s", knob);
	return ksmg_read_u64(path, val_r);
}

int ksmg_ksm_set(const char *knob, uint64_t val)
{
	char path[256];

	snprintf(path, sizeof(path), KSM_SYSFS "/%s", knob);
	return ksmg_write_u64(path, val);
}

int ksmg_ksm_start(struct ksmg_ksm_saved *saved)
{
	uint64_t val;

	saved->valid = false;
	if (ksmg_ksm_get("run", &saved->run) ||
	    ksmg_ksm_get("pages_to_scan", &saved->pages_to_scan) ||
	    ksmg_ksm_get("sleep_millisecs", &saved->sleep_millisecs))
		return -1;
	if (ksmg_ksm_get("use_zero_pages", &val))
		saved->use_zero_pages = -1;
	else
		saved->use_zero_pages = (int64_t)val;
	saved->valid = true;
	if (saved->pages_to_scan < KSMG_KSM_PAGES_TO_SCAN &&
	    ksmg_ksm_set("pages_to_scan", KSMG_KSM_PAGES_TO_SCAN))
		return -1;
	if (saved->sleep_millisecs > KSMG_KSM_SLEEP_MS &&
	    ksmg_ksm_set("sleep_millisecs", KSMG_KSM_SLEEP_MS))
		return -1;
	if (saved->run != 1 && ksmg_ksm_set("run", 1))
		return -1;
	return 0;
}

/* run=0 stops ksmd and keeps what it merged (run=2 would unmerge). */
int ksmg_ksm_pause(void)
{
	if (ksmg_ksm_set("run", 0))
		return -1;
	/* ksmd finishes the batch it is in before it looks at run again. */
	ksmg_sleep_ms(300);
	return 0;
}

int ksmg_ksm_resume(void)
{
	return ksmg_ksm_set("run", 1);
}

/* The pages ksmd keeps an rmap item for, in whatever state. */
static int ksmg_ksm_rmap_items(uint64_t *n_r)
{
	static const char * const knobs[] = {
		"pages_shared", "pages_sharing", "pages_unshared",
		"pages_volatile",
	};
	uint64_t v;
	size_t i;

	*n_r = 0;
	for (i = 0; i < KSMG_ARRAY_SIZE(knobs); i++) {
		if (ksmg_ksm_get(knobs[i], &v))
			return -1;
		*n_r += v;
	}
	return 0;
}

/*
 * Wait until ksmd has gone over every registered mm n more times. With
 * empty_ok, also stop waiting once ksmd holds no page at all: it stops
 * counting passes when it has nothing left to scan.
 */
static bool ksmg_ksm_passes(unsigned int n, bool empty_ok,
			    unsigned int timeout_ms)
{
	uint64_t f0, f, items;

	if (ksmg_ksm_get("full_scans", &f0))
		return false;
	return KSMG_POLL((!ksmg_ksm_get("full_scans", &f) && f >= f0 + n) ||
			 (empty_ok && !ksmg_ksm_rmap_items(&items) && !items),
			 timeout_ms, 200);
}

bool ksmg_ksm_full_scans(unsigned int n, unsigned int timeout_ms)
{
	return ksmg_ksm_passes(n, false, timeout_ms);
}

/*
 * A process that exits keeps its pages counted in pages_sharing and the
 * like until ksmd's cursor reaches its mm and drops them, within two
 * passes. Wait for that, so that those figures then move only with the
 * processes alive.
 */
bool ksmg_ksm_forget_exited(unsigned int timeout_ms)
{
	return ksmg_ksm_passes(2, true, timeout_ms);
}

void ksmg_ksm_restore(struct ksmg_ksm_saved *saved)
{
	uint64_t val;

	if (!saved->valid)
		return;
	if (!ksmg_ksm_get("pages_to_scan", &val) && val != saved->pages_to_scan)
		ksmg_ksm_set("pages_to_scan", saved->pages_to_scan);
	if (!ksmg_ksm_get("sleep_millisecs", &val) &&
	    val != saved->sleep_millisecs)
		ksmg_ksm_set("sleep_millisecs", saved->sleep_millisecs);
	if (saved->use_zero_pages >= 0 && !ksmg_ksm_get("use_zero_pages", &val) &&
	    (int64_t)val != saved->use_zero_pages)
		ksmg_ksm_set("use_zero_pages", (uint64_t)saved->use_zero_pages);
	/* Never write 2 back: that would unmerge everything on the machine. */
	if (!ksmg_ksm_get("run", &val) && val != saved->run && saved->run != 2)
		ksmg_ksm_set("run", saved->run);
	saved->valid = false;
}
