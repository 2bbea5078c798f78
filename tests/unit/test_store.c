/* test_store.c -- unit tests of the store library: names, values, records, transactions, log, sync file. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"
#include "store.h"
#include "tap.h"
#include "testlib.h"

static char dir[] = "/tmp/az-test-store-XXXXXX";
static char db[256];

static const char *V1 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK-_0123";
static const char *V2 = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

static void test_names(void)
{
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len = 0;
	const char *why = NULL;
	char text[AZ_NAME_TXTLEN];

	tap_is(az_name_parse("_ACME-Challenge.Example.ORG", w, &len, &why), AZ_EOK,
	       "mixed-case name with leading underscore label parses");
	az_name_to_text(w, text, sizeof(text));
	tap_str(text, "_acme-challenge.example.org.", "name is lower-cased, text has a trailing dot");
	tap_is(len, 29, "wire length counts length octets and the root");
	size_t len2;
	az_name_parse("_acme-challenge.example.org.", w, &len2, &why);
	tap_is(len2, len, "trailing dot is optional");
	tap_is(az_name_wire_len(w, sizeof(w)), len, "wire length of a parsed name");
	tap_is(az_name_wire_len(w, 5), 0, "wire length refuses a truncated name");

	struct { const char *name; const char *what; } bad[] = {
		{ "", "empty name" },
		{ ".", "root" },
		{ "a..b", "empty label" },
		{ ".a", "leading dot" },
		{ "exa mple.org", "space" },
		{ "-a.org", "leading hyphen" },
		{ "a-.org", "trailing hyphen" },
		{ "a_b.org", "underscore inside a label" },
		{ "\xc3\xa9.org", "non-ASCII" },
		{ "a.b\\.c", "backslash" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", "64-octet label" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		int ret = az_name_parse(bad[i].name, w, &len, &why);
		tap_ok(ret == AZ_EINVAL && why != NULL, "refused: %s (%s)", bad[i].what,
		       why ? why : "no reason");
	}
	char longname[300];
	memset(longname, 0, sizeof(longname));
	for (int i = 0; i < 4; i++) {
		strcat(longname, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");	/* 62+1 */
	}
	strcat(longname, "a");
	tap_ok(az_name_parse(longname, w, &len, &why) == AZ_EOK && len == 255,
	       "name of 253 characters (255 octets) accepted");
	strcat(longname, "a");
	tap_is(az_name_parse(longname, w, &len, &why), AZ_EINVAL, "name over 255 octets refused");
	tap_is(az_name_parse("xn--bcher-kva.example", w, &len, &why), AZ_EOK, "IDN in xn-- form accepted");
}

static void test_values(void)
{
	const char *why;
	tap_is(az_value_check(V1, strlen(V1), false, &why), AZ_EOK, "43 base64url characters accepted");
	tap_is(az_value_check(V1, 42, false, &why), AZ_EINVAL, "42 characters refused without raw");
	tap_is(az_value_check("abcdefghijklmnopqrstuvwxyzABCDEFGHIJK+/0123", 43, false, &why),
	       AZ_EINVAL, "base64 (not url) characters refused");
	tap_is(az_value_check("hello world \"q\"", 15, true, &why), AZ_EOK, "raw printable value accepted");
	tap_is(az_value_check("", 0, true, &why), AZ_EINVAL, "empty raw value refused");
	char big[300];
	memset(big, 'x', sizeof(big));
	tap_is(az_value_check(big, 255, true, &why), AZ_EOK, "raw value of 255 octets accepted");
	tap_is(az_value_check(big, 256, true, &why), AZ_EINVAL, "raw value of 256 octets refused");
	tap_is(az_value_check("a\tb", 3, true, &why), AZ_EINVAL, "control character refused");

	int64_t s = 0;
	tap_ok(az_duration_parse("90s", &s) == AZ_EOK && s == 90, "90s");
	tap_ok(az_duration_parse("30m", &s) == AZ_EOK && s == 1800, "30m");
	tap_ok(az_duration_parse("2h", &s) == AZ_EOK && s == 7200, "2h");
	tap_ok(az_duration_parse("1d", &s) == AZ_EOK && s == 86400, "1d");
	tap_ok(az_duration_parse("45", &s) == AZ_EOK && s == 45, "plain seconds");
	const char *baddur[] = { "", "0", "-5s", "5x", "5ss", "h", "99999999999999999999", "3651d", " 5s" };
	for (size_t i = 0; i < sizeof(baddur) / sizeof(baddur[0]); i++) {
		tap_is(az_duration_parse(baddur[i], &s), AZ_EINVAL, "bad duration '%s' refused", baddur[i]);
	}
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		sprintf(out + 2 * i, "%02x", d[i]);
	}
}

static void test_sha256(void)
{
	/* FIPS 180-4 / NIST CSRC example vectors. */
	static const struct { const char *in; const char *out; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	uint8_t d[AZ_SHA256_LEN];
	char h[2 * AZ_SHA256_LEN + 1];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		az_sha256(v[i].in, strlen(v[i].in), d);
		hex(d, sizeof(d), h);
		tap_str(h, v[i].out, "SHA-256 of a %zu-octet message", strlen(v[i].in));
	}
	char *million = malloc(1000000);
	memset(million, 'a', 1000000);
	az_sha256(million, 1000000, d);
	free(million);
	hex(d, sizeof(d), h);
	tap_str(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	        "SHA-256 of a million 'a'");
	/* Lengths at the padding boundaries: 55 octets still fit the length
	 * in one block, 56 need a second; 63, 64, 65 straddle a block. */
	static const char *pads[] = {
		"9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",	/* 55 */
		"b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",	/* 56 */
		"7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",	/* 63 */
		"ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",	/* 64 */
		"635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",	/* 65 */
	};
	static const size_t plen[] = { 55, 56, 63, 64, 65 };
	char buf[65];
	for (size_t i = 0; i < 5; i++) {
		memset(buf, 'a', plen[i]);
		az_sha256(buf, plen[i], d);
		hex(d, sizeof(d), h);
		tap_str(h, pads[i], "SHA-256 of %zu 'a' (padding boundary)", plen[i]);
	}

	char val[AZ_ACME_VALUE_LEN + 1];
	az_acme_value("token.thumb", 11, val);
	tap_str(val, "lCdftpJCXapaZHkBGIZbcubeKW8RmA0jSG_aZN01zbU",
	        "ACME value: base64url(SHA-256(key authorisation))");
	const char *why;
	tap_is(az_value_check(val, strlen(val), false, &why), AZ_EOK,
	       "an ACME value passes the value check");
}

static void name(const char *text, uint8_t *w);

/* label under scheme for domain text, "" if refused. */
static const char *lab(const char *text, az_scheme_t scheme, az_fallback_t *fb)
{
	static char out[AZ_LABEL_BUFLEN];
	char d[AZ_DOMAIN_BUFLEN];
	if (az_domain_parse(text, d, NULL) != AZ_EOK ||
	    az_label(d, scheme, 0, out, fb) != AZ_EOK) {
		return "";
	}
	return out;
}

