/* test_hook.c -- stands in for knotd: loads the real acmezone.so and calls its answer hook with libknot packets. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <knot/module.h>
#include <urcu.h>

#include "knotd-standin.h"
#include "store.h"
#include "tap.h"
#include "testlib.h"

/*** Helpers. ***/

static const char *V1 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK-_0123";
static const char *V2 = "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONM-_9";
static char dir[] = "/tmp/az-test-hook-XXXXXX";
static char db[256];

static uint64_t ctr(const char *name)
{
	return standin_ctr(name);
}

static bool logged(const char *needle)
{
	return standin_logged(needle);
}

/* Write values at name like the CLI does: commit, ring, wait for the ack. */
static int store_add_here(const char *name, const char *value, int64_t expire, bool raw_del)
{
	az_store_t *st;
	az_txn_t *t;
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	int64_t now = (int64_t)time(NULL);
	az_name_parse(name, w, &len, NULL);
	int ret = az_store_open(&st, db, 0);
	if (ret != AZ_EOK) {
		return ret;
	}
	az_txn_begin(st, &t);
	if (raw_del) {
		az_txn_del(t, w, NULL, 0, NULL);
	} else {
		az_txn_add(t, w, (const uint8_t *)value, strlen(value), expire, now);
	}
	uint64_t id;
	ret = az_txn_commit(t, &id);
	az_store_close(st);
	az_notify_t *nt;
	if (ret == AZ_EOK && (ret = az_notify_open(&nt, db, false)) == AZ_EOK) {
		az_notify_ring(nt);
		ret = az_notify_wait(nt, id, 5000, NULL);
		az_notify_close(nt);
	}
	return ret;
}

/* tests/lib/aztool with args; its exit status (-1: did not run). */
static int aztool(char *const args[])
{
	const char *top = getenv("top_builddir");
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/lib/aztool", top ? top : ".");
	char *argv[8] = { path };
	for (int i = 0; i < 6 && args[i] != NULL; i++) {
		argv[i + 1] = args[i];
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execv(path, argv);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		return -1;
	}
	return WEXITSTATUS(status);
}

/* Writes run in a child process, as the CLI does (see testlib.h). */
static int store_add(const char *name, const char *value, int64_t expire, bool del)
{
	char exp[32];
	snprintf(exp, sizeof(exp), "%lld", (long long)expire);
	char *args[] = { del ? "del" : "add", db, (char *)name,
	                 value != NULL ? (char *)value : "", exp, NULL };
	return test_run_self(args) == 0 ? AZ_EOK : AZ_EIO;
}

/* The other end of test_run_self(): "--child OP ARGS". */
static int child_main(int argc, char **argv)
{
	if (argc == 7 && (strcmp(argv[2], "add") == 0 || strcmp(argv[2], "del") == 0)) {
		snprintf(db, sizeof(db), "%s", argv[3]);
		return store_add_here(argv[4], argv[5], atoll(argv[6]),
		                      strcmp(argv[2], "del") == 0) == AZ_EOK ? 0 : 1;
	} else if (argc == 4 && strcmp(argv[2], "create") == 0) {
		return az_store_create(argv[3], (gid_t)-1) == AZ_EOK ? 0 : 1;
	}
	return 2;
}

typedef struct {
	knotd_in_state_t state;
	knot_pkt_t *resp;
	knotd_qdata_t qdata;
	knot_pkt_t *query;
	knot_dname_t lname[KNOT_DNAME_MAXLEN];
} answer_t;

/* What the packet's memory context gave out while the hook ran. */
static size_t mm_allocs, mm_bytes;
static bool mm_counting;

static void *count_alloc(void *ctx, size_t len)
{
	(void)ctx;
	if (mm_counting) {
		mm_allocs++;
		mm_bytes += len;
	}
	return malloc(len);
}

static knot_mm_t counting_mm = { NULL, count_alloc, free };

/* The transport the next ask() says the query came over. */
static knotd_query_proto_t ask_proto = KNOTD_QUERY_PROTO_UDP;

