/* cmd_write.c -- 'add', 'del', 'purge' and 'apply': the commands that write values. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "cmds.h"
#include "msg.h"
#include "names.h"
#include "opts.h"
#include "write.h"

/*** add, del ***/

static int run_add(cli_t *cli)
{
	cli_op_t op = { .name = cli->pos[0], .value = cli->pos[1], .add = true,
	                .ttl = CLI_DEFAULT_EXPIRE };
	int rc;

	rc = names_syntax(cli, op.name);
	if (rc == RC_OK) {
		rc = names_value(cli, op.value);
	}
	if (rc == RC_OK && cli->expire != NULL) {
		rc = names_duration(cli, cli->expire, &op.ttl);
	}
	if (rc != RC_OK) {
		return rc;
	}
	rc = write_ops(cli, &op, 1, 0);
	if (rc == RC_OK && cli->verbose) {
		char text[AZ_NAME_TXTLEN], when[CLI_TIME_MAX] = "?";
		az_name_to_text(op.owner, text, sizeof(text));
		(void)fmt_time(op.expire, when);
		printf("added %s at %s, expires %s\n", op.value, text, when);
	}
	return rc;
}

static int run_del(cli_t *cli)
{
	cli_op_t op = { .name = cli->pos[0], .value = cli->npos > 1 ? cli->pos[1] : NULL };
	int rc;

	rc = names_syntax(cli, op.name);
	if (rc == RC_OK && op.value != NULL) {
		rc = names_value(cli, op.value);
	}
	if (rc != RC_OK) {
		return rc;
	}
	rc = write_ops(cli, &op, 1, 0);
	if (rc == RC_OK && cli->verbose) {
		char text[AZ_NAME_TXTLEN];
		az_name_to_text(op.owner, text, sizeof(text));
		printf("removed %u value(s) at %s\n", op.removed, text);
	}
	return rc;
}

/*** purge ***/

static int run_purge(cli_t *cli)
{
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	size_t removed = 0, tombs = 0;
	int rc, ret;

	rc = write_begin(cli, &store, &txn, NULL);
	if (rc != RC_OK) {
		goto out;
	}
	ret = az_txn_purge(txn, (int64_t)time(NULL), &removed);
	if (ret == AZ_EOK) {
		/* Tombstones whose values would have expired by now. */
		ret = az_txn_tomb_purge(txn, (int64_t)time(NULL), &tombs);
	}
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot purge '%s'", cli->qdb);
		rc = RC_STORE;
		goto out;
	}
	rc = write_commit(cli, &store, &txn, removed > 0 || tombs > 0);
	if (rc == RC_OK && cli->verbose) {
		printf("purged %zu expired value(s)", removed);
		if (tombs > 0) {
			printf(", %zu tombstone(s)", tombs);
		}
		putchar('\n');
	}
out:
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}

/*** apply ***/

static int run_apply(cli_t *cli)
{
	const char *file = cli->npos > 0 ? cli->pos[0] : "-";
	bool use_stdin = strcmp(file, "-") == 0;
	char q[CLI_QUOTE_MAX];
	batch_t b = { 0 };
	unsigned long removed = 0;
	int64_t ttl = CLI_DEFAULT_EXPIRE;
	FILE *in;
	int rc;

	if (cli->expire != NULL) {
		rc = names_duration(cli, cli->expire, &ttl);
		if (rc != RC_OK) {
			return rc;
		}
	}
	in = use_stdin ? stdin : fopen(file, "r");
	if (in == NULL) {
		cli_err(cli, "cannot open '%s' (%s)", quote(file, q), strerror(errno));
		return RC_STORE;
	}
	/* All of the input, checked, before the write lock is taken. */
	rc = batch_read(cli, in, file, ttl, &b);
	if (!use_stdin) {
		(void)fclose(in);	/* read only: nothing to lose */
	}
	if (rc == RC_OK) {
		rc = write_batch(cli, &b, write_now_ms(), NULL, &removed);
	}
	if (rc == RC_OK && cli->verbose) {
		printf("applied %zu operation(s) from %lu line(s): %zu added or "
		       "refreshed, %lu value(s) removed\n", b.nops, b.lines,
		       b.nadd, removed);
	}
	batch_free(&b);
	return rc;
}

/*** The commands. ***/

