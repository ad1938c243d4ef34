// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ioctl contract of /dev/ksmgroup, in the style of iommufd's selftest:
 * every ioctl's length sweep, flags, reserved fields, bad pointers,
 * unknown numbers, and the validation of names, policies and pids.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "ksmg_harness.h"

/* How far past the struct the length sweep goes. */
#define KSMG_TAIL	24

FIXTURE(uapi) {
	struct ksmg_base b;
	struct ksmg_worker *w;
	uint8_t *buf;		/* 2 pages read-write, then a PROT_NONE page */
	size_t page;
};

FIXTURE_SETUP(uapi)
{
	KSMG_SKIP_WITHOUT_MODULE();
	ksmg_base_setup(_metadata, &self->b);
	self->w = ksmg_spawn_pages(_metadata, &self->b, 4, 1);
	self->page = (size_t)ksmg_page_size();
	self->buf = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, mprotect(self->buf + 2 * self->page, self->page,
			      PROT_NONE));
}

FIXTURE_TEARDOWN(uapi)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, 3 * self->page);
	ksmg_base_teardown(_metadata, &self->b);
}

/*
 * One ioctl's well-formed command, and what resets the group's state
 * around it so that the command succeeds every time it is repeated.
 */
struct ksmg_len_case {
	unsigned long ioc;
	const char *name;
	const void *valid;
	size_t size;
	int (*prepare)(int fd, pid_t pid);	/* before each try */
	int (*undo)(int fd, pid_t pid);		/* after each success */
};

static int ksmg_ensure_member(int fd, pid_t pid)
{
	if (ksmg_add(fd, pid) && errno != EEXIST)
		return -1;
	return 0;
}

/* Issue @c's command with size @sz from a copy at @at. */
static int ksmg_len_try(const struct ksmg_len_case *c, int fd, pid_t pid,
			uint8_t *at, uint32_t sz)
{
	memcpy(at, c->valid, c->size);
	memcpy(at, &sz, sizeof(sz));
	if (c->prepare && c->prepare(fd, pid))
		return -2;
	return ioctl(fd, c->ioc, at);
}

static void ksmg_length_sweep(struct __test_metadata *_metadata,
			      FIXTURE_DATA(uapi) *self,
			      const struct ksmg_len_case *c)
{
	int fd = self->b.fd;
	pid_t pid = self->w->pid;
	uint8_t *at = self->buf;
	uint32_t sz;

	memset(self->buf, 0, 2 * self->page);
	/* Below the first published size: EINVAL, whatever the bytes. */
	for (sz = 0; sz < c->size; sz++) {
		EXPECT_ERRNO(EINVAL, ksmg_len_try(c, fd, pid, at, sz))
			TH_LOG("%s with size %u", c->name, sz);
	}
	for (sz = (uint32_t)c->size; sz <= c->size + KSMG_TAIL; sz++) {
		/* A longer struct with a zero tail is the same command. */
		memset(at + c->size, 0, KSMG_TAIL + 1);
		EXPECT_EQ(0, ksmg_len_try(c, fd, pid, at, sz))
			TH_LOG("%s with size %u and a zero tail: %s", c->name,
			       sz, strerror(errno));
		if (c->undo)
			ASSERT_EQ(0, c->undo(fd, pid));
		if (sz == c->size)
			continue;
		/* A non-zero byte the kernel does not know: E2BIG. */
		at[sz - 1] = 0xff;
		memcpy(at, c->valid, c->size);
		memcpy(at, &sz, sizeof(sz));
		if (c->prepare)
			ASSERT_EQ(0, c->prepare(fd, pid));
		EXPECT_ERRNO(E2BIG, ioctl(fd, c->ioc, at))
			TH_LOG("%s with size %u and byte %u set", c->name, sz,
			       sz - 1);
		at[sz - 1] = 0;
	}
	/* A page-sized struct with a zero tail still works. */
	sz = (uint32_t)self->page;
	memset(at, 0, 2 * self->page);
	EXPECT_EQ(0, ksmg_len_try(c, fd, pid, at, sz))
		TH_LOG("%s with size %u: %s", c->name, sz, strerror(errno));
	if (c->undo)
		ASSERT_EQ(0, c->undo(fd, pid));
	/* ... and one non-zero byte at its very end is E2BIG. */
	at[sz - 1] = 1;
	if (c->prepare)
		ASSERT_EQ(0, c->prepare(fd, pid));
	memcpy(at, c->valid, c->size);
	memcpy(at, &sz, sizeof(sz));
	EXPECT_ERRNO(E2BIG, ioctl(fd, c->ioc, at));
}

