/* matmul (the same register-tiled kernel for decoding, n <= 8 in one token tile, and for prompts) and embedding lookup
 * against plain-C references, for F32, F16, Q8_0 and Q4_0 weights, on shapes that are not
 * multiples of the tiles (rows 67, cols 130, n 3 and 13), and with weights split into
 * parts (as where a tensor exceeds maxTexelBufferElements). Q4_0 too. The other block types
 * (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K: random blocks) against the dequantization of
 * engine/lm/ggml_types.c, which test_reference_models holds to llama.cpp's: the device
 * repacks them with its own code (engine/gpu/gpu_weight.c).
 *
 * Tolerance: the reference sums in double from the same decoded weight values, so the
 * only error is the GPU's float accumulation order: |gpu - ref| <= 1e-5 * sum|w*x| + 1e-6. */
#include <math.h>
#include <unistd.h>
#include "plume/gguf.h"
#include "gpu_internal.h"
#include "gpu_test.h"

typedef struct test_weight {
    plume_gpu_type type;
    uint32_t rows, cols;
    uint8_t *data;      /* ggml layout */
    float *dense;       /* the values it encodes, rows x cols */
} test_weight;

/* Random ggml blocks of a type with a minimum or several scales: random bytes, with the f16
 * fields (scales, minimums) set to small finite values; the dense values by the CPU's
 * dequantization. */
static void make_blocks(test_weight *w) {
    const plume_ggml_type gt = (plume_ggml_type)w->type;
    const size_t be = plume_ggml_block_elems(gt), bb = plume_ggml_block_bytes(gt), nb = (size_t)w->cols / be;
    w->data = malloc((size_t)w->rows * nb * bb);
    for (size_t i = 0; i < (size_t)w->rows * nb * bb; i++) w->data[i] = (uint8_t)rng_u32();
    for (size_t b = 0; b < (size_t)w->rows * nb; b++) {
        uint8_t *blk = w->data + b * bb;
        int k = gt == PLUME_GGML_Q4_K || gt == PLUME_GGML_Q5_K || gt == PLUME_GGML_Q6_K;
        uint16_t d = t_float_to_half((k ? 0.0005f : 0.01f) + (k ? 0.002f : 0.05f) * fabsf(rng_f()));
        uint16_t m = t_float_to_half((k ? 0.002f : 0.1f) * rng_f());
        if (gt == PLUME_GGML_Q6_K) {
            blk[208] = (uint8_t)(d & 0xff), blk[209] = (uint8_t)(d >> 8);
            continue;
        }
        blk[0] = (uint8_t)(d & 0xff), blk[1] = (uint8_t)(d >> 8);
        if (gt != PLUME_GGML_Q5_0) blk[2] = (uint8_t)(m & 0xff), blk[3] = (uint8_t)(m >> 8);
        if (gt == PLUME_GGML_Q4_K || gt == PLUME_GGML_Q5_K) {   /* dmin >= 0, as the quantizer writes it */
            uint16_t dm = t_float_to_half(0.002f * fabsf(rng_f()));
            blk[2] = (uint8_t)(dm & 0xff), blk[3] = (uint8_t)(dm >> 8);
        }
    }
    plume_error err;
    T_OK(plume_ggml_to_f32(gt, w->data, w->dense, (size_t)w->rows * w->cols, &err));
}

static test_weight make_weight(plume_gpu_type type, uint32_t rows, uint32_t cols) {
    test_weight w = {type, rows, cols, NULL, calloc((size_t)rows * cols, sizeof(float))};
    if (type != PLUME_GPU_F32 && type != PLUME_GPU_F16 && type != PLUME_GPU_Q4_0 && type != PLUME_GPU_Q8_0) {
        make_blocks(&w);
    } else if (type == PLUME_GPU_F32) {
        float *d = malloc((size_t)rows * cols * 4);
        for (size_t i = 0; i < (size_t)rows * cols; i++) d[i] = w.dense[i] = rng_f();
        w.data = (uint8_t *)d;
    } else if (type == PLUME_GPU_F16) {
        uint16_t *d = malloc((size_t)rows * cols * 2);
        for (size_t i = 0; i < (size_t)rows * cols; i++) {
            d[i] = t_float_to_half(rng_f());
            w.dense[i] = t_half_to_float(d[i]);
        }
        w.data = (uint8_t *)d;
    } else if (type == PLUME_GPU_Q4_0) {
        /* ggml's layout: byte j of a block holds value j (low nibble) and j + 16 (high). */
        uint32_t nb = cols / 32;
        w.data = malloc((size_t)rows * nb * 18);
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t b = 0; b < nb; b++) {
                uint8_t *blk = w.data + ((size_t)r * nb + b) * 18;
                uint16_t d = t_float_to_half(0.01f + 0.05f * fabsf(rng_f()));
                blk[0] = (uint8_t)(d & 0xff);
                blk[1] = (uint8_t)(d >> 8);
                for (int j = 0; j < 16; j++) {
                    uint8_t byte = (uint8_t)rng_u32();
                    blk[2 + j] = byte;
                    w.dense[(size_t)r * cols + b * 32 + j] = t_half_to_float(d) * (float)((byte & 15) - 8);
                    w.dense[(size_t)r * cols + b * 32 + j + 16] = t_half_to_float(d) * (float)((byte >> 4) - 8);
                }
            }
    } else {
        uint32_t nb = cols / 32;
        w.data = malloc((size_t)rows * nb * 34);
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t b = 0; b < nb; b++) {
                uint8_t *blk = w.data + ((size_t)r * nb + b) * 34;
                uint16_t d = t_float_to_half(0.002f + 0.01f * fabsf(rng_f()));
                blk[0] = (uint8_t)(d & 0xff);
                blk[1] = (uint8_t)(d >> 8);
                for (int i = 0; i < 32; i++) {
                    int8_t q = (int8_t)(uint8_t)rng_u32();   /* the full range, -128 included */
                    blk[2 + i] = (uint8_t)q;
                    w.dense[(size_t)r * cols + b * 32 + i] = t_half_to_float(d) * (float)q;
                }
            }
    }
    return w;
}

