/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdbox: mail storage in Dovecot 2.3's single-dbox and multi-dbox formats,
 * with our own crash-safe index (LMDB) and message-file I/O through dbox-io
 * (io_uring, or a synchronous fallback). See docs/dbox.md.
 *
 * Conventions (Dovecot style):
 *  - functions return 0 on success, -1 on failure; a failing function sets
 *    *error_r to a message (valid until the next failing dbox call in this
 *    thread) and dbox_last_error() to a class the caller can map to an IMAP
 *    response code;
 *  - out-parameters end in _r; destructors take T ** and set it to NULL.
 *  - success means durable: message data, index and directory entries have
 *    been written and fsync'd before any mutating call returns 0.
 *
 * Mailbox names are UTF-8 with '/' as the hierarchy separator (the IMAP
 * layer converts from modified UTF-7 with dbox_mutf7_to_utf8(), which
 * rejects invalid input). On disk they are stored in modified UTF-7, as
 * Dovecot does with its default mailbox_list_utf8=no. "INBOX" is
 * case-insensitive.
 *
 * Messages are given and returned in wire form (CRLF line ends) and stored
 * with LF line ends, as Dovecot stores them; sizes called "virtual" are wire
 * sizes, "physical" sizes are as stored.
 *
 * Processes: every process opens its own storage (after fork, never
 * inherited). Several processes may use one mail root at once; the index
 * serialises writers. Within a process, all use happens from one thread.
 * Storage functions must not be called from inside dbox-io callbacks.
 * An event loop uses the _start functions ("asynchronous changes") and
 * dbox_fetch_start(); the synchronous calls wait for their own I/O.
 */
#ifndef DBOX_H
#define DBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbox-log.h"
#include "io/dbox-io.h"

struct dbox_storage;
struct dbox_mailbox;
struct dbox_fetch;

enum dbox_format {
	DBOX_FORMAT_SDBOX = 1,	/* one file per message: u.<uid> */
	DBOX_FORMAT_MDBOX,	/* many messages per storage/m.<n> file */
};

/* Error classes; dbox_last_error() after a failure. */
enum dbox_error {
	DBOX_ERROR_NONE = 0,
	DBOX_ERROR_TEMP,	/* I/O error, out of memory, retry later */
	DBOX_ERROR_PARAMS,	/* invalid argument (name, keyword, size) */
	DBOX_ERROR_NOTFOUND,	/* no such mailbox */
	DBOX_ERROR_EXISTS,	/* mailbox already exists */
	DBOX_ERROR_EXPUNGED,	/* message no longer exists */
	DBOX_ERROR_LIMIT,	/* over a size or count limit */
	DBOX_ERROR_CORRUPTED,	/* a file or the index is damaged */
	DBOX_ERROR_NOTPOSSIBLE,	/* e.g. delete INBOX, rename into itself */
	DBOX_ERROR_INUSE,	/* locked by another process, retry */
};
enum dbox_error dbox_last_error(void);

/* System flags (RFC 3501); \Recent is per session, see claim_recent. */
enum dbox_mail_flag {
	DBOX_MAIL_ANSWERED	= 0x01,
	DBOX_MAIL_FLAGGED	= 0x02,
	DBOX_MAIL_DELETED	= 0x04,
	DBOX_MAIL_SEEN		= 0x08,
	DBOX_MAIL_DRAFT		= 0x10,
};
#define DBOX_MAIL_FLAGS_MASK 0x1fU

/* RFC 6154 special-use attributes (and RFC 8457 \Important). */
enum dbox_special_use {
	DBOX_SPECIAL_ALL	= 0x01,
	DBOX_SPECIAL_ARCHIVE	= 0x02,
	DBOX_SPECIAL_DRAFTS	= 0x04,
	DBOX_SPECIAL_FLAGGED	= 0x08,
	DBOX_SPECIAL_JUNK	= 0x10,
	DBOX_SPECIAL_SENT	= 0x20,
	DBOX_SPECIAL_TRASH	= 0x40,
	DBOX_SPECIAL_IMPORTANT	= 0x80,
};
#define DBOX_SPECIAL_MASK 0xffU

/* ---- storage ---------------------------------------------------------- */

/*
 * Where message content lives in memory. A server that keeps mail out of
 * memory merging (dboxd: secret arenas excluded from KSM) supplies its
 * allocator; the storage then uses it for the buffers that hold message
 * bytes: fetch read and result buffers (the data a dbox_fetch callback
 * sees), and append staging (the LF copy and the file image being written).
 * The functions must not fail (abort instead), like dbox's own; realloc
 * and free get NULL like their libc namesakes.
 */
