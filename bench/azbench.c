/* azbench.c -- benchmark helper: time processes start to exit, check answers, wait for a server. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * azbench run [-n COUNT] [--first I] [--stdin PATHFMT]
 *             [--check ADDR PORT NAMEFMT VALUEFMT] -- ARGV...
 *
 *   Runs ARGV COUNT times, one after the other, with "{}" in any argument
 *   (and in PATHFMT, NAMEFMT, VALUEFMT) replaced by the run's index (from
 *   I, default 0), and "{W}" by the index zero-padded to W digits.  With --stdin, run i reads the file PATHFMT(i) as its
 *   standard input (opened before the clock starts).  Times each process
 *   from just before fork() to the return of wait4().  With --check, right
 *   after the process has exited it sends one UDP TXT query for NAMEFMT(i)
 *   to ADDR PORT and checks that the answer is NOERROR and holds
 *   VALUEFMT(i).  The processes' standard output goes to /dev/null, their
 *   standard error is ours.  Prints one line per run:
 *
 *     INDEX  MICROSECONDS  EXIT_STATUS  SEEN(1/0/-)  MAXRSS_KB
 *
 *   (SEEN is "-" without --check.)  Exit 0 unless a process could not
 *   be started.
 *
 * azbench ready ADDR PORT NAME VALUE [--since-ns NS] [--timeout-ms T]
 *
 *   Sends a UDP TXT query for NAME every 2 ms until an answer is NOERROR
 *   and holds VALUE.  Prints the milliseconds elapsed since NS (a
 *   CLOCK_REALTIME time in ns, as from 'date +%s%N'; default: since
 *   azbench started).  Exit 1 on timeout (default 120 s).
 *
 * Loopback addresses only: this is a benchmark tool for local servers.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AB_MAX_ARGS	64
#define AB_ARG_MAX	4096
#define AB_MSG_MAX	4096
#define AB_REPLY_MS	1000	/* wait for one reply (run --check) */
#define AB_POLL_MS	2	/* ready: query interval */
#define AB_MAX_RUNS	1000000

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "azbench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * fmt with every "{}" replaced by i, and every "{W}" (W: 1 to 3 digits) by
 * i zero-padded to W digits, into out (size AB_ARG_MAX).
 */
static void subst(const char *fmt, long i, char *out)
{
	size_t n = 0;
	while (*fmt != '\0') {
		const char *end = fmt[0] == '{' ? strchr(fmt, '}') : NULL;
		if (end != NULL && end - fmt <= 4 &&
		    strspn(fmt + 1, "0123456789") == (size_t)(end - fmt - 1)) {
			int width = end - fmt > 1 ? atoi(fmt + 1) : 0;
			int w = snprintf(out + n, AB_ARG_MAX - n, "%0*ld", width, i);
			if (w < 0 || (size_t)w >= AB_ARG_MAX - n) {
				die("argument too long: %s", fmt);
			}
			n += (size_t)w;
			fmt = end + 1;
			continue;
		}
		if (n + 1 >= AB_ARG_MAX) {
			die("argument too long: %s", fmt);
		}
		out[n++] = *fmt++;
	}
	out[n] = '\0';
}

/*** DNS: one TXT query, and a check of its reply. ***/

typedef struct {
	int fd;
	struct sockaddr_in sa;
	uint16_t id;
} dns_t;

static void dns_open(dns_t *d, const char *addr, const char *port)
{
	memset(d, 0, sizeof(*d));
	d->sa.sin_family = AF_INET;
	d->sa.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, addr, &d->sa.sin_addr) != 1 ||
	    (ntohl(d->sa.sin_addr.s_addr) >> 24) != 127) {
		die("not a loopback IPv4 address: %s", addr);
	}
	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, (struct sockaddr *)&d->sa, sizeof(d->sa)) != 0) {
		die("cannot open a UDP socket to %s", addr);
	}
	d->id = (uint16_t)(getpid() ^ mono_us());
}

/* Encode a dotted name into wire form; returns the length or 0. */
static size_t name_wire(const char *name, uint8_t *out, size_t size)
{
	size_t n = 0;
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t len = dot != NULL ? (size_t)(dot - name) : strlen(name);
		if (len == 0 || len > 63 || n + 1 + len + 1 > size) {
			return 0;
		}
		out[n++] = (uint8_t)len;
		memcpy(out + n, name, len);
		n += len;
		name += len;
		if (*name == '.') {
			name++;
		}
	}
	out[n++] = 0;
	return n;
}

static bool dns_send(dns_t *d, const char *name)
{
	uint8_t q[512] = { 0 };
	d->id++;
	q[0] = (uint8_t)(d->id >> 8);
	q[1] = (uint8_t)d->id;
	q[5] = 1;			/* QDCOUNT */
	size_t n = name_wire(name, q + 12, sizeof(q) - 16);
	if (n == 0) {
		die("bad name: %s", name);
	}
	n += 12;
	q[n++] = 0;
	q[n++] = 16;			/* TXT */
	q[n++] = 0;
	q[n++] = 1;			/* IN */
	return send(d->fd, q, n, 0) == (ssize_t)n;
}

