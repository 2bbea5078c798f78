/* test_dns.c -- unit tests of the CLI's DNS wire code: the query it sends, the replies it accepts and refuses. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "tap.h"

/*
 * Every reply below answers the query dns_build_query writes for
 * foo.test (id 0xbeef), written out octet by octet.  The question takes
 * offsets 12..25: the name at 12 ("test" at 16), then QTYPE and QCLASS;
 * the first record starts at 26.
 */
#define ID		0xbeef
#define HDR(f1, f2, an, ns, ar) \
	0xbe, 0xef, (f1), (f2), 0, 1, 0, (an), 0, (ns), 0, (ar)
#define QR_AA		0x84	/* first flag octet: QR, AA */
#define QR_AA_TC	0x86
#define QNAME		3, 'f', 'o', 'o', 4, 't', 'e', 's', 't', 0
#define QUESTION(t)	QNAME, 0, (t), 0, 1
#define PTR(off)	(0xc0 | ((off) >> 8)), ((off) & 0xff)
#define AT_QNAME	PTR(12)
#define AT_TEST		PTR(16)
#define TYPE_IN(t)	0, (t), 0, 1
#define TTL60		0, 0, 0, 60
#define FIRST_RR	26
#define TXT		16
#define CNAME		5
#define SOA		6
#define OPT		41
#define A		1
#define NS		2
#define AAAA		28

/* Labels of 61..63 'a's, for names near 255 octets. */
#define A4		'a', 'a', 'a', 'a'
#define A8		A4, A4
#define A56		A8, A8, A8, A8, A8, A8, A8
#define A61		A56, A4, 'a'
#define A62		A56, A4, 'a', 'a'
#define A63		A56, A4, 'a', 'a', 'a'

static const uint8_t Q_NAME[] = { QNAME };
static const uint8_t FOO_TEST[] = "\x03" "foo" "\x04" "test";
static const uint8_t TEST[] = "\x04" "test";
static const uint8_t WWW_FOO_TEST[] = "\x03" "www" "\x03" "foo" "\x04" "test";

static dns_reply_t reply;
static bool tc;

/*
 * Parse m as the reply to a question for foo.test of type qtype.  The
 * reply starts with values the parser must overwrite on success and keep
 * on failure, so that either way the checks below can tell.
 */
static bool parse(const uint8_t *m, size_t len, uint16_t qtype)
{
	memset(&reply, 0, sizeof(reply));
	reply.rcode = -1;
	reply.nrr = 5;
	tc = true;
	return dns_parse_reply(m, len, ID, Q_NAME, qtype, &reply, &tc);
}

/* A message that must be refused: false, no records, rcode untouched. */
static void refused(const uint8_t *m, size_t len, uint16_t qtype, const char *what)
{
	bool ok = parse(m, len, qtype);

	tap_ok(!ok && reply.nrr == 0 && reply.rcode == -1, "refused: %s", what);
}

/* A message that must be accepted, with n records kept. */
static bool accepted(const uint8_t *m, size_t len, uint16_t qtype, size_t n,
                     const char *what)
{
	bool ok = parse(m, len, qtype);

	if (!tap_ok(ok && reply.nrr == n, "accepted with %zu record(s): %s", n, what)) {
		tap_diag("  parsed %s, %zu records", ok ? "yes" : "no", reply.nrr);
		return false;
	}
	return true;
}

