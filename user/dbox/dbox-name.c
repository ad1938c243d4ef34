// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mailbox name rules. A name that passes dbox_mailbox_name_normalize() maps
 * to a path below <root>/mailboxes that cannot leave it: no "." or ".."
 * components, no empty ones (so no leading, trailing or doubled '/'), no
 * control characters, valid UTF-8. The filesystem walk (dbox-fs.c) refuses
 * symlinks on top of that, so a planted link cannot lead out either.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbox-name.h"
#include "dbox-utf8.h"
#include "dbox-util.h"

static int check_component(const char *comp, size_t len, const char **error_r)
{
	if (len == 0)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Mailbox name has an empty hierarchy level "
				 "(leading, trailing or double '/')");
	if ((len == 1 && comp[0] == '.') ||
	    (len == 2 && comp[0] == '.' && comp[1] == '.'))
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Mailbox name has a '.' or '..' level");
	if (len == strlen(DBOX_MAILDIR_NAME) &&
	    memcmp(comp, DBOX_MAILDIR_NAME, len) == 0)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Mailbox name level '%s' is reserved",
				 DBOX_MAILDIR_NAME);
	return 0;
}

static int check_chars(const char *name, const char **error_r)
{
	const unsigned char *p = (const unsigned char *)name;
	uint32_t cp;
	int len;

	while (*p != '\0') {
		len = dbox_utf8_decode(p, &cp);
		if (len < 0)
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "Mailbox name is not valid UTF-8");
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "Mailbox name contains a control "
					 "character");
		if (cp == '*' || cp == '%')
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "Mailbox name contains a LIST "
					 "wildcard ('*' or '%%')");
		p += len;
	}
	return 0;
}

int dbox_mailbox_name_normalize(const char *name, char **norm_r,
				const char **error_r)
{
	const char *p, *slash;
	unsigned int depth = 0;
	char *norm;

	if (*name == '\0')
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Mailbox name is empty");
	if (strlen(name) > DBOX_MAILBOX_NAME_MAX)
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Mailbox name is longer than %d bytes",
				 DBOX_MAILBOX_NAME_MAX);
	if (name[0] == '~')
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Mailbox name may not begin with '~'");
	if (check_chars(name, error_r) < 0)
		return -1;
	for (p = name;; p = slash + 1) {
		slash = strchr(p, '/');
		if (check_component(p, slash == NULL ? strlen(p) :
				    (size_t)(slash - p), error_r) < 0)
			return -1;
		if (++depth > DBOX_MAILBOX_DEPTH_MAX)
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "Mailbox name has more than %d levels",
					 DBOX_MAILBOX_DEPTH_MAX);
		if (slash == NULL)
			break;
	}
	norm = dbox_strdup(name);
	/* INBOX is case-insensitive (RFC 3501 5.1), also as a parent */
	if (strncasecmp(norm, "INBOX", 5) == 0 &&
	    (norm[5] == '\0' || norm[5] == '/'))
		memcpy(norm, "INBOX", 5);
	*norm_r = norm;
	return 0;
}

int dbox_name_to_disk(const char *name, char **disk_r, const char **error_r)
{
	const char *p, *slash;
	char *disk;
	size_t len;

	if (dbox_utf8_to_mutf7(name, &disk, error_r) < 0)
		return -1;
	/* '/' is printable ASCII, so it maps to itself: check each level */
	for (p = disk;; p = slash + 1) {
		slash = strchr(p, '/');
		len = slash == NULL ? strlen(p) : (size_t)(slash - p);
		if (len > DBOX_MAILBOX_COMPONENT_MAX) {
			free(disk);
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "Mailbox name level is longer than "
					 "%d bytes on disk",
					 DBOX_MAILBOX_COMPONENT_MAX);
		}
		if (slash == NULL)
			break;
	}
	*disk_r = disk;
	return 0;
}

int dbox_name_from_disk(const char *disk, char **name_r, const char **error_r)
{
	char *name, *norm;

	if (dbox_mutf7_to_utf8(disk, &name, error_r) < 0)
		return -1;
	if (dbox_mailbox_name_normalize(name, &norm, error_r) < 0) {
		free(name);
		return -1;
	}
	free(name);
	*name_r = norm;
	return 0;
}

bool dbox_name_is_child(const char *parent, const char *child)
{
	size_t len = strlen(parent);

	return strncmp(parent, child, len) == 0 && child[len] == '/';
}
