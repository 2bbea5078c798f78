/* fanout.c -- one write on every peer at once: an ssh process per peer carrying the whole batch, answers read against a deadline. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fanout.h"
#include "keeper.h"
#include "msg.h"

#define ERR_KEEP	1024		/* octets of ssh's stderr kept */
#define CONNECT_MAX_S	10		/* ssh ConnectTimeout, at most */

/* One ssh process and what it said. */
typedef struct {
	const peer_t *p;
	pid_t pid;
	int in, out, err;
	const char *data;		/* its standard input */
	size_t len, sent;
	char line[PROTO_LINE_MAX + 2];
	size_t llen;
	char errbuf[ERR_KEEP + 1];
	size_t elen;
	bool exited, timed_out, stopped;
	bool kept;			/* talking to a keeper (keeper.h), not ssh */
	unsigned long lines;		/* answer lines taken */
	int wstatus;
	int64_t deadline;		/* az_mono_ms() */
	int go;				/* keeper_open()'s *go, or -1 */
	bool (*on_line)(char *text, void *ctx);	/* false: stop, kill */
	void *ctx;
	char bad[160];			/* why the answer was refused */
} run_t;

/* One peer's part of a fan-out. */
typedef struct {
	run_t run;
	const char *id;
	size_t nops;
	bool head, final_seen;
	proto_reply_kind_t final;
	unsigned long oks;
	char reason[512];
	bool line_reason;		/* reason: a refused or failed line */
} peer_run_t;

struct fanout {
	peers_t ps;
	peer_run_t r[PEERS_MAX];
	int n;
	char id[PROTO_ID_LEN + 1];
	int64_t deadline;
};

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * Every descriptor we make is close-on-exec, so a child (and the ssh
 * control master it may leave running) holds no other child's pipe open:
 * each answer ends when its own ssh does.
 */
bool fanout_spawn(char *const *argv, fanout_proc_t *p)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, e;

	p->in = p->out = p->err = -1;
	p->pid = -1;
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(err, O_CLOEXEC) != 0) {
		goto fail;
	}
	p->pid = fork();
	if (p->pid < 0) {
		goto fail;
	}
	if (p->pid == 0) {
		/* dup2() clears close-on-exec on the copies only. */
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) {
			_exit(127);
		}
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s (%s)\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	p->in = in[1];
	p->out = out[0];
	p->err = err[0];
	(void)fcntl(p->in, F_SETFL, O_NONBLOCK);
	(void)fcntl(p->out, F_SETFL, O_NONBLOCK);
	(void)fcntl(p->err, F_SETFL, O_NONBLOCK);
	return true;
fail:
	e = errno;
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&err[i]);
	}
	p->pid = -1;
	errno = e;
	return false;
}

static bool spawn(run_t *r, char **argv)
{
	fanout_proc_t p;

	if (!fanout_spawn(argv, &p)) {
		r->in = r->out = r->err = -1;
		r->pid = -1;
		return false;
	}
	r->pid = p.pid;
	r->in = p.in;
	r->out = p.out;
	r->err = p.err;
	if (r->len == 0) {
		close_fd(&r->in);
	}
	return true;
}

/*
 * Hand the batch to the peer's keeper instead (one socket both ways: in
 * a copy of it, closed when the batch is written).  \return false: none.
 */
static bool keep(cli_t *cli, run_t *r, const char *dir, char **argv)
{
	int64_t left = r->deadline - az_mono_ms();
	int fd = left > 0 ? keeper_open(cli, dir, argv, r->len, left, &r->go) : -1;

	if (fd < 0) {
		return false;
	}
	r->pid = -1;
	r->out = fd;
	r->err = -1;
	r->in = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (r->in < 0) {
		close_fd(&r->out);
		return false;
	}
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	r->kept = true;
	r->exited = true;		/* no process of ours to reap */
	return true;
}

/* Stop reading r: close its pipes, kill it (ours, by pid), reap it. */
static void stop(run_t *r)
{
	close_fd(&r->in);
	close_fd(&r->out);
	close_fd(&r->err);
	if (r->pid > 0 && !r->exited) {
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, &r->wstatus, 0) < 0 && errno == EINTR) {
		}
		r->exited = true;
	}
	r->stopped = true;
}

static void take_error(run_t *r, const char *buf, size_t n);

