/* dlz_acmezone.c -- the BIND 9 DLZ driver: named.conf options, and answers from the store. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dlz.h"
#include "shared.h"

/* Defaults: the TXT TTL of mod-acmezone, the SOA of doc/acme.example.net.zone. */
#define DEF_TTL		10
#define DEF_SOA_TTL	10
#define DEF_NS_TTL	60
#define DEF_SERIAL	1
#define DEF_REFRESH	3600
#define DEF_RETRY	600
#define DEF_EXPIRE	1209600
#define DEF_MINIMUM	10
#define TTL_MAX		2147483647u	/* RFC 2181 */
#define MAX_NS		16

/* "<value>" with '"' and '\' escaped, for putrr's master-file parser:
 * the room one character-string can take; a longer value (several
 * strings) is written into a buffer of txt_text_size(). */
#define TXT_TEXT_MAX	(2 + 2 * AZ_VALUE_MAXLEN + 1)

typedef struct {
	char *dlzname;
	char zone[AZ_NAME_TXTLEN];	/* lower case, no final dot */
	char *db;
	uint32_t ttl, soa_ttl, ns_ttl;
	char ns[MAX_NS][AZ_NAME_TXTLEN];	/* lower case, final dot */
	unsigned nns;
	char soa[3 * AZ_NAME_TXTLEN];	/* SOA rdata in master-file form */
	az_dlz_log_t *log;
	az_dlz_putrr_t *putrr;
	shared_t *sh;
} inst_t;

/* What dlz_create() reads from named.conf before it builds the instance. */
typedef struct {
	const char *zone, *db, *mname, *rname;
	const char *ns[MAX_NS];
	unsigned nns;
	uint32_t ttl, soa_ttl, ns_ttl, serial, refresh, retry, expire, minimum;
	unsigned seen;			/* bit per option, to refuse repeats */
} opts_t;

