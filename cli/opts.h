/* opts.h -- the CLI's option parser: one table of options, taken before and after the command. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdbool.h>

#include "cli.h"

/* Options; a command lists the ones it takes as a mask. */
enum {
	OPT_DB      = 1 << 0,
	OPT_WAIT    = 1 << 1,
	OPT_NO_WAIT = 1 << 2,
	OPT_HELP    = 1 << 3,
	OPT_VERSION = 1 << 4,
	OPT_GROUP   = 1 << 5,
	OPT_EXPIRE  = 1 << 6,
	OPT_RAW     = 1 << 7,
	OPT_JSON    = 1 << 8,
	OPT_VERBOSE = 1 << 9,
	OPT_ZONE    = 1 << 10,
	OPT_SCHEME  = 1 << 11,
	OPT_FORCE   = 1 << 12,
	OPT_SERVER  = 1 << 13,
	OPT_WAIT_AT = 1 << 14,		/* --wait SERVER (not --wait-timeout) */
	OPT_PROPAGATION = 1 << 15,
	OPT_TIMEOUT = 1 << 16,		/* watch --timeout */
	OPT_HIST_MAX = 1 << 17,		/* config --history-max N */
	OPT_HIST_DAYS = 1 << 18,	/* config --history-days N */
	OPT_HTML    = 1 << 19,		/* report */
	OPT_PROMETHEUS = 1 << 20,
	OPT_OFFLINE = 1 << 21,
	OPT_CHECK_TIMEOUT = 1 << 22,
};

/* Accepted before the command and after it. */
#define OPT_GLOBAL	(OPT_DB | OPT_WAIT | OPT_NO_WAIT | OPT_HELP)

/*!
 * Take the option at argv[*i] (advancing *i past its argument) into cli,
 * if it is one of 'allowed' (OPT_*).  \return RC_OK; RC_USAGE (message
 * printed) for an unknown option, one not allowed, a missing or an
 * unexpected value; RC_INPUT for a bad --wait-timeout or
 * --propagation-timeout; RC_HELP or RC_VERSION when asked for those.
 */
int cli_opt_take(cli_t *cli, unsigned allowed, char **argv, int *i);

/*!
 * Is this argument an option?  Not if it is a well-formed ACME value
 * that happens to start with '-' (base64url has '-' in its alphabet).
 */
bool cli_is_option(const char *arg);

/*!
 * The options before the command (OPT_GLOBAL and --version); *i ends at
 * the command's name (argv[*i] NULL if none).  \return as cli_opt_take().
 */
int opts_global(cli_t *cli, char **argv, int *i);

/*!
 * The command's options (OPT_GLOBAL | cmd->opts) and positional arguments
 * (into cli->pos, which has room for every argument), in any order, up to
 * the NULL that ends argv; checks their count.  \return as cli_opt_take().
 */
int opts_cmd(cli_t *cli, const cmd_t *cmd, char **argv);
