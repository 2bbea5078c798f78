/* cmd_hook.c -- 'hook CLIENT': the hook protocols of certbot, lego and dehydrated. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "cmds.h"
#include "hist.h"
#include "msg.h"
#include "names.h"
#include "opts.h"
#include "write.h"

#define HOOK_KEYAUTH_MAX	1024	/* token '.' thumbprint: about 87 */
#define HOOK_MARK		"acmezone: published "	/* certbot auth output */
#define HOOK_OPTS		(OPT_EXPIRE | OPT_VERBOSE | OPT_WAIT_AT | OPT_PROPAGATION | \
				 OPT_SERVER | OPT_FANOUT | OPT_ACCOUNT_URI)
#define HOOK_MAX_DOMAINS	100	/* names in one certificate (Let's Encrypt's limit) */

typedef struct {
	cli_t *cli;
	const char **args;	/* the client's words after its name */
	int nargs;
	int64_t expire;
	const char *phase;	/* certbot: "auth", "cleanup" or NULL */
} hook_t;

/*
 * Write ops (one transaction), report with -v; names freed by the caller.
 * A store without a challenge zone is refused: the names would be written
 * as the client gives them (_acme-challenge.<domain>), where no CNAME
 * points, and the CA would never see them.
 */
static int hook_write(hook_t *h, cli_op_t *ops, size_t n)
{
	char text[AZ_NAME_TXTLEN];
	int rc;

	for (size_t i = 0; i < n; i++) {
		ops[i].ttl = h->expire;
	}
	rc = write_ops(h->cli, ops, n, WRITE_NEED_ZONE);
	for (size_t i = 0; rc == RC_OK && h->cli->verbose && i < n; i++) {
		az_name_to_text(ops[i].owner, text, sizeof(text));
		if (ops[i].add) {
			printf("added %s at %s%s\n", ops[i].value, text,
			       ops[i].fallback != AZ_FALLBACK_NONE ? " (hashed label)" : "");
		} else {
			printf("removed %u value(s) at %s\n", ops[i].removed, text);
		}
	}
	return rc;
}

/* Before the store is opened: every name was allocated, every value is valid. */
static int check_ops(hook_t *h, cli_op_t *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].name == NULL) {
			cli_err(h->cli, "out of memory");
			return RC_STORE;
		}
		if (ops[i].value != NULL && names_value(h->cli, ops[i].value) != RC_OK) {
			return RC_INPUT;
		}
	}
	return RC_OK;
}

/*** certbot ***/

/*
 * certbot runs the same kind of command for both phases and tells them
 * apart by the environment: CERTBOT_AUTH_OUTPUT (the auth hook's standard
 * output) is set only for cleanup.  But certbot keeps it in its own
 * environment afterwards, so a later auth call in the same run (certbot
 * renew with several certificates) still sees the previous one's.  The
 * auth phase therefore prints its value after HOOK_MARK; cleanup is when
 * CERTBOT_AUTH_OUTPUT is set and either names this very value or does
 * not come from this hook at all.
 */
static bool certbot_is_cleanup(const char *value)
{
	const char *out = getenv("CERTBOT_AUTH_OUTPUT");

	if (out == NULL) {
		return false;
	}
	return strstr(out, value) != NULL || strstr(out, HOOK_MARK) == NULL;
}

/* certbot passes no words: options and a phase may follow "certbot". */
static int certbot_args(hook_t *h)
{
	char q[CLI_QUOTE_MAX];
	int rc;

	for (int i = 0; i < h->nargs; i++) {
		if (cli_is_option(h->args[i])) {
			rc = cli_opt_take(h->cli, HOOK_OPTS, (char **)h->args, &i);
			if (rc != RC_OK) {
				return rc;
			}
		} else if (h->phase == NULL && (strcmp(h->args[i], "auth") == 0 ||
		                                strcmp(h->args[i], "cleanup") == 0)) {
			h->phase = h->args[i];
		} else {
			return cli_usage(h->cli, "unexpected argument '%s' for certbot "
			                 "(auth or cleanup, or none)", quote(h->args[i], q));
		}
	}
	return RC_OK;
}

