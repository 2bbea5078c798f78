#!/bin/sh
# spdx.sh -- every source file carries its SPDX-License-Identifier line; scripts/spdx.sh finds and adds them right.
# SPDX-License-Identifier: GPL-2.0-or-later
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/tap.sh"
spdx="$top_srcdir/scripts/spdx.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The tree itself.
out=$("$spdx" --check 2>&1)
ok $? "every source file in the tree has the right SPDX-License-Identifier line"
[ -z "$out" ] || diag "$out"

# A small tree with one file of each comment form, none with the line yet.
t="$tmp/tree"
mkdir -p "$t/store" "$t/module" "$t/tools" "$t/doc" "$t/bind" "$t/scripts"
printf '/* a.c -- a store file. */\n\nint a(void) { return 0; }\n' >"$t/store/a.c"
printf '/*\n * b.h -- a module header whose comment goes on.\n */\n\nint b(void);\n' >"$t/module/b.h"
printf '#!/bin/sh\n# c.sh -- a CLI script.\necho c\n' >"$t/tools/c.sh"
printf '.\\" d.1 -- a man page.\n.TH D 1\n.SH NAME\nd\n' >"$t/doc/d.1"
printf '.. e.rst -- a module page.\n\nTitle\n=====\n' >"$t/doc/e.rst"
printf '<!-- f.md -- a doc page. -->\n\n# F\n' >"$t/doc/f.md"
printf '; g.zone -- a zone file.\n@ 10 IN SOA a. b. 1 2 3 4 5\n' >"$t/doc/g.zone"
printf '// h.conf.example -- a named.conf.\noptions { };\n' >"$t/h.conf.example"
printf '# configure.ac -- autoconf.\nAC_INIT([x], [1])\n' >"$t/configure.ac"
printf '#!/bin/sh\n# run -- a script without an extension.\nexit 0\n' >"$t/scripts/run"
printf 'int main(void) { return 0; }\n' >"$t/module/nocomment.c"
printf 'plain text, not a source file\n' >"$t/README"
printf '/* w.c -- a store file under the wrong licence. */\n/* SPDX-License-Identifier: GPL-2.0-or-later */\n' >"$t/store/w.c"
chmod +x "$t/tools/c.sh" "$t/scripts/run"
cp -R "$t" "$tmp/orig"
nsrc=11

out=$("$spdx" --check -C "$t" 2>/dev/null)
ok $((! $?)) "--check fails on files without the line"
is "$(printf '%s\n' "$out" | grep -c 'no SPDX-License-Identifier line')" "$nsrc" \
	"--check lists each of the $nsrc source files without it"
like "$out" "store/w.c: SPDX-License-Identifier is GPL-2.0-or-later, not MIT" \
	"--check names a file under another licence than its directory's"
printf '%s\n' "$out" | grep -q README
ok $((! $?)) "--check leaves a plain text file alone"

"$spdx" --add -C "$t" >/dev/null 2>&1
ok $((! $?)) "--add exits 1 while a file has the wrong licence (left for a person)"
rm "$t/store/w.c" "$tmp/orig/store/w.c"
"$spdx" --check -C "$t" >/dev/null 2>&1
ok $? "--check passes after --add"

line() { sed -n "$2p" "$t/$1"; }
is "$(line store/a.c 2)" "/* SPDX-License-Identifier: MIT */" "C: after the purpose line, MIT under store/"
is "$(line module/b.h 2)" " * SPDX-License-Identifier: GPL-2.0-or-later" "C: inside a comment that goes on, GPL under module/"
is "$(line tools/c.sh 3)" "# SPDX-License-Identifier: MIT" "shell: after the shebang and the purpose line"
is "$(line doc/d.1 2)" '.\" SPDX-License-Identifier: GPL-2.0-or-later' "man page: a roff comment"
is "$(line doc/e.rst 2)" "   SPDX-License-Identifier: GPL-2.0-or-later" "reST: continues the first comment"
is "$(line doc/f.md 2)" "<!-- SPDX-License-Identifier: GPL-2.0-or-later -->" "Markdown: an HTML comment"
is "$(line doc/g.zone 2)" "; SPDX-License-Identifier: GPL-2.0-or-later" "zone file: a ';' comment"
is "$(line h.conf.example 2)" "// SPDX-License-Identifier: GPL-2.0-or-later" "named.conf: a '//' comment"
is "$(line configure.ac 2)" "# SPDX-License-Identifier: GPL-2.0-or-later" "configure.ac: a '#' comment"
is "$(line scripts/run 3)" "# SPDX-License-Identifier: GPL-2.0-or-later" "a script found by its shebang"
is "$(line module/nocomment.c 1)" "/* SPDX-License-Identifier: GPL-2.0-or-later */" "no comment on line 1: a new first line"
test -x "$t/tools/c.sh" && test -x "$t/scripts/run"
ok $? "scripts stay executable"
same=0
for f in $(cd "$tmp/orig" && find . -type f); do
	grep -v 'SPDX-License-Identifier' "$t/$f" | cmp -s - "$tmp/orig/$f" || { same=1; diag "$f changed"; }
done
ok $same "nothing but the SPDX line changed in any file"
"${CC:-cc}" -fsyntax-only "$t/store/a.c" "$t/module/b.h" "$t/module/nocomment.c" 2>&1 | sed 's/^/# /'
ok $? "the C files still compile"
sh -n "$t/tools/c.sh"
ok $? "the shell script still parses"
cp -R "$t" "$tmp/after"
"$spdx" --add -C "$t" >/dev/null 2>&1
diff -r "$t" "$tmp/after" >/dev/null
ok $? "--add a second time changes nothing"
done_testing
