/* keeper.c -- kept peer sessions: a background process per peer holds one 'acmezone serve' session open over ssh and carries the batches writers hand it on a unix socket. */
/* SPDX-License-Identifier: MIT */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fanout.h"
#include "keeper.h"
#include "proto.h"

#define KEEP_CLIENTS		128	/* writers at once; more: one-shot */
#define KEEP_HEAD_MAX		64	/* octets of a request line */
#define KEEP_READ_MS		10000	/* a writer's request must arrive by then */
#define KEEP_CLOSE_MS		2000	/* ssh's grace to end after our EOF */
#define KEEP_ERR_MAX		512	/* octets of ssh's last stderr line */
#define KEEP_EXIT_MS		20000	/* 'peer close': a keeper's time to finish */
#define KEEP_HANDSHAKE_MS	30000	/* the session's start, at most */
#define KEEP_STATUS_MS		2000	/* 'peer list': a keeper's time to answer */
#define KEEP_RETRY_MS		300000	/* without a session: try again after */

/*** The writer's side. ***/

/*
 * 64-bit FNV-1a of the ssh command line: the keeper's identity.  Not its
 * ConnectTimeout, which follows each writer's --peer-timeout: a session
 * open is open for all of them.
 */
static uint64_t argv_hash(char *const *argv)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (int i = 0; argv[i] != NULL; i++) {
		if (strncmp(argv[i], "-oConnectTimeout=", 17) == 0) {
			continue;
		}
		for (const char *c = argv[i]; ; c++) {
			h = (h ^ (uint8_t)*c) * UINT64_C(1099511628211);
			if (*c == '\0') {
				break;
			}
		}
	}
	return h;
}

static bool sock_path(struct sockaddr_un *sa, const char *dir, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return (size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir,
	                        name) < sizeof(sa->sun_path);
}

static int try_connect(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}

/*
 * Exec 'acmezone __keeper' with the listening socket ls as its descriptor
 * 3, in a session of its own and not our child (a double fork): it
 * outlives us, and holds none of our descriptors (a hook's caller waits
 * for its standard output to close).
 */
static int start(int ls, int keep_ms, const char *path, char *const *ssh_argv)
{
	char idle[32], *argv[PEER_SSH_ARGS + 8];
	int n = 0, st, go[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) != 0) {
		return -1;
	}
	snprintf(idle, sizeof(idle), "%d", keep_ms);
	argv[n++] = "acmezone";
	argv[n++] = KEEPER_ARGV1;
	argv[n++] = idle;
	argv[n++] = (char *)path;
	argv[n++] = "--";
	for (int i = 0; ssh_argv[i] != NULL && n < PEER_SSH_ARGS + 7; i++) {
		argv[n++] = ssh_argv[i];
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR), l, g;
		if (setsid() < 0 || null < 0 || fork() != 0) {
			_exit(0);
		}
		/* Above 0..4 first, then into place (close-on-exec clear). */
		l = fcntl(ls, F_DUPFD, 10);
		g = fcntl(go[0], F_DUPFD, 10);
		if (l < 0 || g < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0 || dup2(l, 3) < 0 || dup2(g, 4) < 0) {
			_exit(127);
		}
		close_range(5, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	close(go[0]);
	if (pid < 0) {
		close(go[1]);
		return -1;
	}
	return go[1];
}

/* The socket (and lock file) of the keeper of ssh_argv.  \return false: too long. */
static bool keeper_paths(const char *dir, char *const *ssh_argv, struct sockaddr_un *sa,
                         struct sockaddr_un *lk)
{
	char name[64];

	snprintf(name, sizeof(name), KEEP_PREFIX "%016" PRIx64, argv_hash(ssh_argv));
	return sock_path(sa, dir, name) && sock_path(lk, dir, name) &&
	       strlen(lk->sun_path) + 6 <= sizeof(lk->sun_path);
}

