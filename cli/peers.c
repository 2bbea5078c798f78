/* peers.c -- the other nameservers a write goes to: the peers file beside the store, its known_hosts, and the ssh command line. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "msg.h"
#include "peers.h"

char *peers_file(const cli_t *cli, const char *suffix)
{
	size_t n = strlen(cli->db), s = strlen(suffix);
	char *p = malloc(n + s + 1);

	if (p != NULL) {
		memcpy(p, cli->db, n);
		memcpy(p + n, suffix, s + 1);
	}
	return p;
}

bool peer_name_ok(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	return n > 0 && n <= PEER_NAME_MAX && name[n] == '\0' &&
	       name[0] != '-' && name[0] != '_';
}

/* A host name (letters, digits, '-', '.') or an IP address. */
static bool host_ok(const char *h)
{
	struct in6_addr a6;
	size_t n = strlen(h);

	if (inet_pton(AF_INET6, h, &a6) == 1) {
		return true;
	}
	return n > 0 && n < AZ_DOMAIN_BUFLEN && h[0] != '-' && h[0] != '.' &&
	       strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789-.") == n;
}

bool peer_parse_ssh(const char *text, peer_t *p, const char **why)
{
	const char *at = strchr(text, '@'), *h = at != NULL ? at + 1 : text;
	const char *end, *colon;
	size_t ulen = at != NULL ? (size_t)(at - text) : 0;

	p->user[0] = '\0';
	p->port = 22;
	if (at != NULL) {
		if (ulen == 0 || ulen > PEER_USER_MAX ||
		    strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789_.-") < ulen ||
		    text[0] == '-') {
			*why = "the user is not 1-32 of a-z, 0-9, '_', '.', '-'";
			return false;
		}
		memcpy(p->user, text, ulen);
		p->user[ulen] = '\0';
	}
	if (h[0] == '[') {
		end = strchr(h, ']');
		if (end == NULL) {
			*why = "an IPv6 address in brackets lacks its ']'";
			return false;
		}
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL) {
			*why = "unexpected text after ']'";
			return false;
		}
		h++;
	} else {
		colon = strchr(h, ':');
		end = colon != NULL ? colon : h + strlen(h);
	}
	if ((size_t)(end - h) >= sizeof(p->host)) {
		*why = "the host name is too long";
		return false;
	}
	memcpy(p->host, h, (size_t)(end - h));
	p->host[end - h] = '\0';
	if (!host_ok(p->host)) {
		*why = "the host is not a host name or an IP address";
		return false;
	}
	if (colon != NULL) {
		char *e;
		errno = 0;
		unsigned long port = strtoul(colon + 1, &e, 10);
		if (colon[1] < '1' || colon[1] > '9' || *e != '\0' || port > 65535) {
			*why = "the port is not 1-65535";
			return false;
		}
		p->port = (unsigned)port;
	}
	return true;
}

void peer_target(const peer_t *p, char *out, size_t size)
{
	bool v6 = strchr(p->host, ':') != NULL;

	snprintf(out, size, "%s%s%s%s%s:%u", p->user, p->user[0] != '\0' ? "@" : "",
	         v6 ? "[" : "", p->host, v6 ? "]" : "", p->port);
}

void peer_known_name(const peer_t *p, char *out, size_t size)
{
	if (p->port == 22) {
		snprintf(out, size, "%s", p->host);
	} else {
		snprintf(out, size, "[%s]:%u", p->host, p->port);
	}
}

/* One line of the peers file into *p.  \return NULL, or why not. */
static const char *parse_line(char *line, peer_t *p)
{
	const char *why = NULL;
	char *save = NULL, *f;
	bool has_ssh = false;

	memset(p, 0, sizeof(*p));
	f = strtok_r(line, " \t", &save);
	if (f == NULL || !peer_name_ok(f)) {
		return "the peer's name is not 1-32 of a-z, 0-9, '_', '-'";
	}
	strcpy(p->name, f);
	while ((f = strtok_r(NULL, " \t", &save)) != NULL) {
		struct in6_addr a;
		if (strncmp(f, "ssh=", 4) == 0 && !has_ssh) {
			if (!peer_parse_ssh(f + 4, p, &why)) {
				return why;
			}
			has_ssh = true;
		} else if (strncmp(f, "key=", 4) == 0 && p->key[0] == '\0') {
			if (f[4] != '/' || strlen(f + 4) >= sizeof(p->key)) {
				return "key= is not an absolute path";
			}
			strcpy(p->key, f + 4);
		} else if (strncmp(f, "address=", 8) == 0 && p->naddr < CLI_MAX_ADDRS) {
			if (inet_pton(AF_INET, f + 8, &a) != 1 &&
			    inet_pton(AF_INET6, f + 8, &a) != 1) {
				return "address= is not an IPv4 or IPv6 address";
			}
			snprintf(p->addr[p->naddr++], sizeof(p->addr[0]), "%s", f + 8);
		} else {
			return "a field is unknown, repeated or one too many";
		}
	}
	if (!has_ssh) {
		return "the line has no ssh=";
	}
	return NULL;
}

