/* cmd_persist.c -- 'persist add|del|list': the standing dns-persist-01 records of customer domains. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "db.h"
#include "json.h"
#include "msg.h"
#include "opts.h"
#include "peers.h"
#include "persist.h"
#include "sync.h"
#include "write.h"

/* What 'persist add' was asked to write, checked before the store is locked. */
typedef struct {
	char issuer[AZ_DOMAIN_BUFLEN];
	char text[PERSIST_TEXT_MAX + 1];
	size_t len;
	int64_t expire;		/* persistUntil, or AZ_EXPIRE_NEVER */
} persist_add_t;

/*
 * The value at owner (as this transaction sees it) whose issuer is
 * issuer and that is live at now, copied into old (PERSIST_TEXT_MAX + 1
 * octets); *found says whether there is one.  The store keeps at most
 * one per issuer (this command refuses a second), so the first is it.
 */
static int find_issuer(const cli_t *cli, az_txn_t *txn, const uint8_t *owner,
                       const char *issuer, int64_t now, char *old, size_t *old_len,
                       bool *found)
{
	char who[AZ_DOMAIN_BUFLEN], text[AZ_NAME_TXTLEN];
	az_rec_iter_t it;
	az_val_t v;
	int ret = az_txn_get(txn, owner, &it);

	*found = false;
	if (ret == AZ_ENOENT) {
		return RC_OK;
	}
	if (ret != AZ_EOK) {
		az_name_to_text(owner, text, sizeof(text));
		return write_fail(cli, ret, "read the records", text);
	}
	while (az_rec_iter_next(&it, &v)) {
		if (v.expire > now &&
		    persist_issuer_of(v.data, v.len, who) && strcmp(who, issuer) == 0) {
			/* The store holds at most PERSIST_TEXT_MAX octets a value. */
			memcpy(old, v.data, v.len);
			old[v.len] = '\0';
			*old_len = v.len;
			*found = true;
			break;
		}
	}
	return RC_OK;
}

/*
 * With peers (and not --peers none): bring each up to this store with a
 * sync ('acmezone sync PEER'), which carries the records (they never
 * expire, and may be longer than a batch of tokens allows) and the
 * tombstones of deleted ones.  A peer that fails is named; with --peers
 * reachable it is a warning.  \return RC_OK, or RC_DNS (exit 4).
 */
