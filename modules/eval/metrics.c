/* eval.metrics: a record's prediction scored against its reference, as percentages.
 * rouge1/rouge2/rougeL are rouge-score's F-measures (Porter stemming unless stem: false);
 * bleu is sacrebleu's sentence BLEU (13a, exp smoothing, effective order). Corpus BLEU is not a
 * per-record number: `plume eval` computes it over a whole file. */
#include <string.h>
#include "plume/eval.h"
#include "plume/stage.h"

typedef struct metrics_state { int stem; } metrics_state;

static const plume_port metrics_inputs[] = {
    { "prediction", PLUME_TEXT, "the generated text", 0 },
    { "reference", PLUME_TEXT, "the real document (the request's target)", 0 },
    { 0 },
};
static const plume_port metrics_outputs[] = {
    { "rouge1", PLUME_NUMBER, "ROUGE-1 F-measure, percent", 0 },
    { "rouge2", PLUME_NUMBER, "ROUGE-2 F-measure, percent", 0 },
    { "rougeL", PLUME_NUMBER, "ROUGE-L F-measure, percent", 0 },
    { "bleu", PLUME_NUMBER, "sentence BLEU (sacrebleu), percent", 0 },
    { 0 },
};
static const plume_param metrics_params[] = {
    { "stem", PLUME_BOOL, "true", "Porter-stem tokens longer than 3 characters (rouge-score's use_stemmer)",
      PLUME_NO_RANGE },
    { 0 },
};

static int metrics_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    ((metrics_state *)state)->stem = plume_args_bool(args, "stem");
    return 0;
}

static int metrics_run(void *state, plume_batch *batch, plume_error *err) {
    const metrics_state *s = state;
    for (size_t r = 0; r < plume_batch_count(batch); r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *pred = plume_batch_in(batch, r, 0), *ref = plume_batch_in(batch, r, 1);
        if (pred->type != PLUME_TEXT || ref->type != PLUME_TEXT) {
            plume_batch_fail(batch, r, "eval.metrics: prediction and reference must be text (got %s and %s)",
                             plume_type_name(pred->type), plume_type_name(ref->type));
            continue;
        }
        /* No reference (a request without a target, as `plume run --context` without --target):
         * scores against nothing would read as 0, a real-looking result; the outputs stay empty
         * and the result line leaves them out. */
        if (ref->as.text.len == 0) continue;
        plume_rouge rouge;
        double bleu = plume_bleu_sentence(pred->as.text.str, pred->as.text.len, ref->as.text.str, ref->as.text.len);
        if (bleu < 0 || plume_rouge_compute(pred->as.text.str, pred->as.text.len, ref->as.text.str,
                                            ref->as.text.len, s->stem, &rouge)) {
            plume_batch_fail(batch, r, "eval.metrics: out of memory");
            continue;
        }
        plume_value_set_number(plume_batch_out(batch, r, 0), 100 * rouge.rouge1.f);
        plume_value_set_number(plume_batch_out(batch, r, 1), 100 * rouge.rouge2.f);
        plume_value_set_number(plume_batch_out(batch, r, 2), 100 * rouge.rougeL.f);
        plume_value_set_number(plume_batch_out(batch, r, 3), bleu);
    }
    return 0;
}

const plume_stage eval_metrics = {
    "eval.metrics",
    "Scores a prediction against its reference: ROUGE-1/2/L F (Google's rouge-score conventions, "
    "Porter stemming) and sentence BLEU (sacrebleu: 13a tokens, exp smoothing), all in percent. "
    "A record with an empty reference (no target) gets no scores: its result line leaves them out.",
    metrics_inputs, metrics_outputs, metrics_params, sizeof(metrics_state),
    metrics_create, metrics_run, NULL,
};
