// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include <string.h>

#include "dbox-mailcopy.h"
#include "dbox-util.h"

void dbox_mail_copy_init(struct dbox_mail_copy *copy,
			 const struct dbox_idx_mail_rec *rec)
{
	unsigned int i;

	copy->rec = *rec;
	copy->guid = dbox_strndup(rec->guid, rec->m.guid_len);
	copy->keywords = dbox_calloc(rec->m.keyword_count,
				     sizeof(*copy->keywords));
	for (i = 0; i < rec->m.keyword_count; i++)
		copy->keywords[i] = dbox_idx_mail_keyword(rec, i);
	copy->rec.guid = copy->guid;
	copy->rec.keywords = copy->keywords;
}

void dbox_mail_copy_set_keywords(struct dbox_mail_copy *copy, uint16_t *kw,
				 unsigned int count)
{
	free(copy->keywords);
	copy->keywords = kw;
	copy->rec.keywords = kw;
	copy->rec.m.keyword_count = (uint16_t)count;
}

void dbox_mail_copy_free(struct dbox_mail_copy *copy)
{
	free(copy->guid);
	free(copy->keywords);
	memset(copy, 0, sizeof(*copy));
}

int dbox_mail_copy_get(struct dbox_txn *txn, uint32_t mailbox_id,
		       uint32_t uid, struct dbox_mail_copy *copy_r,
		       const char **error_r)
{
	struct dbox_idx_mail_rec rec;
	int ret;

	memset(copy_r, 0, sizeof(*copy_r));
	ret = dbox_idx_mail_get(txn, mailbox_id, uid, &rec, error_r);
	if (ret > 0)
		dbox_mail_copy_init(copy_r, &rec);
	return ret;
}