struct dbox_allocator {
	void *(*alloc)(size_t size);
	void *(*realloc)(void *ptr, size_t size);
	void (*free)(void *ptr);
};

struct dbox_storage_settings {
	enum dbox_format format;
	/* Largest message accepted by append, in wire bytes; 0 = 64 MiB. */
	uint64_t max_message_size;
	/* mdbox: start a new m.<n> file once one reaches this; 0 = 10 MiB
	   (Dovecot's mdbox_rotate_size default). */
	uint64_t mdbox_rotate_size;
	/* Reads in flight during dbox_fetch_start(); 0 = 16. */
	unsigned int fetch_window;
	/* The process's event loop, shared with the caller; NULL = the
	   storage creates its own (AUTO backend) and destroys it on close. */
	struct dbox_io *io;
	/* Message content buffers (copied); NULL = malloc. dbox_mail_fetch()
	   still returns malloc'd data, as documented there. */
	const struct dbox_allocator *mail_alloc;
};

/* Open (creating if needed) the mail root: <root>/mailboxes/...,
   <root>/storage/ (mdbox), <root>/dboxd-index/ (our LMDB index). An index
   that is missing or damaged is rebuilt from the dbox files. */
int dbox_storage_open(const char *root,
		      const struct dbox_storage_settings *set,
		      struct dbox_storage **storage_r, const char **error_r);
void dbox_storage_close(struct dbox_storage **storage);
struct dbox_io *dbox_storage_get_io(struct dbox_storage *storage);
enum dbox_format dbox_storage_get_format(const struct dbox_storage *storage);

/* Throw away the index and rebuild it from the dbox files (what the files
   carry: messages, UIDs (sdbox), GUIDs, dates, sizes; mdbox messages go to
   the mailbox recorded in their B metadata). Flags and keywords of messages
   the old index still describes are kept when it is readable. */
int dbox_storage_rebuild(struct dbox_storage *storage, const char **error_r);
/* mdbox: rewrite storage files, dropping messages no mailbox refers to any
   more. A no-op for sdbox. */
int dbox_storage_purge(struct dbox_storage *storage, const char **error_r);

/* A descriptor that becomes readable when another process changes the
   index (inotify on the index file), so an idle connection can call
   dbox_mailbox_sync(); dbox_storage_notify_clear() drains it. -1 if
   unavailable. */
int dbox_storage_notify_fd(struct dbox_storage *storage);
void dbox_storage_notify_clear(struct dbox_storage *storage);

/* ---- mailbox list ----------------------------------------------------- */

enum dbox_mailbox_attr {
	DBOX_MAILBOX_NOSELECT		= 0x01,	/* exists only as a parent */
	DBOX_MAILBOX_HASCHILDREN	= 0x02,
	DBOX_MAILBOX_HASNOCHILDREN	= 0x04,
	DBOX_MAILBOX_SUBSCRIBED		= 0x08,
	DBOX_MAILBOX_NONEXISTENT	= 0x10,	/* subscribed, not there */
};

struct dbox_mailbox_info {
	char *name;
	unsigned int attrs;		/* enum dbox_mailbox_attr */
	unsigned int special_use;	/* enum dbox_special_use */
};

/* Every mailbox and every subscription, sorted by name. INBOX always
   exists (it is created on first use). */
int dbox_mailbox_list(struct dbox_storage *storage,
		      struct dbox_mailbox_info **infos_r, unsigned int *count_r,
		      const char **error_r);
void dbox_mailbox_list_free(struct dbox_mailbox_info **infos,
			    unsigned int count);

int dbox_mailbox_create(struct dbox_storage *storage, const char *name,
			unsigned int special_use, const char **error_r);
/* Deletes the mailbox's messages. A mailbox with children stays as a
   \Noselect parent; deleting a \Noselect mailbox with children fails. */
int dbox_mailbox_delete(struct dbox_storage *storage, const char *name,
			const char **error_r);
/* Renames the mailbox and its children. Renaming INBOX moves its messages
   into a new mailbox and leaves INBOX empty (RFC 3501). */
int dbox_mailbox_rename(struct dbox_storage *storage, const char *old_name,
			const char *new_name, const char **error_r);
int dbox_mailbox_subscribe(struct dbox_storage *storage, const char *name,
			   bool subscribe, const char **error_r);
int dbox_mailbox_set_special_use(struct dbox_storage *storage,
				 const char *name, unsigned int special_use,
				 const char **error_r);
/* Normalise and check a name: "inbox" -> "INBOX", no "..", no empty
   components, no control characters, valid UTF-8. Returns a malloc'd
   copy in *norm_r. */