static void free_weight(test_weight *w) {
    free(w->data);
    free(w->dense);
}

static const char *type_name(plume_gpu_type t) { return plume_ggml_type_name((plume_ggml_type)t); }

static void test_matmul(plume_gpu *gpu, plume_gpu_type type, uint32_t rows, uint32_t cols, uint32_t n,
                        uint64_t part_limit) {
    plume_error err;
    test_weight tw = make_weight(type, rows, cols);
    plume_gpu_set_part_limit(gpu, part_limit);
    plume_gpu_weight *w = plume_gpu_weight_create(gpu, type, rows, cols, tw.data, &err);
    plume_gpu_set_part_limit(gpu, 0);
    T_OK(w == NULL);
    float *x = malloc((size_t)n * cols * 4), *y = malloc((size_t)n * rows * 4);
    for (size_t i = 0; i < (size_t)n * cols; i++) x[i] = rng_f();
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * cols * 4);
    plume_gpu_buffer *by = t_buffer(gpu, NULL, (uint64_t)n * rows * 4);
    T_OK(plume_gpu_fill(by, 0, (uint64_t)n * rows * 4, 0x7fc00000u, &err));   /* NaN: unwritten outputs show */
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_matmul(rec, w, bx, by, n, &err));
    T_OK(plume_gpu_rec_end(rec, &err));
    T_OK(plume_gpu_rec_submit(rec, &err));
    t_download(by, y, (uint64_t)n * rows * 4);
    int bad = 0;
    double worst = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < rows; r++) {
            double ref = 0, mag = 0;
            for (uint32_t c = 0; c < cols; c++) {
                double p = (double)tw.dense[(size_t)r * cols + c] * x[(size_t)i * cols + c];
                ref += p;
                mag += fabs(p);
            }
            double got = y[(size_t)i * rows + r], e = fabs(got - ref);
            if (!(e <= 1e-5 * mag + 1e-6)) {
                if (!bad) fprintf(stderr, "  y[%u][%u] = %.9g, expected %.9g\n", i, r, got, ref);
                bad++;
            }
            if (e > worst) worst = e;
        }
    CHECK_MSG(bad == 0, "matmul %s %ux%u n=%u parts=%u: %d of %u outputs off (worst %.3g)", type_name(type), rows,
              cols, n, (unsigned)(part_limit ? 1 : 0), bad, n * rows, worst);
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(bx);
    plume_gpu_buffer_free(by);
    plume_gpu_weight_free(w);
    free(x);
    free(y);
    free_weight(&tw);
}

/* y = silu(G x) * (U x) in one dispatch. With g, u the exact products and eg, eu their
 * bounds from the matmul tolerance: |error| <= 1.1 eg |u| + |silu(g)| eu + 1e-6
 * (|silu'| <= 1.1). */
