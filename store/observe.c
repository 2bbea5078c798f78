/* observe.c -- the observation file: encode and write it (module), read and check it (CLI). */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "observe.h"

/* Fixed part of an entry: length, name length, 5 times, 9 counters,
 * sources, flags, nsrc. */
#define ENT_FIXED	(2 + 1 + 5 * 8 + 9 * 8 + 4 + 1 + 1)
#define SRC_LEN		17	/* family, 16 octets */
#define SUM_LEN		4

/* errno of a failed system call -> AZ_E*, errno kept for az_errno(). */
static int sys_fail(void)
{
	switch (errno) {
	case EACCES:
	case EPERM:
	case ELOOP:	return az_fail(AZ_EPERM);
	case ENOENT:	return az_fail(AZ_ENOENT);
	case ENOSPC:
	case EDQUOT:	return az_fail(AZ_EFULL);
	case EROFS:	return az_fail(AZ_EROFS);
	case ENOMEM:	return AZ_ENOMEM;
	default:	return az_fail(AZ_EIO);
	}
}

static int suffixed(const char *store_path, const char *tail, char *out,
                    size_t size)
{
	if (store_path == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	int n = snprintf(out, size, "%s" AZ_OBS_DIR_SUFFIX "%s", store_path, tail);
	return (n < 0 || (size_t)n >= size) ? AZ_EINVAL : AZ_EOK;
}

int az_obs_dir(const char *store_path, char *out, size_t size)
{
	return suffixed(store_path, "", out, size);
}

int az_obs_path(const char *store_path, char *out, size_t size)
{
	return suffixed(store_path, "/" AZ_OBS_FILE, out, size);
}

int az_obs_mkdir(const char *store_path, gid_t gid)
{
	char dir[4096];
	int ret = az_obs_dir(store_path, dir, sizeof(dir));
	if (ret != AZ_EOK) {
		return ret;
	}
	if (mkdir(dir, 02770) != 0) {
		return errno == EEXIST ? AZ_EOK : sys_fail();
	}
	/* Not left to the umask: the group (knotd) must write here, and
	 * setgid gives its files the store's group. */
	if ((gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) != 0) ||
	    chmod(dir, 02770) != 0) {
		ret = sys_fail();
		(void)rmdir(dir);
		return ret;
	}
	return AZ_EOK;
}

static size_t entry_size(const az_obs_name_t *e)
{
	return ENT_FIXED + e->name_len + (size_t)e->nsrc * SRC_LEN;
}

size_t az_obs_size(const az_obs_t *obs)
{
	size_t n = AZ_OBS_HDRLEN + SUM_LEN;
	for (size_t i = 0; i < obs->count; i++) {
		n += entry_size(&obs->names[i]);
	}
	return n;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	az_put_be64(p, v);
	return p + 8;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	az_put_be32(p, v);
	return p + 4;
}

size_t az_obs_encode(const az_obs_t *obs, uint8_t *buf, size_t size)
{
	size_t need = az_obs_size(obs);
	if (buf == NULL || size < need || obs->count > UINT32_MAX) {
		return 0;
	}
	uint8_t *p = buf;
	memcpy(p, AZ_OBS_MAGIC, 8);
	p = put32(p + 8, AZ_OBS_VERSION);
	p = put32(p, (uint32_t)obs->count);
	p = put64(p, (uint64_t)obs->written_ms);
	p = put64(p, (uint64_t)obs->since_ms);
	p = put32(p, obs->pid);
	p = put32(p, obs->slots);
	p = put32(p, obs->used);
	p = put32(p, 0);
	p = put64(p, obs->unobserved);
	p = put64(p, obs->misses_lost);
	for (size_t i = 0; i < obs->count; i++) {
		const az_obs_name_t *e = &obs->names[i];
		if (e->name_len == 0 || e->name_len > AZ_NAME_MAXLEN ||
		    e->nsrc > AZ_OBS_SOURCES) {
			return 0;
		}
		az_put_be16(p, (uint16_t)entry_size(e));
		p[2] = (uint8_t)e->name_len;
		memcpy(p + 3, e->name, e->name_len);
		p += 3 + e->name_len;
		const int64_t times[5] = { e->pub_ms, e->first_ms, e->last_ms,
		                           e->early_first_ms, e->early_last_ms };
		for (int k = 0; k < 5; k++) {
			p = put64(p, (uint64_t)times[k]);
		}
		const uint64_t ctr[9] = { e->queries, e->udp, e->tcp, e->dnssec_ok,
		                          e->case_mixed, e->served, e->nodata,
		                          e->nxdomain, e->early };
		for (int k = 0; k < 9; k++) {
			p = put64(p, ctr[k]);
		}
		p = put32(p, e->sources);
		*p++ = e->flags;
		*p++ = e->nsrc;
		for (unsigned k = 0; k < e->nsrc; k++) {
			*p++ = e->src[k].family;
			memcpy(p, e->src[k].addr, 16);
			p += 16;
		}
	}
	az_put_be32(p, az_crc32c(0, buf, (size_t)(p - buf)));
	return need;
}

