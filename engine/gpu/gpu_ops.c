/* The transformer ops: each checks shapes and buffer sizes, picks the kernel variant for
 * this device (specialization constants), records its dispatches and a barrier.
 *
 * Workgroup shapes (see docs/gpu.md, "Kernel design"): reductions (rmsnorm, argmax, attention) use one
 * subgroup per workgroup so they need no barrier(); matmul uses WG = 2 x subgroup
 * invocations (16 on lavapipe), each computing a 4-row x TB-token register tile. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "gpu_internal.h"
#include "gpu_weight.h"

#define MATMUL_TB 8         /* tokens per invocation; n <= this is the matrix-vector case */
/* W, its scales, x, y, x as texels, W3 (SwiGLU up) and its scales, the k and v outputs of
 * a stacked q/k/v weight; the residual, norm weight, norm output and counter of the fused
 * residual add and norm. */
#define MATMUL_BINDINGS "ttsstttsssssstttt"
#define MATMUL_NORM_MAX_N 8   /* the fused norm is one subgroup's work: decoding only */
#define ATTN_MAX_HEAD_DIM 256
#define ATTN_ROWS_MIN 8     /* more rows than this: attention_rows.comp */
#define ATTN_SPLITS 16      /* decode attention cuts the context into at most this many splits */
#define ATTN_CHUNK_MIN 32   /* of at least this many positions */
#define EW_WG 64            /* elementwise kernels */

static uint32_t ceil_div(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }

static uint32_t sg_wg(const plume_gpu *gpu, uint32_t cap) {
    uint32_t s = gpu->info.subgroup_size;
    if (s < 1) s = 1;
    if (s > cap) s = cap;
    return s;
}

static uint32_t ew_groups(const plume_gpu *gpu, uint64_t count) {
    uint64_t g = (count + EW_WG - 1) / EW_WG;
    if (g > gpu->info.max_workgroup_count[0]) g = gpu->info.max_workgroup_count[0];  /* kernels grid-stride */
    return g ? (uint32_t)g : 1;
}

static int need(const plume_gpu_buffer *b, uint64_t bytes, const char *op, const char *what, plume_error *err) {
    if (!b) return plume_fail(err, "%s: %s buffer is NULL", op, what);
    if (plume_gpu_buffer_bytes(b) < bytes)
        return plume_fail(err, "%s: the %s buffer holds %llu bytes but this call needs %llu", op, what,
                          (unsigned long long)plume_gpu_buffer_bytes(b), (unsigned long long)bytes);
    return 0;
}

static plume_gpu_binding bind(plume_gpu_buffer *b, uint64_t bytes) { return (plume_gpu_binding){b, 0, bytes}; }

static int finish(plume_gpu_rec *rec, int rc) {
    if (rc == 0) plume_gpu_rec_barrier(rec);
    return rc;
}

/* The residual add and norm a matmul may end with (NORM): h += y, out = rmsnorm(h) * w. */
typedef struct {
    plume_gpu_buffer *h, *w, *out;
    float eps;
} norm_after;

/* y = W x; with w3 (SwiGLU) y = silu(W x) * (W3 x); with qkv (W is q, k and v stacked)
 * rows [0, qkv[0]) of W x go to y, the next qkv[1] to yk, the rest to yv; with nrm, then
 * the residual add and the norm (one part, n <= MATMUL_NORM_MAX_N: the caller checks). */
