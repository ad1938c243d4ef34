// SPDX-License-Identifier: GPL-2.0-or-later
/* IMAP syntax helpers; see imap-util.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-quote.h"
#include "imap-sync.h"
#include "imap-util.h"

int imap_mailbox_from_client(struct imap_client *c, const char *name,
			     struct dboxd_pool *pool, const char **utf8_r,
			     const char **error_r)
{
	char *utf8 = NULL, *norm = NULL;

	if (strlen(name) > 1000) {
		*error_r = "Mailbox name too long";
		return -1;
	}
	if (c->utf8) {
		utf8 = strdup(name);
		if (utf8 == NULL)
			return -1;
	} else if (dbox_mutf7_to_utf8(name, &utf8, error_r) < 0) {
		return -1;
	}
	if (dbox_mailbox_name_normalize(utf8, &norm, error_r) < 0) {
		free(utf8);
		return -1;
	}
	*utf8_r = dboxd_pool_strdup(pool, norm);
	free(utf8);
	free(norm);
	return 0;
}

void imap_append_mailbox(struct imap_client *c, struct dboxd_buf *out,
			 const char *utf8)
{
	char *mutf7;
	const char *error;

	if (c->utf8 || dbox_utf8_to_mutf7(utf8, &mutf7, &error) < 0) {
		/* UTF8=ACCEPT: quoted UTF-8 is fine (RFC 6855). */
		if (c->utf8 && strpbrk(utf8, "\r\n\"\\") == NULL) {
			dboxd_buf_printf(out, "\"%s\"", utf8);
			return;
		}
		imap_append_string(out, utf8, strlen(utf8));
		return;
	}
	if (strcmp(mutf7, "INBOX") == 0)
		dboxd_buf_append_str(out, "\"INBOX\"");
	else
		imap_append_string(out, mutf7, strlen(mutf7));
	free(mutf7);
}

/* ---- sequence sets ------------------------------------------------------ */

static int parse_seqnum(const char **p, uint32_t *n_r)
{
	uint64_t v = 0;

	if (**p == '*') {
		(*p)++;
		*n_r = UINT32_MAX;
		return 0;
	}
	if (**p < '1' || **p > '9')
		return -1;
	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (uint64_t)(**p - '0');
		if (v >= UINT32_MAX)
			return -1;
		(*p)++;
	}
	*n_r = (uint32_t)v;
	return 0;
}

int imap_seqset_parse(const char *str, struct dboxd_pool *pool,
		      struct imap_seq_range **ranges_r, unsigned int *count_r)
{
	unsigned int count = 1, n = 0;
	struct imap_seq_range *ranges;
	const char *p = str;

