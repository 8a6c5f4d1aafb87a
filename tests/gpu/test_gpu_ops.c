/* rmsnorm, rope (normal and neox), kv_store + attention (grouped-query, causal, several
 * sequences, prompt then batched decode), silu_mul, add and argmax against plain-C
 * references. Tolerances are stated at each check; references compute in double. */
#include <math.h>
#include "gpu_internal.h"
#include "gpu_test.h"

static float *rand_vec(size_t n) {
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = rng_f();
    return v;
}

/* Largest |a - b| over n values, NaN counting as infinite. */
static double max_err(const float *a, const double *b, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}

static void test_rmsnorm(plume_gpu *gpu, uint32_t n, uint32_t dim, int in_place) {
    plume_error err;
    float *x = rand_vec((size_t)n * dim), *w = rand_vec(dim), *y = malloc((size_t)n * dim * 4);
    double *ref = malloc((size_t)n * dim * sizeof *ref);
    const float eps = 1e-5f;
    for (uint32_t i = 0; i < n; i++) {
        double ss = 0;
        for (uint32_t j = 0; j < dim; j++) ss += (double)x[i * dim + j] * x[i * dim + j];
        double s = 1.0 / sqrt(ss / dim + eps);
        for (uint32_t j = 0; j < dim; j++) ref[i * dim + j] = x[i * dim + j] * s * w[j];
    }
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * dim * 4), *bw = t_buffer(gpu, w, dim * 4);
    plume_gpu_buffer *by = in_place ? bx : t_buffer(gpu, NULL, (uint64_t)n * dim * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_rmsnorm(rec, bx, bw, by, n, dim, eps, &err));
    t_rec_run(rec);
    t_download(by, y, (uint64_t)n * dim * 4);
    /* Outputs are O(1..10); float sums of <= 4096 squares: 1e-4 absolute. */
    double e = max_err(y, ref, (size_t)n * dim);
    CHECK_MSG(e <= 1e-4, "rmsnorm n=%u dim=%u%s: max error %g", n, dim, in_place ? " in place" : "", e);
    plume_gpu_buffer_free(bx);
    plume_gpu_buffer_free(bw);
    if (!in_place) plume_gpu_buffer_free(by);
    free(x), free(w), free(y), free(ref);
}

/* x += r, y = rmsnorm(x) * w in one dispatch. */
static void test_add_rmsnorm(plume_gpu *gpu, uint32_t n, uint32_t dim) {
    plume_error err;
    float *x = rand_vec((size_t)n * dim), *r = rand_vec((size_t)n * dim), *w = rand_vec(dim);
    float *y = malloc((size_t)n * dim * 4), *xs = malloc((size_t)n * dim * 4);
    double *ref = malloc((size_t)n * dim * sizeof *ref);
    const float eps = 1e-6f;
    for (uint32_t i = 0; i < n; i++) {
        double ss = 0;
        for (uint32_t j = 0; j < dim; j++) {
            float v = x[i * dim + j] + r[i * dim + j];   /* the float sum, as the GPU forms it */
            ss += (double)v * v;
        }
        double s = 1.0 / sqrt(ss / dim + eps);
        for (uint32_t j = 0; j < dim; j++) ref[i * dim + j] = (x[i * dim + j] + r[i * dim + j]) * s * w[j];
    }
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * dim * 4), *br = t_buffer(gpu, r, (uint64_t)n * dim * 4),
                     *bw = t_buffer(gpu, w, dim * 4), *by = t_buffer(gpu, NULL, (uint64_t)n * dim * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_add_rmsnorm(rec, bx, br, bw, by, n, dim, eps, &err));
    CHECK(plume_gpu_add_rmsnorm(rec, bx, br, bw, bx, n, dim, eps, &err) < 0);   /* y must differ from x */
    t_rec_run(rec);
    t_download(by, y, (uint64_t)n * dim * 4);
    t_download(bx, xs, (uint64_t)n * dim * 4);
    double e = max_err(y, ref, (size_t)n * dim);
    CHECK_MSG(e <= 1e-4, "add_rmsnorm n=%u dim=%u: max error %g", n, dim, e);
    int sum_ok = 1;
    for (size_t i = 0; i < (size_t)n * dim; i++) sum_ok &= xs[i] == x[i] + r[i];   /* exact: one float add */
    CHECK_MSG(sum_ok, "add_rmsnorm n=%u dim=%u: x += r differs", n, dim);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(br), plume_gpu_buffer_free(bw), plume_gpu_buffer_free(by);
    free(x), free(r), free(w), free(y), free(xs), free(ref);
}

