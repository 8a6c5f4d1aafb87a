#!/bin/sh
# A library must not depend on the given libraries, directly or through another.
#
#   needed.sh LIBRARY PATTERN...
#
# Lists what the dynamic loader resolves for LIBRARY (ldd, which follows every DT_NEEDED entry
# down) and fails naming each dependency whose file name starts with one of the PATTERNs
# (libvulkan, libxml2, ...).
set -eu
[ $# -ge 2 ] || { echo "usage: needed.sh LIBRARY PATTERN..." >&2; exit 2; }
lib=$1
shift
[ -f "$lib" ] || { echo "$lib: no such library" >&2; exit 1; }
deps=$(ldd "$lib" | awk '{ print $1 }' | sed 's|.*/||')
[ -n "$deps" ] || { echo "$lib: ldd lists nothing" >&2; exit 1; }
echo "$(basename "$lib") needs:" $deps
bad=0
for dep in $deps; do
    for pattern in "$@"; do
        case "$dep" in
            "$pattern"*) echo "$(basename "$lib") depends on $dep"; bad=1 ;;
        esac
    done
done
exit $bad
