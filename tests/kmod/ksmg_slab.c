// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Slab usage from /proc/slabinfo, for leak checks.
 *
 * SLUB keeps free objects on per-cpu slabs that /proc/slabinfo counts as
 * active, so a snapshot first asks every cache to shrink (which flushes
 * those) and drops the dentry and inode caches (reading sysfs files fills
 * them). What is left is what the kernel really holds.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ksmg_test.h"

static void ksmg_slab_shrink_all(void)
{
	char path[512];
	struct dirent *de;
	DIR *dir;

	ksmg_write_file("/proc/sys/vm/drop_caches", "2");
	dir = opendir("/sys/kernel/slab");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 de->d_name);
		ksmg_write_file(path, "1");
	}
	closedir(dir);
}

int ksmg_slab_snapshot(struct ksmg_slab *s)
{
	char line[512], name[64];
	size_t cap = 0;
	long active;
	FILE *f;

	s->v = NULL;
	s->n = 0;
	ksmg_slab_shrink_all();
	f = fopen("/proc/slabinfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %ld", name, &active) != 2)
			continue;
		if (s->n == cap) {
			struct ksmg_slab_entry *v;

			cap = cap ? cap * 2 : 256;
			v = realloc(s->v, cap * sizeof(*v));
			if (!v) {
				fclose(f);
				ksmg_slab_free(s);
				errno = ENOMEM;
				return -1;
			}
			s->v = v;
		}
		snprintf(s->v[s->n].name, sizeof(s->v[s->n].name), "%s", name);
		s->v[s->n].active = active;
		s->n++;
	}
	fclose(f);
	return 0;
}

/* Active objects of cache @name, or 0 when there is no such cache. */
long ksmg_slab_active(const struct ksmg_slab *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return s->v[i].active;
	return 0;
}

void ksmg_slab_free(struct ksmg_slab *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
