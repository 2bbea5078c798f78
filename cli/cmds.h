/* cmds.h -- the commands' descriptors, each defined in its cmd_*.c file and listed in main.c's table. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include "cli.h"

extern const cmd_t cmd_init;	/* cmd_init.c */
extern const cmd_t cmd_config;	/* cmd_config.c */
extern const cmd_t cmd_add;	/* cmd_write.c */
extern const cmd_t cmd_del;
extern const cmd_t cmd_list;	/* cmd_list.c */
extern const cmd_t cmd_purge;	/* cmd_write.c */
extern const cmd_t cmd_apply;
extern const cmd_t cmd_cname;	/* cmd_cname.c */
extern const cmd_t cmd_check;	/* cmd_check.c */
extern const cmd_t cmd_hook;	/* cmd_hook.c */
extern const cmd_t cmd_peer;	/* cmd_peer.c */
extern const cmd_t cmd_serve;	/* cmd_serve.c */
extern const cmd_t cmd_report;	/* cmd_report.c */
extern const cmd_t cmd_status;	/* cmd_status.c */
extern const cmd_t cmd_watch;
extern const cmd_t cmd_persist;	/* cmd_persist.c */
extern const cmd_t cmd_sync;	/* cmd_sync.c */
