/* opts.c -- the CLI's option parser: one table of options, taken before and after the command. */
/* SPDX-License-Identifier: MIT */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "opts.h"

#define CLI_MAX_WAIT_MS		(3600 * 1000)

typedef struct {
	const char *name;	/* long form without "--" */
	char short_name;	/* 0: none */
	bool has_arg;
	opt_mask_t id;
} opt_t;

static const opt_t cli_opts[] = {
	{ "db",           0,   true,  OPT_DB },
	{ "wait-timeout", 0,   true,  OPT_WAIT },
	{ "no-wait",      0,   false, OPT_NO_WAIT },
	{ "help",         'h', false, OPT_HELP },
	{ "version",      0,   false, OPT_VERSION },
	{ "group",        0,   true,  OPT_GROUP },
	{ "expire",       0,   true,  OPT_EXPIRE },
	{ "raw",          0,   false, OPT_RAW },
	{ "json",         0,   false, OPT_JSON },
	{ "verbose",      'v', false, OPT_VERBOSE },
	{ "zone",         0,   true,  OPT_ZONE },
	{ "scheme",       0,   true,  OPT_SCHEME },
	{ "force",        0,   false, OPT_FORCE },
	{ "server",       0,   true,  OPT_SERVER },
	{ "wait",         0,   true,  OPT_WAIT_AT },
	{ "propagation-timeout", 0, true, OPT_PROPAGATION },
	{ "peers",        0,   true,  OPT_PEERS },
	{ "peer-timeout", 0,   true,  OPT_PEER_TIMEOUT },
	{ "peer-keep",    0,   true,  OPT_PEER_KEEP },
	{ "ssh",          0,   true,  OPT_SSH },
	{ "key",          0,   true,  OPT_KEY },
	{ "address",      0,   true,  OPT_ADDRESS },
	{ "host-key",     0,   true,  OPT_HOST_KEY },
	{ "scope",        0,   true,  OPT_SCOPE },
	{ "unscoped",     0,   false, OPT_UNSCOPED },
	{ "timeout",      0,   true,  OPT_TIMEOUT },
	{ "account-uri",  0,   true,  OPT_ACCOUNT_URI },
	{ "issuer",       0,   true,  OPT_ISSUER },
	{ "wildcard",     0,   false, OPT_WILDCARD },
	{ "until",        0,   true,  OPT_UNTIL },
	{ "persist",      0,   false, OPT_PERSIST },
	{ "history-max",  0,   true,  OPT_HIST_MAX },
	{ "history-days", 0,   true,  OPT_HIST_DAYS },
	{ "html",         0,   true,  OPT_HTML },
	{ "prometheus",   0,   false, OPT_PROMETHEUS },
	{ "offline",      0,   false, OPT_OFFLINE },
	{ "check-timeout", 0,  true,  OPT_CHECK_TIMEOUT },
};

/* SECONDS with up to three decimals, 0 to one hour, as milliseconds. */
static bool parse_wait(const char *s, int *ms)
{
	long whole = 0;
	int frac = 0, digits = 0, fdigits = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		whole = whole * 10 + (*p - '0');
		if (whole > CLI_MAX_WAIT_MS / 1000) {
			return false;
		}
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
			if (fdigits == 3) {
				return false;	/* finer than a millisecond */
			}
			frac = frac * 10 + (*p - '0');
		}
	}
	if (*p != '\0' || digits + fdigits == 0) {
		return false;
	}
	for (int i = fdigits; i < 3; i++) {
		frac *= 10;
	}
	if (whole * 1000 + frac > CLI_MAX_WAIT_MS) {
		return false;
	}
	*ms = (int)(whole * 1000 + frac);
	return true;
}


/* The option an argument names; *inline_arg gets what follows '='. */
static const opt_t *opt_find(const char *arg, const char **inline_arg)
{
	size_t len;

	*inline_arg = NULL;
	if (arg[0] != '-' || arg[1] == '\0') {
		return NULL;
	}
	if (arg[1] != '-') {
		for (size_t i = 0; i < sizeof(cli_opts) / sizeof(cli_opts[0]); i++) {
			if (arg[2] == '\0' && cli_opts[i].short_name == arg[1]) {
				return &cli_opts[i];
			}
		}
		return NULL;
	}
	arg += 2;
	len = strcspn(arg, "=");
	for (size_t i = 0; i < sizeof(cli_opts) / sizeof(cli_opts[0]); i++) {
		if (strlen(cli_opts[i].name) == len &&
		    strncmp(cli_opts[i].name, arg, len) == 0) {
			if (arg[len] == '=') {
				*inline_arg = arg + len + 1;
			}
			return &cli_opts[i];
		}
	}
	return NULL;
}

/* A timeout option's SECONDS into *ms; 'what' names it in the message,
 * 'eg' is a typical value. */
