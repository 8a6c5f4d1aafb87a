/* bench_gpu ROWS COLS [REPS]: matmul throughput per weight type and batch size, and the
 * read bandwidth, on the device plume picks. Not a test (timings are not deterministic):
 * built as build/bin/bench_gpu for the numbers of docs/gpu.md, "Kernel design". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "plume/gpu.h"
#include "bench_clock.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_gpu ROWS COLS [REPS [N [TYPE]]]  (N: one batch size only; TYPE: f32|f16|q8_0|q4_0 only)\n");
        return 2;
    }
    uint32_t rows = (uint32_t)atoi(argv[1]), cols = (uint32_t)atoi(argv[2]);
    int reps = argc > 3 ? atoi(argv[3]) : 4;
    if (rows == 0 || cols == 0 || cols % 32 || reps < 1 || reps > 1000) {
        fprintf(stderr, "bench_gpu: ROWS > 0, COLS a multiple of 32, 1 <= REPS <= 1000\n");
        return 2;
    }
    plume_error err;
    plume_gpu *gpu = plume_gpu_open(&err);
    if (!gpu) {
        fprintf(stderr, "bench_gpu: %s\n", err.msg);
        return 1;
    }
    printf("device: %s\n", plume_gpu_device_info(gpu)->name);
    double gbps;
    if (plume_gpu_measure_bandwidth(gpu, 64u << 20, reps, &gbps, &err) == 0)
        printf("read bandwidth (64 MiB texel view): %.2f GB/s\n", gbps);
    const plume_gpu_type types[4] = {PLUME_GPU_F32, PLUME_GPU_F16, PLUME_GPU_Q8_0, PLUME_GPU_Q4_0};
    const char *names[4] = {"F32", "F16", "Q8_0", "Q4_0"};
    /* Optional filters, so that variants of one kernel can be compared quickly. */
    uint32_t only_n = argc > 4 ? (uint32_t)atoi(argv[4]) : 0;
    const char *only_t = argc > 5 ? argv[5] : NULL;
    const uint32_t ns[4] = {1, 4, 8, 64};
    int rc = 0;
    for (int t = 0; t < 4 && !rc; t++) {
        if (only_t && strcasecmp(only_t, names[t]) != 0) continue;
        uint64_t bytes = plume_gpu_type_bytes(types[t], rows, cols);
        uint8_t *data = malloc(bytes);
        if (!data) return 1;
        for (uint64_t i = 0; i < bytes; i++) data[i] = (uint8_t)((i * 7) & 0x3b);   /* finite, small */
        plume_gpu_weight *w = plume_gpu_weight_create(gpu, types[t], rows, cols, data, &err);
        free(data);
        if (!w) {
            fprintf(stderr, "bench_gpu: %s\n", err.msg);
            rc = 1;
            break;
        }
        for (int k = 0; k < 4 && !rc; k++) {
            uint32_t n = ns[k];
            if (only_n && n != only_n) continue;
            plume_gpu_buffer *x = plume_gpu_buffer_create(gpu, (uint64_t)n * cols * 4, 0, &err);
            plume_gpu_buffer *y = x ? plume_gpu_buffer_create(gpu, (uint64_t)n * rows * 4, 0, &err) : NULL;
            plume_gpu_rec *rec = y ? plume_gpu_rec_begin(gpu, &err) : NULL;
            rc = !rec || plume_gpu_fill(x, 0, (uint64_t)n * cols * 4, 0x3c000000u, &err);
            for (int i = 0; i < reps && !rc; i++) rc = plume_gpu_matmul(rec, w, x, y, n, &err) != 0;
            rc = rc || plume_gpu_rec_end(rec, &err) || plume_gpu_rec_submit(rec, &err);   /* warm-up */
            double t0 = bench_wall(), c0 = bench_cpu();
            rc = rc || plume_gpu_rec_submit(rec, &err);
            double dt = (bench_wall() - t0) / reps, dc = (bench_cpu() - c0) / reps;
            if (!rc)
                printf("matmul %-4s %ux%u n=%-2u %8.3f ms  %6.2f G MAC/s  %6.2f GB/s of weights  (%.2f G MAC per CPU-s)\n",
                       names[t], rows, cols, n, dt * 1e3, (double)rows * cols * n / dt / 1e9, (double)bytes / dt / 1e9,
                       (double)rows * cols * n / dc / 1e9);
            else
                fprintf(stderr, "bench_gpu: %s\n", err.msg);
            plume_gpu_rec_free(rec);
            plume_gpu_buffer_free(x);
            plume_gpu_buffer_free(y);
        }
        plume_gpu_weight_free(w);
    }
    /* One decode step of a small llama layer (dim 256, FFN 704, 8 heads, 4 KV heads, Q8_0),
     * 16 layers deep, recorded with the plain ops and with the fused ones. */
    if (!rc) {
        const uint32_t dim = 256, hid = 704, H = 8, KH = 4, hd = 32, ctx = 128, L = 16, kvd = KH * hd;
        uint8_t *wd = calloc(1, plume_gpu_type_bytes(PLUME_GPU_Q8_0, hid, hid));
        plume_gpu_weight *wq = plume_gpu_weight_create(gpu, PLUME_GPU_Q8_0, dim, dim, wd, &err);
        plume_gpu_weight *wk = plume_gpu_weight_create(gpu, PLUME_GPU_Q8_0, kvd, dim, wd, &err);
        plume_gpu_weight *w1 = plume_gpu_weight_create(gpu, PLUME_GPU_Q8_0, hid, dim, wd, &err);
        plume_gpu_weight *w2 = plume_gpu_weight_create(gpu, PLUME_GPU_Q8_0, dim, hid, wd, &err);
        free(wd);
        plume_gpu_buffer *b[12];
        uint64_t sizes[12] = {dim * 4, dim * 4, dim * 4, kvd * 4, kvd * 4, dim * 4, hid * 4, hid * 4, dim * 4,
                              (uint64_t)ctx * kvd * 4, (uint64_t)ctx * kvd * 4, 16};
        for (int i = 0; i < 12; i++) {
            b[i] = plume_gpu_buffer_create(gpu, sizes[i], 0, &err);
            if (b[i]) plume_gpu_fill(b[i], 0, sizes[i], 0, &err);
        }
        plume_gpu_buffer *x = b[0], *xb = b[1], *q = b[2], *k = b[3], *v = b[4], *att = b[5], *hb = b[6], *hb2 = b[7],
                         *nw = b[8], *kc = b[9], *vc = b[10], *rw = b[11];
        plume_gpu_row row = {0, 100, 0, 0};
        plume_gpu_upload(rw, 0, &row, 16, &err);
        for (int fused = 0; fused < 2 && wq && wk && w1 && w2; fused++) {
            plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
            int bad = !rec;
            for (uint32_t l = 0; l < L && !bad; l++) {
                if (!fused)
                    bad = plume_gpu_rmsnorm(rec, x, nw, xb, 1, dim, 1e-5f, &err) || plume_gpu_matmul(rec, wq, xb, q, 1, &err) ||
                          plume_gpu_matmul(rec, wk, xb, k, 1, &err) || plume_gpu_matmul(rec, wk, xb, v, 1, &err) ||
                          plume_gpu_rope(rec, q, rw, 1, H, hd, 1e4f, 0, &err) ||
                          plume_gpu_rope(rec, k, rw, 1, KH, hd, 1e4f, 0, &err) ||
                          plume_gpu_kv_store(rec, k, v, rw, kc, vc, 1, kvd, ctx, &err) ||
                          plume_gpu_attention(rec, q, kc, vc, rw, att, 1, H, KH, hd, ctx, &err) ||
                          plume_gpu_matmul(rec, wq, att, xb, 1, &err) || plume_gpu_add(rec, x, xb, dim, &err) ||
                          plume_gpu_rmsnorm(rec, x, nw, xb, 1, dim, 1e-5f, &err) || plume_gpu_matmul(rec, w1, xb, hb, 1, &err) ||
                          plume_gpu_matmul(rec, w1, xb, hb2, 1, &err) || plume_gpu_silu_mul(rec, hb, hb2, hb, hid, &err) ||
                          plume_gpu_matmul(rec, w2, hb, xb, 1, &err) || plume_gpu_add(rec, x, xb, dim, &err);
                else
                    bad = plume_gpu_add_rmsnorm(rec, x, att, nw, xb, 1, dim, 1e-5f, &err) ||
                          plume_gpu_matmul_qkv(rec, wq, wk, wk, xb, q, k, v, 1, &err) ||
                          plume_gpu_rope_kv_store(rec, q, k, v, rw, kc, vc, 1, H, KH, hd, ctx, 1e4f, 0, NULL, &err) ||
                          plume_gpu_attention(rec, q, kc, vc, rw, hb2, 1, H, KH, hd, ctx, &err) ||
                          plume_gpu_matmul(rec, wq, hb2, att, 1, &err) ||
                          plume_gpu_add_rmsnorm(rec, x, att, nw, xb, 1, dim, 1e-5f, &err) ||
                          plume_gpu_matmul_swiglu(rec, w1, w1, xb, hb, 1, &err) || plume_gpu_matmul(rec, w2, hb, att, 1, &err);
            }
            bad = bad || plume_gpu_rec_end(rec, &err) || plume_gpu_rec_submit(rec, &err);
            double t0 = bench_wall(), c0 = bench_cpu();
            for (int i = 0; i < reps && !bad; i++) bad = plume_gpu_rec_submit(rec, &err);
            if (!bad)
                printf("decode step, %u layers of dim %u, Q8_0, %s ops: %.3f ms (%.3f CPU-ms)\n", L, dim,
                       fused ? "fused" : "plain", (bench_wall() - t0) / reps * 1e3, (bench_cpu() - c0) / reps * 1e3);
            else
                fprintf(stderr, "bench_gpu: %s\n", err.msg), rc = 1;
            plume_gpu_rec_free(rec);
        }
        for (int i = 0; i < 12; i++) plume_gpu_buffer_free(b[i]);
        plume_gpu_weight_free(wq), plume_gpu_weight_free(wk), plume_gpu_weight_free(w1), plume_gpu_weight_free(w2);
    }

    /* Attention: a 128-token prompt, then one decode step at position 511. */
    for (int hd = 64; hd <= 128 && !rc; hd *= 2) {
        const uint32_t heads = 8, kv = 4, ctx = 512, np = 128;
        uint32_t counts[2] = {np, 1};
        plume_gpu_buffer *q = plume_gpu_buffer_create(gpu, (uint64_t)np * heads * hd * 4, 0, &err);
        plume_gpu_buffer *o = plume_gpu_buffer_create(gpu, (uint64_t)np * heads * hd * 4, 0, &err);
        plume_gpu_buffer *kc = plume_gpu_buffer_create(gpu, (uint64_t)ctx * kv * hd * 4, 0, &err);
        plume_gpu_buffer *vc = plume_gpu_buffer_create(gpu, (uint64_t)ctx * kv * hd * 4, 0, &err);
        plume_gpu_buffer *rb = plume_gpu_buffer_create(gpu, (uint64_t)np * 16, 0, &err);
        plume_gpu_row *r = malloc(np * sizeof *r);
        if (!q || !o || !kc || !vc || !rb || !r) return 1;
        for (int step = 0; step < 2 && !rc; step++) {
            uint32_t n = counts[step];
            for (uint32_t i = 0; i < n; i++) r[i] = (plume_gpu_row){0, step ? 511 : i, 0, 0};
            plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
            rc = !rec || plume_gpu_upload(rb, 0, r, n * 16, &err) || plume_gpu_fill(q, 0, (uint64_t)n * heads * hd * 4, 0x3c000000u, &err) ||
                 plume_gpu_fill(kc, 0, (uint64_t)ctx * kv * hd * 4, 0x3c000000u, &err) ||
                 plume_gpu_fill(vc, 0, (uint64_t)ctx * kv * hd * 4, 0x3c000000u, &err);
            for (int i = 0; i < reps && !rc; i++)
                rc = plume_gpu_attention(rec, q, kc, vc, rb, o, n, heads, kv, (uint32_t)hd, ctx, &err) != 0;
            rc = rc || plume_gpu_rec_end(rec, &err) || plume_gpu_rec_submit(rec, &err);
            double t0 = bench_wall(), c0 = bench_cpu();
            rc = rc || plume_gpu_rec_submit(rec, &err);
            double dt = (bench_wall() - t0) / reps, dc = (bench_cpu() - c0) / reps;
            if (!rc) printf("attention %s heads 8/4 head_dim %d: %.3f ms (%.3f CPU-ms)\n",
                            step ? "decode at pos 511" : "prompt of 128", hd, dt * 1e3, dc * 1e3);
            else fprintf(stderr, "bench_gpu: %s\n", err.msg);
            plume_gpu_rec_free(rec);
        }
        free(r);
        plume_gpu_buffer_free(q), plume_gpu_buffer_free(o), plume_gpu_buffer_free(kc), plume_gpu_buffer_free(vc),
            plume_gpu_buffer_free(rb);
    }
    /* What a dispatch costs when its kernel costs next to nothing: 100 adds of 64 floats,
     * each behind a barrier (on lavapipe most of it is waking the worker threads). */
    if (!rc) {
        enum { DISPATCHES = 100 };
        plume_gpu_buffer *a = plume_gpu_buffer_create(gpu, 64 * 4, 0, &err);
        plume_gpu_buffer *b = a ? plume_gpu_buffer_create(gpu, 64 * 4, 0, &err) : NULL;
        plume_gpu_rec *rec = b ? plume_gpu_rec_begin(gpu, &err) : NULL;
        rc = !rec || plume_gpu_fill(a, 0, 64 * 4, 0, &err) || plume_gpu_fill(b, 0, 64 * 4, 0, &err);
        for (int i = 0; i < DISPATCHES && !rc; i++) rc = plume_gpu_add(rec, a, b, 64, &err) != 0;
        rc = rc || plume_gpu_rec_end(rec, &err) || plume_gpu_rec_submit(rec, &err);   /* warm-up */
        double best = 0, best_cpu = 0;
        for (int i = 0; i < reps && !rc; i++) {
            double t0 = bench_wall(), c0 = bench_cpu();
            rc = plume_gpu_rec_submit(rec, &err);
            double dt = (bench_wall() - t0) / DISPATCHES, dc = (bench_cpu() - c0) / DISPATCHES;
            if (i == 0 || dt < best) best = dt, best_cpu = dc;
        }
        if (!rc) printf("dispatch of a 64-float add, behind a barrier: %.1f us (%.1f CPU-us), best of %d\n", best * 1e6,
                        best_cpu * 1e6, reps);
        else fprintf(stderr, "bench_gpu: %s\n", err.msg);
        plume_gpu_rec_free(rec);
        plume_gpu_buffer_free(a), plume_gpu_buffer_free(b);
    }
    plume_gpu_close(gpu);
    return rc;
}