/* Build a query as knotd receives it and run the hook on it. */
static void ask(answer_t *a, const char *qname_text, uint16_t qtype, uint16_t max_size,
                knotd_in_state_t in_state)
{
	static knotd_qdata_params_t params = { .thread_id = 0 };
	params.proto = ask_proto;
	uint8_t qname[KNOT_DNAME_MAXLEN];
	memset(a, 0, sizeof(*a));
	knot_dname_from_str(qname, qname_text, sizeof(qname));

	/* Query: written to wire and parsed back, as knotd would. */
	knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_pkt_put_question(q, qname, KNOT_CLASS_IN, qtype);
	a->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	memcpy(a->query->wire, q->wire, q->size);
	a->query->size = q->size;
	knot_pkt_free(q);
	knot_pkt_parse(a->query, 0);

	a->resp = knot_pkt_new(NULL, max_size, &counting_mm);
	knot_pkt_init_response(a->resp, a->query);

	/* qdata->name is the lower-cased QNAME. */
	knot_dname_copy_lower(a->lname, knot_pkt_qname(a->query));
	a->qdata.query = a->query;
	a->qdata.type = KNOTD_QUERY_TYPE_NORMAL;
	a->qdata.name = a->lname;
	a->qdata.rcode = KNOT_RCODE_NXDOMAIN;
	a->qdata.params = &params;

	rcu_read_lock();	/* knotd calls every hook inside its read section */
	mm_allocs = mm_bytes = 0;
	mm_counting = true;
	a->state = mod.hook(in_state, a->resp, &a->qdata, &mod);
	mm_counting = false;
	rcu_read_unlock();
}

static void done(answer_t *a)
{
	knot_pkt_free(a->resp);
	knot_pkt_free(a->query);
}

static unsigned answer_rdatas(answer_t *a, uint32_t *ttl, uint16_t *type)
{
	const knot_pktsection_t *an = knot_pkt_section(a->resp, KNOT_ANSWER);
	if (an->count != 1) {
		return 0;
	}
	const knot_rrset_t *rr = knot_pkt_rr(an, 0);
	*ttl = rr->ttl;
	*type = rr->type;
	return rr->rrs.count;
}

/*
 * The text of one TXT rdata, its character-strings joined, into out (at
 * least AZ_TXT_MAXLEN + 1); *strings gets their number.  false if the
 * rdata does not parse.
 */
static bool rdata_text(const knot_rdata_t *rd, char *out, unsigned *strings)
{
	size_t o = 0, pos = 0;
	*strings = 0;
	while (pos < rd->len) {
		size_t n = rd->data[pos++];
		if (n > rd->len - pos || o + n > AZ_TXT_MAXLEN) {
			return false;
		}
		memcpy(out + o, rd->data + pos, n);
		o += n;
		pos += n;
		(*strings)++;
	}
	out[o] = '\0';
	return true;
}

/* Does the TXT RRset in the answer hold this text (in *strings strings)? */
static bool answer_has_text(answer_t *a, const char *value, unsigned *strings)
{
	static char text[AZ_TXT_MAXLEN + 1];
	const knot_pktsection_t *an = knot_pkt_section(a->resp, KNOT_ANSWER);
	if (an->count != 1) {
		return false;
	}
	const knot_rrset_t *rr = knot_pkt_rr(an, 0);
	knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 0; i < rr->rrs.count; i++) {
		if (rdata_text(rd, text, strings) && strcmp(text, value) == 0) {
			return true;
		}
		rd = knot_rdataset_next(rd);
	}
	return false;
}

static bool answer_has(answer_t *a, const char *value)
{
	unsigned strings;
	return answer_has_text(a, value, &strings) && strings == 1;
}

