/* A plain-C reference llama forward pass, for tests only: one token at a time,
 * float weights, double accumulation in the dot products. The product runs the
 * model on the GPU (engine/lm/model.c); this is what its logits are checked against.
 * Written from the llama architecture itself (the order of operations of
 * llama2.c's run.c: RMSNorm, RoPE, causal grouped-query attention, SwiGLU), with the
 * variants of llama.cpp's llama, qwen2 and qwen3 graphs: q/k/v biases after the projections,
 * an RMS norm over each q and k head before RoPE, a head size apart from dim / n_heads, and
 * per-pair RoPE frequency multipliers. */
#ifndef PLUME_TEST_REF_FORWARD_H
#define PLUME_TEST_REF_FORWARD_H
#include <stddef.h>
#include <stdint.h>

typedef struct ref_model {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab, seq_len;
    float rope_base, norm_eps;
    int rope_neox;            /* 0: rotate pairs (2i, 2i+1); 1: pairs (i, i + head_dim/2) */
    int head_dim;             /* 0 before ref_alloc: dim / n_heads */
    int has_bias, has_qk_norm, has_factors;   /* which of the optional tensors below are used */
    /* row-major W[out][in], layers stacked; q_dim = n_heads * head_dim */
    float *tok_embd;          /* [vocab][dim] */
    float *attn_norm;         /* [L][dim] */
    float *wq, *wk, *wv, *wo; /* [L][q_dim][dim], [L][kv_dim][dim] x2, [L][dim][q_dim] */
    float *bq, *bk, *bv;      /* [L][q_dim], [L][kv_dim] x2 (has_bias) */
    float *q_norm, *k_norm;   /* [L][head_dim] (has_qk_norm) */
    float *rope_factors;      /* [head_dim / 2]: pair i's frequency multiplier (has_factors) */
    float *ffn_norm;          /* [L][dim] */
    float *w1, *w2, *w3;      /* gate [L][hidden][dim], down [L][dim][hidden], up [L][hidden][dim] */
    float *out_norm;          /* [dim] */
    float *wcls;              /* [vocab][dim]; == tok_embd when tied */
    float *owned;             /* one allocation holding everything above */
} ref_model;

typedef struct ref_state {
    float *x, *xb, *xb2, *hb, *hb2, *q, *att, *logits;
    float *key_cache, *value_cache;  /* [L][seq_len][kv_dim] */
    float *hidden;                   /* the final RMS-normalised state [dim] */
} ref_state;

/* Reads a llama2.c legacy checkpoint (7-int header, float32 weights). 0 or -1. */
int ref_load_llama2c(ref_model *m, const char *path);
/* Allocates m->owned for the given shape (head_dim 0 becomes dim / n_heads) and points the
 * tensors into it, the optional ones too (tied: wcls = tok_embd). 0 or -1. */
int ref_alloc(ref_model *m, int tied);
void ref_free(ref_model *m);
int ref_state_alloc(ref_state *s, const ref_model *m);
void ref_state_free(ref_state *s);
/* Logits of the token after `token` at position pos (positions 0..pos-1 cached). */
float *ref_forward(const ref_model *m, ref_state *s, int token, int pos);

/* llama2.c tokenizer (tok512.bin): the piece of a token, for decoding tests. */
typedef struct ref_vocab {
    int n;
    char **pieces;
    float *scores;
} ref_vocab;
int ref_vocab_load(ref_vocab *v, const char *path, int n);
void ref_vocab_free(ref_vocab *v);
/* Appends the text of `token` (following `prev`) to buf (of size cap), as run.c does. */
void ref_vocab_append(const ref_vocab *v, int prev, int token, char *buf, size_t cap);
/* llama2.c's encode: BOS, the dummy-prefix space, one token per UTF-8 character (byte
 * tokens, id = byte + 3, where none exists), then merging the best-scoring adjacent pair
 * until none merges. Returns the count written to out; out needs room for one token per
 * character (before the merges), else the text is cut. */
int ref_vocab_encode(const ref_vocab *v, const char *text, int32_t *out, int max);

/* Reads a llama GGUF (any supported tensor type, dequantized to F32) with the gguf
 * layer's reader: the reference over exactly the weights the device gets. */
int ref_load_gguf(ref_model *m, const char *path);

#endif
