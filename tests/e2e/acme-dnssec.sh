#!/bin/bash
# acme-dnssec.sh -- tests/e2e/acme.sh with both zones signed and unbound validating, certbot only.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# knotd signs the customer zone example.test itself ('dnssec-signing: on')
# and the challenge zone challenges.test on the fly, mod-onlinesign after
# mod-acmezone as doc/dnssec.md configures it; unbound, pebble's resolver,
# validates both with their DS (from keymgr) as trust anchors.  certbot
# gets one certificate for example.test, *.example.test and
# www.example.test, and each auth hook call is followed by an A query at
# the challenge name through unbound (issue 12: that query used to make
# unbound deny the TXT from the NSEC it got).

ACME_DNSSEC=yes
ACME_CLIENTS=${ACME_CLIENTS:-certbot}
export ACME_DNSSEC ACME_CLIENTS
exec bash "$top_srcdir/tests/e2e/acme.sh"
