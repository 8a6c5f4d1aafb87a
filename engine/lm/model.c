/* The llama forward pass on the device.
 *
 * Loading: every matrix of the GGUF file becomes a plume_gpu_weight in its own type (the
 * gpu layer repacks the blocks for its kernels; BF16 is widened to F32 on the way, since
 * no kernel reads it), norms, biases and rope factors become F32 buffers.
 * The mapping of the file is closed once everything is on the device.
 *
 * Architectures (gguf.c reads and checks them): llama, qwen2 (q/k/v biases added after the
 * projections, NEOX rope), qwen3 (an RMS norm over each head of q and k before rope), each
 * with grouped-query attention, a head size apart from dim / n_heads, tied or untied output,
 * and rope frequency factors (Llama 3's rope_freqs, linear scaling).
 *
 * A batch (plume_lm_batch) owns the per-layer KV caches of its sequences
 * (F32 [n_seqs][max_len][kv_dim]) and the activation buffers for up to cap_rows
 * token rows. A step is one recorded command buffer: embed and the first norm, then per layer
 *   q/k/v matmuls, rope + kv store, attention, output matmul, residual add + norm,
 *   gate/up matmuls with silu*up, down matmul, residual add + the next norm,
 * then the classifier, the mixture of each row's pending plume_mix (a row without one is
 * left as it is), and the argmax (or a top-k draw). What changes from step to step (token,
 * position, sequence of each row; each row's draw and mix) lives in the rows, draws and mix
 * buffers, so a recording is made once per row count and submitted again for every later
 * step with that count.
 * Decoding n <= 8 rows goes through the gpu layer's matrix-vector kernel, which reads
 * each weight once for all rows: batched decoding costs little more than one sequence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

_Static_assert(PLUME_DRAW_TOP_K_MAX == PLUME_GPU_SAMPLE_TOP_K_MAX, "lm.h and gpu.h name one limit");

#define MIX_ROW PLUME_GPU_MIX_ROW_BYTES(PLUME_MIX_MAX)

#define PREFILL_CHUNK 128   /* rows per prefill submit: bounds the activation buffers */

struct plume_lm_batch {
    plume_lm *lm;
    int n_seqs, max_len, cap_rows;
    int *len;                         /* [n_seqs] tokens in each cache */
    /* Caches that share a start: sequences of one lineage (a sequence and the copies made of it,
     * as a beam search forks) hold the same first lineage_start[s] rows, written once and never
     * again, so a copy between two of them skips those rows. A reset starts a lineage of one. */
    int *lineage, *lineage_start;     /* [n_seqs] */
    int next_lineage;
    plume_gpu_buffer **kc, **vc;      /* [n_layers] */
    plume_gpu_buffer *rows;           /* plume_gpu_row [cap_rows] */
    plume_gpu_buffer *x;              /* the residual stream [rows][dim] */
    plume_gpu_buffer *xb;             /* x normalised for the next matmul [rows][dim] */
    plume_gpu_buffer *xo;             /* a block's output, to be added to x [rows][dim] */
    plume_gpu_buffer *q, *k, *v, *att, *hb;
    plume_gpu_buffer *hb2;            /* the up projection, where gate and up are not fused */
    plume_gpu_buffer *xl;             /* the last prefill row, normalised [dim] */
    plume_gpu_buffer *logits;         /* [max(n_seqs, 1)][vocab] */
    plume_gpu_buffer *logits_all;     /* [cap_rows][vocab], made on the first plume_lm_prefill_all */
    plume_gpu_buffer *amax;           /* uint32 [n_seqs]: the greedy or drawn next tokens */
    plume_gpu_buffer *draws;          /* plume_gpu_draw [n_seqs] */
    plume_gpu_buffer *mix;            /* [n_seqs] rows of MIX_ROW bytes: each decoded row's mixture */
    plume_gpu_rec **dec;              /* decode recordings by row count, [n_seqs + 1] */
    plume_gpu_rec **dec_draw;         /* the same, drawing the next token instead of argmax */
    plume_gpu_rec *pre;               /* the latest prefill recording */
    int pre_n, pre_mode;
    plume_gpu_row *rowdata;           /* host copy of rows */
    plume_gpu_draw *drawdata;         /* host copy of draws */
    unsigned char *mixdata;           /* host copy of mix */
    unsigned char *pending;           /* [n_seqs] rows of MIX_ROW: what each sequence's next logits mix */
};

enum { PRE_NONE, PRE_LOGITS, PRE_HIDDEN, PRE_ALL };

/* ---- loading ---------------------------------------------------------------- */

static int note_type(plume_lm *lm, plume_gpu_type t) {
    const char *name = plume_ggml_type_name((plume_ggml_type)t);
    if (!lm->type_name[0]) snprintf(lm->type_name, sizeof lm->type_name, "%s", name);
    else if (strcmp(lm->type_name, name)) snprintf(lm->type_name, sizeof lm->type_name, "mixed");
    return 0;
}

/* A tensor widened to F32 in a malloc'd array (the caller frees). */
static float *to_f32(const plume_gguf_tensor *t, const char *path, plume_error *err) {
    float *f = malloc(t->n_elements * sizeof *f);
    if (!f) {
        plume_fail(err, "%s: tensor '%s': out of memory widening %llu elements to F32", path, t->name,
                   (unsigned long long)t->n_elements);
        return NULL;
    }
    if (plume_ggml_to_f32(t->type, t->data, f, t->n_elements, err)) {
        plume_fail_prefix(err, "%s: tensor '%s': ", path, t->name);
        free(f);
        return NULL;
    }
    return f;
}

/* The type a tensor has on the device: as stored where the kernels read it (every type but
 * BF16, which is widened to F32). */
static plume_gpu_type upload_type(const plume_gguf_tensor *t) {
    switch (t->type) {
    case PLUME_GGML_F16: case PLUME_GGML_Q8_0: case PLUME_GGML_Q4_0: case PLUME_GGML_Q4_1: case PLUME_GGML_Q5_0:
    case PLUME_GGML_Q5_1: case PLUME_GGML_Q4_K: case PLUME_GGML_Q5_K: case PLUME_GGML_Q6_K:
        if (plume_gpu_type_bytes((plume_gpu_type)t->type, 1, (uint64_t)t->ne[0])) return (plume_gpu_type)t->type;
        return PLUME_GPU_F32;
    default: return PLUME_GPU_F32;
    }
}