static int matmul(plume_gpu_rec *rec, const plume_gpu_weight *w, const plume_gpu_weight *w3, const uint32_t *qkv,
                  plume_gpu_buffer *x, plume_gpu_buffer *y, plume_gpu_buffer *yk, plume_gpu_buffer *yv, uint32_t n,
                  const norm_after *nrm, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    const char *op = w3 ? "matmul_swiglu" : qkv ? "matmul_qkv" : "matmul";
    if (n == 0) return 0;
    if (w3 && (w3->type != w->type || w3->rows != w->rows || w3->cols != w->cols))
        return plume_fail(err, "matmul_swiglu: the gate (%u x %u, type %d) and up (%u x %u, type %d) weights must have "
                          "the same shape and type", w->rows, w->cols, (int)w->type, w3->rows, w3->cols, (int)w3->type);
    uint32_t rq = qkv ? qkv[0] : w->rows, rk = qkv ? qkv[1] : 0, rv = qkv ? w->rows - rq - rk : 0;
    uint64_t xb = (uint64_t)n * w->cols * 4, yb = (uint64_t)n * rq * 4, kb = (uint64_t)n * rk * 4,
             vb = (uint64_t)n * rv * 4;
    if (need(x, xb, op, "x", err) || need(y, yb, op, qkv ? "q" : "y", err)) return -1;
    if (qkv && (need(yk, kb, op, "k", err) || need(yv, vb, op, "v", err))) return -1;
    if (x == y || (qkv && (x == yk || x == yv || y == yk || y == yv || yk == yv)))
        return plume_fail(err, "%s: x and the outputs must be different buffers", op);
    uint32_t tb = n < MATMUL_TB ? n : MATMUL_TB;
    /* Shapes are tuned per kernel family: nibbles as Q4_0, int8 rows as Q8_0. */
    plume_gpu_type family = gpu_format_nibbles(w->fmt) ? PLUME_GPU_Q4_0
                            : w->fmt == GPU_FMT_F32 || w->fmt == GPU_FMT_F16 ? w->type
                                                                             : PLUME_GPU_Q8_0;
    plume_gpu_mm_shape s = gpu_matmul_shape(gpu, family, (uint64_t)w->rows * w->cols, n, w3 != NULL);
    uint32_t wg = s.wg, tr = s.tr;
    /* x through a texel view where its rows are whole texels: 3-10x faster on lavapipe
     * than scalar storage-buffer loads (measured, docs/gpu.md, "Kernel design"). Sharing x
     * through shuffles reads it through that view. */
    uint32_t xvec = w->cols % 4 == 0 && xb / 16 <= gpu->info.max_texel_buffer_elements;
    /* Sharing x walks chunks of 32 values, one scale each: not Q6_K's blocks of 16. */
    uint32_t xshare = s.xshare && xvec && w->fmt != GPU_FMT_Q8_16 && gpu->info.subgroup_shuffle;
    uint32_t spec[9] = {wg, (uint32_t)w->fmt, tr, tb, xvec, w3 != NULL, qkv != NULL, xshare, nrm != NULL};
    /* A device without subgroup shuffle gets the module that does not declare it. */
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, gpu->info.subgroup_shuffle ? "matmul" : "matmul_plain",
                                               MATMUL_BINDINGS, 36, spec, 9, err);
    if (!k) return -1;
    /* The profile tells weight types and batch shapes apart: matmul.q8_0.n1, matmul.f16.n8. */
    static const char *const fmt_names[] = {[GPU_FMT_F32] = "f32", [GPU_FMT_F16] = "f16", [GPU_FMT_Q4_0] = "q4_0",
                                            [GPU_FMT_Q4_1] = "q4_1", [GPU_FMT_Q5] = "q5", [GPU_FMT_Q8_0] = "q8_0",
                                            [GPU_FMT_Q8_16] = "q8_16"};
    snprintf(k->label, sizeof k->label, "%s%s.%s.n%u", op, nrm ? "_add_rmsnorm" : "", fmt_names[w->fmt], tb);
    /* Same shape and type: w3 is split into the same parts as w. */
    for (uint32_t p = 0; p < w->n_parts; p++) {
        uint32_t r0 = p * w->rows_per_part;
        uint32_t nr = w->rows - r0 < w->rows_per_part ? w->rows - r0 : w->rows_per_part;
        struct {
            uint32_t rows, cols, n, row_offset, y_stride, tpr, rows_k, rows_v;
            float eps;
        } push = {nr, w->cols, n, r0, rq, w->tpr, rk, rv, nrm ? nrm->eps : 0.0f};
        const plume_gpu_weight *u = w3 ? w3 : w;
        plume_gpu_binding b[17] = {
            bind(w->w[p], 0),
            bind(w->scales[p] ? w->scales[p] : gpu->dummy, 0),
            bind(x, xb),
            bind(y, yb),
            xvec ? bind(x, xb) : bind(gpu->dummy, 16),
            bind(u->w[p], 0),
            bind(u->scales[p] ? u->scales[p] : gpu->dummy, 0),
            qkv && kb ? bind(yk, kb) : bind(gpu->dummy_out, 16),
            qkv && vb ? bind(yv, vb) : bind(gpu->dummy_out, 16),
            nrm ? bind(nrm->h, yb) : bind(gpu->dummy_out, 16),
            nrm ? bind(nrm->w, (uint64_t)rq * 4) : bind(gpu->dummy, 16),
            nrm ? bind(nrm->out, yb) : bind(gpu->dummy_out, 16),
            bind(gpu->done, 16),
            bind(w->mins[p] ? w->mins[p] : gpu->dummy, 0),
            bind(u->mins[p] ? u->mins[p] : gpu->dummy, 0),
            bind(w->high[p] ? w->high[p] : gpu->dummy, 0),
            bind(u->high[p] ? u->high[p] : gpu->dummy, 0),
        };
        /* Parts write disjoint rows of the outputs; the barrier only orders the unused ones. */
        if (p > 0) plume_gpu_rec_barrier(rec);
        if (plume_gpu_rec_dispatch(rec, k, b, 17, &push, ceil_div(ceil_div(nr, tr), wg), ceil_div(n, tb), 1, err))
            return plume_fail_prefix(err, "%s %u x %u, n %u: ", op, w->rows, w->cols, n);
    }
    return finish(rec, 0);
}