static void test_rope(plume_gpu *gpu, uint32_t n_heads, uint32_t head_dim, int neox) {
    plume_error err;
    const uint32_t n = 4;
    const float theta = 10000.0f;
    plume_gpu_row rows[4] = {{0, 0, 0, 0}, {0, 1, 0, 0}, {0, 17, 0, 0}, {0, 301, 1, 0}};
    size_t count = (size_t)n * n_heads * head_dim;
    float *x = rand_vec(count), *y = malloc(count * 4);
    double *ref = malloc(count * sizeof *ref);
    uint32_t half = head_dim / 2;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t h = 0; h < n_heads; h++)
            for (uint32_t j = 0; j < half; j++) {
                double a = rows[i].pos * pow(theta, -2.0 * j / head_dim);
                size_t base = ((size_t)i * n_heads + h) * head_dim;
                size_t i0 = neox ? base + j : base + 2 * j, i1 = neox ? base + j + half : base + 2 * j + 1;
                ref[i0] = x[i0] * cos(a) - x[i1] * sin(a);
                ref[i1] = x[i0] * sin(a) + x[i1] * cos(a);
            }
    plume_gpu_buffer *bx = t_buffer(gpu, x, count * 4), *br = t_buffer(gpu, rows, sizeof rows);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_rope(rec, bx, br, n, n_heads, head_dim, theta, neox, &err));
    t_rec_run(rec);
    t_download(bx, y, count * 4);
    /* Angles up to 301 rad in float: about 301 * 2^-24 * a few ulp of error: 2e-4 absolute. */
    double e = max_err(y, ref, count);
    CHECK_MSG(e <= 2e-4, "rope %s heads=%u head_dim=%u: max error %g", neox ? "neox" : "normal", n_heads, head_dim, e);
    /* Position 0 is the identity, exactly. */
    int same = 1;
    for (uint32_t j = 0; j < n_heads * head_dim; j++) same &= y[j] == x[j];
    CHECK(same);
    plume_gpu_buffer_free(bx);
    plume_gpu_buffer_free(br);
    free(x), free(y), free(ref);
}

/* Rotates one head in place in double, as the reference for rope; factors (or NULL) multiply
 * each pair's frequency. */
static void ref_rotate_f(const float *x, double *out, uint32_t head_dim, uint32_t pos, float theta, int neox,
                         const float *factors) {
    uint32_t half = head_dim / 2;
    for (uint32_t j = 0; j < half; j++) {
        double a = pos * pow(theta, -2.0 * j / head_dim) * (factors ? factors[j] : 1.0);
        uint32_t i0 = neox ? j : 2 * j, i1 = neox ? j + half : 2 * j + 1;
        out[i0] = x[i0] * cos(a) - x[i1] * sin(a);
        out[i1] = x[i0] * sin(a) + x[i1] * cos(a);
    }
}

/* rope on q and k and the cache stores in one dispatch, against the reference rotation;
 * cache positions no row names keep their NaN fill. With factors: Llama 3's rope_freqs as
 * llama.cpp's converter makes them (1 for high frequencies, 1/32 for low ones, between in
 * the middle), so a pair whose frequency factor is ignored is off by far more than the
 * tolerance. */
