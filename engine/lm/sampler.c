/* The sampler: picks the next token from logits on the CPU (and hands top-k draws to the device).
 *
 * Greedy, or a draw from softmax(logits / temperature) restricted to the top k
 * tokens and then to the smallest prefix (by probability) whose mass reaches top_p.
 * With either filter the tokens are ranked by logit (ties: lower id first) and the draw
 * walks that ranking; without, it walks the ids in order. plume_sampler_draw hands a
 * top-k draw to the device instead (shaders/sample.comp), which picks the same token but
 * where exp() rounds differently at a boundary.
 * The random stream is splitmix64-seeded xorshift64*, so one seed gives the same
 * tokens on every machine; ties are broken by the lower token id everywhere, so
 * top_k = 1 is exactly greedy. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plume/lm.h"

/* A token and its logit, ranked by logit descending, then id ascending. */
typedef struct ranked {
    float logit;
    int32_t i;
} ranked;

struct plume_sampler {
    plume_sampling params;
    int vocab;
    uint64_t rng;
    ranked *sorted;       /* [vocab] scratch */
    ranked *spare;        /* [vocab] scratch for the radix sort */
    float *probs;         /* [vocab] scratch: probabilities, or the candidates' weights */
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
    s->spare = malloc((size_t)vocab_size * sizeof *s->spare);
    s->probs = malloc((size_t)vocab_size * sizeof *s->probs);
    if (!s->sorted || !s->spare || !s->probs) goto oom;
    return s;
oom:
    plume_sampler_free(s);
    plume_fail(err, "sampler: out of memory for a vocabulary of %d tokens", vocab_size);
    return NULL;
}