static void test_swiglu(plume_gpu *gpu, plume_gpu_type type, uint32_t rows, uint32_t cols, uint32_t n,
                        uint64_t part_limit) {
    plume_error err;
    test_weight tg = make_weight(type, rows, cols), tu = make_weight(type, rows, cols);
    plume_gpu_set_part_limit(gpu, part_limit);
    plume_gpu_weight *g = plume_gpu_weight_create(gpu, type, rows, cols, tg.data, &err);
    plume_gpu_weight *u = g ? plume_gpu_weight_create(gpu, type, rows, cols, tu.data, &err) : NULL;
    plume_gpu_set_part_limit(gpu, 0);
    T_OK(u == NULL);
    float *x = malloc((size_t)n * cols * 4), *y = malloc((size_t)n * rows * 4);
    for (size_t i = 0; i < (size_t)n * cols; i++) x[i] = rng_f();
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * cols * 4), *by = t_buffer(gpu, NULL, (uint64_t)n * rows * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_matmul_swiglu(rec, g, u, bx, by, n, &err));
    T_OK(plume_gpu_rec_end(rec, &err));
    T_OK(plume_gpu_rec_submit(rec, &err));
    t_download(by, y, (uint64_t)n * rows * 4);
    int bad = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < rows; r++) {
            double gv = 0, uv = 0, gm = 0, um = 0;
            for (uint32_t c = 0; c < cols; c++) {
                double xc = x[(size_t)i * cols + c];
                gv += tg.dense[(size_t)r * cols + c] * xc;
                uv += tu.dense[(size_t)r * cols + c] * xc;
                gm += fabs(tg.dense[(size_t)r * cols + c] * xc);
                um += fabs(tu.dense[(size_t)r * cols + c] * xc);
            }
            double silu = gv / (1.0 + exp(-gv)), ref = silu * uv;
            double tol = 1.1 * (1e-5 * gm + 1e-6) * fabs(uv) + fabs(silu) * (1e-5 * um + 1e-6) + 1e-6;
            double got = y[(size_t)i * rows + r];
            if (!(fabs(got - ref) <= tol)) {
                if (!bad) fprintf(stderr, "  y[%u][%u] = %.9g, expected %.9g\n", i, r, got, ref);
                bad++;
            }
        }
    CHECK_MSG(bad == 0, "matmul_swiglu %s %ux%u n=%u: %d of %u outputs off", type_name(type), rows, cols, n, bad,
              n * rows);
    plume_gpu_rec_free(rec);
    /* Gate and up must have the same shape and type. */
    plume_gpu_weight *other = plume_gpu_weight_create(gpu, PLUME_GPU_F32, 1, cols, x, &err);
    T_OK(other == NULL);
    rec = plume_gpu_rec_begin(gpu, &err);
    T_OK(rec == NULL);
    CHECK(plume_gpu_matmul_swiglu(rec, g, other, bx, by, n, &err) < 0);
    CHECK(strstr(err.msg, "same shape and type") != NULL);
    plume_gpu_rec_free(rec);
    plume_gpu_weight_free(other);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(by);
    plume_gpu_weight_free(g), plume_gpu_weight_free(u);
    free(x), free(y);
    free_weight(&tg), free_weight(&tu);
}

/* Counts outputs off the matmul tolerance for y = W x. */
static int count_off(const test_weight *w, const float *x, const float *y, uint32_t n) {
    int bad = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < w->rows; r++) {
            double ref = 0, mag = 0;
            for (uint32_t c = 0; c < w->cols; c++) {
                double p = (double)w->dense[(size_t)r * w->cols + c] * x[(size_t)i * w->cols + c];
                ref += p;
                mag += fabs(p);
            }
            if (!(fabs(y[(size_t)i * w->rows + r] - ref) <= 1e-5 * mag + 1e-6)) bad++;
        }
    return bad;
}

/* q, k, v = Wq x, Wk x, Wv x (k and v with fewer rows, as with grouped-query heads): three
 * dispatches from three weights (plume_gpu_matmul_qkv), and one from the three stacked
 * (plume_gpu_matmul_stacked; 67 q rows, so k's and v's rows start inside an 8-row group);
 * with part_limit the weights are split into parts, the stacked one across the boundaries. */