static void test_rope_kv_store(plume_gpu *gpu, int neox, int with_factors) {
    plume_error err;
    const uint32_t n = 5, H = 6, KH = 2, hd = 16, ctx = 256, n_seq = 2, kv_dim = KH * hd;
    const float theta = 10000.0f;
    plume_gpu_row rows[5] = {{0, 0, 0, 0}, {0, 3, 0, 0}, {0, 17, 1, 0}, {0, 200, 1, 0}, {0, 6, 0, 0}};
    float *q = rand_vec((size_t)n * H * hd), *k = rand_vec((size_t)n * kv_dim), *v = rand_vec((size_t)n * kv_dim);
    size_t cache = (size_t)n_seq * ctx * kv_dim;
    uint32_t nan_bits = 0x7fc00000u;
    plume_gpu_buffer *bq = t_buffer(gpu, q, (uint64_t)n * H * hd * 4), *bk = t_buffer(gpu, k, (uint64_t)n * kv_dim * 4),
                     *bv = t_buffer(gpu, v, (uint64_t)n * kv_dim * 4), *br = t_buffer(gpu, rows, sizeof rows),
                     *bkc = t_buffer(gpu, NULL, cache * 4), *bvc = t_buffer(gpu, NULL, cache * 4);
    T_OK(plume_gpu_fill(bkc, 0, cache * 4, nan_bits, &err));
    T_OK(plume_gpu_fill(bvc, 0, cache * 4, nan_bits, &err));
    float factors[8] = {1.0f, 1.0f, 1.0f, 0.6056f, 0.3037f, 0.1034f, 1.0f / 32, 1.0f / 32};
    plume_gpu_buffer *bf = with_factors ? t_buffer(gpu, factors, sizeof factors) : NULL;
    const float *fac = with_factors ? factors : NULL;
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_rope_kv_store(rec, bq, bk, bv, br, bkc, bvc, n, H, KH, hd, ctx, theta, neox, bf, &err));
    t_rec_run(rec);
    float *gq = malloc((size_t)n * H * hd * 4), *gk = malloc((size_t)n * kv_dim * 4), *gkc = malloc(cache * 4),
          *gvc = malloc(cache * 4);
    t_download(bq, gq, (uint64_t)n * H * hd * 4);
    t_download(bk, gk, (uint64_t)n * kv_dim * 4);
    t_download(bkc, gkc, cache * 4);
    t_download(bvc, gvc, cache * 4);
    double ref[16], worst = 0;
    int cache_ok = 1;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t h = 0; h < H; h++) {
            ref_rotate_f(q + ((size_t)i * H + h) * hd, ref, hd, rows[i].pos, theta, neox, fac);
            double e = max_err(gq + ((size_t)i * H + h) * hd, ref, hd);
            if (!(e <= worst)) worst = e;
        }
        for (uint32_t h = 0; h < KH; h++) {
            ref_rotate_f(k + (size_t)i * kv_dim + h * hd, ref, hd, rows[i].pos, theta, neox, fac);
            double e = max_err(gk + (size_t)i * kv_dim + h * hd, ref, hd);
            if (!(e <= worst)) worst = e;
            size_t at = ((size_t)rows[i].seq * ctx + rows[i].pos) * kv_dim + h * hd;
            cache_ok &= !memcmp(gkc + at, gk + (size_t)i * kv_dim + h * hd, hd * 4);   /* the rotated k */
            cache_ok &= !memcmp(gvc + at, v + (size_t)i * kv_dim + h * hd, hd * 4);
        }
    }
    CHECK_MSG(worst <= 2e-4, "rope_kv_store %s%s: max error %g", neox ? "neox" : "normal",
              with_factors ? " with frequency factors" : "", worst);
    CHECK_MSG(cache_ok, "rope_kv_store %s: cache rows differ", neox ? "neox" : "normal");
    size_t nan_count = 0;
    for (size_t i = 0; i < cache; i++) nan_count += isnan(gkc[i]) && isnan(gvc[i]);
    CHECK_MSG(nan_count == cache - (size_t)n * kv_dim, "rope_kv_store: %zu untouched cache values, expected %zu", nan_count,
              cache - (size_t)n * kv_dim);
    plume_gpu_buffer_free(bq), plume_gpu_buffer_free(bk), plume_gpu_buffer_free(bv), plume_gpu_buffer_free(br),
        plume_gpu_buffer_free(bkc), plume_gpu_buffer_free(bvc), plume_gpu_buffer_free(bf);
    free(q), free(k), free(v), free(gq), free(gk), free(gkc), free(gvc);
}

/* Reference attention for one row over a host copy of the cache. */
static void ref_attention(const float *q, const float *kc, const float *vc, plume_gpu_row r, uint32_t n_heads,
                          uint32_t n_kv, uint32_t hd, uint32_t ctx, double *out) {
    uint32_t kv_dim = n_kv * hd, g = n_heads / n_kv;
    double *s = malloc((r.pos + 1) * sizeof *s);
    for (uint32_t h = 0; h < n_heads; h++) {
        double mx = -INFINITY, sum = 0;
        for (uint32_t t = 0; t <= r.pos; t++) {
            const float *k = kc + ((size_t)r.seq * ctx + t) * kv_dim + (h / g) * hd;
            double d = 0;
            for (uint32_t j = 0; j < hd; j++) d += (double)q[h * hd + j] * k[j];
            s[t] = d / sqrt((double)hd);
            if (s[t] > mx) mx = s[t];
        }
        for (uint32_t t = 0; t <= r.pos; t++) sum += s[t] = exp(s[t] - mx);
        for (uint32_t j = 0; j < hd; j++) {
            double a = 0;
            for (uint32_t t = 0; t <= r.pos; t++) a += s[t] * vc[((size_t)r.seq * ctx + t) * kv_dim + (h / g) * hd + j];
            out[h * hd + j] = a / sum;
        }
    }
    free(s);
}

