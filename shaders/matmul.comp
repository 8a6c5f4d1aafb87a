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
layout(constant_id = 6) const uint QKV = 0;    // 1: y = W x, yk = W3 x, yv = WV x, one matrix per workgroup
const uint CH = TYPE == TYPE_F32 ? 1u : (TYPE == TYPE_F16 ? 2u : (TYPE == TYPE_Q8_0 ? 4u : 8u));  // vec4s per texel
const uint EPT = CH * 4u;                                            // values per texel

layout(binding = 0) uniform usamplerBuffer W;
layout(binding = 1) uniform samplerBuffer S;   // Q8_0, Q4_0 scales [rows][cols/32], an R32F texel view
layout(binding = 2) readonly buffer X { float x[]; };
layout(binding = 4) uniform usamplerBuffer X4;   // the same x through a texel view, where cols % 4 == 0
layout(binding = 3) writeonly buffer Y { float y[]; };
layout(binding = 5) uniform usamplerBuffer W3;  // SwiGLU's up projection, or QKV's k weight
layout(binding = 6) uniform samplerBuffer S3;
layout(binding = 7) uniform usamplerBuffer WV;  // QKV's v weight
layout(binding = 8) uniform samplerBuffer SV;
layout(binding = 9) writeonly buffer YK { float yk[]; };
layout(binding = 10) writeonly buffer YV { float yv[]; };
layout(push_constant) uniform Push {
    uint rows, cols, n, row_offset, y_stride, tpr;
    uint rows_k, rows_v, groups_q, groups_k;   // QKV: rows of k and v, workgroups of q and k
} p;

uint M = 0u;        // which matrix this workgroup computes (QKV), else 0
uint ROWS;          // its rows

uvec4 fetch_w(uint m, uint i) {
    if (m == 0u) return texelFetch(W, int(i));
    if (m == 1u) return texelFetch(W3, int(i));
    return texelFetch(WV, int(i));
}

float fetch_scale(uint m, uint row, uint j) {
    if (TYPE != TYPE_Q8_0 && TYPE != TYPE_Q4_0) return 1.0;
    int i = int(wtexel(row, TYPE == TYPE_Q8_0 ? j / 2u : j, p.cols / 32u));
    if (m == 0u) return texelFetch(S, i).r;
    if (m == 1u) return texelFetch(S3, i).r;
    return texelFetch(SV, i).r;
}

float acc[TR][TB];
float acc3[TR][TB];
vec4 w[TR][CH];
vec4 w3[TR][CH];

void step_texel(uint r0, uint t0, uint j, bool tail) {
    for (uint r = 0u; r < TR; r++) {
        uint rr = min(r0 + r * WG, ROWS - 1u);
        uvec4 t = fetch_w(M, wtexel(rr, j, p.tpr));
        float s = fetch_scale(M, rr, j);
        for (uint k = 0u; k < CH; k++) w[r][k] = decode4(TYPE, t, k) * s;
        if (SWIGLU != 0u) {
            uvec4 t3 = fetch_w(1u, wtexel(rr, j, p.tpr));
            float s3 = fetch_scale(1u, rr, j);
            for (uint k = 0u; k < CH; k++) w3[r][k] = decode4(TYPE, t3, k) * s3;
        }
    }
    for (uint b = 0u; b < TB; b++) {
        uint base = min(t0 + b, p.n - 1u) * p.cols + j * EPT;
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
            for (uint r = 0u; r < TR; r++) acc[r][b] += dot(w[r][k], xv);
            if (SWIGLU != 0u)
                for (uint r = 0u; r < TR; r++) acc3[r][b] += dot(w3[r][k], xv);
        }
    }
}

void main() {
    // Row r of an invocation's TR rows is r0 + r * WG: neighbouring invocations hold
    // neighbouring rows, which the interleaved weight layout stores side by side.
    uint r0 = gl_WorkGroupID.x * WG * TR + gl_LocalInvocationID.x;
    uint t0 = gl_GlobalInvocationID.y * TB;
    ROWS = p.rows;
    if (QKV != 0u) {   // the workgroup's matrix: uniform across it, so no divergence
        uint wid = gl_WorkGroupID.x, first = 0u;
        if (wid >= p.groups_q + p.groups_k) {
            M = 2u;
            first = p.groups_q + p.groups_k;
            ROWS = p.rows_v;
        } else if (wid >= p.groups_q) {
            M = 1u;
            first = p.groups_q;
            ROWS = p.rows_k;
        }
        r0 = (wid - first) * WG * TR + gl_LocalInvocationID.x;
    }
    if (r0 >= ROWS || t0 >= p.n) return;
    for (uint r = 0u; r < TR; r++)
        for (uint b = 0u; b < TB; b++) acc[r][b] = acc3[r][b] = 0.0;
    uint full = p.cols / EPT;
    for (uint j = 0u; j < full; j++) step_texel(r0, t0, j, false);
    if (full < p.tpr) step_texel(r0, t0, full, true);
    for (uint b = 0u; b < TB; b++) {
        if (t0 + b >= p.n) break;
        for (uint r = 0u; r < TR; r++) {
            uint row = r0 + r * WG;
            if (row < ROWS) {
                float a = acc[r][b];
                if (SWIGLU != 0u) a = a / (1.0 + exp(-a)) * acc3[r][b];
                if (M == 0u) y[(t0 + b) * p.y_stride + p.row_offset + row] = a;
                else if (M == 1u) yk[(t0 + b) * ROWS + row] = a;
                else yv[(t0 + b) * ROWS + row] = a;
            }
        }
    }
}
