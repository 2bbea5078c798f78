/* dnsload.c -- loopback DNS test client: one query, or bounded checked load. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * dnsload query -s ADDR -p PORT [--tcp] [--no-edns] [--dnssec]
 *                [--from SRC] NAME TYPE
 *
 *   Sends one query (NAME's case as given; --dnssec sets the DO bit;
 *   --from sends from the loopback address SRC, e.g. 127.0.0.2) and
 *   prints a stable, line-oriented result:
 *
 *     rcode=NOERROR aa=1 tc=0 ancount=N nscount=M
 *     OWNER TTL TYPE RDATA          (one line per answer RR)
 *     ns: OWNER TTL TYPE RDATA      (one line per authority RR)
 *
 *   OWNER is printed exactly as it came on the wire (case preserved).
 *   TXT RDATA is the raw character-string(s), joined by one space when an
 *   RR holds several; bytes outside 0x20..0x7e are written as \DDD.
 *   Other types use libknot's presentation format.
 *   Exit 0 if a reply arrived, 1 if none (2 s timeout, refused), 2 on a
 *   usage or local error, 3 if the reply did not parse.
 *
 * dnsload load -s ADDR -p PORT -f EXPECT_FILE [--tcp-share PCT]
 *              [--duration-ms N] [--max-queries N] [--window W]
 *              [--case-random] [--ttl N] [--seed N]
 *
 *   Sends TXT queries for names picked at random from EXPECT_FILE, at most
 *   W at a time over one UDP socket (PCT percent instead go over TCP, one
 *   query per connection), until N ms have passed or N queries were sent,
 *   and checks every reply.  EXPECT_FILE lines ('#' starts a comment):
 *
 *     NAME VALUE [VALUE...]   NOERROR, AA, the TXT RRset is exactly these
 *     NAME -                  NXDOMAIN, AA, a SOA in the authority section
 *
 *   A reply with TC over UDP is counted as truncated and the query is
 *   repeated over TCP.  Prints one summary line
 *
 *     sent=.. answered=.. timeouts=.. wrong=.. truncated=.. tcp=.. ...
 *
 *   and the first few wrong replies.  Exit 0 iff wrong=0 (timeouts are not
 *   wrong: the caller decides what it tolerates), 2 on usage errors.
 *   SIGINT or SIGTERM ends the run early: the replies in flight are
 *   awaited and the summary printed as if the time were up.
 *
 * Only loopback addresses are accepted: this is a test tool.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "testlib.h"

#define DL_TIMEOUT_MS		2000
#define DL_EDNS_PAYLOAD		1232
#define DL_QUERY_MAX		512	/* one question and an OPT fit easily */
#define DL_MSG_MAX		65535
#define DL_WRONG_SHOWN		5
#define DL_WHY_MAX		1024
#define DL_WINDOW_MAX		4096
#define DL_DURATION_MAX		600000	/* ms */

/* Exit codes. */
enum {
	DL_EXIT_OK = 0,
	DL_EXIT_NOREPLY = 1,
	DL_EXIT_USAGE = 2,
	DL_EXIT_MALFORMED = 3,
};

/* Results of one exchange. */
enum {
	DL_XCHG_OK = 0,
	DL_XCHG_TIMEOUT = 1,
	DL_XCHG_ERROR = 2,	/* refused, reset, local failure */
};

typedef struct {
	struct sockaddr_storage ss;
	socklen_t len;
} dl_addr_t;

/* One line of the expect file. */
typedef struct {
	knot_dname_storage_t name;	/* wire form, case as written */
	bool nx;			/* expect NXDOMAIN */
	unsigned nvals;
	char **vals;			/* NUL-terminated, each 1..255 octets */
} dl_expect_t;

/* One UDP query in flight. */
typedef struct {
	bool used;
	uint16_t id;
	size_t entry;
	knot_dname_storage_t qname;	/* as sent, case included */
	int64_t deadline;		/* ms, monotonic */
} dl_slot_t;

typedef struct {
	dl_addr_t addr;
	dl_expect_t *exp;
	size_t nexp;
	bool case_random;
	long ttl;			/* -1: do not check */
	uint64_t rng;

	uint64_t sent, answered, timeouts, wrong, truncated, tcp, unmatched,
	         errors;
	char shown[DL_WRONG_SHOWN][DL_WHY_MAX];
} dl_load_t;

/* query --from and --dnssec: the source address and the DO bit. */
static dl_addr_t dl_from;
static bool dl_from_set, dl_do;

/* Set by SIGINT or SIGTERM: 'load' stops sending, drains and reports. */
static volatile sig_atomic_t dl_interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	dl_interrupted = 1;
}

static bool parse_long(const char *text, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
		return false;
	}
	*out = v;
	return true;
}

