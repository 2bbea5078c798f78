/* test_dlz.c -- stands in for named: loads the real dlz_acmezone.so and calls its entry points from several threads. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * What named does through bin/named/dlz_dlopen_driver.c, done by hand:
 * dlopen the driver, check dlz_version(), create instances with option
 * words and the log/putrr callbacks, then dlz_findzonedb(), dlz_lookup()
 * and dlz_authority() with a lookup handle that collects the records the
 * driver puts.  Writes go through the acmezone CLI in a child process, as
 * in production (one process may open an LMDB file only once).
 * top_builddir comes from the environment.
 */

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dlz.h"
#include "store.h"
#include "tap.h"

/* The lookup handle named would pass: here, the records put into it. */
#define MAX_RR 64
struct az_dlz_lookup {
	unsigned n;
	char type[MAX_RR][16];
	uint32_t ttl[MAX_RR];
	char data[MAX_RR][600];
};

typedef int version_fn(unsigned int *);
typedef az_dlz_result_t create_fn(const char *, unsigned int, char **, void **, ...);
typedef void destroy_fn(void *);
typedef az_dlz_result_t findzone_fn(void *, const char *, az_dlz_clientinfomethods_t *,
                                    az_dlz_clientinfo_t *);
typedef az_dlz_result_t lookup_fn(const char *, const char *, void *, az_dlz_lookup_t *,
                                  az_dlz_clientinfomethods_t *, az_dlz_clientinfo_t *);
typedef az_dlz_result_t authority_fn(const char *, void *, az_dlz_lookup_t *);

static version_fn *p_version;
static create_fn *p_create;
static destroy_fn *p_destroy;
static findzone_fn *p_findzone;
static lookup_fn *p_lookup;
static authority_fn *p_authority;

static char dir[] = "/tmp/az-test-dlz-XXXXXX";
static char db[300];
static char cli[600];

/* The log callback: keeps the lines for the tests to look at. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[65536];

static void test_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void test_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	size_t used = strlen(log_buf);
	snprintf(log_buf + used, sizeof(log_buf) - used, "%d %s\n", level, line);
	pthread_mutex_unlock(&log_lock);
}

static bool log_has(const char *needle)
{
	pthread_mutex_lock(&log_lock);
	bool found = strstr(log_buf, needle) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}

static void log_clear(void)
{
	pthread_mutex_lock(&log_lock);
	log_buf[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

static az_dlz_result_t test_putrr(az_dlz_lookup_t *lk, const char *type, uint32_t ttl,
                                  const char *data)
{
	if (lk->n == MAX_RR) {
		return AZ_DLZ_NOSPACE;
	}
	snprintf(lk->type[lk->n], sizeof(lk->type[0]), "%s", type);
	lk->ttl[lk->n] = ttl;
	snprintf(lk->data[lk->n], sizeof(lk->data[0]), "%s", data);
	lk->n++;
	return AZ_DLZ_SUCCESS;
}

static az_dlz_result_t test_putnamedrr(az_dlz_allnodes_t *a, const char *n, const char *t,
                                       uint32_t ttl, const char *d)
{
	(void)a; (void)n; (void)t; (void)ttl; (void)d;
	return AZ_DLZ_NOTIMPLEMENTED;
}

/* Create an instance from a space-separated option string, as named splits it. */
static az_dlz_result_t create(const char *opts, void **inst)
{
	char buf[2048];
	char *argv[64];
	unsigned argc = 0;
	argv[argc++] = "/path/of/dlz_acmezone.so";
	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w != NULL && argc < 63;
	     w = strtok_r(NULL, " ", &save)) {
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	*inst = NULL;
	return p_create("acmezone", argc, argv, inst, "log", test_log,
	                "putrr", test_putrr, "putnamedrr", test_putnamedrr,
	                "writeable_zone", (void *)NULL, (const char *)NULL);
}

static az_dlz_result_t lookup(void *inst, const char *name, az_dlz_lookup_t *lk)
{
	memset(lk, 0, sizeof(*lk));
	return p_lookup("acme.test", name, inst, lk, NULL, NULL);
}

/* Run the CLI on our store; 0 on success. */
static int az(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static int az(const char *fmt, ...)
{
	char args[1024], cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' %s >/dev/null 2>&1", cli, db, args);
	int ret = system(cmd);
	return (ret == -1 || !WIFEXITED(ret)) ? -1 : WEXITSTATUS(ret);
}

/* The CLI with the map size its writes ask for (ACMEZONE_MAPSIZE). */
static int az_map(const char *mapsize, const char *args)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s='%s' '%s' --db '%s' %s >/dev/null 2>&1",
	         AZ_ENV_MAPSIZE, mapsize, cli, db, args);
	int ret = system(cmd);
	return (ret == -1 || !WIFEXITED(ret)) ? -1 : WEXITSTATUS(ret);
}

