// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loadgen: latency samples and the report. Every sample is kept (8 bytes
 * each; a 60 s run at 20,000 commands/s is 10 MB), so the percentiles are
 * exact order statistics, not histogram estimates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "loadgen.h"

const char *const lg_cmd_names[LG_C_COUNT] = {
	[LG_C_FETCH] = "fetch", [LG_C_STORE] = "store",
	[LG_C_EXPUNGE] = "expunge", [LG_C_APPEND] = "append",
	[LG_C_SEARCH] = "search", [LG_C_NOOP] = "noop",
	[LG_C_LOGOUT] = "logout", [LG_C_CONNECT] = "connect",
	[LG_C_LOGIN] = "login", [LG_C_SELECT] = "select", [LG_C_IDLE] = "idle",
};

const char *const lg_err_names[LG_E_COUNT] = {
	[LG_E_PROTOCOL] = "protocol", [LG_E_NO] = "no", [LG_E_BAD] = "bad",
	[LG_E_CLOSED] = "closed", [LG_E_TIMEOUT] = "timeout",
	[LG_E_CONNECT] = "connect",
};

void lg_record(struct lg_run *run, enum lg_cmd cmd, uint64_t ns)
{
	struct lg_samples *s = &run->lat[cmd];

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *n = realloc(s->ns, cap * sizeof(*n));

		/* losing samples under memory pressure beats dying */
		if (n == NULL)
			return;
		s->ns = n;
		s->cap = cap;
	}
	s->ns[s->n++] = ns;
}

static int lg_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted samples */
static double lg_pct_ms(const struct lg_samples *s, double p)
{
	size_t k = (size_t)(p * s->n + 0.999999);

	if (k == 0)
		k = 1;
	if (k > s->n)
		k = s->n;
	return s->ns[k - 1] / 1e6;
}

static double lg_cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t lg_errors(const struct lg_run *run)
{
	uint64_t n = 0;

	for (int i = 0; i < LG_E_COUNT; i++)
		n += run->errors[i];
	return n;
}

void lg_report(struct lg_run *run)
{
	double secs = run->measuring ?
		((run->t_end < lg_now() ? run->t_end : lg_now()) - run->t_measure) / 1e9 : 0;

	if (run->o.idle) {
		printf("summary mode=idle connections=%u ready=%u dead=%u errors=%llu",
		       run->o.clients, run->ready, run->dead,
		       (unsigned long long)lg_errors(run));
	} else {
		printf("summary mode=load clients=%u secs=%.3f commands=%llu cps=%.1f "
		       "errors=%llu races=%llu reconnects=%llu", run->o.clients, secs,
		       (unsigned long long)run->commands,
		       secs > 0 ? run->commands / secs : 0.0,
		       (unsigned long long)lg_errors(run),
		       (unsigned long long)run->races,
		       (unsigned long long)run->reconnects);
	}
	for (int i = 0; i < LG_E_COUNT; i++)
		printf(" errors_%s=%llu", lg_err_names[i],
		       (unsigned long long)run->errors[i]);
	printf(" tags_sent=%llu tags_checked=%llu",
	       (unsigned long long)run->tags_sent,
	       (unsigned long long)run->tags_checked);
	if (!run->o.idle)
		printf(" appended=%llu expunged=%llu",
		       (unsigned long long)run->appended,
		       (unsigned long long)run->expunged);
	if (run->have_cpu && !run->o.idle)
		printf(" server_cpu_s=%.2f server_util=%.3f server_procs=%u",
		       run->cpu1.secs - run->cpu0.secs,
		       secs > 0 ? (run->cpu1.secs - run->cpu0.secs) / secs : 0.0,
		       run->cpu1.procs);
	printf(" loadgen_cpu_s=%.2f\n", lg_cpu_self());
	for (int i = 0; i < LG_C_COUNT; i++) {
		struct lg_samples *s = &run->lat[i];
		double sum = 0;

		if (s->n == 0)
			continue;
		qsort(s->ns, s->n, sizeof(*s->ns), lg_cmp_u64);
		for (size_t j = 0; j < s->n; j++)
			sum += s->ns[j];
		printf("cmd name=%s n=%zu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
		       "mean_ms=%.3f max_ms=%.3f\n", lg_cmd_names[i], s->n,
		       lg_pct_ms(s, 0.50), lg_pct_ms(s, 0.90), lg_pct_ms(s, 0.99),
		       sum / s->n / 1e6, s->ns[s->n - 1] / 1e6);
	}
	fflush(stdout);
}
