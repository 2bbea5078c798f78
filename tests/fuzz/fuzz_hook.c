/* fuzz_hook.c -- libFuzzer target: mod-acmezone's answer hook fed arbitrary query packets, knotd stood in for. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * As for tests/harness/test_hook.c, tests/lib/knotd-standin.h provides the knotd_*
 * functions the module calls; the module (acmezone.c, table.c, sync.c) and the store are
 * linked in.  Before the first input a store with a few names (one with an
 * RRset too large for a small packet, one under an empty non-terminal) is
 * created and loaded by the module's own sync thread.  Each input is then
 * a query as it could arrive on the wire: whatever libknot parses is given
 * to the hook the way knotd would, with a response packet of a size the
 * input picks, and the response must still be a well-formed packet.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <knot/module.h>
#include <urcu.h>

#include "knotd-standin.h"
#include "store.h"

extern const knotd_mod_api_t knotd_mod_api;

static char dir[] = "/tmp/az-fuzz-hook-XXXXXX";
static char db[128];

static void put(az_txn_t *t, const char *name, const char *value, int64_t expire)
{
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	if (az_name_parse(name, w, &len, NULL) != AZ_EOK ||
	    az_txn_add(t, w, (const uint8_t *)value, strlen(value), expire,
	               (int64_t)time(NULL)) != AZ_EOK) {
		abort();
	}
}

static void self_test(void);

static void cleanup(void)
{
	knotd_mod_api.unload(&mod);
	rcu_unregister_thread();
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		/* nothing more to do */
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL) {
		abort();
	}
	snprintf(db, sizeof(db), "%s/acmezone.mdb", dir);
	/* Written and closed before the module opens it: one open per file. */
	az_store_t *st;
	az_txn_t *t;
	int64_t now = (int64_t)time(NULL);
	if (az_store_create(db, (gid_t)-1) != AZ_EOK || az_store_open(&st, db, 0) != AZ_EOK ||
	    az_txn_begin(st, &t) != AZ_EOK) {
		abort();
	}
	put(t, "_acme-challenge.example.test", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK-_0123", now + 86400);
	put(t, "_acme-challenge.example.test", "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONM-_9", now + 86400);
	put(t, "_acme-challenge.deep.below.example.test", "a value with \"quotes\" and \\ too", now + 86400);
	put(t, "gone.example.test", "expired long ago", now - 10);
	char big[201];
	memset(big, 'x', 200);
	big[200] = '\0';
	for (int i = 0; i < 12; i++) {
		big[0] = (char)('a' + i);
		put(t, "big.example.test", big, now + 86400);
	}
	if (az_txn_commit(t, NULL) != AZ_EOK) {
		abort();
	}
	az_store_close(st);

	rcu_register_thread();
	mod.db = db;
	mod.ttl = 10;
	if (knotd_mod_api.load(&mod) != KNOT_EOK || mod.hook == NULL) {
		abort();
	}
	/* Wait (bounded) for the module's first load. */
	for (int i = 0; i < 1000 && standin_ctr("syncs") == 0; i++) {
		usleep(5000);
	}
	if (standin_ctr("syncs") == 0) {
		abort();
	}
	atexit(cleanup);
	self_test();
	return 0;
}

static int run(const uint8_t *data, size_t size, unsigned *answers);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return run(data, size, NULL);
}

/* The seed the harness must answer, or the fuzzing would be of nothing. */
static void self_test(void)
{
	static const uint8_t q[] =
		"\x00"				/* knobs: 512 octets, state MISS */
		"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
		"\x0f""_acme-challenge""\x07""example""\x04""test""\x00"
		"\x00\x10\x00\x01";
	unsigned answers = 0;
	if (run(q, sizeof(q) - 1, &answers) != 0 || answers != 2) {
		fprintf(stderr, "fuzz_hook: the store's token is not answered (%u)\n", answers);
		abort();
	}
}

static int run(const uint8_t *data, size_t size, unsigned *answers)
{
	static knotd_qdata_params_t params = { .thread_id = 0 };
	static const uint16_t sizes[4] = { 512, 1232, 4096, 65535 };
	static const knotd_in_state_t states[4] = {
		KNOTD_IN_STATE_MISS, KNOTD_IN_STATE_MISS, KNOTD_IN_STATE_HIT,
		KNOTD_IN_STATE_NODATA,
	};
	if (size < 1 || size - 1 > KNOT_WIRE_MAX_PKTSIZE) {
		return 0;
	}
	/* First octet: response size and the state earlier stages left. */
	uint8_t knobs = data[0];
	data++;
	size--;

	knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (q == NULL) {
		return 0;
	}
	memcpy(q->wire, data, size);
	q->size = size;
	if (knot_pkt_parse(q, 0) != KNOT_EOK || knot_wire_get_qdcount(q->wire) != 1 ||
	    knot_pkt_qname(q) == NULL) {
		knot_pkt_free(q);
		return 0;	/* knotd answers FORMERR before any module */
	}
	knot_pkt_t *resp = knot_pkt_new(NULL, sizes[knobs & 3], NULL);
	if (resp == NULL || knot_pkt_init_response(resp, q) != KNOT_EOK) {
		knot_pkt_free(resp);
		knot_pkt_free(q);
		return 0;
	}
	knot_dname_storage_t lname;
	knot_dname_copy_lower(lname, knot_pkt_qname(q));
	knotd_qdata_t qdata;
	memset(&qdata, 0, sizeof(qdata));
	qdata.query = q;
	qdata.type = KNOTD_QUERY_TYPE_NORMAL;
	qdata.name = lname;
	qdata.rcode = KNOT_RCODE_NXDOMAIN;
	qdata.params = &params;
	qdata.mm = &resp->mm;

	rcu_read_lock();	/* knotd runs every hook inside its read section */
	knotd_in_state_t st = mod.hook(states[(knobs >> 2) & 3], resp, &qdata, &mod);
	rcu_read_unlock();

	if (answers != NULL) {
		const knot_pktsection_t *an = knot_pkt_section(resp, KNOT_ANSWER);
		*answers = (st == KNOTD_IN_STATE_HIT && an->count == 1) ?
		           knot_pkt_rr(an, 0)->rrs.count : 0;
	}
	if (st == KNOTD_IN_STATE_HIT) {
		/* What the hook put must parse back as a packet. */
		knot_pkt_t *check = knot_pkt_new(resp->wire, resp->size, NULL);
		if (check == NULL || knot_pkt_parse(check, 0) != KNOT_EOK) {
			abort();
		}
		knot_pkt_free(check);
	}
	knot_pkt_free(resp);
	knot_pkt_free(q);
	return 0;
}
