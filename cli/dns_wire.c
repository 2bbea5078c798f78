/* dns_wire.c -- DNS messages for the CLI's client: the query it sends, the replies it accepts (pure: no I/O). */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "dns.h"


/* The header's second 16-bit word (RFC 1035, 4.1.1). */
#define DNS_FLAG_QR		0x8000
#define DNS_FLAG_AA		0x0400
#define DNS_FLAG_TC		0x0200
#define DNS_FLAG_RD		0x0100
#define DNS_RCODE_MASK		0x000f

#define DNS_CLASS_IN		1
#define DNS_TYPE_OPT		41
#define DNS_QUESTION_TAIL	4	/* QTYPE, QCLASS */
#define DNS_RR_TAIL		10	/* TYPE, CLASS, TTL, RDLENGTH */
#define DNS_OPT_SIZE		(1 + DNS_RR_TAIL)	/* root owner, no options */
#define DNS_SOA_TAIL		20	/* SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM */
#define DNS_LABEL_MAX		63
#define DNS_PTR_MASK		0xc0	/* the top two bits of a length octet */
/*
 * Pointers one name may follow.  A name has at most 127 labels and a sane
 * encoder uses one pointer per name.  read_name's rule (all that is read
 * after a pointer lies below it) already ends every chain; this bound
 * also keeps a legal one short.
 */
#define DNS_MAX_JUMPS		127

/* The sections after the question, in wire order. */
enum {
	SEC_ANSWER,
	SEC_AUTHORITY,
	SEC_ADDITIONAL,
	SEC_COUNT,
};

/*
 * RCODE mnemonics (RFC 1035, 2136, 6891, 2845, 2930, 4635, 7873) spelled
 * as kdig and the libknot-based client before this one printed them
 * ("NOTIMPL"; 16 is BADVERS, and BADSIG only in a TSIG record), so that
 * messages and the scripts matching them do not change.
 */
static const char *const rcode_names[] = {
	[0]  = "NOERROR",
	[1]  = "FORMERR",
	[2]  = "SERVFAIL",
	[3]  = "NXDOMAIN",
	[4]  = "NOTIMPL",
	[5]  = "REFUSED",
	[6]  = "YXDOMAIN",
	[7]  = "YXRRSET",
	[8]  = "NXRRSET",
	[9]  = "NOTAUTH",
	[10] = "NOTZONE",
	[16] = "BADVERS",
	[17] = "BADKEY",
	[18] = "BADTIME",
	[19] = "BADMODE",
	[20] = "BADNAME",
	[21] = "BADALG",
	[22] = "BADTRUNC",
	[23] = "BADCOOKIE",
};

const char *dns_rcode_str(int rcode, char buf[DNS_RCODE_BUFLEN])
{
	size_t n = sizeof(rcode_names) / sizeof(rcode_names[0]);

	if (rcode >= 0 && (size_t)rcode < n && rcode_names[rcode] != NULL) {
		return rcode_names[rcode];
	}
	snprintf(buf, DNS_RCODE_BUFLEN, "RCODE %d", rcode);
	return buf;
}

/* ASCII only: DNS names compare without case in ASCII alone (RFC 4343). */
static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* Equal lengths, and one under the other: the same name (store/name.c). */
bool dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	size_t len = az_name_wire_len(a, AZ_NAME_MAXLEN);

	return len != 0 && len == az_name_wire_len(b, AZ_NAME_MAXLEN) &&
	       az_name_under(a, b);
}

/* Big-endian 16 bits at p; returns the position after them. */
static uint8_t *put16(uint8_t *p, uint16_t v)
{
	az_put_be16(p, v);
	return p + 2;
}

size_t dns_build_query(uint8_t *buf, size_t size, uint16_t id,
                       const uint8_t *qname, uint16_t qtype, bool rd)
{
	size_t nlen = az_name_wire_len(qname, AZ_NAME_MAXLEN);
	size_t len = DNS_HEADER_SIZE + nlen + DNS_QUESTION_TAIL + DNS_OPT_SIZE;
	uint8_t *p = buf;

	if (nlen == 0 || len > size) {
		return 0;
	}
	p = put16(p, id);
	p = put16(p, rd ? DNS_FLAG_RD : 0);
	p = put16(p, 1);		/* QDCOUNT */
	p = put16(p, 0);		/* ANCOUNT */
	p = put16(p, 0);		/* NSCOUNT */
	p = put16(p, 1);		/* ARCOUNT: the OPT record */
	memcpy(p, qname, nlen);
	p += nlen;
	p = put16(p, qtype);
	p = put16(p, DNS_CLASS_IN);
	/* OPT (RFC 6891): CLASS is the payload, TTL 0 (version 0, no DO). */
	*p++ = 0;
	p = put16(p, DNS_TYPE_OPT);
	p = put16(p, DNS_EDNS_PAYLOAD);
	p = put16(p, 0);
	p = put16(p, 0);
	p = put16(p, 0);		/* RDLENGTH */
	return (size_t)(p - buf);
}