static void test_qkv(plume_gpu *gpu, plume_gpu_type type, uint32_t cols, uint32_t n, uint64_t part_limit) {
    plume_error err;
    const uint32_t rq = 67, rk = 35;
    test_weight tq = make_weight(type, rq, cols), tk = make_weight(type, rk, cols), tv = make_weight(type, rk, cols);
    plume_gpu_set_part_limit(gpu, part_limit);
    plume_gpu_weight *wq = plume_gpu_weight_create(gpu, type, rq, cols, tq.data, &err);
    plume_gpu_weight *wk = wq ? plume_gpu_weight_create(gpu, type, rk, cols, tk.data, &err) : NULL;
    plume_gpu_weight *wv = wk ? plume_gpu_weight_create(gpu, type, rk, cols, tv.data, &err) : NULL;
    uint64_t bq_bytes = plume_gpu_type_bytes(type, rq, cols), bk_bytes = plume_gpu_type_bytes(type, rk, cols);
    uint8_t *stack = malloc(bq_bytes + 2 * bk_bytes);
    memcpy(stack, tq.data, bq_bytes);
    memcpy(stack + bq_bytes, tk.data, bk_bytes);
    memcpy(stack + bq_bytes + bk_bytes, tv.data, bk_bytes);
    plume_gpu_weight *ws = wv ? plume_gpu_weight_create(gpu, type, rq + 2 * rk, cols, stack, &err) : NULL;
    free(stack);
    plume_gpu_set_part_limit(gpu, 0);
    T_OK(ws == NULL);
    float *x = malloc((size_t)n * cols * 4), *q = malloc((size_t)n * rq * 4), *k = malloc((size_t)n * rk * 4),
          *v = malloc((size_t)n * rk * 4);
    for (size_t i = 0; i < (size_t)n * cols; i++) x[i] = rng_f();
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * cols * 4), *bq = t_buffer(gpu, NULL, (uint64_t)n * rq * 4),
                     *bk = t_buffer(gpu, NULL, (uint64_t)n * rk * 4), *bv = t_buffer(gpu, NULL, (uint64_t)n * rk * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_matmul_qkv(rec, wq, wk, wv, bx, bq, bk, bv, n, &err));
    CHECK(plume_gpu_matmul_qkv(rec, wq, wk, wv, bx, bq, bk, bk, n, &err) < 0);   /* k and v must differ */
    T_OK(plume_gpu_rec_end(rec, &err));
    T_OK(plume_gpu_rec_submit(rec, &err));
    t_download(bq, q, (uint64_t)n * rq * 4);
    t_download(bk, k, (uint64_t)n * rk * 4);
    t_download(bv, v, (uint64_t)n * rk * 4);
    int bq_off = count_off(&tq, x, q, n), bk_off = count_off(&tk, x, k, n), bv_off = count_off(&tv, x, v, n);
    CHECK_MSG(bq_off + bk_off + bv_off == 0, "matmul_qkv %s cols %u n=%u%s: %d q, %d k, %d v outputs off",
              type_name(type), cols, n, part_limit ? " split" : "", bq_off, bk_off, bv_off);
    plume_gpu_rec_free(rec);
    /* The stacked weight, outputs cleared first. */
    T_OK(plume_gpu_fill(bq, 0, (uint64_t)n * rq * 4, 0x7fc00000u, &err));
    T_OK(plume_gpu_fill(bk, 0, (uint64_t)n * rk * 4, 0x7fc00000u, &err));
    T_OK(plume_gpu_fill(bv, 0, (uint64_t)n * rk * 4, 0x7fc00000u, &err));
    rec = plume_gpu_rec_begin(gpu, &err);
    T_OK(rec == NULL);
    T_OK(plume_gpu_matmul_stacked(rec, ws, rq, rk, bx, bq, bk, bv, n, &err));
    CHECK(plume_gpu_matmul_stacked(rec, ws, rq, 2 * rk, bx, bq, bk, bv, n, &err) < 0);   /* no v rows left */
    CHECK(plume_gpu_matmul_stacked(rec, ws, rq, rk, bx, bq, bk, bk, n, &err) < 0);       /* k and v must differ */
    T_OK(plume_gpu_rec_end(rec, &err));
    T_OK(plume_gpu_rec_submit(rec, &err));
    t_download(bq, q, (uint64_t)n * rq * 4);
    t_download(bk, k, (uint64_t)n * rk * 4);
    t_download(bv, v, (uint64_t)n * rk * 4);
    bq_off = count_off(&tq, x, q, n), bk_off = count_off(&tk, x, k, n), bv_off = count_off(&tv, x, v, n);
    CHECK_MSG(bq_off + bk_off + bv_off == 0, "matmul_stacked %s cols %u n=%u%s: %d q, %d k, %d v outputs off",
              type_name(type), cols, n, part_limit ? " split" : "", bq_off, bk_off, bv_off);
    plume_gpu_rec_free(rec);
    plume_gpu_weight_free(ws);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(bq), plume_gpu_buffer_free(bk), plume_gpu_buffer_free(bv);
    plume_gpu_weight_free(wq), plume_gpu_weight_free(wk), plume_gpu_weight_free(wv);
    free(x), free(q), free(k), free(v);
    free_weight(&tq), free_weight(&tk), free_weight(&tv);
}

static void test_embed(plume_gpu *gpu, plume_gpu_type type, uint32_t vocab, uint32_t cols, uint64_t part_limit) {
    plume_error err;
    test_weight tw = make_weight(type, vocab, cols);
    plume_gpu_set_part_limit(gpu, part_limit);
    plume_gpu_weight *w = plume_gpu_weight_create(gpu, type, vocab, cols, tw.data, &err);
    plume_gpu_set_part_limit(gpu, 0);
    T_OK(w == NULL);
    const uint32_t n = 5;
    plume_gpu_row rows[5] = {{5, 0, 0, 0}, {0, 1, 0, 0}, {vocab - 1, 2, 0, 0}, {5, 3, 0, 0}, {vocab / 2, 4, 0, 0}};
    plume_gpu_buffer *brows = t_buffer(gpu, rows, sizeof rows);
    plume_gpu_buffer *out = t_buffer(gpu, NULL, (uint64_t)n * cols * 4);
    float *got = malloc((size_t)n * cols * 4);
    plume_gpu_rec *rec = t_rec_begin(gpu);
    T_OK(plume_gpu_embed(rec, w, brows, out, n, &err));
    T_OK(plume_gpu_rec_end(rec, &err));
    T_OK(plume_gpu_rec_submit(rec, &err));
    t_download(out, got, (uint64_t)n * cols * 4);
    int bad = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t c = 0; c < cols; c++) {
            float ref = tw.dense[(size_t)rows[i].token * cols + c];
            /* F32/F16 are exact copies; Q8_0 is one float multiply, also exact. */
            if (got[(size_t)i * cols + c] != ref) bad++;
        }
    CHECK_MSG(bad == 0, "embed %s %ux%u: %d values differ", type_name(type), vocab, cols, bad);
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(brows);
    plume_gpu_buffer_free(out);
    plume_gpu_weight_free(w);
    free(got);
    free_weight(&tw);
}

/* y = W x with the default matmul shape and with each shape the autotune may choose:
 * each row is accumulated in the same order whatever the shape, so the outputs must be
 * bit-identical (the shapes are also checked against the reference in test_variants). */
