#!/bin/sh
# Tunes the personal memory of graphs/default.yaml on the VALIDATION split (never the test split):
# every memory source (memory_docs: the first PLUME_MEMORY_DOCS ranked entries; ranked: all the
# ranked entries; profile: the whole profile) x followed or not x weight x shortest match
# (unfollowed) or anchor (followed), each run with the profile-swap control. Prints one line per
# setting: the continuation ROUGE-L,
# the personalization gain and its t-test p, and the continuation ROUGE-1. docs/memory.md says
# which of these settings graphs/default.yaml takes, and why.
#   tools/tune-memory.sh [DIR]      (default experiment/tune-memory; build/bin/plume, or $PLUME)
set -eu
PLUME=${PLUME:-build/bin/plume}
OUT=${1:-experiment/tune-memory}
DATA=${DATA:-data/email/dataset/val.jsonl}
WEIGHTS=${WEIGHTS:-"0 0.3 0.5 0.7 0.9"}
MATCHES=${MATCHES:-"2 3 4"}
FOLLOW=${FOLLOW:-"true false"}
ANCHORS=${ANCHORS:-"2 3 4"}
SOURCES=${SOURCES:-"memory_docs ranked profile"}
mkdir -p "$OUT"
echo "| memory | followed | weight | min_match | anchor | cont. ROUGE-L | gain | p (t) | cont. ROUGE-1 |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for source in $SOURCES; do
    sed "s#memory: memory_docs#memory: $source#" graphs/default.yaml > "$OUT/default_$source.yaml"
    for f in $FOLLOW; do
        # followed: the shortest match stays 2 and the anchor varies; unfollowed: the shortest match
        if [ "$f" = true ]; then settings=$ANCHORS; else settings=$MATCHES; fi
        for w in $WEIGHTS; do
            for k in $settings; do
                [ "$w" = 0 ] && [ "$k" != "$(echo $settings | cut -d' ' -f1)" ] && continue   # weight 0: one run
                # (unfollowed, the anchor is unused: "-" in the table, the graph's 2 to run)
                if [ "$f" = true ]; then m=2 a=$k anchor=$k; else m=$k a=- anchor=2; fi
                dir="$OUT/$source-f$f-w$w-m$m-a$a"
                PLUME_MEMORY_FOLLOW=$f PLUME_MEMORY_WEIGHT=$w PLUME_MEMORY_MIN_MATCH=$m PLUME_MEMORY_ANCHOR=$anchor \
                    "$PLUME" experiment "$OUT/default_$source.yaml" --data "$DATA" --swap-profiles \
                    --out-dir "$dir" > /dev/null 2>&1
                # results.csv: $11 cont_ROUGE-L, $20 gain_cont_ROUGE-L, $21 its t-test p, $9 cont_ROUGE-1
                awk -F, -v s="$source" -v f="$f" -v w="$w" -v m="$m" -v a="$a" 'NR == 2 {
                    printf "| %s | %s | %s | %s | %s | %.2f | %+.2f | %.2g | %.2f |\n", s, f, w, m, a, $11, $20, $21, $9 }' \
                    "$dir/results.csv"
            done
        done
    done
done
