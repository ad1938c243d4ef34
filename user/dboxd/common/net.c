// SPDX-License-Identifier: GPL-2.0-or-later
/* Listening addresses and socket helpers; see net.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

static int parse_port(const char *s, unsigned int *port_r)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*port_r = (unsigned int)v;
	return 0;
}

static int parse_one(char *item, struct dboxd_listen_addr *addr,
		     const char **error_r)
{
	static char error[160];
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr->ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&addr->ss;
	char *host = item, *port;
	unsigned int portnum;

	memset(addr, 0, sizeof(*addr));
	if (*item == '/') {
		if (strlen(item) >= sizeof(sun->sun_path))
			goto bad;
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, item);
		addr->len = sizeof(*sun);
		snprintf(addr->text, sizeof(addr->text), "%s", item);
		return 0;
	}
	if (*item == '[') {
		char *close = strchr(item, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		*close = '\0';
		host = item + 1;
		port = close + 2;
	} else {
		port = strrchr(item, ':');
		if (port == NULL)
			goto bad;
		*port++ = '\0';
	}
	if (parse_port(port, &portnum) < 0)
		goto bad;
	if (*item == '[') {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(portnum);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
		addr->len = sizeof(*sin6);
		snprintf(addr->text, sizeof(addr->text), "[%s]:%u", host,
			 portnum);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(portnum);
		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
		addr->len = sizeof(*sin);
		snprintf(addr->text, sizeof(addr->text), "%s:%u",
			 strcmp(host, "*") == 0 ? "0.0.0.0" : host, portnum);
	}
	return 0;
bad:
	snprintf(error, sizeof(error),
		 "'%s' is not ADDRESS:PORT, *:PORT, [IPV6]:PORT or /PATH", item);
	*error_r = error;
	return -1;
}

int dboxd_listen_parse(const char *list, struct dboxd_listen_addr **addrs_r,
		       unsigned int *count_r, const char **error_r)
{
	struct dboxd_listen_addr *addrs = NULL;
	unsigned int count = 0;
	char *copy = strdup(list), *save = NULL, *item;

	if (copy == NULL)
		dboxd_fatal("out of memory");
	for (item = strtok_r(copy, ", \t", &save); item != NULL;
	     item = strtok_r(NULL, ", \t", &save)) {
		addrs = realloc(addrs, (count + 1) * sizeof(*addrs));
		if (addrs == NULL)
			dboxd_fatal("out of memory");
		if (parse_one(item, &addrs[count], error_r) < 0) {
			free(addrs);
			free(copy);
			return -1;
		}
		count++;
	}
	free(copy);
	*addrs_r = addrs;
	*count_r = count;
	return 0;
}

int dboxd_listen_open(const struct dboxd_listen_addr *addr,
		      const char **error_r)
{
	static char error[200];
	int fd, one = 1;

	fd = socket(addr->ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (addr->ss.ss_family == AF_UNIX) {
		const char *path = ((const struct sockaddr_un *)&addr->ss)->sun_path;
		struct stat st;

		/* a stale socket of an earlier run; never anything else */
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
		if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 ||
		    chmod(path, 0666) < 0 || listen(fd, 511) < 0)
			goto close_fd;
		return fd;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto close_fd;
	/* A reload that changes the listeners binds the new sockets while
	   the old ones are still open in retiring login processes. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto close_fd;
	if (addr->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto close_fd;
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
		goto close_fd;
	if (listen(fd, 511) < 0)
		goto close_fd;
	return fd;

close_fd:
	{
		int err = errno;

		close(fd);
		errno = err;
	}
fail:
	snprintf(error, sizeof(error), "listen on %s: %s", addr->text,
		 strerror(errno));
	*error_r = error;
	return -1;
}

void dboxd_sockaddr_format(const struct sockaddr *sa, char *ip, size_t size,
			   unsigned int *port_r)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, size);
		*port_r = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip,
				  size);
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, ip, size);
		*port_r = ntohs(sin6->sin6_port);
	} else {
		snprintf(ip, size, "local");
		*port_r = 0;
	}
}

bool dboxd_sockaddr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		       sin6->sin6_addr.s6_addr[12] == 127;
	}
	return sa->sa_family == AF_UNIX;
}

int dboxd_fd_set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void dboxd_socket_set_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 &&
	    errno != EOPNOTSUPP && errno != ENOPROTOOPT)
		dboxd_debug("TCP_NODELAY: %m");
}
