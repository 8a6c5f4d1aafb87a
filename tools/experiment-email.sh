#!/bin/sh
# The miniature of the paper's claim (issue 6): the email test split through the paper's rows with
# the two plume-email models, which differ only in the author-distinction task:
#   models/plume-email-genonly.gguf  fine-tuned on the generation examples alone
#   models/plume-email.gguf          the same start, size, steps and schedule, with author pairs 1:1
# Writes DIR/genonly and DIR/multitask (plume experiment's files) and DIR/table.md, one row per
# graph with both models' scores side by side.
#   tools/experiment-email.sh [DIR]      (default experiment/plume-email; build/bin/plume, or $PLUME)
set -eu
PLUME=${PLUME:-build/bin/plume}
OUT=${1:-experiment/plume-email}
DATA=${DATA:-data/email/dataset/test.jsonl}
mkdir -p "$OUT"
GRAPHS="graphs/immedctx.yaml graphs/recentdoc.yaml graphs/rankdoc_bm25.yaml graphs/sumctx_ind.yaml
        graphs/sumctx.yaml graphs/synctx_ind.yaml graphs/synctx.yaml graphs/default.yaml"
PLUME_MODEL=models/plume-email-genonly.gguf "$PLUME" experiment $GRAPHS --data "$DATA" --out-dir "$OUT/genonly" >/dev/null
PLUME_MODEL=models/plume-email.gguf "$PLUME" experiment $GRAPHS --data "$DATA" --out-dir "$OUT/multitask" >/dev/null
# results.csv: graph,bleu,rouge1,rouge2,rougeL,records,failed (a header line first)
{
    echo "| graph | BLEU | ROUGE-1 | ROUGE-2 | ROUGE-L | BLEU | ROUGE-1 | ROUGE-2 | ROUGE-L |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "| | *without author distinction* | | | | *with author distinction* | | | |"
    awk -F, '{ gsub(/"/, "", $1) } NR == FNR { if (FNR > 1) g[$1] = sprintf("%.2f | %.2f | %.2f | %.2f", $2, $3, $4, $5); next }
             FNR > 1 { printf "| %s | %s | %.2f | %.2f | %.2f | %.2f |\n", $1, g[$1], $2, $3, $4, $5 }' \
        "$OUT/genonly/results.csv" "$OUT/multitask/results.csv"
} > "$OUT/table.md"
cat "$OUT/table.md"