static void test_query(void)
{
	static const uint8_t want[] = {
		0xbe, 0xef, 0x01, 0x00,		/* id, RD */
		0, 1, 0, 0, 0, 0, 0, 1,		/* QD 1, AN 0, NS 0, AR 1 */
		QUESTION(TXT),
		0, 0, 41, 0x04, 0xd0,		/* OPT: root, type 41, payload 1232 */
		0, 0, 0, 0, 0, 0,		/* TTL 0, RDLENGTH 0 */
	};
	uint8_t q[512], name[AZ_NAME_MAXLEN];
	size_t len, diff = 0;

	len = dns_build_query(q, sizeof(q), ID, Q_NAME, TXT, true);
	tap_is(len, sizeof(want), "query: length");
	for (diff = 0; diff < len && diff < sizeof(want) && q[diff] == want[diff]; diff++) {
	}
	if (!tap_ok(diff == sizeof(want), "query: every octet as written by hand")) {
		tap_diag("  first difference at octet %zu", diff);
	}
	len = dns_build_query(q, sizeof(q), ID, Q_NAME, CNAME, false);
	tap_ok(len == sizeof(want) && q[2] == 0 && q[3] == 0 && q[23] == CNAME,
	       "query: RD clear when not asked, the type asked");
	tap_is(dns_build_query(q, sizeof(want) - 1, ID, Q_NAME, TXT, true), 0,
	       "query: refused when it does not fit");
	tap_is(dns_build_query(q, sizeof(want), ID, Q_NAME, TXT, true), sizeof(want),
	       "query: fits exactly");
	memcpy(name, "\x40" "aaaa", 6);
	tap_is(dns_build_query(q, sizeof(q), ID, name, TXT, true), 0,
	       "query: refused for a name that is not valid wire form");
}

/* What --wait and check learn a zone's nameservers from: NS, A, AAAA. */
static void test_addresses(void)
{
	/* Two NS of foo.test (one compressed into the other), then glue. */
	static const uint8_t ns[] = {
		HDR(0x80, 0, 2, 0, 0), QUESTION(NS),
		AT_QNAME, TYPE_IN(NS), TTL60, 0, 6, 3, 'N', 's', '1', AT_QNAME,
		AT_QNAME, TYPE_IN(NS), TTL60, 0, 6, 3, 'n', 's', '2', AT_QNAME,
	};
	static const uint8_t a[] = {
		HDR(QR_AA, 0, 2, 0, 0), QUESTION(A),
		AT_QNAME, TYPE_IN(A), TTL60, 0, 4, 192, 0, 2, 1,
		AT_QNAME, TYPE_IN(A), TTL60, 0, 4, 192, 0, 2, 2,
	};
	static const uint8_t aaaa[] = {
		HDR(QR_AA, 0, 1, 0, 0), QUESTION(AAAA),
		AT_QNAME, TYPE_IN(AAAA), TTL60, 0, 16,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x35,
	};
	/* An A record of 5 octets: skipped; the good one after it kept. */
	static const uint8_t a_long[] = {
		HDR(QR_AA, 0, 2, 0, 0), QUESTION(A),
		AT_QNAME, TYPE_IN(A), TTL60, 0, 5, 192, 0, 2, 1, 9,
		AT_QNAME, TYPE_IN(A), TTL60, 0, 4, 192, 0, 2, 3,
	};
	static const uint8_t ns1_foo[] = "\x03" "ns1" "\x03" "foo" "\x04" "test";

	if (accepted(ns, sizeof(ns), NS, 2, "two NS records")) {
		tap_ok(reply.rr[0].type == DNS_TYPE_NS &&
		       memcmp(reply.rr[0].target, ns1_foo, sizeof(ns1_foo)) == 0,
		       "ns: the target decompressed and lower-cased");
		tap_ok(reply.rr[1].target[1] == 'n' && reply.rr[1].target[3] == '2',
		       "ns: the second target");
	}
	if (accepted(a, sizeof(a), A, 2, "two A records")) {
		tap_ok(reply.rr[0].type == DNS_TYPE_A && reply.rr[0].addr[0] == 192 &&
		       reply.rr[0].addr[3] == 1 && reply.rr[1].addr[3] == 2,
		       "a: both addresses, in order");
	}
	if (accepted(aaaa, sizeof(aaaa), AAAA, 1, "an AAAA record")) {
		tap_ok(reply.rr[0].type == DNS_TYPE_AAAA && reply.rr[0].addr[0] == 0x20 &&
		       reply.rr[0].addr[15] == 0x35, "aaaa: its 16 octets");
	}
	if (accepted(a_long, sizeof(a_long), A, 1, "an A record of 5 octets is skipped")) {
		tap_ok(reply.rr[0].addr[3] == 3, "a: the well-formed one kept");
	}
}

