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
 * The other block types are repacked into these shapes without loss: every value's integer
 * as a nibble (Q4_1, Q4_K; Q5_0, Q5_1, Q5_K with their fifth bits in a third array, one
 * 32-bit word per block laid out like the scales) or an int8 (Q6_K's q - 32), and one f32
 * scale per block of 32 values (16 for Q6_K's sub-blocks), plus an f32 minimum per block in
 * a second array laid out like the scales where the type adds one (Q4_1, the Q5s: Q5_0's
 * -16 d; the K-quants' d * scale and -dmin * min are computed here, once). The device bits
 * per value: Q4_1/Q4_K 6 (4 + 2 x 32 / 32), Q5_0/Q5_1/Q5_K 7 (4 + 1 + 2), Q6_K 10 (8 + 32 / 16,
 * more than its file's 6.56).
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

int gpu_weight_format(plume_gpu_type type) {
    switch (type) {
    case PLUME_GPU_F32: return GPU_FMT_F32;
    case PLUME_GPU_F16: return GPU_FMT_F16;
    case PLUME_GPU_Q4_0: return GPU_FMT_Q4_0;
    case PLUME_GPU_Q4_1: case PLUME_GPU_Q4_K: return GPU_FMT_Q4_1;
    case PLUME_GPU_Q8_0: return GPU_FMT_Q8_0;
    case PLUME_GPU_Q5_0: case PLUME_GPU_Q5_1: case PLUME_GPU_Q5_K: return GPU_FMT_Q5;
    case PLUME_GPU_Q6_K: return GPU_FMT_Q8_16;
    default: return -1;
    }
}

uint32_t gpu_format_block(int fmt) {
    return fmt == GPU_FMT_F32 || fmt == GPU_FMT_F16 ? 0 : fmt == GPU_FMT_Q8_16 ? 16 : 32;
}

int gpu_format_has_min(int fmt) { return fmt == GPU_FMT_Q4_1 || fmt == GPU_FMT_Q5; }

int gpu_format_nibbles(int fmt) { return fmt == GPU_FMT_Q4_0 || fmt == GPU_FMT_Q4_1 || fmt == GPU_FMT_Q5; }

/* ggml's block: values and bytes (0 for a type the device does not take). */
static void ggml_block(plume_gpu_type type, uint32_t *values, uint32_t *bytes) {
    static const struct { plume_gpu_type t; uint32_t v, b; } blocks[] = {
        {PLUME_GPU_F32, 1, 4},   {PLUME_GPU_F16, 1, 2},   {PLUME_GPU_Q4_0, 32, 18},  {PLUME_GPU_Q4_1, 32, 20},
        {PLUME_GPU_Q5_0, 32, 22}, {PLUME_GPU_Q5_1, 32, 24}, {PLUME_GPU_Q8_0, 32, 34}, {PLUME_GPU_Q4_K, 256, 144},
        {PLUME_GPU_Q5_K, 256, 176}, {PLUME_GPU_Q6_K, 256, 210},
    };
    *values = *bytes = 0;
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        if (blocks[i].t == type) *values = blocks[i].v, *bytes = blocks[i].b;
}

uint64_t plume_gpu_type_bytes(plume_gpu_type type, uint64_t rows, uint64_t cols) {
    if (rows > (1ull << 32) || cols > (1ull << 32)) return 0;
    uint32_t bv, bb;
    ggml_block(type, &bv, &bb);
    if (!bv || cols % bv) return 0;
    return rows * (cols / bv) * bb;
}

static uint64_t row_texels(int fmt, uint32_t cols) {
    uint64_t bytes = fmt == GPU_FMT_F32   ? (uint64_t)cols * 4
                     : fmt == GPU_FMT_F16 ? (uint64_t)cols * 2
                     : gpu_format_nibbles(fmt) ? cols / 2
                                                               : cols;
    return (bytes + 15) / 16;
}

#define RG 8u   /* rows interleaved per group (shaders/common.glsl's wtexel) */

static uint64_t round_rows(uint64_t nr) { return (nr + RG - 1) / RG * RG; }

/* Index of element j (of n per row) of row r in the interleaved layout. */
static size_t ileave(uint32_t r, uint64_t j, uint64_t n) { return ((size_t)(r / RG) * n + j) * RG + r % RG; }

/* Scale texels per row: 4 blocks' f32 scales per texel (shaders/common.glsl's scale_texel),
 * blocks of `block` values. */
static uint64_t scale_texels(uint32_t cols, uint32_t block) { return ((uint64_t)cols / block + 3) / 4; }

/* Index of block b's scale of row r: component b % 4 of its texel. */
static size_t sidx(uint32_t r, uint32_t b, uint32_t cols, uint32_t block) {
    return ileave(r, b / 4, scale_texels(cols, block)) * 4 + b % 4;
}

static float half_at(const uint8_t *p) { return gpu_half_to_float((uint16_t)(p[0] | p[1] << 8)); }

/* The 6-bit scale and minimum of sub-block j of a Q4_K/Q5_K super-block (12 packed bytes). */
static void k_scale_min(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4;
        *m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
    }
}

/* One row of a block type unpacked: the integer each value is stored as on the device
 * (q[cols]: a nibble for the nibble formats, else an int8) and each block's scale and minimum
 * (value = scale * integer + minimum; Q4_0's nibbles are centred by the kernel). */
static void unpack_row(plume_gpu_type type, const uint8_t *x, uint32_t cols, int8_t *q, float *scale, float *min) {
    uint32_t bv, bb;
    ggml_block(type, &bv, &bb);
    for (uint32_t blk = 0; blk < cols / bv; blk++, x += bb, q += bv) {
        switch (type) {
        case PLUME_GPU_Q4_0: case PLUME_GPU_Q4_1: {
            const uint8_t *qs = x + (type == PLUME_GPU_Q4_1 ? 4 : 2);
            scale[blk] = half_at(x);
            min[blk] = type == PLUME_GPU_Q4_1 ? half_at(x + 2) : 0.0f;
            for (int j = 0; j < 16; j++) q[j] = (int8_t)(qs[j] & 15), q[j + 16] = (int8_t)(qs[j] >> 4);
            break;
        }
        case PLUME_GPU_Q5_0: case PLUME_GPU_Q5_1: {
            int with_min = type == PLUME_GPU_Q5_1;
            const uint8_t *hp = x + (with_min ? 4 : 2), *qs = hp + 4;
            uint32_t qh = (uint32_t)hp[0] | (uint32_t)hp[1] << 8 | (uint32_t)hp[2] << 16 | (uint32_t)hp[3] << 24;
            scale[blk] = half_at(x);
            min[blk] = with_min ? half_at(x + 2) : -16.0f * scale[blk];   /* d (q - 16) = d q - 16 d, exactly */
            for (int j = 0; j < 16; j++) {
                q[j] = (int8_t)((qs[j] & 15) | ((qh >> j) & 1) << 4);
                q[j + 16] = (int8_t)((qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4);
            }
            break;
        }
        case PLUME_GPU_Q8_0:
            scale[blk] = half_at(x);
            memcpy(q, x + 2, 32);
            break;
        case PLUME_GPU_Q4_K: case PLUME_GPU_Q5_K: {
            int five = type == PLUME_GPU_Q5_K;
            float d = half_at(x), dmin = half_at(x + 2);
            const uint8_t *sm = x + 4, *qh = x + 16, *qs = x + (five ? 48 : 16);
            for (int s = 0; s < 8; s++) {
                int sc, m;
                k_scale_min(sm, s, &sc, &m);
                scale[blk * 8 + (uint32_t)s] = d * (float)sc;
                min[blk * 8 + (uint32_t)s] = -(dmin * (float)m);
                const uint8_t *run = qs + 32 * (s / 2);
                for (int l = 0; l < 32; l++) {
                    int v = s % 2 ? run[l] >> 4 : run[l] & 15;
                    if (five) v |= ((qh[l] >> s) & 1) << 4;
                    q[32 * s + l] = (int8_t)v;
                }
            }
            break;
        }
        case PLUME_GPU_Q6_K: {
            float d = half_at(x + 208);
            const int8_t *sc = (const int8_t *)(x + 192);
            for (int s = 0; s < 16; s++) scale[blk * 16 + (uint32_t)s] = d * (float)sc[s];
            for (int e = 0; e < 256; e++) {
                int half = e / 128, i = e % 128;
                const uint8_t *ql = x + 64 * half, *qh = x + 128 + 32 * half;
                int lo = i < 64 ? ql[i] & 15 : ql[i - 64] >> 4, hi = (qh[i % 32] >> (2 * (i / 32))) & 3;
                q[e] = (int8_t)((lo | hi << 4) - 32);
            }
            break;
        }
        default: break;
        }
    }
}

/* Writes rows [r0, r0 + nr) of the ggml-layout data into repacked dst (and scales, mins), in
 * the interleaved order; texels past a row's end and rows past nr stay zero. q, scale and
 * min are scratch rows (cols integers, cols / 16 floats each). */
static void repack(plume_gpu_type type, int fmt, uint32_t cols, uint64_t tpr, const uint8_t *src, uint32_t r0,
                   uint32_t nr, uint8_t *dst, float *scales, float *mins, uint32_t *high, int8_t *q, float *scale,
                   float *min) {
    uint8_t *out = dst;
    const uint32_t block = gpu_format_block(fmt);
    memset(dst, 0, (size_t)(round_rows(nr) * tpr * 16));
    if (scales) memset(scales, 0, (size_t)(round_rows(nr) * scale_texels(cols, block) * 16));
    if (mins) memset(mins, 0, (size_t)(round_rows(nr) * scale_texels(cols, block) * 16));
    if (high) memset(high, 0, (size_t)(round_rows(nr) * scale_texels(cols, block) * 16));
    uint32_t bv, bb;
    ggml_block(type, &bv, &bb);
    for (uint32_t r = 0; r < nr; r++) {
        if (fmt != GPU_FMT_F32 && fmt != GPU_FMT_F16) {
            unpack_row(type, src + (size_t)(r0 + r) * (cols / bv) * bb, cols, q, scale, min);
            for (uint32_t b = 0; b < cols / block; b++) {
                scales[sidx(r, b, cols, block)] = scale[b];
                if (mins) mins[sidx(r, b, cols, block)] = min[b];
            }
            if (gpu_format_nibbles(fmt)) {
                /* value e of a block is nibble e % 8 of word e / 8 (4 values = 16 bits); a Q5
                 * value's fifth bit is bit e of its block's word in `high` */
                for (uint32_t b = 0; b < cols / 32; b++) {
                    uint32_t words[4] = {0, 0, 0, 0}, hb = 0;
                    for (uint32_t e = 0; e < 32; e++) {
                        words[e / 8] |= ((uint32_t)q[b * 32 + e] & 15u) << (4 * (e % 8));
                        hb |= (((uint32_t)q[b * 32 + e] >> 4) & 1u) << e;
                    }
                    memcpy(out + ileave(r, b, tpr) * 16, words, 16);
                    if (high) high[sidx(r, b, cols, block)] = hb;
                }
            } else {
                for (uint64_t j = 0; j < cols / 16; j++) memcpy(out + ileave(r, j, tpr) * 16, q + j * 16, 16);
            }
            continue;
        }
        /* Copy the texels of row r one by one to their interleaved places. */
        uint8_t row[16 * 64];   /* F32/F16 rows go through in chunks of 64 texels */
        {
            uint64_t bytes = (uint64_t)cols * (fmt == GPU_FMT_F32 ? 4 : 2);
            const uint8_t *in = src + (size_t)(r0 + r) * bytes;
            for (uint64_t j0 = 0; j0 < tpr; j0 += 64) {
                uint64_t nb = bytes - j0 * 16 < sizeof row ? bytes - j0 * 16 : sizeof row;
                memset(row, 0, sizeof row);
                memcpy(row, in + j0 * 16, (size_t)nb);
                for (uint64_t j = j0; j < tpr && j < j0 + 64; j++)
                    memcpy(out + ileave(r, j, tpr) * 16, row + (j - j0) * 16, 16);
            }
        }
    }
}

plume_gpu_weight *plume_gpu_weight_create(plume_gpu *gpu, plume_gpu_type type, uint32_t rows, uint32_t cols,
                                          const void *data, plume_error *err) {
    const int fmt = gpu_weight_format(type);
    if (fmt < 0) {
        plume_fail(err, "GPU weights of ggml type %d are not supported; hint: use F32, F16, Q8_0, Q4_0, Q4_1, Q5_0, "
                        "Q5_1, Q4_K, Q5_K or Q6_K", (int)type);
        return NULL;
    }
    uint32_t bv, bb;
    ggml_block(type, &bv, &bb);
    int blocked = bv > 1;
    if (rows == 0 || cols == 0 || cols % bv) {
        plume_fail(err, "a %u x %u weight matrix is not valid%s%u)", rows, cols,
                   blocked ? " for a block-quantized type (columns must be a multiple of " : " (", bv);
        return NULL;
    }
    uint64_t tpr = row_texels(fmt, cols);
    uint64_t row_bytes = tpr * 16;
    /* A part is what one texel view may span, and one allocation may hold. */
    uint64_t limit = gpu->info.max_texel_buffer_elements * 16;
    if (limit > gpu->info.max_allocation_bytes) limit = gpu->info.max_allocation_bytes;
    if (limit > (uint64_t)INT32_MAX * 16) limit = (uint64_t)INT32_MAX * 16;  /* texelFetch takes an int */
    if (gpu->part_limit && gpu->part_limit < limit) limit = gpu->part_limit;
    uint64_t scale_row = blocked ? scale_texels(cols, gpu_format_block(fmt)) * 16 : 0;
    const int has_min = gpu_format_has_min(fmt), has_high = fmt == GPU_FMT_Q5;
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
    if (!w || !(w->w = calloc(n_parts, sizeof *w->w)) || !(w->scales = calloc(n_parts, sizeof *w->scales)) ||
        !(w->mins = calloc(n_parts, sizeof *w->mins)) || !(w->high = calloc(n_parts, sizeof *w->high))) {
        plume_fail(err, "out of memory");
        plume_gpu_weight_free(w);
        return NULL;
    }
    w->gpu = gpu;
    w->type = type;
    w->fmt = fmt;
    w->rows = rows;
    w->cols = cols;
    w->tpr = (uint32_t)tpr;
    w->rows_per_part = (uint32_t)per_part;
    w->n_parts = n_parts;
    /* scratch for one unpacked row: its integers, and its blocks' scales and minimums */
    int8_t *q = blocked ? malloc(cols) : NULL;
    float *scale = blocked ? malloc((size_t)cols / 16 * sizeof *scale) : NULL,
          *min = blocked ? malloc((size_t)cols / 16 * sizeof *min) : NULL;
    if (blocked && (!q || !scale || !min)) goto oom;
    for (uint32_t p = 0; p < n_parts; p++) {
        uint32_t r0 = p * w->rows_per_part;
        uint32_t nr = rows - r0 < w->rows_per_part ? rows - r0 : w->rows_per_part;
        uint64_t wbytes = round_rows(nr) * row_bytes, sbytes = round_rows(nr) * scale_row;
        if (!(w->w[p] = plume_gpu_buffer_create(gpu, wbytes, PLUME_GPU_BUFFER_DEVICE, err))) goto fail;
        if (sbytes && !(w->scales[p] = plume_gpu_buffer_create(gpu, sbytes, PLUME_GPU_BUFFER_DEVICE, err))) goto fail;
        if (sbytes && has_min && !(w->mins[p] = plume_gpu_buffer_create(gpu, sbytes, PLUME_GPU_BUFFER_DEVICE, err)))
            goto fail;
        if (sbytes && has_high && !(w->high[p] = plume_gpu_buffer_create(gpu, sbytes, PLUME_GPU_BUFFER_DEVICE, err)))
            goto fail;
        w->bytes += wbytes + sbytes * (1 + has_min + has_high);
        /* Repack straight into mapped memory where the device allows it (lavapipe). */
        uint8_t *dst = plume_gpu_buffer_map(w->w[p]);
        float *sdst = sbytes ? plume_gpu_buffer_map(w->scales[p]) : NULL;
        float *mdst = sbytes && has_min ? plume_gpu_buffer_map(w->mins[p]) : NULL;
        uint32_t *hdst = sbytes && has_high ? plume_gpu_buffer_map(w->high[p]) : NULL;
        uint8_t *tmp = NULL;
        float *stmp = NULL, *mtmp = NULL;
        uint32_t *htmp = NULL;
        int rc = 0;
        if (!dst && !(dst = tmp = malloc(wbytes))) rc = -1;
        if (!rc && sbytes && !sdst && !(sdst = stmp = malloc(sbytes))) rc = -1;
        if (!rc && sbytes && has_min && !mdst && !(mdst = mtmp = malloc(sbytes))) rc = -1;
        if (!rc && sbytes && has_high && !hdst && !(hdst = htmp = malloc(sbytes))) rc = -1;
        if (rc) {
            free(tmp);
            free(stmp);
            free(mtmp);
            goto oom;
        }
        repack(type, fmt, cols, tpr, data, r0, nr, dst, sdst, mdst, hdst, q, scale, min);
        if (tmp) rc = plume_gpu_upload(w->w[p], 0, tmp, wbytes, err);
        if (!rc && stmp) rc = plume_gpu_upload(w->scales[p], 0, stmp, sbytes, err);
        if (!rc && mtmp) rc = plume_gpu_upload(w->mins[p], 0, mtmp, sbytes, err);
        if (!rc && htmp) rc = plume_gpu_upload(w->high[p], 0, htmp, sbytes, err);
        free(tmp);
        free(stmp);
        free(mtmp);
        free(htmp);
        if (rc) goto fail;
    }
    free(q);
    free(scale);
    free(min);
    return w;
oom:
    plume_fail(err, "out of memory repacking a %u x %u weight", rows, cols);
fail:
    free(q);
    free(scale);
    free(min);
    plume_gpu_weight_free(w);
    return NULL;
}

void plume_gpu_weight_free(plume_gpu_weight *w) {
    if (!w) return;
    for (uint32_t p = 0; p < w->n_parts; p++) {
        if (w->w) plume_gpu_buffer_free(w->w[p]);
        if (w->scales) plume_gpu_buffer_free(w->scales[p]);
        if (w->mins) plume_gpu_buffer_free(w->mins[p]);
        if (w->high) plume_gpu_buffer_free(w->high[p]);
    }
    free(w->w);
    free(w->scales);
    free(w->mins);
    free(w->high);
    free(w);
}

uint64_t plume_gpu_weight_bytes(const plume_gpu_weight *w) { return w ? w->bytes : 0; }
uint32_t plume_gpu_weight_rows(const plume_gpu_weight *w) { return w->rows; }
uint32_t plume_gpu_weight_cols(const plume_gpu_weight *w) { return w->cols; }
