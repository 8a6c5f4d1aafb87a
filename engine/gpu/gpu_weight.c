/* Weights: a matrix uploaded once, repacked for the kernels, split into parts that fit
 * the device's binding limits.
 *
 * Repacked layout (what shaders/matmul.comp and embed.comp read through an RGBA32UI
 * texel view): each row padded with zeros to a whole number of 16-byte texels. Q8_0's
 * interleaved ggml block {f16 d; int8 q[32]} (34 bytes, unaligned) becomes int8 rows
 * (cols bytes, 16-byte aligned since cols % 32 == 0) plus a separate f32 array of the
 * scales, 4 blocks of a row per 16-byte texel (one fetch serves 4 blocks; a row's last
 * texel padded with zeros): on lavapipe that runs 3-4x faster than decoding the blocks.
 * Q4_0's block {f16 d; 16 bytes of nibbles} becomes one texel of nibbles, reordered so
 * that value e is nibble e % 8 of word e / 8 (4 consecutive values = 16 consecutive bits),
 * plus the same f32 scale array.
 *
 * Rows are interleaved in groups of RG = 8: texel j of row r is at
 * ((r / 8) * tpr + j) * 8 + r % 8 within its part (a scale texel likewise),
 * and a part is padded with zero rows to a multiple of 8. matmul gives neighbouring
 * invocations neighbouring rows, so at each step the 8 SIMD lanes of a lavapipe subgroup
 * read 128 contiguous bytes (one stream per subgroup) instead of 8 rows a row apart (8
 * streams): the weights of a model do not fit the caches and are streamed every token. */
#include <stdlib.h>
#include <string.h>
#include "gpu_internal.h"
#include "gpu_weight.h"

float gpu_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  /* subnormal: normalize */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400u));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint64_t plume_gpu_type_bytes(plume_gpu_type type, uint64_t rows, uint64_t cols) {
    if (rows > (1ull << 32) || cols > (1ull << 32)) return 0;
    switch (type) {
    case PLUME_GPU_F32: return rows * cols * 4;
    case PLUME_GPU_F16: return rows * cols * 2;
    case PLUME_GPU_Q8_0: return cols % 32 ? 0 : rows * (cols / 32) * 34;
    case PLUME_GPU_Q4_0: return cols % 32 ? 0 : rows * (cols / 32) * 18;
    default: return 0;
    }
}

static uint64_t row_texels(plume_gpu_type type, uint32_t cols) {
    uint64_t bytes = type == PLUME_GPU_F32   ? (uint64_t)cols * 4
                     : type == PLUME_GPU_F16 ? (uint64_t)cols * 2
                     : type == PLUME_GPU_Q8_0 ? cols
                                              : cols / 2;
    return (bytes + 15) / 16;
}

#define RG 8u   /* rows interleaved per group (shaders/common.glsl's wtexel) */

static uint64_t round_rows(uint64_t nr) { return (nr + RG - 1) / RG * RG; }

/* Index of element j (of n per row) of row r in the interleaved layout. */
static size_t ileave(uint32_t r, uint64_t j, uint64_t n) { return ((size_t)(r / RG) * n + j) * RG + r % RG; }

/* Scale texels per row: 4 blocks' f32 scales per texel (shaders/common.glsl's scale_texel). */
static uint64_t scale_texels(uint32_t cols) { return ((uint64_t)cols / 32 + 3) / 4; }

/* Index of block b's scale of row r (cols values per row): component b % 4 of its texel. */
static size_t sidx(uint32_t r, uint32_t b, uint32_t cols) { return ileave(r, b / 4, scale_texels(cols)) * 4 + b % 4; }

/* Writes rows [r0, r0 + nr) of the ggml-layout data into repacked dst (and scales), in
 * the interleaved order; texels past a row's end and rows past nr stay zero. */