/*
 * Is the file behind fd, at path, one only root and the caller could have
 * written (and its directory one only they could change)?
 */
static const char *untrusted(int fd, const char *path)
{
	struct stat sb;
	char *dir = strdup(path), *slash;
	const char *why = NULL;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		why = "it is not a regular file";
	} else if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		why = "another user owns it";
	} else if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		why = "others may write it";
	} else if (dir == NULL) {
		why = "out of memory";
	} else {
		slash = strrchr(dir, '/');
		if (slash == dir) {
			slash[1] = '\0';
		} else if (slash != NULL) {
			*slash = '\0';
		} else {
			strcpy(dir, ".");
		}
		if (stat(dir, &sb) != 0 || (sb.st_uid != 0 && sb.st_uid != geteuid()) ||
		    (sb.st_mode & (S_IWGRP | S_IWOTH))) {
			why = "its directory is not root's or the caller's alone";
		}
	}
	free(dir);
	return why;
}

int peers_load(const cli_t *cli, peers_t *ps)
{
	char *path = peers_file(cli, PEERS_SUFFIX), line[PEERS_LINE_MAX + 2];
	char q[CLI_QUOTE_MAX];
	const char *why;
	unsigned long n = 0;
	FILE *f = NULL;
	int fd = -1, rc = RC_OK;

	ps->n = 0;
	if (path == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) {
			cli_err(cli, "cannot read '%s' (%s)", quote(path, q), strerror(errno));
			rc = RC_STORE;
		}
		goto out;
	}
	if ((why = untrusted(fd, path)) != NULL) {
		cli_err(cli, "cannot use '%s' (not trusted: %s)", quote(path, q), why);
		rc = RC_STORE;
		goto out;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		cli_err(cli, "cannot read '%s' (%s)", quote(path, q), strerror(errno));
		rc = RC_STORE;
		goto out;
	}
	fd = -1;
	while (rc == RC_OK && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		n++;
		if (len > 0 && line[len - 1] == '\n') {
			line[--len] = '\0';
		} else if (len > PEERS_LINE_MAX) {
			why = "the line is too long";
			goto bad;
		}
		if (line[strspn(line, " \t")] == '\0' || line[strspn(line, " \t")] == '#') {
			continue;
		}
		if (ps->n == PEERS_MAX) {
			why = "more than 16 peers";
			goto bad;
		}
		if ((why = parse_line(line, &ps->p[ps->n])) != NULL) {
			goto bad;
		}
		for (int i = 0; i < ps->n; i++) {
			if (strcmp(ps->p[i].name, ps->p[ps->n].name) == 0) {
				why = "the peer's name is there twice";
				goto bad;
			}
		}
		ps->n++;
		continue;
bad:
		cli_err(cli, "'%s' line %lu: %s", quote(path, q), n, why);
		rc = RC_STORE;
	}
	if (rc == RC_OK && ferror(f)) {
		cli_err(cli, "cannot read '%s' (%s)", quote(path, q), strerror(errno));
		rc = RC_STORE;
	}
out:
	if (f != NULL) {
		fclose(f);
	}
	if (fd >= 0) {
		close(fd);
	}
	free(path);
	return rc;
}

/*
 * Replace the side file cli->db + suffix: write() fills a new file beside
 * it (mode 0644), which is flushed to disk and renamed over it, so that a
 * reader sees the old file or the new one, never a part.
 * \return RC_OK or RC_STORE, message printed.
 */
static int replace_file(const cli_t *cli, const char *suffix,
                        void (*write)(FILE *out, const void *ctx), const void *ctx)
{
	char *path = peers_file(cli, suffix), *tmp = NULL, q[CLI_QUOTE_MAX];
	size_t n = path != NULL ? strlen(path) : 0;
	FILE *f = NULL;
	int fd = -1, rc = RC_STORE;

	tmp = path != NULL ? malloc(n + 5) : NULL;
	if (tmp == NULL) {
		cli_err(cli, "out of memory");
		goto out;
	}
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp", 5);
	(void)unlink(tmp);	/* a leftover of a killed 'peer' */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) != 0 || (f = fdopen(fd, "w")) == NULL) {
		cli_err(cli, "cannot write '%s' (%s)", quote(tmp, q), strerror(errno));
		goto out;
	}
	fd = -1;
	write(f, ctx);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		cli_err(cli, "cannot write '%s' (%s)", quote(tmp, q), strerror(errno));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		cli_err(cli, "cannot replace '%s' (%s)", quote(path, q), strerror(errno));
		goto out;
	}
	rc = RC_OK;
