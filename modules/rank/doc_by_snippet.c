/* rank.doc_by_snippet — the paper's RankDocBySnpt: each profile document is scored by its best
 * snippet, and documents are ranked by that score. With `model`, snippets are scored as in the
 * paper, by the cosine similarity of the model's embeddings; without, by BM25 over the request's
 * snippets (one index over every snippet of every profile document). */
#include <stdlib.h>
#include <string.h>
#include "rank.h"

typedef struct bysnpt_state {
    plume_stemmer *stemmer;
    double k1, b;
    long long budget, snippet_chars;
    rank_encoder enc;   /* enc.lm NULL: BM25 */
} bysnpt_state;

static int bysnpt_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    bysnpt_state *s = state;
    s->k1 = plume_args_float(args, "k1");
    s->b = plume_args_float(args, "b");
    s->snippet_chars = plume_args_int(args, "snippet_chars");
    s->budget = plume_args_int(args, "budget_chars");
    if (!plume_args_string(args, "model")[0] && plume_args_string(args, "embed_cache")[0])
        return plume_fail(err, "embed_cache = \"%s\" without a model: BM25 embeds nothing (hint: set model, or "
                               "leave embed_cache out)", plume_args_string(args, "embed_cache"));
    if (!(s->stemmer = plume_stemmer_new(err))) return -1;
    if (plume_args_string(args, "model")[0] && rank_encoder_open(&s->enc, args, host, "rank.doc_by_snippet", err)) {
        plume_stemmer_free(s->stemmer);
        s->stemmer = NULL;
        return -1;
    }
    return 0;
}

/* A snippet: its document and its span of that document's text. */
typedef struct snippet {
    size_t doc, start, len;
} snippet;

/* Every snippet of every document, in document order; NULL only when out of memory (an
 * empty list is a 1-entry allocation with *count 0). */
static snippet *collect_snippets(const plume_doc *docs, size_t n, size_t chars, size_t *count) {
    plume_spans sp = { 0 };
    snippet *all = NULL;
    size_t cap = 0;
    *count = 0;
    for (size_t d = 0; d < n; d++) {
        const char *text = docs[d].text ? docs[d].text : "";
        sp.count = 0;
        if (plume_text_snippets(text, strlen(text), chars, &sp)) goto oom;
        if (*count + sp.count > cap) {
            size_t ncap = cap ? cap * 2 : 64;
            while (ncap < *count + sp.count) ncap *= 2;
            snippet *p = realloc(all, ncap * sizeof *p);
            if (!p) goto oom;
            all = p;
            cap = ncap;
        }
        for (size_t k = 0; k < sp.count; k++) all[(*count)++] = (snippet){ d, sp.items[k].start, sp.items[k].len };
    }
    if (!all && !(all = malloc(sizeof *all))) goto oom;
    plume_spans_free(&sp);
    return all;
oom:
    plume_spans_free(&sp);
    free(all);
    return NULL;
}

static const char *doc_text(const plume_doc *d) { return d->text ? d->text : ""; }

/* What is embedded of a profile: the text of every snippet. */
static int bysnpt_texts(void *state, const plume_doc *docs, size_t n, rank_texts *out) {
    bysnpt_state *s = state;
    size_t n_snip = 0;
    snippet *sn = collect_snippets(docs, n, (size_t)s->snippet_chars, &n_snip);
    int rc = sn ? 0 : -1;
    for (size_t k = 0; !rc && k < n_snip; k++)
        rc = rank_texts_take(out, strndup(doc_text(&docs[sn[k].doc]) + sn[k].start, sn[k].len));
    free(sn);
    return rc;
}

/* Dense: a document scores as its best snippet's cosine; one without text scores -1, the lowest
 * cosine there is, so it comes after every document with text. */
static int bysnpt_dense(bysnpt_state *s, const char *query, const plume_doc *docs, size_t n, double *scores,
                        plume_error *err) {
    size_t n_snip = 0, made = 0;
    snippet *sn = collect_snippets(docs, n, (size_t)s->snippet_chars, &n_snip);
    char **texts = sn ? calloc(n_snip ? n_snip : 1, sizeof *texts) : NULL;
    double *snip = texts ? malloc((n_snip ? n_snip : 1) * sizeof *snip) : NULL;
    int rc = -1;
    if (!snip) goto oom;
    for (; made < n_snip; made++)
        if (!(texts[made] = strndup(doc_text(&docs[sn[made].doc]) + sn[made].start, sn[made].len))) goto oom;
    if (rank_dense_scores(s->enc.lm, query, (const char *const *)texts, n_snip, snip, err)) goto done;
    for (size_t d = 0; d < n; d++) scores[d] = -1.0;
    for (size_t k = 0; k < n_snip; k++)
        if (snip[k] > scores[sn[k].doc]) scores[sn[k].doc] = snip[k];
    rc = 0;
    goto done;
oom:
    plume_fail(err, "out of memory scoring the snippets of %zu documents", n);
done:
    for (size_t k = 0; texts && k < made; k++) free(texts[k]);
    free(texts);
    free(sn);
    free(snip);
    return rc;
}

