/* keeper.h -- kept peer sessions: a background process per peer holds one 'acmezone serve' session open over ssh and carries the batches writers hand it on a unix socket. */
/* SPDX-License-Identifier: MIT */

/*
 * A fan-out pays, for each batch, an ssh client's start and, on the
 * peer, sshd's session, the shell and 'acmezone serve' starting: tens of
 * milliseconds even over a control master.  A keeper pays them once.
 *
 * The first writer that finds no keeper for a peer starts one (the
 * keeper's identity is its ssh command line, so a changed key or port
 * is another keeper): it binds the socket KEEP_PREFIX<hash> in the ssh
 * control directory, under a lock file beside it, and execs
 * 'acmezone __keeper', which runs ssh with PROTO_SESSION as the first
 * line.  A serve that knows sessions answers "PROTO_SESSION 1 ok" and
 * then takes batches one after the other on the same standard input,
 * each one transaction, each answered as a one-shot serve answers it.
 *
 * A writer connects, sends
 *
 *   keeper-batch LEN TIMEOUT_MS\n   and LEN octets: the batch
 *
 * and reads the peer's answer lines as they come, then EOF.  The keeper
 * adds lines of its own: "keeper oneshot" (the peer's serve has no
 * sessions, or the keeper is full: run ssh yourself) and "keeper failed
 * REASON" (the session failed: ssh's last words).  "keeper-exit\n" asks
 * it to finish what it carries and exit; "keeper-status\n" is answered
 * "keeper status STATE PID".  It exits too after --peer-keep
 * seconds without a batch, when its ssh ends, and when a batch gets no
 * status line within the writer's timeout (a peer that hangs): the next
 * writer starts a new one.
 *
 * Who may use it: whoever may connect to the socket, which is in a
 * directory only the user may enter (peers_ssh_dir()), as ssh's own
 * control sockets are.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "peers.h"

#define KEEPER_ARGV1		"__keeper"	/* main(): argv[1] of a keeper */
#define KEEP_PREFIX		"keep-"		/* socket names in the ssh dir */
#define KEEP_BATCH_MAX		(16 << 20)	/* octets; larger: one-shot ssh */

/*!
 * Hand the next len octets (a batch) to p's keeper, starting one if none
 * runs: connects, sends the request line, and returns the socket (close-
 * on-exec, blocking) for the batch and the answer.  ssh_argv: the ssh
 * command line of p (peer_ssh_argv()); dir: the ssh control directory.
 * \return the socket, or -1 (no keeper: use a one-shot ssh).  When this
 * started the keeper, *go is a descriptor to close once this writer's
 * own ssh is done: the keeper opens its session then, not meanwhile
 * (two key exchanges at once would slow this first write); else -1.
 */
int keeper_open(const cli_t *cli, const char *dir, char *const *ssh_argv,
                size_t len, int64_t timeout_ms, int *go);

/*!
 * The state of the keeper of ssh_argv (as keeper_open() takes it): "none"
 * (no keeper), "starting", "open" (a session), "one-shot" (its peer has
 * no session for it), "unknown" (no answer); *pid its process (0: none).
 */
const char *keeper_state(const char *dir, char *const *ssh_argv, long *pid);

/*! Ask the keeper of ssh_argv to finish and exit ('peer del').  \return false: none ran. */
bool keeper_close(const char *dir, char *const *ssh_argv);

/*!
 * Ask every keeper in dir to finish and exit ('peer close').  \return the
 * number asked.
 */
int keeper_close_all(const char *dir);

/*! The keeper process: argv as keeper_open() execs it.  \return exit status. */
int keeper_main(int argc, char **argv);