/* One step: store n rows of k/v, attend, compare the caches and the outputs. */
static void attention_step(plume_gpu *gpu, const plume_gpu_row *rows, uint32_t n, uint32_t n_heads, uint32_t n_kv,
                           uint32_t hd, uint32_t ctx, uint32_t n_seq, plume_gpu_buffer *bkc, plume_gpu_buffer *bvc,
                           float *kc, float *vc, const char *what) {
    plume_error err;
    uint32_t kv_dim = n_kv * hd, q_dim = n_heads * hd;
    float *q = rand_vec((size_t)n * q_dim), *k = rand_vec((size_t)n * kv_dim), *v = rand_vec((size_t)n * kv_dim);
    for (size_t i = 0; i < (size_t)n * q_dim; i++) q[i] *= 3.0f;  /* sharper softmax */
    for (uint32_t i = 0; i < n; i++) {
        memcpy(kc + ((size_t)rows[i].seq * ctx + rows[i].pos) * kv_dim, k + (size_t)i * kv_dim, kv_dim * 4);
        memcpy(vc + ((size_t)rows[i].seq * ctx + rows[i].pos) * kv_dim, v + (size_t)i * kv_dim, kv_dim * 4);
    }
    plume_gpu_buffer *bq = t_buffer(gpu, q, (uint64_t)n * q_dim * 4), *bk = t_buffer(gpu, k, (uint64_t)n * kv_dim * 4),
                     *bv = t_buffer(gpu, v, (uint64_t)n * kv_dim * 4), *br = t_buffer(gpu, rows, n * 16),
                     *bo = t_buffer(gpu, NULL, (uint64_t)n * q_dim * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_kv_store(rec, bk, bv, br, bkc, bvc, n, kv_dim, ctx, &err));
    T_OK(plume_gpu_attention(rec, bq, bkc, bvc, br, bo, n, n_heads, n_kv, hd, ctx, &err));
    t_rec_run(rec);
    /* The written cache positions match exactly (NaN elsewhere in both, which memcmp sees as equal bits). */
    size_t cache = (size_t)n_seq * ctx * kv_dim;
    float *gk = malloc(cache * 4), *gv = malloc(cache * 4);
    t_download(bkc, gk, cache * 4);
    t_download(bvc, gv, cache * 4);
    CHECK_MSG(!memcmp(gk, kc, cache * 4) && !memcmp(gv, vc, cache * 4), "kv_store %s: caches differ", what);
    float *o = malloc((size_t)n * q_dim * 4);
    double *ref = malloc((size_t)n * q_dim * sizeof *ref);
    t_download(bo, o, (uint64_t)n * q_dim * 4);
    for (uint32_t i = 0; i < n; i++)
        ref_attention(q + (size_t)i * q_dim, kc, vc, rows[i], n_heads, n_kv, hd, ctx, ref + (size_t)i * q_dim);
    /* Outputs are convex combinations of values in [-1, 1]; float exp/sums: 1e-5 absolute. */
    double e = max_err(o, ref, (size_t)n * q_dim);
    CHECK_MSG(e <= 1e-5, "attention %s (heads %u/%u, head_dim %u): max error %g", what, n_heads, n_kv, hd, e);
    plume_gpu_buffer_free(bq), plume_gpu_buffer_free(bk), plume_gpu_buffer_free(bv), plume_gpu_buffer_free(br),
        plume_gpu_buffer_free(bo);
    free(q), free(k), free(v), free(gk), free(gv), free(o), free(ref);
}

static void test_attention(plume_gpu *gpu, uint32_t n_heads, uint32_t n_kv, uint32_t hd) {
    plume_error err;
    const uint32_t ctx = 40, n_seq = 2, kv_dim = n_kv * hd;
    size_t cache = (size_t)n_seq * ctx * kv_dim;
    /* Caches start as NaN: reading any position not yet stored (a causality bug) shows. */
    float *kc = malloc(cache * 4), *vc = malloc(cache * 4);
    uint32_t nan_bits = 0x7fc00000u;
    for (size_t i = 0; i < cache; i++) memcpy(&kc[i], &nan_bits, 4), memcpy(&vc[i], &nan_bits, 4);
    plume_gpu_buffer *bkc = t_buffer(gpu, NULL, cache * 4), *bvc = t_buffer(gpu, NULL, cache * 4);
    T_OK(plume_gpu_fill(bkc, 0, cache * 4, nan_bits, &err));
    T_OK(plume_gpu_fill(bvc, 0, cache * 4, nan_bits, &err));
    /* A 13-token prompt in sequence 1 (more than 8 rows: attention_rows.comp), then a
     * 3-token prompt in sequence 0 (attention_split.comp, like decoding). */
    plume_gpu_row prompt[13];
    for (uint32_t i = 0; i < 13; i++) prompt[i] = (plume_gpu_row){0, i, 1, 0};
    attention_step(gpu, prompt, 13, n_heads, n_kv, hd, ctx, n_seq, bkc, bvc, kc, vc, "prompt seq 1");
    plume_gpu_row prompt0[3] = {{0, 0, 0, 0}, {0, 1, 0, 0}, {0, 2, 0, 0}};
    attention_step(gpu, prompt0, 3, n_heads, n_kv, hd, ctx, n_seq, bkc, bvc, kc, vc, "prompt seq 0");
    /* Batched decoding: one new token in each sequence, several steps. */
    for (uint32_t s = 0; s < 3; s++) {
        plume_gpu_row step[2] = {{0, 3 + s, 0, 0}, {0, 13 + s, 1, 0}};
        attention_step(gpu, step, 2, n_heads, n_kv, hd, ctx, n_seq, bkc, bvc, kc, vc, "decode batch of 2");
    }
    plume_gpu_buffer_free(bkc), plume_gpu_buffer_free(bvc);
    free(kc), free(vc);
}

