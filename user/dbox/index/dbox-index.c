// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LMDB environment, the per-process registry, transactions, meta counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbox-index-private.h"
#include "../dbox-fs.h"
#include "../dbox-log.h"

/* Virtual size of the map; the file grows only as data is written. 4 GiB
   holds millions of messages' records. */
#define DBOX_INDEX_MAPSIZE (4ULL << 30)

/*
 * MDB_NOMETASYNC: a commit fdatasyncs the new pages, then writes the meta
 * page that makes them current without a second fdatasync. The database
 * stays consistent whatever a crash keeps; what the crash may undo is the
 * last commit, until the next fdatasync of the data file. dbox_txn_commit()
 * does that fdatasync itself unless the caller took it over
 * (dbox_index_defer_sync()): half of the commit's disk waits then leave
 * the event loop.
 */
#define ENV_FLAGS (MDB_NOTLS | MDB_NOMETASYNC)

static const char *const db_names[DBOX_DB_COUNT] = {
	[DBOX_DB_META] = "meta",
	[DBOX_DB_MAILBOXES] = "mailboxes",
	[DBOX_DB_MAILS] = "mails",
	[DBOX_DB_EXPUNGED] = "expunged",
	[DBOX_DB_MAP] = "map",
	[DBOX_DB_FILES] = "files",
};

/*
 * One per index directory per process; the registry list is the only
 * global state of the library. refcount counts struct dbox_index handles.
 */
struct dbox_index_env {
	struct dbox_index_env *next;
	dev_t dev;
	ino_t ino;
	unsigned int refcount;
	pid_t pid;		/* an entry inherited through fork is unusable */
	MDB_env *env;
	MDB_dbi dbis[DBOX_DB_COUNT];
	char *data_path;
	/* see dbox_index_writer_hold() */
	const struct dbox_index *writer_holder;
	/* see dbox_index_defer_sync() */
	bool sync_deferred;
};

static struct dbox_index_env *env_registry;

bool dbox_index_err_is_corruption(int mdb_err)
{
	return mdb_err == MDB_CORRUPTED || mdb_err == MDB_PAGE_NOTFOUND ||
		mdb_err == MDB_INVALID || mdb_err == MDB_VERSION_MISMATCH ||
		mdb_err == MDB_INCOMPATIBLE || mdb_err == MDB_BAD_VALSIZE;
}

int dbox_index_fail(const char **error_r, int mdb_err, const char *what)
{
	return dbox_fail(error_r, dbox_index_err_is_corruption(mdb_err) ?
			 DBOX_ERROR_CORRUPTED : mdb_err == MDB_MAP_FULL ?
			 DBOX_ERROR_LIMIT : DBOX_ERROR_TEMP,
			 "index %s failed: %s", what, mdb_strerror(mdb_err));
}

static int env_open_dbis(struct dbox_index_env *ie, const char **error_r)
{
	MDB_txn *txn;
	unsigned int i;
	int ret;

	ret = mdb_txn_begin(ie->env, NULL, 0, &txn);
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "txn_begin");
	for (i = 0; i < DBOX_DB_COUNT; i++) {
		ret = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &ie->dbis[i]);
		if (ret != 0) {
			mdb_txn_abort(txn);
			return dbox_index_fail(error_r, ret, "dbi_open");
		}
	}
	ret = mdb_txn_commit(txn);
	if (ret == 0)
		ret = mdb_env_sync(ie->env, 1);
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "commit");
	return 0;
}

/*
 * LMDB maps the data file and trusts its meta page: when the file is
 * shorter than the pages the meta claims (a disk that lost unflushed
 * writes, a truncated copy), the first read of the missing tail is a
 * SIGBUS. Check before anything touches the map. mdb_env_open() has read
 * both meta pages with pread() (it fails with MDB_INVALID when either is
 * missing) and mdb_env_info() reports the newest one, the only one LMDB
 * uses: the file must hold both meta pages and every page up to its
 * me_last_pgno. LMDB never shrinks the file, so this cannot race with a
 * writer in another process.
 */
