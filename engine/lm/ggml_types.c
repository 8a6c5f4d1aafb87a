/* plume — tensor number formats: F16/BF16 <-> F32, the Q8_0/Q4_0 block quantizers, and the
 * dequantizers of every block type llama.cpp writes into the files people download (Q4_1,
 * Q5_0, Q5_1 and the K-quants Q4_K, Q5_K, Q6_K), following the GGUF block layouts.
 *
 * Shared by `plume convert` (f32 → f16/q8_0), the model loader (→ f32 or kept as is), the
 * device repacking (engine/gpu/gpu_weight.c decodes blocks the same way) and the tests.
 * The conversions are written with integer bit operations so the results do not depend on
 * the compiler's _Float16 support or the FPU's rounding mode. */
#include <math.h>
#include <string.h>
#include "plume/gguf.h"

_Static_assert(sizeof(plume_block_q8_0) == 34, "Q8_0 block must be 34 bytes");
_Static_assert(sizeof(plume_block_q4_0) == 18, "Q4_0 block must be 18 bytes");

static const char *const type_names[PLUME_GGML_TYPE_COUNT] = {
    [PLUME_GGML_F32] = "F32", [PLUME_GGML_F16] = "F16", [PLUME_GGML_Q4_0] = "Q4_0",
    [PLUME_GGML_Q4_1] = "Q4_1", [4] = "Q4_2 (removed from ggml)", [5] = "Q4_3 (removed from ggml)",
    [PLUME_GGML_Q5_0] = "Q5_0", [PLUME_GGML_Q5_1] = "Q5_1", [PLUME_GGML_Q8_0] = "Q8_0",
    [PLUME_GGML_Q8_1] = "Q8_1", [PLUME_GGML_Q2_K] = "Q2_K", [PLUME_GGML_Q3_K] = "Q3_K",
    [PLUME_GGML_Q4_K] = "Q4_K", [PLUME_GGML_Q5_K] = "Q5_K", [PLUME_GGML_Q6_K] = "Q6_K",
    [PLUME_GGML_Q8_K] = "Q8_K", [PLUME_GGML_IQ2_XXS] = "IQ2_XXS", [PLUME_GGML_IQ2_XS] = "IQ2_XS",
    [PLUME_GGML_IQ3_XXS] = "IQ3_XXS", [PLUME_GGML_IQ1_S] = "IQ1_S", [PLUME_GGML_IQ4_NL] = "IQ4_NL",
    [PLUME_GGML_IQ3_S] = "IQ3_S", [PLUME_GGML_IQ2_S] = "IQ2_S", [PLUME_GGML_IQ4_XS] = "IQ4_XS",
    [PLUME_GGML_I8] = "I8", [PLUME_GGML_I16] = "I16", [PLUME_GGML_I32] = "I32",
    [PLUME_GGML_I64] = "I64", [PLUME_GGML_F64] = "F64", [PLUME_GGML_IQ1_M] = "IQ1_M",
    [PLUME_GGML_BF16] = "BF16", [31] = "Q4_0_4_4 (removed from ggml)",
    [32] = "Q4_0_4_8 (removed from ggml)", [33] = "Q4_0_8_8 (removed from ggml)",
    [PLUME_GGML_TQ1_0] = "TQ1_0", [PLUME_GGML_TQ2_0] = "TQ2_0",
};

const char *plume_ggml_type_name(plume_ggml_type t) {
    if ((unsigned)t < PLUME_GGML_TYPE_COUNT && type_names[t]) return type_names[t];
    return "?";
}

bool plume_ggml_type_supported(plume_ggml_type t) { return plume_ggml_block_elems(t) != 0; }

size_t plume_ggml_block_elems(plume_ggml_type t) {
    switch (t) {
    case PLUME_GGML_F32: case PLUME_GGML_F16: case PLUME_GGML_BF16: return 1;
    case PLUME_GGML_Q8_0: case PLUME_GGML_Q4_0: case PLUME_GGML_Q4_1: case PLUME_GGML_Q5_0:
    case PLUME_GGML_Q5_1: return 32;
    case PLUME_GGML_Q4_K: case PLUME_GGML_Q5_K: case PLUME_GGML_Q6_K: return PLUME_QK_K;
    default: return 0;
    }
}

