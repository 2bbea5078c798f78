/* history.c -- the "hist" database: hook events and ACME outcomes, bounded by count and age. */
/* SPDX-License-Identifier: MIT */

#include <string.h>
#include <time.h>

#include "bytes.h"
#include "internal.h"
#include "store.h"

#define HIST_DB		"hist"
#define HIST_FORMAT	1
#define HIST_HDR	18	/* format, op, time, notAfter */
#define HIST_SUM	4
#define HIST_MAXLEN	(HIST_HDR + 5 + AZ_HIST_CLIENT_MAX + AZ_HIST_HOST_MAX + \
			 AZ_DOMAIN_BUFLEN + AZ_NAME_MAXLEN + AZ_VALUE_MAXLEN + \
			 2 + AZ_HIST_REASON_MAX + HIST_SUM)
#define KEY_MAX		"hist-max"
#define KEY_DAYS	"hist-days"
#define DAY_MS		(86400 * (int64_t)1000)

const char *az_hist_op_name(az_hist_op_t op)
{
	switch (op) {
	case AZ_HIST_ADD:	return "add";
	case AZ_HIST_DEL:	return "del";
	case AZ_HIST_ISSUED:	return "issued";
	case AZ_HIST_FAILED:	return "failed";
	default:		return NULL;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* The LMDB transaction of a write transaction. */
static MDB_txn *txn_mdb(az_txn_t *txn)
{
	MDB_txn *t;
	az_txn_lmdb(txn, &t, NULL);
	return t;
}

/* "hist" in this transaction; create: make it if it is not there. */
static int hist_dbi(MDB_txn *txn, bool create, MDB_dbi *dbi)
{
	return az_map_err(mdb_dbi_open(txn, HIST_DB, create ? MDB_CREATE : 0, dbi));
}

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

/* One text field: at most max octets of s, each unprintable one as '?'. */
static uint8_t *put_text(uint8_t *p, const char *s, size_t max, bool wide)
{
	size_t n = strnlen(s, max);
	if (wide) {
		az_put_be16(p, (uint16_t)n);
		p += 2;
	} else {
		*p++ = (uint8_t)n;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		*p++ = (c < 0x20 || c > 0x7e) ? '?' : c;
	}
	return p;
}

static size_t encode(const az_hist_event_t *ev, const uint8_t key[8], uint8_t *buf)
{
	uint8_t *p = buf;
	size_t olen = ev->owner_len;

	*p++ = HIST_FORMAT;
	*p++ = (uint8_t)ev->op;
	az_put_be64(p, (uint64_t)ev->time_ms);
	az_put_be64(p + 8, (uint64_t)ev->not_after);
	p += 16;
	p = put_text(p, ev->client, AZ_HIST_CLIENT_MAX, false);
	p = put_text(p, ev->host, AZ_HIST_HOST_MAX, false);
	p = put_text(p, ev->domain, AZ_DOMAIN_BUFLEN - 1, false);
	*p++ = (uint8_t)olen;
	memcpy(p, ev->owner, olen);
	p += olen;
	p = put_text(p, ev->value, AZ_VALUE_MAXLEN, false);
	p = put_text(p, ev->reason, AZ_HIST_REASON_MAX, true);
	uint32_t crc = az_crc32c(az_crc32c(0, key, 8), buf, (size_t)(p - buf));
	az_put_be32(p, crc);
	return (size_t)(p - buf) + HIST_SUM;
}

/* Read one length-prefixed text field into out (max octets + NUL). */
static bool get_text(const uint8_t **p, const uint8_t *end, char *out, size_t max,
                     bool wide)
{
	size_t n;
	if (end - *p < (wide ? 2 : 1)) {
		return false;
	}
	n = wide ? az_get_be16(*p) : **p;
	*p += wide ? 2 : 1;
	if (n > max || (size_t)(end - *p) < n || !printable(*p, n)) {
		return false;
	}
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

/* Bytes read back from the file: validated completely before use. */
static int decode(const MDB_val *key, const MDB_val *val, az_hist_event_t *ev)
{
	const uint8_t *b = val->mv_data, *p, *end;
	memset(ev, 0, sizeof(*ev));
	if (key->mv_size != 8 || val->mv_size < HIST_HDR + 5 + 2 + HIST_SUM ||
	    val->mv_size > HIST_MAXLEN || b[0] != HIST_FORMAT ||
	    az_hist_op_name((az_hist_op_t)b[1]) == NULL) {
		return AZ_ECORRUPT;
	}
	end = b + val->mv_size - HIST_SUM;
	if (az_crc32c(az_crc32c(0, key->mv_data, 8), b, (size_t)(end - b)) !=
	    az_get_be32(end)) {
		return AZ_ECORRUPT;
	}
	ev->id = az_get_be64(key->mv_data);
	ev->op = (az_hist_op_t)b[1];
	ev->time_ms = (int64_t)az_get_be64(b + 2);
	ev->not_after = (int64_t)az_get_be64(b + 10);
	p = b + HIST_HDR;
	if (!get_text(&p, end, ev->client, AZ_HIST_CLIENT_MAX, false) || ev->client[0] == '\0' ||
	    !get_text(&p, end, ev->host, AZ_HIST_HOST_MAX, false) ||
	    !get_text(&p, end, ev->domain, AZ_DOMAIN_BUFLEN - 1, false) ||
	    p >= end) {
		return AZ_ECORRUPT;
	}
	ev->owner_len = *p++;
	if ((size_t)(end - p) < ev->owner_len ||
	    (ev->owner_len > 0 && az_name_wire_len(p, ev->owner_len) != ev->owner_len)) {
		return AZ_ECORRUPT;
	}
	memcpy(ev->owner, p, ev->owner_len);
	p += ev->owner_len;
	if (!get_text(&p, end, ev->value, AZ_VALUE_MAXLEN, false) ||
	    !get_text(&p, end, ev->reason, AZ_HIST_REASON_MAX, true) || p != end) {
		return AZ_ECORRUPT;
	}
	return AZ_EOK;
}

/*** Limits. ***/

static int limit_get(MDB_txn *txn, MDB_dbi meta, const char *name, uint32_t dflt,
                     uint32_t lo, uint32_t hi, uint32_t *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int ret = mdb_get(txn, meta, &k, &v);
	*out = dflt;
	if (ret == MDB_NOTFOUND) {
		return AZ_EOK;
	} else if (ret != MDB_SUCCESS) {
		return az_map_err(ret);
	}
	if (v.mv_size != 4 || az_get_be32(v.mv_data) < lo || az_get_be32(v.mv_data) > hi) {
		return AZ_ECORRUPT;
	}
	*out = az_get_be32(v.mv_data);
	return AZ_EOK;
}

static int limits_read(MDB_txn *txn, az_hist_limits_t *out)
{
	MDB_dbi meta;
	int ret = az_map_err(mdb_dbi_open(txn, "meta", 0, &meta));
	if (ret == AZ_EOK) {
		ret = limit_get(txn, meta, KEY_MAX, AZ_HIST_DEFAULT_MAX, AZ_HIST_MIN_MAX,
		                AZ_HIST_MAX_MAX, &out->max_events);
	}
	if (ret == AZ_EOK) {
		ret = limit_get(txn, meta, KEY_DAYS, AZ_HIST_DEFAULT_DAYS, 1,
		                AZ_HIST_MAX_DAYS, &out->max_days);
	}
	return ret;
}

int az_txn_hist_limits(az_txn_t *txn, az_hist_limits_t *out)
{
	if (txn == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	return limits_read(txn_mdb(txn), out);
}

int az_reader_hist_limits(az_reader_t *rd, az_hist_limits_t *out)
{
	if (rd == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	return limits_read(az_reader_mdb(rd), out);
}

/*
 * Drop the oldest events beyond the limits: more than max_events, or
 * older than max_days before now.  Keys grow with time, so the oldest
 * come first; a record at the head that does not decode is older than
 * the next one and goes too.
 */
static int prune(MDB_txn *txn, MDB_dbi dbi, const az_hist_limits_t *lim, int64_t now,
                 size_t *dropped)
{
	MDB_cursor *cur = NULL;
	MDB_stat ms;
	MDB_val k, v;
	az_hist_event_t ev;
	int64_t cutoff = now - (int64_t)lim->max_days * DAY_MS;
	int ret = mdb_stat(txn, dbi, &ms);
	size_t count = ms.ms_entries;

	if (ret != MDB_SUCCESS || (ret = mdb_cursor_open(txn, dbi, &cur)) != MDB_SUCCESS) {
		return az_map_err(ret);
	}
	while ((ret = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == MDB_SUCCESS) {
		bool ok = decode(&k, &v, &ev) == AZ_EOK;
		if (count <= lim->max_events && ok && ev.time_ms >= cutoff) {
			break;
		}
		if ((ret = mdb_cursor_del(cur, 0)) != MDB_SUCCESS) {
			break;
		}
		count--;
		++*dropped;
	}
	mdb_cursor_close(cur);
	return (ret == MDB_SUCCESS || ret == MDB_NOTFOUND) ? AZ_EOK : az_map_err(ret);
}

int az_txn_set_hist_limits(az_txn_t *txn, const az_hist_limits_t *lim)
{
	uint8_t b[2][4];
	MDB_val km = { strlen(KEY_MAX), KEY_MAX }, kd = { strlen(KEY_DAYS), KEY_DAYS };
	MDB_val vm = { 4, b[0] }, vd = { 4, b[1] };
	MDB_dbi meta, dbi;
	size_t dropped = 0;
	int ret;

	if (txn == NULL || lim == NULL || lim->max_events < AZ_HIST_MIN_MAX ||
	    lim->max_events > AZ_HIST_MAX_MAX || lim->max_days < 1 ||
	    lim->max_days > AZ_HIST_MAX_DAYS) {
		return AZ_EINVAL;
	}
	az_put_be32(b[0], lim->max_events);
	az_put_be32(b[1], lim->max_days);
	MDB_txn *t = txn_mdb(txn);
	if ((ret = mdb_dbi_open(t, "meta", 0, &meta)) != MDB_SUCCESS ||
	    (ret = mdb_put(t, meta, &km, &vm, 0)) != MDB_SUCCESS ||
	    (ret = mdb_put(t, meta, &kd, &vd, 0)) != MDB_SUCCESS) {
		return az_map_err(ret);
	}
	az_txn_touch(txn);
	ret = hist_dbi(t, false, &dbi);
	if (ret == AZ_ENOENT) {
		return AZ_EOK;		/* no history yet: nothing to drop */
	}
	return ret == AZ_EOK ? prune(t, dbi, lim, now_ms(), &dropped) : ret;
}

/*** Writing. ***/

int az_hist_append(az_txn_t *txn, az_hist_event_t *ev, size_t *dropped)
{
	uint8_t key[8], buf[HIST_MAXLEN];
	az_hist_limits_t lim;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_dbi dbi;
	size_t dummy;
	uint64_t id = 1;
	int ret;

	if (dropped == NULL) {
		dropped = &dummy;
	}
	*dropped = 0;
	if (txn == NULL || ev == NULL || az_hist_op_name(ev->op) == NULL ||
	    ev->client[0] == '\0' || ev->owner_len > AZ_NAME_MAXLEN ||
	    (ev->owner_len > 0 &&
	     az_name_wire_len(ev->owner, ev->owner_len) != ev->owner_len)) {
		return AZ_EINVAL;
	}
	MDB_txn *t = txn_mdb(txn);
	if ((ret = limits_read(t, &lim)) != AZ_EOK || (ret = hist_dbi(t, true, &dbi)) != AZ_EOK) {
		return ret;
	}
	if ((ret = mdb_cursor_open(t, dbi, &cur)) != MDB_SUCCESS) {
		return az_map_err(ret);
	}
	/* The next id: one more than the newest well-formed key. */
	ret = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	while (ret == MDB_SUCCESS && k.mv_size != 8) {
		ret = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	if (ret == MDB_SUCCESS) {
		id = az_get_be64(k.mv_data) + 1;
	}
	mdb_cursor_close(cur);
	if (ret != MDB_SUCCESS && ret != MDB_NOTFOUND) {
		return az_map_err(ret);
	}
	if (ev->time_ms == 0) {
		ev->time_ms = now_ms();
	}
	ev->id = id;
	az_put_be64(key, id);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	v.mv_size = encode(ev, key, buf);
	v.mv_data = buf;
	if ((ret = mdb_put(t, dbi, &k, &v, 0)) != MDB_SUCCESS) {
		return az_map_err(ret);
	}
	az_txn_touch(txn);
	return prune(t, dbi, &lim, now_ms(), dropped);
}

/*** Reading. ***/

int az_reader_history(az_reader_t *rd, bool reverse, az_hist_cb cb, void *ctx)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_dbi dbi;
	az_hist_event_t ev;
	int ret;

	if (rd == NULL || cb == NULL) {
		return AZ_EINVAL;
	}
	MDB_txn *t = az_reader_mdb(rd);
	ret = hist_dbi(t, false, &dbi);
	if (ret == AZ_ENOENT) {
		return AZ_EOK;		/* a store without a history yet */
	} else if (ret != AZ_EOK) {
		return ret;
	}
	if ((ret = mdb_cursor_open(t, dbi, &cur)) != MDB_SUCCESS) {
		return az_map_err(ret);
	}
	MDB_cursor_op op = reverse ? MDB_LAST : MDB_FIRST;
	while ((ret = mdb_cursor_get(cur, &k, &v, op)) == MDB_SUCCESS) {
		op = reverse ? MDB_PREV : MDB_NEXT;
		bool ok = decode(&k, &v, &ev) == AZ_EOK;
		uint64_t id = k.mv_size == 8 ? az_get_be64(k.mv_data) : 0;
		if ((ret = cb(ok ? &ev : NULL, id, ctx)) != 0) {
			mdb_cursor_close(cur);
			return ret;
		}
	}
	mdb_cursor_close(cur);
	return ret == MDB_NOTFOUND ? AZ_EOK : az_map_err(ret);
}

typedef struct {
	const uint8_t *owner;
	size_t olen;
	const uint8_t *value;
	size_t len;
	az_hist_event_t *out;
} added_t;

static int added_cb(const az_hist_event_t *ev, uint64_t id, void *ctx)
{
	added_t *a = ctx;
	(void)id;
	if (ev == NULL || ev->op != AZ_HIST_ADD || ev->owner_len != a->olen ||
	    memcmp(ev->owner, a->owner, a->olen) != 0 || strlen(ev->value) != a->len ||
	    memcmp(ev->value, a->value, a->len) != 0) {
		return 0;
	}
	*a->out = *ev;
	return 1;
}

int az_reader_hist_added(az_reader_t *rd, const uint8_t *owner,
                         const uint8_t *value, size_t len, az_hist_event_t *out)
{
	size_t olen = owner != NULL ? az_name_wire_len(owner, AZ_NAME_MAXLEN) : 0;
	if (olen == 0 || value == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	added_t a = { owner, olen, value, len, out };
	int ret = az_reader_history(rd, true, added_cb, &a);
	return ret == 1 ? AZ_EOK : ret == AZ_EOK ? AZ_ENOENT : ret;
}
