/* plume — training a llama-architecture model on the Vulkan device.
 *
 * A trainer holds F32 master weights, their gradients and AdamW's moments on the
 * device, and runs whole optimizer steps: for each of `accum` micro-batches of `batch`
 * sequences of `seq_len` tokens it records the forward pass, the fused cross-entropy
 * and the backward pass (one command buffer, recorded once and submitted again), then
 * the global gradient norm, clipping, and AdamW with the scheduled learning rate.
 *
 * Data: examples are token sequences (BOS first, as the tokenizer gives it) split into
 * a prompt and a target; the loss is the mean cross-entropy of the target tokens only
 * (over every target token of the optimizer step, so accumulation equals a larger batch).
 * Each example is one sequence, padded (padding carries no loss); one longer than
 * seq_len + 1 tokens keeps the start of its prompt (at least BOS) and as much of its
 * target as fits: the end of the prompt is dropped first. The order of examples is a permutation per epoch drawn from the
 * seed, a function of the step number only: resuming at step k sees the same batches.
 *
 * Determinism: no kernel uses atomics and every sum runs in a fixed order, so the same
 * seed, data and device give bitwise the same weights; checkpoint (F32 GGUF + the
 * optimizer sidecar) and resume continue bitwise as an uninterrupted run. */
#ifndef PLUME_TRAIN_H
#define PLUME_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A model shape for a freshly initialised model. */
typedef struct plume_train_shape {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, ctx_len;
    float rope_base;    /* 0: 10000 */
    float norm_eps;     /* 0: 1e-5 */
    int tied;           /* 1: the classifier is the token embedding */
    int rope_neox;      /* 0: rotate pairs (2j, 2j+1) (llama2.c, GGUF "normal") */
} plume_train_shape;

typedef enum plume_decay {
    PLUME_DECAY_CONSTANT = 0,
    PLUME_DECAY_LINEAR,     /* lr -> min_lr linearly from the end of warm-up to `steps` */
    PLUME_DECAY_COSINE,     /* half a cosine from lr to min_lr */
    PLUME_DECAY_SQRT        /* lr * sqrt(warmup / step) after warm-up (the paper's), >= min_lr */
} plume_decay;

typedef struct plume_train_params {
    double lr, min_lr;
    int warmup;             /* linear warm-up steps: lr * (step + 1) / warmup */
    plume_decay decay;
    int steps;              /* the schedule's length */
    int batch;              /* sequences per micro-batch */
    int accum;              /* micro-batches per optimizer step */
    int seq_len;            /* tokens per sequence (<= the model's ctx_len) */
    double weight_decay;    /* AdamW's decoupled decay, on matrices only (not norms) */
    double clip;            /* global gradient-norm clip; <= 0: none */
    double beta1, beta2, eps;
    uint64_t seed;          /* initialisation and data order */
} plume_train_params;

/* lr 1e-3, min_lr 0, warmup 0, constant, steps 1000, batch 4, accum 1, seq_len 128,
 * weight_decay 0.1, clip 1, betas 0.9/0.95, eps 1e-8, seed 1. */
PLUME_API void plume_train_params_default(plume_train_params *p);
/* The learning rate of step (0-based) under p's schedule. */
PLUME_API double plume_train_lr(const plume_train_params *p, int step);
PLUME_API const char *plume_decay_name(plume_decay d);
/* "constant", "linear", "cosine", "sqrt" -> 0 and *out; -1 for anything else. */
PLUME_API int plume_decay_parse(const char *s, plume_decay *out);

/* One example: tokens[0..n_tokens) (BOS first), of which the first n_prompt are the
 * prompt; the model learns to predict tokens[j] for n_prompt <= j < n_tokens. A packed row
 * of several examples (plume_train_pack) names its targets instead: tokens[j] is one where
 * targets[j] is not 0 (targets[0] is 0; n_prompt is then 1). */
typedef struct plume_train_example {
    const int32_t *tokens;
    int n_tokens;
    int n_prompt;
    const uint8_t *targets;     /* NULL: the n_prompt rule */
} plume_train_example;

typedef struct plume_train_stats {
    int step;               /* the step just taken (1-based count of steps done) */
    double loss;            /* mean target-token cross-entropy of the step */
    double lr;
    double grad_norm;       /* before clipping */
    long tokens;            /* target tokens in the step */
} plume_train_stats;

typedef struct plume_trainer plume_trainer;

