// SPDX-License-Identifier: GPL-2.0-or-later
/* KSM sysfs knobs and the state file; see knobs.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "knobs.h"

static int knob_path(const char *name, char *buf, size_t size)
{
	return snprintf(buf, size, "%s/%s", KSMGD_KSM_DIR, name) < (int)size ?
		0 : -1;
}

static int read_text(const char *name, char *buf, size_t size)
{
	char path[128];
	ssize_t len;
	int fd;

	if (knob_path(name, path, sizeof(path)) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, size - 1);
	close(fd);
	if (len < 0)
		return -1;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_text(const char *name, const char *text)
{
	size_t len = strlen(text);
	char path[128];
	ssize_t ret;
	int fd, saved_errno;

	if (knob_path(name, path, sizeof(path)) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, text, len);
	saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return ret == (ssize_t)len ? 0 : -1;
}

int ksmgd_knob_read(const char *name, unsigned long *value_r)
{
	char buf[64], *end;

	if (read_text(name, buf, sizeof(buf)) < 0)
		return -1;
	errno = 0;
	*value_r = strtoul(buf, &end, 10);
	if (errno != 0 || end == buf) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int ksmgd_knob_write(const char *name, unsigned long value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", value);
	return write_text(name, buf);
}

/* "[none] scan-time" -> "none" */
static int read_advisor(char *buf, size_t size)
{
	char text[128], *open, *close;

	if (read_text("advisor_mode", text, sizeof(text)) < 0)
		return -1;
	open = strchr(text, '[');
	close = open ? strchr(open, ']') : NULL;
	if (close == NULL) {
		errno = EINVAL;
		return -1;
	}
	*close = '\0';
	snprintf(buf, size, "%s", open + 1);
	return 0;
}

int ksmgd_knobs_read(struct ksmgd_knobs *knobs)
{
	memset(knobs, 0, sizeof(*knobs));
	if (ksmgd_knob_read("run", &knobs->run) < 0 ||
	    ksmgd_knob_read("pages_to_scan", &knobs->pages_to_scan) < 0 ||
	    ksmgd_knob_read("sleep_millisecs", &knobs->sleep_millisecs) < 0)
		return -1;
	knobs->has_advisor = read_advisor(knobs->advisor_mode,
					  sizeof(knobs->advisor_mode)) == 0;
	return 0;
}

int ksmgd_knobs_advisor_off(void)
{
	char mode[16];

	if (read_advisor(mode, sizeof(mode)) < 0)
		return errno == ENOENT ? 0 : -1;
	return strcmp(mode, "none") == 0 ? 0 : write_text("advisor_mode", "none");
}

int ksmgd_knobs_restore(const struct ksmgd_knobs *knobs)
{
	int ret = 0;

	/*
	 * pages_to_scan is only writable with the advisor off, and turning
	 * the advisor on resets pages_to_scan: so advisor off, the rates,
	 * then the advisor as it was, and run last.
	 */
	if (knobs->has_advisor && ksmgd_knobs_advisor_off() < 0)
		ret = -1;
	if (ksmgd_knob_write("pages_to_scan", knobs->pages_to_scan) < 0)
		ret = -1;
	if (ksmgd_knob_write("sleep_millisecs", knobs->sleep_millisecs) < 0)
		ret = -1;
	if (knobs->has_advisor && strcmp(knobs->advisor_mode, "none") != 0 &&
	    write_text("advisor_mode", knobs->advisor_mode) < 0)
		ret = -1;
	if (ksmgd_knob_write("run", knobs->run) < 0)
		ret = -1;
	return ret;
}

static int mkdir_parent(const char *path)
{
	char *dir = strdup(path), *slash;
	int ret = 0;

	if (dir == NULL)
		return -1;
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			ret = -1;
	}
	free(dir);
	return ret;
}

int ksmgd_knobs_save(const struct ksmgd_knobs *knobs, const char *path)
{
	char tmp[4096];
	FILE *f;

	if (mkdir_parent(path) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "we");
	if (f == NULL)
		return -1;
	fprintf(f, "# the admin's KSM settings, restored when ksmgroupd stops\n"
		   "run=%lu\npages_to_scan=%lu\nsleep_millisecs=%lu\n",
		knobs->run, knobs->pages_to_scan, knobs->sleep_millisecs);
	if (knobs->has_advisor)
		fprintf(f, "advisor_mode=%s\n", knobs->advisor_mode);
	/* Written in full and renamed, so a crash never leaves half a file. */
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int ksmgd_knobs_load(struct ksmgd_knobs *knobs, const char *path)
{
	unsigned int seen = 0;
	char line[128], mode[16];
	unsigned long value;
	FILE *f;

	memset(knobs, 0, sizeof(*knobs));
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "run=%lu", &value) == 1) {
			knobs->run = value;
			seen |= 1;
		} else if (sscanf(line, "pages_to_scan=%lu", &value) == 1) {
			knobs->pages_to_scan = value;
			seen |= 2;
		} else if (sscanf(line, "sleep_millisecs=%lu", &value) == 1) {
			knobs->sleep_millisecs = value;
			seen |= 4;
		} else if (sscanf(line, "advisor_mode=%15s", mode) == 1) {
			snprintf(knobs->advisor_mode,
				 sizeof(knobs->advisor_mode), "%s", mode);
			knobs->has_advisor = true;
		}
	}
	fclose(f);
	if (seen != 7) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}
