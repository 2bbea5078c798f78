/* knotd-standin.h -- the knotd side of the module API, just enough of it, for test_hook and fuzz_hook. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * knotd hands a module these functions; a test that loads or links the
 * module instead provides them here.  Symbols are exported so that a
 * dlopened acmezone.so (test_hook, linked -export-dynamic) resolves
 * against them as it would against knotd.  One module instance: 'mod'.
 * Log lines are kept in a buffer (standin_logged()), counters in mod.
 */

#pragma once

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <knot/module.h>

#define EXPORT __attribute__((visibility("default")))

#define MAX_CTRS 16

struct knotd_mod {
	void *ctx;
	knotd_mod_in_hook_f hook;
	const char *db;
	int64_t ttl;
	const char *ctr_names[MAX_CTRS];
	uint64_t ctrs[MAX_CTRS];
	unsigned nctrs;
	/* The zone's configuration, for denial_check(): 'dnssec-signing',
	 * the 'module' list as knotd stores it (u8 name length, name, then
	 * the id and its NUL if there is one), and the 'nsec-bitmap' every
	 * mod-onlinesign configuration has. */
	bool signing;
	const char *modules[4];		/* "mod-NAME" or "mod-NAME/ID" */
	const char *bitmap[4];
};

static struct knotd_mod mod;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char logbuf[16384];

/*
 * These definitions must match the prototypes of the <knot/module.h> they
 * are compiled with.  Knot 3.4 (module ABI 600) made the getters take a
 * const module; 3.2 (400) and 3.3 (500) did not.
 */
#if KNOTD_MOD_ABI_VERSION >= 600
#define STANDIN_GETTER_MOD const knotd_mod_t
#else
#define STANDIN_GETTER_MOD knotd_mod_t
#endif

EXPORT void *knotd_mod_ctx(STANDIN_GETTER_MOD *mod) { return mod->ctx; }
EXPORT void knotd_mod_ctx_set(knotd_mod_t *mod, void *ctx) { mod->ctx = ctx; }

EXPORT void knotd_mod_vlog(knotd_mod_t *mod, int priority, const char *fmt, va_list args)
{
	(void)mod;
	(void)priority;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, args);
	pthread_mutex_lock(&log_lock);
	if (strlen(logbuf) + strlen(msg) + 2 < sizeof(logbuf)) {
		strcat(logbuf, msg);
		strcat(logbuf, "\n");
	}
	pthread_mutex_unlock(&log_lock);
}

EXPORT void knotd_mod_log(knotd_mod_t *mod, int priority, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	knotd_mod_vlog(mod, priority, fmt, ap);
	va_end(ap);
}

EXPORT int knotd_mod_stats_add(knotd_mod_t *mod, const char *name, uint32_t idx_count,
                        knotd_mod_idx_to_str_f idx_to_str)
{
	(void)idx_to_str;
	if (idx_count != 1 || mod->nctrs >= MAX_CTRS) {
		return KNOT_EINVAL;
	}
	mod->ctr_names[mod->nctrs++] = name;
	return KNOT_EOK;
}

EXPORT void knotd_mod_stats_incr(knotd_mod_t *mod, unsigned thr, uint32_t ctr, uint32_t idx, uint64_t val)
{
	(void)thr;
	(void)idx;
	__atomic_add_fetch(&mod->ctrs[ctr], val, __ATOMIC_RELAXED);
}

EXPORT void knotd_mod_stats_store(knotd_mod_t *mod, unsigned thr, uint32_t ctr, uint32_t idx, uint64_t val)
{
	(void)thr;
	(void)idx;
	__atomic_store_n(&mod->ctrs[ctr], val, __ATOMIC_RELAXED);
}

