// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ksmg-prio: how fast does a freshly registered group of alike workers reach
 * 90 % of its achievable KSM sharing while unrelated mergeable memory keeps
 * ksmd busy?
 *
 * A "noise" process registers --noise-mib of unique pages with
 * madvise(MADV_MERGEABLE) and is given time to enter ksmd's list. Then
 * --workers processes fill --worker-mib each with the same content and join
 * KSM in one of three ways:
 *
 *   madvise   each worker calls madvise(MADV_MERGEABLE) itself; ksmd stays
 *             at the admin's settings (the peer);
 *   module    the parent adds the workers to a ksmgroup group; ksmd stays
 *             at the same settings;
 *   governed  as module, and ksmd runs at --boost pages_to_scan while the
 *             group's state (sysfs) says "settling", back to the admin's
 *             setting once it says "converged": the signal a governor such
 *             as ksmgroupd acts on.
 *
 * Prints one line: mode, seconds to 90 %, ksmd CPU seconds until then,
 * final merging pages and the achievable count. Run it as root with KSM on;
 * it restores pages_to_scan.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../../kmod/uapi/ksmgroup.h"

#define PAGE 4096UL
#define KSM "/sys/kernel/mm/ksm/"

enum mode { MODE_MADVISE, MODE_MODULE, MODE_GOVERNED };

struct opts {
	enum mode mode;
	unsigned int workers;
	unsigned long worker_mib;
	unsigned long noise_mib;
	unsigned int boost;
	unsigned int timeout_s;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_ulong(const char *path, unsigned long *val_r)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*val_r = strtoul(buf, NULL, 10);
	return 0;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int write_ulong(const char *path, unsigned long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", val);
	return write_str(path, buf);
}

/* ksmd's CPU time in seconds, from /proc/PID/stat of the kernel thread. */
static pid_t ksmd_pid(void)
{
	char path[64], comm[32];
	pid_t pid;

	for (pid = 2; pid < 4096; pid++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "ksmd\n")) {
			fclose(f);
			return pid;
		}
		fclose(f);
	}
	return -1;
}

static double ksmd_cpu_s(pid_t pid)
{
	unsigned long utime = 0, stime = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &utime, &stime) != 2)
		utime = stime = 0;
	fclose(f);
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

/* Fill with content that differs per page and, with @salt, per process. */
static void fill(char *p, unsigned long len, unsigned long salt)
{
	unsigned long off, i;

	for (off = 0; off < len; off += PAGE)
		for (i = 0; i < PAGE; i += sizeof(uint64_t))
			*(uint64_t *)(p + off + i) =
				(off / PAGE + 1) * 0x9E3779B97F4A7C15ULL ^
				(salt * 0xBF58476D1CE4E5B9ULL) ^ i;
}

/* A child that maps @mib, fills it, optionally madvises it, and waits. */
static pid_t spawn(unsigned long mib, unsigned long salt, bool madv,
		   int ready_fd)
{
	pid_t pid = fork();
	unsigned long len = mib << 20;
	char *p;

	if (pid)
		return pid;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	fill(p, len, salt);
	if (madv && madvise(p, len, MADV_MERGEABLE))
		_exit(1);
	if (write(ready_fd, "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static unsigned long merging_pages(const pid_t *pids, unsigned int n)
{
	unsigned long sum = 0, v;
	char path[64];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ksm_merging_pages",
			 pids[i]);
		if (!read_ulong(path, &v))
			sum += v;
	}
	return sum;
}

static bool group_settling(unsigned int id)
{
	char path[96], state[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/ksmgroup/%u/state", id);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(state, sizeof(state), f))
		state[0] = '\0';
	fclose(f);
	return !strncmp(state, "settling", 8);
}

static int open_group(unsigned int *id_r)
{
	struct ksmg_info info = { .size = sizeof(info) };
	int fd = open("/dev/ksmgroup", O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, KSMG_IOC_GET_INFO, &info)) {
		perror("ksmg-prio: /dev/ksmgroup");
		exit(2);
	}
	*id_r = info.group_id;
	return fd;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "worker-mib", required_argument, NULL, 's' },
		{ "noise-mib", required_argument, NULL, 'n' },
		{ "boost", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ MODE_MADVISE, 8, 8, 256, 4000, 900 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "madvise"))
				o->mode = MODE_MADVISE;
			else if (!strcmp(optarg, "module"))
				o->mode = MODE_MODULE;
			else if (!strcmp(optarg, "governed"))
				o->mode = MODE_GOVERNED;
			else
				goto usage;
			break;
		case 'w':
			o->workers = strtoul(optarg, NULL, 0);
			break;
		case 's':
			o->worker_mib = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			o->noise_mib = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			o->boost = strtoul(optarg, NULL, 0);
			break;
		case 't':
			o->timeout_s = strtoul(optarg, NULL, 0);
			break;
		default:
			goto usage;
		}
	}
	if (o->workers >= 2 && o->workers <= 256 && o->worker_mib &&
	    o->boost && o->timeout_s)
		return;
