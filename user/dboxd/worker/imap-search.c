// SPDX-License-Identifier: GPL-2.0-or-later
/* SEARCH programs: parsing and matching; see imap-search.h. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-search.h"
#include "imap-sync.h"
#include "log.h"
#include "mime.h"

#define SEARCH_BATCH 32
#define SEARCH_MAX_DEPTH 64

/* ---- case folding ------------------------------------------------------- */

static int utf8_decode(const unsigned char *p, size_t len, uint32_t *cp_r)
{
	uint32_t cp;
	int n;

	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return -1;
	}
	if ((size_t)n > len)
		return -1;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	*cp_r = cp;
	return n;
}

static int utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

char *imap_search_fold(struct dboxd_pool *pool, const char *s, size_t len,
		       size_t *len_r)
{
	/* lower-casing never grows a UTF-8 sequence by more than 2x */
	char *out = dboxd_pool_alloc(pool, len * 2 + 1);
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		int k = utf8_decode(p + i, len - i, &cp);

		if (k < 0) {
			/* not UTF-8: fold as ASCII, keep the byte */
			out[n++] = (char)tolower(p[i]);
			i++;
			continue;
		}
		if (cp < 0x80)
			out[n++] = (char)tolower((int)cp);
		else
			n += utf8_encode((uint32_t)towlower((wint_t)cp),
					 out + n);
		i += k;
	}
	out[n] = '\0';
	*len_r = n;
	return out;
}

/* ---- dates -------------------------------------------------------------- */

int imap_parse_message_date(const char *value, time_t *t_r, time_t *day_r)
{
	static const char *const months[] = {
		"jan", "feb", "mar", "apr", "may", "jun",
		"jul", "aug", "sep", "oct", "nov", "dec",
	};
	struct tm tm;
	const char *p = value, *comma = strchr(value, ',');
	char mon[4] = "", zone[16] = "";
	int day, year, h = 0, m = 0, s = 0, n = 0, i;
	long off = 0;

	if (comma != NULL)
		p = comma + 1;
	if (sscanf(p, " %d %3s %d %d:%d%n", &day, mon, &year, &h, &m, &n) < 3)
		return -1;
	p += n;
	if (n > 0 && *p == ':')
		sscanf(p, ":%d", &s);
	for (i = 0; i < 12; i++) {
		if (strcasecmp(mon, months[i]) == 0)
			break;
	}
	if (i == 12 || day < 1 || day > 31)
		return -1;
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = i;
	tm.tm_year = year - 1900;
	*day_r = timegm(&tm);
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	if (n > 0) {
		const char *z = strpbrk(p, "+-");

		if (z != NULL && sscanf(z, "%15s", zone) == 1 &&
		    strlen(zone) >= 5) {
			long v = strtol(zone + 1, NULL, 10);

			off = (v / 100) * 3600 + (v % 100) * 60;
			if (zone[0] == '-')
				off = -off;
		}
	}
	*t_r = timegm(&tm) - off;
	return 0;
}

/* ---- parsing ------------------------------------------------------------ */

struct search_parse {
	struct imap_client *client;
	struct dboxd_pool *pool;
	const char *charset;
	struct search_program *prog;
	const char *error;
};

static struct search_key *key_new(struct search_parse *sp,
				  enum search_key_type type)
{
	struct search_key *k = dboxd_pool_alloc(sp->pool, sizeof(*k));

	k->type = type;
	return k;
}

static void need(struct search_parse *sp, enum search_need n)
{
	if (n > sp->prog->need)
		sp->prog->need = n;
}

static const char *text_arg(struct search_parse *sp, const struct imap_arg *a)
{
	const char *s;
	size_t len;

	if (!imap_arg_get_astring(a, &s)) {
		sp->error = "Search key needs a string";
		return NULL;
	}
	len = strlen(s);
	if (sp->charset != NULL && strcasecmp(sp->charset, "UTF-8") != 0 &&
	    strcasecmp(sp->charset, "US-ASCII") != 0)
		s = mime_to_utf8(sp->pool, sp->charset, s, len, &len);
	return imap_search_fold(sp->pool, s, len, &len);
}

static int date_arg(struct search_parse *sp, const struct imap_arg *a,
		    time_t *t_r)
{
	const char *s;

	if (!imap_arg_get_astring(a, &s) || imap_parse_date(s, t_r) < 0) {
		sp->error = "Invalid search date";
		return -1;
	}
	return 0;
}

