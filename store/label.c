/* label.c -- delegation names: the label in the challenge zone for a customer domain. */
/* SPDX-License-Identifier: MIT */

#include <string.h>
#include <strings.h>

#include "store.h"

/*
 * A customer keeps, once, in their own zone
 *
 *	_acme-challenge.<domain>.  CNAME  <label>.<challenge zone>.
 *
 * and acmezone writes the TXT values at <label>.<challenge zone>.  The
 * label must be the same every time it is computed, and two different
 * domains must never get the same label: one customer could otherwise
 * answer challenges for another's names.
 *
 * readable: the domain in lower case, every '-' doubled, every '.' made
 * a '-':  foo.example.com -> foo-example-com,  a-b.c -> a--b-c,
 * xn--bcher-kva.example -> xn----bcher--kva-example.
 *
 * Why this is injective.  A domain here is a host name (az_domain_parse):
 * labels of letters, digits and '-', none empty, none starting or ending
 * with '-'.  So the domain starts and ends with a letter or digit, and
 * between two consecutive letters/digits stands exactly one of: nothing,
 * a single '.', or a run of n >= 1 '-' -- never a mix, since a '.' is
 * always flanked by letters/digits (no label is empty or starts or ends
 * with '-').  The escaping maps these separators to nothing, to a run of
 * exactly one '-', and to a run of exactly 2n '-', and leaves letters and
 * digits alone.  Every maximal run of '-' in a label therefore has length
 * 1 (it was a '.') or an even length 2n (it was n '-'); no two
 * separators give the same run, so the label decodes back to exactly one
 * domain.  Two domains with the same label are the same domain.
 *
 * reversed: the labels in reverse order, then the same escaping:
 * foo.example.com -> com-example-foo.  Reversing the order of labels is
 * a bijection on domains, so this is injective too.
 *
 * hashed: the first 20 octets of SHA-256 over the canonical domain (lower
 * case, no trailing dot, no "*."), in RFC 4648 base32 with the lower-case
 * alphabet a-z2-7: always 32 characters, no '-'.  The same can be had from
 * a shell:  printf %s example.org | sha256sum | head -c 40 | tr a-f A-F |
 * basenc --base16 -d | base32 | tr A-Z a-z.  160 bits: a collision needs
 * about 2^80 domains.
 *
 * Fallback.  A readable or reversed label over 63 octets, or a name
 * <label>.<zone> over 255 octets, cannot exist; such a domain gets its
 * hashed label instead.  So does a domain of a single label: its readable
 * label has no '-', and only labels without '-' could ever equal a hashed
 * one.  Every readable or reversed label of two or more labels holds at
 * least one '-' (there is a dot to escape), and no hashed label holds
 * one, so a store whose names come from one scheme plus the fallback
 * never gives two domains the same name either.
 *
 * A wildcard identifier "*.example.org" is validated where the CA puts
 * its challenge: at _acme-challenge.example.org, so it maps like
 * example.org (az_domain_parse drops the "*.").
 */

#define HASH_OCTETS	20	/* 160 bits: 32 base32 characters */

static const char *const scheme_names[] = {
	[AZ_SCHEME_READABLE] = "readable",
	[AZ_SCHEME_REVERSED] = "reversed",
	[AZ_SCHEME_HASHED]   = "hashed",
};

