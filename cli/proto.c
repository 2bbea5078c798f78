/* proto.c -- the peer batch protocol: what 'acmezone serve' reads on stdin and answers on stdout (pure: no store, no I/O). */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "proto.h"

bool proto_new_id(char id[PROTO_ID_LEN + 1])
{
	uint8_t r[PROTO_ID_LEN / 2];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		return false;
	}
	for (size_t i = 0; i < sizeof(r); i++) {
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	}
	return true;
}

/* Room for need more octets in b.  \return false (b->oom) if none. */
static bool room(proto_buf_t *b, size_t need)
{
	if (b->oom) {
		return false;
	}
	if (b->cap - b->len < need) {
		size_t cap = b->cap > 0 ? b->cap * 2 : 4096;
		while (cap - b->len < need) {
			cap *= 2;
		}
		char *p = realloc(b->buf, cap);
		if (p == NULL) {
			b->oom = true;
			return false;
		}
		b->buf = p;
		b->cap = cap;
	}
	return true;
}

void proto_printf(proto_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !room(b, (size_t)n + 1)) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void proto_put_head(proto_buf_t *b, const proto_head_t *h)
{
	proto_printf(b, PROTO_HEAD " %d id=%s time=%" PRId64 "%s%s%s", PROTO_VERSION, h->id,
	    h->time_ms, h->relay ? " relay" : "", h->dump ? " dump" : "",
	    h->sync ? " sync" : "");
	if (h->has_zone) {
		proto_printf(b, " zone=%s scheme=%s", h->zone, az_scheme_name(h->scheme));
	}
	proto_printf(b, "\n");
}

/* A value octet written as is (not '%', a blank or a control). */
static bool plain(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '%';
}

/* " VALUE", escaped. */
static void put_value(proto_buf_t *b, const char *value, size_t len)
{
	const unsigned char *v = (const unsigned char *)value;

	if (!room(b, 1 + 3 * len + 1)) {
		return;
	}
	b->buf[b->len++] = ' ';
	for (size_t i = 0; i < len; i++) {
		if (plain(v[i])) {
			b->buf[b->len++] = (char)v[i];
		} else {
			b->len += (size_t)snprintf(b->buf + b->len, 4, "%%%02X", v[i]);
		}
	}
	b->buf[b->len] = '\0';
}

void proto_put_op(proto_buf_t *b, bool add, const char *name, const char *value,
                  int64_t ttl)
{
	proto_printf(b, "%s %s", add ? "add" : "del", name);
	if (value != NULL) {
		put_value(b, value, strlen(value));
	}
	if (add) {
		proto_printf(b, " %" PRId64, ttl);
	}
	proto_printf(b, "\n");
	b->nops++;
}

void proto_put_end(proto_buf_t *b, const proto_head_t *h)
{
	proto_printf(b, "end id=%s ops=%zu\n", h->id, b->nops);
}

void proto_buf_free(proto_buf_t *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* Split on single spaces; \return the count, max + 1 if more. */
static int fields(char *line, char **f, int max)
{
	int n = 0;

	if (*line == '\0') {
		return 0;
	}
	for (;;) {
		if (n == max) {
			return max + 1;
		}
		f[n++] = line;
		line = strchr(line, ' ');
		if (line == NULL) {
			return n;
		}
		*line++ = '\0';
	}
}

/* Decimal without sign or leading zeros, at most max.  \return false if not. */
static bool number(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10) {
			return false;
		}
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

static bool is_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == PROTO_ID_LEN && s[n] == '\0';
}

/* "key=" prefix: the rest, or NULL. */
static const char *keyed(const char *field, const char *key)
{
	size_t n = strlen(key);

	return strncmp(field, key, n) == 0 && field[n] == '=' ? field + n + 1 : NULL;
}

