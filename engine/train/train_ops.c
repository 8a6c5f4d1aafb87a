/* The training kernels' host side: shape and size checks, kernel variants, dispatches.
 * Grids: one invocation per output element (matmuls, embedding), per row (rmsnorm,
 * cross-entropy), per (row, head) (attention); workgroups of WG invocations along x. */
#include <math.h>
#include <string.h>
#include "train_ops.h"

#define WG 64u
#define MM_WG 16u   /* matmul: invocations per workgroup (each a 4 x 4 tile) */
#define ATT_WG 8u       /* attention backward: rows per workgroup, one head */
#define MM_FAST_WG 8u   /* the fast matmul: one subgroup of 8 (see matmul_backward.comp) */
#define MM_FAST_TM 4u   /* its output rows per workgroup in MODE 0 and 1 (TM there) */
#define MM_FAST_TM2 2u  /* and in MODE 2 (TM2) */

static uint32_t groups(uint64_t count) {
    uint64_t g = (count + WG - 1) / WG;
    return g ? (uint32_t)g : 1;
}

static int need(const pbuf *b, uint64_t bytes, const char *op, const char *what, plume_error *err) {
    if (!b) return plume_fail(err, "%s: the %s buffer is NULL", op, what);
    if (plume_gpu_buffer_bytes(b) < bytes)
        return plume_fail(err, "%s: the %s buffer holds %llu bytes but this call needs %llu", op, what,
                          (unsigned long long)plume_gpu_buffer_bytes(b), (unsigned long long)bytes);
    return 0;
}

static plume_gpu_binding bind(pbuf *b, uint64_t bytes) { return (plume_gpu_binding){b, 0, bytes}; }

/* Records one dispatch of SHADER (mode MODE) and a barrier. */
static int run(plume_gpu_rec *rec, const char *shader, const char *bindings, uint32_t push_bytes,
               const uint32_t *spec, int n_spec, const plume_gpu_binding *b, int nb, const void *push,
               uint32_t gx, uint32_t gy, plume_error *err) {
    plume_gpu *gpu = plume_gpu_rec_gpu(rec);
    const plume_gpu_info *in = plume_gpu_device_info(gpu);
    if (gx > in->max_workgroup_count[0] || gy > in->max_workgroup_count[1])
        return plume_fail(err, "%s: a grid of %u x %u workgroups exceeds the device's %u x %u; hint: a smaller "
                          "batch or vocabulary", shader, gx, gy, in->max_workgroup_count[0],
                          in->max_workgroup_count[1]);
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, shader, bindings, push_bytes, spec, n_spec, err);
    if (!k || plume_gpu_rec_dispatch(rec, k, b, nb, push, gx, gy, 1, err)) return -1;
    plume_gpu_rec_barrier(rec);
    return 0;
}

/* out[c][r] = in[r][c] */
static int transpose(plume_gpu_rec *rec, pbuf *in, pbuf *out, uint32_t rows, uint32_t cols, plume_error *err) {
    uint64_t bytes = (uint64_t)rows * cols * 4;
    plume_gpu_binding b[2] = {bind(in, bytes), bind(out, bytes)};
    uint32_t spec[1] = {WG}, push[2] = {rows, cols};
    return run(rec, "transpose", "ss", 8, spec, 1, b, 2, push, groups(rows), cols, err);
}

