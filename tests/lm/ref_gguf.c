/* The reference model from a GGUF file, every tensor dequantized to F32. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/gguf.h"
#include "ref_forward.h"

static int get(const plume_gguf *g, int layer, const char *suffix, float *dst, size_t n) {
    const plume_gguf_tensor *t = plume_llama_tensor(g, layer, suffix);
    plume_error err;
    if (!t || t->n_elements != n) return -1;
    return plume_ggml_to_f32(t->type, t->data, dst, n, &err);
}

int ref_load_gguf(ref_model *m, const char *path) {
    plume_gguf *g = NULL;
    plume_llama_hparams hp;
    plume_error err;
    if (plume_gguf_open(&g, path, &err) || plume_llama_read_hparams(g, &hp, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        plume_gguf_close(g);
        return -1;
    }
    memset(m, 0, sizeof *m);
    m->dim = (int)hp.n_embd;
    m->hidden_dim = (int)hp.n_ff;
    m->n_layers = (int)hp.n_layer;
    m->n_heads = (int)hp.n_head;
    m->n_kv_heads = (int)hp.n_head_kv;
    m->vocab = (int)hp.n_vocab;
    m->seq_len = (int)hp.n_ctx;
    m->rope_base = hp.rope_freq_base;
    m->norm_eps = hp.rms_eps;
    m->rope_neox = hp.rope_style == PLUME_ROPE_NEOX;
    m->head_dim = (int)hp.head_dim;
    m->has_bias = hp.qkv_bias;
    m->has_qk_norm = hp.qk_norm;
    m->has_factors = hp.rope_freqs || hp.rope_freq_scale != 1.0f;
    int rc = -1;
    if (ref_alloc(m, hp.tied_output)) goto out;
    const size_t d = (size_t)m->dim, h = (size_t)m->hidden_dim, hs = (size_t)m->head_dim;
    const size_t kv = hs * (size_t)m->n_kv_heads, qd = hs * (size_t)m->n_heads;
    for (size_t i = 0; i < hs / 2; i++) m->rope_factors[i] = hp.rope_freq_scale;
    if (hp.rope_freqs) {
        float ff[512];
        if (hs / 2 > 512 || get(g, -1, "rope_freqs.weight", ff, hs / 2)) goto out;
        for (size_t i = 0; i < hs / 2; i++) m->rope_factors[i] /= ff[i];
    }
    if (get(g, -1, "token_embd.weight", m->tok_embd, (size_t)m->vocab * d) ||
        get(g, -1, "output_norm.weight", m->out_norm, d) ||
        (!hp.tied_output && get(g, -1, "output.weight", m->wcls, (size_t)m->vocab * d)))
        goto out;
    for (int l = 0; l < m->n_layers; l++) {
        if (get(g, l, "attn_norm.weight", m->attn_norm + l * d, d) ||
            get(g, l, "ffn_norm.weight", m->ffn_norm + l * d, d) ||
            get(g, l, "attn_q.weight", m->wq + l * qd * d, qd * d) ||
            get(g, l, "attn_k.weight", m->wk + l * kv * d, kv * d) ||
            get(g, l, "attn_v.weight", m->wv + l * kv * d, kv * d) ||
            get(g, l, "attn_output.weight", m->wo + l * d * qd, d * qd) ||
            (m->has_bias && (get(g, l, "attn_q.bias", m->bq + l * qd, qd) ||
                             get(g, l, "attn_k.bias", m->bk + l * kv, kv) ||
                             get(g, l, "attn_v.bias", m->bv + l * kv, kv))) ||
            (m->has_qk_norm && (get(g, l, "attn_q_norm.weight", m->q_norm + l * hs, hs) ||
                                get(g, l, "attn_k_norm.weight", m->k_norm + l * hs, hs))) ||
            get(g, l, "ffn_gate.weight", m->w1 + l * h * d, h * d) ||
            get(g, l, "ffn_down.weight", m->w2 + l * d * h, d * h) ||
            get(g, l, "ffn_up.weight", m->w3 + l * h * d, h * d))
            goto out;
    }
    rc = 0;
out:
    if (rc) ref_free(m);
    plume_gguf_close(g);
    return rc;
}
