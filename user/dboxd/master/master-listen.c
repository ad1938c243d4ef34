// SPDX-License-Identifier: GPL-2.0-or-later
/* The listening sockets: opened by the master (root, so port 143 and 993
   work), inherited by the login processes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

static int open_list(const char *spec, int **fds_r, unsigned int *count_r,
		     const char **error_r)
{
	struct dboxd_listen_addr *addrs;
	unsigned int count;
	int *fds;

	if (dboxd_listen_parse(spec, &addrs, &count, error_r) < 0)
		return -1;
	fds = calloc(count + 1, sizeof(*fds));
	if (fds == NULL)
		dboxd_fatal("out of memory");
	for (unsigned int i = 0; i < count; i++) {
		fds[i] = dboxd_listen_open(&addrs[i], error_r);
		if (fds[i] < 0) {
			while (i-- > 0)
				close(fds[i]);
			free(fds);
			free(addrs);
			return -1;
		}
		dboxd_info("listening on %s", addrs[i].text);
	}
	free(addrs);
	*fds_r = fds;
	*count_r = count;
	return 0;
}

static void close_list(int **fds, unsigned int *count)
{
	for (unsigned int i = 0; i < *count; i++)
		close((*fds)[i]);
	free(*fds);
	*fds = NULL;
	*count = 0;
}

int master_listeners_open(const struct dboxd_config *config,
			  struct master_listeners *l, const char **error_r)
{
	memset(l, 0, sizeof(*l));
	if (open_list(config->set.imap_listen, &l->imap_fds, &l->imap_count,
		      error_r) < 0)
		return -1;
	if (open_list(config->set.imaps_listen, &l->imaps_fds,
		      &l->imaps_count, error_r) < 0) {
		close_list(&l->imap_fds, &l->imap_count);
		return -1;
	}
	if (open_list(config->set.lmtp_listen, &l->lmtp_fds, &l->lmtp_count,
		      error_r) < 0) {
		close_list(&l->imap_fds, &l->imap_count);
		close_list(&l->imaps_fds, &l->imaps_count);
		return -1;
	}
	l->imap_spec = strdup(config->set.imap_listen);
	l->imaps_spec = strdup(config->set.imaps_listen);
	l->lmtp_spec = strdup(config->set.lmtp_listen);
	if (l->imap_spec == NULL || l->imaps_spec == NULL ||
	    l->lmtp_spec == NULL)
		dboxd_fatal("out of memory");
	return 0;
}

void master_listeners_close(struct master_listeners *l)
{
	close_list(&l->imap_fds, &l->imap_count);
	close_list(&l->imaps_fds, &l->imaps_count);
	close_list(&l->lmtp_fds, &l->lmtp_count);
	free(l->imap_spec);
	free(l->imaps_spec);
	free(l->lmtp_spec);
	memset(l, 0, sizeof(*l));
}

int master_listeners_reload(const struct dboxd_config *config,
			    struct master_listeners *l, const char **error_r)
{
	struct master_listeners n;

	if (strcmp(l->imap_spec, config->set.imap_listen) == 0 &&
	    strcmp(l->imaps_spec, config->set.imaps_listen) == 0 &&
	    strcmp(l->lmtp_spec, config->set.lmtp_listen) == 0)
		return 0;
	/* Open the new set first (SO_REUSEPORT lets a port be bound again
	   while the retiring logins still hold the old socket), so that a
	   failure leaves the old set serving. */
	if (master_listeners_open(config, &n, error_r) < 0)
		return -1;
	master_listeners_close(l);
	*l = n;
	return 0;
}