static int mm(plume_gpu_rec *rec, uint32_t mode, pbuf *w, pbuf *x, pbuf *dy, pbuf *o, pbuf *scratch, uint32_t rows,
              uint32_t cols, uint32_t n, int accumulate, plume_error *err) {
    static const char *names[3] = {"train matmul", "train matmul dx", "train matmul dw"};
    if (n == 0 || rows == 0 || cols == 0) return 0;
    uint64_t wb = (uint64_t)rows * cols * 4, xb = (uint64_t)n * cols * 4, yb = (uint64_t)n * rows * 4;
    if (o == w || o == x || o == dy || (scratch && (scratch == w || scratch == x || scratch == o)))
        return plume_fail(err, "%s: the output and the scratch must not alias an input", names[mode]);
    if ((w && need(w, wb, names[mode], "weight", err)) || (x && need(x, xb, names[mode], "x", err)) ||
        (dy && need(dy, yb, names[mode], "dy", err)) ||
        need(o, mode == 0 ? yb : mode == 1 ? xb : wb, names[mode], "output", err))
        return -1;
    /* The fast path (see the shader) reads 16-byte texels along rows, so every stride
     * involved must be a multiple of 4; it broadcasts within subgroups of 8 or more; and
     * the forward reads W transposed, from the scratch buffer. */
    const plume_gpu_info *dev = plume_gpu_device_info(plume_gpu_rec_gpu(rec));
    uint32_t fast = cols % 4 == 0 && rows % 4 == 0 && dev->subgroup_size >= MM_FAST_WG && dev->subgroup_ballot &&
                    (mode != 0 || (scratch && plume_gpu_buffer_bytes(scratch) >= wb));
    if (fast && mode == 0 && transpose(rec, w, scratch, rows, cols, err)) return -1;
    /* unused inputs are bound to one that is there (read-only views never read) */
    pbuf *some = w ? w : x;
    plume_gpu_binding b[7] = {bind(w ? w : some, w ? wb : 0), bind(x ? x : some, x ? xb : 0),
                              bind(dy ? dy : some, dy ? yb : 0), bind(o, mode == 0 ? yb : mode == 1 ? xb : wb),
                              /* the fast path's texel views: B, X, A */
                              mode == 0 && fast ? bind(scratch, wb) : bind(w ? w : some, w ? wb : 0),
                              bind(x ? x : some, x ? xb : 0),
                              mode == 0 ? bind(x, xb) : bind(dy, yb)};
    uint32_t wg = fast ? MM_FAST_WG : MM_WG;
    uint32_t spec[3] = {wg, mode, fast};
    uint32_t push[4] = {rows, cols, n, accumulate ? 1u : 0u};
    uint64_t out_cols = mode == 0 ? rows : cols, out_rows = mode == 2 ? rows : n;
    /* each invocation: 4 output columns; each workgroup: MM_FAST_TM or MM_FAST_TM2 (fast)
     * or 4 (each invocation a 4 x 4 tile) output rows */
    uint64_t per_group = !fast ? 4 : mode == 2 ? MM_FAST_TM2 : MM_FAST_TM;
    uint32_t gx = (uint32_t)((out_cols + 4 * wg - 1) / (4 * wg));
    uint32_t gy = (uint32_t)((out_rows + per_group - 1) / per_group);
    /* Without subgroup ballot the module that does not declare it (fast is 0 there). */
    return run(rec, dev->subgroup_ballot ? "matmul_backward" : "matmul_backward_plain", "ssssttt", 16, spec, 3, b, 7,
               push, gx, gy, err);
}

int plume_train_matmul(plume_gpu_rec *rec, pbuf *w, pbuf *x, pbuf *y, pbuf *scratch, uint32_t rows, uint32_t cols,
                       uint32_t n, int accumulate, plume_error *err) {
    return mm(rec, 0, w, x, NULL, y, scratch, rows, cols, n, accumulate, err);
}

int plume_train_matmul_dx(plume_gpu_rec *rec, pbuf *w, pbuf *dy, pbuf *dx, uint32_t rows, uint32_t cols, uint32_t n,
                          int accumulate, plume_error *err) {
    return mm(rec, 1, w, NULL, dy, dx, NULL, rows, cols, n, accumulate, err);
}

int plume_train_matmul_dw(plume_gpu_rec *rec, pbuf *dy, pbuf *x, pbuf *dw, uint32_t rows, uint32_t cols, uint32_t n,
                          plume_error *err) {
    return mm(rec, 2, NULL, x, dy, dw, NULL, rows, cols, n, 1, err);
}

