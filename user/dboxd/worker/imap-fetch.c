// SPDX-License-Identifier: GPL-2.0-or-later
/* FETCH items: parsing and writing one message's response. See
   imap-fetch.h. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox.h"
#include "imap-client.h"
#include "imap-envelope.h"
#include "imap-fetch.h"
#include "imap-quote.h"
#include "imap-sync.h"
#include "imap-util.h"
#include "mime.h"

/* ---- parsing ------------------------------------------------------------ */

struct fetch_parse {
	struct dboxd_pool *pool;
	struct fetch_request *req;
	unsigned int size;
	const char *error;
};

static struct fetch_item *item_add(struct fetch_parse *fp,
				   enum fetch_item_type type, const char *name)
{
	struct fetch_request *req = fp->req;
	struct fetch_item *item;

	if (req->count == fp->size) {
		struct fetch_item *n;

		fp->size = fp->size == 0 ? 8 : fp->size * 2;
		n = dboxd_pool_alloc(fp->pool, fp->size * sizeof(*n));
		if (req->count > 0)
			memcpy(n, req->items, req->count * sizeof(*n));
		req->items = n;
	}
	item = &req->items[req->count++];
	memset(item, 0, sizeof(*item));
	item->type = type;
	item->name = name;
	item->path = "";
	return item;
}

static void need(struct fetch_request *req, enum fetch_need n)
{
	if (n > req->need)
		req->need = n;
}

/* "1.2.HEADER.FIELDS (A B)" inside the brackets. */
static int parse_section(struct fetch_parse *fp, struct fetch_item *item,
			 const char *s, bool binary)
{
	const char *p = s;
	size_t path_len;

	while (isdigit((unsigned char)*p)) {
		if (*p == '0')
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p != '.')
			break;
		if (!isdigit((unsigned char)p[1]))
			break;
		p++;
	}
	path_len = p - s;
	item->path = dboxd_pool_strndup(fp->pool, s, path_len);
	if (*p == '.') {
		if (path_len == 0)
			return -1;
		p++;
	}
	if (binary)
		return *p == '\0' ? 0 : -1;
	if (*p == '\0') {
		item->kind = SECTION_ALL;
		need(fp->req, FETCH_NEED_WHOLE);
		return 0;
	}
	if (strcasecmp(p, "HEADER") == 0) {
		item->kind = SECTION_HEADER;
	} else if (strcasecmp(p, "TEXT") == 0) {
		item->kind = SECTION_TEXT;
	} else if (strcasecmp(p, "MIME") == 0) {
		if (path_len == 0)
			return -1;
		item->kind = SECTION_MIME;
	} else if (strncasecmp(p, "HEADER.FIELDS", 13) == 0) {
		const char *q = p + 13, *close;
		unsigned int n = 0;

		item->kind = SECTION_HEADER_FIELDS;
		if (strncasecmp(q, ".NOT", 4) == 0) {
			item->kind = SECTION_HEADER_FIELDS_NOT;
			q += 4;
		}
		if (q[0] != ' ' || q[1] != '(')
			return -1;
		q += 2;
		close = strchr(q, ')');
		if (close == NULL || close[1] != '\0')
			return -1;
		item->fields = dboxd_pool_alloc(fp->pool,
						(close - q + 2) * sizeof(char *));
		while (q < close) {
			const char *start = q;

			while (q < close && *q != ' ')
				q++;
			if (q > start) {
				const char *f = dboxd_pool_strndup(fp->pool, start,
								   q - start);

				if (*f == '"' && strlen(f) >= 2)
					f = dboxd_pool_strndup(fp->pool, f + 1,
							       strlen(f) - 2);
				item->fields[n++] = f;
			}
			while (q < close && *q == ' ')
				q++;
		}
		if (n == 0)
			return -1;
	} else {
		return -1;
	}
	/* Root header: the header suffices. Parts need the whole. */
	need(fp->req, path_len == 0 && item->kind != SECTION_TEXT ?
		      FETCH_NEED_HEADER : FETCH_NEED_WHOLE);
	return 0;
}

/* BODY[..]<o.l>, BODY.PEEK[..], BINARY[..], BINARY.PEEK[..],
   BINARY.SIZE[..]. */