/* A line of the keeper's own ("keeper " and this).  \return false: stop r. */
static bool keeper_line(run_t *r, const char *text)
{
	if (strcmp(text, "oneshot") == 0 && r->lines == 0) {
		return false;		/* fanout_finish() runs ssh itself */
	}
	if (strncmp(text, "failed ", 7) == 0) {
		take_error(r, text + 7, strlen(text + 7));
		take_error(r, "\n", 1);
		return true;
	}
	snprintf(r->bad, sizeof(r->bad), "its keeper said something unknown");
	return false;
}

/* New output of r: whole lines to on_line(); false once it refused one. */
static bool take_output(run_t *r, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			r->line[r->llen] = '\0';
			r->llen = 0;
			if (r->kept && strncmp(r->line, "keeper ", 7) == 0) {
				if (!keeper_line(r, r->line + 7)) {
					return false;
				}
				continue;
			}
			r->lines++;
			if (!r->on_line(r->line, r->ctx)) {
				if (r->bad[0] == '\0') {
					snprintf(r->bad, sizeof(r->bad),
					         "answered a line that is not the protocol");
				}
				return false;
			}
		} else if (buf[i] == '\0' || r->llen == PROTO_LINE_MAX) {
			snprintf(r->bad, sizeof(r->bad), "answered a line that is %s",
			         buf[i] == '\0' ? "not text" : "too long");
			return false;
		} else {
			r->line[r->llen++] = buf[i];
		}
	}
	return true;
}

static void take_error(run_t *r, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (r->elen == ERR_KEEP) {
			memmove(r->errbuf, r->errbuf + ERR_KEEP / 2, ERR_KEEP / 2);
			r->elen = ERR_KEEP / 2;
		}
		r->errbuf[r->elen++] = buf[i];
	}
	r->errbuf[r->elen] = '\0';
}

/* The last non-empty line ssh wrote on stderr, escaped ("" if none). */
static const char *last_error(run_t *r, char out[CLI_QUOTE_MAX])
{
	char *end = r->errbuf + r->elen, *start;

	while (end > r->errbuf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ')) {
		end--;
	}
	*end = '\0';
	start = strrchr(r->errbuf, '\n');
	start = start != NULL ? start + 1 : r->errbuf;
	return quote(start, out);
}

/*
 * Drive every run until each has ended or deadline_ms passed: write its
 * input, read its output and error.  SIGPIPE is ignored meanwhile (a
 * peer's ssh may exit before it has read all of the batch).
 */
static void drive(run_t **runs, int n, int64_t deadline_ms)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct pollfd pfd[PEERS_MAX * 3];
	run_t *who[PEERS_MAX * 3];
	char buf[16384];

	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	for (;;) {
		int np = 0;
		for (int i = 0; i < n; i++) {
			run_t *r = runs[i];
			if (r->stopped) {
				continue;
			}
			if (r->out < 0 && r->err < 0) {
				close_fd(&r->in);
				while (!r->exited && waitpid(r->pid, &r->wstatus, 0) < 0 &&
				       errno == EINTR) {
				}
				r->exited = true;
				r->stopped = true;
				continue;
			}
			if (r->in >= 0) {
				pfd[np] = (struct pollfd){ .fd = r->in, .events = POLLOUT };
				who[np++] = r;
			}
			if (r->out >= 0) {
				pfd[np] = (struct pollfd){ .fd = r->out, .events = POLLIN };
				who[np++] = r;
			}
			if (r->err >= 0) {
				pfd[np] = (struct pollfd){ .fd = r->err, .events = POLLIN };
				who[np++] = r;
			}
		}
		if (np == 0) {
			break;
		}
		int64_t left = deadline_ms - az_mono_ms();
		if (left <= 0) {
			for (int i = 0; i < n; i++) {
				if (!runs[i]->stopped) {
					runs[i]->timed_out = true;
					stop(runs[i]);
				}
			}
			break;
		}
		int ret = poll(pfd, (nfds_t)np, (int)(left > 1000 ? 1000 : left));
		if (ret < 0 && errno != EINTR) {
			for (int i = 0; i < n; i++) {
				stop(runs[i]);
			}
			break;
		}
		for (int k = 0; ret > 0 && k < np; k++) {
			run_t *r = who[k];
			if (pfd[k].revents == 0 || r->stopped) {
				continue;
			}
			if (pfd[k].fd == r->in) {
				ssize_t w = write(r->in, r->data + r->sent, r->len - r->sent);
				if (w > 0) {
					r->sent += (size_t)w;
				}
				if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
				    r->sent == r->len) {
					close_fd(&r->in);	/* done, or it went away */
				}
				continue;
			}
			ssize_t got = read(pfd[k].fd, buf, sizeof(buf));
			if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
				continue;
			}
			if (got <= 0) {
				if (pfd[k].fd == r->out && r->llen > 0) {
					snprintf(r->bad, sizeof(r->bad),
					         "ended its answer in the middle of a line");
					stop(r);
					continue;
				}
				close_fd(pfd[k].fd == r->out ? &r->out : &r->err);
			} else if (pfd[k].fd == r->err) {
				take_error(r, buf, (size_t)got);
			} else if (!take_output(r, buf, (size_t)got)) {
				stop(r);	/* it said something we cannot accept */
			}
		}
	}
	sigaction(SIGPIPE, &old, NULL);
}

