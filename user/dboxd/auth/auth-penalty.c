// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Growing delays after failed logins, per client address: the first
 * failure waits auth_failure_delay, each further one twice as long, up to
 * auth_failure_delay_max. An address with no failure for 15 minutes starts
 * again from the bottom. The table is bounded: when it is full it is
 * cleared (an attacker with that many addresses gains one short delay).
 */
#include <stdint.h>
#include <stdlib.h>

#include "auth.h"
#include "hash.h"
#include "log.h"
#include "loop.h"

#define PENALTY_FORGET_MSECS	(15 * 60 * 1000)
#define PENALTY_MAX_ENTRIES	100000

struct penalty {
	unsigned int failures;
	uint64_t last_msecs;
};

static struct dboxd_hash *penalties;
static unsigned int base_delay, max_delay;

void auth_penalty_init(unsigned int base_msecs, unsigned int max_msecs)
{
	if (penalties == NULL)
		penalties = dboxd_hash_create();
	base_delay = base_msecs;
	max_delay = max_msecs;
}

static void penalty_clear(void)
{
	unsigned int count;
	void **values = dboxd_hash_values(penalties, &count);

	for (unsigned int i = 0; i < count; i++)
		free(values[i]);
	free(values);
	dboxd_hash_destroy(&penalties);
	penalties = dboxd_hash_create();
}

unsigned int auth_penalty_fail(const char *ip)
{
	struct penalty *p = dboxd_hash_get_str(penalties, ip);
	uint64_t now = dboxd_loop_now_msecs();
	uint64_t delay;

	if (p == NULL) {
		if (dboxd_hash_count(penalties) >= PENALTY_MAX_ENTRIES)
			penalty_clear();
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			dboxd_fatal("out of memory");
		dboxd_hash_set_str(penalties, ip, p);
	} else if (now - p->last_msecs > PENALTY_FORGET_MSECS) {
		p->failures = 0;
	}
	p->last_msecs = now;
	delay = base_delay;
	for (unsigned int i = 0; i < p->failures && delay < max_delay; i++)
		delay *= 2;
	if (p->failures < 64)
		p->failures++;
	return delay > max_delay ? max_delay : (unsigned int)delay;
}

void auth_penalty_reset(const char *ip)
{
	struct penalty *p = dboxd_hash_get_str(penalties, ip);

	if (p != NULL) {
		dboxd_hash_remove_str(penalties, ip);
		free(p);
	}
}
