/* cmd_status.c -- status and watch: live values and what the servers saw of them. */
/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "db.h"
#include "json.h"
#include "msg.h"
#include "names.h"
#include "observe.h"
#include "opts.h"

#define WATCH_POLL_MS		200	/* the file is rewritten every 250 ms at most */
#define WATCH_DEFAULT_MS	(300 * 1000)
#define ADDR_TEXT		INET6_ADDRSTRLEN

/* The live values of one name, from one read snapshot. */
typedef struct {
	uint8_t name[AZ_NAME_MAXLEN];
	size_t name_len;
	char text[AZ_NAME_TXTLEN];
	az_val_t *vals;		/* live at 'now'; data points into the snapshot */
	unsigned count;
	int64_t newest_pub;	/* newest publication (UNIX ms), 0: unknown */
} name_vals_t;

typedef struct {
	cli_t *cli;
	int64_t now_ms;
	name_vals_t *names;
	size_t count, cap;
	az_obs_t obs;
	int obs_ret;		/* az_obs_read()'s result */
	const char *obs_why;
	char obs_path[4096];
	az_reader_t *rd;	/* the snapshot the names came from (history) */
	json_t json;
} status_t;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The live values of rec at owner name into a new entry of st. */
static int collect(status_t *st, const uint8_t *name, az_rec_iter_t *rec)
{
	if (st->count == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		name_vals_t *n = realloc(st->names, cap * sizeof(*n));
		if (n == NULL) {
			return AZ_ENOMEM;
		}
		st->names = n;
		st->cap = cap;
	}
	name_vals_t *nv = &st->names[st->count];
	memset(nv, 0, sizeof(*nv));
	nv->name_len = az_name_wire_len(name, AZ_NAME_MAXLEN);
	memcpy(nv->name, name, nv->name_len);
	az_name_to_text(name, nv->text, sizeof(nv->text));
	if (rec != NULL) {
		nv->vals = calloc(az_rec_iter_count(rec) + 1, sizeof(az_val_t));
		if (nv->vals == NULL) {
			return AZ_ENOMEM;
		}
		az_val_t v;
		/* Same test as the servers: served while expiry > now. */
		while (az_rec_iter_next(rec, &v)) {
			if (v.expire > st->now_ms / 1000) {
				nv->vals[nv->count++] = v;
				if (v.published > nv->newest_pub) {
					nv->newest_pub = v.published;
				}
			}
		}
	}
	st->count++;
	return AZ_EOK;
}

/* az_reader_foreach: every name with live values. */
static int collect_live(const uint8_t *name, az_rec_iter_t *rec, void *ctx)
{
	status_t *st = ctx;
	if (name == NULL || rec == NULL) {
		return 0;	/* 'list' reports records that do not decode */
	}
	int ret = collect(st, name, rec);
	if (ret == AZ_EOK && st->names[st->count - 1].count == 0) {
		free(st->names[st->count - 1].vals);
		st->count--;	/* only expired values: not shown */
	}
	return ret;
}

static void names_free(status_t *st)
{
	for (size_t i = 0; i < st->count; i++) {
		free(st->names[i].vals);
	}
	free(st->names);
	st->names = NULL;
	st->count = st->cap = 0;
}

/*
 * Read the names to show from the store: those given (each as 'add'
 * takes it), or every name with live values.  The values' data points into
 * the snapshot: the caller ends it (*rd) after printing.
 */
static int load_names(status_t *st, az_store_t *store, az_reader_t **rd)
{
	cli_t *cli = st->cli;
	az_config_t cfg;
	int ret = az_reader_begin(store, rd);
	st->rd = *rd;
	if (ret != AZ_EOK) {
		*rd = st->rd = NULL;
		cli_store_err(cli, ret, "cannot read '%s'", cli->qdb);
		return RC_STORE;
	}
	if (cli->npos == 0) {
		ret = az_reader_foreach(*rd, NULL, collect_live, st);
	} else if ((ret = az_reader_config(*rd, &cfg)) != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read the settings of '%s'", cli->qdb);
		return RC_STORE;
	}
	for (int i = 0; ret == AZ_EOK && i < cli->npos; i++) {
		uint8_t owner[AZ_NAME_MAXLEN];
		int rc = names_owner(cli, &cfg, cli->pos[i], false, owner, NULL);
		if (rc != RC_OK) {
			return rc;
		}
		az_rec_iter_t it;
		ret = az_reader_get(*rd, owner, &it);
		ret = collect(st, owner, ret == AZ_EOK ? &it : NULL);
	}
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read '%s'", cli->qdb);
		return RC_STORE;
	}
	return RC_OK;
}

