/* dns.c -- a small DNS client for check and --wait: one question, UDP then TCP. */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"

#define DNS_QUERY_MAX		512
#define DNS_UDP_MAX		65535
#define DNS_FIRST_TRY_MS	400	/* UDP retransmission: 400, 800, 1600 ms ... */

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

/* "addr@port" of a socket address. */
static void addr_text(const struct sockaddr *sa, socklen_t len, char *out, size_t size)
{
	char host[64], port[8];		/* numeric: an IPv6 address and scope */

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, size, "(unknown address)");
		return;
	}
	snprintf(out, size, "%s@%s", host, port);
}

int dns_server_parse(const char *spec, dns_server_t *out, size_t max, size_t *n,
                     const char **why)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[NI_MAXHOST], port[8] = "53";
	const char *at = strrchr(spec, '@');
	size_t hlen = at != NULL ? (size_t)(at - spec) : strlen(spec);
	int ret;

	*n = 0;
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "no address";
		return -1;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);	/* [2001:db8::1]@53 */
		host[hlen - 2] = '\0';
	}
	if (at != NULL) {
		char *end = NULL;
		long p = strtol(at + 1, &end, 10);
		if (at[1] < '0' || at[1] > '9' || *end != '\0' || p < 1 || p > 65535) {
			*why = "the port is not a number from 1 to 65535";
			return -1;
		}
		snprintf(port, sizeof(port), "%ld", p);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret != 0) {
		*why = gai_strerror(ret);
		return -1;
	}
	for (ai = res; ai != NULL && *n < max; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(out[*n].addr)) {
			continue;
		}
		memcpy(&out[*n].addr, ai->ai_addr, ai->ai_addrlen);
		out[*n].addrlen = ai->ai_addrlen;
		addr_text(ai->ai_addr, ai->ai_addrlen, out[*n].text, sizeof(out[*n].text));
		++*n;
	}
	freeaddrinfo(res);
	if (*n == 0) {
		*why = "no usable address";
		return -1;
	}
	return 0;
}

void dns_system_servers(dns_server_t *out, size_t max, size_t *n)
{
	FILE *f = fopen(DNS_RESOLV_CONF, "r");
	char line[512], addr[256];
	const char *why;
	size_t got;

	*n = 0;
	while (f != NULL && *n < max && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " nameserver %255s", addr) == 1 &&
		    strchr(addr, '@') == NULL &&
		    dns_server_parse(addr, out + *n, 1, &got, &why) == 0) {
			*n += got;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	if (*n == 0) {
		/* What the C library does without a nameserver line. */
		(void)dns_server_parse("127.0.0.1", out, 1, n, &why);
	}
}

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

void dns_reply_str(const dns_reply_t *r, const dns_server_t *srv, char *out,
                   size_t size)
{
	char buf[DNS_RCODE_BUFLEN];

	if (r->rcode < 0) {
		snprintf(out, size, "%s from %s", r->error, srv->text);
	} else {
		snprintf(out, size, "%s from %s", dns_rcode_str(r->rcode, buf), srv->text);
	}
}

/* ASCII only: DNS names compare without case in ASCII alone (RFC 4343). */
static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

bool dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	size_t pos = 0;

	while (pos < AZ_NAME_MAXLEN) {
		uint8_t l = a[pos];
		if (l != b[pos] || l > DNS_LABEL_MAX ||
		    pos + 1 + (size_t)l > AZ_NAME_MAXLEN) {
			return false;
		}
		if (l == 0) {
			return true;
		}
		for (size_t k = pos + 1; k <= pos + l; k++) {
			if (lower(a[k]) != lower(b[k])) {
				return false;
			}
		}
		pos += 1 + (size_t)l;
	}
	return false;
}

/* Wait until fd is ready for events or the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - az_mono_ms();
		if (left <= 0) {
			return 0;
		}
		int ret = poll(&p, 1, (int)left);
		if (ret < 0 && errno == EINTR) {
			continue;
		}
		return ret;
	}
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
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
	rr->type = get16(msg + p);
	rr->ttl = get32(msg + p + 4);
	rr->rdata = p + DNS_RR_TAIL;
	if (len - rr->rdata < get16(msg + p + 8)) {
		return false;
	}
	rr->rdend = rr->rdata + get16(msg + p + 8);
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
	if (len < DNS_HEADER_SIZE || get16(wire) != id) {
		return false;
	}
	flags = get16(wire + 2);
	if ((flags & DNS_FLAG_QR) == 0 || get16(wire + 4) != 1) {
		return false;
	}
	if (read_name(wire, len, &pos, name) == 0 || len - pos < DNS_QUESTION_TAIL ||
	    get16(wire + pos) != qtype || get16(wire + pos + 2) != DNS_CLASS_IN ||
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
		count[s] = get16(wire + 6 + 2 * s);	/* ANCOUNT, NSCOUNT, ARCOUNT */
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

