/* The repacked weight, shared by gpu_weight.c (upload) and gpu_ops.c (dispatch). */
#ifndef PLUME_GPU_WEIGHT_H
#define PLUME_GPU_WEIGHT_H

#include "plume/gpu.h"

struct plume_gpu_weight {
    plume_gpu *gpu;
    plume_gpu_type type;
    uint32_t rows, cols;
    uint32_t tpr;                   /* 16-byte texels per padded row */
    uint32_t rows_per_part;         /* every part but the last holds this many rows */
    uint32_t n_parts;
    plume_gpu_buffer **w;           /* per part: repacked rows */
    plume_gpu_buffer **scales;      /* per part: Q8_0/Q4_0 f32 scales, 4 blocks per texel, else NULL */
    uint64_t bytes;
};

/* IEEE binary16 -> binary32 (exact). */
float gpu_half_to_float(uint16_t h);

#endif
