/* Dense scoring shared by rank.doc_dense, rank.snippet and rank.doc_by_snippet (with a model):
 * the cosine similarity of the language model's text embeddings (plume_lm_embed: mean-pooled,
 * unit-length final hidden states). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rank.h"

int rank_model_acquire(const plume_args *args, plume_host *host, const char *stage, plume_lm **lm,
                       plume_error *err) {
    const char *name = plume_args_string(args, "model");
    const char *path = plume_host_model_path(host, name);
    if (!path) return plume_fail(err, "%s: model '%s' is not declared in the graph's models:", stage, name);
    *lm = plume_lm_acquire(path, err);
    return *lm ? 0 : -1;
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
