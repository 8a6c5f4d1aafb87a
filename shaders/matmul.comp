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
#extension GL_EXT_control_flow_attributes : require
// Compiled twice (shaders/CMakeLists.txt): matmul with XSHARE's subgroup shuffles, and
// matmul_plain (PLUME_NO_SHUFFLE) for devices without subgroup shuffle, never with XSHARE.
#ifndef PLUME_NO_SHUFFLE
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
layout(constant_id = 1) const uint TYPE = 0;
layout(constant_id = 2) const uint TR = 4;
layout(constant_id = 3) const uint TB = 8;
layout(constant_id = 4) const uint XVEC = 0;   // 1: read x through the texel view X4
layout(constant_id = 5) const uint SWIGLU = 0; // 1: y = silu(W x) * (W3 x)
layout(constant_id = 6) const uint QKV = 0;    // 1: W is q, k and v stacked; its rows go to y, yk, yv
// 1 (subgroups of exactly 8, XVEC): x is fetched 8 texels at a time, one per invocation of
// the subgroup, and handed round by subgroup shuffles (see step_chunk).
layout(constant_id = 7) const uint XSHARE = 0;
// 1: after the product, the residual add and the norm that follow it (see norm_after):
// h += y, out = rmsnorm(h) * g, so that a decode step needs no dispatch of its own for them.
layout(constant_id = 8) const uint NORM = 0;
const uint CH = TYPE == TYPE_F32 ? 1u : (TYPE == TYPE_F16 ? 2u : (type_nibbles(TYPE) ? 8u : 4u));  // vec4s per texel
const uint EPT = CH * 4u;                                            // values per texel
const uint BLOCK = type_block(TYPE);                                 // values per scale (0: none)
const uint TPB = BLOCK == 0u ? 1u : BLOCK / EPT;                     // texels per scale
// Q4_1 and Q5 add a minimum per block: min * (the sum of x over the block) joins the
// scaled dot product. Q5's fifth bits come from a word per block (HB), fetched with the scales.
const bool MINS = type_has_min(TYPE);
const bool HIGH = TYPE == TYPE_Q5;

layout(binding = 0) uniform usamplerBuffer W;
layout(binding = 1) uniform usamplerBuffer S;  // quantized formats' scales: 4 blocks' f32 per texel (scale_texel)
layout(binding = 2) readonly buffer X { float x[]; };
layout(binding = 4) uniform usamplerBuffer X4;   // the same x through a texel view, where cols % 4 == 0
layout(binding = 3) coherent buffer Y { float y[]; };   // read back by NORM's last invocation
layout(binding = 5) uniform usamplerBuffer W3;  // SwiGLU's up projection
layout(binding = 6) uniform usamplerBuffer S3;
layout(binding = 7) writeonly buffer YK { float yk[]; };
layout(binding = 8) writeonly buffer YV { float yv[]; };
// QKV: the stacked weight's rows [0, y_stride) are q's, then rows_k of k, then rows_v of v
// (row_offset is where this part starts among them).
// NORM: the residual stream h (n x y_stride), the norm's weight, its output, and a counter
// of the invocations done (0 between dispatches: the last invocation resets it).
layout(binding = 9) coherent buffer H { float h[]; };
layout(binding = 10) readonly buffer G { float norm_w[]; };
layout(binding = 11) writeonly buffer XN { float xn[]; };
layout(binding = 12) coherent buffer Done { uint done[]; };
layout(binding = 13) uniform usamplerBuffer M;   // MINS: the minimums, laid out as the scales
layout(binding = 14) uniform usamplerBuffer M3;
layout(binding = 15) uniform usamplerBuffer HB;  // HIGH: the fifth bits, a word per block laid out as the scales
layout(binding = 16) uniform usamplerBuffer HB3;
layout(push_constant) uniform Push {
    uint rows, cols, n, row_offset, y_stride, tpr;
    uint rows_k, rows_v;
    float eps;
} p;

// One binding per weight, so that no fetch depends on a branch: lavapipe executes both
// sides of a branch under a mask, so selecting among three weights by workgroup (the
// first fused q/k/v kernel) paid for three fetches per texel.
uvec4 fetch_w(uint m, uint i) {
    if (m == 0u) return texelFetch(W, int(i));
    return texelFetch(W3, int(i));
}

// The scales of blocks 4 g .. 4 g + 3 of a row, of W (m = 0) or W3.
vec4 fetch_scale4(uint m, uint row, uint g) {
    int i = int(scale_texel(row, 4u * g, p.cols, max(BLOCK, 1u)));
    return uintBitsToFloat(m == 0u ? texelFetch(S, i) : texelFetch(S3, i));
}

