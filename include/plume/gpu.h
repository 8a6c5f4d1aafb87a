/* plume — the Vulkan device layer and the transformer kernels.
 *
 * Two levels:
 *   1. Device, buffers, kernels and recordings: open the device, make buffers, get a
 *      kernel (an embedded SPIR-V shader + specialization constants), record a sequence
 *      of dispatches with barriers between them into one command buffer, submit it once,
 *      and submit it again later (reuse across tokens).
 *   2. Transformer ops (plume_gpu_matmul, plume_gpu_rmsnorm, ...): each records one or a
 *      few dispatches of the right kernel into a recording and ends with a barrier, so
 *      the next op sees the result. These are what the language model calls. Fused ops
 *      (plume_gpu_add_rmsnorm, plume_gpu_matmul_stacked, plume_gpu_rope_kv_store,
 *      plume_gpu_matmul_swiglu) do the same work as the plain sequences they name in fewer
 *      dispatches, which is most of a decode step's cost for a small model on lavapipe.
 *
 * Conventions for the ops:
 *   - Activations are F32, row-major, in plain buffers: a batch of n rows of `dim` floats.
 *   - Weights are uploaded once as a plume_gpu_weight (F32, F16, Q8_0 or Q4_0; ggml layout
 *     in host memory, repacked at upload for the kernels).  A weight of `rows` x `cols`
 *     maps cols inputs to rows outputs: y[i][r] = sum_c W[r][c] * x[i][c].
 *   - Values that change per token (token id, position, sequence) are NOT push constants:
 *     they live in a small "rows" buffer of plume_gpu_row, one per activation row, which the
 *     caller rewrites with plume_gpu_upload before re-submitting a recorded command buffer.
 *   - A KV cache is a buffer of F32 [n_seq][ctx][kv_dim], kv_dim = n_kv_heads * head_dim,
 *     one for K and one for V per layer.
 *
 * Environment:
 *   PLUME_DEVICE=index|name-substring   pick the device (see `plume devices`)
 *   PLUME_VALIDATE=1                    Khronos validation layer + synchronization validation;
 *                                       every message is printed and counted
 *   PLUME_PROFILE=1                     timestamp every dispatch; per-kernel times are printed
 *                                       at plume_gpu_close (or plume_gpu_profile_print)
 *
 * Thread safety: one plume_gpu may be used by one thread at a time. */
#ifndef PLUME_GPU_H
#define PLUME_GPU_H

#include <stdint.h>
#include <stdio.h>
#include "plume/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plume_gpu plume_gpu;
typedef struct plume_gpu_buffer plume_gpu_buffer;
typedef struct plume_gpu_kernel plume_gpu_kernel;
typedef struct plume_gpu_rec plume_gpu_rec;
typedef struct plume_gpu_weight plume_gpu_weight;

/* ---- devices ------------------------------------------------------------------------ */

typedef enum plume_gpu_kind {
    PLUME_GPU_KIND_OTHER = 0,
    PLUME_GPU_KIND_INTEGRATED,
    PLUME_GPU_KIND_DISCRETE,
    PLUME_GPU_KIND_VIRTUAL,
    PLUME_GPU_KIND_CPU
} plume_gpu_kind;

typedef struct plume_gpu_info {
    int index;                          /* position in Vulkan's enumeration (PLUME_DEVICE=index) */
    char name[256];
    plume_gpu_kind kind;
    const char *kind_name;              /* "discrete", "integrated", "virtual", "cpu", "other" */
    uint32_t vendor_id, device_id;
    uint32_t api_version;               /* VK_MAKE_API_VERSION packed */
    uint64_t device_local_bytes;        /* sum of device-local heaps */
    uint32_t subgroup_size;
    uint64_t max_storage_buffer_range;  /* bytes one storage binding may span */
    uint64_t max_allocation_bytes;      /* largest single buffer */
    uint64_t max_texel_buffer_elements; /* texels one texel-buffer view may span */
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint32_t max_shared_memory;
    uint32_t max_push_constants;
    float timestamp_period_ns;          /* 0 when the compute queue has no timestamps */
    int usable;                         /* has a compute queue and what plume needs */
    int subgroup_ballot;                /* subgroupBroadcast in compute (the fast training matmuls) */
    int subgroup_shuffle;               /* subgroupShuffle in compute (matmul's shared x) */
} plume_gpu_info;