/* Numeric loopback address and port; anything else is refused. */
static int parse_addr(const char *host, const char *port, dl_addr_t *out)
{
	long p;
	if (host == NULL || port == NULL || !parse_long(port, 1, 65535, &p)) {
		fprintf(stderr, "dnsload: need -s ADDR and -p PORT (1..65535)\n");
		return -1;
	}

	memset(out, 0, sizeof(*out));
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
			goto not_loopback;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		out->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
			goto not_loopback;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		out->len = sizeof(*sin6);
		return 0;
	}
	fprintf(stderr, "dnsload: '%s' is not a numeric address\n", host);
	return -1;
not_loopback:
	fprintf(stderr, "dnsload: '%s' is not a loopback address\n", host);
	return -1;
}

/*
 * Wait until fd has one of events, or the deadline passes.
 * Returns 1 ready, 0 timeout, -1 error.
 */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - test_mono_ms();
		if (left <= 0) {
			return 0;
		}
		struct pollfd pfd = { .fd = fd, .events = events };
		int ret = poll(&pfd, 1, (int)left);
		if (ret > 0) {
			return 1;
		}
		if (ret < 0 && errno != EINTR) {
			return -1;
		}
	}
}

/* Build a query into buf; returns its length, or 0 on failure. */
static size_t build_query(uint8_t *buf, size_t size, uint16_t id,
                          const knot_dname_t *qname, uint16_t qtype, bool edns)
{
	size_t len = 0;
	knot_pkt_t *pkt = knot_pkt_new(NULL, DL_QUERY_MAX, NULL);
	if (pkt == NULL) {
		return 0;
	}
	knot_wire_set_id(pkt->wire, id);
	if (knot_pkt_put_question(pkt, qname, KNOT_CLASS_IN, qtype) != KNOT_EOK) {
		goto out;
	}
	if (edns) {
		knot_rrset_t opt;
		if (knot_edns_init(&opt, DL_EDNS_PAYLOAD, 0, 0, &pkt->mm) != KNOT_EOK) {
			goto out;
		}
		if (dl_do) {
			knot_edns_set_do(&opt);
		}
		if (knot_pkt_begin(pkt, KNOT_ADDITIONAL) != KNOT_EOK ||
		    knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE) != KNOT_EOK) {
			knot_rrset_clear(&opt, &pkt->mm);
			goto out;
		}
	}
	if (pkt->size <= size) {
		memcpy(buf, pkt->wire, pkt->size);
		len = pkt->size;
	}
out:
	knot_pkt_free(pkt);
	return len;
}

/* Open a non-blocking socket connected to addr. */
static int open_socket(const dl_addr_t *addr, int type, int64_t deadline)
{
	int fd = socket(addr->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	if (dl_from_set && bind(fd, (const struct sockaddr *)&dl_from.ss,
	                        dl_from.len) != 0) {
		goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0) {
		return fd;
	}
	if (errno != EINPROGRESS) {
		goto fail;
	}
	/* TCP connect in progress. */
	if (wait_fd(fd, POLLOUT, deadline) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	int err = 0;
	socklen_t err_len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0 || err != 0) {
		errno = err != 0 ? err : errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Read exactly len octets from a non-blocking stream before the deadline. */
static int read_full(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			return DL_XCHG_ERROR;	/* closed early */
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return DL_XCHG_ERROR;
		}
		int ret = wait_fd(fd, POLLIN, deadline);
		if (ret <= 0) {
			return ret == 0 ? DL_XCHG_TIMEOUT : DL_XCHG_ERROR;
		}
	}
	return DL_XCHG_OK;
}

/* One query over a fresh TCP connection. */
static int tcp_exchange(const dl_addr_t *addr, const uint8_t *query, size_t qlen,
                        uint8_t *resp, size_t *resp_len, int timeout_ms)
{
	int64_t deadline = test_mono_ms() + timeout_ms;
	uint8_t frame[2 + DL_QUERY_MAX];
	int ret = DL_XCHG_ERROR;

	if (qlen > DL_QUERY_MAX) {
		return DL_XCHG_ERROR;
	}
	int fd = open_socket(addr, SOCK_STREAM, deadline);
	if (fd < 0) {
		return errno == ETIMEDOUT ? DL_XCHG_TIMEOUT : DL_XCHG_ERROR;
	}

	frame[0] = (uint8_t)(qlen >> 8);
	frame[1] = (uint8_t)qlen;
	memcpy(frame + 2, query, qlen);
	size_t off = 0, flen = qlen + 2;
	while (off < flen) {
		ssize_t n = send(fd, frame + off, flen - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int w = wait_fd(fd, POLLOUT, deadline);
			if (w <= 0) {
				ret = w == 0 ? DL_XCHG_TIMEOUT : DL_XCHG_ERROR;
				goto out;
			}
			continue;
		}
		goto out;
	}

	uint8_t hdr[2];
	ret = read_full(fd, hdr, sizeof(hdr), deadline);
	if (ret != DL_XCHG_OK) {
		goto out;
	}
	size_t rlen = ((size_t)hdr[0] << 8) | hdr[1];
	ret = read_full(fd, resp, rlen, deadline);
	if (ret == DL_XCHG_OK) {
		*resp_len = rlen;
	}
out:
	close(fd);
	return ret;
}

/* One query over UDP; replies with another id are ignored. */
static int udp_exchange(const dl_addr_t *addr, const uint8_t *query, size_t qlen,
                        uint8_t *resp, size_t *resp_len, int timeout_ms)
{
	int64_t deadline = test_mono_ms() + timeout_ms;
	int ret = DL_XCHG_ERROR;

	int fd = open_socket(addr, SOCK_DGRAM, deadline);
	if (fd < 0) {
		return DL_XCHG_ERROR;
	}
	if (send(fd, query, qlen, 0) != (ssize_t)qlen) {
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, resp, DL_MSG_MAX, 0);
		if (n >= KNOT_WIRE_HEADER_SIZE &&
		    knot_wire_get_id(resp) == knot_wire_get_id(query)) {
			*resp_len = (size_t)n;
			ret = DL_XCHG_OK;
			goto out;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			goto out;	/* e.g. ECONNREFUSED: nobody listens */
		}
		int w = wait_fd(fd, POLLIN, deadline);
		if (w <= 0) {
			ret = w == 0 ? DL_XCHG_TIMEOUT : DL_XCHG_ERROR;
			goto out;
		}
	}
out:
	close(fd);
	return ret;
}

