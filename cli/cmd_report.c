/* cmd_report.c -- 'report': every delegated domain's renewal health, from the history and the store, as HTML, JSON or Prometheus metrics. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cmds.h"
#include "db.h"
#include "html.h"
#include "json.h"
#include "msg.h"
#include "names.h"
#include "observe.h"
#include "opts.h"

#define REPORT_DAYS		30	/* the chart: issuances and failures per day */
#define REPORT_SOON_DAYS	20	/* fewer days left: renewals are failing
					 * (clients renew with 30 days left) */
#define REPORT_GRACE_MS		(300 * 1000)	/* cleanup -> deploy hook */
#define REPORT_CHECK_MS		3000	/* --check-timeout default */
#define REPORT_PUB_SLACK_MS	2000	/* history add -> its value's publication */
#define DAY_S			86400

/* What needs a human first: the order of the rows. */
typedef enum {
	SEV_FAILED,		/* the last outcome was a failure */
	SEV_EXPIRED,		/* the certificate has expired */
	SEV_SOON,		/* fewer than REPORT_SOON_DAYS left */
	SEV_DELEGATION,		/* the CNAME check failed */
	SEV_UNKNOWN,		/* no issuance known */
	SEV_OK,
} sev_t;

static const char *const sev_names[] = {
	[SEV_FAILED] = "failed", [SEV_EXPIRED] = "expired", [SEV_SOON] = "expiring",
	[SEV_DELEGATION] = "delegation", [SEV_UNKNOWN] = "unknown", [SEV_OK] = "ok",
};

/* One delegated domain, keyed by its delegation name (owner). */
typedef struct {
	uint8_t owner[AZ_NAME_MAXLEN];
	size_t owner_len;			/* 0: a failure naming no domain */
	char owner_text[AZ_NAME_TXTLEN];
	char domain[AZ_DOMAIN_BUFLEN];		/* "" if never named */
	unsigned live;				/* live values now */
	int64_t newest_pub;			/* their newest publication (ms) */
	az_hist_event_t add, del, issued, failed;	/* the newest of each (op 0: none) */
	bool derived;				/* failed: certbot cleaned up, no issuance */
	const az_obs_name_t *obs;		/* what knotd saw of it, if known */
	int check;				/* -1 not checked, else a status_t */
	char check_msg[CHECK_MSG_MAX];
	sev_t sev;
	char why[AZ_HIST_REASON_MAX + 128];	/* the state in words */
} entry_t;

typedef struct {
	cli_t *cli;
	az_config_t cfg;
	az_hist_limits_t lim;
	int64_t now;				/* UNIX seconds */
	entry_t *e;
	size_t n, cap;
	size_t events, corrupt;
	bool certbot_deploys;			/* any certbot deploy hook seen */
	unsigned issued[REPORT_DAYS], failed[REPORT_DAYS];	/* [0]: oldest day */
	az_hist_event_t *orphans;		/* failures naming no domain */
	size_t norphans;
	az_obs_t obs;				/* the observation file */
	bool has_obs;
} report_t;

static entry_t *entry_find(report_t *r, const uint8_t *owner, size_t len)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->e[i].owner_len == len && memcmp(r->e[i].owner, owner, len) == 0) {
			return &r->e[i];
		}
	}
	if (r->n == r->cap) {
		size_t cap = r->cap > 0 ? 2 * r->cap : 16;
		entry_t *e = realloc(r->e, cap * sizeof(*e));
		if (e == NULL) {
			return NULL;
		}
		r->e = e;
		r->cap = cap;
	}
	entry_t *e = &r->e[r->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->owner, owner, len);
	e->owner_len = len;
	if (len > 0) {
		az_name_to_text(owner, e->owner_text, sizeof(e->owner_text));
	}
	e->check = -1;
	return e;
}

/* The day of the chart a time falls on, or -1 outside it. */
static int chart_day(const report_t *r, int64_t ms)
{
	int64_t today = r->now / DAY_S, day = ms / 1000 / DAY_S;
	int64_t i = REPORT_DAYS - 1 - (today - day);
	return (i >= 0 && i < REPORT_DAYS) ? (int)i : -1;
}

/*
 * The entry of an event: its owner, or its domain's delegation now.
 * NULL with *nomem false: the event names neither.
 */
