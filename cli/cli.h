/* cli.h -- what the files of the acmezone CLI share: the command line, messages, writes. */

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
	RC_DNS     = 4,		/* check found a problem; --wait timed out */
	RC_HELP    = -1,	/* internal: --help was asked for, print it, exit 0 */
	RC_VERSION = -2,	/* internal: --version */
};

#define CLI_QUOTE_IN		320		/* input octets shown in a message */
#define CLI_QUOTE_MAX		(CLI_QUOTE_IN * 4 + 4)
#define CLI_MAX_WAIT		8		/* --wait servers */
#define CLI_DEFAULT_PROPAGATION	60		/* seconds, --propagation-timeout */
#define CLI_DEFAULT_EXPIRE	3600		/* seconds, --expire */

/* Everything the command line said. */
typedef struct {
	const char *cmd;		/* command name for messages, NULL before it */
	unsigned long line;		/* batch line for messages, 0: none */
	const char *db;			/* store path, resolved before a command runs */
	int wait_ms;			/* read-your-writes: --wait-timeout */
	bool no_wait, raw, json, verbose, force;
	const char *group, *expire;
	const char *zone, *scheme;	/* --zone, --scheme */
	const char *server;		/* check --server */
	const char *wait[CLI_MAX_WAIT];	/* --wait: authoritative servers */
	int nwait;
	int propagation_ms;		/* --propagation-timeout */
	bool propagation_given;
	const char **pos;		/* positional arguments */
	int npos;
} cli_t;

/*** Messages (acmezone.c). ***/

/* "acmezone: CMD: [line N: ]what" on stderr. */
void cli_err(const cli_t *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same for a usage error, pointing at --help; returns RC_USAGE. */
int cli_usage(const cli_t *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A failed store call: "what (reason)". */
void cli_store_err(const cli_t *cli, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cli_warn(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Untrusted input made safe to print (at most CLI_QUOTE_IN octets). */
const char *quote(const char *in, char out[CLI_QUOTE_MAX]);
void json_string(const char *s, size_t len);

/*** Options (acmezone.c). ***/

/* Take the option at argv[*i] if it is one of 'allowed' (OPT_* of acmezone.c). */
int cli_opt_take(cli_t *cli, unsigned allowed, char **argv, int *i);
/* Is this argument an option (not a value that happens to start with '-')? */
bool cli_is_option(const char *arg);
/* The options that 'hook' takes, for the hook's own argument parsing. */
extern const unsigned cli_hook_opts;

/*** Writes (acmezone.c). ***/

/* One add or delete, given the way a user or an ACME client names it. */
typedef struct {
	const char *name;		/* domain, _acme-challenge.<domain> or owner */
	const char *value;		/* NULL: every value at the name (del) */
	bool add;
	bool strict;			/* refuse a bare domain (lego's FQDN) */
	uint8_t owner[AZ_NAME_MAXLEN];	/* out: the owner name written */
	az_fallback_t fallback;		/* out: why it was hashed, if it was */
	int64_t expire;			/* out: the expiry written (add) */
	unsigned removed;		/* out: values removed (del) */
} cli_op_t;

int check_value(const cli_t *cli, const char *value);
int check_duration(const cli_t *cli, const char *text, int64_t *secs);

/*!
 * The owner name in the store for a name as given.  Without a challenge
 * zone in cfg: the name itself.  With one: the name itself if it is the
 * zone or below it, else the delegation name of the domain it names
 * (a leading "_acme-challenge." or "*." removed); strict refuses a name
 * that is neither in the zone nor starts with "_acme-challenge.".
 * Prints the error.
 */
int cli_owner(const cli_t *cli, const az_config_t *cfg, const char *text,
              bool strict, uint8_t owner[AZ_NAME_MAXLEN], az_fallback_t *fallback);

/*!
 * Apply ops in one write transaction (all or none), wait for the readers
 * (read-your-writes), then for the --wait servers to serve every added
 * value.  expire is the lifetime of added values in seconds.
 */
int cli_write_ops(cli_t *cli, cli_op_t *ops, size_t n, int64_t expire);

/*! The settings: --zone and --scheme if given, else those of the store. */
int cli_config(cli_t *cli, az_config_t *cfg, bool need_zone);

/*** check.c ***/

int cmd_check(cli_t *cli);
/* Ask each --wait server until it serves every added value of ops. */
int cli_wait_served(cli_t *cli, const cli_op_t *ops, size_t n);

/*** hook.c ***/

int cmd_hook(cli_t *cli);
