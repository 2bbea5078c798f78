/* fanout.h -- one write on every peer at once: an ssh process per peer carrying the whole batch, answers read against a deadline. */
/* SPDX-License-Identifier: MIT */

/*
 * fanout_start() loads the peers of cli->db and starts one ssh per peer
 * with the batch on its standard input; the caller then writes its own
 * store, and fanout_finish() collects the answers.  Each peer has until
 * the deadline (--peer-timeout after the start) to answer 'status ... ok'
 * (proto.h); then its ssh is killed.  Policy (--peers): all (every peer
 * must commit), reachable (a peer that never answered -- connection
 * refused, timed out, host key or login refused -- is a warning), none.
 */

#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cli.h"
#include "peers.h"
#include "proto.h"

typedef struct fanout fanout_t;

/* A process started with pipes on its standard input, output and error. */
typedef struct {
	pid_t pid;
	int in, out, err;		/* ours, non-blocking, close-on-exec */
} fanout_proc_t;

/*!
 * Start argv (execvp) with pipes on its standard input, output and error;
 * every descriptor we make is close-on-exec.  \return false (errno set).
 */
bool fanout_spawn(char *const *argv, fanout_proc_t *p);

/*!
 * Start the batch (a whole proto_buf_t: head, operations, end; id its id)
 * on every peer of ps (peers_load()).  *out NULL when there are none or
 * --peers none.  batch must live until fanout_finish().
 * \return RC_OK, or RC_STORE (message printed; nothing left running).
 */
int fanout_start(cli_t *cli, const peers_t *ps, const proto_buf_t *batch,
                 const char *id, fanout_t **out);

/*!
 * Wait for every peer's answer (or its deadline), print one line for each
 * that failed (error) or was skipped (warning), free fo.  lines (may be
 * NULL): called with "NAME ok", "NAME failed WHY", "NAME skipped WHY" for
 * each peer (serve passes them on).  \return RC_OK when the policy is met,
 * else RC_DNS.
 */
int fanout_finish(cli_t *cli, fanout_t *fo, void (*lines)(const char *text));

/*! End p's keeper, if one runs (the peer is gone from the list). */
void fanout_unkeep(const cli_t *cli, const peer_t *p);

/*!
 * The state of p's keeper (keeper_state(): "none", "starting", "open",
 * "one-shot", "unknown"), *pid its process or 0.
 */
const char *fanout_kept(const cli_t *cli, const peer_t *p, long *pid);

/*!
 * Run ssh with command on p, feed it in (len octets), and hand each line
 * it answers (without the newline, NUL-terminated, at most PROTO_LINE_MAX
 * octets) to line(); by deadline_ms (az_mono_ms) or killed.  For 'sync',
 * which speaks its own exchange.  *why gets the failure.  \return RC_OK.
 */
int fanout_run_one(cli_t *cli, const peer_t *p, const char *command,
                   const char *in, size_t len, int64_t deadline_ms,
                   bool (*line)(char *text, void *ctx), void *ctx,
                   char *why, size_t why_size);
