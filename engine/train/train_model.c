/* The trained model on the device: its parameters, the activations a micro-batch keeps
 * for the backward pass, and the recorded forward + backward pass.
 *
 * Forward, for n = batch * seq_len rows (row i: position i % seq_len of sequence
 * i / seq_len; K and V of the batch serve as the attention's cache with ctx = seq_len):
 *   x = embed(tokens)
 *   per layer: xa = rmsnorm(x); q, k, v = xa Wq, Wk, Wv; rope(q, k); att = attention;
 *              xm = x + att Wo; xf = rmsnorm(xm); h1, h3 = xf W1, W3; hs = silu(h1) h3;
 *              x' = xm + hs W2
 *   logits = rmsnorm(x) Wout; cross-entropy -> loss per row, logits -> dlogits.
 * Backward: the same in reverse (llm.c's layout: one *_backward per forward op), dres
 * carrying the gradient of the residual stream. Weight gradients accumulate over the
 * micro-batches of a step; activation gradients are overwritten. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trainer.h"

static pbuf *buf(plume_trainer *t, uint64_t floats, unsigned flags, plume_error *err) {
    return plume_gpu_buffer_create(t->gpu, floats ? floats * 4 : 16, flags, err);
}

static int add_param(plume_trainer *t, const char *name, int layer, uint32_t rows, uint32_t cols, int decay,
                     plume_error *err) {
    tparam *p = &t->params[t->n_params];
    if (layer >= 0) snprintf(p->name, sizeof p->name, "blk.%d.%s", layer, name);
    else snprintf(p->name, sizeof p->name, "%s", name);
    p->rows = rows;
    p->cols = cols;
    p->count = rows * cols;
    p->decay = decay;
    uint64_t chunks = (p->count + PLUME_TRAIN_SUMSQ_CHUNK - 1) / PLUME_TRAIN_SUMSQ_CHUNK;
    if (!(p->w = buf(t, p->count, PLUME_GPU_BUFFER_DEVICE, err)) ||
        !(p->g = buf(t, p->count, PLUME_GPU_BUFFER_DEVICE, err)) ||
        !(p->m = buf(t, p->count, PLUME_GPU_BUFFER_DEVICE, err)) ||
        !(p->v = buf(t, p->count, PLUME_GPU_BUFFER_DEVICE, err)) ||
        !(p->sq = buf(t, chunks, PLUME_GPU_BUFFER_HOST, err)))
        return -1;
    if (plume_gpu_fill(p->m, 0, (uint64_t)p->count * 4, 0, err) ||
        plume_gpu_fill(p->v, 0, (uint64_t)p->count * 4, 0, err) ||
        plume_gpu_fill(p->g, 0, (uint64_t)p->count * 4, 0, err))
        return -1;
    return t->n_params++;
}

int trainer_alloc_params(plume_trainer *t, plume_error *err) {
    const plume_train_shape *s = &t->shape;
    const uint32_t d = (uint32_t)s->dim, h = (uint32_t)s->hidden_dim, V = (uint32_t)s->vocab_size;
    const uint32_t kv = (uint32_t)(s->dim / s->n_heads * s->n_kv_heads);
    int total = 3 + 9 * s->n_layers;
    t->params = calloc((size_t)total, sizeof *t->params);
    t->layers = calloc((size_t)s->n_layers, sizeof *t->layers);
    if (!t->params || !t->layers) return plume_fail(err, "train: out of memory for %d parameters", total);
    if ((t->tok_embd = add_param(t, "token_embd.weight", -1, V, d, 1, err)) < 0) return -1;
    for (int l = 0; l < s->n_layers; l++) {
        tlayer *L = &t->layers[l];
        if ((L->attn_norm = add_param(t, "attn_norm.weight", l, 1, d, 0, err)) < 0 ||
            (L->wq = add_param(t, "attn_q.weight", l, d, d, 1, err)) < 0 ||
            (L->wk = add_param(t, "attn_k.weight", l, kv, d, 1, err)) < 0 ||
            (L->wv = add_param(t, "attn_v.weight", l, kv, d, 1, err)) < 0 ||
            (L->wo = add_param(t, "attn_output.weight", l, d, d, 1, err)) < 0 ||
            (L->ffn_norm = add_param(t, "ffn_norm.weight", l, 1, d, 0, err)) < 0 ||
            (L->w1 = add_param(t, "ffn_gate.weight", l, h, d, 1, err)) < 0 ||
            (L->w2 = add_param(t, "ffn_down.weight", l, d, h, 1, err)) < 0 ||
            (L->w3 = add_param(t, "ffn_up.weight", l, h, d, 1, err)) < 0)
            return -1;
    }
    if ((t->out_norm = add_param(t, "output_norm.weight", -1, 1, d, 0, err)) < 0) return -1;
    if (s->tied) t->output = t->tok_embd;
    else if ((t->output = add_param(t, "output.weight", -1, V, d, 1, err)) < 0) return -1;
    return 0;
}

/* floats in the largest matrix (the forward transposes each into t->wt) */
static uint64_t widest_weight(const plume_train_shape *s) {
    uint64_t d = (uint64_t)s->dim, big = d * (uint64_t)s->hidden_dim, out = d * (uint64_t)s->vocab_size;
    return big > out ? big : out;
}