static int parse_body_item(struct fetch_parse *fp, const char *atom)
{
	const char *lb = strchr(atom, '['), *rb, *p;
	struct fetch_item *item;
	enum fetch_item_type type = FETCH_SECTION;
	bool peek = false;
	size_t head = lb - atom;
	char *section, *name;

	if (head == 4 && strncasecmp(atom, "BODY", 4) == 0) {
		;
	} else if (head == 9 && strncasecmp(atom, "BODY.PEEK", 9) == 0) {
		peek = true;
	} else if (head == 6 && strncasecmp(atom, "BINARY", 6) == 0) {
		type = FETCH_BINARY;
	} else if (head == 11 && strncasecmp(atom, "BINARY.PEEK", 11) == 0) {
		type = FETCH_BINARY;
		peek = true;
	} else if (head == 11 && strncasecmp(atom, "BINARY.SIZE", 11) == 0) {
		type = FETCH_BINARY_SIZE;
		peek = true;
	} else {
		return -1;
	}
	rb = strchr(lb, ']');
	if (rb == NULL)
		return -1;
	section = dboxd_pool_strndup(fp->pool, lb + 1, rb - lb - 1);
	item = item_add(fp, type, NULL);
	item->peek = peek;
	if (parse_section(fp, item, section, type != FETCH_SECTION) < 0)
		return -1;
	if (type != FETCH_SECTION)
		need(fp->req, FETCH_NEED_WHOLE);
	p = rb + 1;
	if (*p == '<') {
		unsigned long long o, l;
		char *end;

		if (type == FETCH_BINARY_SIZE)
			return -1;
		o = strtoull(p + 1, &end, 10);
		if (end == p + 1 || *end != '.')
			return -1;
		l = strtoull(end + 1, &end, 10);
		if (*end != '>' || end[1] != '\0' || l == 0)
			return -1;
		item->partial = true;
		item->offset = o;
		item->length = l;
	} else if (*p != '\0') {
		return -1;
	}
	if (!peek)
		fp->req->sets_seen = true;
	/* The answer names the section as asked (upper-cased keywords),
	   with only the origin of a partial. */
	for (char *q = section; *q != '\0'; q++)
		*q = (char)toupper((unsigned char)*q);
	name = dboxd_pool_printf(fp->pool, "%s[%s]",
				 type == FETCH_SECTION ? "BODY" :
				 type == FETCH_BINARY ? "BINARY" : "BINARY.SIZE",
				 section);
	if (item->partial)
		name = dboxd_pool_printf(fp->pool, "%s<%" PRIu64 ">", name,
					 item->offset);
	item->name = name;
	return 0;
}

static int parse_one(struct fetch_parse *fp, const char *atom)
{
	struct fetch_request *req = fp->req;
	struct fetch_item *item;

	if (strchr(atom, '[') != NULL)
		return parse_body_item(fp, atom);
	if (strcasecmp(atom, "FLAGS") == 0) {
		req->want_flags = true;
	} else if (strcasecmp(atom, "INTERNALDATE") == 0) {
		item_add(fp, FETCH_INTERNALDATE, "INTERNALDATE");
	} else if (strcasecmp(atom, "RFC822.SIZE") == 0) {
		item_add(fp, FETCH_RFC822_SIZE, "RFC822.SIZE");
	} else if (strcasecmp(atom, "UID") == 0) {
		req->want_uid = true;
	} else if (strcasecmp(atom, "MODSEQ") == 0) {
		req->want_modseq = true;
	} else if (strcasecmp(atom, "ENVELOPE") == 0) {
		item_add(fp, FETCH_ENVELOPE, "ENVELOPE");
		need(req, FETCH_NEED_HEADER);
	} else if (strcasecmp(atom, "BODY") == 0) {
		item_add(fp, FETCH_BODY, "BODY");
		need(req, FETCH_NEED_WHOLE);
	} else if (strcasecmp(atom, "BODYSTRUCTURE") == 0) {
		item_add(fp, FETCH_BODYSTRUCTURE, "BODYSTRUCTURE");
		need(req, FETCH_NEED_WHOLE);
	} else if (strcasecmp(atom, "RFC822") == 0) {
		item = item_add(fp, FETCH_SECTION, "RFC822");
		req->sets_seen = true;
		need(req, FETCH_NEED_WHOLE);
	} else if (strcasecmp(atom, "RFC822.HEADER") == 0) {
		item = item_add(fp, FETCH_SECTION, "RFC822.HEADER");
		item->kind = SECTION_HEADER;
		item->peek = true;
		need(req, FETCH_NEED_HEADER);
	} else if (strcasecmp(atom, "RFC822.TEXT") == 0) {
		item = item_add(fp, FETCH_SECTION, "RFC822.TEXT");
		item->kind = SECTION_TEXT;
		req->sets_seen = true;
		need(req, FETCH_NEED_WHOLE);
	} else if (strcasecmp(atom, "ALL") == 0 || strcasecmp(atom, "FAST") == 0 ||
		   strcasecmp(atom, "FULL") == 0) {
		req->want_flags = true;
		item_add(fp, FETCH_INTERNALDATE, "INTERNALDATE");
		item_add(fp, FETCH_RFC822_SIZE, "RFC822.SIZE");
		if (strcasecmp(atom, "FAST") != 0) {
			item_add(fp, FETCH_ENVELOPE, "ENVELOPE");
			need(req, FETCH_NEED_HEADER);
		}
		if (strcasecmp(atom, "FULL") == 0) {
			item_add(fp, FETCH_BODY, "BODY");
			need(req, FETCH_NEED_WHOLE);
		}
	} else {
		return -1;
	}
	return 0;
}

