/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the ksmgroup module tests.
 *
 * kselftest_harness.h defines functions and may be included by one
 * translation unit per binary only, so these helpers know nothing of the
 * harness: they return 0 or -1 with errno set (or a value), and the tests
 * turn that into ASSERT/EXPECT. ksmg_harness.h has the harness-side glue.
 */
#ifndef KSMG_TEST_H
#define KSMG_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/ksmgroup.h>

#define KSMG_DEV		"/dev/" KSMG_DEVICE_NAME
#define KSMG_SYSFS		"/sys/kernel/ksmgroup"
#define KSMG_PARAMS		"/sys/module/ksmgroup/parameters"
#define KSM_SYSFS		"/sys/kernel/mm/ksm"
#define KSMG_NOBODY		65534
/* A uid/gid of nobody else on a test machine: the "foreign" user. */
#define KSMG_STRANGER		65533

#define KSMG_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Poll @cond every @step_ms until it holds or @timeout_ms passed; the
 * value is whether it held.
 */
#define KSMG_POLL(_cond, _timeout_ms, _step_ms) ({			\
		uint64_t __end = ksmg_now_ms() + (_timeout_ms);		\
		bool __ok;						\
		while (!(__ok = (_cond)) && ksmg_now_ms() < __end)	\
			ksmg_sleep_ms(_step_ms);			\
		__ok;							\
	})

/* ksmg_sys.c: files, sysfs, /proc */
uint64_t ksmg_now_ms(void);
void ksmg_sleep_ms(unsigned int ms);
int ksmg_read_file(const char *path, char *buf, size_t size);
int ksmg_write_file(const char *path, const char *text);
int ksmg_read_u64(const char *path, uint64_t *val_r);
int ksmg_read_s64(const char *path, int64_t *val_r);
int ksmg_write_u64(const char *path, uint64_t val);
int ksmg_group_path(uint32_t id, const char *attr, char *buf, size_t size);
int ksmg_group_u64(uint32_t id, const char *attr, uint64_t *val_r);
int ksmg_group_s64(uint32_t id, const char *attr, int64_t *val_r);
int ksmg_group_str(uint32_t id, const char *attr, char *buf, size_t size);
bool ksmg_group_exists(uint32_t id);
int ksmg_global_u64(const char *attr, uint64_t *val_r);
int ksmg_param_u64(const char *param, uint64_t *val_r);
int ksmg_count_group_dirs(void);
int ksmg_proc_key_u64(pid_t pid, const char *file, const char *key,
		      uint64_t *val_r);
int ksmg_proc_key_s64(pid_t pid, const char *file, const char *key,
		      int64_t *val_r);
int ksmg_proc_u64(pid_t pid, const char *file, uint64_t *val_r);
char ksmg_proc_state(pid_t pid);
unsigned long ksmg_taint_bad(void);
bool ksmg_kernel_at_least(unsigned int major, unsigned int minor);

/* ksmg_ksm.c: the KSM knobs of /sys/kernel/mm/ksm */
struct ksmg_ksm_saved {
	bool valid;
	uint64_t run, pages_to_scan, sleep_millisecs;
	int64_t use_zero_pages;		/* -1: the kernel has no such knob */
};
int ksmg_ksm_get(const char *knob, uint64_t *val_r);
int ksmg_ksm_set(const char *knob, uint64_t val);
int ksmg_ksm_start(struct ksmg_ksm_saved *saved);
int ksmg_ksm_pause(void);
int ksmg_ksm_resume(void);
bool ksmg_ksm_full_scans(unsigned int n, unsigned int timeout_ms);
bool ksmg_ksm_forget_exited(unsigned int timeout_ms);
void ksmg_ksm_restore(struct ksmg_ksm_saved *saved);

/* ksmg_ioc.c: ioctl wrappers, each returning 0 or -1 with errno */
int ksmg_open(void);
int ksmg_get_info(int fd, struct ksmg_info *info);
int ksmg_set_name(int fd, const char *name);
int ksmg_set_policy(int fd, uint64_t policy, uint32_t sweep_ms);
int ksmg_add(int fd, pid_t pid);
int ksmg_remove(int fd, pid_t pid);
int ksmg_get_stats(int fd, struct ksmg_stats *stats);
int ksmg_list(int fd, int32_t *pids, uint32_t room, uint32_t *count_r);
int ksmg_sweep(int fd, uint32_t *marked_r);
int ksmg_group_id(int fd, uint32_t *id_r);
bool ksmg_list_has(int fd, pid_t pid);

