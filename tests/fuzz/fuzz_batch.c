/* fuzz_batch.c -- libFuzzer target: 'acmezone apply' input through the CLI's batch parser (cli/batch.c) and name mapping, no store. */

/*
 * The batch parser is pure: this target links it with the CLI's message
 * and name layers and the store library's pure parts (names, labels,
 * values), nothing that opens a store.  Each input is one batch; what the
 * parser accepts must keep its promises (batch.h), and every name it
 * accepted is mapped the way 'apply' maps it under the store's lock.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "names.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The parser reports every bad line on stderr: keep the run quiet.
	 * (Sanitizer reports go to file descriptor 2 and still show.) */
	stderr = fopen("/dev/null", "w");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cli_t cli = { .cmd = "apply" };
	az_config_t cfg = { .scheme = AZ_SCHEME_READABLE };
	uint8_t owner[AZ_NAME_MAXLEN];
	const char *why;
	batch_t b = { 0 };
	batch_op_t op;
	size_t pos = 0, nops = 0, nadd = 0, len;
	unsigned long last = 0;

	/* The first octet picks the options and the store's settings. */
	if (size > 0) {
		cli.raw = data[0] & 1;
		cfg.has_zone = data[0] & 2;
		cfg.scheme = (az_scheme_t)((data[0] >> 2) % 3);
		data++;
		size--;
	}
	if (cfg.has_zone && az_name_parse("acme.test", cfg.zone, &len, &why) != AZ_EOK) {
		abort();
	}
	FILE *in = fmemopen((void *)data, size, "r");
	if (in == NULL) {
		return 0;	/* fmemopen refuses size 0 on old libcs */
	}
	int rc = batch_read(&cli, in, "fuzz", CLI_DEFAULT_EXPIRE, &b);
	fclose(in);
	if (cli.line != 0 || (rc != RC_OK && rc != RC_INPUT)) {
		abort();	/* RC_STORE: only a read error or no memory */
	}
	while (batch_next(&b, &pos, &op)) {
		nops++;
		nadd += op.add ? 1 : 0;
		if (op.line <= last || op.line > b.lines || op.name[0] == '\0' ||
		    op.ttl < 1 || op.ttl > 3650LL * 86400 || (op.add && op.value == NULL) ||
		    names_syntax(&cli, op.name) != RC_OK ||
		    (op.value != NULL &&
		     az_value_check(op.value, strlen(op.value), cli.raw, &why) != AZ_EOK)) {
			abort();
		}
		last = op.line;
		/* Refusals are fine (an apex, not a domain); crashes are not. */
		(void)names_owner(&cli, &cfg, op.name, false, owner, NULL);
	}
	if (nops != b.nops || nadd != b.nadd || pos != b.len) {
		abort();
	}
	batch_free(&b);
	return 0;
}