const cmd_t cmd_add = {
	"add", run_add, OPT_EXPIRE | OPT_RAW | OPT_VERBOSE | OPT_WAIT_AT | OPT_PROPAGATION |
	OPT_FANOUT | OPT_SERVER | OPT_ACCOUNT_URI,
	2, 2, { "NAME", "VALUE" }, 0,
	"add NAME VALUE [--expire DURATION] [--raw] [--wait SERVER|ns]... [--peers POLICY]\n"
	"       [--account-uri URI] [-v]",
	"Add VALUE as a TXT value of NAME, or refresh its expiry if it is\n"
	"already there.  Without a challenge zone, NAME is the owner name\n"
	"(usually _acme-challenge.<domain>).  With one, NAME may be a customer\n"
	"domain, _acme-challenge.<domain> or *.<domain> (all written at the\n"
	"domain's delegation name), or a name in the zone (written as is).\n"
	"The final dot is optional and case does not matter.\n"
	"dns-account-01: _<label>._acme-challenge.<domain> is written at\n"
	"_<label>.<delegation name>; --account-uri does the same for a domain\n"
	"or _acme-challenge.<domain> with that account's label.\n"
	"\n"
	"  --expire DURATION  stop serving it after DURATION (90s, 30m, 2h, 1d;\n"
	"                     default 1h)\n"
	"  --raw              accept any printable ASCII value of 1-255 octets,\n"
	"                     not only a 43-character ACME token\n"
	"  --wait SERVER      then ask this authoritative server (ADDR[@PORT],\n"
	"                     repeatable) until it serves the value; 'ns' (or\n"
	"                     'ns@PORT'): every address of every NS of the zone\n"
	"  --server ADDR[@PORT]  the resolver --wait ns learns the NS set from\n"
	"                     (default: the nameservers of /etc/resolv.conf)\n"
	"  --propagation-timeout SECONDS  how long --wait may take (default 60)\n"
	"  --peers all|reachable|none  which peers must take the write\n"
	"                     (default all; see 'acmezone peer --help')\n"
	"  --peer-timeout SECONDS  how long each peer may take (default 15)\n"
	"  --peer-keep SECONDS  keep each peer's session open this long for the\n"
	"                     next write (default 60; 0: none)\n"
	"  --account-uri URI  dns-account-01: the ACME account URL whose label\n"
	"                     goes in front of the name\n"
	"  -v, --verbose      say what was added\n"
};

const cmd_t cmd_del = {
	"del", run_del, OPT_RAW | OPT_VERBOSE | OPT_FANOUT | OPT_ACCOUNT_URI, 1, 2, { "NAME", "VALUE" }, 0,
	"del NAME [VALUE] [--raw] [--peers POLICY] [--account-uri URI] [-v]",
	"Delete VALUE at NAME, or every value at NAME.  NAME as for add.\n"
	"Deleting what is not there is not an error.\n"
	"\n"
	"  --raw           VALUE need not be an ACME token\n"
	"  --peers all|reachable|none  which peers must take the write\n"
	"                     (default all; see 'acmezone peer --help')\n"
	"  --peer-timeout SECONDS  how long each peer may take (default 15)\n"
	"  --peer-keep SECONDS  keep each peer's session open this long for the\n"
	"                     next write (default 60; 0: none)\n"
	"  --account-uri URI  dns-account-01: as for add\n"
	"  -v, --verbose   say how many values were removed\n"
};

const cmd_t cmd_purge = {
	"purge", run_purge, OPT_VERBOSE, 0, 0, { NULL }, 0,
	"purge [-v]",
	"Remove every expired value.\n"
	"\n"
	"  -v, --verbose   say how many values were removed\n"
};

const cmd_t cmd_apply = {
	"apply", run_apply, OPT_EXPIRE | OPT_RAW | OPT_VERBOSE | OPT_FANOUT, 0, 1,
	{ "FILE", NULL }, 0,
	"apply [FILE|-] [--expire DURATION] [--raw] [--peers POLICY] [-v]",
	"Apply a batch of lines from FILE (default: standard input) in one\n"
	"transaction: all of them, or none if any line is invalid.\n"
	"\n"
	"  add NAME VALUE [DURATION]\n"
	"  del NAME [VALUE]\n"
	"\n"
	"NAME as for add.  Fields are separated by blanks; blank lines and\n"
	"lines starting with '#' are ignored; lines are at most 4096 bytes.\n"
	"The batch is read whole before the store is locked: at most\n"
	"2000000 operations.\n"
	"\n"
	"  --expire DURATION  default for add lines without one (default 1h)\n"
	"  --raw              values need not be ACME tokens\n"
	"  --peers all|reachable|none  which peers must take the write\n"
	"                     (default all; see 'acmezone peer --help')\n"
	"  --peer-timeout SECONDS  how long each peer may take (default 15)\n"
	"  --peer-keep SECONDS  keep each peer's session open this long for the\n"
	"                     next write (default 60; 0: none)\n"
	"  -v, --verbose      report progress and counts\n"
};
