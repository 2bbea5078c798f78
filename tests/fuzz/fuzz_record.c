/* fuzz_record.c -- libFuzzer target: the record decoder on arbitrary bytes (what LMDB hands back). */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdlib.h>
#include <string.h>

#include "store.h"

static const uint8_t key[] = "\x03""foo""\x04""test";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size octets: ASan sees any read past the end. */
	uint8_t *buf = malloc(size ? size : 1);
	if (buf == NULL) {
		return 0;
	}
	memcpy(buf, data, size);
	(void)az_rec_verify(key, sizeof(key), buf, size);

	az_rec_iter_t it;
	if (az_rec_iter_init(&it, buf, size) != AZ_EOK) {
		free(buf);
		return 0;
	}
	/* Whatever decodes must re-encode to the same octets. */
	unsigned count = az_rec_iter_count(&it);
	az_val_t *vals = malloc((count + 1) * sizeof(*vals));
	uint8_t *out = malloc(AZ_REC_MAXLEN);
	if (vals == NULL || out == NULL) {
		abort();
	}
	unsigned n = 0;
	az_val_t v;
	while (az_rec_iter_next(&it, &v)) {
		if (n == count || v.len == 0) {
			abort();	/* more values than counted, or an empty one */
		}
		for (unsigned k = 0; k < v.len; k++) {
			if (v.data[k] < 0x20 || v.data[k] > 0x7e) {
				abort();	/* the decoder let a bad octet through */
			}
		}
		vals[n++] = v;
	}
	if (n != count) {
		abort();
	}
	/* Format 3 (0x13) re-encodes to its own octets; formats 1 and 2 to
	 * format 3 with the same values (publication time 0). */
	size_t len = az_rec_encode(out, AZ_REC_MAXLEN - AZ_REC_SUMLEN, vals, n);
	if (len == 0 || (buf[0] == 0x13 && (len != size - AZ_REC_SUMLEN ||
	                                    memcmp(out, buf, len) != 0))) {
		abort();
	}
	/* And sealing it gives a record that verifies against its key and
	 * decodes to the same values. */
	size_t slen = az_rec_seal(out, len, AZ_REC_MAXLEN, key, sizeof(key));
	if (slen != len + AZ_REC_SUMLEN || az_rec_verify(key, sizeof(key), out, slen) != AZ_EOK ||
	    az_rec_iter_init(&it, out, slen) != AZ_EOK || az_rec_iter_count(&it) != n) {
		abort();
	}
	for (unsigned i = 0; i < n; i++) {
		if (!az_rec_iter_next(&it, &v) || v.expire != vals[i].expire ||
		    v.published != vals[i].published || v.len != vals[i].len ||
		    memcmp(v.data, vals[i].data, v.len) != 0) {
			abort();
		}
	}
	free(out);
	free(vals);
	free(buf);
	return 0;
}