int plume_gpu_matmul(plume_gpu_rec *rec, const plume_gpu_weight *w, plume_gpu_buffer *x, plume_gpu_buffer *y,
                     uint32_t n, plume_error *err) {
    return matmul(rec, w, NULL, NULL, x, y, NULL, NULL, n, NULL, err);
}

int plume_gpu_matmul_qkv(plume_gpu_rec *rec, const plume_gpu_weight *wq, const plume_gpu_weight *wk,
                         const plume_gpu_weight *wv, plume_gpu_buffer *x, plume_gpu_buffer *q, plume_gpu_buffer *k,
                         plume_gpu_buffer *v, uint32_t n, plume_error *err) {
    if (!wq || !wk || !wv) return plume_fail(err, "matmul_qkv: a weight is NULL");
    if (x == q || x == k || x == v || q == k || q == v || k == v)
        return plume_fail(err, "matmul_qkv: x, q, k and v must be four different buffers");
    /* Three dispatches: on lavapipe these beat one kernel choosing among three weights
     * (see the stacked form below, which is what the model uses). */
    return matmul(rec, wq, NULL, NULL, x, q, NULL, NULL, n, NULL, err) ||
                   matmul(rec, wk, NULL, NULL, x, k, NULL, NULL, n, NULL, err) ||
                   matmul(rec, wv, NULL, NULL, x, v, NULL, NULL, n, NULL, err)
               ? -1
               : 0;
}

int plume_gpu_matmul_stacked(plume_gpu_rec *rec, const plume_gpu_weight *w, uint32_t q_rows, uint32_t k_rows,
                             plume_gpu_buffer *x, plume_gpu_buffer *q, plume_gpu_buffer *k, plume_gpu_buffer *v,
                             uint32_t n, plume_error *err) {
    if (!w) return plume_fail(err, "matmul_stacked: the weight is NULL");
    if (q_rows == 0 || k_rows == 0 || (uint64_t)q_rows + k_rows >= w->rows)
        return plume_fail(err, "matmul_stacked: %u q rows and %u k rows must be non-zero and leave v rows of the "
                          "weight's %u", q_rows, k_rows, w->rows);
    uint32_t rows[2] = {q_rows, k_rows};
    return matmul(rec, w, NULL, rows, x, q, k, v, n, NULL, err);
}

int plume_gpu_matmul_swiglu(plume_gpu_rec *rec, const plume_gpu_weight *gate, const plume_gpu_weight *up,
                            plume_gpu_buffer *x, plume_gpu_buffer *y, uint32_t n, plume_error *err) {
    if (!up) return plume_fail(err, "matmul_swiglu: the up weight is NULL");
    return matmul(rec, gate, up, NULL, x, y, NULL, NULL, n, NULL, err);
}

int plume_gpu_embed(plume_gpu_rec *rec, const plume_gpu_weight *table, plume_gpu_buffer *rows, plume_gpu_buffer *out,
                    uint32_t n, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    uint64_t ob = (uint64_t)n * table->cols * 4;
    if (need(rows, (uint64_t)n * 16, "embed", "rows", err) || need(out, ob, "embed", "out", err)) return -1;
    uint32_t spec[2] = {EW_WG, (uint32_t)table->fmt};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "embed", "tfssft", 20, spec, 2, err);
    if (!k) return -1;
    for (uint32_t p = 0; p < table->n_parts; p++) {
        uint32_t r0 = p * table->rows_per_part;
        uint32_t nr = table->rows - r0 < table->rows_per_part ? table->rows - r0 : table->rows_per_part;
        uint32_t push[5] = {n, table->cols, table->tpr, r0, nr};
        plume_gpu_binding b[6] = {
            bind(table->w[p], 0),
            bind(table->scales[p] ? table->scales[p] : gpu->dummy, 0),
            bind(rows, (uint64_t)n * 16),
            bind(out, ob),
            bind(table->mins[p] ? table->mins[p] : gpu->dummy, 0),
            bind(table->high[p] ? table->high[p] : gpu->dummy, 0),
        };
        if (plume_gpu_rec_dispatch(rec, k, b, 6, push, ew_groups(gpu, (uint64_t)n * table->tpr), 1, 1, err))
            return plume_fail_prefix(err, "embed: ");
        /* Parts write disjoint rows of out; no barrier needed between them. */
    }
    return finish(rec, 0);
}