static void test_labels(void)
{
	char d[AZ_DOMAIN_BUFLEN];
	const char *why = NULL;
	az_fallback_t fb;
	az_scheme_t sc;

	tap_ok(az_scheme_parse("readable", &sc) == AZ_EOK && sc == AZ_SCHEME_READABLE &&
	       az_scheme_parse("reversed", &sc) == AZ_EOK && sc == AZ_SCHEME_REVERSED &&
	       az_scheme_parse("hashed", &sc) == AZ_EOK && sc == AZ_SCHEME_HASHED,
	       "scheme names parse");
	tap_is(az_scheme_parse("Readable", &sc), AZ_EINVAL, "scheme names are exact");
	tap_str(az_scheme_name(AZ_SCHEME_REVERSED), "reversed", "scheme name");

	tap_ok(az_domain_parse("Foo.Example.COM.", d, &why) == AZ_EOK &&
	       strcmp(d, "foo.example.com") == 0, "domain: lower case, no trailing dot");
	tap_ok(az_domain_parse("*.Example.org", d, &why) == AZ_EOK &&
	       strcmp(d, "example.org") == 0, "domain: a leading '*.' is dropped");
	struct { const char *in, *what; } bad[] = {
		{ "", "empty" }, { ".", "root" }, { "*.", "bare wildcard" },
		{ "a..b", "empty label" }, { "-a.b", "leading '-'" }, { "a-.b", "trailing '-'" },
		{ "a.b-", "trailing '-' at the end" }, { "_acme-challenge.example.org", "'_'" },
		{ "a*.b", "'*' inside" }, { "*.*.b", "two wildcards" }, { "a b.c", "blank" },
		{ "\xc3\xa9.org", "non-ASCII" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b", "64-octet label" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		tap_ok(az_domain_parse(bad[i].in, d, &why) == AZ_EINVAL && why != NULL,
		       "domain refused: %s (%s)", bad[i].what, why ? why : "no reason");
	}

	tap_str(lab("example.org", AZ_SCHEME_READABLE, &fb), "example-org", "readable: example.org");
	tap_str(lab("foo.example.com", AZ_SCHEME_READABLE, &fb), "foo-example-com",
	        "readable: foo.example.com");
	tap_str(lab("a-b.c", AZ_SCHEME_READABLE, &fb), "a--b-c", "readable: '-' doubled");
	tap_str(lab("a.b-c", AZ_SCHEME_READABLE, &fb), "a-b--c", "readable: ... so a.b-c differs");
	tap_str(lab("xn--bcher-kva.example", AZ_SCHEME_READABLE, &fb), "xn----bcher--kva-example",
	        "readable: an IDN in xn-- form");
	tap_str(lab("*.Example.ORG", AZ_SCHEME_READABLE, &fb), "example-org",
	        "readable: a wildcard maps like its parent");
	tap_is(fb, AZ_FALLBACK_NONE, "... without a fallback");
	tap_str(lab("foo.example.com", AZ_SCHEME_REVERSED, &fb), "com-example-foo",
	        "reversed: foo.example.com");
	tap_str(lab("xn--bcher-kva.example", AZ_SCHEME_REVERSED, &fb), "example-xn----bcher--kva",
	        "reversed: an IDN");
	/* Reference: printf %s example.org | sha256sum | head -c 40 |
	 * tr a-f A-F | basenc --base16 -d | base32 | tr A-Z a-z */
	tap_str(lab("example.org", AZ_SCHEME_HASHED, &fb), "x6v4g5bsswfqmm3a2owwiyojyrzvvz7y",
	        "hashed: example.org");
	tap_str(lab("*.EXAMPLE.org.", AZ_SCHEME_HASHED, &fb), "x6v4g5bsswfqmm3a2owwiyojyrzvvz7y",
	        "hashed: canonical form first");
	tap_is(fb, AZ_FALLBACK_NONE, "hashed by scheme is no fallback");

	tap_str(lab("intranet", AZ_SCHEME_READABLE, &fb),
	        lab("intranet", AZ_SCHEME_HASHED, NULL), "a single-label domain is hashed");
	tap_is(fb, AZ_FALLBACK_ONE_LABEL, "... and says why");
	/* 31 + 1 + 31 octets of readable label: 63 fits, 64 does not. */
	char l63[80], l64[80];
	snprintf(l63, sizeof(l63), "%s.%s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	snprintf(l64, sizeof(l64), "%s.%s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "b-bbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	tap_is(strlen(lab(l63, AZ_SCHEME_READABLE, &fb)), 63, "a readable label of 63 octets");
	tap_is(fb, AZ_FALLBACK_NONE, "... is kept");
	tap_str(lab(l64, AZ_SCHEME_READABLE, &fb), lab(l64, AZ_SCHEME_HASHED, NULL),
	        "a readable label of 64 octets falls back to hashed");
	tap_is(fb, AZ_FALLBACK_LONG_LABEL, "... saying why");
	tap_str(lab(l64, AZ_SCHEME_REVERSED, &fb), lab(l64, AZ_SCHEME_HASHED, NULL),
	        "reversed too");

	/* The whole name: a zone of 200 octets leaves 54 for the label. */
	uint8_t zone[AZ_NAME_MAXLEN], out[AZ_NAME_MAXLEN];
	char ztext[300], ntext[AZ_NAME_TXTLEN];
	size_t zlen = 0, olen = 0;
	memset(ztext, 0, sizeof(ztext));
	for (int i = 0; i < 3; i++) {
		memset(ztext + 64 * i, 'z', 63);
		ztext[64 * i + 63] = '.';
	}
	strcat(ztext, "abcdef");		/* 3 * 64 + 7 + 1 = 200 octets */
	tap_ok(az_name_parse(ztext, zone, &zlen, NULL) == AZ_EOK && zlen == 200,
	       "a zone of %zu octets", zlen);
	tap_is(az_delegation("www.example.com", AZ_SCHEME_READABLE, zone, out, &olen, &fb, &why),
	       AZ_EOK, "a short label fits under it");
	tap_is(fb, AZ_FALLBACK_NONE, "... as is");
	/* a--much--longer--name-with--several--labels-example-com: 55 */
	tap_is(az_delegation("a-much-longer-name.with-several-labels.example.com",
	                     AZ_SCHEME_READABLE, zone, out, &olen, &fb, &why), AZ_EOK,
	       "a longer label under a long zone");
	tap_is(fb, AZ_FALLBACK_LONG_NAME, "... falls back to hashed: the name would pass 255");
	tap_ok(olen <= AZ_NAME_MAXLEN && az_name_wire_len(out, olen) == olen &&
	       out[0] == AZ_HASH_LABEL_LEN, "... and the hashed name is a valid name");

	name("acme.example.net", zone);
	tap_is(az_delegation("*.Example.ORG.", AZ_SCHEME_READABLE, zone, out, &olen, &fb, &why),
	       AZ_EOK, "delegation name of *.Example.ORG.");
	az_name_to_text(out, ntext, sizeof(ntext));
	tap_str(ntext, "example-org.acme.example.net.", "... is example-org.acme.example.net.");
	tap_is(olen, az_name_wire_len(out, AZ_NAME_MAXLEN), "... with its wire length");
	tap_is(az_delegation("exa mple.org", AZ_SCHEME_READABLE, zone, out, &olen, &fb, &why),
	       AZ_EINVAL, "delegation of an invalid domain refused");
	uint8_t toolong[AZ_NAME_MAXLEN];
	char big[300];
	snprintf(big, sizeof(big), "%s.%s.%s.%s", l63, l63, l63, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	name(big, toolong);
	tap_is(az_delegation("example.org", AZ_SCHEME_READABLE, toolong, out, &olen, &fb, &why),
	       AZ_EINVAL, "a zone longer than %d octets is refused", AZ_ZONE_MAXLEN);
}

/*** dns-account-01: account labels. ***/

static void test_account_labels(void)
{
	char l[AZ_ACCOUNT_LABEL_LEN + 1];
	const char *why = NULL;
	/* The draft's example (draft-ietf-acme-dns-account-label-02, 3.1)
	 * and two more computed with sha256sum | base32. */
	struct { const char *uri, *label; } good[] = {
		{ "https://example.com/acme/acct/ExampleAccount", "_ujmmovf2vn55tgye" },
		{ "https://example.com/acme/acct/1", "_vrr7uudrklshxb6l" },
		{ "https://example.com/acme/acct/12345", "_ao3pcvmacvwyw63b" },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		tap_ok(az_account_label(good[i].uri, l, &why) == AZ_EOK &&
		       strcmp(l, good[i].label) == 0, "account label of %s is %s",
		       good[i].uri, good[i].label);
	}
	tap_ok(az_account_label("HTTPS://example.com/acme/acct/1", l, &why) == AZ_EOK &&
	       strcmp(l, "_vrr7uudrklshxb6l") != 0,
	       "the URL is hashed as given (another spelling, another label)");
	struct { const char *uri, *what; } bad[] = {
		{ "", "empty" }, { "http://example.com/acct/1", "http" },
		{ "example.com/acct/1", "no scheme" }, { "https://", "no host" },
		{ "https:///acct/1", "empty host" }, { "https://a b/1", "a space" },
		{ "https://ex\tample/1", "a tab" }, { "https://ex\x80" "ample/1", "non-ASCII" },
		{ "ftp://example.com/", "ftp" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		tap_ok(az_account_label(bad[i].uri, l, &why) == AZ_EINVAL && why != NULL,
		       "account URI refused: %s", bad[i].what);
	}
	char longer[AZ_ACCOUNT_URI_MAXLEN + 2];
	memset(longer, 'a', sizeof(longer) - 1);
	memcpy(longer, "https://", 8);
	longer[AZ_ACCOUNT_URI_MAXLEN] = '\0';
	tap_is(az_account_uri_check(longer, NULL), AZ_EOK, "an account URI of 1024 characters");
	longer[AZ_ACCOUNT_URI_MAXLEN] = 'a';
	longer[AZ_ACCOUNT_URI_MAXLEN + 1] = '\0';
	tap_is(az_account_uri_check(longer, NULL), AZ_EINVAL, "one of 1025 is refused");

	tap_ok(az_account_label_valid("_ujmmovf2vn55tgye", 17) &&
	       az_account_label_valid("_UJMMOVF2VN55TGYE", 17),
	       "a label is valid in either case");
	tap_ok(!az_account_label_valid("_ujmmovf2vn55tgy", 16) &&
	       !az_account_label_valid("_ujmmovf2vn55tgyee", 18) &&
	       !az_account_label_valid("ujmmovf2vn55tgyea", 17) &&
	       !az_account_label_valid("_ujmmovf2vn55tg1e", 17) &&
	       !az_account_label_valid("_ujmmovf2vn55tg-e", 17) &&
	       !az_account_label_valid(NULL, 17),
	       "labels of 15 or 17 characters, without '_', with 1 or '-' are not");
}

/*** Collision tests: no two domains share a label. ***/

typedef struct {
	char *label, *domain;
} pair_t;

static int pair_cmp(const void *a, const void *b)
{
	const pair_t *x = a, *y = b;
	int c = strcmp(x->label, y->label);
	return c != 0 ? c : strcmp(x->domain, y->domain);
}

/*
 * Inverse of the readable escaping, written from the rule (not from
 * label.c): a run of one '-' was a '.', a run of 2n was n '-', any other
 * run cannot occur.  false if the label does not decode.
 */
static bool unescape(const char *label, char *out)
{
	size_t o = 0;
	for (size_t i = 0; label[i] != '\0';) {
		if (label[i] != '-') {
			out[o++] = label[i++];
			continue;
		}
		size_t run = 0;
		while (label[i] == '-') {
			run++;
			i++;
		}
		if (run == 1) {
			out[o++] = '.';
		} else if (run % 2 == 0) {
			for (size_t k = 0; k < run / 2; k++) {
				out[o++] = '-';
			}
		} else {
			return false;
		}
	}
	out[o] = '\0';
	return true;
}

static void reverse_labels(const char *in, char *out)
{
	size_t len = strlen(in), o = 0, end = len;
	for (;;) {
		size_t start = end;
		while (start > 0 && in[start - 1] != '.') {
			start--;
		}
		memcpy(out + o, in + start, end - start);
		o += end - start;
		if (start == 0) {
			break;
		}
		out[o++] = '.';
		end = start - 1;
	}
	out[o] = '\0';
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	return test_rng(&rng_state);
}

/* A random host name, biased towards '-', short labels and xn-- IDNs. */
static void random_domain(char *out, size_t size)
{
	static const char narrow[] = "ab-";
	static const char wide[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	unsigned labels = 1 + (unsigned)(rng() % 5);
	size_t o = 0;
	for (unsigned l = 0; l < labels; l++) {
		size_t len;
		bool idn = rng() % 4 == 0;
		if (rng() % 16 == 0) {
			len = 40 + rng() % 24;		/* long: hits the fallback */
		} else {
			len = 1 + rng() % 8;
		}
		if (o + len + 6 >= size) {
			break;
		}
		if (l > 0) {
			out[o++] = '.';
		}
		size_t start = o;
		if (idn && len >= 2) {
			memcpy(out + o, "xn--", 4);
			o += 4;
		}
		const char *alpha = rng() % 2 ? narrow : wide;
		size_t n = strlen(alpha);
		for (size_t k = 0; k < len; k++) {
			out[o++] = alpha[rng() % n];
		}
		if (o - start > 63) {
			o = start + 63;
		}
		/* No '-' first or last. */
		if (out[start] == '-') {
			out[start] = 'a';
		}
		if (out[o - 1] == '-') {
			out[o - 1] = 'b';
		}
	}
	out[o] = '\0';
}

/*
 * Map every domain under both schemes, then sort (label, domain) pairs:
 * equal labels next to each other must have equal domains.  Also decode
 * each readable/reversed label back and compare.
 */
static void check_collisions(char **domains, size_t n, const char *what)
{
	pair_t *p = calloc(n * 2, sizeof(*p));
	size_t np = 0, decoded = 0, fallbacks = 0, undecodable = 0;
	char label[AZ_LABEL_BUFLEN], back[AZ_DOMAIN_BUFLEN], rev[AZ_DOMAIN_BUFLEN];
	az_fallback_t fb;

	for (size_t i = 0; i < n; i++) {
		for (int sc = AZ_SCHEME_READABLE; sc <= AZ_SCHEME_REVERSED; sc++) {
			az_label(domains[i], (az_scheme_t)sc, 0, label, &fb);
			if (fb != AZ_FALLBACK_NONE) {
				fallbacks++;
				if (strchr(label, '-') != NULL || strlen(label) != AZ_HASH_LABEL_LEN) {
					undecodable++;
				}
			} else if (!unescape(label, back)) {
				undecodable++;
			} else {
				if (sc == AZ_SCHEME_REVERSED) {
					reverse_labels(back, rev);
					strcpy(back, rev);
				}
				if (strcmp(back, domains[i]) == 0) {
					decoded++;
				} else {
					undecodable++;
				}
				if (strchr(label, '-') == NULL) {
					undecodable++;	/* could equal a hashed label */
				}
			}
			/* One scheme per store: collisions within a scheme matter. */
			if (sc == AZ_SCHEME_READABLE) {
				p[np].label = strdup(label);
				p[np].domain = domains[i];
				np++;
			} else {
				char tagged[AZ_LABEL_BUFLEN + 2];
				snprintf(tagged, sizeof(tagged), "R:%s", label);
				p[np].label = strdup(tagged);
				p[np].domain = domains[i];
				np++;
			}
		}
	}
	qsort(p, np, sizeof(*p), pair_cmp);
	size_t collisions = 0, dups = 0;
	for (size_t i = 1; i < np; i++) {
		if (strcmp(p[i].label, p[i - 1].label) == 0) {
			if (strcmp(p[i].domain, p[i - 1].domain) != 0) {
				if (collisions++ < 5) {
					tap_diag("collision: '%s' and '%s' -> '%s'", p[i].domain,
					         p[i - 1].domain, p[i].label);
				}
			} else {
				dups++;
			}
		}
	}
	tap_is(collisions, 0, "%s: %zu labels, no two domains share one (%zu duplicate domains)",
	       what, np, dups / 2);
	tap_is(undecodable, 0, "%s: every readable/reversed label decodes back to its domain "
	       "(%zu decoded, %zu hashed fallbacks)", what, decoded, fallbacks);
	for (size_t i = 0; i < np; i++) {
		free(p[i].label);
	}
	free(p);
}

static void test_collisions(void)
{
	/* Exhaustive: every valid host name over {a, b, -, .} up to 10 characters. */
	static const char alpha[] = "ab-.";
	size_t cap = 1 << 20, n = 0;
	char **doms = malloc(cap * sizeof(*doms));
	char cand[16], d[AZ_DOMAIN_BUFLEN];
	for (int len = 1; len <= 10; len++) {
		size_t total = 1;
		for (int k = 0; k < len; k++) {
			total *= 4;
		}
		for (size_t x = 0; x < total; x++) {
			size_t v = x;
			for (int k = 0; k < len; k++) {
				cand[k] = alpha[v % 4];
				v /= 4;
			}
			cand[len] = '\0';
			if (az_domain_parse(cand, d, NULL) == AZ_EOK && strcmp(d, cand) == 0 &&
			    n < cap) {
				doms[n++] = strdup(d);
			}
		}
	}
	tap_ok(n > 100000, "exhaustive: %zu host names over {a, b, '-', '.'} up to 10 characters", n);
	check_collisions(doms, n, "exhaustive");
	for (size_t i = 0; i < n; i++) {
		free(doms[i]);
	}

	/* Random: long names, IDNs, fallbacks. */
	char buf[AZ_DOMAIN_BUFLEN + 64];
	n = 0;
	tap_diag("random domains from xorshift64* seed 0x%016llx",
	         (unsigned long long)rng_state);
	for (int i = 0; i < 200000; i++) {
		random_domain(buf, AZ_DOMAIN_BUFLEN);
		if (az_domain_parse(buf, d, NULL) == AZ_EOK) {
			doms[n++] = strdup(d);
		}
	}
	tap_ok(n > 190000, "random: %zu valid host names", n);
	check_collisions(doms, n, "random");
	for (size_t i = 0; i < n; i++) {
		free(doms[i]);
	}
	free(doms);
}

static void test_records(void)
{
	az_val_t in[2] = {
		{ .expire = 1000, .published = 1764930000123, .len = 3,
		  .data = (const uint8_t *)"abc" },
		{ .expire = -1, .published = 0, .len = 5, .data = (const uint8_t *)"hello" },
	};
	const uint8_t key[] = "\x03""foo""\x04""test";
	size_t klen = sizeof(key);
	uint8_t buf[128], copy[128];
	size_t len = az_rec_encode(buf, sizeof(buf) - AZ_REC_SUMLEN, in, 2);
	tap_is(len, 3 + 18 + 3 + 18 + 5, "record encodes to the documented size (format 3)");
	az_rec_iter_t it;
	tap_is(az_rec_iter_init(&it, buf, len), AZ_ECORRUPT, "an unsealed record does not decode");
	size_t slen = az_rec_seal(buf, len, sizeof(buf), key, klen);
	tap_is(slen, len + AZ_REC_SUMLEN, "a sealed record is four octets longer");
	tap_is(az_rec_iter_init(&it, buf, slen), AZ_EOK, "record decodes");
	tap_is(az_rec_iter_count(&it), 2, "two values");
	az_val_t v;
	tap_ok(az_rec_iter_next(&it, &v) && v.expire == 1000 && v.len == 3 &&
	       v.published == 1764930000123 && memcmp(v.data, "abc", 3) == 0,
	       "first value round-trips, publication time included");
	tap_ok(az_rec_iter_next(&it, &v) && v.expire == -1 && v.len == 5 &&
	       v.published == 0, "second value round-trips");
	tap_ok(!az_rec_iter_next(&it, &v), "then the end");

	/* Every truncation and a bad byte must be refused. */
	int bad = 0;
	for (size_t n = 0; n < slen; n++) {
		bad += az_rec_iter_init(&it, buf, n) == AZ_ECORRUPT;
	}
	tap_is(bad, slen, "every truncated record is refused as corrupt");
	memcpy(copy, buf, slen);
	copy[0] = 3;
	tap_is(az_rec_iter_init(&it, copy, slen), AZ_ECORRUPT, "unknown format byte refused");
	memcpy(copy, buf, slen);
	copy[3 + 18] = 0x01;
	tap_is(az_rec_iter_init(&it, copy, slen), AZ_ECORRUPT, "non-printable value byte refused");
	memcpy(copy, buf, slen);
	copy[3 + 17] = 200;
	tap_is(az_rec_iter_init(&it, copy, slen), AZ_ECORRUPT, "value length past the end refused");
	memcpy(copy, buf, slen);
	copy[3 + 16] = 0;
	copy[3 + 17] = 0;
	tap_is(az_rec_iter_init(&it, copy, slen), AZ_ECORRUPT, "empty value refused");
	memcpy(copy, buf, slen);
	copy[2] = 3;
	tap_is(az_rec_iter_init(&it, copy, slen), AZ_ECORRUPT, "count larger than the data refused");
	tap_is(az_rec_iter_init(&it, buf, slen + 1), AZ_ECORRUPT, "trailing junk refused");
	tap_is(az_rec_encode(copy, 10, in, 2), 0, "encode refuses a short buffer");

	/* The checksum over key and record catches flipped octets that
	 * would still decode (another letter, another expiry). */
	tap_is(az_rec_verify(key, klen, buf, slen), AZ_EOK, "sealed record verifies against its key");
	int missed = 0, flips = 0;
	for (size_t i = 0; i < slen; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, buf, slen);
			copy[i] ^= (uint8_t)(1u << bit);
			flips++;
			missed += az_rec_verify(key, klen, copy, slen) == AZ_EOK;
		}
	}
	tap_is(missed, 0, "every one of %d single-bit flips in a sealed record is caught", flips);
	uint8_t key2[sizeof(key)];
	missed = 0;
	for (size_t i = 0; i < klen; i++) {
		memcpy(key2, key, klen);
		key2[i] ^= 0x02;	/* 'o' <-> 'm': still a valid name */
		missed += az_rec_verify(key2, klen, buf, slen) == AZ_EOK;
	}
	tap_is(missed, 0, "a flipped octet in the key is caught too");
	tap_is(az_rec_seal(buf, slen, sizeof(buf), key, klen), 0, "sealing twice is refused");
	tap_is(az_rec_verify(key, klen, buf, AZ_REC_MAXLEN + 1), AZ_ECORRUPT,
	       "a record longer than any record is refused before it is read");

	/* Format 1 (stores written before checksums): still read, with no
	 * publication time; u8 lengths. */
	const uint8_t f1[] = { 1, 0, 1, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 3, 'x', 'y', 'z' };
	tap_is(az_rec_verify(key, klen, f1, sizeof(f1)), AZ_EOK, "a format-1 record has nothing to verify");
	tap_ok(az_rec_iter_init(&it, f1, sizeof(f1)) == AZ_EOK && az_rec_iter_next(&it, &v) &&
	       v.expire == 1000 && v.published == 0 && v.len == 3 && memcmp(v.data, "xyz", 3) == 0,
	       "a format-1 record decodes, publication time unknown (0)");

	/* Long values (dns-persist-01): 16-bit lengths, cut into strings
	 * only on the wire. */
	static uint8_t big[AZ_REC_MAXLEN], text[AZ_TXT_MAXLEN];
	memset(text, 'p', sizeof(text));
	az_val_t lv = { .expire = AZ_EXPIRE_NEVER, .published = 1, .len = AZ_TXT_MAXLEN,
	                .data = text };
	size_t blen = az_rec_encode(big, sizeof(big) - AZ_REC_SUMLEN, &lv, 1);
	blen = blen > 0 ? az_rec_seal(big, blen, sizeof(big), key, klen) : 0;
	tap_ok(blen > 0 && az_rec_iter_init(&it, big, blen) == AZ_EOK &&
	       az_rec_iter_next(&it, &v) && v.len == AZ_TXT_MAXLEN &&
	       v.expire == AZ_EXPIRE_NEVER, "a %u-octet value that never expires round-trips",
	       (unsigned)AZ_TXT_MAXLEN);
	tap_is(az_txt_rdlen(AZ_TXT_MAXLEN), 65535, "and its TXT rdata fills 65535 octets");
	tap_is(az_txt_rdlen(255), 256, "255 octets: one string");
	tap_is(az_txt_rdlen(256), 258, "256 octets: two strings");
	tap_is(az_text_check((const char *)text, AZ_TXT_MAXLEN + 1, NULL), AZ_EINVAL,
	       "a text longer than a TXT record can carry is refused");
}

static void name(const char *text, uint8_t *w)
{
	size_t len;
	if (az_name_parse(text, w, &len, NULL) != AZ_EOK) {
		abort();
	}
}

static int count_values(az_store_t *st, const char *text, int64_t now, unsigned *live)
{
	uint8_t w[AZ_NAME_MAXLEN];
	name(text, w);
	az_reader_t *rd;
	if (az_reader_begin(st, &rd) != AZ_EOK) {
		return -1;
	}
	az_rec_iter_t it;
	int ret = az_reader_get(rd, w, &it);
	int n = -1;
	if (ret == AZ_EOK) {
		n = (int)az_rec_iter_count(&it);
		az_val_t v;
		*live = 0;
		while (az_rec_iter_next(&it, &v)) {
			*live += v.expire > now;
		}
	} else if (ret == AZ_ENOENT) {
		n = 0;
		*live = 0;
	}
	az_reader_end(rd);
	return n;
}

static int add(az_store_t *st, const char *text, const char *value, int64_t expire, int64_t now)
{
	uint8_t w[AZ_NAME_MAXLEN];
	name(text, w);
	az_txn_t *t;
	int ret = az_txn_begin(st, &t);
	if (ret != AZ_EOK) {
		return ret;
	}
	ret = az_txn_add(t, w, (const uint8_t *)value, strlen(value), expire, now);
	if (ret != AZ_EOK) {
		az_txn_abort(t);
		return ret;
	}
	return az_txn_commit(t, NULL);
}

static int collect(const uint8_t *n, void *ctx)
{
	char text[AZ_NAME_TXTLEN];
	az_name_to_text(n, text, sizeof(text));
	strcat(ctx, text);
	strcat(ctx, " ");
	return 0;
}

static int changes(az_store_t *st, uint64_t since, char *out)
{
	az_reader_t *rd;
	out[0] = '\0';
	if (az_reader_begin(st, &rd) != AZ_EOK) {
		return -100;
	}
	int ret = az_reader_changes(rd, since, collect, out);
	az_reader_end(rd);
	return ret;
}

/*
 * fn on STORE-lock, opened read-write in a child: a descriptor of the lock
 * file closed in this process would drop this process's own fcntl locks.
 * \return fn's verdict.
 */
static bool on_lock_file(const char *store, bool (*fn)(int fd))
{
	char path[300];
	int st = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s-lock", store);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR | O_CLOEXEC);
		_exit(fd >= 0 && fn(fd) ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Is byte 0 locked by another process (LMDB's sign that the environment
 * is in use; the first opener that gets it exclusively rebuilds the lock
 * file)? */
static bool byte0_taken(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	return fcntl(fd, F_SETLK, &fl) != 0 && (errno == EAGAIN || errno == EACCES);
}

/* LMDB's transaction id (mti_txnid: after the magic, the format and the
 * reader table's mutex) one lower, as a reader's account could write it. */
static bool txnid_lowered(int fd)
{
	off_t at = 8 + (off_t)sizeof(pthread_mutex_t);
	size_t id = 0;

	if (pread(fd, &id, sizeof(id), at) != (ssize_t)sizeof(id) || id == 0) {
		return false;
	}
	id--;
	return pwrite(fd, &id, sizeof(id), at) == (ssize_t)sizeof(id);
}

/* Does this process hold LMDB's lock on STORE-lock? */
static bool lock_held(const char *store)
{
	return on_lock_file(store, byte0_taken);
}

static int del_all(az_store_t *st, const char *text);

static void test_store(void)
{
	int64_t now = (int64_t)time(NULL);
	unsigned live;
	struct stat sb;
	char path[300];

	tap_is(az_store_create(db, (gid_t)-1), AZ_EOK, "store created");
	tap_ok(stat(db, &sb) == 0 && (sb.st_mode & 0777) == 0640, "data file is 0640");
	snprintf(path, sizeof(path), "%s-lock", db);
	tap_ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0660, "lock file is 0660");
	snprintf(path, sizeof(path), "%s-sync", db);
	tap_ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0660 && sb.st_size == 4096,
	       "sync file is 0660, 4 KiB");
	tap_is(az_store_create(db, (gid_t)-1), AZ_EIO, "create refuses an existing store");
	tap_ok(errno == EEXIST, "... with EEXIST");

	az_store_t *st = NULL, *ro = NULL;
	tap_is(az_store_open(&st, db, 0), AZ_EOK, "store opens for writing");
	tap_ok(lock_held(db), "... and holds LMDB's lock on the lock file (the next opener is not alone)");
	tap_is(az_store_open(&ro, "/nonexistent/x.mdb", AZ_OPEN_RDONLY), AZ_ENOENT, "missing store: ENOENT");
	tap_is(az_store_open(&ro, dir, 0), AZ_EIO, "a directory is refused");

	uint64_t before = az_store_last_txnid(st);
	tap_is(add(st, "a.acme.test", V1, now + 3600, now), AZ_EOK, "add a value");
	tap_is(az_store_last_txnid(st), before + 1, "one add is one transaction");
	tap_ok(on_lock_file(db, txnid_lowered), "the lock file's transaction id lowered by one (a reader's account)");
	tap_is(add(st, "a2.acme.test", V1, now + 3600, now), AZ_EOK,
	       "... the next write puts it right and commits");
	tap_is(az_store_last_txnid(st), before + 2, "... on top of the last commit");
	tap_ok(lock_held(db), "... and LMDB's lock on the lock file is still held (the repair "
	       "closed no descriptor of it)");
	tap_is(del_all(st, "a2.acme.test"), AZ_EOK, "... (that value deleted again)");
	tap_is(count_values(st, "A.ACME.TEST.", now, &live), 1, "read back under another case");
	tap_is(add(st, "a.acme.test", V1, now + 7200, now), AZ_EOK, "add the same value again");
	tap_is(count_values(st, "a.acme.test", now, &live), 1, "same value is not duplicated");
	{
		uint8_t w[AZ_NAME_MAXLEN];
		name("a.acme.test", w);
		az_reader_t *rd;
		az_rec_iter_t it;
		az_val_t v;
		az_reader_begin(st, &rd);
		az_reader_get(rd, w, &it);
		az_rec_iter_next(&it, &v);
		tap_is(v.expire, now + 7200, "re-adding refreshed the expiry");
		az_reader_end(rd);
	}
	tap_is(add(st, "a.acme.test", V2, now + 3600, now), AZ_EOK, "add a second value");
	tap_ok(count_values(st, "a.acme.test", now, &live) == 2 && live == 2, "two values at one name");
	tap_is(add(st, "a.acme.test", "raw value", now - 1, now), AZ_EOK, "add an already expired value");
	tap_ok(count_values(st, "a.acme.test", now, &live) == 3 && live == 2, "expired value stored but not live");
	tap_is(add(st, "a.acme.test", "raw 2", now + 60, now), AZ_EOK, "add another value");
	tap_ok(count_values(st, "a.acme.test", now, &live) == 3 && live == 3,
	       "adding drops the expired value in passing");

	/* del one, del all, del absent */
	uint8_t w[AZ_NAME_MAXLEN];
	name("a.acme.test", w);
	az_txn_t *t;
	unsigned removed = 9;
	az_txn_begin(st, &t);
	tap_is(az_txn_del(t, w, (const uint8_t *)V2, strlen(V2), &removed), AZ_EOK, "del one value");
	tap_is(removed, 1, "... removed one");
	tap_is(az_txn_commit(t, NULL), AZ_EOK, "... committed");
	tap_ok(count_values(st, "a.acme.test", now, &live) == 2, "two values left");
	az_txn_begin(st, &t);
	tap_is(az_txn_del(t, w, NULL, 0, &removed), AZ_EOK, "del all values");
	tap_is(removed, 2, "... removed two");
	az_txn_commit(t, NULL);
	tap_ok(count_values(st, "a.acme.test", now, &live) == 0, "name gone");
	uint64_t id_before = az_store_last_txnid(st), id = 0;
	az_txn_begin(st, &t);
	tap_is(az_txn_del(t, w, NULL, 0, &removed), AZ_EOK, "del of an absent name is not an error");
	tap_is(az_txn_commit(t, &id), AZ_EOK, "empty commit succeeds");
	tap_ok(id == id_before && az_store_last_txnid(st) == id_before,
	       "empty commit reports the last id and writes nothing");

	/* Atomic batches: abort leaves nothing. */
	az_txn_begin(st, &t);
	name("b1.acme.test", w);
	az_txn_add(t, w, (const uint8_t *)V1, 43, now + 60, now);
	name("b2.acme.test", w);
	az_txn_add(t, w, (const uint8_t *)V1, 43, now + 60, now);
	az_txn_abort(t);
	tap_ok(count_values(st, "b1.acme.test", now, &live) == 0 &&
	       count_values(st, "b2.acme.test", now, &live) == 0, "an aborted batch writes nothing");
	az_txn_begin(st, &t);
	name("b1.acme.test", w);
	az_txn_add(t, w, (const uint8_t *)V1, 43, now + 60, now);
	name("b2.acme.test", w);
	az_txn_add(t, w, (const uint8_t *)V1, 43, now + 60, now);
	id_before = az_store_last_txnid(st);
	az_txn_commit(t, &id);
	tap_ok(count_values(st, "b1.acme.test", now, &live) == 1 &&
	       count_values(st, "b2.acme.test", now, &live) == 1 && id == id_before + 1,
	       "a committed batch is one transaction with all its changes");

	/* Change log. */
	char buf[4096];
	tap_is(changes(st, id_before, buf), AZ_EOK, "change log covers the last transaction");
	tap_str(buf, "b1.acme.test. b2.acme.test. ", "... and names what it changed");
	tap_is(changes(st, id, buf), AZ_EOK, "nothing after the newest transaction");
	tap_str(buf, "", "... so no names");

	/* Purge. */
	add(st, "p.acme.test", "old", now - 10, now);
	name("p.acme.test", w);
	size_t purged = 0;
	uint64_t pre = az_store_last_txnid(st);
	az_txn_begin(st, &t);
	tap_is(az_txn_purge(t, now, &purged), AZ_EOK, "purge");
	az_txn_commit(t, NULL);
	tap_is(purged, 1, "purge dropped the one expired value");
	tap_ok(count_values(st, "p.acme.test", now, &live) == 0, "purged name is gone");
	changes(st, pre, buf);
	tap_str(buf, "p.acme.test. ", "purge is in the change log");

	/* Many names in one transaction: "reload all". */
	pre = az_store_last_txnid(st);
	az_txn_begin(st, &t);
	char text[64];
	int ok = 1;
	for (int i = 0; i < 20000; i++) {
		snprintf(text, sizeof(text), "n%d.acme.test", i);
		name(text, w);
		ok &= az_txn_add(t, w, (const uint8_t *)V1, 43, now + 60, now) == AZ_EOK;
	}
	tap_ok(ok && az_txn_commit(t, NULL) == AZ_EOK, "20000 adds in one transaction");
	tap_is(changes(st, pre, buf), AZ_ENOENT, "a huge transaction tells readers to reload all");
	{
		az_reader_t *rd;
		az_reader_begin(st, &rd);
		tap_ok(az_reader_count(rd) >= 20002, "reader counts the names");
		az_reader_end(rd);
	}

	/* Log trimming past LOG_KEEP (4096) transactions. */
	uint64_t first = az_store_last_txnid(st);
	for (int i = 0; i < 4200; i++) {
		add(st, "trim.acme.test", i % 2 ? V1 : V2, now + 60, now);
	}
	tap_is(changes(st, first, buf), AZ_ENOENT, "log trimmed: an old reader must reload all");
	tap_is(changes(st, az_store_last_txnid(st) - 10, buf), AZ_EOK, "recent history still covered");
	az_store_close(st);

	/* Schema from the future is refused. */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 4);
	mdb_env_open(env, db, MDB_NOSUBDIR, 0640);
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "meta", 0, &meta);
	uint8_t v9[4] = { 0, 0, 0, 9 };
	MDB_val k = { 6, "schema" }, d = { 4, v9 };
	mdb_put(txn, meta, &k, &d, 0);
	mdb_txn_commit(txn);
	mdb_env_close(env);
	tap_is(az_store_open(&st, db, AZ_OPEN_RDONLY), AZ_ESCHEMA, "newer schema refused by readers");
	tap_is(az_store_open(&st, db, 0), AZ_ESCHEMA, "newer schema refused by writers");

	/* A file that is no store. */
	char junk[300];
	snprintf(junk, sizeof(junk), "%s/junk.mdb", dir);
	FILE *f = fopen(junk, "w");
	fputs("this is not lmdb, not at all, but long enough to look like something", f);
	fclose(f);
	int ret = az_store_open(&st, junk, AZ_OPEN_RDONLY);
	tap_ok(ret == AZ_ENOTINIT || ret == AZ_ECORRUPT, "a non-LMDB file is refused (%s)", az_strerror(ret));

	/* World-writable file refused by writers. */
	char ww[300];
	snprintf(ww, sizeof(ww), "%s/ww.mdb", dir);
	az_store_create(ww, (gid_t)-1);
	chmod(ww, 0666);
	tap_is(az_store_open(&st, ww, 0), AZ_EPERM, "writer refuses a world-writable store");
}