static int connect_seconds(const cli_t *cli)
{
	int s = (cli->peer_timeout_ms + 999) / 1000;

	return s > CONNECT_MAX_S ? CONNECT_MAX_S : s;
}

/* p's ssh command line for command, into argv (strings in *buf, to free)
 * and the control directory into dir.  \return false (*why set). */
static bool ssh_line(const cli_t *cli, const peer_t *p, const char *command, char **argv,
                     char **buf, char dir[PATH_MAX], char *why, size_t why_size)
{
	char *known = peers_file(cli, KNOWN_HOSTS_SUFFIX);
	bool ok = false;

	*buf = malloc(PEER_SSH_BUF);
	if (known == NULL || *buf == NULL) {
		snprintf(why, why_size, "out of memory");
	} else if (peers_ssh_dir(cli, dir, PATH_MAX) != RC_OK) {
		snprintf(why, why_size, "no ssh control directory");
	} else {
		peer_ssh_argv(cli, p, dir, known, connect_seconds(cli), command, argv,
		              *buf, PEER_SSH_BUF);
		ok = true;
	}
	free(known);
	return ok;
}

/*
 * Set up r to run command on p with input in: through p's keeper if kept
 * (a write batch, --peer-keep not 0), else with an ssh of its own.
 */
static bool run_setup(cli_t *cli, run_t *r, const peer_t *p, const char *command,
                      const char *in, size_t len, int64_t deadline, bool kept,
                      char *why, size_t why_size)
{
	char dir[PATH_MAX], *argv[PEER_SSH_ARGS], *buf = NULL;
	bool ok;

	memset(r, 0, sizeof(*r));
	r->in = r->out = r->err = r->go = -1;
	r->p = p;
	r->data = in;
	r->len = len;
	r->deadline = deadline;
	ok = ssh_line(cli, p, command, argv, &buf, dir, why, why_size);
	if (ok) {
		ok = (kept && keep(cli, r, dir, argv)) || spawn(r, argv);
		if (!ok) {
			snprintf(why, why_size, "cannot start ssh (%s)", strerror(errno));
		}
	}
	free(buf);
	return ok;
}

void fanout_unkeep(const cli_t *cli, const peer_t *p)
{
	char dir[PATH_MAX], *argv[PEER_SSH_ARGS], *buf = NULL, why[128];

	if (ssh_line(cli, p, PROTO_COMMAND, argv, &buf, dir, why, sizeof(why))) {
		(void)keeper_close(dir, argv);
	}
	free(buf);
}

const char *fanout_kept(const cli_t *cli, const peer_t *p, long *pid)
{
	char dir[PATH_MAX], *argv[PEER_SSH_ARGS], *buf = NULL, why[128];
	const char *state = "unknown";

	*pid = 0;
	if (ssh_line(cli, p, PROTO_COMMAND, argv, &buf, dir, why, sizeof(why))) {
		state = keeper_state(dir, argv, pid);
	}
	free(buf);
	return state;
}

/*** The batch fan-out. ***/