int dbox_mailbox_name_normalize(const char *name, char **norm_r,
				const char **error_r);

/* ---- status ----------------------------------------------------------- */

struct dbox_status {
	uint32_t messages;
	uint32_t recent;	/* uids >= first_recent_uid */
	uint32_t uidnext;
	uint32_t uidvalidity;
	uint32_t unseen;
	uint64_t highest_modseq;
	uint64_t size;		/* sum of virtual sizes (STATUS=SIZE) */
};

/* STATUS without selecting: reads the index only. */
int dbox_mailbox_status(struct dbox_storage *storage, const char *name,
			struct dbox_status *status_r, const char **error_r);

/* ---- a selected mailbox ----------------------------------------------- */

enum dbox_open_flags {
	DBOX_OPEN_READONLY = 0x01,	/* refuse every change (EXAMINE) */
};

int dbox_mailbox_open(struct dbox_storage *storage, const char *name,
		      unsigned int flags, struct dbox_mailbox **box_r,
		      const char **error_r);
void dbox_mailbox_close(struct dbox_mailbox **box);
const char *dbox_mailbox_get_name(const struct dbox_mailbox *box);

/* One message as the view shows it. Strings belong to the view and stay
   valid until the next dbox_mailbox_sync() or close. */
struct dbox_mail {
	uint32_t uid;
	uint32_t flags;			/* enum dbox_mail_flag */
	uint64_t modseq;
	int64_t internal_date;		/* UNIX time */
	int64_t save_date;		/* UNIX time the message was saved */
	uint64_t physical_size;		/* as stored, LF line ends */
	uint64_t virtual_size;		/* on the wire, CRLF (RFC822.SIZE) */
	const char *guid;
	const char *const *keywords;	/* NULL-terminated */
};

/*
 * The view: the messages as of the last sync, in UID order, so sequence
 * number n is mails[n-1]. It changes only in dbox_mailbox_sync(), which is
 * how the IMAP layer controls when EXISTS/EXPUNGE are reported.
 */
void dbox_mailbox_get_mails(const struct dbox_mailbox *box,
			    const struct dbox_mail **mails_r,
			    unsigned int *count_r);
/* NULL if the uid is not in the view; *seq_r (may be NULL) is 1-based. */
const struct dbox_mail *dbox_mailbox_lookup_uid(const struct dbox_mailbox *box,
						uint32_t uid, uint32_t *seq_r);
/* Status of the view (uidnext etc. as of the last sync). */
void dbox_mailbox_get_status(const struct dbox_mailbox *box,
			     struct dbox_status *status_r);

/* What changed between the previous view and the new one. */
struct dbox_sync_result {
	/* Expunged messages as old-view sequence numbers in descending
	   order: reporting "* n EXPUNGE" in this order needs no renumbering.
	   expunged_uids[i] is the uid of expunged_seqs[i]. */
	uint32_t *expunged_seqs;
	uint32_t *expunged_uids;
	unsigned int expunged_count;
	/* Messages new since the previous sync: the last new_count mails of
	   the view. */
	unsigned int new_count;
	/* Still-present messages whose flags/keywords changed (modseq
	   grew), by uid, ascending. */
	uint32_t *changed_uids;
	unsigned int changed_count;
	bool uidvalidity_changed;	/* the view was reset (rebuild) */
	bool keywords_changed;		/* new keyword names appeared */
};
/* Refresh the view; others' changes (and our own) become visible here. */
int dbox_mailbox_sync(struct dbox_mailbox *box,
		      struct dbox_sync_result *result_r, const char **error_r);
void dbox_sync_result_free(struct dbox_sync_result *result);

/* QRESYNC: uids expunged after modseq (ascending). Index-wide, not the
   view. Expunge records older than the index keeps may be missing: then
   *complete_r is false and the caller reports what it has plus whatever
   uids it cannot prove still exist. */
int dbox_mailbox_expunged_since(struct dbox_mailbox *box, uint64_t modseq,
				uint32_t **uids_r, unsigned int *count_r,
				bool *complete_r, const char **error_r);
/* All keyword names the mailbox has ever used (PERMANENTFLAGS/FLAGS). */
void dbox_mailbox_get_keywords(const struct dbox_mailbox *box,
			       const char *const **names_r,
			       unsigned int *count_r);
/* \Recent: atomically claim every uid from the stored first-recent uid up
   to uidnext; returns the first uid this session may report as recent. */
int dbox_mailbox_claim_recent(struct dbox_mailbox *box,
			      uint32_t *first_recent_uid_r,
			      const char **error_r);

/* ---- changes ---------------------------------------------------------- */

