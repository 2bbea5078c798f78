/* ent.h -- the empty non-terminals of one store snapshot (NODATA, not NXDOMAIN). */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Store keys are wire names, which do not sort by hierarchy: the names
 * below "foo.acme.example.net" are scattered across the key space, so
 * "does anything live below this name?" cannot be a range probe.  Instead
 * an ent_t maps every proper ancestor of every stored name to the latest
 * expiry of the values below it; a name is an empty non-terminal while
 * that expiry is in the future.  It is built from one snapshot in one pass
 * and never changes afterwards (callers rebuild it when the store moves on).
 */
typedef struct ent ent_t;

/*!
 * Build the map from the snapshot rd.  Records that do not decode are
 * skipped and counted in *corrupt (optional).
 * \return AZ_EOK, AZ_ENOMEM, or a store error from the walk.
 */
int ent_build(az_reader_t *rd, ent_t **out, unsigned *corrupt);

void ent_free(ent_t *ent);

/*!
 * The latest expiry of any value stored strictly below name (a lower-case
 * wire name of len octets), or INT64_MIN if there is none.
 */
int64_t ent_until(const ent_t *ent, const uint8_t *name, size_t len);

/*! Number of distinct ancestor names held (for tests and logs). */
size_t ent_count(const ent_t *ent);
