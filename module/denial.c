/* denial.c -- DNSSEC: the signing setups whose answers validate, checked at load. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "denial.h"

/* knotd's own configuration items, read through the module API. */
#define ZONE_SIGNING	"\x0e""dnssec-signing"
#define ZONE_MODULE	"\x06""module"
#define SIGN_SECTION	"\x0e""mod-onlinesign"
#define SIGN_BITMAP	"\x0b""nsec-bitmap"

#define SELF_NAME	"mod-acmezone"
#define SIGN_NAME	"mod-onlinesign"

/* One entry of a zone's 'module' list: "mod-NAME" or "mod-NAME/ID". */
typedef struct {
	const uint8_t *name;	/* not terminated */
	size_t name_len;
	const uint8_t *id;	/* the raw id (a string with its NUL), or NULL */
	size_t id_len;
} mod_ref_t;

/*
 * knotd stores a reference as u8 name length, the name, then the id as a
 * NUL-terminated string when there is one (conf/tools.c, mod_id_to_bin).
 * \return false if the bytes are not that.
 */
static bool ref_parse(const uint8_t *data, size_t len, mod_ref_t *ref)
{
	if (data == NULL || len < 1 || (size_t)data[0] + 1 > len) {
		return false;
	}
	ref->name = data + 1;
	ref->name_len = data[0];
	ref->id = NULL;
	ref->id_len = len - 1 - data[0];
	if (ref->id_len > 0) {
		ref->id = data + 1 + data[0];
	}
	return true;
}

static bool ref_is(const mod_ref_t *ref, const char *name)
{
	size_t n = strlen(name);
	return ref->name_len == n && memcmp(ref->name, name, n) == 0;
}

/* The id of ref for a log line ("" for none, "/ID" otherwise). */
static void ref_id_text(const mod_ref_t *ref, char *out, size_t size)
{
	out[0] = '\0';
	if (ref->id == NULL || size < 3) {
		return;
	}
	size_t n = strnlen((const char *)ref->id, ref->id_len);
	if (n > size - 2) {
		n = size - 2;
	}
	out[0] = '/';
	memcpy(out + 1, ref->id, n);
	out[1 + n] = '\0';
}

/*
 * Does the mod-onlinesign configuration ref force TXT into its NSEC type
 * bitmaps?  Without an id it runs on its defaults (A and AAAA): no.
 */
static bool bitmap_has_txt(knotd_mod_t *mod, const mod_ref_t *ref)
{
	if (ref->id == NULL) {
		return false;
	}
	knotd_conf_t id = { .single = { .data = ref->id, .data_len = ref->id_len } };
	knotd_conf_t types = knotd_conf(mod, (const yp_name_t *)SIGN_SECTION,
	                                (const yp_name_t *)SIGN_BITMAP, &id);
	bool found = false;
	for (size_t i = 0; i < types.count && types.multi != NULL; i++) {
		uint16_t type = 0;
		if (types.multi[i].string != NULL &&
		    knot_rrtype_from_string(types.multi[i].string, &type) == 0 &&
		    type == KNOT_RRTYPE_TXT) {
			found = true;
		}
	}
	knotd_conf_free(&types);
	return found;
}

int denial_check(knotd_mod_t *mod)
{
	const knot_dname_t *zone = knotd_mod_zone(mod);
	knotd_conf_t conf = knotd_conf_zone(mod, (const yp_name_t *)ZONE_SIGNING, zone);
	if (conf.single.boolean) {
		knotd_mod_log(mod, LOG_ERR, "not loaded: the zone is signed by knotd "
		              "('dnssec-signing: on'), whose NSEC chain would deny "
		              "every challenge name; sign it with mod-onlinesign "
		              "after mod-acmezone instead (doc/dnssec.md)");
		return KNOT_ENOTSUP;
	}

	/* The zone's modules in their order (templates resolved by knotd):
	 * where mod-onlinesign is, relative to the first mod-acmezone. */
	conf = knotd_conf_zone(mod, (const yp_name_t *)ZONE_MODULE, zone);
	int ret = KNOT_EOK;
	bool self_seen = false;
	for (size_t i = 0; i < conf.count && conf.multi != NULL; i++) {
		mod_ref_t ref;
		if (!ref_parse(conf.multi[i].data, conf.multi[i].data_len, &ref)) {
			continue;
		}
		if (ref_is(&ref, SELF_NAME)) {
			self_seen = true;
			continue;
		}
		if (!ref_is(&ref, SIGN_NAME)) {
			continue;
		}
		char id[64];
		ref_id_text(&ref, id, sizeof(id));
		if (!self_seen) {
			knotd_mod_log(mod, LOG_ERR, "not loaded: mod-onlinesign%s "
			              "comes before mod-acmezone in the zone's module "
			              "list, so it would sign the answers before the "
			              "module has put its TXT into them; list it after "
			              "(doc/dnssec.md)", id);
			ret = KNOT_ENOTSUP;
		} else if (!bitmap_has_txt(mod, &ref)) {
			knotd_mod_log(mod, LOG_ERR, "not loaded: mod-onlinesign%s does "
			              "not list TXT in 'nsec-bitmap'%s: its NSEC for an "
			              "A query at a challenge name would deny the TXT to "
			              "validating resolvers; give it 'nsec-bitmap: "
			              "[A, AAAA, TXT]' (doc/dnssec.md)", id,
			              ref.id == NULL ? " (it has no configuration id)" : "");
			ret = KNOT_ENOTSUP;
		} else {
			knotd_mod_log(mod, LOG_INFO, "signed on the fly by "
			              "mod-onlinesign%s, NSEC type bitmaps list TXT", id);
		}
		break;
	}
	knotd_conf_free(&conf);
	return ret;
}