static int env_check_size(struct dbox_index_env *ie, const char **error_r)
{
	MDB_envinfo info;
	MDB_stat stat;
	struct stat st;
	uint64_t need;
	int fd;

	if (mdb_env_get_fd(ie->env, &fd) != 0 || fstat(fd, &st) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "fstat(index data file) failed: %m");
	if (mdb_env_info(ie->env, &info) != 0 ||
	    mdb_env_stat(ie->env, &stat) != 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "index env_info failed");
	if (st.st_size == 0)
		return 0;	/* a new environment, nothing committed yet */
	need = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
	if (need < 2ULL * stat.ms_psize)
		need = 2ULL * stat.ms_psize;
	if ((uint64_t)st.st_size < need)
		return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
				 "index data file is %llu bytes but its meta "
				 "page needs %llu (%zu pages of %u bytes): "
				 "truncated", (unsigned long long)st.st_size,
				 (unsigned long long)need,
				 info.me_last_pgno + 1, stat.ms_psize);
	return 0;
}

static int env_create(int dir_fd, const struct stat *st,
		      struct dbox_index_env **ie_r, const char **error_r)
{
	struct dbox_index_env *ie = dbox_calloc(1, sizeof(*ie));
	char *path = dbox_printf("/proc/self/fd/%d", dir_fd), *real;
	int ret, dead;

	/* LMDB takes a path; resolve the fd we opened safely rather than
	   trusting the caller's string again */
	real = realpath(path, NULL);
	free(path);
	if (real == NULL) {
		free(ie);
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "realpath(index dir) failed: %m");
	}
	ret = mdb_env_create(&ie->env);
	if (ret == 0)
		ret = mdb_env_set_maxdbs(ie->env, DBOX_DB_COUNT);
	if (ret == 0)
		ret = mdb_env_set_mapsize(ie->env, DBOX_INDEX_MAPSIZE);
	if (ret == 0)
		ret = mdb_env_open(ie->env, real, ENV_FLAGS, 0600);
	if (ret != 0) {
		dbox_index_fail(error_r, ret, "open");
		goto err_env;
	}
	if (env_check_size(ie, error_r) < 0)
		goto err_env;
	/* slots of readers that died (SIGKILL) would pin old pages */
	(void)mdb_reader_check(ie->env, &dead);
	if (env_open_dbis(ie, error_r) < 0)
		goto err_env;
	/* LMDB may just have created data.mdb and lock.mdb: make their
	   names durable, or a power cut could lose the whole index */
	if (fsync(dir_fd) < 0) {
		dbox_fail(error_r, DBOX_ERROR_TEMP,
			  "fsync(index dir) failed: %m");
		goto err_env;
	}
	ie->data_path = dbox_printf("%s/data.mdb", real);
	ie->dev = st->st_dev;
	ie->ino = st->st_ino;
	ie->pid = getpid();
	free(real);
	*ie_r = ie;
	return 0;

err_env:
	if (ie->env != NULL)
		mdb_env_close(ie->env);
	free(real);
	free(ie);
	return -1;
}

static int check_created(struct dbox_index *index, bool *created_r,
			 const char **error_r)
{
	struct dbox_txn *txn;
	uint64_t version;
	int ret;

	if (dbox_txn_begin(index, false, &txn, error_r) < 0)
		return -1;
	ret = dbox_idx_meta_get(txn, "version", &version, error_r);
	dbox_txn_abort(&txn);
	if (ret < 0)
		return -1;
	if (ret > 0 && version != DBOX_INDEX_VERSION)
		return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
				 "index version %llu is not %d",
				 (unsigned long long)version,
				 DBOX_INDEX_VERSION);
	*created_r = ret == 0;
	return 0;
}

