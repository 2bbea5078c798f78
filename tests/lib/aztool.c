/* aztool.c -- fault injection for the shell tests: damage a store the way another program or a bad disk would. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * aztool schema DB N           set the schema record to N with plain LMDB
 *                              (a newer or older acmezone), one commit
 * aztool flip FILE STRING AT   in FILE, flip bit 0x02 of octet AT of every
 *                              copy of STRING ('a' <-> 'c': the record still
 *                              decodes, only its checksum can tell); prints
 *                              the number of copies changed
 * aztool huge DB NAME N LEN    put N distinct values of LEN octets at NAME,
 *                              in no order, as one record written with
 *                              plain LMDB, change log included, and
 *                              ring the doorbell: a record the store now
 *                              refuses (AZ_E2BIG), as an older acmezone
 *                              could write it
 * aztool obs DB NAME PUB_MS QUERIES
 *                              write the observation file of DB (as
 *                              mod-acmezone would) with one name seen
 *                              QUERIES times since publication PUB_MS
 *                              from one resolver
 * aztool check DB              open the store as a reader and walk it:
 *                              exit 0 if every record decodes and verifies,
 *                              1 if one does not, 2 if it cannot be read;
 *                              prints "names=N values=M corrupt=K"
 *
 * The 'flip' command works on any file: tests flip a copy and rename it
 * over the store, as a restore from a damaged backup would.
 */

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "observe.h"
#include "store.h"

static int usage(void)
{
	fprintf(stderr, "usage: aztool schema DB N | flip FILE STRING AT | "
	        "huge DB NAME N LEN | obs DB NAME PUB_MS QUERIES | check DB |\n"
	        "       hist DB OP CLIENT DOMAIN AGE_S\n");
	return 2;
}

/* An observation file with one name, through the module's own encoder. */
static int cmd_obs(const char *db, const char *text, const char *pub, const char *queries)
{
	az_obs_name_t e = { .pub_ms = atoll(pub), .queries = strtoull(queries, NULL, 10),
	                    .sources = 1, .nsrc = 1 };
	az_obs_t obs = { .written_ms = (int64_t)time(NULL) * 1000, .slots = 16, .used = 1,
	                 .count = 1, .names = &e };
	char path[4096];
	const char *why;
	uint8_t *buf;
	size_t n;
	int ret;

	e.udp = e.served = e.queries;
	e.first_ms = e.last_ms = e.pub_ms + 1000;
	e.src[0].family = 4;
	e.src[0].addr[0] = 127;
	e.src[0].addr[3] = 1;
	if (az_name_parse(text, e.name, &e.name_len, &why) != AZ_EOK ||
	    az_obs_path(db, path, sizeof(path)) != AZ_EOK) {
		fprintf(stderr, "aztool: obs: bad name or path\n");
		return 1;
	}
	n = az_obs_size(&obs);
	buf = malloc(n);
	if (buf == NULL || az_obs_encode(&obs, buf, n) != n) {
		free(buf);
		fprintf(stderr, "aztool: obs: cannot encode\n");
		return 1;
	}
	ret = az_obs_write(path, buf, n);
	free(buf);
	if (ret != AZ_EOK) {
		fprintf(stderr, "aztool: obs: %s\n", az_strerror(ret));
		return 1;
	}
	return 0;
}

