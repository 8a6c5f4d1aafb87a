#version 450
#extension GL_GOOGLE_include_directive : require
// y[i][row_offset + r] = sum_c W[r][c] x[i][c] for r < rows, i < n.
//
// Register tiles, no shared memory: each invocation computes TR rows x TB tokens,
// decoding each weight texel once and using it for TB tokens (so a batch of TB <= 8
// sequences in decoding reads W once: the matrix-vector case is TB = n). No barriers,
// which matters on lavapipe where each one is a coroutine switch.
// Grid: x over blocks of WG x TR rows (invocation i holds rows i, i + WG, ...), y over
// blocks of TB tokens.
// x is read through a texel view too where its rows are whole texels (cols % 4 == 0):
// on lavapipe that made this kernel 3-10x faster than scalar storage-buffer loads.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
layout(constant_id = 1) const uint TYPE = 0;
layout(constant_id = 2) const uint TR = 4;
layout(constant_id = 3) const uint TB = 8;
layout(constant_id = 4) const uint XVEC = 0;   // 1: read x through the texel view X4
layout(constant_id = 5) const uint SWIGLU = 0; // 1: y = silu(W x) * (W3 x)
layout(constant_id = 6) const uint QKV = 0;    // 1: W is q, k and v stacked; its rows go to y, yk, yv
const uint CH = TYPE == TYPE_F32 ? 1u : (TYPE == TYPE_F16 ? 2u : (TYPE == TYPE_Q8_0 ? 4u : 8u));  // vec4s per texel
const uint EPT = CH * 4u;                                            // values per texel

layout(binding = 0) uniform usamplerBuffer W;
layout(binding = 1) uniform samplerBuffer S;   // Q8_0, Q4_0 scales [rows][cols/32], an R32F texel view
layout(binding = 2) readonly buffer X { float x[]; };
layout(binding = 4) uniform usamplerBuffer X4;   // the same x through a texel view, where cols % 4 == 0
layout(binding = 3) writeonly buffer Y { float y[]; };
layout(binding = 5) uniform usamplerBuffer W3;  // SwiGLU's up projection
layout(binding = 6) uniform samplerBuffer S3;
layout(binding = 7) writeonly buffer YK { float yk[]; };
layout(binding = 8) writeonly buffer YV { float yv[]; };
// QKV: the stacked weight's rows [0, y_stride) are q's, then rows_k of k, then rows_v of v
// (row_offset is where this part starts among them).
layout(push_constant) uniform Push {
    uint rows, cols, n, row_offset, y_stride, tpr;
    uint rows_k, rows_v;
} p;

// One binding per weight, so that no fetch depends on a branch: lavapipe executes both
// sides of a branch under a mask, so selecting among three weights by workgroup (the
// first fused q/k/v kernel) paid for three fetches per texel.
uvec4 fetch_w(uint m, uint i) {
    if (m == 0u) return texelFetch(W, int(i));
    return texelFetch(W3, int(i));
}

float fetch_scale(uint m, uint row, uint j) {
    if (TYPE != TYPE_Q8_0 && TYPE != TYPE_Q4_0) return 1.0;
    int i = int(wtexel(row, TYPE == TYPE_Q8_0 ? j / 2u : j, p.cols / 32u));
    if (m == 0u) return texelFetch(S, i).r;
    return texelFetch(S3, i).r;
}

float acc[TR][TB];
float acc3[TR][TB];
vec4 w[TR][CH];
vec4 w3[TR][CH];
// Quantized types: a texel's integer values are dotted with x first and the sum is scaled
// once per token, instead of scaling each decoded value (4-10% faster for one token on
// lavapipe, the same for tiles of 8).
float ws[TR], ws3[TR];
const bool QUANT = TYPE == TYPE_Q8_0 || TYPE == TYPE_Q4_0;