/* rmsnorm, after x += r where r is given. */
static int rmsnorm(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *r, plume_gpu_buffer *w,
                   plume_gpu_buffer *y, uint32_t n, uint32_t dim, float eps, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    const char *op = r ? "add_rmsnorm" : "rmsnorm";
    if (n == 0) return 0;
    if (dim == 0) return plume_fail(err, "%s: dim is 0", op);
    uint64_t xb = (uint64_t)n * dim * 4;
    if (need(x, xb, op, "x", err) || need(w, (uint64_t)dim * 4, op, "weight", err) || need(y, xb, op, "y", err) ||
        (r && need(r, xb, op, "residual", err)))
        return -1;
    if (r && (y == x || y == r || r == x)) return plume_fail(err, "add_rmsnorm: x, r and y must be three buffers");
    uint32_t spec[2] = {sg_wg(gpu, 64), r != NULL};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "rmsnorm", "ssss", 8, spec, 2, err);
    if (!k) return -1;
    if (r) snprintf(k->label, sizeof k->label, "add_rmsnorm");
    struct {
        uint32_t dim;
        float eps;
    } push = {dim, eps};
    plume_gpu_binding b[4] = {bind(x, xb), bind(w, (uint64_t)dim * 4), bind(y, xb), bind(r ? r : x, xb)};
    return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 4, &push, n, 1, 1, err));
}

int plume_gpu_rmsnorm(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *w, plume_gpu_buffer *y, uint32_t n,
                      uint32_t dim, float eps, plume_error *err) {
    return rmsnorm(rec, x, NULL, w, y, n, dim, eps, err);
}

int plume_gpu_add_rmsnorm(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *r, plume_gpu_buffer *w,
                          plume_gpu_buffer *y, uint32_t n, uint32_t dim, float eps, plume_error *err) {
    if (!r) return plume_fail(err, "add_rmsnorm: the residual buffer is NULL");
    return rmsnorm(rec, x, r, w, y, n, dim, eps, err);
}

int plume_gpu_matmul_add_rmsnorm(plume_gpu_rec *rec, const plume_gpu_weight *w, plume_gpu_buffer *x,
                                 plume_gpu_buffer *y, plume_gpu_buffer *h, plume_gpu_buffer *nw, plume_gpu_buffer *out,
                                 uint32_t n, float eps, plume_error *err) {
    if (!w) return plume_fail(err, "matmul_add_rmsnorm: the weight is NULL");
    if (n == 0) return 0;
    uint64_t yb = (uint64_t)n * w->rows * 4;
    if (need(h, yb, "matmul_add_rmsnorm", "residual", err) ||
        need(nw, (uint64_t)w->rows * 4, "matmul_add_rmsnorm", "norm weight", err) ||
        need(out, yb, "matmul_add_rmsnorm", "output", err))
        return -1;
    if (h == x || h == y || h == out || out == x || out == y || nw == h || nw == out)
        return plume_fail(err, "matmul_add_rmsnorm: x, y, the residual, the norm weight and the output must be different "
                          "buffers");
    /* One dispatch for a few rows of one part; else the two ops. */
    if (n <= MATMUL_NORM_MAX_N && w->n_parts == 1) {
        norm_after nrm = {h, nw, out, eps};
        return matmul(rec, w, NULL, NULL, x, y, NULL, NULL, n, &nrm, err);
    }
    return plume_gpu_matmul(rec, w, x, y, n, err) || rmsnorm(rec, h, y, nw, out, n, w->rows, eps, err) ? -1 : 0;
}

int plume_gpu_rope(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *rows, uint32_t n, uint32_t n_heads,
                   uint32_t head_dim, float theta, int neox, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    if (head_dim == 0 || head_dim % 2 || n_heads == 0)
        return plume_fail(err, "rope: head_dim (%u) must be even and non-zero, n_heads (%u) non-zero", head_dim, n_heads);
    uint64_t xb = (uint64_t)n * n_heads * head_dim * 4;
    if (need(x, xb, "rope", "x", err) || need(rows, (uint64_t)n * 16, "rope", "rows", err)) return -1;
    uint32_t spec[1] = {EW_WG};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "rope", "ss", 20, spec, 1, err);
    if (!k) return -1;
    struct {
        uint32_t n, n_heads, head_dim, neox;
        float theta;
    } push = {n, n_heads, head_dim, neox ? 1u : 0u, theta};
    plume_gpu_binding b[2] = {bind(x, xb), bind(rows, (uint64_t)n * 16)};
    /* one invocation per (row, pair index) */
    uint32_t g = ew_groups(gpu, (uint64_t)n * (head_dim / 2));
    return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 2, &push, g, 1, 1, err));
}

