/* proto.h -- the peer batch protocol: what 'acmezone serve' reads on stdin and answers on stdout (pure: no store, no I/O). */
/* SPDX-License-Identifier: MIT */

/*
 * Version 1, one line each way per item, lines of at most PROTO_LINE_MAX
 * octets ending in '\n'; fields separated by one space.  The sender:
 *
 *   acmezone-batch 1 id=ID time=MS [relay] [zone=ZONE scheme=SCHEME]
 *   add NAME VALUE TTL
 *   del NAME [VALUE]
 *   end id=ID ops=N
 *
 * ID: 16 lower-case hex digits, new for each batch.  MS: the sender's
 * clock (UNIX milliseconds).  'relay': a nameserver passing on its own
 * write; the receiver keeps the sender's time and does not pass it on.
 * zone and scheme (a relay): the sender's settings, which must be the
 * receiver's.  NAME: as 'acmezone add' takes it.  VALUE: the TXT value
 * with '%', ' ' and every octet outside 0x21..0x7e written %HH.  TTL:
 * seconds, 1 to 3650 days, counted from MS (relay) or from the
 * receiver's clock.  N: the number of add and del lines.
 *
 * 'acmezone sync' (relay, unscoped keys only) sends two more kinds: a
 * batch with 'dump' and no operations, answered (after the first line)
 * with every live value and tombstone of the peer,
 *
 *   value NAME VALUE EXPIRE PUBLISHED     (UNIX s, UNIX ms)
 *   gone NAME VALUE WHEN UNTIL            (UNIX ms, UNIX s)
 *
 * and a batch with 'sync' whose operations are 'put NAME VALUE EXPIRE
 * PUBLISHED' and 'drop NAME VALUE WHEN UNTIL' (NAME: the owner name),
 * each applied only if it is newer than what the peer holds.
 *
 * The receiver answers:
 *
 *   acmezone-reply 1 id=ID
 *   ok K | refused K REASON | failed K REASON     (K: the K-th operation)
 *   peer NAME ok | peer NAME failed REASON | peer NAME skipped REASON
 *   status id=ID ok txn=T | status id=ID refused REASON
 *                         | status id=ID failed REASON
 *
 * 'status ... ok' only when the whole batch is committed in one
 * transaction there and served (read-your-writes), and its own peers took
 * it as its policy requires.
 *
 * A session (a keeper's, keeper.h) starts with the line
 * 'acmezone-session 1', answered 'acmezone-session 1 ok'; then batches
 * follow one another on the same input, each answered as above, until
 * the input ends.  A batch that cannot be read to its 'end' line (a
 * malformed line, too many operations) ends the session after its
 * status line.  doc/multi-nameserver.md is the reference.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define PROTO_VERSION		1
#define PROTO_LINE_MAX		BATCH_LINE_MAX	/* octets, newline excluded */
#define PROTO_ID_LEN		16
#define PROTO_TTL_MAX		(3650LL * 86400)
#define PROTO_COMMAND		"acmezone serve"	/* what the sender asks ssh to run */
#define PROTO_HEAD		"acmezone-batch"
#define PROTO_REPLY		"acmezone-reply"
#define PROTO_SESSION		"acmezone-session"	/* keeper.h: batches, one after another */

/* The first line of a batch. */
typedef struct {
	char id[PROTO_ID_LEN + 1];
	int64_t time_ms;
	bool relay;
	bool dump;			/* sync: answer with every value and tombstone */
	bool sync;			/* sync: put and drop lines, not add and del */
	bool has_zone;			/* zone= and scheme= given (both or none) */
	char zone[AZ_NAME_TXTLEN];	/* text, as az_name_to_text() writes it */
	az_scheme_t scheme;
} proto_head_t;

/* A batch being written: a growing buffer of lines. */
typedef struct {
	char *buf;
	size_t len, cap;
	size_t nops;
	bool oom;			/* an append failed: the buffer is unusable */
} proto_buf_t;

/*! A new random batch id (getrandom).  \return false if none could be had. */
bool proto_new_id(char id[PROTO_ID_LEN + 1]);

/* Appending lines; on no memory b->oom is set and later appends do nothing. */
void proto_printf(proto_buf_t *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void proto_put_head(proto_buf_t *b, const proto_head_t *h);
void proto_put_op(proto_buf_t *b, bool add, const char *name, const char *value,
                  int64_t ttl);
void proto_put_end(proto_buf_t *b, const proto_head_t *h);
void proto_buf_free(proto_buf_t *b);

/*!
 * Parse the first line (NUL-terminated, split in place).  \return true, or
 * false with *why set to a static reason.
 */
bool proto_parse_head(char *line, proto_head_t *h, const char **why);

/*!
 * Parse an operation line into *op (strings point into line; the value is
 * unescaped in place), *end set instead for the 'end' line (checked
 * against h and nops, the operations read before it).  \return true, or
 * false with *why set to a static reason.
 */
bool proto_parse_op(char *line, const proto_head_t *h, size_t nops,
                    batch_op_t *op, bool *end, const char **why);

/* A line of a dump or a sync batch: KIND NAME VALUE A B. */
typedef struct {
	char kind;			/* 'v'alue, 'g'one, 'p'ut, 'd'rop */
	uint8_t owner[AZ_NAME_MAXLEN];
	const char *value;		/* unescaped in place */
	int64_t a, b;			/* expire, published | when, until */
} proto_state_t;

/*! "KIND NAME VALUE A B" for value, gone, put or drop. */
void proto_put_state(proto_buf_t *b, const char *kind, const uint8_t *owner,
                     const char *value, size_t len, int64_t a, int64_t c);

/*!
 * Parse such a line (split in place); kinds: the two accepted ("value"
 * and "gone", or "put" and "drop").  \return true, or false with *why.
 */
bool proto_parse_state(char *line, const char *k1, const char *k2,
                       proto_state_t *st, const char **why);

/* One line of an answer, as the sender reads it. */
typedef enum {
	REPLY_HEAD, REPLY_OK, REPLY_REFUSED, REPLY_FAILED, REPLY_PEER,
	REPLY_STATUS_OK, REPLY_STATUS_REFUSED, REPLY_STATUS_FAILED,
} proto_reply_kind_t;

typedef struct {
	proto_reply_kind_t kind;
	unsigned long n;		/* ok, refused, failed: the operation */
	const char *text;		/* the reason, or the rest of a peer line */
} proto_reply_t;

/*!
 * Parse one answer line for batch id (split in place).  \return false for
 * anything that is not a line of the protocol, or names another batch.
 */
bool proto_parse_reply(char *line, const char *id, proto_reply_t *r);