static const char *V1 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK-_0123";
static const char *V2 = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

static bool has_txt(const az_dlz_lookup_t *lk, const char *value)
{
	char want[600];
	snprintf(want, sizeof(want), "\"%s\"", value);
	for (unsigned i = 0; i < lk->n; i++) {
		if (strcmp(lk->type[i], "TXT") == 0 && strcmp(lk->data[i], want) == 0) {
			return true;
		}
	}
	return false;
}

static void test_options(void)
{
	void *in;
	unsigned flags = 0;
	tap_is(p_version(&flags), AZ_DLZ_VERSION, "dlz_version is 3");
	tap_ok(flags & AZ_DLZ_THREADSAFE, "the driver declares itself thread-safe");

	static const struct {
		const char *opts, *log, *what;
	} bad[] = {
		{ "db=/x ns=ns.invalid", "zone=NAME option is required", "no zone" },
		{ "zone=acme.test", "at least one ns=NAME", "no ns" },
		{ "zone=acme.test ns=a.invalid colour=blue", "unknown option 'colour=blue'", "unknown option" },
		{ "zone=acme.test ns=a.invalid ttl", "unknown option 'ttl'", "an option without '='" },
		{ "zone=acme.test ns=a.invalid ttl=ten", "'ttl=ten' is not a number", "a TTL that is no number" },
		{ "zone=acme.test ns=a.invalid ttl=2147483648", "is not a number from 0 to 2147483647", "a TTL out of range" },
		{ "zone=acme.test ns=a.invalid db=relative.mdb", "must be an absolute path", "a relative db path" },
		{ "zone=acme..test ns=a.invalid", "zone 'acme..test' is not a valid domain name", "a bad zone name" },
		{ "zone=acme.test ns=a_b.invalid", "ns 'a_b.invalid' is not a valid", "a bad ns name" },
		{ "zone=acme.test zone=acme2.test ns=a.invalid", "option 'zone' given twice", "zone twice" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		log_clear();
		az_dlz_result_t r = create(bad[i].opts, &in);
		tap_ok(r != AZ_DLZ_SUCCESS && in == NULL && log_has(bad[i].log),
		       "refused: %s", bad[i].what);
	}
	{
		/* named passes no putrr: refused, not a crash later. */
		char *argv[] = { "x.so", "zone=acme.test", "ns=a.invalid", NULL };
		log_clear();
		az_dlz_result_t r = p_create("acmezone", 3, argv, &in, "log", test_log,
		                             (const char *)NULL);
		tap_ok(r != AZ_DLZ_SUCCESS && log_has("no putrr"), "refused: no putrr callback");
	}
}

static void test_answers(void)
{
	void *in = NULL;
	az_dlz_lookup_t lk;
	char opts[600];

	log_clear();
	snprintf(opts, sizeof(opts), "zone=Acme.Test. db=%s ttl=7 ns=NS1.invalid "
	         "ns=ns2.invalid. serial=42 minimum=5 soa-ttl=9 ns-ttl=30", db);
	tap_is(create(opts, &in), AZ_DLZ_SUCCESS, "instance created while the store is missing");
	tap_ok(log_has("is missing"), "the missing store is logged");

	tap_is(p_findzone(in, "acme.test", NULL, NULL), AZ_DLZ_SUCCESS, "findzonedb: our zone");
	tap_is(p_findzone(in, "ACME.test.", NULL, NULL), AZ_DLZ_SUCCESS, "findzonedb: any case, final dot");
	tap_is(p_findzone(in, "x.acme.test", NULL, NULL), AZ_DLZ_NOTFOUND, "findzonedb: a name below it is no zone");
	tap_is(p_findzone(in, "test", NULL, NULL), AZ_DLZ_NOTFOUND, "findzonedb: the parent is not ours");
	tap_is(p_findzone(in, "cme.test", NULL, NULL), AZ_DLZ_NOTFOUND, "findzonedb: a suffix is not ours");

	memset(&lk, 0, sizeof(lk));
	tap_is(p_authority("acme.test", in, &lk), AZ_DLZ_SUCCESS, "authority");
	tap_ok(lk.n == 3 && strcmp(lk.type[0], "SOA") == 0 && lk.ttl[0] == 9 &&
	       strcmp(lk.data[0], "ns1.invalid. hostmaster.acme.test. 42 3600 600 1209600 5") == 0,
	       "SOA: mname from the first ns, default rname, the numbers given (%s)", lk.data[0]);
	tap_ok(lk.n == 3 && strcmp(lk.type[1], "NS") == 0 && lk.ttl[1] == 30 &&
	       strcmp(lk.data[1], "ns1.invalid.") == 0 && strcmp(lk.data[2], "ns2.invalid.") == 0,
	       "NS: both, as absolute names");
	tap_is(lookup(in, "@", &lk), AZ_DLZ_SUCCESS, "the apex exists");
	tap_is(lk.n, 0, "... and lookup puts nothing there (authority does)");
	tap_is(lookup(in, "_acme-challenge", &lk), AZ_DLZ_FAILURE,
	       "below the apex, no store: failure (SERVFAIL)");
	tap_is(lookup(in, "*", &lk), AZ_DLZ_NOTFOUND, "a wildcard probe is not found, store or not");

	tap_is(az("init"), 0, "acmezone init");
	tap_is(az("add _acme-challenge.acme.test %s", V1), 0, "acmezone add");
	tap_is(lookup(in, "_acme-challenge", &lk), AZ_DLZ_SUCCESS, "the store appeared: found");
	tap_ok(lk.n == 1 && strcmp(lk.type[0], "TXT") == 0 && lk.ttl[0] == 7 && has_txt(&lk, V1),
	       "one TXT with the ttl option");
	tap_ok(log_has("opened"), "the opening is logged");
	tap_is(az("add _acme-challenge.acme.test %s", V2), 0, "a second value");
	lookup(in, "_acme-challenge", &lk);
	tap_ok(lk.n == 2 && has_txt(&lk, V1) && has_txt(&lk, V2), "both values, read at once");

	tap_is(az("add q.acme.test --raw 'a\"b\\c d'"), 0, "a raw value with a quote and a backslash");
	lookup(in, "q", &lk);
	tap_ok(lk.n == 1 && strcmp(lk.data[0], "\"a\\\"b\\\\c d\"") == 0,
	       "escaped for the master-file parser (%s)", lk.n ? lk.data[0] : "-");

	/* A dns-persist-01 record longer than one character-string: put
	 * as two quoted strings, 255 octets and the rest (a store without a
	 * zone: written at _validation-persist.<domain> itself). */
	char uri[400], text[600], want[700];
	snprintf(uri, sizeof(uri), "https://ca.test/acct/%0300d", 7);
	tap_is(az("--no-wait persist add p.acme.test --issuer ca.test --account-uri %s", uri), 0,
	       "persist add: a record of %zu octets", strlen("ca.test; accounturi=") + strlen(uri));
	snprintf(text, sizeof(text), "ca.test; accounturi=%s", uri);
	snprintf(want, sizeof(want), "\"%.255s\" \"%s\"", text, text + 255);
	lookup(in, "_validation-persist.p", &lk);
	tap_ok(lk.n == 1 && strcmp(lk.type[0], "TXT") == 0 && strcmp(lk.data[0], want) == 0,
	       "put as two character-strings, 255 octets and the rest (%.40s...)",
	       lk.n ? lk.data[0] : "-");

	tap_is(lookup(in, "nothing", &lk), AZ_DLZ_NOTFOUND, "an unknown name: not found");
	tap_is(az("add x.y.z.acme.test %s", V1), 0, "a name three labels down");
	tap_is(lookup(in, "y.z", &lk), AZ_DLZ_SUCCESS, "its parent is an empty non-terminal");
	tap_is(lk.n, 0, "... with no records");
	tap_is(lookup(in, "z", &lk), AZ_DLZ_SUCCESS, "so is its grandparent");
	tap_is(lookup(in, "w.z", &lk), AZ_DLZ_NOTFOUND, "a sibling is not found");
	tap_is(az("del x.y.z.acme.test"), 0, "delete the deep name");
	tap_is(lookup(in, "z", &lk), AZ_DLZ_NOTFOUND, "the ENT is gone with it, at once");

	/* Expiry times are whole seconds: "3s" lives 2 to 3 s, room for two
	 * slow CLI runs under TSan on a loaded machine ("1s" could expire
	 * right after the add). */
	tap_is(az("add e.acme.test %s --expire 3s", V1), 0, "a value that expires in 3 s");
	tap_is(az("add deep.e2.acme.test %s --expire 3s", V1), 0, "and one below another name");
	tap_is(lookup(in, "e", &lk), AZ_DLZ_SUCCESS, "answered before its expiry");
	tap_is(lookup(in, "e2", &lk), AZ_DLZ_SUCCESS, "its parent is an ENT before");
	/* Wait (bounded) for the expiry itself; nothing is written meanwhile.
	 * Expiry times are whole seconds and the two adds may fall in two
	 * seconds on a loaded machine, so wait for both. */
	for (int i = 0; i < 100 && (lookup(in, "e", &lk) != AZ_DLZ_NOTFOUND ||
				    lookup(in, "e2", &lk) != AZ_DLZ_NOTFOUND); i++) {
		struct timespec ts = { 0, 50000000 };
		nanosleep(&ts, NULL);
	}
	tap_is(lookup(in, "e", &lk), AZ_DLZ_NOTFOUND, "not found after its expiry, with no write");
	tap_is(lookup(in, "e2", &lk), AZ_DLZ_NOTFOUND, "the ENT above it expired too");

	/* A reload: named creates the new instance before destroying the old. */
	void *in2 = NULL;
	log_clear();
	tap_is(create(opts, &in2), AZ_DLZ_SUCCESS, "a second instance on the same store");
	tap_ok(!log_has("opened") && !log_has("missing"), "it shares the open store (no new open)");
	/* Another spelling of the same file shares it too: one registry and
	 * one canonical path for the module and the driver. */
	char odd[700], opts3[900];
	const char *slash = strrchr(db, '/');
	snprintf(odd, sizeof(odd), "%.*s//./%s", (int)(slash - db), db, slash + 1);
	snprintf(opts3, sizeof(opts3), "zone=acme.test db=%s ns=ns.invalid", odd);
	void *in3 = NULL;
	tap_is(create(opts3, &in3), AZ_DLZ_SUCCESS, "a third instance names the store as %s", odd);
	tap_ok(!log_has("opened") && !log_has("missing"), "... and shares the open store too");
	p_destroy(in3);
	p_destroy(in);
	tap_is(lookup(in2, "_acme-challenge", &lk), AZ_DLZ_SUCCESS, "the old one destroyed, the new one answers");
	tap_is(lk.n, 2, "... both values");

	/* Replaced by another file at the same path. */
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -f '%s'", db);
	tap_is(system(cmd), 0, "the store file removed");
	tap_is(lookup(in2, "_acme-challenge", &lk), AZ_DLZ_SUCCESS,
	       "a removed file keeps being served from the open store");
	snprintf(cmd, sizeof(cmd), "rm -f '%s-lock' '%s-sync'", db, db);
	tap_is(system(cmd), 0, "lock and sync files removed too");
	tap_is(az("init"), 0, "a new store at the same path");
	tap_is(lookup(in2, "_acme-challenge", &lk), AZ_DLZ_NOTFOUND, "the new file is read at once");
	tap_is(az("add _acme-challenge.acme.test %s", V2), 0, "a value in the new file");
	lookup(in2, "_acme-challenge", &lk);
	tap_ok(lk.n == 1 && has_txt(&lk, V2), "is answered");
	tap_ok(log_has("replaced"), "the replacement is logged");

	/* A store others could write is not served (doc/security.md). */
	log_clear();
	tap_ok(chmod(db, 0646) == 0, "the store made writable by any user");
	tap_ok(lookup(in2, "_acme-challenge", &lk) != AZ_DLZ_SUCCESS,
	       "it is not served any more (SERVFAIL)");
	tap_ok(log_has("is not served: it is writable by any user"), "... and that is logged with why");
	tap_ok(chmod(db, 0640) == 0, "mode fixed");
	lookup(in2, "_acme-challenge", &lk);
	tap_ok(lk.n == 1 && has_txt(&lk, V2), "served again at once");
	p_destroy(in2);
}

/* Several threads looking up while the store is written and replaced. */
typedef struct {
	void *in;
	volatile int *stop;
	unsigned lookups, bad;
} worker_t;

static void *worker(void *arg)
{
	worker_t *w = arg;
	az_dlz_lookup_t lk;
	static const char *names[] = { "t", "ent", "x.ent", "nothing", "*", "@" };
	unsigned i = 0;
	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED)) {
		const char *n = names[i++ % (sizeof(names) / sizeof(names[0]))];
		az_dlz_result_t r = lookup(w->in, n, &lk);
		/* During a replacement a lookup may fail (no store for an
		 * instant); it must never crash or put garbage. */
		if (r == AZ_DLZ_SUCCESS) {
			for (unsigned j = 0; j < lk.n; j++) {
				if (strcmp(lk.type[j], "TXT") != 0 || lk.data[j][0] != '"') {
					w->bad++;
				}
			}
		} else if (r != AZ_DLZ_NOTFOUND && r != AZ_DLZ_FAILURE) {
			w->bad++;
		}
		w->lookups++;
	}
	return NULL;
}