/* One answer line of a peer to its batch. */
static bool reply_line(char *text, void *ctx)
{
	peer_run_t *pr = ctx;
	char q[CLI_QUOTE_MAX];
	proto_reply_t rep;

	if (pr->final_seen) {
		snprintf(pr->run.bad, sizeof(pr->run.bad), "answered after its status line");
		return false;
	}
	quote(text, q);
	if (!proto_parse_reply(text, pr->id, &rep) || (pr->head != (rep.kind != REPLY_HEAD))) {
		snprintf(pr->run.bad, sizeof(pr->run.bad), "answered garbage or for "
		         "another batch: '%.100s'", q);
		return false;
	}
	switch (rep.kind) {
	case REPLY_HEAD:
		pr->head = true;
		break;
	case REPLY_OK:
		pr->oks++;
		break;
	case REPLY_REFUSED:
	case REPLY_FAILED:
		if (!pr->line_reason) {
			snprintf(pr->reason, sizeof(pr->reason), "operation %lu %s: %s",
			         rep.n, rep.kind == REPLY_REFUSED ? "refused" : "failed",
			         quote(rep.text, q));
			pr->line_reason = true;
		}
		break;
	case REPLY_PEER:
		if (strcmp(rep.text + strcspn(rep.text, " "), " ok") != 0) {
			cli_warn("peer %s: its peer %s", pr->run.p->name, quote(rep.text, q));
		}
		break;
	default:
		pr->final_seen = true;
		pr->final = rep.kind;
		if (!pr->line_reason) {
			snprintf(pr->reason, sizeof(pr->reason), "%s", quote(rep.text, q));
		}
		break;
	}
	return true;
}