int trainer_alloc_acts(plume_trainer *t, plume_error *err) {
    const plume_train_shape *s = &t->shape;
    const uint64_t n = t->n, d = (uint64_t)s->dim, h = (uint64_t)s->hidden_dim, V = (uint64_t)s->vocab_size;
    const uint64_t kv = (uint64_t)(s->dim / s->n_heads * s->n_kv_heads);
    const unsigned D = PLUME_GPU_BUFFER_DEVICE, H = PLUME_GPU_BUFFER_HOST;
    t->acts = calloc((size_t)s->n_layers, sizeof *t->acts);
    if (!t->acts) return plume_fail(err, "train: out of memory");
    for (int l = 0; l < s->n_layers; l++) {
        tacts *A = &t->acts[l];
        if (!(A->xin = buf(t, n * d, D, err)) || !(A->xa = buf(t, n * d, D, err)) || !(A->q = buf(t, n * d, D, err)) ||
            !(A->k = buf(t, n * kv, D, err)) || !(A->v = buf(t, n * kv, D, err)) ||
            !(A->att = buf(t, n * d, D, err)) || !(A->xm = buf(t, n * d, D, err)) ||
            !(A->xf = buf(t, n * d, D, err)) || !(A->h1 = buf(t, n * h, D, err)) ||
            !(A->h3 = buf(t, n * h, D, err)) || !(A->hs = buf(t, n * h, D, err)))
            return -1;
    }
    if (!(t->rows = plume_gpu_buffer_create(t->gpu, n * sizeof(plume_gpu_row), H, err)) ||
        !(t->targets = plume_gpu_buffer_create(t->gpu, n * sizeof(plume_train_target), H, err)) ||
        !(t->loss = buf(t, n, H, err)) || !(t->tindex = buf(t, V + 1 + n, H, err)) || !(t->xlast = buf(t, n * d, D, err)) ||
        !(t->xfin = buf(t, n * d, D, err)) || !(t->logits = buf(t, n * V, D, err)) ||
        !(t->dres = buf(t, n * d, D, err)) || !(t->dxb = buf(t, n * d, D, err)) ||
        !(t->datt = buf(t, n * d, D, err)) || !(t->dq = buf(t, n * d, D, err)) ||
        !(t->dk = buf(t, n * kv, D, err)) || !(t->dv = buf(t, n * kv, D, err)) ||
        !(t->dhs = buf(t, n * h, D, err)) || !(t->dh1 = buf(t, n * h, D, err)) ||
        !(t->dh3 = buf(t, n * h, D, err)) || !(t->ld = buf(t, n * (uint64_t)s->n_heads * 2, D, err)) ||
        !(t->rstd = buf(t, n, D, err)) || !(t->wt = buf(t, widest_weight(s), D, err)))
        return -1;
    return 0;
}

#define W(i) (t->params[(i)].w)
#define G(i) (t->params[(i)].g)