/* The observation file, once; a failure is remembered, not fatal. */
static void load_obs(status_t *st)
{
	az_obs_free(&st->obs);
	st->obs_why = NULL;
	st->obs_ret = az_obs_path(st->cli->db, st->obs_path, sizeof(st->obs_path));
	if (st->obs_ret == AZ_EOK) {
		st->obs_ret = az_obs_read(st->obs_path, &st->obs, &st->obs_why);
	}
}

/* Why there is nothing to show, in words (for a warning and JSON). */
static const char *obs_problem(const status_t *st, char *buf, size_t size)
{
	if (st->obs_ret == AZ_ENOENT) {
		return "no server has written an observation file yet (is "
		       "mod-acmezone's 'observe' on?)";
	}
	if (st->obs_ret == AZ_ECORRUPT) {
		snprintf(buf, size, "the observation file is damaged (%s)",
		         st->obs_why != NULL ? st->obs_why : "does not decode");
		return buf;
	}
	snprintf(buf, size, "the observation file cannot be read (%s)",
	         az_strerror(st->obs_ret));
	return buf;
}

/* The server's entry for nv, if it belongs to nv's newest publication. */
static const az_obs_name_t *seen_of(const status_t *st, const name_vals_t *nv)
{
	const az_obs_name_t *e = az_obs_find(&st->obs, nv->name, nv->name_len);
	if (e == NULL || nv->count == 0) {
		return NULL;
	}
	/* An entry of an older publication: the server has not taken the
	 * new one in yet, or wrote its file before. */
	if (nv->newest_pub != 0 && e->pub_ms != 0 && e->pub_ms < nv->newest_pub) {
		return NULL;
	}
	return e;
}

static void addr_text(const az_obs_addr_t *a, char out[ADDR_TEXT])
{
	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, out,
	              ADDR_TEXT) == NULL) {
		snprintf(out, ADDR_TEXT, "?");
	}
}

/* "1.8 s", "3 min": a duration in milliseconds, for what was seen. */
static void ms_text(int64_t ms, char out[CLI_TIME_MAX])
{
	if (ms < 0) {
		ms = 0;
	}
	if (ms < 1000) {
		snprintf(out, CLI_TIME_MAX, "%lld ms", (long long)ms);
	} else if (ms < 60000) {
		snprintf(out, CLI_TIME_MAX, "%lld.%lld s", (long long)(ms / 1000),
		         (long long)(ms % 1000 / 100));
	} else {
		fmt_span((uint64_t)ms / 1000, out);
	}
}

/*
 * "queried 7 times by 5 resolvers over UDP and TCP, first 1.8 s after
 * publish, last 3 s ago; case randomised; DNSSEC OK bit set" and the
 * details on further lines.
 */
static void human_seen(const status_t *st, const az_obs_name_t *e, int64_t pub)
{
	char a[CLI_TIME_MAX], b[CLI_TIME_MAX];
	if (e->queries > 0) {
		ms_text(e->first_ms - pub, a);
		ms_text(st->now_ms - e->last_ms, b);
		printf("  seen: queried %llu time%s by %s%u resolver%s over %s, ",
		       (unsigned long long)e->queries, e->queries == 1 ? "" : "s",
		       (e->flags & AZ_OBS_ESTIMATED) ? "about " : "", e->sources,
		       e->sources == 1 ? "" : "s",
		       e->udp > 0 && e->tcp > 0 ? "UDP and TCP" :
		       e->tcp > 0 ? "TCP" : "UDP");
		if (pub > 0) {
			printf("first %s after publish, ", a);
		}
		printf("last %s ago", b);
		if (e->case_mixed > 0) {
			printf("; case randomised");
		}
		if (e->dnssec_ok > 0) {
			printf("; DNSSEC OK bit set");
		}
		printf("\n  answers: %llu with the values, %llu NODATA, %llu NXDOMAIN\n",
		       (unsigned long long)e->served,
		       (unsigned long long)e->nodata, (unsigned long long)e->nxdomain);
		printf("  from:");
		for (unsigned i = 0; i < e->nsrc; i++) {
			char t[ADDR_TEXT];
			addr_text(&e->src[i], t);
			printf("%s %s", i > 0 ? "," : "", t);
		}
		if (e->sources > e->nsrc) {
			printf(" and %s%u more", (e->flags & AZ_OBS_ESTIMATED) ?
			       "about " : "", e->sources - e->nsrc);
		}
		putchar('\n');
	} else {
		printf("  seen: not queried since published\n");
	}
	if (e->early > 0) {
		ms_text(pub - e->early_last_ms, a);
		printf("  asked too early: %llu time%s before the value existed "
		       "(the last %s before publish)\n", (unsigned long long)e->early,
		       e->early == 1 ? "" : "s", pub > 0 ? a : "?");
	}
}

