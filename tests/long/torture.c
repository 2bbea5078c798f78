/* torture.c -- concurrency torture: writer processes running the real CLI, query threads checking every answer against what was committed. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * torture -s ADDR -p PORT --cli PATH --db DB --zone ZONE
 *         [--writers W] [--names K] [--udp-threads U] [--tcp-threads T]
 *         [--duration-ms D] [--seed S] [--no-wait] [--tag T]
 *
 * Writers.  Writer w owns the names n<j>.w<w>.TAG.ZONE (j < K; TAG
 * defaults to "t", each run against one store needs its own) and only ever
 * writes the values v(w, j, 1), v(w, j, 2), ... of a sequence (43 base64url
 * characters that spell w, j and the number).  Step m of a name takes it
 * from the values {m-2, m-1} to {m-1, m}:
 *   - for m % 4 != 0, in one transaction ('acmezone apply' of a batch of
 *     several names, "add NAME v(m)" and "del NAME v(m-2)" each);
 *   - for m % 4 == 0, in two ('acmezone add' then 'acmezone del'), so the
 *     committed states are {m-2, m-1, m} and then {m-1, m}.
 * Every committed state of a name is therefore a run lo..hi of consecutive
 * numbers with hi - lo == 1, or hi - lo == 2 when hi % 4 == 0 (and {1}
 * after the first step).  Each writer also adds values that expire 1-3 s
 * later at e<j>.w<w>.TAG.ZONE; such a value spells its expiry time.  The
 * writer publishes, per name, the highest number a started transaction may
 * have committed ('started', before running the CLI) and the highest one
 * the CLI acknowledged ('acked', after it returned 0) in shared memory.
 *
 * Verifier.  Query threads (UDP and TCP) ask TXT for random names of the
 * writers and check each answer:
 *   - every value is one of this name's sequence (nothing else, ever);
 *   - the values form one committed state (a run as above): otherwise the
 *     RRset is torn (values that were never live together);
 *   - hi >= the 'acked' read before the query was sent (an acknowledged
 *     write is visible to the next query) and hi <= the 'started' read
 *     after the answer came (nothing that was not written);
 *   - NXDOMAIN only while nothing was acknowledged yet;
 *   - an expiring value is served only before its expiry time.
 * With --no-wait the writers do not wait for knotd, so acknowledged
 * writes are not yet visible: the verifier must then report stale answers
 * (a test of the verifier itself).
 * Prints one line: queries=.. answers=.. checked=.. wrong=.. timeouts=..
 * torn=.. stale=.. future=.. foreign=.. expired=.. writes=.. acked=..
 * write_errors=.., then the first few wrong answers.  Exit 0 iff wrong=0
 * and write_errors=0.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "testlib.h"

#define MAX_WRITERS	16
#define MAX_NAMES	64
#define EXP_NAMES	4	/* expiring names per writer */
#define BATCH_NAMES	6	/* names per apply batch */
#define TIMEOUT_MS	2000
#define SHOWN		8
#define UNSURE		1024

typedef struct {
	_Atomic uint64_t started, acked;
} name_state_t;

/* Shared between the writer processes and the verifier. */
typedef struct {
	name_state_t seq[MAX_WRITERS][MAX_NAMES];
	_Atomic uint64_t exp_started[MAX_WRITERS][EXP_NAMES];
	/* Expiring values whose spelled expiry may be too early (see below),
	 * by number modulo UNSURE: the verifier does not judge their expiry. */
	_Atomic uint64_t unsure[MAX_WRITERS][UNSURE];
	_Atomic uint64_t writes, acked, write_errors;
	_Atomic int stop;
} shared_t;

static shared_t *sh;
static const char *cli, *db, *zone, *tag = "t";
static int writers = 4, names = 16, udp_threads = 3, tcp_threads = 1;
static long duration_ms = 10000;
static bool no_wait;	/* writers pass --no-wait: a self-test of the verifier */
static struct sockaddr_in addr;

/* Verifier counters. */
static _Atomic uint64_t queries, answers, checked, wrong, timeouts, torn, stale,
                        future, foreign, expired;
static pthread_mutex_t shown_lock = PTHREAD_MUTEX_INITIALIZER;
static char shown[SHOWN][256];
static unsigned nshown;

