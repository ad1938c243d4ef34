// SPDX-License-Identifier: GPL-2.0-or-later
/* The ksmd governor; see governor.h and docs/ksmgroupd.md. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "governor.h"
#include "knobs.h"
#include "ksmd.h"
#include "log.h"

/*
 * Change per interval: ksmd's cost per page swings with what it finds
 * (checksums, tree walks, merges), and a change of rate shows in its CPU
 * time with a lag, so steps are bounded both ways.
 */
#define GROWTH_MAX	2.0
#define SHRINK_MAX	0.1
/* Aim below the budget so measurement noise does not cross it. */
#define HEADROOM	0.9
/* Over- or under-use since the busy period began is paid back over this. */
#define PAYBACK_S	2.0
/*
 * Full passes of ksmd over the mergeable memory worth having per interval.
 * A new page merges in the pass after the one that first saw it unchanged,
 * so one pass per interval already merges new memory within a few
 * intervals; passing over the same pages many times an interval (ksmd
 * completes at most one pass per wake-up, so at 10 ms it can do 100 a
 * second when there is little memory) only burns CPU.
 */
#define PASSES_PER_INTERVAL	1.0

struct ksmgd_governor {
	struct ksmgd_governor_conf conf;
	char *state_file;
	/* true while the knobs are ours and the admin's are in saved */
	bool active;
	struct ksmgd_knobs saved;
	pid_t ksmd;			/* 0: not found, budget unmeasurable */
	long clk_tck;
	/*
	 * The measurement window: ksmd's CPU ticks, its full_scans count
	 * (win_scans_ok false when unreadable) and the time it began.
	 */
	unsigned long long win_ticks;
	unsigned long win_scans;
	bool win_scans_ok;
	struct timespec win_start;
	bool busy;
	/* Since the busy period began: its length and ksmd's CPU in it. */
	double busy_s, busy_cpu_s;
	unsigned long busy_full_scans;	/* ksmd's full_scans when it began */
	double rate;			/* pages per second being applied */
	unsigned long pages, sleep_ms;	/* as last written, 0: never */
	bool write_failed;		/* warn once, not every interval */
};

static double budget(const struct ksmgd_governor *gov)
{
	return gov->conf.cpu_budget_pm / 1000.0;
}

static double idle_rate(const struct ksmgd_governor *gov)
{
	return gov->conf.pages_to_scan_min * 1000.0 /
	       gov->conf.sleep_millisecs_max;
}

static double max_rate(const struct ksmgd_governor *gov)
{
	return gov->conf.pages_to_scan_max * 1000.0 /
	       gov->conf.sleep_millisecs_min;
}

static double clamp(double value, double lo, double hi)
{
	return value < lo ? lo : value > hi ? hi : value;
}

/*
 * Spell a rate as pages_to_scan per sleep_millisecs: the shortest sleep
 * that still scans pages_to_scan_min per wakeup, so that ksmd works in
 * small, frequent steps (low latency for settling groups) and only then
 * in larger batches.
 */
static void rate_to_knobs(const struct ksmgd_governor *gov, double rate,
			  unsigned long *pages_r, unsigned long *sleep_r)
{
	const struct ksmgd_governor_conf *c = &gov->conf;
	double sleep_ms, pages;

	sleep_ms = clamp(round(c->pages_to_scan_min * 1000.0 / rate),
			 c->sleep_millisecs_min, c->sleep_millisecs_max);
	pages = clamp(round(rate * sleep_ms / 1000.0), c->pages_to_scan_min,
		      c->pages_to_scan_max);
	*pages_r = (unsigned long)pages;
	*sleep_r = (unsigned long)sleep_ms;
}

static void write_knob(struct ksmgd_governor *gov, const char *name,
		       unsigned long value)
{
	if (ksmgd_knob_write(name, value) == 0)
		return;
	if (!gov->write_failed)
		ksmgd_warning("cannot write %s/%s = %lu: %s", KSMGD_KSM_DIR,
			      name, value, strerror(errno));
	gov->write_failed = true;
}

