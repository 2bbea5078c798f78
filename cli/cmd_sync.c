/* cmd_sync.c -- 'sync PEER': make a peer's store and this one hold the same live values, deletes never undone. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "db.h"
#include "fanout.h"
#include "msg.h"
#include "opts.h"
#include "sync.h"
#include "write.h"

/* What the peer answers to a dump or a sync batch. */
typedef struct {
	const char *id;
	bool head, status;
	sync_set_t *there;		/* dump: its values and tombstones */
	int64_t now;
	unsigned long oks;
	char why[512];
} answer_t;

static bool answer_line(char *text, void *ctx)
{
	answer_t *a = ctx;
	proto_reply_t r;
	proto_state_t st;
	char copy[PROTO_LINE_MAX + 1], q[CLI_QUOTE_MAX];
	const char *why;

	if (a->status) {
		return false;
	}
	if (a->head && a->there != NULL && (strncmp(text, "value ", 6) == 0 ||
	                                     strncmp(text, "gone ", 5) == 0)) {
		if (!proto_parse_state(text, "value", "gone", &st, &why)) {
			snprintf(a->why, sizeof(a->why), "answered a bad dump line (%s)", why);
			return false;
		}
		sync_add(a->there, st.kind, st.owner, st.value, strlen(st.value), st.a,
		         st.b, a->now);
		return true;
	}
	snprintf(copy, sizeof(copy), "%s", text);
	if (!proto_parse_reply(text, a->id, &r) || a->head != (r.kind != REPLY_HEAD)) {
		snprintf(a->why, sizeof(a->why), "answered garbage or for another "
		         "batch: '%.100s'", quote(copy, q));
		return false;
	}
	if (r.kind == REPLY_HEAD) {
		a->head = true;
	} else if (r.kind == REPLY_OK) {
		a->oks++;
	} else if (r.kind == REPLY_STATUS_OK) {
		a->status = true;
	} else if (r.kind != REPLY_PEER) {
		/* A refused or failed line, or such a status: the first says why. */
		if (a->why[0] == '\0') {
			snprintf(a->why, sizeof(a->why), "%s", quote(r.text, q));
		}
		a->status = r.kind == REPLY_STATUS_REFUSED || r.kind == REPLY_STATUS_FAILED;
	}
	return true;
}