// The fifth bits of the same blocks (HIGH).
uvec4 fetch_high4(uint m, uint row, uint g) {
    int i = int(scale_texel(row, 4u * g, p.cols, max(BLOCK, 1u)));
    return m == 0u ? texelFetch(HB, i) : texelFetch(HB3, i);
}

// The minimums of the same blocks (MINS).
vec4 fetch_min4(uint m, uint row, uint g) {
    int i = int(scale_texel(row, 4u * g, p.cols, max(BLOCK, 1u)));
    return uintBitsToFloat(m == 0u ? texelFetch(M, i) : texelFetch(M3, i));
}

float acc[TR][TB];
float acc3[TR][TB];
vec4 w[TR][CH];
vec4 w3[TR][CH];
// Quantized types: a texel's integer values are dotted with x first and the sum is scaled
// once per token, instead of scaling each decoded value (4-10% faster for one token on
// lavapipe, the same for tiles of 8).
float ws[TR], ws3[TR], wm[TR], wm3[TR];
uint whb[TR], whb3[TR];
const bool QUANT = BLOCK != 0u;
// Texels per scale fetch: a Q8_0 block of 32 values is two texels, so for one token its
// scales are fetched once for both (each scale fetch is a gather on lavapipe: 14% of a
// one-token Q8_0 product's time when it was fetched per texel). Tiles of several tokens
// share each fetch between the tokens already, and the doubled loop body made them 9-12%
// slower: one texel per scale fetch there.
const uint SPAN = TB == 1u ? TPB : 1u;

// acc + w . x, one product at a time in a fixed order (x, y, z, w), so that every variant
// (shared x or not, any shape) accumulates a row bit for bit alike. (llvmpipe lowers fma to
// a multiply and an add: this is no faster than dot() and +=, only exactly defined.)
float dot_add(vec4 w, vec4 x, float acc) {
    return fma(w.w, x.w, fma(w.z, x.z, fma(w.y, x.y, fma(w.x, x.x, acc))));
}

// The scales of texel j's block, for each row of the tile.
void fetch_scales(uint r0, uint j) {
    uint b = j / TPB;
    for (uint r = 0u; r < TR; r++) {
        uint rr = min(r0 + r * WG, p.rows - 1u);
        ws[r] = fetch_scale4(0u, rr, b / 4u)[b & 3u];
        if (SWIGLU != 0u) ws3[r] = fetch_scale4(1u, rr, b / 4u)[b & 3u];
        if (MINS) {
            wm[r] = fetch_min4(0u, rr, b / 4u)[b & 3u];
            if (SWIGLU != 0u) wm3[r] = fetch_min4(1u, rr, b / 4u)[b & 3u];
        }
        if (HIGH) {
            whb[r] = fetch_high4(0u, rr, b / 4u)[b & 3u];
            if (SWIGLU != 0u) whb3[r] = fetch_high4(1u, rr, b / 4u)[b & 3u];
        }
    }
}

// XSHARE: a chunk is 32 values of x (8 texels), texel i of it held by invocation i of the
// subgroup in xl[token] and shuffled to all: one fetch of x per 32 values and token where
// each invocation fetched all 32 itself. On lavapipe a shuffle by a constant index is one
// vector permute, while a texel fetch is 8 loads and a transpose (subgroupBroadcast instead
// finds the first active invocation with a loop over the lanes for every component, which
// makes the kernel 2-20x slower). A chunk holds TPC weight texels.
const uint XS = 8u;
const uint TPC = XSHARE != 0u ? XS * 4u / EPT : 1u;
vec4 xl[TB];

// Group k of 4 values of x for texel j, token t0 + b; sub is j's place in its chunk (XSHARE).
vec4 x_group(uint t0, uint b, uint j, uint k, bool tail, uint sub) {
#ifndef PLUME_NO_SHUFFLE
    if (XSHARE != 0u) return subgroupShuffle(xl[b], sub * CH + k);
#endif
    uint base = min(t0 + b, p.n - 1u) * p.cols + j * EPT;
    if (XVEC != 0u) {
        // cols % 4 == 0: a group of 4 lies wholly inside the row or wholly past it.
        bool inside = !tail || j * EPT + 4u * k < p.cols;
        return inside ? uintBitsToFloat(texelFetch(X4, int(base / 4u + k))) : vec4(0.0);
    }
    if (!tail) return vec4(x[base + 4u * k], x[base + 4u * k + 1u], x[base + 4u * k + 2u], x[base + 4u * k + 3u]);
    // The last, partial texel of a row: the weight padding is zero, but x past the row's
    // end belongs to the next row (or past the buffer): read 0 there.
    vec4 xv;
    uint c = j * EPT + 4u * k;
    for (uint e = 0u; e < 4u; e++) xv[e] = c + e < p.cols ? x[base + 4u * k + e] : 0.0;
    return xv;
}