static int num_arg(struct search_parse *sp, const struct imap_arg *a,
		   uint64_t *n_r)
{
	const char *s;
	char *end;

	if (!imap_arg_get_atom(a, &s) || !isdigit((unsigned char)*s)) {
		sp->error = "Search key needs a number";
		return -1;
	}
	*n_r = strtoull(s, &end, 10);
	if (*end != '\0') {
		sp->error = "Search key needs a number";
		return -1;
	}
	return 0;
}

static bool is_seqset(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) && *s != ':' && *s != ',' &&
		    *s != '*')
			return false;
	}
	return true;
}

static const struct {
	const char *name;
	uint32_t flag;
	bool set;
} flag_keys[] = {
	{ "ANSWERED", DBOX_MAIL_ANSWERED, true },
	{ "DELETED", DBOX_MAIL_DELETED, true },
	{ "DRAFT", DBOX_MAIL_DRAFT, true },
	{ "FLAGGED", DBOX_MAIL_FLAGGED, true },
	{ "SEEN", DBOX_MAIL_SEEN, true },
	{ "UNANSWERED", DBOX_MAIL_ANSWERED, false },
	{ "UNDELETED", DBOX_MAIL_DELETED, false },
	{ "UNDRAFT", DBOX_MAIL_DRAFT, false },
	{ "UNFLAGGED", DBOX_MAIL_FLAGGED, false },
	{ "UNSEEN", DBOX_MAIL_SEEN, false },
};

static const struct {
	const char *name;
	const char *field;
} header_keys[] = {
	{ "BCC", "Bcc" }, { "CC", "Cc" }, { "FROM", "From" },
	{ "SUBJECT", "Subject" }, { "TO", "To" },
};

static struct search_key *parse_key(struct search_parse *sp,
				    const struct imap_arg **argsp, int depth);

/* Keys until EOL (a list's end). */
static struct search_key *parse_and(struct search_parse *sp,
				    const struct imap_arg *args, int depth)
{
	struct search_key *and = key_new(sp, SK_AND), **tail = &and->children;

	if (imap_arg_is_eol(args)) {
		sp->error = "Missing search key";
		return NULL;
	}
	while (!imap_arg_is_eol(args)) {
		struct search_key *k = parse_key(sp, &args, depth);

		if (k == NULL)
			return NULL;
		*tail = k;
		tail = &k->next;
	}
	return and;
}

static struct search_key *parse_date_key(struct search_parse *sp,
					 enum search_key_type type,
					 const struct imap_arg **argsp)
{
	struct search_key *k = key_new(sp, type);

	if (date_arg(sp, *argsp, &k->date) < 0)
		return NULL;
	(*argsp)++;
	if (type == SK_SENTBEFORE || type == SK_SENTON || type == SK_SENTSINCE)
		need(sp, SEARCH_NEED_HEADER);
	return k;
}

/* MODSEQ ["/flags/\\seen" "all"] n */
static struct search_key *parse_modseq(struct search_parse *sp,
				       const struct imap_arg **argsp)
{
	struct search_key *k = key_new(sp, SK_MODSEQ);
	const struct imap_arg *a = *argsp;

	if (a[0].type == IMAP_ARG_STRING) {
		if (!imap_arg_atom_equals(&a[1], "priv") &&
		    !imap_arg_atom_equals(&a[1], "shared") &&
		    !imap_arg_atom_equals(&a[1], "all")) {
			sp->error = "Invalid MODSEQ entry type";
			return NULL;
		}
		a += 2;
	}
	if (num_arg(sp, a, &k->num) < 0)
		return NULL;
	*argsp = a + 1;
	sp->prog->uses_modseq = true;
	return k;
}

