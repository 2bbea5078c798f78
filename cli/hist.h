/* hist.h -- the CLI's history events: who wrote which value, what the ACME clients said. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include "cli.h"
#include "write.h"

#define HIST_ENV_CLIENT	"ACMEZONE_CLIENT"
#define HIST_MANUAL	"manual"

/*!
 * Settle cli->client before a write: the hook's own client if set, else
 * $ACMEZONE_CLIENT (dns_acmezone.sh says "acme.sh"), else "manual".  A
 * client name is 1..32 letters, digits, '.', '_' or '-'.  \return RC_OK,
 * or RC_INPUT with the message printed.
 */
int hist_client(cli_t *cli);

/*! An event of op by cli->client on this host, time "now" (set on append). */
void hist_event(const cli_t *cli, az_hist_op_t op, az_hist_event_t *ev);

/*!
 * In txn, after ops were applied: one ADD or DEL event per op that
 * changed something (a delete of nothing is not an event).  \return
 * RC_OK, or RC_STORE with the message printed (abort the transaction).
 */
int hist_ops(cli_t *cli, az_txn_t *txn, const az_config_t *cfg,
             const cli_op_t *ops, size_t n);

/*! Append ev in txn; on failure print why and return RC_STORE. */
int hist_append(cli_t *cli, az_txn_t *txn, az_hist_event_t *ev);
