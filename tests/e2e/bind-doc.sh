#!/bin/bash
# bind-doc.sh -- doc/bind.md followed as written: its init command, its dlz statement and its cname step, then certbot gets a certificate through named (as user bind) and pebble.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/e2e/acme.sh with ACME_DOC=bind reads the steps from the page
# itself, so that the page cannot drift from what works:
#   1. '# acmezone init --group bind --zone Z' (the store, with ACMEZONE_DB
#      pointing into the test directory);
#   2. the 'dlz "acmezone" { ... };' statement, verbatim but for the paths
#      of the driver and the store, in named's config; named runs as bind;
#   3. '# acmezone cname www.D': the records go into the customer zone D,
#      served by the same named;
#   4. certbot with 'acmezone hook certbot' as auth and cleanup hooks gets
#      a certificate for D, *.D and www.D from pebble, which validates
#      through unbound (stub zones to named), following the CNAMEs.

ACME_SERVER=named
ACME_CLIENTS=certbot
ACME_DOC=bind
export ACME_SERVER ACME_CLIENTS ACME_DOC
exec bash "$top_srcdir/tests/e2e/acme.sh"