out:
	if (f != NULL) {
		fclose(f);
	}
	if (fd >= 0) {
		close(fd);
	}
	if (rc != RC_OK && tmp != NULL) {
		(void)unlink(tmp);
	}
	free(path);
	free(tmp);
	return rc;
}

typedef struct {
	const cli_t *cli;
	const peers_t *ps;
} save_ctx_t;

static void write_peers(FILE *f, const void *ctx)
{
	const save_ctx_t *c = ctx;
	char target[AZ_DOMAIN_BUFLEN + 64];

	fprintf(f, "# acmezone peers of %s, written by 'acmezone peer'\n", c->cli->db);
	for (int i = 0; i < c->ps->n; i++) {
		const peer_t *p = &c->ps->p[i];
		peer_target(p, target, sizeof(target));
		fprintf(f, "%s ssh=%s", p->name, target);
		if (p->key[0] != '\0') {
			fprintf(f, " key=%s", p->key);
		}
		for (int a = 0; a < p->naddr; a++) {
			fprintf(f, " address=%s", p->addr[a]);
		}
		fputc('\n', f);
	}
}

int peers_save(const cli_t *cli, const peers_t *ps)
{
	save_ctx_t c = { cli, ps };

	return replace_file(cli, PEERS_SUFFIX, write_peers, &c);
}

int peers_ssh_dir(const cli_t *cli, char *out, size_t size)
{
	const char *env = getenv("ACMEZONE_SSH_DIR"), *run = getenv("XDG_RUNTIME_DIR");
	char q[CLI_QUOTE_MAX];
	struct stat sb;

	if (env != NULL && env[0] == '/') {
		snprintf(out, size, "%s", env);
	} else if (run != NULL && run[0] == '/') {
		snprintf(out, size, "%s/acmezone-ssh", run);
	} else {
		snprintf(out, size, "/tmp/acmezone-ssh-%lu", (unsigned long)geteuid());
	}
	/* Sockets are DIR/ and 40 hex digits: they must fit in sun_path. */
	if (strlen(out) > 60) {
		cli_err(cli, "the ssh control directory '%s' is too long for "
		        "socket paths (at most 60 octets)", quote(out, q));
		return RC_STORE;
	}
	if (mkdir(out, 0700) != 0 && errno != EEXIST) {
		cli_err(cli, "cannot make '%s' (%s)", quote(out, q), strerror(errno));
		return RC_STORE;
	}
	if (lstat(out, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077) != 0) {
		cli_err(cli, "the ssh control directory '%s' is not a directory "
		        "of this user's that only it may enter", quote(out, q));
		return RC_STORE;
	}
	return RC_OK;
}

void peer_ssh_argv(const cli_t *cli, const peer_t *p, const char *ssh_dir,
                   const char *known_hosts, int connect_s, const char *command,
                   char **argv, char *buf, size_t size)
{
	int n = 0;
	size_t used = 0;

	(void)cli;
#define ARG(...) do { \
		int len_ = snprintf(buf + used, size - used, __VA_ARGS__); \
		argv[n++] = buf + used; \
		used += (size_t)len_ + 1; \
	} while (0)
	ARG("ssh");
	ARG("-F");			/* no ssh_config: this line is all */
	ARG("none");
	ARG("-T");
	ARG("-x");
	ARG("-a");
	ARG("-oBatchMode=yes");
	ARG("-oConnectTimeout=%d", connect_s);
	ARG("-oServerAliveInterval=2");
	ARG("-oServerAliveCountMax=3");
	ARG("-oStrictHostKeyChecking=yes");
	ARG("-oUserKnownHostsFile=%s", known_hosts);
	ARG("-oGlobalKnownHostsFile=/dev/null");
	ARG("-oUpdateHostKeys=no");
	ARG("-oControlMaster=auto");
	ARG("-oControlPath=%s/%%C", ssh_dir);
	ARG("-oControlPersist=60");
	ARG("-oClearAllForwardings=yes");
	ARG("-oIdentityAgent=none");
	ARG("-oLogLevel=ERROR");
	if (p->key[0] != '\0') {
		ARG("-oIdentitiesOnly=yes");
		ARG("-i");
		ARG("%s", p->key);
	}
	ARG("-p");
	ARG("%u", p->port);
	if (p->user[0] != '\0') {
		ARG("-l");
		ARG("%s", p->user);
	}
	ARG("--");
	ARG("%s", p->host);
	ARG("%s", command);
	argv[n] = NULL;
#undef ARG
}