void step_texel(uint r0, uint t0, uint j, bool tail, uint sub) {
    // XSHARE: the last chunk of a row may reach past it; those texels read as zero (their x
    // is zero too). Every variant accumulates each row in the same order, bit for bit.
    bool past = XSHARE != 0u && j >= p.tpr;
    uint jc = XSHARE != 0u ? min(j, p.tpr - 1u) : j;
    for (uint r = 0u; r < TR; r++) {
        uint rr = min(r0 + r * WG, p.rows - 1u);
        uvec4 t = fetch_w(0u, wtexel(rr, jc, p.tpr));
        if (past) t = uvec4(0u);
        for (uint k = 0u; k < CH; k++) w[r][k] = decode4(TYPE, t, k);
        if (HIGH)
            for (uint k = 0u; k < CH; k++) w[r][k] += high4(whb[r], k);
        if (SWIGLU != 0u) {
            uvec4 t3 = fetch_w(1u, wtexel(rr, jc, p.tpr));
            if (past) t3 = uvec4(0u);
            for (uint k = 0u; k < CH; k++) w3[r][k] = decode4(TYPE, t3, k);
            if (HIGH)
                for (uint k = 0u; k < CH; k++) w3[r][k] += high4(whb3[r], k);
        }
    }
    for (uint b = 0u; b < TB; b++) {
        float part[TR], part3[TR], xs = 0.0;
        for (uint r = 0u; r < TR; r++) part[r] = part3[r] = 0.0;
        for (uint k = 0u; k < CH; k++) {
            vec4 xv = x_group(t0, b, j, k, tail, sub);
            if (MINS) xs += (xv.x + xv.y) + (xv.z + xv.w);
            if (QUANT) {
                for (uint r = 0u; r < TR; r++) part[r] = dot_add(w[r][k], xv, part[r]);
                if (SWIGLU != 0u)
                    for (uint r = 0u; r < TR; r++) part3[r] = dot_add(w3[r][k], xv, part3[r]);
            } else {
                for (uint r = 0u; r < TR; r++) acc[r][b] = dot_add(w[r][k], xv, acc[r][b]);
                if (SWIGLU != 0u)
                    for (uint r = 0u; r < TR; r++) acc3[r][b] = dot_add(w3[r][k], xv, acc3[r][b]);
            }
        }
        if (QUANT) {
            for (uint r = 0u; r < TR; r++) acc[r][b] = fma(ws[r], part[r], acc[r][b]);
            if (SWIGLU != 0u)
                for (uint r = 0u; r < TR; r++) acc3[r][b] = fma(ws3[r], part3[r], acc3[r][b]);
            if (MINS) {
                for (uint r = 0u; r < TR; r++) acc[r][b] = fma(wm[r], xs, acc[r][b]);
                if (SWIGLU != 0u)
                    for (uint r = 0u; r < TR; r++) acc3[r][b] = fma(wm3[r], xs, acc3[r][b]);
            }
        }
    }
}

// XSHARE: chunk c of every row (ws holds its scales: a chunk is one block of 32; the host
// does not share x for Q8_16's blocks of 16).
void step_chunk(uint r0, uint t0, uint c) {
    uint lane = gl_SubgroupInvocationID;
    bool inside = c * XS * 4u + lane * 4u < p.cols;
    for (uint b = 0u; b < TB; b++) {
        uint i = min(t0 + b, p.n - 1u) * p.cols / 4u + c * XS + lane;
        xl[b] = inside ? uintBitsToFloat(texelFetch(X4, int(i))) : vec4(0.0);
    }
    // Unrolled (the attribute: NIR would not unroll a body this large), so that sub is a
    // constant and each shuffle one permute.
    [[unroll]] for (uint t = 0u; t < TPC; t++) step_texel(r0, t0, c * TPC + t, false, t);
}

