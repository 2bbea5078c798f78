/* cli.h -- the core of the acmezone CLI: exit statuses, the parsed command line, the command descriptor. */
/* SPDX-License-Identifier: MIT */

/*
 * Layers, each using only the ones below it:
 *
 *   main.c                 the table of commands; parses, dispatches
 *   cmd_*.c                one command or a small group (a cmd_t each)
 *   write.c                write transactions, read-your-writes
 *   wait.c  db.c  batch.c  --wait servers; opening and reading the store;
 *                          the 'apply' batch format (pure)
 *   names.c  opts.c        names, values, durations; the option parser
 *   msg.c  json.c          messages, escaping, time; the JSON writer
 *   dns.c  dns_wire.c      the DNS client
 *   cli.h (this file), store/ (the store library)
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Exit statuses, as documented in acmezone(1). */
enum {
	RC_OK      = 0,
	RC_STORE   = 1,		/* the store or the system failed */
	RC_USAGE   = 2,		/* unknown command or option, wrong arguments */
	RC_INPUT   = 3,		/* a name, value, duration or batch line is invalid */
	RC_DNS     = 4,		/* check found a problem; --wait timed out; a server cannot read the store */
	RC_HELP    = -1,	/* internal: --help was asked for, print it, exit 0 */
	RC_VERSION = -2,	/* internal: --version */
};

#define CLI_QUOTE_IN		320		/* input octets shown in a message */
#define CLI_QUOTE_MAX		(CLI_QUOTE_IN * 4 + 4)
#define CLI_MAX_WAIT		8		/* --wait servers */
#define CLI_DEFAULT_WAIT_MS	5000		/* --wait-timeout */
#define CLI_DEFAULT_PROPAGATION	60		/* seconds, --propagation-timeout */
#define CLI_DEFAULT_EXPIRE	3600		/* seconds, --expire */
#define CLI_MAX_NAMES		2		/* named positional arguments */
#define CLI_MAX_ADDRS		8		/* peer add --address */
#define CLI_DEFAULT_PEER_TIMEOUT 15		/* seconds, --peer-timeout */
#define CLI_DEFAULT_PEER_KEEP	60		/* seconds, --peer-keep */

/* --peers: which peers a write must reach (fanout.c). */
typedef enum {
	PEERS_ALL = 0,			/* every peer commits, or the write fails */
	PEERS_REACHABLE,		/* an unreachable peer is a warning */
	PEERS_NONE,			/* this host only */
} cli_peers_t;

/* Everything the command line said. */
typedef struct {
	const char *cmd;		/* command name for messages, NULL before it */
	unsigned long line;		/* batch line for messages, 0: none */
	const char *db;			/* store path, resolved before a command runs */
	char qdb[CLI_QUOTE_MAX];	/* db escaped for messages (msg.c: quote) */
	int wait_ms;			/* read-your-writes: --wait-timeout */
	bool no_wait, raw, json, verbose, force;
	const char *group, *expire;
	const char *zone, *scheme;	/* --zone, --scheme */
	const char *account_uri;	/* --account-uri (checked when taken) */
	char account[AZ_ACCOUNT_LABEL_LEN + 1];	/* its label, "" without */
	const char *server;		/* check --server */
	const char *wait[CLI_MAX_WAIT];	/* --wait: authoritative servers */
	int nwait;
	int propagation_ms;		/* --propagation-timeout */
	bool propagation_given;
	const char *client;		/* history: who writes (hook's client,
					 * ACMEZONE_CLIENT, else "manual") */
	const char *hist_max, *hist_days;	/* config --history-max, -days */
	const char *html;		/* report --html FILE */
	bool prometheus, offline;	/* report --prometheus, --offline */
	int check_ms;			/* report --check-timeout */
	int timeout_ms;			/* watch --timeout */
	bool timeout_given;
	const char *issuer, *until;	/* persist (and account_uri above) */
	bool wildcard, persist;		/* persist --wildcard; cname, check --persist */
	const char **pos;		/* positional arguments */
	int npos;
	/* Peers (peers.c, fanout.c, cmd_peer.c, cmd_serve.c). */
	cli_peers_t peers;		/* --peers */
	bool peers_given;
	int peer_timeout_ms;		/* --peer-timeout */
	bool peer_timeout_given;
	int peer_keep_ms;		/* --peer-keep: kept sessions' idle time */
	bool peer_keep_given;
	const char *ssh, *key, *host_key;	/* peer add --ssh, --key, --host-key */
	const char *addr[CLI_MAX_ADDRS];	/* peer add --address */
	int naddr;
	const char *scope;		/* serve --scope */
	bool unscoped;			/* serve --unscoped */
	bool peered;			/* the write comes from or goes to peers:
					 * deletes leave tombstones of values
					 * never seen here too */
} cli_t;

#define CMD_ANY		(-1)		/* max_pos: no limit */

/*
 * A command: what main.c's table lists.  A new command is one cmd_*.c file
 * defining one of these and one line in that table.  run() gets the parsed
 * command line (db resolved) and returns an RC_* exit status, having
 * printed its own one-line error.
 */
typedef struct {
	const char *name;
	int (*run)(cli_t *cli);
	uint64_t opts;			/* OPT_* (opts.h, opt_mask_t) besides OPT_GLOBAL */
	int min_pos, max_pos;		/* positional arguments; CMD_ANY */
	const char *pos_names[CLI_MAX_NAMES];	/* for "missing NAME" */
	int verbatim;			/* > 0: arguments after this many
					 * positional ones are not options */
	const char *synopsis;		/* after "acmezone [OPTIONS] " */
	const char *help;		/* the rest of 'acmezone CMD --help' */
} cmd_t;
