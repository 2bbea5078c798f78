/* record.c -- TXT values, durations and the encoding of one owner's record. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "observe.h"
#include "store.h"

#define REC_FORMAT	1	/* no checksum: written before format 2 */
#define REC_FORMAT_SUM	2	/* followed by a CRC-32C of key and record */
/* Format 3: publication time, u16 lengths, CRC-32C.  Its format octet is
 * 0x13, not 3: at least two bits from 1 and 2, so that no single flipped
 * bit makes a checksummed record pass as format 1, which has none. */
#define REC_FORMAT_PUB	0x13
#define REC_HDR		3	/* u8 format, u16 count */
#define VAL_HDR		9	/* formats 1, 2: i64 expiry, u8 length */
#define VAL_HDR3	18	/* format 3: i64 expiry, i64 published, u16 length */

/* Octets before each value's text in a record of this format. */
static size_t val_hdr(uint8_t format)
{
	return format == REC_FORMAT_PUB ? VAL_HDR3 : VAL_HDR;
}

static bool is_b64url(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int az_value_check(const char *value, size_t len, bool raw, const char **why)
{
	const char *dummy;
	if (why == NULL) {
		why = &dummy;
	}
	if (value == NULL || len == 0) {
		*why = "empty value";
		return AZ_EINVAL;
	}
	if (!raw) {
		if (len != AZ_ACME_VALUE_LEN) {
			*why = "not an ACME DNS-01 value (43 characters of base64url; use --raw for other TXT strings)";
			return AZ_EINVAL;
		}
		for (size_t i = 0; i < len; i++) {
			if (!is_b64url((unsigned char)value[i])) {
				*why = "not an ACME DNS-01 value (a character outside base64url; use --raw for other TXT strings)";
				return AZ_EINVAL;
			}
		}
		return AZ_EOK;
	}
	if (len > AZ_VALUE_MAXLEN) {
		*why = "longer than 255 octets";
		return AZ_EINVAL;
	}
	return az_text_check(value, len, why);
}

int az_text_check(const char *value, size_t len, const char **why)
{
	const char *dummy;
	if (why == NULL) {
		why = &dummy;
	}
	if (value == NULL || len == 0) {
		*why = "empty value";
		return AZ_EINVAL;
	}
	if (len > AZ_TXT_MAXLEN) {
		*why = "longer than one TXT record can carry (65279 octets)";
		return AZ_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c > 0x7e) {
			*why = "has a non-printable or non-ASCII character";
			return AZ_EINVAL;
		}
	}
	return AZ_EOK;
}

int az_duration_parse(const char *text, int64_t *seconds)
{
	if (text == NULL || seconds == NULL || *text < '0' || *text > '9') {
		return AZ_EINVAL;
	}
	errno = 0;
	char *end = NULL;
	unsigned long long n = strtoull(text, &end, 10);
	if (errno != 0 || end == text) {
		return AZ_EINVAL;
	}
	int64_t mult = 1;
	if (*end != '\0') {
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return AZ_EINVAL;
		}
		if (end[1] != '\0') {
			return AZ_EINVAL;
		}
	}
	const unsigned long long max = 3650ULL * 86400ULL;
	if (n == 0 || n > max / (unsigned long long)mult) {
		return AZ_EINVAL;
	}
	*seconds = (int64_t)n * mult;
	return AZ_EOK;
}

/* CRC-32C (Castagnoli, reflected 0x82f63b78), four bits at a time. */
static const uint32_t crc32c_nibble[16] = {
	0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1,
	0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
	0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
	0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

/* Also the observation file's checksum (observe.h). */
uint32_t az_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
		crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
	}
	return ~crc;
}

/* The checksum of a format-2 or -3 record: over the key, then the record
 * without its last AZ_REC_SUMLEN octets. */
static uint32_t rec_sum(const uint8_t *key, size_t klen, const uint8_t *rec, size_t len)
{
	uint32_t crc = az_crc32c(0, key, klen);
	return az_crc32c(crc, rec, len - AZ_REC_SUMLEN);
}

/*
 * Walk the values of a record (format byte, count and values, no
 * checksum) of at most len octets: \return the octets they take, or 0 if
 * a length runs past len or a value is empty or not printable.  Bytes
 * read back from the map cross a trust boundary: every octet is looked at.
 */
