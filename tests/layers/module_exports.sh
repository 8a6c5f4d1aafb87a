#!/bin/sh
# A module exports its descriptor and nothing else (plume/stage.h: PLUME_MODULE), so two
# modules' helpers can never collide in the process that loads them.
#
#   module_exports.sh MODULE|FOLDER...
#
# A FOLDER stands for every .so in it. Prints "MODULE: exports SYMBOL, not only plume_module_v1"
# for each extra symbol and "MODULE: no plume_module_v1" for a missing descriptor; exits 1 if any.
set -eu
[ $# -ge 1 ] || { echo "usage: module_exports.sh MODULE|FOLDER..." >&2; exit 2; }
bad=0
n=0

check_module() {
    [ -f "$1" ] || { echo "$1: no such module" >&2; exit 1; }
    name=$(basename "$1")
    found=0
    for sym in $(nm -D --defined-only "$1" | awk 'NF == 3 { print $3 }' | sed 's/@.*//'); do
        case "$sym" in __odr_asan.*) continue ;; esac   # AddressSanitizer's own marker (-DPLUME_SANITIZE=ON)
        if [ "$sym" = plume_module_v1 ]; then
            found=1
        else
            echo "$name: exports $sym, not only plume_module_v1"
            bad=1
        fi
    done
    [ $found = 1 ] || { echo "$name: no plume_module_v1"; bad=1; }
    n=$((n + 1))
}

for arg in "$@"; do
    if [ -d "$arg" ]; then
        for module in "$arg"/*.so; do check_module "$module"; done
    else
        check_module "$arg"
    fi
done
echo "$n modules checked"
exit $bad