/* The tensor `suffix` of `layer`, checked to be rows x cols. */
static const plume_gguf_tensor *find_matrix(plume_lm *lm, const plume_gguf *g, int layer, const char *suffix,
                                            uint32_t rows, uint32_t cols, plume_error *err) {
    const plume_gguf_tensor *t = plume_llama_tensor(g, layer, suffix);
    if (!t) {
        plume_fail(err, "%s: tensor '%s' (layer %d) is missing; hint: is this a llama GGUF?", lm->path,
                   suffix, layer);
        return NULL;
    }
    if ((uint64_t)t->ne[0] != cols || (uint64_t)t->ne[1] != rows) {
        plume_fail(err, "%s: tensor '%s' has shape {%lld, %lld}, expected {%u, %u}", lm->path, t->name,
                   (long long)t->ne[0], (long long)t->ne[1], cols, rows);
        return NULL;
    }
    return t;
}

static plume_gpu_weight *load_matrix(plume_lm *lm, const plume_gguf *g, int layer, const char *suffix,
                                     uint32_t rows, uint32_t cols, plume_error *err) {
    const plume_gguf_tensor *t = find_matrix(lm, g, layer, suffix, rows, cols, err);
    if (!t) return NULL;
    plume_gpu_weight *w = NULL;
    if (upload_type(t) != PLUME_GPU_F32 || t->type == PLUME_GGML_F32) {
        note_type(lm, (plume_gpu_type)t->type);
        w = plume_gpu_weight_create(lm->gpu, (plume_gpu_type)t->type, rows, cols, t->data, err);
    } else {
        float *f = to_f32(t, lm->path, err);
        if (!f) return NULL;
        note_type(lm, PLUME_GPU_F32);
        w = plume_gpu_weight_create(lm->gpu, PLUME_GPU_F32, rows, cols, f, err);
        free(f);
    }
    if (!w) plume_fail_prefix(err, "%s: uploading tensor '%s': ", lm->path, t->name);
    return w;
}

/* attn_q, attn_k and attn_v stacked into one weight (their rows concatenated) for
 * plume_gpu_matmul_stacked: one dispatch, one texel view, no branch among three weights in
 * the kernel. Returns 0 with *out NULL when their device types differ (the caller loads
 * them one by one). */
static int load_qkv(plume_lm *lm, const plume_gguf *g, int layer, const uint32_t rows[3], uint32_t cols,
                    plume_gpu_weight **out, plume_error *err) {
    static const char *const names[3] = {"attn_q.weight", "attn_k.weight", "attn_v.weight"};
    const plume_gguf_tensor *t[3];
    *out = NULL;
    for (int i = 0; i < 3; i++)
        if (!(t[i] = find_matrix(lm, g, layer, names[i], rows[i], cols, err))) return -1;
    plume_gpu_type type = upload_type(t[0]);
    if (upload_type(t[1]) != type || upload_type(t[2]) != type) return 0;
    uint64_t bytes[3], total = 0;
    for (int i = 0; i < 3; i++) total += bytes[i] = plume_gpu_type_bytes(type, rows[i], cols);
    if (!bytes[0] || !bytes[1] || !bytes[2] || total > SIZE_MAX)
        return plume_fail(err, "%s: layer %d: q, k and v (%u, %u, %u x %u) are too large to stack", lm->path, layer,
                          rows[0], rows[1], rows[2], cols);
    uint8_t *data = malloc((size_t)total), *at = data;
    if (!data) return plume_fail(err, "%s: out of memory stacking layer %d's q, k and v", lm->path, layer);
    for (int i = 0; i < 3; i++, at += bytes[i - 1]) {
        if (type != PLUME_GPU_F32 || t[i]->type == PLUME_GGML_F32) {
            memcpy(at, t[i]->data, (size_t)bytes[i]);
            continue;
        }
        float *f = to_f32(t[i], lm->path, err);
        if (!f) {
            free(data);
            return -1;
        }
        memcpy(at, f, (size_t)bytes[i]);
        free(f);
    }
    note_type(lm, type);
    *out = plume_gpu_weight_create(lm->gpu, type, rows[0] + rows[1] + rows[2], cols, data, err);
    free(data);
    if (!*out) return plume_fail_prefix(err, "%s: uploading layer %d's stacked q, k and v: ", lm->path, layer);
    return 0;
}

static plume_gpu_buffer *load_vector(plume_lm *lm, const plume_gguf *g, int layer, const char *suffix,
                                     uint32_t n, plume_error *err) {
    const plume_gguf_tensor *t = plume_llama_tensor(g, layer, suffix);
    if (!t || t->n_elements != n) {
        plume_fail(err, "%s: tensor '%s' (layer %d) is missing or does not hold %u values", lm->path, suffix,
                   layer, n);
        return NULL;
    }
    float *f = to_f32(t, lm->path, err);
    if (!f) return NULL;
    plume_gpu_buffer *b = plume_gpu_buffer_create(lm->gpu, (uint64_t)n * 4, PLUME_GPU_BUFFER_DEVICE, err);
    if (b && plume_gpu_upload(b, 0, f, (uint64_t)n * 4, err)) {
        plume_gpu_buffer_free(b);
        b = NULL;
    }
    if (!b) plume_fail_prefix(err, "%s: uploading tensor '%s': ", lm->path, t->name);
    free(f);
    return b;
}

static int load_info(plume_lm *lm, plume_error *err) {
    const plume_llama_hparams *hp = &lm->hp;
    plume_lm_info *in = &lm->info;
    in->dim = (int)hp->n_embd;
    in->hidden_dim = (int)hp->n_ff;
    in->n_layers = (int)hp->n_layer;
    in->n_heads = (int)hp->n_head;
    in->n_kv_heads = (int)hp->n_head_kv;
    in->head_dim = (int)hp->head_dim;
    in->vocab_size = (int)hp->n_vocab;
    in->ctx_len = (int)hp->n_ctx;
    in->bos = lm->tok ? plume_tokenizer_bos(lm->tok) : -1;
    in->eos = lm->tok ? plume_tokenizer_eos(lm->tok) : -1;
    in->path = lm->path;
    if (in->head_dim % 2) return plume_fail(err, "%s: the head size %d is odd; rope needs pairs", lm->path, in->head_dim);
    if (in->ctx_len < 1) return plume_fail(err, "%s: %s.context_length is 0", lm->path, hp->arch_name);
    return 0;
}

/* Each rope pair's frequency multiplier: linear scaling's 1 / factor, divided by Llama 3's
 * rope_freqs where the file has them (as llama.cpp divides the angle by them). NULL (no
 * buffer, the plain frequencies) when every multiplier is 1. */