// NORM: every invocation counts itself done once its stores are out; the subgroup of the
// last one then sees every row of y and does what add_rmsnorm (rmsnorm.comp with ADD) does,
// in the same order where subgroups are rmsnorm's workgroups (8 lanes on lavapipe): h += y,
// out = h * inversesqrt(mean(h^2) + eps) * g, row by row. It is one subgroup's work, so the
// host fuses this only for decoding (a few rows); a dispatch costs 33-104 µs on lavapipe.
void norm_after() {
    memoryBarrierBuffer();
    uint total = gl_NumWorkGroups.x * gl_NumWorkGroups.y * WG;
    // subgroupMax, not subgroupAny: arithmetic is what plume already needs of a device.
    if (subgroupMax(atomicAdd(done[0], 1u) == total - 1u ? 1u : 0u) == 0u) return;
    memoryBarrierBuffer();
    uint lane = gl_SubgroupInvocationID, dim = p.y_stride;
    for (uint t = 0u; t < p.n; t++) {
        uint base = t * dim;
        float ss = 0.0;
        for (uint i = lane; i < dim; i += gl_SubgroupSize) {
            float v = h[base + i];
            v += y[base + i];
            h[base + i] = v;
            ss += v * v;
        }
        ss = subgroupAdd(ss);
        float scale = inversesqrt(ss / float(dim) + p.eps);
        for (uint i = lane; i < dim; i += gl_SubgroupSize) xn[base + i] = h[base + i] * scale * norm_w[i];
    }
    if (subgroupElect()) done[0] = 0u;
}

void main() {
    // Row r of an invocation's TR rows is r0 + r * WG: neighbouring invocations hold
    // neighbouring rows, which the interleaved weight layout stores side by side.
    uint r0 = gl_WorkGroupID.x * WG * TR + gl_LocalInvocationID.x;
    uint t0 = gl_GlobalInvocationID.y * TB;
    // XSHARE: every invocation of a subgroup takes part in the shuffles, so none leaves
    // early; rows past the end are clamped above and not stored below.
    // NORM: every invocation must count itself done, so none leaves early either.
    if (XSHARE == 0u && NORM == 0u && (r0 >= p.rows || t0 >= p.n)) return;
    for (uint r = 0u; r < TR; r++)
        for (uint b = 0u; b < TB; b++) acc[r][b] = acc3[r][b] = 0.0;
    if (XSHARE != 0u && QUANT) {
        // One scale fetch per row for 4 chunks (blocks): a fetch of a scale is as dear as
        // one of a weight texel on lavapipe, and one token's product fetched one per block
        // (12-14% of its time).
        uint chunks = p.cols / 32u;
        vec4 sc[TR], sc3[TR], mn[TR], mn3[TR];
        uvec4 hb[TR], hb3[TR];
        for (uint c0 = 0u; c0 < chunks; c0 += 4u) {
            for (uint r = 0u; r < TR; r++) {
                uint rr = min(r0 + r * WG, p.rows - 1u);
                sc[r] = fetch_scale4(0u, rr, c0 / 4u);
                if (SWIGLU != 0u) sc3[r] = fetch_scale4(1u, rr, c0 / 4u);
                if (MINS) {
                    mn[r] = fetch_min4(0u, rr, c0 / 4u);
                    if (SWIGLU != 0u) mn3[r] = fetch_min4(1u, rr, c0 / 4u);
                }
                if (HIGH) {
                    hb[r] = fetch_high4(0u, rr, c0 / 4u);
                    if (SWIGLU != 0u) hb3[r] = fetch_high4(1u, rr, c0 / 4u);
                }
            }
            uint m = min(4u, chunks - c0);
            for (uint q = 0u; q < m; q++) {
                for (uint r = 0u; r < TR; r++) {
                    ws[r] = sc[r][q];
                    if (SWIGLU != 0u) ws3[r] = sc3[r][q];
                    if (MINS) {
                        wm[r] = mn[r][q];
                        if (SWIGLU != 0u) wm3[r] = mn3[r][q];
                    }
                    if (HIGH) {
                        whb[r] = hb[r][q];
                        if (SWIGLU != 0u) whb3[r] = hb3[r][q];
                    }
                }
                step_chunk(r0, t0, c0 + q);
            }
        }
    } else if (XSHARE != 0u) {
        uint chunks = (p.cols + XS * 4u - 1u) / (XS * 4u);
        for (uint c = 0u; c < chunks; c++) step_chunk(r0, t0, c);
    } else {
        uint full = p.cols / EPT;   // quantized: cols % BLOCK == 0, so full is a multiple of TPB and there is no tail
        for (uint j = 0u; j < full; j += SPAN) {
            if (QUANT) fetch_scales(r0, j);
            [[unroll]] for (uint s = 0u; s < SPAN; s++) step_texel(r0, t0, j + s, false, 0u);
        }
        if (full < p.tpr) {
            if (QUANT) fetch_scales(r0, full);
            step_texel(r0, t0, full, true, 0u);
        }
    }
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
    if (NORM != 0u) norm_after();
}