int keeper_open(const cli_t *cli, const char *dir, char *const *ssh_argv,
                size_t len, int64_t timeout_ms, int *go)
{
	struct sockaddr_un sa, lk;
	char req[KEEP_HEAD_MAX];
	int fd, lock = -1, ls = -1, n;

	*go = -1;
	if (cli->peer_keep_ms == 0 || len > KEEP_BATCH_MAX ||
	    !keeper_paths(dir, ssh_argv, &sa, &lk)) {
		return -1;
	}
	strcat(lk.sun_path, ".lock");
	fd = try_connect(&sa);
	if (fd < 0 && (errno == ENOENT || errno == ECONNREFUSED)) {
		/* None runs (or one died): start one, under the lock, so that
		 * writers starting at once start one between them. */
		lock = open(lk.sun_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (lock < 0 || flock(lock, LOCK_EX) != 0) {
			goto out;
		}
		fd = try_connect(&sa);
		if (fd >= 0) {
			goto out;
		}
		(void)unlink(sa.sun_path);
		ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    listen(ls, KEEP_CLIENTS) != 0) {
			goto out;
		}
		/* It opens its session while this writer runs an ssh of its
		 * own: the keeper carries the next batches, not this one. */
		*go = start(ls, cli->peer_keep_ms, sa.sun_path, ssh_argv);
	}
out:
	if (ls >= 0) {
		close(ls);
	}
	if (lock >= 0) {
		close(lock);		/* and the lock with it */
	}
	if (fd < 0) {
		return -1;
	}
	n = snprintf(req, sizeof(req), "keeper-batch %zu %" PRId64 "\n", len, timeout_ms);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

const char *keeper_state(const char *dir, char *const *ssh_argv, long *pid)
{
	static char state[16];
	struct sockaddr_un sa, lk;
	struct pollfd p;
	char line[KEEP_HEAD_MAX];
	size_t len = 0;
	int fd;

	*pid = 0;
	if (!keeper_paths(dir, ssh_argv, &sa, &lk) || (fd = try_connect(&sa)) < 0) {
		return "none";
	}
	snprintf(state, sizeof(state), "unknown");
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (send(fd, "keeper-status\n", 14, MSG_NOSIGNAL) == 14) {
		int64_t until = az_mono_ms() + KEEP_STATUS_MS;
		ssize_t got = 1;
		while (len + 1 < sizeof(line) && got > 0 && az_mono_ms() < until &&
		       poll(&p, 1, (int)(until - az_mono_ms())) > 0 &&
		       (got = read(fd, line + len, sizeof(line) - 1 - len)) > 0) {
			len += (size_t)got;
		}
		line[len] = '\0';
		if (sscanf(line, "keeper status %15s %ld", state, pid) != 2) {
			snprintf(state, sizeof(state), "unknown");
			*pid = 0;
		}
	}
	close(fd);
	return state;
}

/* Ask the keeper at sa to exit, and wait for it.  \return false: none there. */
static bool ask_exit(const struct sockaddr_un *sa)
{
	int fd = try_connect(sa);
	bool asked = false;

	if (fd < 0) {
		return false;
	}
	if (send(fd, "keeper-exit\n", 12, MSG_NOSIGNAL) == 12) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t until = az_mono_ms() + KEEP_EXIT_MS;
		char c;
		asked = true;
		/* The socket closes when the keeper has exited (it first
		 * finishes the batches it carries). */
		while (az_mono_ms() < until &&
		       poll(&p, 1, (int)(until - az_mono_ms())) > 0 &&
		       read(fd, &c, 1) > 0) {
		}
	}
	close(fd);
	return asked;
}

bool keeper_close(const char *dir, char *const *ssh_argv)
{
	struct sockaddr_un sa, lk;

	return keeper_paths(dir, ssh_argv, &sa, &lk) && ask_exit(&sa);
}

int keeper_close_all(const char *dir)
{
	struct sockaddr_un sa;
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, KEEP_PREFIX, strlen(KEEP_PREFIX)) == 0 &&
		    strchr(e->d_name, '.') == NULL && sock_path(&sa, dir, e->d_name) &&
		    ask_exit(&sa)) {
			n++;
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	return n;
}

/*** The keeper. ***/