/* Decoding's fused rope + cache store + attention against the two ops it stands for
 * (rope_kv_store, then attention), from the same caches, which hold earlier positions:
 * n rows of n sequences (in a shuffled order), one at position 0 (only its own k and v),
 * one at the last position, the others spread between. With few rows the two ops take the
 * same kernel, same arithmetic in the same order: bit for bit, the caches too. With more
 * rows than a prompt's kernel takes over at (8), the two-op attention is that kernel,
 * whose sums run in the same order: the output within 1e-6, the caches bit for bit. */
static void test_rope_attention(plume_gpu *gpu, uint32_t n_heads, uint32_t n_kv, uint32_t hd, int neox,
                                int with_factors, uint32_t n) {
    plume_error err;
    float factors[64];
    for (uint32_t j = 0; j < hd / 2; j++) factors[j] = 1.0f / (1.0f + (float)j);
    const uint32_t ctx = 40, n_seq = n, kv_dim = n_kv * hd, q_dim = n_heads * hd;
    size_t cache = (size_t)n_seq * ctx * kv_dim;
    float *kc0 = rand_vec((uint32_t)cache), *vc0 = rand_vec((uint32_t)cache);
    float *q = rand_vec(n * q_dim), *k = rand_vec(n * kv_dim), *v = rand_vec(n * kv_dim);
    plume_gpu_row rows[16];
    for (uint32_t i = 0; i < n && i < 16; i++)   /* sequence (i * 5 + 2) % n: a permutation for n = 3, 12 */
        rows[i] = (plume_gpu_row){0, i == 0 ? 0 : i == 1 ? ctx - 1 : (i * 7) % (ctx - 1), (i * 5 + 2) % n, 0};
    float *out[2], *kc[2], *vc[2];
    for (int fused = 0; fused < 2; fused++) {
        plume_gpu_buffer *bq = t_buffer(gpu, q, (uint64_t)n * q_dim * 4), *bk = t_buffer(gpu, k, (uint64_t)n * kv_dim * 4),
                         *bv = t_buffer(gpu, v, (uint64_t)n * kv_dim * 4), *br = t_buffer(gpu, rows, sizeof rows),
                         *bkc = t_buffer(gpu, kc0, cache * 4), *bvc = t_buffer(gpu, vc0, cache * 4),
                         *bo = t_buffer(gpu, NULL, (uint64_t)n * q_dim * 4),
                         *bf = with_factors ? t_buffer(gpu, factors, hd / 2 * 4) : NULL;
        plume_gpu_rec *rec = t_rec_begin(gpu);
        if (fused) {
            T_OK(plume_gpu_rope_attention(rec, bq, bk, bv, br, bkc, bvc, bo, n, n_heads, n_kv, hd, ctx, 10000.0f, neox,
                                          bf, &err));
        } else {
            T_OK(plume_gpu_rope_kv_store(rec, bq, bk, bv, br, bkc, bvc, n, n_heads, n_kv, hd, ctx, 10000.0f, neox, bf, &err));
            T_OK(plume_gpu_attention(rec, bq, bkc, bvc, br, bo, n, n_heads, n_kv, hd, ctx, &err));
        }
        t_rec_run(rec);
        out[fused] = malloc((size_t)n * q_dim * 4), kc[fused] = malloc(cache * 4), vc[fused] = malloc(cache * 4);
        t_download(bo, out[fused], (uint64_t)n * q_dim * 4);
        t_download(bkc, kc[fused], cache * 4);
        t_download(bvc, vc[fused], cache * 4);
        plume_gpu_buffer_free(bq), plume_gpu_buffer_free(bk), plume_gpu_buffer_free(bv), plume_gpu_buffer_free(br);
        plume_gpu_buffer_free(bkc), plume_gpu_buffer_free(bvc), plume_gpu_buffer_free(bo), plume_gpu_buffer_free(bf);
    }
    double worst = 0;
    for (size_t i = 0; i < (size_t)n * q_dim; i++) worst = fmax(worst, fabs((double)out[0][i] - out[1][i]));
    CHECK_MSG((n <= 8 ? !memcmp(out[0], out[1], (size_t)n * q_dim * 4) : worst < 1e-6) &&
                  !memcmp(kc[0], kc[1], cache * 4) && !memcmp(vc[0], vc[1], cache * 4),
              "rope_attention (%u rows, heads %u/%u, head_dim %u, neox %d, factors %d) differs from rope_kv_store + "
              "attention (output by %g)", n, n_heads, n_kv, hd, neox, with_factors, worst);
    for (int i = 0; i < 2; i++) free(out[i]), free(kc[i]), free(vc[i]);
    free(kc0), free(vc0), free(q), free(k), free(v);
}