static void no_log(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

/* Parse a decimal u32 in [0, max] with nothing around it. */
static bool parse_u32(const char *text, uint32_t max, uint32_t *out)
{
	if (text[0] < '0' || text[0] > '9') {
		return false;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* Text form of a domain name option: lower case, with the final dot. */
static bool norm_name(const char *text, char out[AZ_NAME_TXTLEN], const char **why)
{
	uint8_t wire[AZ_NAME_MAXLEN];
	size_t len;
	if (az_name_parse(text, wire, &len, why) != AZ_EOK) {
		return false;
	}
	az_name_to_text(wire, out, AZ_NAME_TXTLEN);
	return true;
}

enum {
	OPT_ZONE, OPT_DB, OPT_TTL, OPT_NS, OPT_MNAME, OPT_RNAME, OPT_SERIAL,
	OPT_REFRESH, OPT_RETRY, OPT_EXPIRE, OPT_MINIMUM, OPT_SOA_TTL, OPT_NS_TTL,
};

static const struct {
	const char *key;
	int id;
	uint32_t max;		/* numbers only */
} opt_table[] = {
	{ "zone",    OPT_ZONE,    0 },
	{ "db",      OPT_DB,      0 },
	{ "ttl",     OPT_TTL,     TTL_MAX },
	{ "ns",      OPT_NS,      0 },
	{ "mname",   OPT_MNAME,   0 },
	{ "rname",   OPT_RNAME,   0 },
	{ "serial",  OPT_SERIAL,  UINT32_MAX },
	{ "refresh", OPT_REFRESH, TTL_MAX },
	{ "retry",   OPT_RETRY,   TTL_MAX },
	{ "expire",  OPT_EXPIRE,  TTL_MAX },
	{ "minimum", OPT_MINIMUM, TTL_MAX },
	{ "soa-ttl", OPT_SOA_TTL, TTL_MAX },
	{ "ns-ttl",  OPT_NS_TTL,  TTL_MAX },
};

static uint32_t *opt_number(opts_t *o, int id)
{
	switch (id) {
	case OPT_TTL:     return &o->ttl;
	case OPT_SERIAL:  return &o->serial;
	case OPT_REFRESH: return &o->refresh;
	case OPT_RETRY:   return &o->retry;
	case OPT_EXPIRE:  return &o->expire;
	case OPT_MINIMUM: return &o->minimum;
	case OPT_SOA_TTL: return &o->soa_ttl;
	case OPT_NS_TTL:  return &o->ns_ttl;
	default:          return NULL;
	}
}

/* argv[1..argc) are "key=value" words; argv[0] is the driver's path. */
static bool parse_opts(unsigned argc, char *argv[], opts_t *o, az_dlz_log_t *log,
                       const char *dlzname)
{
	*o = (opts_t){
		.db = AZ_DEFAULT_DB, .ttl = DEF_TTL, .soa_ttl = DEF_SOA_TTL,
		.ns_ttl = DEF_NS_TTL, .serial = DEF_SERIAL, .refresh = DEF_REFRESH,
		.retry = DEF_RETRY, .expire = DEF_EXPIRE, .minimum = DEF_MINIMUM,
	};
	for (unsigned i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *eq = strchr(arg, '=');
		size_t klen = eq != NULL ? (size_t)(eq - arg) : 0;
		int id = -1;
		uint32_t max = 0;
		for (size_t j = 0; eq != NULL && j < sizeof(opt_table) / sizeof(opt_table[0]); j++) {
			if (strlen(opt_table[j].key) == klen &&
			    strncmp(opt_table[j].key, arg, klen) == 0) {
				id = opt_table[j].id;
				max = opt_table[j].max;
				break;
			}
		}
		if (id < 0) {
			log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': unknown option '%s' "
			    "(expected key=value with key one of zone, db, ttl, ns, "
			    "mname, rname, serial, refresh, retry, expire, minimum, "
			    "soa-ttl, ns-ttl)", dlzname, arg);
			return false;
		}
		const char *val = eq + 1;
		if (id != OPT_NS && (o->seen & (1u << id))) {
			log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': option '%.*s' given twice",
			    dlzname, (int)klen, arg);
			return false;
		}
		o->seen |= 1u << id;
		uint32_t *num = opt_number(o, id);
		if (num != NULL) {
			if (!parse_u32(val, max, num)) {
				log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': '%s' is not a "
				    "number from 0 to %" PRIu32, dlzname, arg, max);
				return false;
			}
			continue;
		}
		switch (id) {
		case OPT_ZONE:	o->zone = val; break;
		case OPT_DB:	o->db = val; break;
		case OPT_MNAME:	o->mname = val; break;
		case OPT_RNAME:	o->rname = val; break;
		case OPT_NS:
			if (o->nns == MAX_NS) {
				log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': more than %d "
				    "ns options", dlzname, MAX_NS);
				return false;
			}
			o->ns[o->nns++] = val;
			break;
		}
	}
	if (o->zone == NULL) {
		log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': the zone=NAME option is "
		    "required", dlzname);
		return false;
	}
	if (o->nns == 0) {
		log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': at least one ns=NAME "
		    "option is required (the apex NS records)", dlzname);
		return false;
	}
	if (o->db[0] != '/') {
		log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': db='%s' must be an "
		    "absolute path", dlzname, o->db);
		return false;
	}
	return true;
}

static void inst_free(inst_t *in)
{
	if (in == NULL) {
		return;
	}
	shared_detach(in->sh);
	free(in->dlzname);
	free(in->db);
	free(in);
}