TEST_F(uapi, get_info_length_sweep)
{
	struct ksmg_info cmd = { 0 };
	struct ksmg_len_case c = { KSMG_IOC_GET_INFO, "GET_INFO", &cmd,
				   sizeof(cmd), NULL, NULL };

	ksmg_length_sweep(_metadata, self, &c);
}

TEST_F(uapi, set_name_length_sweep)
{
	struct ksmg_name_cmd cmd = { .name = "length-sweep" };
	struct ksmg_len_case c = { KSMG_IOC_SET_NAME, "SET_NAME", &cmd,
				   sizeof(cmd), NULL, NULL };

	ksmg_length_sweep(_metadata, self, &c);
}

TEST_F(uapi, set_policy_length_sweep)
{
	struct ksmg_policy_cmd cmd = { .policy = KSMG_POLICY_ANON };
	struct ksmg_len_case c = { KSMG_IOC_SET_POLICY, "SET_POLICY", &cmd,
				   sizeof(cmd), NULL, NULL };

	ksmg_length_sweep(_metadata, self, &c);
}

TEST_F(uapi, add_member_length_sweep)
{
	struct ksmg_member_cmd cmd = { .pid = self->w->pid };
	struct ksmg_len_case c = { KSMG_IOC_ADD_MEMBER, "ADD_MEMBER", &cmd,
				   sizeof(cmd), NULL, ksmg_remove };
	struct ksmg_stats st;

	ksmg_length_sweep(_metadata, self, &c);
	/* Only the well-formed tries added it, and each was undone. */
	ASSERT_EQ(0, ksmg_get_stats(self->b.fd, &st));
	EXPECT_EQ(0, st.members);
	EXPECT_EQ(KSMG_TAIL + 2, st.members_joined);
}

TEST_F(uapi, remove_member_length_sweep)
{
	struct ksmg_member_cmd cmd = { .pid = self->w->pid };
	struct ksmg_len_case c = { KSMG_IOC_REMOVE_MEMBER, "REMOVE_MEMBER",
				   &cmd, sizeof(cmd), ksmg_ensure_member,
				   NULL };

	ksmg_length_sweep(_metadata, self, &c);
}

TEST_F(uapi, get_stats_length_sweep)
{
	struct ksmg_stats cmd = { 0 };
	struct ksmg_len_case c = { KSMG_IOC_GET_STATS, "GET_STATS", &cmd,
				   sizeof(cmd), NULL, NULL };

	ksmg_length_sweep(_metadata, self, &c);
}

TEST_F(uapi, list_members_length_sweep)
{
	struct ksmg_list_cmd cmd = { .count = 0, .pids = 0 };
	struct ksmg_len_case c = { KSMG_IOC_LIST_MEMBERS, "LIST_MEMBERS",
				   &cmd, sizeof(cmd), NULL, NULL };

	ksmg_length_sweep(_metadata, self, &c);
}

TEST_F(uapi, sweep_length_sweep)
{
	struct ksmg_sweep_cmd cmd = { 0 };
	struct ksmg_len_case c = { KSMG_IOC_SWEEP, "SWEEP", &cmd, sizeof(cmd),
				   NULL, NULL };

	ksmg_length_sweep(_metadata, self, &c);
}