void plume_train_token_index(const plume_gpu_row *rows, uint32_t n, uint32_t vocab, uint32_t *ix) {
    uint32_t *order = ix + vocab + 1;
    memset(ix, 0, ((size_t)vocab + 1) * sizeof *ix);
    for (uint32_t i = 0; i < n; i++)
        if (rows[i].token < vocab) ix[rows[i].token + 1]++;
    for (uint32_t v = 0; v < vocab; v++) ix[v + 1] += ix[v];   /* ix[v] = where token v's rows start */
    uint32_t placed = 0;
    for (uint32_t i = 0; i < n; i++)                          /* rows in increasing order: stable */
        if (rows[i].token < vocab) {
            order[ix[rows[i].token]++] = i;
            placed++;
        }
    /* each ix[v] now holds the end of token v's rows, i.e. the start of v + 1: shift back */
    for (uint32_t v = vocab; v > 0; v--) ix[v] = ix[v - 1];
    ix[0] = 0;
    for (uint32_t j = placed; j < n; j++) order[j] = 0;       /* rows with bad tokens: unused */
}

static int embed(plume_gpu_rec *rec, uint32_t mode, pbuf *e, pbuf *rows, pbuf *ix, pbuf *d, uint32_t n, uint32_t dim,
                 uint32_t vocab, plume_error *err) {
    const char *op = mode ? "embed backward" : "train embed";
    if (n == 0) return 0;
    if (dim == 0 || vocab == 0) return plume_fail(err, "%s: dim and vocab must be non-zero", op);
    uint64_t eb = (uint64_t)vocab * dim * 4, db = (uint64_t)n * dim * 4;
    uint64_t ib = ((uint64_t)vocab + 1 + n) * 4;
    if (need(e, eb, op, "table", err) || need(rows, (uint64_t)n * 16, op, "rows", err) ||
        need(d, db, op, "rows'", err) || (mode && need(ix, ib, op, "token index", err)))
        return -1;
    plume_gpu_binding b[4] = {bind(e, eb), bind(rows, (uint64_t)n * 16), bind(d, db),
                              mode ? bind(ix, ib) : bind(rows, (uint64_t)n * 16)};
    uint32_t spec[2] = {WG, mode};
    uint32_t push[3] = {n, dim, vocab};
    return run(rec, "embed_backward", "ssss", 12, spec, 2, b, 4, push, groups(dim), mode ? vocab : n, err);
}

int plume_train_embed(plume_gpu_rec *rec, pbuf *e, pbuf *rows, pbuf *out, uint32_t n, uint32_t dim, uint32_t vocab,
                      plume_error *err) {
    return embed(rec, 0, e, rows, NULL, out, n, dim, vocab, err);
}

int plume_train_embed_backward(plume_gpu_rec *rec, pbuf *de, pbuf *rows, pbuf *ix, pbuf *d, uint32_t n, uint32_t dim,
                               uint32_t vocab, plume_error *err) {
    return embed(rec, 1, de, rows, ix, d, n, dim, vocab, err);
}

int plume_train_rmsnorm_backward(plume_gpu_rec *rec, pbuf *x, pbuf *w, pbuf *dy, pbuf *dx, pbuf *rstd, pbuf *dw,
                                 uint32_t n, uint32_t dim, float eps, int accumulate, plume_error *err) {
    const char *op = "rmsnorm backward";
    if (n == 0) return 0;
    if (dim == 0) return plume_fail(err, "%s: dim is 0", op);
    uint64_t xb = (uint64_t)n * dim * 4, wb = (uint64_t)dim * 4;
    if (need(x, xb, op, "x", err) || need(w, wb, op, "weight", err) || need(dy, xb, op, "dy", err) ||
        need(dx, xb, op, "dx", err) || need(rstd, (uint64_t)n * 4, op, "rstd", err) || need(dw, wb, op, "dw", err))
        return -1;
    if (dx == x || dx == dy) return plume_fail(err, "%s: dx must not alias x or dy", op);
    plume_gpu_binding b[6] = {bind(x, xb), bind(w, wb), bind(dy, xb), bind(dx, xb), bind(rstd, (uint64_t)n * 4),
                              bind(dw, wb)};
    struct {
        uint32_t n, dim, accumulate;
        float eps;
    } push = {n, dim, accumulate ? 1u : 0u, eps};
    uint32_t spec0[2] = {WG, 0}, spec1[2] = {WG, 1};
    return run(rec, "rmsnorm_backward", "ssssss", 16, spec0, 2, b, 6, &push, groups(n), 1, err) ||
           run(rec, "rmsnorm_backward", "ssssss", 16, spec1, 2, b, 6, &push, groups(dim), 1, err);
}

