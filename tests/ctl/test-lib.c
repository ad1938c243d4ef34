// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libksmgroup tests. Without arguments: the checks that need no module
 * (argument checks, errors that say what to do, ksmg_exclude_self on the
 * caller's own memory). With --module: the same library against the loaded
 * module (handshake, naming, policy, members, figures, sweeps, the secret
 * exclusion rule), for the QEMU guests.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksmgroup.h"
#include "tap.h"

static long page_size;

/* errno after a call that must fail, or 0 when it succeeded. */
#define FAILS_WITH(call) ((call) < 0 ? errno : 0)

static void test_open_errors(void)
{
	struct ksmg_group *group = (struct ksmg_group *)1;
	const char *error = NULL;
	int err;

	err = FAILS_WITH(ksmg_group_open("/nonexistent/ksmgroup", &group, &error));
	tap_ok(err == ENOENT && group == NULL,
	       "open of a missing device fails with ENOENT and NULL (errno %d)", err);
	tap_ok(error != NULL && strstr(error, "modprobe ksmgroup") != NULL,
	       "missing device: the error says to run modprobe ksmgroup ('%s')",
	       error ? error : "(null)");

	error = NULL;
	err = FAILS_WITH(ksmg_group_open("/dev/null", &group, &error));
	tap_ok(err == ENOTTY && error != NULL &&
	       strstr(error, "not a ksmgroup device") != NULL,
	       "open of /dev/null fails with ENOTTY, 'not a ksmgroup device' (errno %d, '%s')",
	       err, error ? error : "(null)");

	err = FAILS_WITH(ksmg_group_open("/nonexistent/ksmgroup", &group, NULL));
	tap_ok(err == ENOENT, "open works with error_r NULL (errno %d)", err);

	err = FAILS_WITH(ksmg_group_open(NULL, NULL, &error));
	tap_ok(err == EINVAL, "open with group_r NULL is EINVAL (errno %d)", err);

	if (access(KSMG_DEVICE_PATH, F_OK) == 0) {
		tap_skip("the module is loaded here",
			 "open(NULL) without the module says module not loaded");
		return;
	}
	error = NULL;
	err = FAILS_WITH(ksmg_group_open(NULL, &group, &error));
	tap_ok(err == ENOENT && error && strstr(error, "not loaded") != NULL,
	       "open(NULL) without the module: ENOENT, 'not loaded' (errno %d, '%s')",
	       err, error ? error : "(null)");
}

static void test_null_group(void)
{
	struct ksmg_group *none = NULL;
	struct ksmg_stats stats;
	unsigned int count;
	pid_t *pids;

	tap_ok(FAILS_WITH(ksmg_group_set_name(NULL, "x")) == EINVAL,
	       "set_name(NULL group) is EINVAL");
	tap_ok(FAILS_WITH(ksmg_group_set_policy(NULL, KSMG_POLICY_ANON, 0)) == EINVAL,
	       "set_policy(NULL group) is EINVAL");
	tap_ok(FAILS_WITH(ksmg_group_add_member(NULL, getpid())) == EINVAL,
	       "add_member(NULL group) is EINVAL");
	tap_ok(FAILS_WITH(ksmg_group_remove_member(NULL, getpid())) == EINVAL,
	       "remove_member(NULL group) is EINVAL");
	tap_ok(FAILS_WITH(ksmg_group_list_members(NULL, &pids, &count)) == EINVAL,
	       "list_members(NULL group) is EINVAL");
	tap_ok(FAILS_WITH(ksmg_group_get_stats(NULL, &stats)) == EINVAL,
	       "get_stats(NULL group) is EINVAL");
	tap_ok(FAILS_WITH(ksmg_group_sweep(NULL, NULL)) == EINVAL,
	       "sweep(NULL group) is EINVAL");
	tap_ok(FAILS_WITH(ksmg_group_fd(NULL)) == EINVAL,
	       "fd(NULL group) is -1, EINVAL");
	errno = 0;
	tap_ok(ksmg_group_info(NULL) == NULL && errno == EINVAL,
	       "info(NULL group) is NULL, EINVAL");
	errno = 0;
	tap_ok(ksmg_group_id(NULL) == 0 && errno == EINVAL,
	       "id(NULL group) is 0, EINVAL");
	errno = 4242;
	ksmg_group_close(NULL);
	ksmg_group_close(&none);
	tap_ok(errno == 4242 && none == NULL,
	       "close(NULL) and close(&NULL) do nothing and keep errno");
}

static void test_names(void)
{
	static const char *const good[] = {
		"imap", "a", "php-fpm_8.2", "1234567890123456789012345678901",
		"~!@#$%^&*()", NULL,
	};
	static const char *const bad[] = {
		"", "a b", "a/b", "12345678901234567890123456789012", "tab\t",
		"\x7f", "caf\xc3\xa9", "line\n", NULL,
	};
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		tap_ok(ksmg_name_check(good[i]) == 0, "name '%s' is valid",
		       good[i]);
	for (i = 0; bad[i] != NULL; i++)
		tap_ok(FAILS_WITH(ksmg_name_check(bad[i])) == EINVAL,
		       "name #%zu (len %zu) is invalid: EINVAL", i,
		       strlen(bad[i]));
	tap_ok(FAILS_WITH(ksmg_name_check(NULL)) == EINVAL,
	       "name NULL is invalid: EINVAL");
}

/* The VmFlags of the mapping that starts at addr, from /proc/self/smaps. */
static int vm_flags(void *addr, char *buf, size_t size)
{
	char line[512], start[32];
	bool in = false;
	FILE *f;

	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	f = fopen("/proc/self/smaps", "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, start, strlen(start)) == 0)
			in = true;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			/* VmFlags lines are short; cut rather than fail. */
			snprintf(buf, size, "%.200s", line + 8);
			buf[strcspn(buf, "\n")] = '\0';
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static bool has_flag(const char *flags, const char *flag)
{
	char padded[8];

	snprintf(padded, sizeof(padded), " %s", flag);
	return strstr(flags, padded) != NULL;
}

static void test_exclude_self(void)
{
	char flags[256] = "";
	char *mem;
	int err;

	err = FAILS_WITH(ksmg_exclude_self(NULL, (size_t)page_size));
	tap_ok(err == EINVAL, "exclude_self(NULL) is EINVAL (errno %d)", err);
	mem = mmap(NULL, 4 * (size_t)page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		tap_ok(false, "mmap for exclude_self: %s", strerror(errno));
		return;
	}
	err = FAILS_WITH(ksmg_exclude_self(mem + 1, (size_t)page_size));
	tap_ok(err == EINVAL, "exclude_self of an unaligned address is EINVAL (errno %d)",
	       err);
	err = FAILS_WITH(ksmg_exclude_self(mem, 0));
	tap_ok(err == EINVAL, "exclude_self of 0 bytes is EINVAL (errno %d)", err);
	/* Mark it mergeable first, as a module sweep would have. */
	madvise(mem, 4 * (size_t)page_size, MADV_MERGEABLE);
	err = FAILS_WITH(ksmg_exclude_self(mem, 4 * (size_t)page_size));
	tap_ok(err == 0, "exclude_self of a mapping succeeds (errno %d)", err);
	tap_ok(vm_flags(mem, flags, sizeof(flags)) == 0 &&
	       has_flag(flags, "dd") && !has_flag(flags, "mg"),
	       "afterwards the mapping is VM_DONTDUMP and not VM_MERGEABLE (VmFlags:%s)",
	       flags);
	munmap(mem, 4 * (size_t)page_size);
	err = FAILS_WITH(ksmg_exclude_self(mem, (size_t)page_size));
	tap_ok(err == ENOMEM, "exclude_self of unmapped memory keeps madvise's ENOMEM (errno %d)",
	       err);
}

static void test_strerror(void)
{
	tap_ok(strstr(ksmg_strerror(EBUSY), "another group") != NULL,
	       "ksmg_strerror(EBUSY) speaks of another group");
	tap_ok(strcmp(ksmg_strerror(EHOSTDOWN), strerror(EHOSTDOWN)) == 0,
	       "ksmg_strerror falls back to strerror for other errnos");
}

/* ---- with the module ---- */

static int read_sysfs(uint32_t id, const char *file, char *buf, size_t size)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/ksmgroup/%u/%s", id, file);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* A child that waits to be killed: a process to register. */
static pid_t spawn_idle(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool list_has(struct ksmg_group *g, pid_t pid, unsigned int *count_r)
{
	unsigned int count = 0, i;
	pid_t *pids = NULL;
	bool found = false;

	if (ksmg_group_list_members(g, &pids, &count) < 0)
		return false;
	for (i = 0; i < count; i++)
		found |= pids[i] == pid;
	free(pids);
	*count_r = count;
	return found;
}

static void test_module_handshake(struct ksmg_group *g)
{
	const struct ksmg_info *info = ksmg_group_info(g);
	char buf[64];

	tap_ok(info->api_version == KSMG_API_VERSION,
	       "handshake: api_version %u", info->api_version);
	tap_ok(read_sysfs(ksmg_group_id(g), "name", buf, sizeof(buf)) == 0,
	       "the group's id %u is its directory in /sys/kernel/ksmgroup",
	       ksmg_group_id(g));
	tap_ok(ksmg_group_fd(g) >= 0, "the group has a file descriptor");
	tap_ok(info->sweep_ms_min > 0 && info->sweep_ms_min <= info->sweep_ms_max,
	       "handshake: sweep_ms range %u..%u", info->sweep_ms_min,
	       info->sweep_ms_max);
}

static void test_module_name_policy(struct ksmg_group *g)
{
	const struct ksmg_info *info = ksmg_group_info(g);
	uint32_t id = ksmg_group_id(g);
	char buf[64] = "";
	int err;

	tap_ok(ksmg_group_set_name(g, "lib-test") == 0 &&
	       read_sysfs(id, "name", buf, sizeof(buf)) == 0 &&
	       strcmp(buf, "lib-test") == 0,
	       "set_name: sysfs name reads 'lib-test' ('%s')", buf);
	err = FAILS_WITH(ksmg_group_set_name(g, "with space"));
	tap_ok(err == EINVAL && read_sysfs(id, "name", buf, sizeof(buf)) == 0 &&
	       strcmp(buf, "lib-test") == 0,
	       "set_name of an invalid name is EINVAL and changes nothing");
	err = FAILS_WITH(ksmg_group_set_policy(g, 1ULL << 40, 0));
	tap_ok(err == EINVAL, "set_policy with an unknown bit is EINVAL (errno %d)",
	       err);
	err = FAILS_WITH(ksmg_group_set_policy(g, KSMG_POLICY_ANON,
					       info->sweep_ms_max + 1));
	tap_ok(err == EINVAL, "set_policy with sweep_ms above the range is EINVAL (errno %d)",
	       err);
	err = FAILS_WITH(ksmg_group_set_policy(g, KSMG_POLICY_ANON,
					       info->sweep_ms_min));
	tap_ok(err == 0 && read_sysfs(id, "sweep_ms", buf, sizeof(buf)) == 0 &&
	       (unsigned int)atoi(buf) == info->sweep_ms_min,
	       "set_policy(anon, %u): sysfs sweep_ms reads %s (errno %d)",
	       info->sweep_ms_min, buf, err);
	err = FAILS_WITH(ksmg_group_set_policy(g, KSMG_POLICY_DEFAULT, 0));
	tap_ok(err == 0, "set_policy back to the defaults (errno %d)", err);
}

static void test_module_members(struct ksmg_group *g)
{
	struct ksmg_stats stats;
	pid_t child, dead;
	unsigned int count = 0, marked = 0;
	bool found;
	uint64_t sweeps;
	int err;

	child = spawn_idle();
	dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);

	err = FAILS_WITH(ksmg_group_add_member(g, child));
	tap_ok(err == 0, "add_member(child) (errno %d)", err);
	err = FAILS_WITH(ksmg_group_add_member(g, child));
	tap_ok(err == EEXIST, "add_member twice is EEXIST (errno %d)", err);
	/* Each call before its tap_ok(): argument order is unspecified. */
	found = list_has(g, child, &count);
	tap_ok(found && count == 1, "list_members holds the child (%u members)",
	       count);
	err = FAILS_WITH(ksmg_group_get_stats(g, &stats));
	tap_ok(err == 0 && stats.members == 1 && stats.members_joined >= 1 &&
	       stats.vmas_marked > 0,
	       "get_stats: members %u, joined %llu, vmas_marked %llu",
	       stats.members, (unsigned long long)stats.members_joined,
	       (unsigned long long)stats.vmas_marked);
	sweeps = stats.sweeps;
	err = FAILS_WITH(ksmg_group_sweep(g, &marked));
	if (err == 0)
		err = FAILS_WITH(ksmg_group_get_stats(g, &stats));
	tap_ok(err == 0 && stats.sweeps > sweeps,
	       "sweep: sweeps %llu -> %llu, %u marked",
	       (unsigned long long)sweeps, (unsigned long long)stats.sweeps,
	       marked);
	err = FAILS_WITH(ksmg_group_remove_member(g, child));
	tap_ok(err == 0, "remove_member(child) (errno %d)", err);
	err = FAILS_WITH(ksmg_group_remove_member(g, child));
	tap_ok(err == ESRCH, "remove_member of a non-member is ESRCH (errno %d)",
	       err);
	found = list_has(g, child, &count);
	tap_ok(!found && count == 0, "list_members is empty again (%u)", count);
	err = FAILS_WITH(ksmg_group_add_member(g, dead));
	tap_ok(err == ESRCH, "add_member of a reaped pid is ESRCH (errno %d)",
	       err);
	err = FAILS_WITH(ksmg_group_add_member(g, 0));
	tap_ok(err == EINVAL, "add_member(0) is EINVAL (errno %d)", err);
	reap(child);
}

/* More members than the library's first buffer holds (64). */
static void test_module_many(struct ksmg_group *g)
{
	enum { N = 100 };
	pid_t pids[N];
	unsigned int count = 0, added = 0, i;
	pid_t *listed = NULL;
	int err;

	for (i = 0; i < N; i++) {
		pids[i] = spawn_idle();
		if (pids[i] > 0 && ksmg_group_add_member(g, pids[i]) == 0)
			added++;
	}
	err = FAILS_WITH(ksmg_group_list_members(g, &listed, &count));
	tap_ok(added == N && err == 0 && count == N,
	       "list_members grows its buffer: %u of %u added, %u listed",
	       added, N, count);
	free(listed);
	for (i = 0; i < N; i++) {
		if (pids[i] > 0) {
			ksmg_group_remove_member(g, pids[i]);
			reap(pids[i]);
		}
	}
}

/*
 * A member keeps a secret out: it excludes one mapping after joining, the
 * group is swept, and only the other mapping is mergeable.
 */
static void test_module_exclude(struct ksmg_group *g)
{
	int to_child[2], to_parent[2], status = -1;
	char byte = 0, flags_a[256] = "", flags_b[256] = "";
	pid_t child;

	if (pipe(to_child) < 0 || pipe(to_parent) < 0) {
		tap_ok(false, "exclude: pipes");
		return;
	}
	child = fork();
	if (child == 0) {
		size_t len = 2 * (size_t)page_size;
		char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *b = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (a == MAP_FAILED || b == MAP_FAILED)
			_exit(10);
		memset(a, 'a', len);
		memset(b, 'a', len);
		/* Joined, then excluded: the order a daemon's worker sees. */
		if (write(to_parent[1], &byte, 1) != 1 ||
		    read(to_child[0], &byte, 1) != 1)
			_exit(11);
		if (ksmg_exclude_self(b, len) < 0)
			_exit(12);
		if (write(to_parent[1], &byte, 1) != 1 ||
		    read(to_child[0], &byte, 1) != 1)
			_exit(13);
		if (vm_flags(a, flags_a, sizeof(flags_a)) < 0 ||
		    vm_flags(b, flags_b, sizeof(flags_b)) < 0)
			_exit(14);
		printf("# child: kept mapping VmFlags:%s\n# child: excluded mapping VmFlags:%s\n",
		       flags_a, flags_b);
		fflush(stdout);
		_exit(has_flag(flags_a, "mg") && !has_flag(flags_b, "mg") ? 0 : 15);
	}
	if (read(to_parent[0], &byte, 1) == 1 &&
	    ksmg_group_add_member(g, child) == 0 &&
	    write(to_child[1], &byte, 1) == 1 &&
	    read(to_parent[0], &byte, 1) == 1 &&
	    ksmg_group_sweep(g, NULL) == 0 && ksmg_group_sweep(g, NULL) == 0)
		(void)!write(to_child[1], &byte, 1);
	else
		kill(child, SIGKILL);
	waitpid(child, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "exclude_self after joining: later sweeps leave the range unmergeable (child status %d)",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ksmg_group_remove_member(g, child);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

static void test_module_close(struct ksmg_group **g)
{
	uint32_t id = ksmg_group_id(*g);
	char path[64];
	int i;

	ksmg_group_close(g);
	snprintf(path, sizeof(path), "/sys/kernel/ksmgroup/%u", id);
	for (i = 0; i < 50 && access(path, F_OK) == 0; i++)
		usleep(100000);
	tap_ok(*g == NULL && access(path, F_OK) < 0,
	       "close dissolves the group: %s is gone", path);
}

static void test_module(void)
{
	struct ksmg_group *g = NULL;
	const char *error = NULL;

	if (!tap_ok(ksmg_group_open(NULL, &g, &error) == 0,
		    "open " KSMG_DEVICE_PATH " (%s)", error ? error : "ok"))
		return;
	test_module_handshake(g);
	test_module_name_policy(g);
	test_module_members(g);
	test_module_many(g);
	test_module_exclude(g);
	test_module_close(&g);
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	/* Children print diagnostics: no buffered output may be doubled. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "--module") == 0) {
		test_module();
		return tap_done();
	}
	test_open_errors();
	test_null_group();
	test_names();
	test_exclude_self();
	test_strerror();
	return tap_done();
}
