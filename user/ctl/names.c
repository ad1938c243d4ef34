// SPDX-License-Identifier: GPL-2.0-or-later
/* Names of the uAPI's enums; see names.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/ksmgroup.h>

#include "names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const state_names[] = {
	[KSMG_STATE_SETTLING] = "settling",
	[KSMG_STATE_CONVERGED] = "converged",
};

static const char *const event_names[] = {
	[KSMG_EVENT_GROUP_CREATED] = "group_created",
	[KSMG_EVENT_GROUP_DESTROYED] = "group_destroyed",
	[KSMG_EVENT_MEMBER_JOINED] = "member_joined",
	[KSMG_EVENT_MEMBER_LEFT] = "member_left",
	[KSMG_EVENT_MEMBER_EXITED] = "member_exited",
	[KSMG_EVENT_GROUP_CONVERGED] = "group_converged",
	[KSMG_EVENT_GROUP_SETTLING] = "group_settling",
};

static const struct {
	uint64_t bit;
	const char *name;
} policy_names[] = {
	{ KSMG_POLICY_ANON, "anon" },
	{ KSMG_POLICY_FILE_PRIVATE, "file_private" },
};

const char *ksmg_state_name(uint32_t state)
{
	return state < ARRAY_SIZE(state_names) ? state_names[state] : NULL;
}

const char *ksmg_event_name(uint32_t event)
{
	return event < ARRAY_SIZE(event_names) ? event_names[event] : NULL;
}

static const char *policy_bit_name(uint64_t bit)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(policy_names); i++) {
		if (policy_names[i].bit == bit)
			return policy_names[i].name;
	}
	return NULL;
}

void ksmg_policy_foreach(uint64_t policy,
			 void (*fn)(const char *name, uint64_t bit, void *ctx),
			 void *ctx)
{
	unsigned int i;

	for (i = 0; i < 64; i++) {
		uint64_t bit = 1ULL << i;

		if (policy & bit)
			fn(policy_bit_name(bit), bit, ctx);
	}
}

struct format_ctx {
	char *buf;
	size_t size, used;
};

static void format_one(const char *name, uint64_t bit, void *arg)
{
	struct format_ctx *fc = arg;
	int n;

	if (fc->used >= fc->size)
		return;
	if (name != NULL)
		n = snprintf(fc->buf + fc->used, fc->size - fc->used, "%s%s",
			     fc->used > 0 ? "," : "", name);
	else
		n = snprintf(fc->buf + fc->used, fc->size - fc->used,
			     "%s0x%llx", fc->used > 0 ? "," : "",
			     (unsigned long long)bit);
	if (n > 0)
		fc->used += (size_t)n;
}

void ksmg_policy_format(uint64_t policy, char *buf, size_t size)
{
	struct format_ctx fc = { buf, size, 0 };

	if (size == 0)
		return;
	buf[0] = '\0';
	if (policy == 0) {
		snprintf(buf, size, "none");
		return;
	}
	ksmg_policy_foreach(policy, format_one, &fc);
}

int ksmg_policy_parse(const char *text, uint64_t *policy_r)
{
	const char *p = text, *end;
	uint64_t policy = 0;
	size_t i, len;

	while (*p != '\0') {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		/* "anon,,file_private" and "anon," are typos, not policies. */
		if (len == 0 || (end != NULL && end[1] == '\0')) {
			errno = EINVAL;
			return -1;
		}
		for (i = 0; i < ARRAY_SIZE(policy_names); i++) {
			if (strlen(policy_names[i].name) == len &&
			    strncmp(policy_names[i].name, p, len) == 0)
				break;
		}
		if (i == ARRAY_SIZE(policy_names)) {
			errno = EINVAL;
			return -1;
		}
		policy |= policy_names[i].bit;
		p += len;
		if (*p == ',')
			p++;
	}
	if (policy == 0) {
		errno = EINVAL;
		return -1;
	}
	*policy_r = policy;
	return 0;
}