int plume_gpu_kv_store(plume_gpu_rec *rec, plume_gpu_buffer *k, plume_gpu_buffer *v, plume_gpu_buffer *rows,
                       plume_gpu_buffer *kcache, plume_gpu_buffer *vcache, uint32_t n, uint32_t kv_dim, uint32_t ctx,
                       plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    if (kv_dim == 0 || ctx == 0) return plume_fail(err, "kv_store: kv_dim and ctx must be non-zero");
    uint64_t kb = (uint64_t)n * kv_dim * 4, seq_bytes = (uint64_t)ctx * kv_dim * 4;
    if (need(k, kb, "kv_store", "k", err) || need(v, kb, "kv_store", "v", err) ||
        need(rows, (uint64_t)n * 16, "kv_store", "rows", err) || need(kcache, seq_bytes, "kv_store", "K cache", err) ||
        need(vcache, seq_bytes, "kv_store", "V cache", err))
        return -1;
    uint64_t n_seq = plume_gpu_buffer_bytes(kcache) / seq_bytes;
    if (plume_gpu_buffer_bytes(vcache) / seq_bytes < n_seq) n_seq = plume_gpu_buffer_bytes(vcache) / seq_bytes;
    uint32_t spec[1] = {EW_WG};
    plume_gpu_kernel *kk = plume_gpu_kernel_get(gpu, "kv_store", "sssss", 16, spec, 1, err);
    if (!kk) return -1;
    uint32_t push[4] = {n, kv_dim, ctx, (uint32_t)n_seq};
    plume_gpu_binding b[5] = {bind(k, kb), bind(v, kb), bind(rows, (uint64_t)n * 16), bind(kcache, n_seq * seq_bytes),
                              bind(vcache, n_seq * seq_bytes)};
    return finish(rec, plume_gpu_rec_dispatch(rec, kk, b, 5, push, ew_groups(gpu, kb / 4), 1, 1, err));
}

int plume_gpu_rope_kv_store(plume_gpu_rec *rec, plume_gpu_buffer *q, plume_gpu_buffer *k, plume_gpu_buffer *v,
                            plume_gpu_buffer *rows, plume_gpu_buffer *kcache, plume_gpu_buffer *vcache, uint32_t n,
                            uint32_t n_heads, uint32_t n_kv_heads, uint32_t head_dim, uint32_t ctx, float theta,
                            int neox, plume_gpu_buffer *factors, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    if (head_dim == 0 || head_dim % 2 || n_heads == 0 || n_kv_heads == 0 || ctx == 0)
        return plume_fail(err, "rope_kv_store: head_dim (%u) must be even and non-zero, n_heads (%u), n_kv_heads (%u) "
                          "and ctx (%u) non-zero", head_dim, n_heads, n_kv_heads, ctx);
    uint32_t kv_dim = n_kv_heads * head_dim;
    uint64_t qb = (uint64_t)n * n_heads * head_dim * 4, kb = (uint64_t)n * kv_dim * 4,
             seq_bytes = (uint64_t)ctx * kv_dim * 4;
    if (need(q, qb, "rope_kv_store", "q", err) || need(k, kb, "rope_kv_store", "k", err) ||
        need(v, kb, "rope_kv_store", "v", err) || need(rows, (uint64_t)n * 16, "rope_kv_store", "rows", err) ||
        need(kcache, seq_bytes, "rope_kv_store", "K cache", err) ||
        need(vcache, seq_bytes, "rope_kv_store", "V cache", err) ||
        (factors && need(factors, (uint64_t)head_dim / 2 * 4, "rope_kv_store", "frequency factors", err)))
        return -1;
    if (q == k || q == v || k == v || kcache == vcache)
        return plume_fail(err, "rope_kv_store: q, k, v and the two caches must be different buffers");
    uint64_t n_seq = plume_gpu_buffer_bytes(kcache) / seq_bytes;
    if (plume_gpu_buffer_bytes(vcache) / seq_bytes < n_seq) n_seq = plume_gpu_buffer_bytes(vcache) / seq_bytes;
    uint32_t spec[2] = {EW_WG, factors != NULL};
    plume_gpu_kernel *kk = plume_gpu_kernel_get(gpu, "rope_store", "sssssss", 32, spec, 2, err);
    if (!kk) return -1;
    struct {
        uint32_t n, n_heads, n_kv_heads, head_dim, neox, ctx, n_seq;
        float theta;
    } push = {n, n_heads, n_kv_heads, head_dim, neox ? 1u : 0u, ctx, (uint32_t)n_seq, theta};
    plume_gpu_binding b[7] = {bind(q, qb), bind(k, kb), bind(v, kb), bind(rows, (uint64_t)n * 16),
                              bind(kcache, n_seq * seq_bytes), bind(vcache, n_seq * seq_bytes),
                              factors ? bind(factors, (uint64_t)head_dim / 2 * 4) : bind(gpu->dummy, 16)};
    uint64_t pairs = (uint64_t)n * (head_dim / 2);   /* (row, pair) : every head's pair */
    return finish(rec, plume_gpu_rec_dispatch(rec, kk, b, 7, &push, ew_groups(gpu, pairs), 1, 1, err));
}