static int cmd_schema(const char *db, const char *n)
{
	uint8_t v[4] = { 0, 0, 0, (uint8_t)atoi(n) };
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi meta;
	MDB_val k = { 6, "schema" }, d = { 4, v };
	int ret;
	if ((ret = mdb_env_create(&env)) || (ret = mdb_env_set_maxdbs(env, 4)) ||
	    (ret = mdb_env_open(env, db, MDB_NOSUBDIR, 0640)) ||
	    (ret = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (ret = mdb_dbi_open(txn, "meta", 0, &meta)) ||
	    (ret = mdb_put(txn, meta, &k, &d, 0)) || (ret = mdb_txn_commit(txn))) {
		fprintf(stderr, "aztool: schema: %s\n", mdb_strerror(ret));
		return 1;
	}
	mdb_env_close(env);
	return 0;
}

static int cmd_flip(const char *path, const char *needle, const char *at_text)
{
	size_t nl = strlen(needle), at = (size_t)atol(at_text);
	int fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || nl == 0 || at >= nl) {
		fprintf(stderr, "aztool: flip: cannot use '%s' (%s)\n", path, strerror(errno));
		return 2;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		return 2;
	}
	unsigned n = 0;
	for (size_t i = 0; i + nl <= len; i++) {
		if (memcmp(p + i, needle, nl) == 0) {
			p[i + at] ^= 0x02;
			n++;
		}
	}
	munmap(p, len);
	printf("%u\n", n);
	return n > 0 ? 0 : 1;
}