static void test_variant_exact(plume_gpu *gpu, plume_gpu_type type, uint32_t rows, uint32_t cols, uint32_t n) {
    plume_error err;
    test_weight tw = make_weight(type, rows, cols);
    plume_gpu_weight *w = plume_gpu_weight_create(gpu, type, rows, cols, tw.data, &err);
    T_OK(w == NULL);
    float *x = malloc((size_t)n * cols * 4), *y0 = malloc((size_t)n * rows * 4), *y = malloc((size_t)n * rows * 4);
    for (size_t i = 0; i < (size_t)n * cols; i++) x[i] = rng_f();
    plume_gpu_buffer *bx = t_buffer(gpu, x, (uint64_t)n * cols * 4), *by = t_buffer(gpu, NULL, (uint64_t)n * rows * 4);
    plume_gpu_mm_shape c[8];
    int nv = plume_gpu_matmul_variants(gpu, type, n < 8 ? n : 8, c, 8);
    CHECK(nv >= 2);
    for (int v = 0; v < nv; v++) {
        plume_gpu_set_matmul_shape(gpu, &c[v]);
        T_OK(plume_gpu_fill(by, 0, (uint64_t)n * rows * 4, 0x7fc00000u, &err));
        plume_gpu_rec *rec = t_rec_begin(gpu);
        T_OK(plume_gpu_matmul(rec, w, bx, by, n, &err));
        t_rec_run(rec);
        t_download(by, v ? y : y0, (uint64_t)n * rows * 4);
        if (v)
            CHECK_MSG(!memcmp(y, y0, (size_t)n * rows * 4), "matmul %s %ux%u n=%u: shape %u x %u rows (x shared %u) "
                      "differs from the default %u x %u", type_name(type), rows, cols, n, c[v].wg, c[v].tr, c[v].xshare,
                      c[0].wg, c[0].tr);
    }
    plume_gpu_set_matmul_shape(gpu, NULL);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(by);
    plume_gpu_weight_free(w);
    free(x), free(y0), free(y);
    free_weight(&tw);
}

/* y = W x with the residual add and norm after it, fused (plume_gpu_matmul_add_rmsnorm: one
 * dispatch up to 8 rows, where the last subgroup to finish does the norm), against the two
 * ops it stands for, plume_gpu_matmul then plume_gpu_add_rmsnorm, run twice in one
 * recording (the counter of finished invocations must be back at 0 for the second). Where a
 * subgroup is rmsnorm's workgroup (8 lanes on lavapipe) both sum in the same order: bit for
 * bit; elsewhere within 1e-5. */
static void test_matmul_norm(plume_gpu *gpu, plume_gpu_type type, uint32_t rows, uint32_t cols, uint32_t n) {
    plume_error err;
    test_weight tw = make_weight(type, rows, cols);
    plume_gpu_weight *w = plume_gpu_weight_create(gpu, type, rows, cols, tw.data, &err);
    T_OK(w == NULL);
    size_t nx = (size_t)n * cols, ny = (size_t)n * rows;
    float *x = malloc(nx * 4), *h = malloc(ny * 4), *nw = malloc((size_t)rows * 4);
    float *out[2] = {malloc(ny * 4), malloc(ny * 4)}, *hs[2] = {malloc(ny * 4), malloc(ny * 4)};
    for (size_t i = 0; i < nx; i++) x[i] = rng_f();
    for (size_t i = 0; i < ny; i++) h[i] = rng_f();
    for (uint32_t i = 0; i < rows; i++) nw[i] = 0.5f + rng_f();
    plume_gpu_buffer *bx = t_buffer(gpu, x, nx * 4), *bw = t_buffer(gpu, nw, (uint64_t)rows * 4);
    for (int fused = 0; fused < 2; fused++) {
        plume_gpu_buffer *bh = t_buffer(gpu, h, ny * 4), *by = t_buffer(gpu, NULL, ny * 4),
                         *bo = t_buffer(gpu, NULL, ny * 4);
        plume_gpu_rec *rec = t_rec_begin(gpu);
        for (int round = 0; round < 2; round++) {
            if (fused) {
                T_OK(plume_gpu_matmul_add_rmsnorm(rec, w, bx, by, bh, bw, bo, n, 1e-5f, &err));
            } else {
                T_OK(plume_gpu_matmul(rec, w, bx, by, n, &err));
                T_OK(plume_gpu_add_rmsnorm(rec, bh, by, bw, bo, n, rows, 1e-5f, &err));
            }
        }
        t_rec_run(rec);
        t_download(bh, hs[fused], ny * 4);
        t_download(bo, out[fused], ny * 4);
        plume_gpu_buffer_free(bh), plume_gpu_buffer_free(by), plume_gpu_buffer_free(bo);
    }
    int exact = plume_gpu_device_info(gpu)->subgroup_size <= 64;
    double worst = 0;
    for (size_t i = 0; i < ny; i++) {
        double d = fabs((double)out[1][i] - out[0][i]) + fabs((double)hs[1][i] - hs[0][i]);
        if (d > worst) worst = d;
    }
    CHECK_MSG(exact ? worst == 0 : worst <= 1e-5, "matmul_add_rmsnorm %s %ux%u n=%u: differs from matmul + "
              "add_rmsnorm by %g", type_name(type), rows, cols, n, worst);
    /* Buffers it may not share. */
    plume_gpu_rec *rec = t_rec_begin(gpu);
    CHECK(plume_gpu_matmul_add_rmsnorm(rec, w, bx, bw, bw, bw, bw, n, 1e-5f, &err) < 0);
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(bx), plume_gpu_buffer_free(bw);
    plume_gpu_weight_free(w);
    free(x), free(h), free(nw), free(out[0]), free(out[1]), free(hs[0]), free(hs[1]);
    free_weight(&tw);
}