int plume_train_rope_backward(plume_gpu_rec *rec, pbuf *d, pbuf *rows, uint32_t n, uint32_t n_heads,
                              uint32_t head_dim, float theta, int neox, plume_error *err) {
    const char *op = "rope backward";
    if (n == 0) return 0;
    if (head_dim == 0 || head_dim % 2 || n_heads == 0)
        return plume_fail(err, "%s: head_dim (%u) must be even and non-zero, n_heads (%u) non-zero", op, head_dim,
                          n_heads);
    uint64_t xb = (uint64_t)n * n_heads * head_dim * 4;
    if (need(d, xb, op, "gradient", err) || need(rows, (uint64_t)n * 16, op, "rows", err)) return -1;
    struct {
        uint32_t n, n_heads, head_dim, neox;
        float theta;
    } push = {n, n_heads, head_dim, neox ? 1u : 0u, theta};
    plume_gpu_binding b[2] = {bind(d, xb), bind(rows, (uint64_t)n * 16)};
    uint32_t spec[1] = {WG};
    /* one invocation per (row, pair index) */
    return run(rec, "rope_backward", "ss", 20, spec, 1, b, 2, &push, groups((uint64_t)n * (head_dim / 2)), 1, err);
}

int plume_train_silu_mul_backward(plume_gpu_rec *rec, pbuf *g, pbuf *u, pbuf *dout, pbuf *dg, pbuf *du,
                                  uint32_t count, plume_error *err) {
    const char *op = "silu_mul backward";
    if (count == 0) return 0;
    uint64_t bytes = (uint64_t)count * 4;
    if (need(g, bytes, op, "gate", err) || need(u, bytes, op, "up", err) || need(dout, bytes, op, "dout", err) ||
        need(dg, bytes, op, "dgate", err) || need(du, bytes, op, "dup", err))
        return -1;
    if (dg == du || dg == g || dg == u || du == g || du == u)
        return plume_fail(err, "%s: dgate and dup must be distinct from each other and the inputs", op);
    plume_gpu_binding b[5] = {bind(g, bytes), bind(u, bytes), bind(dout, bytes), bind(dg, bytes), bind(du, bytes)};
    uint32_t spec[1] = {WG};
    return run(rec, "silu_mul_backward", "sssss", 4, spec, 1, b, 5, &count, groups(count), 1, err);
}

int plume_train_attention_backward(plume_gpu_rec *rec, pbuf *q, pbuf *k, pbuf *v, pbuf *o, pbuf *dout, pbuf *ld,
                                   pbuf *dq, pbuf *dk, pbuf *dv, uint32_t n, uint32_t n_heads, uint32_t n_kv_heads,
                                   uint32_t head_dim, uint32_t seq_len, plume_error *err) {
    const char *op = "attention backward";
    if (n == 0) return 0;
    if (n_heads == 0 || n_kv_heads == 0 || n_heads % n_kv_heads || head_dim == 0 || head_dim > 256 ||
        seq_len == 0 || n % seq_len)
        return plume_fail(err, "%s: n_heads %u must be a non-zero multiple of n_kv_heads %u, head_dim %u in 1..256, "
                          "rows %u a multiple of the sequence length %u", op, n_heads, n_kv_heads, head_dim, n,
                          seq_len);
    uint64_t qb = (uint64_t)n * n_heads * head_dim * 4, kb = (uint64_t)n * n_kv_heads * head_dim * 4;
    uint64_t lb = (uint64_t)n * n_heads * 8;
    if (need(q, qb, op, "q", err) || need(k, kb, op, "k", err) || need(v, kb, op, "v", err) ||
        need(o, qb, op, "o", err) || need(dout, qb, op, "dout", err) || need(ld, lb, op, "scratch", err) ||
        need(dq, qb, op, "dq", err) || need(dk, kb, op, "dk", err) || need(dv, kb, op, "dv", err))
        return -1;
    struct {
        uint32_t n, n_heads, group, seq_len, kv_dim;
        float scale;
    } push = {n, n_heads, n_heads / n_kv_heads, seq_len, n_kv_heads * head_dim, 1.0f / sqrtf((float)head_dim)};
    plume_gpu_binding b[13] = {bind(q, qb), bind(k, kb), bind(v, kb), bind(o, qb), bind(dout, qb), bind(ld, lb),
                               bind(dq, qb), bind(dk, kb), bind(dv, kb), bind(q, qb), bind(k, kb), bind(v, kb),
                               bind(dout, qb)};
    /* texel reads of whole 16-byte groups: head_dim (and so every row width) a multiple of 4 */
    uint32_t tex = head_dim % 4 == 0;
    uint32_t spec0[4] = {ATT_WG, 0, head_dim, tex}, spec1[4] = {ATT_WG, 1, head_dim, tex};
    uint32_t row_groups = (n + ATT_WG - 1) / ATT_WG;
    return run(rec, "attention_backward", "ssssssssstttt", 24, spec0, 4, b, 13, &push, n_heads, row_groups, err) ||
           run(rec, "attention_backward", "ssssssssstttt", 24, spec1, 4, b, 13, &push, n_kv_heads, row_groups,
               err);
}