typedef enum {
	C_FREE,
	C_READ,		/* reading its request */
	C_SENT,		/* its batch is on the session: answer lines go to it */
	C_EXIT,		/* asked us to exit: its socket closes when we do */
} cstate_t;

typedef struct {
	cstate_t state;
	int fd;			/* -1 once the writer went away */
	char head[KEEP_HEAD_MAX];
	size_t hlen;
	char *body;
	size_t want, have;
	int64_t timeout_ms, deadline;
} kclient_t;

typedef enum {
	S_START,	/* until the writer that started us has done its own ssh */
	S_HANDSHAKE,	/* our ssh runs: waiting for the session's first line */
	S_SESSION,
	S_ONESHOT,	/* no session: writers run their own ssh */
} sstate_t;

typedef struct {
	const char *path;
	struct stat sb;			/* of path, when we started */
	int ls;				/* listening; -1 when closing */
	int go;				/* S_START: EOF here starts ssh */
	char **ssh_argv;
	pid_t ssh;
	int in, out, err;
	sstate_t state;
	char *outbuf;			/* for ssh's standard input */
	size_t olen, ocap;
	char line[PROTO_LINE_MAX + 2];
	size_t llen;
	char errline[KEEP_ERR_MAX], errcur[KEEP_ERR_MAX];
	size_t ecur;
	kclient_t c[KEEP_CLIENTS];
	int queue[KEEP_CLIENTS];	/* C_SENT clients, oldest first */
	int nq;
	int64_t idle_ms, last;
	int64_t handshake;		/* its deadline; without a session: the
					 * time to exit, to try again */
} keeper_t;

/*
 * A line to a writer.  Never a part of one: a writer that does not read
 * (its socket buffer full) or went away is let go, and its answer ends
 * there -- an answer without its status line, which it counts as failed.
 */
static void client_say(kclient_t *c, const char *text)
{
	size_t len = strlen(text);

	if (c->fd >= 0 &&
	    send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len) {
		close(c->fd);
		c->fd = -1;
	}
}

static void client_free(kclient_t *c)
{
	if (c->fd >= 0) {
		close(c->fd);
	}
	free(c->body);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->state = C_FREE;
}

static bool busy(const keeper_t *k)
{
	for (int i = 0; i < KEEP_CLIENTS; i++) {
		if (k->c[i].state != C_FREE && k->c[i].state != C_EXIT) {
			return true;
		}
	}
	return false;
}