/* Fills up to max entries of out (out may be NULL when max is 0); returns the number of
 * devices, or -1 with err set (no Vulkan loader / no device: the message names
 * mesa-vulkan-drivers). */
PLUME_API int plume_gpu_list(plume_gpu_info *out, int max, plume_error *err);

/* Opens the device chosen by PLUME_DEVICE, else the first usable by preference
 * discrete > integrated > virtual > cpu > other. NULL with err set on failure. */
PLUME_API plume_gpu *plume_gpu_open(plume_error *err);
/* Waits for the device, prints the profile when PLUME_PROFILE=1, frees everything the
 * gpu still owns (kernels). Buffers, weights and recordings must be freed before. */
PLUME_API void plume_gpu_close(plume_gpu *gpu);
PLUME_API const plume_gpu_info *plume_gpu_device_info(const plume_gpu *gpu);

/* Validation messages (warnings and errors) seen since the process started, over all
 * devices opened with PLUME_VALIDATE=1. Tests assert this is 0. */
PLUME_API long plume_gpu_validation_count(void);

/* Per-kernel time (sum, count, mean) collected with PLUME_PROFILE=1, then reset. */
PLUME_API void plume_gpu_profile_print(plume_gpu *gpu, FILE *f);
PLUME_API int plume_gpu_profiling(const plume_gpu *gpu);

/* Device read bandwidth in GB/s: one submit of `repeat` dispatches that each stream
 * `bytes` (capped at the device's texel-buffer limit) through a texel view, timed by the
 * wall clock around the submit. For `plume bench`. */
PLUME_API int plume_gpu_measure_bandwidth(plume_gpu *gpu, uint64_t bytes, int repeat, double *gbps,
                                          plume_error *err);

/* ---- buffers ------------------------------------------------------------------------ */

enum {
    PLUME_GPU_BUFFER_DEVICE = 0,   /* device-local (weights, activations, caches) */
    PLUME_GPU_BUFFER_HOST = 1      /* host-visible and mapped (staging, read-back) */
};

/* A buffer usable as storage buffer, texel buffer and copy source/destination.
 * Fails with a clear message when bytes exceeds maxMemoryAllocationSize. A buffer may be
 * larger than maxStorageBufferRange; a single binding of it may not (the ops split). */
PLUME_API plume_gpu_buffer *plume_gpu_buffer_create(plume_gpu *gpu, uint64_t bytes, unsigned flags,
                                                    plume_error *err);
PLUME_API void plume_gpu_buffer_free(plume_gpu_buffer *buf);
PLUME_API uint64_t plume_gpu_buffer_bytes(const plume_gpu_buffer *buf);
/* The host address of a buffer whose memory is host-visible (always for _HOST; for
 * _DEVICE on unified-memory devices such as lavapipe), else NULL. */
PLUME_API void *plume_gpu_buffer_map(plume_gpu_buffer *buf);

/* Synchronous copies between host memory and a buffer (through a staging buffer when the
 * buffer is not host-visible). Must not overlap a running submit that uses the buffer. */
PLUME_API int plume_gpu_upload(plume_gpu_buffer *dst, uint64_t offset, const void *src, uint64_t bytes,
                               plume_error *err);
PLUME_API int plume_gpu_download(plume_gpu_buffer *src, uint64_t offset, void *dst, uint64_t bytes,
                                 plume_error *err);
/* Sets bytes (a multiple of 4) from offset to the 32-bit value (0 clears a KV cache). */
PLUME_API int plume_gpu_fill(plume_gpu_buffer *dst, uint64_t offset, uint64_t bytes, uint32_t value,
                             plume_error *err);

/* ---- kernels ------------------------------------------------------------------------ */

/* A compute pipeline for the embedded shader `shader` (shaders/<shader>.comp).
 * bindings: one character per binding 0..n-1 in set 0: 's' storage buffer, 't' uniform
 * texel buffer viewed as RGBA32UI (usamplerBuffer), 'f' one viewed as R32F (samplerBuffer). push_bytes: the push-constant block
 * size (<= 128). spec: specialization constants with constant_id 0..n_spec-1 (uint32
 * bit patterns; floats by memcpy). Kernels are cached by (shader, bindings, spec) and
 * owned by the gpu: get them as often as you like, never free them. */