static int parse_modifiers(struct fetch_parse *fp, const struct imap_arg *arg,
			   bool uid)
{
	const struct imap_arg *list;
	unsigned int count;

	if (imap_arg_is_eol(arg))
		return 0;
	if (!imap_arg_get_list(arg, &list, &count) || !imap_arg_is_eol(&arg[1]))
		return -1;
	for (unsigned int i = 0; i < count; i++) {
		const char *s;
		char *end;

		if (imap_arg_atom_equals(&list[i], "CHANGEDSINCE") &&
		    imap_arg_get_atom(&list[i + 1], &s) &&
		    isdigit((unsigned char)*s)) {
			fp->req->changedsince = strtoull(s, &end, 10);
			if (*end != '\0' || fp->req->changedsince == 0)
				return -1;
			fp->req->want_modseq = true;
			i++;
		} else if (imap_arg_atom_equals(&list[i], "VANISHED") && uid) {
			fp->req->vanished = true;
		} else {
			return -1;
		}
	}
	/* VANISHED needs CHANGEDSINCE (RFC 7162 3.2.6) */
	if (fp->req->vanished && fp->req->changedsince == 0)
		return -1;
	return 0;
}

int imap_fetch_parse(struct imap_client *c, const struct imap_arg *args,
		     bool uid, struct dboxd_pool *pool,
		     struct fetch_request *req, const char **error_r)
{
	struct fetch_parse fp = { .pool = pool, .req = req };
	const struct imap_arg *list;
	const char *atom;
	unsigned int count;