/* A trainer for a new model of SHAPE (random init from p->seed: normal(0, 0.02)
 * matrices, the residual outputs scaled by 1/sqrt(2 n_layers), unit norms), or, when
 * SHAPE is NULL, for the llama GGUF at INIT (any tensor type, widened to F32; its
 * tokenizer metadata is kept for saving). */
PLUME_API plume_trainer *plume_trainer_create(const plume_train_shape *shape, const char *init,
                                              const plume_train_params *p, plume_error *err);
PLUME_API void plume_trainer_free(plume_trainer *t);
PLUME_API const plume_train_shape *plume_trainer_shape(const plume_trainer *t);
PLUME_API const plume_train_params *plume_trainer_params(const plume_trainer *t);
/* Steps taken so far. */
PLUME_API int plume_trainer_step_count(const plume_trainer *t);

/* The training set (copied). Every example needs 2 <= n_tokens, 1 <= n_prompt < n_tokens
 * and tokens inside the vocabulary; -1 naming the example otherwise. */
PLUME_API int plume_trainer_set_data(plume_trainer *t, const plume_train_example *ex, int n, plume_error *err);
/* One optimizer step over the next batch * accum examples. In an MPI job (plume/dist.h) every
 * rank calls it: each computes the gradient of its slice of those examples, the gradients are
 * summed over the ranks (MPI_Allreduce), and every rank applies the same update, so the global
 * batch and the result are those of one process (up to float rounding: the sums' order). */
PLUME_API int plume_trainer_step(plume_trainer *t, plume_train_stats *stats, plume_error *err);
/* Mean target-token cross-entropy over EX (no update); in an MPI job, EX split over the ranks. */
PLUME_API int plume_trainer_eval(plume_trainer *t, const plume_train_example *ex, int n, double *loss,
                                 plume_error *err);
/* Gradients of the mean target-token loss over EX (at most batch examples), without an
 * update: for gradient checks. *loss may be NULL. */
PLUME_API int plume_trainer_gradients(plume_trainer *t, const plume_train_example *ex, int n, double *loss,
                                      plume_error *err);

/* In an MPI job: checks that every rank holds bitwise the same weights (a hash compared over
 * the ranks; every rank calls it); -1 with err when they differ. 0 at once in one process. */
PLUME_API int plume_trainer_check_replicas(plume_trainer *t, plume_error *err);

/* The parameters, in GGUF names ("token_embd.weight", "blk.0.attn_q.weight", ...). */
PLUME_API int plume_trainer_n_params(const plume_trainer *t);
/* Name and element count of parameter i (rows x cols, row-major; cols = 1 for none). */
PLUME_API const char *plume_trainer_param(const plume_trainer *t, int i, uint32_t *rows, uint32_t *cols);
/* Reads parameter i's weights (which = 0) or gradient (which = 1) into out. */
PLUME_API int plume_trainer_read(plume_trainer *t, int i, int which, float *out, plume_error *err);
/* Overwrites parameter i's weights. */
PLUME_API int plume_trainer_write(plume_trainer *t, int i, const float *in, plume_error *err);

/* Saves the weights as a llama GGUF: matrices in TYPE (0 F32, 1 F16, 8 Q8_0; a matrix
 * whose rows are not a multiple of 32 stays F16 under Q8_0), norms F32. The tokenizer.*
 * metadata comes from TOKENIZER (a GGUF path) when not NULL, else from the INIT file. */
PLUME_API int plume_trainer_save(plume_trainer *t, const char *path, int type, const char *tokenizer,
                                 plume_error *err);
/* The optimizer sidecar: step, AdamW's moments (exact F32). With the F32 GGUF of the
 * same moment it makes a checkpoint: create a trainer from that GGUF (SHAPE NULL),
 * load this, and training continues bitwise as if never stopped. */
PLUME_API int plume_trainer_save_state(plume_trainer *t, const char *path, plume_error *err);
PLUME_API int plume_trainer_load_state(plume_trainer *t, const char *path, plume_error *err);

#ifdef __cplusplus
}
#endif