size_t plume_ggml_block_bytes(plume_ggml_type t) {
    switch (t) {
    case PLUME_GGML_F32: return 4;
    case PLUME_GGML_F16: case PLUME_GGML_BF16: return 2;
    case PLUME_GGML_Q8_0: return sizeof(plume_block_q8_0);
    case PLUME_GGML_Q4_0: return sizeof(plume_block_q4_0);
    case PLUME_GGML_Q4_1: return 20;   /* f16 d, f16 m, 16 bytes of nibbles */
    case PLUME_GGML_Q5_0: return 22;   /* f16 d, 4 bytes of fifth bits, 16 bytes of nibbles */
    case PLUME_GGML_Q5_1: return 24;   /* f16 d, f16 m, fifth bits, nibbles */
    case PLUME_GGML_Q4_K: return 144;  /* f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 of nibbles */
    case PLUME_GGML_Q5_K: return 176;  /* as Q4_K, plus 32 bytes of fifth bits before the nibbles */
    case PLUME_GGML_Q6_K: return 210;  /* 128 bytes low nibbles, 64 high pairs, 16 int8 scales, f16 d */
    default: return 0;
    }
}

int plume_ggml_nbytes(plume_ggml_type t, int64_t ne0, uint64_t n_elements, uint64_t *out) {
    size_t be = plume_ggml_block_elems(t), bb = plume_ggml_block_bytes(t);
    if (!be || ne0 < 0 || (uint64_t)ne0 % be != 0 || n_elements % be != 0) return -1;
    uint64_t bytes;
    if (__builtin_mul_overflow(n_elements / be, (uint64_t)bb, &bytes)) return -1;
    *out = bytes;
    return 0;
}

/* ---- F16 / BF16 ---- */

uint16_t plume_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;
    if (exp == 0xff) /* Inf stays Inf; NaN stays a (quiet) NaN with its top payload bits */
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);     /* >= 65536: Inf */
    if (e <= 0) {
        /* A half subnormal (units of 2^-24) or zero. Below 2^-25 everything rounds to 0. */
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;  /* may carry into the smallest normal: right */
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;  /* a carry into exponent 31 gives Inf: right */
    return (uint16_t)(sign | h);
}

