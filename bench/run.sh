#!/bin/bash
# run.sh -- run the benchmark parts (all, or those named) and print one table of the results.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   bench/run.sh [--quick] [PART...]
#
# PART: throughput callgrind publish bulk sync memory startup fanout (default: all, in
# that order).  Each part is also a script of its own (bench/PART.sh).
# --quick: short development runs (BENCH_QUICK=1).  Settings: see
# bench/lib.sh and bench/README.md.  Progress goes to stderr, the table
# (Markdown) to stdout; the raw rows are kept in bench/results.tsv of the
# build directory.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir

all="throughput callgrind publish bulk sync memory startup fanout"
parts=
for a in "$@"; do
	case $a in
	--quick) export BENCH_QUICK=1 ;;
	-h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*)
		case " $all " in
		*" $a "*) parts="$parts $a" ;;
		*) echo "run.sh: unknown part '$a' (parts: $all)" >&2; exit 2 ;;
		esac
		;;
	esac
done
parts=${parts:-$all}

mkdir -p "$top_builddir/bench"
out="$top_builddir/bench/results.tsv"
: >"$out"
export BENCH_OUT="$out"

start=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
failed=
for p in $parts; do
	echo "# === $p" >&2
	"$here/$p.sh" >/dev/null || failed="$failed $p"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
knot=$(/usr/sbin/knotd -V 2>/dev/null | awk '{ print $NF; exit }')
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took $(( $(date +%s) - start )) s"
echo "Machine: $(nproc) CPUs ($model), $mem, kernel $(uname -r), knotd $knot"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	r=${BENCH_ROUNDS:-1} s=${BENCH_SECONDS:-2}
else
	r=${BENCH_ROUNDS:-7} s=${BENCH_SECONDS:-2}
fi
echo "Settings: rounds=$r, dnsperf seconds per round=$s, quick=${BENCH_QUICK:-0}; dnsperf -c 4 -T 2 -q 100; knotd udp-workers 2"
echo "Load average before: $load_before; after: $load_after"
echo
echo "| Goal | Figure | acmezone | reference | ratio | goal | result |"
echo "|---|---|---|---|---|---|---|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$out"
if [ -n "$failed" ]; then
	echo
	echo "Parts that failed:$failed"
	exit 1
fi
