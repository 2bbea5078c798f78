/* tomb.c -- what a delete leaves behind: tombstones in the named database "gone", so that 'acmezone sync' never brings a deleted value back. */
/* SPDX-License-Identifier: MIT */

#include <string.h>
#include <time.h>

#include "bytes.h"
#include "internal.h"
#include "store.h"

#define GONE_DB		"gone"
#define TOMB_VERSION	1
#define TOMB_HEAD	(1 + 8 + 8)		/* version, when, until */
#define TOMB_KEYMAX	(AZ_NAME_MAXLEN + AZ_SHA256_LEN)

/*
 * "gone" is created by the first write that leaves a tombstone; readers
 * that never sync (knotd, named, an older acmezone) never open it, and a
 * store without it has no tombstones.
 */
static int gone_open(MDB_txn *txn, bool create, MDB_dbi *dbi)
{
	int ret = mdb_dbi_open(txn, GONE_DB, create ? MDB_CREATE : 0, dbi);

	if (ret == MDB_NOTFOUND) {
		return AZ_ENOENT;
	}
	return ret == MDB_SUCCESS ? AZ_EOK : (ret == MDB_DBS_FULL ? AZ_ELMDB : AZ_EIO);
}

/* key = the owner name, then SHA-256 of the value (LMDB keys are short). */
static size_t tomb_key(const uint8_t *name, const uint8_t *value, size_t len,
                       uint8_t key[TOMB_KEYMAX])
{
	size_t n = az_name_wire_len(name, AZ_NAME_MAXLEN);

	if (n == 0) {
		return 0;
	}
	memcpy(key, name, n);
	az_sha256(value, len, key + n);
	return n + AZ_SHA256_LEN;
}

/* Decode a tombstone's data; the value points into it.  false: corrupt. */
static bool tomb_decode(const MDB_val *key, const MDB_val *data, az_tomb_t *t,
                        const uint8_t **value, size_t *len)
{
	const uint8_t *d = data->mv_data;
	uint8_t sum[AZ_SHA256_LEN];
	size_t n;

	if (data->mv_size <= TOMB_HEAD || data->mv_size > TOMB_HEAD + AZ_TXT_MAXLEN ||
	    d[0] != TOMB_VERSION || key->mv_size <= AZ_SHA256_LEN) {
		return false;
	}
	n = az_name_wire_len(key->mv_data, key->mv_size - AZ_SHA256_LEN);
	if (n != key->mv_size - AZ_SHA256_LEN) {
		return false;
	}
	t->when_ms = (int64_t)az_get_be64(d + 1);
	t->until = (int64_t)az_get_be64(d + 9);
	*value = d + TOMB_HEAD;
	*len = data->mv_size - TOMB_HEAD;
	if (az_text_check((const char *)*value, *len, NULL) != AZ_EOK) {
		return false;
	}
	az_sha256(*value, *len, sum);
	return memcmp(sum, (const uint8_t *)key->mv_data + n, AZ_SHA256_LEN) == 0;
}

/* The tombstone of (name, value) in txn: AZ_EOK, AZ_ENOENT, or an error. */
static int tomb_get(MDB_txn *txn, bool create, const uint8_t *name,
                    const uint8_t *value, size_t len, az_tomb_t *t)
{
	uint8_t k[TOMB_KEYMAX];
	const uint8_t *v;
	size_t vl;
	MDB_dbi dbi;
	MDB_val key = { tomb_key(name, value, len, k), k }, data;
	int ret = gone_open(txn, create, &dbi);

	if (ret != AZ_EOK) {
		return ret;
	}
	ret = mdb_get(txn, dbi, &key, &data);
	if (ret == MDB_NOTFOUND) {
		return AZ_ENOENT;
	}
	if (ret != MDB_SUCCESS) {
		return AZ_ELMDB;
	}
	return tomb_decode(&key, &data, t, &v, &vl) ? AZ_EOK : AZ_ENOENT;
}