static void test_elementwise(plume_gpu *gpu, uint32_t count) {
    plume_error err;
    float *g = rand_vec(count), *u = rand_vec(count), *o = malloc(count * 4);
    for (uint32_t i = 0; i < count; i++) g[i] *= 8.0f;   /* silu's tails */
    double *ref = malloc(count * sizeof *ref);
    plume_gpu_buffer *bg = t_buffer(gpu, g, count * 4), *bu = t_buffer(gpu, u, count * 4),
                     *bo = t_buffer(gpu, NULL, count * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_silu_mul(rec, bg, bu, bo, count, &err));
    T_OK(plume_gpu_add(rec, bg, bu, count, &err));   /* after the barrier silu_mul added: g += u */
    t_rec_run(rec);
    t_download(bo, o, count * 4);
    for (uint32_t i = 0; i < count; i++) ref[i] = g[i] / (1.0 + exp(-(double)g[i])) * u[i];
    double e = max_err(o, ref, count);
    CHECK_MSG(e <= 2e-6 * 8, "silu_mul count=%u: max error %g (tol 1.6e-5, |out| <= 8)", count, e);
    t_download(bg, o, count * 4);
    int exact = 1;
    for (uint32_t i = 0; i < count; i++) exact &= o[i] == g[i] + u[i];   /* one float add: exact match */
    CHECK_MSG(exact, "add count=%u differs", count);
    plume_gpu_buffer_free(bg), plume_gpu_buffer_free(bu), plume_gpu_buffer_free(bo);
    free(g), free(u), free(o), free(ref);
}

/* A bias row added to every row: one float add each, so the result equals the host's exactly. */
static void test_add_bias(plume_gpu *gpu, uint32_t n, uint32_t dim) {
    plume_error err;
    float *x = rand_vec(n * dim), *bias = rand_vec(dim), *o = malloc((size_t)n * dim * 4);
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * dim * 4), *bb = t_buffer(gpu, bias, dim * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_add_bias(rec, bx, bb, n, dim, &err));
    t_rec_run(rec);
    t_download(bx, o, (uint64_t)n * dim * 4);
    int exact = 1;
    for (uint32_t i = 0; i < n * dim; i++) exact &= o[i] == x[i] + bias[i % dim];
    CHECK_MSG(exact, "add_bias %u x %u differs from the host's sums", n, dim);
    /* a bias shorter than dim is refused, naming it */
    rec = t_rec_begin(gpu);
    CHECK(plume_gpu_add_bias(rec, bx, bb, 1, dim + 1, &err) < 0 && strstr(err.msg, "bias"));
    t_rec_run(rec);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(bb);
    free(x), free(bias), free(o);
}

static void test_argmax(plume_gpu *gpu, uint32_t dim) {
    plume_error err;
    const uint32_t n = 4;
    float *x = rand_vec((size_t)n * dim);
    uint32_t expect[4], got[4];
    /* row 0: random; row 1: the maximum twice (lowest index wins); row 2: all equal (0);
     * row 3: the maximum in the last element. */
    x[dim + dim / 3] = 5.0f;
    x[dim + dim - 2] = 5.0f;
    for (uint32_t j = 0; j < dim; j++) x[2 * dim + j] = -0.25f;
    x[3 * dim + dim - 1] = 2.0f;
    for (uint32_t i = 0; i < n; i++) {
        expect[i] = 0;
        for (uint32_t j = 1; j < dim; j++)
            if (x[i * dim + j] > x[i * dim + expect[i]]) expect[i] = j;
    }
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * dim * 4), *bo = t_buffer(gpu, NULL, n * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_argmax(rec, bx, bo, n, dim, &err));
    t_rec_run(rec);
    t_download(bo, got, n * 4);
    for (uint32_t i = 0; i < n; i++) CHECK_MSG(got[i] == expect[i], "argmax dim=%u row %u: %u, expected %u", dim, i,
                                               got[i], expect[i]);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(bo);
    free(x);
}