PLUME_API plume_gpu_kernel *plume_gpu_kernel_get(plume_gpu *gpu, const char *shader, const char *bindings,
                                                 uint32_t push_bytes, const uint32_t *spec, int n_spec,
                                                 plume_error *err);

/* ---- recordings --------------------------------------------------------------------- */

/* One binding: a range of a buffer. bytes == 0 means "to the end of the buffer".
 * offset must be a multiple of 16 (minStorage/TexelBufferOffsetAlignment on every device
 * plume targets is <= 16 for texel, <= 256 for storage — checked). */
typedef struct plume_gpu_binding {
    plume_gpu_buffer *buffer;
    uint64_t offset;
    uint64_t bytes;
} plume_gpu_binding;

/* Starts recording a command buffer. Dispatches run in order only where a barrier
 * separates them (plume_gpu_rec_barrier); the ops below add one after themselves. */
PLUME_API plume_gpu_rec *plume_gpu_rec_begin(plume_gpu *gpu, plume_error *err);
/* Records a dispatch of groups_x*groups_y*groups_z workgroups. n_bindings must match the
 * kernel's binding string; push points to the kernel's push_bytes (NULL when 0).
 * Ranges are checked against maxStorageBufferRange / maxTexelBufferElements. */
PLUME_API int plume_gpu_rec_dispatch(plume_gpu_rec *rec, plume_gpu_kernel *k, const plume_gpu_binding *b,
                                     int n_bindings, const void *push, uint32_t groups_x, uint32_t groups_y,
                                     uint32_t groups_z, plume_error *err);
/* Makes every earlier shader or copy write visible to every later shader or copy. */
PLUME_API void plume_gpu_rec_barrier(plume_gpu_rec *rec);
PLUME_API int plume_gpu_rec_copy(plume_gpu_rec *rec, plume_gpu_buffer *src, uint64_t src_offset,
                                 plume_gpu_buffer *dst, uint64_t dst_offset, uint64_t bytes, plume_error *err);
/* Ends recording; fails if any earlier call on rec failed. */
PLUME_API int plume_gpu_rec_end(plume_gpu_rec *rec, plume_error *err);
/* Submits the recorded command buffer and waits for it. May be called any number of
 * times after plume_gpu_rec_end (rewrite the rows buffer between calls). */
PLUME_API int plume_gpu_rec_submit(plume_gpu_rec *rec, plume_error *err);
PLUME_API void plume_gpu_rec_free(plume_gpu_rec *rec);
PLUME_API plume_gpu *plume_gpu_rec_gpu(plume_gpu_rec *rec);

/* ---- weights ------------------------------------------------------------------------ */

/* Numbered as in ggml/GGUF; the data given to plume_gpu_weight_create is in ggml's block
 * layout for the type. */
typedef enum plume_gpu_type {
    PLUME_GPU_F32 = 0,
    PLUME_GPU_F16 = 1,
    PLUME_GPU_Q4_0 = 2,    /* blocks of 32: f16 scale d, 16 bytes; byte j holds values j (low
                              nibble) and j + 16 (high nibble); value = d * (nibble - 8) */
    PLUME_GPU_Q4_1 = 3,    /* blocks of 32: f16 d, f16 m, Q4_0's nibbles; value = d * nibble + m */
    PLUME_GPU_Q5_0 = 6,    /* blocks of 32: f16 d, 32 fifth bits, nibbles; value = d * (q - 16) */
    PLUME_GPU_Q5_1 = 7,    /* blocks of 32: f16 d, f16 m, fifth bits, nibbles; value = d * q + m */
    PLUME_GPU_Q8_0 = 8,    /* blocks of 32: f16 scale d, 32 x int8 q; value = d * q */
    PLUME_GPU_Q4_K = 12,   /* super-blocks of 256: 8 x 32 with 6-bit scales and mins, nibbles */
    PLUME_GPU_Q5_K = 13,   /* Q4_K with a fifth bit per value */
    PLUME_GPU_Q6_K = 14    /* super-blocks of 256: 16 x 16 with int8 scales, 6-bit q - 32 */
} plume_gpu_type;