/* Take one writer from the listening socket.  \return false: none waits. */
static bool accept_one(keeper_t *k)
{
	int fd = accept4(k->ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;

	if (fd < 0) {
		return false;
	}
	for (i = 0; i < KEEP_CLIENTS && k->c[i].state != C_FREE; i++) {
	}
	if (i == KEEP_CLIENTS) {
		/* Full: this writer runs its own ssh. */
		(void)send(fd, "keeper oneshot\n", 15, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return true;
	}
	k->c[i].state = C_READ;
	k->c[i].fd = fd;
	k->c[i].deadline = az_mono_ms() + KEEP_READ_MS;
	k->last = az_mono_ms();
	return true;
}

/* Remove our socket (if it is still ours, not a newer keeper's): no new writers. */
static void unpublish(keeper_t *k)
{
	struct stat now;
	char lk[PATH_MAX];
	int lock;

	if (k->ls < 0) {
		return;
	}
	snprintf(lk, sizeof(lk), "%s.lock", k->path);
	lock = open(lk, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (lock >= 0 && flock(lock, LOCK_EX) == 0 && lstat(k->path, &now) == 0 &&
	    now.st_ino == k->sb.st_ino && now.st_dev == k->sb.st_dev) {
		(void)unlink(k->path);
	}
	if (lock >= 0) {
		close(lock);
	}
	/* Writers that connected before the unlink are still queued: take
	 * them (they are carried like the others) before closing. */
	while (accept_one(k)) {
	}
	close(k->ls);
	k->ls = -1;
}

/* The session is over: tell every writer why, end ssh, exit. */
static void fail_all(keeper_t *k, const char *why)
{
	char text[KEEP_ERR_MAX + 64];

	unpublish(k);
	snprintf(text, sizeof(text), "keeper failed %s\n",
	         k->errline[0] != '\0' ? k->errline : why);
	for (int i = 0; i < KEEP_CLIENTS; i++) {
		if (k->c[i].state != C_FREE) {
			client_say(&k->c[i], text);
			client_free(&k->c[i]);
		}
	}
	k->nq = 0;
}

static void end_ssh(keeper_t *k, bool kill_it)
{
	int st;

	if (k->in >= 0) {
		close(k->in);
		k->in = -1;
	}
	if (k->ssh > 0 && !kill_it) {
		/* Our EOF ends the serve there, and then ssh: a little while. */
		struct pollfd p = { .fd = k->out, .events = POLLIN };
		int64_t until = az_mono_ms() + KEEP_CLOSE_MS;
		char buf[4096];
		while (k->out >= 0 && az_mono_ms() < until &&
		       poll(&p, 1, (int)(until - az_mono_ms())) > 0 &&
		       read(k->out, buf, sizeof(buf)) > 0) {
		}
	}
	if (k->ssh > 0) {
		if (waitpid(k->ssh, &st, WNOHANG) == 0) {
			kill(k->ssh, SIGKILL);
			while (waitpid(k->ssh, &st, 0) < 0 && errno == EINTR) {
			}
		}
		k->ssh = -1;
	}
	if (k->out >= 0) {
		close(k->out);
		k->out = -1;
	}
	if (k->err >= 0) {
		close(k->err);
		k->err = -1;
	}
}

static bool out_append(keeper_t *k, const char *data, size_t len)
{
	if (k->olen + len > k->ocap) {
		size_t cap = k->ocap * 2 > k->olen + len ? k->ocap * 2 : k->olen + len;
		char *n = realloc(k->outbuf, cap);
		if (n == NULL) {
			return false;
		}
		k->outbuf = n;
		k->ocap = cap;
	}
	memcpy(k->outbuf + k->olen, data, len);
	k->olen += len;
	return true;
}

/* Put client i's batch on the session (in order: answers come in order). */
static void send_batch(keeper_t *k, int i)
{
	kclient_t *c = &k->c[i];

	if (!out_append(k, c->body, c->want)) {
		client_say(c, "keeper oneshot\n");
		client_free(c);
		return;
	}
	free(c->body);
	c->body = NULL;
	c->state = C_SENT;
	c->deadline = az_mono_ms() + c->timeout_ms;
	k->queue[k->nq++] = i;
}

/*
 * Does the body look like one write batch: its first line a batch head,
 * its last an 'end' line, and no NUL?  (The peer checks every line; this
 * keeps what is not a batch at all off a session other writers share.)
 */
static bool batch_shape(const char *b, size_t len)
{
	const char *last;

	if (len < sizeof(PROTO_HEAD) || memcmp(b, PROTO_HEAD " ", sizeof(PROTO_HEAD)) != 0 ||
	    b[len - 1] != '\n' || memchr(b, '\0', len) != NULL) {
		return false;
	}
	for (last = b + len - 1; last > b && last[-1] != '\n'; last--) {
	}
	return (size_t)(b + len - last) > 7 && memcmp(last, "end id=", 7) == 0;
}

/* Client i's request is whole. */
static void request_done(keeper_t *k, int i)
{
	kclient_t *c = &k->c[i];

	k->last = az_mono_ms();
	if (!batch_shape(c->body, c->want)) {
		client_free(c);
	} else if (k->state != S_SESSION) {
		/* No session, or not yet: never behind one that is not there
		 * (a peer may not answer the session line at all). */
		client_say(c, "keeper oneshot\n");
		client_free(c);
	} else {
		send_batch(k, i);
	}
}

/* "keeper-batch LEN TIMEOUT_MS" or "keeper-exit".  \return false: drop it. */
static bool request_head(keeper_t *k, kclient_t *c)
{
	unsigned long long len, ms;
	char extra;

	if (strcmp(c->head, "keeper-status") == 0) {
		static const char *const names[] = {
			[S_START] = "starting", [S_HANDSHAKE] = "starting",
			[S_SESSION] = "open", [S_ONESHOT] = "one-shot",
		};
		char text[KEEP_HEAD_MAX];
		snprintf(text, sizeof(text), "keeper status %s %ld\n", names[k->state],
		         (long)getpid());
		client_say(c, text);
		return false;
	}
	if (strcmp(c->head, "keeper-exit") == 0) {
		c->state = C_EXIT;	/* before unpublish() takes the queued ones */
		unpublish(k);
		return true;
	}
	if (sscanf(c->head, "keeper-batch %llu %llu%c", &len, &ms, &extra) != 2 ||
	    len == 0 || len > KEEP_BATCH_MAX || ms == 0 || ms > 3600000) {
		return false;
	}
	c->want = (size_t)len;
	c->timeout_ms = (int64_t)ms;
	c->body = malloc(c->want);
	return c->body != NULL;
}

/* Read what client i sent. */
static void client_read(keeper_t *k, int i)
{
	kclient_t *c = &k->c[i];
	char buf[65536];
	ssize_t got;

	while ((got = read(c->fd, buf, sizeof(buf))) > 0) {
		size_t at = 0;
		while (at < (size_t)got && c->body == NULL) {
			char ch = buf[at++];
			if (ch == '\n') {
				c->head[c->hlen] = '\0';
				if (!request_head(k, c)) {
					client_free(c);
					return;
				}
				if (c->state == C_EXIT) {
					return;
				}
			} else if (c->hlen + 1 == sizeof(c->head)) {
				client_free(c);
				return;
			} else {
				c->head[c->hlen++] = ch;
			}
		}
		size_t take = (size_t)got - at;
		if (c->body == NULL) {
			continue;
		}
		if (take > c->want - c->have) {
			client_free(c);		/* more than it announced */
			return;
		}
		memcpy(c->body + c->have, buf + at, take);
		c->have += take;
		if (c->have == c->want) {
			request_done(k, i);
			return;
		}
	}
	if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
		client_free(c);		/* it went away before its batch was whole */
	}
}

static void no_session(keeper_t *k);

/* The writer that started us is done with its ssh: open the session. */
static void session_start(keeper_t *k)
{
	fanout_proc_t sp;

	close(k->go);
	k->go = -1;
	k->handshake = az_mono_ms() + KEEP_HANDSHAKE_MS;
	if (!fanout_spawn(k->ssh_argv, &sp)) {
		no_session(k);
		return;
	}
	k->ssh = sp.pid;
	k->in = sp.in;
	k->out = sp.out;
	k->err = sp.err;
	k->state = S_HANDSHAKE;
	if (!out_append(k, PROTO_SESSION " 1\n", strlen(PROTO_SESSION " 1\n"))) {
		no_session(k);
	}
}

/*
 * The peer has no session for us (a serve without sessions refused the
 * line; ssh failed; no answer in time): every writer runs its own ssh
 * until we have been idle long enough for the peer to be mended.
 */
static void no_session(keeper_t *k)
{
	k->state = S_ONESHOT;
	k->handshake = az_mono_ms() + KEEP_RETRY_MS;
	end_ssh(k, true);
}

/* One line of ssh's standard output.  \return false: the session is over. */
static bool session_line(keeper_t *k, const char *line, char *why, size_t size)
{
	char text[PROTO_LINE_MAX + 2];

	if (k->state == S_HANDSHAKE) {
		if (strcmp(line, PROTO_SESSION " 1 ok") == 0) {
			k->state = S_SESSION;
		} else {
			no_session(k);
		}
		return true;
	}
	if (k->nq == 0) {
		snprintf(why, size, "the peer answered a batch it was not sent");
		return false;
	}
	kclient_t *c = &k->c[k->queue[0]];
	size_t n = strlen(line);	/* at most PROTO_LINE_MAX */
	memcpy(text, line, n);
	memcpy(text + n, "\n", 2);
	client_say(c, text);
	if (strncmp(line, "status ", 7) == 0) {
		client_free(c);
		memmove(k->queue, k->queue + 1, (size_t)(--k->nq) * sizeof(k->queue[0]));
		k->last = az_mono_ms();
	}
	return true;
}

static bool ssh_output(keeper_t *k, char *why, size_t size)
{
	char buf[16384];
	ssize_t got = read(k->out, buf, sizeof(buf));

	if (got < 0) {
		return errno == EAGAIN || errno == EINTR;
	}
	if (got == 0 && k->state == S_HANDSHAKE) {
		no_session(k);
		return true;
	}
	if (got == 0) {
		snprintf(why, size, "the session ended");
		return false;
	}
	for (ssize_t i = 0; i < got; i++) {
		if (buf[i] == '\n') {
			k->line[k->llen] = '\0';
			k->llen = 0;
			if (!session_line(k, k->line, why, size)) {
				return false;
			}
			if (k->state == S_ONESHOT) {
				return true;	/* ssh is gone */
			}
		} else if (buf[i] == '\0' || k->llen == PROTO_LINE_MAX) {
			snprintf(why, size, "the peer answered a line that is not the protocol");
			return false;
		} else {
			k->line[k->llen++] = buf[i];
		}
	}
	return true;
}

/* ssh's standard error: keep the last whole non-empty line. */
static void ssh_error(keeper_t *k)
{
	char buf[4096];
	ssize_t got = read(k->err, buf, sizeof(buf));

	if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
		close(k->err);
		k->err = -1;
		return;
	}
	for (ssize_t i = 0; i < got; i++) {
		char ch = buf[i];
		if (ch == '\n' || ch == '\r') {
			if (k->ecur > 0) {
				k->errcur[k->ecur] = '\0';
				memcpy(k->errline, k->errcur, k->ecur + 1);
				k->ecur = 0;
			}
		} else if (k->ecur + 1 < sizeof(k->errcur)) {
			k->errcur[k->ecur++] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
		}
	}
}

/* The soonest deadline of a client, or of our idleness; INT64_MAX if none. */
static int64_t next_deadline(const keeper_t *k, bool *idle)
{
	int64_t d = INT64_MAX;

	*idle = !busy(k);
	if (k->state != S_SESSION) {
		d = k->handshake;
	}
	if (*idle) {
		int64_t i = k->ls >= 0 ? k->last + k->idle_ms : az_mono_ms();
		return i < d ? i : d;
	}
	for (int i = 0; i < KEEP_CLIENTS; i++) {
		if (k->c[i].state != C_FREE && k->c[i].state != C_EXIT &&
		    k->c[i].deadline < d) {
			d = k->c[i].deadline;
		}
	}
	return d;
}

/* A client past its deadline: one still reading is dropped; a batch
 * without its status means the session hangs.  \return false for that. */
static bool check_deadlines(keeper_t *k, char *why, size_t size)
{
	int64_t now = az_mono_ms();

	for (int i = 0; i < KEEP_CLIENTS; i++) {
		kclient_t *c = &k->c[i];
		if (c->state == C_FREE || c->state == C_EXIT || c->deadline > now) {
			continue;
		}
		if (c->state == C_READ) {
			client_free(c);
			continue;
		}
		snprintf(why, size, "no answer within %" PRId64 " ms; the session was "
		         "closed", c->timeout_ms);
		k->errline[0] = '\0';
		return false;
	}
	return true;
}

static int keeper_loop(keeper_t *k)
{
	struct pollfd pfd[KEEP_CLIENTS + 4];
	int who[KEEP_CLIENTS + 4];
	char why[256] = "";

	for (;;) {
		bool idle;
		int64_t dl = next_deadline(k, &idle), left;
		int np = 0;

		if (k->state == S_HANDSHAKE && az_mono_ms() >= k->handshake) {
			no_session(k);
			continue;
		}
		if (idle && az_mono_ms() >= dl) {
			/* Idle long enough, or (S_ONESHOT) time to try again. */
			unpublish(k);
			if (!busy(k)) {
				end_ssh(k, false);
				return 0;
			}
			continue;
		}
		if (!check_deadlines(k, why, sizeof(why))) {
			break;
		}
		if (k->ls >= 0) {
			pfd[np] = (struct pollfd){ .fd = k->ls, .events = POLLIN };
			who[np++] = -1;
		}
		if (k->go >= 0) {
			pfd[np] = (struct pollfd){ .fd = k->go, .events = POLLIN };
			who[np++] = -5;
		}
		if (k->out >= 0) {
			pfd[np] = (struct pollfd){ .fd = k->out, .events = POLLIN };
			who[np++] = -2;
		}
		if (k->err >= 0) {
			pfd[np] = (struct pollfd){ .fd = k->err, .events = POLLIN };
			who[np++] = -3;
		}
		if (k->in >= 0 && k->olen > 0) {
			pfd[np] = (struct pollfd){ .fd = k->in, .events = POLLOUT };
			who[np++] = -4;
		}
		for (int i = 0; i < KEEP_CLIENTS; i++) {
			if (k->c[i].state == C_READ) {
				pfd[np] = (struct pollfd){ .fd = k->c[i].fd, .events = POLLIN };
				who[np++] = i;
			}
		}
		left = dl == INT64_MAX ? 60000 : dl - az_mono_ms();
		if (left < 0) {
			left = 0;
		}
		if (poll(pfd, (nfds_t)np, (int)(left > 60000 ? 60000 : left)) < 0 &&
		    errno != EINTR) {
			snprintf(why, sizeof(why), "poll failed (%s)", strerror(errno));
			break;
		}
		bool over = false;
		for (int j = 0; j < np && !over; j++) {
			if (pfd[j].revents == 0) {
				continue;
			}
			switch (who[j]) {
			case -1:
				if (k->ls >= 0) {
					(void)accept_one(k);
				}
				break;
			case -2:
				if (k->out >= 0 && !ssh_output(k, why, sizeof(why))) {
					over = true;
				}
				break;
			case -3:
				if (k->err >= 0) {
					ssh_error(k);
				}
				break;
			case -4:
				if (k->in >= 0) {
					ssize_t w = write(k->in, k->outbuf, k->olen);
					if (w > 0) {
						memmove(k->outbuf, k->outbuf + w, k->olen - (size_t)w);
						k->olen -= (size_t)w;
					} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
						snprintf(why, sizeof(why), "the session "
						         "stopped reading");
						over = true;
					}
				}
				break;
			case -5:
				if (k->go >= 0) {
					session_start(k);
				}
				break;
			default:
				if (k->c[who[j]].state == C_READ) {
					client_read(k, who[j]);
				}
				break;
			}
		}
		if (over) {
			/* ssh's last words come after its output ends. */
			if (k->err >= 0) {
				struct pollfd p = { .fd = k->err, .events = POLLIN };
				while (k->err >= 0 && poll(&p, 1, 200) > 0) {
					ssh_error(k);
				}
			}
			break;
		}
	}
	fail_all(k, why);
	end_ssh(k, true);
	return 1;
}

int keeper_main(int argc, char **argv)
{
	static keeper_t k;	/* big: not on the stack */
	char *endp;
	int rc;

	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	k.path = argv[3];
	k.ls = 3;
	k.idle_ms = strtol(argv[2], &endp, 10);
	if (*endp != '\0' || k.idle_ms <= 0 || lstat(k.path, &k.sb) != 0 ||
	    fcntl(k.ls, F_SETFL, O_NONBLOCK) != 0) {
		return 2;
	}
	if (chdir("/") != 0) {
		return 2;
	}
	for (int i = 0; i < KEEP_CLIENTS; i++) {
		k.c[i].fd = -1;
	}
	k.last = az_mono_ms();
	k.go = 4;
	k.ssh_argv = argv + 5;
	k.ssh = -1;
	k.in = k.out = k.err = -1;
	k.state = S_START;
	k.handshake = INT64_MAX;
	rc = keeper_loop(&k);
	free(k.outbuf);
	return rc;
}