/* Leave (or move forward) the tombstone of (name, value). */
static int tomb_put(az_txn_t *tx, const uint8_t *name, const uint8_t *value,
                    size_t len, const az_tomb_t *t)
{
	uint8_t k[TOMB_KEYMAX], d[TOMB_HEAD + AZ_TXT_MAXLEN];
	MDB_txn *txn;
	MDB_dbi tok, dbi;
	az_tomb_t old;
	int ret;

	if (len == 0 || len > AZ_TXT_MAXLEN) {
		return AZ_EINVAL;
	}
	az_txn_lmdb(tx, &txn, &tok);
	ret = tomb_get(txn, true, name, value, len, &old);
	if (ret == AZ_EOK && old.when_ms >= t->when_ms) {
		return AZ_EOK;		/* the one there is as new */
	}
	if ((ret != AZ_EOK && ret != AZ_ENOENT) || gone_open(txn, true, &dbi) != AZ_EOK) {
		return ret != AZ_EOK && ret != AZ_ENOENT ? ret : AZ_ELMDB;
	}
	d[0] = TOMB_VERSION;
	az_put_be64(d + 1, (uint64_t)t->when_ms);
	az_put_be64(d + 9, (uint64_t)t->until);
	memcpy(d + TOMB_HEAD, value, len);
	MDB_val key = { tomb_key(name, value, len, k), k }, data = { TOMB_HEAD + len, d };
	if (key.mv_size == 0) {
		return AZ_EINVAL;
	}
	ret = mdb_put(txn, dbi, &key, &data, 0);
	if (ret != MDB_SUCCESS) {
		return ret == MDB_MAP_FULL ? AZ_EFULL : AZ_ELMDB;
	}
	az_txn_touch(tx);
	return AZ_EOK;
}

/* The live values at name in tx: *it prepared; AZ_ENOENT if none. */
static int values_at(az_txn_t *tx, const uint8_t *name, az_rec_iter_t *it)
{
	MDB_txn *txn;
	MDB_dbi tok;
	size_t n = az_name_wire_len(name, AZ_NAME_MAXLEN);
	MDB_val key = { n, (void *)name }, data;
	int ret;

	if (n == 0) {
		return AZ_EINVAL;
	}
	az_txn_lmdb(tx, &txn, &tok);
	ret = mdb_get(txn, tok, &key, &data);
	if (ret == MDB_NOTFOUND) {
		return AZ_ENOENT;
	}
	if (ret != MDB_SUCCESS) {
		return AZ_ELMDB;
	}
	if (az_rec_verify(name, n, data.mv_data, data.mv_size) != AZ_EOK ||
	    az_rec_iter_init(it, data.mv_data, data.mv_size) != AZ_EOK) {
		return AZ_ECORRUPT;
	}
	return AZ_EOK;
}

/* The value (name, value) in tx, if there: *found and its times in *out. */
static int value_get(az_txn_t *tx, const uint8_t *name, const uint8_t *value,
                     size_t len, bool *found, az_val_t *out)
{
	az_rec_iter_t it;
	az_val_t v;
	int ret = values_at(tx, name, &it);

	*found = false;
	if (ret == AZ_ENOENT) {
		return AZ_EOK;
	}
	if (ret != AZ_EOK) {
		return ret;
	}
	while (az_rec_iter_next(&it, &v)) {
		if (v.len == len && memcmp(v.data, value, len) == 0) {
			*found = true;
			*out = v;
		}
	}
	return AZ_EOK;
}

int az_txn_del_tomb(az_txn_t *tx, const uint8_t *name, const uint8_t *value,
                    size_t len, int64_t when_ms, bool absent, unsigned *removed)
{
	az_rec_iter_t it;
	az_val_t v;
	bool found = false;
	int64_t now = when_ms / 1000;
	int ret = values_at(tx, name, &it);

	if (ret == AZ_EOK) {
		while (az_rec_iter_next(&it, &v)) {
			bool match = value == NULL ||
			             (v.len == len && memcmp(v.data, value, len) == 0);
			found = found || match;
			if (!match || v.expire <= now) {
				continue;	/* not deleted, or not live anyway */
			}
			az_tomb_t t = { .when_ms = when_ms, .until = v.expire };
			if ((ret = tomb_put(tx, name, v.data, v.len, &t)) != AZ_EOK) {
				return ret;
			}
		}
	} else if (ret != AZ_ENOENT && !(ret == AZ_ECORRUPT && value == NULL)) {
		return ret;
	}
	if (absent && value != NULL && !found) {
		/* A peer may hold what we never had: keep it from coming back. */
		az_tomb_t t = { .when_ms = when_ms, .until = now + AZ_TOMB_KEEP };
		if ((ret = tomb_put(tx, name, value, len, &t)) != AZ_EOK) {
			return ret;
		}
	}
	return az_txn_del(tx, name, value, len, removed);
}

