// SPDX-License-Identifier: GPL-2.0-or-later
/* MIME parsing; see mime.h. */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime.h"

#define MIME_MAX_DEPTH	50
#define MIME_MAX_PARTS	5000

struct mime_parse_ctx {
	struct mime_message *msg;
	unsigned int parts;
};

/* ---- header fields ------------------------------------------------------ */

void mime_headers_foreach(const char *hdr, size_t size, mime_header_cb_t *cb,
			  void *context)
{
	const char *p = hdr, *end = hdr + size;

	while (p < end) {
		const char *start = p, *colon = NULL, *line_end;

		if (*p == '\r' || *p == '\n')
			break;	/* the empty line */
		/* the field: this line and its continuations */
		for (;;) {
			line_end = memchr(p, '\n', end - p);
			line_end = line_end == NULL ? end : line_end + 1;
			if (colon == NULL) {
				colon = memchr(p, ':', line_end - p);
			}
			p = line_end;
			if (p >= end || (*p != ' ' && *p != '\t'))
				break;
		}
		if (colon != NULL && colon > start && *start != ' ' &&
		    *start != '\t') {
			const char *name_end = colon;

			while (name_end > start &&
			       (name_end[-1] == ' ' || name_end[-1] == '\t'))
				name_end--;
			if (!cb(start, name_end - start, start, p - start,
				colon + 1, p - colon - 1, context))
				return;
		}
	}
}

char *mime_unfold(struct dboxd_pool *pool, const char *value, size_t len)
{
	char *out = dboxd_pool_alloc(pool, len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (value[i] == '\r' || value[i] == '\n')
			continue;
		out[n++] = value[i] == '\t' ? ' ' : value[i];
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	while (*out == ' ')
		out++;
	return out;
}

struct header_get_ctx {
	const char *name;
	struct dboxd_pool *pool;
	const char *value;
};

static bool header_get_cb(const char *name, size_t name_len,
			  const char *raw, size_t raw_len,
			  const char *value, size_t value_len, void *context)
{
	struct header_get_ctx *ctx = context;

	(void)raw;
	(void)raw_len;
	if (strlen(ctx->name) != name_len ||
	    strncasecmp(ctx->name, name, name_len) != 0)
		return true;
	ctx->value = mime_unfold(ctx->pool, value, value_len);
	return false;
}

const char *mime_header_get(struct dboxd_pool *pool, const char *hdr,
			    size_t size, const char *name)
{
	struct header_get_ctx ctx = { .name = name, .pool = pool };

	mime_headers_foreach(hdr, size, header_get_cb, &ctx);
	return ctx.value;
}

/* ---- Content-Type and Content-Disposition ----------------------------- */

static const char *skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '(')
			return p;
		/* a comment, possibly nested */
		for (int depth = 0; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0') {
				p++;
				continue;
			}
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