EXPORT knotd_conf_t knotd_conf_mod(knotd_mod_t *mod, const yp_name_t *item)
{
	knotd_conf_t out;
	memset(&out, 0, sizeof(out));
	/* yp_name_t: a length octet, then the name. */
	if (item[0] == 8 && memcmp(item, "\x08""database", 9) == 0) {
		out.single.string = mod->db;
		out.count = 1;
	} else if (item[0] == 3 && memcmp(item, "\x03""ttl", 4) == 0) {
		out.single.integer = mod->ttl;
		out.count = 1;
	}
	return out;
}

EXPORT const knot_dname_t *knotd_mod_zone(STANDIN_GETTER_MOD *mod)
{
	(void)mod;
	return (const knot_dname_t *)"\x09""acme-test";
}

/* knotd_conf_t values live until knotd_conf_free(): a few static slots. */
static knotd_conf_val_t standin_vals[8];
static uint8_t standin_refs[4][64];

EXPORT knotd_conf_t knotd_conf_zone(knotd_mod_t *mod, const yp_name_t *item,
                                    const knot_dname_t *zone)
{
	(void)zone;
	knotd_conf_t out;
	memset(&out, 0, sizeof(out));
	/* yp_name_t: a length octet, then the name: compare the length
	 * first, never past the shorter name. */
	if (item[0] == 14 && memcmp(item + 1, "dnssec-signing", 14) == 0) {
		out.single.boolean = mod->signing;
		out.count = 1;
	} else if (item[0] == 6 && memcmp(item + 1, "module", 6) == 0) {
		out.multi = standin_vals;
		for (size_t i = 0; i < 4 && mod->modules[i] != NULL; i++) {
			const char *m = mod->modules[i], *slash = strchr(m, '/');
			size_t n = slash ? (size_t)(slash - m) : strlen(m);
			uint8_t *r = standin_refs[i];
			r[0] = (uint8_t)n;
			memcpy(r + 1, m, n);
			size_t len = 1 + n;
			if (slash != NULL) {
				memcpy(r + len, slash + 1, strlen(slash + 1) + 1);
				len += strlen(slash + 1) + 1;
			}
			standin_vals[i].data = r;
			standin_vals[i].data_len = len;
			out.count = i + 1;
		}
	}
	return out;
}

EXPORT knotd_conf_t knotd_conf(knotd_mod_t *mod, const yp_name_t *section,
                               const yp_name_t *item, const knotd_conf_t *id)
{
	(void)section;
	(void)item;
	(void)id;
	knotd_conf_t out;
	memset(&out, 0, sizeof(out));
	out.multi = standin_vals + 4;
	for (size_t i = 0; i < 4 && mod->bitmap[i] != NULL; i++) {
		standin_vals[4 + i].string = mod->bitmap[i];
		out.count = i + 1;
	}
	return out;
}

EXPORT void knotd_conf_free(knotd_conf_t *conf)
{
	memset(conf, 0, sizeof(*conf));
}

EXPORT knotd_conf_t knotd_conf_check_item(knotd_conf_check_args_t *args, const yp_name_t *item)
{
	(void)args;
	(void)item;
	knotd_conf_t out;
	memset(&out, 0, sizeof(out));
	return out;
}

EXPORT int knotd_mod_in_hook(knotd_mod_t *mod, knotd_stage_t stage, knotd_mod_in_hook_f hook)
{
	if (stage != KNOTD_STAGE_ANSWER) {
		return KNOT_EINVAL;
	}
	mod->hook = hook;
	return KNOT_EOK;
}

/* Counter 'name' of mod, (uint64_t)-1 if the module registered none. */
static inline uint64_t standin_ctr(const char *name)
{
	for (unsigned i = 0; i < mod.nctrs; i++) {
		if (strcmp(mod.ctr_names[i], name) == 0) {
			return __atomic_load_n(&mod.ctrs[i], __ATOMIC_RELAXED);
		}
	}
	return (uint64_t)-1;
}

/* Has the module logged needle? */
static inline bool standin_logged(const char *needle)
{
	pthread_mutex_lock(&log_lock);
	bool found = strstr(logbuf, needle) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}