/*
 * Read the possibly compressed name at msg[*pos] into out: wire form,
 * lower case.  The octets at *pos up to the first pointer must lie below
 * end (the end of the message, or of the RDATA that holds the name);
 * *pos is moved past them and that pointer.
 *
 * Pointers are where a hostile message would loop or wander, so each one
 * must point past the header and strictly below itself, and everything
 * read after it must lie below it too: the bound on what may be read
 * falls with every jump, and no chain can come back.  A real encoder only
 * ever points back to a name it wrote earlier, so it always passes.
 * Length octets 01xxxxxx (extended label types, RFC 6891, 5: none is in
 * use) and 10xxxxxx (reserved) are refused, as are names over 255 octets.
 *
 * \return the length of the name, or 0 if it is malformed.
 */
static size_t read_name(const uint8_t *msg, size_t end, size_t *pos,
                        uint8_t out[AZ_NAME_MAXLEN])
{
	size_t p = *pos, limit = end, olen = 0, next = 0;
	unsigned jumps = 0;

	for (;;) {
		if (p >= limit) {
			return 0;
		}
		uint8_t l = msg[p];
		if ((l & DNS_PTR_MASK) == DNS_PTR_MASK) {
			if (p + 2 > limit) {
				return 0;
			}
			size_t to = (size_t)(l & 0x3f) << 8 | msg[p + 1];
			if (to < DNS_HEADER_SIZE || to >= p || ++jumps > DNS_MAX_JUMPS) {
				return 0;
			}
			if (next == 0) {
				next = p + 2;
			}
			limit = p;
			p = to;
			continue;
		}
		if ((l & DNS_PTR_MASK) != 0 || p + 1 + (size_t)l > limit ||
		    olen + 1 + (size_t)l > AZ_NAME_MAXLEN) {
			return 0;
		}
		out[olen++] = l;
		if (l == 0) {
			break;
		}
		for (size_t k = p + 1; k <= p + l; k++) {
			out[olen++] = lower(msg[k]);
		}
		p += 1 + (size_t)l;
	}
	*pos = next != 0 ? next : p + 1;
	return olen;
}

/* The fixed part of a resource record, and where its RDATA is. */
typedef struct {
	uint8_t owner[AZ_NAME_MAXLEN];	/* lower case */
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	size_t rdata, rdend;		/* msg[rdata..rdend) */
} dns_rrhead_t;

/* Read one record's owner and fixed fields and step over its RDATA. */
static bool read_rr(const uint8_t *msg, size_t len, size_t *pos, dns_rrhead_t *rr)
{
	size_t p = *pos;

	rr->owner_len = read_name(msg, len, &p, rr->owner);
	if (rr->owner_len == 0 || len - p < DNS_RR_TAIL) {
		return false;
	}
	rr->type = az_get_be16(msg + p);
	rr->ttl = az_get_be32(msg + p + 4);
	rr->rdata = p + DNS_RR_TAIL;
	if (len - rr->rdata < az_get_be16(msg + p + 8)) {
		return false;
	}
	rr->rdend = rr->rdata + az_get_be16(msg + p + 8);
	*pos = rr->rdend;
	return true;
}

/*
 * TXT RDATA: one or more character-strings, each <length><octets>, that
 * must fill it exactly.  They are joined into out (cut at DNS_TXT_MAX - 1
 * octets, as tokens are far shorter).  \return false if it is malformed.
 */
static bool read_txt(const uint8_t *msg, const dns_rrhead_t *rr,
                     char out[DNS_TXT_MAX])
{
	size_t o = 0, p = rr->rdata;

	if (p == rr->rdend) {
		return false;	/* RFC 1035, 3.3.14: at least one string */
	}
	while (p < rr->rdend) {
		size_t sl = msg[p++];
		if (sl > rr->rdend - p) {
			return false;
		}
		for (size_t k = 0; k < sl && o + 1 < DNS_TXT_MAX; k++) {
			out[o++] = (char)msg[p + k];
		}
		p += sl;
	}
	out[o] = '\0';
	return true;
}