static struct search_key *parse_key(struct search_parse *sp,
				    const struct imap_arg **argsp, int depth)
{
	const struct imap_arg *a = *argsp;
	const struct imap_arg *list;
	struct search_key *k;
	const char *s;

	if (depth > SEARCH_MAX_DEPTH) {
		sp->error = "Search program nested too deeply";
		return NULL;
	}
	if (imap_arg_get_list(a, &list, NULL)) {
		*argsp = a + 1;
		return parse_and(sp, list, depth + 1);
	}
	if (!imap_arg_get_atom(a, &s)) {
		sp->error = "Invalid search key";
		return NULL;
	}
	*argsp = ++a;
	for (unsigned int i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		if (strcasecmp(s, flag_keys[i].name) == 0) {
			k = key_new(sp, flag_keys[i].set ? SK_FLAG_SET :
							   SK_FLAG_UNSET);
			k->flags = flag_keys[i].flag;
			return k;
		}
	}
	for (unsigned int i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++) {
		if (strcasecmp(s, header_keys[i].name) == 0) {
			k = key_new(sp, SK_HEADER);
			k->field = header_keys[i].field;
			if ((k->str = text_arg(sp, a)) == NULL)
				return NULL;
			*argsp = a + 1;
			need(sp, SEARCH_NEED_HEADER);
			return k;
		}
	}
#define IS(n) (strcasecmp(s, n) == 0)
	if (IS("ALL"))
		return key_new(sp, SK_ALL);
	if (IS("RECENT"))
		return key_new(sp, SK_RECENT);
	if (IS("NEW"))
		return key_new(sp, SK_NEW);
	if (IS("OLD"))
		return key_new(sp, SK_OLD);
	if (IS("KEYWORD") || IS("UNKEYWORD")) {
		k = key_new(sp, IS("KEYWORD") ? SK_KEYWORD : SK_UNKEYWORD);
		if (!imap_arg_get_atom(a, &k->str)) {
			sp->error = "KEYWORD needs a keyword";
			return NULL;
		}
		*argsp = a + 1;
		return k;
	}
	if (IS("LARGER") || IS("SMALLER")) {
		k = key_new(sp, IS("LARGER") ? SK_LARGER : SK_SMALLER);
		if (num_arg(sp, a, &k->num) < 0)
			return NULL;
		*argsp = a + 1;
		return k;
	}
	if (IS("BEFORE"))
		return parse_date_key(sp, SK_BEFORE, argsp);
	if (IS("ON"))
		return parse_date_key(sp, SK_ON, argsp);
	if (IS("SINCE"))
		return parse_date_key(sp, SK_SINCE, argsp);
	if (IS("SENTBEFORE"))
		return parse_date_key(sp, SK_SENTBEFORE, argsp);
	if (IS("SENTON"))
		return parse_date_key(sp, SK_SENTON, argsp);
	if (IS("SENTSINCE"))
		return parse_date_key(sp, SK_SENTSINCE, argsp);
	if (IS("HEADER")) {
		const char *field;

		k = key_new(sp, SK_HEADER);
		if (!imap_arg_get_astring(a, &field) || field[0] == '\0') {
			sp->error = "HEADER needs a field name";
			return NULL;
		}
		k->field = field;
		if ((k->str = text_arg(sp, &a[1])) == NULL)
			return NULL;
		*argsp = a + 2;
		need(sp, SEARCH_NEED_HEADER);
		return k;
	}
	if (IS("BODY") || IS("TEXT")) {
		k = key_new(sp, IS("BODY") ? SK_BODY : SK_TEXT);
		if ((k->str = text_arg(sp, a)) == NULL)
			return NULL;
		*argsp = a + 1;
		need(sp, SEARCH_NEED_WHOLE);
		return k;
	}
	if (IS("NOT")) {
		k = key_new(sp, SK_NOT);
		if ((k->children = parse_key(sp, argsp, depth + 1)) == NULL)
			return NULL;
		return k;
	}
	if (IS("OR")) {
		k = key_new(sp, SK_OR);
		if ((k->children = parse_key(sp, argsp, depth + 1)) == NULL ||
		    (k->children->next = parse_key(sp, argsp, depth + 1)) == NULL)
			return NULL;
		return k;
	}
	if (IS("UID")) {
		k = key_new(sp, SK_UIDSET);
		if (!imap_arg_get_atom(a, &s) ||
		    imap_seqset_parse(s, sp->pool, &k->ranges,
				      &k->range_count) < 0) {
			sp->error = "UID needs a UID set";
			return NULL;
		}
		*argsp = a + 1;
		return k;
	}
	if (IS("MODSEQ"))
		return parse_modseq(sp, argsp);
#undef IS
	if (is_seqset(s)) {
		k = key_new(sp, SK_SEQSET);
		if (imap_seqset_parse(s, sp->pool, &k->ranges,
				      &k->range_count) < 0) {
			sp->error = "Invalid message set";
			return NULL;
		}
		return k;
	}
	sp->error = "Unknown search key";
	return NULL;
}