static void test_threads(void)
{
	void *in = NULL;
	char opts[600];
	snprintf(opts, sizeof(opts), "zone=acme.test db=%s ns=ns.invalid", db);
	tap_is(create(opts, &in), AZ_DLZ_SUCCESS, "threads: instance");
	az("add t.acme.test %s", V1);
	az("add y.x.ent.acme.test %s", V1);

	enum { NT = 4 };
	volatile int stop = 0;
	worker_t w[NT];
	pthread_t th[NT];
	for (int i = 0; i < NT; i++) {
		w[i] = (worker_t){ .in = in, .stop = &stop };
		pthread_create(&th[i], NULL, worker, &w[i]);
	}
	int fails = 0;
	char cmd[1200];
	for (int round = 0; round < 20; round++) {
		fails += az("add t.acme.test %s", round % 2 ? V1 : V2) != 0;
		fails += az("del t.acme.test %s", round % 2 ? V2 : V1) != 0;
		if (round % 5 == 4) {
			snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s-lock' '%s-sync'", db, db, db);
			fails += system(cmd) != 0;
			fails += az("init") != 0;
			fails += az("add t.acme.test %s", V1) != 0;
			fails += az("add y.x.ent.acme.test %s", V1) != 0;
		}
	}
	/* A writer that grows the file past the readers' mapping. */
	snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s-lock' '%s-sync'", db, db, db);
	fails += system(cmd) != 0;
	fails += az_map("1M", "init") != 0;	/* the file records a 1 MiB map */
	az_dlz_lookup_t lk;
	lookup(in, "t", &lk);		/* opens it with that map */
	/* 40000 names (about 4 MiB) through a 64 MiB map. */
	char batch[1100], args[1200];
	snprintf(batch, sizeof(batch), "%s/grow.batch", dir);
	FILE *f = fopen(batch, "w");
	for (int i = 0; f != NULL && i < 40000; i++) {
		fprintf(f, "add g%d.acme.test %s\n", i, V1);
	}
	fails += f == NULL || fclose(f) != 0;
	snprintf(args, sizeof(args), "apply '%s'", batch);
	fails += az_map("64M", args) != 0;
	fails += az("add t.acme.test %s", V2) != 0;
	struct timespec ts = { 0, 200000000 };
	nanosleep(&ts, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	unsigned lookups = 0, bad = 0;
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		lookups += w[i].lookups;
		bad += w[i].bad;
	}
	tap_is(fails, 0, "threads: every write, replacement and growth went through");
	tap_ok(lookups > 1000, "threads: %u lookups on %d threads", lookups, NT);
	tap_is(bad, 0, "threads: no lookup returned garbage");
	tap_is(lookup(in, "t", &lk), AZ_DLZ_SUCCESS, "after the growth the driver remapped");
	tap_ok(lk.n == 1 && has_txt(&lk, V2), "and reads what was written after it");
	p_destroy(in);
}