/* Every shape the autotune may choose, on the float and the quantized decode paths: bit
 * for bit against the default shape (F16, Q8_0, Q4_0), and against the reference (F16 and
 * Q8_0: plain and SwiGLU for one token and for tiles of 8 with a partial one, the stacked
 * q/k/v for one token). */
static void test_variants(plume_gpu *gpu, int quant) {
    plume_gpu_mm_shape c[8];
    const plume_gpu_type types[3] = {PLUME_GPU_F16, PLUME_GPU_Q8_0, PLUME_GPU_Q4_0};
    if (!quant) {
        /* Rows of whole x texels that end inside a 32-value chunk (x shared through
         * shuffles: the last chunk reaches past the row) and inside a weight texel. */
        test_variant_exact(gpu, PLUME_GPU_F32, 67, 132, 1);
        test_variant_exact(gpu, PLUME_GPU_F16, 67, 132, 1);
        test_variant_exact(gpu, PLUME_GPU_F16, 300, 132, 13);
    }
    for (int t = quant ? 1 : 0; t < (quant ? 3 : 1); t++) {
        uint32_t cols = types[t] == PLUME_GPU_F16 ? 132 : 160;
        test_variant_exact(gpu, types[t], 67, types[t] == PLUME_GPU_F16 ? 130 : cols, 1);
        test_variant_exact(gpu, types[t], 300, types[t] == PLUME_GPU_F16 ? 130 : cols, 13);
        /* Q4_0: bit for bit against the default (which test_gpu_matmul_quant holds to the
         * reference); its SwiGLU pipelines are the slowest to compile. */
        if (types[t] == PLUME_GPU_Q4_0) continue;
        /* The fused norm with every shape (the count of invocations differs), one token and
         * tiles of 8 (fused), and 13 tokens (the two ops). */
        for (int tile = 1; tile <= 8; tile += 7) {
            int nv = plume_gpu_matmul_variants(gpu, types[t], (uint32_t)tile, c, 8);
            for (int v = 0; v < nv; v++) {
                plume_gpu_set_matmul_shape(gpu, &c[v]);
                test_matmul_norm(gpu, types[t], 300, cols, (uint32_t)tile);
                plume_gpu_set_matmul_shape(gpu, NULL);
            }
        }
        test_matmul_norm(gpu, types[t], 96, cols, 3);
        test_matmul_norm(gpu, types[t], 96, cols, 13);
        for (int tile = 1; tile <= 8; tile += 7) {   /* one token, and tiles of 8 */
            int nv = plume_gpu_matmul_variants(gpu, types[t], (uint32_t)tile, c, 8);
            for (int v = 1; v < nv; v++) {
                plume_gpu_set_matmul_shape(gpu, &c[v]);
                uint32_t n = tile == 1 ? 1 : 13;
                test_matmul(gpu, types[t], tile == 1 ? 67 : 300, cols, n, 0);
                test_swiglu(gpu, types[t], 67, cols, n, 0);
                if (tile == 1) test_qkv(gpu, types[t], cols, n, 0);   /* the row routing: tile-independent */
                plume_gpu_set_matmul_shape(gpu, NULL);
            }
        }
    }
}

/* The autotune itself, in a fresh cache folder: the first matmul of a class times the
 * candidates and writes the cache file; a second gpu reads it instead of timing again; a
 * hand-edited line naming a shape this build does not try is ignored (timed again). */