/* Uploads a rows x cols matrix given in ggml layout (row-major, each row `cols` elements;
 * the 32-blocks need cols % 32 == 0, the K-quants cols % 256 == 0). Repacked on the way
 * into what the kernels read (engine/gpu/gpu_weight.c): rows padded to 16 bytes for texel
 * reads, a separate f32 scale per block (and a minimum where the type has one):
 *   F32, F16: as given;  Q8_0, Q5_0 (q - 16), Q5_1, Q5_K (sub-blocks of 32), Q6_K
 *   (sub-blocks of 16, q - 32): one int8 per value;  Q4_0, Q4_1, Q4_K (sub-blocks of 32):
 *   one 16-byte texel of nibbles per 32 values.
 * Split into parts where the matrix exceeds maxTexelBufferElements or
 * maxStorageBufferRange (a single row that exceeds them is rejected with a message naming
 * the limit). */
PLUME_API plume_gpu_weight *plume_gpu_weight_create(plume_gpu *gpu, plume_gpu_type type, uint32_t rows,
                                                    uint32_t cols, const void *data, plume_error *err);
PLUME_API void plume_gpu_weight_free(plume_gpu_weight *w);
PLUME_API uint64_t plume_gpu_weight_bytes(const plume_gpu_weight *w);  /* device bytes used */
PLUME_API uint32_t plume_gpu_weight_rows(const plume_gpu_weight *w);
PLUME_API uint32_t plume_gpu_weight_cols(const plume_gpu_weight *w);
/* Bytes of ggml-layout data for rows x cols of type (0 for a bad shape/type). */
PLUME_API uint64_t plume_gpu_type_bytes(plume_gpu_type type, uint64_t rows, uint64_t cols);

/* ---- transformer ops (each records dispatches + a trailing barrier) ----------------- */

/* Per activation row: the token it holds, its position in its sequence, and which
 * sequence (KV cache slice) it belongs to. 16 bytes, std430-compatible. */
typedef struct plume_gpu_row {
    uint32_t token;
    uint32_t pos;
    uint32_t seq;
    uint32_t pad;
} plume_gpu_row;

/* out[i][:] = table[rows[i].token][:] for i < n (table: vocab x dim, any weight type). */
PLUME_API int plume_gpu_embed(plume_gpu_rec *rec, const plume_gpu_weight *table, plume_gpu_buffer *rows,
                              plume_gpu_buffer *out, uint32_t n, plume_error *err);

/* y[i] = x[i] / sqrt(mean(x[i]^2) + eps) * w, for n rows of dim. y may equal x. */
PLUME_API int plume_gpu_rmsnorm(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *w,
                                plume_gpu_buffer *y, uint32_t n, uint32_t dim, float eps, plume_error *err);
/* Fused residual add and norm, one dispatch instead of two: x += r, then y = rmsnorm(x) * w
 * (x, r and y three different buffers of n x dim). */
PLUME_API int plume_gpu_add_rmsnorm(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *r,
                                    plume_gpu_buffer *w, plume_gpu_buffer *y, uint32_t n, uint32_t dim, float eps,
                                    plume_error *err);

/* y = W x, then h += y and out = rmsnorm(h) * w (plume_gpu_matmul, then
 * plume_gpu_add_rmsnorm(h, y, w, out), dim = W's rows): one dispatch for up to 8 rows
 * (decoding), the last workgroup doing the norm; two for more. */
PLUME_API int plume_gpu_matmul_add_rmsnorm(plume_gpu_rec *rec, const plume_gpu_weight *w, plume_gpu_buffer *x,
                                           plume_gpu_buffer *y, plume_gpu_buffer *h, plume_gpu_buffer *nw,
                                           plume_gpu_buffer *out, uint32_t n, float eps, plume_error *err);

/* y[i][r] = sum_c W[r][c] x[i][c], i < n: x is n x cols, y is n x rows (y != x).
 * n <= 8 uses the matrix-vector kernel (reads W once for all n), larger n the tiled one. */
PLUME_API int plume_gpu_matmul(plume_gpu_rec *rec, const plume_gpu_weight *w, plume_gpu_buffer *x,
                               plume_gpu_buffer *y, uint32_t n, plume_error *err);

/* The q, k and v projections of one x: q = Wq x, k = Wk x, v = Wv x (same columns; rows
 * may differ, as with grouped-query heads), as three matmul dispatches. */
PLUME_API int plume_gpu_matmul_qkv(plume_gpu_rec *rec, const plume_gpu_weight *wq, const plume_gpu_weight *wk,
                                   const plume_gpu_weight *wv, plume_gpu_buffer *x, plume_gpu_buffer *q,
                                   plume_gpu_buffer *k, plume_gpu_buffer *v, uint32_t n, plume_error *err);

