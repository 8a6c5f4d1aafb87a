/* plume — GGUF files: read (mmap, read-only), write (temp file + rename), and the
 * tensor number formats plume understands (F32, F16, BF16, Q8_0, Q4_0).
 *
 * A GGUF file (versions 2 and 3; all little-endian) is:
 *     "GGUF" u32 version, u64 n_tensors, u64 n_kv,
 *     n_kv × { string key, u32 type, value },
 *     n_tensors × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset },
 *     padding to general.alignment (default 32), the tensor data.
 * A string is u64 length + bytes (no NUL); an array is u32 element type, u64 count, elements.
 * Dimensions are listed innermost first: ne[0] is the length of one row, so a matrix
 * W[rows][cols] (row-major, as llama2.c stores it) has ne = {cols, rows}.
 *
 * The reader copies the metadata into owned memory (strings get a NUL added, but keep
 * their length: a GGUF string may hold a NUL) and points each tensor at its bytes inside
 * the read-only mapping, which stays valid until plume_gguf_close(). Every size read from
 * the file is capped and checked against the bytes that remain before anything is
 * allocated, so a damaged file gives an error naming the section and byte offset. */
#ifndef PLUME_LM_GGUF_H
#define PLUME_LM_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plume/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLUME_GGUF_MAGIC "GGUF"
#define PLUME_GGUF_VERSION 3            /* what the writer writes; the reader takes 2 and 3 */
#define PLUME_GGUF_DEFAULT_ALIGNMENT 32
#define PLUME_GGUF_MAX_DIMS 4

/* Caps on sizes read from a file (beyond the check against the bytes left). */
#define PLUME_GGUF_MAX_KEY_LEN     65535u          /* a key or a tensor name */
#define PLUME_GGUF_MAX_STRING_LEN  (64u << 20)     /* one string value: 64 MiB */
#define PLUME_GGUF_MAX_ARRAY_LEN   (1ull << 26)    /* elements in one array: 64 Mi */
#define PLUME_GGUF_MAX_KV          65536u
#define PLUME_GGUF_MAX_TENSORS     65536u
#define PLUME_GGUF_MAX_DIM         (1ll << 40)     /* one ne[i] */
#define PLUME_GGUF_MAX_ALIGNMENT   (1u << 20)

/* Metadata value types (the numbers are the file format's). */
typedef enum plume_gguf_type {
    PLUME_GGUF_UINT8 = 0, PLUME_GGUF_INT8 = 1, PLUME_GGUF_UINT16 = 2, PLUME_GGUF_INT16 = 3,
    PLUME_GGUF_UINT32 = 4, PLUME_GGUF_INT32 = 5, PLUME_GGUF_FLOAT32 = 6, PLUME_GGUF_BOOL = 7,
    PLUME_GGUF_STRING = 8, PLUME_GGUF_ARRAY = 9, PLUME_GGUF_UINT64 = 10, PLUME_GGUF_INT64 = 11,
    PLUME_GGUF_FLOAT64 = 12,
    PLUME_GGUF_TYPE_COUNT
} plume_gguf_type;

/* Tensor element types (ggml's numbering). Only those marked "supported" load: F32, F16,
 * BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K. */
