/* dns.c -- the CLI's DNS client: servers, and one question over UDP, then TCP if truncated. */
/* SPDX-License-Identifier: MIT */

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

#include "bytes.h"
#include "dns.h"

#define DNS_QUERY_MAX		512
#define DNS_UDP_MAX		65535
#define DNS_FIRST_TRY_MS	400	/* UDP retransmission: 400, 800, 1600 ms ... */

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

void dns_server_from(dns_server_t *srv, int family, const uint8_t *addr, uint16_t port)
{
	memset(srv, 0, sizeof(*srv));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&srv->addr;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr, 4);
		srv->addrlen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&srv->addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr, 16);
		srv->addrlen = sizeof(*in6);
	}
	addr_text((const struct sockaddr *)&srv->addr, srv->addrlen, srv->text,
	          sizeof(srv->text));
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
	az_put_be16(msg, (uint16_t)qlen);
	memcpy(msg + 2, q, qlen);
	if (!io_all(fd, msg, qlen + 2, false, deadline) ||
	    !io_all(fd, hdr, 2, true, deadline)) {
		set_error(r, "no reply over TCP", errno);
		goto out;
	}
	len = az_get_be16(hdr);
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

const dns_server_t *dns_resolve(const dns_server_t *srv, size_t n, const uint8_t *qname,
                                uint16_t qtype, int timeout_ms, dns_reply_t *reply)
{
	const dns_server_t *used = NULL;

	set_error(reply, "no resolver to ask", 0);
	for (size_t i = 0; i < n; i++) {
		used = &srv[i];
		dns_query(&srv[i], qname, qtype, true, timeout_ms, reply);
		if (reply->rcode >= 0) {
			break;
		}
	}
	return used;
}
