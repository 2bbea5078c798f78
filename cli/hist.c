/* hist.c -- the CLI's history events: who wrote which value, what the ACME clients said. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hist.h"
#include "msg.h"
#include "names.h"

static bool client_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > AZ_HIST_CLIENT_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
			return false;
		}
	}
	return true;
}

int hist_client(cli_t *cli)
{
	char q[CLI_QUOTE_MAX];
	const char *env = getenv(HIST_ENV_CLIENT);

	if (cli->client != NULL) {
		return RC_OK;
	}
	if (env == NULL || env[0] == '\0') {
		cli->client = HIST_MANUAL;
		return RC_OK;
	}
	if (!client_ok(env)) {
		cli_err(cli, "%s='%s' is not a client name (1 to %d letters, digits, "
		        "'.', '_' or '-')", HIST_ENV_CLIENT, quote(env, q),
		        AZ_HIST_CLIENT_MAX);
		return RC_INPUT;
	}
	cli->client = env;
	return RC_OK;
}

void hist_event(const cli_t *cli, az_hist_op_t op, az_hist_event_t *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->op = op;
	snprintf(ev->client, sizeof(ev->client), "%s",
	         cli->client != NULL ? cli->client : HIST_MANUAL);
	/* Cut to its field; the store replaces what is not printable. */
	if (gethostname(ev->host, sizeof(ev->host) - 1) != 0) {
		ev->host[0] = '\0';
	}
}

int hist_append(cli_t *cli, az_txn_t *txn, az_hist_event_t *ev)
{
	int ret = az_hist_append(txn, ev, NULL);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot record the %s in the history of '%s'",
		              az_hist_op_name(ev->op), cli->qdb);
		return RC_STORE;
	}
	return RC_OK;
}

int hist_ops(cli_t *cli, az_txn_t *txn, const az_config_t *cfg,
             const cli_op_t *ops, size_t n)
{
	az_hist_event_t ev;
	int rc = RC_OK;

	for (size_t i = 0; rc == RC_OK && i < n; i++) {
		if (!ops[i].add && ops[i].removed == 0) {
			continue;
		}
		hist_event(cli, ops[i].add ? AZ_HIST_ADD : AZ_HIST_DEL, &ev);
		names_domain_of(cfg, ops[i].name, ev.domain);
		ev.owner_len = az_name_wire_len(ops[i].owner, AZ_NAME_MAXLEN);
		memcpy(ev.owner, ops[i].owner, ev.owner_len);
		if (ops[i].value != NULL) {
			snprintf(ev.value, sizeof(ev.value), "%s", ops[i].value);
		}
		rc = hist_append(cli, txn, &ev);
	}
	return rc;
}