typedef enum plume_ggml_type {
    PLUME_GGML_F32 = 0,   /* supported */
    PLUME_GGML_F16 = 1,   /* supported */
    PLUME_GGML_Q4_0 = 2,  /* supported: blocks of 32, f16 scale + 16 bytes of nibbles */
    PLUME_GGML_Q4_1 = 3, PLUME_GGML_Q5_0 = 6, PLUME_GGML_Q5_1 = 7,
    PLUME_GGML_Q8_0 = 8,  /* supported: blocks of 32, f16 scale + 32 int8 */
    PLUME_GGML_Q8_1 = 9, PLUME_GGML_Q2_K = 10, PLUME_GGML_Q3_K = 11, PLUME_GGML_Q4_K = 12,
    PLUME_GGML_Q5_K = 13, PLUME_GGML_Q6_K = 14, PLUME_GGML_Q8_K = 15,
    PLUME_GGML_IQ2_XXS = 16, PLUME_GGML_IQ2_XS = 17, PLUME_GGML_IQ3_XXS = 18, PLUME_GGML_IQ1_S = 19,
    PLUME_GGML_IQ4_NL = 20, PLUME_GGML_IQ3_S = 21, PLUME_GGML_IQ2_S = 22, PLUME_GGML_IQ4_XS = 23,
    PLUME_GGML_I8 = 24, PLUME_GGML_I16 = 25, PLUME_GGML_I32 = 26, PLUME_GGML_I64 = 27,
    PLUME_GGML_F64 = 28, PLUME_GGML_IQ1_M = 29,
    PLUME_GGML_BF16 = 30, /* supported */
    PLUME_GGML_TQ1_0 = 34, PLUME_GGML_TQ2_0 = 35,
    PLUME_GGML_TYPE_COUNT = 40
} plume_ggml_type;

#define PLUME_QK8_0 32
#define PLUME_QK4_0 32
#define PLUME_QK_K 256      /* elements of a K-quant super-block (Q4_K, Q5_K, Q6_K) */
/* The on-disk blocks (no padding: 34 and 18 bytes). d is an IEEE half. */
typedef struct plume_block_q8_0 { uint16_t d; int8_t qs[PLUME_QK8_0]; } plume_block_q8_0;
typedef struct plume_block_q4_0 { uint16_t d; uint8_t qs[PLUME_QK4_0 / 2]; } plume_block_q4_0;

/* A string as stored: data is NUL-terminated for convenience, len is the true length. */
typedef struct plume_gguf_str {
    char *data;
    uint64_t len;
} plume_gguf_str;

/* A metadata value. Arrays hold their elements packed in native form: uint8_t[], int16_t[],
 * float[], bool[] (one byte each, 0 or 1), double[] …, or plume_gguf_str[] for strings.
 * Arrays of arrays are rejected by the reader and the writer. */
typedef struct plume_gguf_value {
    plume_gguf_type type;
    union {
        uint64_t u64;      /* UINT8, UINT16, UINT32, UINT64 */
        int64_t i64;       /* INT8, INT16, INT32, INT64 */
        double f64;        /* FLOAT32, FLOAT64 */
        bool b;            /* BOOL */
        plume_gguf_str str;
        struct {
            plume_gguf_type type;  /* element type, never ARRAY */
            uint64_t n;
            void *data;
        } arr;
    } v;
} plume_gguf_value;

typedef struct plume_gguf_kv {
    plume_gguf_str key;
    plume_gguf_value value;
} plume_gguf_kv;

typedef struct plume_gguf_tensor {
    char *name;
    uint32_t n_dims;
    int64_t ne[PLUME_GGUF_MAX_DIMS];    /* unused dims are 1 */
    plume_ggml_type type;
    uint64_t offset;                   /* from the start of the data section */
    uint64_t n_elements;
    uint64_t n_bytes;
    const void *data;                  /* inside the mapping (NULL for an in-memory writer) */
} plume_gguf_tensor;

typedef struct plume_gguf {
    char *path;                 /* for messages */
    uint32_t version;
    uint32_t alignment;
    uint64_t n_kv;
    plume_gguf_kv *kv;
    uint64_t n_tensors;
    plume_gguf_tensor *tensors;
    uint64_t data_offset;       /* file offset of the data section */
    const uint8_t *base;        /* the whole file */
    uint64_t size;
    void *map;                  /* what to munmap (NULL when opened from memory) */
} plume_gguf;

/* ---- reading ---- */

/* Maps PATH read-only and parses it. Returns 0 and *out, or -1 with err naming the path,
 * the section ("header", "metadata key/value 12 'general.name'", "tensor info 3 'x'", …),
 * the byte offset and a hint. */
PLUME_API int plume_gguf_open(plume_gguf **out, const char *path, plume_error *err);
/* The same over bytes in memory (not copied: they must outlive the result). NAME is for messages. */
PLUME_API int plume_gguf_open_memory(plume_gguf **out, const void *data, size_t size,
                                     const char *name, plume_error *err);