static int hook_certbot(hook_t *h)
{
	const char *domain = getenv("CERTBOT_DOMAIN");
	const char *value = getenv("CERTBOT_VALIDATION");
	char text[AZ_NAME_TXTLEN];
	cli_op_t op;
	int rc;

	if (domain == NULL || domain[0] == '\0' || value == NULL || value[0] == '\0') {
		return cli_usage(h->cli, "CERTBOT_DOMAIN and CERTBOT_VALIDATION are not "
		                 "set: certbot runs this as --manual-auth-hook and "
		                 "--manual-cleanup-hook");
	}
	memset(&op, 0, sizeof(op));
	op.name = names_challenge(domain);
	op.value = value;
	op.add = h->phase != NULL ? strcmp(h->phase, "auth") == 0 :
	                            !certbot_is_cleanup(value);
	rc = check_ops(h, &op, 1);
	if (rc == RC_OK) {
		rc = hook_write(h, &op, 1);
	}
	if (rc == RC_OK && op.add) {
		az_name_to_text(op.owner, text, sizeof(text));
		printf(HOOK_MARK "%s at %s\n", value, text);
	}
	free((char *)op.name);
	return rc;
}

/*** lego ***/

static int hook_lego(hook_t *h)
{
	const char **a = h->args;
	char value[AZ_ACME_VALUE_LEN + 1], q[CLI_QUOTE_MAX];
	cli_op_t op;
	bool present;
	int rc;

	memset(&op, 0, sizeof(op));
	if (h->nargs < 1 || (strcmp(a[0], "present") != 0 && strcmp(a[0], "cleanup") != 0)) {
		return cli_usage(h->cli, "lego: expected 'present' or 'cleanup', got '%s'",
		                 h->nargs < 1 ? "" : quote(a[0], q));
	}
	present = strcmp(a[0], "present") == 0;
	if (h->nargs == 5 && strcmp(a[1], "--") == 0) {
		/* EXEC_MODE=RAW: -- DOMAIN TOKEN KEYAUTH; the value is ours to make. */
		size_t len = strlen(a[4]);
		if (len == 0 || len > HOOK_KEYAUTH_MAX ||
		    az_value_check(a[4], len, true, NULL) != AZ_EOK) {
			cli_err(h->cli, "'%s' is not a key authorisation", quote(a[4], q));
			return RC_INPUT;
		}
		az_acme_value(a[4], len, value);
		op.name = names_challenge(a[2]);
		op.value = value;
	} else if (h->nargs == 3) {
		/* FQDN VALUE: _acme-challenge.<domain>., or where its CNAME
		 * points if lego followed it, which must be in our zone. */
		op.name = strdup(a[1]);
		op.value = a[2];
		op.strict = true;
	} else {
		return cli_usage(h->cli, "lego: expected '%s FQDN VALUE' or '%s -- DOMAIN "
		                 "TOKEN KEYAUTH'", a[0], a[0]);
	}
	op.add = present;
	rc = check_ops(h, &op, 1);
	if (rc == RC_OK) {
		rc = hook_write(h, &op, 1);
	}
	free((char *)op.name);
	return rc;
}


/*** Outcomes: what the client says came of an order (history only). ***/

/*
 * Record op (ISSUED or FAILED) for each domain in one transaction of the
 * history alone (n == 0: one event that names no domain).  cert (ISSUED): its notAfter is read first, outside the
 * write lock; a certificate that cannot be read is still an issuance: the
 * event is kept with the reason and no expiry, and the hook says so and
 * exits 3.  Domains are checked before the store is opened.
 */
