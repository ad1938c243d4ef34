// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * <root>/subscriptions as Dovecot 2.3 writes it: a "V\t2" line and an empty
 * line, then one name per line in modified UTF-7 with the hierarchy
 * separator written as a tab. Files without the version line (Dovecot 1.x,
 * 2.0-2.2) hold one name per line with the separator itself.
 *
 * Read-modify-write runs inside an index write transaction: the index's
 * writer lock is the cross-process mutex, the transaction itself changes
 * nothing and is aborted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dbox-fs.h"
#include "dbox-log.h"
#include "dbox-name.h"
#include "dbox-private.h"
#include "dbox-subs.h"

#define SUBS_MAX_SIZE (4 * 1024 * 1024)
#define SUBS_HEADER "V\t2\n\n"

static void subs_add(char ***names, unsigned int *count, char *name)
{
	*names = dbox_realloc(*names, (*count + 1) * sizeof(char *));
	(*names)[(*count)++] = name;
}

static void parse_line(char *line, bool v2, char ***names,
		       unsigned int *count)
{
	const char *error;
	char *p, *name;

	if (v2) {
		for (p = line; *p != '\0'; p++) {
			if (*p == '\t')
				*p = '/';
		}
	}
	if (*line == '\0')
		return;
	if (dbox_name_from_disk(line, &name, &error) < 0) {
		dbox_log(DBOX_LOG_DEBUG, "subscriptions: skipping a name: %s",
			 error);
		return;
	}
	subs_add(names, count, name);
}

int dbox_subs_read(struct dbox_storage *storage, char ***names_r,
		   unsigned int *count_r, const char **error_r)
{
	char *data, *line, *save = NULL;
	bool v2;
	size_t size;

	*names_r = NULL;
	*count_r = 0;
	if (dbox_fs_read_small(storage->root_fd, DBOX_SUBSCRIPTIONS_FILE,
			       SUBS_MAX_SIZE, &data, &size) < 0) {
		if (errno == ENOENT)
			return 0;
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "read(%s) failed: %m",
				 DBOX_SUBSCRIPTIONS_FILE);
	}
	v2 = strncmp(data, "V\t", 2) == 0;
	line = strtok_r(data, "\n", &save);
	if (v2)
		line = strtok_r(NULL, "\n", &save);
	for (; line != NULL; line = strtok_r(NULL, "\n", &save))
		parse_line(line, v2, names_r, count_r);
	free(data);
	return 0;
}

static int name_cmp(const void *p1, const void *p2)
{
	return strcmp(*(char *const *)p1, *(char *const *)p2);
}

static int subs_write(struct dbox_storage *storage, char **names,
		      unsigned int count, const char **error_r)
{
	struct dbox_buf buf = { 0 };
	unsigned int i;
	char *disk, *p;
	int ret;

	if (count > 0)	/* qsort(NULL, 0) is undefined */
		qsort(names, count, sizeof(*names), name_cmp);
	dbox_buf_append(&buf, SUBS_HEADER, strlen(SUBS_HEADER));
	for (i = 0; i < count; i++) {
		if (dbox_name_to_disk(names[i], &disk, error_r) < 0)
			continue;
		for (p = disk; *p != '\0'; p++) {
			if (*p == '/')
				*p = '\t';
		}
		dbox_buf_printf(&buf, "%s\n", disk);
		free(disk);
	}
	ret = dbox_fs_write_atomic(storage->root_fd, DBOX_SUBSCRIPTIONS_FILE,
				   buf.data, buf.len, error_r);
	dbox_buf_free(&buf);
	return ret;
}

static int subs_update(struct dbox_storage *storage, const char *name,
		       bool subscribe, const char **error_r)
{
	char **names;
	unsigned int i, count;
	int ret = 0;

	if (dbox_subs_read(storage, &names, &count, error_r) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0)
			break;
	}
	if (subscribe && i == count) {
		subs_add(&names, &count, dbox_strdup(name));
		ret = subs_write(storage, names, count, error_r);
	} else if (!subscribe && i < count) {
		free(names[i]);
		names[i] = names[--count];
		ret = subs_write(storage, names, count, error_r);
	}
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return ret;
}

int dbox_mailbox_subscribe(struct dbox_storage *storage, const char *name,
			   bool subscribe, const char **error_r)
{
	struct dbox_txn *lock;
	char *norm, *disk;
	int ret;

	if (dbox_mailbox_name_normalize(name, &norm, error_r) < 0)
		return -1;
	/* the name must be representable on disk */
	if (dbox_name_to_disk(norm, &disk, error_r) < 0) {
		free(norm);
		return -1;
	}
	free(disk);
	if (dbox_txn_begin(storage->index, true, &lock, error_r) < 0) {
		free(norm);
		return -1;
	}
	ret = subs_update(storage, norm, subscribe, error_r);
	dbox_txn_abort(&lock);
	free(norm);
	return ret;
}
