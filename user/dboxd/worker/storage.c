// SPDX-License-Identifier: GPL-2.0-or-later
/* The worker's link to libdbox; see storage.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "storage.h"
#include "worker.h"

struct imap_storage {
	struct dbox_storage *storage;
	struct dboxd_io *io_watch;	/* the storage's io_uring fd */
	struct dboxd_io *notify_watch;	/* changes by other processes */
};

static struct imap_storage storage;

struct dbox_storage *imap_storage(void)
{
	return storage.storage;
}

const char *imap_storage_resp_code(void)
{
	switch (dbox_last_error()) {
	case DBOX_ERROR_NONE:
		return "";
	case DBOX_ERROR_TEMP:
		return "[SERVERBUG]";
	case DBOX_ERROR_PARAMS:
		return "[CANNOT]";
	case DBOX_ERROR_NOTFOUND:
		return "[NONEXISTENT]";
	case DBOX_ERROR_EXISTS:
		return "[ALREADYEXISTS]";
	case DBOX_ERROR_EXPUNGED:
		return "[EXPUNGEISSUED]";
	case DBOX_ERROR_LIMIT:
		return "[LIMIT]";
	case DBOX_ERROR_CORRUPTED:
		return "[CORRUPTION]";
	case DBOX_ERROR_NOTPOSSIBLE:
		return "[CANNOT]";
	case DBOX_ERROR_INUSE:
		return "[INUSE]";
	}
	return "[SERVERBUG]";
}

/* Append src to the string being built, expanding %u %n %d ~. */
static int expand(char *out, size_t size, const char *src, const char *user,
		  const char *home)
{
	const char *at = strchr(user, '@');
	size_t n = 0;

	for (const char *p = src; *p != '\0'; p++) {
		const char *add = NULL;
		size_t addlen = 0;
		char c[2] = { *p, '\0' };

		if (*p == '~' && p == src) {
			add = home;
			addlen = strlen(home);
		} else if (*p == '%' && p[1] != '\0') {
			p++;
			switch (*p) {
			case 'u':
				add = user;
				addlen = strlen(user);
				break;
			case 'n':
				add = user;
				addlen = at == NULL ? strlen(user) :
					 (size_t)(at - user);
				break;
			case 'd':
				add = at == NULL ? "" : at + 1;
				addlen = strlen(add);
				break;
			case '%':
				add = "%";
				addlen = 1;
				break;
			default:
				return -1;
			}
		} else {
			add = c;
			addlen = 1;
		}
		if (n + addlen >= size)
			return -1;
		memcpy(out + n, add, addlen);
		n += addlen;
	}
	out[n] = '\0';
	return 0;
}

int imap_storage_parse_location(const char *location, const char *user,
				const char *home, enum dbox_format *format_r,
				char **root_r, const char **error_r)
{
	char root[4096];

	if (strncmp(location, "sdbox:", 6) == 0) {
		*format_r = DBOX_FORMAT_SDBOX;
	} else if (strncmp(location, "mdbox:", 6) == 0) {
		*format_r = DBOX_FORMAT_MDBOX;
	} else {
		*error_r = "mail location must start with sdbox: or mdbox:";
		return -1;
	}
	/* Dovecot allows ":INDEX=..." and such after the path; we do not
	   use them, drop them. */
	if (expand(root, sizeof(root), location + 6, user, home) < 0) {
		*error_r = "mail location has a bad %% variable or is too long";
		return -1;
	}
	root[strcspn(root, ":")] = '\0';
	if (root[0] != '/' || strstr(root, "/../") != NULL) {
		*error_r = "mail location is not an absolute path";
		return -1;
	}
	*root_r = strdup(root);
	if (*root_r == NULL)
		dboxd_fatal("out of memory");
	return 0;
}