static void json_seen(json_t *j, const az_obs_name_t *e, int64_t pub)
{
	json_key(j, "seen");
	if (e == NULL) {
		json_begin(j, '{');
		json_key(j, "queries");
		json_uint(j, 0);
		json_end(j);
		return;
	}
	static const struct { const char *key; size_t off; } ctr[] = {
		{ "queries", offsetof(az_obs_name_t, queries) },
		{ "udp", offsetof(az_obs_name_t, udp) },
		{ "tcp", offsetof(az_obs_name_t, tcp) },
		{ "dnssec_ok", offsetof(az_obs_name_t, dnssec_ok) },
		{ "case_randomised", offsetof(az_obs_name_t, case_mixed) },
		{ "served", offsetof(az_obs_name_t, served) },
		{ "nodata", offsetof(az_obs_name_t, nodata) },
		{ "nxdomain", offsetof(az_obs_name_t, nxdomain) },
		{ "asked_too_early", offsetof(az_obs_name_t, early) },
	};
	static const struct { const char *key; size_t off; } times[] = {
		{ "published_ms", offsetof(az_obs_name_t, pub_ms) },
		{ "first_ms", offsetof(az_obs_name_t, first_ms) },
		{ "last_ms", offsetof(az_obs_name_t, last_ms) },
		{ "too_early_first_ms", offsetof(az_obs_name_t, early_first_ms) },
		{ "too_early_last_ms", offsetof(az_obs_name_t, early_last_ms) },
	};
	json_begin(j, '{');
	for (size_t i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++) {
		json_key(j, ctr[i].key);
		json_uint(j, *(const uint64_t *)((const char *)e + ctr[i].off));
	}
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int64_t v = *(const int64_t *)((const char *)e + times[i].off);
		json_key(j, times[i].key);
		if (v != 0) {
			json_int(j, (long long)v);
		} else {
			json_str_or_null(j, NULL);
		}
	}
	json_key(j, "first_after_publish_ms");
	if (pub > 0 && e->queries > 0) {
		json_int(j, (long long)(e->first_ms - pub));
	} else {
		json_str_or_null(j, NULL);
	}
	json_key(j, "sources");
	json_uint(j, e->sources);
	json_key(j, "sources_estimated");
	json_bool(j, (e->flags & AZ_OBS_ESTIMATED) != 0);
	json_key(j, "addresses");
	json_begin(j, '[');
	for (unsigned i = 0; i < e->nsrc; i++) {
		char t[ADDR_TEXT];
		addr_text(&e->src[i], t);
		json_str(j, t);
	}
	json_end(j);
	json_end(j);
}

/*
 * One live value of nv, with its times and, from the history, which hook
 * or client published it from which host (the newest add of that value
 * at that name; unknown if the history has none, e.g. 'apply').
 */