/* Decode attention's own rope and cache store (attention_split.comp's ROPE): this step's
 * k and v, rope's theta, style and frequency factors (or NULL). */
typedef struct {
    plume_gpu_buffer *k, *v, *factors;
    float theta;
    int neox;
} rope_in_attention;

static int attention(plume_gpu_rec *rec, plume_gpu_buffer *q, plume_gpu_buffer *kcache, plume_gpu_buffer *vcache,
                     plume_gpu_buffer *rows, plume_gpu_buffer *out, uint32_t n, uint32_t n_heads, uint32_t n_kv_heads,
                     uint32_t head_dim, uint32_t ctx, const rope_in_attention *rope, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    if (n_heads == 0 || n_kv_heads == 0 || n_heads % n_kv_heads || head_dim == 0 || head_dim > ATTN_MAX_HEAD_DIM ||
        ctx == 0)
        return plume_fail(err, "attention: n_heads %u must be a non-zero multiple of n_kv_heads %u, head_dim %u in "
                          "1..%d, ctx %u non-zero", n_heads, n_kv_heads, head_dim, ATTN_MAX_HEAD_DIM, ctx);
    uint32_t kv_dim = n_kv_heads * head_dim;
    uint64_t qb = (uint64_t)n * n_heads * head_dim * 4, seq_bytes = (uint64_t)ctx * kv_dim * 4;
    if (need(q, qb, "attention", "q", err) || need(out, qb, "attention", "out", err) ||
        need(rows, (uint64_t)n * 16, "attention", "rows", err) ||
        need(kcache, seq_bytes, "attention", "K cache", err) || need(vcache, seq_bytes, "attention", "V cache", err))
        return -1;
    if (q == out) return plume_fail(err, "attention: q and out must be different buffers");
    uint64_t n_seq = plume_gpu_buffer_bytes(kcache) / seq_bytes;
    if (plume_gpu_buffer_bytes(vcache) / seq_bytes < n_seq) n_seq = plume_gpu_buffer_bytes(vcache) / seq_bytes;
    /* The caches through texel views where rows are whole texels and the view fits. */
    uint32_t kvt = head_dim % 4 == 0 && n_seq * seq_bytes / 16 <= gpu->info.max_texel_buffer_elements;
    struct {
        uint32_t n_heads, group, ctx, kv_dim, n_seq;
        float scale;
        uint32_t n, chunk;
        float theta;
        uint32_t neox, head_dim;
    } push = {n_heads, n_heads / n_kv_heads, ctx, kv_dim, (uint32_t)n_seq, 1.0f / sqrtf((float)head_dim), n, 0,
              rope ? rope->theta : 0.0f, rope && rope->neox, head_dim};
    uint64_t kb = (uint64_t)n * kv_dim * 4;
    plume_gpu_binding b[10] = {bind(q, qb), bind(kcache, n_seq * seq_bytes), bind(vcache, n_seq * seq_bytes),
                              bind(rows, (uint64_t)n * 16), bind(out, qb),
                              kvt ? bind(kcache, n_seq * seq_bytes) : bind(gpu->dummy, 16),
                              kvt ? bind(vcache, n_seq * seq_bytes) : bind(gpu->dummy, 16),
                              rope ? bind(rope->k, kb) : bind(gpu->dummy, 16),
                              rope ? bind(rope->v, kb) : bind(gpu->dummy, 16),
                              rope && rope->factors ? bind(rope->factors, (uint64_t)head_dim / 2 * 4)
                                                    : bind(gpu->dummy, 16)};
    if (!rope && n > ATTN_ROWS_MIN) {
        /* Many rows of a prompt: one invocation per row and head, neighbouring invocations
         * the rows of one head (they read the same K and V rows). Decoding rows are each a
         * different sequence, so they share no reads: they take the split kernel below
         * (on lavapipe, 32 decoding rows over 1,000 positions took 7.4 ms a layer here
         * against 2.9 ms there). */
        uint32_t wg = sg_wg(gpu, 32);
        uint32_t spec[3] = {wg, head_dim, kvt};
        plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "attention_rows", "ssssstt", 28, spec, 3, err);
        if (!k) return -1;
        return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 7, &push, n_heads, ceil_div(n, wg), 1, err));
    }
    /* Few rows (decoding): flash-decoding. The positions are cut into splits of `chunk`,
     * one invocation per (row, head, split) walks its split alone and writes its partial
     * softmax state, and a second pass merges the splits. The grid covers the whole
     * context because a recording is replayed at later positions; splits past a row's
     * position return at once. */
    uint32_t chunk = ceil_div(ctx, ATTN_SPLITS);
    if (chunk < ATTN_CHUNK_MIN) chunk = ATTN_CHUNK_MIN;
    /* On a CPU device the (row, head) pairs alone give enough workgroups for its cores,
     * and every extra workgroup and the merge dispatch cost more than they save:
     * one split (measured, docs/performance.md, "Decoding and prompts on lavapipe"). */
    if (gpu->info.kind == PLUME_GPU_KIND_CPU) chunk = ctx;
    if (gpu->attn_chunk) chunk = gpu->attn_chunk;
    if (chunk > ctx) chunk = ctx;
    uint32_t splits = ceil_div(ctx, chunk), pairs = n * n_heads;
    uint32_t wg = sg_wg(gpu, 32);
    uint32_t spec[6] = {wg, head_dim, kvt, splits == 1, rope != NULL, rope && rope->factors};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "attention_split", "sssssttsss", 44, spec, 6, err);
    if (!k) return -1;
    if (rope) snprintf(k->label, sizeof k->label, "rope_attention_split");
    push.chunk = chunk;
    if (splits == 1) return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 10, &push, ceil_div(pairs, wg), 1, 1, err));
    uint64_t part_bytes = (uint64_t)splits * pairs * (head_dim + 2) * 4;
    plume_gpu_buffer *part = gpu_rec_scratch(rec, part_bytes, err);
    if (!part) return plume_fail_prefix(err, "attention: ");
    b[4] = bind(part, part_bytes);
    if (plume_gpu_rec_dispatch(rec, k, b, 10, &push, ceil_div(pairs, wg), splits, 1, err)) return -1;
    plume_gpu_rec_barrier(rec);
    uint32_t mspec[2] = {EW_WG, head_dim};
    plume_gpu_kernel *km = plume_gpu_kernel_get(gpu, "attention_merge", "sfs", 20, mspec, 2, err);
    if (!km) return -1;
    uint32_t mpush[5] = {n_heads, ctx, (uint32_t)n_seq, n, chunk};
    plume_gpu_binding mb[3] = {bind(rows, (uint64_t)n * 16), bind(part, part_bytes), bind(out, qb)};
    return finish(rec, plume_gpu_rec_dispatch(rec, km, mb, 3, mpush, ceil_div((uint64_t)pairs * head_dim, EW_WG), 1,
                                              1, err));
}

