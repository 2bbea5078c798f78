/* acmezone.c -- mod-acmezone: the Knot glue (schema, load/unload, the answer hook). */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <knot/module.h>

#include "denial.h"
#include "sync.h"

#define MOD_DATABASE	"\x08""database"
#define MOD_TTL		"\x03""ttl"
#define MOD_OBSERVE	"\x07""observe"

#define POLL_MS		1000	/* fallback check; commits ring at once */

static const yp_item_t acmezone_conf[] = {
	{ MOD_DATABASE, YP_TSTR, YP_VSTR = { AZ_DEFAULT_DB } },
	{ MOD_TTL,      YP_TINT, YP_VINT = { 0, INT32_MAX, 10, YP_STIME } },
	{ MOD_OBSERVE,  YP_TINT, YP_VINT = { 0, 100000, 1024 } },
	{ NULL }
};

/* Counters, in registration order. */
enum {
	CTR_ANSWERS,	/* TXT answers given */
	CTR_NODATA,	/* NODATA at a name with values or an ENT */
	CTR_MISSES,	/* names the module did not know: Knot's NXDOMAIN */
	CTR_SYNCS,	/* times the table was brought up to date */
	CTR_TOKENS,	/* live values in the table (a gauge) */
};

static const char *ctr_names[] = {
	[CTR_ANSWERS] = "answers",
	[CTR_NODATA]  = "nodata",
	[CTR_MISSES]  = "misses",
	[CTR_SYNCS]   = "syncs",
	[CTR_TOKENS]  = "tokens",
};

typedef struct {
	sync_client_t client;	/* first: the callbacks cast back to us */
	knotd_mod_t *mod;
	sync_src_t *src;
	uint32_t ttl;
} mod_ctx_t;

static int acmezone_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t db = knotd_conf_check_item(args, MOD_DATABASE);
	if (db.count > 0 && (db.single.string == NULL || db.single.string[0] != '/')) {
		args->err_str = "database must be an absolute path";
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
}

/* Sync thread, client lock held: the instance is attached and alive. */
static void client_log(sync_client_t *c, int priority, const char *msg)
{
	mod_ctx_t *ctx = (mod_ctx_t *)c;
	knotd_mod_log(ctx->mod, priority, "%s", msg);
}

/* Sync thread, client lock held.  Gauges live in thread slot 0: knotc
 * sums the slots, and no worker ever writes these two counters. */
static void client_stats(sync_client_t *c, const sync_stats_t *st)
{
	mod_ctx_t *ctx = (mod_ctx_t *)c;
	knotd_mod_stats_store(ctx->mod, 0, CTR_SYNCS, 0, st->syncs);
	knotd_mod_stats_store(ctx->mod, 0, CTR_TOKENS, 0, st->tokens);
}

/*
 * Live values in v (NULL: none), counting at most max; *rrs_size gets the
 * octets of the rdataset they make (knot_rdata_t each).  Under RCU.
 */
static unsigned count_live(const tvals_t *v, int64_t now, unsigned max,
                           size_t *rrs_size)
{
	unsigned live = 0;
	size_t size = 0;
	const uint8_t *p = (v != NULL) ? v->data : NULL;
	for (unsigned i = 0; v != NULL && i < v->count && live < max;
	     i++, p = TVAL_NEXT(p)) {
		/* Expired values are never served, whatever the sync thread
		 * has or has not swept yet. */
		if (TVAL_EXPIRE(p) > now) {
			live++;
			size += knot_rdata_size(TVAL_RDLEN(p));
		}
	}
	*rrs_size = size;
	return live;
}

/*
 * The TXT RRset of the live values in v (live of them, > 0, rrs_size
 * octets as count_live() measured), copied into mm: the owner and the
 * rdata.  The table keeps values in canonical order and distinct, so the
 * rdataset is written in place in one pass, in one allocation, as
 * knot_rdataset_add() would have sorted it (which costs a search and a
 * reallocation per value: quadratic in a large RRset).  Under RCU;
 * nothing in rr points into v.
 */