static int record_forward(plume_trainer *t, plume_gpu_rec *rec, plume_error *err) {
    const plume_train_shape *s = &t->shape;
    const uint32_t n = t->n, d = (uint32_t)s->dim, h = (uint32_t)s->hidden_dim, V = (uint32_t)s->vocab_size;
    const uint32_t H = (uint32_t)s->n_heads, KH = (uint32_t)s->n_kv_heads, hd = d / H, kv = hd * KH;
    const uint32_t T = (uint32_t)t->p.seq_len;
    if (plume_train_embed(rec, W(t->tok_embd), t->rows, t->acts[0].xin, n, d, V, err)) return -1;
    for (int l = 0; l < s->n_layers; l++) {
        const tlayer *L = &t->layers[l];
        tacts *A = &t->acts[l];
        pbuf *xout = l + 1 < s->n_layers ? t->acts[l + 1].xin : t->xlast;
        int rc = plume_gpu_rmsnorm(rec, A->xin, W(L->attn_norm), A->xa, n, d, s->norm_eps, err) ||
                 plume_train_matmul(rec, W(L->wq), A->xa, A->q, t->wt, d, d, n, 0, err) ||
                 plume_train_matmul(rec, W(L->wk), A->xa, A->k, t->wt, kv, d, n, 0, err) ||
                 plume_train_matmul(rec, W(L->wv), A->xa, A->v, t->wt, kv, d, n, 0, err) ||
                 plume_gpu_rope(rec, A->q, t->rows, n, H, hd, s->rope_base, s->rope_neox, err) ||
                 plume_gpu_rope(rec, A->k, t->rows, n, KH, hd, s->rope_base, s->rope_neox, err) ||
                 plume_gpu_attention(rec, A->q, A->k, A->v, t->rows, A->att, n, H, KH, hd, T, err) ||
                 plume_gpu_rec_copy(rec, A->xin, 0, A->xm, 0, (uint64_t)n * d * 4, err);
        if (rc) return plume_fail_prefix(err, "layer %d: ", l);
        plume_gpu_rec_barrier(rec);
        rc = plume_train_matmul(rec, W(L->wo), A->att, A->xm, t->wt, d, d, n, 1, err) ||
             plume_gpu_rmsnorm(rec, A->xm, W(L->ffn_norm), A->xf, n, d, s->norm_eps, err) ||
             plume_train_matmul(rec, W(L->w1), A->xf, A->h1, t->wt, h, d, n, 0, err) ||
             plume_train_matmul(rec, W(L->w3), A->xf, A->h3, t->wt, h, d, n, 0, err) ||
             plume_gpu_silu_mul(rec, A->h1, A->h3, A->hs, n * h, err) ||
             plume_gpu_rec_copy(rec, A->xm, 0, xout, 0, (uint64_t)n * d * 4, err);
        if (rc) return plume_fail_prefix(err, "layer %d: ", l);
        plume_gpu_rec_barrier(rec);
        if (plume_train_matmul(rec, W(L->w2), A->hs, xout, t->wt, d, h, n, 1, err))
            return plume_fail_prefix(err, "layer %d: ", l);
    }
    return plume_gpu_rmsnorm(rec, t->xlast, W(t->out_norm), t->xfin, n, d, s->norm_eps, err) ||
           plume_train_matmul(rec, W(t->output), t->xfin, t->logits, t->wt, V, d, n, 0, err) ||
           plume_train_cross_entropy(rec, t->logits, t->targets, t->loss, n, V, err);
}

