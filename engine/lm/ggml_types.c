/* plume — tensor number formats: F16/BF16 <-> F32 and the Q8_0/Q4_0 block quantizers.
 *
 * Shared by `plume convert` (f32 → f16/q8_0) and the model loader (→ f32 or kept as is).
 * The conversions are written with integer bit operations so the results do not depend on
 * the compiler's _Float16 support or the FPU's rounding mode. */
#include <math.h>
#include <string.h>
#include "gguf.h"

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

bool plume_ggml_type_supported(plume_ggml_type t) {
    return t == PLUME_GGML_F32 || t == PLUME_GGML_F16 || t == PLUME_GGML_BF16 ||
           t == PLUME_GGML_Q8_0 || t == PLUME_GGML_Q4_0;
}

size_t plume_ggml_block_elems(plume_ggml_type t) {
    switch (t) {
    case PLUME_GGML_F32: case PLUME_GGML_F16: case PLUME_GGML_BF16: return 1;
    case PLUME_GGML_Q8_0: return PLUME_QK8_0;
    case PLUME_GGML_Q4_0: return PLUME_QK4_0;
    default: return 0;
    }
}

size_t plume_ggml_block_bytes(plume_ggml_type t) {
    switch (t) {
    case PLUME_GGML_F32: return 4;
    case PLUME_GGML_F16: case PLUME_GGML_BF16: return 2;
    case PLUME_GGML_Q8_0: return sizeof(plume_block_q8_0);
    case PLUME_GGML_Q4_0: return sizeof(plume_block_q4_0);
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

int plume_ggml_to_f32(plume_ggml_type t, const void *src, float *dst, size_t n, plume_error *err) {
    size_t be = plume_ggml_block_elems(t);
    if (!be) return plume_fail(err, "cannot convert tensor type %s to F32: plume reads F32, F16, BF16, Q8_0 and Q4_0",
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
    default: break;
    }
    return 0;
}

int plume_ggml_from_f32(plume_ggml_type t, const float *src, void *dst, size_t n, plume_error *err) {
    size_t be = plume_ggml_block_elems(t);
    if (!be) return plume_fail(err, "cannot convert F32 to tensor type %s: plume writes F32, F16, BF16, Q8_0 and Q4_0",
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
