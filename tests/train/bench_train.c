/* bench_train [N [REPS]]: the training kernels' throughput on the device plume picks, at the
 * shapes of a small llama (dim 96/256, FFN, vocabulary 2048) and N rows (tokens) per step.
 * Not a test (timings are not deterministic): built as build/bin/bench_train for docs/training.md,
 * "The kernels, shaped for lavapipe", and to compare kernel variants. */
#include <stdio.h>
#include <stdlib.h>
#include "train_ops.h"
#include "bench_clock.h"

static pbuf *filled(plume_gpu *gpu, uint64_t count, plume_error *err) {
    pbuf *b = plume_gpu_buffer_create(gpu, count * 4, 0, err);
    float *f = malloc(count * 4);
    if (!b || !f) exit(1);
    for (uint64_t i = 0; i < count; i++) f[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    if (plume_gpu_upload(b, 0, f, count * 4, err)) exit(1);
    free(f);
    return b;
}

/* Times REPS of one matmul mode (0 forward, 1 dx, 2 dW) at rows x cols over n rows. */
static void bench_mm(plume_gpu *gpu, int mode, uint32_t rows, uint32_t cols, uint32_t n, int reps) {
    plume_error err;
    pbuf *w = filled(gpu, (uint64_t)rows * cols, &err), *x = filled(gpu, (uint64_t)n * cols, &err);
    pbuf *dy = filled(gpu, (uint64_t)n * rows, &err), *wt = filled(gpu, (uint64_t)rows * cols, &err);
    pbuf *o = filled(gpu, mode == 0 ? (uint64_t)n * rows : mode == 1 ? (uint64_t)n * cols : (uint64_t)rows * cols, &err);
    plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
    int rc = !rec;
    for (int i = 0; i < reps && !rc; i++)
        rc = mode == 0 ? plume_train_matmul(rec, w, x, o, wt, rows, cols, n, 0, &err)
             : mode == 1 ? plume_train_matmul_dx(rec, w, dy, o, rows, cols, n, 0, &err)
                         : plume_train_matmul_dw(rec, dy, x, o, rows, cols, n, &err);
    rc = rc || plume_gpu_rec_end(rec, &err) || plume_gpu_rec_submit(rec, &err);   /* warm-up */
    double t0 = bench_wall(), c0 = bench_cpu();
    rc = rc || plume_gpu_rec_submit(rec, &err);
    double dt = (bench_wall() - t0) / reps, dc = (bench_cpu() - c0) / reps;
    static const char *names[3] = {"y = W x", "dx", "dW"};
    if (rc) fprintf(stderr, "bench_train: %s\n", err.msg), exit(1);
    double flop = 2.0 * rows * cols * n;
    printf("matmul %-7s %5u x %-5u n=%-5u %9.3f ms  %6.2f GFLOP/s  (%.2f GFLOP per CPU-s)\n", names[mode], rows, cols,
           n, dt * 1e3, flop / dt / 1e9, flop / dc / 1e9);
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(wt), plume_gpu_buffer_free(w), plume_gpu_buffer_free(x), plume_gpu_buffer_free(dy), plume_gpu_buffer_free(o);
}

static void bench_attention(plume_gpu *gpu, uint32_t n, uint32_t heads, uint32_t kv, uint32_t hd, uint32_t seq,
                            int reps) {
    plume_error err;
    uint64_t qc = (uint64_t)n * heads * hd, kc = (uint64_t)n * kv * hd;
    pbuf *q = filled(gpu, qc, &err), *k = filled(gpu, kc, &err), *v = filled(gpu, kc, &err), *o = filled(gpu, qc, &err);
    pbuf *d = filled(gpu, qc, &err), *ld = filled(gpu, (uint64_t)n * heads * 2, &err), *dq = filled(gpu, qc, &err);
    pbuf *dk = filled(gpu, kc, &err), *dv = filled(gpu, kc, &err);
    plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
    int rc = !rec;
    for (int i = 0; i < reps && !rc; i++)
        rc = plume_train_attention_backward(rec, q, k, v, o, d, ld, dq, dk, dv, n, heads, kv, hd, seq, &err);
    rc = rc || plume_gpu_rec_end(rec, &err) || plume_gpu_rec_submit(rec, &err);
    double t0 = bench_wall(), c0 = bench_cpu();
    rc = rc || plume_gpu_rec_submit(rec, &err);
    if (rc) fprintf(stderr, "bench_train: %s\n", err.msg), exit(1);
    printf("attention backward n=%u heads %u/%u head_dim %u seq %u: %.3f ms (%.3f CPU-ms)\n", n, heads, kv, hd, seq,
           (bench_wall() - t0) / reps * 1e3, (bench_cpu() - c0) / reps * 1e3);
    plume_gpu_rec_free(rec);
    pbuf *all[9] = {q, k, v, o, d, ld, dq, dk, dv};
    for (int i = 0; i < 9; i++) plume_gpu_buffer_free(all[i]);
}

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 1024;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    const char *only = argc > 3 ? argv[3] : "";
    if (n == 0 || n % 256 || reps < 1 || reps > 1000) {
        fprintf(stderr, "usage: bench_train [N (a multiple of 256) [REPS [mm|attn]]]\n");
        return 2;
    }
    plume_error err;
    plume_gpu *gpu = plume_gpu_open(&err);
    if (!gpu) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    printf("device: %s\n", plume_gpu_device_info(gpu)->name);
    /* dim 96 (a 4-head layer, FFN 288, the 2048-token classifier) and dim 256 */
    const uint32_t shapes[][2] = {{96, 96}, {288, 96}, {96, 288}, {2048, 96}, {256, 256}, {688, 256}, {2048, 256}};
    if (only[0] != 'a')
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int mode = 0; mode < 3; mode++) bench_mm(gpu, mode, shapes[s][0], shapes[s][1], n, reps);
    if (only[0] != 'm') {
        bench_attention(gpu, n, 4, 4, 24, 256, reps);
        bench_attention(gpu, n, 8, 4, 32, 256, reps);
    }
    plume_gpu_close(gpu);
    return 0;
}