/* Build the instance from parsed options: names checked, SOA rendered. */
static inst_t *inst_new(const char *dlzname, const opts_t *o, az_dlz_log_t *log)
{
	inst_t *in = calloc(1, sizeof(*in));
	if (in == NULL) {
		return NULL;
	}
	in->log = log;
	in->dlzname = strdup(dlzname);
	in->db = strdup(o->db);
	if (in->dlzname == NULL || in->db == NULL) {
		goto fail;
	}
	in->ttl = o->ttl;
	in->soa_ttl = o->soa_ttl;
	in->ns_ttl = o->ns_ttl;

	const char *why = NULL, *what = "zone", *bad = o->zone;
	if (!norm_name(o->zone, in->zone, &why)) {
		goto bad_name;
	}
	in->zone[strlen(in->zone) - 1] = '\0';		/* as named passes it */
	for (unsigned i = 0; i < o->nns; i++) {
		what = "ns";
		bad = o->ns[i];
		if (!norm_name(o->ns[i], in->ns[i], &why)) {
			goto bad_name;
		}
	}
	in->nns = o->nns;

	char mname[AZ_NAME_TXTLEN], rname[AZ_NAME_TXTLEN];
	what = "mname";
	bad = o->mname;
	if (o->mname == NULL) {
		snprintf(mname, sizeof(mname), "%s", in->ns[0]);
	} else if (!norm_name(o->mname, mname, &why)) {
		goto bad_name;
	}
	char def_rname[AZ_NAME_TXTLEN + 16];
	snprintf(def_rname, sizeof(def_rname), "hostmaster.%s", in->zone);
	what = "rname";
	bad = o->rname != NULL ? o->rname : def_rname;
	if (!norm_name(bad, rname, &why)) {
		goto bad_name;
	}
	snprintf(in->soa, sizeof(in->soa), "%s %s %" PRIu32 " %" PRIu32 " %"
	         PRIu32 " %" PRIu32 " %" PRIu32, mname, rname, o->serial,
	         o->refresh, o->retry, o->expire, o->minimum);
	return in;

bad_name:
	log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': %s '%s' is not a valid domain "
	    "name (%s)", dlzname, what, bad, why != NULL ? why : "invalid");
fail:
	inst_free(in);
	return NULL;
}

int dlz_version(unsigned int *flags)
{
	/* Lookups read LMDB snapshots under a shared lock: let named run
	 * them on all its worker threads at once. */
	*flags |= AZ_DLZ_THREADSAFE;
	return AZ_DLZ_VERSION;
}

az_dlz_result_t dlz_create(const char *dlzname, unsigned int argc, char *argv[],
                           void **dbdata, ...)
{
	az_dlz_log_t *log = no_log;
	az_dlz_putrr_t *putrr = NULL;

	/* Helpers come as (name, pointer) pairs, ended by a NULL name. */
	va_list ap;
	va_start(ap, dbdata);
	const char *helper;
	while ((helper = va_arg(ap, const char *)) != NULL) {
		if (strcmp(helper, "log") == 0) {
			log = va_arg(ap, az_dlz_log_t *);
		} else if (strcmp(helper, "putrr") == 0) {
			putrr = va_arg(ap, az_dlz_putrr_t *);
		} else {
			(void)va_arg(ap, void *);	/* not used by this driver */
		}
	}
	va_end(ap);
	if (log == NULL) {
		log = no_log;
	}
	if (dlzname == NULL) {
		dlzname = "?";
	}
	if (putrr == NULL) {
		log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': named passed no putrr "
		    "callback", dlzname);
		return AZ_DLZ_FAILURE;
	}

	opts_t o;
	if (!parse_opts(argc, argv, &o, log, dlzname)) {
		return AZ_DLZ_FAILURE;
	}
	inst_t *in = inst_new(dlzname, &o, log);
	if (in == NULL) {
		return AZ_DLZ_FAILURE;
	}
	in->putrr = putrr;
	/* The store may be missing: that is logged, and answered SERVFAIL
	 * below the apex until it appears; the zone itself loads. */
	if (shared_attach(in->db, log, &in->sh) != AZ_EOK) {
		log(AZ_DLZ_LOG_ERROR, "acmezone: dlz '%s': out of memory", dlzname);
		inst_free(in);
		return AZ_DLZ_NOMEMORY;
	}
	log(AZ_DLZ_LOG_INFO, "acmezone: dlz '%s' serves zone '%s' from '%s' "
	    "(ttl %" PRIu32 ")", dlzname, in->zone, in->db, in->ttl);
	*dbdata = in;
	return AZ_DLZ_SUCCESS;
}

