/* name.c -- owner names: text to lower-case wire form and back, validated. */
/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

static bool is_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int az_name_parse(const char *text, uint8_t out[AZ_NAME_MAXLEN],
                  size_t *out_len, const char **why)
{
	const char *dummy;
	if (why == NULL) {
		why = &dummy;
	}
	if (text == NULL || out == NULL || out_len == NULL) {
		*why = "no name";
		return AZ_EINVAL;
	}

	size_t tlen = strlen(text);
	if (tlen > 0 && text[tlen - 1] == '.') {
		tlen--;		/* the trailing dot is optional */
	}
	if (tlen == 0) {
		*why = "empty name";
		return AZ_EINVAL;
	}

	size_t pos = 0;		/* write position in out */
	size_t i = 0;
	while (i <= tlen) {
		size_t start = i;
		while (i < tlen && text[i] != '.') {
			i++;
		}
		size_t llen = i - start;
		if (llen == 0) {
			*why = "empty label";
			return AZ_EINVAL;
		}
		if (llen > 63) {
			*why = "label longer than 63 octets";
			return AZ_EINVAL;
		}
		/* Label, terminal root label included, must fit in 255. */
		if (pos + 1 + llen + 1 > AZ_NAME_MAXLEN) {
			*why = "name longer than 255 octets";
			return AZ_EINVAL;
		}
		out[pos++] = (uint8_t)llen;
		for (size_t k = 0; k < llen; k++) {
			unsigned char c = (unsigned char)text[start + k];
			if (c >= 0x80) {
				*why = "non-ASCII character (use the xn-- form)";
				return AZ_EINVAL;
			}
			c = (unsigned char)tolower(c);
			if (c == '_' && k == 0) {
				/* _acme-challenge, _validation-persist, ... */
			} else if (!is_ldh(c)) {
				*why = "label has a character other than letters, digits, '-' or a leading '_'";
				return AZ_EINVAL;
			}
			out[pos++] = c;
		}
		if (text[start] == '-' || text[start + llen - 1] == '-') {
			*why = "label starts or ends with '-'";
			return AZ_EINVAL;
		}
		i++;	/* skip the dot (or step past the end) */
	}
	out[pos++] = 0;
	*out_len = pos;
	return AZ_EOK;
}

size_t az_name_wire_len(const uint8_t *wire, size_t max)
{
	size_t pos = 0;
	if (wire == NULL) {
		return 0;
	}
	while (pos < max) {
		uint8_t l = wire[pos];
		if (l == 0) {
			pos++;
			return pos <= AZ_NAME_MAXLEN ? pos : 0;
		}
		if (l > 63) {
			return 0;
		}
		pos += 1 + (size_t)l;
	}
	return 0;
}

void az_name_to_text(const uint8_t *wire, char *out, size_t out_size)
{
	size_t o = 0;
	if (out_size == 0) {
		return;
	}
	if (wire[0] == 0) {
		snprintf(out, out_size, ".");
		return;
	}
	while (*wire != 0) {
		uint8_t l = *wire++;
		for (uint8_t k = 0; k < l; k++) {
			unsigned char c = wire[k];
			if (c == '.' || c == '\\') {
				if (o + 2 < out_size) {
					out[o++] = '\\';
					out[o++] = (char)c;
				}
			} else if (c < 0x21 || c > 0x7e) {
				if (o + 4 < out_size) {
					o += (size_t)snprintf(out + o, out_size - o, "\\%03u", c);
				}
			} else if (o + 1 < out_size) {
				out[o++] = (char)c;
			}
		}
		wire += l;
		if (o + 1 < out_size) {
			out[o++] = '.';
		}
	}
	out[o < out_size ? o : out_size - 1] = '\0';
}

bool az_name_under(const uint8_t *name, const uint8_t *zone)
{
	size_t nlen = az_name_wire_len(name, AZ_NAME_MAXLEN);
	size_t zlen = az_name_wire_len(zone, AZ_NAME_MAXLEN);
	size_t pos = 0;

	if (nlen == 0 || zlen == 0) {
		return false;
	}
	/* Step over whole labels, so a match can start only at a boundary. */
	while (pos < nlen && nlen - pos >= zlen) {
		if (nlen - pos == zlen) {
			/* ASCII case folded: names from DNS replies keep their case. */
			for (size_t i = 0; i < zlen; i++) {
				if (tolower(name[pos + i]) != tolower(zone[i])) {
					return false;
				}
			}
			return true;
		}
		pos += 1 + (size_t)name[pos];
	}
	return false;
}
