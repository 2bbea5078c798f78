/* dns.h -- a small DNS client for check and --wait: one question, UDP then TCP. */
/* SPDX-License-Identifier: MIT */

/*
 * dns.c has the servers and the transport (sockets, timeouts); dns_wire.c
 * the query and the reply parser, pure (no I/O: test_dns and fuzz_dns
 * link it alone).  The functions here print nothing; failures come back
 * in their results.
 *
 * The CLI carries its own wire code rather than libknot: libknot
 * pulls in 16 more shared libraries (gnutls, nettle, gmp, libbpf, ...),
 * and loading them made every start of the CLI, 'acmezone add' included,
 * 7 to 8 ms slower (2-core VM).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "store.h"

#define DNS_MAX_RRS		64	/* records kept from one reply */
#define DNS_TXT_MAX		2048	/* one TXT record, strings joined, + NUL:
					 * any dns-persist-01 record 'persist add'
					 * writes (issuer 253, account URL 1024) */
#define DNS_SERVER_TEXT		80
#define DNS_RCODE_BUFLEN	24
#define DNS_MAX_SYSTEM		3	/* nameservers read from resolv.conf */
#define DNS_RESOLV_CONF		"/etc/resolv.conf"
#define DNS_HEADER_SIZE		12
#define DNS_EDNS_PAYLOAD	1232	/* the UDP size we advertise (DNS flag day 2020) */

/* Answer types this client keeps (RFC 1035 numbers). */
enum {
	DNS_TYPE_A     = 1,
	DNS_TYPE_NS    = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA   = 6,
	DNS_TYPE_TXT   = 16,
	DNS_TYPE_AAAA  = 28,
};

enum {
	DNS_NOERROR  = 0,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
	DNS_BADVERS  = 16,	/* extended RCODE: needs the OPT record */
};

typedef struct {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[DNS_SERVER_TEXT];	/* "192.0.2.1@53", "2001:db8::1@53" */
} dns_server_t;

typedef struct {
	uint16_t type;
	bool authority;			/* from the authority section */
	uint8_t owner[AZ_NAME_MAXLEN];	/* wire, lower case */
	uint8_t target[AZ_NAME_MAXLEN];	/* CNAME, NS: the target, lower case */
	uint8_t addr[16];		/* A: 4 octets, AAAA: 16 */
	char txt[DNS_TXT_MAX];		/* TXT: the strings joined */
} dns_rr_t;

typedef struct {
	int rcode;			/* -1: no usable reply (see error) */
	bool aa, tcp;			/* authoritative; came over TCP */
	char error[160];		/* why there is no reply */
	size_t nrr;
	dns_rr_t rr[DNS_MAX_RRS];	/* A, NS, CNAME, SOA, TXT, AAAA only */
} dns_reply_t;

/*!
 * Servers of "ADDR[@PORT]" (an IPv4 or IPv6 address or a host name, port
 * 53 by default): every address it has, at most max.  \return 0, or -1
 * with *why set.
 */
int dns_server_parse(const char *spec, dns_server_t *out, size_t max, size_t *n,
                     const char **why);

/*! The nameservers of /etc/resolv.conf (127.0.0.1 if it names none). */
void dns_system_servers(dns_server_t *out, size_t max, size_t *n);

/*!
 * Ask srv one question (class IN, EDNS with a 1232-octet payload, RD if
 * rd), over UDP, and again over TCP if the reply is truncated.  Always
 * fills reply: rcode -1 and error set if no usable reply came within
 * timeout_ms.
 */
void dns_query(const dns_server_t *srv, const uint8_t *qname, uint16_t qtype,
               bool rd, int timeout_ms, dns_reply_t *reply);

/*!
 * Ask the resolvers srv[0..n) in turn, with recursion, until one replies
 * (any RCODE).  \return the one that replied last (or was asked last);
 * reply as dns_query's.
 */
const dns_server_t *dns_resolve(const dns_server_t *srv, size_t n, const uint8_t *qname,
                                uint16_t qtype, int timeout_ms, dns_reply_t *reply);

/*! srv for addr (4 octets for AF_INET, 16 for AF_INET6) and port. */
void dns_server_from(dns_server_t *srv, int family, const uint8_t *addr, uint16_t port);

/*! "NOERROR", "SERVFAIL", ..., or "RCODE 11". */
const char *dns_rcode_str(int rcode, char buf[DNS_RCODE_BUFLEN]);

/*! What a reply says, for a message: "SERVFAIL from 127.0.0.1@53" etc. */
void dns_reply_str(const dns_reply_t *r, const dns_server_t *srv, char *out,
                   size_t size);

/*!
 * Case-insensitive (ASCII) comparison of two uncompressed wire names of at
 * most AZ_NAME_MAXLEN octets; false if either is not a valid one.
 */
bool dns_name_eq(const uint8_t *a, const uint8_t *b);

/*!
 * The query dns_query sends: header (id, RD if rd, one question, one
 * additional record), the question (qname as given, qtype, class IN) and
 * an OPT record (payload DNS_EDNS_PAYLOAD, no flags, no options).
 * \return its length, or 0 if qname is not a valid uncompressed wire name
 * or the query does not fit in size octets.
 */
size_t dns_build_query(uint8_t *buf, size_t size, uint16_t id,
                       const uint8_t *qname, uint16_t qtype, bool rd);

/*!
 * Parse wire[0..len) as the reply to the query (id, qname, qtype, class
 * IN).  False, with r->nrr 0 and r->rcode, r->aa untouched, if it is not
 * one -- another id, QR clear, not exactly the question asked (names
 * compared without case) -- or if it is malformed anywhere: a record or
 * RDATA running past the end, a name that does not decompress (see
 * dns.c), an OPT record outside the additional section or twice, octets
 * after the last record.  The caller then keeps waiting.
 *
 * True: r->rcode is the extended RCODE (from the OPT record, if there is
 * one), r->aa the AA bit, and r->rr the A, NS, CNAME, SOA, TXT and AAAA
 * records of the answer and authority sections, at most DNS_MAX_RRS,
 * names lower case.  A record whose RDATA does not have its type's shape
 * (TXT strings that do not fill it exactly, a CNAME or NS target or the
 * SOA fields not ending where it ends, an address of another length) is
 * skipped; the rest of the message is still used.  The
 * RDATA of other types is not looked into, only stepped over.
 *
 * *tc (if tc is not NULL) is the TC bit.  A truncated reply is accepted
 * once its header and question match, but its records are not read
 * (r->nrr 0, r->rcode the header's): the server may have cut it anywhere,
 * and the caller asks again over TCP (RFC 2181, 9).
 */
bool dns_parse_reply(const uint8_t *wire, size_t len, uint16_t id,
                     const uint8_t *qname, uint16_t qtype, dns_reply_t *r,
                     bool *tc);
