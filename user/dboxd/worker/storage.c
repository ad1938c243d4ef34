// SPDX-License-Identifier: GPL-2.0-or-later
/* The worker's link to libdbox; see storage.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "secret.h"
#include "storage.h"
#include "worker.h"

struct imap_storage {
	struct dbox_storage *storage;
	struct dbox_io *io;
	bool shared_ring;		/* io submits into the loop's ring */
	struct dboxd_io *io_watch;	/* the storage's own ring fd, if any */
	struct dboxd_io *notify_watch;	/* changes by other processes */
};

static struct imap_storage storage;

struct dbox_storage *imap_storage(void)
{
	return storage.storage;
}

const char *imap_storage_resp_code(void)
{
	return imap_storage_resp_code_for(dbox_last_error());
}

const char *imap_storage_resp_code_for(enum dbox_error err)
{
	switch (err) {
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

/* Completions in the kernel ring (io_uring backend): the storage's steps
   and our callbacks run here, at the top of the loop. Callbacks only note
   results and wake their command (imap_cmd_storage_done), which continues
   from a timer: storage calls are not allowed inside dbox_io_run(). */
static void storage_io_cb(void *context __attribute__((unused)),
			  unsigned int events __attribute__((unused)))
{
	struct dbox_io *io = dbox_storage_get_io(storage.storage);

	(void)dbox_io_run(io, 0);
}

/* Before the loop sleeps: submit what the storage queued, run completions
   that made no descriptor readable, and (sync backend) perform one round
   of queued I/O. One round, then other clients get their turn. */
static bool storage_work_cb(void *context __attribute__((unused)))
{
	struct dbox_io *io = dbox_storage_get_io(storage.storage);

	if (!dbox_io_has_ready(io))
		return false;
	if (dbox_io_run(io, 0) < 0)
		dboxd_error("storage I/O loop: %m");
	return dbox_io_has_ready(io);
}

static void storage_notify_cb(void *context __attribute__((unused)),
			      unsigned int events __attribute__((unused)))
{
	dbox_storage_notify_clear(storage.storage);
	worker_notify_change(NULL, NULL);
}

/* Mail content stays in secret memory, out of KSM merging and core dumps
   (secret.h): what the storage reads for a FETCH and stages for an
   APPEND. */
static const struct dbox_allocator storage_mail_alloc = {
	.alloc = dboxd_secret_alloc,
	.realloc = dboxd_secret_realloc,
	.free = dboxd_secret_free,
};

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

/* The loop tells the storage's completions apart by the same bit. */
_Static_assert(DBOXD_LOOP_UD_FOREIGN == DBOX_IO_UD_TAG,
	       "loop and dbox-io disagree on the user_data tag");

/* A completion of the storage's on the loop's ring. */
static void storage_cqe_cb(void *context __attribute__((unused)),
			   uint64_t user_data, int32_t res)
{
	dbox_io_uring_cqe(storage.io, user_data, res);
}

/* The storage's dbox_io: on the worker loop's io_uring when there is one
   (one ring per worker), else a ring of its own or the sync backend. */
static int storage_io_create(struct dbox_io **io_r, const char **error_r)
{
	const struct dboxd_settings *set = worker_g->set;
	struct dbox_io_settings ios;
	struct dbox_io_ring ring;

	memset(&ios, 0, sizeof(ios));
	memset(&ring, 0, sizeof(ring));
	ios.backend = strcmp(set->storage_io, "uring") == 0 ?
		      DBOX_IO_BACKEND_URING :
		      strcmp(set->storage_io, "sync") == 0 ?
		      DBOX_IO_BACKEND_SYNC : DBOX_IO_BACKEND_AUTO;
	/* An explicit setting wins over DBOX_IO_BACKEND in the
	   environment; "auto" lets the environment choose (tests). */
	ios.ignore_env = ios.backend != DBOX_IO_BACKEND_AUTO;
	if (ios.backend != DBOX_IO_BACKEND_SYNC) {
		ring.ring = dboxd_loop_share_uring(worker_g->loop,
						   storage_cqe_cb, NULL);
		ring.foreign_cqe = dboxd_loop_uring_foreign_cqe;
		ring.foreign_context = worker_g->loop;
	}
	if (dbox_io_create_on_ring(&ios, &ring, io_r, error_r) < 0) {
		(void)dboxd_loop_share_uring(worker_g->loop, NULL, NULL);
		return -1;
	}
	storage.shared_ring = ring.ring != NULL &&
		dbox_io_get_backend(*io_r) == DBOX_IO_BACKEND_URING;
	if (!storage.shared_ring)
		(void)dboxd_loop_share_uring(worker_g->loop, NULL, NULL);
	storage.io = *io_r;
	return 0;
}

int imap_storage_open(const char *user, const char *home, const char *mail,
		      const char **error_r)
{
	static char error[4200];
	const struct dboxd_settings *set = worker_g->set;
	struct dbox_storage_settings ss;
	struct dbox_io *io;
	char *root;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (imap_storage_parse_location(mail[0] != '\0' ? mail :
					set->mail_location, user, home,
					&ss.format, &root, error_r) < 0)
		return -1;
	dbox_set_log_handler(storage_log_handler);
	if (storage_io_create(&io, error_r) < 0) {
		free(root);
		return -1;
	}
	ss.io = io;
	ss.mail_alloc = &storage_mail_alloc;
	ss.max_message_size = set->imap_max_literal_size;
	ss.mdbox_rotate_size = set->mdbox_rotate_size;
	if (dbox_storage_open(root, &ss, &storage.storage, error_r) < 0) {
		snprintf(error, sizeof(error), "%s: %s", root, *error_r);
		*error_r = error;
		dbox_io_destroy(&io);
		storage.io = NULL;
		(void)dboxd_loop_share_uring(worker_g->loop, NULL, NULL);
		free(root);
		return -1;
	}
	dboxd_info("mail %s (%s), storage I/O %s%s%s%s", root,
		   ss.format == DBOX_FORMAT_SDBOX ? "sdbox" : "mdbox",
		   dbox_io_backend_name(dbox_io_get_backend(io)),
		   storage.shared_ring ? " (the worker loop's ring)" : "",
		   dbox_io_get_fallback_reason(io) != NULL ? ": " : "",
		   dbox_io_get_fallback_reason(io) != NULL ?
		   dbox_io_get_fallback_reason(io) : "");
	free(root);
	fd = dbox_io_get_fd(io);
	if (fd >= 0)
		storage.io_watch = dboxd_io_add(worker_g->loop, fd, DBOXD_IO_READ,
						storage_io_cb, NULL);
	dboxd_loop_set_work(worker_g->loop, storage_work_cb, NULL);
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
	dboxd_loop_set_work(worker_g->loop, NULL, NULL);
	dboxd_io_remove(&storage.io_watch);
	dboxd_io_remove(&storage.notify_watch);
	io = dbox_storage_get_io(storage.storage);
	dbox_storage_close(&storage.storage);
	dbox_io_destroy(&io);
	storage.io = NULL;
	(void)dboxd_loop_share_uring(worker_g->loop, NULL, NULL);
}