int imap_search_parse(struct imap_client *c, const struct imap_arg *args,
		      const char *charset, struct dboxd_pool *pool,
		      struct search_program *prog, const char **error_r)
{
	struct search_parse sp = {
		.client = c, .pool = pool, .charset = charset, .prog = prog,
	};

	memset(prog, 0, sizeof(*prog));
	prog->root = parse_and(&sp, args, 0);
	if (prog->root == NULL) {
		*error_r = sp.error;
		return -1;
	}
	return 0;
}

/* ---- matching ----------------------------------------------------------- */

struct match_ctx {
	struct imap_client *client;
	uint32_t seq, max_seq, max_uid;
	const struct dbox_mail *mail;
	const char *data;
	size_t size;
	struct dboxd_pool pool;
	bool parsed;
	struct mime_message msg;
	/* lazily built folded texts */
	const char *body_text;
	size_t body_len;
	bool have_body;
	bool have_sent;
	time_t sent_day;
};

static void ctx_parse(struct match_ctx *ctx)
{
	if (!ctx->parsed) {
		mime_parse(ctx->data, ctx->size, &ctx->msg);
		ctx->parsed = true;
	}
}

static bool in_ranges(const struct search_key *k, uint32_t n, uint32_t max)
{
	for (unsigned int i = 0; i < k->range_count; i++) {
		uint32_t a = k->ranges[i].first, b = k->ranges[i].last;

		if (a == UINT32_MAX)
			a = max;
		if (b == UINT32_MAX)
			b = max;
		if (a > b) {
			uint32_t t = a;

			a = b;
			b = t;
		}
		if (n >= a && n <= b)
			return true;
	}
	return false;
}

struct header_match {
	struct match_ctx *ctx;
	const struct search_key *key;
	bool all_fields;	/* TEXT: any field */
	bool matched;
};

static bool header_match_cb(const char *name, size_t name_len,
			    const char *raw, size_t raw_len,
			    const char *value, size_t value_len, void *context)
{
	struct header_match *hm = context;
	struct dboxd_pool *pool = &hm->ctx->pool;
	const char *text;
	size_t len;

	(void)raw;
	(void)raw_len;
	if (!hm->all_fields && (strlen(hm->key->field) != name_len ||
				strncasecmp(hm->key->field, name, name_len) != 0))
		return true;
	if (hm->key->str[0] == '\0') {
		hm->matched = true;
		return false;
	}
	text = mime_decode_words(pool, mime_unfold(pool, value, value_len));
	text = imap_search_fold(pool, text, strlen(text), &len);
	if (memmem(text, len, hm->key->str, strlen(hm->key->str)) != NULL) {
		hm->matched = true;
		return false;
	}
	if (hm->all_fields) {
		/* TEXT also finds field names */
		text = imap_search_fold(pool, name, name_len, &len);
		if (memmem(text, len, hm->key->str, strlen(hm->key->str)))
			hm->matched = true;
	}
	return !hm->matched;
}

static bool header_matches(struct match_ctx *ctx, const struct search_key *k,
			   const struct mime_part *part, bool all)
{
	struct header_match hm = { .ctx = ctx, .key = k, .all_fields = all };

	mime_headers_foreach(ctx->data + part->hdr_offset, part->hdr_size,
			     header_match_cb, &hm);
	return hm.matched;
}

/* Decoded, folded text of the text parts (and inner messages' headers). */
static void body_collect(struct match_ctx *ctx, const struct mime_part *part,
			 struct dboxd_buf *out)
{
	/* Only the text parts' content, as Dovecot searches it: not the
	   preamble or epilogue, nor the headers of attached messages. */
	if (part->is_multipart) {
		for (const struct mime_part *c = part->children; c != NULL;
		     c = c->next)
			body_collect(ctx, c, out);
		return;
	}
	if (part->is_message && part->children != NULL) {
		body_collect(ctx, part->children, out);
		return;
	}
	if (strcasecmp(part->type, "text") == 0) {
		char *decoded, *utf8;
		size_t len;

		if (mime_decode_body(part->encoding,
				     ctx->data + part->body_offset,
				     part->body_size, &ctx->pool, &decoded,
				     &len) < 0) {
			decoded = (char *)ctx->data + part->body_offset;
			len = part->body_size;
		}
		utf8 = mime_to_utf8(&ctx->pool,
				    mime_param_get(part->params,
						   part->param_count,
						   "charset"),
				    decoded, len, &len);
		dboxd_buf_append(out, utf8, len);
		dboxd_buf_append(out, "\n", 1);
	}
}