int dbox_index_open(int root_fd, struct dbox_index **index_r,
		    bool *created_r, const char **error_r)
{
	struct dbox_index_env *ie;
	struct dbox_index *index;
	struct stat st;
	int dir_fd;

	if (dbox_fs_open_dir(root_fd, DBOX_INDEX_DIR, true, &dir_fd,
			     error_r) < 0)
		return -1;
	if (fstat(dir_fd, &st) < 0) {
		close(dir_fd);
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "fstat(index dir) failed: %m");
	}
	for (ie = env_registry; ie != NULL; ie = ie->next) {
		if (ie->dev == st.st_dev && ie->ino == st.st_ino &&
		    ie->pid == getpid())
			break;
	}
	if (ie == NULL) {
		if (env_create(dir_fd, &st, &ie, error_r) < 0) {
			close(dir_fd);
			return -1;
		}
		ie->next = env_registry;
		env_registry = ie;
	}
	close(dir_fd);
	ie->refcount++;
	index = dbox_calloc(1, sizeof(*index));
	index->env = ie;
	if (check_created(index, created_r, error_r) < 0) {
		dbox_index_close(&index);
		return -1;
	}
	*index_r = index;
	return 0;
}

void dbox_index_close(struct dbox_index **_index)
{
	struct dbox_index *index = *_index;
	struct dbox_index_env *ie, **pos;

	if (index == NULL)
		return;
	*_index = NULL;
	ie = index->env;
	free(index);
	if (--ie->refcount > 0)
		return;
	for (pos = &env_registry; *pos != NULL; pos = &(*pos)->next) {
		if (*pos == ie) {
			*pos = ie->next;
			break;
		}
	}
	mdb_env_close(ie->env);
	free(ie->data_path);
	free(ie);
}

const char *dbox_index_data_path(const struct dbox_index *index)
{
	return index->env->data_path;
}

void dbox_index_set_writer_wait(struct dbox_index *index,
				dbox_index_writer_wait_t *wait, void *context)
{
	index->writer_wait = wait;
	index->writer_wait_ctx = context;
}

void dbox_index_writer_hold(struct dbox_index *index, bool hold)
{
	index->env->writer_holder = hold ? index : NULL;
}

const struct dbox_index *dbox_index_writer_holder(const struct dbox_index *index)
{
	return index->env->writer_holder;
}

int dbox_txn_begin(struct dbox_index *index, bool write,
		   struct dbox_txn **txn_r, const char **error_r)
{
	struct dbox_txn *txn;
	int ret;

	if (write && index->env->writer_holder != NULL) {
		if (index->writer_wait == NULL)
			return dbox_fail(error_r, DBOX_ERROR_INUSE, "The index "
					 "writer is busy in this process");
		if (index->writer_wait(index->writer_wait_ctx, error_r) < 0)
			return -1;
	}
	txn = dbox_calloc(1, sizeof(*txn));
	ret = mdb_txn_begin(index->env->env, NULL, write ? 0 : MDB_RDONLY,
			    &txn->txn);
	if (ret == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size */
		(void)mdb_env_set_mapsize(index->env->env, 0);
		ret = mdb_txn_begin(index->env->env, NULL,
				    write ? 0 : MDB_RDONLY, &txn->txn);
	}
	if (ret != 0) {
		free(txn);
		return dbox_index_fail(error_r, ret, "txn_begin");
	}
	txn->dbis = index->env->dbis;
	txn->env = index->env;
	txn->write = write;
	*txn_r = txn;
	return 0;
}

int dbox_txn_commit(struct dbox_txn **_txn, const char **error_r)
{
	struct dbox_txn *txn = *_txn;
	int ret;

	*_txn = NULL;
	/* consistent on disk on return (see ENV_FLAGS); durable once the
	   meta page is flushed too */
	ret = mdb_txn_commit(txn->txn);
	if (ret == 0 && txn->write && !txn->env->sync_deferred)
		ret = mdb_env_sync(txn->env->env, 1);
	free(txn);
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "commit");
	return 0;
}

