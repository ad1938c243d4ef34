// SPDX-License-Identifier: GPL-2.0-or-later
/* Printing figures; see figures.h. */
#include <inttypes.h>
#include <stdio.h>

#include "ctl.h"
#include "figures.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const struct ksmg_figure ksmg_group_figures[] = {
	{ KSMG_A_MEMBERS, "members", "MEMBERS", 7 },
	{ KSMG_A_MERGING_PAGES, "merging_pages", "MERGING", 9 },
	{ KSMG_A_RMAP_ITEMS, "rmap_items", "RMAP", 9 },
	{ KSMG_A_ZERO_PAGES, "zero_pages", "ZERO", 8 },
	{ KSMG_A_ANON_PAGES, "anon_pages", "ANON", 9 },
	{ KSMG_A_PROFIT, "profit", "PROFIT", 11 },
	{ KSMG_A_VMAS_MARKED, "vmas_marked", "VMAS", 7 },
	{ KSMG_A_SWEEPS, "sweeps", "SWEEPS", 7 },
};
const size_t ksmg_group_figures_count = ARRAY_SIZE(ksmg_group_figures);

const struct ksmg_figure ksmg_member_figures[] = {
	{ KSMG_A_MERGING_PAGES, "merging_pages", "MERGING", 9 },
	{ KSMG_A_RMAP_ITEMS, "rmap_items", "RMAP", 9 },
	{ KSMG_A_ZERO_PAGES, "zero_pages", "ZERO", 8 },
	{ KSMG_A_ANON_PAGES, "anon_pages", "ANON", 9 },
	{ KSMG_A_PROFIT, "profit", "PROFIT", 11 },
};
const size_t ksmg_member_figures_count = ARRAY_SIZE(ksmg_member_figures);

/* The value of a figure attribute, widened; profit is the signed one. */
static int64_t figure_value(int attr, const struct ksmg_nl_attrs *a)
{
	switch (attr) {
	case KSMG_A_MEMBERS:
		return a->members;
	case KSMG_A_MERGING_PAGES:
		return (int64_t)a->merging_pages;
	case KSMG_A_RMAP_ITEMS:
		return (int64_t)a->rmap_items;
	case KSMG_A_ZERO_PAGES:
		return (int64_t)a->zero_pages;
	case KSMG_A_ANON_PAGES:
		return (int64_t)a->anon_pages;
	case KSMG_A_PROFIT:
		return a->profit;
	case KSMG_A_VMAS_MARKED:
		return (int64_t)a->vmas_marked;
	case KSMG_A_SWEEPS:
		return (int64_t)a->sweeps;
	default:
		return 0;
	}
}

void ksmg_figure_format(const struct ksmg_figure *fig,
			const struct ksmg_nl_attrs *attrs, char *buf,
			size_t size)
{
	int64_t value = figure_value(fig->attr, attrs);

	if (!ksmg_nl_has(attrs, fig->attr))
		snprintf(buf, size, "-");
	else if (fig->attr == KSMG_A_PROFIT)
		ksmg_ctl_format_bytes(value, buf, size);
	else
		snprintf(buf, size, "%" PRIu64, (uint64_t)value);
}

void ksmg_figures_json(struct ksmg_json *j, const struct ksmg_figure *figs,
		       size_t count, const struct ksmg_nl_attrs *attrs)
{
	size_t i;

	for (i = 0; i < count; i++) {
		int64_t value = figure_value(figs[i].attr, attrs);

		if (!ksmg_nl_has(attrs, figs[i].attr))
			ksmg_json_null(j, figs[i].key);
		else if (figs[i].attr == KSMG_A_PROFIT)
			ksmg_json_s64(j, figs[i].key, value);
		else
			ksmg_json_u64(j, figs[i].key, (uint64_t)value);
	}
}

void ksmg_figures_heading(const struct ksmg_figure *figs, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		printf(" %*s", figs[i].width, figs[i].heading);
}

void ksmg_figures_row(const struct ksmg_figure *figs, size_t count,
		      const struct ksmg_nl_attrs *attrs)
{
	char buf[32];
	size_t i;

	for (i = 0; i < count; i++) {
		ksmg_figure_format(&figs[i], attrs, buf, sizeof(buf));
		printf(" %*s", figs[i].width, buf);
	}
}