/*
 * Keep an answer or authority record in out if it is one we use.
 * \return -1 if the message is malformed (a name in the RDATA does not
 * decompress), 0 if the record is skipped, 1 if out holds it.
 */
static int keep_rr(const uint8_t *msg, const dns_rrhead_t *rr, bool authority,
                   dns_rr_t *out)
{
	uint8_t scratch[AZ_NAME_MAXLEN];
	size_t p = rr->rdata;

	memset(out, 0, sizeof(*out));
	out->type = rr->type;
	out->authority = authority;
	memcpy(out->owner, rr->owner, rr->owner_len);
	switch (rr->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		size_t want = rr->type == DNS_TYPE_A ? 4 : 16;
		if (rr->rdend - rr->rdata != want) {
			return 0;
		}
		memcpy(out->addr, msg + rr->rdata, want);
		return 1;
	}
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
		if (read_name(msg, rr->rdend, &p, out->target) == 0) {
			return -1;
		}
		return p == rr->rdend ? 1 : 0;
	case DNS_TYPE_SOA:
		/* Only the owner is used, but the RDATA must still parse. */
		if (read_name(msg, rr->rdend, &p, scratch) == 0 ||
		    read_name(msg, rr->rdend, &p, scratch) == 0) {
			return -1;
		}
		return rr->rdend - p == DNS_SOA_TAIL ? 1 : 0;
	case DNS_TYPE_TXT:
		return read_txt(msg, rr, out->txt) ? 1 : 0;
	default:
		return 0;
	}
}

bool dns_parse_reply(const uint8_t *wire, size_t len, uint16_t id,
                     const uint8_t *qname, uint16_t qtype, dns_reply_t *r,
                     bool *tc)
{
	uint8_t name[AZ_NAME_MAXLEN];
	dns_rrhead_t rr;
	dns_rr_t spare;
	size_t pos = DNS_HEADER_SIZE, nrr = 0;
	uint16_t flags, count[SEC_COUNT];
	int rcode;
	bool opt = false;

	r->nrr = 0;
	if (len < DNS_HEADER_SIZE || az_get_be16(wire) != id) {
		return false;
	}
	flags = az_get_be16(wire + 2);
	if ((flags & DNS_FLAG_QR) == 0 || az_get_be16(wire + 4) != 1) {
		return false;
	}
	if (read_name(wire, len, &pos, name) == 0 || len - pos < DNS_QUESTION_TAIL ||
	    az_get_be16(wire + pos) != qtype || az_get_be16(wire + pos + 2) != DNS_CLASS_IN ||
	    !dns_name_eq(name, qname)) {
		return false;
	}
	pos += DNS_QUESTION_TAIL;
	rcode = flags & DNS_RCODE_MASK;
	if ((flags & DNS_FLAG_TC) != 0) {
		/* Cut anywhere by the server: only worth asking again over TCP. */
		goto done;
	}

	for (int s = 0; s < SEC_COUNT; s++) {
		count[s] = az_get_be16(wire + 6 + 2 * s);	/* ANCOUNT, NSCOUNT, ARCOUNT */
	}
	for (int s = 0; s < SEC_COUNT; s++) {
		for (uint16_t i = 0; i < count[s]; i++) {
			if (!read_rr(wire, len, &pos, &rr)) {
				return false;
			}
			if (rr.type == DNS_TYPE_OPT) {
				/* RFC 6891, 6.1.1: one at most, in the additional section. */
				if (s != SEC_ADDITIONAL || opt) {
					return false;
				}
				opt = true;
				rcode |= (int)(rr.ttl >> 24) << 4;
				continue;
			}
			if (s == SEC_ADDITIONAL) {
				continue;
			}
			/* Past DNS_MAX_RRS, records are still checked, not kept. */
			dns_rr_t *out = nrr < DNS_MAX_RRS ? &r->rr[nrr] : &spare;
			int ret = keep_rr(wire, &rr, s == SEC_AUTHORITY, out);
			if (ret < 0) {
				return false;
			}
			if (ret > 0 && nrr < DNS_MAX_RRS) {
				nrr++;
			}
		}
	}
	if (pos != len) {
		return false;	/* octets after the last record */
	}
done:
	r->rcode = rcode;
	r->aa = (flags & DNS_FLAG_AA) != 0;
	r->nrr = nrr;
	if (tc != NULL) {
		*tc = (flags & DNS_FLAG_TC) != 0;
	}
	return true;
}
