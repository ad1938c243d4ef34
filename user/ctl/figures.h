/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Printing a group's or member's figures, as table cells and as JSON. */
#ifndef KSMG_CTL_FIGURES_H
#define KSMG_CTL_FIGURES_H

#include <stddef.h>

#include "json.h"
#include "nl.h"

/* One figure: its attribute, its JSON key and its table heading. */
struct ksmg_figure {
	int attr;
	const char *key;
	const char *heading;
	int width;
};

extern const struct ksmg_figure ksmg_group_figures[];
extern const size_t ksmg_group_figures_count;
extern const struct ksmg_figure ksmg_member_figures[];
extern const size_t ksmg_member_figures_count;

/* "1234", or "-" when the attribute did not come. */
void ksmg_figure_format(const struct ksmg_figure *fig,
			const struct ksmg_nl_attrs *attrs, char *buf,
			size_t size);
/* key: value, or key: null when the attribute did not come. */
void ksmg_figures_json(struct ksmg_json *j, const struct ksmg_figure *figs,
		       size_t count, const struct ksmg_nl_attrs *attrs);
void ksmg_figures_heading(const struct ksmg_figure *figs, size_t count);
void ksmg_figures_row(const struct ksmg_figure *figs, size_t count,
		      const struct ksmg_nl_attrs *attrs);

#endif /* KSMG_CTL_FIGURES_H */
