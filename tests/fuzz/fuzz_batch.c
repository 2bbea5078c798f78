/* fuzz_batch.c -- libFuzzer target: 'acmezone apply' input, line reader and line parser, into a real (aborted) write transaction. */

/*
 * The CLI is compiled in whole, its main() renamed, so that this target
 * drives its own static read_line() and apply_line() exactly as
 * cmd_apply() does -- no copy of the parser to drift from the real one.
 * Each input is one batch; the transaction is aborted afterwards, so the
 * store never changes and every input starts from the same state.
 */

#define main acmezone_cli_main
#include "../../tools/acmezone.c"
#undef main

#include <stdint.h>

static az_store_t *fz_store;
static char fz_dir[] = "/tmp/az-fuzz-batch-XXXXXX";

static void fz_cleanup(void)
{
	char cmd[64];
	az_store_close(fz_store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fz_dir);
	if (system(cmd) != 0) {
		/* nothing more to do */
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char db[128];
	if (mkdtemp(fz_dir) == NULL) {
		abort();
	}
	snprintf(db, sizeof(db), "%s/fuzz.mdb", fz_dir);
	if (az_store_create(db, (gid_t)-1) != AZ_EOK ||
	    az_store_open(&fz_store, db, 0) != AZ_EOK) {
		abort();
	}
	atexit(fz_cleanup);
	/* The parser reports every bad line on stderr: keep the run quiet.
	 * (Sanitizer reports go to file descriptor 2 and still show.) */
	stderr = fopen("/dev/null", "w");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cli_t cli = { .cmd = "apply", .db = "fuzz", .wait_ms = 0, .no_wait = true };
	apply_t ap = { .cli = &cli, .ttl = CLI_DEFAULT_EXPIRE, .now = 1700000000 };
	char buf[CLI_LINE_MAX + 1];
	size_t len = 0;
	int st;

	/* The first octet picks the options a command line would give. */
	if (size > 0) {
		cli.raw = data[0] & 1;
		data++;
		size--;
	}
	FILE *in = fmemopen((void *)data, size, "r");
	if (in == NULL) {
		return 0;	/* fmemopen refuses size 0 on old libcs */
	}
	if (az_txn_begin(fz_store, &ap.txn) != AZ_EOK) {
		abort();
	}
	unsigned long lineno = 0;
	while ((st = read_line(in, buf, &len)) != LINE_EOF) {
		cli.line = ++lineno;
		if (st != LINE_OK) {
			break;
		}
		if (len > CLI_LINE_MAX || strlen(buf) != len) {
			abort();	/* a line is NUL-free and within the limit */
		}
		if (apply_line(&ap, buf, len) != RC_OK) {
			break;
		}
	}
	if (ap.added > ap.ops || ap.ops > lineno) {
		abort();
	}
	az_txn_abort(ap.txn);
	fclose(in);
	return 0;
}