int az_obs_write(const char *path, const uint8_t *buf, size_t len)
{
	if (path == NULL || buf == NULL) {
		return AZ_EINVAL;
	}
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		return AZ_EINVAL;
	}
	int ret = AZ_EOK;
	/* O_TRUNC: a temporary left by a writer that died is overwritten;
	 * O_NOFOLLOW: the directory is group-writable, never follow a link
	 * someone else put there. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	              0640);
	if (fd < 0) {
		return sys_fail();
	}
	/* The umask must not widen or narrow what the header promises. */
	if (fchmod(fd, 0640) != 0) {
		ret = sys_fail();
		goto fail;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			ret = sys_fail();
			goto fail;
		}
		done += (size_t)w;
	}
	/* No fsync: observations are worth nothing after a power loss, and
	 * rename() alone already makes readers see a whole file. */
	if (close(fd) != 0) {
		fd = -1;
		ret = sys_fail();
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		ret = sys_fail();
		goto fail;
	}
	return AZ_EOK;
fail:
	if (fd >= 0) {
		close(fd);
	}
	unlink(tmp);
	return ret;
}

static int64_t get_i64(const uint8_t *p)
{
	return (int64_t)az_get_be64(p);
}

static int corrupt(const char **why, const char *reason)
{
	if (why != NULL) {
		*why = reason;
	}
	return AZ_ECORRUPT;
}

/* One entry at p (avail octets left before the checksum) into e. */
static int decode_entry(const uint8_t *p, size_t avail, az_obs_name_t *e,
                        size_t *used, const char **why)
{
	if (avail < ENT_FIXED) {
		return corrupt(why, "truncated entry");
	}
	size_t len = az_get_be16(p);
	size_t name_len = p[2];
	if (len > avail || len < ENT_FIXED + name_len) {
		return corrupt(why, "entry length out of bounds");
	}
	if (name_len == 0 || az_name_wire_len(p + 3, name_len) != name_len) {
		return corrupt(why, "entry with an invalid name");
	}
	memcpy(e->name, p + 3, name_len);
	e->name_len = name_len;
	const uint8_t *q = p + 3 + name_len;
	int64_t *times[5] = { &e->pub_ms, &e->first_ms, &e->last_ms,
	                      &e->early_first_ms, &e->early_last_ms };
	for (int k = 0; k < 5; k++, q += 8) {
		*times[k] = get_i64(q);
	}
	uint64_t *ctr[9] = { &e->queries, &e->udp, &e->tcp, &e->dnssec_ok,
	                     &e->case_mixed, &e->served, &e->nodata,
	                     &e->nxdomain, &e->early };
	for (int k = 0; k < 9; k++, q += 8) {
		*ctr[k] = az_get_be64(q);
	}
	e->sources = az_get_be32(q);
	e->flags = q[4];
	e->nsrc = q[5];
	q += 6;
	if (e->nsrc > AZ_OBS_SOURCES ||
	    len != ENT_FIXED + name_len + (size_t)e->nsrc * SRC_LEN) {
		return corrupt(why, "entry length does not match its addresses");
	}
	for (unsigned k = 0; k < e->nsrc; k++, q += SRC_LEN) {
		e->src[k].family = q[0];
		if (q[0] != 4 && q[0] != 6) {
			return corrupt(why, "source address of an unknown family");
		}
		memcpy(e->src[k].addr, q + 1, 16);
	}
	*used = len;
	return AZ_EOK;
}

