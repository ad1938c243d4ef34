// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unloading: rmmod is refused while a group is open and harms nothing;
 * once the last group is closed it succeeds, right away, even with members
 * exiting and sweeps under way, and leaves nothing behind (sysfs, device,
 * netlink family). Each test loads the module again (from KSMG_MODULE,
 * with the parameters it had), so the runner finds it loaded at the end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include "ksmg_harness.h"
#include "ksmg_nl.h"

#define KSMG_MODULE_NAME	"ksmgroup"

FIXTURE(rmmod) {
	const char *module;
	char params[512];
	unsigned long taint;
	struct ksmg_worker w[8];
};

/* "name=value ..." of the loaded module's parameters, to load it alike. */
static int ksmg_current_params(char *buf, size_t size)
{
	char path[512], val[128];
	struct dirent *de;
	size_t len = 0;
	DIR *dir;

	buf[0] = '\0';
	dir = opendir(KSMG_PARAMS);
	if (!dir)
		return 0;	/* a module without parameters */
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), KSMG_PARAMS "/%s", de->d_name);
		if (ksmg_read_file(path, val, sizeof(val)))
			continue;
		val[strcspn(val, "\n")] = '\0';
		len += (size_t)snprintf(buf + len, size - len, "%s%s=%s",
					len ? " " : "", de->d_name, val);
		if (len >= size) {
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	return 0;
}

static bool ksmg_module_loaded(void)
{
	return access("/sys/module/" KSMG_MODULE_NAME, F_OK) == 0;
}

static int ksmg_rmmod(void)
{
	return (int)syscall(SYS_delete_module, KSMG_MODULE_NAME, O_NONBLOCK);
}

/* Load the module and wait for its device node. */
static int ksmg_insmod(const char *path, const char *params)
{
	int fd, ret, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = (int)syscall(SYS_finit_module, fd, params, 0);
	saved = errno;
	close(fd);
	if (ret) {
		errno = saved;
		return -1;
	}
	if (!KSMG_POLL(access(KSMG_DEV, F_OK) == 0, 5000, 10)) {
		errno = ENODEV;
		return -1;
	}
	return 0;
}

FIXTURE_SETUP(rmmod)
{
	unsigned int i;

	KSMG_SKIP_WITHOUT_MODULE();
	self->module = getenv("KSMG_MODULE");
	if (!self->module || !*self->module)
		SKIP(return, "KSMG_MODULE (path of ksmgroup.ko) is not set");
	ASSERT_EQ(0, access(self->module, R_OK))
		TH_LOG("KSMG_MODULE=%s: %s", self->module, strerror(errno));
	ASSERT_EQ(0, ksmg_current_params(self->params, sizeof(self->params)));
	self->taint = ksmg_taint_bad();
	for (i = 0; i < KSMG_ARRAY_SIZE(self->w); i++)
		self->w[i].pid = self->w[i].sock = -1;
}

FIXTURE_TEARDOWN(rmmod)
{
	unsigned int i;

	for (i = 0; i < KSMG_ARRAY_SIZE(self->w); i++)
		ksmg_worker_kill(&self->w[i]);
	/* Whatever happened, leave the module loaded for what comes next. */
	if (!ksmg_module_loaded())
		EXPECT_EQ(0, ksmg_insmod(self->module, self->params))
			TH_LOG("reloading %s: %s", self->module,
			       strerror(errno));
	EXPECT_EQ(0, ksmg_taint_bad() & ~self->taint)
		TH_LOG("the kernel is tainted by a WARN, oops or bad page");
}

static void ksmg_start_workers(struct __test_metadata *_metadata,
			       FIXTURE_DATA(rmmod) *self, unsigned int n)
{
	struct ksmg_worker_opts opts = KSMG_WORKER_OPTS_DEFAULT;
	unsigned int i;

	opts.pages = 8;
	for (i = 0; i < n; i++) {
		ksmg_worker_kill(&self->w[i]);
		opts.seed = i + 1;
		ASSERT_EQ(0, ksmg_worker_start(&self->w[i], &opts));
	}
}