/*** Values: 43 characters of [A-Za-z0-9-], as an ACME token. ***/

/* Pad (or cut) text to 43 characters with '-'. */
static void pad43(char out[44], const char *text)
{
	size_t n = strlen(text);
	memset(out, '-', 43);
	memcpy(out, text, n < 43 ? n : 43);
	out[43] = '\0';
}

static void value_seq(char out[44], int w, int j, uint64_t m)
{
	char t[64];
	snprintf(t, sizeof(t), "w%02dn%02ds%012" PRIu64, w, j, m);
	pad43(out, t);
}

static void value_exp(char out[44], int w, int j, int64_t expire, uint64_t n)
{
	char t[96];
	snprintf(t, sizeof(t), "e%012" PRId64 "w%02dn%02dx%010" PRIu64, expire, w, j, n);
	pad43(out, t);
}

static void name_seq(char *out, size_t size, int w, int j)
{
	snprintf(out, size, "n%d.w%d.%s.%s", j, w, tag, zone);
}

static void name_exp(char *out, size_t size, int w, int j)
{
	snprintf(out, size, "e%d.w%d.%s.%s", j, w, tag, zone);
}

/*** Writers. ***/

/* Run the CLI with argv (NULL-terminated), stdin from 'input' if not NULL. */
static int run_cli(char *const argv_in[], const char *input)
{
	/* argv_in is { cli, "--db", db, command, ... }: add --no-wait after db. */
	char *argv[16];
	int n = 0;
	for (int i = 0; argv_in[i] != NULL && n < 14; i++) {
		argv[n++] = argv_in[i];
		if (i == 2 && no_wait) {
			argv[n++] = "--no-wait";
		}
	}
	argv[n] = NULL;
	int pfd[2] = { -1, -1 };
	if (input != NULL && pipe(pfd) != 0) {
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		if (input != NULL) {
			dup2(pfd[0], 0);
			close(pfd[0]);
			close(pfd[1]);
		}
		execv(cli, argv);
		_exit(127);
	}
	if (input != NULL) {
		close(pfd[0]);
		size_t len = strlen(input), off = 0;
		while (off < len) {
			ssize_t n = write(pfd[1], input + off, len - off);
			if (n <= 0) {
				break;
			}
			off += (size_t)n;
		}
		close(pfd[1]);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool cli_ok(int rc)
{
	atomic_fetch_add(&sh->writes, 1);
	if (rc != 0) {
		atomic_fetch_add(&sh->write_errors, 1);
		fprintf(stderr, "torture: writer: the CLI failed (%d)\n", rc);
		return false;
	}
	atomic_fetch_add(&sh->acked, 1);
	return true;
}

static void writer_main(int w, uint64_t seed)
{
	uint64_t rng = seed ^ ((uint64_t)w * 0x9e3779b97f4a7c15ULL) ^ 1;
	uint64_t cur[MAX_NAMES] = { 0 };	/* committed and acknowledged */
	uint64_t exp_n = 0;
	char nm[512], v[44], vold[44], dur[16];
	char *batch = malloc(BATCH_NAMES * 2 * 600);
	if (batch == NULL) {
		_exit(1);
	}

	while (!atomic_load(&sh->stop)) {
		int j = (int)(test_rng(&rng) % (uint64_t)names);
		uint64_t m = cur[j] + 1;
		uint64_t r = test_rng(&rng) % 10;
		if (r == 0) {
			/* An expiring value; now and then a purge. */
			int e = (int)(test_rng(&rng) % EXP_NAMES);
			int secs = 1 + (int)(test_rng(&rng) % 3);
			/* The CLI adds 'secs' to its own clock, read a moment
			 * after ours: spell an expiry at or just after the real
			 * one, so that the verifier never blames a value early. */
			int64_t expire = (int64_t)time(NULL) + secs + 1;
			value_exp(v, w, e, expire, ++exp_n);
			name_exp(nm, sizeof(nm), w, e);
			snprintf(dur, sizeof(dur), "%ds", secs);
			atomic_store(&sh->exp_started[w][e], exp_n);
			/* The CLI may read its clock 2 s or more after ours (a
			 * loaded machine): its expiry may then be later than the
			 * one spelled.  Unsure from before the CLI runs, since
			 * the value is served from its commit on, before the
			 * CLI returns; sure again only if it was quick. */
			atomic_store(&sh->unsure[w][exp_n % UNSURE], exp_n);
			char *argv[] = { (char *)cli, "--db", (char *)db, "add", nm, v,
			                 "--expire", dur, NULL };
			cli_ok(run_cli(argv, NULL));
			if ((int64_t)time(NULL) <= expire - secs) {
				atomic_store(&sh->unsure[w][exp_n % UNSURE], 0);
			}
			if (test_rng(&rng) % 8 == 0) {
				char *pargv[] = { (char *)cli, "--db", (char *)db, "purge", NULL };
				cli_ok(run_cli(pargv, NULL));
			}
		} else if (m % 4 == 0) {
			/* Two transactions: {m-2, m-1} -> {m-2, m-1, m} -> {m-1, m}. */
			name_seq(nm, sizeof(nm), w, j);
			value_seq(v, w, j, m);
			atomic_store(&sh->seq[w][j].started, m);
			char *argv[] = { (char *)cli, "--db", (char *)db, "add", nm, v, NULL };
			if (!cli_ok(run_cli(argv, NULL))) {
				break;
			}
			atomic_store(&sh->seq[w][j].acked, m);
			value_seq(vold, w, j, m - 2);
			char *dargv[] = { (char *)cli, "--db", (char *)db, "del", nm, vold, NULL };
			if (!cli_ok(run_cli(dargv, NULL))) {
				break;
			}
			cur[j] = m;
		} else {
			/* One transaction over several names. */
			int picked[BATCH_NAMES], np = 0;
			size_t off = 0;
			for (int k = 0; k < BATCH_NAMES; k++) {
				int jj = (k == 0) ? j : (int)(test_rng(&rng) % (uint64_t)names);
				bool dup = false;
				for (int q = 0; q < np; q++) {
					dup |= picked[q] == jj;
				}
				if (dup || (cur[jj] + 1) % 4 == 0) {
					continue;
				}
				picked[np++] = jj;
				uint64_t mm = cur[jj] + 1;
				name_seq(nm, sizeof(nm), w, jj);
				value_seq(v, w, jj, mm);
				off += (size_t)snprintf(batch + off, 1200, "add %s %s\n", nm, v);
				if (mm > 2) {
					value_seq(vold, w, jj, mm - 2);
					off += (size_t)snprintf(batch + off, 1200, "del %s %s\n", nm, vold);
				}
			}
			for (int q = 0; q < np; q++) {
				atomic_store(&sh->seq[w][picked[q]].started, cur[picked[q]] + 1);
			}
			char *argv[] = { (char *)cli, "--db", (char *)db, "apply", "-", NULL };
			if (!cli_ok(run_cli(argv, batch))) {
				break;
			}
			for (int q = 0; q < np; q++) {
				cur[picked[q]]++;
				atomic_store(&sh->seq[w][picked[q]].acked, cur[picked[q]]);
			}
		}
	}
	free(batch);
	_exit(0);
}

/*** Verifier. ***/

static void report_wrong(_Atomic uint64_t *kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report_wrong(_Atomic uint64_t *kind, const char *fmt, ...)
{
	atomic_fetch_add(kind, 1);
	atomic_fetch_add(&wrong, 1);
	pthread_mutex_lock(&shown_lock);
	if (nshown < SHOWN) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(shown[nshown++], sizeof(shown[0]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&shown_lock);
}

/* Send one query and receive its reply; 0 ok, -1 timeout/error. */
static int exchange(int fd, bool tcp, const uint8_t *q, size_t qlen, uint16_t id,
                    uint8_t *resp, size_t *rlen)
{
	int64_t deadline = test_mono_ms() + TIMEOUT_MS;
	if (tcp) {
		uint8_t msg[2 + 512];
		msg[0] = (uint8_t)(qlen >> 8);
		msg[1] = (uint8_t)qlen;
		memcpy(msg + 2, q, qlen);
		if (send(fd, msg, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2)) {
			return -1;
		}
		size_t have = 0, need = 2;
		uint8_t hdr[2];
		while (have < need) {
			struct pollfd p = { fd, POLLIN, 0 };
			int left = (int)(deadline - test_mono_ms());
			if (left <= 0 || poll(&p, 1, left) <= 0) {
				return -1;
			}
			uint8_t *dst = (need == 2) ? hdr + have : resp + have;
			ssize_t n = recv(fd, dst, need - have, 0);
			if (n <= 0) {
				return -1;
			}
			have += (size_t)n;
			if (need == 2 && have == 2) {
				need = ((size_t)hdr[0] << 8) | hdr[1];
				have = 0;
				if (need == 0 || need > KNOT_WIRE_MAX_PKTSIZE) {
					return -1;
				}
			}
		}
		*rlen = need;
		return 0;
	}
	if (send(fd, q, qlen, 0) != (ssize_t)qlen) {
		return -1;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(deadline - test_mono_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0) {
			return -1;
		}
		ssize_t n = recv(fd, resp, KNOT_WIRE_MAX_PKTSIZE, 0);
		if (n < 12) {
			continue;
		}
		if (((uint16_t)resp[0] << 8 | resp[1]) == id) {
			*rlen = (size_t)n;
			return 0;
		}
	}
}

static int connect_to(bool tcp)
{
	int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0) {
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Check the TXT answer of one writer name. */
static void check_seq(int w, int j, uint64_t acked, uint64_t started,
                      const knot_pkt_t *pkt, const char *qtext)
{
	uint8_t rcode = knot_wire_get_rcode(pkt->wire);
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
	uint64_t lo = UINT64_MAX, hi = 0, n = 0;
	char want[44];

	if (rcode == KNOT_RCODE_NXDOMAIN && an->count == 0) {
		if (acked > 0) {
			report_wrong(&stale, "%s: NXDOMAIN after step %" PRIu64 " was acknowledged",
			             qtext, acked);
		}
		return;
	}
	if (rcode != KNOT_RCODE_NOERROR || an->count == 0) {
		report_wrong(&foreign, "%s: rcode %u, %u answers", qtext, rcode, an->count);
		return;
	}
	/* libknot gives one entry per RR as it came on the wire. */
	for (uint16_t r = 0; r < an->count; r++) {
	const knot_rrset_t *rr = knot_pkt_rr(an, r);
	const knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 0; i < rr->rrs.count; i++, rd = knot_rdataset_next((knot_rdata_t *)rd)) {
		char v[256];
		uint64_t m = 0;
		int ww = -1, jj = -1;
		memcpy(v, rd->data + 1, rd->data[0]);
		v[rd->data[0]] = '\0';
		if (rr->type != KNOT_RRTYPE_TXT || rd->data[0] != 43 ||
		    sscanf(v, "w%2dn%2ds%12" SCNu64, &ww, &jj, &m) != 3 || ww != w || jj != j) {
			report_wrong(&foreign, "%s: value '%s' is not of this name", qtext, v);
			return;
		}
		value_seq(want, w, j, m);
		if (strcmp(want, v) != 0 || m == 0) {
			report_wrong(&foreign, "%s: value '%s' is malformed", qtext, v);
			return;
		}
		lo = m < lo ? m : lo;
		hi = m > hi ? m : hi;
		n++;
	}
	}
	/* A run lo..hi without holes (values are distinct in an RRset). */
	bool run = n == hi - lo + 1;
	bool shape = (hi == 1 && n == 1) || (hi > 1 && n == 2) || (hi % 4 == 0 && n == 3);
	if (!run || !shape) {
		report_wrong(&torn, "%s: values %" PRIu64 "..%" PRIu64 " (%" PRIu64
		             " of them) were never live together", qtext, lo, hi, n);
	} else if (hi < acked) {
		report_wrong(&stale, "%s: state %" PRIu64 " served after %" PRIu64
		             " was acknowledged", qtext, hi, acked);
	} else if (hi > started) {
		report_wrong(&future, "%s: state %" PRIu64 " served, only %" PRIu64
		             " was ever written", qtext, hi, started);
	}
}

static void check_exp(int w, int j, uint64_t started, int64_t sent_wall,
                      const knot_pkt_t *pkt, const char *qtext)
{
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
	if (an->count == 0) {
		return;		/* nothing live: NXDOMAIN or (ENT) NODATA */
	}
	for (uint16_t r = 0; r < an->count; r++) {
	const knot_rrset_t *rr = knot_pkt_rr(an, r);
	const knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 0; i < rr->rrs.count; i++, rd = knot_rdataset_next((knot_rdata_t *)rd)) {
		char v[256];
		int64_t expire = 0;
		int ww = -1, jj = -1;
		uint64_t x = 0;
		memcpy(v, rd->data + 1, rd->data[0]);
		v[rd->data[0]] = '\0';
		if (sscanf(v, "e%12" SCNd64 "w%2dn%2dx%10" SCNu64, &expire, &ww, &jj, &x) != 4 ||
		    ww != w || jj != j) {
			report_wrong(&foreign, "%s: value '%s' is not of this name", qtext, v);
		} else if (x > started) {
			report_wrong(&future, "%s: value %" PRIu64 " served, only %" PRIu64
			             " was written", qtext, x, started);
		} else if (expire <= sent_wall &&
		           atomic_load(&sh->unsure[w][x % UNSURE]) != x) {
			/* knotd serves a value while expiry > its clock, and its
			 * clock was at least sent_wall: expire > sent_wall. */
			report_wrong(&expired, "%s: value expiring at %" PRId64
			             " served at %" PRId64, qtext, expire, sent_wall);
		}
	}
	}
}

static void *query_main(void *arg)
{
	bool tcp = (intptr_t)arg & 1;
	uint64_t rng = ((uint64_t)(intptr_t)arg + 1) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)test_mono_ms();
	uint8_t *resp = malloc(KNOT_WIRE_MAX_PKTSIZE);
	int fd = connect_to(tcp);
	uint16_t id = (uint16_t)test_rng(&rng);
	char nm[512];
	while (!atomic_load(&sh->stop) && resp != NULL) {
		if (fd < 0) {
			fd = connect_to(tcp);
			if (fd < 0) {
				usleep(10000);
				continue;
			}
		}
		int w = (int)(test_rng(&rng) % (uint64_t)writers);
		bool exp = test_rng(&rng) % 8 == 0;
		int j = exp ? (int)(test_rng(&rng) % EXP_NAMES) : (int)(test_rng(&rng) % (uint64_t)names);
		if (exp) {
			name_exp(nm, sizeof(nm), w, j);
		} else {
			name_seq(nm, sizeof(nm), w, j);
		}
		knot_dname_storage_t qname;
		if (knot_dname_from_str(qname, nm, sizeof(qname)) == NULL) {
			break;
		}
		knot_pkt_t *q = knot_pkt_new(NULL, 512, NULL);
		knot_wire_set_id(q->wire, ++id);
		knot_pkt_put_question(q, qname, KNOT_CLASS_IN, KNOT_RRTYPE_TXT);
		if (!tcp) {
			knot_rrset_t opt;
			knot_edns_init(&opt, 4096, 0, 0, &q->mm);
			knot_pkt_begin(q, KNOT_ADDITIONAL);
			knot_pkt_put(q, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE);
		}
		/* Before sending: what was acknowledged must be seen. */
		uint64_t acked = exp ? 0 : atomic_load(&sh->seq[w][j].acked);
		int64_t sent_wall = (int64_t)time(NULL);
		size_t rlen = 0;
		atomic_fetch_add(&queries, 1);
		int ret = exchange(fd, tcp, q->wire, q->size, id, resp, &rlen);
		knot_pkt_free(q);
		if (ret != 0) {
			atomic_fetch_add(&timeouts, 1);
			close(fd);	/* a fresh socket drops late replies */
			fd = -1;
			continue;
		}
		/* After the answer: nothing past what was started may show. */
		uint64_t started = exp ? atomic_load(&sh->exp_started[w][j]) :
		                         atomic_load(&sh->seq[w][j].started);
		atomic_fetch_add(&answers, 1);
		knot_pkt_t *pkt = knot_pkt_new(resp, rlen, NULL);
		if (pkt == NULL || knot_pkt_parse(pkt, 0) != KNOT_EOK) {
			report_wrong(&foreign, "%s: reply does not parse", nm);
			knot_pkt_free(pkt);
			continue;
		}
		if (knot_wire_get_tc(pkt->wire)) {
			knot_pkt_free(pkt);	/* cannot happen at these sizes */
			continue;
		}
		atomic_fetch_add(&checked, 1);
		if (exp) {
			check_exp(w, j, started, sent_wall, pkt, nm);
		} else {
			check_seq(w, j, acked, started, pkt, nm);
		}
		knot_pkt_free(pkt);
	}
	if (fd >= 0) {
		close(fd);
	}
	free(resp);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: torture -s ADDR -p PORT --cli PATH --db DB --zone ZONE\n"
	        "               [--writers W] [--names K] [--udp-threads U] [--tcp-threads T]\n"
	        "               [--duration-ms D] [--seed S] [--no-wait] [--tag T]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "cli", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "zone", required_argument, NULL, 'z' },
		{ "writers", required_argument, NULL, 'w' },
		{ "names", required_argument, NULL, 'n' },
		{ "udp-threads", required_argument, NULL, 'u' },
		{ "tcp-threads", required_argument, NULL, 't' },
		{ "duration-ms", required_argument, NULL, 'D' },
		{ "seed", required_argument, NULL, 'S' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "tag", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = NULL;
	long port = 0;
	uint64_t seed = (uint64_t)time(NULL);
	int c;
	while ((c = getopt_long(argc, argv, "s:p:", opts, NULL)) != -1) {
		switch (c) {
		case 's': host = optarg; break;
		case 'p': port = atol(optarg); break;
		case 'c': cli = optarg; break;
		case 'd': db = optarg; break;
		case 'z': zone = optarg; break;
		case 'w': writers = atoi(optarg); break;
		case 'n': names = atoi(optarg); break;
		case 'u': udp_threads = atoi(optarg); break;
		case 't': tcp_threads = atoi(optarg); break;
		case 'D': duration_ms = atol(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'W': no_wait = true; break;
		case 'g': tag = optarg; break;
		default: usage(); return 2;
		}
	}
	if (host == NULL || port <= 0 || port > 65535 || cli == NULL || db == NULL ||
	    zone == NULL || writers < 1 || writers > MAX_WRITERS || names < 1 ||
	    names > MAX_NAMES || udp_threads < 0 || tcp_threads < 0 ||
	    udp_threads + tcp_threads < 1 || duration_ms < 1) {
		usage();
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
	    (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "torture: loopback IPv4 addresses only\n");
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		return 2;
	}
	memset(sh, 0, sizeof(*sh));
	signal(SIGPIPE, SIG_IGN);

	fflush(NULL);
	pid_t pids[MAX_WRITERS];
	for (int w = 0; w < writers; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			writer_main(w, seed);
		}
	}
	pthread_t th[64];
	int nth = 0;
	for (int i = 0; i < udp_threads + tcp_threads && nth < 64; i++) {
		intptr_t arg = (intptr_t)(i * 2 + (i >= udp_threads ? 1 : 0));
		if (pthread_create(&th[nth], NULL, query_main, (void *)arg) == 0) {
			nth++;
		}
	}
	int64_t end = test_mono_ms() + duration_ms;
	while (test_mono_ms() < end && atomic_load(&sh->write_errors) == 0) {
		usleep(20000);
	}
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < nth; i++) {
		pthread_join(th[i], NULL);
	}
	for (int w = 0; w < writers; w++) {
		waitpid(pids[w], NULL, 0);
	}
	printf("queries=%" PRIu64 " answers=%" PRIu64 " checked=%" PRIu64 " wrong=%" PRIu64
	       " timeouts=%" PRIu64 " torn=%" PRIu64 " stale=%" PRIu64 " future=%" PRIu64
	       " foreign=%" PRIu64 " expired=%" PRIu64 " writes=%" PRIu64 " acked=%" PRIu64
	       " write_errors=%" PRIu64 " seed=%" PRIu64 "\n",
	       atomic_load(&queries), atomic_load(&answers), atomic_load(&checked),
	       atomic_load(&wrong), atomic_load(&timeouts), atomic_load(&torn),
	       atomic_load(&stale), atomic_load(&future), atomic_load(&foreign),
	       atomic_load(&expired), atomic_load(&sh->writes), atomic_load(&sh->acked),
	       atomic_load(&sh->write_errors), seed);
	for (unsigned i = 0; i < nshown; i++) {
		printf("wrong: %s\n", shown[i]);
	}
	return atomic_load(&wrong) == 0 && atomic_load(&sh->write_errors) == 0 ? 0 : 1;
}
