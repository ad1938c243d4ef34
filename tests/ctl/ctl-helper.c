// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Helper processes for tests/ctl/guest-tests.sh, one per subcommand:
 *
 *   hold NAME MEMBERS MIB [SEED]
 *                           open a group NAME with MEMBERS children, each
 *                           holding MIB MiB whose pages are alike across
 *                           children (and distinct within one, and from
 *                           other SEEDs); print "group=ID pids=P,P,..."
 *                           and wait for SIGTERM.
 *   events NAME             a fixed story for the event stream: create,
 *                           add A, remove A, add B, B exits, close; prints
 *                           "group=ID a=PID b=PID".
 *   probe [--fork] [--wait S]
 *                           note the time at start and poll sysfs until
 *                           this process is a member of some group; print
 *                           "attached_ms=X group=NAME" (or
 *                           "attached_ms=none"). --fork: then fork a child
 *                           (no exec) that does the same ("child_..."). --wait:
 *                           linger S seconds before exiting.
 *
 * Copies of this binary under other names serve as the "executables" of
 * ksmgroupd's rules.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksmgroup.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *error)
{
	fprintf(stderr, "ctl-helper: %s: %s\n", what,
		error ? error : strerror(errno));
	exit(1);
}

static struct ksmg_group *open_named(const char *name)
{
	struct ksmg_group *g;
	const char *error;

	if (ksmg_group_open(NULL, &g, &error) < 0)
		die("open", error);
	if (ksmg_group_set_name(g, name) < 0)
		die("set_name", NULL);
	return g;
}

/* A child holding mib MiB: page i is filled with bytes derived from i. */
static pid_t spawn_holder(unsigned long mib, unsigned long seed)
{
	size_t len = mib << 20, page = (size_t)sysconf(_SC_PAGESIZE), i;
	pid_t pid = fork();
	unsigned char *mem;

	if (pid != 0)
		return pid;
	mem = mmap(NULL, len ? len : page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		_exit(1);
	for (i = 0; i < len; i += page) {
		unsigned long tag = i ^ (seed << 40);

		memset(mem + i, (int)(((i / page) * 131 + seed * 17) % 251) + 1,
		       page);
		/* Distinct pages, so that merging is work, not one page. */
		memcpy(mem + i, &tag, sizeof(tag));
	}
	for (;;)
		pause();
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_hold(int argc, char **argv)
{
	unsigned long members, mib, seed = 0, i;
	struct ksmg_group *g;
	pid_t *pids;

	if (argc != 3 && argc != 4)
		return 2;
	members = strtoul(argv[1], NULL, 10);
	mib = strtoul(argv[2], NULL, 10);
	if (argc == 4)
		seed = strtoul(argv[3], NULL, 10);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	g = open_named(argv[0]);
	pids = calloc(members ? members : 1, sizeof(*pids));
	if (pids == NULL)
		die("calloc", NULL);
	for (i = 0; i < members; i++) {
		pids[i] = spawn_holder(mib, seed);
		if (pids[i] < 0)
			die("fork", NULL);
	}
	/* Let the children fill their memory before they join. */
	usleep(200000 + 20000 * (useconds_t)mib);
	for (i = 0; i < members; i++) {
		if (ksmg_group_add_member(g, pids[i]) < 0)
			die("add_member", ksmg_strerror(errno));
	}
	printf("group=%u pids=", ksmg_group_id(g));
	for (i = 0; i < members; i++)
		printf("%s%d", i ? "," : "", (int)pids[i]);
	printf("\n");
	fflush(stdout);
	while (!stop)
		pause();
	for (i = 0; i < members; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	ksmg_group_close(&g);
	free(pids);
	return 0;
}

static pid_t spawn_idle(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/*
 * Wait until the module has dropped the exited member (and so sent
 * MEMBER_EXITED): members_exited counts that, while members already
 * leaves out a member whose address space is gone.
 */
static void wait_exited(struct ksmg_group *g, uint64_t want)
{
	struct ksmg_stats stats;
	int i;

	for (i = 0; i < 100; i++) {
		if (ksmg_group_get_stats(g, &stats) == 0 &&
		    stats.members_exited == want)
			return;
		usleep(50000);
	}
	die("the module never noticed the member's exit", "timeout");
}

static int cmd_events(int argc, char **argv)
{
	struct ksmg_group *g;
	pid_t a, b;

	if (argc != 1)
		return 2;
	g = open_named(argv[0]);
	a = spawn_idle();
	b = spawn_idle();
	/* Small pauses keep the story readable in a log; order needs none. */
	if (ksmg_group_add_member(g, a) < 0 ||
	    ksmg_group_remove_member(g, a) < 0 ||
	    ksmg_group_add_member(g, b) < 0)
		die("member ioctls", ksmg_strerror(errno));
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	wait_exited(g, 1);
	printf("group=%u a=%d b=%d\n", ksmg_group_id(g), (int)a, (int)b);
	fflush(stdout);
	ksmg_group_close(&g);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	return 0;
}

/* The name of the group whose pids file lists pid, if any. */
static bool member_of(pid_t pid, char *group, size_t size)
{
	char path[300], line[64];
	struct dirent *de;
	bool found = false;
	DIR *dir;
	FILE *f;

	dir = opendir("/sys/kernel/ksmgroup");
	if (dir == NULL)
		return false;
	while (!found && (de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/ksmgroup/%s/pids",
			 de->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (atoi(line) == pid) {
				found = true;
				break;
			}
		}
		fclose(f);
		if (!found)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/ksmgroup/%s/name",
			 de->d_name);
		f = fopen(path, "re");
		if (f != NULL && fgets(group, (int)size, f) != NULL)
			group[strcspn(group, "\n")] = '\0';
		if (f != NULL)
			fclose(f);
	}
	closedir(dir);
	return found;
}

static void probe_once(const char *prefix, double start, double limit_ms)
{
	char group[64] = "?";

	while (now_ms() - start < limit_ms) {
		if (member_of(getpid(), group, sizeof(group))) {
			printf("%sattached_ms=%.1f %sgroup=%s\n", prefix,
			       now_ms() - start, prefix, group);
			fflush(stdout);
			return;
		}
		usleep(1000);
	}
	printf("%sattached_ms=none\n", prefix);
	fflush(stdout);
}

static int cmd_probe(int argc, char **argv)
{
	double start = now_ms(), limit = 3000;
	bool do_fork = false;
	unsigned int wait_s = 0;
	int i, status;
	pid_t child;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--fork") == 0)
			do_fork = true;
		else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc)
			wait_s = (unsigned int)atoi(argv[++i]);
		else if (strcmp(argv[i], "--limit-ms") == 0 && i + 1 < argc)
			limit = atof(argv[++i]);
		else
			return 2;
	}
	probe_once("", start, limit);
	if (do_fork) {
		child = fork();
		if (child == 0) {
			probe_once("child_", now_ms(), limit);
			_exit(0);
		}
		waitpid(child, &status, 0);
	}
	if (wait_s)
		sleep(wait_s);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "hold", cmd_hold },
	{ "events", cmd_events },
	{ "probe", cmd_probe },
};

int main(int argc, char **argv)
{
	size_t i;
	int ret;

	if (argc < 2)
		goto usage;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		ret = commands[i].run(argc - 2, argv + 2);
		if (ret != 2)
			return ret;
		goto usage;
	}
usage:
	fprintf(stderr, "usage: ctl-helper hold NAME MEMBERS MIB [SEED] | events NAME | probe [--fork] [--wait S] [--limit-ms MS]\n");
	return 2;
}