static const char *rcode_name(unsigned rcode)
{
	const knot_lookup_t *item = knot_lookup_by_id(knot_rcode_names, (int)rcode);
	return item != NULL ? item->name : "UNKNOWN";
}

/* Append printf output to a fixed buffer, truncating quietly. */
static void appendf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strnlen(buf, size);
	if (used + 1 >= size) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/*
 * Print TXT rdata as its raw character-strings joined by spaces, escaping
 * octets that would break the one-line format.
 */
static void txt_to_text(const knot_rdata_t *rd, char *out, size_t size)
{
	out[0] = '\0';
	size_t pos = 0;
	bool first = true;
	while (pos < rd->len) {
		size_t slen = rd->data[pos++];
		if (pos + slen > rd->len) {
			appendf(out, size, "%s<malformed>", first ? "" : " ");
			return;
		}
		if (!first) {
			appendf(out, size, " ");
		}
		first = false;
		for (size_t i = 0; i < slen; i++) {
			uint8_t c = rd->data[pos + i];
			if (c >= 0x20 && c <= 0x7e) {
				appendf(out, size, "%c", c);
			} else {
				appendf(out, size, "\\%03u", c);
			}
		}
		pos += slen;
	}
}

/* One RR as "OWNER TTL TYPE RDATA" (rd = the i-th rdata of rr). */
static void rr_to_text(const knot_rrset_t *rr, uint16_t i, char *out, size_t size)
{
	knot_dname_txt_storage_t owner;
	char type[32];
	char data[4096];

	if (knot_dname_to_str(owner, rr->owner, sizeof(owner)) == NULL) {
		strcpy(owner, "<bad-owner>");
	}
	if (knot_rrtype_to_string(rr->type, type, sizeof(type)) < 0) {
		strcpy(type, "TYPE?");
	}
	const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, i);
	if (rr->type == KNOT_RRTYPE_TXT) {
		txt_to_text(rd, data, sizeof(data));
	} else {
		/* Dump a one-RR copy so that index i is the one printed. */
		knot_rrset_t one = *rr;
		one.rrs.count = 1;
		one.rrs.size = knot_rdata_size(rd->len);
		one.rrs.rdata = (knot_rdata_t *)rd;
		if (knot_rrset_txt_dump_data(&one, 0, data, sizeof(data),
		                             &KNOT_DUMP_STYLE_DEFAULT) < 0) {
			strcpy(data, "<undumpable>");
		}
	}
	snprintf(out, size, "%s %" PRIu32 " %s %s", owner, rr->ttl, type, data);
}