/*
 * A writer whose map is mapsize (ACMEZONE_MAPSIZE, as the CLI honours it)
 * creates the store at path, or commits 'names' names into it.  LMDB
 * records the map size a file was created with and only ever grows it.
 */
static int write_with_map(const char *path, const char *mapsize, bool create, int names)
{
	az_store_t *st = NULL;
	az_txn_t *t = NULL;
	int64_t now = (int64_t)time(NULL);
	char text[64];
	uint8_t w[AZ_NAME_MAXLEN];
	int ret;

	setenv(AZ_ENV_MAPSIZE, mapsize, 1);
	ret = create ? az_store_create(path, (gid_t)-1) : AZ_EOK;
	if (ret != AZ_EOK || (ret = az_store_open(&st, path, 0)) != AZ_EOK ||
	    (ret = az_txn_begin(st, &t)) != AZ_EOK) {
		goto out;
	}
	for (int i = 0; i < names && ret == AZ_EOK; i++) {
		snprintf(text, sizeof(text), "g%d.acme.test", i);
		name(text, w);
		ret = az_txn_add(t, w, (const uint8_t *)V1, 43, now + 60, now);
	}
	if (ret == AZ_EOK) {
		ret = az_txn_commit(t, NULL);
	} else {
		az_txn_abort(t);
	}
out:
	az_store_close(st);
	unsetenv(AZ_ENV_MAPSIZE);
	return ret;
}