PLUME_API void plume_gguf_close(plume_gguf *g);
/* Frees what a value owns (its string, or an array and its strings) and zeroes it; the reader
 * and the writer both hold values made this way. */
void plume_gguf_value_free(plume_gguf_value *v);

/* Lookups. NULL when absent. */
PLUME_API const plume_gguf_kv *plume_gguf_find(const plume_gguf *g, const char *key);
PLUME_API const plume_gguf_tensor *plume_gguf_find_tensor(const plume_gguf *g, const char *name);

/* Typed getters: 0 on success; -1 with err set when the key is absent or its value does not
 * convert. Integers accept any integer type whose value fits; floats accept FLOAT32/FLOAT64. */
PLUME_API int plume_gguf_get_u32(const plume_gguf *g, const char *key, uint32_t *out, plume_error *err);
PLUME_API int plume_gguf_get_i64(const plume_gguf *g, const char *key, int64_t *out, plume_error *err);
PLUME_API int plume_gguf_get_f32(const plume_gguf *g, const char *key, float *out, plume_error *err);
PLUME_API int plume_gguf_get_bool(const plume_gguf *g, const char *key, bool *out, plume_error *err);
PLUME_API int plume_gguf_get_str(const plume_gguf *g, const char *key, const char **out, plume_error *err);
/* An array of element type TYPE (any length unless want_n > 0, then exactly want_n). */
PLUME_API int plume_gguf_get_arr(const plume_gguf *g, const char *key, plume_gguf_type type,
                                 uint64_t want_n, const void **data, uint64_t *n, plume_error *err);

/* Finds tensor NAME and checks its type is one of the supported ones and its shape is
 * exactly ne[0..n_dims) (innermost first). -1 with a message giving both shapes otherwise. */
PLUME_API int plume_gguf_expect_tensor(const plume_gguf *g, const char *name, uint32_t n_dims,
                                       const int64_t *ne, const plume_gguf_tensor **out,
                                       plume_error *err);

PLUME_API const char *plume_gguf_type_name(plume_gguf_type t);   /* "UINT8", …, "?" */

/* ---- tensor types ---- */

PLUME_API const char *plume_ggml_type_name(plume_ggml_type t);    /* "F32", "Q8_0", …, "?" */
PLUME_API bool plume_ggml_type_supported(plume_ggml_type t);
/* Elements per block (1 for F32/F16/BF16, 32 for Q8_0/Q4_0/Q4_1/Q5_0/Q5_1, 256 for the
 * K-quants) and bytes per block; 0 if unsupported. */
PLUME_API size_t plume_ggml_block_elems(plume_ggml_type t);
PLUME_API size_t plume_ggml_block_bytes(plume_ggml_type t);
/* Bytes of a tensor of n_elements of type t whose rows have ne0 elements: -1 when ne0 is not
 * a multiple of the block size, the type is unsupported or the size overflows. */
PLUME_API int plume_ggml_nbytes(plume_ggml_type t, int64_t ne0, uint64_t n_elements, uint64_t *out);

/* F16 (IEEE binary16) and BF16 <-> F32. Round to nearest even; Inf/NaN/subnormals kept. */
PLUME_API uint16_t plume_f32_to_f16(float f);
PLUME_API float plume_f16_to_f32(uint16_t h);
PLUME_API uint16_t plume_f32_to_bf16(float f);
PLUME_API float plume_bf16_to_f32(uint16_t h);
PLUME_API void plume_f32_to_f16_row(const float *x, uint16_t *y, size_t n);
PLUME_API void plume_f16_to_f32_row(const uint16_t *x, float *y, size_t n);

/* Q8_0: per block of 32, d = max|x|/127 (stored as f16), q = round(x/d). n % 32 == 0. */
PLUME_API void plume_quantize_q8_0(const float *x, plume_block_q8_0 *y, size_t n);
PLUME_API void plume_dequantize_q8_0(const plume_block_q8_0 *x, float *y, size_t n);
/* Q4_0: per block of 32, m = the value of largest magnitude, d = m/-8, q = clamp(round(x/d)+8, 0, 15);
 * byte j holds element j (low nibble) and element j+16 (high nibble). n % 32 == 0. */