static void storage_io_cb(void *context __attribute__((unused)),
			  unsigned int events __attribute__((unused)))
{
	struct dbox_io *io = dbox_storage_get_io(storage.storage);

	/* Completions of asynchronous reads (FETCH read-ahead). */
	while (dbox_io_run(io, 0) > 0)
		;
}

static void storage_notify_cb(void *context __attribute__((unused)),
			      unsigned int events __attribute__((unused)))
{
	dbox_storage_notify_clear(storage.storage);
	worker_notify_change(NULL, NULL);
}

static void storage_log_handler(enum dbox_log_level level, const char *msg)
{
	static const enum dboxd_log_level map[] = {
		[DBOX_LOG_DEBUG] = DBOXD_LOG_DEBUG,
		[DBOX_LOG_INFO] = DBOXD_LOG_INFO,
		[DBOX_LOG_WARNING] = DBOXD_LOG_WARNING,
		[DBOX_LOG_ERROR] = DBOXD_LOG_ERROR,
	};

	dboxd_log(level <= DBOX_LOG_ERROR ? map[level] : DBOXD_LOG_ERROR,
		  "storage: %s", msg);
}

int imap_storage_open(const char *user, const char *home, const char *mail,
		      const char **error_r)
{
	static char error[4200];
	const struct dboxd_settings *set = worker_g->set;
	struct dbox_storage_settings ss;
	struct dbox_io_settings ios;
	struct dbox_io *io;
	char *root;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (imap_storage_parse_location(mail[0] != '\0' ? mail :
					set->mail_location, user, home,
					&ss.format, &root, error_r) < 0)
		return -1;
	dbox_set_log_handler(storage_log_handler);
	memset(&ios, 0, sizeof(ios));
	ios.backend = strcmp(set->storage_io, "uring") == 0 ?
		      DBOX_IO_BACKEND_URING :
		      strcmp(set->storage_io, "sync") == 0 ?
		      DBOX_IO_BACKEND_SYNC : DBOX_IO_BACKEND_AUTO;
	/* An explicit setting wins over DBOX_IO_BACKEND in the
	   environment; "auto" lets the environment choose (tests). */
	ios.ignore_env = ios.backend != DBOX_IO_BACKEND_AUTO;
	if (dbox_io_create(&ios, &io, error_r) < 0) {
		free(root);
		return -1;
	}
	ss.io = io;
	ss.max_message_size = set->imap_max_literal_size;
	ss.mdbox_rotate_size = set->mdbox_rotate_size;
	if (dbox_storage_open(root, &ss, &storage.storage, error_r) < 0) {
		snprintf(error, sizeof(error), "%s: %s", root, *error_r);
		*error_r = error;
		dbox_io_destroy(&io);
		free(root);
		return -1;
	}
	dboxd_info("mail %s (%s), storage I/O %s%s%s", root,
		   ss.format == DBOX_FORMAT_SDBOX ? "sdbox" : "mdbox",
		   dbox_io_backend_name(dbox_io_get_backend(io)),
		   dbox_io_get_fallback_reason(io) != NULL ? ": " : "",
		   dbox_io_get_fallback_reason(io) != NULL ?
		   dbox_io_get_fallback_reason(io) : "");
	free(root);
	fd = dbox_io_get_fd(io);
	if (fd >= 0)
		storage.io_watch = dboxd_io_add(worker_g->loop, fd, DBOXD_IO_READ,
						storage_io_cb, NULL);
	fd = dbox_storage_notify_fd(storage.storage);
	if (fd >= 0)
		storage.notify_watch = dboxd_io_add(worker_g->loop, fd,
						    DBOXD_IO_READ,
						    storage_notify_cb, NULL);
	return 0;
}

void imap_storage_close(void)
{
	struct dbox_io *io;

	if (storage.storage == NULL)
		return;
	dboxd_io_remove(&storage.io_watch);
	dboxd_io_remove(&storage.notify_watch);
	io = dbox_storage_get_io(storage.storage);
	dbox_storage_close(&storage.storage);
	dbox_io_destroy(&io);
}
