/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IMAP keywords: validation and mapping to a mailbox's keyword table. */
#ifndef DBOX_KEYWORDS_H
#define DBOX_KEYWORDS_H

#include "index/dbox-index.h"

#define DBOX_KEYWORD_MAX_LEN 128

/* An atom (RFC 3501 flag-keyword): printable ASCII without atom-specials,
   not starting with '\'. */
int dbox_keyword_validate(const char *keyword, const char **error_r);
int dbox_keywords_validate(const char *const *keywords, const char **error_r);
/* Indexes of keywords in rec's table (added when missing), sorted and
   without duplicates. *idx_r is malloc'd. */
int dbox_keywords_to_indexes(struct dbox_idx_mailbox_rec *rec,
			     const char *const *keywords, uint16_t **idx_r,
			     unsigned int *count_r, const char **error_r);
/* A deep copy of a NULL-terminated list (NULL stays NULL), for requests
   that outlive the caller's arrays (asynchronous changes). */
char **dbox_keywords_dup(const char *const *keywords);
void dbox_keywords_free(char **keywords);

#endif
