/* fuzz_dns.c -- libFuzzer target: the CLI's DNS reply parser on arbitrary messages, and what it keeps. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdlib.h>
#include <string.h>

#include "dns.h"

/*
 * Input: one knob octet, then the message.  The parser gets the id of the
 * message itself (or one off, knob bit 1), so that most inputs get past
 * the id; the question asked is the message's own when it is a plain
 * uncompressed name (knob bit 0 clear), else a fixed one, of type TXT,
 * CNAME or SOA (knob bits 2-3) -- either way both the question checks
 * and the record walk are reached.
 */
#define FZ_QNAME	"\x0f" "_acme-challenge" "\x07" "example" "\x04" "test"

static const uint16_t fz_types[] = { DNS_TYPE_TXT, DNS_TYPE_CNAME, DNS_TYPE_SOA, 1 };

/* A valid uncompressed wire name in lower case. */
static bool fz_lower_name(const uint8_t *name)
{
	size_t len = az_name_wire_len(name, AZ_NAME_MAXLEN);

	if (len == 0) {
		return false;
	}
	for (size_t pos = 0; name[pos] != 0; pos += 1 + name[pos]) {
		for (size_t k = pos + 1; k <= pos + name[pos]; k++) {
			if (name[k] >= 'A' && name[k] <= 'Z') {
				return false;
			}
		}
	}
	return dns_name_eq(name, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static dns_reply_t r;
	const uint8_t *qname = (const uint8_t *)FZ_QNAME;
	uint16_t qtype, id = 0;
	bool tc = false;

	if (size < 1) {
		return 0;
	}
	uint8_t knob = data[0];
	const uint8_t *msg = data + 1;
	size_t len = size - 1;

	qtype = fz_types[(knob >> 2) & 3];
	if (len >= 2) {
		id = (uint16_t)(msg[0] << 8 | msg[1]) ^ ((knob >> 1) & 1);
	}
	if ((knob & 1) == 0 && len > DNS_HEADER_SIZE) {
		size_t nlen = az_name_wire_len(msg + DNS_HEADER_SIZE, len - DNS_HEADER_SIZE);
		if (nlen > 0 && len - DNS_HEADER_SIZE - nlen >= 2) {
			qname = msg + DNS_HEADER_SIZE;
			qtype = (uint16_t)(qname[nlen] << 8 | qname[nlen + 1]);
		}
	}

	/* Values the parser must overwrite on success and keep on failure. */
	memset(&r, 0xa5, sizeof(r));
	r.rcode = -1;
	if (!dns_parse_reply(msg, len, id, qname, qtype, &r, &tc)) {
		if (r.nrr != 0 || r.rcode != -1) {
			abort();
		}
		return 0;
	}
	if (r.nrr > DNS_MAX_RRS || r.rcode < 0 || r.rcode > 4095 || (tc && r.nrr != 0)) {
		abort();
	}
	char buf[DNS_RCODE_BUFLEN];
	const char *rc = dns_rcode_str(r.rcode, buf);
	if (rc == NULL || rc[0] == '\0') {
		abort();
	}
	for (size_t i = 0; i < r.nrr; i++) {
		const dns_rr_t *rr = &r.rr[i];
		if (!fz_lower_name(rr->owner)) {
			abort();
		}
		switch (rr->type) {
		case DNS_TYPE_CNAME:
			if (!fz_lower_name(rr->target)) {
				abort();
			}
			break;
		case DNS_TYPE_TXT:
			if (memchr(rr->txt, '\0', sizeof(rr->txt)) == NULL ||
			    rr->target[0] != 0) {
				abort();
			}
			break;
		case DNS_TYPE_SOA:
			if (rr->target[0] != 0 || rr->txt[0] != '\0') {
				abort();
			}
			break;
		default:
			abort();	/* only CNAME, TXT and SOA are kept */
		}
	}
	return 0;
}
