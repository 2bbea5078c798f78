/* test_observe.c -- the observation file: round trip, atomic write, every kind of damage refused. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "observe.h"
#include "tap.h"

/* Two entries: one with exact sources, one with an estimate. */
static void sample(az_obs_t *obs, az_obs_name_t names[2])
{
	memset(obs, 0, sizeof(*obs));
	memset(names, 0, 2 * sizeof(*names));
	size_t len = 0;
	const char *why = NULL;
	az_name_parse("example-org.acme.example.net", names[0].name, &len, &why);
	names[0].name_len = len;
	names[0].pub_ms = 1796480253430;
	names[0].first_ms = 1796480253525;
	names[0].last_ms = 1796480254767;
	names[0].queries = 7;
	names[0].udp = 5;
	names[0].tcp = 2;
	names[0].dnssec_ok = 2;
	names[0].case_mixed = 3;
	names[0].served = 6;
	names[0].nodata = 1;
	names[0].early = 2;
	names[0].early_first_ms = 1796480250000;
	names[0].early_last_ms = 1796480251000;
	names[0].sources = 2;
	names[0].nsrc = 2;
	names[0].src[0].family = 4;
	memcpy(names[0].src[0].addr, "\x7f\x00\x00\x02", 4);
	names[0].src[1].family = 6;
	names[0].src[1].addr[15] = 1;
	az_name_parse("b.acme.example.net", names[1].name, &len, &why);
	names[1].name_len = len;
	names[1].queries = 1000;
	names[1].udp = 1000;
	names[1].served = 1000;
	names[1].sources = 300;
	names[1].flags = AZ_OBS_ESTIMATED;
	names[1].nsrc = AZ_OBS_SOURCES;
	for (unsigned i = 0; i < AZ_OBS_SOURCES; i++) {
		names[1].src[i].family = 4;
		names[1].src[i].addr[0] = 10;
		names[1].src[i].addr[3] = (uint8_t)i;
	}
	obs->written_ms = 1796480255000;
	obs->since_ms = 1796480000000;
	obs->pid = 4242;
	obs->slots = 4096;
	obs->used = 2;
	obs->unobserved = 17;
	obs->misses_lost = 3;
	obs->count = 2;
	obs->names = names;
}