/* Every ioctl, with its size, and where its flags and __reserved live. */
static const struct {
	unsigned long ioc;
	const char *name;
	size_t size;
	size_t reserved;	/* offset of __reserved, 0 when it has none */
} ksmg_ioctls[] = {
	{ KSMG_IOC_GET_INFO, "GET_INFO", sizeof(struct ksmg_info), 0 },
	{ KSMG_IOC_SET_NAME, "SET_NAME", sizeof(struct ksmg_name_cmd), 0 },
	{ KSMG_IOC_SET_POLICY, "SET_POLICY", sizeof(struct ksmg_policy_cmd),
	  offsetof(struct ksmg_policy_cmd, __reserved) },
	{ KSMG_IOC_ADD_MEMBER, "ADD_MEMBER", sizeof(struct ksmg_member_cmd),
	  offsetof(struct ksmg_member_cmd, __reserved) },
	{ KSMG_IOC_REMOVE_MEMBER, "REMOVE_MEMBER",
	  sizeof(struct ksmg_member_cmd),
	  offsetof(struct ksmg_member_cmd, __reserved) },
	{ KSMG_IOC_GET_STATS, "GET_STATS", sizeof(struct ksmg_stats), 0 },
	{ KSMG_IOC_LIST_MEMBERS, "LIST_MEMBERS", sizeof(struct ksmg_list_cmd),
	  offsetof(struct ksmg_list_cmd, __reserved) },
	{ KSMG_IOC_SWEEP, "SWEEP", sizeof(struct ksmg_sweep_cmd),
	  offsetof(struct ksmg_sweep_cmd, __reserved) },
};

/*
 * A command for ksmg_ioctls[i] that would succeed, in @buf: ADD names
 * @stranger (not a member), REMOVE names @member, so that the one thing
 * wrong with the command is what the test breaks.
 */
static void ksmg_valid_cmd(unsigned int i, void *buf, pid_t member,
			   pid_t stranger)
{
	memset(buf, 0, ksmg_ioctls[i].size);
	*(uint32_t *)buf = (uint32_t)ksmg_ioctls[i].size;
	switch (ksmg_ioctls[i].ioc) {
	case KSMG_IOC_SET_NAME:
		strcpy(((struct ksmg_name_cmd *)buf)->name, "valid");
		break;
	case KSMG_IOC_SET_POLICY:
		((struct ksmg_policy_cmd *)buf)->policy = KSMG_POLICY_ANON;
		break;
	case KSMG_IOC_ADD_MEMBER:
		((struct ksmg_member_cmd *)buf)->pid = stranger;
		break;
	case KSMG_IOC_REMOVE_MEMBER:
		((struct ksmg_member_cmd *)buf)->pid = member;
		break;
	}
}

TEST_F(uapi, unknown_flags_rejected)
{
	struct ksmg_worker *w2 = ksmg_spawn_pages(_metadata, &self->b, 1, 2);
	uint8_t cmd[128];
	unsigned int i, bit;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	for (i = 0; i < KSMG_ARRAY_SIZE(ksmg_ioctls); i++) {
		for (bit = 0; bit < 32; bit++) {
			uint32_t flags = 1U << bit;

			ksmg_valid_cmd(i, cmd, self->w->pid, w2->pid);
			memcpy(cmd + 4, &flags, sizeof(flags));
			EXPECT_ERRNO(EINVAL, ioctl(self->b.fd,
						   ksmg_ioctls[i].ioc, cmd))
				TH_LOG("%s with flags %#x", ksmg_ioctls[i].name,
				       flags);
		}
	}
	/* None of those did anything: the worker is still the one member. */
	EXPECT_EQ(1, ksmg_members_of(self->b.id));
	EXPECT_TRUE(ksmg_list_has(self->b.fd, self->w->pid));
}

