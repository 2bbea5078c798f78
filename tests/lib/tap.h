/* tap.h -- a small TAP producer for the C unit tests (one header, no library). */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void tap_plan(int n)
{
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline int tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_count++;
	if (!cond) {
		tap_failed++;
	}
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline int tap_ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = tap_vok(cond, fmt, ap);
	va_end(ap);
	return ret;
}

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static inline void tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

/* Compare integers and show both sides on failure. */
#define tap_is(got, want, ...) do { \
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
	if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__)) { \
		tap_diag("  got %lld, want %lld", tap_g_, tap_w_); \
	} \
} while (0)

/* Compare strings and show both sides on failure. */
#define tap_str(got, want, ...) do { \
	const char *tap_g_ = (got), *tap_w_ = (want); \
	int tap_c_ = tap_g_ != NULL && tap_w_ != NULL && strcmp(tap_g_, tap_w_) == 0; \
	if (!tap_ok(tap_c_, __VA_ARGS__)) { \
		tap_diag("  got '%s', want '%s'", tap_g_ ? tap_g_ : "(null)", \
		         tap_w_ ? tap_w_ : "(null)"); \
	} \
} while (0)

/* Plan-at-end form: call once after the last test. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed == 0 ? 0 : 1;
}