static int make_rrset(knot_rrset_t *rr, const knot_dname_t *qname,
                      size_t qname_size, const tvals_t *v, unsigned live,
                      size_t rrs_size, int64_t now, uint32_t ttl, knot_mm_t *mm)
{
	/* knot_dname_copy() without measuring the name again.  mm is the
	 * packet's: knot_rrset_clear() and the packet (KNOT_PF_FREE) give
	 * the owner and the rdata back through mm->free. */
	knot_dname_t *owner = mm->alloc(mm->ctx, qname_size);
	if (owner == NULL) {
		return KNOT_ENOMEM;
	}
	memcpy(owner, qname, qname_size);
	knot_rrset_init(rr, owner, KNOT_RRTYPE_TXT, KNOT_CLASS_IN, ttl);
	knot_rdata_t *r = mm->alloc(mm->ctx, rrs_size);
	if (r == NULL) {
		return KNOT_ENOMEM;
	}
	rr->rrs.count = (uint16_t)live;
	rr->rrs.size = (uint32_t)rrs_size;
	rr->rrs.rdata = r;
	const uint8_t *p = v->data;
	unsigned put = 0;
	for (unsigned i = 0; i < v->count && put < live; i++, p = TVAL_NEXT(p)) {
		/* The same test as count_live(), with the same 'now': the
		 * same values, so exactly rrs_size octets. */
		if (TVAL_EXPIRE(p) <= now) {
			continue;
		}
		knot_rdata_init(r, TVAL_RDLEN(p), TVAL_RDATA(p));
		r = knot_rdataset_next(r);
		put++;
	}
	return KNOT_EOK;
}

/*
 * The RRset could not be put into the answer.  Too large for the packet
 * (KNOT_ESPACE): over UDP, TC, and the client asks again over TCP (as
 * Knot's own answers do); over TCP (or QUIC) there is no larger message to
 * retry in, so SERVFAIL, as knotd answers the same records from a zone
 * file, rather than a TC that leaves a resolver nowhere to go.
 */
static knotd_in_state_t answer_failed(knotd_qdata_t *qdata, int ret)
{
	if (ret == KNOT_ESPACE && qdata->params->proto == KNOTD_QUERY_PROTO_UDP) {
		return KNOTD_IN_STATE_TRUNC;
	}
	qdata->rcode = KNOT_RCODE_SERVFAIL;
	return KNOTD_IN_STATE_ERROR;
}

/*
 * Tell the observation what this query of a module name got (obs.h):
 * count it for a name with values, remember it as a miss for one
 * without.  Under RCU (n comes from the table); no locks, no system call.
 */