static entry_t *event_entry(report_t *r, const az_hist_event_t *ev, bool *nomem)
{
	uint8_t owner[AZ_NAME_MAXLEN];
	size_t len = ev->owner_len;
	entry_t *e = NULL;

	memcpy(owner, ev->owner, len);
	if (len == 0 && ev->domain[0] != '\0' && r->cfg.has_zone &&
	    az_delegation(ev->domain, r->cfg.scheme, r->cfg.zone, owner, &len,
	                  NULL, NULL) != AZ_EOK) {
		len = 0;
	}
	if (len > 0) {
		e = entry_find(r, owner, len);
	}
	*nomem = len > 0 && e == NULL;
	return e;
}

static int on_event(const az_hist_event_t *ev, uint64_t id, void *ctx)
{
	report_t *r = ctx;
	char q[CLI_QUOTE_MAX];
	int day;

	r->events++;
	if (ev == NULL) {
		r->corrupt++;
		snprintf(q, sizeof(q), "%llu", (unsigned long long)id);
		cli_warn("skipping corrupt history record %s", q);
		return 0;
	}
	day = chart_day(r, ev->time_ms);
	if (day >= 0 && ev->op == AZ_HIST_ISSUED) {
		r->issued[day]++;
	} else if (day >= 0 && ev->op == AZ_HIST_FAILED) {
		r->failed[day]++;
	}
	if (ev->op == AZ_HIST_ISSUED && strcmp(ev->client, "certbot") == 0) {
		r->certbot_deploys = true;
	}
	bool nomem;
	entry_t *e = event_entry(r, ev, &nomem);
	if (nomem) {
		return AZ_ENOMEM;
	}
	if (e == NULL && ev->op == AZ_HIST_FAILED) {
		az_hist_event_t *o = realloc(r->orphans, (r->norphans + 1) * sizeof(*o));
		if (o == NULL) {
			return AZ_ENOMEM;
		}
		r->orphans = o;
		r->orphans[r->norphans++] = *ev;
		return 0;
	}
	if (e == NULL) {
		return 0;	/* names no domain: in the counts only */
	}
	if (ev->domain[0] != '\0') {
		memcpy(e->domain, ev->domain, sizeof(e->domain));
	}
	/* Oldest first: each newer event replaces the one before. */
	switch (ev->op) {
	case AZ_HIST_ADD:	e->add = *ev; break;
	case AZ_HIST_DEL:	e->del = *ev; break;
	case AZ_HIST_ISSUED:	e->issued = *ev; break;
	case AZ_HIST_FAILED:	e->failed = *ev; break;
	}
	return 0;
}

/*
 * A failure that names no domain (dehydrated's request_failure) belongs
 * to the order this host's client was working on: the newest challenge
 * that client published from that host before it.
 */
static void place_orphans(report_t *r)
{
	for (size_t i = 0; i < r->norphans; i++) {
		const az_hist_event_t *ev = &r->orphans[i];
		entry_t *best = NULL;
		for (size_t j = 0; j < r->n; j++) {
			entry_t *e = &r->e[j];
			if (e->add.op != 0 && e->add.time_ms <= ev->time_ms &&
			    strcmp(e->add.client, ev->client) == 0 &&
			    strcmp(e->add.host, ev->host) == 0 &&
			    (best == NULL || e->add.time_ms > best->add.time_ms)) {
				best = e;
			}
		}
		if (best != NULL && best->failed.time_ms <= ev->time_ms) {
			best->failed = *ev;
		}
	}
}

static int on_record(const uint8_t *name, az_rec_iter_t *rec, void *ctx)
{
	report_t *r = ctx;
	az_val_t v;
	unsigned live = 0;

	if (name == NULL || rec == NULL) {
		return 0;	/* 'acmezone list' names them */
	}
	int64_t pub = 0;
	while (az_rec_iter_next(rec, &v)) {
		if (v.expire > r->now) {
			live++;
			pub = v.published > pub ? v.published : pub;
		}
	}
	if (live == 0) {
		return 0;
	}
	entry_t *e = entry_find(r, name, az_name_wire_len(name, AZ_NAME_MAXLEN));
	if (e == NULL) {
		return AZ_ENOMEM;
	}
	e->live = live;
	e->newest_pub = pub;
	return 0;
}