int plume_train_cross_entropy(plume_gpu_rec *rec, pbuf *logits, pbuf *targets, pbuf *loss, uint32_t n,
                              uint32_t vocab, plume_error *err) {
    const char *op = "cross entropy";
    if (n == 0) return 0;
    if (vocab == 0) return plume_fail(err, "%s: vocab is 0", op);
    uint64_t zb = (uint64_t)n * vocab * 4;
    if (need(logits, zb, op, "logits", err) || need(targets, (uint64_t)n * 8, op, "targets", err) ||
        need(loss, (uint64_t)n * 4, op, "loss", err))
        return -1;
    plume_gpu_binding b[3] = {bind(logits, zb), bind(targets, (uint64_t)n * 8), bind(loss, (uint64_t)n * 4)};
    uint32_t spec[1] = {WG};
    uint32_t push[2] = {n, vocab};
    return run(rec, "cross_entropy", "sss", 8, spec, 1, b, 3, push, groups(n), 1, err);
}

typedef struct adamw_push {
    uint32_t count;
    float lr, b1, b2, eps, wd, gscale, bc1, bc2;
} adamw_push;

int plume_train_adamw(plume_gpu_rec *rec, pbuf *w, pbuf *g, pbuf *m, pbuf *v, uint32_t count,
                      const plume_adamw_step *s, plume_error *err) {
    const char *op = "adamw";
    if (count == 0) return 0;
    uint64_t bytes = (uint64_t)count * 4;
    if (need(w, bytes, op, "weight", err) || need(g, bytes, op, "gradient", err) || need(m, bytes, op, "m", err) ||
        need(v, bytes, op, "v", err))
        return -1;
    adamw_push push = {count, s->lr, s->beta1, s->beta2, s->eps, s->weight_decay, s->grad_scale, s->bc1, s->bc2};
    plume_gpu_binding b[5] = {bind(w, bytes), bind(g, bytes), bind(m, bytes), bind(v, bytes), bind(m, bytes)};
    uint32_t spec[2] = {WG, 0};
    return run(rec, "adamw", "sssss", sizeof push, spec, 2, b, 5, &push, groups(count), 1, err);
}

int plume_train_sumsq(plume_gpu_rec *rec, pbuf *g, pbuf *partial, uint32_t count, plume_error *err) {
    const char *op = "gradient norm";
    if (count == 0) return 0;
    uint64_t bytes = (uint64_t)count * 4;
    uint32_t chunks = (count + PLUME_TRAIN_SUMSQ_CHUNK - 1) / PLUME_TRAIN_SUMSQ_CHUNK;
    if (need(g, bytes, op, "gradient", err) || need(partial, (uint64_t)chunks * 4, op, "partial sums", err))
        return -1;
    adamw_push push = {count, 0, 0, 0, 0, 0, 0, 0, 0};
    /* only bindings 1 (grad) and 4 (partials) are used in this mode */
    plume_gpu_binding b[5] = {bind(partial, 0), bind(g, bytes), bind(partial, 0), bind(partial, 0),
                              bind(partial, (uint64_t)chunks * 4)};
    uint32_t spec[2] = {WG, 1};
    return run(rec, "adamw", "sssss", sizeof push, spec, 2, b, 5, &push, groups(chunks), 1, err);
}
