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

#include <libknot/libknot.h>

#include "dns.h"

#define DNS_EDNS_PAYLOAD	1232
#define DNS_QUERY_MAX		512
#define DNS_UDP_MAX		65535
#define DNS_FIRST_TRY_MS	400	/* UDP retransmission: 400, 800, 1600 ms ... */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

const char *dns_rcode_str(int rcode, char buf[DNS_RCODE_BUFLEN])
{
	const knot_lookup_t *item = knot_lookup_by_id(knot_rcode_names, rcode);

	if (item != NULL) {
		return item->name;
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

bool dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	return knot_dname_is_case_equal(a, b);
}

/* Wait until fd is ready for events or the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - now_ms();
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

static size_t build_query(uint8_t *buf, size_t size, uint16_t id,
                          const uint8_t *qname, uint16_t qtype, bool rd)
{
	knot_pkt_t *pkt = knot_pkt_new(NULL, DNS_QUERY_MAX, NULL);
	knot_rrset_t opt;
	size_t len = 0;

	if (pkt == NULL) {
		return 0;
	}
	knot_wire_set_id(pkt->wire, id);
	if (rd) {
		knot_wire_set_rd(pkt->wire);
	}
	if (knot_pkt_put_question(pkt, qname, KNOT_CLASS_IN, qtype) != KNOT_EOK ||
	    knot_edns_init(&opt, DNS_EDNS_PAYLOAD, 0, 0, &pkt->mm) != KNOT_EOK) {
		goto out;
	}
	if (knot_pkt_begin(pkt, KNOT_ADDITIONAL) != KNOT_EOK ||
	    knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE) != KNOT_EOK) {
		knot_rrset_clear(&opt, &pkt->mm);
		goto out;
	}
	if (pkt->size <= size) {
		len = pkt->size;
		memcpy(buf, pkt->wire, len);
	}
out:
	knot_pkt_free(pkt);
	return len;
}

/* Copy a wire name in lower case. */
static void copy_lower(uint8_t *out, const knot_dname_t *name)
{
	size_t len = knot_dname_size(name);

	if (len == 0 || len > AZ_NAME_MAXLEN) {
		out[0] = 0;
		return;
	}
	memcpy(out, name, len);
	knot_dname_to_lower(out);
}

static void keep_rr(dns_reply_t *r, const knot_rrset_t *rr, bool authority)
{
	for (uint16_t i = 0; i < rr->rrs.count && r->nrr < DNS_MAX_RRS; i++) {
		const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, i);
		dns_rr_t *out = &r->rr[r->nrr];
		memset(out, 0, sizeof(*out));
		out->type = rr->type;
		out->authority = authority;
		copy_lower(out->owner, rr->owner);
		if (rr->type == KNOT_RRTYPE_CNAME) {
			copy_lower(out->target, knot_cname_name(rd));
		} else if (rr->type == KNOT_RRTYPE_TXT) {
			/* Character-strings, each <length><octets>, joined. */
			size_t o = 0;
			for (size_t p = 0; p < rd->len;) {
				size_t sl = rd->data[p++];
				if (p + sl > rd->len) {
					break;
				}
				for (size_t k = 0; k < sl && o + 1 < sizeof(out->txt); k++) {
					out->txt[o++] = (char)rd->data[p + k];
				}
				p += sl;
			}
			out->txt[o] = '\0';
		} else if (rr->type != KNOT_RRTYPE_SOA) {
			continue;
		}
		r->nrr++;
	}
}

/*
 * Parse a reply to the query: false if it is not one (wrong id, not a
 * response, another question) so that the caller keeps waiting.
 */
static bool parse_reply(uint8_t *wire, size_t len, uint16_t id, const uint8_t *qname,
                        uint16_t qtype, dns_reply_t *r)
{
	knot_pkt_t *pkt;
	bool ok = false;

	if (len < KNOT_WIRE_HEADER_SIZE || knot_wire_get_id(wire) != id ||
	    !knot_wire_get_qr(wire)) {
		return false;
	}
	pkt = knot_pkt_new(wire, (uint16_t)len, NULL);
	if (pkt == NULL) {
		return false;
	}
	if (knot_pkt_parse(pkt, KNOT_PF_NOCANON) != KNOT_EOK ||
	    knot_wire_get_qdcount(wire) != 1 || knot_pkt_qtype(pkt) != qtype ||
	    !knot_dname_is_case_equal(knot_pkt_wire_qname(pkt), qname)) {
		goto out;
	}
	r->rcode = knot_pkt_ext_rcode(pkt);
	r->aa = knot_wire_get_aa(wire);
	r->nrr = 0;
	for (int s = KNOT_ANSWER; s <= KNOT_AUTHORITY; s++) {
		const knot_pktsection_t *sec = knot_pkt_section(pkt, (knot_section_t)s);
		for (uint16_t i = 0; i < sec->count; i++) {
			keep_rr(r, knot_pkt_rr(sec, i), s == KNOT_AUTHORITY);
		}
	}
	ok = true;
out:
	knot_pkt_free(pkt);
	return ok;
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
	while (now_ms() < deadline) {
		if (send(fd, q, qlen, 0) != (ssize_t)qlen) {
			set_error(r, "cannot send", errno);
			goto out;
		}
		int64_t until = now_ms() + try_ms;
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
			if (parse_reply(buf, (size_t)got, id, qname, qtype, r)) {
				*tc = knot_wire_get_tc(buf);
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
	if (!parse_reply(buf, len, id, qname, qtype, r)) {
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
	int64_t deadline = now_ms() + timeout_ms;
	uint16_t id = 0;
	size_t qlen;
	bool tc = false;

	memset(reply, 0, sizeof(*reply));
	if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
		id = (uint16_t)(now_ms() ^ getpid());
	}
	qlen = build_query(q, sizeof(q), id, qname, qtype, rd);
	if (qlen == 0) {
		set_error(reply, "cannot build the query", 0);
		return;
	}
	query_udp(srv, q, qlen, id, qname, qtype, deadline, reply, &tc);
	if (reply->rcode >= 0 && tc) {
		query_tcp(srv, q, qlen, id, qname, qtype, deadline, reply);
	}
}
