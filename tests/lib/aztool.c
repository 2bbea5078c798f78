/* aztool.c -- fault injection for the shell tests: damage a store the way another program or a bad disk would. */

/*
 * aztool schema DB N           set the schema record to N with plain LMDB
 *                              (a newer or older acmezone), one commit
 * aztool flip FILE STRING AT   in FILE, flip bit 0x02 of octet AT of every
 *                              copy of STRING ('a' <-> 'c': the record still
 *                              decodes, only its checksum can tell); prints
 *                              the number of copies changed
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
#include <unistd.h>

#include "store.h"

static int usage(void)
{
	fprintf(stderr, "usage: aztool schema DB N | flip FILE STRING AT | check DB\n");
	return 2;
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

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "schema") == 0) {
		return cmd_schema(argv[2], argv[3]);
	} else if (argc == 5 && strcmp(argv[1], "flip") == 0) {
		return cmd_flip(argv[2], argv[3], argv[4]);
	} else if (argc == 3 && strcmp(argv[1], "check") == 0) {
		return cmd_check(argv[2]);
	}
	return usage();
}
