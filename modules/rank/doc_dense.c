/* rank.doc_dense — the paper's RankDocDense: documents by cosine similarity of dual-encoder
 * embeddings. plume's language model cannot give embeddings yet, so create() refuses: a graph
 * using this stage fails when it is loaded instead of ranking by made-up vectors. */
#include "rank.h"

static int dense_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    return plume_fail(err, "rank.doc_dense needs a model with embeddings (lm not available yet); "
                           "hint: use rank.doc_bm25 or rank.recent for now");
}

static int dense_run(void *state, plume_batch *batch, plume_error *err) {
    return plume_fail(err, "rank.doc_dense needs a model with embeddings (lm not available yet)");
}

static const plume_param dense_params[] = {
    { "model", PLUME_MODEL, NULL, "the model whose embeddings compare the context and each document" },
    RANK_BUDGET_PARAM,
    { 0 },
};

const plume_stage rank_doc_dense = {
    .name = "rank.doc_dense",
    .doc = "RankDocDense (the paper's dense document ranking): profile documents by cosine similarity "
           "between the embedding of the immediate context and each document's embedding. Not available "
           "yet: it needs a model with embeddings, so create() fails with that message.",
    .inputs = rank_inputs,
    .outputs = rank_outputs,
    .params = dense_params,
    .state_size = 1,
    .create = dense_create,
    .run = dense_run,
};
