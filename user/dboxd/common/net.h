/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listening addresses and socket helpers. */
#ifndef DBOXD_NET_H
#define DBOXD_NET_H

#include <stdbool.h>
#include <sys/socket.h>

struct dboxd_listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[80];		/* as written, normalised: "1.2.3.4:143" */
};

/* "host:port, [v6]:port, *:port"; an empty string is an empty list.
   *addrs_r is malloc'd. Hosts must be numeric addresses. */
int dboxd_listen_parse(const char *list, struct dboxd_listen_addr **addrs_r,
		       unsigned int *count_r, const char **error_r);
/* A non-blocking, close-on-exec listening TCP socket. */
int dboxd_listen_open(const struct dboxd_listen_addr *addr,
		      const char **error_r);

/* The numeric address of sa (IPv4-mapped IPv6 shown as IPv4) and port. */
void dboxd_sockaddr_format(const struct sockaddr *sa, char *ip, size_t size,
			   unsigned int *port_r);
/* Whether sa is 127.0.0.0/8, ::1 or IPv4-mapped loopback. */
bool dboxd_sockaddr_is_loopback(const struct sockaddr *sa);

int dboxd_fd_set_nonblock(int fd);
/* TCP_NODELAY on an accepted connection: a reply is written in several
   pieces, and with Nagle its last segment waits for the client's delayed
   ACK (40 ms on Linux) whenever an earlier one is unacknowledged. Does
   nothing on a Unix socket. */
void dboxd_socket_set_nodelay(int fd);

#endif