int fanout_start(cli_t *cli, const peers_t *ps, const proto_buf_t *batch,
                 const char *id, fanout_t **out)
{
	fanout_t *fo;
	char why[256];

	*out = NULL;
	if (cli->peers == PEERS_NONE || ps->n == 0) {
		return RC_OK;
	}
	fo = calloc(1, sizeof(*fo));
	if (fo == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	fo->ps = *ps;
	if (batch->oom) {
		cli_err(cli, "out of memory");
		free(fo);
		return RC_STORE;
	}
	memcpy(fo->id, id, sizeof(fo->id));
	fo->deadline = az_mono_ms() + cli->peer_timeout_ms;
	for (int i = 0; i < fo->ps.n; i++) {
		peer_run_t *pr = &fo->r[i];
		if (!run_setup(cli, &pr->run, &fo->ps.p[i], PROTO_COMMAND, batch->buf,
		               batch->len, fo->deadline, true, why, sizeof(why))) {
			cli_err(cli, "peer %s: %s", fo->ps.p[i].name, why);
			fo->n = i;
			(void)fanout_finish(cli, fo, NULL);
			return RC_STORE;
		}
		pr->run.on_line = reply_line;
		pr->run.ctx = pr;
		pr->id = fo->id;
		pr->nops = batch->nops;
		fo->n = i + 1;
	}
	*out = fo;
	return RC_OK;
}

/* Did the peer answer at all?  (If not it is unreachable: skippable.) */
static bool reached(const peer_run_t *pr)
{
	return pr->head;
}

/* Why pr failed, in a phrase; "" if it did not. */
static void peer_why(const cli_t *cli, peer_run_t *pr, char *why, size_t size)
{
	char q[CLI_QUOTE_MAX], secs[CLI_TIME_MAX];
	run_t *r = &pr->run;
	const char *err = last_error(r, q);

	why[0] = '\0';
	if (r->bad[0] != '\0') {
		snprintf(why, size, "%s", r->bad);
	} else if (r->timed_out) {
		fmt_seconds(cli->peer_timeout_ms, secs);
		snprintf(why, size, "no %s within %s (--peer-timeout)%s%s",
		         pr->head ? "status" : "answer", secs, err[0] ? ": " : "", err);
	} else if (!pr->head) {
		snprintf(why, size, "%s", err[0] != '\0' ? err :
		         "ssh ended without an answer");
	} else if (!pr->final_seen) {
		snprintf(why, size, "the answer ended without a status line%s%s",
		         err[0] ? ": " : "", err);
	} else if (pr->final != REPLY_STATUS_OK && pr->line_reason) {
		snprintf(why, size, "%s", pr->reason);
	} else if (pr->final != REPLY_STATUS_OK) {
		snprintf(why, size, "%s%s%s", pr->reason, err[0] ? ": " : "", err);
	} else if (pr->oks != pr->nops) {
		snprintf(why, size, "confirmed %lu of %zu operations", pr->oks, pr->nops);
	} else if (!WIFEXITED(r->wstatus) || WEXITSTATUS(r->wstatus) != 0) {
		snprintf(why, size, "ssh exited with status %d after the answer",
		         WIFEXITED(r->wstatus) ? WEXITSTATUS(r->wstatus) : 128);
	}
}

int fanout_finish(cli_t *cli, fanout_t *fo, void (*lines)(const char *text))
{
	run_t *runs[PEERS_MAX];
	char why[1024], text[1200], target[AZ_DOMAIN_BUFLEN + 64];
	int rc = RC_OK;

	if (fo == NULL) {
		return RC_OK;
	}
	for (int i = 0; i < fo->n; i++) {
		runs[i] = &fo->r[i].run;
	}
	drive(runs, fo->n, fo->deadline);
	for (int i = 0; i < fo->n; i++) {
		close_fd(&fo->r[i].run.go);	/* a keeper we started: go on */
	}
	/* Peers whose keeper did not carry the batch (it has no session yet,
	 * or its peer has none, or the session ended before any answer):
	 * an ssh of their own, in the time left.  A batch is a set of adds
	 * and deletes: applying it twice changes nothing. */
	int again = 0;
	for (int i = 0; i < fo->n; i++) {
		run_t *r = &fo->r[i].run;
		if (r->kept && !r->timed_out && r->bad[0] == '\0' && r->lines == 0) {
			if (!run_setup(cli, r, &fo->ps.p[i], PROTO_COMMAND, r->data, r->len,
			               fo->deadline, false, why, sizeof(why))) {
				snprintf(r->bad, sizeof(r->bad), "%.150s", why);
				continue;
			}
			r->on_line = reply_line;
			r->ctx = &fo->r[i];
			runs[again++] = r;
		}
	}
	if (again > 0) {
		drive(runs, again, fo->deadline);
	}
	for (int i = 0; i < fo->n; i++) {
		peer_run_t *pr = &fo->r[i];
		stop(&pr->run);
		peer_why(cli, pr, why, sizeof(why));
		peer_target(pr->run.p, target, sizeof(target));
		if (why[0] == '\0') {
			snprintf(text, sizeof(text), "%s ok", pr->run.p->name);
		} else if (!reached(pr) && cli->peers == PEERS_REACHABLE) {
			cli_warn("peer %s (%s) skipped, unreachable (--peers reachable): %s",
			         pr->run.p->name, target, why);
			snprintf(text, sizeof(text), "%s skipped %s", pr->run.p->name, why);
		} else {
			cli_err(cli, "peer %s (%s) failed: %s", pr->run.p->name, target, why);
			snprintf(text, sizeof(text), "%s failed %s", pr->run.p->name, why);
			rc = RC_DNS;
		}
		if (lines != NULL) {
			lines(text);
		}
	}
	free(fo);
	return rc;
}

/*** One exchange with one peer (sync). ***/

int fanout_run_one(cli_t *cli, const peer_t *p, const char *command,
                   const char *in, size_t len, int64_t deadline_ms,
                   bool (*line)(char *text, void *ctx), void *ctx,
                   char *why, size_t why_size)
{
	char q[CLI_QUOTE_MAX], secs[CLI_TIME_MAX];
	run_t r, *runs[1] = { &r };

	if (!run_setup(cli, &r, p, command, in, len, deadline_ms, false, why, why_size)) {
		return RC_STORE;
	}
	r.on_line = line;
	r.ctx = ctx;
	drive(runs, 1, deadline_ms);
	stop(&r);
	why[0] = '\0';
	if (r.bad[0] != '\0') {
		snprintf(why, why_size, "%s", r.bad);
	} else if (r.timed_out) {
		fmt_seconds(cli->peer_timeout_ms, secs);
		snprintf(why, why_size, "no end of the answer within %s (--peer-timeout)",
		         secs);
	} else if (!WIFEXITED(r.wstatus) || WEXITSTATUS(r.wstatus) != 0) {
		const char *err = last_error(&r, q);
		snprintf(why, why_size, "%s", err[0] != '\0' ? err : "ssh failed");
	}
	return why[0] == '\0' ? RC_OK : RC_DNS;
}