static int record_backward(plume_trainer *t, plume_gpu_rec *rec, plume_error *err) {
    const plume_train_shape *s = &t->shape;
    const uint32_t n = t->n, d = (uint32_t)s->dim, h = (uint32_t)s->hidden_dim, V = (uint32_t)s->vocab_size;
    const uint32_t H = (uint32_t)s->n_heads, KH = (uint32_t)s->n_kv_heads, hd = d / H, kv = hd * KH;
    const uint32_t T = (uint32_t)t->p.seq_len;
    const float eps = s->norm_eps;
    /* the classifier and the final norm (t->logits holds dlogits after the cross-entropy) */
    if (plume_train_matmul_dx(rec, W(t->output), t->logits, t->dxb, V, d, n, 0, err) ||
        plume_train_matmul_dw(rec, t->logits, t->xfin, G(t->output), V, d, n, err) ||
        plume_train_rmsnorm_backward(rec, t->xlast, W(t->out_norm), t->dxb, t->dres, t->rstd, G(t->out_norm), n, d,
                                     eps, 0, err))
        return plume_fail_prefix(err, "classifier backward: ");
    for (int l = s->n_layers - 1; l >= 0; l--) {
        const tlayer *L = &t->layers[l];
        tacts *A = &t->acts[l];
        int rc =
            /* feed-forward */
            plume_train_matmul_dx(rec, W(L->w2), t->dres, t->dhs, d, h, n, 0, err) ||
            plume_train_matmul_dw(rec, t->dres, A->hs, G(L->w2), d, h, n, err) ||
            plume_train_silu_mul_backward(rec, A->h1, A->h3, t->dhs, t->dh1, t->dh3, n * h, err) ||
            plume_train_matmul_dx(rec, W(L->w1), t->dh1, t->dxb, h, d, n, 0, err) ||
            plume_train_matmul_dx(rec, W(L->w3), t->dh3, t->dxb, h, d, n, 1, err) ||
            plume_train_matmul_dw(rec, t->dh1, A->xf, G(L->w1), h, d, n, err) ||
            plume_train_matmul_dw(rec, t->dh3, A->xf, G(L->w3), h, d, n, err) ||
            plume_train_rmsnorm_backward(rec, A->xm, W(L->ffn_norm), t->dxb, t->dres, t->rstd, G(L->ffn_norm), n, d,
                                         eps, 1, err) ||
            /* attention */
            plume_train_matmul_dx(rec, W(L->wo), t->dres, t->datt, d, d, n, 0, err) ||
            plume_train_matmul_dw(rec, t->dres, A->att, G(L->wo), d, d, n, err) ||
            plume_train_attention_backward(rec, A->q, A->k, A->v, A->att, t->datt, t->ld, t->dq, t->dk, t->dv, n, H,
                                           KH, hd, T, err) ||
            plume_train_rope_backward(rec, t->dq, t->rows, n, H, hd, s->rope_base, s->rope_neox, err) ||
            plume_train_rope_backward(rec, t->dk, t->rows, n, KH, hd, s->rope_base, s->rope_neox, err) ||
            plume_train_matmul_dx(rec, W(L->wq), t->dq, t->dxb, d, d, n, 0, err) ||
            plume_train_matmul_dx(rec, W(L->wk), t->dk, t->dxb, kv, d, n, 1, err) ||
            plume_train_matmul_dx(rec, W(L->wv), t->dv, t->dxb, kv, d, n, 1, err) ||
            plume_train_matmul_dw(rec, t->dq, A->xa, G(L->wq), d, d, n, err) ||
            plume_train_matmul_dw(rec, t->dk, A->xa, G(L->wk), kv, d, n, err) ||
            plume_train_matmul_dw(rec, t->dv, A->xa, G(L->wv), kv, d, n, err) ||
            plume_train_rmsnorm_backward(rec, A->xin, W(L->attn_norm), t->dxb, t->dres, t->rstd, G(L->attn_norm), n,
                                         d, eps, 1, err);
        if (rc) return plume_fail_prefix(err, "layer %d backward: ", l);
    }
    return plume_train_embed_backward(rec, G(t->tok_embd), t->rows, t->tindex, t->dres, n, d, V, err);
}

int trainer_record(plume_trainer *t, plume_error *err) {
    plume_gpu_rec *tr = plume_gpu_rec_begin(t->gpu, err);
    if (!tr) return -1;
    t->rec_train = tr;
    if (record_forward(t, tr, err) || record_backward(t, tr, err) || plume_gpu_rec_end(tr, err)) return -1;
    plume_gpu_rec *ev = plume_gpu_rec_begin(t->gpu, err);
    if (!ev) return -1;
    t->rec_eval = ev;
    if (record_forward(t, ev, err) || plume_gpu_rec_end(ev, err)) return -1;
    plume_gpu_rec *nr = plume_gpu_rec_begin(t->gpu, err);
    if (!nr) return -1;
    t->rec_norm = nr;
    for (int i = 0; i < t->n_params; i++)
        if (plume_train_sumsq(nr, t->params[i].g, t->params[i].sq, t->params[i].count, err)) return -1;
    return plume_gpu_rec_end(nr, err);
}

void trainer_free_device(plume_trainer *t) {
    plume_gpu_rec_free(t->rec_train);
    plume_gpu_rec_free(t->rec_eval);
    plume_gpu_rec_free(t->rec_norm);
    t->rec_train = t->rec_eval = t->rec_norm = NULL;
    for (int i = 0; t->params && i < t->n_params; i++) {
        tparam *p = &t->params[i];
        plume_gpu_buffer_free(p->w);
        plume_gpu_buffer_free(p->g);
        plume_gpu_buffer_free(p->m);
        plume_gpu_buffer_free(p->v);
        plume_gpu_buffer_free(p->sq);
    }
    for (int l = 0; t->acts && l < t->shape.n_layers; l++) {
        tacts *A = &t->acts[l];
        pbuf *b[] = {A->xin, A->xa, A->q, A->k, A->v, A->att, A->xm, A->xf, A->h1, A->h3, A->hs};
        for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) plume_gpu_buffer_free(b[i]);
    }
    pbuf *b[] = {t->rows, t->targets, t->loss, t->tindex, t->xlast, t->xfin, t->logits, t->dres, t->dxb, t->datt, t->dq,
                 t->dk, t->dv, t->dhs, t->dh1, t->dh3, t->ld, t->rstd, t->wt};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) plume_gpu_buffer_free(b[i]);
    free(t->params);
    free(t->layers);
    free(t->acts);
    t->params = NULL;
    t->layers = NULL;
    t->acts = NULL;
}
