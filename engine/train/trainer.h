/* The trainer's private structures, shared by the files of engine/train. */
#ifndef PLUME_TRAINER_H
#define PLUME_TRAINER_H

#include "plume/gpu.h"
#include "plume/train.h"
#include "train_ops.h"

/* One trained tensor: weights, gradient, AdamW's moments, and the squared-norm
 * partials of its gradient (host-visible). */
typedef struct tparam {
    char name[64];
    uint32_t rows, cols;
    uint32_t count;
    int decay;              /* weight decay applies (matrices, not norms) */
    pbuf *w, *g, *m, *v, *sq;
} tparam;

/* Indices into the parameter list. */
typedef struct tlayer {
    int attn_norm, wq, wk, wv, wo, ffn_norm, w1, w2, w3;
} tlayer;

/* Saved activations of one layer for the backward pass (n = batch * seq_len rows). */
typedef struct tacts {
    pbuf *xin, *xa, *q, *k, *v, *att, *xm, *xf, *h1, *h3, *hs;
} tacts;

struct plume_trainer {
    plume_gpu *gpu;
    plume_train_shape shape;
    plume_train_params p;
    char *init_path;                /* the GGUF this started from (tokenizer metadata), or NULL */
    int step;

    tparam *params;
    int n_params;
    int tok_embd, out_norm, output; /* output == tok_embd when tied */
    tlayer *layers;

    /* micro-batch buffers: n = batch * seq_len rows */
    uint32_t n;
    pbuf *rows;                     /* plume_gpu_row [n], host-visible */
    pbuf *targets;                  /* plume_train_target [n], host-visible */
    pbuf *loss;                     /* float [n], host-visible */
    pbuf *tindex;                   /* rows grouped by token (plume_train_token_index), host-visible */
    tacts *acts;                    /* [n_layers] */
    pbuf *xlast, *xfin, *logits;
    pbuf *dres, *dxb, *datt, *dq, *dk, *dv, *dhs, *dh1, *dh3, *ld, *rstd;
    pbuf *wt;                       /* the forward matmuls' transposed weight (the largest) */
    plume_gpu_rec *rec_train;       /* forward + backward */
    plume_gpu_rec *rec_eval;        /* forward + loss */
    plume_gpu_rec *rec_norm;        /* squared-norm partials of every gradient */

    /* data */
    int32_t *tok;                   /* all examples' tokens */
    int *ex_off, *ex_len, *ex_prompt;
    uint8_t *mask;                  /* beside tok: 1 where a token is a target; NULL when no example
                                     * carries its own targets (then the n_prompt rule alone) */
    long *ex_targets;               /* each example's target tokens, as fill_batch counts them */
    int n_ex;
    int perm_epoch;                 /* the epoch whose permutation perm holds, -1 none */
    int *perm;
};

/* trainer.c */
int trainer_check_shape(const plume_train_shape *s, plume_error *err);

/* train_model.c */
int trainer_alloc_params(plume_trainer *t, plume_error *err);
int trainer_alloc_acts(plume_trainer *t, plume_error *err);
int trainer_record(plume_trainer *t, plume_error *err);
void trainer_free_device(plume_trainer *t);

/* train_checkpoint.c */
int trainer_load_gguf(plume_trainer *t, const char *path, plume_error *err);

#endif
