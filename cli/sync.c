/* sync.c -- 'sync': the live values and tombstones of two stores, the last writer of each value wins, and the fixes either side needs. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "sync.h"
#include "write.h"

#define PEER_AT_MAX	64

void sync_add(sync_set_t *s, char kind, const uint8_t *owner, const char *value,
              size_t len, int64_t a, int64_t b, int64_t now)
{
	size_t n = az_name_wire_len(owner, AZ_NAME_MAXLEN);
	sync_item_t *it;

	if (s->oom || n == 0 || (kind == 'v' && a <= now) || (kind == 'g' && b <= now)) {
		return;		/* expired: neither side serves it */
	}
	if (s->n == s->cap) {
		size_t cap = s->cap > 0 ? s->cap * 2 : 256;
		sync_item_t *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL) {
			s->oom = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	it = &s->v[s->n];
	memset(it, 0, sizeof(*it));
	it->owner = malloc(n + len + 1);
	if (it->owner == NULL) {
		s->oom = true;
		return;
	}
	memcpy(it->owner, owner, n);
	it->value = (char *)it->owner + n;
	memcpy(it->value, value, len);
	it->value[len] = '\0';
	it->len = len;
	if (kind == 'v') {
		it->live = true;
		it->expire = a;
		it->published = b;
	} else {
		it->tomb = true;
		it->t = (az_tomb_t){ .when_ms = a, .until = b };
	}
	s->n++;
}

typedef struct {
	sync_set_t *s;
	int64_t now;
} read_ctx_t;

static int read_rec(const uint8_t *name, az_rec_iter_t *rec, void *ctx)
{
	read_ctx_t *c = ctx;
	az_val_t v;

	while (name != NULL && rec != NULL && az_rec_iter_next(rec, &v)) {
		sync_add(c->s, 'v', name, (const char *)v.data, v.len, v.expire,
		         v.published, c->now);
	}
	return 0;
}

static int read_tomb(const uint8_t *name, const uint8_t *value, size_t len,
                     const az_tomb_t *t, void *ctx)
{
	read_ctx_t *c = ctx;

	sync_add(c->s, 'g', name, (const char *)value, len, t->when_ms, t->until, c->now);
	return 0;
}

int sync_read(az_reader_t *rd, sync_set_t *s, int64_t now)
{
	read_ctx_t c = { s, now };
	int ret = az_reader_foreach(rd, NULL, read_rec, &c);

	if (ret == AZ_EOK) {
		ret = az_reader_tombs(rd, read_tomb, &c);
	}
	return ret == AZ_EOK && s->oom ? AZ_ENOMEM : ret;
}

void sync_dump(const sync_set_t *s, proto_buf_t *b)
{
	for (size_t i = 0; i < s->n; i++) {
		const sync_item_t *it = &s->v[i];
		if (it->live) {
			proto_put_state(b, "value", it->owner, it->value, it->len,
			                it->expire, it->published);
		}
		if (it->tomb) {
			proto_put_state(b, "gone", it->owner, it->value, it->len,
			                it->t.when_ms, it->t.until);
		}
	}
}

static int item_cmp(const sync_item_t *a, const sync_item_t *b)
{
	size_t la = az_name_wire_len(a->owner, AZ_NAME_MAXLEN);
	size_t lb = az_name_wire_len(b->owner, AZ_NAME_MAXLEN);
	int c = memcmp(a->owner, b->owner, la < lb ? la : lb);

	if (c != 0 || la != lb) {
		return c != 0 ? c : (la < lb ? -1 : 1);
	}
	c = memcmp(a->value, b->value, a->len < b->len ? a->len : b->len);
	return c != 0 ? c : (a->len < b->len ? -1 : a->len > b->len ? 1 : 0);
}

static int qcmp(const void *a, const void *b)
{
	return item_cmp(a, b);
}

void sync_sort(sync_set_t *s)
{
	size_t out = 0;

	if (s->n == 0) {
		return;
	}
	qsort(s->v, s->n, sizeof(s->v[0]), qcmp);
	for (size_t i = 1; i < s->n; i++) {
		sync_item_t *last = &s->v[out], *it = &s->v[i];
		if (item_cmp(last, it) != 0) {
			s->v[++out] = *it;
			continue;
		}
		/* The same (owner, value): one item with both parts. */
		if (it->live) {
			last->live = true;
			last->expire = it->expire;
			last->published = it->published;
		}
		if (it->tomb) {
			last->tomb = true;
			last->t = it->t;
		}
		free(it->owner);
	}
	s->n = out + 1;
}