void plume_sampler_free(plume_sampler *s) {
    if (!s) return;
    free(s->sorted);
    free(s->spare);
    free(s->probs);
    free(s);
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* Logit descending, then id ascending: a total order (NaN last), so qsort is deterministic. */
static int cmp_logit_desc(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    int xn = isnan(x->logit), yn = isnan(y->logit);
    if (xn != yn) return xn - yn;
    if (!xn && x->logit > y->logit) return -1;
    if (!xn && x->logit < y->logit) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* A logit's place in cmp_logit_desc's order as an unsigned key, larger first: the float's
 * bits made monotone, -0 as +0 (equal as floats), NaN below everything. shaders/sample.comp
 * keys logits the same way. */
static uint32_t order_key(float v) {
    if (isnan(v)) return 0;
    uint32_t b = 0;
    if (v != 0) memcpy(&b, &v, sizeof b);
    return b & 0x80000000u ? ~b : b | 0x80000000u;
}

/* s->sorted = every token in cmp_logit_desc's order: a stable radix sort, a byte of the key
 * at a time from the lowest, of the tokens in id order (so equal logits stay by id). About
 * 0.3 ms for 32000 tokens, where qsort took ~5. */
static void rank_all(plume_sampler *s, const float *logits) {
    const int n = s->vocab;
    ranked *from = s->sorted, *to = s->spare;
    for (int i = 0; i < n; i++) from[i] = (ranked){ logits[i], i };
    for (int shift = 0; shift < 32; shift += 8) {
        int start[256] = { 0 };
        for (int i = 0; i < n; i++) start[255 - (order_key(from[i].logit) >> shift & 255)]++;
        for (int d = 0, at = 0; d < 256; d++) {
            int c = start[d];
            start[d] = at;
            at += c;
        }
        for (int i = 0; i < n; i++) to[start[255 - (order_key(from[i].logit) >> shift & 255)]++] = from[i];
        ranked *t = from;
        from = to;
        to = t;
    }
    /* four passes: the result is back in s->sorted */
}

/* Heap order for ranked_top: a parent ranks after its children, so the root is the
 * last-ranked of the tokens kept so far. */
static void sift_down(ranked *h, int n, int i) {
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && cmp_logit_desc(&h[c + 1], &h[c]) > 0) c++;
        if (cmp_logit_desc(&h[c], &h[i]) <= 0) return;
        ranked t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

/* s->sorted[0..k) = the k first-ranked tokens, in rank order: a heap of k over the
 * vocabulary, then a sort of the k (top-k 40 of 32000 tokens: ~0.1 ms where sorting them
 * all took ~5 ms); for a k of a quarter of the vocabulary or more, a sort of it all. */
static void ranked_top(plume_sampler *s, const float *logits, int k) {
    const int n = s->vocab;
    ranked *h = s->sorted;
    if (k < n / 4) {
        for (int i = 0; i < k; i++) h[i] = (ranked){ logits[i], i };
        for (int i = k / 2 - 1; i >= 0; i--) sift_down(h, k, i);
        for (int i = k; i < n; i++) {
            ranked r = { logits[i], i };
            if (cmp_logit_desc(&r, &h[0]) < 0) {
                h[0] = r;
                sift_down(h, k, 0);
            }
        }
        qsort(h, (size_t)k, sizeof *h, cmp_logit_desc);
    } else {
        rank_all(s, logits);
    }
}

static int filtered(const plume_sampler *s) {
    const int n = s->vocab, k = s->params.top_k;
    const float p = s->params.top_p;
    return (k > 0 && k < n) || (p > 0 && p < 1);
}

/* s->probs[i] = the weight exp((l - top) / T) of the token ranked i, i < m; returns their
 * sum, taken in rank order. */
static float weigh(plume_sampler *s, int m, float top, float inv_t) {
    float total = 0;
    for (int i = 0; i < m; i++) {
        s->probs[i] = expf((s->sorted[i].logit - top) * inv_t);
        total += s->probs[i];
    }
    return total;
}

/* How many of the m weighed tokens it takes for the running weight to reach target, and
 * their weight in *kept; 0 where all m fall short (*kept: all of them). */
static int reach(const plume_sampler *s, int m, float target, float *kept) {
    float run = 0;
    for (int i = 0; i < m; i++) {
        run += s->probs[i];
        if (run >= target) {
            *kept = run;
            return i + 1;
        }
    }
    *kept = run;
    return 0;
}

/* Top-p over the whole vocabulary without sorting all of it. The weights are summed in id
 * order and binned by their binary exponent; the bins from the top down to the one where the
 * mass reaches p hold every token of the nucleus, and only those are ranked (a nucleus is
 * usually tens of tokens; sorting all 32000 took ~5 ms a draw). Should rounding leave the
 * walk short of p within them, the whole vocabulary is ranked. */
static int nucleus(plume_sampler *s, const float *logits, float p, float inv_t, float *kept) {
    const int n = s->vocab;
    float top = -INFINITY, total = 0;
    for (int i = 0; i < n; i++)
        if (logits[i] > top) top = logits[i];
    double mass[256] = { 0 };
    int count[256] = { 0 };
    for (int i = 0; i < n; i++) {
        float w = expf((logits[i] - top) * inv_t);
        uint32_t bits;
        memcpy(&bits, &w, sizeof bits);
        mass[(bits >> 23) & 255] += w;
        count[(bits >> 23) & 255]++;
        total += w;
    }
    const float target = p * total;
    double cum = 0;
    int m = 0;
    for (int b = 255; b >= 0 && cum < target; b--) {
        cum += mass[b];
        m += count[b];
    }
    if (m < 1 || m > n) m = n;
    ranked_top(s, logits, m);
    weigh(s, m, top, inv_t);
    int keep = reach(s, m, target, kept);
    if (keep || m == n) return keep ? keep : n;
    ranked_top(s, logits, n);
    weigh(s, n, top, inv_t);
    keep = reach(s, n, target, kept);
    return keep ? keep : n;
}

/* With top-k or top-p: s->sorted[0..k) ranks the top k tokens, s->probs[0..k) holds the top k's
 * weights w = exp((l - l_max) / T) (their softmax, unnormalised), and the return is how many
 * of them top-p keeps, *kept their weight. shaders/sample.comp does this arithmetic in
 * this order, so that the device draws what the CPU would. */
static int rank_and_weigh(plume_sampler *s, const float *logits, float *kept) {
    const int n = s->vocab;
    const int k = s->params.top_k > 0 && s->params.top_k < n ? s->params.top_k : n;
    const float p = s->params.top_p, inv_t = 1.0f / s->params.temperature;
    if (k == n && p > 0 && p < 1) return nucleus(s, logits, p, inv_t, kept);
    ranked_top(s, logits, k);
    const float total = weigh(s, k, s->sorted[0].logit, inv_t);
    *kept = total;
    int keep = p > 0 && p < 1 ? reach(s, k, p * total, kept) : 0;
    return keep ? keep : k;   /* short of p only by rounding: all k, whose sum is the total */
}

/* Unfiltered: s->probs = softmax(logits / T) in id order. */
static void softmax(plume_sampler *s, const float *logits) {
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
}

void plume_sampler_probs(plume_sampler *s, const float *logits, float *probs) {
    memset(probs, 0, (size_t)s->vocab * sizeof *probs);
    if (s->params.temperature <= 0) {
        probs[argmax(logits, s->vocab)] = 1.0f;
    } else if (!filtered(s)) {
        softmax(s, logits);
        memcpy(probs, s->probs, (size_t)s->vocab * sizeof *probs);
    } else {
        float kept;
        int keep = rank_and_weigh(s, logits, &kept);
        for (int i = 0; i < keep; i++) probs[s->sorted[i].i] = s->probs[i] / kept;
    }
}

int32_t plume_sampler_sample(plume_sampler *s, const float *logits) {
    if (s->params.temperature <= 0) return argmax(logits, s->vocab);
    float r = rng_uniform(&s->rng);
    if (!filtered(s)) {
        softmax(s, logits);
        float cdf = 0;
        int32_t last = 0;
        for (int i = 0; i < s->vocab; i++) {
            if (s->probs[i] <= 0) continue;
            cdf += s->probs[i];
            last = i;
            if (r < cdf) return i;
        }
        return last;  /* rounding left r above the total */
    }
    float kept;
    int keep = rank_and_weigh(s, logits, &kept);
    /* the first whose running weight passes r of the kept weight */
    float target = r * kept, run = 0;
    for (int i = 0; i < keep; i++) {
        run += s->probs[i];
        if (target < run) return s->sorted[i].i;
    }
    return s->sorted[keep - 1].i;  /* rounding left the target above the total */
}

int plume_sampler_draw(plume_sampler *s, plume_draw *d) {
    const plume_sampling *p = &s->params;
    if (!(p->temperature > 0) || p->top_k < 1 || p->top_k >= s->vocab || p->top_k > PLUME_DRAW_TOP_K_MAX) return 0;
    d->inv_temperature = 1.0f / p->temperature;
    d->top_k = p->top_k;
    d->top_p = p->top_p;
    d->r = rng_uniform(&s->rng);
    return 1;
}