	memset(req, 0, sizeof(*req));
	if (imap_arg_get_list(&args[0], &list, &count)) {
		if (count == 0) {
			*error_r = "Empty FETCH item list";
			return -1;
		}
		for (unsigned int i = 0; i < count; i++) {
			if (!imap_arg_get_atom(&list[i], &atom) ||
			    parse_one(&fp, atom) < 0) {
				*error_r = "Invalid FETCH item";
				return -1;
			}
		}
	} else if (!imap_arg_get_atom(&args[0], &atom) ||
		   parse_one(&fp, atom) < 0) {
		*error_r = "Invalid FETCH item";
		return -1;
	}
	if (parse_modifiers(&fp, &args[1], uid) < 0) {
		*error_r = "Invalid FETCH modifiers";
		return -1;
	}
	if (req->vanished && !c->qresync) {
		*error_r = "VANISHED needs ENABLE QRESYNC";
		return -1;
	}
	if (uid)
		req->want_uid = true;
	if (req->want_modseq || c->sel->condstore) {
		c->sel->condstore = true;
		req->want_modseq = true;
	}
	if (req->sets_seen && !c->sel->readonly)
		req->want_flags = true;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

struct fields_ctx {
	const struct fetch_item *item;
	struct dboxd_buf *out;
};

static bool field_listed(const struct fetch_item *item, const char *name,
			 size_t len)
{
	for (unsigned int i = 0; item->fields[i] != NULL; i++) {
		if (strlen(item->fields[i]) == len &&
		    strncasecmp(item->fields[i], name, len) == 0)
			return true;
	}
	return false;
}

static bool fields_cb(const char *name, size_t name_len, const char *raw,
		      size_t raw_len, const char *value, size_t value_len,
		      void *context)
{
	struct fields_ctx *ctx = context;
	bool listed = field_listed(ctx->item, name, name_len);

	(void)value;
	(void)value_len;
	if (listed == (ctx->item->kind == SECTION_HEADER_FIELDS)) {
		dboxd_buf_append(ctx->out, raw, raw_len);
		/* a last field without a line end still ends one */
		if (raw_len == 0 || raw[raw_len - 1] != '\n')
			dboxd_buf_append(ctx->out, "\r\n", 2);
	}
	return true;
}

static bool header_terminated(const char *hdr, size_t size)
{
	if (size >= 2 && memcmp(hdr, "\r\n", 2) == 0 && size == 2)
		return true;
	return (size >= 3 && memcmp(hdr + size - 3, "\n\r\n", 3) == 0) ||
	       (size >= 2 && memcmp(hdr + size - 2, "\n\n", 2) == 0) ||
	       (size == 1 && hdr[0] == '\n');
}

/* The bytes a body item names, into out (may be empty). Returns -1 if the
   section does not exist: an empty string is answered then. */
static int section_data(const struct fetch_item *item,
			const struct mime_message *msg, struct dboxd_buf *out)
{
	const struct mime_part *part = msg->root;
	const char *rest = "";

	if (item->path[0] != '\0') {
		part = mime_part_find(msg->root, item->path, &rest);
		if (part == NULL)
			return -1;
	}
	switch (item->kind) {
	case SECTION_ALL:
		if (item->path[0] == '\0')
			dboxd_buf_append(out, msg->data, msg->size);
		else
			dboxd_buf_append(out, msg->data + part->body_offset,
					 part->body_size);
		return 0;
	case SECTION_MIME:
		dboxd_buf_append(out, msg->data + part->hdr_offset,
				 part->hdr_size);
		return 0;
	default:
		break;
	}
	/* HEADER/TEXT of a part: of the message it encapsulates */
	if (item->path[0] != '\0') {
		if (!part->is_message || part->children == NULL)
			return -1;
		part = part->children;
	}
	switch (item->kind) {
	case SECTION_HEADER:
		dboxd_buf_append(out, msg->data + part->hdr_offset,
				 part->hdr_size);
		break;
	case SECTION_TEXT:
		dboxd_buf_append(out, msg->data + part->body_offset,
				 part->body_size);
		break;
	case SECTION_HEADER_FIELDS:
	case SECTION_HEADER_FIELDS_NOT: {
		struct fields_ctx ctx = { .item = item, .out = out };

		mime_headers_foreach(msg->data + part->hdr_offset,
				     part->hdr_size, fields_cb, &ctx);
		/* the empty line, if the header had one */
		if (header_terminated(msg->data + part->hdr_offset,
				      part->hdr_size))
			dboxd_buf_append(out, "\r\n", 2);
		break;
	}
	default:
		break;
	}
	return 0;
}

/* BINARY: the decoded content of a leaf part. *decoded_r: whether a
   transfer encoding was undone. */
static int binary_data(const struct fetch_item *item,
		       struct mime_message *msg, struct dboxd_buf *out,
		       bool *decoded_r, const char **error_r)
{
	const struct mime_part *part = msg->root;
	const char *rest;
	char *decoded;
	size_t len;

	if (item->path[0] != '\0') {
		part = mime_part_find(msg->root, item->path, &rest);
		if (part == NULL || *rest != '\0')
			return -1;
	}
	*decoded_r = false;
	if (part->is_multipart || (part->is_message && item->path[0] == '\0')) {
		/* Dovecot converts the parts inside too; we give the
		   content as it is (a documented difference) */
		dboxd_buf_append(out, msg->data + part->body_offset,
				 part->body_size);
		return 0;
	}
	*decoded_r = part->encoding != NULL &&
		     (strcasecmp(part->encoding, "base64") == 0 ||
		      strcasecmp(part->encoding, "quoted-printable") == 0);
	if (mime_decode_body(part->encoding, msg->data + part->body_offset,
			     part->body_size, &msg->pool, &decoded, &len) < 0) {
		*error_r = "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding";
		return -2;
	}
	dboxd_buf_append(out, decoded, len);
	return 0;
}

/* literal8: data with NUL, or (like Dovecot) any BINARY whose transfer
   encoding was undone and that has 8-bit bytes. */
static void write_literal_part(struct dboxd_buf *out,
			       const struct fetch_item *item,
			       const unsigned char *data, size_t len,
			       bool decoded)
{
	bool binary = memchr(data, '\0', len) != NULL;

	for (size_t i = 0; decoded && i < len && !binary; i++)
		binary = data[i] >= 0x80;

	if (item->partial) {
		if (item->offset >= len) {
			len = 0;
		} else {
			data += item->offset;
			len -= item->offset;
			if (len > item->length)
				len = item->length;
		}
	}
	dboxd_buf_printf(out, "%s{%zu}\r\n", binary ? "~" : "", len);
	dboxd_buf_append(out, data, len);
}

int imap_fetch_write(struct imap_client *c, const struct fetch_request *req,
		     uint32_t seq, const struct dbox_mail *mail,
		     uint32_t flags, const char *data, size_t size,
		     const char **error_r)
{
	struct dboxd_buf *out = &c->out;
	struct mime_message msg;
	bool parsed = false, decoded = false;
	char date[40];
	int ret = 0;

	dboxd_buf_printf(out, "* %u FETCH (", seq);
	if (req->want_uid)
		dboxd_buf_printf(out, "UID %u ", mail->uid);
	if (req->want_flags) {
		dboxd_buf_append_str(out, "FLAGS ");
		imap_flags_write(out, flags, mail->keywords,
				 imap_selected_is_recent(c->sel, mail->uid));
		dboxd_buf_append(out, " ", 1);
	}
	if (req->want_modseq)
		dboxd_buf_printf(out, "MODSEQ (%" PRIu64 ") ", mail->modseq);
	if (data != NULL) {
		mime_parse(data, size, &msg);
		parsed = true;
	}
	for (unsigned int i = 0; i < req->count && ret == 0; i++) {
		const struct fetch_item *item = &req->items[i];
		struct dboxd_buf tmp;

		switch (item->type) {
		case FETCH_INTERNALDATE:
			imap_format_datetime(date, sizeof(date),
					     (time_t)mail->internal_date);
			dboxd_buf_printf(out, "INTERNALDATE \"%s\" ", date);
			break;
		case FETCH_RFC822_SIZE:
			dboxd_buf_printf(out, "RFC822.SIZE %" PRIu64 " ",
					 mail->virtual_size);
			break;
		case FETCH_ENVELOPE:
			dboxd_buf_append_str(out, "ENVELOPE ");
			imap_envelope_write(out, &msg.pool,
					    data + msg.root->hdr_offset,
					    msg.root->hdr_size);
			dboxd_buf_append(out, " ", 1);
			break;
		case FETCH_BODY:
		case FETCH_BODYSTRUCTURE:
			dboxd_buf_printf(out, "%s ", item->name);
			imap_bodystructure_write(out, &msg, msg.root,
						 item->type == FETCH_BODYSTRUCTURE);
			dboxd_buf_append(out, " ", 1);
			break;
		case FETCH_SECTION:
			dboxd_buf_init(&tmp, true);
			(void)section_data(item, &msg, &tmp);
			dboxd_buf_printf(out, "%s ", item->name);
			write_literal_part(out, item, dboxd_buf_ptr(&tmp),
					   dboxd_buf_len(&tmp), false);
			dboxd_buf_append(out, " ", 1);
			dboxd_buf_free(&tmp);
			break;
		case FETCH_BINARY:
		case FETCH_BINARY_SIZE:
			dboxd_buf_init(&tmp, true);
			ret = binary_data(item, &msg, &tmp, &decoded, error_r);
			if (ret == -1) {
				/* no such part: NIL */
				ret = 0;
				dboxd_buf_printf(out, "%s NIL ", item->name);
			} else if (ret == 0 && item->type == FETCH_BINARY) {
				dboxd_buf_printf(out, "%s ", item->name);
				write_literal_part(out, item,
						   dboxd_buf_ptr(&tmp),
						   dboxd_buf_len(&tmp), decoded);
				dboxd_buf_append(out, " ", 1);
			} else if (ret == 0) {
				dboxd_buf_printf(out, "%s %zu ", item->name,
						 dboxd_buf_len(&tmp));
			}
			dboxd_buf_free(&tmp);
			break;
		default:
			break;
		}
	}
	/* drop the last space */
	if (dboxd_buf_len(out) > 0 && out->data[out->end - 1] == ' ')
		out->end--;
	dboxd_buf_append_str(out, ")\r\n");
	if (parsed)
		mime_free(&msg);
	return ret < 0 ? -1 : 0;
}
