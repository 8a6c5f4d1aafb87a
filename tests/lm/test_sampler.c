/* The sampler: seeded determinism, top-k = 1 is greedy, temperature, top-k and
 * top-p on a hand-made distribution (expected values worked by hand), and the
 * frequencies of many draws against the filtered distribution. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "plume/lm.h"

static plume_sampler *make(float temp, int top_k, float top_p, uint64_t seed, int vocab) {
    plume_sampling p = { temp, top_k, top_p, seed };
    plume_error err;
    plume_sampler *s = plume_sampler_create(&p, vocab, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    return s;
}

/* plume_sampler_probs with top-p p alone against a full sort in double: the same kept set
 * and probabilities within 1e-6. Returns the nucleus' size, 0 where they differ. */
static int check_nucleus(const float *logits, int n, float p) {
    int *order = malloc((size_t)n * sizeof *order);
    double *w = malloc((size_t)n * sizeof *w);
    float *got = malloc((size_t)n * sizeof *got);
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++)   /* insertion sort by logit descending, then id */
        for (int j = i; j > 0 && (logits[order[j]] > logits[order[j - 1]] ||
                                  (logits[order[j]] == logits[order[j - 1]] && order[j] < order[j - 1])); j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    double total = 0, run = 0, kept = 0;
    for (int i = 0; i < n; i++) total += w[i] = exp((double)logits[order[i]] - logits[order[0]]);
    int keep = n;
    for (int i = 0; i < n; i++) {
        run += w[i];
        if (run >= p * total) {
            keep = i + 1;
            kept = run;
            break;
        }
    }
    plume_sampler *s = make(1.0f, 0, p, 5, n);
    plume_sampler_probs(s, logits, got);
    int match = 1;
    for (int i = 0; i < n; i++)
        match &= fabs(got[order[i]] - (i < keep ? w[i] / kept : 0)) <= 1e-6 && (got[order[i]] > 0) == (i < keep);
    CHECK_MSG(match, "top-p %g over %d logits: the kept set or its probabilities differ from a full sort", p, n);
    plume_sampler_free(s);
    free(order), free(w), free(got);
    return match ? keep : 0;
}