usage:
	fprintf(stderr, "usage: ksmg-prio --mode madvise|module|governed "
		"[--workers N] [--worker-mib M] [--noise-mib M] [--boost PAGES] "
		"[--timeout S]\n");
	exit(2);
}

static const char *const mode_names[] = { "madvise", "module", "governed" };

int main(int argc, char **argv)
{
	unsigned long admin_pages, full0, full, merging = 0, target;
	double t0, t90 = -1, cpu0, cpu90 = 0;
	int pipefd[2], group = -1;
	unsigned int i, id = 0;
	bool boosted = false;
	pid_t *pids, noise;
	struct opts o;
	pid_t ksmd;
	char c;

	parse(argc, argv, &o);
	ksmd = ksmd_pid();
	if (ksmd < 0 || read_ulong(KSM "pages_to_scan", &admin_pages)) {
		fprintf(stderr, "ksmg-prio: no ksmd or no %s\n", KSM);
		return 2;
	}
	pids = calloc(o.workers, sizeof(*pids));
	if (!pids || pipe(pipefd))
		return 2;

	/* Unrelated mergeable memory, in ksmd's list before the workers. */
	noise = spawn(o.noise_mib, 0xD15EA5E, true, pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		return 2;
	read_ulong(KSM "full_scans", &full0);
	do {
		usleep(100000);
		read_ulong(KSM "full_scans", &full);
	} while (full < full0 + 1);

	for (i = 0; i < o.workers; i++) {
		pids[i] = spawn(o.worker_mib, 0, o.mode == MODE_MADVISE,
				pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			return 2;
	}
	if (o.mode != MODE_MADVISE) {
		group = open_group(&id);
		for (i = 0; i < o.workers; i++) {
			struct ksmg_member_cmd cmd = {
				.size = sizeof(cmd), .pid = pids[i],
			};

			if (ioctl(group, KSMG_IOC_ADD_MEMBER, &cmd)) {
				perror("ksmg-prio: add member");
				return 2;
			}
		}
	}

	target = o.workers * (o.worker_mib << 20) / PAGE * 9 / 10;
	t0 = now_s();
	cpu0 = ksmd_cpu_s(ksmd);
	while (now_s() - t0 < o.timeout_s) {
		if (o.mode == MODE_GOVERNED) {
			bool settling = group_settling(id);

			if (settling != boosted)
				write_ulong(KSM "pages_to_scan",
					    settling ? o.boost : admin_pages);
			boosted = settling;
		}
		merging = merging_pages(pids, o.workers);
		if (merging >= target) {
			t90 = now_s() - t0;
			cpu90 = ksmd_cpu_s(ksmd) - cpu0;
			break;
		}
		usleep(50000);
	}
	write_ulong(KSM "pages_to_scan", admin_pages);

	printf("mode=%s t90_s=%.2f ksmd_cpu_s=%.2f merging=%lu achievable=%lu "
	       "noise_mib=%lu workers=%u worker_mib=%lu pages_to_scan=%lu boost=%u\n",
	       mode_names[o.mode], t90, cpu90, merging,
	       o.workers * (o.worker_mib << 20) / PAGE, o.noise_mib,
	       o.workers, o.worker_mib, admin_pages, o.boost);

	for (i = 0; i < o.workers; i++)
		kill(pids[i], SIGKILL);
	kill(noise, SIGKILL);
	while (wait(NULL) > 0)
		;
	if (group >= 0)
		close(group);
	return t90 < 0 ? 1 : 0;
}
