/* The training kernels: the backward of every forward op, the fused cross-entropy and
 * AdamW, over plain F32 device buffers (shaders/\*_backward.comp, cross_entropy.comp,
 * adamw.comp). Each records its dispatches and a trailing barrier, like the forward ops
 * of plume/gpu.h, which the training forward pass reuses (rmsnorm, rope, attention,
 * silu_mul, add).
 *
 * Determinism: every output element is written by one invocation that sums its terms
 * in a fixed order; there are no atomics, so a step gives bitwise the same result every
 * time on one device and driver.
 *
 * Shapes: a weight W is rows x cols (maps cols inputs to rows outputs), activations are
 * n rows, row-major. `accumulate` = 1 adds to the output instead of overwriting it;
 * weight gradients always accumulate (zero them at the start of an optimizer step). */
#ifndef PLUME_TRAIN_OPS_H
#define PLUME_TRAIN_OPS_H

#include "plume/gpu.h"

typedef plume_gpu_buffer pbuf;

/* y[i][r] (+)= sum_c W[r][c] x[i][c]. scratch: rows x cols floats that the fast path
 * (all of rows, cols multiples of 4) transposes W into first; NULL takes the slow path. */
int plume_train_matmul(plume_gpu_rec *rec, pbuf *w, pbuf *x, pbuf *y, pbuf *scratch, uint32_t rows,
                                 uint32_t cols, uint32_t n, int accumulate, plume_error *err);
/* dx[i][c] (+)= sum_r dy[i][r] W[r][c] */
int plume_train_matmul_dx(plume_gpu_rec *rec, pbuf *w, pbuf *dy, pbuf *dx, uint32_t rows, uint32_t cols,
                                    uint32_t n, int accumulate, plume_error *err);
/* dW[r][c] += sum_i dy[i][r] x[i][c] */
int plume_train_matmul_dw(plume_gpu_rec *rec, pbuf *dy, pbuf *x, pbuf *dw, uint32_t rows, uint32_t cols,
                                    uint32_t n, plume_error *err);
/* out[i][:] = E[rows[i].token][:] (E: vocab x dim F32) */
int plume_train_embed(plume_gpu_rec *rec, pbuf *e, pbuf *rows, pbuf *out, uint32_t n, uint32_t dim,
                                uint32_t vocab, plume_error *err);
/* dE[v][:] += sum over rows i holding token v of d[i][:], rows in increasing order;
 * ix: the rows grouped by token, as plume_train_token_index makes it from the same rows. */
int plume_train_embed_backward(plume_gpu_rec *rec, pbuf *de, pbuf *rows, pbuf *ix, pbuf *d, uint32_t n,
                                         uint32_t dim, uint32_t vocab, plume_error *err);
/* A counting sort of rows by token, for the embedding's backward: ix[v] .. ix[v+1] (v <
 * vocab) index ix[vocab + 1 + j], the rows holding token v in increasing order.
 * ix holds vocab + 1 + n values. */
void plume_train_token_index(const plume_gpu_row *rows, uint32_t n, uint32_t vocab, uint32_t *ix);
/* Backward of y = rmsnorm(x) * w: dx (+)= ..., dw += ...; rstd: n floats of scratch. */
int plume_train_rmsnorm_backward(plume_gpu_rec *rec, pbuf *x, pbuf *w, pbuf *dy, pbuf *dx, pbuf *rstd,
                                           pbuf *dw, uint32_t n, uint32_t dim, float eps, int accumulate,
                                           plume_error *err);
/* In place on the gradient d (n rows of n_heads*head_dim): the inverse rotation. */
int plume_train_rope_backward(plume_gpu_rec *rec, pbuf *d, pbuf *rows, uint32_t n, uint32_t n_heads,
                                        uint32_t head_dim, float theta, int neox, plume_error *err);
/* dg, du from out = silu(g) * u (count elements). */
int plume_train_silu_mul_backward(plume_gpu_rec *rec, pbuf *g, pbuf *u, pbuf *dout, pbuf *dg, pbuf *du,
                                            uint32_t count, plume_error *err);
/* Backward of causal GQA attention over sequences of seq_len rows (row i: position
 * i % seq_len of sequence i / seq_len; n a multiple of seq_len). q, o, dout, dq: n x
 * n_heads*head_dim; k, v, dk, dv: n x n_kv_heads*head_dim (overwritten); ld: n*n_heads*2
 * floats of scratch. */
int plume_train_attention_backward(plume_gpu_rec *rec, pbuf *q, pbuf *k, pbuf *v, pbuf *o, pbuf *dout,
                                             pbuf *ld, pbuf *dq, pbuf *dk, pbuf *dv, uint32_t n, uint32_t n_heads,
                                             uint32_t n_kv_heads, uint32_t head_dim, uint32_t seq_len,
                                             plume_error *err);
/* One target per row: {uint32 token, float weight}. */
typedef struct plume_train_target {
    uint32_t token;
    float weight;
} plume_train_target;
/* logits (n x vocab) become their gradient in place; loss[i] = weight_i * CE_i. */
int plume_train_cross_entropy(plume_gpu_rec *rec, pbuf *logits, pbuf *targets, pbuf *loss, uint32_t n,
                                        uint32_t vocab, plume_error *err);

typedef struct plume_adamw_step {
    float lr, beta1, beta2, eps, weight_decay;
    float grad_scale;       /* clip factor (and any other scale) applied to the gradient */
    float bc1, bc2;         /* 1 - beta1^t, 1 - beta2^t */
} plume_adamw_step;
int plume_train_adamw(plume_gpu_rec *rec, pbuf *w, pbuf *g, pbuf *m, pbuf *v, uint32_t count,
                                const plume_adamw_step *s, plume_error *err);
/* partial[k] = sum of g[j]^2 for j in [256k, 256k+256): ceil(count/256) floats. */
int plume_train_sumsq(plume_gpu_rec *rec, pbuf *g, pbuf *partial, uint32_t count, plume_error *err);
#define PLUME_TRAIN_SUMSQ_CHUNK 256u

#endif