static void show_value(status_t *st, const name_vals_t *nv, const az_val_t *v)
{
	char pub[CLI_TIME_MAX], exp[CLI_TIME_MAX], span[CLI_TIME_MAX];
	bool pub_ok = v->published > 0 && fmt_time(v->published / 1000, pub);
	bool never = v->expire == AZ_EXPIRE_NEVER;
	bool exp_ok = !never && fmt_time(v->expire, exp);
	az_hist_event_t ev;
	bool by = st->rd != NULL &&
	          az_reader_hist_added(st->rd, nv->name, v->data, v->len, &ev) == AZ_EOK;

	if (st->cli->json) {
		json_begin(&st->json, '{');
		json_key(&st->json, "value");
		json_strn(&st->json, (const char *)v->data, v->len);
		json_key(&st->json, "published_ms");
		if (v->published > 0) {
			json_int(&st->json, (long long)v->published);
		} else {
			json_str_or_null(&st->json, NULL);
		}
		json_key(&st->json, "published_at");
		json_str_or_null(&st->json, pub_ok ? pub : NULL);
		json_key(&st->json, "expires");
		if (never) {
			json_str_or_null(&st->json, NULL);
		} else {
			json_int(&st->json, (long long)v->expire);
		}
		json_key(&st->json, "expires_at");
		json_str_or_null(&st->json, exp_ok ? exp : NULL);
		json_key(&st->json, "client");
		json_str_or_null(&st->json, by ? ev.client : NULL);
		json_key(&st->json, "host");
		json_str_or_null(&st->json, by ? ev.host : NULL);
		json_end(&st->json);
		return;
	}
	printf("  value %.*s", v->len > 64 ? 64 : (int)v->len, (const char *)v->data);
	if (v->len > 64) {
		printf("...");
	}
	if (pub_ok) {
		fmt_span((uint64_t)(st->now_ms - v->published) / 1000, span);
		printf("  published %s (%s ago)", pub, span);
	}
	if (by) {
		printf(" by %s%s%s", ev.client, ev.host[0] != '\0' ? " on " : "", ev.host);
	}
	if (never) {
		printf(", never expires\n");
	} else {
		fmt_span((uint64_t)v->expire - (uint64_t)(st->now_ms / 1000), span);
		printf(", expires %s (in %s)\n", exp_ok ? exp : "(out of range)", span);
	}
}

static void show_name(status_t *st, const name_vals_t *nv)
{
	const az_obs_name_t *e = st->obs_ret == AZ_EOK ? seen_of(st, nv) : NULL;
	if (st->cli->json) {
		json_begin(&st->json, '{');
		json_key(&st->json, "name");
		json_str(&st->json, nv->text);
		json_key(&st->json, "values");
		json_begin(&st->json, '[');
		for (unsigned i = 0; i < nv->count; i++) {
			show_value(st, nv, &nv->vals[i]);
		}
		json_end(&st->json);
		if (st->obs_ret == AZ_EOK) {
			json_seen(&st->json, e, nv->newest_pub);
		} else {
			json_key(&st->json, "seen");
			json_str_or_null(&st->json, NULL);
		}
		json_end(&st->json);
		return;
	}
	printf("%s\n", nv->text);
	if (nv->count == 0) {
		printf("  no live value\n");
		return;
	}
	for (unsigned i = 0; i < nv->count; i++) {
		show_value(st, nv, &nv->vals[i]);
	}
	if (e != NULL) {
		human_seen(st, e, e->pub_ms > nv->newest_pub ? e->pub_ms : nv->newest_pub);
	} else if (st->obs_ret == AZ_EOK) {
		printf("  seen: not queried since published\n");
	}
}

static int run_status(cli_t *cli)
{
	status_t st = { .cli = cli, .now_ms = now_ms() };
	az_store_t *store = NULL;
	az_reader_t *rd = NULL;
	char buf[256];

	for (int i = 0; i < cli->npos; i++) {
		int rc = names_syntax(cli, cli->pos[i]);
		if (rc != RC_OK) {
			return rc;
		}
	}
	int rc = db_open(cli, AZ_OPEN_RDONLY, &store);
	if (rc == RC_OK) {
		rc = load_names(&st, store, &rd);
	}
	if (rc != RC_OK) {
		goto out;
	}
	/* Nothing else depends on the file: a damaged one is said once, and
	 * the values are shown all the same. */
	load_obs(&st);
	if (st.obs_ret != AZ_EOK) {
		cli_warn("%s: %s", st.obs_path, obs_problem(&st, buf, sizeof(buf)));
	}
	if (cli->json) {
		json_begin(&st.json, '[');
	}
	for (size_t i = 0; i < st.count; i++) {
		show_name(&st, &st.names[i]);
	}
	if (cli->json) {
		json_end(&st.json);
	}
	rc = RC_OK;
out:
	az_reader_end(rd);
	az_store_close(store);
	names_free(&st);
	az_obs_free(&st.obs);
	return rc;
}

