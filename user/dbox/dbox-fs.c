// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "dbox-fs.h"
#include "dbox-util.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static int open_level(int dirfd, const char *name, bool create, int *fd_r,
		      const char **error_r)
{
	int fd;

	if (strcmp(name, "..") == 0 || strcmp(name, ".") == 0 || *name == '\0')
		return dbox_fail(error_r, DBOX_ERROR_PARAMS,
				 "Refusing path level '%s'", name);
	fd = openat(dirfd, name, DIR_FLAGS);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
			return dbox_fail(error_r, DBOX_ERROR_TEMP,
					 "mkdir(%s) failed: %m", name);
		if (fsync(dirfd) < 0)
			return dbox_fail(error_r, DBOX_ERROR_TEMP,
					 "fsync(parent of %s) failed: %m",
					 name);
		fd = openat(dirfd, name, DIR_FLAGS);
	}
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return dbox_fail(error_r, DBOX_ERROR_PARAMS,
					 "'%s' is not a directory (symlinks "
					 "are not followed)", name);
		return dbox_fail(error_r, errno == ENOENT ?
				 DBOX_ERROR_NOTFOUND : DBOX_ERROR_TEMP,
				 "open(%s) failed: %m", name);
	}
	*fd_r = fd;
	return 0;
}

int dbox_fs_open_dir(int dirfd, const char *relpath, bool create, int *fd_r,
		     const char **error_r)
{
	char *path = dbox_strdup(relpath), *level, *save = NULL;
	int fd = -1, next = -1, cur = dirfd, ret = 0;

	for (level = strtok_r(path, "/", &save); level != NULL;
	     level = strtok_r(NULL, "/", &save)) {
		ret = open_level(cur, level, create, &next, error_r);
		if (cur != dirfd)
			close(cur);
		if (ret < 0)
			break;
		cur = next;
	}
	free(path);
	if (ret < 0)
		return -1;
	if (cur == dirfd) {
		/* empty path: a new fd for the same directory */
		fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return dbox_fail(error_r, DBOX_ERROR_TEMP,
					 "dup() failed: %m");
		cur = fd;
	}
	*fd_r = cur;
	return 0;
}

int dbox_fs_open_dir_if_exists(int dirfd, const char *relpath, int *fd_r,
			       const char **error_r)
{
	if (dbox_fs_open_dir(dirfd, relpath, false, fd_r, error_r) == 0)
		return 0;
	if (dbox_last_error() != DBOX_ERROR_NOTFOUND)
		return -1;
	*fd_r = -1;
	return 0;
}

int dbox_fs_open_file(int dirfd, const char *name, int flags, mode_t mode,
		      int *fd_r)
{
	int fd;

	if (strchr(name, '/') != NULL) {
		errno = EINVAL;
		return -1;
	}
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	*fd_r = fd;
	return 0;
}

DIR *dbox_fs_opendir_at(int dirfd)
{
	DIR *dir;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	dir = fdopendir(fd);
	if (dir == NULL)
		close(fd);
	return dir;
}

static int remove_children(int fd, const char **error_r)
{
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	dir = dbox_fs_opendir_at(fd);
	if (dir == NULL)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "opendir() failed: %m");
	while (ret == 0 && (d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, d->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno == EISDIR || errno == EPERM)
			ret = dbox_fs_remove_tree(fd, d->d_name, error_r);
		else
			ret = dbox_fail(error_r, DBOX_ERROR_TEMP,
					"unlink(%s) failed: %m", d->d_name);
	}
	closedir(dir);
	return ret;
}

int dbox_fs_remove_tree(int dirfd, const char *name, const char **error_r)
{
	int fd, ret;

	fd = openat(dirfd, name, DIR_FLAGS);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP || errno == ENOTDIR) {
			/* a symlink or file where a directory was expected:
			   remove the entry itself, follow nothing */
			if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
				return dbox_fail(error_r, DBOX_ERROR_TEMP,
						 "unlink(%s) failed: %m", name);
			return 0;
		}
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "open(%s) failed: %m", name);
	}
	ret = remove_children(fd, error_r);
	close(fd);
	if (ret == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 &&
	    errno != ENOENT)
		ret = dbox_fail(error_r, DBOX_ERROR_TEMP,
				"rmdir(%s) failed: %m", name);
	return ret;
}

int dbox_fs_fsync_fd(int fd, const char *what, const char **error_r)
{
	if (fsync(fd) < 0)
		return dbox_fail(error_r, DBOX_ERROR_TEMP,
				 "fsync(%s) failed: %m", what);
	return 0;
}

int dbox_fs_read_small(int dirfd, const char *name, size_t max,
		       char **data_r, size_t *size_r)
{
	char *data = dbox_malloc(max + 1);
	size_t size = 0;
	ssize_t ret = 0;
	int fd, saved;

	if (dbox_fs_open_file(dirfd, name, O_RDONLY, 0, &fd) < 0) {
		free(data);
		return -1;
	}
	while (size < max) {
		ret = read(fd, data + size, max - size);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			break;
		size += (size_t)ret;
	}
	saved = errno;
	if (ret < 0) {
		close(fd);
		free(data);
		errno = saved;
		return -1;
	}
	close(fd);
	data[size] = '\0';
	*data_r = data;
	*size_r = size;
	return 0;
}

int dbox_fs_write_atomic(int dirfd, const char *name, const void *data,
			 size_t size, const char **error_r)
{
	char *tmp = dbox_fs_temp_name();
	const unsigned char *p = data;
	size_t done = 0;
	ssize_t ret;
	int fd;

	if (dbox_fs_open_file(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600,
			      &fd) < 0) {
		dbox_fail(error_r, DBOX_ERROR_TEMP, "creat(%s) failed: %m",
			  tmp);
		free(tmp);
		return -1;
	}
	while (done < size) {
		ret = write(fd, p + done, size - done);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			goto err_unlink;
		done += (size_t)ret;
	}
	if (fsync(fd) < 0)
		goto err_unlink;
	close(fd);
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto err_unlink;
	free(tmp);
	return dbox_fs_fsync_fd(dirfd, name, error_r);

err_unlink:
	dbox_fail(error_r, DBOX_ERROR_TEMP, "writing %s failed: %m", name);
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	free(tmp);
	return -1;
}

char *dbox_fs_temp_name(void)
{
	static unsigned int counter;
	static char host[64];
	struct timeval tv;
	char *p;

	if (host[0] == '\0') {
		if (gethostname(host, sizeof(host) - 1) < 0)
			strcpy(host, "localhost");
		/* '/' would make a path; Dovecot escapes it too */
		for (p = host; *p != '\0'; p++) {
			if (*p == '/' || *p == ':')
				*p = '_';
		}
	}
	gettimeofday(&tv, NULL);
	return dbox_printf("temp.%lu.P%dQ%uM%u.%s", (unsigned long)tv.tv_sec,
			   (int)getpid(), counter++, (unsigned int)tv.tv_usec,
			   host);
}