static void test_answers(void)
{
	static const uint8_t plain[] = {
		HDR(QR_AA, 0, 1, 0, 0), QUESTION(TXT),
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 12,
		11, 'h', 'e', 'l', 'l', 'o', '-', 'w', 'o', 'r', 'l', 'd',
	};
	static const uint8_t strings[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 10,
		3, 'a', 'b', 'c', 0, 4, 'd', 'e', 'f', 'g',
	};
	/* Owner FoO + pointer to "test"; target WwW + pointer to the owner. */
	static const uint8_t cname[] = {
		HDR(QR_AA, 0, 1, 0, 0), QUESTION(CNAME),
		3, 'F', 'o', 'O', AT_TEST, TYPE_IN(CNAME), TTL60, 0, 6,
		3, 'W', 'w', 'W', PTR(FIRST_RR),
	};
	static const uint8_t soa[] = {
		HDR(QR_AA, 3, 0, 1, 0), QUESTION(TXT),
		AT_TEST, TYPE_IN(SOA), TTL60, 0, 33,
		2, 'n', 's', AT_TEST,
		5, 'a', 'd', 'm', 'i', 'n', AT_TEST,
		0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x07, 0x08,
		0, 0x09, 0x3a, 0x80, 0, 0, 0, 60,
	};
	static const uint8_t badvers[] = {
		HDR(0x80, 0, 0, 0, 1), QUESTION(TXT),
		0, 0, OPT, 0x04, 0xd0, 1, 0, 0, 0, 0, 0,
	};
	static const uint8_t ext_max[] = {
		HDR(0x80, 0x0f, 0, 0, 1), QUESTION(TXT),
		0, 0, OPT, 0x04, 0xd0, 0xff, 0, 0, 0, 0, 0,
	};
	/*
	 * A record of a type not kept (99), TXT in the authority section, TXT
	 * in the additional section (never kept).
	 */
	static const uint8_t mixed[] = {
		HDR(0x80, 0, 1, 1, 1), QUESTION(TXT),
		AT_QNAME, TYPE_IN(99), TTL60, 0, 4, 192, 0, 2, 1,
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 2, 1, 'x',
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 2, 1, 'y',
	};
	char buf[DNS_RCODE_BUFLEN];

	if (accepted(plain, sizeof(plain), TXT, 1, "one TXT record")) {
		tap_ok(reply.rcode == DNS_NOERROR && reply.aa && !tc,
		       "plain: NOERROR, AA set, TC clear");
		tap_ok(reply.rr[0].type == DNS_TYPE_TXT && !reply.rr[0].authority,
		       "plain: a TXT record from the answer section");
		tap_ok(memcmp(reply.rr[0].owner, FOO_TEST, sizeof(FOO_TEST)) == 0,
		       "plain: owner from the compressed pointer");
		tap_str(reply.rr[0].txt, "hello-world", "plain: its string");
	}
	if (accepted(strings, sizeof(strings), TXT, 1, "TXT of three strings")) {
		tap_str(reply.rr[0].txt, "abcdefg", "strings: joined, the empty one too");
		tap_ok(!reply.aa, "strings: AA clear");
	}
	if (accepted(cname, sizeof(cname), CNAME, 1, "CNAME with a compressed target")) {
		tap_ok(reply.rr[0].type == DNS_TYPE_CNAME &&
		       memcmp(reply.rr[0].owner, FOO_TEST, sizeof(FOO_TEST)) == 0,
		       "cname: owner decompressed and lower-cased");
		tap_ok(memcmp(reply.rr[0].target, WWW_FOO_TEST, sizeof(WWW_FOO_TEST)) == 0,
		       "cname: target through two pointers, lower-cased");
		tap_ok(dns_name_eq(reply.rr[0].owner, Q_NAME), "cname: owner is the question");
	}
	if (accepted(soa, sizeof(soa), TXT, 1, "NXDOMAIN with SOA in authority")) {
		tap_is(reply.rcode, DNS_NXDOMAIN, "soa: NXDOMAIN");
		tap_ok(reply.rr[0].type == DNS_TYPE_SOA && reply.rr[0].authority &&
		       memcmp(reply.rr[0].owner, TEST, sizeof(TEST)) == 0,
		       "soa: an SOA record at test. from the authority section");
	}
	if (accepted(badvers, sizeof(badvers), TXT, 0, "extended RCODE in OPT")) {
		tap_is(reply.rcode, DNS_BADVERS, "opt: upper RCODE bits from the OPT TTL");
		tap_str(dns_rcode_str(reply.rcode, buf), "BADVERS", "opt: named BADVERS");
	}
	if (accepted(ext_max, sizeof(ext_max), TXT, 0, "largest extended RCODE")) {
		tap_is(reply.rcode, 4095, "opt: 8 bits from OPT above the header's 4");
	}
	if (accepted(mixed, sizeof(mixed), TXT, 1, "type 99, TXT in authority, TXT in additional")) {
		tap_ok(reply.rr[0].type == DNS_TYPE_TXT && reply.rr[0].authority &&
		       strcmp(reply.rr[0].txt, "x") == 0,
		       "mixed: type 99 and additional skipped, the TXT kept as authority");
	}
}

