/* wait.h -- --wait: ask authoritative servers until they serve what was added. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "dns.h"

#define WAIT_MAX_SERVERS	64	/* addresses asked, given and learned */
#define WAIT_MAX_NS		16	/* NS names of one zone */
#define WAIT_NS_KEYWORD		"ns"	/* --wait ns[@PORT]: the zone's NS set */

/* One address to ask, and the NS name it was learned from. */
typedef struct {
	dns_server_t srv;
	uint8_t ns[AZ_NAME_MAXLEN];	/* wire; ns[0] == 0: given, not learned */
} wait_addr_t;

/* The --wait servers, every address of each. */
typedef struct {
	wait_addr_t a[WAIT_MAX_SERVERS];
	size_t n, ngiven;		/* a[0..ngiven) were given explicitly */
	bool learn;			/* --wait ns: learn the zone's NS set */
	char port[8];			/* the port learned addresses are asked on */
	uint8_t zone[AZ_NAME_MAXLEN];	/* the zone learned (zone[0]: none yet) */
	dns_server_t res[DNS_MAX_SYSTEM];	/* resolvers to learn through */
	size_t nres;
} wait_servers_t;

/*!
 * Parse cli->wait[] (host names are resolved here) and the resolver
 * (cli->server, else /etc/resolv.conf).  'ns' or 'ns@PORT' asks for the
 * NS set of the zone, learned when a value is waited for.  Called before
 * any write transaction begins, so that a bad server leaves the store as
 * it was.  \return RC_OK (w->n 0 and !w->learn if no --wait), or
 * RC_INPUT, message printed.
 */
int wait_parse(const cli_t *cli, wait_servers_t *w);

/*!
 * Learn the NS set of zone through w's resolvers (with recursion): every
 * NS name, every A and AAAA of each, asked on w->port; they replace what
 * was learned before and follow the addresses given.  \return RC_OK, or
 * RC_DNS with why in why[0..size) (no NS, an NS name without an address,
 * no resolver answering, too many).
 */
int wait_learn(wait_servers_t *w, const uint8_t *zone, char *why, size_t size);

/*! "192.0.2.1@53 (ns1.example.net.)", or the address alone if given. */
void wait_addr_str(const wait_addr_t *a, char *out, size_t size);

/*!
 * Ask each server of w, without recursion, until it answers value at
 * owner, or until deadline (az_mono_ms() clock); the NS set is learned
 * first if asked for (of zone if owner is under it, else of the zone
 * whose SOA the resolver gives for owner; zone may be NULL).  -v reports
 * each.  \return RC_OK, or RC_DNS with one line printed for each server
 * that does not serve it (value, name and last answer).
 */
int wait_value(const cli_t *cli, wait_servers_t *w, int64_t deadline,
               const uint8_t *zone, const uint8_t *owner, const char *value);