static int take_seconds(const cli_t *cli, const char *val, int *ms,
                        const char *what, const char *eg)
{
	char q[CLI_QUOTE_MAX];

	if (!parse_wait(val, ms)) {
		cli_err(cli, "'%s' is not a valid %s (0 to 3600 seconds, as in "
		        "%s or 0.5)", quote(val, q), what, eg);
		return RC_INPUT;
	}
	return RC_OK;
}

/*
 * Take the option at argv[*i] (advancing *i past its argument).  Options
 * outside 'allowed' are usage errors, as are unknown ones.
 */
int cli_opt_take(cli_t *cli, opt_mask_t allowed, char **argv, int *i)
{
	char q[CLI_QUOTE_MAX];
	const char *arg = argv[*i], *val = NULL;
	const opt_t *o = opt_find(arg, &val);

	if (o == NULL) {
		return cli_usage(cli, "unknown option '%s'", quote(arg, q));
	}
	if (!(o->id & allowed)) {
		return cli_usage(cli, "option '%s' does not apply here", quote(arg, q));
	}
	if (o->has_arg && val == NULL) {
		val = argv[*i + 1];
		if (val == NULL) {
			return cli_usage(cli, "option '%s' needs a value", quote(arg, q));
		}
		++*i;
	} else if (!o->has_arg && val != NULL) {
		return cli_usage(cli, "option '--%s' takes no value", o->name);
	}

	switch (o->id) {
	case OPT_DB:
		cli->db = val;
		break;
	case OPT_WAIT:
		if (!parse_wait(val, &cli->wait_ms)) {
			cli_err(cli, "'%s' is not a valid wait timeout (0 to 3600 "
			        "seconds, as in 5 or 0.5)", quote(val, q));
			return RC_INPUT;
		}
		break;
	case OPT_NO_WAIT:
		cli->no_wait = true;
		break;
	case OPT_HELP:
		return RC_HELP;
	case OPT_VERSION:
		return RC_VERSION;
	case OPT_GROUP:
		cli->group = val;
		break;
	case OPT_EXPIRE:
		cli->expire = val;
		break;
	case OPT_RAW:
		cli->raw = true;
		break;
	case OPT_JSON:
		cli->json = true;
		break;
	case OPT_VERBOSE:
		cli->verbose = true;
		break;
	case OPT_ZONE:
		cli->zone = val;
		break;
	case OPT_SCHEME:
		cli->scheme = val;
		break;
	case OPT_FORCE:
		cli->force = true;
		break;
	case OPT_SERVER:
		cli->server = val;
		break;
	case OPT_WAIT_AT:
		if (cli->nwait == CLI_MAX_WAIT) {
			return cli_usage(cli, "at most %d servers for --wait", CLI_MAX_WAIT);
		}
		cli->wait[cli->nwait++] = val;
		break;
	case OPT_TIMEOUT:
		cli->timeout_given = true;
		return take_seconds(cli, val, &cli->timeout_ms, "timeout", "300");
	case OPT_ISSUER:
		cli->issuer = val;
		break;
	case OPT_WILDCARD:
		cli->wildcard = true;
		break;
	case OPT_UNTIL:
		cli->until = val;
		break;
	case OPT_PERSIST:
		cli->persist = true;
		break;
	case OPT_PROPAGATION:
		cli->propagation_given = true;
		return take_seconds(cli, val, &cli->propagation_ms,
		                    "propagation timeout", "60");
	case OPT_HIST_MAX:
		cli->hist_max = val;
		break;
	case OPT_HIST_DAYS:
		cli->hist_days = val;
		break;
	case OPT_HTML:
		cli->html = val;
		break;
	case OPT_PROMETHEUS:
		cli->prometheus = true;
		break;
	case OPT_OFFLINE:
		cli->offline = true;
		break;
	case OPT_CHECK_TIMEOUT:
		if (!parse_wait(val, &cli->check_ms) || cli->check_ms == 0) {
			cli_err(cli, "'%s' is not a valid check timeout (0.001 to "
			        "3600 seconds, as in 2 or 0.5)", quote(val, q));
			return RC_INPUT;
		}
		break;
	case OPT_PEERS:
		cli->peers_given = true;
		if (strcmp(val, "all") == 0) {
			cli->peers = PEERS_ALL;
		} else if (strcmp(val, "reachable") == 0) {
			cli->peers = PEERS_REACHABLE;
		} else if (strcmp(val, "none") == 0) {
			cli->peers = PEERS_NONE;
		} else {
			cli_err(cli, "'%s' is not a peers policy (all, reachable "
			        "or none)", quote(val, q));
			return RC_INPUT;
		}
		break;
	case OPT_PEER_TIMEOUT:
		cli->peer_timeout_given = true;
		if (!parse_wait(val, &cli->peer_timeout_ms) || cli->peer_timeout_ms == 0) {
			cli_err(cli, "'%s' is not a valid peer timeout (0.001 to "
			        "3600 seconds, as in 15 or 2.5)", quote(val, q));
			return RC_INPUT;
		}
		break;
	case OPT_PEER_KEEP:
		cli->peer_keep_given = true;
		if (!parse_wait(val, &cli->peer_keep_ms) || cli->peer_keep_ms % 1000 != 0) {
			cli_err(cli, "'%s' is not a valid time to keep peer sessions "
			        "open (0 to 3600 whole seconds, 0: none)", quote(val, q));
			return RC_INPUT;
		}
		break;
	case OPT_SSH:
		cli->ssh = val;
		break;
	case OPT_KEY:
		cli->key = val;
		break;
	case OPT_ADDRESS:
		if (cli->naddr == CLI_MAX_ADDRS) {
			return cli_usage(cli, "at most %d addresses for a peer", CLI_MAX_ADDRS);
		}
		cli->addr[cli->naddr++] = val;
		break;
	case OPT_HOST_KEY:
		cli->host_key = val;
		break;
	case OPT_SCOPE:
		cli->scope = val;
		break;
	case OPT_UNSCOPED:
		cli->unscoped = true;
		break;
	case OPT_ACCOUNT_URI: {
		/* Checked here, before any command opens the store. */
		const char *why = "invalid";
		if (az_account_label(val, cli->account, &why) != AZ_EOK) {
			cli_err(cli, "'%s' is not an ACME account URI (%s)",
			        quote(val, q), why);
			return RC_INPUT;
		}
		cli->account_uri = val;
		break;
	}
	}
	return RC_OK;
}