TEST_F(uapi, nonzero_reserved_rejected)
{
	static const uint32_t values[] = { 1, 0x80000000u, 0xffffffffu };
	struct ksmg_worker *w2 = ksmg_spawn_pages(_metadata, &self->b, 1, 2);
	uint8_t cmd[128];
	unsigned int i, v;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	for (i = 0; i < KSMG_ARRAY_SIZE(ksmg_ioctls); i++) {
		if (!ksmg_ioctls[i].reserved)
			continue;
		for (v = 0; v < KSMG_ARRAY_SIZE(values); v++) {
			ksmg_valid_cmd(i, cmd, self->w->pid, w2->pid);
			memcpy(cmd + ksmg_ioctls[i].reserved, &values[v],
			       sizeof(values[v]));
			EXPECT_ERRNO(EINVAL, ioctl(self->b.fd,
						   ksmg_ioctls[i].ioc, cmd))
				TH_LOG("%s with __reserved %#x",
				       ksmg_ioctls[i].name, values[v]);
		}
	}
	EXPECT_EQ(1, ksmg_members_of(self->b.id));
	EXPECT_TRUE(ksmg_list_has(self->b.fd, self->w->pid));
}

TEST_F(uapi, unknown_ioctl_is_enotty)
{
	struct ksmg_info info = { .size = sizeof(info) };
	static const unsigned long bad[] = {
		_IO(KSMG_TYPE, 0),
		_IO(KSMG_TYPE, KSMG_CMD_BASE - 1),
		_IO(KSMG_TYPE, KSMG_CMD_SWEEP + 1),
		_IO(KSMG_TYPE, 0xff),
		_IO(KSMG_TYPE + 1, KSMG_CMD_GET_INFO),
		/* The right number with a direction and size is another one. */
		_IOR(KSMG_TYPE, KSMG_CMD_GET_INFO, struct ksmg_info),
		_IOWR(KSMG_TYPE, KSMG_CMD_GET_INFO, struct ksmg_info),
		_IOW(KSMG_TYPE, KSMG_CMD_ADD_MEMBER, struct ksmg_member_cmd),
		0x5401,	/* TCGETS */
	};
	unsigned int i;

	for (i = 0; i < KSMG_ARRAY_SIZE(bad); i++) {
		EXPECT_ERRNO(ENOTTY, ioctl(self->b.fd, bad[i], &info))
			TH_LOG("ioctl %#lx", bad[i]);
	}
}

TEST_F(uapi, bad_pointer_is_efault)
{
	uint8_t *none = self->buf + 2 * self->page;
	unsigned int i;

	for (i = 0; i < KSMG_ARRAY_SIZE(ksmg_ioctls); i++) {
		EXPECT_ERRNO(EFAULT, ioctl(self->b.fd, ksmg_ioctls[i].ioc,
					   NULL))
			TH_LOG("%s with a NULL argument", ksmg_ioctls[i].name);
		EXPECT_ERRNO(EFAULT, ioctl(self->b.fd, ksmg_ioctls[i].ioc,
					   none))
			TH_LOG("%s on a PROT_NONE page", ksmg_ioctls[i].name);
	}
}

/* A struct whose declared tail runs into a PROT_NONE page. */
TEST_F(uapi, tail_beyond_mapping_is_efault)
{
	uint8_t *none = self->buf + 2 * self->page;
	unsigned int i;

	for (i = 0; i < KSMG_ARRAY_SIZE(ksmg_ioctls); i++) {
		uint8_t *at = none - ksmg_ioctls[i].size;
		uint32_t sz = (uint32_t)ksmg_ioctls[i].size + 8;

		ksmg_valid_cmd(i, at, self->w->pid, self->w->pid);
		memcpy(at, &sz, sizeof(sz));
		EXPECT_ERRNO(EFAULT, ioctl(self->b.fd, ksmg_ioctls[i].ioc, at))
			TH_LOG("%s ending at a PROT_NONE page",
			       ksmg_ioctls[i].name);
	}
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
}

