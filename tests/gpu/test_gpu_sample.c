/* The device's top-k sampler (plume_gpu_sample) against the CPU sampler and against
 * distributions worked by hand:
 *   - the same seeds give the same tokens as plume_sampler_sample, over random logits,
 *     temperatures, top-k and top-p (exp() may round apart at a boundary: 1% allowed);
 *   - stratified uniforms r = (i + 0.5) / N hit each kept token as often as its
 *     probability says, to the draw (counts computed by hand below);
 *   - ties at the top-k threshold go to the lower ids; top_k = 1 is the argmax;
 *   - rows whose length is not a whole number of texels (storage-buffer reads);
 *   - all of it again with workgroups of 4 subgroups, as a GPU runs the kernel (on lavapipe
 *     plume_gpu_sample's workgroup is one subgroup, whose barriers and shares differ). */
#include <math.h>
#include "gpu_internal.h"
#include "gpu_test.h"
#include "plume/lm.h"

/* Non-zero: the kernel is dispatched directly with workgroups of this many invocations. */
static uint32_t forced_wg;

/* Draws n rows of dim logits on the device: out[i] by draws[i]. */
static void device_draw(plume_gpu *gpu, const float *logits, uint32_t n, uint32_t dim, const plume_gpu_draw *draws,
                        uint32_t *out) {
    plume_error err;
    plume_gpu_buffer *bx = t_buffer(gpu, logits, (uint64_t)n * dim * 4),
                     *bd = t_buffer(gpu, draws, (uint64_t)n * sizeof *draws), *bo = t_buffer(gpu, NULL, (uint64_t)n * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    if (forced_wg) {
        uint32_t spec[2] = {forced_wg, dim % 4 == 0};
        plume_gpu_binding b[4] = {{bx, 0, 0}, {bo, 0, 0}, {bx, 0, 0}, {bd, 0, 0}};
        t_dispatch_direct(rec, "sample", "ssts", 4, spec, 2, b, &dim, n);
    } else {
        T_OK(plume_gpu_sample(rec, bx, bd, bo, n, dim, &err));
    }
    t_rec_run(rec);
    t_download(bo, out, (uint64_t)n * 4);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(bd), plume_gpu_buffer_free(bo);
}

/* Rows of random logits drawn by two samplers of one seed, one on the CPU and one
 * handing its draws to the device: the tokens agree. */
static void test_agrees_with_cpu(plume_gpu *gpu, uint32_t dim, float temp, int top_k, float top_p) {
    enum { N = 16, ROUNDS = 8 };
    float *x = malloc((size_t)N * dim * sizeof *x);
    plume_gpu_draw draws[N];
    uint32_t got[N];
    int32_t want[N];
    plume_sampler *cpu[N], *dev[N];
    plume_error err;
    for (int i = 0; i < N; i++) {
        plume_sampling sp = { temp, top_k, top_p, 1000 + (uint64_t)i };
        cpu[i] = plume_sampler_create(&sp, (int)dim, &err);
        dev[i] = plume_sampler_create(&sp, (int)dim, &err);
        T_OK(!cpu[i] || !dev[i]);
    }
    int draws_total = 0, differ = 0, outside = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t j = 0; j < (size_t)N * dim; j++) x[j] = 4.0f * rng_f();
        x[3] = -INFINITY;   /* a masked token */
        for (int i = 0; i < N; i++) {
            plume_draw d;
            CHECK_MSG(plume_sampler_draw(dev[i], &d) == 1, "top_k %d: the device can draw", top_k);
            draws[i] = (plume_gpu_draw){ d.inv_temperature, (uint32_t)d.top_k, d.top_p, d.r };
            want[i] = plume_sampler_sample(cpu[i], x + (size_t)i * dim);
        }
        device_draw(gpu, x, N, dim, draws, got);
        for (int i = 0; i < N; i++) {
            draws_total++;
            differ += got[i] != (uint32_t)want[i];
            /* whatever exp() does, the token is among the row's top_k */
            const float *row = x + (size_t)i * dim;
            int above = 0;
            for (uint32_t j = 0; j < dim; j++) above += row[j] > row[got[i] < dim ? got[i] : 0];
            outside += got[i] >= dim || above >= top_k;
        }
    }
    CHECK_MSG(outside == 0, "dim %u top_k %d: %d draws outside the top k", dim, top_k, outside);
    CHECK_MSG(differ * 100 <= draws_total, "dim %u T %g top_k %d top_p %g: %d of %d draws differ from the CPU's",
              dim, temp, top_k, top_p, differ, draws_total);
    for (int i = 0; i < N; i++) plume_sampler_free(cpu[i]), plume_sampler_free(dev[i]);
    free(x);
}