static int load_rope_factors(plume_lm *lm, const plume_gguf *g, plume_error *err) {
    const plume_llama_hparams *hp = &lm->hp;
    const uint32_t half = hp->head_dim / 2;
    if (!hp->rope_freqs && hp->rope_freq_scale == 1.0f) return 0;
    float *f = malloc(half * sizeof *f);
    if (!f) return plume_fail(err, "%s: out of memory", lm->path);
    for (uint32_t j = 0; j < half; j++) f[j] = hp->rope_freq_scale;
    if (hp->rope_freqs) {
        const plume_gguf_tensor *t = plume_gguf_find_tensor(g, "rope_freqs.weight");
        float *ff = to_f32(t, lm->path, err);
        if (!ff) {
            free(f);
            return -1;
        }
        for (uint32_t j = 0; j < half; j++) {
            if (!(ff[j] > 0.0f) || !isfinite(ff[j])) {
                plume_fail(err, "%s: tensor 'rope_freqs.weight' holds %g at %u; frequency factors must be positive",
                           lm->path, ff[j], j);
                free(ff);
                free(f);
                return -1;
            }
            f[j] /= ff[j];
        }
        free(ff);
    }
    lm->rope_factors = plume_gpu_buffer_create(lm->gpu, (uint64_t)half * 4, PLUME_GPU_BUFFER_DEVICE, err);
    int rc = lm->rope_factors ? plume_gpu_upload(lm->rope_factors, 0, f, (uint64_t)half * 4, err) : -1;
    free(f);
    return rc ? plume_fail_prefix(err, "%s: uploading the rope frequency factors: ", lm->path) : 0;
}

int lm_model_build(plume_lm *lm, const char *path, plume_error *err) {
    plume_gguf *g = NULL;
    lm->path = lm->path ? lm->path : strdup(path);
    if (!lm->path) return plume_fail(err, "%s: out of memory", path);
    if (plume_gguf_open(&g, path, err)) return -1;
    if (plume_llama_read_hparams(g, &lm->hp, err)) goto fail;
    /* A tokenizer plume does not implement leaves the weights usable on token ids (plume
     * perplexity --ids); text is refused with this message when it is asked for. */
    if (plume_gguf_find(g, "tokenizer.ggml.model") && plume_tokenizer_from_gguf(&lm->tok, g, err)) {
        lm->tok = NULL;
        if (!(lm->tok_error = strdup(err->msg))) {
            plume_fail(err, "%s: out of memory", path);
            goto fail;
        }
    }
    if (load_info(lm, err)) goto fail;

    const plume_llama_hparams *hp = &lm->hp;
    const uint32_t d = hp->n_embd, hd = hp->head_dim, qd = hd * hp->n_head, kv = hd * hp->n_head_kv, h = hp->n_ff;
    lm->layers = calloc(hp->n_layer, sizeof *lm->layers);
    if (!lm->layers) {
        plume_fail(err, "%s: out of memory for %u layers", path, hp->n_layer);
        goto fail;
    }
    if (!(lm->tok_embd = load_matrix(lm, g, -1, "token_embd.weight", hp->n_vocab, d, err))) goto fail;
    if (!(lm->out_norm = load_vector(lm, g, -1, "output_norm.weight", d, err))) goto fail;
    if (hp->tied_output) lm->output = lm->tok_embd;
    else if (!(lm->output = load_matrix(lm, g, -1, "output.weight", hp->n_vocab, d, err))) goto fail;
    if (load_rope_factors(lm, g, err)) goto fail;
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        lm_layer *L = &lm->layers[l];
        int i = (int)l;
        if (!(L->attn_norm = load_vector(lm, g, i, "attn_norm.weight", d, err)) ||
            !(L->ffn_norm = load_vector(lm, g, i, "ffn_norm.weight", d, err)) ||
            !(L->wo = load_matrix(lm, g, i, "attn_output.weight", d, qd, err)) ||
            !(L->w1 = load_matrix(lm, g, i, "ffn_gate.weight", h, d, err)) ||
            !(L->w2 = load_matrix(lm, g, i, "ffn_down.weight", d, h, err)) ||
            !(L->w3 = load_matrix(lm, g, i, "ffn_up.weight", h, d, err)))
            goto fail;
        if (hp->qkv_bias && (!(L->bq = load_vector(lm, g, i, "attn_q.bias", qd, err)) ||
                             !(L->bk = load_vector(lm, g, i, "attn_k.bias", kv, err)) ||
                             !(L->bv = load_vector(lm, g, i, "attn_v.bias", kv, err))))
            goto fail;
        if (hp->qk_norm && (!(L->q_norm = load_vector(lm, g, i, "attn_q_norm.weight", hd, err)) ||
                            !(L->k_norm = load_vector(lm, g, i, "attn_k_norm.weight", hd, err))))
            goto fail;
        const uint32_t qkv_rows[3] = {qd, kv, kv};
        if (load_qkv(lm, g, i, qkv_rows, d, &L->wqkv, err)) goto fail;
        if (!L->wqkv && (!(L->wq = load_matrix(lm, g, i, "attn_q.weight", qd, d, err)) ||
                         !(L->wk = load_matrix(lm, g, i, "attn_k.weight", kv, d, err)) ||
                         !(L->wv = load_matrix(lm, g, i, "attn_v.weight", kv, d, err))))
            goto fail;
        /* the fused kernel wants its weights in one type */
        L->fused_ffn = upload_type(plume_llama_tensor(g, i, "ffn_gate.weight")) ==
                       upload_type(plume_llama_tensor(g, i, "ffn_up.weight"));
    }
    /* bytes read per decoded token: every layer matrix, the norms and the classifier */
    size_t bytes = plume_gpu_weight_bytes(lm->output) + (size_t)d * 4 * (1 + 2 * hp->n_layer);
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        const lm_layer *L = &lm->layers[l];
        bytes += plume_gpu_weight_bytes(L->wqkv) + plume_gpu_weight_bytes(L->wq) + plume_gpu_weight_bytes(L->wk) +
                 plume_gpu_weight_bytes(L->wv) +
                 plume_gpu_weight_bytes(L->wo) + plume_gpu_weight_bytes(L->w1) + plume_gpu_weight_bytes(L->w2) +
                 plume_gpu_weight_bytes(L->w3);
    }
    lm->info.weight_bytes = bytes;
    lm->info.weight_type = lm->type_name;
    plume_gguf_close(g);
    return 0;
fail:
    plume_gguf_close(g);
    lm_model_free(lm);
    return -1;
}