void dlz_destroy(void *dbdata)
{
	/* named destroys an instance only once no query can reach it; the
	 * store stays open while another instance (a reload's) uses it. */
	inst_free(dbdata);
}

/* Does text (named's form: lower case, maybe a final dot) name our zone? */
static bool is_our_zone(const inst_t *in, const char *text)
{
	size_t n = strlen(in->zone), t = strlen(text);
	if (t == n + 1 && text[n] == '.') {
		t = n;
	}
	return t == n && strncasecmp(text, in->zone, n) == 0;
}

az_dlz_result_t dlz_findzonedb(void *dbdata, const char *name,
                               az_dlz_clientinfomethods_t *methods,
                               az_dlz_clientinfo_t *clientinfo)
{
	(void)methods;
	(void)clientinfo;
	return is_our_zone(dbdata, name) ? AZ_DLZ_SUCCESS : AZ_DLZ_NOTFOUND;
}

/* Octets txt_text() needs for a value of len octets. */
static size_t txt_text_size(size_t len)
{
	return 2 * len + 3 * ((len + 254) / 255) + 1;
}

/*
 * One value as quoted TXT character-strings of at most 255 octets each,
 * separated by spaces ("first 255" "rest"): named's parser makes one
 * string of each.  Values are printable; out has txt_text_size() octets.
 */
static void txt_text(const az_val_t *v, char *out)
{
	size_t o = 0;
	for (size_t start = 0; start < v->len; start += 255) {
		size_t end = v->len - start < 255 ? v->len : start + 255;
		if (start > 0) {
			out[o++] = ' ';
		}
		out[o++] = '"';
		for (size_t i = start; i < end; i++) {
			uint8_t c = v->data[i];
			if (c == '"' || c == '\\') {
				out[o++] = '\\';
			}
			out[o++] = (char)c;
		}
		out[o++] = '"';
	}
	out[o] = '\0';
}

/* Read lock held: put name's live values; *live receives their count. */
static az_dlz_result_t put_values(inst_t *in, shared_read_t *r, const uint8_t *wire,
                                  az_dlz_lookup_t *lookup, int64_t now,
                                  unsigned *live)
{
	az_rec_iter_t it;
	*live = 0;
	int ret = az_reader_get(r->rd, wire, &it);
	if (ret == AZ_ENOENT) {
		return AZ_DLZ_SUCCESS;
	}
	if (ret == AZ_ECORRUPT) {
		/* Skipped, as mod-acmezone skips it: the name is absent. */
		if (shared_may_log(r->sh)) {
			char text[AZ_NAME_TXTLEN];
			az_name_to_text(wire, text, sizeof(text));
			in->log(AZ_DLZ_LOG_WARNING, "acmezone: the record of '%s' in "
			        "'%s' does not decode; not served", text, in->db);
		}
		return AZ_DLZ_SUCCESS;
	}
	if (ret != AZ_EOK) {
		return AZ_DLZ_FAILURE;
	}
	/*
	 * An RRset no DNS message can carry (a record written before the
	 * store had its limit, or by another tool): named would answer TC
	 * even over TCP, leaving the client nowhere to retry, after parsing
	 * every value.  SERVFAIL at once instead, as knotd answers such a set
	 * from a zone file and as mod-acmezone answers it over TCP.
	 */
	az_rec_iter_t measure = it;
	az_val_t v;
	size_t count = 0, rdata_len = 0;
	while (az_rec_iter_next(&measure, &v)) {
		if (v.expire > now) {
			count++;
			rdata_len += az_txt_rdlen(v.len);
		}
	}
	size_t wlen = az_name_wire_len(wire, AZ_NAME_MAXLEN);
	if (az_answer_len(wlen, count, rdata_len) > AZ_ANSWER_MAXLEN) {
		if (shared_may_log(r->sh)) {
			char name[AZ_NAME_TXTLEN];
			az_name_to_text(wire, name, sizeof(name));
			in->log(AZ_DLZ_LOG_WARNING, "acmezone: the %zu values at '%s' "
			        "do not fit in one DNS message; answering SERVFAIL "
			        "('acmezone del' some of them)", count, name);
		}
		return AZ_DLZ_FAILURE;
	}
	char small[TXT_TEXT_MAX];
	char *big = NULL;
	az_dlz_result_t res = AZ_DLZ_SUCCESS;
	while (az_rec_iter_next(&it, &v)) {
		/* Expired values are never served, purged or not. */
		if (v.expire <= now) {
			continue;
		}
		char *text = small;
		if (txt_text_size(v.len) > sizeof(small)) {
			/* Only long (dns-persist-01) values: rare enough for
			 * an allocation, freed below. */
			free(big);
			if ((big = malloc(txt_text_size(v.len))) == NULL) {
				res = AZ_DLZ_FAILURE;
				break;
			}
			text = big;
		}
		txt_text(&v, text);
		res = in->putrr(lookup, "TXT", in->ttl, text);
		if (res != AZ_DLZ_SUCCESS) {
			break;
		}
		(*live)++;
	}
	free(big);
	return res;
}