/* 1: our reply, NOERROR, holds value; 0: our reply without it; -1: none. */
static int dns_recv(dns_t *d, const char *value, int timeout_ms)
{
	uint8_t r[AB_MSG_MAX];
	int64_t deadline = mono_us() + (int64_t)timeout_ms * 1000;
	for (;;) {
		int64_t left = (deadline - mono_us()) / 1000;
		if (left < 0) {
			return -1;
		}
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)left) <= 0) {
			return -1;
		}
		ssize_t n = recv(d->fd, r, sizeof(r), 0);
		if (n < 12 || r[0] != (uint8_t)(d->id >> 8) || r[1] != (uint8_t)d->id) {
			continue;	/* late reply to an earlier query */
		}
		bool ok = (r[2] & 0x80) && (r[3] & 0x0f) == 0 && (r[6] | r[7]) != 0 &&
		          memmem(r + 12, (size_t)n - 12, value, strlen(value)) != NULL;
		return ok ? 1 : 0;
	}
}

/*** run ***/

static int cmd_run(int argc, char **argv)
{
	long count = 1, first = 0;
	const char *stdin_fmt = NULL, *caddr = NULL, *cport = NULL;
	const char *cname = NULL, *cvalue = NULL;
	int i = 0;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			count = atol(argv[++i]);
		} else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc) {
			first = atol(argv[++i]);
		} else if (strcmp(argv[i], "--stdin") == 0 && i + 1 < argc) {
			stdin_fmt = argv[++i];
		} else if (strcmp(argv[i], "--check") == 0 && i + 4 < argc) {
			caddr = argv[++i];
			cport = argv[++i];
			cname = argv[++i];
			cvalue = argv[++i];
		} else {
			die("run: unknown option %s", argv[i]);
		}
	}
	if (i >= argc - 1 || count < 1 || count > AB_MAX_RUNS) {
		die("run: usage: azbench run [-n COUNT] [--first I] [--stdin FMT] "
		    "[--check ADDR PORT NAME VALUE] -- ARGV...%s", "");
	}
	char **tmpl = argv + i + 1;
	int nargs = argc - i - 1;
	if (nargs >= AB_MAX_ARGS) {
		die("run: too many arguments%s", "");
	}
	static char buf[AB_MAX_ARGS][AB_ARG_MAX];
	char *args[AB_MAX_ARGS + 1];
	char path[AB_ARG_MAX], name[AB_ARG_MAX], value[AB_ARG_MAX];
	dns_t d;
	if (caddr != NULL) {
		dns_open(&d, caddr, cport);
	}

	for (long k = first; k < first + count; k++) {
		for (int a = 0; a < nargs; a++) {
			subst(tmpl[a], k, buf[a]);
			args[a] = buf[a];
		}
		args[nargs] = NULL;
		int in = -1;
		if (stdin_fmt != NULL) {
			subst(stdin_fmt, k, path);
			in = open(path, O_RDONLY | O_CLOEXEC);
			if (in < 0) {
				die("cannot open %s", path);
			}
		}
		if (caddr != NULL) {
			subst(cname, k, name);
			subst(cvalue, k, value);
		}
		fflush(stdout);

		int64_t t0 = mono_us();
		pid_t pid = fork();
		if (pid < 0) {
			die("fork failed%s", "");
		}
		if (pid == 0) {
			/* Our stdout is the results: the child's goes away. */
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if ((in >= 0 && dup2(in, 0) < 0) || null < 0 || dup2(null, 1) < 0) {
				_exit(127);
			}
			execvp(args[0], args);
			_exit(127);
		}
		int status = 0;
		struct rusage ru;
		while (wait4(pid, &status, 0, &ru) < 0) {
			if (errno != EINTR) {
				die("wait4 failed%s", "");
			}
		}
		int64_t t1 = mono_us();
		int seen = -2;
		if (caddr != NULL) {
			/* The first query sent after the exit must see it. */
			seen = dns_send(&d, name) ? dns_recv(&d, value, AB_REPLY_MS) : -1;
		}
		if (in >= 0) {
			close(in);
		}
		int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (rc == 127) {
			die("cannot run %s", args[0]);
		}
		if (seen == -2) {
			printf("%ld %lld %d - %ld\n", k, (long long)(t1 - t0), rc, ru.ru_maxrss);
		} else {
			printf("%ld %lld %d %d %ld\n", k, (long long)(t1 - t0), rc,
			       seen == 1, ru.ru_maxrss);
		}
	}
	return 0;
}

/*** ready ***/

static int cmd_ready(int argc, char **argv)
{
	int64_t since = real_ns();
	long timeout_ms = 120000;
	if (argc < 4) {
		die("ready: usage: azbench ready ADDR PORT NAME VALUE [--since-ns NS] "
		    "[--timeout-ms T]%s", "");
	}
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--since-ns") == 0 && i + 1 < argc) {
			since = atoll(argv[++i]);
		} else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
			timeout_ms = atol(argv[++i]);
		} else {
			die("ready: unknown option %s", argv[i]);
		}
	}
	dns_t d;
	dns_open(&d, argv[0], argv[1]);
	int64_t deadline = mono_us() + timeout_ms * 1000;
	while (mono_us() < deadline) {
		/* The server may not listen yet: refused sends just retry. */
		if (dns_send(&d, argv[2]) && dns_recv(&d, argv[3], AB_POLL_MS) == 1) {
			printf("%.1f\n", (double)(real_ns() - since) / 1e6);
			return 0;
		}
		struct timespec ts = { 0, AB_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "azbench: ready: no answer with the value within %ld ms\n",
	        timeout_ms);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0) {
		return cmd_run(argc - 2, argv + 2);
	}
	if (argc >= 2 && strcmp(argv[1], "ready") == 0) {
		return cmd_ready(argc - 2, argv + 2);
	}
	fprintf(stderr, "usage: azbench run ... | azbench ready ...\n");
	return 2;
}