static bool body_matches(struct match_ctx *ctx, const struct search_key *k)
{
	if (!ctx->have_body) {
		struct dboxd_buf text;

		ctx_parse(ctx);
		dboxd_buf_init(&text, true);
		body_collect(ctx, ctx->msg.root, &text);
		ctx->body_text = imap_search_fold(&ctx->pool,
						  (const char *)dboxd_buf_ptr(&text),
						  dboxd_buf_len(&text),
						  &ctx->body_len);
		dboxd_buf_free(&text);
		ctx->have_body = true;
	}
	return memmem(ctx->body_text, ctx->body_len, k->str,
		      strlen(k->str)) != NULL;
}

static time_t sent_day(struct match_ctx *ctx)
{
	if (!ctx->have_sent) {
		const char *date;
		time_t t;

		ctx_parse(ctx);
		date = mime_header_get(&ctx->pool, ctx->data,
				       ctx->msg.root->hdr_size, "Date");
		if (date == NULL ||
		    imap_parse_message_date(date, &t, &ctx->sent_day) < 0) {
			/* No usable Date: matches no SENT* key (as with
			   Dovecot; RFC 3501 names no fallback). */
			ctx->sent_day = INT64_MIN;
		}
		ctx->have_sent = true;
	}
	return ctx->sent_day;
}

static bool has_keyword(const struct dbox_mail *mail, const char *kw)
{
	for (unsigned int i = 0; mail->keywords != NULL &&
			      mail->keywords[i] != NULL; i++) {
		if (strcasecmp(mail->keywords[i], kw) == 0)
			return true;
	}
	return false;
}

static bool key_match(struct match_ctx *ctx, const struct search_key *k)
{
	const struct dbox_mail *m = ctx->mail;
	bool recent;

	switch (k->type) {
	case SK_ALL:
		return true;
	case SK_AND:
		for (const struct search_key *c = k->children; c != NULL;
		     c = c->next) {
			if (!key_match(ctx, c))
				return false;
		}
		return true;
	case SK_OR:
		return key_match(ctx, k->children) ||
		       key_match(ctx, k->children->next);
	case SK_NOT:
		return !key_match(ctx, k->children);
	case SK_FLAG_SET:
		return (m->flags & k->flags) != 0;
	case SK_FLAG_UNSET:
		return (m->flags & k->flags) == 0;
	case SK_KEYWORD:
		return has_keyword(m, k->str);
	case SK_UNKEYWORD:
		return !has_keyword(m, k->str);
	case SK_RECENT:
	case SK_NEW:
	case SK_OLD:
		recent = imap_selected_is_recent(ctx->client->sel, m->uid);
		if (k->type == SK_RECENT)
			return recent;
		if (k->type == SK_OLD)
			return !recent;
		return recent && (m->flags & DBOX_MAIL_SEEN) == 0;
	case SK_LARGER:
		return m->virtual_size > k->num;
	case SK_SMALLER:
		return m->virtual_size < k->num;
	case SK_BEFORE:
		return m->internal_date < k->date;
	case SK_ON:
		return m->internal_date >= k->date &&
		       m->internal_date < k->date + 86400;
	case SK_SINCE:
		return m->internal_date >= k->date;
	case SK_SENTBEFORE:
		return sent_day(ctx) != INT64_MIN && sent_day(ctx) < k->date;
	case SK_SENTON:
		return sent_day(ctx) == k->date;
	case SK_SENTSINCE:
		return sent_day(ctx) != INT64_MIN && sent_day(ctx) >= k->date;
	case SK_SEQSET:
		return in_ranges(k, ctx->seq, ctx->max_seq);
	case SK_UIDSET:
		return in_ranges(k, m->uid, ctx->max_uid);
	case SK_HEADER:
		ctx_parse(ctx);
		return header_matches(ctx, k, ctx->msg.root, false);
	case SK_BODY:
		return body_matches(ctx, k);
	case SK_TEXT:
		ctx_parse(ctx);
		return header_matches(ctx, k, ctx->msg.root, true) ||
		       body_matches(ctx, k);
	case SK_MODSEQ:
		return m->modseq >= k->num;
	}
	return false;
}