static int record_outcome(hook_t *h, az_hist_op_t op, char **domains, size_t n,
                          const char *cert, const char *reason)
{
	char canon[HOOK_MAX_DOMAINS][AZ_DOMAIN_BUFLEN], q[CLI_QUOTE_MAX];
	char why[CERT_WHY_MAX] = "";
	const char *bad = NULL;
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	az_hist_event_t ev;
	az_config_t cfg;
	int64_t not_after = 0;
	int rc;

	if (n > HOOK_MAX_DOMAINS) {
		return cli_usage(h->cli, "more than %d domains", HOOK_MAX_DOMAINS);
	}
	for (size_t i = 0; i < n; i++) {
		if (az_domain_parse(domains[i], canon[i], &bad) != AZ_EOK) {
			cli_err(h->cli, "'%s' is not a valid domain (%s)",
			        quote(domains[i], q), bad);
			return RC_INPUT;
		}
	}
	if (cert != NULL && cert_not_after(cert, &not_after, why) != 0) {
		not_after = 0;
		reason = why;
	}
	rc = hist_client(h->cli);
	if (rc == RC_OK) {
		rc = write_begin(h->cli, &store, &txn, &cfg);
	}
	for (size_t i = 0; rc == RC_OK && i < (n > 0 ? n : 1); i++) {
		hist_event(h->cli, op, &ev);
		if (n > 0) {
			memcpy(ev.domain, canon[i], sizeof(ev.domain));
		}
		if (n > 0 && cfg.has_zone && az_delegation(canon[i], cfg.scheme, cfg.zone, ev.owner,
		                                  &ev.owner_len, NULL, NULL) != AZ_EOK) {
			ev.owner_len = 0;
		}
		ev.not_after = not_after;
		snprintf(ev.reason, sizeof(ev.reason), "%s", reason != NULL ? reason : "");
		rc = hist_append(h->cli, txn, &ev);
	}
	/* Nothing a server serves changed: no need to wait for them. */
	if (rc == RC_OK) {
		rc = write_commit(h->cli, &store, &txn, false);
	}
	az_txn_abort(txn);
	az_store_close(store);
	if (rc == RC_OK && why[0] != '\0') {
		cli_err(h->cli, "cannot read the certificate '%s': %s; the issuance "
		        "is recorded without its expiry", quote(cert, q), why);
		return RC_INPUT;
	}
	if (rc == RC_OK && h->cli->verbose) {
		printf("recorded %s of %zu domain(s)\n", az_hist_op_name(op), n);
	}
	return rc;
}

/* A copy of list split at blanks into at most HOOK_MAX_DOMAINS words. */
static size_t split_words(char *list, char **words)
{
	size_t n = 0;
	for (char *save = NULL, *w = strtok_r(list, " \t\n", &save);
	     w != NULL && n <= HOOK_MAX_DOMAINS; w = strtok_r(NULL, " \t\n", &save)) {
		words[n++] = w;
	}
	return n;
}

/* An outcome hook's environment variable, which must be set. */
static const char *need_env(hook_t *h, const char *name, const char *who)
{
	const char *v = getenv(name);
	if (v == NULL || v[0] == '\0') {
		cli_usage(h->cli, "%s is not set: %s runs this hook", name, who);
		return NULL;
	}
	return v;
}

/* certbot --deploy-hook: RENEWED_LINEAGE (a directory), RENEWED_DOMAINS. */
static int hook_certbot_deploy(hook_t *h)
{
	const char *lineage, *list;
	char *copy = NULL, *cert = NULL, *words[HOOK_MAX_DOMAINS + 1];
	int rc = RC_USAGE;

	if ((lineage = need_env(h, "RENEWED_LINEAGE", "certbot's --deploy-hook")) == NULL ||
	    (list = need_env(h, "RENEWED_DOMAINS", "certbot's --deploy-hook")) == NULL) {
		return RC_USAGE;
	}
	copy = strdup(list);
	cert = malloc(strlen(lineage) + sizeof("/cert.pem"));
	if (copy == NULL || cert == NULL) {
		cli_err(h->cli, "out of memory");
		rc = RC_STORE;
	} else {
		size_t n = split_words(copy, words);
		sprintf(cert, "%s/cert.pem", lineage);
		rc = n == 0 ? cli_usage(h->cli, "RENEWED_DOMAINS names no domain") :
		     record_outcome(h, AZ_HIST_ISSUED, words, n, cert, NULL);
	}
	free(copy);
	free(cert);
	return rc;
}

/* A deploy hook that names one domain and its certificate in two variables. */
static int env_deploy(hook_t *h, const char *domain_var, const char *cert_var,
                      const char *who)
{
	const char *domain, *cert;

	if ((domain = need_env(h, domain_var, who)) == NULL ||
	    (cert = need_env(h, cert_var, who)) == NULL) {
		return RC_USAGE;
	}
	return record_outcome(h, AZ_HIST_ISSUED, (char **)&domain, 1, cert, NULL);
}