static void set_error(dns_reply_t *r, const char *what, int err)
{
	r->rcode = -1;
	if (err != 0) {
		snprintf(r->error, sizeof(r->error), "%s (%s)", what, strerror(err));
	} else {
		snprintf(r->error, sizeof(r->error), "%s", what);
	}
}

/* UDP with retransmissions; *tc set if the reply was truncated. */
static void query_udp(const dns_server_t *srv, const uint8_t *q, size_t qlen,
                      uint16_t id, const uint8_t *qname, uint16_t qtype,
                      int64_t deadline, dns_reply_t *r, bool *tc)
{
	uint8_t *buf = malloc(DNS_UDP_MAX);
	int fd = -1, try_ms = DNS_FIRST_TRY_MS;

	*tc = false;
	if (buf == NULL) {
		set_error(r, "out of memory", 0);
		return;
	}
	fd = socket(srv->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&srv->addr, srv->addrlen) != 0) {
		set_error(r, "cannot reach it", errno);
		goto out;
	}
	set_error(r, "no reply in time", 0);
	while (az_mono_ms() < deadline) {
		if (send(fd, q, qlen, 0) != (ssize_t)qlen) {
			set_error(r, "cannot send", errno);
			goto out;
		}
		int64_t until = az_mono_ms() + try_ms;
		if (until > deadline) {
			until = deadline;
		}
		while (wait_fd(fd, POLLIN, until) > 0) {
			ssize_t got = recv(fd, buf, DNS_UDP_MAX, 0);
			if (got < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					continue;
				}
				/* ECONNREFUSED: nothing listens there. */
				set_error(r, "no reply", errno);
				goto out;
			}
			if (dns_parse_reply(buf, (size_t)got, id, qname, qtype, r, tc)) {
				goto out;
			}
		}
		try_ms *= 2;
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	free(buf);
}

static bool io_all(int fd, uint8_t *buf, size_t len, bool rd, int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		if (wait_fd(fd, rd ? POLLIN : POLLOUT, deadline) <= 0) {
			errno = ETIMEDOUT;
			return false;
		}
		ssize_t n = rd ? read(fd, buf + done, len - done) :
		                 write(fd, buf + done, len - done);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = ECONNRESET;
			}
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

static void query_tcp(const dns_server_t *srv, const uint8_t *q, size_t qlen,
                      uint16_t id, const uint8_t *qname, uint16_t qtype,
                      int64_t deadline, dns_reply_t *r)
{
	uint8_t hdr[2], *buf = NULL, *msg = NULL;
	int fd, err = 0;
	socklen_t elen = sizeof(err);
	size_t len;

	r->tcp = true;
	fd = socket(srv->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		set_error(r, "cannot open a TCP socket", errno);
		return;
	}
	if (connect(fd, (const struct sockaddr *)&srv->addr, srv->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		set_error(r, "cannot connect over TCP", errno);
		goto out;
	}
	if (wait_fd(fd, POLLOUT, deadline) <= 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
		set_error(r, "cannot connect over TCP", err != 0 ? err : ETIMEDOUT);
		goto out;
	}
	msg = malloc(qlen + 2);
	if (msg == NULL) {
		set_error(r, "out of memory", 0);
		goto out;
	}
	msg[0] = (uint8_t)(qlen >> 8);
	msg[1] = (uint8_t)qlen;
	memcpy(msg + 2, q, qlen);
	if (!io_all(fd, msg, qlen + 2, false, deadline) ||
	    !io_all(fd, hdr, 2, true, deadline)) {
		set_error(r, "no reply over TCP", errno);
		goto out;
	}
	len = (size_t)hdr[0] << 8 | hdr[1];
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL) {
		set_error(r, "out of memory", 0);
		goto out;
	}
	if (!io_all(fd, buf, len, true, deadline)) {
		set_error(r, "no reply over TCP", errno);
		goto out;
	}
	if (!dns_parse_reply(buf, len, id, qname, qtype, r, NULL)) {
		set_error(r, "a malformed reply over TCP", 0);
	}
out:
	close(fd);
	free(msg);
	free(buf);
}

void dns_query(const dns_server_t *srv, const uint8_t *qname, uint16_t qtype,
               bool rd, int timeout_ms, dns_reply_t *reply)
{
	uint8_t q[DNS_QUERY_MAX];
	int64_t deadline = az_mono_ms() + timeout_ms;
	uint16_t id = 0;
	size_t qlen;
	bool tc = false;

	memset(reply, 0, sizeof(*reply));
	if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
		id = (uint16_t)(az_mono_ms() ^ getpid());
	}
	qlen = dns_build_query(q, sizeof(q), id, qname, qtype, rd);
	if (qlen == 0) {
		set_error(reply, "cannot build the query", 0);
		return;
	}
	query_udp(srv, q, qlen, id, qname, qtype, deadline, reply, &tc);
	if (reply->rcode >= 0 && tc) {
		query_tcp(srv, q, qlen, id, qname, qtype, deadline, reply);
	}
}