/* One exchange with the peer: body (operations, may be empty) under a head. */
static int exchange(cli_t *cli, const peer_t *p, proto_head_t *h, const proto_buf_t *body,
                    answer_t *a)
{
	proto_buf_t b = { 0 };
	char why[1024];
	int rc;

	if (!proto_new_id(h->id)) {
		cli_err(cli, "cannot make a batch id");
		return RC_STORE;
	}
	proto_put_head(&b, h);
	if (body->len > 0) {
		proto_printf(&b, "%s", body->buf);
	}
	b.nops = body->nops;
	proto_put_end(&b, h);
	if (b.oom) {
		proto_buf_free(&b);
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	a->id = h->id;
	rc = fanout_run_one(cli, p, PROTO_COMMAND, b.buf, b.len,
	                    az_mono_ms() + cli->peer_timeout_ms, answer_line, a,
	                    why, sizeof(why));
	proto_buf_free(&b);
	if (rc == RC_OK && (!a->status || a->why[0] != '\0' || a->oks != body->nops)) {
		snprintf(why, sizeof(why), "%s", a->why[0] != '\0' ? a->why :
		         "no status line");
		rc = RC_DNS;
	}
	if (rc != RC_OK) {
		cli_err(cli, "peer %s: %s", p->name, a->why[0] != '\0' ? a->why : why);
	}
	return rc;
}

int sync_with(cli_t *cli, const peer_t *p)
{
	proto_head_t h = { 0 };
	proto_buf_t none = { 0 }, to_here = { 0 }, to_there = { 0 }, report = { 0 };
	sync_set_t here = { 0 }, there = { 0 };
	sync_counts_t c;
	az_config_t cfg;
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	az_reader_t *rd = NULL;
	answer_t a;
	int64_t now_ms = write_now_ms();
	int rc = RC_OK, ret;

	/* Our snapshot first: what the peer holds is compared with it. */
	if (rc == RC_OK) {
		rc = db_open(cli, AZ_OPEN_RDONLY, &store);
	}
	if (rc == RC_OK) {
		ret = az_reader_begin(store, &rd);
		if (ret == AZ_EOK) {
			ret = az_reader_config(rd, &cfg);
		}
		if (ret == AZ_EOK) {
			ret = sync_read(rd, &here, now_ms / 1000);
		}
		if (ret != AZ_EOK) {
			cli_store_err(cli, ret, "cannot read '%s'", cli->qdb);
			rc = RC_STORE;
		}
		az_reader_end(rd);
		az_store_close(store);
		store = NULL;
	}
	h.time_ms = now_ms;
	h.relay = true;
	if (rc == RC_OK && cfg.has_zone) {
		h.has_zone = true;
		az_name_to_text(cfg.zone, h.zone, sizeof(h.zone));
		h.scheme = cfg.scheme;
	}
	if (rc == RC_OK) {
		h.dump = true;
		memset(&a, 0, sizeof(a));
		a.there = &there;
		a.now = now_ms / 1000;
		rc = exchange(cli, p, &h, &none, &a);
		if (rc == RC_OK && there.oom) {
			cli_err(cli, "out of memory");
			rc = RC_STORE;
		}
	}
	if (rc == RC_OK) {
		sync_sort(&here);
		sync_sort(&there);
		sync_plan(&here, &there, &to_here, &to_there, &c, &report, p->name);
		if (to_here.oom || to_there.oom || report.oom) {
			cli_err(cli, "out of memory");
			rc = RC_STORE;
		}
	}
	/* The peer's fixes in one transaction there, then ours here. */
	if (rc == RC_OK && to_there.nops > 0) {
		h.dump = false;
		h.sync = true;
		memset(&a, 0, sizeof(a));
		rc = exchange(cli, p, &h, &to_there, &a);
	}
	if (rc == RC_OK && to_here.nops > 0) {
		rc = write_begin(cli, &store, &txn, NULL);
		if (rc == RC_OK) {
			rc = sync_apply(cli, txn, to_here.buf, to_here.len, now_ms / 1000);
		}
		if (rc == RC_OK) {
			rc = write_commit(cli, &store, &txn, true);
		}
	}
	if (rc == RC_OK) {
		if (report.len > 0) {
			fputs(report.buf, stdout);
		}
		printf("sync %s: added %zu and removed %zu there, added %zu and "
		       "removed %zu here\n", p->name, c.added_there, c.removed_there,
		       c.added_here, c.removed_here);
	}
	az_txn_abort(txn);
	az_store_close(store);
	sync_free(&here);
	sync_free(&there);
	proto_buf_free(&to_here);
	proto_buf_free(&to_there);
	proto_buf_free(&report);
	return rc;
}

static int run_sync(cli_t *cli)
{
	const char *name = cli->pos[0];
	char q[CLI_QUOTE_MAX];
	peers_t *ps = calloc(1, sizeof(*ps));
	const peer_t *p = NULL;
	int rc;

	if (ps == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	rc = peers_load(cli, ps);
	for (int i = 0; rc == RC_OK && i < ps->n; i++) {
		if (strcmp(ps->p[i].name, name) == 0) {
			p = &ps->p[i];
		}
	}
	if (rc == RC_OK && p == NULL) {
		cli_err(cli, "there is no peer '%s' ('acmezone peer list')", quote(name, q));
		rc = RC_INPUT;
	}
	if (rc == RC_OK) {
		rc = sync_with(cli, p);
	}
	free(ps);
	return rc;
}

const cmd_t cmd_sync = {
	"sync", run_sync, OPT_PEER_TIMEOUT, 1, 1, { "PEER", NULL }, 0,
	"sync PEER [--peer-timeout SECONDS]",
	"Make PEER's store and this one hold the same live values: for each\n"
	"value the newest event wins, a publication or a deletion (deletes\n"
	"leave tombstones until the value would have expired), so a value\n"
	"deleted on either side is never brought back.  One transaction on\n"
	"each side; prints each value added or removed, then a summary.  PEER's\n"
	"key must run 'acmezone serve --unscoped'.  Run it when a peer comes\n"
	"back, and from a timer (doc/multi-nameserver.md).\n"
	"\n"
	"  --peer-timeout SECONDS  for each of the two exchanges (default 15)\n"
};