/* "TYPE BASE64" of an OpenSSH public key line, into out.  \return false if not one. */
static bool pubkey(char *line, char *out, size_t size)
{
	char *save = NULL, *type = strtok_r(line, " \t\r\n", &save);
	char *b64 = strtok_r(NULL, " \t\r\n", &save);

	if (type == NULL || b64 == NULL || strlen(type) > 64 || strlen(b64) > 8192 ||
	    strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789-@.") != strlen(type) ||
	    strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                "0123456789+/=") != strlen(b64)) {
		return false;
	}
	return (size_t)snprintf(out, size, "%s %s", type, b64) < size;
}

typedef struct {
	const char *path;		/* the known_hosts file now */
	const char *name;		/* the peer as known_hosts names it */
	const char *key;		/* "TYPE BASE64", or NULL */
} pin_ctx_t;

/* The known_hosts file without the peer's lines, then its new one. */
static void write_known(FILE *out, const void *ctx)
{
	const pin_ctx_t *c = ctx;
	size_t nlen = strlen(c->name);
	char line[8400];
	FILE *in = fopen(c->path, "re");

	while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, c->name, nlen) == 0 &&
		    (line[nlen] == ' ' || line[nlen] == '\t')) {
			continue;	/* this peer's: replaced */
		}
		fputs(line, out);
	}
	if (in != NULL) {
		fclose(in);
	}
	if (c->key != NULL) {
		fprintf(out, "%s %s\n", c->name, c->key);
	}
}

int peers_pin(const cli_t *cli, const peer_t *p, const char *pub)
{
	char *path = peers_file(cli, KNOWN_HOSTS_SUFFIX);
	char name[AZ_DOMAIN_BUFLEN + 16], key[8300], line[8400], q[CLI_QUOTE_MAX];
	pin_ctx_t c = { path, name, NULL };
	int rc = RC_STORE;

	if (path == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	peer_known_name(p, name, sizeof(name));
	if (pub != NULL) {
		FILE *f = fopen(pub, "re");
		bool ok = f != NULL && fgets(line, sizeof(line), f) != NULL &&
		          pubkey(line, key, sizeof(key));
		if (f == NULL) {
			cli_err(cli, "cannot read '%s' (%s)", quote(pub, q), strerror(errno));
			goto done;
		}
		fclose(f);
		if (!ok) {
			cli_err(cli, "'%s' is not an OpenSSH public key file (TYPE BASE64 "
			        "[COMMENT])", quote(pub, q));
			rc = RC_INPUT;
			goto done;
		}
		c.key = key;
	}
	rc = replace_file(cli, KNOWN_HOSTS_SUFFIX, write_known, &c);
done:
	free(path);
	return rc;
}

void peer_show(const cli_t *cli, const peers_t *ps, json_t *j,
               const char *const *state, const long *pid)
{
	char target[AZ_DOMAIN_BUFLEN + 64];

	if (j != NULL) {
		json_begin(j, '[');
	}
	for (int i = 0; i < ps->n; i++) {
		const peer_t *p = &ps->p[i];
		peer_target(p, target, sizeof(target));
		if (j != NULL) {
			json_begin(j, '{');
			json_key(j, "name");
			json_str(j, p->name);
			json_key(j, "ssh");
			json_str(j, target);
			json_key(j, "key");
			json_str_or_null(j, p->key[0] != '\0' ? p->key : NULL);
			json_key(j, "addresses");
			json_begin(j, '[');
			for (int a = 0; a < p->naddr; a++) {
				json_str(j, p->addr[a]);
			}
			json_end(j);
			if (state != NULL) {
				json_key(j, "session");
				json_str(j, state[i]);
				json_key(j, "keeper_pid");
				if (pid[i] > 0) {
					json_int(j, pid[i]);
				} else {
					json_str_or_null(j, NULL);
				}
			}
			json_end(j);
			continue;
		}
		printf("peer %s ssh %s key %s addresses", p->name, target,
		       p->key[0] != '\0' ? p->key : "(ssh's default)");
		for (int a = 0; a < p->naddr; a++) {
			printf(" %s", p->addr[a]);
		}
		if (state != NULL) {
			printf(" session %s", state[i]);
			if (pid[i] > 0) {
				printf(" keeper %ld", pid[i]);
			}
		}
		putchar('\n');
	}
	if (j != NULL) {
		json_end(j);
	}
	(void)cli;
}

int peer_master_exit(const char *path)
{
	char opt[PATH_MAX + 32];
	char *argv[] = { "ssh", "-F", "none", "-oLogLevel=QUIET", opt, "-O", "exit", "x", NULL };
	int st = -1, null;
	pid_t pid;

	snprintf(opt, sizeof(opt), "-oControlPath=%s", path);
	pid = fork();
	if (pid == 0) {
		null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) {
			_exit(127);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? RC_OK : RC_STORE;
}
