/* opts.h -- the CLI's option parser: one table of options, taken before and after the command. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

/* Options; a command lists the ones it takes as a mask (opt_mask_t):
 * more than 32 of them, so 64-bit. */
typedef uint64_t opt_mask_t;

#define OPT_DB           (UINT64_C(1) << 0)
#define OPT_WAIT         (UINT64_C(1) << 1)
#define OPT_NO_WAIT      (UINT64_C(1) << 2)
#define OPT_HELP         (UINT64_C(1) << 3)
#define OPT_VERSION      (UINT64_C(1) << 4)
#define OPT_GROUP        (UINT64_C(1) << 5)
#define OPT_EXPIRE       (UINT64_C(1) << 6)
#define OPT_RAW          (UINT64_C(1) << 7)
#define OPT_JSON         (UINT64_C(1) << 8)
#define OPT_VERBOSE      (UINT64_C(1) << 9)
#define OPT_ZONE         (UINT64_C(1) << 10)
#define OPT_SCHEME       (UINT64_C(1) << 11)
#define OPT_FORCE        (UINT64_C(1) << 12)
#define OPT_SERVER       (UINT64_C(1) << 13)
#define OPT_WAIT_AT      (UINT64_C(1) << 14)	/* --wait SERVER (not --wait-timeout) */
#define OPT_PROPAGATION  (UINT64_C(1) << 15)
#define OPT_PEERS        (UINT64_C(1) << 16)	/* --peers all|reachable|none */
#define OPT_PEER_TIMEOUT (UINT64_C(1) << 17)
#define OPT_SSH          (UINT64_C(1) << 18)
#define OPT_KEY          (UINT64_C(1) << 19)
#define OPT_ADDRESS      (UINT64_C(1) << 20)
#define OPT_HOST_KEY     (UINT64_C(1) << 21)
#define OPT_SCOPE        (UINT64_C(1) << 22)
#define OPT_UNSCOPED     (UINT64_C(1) << 23)
#define OPT_TIMEOUT      (UINT64_C(1) << 24)	/* watch --timeout */
/* dns-account-01: the account's label; persist: the record's account */
#define OPT_ACCOUNT_URI  (UINT64_C(1) << 25)
#define OPT_ISSUER       (UINT64_C(1) << 26)	/* persist: --issuer DOMAIN */
#define OPT_WILDCARD     (UINT64_C(1) << 27)	/* persist: --wildcard */
#define OPT_UNTIL        (UINT64_C(1) << 28)	/* persist: --until TIME */
#define OPT_PERSIST      (UINT64_C(1) << 29)	/* cname, check: --persist */
#define OPT_HIST_MAX     (UINT64_C(1) << 30)	/* config --history-max N */
#define OPT_HIST_DAYS    (UINT64_C(1) << 31)	/* config --history-days N */
#define OPT_HTML         (UINT64_C(1) << 32)	/* report */
#define OPT_PROMETHEUS   (UINT64_C(1) << 33)
#define OPT_OFFLINE      (UINT64_C(1) << 34)
#define OPT_CHECK_TIMEOUT (UINT64_C(1) << 35)
#define OPT_PEER_KEEP    (UINT64_C(1) << 36)	/* --peer-keep SECONDS */

/* The options of every command that writes: where the write goes. */
#define OPT_FANOUT	(OPT_PEERS | OPT_PEER_TIMEOUT | OPT_PEER_KEEP)

/* Accepted before the command and after it. */
#define OPT_GLOBAL	(OPT_DB | OPT_WAIT | OPT_NO_WAIT | OPT_HELP)

/*!
 * Take the option at argv[*i] (advancing *i past its argument) into cli,
 * if it is one of 'allowed' (OPT_*).  \return RC_OK; RC_USAGE (message
 * printed) for an unknown option, one not allowed, a missing or an
 * unexpected value; RC_INPUT for a bad --wait-timeout or
 * --propagation-timeout; RC_HELP or RC_VERSION when asked for those.
 */
int cli_opt_take(cli_t *cli, opt_mask_t allowed, char **argv, int *i);

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
 * ACMEZONE_PEERS (--peers), ACMEZONE_PEER_TIMEOUT (--peer-timeout),
 * ACMEZONE_PEER_KEEP (--peer-keep).  The
 * command line wins.  \return as cli_opt_take().
 */
int opts_env(cli_t *cli, const cmd_t *cmd);