/*
 * Did the CA look?  What knotd saw of each name, from the observation
 * file (store/observe.h).  None, or one that cannot be read: "unknown",
 * with a warning for a damaged one; nothing else depends on it.
 */
static void report_observe(report_t *r)
{
	char path[4096], q[CLI_QUOTE_MAX];
	const char *why = "unreadable";
	int ret;

	if (az_obs_path(r->cli->db, path, sizeof(path)) != AZ_EOK) {
		return;
	}
	ret = az_obs_read(path, &r->obs, &why);
	if (ret != AZ_EOK) {
		if (ret != AZ_ENOENT) {
			cli_warn("cannot use the observation file '%s' (%s); whether "
			         "the CA looked is shown as unknown", quote(path, q),
			         ret == AZ_ECORRUPT ? why : az_strerror(ret));
		}
		az_obs_free(&r->obs);
		return;
	}
	r->has_obs = true;
	for (size_t i = 0; i < r->n; i++) {
		entry_t *e = &r->e[i];
		if (e->owner_len > 0) {
			e->obs = az_obs_find(&r->obs, e->owner, e->owner_len);
		}
	}
}

/*
 * "yes", "no" or "unknown": did a resolver ask since the last challenge?
 * The publication is the live values' newest (the time the store gave
 * it); once they are gone, the history's add, which comes a few
 * milliseconds after it in the same transaction: REPORT_PUB_SLACK_MS
 * earlier still belongs to that publication.
 */
static const char *ca_looked(const report_t *r, const entry_t *e)
{
	int64_t pub;

	if (!r->has_obs || (e->add.op == 0 && e->newest_pub == 0)) {
		return "unknown";
	}
	pub = e->newest_pub > 0 ? e->newest_pub :
	      e->add.time_ms > REPORT_PUB_SLACK_MS ? e->add.time_ms - REPORT_PUB_SLACK_MS : 0;
	return e->obs != NULL && az_obs_looked(e->obs, pub) ? "yes" : "no";
}

/* The history and the live names, from one snapshot. */
static int report_read(report_t *r)
{
	az_store_t *store = NULL;
	az_reader_t *rd = NULL;
	int rc, ret;

	rc = db_open(r->cli, AZ_OPEN_RDONLY, &store);
	if (rc != RC_OK) {
		return rc;
	}
	ret = az_reader_begin(store, &rd);
	if (ret == AZ_EOK) {
		ret = az_reader_config(rd, &r->cfg);
	}
	if (ret == AZ_EOK) {
		ret = az_reader_hist_limits(rd, &r->lim);
	}
	if (ret == AZ_EOK) {
		ret = az_reader_history(rd, false, on_event, r);
	}
	if (ret == AZ_EOK) {
		ret = az_reader_foreach(rd, NULL, on_record, r);
	}
	if (ret != AZ_EOK) {
		cli_store_err(r->cli, ret, "cannot read '%s'", r->cli->qdb);
		rc = RC_STORE;
	}
	az_reader_end(rd);
	az_store_close(store);
	if (rc == RC_OK) {
		place_orphans(r);
		report_observe(r);
	}
	return rc;
}

/* The CNAME check of every entry that names a domain, unless --offline. */
static int report_check(report_t *r)
{
	dns_server_t srv[CHECK_MAX_SERVERS];
	check_t ck = { .srv = srv, .cfg = &r->cfg, .cli = r->cli,
	               .timeout_ms = r->cli->check_ms > 0 ? r->cli->check_ms : REPORT_CHECK_MS };
	names_deleg_t d;
	verdict_t *v;
	int rc;

	if (r->cli->offline || !r->cfg.has_zone) {
		return RC_OK;
	}
	rc = check_resolvers(r->cli, srv, &ck.nsrv);
	if (rc != RC_OK) {
		return rc;
	}
	v = malloc(sizeof(*v));
	if (v == NULL) {
		cli_err(r->cli, "out of memory");
		return RC_STORE;
	}
	for (size_t i = 0; i < r->n; i++) {
		entry_t *e = &r->e[i];
		if (e->domain[0] == '\0' ||
		    names_delegation(r->cli, &r->cfg, e->domain, &d) != RC_OK) {
			continue;
		}
		check_domain(&ck, d.domain, d.owner, d.target, v);
		e->check = (int)v->status;
		snprintf(e->check_msg, sizeof(e->check_msg), "%s", v->message);
	}
	free(v);
	return RC_OK;
}

