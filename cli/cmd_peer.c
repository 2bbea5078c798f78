/* cmd_peer.c -- 'peer add|del|list': the other nameservers every write goes to. */
/* SPDX-License-Identifier: MIT */

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "fanout.h"
#include "json.h"
#include "keeper.h"
#include "msg.h"
#include "opts.h"
#include "peers.h"

static int peer_add(cli_t *cli, peers_t *ps, const char *name)
{
	char q[CLI_QUOTE_MAX];
	const char *why = NULL;
	struct in6_addr a;
	peer_t *p;
	int rc;

	if (cli->ssh == NULL || cli->naddr == 0) {
		return cli_usage(cli, "peer add needs --ssh [USER@]HOST[:PORT] and "
		                 "at least one --address IP");
	}
	for (int i = 0; i < ps->n; i++) {
		if (strcmp(ps->p[i].name, name) == 0) {
			cli_err(cli, "there is a peer '%s' already ('peer del' it first)", name);
			return RC_INPUT;
		}
	}
	if (ps->n == PEERS_MAX) {
		cli_err(cli, "at most %d peers", PEERS_MAX);
		return RC_INPUT;
	}
	p = &ps->p[ps->n];
	memset(p, 0, sizeof(*p));
	strcpy(p->name, name);
	if (!peer_parse_ssh(cli->ssh, p, &why)) {
		cli_err(cli, "'%s' is not [USER@]HOST[:PORT] (%s)", quote(cli->ssh, q), why);
		return RC_INPUT;
	}
	if (cli->key != NULL) {
		if (cli->key[0] != '/' || strlen(cli->key) >= sizeof(p->key) ||
		    strpbrk(cli->key, " \t\n") != NULL) {
			cli_err(cli, "'%s' is not an absolute path without blanks",
			        quote(cli->key, q));
			return RC_INPUT;
		}
		strcpy(p->key, cli->key);
	}
	for (int i = 0; i < cli->naddr; i++) {
		if (inet_pton(AF_INET, cli->addr[i], &a) != 1 &&
		    inet_pton(AF_INET6, cli->addr[i], &a) != 1) {
			cli_err(cli, "'%s' is not an IPv4 or IPv6 address",
			        quote(cli->addr[i], q));
			return RC_INPUT;
		}
		snprintf(p->addr[i], sizeof(p->addr[i]), "%s", cli->addr[i]);
	}
	p->naddr = cli->naddr;
	/* The host key first: a peer is never listed without its pin. */
	if (cli->host_key != NULL && (rc = peers_pin(cli, p, cli->host_key)) != RC_OK) {
		return rc;
	}
	ps->n++;
	return peers_save(cli, ps);
}

static int peer_del(cli_t *cli, peers_t *ps, const char *name)
{
	int rc;

	for (int i = 0; i < ps->n; i++) {
		if (strcmp(ps->p[i].name, name) == 0) {
			peer_t gone = ps->p[i];
			memmove(&ps->p[i], &ps->p[i + 1], (size_t)(ps->n - i - 1) * sizeof(ps->p[0]));
			ps->n--;
			rc = peers_save(cli, ps);
			/* Its keeper, before the pin goes (its command line names
			 * the known_hosts file, not the key in it). */
			fanout_unkeep(cli, &gone);
			return rc == RC_OK ? peers_pin(cli, &gone, NULL) : rc;
		}
	}
	cli_err(cli, "there is no peer '%s'", name);
	return RC_INPUT;
}

/*
 * Close every kept session and ssh control connection of this user (not
 * only of this store's peers): the next write connects anew, e.g. with a
 * new key or to a peer that moved.
 */
