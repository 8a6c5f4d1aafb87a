/* rank.doc_bm25 — the paper's RankDocBM25: profile documents ranked by BM25 against the
 * immediate context. The index is built per request over that request's profile. */
#include <stdlib.h>
#include <string.h>
#include "rank.h"

typedef struct bm25_state {
    plume_stemmer *stemmer;
    double k1, b;
    long long budget;
} bm25_state;

static int bm25_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    bm25_state *s = state;
    s->k1 = plume_args_float(args, "k1");
    s->b = plume_args_float(args, "b");
    s->budget = plume_args_int(args, "budget_chars");
    s->stemmer = plume_stemmer_new(err);
    return s->stemmer ? 0 : -1;
}

/* A document's searchable text is its title and its text. */
static int doc_terms(plume_stemmer *st, const plume_doc *d, plume_words *out) {
    if (rank_terms(st, d->title ? d->title : "", d->title ? strlen(d->title) : 0, out)) return -1;
    return rank_terms(st, d->text ? d->text : "", d->text ? strlen(d->text) : 0, out);
}

static int bm25_score(void *state, const char *query, size_t query_len, const plume_doc *docs, size_t n,
                      double *scores, plume_error *err) {
    bm25_state *s = state;
    plume_words *terms = calloc(n ? n : 1, sizeof *terms);
    plume_words q = { 0 };
    plume_bm25 *idx = NULL;
    int rc = -1;
    if (!terms) return plume_fail(err, "out of memory analysing %zu documents", n);
    for (size_t i = 0; i < n; i++)
        if (doc_terms(s->stemmer, &docs[i], &terms[i])) {
            plume_fail(err, "out of memory analysing profile document '%s'", docs[i].id);
            goto done;
        }
    if (rank_terms(s->stemmer, query, query_len, &q)) {
        plume_fail(err, "out of memory analysing the query");
        goto done;
    }
    if (!(idx = plume_bm25_build(terms, n, s->k1, s->b, err))) goto done;
    if (plume_bm25_score(idx, &q, scores)) {
        plume_fail(err, "out of memory scoring %zu documents", n);
        goto done;
    }
    rc = 0;
done:
    plume_bm25_free(idx);
    plume_words_free(&q);
    for (size_t i = 0; i < n; i++) plume_words_free(&terms[i]);
    free(terms);
    return rc;
}

static int bm25_run(void *state, plume_batch *batch, plume_error *err) {
    bm25_state *s = state;
    return rank_run(state, batch, s->budget, bm25_score);
}

static void bm25_destroy(void *state) {
    bm25_state *s = state;
    plume_stemmer_free(s->stemmer);
    s->stemmer = NULL;
}

static const plume_param bm25_params[] = {
    RANK_K1_PARAM,
    RANK_B_PARAM,
    RANK_BUDGET_PARAM,
    { 0 },
};

const plume_stage rank_doc_bm25 = {
    .name = "rank.doc_bm25",
    .doc = "RankDocBM25 (the paper's sparse document ranking): scores each profile document (title and "
           "text) by Okapi BM25 against the immediate context, with an index built over the request's "
           "profile (words case folded, English stopwords dropped, Snowball stems). Best first; ties by "
           "time (newer first), then id.",
    .inputs = rank_inputs,
    .outputs = rank_outputs,
    .params = bm25_params,
    .state_size = sizeof(bm25_state),
    .create = bm25_create,
    .run = bm25_run,
    .destroy = bm25_destroy,
};