/* One row, copied N times, drawn with r = (i + 0.5) / N: token t is drawn for the r below
 * its cumulative probability, so the counts are fixed by the probabilities. */
static void draw_stratified(plume_gpu *gpu, const float *row, uint32_t dim, plume_gpu_draw d, uint32_t n,
                            uint32_t *counts, uint32_t *got) {
    float *x = malloc((size_t)n * dim * sizeof *x);
    plume_gpu_draw *draws = malloc(n * sizeof *draws);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(x + (size_t)i * dim, row, dim * sizeof *row);
        draws[i] = d;
        draws[i].r = ((float)i + 0.5f) / (float)n;
    }
    device_draw(gpu, x, n, dim, draws, got);
    memset(counts, 0, dim * sizeof *counts);
    for (uint32_t i = 0; i < n; i++)
        if (got[i] < dim) counts[got[i]]++;
    free(x), free(draws);
}

static void test_stratified(plume_gpu *gpu) {
    enum { V = 1000, N = 200 };
    float row[V];
    uint32_t counts[V], got[400];
    for (int j = 0; j < V; j++) row[j] = -20.0f + (float)(j % 7);   /* far below the five */
    /* p = 0.5, 0.2, 0.15, 0.1, 0.05 among the five (the rest weigh < 1e-5 of them, and top-k
     * drops them anyway) */
    const int ids[5] = { 700, 3, 512, 998, 41 };
    const float p[5] = { 0.5f, 0.2f, 0.15f, 0.1f, 0.05f };
    for (int i = 0; i < 5; i++) row[ids[i]] = logf(p[i]) + 1.0f;
    /* top_k 5, top_p 0.9: 0.5, 0.7, 0.85, 0.95 >= 0.9 keeps four, renormalised by 0.95. The
     * cumulative 0.5/0.95, 0.7/0.95, 0.85/0.95 = 0.5263, 0.7368, 0.8947 put r = (i + 0.5)/200
     * below them for i < 105, 147, 179: counts 105, 42, 32 and 21. */
    draw_stratified(gpu, row, V, (plume_gpu_draw){ 1.0f, 5, 0.9f, 0 }, N, counts, got);
    const uint32_t want[5] = { 105, 42, 32, 21, 0 };
    for (int i = 0; i < 5; i++)
        CHECK_MSG(counts[ids[i]] == want[i], "top-p 0.9: token %d drawn %u times, expected %u", ids[i],
                  counts[ids[i]], want[i]);
    /* top_k 2, no top-p, temperature 2: weights sqrt(0.5), sqrt(0.2), i.e. 0.6126 and 0.3874:
     * r < 0.6126 for i < 123 (i + 0.5 < 122.5): 123 and 77. */
    draw_stratified(gpu, row, V, (plume_gpu_draw){ 0.5f, 2, 1.0f, 0 }, N, counts, got);
    CHECK_MSG(counts[700] == 123 && counts[3] == 77, "top-k 2, T 2: %u and %u, expected 123 and 77", counts[700],
              counts[3]);

    /* Ties at the threshold: 5.0 at ids 10 and 20, 3.0 at ids 30..40, the rest 0. top_k 4
     * takes 10, 20, 30 and 31; a huge temperature weighs them alike: 100 draws each. */
    for (int j = 0; j < V; j++) row[j] = 0.0f;
    row[10] = row[20] = 5.0f;
    for (int j = 30; j <= 40; j++) row[j] = 3.0f;
    draw_stratified(gpu, row, V, (plume_gpu_draw){ 1e-9f, 4, 1.0f, 0 }, 400, counts, got);
    CHECK_MSG(counts[10] == 100 && counts[20] == 100 && counts[30] == 100 && counts[31] == 100,
              "ties: %u %u %u %u, expected 100 each of ids 10, 20, 30, 31", counts[10], counts[20], counts[30],
              counts[31]);
    /* ranked by logit, then id: r from low to high meets 10, 20, 30, 31 in turn */
    CHECK_MSG(got[0] == 10 && got[199] == 20 && got[200] == 30 && got[399] == 31,
              "ties ranked by id: draws 0, 199, 200, 399 gave %u %u %u %u", got[0], got[199], got[200], got[399]);
    /* Ties in different invocations' shares of the row: top_k 2 of five equal logits at
     * ids 100, 300, 500, 700 and 900 takes 100 and 300. */
    for (int j = 0; j < V; j++) row[j] = 0.0f;
    for (int j = 100; j < V; j += 200) row[j] = 1.0f;
    draw_stratified(gpu, row, V, (plume_gpu_draw){ 1.0f, 2, 1.0f, 0 }, 200, counts, got);
    CHECK_MSG(counts[100] == 100 && counts[300] == 100, "ties across shares: %u %u, expected 100 of ids 100 and 300",
              counts[100], counts[300]);
    /* All equal: top_k 3 is ids 0, 1, 2. */
    for (int j = 0; j < V; j++) row[j] = -0.5f;
    draw_stratified(gpu, row, V, (plume_gpu_draw){ 1.0f, 3, 1.0f, 0 }, 300, counts, got);
    CHECK_MSG(counts[0] == 100 && counts[1] == 100 && counts[2] == 100, "all equal: %u %u %u", counts[0], counts[1],
              counts[2]);
    /* 4000 equal logits: all of them reach the lower bound, more than the kernel's list
     * holds, so the steps walk the row itself; top_k 3 is ids 0, 1, 2 still. */
    {
        enum { W = 4000 };
        static float wide[W];
        static uint32_t wide_counts[W];
        for (int j = 0; j < W; j++) wide[j] = 1.5f;
        draw_stratified(gpu, wide, W, (plume_gpu_draw){ 1.0f, 3, 1.0f, 0 }, 300, wide_counts, got);
        CHECK_MSG(wide_counts[0] == 100 && wide_counts[1] == 100 && wide_counts[2] == 100,
                  "4000 equal: %u %u %u", wide_counts[0], wide_counts[1], wide_counts[2]);
    }
    /* -0 and +0 are equal, as on the CPU: the lower id of the two is the first. */
    row[5] = -0.0f;
    row[9] = 0.0f;
    draw_stratified(gpu, row, V, (plume_gpu_draw){ 1e-9f, 1, 1.0f, 0 }, 4, counts, got);
    CHECK_MSG(counts[5] == 4, "-0 before +0 at a lower id: %u of 4", counts[5]);
}

