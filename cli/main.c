/* main.c -- the acmezone CLI: writes ACME DNS-01 tokens into the LMDB store; main() parses and dispatches. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "keeper.h"
#include "msg.h"
#include "opts.h"

/* The commands, in the order --help lists them.  A new one: one line. */
static const cmd_t *const commands[] = {
	&cmd_init,
	&cmd_config,
	&cmd_add,
	&cmd_del,
	&cmd_list,
	&cmd_purge,
	&cmd_apply,
	&cmd_cname,
	&cmd_check,
	&cmd_hook,
	&cmd_peer,
	&cmd_serve,
	&cmd_status,
	&cmd_watch,
	&cmd_persist,
	&cmd_sync,
	&cmd_report,
};

/* "acmezone 0.1.0 (...)": the version, and the Knot module it was built with. */
static void version(void)
{
#ifdef AZ_KNOT_VERSION
	printf("acmezone %s (mod-acmezone built for Knot DNS %s, module ABI %d)\n",
	       PACKAGE_VERSION, AZ_KNOT_VERSION, (int)AZ_KNOT_MOD_ABI);
#else
	printf("acmezone %s (built without the Knot module)\n", PACKAGE_VERSION);
#endif
}

static void usage_main(FILE *out)
{
	fputs("Usage: acmezone [OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Keep ACME DNS-01 challenge tokens in the LMDB store that\n"
	      "mod-acmezone serves from knotd.\n"
	      "\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(out, "  %s\n", commands[i]->synopsis);
	}
	fprintf(out,
	      "\n"
	      "Options (before or after the command):\n"
	      "  --db PATH              the store (default: $%s, else\n"
	      "                         %s)\n"
	      "  --wait-timeout SECONDS wait at most this long for the servers to\n"
	      "                         confirm a write (default 5)\n"
	      "  --no-wait              do not wait for the servers\n"
	      "  -h, --help             this help; 'acmezone COMMAND --help' for one\n"
	      "  --version              print the version\n"
	      "\n"
	      "Exit status: 0 success, 1 store or system error, 2 usage error,\n"
	      "3 invalid input, 4 check found a problem or --wait timed out.\n"
	      "See acmezone(1).\n", AZ_ENV_DB, AZ_DEFAULT_DB);
}

static void usage_cmd(const cmd_t *cmd)
{
	printf("Usage: acmezone [OPTIONS] %s\n\n%s\n"
	       "Global options (--db, --wait-timeout, --no-wait): see "
	       "'acmezone --help'.\n", cmd->synopsis, cmd->help);
}

int main(int argc, char **argv)
{
	cli_t cli = { .wait_ms = CLI_DEFAULT_WAIT_MS,
	              .propagation_ms = CLI_DEFAULT_PROPAGATION * 1000,
	              .peer_timeout_ms = CLI_DEFAULT_PEER_TIMEOUT * 1000,
	              .peer_keep_ms = CLI_DEFAULT_PEER_KEEP * 1000 };
	const cmd_t *cmd = NULL;
	char q[CLI_QUOTE_MAX];
	const char *env;
	int i = 1, rc;

	if (argc < 1) {
		return RC_USAGE;
	}
	/* Not a command: the background half of a fan-out (keeper.h). */
	if (argc > 1 && strcmp(argv[1], KEEPER_ARGV1) == 0) {
		return keeper_main(argc, argv);
	}
	/* Never more positional arguments than arguments. */
	cli.pos = calloc((size_t)argc, sizeof(*cli.pos));
	if (cli.pos == NULL) {
		cli_err(&cli, "out of memory");
		return RC_STORE;
	}
	rc = opts_global(&cli, argv, &i);
	if (rc == RC_HELP) {
		usage_main(stdout);
		rc = RC_OK;
		goto out;
	} else if (rc == RC_VERSION) {
		version();
		rc = RC_OK;
		goto out;
	} else if (rc != RC_OK) {
		goto out;
	}
	if (argv[i] == NULL) {
		rc = cli_usage(&cli, "missing command");
		goto out;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c]->name) == 0) {
			cmd = commands[c];
		}
	}
	if (cmd == NULL) {
		rc = cli_usage(&cli, "'%s' is not a command", quote(argv[i], q));
		goto out;
	}

	cli.cmd = cmd->name;
	rc = opts_cmd(&cli, cmd, argv + i + 1);
	if (rc == RC_HELP) {
		usage_cmd(cmd);
		rc = RC_OK;
		goto out;
	} else if (rc != RC_OK) {
		goto out;
	}
	rc = opts_env(&cli, cmd);
	if (rc != RC_OK) {
		goto out;
	}
	if (cli.db == NULL) {
		env = getenv(AZ_ENV_DB);
		cli.db = (env != NULL && env[0] != '\0') ? env : AZ_DEFAULT_DB;
	}
	quote(cli.db, cli.qdb);
	rc = cmd->run(&cli);
out:
	/* Output that did not reach its destination is a failure too. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli.line = 0;
		cli_err(&cli, "cannot write the output (%s)", strerror(errno));
		rc = RC_STORE;
	}
	free(cli.pos);
	return rc;
}