/*
 * An argument that starts with '-' but is a well-formed ACME value is a
 * value: base64url has '-' in its alphabet, and a hook that passes its
 * token as-is must not fail one time in 64.
 */
bool cli_is_option(const char *arg)
{
	const char *why;

	return arg[0] == '-' && arg[1] != '\0' &&
	       az_value_check(arg, strlen(arg), false, &why) != AZ_EOK;
}

/* Options before the command; *i ends at the command (or NULL). */
int opts_global(cli_t *cli, char **argv, int *i)
{
	for (*i = 1; argv[*i] != NULL; ++*i) {
		if (strcmp(argv[*i], "--") == 0) {
			++*i;
			break;
		}
		if (argv[*i][0] != '-') {
			break;
		}
		int rc = cli_opt_take(cli, OPT_GLOBAL | OPT_VERSION, argv, i);
		if (rc != RC_OK) {
			return rc;
		}
	}
	return RC_OK;
}

/*
 * Options and positional arguments after the command, in any order; with
 * cmd->verbatim, whatever follows that many positional arguments is
 * positional too ("hook lego present -- ...": the client's own words).
 */
int opts_cmd(cli_t *cli, const cmd_t *cmd, char **argv)
{
	char q[CLI_QUOTE_MAX];
	bool opts_done = false;

	for (int i = 0; argv[i] != NULL; i++) {
		if (cmd->verbatim > 0 && cli->npos >= cmd->verbatim) {
			cli->pos[cli->npos++] = argv[i];
		} else if (!opts_done && strcmp(argv[i], "--") == 0) {
			opts_done = true;
		} else if (!opts_done && cli_is_option(argv[i])) {
			int rc = cli_opt_take(cli, OPT_GLOBAL | cmd->opts, argv, &i);
			if (rc != RC_OK) {
				return rc;
			}
		} else if (cli->npos == cmd->max_pos) {
			return cli_usage(cli, "unexpected argument '%s'",
			                 quote(argv[i], q));
		} else {
			cli->pos[cli->npos++] = argv[i];
		}
	}
	if (cli->npos < cmd->min_pos) {
		return cli_usage(cli, "missing %s",
		                 cmd->pos_names[cli->npos < CLI_MAX_NAMES ? cli->npos : 0]);
	}
	return RC_OK;
}

int opts_env(cli_t *cli, const cmd_t *cmd)
{
	static const struct {
		const char *env, *opt;
		opt_mask_t id;
	} vars[] = {
		{ "ACMEZONE_PEERS", "--peers", OPT_PEERS },
		{ "ACMEZONE_PEER_TIMEOUT", "--peer-timeout", OPT_PEER_TIMEOUT },
		{ "ACMEZONE_PEER_KEEP", "--peer-keep", OPT_PEER_KEEP },
	};

	for (size_t v = 0; v < sizeof(vars) / sizeof(vars[0]); v++) {
		const char *val = getenv(vars[v].env);
		bool given = vars[v].id == OPT_PEERS ? cli->peers_given :
		             vars[v].id == OPT_PEER_KEEP ? cli->peer_keep_given :
		                                          cli->peer_timeout_given;
		char *argv[] = { (char *)vars[v].opt, (char *)val, NULL };
		int i = 0, rc;
		if (!(cmd->opts & vars[v].id) || given || val == NULL || val[0] == '\0') {
			continue;
		}
		rc = cli_opt_take(cli, vars[v].id, argv, &i);
		if (rc != RC_OK) {
			return rc;
		}
	}
	return RC_OK;
}