static void repack(plume_gpu_type type, uint32_t cols, uint64_t tpr, const uint8_t *src, uint32_t r0, uint32_t nr,
                   uint8_t *dst, float *scales) {
    uint8_t *out = dst;
    memset(dst, 0, (size_t)(round_rows(nr) * tpr * 16));
    if (scales) memset(scales, 0, (size_t)(round_rows(nr) * scale_texels(cols) * 16));
    for (uint32_t r = 0; r < nr; r++) {
        /* Copy the texels of row r one by one to their interleaved places. */
        uint8_t row[16 * 64];   /* F32/F16 rows go through in chunks of 64 texels */
        if (type == PLUME_GPU_F32 || type == PLUME_GPU_F16) {
            uint64_t bytes = (uint64_t)cols * (type == PLUME_GPU_F32 ? 4 : 2);
            const uint8_t *in = src + (size_t)(r0 + r) * bytes;
            for (uint64_t j0 = 0; j0 < tpr; j0 += 64) {
                uint64_t nb = bytes - j0 * 16 < sizeof row ? bytes - j0 * 16 : sizeof row;
                memset(row, 0, sizeof row);
                memcpy(row, in + j0 * 16, (size_t)nb);
                for (uint64_t j = j0; j < tpr && j < j0 + 64; j++)
                    memcpy(out + ileave(r, j, tpr) * 16, row + (j - j0) * 16, 16);
            }
        } else if (type == PLUME_GPU_Q4_0) {
            uint32_t nb = cols / 32;
            const uint8_t *blocks = src + (size_t)(r0 + r) * nb * 18;
            for (uint32_t b = 0; b < nb; b++) {
                const uint8_t *blk = blocks + (size_t)b * 18;
                scales[sidx(r, b, cols)] = gpu_half_to_float((uint16_t)(blk[0] | blk[1] << 8));
                uint32_t words[4] = {0, 0, 0, 0};
                for (uint32_t e = 0; e < 32; e++) {
                    uint32_t nib = e < 16 ? blk[2 + e] & 15u : blk[2 + e - 16] >> 4;
                    words[e / 8] |= nib << (4 * (e % 8));
                }
                memcpy(out + ileave(r, b, tpr) * 16, words, 16);
            }
        } else {
            uint32_t nb = cols / 32;
            const uint8_t *blocks = src + (size_t)(r0 + r) * nb * 34;
            for (uint32_t b = 0; b < nb; b++) {
                const uint8_t *blk = blocks + (size_t)b * 34;
                scales[sidx(r, b, cols)] = gpu_half_to_float((uint16_t)(blk[0] | blk[1] << 8));
                memcpy(out + ileave(r, 2 * (uint64_t)b, tpr) * 16, blk + 2, 16);
                memcpy(out + ileave(r, 2 * (uint64_t)b + 1, tpr) * 16, blk + 18, 16);
            }
        }
    }
}

