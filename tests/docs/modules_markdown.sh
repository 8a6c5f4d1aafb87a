#!/bin/sh
# `plume modules --markdown`: the section it writes for a test module whose descriptions hold what
# Markdown treats specially (markdown_plugin.c) equals the one written by hand in markdown_plugin.md;
# the table of contents links to it; and its usage errors and a failed write are reported.
# usage: modules_markdown.sh PLUME PLUGIN_DIR TEST_SOURCE_DIR
set -eu
plume=$1 plugins=$2 here=$3
work=$(mktemp -d /tmp/plume-markdown-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "modules_markdown: $*" >&2; exit 1; }

PLUME_MODULE_PATH=$plugins "$plume" modules --markdown > "$work/all.md" || fail "plume modules --markdown failed"
# the sections of the doc.* stages, without the blank line that separates them from the next stage
awk '/^## `/ { mine = index($0, "## `doc.") == 1 } mine { lines[++n] = $0 }
     END { while (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }' "$work/all.md" > "$work/doc.md"
diff -u "$here/markdown_plugin.md" "$work/doc.md" || fail "the test module's sections differ from markdown_plugin.md (diff above)"
grep -qFx '| [`doc.tricky`](#doctricky) | doc | Counts a\|b pairs. |' "$work/all.md" || fail "no table-of-contents row for doc.tricky"
grep -qFx '| [`doc.bare`](#docbare) | doc | (no description) |' "$work/all.md" || fail "no table-of-contents row for doc.bare"
# the engine's own stages are named by the library's file, without its version
grep -qFx 'Module `engine` 1.0, file `libplume.so`.' "$work/all.md" || fail "io.request is not said to be in libplume.so"
# as many stages as the terminal listing counts
count=$(PLUME_MODULE_PATH=$plugins "$plume" modules | sed -n '1s/ stages.*//p')
[ "$(grep -c '^## `' "$work/all.md")" = "$count" ] || fail "the Markdown has not the $count stages plume modules lists"
grep -q "^The $count stages " "$work/all.md" || fail "the introduction does not count $count stages"

# usage errors: exit 2 and a message on stderr, nothing on stdout
if "$plume" modules --markdown text.join > "$work/out" 2> "$work/err"; then fail "two arguments accepted"; else status=$?; fi
[ $status = 2 ] || fail "two arguments: exit $status, not 2"
[ ! -s "$work/out" ] || fail "two arguments: something was written to stdout"
grep -qF "plume modules: one argument at most (STAGE, FILE.so or --markdown), got 2" "$work/err" || { cat "$work/err" >&2; fail "two arguments: message"; }
if "$plume" modules --markdwn > "$work/out" 2> "$work/err"; then fail "--markdwn accepted"; else status=$?; fi
[ $status = 2 ] || fail "--markdwn: exit $status, not 2"
grep -qF "plume modules: unknown option '--markdwn'; the options are --markdown and --help" "$work/err" || { cat "$work/err" >&2; fail "--markdwn: message"; }
# a write that fails (a full disk) is an error, not a silently short reference
if [ -w /dev/full ]; then
    if "$plume" modules --markdown > /dev/full 2> "$work/err"; then fail "a failed write exited 0"; fi
    grep -qF "plume modules: could not write the Markdown to standard output" "$work/err" || { cat "$work/err" >&2; fail "failed write: message"; }
fi
echo "modules_markdown: ok"