	for (const char *q = str; *q != '\0'; q++)
		count += *q == ',';
	ranges = dboxd_pool_alloc(pool, count * sizeof(*ranges));
	for (;;) {
		uint32_t a, b;

		if (parse_seqnum(&p, &a) < 0)
			return -1;
		b = a;
		if (*p == ':') {
			p++;
			if (parse_seqnum(&p, &b) < 0)
				return -1;
		}
		ranges[n].first = a < b ? a : b;
		ranges[n].last = a < b ? b : a;
		n++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return -1;
		p++;
	}
	*ranges_r = ranges;
	*count_r = n;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of the first mail with uid >= uid. */
static unsigned int lower_bound(const struct dbox_mail *mails,
				unsigned int count, uint32_t uid)
{
	unsigned int lo = 0, hi = count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (mails[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int imap_seqset_to_uids(struct imap_client *c, const char *set, bool uid,
			struct dboxd_pool *pool, uint32_t **uids_r,
			unsigned int *count_r, const char **error_r)
{
	const struct dbox_mail *mails;
	struct imap_seq_range *ranges;
	unsigned int count, nranges, n = 0;
	uint64_t total = 0;
	uint32_t *uids;

	if (imap_seqset_parse(set, pool, &ranges, &nranges) < 0) {
		*error_r = "Invalid message set";
		return -1;
	}
	dbox_mailbox_get_mails(c->sel->box, &mails, &count);
	/* Resolve "*" and count first, to size the array. */
	for (unsigned int i = 0; i < nranges; i++) {
		struct imap_seq_range *r = &ranges[i];

		if (uid) {
			uint32_t max = count == 0 ? 0 : mails[count - 1].uid;
			unsigned int a, b;

			if (r->last == UINT32_MAX)
				r->last = max;
			if (r->first == UINT32_MAX)
				r->first = max;
			if (r->first > r->last) {
				uint32_t t = r->first;

				r->first = r->last;
				r->last = t;
			}
			a = lower_bound(mails, count, r->first);
			b = lower_bound(mails, count, r->last == UINT32_MAX ?
					r->last : r->last + 1);
			total += b - a;
		} else {
			if (r->last == UINT32_MAX)
				r->last = count;
			if (r->first == UINT32_MAX)
				r->first = count;
			if (r->first > r->last) {
				uint32_t t = r->first;

				r->first = r->last;
				r->last = t;
			}
			if (r->first == 0 || r->last > count) {
				*error_r = count == 0 ?
					"Invalid message sequence number (the mailbox is empty)" :
					"Invalid message sequence number";
				return -1;
			}
			total += r->last - r->first + 1;
		}
	}
	uids = dboxd_pool_alloc(pool, (total + 1) * sizeof(*uids));
	for (unsigned int i = 0; i < nranges; i++) {
		const struct imap_seq_range *r = &ranges[i];

		if (uid) {
			unsigned int a = lower_bound(mails, count, r->first);

			for (; a < count && mails[a].uid <= r->last; a++)
				uids[n++] = mails[a].uid;
		} else {
			for (uint32_t s = r->first; s <= r->last; s++)
				uids[n++] = mails[s - 1].uid;
		}
	}
	if (nranges > 1) {
		unsigned int k = 0;

		qsort(uids, n, sizeof(*uids), cmp_u32);
		for (unsigned int i = 0; i < n; i++) {
			if (k == 0 || uids[k - 1] != uids[i])
				uids[k++] = uids[i];
		}
		n = k;
	}
	*uids_r = uids;
	*count_r = n;
	return 0;
}

void imap_append_uidset(struct dboxd_buf *out, const uint32_t *uids,
			unsigned int count)
{
	for (unsigned int i = 0; i < count;) {
		unsigned int j = i;

		while (j + 1 < count && uids[j + 1] == uids[j] + 1)
			j++;
		if (i > 0)
			dboxd_buf_append(out, ",", 1);
		if (j > i)
			dboxd_buf_printf(out, "%u:%u", uids[i], uids[j]);
		else
			dboxd_buf_printf(out, "%u", uids[i]);
		i = j + 1;
	}
}

/* ---- dates -------------------------------------------------------------- */

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static int parse_month(const char *s)
{
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(s, months[i], 3) == 0)
			return i;
	}
	return -1;
}

static int days_in_month(int mon, int year)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				    30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 1 && leap ? 29 : days[mon];
}

/* "d-Mon-yyyy" at s; returns chars used or -1. */
static int parse_dmy(const char *s, struct tm *tm)
{
	int day = 0, i = 0, mon, year = 0;

	if (s[0] == ' ')
		i++;
	if (!isdigit((unsigned char)s[i]))
		return -1;
	day = s[i++] - '0';
	if (isdigit((unsigned char)s[i]))
		day = day * 10 + (s[i++] - '0');
	if (s[i++] != '-')
		return -1;
	mon = parse_month(s + i);
	if (mon < 0)
		return -1;
	i += 3;
	if (s[i++] != '-')
		return -1;
	for (int k = 0; k < 4; k++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		year = year * 10 + (s[i++] - '0');
	}
	if (day < 1 || day > days_in_month(mon, year) || year < 1900)
		return -1;
	memset(tm, 0, sizeof(*tm));
	tm->tm_mday = day;
	tm->tm_mon = mon;
	tm->tm_year = year - 1900;
	return i;
}

int imap_parse_date(const char *str, time_t *t_r)
{
	struct tm tm;
	int n = parse_dmy(str, &tm);

	if (n < 0 || str[n] != '\0' || str[0] == ' ')
		return -1;
	*t_r = timegm(&tm);
	return 0;
}

int imap_parse_datetime(const char *str, time_t *t_r)
{
	struct tm tm;
	int n = parse_dmy(str, &tm), h, m, s, zh, zm;
	char sign;

	if (n < 0)
		return -1;
	str += n;
	if (sscanf(str, " %2d:%2d:%2d %c%2d%2d", &h, &m, &s, &sign, &zh,
		   &zm) != 6 || strlen(str) != 15 ||
	    (sign != '+' && sign != '-') || h > 23 || m > 59 || s > 60 ||
	    zh > 23 || zm > 59)
		return -1;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	*t_r = timegm(&tm) - (sign == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
	return 0;
}

void imap_format_datetime(char *buf, size_t size, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

/* ---- flags -------------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t flag;
} system_flags[] = {
	{ "\\Answered", DBOX_MAIL_ANSWERED },
	{ "\\Flagged", DBOX_MAIL_FLAGGED },
	{ "\\Deleted", DBOX_MAIL_DELETED },
	{ "\\Seen", DBOX_MAIL_SEEN },
	{ "\\Draft", DBOX_MAIL_DRAFT },
};

int imap_flags_parse(const struct imap_arg *args, struct dboxd_pool *pool,
		     uint32_t *flags_r, const char ***keywords_r,
		     const char **error_r)
{
	unsigned int n = imap_args_count(args), k = 0;
	const char **keywords = dboxd_pool_alloc(pool, (n + 1) * sizeof(char *));
	uint32_t flags = 0;

	for (unsigned int i = 0; i < n; i++) {
		const char *atom;
		bool found = false;

		if (!imap_arg_get_atom(&args[i], &atom)) {
			*error_r = "Flags must be atoms";
			return -1;
		}
		if (atom[0] == '\\') {
			for (unsigned int j = 0; j < 5; j++) {
				if (strcasecmp(atom, system_flags[j].name) == 0) {
					flags |= system_flags[j].flag;
					found = true;
				}
			}
			if (!found) {
				*error_r = strcasecmp(atom, "\\Recent") == 0 ?
					"\\Recent cannot be changed" :
					"Invalid system flag";
				return -1;
			}
			continue;
		}
		if (strpbrk(atom, "[]%*") != NULL || strlen(atom) > 250) {
			*error_r = "Invalid keyword";
			return -1;
		}
		keywords[k++] = atom;
	}
	keywords[k] = NULL;
	*flags_r = flags;
	*keywords_r = keywords;
	return 0;
}

void imap_flags_write(struct dboxd_buf *out, uint32_t flags,
		      const char *const *keywords, bool recent)
{
	bool first = true;

	dboxd_buf_append(out, "(", 1);
	for (unsigned int j = 0; j < 5; j++) {
		if (flags & system_flags[j].flag) {
			if (!first)
				dboxd_buf_append(out, " ", 1);
			dboxd_buf_append_str(out, system_flags[j].name);
			first = false;
		}
	}
	if (recent) {
		if (!first)
			dboxd_buf_append(out, " ", 1);
		dboxd_buf_append_str(out, "\\Recent");
		first = false;
	}
	for (unsigned int i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		if (!first)
			dboxd_buf_append(out, " ", 1);
		dboxd_buf_append_str(out, keywords[i]);
		first = false;
	}
	dboxd_buf_append(out, ")", 1);
}

bool imap_str_contains(const char *h, size_t hlen, const char *n, size_t nlen)
{
	if (nlen == 0)
		return true;
	if (nlen > hlen)
		return false;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		size_t j = 0;

		while (j < nlen && tolower((unsigned char)h[i + j]) ==
				   tolower((unsigned char)n[j]))
			j++;
		if (j == nlen)
			return true;
	}
	return false;
}

bool imap_cmd_get_mailbox(struct imap_cmd *cmd, const struct imap_arg *arg,
			  const char **name_r)
{
	const char *name, *error;

	if (!imap_arg_get_astring(arg, &name)) {
		imap_cmd_bad(cmd, "Invalid mailbox name argument");
		return false;
	}
	if (imap_mailbox_from_client(cmd->client, name, &cmd->client->pool,
				     name_r, &error) < 0) {
		imap_cmd_no(cmd, "[CANNOT] %s", error);
		return false;
	}
	return true;
}