static int cmd_huge(const char *db, const char *text, const char *n_text,
                    const char *len_text)
{
	unsigned n = (unsigned)atoi(n_text), len = (unsigned)atoi(len_text);
	uint8_t w[AZ_NAME_MAXLEN], kb[8], lv[1 + AZ_NAME_MAXLEN];
	size_t wl;
	static az_val_t vals[AZ_MAX_VALUES];
	static uint8_t text_buf[AZ_MAX_VALUES][AZ_VALUE_MAXLEN];
	static uint8_t rec[AZ_REC_MAXLEN];
	if (az_name_parse(text, w, &wl, NULL) != AZ_EOK || n == 0 ||
	    n > AZ_MAX_VALUES || len < 8 || len > AZ_VALUE_MAXLEN) {
		return usage();
	}
	int64_t expire = (int64_t)time(NULL) + 3600;
	for (unsigned i = 0; i < n; i++) {
		char head[16];
		memset(text_buf[i], 'h', len);
		/* 7919 is prime: the values go in in no order, each once. */
		snprintf(head, sizeof(head), "%07u", (7919 * i) % n);
		memcpy(text_buf[i], head, 7);
		vals[i] = (az_val_t){ .expire = expire, .len = (uint16_t)len, .data = text_buf[i] };
	}
	size_t rl = az_rec_encode(rec, sizeof(rec) - AZ_REC_SUMLEN, vals, n);
	rl = rl > 0 ? az_rec_seal(rec, rl, sizeof(rec), w, wl) : 0;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi tok, log;
	int ret = rl == 0 ? EINVAL : 0;
	if (ret == 0 && ((ret = mdb_env_create(&env)) || (ret = mdb_env_set_maxdbs(env, 4)) ||
	    (ret = mdb_env_open(env, db, MDB_NOSUBDIR, 0640)) ||
	    (ret = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (ret = mdb_dbi_open(txn, "tok", 0, &tok)) ||
	    (ret = mdb_dbi_open(txn, "log", 0, &log)))) {
		fprintf(stderr, "aztool: huge: %s\n", mdb_strerror(ret));
		return 1;
	}
	uint64_t id = (uint64_t)mdb_txn_id(txn);
	for (int i = 7; i >= 0; i--, id >>= 8) {
		kb[i] = (uint8_t)id;
	}
	lv[0] = 0;		/* a list of names: this one */
	memcpy(lv + 1, w, wl);
	MDB_val k = { wl, w }, d = { rl, rec }, lk = { 8, kb }, ld = { 1 + wl, lv };
	if ((ret = mdb_put(txn, tok, &k, &d, 0)) || (ret = mdb_put(txn, log, &lk, &ld, 0)) ||
	    (ret = mdb_txn_commit(txn))) {
		fprintf(stderr, "aztool: huge: %s\n", mdb_strerror(ret));
		return 1;
	}
	mdb_env_close(env);
	az_notify_t *nt = NULL;
	if (az_notify_open(&nt, db, false) == AZ_EOK) {
		az_notify_ring(nt);
		az_notify_close(nt);
	}
	return 0;
}

typedef struct {
	unsigned long names, values, corrupt;
} count_t;

static int count_one(const uint8_t *name, az_rec_iter_t *rec, void *ctx)
{
	count_t *c = ctx;
	if (name == NULL || rec == NULL) {
		c->corrupt++;
		return 0;
	}
	c->names++;
	c->values += az_rec_iter_count(rec);
	return 0;
}

static int cmd_check(const char *db)
{
	az_store_t *st = NULL;
	az_reader_t *rd = NULL;
	count_t c = { 0, 0, 0 };
	int ret = az_store_open(&st, db, AZ_OPEN_RDONLY);
	if (ret == AZ_EOK) {
		ret = az_reader_begin(st, &rd);
	}
	if (ret == AZ_EOK) {
		ret = az_reader_foreach(rd, NULL, count_one, &c);
	}
	az_reader_end(rd);
	az_store_close(st);
	if (ret != AZ_EOK) {
		fprintf(stderr, "aztool: check: %s\n", az_strerror(ret));
		return 2;
	}
	printf("names=%lu values=%lu corrupt=%lu\n", c.names, c.values, c.corrupt);
	return c.corrupt == 0 ? 0 : 1;
}

/*
 * A history event AGE_S seconds old (OP: add, del, issued, failed; an
 * issuance expires in 60 days): what a hook would have written then, for
 * the report's rules that look at how long ago something happened.
 */
static int cmd_hist(const char *db, const char *op, const char *client, const char *domain,
                    const char *age)
{
	static az_hist_event_t ev;	/* large */
	az_store_t *st = NULL;
	az_txn_t *txn = NULL;
	int64_t now_ms = (int64_t)time(NULL) * 1000;
	int ret;

	memset(&ev, 0, sizeof(ev));
	for (int o = AZ_HIST_ADD; o <= AZ_HIST_FAILED; o++) {
		if (strcmp(op, az_hist_op_name((az_hist_op_t)o)) == 0) {
			ev.op = (az_hist_op_t)o;
		}
	}
	if (ev.op == 0) {
		fprintf(stderr, "aztool: hist: '%s' is not add, del, issued or failed\n", op);
		return 2;
	}
	ev.time_ms = now_ms - atoll(age) * 1000;
	ev.not_after = ev.op == AZ_HIST_ISSUED ? now_ms / 1000 + 60 * 86400 : 0;
	snprintf(ev.client, sizeof(ev.client), "%s", client);
	snprintf(ev.host, sizeof(ev.host), "aztool");
	snprintf(ev.domain, sizeof(ev.domain), "%s", domain);
	if ((ret = az_store_open(&st, db, 0)) == AZ_EOK &&
	    (ret = az_txn_begin(st, &txn)) == AZ_EOK &&
	    (ret = az_hist_append(txn, &ev, NULL)) == AZ_EOK) {
		ret = az_txn_commit(txn, NULL);
		txn = NULL;
	}
	az_txn_abort(txn);
	az_store_close(st);
	if (ret != AZ_EOK) {
		fprintf(stderr, "aztool: hist: %s\n", az_strerror(ret));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "schema") == 0) {
		return cmd_schema(argv[2], argv[3]);
	} else if (argc == 5 && strcmp(argv[1], "flip") == 0) {
		return cmd_flip(argv[2], argv[3], argv[4]);
	} else if (argc == 6 && strcmp(argv[1], "huge") == 0) {
		return cmd_huge(argv[2], argv[3], argv[4], argv[5]);
	} else if (argc == 6 && strcmp(argv[1], "obs") == 0) {
		return cmd_obs(argv[2], argv[3], argv[4], argv[5]);
	} else if (argc == 3 && strcmp(argv[1], "check") == 0) {
		return cmd_check(argv[2]);
	} else if (argc == 7 && strcmp(argv[1], "hist") == 0) {
		return cmd_hist(argv[2], argv[3], argv[4], argv[5], argv[6]);
	}
	return usage();
}
