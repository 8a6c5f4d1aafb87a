/* The language model inside libplume: the loaded weights (struct plume_lm) and the
 * device-side state of a batch of sequences (struct plume_lm_batch).
 * model.c loads a llama GGUF onto the device and records the forward pass;
 * lm.c shares models by path and builds generation and embeddings on top. */
#ifndef PLUME_LM_MODEL_H
#define PLUME_LM_MODEL_H

#include <stdatomic.h>
#include "plume/gpu.h"
#include "plume/lm.h"
#include "plume/gguf.h"
#include "plume/tokenizer.h"

typedef struct lm_layer {
    plume_gpu_buffer *attn_norm, *ffn_norm;   /* F32 [dim] */
    plume_gpu_weight *wq, *wk, *wv, *wo;      /* [dim][dim], [kv][dim] x2, [dim][dim] */
    plume_gpu_weight *w1, *w2, *w3;           /* gate [hidden][dim], down [dim][hidden], up [hidden][dim] */
    plume_gpu_weight *wqkv;                   /* q, k, v stacked (one type): else wq, wk, wv */
    int fused_ffn;                            /* gate/up share a type: one fused dispatch */
    plume_gpu_buffer *bq, *bk, *bv;           /* q/k/v biases (qwen2, some llama files), else NULL */
    plume_gpu_buffer *q_norm, *k_norm;        /* per-head RMS norm weights [head_dim] (qwen3), else NULL */
} lm_layer;

struct plume_lm {
    char *path;                 /* realpath, the cache key */
    int refs;                   /* guarded by lm.c's registry lock */
    struct plume_lm *next;
    plume_gpu *gpu;             /* the process's device (lm.c owns it) */
    plume_llama_hparams hp;
    plume_lm_info info;
    plume_tokenizer *tok;       /* NULL when the file has no tokenizer.ggml.* metadata */
    plume_gpu_weight *tok_embd; /* [vocab][dim] */
    plume_gpu_weight *output;   /* [vocab][dim]; == tok_embd when tied */
    plume_gpu_buffer *out_norm; /* F32 [dim] */
    plume_gpu_buffer *rope_factors; /* F32 [head_dim/2]: each pair's frequency multiplier, or NULL */
    char *tok_error;            /* why the file's tokenizer could not be used (text is refused), or NULL */
    lm_layer *layers;
    char type_name[8];
    /* embeddings (embed.c, embed_cache.c, embed_cache_file.c) */
    struct lm_embed_cache *embed_cache;
    atomic_ullong embed_added;  /* entries stored since the cache file was read */
    char *embed_file;           /* the file plume_lm_embed_cache_attach bound, or NULL */
    int embed_file_users;       /* attaches not yet detached */
    uint64_t model_id, model_bytes;  /* the GGUF file's hash and size (0, 0: not computed yet) */
};

/* Loads PATH's weights and tokenizer onto lm->gpu (which the caller has set). On failure
 * everything loaded so far is freed and err names the file and the tensor. */
int lm_model_build(plume_lm *lm, const char *path, plume_error *err);
void lm_model_free(plume_lm *lm);

/* plume_lm_batch_create with activation buffers for prefill_rows rows per submit (at least
 * the usual prefill chunk): embeddings pack many texts into few, large submits. */
plume_lm_batch *lm_batch_create_rows(plume_lm *lm, int n_seqs, int max_len, int prefill_rows, plume_error *err);

/* Prefill of several sequences at once, for embeddings: the tokens of sequences seqs[i]
 * (i < n, lens[i] each) go through in shared submits of as many rows as the batch was made
 * for, rows of different sequences side by side, and each token's final RMS-normalised
 * hidden state is added to sums[i*dim ..]. Adds the number of submits to *submits (if not NULL). */
int lm_prefill_pooled(plume_lm_batch *b, int n, const int *seqs, const int32_t *const *tokens, const int *lens,
                      double *sums, int *submits, plume_error *err);

/* Makes sequence dst[i] a copy of src[i] for i < n, in one submit. No sequence may be
 * both a source and a destination (beam search's forks never are). */
int lm_batch_copy_many(plume_lm_batch *b, int n, const int *dst, const int *src, plume_error *err);

/* Fails with why the model has no usable tokenizer (none in the file, or one plume does not
 * implement): text cannot be turned into tokens. Returns -1. */
int lm_no_tokenizer(const plume_lm *lm, plume_error *err);

/* One device, one thread at a time: every use of lm->gpu holds this lock. */
void lm_gpu_lock(void);
void lm_gpu_unlock(void);

#endif
