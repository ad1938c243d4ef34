// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loadgen: the CPU time a server used, from /proc. The server is every
 * process given by pid (--server-pid) or by name (--server-name), and all
 * their descendants. The sum is utime + stime of each living process plus
 * cutime + cstime, the time of its children it has already reaped: a
 * per-connection imap process that exits during the run moves its time
 * from its own line into its parent's, so with the master as root nothing
 * is lost. (By name alone, children reaped by a parent outside the set
 * are lost; give the master's pid where you can.)
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"

struct lg_proc {
	int pid, ppid;
	unsigned long long ticks;	/* utime + stime + cutime + cstime */
	bool in;
	char comm[32];
};

static int lg_read_stat(int pid, struct lg_proc *p)
{
	char path[64], buf[1024], *rp;
	unsigned long long ut, st, cut, cst;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses; it ends at the last ')' */
	rp = strrchr(buf, ')');
	if (rp == NULL || strchr(buf, '(') == NULL)
		return -1;
	snprintf(p->comm, sizeof(p->comm), "%.*s",
		 (int)(rp - strchr(buf, '(') - 1), strchr(buf, '(') + 1);
	if (sscanf(rp + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
		   &p->ppid, &ut, &st, &cut, &cst) != 5)
		return -1;
	p->pid = pid;
	p->ticks = ut + st + cut + cst;
	p->in = false;
	return 0;
}

static bool lg_pid_listed(const char *list, int pid)
{
	for (const char *s = list; s != NULL && *s; ) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s)
			break;
		if (v == pid)
			return true;
		s = *end == ',' ? end + 1 : end;
	}
	return false;
}

int lg_server_cpu(const struct lg_opts *o, struct lg_cpu *cpu_r,
		  const char **error_r)
{
	struct lg_proc *procs = NULL;
	size_t n = 0, cap = 0;
	unsigned long long ticks = 0;
	unsigned int count = 0;
	struct dirent *de;
	bool grew = true;
	DIR *d = opendir("/proc");

	if (d == NULL) {
		*error_r = "cannot open /proc";
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			struct lg_proc *np;

			cap = cap ? cap * 2 : 1024;
			np = realloc(procs, cap * sizeof(*np));
			if (np == NULL) {
				closedir(d);
				free(procs);
				*error_r = "out of memory";
				return -1;
			}
			procs = np;
		}
		if (lg_read_stat(atoi(de->d_name), &procs[n]) == 0)
			n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		procs[i].in = lg_pid_listed(o->server_pids, procs[i].pid) ||
			(o->server_name && strcmp(procs[i].comm, o->server_name) == 0);
	/* descendants: repeat until no process joins (trees are shallow) */
	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			if (procs[i].in)
				continue;
			for (size_t j = 0; j < n; j++) {
				if (procs[j].in && procs[j].pid == procs[i].ppid) {
					procs[i].in = grew = true;
					break;
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (procs[i].in) {
			ticks += procs[i].ticks;
			count++;
		}
	}
	free(procs);
	cpu_r->secs = (double)ticks / sysconf(_SC_CLK_TCK);
	cpu_r->procs = count;
	return 0;
}
