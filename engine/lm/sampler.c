/* The sampler: picks the next token from logits on the CPU.
 *
 * Greedy, or a draw from softmax(logits / temperature) restricted to the top k
 * tokens and then to the smallest prefix (by probability) whose mass reaches top_p.
 * The random stream is splitmix64-seeded xorshift64*, so one seed gives the same
 * tokens on every machine; ties are broken by the lower token id everywhere, so
 * top_k = 1 is exactly greedy. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plume/lm.h"

typedef struct prob_index {
    float p;
    int32_t i;
} prob_index;

struct plume_sampler {
    plume_sampling params;
    int vocab;
    uint64_t rng;
    prob_index *sorted;   /* [vocab] scratch */
    float *probs;         /* [vocab] scratch */
};

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* xorshift64*: a uniform float in [0, 1) from the top 24 bits. */
static float rng_uniform(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (float)((x * 0x2545f4914f6cdd1dull) >> 40) * (1.0f / 16777216.0f);
}

plume_sampler *plume_sampler_create(const plume_sampling *params, int vocab_size, plume_error *err) {
    if (vocab_size <= 0 || vocab_size > (1 << 24)) {
        plume_fail(err, "sampler: vocabulary size %d is out of range (1..16777216)", vocab_size);
        return NULL;
    }
    plume_sampler *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->params = *params;
    s->vocab = vocab_size;
    s->rng = splitmix64(params->seed);
    if (s->rng == 0) s->rng = 1;  /* xorshift's one fixed point */
    s->sorted = malloc((size_t)vocab_size * sizeof *s->sorted);
    s->probs = malloc((size_t)vocab_size * sizeof *s->probs);
    if (!s->sorted || !s->probs) goto oom;
    return s;
oom:
    plume_sampler_free(s);
    plume_fail(err, "sampler: out of memory for a vocabulary of %d tokens", vocab_size);
    return NULL;
}

void plume_sampler_free(plume_sampler *s) {
    if (!s) return;
    free(s->sorted);
    free(s->probs);
    free(s);
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* Descending probability, then ascending id: a total order, so qsort is deterministic. */
static int cmp_prob_desc(const void *a, const void *b) {
    const prob_index *x = a, *y = b;
    if (x->p > y->p) return -1;
    if (x->p < y->p) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Fills s->probs with the filtered, renormalised distribution. With no filter the
 * tokens stay in id order; otherwise s->sorted[0..kept) lists the survivors. */
static int filtered_probs(plume_sampler *s, const float *logits) {
    const int n = s->vocab;
    const float inv_t = 1.0f / s->params.temperature;
    float mx = -FLT_MAX;
    for (int i = 0; i < n; i++)
        if (logits[i] > mx) mx = logits[i];
    double sum = 0;
    for (int i = 0; i < n; i++) {
        s->probs[i] = expf((logits[i] - mx) * inv_t);
        sum += s->probs[i];
    }
    for (int i = 0; i < n; i++) s->probs[i] = (float)(s->probs[i] / sum);

    int k = s->params.top_k > 0 && s->params.top_k < n ? s->params.top_k : n;
    const float p = s->params.top_p;
    if (k == n && !(p > 0 && p < 1)) return n;

    for (int i = 0; i < n; i++) s->sorted[i] = (prob_index){ s->probs[i], i };
    qsort(s->sorted, (size_t)n, sizeof *s->sorted, cmp_prob_desc);
    /* top-p over the top-k survivors, renormalised among themselves */
    if (p > 0 && p < 1) {
        double mass = 0;
        for (int i = 0; i < k; i++) mass += s->sorted[i].p;
        double cum = 0;
        int keep = k;
        for (int i = 0; i < k; i++) {
            cum += s->sorted[i].p / mass;
            if (cum >= p) { keep = i + 1; break; }
        }
        k = keep;
    }
    double kept = 0;
    for (int i = 0; i < k; i++) kept += s->sorted[i].p;
    memset(s->probs, 0, (size_t)n * sizeof *s->probs);
    for (int i = 0; i < k; i++) s->probs[s->sorted[i].i] = (float)(s->sorted[i].p / kept);
    return k;
}

void plume_sampler_probs(plume_sampler *s, const float *logits, float *probs) {
    if (s->params.temperature <= 0) {
        memset(probs, 0, (size_t)s->vocab * sizeof *probs);
        probs[argmax(logits, s->vocab)] = 1.0f;
        return;
    }
    filtered_probs(s, logits);
    memcpy(probs, s->probs, (size_t)s->vocab * sizeof *probs);
}

int32_t plume_sampler_sample(plume_sampler *s, const float *logits) {
    if (s->params.temperature <= 0) return argmax(logits, s->vocab);
    int kept = filtered_probs(s, logits);
    float r = rng_uniform(&s->rng);
    float cdf = 0;
    if (kept == s->vocab) {
        int32_t last = 0;
        for (int i = 0; i < s->vocab; i++) {
            if (s->probs[i] <= 0) continue;
            cdf += s->probs[i];
            last = i;
            if (r < cdf) return i;
        }
        return last;  /* rounding left r above the total */
    }
    for (int i = 0; i < kept; i++) {
        cdf += s->probs[s->sorted[i].i];
        if (r < cdf) return s->sorted[i].i;
    }
    return s->sorted[kept - 1].i;
}
