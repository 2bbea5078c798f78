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
	OPT_PEERS   = 1 << 16,		/* --peers all|reachable|none */
	OPT_PEER_TIMEOUT = 1 << 17,
	OPT_SSH     = 1 << 18,
	OPT_KEY     = 1 << 19,
	OPT_ADDRESS = 1 << 20,
	OPT_HOST_KEY = 1 << 21,
	OPT_SCOPE   = 1 << 22,
	OPT_UNSCOPED = 1 << 23,
	OPT_TIMEOUT = 1 << 24,		/* watch --timeout */
	OPT_ACCOUNT_URI = 1 << 25,	/* dns-account-01: the account's label;
					 * persist: the record's account */
	OPT_ISSUER  = 1 << 26,		/* persist: --issuer DOMAIN */
	OPT_WILDCARD = 1 << 27,		/* persist: --wildcard */
	OPT_UNTIL   = 1 << 28,		/* persist: --until TIME */
	OPT_PERSIST = 1 << 29,		/* cname, check: --persist */
};

/* The options of every command that writes: where the write goes. */
#define OPT_FANOUT	(OPT_PEERS | OPT_PEER_TIMEOUT)

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

/*!
 * The options a command takes that the environment may give too, for
 * clients that run the hook without arguments of our choosing:
 * ACMEZONE_PEERS (--peers), ACMEZONE_PEER_TIMEOUT (--peer-timeout).  The
 * command line wins.  \return as cli_opt_take().
 */
int opts_env(cli_t *cli, const cmd_t *cmd);