const cmd_t cmd_status = {
	"status", run_status, OPT_JSON, 0, CMD_ANY, { "DOMAIN", NULL }, 0,
	"status [DOMAIN...] [--json]",
	"For each name (a DOMAIN as add takes it, or every name with live\n"
	"values), its live values (published when and by which client,\n"
	"expiring when) and what the server saw since the newest was\n"
	"published: queries, resolvers\n"
	"(source addresses), UDP or TCP, DNSSEC OK bit, 0x20 case\n"
	"randomisation, the answers given, and queries that came before the\n"
	"value existed (asked too early).  The servers write what they saw to\n"
	"PATH-observe/knotd (mod-acmezone 'observe'); a missing or damaged\n"
	"file is reported and the values are shown all the same.\n"
	"\n"
	"  --json   one JSON array of {name, values: [{value, published_ms,\n"
	"           published_at, expires, expires_at, client, host}],\n"
	"           seen: {queries, udp,\n"
	"           tcp, dnssec_ok, case_randomised, served, nodata, nxdomain,\n"
	"           asked_too_early, published_ms, first_ms, last_ms,\n"
	"           too_early_first_ms, too_early_last_ms,\n"
	"           first_after_publish_ms, sources, sources_estimated,\n"
	"           addresses}} (seen is null without an observation file)\n"
};

/*
 * Has the server seen a query of name since its newest publication?
 * \return 1 yes (printed), 0 not yet, RC_* on an error (printed).
 */
static int watch_once(status_t *st, az_store_t *store, bool *said_obs,
                      int64_t *said_pub)
{
	az_reader_t *rd = NULL;
	char buf[256];
	names_free(st);
	st->now_ms = now_ms();
	int rc = load_names(st, store, &rd);
	int looked = 0;
	if (rc != RC_OK) {
		az_reader_end(rd);
		st->rd = NULL;
		return rc;
	}
	load_obs(st);
	name_vals_t *nv = &st->names[0];
	if (st->obs_ret != AZ_EOK && !*said_obs) {
		*said_obs = true;	/* said once: the server may fix it */
		cli_warn("%s: %s; still watching", st->obs_path,
		         obs_problem(st, buf, sizeof(buf)));
	}
	if (nv->count > 0 && *said_pub != nv->newest_pub) {
		*said_pub = nv->newest_pub;
		printf("%s: live, waiting for the first query\n", nv->text);
		fflush(stdout);
	}
	const az_obs_name_t *e = st->obs_ret == AZ_EOK ? seen_of(st, nv) : NULL;
	if (nv->count > 0 && az_obs_looked(e, nv->newest_pub)) {
		printf("%s\n", nv->text);
		human_seen(st, e, e->pub_ms > nv->newest_pub ? e->pub_ms : nv->newest_pub);
		looked = 1;
	}
	az_reader_end(rd);
	st->rd = NULL;
	return looked;
}

static int run_watch(cli_t *cli)
{
	status_t st = { .cli = cli };
	az_store_t *store = NULL;
	bool said_obs = false;
	int64_t said_pub = -1;
	int timeout = cli->timeout_given ? cli->timeout_ms : WATCH_DEFAULT_MS;
	char span[CLI_TIME_MAX];

	int rc = names_syntax(cli, cli->pos[0]);
	if (rc == RC_OK) {
		rc = db_open(cli, AZ_OPEN_RDONLY, &store);
	}
	if (rc != RC_OK) {
		return rc;
	}
	int64_t deadline = az_mono_ms() + timeout;
	for (;;) {
		int r = watch_once(&st, store, &said_obs, &said_pub);
		if (r == 1) {
			rc = RC_OK;
			break;
		}
		if (r != 0) {
			rc = r;
			break;
		}
		int64_t left = deadline - az_mono_ms();
		if (left <= 0) {
			fmt_seconds(timeout, span);
			cli_err(cli, "%s: no query %swithin %s", st.names[0].text,
			        st.names[0].count > 0 ? "of its live value " :
			        "(and no live value) ", span);
			rc = RC_DNS;
			break;
		}
		usleep((useconds_t)(left < WATCH_POLL_MS ? left : WATCH_POLL_MS) * 1000);
	}
	names_free(&st);
	az_obs_free(&st.obs);
	az_store_close(store);
	return rc;
}

const cmd_t cmd_watch = {
	"watch", run_watch, OPT_TIMEOUT, 1, 1, { "DOMAIN", NULL }, 0,
	"watch DOMAIN [--timeout SECONDS]",
	"Follow one challenge live: wait until the server has seen a query of\n"
	"DOMAIN's newest value since it was published (the CA looked), show\n"
	"what it saw and exit 0; exit 4 if that has not happened within the\n"
	"timeout.  A name without a live value yet is waited for too.\n"
	"\n"
	"  --timeout SECONDS  how long to wait (0 to 3600, default 300)\n"
};
