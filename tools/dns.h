/* dns.h -- a small DNS client for check and --wait: one question, UDP then TCP. */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "store.h"

#define DNS_MAX_RRS		64	/* records kept from one reply */
#define DNS_TXT_MAX		256	/* one TXT record, strings joined, + NUL */
#define DNS_SERVER_TEXT		80
#define DNS_RCODE_BUFLEN	24
#define DNS_MAX_SYSTEM		3	/* nameservers read from resolv.conf */
#define DNS_RESOLV_CONF		"/etc/resolv.conf"

/* Answer types this client keeps (RFC 1035 numbers). */
enum {
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA   = 6,
	DNS_TYPE_TXT   = 16,
};

enum {
	DNS_NOERROR  = 0,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
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
	uint8_t target[AZ_NAME_MAXLEN];	/* CNAME: the target, lower case */
	char txt[DNS_TXT_MAX];		/* TXT: the strings joined */
} dns_rr_t;

typedef struct {
	int rcode;			/* -1: no usable reply (see error) */
	bool aa, tcp;			/* authoritative; came over TCP */
	char error[160];		/* why there is no reply */
	size_t nrr;
	dns_rr_t rr[DNS_MAX_RRS];	/* CNAME, TXT and SOA records only */
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

/*! "NOERROR", "SERVFAIL", ..., or "RCODE 11". */
const char *dns_rcode_str(int rcode, char buf[DNS_RCODE_BUFLEN]);

/*! What a reply says, for a message: "SERVFAIL from 127.0.0.1@53" etc. */
void dns_reply_str(const dns_reply_t *r, const dns_server_t *srv, char *out,
                   size_t size);

/*! Case-insensitive comparison of two wire names. */
bool dns_name_eq(const uint8_t *a, const uint8_t *b);