static int peer_close(cli_t *cli)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	struct dirent *e;
	DIR *d;
	int kept, masters = 0;

	if (peers_ssh_dir(cli, dir, sizeof(dir)) != RC_OK) {
		return RC_STORE;
	}
	kept = keeper_close_all(dir);
	d = opendir(dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		/* ssh's control sockets: %C, 40 hex digits. */
		if (strlen(e->d_name) != 40 || strspn(e->d_name, "0123456789abcdef") != 40) {
			continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    sizeof(path)) {
			masters += peer_master_exit(path) == RC_OK;
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	printf("closed %d kept session(s) and %d ssh connection(s)\n", kept, masters);
	return RC_OK;
}

static int run_peer(cli_t *cli)
{
	const char *sub = cli->pos[0], *name = cli->npos > 1 ? cli->pos[1] : NULL;
	char q[CLI_QUOTE_MAX];
	peers_t *ps;
	json_t j = { 0 };
	bool list = strcmp(sub, "list") == 0, close = strcmp(sub, "close") == 0;
	int rc;

	if (!list && !close && strcmp(sub, "add") != 0 && strcmp(sub, "del") != 0) {
		return cli_usage(cli, "'%s' is not add, del, list or close", quote(sub, q));
	}
	if (list || close ? name != NULL : name == NULL) {
		return cli_usage(cli, list || close ? "peer %s takes no NAME" : "missing NAME",
		                 sub);
	}
	if (name != NULL && !peer_name_ok(name)) {
		cli_err(cli, "'%s' is not a peer name (1-32 of a-z, 0-9, '_', '-')",
		        quote(name, q));
		return RC_INPUT;
	}
	if ((cli->ssh != NULL || cli->key != NULL || cli->naddr > 0 ||
	     cli->host_key != NULL) && strcmp(sub, "add") != 0) {
		return cli_usage(cli, "--ssh, --key, --address and --host-key go with peer add");
	}
	if (close) {
		return cli->json ? cli_usage(cli, "--json goes with peer list") :
		       peer_close(cli);
	}
	ps = calloc(1, sizeof(*ps));
	if (ps == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	rc = peers_load(cli, ps);
	if (rc == RC_OK) {
		if (list) {
			const char *state[PEERS_MAX];
			long pid[PEERS_MAX];
			for (int i = 0; i < ps->n; i++) {
				state[i] = fanout_kept(cli, &ps->p[i], &pid[i]);
			}
			peer_show(cli, ps, cli->json ? &j : NULL, state, pid);
		} else if (strcmp(sub, "add") == 0) {
			rc = peer_add(cli, ps, name);
		} else {
			rc = peer_del(cli, ps, name);
		}
	}
	free(ps);
	return rc;
}

const cmd_t cmd_peer = {
	"peer", run_peer, OPT_SSH | OPT_KEY | OPT_ADDRESS | OPT_HOST_KEY | OPT_JSON,
	1, 2, { "add|del|list|close", "NAME" }, 0,
	"peer add NAME --ssh [USER@]HOST[:PORT] [--key FILE] --address IP...\n"
	"      [--host-key FILE] | peer del NAME | peer list [--json] | peer close",
	"Manage the other nameservers that serve the challenge zone: every\n"
	"write (add, del, apply, hook) goes to each of them too, over ssh to\n"
	"its 'acmezone serve', at the same time as to this host's store.  They\n"
	"are kept in STORE-peers beside the store; their host keys in\n"
	"STORE-known_hosts (never learnt on first use).\n"
	"\n"
	"A write keeps each peer's session open for the next one (--peer-keep,\n"
	"default 60 s); 'peer del' ends that peer's, 'peer close' closes every\n"
	"kept session and ssh connection of this user now.\n"
	"\n"
	"  --ssh [USER@]HOST[:PORT]  where its sshd listens (IPv6 in brackets)\n"
	"  --key FILE         the private key to log in with (default: ssh's)\n"
	"  --address IP       an address its nameserver answers on (repeatable)\n"
	"  --host-key FILE    pin its host key: its ssh_host_*_key.pub\n"
	"  --json             list as JSON\n"
};