bool proto_parse_head(char *line, proto_head_t *h, const char **why)
{
	char *f[10];
	const char *v, *scheme = NULL;
	bool has_time = false;
	int n = fields(line, f, 9);
	uint8_t wire[AZ_NAME_MAXLEN];
	size_t len;

	memset(h, 0, sizeof(*h));
	if (n < 1 || strcmp(f[0], PROTO_HEAD) != 0) {
		*why = "not an acmezone batch (expected '" PROTO_HEAD " 1 ...')";
		return false;
	}
	if (n < 2 || strcmp(f[1], "1") != 0) {
		*why = "unsupported protocol version (this acmezone speaks 1)";
		return false;
	}
	if (n > 9) {
		*why = "too many fields in the first line";
		return false;
	}
	for (int i = 2; i < n; i++) {
		if ((v = keyed(f[i], "id")) != NULL && h->id[0] == '\0' && is_id(v)) {
			memcpy(h->id, v, PROTO_ID_LEN + 1);
		} else if ((v = keyed(f[i], "time")) != NULL && !has_time &&
		           number(v, INT64_MAX / 2, &h->time_ms)) {
			has_time = true;
		} else if (strcmp(f[i], "relay") == 0 && !h->relay) {
			h->relay = true;
		} else if (strcmp(f[i], "dump") == 0 && !h->dump) {
			h->dump = true;
		} else if (strcmp(f[i], "sync") == 0 && !h->sync) {
			h->sync = true;
		} else if ((v = keyed(f[i], "zone")) != NULL && !h->has_zone &&
		           strlen(v) < sizeof(h->zone) &&
		           az_name_parse(v, wire, &len, why) == AZ_EOK) {
			h->has_zone = true;
			az_name_to_text(wire, h->zone, sizeof(h->zone));
		} else if ((v = keyed(f[i], "scheme")) != NULL && scheme == NULL &&
		           az_scheme_parse(v, &h->scheme) == AZ_EOK) {
			scheme = v;
		} else {
			*why = "a field of the first line is unknown, repeated or invalid";
			return false;
		}
	}
	if (h->id[0] == '\0' || !has_time) {
		*why = "the first line lacks id= or time=";
		return false;
	}
	if ((h->dump || h->sync) && (!h->relay || (h->dump && h->sync))) {
		*why = "dump and sync go with relay, one of them";
		return false;
	}
	if (h->has_zone != (scheme != NULL)) {
		*why = "zone= and scheme= go together";
		return false;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Undo the %HH escapes in place.  \return false if malformed. */
static bool unescape(char *s)
{
	char *out = s;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
		if (lo < 0) {
			return false;
		}
		*out++ = (char)(hi * 16 + lo);
		s += 2;
	}
	*out = '\0';
	return true;
}

bool proto_parse_op(char *line, const proto_head_t *h, size_t nops,
                    batch_op_t *op, bool *end, const char **why)
{
	char *f[5];
	const char *v;
	int n = fields(line, f, 4);
	int64_t ttl = 0, count;
	uint8_t wire[AZ_NAME_MAXLEN];
	size_t len;

	*end = false;
	memset(op, 0, sizeof(*op));
	if (n >= 1 && strcmp(f[0], "end") == 0) {
		if (n != 3 || (v = keyed(f[1], "id")) == NULL ||
		    (v = keyed(f[2], "ops")) == NULL) {
			*why = "expected 'end id=ID ops=N'";
			return false;
		}
		if (strcmp(f[1] + 3, h->id) != 0) {
			*why = "'end' names another batch id";
			return false;
		}
		if (!number(f[2] + 4, INT64_MAX / 2, &count) || (uint64_t)count != nops) {
			*why = "'end' counts another number of operations";
			return false;
		}
		*end = true;
		return true;
	}
	if (n < 2 || (strcmp(f[0], "add") == 0 ? n != 4 :
	              strcmp(f[0], "del") == 0 ? n > 3 : true)) {
		*why = "expected 'add NAME VALUE TTL', 'del NAME [VALUE]' or 'end'";
		return false;
	}
	op->add = f[0][0] == 'a';
	op->name = f[1];
	v = f[1][0] == '*' && f[1][1] == '.' ? f[1] + 2 : f[1];
	if (az_name_parse(v, wire, &len, why) != AZ_EOK) {
		return false;
	}
	if (n > 2) {
		if (!unescape(f[2]) ||
		    az_value_check(f[2], strlen(f[2]), true, why) != AZ_EOK) {
			*why = "the value is not 1-255 printable octets, %HH-escaped";
			return false;
		}
		op->value = f[2];
	}
	if (op->add && !number(f[3], PROTO_TTL_MAX, &ttl)) {
		*why = "the TTL is not a number of seconds from 1 to 3650 days";
		return false;
	}
	if (op->add && ttl == 0) {
		*why = "the TTL is not a number of seconds from 1 to 3650 days";
		return false;
	}
	op->ttl = ttl;
	return true;
}

bool proto_parse_reply(char *line, const char *id, proto_reply_t *r)
{
	char *rest = strchr(line, ' ');
	int64_t k;

	memset(r, 0, sizeof(*r));
	if (rest == NULL) {
		return false;
	}
	*rest++ = '\0';
	if (strcmp(line, PROTO_REPLY) == 0) {
		r->kind = REPLY_HEAD;
		return strncmp(rest, "1 id=", 5) == 0 && strcmp(rest + 5, id) == 0;
	}
	if (strcmp(line, "peer") == 0) {
		r->kind = REPLY_PEER;
		r->text = rest;
		return true;
	}
	if (strcmp(line, "status") == 0) {
		size_t n = strlen(id);
		if (strncmp(rest, "id=", 3) != 0 || strncmp(rest + 3, id, n) != 0 ||
		    rest[3 + n] != ' ') {
			return false;
		}
		rest += 4 + n;
		char *reason = strchr(rest, ' ');
		if (reason != NULL) {
			*reason++ = '\0';
		}
		r->text = reason != NULL ? reason : "";
		if (strcmp(rest, "ok") == 0) {
			r->kind = REPLY_STATUS_OK;
		} else if (strcmp(rest, "refused") == 0) {
			r->kind = REPLY_STATUS_REFUSED;
		} else if (strcmp(rest, "failed") == 0) {
			r->kind = REPLY_STATUS_FAILED;
		} else {
			return false;
		}
		return true;
	}
	if (strcmp(line, "ok") == 0) {
		r->kind = REPLY_OK;
	} else if (strcmp(line, "refused") == 0) {
		r->kind = REPLY_REFUSED;
	} else if (strcmp(line, "failed") == 0) {
		r->kind = REPLY_FAILED;
	} else {
		return false;
	}
	char *reason = strchr(rest, ' ');
	if (reason != NULL) {
		*reason++ = '\0';
	}
	if (!number(rest, INT64_MAX / 2, &k) || k == 0) {
		return false;
	}
	r->n = (unsigned long)k;
	r->text = reason != NULL ? reason : "";
	return r->kind == REPLY_OK ? reason == NULL : true;
}

void proto_put_state(proto_buf_t *b, const char *kind, const uint8_t *owner,
                     const char *value, size_t len, int64_t a, int64_t c)
{
	char name[AZ_NAME_TXTLEN];

	az_name_to_text(owner, name, sizeof(name));
	proto_printf(b, "%s %s", kind, name);
	put_value(b, value, len);
	proto_printf(b, " %" PRId64 " %" PRId64 "\n", a, c);
	b->nops++;
}

bool proto_parse_state(char *line, const char *k1, const char *k2,
                       proto_state_t *st, const char **why)
{
	char *f[6];
	int n = fields(line, f, 5);
	size_t len;

	memset(st, 0, sizeof(*st));
	if (n != 5 || (strcmp(f[0], k1) != 0 && strcmp(f[0], k2) != 0)) {
		*why = "expected 'KIND NAME VALUE NUMBER NUMBER'";
		return false;
	}
	st->kind = f[0][0];
	if (az_name_parse(f[1], st->owner, &len, why) != AZ_EOK) {
		return false;
	}
	if (!unescape(f[2]) || az_text_check(f[2], strlen(f[2]), why) != AZ_EOK) {
		*why = "the value is not 1-65279 printable octets, %HH-escaped";
		return false;
	}
	st->value = f[2];
	/* Times: a value's expiry may be AZ_EXPIRE_NEVER (INT64_MAX). */
	if (!number(f[3], INT64_MAX, &st->a) || !number(f[4], INT64_MAX, &st->b)) {
		*why = "a time is not a number";
		return false;
	}
	return true;
}
