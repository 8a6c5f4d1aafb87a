/* Helpers for the tests that run the model on the device against the reference. */
#ifndef PLUME_TEST_LM_GPU_UTIL_H
#define PLUME_TEST_LM_GPU_UTIL_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/lm.h"
#include "ref_forward.h"

static inline int argmax_f(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

static inline double max_abs_diff(const float *a, const float *b, int n) {
    double d = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = e;  /* NaN counts as infinitely far */
    }
    return d;
}

/* Feeds the prompt, then `steps` tokens chosen greedily by the reference, through both
 * the device (one prefill, then decode steps) and the reference, and returns the largest
 * absolute logit difference seen over every step (or INFINITY on an error).
 * *scale gets the largest |logit| of the reference, to read the tolerance against. */
static inline double compare_with_reference_ex(plume_lm *lm, const ref_model *m, const int32_t *prompt,
                                               int n_prompt, int steps, int decode_last, double *scale) {
    const int V = m->vocab;
    plume_error err;
    ref_state s;
    float *logits = malloc((size_t)V * sizeof *logits);
    plume_lm_batch *b = plume_lm_batch_create(lm, 1, n_prompt + steps + 1, &err);
    double worst = INFINITY;
    *scale = 0;
    if (!logits || !b || ref_state_alloc(&s, m)) {
        fprintf(stderr, "compare_with_reference: %s\n", b ? "out of memory" : err.msg);
        free(logits);
        plume_lm_batch_free(b);
        return worst;
    }
    const float *ref = NULL;
    for (int i = 0; i < n_prompt; i++) ref = ref_forward(m, &s, prompt[i], i);
    /* decode_last: the prompt but its last token without logits, then that token decoded */
    int seq0 = 0;
    if (decode_last ? plume_lm_prefill(b, 0, prompt, n_prompt - 1, NULL, &err) ||
                          plume_lm_decode(b, 1, &seq0, &prompt[n_prompt - 1], logits, NULL, &err)
                    : plume_lm_prefill(b, 0, prompt, n_prompt, logits, &err)) {
        fprintf(stderr, "prefill: %s\n", err.msg);
        goto out;
    }
    worst = 0;
    for (int t = 0;; t++) {
        double d = max_abs_diff(logits, ref, V);
        if (!(d <= worst)) worst = d;
        for (int i = 0; i < V; i++) if (fabs(ref[i]) > *scale) *scale = fabs(ref[i]);
        if (t == steps) break;
        int32_t next = argmax_f(ref, V);
        int seq = 0;
        if (plume_lm_decode(b, 1, &seq, &next, logits, NULL, &err)) {
            fprintf(stderr, "decode: %s\n", err.msg);
            worst = INFINITY;
            break;
        }
        ref = ref_forward(m, &s, next, n_prompt + t);
    }
out:
    ref_state_free(&s);
    free(logits);
    plume_lm_batch_free(b);
    return worst;
}

static inline double compare_with_reference(plume_lm *lm, const ref_model *m, const int32_t *prompt, int n_prompt,
                                            int steps, double *scale) {
    return compare_with_reference_ex(lm, m, prompt, n_prompt, steps, 0, scale);
}

/* A scratch directory for the test's model files. */
static inline char *scratch_dir(void) {
    static char dir[] = "/tmp/plume-lm-test-XXXXXX";
    return mkdtemp(dir);
}
#endif