void lm_model_free(plume_lm *lm) {
    if (lm->layers) {
        for (uint32_t l = 0; l < lm->hp.n_layer; l++) {
            lm_layer *L = &lm->layers[l];
            plume_gpu_buffer_free(L->attn_norm);
            plume_gpu_buffer_free(L->ffn_norm);
            plume_gpu_weight_free(L->wqkv);
            plume_gpu_weight_free(L->wq);
            plume_gpu_weight_free(L->wk);
            plume_gpu_weight_free(L->wv);
            plume_gpu_weight_free(L->wo);
            plume_gpu_weight_free(L->w1);
            plume_gpu_weight_free(L->w2);
            plume_gpu_weight_free(L->w3);
            plume_gpu_buffer *extra[] = { L->bq, L->bk, L->bv, L->q_norm, L->k_norm };
            for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++) plume_gpu_buffer_free(extra[k]);
        }
        free(lm->layers);
        lm->layers = NULL;
    }
    if (lm->output != lm->tok_embd) plume_gpu_weight_free(lm->output);
    plume_gpu_weight_free(lm->tok_embd);
    plume_gpu_buffer_free(lm->out_norm);
    plume_gpu_buffer_free(lm->rope_factors);
    lm->output = lm->tok_embd = NULL;
    lm->out_norm = lm->rope_factors = NULL;
    free(lm->tok_error);
    lm->tok_error = NULL;
    plume_tokenizer_free(lm->tok);
    lm->tok = NULL;
}

/* ---- batches ------------------------------------------------------------------ */

const plume_lm_info *plume_lm_get_info(const plume_lm *lm) {
    return &lm->info;
}

void plume_lm_batch_free(plume_lm_batch *b) {
    if (!b) return;
    lm_gpu_lock();
    if (b->dec)
        for (int i = 0; i <= b->n_seqs; i++) plume_gpu_rec_free(b->dec[i]);
    if (b->dec_draw)
        for (int i = 0; i <= b->n_seqs; i++) plume_gpu_rec_free(b->dec_draw[i]);
    plume_gpu_rec_free(b->pre);
    for (int l = 0; b->kc && l < b->lm->info.n_layers; l++) {
        plume_gpu_buffer_free(b->kc[l]);
        plume_gpu_buffer_free(b->vc[l]);
    }
    plume_gpu_buffer *bufs[] = { b->rows, b->x, b->xb, b->xo, b->q, b->k, b->v, b->att, b->hb, b->hb2,
                                 b->xl, b->logits, b->logits_all, b->amax, b->draws, b->mix };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) plume_gpu_buffer_free(bufs[i]);
    lm_gpu_unlock();
    free(b->kc);
    free(b->vc);
    free(b->dec);
    free(b->dec_draw);
    free(b->len);
    free(b->lineage);
    free(b->lineage_start);
    free(b->rowdata);
    free(b->drawdata);
    free(b->mixdata);
    free(b->pending);
    free(b);
}

plume_lm_batch *plume_lm_batch_create(plume_lm *lm, int n_seqs, int max_len, plume_error *err) {
    return lm_batch_create_rows(lm, n_seqs, max_len, PREFILL_CHUNK, err);
}