int plume_gpu_attention(plume_gpu_rec *rec, plume_gpu_buffer *q, plume_gpu_buffer *kcache, plume_gpu_buffer *vcache,
                        plume_gpu_buffer *rows, plume_gpu_buffer *out, uint32_t n, uint32_t n_heads,
                        uint32_t n_kv_heads, uint32_t head_dim, uint32_t ctx, plume_error *err) {
    return attention(rec, q, kcache, vcache, rows, out, n, n_heads, n_kv_heads, head_dim, ctx, NULL, err);
}

int plume_gpu_rope_attention(plume_gpu_rec *rec, plume_gpu_buffer *q, plume_gpu_buffer *k, plume_gpu_buffer *v,
                             plume_gpu_buffer *rows, plume_gpu_buffer *kcache, plume_gpu_buffer *vcache,
                             plume_gpu_buffer *out, uint32_t n, uint32_t n_heads, uint32_t n_kv_heads,
                             uint32_t head_dim, uint32_t ctx, float theta, int neox, plume_gpu_buffer *factors,
                             plume_error *err) {
    if (n == 0) return 0;
    if (head_dim == 0 || head_dim % 2)
        return plume_fail(err, "rope_attention: head_dim (%u) must be even and non-zero", head_dim);
    uint64_t kb = (uint64_t)n * n_kv_heads * head_dim * 4;
    if (need(k, kb, "rope_attention", "k", err) || need(v, kb, "rope_attention", "v", err) ||
        (factors && need(factors, (uint64_t)head_dim / 2 * 4, "rope_attention", "frequency factors", err)))
        return -1;
    if (q == k || q == v || k == v || k == out || v == out || kcache == vcache || k == kcache || v == vcache ||
        k == vcache || v == kcache)
        return plume_fail(err, "rope_attention: q, k, v, the caches and out must be different buffers");
    rope_in_attention rope = {k, v, factors, theta, neox};
    return attention(rec, q, kcache, vcache, rows, out, n, n_heads, n_kv_heads, head_dim, ctx, &rope, err);
}

int plume_gpu_silu_mul(plume_gpu_rec *rec, plume_gpu_buffer *gate, plume_gpu_buffer *up, plume_gpu_buffer *out,
                       uint32_t count, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (count == 0) return 0;
    uint64_t bytes = (uint64_t)count * 4;
    if (need(gate, bytes, "silu_mul", "gate", err) || need(up, bytes, "silu_mul", "up", err) ||
        need(out, bytes, "silu_mul", "out", err))
        return -1;
    uint32_t spec[1] = {EW_WG};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "silu_mul", "sss", 4, spec, 1, err);
    if (!k) return -1;
    plume_gpu_binding b[3] = {bind(gate, bytes), bind(up, bytes), bind(out, bytes)};
    return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 3, &count, ew_groups(gpu, count), 1, 1, err));
}