int main(void)
{
	const char *top = getenv("top_builddir");
	char so[600];
	snprintf(so, sizeof(so), "%s/.libs/dlz_acmezone.so", top ? top : ".");
	snprintf(cli, sizeof(cli), "%s/acmezone", top ? top : ".");
	struct stat sb;
	if (stat(so, &sb) != 0) {
		tap_skip_all("dlz_acmezone.so not built (configured with --disable-bind?)");
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/acmezone.mdb", dir);

	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!tap_ok(h != NULL, "dlopen %s", so)) {
		tap_diag("%s", dlerror());
		return tap_done();
	}
	p_version = (version_fn *)dlsym(h, "dlz_version");
	p_create = (create_fn *)dlsym(h, "dlz_create");
	p_destroy = (destroy_fn *)dlsym(h, "dlz_destroy");
	p_findzone = (findzone_fn *)dlsym(h, "dlz_findzonedb");
	p_lookup = (lookup_fn *)dlsym(h, "dlz_lookup");
	p_authority = (authority_fn *)dlsym(h, "dlz_authority");
	tap_ok(p_version && p_create && p_destroy && p_findzone && p_lookup && p_authority,
	       "the six entry points are exported");
	tap_ok(dlsym(h, "dlz_allowzonexfr") == NULL && dlsym(h, "dlz_allnodes") == NULL,
	       "no zone transfer entry points (named refuses AXFR)");
	tap_ok(dlsym(h, "az_store_open") == NULL && dlsym(h, "shared_begin") == NULL,
	       "nothing else is exported");
	if (p_version && p_create && p_destroy && p_findzone && p_lookup && p_authority) {
		test_options();
		test_answers();
		test_threads();
	}
	dlclose(h);

	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