static void test_tune(void) {
    char dir[512], path[1024], line[256];
    const char *build = getenv("PLUME_BUILD_DIR");
    snprintf(dir, sizeof dir, "%s/test-tune-%ld", build && *build ? build : "/tmp", (long)getpid());
    setenv("PLUME_TUNE_DIR", dir, 1);
    setenv("PLUME_TUNE", "1", 1);
    plume_error err;
    /* 512 x 512: big enough to be tuned (a 40 x 64 one, below, is not). */
    test_weight tw = make_weight(PLUME_GPU_Q8_0, 512, 512), small = make_weight(PLUME_GPU_Q8_0, 40, 64);
    for (int round = 0; round < 3; round++) {
        plume_gpu *gpu = t_open();
        plume_gpu_weight *ws = plume_gpu_weight_create(gpu, PLUME_GPU_Q8_0, 40, 64, small.data, &err);
        plume_gpu_weight *w = plume_gpu_weight_create(gpu, PLUME_GPU_Q8_0, 512, 512, tw.data, &err);
        plume_gpu_buffer *bx = t_buffer(gpu, NULL, 512 * 4), *by = t_buffer(gpu, NULL, 512 * 4);
        plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
        T_OK(w == NULL || ws == NULL || rec == NULL);
        T_OK(plume_gpu_matmul(rec, ws, bx, by, 1, &err));
        CHECK_MSG(plume_gpu_tune_runs(gpu) == 0, "a 40 x 64 matrix started a timing");
        T_OK(plume_gpu_matmul(rec, w, bx, by, 1, &err));
        plume_gpu_rec_free(rec);
        CHECK_MSG(plume_gpu_tune_runs(gpu) == (round == 1 ? 0 : 1), "tune round %d: %d timings", round,
                  plume_gpu_tune_runs(gpu));
        if (round == 0) {
            /* The file names the chosen shape, one of the candidates. */
            T_OK(plume_gpu_tune_file(gpu, path, sizeof path));
            CHECK_MSG(!strncmp(path, dir, strlen(dir)), "the tune file %s is not in PLUME_TUNE_DIR %s", path, dir);
            FILE *f = fopen(path, "r");
            CHECK_MSG(f != NULL, "no tune file %s", path);
            int found = 0;
            while (f && fgets(line, sizeof line, f)) {
                unsigned a, b, x;
                if (sscanf(line, "matmul.q8_0.n1 %u %u %u", &a, &b, &x) != 3) continue;
                plume_gpu_mm_shape c[8];
                int nv = plume_gpu_matmul_variants(gpu, PLUME_GPU_Q8_0, 1, c, 8);
                for (int v = 0; v < nv; v++) found |= c[v].wg == a && c[v].tr == b && c[v].xshare == x;
            }
            if (f) fclose(f);
            CHECK_MSG(found, "the tune file %s has no valid matmul.q8_0.n1 line", path);
        }
        if (round == 1) {   /* a shape outside the candidates: ignored */
            FILE *f = fopen(path, "w");
            T_OK(f == NULL);
            fprintf(f, "matmul.q8_0.n1 3 7 0\n");
            fclose(f);
        }
        plume_gpu_buffer_free(bx), plume_gpu_buffer_free(by);
        plume_gpu_weight_free(w), plume_gpu_weight_free(ws);
        plume_gpu_close(gpu);
    }
    free_weight(&tw), free_weight(&small);
    unlink(path);
    rmdir(dir);
    setenv("PLUME_TUNE", "0", 1);
}

/* The block types repacked for the kernels (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K): products
 * for one token, tiles of 3 and 8 and partial ones, split weights, the stacked q/k/v, SwiGLU,
 * embedding, and every shape the autotune may choose (x shared through shuffles or not). */
static void test_block_types(plume_gpu *gpu) {
    const plume_gpu_type types[6] = {PLUME_GPU_Q4_1, PLUME_GPU_Q5_0, PLUME_GPU_Q5_1,
                                     PLUME_GPU_Q4_K, PLUME_GPU_Q5_K, PLUME_GPU_Q6_K};
    for (int t = 0; t < 6; t++) {
        uint32_t cols = types[t] >= PLUME_GPU_Q4_K ? 512 : 160;
        test_matmul(gpu, types[t], 67, cols, 1, 0);
        test_matmul(gpu, types[t], 67, cols, 3, 0);
        test_matmul(gpu, types[t], 300, cols, 13, 0);
        test_matmul(gpu, types[t], 67, cols, 35, 8192);   /* split into parts */
        test_qkv(gpu, types[t], cols, 1, 0);
        test_qkv(gpu, types[t], cols, 13, 0);
        test_embed(gpu, types[t], 67, cols, 0);
        test_embed(gpu, types[t], 67, cols, 8192);
        test_swiglu(gpu, types[t], 67, cols, 1, 0);
        test_swiglu(gpu, types[t], 67, cols, 13, 0);
        plume_gpu_mm_shape c[8];
        for (int tile = 1; tile <= 8; tile += 7) {
            int nv = plume_gpu_matmul_variants(gpu, types[t] == PLUME_GPU_Q4_1 || types[t] == PLUME_GPU_Q4_K
                                                        ? PLUME_GPU_Q4_0
                                                        : PLUME_GPU_Q8_0,
                                               (uint32_t)tile, c, 8);
            for (int v = 1; v < nv; v++) {
                plume_gpu_set_matmul_shape(gpu, &c[v]);
                test_matmul(gpu, types[t], 67, cols, tile == 1 ? 1 : 13, 0);
                test_swiglu(gpu, types[t], 67, cols, tile == 1 ? 1 : 13, 0);
                plume_gpu_set_matmul_shape(gpu, NULL);
            }
        }
    }
    plume_error err;
    float dummy[64] = {0};
    CHECK(plume_gpu_weight_create(gpu, PLUME_GPU_Q4_K, 2, 32, dummy, &err) == NULL);
    CHECK(strstr(err.msg, "multiple of 256") != NULL);
}

/* No argument: F32 and F16; "quant": Q8_0 and Q4_0; "all": the four; "variants": the
 * autotune's shapes on F16, and the autotune; "variants-quant": its shapes on Q8_0 and
 * Q4_0; "blocks": the other block types. ctest runs them as five tests, side by side. */
