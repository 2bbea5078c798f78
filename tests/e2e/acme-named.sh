#!/bin/bash
# acme-named.sh -- tests/e2e/acme.sh with named and dlz_acmezone.so in knotd's place, certbot only.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# named serves the challenge zone challenges.test through the DLZ driver
# and the customer zone example.test (with the _acme-challenge CNAMEs) from
# a zone file; unbound stubs to it, pebble validates through unbound, and
# certbot gets one certificate for example.test, *.example.test and
# www.example.test through 'acmezone hook certbot'.  lego and dehydrated
# run in tests/e2e/acme.sh against knotd; ACME_CLIENTS="certbot lego
# dehydrated" runs them here too.

ACME_SERVER=named
ACME_CLIENTS=${ACME_CLIENTS:-certbot}
export ACME_SERVER ACME_CLIENTS
exec bash "$top_srcdir/tests/e2e/acme.sh"