int az_txn_sync_put(az_txn_t *tx, const uint8_t *name, const az_val_t *val,
                    int64_t now, bool *changed)
{
	MDB_txn *txn;
	MDB_dbi tok;
	az_tomb_t t;
	az_val_t have;
	bool found;
	int ret;

	*changed = false;
	az_txn_lmdb(tx, &txn, &tok);
	ret = tomb_get(txn, false, name, val->data, val->len, &t);
	if (ret == AZ_EOK && t.when_ms >= val->published) {
		return AZ_EOK;		/* deleted after it was published */
	}
	if (ret != AZ_EOK && ret != AZ_ENOENT) {
		return ret;
	}
	ret = value_get(tx, name, val->data, val->len, &found, &have);
	if (ret != AZ_EOK) {
		return ret;
	}
	if (found && (have.published > val->published ||
	              (have.published == val->published && have.expire >= val->expire))) {
		return AZ_EOK;		/* as new or newer here */
	}
	ret = az_txn_put(tx, name, val, now);
	*changed = ret == AZ_EOK;
	return ret;
}

int az_txn_sync_drop(az_txn_t *tx, const uint8_t *name, const uint8_t *value,
                     size_t len, const az_tomb_t *tomb, bool *removed)
{
	az_val_t have;
	bool found;
	unsigned n = 0;
	int ret = value_get(tx, name, value, len, &found, &have);

	*removed = false;
	if (ret != AZ_EOK) {
		return ret;
	}
	if (found && have.published <= tomb->when_ms) {
		ret = az_txn_del(tx, name, value, len, &n);
		*removed = n > 0;
	}
	if (ret == AZ_EOK) {
		ret = tomb_put(tx, name, value, len, tomb);
	}
	return ret;
}

int az_reader_tombs(az_reader_t *rd, az_tomb_cb cb, void *ctx)
{
	MDB_txn *txn = az_reader_mdb(rd);
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	MDB_val key, data;
	const uint8_t *value;
	size_t len;
	az_tomb_t t;
	int ret = gone_open(txn, false, &dbi), op = MDB_FIRST;

	if (ret == AZ_ENOENT) {
		return AZ_EOK;		/* a store no delete has touched */
	}
	if (ret != AZ_EOK || mdb_cursor_open(txn, dbi, &cur) != MDB_SUCCESS) {
		return AZ_ELMDB;
	}
	while ((ret = mdb_cursor_get(cur, &key, &data, (MDB_cursor_op)op)) == MDB_SUCCESS) {
		op = MDB_NEXT;
		if (!tomb_decode(&key, &data, &t, &value, &len)) {
			continue;	/* damaged: as if it were not there */
		}
		if ((ret = cb(key.mv_data, value, len, &t, ctx)) != 0) {
			break;
		}
	}
	mdb_cursor_close(cur);
	return ret == MDB_NOTFOUND ? AZ_EOK : ret;
}

int az_txn_tomb_purge(az_txn_t *tx, int64_t now, size_t *removed)
{
	MDB_txn *txn;
	MDB_dbi tok, dbi;
	MDB_cursor *cur = NULL;
	MDB_val key, data;
	const uint8_t *value;
	size_t len;
	az_tomb_t t;
	int ret, op = MDB_FIRST;

	*removed = 0;
	az_txn_lmdb(tx, &txn, &tok);
	ret = gone_open(txn, false, &dbi);
	if (ret == AZ_ENOENT) {
		return AZ_EOK;
	}
	if (ret != AZ_EOK || mdb_cursor_open(txn, dbi, &cur) != MDB_SUCCESS) {
		return AZ_ELMDB;
	}
	while ((ret = mdb_cursor_get(cur, &key, &data, (MDB_cursor_op)op)) == MDB_SUCCESS) {
		op = MDB_NEXT;
		if (tomb_decode(&key, &data, &t, &value, &len) && t.until > now) {
			continue;
		}
		if ((ret = mdb_cursor_del(cur, 0)) != MDB_SUCCESS) {
			break;
		}
		(*removed)++;
	}
	mdb_cursor_close(cur);
	if (*removed > 0) {
		az_txn_touch(tx);
	}
	return ret == MDB_NOTFOUND ? AZ_EOK : AZ_ELMDB;
}