static void print_section(const knot_pkt_t *pkt, knot_section_t id,
                          const char *prefix)
{
	const knot_pktsection_t *sec = knot_pkt_section(pkt, id);
	char line[8192];
	for (uint16_t i = 0; i < sec->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		for (uint16_t j = 0; j < rr->rrs.count; j++) {
			rr_to_text(rr, j, line, sizeof(line));
			printf("%s%s\n", prefix, line);
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: dnsload query -s ADDR -p PORT [--tcp] [--no-edns] [--dnssec] [--from SRC] NAME TYPE\n"
	        "       dnsload load -s ADDR -p PORT -f EXPECT_FILE [--tcp-share PCT]\n"
	        "               [--duration-ms N] [--max-queries N] [--window W]\n"
	        "               [--case-random] [--ttl N] [--seed N]\n");
}

/*** query ***/

static int cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server",  required_argument, NULL, 's' },
		{ "port",    required_argument, NULL, 'p' },
		{ "tcp",     no_argument,       NULL, 't' },
		{ "no-edns", no_argument,       NULL, 'E' },
		{ "dnssec",  no_argument,       NULL, 'D' },
		{ "from",    required_argument, NULL, 'F' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *host = NULL, *port = NULL, *from = NULL;
	bool tcp = false, edns = true;
	int c;

	while ((c = getopt_long(argc, argv, "s:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': host = optarg; break;
		case 'p': port = optarg; break;
		case 't': tcp = true; break;
		case 'E': edns = false; break;
		case 'D': dl_do = true; break;
		case 'F': from = optarg; break;
		case 'h': usage(); return DL_EXIT_OK;
		default: usage(); return DL_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage();
		return DL_EXIT_USAGE;
	}

	dl_addr_t addr;
	if (parse_addr(host, port, &addr) != 0 ||
	    (from != NULL && parse_addr(from, "1", &dl_from) != 0)) {
		return DL_EXIT_USAGE;
	}
	if (from != NULL) {
		/* Any port: the kernel picks one at bind(). */
		((struct sockaddr_in *)&dl_from.ss)->sin_port = 0;
		dl_from_set = true;
	}
	knot_dname_storage_t qname;
	if (knot_dname_from_str(qname, argv[optind], sizeof(qname)) == NULL) {
		fprintf(stderr, "dnsload: query: '%s' is not a domain name\n",
		        argv[optind]);
		return DL_EXIT_USAGE;
	}
	uint16_t qtype;
	if (knot_rrtype_from_string(argv[optind + 1], &qtype) != 0) {
		fprintf(stderr, "dnsload: query: unknown type '%s'\n",
		        argv[optind + 1]);
		return DL_EXIT_USAGE;
	}

	uint8_t query[DL_QUERY_MAX];
	uint16_t id = (uint16_t)(getpid() ^ test_mono_ms());
	size_t qlen = build_query(query, sizeof(query), id, qname, qtype, edns);
	if (qlen == 0) {
		fprintf(stderr, "dnsload: query: cannot build the query\n");
		return DL_EXIT_USAGE;
	}

	static uint8_t resp[DL_MSG_MAX];
	size_t rlen = 0;
	int ret = tcp ? tcp_exchange(&addr, query, qlen, resp, &rlen, DL_TIMEOUT_MS)
	              : udp_exchange(&addr, query, qlen, resp, &rlen, DL_TIMEOUT_MS);
	if (ret != DL_XCHG_OK) {
		fprintf(stderr, "dnsload: query: %s\n",
		        ret == DL_XCHG_TIMEOUT ? "no reply (timeout)" : strerror(errno));
		return DL_EXIT_NOREPLY;
	}
	if (rlen < KNOT_WIRE_HEADER_SIZE) {
		fprintf(stderr, "dnsload: query: short reply (%zu octets)\n", rlen);
		return DL_EXIT_MALFORMED;
	}

	/* The header line comes from the wire, so it prints even if the
	 * rest does not parse (a truncated reply, say). */
	knot_pkt_t *pkt = knot_pkt_new(resp, (uint16_t)rlen, NULL);
	if (pkt == NULL) {
		return DL_EXIT_USAGE;
	}
	int perr = knot_pkt_parse(pkt, KNOT_PF_NOCANON);
	unsigned rcode = knot_wire_get_rcode(resp);
	if (perr == KNOT_EOK) {
		rcode = knot_pkt_ext_rcode(pkt);
	}
	printf("rcode=%s aa=%u tc=%u ancount=%u nscount=%u\n", rcode_name(rcode),
	       knot_wire_get_aa(resp) ? 1 : 0, knot_wire_get_tc(resp) ? 1 : 0,
	       knot_wire_get_ancount(resp), knot_wire_get_nscount(resp));
	if (perr != KNOT_EOK) {
		fprintf(stderr, "dnsload: query: reply does not parse (%s)\n",
		        knot_strerror(perr));
		knot_pkt_free(pkt);
		return DL_EXIT_MALFORMED;
	}
	print_section(pkt, KNOT_ANSWER, "");
	print_section(pkt, KNOT_AUTHORITY, "ns: ");
	knot_pkt_free(pkt);
	return DL_EXIT_OK;
}

/*** load ***/

static void free_expect(dl_expect_t *exp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (unsigned j = 0; j < exp[i].nvals; j++) {
			free(exp[i].vals[j]);
		}
		free(exp[i].vals);
	}
	free(exp);
}

/* Read the expect file; returns 0 and fills *out, or -1 with a message. */
static int read_expect(const char *path, dl_expect_t **out, size_t *nout)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "dnsload: load: cannot open '%s' (%s)\n", path,
		        strerror(errno));
		return -1;
	}

	dl_expect_t *exp = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	char *line = NULL;
	size_t line_cap = 0;
	int ret = -1;

	while (getline(&line, &line_cap, f) != -1) {
		lineno++;
		char *save = NULL;
		char *name = strtok_r(line, " \t\r\n", &save);
		if (name == NULL || name[0] == '#') {
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			dl_expect_t *nexp = realloc(exp, ncap * sizeof(*exp));
			if (nexp == NULL) {
				goto fail_nomem;
			}
			exp = nexp;
			cap = ncap;
		}
		dl_expect_t *e = &exp[n];
		memset(e, 0, sizeof(*e));
		n++;
		if (knot_dname_from_str(e->name, name, sizeof(e->name)) == NULL) {
			fprintf(stderr, "dnsload: load: %s:%zu: bad name '%s'\n",
			        path, lineno, name);
			goto fail;
		}
		char *tok;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (strcmp(tok, "-") == 0 && e->nvals == 0 && !e->nx) {
				e->nx = true;
				continue;
			}
			if (e->nx || strlen(tok) > 255) {
				fprintf(stderr, "dnsload: load: %s:%zu: bad value '%s'\n",
				        path, lineno, tok);
				goto fail;
			}
			char **nv = realloc(e->vals, (e->nvals + 1) * sizeof(*nv));
			if (nv == NULL) {
				goto fail_nomem;
			}
			e->vals = nv;
			e->vals[e->nvals] = strdup(tok);
			if (e->vals[e->nvals] == NULL) {
				goto fail_nomem;
			}
			e->nvals++;
		}
		if (!e->nx && e->nvals == 0) {
			fprintf(stderr, "dnsload: load: %s:%zu: no values (use '-' "
			        "for NXDOMAIN)\n", path, lineno);
			goto fail;
		}
	}
	if (n == 0) {
		fprintf(stderr, "dnsload: load: '%s' holds no names\n", path);
		goto fail;
	}
	*out = exp;
	*nout = n;
	exp = NULL;
	ret = 0;
	goto fail;	/* shared cleanup */
