/* denial.h -- DNSSEC: the signing setups whose answers validate, checked at load. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

#include <knot/module.h>

/*!
 * Decide at load whether the zone's DNSSEC setup lets the module's answers
 * validate (doc/dnssec.md has the why):
 *
 * - unsigned zone (no 'dnssec-signing', no mod-onlinesign): fine;
 * - 'dnssec-signing: on': refused.  knotd's NSEC/NSEC3 chain is built
 *   from the zone file and denies every name the module serves;
 * - mod-onlinesign listed before mod-acmezone: refused (it signs the
 *   answer section before the module has put its TXT there);
 * - mod-onlinesign after mod-acmezone: fine only if its 'nsec-bitmap'
 *   lists TXT.  Its NSEC for a NODATA answer at a module name is made
 *   from the zone file (which lacks the name) plus that list minus the
 *   QTYPE; without TXT there, an A query at a challenge name yields a
 *   signed proof that the TXT does not exist, and a validating resolver
 *   with aggressive NSEC (RFC 8198) then denies the TXT from its cache.
 *
 * Every refusal is one error line in knotd's log.  Reads the configuration
 * only (no I/O, no state): call from load(), before anything is allocated.
 * \return KNOT_EOK, or KNOT_ENOTSUP (logged) for a setup that is refused.
 */
int denial_check(knotd_mod_t *mod);
