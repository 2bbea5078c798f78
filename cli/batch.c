/* batch.c -- the 'apply' batch format, read and checked whole before the store is touched (pure: no store). */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "msg.h"
#include "names.h"

#define BATCH_MAX_FIELDS	4		/* add NAME VALUE DURATION */

/* Packed operation: kind, line, ttl, then name and value, NUL-terminated. */
enum { KIND_ADD = 'a', KIND_DEL = 'd', KIND_DEL_ALL = 'D' };
#define BATCH_HEAD	(1 + sizeof(unsigned long) + sizeof(int64_t))

/*
 * A fixed buffer rather than getline(): a line over the limit is an error,
 * so no line can make the CLI allocate, however long.
 */
int batch_getline(FILE *in, char *buf, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(in)) != EOF) {
		if (c == '\n') {
			break;
		}
		if (c == '\0') {
			return LINE_NUL;
		}
		if (n == BATCH_LINE_MAX) {
			return LINE_LONG;
		}
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(in)) {
		return LINE_ERR;
	}
	if (c == EOF && n == 0) {
		return LINE_EOF;
	}
	buf[n] = '\0';
	*len = n;
	return LINE_OK;
}

/* Split on blanks; returns the field count, BATCH_MAX_FIELDS + 1 if more. */
static int split_fields(char *line, char *field[BATCH_MAX_FIELDS])
{
	int n = 0;

	for (;;) {
		line += strspn(line, " \t");
		if (*line == '\0') {
			return n;
		}
		if (n == BATCH_MAX_FIELDS) {
			return n + 1;
		}
		field[n++] = line;
		line += strcspn(line, " \t");
		if (*line != '\0') {
			*line++ = '\0';
		}
	}
}

int batch_line(const cli_t *cli, char *line, size_t len, int64_t ttl,
               batch_op_t *op, bool *skip)
{
	char *f[BATCH_MAX_FIELDS], q[CLI_QUOTE_MAX];
	int n, rc;
	bool add;

	*skip = false;
	if (len > 0 && line[len - 1] == '\r') {
		line[len - 1] = '\0';	/* tolerate CRLF files */
	}
	n = split_fields(line, f);
	if (n == 0 || f[0][0] == '#') {
		*skip = true;
		return RC_OK;
	}
	add = strcmp(f[0], "add") == 0;
	if (!add && strcmp(f[0], "del") != 0) {
		cli_err(cli, "'%s' is not an operation (expected add or del)",
		        quote(f[0], q));
		return RC_INPUT;
	}
	if (add ? (n < 3 || n > 4) : (n < 2 || n > 3)) {
		cli_err(cli, "expected '%s'", add ? "add NAME VALUE [DURATION]" :
		                                    "del NAME [VALUE]");
		return RC_INPUT;
	}
	rc = names_syntax(cli, f[1]);
	if (rc == RC_OK && n > 2) {
		rc = names_value(cli, f[2]);
	}
	if (rc == RC_OK && add && n > 3) {
		rc = names_duration(cli, f[3], &ttl);
	}
	if (rc != RC_OK) {
		return rc;
	}
	op->add = add;
	op->line = cli->line;
	op->ttl = ttl;
	op->name = f[1];
	op->value = n > 2 ? f[2] : NULL;
	return RC_OK;
}

/* Append op to b.  \return false if out of memory. */
bool batch_push(batch_t *b, const batch_op_t *op)
{
	size_t nlen = strlen(op->name) + 1;
	size_t vlen = op->value != NULL ? strlen(op->value) + 1 : 0;
	size_t need = BATCH_HEAD + nlen + vlen;
	char *p;

	if (b->cap - b->len < need) {
		size_t cap = b->cap > 0 ? b->cap * 2 : 64 * 1024;
		while (cap - b->len < need) {
			cap *= 2;
		}
		p = realloc(b->buf, cap);
		if (p == NULL) {
			return false;
		}
		b->buf = p;
		b->cap = cap;
	}
	p = b->buf + b->len;
	*p++ = (char)(op->add ? KIND_ADD : op->value != NULL ? KIND_DEL : KIND_DEL_ALL);
	memcpy(p, &op->line, sizeof(op->line));
	p += sizeof(op->line);
	memcpy(p, &op->ttl, sizeof(op->ttl));
	p += sizeof(op->ttl);
	memcpy(p, op->name, nlen);
	p += nlen;
	if (vlen > 0) {
		memcpy(p, op->value, vlen);
	}
	b->len += need;
	b->nops++;
	b->nadd += op->add ? 1 : 0;
	return true;
}

bool batch_next(const batch_t *b, size_t *pos, batch_op_t *op)
{
	const char *p;
	char kind;

	if (*pos >= b->len) {
		return false;
	}
	p = b->buf + *pos;
	kind = *p++;
	memcpy(&op->line, p, sizeof(op->line));
	p += sizeof(op->line);
	memcpy(&op->ttl, p, sizeof(op->ttl));
	p += sizeof(op->ttl);
	op->add = kind == KIND_ADD;
	op->name = p;
	p += strlen(p) + 1;
	op->value = NULL;
	if (kind != KIND_DEL_ALL) {
		op->value = p;
		p += strlen(p) + 1;
	}
	*pos = (size_t)(p - b->buf);
	return true;
}

int batch_read(cli_t *cli, FILE *in, const char *file, int64_t ttl, batch_t *b)
{
	char buf[BATCH_LINE_MAX + 1], q[CLI_QUOTE_MAX];
	batch_op_t op;
	size_t len = 0;
	bool skip;
	int st, rc = RC_OK;

	while (rc == RC_OK && (st = batch_getline(in, buf, &len)) != LINE_EOF) {
		cli->line = ++b->lines;
		if (st == LINE_ERR) {
			cli->line = 0;
			cli_err(cli, "cannot read '%s' (%s)", quote(file, q), strerror(errno));
			rc = RC_STORE;
		} else if (st == LINE_LONG) {
			cli_err(cli, "longer than %d bytes", BATCH_LINE_MAX);
			rc = RC_INPUT;
		} else if (st == LINE_NUL) {
			cli_err(cli, "contains a NUL byte");
			rc = RC_INPUT;
		} else if ((rc = batch_line(cli, buf, len, ttl, &op, &skip)) != RC_OK ||
		           skip) {
			/* reported, or nothing to keep */
		} else if (b->nops == BATCH_MAX_OPS) {
			cli_err(cli, "more than %d operations in one batch (split it)",
			        BATCH_MAX_OPS);
			rc = RC_INPUT;
		} else if (!batch_push(b, &op)) {
			cli->line = 0;
			cli_err(cli, "out of memory");
			rc = RC_STORE;
		}
		if (rc == RC_OK && cli->verbose && b->lines % BATCH_PROGRESS == 0) {
			cli->line = 0;
			cli_err(cli, "%lu lines read", b->lines);	/* progress */
		}
	}
	cli->line = 0;
	return rc;
}

void batch_free(batch_t *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}
