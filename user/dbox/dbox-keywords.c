// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include <string.h>

#include "dbox-keywords.h"
#include "dbox-util.h"

int dbox_keyword_validate(const char *keyword, const char **error_r)
{
	const unsigned char *p;
	size_t len = strlen(keyword);

	if (len == 0 || len > DBOX_KEYWORD_MAX_LEN)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Keyword length must be 1..%d",
				 DBOX_KEYWORD_MAX_LEN);
	if (keyword[0] == '\\')
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Keyword may not begin with '\\'");
	for (p = (const unsigned char *)keyword; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "Invalid character in keyword");
	}
	return 0;
}

int dbox_keywords_validate(const char *const *keywords, const char **error_r)
{
	unsigned int i;

	for (i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		if (dbox_keyword_validate(keywords[i], error_r) < 0)
			return -1;
	}
	return 0;
}

static int idx_cmp(const void *p1, const void *p2)
{
	return (int)*(const uint16_t *)p1 - (int)*(const uint16_t *)p2;
}

int dbox_keywords_to_indexes(struct dbox_idx_mailbox_rec *rec,
			     const char *const *keywords, uint16_t **idx_r,
			     unsigned int *count_r, const char **error_r)
{
	unsigned int i, n = 0, count = 0;
	uint16_t *idx;
	int ret;

	while (keywords != NULL && keywords[count] != NULL)
		count++;
	idx = dbox_calloc(count, sizeof(*idx));
	for (i = 0; i < count; i++) {
		ret = dbox_idx_mailbox_keyword(rec, keywords[i], true, error_r);
		if (ret < 0) {
			free(idx);
			return -1;
		}
		idx[i] = (uint16_t)ret;
	}
	if (count > 0)	/* qsort(NULL, 0) is undefined */
		qsort(idx, count, sizeof(*idx), idx_cmp);
	for (i = 0; i < count; i++) {
		if (n == 0 || idx[n - 1] != idx[i])
			idx[n++] = idx[i];
	}
	*idx_r = idx;
	*count_r = n;
	return 0;
}

char **dbox_keywords_dup(const char *const *keywords)
{
	unsigned int n, i;
	char **copy;

	if (keywords == NULL)
		return NULL;
	for (n = 0; keywords[n] != NULL; n++)
		;
	copy = dbox_calloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		copy[i] = dbox_strdup(keywords[i]);
	return copy;
}

void dbox_keywords_free(char **keywords)
{
	unsigned int i;

	for (i = 0; keywords != NULL && keywords[i] != NULL; i++)
		free(keywords[i]);
	free(keywords);
}