int main(void) {
    /* p = 0.5, 0.2, 0.15, 0.1, 0.05 as logits */
    const float p[5] = { 0.5f, 0.2f, 0.15f, 0.1f, 0.05f };
    float logits[5], probs[5];
    for (int i = 0; i < 5; i++) logits[i] = logf(p[i]) + 3.0f;  /* a shift must not matter */

    /* temperature 1, no filter: the distribution itself */
    plume_sampler *s = make(1.0f, 0, 1.0f, 1, 5);
    plume_sampler_probs(s, logits, probs);
    for (int i = 0; i < 5; i++) CHECK_NEAR(probs[i], p[i], 1e-6);
    plume_sampler_free(s);

    /* top-p 0.75: 0.5 + 0.2 = 0.7 < 0.75 <= 0.85, so three tokens, renormalised by 0.85 */
    s = make(1.0f, 0, 0.75f, 1, 5);
    plume_sampler_probs(s, logits, probs);
    CHECK_NEAR(probs[0], 0.5 / 0.85, 1e-6);
    CHECK_NEAR(probs[1], 0.2 / 0.85, 1e-6);
    CHECK_NEAR(probs[2], 0.15 / 0.85, 1e-6);
    CHECK(probs[3] == 0 && probs[4] == 0);
    /* the draws follow it: 20000 draws, frequencies within 0.015 */
    int count[5] = { 0 };
    for (int i = 0; i < 20000; i++) count[plume_sampler_sample(s, logits)]++;
    CHECK_NEAR(count[0] / 20000.0, 0.5 / 0.85, 0.015);
    CHECK_NEAR(count[1] / 20000.0, 0.2 / 0.85, 0.015);
    CHECK_NEAR(count[2] / 20000.0, 0.15 / 0.85, 0.015);
    CHECK(count[3] == 0 && count[4] == 0);
    plume_sampler_free(s);

    /* top-p 0.4: the first token alone covers it */
    s = make(1.0f, 0, 0.4f, 1, 5);
    plume_sampler_probs(s, logits, probs);
    CHECK_NEAR(probs[0], 1.0, 1e-6);
    CHECK(probs[1] == 0 && probs[2] == 0);
    plume_sampler_free(s);

    /* top-k 2, then top-p 0.9 over the renormalised pair (0.714, 0.286): both stay */
    s = make(1.0f, 2, 0.9f, 1, 5);
    plume_sampler_probs(s, logits, probs);
    CHECK_NEAR(probs[0], 0.5 / 0.7, 1e-6);
    CHECK_NEAR(probs[1], 0.2 / 0.7, 1e-6);
    CHECK(probs[2] == 0);
    plume_sampler_free(s);

    /* temperature 2: p^(1/2), renormalised */
    s = make(2.0f, 0, 1.0f, 1, 5);
    plume_sampler_probs(s, logits, probs);
    double z = 0;
    for (int i = 0; i < 5; i++) z += sqrt(p[i]);
    for (int i = 0; i < 5; i++) CHECK_NEAR(probs[i], sqrt(p[i]) / z, 1e-6);
    plume_sampler_free(s);

    /* seeded determinism over a 1000-token vocabulary */
    enum { V = 1000, N = 300 };
    static float big[V];
    uint32_t h = 12345;
    for (int i = 0; i < V; i++) {
        h = h * 1664525u + 1013904223u;
        big[i] = (float)(h >> 8) / (float)(1u << 24) * 6.0f;
    }
    plume_sampler *a = make(0.9f, 50, 0.95f, 42, V), *b = make(0.9f, 50, 0.95f, 42, V),
                  *c = make(0.9f, 50, 0.95f, 43, V);
    int same = 1, differs = 0;
    for (int i = 0; i < N; i++) {
        int32_t x = plume_sampler_sample(a, big), y = plume_sampler_sample(b, big), w = plume_sampler_sample(c, big);
        same &= x == y;
        differs |= x != w;
    }
    CHECK(same);
    CHECK(differs);
    plume_sampler_free(a);
    plume_sampler_free(b);
    plume_sampler_free(c);

    /* top-k 1 at any temperature is greedy; greedy takes the first of equal maxima */
    plume_sampler *k1 = make(1.5f, 1, 1.0f, 7, V), *g = make(0.0f, 0, 1.0f, 7, V);
    int agree = 1;
    for (int r = 0; r < 50; r++) {
        for (int i = 0; i < V; i++) {
            h = h * 1664525u + 1013904223u;
            big[i] = (float)(h >> 8) / (float)(1u << 24);
        }
        int32_t want = 0;
        for (int i = 1; i < V; i++) if (big[i] > big[want]) want = i;
        agree &= plume_sampler_sample(k1, big) == want && plume_sampler_sample(g, big) == want;
    }
    CHECK(agree);
    for (int i = 0; i < V; i++) big[i] = 0.0f;
    big[17] = big[400] = 2.0f;
    CHECK(plume_sampler_sample(g, big) == 17);
    CHECK(plume_sampler_sample(k1, big) == 17);
    plume_sampler_free(k1);
    plume_sampler_free(g);

    /* top-k among ties: logits i % 3 over 100 tokens; the five kept are the first five
     * with logit 2 (ids 2, 5, 8, 11, 14), alike */
    {
        float tied[100], tp[100];
        for (int i = 0; i < 100; i++) tied[i] = (float)(i % 3);
        plume_sampler *t5 = make(1.0f, 5, 1.0f, 3, 100);
        plume_sampler_probs(t5, tied, tp);
        int kept_ok = 1;
        for (int i = 0; i < 100; i++) kept_ok &= tp[i] == (i % 3 == 2 && i <= 14 ? 0.2f : 0.0f);
        CHECK_MSG(kept_ok, "top-k 5 among ties keeps ids 2, 5, 8, 11, 14");
        plume_sampler_free(t5);
        /* top-k 50 (a large share: the whole vocabulary is radix-sorted): the 33 of logit 2,
         * then the 17 first of logit 1 (ids 1, 4, ..., 49) */
        plume_sampler *t50 = make(1.0f, 50, 1.0f, 3, 100);
        plume_sampler_probs(t50, tied, tp);
        kept_ok = 1;
        for (int i = 0; i < 100; i++) kept_ok &= (tp[i] > 0) == (i % 3 == 2 || (i % 3 == 1 && i <= 49));
        CHECK_MSG(kept_ok, "top-k 50 among ties keeps logit 2's and ids 1..49 of logit 1");
        plume_sampler_free(t50);
    }

    /* top-p alone: a flat distribution over 1000 tokens (a nucleus of hundreds: the whole
     * vocabulary is ranked) and a peaked one (a nucleus of a few: only those are ranked) */
    {
        enum { F = 1000 };
        static float flat[F];
        uint32_t lcg = 99;
        for (int i = 0; i < F; i++) {
            lcg = lcg * 1664525u + 1013904223u;
            flat[i] = (float)(lcg >> 8) / (float)(1u << 24) * 0.5f;
        }
        CHECK_MSG(check_nucleus(flat, F, 0.9f) > 256, "a flat nucleus");
        for (int i = 0; i < F; i++) flat[i] = i % 97 == 5 ? 10.0f + (float)(i % 7) * 0.1f : flat[i];
        int small = check_nucleus(flat, F, 0.9f);
        CHECK_MSG(small > 1 && small <= 11, "a peaked nucleus of %d", small);
    }

    plume_error err;
    plume_sampling bad = { 1.0f, 0, 1.0f, 0 };
    CHECK(plume_sampler_create(&bad, 0, &err) == NULL);
    return check_finish("test_sampler");
}
