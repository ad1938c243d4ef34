/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KSM knobs in /sys/kernel/mm/ksm that the governor turns, and the
 * admin's values of them, kept in a state file while the daemon runs so
 * that a crashed daemon's successor can still put them back.
 */
#ifndef KSMGD_KNOBS_H
#define KSMGD_KNOBS_H

#include <stdbool.h>

#define KSMGD_KSM_DIR "/sys/kernel/mm/ksm"

struct ksmgd_knobs {
	unsigned long run;
	unsigned long pages_to_scan;
	unsigned long sleep_millisecs;
	/* The 6.8+ scan-time advisor; it refuses pages_to_scan writes. */
	bool has_advisor;
	char advisor_mode[16];
};

int ksmgd_knob_read(const char *name, unsigned long *value_r);
int ksmgd_knob_write(const char *name, unsigned long value);
int ksmgd_knobs_read(struct ksmgd_knobs *knobs);
/* Put the knobs back; tries every knob, returns -1 if any write failed. */
int ksmgd_knobs_restore(const struct ksmgd_knobs *knobs);
/* Make pages_to_scan writable: advisor_mode = none (no-op without it). */
int ksmgd_knobs_advisor_off(void);

/* The state file; load returns -1 errno ENOENT when there is none. */
int ksmgd_knobs_save(const struct ksmgd_knobs *knobs, const char *path);
int ksmgd_knobs_load(struct ksmgd_knobs *knobs, const char *path);

#endif /* KSMGD_KNOBS_H */