/* Commands that write results back fail with EFAULT on read-only memory. */
TEST_F(uapi, readonly_output_is_efault)
{
	static const unsigned long out[] = {
		KSMG_IOC_GET_INFO, KSMG_IOC_GET_STATS, KSMG_IOC_LIST_MEMBERS,
		KSMG_IOC_SWEEP,
	};
	unsigned int i, j;

	for (i = 0; i < KSMG_ARRAY_SIZE(out); i++) {
		for (j = 0; ksmg_ioctls[j].ioc != out[i]; j++)
			;
		ASSERT_EQ(0, mprotect(self->buf, self->page,
				      PROT_READ | PROT_WRITE));
		ksmg_valid_cmd(j, self->buf, self->w->pid, self->w->pid);
		ASSERT_EQ(0, mprotect(self->buf, self->page, PROT_READ));
		EXPECT_ERRNO(EFAULT, ioctl(self->b.fd, out[i], self->buf))
			TH_LOG("%s into a read-only page", ksmg_ioctls[j].name);
	}
	ASSERT_EQ(0, mprotect(self->buf, self->page, PROT_READ | PROT_WRITE));
}

/* Output goes no further than the size the caller gave. */
TEST_F(uapi, output_stops_at_size)
{
	static const unsigned long out[] = {
		KSMG_IOC_GET_INFO, KSMG_IOC_GET_STATS, KSMG_IOC_LIST_MEMBERS,
		KSMG_IOC_SWEEP,
	};
	unsigned int i, j, k;

	for (i = 0; i < KSMG_ARRAY_SIZE(out); i++) {
		size_t size;

		for (j = 0; ksmg_ioctls[j].ioc != out[i]; j++)
			;
		size = ksmg_ioctls[j].size;
		/* size as published: the bytes after the struct stay put. */
		memset(self->buf, 0xa5, 2 * size + 16);
		ksmg_valid_cmd(j, self->buf, self->w->pid, self->w->pid);
		memset(self->buf + size, 0xa5, 16);
		EXPECT_EQ(0, ioctl(self->b.fd, out[i], self->buf));
		for (k = 0; k < 16; k++) {
			EXPECT_EQ(0xa5, self->buf[size + k])
				TH_LOG("%s wrote byte %zu past its size",
				       ksmg_ioctls[j].name, size + k);
		}
		/* A longer struct: its zero tail is not filled with junk. */
		ksmg_valid_cmd(j, self->buf, self->w->pid, self->w->pid);
		*(uint32_t *)self->buf = (uint32_t)size + 16;
		memset(self->buf + size, 0, 16);
		EXPECT_EQ(0, ioctl(self->b.fd, out[i], self->buf));
		for (k = 0; k < 16; k++)
			EXPECT_EQ(0, self->buf[size + k]);
	}
}

TEST_F(uapi, get_info_reports_version_and_limits)
{
	struct ksmg_info *info = &self->b.info;

	EXPECT_EQ(KSMG_API_VERSION, info->api_version);
	EXPECT_EQ(sizeof(*info), info->size);
	EXPECT_EQ(0, info->flags);
	EXPECT_TRUE(info->policies & KSMG_POLICY_ANON);
	EXPECT_EQ(0, info->policies &
		  ~(uint64_t)(KSMG_POLICY_ANON | KSMG_POLICY_FILE_PRIVATE));
	EXPECT_LT(0, info->sweep_ms_min);
	EXPECT_LE(info->sweep_ms_min, info->sweep_ms_max);
	/* The id names the group's sysfs directory. */
	EXPECT_TRUE(ksmg_group_exists(info->group_id));
}

TEST_F(uapi, get_info_features_match_kernel)
{
	uint64_t f = self->b.info.features;

	EXPECT_EQ(ksmg_kernel_at_least(6, 10),
		  !!(f & KSMG_FEATURE_ZERO_PAGES));
	EXPECT_EQ(ksmg_kernel_at_least(6, 4),
		  !!(f & KSMG_FEATURE_PRCTL_MERGE));
	EXPECT_EQ(ksmg_kernel_at_least(6, 7),
		  !!(f & KSMG_FEATURE_PROCESS_PROFIT));
	EXPECT_EQ(0, f & ~(uint64_t)(KSMG_FEATURE_ZERO_PAGES |
				     KSMG_FEATURE_PRCTL_MERGE |
				     KSMG_FEATURE_PROCESS_PROFIT));
}

