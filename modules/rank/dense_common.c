/* Dense scoring shared by rank.doc_dense, rank.snippet and rank.doc_by_snippet (with a model):
 * the cosine similarity of the language model's text embeddings (plume_lm_embed: mean-pooled,
 * unit-length final hidden states). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rank.h"

int rank_encoder_open(rank_encoder *enc, const plume_args *args, plume_host *host, const char *stage,
                      plume_error *err) {
    memset(enc, 0, sizeof *enc);
    const char *name = plume_args_string(args, "model");
    const char *path = plume_host_model_path(host, name);
    if (!path) return plume_fail(err, "%s: model '%s' is not declared in the graph's models:", stage, name);
    if (!(enc->lm = plume_lm_acquire(path, err))) return -1;
    enc->host = host;
    const char *file = plume_args_string(args, "embed_cache");
    if (!file[0]) return 0;
    int rc = plume_lm_embed_cache_attach(enc->lm, file, err);
    if (rc < 0) {
        plume_fail_prefix(err, "%s: embed_cache: ", stage);
        plume_lm_release(enc->lm);
        enc->lm = NULL;
        return -1;
    }
    if (rc > 0) {
        plume_host_log(host, PLUME_LOG_WARN, "embed_cache: %s", err->msg);
        err->msg[0] = '\0';
    }
    enc->file = 1;
    return 0;
}

void rank_encoder_close(rank_encoder *enc) {
    plume_error err = { { 0 } };
    if (enc->file && plume_lm_embed_cache_detach(enc->lm, &err))
        plume_host_log(enc->host, PLUME_LOG_WARN, "embed_cache: %s", err.msg);
    plume_lm_release(enc->lm);
    memset(enc, 0, sizeof *enc);
}

int rank_texts_take(rank_texts *t, char *text) {
    if (!text) return -1;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **p = realloc(t->items, cap * sizeof *p);
        if (!p) {
            free(text);
            return -1;
        }
        t->items = p;
        t->cap = cap;
    }
    t->items[t->count++] = text;
    return 0;
}

void rank_texts_free(rank_texts *t) {
    for (size_t i = 0; i < t->count; i++) free(t->items[i]);
    free(t->items);
    memset(t, 0, sizeof *t);
}

void rank_dense_prefetch(plume_lm *lm, plume_batch *batch, void *state, rank_texts_fn texts) {
    rank_texts all = { 0 };
    for (size_t r = 0; r < plume_batch_count(batch); r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *q = plume_batch_in(batch, r, 0), *p = plume_batch_in(batch, r, 1);
        if (q->type != PLUME_TEXT || p->type != PLUME_DOCS) continue;
        if (rank_texts_take(&all, strdup(q->as.text.str)) || texts(state, p->as.docs.items, p->as.docs.count, &all))
            goto done;
    }
    if (all.count && all.count <= (size_t)1 << 20) {
        plume_error err = { { 0 } };
        (void)plume_lm_embed(lm, (const char *const *)all.items, (int)all.count, NULL, &err);
    }
done:
    rank_texts_free(&all);
}

int rank_dense_scores(plume_lm *lm, const char *query, const char *const *texts, size_t n, double *scores,
                      plume_error *err) {
    if (n == 0) return 0;
    if (n > (size_t)1 << 20) return plume_fail(err, "%zu texts to embed: more than the 1M this stage takes", n);
    const int dim = plume_lm_get_info(lm)->dim;
    const char **all = malloc((n + 1) * sizeof *all);
    float *e = malloc((n + 1) * (size_t)dim * sizeof *e);
    int rc = -1;
    if (!all || !e) {
        plume_fail(err, "out of memory embedding %zu texts", n + 1);
        goto done;
    }
    all[0] = query;
    memcpy(all + 1, texts, n * sizeof *texts);
    if (plume_lm_embed(lm, all, (int)(n + 1), e, err)) goto done;
    /* The embeddings are unit length, but an empty text embeds as the zero vector: the cosine is
     * computed in full, and 0 when either side has no direction. */
    double qq = 0;
    for (int k = 0; k < dim; k++) qq += (double)e[k] * e[k];
    for (size_t i = 0; i < n; i++) {
        const float *d = e + (i + 1) * (size_t)dim;
        double dot = 0, dd = 0;
        for (int k = 0; k < dim; k++) {
            dot += (double)e[k] * d[k];
            dd += (double)d[k] * d[k];
        }
        scores[i] = qq > 0 && dd > 0 ? dot / sqrt(qq * dd) : 0.0;
    }
    rc = 0;
done:
    free(all);
    free(e);
    return rc;
}

char *rank_doc_text(const plume_doc *d) {
    const char *title = d->title ? d->title : "", *text = d->text ? d->text : "";
    size_t tl = strlen(title), xl = strlen(text);
    char *s = malloc(tl + xl + 2);
    if (!s) return NULL;
    memcpy(s, title, tl);
    size_t at = tl;
    if (tl && xl) s[at++] = '\n';
    memcpy(s + at, text, xl + 1);
    return s;
}
