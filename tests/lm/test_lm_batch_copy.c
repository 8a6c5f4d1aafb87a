/* Copying KV caches between sequences (plume_lm_batch_copy), as a beam search forks, with the
 * shipped stories260K model. Within a lineage (a sequence and the copies made of it) the copy
 * skips the start the caches share; across lineages, after a reset, or from an empty sequence it
 * copies everything. Whatever it skipped, every sequence must then continue exactly as a fresh
 * sequence prefilled with that sequence's whole history does: the logits of one more decode
 * step are compared with such twins. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "lm_test_util.h"
#include "plume/gpu.h"
#include "plume/lm.h"

enum { MAXH = 64 };

typedef struct history {
    int32_t t[MAXH];
    int n;
} history;

static plume_lm *lm;
static int V;

/* The logits after a fresh sequence is prefilled with h (one sequence of its own batch). */
static void twin_logits(const history *h, float *out) {
    plume_error err;
    plume_lm_batch *b = plume_lm_batch_create(lm, 1, 0, &err);
    CHECK(b && plume_lm_prefill(b, 0, h->t, h->n, out, &err) == 0);
    plume_lm_batch_free(b);
}

static double max_diff(const float *a, const float *b) {
    double worst = 0;
    for (int j = 0; j < V; j++) worst = fmax(worst, fabs((double)a[j] - b[j]));
    return worst;
}

/* One decode of seqs[0..n) with tokens, each history extended, each compared with its twin. */
static void decode_and_compare(plume_lm_batch *b, int n, const int *seqs, const int32_t *tokens, history *h,
                               const char *what) {
    plume_error err;
    float *got = malloc((size_t)n * V * sizeof *got), *want = malloc((size_t)V * sizeof *want);
    CHECK_MSG(plume_lm_decode(b, n, seqs, tokens, got, NULL, &err) == 0, "%s: %s", what, err.msg);
    for (int i = 0; i < n; i++) {
        history *x = &h[seqs[i]];
        x->t[x->n++] = tokens[i];
        CHECK(plume_lm_batch_len(b, seqs[i]) == x->n);
        twin_logits(x, want);
        double d = max_diff(got + (size_t)i * V, want);
        CHECK_MSG(d < 1e-3, "%s: sequence %d differs from its twin by %g", what, seqs[i], d);
    }
    free(got);
    free(want);
}

static void copy(plume_lm_batch *b, history *h, int dst, int src) {
    plume_error err;
    CHECK_MSG(plume_lm_batch_copy(b, dst, src, &err) == 0, "copy %d <- %d: %s", dst, src, err.msg);
    h[dst] = h[src];
    CHECK(plume_lm_batch_len(b, dst) == h[src].n);
}

int main(void) {
    if (!(lm = acquire_stories260k())) return 1;
    plume_error err;
    V = plume_lm_get_info(lm)->vocab_size;
    history h[4] = {0};
    h[0].n = plume_lm_tokenize(lm, "Once upon a time, there was a little girl named Lily", 1, h[0].t, MAXH, &err);
    CHECK(h[0].n > 5);
    plume_lm_batch *b = plume_lm_batch_create(lm, 4, 0, &err);
    CHECK(b != NULL);
    if (!b) return check_finish("test_lm_batch_copy");
    CHECK(plume_lm_prefill(b, 0, h[0].t, h[0].n, NULL, &err) == 0);
    /* a beam search's first fork: 0's prompt into 1 and 2 (whole: another lineage each) */
    copy(b, h, 1, 0);
    copy(b, h, 2, 0);
    int s3[3] = {0, 1, 2};
    decode_and_compare(b, 3, s3, (int32_t[]){300, 17, 401}, h, "after the first fork");
    /* within the lineage: 1 onto 0 (only the decoded row moves); 2 onto 3, a fresh sequence */
    copy(b, h, 0, 1);
    copy(b, h, 3, 2);
    int s4[4] = {0, 1, 2, 3};
    decode_and_compare(b, 4, s4, (int32_t[]){45, 46, 47, 48}, h, "after forks within and across lineages");
    /* two steps more of 3, then 3 onto 1 (same lineage, three rows differ) */
    decode_and_compare(b, 1, (int[]){3}, (int32_t[]){200}, h, "3 alone");
    copy(b, h, 1, 3);
    decode_and_compare(b, 2, (int[]){1, 3}, (int32_t[]){60, 61}, h, "3 onto 1");
    /* a reset leaves the lineage: 2 restarts with other text, then goes onto 0 (everything) */
    plume_lm_batch_reset(b, 2);
    h[2].n = plume_lm_tokenize(lm, "The dog ran", 1, h[2].t, MAXH, &err);
    CHECK(plume_lm_prefill(b, 2, h[2].t, h[2].n, NULL, &err) == 0);
    copy(b, h, 0, 2);
    decode_and_compare(b, 2, (int[]){0, 2}, (int32_t[]){70, 71}, h, "after a reset");
    /* and 0, now of 2's lineage, takes 1's again: across lineages, whole */
    copy(b, h, 0, 1);
    decode_and_compare(b, 2, (int[]){0, 1}, (int32_t[]){80, 81}, h, "back across lineages");
    /* an empty sequence copied: the destination is empty, and starts anew */
    plume_lm_batch_reset(b, 3);
    h[3].n = 0;
    copy(b, h, 2, 3);
    CHECK(plume_lm_batch_len(b, 2) == 0);
    h[2].n = plume_lm_tokenize(lm, "A cat", 1, h[2].t, MAXH, &err);
    CHECK(plume_lm_prefill(b, 2, h[2].t, h[2].n, NULL, &err) == 0);
    decode_and_compare(b, 1, (int[]){2}, (int32_t[]){90}, h, "after an empty copy");
    plume_lm_batch_free(b);
    plume_lm_release(lm);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_lm_batch_copy");
}