/* A shared (AZ_OPEN_THREADS) handle never remaps by itself. */
static void test_remap(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/remap.mdb", dir);
	int64_t now = (int64_t)time(NULL);
	az_store_t *w = NULL, *ro = NULL;
	az_reader_t *rd = NULL;

	tap_is(write_with_map(path, "1M", true, 0), AZ_EOK,
	       "remap: a store whose file records a 1 MiB map");
	tap_is(az_store_open(&ro, path, AZ_OPEN_RDONLY | AZ_OPEN_THREADS), AZ_EOK,
	       "remap: shared read-only handle opens");
	tap_is(az_reader_begin(ro, &rd), AZ_EOK, "remap: a snapshot before the growth");
	az_reader_end(rd);
	rd = NULL;

	/* Another process grows the file past the reader's mapping. */
	tap_is(write_with_map(path, "64M", false, 40000), AZ_EOK,
	       "remap: a writer with a 64 MiB map commits 40000 names (about 4 MiB)");
	tap_is(az_store_open(&w, path, 0), AZ_EOK, "remap: the store writer opens too");
	tap_is(add(w, "r.acme.test", V1, now + 60, now), AZ_EOK, "remap: and adds a value");
	az_store_close(w);

	tap_is(az_reader_begin(ro, &rd), AZ_ERESIZED, "remap: the shared handle reports AZ_ERESIZED");
	tap_ok(rd == NULL, "remap: ... and opens no snapshot");
	tap_is(az_store_remap(ro), AZ_EOK, "remap: az_store_remap() adopts the new size");
	tap_is(az_reader_begin(ro, &rd), AZ_EOK, "remap: snapshots work again");
	if (rd != NULL) {
		uint8_t wn[AZ_NAME_MAXLEN];
		az_rec_iter_t it;
		name("r.acme.test", wn);
		tap_is(az_reader_get(rd, wn, &it), AZ_EOK, "remap: the value written after the growth is read");
		az_reader_end(rd);
	}
	tap_ok(strcmp(az_strerror(AZ_ERESIZED), "unknown error") != 0, "AZ_ERESIZED has a message");
	az_store_close(ro);
}

static int read_config(const char *path, az_config_t *cfg)
{
	az_store_t *st;
	az_reader_t *rd;
	int ret = az_store_open(&st, path, AZ_OPEN_RDONLY);
	if (ret != AZ_EOK) {
		return ret;
	}
	ret = az_reader_begin(st, &rd);
	if (ret == AZ_EOK) {
		ret = az_reader_config(rd, cfg);
		az_reader_end(rd);
	}
	az_store_close(st);
	return ret;
}

/* Write a raw meta key behind the store's back. */
static void put_meta(const char *path, const char *key, const void *val, size_t len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 4);
	mdb_env_open(env, path, MDB_NOSUBDIR, 0640);
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "meta", 0, &meta);
	MDB_val k = { strlen(key), (void *)key }, d = { len, (void *)val };
	mdb_put(txn, meta, &k, &d, 0);
	mdb_txn_commit(txn);
	mdb_env_close(env);
}