plume_gpu_weight *plume_gpu_weight_create(plume_gpu *gpu, plume_gpu_type type, uint32_t rows, uint32_t cols,
                                          const void *data, plume_error *err) {
    if (type != PLUME_GPU_F32 && type != PLUME_GPU_F16 && type != PLUME_GPU_Q8_0 && type != PLUME_GPU_Q4_0) {
        plume_fail(err, "GPU weights of ggml type %d are not supported; hint: use F32, F16, Q8_0 or Q4_0", (int)type);
        return NULL;
    }
    int blocked = type == PLUME_GPU_Q8_0 || type == PLUME_GPU_Q4_0;
    if (rows == 0 || cols == 0 || (blocked && cols % 32)) {
        plume_fail(err, "a %u x %u weight matrix is not valid%s", rows, cols,
                   blocked ? " for a block-quantized type (columns must be a multiple of 32)" : "");
        return NULL;
    }
    uint64_t tpr = row_texels(type, cols);
    uint64_t row_bytes = tpr * 16;
    /* A part is what one texel view may span, and one allocation may hold. */
    uint64_t limit = gpu->info.max_texel_buffer_elements * 16;
    if (limit > gpu->info.max_allocation_bytes) limit = gpu->info.max_allocation_bytes;
    if (limit > (uint64_t)INT32_MAX * 16) limit = (uint64_t)INT32_MAX * 16;  /* texelFetch takes an int */
    if (gpu->part_limit && gpu->part_limit < limit) limit = gpu->part_limit;
    uint64_t scale_row = blocked ? scale_texels(cols) * 16 : 0;
    uint64_t per_part = limit / row_bytes;
    if (scale_row && per_part > gpu->info.max_storage_buffer_range / scale_row)
        per_part = gpu->info.max_storage_buffer_range / scale_row;
    if (per_part == 0) {
        plume_fail(err, "one row of a %u x %u weight (%llu bytes) exceeds what this device can bind "
                   "(maxTexelBufferElements %llu texels of 16 bytes, maxMemoryAllocationSize %llu bytes)",
                   rows, cols, (unsigned long long)row_bytes, (unsigned long long)gpu->info.max_texel_buffer_elements,
                   (unsigned long long)gpu->info.max_allocation_bytes);
        return NULL;
    }
    if (per_part >= RG) per_part -= per_part % RG;   /* whole groups of interleaved rows */
    if (per_part > rows) per_part = rows;
    /* A part is padded to whole groups: that must still fit the device's own limits (a
     * lowered test limit may be exceeded by the padding, the device's may not). */
    uint64_t real = gpu->info.max_texel_buffer_elements * 16;
    if (real > gpu->info.max_allocation_bytes) real = gpu->info.max_allocation_bytes;
    if (round_rows(per_part) > real / row_bytes ||
        (scale_row && round_rows(per_part) > gpu->info.max_storage_buffer_range / scale_row)) {
        plume_fail(err, "%u rows of a %u x %u weight (%llu bytes each, interleaved in groups of %u) exceed what this "
                   "device can bind (maxTexelBufferElements %llu texels of 16 bytes, maxMemoryAllocationSize %llu bytes)",
                   RG, rows, cols, (unsigned long long)row_bytes, RG,
                   (unsigned long long)gpu->info.max_texel_buffer_elements,
                   (unsigned long long)gpu->info.max_allocation_bytes);
        return NULL;
    }
    uint32_t n_parts = (uint32_t)((rows + per_part - 1) / per_part);
    plume_gpu_weight *w = calloc(1, sizeof *w);
    if (!w || !(w->w = calloc(n_parts, sizeof *w->w)) || !(w->scales = calloc(n_parts, sizeof *w->scales))) {
        plume_fail(err, "out of memory");
        plume_gpu_weight_free(w);
        return NULL;
    }
    w->gpu = gpu;
    w->type = type;
    w->rows = rows;
    w->cols = cols;
    w->tpr = (uint32_t)tpr;
    w->rows_per_part = (uint32_t)per_part;
    w->n_parts = n_parts;
    for (uint32_t p = 0; p < n_parts; p++) {
        uint32_t r0 = p * w->rows_per_part;
        uint32_t nr = rows - r0 < w->rows_per_part ? rows - r0 : w->rows_per_part;
        uint64_t wbytes = round_rows(nr) * row_bytes, sbytes = round_rows(nr) * scale_row;
        if (!(w->w[p] = plume_gpu_buffer_create(gpu, wbytes, PLUME_GPU_BUFFER_DEVICE, err))) goto fail;
        if (sbytes && !(w->scales[p] = plume_gpu_buffer_create(gpu, sbytes, PLUME_GPU_BUFFER_DEVICE, err))) goto fail;
        w->bytes += wbytes + sbytes;
        /* Repack straight into mapped memory where the device allows it (lavapipe). */
        uint8_t *dst = plume_gpu_buffer_map(w->w[p]);
        float *sdst = sbytes ? plume_gpu_buffer_map(w->scales[p]) : NULL;
        uint8_t *tmp = NULL;
        float *stmp = NULL;
        if (!dst && !(dst = tmp = malloc(wbytes))) goto oom;
        if (sbytes && !sdst && !(sdst = stmp = malloc(sbytes))) {
            free(tmp);
            goto oom;
        }
        repack(type, cols, tpr, data, r0, nr, dst, sdst);
        int rc = 0;
        if (tmp) rc = plume_gpu_upload(w->w[p], 0, tmp, wbytes, err);
        if (!rc && stmp) rc = plume_gpu_upload(w->scales[p], 0, stmp, sbytes, err);
        free(tmp);
        free(stmp);
        if (rc) goto fail;
    }
    return w;
oom:
    plume_fail(err, "out of memory repacking a %u x %u weight", rows, cols);
fail:
    plume_gpu_weight_free(w);
    return NULL;
}

void plume_gpu_weight_free(plume_gpu_weight *w) {
    if (!w) return;
    for (uint32_t p = 0; p < w->n_parts; p++) {
        if (w->w) plume_gpu_buffer_free(w->w[p]);
        if (w->scales) plume_gpu_buffer_free(w->scales[p]);
    }
    free(w->w);
    free(w->scales);
    free(w);
}

uint64_t plume_gpu_weight_bytes(const plume_gpu_weight *w) { return w ? w->bytes : 0; }
uint32_t plume_gpu_weight_rows(const plume_gpu_weight *w) { return w->rows; }
uint32_t plume_gpu_weight_cols(const plume_gpu_weight *w) { return w->cols; }