fail_nomem:
	fprintf(stderr, "dnsload: load: out of memory\n");
fail:
	free(line);
	fclose(f);
	if (exp != NULL) {
		free_expect(exp, n);
	}
	return ret;
}

/* Copy name, flipping the case of each letter at random. */
static void randomise_case(uint64_t *rng, const knot_dname_t *in, knot_dname_t *out)
{
	size_t len = knot_dname_size(in);
	memcpy(out, in, len);
	size_t pos = 0;
	while (out[pos] != 0) {
		size_t llen = out[pos];
		for (size_t i = pos + 1; i <= pos + llen; i++) {
			uint8_t c = out[i];
			bool up = test_rng(rng) & 1;
			if (c >= 'a' && c <= 'z' && up) {
				out[i] = (uint8_t)(c - 'a' + 'A');
			} else if (c >= 'A' && c <= 'Z' && !up) {
				out[i] = (uint8_t)(c - 'A' + 'a');
			}
		}
		pos += llen + 1;
	}
}

/* Short description of a reply for the wrong-answer report. */
static void describe_reply(const knot_pkt_t *pkt, char *out, size_t size)
{
	const uint8_t *w = pkt->wire;
	appendf(out, size, " [reply rcode=%s aa=%u tc=%u an=%u ns=%u:",
	        rcode_name(knot_wire_get_rcode(w)), knot_wire_get_aa(w) ? 1 : 0,
	        knot_wire_get_tc(w) ? 1 : 0, knot_wire_get_ancount(w),
	        knot_wire_get_nscount(w));
	const knot_pktsection_t *sec = knot_pkt_section(pkt, KNOT_ANSWER);
	char line[1024];
	for (uint16_t i = 0; i < sec->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		for (uint16_t j = 0; j < rr->rrs.count; j++) {
			rr_to_text(rr, j, line, sizeof(line));
			appendf(out, size, " {%s}", line);
		}
	}
	appendf(out, size, "]");
}

/*
 * Check one reply against its expectation.  qname is what was sent.
 * Returns true if right; else writes the reason into why.
 */