struct dbox_append_params {
	int64_t internal_date;		/* 0 = now */
	uint32_t flags;			/* enum dbox_mail_flag */
	const char *const *keywords;	/* NULL-terminated, or NULL */
	const char *guid;		/* NULL = generate a 128-bit GUID */
};

struct dbox_append_msg {
	const void *data;		/* wire form (CRLF) */
	size_t size;
	struct dbox_append_params params;
};

/* Append one message; *uid_r (may be NULL) receives its uid. */
int dbox_mail_append(struct dbox_mailbox *box, const void *data, size_t size,
		     const struct dbox_append_params *params, uint32_t *uid_r,
		     const char **error_r);
/* Append several messages atomically (MULTIAPPEND): all or none. uids_r
   (may be NULL) receives count uids in ascending order (consecutive
   unless a crashed writer left a file behind that had to be adopted). */
int dbox_mail_append_many(struct dbox_mailbox *box,
			  const struct dbox_append_msg *msgs,
			  unsigned int count, uint32_t *uids_r,
			  const char **error_r);

/* Copy messages (by uid) into dst, atomically. dst_uids_r (may be NULL)
   gets the new uid of uids[i], or 0 for a uid that no longer exists.
   mdbox copies share the stored data (reference counted); sdbox hard-links
   the message file. Flags and keywords are copied. */
int dbox_mail_copy(struct dbox_mailbox *src, const uint32_t *uids,
		   unsigned int count, struct dbox_mailbox *dst,
		   uint32_t *dst_uids_r, const char **error_r);
/* Like copy, then expunge from src, in one index transaction. */
int dbox_mail_move(struct dbox_mailbox *src, const uint32_t *uids,
		   unsigned int count, struct dbox_mailbox *dst,
		   uint32_t *dst_uids_r, const char **error_r);
/* Uids already gone are ignored. */
int dbox_mail_expunge(struct dbox_mailbox *box, const uint32_t *uids,
		      unsigned int count, const char **error_r);

enum dbox_store_mode {
	DBOX_STORE_ADD,
	DBOX_STORE_REMOVE,
	DBOX_STORE_REPLACE,
};

struct dbox_store_params {
	enum dbox_store_mode mode;
	uint32_t flags;
	const char *const *keywords;	/* NULL-terminated, or NULL */
	/* CONDSTORE UNCHANGEDSINCE; 0 = unconditional. */
	uint64_t unchanged_since;
};

/* Change flags/keywords; each changed message gets a new modseq. Messages
   whose modseq is above unchanged_since are left alone and returned in
   *failed_uids_r (malloc'd, may be NULL when count is 0; pass NULL for
   both to ignore). Uids already gone are ignored. */
int dbox_mail_store(struct dbox_mailbox *box, const uint32_t *uids,
		    unsigned int count, const struct dbox_store_params *params,
		    uint32_t **failed_uids_r, unsigned int *failed_count_r,
		    const char **error_r);

/* ---- asynchronous changes -------------------------------------------- */

/*
 * Every change above also exists as a start function that returns at once
 * and reports through a callback, so an event loop never waits for an
 * fsync: data writes, file fsyncs and directory fsyncs are submitted to the
 * storage's dbox_io and the operation advances from its completions. The
 * synchronous functions above are start + wait (for tools, tests and the
 * delivery tool).
 *
 *  - The callback runs from a later dbox_io_run() on the storage's io,
 *    never from inside the start function, exactly once (unless the
 *    operation was abandoned). It reports success only once everything
 *    the change touched is durable, as the synchronous calls do.
 *  - A start function fails at once (-1, *error_r, no callback) for bad
 *    arguments and read-only mailboxes; everything else is reported by the
 *    callback.
 *  - Arguments are copied: message data, uid arrays and keywords may be
 *    freed when the start function returns.
 *  - The operation holds its mailboxes: dbox_mailbox_close() while it is
 *    in flight is fine (the mailbox goes when the operation is done).
 *    dbox_storage_close() first completes every operation in flight.
 *  - Operations of one process on one storage overlap in their data I/O;
 *    their index transactions run one at a time, in the order the
 *    operations are ready for them (start order for copy, move, expunge
 *    and store, which write no data first). An sdbox append or copy keeps
 *    the index writer lock while its directory fsync is in flight, which
 *    is what lets a crash never expose a renamed but unindexed file; a
 *    synchronous call that needs the index writer meanwhile waits for that
 *    fsync.
 *  - The callback must not call storage functions (see dbox-io.h); defer
 *    follow-up work to the caller's own loop.
 */
struct dbox_op;