void dbox_index_defer_sync(struct dbox_index *index, bool defer)
{
	index->env->sync_deferred = defer;
}

int dbox_index_sync_fd(const struct dbox_index *index)
{
	mdb_filehandle_t fd;

	if (mdb_env_get_fd(index->env->env, &fd) != 0)
		return -1;
	return fd;
}

void dbox_txn_abort(struct dbox_txn **_txn)
{
	struct dbox_txn *txn = *_txn;

	if (txn == NULL)
		return;
	*_txn = NULL;
	mdb_txn_abort(txn->txn);
	free(txn);
}

int dbox_index_get(struct dbox_txn *txn, enum dbox_index_db db,
		   const void *key, size_t key_size, MDB_val *val_r,
		   const char **error_r)
{
	MDB_val k = { key_size, (void *)key };
	int ret;

	ret = mdb_get(txn->txn, txn->dbis[db], &k, val_r);
	if (ret == MDB_NOTFOUND)
		return 0;
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "get");
	return 1;
}

int dbox_index_put(struct dbox_txn *txn, enum dbox_index_db db,
		   const void *key, size_t key_size, const void *val,
		   size_t val_size, const char **error_r)
{
	MDB_val k = { key_size, (void *)key }, v = { val_size, (void *)val };
	int ret;

	ret = mdb_put(txn->txn, txn->dbis[db], &k, &v, 0);
	if (ret != 0)
		return dbox_index_fail(error_r, ret, "put");
	return 0;
}

int dbox_index_del(struct dbox_txn *txn, enum dbox_index_db db,
		   const void *key, size_t key_size, const char **error_r)
{
	MDB_val k = { key_size, (void *)key };
	int ret;

	ret = mdb_del(txn->txn, txn->dbis[db], &k, NULL);
	if (ret != 0 && ret != MDB_NOTFOUND)
		return dbox_index_fail(error_r, ret, "del");
	return 0;
}

int dbox_index_clear(struct dbox_txn *txn, const char **error_r)
{
	unsigned int i;
	int ret;

	for (i = 0; i < DBOX_DB_COUNT; i++) {
		if (i == DBOX_DB_META)
			continue;
		ret = mdb_drop(txn->txn, txn->dbis[i], 0);
		if (ret != 0)
			return dbox_index_fail(error_r, ret, "drop");
	}
	return 0;
}

int dbox_idx_meta_get(struct dbox_txn *txn, const char *key,
		      uint64_t *value_r, const char **error_r)
{
	MDB_val val;
	int ret;

	*value_r = 0;
	ret = dbox_index_get(txn, DBOX_DB_META, key, strlen(key), &val,
			     error_r);
	if (ret <= 0)
		return ret;
	if (val.mv_size != sizeof(*value_r))
		return dbox_fail(error_r, DBOX_ERROR_CORRUPTED,
				 "index meta %s has a bad size", key);
	memcpy(value_r, val.mv_data, sizeof(*value_r));
	return 1;
}

int dbox_idx_meta_set(struct dbox_txn *txn, const char *key, uint64_t value,
		      const char **error_r)
{
	return dbox_index_put(txn, DBOX_DB_META, key, strlen(key), &value,
			      sizeof(value), error_r);
}

int dbox_idx_meta_alloc(struct dbox_txn *txn, const char *key,
			uint32_t count, uint32_t *first_r,
			const char **error_r)
{
	uint64_t value;

	if (dbox_idx_meta_get(txn, key, &value, error_r) < 0)
		return -1;
	if (value == 0)
		value = 1;
	if (value + count > UINT32_MAX)
		return dbox_fail(error_r, DBOX_ERROR_LIMIT,
				 "index counter %s exhausted", key);
	*first_r = (uint32_t)value;
	return dbox_idx_meta_set(txn, key, value + count, error_r);
}
