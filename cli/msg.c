/* msg.c -- messages of the CLI: errors and warnings on stderr, escaping of echoed input, times and spans. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "msg.h"


static void cli_vmsg(const cli_t *cli, const char *fmt, va_list ap)
{
	fputs("acmezone: ", stderr);
	if (cli->cmd != NULL) {
		fprintf(stderr, "%s: ", cli->cmd);
	}
	if (cli->line != 0) {
		fprintf(stderr, "line %lu: ", cli->line);
	}
	vfprintf(stderr, fmt, ap);
}

/* The one line an error gets: "acmezone: CMD: [line N: ]what". */
void cli_err(const cli_t *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmsg(cli, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A usage error: the same line, pointing at the relevant --help. */
int cli_usage(const cli_t *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmsg(cli, fmt, ap);
	va_end(ap);
	if (cli->cmd != NULL) {
		fprintf(stderr, " (see 'acmezone %s --help')\n", cli->cmd);
	} else {
		fputs(" (see 'acmezone --help')\n", stderr);
	}
	return RC_USAGE;
}

/*
 * A failed store call: "what (reason)", with the system's reason when a
 * system call failed (az_errno(): the errno behind the store's last
 * failure in this thread, whatever ran since).
 */
void cli_store_err(const cli_t *cli, int ret, const char *fmt, ...)
{
	int err = az_errno();
	va_list ap;

	va_start(ap, fmt);
	cli_vmsg(cli, fmt, ap);
	va_end(ap);
	if (ret == AZ_EIO && err != 0) {
		fprintf(stderr, " (%s: %s)\n", az_strerror(ret), strerror(err));
	} else {
		fprintf(stderr, " (%s)\n", az_strerror(ret));
	}
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("acmezone: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Input echoed in a message is untrusted: show at most CLI_QUOTE_IN octets
 * and escape anything that is not printable ASCII, so that a hostile
 * argument or batch line cannot send escape sequences to a terminal.
 */
const char *quote(const char *in, char out[CLI_QUOTE_MAX])
{
	size_t o = 0;

	for (size_t i = 0; in[i] != '\0'; i++) {
		unsigned char c = (unsigned char)in[i];
		if (i == CLI_QUOTE_IN) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, CLI_QUOTE_MAX - o, "\\x%02x", c);
		}
	}
	out[o] = '\0';
	return out;
}

/* "5 s", "0.5 s": the wait timeout as the user wrote it. */
void fmt_seconds(int ms, char out[CLI_TIME_MAX])
{
	int frac = ms % 1000, digits = 3;

	if (frac == 0) {
		snprintf(out, CLI_TIME_MAX, "%d s", ms / 1000);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(out, CLI_TIME_MAX, "%d.%0*d s", ms / 1000, digits, frac);
}

/* "59m12s", "2d3h", "45s": the two leading units of a span. */
void fmt_span(uint64_t secs, char out[CLI_TIME_MAX])
{
	static const struct { char unit; uint64_t secs; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t o = 0;
	int shown = 0;

	out[0] = '\0';
	if (secs < 60) {
		snprintf(out, CLI_TIME_MAX, "%llus", (unsigned long long)secs);
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && shown < 2; i++) {
		uint64_t n = secs / units[i].secs;
		secs %= units[i].secs;
		if (n == 0) {
			if (shown > 0) {
				break;	/* "3d", not "3d0h" */
			}
			continue;
		}
		o += (size_t)snprintf(out + o, CLI_TIME_MAX - o, "%llu%c",
		                      (unsigned long long)n, units[i].unit);
		shown++;
	}
}

/* ISO 8601 in UTC; false if the time cannot be represented. */
bool fmt_time(int64_t t, char out[CLI_TIME_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL) {
		return false;
	}
	return strftime(out, CLI_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}
