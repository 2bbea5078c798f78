#!/bin/bash
# links.sh -- the docs point at what exists: every relative link and file path in README and doc/*.md resolves, and doc/design.md's file table lists every source file.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"

cd "$top_srcdir" || bail "no source tree at '$top_srcdir'"
docs=(README doc/*.md doc/clients/*.md)

# Markdown links [text](target) that are not URLs or in-page anchors: the
# target, without its #fragment, relative to the page.
for f in "${docs[@]}"; do
	[ -f "$f" ] || continue
	bad=()
	while IFS= read -r t; do
		case $t in
		http://* | https://* | mailto:* | '#'* | '') continue ;;
		esac
		p=${t%%#*}
		[ -e "$(dirname "$f")/$p" ] || bad+=("$t")
	done < <(grep -oE '\]\([^) ]+\)' "$f" | sed 's/^](//; s/)$//')
	is "${bad[*]}" "" "$f: every relative link resolves"
done

# Paths into the source tree named in the text ('store/label.c',
# `tests/e2e/acme.sh`, 'doc/bind.md'): each exists.  Placeholders in
# capitals (TARGET, PATH) and globs are not paths.
dirs='store|module|bind|tools|cli|tests|doc|scripts|bench|\.ci'
for f in "${docs[@]}"; do
	[ -f "$f" ] || continue
	bad=()
	while IFS= read -r p; do
		case $p in
		*[A-Z][A-Z]* | *'*'* | *'{'*) continue ;;
		esac
		p=${p%.}
		p=${p%,}
		[ -e "$p" ] || bad+=("$p")
	done < <(grep -oE "(^|[^A-Za-z0-9_./~-])($dirs)/[A-Za-z0-9_./-]*" "$f" |
		sed -E 's/^[^A-Za-z.]//' | sort -u)
	is "${bad[*]}" "" "$f: every file it names exists"
done

# doc/design.md's file table: a row per folder (its first cell names it,
# 'store/'), each source file of the folder in it by name.
table=$(grep '^|' doc/design.md)
missing=()
while IFS= read -r src; do
	d=${src%/*}
	b=${src##*/}
	row=$(printf '%s\n' "$table" | grep -E "^\\| *\`?$d/?\`? *\\|")
	printf '%s\n' "$row" | grep -qF -e "\`$b\`" -e "\`$src\`" || missing+=("$src")
done < <(find store module bind cli tools -name '*.[ch]' 2>/dev/null | sort)
is "${missing[*]}" "" "doc/design.md's file table lists every .c and .h of store/ module/ bind/ cli/ tools/"

done_testing