/* Days left, rounded down; meaningful only with a notAfter. */
static long long days_left(const report_t *r, const entry_t *e)
{
	int64_t s = e->issued.not_after - r->now;
	return (long long)(s >= 0 ? s / DAY_S : -((-s + DAY_S - 1) / DAY_S));
}

/* Each entry's state, in words, and how urgently it needs a human. */
static void report_judge(report_t *r)
{
	char when[CLI_TIME_MAX];

	for (size_t i = 0; i < r->n; i++) {
		entry_t *e = &r->e[i];
		int64_t now_ms = r->now * 1000;
		/* certbot has no failure hook: a challenge it cleaned up
		 * with no issuance after it failed, if its deploy hook is in
		 * use here at all. */
		if (r->certbot_deploys && e->add.op != 0 &&
		    strcmp(e->add.client, "certbot") == 0 && e->del.op != 0 &&
		    e->del.time_ms >= e->add.time_ms && e->issued.time_ms < e->add.time_ms &&
		    e->failed.time_ms < e->add.time_ms &&
		    now_ms - e->del.time_ms > REPORT_GRACE_MS) {
			e->failed = e->del;
			e->failed.op = AZ_HIST_FAILED;
			snprintf(e->failed.reason, sizeof(e->failed.reason),
			         "certbot cleaned up the challenge but no certificate "
			         "followed (certbot has no failure hook: see its log)");
			e->derived = true;
		}
		if (e->failed.op != 0 && e->failed.time_ms >= e->issued.time_ms) {
			e->sev = SEV_FAILED;
			(void)fmt_time(e->failed.time_ms / 1000, when);
			snprintf(e->why, sizeof(e->why), "failed %s (%s): %s", when,
			         e->failed.client, e->failed.reason[0] != '\0' ?
			         e->failed.reason : "no reason given");
		} else if (e->issued.op != 0 && e->issued.not_after == 0) {
			e->sev = SEV_UNKNOWN;
			snprintf(e->why, sizeof(e->why), "issued, expiry unknown (%s)",
			         e->issued.reason);
		} else if (e->issued.op != 0 && e->issued.not_after <= r->now) {
			e->sev = SEV_EXPIRED;
			snprintf(e->why, sizeof(e->why), "the certificate expired %lld day(s) ago",
			         -days_left(r, e));
		} else if (e->issued.op != 0 && days_left(r, e) < REPORT_SOON_DAYS) {
			e->sev = SEV_SOON;
			snprintf(e->why, sizeof(e->why), "%lld day(s) left: renewals are "
			         "not happening", days_left(r, e));
		} else if (e->check > 0) {
			e->sev = SEV_DELEGATION;
			snprintf(e->why, sizeof(e->why), "delegation %s: %.1000s",
			         check_status_names[e->check], e->check_msg);
		} else if (e->issued.op == 0) {
			e->sev = SEV_UNKNOWN;
			snprintf(e->why, sizeof(e->why), "no issuance recorded");
		} else {
			e->sev = SEV_OK;
			snprintf(e->why, sizeof(e->why), "ok, %lld day(s) left",
			         days_left(r, e));
		}
	}
}

static int entry_cmp(const void *a, const void *b)
{
	const entry_t *x = a, *y = b;
	if (x->sev != y->sev) {
		return x->sev < y->sev ? -1 : 1;
	}
	/* Sooner expiry first; none last. */
	int64_t nx = x->issued.not_after > 0 ? x->issued.not_after : INT64_MAX;
	int64_t ny = y->issued.not_after > 0 ? y->issued.not_after : INT64_MAX;
	if (nx != ny) {
		return nx < ny ? -1 : 1;
	}
	return strcmp(x->domain[0] ? x->domain : x->owner_text,
	              y->domain[0] ? y->domain : y->owner_text);
}

static const char *entry_name(const entry_t *e)
{
	return e->domain[0] != '\0' ? e->domain : e->owner_text;
}

static size_t needs_human(const report_t *r)
{
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		k += r->e[i].sev < SEV_UNKNOWN;
	}
	return k;
}

