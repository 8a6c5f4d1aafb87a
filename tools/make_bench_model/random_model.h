/* Writing llama GGUF files for benchmarks and tests: a model of any shape with random
 * weights, and a copy of a model with its matrices stored in another type. Used by the
 * make_bench_model tool and by tests/lm. */
#ifndef PLUME_RANDOM_MODEL_H
#define PLUME_RANDOM_MODEL_H
#include <stdint.h>
#include "plume/gguf.h"

typedef struct random_model_spec {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab, ctx;
    plume_ggml_type type;      /* of the matrices (F32, F16, Q8_0, ...); norms stay F32 */
    int tied;                  /* no output.weight: the classifier is the token embedding */
    int neox;                  /* RoPE style written as plume.rope.style */
    float rope_base;           /* 0: 10000 */
    uint64_t seed;
    const char *vocab_gguf;    /* copy tokenizer.* from this file (vocab = its token count); NULL: none */
} random_model_spec;

int random_model_write(const random_model_spec *spec, const char *path, plume_error *err);

/* Copies SRC to DST with every 2-D tensor stored as TYPE (Q8_0 needs rows of a multiple
 * of 32 elements; other tensors are copied as they are). */
int model_file_retype(const char *src, const char *dst, plume_ggml_type type, plume_error *err);
/* The same for the 2-D tensors whose names contain one of ONLY (a NULL-terminated list). */
int model_file_retype_some(const char *src, const char *dst, plume_ggml_type type, const char *const *only,
                           plume_error *err);
/* Copies SRC to DST unchanged but for the metadata KEY, set to the UINT32 VALUE. */
int model_file_set_u32(const char *src, const char *dst, const char *key, uint32_t value, plume_error *err);

#endif
