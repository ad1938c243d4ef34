// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * UIDVALIDITY allocation shared with Dovecot: <root>/dovecot-uidvalidity
 * holds the last value given out (8 hex digits) and an empty file
 * dovecot-uidvalidity.<hex> marks it; a new value is taken by renaming the
 * marker to the next value, which is atomic between processes (a loser gets
 * ENOENT and tries the next one). The same algorithm as Dovecot's
 * src/lib-storage/mailbox-uidvalidity.c, so both can allocate from one root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbox-fs.h"
#include "dbox-log.h"
#include "dbox-private.h"

#define UIDVALIDITY_FILE "dovecot-uidvalidity"
#define RETRY_COUNT 10

static uint32_t next_fallback(void)
{
	static uint32_t last;
	uint32_t now = (uint32_t)dbox_now();

	last = last < now ? now : last + 1;
	return last;
}

static void write_value(int root_fd, uint32_t value)
{
	char buf[9];
	int fd;

	snprintf(buf, sizeof(buf), "%08x", value);
	if (dbox_fs_open_file(root_fd, UIDVALIDITY_FILE, O_RDWR | O_CREAT,
			      0600, &fd) < 0) {
		dbox_log(DBOX_LOG_ERROR, "open(%s) failed: %m",
			 UIDVALIDITY_FILE);
		return;
	}
	if (pwrite(fd, buf, 8, 0) != 8)
		dbox_log(DBOX_LOG_ERROR, "write(%s) failed: %m",
			 UIDVALIDITY_FILE);
	/* a value handed out again after a crash would reuse UIDVALIDITY
	   for a recreated mailbox */
	(void)fdatasync(fd);
	close(fd);
}

static int try_rename(int root_fd, uint32_t *value)
{
	char src[64], dst[64];
	unsigned int i;

	for (i = 0; i < RETRY_COUNT; i++) {
		snprintf(src, sizeof(src), UIDVALIDITY_FILE ".%08x", *value);
		*value += 1;
		snprintf(dst, sizeof(dst), UIDVALIDITY_FILE ".%08x", *value);
		if (renameat(root_fd, src, root_fd, dst) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
	}
	return -1;
}

static uint32_t rescan(int root_fd)
{
	size_t prefix_len = strlen(UIDVALIDITY_FILE ".");
	uint32_t max = 0, min = UINT32_MAX, value;
	struct dirent *d;
	char name[64];
	DIR *dir;
	int fd;
	uint64_t v;

	fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return next_fallback();
	}
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, UIDVALIDITY_FILE ".", prefix_len) != 0 ||
		    dbox_hex_to_u64(d->d_name + prefix_len,
				    strlen(d->d_name + prefix_len), &v) < 0 ||
		    v > UINT32_MAX)
			continue;
		if (v > max)
			max = (uint32_t)v;
		if (v < min)
			min = (uint32_t)v;
	}
	closedir(dir);
	if (max == 0) {
		value = next_fallback();
		snprintf(name, sizeof(name), UIDVALIDITY_FILE ".%08x", value);
		if (dbox_fs_open_file(root_fd, name, O_RDWR | O_CREAT | O_EXCL,
				      0444, &fd) == 0)
			close(fd);
		write_value(root_fd, value);
		return value;
	}
	if (min != max) {
		snprintf(name, sizeof(name), UIDVALIDITY_FILE ".%08x", min);
		(void)unlinkat(root_fd, name, 0);
	}
	value = max;
	if (try_rename(root_fd, &value) < 0)
		return next_fallback();
	write_value(root_fd, value);
	return value;
}

uint32_t dbox_storage_next_uidvalidity(struct dbox_storage *storage)
{
	char *data;
	size_t size;
	uint64_t v;
	uint32_t value;

	if (dbox_fs_read_small(storage->root_fd, UIDVALIDITY_FILE, 8, &data,
			       &size) < 0)
		return rescan(storage->root_fd);
	if (size != 8 || dbox_hex_to_u64(data, 8, &v) < 0 || v > UINT32_MAX) {
		free(data);
		return rescan(storage->root_fd);
	}
	free(data);
	value = (uint32_t)v;
	if (try_rename(storage->root_fd, &value) < 0)
		return rescan(storage->root_fd);
	write_value(storage->root_fd, value);
	return value;
}