static uint8_t *encode(const az_obs_t *obs, size_t *len)
{
	*len = az_obs_size(obs);
	uint8_t *buf = malloc(*len);
	if (buf != NULL && az_obs_encode(obs, buf, *len) != *len) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		return -1;
	}
	ssize_t w = write(fd, buf, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

int main(void)
{
	az_obs_name_t names[2];
	az_obs_t obs, got;
	const char *why = NULL;
	size_t len;
	sample(&obs, names);
	uint8_t *buf = encode(&obs, &len);
	tap_ok(buf != NULL, "encode a file of two entries (%zu octets)", len);
	if (buf == NULL) {
		return tap_done();
	}

	/* Round trip. */
	tap_is(az_obs_decode(buf, len, &got, &why), AZ_EOK, "decode it");
	tap_is(got.count, 2, "two entries back");
	tap_ok(got.written_ms == obs.written_ms && got.since_ms == obs.since_ms &&
	       got.pid == 4242 && got.slots == 4096 && got.used == 2 &&
	       got.unobserved == 17 && got.misses_lost == 3, "the header back");
	tap_ok(got.count == 2 && memcmp(&got.names[0], &names[0], sizeof(names[0])) == 0,
	       "the first entry back, field for field");
	tap_ok(got.count == 2 && memcmp(&got.names[1], &names[1], sizeof(names[1])) == 0,
	       "the second (estimated sources, 16 addresses) back");
	const az_obs_name_t *e = az_obs_find(&got, names[1].name, names[1].name_len);
	tap_ok(e == &got.names[1], "find an entry by its wire name");
	tap_ok(az_obs_find(&got, (const uint8_t *)"\1x\0", 3) == NULL,
	       "an absent name is not found");
	tap_ok(az_obs_looked(&got.names[0], names[0].pub_ms),
	       "looked at since its publication");
	tap_ok(!az_obs_looked(&got.names[0], names[0].pub_ms + 1),
	       "not for a later publication");
	az_obs_free(&got);
	tap_ok(got.names == NULL && got.count == 0, "free zeroes the result");

	/* Every truncation is refused, with a reason. */
	int refused = 0;
	for (size_t cut = 0; cut < len; cut++) {
		why = NULL;
		refused += az_obs_decode(buf, cut, &got, &why) == AZ_ECORRUPT &&
		           why != NULL && got.names == NULL;
		az_obs_free(&got);
	}
	tap_is(refused, (int)len, "each of the %zu truncations is refused with a reason", len);

	/* Every single flipped bit is refused (CRC-32C). */
	int flipped = 0;
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			buf[i] ^= (uint8_t)(1 << b);
			flipped += az_obs_decode(buf, len, &got, &why) == AZ_ECORRUPT;
			az_obs_free(&got);
			buf[i] ^= (uint8_t)(1 << b);
		}
	}
	tap_is(flipped, (int)(len * 8), "each of the %zu one-bit flips is refused", len * 8);

	/* Magic and version, named in the reason. */
	buf[0] = 'X';
	az_obs_decode(buf, len, &got, &why);
	tap_str(why, "not an observation file (bad magic)", "bad magic is named");
	buf[0] = 'A';
	buf[11] = 9;
	az_obs_decode(buf, len, &got, &why);
	tap_ok(why != NULL && strstr(why, "version") != NULL, "another version is named (%s)",
	       why != NULL ? why : "");
	buf[11] = AZ_OBS_VERSION;

	/* Files: atomic write, mode, read back; damage on disk. */
	char dir[] = "/tmp/azobs.XXXXXX";
	tap_ok(mkdtemp(dir) != NULL, "a temporary directory");
	char store[512], path[600];
	snprintf(store, sizeof(store), "%s/s.mdb", dir);
	tap_is(az_obs_mkdir(store, (gid_t)-1), AZ_EOK, "make the observation directory");
	struct stat sb;
	snprintf(path, sizeof(path), "%s/s.mdb-observe", dir);
	tap_ok(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 07777) == 02770,
	       "it is a directory, mode 2770");
	tap_is(az_obs_mkdir(store, (gid_t)-1), AZ_EOK, "an existing one is fine");
	tap_is(az_obs_path(store, path, sizeof(path)), AZ_EOK, "its file's path");
	tap_is(az_obs_read(path, &got, &why), AZ_ENOENT, "no file yet: AZ_ENOENT");
	tap_is(az_obs_write(path, buf, len), AZ_EOK, "write the file");
	tap_ok(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0640, "mode 0640");
	char tmp[700];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	tap_ok(access(tmp, F_OK) != 0, "no temporary left behind");
	tap_is(az_obs_read(path, &got, &why), AZ_EOK, "read it back");
	tap_is(got.count, 2, "with its two entries");
	az_obs_free(&got);

	tap_is(write_file(path, buf, len - 10), 0, "cut the file short on disk");
	why = NULL;
	tap_is(az_obs_read(path, &got, &why), AZ_ECORRUPT, "a truncated file: AZ_ECORRUPT");
	tap_ok(why != NULL && strstr(why, "checksum") != NULL, "reason: %s", why ? why : "");
	tap_is(write_file(path, (const uint8_t *)"", 0), 0, "empty the file");
	tap_is(az_obs_read(path, &got, &why), AZ_ECORRUPT, "an empty file: AZ_ECORRUPT");
	tap_str(why, "not an observation file", "reason: not an observation file");
	unlink(path);
	tap_ok(symlink("/etc/passwd", path) == 0, "a symbolic link in its place");
	tap_is(az_obs_read(path, &got, &why), AZ_EPERM, "is not followed (AZ_EPERM)");
	tap_is(az_obs_write(path, buf, len), AZ_EOK, "a write replaces the link");
	tap_ok(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode), "with a regular file");
	unlink(path);
	snprintf(path, sizeof(path), "%s/s.mdb-observe", dir);
	rmdir(path);
	rmdir(dir);
	free(buf);
	return tap_done();
}