plume_lm_batch *lm_batch_create_rows(plume_lm *lm, int n_seqs, int max_len, int prefill_rows, plume_error *err) {
    const plume_lm_info *in = &lm->info;
    if (max_len <= 0) max_len = in->ctx_len;
    if (prefill_rows < PREFILL_CHUNK) prefill_rows = PREFILL_CHUNK;
    if (n_seqs < 1 || n_seqs > 4096 || max_len > in->ctx_len) {
        plume_fail(err, "%s: a batch of %d sequences of %d tokens is out of range (1..4096 sequences, "
                        "at most the context length %d)", lm->path, n_seqs, max_len, in->ctx_len);
        return NULL;
    }
    plume_lm_batch *b = calloc(1, sizeof *b);
    if (!b) goto oom;
    b->lm = lm;
    b->n_seqs = n_seqs;
    b->max_len = max_len;
    b->cap_rows = n_seqs > prefill_rows ? n_seqs : prefill_rows;
    b->len = calloc((size_t)n_seqs, sizeof *b->len);
    b->lineage = calloc((size_t)n_seqs, sizeof *b->lineage);
    b->lineage_start = calloc((size_t)n_seqs, sizeof *b->lineage_start);
    b->kc = calloc((size_t)in->n_layers, sizeof *b->kc);
    b->vc = calloc((size_t)in->n_layers, sizeof *b->vc);
    b->dec = calloc((size_t)n_seqs + 1, sizeof *b->dec);
    b->dec_draw = calloc((size_t)n_seqs + 1, sizeof *b->dec_draw);
    b->rowdata = calloc((size_t)b->cap_rows, sizeof *b->rowdata);
    b->drawdata = calloc((size_t)n_seqs, sizeof *b->drawdata);
    b->mixdata = calloc((size_t)n_seqs, MIX_ROW);
    b->pending = calloc((size_t)n_seqs, MIX_ROW);
    if (!b->len || !b->lineage || !b->lineage_start || !b->kc || !b->vc || !b->dec || !b->dec_draw || !b->rowdata || !b->drawdata || !b->mixdata ||
        !b->pending)
        goto oom;
    for (int s = 0; s < n_seqs; s++) b->lineage[s] = s;
    b->next_lineage = n_seqs;

    const uint64_t kv = (uint64_t)in->head_dim * in->n_kv_heads, R = (uint64_t)b->cap_rows;
    const uint64_t cache = (uint64_t)n_seqs * (uint64_t)max_len * kv * 4;
    lm_gpu_lock();
    plume_gpu *gpu = lm->gpu;
    int ok = 1;
    for (int l = 0; ok && l < in->n_layers; l++) {
        ok = (b->kc[l] = plume_gpu_buffer_create(gpu, cache, PLUME_GPU_BUFFER_DEVICE, err)) &&
             (b->vc[l] = plume_gpu_buffer_create(gpu, cache, PLUME_GPU_BUFFER_DEVICE, err));
    }
    const uint64_t dim = (uint64_t)in->dim, hid = (uint64_t)in->hidden_dim, V = (uint64_t)in->vocab_size,
                   qd = (uint64_t)in->head_dim * in->n_heads;
    int all_fused = 1;
    for (int l = 0; l < in->n_layers; l++) all_fused &= lm->layers[l].fused_ffn;
    ok = ok && (b->rows = plume_gpu_buffer_create(gpu, R * sizeof(plume_gpu_row), PLUME_GPU_BUFFER_HOST, err)) &&
         (b->x = plume_gpu_buffer_create(gpu, R * dim * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->xb = plume_gpu_buffer_create(gpu, R * dim * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->q = plume_gpu_buffer_create(gpu, R * qd * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->att = plume_gpu_buffer_create(gpu, R * qd * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->k = plume_gpu_buffer_create(gpu, R * kv * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->v = plume_gpu_buffer_create(gpu, R * kv * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->hb = plume_gpu_buffer_create(gpu, R * hid * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->xo = plume_gpu_buffer_create(gpu, R * dim * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->hb2 = plume_gpu_buffer_create(gpu, all_fused ? 16 : R * hid * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->xl = plume_gpu_buffer_create(gpu, dim * 4, PLUME_GPU_BUFFER_DEVICE, err)) &&
         (b->logits = plume_gpu_buffer_create(gpu, (uint64_t)n_seqs * V * 4, PLUME_GPU_BUFFER_HOST, err)) &&
         (b->amax = plume_gpu_buffer_create(gpu, (uint64_t)n_seqs * 4, PLUME_GPU_BUFFER_HOST, err)) &&
         (b->draws = plume_gpu_buffer_create(gpu, (uint64_t)n_seqs * sizeof(plume_gpu_draw), PLUME_GPU_BUFFER_HOST,
                                             err)) &&
         (b->mix = plume_gpu_buffer_create(gpu, (uint64_t)n_seqs * MIX_ROW, PLUME_GPU_BUFFER_HOST, err));
    lm_gpu_unlock();
    if (!ok) {
        plume_fail_prefix(err, "%s: a batch of %d sequences x %d tokens: ", lm->path, n_seqs, max_len);
        plume_lm_batch_free(b);
        return NULL;
    }
    return b;
oom:
    plume_lm_batch_free(b);
    plume_fail(err, "%s: out of memory for a batch of %d sequences", lm->path, n_seqs);
    return NULL;
}

int plume_lm_batch_size(const plume_lm_batch *b) {
    return b->n_seqs;
}

int plume_lm_batch_len(const plume_lm_batch *b, int seq) {
    return seq >= 0 && seq < b->n_seqs ? b->len[seq] : -1;
}

void plume_lm_batch_reset(plume_lm_batch *b, int seq) {
    if (seq < 0 || seq >= b->n_seqs) return;
    b->len[seq] = 0;
    b->lineage[seq] = b->next_lineage++;   /* int: 2^31 resets of one batch before it wraps */
    b->lineage_start[seq] = 0;
}

/* ---- recording the forward pass ------------------------------------------------ */

/* Every layer, then the final norm: afterwards xb holds the normalised final state of
 * every row. The residual add is fused with the norm that follows it, and both with the
 * product before them when decoding (one dispatch: the gpu layer chooses by n), and the
 * gate and up projections with silu(gate)*up, where the gpu layer offers that. */
static int record_layers(plume_lm_batch *b, plume_gpu_rec *rec, uint32_t n, int decode, plume_error *err) {
    const plume_lm *lm = b->lm;
    const plume_lm_info *in = &lm->info;
    const uint32_t dim = (uint32_t)in->dim;
    const uint32_t H = (uint32_t)in->n_heads, KH = (uint32_t)in->n_kv_heads, hd = (uint32_t)in->head_dim;
    const uint32_t ctx = (uint32_t)b->max_len, hid = (uint32_t)in->hidden_dim;
    const float eps = lm->hp.rms_eps, theta = lm->hp.rope_freq_base;
    const int neox = lm->hp.rope_style == PLUME_ROPE_NEOX;
    if (plume_gpu_embed(rec, lm->tok_embd, b->rows, b->x, n, err) ||
        plume_gpu_rmsnorm(rec, b->x, lm->layers[0].attn_norm, b->xb, n, dim, eps, err))
        return -1;
    for (int l = 0; l < in->n_layers; l++) {
        const lm_layer *L = &lm->layers[l];
        /* the norm after this layer: the next layer's attention norm, or the final one */
        plume_gpu_buffer *next_norm = l + 1 < in->n_layers ? lm->layers[l + 1].attn_norm : lm->out_norm;
        int rc = L->wqkv ? plume_gpu_matmul_stacked(rec, L->wqkv, H * hd, KH * hd, b->xb, b->q, b->k, b->v, n, err)
                         : plume_gpu_matmul(rec, L->wq, b->xb, b->q, n, err) ||
                                    plume_gpu_matmul(rec, L->wk, b->xb, b->k, n, err) ||
                                    plume_gpu_matmul(rec, L->wv, b->xb, b->v, n, err);
        /* qwen2's biases, then qwen3's per-head norms, both before rope (as llama.cpp) */
        if (L->bq)
            rc = rc || plume_gpu_add_bias(rec, b->q, L->bq, n, H * hd, err) ||
                 plume_gpu_add_bias(rec, b->k, L->bk, n, KH * hd, err) ||
                 plume_gpu_add_bias(rec, b->v, L->bv, n, KH * hd, err);
        if (L->q_norm)
            rc = rc || plume_gpu_rmsnorm(rec, b->q, L->q_norm, b->q, n * H, hd, eps, err) ||
                 plume_gpu_rmsnorm(rec, b->k, L->k_norm, b->k, n * KH, hd, eps, err);
        /* Decoding (one row per sequence): rope and the cache store inside the attention,
         * one dispatch; a prompt's rows of one sequence need the two ops. */
        if (decode)
            rc = rc || plume_gpu_rope_attention(rec, b->q, b->k, b->v, b->rows, b->kc[l], b->vc[l], b->att, n, H, KH, hd,
                                                ctx, theta, neox, lm->rope_factors, err);
        else
            rc = rc ||
                 plume_gpu_rope_kv_store(rec, b->q, b->k, b->v, b->rows, b->kc[l], b->vc[l], n, H, KH, hd, ctx, theta,
                                         neox, lm->rope_factors, err) ||
                 plume_gpu_attention(rec, b->q, b->kc[l], b->vc[l], b->rows, b->att, n, H, KH, hd, ctx, err);
        rc = rc ||
             plume_gpu_matmul_add_rmsnorm(rec, L->wo, b->att, b->xo, b->x, L->ffn_norm, b->xb, n, eps, err);
        rc = rc || (L->fused_ffn ? plume_gpu_matmul_swiglu(rec, L->w1, L->w3, b->xb, b->hb, n, err)
                                 : plume_gpu_matmul(rec, L->w1, b->xb, b->hb, n, err) ||
                                       plume_gpu_matmul(rec, L->w3, b->xb, b->hb2, n, err) ||
                                       plume_gpu_silu_mul(rec, b->hb, b->hb2, b->hb, n * hid, err));
        rc = rc || plume_gpu_matmul_add_rmsnorm(rec, L->w2, b->hb, b->xo, b->x, next_norm, b->xb, n, eps, err);
        if (rc)
            return plume_fail_prefix(err, "layer %d: ", l);
    }
    return 0;
}

/* Decode: all n rows go through the classifier, then the argmax or the draw (by b->draws). */
static plume_gpu_rec *record_decode(plume_lm_batch *b, uint32_t n, int draw, plume_error *err) {
    const plume_lm *lm = b->lm;
    const uint32_t V = (uint32_t)lm->info.vocab_size;
    plume_gpu_rec *rec = plume_gpu_rec_begin(lm->gpu, err);
    if (!rec) return NULL;
    if (record_layers(b, rec, n, 1, err) ||
        plume_gpu_matmul(rec, lm->output, b->xb, b->logits, n, err) ||
        plume_gpu_mix(rec, b->logits, b->mix, n, V, PLUME_MIX_MAX, err) ||
        (draw ? plume_gpu_sample(rec, b->logits, b->draws, b->amax, n, V, err)
              : plume_gpu_argmax(rec, b->logits, b->amax, n, V, err)) ||
        plume_gpu_rec_end(rec, err)) {
        plume_gpu_rec_free(rec);
        return NULL;
    }
    return rec;
}

/* Prefill: the classifier only for the last row (PRE_LOGITS), for every row (PRE_ALL, into
 * logits_all), or nothing more (PRE_HIDDEN leaves every row's final state in xb for the
 * caller; PRE_NONE is a chunk before the last). */
static plume_gpu_rec *record_prefill(plume_lm_batch *b, uint32_t n, int mode, plume_error *err) {
    const plume_lm *lm = b->lm;
    const uint32_t dim = (uint32_t)lm->info.dim;
    plume_gpu_rec *rec = plume_gpu_rec_begin(lm->gpu, err);
    if (!rec) return NULL;
    int rc = record_layers(b, rec, n, 0, err);
    if (!rc && mode == PRE_LOGITS) {
        rc = plume_gpu_rec_copy(rec, b->xb, (uint64_t)(n - 1) * dim * 4, b->xl, 0, (uint64_t)dim * 4, err);
        plume_gpu_rec_barrier(rec);
        rc = rc || plume_gpu_matmul(rec, lm->output, b->xl, b->logits, 1, err) ||
             plume_gpu_mix(rec, b->logits, b->mix, 1, (uint32_t)lm->info.vocab_size, PLUME_MIX_MAX, err) ||
             plume_gpu_argmax(rec, b->logits, b->amax, 1, (uint32_t)lm->info.vocab_size, err);
    }
    if (!rc && mode == PRE_ALL) rc = plume_gpu_matmul(rec, lm->output, b->xb, b->logits_all, n, err);
    if (rc || plume_gpu_rec_end(rec, err)) {
        plume_gpu_rec_free(rec);
        return NULL;
    }
    return rec;
}

static int upload_rows(plume_lm_batch *b, int n, plume_error *err) {
    return plume_gpu_upload(b->rows, 0, b->rowdata, (uint64_t)n * sizeof *b->rowdata, err);
}

/* Row i of the mix buffer takes sequence seqs[i]'s pending mixture, which is then used up. */
static int upload_mix(plume_lm_batch *b, int n, const int *seqs, plume_error *err) {
    for (int i = 0; i < n; i++) {
        unsigned char *pend = b->pending + (size_t)seqs[i] * MIX_ROW;
        memcpy(b->mixdata + (size_t)i * MIX_ROW, pend, MIX_ROW);
        ((plume_gpu_mix_head *)pend)->count = 0;
    }
    return plume_gpu_upload(b->mix, 0, b->mixdata, (uint64_t)n * MIX_ROW, err);
}

int plume_lm_batch_set_mix(plume_lm_batch *b, int seq, const plume_mix *mix, plume_error *err) {
    const plume_lm *lm = b->lm;
    if (seq < 0 || seq >= b->n_seqs)
        return plume_fail(err, "%s: sequence %d does not exist (the batch has %d)", lm->path, seq, b->n_seqs);
    plume_gpu_mix_head *h = (plume_gpu_mix_head *)(b->pending + (size_t)seq * MIX_ROW);
    plume_gpu_mix_entry *e = (plume_gpu_mix_entry *)(h + 1);
    h->count = 0;
    if (!mix || mix->n == 0 || mix->weight == 0) return 0;
    if (mix->n < 0 || mix->n > PLUME_MIX_MAX || !(mix->weight > 0 && mix->weight < 1))
        return plume_fail(err, "%s: a mix of %d tokens with weight %g is out of range (1..%d tokens, weight in "
                               "[0, 1))", lm->path, mix->n, mix->weight, PLUME_MIX_MAX);
    double total = 0;
    for (int i = 0; i < mix->n; i++) {
        int32_t t = mix->tokens[i];
        float q = mix->probs[i];
        if (t < 0 || t >= lm->info.vocab_size || !(q > 0) || !isfinite(q))
            return plume_fail(err, "%s: mix entry %d (token %d, probability %g) is out of range (a token of the "
                                   "vocabulary of %d, a positive probability)", lm->path, i, t, q,
                              lm->info.vocab_size);
        for (int j = 0; j < i; j++)
            if (mix->tokens[j] == t) return plume_fail(err, "%s: mix names token %d twice", lm->path, t);
        total += q;
    }
    for (int i = 0; i < mix->n; i++) e[i] = (plume_gpu_mix_entry){ (uint32_t)mix->tokens[i], (float)(mix->probs[i] / total) };
    h->weight = mix->weight;
    h->count = (uint32_t)mix->n;
    return 0;
}

static int check_tokens(const plume_lm_batch *b, const int32_t *tokens, int n, plume_error *err) {
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= b->lm->info.vocab_size)
            return plume_fail(err, "%s: token %d (at %d) is outside the vocabulary of %d", b->lm->path,
                              tokens[i], i, b->lm->info.vocab_size);
    return 0;
}

/* Runs tokens through sequence seq in chunks; the last chunk in mode `last_mode`
 * (PRE_LOGITS or PRE_NONE).
 * Called with the gpu lock held. */
static int prefill_locked(plume_lm_batch *b, int seq, const int32_t *tokens, int n, int last_mode,
                          float *logits, plume_error *err) {
    const plume_lm_info *in = &b->lm->info;
    for (int done = 0; done < n;) {
        int m = n - done < PREFILL_CHUNK ? n - done : PREFILL_CHUNK;
        int mode = done + m == n ? last_mode : PRE_NONE;
        for (int i = 0; i < m; i++)
            b->rowdata[i] = (plume_gpu_row){ (uint32_t)tokens[done + i], (uint32_t)(b->len[seq] + i),
                                             (uint32_t)seq, 0 };
        if (!b->pre || b->pre_n != m || b->pre_mode != mode) {
            plume_gpu_rec_free(b->pre);
            b->pre = record_prefill(b, (uint32_t)m, mode, err);
            if (!b->pre) return -1;
            b->pre_n = m;
            b->pre_mode = mode;
        }
        if (upload_rows(b, m, err) || (mode == PRE_LOGITS && upload_mix(b, 1, &seq, err)) ||
            plume_gpu_rec_submit(b->pre, err))
            return -1;
        b->len[seq] += m;
        done += m;
    }
    if (logits && last_mode == PRE_LOGITS &&
        plume_gpu_download(b->logits, 0, logits, (uint64_t)in->vocab_size * 4, err))
        return -1;
    return 0;
}

static int check_room(const plume_lm_batch *b, int seq, int n, plume_error *err) {
    if (seq < 0 || seq >= b->n_seqs)
        return plume_fail(err, "%s: sequence %d does not exist (the batch has %d)", b->lm->path, seq, b->n_seqs);
    if (n > b->max_len - b->len[seq])
        return plume_fail(err, "%s: sequence %d holds %d tokens; %d more exceed its length %d; hint: a "
                               "shorter prompt or fewer new tokens",
                          b->lm->path, seq, b->len[seq], n, b->max_len);
    return 0;
}

int plume_lm_prefill(plume_lm_batch *b, int seq, const int32_t *tokens, int n, float *logits, plume_error *err) {
    if (n < 1) return plume_fail(err, "%s: prefill of %d tokens: nothing to do", b->lm->path, n);
    if (check_room(b, seq, n, err) || check_tokens(b, tokens, n, err)) return -1;
    lm_gpu_lock();
    int rc = prefill_locked(b, seq, tokens, n, logits ? PRE_LOGITS : PRE_NONE, logits, err);
    lm_gpu_unlock();
    return rc;
}

int plume_lm_prefill_all(plume_lm_batch *b, int seq, const int32_t *tokens, int n, float *logits, plume_error *err) {
    const uint64_t V = (uint64_t)b->lm->info.vocab_size;
    if (n < 1) return plume_fail(err, "%s: prefill of %d tokens: nothing to do", b->lm->path, n);
    if (!logits) return plume_fail(err, "%s: prefill_all needs a logits array", b->lm->path);
    if (check_room(b, seq, n, err) || check_tokens(b, tokens, n, err)) return -1;
    lm_gpu_lock();
    int rc = 0;
    if (!b->logits_all &&
        !(b->logits_all = plume_gpu_buffer_create(b->lm->gpu, (uint64_t)b->cap_rows * V * 4, PLUME_GPU_BUFFER_HOST, err)))
        rc = plume_fail_prefix(err, "%s: logits for %d rows: ", b->lm->path, b->cap_rows);
    for (int done = 0; !rc && done < n;) {
        int m = n - done < PREFILL_CHUNK ? n - done : PREFILL_CHUNK;
        rc = prefill_locked(b, seq, tokens + done, m, PRE_ALL, NULL, err) ||
             plume_gpu_download(b->logits_all, 0, logits + (size_t)done * V, (uint64_t)m * V * 4, err);
        done += m;
    }
    lm_gpu_unlock();
    return rc;
}

int lm_prefill_pooled(plume_lm_batch *b, int n, const int *seqs, const int32_t *const *tokens, const int *lens,
                      double *sums, int *submits, plume_error *err) {
    const int D = b->lm->info.dim;
    for (int i = 0; i < n; i++) {
        if (check_room(b, seqs[i], lens[i], err) || check_tokens(b, tokens[i], lens[i], err)) return -1;
        for (int j = 0; j < i; j++)
            if (seqs[j] == seqs[i])
                return plume_fail(err, "%s: pooled prefill names sequence %d twice", b->lm->path, seqs[i]);
    }
    const int chunk = b->cap_rows;  /* as many rows per submit as the activation buffers hold */
    float *h = malloc((size_t)chunk * D * sizeof *h);
    int *owner = malloc((size_t)chunk * sizeof *owner);
    if (!h || !owner) {
        free(h);
        free(owner);
        return plume_fail(err, "%s: out of memory for pooled prefill", b->lm->path);
    }
    lm_gpu_lock();
    int rc = 0, i = 0, off = 0;
    while (!rc && i < n) {
        /* fill one submit with rows of as many sequences as fit, each in order */
        int m = 0;
        while (m < chunk && i < n) {
            int take = lens[i] - off < chunk - m ? lens[i] - off : chunk - m;
            for (int k = 0; k < take; k++) {
                b->rowdata[m + k] = (plume_gpu_row){ (uint32_t)tokens[i][off + k],
                                                     (uint32_t)(b->len[seqs[i]] + off + k), (uint32_t)seqs[i], 0 };
                owner[m + k] = i;
            }
            m += take;
            off += take;
            if (off == lens[i]) {
                i++;
                off = 0;
            }
        }
        if (m == 0) break;
        if (!b->pre || b->pre_n != m || b->pre_mode != PRE_HIDDEN) {
            plume_gpu_rec_free(b->pre);
            b->pre = record_prefill(b, (uint32_t)m, PRE_HIDDEN, err);
            b->pre_n = m;
            b->pre_mode = PRE_HIDDEN;
            if (!b->pre) rc = -1;
        }
        rc = rc || upload_rows(b, m, err) || plume_gpu_rec_submit(b->pre, err) ||
             plume_gpu_download(b->xb, 0, h, (uint64_t)m * D * 4, err);
        if (!rc && submits) ++*submits;
        for (int r = 0; !rc && r < m; r++)
            for (int j = 0; j < D; j++) sums[(size_t)owner[r] * D + j] += h[(size_t)r * D + j];
    }
    lm_gpu_unlock();
    if (!rc)
        for (int k = 0; k < n; k++) b->len[seqs[k]] += lens[k];
    free(h);
    free(owner);
    return rc;
}

/* One decode step; the next tokens (argmax, or drawn by draws) into next where it is not
 * NULL. */
static int decode(plume_lm_batch *b, int n, const int *seqs, const int32_t *tokens, const plume_draw *draws,
                  float *logits, int32_t *next, plume_error *err) {
    if (n < 1 || n > b->n_seqs)
        return plume_fail(err, "%s: decode of %d sequences in a batch of %d", b->lm->path, n, b->n_seqs);
    if (check_tokens(b, tokens, n, err)) return -1;
    for (int i = 0; i < n; i++) {
        if (check_room(b, seqs[i], 1, err)) return -1;
        for (int j = 0; j < i; j++)
            if (seqs[j] == seqs[i])
                return plume_fail(err, "%s: decode names sequence %d twice", b->lm->path, seqs[i]);
        b->rowdata[i] = (plume_gpu_row){ (uint32_t)tokens[i], (uint32_t)b->len[seqs[i]], (uint32_t)seqs[i], 0 };
    }
    plume_gpu_draw *gd = b->drawdata;
    for (int i = 0; draws && i < n; i++) {
        const plume_draw *d = &draws[i];
        if (!(d->inv_temperature > 0 && isfinite(d->inv_temperature)) || d->top_k < 1 ||
            d->top_k > PLUME_DRAW_TOP_K_MAX || !(d->r >= 0 && d->r < 1) || isnan(d->top_p))
            return plume_fail(err, "%s: draw %d (sequence %d) is out of range: inverse temperature %g, top_k %d "
                                   "(1..%d), top_p %g, r %g (0..1); hint: take it from plume_sampler_draw",
                              b->lm->path, i, seqs[i], d->inv_temperature, d->top_k, PLUME_DRAW_TOP_K_MAX,
                              d->top_p, d->r);
        gd[i] = (plume_gpu_draw){ d->inv_temperature, (uint32_t)d->top_k, d->top_p, d->r };
    }
    plume_gpu_rec **recs = draws ? b->dec_draw : b->dec;
    lm_gpu_lock();
    int rc = 0;
    if (!recs[n] && !(recs[n] = record_decode(b, (uint32_t)n, draws != NULL, err))) rc = -1;
    rc = rc || upload_rows(b, n, err) || upload_mix(b, n, seqs, err) ||
         (draws && plume_gpu_upload(b->draws, 0, gd, (uint64_t)n * sizeof *gd, err)) ||
         plume_gpu_rec_submit(recs[n], err);
    if (!rc && logits)
        rc = plume_gpu_download(b->logits, 0, logits, (uint64_t)n * b->lm->info.vocab_size * 4, err);
    if (!rc && next) rc = plume_gpu_download(b->amax, 0, next, (uint64_t)n * 4, err);
    lm_gpu_unlock();
    if (rc) return -1;
    for (int i = 0; i < n; i++) b->len[seqs[i]]++;
    return 0;
}

int plume_lm_decode(plume_lm_batch *b, int n, const int *seqs, const int32_t *tokens, float *logits,
                    int32_t *argmax, plume_error *err) {
    return decode(b, n, seqs, tokens, NULL, logits, argmax, err);
}

int plume_lm_decode_draw(plume_lm_batch *b, int n, const int *seqs, const int32_t *tokens, const plume_draw *draws,
                         int32_t *next, plume_error *err) {
    if (!draws || !next) return plume_fail(err, "%s: decode_draw needs draws and next", b->lm->path);
    return decode(b, n, seqs, tokens, draws, NULL, next, err);
}

int lm_batch_copy_many(plume_lm_batch *b, int n, const int *dst, const int *src, plume_error *err) {
    const plume_lm_info *in = &b->lm->info;
    for (int i = 0; i < n; i++) {
        if (dst[i] < 0 || dst[i] >= b->n_seqs || src[i] < 0 || src[i] >= b->n_seqs)
            return plume_fail(err, "%s: copy of sequence %d onto %d in a batch of %d", b->lm->path, src[i], dst[i],
                              b->n_seqs);
        for (int j = 0; j < n; j++)  /* all copies run at once: none may read what another writes */
            if (dst[i] == src[j] && i != j)
                return plume_fail(err, "%s: sequence %d is both copied from and onto in one step", b->lm->path,
                                  dst[i]);
    }
    const uint64_t row = (uint64_t)in->head_dim * in->n_kv_heads * 4, span = (uint64_t)b->max_len * row;
    int copies = 0;
    for (int i = 0; i < n; i++) copies += dst[i] != src[i] && b->len[src[i]] > 0;
    if (copies) {
        lm_gpu_lock();
        plume_gpu_rec *rec = plume_gpu_rec_begin(b->lm->gpu, err);
        int rc = rec ? 0 : -1;
        for (int i = 0; !rc && i < n; i++) {
            /* within a lineage the first lineage_start rows are there already (a beam's prompt) */
            const uint64_t skip = b->lineage[dst[i]] == b->lineage[src[i]] ? (uint64_t)b->lineage_start[src[i]] : 0;
            const uint64_t from = (uint64_t)src[i] * span + skip * row, to = (uint64_t)dst[i] * span + skip * row,
                           bytes = ((uint64_t)b->len[src[i]] - skip) * row;
            if (dst[i] == src[i] || bytes == 0) continue;
            for (int l = 0; !rc && l < in->n_layers; l++)
                rc = plume_gpu_rec_copy(rec, b->kc[l], from, b->kc[l], to, bytes, err) ||
                     plume_gpu_rec_copy(rec, b->vc[l], from, b->vc[l], to, bytes, err);
        }
        if (rec) plume_gpu_rec_barrier(rec);
        rc = rc || plume_gpu_rec_end(rec, err) || plume_gpu_rec_submit(rec, err);
        plume_gpu_rec_free(rec);
        lm_gpu_unlock();
        if (rc) return plume_fail_prefix(err, "%s: copying KV caches between sequences: ", b->lm->path);
    }
    for (int i = 0; i < n; i++) {
        int d = dst[i], s = src[i];
        if (d == s) continue;
        b->len[d] = b->len[s];
        if (b->len[s] == 0) {   /* nothing copied: a fresh start */
            b->lineage[d] = b->next_lineage++;
            b->lineage_start[d] = 0;
            continue;
        }
        /* The first copy out of a sequence fixes its lineage's shared start at its length then:
         * later rows are written per sequence, the ones before never again. */
        if (b->lineage_start[s] == 0) b->lineage_start[s] = b->len[s];
        b->lineage[d] = b->lineage[s];
        b->lineage_start[d] = b->lineage_start[s];
    }
    return 0;
}

int plume_lm_batch_copy(plume_lm_batch *b, int dst, int src, plume_error *err) {
    return lm_batch_copy_many(b, 1, &dst, &src, err);
}
