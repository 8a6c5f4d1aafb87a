#!/bin/sh
# Every dynamic symbol a library exports must be declared PLUME_API in an installed header.
#
#   exports.sh INCLUDE_DIR LIBRARY...
#
# The declared names are read from INCLUDE_DIR/plume/*.h: each `PLUME_API ... name(` line declares
# `name` (every PLUME_API declaration is a function on one line). The exported names are what
# `nm -D --defined-only` lists. Prints each library's count and every undeclared symbol as
# "LIBRARY: SYMBOL is exported but declared in no header of INCLUDE_DIR/plume"; exits 1 if any.
set -eu
[ $# -ge 2 ] || { echo "usage: exports.sh INCLUDE_DIR LIBRARY..." >&2; exit 2; }
include=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for h in "$include"/plume/*.h; do
    sed -n 's/^PLUME_API[^(]*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\) *(.*/\1/p' "$h"
done | sort -u > "$tmp/declared"
n_declared=$(wc -l < "$tmp/declared")
[ "$n_declared" -gt 0 ] || { echo "no PLUME_API declarations found under $include/plume" >&2; exit 1; }
echo "$n_declared functions declared PLUME_API under $include/plume"

bad=0
for lib in "$@"; do
    [ -f "$lib" ] || { echo "$lib: no such library" >&2; exit 1; }
    nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sed 's/@.*//' | sort -u > "$tmp/exported"
    echo "$(basename "$lib"): $(wc -l < "$tmp/exported") exported"
    for sym in $(comm -23 "$tmp/exported" "$tmp/declared"); do
        echo "$(basename "$lib"): $sym is exported but declared in no header of $include/plume"
        bad=1
    done
done
exit $bad