static void test_pointers(void)
{
	static const uint8_t self[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		PTR(FIRST_RR), TYPE_IN(TXT), TTL60, 0, 1, 0,
	};
	/* Backwards from the pointer, but to its own first label. */
	static const uint8_t loop[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		1, 'x', PTR(FIRST_RR), TYPE_IN(TXT), TTL60, 0, 1, 0,
	};
	/* Forward to a valid name: "foo." as the TXT RDATA at offset 38. */
	static const uint8_t forward[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		PTR(38), TYPE_IN(TXT), TTL60, 0, 5, 3, 'f', 'o', 'o', 0,
	};
	static const uint8_t past_end[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		PTR(0x3fff), TYPE_IN(TXT), TTL60, 0, 1, 0,
	};
	static const uint8_t header[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		PTR(4), TYPE_IN(TXT), TTL60, 0, 1, 0,
	};
	/*
	 * The pointer at 40 goes back to "\x03a" at 38, whose label then
	 * covers the pointer itself: "a\xc0\x26." would be a valid name if
	 * what follows a jump were not held below the pointer.
	 */
	static const uint8_t over[] = {
		HDR(0x80, 0, 2, 0, 0), QUESTION(TXT),
		AT_QNAME, TYPE_IN(99), TTL60, 0, 2, 3, 'a',
		PTR(38), TYPE_IN(TXT), TTL60, 0, 1, 0,
	};
	static const uint8_t cut[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT), 0xc0,
	};
	/* A CNAME target whose pointer is bad: the message, not the RR, goes. */
	static const uint8_t bad_target[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(CNAME),
		AT_QNAME, TYPE_IN(CNAME), TTL60, 0, 2, PTR(0x3fff),
	};
	/* A name in RDATA may not run past RDLENGTH into the next octets. */
	static const uint8_t target_out[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(CNAME),
		AT_QNAME, TYPE_IN(CNAME), TTL60, 0, 2, 1, 'w', AT_QNAME,
	};

	refused(self, sizeof(self), TXT, "a pointer to itself");
	refused(loop, sizeof(loop), TXT, "a pointer back to its own name's first label");
	refused(forward, sizeof(forward), TXT, "a pointer forward, even to a valid name");
	refused(past_end, sizeof(past_end), TXT, "a pointer past the end");
	refused(over, sizeof(over), TXT, "a jump whose labels run over the pointer");
	refused(header, sizeof(header), TXT, "a pointer into the header");
	refused(cut, sizeof(cut), TXT, "a pointer cut off by the end");
	refused(bad_target, sizeof(bad_target), CNAME, "a CNAME target that does not decompress");
	refused(target_out, sizeof(target_out), CNAME, "a CNAME target running past its RDATA");
}