int az_obs_decode(const uint8_t *buf, size_t len, az_obs_t *obs,
                  const char **why)
{
	if (buf == NULL || obs == NULL) {
		return AZ_EINVAL;
	}
	memset(obs, 0, sizeof(*obs));
	if (len < AZ_OBS_HDRLEN + SUM_LEN) {
		return corrupt(why, len >= 8 && memcmp(buf, AZ_OBS_MAGIC, 8) == 0 ?
		               "truncated" : "not an observation file");
	}
	if (memcmp(buf, AZ_OBS_MAGIC, 8) != 0) {
		return corrupt(why, "not an observation file (bad magic)");
	}
	if (az_get_be32(buf + 8) != AZ_OBS_VERSION) {
		return corrupt(why, "unknown version (written by a newer acmezone?)");
	}
	size_t body = len - SUM_LEN;
	if (az_get_be32(buf + body) != az_crc32c(0, buf, body)) {
		return corrupt(why, "checksum mismatch (truncated or damaged)");
	}
	size_t count = az_get_be32(buf + 12);
	/* Each entry takes at least ENT_FIXED + 1 octets: a count that
	 * cannot fit is refused before allocating for it. */
	if (count > (body - AZ_OBS_HDRLEN) / (ENT_FIXED + 1)) {
		return corrupt(why, "entry count larger than the file");
	}
	obs->written_ms = get_i64(buf + 16);
	obs->since_ms = get_i64(buf + 24);
	obs->pid = az_get_be32(buf + 32);
	obs->slots = az_get_be32(buf + 36);
	obs->used = az_get_be32(buf + 40);
	obs->unobserved = az_get_be64(buf + 48);
	obs->misses_lost = az_get_be64(buf + 56);
	obs->names = calloc(count > 0 ? count : 1, sizeof(*obs->names));
	if (obs->names == NULL) {
		return AZ_ENOMEM;
	}
	size_t off = AZ_OBS_HDRLEN;
	for (size_t i = 0; i < count; i++) {
		size_t used = 0;
		int ret = decode_entry(buf + off, body - off, &obs->names[i], &used,
		                       why);
		if (ret != AZ_EOK) {
			az_obs_free(obs);
			return ret;
		}
		off += used;
		obs->count = i + 1;
	}
	if (off != body) {
		az_obs_free(obs);
		return corrupt(why, "trailing octets after the last entry");
	}
	return AZ_EOK;
}

int az_obs_read(const char *path, az_obs_t *obs, const char **why)
{
	if (path == NULL || obs == NULL) {
		return AZ_EINVAL;
	}
	memset(obs, 0, sizeof(*obs));
	uint8_t *buf = NULL;
	int ret = AZ_EOK;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		return sys_fail();
	}
	if (fstat(fd, &sb) != 0) {
		ret = sys_fail();
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > AZ_OBS_MAXFILE) {
		ret = corrupt(why, S_ISREG(sb.st_mode) ? "larger than any observation file" :
		              "not a regular file");
		goto out;
	}
	size_t size = (size_t)sb.st_size;
	buf = malloc(size > 0 ? size : 1);
	if (buf == NULL) {
		ret = AZ_ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			ret = sys_fail();
			goto out;
		}
		if (r == 0) {
			break;		/* shorter than fstat said: decode sees it */
		}
		got += (size_t)r;
	}
	ret = az_obs_decode(buf, got, obs, why);
out:
	free(buf);
	close(fd);
	return ret;
}

void az_obs_free(az_obs_t *obs)
{
	if (obs != NULL) {
		free(obs->names);
		memset(obs, 0, sizeof(*obs));
	}
}

const az_obs_name_t *az_obs_find(const az_obs_t *obs, const uint8_t *name,
                                 size_t name_len)
{
	for (size_t i = 0; obs != NULL && i < obs->count; i++) {
		const az_obs_name_t *e = &obs->names[i];
		if (e->name_len == name_len && memcmp(e->name, name, name_len) == 0) {
			return e;
		}
	}
	return NULL;
}

bool az_obs_looked(const az_obs_name_t *e, int64_t pub_ms)
{
	return e != NULL && e->queries > 0 &&
	       (pub_ms == 0 || e->pub_ms == 0 || e->pub_ms >= pub_ms);
}