static bool check_reply(const dl_load_t *ld, const dl_expect_t *e,
                        const knot_dname_t *qname, const uint8_t *wire,
                        size_t len, char *why, size_t why_size)
{
	bool right = false;
	bool *seen = NULL;
	why[0] = '\0';

	/* knot_pkt_parse() does not modify the wire, but wants it mutable. */
	knot_pkt_t *pkt = knot_pkt_new((uint8_t *)wire, (uint16_t)len, NULL);
	if (pkt == NULL) {
		appendf(why, why_size, "out of memory");
		return false;
	}
	int ret = knot_pkt_parse(pkt, KNOT_PF_NOCANON);
	if (ret != KNOT_EOK) {
		appendf(why, why_size, "reply does not parse (%s)",
		        knot_strerror(ret));
		goto out;
	}

	const uint8_t *w = pkt->wire;
	if (!knot_wire_get_qr(w) || knot_wire_get_qdcount(w) != 1 ||
	    knot_pkt_qtype(pkt) != KNOT_RRTYPE_TXT ||
	    knot_pkt_qclass(pkt) != KNOT_CLASS_IN) {
		appendf(why, why_size, "bad header or question");
		goto out_desc;
	}
	const knot_dname_t *rq = knot_pkt_wire_qname(pkt);
	if (ld->case_random ? !knot_dname_is_equal(rq, qname)
	                    : !knot_dname_is_case_equal(rq, qname)) {
		knot_dname_txt_storage_t txt;
		knot_dname_to_str(txt, rq, sizeof(txt));
		appendf(why, why_size, "question name echoed as '%s'", txt);
		goto out_desc;
	}
	if (!knot_wire_get_aa(w)) {
		appendf(why, why_size, "AA not set");
		goto out_desc;
	}
	unsigned rcode = knot_pkt_ext_rcode(pkt);
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);

	if (e->nx) {
		if (rcode != KNOT_RCODE_NXDOMAIN || an->count != 0) {
			appendf(why, why_size, "want NXDOMAIN and no answer");
			goto out_desc;
		}
		const knot_pktsection_t *ns = knot_pkt_section(pkt, KNOT_AUTHORITY);
		bool soa = false;
		for (uint16_t i = 0; i < ns->count; i++) {
			soa = soa || knot_pkt_rr(ns, i)->type == KNOT_RRTYPE_SOA;
		}
		if (!soa) {
			appendf(why, why_size, "NXDOMAIN without SOA");
			goto out_desc;
		}
		right = true;
		goto out;
	}

	if (rcode != KNOT_RCODE_NOERROR) {
		appendf(why, why_size, "want NOERROR");
		goto out_desc;
	}
	seen = calloc(e->nvals, sizeof(*seen));
	if (seen == NULL) {
		appendf(why, why_size, "out of memory");
		goto out;
	}
	unsigned total = 0;
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type != KNOT_RRTYPE_TXT || rr->rclass != KNOT_CLASS_IN) {
			appendf(why, why_size, "answer holds a non-TXT RR");
			goto out_desc;
		}
		if (ld->case_random ? !knot_dname_is_equal(rr->owner, qname)
		                    : !knot_dname_is_case_equal(rr->owner, qname)) {
			appendf(why, why_size, "answer owner differs from QNAME%s",
			        ld->case_random ? " (case)" : "");
			goto out_desc;
		}
		if (ld->ttl >= 0 && rr->ttl != (uint32_t)ld->ttl) {
			appendf(why, why_size, "TTL %" PRIu32 ", want %ld",
			        rr->ttl, ld->ttl);
			goto out_desc;
		}
		for (uint16_t j = 0; j < rr->rrs.count; j++) {
			const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, j);
			total++;
			/* One value is one RR holding one character-string. */
			if (rd->len < 1 || rd->data[0] + 1 != rd->len) {
				appendf(why, why_size, "TXT RR is not one string");
				goto out_desc;
			}
			bool found = false;
			for (unsigned k = 0; k < e->nvals && !found; k++) {
				if (!seen[k] && strlen(e->vals[k]) == rd->data[0] &&
				    memcmp(e->vals[k], rd->data + 1, rd->data[0]) == 0) {
					seen[k] = true;
					found = true;
				}
			}
			if (!found) {
				appendf(why, why_size, "value '%.*s' not expected "
				        "(or repeated)", (int)rd->data[0], rd->data + 1);
				goto out_desc;
			}
		}
	}
	if (total != e->nvals) {
		appendf(why, why_size, "%u values, want %u", total, e->nvals);
		goto out_desc;
	}
	right = true;
	goto out;
out_desc:
	describe_reply(pkt, why, why_size);
out:
	free(seen);
	knot_pkt_free(pkt);
	return right;
}

/* Count a checked reply; keep the first few wrong ones for the report. */
static void account(dl_load_t *ld, const dl_expect_t *e, const knot_dname_t *qname,
                    const uint8_t *wire, size_t len, const char *proto)
{
	char why[DL_WHY_MAX];
	ld->answered++;
	if (check_reply(ld, e, qname, wire, len, why, sizeof(why))) {
		return;
	}
	if (ld->wrong < DL_WRONG_SHOWN) {
		knot_dname_txt_storage_t txt;
		knot_dname_to_str(txt, qname, sizeof(txt));
		ld->shown[ld->wrong][0] = '\0';
		appendf(ld->shown[ld->wrong], DL_WHY_MAX, "%s over %s: %s",
		        txt, proto, why);
	}
	ld->wrong++;
}