/* ksmg_mem.c: page patterns, smaps flags, pagemap */
long ksmg_page_size(void);
void ksmg_fill_pattern(void *addr, size_t pages, uint32_t seed);
int ksmg_vma_flags(pid_t pid, uintptr_t addr, char *buf, size_t size);
int ksmg_vma_has_flag(pid_t pid, uintptr_t addr, const char *flag);
int ksmg_anon_vmas(pid_t pid, unsigned int *total_r, unsigned int *marked_r,
		   unsigned int *unmarked_r);
int ksmg_page_pfns(pid_t pid, uintptr_t addr, size_t pages, uint64_t *pfns);

/* ksmg_worker.c: child processes driven over a socket */
enum ksmg_map_kind {
	KSMG_MAP_ANON,		/* MAP_PRIVATE | MAP_ANONYMOUS */
	KSMG_MAP_SHARED,	/* MAP_SHARED | MAP_ANONYMOUS */
	KSMG_MAP_FILE,		/* MAP_PRIVATE of a memfd, read-write */
	KSMG_MAP_FILE_RO,	/* MAP_PRIVATE of a memfd, read-only */
	KSMG_MAP_DONTDUMP,	/* anonymous, MADV_DONTDUMP before use */
	KSMG_MAP_WIPEONFORK,	/* anonymous, MADV_WIPEONFORK before use */
	KSMG_MAP_FILE_RELRO,	/* MAP_PRIVATE of a memfd, filled, then
				 * mprotect(PROT_READ) as ld.so's RELRO */
};

struct ksmg_worker_opts {
	uid_t uid;		/* 0: stay root */
	gid_t gid;
	int dumpable;		/* -1: leave as inherited */
	pid_t want_pid;		/* 0: any pid */
	size_t pages;		/* anonymous pages to map and fill at start */
	uint32_t seed;		/* their pattern (0: leave them untouched) */
};

struct ksmg_worker {
	pid_t pid;
	int sock;
	uintptr_t addr;		/* the start mapping, if pages were asked */
};

#define KSMG_WORKER_OPTS_DEFAULT \
	((struct ksmg_worker_opts){ .dumpable = -1 })

int ksmg_worker_start(struct ksmg_worker *w,
		      const struct ksmg_worker_opts *opts);
int ksmg_worker_map(struct ksmg_worker *w, enum ksmg_map_kind kind,
		    size_t pages, uint32_t seed, uintptr_t *addr_r);
int ksmg_worker_fill(struct ksmg_worker *w, uintptr_t addr, size_t pages,
		     uint32_t seed);
int ksmg_worker_zero(struct ksmg_worker *w, uintptr_t addr, size_t pages);
int ksmg_worker_madvise(struct ksmg_worker *w, uintptr_t addr, size_t pages,
			int advice);
int ksmg_worker_brk(struct ksmg_worker *w, size_t pages, uintptr_t *addr_r);
int ksmg_worker_dumpable(struct ksmg_worker *w, int dumpable);
int ksmg_worker_ping(struct ksmg_worker *w);
int ksmg_worker_exec(struct ksmg_worker *w);
int ksmg_worker_exit(struct ksmg_worker *w);
void ksmg_worker_kill(struct ksmg_worker *w);

/* ksmg_priv.c: credentials, capabilities, children */
int ksmg_drop_to(uid_t uid, gid_t gid, const int *keep_caps, size_t n_keep);
int ksmg_caps_effective(uint64_t *caps_r);
int ksmg_run_child(int (*fn)(void *arg), void *arg);
int ksmg_leave_chroot(void);
pid_t ksmg_fork_at(pid_t want);
pid_t ksmg_unused_pid(void);
pid_t ksmg_zombie(void);

/* ksmg_slab.c: slab usage */
struct ksmg_slab_entry {
	char name[64];
	long active;
};
struct ksmg_slab {
	struct ksmg_slab_entry *v;
	size_t n;
};
int ksmg_slab_snapshot(struct ksmg_slab *s);
long ksmg_slab_active(const struct ksmg_slab *s, const char *name);
void ksmg_slab_free(struct ksmg_slab *s);

#endif /* KSMG_TEST_H */
