/* rank.doc_dense — the paper's RankDocDense: profile documents ranked by the cosine similarity of
 * their embeddings to the immediate context's. The paper's encoder is a trained dual encoder;
 * here it is any GGUF model of the graph (plume_lm_embed: mean-pooled final hidden states). */
#include <stdlib.h>
#include "rank.h"

typedef struct dense_state {
    rank_encoder enc;
    long long budget;
} dense_state;

static int dense_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    dense_state *s = state;
    s->budget = plume_args_int(args, "budget_chars");
    return rank_encoder_open(&s->enc, args, host, "rank.doc_dense", err);
}

/* What is embedded of each document: its title and text. */
static int dense_texts(void *state, const plume_doc *docs, size_t n, rank_texts *out) {
    (void)state;
    for (size_t i = 0; i < n; i++)
        if (rank_texts_take(out, rank_doc_text(&docs[i]))) return -1;
    return 0;
}

static int dense_score(void *state, const char *query, size_t query_len, const plume_doc *docs, size_t n,
                       double *scores, plume_error *err) {
    dense_state *s = state;
    rank_texts texts = { 0 };
    (void)query_len;   /* the query is NUL-terminated; embeddings read it whole */
    int rc = dense_texts(state, docs, n, &texts)
                 ? plume_fail(err, "out of memory embedding %zu documents", n)
                 : rank_dense_scores(s->enc.lm, query, (const char *const *)texts.items, n, scores, err);
    rank_texts_free(&texts);
    return rc;
}

static int dense_run(void *state, plume_batch *batch, plume_error *err) {
    dense_state *s = state;
    (void)err;
    rank_dense_prefetch(s->enc.lm, batch, state, dense_texts);
    return rank_run(state, batch, s->budget, dense_score);
}

static void dense_destroy(void *state) {
    dense_state *s = state;
    rank_encoder_close(&s->enc);
}

static const plume_param dense_params[] = {
    { "model", PLUME_MODEL, NULL, "the model whose embeddings compare the context and each document", PLUME_NO_RANGE },
    RANK_BUDGET_PARAM,
    RANK_EMBED_CACHE_PARAM,
    { 0 },
};

const plume_stage rank_doc_dense = {
    .name = "rank.doc_dense",
    .doc = "RankDocDense (the paper's dense document ranking): profile documents by cosine similarity "
           "between the embedding of the immediate context and each document's (title and text), the "
           "embeddings being the model's mean-pooled final hidden states (plume_lm_embed). Best first; "
           "ties by time (newer first), then id. The batch's texts are embedded together, each distinct "
           "text once per run (the model's embedding cache), and with `embed_cache` once across runs.",
    .inputs = rank_inputs,
    .outputs = rank_outputs,
    .params = dense_params,
    .state_size = sizeof(dense_state),
    .create = dense_create,
    .run = dense_run,
    .destroy = dense_destroy,
};