/* "2026-12-05" of day i of the chart. */
static void chart_date(const report_t *r, int i, char out[CLI_TIME_MAX])
{
	time_t t = (time_t)((r->now / DAY_S - (REPORT_DAYS - 1 - i)) * DAY_S);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, CLI_TIME_MAX, "%Y-%m-%d", &tm);
}

/*** --json ***/

static void json_time(json_t *j, const char *key, int64_t ms)
{
	char when[CLI_TIME_MAX];
	json_key(j, key);
	json_str_or_null(j, fmt_time(ms / 1000, when) ? when : NULL);
}

static void json_event(json_t *j, const char *key, const az_hist_event_t *ev)
{
	json_key(j, key);
	if (ev->op == 0) {
		json_str_or_null(j, NULL);
		return;
	}
	json_begin(j, '{');
	json_time(j, "time", ev->time_ms);
	json_key(j, "time_unix");
	json_int(j, ev->time_ms / 1000);
	json_key(j, "client");
	json_str(j, ev->client);
	json_key(j, "host");
	json_str(j, ev->host);
	if (ev->op == AZ_HIST_ISSUED) {
		json_key(j, "not_after_unix");
		if (ev->not_after > 0) {
			json_int(j, ev->not_after);
		} else {
			json_str_or_null(j, NULL);
		}
	}
	if (ev->op == AZ_HIST_ISSUED || ev->op == AZ_HIST_FAILED) {
		json_key(j, "reason");
		json_str(j, ev->reason);
	}
	json_end(j);
}

static void report_json(const report_t *r)
{
	char when[CLI_TIME_MAX], zone[AZ_NAME_TXTLEN];
	json_t j = { 0 };

	json_begin(&j, '{');
	json_key(&j, "generated");
	json_str_or_null(&j, fmt_time(r->now, when) ? when : NULL);
	json_key(&j, "generated_unix");
	json_int(&j, r->now);
	json_key(&j, "zone");
	if (r->cfg.has_zone) {
		az_name_to_text(r->cfg.zone, zone, sizeof(zone));
	}
	json_str_or_null(&j, r->cfg.has_zone ? zone : NULL);
	json_key(&j, "history_events");
	json_uint(&j, r->events);
	json_key(&j, "history_corrupt");
	json_uint(&j, r->corrupt);
	json_key(&j, "needs_human");
	json_uint(&j, needs_human(r));
	json_key(&j, "domains");
	json_begin(&j, '[');
	for (size_t i = 0; i < r->n; i++) {
		const entry_t *e = &r->e[i];
		json_begin(&j, '{');
		json_key(&j, "domain");
		json_str_or_null(&j, e->domain[0] != '\0' ? e->domain : NULL);
		json_key(&j, "owner");
		json_str(&j, e->owner_text);
		json_key(&j, "state");
		json_str(&j, sev_names[e->sev]);
		json_key(&j, "needs_human");
		json_bool(&j, e->sev < SEV_UNKNOWN);
		json_key(&j, "why");
		json_str(&j, e->why);
		json_key(&j, "days_to_expiry");
		if (e->issued.not_after > 0) {
			json_int(&j, days_left(r, e));
		} else {
			json_str_or_null(&j, NULL);
		}
		json_key(&j, "check");
		json_str_or_null(&j, e->check >= 0 ? check_status_names[e->check] : NULL);
		json_key(&j, "live_values");
		json_uint(&j, e->live);
		json_event(&j, "last_challenge", &e->add);
		json_key(&j, "cleaned_up");
		json_bool(&j, e->del.op != 0 && e->del.time_ms >= e->add.time_ms);
		json_key(&j, "ca_looked");
		json_str(&j, ca_looked(r, e));
		json_key(&j, "queries");
		if (e->obs != NULL) {
			json_uint(&j, e->obs->queries);
		} else {
			json_str_or_null(&j, NULL);
		}
		json_event(&j, "last_issuance", &e->issued);
		json_event(&j, "last_failure", &e->failed);
		json_end(&j);
	}
	json_end(&j);
	json_key(&j, "days");
	json_begin(&j, '[');
	for (int i = 0; i < REPORT_DAYS; i++) {
		chart_date(r, i, when);
		json_begin(&j, '{');
		json_key(&j, "date");
		json_str(&j, when);
		json_key(&j, "issued");
		json_uint(&j, r->issued[i]);
		json_key(&j, "failed");
		json_uint(&j, r->failed[i]);
		json_end(&j);
	}
	json_end(&j);
	json_end(&j);
}