static void observe(obs_t *o, knotd_qdata_t *qdata, const tnode_t *n,
                    knotd_in_state_t next, knotd_in_state_t miss)
{
	const tvals_t *v = n != NULL ? table_vals(n) : NULL;
	size_t qname_size = qdata->query->qname_size;
	if (v == NULL || next == miss) {
		obs_miss(o, qdata->params->thread_id, qdata->name, qname_size);
	}
	uint32_t slot = v != NULL ? obs_slot(o, n, qdata->params->thread_id) : 0;
	if (slot == 0) {
		return;
	}
	obs_query_t q = { .thread_id = qdata->params->thread_id };
	const struct sockaddr_storage *ss = qdata->params->remote;
	if (ss != NULL && ss->ss_family == AF_INET) {
		q.family = 4;
		memcpy(q.addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss != NULL && ss->ss_family == AF_INET6) {
		q.family = 6;
		memcpy(q.addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
	q.tcp = qdata->params->proto != KNOTD_QUERY_PROTO_UDP;
	q.dnssec_ok = knot_pkt_has_dnssec(qdata->query);
	/* The question as sent, against its lower-case copy: 0x20. */
	q.case_mixed = memcmp(qdata->query->wire + KNOT_WIRE_HEADER_SIZE,
	                      qdata->name, qname_size) != 0;
	obs_hit(o, slot, &q, next == KNOTD_IN_STATE_HIT ? OBS_SERVED :
	        next == KNOTD_IN_STATE_NODATA ? OBS_NODATA : OBS_NXDOMAIN);
}

static knotd_in_state_t acmezone_answer(knotd_in_state_t state, knot_pkt_t *pkt,
                                        knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	/* Only names the zone itself does not have: the zone file wins. */
	if (state != KNOTD_IN_STATE_MISS) {
		return state;
	}

	mod_ctx_t *ctx = knotd_mod_ctx(mod);
	unsigned tid = qdata->params->thread_id;
	const knot_dname_t *qname = qdata->name;	/* lower case */
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	int64_t now = (int64_t)time(NULL);		/* vDSO: no system call */
	bool want_txt = qtype == KNOT_RRTYPE_TXT || qtype == KNOT_RRTYPE_ANY;
	knot_rrset_t rr;	/* copied into the packet by knot_pkt_put() */
	knot_rrset_init_empty(&rr);
	knotd_in_state_t next = state;
	int ret = KNOT_EOK;

	/*
	 * knotd already runs every hook inside its rcu_read_lock(); nesting
	 * our own makes this hook correct on its own and costs two loads.
	 * Nothing read under it escapes: the values are copied into the
	 * packet's memory pool before the unlock.
	 */
	az_read_lock();
	table_t *t = sync_table(ctx->src);
	/* qdata->name is the question's name in lower case: same length. */
	size_t qname_size = qdata->query->qname_size;
	const tnode_t *n = (t != NULL) ? table_lookup(t, qname, qname_size) : NULL;
	if (n != NULL) {
		const tvals_t *v = table_vals(n);
		size_t rrs_size = 0;
		unsigned live = count_live(v, now, want_txt ? UINT_MAX : 1,
		                           &rrs_size);
		if (live > 0 && want_txt) {
			ret = make_rrset(&rr, qname, qname_size, v, live, rrs_size,
			                 now, ctx->ttl, &pkt->mm);
			next = KNOTD_IN_STATE_HIT;
		} else if (live > 0 || table_ent(n) > 0) {
			next = KNOTD_IN_STATE_NODATA;	/* or an empty non-terminal */
		}
	}
	if (sync_obs(ctx->src) != NULL) {
		observe(sync_obs(ctx->src), qdata, n, next, state);
	}
	az_read_unlock();

	if (ret != KNOT_EOK) {
		knot_rrset_clear(&rr, &pkt->mm);
		return KNOTD_IN_STATE_ERROR;
	}
	switch (next) {
	case KNOTD_IN_STATE_HIT:
		/* The owner is written as a pointer to the question: the
		 * client's 0x20 case comes back as it was asked. */
		ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_QNAME, &rr, KNOT_PF_FREE);
		if (ret != KNOT_EOK) {
			knot_rrset_clear(&rr, &pkt->mm);
			return answer_failed(qdata, ret);
		}
		knotd_mod_stats_incr(mod, tid, CTR_ANSWERS, 0, 1);
		return KNOTD_IN_STATE_HIT;
	case KNOTD_IN_STATE_NODATA:
		knot_rrset_clear(&rr, &pkt->mm);
		qdata->rcode = KNOT_RCODE_NOERROR;	/* Knot adds the SOA */
		knotd_mod_stats_incr(mod, tid, CTR_NODATA, 0, 1);
		return KNOTD_IN_STATE_NODATA;
	default:
		knot_rrset_clear(&rr, &pkt->mm);
		knotd_mod_stats_incr(mod, tid, CTR_MISSES, 0, 1);
		return state;		/* Knot answers NXDOMAIN with the SOA */
	}
}

static int acmezone_load(knotd_mod_t *mod)
{
	/* A signing setup whose answers would not validate: refused, logged. */
	if (denial_check(mod) != KNOT_EOK) {
		return KNOT_ENOTSUP;
	}
	mod_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	ctx->mod = mod;
	ctx->client.log = client_log;
	ctx->client.stats = client_stats;

	/* The configuration is gone after load(): copy what we keep. */
	knotd_conf_t conf = knotd_conf_mod(mod, MOD_TTL);
	ctx->ttl = (uint32_t)conf.single.integer;
	conf = knotd_conf_mod(mod, MOD_OBSERVE);
	ctx->client.observe = (uint32_t)conf.single.integer;
	conf = knotd_conf_mod(mod, MOD_DATABASE);
	const char *path = conf.single.string;

	int ret = KNOT_EOK;
	for (unsigned i = 0; i < sizeof(ctr_names) / sizeof(ctr_names[0]); i++) {
		ret = knotd_mod_stats_add(mod, ctr_names[i], 1, NULL);
		if (ret != KNOT_EOK) {
			goto fail;
		}
	}
	/* sync_attach() copies the path. */
	ret = sync_attach(path, POLL_MS, &ctx->client, &ctx->src);
	if (ret != AZ_EOK) {
		knotd_mod_log(mod, LOG_ERR, "failed to start the sync of '%s' (%s)",
		              path, az_strerror(ret));
		ret = KNOT_ENOMEM;
		goto fail;
	}
	knotd_mod_ctx_set(mod, ctx);
	ret = knotd_mod_in_hook(mod, KNOTD_STAGE_ANSWER, acmezone_answer);
	if (ret != KNOT_EOK) {
		sync_detach(ctx->src, &ctx->client);
		goto fail;
	}
	/* A module runs only in the knotd it was built for (knotd checks the
	 * ABI): saying which lets an operator match it to 'knotd -V'. */
	knotd_mod_log(mod, LOG_INFO, "loaded, database '%s', built for Knot %s "
	              "(module ABI %d)", path, AZ_KNOT_VERSION, AZ_KNOT_MOD_ABI);
	return KNOT_EOK;
fail:
	/* A failed load() is not followed by unload(): clean up here. */
	knotd_mod_ctx_set(mod, NULL);
	free(ctx);
	return ret;
}

static void acmezone_unload(knotd_mod_t *mod)
{
	mod_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx == NULL) {
		return;
	}
	/* Knot unloads an instance only once no query can reach it; the
	 * last detach of a source stops its thread and frees its table. */
	sync_detach(ctx->src, &ctx->client);
	free(ctx);
}

KNOTD_MOD_API(acmezone, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              acmezone_load, acmezone_unload, acmezone_conf, acmezone_conf_check);