struct dbox_op_result {
	int ret;			/* 0, or -1 */
	enum dbox_error err;		/* class of the failure */
	const char *error;		/* NULL on success */
	/* append: the new uids; copy/move: the destination uid of each
	   source uid (0 = it no longer existed). NULL on failure. */
	const uint32_t *uids;
	unsigned int uid_count;
	/* store: uids whose modseq was above unchanged_since */
	const uint32_t *failed_uids;
	unsigned int failed_count;
};
/* result and what it points to are valid during the call only. */
typedef void dbox_op_callback_t(void *context,
				const struct dbox_op_result *result);

/* op_r may be NULL when the caller never abandons the operation. */
int dbox_mail_append_start(struct dbox_mailbox *box,
			   const struct dbox_append_msg *msgs,
			   unsigned int count, dbox_op_callback_t *cb,
			   void *context, struct dbox_op **op_r,
			   const char **error_r);
int dbox_mail_copy_start(struct dbox_mailbox *src, const uint32_t *uids,
			 unsigned int count, struct dbox_mailbox *dst,
			 dbox_op_callback_t *cb, void *context,
			 struct dbox_op **op_r, const char **error_r);
int dbox_mail_move_start(struct dbox_mailbox *src, const uint32_t *uids,
			 unsigned int count, struct dbox_mailbox *dst,
			 dbox_op_callback_t *cb, void *context,
			 struct dbox_op **op_r, const char **error_r);
int dbox_mail_expunge_start(struct dbox_mailbox *box, const uint32_t *uids,
			    unsigned int count, dbox_op_callback_t *cb,
			    void *context, struct dbox_op **op_r,
			    const char **error_r);
int dbox_mail_store_start(struct dbox_mailbox *box, const uint32_t *uids,
			  unsigned int count,
			  const struct dbox_store_params *params,
			  dbox_op_callback_t *cb, void *context,
			  struct dbox_op **op_r, const char **error_r);
/* The caller loses interest (its client went away): no callback. The
   operation still completes (or fails) on its own; a change that was
   already durable stays. May be called from the callback of another
   operation, never from its own. */
void dbox_op_abandon(struct dbox_op **op);
/* Operations of the storage not yet delivered. */
unsigned int dbox_storage_ops_in_flight(const struct dbox_storage *storage);

/* ---- fetch ------------------------------------------------------------ */

enum dbox_fetch_part {
	DBOX_FETCH_WHOLE,	/* BODY[] */
	DBOX_FETCH_HEADER,	/* BODY[HEADER], blank line included */
	DBOX_FETCH_TEXT,	/* BODY[TEXT] */
};

struct dbox_fetch_req {
	uint32_t uid;
	enum dbox_fetch_part part;
	/* A byte range of the part in wire form: <offset.length>. */
	uint64_t offset;
	uint64_t length;	/* UINT64_MAX = to the end */
};

/* Fetch one part synchronously; *data_r is malloc'd (NUL-terminated for
   convenience, not counted in *size_r). */
int dbox_mail_fetch(struct dbox_mailbox *box, const struct dbox_fetch_req *req,
		    void **data_r, size_t *size_r, const char **error_r);

/* Called once per request, in request order. On success error is NULL and
   data/size hold the part (valid during the call only); otherwise error
   says why and err is the class (EXPUNGED for a vanished message). */
typedef void dbox_fetch_callback_t(void *context, unsigned int idx,
				   const void *data, size_t size,
				   enum dbox_error err, const char *error);

/* Fetch many parts asynchronously with up to fetch_window reads in flight.
   Callbacks run from dbox_io_run() on the storage's io. reqs is copied. */
int dbox_fetch_start(struct dbox_mailbox *box,
		     const struct dbox_fetch_req *reqs, unsigned int count,
		     dbox_fetch_callback_t *cb, void *context,
		     struct dbox_fetch **fetch_r, const char **error_r);
bool dbox_fetch_is_done(const struct dbox_fetch *fetch);
/* No more callbacks after this (it may be called from one). Reads still in
   flight complete in later dbox_io_run() calls, which then release the
   memory. */
void dbox_fetch_free(struct dbox_fetch **fetch);
/* Run the io loop until the fetch is done. */
int dbox_fetch_wait(struct dbox_fetch *fetch, const char **error_r);

/* ---- modified UTF-7 (RFC 3501 5.1.3) ---------------------------------- */

/* Returns malloc'd strings; -1 with *error_r for invalid input. */
int dbox_mutf7_to_utf8(const char *mutf7, char **utf8_r, const char **error_r);
int dbox_utf8_to_mutf7(const char *utf8, char **mutf7_r, const char **error_r);

#endif
