#!/bin/sh
# Makes the default model, models/plume-email.gguf, and its twin without author distinction,
# models/plume-email-genonly.gguf: the tokenizer, the training data, stage 1 (language, from
# scratch, on the email train users' documents and data/email-pretrain's other senders) and
# stage 2 (the paper's multitask recipe, and the same without author pairs). Every step is a
# plume command; jq (Debian's jq) lists the texts.
#   tools/train-email.sh [STEP]     (build/bin/plume, or $PLUME; writes runs/email/)
# STEP: all (default), data, pretrain, finetune, install. Each training run checkpoints, and the
# script resumes an interrupted run (plume train --resume), so it can be stopped and started again.
set -eu
PLUME=${PLUME:-build/bin/plume}
RUNS=runs/email
DATA=data/email/dataset
STEP=${1:-all}
mkdir -p "$RUNS"

data() {
    # 1. the tokenizer: byte-level BPE of 2048 tokens on the train users' documents, each once, with
    #    the author task's two answers as control tokens
    jq -rs '[.[] | (.profile[] | {id: (.id|tostring), title: (.title // ""), text}),
             {id: (.id|tostring), title: "", text: .target}]
            | reduce .[] as $d ({seen: {}, out: []}; if .seen[$d.id] then . else (.seen[$d.id] = true | .out += [$d]) end)
            | .out[] | "\(.title)\n\(.text)\n"' "$DATA/train.jsonl" > "$RUNS/train-texts.txt"
    "$PLUME" bpe -o "$RUNS/email-bpe.gguf" --vocab 2048 --control '<|same_author|>' --control '<|other_author|>' \
        "$RUNS/train-texts.txt"
    # 2. stage 1's data: every document of the train users, whole, as plain text; and every message
    #    of data/email-pretrain, cleaned by the importer, except those of the senders that
    #    `plume dataset build` keeps from it (their 104 requests are the check on senders never seen,
    #    docs/experiments.md). The trainer packs them into full rows (data.pack).
    jq -c -s '[.[] | (.profile[] | {id: (.id|tostring), title: (.title // ""), text}),
             {id: (.id|tostring), title: "", text: .target}]
            | reduce .[] as $d ({seen: {}, out: []}; if .seen[$d.id] then . else (.seen[$d.id] = true | .out += [$d]) end)
            | .out[] | {prompt: "", target: (.title + "\n" + .text)}' "$DATA/train.jsonl" > "$RUNS/pretrain-email.jsonl"
    "$PLUME" import mbox data/email-pretrain/pretrain.mbox -o "$RUNS/other-corpus.jsonl"
    "$PLUME" dataset build "$RUNS/other-corpus.jsonl" -o "$RUNS/other"
    jq -r '.user' "$RUNS"/other/*.jsonl | sort -u > "$RUNS/heldout-users.txt"
    jq -c --rawfile h "$RUNS/heldout-users.txt" \
        '($h | split("\n") | map(select(length > 0)) | map({(.): true}) | add) as $held
         | select($held[.author] | not) | {prompt: "", target: ((.title // "") + "\n" + .text)}' \
        "$RUNS/other-corpus.jsonl" > "$RUNS/pretrain-other.jsonl"
    cat "$RUNS/pretrain-email.jsonl" "$RUNS/pretrain-other.jsonl" > "$RUNS/pretrain-all.jsonl"
    # 3. the prompts budget the writer's tokens, so the graphs need a model with this tokenizer and
    #    the model's context (1,024): a throwaway of 2 steps (what it writes is not used)
    #    (the copied config lives beside the files it names, so its paths lose ../runs/email/)
    sed -e '/^  validation:/d' -e 's#\.\./runs/email/##' -e 's#^out: .*#out: throwaway#' \
        configs/train-email-pretrain.yaml > "$RUNS/throwaway.yaml"
    "$PLUME" train "$RUNS/throwaway.yaml" --steps 2 > /dev/null
    export PLUME_MODEL="$RUNS/throwaway/model.gguf"
    # 640 prompt tokens and up to 384 target tokens fill the 1,024-token context (as at inference)
    export PLUME_PROMPT_TOKENS=640
    "$PLUME" run graphs/train-data-email.yaml --data "$DATA/train.jsonl" --out "$RUNS/train-results.jsonl"
    "$PLUME" run graphs/train-data-email.yaml --data "$DATA/val.jsonl" --out "$RUNS/val-results.jsonl"
    "$PLUME" run graphs/train-data-aids.yaml --data "$DATA/train.jsonl" --out "$RUNS/aids-results.jsonl"
    #    the validation loss is measured on the val users' examples with the 160-token prompts of the
    #    earlier 256-token model, so that the losses of both compare on the same tokens
    PLUME_PROMPT_TOKENS=160 "$PLUME" run graphs/train-data-email.yaml --data "$DATA/val.jsonl" \
        --out "$RUNS/val-results-160.jsonl"
    unset PLUME_MODEL PLUME_PROMPT_TOKENS
    # 4. stage 2's data: generation examples, author pairs 1:1 (or none), the aids' examples
    "$PLUME" examples "$RUNS/train-results.jsonl" --requests "$DATA/train.jsonl" --holdout "$DATA/val.jsonl" \
        --holdout "$DATA/test.jsonl" --ratio 1 --seed 1 --passage-chars 250 -o "$RUNS/train-examples.jsonl"
    "$PLUME" examples "$RUNS/train-results.jsonl" --ratio 0 -o "$RUNS/train-examples-genonly.jsonl"
    "$PLUME" examples "$RUNS/val-results.jsonl" --ratio 0 -o "$RUNS/val-examples.jsonl"
    "$PLUME" examples "$RUNS/val-results-160.jsonl" --ratio 0 -o "$RUNS/val-examples-160.jsonl"
    "$PLUME" examples "$RUNS/aids-results.jsonl" --pair sum_prompt=sum_label --pair syn_prompt=syn_label \
        --ratio 0 -o "$RUNS/aid-examples.jsonl"
    cat "$RUNS/train-examples.jsonl" "$RUNS/aid-examples.jsonl" > "$RUNS/train-mix.jsonl"
    cat "$RUNS/train-examples-genonly.jsonl" "$RUNS/aid-examples.jsonl" > "$RUNS/train-mix-genonly.jsonl"
    wc -l "$RUNS"/*.jsonl
}

# plume train, resuming where a checkpoint exists
train() {
    out=$(sed -n 's#^out: ##p' "$1")
    if [ -f "$(dirname "$1")/$out/model.optim" ]; then "$PLUME" train "$1" --resume; else "$PLUME" train "$1"; fi
}

case "$STEP" in
all | data) data ;;
esac
case "$STEP" in
all | pretrain) train configs/train-email-pretrain.yaml ;;
esac
case "$STEP" in
all | finetune)
    train configs/train-email.yaml
    train configs/train-email-genonly.yaml
    ;;
esac
case "$STEP" in
all | install)
    cp "$RUNS/multitask/model-f16.gguf" models/plume-email.gguf
    cp "$RUNS/genonly/model-f16.gguf" models/plume-email-genonly.gguf
    sha256sum models/plume-email.gguf models/plume-email-genonly.gguf
    ;;
esac
