/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Filesystem access confined to the mail root: every path is relative to a
 * directory fd and walked one level at a time with O_NOFOLLOW, so neither
 * ".." (already refused by the name rules) nor a planted symlink can lead
 * outside. Directory creation is made durable (parent fsync'd).
 */
#ifndef DBOX_FS_H
#define DBOX_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <dirent.h>
#include <sys/types.h>

/* Open the directory relpath ('/'-separated, no "." or "..") below dirfd.
   create: make missing levels (mode 0700), fsync'ing each parent. */
int dbox_fs_open_dir(int dirfd, const char *relpath, bool create, int *fd_r,
		     const char **error_r);
/* Like dbox_fs_open_dir but returns 0 with *fd_r = -1 when missing. */
int dbox_fs_open_dir_if_exists(int dirfd, const char *relpath, int *fd_r,
			       const char **error_r);
/* Open a regular file below dirfd (one level, no '/'), never a symlink. */
int dbox_fs_open_file(int dirfd, const char *name, int flags, mode_t mode,
		      int *fd_r);
/* A directory stream of its own for dirfd (a dup would share the read
   position with dirfd and every other dup). NULL with errno. */
DIR *dbox_fs_opendir_at(int dirfd);
/* Remove a directory tree (symlinks are removed, never followed). */
int dbox_fs_remove_tree(int dirfd, const char *name, const char **error_r);
/* fsync a directory fd (plain fsync: directory metadata, not mail data). */
int dbox_fs_fsync_fd(int fd, const char *what, const char **error_r);
/* Read a small control file whole; *data_r NUL-terminated, malloc'd.
   Returns 0, or -1 with errno (ENOENT when missing). */
int dbox_fs_read_small(int dirfd, const char *name, size_t max,
		       char **data_r, size_t *size_r);
/* Replace a small control file atomically: temp file, fsync, rename,
   fsync directory. */
int dbox_fs_write_atomic(int dirfd, const char *name, const void *data,
			 size_t size, const char **error_r);
/* A name for a temporary file: temp.<time>.P<pid>Q<n>M<usec>.<host>, the
   form Dovecot uses (and cleans up after 36 hours). */
char *dbox_fs_temp_name(void);

#endif
