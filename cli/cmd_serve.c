/* cmd_serve.c -- 'serve': the receiving end of a peer's or a writer's batch, run by sshd as a key's forced command. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "batch.h"
#include "cmds.h"
#include "db.h"
#include "msg.h"
#include "opts.h"
#include "proto.h"
#include "scope.h"
#include "sync.h"
#include "write.h"

#define SERVE_READ_S		60	/* the whole batch must arrive by then */
#define SERVE_REFUSED_SHOWN	20	/* refused lines answered one by one */
#define SERVE_PEER_TIMEOUT_S	10	/* --peer-timeout default when passing on */
#define SERVE_IDLE_S		3700	/* a session's wait for its next batch (a
					 * keeper keeps it open 3600 s at most) */

/* An error on stderr (ssh passes it back) and in syslog. */
static void serve_log(const cli_t *cli, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void serve_log(const cli_t *cli, int prio, const char *fmt, ...)
{
	char text[1024];
	const char *client = getenv("SSH_CLIENT");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cli_err(cli, "%s", text);
	syslog(prio, "serve%s%s: %s", client != NULL ? " for " : "",
	       client != NULL ? client : "", text);
}

/* The peers' results of our own fan-out, passed on to the sender. */
static void peer_line(const char *text)
{
	printf("peer %s\n", text);
}

/* Refuse the whole batch: nothing was written. */
static int refuse(const cli_t *cli, const char *id, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(const cli_t *cli, const char *id, int rc, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	serve_log(cli, LOG_WARNING, "batch %s refused, nothing written: %s", id, text);
	printf("status id=%s refused %s\n", id, text);
	return rc;
}

/* Is the command ssh was asked for (if any) the protocol's? */
static bool command_ok(const char *cmd)
{
	return cmd == NULL || strcmp(cmd, PROTO_COMMAND) == 0;
}

/* Does a relay's head carry our own settings? */
static bool same_settings(const proto_head_t *h, const az_config_t *cfg, char *why,
                          size_t size)
{
	char zone[AZ_NAME_TXTLEN] = "(none)";

	if (cfg->has_zone) {
		az_name_to_text(cfg->zone, zone, sizeof(zone));
	}
	if (h->has_zone != cfg->has_zone ||
	    (h->has_zone && (strcmp(h->zone, zone) != 0 || h->scheme != cfg->scheme))) {
		snprintf(why, size, "the sender's challenge zone and scheme (%.300s %s) "
		         "are not this store's (%.300s %s)", h->has_zone ? h->zone : "(none)",
		         h->has_zone ? az_scheme_name(h->scheme) : "-", zone,
		         az_scheme_name(cfg->scheme));
		return false;
	}
	return true;
}

/*
 * 'acmezone sync' from a peer: a dump (every live value and tombstone
 * here) or a sync batch (put and drop lines, one transaction).
 */
static int serve_sync(cli_t *cli, const proto_head_t *h)
{
	char line[BATCH_LINE_MAX + 1];
	const char *bad = NULL;
	proto_buf_t in = { 0 }, out = { 0 };
	sync_set_t here = { 0 };
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	az_reader_t *rd = NULL;
	batch_op_t op;
	size_t len, n = 0;
	bool end = false;
	int st, rc = RC_OK, ret;
	int64_t now = write_now_ms() / 1000;

	while (!end && (st = batch_getline(stdin, line, &len)) == LINE_OK) {
		if (strncmp(line, "end ", 4) == 0) {
			if (!proto_parse_op(line, h, n, &op, &end, &bad)) {
				return refuse(cli, h->id, RC_INPUT, "%s", bad);
			}
			break;
		}
		if (h->dump) {
			return refuse(cli, h->id, RC_INPUT, "a dump carries no operations");
		}
		proto_printf(&in, "%s\n", line);
		n++;
	}
	if (!end) {
		proto_buf_free(&in);
		return refuse(cli, h->id, RC_INPUT, "%s", st == LINE_LONG ?
		              "a line is longer than 4096 octets" :
		              "the input ended before its 'end' line (closed mid-batch)");
	}
	alarm(0);
	if (in.oom) {
		rc = refuse(cli, h->id, RC_STORE, "out of memory");
	} else if (h->dump) {
		rc = db_open(cli, AZ_OPEN_RDONLY, &store);
		ret = rc == RC_OK ? az_reader_begin(store, &rd) : AZ_EOK;
		if (rc == RC_OK && (ret != AZ_EOK || (ret = sync_read(rd, &here, now)) != AZ_EOK)) {
			cli_store_err(cli, ret, "cannot read '%s'", cli->qdb);
			rc = RC_STORE;
		}
		if (rc == RC_OK) {
			sync_dump(&here, &out);
			rc = out.oom ? RC_STORE : RC_OK;
		}
		if (rc == RC_OK) {
			fwrite(out.buf, 1, out.len, stdout);
			printf("status id=%s ok\n", h->id);
		}
	} else {
		rc = write_begin(cli, &store, &txn, NULL);
		if (rc == RC_OK) {
			rc = sync_apply(cli, txn, in.buf, in.len, now);
		}
		if (rc == RC_OK) {
			rc = write_commit(cli, &store, &txn, true);
		}
		for (size_t k = 1; rc == RC_OK && k <= n; k++) {
			printf("ok %zu\n", k);
		}
		if (rc == RC_OK) {
			printf("status id=%s ok\n", h->id);
		}
	}
	if (rc != RC_OK) {
		printf("status id=%s failed the sync could not be %s here\n", h->id,
		       h->dump ? "read" : "written");
	}
	az_reader_end(rd);
	az_txn_abort(txn);
	az_store_close(store);
	sync_free(&here);
	proto_buf_free(&in);
	proto_buf_free(&out);
	return rc;
}

/*
 * One batch, whose first line the caller read into line (st: what
 * batch_getline() said), answered on stdout.  *whole: it was read to its
 * 'end' line, so that a session may read the next one.
 */
static int serve_batch(cli_t *cli, const scope_t *scope, char *line, int st,
                       bool *whole)
{
	char why[1024], q[CLI_QUOTE_MAX];
	const char *bad = NULL;
	proto_head_t h;
	az_config_t cfg;
	batch_t b = { 0 };
	batch_op_t op;
	unsigned long refused = 0, removed = 0, lines = 0;
	size_t len;
	bool end = false;
	int rc;

	*whole = false;
	if (st != LINE_OK || !proto_parse_head(line, &h, &bad)) {
		rc = refuse(cli, "-", RC_INPUT, "%s", st == LINE_OK ? bad :
		            st == LINE_EOF ? "no batch on standard input" :
		            "the first line is not text of at most 4096 octets");
		goto out;
	}
	printf(PROTO_REPLY " %d id=%s\n", PROTO_VERSION, h.id);
	rc = db_read_config(cli, &cfg);
	if (rc != RC_OK) {
		printf("status id=%s failed cannot read the store here\n", h.id);
		goto out;
	}
	/* A relay keeps the sender's clock and goes no further: only a peer
	 * nameserver may send one, or a writer could date its values ahead
	 * of later deletes (and past their expiry bound). */
	if (h.relay && cli->scope != NULL) {
		rc = refuse(cli, h.id, RC_INPUT, "a relay needs the key of a peer "
		            "nameserver (serve --unscoped), not a scoped writer's");
		goto out;
	}
	if (h.relay && !same_settings(&h, &cfg, why, sizeof(why))) {
		rc = refuse(cli, h.id, RC_INPUT, "%s", why);
		goto out;
	}
	if (h.dump || h.sync) {
		/* Never in a session (a keeper carries writes): it ends here. */
		rc = cli->unscoped ? serve_sync(cli, &h) :
		     refuse(cli, h.id, RC_INPUT, "sync needs the key of a peer "
		            "nameserver (serve --unscoped), not a scoped writer's");
		goto out;
	}
	while (!end && (st = batch_getline(stdin, line, &len)) == LINE_OK) {
		lines++;
		if (!proto_parse_op(line, &h, b.nops + refused, &op, &end, &bad)) {
			rc = refuse(cli, h.id, RC_INPUT, "line %lu: %s", lines + 1, bad);
			goto out;
		}
		if (end) {
			break;
		}
		op.line = b.nops + refused + 1;
		if (cli->scope != NULL && !scope_allows(scope, cfg.has_zone ? cfg.zone : NULL,
		                                        op.add, op.name, why, sizeof(why))) {
			if (++refused <= SERVE_REFUSED_SHOWN) {
				printf("refused %lu %s\n", op.line, why);
				serve_log(cli, LOG_WARNING, "batch %s: %s", h.id, why);
			}
			continue;
		}
		if (b.nops + refused >= BATCH_MAX_OPS) {
			rc = refuse(cli, h.id, RC_INPUT, "more than %d operations", BATCH_MAX_OPS);
			goto out;
		}
		if (!batch_push(&b, &op)) {
			rc = refuse(cli, h.id, RC_STORE, "out of memory");
			goto out;
		}
	}
	if (!end) {
		rc = refuse(cli, h.id, RC_INPUT, "%s", st == LINE_LONG ?
		            "a line is longer than 4096 octets" : st == LINE_NUL ?
		            "a line holds a NUL octet" : st == LINE_ERR ?
		            "standard input could not be read" :
		            "the input ended before its 'end' line (closed mid-batch)");
		goto out;
	}
	alarm(0);
	*whole = true;
	if (refused > 0) {
		rc = refuse(cli, h.id, RC_INPUT, "%lu operation(s) outside the scope %s",
		            refused, quote(cli->scope, q));
		goto out;
	}
	/* A relay is the sender's own write, already on its way to every
	 * peer: it goes no further (no loops between nameservers). */
	if (h.relay) {
		cli->peers = PEERS_NONE;
	}
	cli->peered = true;
	rc = write_batch(cli, &b, h.relay ? h.time_ms : write_now_ms(), peer_line, &removed);
	if (rc == RC_OK) {
		for (size_t k = 1; k <= b.nops; k++) {
			printf("ok %zu\n", k);
		}
		printf("status id=%s ok\n", h.id);
	} else {
		printf("status id=%s failed %s\n", h.id, rc == RC_DNS ?
		       "written here, but not served here or not taken by its peers" :
		       rc == RC_INPUT ? "the store refused an operation; nothing written" :
		       "the store failed; nothing written");
		syslog(LOG_WARNING, "batch %s failed (exit status %d)", h.id, rc);
	}
out:
	alarm(0);
	batch_free(&b);
	return rc;
}

/*
 * A keeper's session: batches one after another until the input ends,
 * each answered (and flushed) before the next is read.  Each starts from
 * the command line's --peers (a relay sets none for itself alone), and
 * with the scope file as it is then: the operator's change to it counts
 * from the next batch (one that cannot be read ends the session).
 */
static int serve_session(cli_t *cli, scope_t *scope)
{
	char line[BATCH_LINE_MAX + 1], why[1024];
	cli_peers_t peers = cli->peers;
	size_t len;
	bool whole = true;
	int st, rc = RC_OK;

	printf(PROTO_SESSION " %d ok\n", PROTO_VERSION);
	while (whole && fflush(stdout) == 0) {
		alarm(SERVE_IDLE_S);
		st = batch_getline(stdin, line, &len);
		if (st == LINE_EOF) {
			return RC_OK;
		}
		alarm(SERVE_READ_S);
		if (cli->scope != NULL && scope_changed(scope)) {
			scope_free(scope);
			if (!scope_load(scope, cli->scope, why, sizeof(why))) {
				return refuse(cli, "-", RC_USAGE, "the scope changed and "
				              "cannot be read: %s", why);
			}
		}
		cli->peers = peers;
		rc = serve_batch(cli, scope, line, st, &whole);
	}
	return rc;
}

static int run_serve(cli_t *cli)
{
	char line[BATCH_LINE_MAX + 1], why[1024], q[CLI_QUOTE_MAX];
	const char *cmd = getenv("SSH_ORIGINAL_COMMAND");
	scope_t scope = { 0 };
	size_t len;
	bool whole;
	int st, rc;

	openlog("acmezone", LOG_PID, LOG_AUTH);

	/* Shorter than the sender's own default, so that a peer of ours that
	 * hangs is reported to the sender by name rather than as our silence. */
	if (!cli->peer_timeout_given) {
		cli->peer_timeout_ms = SERVE_PEER_TIMEOUT_S * 1000;
	}
	if (cli->unscoped == (cli->scope != NULL)) {
		serve_log(cli, LOG_ERR, "give --scope FILE (a writer's key) or "
		          "--unscoped (a peer nameserver's key), one of them");
		rc = RC_USAGE;
		goto out;
	}
	if (cli->scope != NULL && !scope_load(&scope, cli->scope, why, sizeof(why))) {
		serve_log(cli, LOG_ERR, "refusing to run: %s", why);
		rc = RC_USAGE;
		goto out;
	}
	/* The key runs this and nothing else: no other command, no option. */
	if (!command_ok(cmd)) {
		serve_log(cli, LOG_WARNING, "refusing the command '%s': this key "
		          "runs only '" PROTO_COMMAND "' (the batch protocol on "
		          "standard input)", quote(cmd, q));
		rc = RC_USAGE;
		goto out;
	}
	/* A sender that never finishes its batch holds nothing for long. */
	alarm(SERVE_READ_S);
	st = batch_getline(stdin, line, &len);
	if (st == LINE_OK && strcmp(line, PROTO_SESSION " 1") == 0) {
		rc = serve_session(cli, &scope);
	} else {
		rc = serve_batch(cli, &scope, line, st, &whole);
	}
out:
	alarm(0);
	scope_free(&scope);
	closelog();
	return rc;
}

const cmd_t cmd_serve = {
	"serve", run_serve, OPT_SCOPE | OPT_UNSCOPED | OPT_FANOUT,
	0, 0, { NULL }, 0,
	"serve --scope FILE|--unscoped [--peers POLICY] [--peer-timeout SECONDS]\n"
	"      [--peer-keep SECONDS]",
	"Read one batch in the peer protocol on standard input, write it in one\n"
	"transaction, pass it on to this host's peers (unless it is a relay\n"
	"from one), and answer on standard output.  A sender's kept session\n"
	"(first line 'acmezone-session 1') brings batches one after another\n"
	"instead, each one transaction answered the same way, until its input\n"
	"ends.  Meant as the forced command of a key in ~/.ssh/authorized_keys:\n"
	"\n"
	"  command=\"acmezone serve --scope /etc/acmezone/scope/client1\",restrict ssh-ed25519 ...\n"
	"\n"
	"It refuses any other command the client asks ssh for, and a whole\n"
	"batch if any line is malformed or outside the scope.  The protocol and\n"
	"the scope file: doc/multi-nameserver.md, acmezone(1).\n"
	"\n"
	"  --scope FILE    the domains and operations this key may write\n"
	"  --unscoped      everything (the key of a peer nameserver)\n"
	"  --peers POLICY  as for add, for passing batches on\n"
	"  --peer-timeout SECONDS  for passing batches on (default 10: less\n"
	"                  than a sender's 15, so that it hears which peer failed)\n"
	"  --peer-keep SECONDS  keep each peer's session open this long for the\n"
	"                  next batch passed on (default 60; 0: none)\n"
};
