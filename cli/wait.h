/* wait.h -- --wait: ask authoritative servers until they serve what was added. */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "dns.h"

/* The --wait servers, every address of each. */
typedef struct {
	dns_server_t srv[CLI_MAX_WAIT * 4];
	size_t n;
} wait_servers_t;

/*!
 * Parse cli->wait[] (host names are resolved here).  Called before any
 * write transaction begins, so that a bad server leaves the store as it
 * was.  \return RC_OK (w->n 0 if no --wait), or RC_INPUT, message printed.
 */
int wait_parse(const cli_t *cli, wait_servers_t *w);

/*!
 * Ask each server of w, without recursion, until it answers value at
 * owner, or until deadline (az_mono_ms() clock).  -v reports each.
 * \return RC_OK, or RC_DNS with the server, value, name and last answer
 * printed.
 */
int wait_value(const cli_t *cli, const wait_servers_t *w, int64_t deadline,
               const uint8_t *owner, const char *value);