/* The same in one dispatch from one weight w whose rows are Wq's q_rows, then Wk's k_rows,
 * then Wv's (w->rows - q_rows - k_rows) rows, stacked at upload (the tensors' rows
 * concatenated): q is n x q_rows, k n x k_rows, v n x the rest. */
PLUME_API int plume_gpu_matmul_stacked(plume_gpu_rec *rec, const plume_gpu_weight *w, uint32_t q_rows,
                                       uint32_t k_rows, plume_gpu_buffer *x, plume_gpu_buffer *q,
                                       plume_gpu_buffer *k, plume_gpu_buffer *v, uint32_t n, plume_error *err);

/* The SwiGLU feed-forward's first half in one dispatch instead of three:
 * y[i][r] = silu(gate[r] . x[i]) * (up[r] . x[i]); gate and up of the same shape and type
 * (hidden x dim), x is n x dim, y is n x hidden. Equals matmul, matmul, silu_mul. */
PLUME_API int plume_gpu_matmul_swiglu(plume_gpu_rec *rec, const plume_gpu_weight *gate, const plume_gpu_weight *up,
                                      plume_gpu_buffer *x, plume_gpu_buffer *y, uint32_t n, plume_error *err);

/* Rotary embedding in place on x (n rows of n_heads*head_dim), position rows[i].pos,
 * frequency theta^(-2j/head_dim). neox = 0: pairs (2j, 2j+1) ("normal", llama.cpp
 * LLAMA_ROPE_TYPE_NORM); neox = 1: pairs (j, j + head_dim/2). head_dim must be even. */
PLUME_API int plume_gpu_rope(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *rows, uint32_t n,
                             uint32_t n_heads, uint32_t head_dim, float theta, int neox, plume_error *err);

/* kcache[rows[i].seq][rows[i].pos][:] = k[i][:], same for v; k, v are n x kv_dim.
 * A row whose pos >= ctx is skipped (the caller must not let that happen). */
PLUME_API int plume_gpu_kv_store(plume_gpu_rec *rec, plume_gpu_buffer *k, plume_gpu_buffer *v,
                                 plume_gpu_buffer *rows, plume_gpu_buffer *kcache, plume_gpu_buffer *vcache,
                                 uint32_t n, uint32_t kv_dim, uint32_t ctx, plume_error *err);

/* rope on q (n x n_heads*head_dim) and k (n x n_kv_heads*head_dim), both in place, then
 * kv_store of k and v: one dispatch instead of three, same results. factors, when not NULL,
 * holds head_dim/2 floats: pair j's frequency is multiplied by factors[j] (Llama 3's
 * 1 / rope_freqs, linear rope scaling's 1 / factor). */
PLUME_API int plume_gpu_rope_kv_store(plume_gpu_rec *rec, plume_gpu_buffer *q, plume_gpu_buffer *k,
                                      plume_gpu_buffer *v, plume_gpu_buffer *rows, plume_gpu_buffer *kcache,
                                      plume_gpu_buffer *vcache, uint32_t n, uint32_t n_heads, uint32_t n_kv_heads,
                                      uint32_t head_dim, uint32_t ctx, float theta, int neox,
                                      plume_gpu_buffer *factors, plume_error *err);

/* Decoding, every row a different sequence: plume_gpu_rope_kv_store then plume_gpu_attention
 * in one dispatch (the attention rotates q and the row's k itself, takes the row's own
 * position from k and v, and stores them into the caches); q and k are left unrotated.
 * Rows of one sequence in one call (a prompt) would race: use the two ops there. */
PLUME_API int plume_gpu_rope_attention(plume_gpu_rec *rec, plume_gpu_buffer *q, plume_gpu_buffer *k,
                                       plume_gpu_buffer *v, plume_gpu_buffer *rows, plume_gpu_buffer *kcache,
                                       plume_gpu_buffer *vcache, plume_gpu_buffer *out, uint32_t n, uint32_t n_heads,
                                       uint32_t n_kv_heads, uint32_t head_dim, uint32_t ctx, float theta, int neox,
                                       plume_gpu_buffer *factors, plume_error *err);