int az_scheme_parse(const char *text, az_scheme_t *out)
{
	if (text == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	for (unsigned i = 0; i < sizeof(scheme_names) / sizeof(scheme_names[0]); i++) {
		if (strcmp(text, scheme_names[i]) == 0) {
			*out = (az_scheme_t)i;
			return AZ_EOK;
		}
	}
	return AZ_EINVAL;
}

const char *az_scheme_name(az_scheme_t scheme)
{
	if ((unsigned)scheme >= sizeof(scheme_names) / sizeof(scheme_names[0])) {
		return "unknown";
	}
	return scheme_names[scheme];
}

const char *az_label_fallback_str(az_fallback_t fallback)
{
	switch (fallback) {
	case AZ_FALLBACK_NONE:       return "none";
	case AZ_FALLBACK_LONG_LABEL: return "the label would be longer than 63 octets";
	case AZ_FALLBACK_LONG_NAME:  return "the name would be longer than 255 octets";
	case AZ_FALLBACK_ONE_LABEL:  return "a single-label domain";
	default:                     return "unknown";
	}
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int az_domain_parse(const char *text, char out[AZ_DOMAIN_BUFLEN], const char **why)
{
	const char *dummy;
	size_t len, llen = 0;

	if (why == NULL) {
		why = &dummy;
	}
	if (text == NULL || out == NULL) {
		*why = "no domain";
		return AZ_EINVAL;
	}
	if (text[0] == '*' && text[1] == '.') {
		text += 2;	/* a wildcard is validated at its parent */
	}
	len = strlen(text);
	if (len > 0 && text[len - 1] == '.') {
		len--;
	}
	if (len == 0) {
		*why = "empty domain";
		return AZ_EINVAL;
	}
	if (len > AZ_DOMAIN_BUFLEN - 1) {
		*why = "domain longer than 253 characters";
		return AZ_EINVAL;
	}
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? text[i] : '.';
		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (c == '.') {
			if (llen == 0) {
				*why = "empty label";
				return AZ_EINVAL;
			}
			if (out[i - 1] == '-') {
				*why = "label starts or ends with '-'";
				return AZ_EINVAL;
			}
			llen = 0;
		} else if (is_alnum(c) || c == '-') {
			if (llen == 0 && c == '-') {
				*why = "label starts or ends with '-'";
				return AZ_EINVAL;
			}
			if (++llen > 63) {
				*why = "label longer than 63 octets";
				return AZ_EINVAL;
			}
		} else if ((unsigned char)c >= 0x80) {
			*why = "non-ASCII character (use the xn-- form)";
			return AZ_EINVAL;
		} else if (c == '*') {
			*why = "'*' other than a leading '*.'";
			return AZ_EINVAL;
		} else {
			*why = "a host name has only letters, digits, '-' and dots";
			return AZ_EINVAL;
		}
		if (i < len) {
			out[i] = c;
		}
	}
	out[len] = '\0';
	return AZ_EOK;
}

/*
 * RFC 4648 base32, lower case (a-z2-7), of the first 'octets' octets of
 * SHA-256 over len octets of data; octets is a multiple of 5 (each group
 * of 5 octets, 40 bits, is 8 characters, so there is no padding).
 */
static void sha256_b32(const void *data, size_t len, size_t octets, char *out)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t d[AZ_SHA256_LEN];
	size_t o = 0;

	az_sha256(data, len, d);
	for (size_t i = 0; i < octets; i += 5) {
		uint64_t v = 0;
		for (size_t k = 0; k < 5; k++) {
			v = v << 8 | d[i + k];
		}
		for (int k = 7; k >= 0; k--) {
			out[o++] = b32[(v >> (5 * k)) & 31];
		}
	}
	out[o] = '\0';
}

/* The hashed label of a canonical domain: 20 octets, 32 characters. */
static void hashed_label(const char *domain, char out[AZ_LABEL_BUFLEN])
{
	sha256_b32(domain, strlen(domain), HASH_OCTETS, out);
}

/* Escape one span of the domain into out at *o; false if over 63. */
static bool escape(const char *s, size_t len, char *out, size_t *o)
{
	for (size_t i = 0; i < len; i++) {
		size_t need = s[i] == '-' ? 2 : 1;
		if (*o + need > 63) {
			return false;
		}
		if (s[i] == '-') {
			out[(*o)++] = '-';
			out[(*o)++] = '-';
		} else if (s[i] == '.') {
			out[(*o)++] = '-';
		} else {
			out[(*o)++] = s[i];
		}
	}
	return true;
}

int az_label(const char *domain, az_scheme_t scheme, size_t zone_len,
             char out[AZ_LABEL_BUFLEN], az_fallback_t *fallback)
{
	az_fallback_t dummy;
	size_t o = 0, len;
	bool fits = true;

	if (fallback == NULL) {
		fallback = &dummy;
	}
	*fallback = AZ_FALLBACK_NONE;
	if (domain == NULL || out == NULL || (unsigned)scheme > AZ_SCHEME_HASHED) {
		return AZ_EINVAL;
	}
	len = strlen(domain);
	if (scheme == AZ_SCHEME_HASHED) {
		hashed_label(domain, out);
		return AZ_EOK;
	}
	if (strchr(domain, '.') == NULL) {
		*fallback = AZ_FALLBACK_ONE_LABEL;
		hashed_label(domain, out);
		return AZ_EOK;
	}

	if (scheme == AZ_SCHEME_READABLE) {
		fits = escape(domain, len, out, &o);
	} else {
		/* Labels from the last to the first, joined by '.' (escaped). */
		size_t end = len;
		while (fits) {
			size_t start = end;
			while (start > 0 && domain[start - 1] != '.') {
				start--;
			}
			fits = escape(domain + start, end - start, out, &o);
			if (!fits || start == 0) {
				break;
			}
			fits = escape(".", 1, out, &o);
			end = start - 1;
		}
	}
	if (!fits) {
		*fallback = AZ_FALLBACK_LONG_LABEL;
	} else if (zone_len > 0 && 1 + o + zone_len > AZ_NAME_MAXLEN) {
		*fallback = AZ_FALLBACK_LONG_NAME;
	}
	if (*fallback != AZ_FALLBACK_NONE) {
		hashed_label(domain, out);
		return AZ_EOK;
	}
	out[o] = '\0';
	return AZ_EOK;
}