/* top_k = 1 at any temperature is the argmax, lowest id among equal maxima. */
static void test_top1(plume_gpu *gpu, uint32_t dim) {
    enum { N = 6 };
    float *x = malloc((size_t)N * dim * sizeof *x);
    for (size_t j = 0; j < (size_t)N * dim; j++) x[j] = rng_f();
    x[dim + 7] = x[dim + dim - 1] = 3.0f;   /* row 1: the maximum twice */
    x[2 * dim + dim - 1] = 2.0f;            /* row 2: in the last place */
    plume_gpu_draw draws[N];
    uint32_t got[N];
    for (int i = 0; i < N; i++) draws[i] = (plume_gpu_draw){ 1.0f / 1.5f, 1, 1.0f, 0.999f };
    device_draw(gpu, x, N, dim, draws, got);
    for (int i = 0; i < N; i++) {
        uint32_t best = 0;
        for (uint32_t j = 1; j < dim; j++)
            if (x[(size_t)i * dim + j] > x[(size_t)i * dim + best]) best = j;
        CHECK_MSG(got[i] == best, "top-1 dim %u row %d: %u, expected %u", dim, i, got[i], best);
    }
    free(x);
}

int main(void) {
    plume_gpu *gpu = t_open();
    uint32_t wide = t_four_subgroups(gpu);
    /* plume's own workgroup, then 4 subgroups' (where that is a workgroup the device allows) */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !wide) break;
        forced_wg = pass ? wide : 0;
        test_stratified(gpu);
        test_top1(gpu, 1000);
        test_top1(gpu, 1001);   /* not whole texels: storage-buffer reads */
        test_top1(gpu, 32000);
        test_agrees_with_cpu(gpu, 1000, 1.0f, 40, 1.0f);
        test_agrees_with_cpu(gpu, 1000, 0.7f, 50, 0.9f);
        test_agrees_with_cpu(gpu, 1001, 1.3f, 256, 0.95f);
        test_agrees_with_cpu(gpu, 300, 0.5f, 256, 0.5f);
        test_agrees_with_cpu(gpu, 2001, 1.0f, 100, 0.9f);   /* no bound from chunks: the row is walked */
        test_agrees_with_cpu(gpu, 32000, 0.9f, 40, 0.95f);
    }
    forced_wg = 0;

    /* Sizes are refused before anything is recorded. */
    plume_error err;
    plume_gpu_buffer *small = t_buffer(gpu, NULL, 64);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    CHECK(plume_gpu_sample(rec, small, small, small, 1, 100, &err) < 0);
    CHECK(strstr(err.msg, "sample") != NULL);
    CHECK(plume_gpu_sample(rec, small, small, small, 5, 2, &err) < 0);   /* 5 draws need 80 bytes */
    CHECK(strstr(err.msg, "draws") != NULL);
    T_OK(plume_gpu_rec_end(rec, &err));
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(small);

    plume_gpu_close(gpu);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_gpu_sample");
}