/*** --prometheus: node_exporter's textfile collector format ***/

/* A label value: backslash, double quote and newline escaped. */
static void prom_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"') {
			fputc('\\', f);
		}
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void prom_head(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void prom_sample(FILE *f, const char *name, const entry_t *e, long long v)
{
	fprintf(f, "%s{domain=\"", name);
	prom_label(f, entry_name(e));
	fprintf(f, "\"} %lld\n", v);
}

static void report_prometheus(const report_t *r, FILE *f)
{
	static const struct {
		const char *name, *help;
		int what;
	} m[] = {
		{ "acmezone_certificate_expiry_timestamp_seconds",
		  "notAfter of the newest certificate issued for the domain.", 0 },
		{ "acmezone_last_success_timestamp_seconds",
		  "When the newest certificate for the domain was issued.", 1 },
		{ "acmezone_last_failure_timestamp_seconds",
		  "When the newest failed order for the domain was reported.", 2 },
		{ "acmezone_last_challenge_timestamp_seconds",
		  "When a challenge value was last published for the domain.", 3 },
		{ "acmezone_needs_human",
		  "1 if the domain's renewal needs a human (failed, expired, expiring, delegation).", 4 },
		{ "acmezone_delegation_ok",
		  "1 if the CNAME check passed, 0 if not (absent: not checked).", 5 },
		{ "acmezone_live_values",
		  "Challenge values the store serves now at the domain's delegation name.", 6 },
	};

	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		prom_head(f, m[k].name, m[k].help);
		for (size_t i = 0; i < r->n; i++) {
			const entry_t *e = &r->e[i];
			switch (m[k].what) {
			case 0:
				if (e->issued.not_after > 0) {
					prom_sample(f, m[k].name, e, e->issued.not_after);
				}
				break;
			case 1:
				if (e->issued.op != 0) {
					prom_sample(f, m[k].name, e, e->issued.time_ms / 1000);
				}
				break;
			case 2:
				if (e->failed.op != 0) {
					prom_sample(f, m[k].name, e, e->failed.time_ms / 1000);
				}
				break;
			case 3:
				if (e->add.op != 0) {
					prom_sample(f, m[k].name, e, e->add.time_ms / 1000);
				}
				break;
			case 4:
				prom_sample(f, m[k].name, e, e->sev < SEV_UNKNOWN);
				break;
			case 5:
				if (e->check >= 0) {
					prom_sample(f, m[k].name, e, e->check == ST_OK);
				}
				break;
			default:
				prom_sample(f, m[k].name, e, e->live);
				break;
			}
		}
	}
	fprintf(f, "# HELP acmezone_challenge_queries_total Queries knotd saw for the "
	        "domain's delegation name since its newest value was published.\n"
	        "# TYPE acmezone_challenge_queries_total counter\n");
	for (size_t i = 0; i < r->n; i++) {
		if (r->e[i].obs != NULL) {
			prom_sample(f, "acmezone_challenge_queries_total", &r->e[i],
			            (long long)r->e[i].obs->queries);
		}
	}
	prom_head(f, "acmezone_history_events", "Events in the store's history.");
	fprintf(f, "acmezone_history_events %zu\n", r->events);
	prom_head(f, "acmezone_report_timestamp_seconds", "When this report was made.");
	fprintf(f, "acmezone_report_timestamp_seconds %lld\n", (long long)r->now);
}

/*** --html ***/

static const char html_style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.4em}table{border-collapse:collapse;width:100%}\n"
	"th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}\n"
	"th{background:#f3f3f3}td.n{text-align:right}\n"
	"tr.failed td:first-child,tr.expired td:first-child{border-left:4px solid #c0392b}\n"
	"tr.expiring td:first-child,tr.delegation td:first-child{border-left:4px solid #e67e22}\n"
	"tr.unknown td:first-child{border-left:4px solid #999}\n"
	"tr.ok td:first-child{border-left:4px solid #27ae60}\n"
	".state{font-weight:bold}.small{color:#666;font-size:.9em}\n";

