// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fallback when io_uring is refused. A seccomp filter makes
 * io_uring_setup fail with EPERM, as kernel.io_uring_disabled=2 or a
 * container's seccomp profile do (the sysctl is system-wide, so the test
 * does not touch it): AUTO must fall back to synchronous I/O and say why,
 * a forced io_uring must fail clearly, and the storage must work.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dbox.h"
#include "tap.h"

static int deny_io_uring(int err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO |
			 ((unsigned int)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -1;
	return 0;
}

/* Runs in a child under the filter; exit code = number of failures. */
static int child_checks(int err, const char *root)
{
	struct dbox_io_settings forced = { DBOX_IO_BACKEND_URING, 0, true };
	struct dbox_io_settings autoset = { DBOX_IO_BACKEND_AUTO, 0, true };
	struct dbox_storage_settings set = { .format = DBOX_FORMAT_MDBOX };
	struct dbox_fetch_req req = { 0, DBOX_FETCH_WHOLE, 0, UINT64_MAX };
	struct dbox_storage *storage;
	struct dbox_mailbox *box;
	struct dbox_sync_result r;
	struct dbox_io *io;
	const char *error, *reason;
	int failures = 0;
	void *data;
	size_t size;

	if (deny_io_uring(err) < 0)
		return 100;
	if (dbox_io_create(&forced, &io, &error) == 0) {
		failures++;
		dbox_io_destroy(&io);
	} else if (strstr(error, strerror(err)) == NULL) {
		failures++;
	}
	if (dbox_io_create(&autoset, &io, &error) < 0)
		return failures + 10;
	reason = dbox_io_get_fallback_reason(io);
	if (dbox_io_get_backend(io) != DBOX_IO_BACKEND_SYNC || reason == NULL ||
	    strstr(reason, strerror(err)) == NULL)
		failures++;
	set.io = io;
	if (dbox_storage_open(root, &set, &storage, &error) < 0 ||
	    dbox_mailbox_open(storage, "INBOX", 0, &box, &error) < 0)
		return failures + 20;
	if (dbox_mail_append(box, "Subject: x\r\n\r\nhi\r\n", 18, NULL,
			     &req.uid, &error) < 0 ||
	    dbox_mailbox_sync(box, &r, &error) < 0 ||
	    dbox_mail_fetch(box, &req, &data, &size, &error) < 0 ||
	    size != 18)
		failures++;
	dbox_mailbox_close(&box);
	dbox_storage_close(&storage);
	dbox_io_destroy(&io);
	return failures;
}

static void run_child(int err, const char *name)
{
	char *root = tap_tempdir("fallback");
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(child_checks(err, root));
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 100) {
		tap_skip("seccomp unavailable", "io_uring refused with %s", name);
		free(root);
		return;
	}
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "io_uring refused with %s: a forced io_uring fails naming the "
	       "error, AUTO falls back to sync and says why, storage works "
	       "(exit %d)", name, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	free(root);
}

int main(void)
{
	tap_quiet_logs();
	run_child(EPERM, "EPERM (io_uring_disabled, seccomp)");
	run_child(ENOSYS, "ENOSYS (kernel without io_uring)");
	return tap_done();
}