static void test_config(void)
{
	char p1[300], p2[300], text[AZ_NAME_TXTLEN];
	az_config_t cfg, got;
	snprintf(p1, sizeof(p1), "%s/c1.mdb", dir);
	snprintf(p2, sizeof(p2), "%s/c2.mdb", dir);

	tap_is(az_store_create(p1, (gid_t)-1), AZ_EOK, "config: a store without settings");
	tap_is(read_config(p1, &got), AZ_EOK, "config: read from a store without settings");
	tap_ok(!got.has_zone && got.scheme == AZ_SCHEME_READABLE,
	       "config: no zone, readable by default");

	memset(&cfg, 0, sizeof(cfg));
	cfg.has_zone = true;
	name("ACME.Example.NET", cfg.zone);
	cfg.scheme = AZ_SCHEME_REVERSED;
	tap_is(az_store_create_with(p2, (gid_t)-1, &cfg), AZ_EOK, "config: created with settings");
	tap_is(read_config(p2, &got), AZ_EOK, "config: read back");
	az_name_to_text(got.zone, text, sizeof(text));
	tap_ok(got.has_zone && strcmp(text, "acme.example.net.") == 0 &&
	       got.scheme == AZ_SCHEME_REVERSED, "config: zone %s, scheme %s", text,
	       az_scheme_name(got.scheme));

	az_store_t *st;
	az_txn_t *t;
	uint64_t before, id = 0;
	az_store_open(&st, p1, 0);
	before = az_store_last_txnid(st);
	az_txn_begin(st, &t);
	cfg.scheme = AZ_SCHEME_HASHED;
	tap_is(az_txn_set_config(t, &cfg), AZ_EOK, "config: set in a transaction");
	tap_ok(az_txn_get_config(t, &got) == AZ_EOK && got.scheme == AZ_SCHEME_HASHED,
	       "config: the transaction sees its own change");
	tap_ok(az_txn_commit(t, &id) == AZ_EOK && id == before + 1, "config: committed");
	char buf[64];
	tap_is(changes(st, before, buf), AZ_EOK, "config: the change log covers it");
	tap_str(buf, "", "config: ... naming no name");
	az_txn_begin(st, &t);
	cfg.has_zone = false;
	az_txn_set_config(t, &cfg);
	az_txn_commit(t, NULL);
	tap_ok(read_config(p1, &got) == AZ_EOK && !got.has_zone && got.scheme == AZ_SCHEME_HASHED,
	       "config: the zone can be removed");
	az_txn_begin(st, &t);
	cfg.scheme = (az_scheme_t)7;
	tap_is(az_txn_set_config(t, &cfg), AZ_EINVAL, "config: an unknown scheme is refused");
	uint8_t lz[AZ_NAME_MAXLEN];
	char big[300];
	memset(big, 0, sizeof(big));
	for (int i = 0; i < 4; i++) {
		strcat(big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	}
	strcat(big, "x");		/* 4 * 56 + 2 + 1 = 227 octets */
	name(big, lz);
	cfg.scheme = AZ_SCHEME_READABLE;
	cfg.has_zone = true;
	memcpy(cfg.zone, lz, sizeof(lz));
	tap_is(az_txn_set_config(t, &cfg), AZ_EINVAL, "config: a zone longer than %d octets is refused",
	       AZ_ZONE_MAXLEN);
	az_txn_abort(t);
	az_store_close(st);

	/* Bytes read back are validated. */
	uint8_t nine = 9;
	put_meta(p2, "scheme", &nine, 1);
	tap_is(read_config(p2, &got), AZ_ECORRUPT, "config: an unknown scheme byte is corrupt");
	put_meta(p2, "scheme", "\0\0", 2);
	tap_is(read_config(p2, &got), AZ_ECORRUPT, "config: a scheme of two octets is corrupt");
	put_meta(p2, "scheme", "\0", 1);
	put_meta(p2, "zone", "\x04""acme\x03""net", 9);
	tap_is(read_config(p2, &got), AZ_ECORRUPT, "config: a zone without its root label is corrupt");
	put_meta(p2, "zone", "\x04""ACME\x03""net\0", 10);
	tap_is(read_config(p2, &got), AZ_ECORRUPT, "config: an upper-case zone is corrupt");
	put_meta(p2, "zone", "\x04""acme\x03""net\0", 10);
	tap_ok(read_config(p2, &got) == AZ_EOK && got.has_zone, "config: a good zone reads again");
}

/* Each record must still be under its own name after a purge rewrote it. */
struct purge_check {
	int seen, bad;
};

static int purge_check_one(const uint8_t *n, az_rec_iter_t *rec, void *ctx)
{
	struct purge_check *pc = ctx;
	char text[AZ_NAME_TXTLEN], want[64];
	az_val_t v;
	pc->seen++;
	if (n == NULL || rec == NULL || !az_rec_iter_next(rec, &v)) {
		pc->bad++;
		return 0;
	}
	az_name_to_text(n, text, sizeof(text));
	/* "pNNN.acme.test." holds "keep-pNNN" */
	snprintf(want, sizeof(want), "keep-%.*s", (int)(strchr(text, '.') - text), text);
	if (v.len != strlen(want) || memcmp(v.data, want, v.len) != 0) {
		pc->bad++;
	}
	return 0;
}

static void test_purge_rewrite(void)
{
	char path[300], text[64], val[64];
	snprintf(path, sizeof(path), "%s/purge.mdb", dir);
	az_store_create(path, (gid_t)-1);
	az_store_t *st;
	az_txn_t *t;
	uint8_t w[AZ_NAME_MAXLEN];
	int64_t now = (int64_t)time(NULL);
	az_store_open(&st, path, 0);
	az_txn_begin(st, &t);
	for (int i = 0; i < 300; i++) {
		snprintf(text, sizeof(text), "p%03d.acme.test", i);
		name(text, w);
		snprintf(val, sizeof(val), "keep-p%03d", i);
		az_txn_add(t, w, (const uint8_t *)val, strlen(val), now + 3600, now);
		/* A longer expired value: the purge shrinks every record. */
		az_txn_add(t, w, (const uint8_t *)"an expired value, longer than the kept one",
		           42, now + 1, now);
	}
	az_txn_commit(t, NULL);
	size_t purged = 0;
	az_txn_begin(st, &t);
	tap_is(az_txn_purge(t, now + 2, &purged), AZ_EOK, "purge rewrites 300 records in place");
	az_txn_commit(t, NULL);
	tap_is(purged, 300, "... dropping one value from each");
	struct purge_check pc = { 0, 0 };
	az_reader_t *rd;
	az_reader_begin(st, &rd);
	az_reader_foreach(rd, NULL, purge_check_one, &pc);
	az_reader_end(rd);
	tap_ok(pc.seen == 300 && pc.bad == 0,
	       "every rewritten record is whole and under its own name (%d seen, %d bad)",
	       pc.seen, pc.bad);
	az_store_close(st);
}

/*** Random batch sequences: readable after every commit. ***/

/*
 * Batches as 'acmezone apply' makes them (many adds at a few names, now
 * and then a "del NAME"), in random sequences on fresh stores.  After
 * every commit the store must pass az_store_check() and read back whole:
 * once as the writer left the file, and once with its trailing all-zero
 * pages cut off.  Those are pages LMDB allocated and freed within one
 * transaction and never wrote; the writer gives the file room for them
 * (so the cheap check passes), the cut file is what LMDB alone leaves,
 * and what a writer killed right after its commit leaves.  Both hold all
 * the data: neither is a truncation.
 */

#define SEQ_NAMES	4
#define SEQ_ADDS	48	/* adds at one name in one batch, at most */
#define SEQ_VALUES	80	/* values at one name, at most */
#define SEQ_MAX		3000	/* sequences, at most */
#define SEQ_MS		15000	/* and at most this long */

typedef struct {
	az_store_t *st;
	char path[300];
	unsigned live[SEQ_NAMES];	/* the model: values at n<i>.z.test */
	unsigned seen[SEQ_NAMES];
	unsigned bad;
	uint64_t rng;
} seq_t;

/* A random token, or with any_len a random value of 43 to 255 octets. */
static size_t seq_value(uint64_t *rng, char out[AZ_VALUE_MAXLEN], bool any_len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t len = AZ_ACME_VALUE_LEN;
	if (any_len) {
		len += test_rng(rng) % (AZ_VALUE_MAXLEN - AZ_ACME_VALUE_LEN + 1);
	}
	for (size_t i = 0; i < len; i++) {
		out[i] = b64[test_rng(rng) % 64];
	}
	return len;
}

static void seq_name(unsigned i, uint8_t w[AZ_NAME_MAXLEN])
{
	char text[32];
	snprintf(text, sizeof(text), "n%u.z.test", i);
	name(text, w);
}

static int seq_count(const uint8_t *n, az_rec_iter_t *rec, void *ctx)
{
	seq_t *s = ctx;
	/* "\x02" "n<i>" "\x01z\x04test" */
	if (n == NULL || rec == NULL || n[0] != 2 || n[1] != 'n' ||
	    n[2] < '0' || n[2] >= '0' + SEQ_NAMES) {
		s->bad++;
		return 0;
	}
	s->seen[n[2] - '0'] = az_rec_iter_count(rec);
	return 0;
}

/* Read everything back through a snapshot and compare with the model. */
static int seq_verify(seq_t *s)
{
	az_reader_t *rd = NULL;
	int ret = az_reader_begin(s->st, &rd);
	if (ret != AZ_EOK) {
		return ret;
	}
	memset(s->seen, 0, sizeof(s->seen));
	s->bad = 0;
	ret = az_reader_foreach(rd, NULL, seq_count, s);
	az_reader_end(rd);
	if (ret == AZ_EOK && (s->bad != 0 || memcmp(s->seen, s->live, sizeof(s->live)) != 0)) {
		ret = AZ_ECORRUPT;
	}
	return ret;
}

/* Cut the pages at the end of the file that hold only zeros. */
static off_t cut_zero_tail(const char *path)
{
	long ps = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat sb;
	off_t end = -1;
	uint8_t *page = malloc((size_t)ps);
	if (fd < 0 || page == NULL || fstat(fd, &sb) != 0) {
		goto out;
	}
	end = sb.st_size - sb.st_size % ps;
	while (end > 2 * ps && pread(fd, page, (size_t)ps, end - ps) == ps) {
		size_t i = 0;
		while (i < (size_t)ps && page[i] == 0) {
			i++;
		}
		if (i < (size_t)ps) {
			break;
		}
		end -= ps;
	}
	if (end != sb.st_size && ftruncate(fd, end) != 0) {
		end = -1;
	}
out:
	free(page);
	if (fd >= 0) {
		close(fd);
	}
	return end;
}

/* One batch: groups of adds at one name, sometimes a "del NAME" first. */
static int seq_batch(seq_t *s, const unsigned *counts, unsigned groups)
{
	int64_t now = (int64_t)time(NULL);
	uint8_t w[AZ_NAME_MAXLEN];
	char v[AZ_VALUE_MAXLEN];
	az_txn_t *t = NULL;
	int ret = az_txn_begin(s->st, &t);
	for (unsigned g = 0; g < groups && ret == AZ_EOK; g++) {
		unsigned at = (unsigned)(test_rng(&s->rng) % SEQ_NAMES);
		unsigned n = counts != NULL ? counts[g] % 1000 : 1 + (unsigned)(test_rng(&s->rng) % SEQ_ADDS);
		if (counts != NULL) {
			at = counts[g] / 1000;
		}
		seq_name(at, w);
		/* A record of a few hundred values is many pages already;
		 * bigger ones only cost time (each add rewrites the record). */
		if (counts == NULL && (test_rng(&s->rng) % 5 == 0 || s->live[at] + n > SEQ_VALUES)) {
			ret = az_txn_del(t, w, NULL, 0, NULL);
			s->live[at] = 0;
		}
		for (unsigned i = 0; i < n && ret == AZ_EOK; i++) {
			size_t len = seq_value(&s->rng, v, counts == NULL);
			ret = az_txn_add(t, w, (const uint8_t *)v, len, now + 3600, now);
			s->live[at]++;
		}
	}
	if (ret == AZ_EOK) {
		return az_txn_commit(t, NULL);
	}
	az_txn_abort(t);
	return ret;
}

/* A fresh store for a sequence (the files of the previous one removed). */
static int seq_open(seq_t *s)
{
	static const char *const side[] = { "", "-lock", "-sync" };
	az_config_t cfg = { .has_zone = true, .scheme = AZ_SCHEME_READABLE };
	char p[320];
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", s->path, side[i]);
		unlink(p);
	}
	memset(s->live, 0, sizeof(s->live));
	name("z.test", cfg.zone);
	int ret = az_store_create_with(s->path, (gid_t)-1, &cfg);
	return ret != AZ_EOK ? ret : az_store_open(&s->st, s->path, 0);
}