/* lego --run-hook / --renew-hook: LEGO_CERT_DOMAIN, LEGO_CERT_PATH. */
static int hook_lego_deploy(hook_t *h)
{
	return env_deploy(h, "LEGO_CERT_DOMAIN", "LEGO_CERT_PATH", "lego's --run-hook");
}

/* acme.sh --renew-hook or --reloadcmd: Le_Domain, CERT_PATH. */
static int hook_acmesh_deploy(hook_t *h)
{
	return env_deploy(h, "Le_Domain", "CERT_PATH", "acme.sh's --renew-hook");
}

/*
 * The CA's reason in dehydrated's invalid_challenge RESPONSE: the string
 * of the error's "detail", unescaped; else the whole response.  dehydrated
 * passes the challenge as its JSON.sh flattens it, one
 * '["error","detail"]<TAB>"..."' line per member (the object itself comes
 * last); plain JSON ('"detail": "..."') is read too.  Not a JSON parser:
 * one string after the first "detail" key that has one.
 */
static void challenge_detail(const char *resp, char *out, size_t size)
{
	static const char ws[] = " \t\r\n";

	snprintf(out, size, "%s", resp);
	for (const char *p = strstr(resp, "\"detail\""); p != NULL;
	     p = strstr(p + 1, "\"detail\"")) {
		const char *q = p + strlen("\"detail\"");
		size_t o = 0;
		q += *q == ']' ? 1 : 0;
		q += strspn(q, ws);
		q += *q == ':' ? 1 : 0;
		q += strspn(q, ws);
		if (*q++ != '"') {
			continue;
		}
		for (; *q != '\0' && *q != '"' && o + 1 < size; q++) {
			if (*q == '\\' && q[1] != '\0') {
				q++;
				if (*q == 'u') {	/* \uXXXX: not ASCII for us */
					q += strspn(q + 1, "0123456789abcdefABCDEF") > 3 ? 4 : 0;
					out[o++] = '?';
					continue;
				}
				out[o++] = (*q == 'n' || *q == 't' || *q == 'r') ? ' ' : *q;
			} else {
				out[o++] = *q;
			}
		}
		out[o] = '\0';
		return;
	}
}

/* dehydrated's outcome handlers; 1: not one of them. */
static int dehydrated_outcome(hook_t *h)
{
	const char **a = h->args;
	char reason[AZ_HIST_REASON_MAX + 1];

	if (strcmp(a[0], "deploy_cert") == 0 && h->nargs >= 4) {
		/* DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE TIMESTAMP */
		return record_outcome(h, AZ_HIST_ISSUED, (char **)&a[1], 1, a[3], NULL);
	}
	if (strcmp(a[0], "invalid_challenge") == 0 && h->nargs >= 3) {
		/* DOMAIN RESPONSE */
		challenge_detail(a[2], reason, sizeof(reason));
		return record_outcome(h, AZ_HIST_FAILED, (char **)&a[1], 1, NULL, reason);
	}
	if (strcmp(a[0], "request_failure") == 0 && h->nargs >= 4) {
		/* STATUSCODE REASON REQTYPE [HEADERS]: no domain.  The history
		 * keeps it as said; the report puts it at this host's newest
		 * challenge by dehydrated before it. */
		snprintf(reason, sizeof(reason), "request failure: HTTP %s on %s: %s",
		         a[1], a[3], a[2]);
		return record_outcome(h, AZ_HIST_FAILED, NULL, 0, NULL, reason);
	}
	if (strcmp(a[0], "deploy_cert") == 0 || strcmp(a[0], "invalid_challenge") == 0 ||
	    strcmp(a[0], "request_failure") == 0) {
		return cli_usage(h->cli, "dehydrated: too few arguments for %s", a[0]);
	}
	return 1;
}

/*** dehydrated ***/

