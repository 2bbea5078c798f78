/* peers.h -- the other nameservers a write goes to: the peers file beside the store, its known_hosts, and the ssh command line. */
/* SPDX-License-Identifier: MIT */

/*
 * "<store>-peers", beside the store (and, on a host without a store, where
 * it would be): one peer a line,
 *
 *   NAME ssh=[USER@]HOST[:PORT] [key=FILE] address=IP [address=IP]...
 *
 * with '#' comments.  Written by 'acmezone peer' only, whole, through a
 * temporary file renamed over it.  Trusted like the store: a regular file
 * owned by root or by the caller, writable by nobody else, in a directory
 * only they may write.  "<store>-known_hosts" holds the peers' host keys
 * (ssh's StrictHostKeyChecking=yes against it alone).
 */

#pragma once

#include <netinet/in.h>
#include <arpa/inet.h>
#include <limits.h>
#include <stdbool.h>

#include "cli.h"
#include "json.h"

#define PEERS_MAX		16
#define PEER_NAME_MAX		32
#define PEER_USER_MAX		32
#define PEERS_LINE_MAX		4096
#define PEERS_SUFFIX		"-peers"
#define KNOWN_HOSTS_SUFFIX	"-known_hosts"
#define PEER_SSH_ARGS		48	/* peer_ssh_argv() entries */
#define PEER_SSH_BUF		(3 * PATH_MAX + 2048)	/* and their strings */

typedef struct {
	char name[PEER_NAME_MAX + 1];
	char user[PEER_USER_MAX + 1];	/* "": ssh's default (the caller) */
	char host[AZ_DOMAIN_BUFLEN];	/* host name or address, no brackets */
	unsigned port;
	char key[PATH_MAX];		/* "": ssh's default identities */
	char addr[CLI_MAX_ADDRS][INET6_ADDRSTRLEN];
	int naddr;
} peer_t;

typedef struct {
	peer_t p[PEERS_MAX];
	int n;
} peers_t;

/*! cli->db with suffix appended, malloc'ed; NULL if out of memory. */
char *peers_file(const cli_t *cli, const char *suffix);

/*!
 * Read the peers file of cli->db into *ps (none: ps->n 0).  \return
 * RC_OK, RC_STORE (unreadable, untrusted, a bad line: the reason printed).
 */
int peers_load(const cli_t *cli, peers_t *ps);

/*! Replace the peers file with *ps (atomically).  \return RC_OK or RC_STORE. */
int peers_save(const cli_t *cli, const peers_t *ps);

/*! A peer name: 1-32 of [a-z0-9_-], starting with a letter or digit. */
bool peer_name_ok(const char *name);

/*!
 * [USER@]HOST[:PORT] (an IPv6 HOST in brackets) into p.  \return true, or
 * false with *why set to a static reason.
 */
bool peer_parse_ssh(const char *text, peer_t *p, const char **why);

/*! "USER@HOST:PORT" of a peer, for messages. */
void peer_target(const peer_t *p, char *out, size_t size);

/*! HOST or [HOST]:PORT, as known_hosts names the peer. */
void peer_known_name(const peer_t *p, char *out, size_t size);

/*!
 * The private directory of ssh's control sockets ($ACMEZONE_SSH_DIR, else
 * $XDG_RUNTIME_DIR/acmezone-ssh, else /tmp/acmezone-ssh-UID): made 0700
 * if missing, refused unless it is a directory of the caller's own that
 * nobody else may enter.  \return RC_OK or RC_STORE (message printed).
 */
int peers_ssh_dir(const cli_t *cli, char *out, size_t size);

/*!
 * The ssh command line that runs PROTO_COMMAND (or, with command, that
 * command) on p: argv[] of at most PEER_SSH_ARGS entries, strings in buf.
 * connect_s: ssh's ConnectTimeout.  buf has PEER_SSH_BUF octets.
 */
void peer_ssh_argv(const cli_t *cli, const peer_t *p, const char *ssh_dir,
                   const char *known_hosts, int connect_s, const char *command,
                   char **argv, char *buf, size_t size);

/*!
 * Pin p's host key in "<store>-known_hosts": drop the lines for p's
 * known_hosts name, then (pub not NULL) add the key of pub, an OpenSSH
 * public key file ("TYPE BASE64 [COMMENT]", e.g. the peer's
 * /etc/ssh/ssh_host_ed25519_key.pub).  Written whole and renamed.
 * \return RC_OK, RC_INPUT (pub is not a public key), RC_STORE.
 */
int peers_pin(const cli_t *cli, const peer_t *p, const char *pub);

/*! 'ssh -O exit' on the control socket path.  \return RC_OK if it closed one. */
int peer_master_exit(const char *path);

/*!
 * Print the peers, one a line, or into j as a JSON array (j not NULL);
 * with state (not NULL), each one's kept session state[i] and its
 * keeper's pid[i] (0: none) too.
 */
void peer_show(const cli_t *cli, const peers_t *ps, json_t *j,
               const char *const *state, const long *pid);
