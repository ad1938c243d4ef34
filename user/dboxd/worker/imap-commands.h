/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command functions, one file per command or group (cmd-*.c). */
#ifndef DBOXD_IMAP_COMMANDS_H
#define DBOXD_IMAP_COMMANDS_H

#include "imap-client.h"

/* cmd-basic.c */
imap_cmd_func_t cmd_capability, cmd_noop, cmd_check, cmd_logout, cmd_id,
		cmd_enable, cmd_namespace, cmd_login_again, cmd_starttls_late,
		cmd_compress;
/* cmd-select.c */
imap_cmd_func_t cmd_select, cmd_examine, cmd_close, cmd_unselect;
/* cmd-mailbox.c */
imap_cmd_func_t cmd_create, cmd_delete, cmd_rename, cmd_subscribe,
		cmd_unsubscribe;
/* cmd-list.c */
imap_cmd_func_t cmd_list, cmd_lsub;
/* cmd-status.c */
imap_cmd_func_t cmd_status;
/* cmd-append.c */
imap_cmd_func_t cmd_append;
/* cmd-expunge.c */
imap_cmd_func_t cmd_expunge;
/* cmd-store.c */
imap_cmd_func_t cmd_store;
/* cmd-copy.c */
imap_cmd_func_t cmd_copy, cmd_move;
/* cmd-fetch.c */
imap_cmd_func_t cmd_fetch;
/* cmd-search.c */
imap_cmd_func_t cmd_search;
/* cmd-sort.c */
imap_cmd_func_t cmd_sort, cmd_thread;
/* cmd-idle.c */
imap_cmd_func_t cmd_idle;

#endif