static int hook_dehydrated(hook_t *h)
{
	const char **a = h->args;
	cli_op_t *ops = NULL;
	size_t n;
	bool add;
	int rc;

	if (h->nargs < 1) {
		return RC_OK;
	}
	add = strcmp(a[0], "deploy_challenge") == 0;
	if (!add && strcmp(a[0], "clean_challenge") != 0) {
		/* dehydrated calls every handler, some new or unknown on
		 * purpose, and wants them ignored with success. */
		rc = dehydrated_outcome(h);
		return rc == 1 ? RC_OK : rc;
	}
	if (h->nargs < 4 || (h->nargs - 1) % 3 != 0) {
		return cli_usage(h->cli, "dehydrated: expected '%s DOMAIN TOKEN VALUE "
		                 "[DOMAIN TOKEN VALUE]...'", a[0]);
	}
	/* HOOK_CHAIN=yes gives every challenge in one call: one transaction. */
	n = (size_t)(h->nargs - 1) / 3;
	ops = calloc(n, sizeof(*ops));
	if (ops == NULL) {
		cli_err(h->cli, "out of memory");
		return RC_STORE;
	}
	for (size_t i = 0; i < n; i++) {
		ops[i].name = names_challenge(a[1 + 3 * i]);
		ops[i].value = a[3 + 3 * i];
		ops[i].add = add;
	}
	rc = check_ops(h, ops, n);
	if (rc == RC_OK) {
		rc = hook_write(h, ops, n);
	}
	for (size_t i = 0; i < n; i++) {
		free((char *)ops[i].name);
	}
	free(ops);
	return rc;
}

/*** The command. ***/

/*
 * Options from the environment, for clients that run one program without
 * arguments of our choosing (lego's EXEC_PATH, dehydrated's HOOK).  The
 * command line wins.
 */
static int hook_env(cli_t *cli, char **wait_copy)
{
	const char *env;

	env = getenv("ACMEZONE_EXPIRE");
	if (cli->expire == NULL && env != NULL && env[0] != '\0') {
		cli->expire = env;
	}
	env = getenv("ACMEZONE_PROPAGATION_TIMEOUT");
	if (!cli->propagation_given && env != NULL && env[0] != '\0') {
		char *argv[] = { "--propagation-timeout", (char *)env, NULL };
		int i = 0;
		int rc = cli_opt_take(cli, HOOK_OPTS, argv, &i);
		if (rc != RC_OK) {
			return rc;
		}
	}
	env = getenv("ACMEZONE_SERVER");
	if (cli->server == NULL && env != NULL && env[0] != '\0') {
		cli->server = env;
	}
	env = getenv("ACMEZONE_ACCOUNT_URI");
	if (cli->account_uri == NULL && env != NULL && env[0] != '\0') {
		char *argv[] = { "--account-uri", (char *)env, NULL };
		int i = 0;
		int rc = cli_opt_take(cli, HOOK_OPTS, argv, &i);
		if (rc != RC_OK) {
			return rc;
		}
	}
	env = getenv("ACMEZONE_WAIT");
	if (cli->nwait == 0 && env != NULL && env[0] != '\0') {
		*wait_copy = strdup(env);
		if (*wait_copy == NULL) {
			cli_err(cli, "out of memory");
			return RC_STORE;
		}
		for (char *save = NULL, *tok = strtok_r(*wait_copy, " \t,", &save);
		     tok != NULL; tok = strtok_r(NULL, " \t,", &save)) {
			if (cli->nwait == CLI_MAX_WAIT) {
				cli_err(cli, "ACMEZONE_WAIT: more than %d servers", CLI_MAX_WAIT);
				return RC_INPUT;
			}
			cli->wait[cli->nwait++] = tok;
		}
	}
	return RC_OK;
}

static int run_hook(cli_t *cli)
{
	hook_t h = { .cli = cli, .args = cli->pos + 1, .nargs = cli->npos - 1,
	             .expire = CLI_DEFAULT_EXPIRE };
	const char *client = cli->pos[0];
	char *wait_copy = NULL, q[CLI_QUOTE_MAX];
	int rc;

	static const struct {
		const char *name, *client;
		int (*run)(hook_t *h);
	} hooks[] = {
		{ "certbot", "certbot", hook_certbot },
		{ "lego", "lego", hook_lego },
		{ "dehydrated", "dehydrated", hook_dehydrated },
		{ "certbot-deploy", "certbot", hook_certbot_deploy },
		{ "lego-deploy", "lego", hook_lego_deploy },
		{ "acme.sh-deploy", "acme.sh", hook_acmesh_deploy },
	};
	int (*run)(hook_t *h) = NULL;

	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		if (strcmp(client, hooks[i].name) == 0) {
			run = hooks[i].run;
			cli->client = hooks[i].client;	/* for the history */
		}
	}
	if (run == NULL) {
		return cli_usage(cli, "'%s' is not a client this hook knows (certbot, "
		                 "lego, dehydrated, certbot-deploy, lego-deploy, "
		                 "acme.sh-deploy; acme.sh has dns_acmezone.sh)",
		                 quote(client, q));
	}
	rc = strcmp(client, "certbot") == 0 ? certbot_args(&h) : RC_OK;
	if (rc == RC_OK) {
		rc = hook_env(cli, &wait_copy);
	}
	if (rc == RC_OK && cli->expire != NULL) {
		rc = names_duration(cli, cli->expire, &h.expire);
	}
	if (rc == RC_OK) {
		rc = run(&h);
	}
	free(wait_copy);
	return rc;
}

