// SPDX-License-Identifier: GPL-2.0-or-later
/* The process connector; see procmon.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "procmon.h"

struct ksmgd_procmon {
	int fd;
};

/* Ask the connector to start (or stop) sending us process events. */
static int send_mcast_op(int fd, enum proc_cn_mcast_op op)
{
	char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct cn_msg *cn;

	memset(buf, 0, sizeof(buf));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(op));
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = 0;
	cn = NLMSG_DATA(nlh);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	return send(fd, buf, nlh->nlmsg_len, 0) < 0 ? -1 : 0;
}

static int open_socket(const char **error_r)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = CN_IDX_PROC,
	};
	int fd, size = 8 << 20, saved_errno;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    NETLINK_CONNECTOR);
	if (fd < 0) {
		*error_r = "the kernel has no netlink connector (CONFIG_CONNECTOR)";
		if (errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT)
			errno = EPROTONOSUPPORT;
		return -1;
	}
	/*
	 * Fork storms queue many events; a big buffer keeps us from losing
	 * them. The forced variant needs CAP_NET_ADMIN, which we have.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*error_r = errno == EPERM ?
			"listening to process events needs CAP_NET_ADMIN: run as root" :
			"cannot bind to the process connector (CONFIG_PROC_EVENTS?)";
		goto close_fd;
	}
	if (send_mcast_op(fd, PROC_CN_MCAST_LISTEN) < 0) {
		*error_r = "cannot subscribe to process events";
		goto close_fd;
	}
	return fd;

close_fd:
	saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return -1;
}

int ksmgd_procmon_open(struct ksmgd_procmon **pm_r, const char **error_r)
{
	struct ksmgd_procmon *pm;

	pm = calloc(1, sizeof(*pm));
	if (pm == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	pm->fd = open_socket(error_r);
	if (pm->fd < 0) {
		int saved_errno = errno;

		free(pm);
		errno = saved_errno;
		return -1;
	}
	*pm_r = pm;
	return 0;
}

void ksmgd_procmon_close(struct ksmgd_procmon **pm)
{
	if (pm == NULL || *pm == NULL)
		return;
	/* The kernel counts listeners; tell it we are gone. */
	send_mcast_op((*pm)->fd, PROC_CN_MCAST_IGNORE);
	close((*pm)->fd);
	free(*pm);
	*pm = NULL;
}

int ksmgd_procmon_fd(const struct ksmgd_procmon *pm)
{
	return pm->fd;
}

/* Turn one proc_event into ours; false for the kinds we ignore. */
static bool translate(const struct proc_event *pe, struct ksmgd_proc_event *ev)
{
	ev->timestamp_ns = pe->timestamp_ns;
	switch (pe->what) {
	case PROC_EVENT_EXEC:
		ev->what = KSMGD_PROC_EXEC;
		ev->pid = pe->event_data.exec.process_tgid;
		return true;
	case PROC_EVENT_FORK:
		/* A new thread shares its process's memory: nothing new. */
		if (pe->event_data.fork.child_pid !=
		    pe->event_data.fork.child_tgid)
			return false;
		ev->what = KSMGD_PROC_FORK;
		ev->pid = pe->event_data.fork.child_tgid;
		return true;
	case PROC_EVENT_UID:
		ev->what = KSMGD_PROC_UID;
		ev->pid = pe->event_data.id.process_tgid;
		return true;
	default:
		return false;
	}
}

static void handle_datagram(const char *buf, size_t len,
			    ksmgd_procmon_cb_t *cb, void *ctx)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	struct ksmgd_proc_event ev;
	struct proc_event pe;
	const struct cn_msg *cn;

	for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		if (nlh->nlmsg_type == NLMSG_NOOP ||
		    nlh->nlmsg_type == NLMSG_ERROR)
			continue;
		cn = NLMSG_DATA(nlh);
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn)) ||
		    cn->len > nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*cn)) ||
		    cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
			continue;
		/* Kernels before 6.x send shorter unions; copy what came. */
		memset(&pe, 0, sizeof(pe));
		memcpy(&pe, cn->data,
		       cn->len < sizeof(pe) ? cn->len : sizeof(pe));
		if (translate(&pe, &ev))
			cb(&ev, ctx);
	}
}

int ksmgd_procmon_read(struct ksmgd_procmon *pm, ksmgd_procmon_cb_t *cb,
		       void *ctx)
{
	/* Aligned for the nlmsghdr casts in handle_datagram(). */
	char buf[16384] __attribute__((aligned(8)));
	struct sockaddr_nl from;
	socklen_t fromlen;
	ssize_t len;

	for (;;) {
		fromlen = sizeof(from);
		len = recvfrom(pm->fd, buf, sizeof(buf), 0,
			       (struct sockaddr *)&from, &fromlen);
		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* Only the kernel (port 0) may speak for the connector. */
		if (from.nl_pid != 0)
			continue;
		handle_datagram(buf, (size_t)len, cb, ctx);
	}
}
