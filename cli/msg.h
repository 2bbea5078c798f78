/* msg.h -- messages of the CLI: errors and warnings on stderr, escaping of echoed input, times and spans. */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

#define CLI_TIME_MAX	32		/* fmt_time, fmt_seconds, fmt_span */

/* "acmezone: CMD: [line N: ]what" on stderr. */
void cli_err(const cli_t *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The same for a usage error, pointing at --help.  \return RC_USAGE. */
int cli_usage(const cli_t *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A failed store call: "what (reason)", with strerror(errno) when ret is
 * AZ_EIO.  Call it right after the failure, before errno can change.
 */
void cli_store_err(const cli_t *cli, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "acmezone: warning: what" on stderr. */
void cli_warn(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * Untrusted input made safe to print: at most CLI_QUOTE_IN octets, every
 * octet that is not printable ASCII (and '\') as \xHH.  Every echo of user
 * input in a message goes through this.  \return out.
 */
const char *quote(const char *in, char out[CLI_QUOTE_MAX]);

/* "5 s", "0.5 s": milliseconds as a user writes seconds. */
void fmt_seconds(int ms, char out[CLI_TIME_MAX]);

/* "59m12s", "2d3h", "45s": the two leading units of a span. */
void fmt_span(uint64_t secs, char out[CLI_TIME_MAX]);

/* ISO 8601 in UTC.  \return false if t cannot be represented. */
bool fmt_time(int64_t t, char out[CLI_TIME_MAX]);
