#!/bin/sh
# The measurements of docs/experiments.md on the email test split, with the two shipped models:
#   models/plume-email.gguf          the multitask recipe (generation + author distinction)
#   models/plume-email-genonly.gguf  the same start, size, steps and schedule, without author pairs
# Every graph runs with the profile-swap control (--swap-profiles), beside the model-free baselines.
# Writes DIR/multitask and DIR/genonly (plume experiment's files) and DIR/table.md, one row per
# graph with both models side by side.
#   tools/experiment-email.sh [DIR]      (default experiment/plume-email; build/bin/plume, or $PLUME)
set -eu
PLUME=${PLUME:-build/bin/plume}
OUT=${1:-experiment/plume-email}
DATA=${DATA:-data/email/dataset/test.jsonl}
mkdir -p "$OUT"
GRAPHS="graphs/baseline_context.yaml graphs/baseline_copy_bm25.yaml graphs/oracle_copy_bm25.yaml
        graphs/immedctx.yaml graphs/recentdoc.yaml graphs/rankdoc_bm25.yaml graphs/sumctx_ind.yaml
        graphs/sumctx.yaml graphs/synctx_ind.yaml graphs/synctx.yaml graphs/default.yaml
        graphs/baseline_copy_bm25_at_default_length.yaml"
PLUME_MODEL=models/plume-email.gguf "$PLUME" experiment $GRAPHS --data "$DATA" --swap-profiles \
    --out-dir "$OUT/multitask" >/dev/null
PLUME_MODEL=models/plume-email-genonly.gguf "$PLUME" experiment $GRAPHS --data "$DATA" --swap-profiles \
    --out-dir "$OUT/genonly" >/dev/null
# results.csv's named fields (docs/experiments.md): $2-$5 BLEU, ROUGE-1/2/L; $11 cont_ROUGE-L;
# $20 gain_cont_ROUGE-L, $21 its t-test p
{
    echo "| graph | ROUGE-L | cont. ROUGE-L | gain | p (t) | ROUGE-L | cont. ROUGE-L | gain | p (t) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "| | *without author distinction* | | | | *with author distinction* | | | |"
    awk -F, '{ gsub(/"/, "", $1) }
             NR == FNR { if (FNR > 1) g[$1] = sprintf("%.2f | %.2f | %+.2f | %.2g", $5, $11, $20, $21); next }
             FNR > 1 { printf "| %s | %s | %.2f | %.2f | %+.2f | %.2g |\n", $1, g[$1], $5, $11, $20, $21 }' \
        "$OUT/genonly/results.csv" "$OUT/multitask/results.csv"
} > "$OUT/table.md"
cat "$OUT/table.md"
