/* rank.doc_dense — the paper's RankDocDense: profile documents ranked by the cosine similarity of
 * their embeddings to the immediate context's. The paper's encoder is a trained dual encoder;
 * here it is any GGUF model of the graph (plume_lm_embed: mean-pooled final hidden states). */
#include <stdlib.h>
#include "rank.h"

typedef struct dense_state {
    plume_lm *lm;
    long long budget;
} dense_state;

static int dense_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    dense_state *s = state;
    if (rank_budget_arg(args, &s->budget, err)) return -1;
    return rank_model_acquire(args, host, "rank.doc_dense", &s->lm, err);
}

static int dense_score(void *state, const char *query, size_t query_len, const plume_doc *docs, size_t n,
                       double *scores, plume_error *err) {
    dense_state *s = state;
    char **texts = calloc(n ? n : 1, sizeof *texts);
    int rc = -1;
    (void)query_len;   /* the query is NUL-terminated; embeddings read it whole */
    if (!texts) return plume_fail(err, "out of memory embedding %zu documents", n);
    for (size_t i = 0; i < n; i++)
        if (!(texts[i] = rank_doc_text(&docs[i]))) {
            plume_fail(err, "out of memory embedding %zu documents", n);
            goto done;
        }
    rc = rank_dense_scores(s->lm, query, (const char *const *)texts, n, scores, err);
done:
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    return rc;
}

static int dense_run(void *state, plume_batch *batch, plume_error *err) {
    dense_state *s = state;
    (void)err;
    return rank_run(state, batch, s->budget, dense_score);
}

static void dense_destroy(void *state) {
    dense_state *s = state;
    plume_lm_release(s->lm);
    s->lm = NULL;
}

static const plume_param dense_params[] = {
    { "model", PLUME_MODEL, NULL, "the model whose embeddings compare the context and each document" },
    RANK_BUDGET_PARAM,
    { 0 },
};

const plume_stage rank_doc_dense = {
    .name = "rank.doc_dense",
    .doc = "RankDocDense (the paper's dense document ranking): profile documents by cosine similarity "
           "between the embedding of the immediate context and each document's (title and text), the "
           "embeddings being the model's mean-pooled final hidden states (plume_lm_embed). Best first; "
           "ties by time (newer first), then id.",
    .inputs = rank_inputs,
    .outputs = rank_outputs,
    .params = dense_params,
    .state_size = sizeof(dense_state),
    .create = dense_create,
    .run = dense_run,
    .destroy = dense_destroy,
};
