/* summarize.ctx_independent — SumCtxInd: an extractive, context-independent summary. */
#include "plume/eval.h"
#include "plume/stage.h"

typedef struct sumci_state { size_t budget; } sumci_state;

static const plume_port sumci_inputs[] = {
    { "entries", PLUME_DOCS, "the ranked entries", 0 },
    { 0 },
};
static const plume_port sumci_outputs[] = {
    { "text", PLUME_TEXT, "the chosen sentences in their original order", 0 },
    { 0 },
};
static const plume_param sumci_params[] = {
    { "budget_chars", PLUME_INT, "500", "longest summary, in characters (code points)", PLUME_AT_LEAST(1) },
    { 0 },
};

static int sumci_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    ((sumci_state *)state)->budget = (size_t)plume_args_int(args, "budget_chars");
    return 0;
}

static int sumci_run(void *state, plume_batch *batch, plume_error *err) {
    const sumci_state *s = state;
    for (size_t r = 0; r < plume_batch_count(batch); r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *entries = plume_batch_in(batch, r, 0);
        if (entries->type != PLUME_DOCS) {
            plume_batch_fail(batch, r, "summarize.ctx_independent: entries must be docs, got %s",
                             plume_type_name(entries->type));
            continue;
        }
        plume_error e;
        if (plume_summary_extract(entries->as.docs.items, entries->as.docs.count, s->budget,
                                  plume_batch_out(batch, r, 0), &e))
            plume_batch_fail(batch, r, "summarize.ctx_independent: %s", e.msg);
    }
    return 0;
}

const plume_stage summarize_ctx_independent = {
    "summarize.ctx_independent",
    "SumCtxInd (Li et al. 2023), model-free: sentences of the ranked entries ranked by TextRank over "
    "the cosine of their term vectors; the best that fit budget_chars, in their original order.",
    sumci_inputs, sumci_outputs, sumci_params, sizeof(sumci_state),
    sumci_create, sumci_run, NULL,
};