/* The reductions' shared-memory step: on lavapipe a workgroup is one subgroup of 8, so the
 * ops never run it. Here rmsnorm, argmax and the decode attention kernel are dispatched
 * directly with workgroups of 4 subgroups (32 invocations), as a device whose subgroups are
 * smaller than plume asked for would run them. */
static void test_multi_subgroup(plume_gpu *gpu) {
    plume_error err;
    uint32_t sg = plume_gpu_device_info(gpu)->subgroup_size, wg = sg * 4;
    if (wg > 128) return;
    const uint32_t n = 3, dim = 301;
    float *x = rand_vec((size_t)n * dim), *w = rand_vec(dim), *y = malloc((size_t)n * dim * 4);
    x[dim + 200] = 9.0f;   /* row 1's maximum */
    double *ref = malloc((size_t)n * dim * sizeof *ref);
    for (uint32_t i = 0; i < n; i++) {
        double ss = 0;
        for (uint32_t j = 0; j < dim; j++) ss += (double)x[i * dim + j] * x[i * dim + j];
        for (uint32_t j = 0; j < dim; j++) ref[i * dim + j] = x[i * dim + j] / sqrt(ss / dim + 1e-5) * w[j];
    }
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * dim * 4), *bw = t_buffer(gpu, w, dim * 4),
                     *by = t_buffer(gpu, NULL, (uint64_t)n * dim * 4), *bo = t_buffer(gpu, NULL, n * 4);
    uint32_t spec_norm[2] = {wg, 0}, spec_max[2] = {wg, dim % 4 == 0};   /* argmax through the texel view */
    plume_gpu_kernel *kn = plume_gpu_kernel_get(gpu, "rmsnorm", "ssss", 8, spec_norm, 2, &err);
    plume_gpu_kernel *km = kn ? plume_gpu_kernel_get(gpu, "argmax", "sst", 4, spec_max, 2, &err) : NULL;
    T_OK(km == NULL);
    struct {
        uint32_t dim;
        float eps;
    } push = {dim, 1e-5f};
    plume_gpu_binding bn[4] = {{bx, 0, 0}, {bw, 0, 0}, {by, 0, 0}, {bx, 0, 0}}, bm[3] = {{bx, 0, 0}, {bo, 0, 0}, {bx, 0, 0}};
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_rec_dispatch(rec, kn, bn, 4, &push, n, 1, 1, &err));
    plume_gpu_rec_barrier(rec);   /* rmsnorm's x binding is writable (for add_rmsnorm) */
    T_OK(plume_gpu_rec_dispatch(rec, km, bm, 3, &dim, n, 1, 1, &err));
    plume_gpu_rec_barrier(rec);
    t_rec_run(rec);
    t_download(by, y, (uint64_t)n * dim * 4);
    double e = max_err(y, ref, (size_t)n * dim);
    CHECK_MSG(e <= 1e-4, "rmsnorm with %u-invocation workgroups: max error %g", wg, e);
    uint32_t got[3];
    t_download(bo, got, sizeof got);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t best = 0;
        for (uint32_t j = 1; j < dim; j++)
            if (x[i * dim + j] > x[i * dim + best]) best = j;
        CHECK_MSG(got[i] == best, "argmax with %u-invocation workgroups, row %u: %u, expected %u", wg, i, got[i], best);
    }
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(bw), plume_gpu_buffer_free(by), plume_gpu_buffer_free(bo);
    free(x), free(w), free(y), free(ref);
}

