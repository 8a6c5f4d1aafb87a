/* The device's sparse mixture (plume_gpu_mix, shaders/mix.comp) against a CPU reference in
 * double: after the kernel, the softmax of every row equals (1 - w) softmax(x) + w q, the logits
 * of unlisted tokens are bit-identical, and a row with no entries is untouched. Rows of 1000,
 * 2049 and 32000 logits, lists of 1 to K entries, weights from 0.05 to 0.95; plume's workgroup,
 * then workgroups of 4 subgroups as a GPU would run it. */
#include <math.h>
#include "gpu_internal.h"
#include "gpu_test.h"

static uint32_t forced_wg;

static void device_mix(plume_gpu *gpu, float *x, uint32_t n, uint32_t dim, const void *mix, uint32_t k) {
    plume_error err;
    uint64_t mb = (uint64_t)n * PLUME_GPU_MIX_ROW_BYTES(k);
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * dim * 4), *bm = t_buffer(gpu, mix, mb);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    if (forced_wg) {
        uint32_t spec[1] = {forced_wg}, push[2] = {dim, k};
        plume_gpu_binding b[2] = {{bx, 0, 0}, {bm, 0, 0}};
        t_dispatch_direct(rec, "mix", "ss", 8, spec, 1, b, push, n);
    } else {
        T_OK(plume_gpu_mix(rec, bx, bm, n, dim, k, &err));
    }
    t_rec_run(rec);
    t_download(bx, x, (uint64_t)n * dim * 4);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(bm);
}

static void softmax(const float *x, uint32_t dim, double *p) {
    double mx = -INFINITY, s = 0;
    for (uint32_t j = 0; j < dim; j++) mx = fmax(mx, x[j]);
    for (uint32_t j = 0; j < dim; j++) s += (p[j] = exp(x[j] - mx));
    for (uint32_t j = 0; j < dim; j++) p[j] /= s;
}

static void test_mix(plume_gpu *gpu, uint32_t dim, uint32_t k) {
    enum { N = 6 };
    const size_t row_bytes = PLUME_GPU_MIX_ROW_BYTES(k);
    float *x = malloc((size_t)N * dim * sizeof *x), *x0 = malloc((size_t)N * dim * sizeof *x0);
    unsigned char *mix = calloc(N, row_bytes);
    double *p = malloc(dim * sizeof *p), *want = malloc(dim * sizeof *want);
    char *listed = malloc(dim);
    for (size_t i = 0; i < (size_t)N * dim; i++) x[i] = x0[i] = 4 * rng_f();
    x[3] = x0[3] = 12;   /* a peaked row: the memory has to move mass against a confident model */
    for (uint32_t r = 0; r < N; r++) {
        plume_gpu_mix_head *h = (plume_gpu_mix_head *)(mix + r * row_bytes);
        plume_gpu_mix_entry *e = (plume_gpu_mix_entry *)(h + 1);
        h->count = r == 2 ? 0 : 1 + rng_u32() % k;   /* row 2: nothing to mix */
        h->weight = 0.05f + 0.9f * (float)r / (N - 1);
        double total = 0;
        for (uint32_t i = 0; i < h->count; i++) {
            e[i].token = (uint32_t)(((uint64_t)i * 7919u + r * 31u) % dim);   /* distinct for count <= dim */
            e[i].prob = 0.1f + (float)(rng_u32() % 1000) / 1000.0f;
            total += e[i].prob;
        }
        for (uint32_t i = 0; i < h->count; i++) e[i].prob = (float)(e[i].prob / total);
    }
    device_mix(gpu, x, N, dim, mix, k);
    for (uint32_t r = 0; r < N; r++) {
        const plume_gpu_mix_head *h = (const plume_gpu_mix_head *)(mix + r * row_bytes);
        const plume_gpu_mix_entry *e = (const plume_gpu_mix_entry *)(h + 1);
        const float *before = x0 + (size_t)r * dim, *after = x + (size_t)r * dim;
        memset(listed, 0, dim);
        for (uint32_t i = 0; i < h->count; i++) listed[e[i].token] = 1;
        int same = 1;
        for (uint32_t j = 0; j < dim; j++)
            if (!listed[j] && memcmp(&before[j], &after[j], 4)) same = 0;
        CHECK_MSG(same, "dim %u row %u: an unlisted logit changed", dim, r);
        softmax(before, dim, p);
        for (uint32_t j = 0; j < dim; j++) want[j] = h->count ? (1 - h->weight) * p[j] : p[j];
        for (uint32_t i = 0; i < h->count; i++) want[e[i].token] += h->weight * e[i].prob;
        softmax(after, dim, p);
        double worst = 0;
        for (uint32_t j = 0; j < dim; j++) worst = fmax(worst, fabs(p[j] - want[j]) / fmax(want[j], 1e-6));
        CHECK_MSG(worst < 2e-4, "dim %u row %u (%u entries, w %.2f): relative error %g", dim, r, h->count,
                  h->weight, worst);
    }
    free(x), free(x0), free(mix), free(p), free(want), free(listed);
}

int main(void) {
    plume_gpu *gpu = t_open();
    uint32_t wide = t_four_subgroups(gpu);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !wide) break;
        forced_wg = pass ? wide : 0;
        test_mix(gpu, 1000, 1);
        test_mix(gpu, 1000, 16);
        test_mix(gpu, 2049, 64);
        test_mix(gpu, 32000, 64);
    }
    forced_wg = 0;
    /* sizes are refused before anything is recorded */
    plume_error err;
    plume_gpu_buffer *small = t_buffer(gpu, NULL, 64);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    CHECK(plume_gpu_mix(rec, small, small, 1, 100, 4, &err) < 0 && strstr(err.msg, "mix") != NULL);
    CHECK(plume_gpu_mix(rec, small, small, 2, 8, 4, &err) < 0 && strstr(err.msg, "the mix buffer") != NULL);
    CHECK(plume_gpu_mix(rec, small, small, 1, 8, 0, &err) < 0);
    T_OK(plume_gpu_rec_end(rec, &err));
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(small);
    plume_gpu_close(gpu);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_gpu_mix");
}
