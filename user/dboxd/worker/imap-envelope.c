// SPDX-License-Identifier: GPL-2.0-or-later
/* ENVELOPE and BODYSTRUCTURE; see imap-envelope.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap-envelope.h"
#include "imap-quote.h"

/* ---- addresses ---------------------------------------------------------- */

/* Copy s without comments; quoted strings keep their content. */
static char *strip_comments(struct dboxd_pool *pool, const char *s,
			    size_t len)
{
	char *out = dboxd_pool_alloc(pool, len + 1);
	size_t n = 0;
	int depth = 0;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < len) {
			if (depth == 0) {
				out[n++] = c;
				out[n++] = s[i + 1];
			}
			i++;
			continue;
		}
		if (!quoted && c == '(') {
			depth++;
			continue;
		}
		if (!quoted && c == ')' && depth > 0) {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (c == '"')
			quoted = !quoted;
		out[n++] = c;
	}
	out[n] = '\0';
	return out;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* A display name: drop the quotes and their escapes. */
static const char *phrase(struct dboxd_pool *pool, const char *s, size_t len)
{
	char *out = dboxd_pool_alloc(pool, len + 1), *t;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			continue;
		if (s[i] == '\\' && i + 1 < len)
			i++;
		out[n++] = s[i];
	}
	out[n] = '\0';
	t = trim(out);
	return *t == '\0' ? NULL : t;
}

/* Dovecot's names for the parts an address lacks; clients know them. */
#define MISSING_MAILBOX	"MISSING_MAILBOX"
#define MISSING_DOMAIN	"MISSING_DOMAIN"
#define SYNTAX_ERROR	"SYNTAX_ERROR"

static void addr_spec(struct dboxd_pool *pool, const char *spec,
		      struct imap_address *a)
{
	char *s = trim(dboxd_pool_strdup(pool, spec)), *at, *colon;

	/* obsolete source route "@a,@b:user@host" */
	if (*s == '@' && (colon = strchr(s, ':')) != NULL) {
		*colon = '\0';
		a->route = s;
		s = colon + 1;
	}
	at = strrchr(s, '@');
	if (at != NULL) {
		*at = '\0';
		a->host = trim(at + 1);
		if (*a->host == '\0')
			a->host = SYNTAX_ERROR;
	} else {
		a->host = MISSING_DOMAIN;
	}
	s = trim(s);
	if (s[0] == '"' && strlen(s) > 1 && s[strlen(s) - 1] == '"') {
		s[strlen(s) - 1] = '\0';
		s++;
	}
	a->mailbox = *s != '\0' ? s : MISSING_MAILBOX;
}

struct addr_list {
	struct dboxd_pool *pool;
	struct imap_address *addrs;
	unsigned int count, size;
	/* empty list elements seen, reported only if an address follows */
	unsigned int pending_empty;
};

static struct imap_address *addr_add(struct addr_list *l)
{
	if (l->count == l->size) {
		struct imap_address *n;

		l->size = l->size == 0 ? 4 : l->size * 2;
		n = dboxd_pool_alloc(l->pool, l->size * sizeof(*n));
		if (l->count > 0)
			memcpy(n, l->addrs, l->count * sizeof(*n));
		l->addrs = n;
	}
	memset(&l->addrs[l->count], 0, sizeof(l->addrs[0]));
	return &l->addrs[l->count++];
}

static struct imap_address *addr_add_mailbox(struct addr_list *l)
{
	while (l->pending_empty > 0) {
		struct imap_address *e = addr_add(l);

		e->mailbox = MISSING_MAILBOX;
		e->host = MISSING_DOMAIN;
		l->pending_empty--;
	}
	return addr_add(l);
}

/* The last comment in s (its content), or NULL: a bare address's display
   name ("a@x (Name)"), as Dovecot takes it. */
static const char *last_comment(struct dboxd_pool *pool, const char *s,
				size_t len)
{
	const char *start = NULL, *end = NULL;
	int depth = 0;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (s[i] == '"' && depth == 0)
			quoted = !quoted;
		if (quoted)
			continue;
		if (s[i] == '(' && depth++ == 0)
			start = s + i + 1;
		else if (s[i] == ')' && depth > 0 && --depth == 0)
			end = s + i;
	}
	if (start == NULL || end == NULL || end < start)
		return NULL;
	return phrase(pool, start, end - start);
}