int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "float";
    if (!strcmp(which, "blocks")) {
        plume_gpu *gpu = t_open();
        test_block_types(gpu);
        plume_gpu_close(gpu);
        CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
        return check_finish("test_gpu_matmul blocks");
    }
    if (!strncmp(which, "variants", 8)) {
        int quant = !strcmp(which, "variants-quant");
        plume_gpu *gpu = t_open();
        test_variants(gpu, quant);
        plume_gpu_close(gpu);
        if (!quant) test_tune();

        CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
        return check_finish(quant ? "test_gpu_matmul variants-quant" : "test_gpu_matmul variants");
    }
    int first = !strcmp(which, "quant") ? 2 : 0, last = !strcmp(which, "all") || !strcmp(which, "quant") ? 4 : 2;
    plume_gpu *gpu = t_open();
    plume_gpu_type types[4] = {PLUME_GPU_F32, PLUME_GPU_F16, PLUME_GPU_Q8_0, PLUME_GPU_Q4_0};
    /* Batch sizes 1, 3, 8 and 13 give token tiles of 1, 3 and 8: each tile width and x path
     * is a pipeline that lavapipe compiles (about a second each with a cold shader cache on a
     * busy machine), so the cases below reuse them rather than add widths. */
    uint32_t ns[4] = {1, 3, 8, 13};
    for (int t = first; t < last; t++) {
        /* cols 130 (F32/F16): rows end mid-texel; Q8_0 and Q4_0 need multiples of 32. */
        int blocked = types[t] == PLUME_GPU_Q8_0 || types[t] == PLUME_GPU_Q4_0;
        uint32_t cols = blocked ? 160 : 130;
        for (int i = 0; i < 4; i++) test_matmul(gpu, types[t], 67, cols, ns[i], 0);
        test_matmul(gpu, types[t], 33, blocked ? 32 : 3, 3, 0);   /* less than one texel per row (F32/F16) */
        if (!blocked) {   /* cols % 4 == 0: x read through a texel view */
            test_matmul(gpu, types[t], 67, 132, 1, 0);
            test_matmul(gpu, types[t], 67, 132, 13, 0);
            test_matmul(gpu, types[t], 65, 36, 1, 0);   /* F16: a row ends mid-texel, x aligned */
        }
        test_matmul(gpu, types[t], 67, cols, 3, 4096);                               /* split into ~10 parts */
        test_matmul(gpu, types[t], 67, cols, 13, 4096);
        /* Longer prompts: 35 tokens end mid-tile; 300 rows span several workgroups of
         * interleaved rows, the last partial. */
        test_matmul(gpu, types[t], 67, cols, 35, 0);
        test_matmul(gpu, types[t], 300, cols, 19, 0);
        test_matmul(gpu, types[t], 67, cols, 35, 4096);
        if (!blocked) test_matmul(gpu, types[t], 67, 132, 35, 0);
        test_qkv(gpu, types[t], cols, 35, 0);
        test_embed(gpu, types[t], 67, cols, 0);
        test_embed(gpu, types[t], 67, cols, 4096);
        test_qkv(gpu, types[t], cols, 1, 0);
        test_qkv(gpu, types[t], cols, 13, 0);
        test_qkv(gpu, types[t], cols, 3, 4096);
        test_swiglu(gpu, types[t], 67, cols, 1, 0);
        test_swiglu(gpu, types[t], 67, cols, 13, 4096);   /* prompt tiles, split weights */
        if (!blocked) test_swiglu(gpu, types[t], 35, 132, 1, 0);
        plume_gpu_set_no_map(gpu, 1);   /* weights, x and y through staging copies */
        test_matmul(gpu, types[t], 67, cols, 3, 4096);
        plume_gpu_set_no_map(gpu, 0);
    }
    /* A device without subgroup shuffle: matmul_plain, whose module does not declare
     * GroupNonUniformShuffle (65), and no shared x; the same results. */
    CHECK(plume_gpu_shader_declares("matmul", 65) == 1);
    CHECK(plume_gpu_shader_declares("matmul_plain", 65) == 0);
    if (first == 2) {
        plume_gpu *plain = t_open();
        plume_gpu_mask_features(plain, 0, 1);
        test_matmul(plain, PLUME_GPU_Q8_0, 67, 160, 1, 0);
        test_swiglu(plain, PLUME_GPU_Q4_0, 67, 160, 1, 0);
        plume_gpu_close(plain);
    }
    /* Rejections: Q8_0 columns not a multiple of 32; a row that cannot fit a part. */
    plume_error err;
    float dummy[64] = {0};
    CHECK(plume_gpu_weight_create(gpu, PLUME_GPU_Q8_0, 2, 48, dummy, &err) == NULL);
    CHECK(strstr(err.msg, "multiple of 32") != NULL);
    CHECK(plume_gpu_weight_create(gpu, PLUME_GPU_Q4_0, 2, 40, dummy, &err) == NULL);
    plume_gpu_set_part_limit(gpu, 16);
    CHECK(plume_gpu_weight_create(gpu, PLUME_GPU_F32, 2, 32, dummy, &err) == NULL);
    CHECK(strstr(err.msg, "maxTexelBufferElements") != NULL);
    plume_gpu_set_part_limit(gpu, 0);
    CHECK(plume_gpu_weight_create(gpu, (plume_gpu_type)11, 2, 256, dummy, &err) == NULL);   /* Q3_K: not supported */
    CHECK(strstr(err.msg, "type 11") != NULL);
    plume_gpu_close(gpu);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    printf("weight types %d..%d\n", first, last - 1);
    return check_finish("test_gpu_matmul");
}