static void html_event(FILE *f, const az_hist_event_t *ev, bool reason)
{
	char when[CLI_TIME_MAX];

	fputs("<td>", f);
	if (ev->op == 0) {
		fputs("&mdash;</td>", f);
		return;
	}
	html_text(f, fmt_time(ev->time_ms / 1000, when) ? when : "?");
	fputs("<br><span class=\"small\">", f);
	html_text(f, ev->client);
	if (ev->host[0] != '\0') {
		fputs(" on ", f);
		html_text(f, ev->host);
	}
	fputs("</span>", f);
	if (reason && ev->reason[0] != '\0') {
		fputs("<br>", f);
		html_text(f, ev->reason);
	}
	fputs("</td>", f);
}

/* Issuances (green) and failures (red) per day, inline SVG. */
static void html_chart(const report_t *r, FILE *f)
{
	const int w = 16, h = 100, top = 10, left = 30;
	char d0[CLI_TIME_MAX], d1[CLI_TIME_MAX];
	unsigned max = 1;

	for (int i = 0; i < REPORT_DAYS; i++) {
		max = r->issued[i] > max ? r->issued[i] : max;
		max = r->failed[i] > max ? r->failed[i] : max;
	}
	chart_date(r, 0, d0);
	chart_date(r, REPORT_DAYS - 1, d1);
	fprintf(f, "<h2>Issuances and failures per day</h2>\n"
	        "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	        "height=\"%d\" role=\"img\" aria-label=\"issuances and failures per day\">\n",
	        left + REPORT_DAYS * w + 10, top + h + 40);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n",
	        left, top + h, left + REPORT_DAYS * w, top + h);
	fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"10\">%u</text>\n", top + 8, max);
	for (int i = 0; i < REPORT_DAYS; i++) {
		char day[CLI_TIME_MAX];
		int x = left + i * w;
		int hi = (int)(r->issued[i] * (unsigned)h / max);
		int hf = (int)(r->failed[i] * (unsigned)h / max);
		chart_date(r, i, day);
		fprintf(f, "<g><title>%s: %u issued, %u failed</title>"
		        "<rect class=\"issued\" x=\"%d\" y=\"%d\" width=\"6\" height=\"%d\" fill=\"#27ae60\"/>"
		        "<rect class=\"failed\" x=\"%d\" y=\"%d\" width=\"6\" height=\"%d\" fill=\"#c0392b\"/></g>\n",
		        day, r->issued[i], r->failed[i], x + 1, top + h - hi, hi,
		        x + 8, top + h - hf, hf);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>\n"
	        "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%s</text>\n"
	        "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#27ae60\">&#9632; issued</text>\n"
	        "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#c0392b\">&#9632; failed</text>\n"
	        "</svg>\n", left, top + h + 14, d0, left + REPORT_DAYS * w, top + h + 14, d1,
	        left, top + h + 32, left + 70, top + h + 32);
}