az_dlz_result_t dlz_lookup(const char *zone, const char *name, void *dbdata,
                           az_dlz_lookup_t *lookup,
                           az_dlz_clientinfomethods_t *methods,
                           az_dlz_clientinfo_t *clientinfo)
{
	(void)methods;
	(void)clientinfo;
	inst_t *in = dbdata;

	if (!is_our_zone(in, zone)) {
		return AZ_DLZ_NOTFOUND;
	}
	/* The apex has SOA and NS only (dlz_authority puts them), as the
	 * zone file of a mod-acmezone zone: values stored there are not
	 * served, the zone's own data wins. */
	if (strcmp(name, "@") == 0) {
		return AZ_DLZ_SUCCESS;
	}

	/* Names the store cannot hold (wildcard probes "*", escapes, too
	 * long) do not exist: answered without touching the store. */
	char text[AZ_NAME_TXTLEN];
	uint8_t wire[AZ_NAME_MAXLEN];
	size_t wlen;
	int n = snprintf(text, sizeof(text), "%s.%s", name, in->zone);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    az_name_parse(text, wire, &wlen, NULL) != AZ_EOK) {
		return AZ_DLZ_NOTFOUND;
	}

	int64_t now = (int64_t)time(NULL);
	shared_read_t r;
	/* No store to read: SERVFAIL, not NXDOMAIN.  A resolver tries
	 * another server and nobody caches "no such token". */
	if (shared_begin(in->sh, in->log, &r) != AZ_EOK) {
		return AZ_DLZ_FAILURE;
	}
	unsigned live = 0;
	az_dlz_result_t res = put_values(in, &r, wire, lookup, now, &live);
	if (res == AZ_DLZ_SUCCESS && live == 0) {
		/* No live value here: NODATA if something lives below (an
		 * empty non-terminal), else NXDOMAIN. */
		bool ent = false;
		if (shared_is_ent(&r, in->log, wire, wlen, now, &ent) != AZ_EOK) {
			res = AZ_DLZ_FAILURE;
		} else if (!ent) {
			res = AZ_DLZ_NOTFOUND;
		}
	}
	shared_end(&r);
	return res;
}

az_dlz_result_t dlz_authority(const char *zone, void *dbdata, az_dlz_lookup_t *lookup)
{
	inst_t *in = dbdata;
	if (!is_our_zone(in, zone)) {
		return AZ_DLZ_NOTFOUND;
	}
	az_dlz_result_t res = in->putrr(lookup, "SOA", in->soa_ttl, in->soa);
	for (unsigned i = 0; res == AZ_DLZ_SUCCESS && i < in->nns; i++) {
		res = in->putrr(lookup, "NS", in->ns_ttl, in->ns[i]);
	}
	return res;
}