/* ---- plume train: the YAML run description and its data ---------------------------- */
#ifdef __cplusplus
extern "C" {
#endif

/* A training run as `plume train CONFIG.yaml` reads it (docs/training.md, "Configuration", lists the keys).
 * Paths are resolved against the config file's folder. */
typedef struct plume_train_config {
    char *path;             /* the config file */
    char *init;             /* model.init: a starting llama GGUF, or NULL */
    int has_shape;          /* model.shape given: a new model */
    plume_train_shape shape;
    char *tokenizer;        /* a GGUF whose tokenizer is used (default: model.init) */
    char *train_data;       /* JSON Lines of {"prompt", "target"} */
    char *val_data;         /* the same, or NULL */
    plume_train_params params;
    int eval_every;         /* steps between validation losses (0: only at the end) */
    int checkpoint_every;   /* steps between checkpoints (0: only at the end) */
    char *out;              /* output folder */
    int export_f16, export_q8_0;
    int resume;             /* continue from OUT/model.gguf + OUT/model.optim when present */
    int add_eos;            /* append EOS (when the tokenizer has one) after the target */
    int pack;               /* data.pack: plain-text examples packed into full rows (plume_train_pack) */
} plume_train_config;

/* Parses PATH (libyaml). -1 with err = "PATH:LINE:COLUMN: what; hint" on any bad key,
 * value or structure. */
PLUME_API int plume_train_config_load(plume_train_config *c, const char *path, plume_error *err);
PLUME_API void plume_train_config_free(plume_train_config *c);

/* Reads JSON Lines of {"prompt": str, "target": str} (jansson) and tokenizes each with
 * the tokenizer of TOKENIZER_GGUF: prompt with BOS, then target (+ EOS when add_eos).
 * Errors name PATH:LINE. *ex (free with plume_train_examples_free) holds *n examples. */
PLUME_API int plume_train_read_jsonl(const char *path, const char *tokenizer_gguf, int add_eos,
                                     plume_train_example **ex, int *n, plume_error *err);
PLUME_API void plume_train_examples_free(plume_train_example *ex, int n);

/* Packs examples into rows of at most seq_len + 1 tokens, so that a step computes little
 * padding. Plain-text examples (a prompt of BOS alone) are joined end to end in an order
 * drawn from SEED and cut into rows that overlap by one token, so that every token but the
 * first is a target exactly once (the last row may be shorter). When any example has a
 * longer prompt, examples are never cut: each goes whole, in the seeded order, into the
 * first row with room for it, and the row names its targets (plume_train_example.targets:
 * each example's own, never its prompt). One longer than seq_len + 1 gets a row of its own,
 * which the trainer shortens as it does any example. A row's examples attend to each other;
 * each keeps its BOS (and EOS), which marks where one starts. *out (free with
 * plume_train_examples_free) holds *n_out rows. */
PLUME_API int plume_train_pack(const plume_train_example *ex, int n, int seq_len, uint64_t seed,
                               plume_train_example **out, int *n_out, plume_error *err);

/* Runs the whole configuration: trains, evaluates every eval_every steps, checkpoints,
 * writes OUT/loss.csv and OUT/loss.svg, OUT/model.gguf (F32) + OUT/model.optim, and the
 * exports. Progress goes to LOG (a bar when it is a terminal). */
PLUME_API int plume_train_run(const plume_train_config *c, FILE *log, plume_error *err);

/* ---- tokenizer training ------------------------------------------------------------ */

typedef struct plume_bpe_stats {
    int vocab_size;         /* tokens written: 256 bytes + merges + <|endoftext|> */
    int n_merges;
    int n_words;            /* distinct pre-tokens in the corpus */
} plume_bpe_stats;

/* Learns a GPT-2 byte-level BPE tokenizer (tokenizer.ggml.model "gpt2", pre "gpt-2")
 * from texts[0..n_texts) and writes it as a tokenizer-only GGUF at OUT_PATH, which
 * engine/lm/tokenizer.c reads (and `tokenizer:` in a training config names). At most
 * vocab_size tokens; merging stops early when the best pair occurs fewer than
 * min_frequency times. Ties between equally frequent pairs: the smaller left id, then
 * right id. control[0..n_control) are added as control tokens after the merges (ids that text
 * never tokenizes to: markers such as the author-distinction task's answers, which a training
 * example names with "target_token"); <|endoftext|> (the last id) is BOS and EOS. The control
 * tokens count in vocab_size. stats may be NULL. */
PLUME_API int plume_bpe_train(const char *const *texts, const size_t *lens, int n_texts, int vocab_size,
                              int min_frequency, const char *const *control, int n_control, const char *out_path,
                              plume_bpe_stats *stats, plume_error *err);

#ifdef __cplusplus
}
#endif
#endif
