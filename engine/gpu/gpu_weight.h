/* The repacked weight, shared by gpu_weight.c (upload) and gpu_ops.c (dispatch). */
#ifndef PLUME_GPU_WEIGHT_H
#define PLUME_GPU_WEIGHT_H

#include "plume/gpu.h"

/* What the kernels read (shaders/common.glsl's TYPE_*): the ggml types map onto these. */
enum {
    GPU_FMT_F32 = 0,
    GPU_FMT_F16 = 1,
    GPU_FMT_Q4_0 = 2,    /* nibbles, value = scale * (nibble - 8), a scale per 32: Q4_0 */
    GPU_FMT_Q4_1 = 3,    /* nibbles, value = scale * nibble + min, per 32: Q4_1, Q4_K */
    GPU_FMT_Q5 = 4,      /* nibbles and a fifth-bit plane, value = scale * q + min, per 32: Q5_0
                            (min = -16 * scale), Q5_1, Q5_K */
    GPU_FMT_Q8_0 = 8,    /* int8, value = scale * q, per 32: Q8_0 */
    GPU_FMT_Q8_16 = 10   /* int8, value = scale * q, a scale per 16: Q6_K */
};

/* The kernel format of a type (-1 for a type the device does not take). */
int gpu_weight_format(plume_gpu_type type);
/* Values per scale (32 or 16), 0 for F32/F16; whether the format has a minimum per block;
 * whether its values are nibbles (one texel per 32). */
uint32_t gpu_format_block(int fmt);
int gpu_format_has_min(int fmt);
int gpu_format_nibbles(int fmt);

struct plume_gpu_weight {
    plume_gpu *gpu;
    plume_gpu_type type;            /* as given (ggml's numbering) */
    int fmt;                        /* as the kernels read it (GPU_FMT_*) */
    uint32_t rows, cols;
    uint32_t tpr;                   /* 16-byte texels per padded row */
    uint32_t rows_per_part;         /* every part but the last holds this many rows */
    uint32_t n_parts;
    plume_gpu_buffer **w;           /* per part: repacked rows */
    plume_gpu_buffer **scales;      /* per part: quantized formats' f32 scales, 4 blocks per texel, else NULL */
    plume_gpu_buffer **mins;        /* per part: the f32 minimums, laid out as the scales (Q4_1, Q5), else NULL */
    plume_gpu_buffer **high;        /* per part: Q5's fifth bits, a uint per block laid out as the scales, else NULL */
    uint64_t bytes;
};

/* IEEE binary16 -> binary32 (exact). */
float gpu_half_to_float(uint16_t h);

#endif
