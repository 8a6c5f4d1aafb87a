/* synthesize.ctx_independent — the paper's SynCtxInd: frequent, distinctive words of the profile. */
#include "plume/eval.h"
#include "plume/stage.h"

static const plume_port sci_inputs[] = {
    { "profile", PLUME_DOCS, "the user's earlier documents", 0 },
    { 0 },
};
static const plume_port sci_outputs[] = {
    { "terms", PLUME_TERMS, "at most max_terms words, most frequent first; weight = frequency", 0 },
    { 0 },
};
static const plume_param sci_params[] = {
    { "max_terms", PLUME_INT, "20", "keep at most this many words", PLUME_AT_LEAST(0) },
    { "min_count", PLUME_INT, "2", "drop words seen fewer times over the profile (2: drop words seen once)",
      PLUME_AT_LEAST(0) },
    { "min_idf", PLUME_FLOAT, "1.5", "drop words with idf = ln(N/df) below this, over the N profile documents",
      PLUME_NO_RANGE },
    { 0 },
};

static int sci_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    plume_keyword_opts *o = state;
    o->max_terms = (size_t)plume_args_int(args, "max_terms");
    o->min_count = (size_t)plume_args_int(args, "min_count");
    o->min_idf = plume_args_float(args, "min_idf");
    return 0;
}

static int sci_run(void *state, plume_batch *batch, plume_error *err) {
    const plume_keyword_opts *o = state;
    for (size_t r = 0; r < plume_batch_count(batch); r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *profile = plume_batch_in(batch, r, 0);
        if (profile->type != PLUME_DOCS) {
            plume_batch_fail(batch, r, "synthesize.ctx_independent: profile must be docs, got %s",
                             plume_type_name(profile->type));
            continue;
        }
        plume_error e;
        if (plume_keywords_profile(profile->as.docs.items, profile->as.docs.count, o, plume_batch_out(batch, r, 0), &e))
            plume_batch_fail(batch, r, "synthesize.ctx_independent: %s", e.msg);
    }
    return 0;
}

const plume_stage synthesize_ctx_independent = {
    "synthesize.ctx_independent",
    "SynCtxInd (Li et al. 2023): unigrams of the user's profile documents minus stopwords, words seen "
    "once and words with idf = ln(N/df) < 1.5; sorted by frequency, then idf; at most 20.",
    sci_inputs, sci_outputs, sci_params, sizeof(plume_keyword_opts),
    sci_create, sci_run, NULL,
};
