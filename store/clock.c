/* clock.c -- the one monotonic clock of the store, the module, the driver and the CLI. */
/* SPDX-License-Identifier: MIT */

#include <time.h>

#include "store.h"

int64_t az_mono_us(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t az_mono_ms(void)
{
	return az_mono_us() / 1000;
}
