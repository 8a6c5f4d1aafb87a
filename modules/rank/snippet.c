/* rank.snippet — the paper's RankSnippet: snippets (sentences appended up to 250 characters)
 * ranked by cosine similarity of embeddings. Like rank.doc_dense it needs embeddings the
 * language model cannot give yet, so create() refuses rather than rank by made-up vectors. */
#include "rank.h"

static int snippet_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    return plume_fail(err, "rank.snippet needs a model with embeddings (lm not available yet); "
                           "hint: rank.doc_by_snippet ranks by snippets with BM25 meanwhile");
}

static int snippet_run(void *state, plume_batch *batch, plume_error *err) {
    return plume_fail(err, "rank.snippet needs a model with embeddings (lm not available yet)");
}

static const plume_param snippet_params[] = {
    { "model", PLUME_MODEL, NULL, "the model whose embeddings compare the context and each snippet" },
    RANK_BUDGET_PARAM,
    { 0 },
};

const plume_stage rank_snippet = {
    .name = "rank.snippet",
    .doc = "RankSnippet (the paper's dense snippet ranking): every profile document is cut into snippets "
           "(sentences appended until 250 characters or the document ends), and the snippets are ranked "
           "by cosine similarity of embeddings against the immediate context; the entries are snippets. "
           "Not available yet: it needs a model with embeddings, so create() fails with that message.",
    .inputs = rank_inputs,
    .outputs = rank_outputs,
    .params = snippet_params,
    .state_size = 1,
    .create = snippet_create,
    .run = snippet_run,
};