/*
 * A chain of n pointers, each to the one before, the first to the
 * question, in the RDATA of a type-99 record; then a CNAME whose target
 * points to the last: n + 1 jumps to reach foo.test.
 */
static size_t jump_chain(uint8_t *m, size_t n)
{
	static const uint8_t head[] = {
		HDR(0x80, 0, 2, 0, 0), QUESTION(CNAME),
		AT_QNAME, TYPE_IN(99), TTL60,
	};
	size_t len = sizeof(head), at = FIRST_RR + 12;

	memcpy(m, head, len);
	m[len++] = (uint8_t)(2 * n >> 8);
	m[len++] = (uint8_t)(2 * n);
	m[len++] = 0xc0;
	m[len++] = 12;
	for (size_t k = 1; k < n; k++) {
		m[len++] = (uint8_t)(0xc0 | (at + 2 * (k - 1)) >> 8);
		m[len++] = (uint8_t)(at + 2 * (k - 1));
	}
	const uint8_t tail[] = {
		AT_QNAME, TYPE_IN(CNAME), TTL60, 0, 2,
		(uint8_t)(0xc0 | (at + 2 * (n - 1)) >> 8), (uint8_t)(at + 2 * (n - 1)),
	};
	memcpy(m + len, tail, sizeof(tail));
	return len + sizeof(tail);
}

static void test_names(void)
{
	/* Targets of 255 and 256 octets, uncompressed. */
	static const uint8_t n255[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(CNAME),
		AT_QNAME, TYPE_IN(CNAME), TTL60, 0, 255,
		63, A63, 63, A63, 63, A63, 61, A61, 0,
	};
	static const uint8_t n256[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(CNAME),
		AT_QNAME, TYPE_IN(CNAME), TTL60, 1, 0,
		63, A63, 63, A63, 63, A63, 62, A62, 0,
	};
	/* 255 octets at offset 38, then "b" + a pointer to them: 257. */
	static const uint8_t n257[] = {
		HDR(0x80, 0, 2, 0, 0), QUESTION(CNAME),
		AT_QNAME, TYPE_IN(CNAME), TTL60, 0, 255,
		63, A63, 63, A63, 63, A63, 61, A61, 0,
		1, 'b', PTR(38), TYPE_IN(CNAME), TTL60, 0, 2, AT_QNAME,
	};
	/* As a 64-octet label, this would be a valid TXT record. */
	static const uint8_t type40[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		0x40, A63, 'a', 0, TYPE_IN(TXT), TTL60, 0, 1, 0,
	};
	/* As a 128-octet label, this would be a valid TXT record. */
	static const uint8_t type80[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		0x80, A63, A63, 'a', 'a', 0, TYPE_IN(TXT), TTL60, 0, 1, 0,
	};
	static uint8_t chain[1024];
	uint8_t a[AZ_NAME_MAXLEN], b[AZ_NAME_MAXLEN];
	size_t len;

	if (accepted(n255, sizeof(n255), CNAME, 1, "a target of 255 octets")) {
		tap_is(az_name_wire_len(reply.rr[0].target, AZ_NAME_MAXLEN), 255,
		       "255: the whole target kept");
	}
	refused(n256, sizeof(n256), CNAME, "a target of 256 octets");
	refused(n257, sizeof(n257), CNAME, "an owner of 257 octets through a pointer");
	refused(type40, sizeof(type40), TXT, "label type 01 (0x40)");
	refused(type80, sizeof(type80), TXT, "label type 10 (0x80)");

	len = jump_chain(chain, 126);
	if (accepted(chain, len, CNAME, 1, "127 pointer jumps in one name")) {
		tap_ok(memcmp(reply.rr[0].target, FOO_TEST, sizeof(FOO_TEST)) == 0,
		       "jumps: the target at the end of the chain");
	}
	len = jump_chain(chain, 127);
	refused(chain, len, CNAME, "128 pointer jumps in one name");

	memcpy(a, "\x03" "Foo" "\x04" "TEST", 10);
	memcpy(b, "\x03" "fOO" "\x04" "test", 10);
	tap_ok(dns_name_eq(a, b), "name_eq: case ignored");
	memcpy(b, "\x03" "fOO" "\x05" "tests", 11);
	tap_ok(!dns_name_eq(a, b), "name_eq: another name");
	memcpy(a, "\x02" "ab" "\x01" "c", 6);
	memcpy(b, "\x01" "a" "\x02" "bc", 6);
	tap_ok(!dns_name_eq(a, b), "name_eq: same octets, other labels");
	/* Alike octet for octet, but the first label would be 65 long. */
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	a[0] = b[0] = 0x41;
	tap_ok(!dns_name_eq(a, b), "name_eq: not a wire name");
}

