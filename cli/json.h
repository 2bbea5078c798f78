/* json.h -- the CLI's one JSON writer, for --json output on stdout. */

/*
 * The shape every --json output has: a top-level array puts each element
 * on a line of its own, indented by two spaces; everything else is inline
 * ("{"a": 1, "b": [2, 3]}").  The document ends with a newline.
 *
 *   json_t j = { 0 };             (one per document)
 *   json_begin(&j, '[');
 *   json_begin(&j, '{');  json_key(&j, "name");  json_str(&j, "x");
 *   json_end(&j);
 *   json_end(&j);                  -> [\n  {"name": "x"}\n]\n
 *
 * Output goes through stdio; main() checks stdout for errors at exit.
 * Nesting deeper than JSON_MAX_DEPTH is a programming error (abort).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH	4

typedef struct {
	int depth;
	char kind[JSON_MAX_DEPTH];	/* '[' or '{' */
	size_t count[JSON_MAX_DEPTH];	/* elements or members so far */
} json_t;

/* Open an array ('[') or an object ('{'), at the top or as a value. */
void json_begin(json_t *j, char kind);
/* Close the innermost one (the outermost: then a newline). */
void json_end(json_t *j);
/* The name of the next member of an object. */
void json_key(json_t *j, const char *key);

/* Values.  Strings are escaped: '"', '\\', and octets outside 0x20..0x7e. */
void json_str(json_t *j, const char *s);
void json_strn(json_t *j, const char *s, size_t len);
void json_str_or_null(json_t *j, const char *s);	/* NULL: null */
void json_int(json_t *j, long long v);
void json_uint(json_t *j, unsigned long long v);
void json_bool(json_t *j, bool v);
