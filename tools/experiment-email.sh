#!/bin/sh
# The measurements of docs/experiments.md on the email test split, with the two shipped models:
#   models/plume-email.gguf          the multitask recipe (generation + author distinction)
#   models/plume-email-genonly.gguf  the same start, size, steps and schedule, without author pairs
# Every graph runs with the profile-swap control (--swap-profiles), beside the model-free baselines.
# The default pipeline and the copy at its length run as graphs/default.yaml says (4 beams); the
# paper's rows without the memory run greedy (PLUME_BEAMS=1, ROW_BEAMS to change it), which halves
# their cost, so that both models' tables take about an hour of the 2-core machine.
# Writes DIR/MODEL/default and DIR/MODEL/rows (plume experiment's files) for MODEL multitask and
# genonly, and DIR/table.md, one row per graph with both models side by side. ROWS=keep reuses
# DIR/MODEL/rows from an earlier run (the paper's rows have no memory: a change to it leaves them).
#   tools/experiment-email.sh [DIR]      (default experiment/plume-email; build/bin/plume, or $PLUME)
set -eu
PLUME=${PLUME:-build/bin/plume}
OUT=${1:-experiment/plume-email}
DATA=${DATA:-data/email/dataset/test.jsonl}
ROW_BEAMS=${ROW_BEAMS:-1}
ROWS=${ROWS:-run}
mkdir -p "$OUT"
DEFAULT_GRAPHS="graphs/baseline_context.yaml graphs/baseline_copy_bm25.yaml graphs/oracle_copy_bm25.yaml
        graphs/default.yaml graphs/baseline_copy_bm25_at_default_length.yaml"
ROW_GRAPHS="graphs/immedctx.yaml graphs/recentdoc.yaml graphs/rankdoc_bm25.yaml graphs/sumctx_ind.yaml
        graphs/sumctx.yaml graphs/synctx_ind.yaml graphs/synctx.yaml"
for model in multitask genonly; do
    file=models/plume-email.gguf
    [ "$model" = genonly ] && file=models/plume-email-genonly.gguf
    PLUME_MODEL=$file "$PLUME" experiment $DEFAULT_GRAPHS --data "$DATA" --swap-profiles \
        --out-dir "$OUT/$model/default" >/dev/null
    if [ "$ROWS" = keep ]; then
        [ -f "$OUT/$model/rows/results.csv" ] || { echo "ROWS=keep: no $OUT/$model/rows/results.csv" >&2; exit 1; }
    else
        PLUME_MODEL=$file PLUME_BEAMS=$ROW_BEAMS "$PLUME" experiment $ROW_GRAPHS --data "$DATA" --swap-profiles \
            --out-dir "$OUT/$model/rows" >/dev/null
    fi
    # one results.csv per model: the default pipeline's rows, then the paper's
    { cat "$OUT/$model/default/results.csv"; tail -n +2 "$OUT/$model/rows/results.csv"; } > "$OUT/$model/results.csv"
done
# results.csv's named fields (docs/experiments.md): $2-$5 BLEU, ROUGE-1/2/L; $11 cont_ROUGE-L;
# $20 gain_cont_ROUGE-L, $21 its t-test p
{
    echo "| graph | ROUGE-L | cont. ROUGE-L | gain | p (t) | ROUGE-L | cont. ROUGE-L | gain | p (t) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "| | *without author distinction* | | | | *with author distinction* | | | |"
    awk -F, '{ gsub(/"/, "", $1) }
             NR == FNR { if (FNR > 1) g[$1] = sprintf("%.2f | %.2f | %+.2f | %.2g", $5, $11, $20, $21); next }
             FNR > 1 { printf "| %s | %s | %.2f | %.2f | %+.2f | %.2g |\n", $1, ($1 in g) ? g[$1] : "- | - | - | -", $5, $11, $20, $21 }' \
        "$OUT/genonly/results.csv" "$OUT/multitask/results.csv"
} > "$OUT/table.md"
cat "$OUT/table.md"
