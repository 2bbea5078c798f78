/* cert.h -- an issued certificate's notAfter, read with GnuTLS. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stddef.h>
#include <stdint.h>

#define CERT_WHY_MAX	160

/*!
 * The notAfter (UNIX seconds) of the first certificate in the file at
 * path (PEM, the leaf of a full chain; or DER).  \return 0 with *not_after
 * set, or -1 with why (a phrase: "cannot open it (No such file...)",
 * "unparsable certificate (...)").
 */
int cert_not_after(const char *path, int64_t *not_after, char why[CERT_WHY_MAX]);