PLUME_API void plume_quantize_q4_0(const float *x, plume_block_q4_0 *y, size_t n);
PLUME_API void plume_dequantize_q4_0(const plume_block_q4_0 *x, float *y, size_t n);
/* The 6-bit scale and minimum of sub-block j (0..7) of a Q4_K/Q5_K super-block, from its
 * 12 packed bytes. */
PLUME_API void plume_k_scale_min(const uint8_t *scales, int j, int *sc, int *m);
/* Any supported type → f32: n elements (a multiple of the block size) from SRC. */
PLUME_API int plume_ggml_to_f32(plume_ggml_type t, const void *src, float *dst, size_t n, plume_error *err);
/* f32 → F32, F16, BF16, Q8_0 or Q4_0 (the types plume writes): n elements (a multiple of the block size) into DST. */
PLUME_API int plume_ggml_from_f32(plume_ggml_type t, const float *src, void *dst, size_t n, plume_error *err);

/* ---- writing ---- */

typedef struct plume_gguf_writer plume_gguf_writer;

PLUME_API plume_gguf_writer *plume_gguf_writer_new(void);
PLUME_API void plume_gguf_writer_free(plume_gguf_writer *w);

/* Metadata, in the order written. Setting a key twice replaces it. Returns 0 or -1 (out of
 * memory, bad type). "general.alignment" (UINT32, a power of two) sets the data alignment. */
PLUME_API int plume_gguf_writer_set(plume_gguf_writer *w, const char *key, const plume_gguf_value *v,
                                    plume_error *err);
PLUME_API int plume_gguf_writer_set_u32(plume_gguf_writer *w, const char *key, uint32_t v, plume_error *err);
PLUME_API int plume_gguf_writer_set_i32(plume_gguf_writer *w, const char *key, int32_t v, plume_error *err);
PLUME_API int plume_gguf_writer_set_f32(plume_gguf_writer *w, const char *key, float v, plume_error *err);
PLUME_API int plume_gguf_writer_set_bool(plume_gguf_writer *w, const char *key, bool v, plume_error *err);
PLUME_API int plume_gguf_writer_set_str(plume_gguf_writer *w, const char *key, const char *v, plume_error *err);
/* An array of N elements of TYPE from DATA packed as described for plume_gguf_value
 * (for STRING: const char *const[] of NUL-terminated strings). Copied. */
PLUME_API int plume_gguf_writer_set_arr(plume_gguf_writer *w, const char *key, plume_gguf_type type,
                                        uint64_t n, const void *data, plume_error *err);

/* Every metadata key/value of G (an open file), in its order: for writing a model back, e.g. after
 * training, with the same hyper-parameters and tokenizer. Existing keys are replaced. */
PLUME_API int plume_gguf_writer_copy_metadata(plume_gguf_writer *w, const plume_gguf *g, plume_error *err);

/* A tensor: shape ne[0..n_dims) innermost first, DATA in type TYPE, n_bytes long. DATA is not
 * copied: it must stay valid until plume_gguf_writer_write() returns. */
PLUME_API int plume_gguf_writer_add_tensor(plume_gguf_writer *w, const char *name, plume_ggml_type type,
                                           uint32_t n_dims, const int64_t *ne, const void *data,
                                           plume_error *err);

/* Writes PATH.tmp.XXXXXX next to PATH, fsyncs, renames over PATH: a reader never sees half a file. */
PLUME_API int plume_gguf_writer_write(plume_gguf_writer *w, const char *path, plume_error *err);

/* ---- the architectures: llama (Mistral, SmolLM), qwen2, qwen3 ---- */