TEST_F(uapi, every_open_is_a_new_group)
{
	uint64_t before, during, after;
	uint32_t id1, id2;
	int fd1, fd2;

	ASSERT_EQ(0, ksmg_global_u64("groups", &before));
	fd1 = ksmg_open();
	ASSERT_LE(0, fd1);
	fd2 = ksmg_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ksmg_group_id(fd1, &id1));
	ASSERT_EQ(0, ksmg_group_id(fd2, &id2));
	EXPECT_NE(id1, id2);
	EXPECT_NE(self->b.id, id1);
	EXPECT_NE(self->b.id, id2);
	ASSERT_EQ(0, ksmg_global_u64("groups", &during));
	EXPECT_EQ(before + 2, during);
	EXPECT_TRUE(ksmg_group_exists(id1));
	EXPECT_TRUE(ksmg_group_exists(id2));
	close(fd1);
	close(fd2);
	ASSERT_EQ(0, ksmg_global_u64("groups", &after));
	EXPECT_EQ(before, after);
	EXPECT_FALSE(ksmg_group_exists(id1));
	EXPECT_FALSE(ksmg_group_exists(id2));
}

static int ksmg_set_raw_name(int fd, const char name[KSMG_NAME_MAX])
{
	struct ksmg_name_cmd cmd = { .size = sizeof(cmd) };

	memcpy(cmd.name, name, KSMG_NAME_MAX);
	return ioctl(fd, KSMG_IOC_SET_NAME, &cmd);
}

TEST_F(uapi, valid_names_accepted_and_shown)
{
	static const char *const names[] = {
		"imap-workers", "a", "!\"#$%&'()*+,-.0123456789:;<=>?@",
		"ABCXYZ[\\]^_`abcxyz{|}~",
		"0123456789012345678901234567890",	/* 31, the longest */
	};
	char shown[64];
	unsigned int i;

	for (i = 0; i < KSMG_ARRAY_SIZE(names); i++) {
		ASSERT_EQ(0, ksmg_set_name(self->b.fd, names[i]))
			TH_LOG("name \"%s\": %s", names[i], strerror(errno));
		ASSERT_EQ(0, ksmg_group_str(self->b.id, "name", shown,
					    sizeof(shown)));
		EXPECT_STREQ(names[i], shown);
	}
}

TEST_F(uapi, invalid_names_rejected)
{
	static const struct {
		char why[24];
		char name[KSMG_NAME_MAX];
	} bad[] = {
		{ "empty", "" },
		{ "space", "two words" },
		{ "slash", "a/b" },
		{ "tab", "a\tb" },
		{ "newline", "a\n" },
		{ "control", "\x01" },
		{ "DEL", "a\x7f" },
		{ "8-bit", "caf\xc3\xa9" },
		{ "bytes after the NUL", "ab\0cd" },
		{ "no NUL", "0123456789012345678901234567890X" },
	};
	char shown[64];
	unsigned int i;

	ASSERT_EQ(0, ksmg_set_name(self->b.fd, "kept"));
	for (i = 0; i < KSMG_ARRAY_SIZE(bad); i++) {
		EXPECT_ERRNO(EINVAL, ksmg_set_raw_name(self->b.fd, bad[i].name))
			TH_LOG("name with %s accepted", bad[i].why);
	}
	/* The rejected names left the group's name alone. */
	ASSERT_EQ(0, ksmg_group_str(self->b.id, "name", shown, sizeof(shown)));
	EXPECT_STREQ("kept", shown);
}