int main(void) {
    plume_gpu *gpu = t_open();
    test_rmsnorm(gpu, 3, 130, 0);
    test_rmsnorm(gpu, 2, 4096, 1);
    test_rmsnorm(gpu, 1, 7, 0);
    test_add_rmsnorm(gpu, 3, 130);
    test_add_rmsnorm(gpu, 1, 576);
    test_rope(gpu, 4, 16, 0);
    test_rope(gpu, 4, 16, 1);
    test_rope(gpu, 3, 8, 1);
    test_rope_kv_store(gpu, 0, 0);
    test_rope_kv_store(gpu, 1, 0);
    test_rope_kv_store(gpu, 0, 1);
    test_rope_kv_store(gpu, 1, 1);
    test_attention(gpu, 8, 4, 8);     /* stories260K's shape: 8 heads, 4 KV heads, head_dim 8 */
    test_attention(gpu, 6, 2, 64);    /* groups of 3 */
    test_attention(gpu, 3, 3, 20);    /* plain multi-head */
    test_attention(gpu, 4, 2, 6);     /* head_dim % 4 != 0: caches read from storage buffers */
    /* Decode attention split into chunks of positions and merged (the choice on GPUs; on a
     * CPU device one split): chunks of 5 give 8 splits of the 40 positions, some of them
     * past a row's position; chunks of 16, 3 splits, the last one partial. */
    const uint32_t chunks[2] = {5, 16};
    for (int c = 0; c < 2; c++) {
        plume_gpu_set_attention_chunk(gpu, chunks[c]);
        test_attention(gpu, 8, 4, 8);
        test_attention(gpu, 6, 2, 64);
        test_attention(gpu, 4, 2, 6);
        test_rope_attention(gpu, 6, 2, 64, 0, 0, 3);
        test_rope_attention(gpu, 6, 2, 64, 1, 1, 3);
    }
    plume_gpu_set_attention_chunk(gpu, 0);
    test_rope_attention(gpu, 8, 4, 8, 0, 0, 3);
    test_rope_attention(gpu, 6, 2, 64, 1, 0, 3);
    test_rope_attention(gpu, 4, 2, 6, 0, 0, 3);   /* head_dim % 4 != 0 */
    test_rope_attention(gpu, 8, 4, 8, 0, 1, 3);
    test_rope_attention(gpu, 6, 2, 64, 1, 1, 3);
    test_rope_attention(gpu, 8, 4, 8, 0, 0, 12);   /* more rows than the prompt kernel's threshold */
    test_rope_attention(gpu, 6, 2, 64, 1, 1, 12);
    test_add_bias(gpu, 5, 24);
    test_add_bias(gpu, 3, 1000);
    test_elementwise(gpu, 1000);
    test_elementwise(gpu, 7);
    test_argmax(gpu, 1000);
    test_argmax(gpu, 5);
    test_argmax(gpu, 32000);
    test_multi_subgroup(gpu);

    /* Shape and size errors are refused before anything is recorded. */
    plume_error err;
    plume_gpu_buffer *small = t_buffer(gpu, NULL, 64);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    CHECK(plume_gpu_rmsnorm(rec, small, small, small, 2, 16, 1e-5f, &err) < 0);
    CHECK(strstr(err.msg, "needs 128") != NULL);
    CHECK(plume_gpu_rope(rec, small, small, 1, 1, 3, 1e4f, 0, &err) < 0);
    CHECK(plume_gpu_attention(rec, small, small, small, small, small, 1, 3, 2, 4, 1, &err) < 0);
    /* rope_attention: an odd head_dim; k too small; k aliasing v */
    plume_gpu_buffer *q = t_buffer(gpu, NULL, 4 * 8 * 4), *k = t_buffer(gpu, NULL, 2 * 8 * 4),
                     *v = t_buffer(gpu, NULL, 2 * 8 * 4), *rw = t_buffer(gpu, NULL, 16), *kc = t_buffer(gpu, NULL, 4096),
                     *vc = t_buffer(gpu, NULL, 4096), *o = t_buffer(gpu, NULL, 4 * 8 * 4);
    CHECK(plume_gpu_rope_attention(rec, q, k, v, rw, kc, vc, o, 1, 4, 2, 7, 8, 1e4f, 0, NULL, &err) < 0);
    CHECK(strstr(err.msg, "head_dim") != NULL);
    CHECK(plume_gpu_rope_attention(rec, q, small, v, rw, kc, vc, o, 1, 4, 4, 8, 8, 1e4f, 0, NULL, &err) < 0);
    CHECK(plume_gpu_rope_attention(rec, q, k, k, rw, kc, vc, o, 1, 4, 2, 8, 8, 1e4f, 0, NULL, &err) < 0);
    CHECK(strstr(err.msg, "different buffers") != NULL);
    t_rec_run(rec);
    plume_gpu_buffer_free(small);
    plume_gpu_buffer_free(q), plume_gpu_buffer_free(k), plume_gpu_buffer_free(v), plume_gpu_buffer_free(rw);
    plume_gpu_buffer_free(kc), plume_gpu_buffer_free(vc), plume_gpu_buffer_free(o);

    plume_gpu_close(gpu);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_gpu_ops");
}