void sync_free(sync_set_t *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].owner);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* A side's last event for an item: 'v' (live), 'g' (deleted) or 0 (none). */
static char event(const sync_item_t *it, int64_t *time)
{
	if (it == NULL) {
		return 0;
	}
	if (it->live && (!it->tomb || it->published > it->t.when_ms)) {
		*time = it->published;
		return 'v';
	}
	if (it->tomb) {
		*time = it->t.when_ms;
		return 'g';
	}
	return 0;
}

/* Does side (its item, may be NULL) need w (the winning item, event e)? */
static bool needs(const sync_item_t *side, const sync_item_t *w, char e)
{
	int64_t t = 0;
	char se = event(side, &t);

	if (e == 'v') {
		return se != 'v' || side->published != w->published ||
		       side->expire != w->expire;
	}
	return se != 'g' || side->t.when_ms < w->t.when_ms;
}

static void fix(proto_buf_t *b, const sync_item_t *w, char e, const sync_item_t *side,
                size_t *added, size_t *removed, proto_buf_t *report, const char *where)
{
	char name[AZ_NAME_TXTLEN], q[CLI_QUOTE_MAX];
	int64_t t;
	bool was_live = event(side, &t) == 'v';

	if (e == 'v') {
		proto_put_state(b, "put", w->owner, w->value, w->len, w->expire, w->published);
		if (!was_live) {
			(*added)++;
		}
	} else {
		proto_put_state(b, "drop", w->owner, w->value, w->len, w->t.when_ms, w->t.until);
		if (was_live) {
			(*removed)++;
		}
	}
	if (report != NULL && (e == 'v' ? !was_live : was_live)) {
		az_name_to_text(w->owner, name, sizeof(name));
		proto_printf(report, "%s %s: %s %s\n", e == 'v' ? "added" : "removed",
		             where, name, quote(w->value, q));
	}
}

void sync_plan(const sync_set_t *here, const sync_set_t *there, proto_buf_t *to_here,
               proto_buf_t *to_there, sync_counts_t *c, proto_buf_t *report,
               const char *peer)
{
	size_t i = 0, j = 0;
	char at[PEER_AT_MAX];

	snprintf(at, sizeof(at), "at %s", peer);
	memset(c, 0, sizeof(*c));
	while (i < here->n || j < there->n) {
		const sync_item_t *h = i < here->n ? &here->v[i] : NULL;
		const sync_item_t *p = j < there->n ? &there->v[j] : NULL;
		int cmp = h == NULL ? 1 : p == NULL ? -1 : item_cmp(h, p);
		if (cmp < 0) {
			p = NULL;
			i++;
		} else if (cmp > 0) {
			h = NULL;
			j++;
		} else {
			i++;
			j++;
		}
		int64_t th = 0, tp = 0;
		char eh = event(h, &th), ep = event(p, &tp);
		const sync_item_t *w;
		char e;
		/* Newest event wins; on a tie a deletion, then the later expiry. */
		if (eh == 0 || (ep != 0 && (tp > th || (tp == th && ep == 'g' && eh == 'v') ||
		                            (tp == th && ep == eh && ep == 'v' &&
		                             p->expire > h->expire)))) {
			w = p;
			e = ep;
		} else {
			w = h;
			e = eh;
		}
		if (e == 0) {
			continue;
		}
		if (needs(p, w, e)) {
			fix(to_there, w, e, p, &c->added_there, &c->removed_there, report, at);
		}
		if (needs(h, w, e)) {
			fix(to_here, w, e, h, &c->added_here, &c->removed_here, report, "here");
		}
	}
}

int sync_apply(cli_t *cli, az_txn_t *txn, char *buf, size_t len, int64_t now)
{
	char *line = buf, *end = buf + len, *nl;
	const char *why = NULL;
	proto_state_t st;
	unsigned long n = 0;
	int ret = AZ_EOK;

	while (line < end && (nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		bool changed;
		*nl = '\0';
		n++;
		if (!proto_parse_state(line, "put", "drop", &st, &why)) {
			cli_err(cli, "sync line %lu: %s", n, why);
			return RC_INPUT;
		}
		size_t vlen = strlen(st.value);
		if (st.kind == 'p') {
			az_val_t v = { .expire = st.a, .published = st.b, .len = (uint16_t)vlen,
			               .data = (const uint8_t *)st.value };
			ret = az_txn_sync_put(txn, st.owner, &v, now, &changed);
		} else {
			az_tomb_t t = { .when_ms = st.a, .until = st.b };
			ret = az_txn_sync_drop(txn, st.owner, (const uint8_t *)st.value, vlen,
			                       &t, &changed);
		}
		if (ret != AZ_EOK) {
			char name[AZ_NAME_TXTLEN];
			az_name_to_text(st.owner, name, sizeof(name));
			return write_fail(cli, ret, st.kind == 'p' ? "put" : "drop", name);
		}
		line = nl + 1;
	}
	return RC_OK;
}