static void test_malformed(void)
{
	static const uint8_t plain[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 3, 2, 'o', 'k',
	};
	/* A string longer than its RDATA, an empty RDATA, then a good one. */
	static const uint8_t bad_txt[] = {
		HDR(0x80, 0, 3, 0, 0), QUESTION(TXT),
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 3, 5, 'a', 'b',
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 0,
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 3, 2, 'o', 'k',
	};
	/* CNAME RDATA longer than its name; SOA one octet short. */
	static const uint8_t bad_shape[] = {
		HDR(0x80, 0, 1, 1, 0), QUESTION(CNAME),
		AT_QNAME, TYPE_IN(CNAME), TTL60, 0, 3, AT_QNAME, 0,
		AT_TEST, TYPE_IN(SOA), TTL60, 0, 23, AT_TEST, AT_TEST,
		0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
	};
	static const uint8_t opt_answer[] = {
		HDR(0x80, 0, 1, 0, 0), QUESTION(TXT),
		0, 0, OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t two_opt[] = {
		HDR(0x80, 0, 0, 0, 2), QUESTION(TXT),
		0, 0, OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0,
		0, 0, OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0,
	};
	uint8_t m[sizeof(plain) + 1];

	accepted(plain, sizeof(plain), TXT, 1, "the message the cases below break");
	refused(plain, DNS_HEADER_SIZE - 1, TXT, "shorter than a header");
	refused(plain, FIRST_RR - 1, TXT, "question cut short");
	refused(plain, FIRST_RR + 5, TXT, "record cut in its fixed fields");
	refused(plain, sizeof(plain) - 1, TXT, "RDLENGTH past the end");
	memcpy(m, plain, sizeof(plain));
	m[sizeof(plain)] = 0;
	refused(m, sizeof(plain) + 1, TXT, "an octet after the last record");

	memcpy(m, plain, sizeof(plain));
	m[1] ^= 1;
	refused(m, sizeof(plain), TXT, "another id");
	memcpy(m, plain, sizeof(plain));
	m[2] &= 0x7f;
	refused(m, sizeof(plain), TXT, "QR clear");
	memcpy(m, plain, sizeof(plain));
	m[5] = 0;
	refused(m, sizeof(plain), TXT, "QDCOUNT 0");
	memcpy(m, plain, sizeof(plain));
	m[5] = 2;
	refused(m, sizeof(plain), TXT, "QDCOUNT 2");
	memcpy(m, plain, sizeof(plain));
	m[7] = 2;
	refused(m, sizeof(plain), TXT, "ANCOUNT one more than there is");
	memcpy(m, plain, sizeof(plain));
	m[14] = 'x';
	refused(m, sizeof(plain), TXT, "question for another name");
	refused(plain, sizeof(plain), CNAME, "question of another type");
	memcpy(m, plain, sizeof(plain));
	m[25] = 3;
	refused(m, sizeof(plain), TXT, "question of another class (CH)");
	memcpy(m, plain, sizeof(plain));
	m[13] = 'F';
	m[18] = 'E';
	m[20] = 'T';
	accepted(m, sizeof(plain), TXT, 1, "question in mixed case (0x20)");

	if (accepted(bad_txt, sizeof(bad_txt), TXT, 1, "two malformed TXT records skipped")) {
		tap_str(reply.rr[0].txt, "ok", "bad txt: the good record kept");
	}
	accepted(bad_shape, sizeof(bad_shape), CNAME, 0,
	         "CNAME and SOA whose RDATA has the wrong length skipped");
	refused(opt_answer, sizeof(opt_answer), TXT, "OPT in the answer section");
	refused(two_opt, sizeof(two_opt), TXT, "two OPT records");
}

/* Header, question, then n copies of a TXT record "ok" (15 octets). */
static size_t many(uint8_t *m, size_t n)
{
	static const uint8_t head[] = { HDR(0x80, 0, 0, 0, 0), QUESTION(TXT) };
	static const uint8_t rr[] = {
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 3, 2, 'o', 'k',
	};
	size_t len = sizeof(head);

	memcpy(m, head, len);
	m[7] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		memcpy(m + len, rr, sizeof(rr));
		len += sizeof(rr);
	}
	return len;
}