static size_t rec_body_len(const uint8_t *p, size_t len)
{
	if (len < REC_HDR) {
		return 0;
	}
	unsigned count = az_get_be16(p + 1);
	size_t hdr = val_hdr(p[0]);
	if (count > AZ_MAX_VALUES) {
		return 0;
	}
	const uint8_t *pos = p + REC_HDR, *end = p + len;
	for (unsigned i = 0; i < count; i++) {
		if ((size_t)(end - pos) < hdr) {
			return 0;
		}
		size_t vlen = hdr == VAL_HDR3 ? az_get_be16(pos + 16) : pos[8];
		pos += hdr;
		if (vlen == 0 || vlen > AZ_TXT_MAXLEN || (size_t)(end - pos) < vlen) {
			return 0;
		}
		for (size_t k = 0; k < vlen; k++) {
			if (pos[k] < 0x20 || pos[k] > 0x7e) {
				return 0;
			}
		}
		pos += vlen;
	}
	return (size_t)(pos - p);
}

size_t az_rec_seal(uint8_t *buf, size_t len, size_t size, const uint8_t *key,
                   size_t klen)
{
	/* az_rec_encode() writes format 3 without the checksum: a record
	 * whose values end exactly at len has not been sealed yet. */
	if (buf == NULL || key == NULL || len < REC_HDR || buf[0] != REC_FORMAT_PUB ||
	    size < len || size - len < AZ_REC_SUMLEN || rec_body_len(buf, len) != len) {
		return 0;
	}
	len += AZ_REC_SUMLEN;
	uint32_t crc = rec_sum(key, klen, buf, len);
	az_put_be32(buf + len - 4, crc);
	return len;
}

int az_rec_verify(const uint8_t *key, size_t klen, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (key == NULL || p == NULL || len < REC_HDR || len > AZ_REC_MAXLEN) {
		return AZ_ECORRUPT;
	}
	if (p[0] == REC_FORMAT) {
		return AZ_EOK;		/* nothing to check it against */
	}
	if ((p[0] != REC_FORMAT_SUM && p[0] != REC_FORMAT_PUB) ||
	    len < REC_HDR + AZ_REC_SUMLEN) {
		return AZ_ECORRUPT;
	}
	const uint8_t *s = p + len - AZ_REC_SUMLEN;
	uint32_t want = az_get_be32(s);
	return rec_sum(key, klen, p, len) == want ? AZ_EOK : AZ_ECORRUPT;
}

int az_rec_iter_init(az_rec_iter_t *it, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (it == NULL || p == NULL || len < REC_HDR || len > AZ_REC_MAXLEN) {
		return AZ_ECORRUPT;
	}
	if (p[0] == REC_FORMAT_SUM || p[0] == REC_FORMAT_PUB) {
		if (len < REC_HDR + AZ_REC_SUMLEN) {
			return AZ_ECORRUPT;
		}
		len -= AZ_REC_SUMLEN;	/* checked by az_rec_verify() */
	} else if (p[0] != REC_FORMAT) {
		return AZ_ECORRUPT;
	}
	if (rec_body_len(p, len) != len) {
		return AZ_ECORRUPT;
	}
	it->pos = p + REC_HDR;
	it->end = p + len;
	it->left = az_get_be16(p + 1);
	it->format = p[0];
	return AZ_EOK;
}

unsigned az_rec_iter_count(const az_rec_iter_t *it)
{
	return it->left;
}

bool az_rec_iter_next(az_rec_iter_t *it, az_val_t *val)
{
	if (it->left == 0) {
		return false;
	}
	val->expire = (int64_t)az_get_be64(it->pos);
	if (it->format == REC_FORMAT_PUB) {
		val->published = (int64_t)az_get_be64(it->pos + 8);
		val->len = az_get_be16(it->pos + 16);
		val->data = it->pos + VAL_HDR3;
		it->pos += VAL_HDR3 + val->len;
	} else {
		val->published = 0;	/* not recorded before format 3 */
		val->len = it->pos[8];
		val->data = it->pos + VAL_HDR;
		it->pos += VAL_HDR + val->len;
	}
	it->left--;
	return true;
}

size_t az_rec_encode(uint8_t *buf, size_t size, const az_val_t *vals, unsigned count)
{
	if (count > AZ_MAX_VALUES || size < REC_HDR) {
		return 0;
	}
	buf[0] = REC_FORMAT_PUB;
	az_put_be16(buf + 1, (uint16_t)count);
	size_t pos = REC_HDR;
	for (unsigned i = 0; i < count; i++) {
		if (vals[i].len == 0 || vals[i].len > AZ_TXT_MAXLEN ||
		    size - pos < VAL_HDR3 + (size_t)vals[i].len) {
			return 0;
		}
		az_put_be64(buf + pos, (uint64_t)vals[i].expire);
		az_put_be64(buf + pos + 8, (uint64_t)vals[i].published);
		az_put_be16(buf + pos + 16, vals[i].len);
		memcpy(buf + pos + VAL_HDR3, vals[i].data, vals[i].len);
		pos += VAL_HDR3 + vals[i].len;
	}
	return pos;
}