TEST_F(rmmod, refused_while_a_group_is_open)
{
	struct ksmg_info info;
	uint32_t id;
	int fd;

	ksmg_start_workers(_metadata, self, 1);
	fd = ksmg_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ksmg_group_id(fd, &id));
	ASSERT_EQ(0, ksmg_add(fd, self->w[0].pid));
	EXPECT_ERRNO(EWOULDBLOCK, ksmg_rmmod());
	/* Nothing was harmed. */
	EXPECT_TRUE(ksmg_module_loaded());
	EXPECT_EQ(0, ksmg_get_info(fd, &info));
	EXPECT_TRUE(ksmg_list_has(fd, self->w[0].pid));
	EXPECT_TRUE(ksmg_group_exists(id));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w[0].pid, self->w[0].addr, "mg"));
	close(fd);
}

TEST_F(rmmod, unload_after_close_leaves_nothing)
{
	struct ksmg_nl nl;
	uint64_t v;
	int fd;

	ksmg_start_workers(_metadata, self, 2);
	fd = ksmg_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ksmg_add(fd, self->w[0].pid));
	ASSERT_EQ(0, ksmg_add(fd, self->w[1].pid));
	close(fd);
	ASSERT_EQ(0, ksmg_rmmod()) TH_LOG("rmmod: %s", strerror(errno));
	EXPECT_FALSE(ksmg_module_loaded());
	EXPECT_NE(0, access(KSMG_SYSFS, F_OK));
	EXPECT_TRUE(KSMG_POLL(access(KSMG_DEV, F_OK) != 0, 5000, 10));
	EXPECT_EQ(-ENOENT, ksmg_nl_open(&nl));
	/* Former members carry on, still mergeable. */
	EXPECT_EQ(0, ksmg_worker_ping(&self->w[0]));
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w[0].pid, self->w[0].addr, "mg"));

	ASSERT_EQ(0, ksmg_insmod(self->module, self->params))
		TH_LOG("insmod %s %s: %s", self->module, self->params,
		       strerror(errno));
	ASSERT_EQ(0, ksmg_global_u64("groups", &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, ksmg_global_u64("members", &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, ksmg_nl_open(&nl));
	ksmg_nl_close(&nl);
	fd = ksmg_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ksmg_add(fd, self->w[0].pid));
	close(fd);
}

/*
 * Unload right after the last close, with members dying, sweeps every
 * sweep_ms_min and an event listener subscribed: ten times over.
 */
TEST_F_TIMEOUT(rmmod, unload_races_exits_and_sweeps, 120)
{
	struct ksmg_info info;
	struct ksmg_nl nl;
	unsigned int cycle, i;
	int fd, ret;

	for (cycle = 0; cycle < 10; cycle++) {
		ksmg_start_workers(_metadata, self, 8);
		ASSERT_EQ(0, ksmg_nl_open(&nl));
		ret = ksmg_nl_subscribe(&nl);
		ASSERT_EQ(0, ret) TH_LOG("subscribe: %s", strerror(-ret));
		fd = ksmg_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ksmg_get_info(fd, &info));
		ASSERT_EQ(0, ksmg_set_policy(fd, KSMG_POLICY_ANON,
					     info.sweep_ms_min));
		for (i = 0; i < 8; i++)
			ASSERT_EQ(0, ksmg_add(fd, self->w[i].pid));
		for (i = 0; i < 8; i += 2)
			kill(self->w[i].pid, SIGKILL);
		close(fd);
		ASSERT_EQ(0, ksmg_rmmod())
			TH_LOG("cycle %u: rmmod right after close: %s", cycle,
			       strerror(errno));
		for (i = 1; i < 8; i += 2)
			kill(self->w[i].pid, SIGKILL);
		ksmg_nl_close(&nl);
		ASSERT_EQ(0, ksmg_insmod(self->module, self->params))
			TH_LOG("cycle %u: insmod: %s", cycle, strerror(errno));
	}
}

TEST_HARNESS_MAIN