/* One mailbox: "Name <a@b>", "a@b" or "a@b (comment)". */
static void parse_mailbox(struct addr_list *l, const char *s, size_t len)
{
	const char *lt = NULL, *gt;
	struct imap_address *a;
	bool quoted = false;
	char *clean;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '"')
			quoted = !quoted;
		if (!quoted && s[i] == '<') {
			lt = s + i;
			break;
		}
	}
	if (lt != NULL) {
		gt = memchr(lt, '>', len - (lt - s));
		if (gt == NULL)
			gt = s + len;
		a = addr_add_mailbox(l);
		a->name = phrase(l->pool, strip_comments(l->pool, s, lt - s),
				 strlen(strip_comments(l->pool, s, lt - s)));
		addr_spec(l->pool, dboxd_pool_strndup(l->pool, lt + 1,
						      gt - lt - 1), a);
		if (strcmp(a->mailbox, MISSING_MAILBOX) == 0 &&
		    strcmp(a->host, MISSING_DOMAIN) == 0)
			a->host = MISSING_DOMAIN;
		return;
	}
	clean = trim(strip_comments(l->pool, s, len));
	if (*clean == '\0') {
		l->pending_empty++;
		return;
	}
	if (*clean == '@')
		return;		/* a domain alone is no address */
	a = addr_add_mailbox(l);
	addr_spec(l->pool, clean, a);
	/* a comment after the address names it */
	{
		const char *addr_end = strstr(s, clean);
		size_t off = addr_end == NULL ? 0 : (size_t)(addr_end - s);

		a->name = last_comment(l->pool, s + off, len - off);
	}
}

void imap_address_parse(struct dboxd_pool *pool, const char *value,
			struct imap_address **addrs_r, unsigned int *count_r)
{
	struct addr_list l = { .pool = pool };
	const char *p = value, *start = value;
	bool quoted = false, in_group = false, after_group = false;
	int angle = 0, depth = 0;