static int persist_peers(cli_t *cli)
{
	peers_t *ps = calloc(1, sizeof(*ps));
	int rc = RC_OK, failed = 0;

	if (ps == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	if (cli->peers != PEERS_NONE && peers_load(cli, ps) == RC_OK) {
		for (int i = 0; i < ps->n; i++) {
			if (sync_with(cli, &ps->p[i]) != RC_OK) {
				cli_err(cli, "peer %s: the record is written here but not "
				        "there ('acmezone sync %s' when it is back)",
				        ps->p[i].name, ps->p[i].name);
				failed++;
			}
		}
	}
	if (failed > 0 && cli->peers == PEERS_ALL) {
		rc = RC_DNS;
	}
	free(ps);
	return rc;
}

static int persist_add(cli_t *cli, const persist_add_t *a, const char *domain)
{
	char old[PERSIST_TEXT_MAX + 1], q[CLI_QUOTE_MAX], text[AZ_NAME_TXTLEN];
	names_deleg_t d;
	az_config_t cfg;
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	size_t old_len = 0;
	bool found = false, same = false;
	int64_t now = (int64_t)time(NULL);
	int rc, ret;

	rc = write_begin(cli, &store, &txn, &cfg);
	if (rc == RC_OK) {
		rc = persist_delegation(cli, &cfg, domain, &d);
	}
	if (rc == RC_OK) {
		rc = find_issuer(cli, txn, d.target, a->issuer, now, old, &old_len, &found);
	}
	same = found && old_len == a->len && memcmp(old, a->text, a->len) == 0;
	if (rc == RC_OK && found && !same && !cli->force) {
		/* One record per issuer: a second one would rebind the domain
		 * to another account (or policy) without anyone asking. */
		cli_err(cli, "%s already has a record for issuer %s (\"%s\"); "
		        "'persist del' it first, or give --force to replace it",
		        d.domain, a->issuer, quote(old, q));
		rc = RC_INPUT;
	}
	if (rc == RC_OK && found && !same) {
		/* A tombstone, so that a sync does not bring it back. */
		ret = az_txn_del_tomb(txn, d.target, (const uint8_t *)old, old_len,
		                      write_now_ms(), false, NULL);
		if (ret != AZ_EOK) {
			rc = write_fail(cli, ret, "replace the record", domain);
		}
	}
	if (rc == RC_OK) {
		ret = az_txn_add(txn, d.target, (const uint8_t *)a->text, a->len,
		                 a->expire, now);
		if (ret != AZ_EOK) {
			rc = write_fail(cli, ret, "add the record", domain);
		}
	}
	if (rc == RC_OK) {
		rc = write_commit(cli, &store, &txn, !same);
	}
	if (rc == RC_OK && !same) {
		rc = persist_peers(cli);
	}
	if (rc == RC_OK && cli->verbose) {
		az_name_to_text(d.target, text, sizeof(text));
		printf("%s %s at %s: \"%s\"\n", same ? "kept" : found ? "replaced" :
		       "added", a->issuer, text, a->text);
	}
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}

static int persist_del(cli_t *cli, const char *issuer, const char *domain)
{
	char old[PERSIST_TEXT_MAX + 1], text[AZ_NAME_TXTLEN];
	names_deleg_t d;
	az_config_t cfg;
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	unsigned removed = 0;
	size_t old_len = 0;
	bool found = true;
	int64_t now = (int64_t)time(NULL);
	int rc, ret = AZ_EOK;

	rc = write_begin(cli, &store, &txn, &cfg);
	if (rc == RC_OK) {
		rc = persist_delegation(cli, &cfg, domain, &d);
	}
	if (rc == RC_OK && issuer == NULL) {
		ret = az_txn_del_tomb(txn, d.target, NULL, 0, write_now_ms(), false,
		                      &removed);
	}
	/* One issuer's record: there is at most one live; an expired one
	 * is purged like any value. */
	while (rc == RC_OK && issuer != NULL && found && ret == AZ_EOK) {
		rc = find_issuer(cli, txn, d.target, issuer, now, old, &old_len, &found);
		if (rc == RC_OK && found) {
			unsigned n = 0;
			ret = az_txn_del_tomb(txn, d.target, (const uint8_t *)old, old_len,
			                      write_now_ms(), false, &n);
			removed += n;
		}
	}
	if (rc == RC_OK && ret != AZ_EOK) {
		rc = write_fail(cli, ret, "delete", domain);
	}
	if (rc == RC_OK) {
		rc = write_commit(cli, &store, &txn, removed > 0);
	}
	if (rc == RC_OK && removed > 0) {
		rc = persist_peers(cli);
	}
	if (rc == RC_OK && cli->verbose) {
		az_name_to_text(d.target, text, sizeof(text));
		printf("removed %u record(s) at %s\n", removed, text);
	}
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}

/*** list ***/

typedef struct {
	const cli_t *cli;
	int64_t now;
	json_t json;
} plist_t;

static void list_one(void *ctx, const char *name, const az_val_t *v)
{
	plist_t *ls = ctx;
	char when[CLI_TIME_MAX] = "", issuer[AZ_DOMAIN_BUFLEN];
	bool never = v->expire == AZ_EXPIRE_NEVER;
	bool expired = v->expire <= ls->now;
	bool has_issuer = persist_issuer_of(v->data, v->len, issuer);

	if (!never) {
		(void)fmt_time(v->expire, when);
	}
	if (ls->cli->json) {
		json_begin(&ls->json, '{');
		json_key(&ls->json, "name");
		json_str(&ls->json, name);
		json_key(&ls->json, "issuer");
		json_str_or_null(&ls->json, has_issuer ? issuer : NULL);
		json_key(&ls->json, "record");
		json_strn(&ls->json, (const char *)v->data, v->len);
		json_key(&ls->json, "expires");
		if (never) {
			json_str_or_null(&ls->json, NULL);
		} else {
			json_int(&ls->json, (long long)v->expire);
		}
		json_key(&ls->json, "expired");
		json_bool(&ls->json, expired);
		json_end(&ls->json);
		return;
	}
	printf("%s  \"", name);
	fwrite(v->data, 1, v->len, stdout);
	printf(never ? "\"  never expires\n" : expired ? "\"  expired %s\n" :
	       "\"  expires %s\n", when);
}

/* A domain, mapped to where its records are stored. */
static int list_name(const cli_t *cli, const az_config_t *cfg, const char *text,
                     uint8_t name[AZ_NAME_MAXLEN])
{
	names_deleg_t d;
	int rc = persist_delegation(cli, cfg, text, &d);

	if (rc == RC_OK) {
		memcpy(name, d.target, az_name_wire_len(d.target, AZ_NAME_MAXLEN));
	}
	return rc;
}

static int persist_list(cli_t *cli, const char *domain)
{
	plist_t ls = { .cli = cli, .now = (int64_t)time(NULL) };

	return db_list(cli, domain, list_name, persist_is_name, list_one, &ls, &ls.json);
}

/*** The command. ***/

/* Options that only 'persist add' takes. */
static const char *add_only(const cli_t *cli)
{
	return cli->account_uri != NULL ? "--account-uri" :
	       cli->wildcard ? "--wildcard" : cli->until != NULL ? "--until" :
	       cli->force ? "--force" : NULL;
}

static int run_persist(cli_t *cli)
{
	const char *action = cli->pos[0], *domain = cli->npos > 1 ? cli->pos[1] : NULL;
	char q[CLI_QUOTE_MAX], q2[CLI_QUOTE_MAX];
	persist_add_t a = { .expire = AZ_EXPIRE_NEVER };
	int64_t until = 0;
	int rc;

	if (strcmp(action, "list") == 0) {
		if (add_only(cli) != NULL || cli->issuer != NULL) {
			return cli_usage(cli, "'persist list' takes no %s",
			                 cli->issuer != NULL ? "--issuer" : add_only(cli));
		}
		return persist_list(cli, domain);
	}
	if (strcmp(action, "add") != 0 && strcmp(action, "del") != 0) {
		return cli_usage(cli, "'%s' is not add, del or list", quote(action, q));
	}
	if (domain == NULL) {
		return cli_usage(cli, "missing DOMAIN");
	}
	if (cli->json) {
		return cli_usage(cli, "--json applies to 'persist list' only");
	}
	if (strcmp(action, "del") == 0) {
		if (add_only(cli) != NULL) {
			return cli_usage(cli, "'persist del' takes no %s", add_only(cli));
		}
		rc = cli->issuer != NULL ? persist_issuer(cli, cli->issuer, a.issuer) : RC_OK;
		return rc == RC_OK ? persist_del(cli, cli->issuer != NULL ? a.issuer : NULL,
		                                 domain) : rc;
	}
	if (cli->issuer == NULL || cli->account_uri == NULL) {
		return cli_usage(cli, "'persist add' needs --issuer and --account-uri");
	}
	/* Every part checked before the store is locked. */
	if (domain[0] == '*' && domain[1] == '.') {
		cli_err(cli, "'%s': a wildcard is authorised by the record of %s "
		        "with --wildcard", quote(domain, q), quote(domain + 2, q2));
		return RC_INPUT;
	}
	rc = persist_issuer(cli, cli->issuer, a.issuer);
	if (rc == RC_OK) {
		rc = persist_uri(cli, cli->account_uri);
	}
	if (rc == RC_OK && cli->until != NULL) {
		rc = persist_until(cli, cli->until, (int64_t)time(NULL), &until);
		a.expire = until;	/* the CA refuses it after that: so do we */
	}
	if (rc == RC_OK) {
		rc = persist_text(cli, a.issuer, cli->account_uri, cli->wildcard, until,
		                  a.text, &a.len);
	}
	return rc == RC_OK ? persist_add(cli, &a, domain) : rc;
}

const cmd_t cmd_persist = {
	"persist", run_persist,
	OPT_ISSUER | OPT_ACCOUNT_URI | OPT_WILDCARD | OPT_UNTIL | OPT_FORCE |
	OPT_JSON | OPT_VERBOSE | OPT_FANOUT, 1, 2, { "add|del|list", "DOMAIN" }, 0,
	"persist add|del|list DOMAIN [--issuer DOMAIN] [--account-uri URI] "
	"[--wildcard] [--until TIME] [--force] [--peers POLICY] [--json] [-v]",
	"The standing dns-persist-01 records of DOMAIN: one TXT record per CA\n"
	"at _validation-persist.DOMAIN (served at _validation-persist.<label>.\n"
	"<zone>; 'acmezone cname --persist DOMAIN' prints the customer's CNAME),\n"
	"\"ISSUER; accounturi=URI[; policy=wildcard][; persistUntil=UNIX]\".\n"
	"While it is there, that ACME account may get certificates for DOMAIN\n"
	"from that CA without writing anything.  With peers ('acmezone peer'),\n"
	"add and del then sync each peer ('acmezone sync PEER'): the record,\n"
	"or its removal, is on every nameserver when the command returns.\n"
	"\n"
	"  persist add DOMAIN --issuer DOMAIN --account-uri URI [--wildcard]\n"
	"              [--until TIME] [--force]\n"
	"      publish the record; it never expires, or with --until not after\n"
	"      TIME.  A second record for the same issuer is refused unless\n"
	"      --force replaces it (the same record again is kept as it is).\n"
	"  persist del DOMAIN [--issuer DOMAIN]\n"
	"      remove that issuer's record, or every record of DOMAIN\n"
	"  persist list [DOMAIN] [--json]\n"
	"      show the records of DOMAIN, or every one in the store\n"
	"\n"
	"  --issuer DOMAIN    the CA's issuer domain name (letsencrypt.org)\n"
	"  --account-uri URI  the ACME account URL (https://...)\n"
	"  --wildcard         add policy=wildcard: also *.DOMAIN and names below\n"
	"  --until TIME       persistUntil: UNIX seconds, 2027-01-31,\n"
	"                     2027-01-31T12:00:00Z or +DURATION (+90d)\n"
	"  --force            replace the issuer's record if it differs\n"
	"  --json             list: one JSON array of {name, issuer, record,\n"
	"                     expires, expired}\n"
	"  --peers all|reachable|none  which peers must be synced (default\n"
	"                     all: a peer that fails makes the exit status 4)\n"
	"  -v, --verbose      say what was written\n"
};
