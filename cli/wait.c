/* wait.c -- --wait: ask authoritative servers until they serve what was added. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "wait.h"

#define WAIT_QUERY_MS		1000	/* one question while waiting */
#define WAIT_POLL_MS		250	/* between two questions while waiting */

/* Does srv serve value at owner (asked without recursion)? */
static bool served(const dns_server_t *srv, const uint8_t *owner, const char *value,
                   int timeout_ms, char *last, size_t size, bool *tcp)
{
	dns_reply_t *r = malloc(sizeof(*r));
	bool ok = false;

	if (r == NULL) {
		snprintf(last, size, "out of memory");
		return false;
	}
	dns_query(srv, owner, DNS_TYPE_TXT, false, timeout_ms, r);
	*tcp = r->tcp;
	for (size_t i = 0; i < r->nrr && r->rcode == DNS_NOERROR; i++) {
		if (r->rr[i].type == DNS_TYPE_TXT && !r->rr[i].authority &&
		    dns_name_eq(r->rr[i].owner, owner) && strcmp(r->rr[i].txt, value) == 0) {
			ok = true;
		}
	}
	if (!ok) {
		char buf[DNS_RCODE_BUFLEN];
		if (r->rcode < 0) {
			snprintf(last, size, "%s", r->error);
		} else if (r->rcode == DNS_NOERROR) {
			snprintf(last, size, "NOERROR without the value");
		} else {
			snprintf(last, size, "%s", dns_rcode_str(r->rcode, buf));
		}
	}
	free(r);
	return ok;
}

int wait_parse(const cli_t *cli, wait_servers_t *w)
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";
	size_t got;

	w->n = 0;
	for (int i = 0; i < cli->nwait; i++) {
		if (dns_server_parse(cli->wait[i], w->srv + w->n,
		                     sizeof(w->srv) / sizeof(w->srv[0]) - w->n,
		                     &got, &why) != 0) {
			cli_err(cli, "'%s' is not a valid server for --wait (%s)",
			        quote(cli->wait[i], q), why);
			return RC_INPUT;
		}
		w->n += got;
	}
	return RC_OK;
}

int wait_value(const cli_t *cli, const wait_servers_t *w, int64_t deadline,
               const uint8_t *owner, const char *value)
{
	char name[AZ_NAME_TXTLEN], last[256] = "no answer", secs[CLI_TIME_MAX];

	az_name_to_text(owner, name, sizeof(name));
	for (size_t s = 0; s < w->n; s++) {
		for (;;) {
			int64_t left = deadline - az_mono_ms();
			int tmo = left < WAIT_QUERY_MS ? (int)(left > 0 ? left : 1) :
			                                 WAIT_QUERY_MS;
			bool tcp = false;
			if (served(&w->srv[s], owner, value, tmo, last, sizeof(last), &tcp)) {
				if (cli->verbose) {
					printf("%s serves %s at %s%s\n", w->srv[s].text,
					       value, name, tcp ? " (over TCP)" : "");
				}
				break;
			}
			left = deadline - az_mono_ms();
			if (left <= 0) {
				fmt_seconds(cli->propagation_ms, secs);
				cli_err(cli, "%s does not serve %s at %s after %s "
				        "(last answer: %s)", w->srv[s].text, value,
				        name, secs, last);
				return RC_DNS;
			}
			/* Polling a remote server: nothing to wake us sooner. */
			if (left > WAIT_POLL_MS) {
				left = WAIT_POLL_MS;
			}
			struct timespec ts = { 0, (long)left * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	return RC_OK;
}