/* After a commit: whole as written, and whole with the zero tail cut. */
static const char *seq_after_commit(seq_t *s)
{
	if (az_store_check(s->st) != AZ_EOK) {
		return "az_store_check() refuses the file as the writer left it";
	}
	if (seq_verify(s) != AZ_EOK) {
		return "the file as the writer left it does not read back";
	}
	if (cut_zero_tail(s->path) < 0) {
		return "cannot cut the zero pages at the end";
	}
	if (az_store_check(s->st) != AZ_EOK) {
		return "az_store_check() refuses the file as LMDB left it";
	}
	if (seq_verify(s) != AZ_EOK) {
		return "the file as LMDB left it does not read back";
	}
	return NULL;
}

static void test_batch_sequences(void)
{
	seq_t s = { .rng = (uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid() };
	const char *seed_env = getenv("AZ_TEST_SEED");
	if (seed_env != NULL) {
		s.rng = strtoull(seed_env, NULL, 0);
	}
	uint64_t seed = s.rng;
	/* tmpfs if there is one (a commit is an fdatasync), in a directory
	 * of our own: writers refuse a store in one anyone may write. */
	struct stat sb;
	char shm[] = "/dev/shm/az-seq-XXXXXX";
	bool on_shm = mkdtemp(shm) != NULL;
	snprintf(s.path, sizeof(s.path), "%s/seq.mdb", on_shm ? shm : dir);

	/* The sequence of the report: 10 at n0, 200 at n2, 100 at n1, 200 at n2. */
	static const unsigned report[] = { 10, 2200, 1100, 2200 };
	const char *why = NULL;
	tap_is(seq_open(&s), AZ_EOK, "sequences: a store with challenge zone z.test");
	for (size_t i = 0; i < 4 && why == NULL; i++) {
		int ret = seq_batch(&s, &report[i], 1);
		why = ret != AZ_EOK ? az_strerror(ret) : seq_after_commit(&s);
	}
	tap_ok(why == NULL, "10 at n0, 200 at n2, 100 at n1, 200 at n2: readable after each (%s)",
	       why != NULL ? why : "ok");
	/* A real truncation is still one: half the file. */
	if (why == NULL && stat(s.path, &sb) == 0) {
		tap_ok(truncate(s.path, sb.st_size / 2) == 0, "cut the file to half (%lld octets)",
		       (long long)(sb.st_size / 2));
		tap_is(az_store_check(s.st), AZ_ECORRUPT, "... is refused as truncated");
		tap_ok(truncate(s.path, 8192 + 100) == 0, "cut it to the meta pages and a bit");
		tap_is(az_store_check(s.st), AZ_ECORRUPT, "... is refused as truncated");
	}
	az_store_close(s.st);
	s.st = NULL;

	unsigned seqs = 0, commits = 0, failed = 0;
	int64_t deadline = test_mono_ms() + SEQ_MS;
	for (; seqs < SEQ_MAX && test_mono_ms() < deadline; seqs++) {
		int ret = seq_open(&s);
		unsigned batches = 2 + (unsigned)(test_rng(&s.rng) % 5);
		why = ret != AZ_EOK ? az_strerror(ret) : NULL;
		for (unsigned b = 0; b < batches && why == NULL; b++) {
			ret = seq_batch(&s, NULL, 1 + (unsigned)(test_rng(&s.rng) % 3));
			why = ret != AZ_EOK ? az_strerror(ret) : seq_after_commit(&s);
			commits++;
		}
		if (why != NULL && failed++ < 3) {
			tap_diag("sequence %u, commit %u: %s (AZ_TEST_SEED=%llu)", seqs,
			         commits, why, (unsigned long long)seed);
		}
		az_store_close(s.st);
		s.st = NULL;
	}
	tap_ok(failed == 0,
	       "%u random batch sequences (%u commits) stay readable after every commit "
	       "(%u did not; AZ_TEST_SEED=%llu)", seqs, commits, failed,
	       (unsigned long long)seed);
	static const char *const side[] = { "", "-lock", "-sync" };
	for (size_t i = 0; i < 3; i++) {
		char p[320];
		snprintf(p, sizeof(p), "%s%s", s.path, side[i]);
		unlink(p);
	}
	if (on_shm) {
		rmdir(shm);
	}
}

static void test_notify(void)
{
	char n[300];
	snprintf(n, sizeof(n), "%s/n.mdb", dir);
	az_store_create(n, (gid_t)-1);
	az_notify_t *writer = NULL, *reader = NULL;
	pid_t late = 0;
	tap_is(az_notify_open(&writer, n, false), AZ_EOK, "writer opens the sync file");
	tap_is(az_notify_wait(writer, 5, 100, &late), AZ_EOK, "no reader: the wait returns at once");
	tap_is(az_notify_open(&reader, n, false), AZ_EOK, "reader opens the sync file");
	tap_is(az_notify_claim(reader), AZ_EOK, "reader claims a slot");
	uint32_t bell = az_notify_bell(reader);
	az_notify_ring(writer);
	tap_ok(az_notify_bell(reader) != bell, "a ring changes the bell");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	az_notify_sleep(reader, bell, 2000);	/* bell already differs */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tap_ok(t1.tv_sec - t0.tv_sec < 1, "sleep on a changed bell returns at once");
	az_notify_ack(reader, 3);
	tap_is(az_notify_wait(writer, 5, 150, &late), AZ_EBUSY, "a live reader behind: the wait times out");
	tap_is(late, getpid(), "... naming the late reader's pid");
	az_notify_ack(reader, 5);
	tap_is(az_notify_wait(writer, 5, 150, &late), AZ_EOK, "acked: the wait succeeds");
	az_notify_close(reader);
	tap_is(az_notify_wait(writer, 9, 150, &late), AZ_EOK, "a reader that went away is not waited for");
	az_notify_close(writer);
}

/* The answer of one name must fit in one DNS message (AZ_E2BIG). */
static void test_answer_limit(void)
{
	int64_t now = (int64_t)time(NULL);
	az_store_t *st = NULL;
	unsigned live = 0;
	char v[AZ_VALUE_MAXLEN + 1], path[300];
	snprintf(path, sizeof(path), "%s/limit.mdb", dir);
	tap_ok(az_store_create(path, (gid_t)-1) == AZ_EOK &&
	       az_store_open(&st, path, 0) == AZ_EOK, "limit: a new store");

	/* big.acme.test is 15 octets: 12 + (15 + 4) + n * (12 + 1 + 255)
	 * <= 65535 - 1024 holds for n = 240, not 241. */
	int ret = AZ_EOK;
	unsigned n = 0;
	for (; n < 300 && ret == AZ_EOK; n++) {
		memset(v, 'a', AZ_VALUE_MAXLEN);
		snprintf(v, sizeof(v), "%03u", n);
		v[3] = 'a';
		v[AZ_VALUE_MAXLEN] = '\0';
		ret = add(st, "big.acme.test", v, now + 3600, now);
	}
	tap_is(ret, AZ_E2BIG, "255-octet values at one name: refused with AZ_E2BIG");
	tap_is(n - 1, 240, "... at the 241st, the first whose answer exceeds 64511 octets");
	tap_is(count_values(st, "big.acme.test", now, &live), 240, "... and the refused value was not written");
	tap_is(az_answer_len(15, 240, 240 * az_txt_rdlen(255)), 64351, "az_answer_len: header, question, 240 RRs");
	memset(v, 'a', AZ_VALUE_MAXLEN);
	snprintf(v, sizeof(v), "%03u", 7);
	v[3] = 'a';
	tap_is(add(st, "big.acme.test", v, now + 7200, now), AZ_EOK, "refreshing a value at the limit still works");
	/* 64511 - 64351 = 160 octets left: one RR of 13 + 147. */
	memset(v, 'b', 148);
	v[148] = '\0';
	tap_is(add(st, "big.acme.test", v, now + 3600, now), AZ_E2BIG, "a 148-octet value does not fit in the 160 octets left");
	v[147] = '\0';
	tap_is(add(st, "big.acme.test", v, now + 3600, now), AZ_EOK, "a 147-octet one fits exactly");
	tap_ok(strstr(az_strerror(AZ_E2BIG), "DNS message") != NULL, "az_strerror names the limit");

	/* Values of 256 octets (dns-persist-01 records) go out as two
	 * character-strings: 12 + 2 + 256 octets a RR.  two.acme.test is 15
	 * octets: 31 + n * 270 <= 64511 holds for n = 238, not 239 -- where
	 * one length octet a value would have let 239 in. */
	static char v256[257];
	ret = AZ_EOK;
	for (n = 0; n < 300 && ret == AZ_EOK; n++) {
		memset(v256, 'p', 256);
		snprintf(v256, sizeof(v256), "%03u", n);
		v256[3] = 'p';
		ret = add(st, "two.acme.test", v256, AZ_EXPIRE_NEVER, now);
	}
	tap_is(ret, AZ_E2BIG, "256-octet values at one name: refused with AZ_E2BIG");
	tap_is(n - 1, 238, "... at the 239th: two length octets a value are counted");
	tap_ok(az_answer_len(15, 239, 239 * 257) <= AZ_ANSWER_MAXLEN,
	       "(with one length octet a value, the 239th would have fitted)");
	tap_is(count_values(st, "two.acme.test", now, &live), 238, "... and it was not written");

	/* 1024 ordinary tokens always fit, even at a 250-octet name. */
	char longname[300];
	snprintf(longname, sizeof(longname), "%060d.%060d.%060d.%055d.acme.test", 1, 2, 3, 4);
	uint8_t w[AZ_NAME_MAXLEN];
	name(longname, w);
	az_txn_t *t = NULL;
	az_txn_begin(st, &t);
	ret = AZ_EOK;
	for (unsigned i = 0; i < AZ_MAX_VALUES && ret == AZ_EOK; i++) {
		snprintf(v, sizeof(v), "%043u", i);
		ret = az_txn_add(t, w, (const uint8_t *)v, AZ_ACME_VALUE_LEN, now + 3600, now);
	}
	tap_is(ret, AZ_EOK, "1024 ACME tokens at a %zu-octet name fit", az_name_wire_len(w, AZ_NAME_MAXLEN));
	tap_is(az_txn_commit(t, NULL), AZ_EOK, "... and commit");
	az_store_close(st);
}

/*
 * LMDB's lock file holds the newest transaction id at offset 8 +
 * sizeof(pthread_mutex_t) (48 here): a field every reader -- knotd's
 * account -- may write.  Read it, or write it as such a reader could.
 */
static uint64_t lock_txnid(const char *path, const uint64_t *set)
{
	char lock[300];
	size_t v = 0;
	snprintf(lock, sizeof(lock), "%s-lock", path);
	int fd = open(lock, O_RDWR);
	if (fd >= 0) {
		off_t at = (off_t)(8 + sizeof(pthread_mutex_t));
		if (set != NULL) {
			v = (size_t)*set;
			if (pwrite(fd, &v, sizeof(v), at) != (ssize_t)sizeof(v)) {
				v = 0;
			}
		} else if (pread(fd, &v, sizeof(v), at) != (ssize_t)sizeof(v)) {
			v = 0;
		}
		close(fd);
	}
	return v;
}

static int del_all(az_store_t *st, const char *text)
{
	uint8_t w[AZ_NAME_MAXLEN];
	name(text, w);
	az_txn_t *t;
	int ret = az_txn_begin(st, &t);
	if (ret == AZ_EOK && (ret = az_txn_del(t, w, NULL, 0, NULL)) != AZ_EOK) {
		az_txn_abort(t);
	}
	return ret == AZ_EOK ? az_txn_commit(t, NULL) : ret;
}

/* Issue 14 item 8: a rolled-back transaction id in the lock file. */
static void test_rollback(void)
{
	char rb[300];
	snprintf(rb, sizeof(rb), "%s/rb.mdb", dir);
	int64_t now = (int64_t)time(NULL);
	az_store_t *w = NULL, *r = NULL;
	az_reader_t *rd = NULL;
	unsigned live = 0;

	az_store_create(rb, (gid_t)-1);
	tap_is(az_store_open(&w, rb, 0), AZ_EOK, "rollback: writer opens");
	tap_is(add(w, "gone.acme.test", V1, now + 3600, now), AZ_EOK, "rollback: a value added");
	tap_is(del_all(w, "gone.acme.test"), AZ_EOK, "rollback: and deleted (acknowledged)");
	uint64_t b = az_store_last_txnid(w);
	tap_is(lock_txnid(rb, NULL), b, "rollback: the lock file holds the newest id (%llu)",
	       (unsigned long long)b);

	/* knotd's account writes the id before the delete.  (Both handles
	 * are open first: a process that opens the store alone -- as fcntl
	 * locks see it, any open in this one -- rebuilds the lock file's
	 * header from the data file.) */
	tap_is(az_store_open(&r, rb, AZ_OPEN_RDONLY), AZ_EOK, "rollback: a reader opens");
	uint64_t back = b - 1;
	lock_txnid(rb, &back);
	tap_is(az_reader_begin(r, &rd), AZ_EROLLBACK, "rollback: it refuses the older snapshot");
	tap_ok(strstr(az_strerror(AZ_EROLLBACK), "rolled back") != NULL,
	       "rollback: the error says so (%s)", az_strerror(AZ_EROLLBACK));

	tap_is(add(w, "new.acme.test", V2, now + 3600, now), AZ_EOK, "rollback: the next write commits");
	tap_is(az_store_last_txnid(w), b + 1, "rollback: as id b+1, on the newest commit");
	tap_is(lock_txnid(rb, NULL), b + 1, "rollback: the lock file's id is right again");
	tap_is(count_values(r, "gone.acme.test", now, &live), 0, "rollback: the deleted value stays deleted");
	tap_is(count_values(r, "new.acme.test", now, &live), 1, "rollback: the new one is there");

	/* Raised instead: LMDB would pick the meta page by its parity. */
	uint64_t ahead = b + 6;
	lock_txnid(rb, &ahead);
	tap_is(add(w, "third.acme.test", V2, now + 3600, now), AZ_EOK, "rollback: raised id, a write commits");
	tap_is(az_store_last_txnid(w), b + 2, "rollback: as the next id, b+2");
	tap_is(count_values(r, "new.acme.test", now, &live), 1, "rollback: nothing committed before is lost");
	tap_is(count_values(r, "gone.acme.test", now, &live), 0, "rollback: nor brought back");
	az_store_close(w);
	az_store_close(r);
}

/* Registry callbacks for test_registry: count what was made and freed. */
static int reg_made, reg_joined, reg_freed;

static void *reg_make(const char *path, void *arg)
{
	(void)arg;
	reg_made++;
	return strdup(path);
}

static void reg_join(void *obj, void *arg)
{
	(void)obj;
	(void)arg;
	reg_joined++;
}

static void reg_destroy(void *obj)
{
	reg_freed++;
	free(obj);
}

static void test_registry(void)
{
	static az_registry_t reg = AZ_REGISTRY_INIT;
	static const az_registry_ops_t ops = { reg_make, reg_join };
	char sub[300], plain[300], odd[300], viadir[300], hard[300], rel[300], other[300];
	void *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL, *f = NULL;

	snprintf(sub, sizeof(sub), "%s/reg", dir);
	mkdir(sub, 0700);
	snprintf(plain, sizeof(plain), "%s/reg/r.mdb", dir);
	snprintf(odd, sizeof(odd), "%s//reg/./../reg/r.mdb", dir);
	snprintf(viadir, sizeof(viadir), "%s/reglink", dir);
	tap_ok(symlink(sub, viadir) == 0, "registry: a symlinked directory");
	snprintf(viadir, sizeof(viadir), "%s/reglink/r.mdb", dir);
	char *canon = az_registry_canonical(odd);
	tap_str(canon, plain, "registry: '//', '.' and '..' resolved in the canonical path");
	free(canon);
	canon = az_registry_canonical(viadir);
	tap_str(canon, plain, "registry: a symlinked directory resolved");
	free(canon);

	tap_is(az_registry_attach(&reg, plain, &ops, NULL, &a), AZ_EOK, "registry: first attach");
	tap_is(az_registry_attach(&reg, odd, &ops, NULL, &b), AZ_EOK, "registry: attach by another spelling");
	tap_ok(a == b && reg_made == 1 && reg_joined == 1, "registry: ... shares the object (made once, joined once)");
	tap_is(az_registry_attach(&reg, viadir, &ops, NULL, &c), AZ_EOK, "registry: attach through a symlinked directory");
	tap_ok(c == a && reg_made == 1, "registry: ... shares it too (the file does not exist yet)");

	/* By inode: a hard link is another path to the same file. */
	az_store_create(plain, (gid_t)-1);
	snprintf(hard, sizeof(hard), "%s/reg/hard.mdb", dir);
	tap_ok(link(plain, hard) == 0, "registry: a hard link to the store");
	tap_is(az_registry_attach(&reg, plain, &ops, NULL, &d), AZ_EOK, "registry: attach once the file exists");
	tap_is(az_registry_attach(&reg, hard, &ops, NULL, &e), AZ_EOK, "registry: attach by the hard link");
	tap_ok(d == a && e == a && reg_made == 1, "registry: the same inode shares the object");
	tap_is(az_registry_refs(&reg, a), 5, "registry: five references");

	/* Relative paths name the file in the current directory. */
	char cwd[300];
	tap_ok(getcwd(cwd, sizeof(cwd)) != NULL && chdir(sub) == 0, "registry: into the store's directory");
	snprintf(rel, sizeof(rel), "r.mdb");
	tap_is(az_registry_attach(&reg, rel, &ops, NULL, &f), AZ_EOK, "registry: attach by a relative name");
	tap_ok(f == a, "registry: ... shares the object");
	tap_ok(chdir(cwd) == 0, "registry: back");

	snprintf(other, sizeof(other), "%s/reg/other.mdb", dir);
	void *g = NULL;
	tap_is(az_registry_attach(&reg, other, &ops, NULL, &g), AZ_EOK, "registry: another file");
	tap_ok(g != a && reg_made == 2, "registry: ... gets an object of its own");
	tap_ok(az_registry_detach(&reg, g, reg_destroy) && reg_freed == 1, "registry: its only detach destroys it");

	bool last = false;
	for (int i = 0; i < 6; i++) {
		last = az_registry_detach(&reg, a, reg_destroy);
		if (last != (i == 5)) {
			break;
		}
	}
	tap_ok(last && reg_freed == 2, "registry: the sixth detach of the shared object destroys it, not before");
	tap_is(az_registry_refs(&reg, a), 0, "registry: nothing left");
	tap_is(az_registry_attach(&reg, plain, &ops, NULL, &a), AZ_EOK, "registry: attach again after the last detach");
	tap_ok(reg_made == 3, "registry: ... makes a new object");
	tap_ok(az_registry_detach(&reg, a, reg_destroy), "registry: and lets it go");
}


/* Tombstones (tomb.c): what deletes leave, sync's puts and drops, purge. */
typedef struct {
	int n;
	int64_t when, until;
	char value[64];
} tombs_t;

static int tomb_seen(const uint8_t *n, const uint8_t *value, size_t len,
                     const az_tomb_t *t, void *ctx)
{
	tombs_t *c = ctx;
	(void)n;
	c->n++;
	c->when = t->when_ms;
	c->until = t->until;
	snprintf(c->value, sizeof(c->value), "%.*s", (int)len, (const char *)value);
	return 0;
}

static int tomb_count(const char *path, tombs_t *c)
{
	az_store_t *st = NULL;
	az_reader_t *rd = NULL;
	int ret = az_store_open(&st, path, AZ_OPEN_RDONLY);

	memset(c, 0, sizeof(*c));
	if (ret == AZ_EOK && (ret = az_reader_begin(st, &rd)) == AZ_EOK) {
		ret = az_reader_tombs(rd, tomb_seen, c);
		az_reader_end(rd);
	}
	az_store_close(st);
	return ret;
}

static void test_tombs(void)
{
	char path[300];
	uint8_t w[AZ_NAME_MAXLEN];
	az_store_t *st = NULL;
	az_txn_t *t = NULL;
	tombs_t c;
	unsigned removed = 0, live = 0;
	bool changed = false, gone = false;
	int64_t now = 2000000000, ms = now * 1000;

	snprintf(path, sizeof(path), "%s/tomb.mdb", dir);
	tap_ok(az_store_create(path, (gid_t)-1) == AZ_EOK, "tombs: a new store");
	tap_ok(tomb_count(path, &c) == AZ_EOK && c.n == 0,
	       "tombs: a store without 'gone' has none (read-only, nothing created)");
	tap_ok(az_store_open(&st, path, 0) == AZ_EOK, "tombs: open for writing");
	name("_acme-challenge.t.example", w);
	az_val_t v1 = { .expire = now + 3600, .published = ms, .len = 43,
	                .data = (const uint8_t *)V1 };
	tap_ok(az_txn_begin(st, &t) == AZ_EOK && az_txn_put(t, w, &v1, now) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK, "tombs: a value published at T");
	tap_ok(az_txn_begin(st, &t) == AZ_EOK &&
	       az_txn_del_tomb(t, w, (const uint8_t *)V1, 43, ms + 5, false, &removed) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && removed == 1, "tombs: deleted at T+5 ms");
	tap_ok(tomb_count(path, &c) == AZ_EOK && c.n == 1 && c.when == ms + 5 &&
	       c.until == now + 3600 && strcmp(c.value, V1) == 0,
	       "tombs: one tombstone: its value, deletion time and the value's expiry");
	tap_ok(az_txn_begin(st, &t) == AZ_EOK &&
	       az_txn_del_tomb(t, w, (const uint8_t *)V2, 43, ms + 6, false, &removed) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && removed == 0 &&
	       tomb_count(path, &c) == AZ_EOK && c.n == 1,
	       "tombs: deleting an absent value without peers leaves none");
	tap_ok(az_txn_begin(st, &t) == AZ_EOK &&
	       az_txn_del_tomb(t, w, (const uint8_t *)V2, 43, ms + 6, true, &removed) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && tomb_count(path, &c) == AZ_EOK && c.n == 2,
	       "tombs: ... with peers it leaves one (a peer may hold the value)");
	/* A sync put of the copy published at T: older than the deletion. */
	tap_ok(az_txn_begin(st, &t) == AZ_EOK && az_txn_sync_put(t, w, &v1, now, &changed) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && !changed &&
	       count_values(st, "_acme-challenge.t.example", now, &live) == 0,
	       "tombs: a sync does not bring back a value published before its deletion");
	az_val_t v1b = v1;
	v1b.published = ms + 10;
	tap_ok(az_txn_begin(st, &t) == AZ_EOK && az_txn_sync_put(t, w, &v1b, now, &changed) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && changed &&
	       count_values(st, "_acme-challenge.t.example", now, &live) == 1,
	       "tombs: ... but puts one published after it");
	az_tomb_t old = { .when_ms = ms + 7, .until = now + 3600 };
	tap_ok(az_txn_begin(st, &t) == AZ_EOK &&
	       az_txn_sync_drop(t, w, (const uint8_t *)V1, 43, &old, &gone) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && !gone &&
	       count_values(st, "_acme-challenge.t.example", now, &live) == 1,
	       "tombs: a sync drop older than the copy leaves it");
	az_tomb_t newer = { .when_ms = ms + 20, .until = now + 3600 };
	tap_ok(az_txn_begin(st, &t) == AZ_EOK &&
	       az_txn_sync_drop(t, w, (const uint8_t *)V1, 43, &newer, &gone) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && gone &&
	       count_values(st, "_acme-challenge.t.example", now, &live) == 0,
	       "tombs: a newer one removes it");
	size_t purged = 0;
	tap_ok(az_txn_begin(st, &t) == AZ_EOK && az_txn_tomb_purge(t, now, &purged) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && purged == 0,
	       "tombs: purge keeps tombstones until the values would have expired");
	tap_ok(az_txn_begin(st, &t) == AZ_EOK &&
	       az_txn_tomb_purge(t, now + AZ_TOMB_KEEP + 1, &purged) == AZ_EOK &&
	       az_txn_commit(t, NULL) == AZ_EOK && purged == 2 &&
	       tomb_count(path, &c) == AZ_EOK && c.n == 0,
	       "tombs: ... and drops them after");
	az_store_close(st);
}

/*** History (store/history.c). ***/

typedef struct {
	size_t n, corrupt;
	uint64_t first, last;
	az_hist_event_t ev;	/* the newest decoded */
} hwalk_t;

static int hist_cb(const az_hist_event_t *ev, uint64_t id, void *ctx)
{
	hwalk_t *w = ctx;
	if (w->n++ == 0) {
		w->first = id;
	}
	w->last = id;
	if (ev == NULL) {
		w->corrupt++;
	} else {
		w->ev = *ev;
	}
	return 0;
}

static int hist_walk(const char *path, hwalk_t *w, az_hist_limits_t *lim)
{
	az_store_t *st = NULL;
	az_reader_t *rd = NULL;
	int ret = az_store_open(&st, path, AZ_OPEN_RDONLY);
	memset(w, 0, sizeof(*w));
	if (ret == AZ_EOK) {
		ret = az_reader_begin(st, &rd);
	}
	if (ret == AZ_EOK) {
		ret = az_reader_history(rd, false, hist_cb, w);
	}
	if (ret == AZ_EOK && lim != NULL) {
		ret = az_reader_hist_limits(rd, lim);
	}
	az_reader_end(rd);
	az_store_close(st);
	return ret;
}

static void hist_ev(az_hist_event_t *ev, az_hist_op_t op, const char *domain, int64_t t)
{
	memset(ev, 0, sizeof(*ev));
	ev->op = op;
	ev->time_ms = t;
	snprintf(ev->client, sizeof(ev->client), "certbot");
	snprintf(ev->host, sizeof(ev->host), "host\x01one");	/* made printable */
	snprintf(ev->domain, sizeof(ev->domain), "%s", domain);
}

static void test_history(void)
{
	char p[300];
	az_store_t *st = NULL;
	az_txn_t *t = NULL;
	az_hist_event_t ev;
	az_hist_limits_t lim;
	hwalk_t w;
	int ret;
	uint8_t owner[AZ_NAME_MAXLEN];
	size_t dropped = 0;
	int64_t now = (int64_t)time(NULL) * 1000;

	snprintf(p, sizeof(p), "%s/hist.mdb", dir);
	tap_is(az_store_create(p, (gid_t)-1), AZ_EOK, "history: a new store");
	tap_is(hist_walk(p, &w, &lim), AZ_EOK, "history: a store without the 'hist' "
	       "database reads as an empty history (read-only)");
	tap_ok(w.n == 0 && lim.max_events == AZ_HIST_DEFAULT_MAX &&
	       lim.max_days == AZ_HIST_DEFAULT_DAYS, "history: empty, default limits %u/%u",
	       lim.max_events, lim.max_days);

	/* An event shares its write's transaction: aborted, neither is there. */
	name("example-org.acme.example.net", owner);
	az_store_open(&st, p, 0);
	az_txn_begin(st, &t);
	tap_is(az_txn_add(t, owner, (const uint8_t *)V1, 43, now / 1000 + 60, now / 1000), AZ_EOK,
	       "history: add a value");
	hist_ev(&ev, AZ_HIST_ADD, "example.org", 0);
	ev.owner_len = az_name_wire_len(owner, AZ_NAME_MAXLEN);
	memcpy(ev.owner, owner, ev.owner_len);
	snprintf(ev.value, sizeof(ev.value), "%s", V1);
	tap_is(az_hist_append(t, &ev, NULL), AZ_EOK, "history: ... and its event, same transaction");
	az_txn_abort(t);
	tap_ok(hist_walk(p, &w, NULL) == AZ_EOK && w.n == 0,
	       "history: an aborted write leaves no event");
	az_rec_iter_t it;
	az_reader_t *rd = NULL;
	az_reader_begin(st, &rd);
	tap_is(az_reader_get(rd, owner, &it), AZ_ENOENT, "history: ... and no value");
	az_reader_end(rd);

	/* A failed write (a corrupt record refuses the add) has no event:
	 * the CLI aborts; here: an event alone never commits half. */
	az_txn_begin(st, &t);
	az_txn_add(t, owner, (const uint8_t *)V1, 43, now / 1000 + 60, now / 1000);
	az_hist_append(t, &ev, NULL);
	tap_is(az_txn_commit(t, NULL), AZ_EOK, "history: committed with its write");
	tap_ok(hist_walk(p, &w, NULL) == AZ_EOK && w.n == 1 && w.corrupt == 0 &&
	       w.first == 1, "history: one event, id 1");
	tap_ok(w.ev.op == AZ_HIST_ADD && strcmp(w.ev.client, "certbot") == 0 &&
	       strcmp(w.ev.domain, "example.org") == 0 && strcmp(w.ev.value, V1) == 0 &&
	       w.ev.owner_len == ev.owner_len && w.ev.time_ms >= now,
	       "history: read back field by field (time %lld)", (long long)w.ev.time_ms);
	tap_str(w.ev.host, "host?one", "history: an unprintable octet is stored as '?'");

	az_hist_event_t got;
	az_reader_begin(st, &rd);
	tap_is(az_reader_hist_added(rd, owner, (const uint8_t *)V1, 43, &got), AZ_EOK,
	       "history: who added this value");
	tap_str(got.client, "certbot", "history: ... certbot");
	tap_is(az_reader_hist_added(rd, owner, (const uint8_t *)V2, 43, &got), AZ_ENOENT,
	       "history: another value was never added");
	az_reader_end(rd);

	/* Bad input: an unknown op, no client. */
	az_txn_begin(st, &t);
	hist_ev(&ev, (az_hist_op_t)9, "", 0);
	tap_is(az_hist_append(t, &ev, NULL), AZ_EINVAL, "history: an unknown op is refused");
	hist_ev(&ev, AZ_HIST_ISSUED, "", 0);
	ev.client[0] = '\0';
	tap_is(az_hist_append(t, &ev, NULL), AZ_EINVAL, "history: an event without a client is refused");
	lim.max_events = 5;
	lim.max_days = 1;
	tap_is(az_txn_set_hist_limits(t, &lim), AZ_EINVAL, "history: a bound under %d is refused",
	       AZ_HIST_MIN_MAX);
	az_txn_abort(t);

	/* The bound by count: the oldest go first, in the same transaction. */
	az_txn_begin(st, &t);
	lim.max_events = AZ_HIST_MIN_MAX;
	lim.max_days = 30;
	tap_is(az_txn_set_hist_limits(t, &lim), AZ_EOK, "history: limits %u events, 30 days",
	       AZ_HIST_MIN_MAX);
	size_t total = 0;
	for (int i = 0; i < 25; i++) {
		hist_ev(&ev, i % 2 ? AZ_HIST_ISSUED : AZ_HIST_FAILED, "example.org", 0);
		ev.not_after = 1800000000 + i;
		snprintf(ev.reason, sizeof(ev.reason), "event %d", i);
		az_hist_append(t, &ev, &dropped);
		total += dropped;
	}
	tap_is(az_txn_commit(t, NULL), AZ_EOK, "history: 25 more events");
	ret = hist_walk(p, &w, &lim);
	tap_ok(ret == AZ_EOK && w.n == AZ_HIST_MIN_MAX &&
	       w.first == 17 && w.last == 26, "history: at its bound, ids %llu..%llu kept",
	       (unsigned long long)w.first, (unsigned long long)w.last);
	tap_is(total, 16, "history: 16 dropped, oldest first");
	tap_ok(strcmp(w.ev.reason, "event 24") == 0 && w.ev.not_after == 1800000024,
	       "history: the newest is intact");
	tap_ok(lim.max_events == AZ_HIST_MIN_MAX && lim.max_days == 30,
	       "history: the limits read back");

	az_store_close(st);

	/* The bound by age: events older than it go, oldest first. */
	char p2[300];
	snprintf(p2, sizeof(p2), "%s/hist-age.mdb", dir);
	az_store_create(p2, (gid_t)-1);
	az_store_open(&st, p2, 0);
	az_txn_begin(st, &t);
	total = 0;
	for (int i = 0; i < 3; i++) {
		static const int days[] = { 40, 10, 0 };
		hist_ev(&ev, AZ_HIST_ISSUED, "example.org",
		        now - days[i] * 86400 * (int64_t)1000 + (i == 2));
		az_hist_append(t, &ev, &dropped);
		total += dropped;
	}
	tap_is(total, 0, "history: events 40, 10 and 0 days old, within the default 90 days");
	lim.max_events = 1000;
	lim.max_days = 30;
	tap_is(az_txn_set_hist_limits(t, &lim), AZ_EOK, "history: age bound 30 days");
	az_txn_commit(t, NULL);
	hist_walk(p2, &w, NULL);
	tap_ok(w.n == 2 && w.first == 2, "history: the 40-day-old event went (%zu left)", w.n);
	az_txn_begin(st, &t);
	lim.max_days = 5;
	az_txn_set_hist_limits(t, &lim);
	az_txn_commit(t, NULL);
	hist_walk(p2, &w, NULL);
	tap_ok(w.n == 1 && w.first == 3, "history: age bound 5 days: the newest alone stays");
	az_store_close(st);

	/* A corrupt record (a bad disk, another program): reported as such,
	 * every other event still read. */
	MDB_env *env = NULL;
	MDB_txn *mt = NULL;
	MDB_dbi dbi;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	if ((ret = mdb_env_create(&env)) == 0 && (ret = mdb_env_set_maxdbs(env, 8)) == 0 &&
	    (ret = mdb_env_open(env, p, MDB_NOSUBDIR, 0640)) == 0 &&
	    (ret = mdb_txn_begin(env, NULL, 0, &mt)) == 0 &&
	    (ret = mdb_dbi_open(mt, "hist", 0, &dbi)) == 0 &&
	    (ret = mdb_cursor_open(mt, dbi, &cur)) == 0 &&
	    (ret = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		uint8_t junk[64];
		memcpy(junk, v.mv_data, v.mv_size < sizeof(junk) ? v.mv_size : sizeof(junk));
		junk[20] ^= 0x02;	/* a flipped bit: only the checksum can tell */
		MDB_val jv = { v.mv_size < sizeof(junk) ? v.mv_size : sizeof(junk), junk };
		ret = mdb_cursor_put(cur, &k, &jv, MDB_CURRENT);
		mdb_cursor_close(cur);
		ret = ret == 0 ? mdb_txn_commit(mt) : ret;
		mt = NULL;
	}
	if (mt != NULL) {
		mdb_txn_abort(mt);
	}
	mdb_env_close(env);
	tap_is(ret, 0, "history: damage the oldest record with plain LMDB");
	ret = hist_walk(p, &w, NULL);
	tap_ok(ret == AZ_EOK && w.n == AZ_HIST_MIN_MAX && w.corrupt == 1,
	       "history: the corrupt record is passed as such, %zu others read",
	       w.n - w.corrupt);
	az_store_open(&st, p, 0);
	az_txn_begin(st, &t);
	hist_ev(&ev, AZ_HIST_DEL, "example.org", 0);
	tap_is(az_hist_append(t, &ev, &dropped), AZ_EOK, "history: append after it");
	tap_is(dropped, 1, "history: the corrupt record at the head goes first");
	az_txn_commit(t, NULL);
	az_store_close(st);
	ret = hist_walk(p, &w, NULL);
	tap_ok(ret == AZ_EOK && w.corrupt == 0 && w.n == AZ_HIST_MIN_MAX &&
	       w.first == 18, "history: nothing else lost");
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/acmezone.mdb", dir);
	test_names();
	test_sha256();
	test_labels();
	test_account_labels();
	test_collisions();
	test_values();
	test_records();
	test_store();
	test_answer_limit();
	test_remap();
	test_config();
	test_purge_rewrite();
	test_notify();
	test_registry();
	test_rollback();
	test_batch_sequences();
	test_tombs();
	test_history();
	test_rmtree(dir);
	return tap_done();
}