static bool is_token_char(char c)
{
	return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f &&
	       strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static const char *read_token(struct dboxd_pool *pool, const char **pp,
			      bool lower)
{
	const char *p = skip_cfws(*pp), *start = p;
	char *tok;

	while (is_token_char(*p))
		p++;
	if (p == start)
		return NULL;
	tok = dboxd_pool_strndup(pool, start, p - start);
	if (lower)
		for (char *q = tok; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
	*pp = p;
	return tok;
}

static const char *read_value(struct dboxd_pool *pool, const char **pp)
{
	const char *p = skip_cfws(*pp);
	char *out;
	size_t n = 0;

	if (*p != '"')
		return read_token(pool, pp, false);
	out = dboxd_pool_alloc(pool, strlen(p) + 1);
	for (p++; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		out[n++] = *p;
	}
	if (*p == '"')
		p++;
	out[n] = '\0';
	*pp = p;
	return out;
}

/* RFC 2231 continuations: name*0, name*1... (or name*0*, encoded) become
   one parameter, "name" (or "name*"), in the place of the first. */
static void merge_continuations(struct dboxd_pool *pool,
				struct mime_param *params, unsigned int *countp)
{
	unsigned int count = *countp;

	for (unsigned int i = 0; i < count; i++) {
		const char *star = strchr(params[i].name, '*');
		size_t base_len;
		struct dboxd_buf value;
		bool encoded;

		if (star == NULL || star[1] != '0' ||
		    (star[2] != '\0' && !(star[2] == '*' && star[3] == '\0')))
			continue;
		base_len = star - params[i].name;
		encoded = star[2] == '*';
		dboxd_buf_init(&value, true);
		/* segments 0, 1, 2... in order, wherever they are */
		for (unsigned int n = 0;; n++) {
			unsigned int k;

			for (k = i; k < count; k++) {
				const char *nm = params[k].name;
				char *end;

				if (strncasecmp(nm, params[i].name, base_len) != 0 ||
				    nm[base_len] != '*' ||
				    strtoul(nm + base_len + 1, &end, 10) != n ||
				    end == nm + base_len + 1 ||
				    (*end != '\0' && strcmp(end, "*") != 0))
					continue;
				break;
			}
			if (k == count)
				break;
			dboxd_buf_append_str(&value, params[k].value);
			if (k != i) {
				/* drop the merged segment */
				memmove(&params[k], &params[k + 1],
					(count - k - 1) * sizeof(*params));
				count--;
			}
		}
		params[i].name = dboxd_pool_printf(pool, "%.*s%s",
						   (int)base_len,
						   params[i].name,
						   encoded ? "*" : "");
		params[i].value = dboxd_pool_strndup(pool,
			(const char *)dboxd_buf_ptr(&value),
			dboxd_buf_len(&value));
		dboxd_buf_free(&value);
	}
	*countp = count;
}

/* "; name=value" pairs */
static void parse_params(struct dboxd_pool *pool, const char *p,
			 struct mime_param **params_r, unsigned int *count_r)
{
	struct mime_param *params = NULL;
	unsigned int count = 0, size = 0;

	for (;;) {
		const char *name, *value;

		p = skip_cfws(p);
		if (*p != ';')
			break;
		p++;
		name = read_token(pool, &p, false);
		if (name == NULL)
			continue;
		p = skip_cfws(p);
		if (*p != '=')
			continue;
		p++;
		value = read_value(pool, &p);
		if (value == NULL)
			value = "";
		if (count == size) {
			struct mime_param *n;

			size = size == 0 ? 4 : size * 2;
			n = dboxd_pool_alloc(pool, size * sizeof(*n));
			if (count > 0)
				memcpy(n, params, count * sizeof(*n));
			params = n;
		}
		params[count].name = name;
		params[count].value = value;
		count++;
		if (count > 64)
			break;
	}
	merge_continuations(pool, params, &count);
	*params_r = params;
	*count_r = count;
}

const char *mime_param_get(const struct mime_param *params,
			   unsigned int count, const char *name)
{
	for (unsigned int i = 0; i < count; i++) {
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}

struct part_hdr_ctx {
	struct dboxd_pool *pool;
	struct mime_part *part;
	const char *content_type;
	const char *disposition;
};

static bool part_hdr_cb(const char *name, size_t name_len, const char *raw,
			size_t raw_len, const char *value, size_t value_len,
			void *context)
{
	struct part_hdr_ctx *ctx = context;
	struct mime_part *part = ctx->part;
	const char **dst = NULL;

	(void)raw;
	(void)raw_len;
#define IS(s) (name_len == sizeof(s) - 1 && strncasecmp(name, s, name_len) == 0)
	if (IS("Content-Type") && ctx->content_type == NULL)
		dst = &ctx->content_type;
	else if (IS("Content-Disposition") && ctx->disposition == NULL)
		dst = &ctx->disposition;
	else if (IS("Content-ID") && part->id == NULL)
		dst = &part->id;
	else if (IS("Content-Description") && part->description == NULL)
		dst = &part->description;
	else if (IS("Content-Transfer-Encoding") && part->encoding == NULL)
		dst = &part->encoding;
	else if (IS("Content-MD5") && part->md5 == NULL)
		dst = &part->md5;
	else if (IS("Content-Language") && part->language == NULL)
		dst = &part->language;
	else if (IS("Content-Location") && part->location == NULL)
		dst = &part->location;
#undef IS
	if (dst != NULL)
		*dst = mime_unfold(ctx->pool, value, value_len);
	return true;
}

static void part_parse_header(struct mime_message *msg, struct mime_part *part,
			      bool digest_child)
{
	struct part_hdr_ctx ctx = { .pool = &msg->pool, .part = part };
	const char *p;

	mime_headers_foreach(msg->data + part->hdr_offset, part->hdr_size,
			     part_hdr_cb, &ctx);
	p = ctx.content_type;
	if (p != NULL) {
		/* Case is kept as written: BODYSTRUCTURE echoes it (as
		   Dovecot does); comparisons ignore it. */
		part->type = read_token(&msg->pool, &p, false);
		p = skip_cfws(p);
		if (part->type != NULL && *p == '/') {
			p++;
			part->subtype = read_token(&msg->pool, &p, false);
		}
		if (part->type != NULL && part->subtype != NULL)
			parse_params(&msg->pool, p, &part->params,
				     &part->param_count);
	}
	if (part->type == NULL || part->subtype == NULL) {
		/* RFC 2045 5.2 and RFC 2046 5.1.5 defaults */
		part->type = digest_child ? "message" : "text";
		part->subtype = digest_child ? "rfc822" : "plain";
		part->params = NULL;
		part->param_count = 0;
		if (!digest_child) {
			part->params = dboxd_pool_alloc(&msg->pool,
							sizeof(*part->params));
			part->params[0].name = "charset";
			part->params[0].value = "us-ascii";
			part->param_count = 1;
		}
	}
	if (strcasecmp(part->type, "text") == 0 &&
	    mime_param_get(part->params, part->param_count, "charset") == NULL) {
		/* RFC 2045 5.2's default, appended as Dovecot does */
		struct mime_param *n = dboxd_pool_alloc(&msg->pool,
			(part->param_count + 1) * sizeof(*n));

		if (part->param_count > 0)
			memcpy(n, part->params, part->param_count * sizeof(*n));
		n[part->param_count].name = "charset";
		n[part->param_count].value = "us-ascii";
		part->params = n;
		part->param_count++;
	}
	if (ctx.disposition != NULL) {
		p = ctx.disposition;
		part->disposition = read_token(&msg->pool, &p, false);
		if (part->disposition != NULL)
			parse_params(&msg->pool, p, &part->disp_params,
				     &part->disp_param_count);
	}
	part->is_multipart = strcasecmp(part->type, "multipart") == 0;
	part->is_message = strcasecmp(part->type, "message") == 0 &&
			   (strcasecmp(part->subtype, "rfc822") == 0 ||
			    strcasecmp(part->subtype, "global") == 0);
}

/* ---- structure ---------------------------------------------------------- */

/* Split [start, end) into header and body. */
static void split_header(const char *data, size_t start, size_t end,
			 struct mime_part *part)
{
	const char *p = data + start, *e = data + end;

	part->hdr_offset = start;
	if (p < e && (*p == '\n' || (*p == '\r' && p + 1 < e && p[1] == '\n'))) {
		/* no header at all: just the empty line */
		part->hdr_size = *p == '\n' ? 1 : 2;
	} else {
		const char *q = p;

		part->hdr_size = end - start;
		while (q < e) {
			const char *nl = memchr(q, '\n', e - q);

			if (nl == NULL)
				break;
			q = nl + 1;
			if (q < e && *q == '\n') {
				part->hdr_size = q + 1 - p;
				break;
			}
			if (q + 1 < e && q[0] == '\r' && q[1] == '\n') {
				part->hdr_size = q + 2 - p;
				break;
			}
		}
	}
	part->body_offset = start + part->hdr_size;
	part->body_size = end - part->body_offset;
}

static unsigned int count_lines(const char *p, size_t len)
{
	unsigned int n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* Position of the next "--boundary" line at or after pos, or NULL. */
static const char *find_boundary(const char *pos, const char *end,
				 const char *b, size_t blen, bool at_line_start)
{
	while (pos < end) {
		if (at_line_start && (size_t)(end - pos) >= blen + 2 &&
		    pos[0] == '-' && pos[1] == '-' &&
		    memcmp(pos + 2, b, blen) == 0)
			return pos;
		pos = memchr(pos, '\n', end - pos);
		if (pos == NULL)
			return NULL;
		pos++;
		at_line_start = true;
	}
	return NULL;
}

static struct mime_part *part_new(struct mime_message *msg,
				  struct mime_part *parent)
{
	struct mime_part *part = dboxd_pool_alloc(&msg->pool, sizeof(*part));

	part->parent = parent;
	return part;
}

static void parse_part(struct mime_parse_ctx *ctx, struct mime_part *part,
		       size_t start, size_t end, unsigned int depth,
		       bool digest_child);

/* Does the part's content end with its own "--boundary--"? */
static bool ends_with_close(const struct mime_message *msg,
			    const struct mime_part *part, size_t end)
{
	const char *b = mime_param_get(part->params, part->param_count,
				       "boundary");
	size_t blen;

	if (b == NULL)
		return false;
	blen = strlen(b);
	if (end - part->body_offset < blen + 4)
		return false;
	return memcmp(msg->data + end - blen - 4, "--", 2) == 0 &&
	       memcmp(msg->data + end - blen - 2, b, blen) == 0 &&
	       memcmp(msg->data + end - 2, "--", 2) == 0;
}

static void parse_multipart(struct mime_parse_ctx *ctx, struct mime_part *part,
			    unsigned int depth)
{
	const char *data = ctx->msg->data;
	const char *b = mime_param_get(part->params, part->param_count,
				       "boundary");
	const char *pos = data + part->body_offset;
	const char *end = pos + part->body_size;
	struct mime_part **tail = &part->children;
	bool digest = strcasecmp(part->subtype, "digest") == 0;
	size_t blen;

	if (b == NULL || *b == '\0')
		return;
	blen = strlen(b);
	pos = find_boundary(pos, end, b, blen, true);
	while (pos != NULL && ctx->parts < MIME_MAX_PARTS) {
		const char *line_end, *next, *content_end;
		struct mime_part *child;

		if ((size_t)(end - pos) >= blen + 4 && pos[blen + 2] == '-' &&
		    pos[blen + 3] == '-')
			break;	/* the closing delimiter */
		line_end = memchr(pos, '\n', end - pos);
		if (line_end == NULL)
			break;
		line_end++;
		next = find_boundary(line_end, end, b, blen, true);
		content_end = next == NULL ? end : next;
		/* the line break before a delimiter belongs to it */
		if (next != NULL && content_end > line_end &&
		    content_end[-1] == '\n') {
			content_end--;
			if (content_end > line_end && content_end[-1] == '\r')
				content_end--;
		}
		child = part_new(ctx->msg, part);
		*tail = child;
		tail = &child->next;
		parse_part(ctx, child, line_end - data, content_end - data,
			   depth + 1, digest);
		if (child->is_multipart && next != NULL &&
		    ends_with_close(ctx->msg, child, content_end - data)) {
			/* The line break after a nested multipart's closing
			   delimiter is that line's, not the outer
			   delimiter's (Dovecot counts it in the part). */
			size_t grow = next - content_end;

			child->body_size += grow;
			child->body_lines = count_lines(data + child->body_offset,
							child->body_size);
		}
		pos = next;
	}
}

static void parse_part(struct mime_parse_ctx *ctx, struct mime_part *part,
		       size_t start, size_t end, unsigned int depth,
		       bool digest_child)
{
	struct mime_message *msg = ctx->msg;

	ctx->parts++;
	split_header(msg->data, start, end, part);
	part->body_lines = count_lines(msg->data + part->body_offset,
				       part->body_size);
	part_parse_header(msg, part, digest_child);
	if (depth >= MIME_MAX_DEPTH || ctx->parts >= MIME_MAX_PARTS) {
		part->is_multipart = false;
		part->is_message = false;
		return;
	}
	if (part->is_multipart) {
		parse_multipart(ctx, part, depth);
		if (part->children == NULL) {
			/* No parts found: one empty text/plain part stands in
			   (BODYSTRUCTURE needs one; Dovecot does the same). */
			struct mime_part *child = part_new(msg, part);
			size_t end = part->body_offset + part->body_size;

			part->children = child;
			child->hdr_offset = child->body_offset = end;
			child->type = "text";
			child->subtype = "plain";
			child->params = dboxd_pool_alloc(&msg->pool,
							 sizeof(*child->params));
			child->params[0].name = "charset";
			child->params[0].value = "us-ascii";
			child->param_count = 1;
		}
	} else if (part->is_message) {
		struct mime_part *child = part_new(msg, part);

		part->children = child;
		parse_part(ctx, child, part->body_offset,
			   part->body_offset + part->body_size, depth + 1,
			   false);
	}
}

void mime_parse(const char *data, size_t size, struct mime_message *msg)
{
	struct mime_parse_ctx ctx = { .msg = msg };

	memset(msg, 0, sizeof(*msg));
	dboxd_pool_init_secret(&msg->pool);
	msg->data = data;
	msg->size = size;
	msg->root = part_new(msg, NULL);
	parse_part(&ctx, msg->root, 0, size, 0, false);
}

void mime_free(struct mime_message *msg)
{
	dboxd_pool_free(&msg->pool);
	msg->root = NULL;
}

struct mime_part *mime_part_find(struct mime_part *root, const char *path,
				 const char **rest_r)
{
	struct mime_part *part = root;
	const char *p = path;

	while (*p >= '1' && *p <= '9') {
		unsigned long n = strtoul(p, (char **)&p, 10);
		struct mime_part *child;

		if (part->is_message)
			part = part->children;	/* into the message */
		if (part->is_multipart) {
			child = part->children;
			while (child != NULL && --n > 0)
				child = child->next;
			if (child == NULL)
				return NULL;
			part = child;
		} else if (n != 1) {
			return NULL;
		}
		/* a non-multipart: part 1 is itself */
		if (*p != '.')
			break;
		if (p[1] < '1' || p[1] > '9')
			break;
		p++;
	}
	*rest_r = p;
	return part;
}

/* ---- decoding ----------------------------------------------------------- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static size_t decode_base64(const char *in, size_t len, char *out)
{
	unsigned int acc = 0, bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64val((unsigned char)in[i]);

		if (in[i] == '=')
			break;
		if (v < 0)
			continue;	/* line breaks, junk */
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return n;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static size_t decode_qp(const char *in, size_t len, char *out, bool header)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (header && in[i] == '_') {
			out[n++] = ' ';
		} else if (in[i] == '=' && i + 2 < len &&
			   hexval((unsigned char)in[i + 1]) >= 0 &&
			   hexval((unsigned char)in[i + 2]) >= 0) {
			out[n++] = (char)(hexval((unsigned char)in[i + 1]) * 16 +
					  hexval((unsigned char)in[i + 2]));
			i += 2;
		} else if (in[i] == '=' && i + 1 < len &&
			   (in[i + 1] == '\r' || in[i + 1] == '\n')) {
			/* soft line break */
			i++;
			if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
				i++;
		} else {
			out[n++] = in[i];
		}
	}
	return n;
}

int mime_decode_body(const char *encoding, const char *data, size_t len,
		     struct dboxd_pool *pool, char **out_r, size_t *out_len_r)
{
	char *out;

	if (encoding == NULL || strcasecmp(encoding, "7bit") == 0 ||
	    strcasecmp(encoding, "8bit") == 0 ||
	    strcasecmp(encoding, "binary") == 0) {
		out = dboxd_pool_alloc(pool, len + 1);
		memcpy(out, data, len);
		*out_r = out;
		*out_len_r = len;
		return 0;
	}
	out = dboxd_pool_alloc(pool, len + 1);
	if (strcasecmp(encoding, "base64") == 0)
		*out_len_r = decode_base64(data, len, out);
	else if (strcasecmp(encoding, "quoted-printable") == 0)
		*out_len_r = decode_qp(data, len, out, false);
	else
		return -1;
	out[*out_len_r] = '\0';
	*out_r = out;
	return 0;
}

char *mime_to_utf8(struct dboxd_pool *pool, const char *charset,
		   const char *data, size_t len, size_t *out_len_r)
{
	size_t out_size = len * 4 + 16, left_in = len, left_out = out_size;
	char *out = dboxd_pool_alloc(pool, out_size + 1), *op = out;
	char *ip = (char *)data;
	iconv_t cd;

	if (charset == NULL || strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0 ||
	    (cd = iconv_open("UTF-8", charset)) == (iconv_t)-1) {
		memcpy(out, data, len);
		out[len] = '\0';
		*out_len_r = len;
		return out;
	}
	while (left_in > 0) {
		if (iconv(cd, &ip, &left_in, &op, &left_out) != (size_t)-1)
			break;
		if (errno != EILSEQ && errno != EINVAL)
			break;
		/* an invalid byte: skip it */
		if (left_out > 0) {
			*op++ = '?';
			left_out--;
		}
		ip++;
		left_in--;
	}
	iconv_close(cd);
	*op = '\0';
	*out_len_r = op - out;
	return out;
}

/* One "=?charset?X?text?=" at p; returns the end or NULL. */
static const char *decode_word(struct dboxd_pool *pool, const char *p,
			       struct dboxd_buf *out)
{
	const char *q1, *q2, *end;
	char charset[64], *raw;
	size_t rawlen, n;
	char enc;

	q1 = strchr(p + 2, '?');
	if (q1 == NULL || q1 - (p + 2) >= (long)sizeof(charset))
		return NULL;
	enc = (char)toupper((unsigned char)q1[1]);
	if ((enc != 'B' && enc != 'Q') || q1[2] != '?')
		return NULL;
	q2 = q1 + 3;
	end = strstr(q2, "?=");
	if (end == NULL)
		return NULL;
	memcpy(charset, p + 2, q1 - (p + 2));
	charset[q1 - (p + 2)] = '\0';
	/* RFC 2231 language suffix: charset*lang */
	if (strchr(charset, '*') != NULL)
		*strchr(charset, '*') = '\0';
	rawlen = end - q2;
	raw = dboxd_pool_alloc(pool, rawlen + 1);
	n = enc == 'B' ? decode_base64(q2, rawlen, raw) :
			 decode_qp(q2, rawlen, raw, true);
	raw = mime_to_utf8(pool, charset, raw, n, &n);
	dboxd_buf_append(out, raw, n);
	return end + 2;
}

char *mime_decode_words(struct dboxd_pool *pool, const char *value)
{
	struct dboxd_buf out;
	const char *p = value;
	bool last_was_word = false;
	char *result;

	if (strstr(value, "=?") == NULL)
		return (char *)value;
	dboxd_buf_init(&out, true);
	while (*p != '\0') {
		const char *end;

		if (p[0] == '=' && p[1] == '?' &&
		    (end = decode_word(pool, p, &out)) != NULL) {
			p = end;
			last_was_word = true;
			continue;
		}
		if (last_was_word && (*p == ' ' || *p == '\t')) {
			/* whitespace between two encoded words vanishes */
			const char *q = p;

			while (*q == ' ' || *q == '\t')
				q++;
			if (q[0] == '=' && q[1] == '?') {
				p = q;
				continue;
			}
		}
		last_was_word = false;
		dboxd_buf_append(&out, p, 1);
		p++;
	}
	result = dboxd_pool_strndup(pool, (const char *)dboxd_buf_ptr(&out),
				    dboxd_buf_len(&out));
	dboxd_buf_free(&out);
	return result;
}