int plume_gpu_add(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *y, uint32_t count, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (count == 0) return 0;
    uint64_t bytes = (uint64_t)count * 4;
    if (need(x, bytes, "add", "x", err) || need(y, bytes, "add", "y", err)) return -1;
    if (x == y) return plume_fail(err, "add: x and y must be different buffers");
    uint32_t spec[2] = {EW_WG, 0};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "add", "ss", 8, spec, 2, err);
    if (!k) return -1;
    uint32_t push[2] = {count, count};
    plume_gpu_binding b[2] = {bind(x, bytes), bind(y, bytes)};
    return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 2, push, ew_groups(gpu, count), 1, 1, err));
}

int plume_gpu_add_bias(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *bias, uint32_t n, uint32_t dim,
                       plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    if (dim == 0) return plume_fail(err, "add_bias: dim is 0");
    uint64_t count = (uint64_t)n * dim;
    if (count > UINT32_MAX) return plume_fail(err, "add_bias: %u rows of %u are too many for one dispatch", n, dim);
    if (need(x, count * 4, "add_bias", "x", err) || need(bias, (uint64_t)dim * 4, "add_bias", "bias", err)) return -1;
    if (x == bias) return plume_fail(err, "add_bias: x and the bias must be different buffers");
    uint32_t spec[2] = {EW_WG, 1};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "add", "ss", 8, spec, 2, err);
    if (!k) return -1;
    uint32_t push[2] = {(uint32_t)count, dim};
    plume_gpu_binding b[2] = {bind(x, count * 4), bind(bias, (uint64_t)dim * 4)};
    return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 2, push, ew_groups(gpu, (uint32_t)count), 1, 1, err));
}

int plume_gpu_argmax(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *out, uint32_t n, uint32_t dim,
                     plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    if (dim == 0) return plume_fail(err, "argmax: dim is 0");
    uint64_t xb = (uint64_t)n * dim * 4;
    if (need(x, xb, "argmax", "x", err) || need(out, (uint64_t)n * 4, "argmax", "out", err)) return -1;
    /* x through a texel view where rows are whole texels: ~10x faster on lavapipe. */
    uint32_t xvec = dim % 4 == 0 && xb / 16 <= gpu->info.max_texel_buffer_elements;
    uint32_t spec[2] = {sg_wg(gpu, 64), xvec};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "argmax", "sst", 4, spec, 2, err);
    if (!k) return -1;
    plume_gpu_binding b[3] = {bind(x, xb), bind(out, (uint64_t)n * 4), xvec ? bind(x, xb) : bind(gpu->dummy, 16)};
    return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 3, &dim, n, 1, 1, err));
}

int plume_gpu_sample(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *draws, plume_gpu_buffer *out,
                     uint32_t n, uint32_t dim, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    if (dim == 0) return plume_fail(err, "sample: dim is 0");
    uint64_t xb = (uint64_t)n * dim * 4, db = (uint64_t)n * sizeof(plume_gpu_draw);
    if (need(x, xb, "sample", "x", err) || need(draws, db, "sample", "draws", err) ||
        need(out, (uint64_t)n * 4, "sample", "out", err))
        return -1;
    uint32_t xvec = dim % 4 == 0 && xb / 16 <= gpu->info.max_texel_buffer_elements;
    uint32_t spec[2] = {sg_wg(gpu, 64), xvec};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "sample", "ssts", 4, spec, 2, err);
    if (!k) return -1;
    plume_gpu_binding b[4] = {bind(x, xb), bind(out, (uint64_t)n * 4), xvec ? bind(x, xb) : bind(gpu->dummy, 16),
                              bind(draws, db)};
    return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 4, &dim, n, 1, 1, err));
}

int plume_gpu_mix(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *mix, uint32_t n, uint32_t dim,
                  uint32_t k_max, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    if (n == 0) return 0;
    if (dim == 0 || k_max == 0) return plume_fail(err, "mix: dim %u and k_max %u must not be 0", dim, k_max);
    uint64_t xb = (uint64_t)n * dim * 4, mb = (uint64_t)n * PLUME_GPU_MIX_ROW_BYTES(k_max);
    if (need(x, xb, "mix", "x", err) || need(mix, mb, "mix", "mix", err)) return -1;
    uint32_t spec[1] = {sg_wg(gpu, 64)};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "mix", "ss", 8, spec, 1, err);
    if (!k) return -1;
    plume_gpu_binding b[2] = {bind(x, xb), bind(mix, mb)};
    uint32_t push[2] = {dim, k_max};
    return finish(rec, plume_gpu_rec_dispatch(rec, k, b, 2, push, n, 1, 1, err));
}