static void apply_rate(struct ksmgd_governor *gov, double rate)
{
	unsigned long pages, sleep_ms;

	gov->rate = clamp(rate, idle_rate(gov), max_rate(gov));
	rate_to_knobs(gov, gov->rate, &pages, &sleep_ms);
	/*
	 * Lower the rate in the order that never passes through a higher
	 * one: when slowing, sleep longer first; when speeding up, sleep
	 * shorter last.
	 */
	if (sleep_ms > gov->sleep_ms)
		write_knob(gov, "sleep_millisecs", sleep_ms);
	if (pages != gov->pages)
		write_knob(gov, "pages_to_scan", pages);
	if (sleep_ms < gov->sleep_ms)
		write_knob(gov, "sleep_millisecs", sleep_ms);
	gov->pages = pages;
	gov->sleep_ms = sleep_ms;
}

static void window_start(struct ksmgd_governor *gov)
{
	clock_gettime(CLOCK_MONOTONIC, &gov->win_start);
	gov->win_scans_ok = ksmgd_knob_read("full_scans", &gov->win_scans) == 0;
	if (gov->ksmd != 0 &&
	    ksmgd_ksmd_cpu_ticks(gov->ksmd, &gov->win_ticks) < 0)
		gov->ksmd = 0;
}

/*
 * ksmd's share of one core since the window began; *resolution_r is the
 * smallest share one clock tick represents over the window. Returns 1
 * when the window is too young to say anything (below half an interval:
 * a slow netlink dump under load can make two timer ticks arrive almost
 * together), -1 when ksmd cannot be read.
 */
static int window_share(struct ksmgd_governor *gov, double *share_r,
			double *resolution_r, double *dt_r)
{
	unsigned long long ticks;
	struct timespec now;
	double dt;

	if (gov->ksmd == 0 || ksmgd_ksmd_cpu_ticks(gov->ksmd, &ticks) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - gov->win_start.tv_sec) +
	     (now.tv_nsec - gov->win_start.tv_nsec) / 1e9;
	if (dt < gov->conf.interval_ms / 2000.0)
		return 1;
	*share_r = (double)(ticks - gov->win_ticks) / gov->clk_tck / dt;
	*resolution_r = 1.0 / gov->clk_tck / dt;
	*dt_r = dt;
	return 0;
}

/*
 * The factor that brings ksmd down to PASSES_PER_INTERVAL full passes per
 * interval, or 0 when it is not passing faster than that. Only two or more
 * passes in the window count: full_scans is an integer, and one pass says
 * nothing about how much of the window it took.
 */
static double pass_ratio(const struct ksmgd_governor *gov, double dt)
{
	unsigned long scans;
	double wanted = PASSES_PER_INTERVAL * dt * 1000.0 / gov->conf.interval_ms;

	if (!gov->win_scans_ok || ksmgd_knob_read("full_scans", &scans) < 0 ||
	    scans < gov->win_scans + 2 || scans - gov->win_scans <= wanted)
		return 0;
	return wanted / (scans - gov->win_scans);
}

/*
 * The next busy rate from the last one and the share it cost: a
 * proportional step toward a target share, where the target is
 * HEADROOM * budget corrected by what the busy period has over- or
 * under-used so far (paid back over PAYBACK_S), so that the average over
 * the period, not only the last interval, stays under the budget. An
 * unmeasurably small share counts as one clock tick, so the step never
 * extrapolates from zero.
 *
 * The budget is a ceiling, not a goal: when ksmd already passes over all
 * the mergeable memory more than PASSES_PER_INTERVAL times an interval, a
 * higher rate would find nothing new, so the rate steps down to that pass
 * rate instead, and the period earns no credit for what it left unspent
 * (else a later burst of new memory would be scanned above the aim).
 */
static double next_rate(struct ksmgd_governor *gov, double share,
			double resolution, double dt)
{
	double aim = HEADROOM * budget(gov), target, ratio, passes;

	passes = pass_ratio(gov, dt);
	gov->busy_s += dt;
	gov->busy_cpu_s += share * dt;
	target = aim + (aim * gov->busy_s - gov->busy_cpu_s) / PAYBACK_S;
	target = clamp(target, 0.1 * aim, budget(gov));
	ratio = target / fmax(share, resolution);
	if (passes > 0 && passes < ratio) {
		ratio = passes;
		gov->busy_cpu_s = fmax(gov->busy_cpu_s, aim * gov->busy_s);
	}
	return gov->rate * clamp(ratio, SHRINK_MAX, GROWTH_MAX);
}

static void log_rate(const struct ksmgd_governor *gov, const char *why,
		     double share)
{
	ksmgd_info("governor: %s: pages_to_scan %lu, sleep_millisecs %lu (ksmd %.1f%% of a core, budget %.1f%%)",
		   why, gov->pages, gov->sleep_ms, share * 100,
		   budget(gov) * 100);
}