	for (;; p++) {
		char c = *p;

		if (c == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (c == '"' && depth == 0)
			quoted = !quoted;
		if (quoted && c != '\0')
			continue;
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		if (depth > 0 && c != '\0')
			continue;
		if (c == '<')
			angle++;
		else if (c == '>' && angle > 0)
			angle--;
		if (angle > 0 && c != '\0')
			continue;
		if (c == ':' && !in_group) {
			struct imap_address *g = addr_add_mailbox(&l);

			g->group_start = true;
			g->mailbox = phrase(pool, start, p - start);
			if (g->mailbox == NULL)
				g->mailbox = "";
			in_group = true;
			start = p + 1;
			continue;
		}
		if (c == ',' || c == ';' || c == '\0') {
			unsigned int empties = l.pending_empty;

			parse_mailbox(&l, start, p - start);
			/* "group: a;," - the comma after a group ends no
			   empty element */
			if (after_group && l.pending_empty > empties)
				l.pending_empty = empties;
			after_group = false;
			start = p + 1;
			if ((c == ';' || c == '\0') && in_group) {
				l.pending_empty = 0;
				addr_add(&l)->group_end = true;
				in_group = false;
				after_group = true;
			}
			if (c == '\0')
				break;
		}
	}
	*addrs_r = l.addrs;
	*count_r = l.count;
}

/* ---- ENVELOPE ----------------------------------------------------------- */

static void write_addresses(struct dboxd_buf *out, struct dboxd_pool *pool,
			    const char *value)
{
	struct imap_address *addrs;
	unsigned int count;

	if (value == NULL) {
		dboxd_buf_append_str(out, "NIL");
		return;
	}
	imap_address_parse(pool, value, &addrs, &count);
	if (count == 0) {
		dboxd_buf_append_str(out, "NIL");
		return;
	}
	dboxd_buf_append(out, "(", 1);
	for (unsigned int i = 0; i < count; i++) {
		const struct imap_address *a = &addrs[i];

		if (a->group_end) {
			dboxd_buf_append_str(out, "(NIL NIL NIL NIL)");
			continue;
		}
		dboxd_buf_append(out, "(", 1);
		imap_append_nstring(out, a->group_start ? NULL : a->name);
		dboxd_buf_append(out, " ", 1);
		imap_append_nstring(out, a->route);
		dboxd_buf_append(out, " ", 1);
		imap_append_nstring(out, a->mailbox);
		dboxd_buf_append(out, " ", 1);
		imap_append_nstring(out, a->group_start ? NULL : a->host);
		dboxd_buf_append(out, ")", 1);
	}
	dboxd_buf_append(out, ")", 1);
}

void imap_envelope_write(struct dboxd_buf *out, struct dboxd_pool *pool,
			 const char *hdr, size_t hdr_size)
{
#define H(name) mime_header_get(pool, hdr, hdr_size, name)
	const char *from = H("From"), *sender = H("Sender");
	const char *reply_to = H("Reply-To");

	if (sender == NULL || *sender == '\0')
		sender = from;
	if (reply_to == NULL || *reply_to == '\0')
		reply_to = from;
	dboxd_buf_append(out, "(", 1);
	imap_append_nstring(out, H("Date"));
	dboxd_buf_append(out, " ", 1);
	imap_append_nstring(out, H("Subject"));
	dboxd_buf_append(out, " ", 1);
	write_addresses(out, pool, from);
	dboxd_buf_append(out, " ", 1);
	write_addresses(out, pool, sender);
	dboxd_buf_append(out, " ", 1);
	write_addresses(out, pool, reply_to);
	dboxd_buf_append(out, " ", 1);
	write_addresses(out, pool, H("To"));
	dboxd_buf_append(out, " ", 1);
	write_addresses(out, pool, H("Cc"));
	dboxd_buf_append(out, " ", 1);
	write_addresses(out, pool, H("Bcc"));
	dboxd_buf_append(out, " ", 1);
	imap_append_nstring(out, H("In-Reply-To"));
	dboxd_buf_append(out, " ", 1);
	imap_append_nstring(out, H("Message-ID"));
	dboxd_buf_append(out, ")", 1);
#undef H
}

/* ---- BODYSTRUCTURE ------------------------------------------------------ */

static void write_params(struct dboxd_buf *out, const struct mime_param *p,
			 unsigned int count)
{
	if (count == 0) {
		dboxd_buf_append_str(out, "NIL");
		return;
	}
	dboxd_buf_append(out, "(", 1);
	for (unsigned int i = 0; i < count; i++) {
		if (i > 0)
			dboxd_buf_append(out, " ", 1);
		imap_append_string(out, p[i].name, strlen(p[i].name));
		dboxd_buf_append(out, " ", 1);
		imap_append_string(out, p[i].value, strlen(p[i].value));
	}
	dboxd_buf_append(out, ")", 1);
}

static void write_extension(struct dboxd_buf *out,
			    const struct mime_part *part)
{
	/* disposition */
	dboxd_buf_append(out, " ", 1);
	if (part->disposition == NULL) {
		dboxd_buf_append_str(out, "NIL");
	} else {
		dboxd_buf_append(out, "(", 1);
		imap_append_nstring(out, part->disposition);
		dboxd_buf_append(out, " ", 1);
		write_params(out, part->disp_params, part->disp_param_count);
		dboxd_buf_append(out, ")", 1);
	}
	/* language: one string, or a list for "en, fr" */
	dboxd_buf_append(out, " ", 1);
	if (part->language == NULL || strchr(part->language, ',') == NULL) {
		imap_append_nstring(out, part->language);
	} else {
		char *copy = strdup(part->language), *save = NULL, *tok;
		bool first = true;

		dboxd_buf_append(out, "(", 1);
		for (tok = copy == NULL ? NULL : strtok_r(copy, ", ", &save);
		     tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
			if (!first)
				dboxd_buf_append(out, " ", 1);
			imap_append_nstring(out, tok);
			first = false;
		}
		dboxd_buf_append(out, ")", 1);
		free(copy);
	}
	dboxd_buf_append(out, " ", 1);
	imap_append_nstring(out, part->location);
}

void imap_bodystructure_write(struct dboxd_buf *out,
			      const struct mime_message *msg,
			      const struct mime_part *part, bool extended)
{
	struct dboxd_pool *pool = (struct dboxd_pool *)&msg->pool;

	dboxd_buf_append(out, "(", 1);
	if (part->is_multipart) {
		if (part->children == NULL) {
			/* no parts found: show an empty text part, as a
			   multipart needs one */
			dboxd_buf_append_str(out, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
		}
		for (const struct mime_part *c = part->children; c != NULL;
		     c = c->next)
			imap_bodystructure_write(out, msg, c, extended);
		dboxd_buf_append(out, " ", 1);
		imap_append_string(out, part->subtype, strlen(part->subtype));
		if (extended) {
			dboxd_buf_append(out, " ", 1);
			write_params(out, part->params, part->param_count);
			write_extension(out, part);
		}
		dboxd_buf_append(out, ")", 1);
		return;
	}
	imap_append_string(out, part->type, strlen(part->type));
	dboxd_buf_append(out, " ", 1);
	imap_append_string(out, part->subtype, strlen(part->subtype));
	dboxd_buf_append(out, " ", 1);
	write_params(out, part->params, part->param_count);
	dboxd_buf_append(out, " ", 1);
	imap_append_nstring(out, part->id);
	dboxd_buf_append(out, " ", 1);
	imap_append_nstring(out, part->description);
	dboxd_buf_append(out, " ", 1);
	imap_append_nstring(out, part->encoding != NULL ? part->encoding :
			    "7bit");
	dboxd_buf_printf(out, " %zu", part->body_size);
	if (part->is_message && part->children != NULL) {
		const struct mime_part *inner = part->children;

		dboxd_buf_append(out, " ", 1);
		imap_envelope_write(out, pool, msg->data + inner->hdr_offset,
				    inner->hdr_size);
		dboxd_buf_append(out, " ", 1);
		imap_bodystructure_write(out, msg, inner, extended);
		dboxd_buf_printf(out, " %u", part->body_lines);
	} else if (strcasecmp(part->type, "text") == 0) {
		dboxd_buf_printf(out, " %u", part->body_lines);
	}
	if (extended) {
		dboxd_buf_append(out, " ", 1);
		imap_append_nstring(out, part->md5);
		write_extension(out, part);
	}
	dboxd_buf_append(out, ")", 1);
}
