/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names of the uAPI's enums, as printed and parsed by the tools. */
#ifndef KSMG_CTL_NAMES_H
#define KSMG_CTL_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* "settling", "converged", or NULL for an unknown value. */
const char *ksmg_state_name(uint32_t state);
/* "group_created", ..., or NULL for an unknown value. */
const char *ksmg_event_name(uint32_t event);
/* Format policy bits as "anon,file_private" (unknown bits as hex). */
void ksmg_policy_format(uint64_t policy, char *buf, size_t size);
/* Parse "anon,file_private"; -1 with errno EINVAL on an unknown word. */
int ksmg_policy_parse(const char *text, uint64_t *policy_r);
/* Call fn for each policy bit set, with its name (NULL if unknown). */
void ksmg_policy_foreach(uint64_t policy,
			 void (*fn)(const char *name, uint64_t bit, void *ctx),
			 void *ctx);

#endif /* KSMG_CTL_NAMES_H */