/* BM25: one index over every snippet; a document scores as its best snippet, one without
 * text 0. */
static int bysnpt_score(void *state, const char *query, size_t query_len, const plume_doc *docs, size_t n,
                        double *scores, plume_error *err) {
    bysnpt_state *s = state;
    if (s->enc.lm) return bysnpt_dense(s, query, docs, n, scores, err);
    size_t n_snip = 0;
    snippet *sn = collect_snippets(docs, n, (size_t)s->snippet_chars, &n_snip);
    plume_words *terms = sn ? calloc(n_snip ? n_snip : 1, sizeof *terms) : NULL, q = { 0 };
    double *snip_scores = NULL;
    plume_bm25 *idx = NULL;
    int *seen = NULL;
    int rc = -1;
    if (!terms) goto oom;
    for (size_t k = 0; k < n_snip; k++)
        if (rank_terms(s->stemmer, doc_text(&docs[sn[k].doc]) + sn[k].start, sn[k].len, &terms[k])) goto oom;
    if (rank_terms(s->stemmer, query, query_len, &q)) goto oom;
    if (!(idx = plume_bm25_build(terms, n_snip, s->k1, s->b, err))) goto done;
    if (!(snip_scores = malloc((n_snip ? n_snip : 1) * sizeof *snip_scores))) goto oom;
    if (plume_bm25_score(idx, &q, snip_scores)) goto oom;
    for (size_t d = 0; d < n; d++) scores[d] = 0.0;
    if (!(seen = calloc(n ? n : 1, sizeof *seen))) goto oom;
    for (size_t k = 0; k < n_snip; k++)
        if (!seen[sn[k].doc] || snip_scores[k] > scores[sn[k].doc]) {
            scores[sn[k].doc] = snip_scores[k];
            seen[sn[k].doc] = 1;
        }
    rc = 0;
    goto done;
oom:
    plume_fail(err, "out of memory scoring the snippets of %zu documents", n);
done:
    plume_bm25_free(idx);
    plume_words_free(&q);
    for (size_t k = 0; terms && k < n_snip; k++) plume_words_free(&terms[k]);
    free(terms);
    free(sn);
    free(snip_scores);
    free(seen);
    return rc;
}

static int bysnpt_run(void *state, plume_batch *batch, plume_error *err) {
    bysnpt_state *s = state;
    if (s->enc.lm) rank_dense_prefetch(s->enc.lm, batch, state, bysnpt_texts);
    return rank_run(state, batch, s->budget, bysnpt_score);
}

static void bysnpt_destroy(void *state) {
    bysnpt_state *s = state;
    plume_stemmer_free(s->stemmer);
    s->stemmer = NULL;
    if (s->enc.lm) rank_encoder_close(&s->enc);
}

static const plume_param bysnpt_params[] = {
    RANK_K1_PARAM,
    RANK_B_PARAM,
    { "snippet_chars", PLUME_INT, "250", "a snippet is sentences appended until it holds this many characters",
      PLUME_AT_LEAST(1) },
    RANK_BUDGET_PARAM,
    { "model", PLUME_STRING, "", "score snippets by cosine similarity of this model's embeddings (an entry "
                                 "of models:); \"\": by BM25", PLUME_NO_RANGE },
    RANK_EMBED_CACHE_PARAM,
    { 0 },
};

const plume_stage rank_doc_by_snippet = {
    .name = "rank.doc_by_snippet",
    .doc = "RankDocBySnpt (the paper's document ranking by snippets): each profile document's text is cut "
           "into snippets (sentences appended until 250 characters or the document ends); each document "
           "scores as its best snippet, and the whole documents are ranked by that. The paper scores "
           "snippets with dense embeddings, as this stage does with `model` set (cosine of the model's "
           "embeddings; a document without text scores -1); without it, snippets are scored with BM25 "
           "(one index over all the request's snippets). Ties by time, then id. With a model, the batch's "
           "snippets are embedded together, each distinct text once per run (the model's embedding cache), "
           "and with `embed_cache` once across runs.",
    .inputs = rank_inputs,
    .outputs = rank_outputs,
    .params = bysnpt_params,
    .state_size = sizeof(bysnpt_state),
    .create = bysnpt_create,
    .run = bysnpt_run,
    .destroy = bysnpt_destroy,
};
