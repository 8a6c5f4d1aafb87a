/* summarize.weak_labels — training targets for the paper's SumCtx. */
#include "plume/eval.h"
#include "plume/stage.h"

typedef struct sumwl_state { size_t snippet_chars; } sumwl_state;

static const plume_port sumwl_inputs[] = {
    { "entries", PLUME_DOCS, "the ranked entries", 0 },
    { "target", PLUME_TEXT, "the real document", 0 },
    { 0 },
};
static const plume_port sumwl_outputs[] = {
    { "text", PLUME_TEXT, "the label: the picked entry snippets joined by spaces", 0 },
    { 0 },
};
static const plume_param sumwl_params[] = {
    { "snippet_chars", PLUME_INT, "250", "a snippet: sentences appended until this many characters",
      PLUME_AT_LEAST(1) },
    { 0 },
};

static int sumwl_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    ((sumwl_state *)state)->snippet_chars = (size_t)plume_args_int(args, "snippet_chars");
    return 0;
}

static int sumwl_run(void *state, plume_batch *batch, plume_error *err) {
    const sumwl_state *s = state;
    for (size_t r = 0; r < plume_batch_count(batch); r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *entries = plume_batch_in(batch, r, 0), *target = plume_batch_in(batch, r, 1);
        if (entries->type != PLUME_DOCS || target->type != PLUME_TEXT) {
            plume_batch_fail(batch, r, "summarize.weak_labels: expected entries: docs and target: text (got %s, %s)",
                             plume_type_name(entries->type), plume_type_name(target->type));
            continue;
        }
        plume_error e;
        if (plume_sumctx_label(entries->as.docs.items, entries->as.docs.count, target->as.text.str,
                               s->snippet_chars, plume_batch_out(batch, r, 0), &e))
            plume_batch_fail(batch, r, "summarize.weak_labels: %s", e.msg);
    }
    return 0;
}

const plume_stage summarize_weak_labels = {
    "summarize.weak_labels",
    "Weak labels for SumCtx (Li et al. 2023): for each snippet of the real document, the most similar "
    "snippet of the ranked entries not used yet (cosine of term-frequency vectors of stems); joined.",
    sumwl_inputs, sumwl_outputs, sumwl_params, sizeof(sumwl_state),
    sumwl_create, sumwl_run, NULL,
};
