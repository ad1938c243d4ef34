// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading and writing the small text files of sysfs and /proc.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "ksmg_test.h"

uint64_t ksmg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ksmg_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Read a whole (small) file as a NUL-terminated string. */
int ksmg_read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return 0;
}

int ksmg_write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, saved;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	saved = errno;
	close(fd);
	if (n < 0 || (size_t)n != len) {
		errno = n < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

static int ksmg_parse_u64(const char *text, uint64_t *val_r)
{
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)*text)) {
		errno = EINVAL;
		return -1;
	}
	*val_r = strtoull(text, &end, 10);
	if (errno)
		return -1;
	if (*end && *end != '\n' && *end != ' ') {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int ksmg_parse_s64(const char *text, int64_t *val_r)
{
	char *end;

	errno = 0;
	*val_r = strtoll(text, &end, 10);
	if (errno)
		return -1;
	if (end == text || (*end && *end != '\n' && *end != ' ')) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int ksmg_read_u64(const char *path, uint64_t *val_r)
{
	char buf[64];

	if (ksmg_read_file(path, buf, sizeof(buf)))
		return -1;
	return ksmg_parse_u64(buf, val_r);
}

int ksmg_read_s64(const char *path, int64_t *val_r)
{
	char buf[64];

	if (ksmg_read_file(path, buf, sizeof(buf)))
		return -1;
	return ksmg_parse_s64(buf, val_r);
}

int ksmg_write_u64(const char *path, uint64_t val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	return ksmg_write_file(path, buf);
}

int ksmg_group_path(uint32_t id, const char *attr, char *buf, size_t size)
{
	int n = snprintf(buf, size, KSMG_SYSFS "/%u/%s", id, attr);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int ksmg_group_u64(uint32_t id, const char *attr, uint64_t *val_r)
{
	char path[256];

	if (ksmg_group_path(id, attr, path, sizeof(path)))
		return -1;
	return ksmg_read_u64(path, val_r);
}

int ksmg_group_s64(uint32_t id, const char *attr, int64_t *val_r)
{
	char path[256];

	if (ksmg_group_path(id, attr, path, sizeof(path)))
		return -1;
	return ksmg_read_s64(path, val_r);
}

/* A group's text file without its trailing newline. */
int ksmg_group_str(uint32_t id, const char *attr, char *buf, size_t size)
{
	char path[256];
	size_t len;

	if (ksmg_group_path(id, attr, path, sizeof(path)) ||
	    ksmg_read_file(path, buf, size))
		return -1;
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return 0;
}

bool ksmg_group_exists(uint32_t id)
{
	char path[256];

	if (ksmg_group_path(id, "", path, sizeof(path)))
		return false;
	return access(path, F_OK) == 0;
}

int ksmg_global_u64(const char *attr, uint64_t *val_r)
{
	char path[256];

	snprintf(path, sizeof(path), KSMG_SYSFS "/%s", attr);
	return ksmg_read_u64(path, val_r);
}

int ksmg_param_u64(const char *param, uint64_t *val_r)
{
	char path[256];

	snprintf(path, sizeof(path), KSMG_PARAMS "/%s", param);
	return ksmg_read_u64(path, val_r);
}

/* Directories under /sys/kernel/ksmgroup, i.e. groups in sysfs. */
int ksmg_count_group_dirs(void)
{
	struct dirent *de;
	DIR *dir;
	int n = 0;

	dir = opendir(KSMG_SYSFS);
	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (de->d_type == DT_DIR && isdigit((unsigned char)de->d_name[0]))
			n++;
	closedir(dir);
	return n;
}

/*
 * The value after "key" in a /proc/PID/file of "key: value" or "key value"
 * lines (status, ksm_stat). Returns -1 with ENOENT when the key is absent.
 */
static int ksmg_proc_key(pid_t pid, const char *file, const char *key,
			 char *val, size_t size)
{
	char path[128], buf[8192], *line, *save = NULL;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	if (ksmg_read_file(path, buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) ||
		    (line[klen] != ':' && line[klen] != ' '))
			continue;
		line += klen + 1;
		while (*line == ' ' || *line == '\t')
			line++;
		snprintf(val, size, "%s", line);
		return 0;
	}
	errno = ENOENT;
	return -1;
}

int ksmg_proc_key_u64(pid_t pid, const char *file, const char *key,
		      uint64_t *val_r)
{
	char val[64];

	if (ksmg_proc_key(pid, file, key, val, sizeof(val)))
		return -1;
	return ksmg_parse_u64(val, val_r);
}

int ksmg_proc_key_s64(pid_t pid, const char *file, const char *key,
		      int64_t *val_r)
{
	char val[64];

	if (ksmg_proc_key(pid, file, key, val, sizeof(val)))
		return -1;
	return ksmg_parse_s64(val, val_r);
}

/* A /proc/PID file holding one number, e.g. ksm_merging_pages. */
int ksmg_proc_u64(pid_t pid, const char *file, uint64_t *val_r)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return ksmg_read_u64(path, val_r);
}

/* The state letter of /proc/PID/stat (R, S, Z, ...), or 0. */
char ksmg_proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (ksmg_read_file(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * Taint bits that mean the kernel hit a problem: bad page (5), died (7),
 * warned (9), soft lockup (14). Module loading sets O and E; ignore those.
 */
unsigned long ksmg_taint_bad(void)
{
	uint64_t taint = 0;

	if (ksmg_read_u64("/proc/sys/kernel/tainted", &taint))
		return 0;
	return (unsigned long)taint &
	       ((1UL << 5) | (1UL << 7) | (1UL << 9) | (1UL << 14));
}

bool ksmg_kernel_at_least(unsigned int major, unsigned int minor)
{
	unsigned int ma = 0, mi = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}