bool imap_search_match(struct imap_client *c, const struct search_program *prog,
		       uint32_t seq, const struct dbox_mail *mail,
		       const char *data, size_t size)
{
	const struct dbox_mail *mails;
	unsigned int count;
	struct match_ctx ctx = {
		.client = c, .seq = seq, .mail = mail, .data = data,
		.size = size,
	};
	bool ret;

	dbox_mailbox_get_mails(c->sel->box, &mails, &count);
	ctx.max_seq = count;
	ctx.max_uid = count == 0 ? 0 : mails[count - 1].uid;
	dboxd_pool_init_secret(&ctx.pool);
	ret = key_match(&ctx, prog->root);
	if (ctx.parsed)
		mime_free(&ctx.msg);
	dboxd_pool_free(&ctx.pool);
	return ret;
}

/* ---- running ------------------------------------------------------------ */

/*
 * A run reads the messages in batches of SEARCH_BATCH through
 * dbox_fetch_start() (the storage keeps its read-ahead window of reads in
 * flight) and matches each as it arrives, in view order, so the result is
 * the same as reading them one by one. The command waits for each batch
 * on the loop: the user's other connections are served meanwhile.
 */
struct imap_search_run {
	struct imap_cmd *cmd;
	const struct search_program *prog;
	const struct dbox_mail *mails;
	unsigned int total, next;	/* view indexes: all, the next to read */
	unsigned int *idx, count;	/* matches so far, ascending */
	struct dbox_fetch *fetch;	/* the batch in flight */
	unsigned int batch[SEARCH_BATCH], batch_count;
};

static void run_cb(void *context, unsigned int i, const void *data,
		   size_t size, enum dbox_error err, const char *error)
{
	struct imap_search_run *run = context;
	unsigned int n = run->batch[i];

	(void)err;
	/* a message that vanished or cannot be read does not match */
	if (error == NULL &&
	    imap_search_match(run->cmd->client, run->prog, n + 1,
			      &run->mails[n], data, size))
		run->idx[run->count++] = n;
	if (i + 1 == run->batch_count)
		imap_cmd_storage_done(run->cmd);
}

struct imap_search_run *
imap_search_run_begin(struct imap_cmd *cmd, const struct search_program *prog,
		      struct dboxd_pool *pool)
{
	struct imap_search_run *run = dboxd_pool_alloc(pool, sizeof(*run));

	memset(run, 0, sizeof(*run));
	run->cmd = cmd;
	run->prog = prog;
	dbox_mailbox_get_mails(cmd->client->sel->box, &run->mails,
			       &run->total);
	run->idx = dboxd_pool_alloc(pool, (run->total + 1) * sizeof(*run->idx));
	return run;
}

/* Messages that need no data are matched here; the rest are read. */
static int run_batch(struct imap_search_run *run, const char **error_r)
{
	struct dbox_fetch_req reqs[SEARCH_BATCH];
	const struct search_program *prog = run->prog;
	unsigned int n = 0;

	if (prog->need == SEARCH_NEED_NONE) {
		for (; run->next < run->total; run->next++) {
			if (imap_search_match(run->cmd->client, prog,
					      run->next + 1,
					      &run->mails[run->next], NULL, 0))
				run->idx[run->count++] = run->next;
		}
		return 0;
	}
	for (; run->next < run->total && n < SEARCH_BATCH; run->next++, n++) {
		memset(&reqs[n], 0, sizeof(reqs[n]));
		reqs[n].uid = run->mails[run->next].uid;
		reqs[n].part = prog->need == SEARCH_NEED_HEADER ?
			       DBOX_FETCH_HEADER : DBOX_FETCH_WHOLE;
		reqs[n].length = UINT64_MAX;
		run->batch[n] = run->next;
	}
	if (n == 0)
		return 0;
	run->batch_count = n;
	if (dbox_fetch_start(run->cmd->client->sel->box, reqs, n, run_cb, run,
			     &run->fetch, error_r) < 0)
		return -1;
	return 1;
}

int imap_search_run_step(struct imap_search_run *run, unsigned int **idx_r,
			 unsigned int *count_r, const char **error_r)
{
	int ret;

	/* the batch that woke us is delivered */
	dbox_fetch_free(&run->fetch);
	ret = run_batch(run, error_r);
	if (ret != 0)
		return ret;
	*idx_r = run->idx;
	*count_r = run->count;
	return 0;
}

void imap_search_run_free(struct imap_search_run *run)
{
	/* reads in flight finish into the library's buffers, not ours */
	if (run != NULL)
		dbox_fetch_free(&run->fetch);
}