const cmd_t cmd_hook = {
	"hook", run_hook, HOOK_OPTS,
	1, CMD_ANY, { "CLIENT", NULL }, 1,
	"hook [OPTIONS] CLIENT [ARGS...]",
	"Publish and remove challenges for an ACME client, speaking its hook\n"
	"protocol; see acmezone(1) and doc/clients/ for each client:\n"
	"\n"
	"  certbot     --manual-auth-hook and --manual-cleanup-hook\n"
	"              'acmezone hook certbot' (the phase follows from the\n"
	"              environment; 'auth' or 'cleanup' may be given)\n"
	"  lego        EXEC_PATH=acmezone-lego: present|cleanup FQDN VALUE,\n"
	"              and with EXEC_MODE=RAW present|cleanup -- DOMAIN TOKEN KEYAUTH\n"
	"  dehydrated  HOOK=acmezone-dehydrated: deploy_challenge and\n"
	"              clean_challenge DOMAIN TOKEN VALUE [...] (HOOK_CHAIN too);\n"
	"              other handlers are ignored; deploy_cert, invalid_challenge\n"
	"              and request_failure are recorded in the history\n"
	"\n"
	"Outcome hooks (the history and 'acmezone report'):\n"
	"\n"
	"  certbot-deploy  --deploy-hook 'acmezone hook certbot-deploy'\n"
	"  lego-deploy     --run-hook (and --renew-hook) 'acmezone hook lego-deploy'\n"
	"  acme.sh-deploy  --renew-hook 'acmezone hook acme.sh-deploy'\n"
	"\n"
	"Options go before the client's name (certbot: after it too); the\n"
	"environment may give them instead: ACMEZONE_EXPIRE, ACMEZONE_WAIT\n"
	"(servers separated by blanks or commas), ACMEZONE_SERVER,\n"
	"ACMEZONE_PROPAGATION_TIMEOUT, ACMEZONE_PEERS, ACMEZONE_PEER_TIMEOUT,\n"
	"ACMEZONE_PEER_KEEP, ACMEZONE_ACCOUNT_URI.\n"
	"\n"
	"dns-account-01: a name _<label>._acme-challenge.<domain> (lego's FQDN)\n"
	"is written at _<label>.<delegation name>; with --account-uri the\n"
	"clients that name only the domain (certbot, dehydrated, lego's RAW\n"
	"mode) write there too, for that account.\n"
	"\n"
	"  --expire DURATION  lifetime of a value if cleanup never comes\n"
	"                     (default 1h)\n"
	"  --wait SERVER      ask this authoritative server (ADDR[@PORT],\n"
	"                     repeatable) until it serves the value; 'ns' (or\n"
	"                     'ns@PORT'): every address of every NS of the zone\n"
	"  --server ADDR[@PORT]  the resolver --wait ns learns the NS set from\n"
	"  --propagation-timeout SECONDS  how long --wait may take (default 60)\n"
	"  --peers all|reachable|none  which peers must take the write\n"
	"                     (default all; see 'acmezone peer --help')\n"
	"  --peer-timeout SECONDS  how long each peer may take (default 15)\n"
	"  --peer-keep SECONDS  keep each peer's session open this long for the\n"
	"                     next write (default 60; 0: none)\n"
	"  --account-uri URI  dns-account-01: the ACME account URL whose label\n"
	"                     goes in front of every name\n"
	"  -v, --verbose      say what was written\n"
};