/*
 * The module calls a group converged when its figures stopped moving after
 * ksmd had been over it: a heuristic. ksmd itself confirms it once it has
 * finished two whole passes since the busy period began (a page merges in
 * the pass after the one that first saw it unchanged). Without a readable
 * full_scans, take the module's word.
 */
#define CONFIRM_FULL_SCANS	2

static bool ksmd_confirms(const struct ksmgd_governor *gov)
{
	unsigned long scans;

	if (ksmgd_knob_read("full_scans", &scans) < 0)
		return true;
	return scans >= gov->busy_full_scans + CONFIRM_FULL_SCANS;
}

/* Start a busy period: one growth step above idle, no debt yet. */
static void go_busy(struct ksmgd_governor *gov)
{
	gov->busy = true;
	gov->busy_s = 0;
	gov->busy_cpu_s = 0;
	if (ksmgd_knob_read("full_scans", &gov->busy_full_scans) < 0)
		gov->busy_full_scans = 0;
	apply_rate(gov, idle_rate(gov) * GROWTH_MAX);
}

void ksmgd_governor_tick(struct ksmgd_governor *gov, bool settling)
{
	double share = 0, resolution = 1, dt = 0;
	int measured;

	if (gov == NULL || !gov->active)
		return;
	if (!settling && gov->busy && !ksmd_confirms(gov))
		settling = true;	/* converged, but not by ksmd's count yet */
	measured = window_share(gov, &share, &resolution, &dt);
	if (measured > 0 && settling == gov->busy)
		return;		/* too soon: let the window grow */
	if (!settling || measured < 0) {
		/* Without a measurement the budget cannot be kept: idle. */
		if (gov->busy)
			ksmgd_info("governor: %s", settling ?
				   "cannot read ksmd's CPU time, staying idle" :
				   "every group has converged");
		gov->busy = false;
		apply_rate(gov, idle_rate(gov));
	} else if (!gov->busy) {
		go_busy(gov);
		log_rate(gov, "a group is settling", measured == 0 ? share : 0);
	} else {
		apply_rate(gov, next_rate(gov, share, resolution, dt));
		ksmgd_debug("governor: pages_to_scan %lu, sleep_millisecs %lu, ksmd %.1f%% (budget %.1f%%, %.1f%% over %.1f s busy)",
			    gov->pages, gov->sleep_ms, share * 100,
			    budget(gov) * 100,
			    gov->busy_s > 0 ? 100 * gov->busy_cpu_s / gov->busy_s : 0,
			    gov->busy_s);
	}
	window_start(gov);
}

void ksmgd_governor_kick(struct ksmgd_governor *gov, bool settling)
{
	if (gov == NULL || !gov->active || settling == gov->busy)
		return;
	if (!settling && !ksmd_confirms(gov))
		return;		/* the ticks drop the rate once ksmd agrees */
	/*
	 * Act now rather than at the next interval, without a measurement
	 * (the window may be a few ms old): a settling group starts one
	 * growth step above idle, and the ticks take it from there.
	 */
	if (settling) {
		go_busy(gov);
	} else {
		gov->busy = false;
		apply_rate(gov, idle_rate(gov));
	}
	if (settling)
		log_rate(gov, "a group is settling", 0);
	else
		ksmgd_info("governor: every group has converged: pages_to_scan %lu, sleep_millisecs %lu",
			   gov->pages, gov->sleep_ms);
	window_start(gov);
}

unsigned int ksmgd_governor_interval_ms(const struct ksmgd_governor *gov)
{
	return gov->conf.interval_ms;
}

/* A predecessor that crashed left the admin's settings: put them back. */
static void restore_leftover(const char *state_file)
{
	struct ksmgd_knobs leftover;

	if (ksmgd_knobs_load(&leftover, state_file) < 0) {
		if (errno != ENOENT)
			ksmgd_warning("ignoring unreadable %s", state_file);
		return;
	}
	ksmgd_warning("%s exists: a previous ksmgroupd did not stop cleanly; restoring the KSM settings it saved",
		      state_file);
	if (ksmgd_knobs_restore(&leftover) < 0)
		ksmgd_warning("could not restore every KSM setting from %s",
			      state_file);
}

static void find_ksmd(struct ksmgd_governor *gov)
{
	if (ksmgd_ksmd_find(&gov->ksmd) == 0)
		return;
	gov->ksmd = 0;
	ksmgd_warning("cannot find the ksmd thread: its CPU use cannot be measured, so the governor keeps ksmd idle");
}

