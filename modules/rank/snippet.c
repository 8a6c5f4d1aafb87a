/* rank.snippet — the paper's RankSnippet: the profile documents cut into snippets (sentences
 * appended until 250 characters or the document ends), the snippets ranked by the cosine
 * similarity of their embeddings to the immediate context's. The entries are snippets: id
 * "DOC#K" (the K-th snippet of document DOC, from 1), the document's title and time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rank.h"

typedef struct snippet_state {
    rank_encoder enc;
    long long budget, snippet_chars;
} snippet_state;

static int snippet_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    snippet_state *s = state;
    s->snippet_chars = plume_args_int(args, "snippet_chars");
    s->budget = plume_args_int(args, "budget_chars");
    return rank_encoder_open(&s->enc, args, host, "rank.snippet", err);
}

typedef struct snippets { plume_doc *items; size_t count, cap; } snippets;

static void snippets_free(snippets *sn) {
    for (size_t i = 0; i < sn->count; i++) {
        free(sn->items[i].id);
        free(sn->items[i].text);
    }
    free(sn->items);
    memset(sn, 0, sizeof *sn);
}

/* Every snippet of every document, in document order. -1 when out of memory. */
static int cut_snippets(const plume_doc *docs, size_t n, size_t snippet_chars, snippets *out) {
    plume_spans sp = { 0 };
    int rc = -1;
    for (size_t d = 0; d < n; d++) {
        const char *text = docs[d].text ? docs[d].text : "";
        sp.count = 0;
        if (plume_text_snippets(text, strlen(text), snippet_chars, &sp)) goto done;
        for (size_t k = 0; k < sp.count; k++) {
            if (out->count == out->cap) {
                size_t nc = out->cap ? out->cap * 2 : 64;
                plume_doc *ni = realloc(out->items, nc * sizeof *ni);
                if (!ni) goto done;
                out->items = ni;
                out->cap = nc;
            }
            plume_doc *e = &out->items[out->count];
            size_t idl = strlen(docs[d].id) + 24;
            e->id = malloc(idl);
            e->text = strndup(text + sp.items[k].start, sp.items[k].len);
            e->title = docs[d].title;
            e->time = docs[d].time;
            e->score = 0;
            if (!e->id || !e->text) {
                free(e->id);
                free(e->text);
                goto done;
            }
            snprintf(e->id, idl, "%s#%zu", docs[d].id, k + 1);
            out->count++;
        }
    }
    rc = 0;
done:
    plume_spans_free(&sp);
    return rc;
}

/* What is embedded of a profile: the text of every snippet. */
static int snippet_texts(void *state, const plume_doc *docs, size_t n, rank_texts *out) {
    snippet_state *s = state;
    snippets sn = { 0 };
    int rc = cut_snippets(docs, n, (size_t)s->snippet_chars, &sn);
    for (size_t i = 0; !rc && i < sn.count; i++) {
        rc = rank_texts_take(out, sn.items[i].text);
        sn.items[i].text = NULL;
    }
    snippets_free(&sn);
    return rc;
}

static int snippet_run(void *state, plume_batch *batch, plume_error *err) {
    snippet_state *s = state;
    (void)err;
    rank_dense_prefetch(s->enc.lm, batch, state, snippet_texts);
    for (size_t r = 0; r < plume_batch_count(batch); r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *q = plume_batch_in(batch, r, 0), *p = plume_batch_in(batch, r, 1);
        if (p->type != PLUME_DOCS || q->type != PLUME_TEXT) {
            plume_batch_fail(batch, r, "rank.snippet: query must be text and profile docs, got %s and %s",
                             plume_type_name(q->type), plume_type_name(p->type));
            continue;
        }
        snippets sn = { 0 };
        double *scores = NULL;
        size_t *order = NULL;
        const char **texts = NULL;
        plume_error e = { { 0 } };
        if (cut_snippets(p->as.docs.items, p->as.docs.count, (size_t)s->snippet_chars, &sn) ||
            !(scores = malloc((sn.count ? sn.count : 1) * sizeof *scores)) ||
            !(order = malloc((sn.count ? sn.count : 1) * sizeof *order)) ||
            !(texts = malloc((sn.count ? sn.count : 1) * sizeof *texts))) {
            plume_batch_fail(batch, r, "rank.snippet: out of memory cutting %zu documents into snippets",
                             p->as.docs.count);
        } else {
            for (size_t i = 0; i < sn.count; i++) texts[i] = sn.items[i].text;
            if (rank_dense_scores(s->enc.lm, q->as.text.str, texts, sn.count, scores, &e)) {
                plume_batch_fail(batch, r, "rank.snippet: %s", e.msg);
            } else {
                rank_order(sn.items, scores, order, sn.count);
                if (rank_emit(plume_batch_out(batch, r, 0), sn.items, scores, order, sn.count, s->budget))
                    plume_batch_fail(batch, r, "rank.snippet: out of memory writing %zu entries", sn.count);
            }
        }
        snippets_free(&sn);
        free(scores);
        free(order);
        free(texts);
    }
    return 0;
}

static void snippet_destroy(void *state) {
    snippet_state *s = state;
    rank_encoder_close(&s->enc);
}

static const plume_param snippet_params[] = {
    { "model", PLUME_MODEL, NULL, "the model whose embeddings compare the context and each snippet", PLUME_NO_RANGE },
    { "snippet_chars", PLUME_INT, "250", "a snippet is sentences appended until it holds this many characters",
      PLUME_AT_LEAST(1) },
    RANK_BUDGET_PARAM,
    RANK_EMBED_CACHE_PARAM,
    { 0 },
};

const plume_stage rank_snippet = {
    .name = "rank.snippet",
    .doc = "RankSnippet (the paper's dense snippet ranking): every profile document is cut into snippets "
           "(sentences appended until 250 characters or the document ends), and the snippets are ranked "
           "by cosine similarity of the model's embeddings against the immediate context. The entries are "
           "snippets: id \"DOC#K\" (K-th snippet of document DOC, from 1), the document's title and time. "
           "Ties by time (newer first), then id. The batch's snippets are embedded together, each distinct "
           "text once per run (the model's embedding cache), and with `embed_cache` once across runs.",
    .inputs = rank_inputs,
    .outputs = rank_outputs,
    .params = snippet_params,
    .state_size = sizeof(snippet_state),
    .create = snippet_create,
    .run = snippet_run,
    .destroy = snippet_destroy,
};