TEST_F(uapi, policy_bits_validated)
{
	char shown[64];
	unsigned int bit;

	for (bit = 2; bit < 64; bit++) {
		EXPECT_ERRNO(EINVAL, ksmg_set_policy(self->b.fd,
						     KSMG_POLICY_ANON | 1ULL << bit, 0))
			TH_LOG("policy bit %u accepted", bit);
	}
	ASSERT_EQ(0, ksmg_group_str(self->b.id, "policy", shown,
				    sizeof(shown)));
	EXPECT_STREQ("anon", shown);

	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON |
				     KSMG_POLICY_FILE_PRIVATE, 0));
	ASSERT_EQ(0, ksmg_group_str(self->b.id, "policy", shown,
				    sizeof(shown)));
	EXPECT_STREQ("anon file_private", shown);

	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, 0));
	ASSERT_EQ(0, ksmg_group_str(self->b.id, "policy", shown,
				    sizeof(shown)));
	EXPECT_STREQ("anon", shown);
}

TEST_F(uapi, policy_sweep_ms_range_validated)
{
	uint32_t min = self->b.info.sweep_ms_min, max = self->b.info.sweep_ms_max;
	uint64_t shown;

	EXPECT_ERRNO(EINVAL, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON,
					     min - 1));
	EXPECT_ERRNO(EINVAL, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON,
					     max + 1));
	EXPECT_ERRNO(EINVAL, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON,
					     UINT32_MAX));
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, min));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweep_ms", &shown));
	EXPECT_EQ(min, shown);
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, max));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweep_ms", &shown));
	EXPECT_EQ(max, shown);
	/* A rejected value left the last good one in place. */
	EXPECT_ERRNO(EINVAL, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON,
					     max + 1));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweep_ms", &shown));
	EXPECT_EQ(max, shown);
	/* 0 goes back to the module's default. */
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, 0));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweep_ms", &shown));
	EXPECT_EQ(ksmg_default_sweep_ms(), shown);
}

TEST_F(uapi, nonpositive_pid_rejected)
{
	static const pid_t bad[] = { 0, -1, INT32_MIN };
	unsigned int i;

	for (i = 0; i < KSMG_ARRAY_SIZE(bad); i++) {
		EXPECT_ERRNO(EINVAL, ksmg_add(self->b.fd, bad[i]))
			TH_LOG("ADD_MEMBER pid %d", bad[i]);
		EXPECT_ERRNO(EINVAL, ksmg_remove(self->b.fd, bad[i]))
			TH_LOG("REMOVE_MEMBER pid %d", bad[i]);
	}
	EXPECT_EQ(0, ksmg_members_of(self->b.id));
}

TEST_F(uapi, list_members_count_semantics)
{
	struct ksmg_worker *w2 = ksmg_spawn_pages(_metadata, &self->b, 1, 2);
	struct ksmg_worker *w3 = ksmg_spawn_pages(_metadata, &self->b, 1, 3);
	pid_t want[3] = { self->w->pid, w2->pid, w3->pid };
	int32_t pids[8];
	uint32_t n;
	unsigned int i, j, found;

	/* No room: just the count, nothing written. */
	ASSERT_EQ(0, ksmg_list(self->b.fd, NULL, 0, &n));
	EXPECT_EQ(0, n);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ksmg_add(self->b.fd, want[i]));
	ASSERT_EQ(0, ksmg_list(self->b.fd, NULL, 0, &n));
	EXPECT_EQ(3, n);

	/* Room for one: one entry written, the count says three. */
	for (i = 0; i < 8; i++)
		pids[i] = -7;
	ASSERT_EQ(0, ksmg_list(self->b.fd, pids, 1, &n));
	EXPECT_EQ(3, n);
	EXPECT_TRUE(pids[0] == want[0] || pids[0] == want[1] ||
		    pids[0] == want[2]);
	for (i = 1; i < 8; i++)
		EXPECT_EQ(-7, pids[i]);

	/* Room to spare: all three, once each, nothing after them. */
	for (i = 0; i < 8; i++)
		pids[i] = -7;
	ASSERT_EQ(0, ksmg_list(self->b.fd, pids, 6, &n));
	EXPECT_EQ(3, n);
	for (i = 0; i < 3; i++) {
		for (found = 0, j = 0; j < 3; j++)
			found += pids[j] == want[i];
		EXPECT_EQ(1, found) TH_LOG("pid %d listed %u times", want[i],
					   found);
	}
	for (i = 3; i < 8; i++)
		EXPECT_EQ(-7, pids[i]);

	/* A bad array with entries to write is EFAULT. */
	EXPECT_ERRNO(EFAULT, ksmg_list(self->b.fd,
				       (int32_t *)(self->buf + 2 * self->page),
				       4, &n));
}

