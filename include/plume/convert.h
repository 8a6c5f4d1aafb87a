/* plume — model conversion into GGUF (`plume convert`).
 *
 * llama2.c checkpoints ("legacy" version 0 .bin: 7 int32 header, fp32 weights) and their
 * tokenizer.bin become a llama-architecture GGUF whose tokenizer is SentencePiece ("llama").
 * Weights are kept exactly as llama2.c stores them: llama2.c rotates adjacent pairs in RoPE,
 * which is llama.cpp's "normal" RoPE, so unlike HF checkpoints no Q/K permutation applies;
 * the file records it as plume.rope.style = "normal". */
#ifndef PLUME_LM_CONVERT_H
#define PLUME_LM_CONVERT_H

#include "plume/error.h"
#include "plume/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest llama2.c header values accepted (beyond: a damaged or foreign file). */
#define PLUME_LLAMA2C_MAX_DIM   65536
#define PLUME_LLAMA2C_MAX_VOCAB (1 << 22)
#define PLUME_LLAMA2C_MAX_LAYERS 1024
#define PLUME_LLAMA2C_MAX_SEQ   (1 << 22)
#define PLUME_LLAMA2C_MAX_TOKEN_LEN (1 << 16)

typedef struct plume_convert_stats {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int shared_classifier;        /* 1: no output.weight (tied to token_embd) */
    int n_tensors;
    int n_quantized;              /* tensors stored as the requested quantized type */
    unsigned long long out_bytes; /* tensor data bytes written */
} plume_convert_stats;

/* Converts MODEL_PATH + TOKENIZER_PATH to OUT_PATH (written atomically). TYPE is PLUME_GGML_F32,
 * F16, Q8_0 or Q4_0: the type of the 2-D weight matrices. Norm weights stay F32; a matrix whose
 * row length is not a multiple of 32 is stored as F16 when TYPE is quantized. STATS may be NULL. */
PLUME_API int plume_convert_llama2c(const char *model_path, const char *tokenizer_path, const char *out_path,
                                    plume_ggml_type type, plume_convert_stats *stats, plume_error *err);

#ifdef __cplusplus
}
#endif
#endif
