/* batch.h -- the 'apply' batch format, read and checked whole before the store is touched (pure: no store). */
/* SPDX-License-Identifier: MIT */

/*
 * A batch is lines of "add NAME VALUE [DURATION]" or "del NAME [VALUE]",
 * fields separated by blanks; blank lines and lines starting with '#' are
 * skipped, a final CR is dropped.  The whole batch is read and checked
 * into memory first, so that the store's write lock is taken only once
 * the input is complete (an idle 'apply -' blocks no other writer), and
 * held for the writing alone.  Limits: lines of BATCH_LINE_MAX octets,
 * BATCH_MAX_OPS operations (some 100 octets of memory each).
 *
 * Names are checked for syntax only: how they map to owner names depends
 * on the store's settings (names_owner), which the writer reads under its
 * lock.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

#define BATCH_LINE_MAX		4096		/* octets, newline excluded */
#define BATCH_MAX_OPS		2000000		/* operations in one batch */
#define BATCH_PROGRESS		100000		/* lines between -v progress notes */

/* One operation of a batch; the strings live in the batch. */
typedef struct {
	bool add;
	unsigned long line;		/* where it was, for messages */
	int64_t ttl;			/* add: lifetime in seconds */
	const char *name;		/* as written (syntax checked) */
	const char *value;		/* checked; NULL: del every value */
} batch_op_t;

/* A batch read whole.  Zero-initialise; batch_free() when done. */
typedef struct {
	char *buf;			/* the operations, packed */
	size_t len, cap;
	size_t nops;			/* operations */
	size_t nadd;			/* of them, adds */
	unsigned long lines;		/* lines read */
} batch_t;

/*!
 * Parse one line (len octets, NUL-terminated, split in place) into *op,
 * with ttl for an add without a duration.  *skip: a blank or comment line
 * (op untouched).  \return RC_OK, or RC_INPUT with the reason printed
 * (cli->line names the line).
 */
int batch_line(const cli_t *cli, char *line, size_t len, int64_t ttl,
               batch_op_t *op, bool *skip);

/*!
 * Read every line of in (named file in messages) into b, checking each
 * with batch_line(); cli->line follows the line being read and is 0
 * again on return.  -v notes progress on stderr.  \return RC_OK; RC_INPUT
 * for a bad line, one too long, a NUL octet or too many operations;
 * RC_STORE for a read error or no memory.  On error b holds what was read
 * so far: batch_free() it all the same.
 */
int batch_read(cli_t *cli, FILE *in, const char *file, int64_t ttl, batch_t *b);

/* batch_getline() results. */
enum { LINE_OK, LINE_EOF, LINE_LONG, LINE_NUL, LINE_ERR };

/*!
 * One line of in into buf (BATCH_LINE_MAX + 1 octets), without its
 * newline, NUL-terminated, *len its length.  \return LINE_OK, LINE_EOF
 * (nothing more), LINE_LONG (over BATCH_LINE_MAX), LINE_NUL (a NUL octet),
 * LINE_ERR (a read error: errno).
 */
int batch_getline(FILE *in, char *buf, size_t *len);

/*! Append op (strings copied) to b.  \return false if out of memory. */
bool batch_push(batch_t *b, const batch_op_t *op);

/*! The operation at *pos (0 for the first), advancing *pos; false at the end. */
bool batch_next(const batch_t *b, size_t *pos, batch_op_t *op);

void batch_free(batch_t *b);