void step_texel(uint r0, uint t0, uint j, bool tail) {
    for (uint r = 0u; r < TR; r++) {
        uint rr = min(r0 + r * WG, p.rows - 1u);
        uvec4 t = fetch_w(0u, wtexel(rr, j, p.tpr));
        ws[r] = fetch_scale(0u, rr, j);
        for (uint k = 0u; k < CH; k++) w[r][k] = decode4(TYPE, t, k);
        if (SWIGLU != 0u) {
            uvec4 t3 = fetch_w(1u, wtexel(rr, j, p.tpr));
            ws3[r] = fetch_scale(1u, rr, j);
            for (uint k = 0u; k < CH; k++) w3[r][k] = decode4(TYPE, t3, k);
        }
    }
    for (uint b = 0u; b < TB; b++) {
        uint base = min(t0 + b, p.n - 1u) * p.cols + j * EPT;
        float part[TR], part3[TR];
        for (uint r = 0u; r < TR; r++) part[r] = part3[r] = 0.0;
        for (uint k = 0u; k < CH; k++) {
            vec4 xv;
            if (XVEC != 0u) {
                // cols % 4 == 0: a group of 4 lies wholly inside the row or wholly past it.
                bool inside = !tail || j * EPT + 4u * k < p.cols;
                xv = inside ? uintBitsToFloat(texelFetch(X4, int(base / 4u + k))) : vec4(0.0);
            } else if (!tail) {
                xv = vec4(x[base + 4u * k], x[base + 4u * k + 1u], x[base + 4u * k + 2u], x[base + 4u * k + 3u]);
            } else {
                // The last, partial texel of a row: the weight padding is zero, but x past
                // the row's end belongs to the next row (or past the buffer): read 0 there.
                uint c = j * EPT + 4u * k;
                for (uint e = 0u; e < 4u; e++) xv[e] = c + e < p.cols ? x[base + 4u * k + e] : 0.0;
            }
            if (QUANT) {
                for (uint r = 0u; r < TR; r++) part[r] += dot(w[r][k], xv);
                if (SWIGLU != 0u)
                    for (uint r = 0u; r < TR; r++) part3[r] += dot(w3[r][k], xv);
            } else {
                for (uint r = 0u; r < TR; r++) acc[r][b] += dot(w[r][k], xv);
                if (SWIGLU != 0u)
                    for (uint r = 0u; r < TR; r++) acc3[r][b] += dot(w3[r][k], xv);
            }
        }
        if (QUANT) {
            for (uint r = 0u; r < TR; r++) acc[r][b] += ws[r] * part[r];
            if (SWIGLU != 0u)
                for (uint r = 0u; r < TR; r++) acc3[r][b] += ws3[r] * part3[r];
        }
    }
}

void main() {
    // Row r of an invocation's TR rows is r0 + r * WG: neighbouring invocations hold
    // neighbouring rows, which the interleaved weight layout stores side by side.
    uint r0 = gl_WorkGroupID.x * WG * TR + gl_LocalInvocationID.x;
    uint t0 = gl_GlobalInvocationID.y * TB;
    if (r0 >= p.rows || t0 >= p.n) return;
    for (uint r = 0u; r < TR; r++)
        for (uint b = 0u; b < TB; b++) acc[r][b] = acc3[r][b] = 0.0;
    uint full = p.cols / EPT;
    for (uint j = 0u; j < full; j++) step_texel(r0, t0, j, false);
    if (full < p.tpr) step_texel(r0, t0, full, true);
    for (uint b = 0u; b < TB; b++) {
        if (t0 + b >= p.n) break;
        for (uint r = 0u; r < TR; r++) {
            uint row = r0 + r * WG;
            if (row < p.rows) {
                float a = acc[r][b];
                if (SWIGLU != 0u) a = a / (1.0 + exp(-a)) * acc3[r][b];
                uint g = p.row_offset + row, t = t0 + b;
                if (QKV == 0u) y[t * p.y_stride + g] = a;
                else if (g < p.y_stride) y[t * p.y_stride + g] = a;
                else if (g < p.y_stride + p.rows_k) yk[t * p.rows_k + g - p.y_stride] = a;
                else yv[t * p.rows_v + g - p.y_stride - p.rows_k] = a;
            }
        }
    }
}
