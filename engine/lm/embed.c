/* Embeddings: mean-pooled final hidden states, for dense retrieval, through the model's
 * embedding cache (embed_cache.c): each distinct text goes through the model once, and the
 * texts that do are packed together into large submits. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "embed_cache.h"
#include "lm_internal.h"

/* Texts are embedded in groups of sequences (one KV cache each), the rows of a group packed
 * side by side into submits of up to EMBED_ROWS rows. On lavapipe each dispatch has a fixed
 * cost: 1024-row submits took 0.63x the kernel time of 128-row ones (the prefill chunk) for
 * the same texts; 4096 rows cost the same CPU time as 1024 but wait on fewer fences, which on
 * a busy host is wall time. EMBED_KV_BYTES bounds a group's KV caches. */
#define EMBED_GROUP 64
#define EMBED_ROWS 4096
#define EMBED_KV_BYTES (256ull << 20)

static atomic_ullong count_looked_up, count_embedded, count_passes;
atomic_ullong lm_embed_count_loaded;

void plume_lm_embed_counts(plume_embed_counts *out) {
    out->looked_up = atomic_load(&count_looked_up);
    out->embedded = atomic_load(&count_embedded);
    out->passes = atomic_load(&count_passes);
    out->loaded = atomic_load(&lm_embed_count_loaded);
}

void plume_lm_embed_cache_clear(plume_lm *lm) {
    lm_embed_cache_clear(lm->embed_cache);
}

/* Runs texts[0..n) through the model: vecs[i*dim ..] = the unit-length mean of text i's final
 * hidden states (the zero vector for a text with no tokens). */
static int embed_compute(plume_lm *lm, const char *const *texts, int n, float *vecs, plume_error *err) {
    const plume_lm_info *in = &lm->info;
    const int D = in->dim;
    int rc = -1, longest = 1, passes = 0;
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
    const uint64_t per_seq = (uint64_t)longest * in->head_dim * in->n_kv_heads * 4 * 2 * in->n_layers;
    int group = n < EMBED_GROUP ? (n > 0 ? n : 1) : EMBED_GROUP;
    while (group > 1 && per_seq * (uint64_t)group > EMBED_KV_BYTES) group--;
    if (n > 0 && !(b = lm_batch_create_rows(lm, group, longest, EMBED_ROWS, err))) goto out;
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
        if (k && lm_prefill_pooled(b, k, seqs, gt, gl, sums, &passes, err)) goto out;
        for (int i = 0; i < m; i++) memset(vecs + (size_t)(first + i) * D, 0, (size_t)D * sizeof *vecs);
        for (int j = 0; j < k; j++) {
            float *e = vecs + (size_t)idx[j] * D;
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
    atomic_fetch_add(&count_embedded, (unsigned long long)n);
    rc = 0;
out:
    atomic_fetch_add(&count_passes, (unsigned long long)passes);
    plume_lm_batch_free(b);
    for (int i = 0; toks && i < n; i++) free(toks[i]);
    free(toks);
    free(lens);
    free(sums);
    return rc;
}

/* A text the cache did not have: its hash, for finding the copies of one text in a call. */
typedef struct missing {
    uint64_t hash;
    const char *text;
    int at;        /* its index in the call */
} missing;

static int by_hash_then_text(const void *pa, const void *pb) {
    const missing *a = pa, *b = pb;
    if (a->hash != b->hash) return a->hash < b->hash ? -1 : 1;
    int c = strcmp(a->text, b->text);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

int plume_lm_embed(plume_lm *lm, const char *const *texts, int n, float *out, plume_error *err) {
    const int D = lm->info.dim;
    if (n < 0) return plume_fail(err, "%s: %d texts to embed", lm->path, n);
    if (n == 0) return 0;
    int rc = -1, n_miss = 0, n_uniq = 0;
    missing *miss = malloc((size_t)n * sizeof *miss);
    int *rep = malloc((size_t)n * sizeof *rep);              /* miss k's distinct text */
    const char **uniq = malloc((size_t)n * sizeof *uniq);
    float *scratch = malloc((size_t)D * sizeof *scratch), *vecs = NULL;
    if (!miss || !rep || !uniq || !scratch) {
        plume_fail(err, "%s: out of memory embedding %d texts", lm->path, n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(texts[i]);
        if (lm_embed_cache_get(lm->embed_cache, texts[i], len, out ? out + (size_t)i * D : scratch)) continue;
        miss[n_miss++] = (missing){ lm_hash64(LM_HASH64_SEED, texts[i], len), texts[i], i };
    }
    if (out) atomic_fetch_add(&count_looked_up, (unsigned long long)n);
    qsort(miss, (size_t)n_miss, sizeof *miss, by_hash_then_text);
    for (int k = 0; k < n_miss; k++) {
        if (k == 0 || miss[k].hash != miss[k - 1].hash || strcmp(miss[k].text, miss[k - 1].text))
            uniq[n_uniq++] = miss[k].text;
        rep[k] = n_uniq - 1;
    }
    if (n_uniq) {
        if (!(vecs = malloc((size_t)n_uniq * D * sizeof *vecs))) {
            plume_fail(err, "%s: out of memory embedding %d texts", lm->path, n_uniq);
            goto done;
        }
        if (embed_compute(lm, uniq, n_uniq, vecs, err)) goto done;
    }
    for (int u = 0; u < n_uniq; u++) {
        float *v = vecs + (size_t)u * D;
        size_t len = strlen(uniq[u]);
        int put = lm_embed_cache_put(lm->embed_cache, uniq[u], len, v);
        if (put < 0) {
            plume_fail(err, "%s: out of memory caching %d embeddings", lm->path, n_uniq);
            goto done;
        }
        if (put > 0) atomic_fetch_add(&lm->embed_added, 1);
        /* another thread may have stored this text first: give what the cache holds, so a
         * text's vector is one and the same everywhere in the run */
        else lm_embed_cache_get(lm->embed_cache, uniq[u], len, v);
    }
    for (int k = 0; out && k < n_miss; k++)
        memcpy(out + (size_t)miss[k].at * D, vecs + (size_t)rep[k] * D, (size_t)D * sizeof *out);
    rc = 0;
done:
    free(miss);
    free(rep);
    free(uniq);
    free(scratch);
    free(vecs);
    return rc;
}
