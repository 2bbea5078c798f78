/* fuzz_name.c -- libFuzzer target: owner names, text to wire and back, and wire names read back from the store. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdlib.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 1. As text (what the CLI gets): parse, print, parse again. */
	char *text = malloc(size + 1);
	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	uint8_t wire[AZ_NAME_MAXLEN], again[AZ_NAME_MAXLEN];
	size_t len = 0, len2 = 0;
	const char *why = NULL;
	if (az_name_parse(text, wire, &len, &why) == AZ_EOK) {
		if (len < 2 || len > AZ_NAME_MAXLEN || az_name_wire_len(wire, len) != len) {
			abort();
		}
		char out[AZ_NAME_TXTLEN];
		az_name_to_text(wire, out, sizeof(out));
		if (az_name_parse(out, again, &len2, &why) != AZ_EOK || len2 != len ||
		    memcmp(wire, again, len) != 0) {
			abort();	/* the round trip must be exact */
		}
		for (size_t i = 0; i < len; i++) {
			if (wire[i] >= 'A' && wire[i] <= 'Z') {
				abort();	/* wire form is lower case */
			}
		}
	} else if (why == NULL) {
		abort();	/* a refusal always says why */
	}

	/* 2. As wire (a key read back from LMDB): measure, then print. */
	size_t wl = az_name_wire_len(data, size);
	if (wl > 0) {
		if (wl > size || wl > AZ_NAME_MAXLEN) {
			abort();
		}
		uint8_t *copy = malloc(wl);
		memcpy(copy, data, wl);
		char out[AZ_NAME_TXTLEN];
		az_name_to_text(copy, out, sizeof(out));
		if (memchr(out, '\0', sizeof(out)) == NULL) {
			abort();
		}
		free(copy);
	}
	free(text);
	return 0;
}