/* Is the RRset in the answer in canonical order (knot_rdata_cmp())? */
static bool answer_canonical(answer_t *a)
{
	const knot_rrset_t *rr = knot_pkt_rr(knot_pkt_section(a->resp, KNOT_ANSWER), 0);
	knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 1; i < rr->rrs.count; i++) {
		knot_rdata_t *next = knot_rdataset_next(rd);
		if (knot_rdata_cmp(rd, next) >= 0) {
			return false;
		}
		rd = next;
	}
	return true;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], TEST_CHILD_FLAG) == 0) {
		return child_main(argc, argv);
	}
	const char *top = getenv("top_builddir");
	char so[512];
	snprintf(so, sizeof(so), "%s/.libs/acmezone.so", top ? top : ".");
	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	snprintf(db, sizeof(db), "%s/acmezone.mdb", dir);
	rcu_register_thread();

	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!tap_ok(h != NULL, "dlopen %s", so)) {
		tap_diag("%s", dlerror());
		return tap_done();
	}
	const knotd_mod_api_t *api = dlsym(h, "knotd_mod_api");
	tap_ok(api != NULL && api->version == KNOTD_MOD_ABI_VERSION &&
	       strcmp(api->name, "mod-acmezone") == 0, "exports knotd_mod_api for ABI %d", KNOTD_MOD_ABI_VERSION);
	tap_ok(api->config != NULL && api->load != NULL && api->unload != NULL, "schema, load and unload present");

	int before = test_threads();
	mod.db = db;
	mod.ttl = 7;
	tap_is(api->load(&mod), KNOT_EOK, "load() succeeds with the database missing");
	tap_ok(mod.hook != NULL, "an answer hook is registered");
	bool said = false;
	for (int i = 0; i < 400 && !said; i++) {
		said = logged("cannot be opened");
		usleep(5000);
	}
	tap_ok(said, "the missing database is logged");

	answer_t a;
	ask(&a, "x.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
	tap_is(a.state, KNOTD_IN_STATE_MISS, "no database: a miss, Knot answers NXDOMAIN");
	done(&a);

	/* The database appears. */
	char *create[] = { "create", db, NULL };
	tap_is(test_run_self(create), 0, "the database is created (by another process)");
	int64_t now = (int64_t)time(NULL);
	store_add("_acme-challenge.deep.acme-test", V1, now + 3600, false);
	bool up = false;
	for (int i = 0; i < 400 && !up; i++) {
		ask(&a, "_acme-challenge.deep.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
		up = a.state == KNOTD_IN_STATE_HIT;
		done(&a);
		if (!up) {
			usleep(5000);
		}
	}
	tap_ok(up, "the module picks the database up when it appears");

	tap_is(store_add("a.acme-test", V1, now + 3600, false), AZ_EOK, "write acknowledged by the module");
	store_add("a.acme-test", V2, now + 3600, false);

	uint32_t ttl = 0;
	uint16_t type = 0;
	ask(&a, "A.aCmE-TeSt.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
	tap_is(a.state, KNOTD_IN_STATE_HIT, "TXT at a name with values: HIT");
	tap_is(answer_rdatas(&a, &ttl, &type), 2, "both values in one RRset");
	tap_ok(answer_has(&a, V1) && answer_has(&a, V2), "the RRset holds exactly the values written");
	tap_is(ttl, 7, "TTL is the configured ttl");
	tap_is(type, KNOT_RRTYPE_TXT, "type TXT");
	/* The answer's owner must be a pointer to the question name. */
	size_t qend = KNOT_WIRE_HEADER_SIZE + knot_dname_size(knot_pkt_qname(a.query)) + 4;
	tap_ok(a.resp->size > qend + 2 && a.resp->wire[qend] == 0xc0 &&
	       a.resp->wire[qend + 1] == KNOT_WIRE_HEADER_SIZE,
	       "answer owner is compressed to the question: the 0x20 case is echoed");
	tap_ok(memcmp(a.resp->wire + KNOT_WIRE_HEADER_SIZE, "\x01""A""\x09""aCmE-TeSt", 12) == 0,
	       "the question keeps the client's case");
	done(&a);

	/* Values longer than one character-string (dns-persist-01 records):
	 * cut into strings of 255, in canonical order among the others. */
	static char long1[601], long2[601], exact[256];
	memset(long1, 'p', 600);
	memset(long2, 'p', 600);
	long2[599] = 'q';		/* differs in its last string only */
	memset(exact, 'e', 255);
	store_add("long.acme-test", long2, now + 3600, false);
	store_add("long.acme-test", long1, now + 3600, false);
	store_add("long.acme-test", exact, now + 3600, false);
	store_add("long.acme-test", V1, now + 3600, false);
	ask(&a, "long.acme-test.", KNOT_RRTYPE_TXT, 65535, KNOTD_IN_STATE_MISS);
	unsigned strings = 0, strings2 = 0;
	tap_ok(answer_rdatas(&a, &ttl, &type) == 4 && answer_has_text(&a, long1, &strings) &&
	       answer_has_text(&a, long2, &strings2), "600-octet values are served whole");
	tap_ok(strings == 3 && strings2 == 3, "... each as three character-strings (255, 255, 90)");
	tap_ok(answer_has(&a, exact) && answer_has(&a, V1), "a 255-octet value is one string");
	tap_ok(answer_canonical(&a), "the RRset is in canonical order (knot_rdata_cmp)");
	done(&a);
	store_add("long.acme-test", NULL, 0, true);

	ask(&a, "a.acme-test.", KNOT_RRTYPE_ANY, 512, KNOTD_IN_STATE_MISS);
	tap_ok(a.state == KNOTD_IN_STATE_HIT && answer_rdatas(&a, &ttl, &type) == 2,
	       "ANY is answered with the TXT RRset");
	done(&a);

	ask(&a, "a.acme-test.", KNOT_RRTYPE_A, 512, KNOTD_IN_STATE_MISS);
	tap_ok(a.state == KNOTD_IN_STATE_NODATA && a.qdata.rcode == KNOT_RCODE_NOERROR,
	       "another type at the name: NODATA, rcode NOERROR (Knot adds the SOA)");
	tap_is(knot_pkt_section(a.resp, KNOT_ANSWER)->count, 0, "... and an empty answer section");
	done(&a);

	ask(&a, "nope.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
	tap_ok(a.state == KNOTD_IN_STATE_MISS && a.qdata.rcode == KNOT_RCODE_NXDOMAIN,
	       "unknown name: state left as MISS (NXDOMAIN)");
	done(&a);

	ask(&a, "deep.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
	tap_ok(a.state == KNOTD_IN_STATE_NODATA && a.qdata.rcode == KNOT_RCODE_NOERROR,
	       "empty non-terminal above a deeper name: NODATA, not NXDOMAIN");
	done(&a);

	ask(&a, "a.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_HIT);
	tap_ok(a.state == KNOTD_IN_STATE_HIT && knot_pkt_section(a.resp, KNOT_ANSWER)->count == 0,
	       "a name the zone itself answered is left alone");
	done(&a);

	/* Too big for the packet: TC. */
	char big[201];
	memset(big, 'x', 200);
	big[200] = '\0';
	for (int i = 0; i < 5; i++) {
		big[0] = (char)('a' + i);
		store_add("big.acme-test", big, now + 3600, false);
	}
	ask(&a, "big.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
	tap_is(a.state, KNOTD_IN_STATE_TRUNC, "an RRset larger than the packet: TRUNC (TC over UDP)");
	done(&a);
	ask(&a, "big.acme-test.", KNOT_RRTYPE_TXT, 65535, KNOTD_IN_STATE_MISS);
	tap_ok(a.state == KNOTD_IN_STATE_HIT && answer_rdatas(&a, &ttl, &type) == 5,
	       "the same in a large (TCP) packet: all 5 values");
	done(&a);

	/*
	 * 1024 values at one name, written in no order: all of them in one
	 * TCP-sized answer, in canonical order, built in one pass -- counted
	 * through the packet's memory context, not timed.  (Sorted insertion
	 * reallocated the rdataset per value: 1024 allocations and about
	 * 28 MB copied for this answer.)
	 */
	char *many[] = { "huge", db, "many.acme-test", "1024", "43", NULL };
	tap_is(aztool(many), 0, "1024 values at one name, in no order");
	for (int i = 0; i < 400 && ctr("tokens") < 1024; i++) {
		usleep(5000);	/* aztool rings but does not wait */
	}
	ask_proto = KNOTD_QUERY_PROTO_TCP;
	ask(&a, "many.acme-test.", KNOT_RRTYPE_TXT, 65535, KNOTD_IN_STATE_MISS);
	tap_ok(a.state == KNOTD_IN_STATE_HIT && answer_rdatas(&a, &ttl, &type) == 1024,
	       "all 1024 in one answer over TCP");
	{
		const knot_pktsection_t *an = knot_pkt_section(a.resp, KNOT_ANSWER);
		const knot_rrset_t *rr = an->count == 1 ? knot_pkt_rr(an, 0) : NULL;
		size_t rrs_size = rr != NULL ? rr->rrs.size : 0;
		unsigned ordered = 0;
		knot_rdata_t *rd = rr != NULL ? rr->rrs.rdata : NULL;
		for (uint16_t i = 1; rr != NULL && i < rr->rrs.count; i++) {
			knot_rdata_t *next = knot_rdataset_next(rd);
			ordered += knot_rdata_cmp(rd, next) < 0;
			rd = next;
		}
		tap_is(ordered, 1023, "in canonical order, no duplicates");
		tap_ok(rr != NULL && mm_allocs <= 4, "built with %zu allocations (owner, rdataset, packet's own)",
		       mm_allocs);
		tap_ok(rr != NULL && mm_bytes <= rrs_size + 4096, "... of %zu octets for a %zu-octet rdataset",
		       mm_bytes, rrs_size);
		/* The wire: the 1024 RRs in the same order, from the question
		 * (compressed owners), the whole message under 64 KiB. */
		tap_ok(knot_wire_get_ancount(a.resp->wire) == 1024 &&
		       a.resp->size <= AZ_ANSWER_MAXLEN, "the message has 1024 RRs in %zu octets",
		       a.resp->size);
	}
	done(&a);

	/*
	 * A record larger than one DNS message (written with plain LMDB:
	 * the store refuses it now), as knotd answers the same records from
	 * a zone file: TC over UDP, SERVFAIL over TCP, where TC would leave
	 * the client nowhere to retry.
	 */
	char *huge[] = { "huge", db, "huge.acme-test", "300", "255", NULL };
	tap_is(aztool(huge), 0, "300 values of 255 octets at one name, behind the store's back");
	bool seen = false;
	for (int i = 0; i < 400 && !seen; i++) {
		ask(&a, "huge.acme-test.", KNOT_RRTYPE_TXT, 65535, KNOTD_IN_STATE_MISS);
		seen = a.state != KNOTD_IN_STATE_MISS;
		done(&a);
		if (!seen) {
			usleep(5000);
		}
	}
	ask(&a, "huge.acme-test.", KNOT_RRTYPE_TXT, 65535, KNOTD_IN_STATE_MISS);
	tap_ok(a.state == KNOTD_IN_STATE_ERROR && a.qdata.rcode == KNOT_RCODE_SERVFAIL,
	       "over TCP: ERROR with SERVFAIL, not TC");
	tap_is(knot_pkt_section(a.resp, KNOT_ANSWER)->count, 0, "... and no partial answer");
	done(&a);
	ask_proto = KNOTD_QUERY_PROTO_UDP;
	ask(&a, "huge.acme-test.", KNOT_RRTYPE_TXT, 1232, KNOTD_IN_STATE_MISS);
	tap_is(a.state, KNOTD_IN_STATE_TRUNC, "over UDP: TRUNC (TC), the client retries over TCP");
	done(&a);
	char *clean[] = { "del", db, "huge.acme-test", "", "0", NULL };
	tap_is(test_run_self(clean), 0, "the huge record removed");
	char *clean2[] = { "del", db, "many.acme-test", "", "0", NULL };
	tap_is(test_run_self(clean2), 0, "the 1024 values removed");

	/* Expiry is checked on every query. */
	now = (int64_t)time(NULL);
	store_add("soon.acme-test", V1, now + 3, false);
	ask(&a, "soon.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
	if ((int64_t)time(NULL) < now + 3) {
		tap_is(a.state, KNOTD_IN_STATE_HIT, "a value about to expire is served");
	} else {
		tap_ok(1, "a value about to expire is served # SKIP the write took over 3 s here");
	}
	done(&a);
	while ((int64_t)time(NULL) <= now + 3) {
		usleep(20000);	/* waiting for the wall clock itself */
	}
	ask(&a, "soon.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
	tap_is(a.state, KNOTD_IN_STATE_MISS, "once expired it is never served");
	done(&a);

	store_add("a.acme-test", NULL, 0, true);
	ask(&a, "a.acme-test.", KNOT_RRTYPE_TXT, 512, KNOTD_IN_STATE_MISS);
	tap_is(a.state, KNOTD_IN_STATE_MISS, "deleted name: miss right after the write returns");
	done(&a);

	tap_ok(ctr("answers") >= 5, "answers counter (%llu)", (unsigned long long)ctr("answers"));
	tap_ok(ctr("nodata") == 2, "nodata counter (%llu)", (unsigned long long)ctr("nodata"));
	tap_ok(ctr("misses") >= 4, "misses counter (%llu)", (unsigned long long)ctr("misses"));
	tap_ok(ctr("syncs") >= 5, "syncs counter (%llu)", (unsigned long long)ctr("syncs"));
	tap_is(ctr("tokens"), 6, "tokens gauge: deep + 5 big (soon expired, a deleted)");

	api->unload(&mod);
	tap_is(test_threads(), before, "unload() leaves no thread behind");
	dlclose(h);
	rcu_unregister_thread();
	test_rmtree(dir);
	return tap_done();
}