int az_delegation(const char *text, az_scheme_t scheme, const uint8_t *zone,
                  uint8_t out[AZ_NAME_MAXLEN], size_t *out_len,
                  az_fallback_t *fallback, const char **why)
{
	char domain[AZ_DOMAIN_BUFLEN], label[AZ_LABEL_BUFLEN];
	const char *dummy;
	size_t zlen, llen;
	int ret;

	if (why == NULL) {
		why = &dummy;
	}
	zlen = az_name_wire_len(zone, AZ_NAME_MAXLEN);
	if (zlen == 0 || zlen > AZ_ZONE_MAXLEN) {
		*why = "invalid challenge zone";
		return AZ_EINVAL;
	}
	ret = az_domain_parse(text, domain, why);
	if (ret != AZ_EOK) {
		return ret;
	}
	ret = az_label(domain, scheme, zlen, label, fallback);
	if (ret != AZ_EOK) {
		*why = "unknown scheme";
		return ret;
	}
	/* Fits: a label is at most 63 octets unless hashed (32), and a
	 * readable one is refused above if it does not fit with the zone;
	 * a hashed one always does, as zlen <= AZ_ZONE_MAXLEN. */
	llen = strlen(label);
	out[0] = (uint8_t)llen;
	memcpy(out + 1, label, llen);
	memcpy(out + 1 + llen, zone, zlen);
	if (out_len != NULL) {
		*out_len = 1 + llen + zlen;
	}
	return AZ_EOK;
}

/*
 * dns-account-01 (draft-ietf-acme-dns-account-label, section 3): the CA
 * asks TXT at
 *
 *	"_" || base32(SHA-256(<ACCOUNT_URL>)[0:10]) || "._acme-challenge." <domain>
 *
 * over the account URL exactly as the CA's Location header gave it.
 * RFC 4648's alphabet is upper case; DNS compares names without regard to
 * ASCII case, and the draft's examples (and the CAs) write it in lower
 * case, as here: https://example.com/acme/acct/ExampleAccount gives
 * _ujmmovf2vn55tgye.  10 octets are 16 characters and no padding.
 */
#define ACCOUNT_OCTETS	10

int az_account_uri_check(const char *uri, const char **why)
{
	static const char scheme[] = "https://";
	const char *dummy;
	size_t len, host;

	if (why == NULL) {
		why = &dummy;
	}
	if (uri == NULL || uri[0] == '\0') {
		*why = "empty";
		return AZ_EINVAL;
	}
	len = strlen(uri);
	if (len > AZ_ACCOUNT_URI_MAXLEN) {
		*why = "longer than 1024 characters";
		return AZ_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uri[i];
		if (c <= 0x20 || c >= 0x7f) {
			*why = "a space, control or non-ASCII character (a URL has none)";
			return AZ_EINVAL;
		}
	}
	if (len < sizeof(scheme) - 1 || strncasecmp(uri, scheme, sizeof(scheme) - 1) != 0) {
		*why = "not an https URL";
		return AZ_EINVAL;
	}
	host = strcspn(uri + sizeof(scheme) - 1, "/?#");
	if (host == 0) {
		*why = "no host after https://";
		return AZ_EINVAL;
	}
	return AZ_EOK;
}

int az_account_label(const char *uri, char out[AZ_ACCOUNT_LABEL_LEN + 1],
                     const char **why)
{
	int ret = az_account_uri_check(uri, why);

	if (ret != AZ_EOK) {
		return ret;
	}
	out[0] = '_';
	sha256_b32(uri, strlen(uri), ACCOUNT_OCTETS, out + 1);
	return AZ_EOK;
}

bool az_account_label_valid(const char *label, size_t len)
{
	if (label == NULL || len != AZ_ACCOUNT_LABEL_LEN || label[0] != '_') {
		return false;
	}
	for (size_t i = 1; i < len; i++) {
		char c = label[i];
		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) {
			return false;
		}
	}
	return true;
}