static void report_html(const report_t *r, FILE *f, const char *db)
{
	char title[128], when[CLI_TIME_MAX], zone[AZ_NAME_TXTLEN] = "(none)";
	size_t k = needs_human(r);

	snprintf(title, sizeof(title), "acmezone report: %zu domain%s, %zu need%s a human",
	         r->n, r->n == 1 ? "" : "s", k, k == 1 ? "s" : "");
	if (r->cfg.has_zone) {
		az_name_to_text(r->cfg.zone, zone, sizeof(zone));
	}
	html_begin(f, title, html_style);
	fputs("<h1>", f);
	html_text(f, title);
	fputs("</h1>\n<p>Made ", f);
	html_text(f, fmt_time(r->now, when) ? when : "?");
	fputs(" from ", f);
	html_text(f, db);
	fputs(", challenge zone ", f);
	html_text(f, zone);
	fprintf(f, "; history: %zu event(s)%s.</p>\n", r->events,
	        r->corrupt > 0 ? ", some corrupt (skipped)" : "");
	fputs("<table id=\"domains\">\n<thead><tr><th>Domain</th><th>State</th>"
	      "<th>Days left</th><th>Delegation</th><th>Last challenge</th>"
	      "<th>CA looked</th><th>Last issuance</th><th>Last failure</th>"
	      "</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < r->n; i++) {
		const entry_t *e = &r->e[i];
		fprintf(f, "<tr class=\"%s\"><td>", sev_names[e->sev]);
		html_text(f, entry_name(e));
		if (e->domain[0] != '\0') {
			fputs("<br><span class=\"small\">", f);
			html_text(f, e->owner_text);
			fputs("</span>", f);
		}
		fprintf(f, "</td><td><span class=\"state\">%s</span><br>", sev_names[e->sev]);
		html_text(f, e->why);
		fputs("</td><td class=\"n\">", f);
		if (e->issued.not_after > 0) {
			fprintf(f, "%lld", days_left(r, e));
		} else {
			fputs("&mdash;", f);
		}
		fputs("</td><td>", f);
		html_text(f, e->check >= 0 ? check_status_names[e->check] : "not checked");
		fputs("</td>", f);
		html_event(f, &e->add, false);
		fprintf(f, "<td>%s", ca_looked(r, e));
		if (e->obs != NULL) {
			fprintf(f, "<br><span class=\"small\">%llu quer%s from %u "
			        "resolver(s)</span>", (unsigned long long)e->obs->queries,
			        e->obs->queries == 1 ? "y" : "ies", (unsigned)e->obs->sources);
		}
		fputs("</td>", f);
		html_event(f, &e->issued, true);
		html_event(f, &e->failed, true);
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	html_chart(r, f);
	html_end(f);
}

static int run_report(cli_t *cli)
{
	report_t r = { .cli = cli, .now = (int64_t)time(NULL) };
	outfile_t o;
	int rc;

	if (cli->html == NULL && !cli->json && !cli->prometheus) {
		return cli_usage(cli, "say what to write: --html FILE, --json or "
		                 "--prometheus [FILE]");
	}
	if ((cli->html != NULL) + cli->json + cli->prometheus > 1) {
		return cli_usage(cli, "one of --html, --json and --prometheus at a time");
	}
	if (cli->npos > 0 && !cli->prometheus) {
		return cli_usage(cli, "a FILE argument goes with --prometheus only");
	}
	rc = report_read(&r);
	if (rc == RC_OK) {
		rc = report_check(&r);
	}
	if (rc != RC_OK) {
		goto out;
	}
	report_judge(&r);
	qsort(r.e, r.n, sizeof(*r.e), entry_cmp);
	if (cli->json) {
		report_json(&r);
		goto out;
	}
	rc = outfile_open(cli, cli->html != NULL ? cli->html :
	                  cli->npos > 0 ? cli->pos[0] : NULL, &o);
	if (rc != RC_OK) {
		goto out;
	}
	if (cli->html != NULL) {
		report_html(&r, o.f, cli->db);
	} else {
		report_prometheus(&r, o.f);
	}
	rc = outfile_close(cli, &o, true);
out:
	free(r.e);
	free(r.orphans);
	az_obs_free(&r.obs);
	return rc;
}

const cmd_t cmd_report = {
	"report", run_report,
	OPT_HTML | OPT_JSON | OPT_PROMETHEUS | OPT_OFFLINE | OPT_SERVER | OPT_CHECK_TIMEOUT,
	0, 1, { "FILE", NULL }, 0,
	"report --html FILE | --json | --prometheus [FILE] [--offline]\n"
	"         [--server ADDR[@PORT]] [--check-timeout SECONDS]",
	"Every delegated domain known from the history and the store: the\n"
	"CNAME check, the last challenge, the last issuance and failure (with\n"
	"the reason), the days to expiry; the ones that need a human first.\n"
	"Files are replaced atomically (a temporary file, then rename).\n"
	"\n"
	"  --html FILE          one static page (no scripts, no external files),\n"
	"                       with a chart of issuances and failures per day\n"
	"  --json               the same for scripts, on standard output\n"
	"  --prometheus [FILE]  node_exporter textfile-collector metrics (FILE,\n"
	"                       or standard output)\n"
	"  --offline            do not check the CNAMEs (no DNS questions)\n"
	"  --server ADDR[@PORT] the resolver for the check (default: those of\n"
	"                       /etc/resolv.conf)\n"
	"  --check-timeout SECONDS  one DNS question of the check (default 3)\n"
};
