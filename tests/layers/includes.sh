#!/bin/sh
# The walls between layers, in the sources: a file may include, between quotes, only an installed
# header ("plume/NAME.h", found in INCLUDE_DIR) or a header of its own folder ("NAME.h"). A
# header of another layer, by path ("../lm/gguf.h", "corpus/corpus.h") or by name through an
# include path, is refused.
#
#   includes.sh INCLUDE_DIR [-x plume/NAME.h]... FOLDER...
#
# -x refuses an installed header too: the device and model layers, which know no graph, must not
# include plume/plume.h or plume/stage.h.
#
# Checks the .c and .h files directly in each FOLDER; prints "FILE:LINE: ..." for each refused
# include and exits 1 if any.
set -eu
[ $# -ge 2 ] || { echo "usage: includes.sh INCLUDE_DIR FOLDER..." >&2; exit 2; }
include=$1
shift
refused=""
while [ $# -gt 0 ] && [ "$1" = -x ]; do
    [ $# -ge 2 ] || { echo "includes.sh: -x needs a header" >&2; exit 2; }
    refused="$refused $2"
    shift 2
done
[ $# -ge 1 ] || { echo "usage: includes.sh INCLUDE_DIR [-x plume/NAME.h]... FOLDER..." >&2; exit 2; }
bad=0
n=0
for folder in "$@"; do
    [ -d "$folder" ] || { echo "$folder: no such folder" >&2; exit 1; }
    for file in "$folder"/*.c "$folder"/*.h; do
        [ -f "$file" ] || continue
        n=$((n + 1))
        # "LINE NAME" for every #include "NAME"
        for entry in $(awk '/^[ \t]*#[ \t]*include[ \t]*"/ { split($0, part, "\""); print NR ":" part[2] }' "$file"); do
            line=${entry%%:*}
            name=${entry#*:}
            case "$name" in
                plume/*/*) ok=0 ;;
                plume/*) [ -f "$include/$name" ] && ok=1 || ok=0 ;;
                */*) ok=0 ;;
                *) [ -f "$folder/$name" ] && ok=1 || ok=0 ;;
            esac
            for r in $refused; do
                if [ "$name" = "$r" ]; then
                    echo "$file:$line: includes \"$name\", which this layer must not use"
                    bad=1
                fi
            done
            if [ $ok = 0 ]; then
                echo "$file:$line: includes \"$name\", which is neither an installed header (plume/NAME.h) nor one of its own folder"
                bad=1
            fi
        done
    done
done
[ $n -gt 0 ] || { echo "no .c or .h files in $*" >&2; exit 1; }
echo "$n files checked"
exit $bad