static int activate(struct ksmgd_governor *gov, const char **error_r)
{
	if (access(KSMGD_KSM_DIR, F_OK) < 0) {
		*error_r = "the kernel has no KSM (" KSMGD_KSM_DIR " is missing): set mode = off in [governor]";
		errno = EOPNOTSUPP;
		return -1;
	}
	restore_leftover(gov->state_file);
	if (ksmgd_knobs_read(&gov->saved) < 0) {
		*error_r = "cannot read the KSM settings in " KSMGD_KSM_DIR;
		return -1;
	}
	if (ksmgd_knobs_save(&gov->saved, gov->state_file) < 0)
		ksmgd_warning("cannot write %s (%s): the KSM settings are restored on a clean stop only",
			      gov->state_file, strerror(errno));
	if (gov->saved.has_advisor &&
	    strcmp(gov->saved.advisor_mode, "none") != 0) {
		ksmgd_info("turning the KSM advisor (%s) off while governing; it is restored on exit",
			   gov->saved.advisor_mode);
		if (ksmgd_knobs_advisor_off() < 0)
			ksmgd_warning("cannot turn the KSM advisor off: %s",
				      strerror(errno));
	}
	if (gov->conf.run_ksmd && gov->saved.run != 1)
		write_knob(gov, "run", 1);
	find_ksmd(gov);
	gov->active = true;
	gov->busy = false;
	gov->pages = gov->saved.pages_to_scan;
	gov->sleep_ms = gov->saved.sleep_millisecs;
	apply_rate(gov, idle_rate(gov));
	window_start(gov);
	ksmgd_info("governor: idle at pages_to_scan %lu, sleep_millisecs %lu; budget %.1f%% of a core",
		   gov->pages, gov->sleep_ms, budget(gov) * 100);
	return 0;
}

static void deactivate(struct ksmgd_governor *gov)
{
	if (!gov->active)
		return;
	gov->active = false;
	if (ksmgd_knobs_restore(&gov->saved) < 0) {
		/* The state file stays, so the next start restores them. */
		ksmgd_error("could not restore every KSM setting (%s); they remain in %s",
			    strerror(errno), gov->state_file);
		return;
	}
	unlink(gov->state_file);
	ksmgd_info("restored the KSM settings: run %lu, pages_to_scan %lu, sleep_millisecs %lu",
		   gov->saved.run, gov->saved.pages_to_scan,
		   gov->saved.sleep_millisecs);
}

int ksmgd_governor_start(struct ksmgd_governor **gov_r,
			 const struct ksmgd_config *config,
			 const char **error_r)
{
	struct ksmgd_governor *gov;

	gov = calloc(1, sizeof(*gov));
	if (gov == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	gov->conf = config->governor;
	gov->clk_tck = sysconf(_SC_CLK_TCK);
	gov->state_file = strdup(config->daemon.state_file);
	if (gov->state_file == NULL || gov->clk_tck <= 0) {
		*error_r = "out of memory";
		goto free_gov;
	}
	if (gov->conf.mode == KSMGD_GOVERNOR_BUILTIN &&
	    activate(gov, error_r) < 0)
		goto free_gov;
	*gov_r = gov;
	return 0;

free_gov:
	free(gov->state_file);
	free(gov);
	return -1;
}

int ksmgd_governor_reconfigure(struct ksmgd_governor *gov,
			       const struct ksmgd_config *config,
			       const char **error_r)
{
	char *state_file = strdup(config->daemon.state_file);

	if (state_file == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	/* Stop with the old state file, start with the new one. */
	if (config->governor.mode == KSMGD_GOVERNOR_OFF ||
	    strcmp(state_file, gov->state_file) != 0)
		deactivate(gov);
	free(gov->state_file);
	gov->state_file = state_file;
	gov->conf = config->governor;
	if (gov->conf.mode == KSMGD_GOVERNOR_OFF)
		return 0;
	if (!gov->active)
		return activate(gov, error_r);
	/* Same run, new bounds: re-apply the current rate within them. */
	apply_rate(gov, gov->busy ? gov->rate : idle_rate(gov));
	return 0;
}

void ksmgd_governor_stop(struct ksmgd_governor **gov)
{
	if (gov == NULL || *gov == NULL)
		return;
	deactivate(*gov);
	free((*gov)->state_file);
	free(*gov);
	*gov = NULL;
}