typedef enum plume_rope_style {
    PLUME_ROPE_NORMAL = 0,  /* rotate adjacent pairs (2i, 2i+1): llama2.c, llama.cpp's "normal" */
    PLUME_ROPE_NEOX = 1     /* rotate (i, i + n_rot/2) */
} plume_rope_style;

typedef enum plume_lm_arch {
    PLUME_ARCH_LLAMA = 0,   /* also Mistral and SmolLM files */
    PLUME_ARCH_QWEN2 = 1,   /* q/k/v biases, NEOX rope */
    PLUME_ARCH_QWEN3 = 2    /* per-head q/k RMS norms, NEOX rope, head size from key_length */
} plume_lm_arch;

typedef struct plume_llama_hparams {
    plume_lm_arch arch;     /* general.architecture */
    const char *arch_name;  /* "llama", "qwen2", "qwen3": the prefix of the keys below */
    uint32_t n_embd;        /* ARCH.embedding_length */
    uint32_t n_ff;          /* ARCH.feed_forward_length */
    uint32_t n_layer;       /* ARCH.block_count */
    uint32_t n_head;        /* ARCH.attention.head_count */
    uint32_t n_head_kv;     /* ARCH.attention.head_count_kv (default n_head) */
    uint32_t head_dim;      /* ARCH.attention.key_length (= value_length), default n_embd / n_head */
    uint32_t n_ctx;         /* ARCH.context_length */
    uint32_t n_vocab;       /* ARCH.vocab_size, else the length of tokenizer.ggml.tokens,
                               else token_embd.weight's ne[1] */
    uint32_t n_rot;         /* ARCH.rope.dimension_count (must equal head_dim) */
    float rms_eps;          /* ARCH.attention.layer_norm_rms_epsilon */
    float rope_freq_base;   /* ARCH.rope.freq_base (default 10000) */
    float rope_freq_scale;  /* 1 / ARCH.rope.scaling.factor for "linear" scaling, else 1 */
    plume_rope_style rope_style; /* NORMAL for llama (plume.rope.style may say "neox"), NEOX for qwen */
    bool tied_output;       /* no output.weight: the classifier is token_embd.weight */
    bool rope_freqs;        /* rope_freqs.weight [head_dim/2]: each pair's frequency divided by it */
    bool qkv_bias;          /* blk.N.attn_{q,k,v}.bias: added after the projections */
    bool qk_norm;           /* blk.N.attn_{q,k}_norm.weight [head_dim]: RMS norm of each q/k head */
} plume_llama_hparams;

/* Reads general.architecture ("llama", "qwen2" or "qwen3") and the hyper-parameters, checks
 * they are consistent and within caps, refuses any ARCH.* key plume does not implement (rope
 * scaling other than none/linear/llama3, experts, soft caps, ...) by name, then checks the
 * tensors: every one the forward pass needs is there with the right shape and a supported
 * type, and every tensor of the file is one it uses (an unused tensor is refused by name):
 *   token_embd.weight {n_embd, n_vocab}, output_norm.weight {n_embd}, output.weight
 *   {n_embd, n_vocab} (optional: tied), rope_freqs.weight {head_dim/2} (llama, optional), and per
 *   layer N blk.N.attn_norm.weight {n_embd}, attn_q {n_embd, q} (q = n_head * head_dim),
 *   attn_k / attn_v {n_embd, kv} (kv = n_head_kv * head_dim), attn_output {q, n_embd},
 *   ffn_norm {n_embd}, ffn_gate / ffn_up {n_embd, n_ff}, ffn_down {n_ff, n_embd}; attn_q/k/v.bias
 *   {q}, {kv}, {kv} (qwen2: required; llama: all or none); attn_q_norm / attn_k_norm {head_dim}
 *   (qwen3). */
PLUME_API int plume_llama_read_hparams(const plume_gguf *g, plume_llama_hparams *hp, plume_error *err);
/* "blk.%u.SUFFIX" (or just NAME when layer < 0) looked up. NULL when absent. */
PLUME_API const plume_gguf_tensor *plume_llama_tensor(const plume_gguf *g, int layer, const char *suffix);

#ifdef __cplusplus
}
#endif
#endif