static void test_limits(void)
{
	static uint8_t m[2048];
	static const uint8_t trunc[] = {
		HDR(QR_AA_TC, 0, 1, 0, 0), QUESTION(TXT), 0xc0,
	};
	static const uint8_t trunc_whole[] = {
		HDR(QR_AA_TC, 0, 1, 0, 0), QUESTION(TXT),
		AT_QNAME, TYPE_IN(TXT), TTL60, 0, 3, 2, 'o', 'k',
	};
	size_t len = many(m, DNS_MAX_RRS + 6);
	bool all = true;

	if (accepted(m, len, TXT, DNS_MAX_RRS, "70 TXT records, DNS_MAX_RRS kept")) {
		for (size_t i = 0; i < reply.nrr; i++) {
			all = all && strcmp(reply.rr[i].txt, "ok") == 0;
		}
		tap_ok(all, "many: every kept record whole");
	}
	m[len - 4] = 4;		/* the last RDLENGTH: past the end */
	refused(m, len, TXT, "a malformed record past DNS_MAX_RRS");

	if (accepted(trunc, sizeof(trunc), TXT, 0, "TC set, cut inside a record")) {
		tap_ok(tc && reply.rcode == DNS_NOERROR, "tc: TC reported");
	}
	if (accepted(trunc_whole, sizeof(trunc_whole), TXT, 0, "TC set, records not read")) {
		tap_ok(tc, "tc: TC reported again");
	}
	len = many(m, 1);
	if (accepted(m, len, TXT, 1, "TC clear")) {
		tap_ok(!tc, "tc: TC clear reported");
	}
}

static void test_rcodes(void)
{
	static const char *const want[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMPL", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE 11",
		"RCODE 12", "RCODE 13", "RCODE 14", "RCODE 15", "BADVERS", "BADKEY",
		"BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
		"RCODE 24",
	};
	char buf[DNS_RCODE_BUFLEN], msg[64];
	bool all = true;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *got = dns_rcode_str((int)i, buf);
		if (strcmp(got, want[i]) != 0) {
			tap_diag("  RCODE %zu: got '%s', want '%s'", i, got, want[i]);
			all = false;
		}
	}
	tap_ok(all, "rcode names 0..24 as libknot and kdig spell them");
	tap_str(dns_rcode_str(4095, buf), "RCODE 4095", "rcode: the largest, by number");
	tap_str(dns_rcode_str(-1, buf), "RCODE -1", "rcode: negative, by number");

	dns_server_t srv = { .text = "192.0.2.1@53" };
	reply.rcode = DNS_SERVFAIL;
	dns_reply_str(&reply, &srv, msg, sizeof(msg));
	tap_str(msg, "SERVFAIL from 192.0.2.1@53", "reply_str: the rcode and the server");
}

int main(void)
{
	test_query();
	test_answers();
	test_addresses();
	test_pointers();
	test_names();
	test_malformed();
	test_limits();
	test_rcodes();
	return tap_done();
}
