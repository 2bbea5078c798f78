/* acmezone.c -- mod-acmezone: the Knot glue (schema, load/unload, the answer hook). */

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <knot/module.h>

#include "sync.h"

#define MOD_DATABASE	"\x08""database"
#define MOD_TTL		"\x03""ttl"

#define POLL_MS		1000	/* fallback check; commits ring at once */

static const yp_item_t acmezone_conf[] = {
	{ MOD_DATABASE, YP_TSTR, YP_VSTR = { AZ_DEFAULT_DB } },
	{ MOD_TTL,      YP_TINT, YP_VINT = { 0, INT32_MAX, 10, YP_STIME } },
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

/* Live values in v (NULL: none), counting at most max.  Under RCU. */
static unsigned count_live(const tvals_t *v, int64_t now, unsigned max)
{
	unsigned live = 0;
	const uint8_t *p = (v != NULL) ? v->data : NULL;
	for (unsigned i = 0; v != NULL && i < v->count && live < max;
	     i++, p = TVAL_NEXT(p)) {
		/* Expired values are never served, whatever the sync thread
		 * has or has not swept yet. */
		live += TVAL_EXPIRE(p) > now;
	}
	return live;
}

/*
 * The TXT RRset of the live values in v (live of them, > 0), copied into
 * mm: the owner and the rdata.  Under RCU; nothing in rr points into v.
 */
static int make_rrset(knot_rrset_t *rr, const knot_dname_t *qname,
                      size_t qname_size, const tvals_t *v, unsigned live,
                      int64_t now, uint32_t ttl, knot_mm_t *mm)
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
	const uint8_t *p = v->data;
	for (unsigned i = 0; i < v->count; i++, p = TVAL_NEXT(p)) {
		if (TVAL_EXPIRE(p) <= now) {
			continue;
		}
		const uint8_t *rd = TVAL_RDATA(p);	/* u8 len, text */
		if (live == 1) {
			/* The usual case, one token: the rdataset built in
			 * place (one rdata is canonically sorted), no
			 * knot_rdataset_add() search and reallocation. */
			size_t size = knot_rdata_size(1 + rd[0]);
			knot_rdata_t *r = mm->alloc(mm->ctx, size);
			if (r == NULL) {
				return KNOT_ENOMEM;
			}
			knot_rdata_init(r, 1 + rd[0], rd);
			rr->rrs.count = 1;
			rr->rrs.size = (uint32_t)size;
			rr->rrs.rdata = r;
			return KNOT_EOK;
		}
		/* Several: knot_rrset_add_rdata() keeps them sorted. */
		int ret = knot_rrset_add_rdata(rr, rd, 1 + rd[0], mm);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
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
		unsigned live = count_live(v, now, want_txt ? UINT_MAX : 1);
		if (live > 0 && want_txt) {
			ret = make_rrset(&rr, qname, qname_size, v, live, now,
			                 ctx->ttl, &pkt->mm);
			next = KNOTD_IN_STATE_HIT;
		} else if (live > 0 || table_ent(n) > 0) {
			next = KNOTD_IN_STATE_NODATA;	/* or an empty non-terminal */
		}
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
			return (ret == KNOT_ESPACE) ? KNOTD_IN_STATE_TRUNC :
			                              KNOTD_IN_STATE_ERROR;
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