/* Causal attention with grouped-query heads over the KV cache: for row i and head h,
 * out[i][h] = softmax_t(q[i][h] . K[t][h/g] / sqrt(head_dim)) V[t][h/g] over
 * t = 0..rows[i].pos of sequence rows[i].seq, g = n_heads / n_kv_heads (online softmax).
 * q and out are n x (n_heads*head_dim). Store this step's K and V first. */
PLUME_API int plume_gpu_attention(plume_gpu_rec *rec, plume_gpu_buffer *q, plume_gpu_buffer *kcache,
                                  plume_gpu_buffer *vcache, plume_gpu_buffer *rows, plume_gpu_buffer *out,
                                  uint32_t n, uint32_t n_heads, uint32_t n_kv_heads, uint32_t head_dim,
                                  uint32_t ctx, plume_error *err);

/* out[j] = silu(gate[j]) * up[j] = gate[j] / (1 + exp(-gate[j])) * up[j], j < count. */
PLUME_API int plume_gpu_silu_mul(plume_gpu_rec *rec, plume_gpu_buffer *gate, plume_gpu_buffer *up,
                                 plume_gpu_buffer *out, uint32_t count, plume_error *err);

/* x[i][c] += bias[c] for i < n, c < dim (a projection's bias, broadcast over the rows). */
PLUME_API int plume_gpu_add_bias(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *bias, uint32_t n,
                                 uint32_t dim, plume_error *err);

/* x[j] += y[j], j < count (the residual add). */
PLUME_API int plume_gpu_add(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *y, uint32_t count,
                            plume_error *err);

/* out[i] = the index of the largest x[i][j], j < dim (lowest index on ties), as uint32,
 * for n rows: greedy decoding reads back 4 bytes per row instead of the logits. */
PLUME_API int plume_gpu_argmax(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *out, uint32_t n,
                               uint32_t dim, plume_error *err);

/* One row's draw for plume_gpu_sample: the CPU sampler's parameters (plume_sampler,
 * include/plume/lm.h) and the uniform it would have drawn. */
#define PLUME_GPU_SAMPLE_TOP_K_MAX 256
typedef struct plume_gpu_draw {
    float inv_temperature; /* 1 / temperature, temperature > 0 */
    uint32_t top_k;        /* 1 .. PLUME_GPU_SAMPLE_TOP_K_MAX (clamped there) */
    float top_p;           /* keep the smallest prefix reaching p; >= 1 or <= 0: no top-p */
    float r;               /* the draw's uniform in [0, 1) */
} plume_gpu_draw;

/* out[i] = a token drawn from row i of x (n rows of dim logits) by draws[i] (a buffer of n
 * plume_gpu_draw), as uint32: the top_k largest logits (ties: lower ids), ranked by logit
 * then id, weighed exp((l - max) * inv_temperature), cut to top-p's prefix, and the first
 * whose running weight exceeds r times the kept weight. The CPU sampler's arithmetic in
 * its order: the two pick alike but where exp() rounds differently at a boundary. */
PLUME_API int plume_gpu_sample(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *draws,
                               plume_gpu_buffer *out, uint32_t n, uint32_t dim, plume_error *err);

/* Mixes a sparse distribution into n rows of dim logits, in place: after it, softmax of row i
 * is (1 - w) softmax(row i) + w q, where row i's entry of `mix` (n entries of k_max pairs, see
 * plume_gpu_mix_row) gives w in (0, 1) and q on at most k_max distinct tokens. Only the listed
 * tokens' logits change; a row with count 0 is untouched. The personal memory of generation
 * (lm.h, plume_mix) uses it before the argmax or the draw. */
typedef struct plume_gpu_mix_entry {
    uint32_t token;
    float prob;
} plume_gpu_mix_entry;
/* The layout of one row of the mix buffer: its count, its weight, then k_max entries. */
typedef struct plume_gpu_mix_head {
    uint32_t count;
    float weight;
} plume_gpu_mix_head;
/* Bytes of one row of a mix buffer with room for k_max entries. */
#define PLUME_GPU_MIX_ROW_BYTES(k_max) (sizeof(plume_gpu_mix_head) + (size_t)(k_max) * sizeof(plume_gpu_mix_entry))
PLUME_API int plume_gpu_mix(plume_gpu_rec *rec, plume_gpu_buffer *x, plume_gpu_buffer *mix, uint32_t n,
                            uint32_t dim, uint32_t k_max, plume_error *err);

#ifdef __cplusplus
}
#endif
#endif
