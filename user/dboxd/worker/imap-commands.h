/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command functions, one file per command or group (cmd-*.c). */
#ifndef DBOXD_IMAP_COMMANDS_H
#define DBOXD_IMAP_COMMANDS_H

#include "imap-client.h"

/* cmd-basic.c */
imap_cmd_func_t imap_cmd_capability, imap_cmd_noop, imap_cmd_check, imap_cmd_logout, imap_cmd_id,
		imap_cmd_enable, imap_cmd_namespace, imap_cmd_login_again, imap_cmd_starttls_late,
		imap_cmd_compress;
/* cmd-select.c */
imap_cmd_func_t imap_cmd_select, imap_cmd_examine, imap_cmd_close, imap_cmd_unselect;
/* cmd-mailbox.c */
imap_cmd_func_t imap_cmd_create, imap_cmd_delete, imap_cmd_rename, imap_cmd_subscribe,
		imap_cmd_unsubscribe;
/* cmd-list.c */
imap_cmd_func_t imap_cmd_list, imap_cmd_lsub;
/* cmd-status.c */
imap_cmd_func_t imap_cmd_status;
/* cmd-append.c */
imap_cmd_func_t imap_cmd_append;
/* cmd-expunge.c */
imap_cmd_func_t imap_cmd_expunge;
/* cmd-store.c */
imap_cmd_func_t imap_cmd_store;
/* cmd-copy.c */
imap_cmd_func_t imap_cmd_copy, imap_cmd_move;
/* cmd-fetch.c */
imap_cmd_func_t imap_cmd_fetch;
/* cmd-search.c */
imap_cmd_func_t imap_cmd_search;
/* cmd-sort.c */
imap_cmd_func_t imap_cmd_sort, imap_cmd_thread;
/* cmd-idle.c */
imap_cmd_func_t imap_cmd_idle;

#endif
