/* json.c -- the CLI's one JSON writer, for --json output on stdout. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Before a value: the separator its container needs. */
static void json_value(json_t *j)
{
	int d = j->depth - 1;

	if (d < 0 || j->kind[d] == '{') {
		return;		/* top level, or json_key() placed it */
	}
	if (d == 0) {
		fputs(j->count[d] == 0 ? "\n  " : ",\n  ", stdout);
	} else if (j->count[d] > 0) {
		fputs(", ", stdout);
	}
	j->count[d]++;
}

/* A string, quoted and escaped. */
static void put_string(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20 || c >= 0x7f) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

void json_begin(json_t *j, char kind)
{
	if (j->depth == JSON_MAX_DEPTH) {
		abort();	/* a programming error, not input */
	}
	json_value(j);
	putchar(kind);
	j->kind[j->depth] = kind;
	j->count[j->depth] = 0;
	j->depth++;
}

void json_end(json_t *j)
{
	int d = --j->depth;

	if (d == 0 && j->kind[d] == '[' && j->count[d] > 0) {
		putchar('\n');
	}
	putchar(j->kind[d] == '[' ? ']' : '}');
	if (d == 0) {
		putchar('\n');
	}
}

void json_key(json_t *j, const char *key)
{
	int d = j->depth - 1;

	fputs(j->count[d] > 0 ? ", " : "", stdout);
	j->count[d]++;
	put_string(key, strlen(key));
	fputs(": ", stdout);
}

void json_strn(json_t *j, const char *s, size_t len)
{
	json_value(j);
	put_string(s, len);
}

void json_str(json_t *j, const char *s)
{
	json_strn(j, s, strlen(s));
}

void json_str_or_null(json_t *j, const char *s)
{
	if (s != NULL) {
		json_str(j, s);
	} else {
		json_value(j);
		fputs("null", stdout);
	}
}

void json_int(json_t *j, long long v)
{
	json_value(j);
	printf("%lld", v);
}

void json_uint(json_t *j, unsigned long long v)
{
	json_value(j);
	printf("%llu", v);
}

void json_bool(json_t *j, bool v)
{
	json_value(j);
	fputs(v ? "true" : "false", stdout);
}
