/* Embeddings: mean-pooled final hidden states, for dense retrieval. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lm_internal.h"

/* Texts are embedded in groups, one sequence each, their rows packed together into
 * shared submits, so many short snippets cost a few submits rather than one each. */
#define EMBED_GROUP 16
#define EMBED_CACHE_BYTES (256ull << 20)

int plume_lm_embed(plume_lm *lm, const char *const *texts, int n, float *out, plume_error *err) {
    const plume_lm_info *in = &lm->info;
    const int D = in->dim;
    int rc = -1, longest = 1;
    int32_t **toks = calloc((size_t)(n > 0 ? n : 1), sizeof *toks);
    int *lens = calloc((size_t)(n > 0 ? n : 1), sizeof *lens);
    double *sums = calloc((size_t)EMBED_GROUP * D, sizeof *sums);
    plume_lm_batch *b = NULL;
    if (!toks || !lens || !sums) {
        plume_fail(err, "%s: out of memory embedding %d texts", lm->path, n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (!(toks[i] = lm_tokenize_alloc(lm, texts[i], -1, 0, &lens[i], err))) goto out;
        if (lens[i] > in->ctx_len) lens[i] = in->ctx_len;
        if (lens[i] > longest) longest = lens[i];
    }
    /* as many sequences per group as keep the KV caches within EMBED_CACHE_BYTES */
    const uint64_t per_seq = (uint64_t)longest * in->head_dim * in->n_kv_heads * 4 * 2 * in->n_layers;
    int group = n < EMBED_GROUP ? (n > 0 ? n : 1) : EMBED_GROUP;
    while (group > 1 && per_seq * (uint64_t)group > EMBED_CACHE_BYTES) group--;
    if (n > 0 && !(b = plume_lm_batch_create(lm, group, longest, err))) goto out;
    for (int first = 0; first < n; first += group) {
        int m = n - first < group ? n - first : group, seqs[EMBED_GROUP], k = 0;
        const int32_t *gt[EMBED_GROUP];
        int gl[EMBED_GROUP], idx[EMBED_GROUP];
        for (int i = 0; i < m; i++) {
            plume_lm_batch_reset(b, i);
            if (lens[first + i] == 0) continue;  /* no BOS and no text: the zero vector */
            seqs[k] = i;
            gt[k] = toks[first + i];
            gl[k] = lens[first + i];
            idx[k++] = first + i;
        }
        memset(sums, 0, (size_t)EMBED_GROUP * D * sizeof *sums);
        if (k && lm_prefill_pooled(b, k, seqs, gt, gl, sums, err)) goto out;
        for (int i = 0; i < m; i++) memset(out + (size_t)(first + i) * D, 0, (size_t)D * sizeof *out);
        for (int j = 0; j < k; j++) {
            float *e = out + (size_t)idx[j] * D;
            double norm = 0;
            for (int d = 0; d < D; d++) {
                double v = sums[(size_t)j * D + d] / gl[j];
                norm += v * v;
                e[d] = (float)v;
            }
            float inv = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
            for (int d = 0; d < D; d++) e[d] *= inv;
        }
    }
    rc = 0;
out:
    plume_lm_batch_free(b);
    for (int i = 0; toks && i < n; i++) free(toks[i]);
    free(toks);
    free(lens);
    free(sums);
    return rc;
}