/* count is only room: a huge one with few members must still work. */
TEST_F(uapi, list_members_huge_count)
{
	int32_t pids[4] = { -7, -7, -7, -7 };
	uint32_t n;

	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_list(self->b.fd, pids, UINT32_MAX, &n));
	EXPECT_EQ(1, n);
	EXPECT_EQ(self->w->pid, pids[0]);
	EXPECT_EQ(-7, pids[1]);
}

TEST_F(uapi, get_stats_counts_members)
{
	struct ksmg_worker *w2 = ksmg_spawn_pages(_metadata, &self->b, 1, 2);
	struct ksmg_stats st;

	ASSERT_EQ(0, ksmg_get_stats(self->b.fd, &st));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(0, st.members);
	EXPECT_EQ(0, st.members_joined);
	EXPECT_TRUE(st.state == KSMG_STATE_SETTLING ||
		    st.state == KSMG_STATE_CONVERGED);
	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_add(self->b.fd, w2->pid));
	ASSERT_EQ(0, ksmg_get_stats(self->b.fd, &st));
	EXPECT_EQ(2, st.members);
	EXPECT_EQ(2, st.members_joined);
	EXPECT_EQ(0, st.members_exited);
	/* ADD marked at least the worker's 4-page mapping. */
	EXPECT_LE(1, st.vmas_marked);
	EXPECT_EQ(KSMG_STATE_SETTLING, st.state);
	ASSERT_EQ(0, ksmg_remove(self->b.fd, w2->pid));
	ASSERT_EQ(0, ksmg_get_stats(self->b.fd, &st));
	EXPECT_EQ(1, st.members);
	EXPECT_EQ(2, st.members_joined);
	/* Removed is not exited. */
	EXPECT_EQ(0, st.members_exited);
}

TEST_F(uapi, sweep_marks_new_mappings_now)
{
	uint32_t max = self->b.info.sweep_ms_max, marked = 0;
	uint64_t sweeps0, sweeps1;
	uintptr_t addr;

	/* Periodic sweeps out of the way: the one SET_POLICY kicks, then none. */
	ASSERT_EQ(0, ksmg_add(self->b.fd, self->w->pid));
	ASSERT_EQ(0, ksmg_set_policy(self->b.fd, KSMG_POLICY_ANON, max));
	ksmg_sleep_ms(500);
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweeps", &sweeps0));

	ASSERT_EQ(0, ksmg_worker_map(self->w, KSMG_MAP_ANON, 8, 5, &addr));
	ASSERT_EQ(0, ksmg_sweep(self->b.fd, &marked));
	EXPECT_LE(1, marked);
	EXPECT_EQ(1, ksmg_vma_has_flag(self->w->pid, addr, "mg"));
	ASSERT_EQ(0, ksmg_group_u64(self->b.id, "sweeps", &sweeps1));
	EXPECT_EQ(sweeps0 + 1, sweeps1);
	/* Nothing new since: the next sweep marks nothing. */
	ASSERT_EQ(0, ksmg_sweep(self->b.fd, &marked));
	EXPECT_EQ(0, marked);
}

TEST_HARNESS_MAIN
