/* fuzz_proto.c -- libFuzzer target: the peer batch protocol (cli/proto.c) both ways, no store, no ssh. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * Each input is what 'acmezone serve' reads (or a sender reads back): it
 * is split into lines and each goes through every parser, as serve and
 * fanout.c would.  What a parser accepts must keep its promises
 * (proto.h): an accepted value is text the store takes, re-encoding an
 * accepted operation gives a line that parses to the same operation.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	stderr = fopen("/dev/null", "w");
	return 0;
}

/* An accepted operation, written again and read again: the same. */
static void roundtrip(const proto_head_t *h, const batch_op_t *op)
{
	proto_buf_t b = { 0 };
	batch_op_t again;
	const char *why;
	bool end;

	proto_put_op(&b, op->add, op->name, op->value, op->ttl);
	if (b.oom) {
		return;
	}
	b.buf[b.len - 1] = '\0';	/* the newline */
	char *copy = strdup(b.buf);
	if (copy == NULL || !proto_parse_op(copy, h, 0, &again, &end, &why) || end ||
	    again.add != op->add || again.ttl != op->ttl ||
	    strcmp(again.name, op->name) != 0 ||
	    (op->value == NULL) != (again.value == NULL) ||
	    (op->value != NULL && strcmp(op->value, again.value) != 0)) {
		abort();
	}
	free(copy);
	proto_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	proto_head_t h = { .id = "0123456789abcdef" };
	char *text = malloc(size + 1), *line, *next, *copy;
	const char *why;
	batch_op_t op;
	proto_reply_t r;
	proto_state_t st;
	bool end;

	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		if (strlen(line) > PROTO_LINE_MAX || (copy = strdup(line)) == NULL) {
			continue;
		}
		proto_head_t h2;
		(void)proto_parse_head(copy, &h2, &why);
		strcpy(copy, line);
		if (proto_parse_op(copy, &h, 3, &op, &end, &why) && !end) {
			if (op.value != NULL &&
			    az_text_check(op.value, strlen(op.value), NULL) != AZ_EOK) {
				abort();	/* serve would write what the store refuses */
			}
			if (op.add && (op.ttl < 1 || op.ttl > PROTO_TTL_MAX)) {
				abort();
			}
			roundtrip(&h, &op);
		}
		strcpy(copy, line);
		(void)proto_parse_reply(copy, h.id, &r);
		strcpy(copy, line);
		if (proto_parse_state(copy, "put", "drop", &st, &why) &&
		    az_text_check(st.value, strlen(st.value), NULL) != AZ_EOK) {
			abort();
		}
		free(copy);
	}
	free(text);
	return 0;
}