float plume_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, x;
    if (exp == 0) {
        /* zero or subnormal: mant × 2^-24, exact in float */
        float v = (float)mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) x = sign | 0x7f800000u | (mant << 13);
    else x = sign | ((exp + 112) << 23) | (mant << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

uint16_t plume_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* NaN: keep it quiet */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float plume_bf16_to_f32(uint16_t h) {
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

void plume_f32_to_f16_row(const float *x, uint16_t *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = plume_f32_to_f16(x[i]);
}

void plume_f16_to_f32_row(const uint16_t *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = plume_f16_to_f32(x[i]);
}

/* ---- Q8_0 / Q4_0 ---- */

void plume_quantize_q8_0(const float *x, plume_block_q8_0 *y, size_t n) {
    for (size_t b = 0; b < n / PLUME_QK8_0; b++, x += PLUME_QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < PLUME_QK8_0; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = plume_f32_to_f16(d);
        for (int j = 0; j < PLUME_QK8_0; j++) y[b].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

void plume_dequantize_q8_0(const plume_block_q8_0 *x, float *y, size_t n) {
    for (size_t b = 0; b < n / PLUME_QK8_0; b++, y += PLUME_QK8_0) {
        float d = plume_f16_to_f32(x[b].d);
        for (int j = 0; j < PLUME_QK8_0; j++) y[j] = (float)x[b].qs[j] * d;
    }
}

void plume_quantize_q4_0(const float *x, plume_block_q4_0 *y, size_t n) {
    for (size_t b = 0; b < n / PLUME_QK4_0; b++, x += PLUME_QK4_0) {
        /* Signed extreme: the value of largest magnitude maps to -8, the end with one more step. */
        float amax = 0.0f, m = 0.0f;
        for (int j = 0; j < PLUME_QK4_0; j++)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); m = x[j]; }
        float d = m / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = plume_f32_to_f16(d);
        for (int j = 0; j < PLUME_QK4_0 / 2; j++) {
            int q0 = (int)(x[j] * id + 8.5f), q1 = (int)(x[j + PLUME_QK4_0 / 2] * id + 8.5f);
            q0 = q0 < 0 ? 0 : q0 > 15 ? 15 : q0;
            q1 = q1 < 0 ? 0 : q1 > 15 ? 15 : q1;
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void plume_dequantize_q4_0(const plume_block_q4_0 *x, float *y, size_t n) {
    for (size_t b = 0; b < n / PLUME_QK4_0; b++, y += PLUME_QK4_0) {
        float d = plume_f16_to_f32(x[b].d);
        for (int j = 0; j < PLUME_QK4_0 / 2; j++) {
            y[j] = (float)((x[b].qs[j] & 0x0f) - 8) * d;
            y[j + PLUME_QK4_0 / 2] = (float)((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}

/* ---- the other block types: dequantization only ---- */

static float half_at(const uint8_t *p) { return plume_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

/* Q4_1: value = d * q + m, q the nibble (low nibbles are elements 0..15, high 16..31). */
static void dequantize_q4_1(const uint8_t *x, float *y, size_t n) {
    for (size_t b = 0; b < n / 32; b++, x += 20, y += 32) {
        float d = half_at(x), m = half_at(x + 2);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(x[4 + j] & 15) * d + m;
            y[j + 16] = (float)(x[4 + j] >> 4) * d + m;
        }
    }
}

/* Q5_0 / Q5_1: the nibbles of Q4_0 / Q4_1 with a fifth bit each, bit j of the 32-bit qh for
 * element j; Q5_0 centres q on 16, Q5_1 adds the minimum m instead. */
static void dequantize_q5(const uint8_t *x, float *y, size_t n, int with_min) {
    const size_t bytes = with_min ? 24 : 22;
    for (size_t b = 0; b < n / 32; b++, x += bytes, y += 32) {
        float d = half_at(x), m = with_min ? half_at(x + 2) : 0.0f;
        const uint8_t *hp = x + (with_min ? 4 : 2), *qs = hp + 4;
        uint32_t qh = (uint32_t)hp[0] | (uint32_t)hp[1] << 8 | (uint32_t)hp[2] << 16 | (uint32_t)hp[3] << 24;
        for (int j = 0; j < 16; j++) {
            int q0 = (qs[j] & 15) | (int)((qh >> j) & 1) << 4, q1 = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            if (with_min) {
                y[j] = (float)q0 * d + m;
                y[j + 16] = (float)q1 * d + m;
            } else {
                y[j] = (float)(q0 - 16) * d;
                y[j + 16] = (float)(q1 - 16) * d;
            }
        }
    }
}

void plume_k_scale_min(const uint8_t *scales, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = scales[j] & 63;
        *m = scales[j + 4] & 63;
    } else {
        *sc = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4;
        *m = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4;
    }
}

/* Q4_K / Q5_K: a super-block of 256 in 8 sub-blocks of 32, value = d*sc*q - dmin*m per
 * sub-block. The nibbles come in 4 runs of 32 bytes: run r's low nibbles are sub-block 2r,
 * its high nibbles sub-block 2r+1. Q5_K's fifth bit of element l of sub-block s is bit s of
 * qh[l]. */
static void dequantize_q45_k(const uint8_t *x, float *y, size_t n, int five) {
    const size_t bytes = five ? 176 : 144;
    for (size_t b = 0; b < n / PLUME_QK_K; b++, x += bytes, y += PLUME_QK_K) {
        float d = half_at(x), dmin = half_at(x + 2);
        const uint8_t *scales = x + 4, *qh = x + 16, *qs = x + (five ? 48 : 16);
        for (int s = 0; s < 8; s++) {
            int sc, m;
            plume_k_scale_min(scales, s, &sc, &m);
            float ds = d * (float)sc, ms = dmin * (float)m;
            const uint8_t *run = qs + 32 * (s / 2);
            for (int l = 0; l < 32; l++) {
                int q = s % 2 ? run[l] >> 4 : run[l] & 15;
                if (five) q |= ((qh[l] >> s) & 1) << 4;
                y[32 * s + l] = ds * (float)q - ms;
            }
        }
    }
}

/* Q6_K: a super-block of 256 in two halves of 128; element e of a half takes its low 4 bits
 * from ql (byte e % 64 of the half's 64, high nibble when e >= 64), its high 2 bits from qh
 * (byte e % 32 of the half's 32, bits 2 * (e / 32)), and the int8 scale of its 16;
 * value = d * scale * (q - 32). */
static void dequantize_q6_k(const uint8_t *x, float *y, size_t n) {
    for (size_t b = 0; b < n / PLUME_QK_K; b++, x += 210, y += PLUME_QK_K) {
        float d = half_at(x + 208);
        const int8_t *scales = (const int8_t *)(x + 192);
        for (int e = 0; e < PLUME_QK_K; e++) {
            int half = e / 128, i = e % 128;
            const uint8_t *ql = x + 64 * half, *qh = x + 128 + 32 * half;
            int lo = i < 64 ? ql[i] & 15 : ql[i - 64] >> 4;
            int hi = (qh[i % 32] >> (2 * (i / 32))) & 3;
            y[e] = d * (float)scales[e / 16] * (float)((lo | hi << 4) - 32);
        }
    }
}

int plume_ggml_to_f32(plume_ggml_type t, const void *src, float *dst, size_t n, plume_error *err) {
    size_t be = plume_ggml_block_elems(t);
    if (!be) return plume_fail(err, "cannot convert tensor type %s to F32: plume reads F32, F16, BF16, Q8_0, Q4_0, "
                                    "Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K",
                               plume_ggml_type_name(t));
    if (n % be) return plume_fail(err, "%zu elements of %s: not a multiple of its block of %zu", n,
                                  plume_ggml_type_name(t), be);
    switch (t) {
    case PLUME_GGML_F32: memcpy(dst, src, n * sizeof(float)); break;
    case PLUME_GGML_F16: plume_f16_to_f32_row(src, dst, n); break;
    case PLUME_GGML_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = plume_bf16_to_f32(((const uint16_t *)src)[i]);
        break;
    case PLUME_GGML_Q8_0: plume_dequantize_q8_0(src, dst, n); break;
    case PLUME_GGML_Q4_0: plume_dequantize_q4_0(src, dst, n); break;
    case PLUME_GGML_Q4_1: dequantize_q4_1(src, dst, n); break;
    case PLUME_GGML_Q5_0: dequantize_q5(src, dst, n, 0); break;
    case PLUME_GGML_Q5_1: dequantize_q5(src, dst, n, 1); break;
    case PLUME_GGML_Q4_K: dequantize_q45_k(src, dst, n, 0); break;
    case PLUME_GGML_Q5_K: dequantize_q45_k(src, dst, n, 1); break;
    case PLUME_GGML_Q6_K: dequantize_q6_k(src, dst, n); break;
    default: break;
    }
    return 0;
}

int plume_ggml_from_f32(plume_ggml_type t, const float *src, void *dst, size_t n, plume_error *err) {
    size_t be = plume_ggml_block_elems(t);
    if (!be || (t != PLUME_GGML_F32 && t != PLUME_GGML_F16 && t != PLUME_GGML_BF16 && t != PLUME_GGML_Q8_0 &&
                t != PLUME_GGML_Q4_0))
        return plume_fail(err, "cannot convert F32 to tensor type %s: plume writes F32, F16, BF16, Q8_0 and Q4_0",
                               plume_ggml_type_name(t));
    if (n % be) return plume_fail(err, "%zu elements cannot be stored as %s: not a multiple of its block of %zu",
                                  n, plume_ggml_type_name(t), be);
    switch (t) {
    case PLUME_GGML_F32: memcpy(dst, src, n * sizeof(float)); break;
    case PLUME_GGML_F16: plume_f32_to_f16_row(src, dst, n); break;
    case PLUME_GGML_BF16:
        for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = plume_f32_to_bf16(src[i]);
        break;
    case PLUME_GGML_Q8_0: plume_quantize_q8_0(src, dst, n); break;
    case PLUME_GGML_Q4_0: plume_quantize_q4_0(src, dst, n); break;
    default: break;
    }
    return 0;
}