/* One query over TCP, checked.  Used for the TCP share and TC retries. */
static void tcp_checked(dl_load_t *ld, const dl_expect_t *e,
                        const knot_dname_t *qname, uint16_t id)
{
	static uint8_t resp[DL_MSG_MAX];
	uint8_t query[DL_QUERY_MAX];
	size_t rlen = 0;
	size_t qlen = build_query(query, sizeof(query), id, qname,
	                          KNOT_RRTYPE_TXT, true);
	if (qlen == 0) {
		ld->errors++;
		return;
	}
	ld->tcp++;
	int ret = tcp_exchange(&ld->addr, query, qlen, resp, &rlen, DL_TIMEOUT_MS);
	if (ret == DL_XCHG_TIMEOUT) {
		ld->timeouts++;
	} else if (ret != DL_XCHG_OK) {
		ld->errors++;
	} else {
		account(ld, e, qname, resp, rlen, "tcp");
	}
}

static dl_slot_t *slot_by_id(dl_slot_t *slots, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (slots[i].used && slots[i].id == id) {
			return &slots[i];
		}
	}
	return NULL;
}

/* Receive every UDP reply queued on fd and match it to its slot. */
static void drain_udp(dl_load_t *ld, int fd, dl_slot_t *slots, size_t nslots,
                      size_t *inflight)
{
	static uint8_t resp[DL_MSG_MAX];
	for (;;) {
		ssize_t n = recv(fd, resp, sizeof(resp), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ld->errors++;	/* ICMP unreachable and such */
			}
			return;
		}
		if (n < KNOT_WIRE_HEADER_SIZE) {
			ld->unmatched++;
			continue;
		}
		dl_slot_t *s = slot_by_id(slots, nslots, knot_wire_get_id(resp));
		if (s == NULL) {
			ld->unmatched++;	/* late reply to a timed-out query */
			continue;
		}
		s->used = false;
		(*inflight)--;
		const dl_expect_t *e = &ld->exp[s->entry];
		if (knot_wire_get_tc(resp)) {
			ld->truncated++;
			tcp_checked(ld, e, s->qname, s->id);
		} else {
			account(ld, e, s->qname, resp, (size_t)n, "udp");
		}
	}
}

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server",      required_argument, NULL, 's' },
		{ "port",        required_argument, NULL, 'p' },
		{ "file",        required_argument, NULL, 'f' },
		{ "tcp-share",   required_argument, NULL, 'T' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "max-queries", required_argument, NULL, 'n' },
		{ "window",      required_argument, NULL, 'w' },
		{ "case-random", no_argument,       NULL, 'c' },
		{ "ttl",         required_argument, NULL, 'L' },
		{ "seed",        required_argument, NULL, 'S' },
		{ "help",        no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *host = NULL, *port = NULL, *file = NULL;
	long tcp_share = 0, duration = 3000, max_queries = 1000000, window = 64;
	long seed = 0;
	int c;
	static dl_load_t ld;	/* large: keep it off the stack */

	ld.ttl = -1;
	while ((c = getopt_long(argc, argv, "s:p:f:h", opts, NULL)) != -1) {
		bool good = true;
		switch (c) {
		case 's': host = optarg; break;
		case 'p': port = optarg; break;
		case 'f': file = optarg; break;
		case 'T': good = parse_long(optarg, 0, 100, &tcp_share); break;
		case 'd': good = parse_long(optarg, 1, DL_DURATION_MAX, &duration); break;
		case 'n': good = parse_long(optarg, 1, 1000000000L, &max_queries); break;
		case 'w': good = parse_long(optarg, 1, DL_WINDOW_MAX, &window); break;
		case 'c': ld.case_random = true; break;
		case 'L': good = parse_long(optarg, 0, INT32_MAX, &ld.ttl); break;
		case 'S': good = parse_long(optarg, 1, LONG_MAX, &seed); break;
		case 'h': usage(); return DL_EXIT_OK;
		default: usage(); return DL_EXIT_USAGE;
		}
		if (!good) {
			fprintf(stderr, "dnsload: load: bad value '%s'\n", optarg);
			return DL_EXIT_USAGE;
		}
	}
	if (optind != argc || file == NULL) {
		usage();
		return DL_EXIT_USAGE;
	}
	if (parse_addr(host, port, &ld.addr) != 0 ||
	    read_expect(file, &ld.exp, &ld.nexp) != 0) {
		return DL_EXIT_USAGE;
	}
	if (seed == 0) {
		seed = (long)(((uint64_t)time(NULL) << 16) ^ (uint64_t)getpid());
	}
	ld.rng = (uint64_t)seed | 1;

	int ret = DL_EXIT_USAGE;
	int64_t start = test_mono_ms();
	int64_t stop = start + duration;
	/* No SA_RESTART: the signal also cuts the poll below short. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	dl_slot_t *slots = calloc((size_t)window, sizeof(*slots));
	int fd = open_socket(&ld.addr, SOCK_DGRAM, start + DL_TIMEOUT_MS);
	if (slots == NULL || fd < 0) {
		fprintf(stderr, "dnsload: load: cannot set up (%s)\n", strerror(errno));
		goto out;
	}
	int rcvbuf = 1 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	size_t inflight = 0;
	uint16_t next_id = (uint16_t)test_rng(&ld.rng);
	bool blocked = false;	/* the last UDP send would block */
	for (;;) {
		int64_t now = test_mono_ms();
		bool sending = now < stop && ld.sent < (uint64_t)max_queries;

		/* Fill the window. */
		while (sending && !blocked && inflight < (size_t)window) {
			size_t idx = test_rng(&ld.rng) % ld.nexp;
			const dl_expect_t *e = &ld.exp[idx];
			knot_dname_storage_t qname;
			if (ld.case_random) {
				randomise_case(&ld.rng, e->name, qname);
			} else {
				memcpy(qname, e->name, knot_dname_size(e->name));
			}
			/* Sequential ids, skipping those in flight: a stale
			 * reply can only match after 65536 more queries. */
			while (slot_by_id(slots, (size_t)window, next_id) != NULL) {
				next_id++;
			}
			uint16_t id = next_id++;

			if (tcp_share > 0 &&
			    (long)(test_rng(&ld.rng) % 100) < tcp_share) {
				ld.sent++;
				tcp_checked(&ld, e, qname, id);
			} else {
				uint8_t query[DL_QUERY_MAX];
				size_t qlen = build_query(query, sizeof(query), id, qname,
				                          KNOT_RRTYPE_TXT, true);
				if (qlen == 0) {
					fprintf(stderr, "dnsload: load: cannot build a query\n");
					goto out;
				}
				ssize_t n = send(fd, query, qlen, 0);
				if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
				              errno == ENOBUFS)) {
					blocked = true;
					break;
				}
				ld.sent++;
				if (n != (ssize_t)qlen) {
					ld.errors++;	/* e.g. ECONNREFUSED from before */
				} else {
					/* inflight < window: a free slot exists. */
					dl_slot_t *s = slots;
					while (s->used) {
						s++;
					}
					s->used = true;
					s->id = id;
					s->entry = idx;
					memcpy(s->qname, qname, knot_dname_size(qname));
					s->deadline = test_mono_ms() + DL_TIMEOUT_MS;
					inflight++;
				}
			}
			now = test_mono_ms();
			sending = now < stop && ld.sent < (uint64_t)max_queries &&
			          !dl_interrupted;
		}

		if (dl_interrupted) {
			sending = false;	/* SIGINT/SIGTERM: finish, report */
		}
		if (!sending && inflight == 0) {
			break;
		}

		/* Sleep until a reply, room to send, a timeout or the stop. */
		int64_t wake = sending ? stop : INT64_MAX;
		for (size_t i = 0; i < (size_t)window; i++) {
			if (slots[i].used && slots[i].deadline < wake) {
				wake = slots[i].deadline;
			}
		}
		int64_t left = wake - test_mono_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (blocked) {
			pfd.events |= POLLOUT;
		}
		int pret = poll(&pfd, 1, left < 0 ? 0 : (left > 1000 ? 1000 : (int)left));
		if (pret < 0 && errno != EINTR) {
			fprintf(stderr, "dnsload: load: poll (%s)\n", strerror(errno));
			goto out;
		}
		if (pret > 0 && (pfd.revents & POLLOUT)) {
			blocked = false;
		}
		/* Replies first, so nothing that arrived is counted late. */
		drain_udp(&ld, fd, slots, (size_t)window, &inflight);
		now = test_mono_ms();
		for (size_t i = 0; i < (size_t)window; i++) {
			if (slots[i].used && slots[i].deadline <= now) {
				slots[i].used = false;
				inflight--;
				ld.timeouts++;
			}
		}
	}

	int64_t elapsed = test_mono_ms() - start;
	printf("sent=%" PRIu64 " answered=%" PRIu64 " timeouts=%" PRIu64
	       " wrong=%" PRIu64 " truncated=%" PRIu64 " tcp=%" PRIu64
	       " unmatched=%" PRIu64 " errors=%" PRIu64 " elapsed_ms=%" PRId64
	       " qps=%.0f seed=%ld\n",
	       ld.sent, ld.answered, ld.timeouts, ld.wrong, ld.truncated, ld.tcp,
	       ld.unmatched, ld.errors, elapsed,
	       elapsed > 0 ? (double)ld.answered * 1000.0 / (double)elapsed : 0.0,
	       seed);
	for (uint64_t i = 0; i < ld.wrong && i < DL_WRONG_SHOWN; i++) {
		printf("wrong: %s\n", ld.shown[i]);
	}
	ret = ld.wrong == 0 ? DL_EXIT_OK : DL_EXIT_NOREPLY;
out:
	if (fd >= 0) {
		close(fd);
	}
	free(slots);
	free_expect(ld.exp, ld.nexp);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return DL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "query") == 0) {
		return cmd_query(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "load") == 0) {
		return cmd_load(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage();
		return DL_EXIT_OK;
	}
	usage();
	return DL_EXIT_USAGE;
}
