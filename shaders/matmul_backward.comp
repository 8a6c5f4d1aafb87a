#version 450
// Compiled twice (shaders/CMakeLists.txt): as matmul_backward with the FAST path's subgroup
// broadcasts, and as matmul_backward_plain (PLUME_NO_BALLOT) without them for devices that
// lack subgroup ballot; the host takes that one there, and never asks it for FAST.
#ifndef PLUME_NO_BALLOT
#extension GL_KHR_shader_subgroup_ballot : require
#endif
// Training matmuls over plain F32 buffers. W is rows x cols row-major (maps cols inputs
// to rows outputs), X is n x cols, DY is n x rows:
//   MODE 0 (forward):  Y[i][r]   (+)= sum_c X[i][c] W[r][c]
//   MODE 1 (input):    DX[i][c]  (+)= sum_r DY[i][r] W[r][c]
//   MODE 2 (weight):   DW[r][c]   += sum_i DY[i][r] X[i][c]
// All three are OUT[m][j] = sum_k A(m, k) B(j, k). Every output is summed in increasing
// k by one invocation (bitwise reproducible: no atomics, no shared memory, and no
// barriers, which are coroutine switches on lavapipe).
//
// FAST = 1, where the host finds every stride involved a multiple of 4 and subgroups of
// at least 8, is shaped for CPU devices such as lavapipe. There one SIMD register holds a
// value for each of 8 invocations; a load at an address that differs per invocation is
// a gather, cheap only through a texel view (16 bytes per invocation per fetch), and a
// value one invocation holds reaches all 8 with a subgroup broadcast (a register
// shuffle). So invocations own 4 neighbouring output columns j (one texel of a row of B)
// and a workgroup of 8 owns TM output rows m, whose A values its invocations fetch as
// texels and broadcast:
//   MODE 0, 1: A(m, k..k+3) is a texel of X's / DY's row m; B(k, j..j+3) a texel of
//              row k of W^T (the host transposes W into binding 4 first) / of W.
//   MODE 2:    B(k, j..j+3) is a texel of X's row k; A(m..m+3, k) a texel of DY's row k,
//              the 8 invocations fetching 8 consecutive rows k.
// Measured on lavapipe (2 cores, dim 96 layers, 1024 rows): 5-10 GFLOP per CPU-second
// against 0.55 for the plain 4 x 4 register tiles of FAST = 0.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;
layout(constant_id = 1) const uint MODE = 0;
layout(constant_id = 2) const uint FAST = 0;
const uint TM = 4u;    // FAST, MODE 0 and 1: rows m per workgroup
const uint TM2 = 2u;   // FAST, MODE 2
const uint TS = 4u;                           // the slow path's m x j tile

layout(binding = 0) readonly buffer Wt { float w[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) readonly buffer DY { float dy[]; };
layout(binding = 3) buffer O { float o[]; };
// FAST: texel views. MODE 0: W^T (cols x rows), -, X; MODE 1: W, -, DY; MODE 2: -, X, DY.
layout(binding = 4) uniform usamplerBuffer B4;
layout(binding = 5) uniform usamplerBuffer X4;
layout(binding = 6) uniform usamplerBuffer A4;

#define tex(t, i) uintBitsToFloat(texelFetch(t, int(i)))
layout(push_constant) uniform Push {
    uint rows, cols, n, accumulate;
} p;

float A(uint m, uint k) {
    if (MODE == 0u) return x[m * p.cols + k];
    if (MODE == 1u) return dy[m * p.rows + k];
    return dy[k * p.rows + m];
}

float B(uint j, uint k) {
    if (MODE == 0u) return w[j * p.cols + k];
    if (MODE == 1u) return w[k * p.cols + j];
    return x[k * p.cols + j];
}

void store(uint m, uint j, float v) {
    uint N = MODE == 0u ? p.rows : p.cols;
    uint at = m * N + j;
    o[at] = (MODE == 2u || p.accumulate != 0u) ? o[at] + v : v;
}

// v of invocation t of the subgroup (t a constant once the loops are unrolled)
float bc(float v, uint t) {
#ifdef PLUME_NO_BALLOT
    return v;   // never reached: FAST = 0 with this module
#else
    switch (t) {
    case 0u: return subgroupBroadcast(v, 0u);
    case 1u: return subgroupBroadcast(v, 1u);
    case 2u: return subgroupBroadcast(v, 2u);
    case 3u: return subgroupBroadcast(v, 3u);
    case 4u: return subgroupBroadcast(v, 4u);
    case 5u: return subgroupBroadcast(v, 5u);
    case 6u: return subgroupBroadcast(v, 6u);
    default: return subgroupBroadcast(v, 7u);
    }
#endif
}

void fast(uint M, uint N, uint K) {
    uint lane = gl_LocalInvocationID.x;
    uint j0 = gl_GlobalInvocationID.x * 4u, jc = min(j0, N - 4u);
    if (MODE != 2u) {
        // invocation l fetches A's row m0 + l at k .. k + 3 and broadcasts it
        uint m0 = gl_WorkGroupID.y * TM, ml = min(m0 + lane, M - 1u);
        vec4 acc[TM];
        for (uint t = 0u; t < TM; t++) acc[t] = vec4(0.0);
        for (uint k = 0u; k < K; k += 4u) {
            vec4 a = tex(A4, (ml * K + k) / 4u);
            for (uint kk = 0u; kk < 4u; kk++) {
                vec4 b = tex(B4, ((k + kk) * N + jc) / 4u);
                for (uint t = 0u; t < TM; t++) acc[t] += bc(a[kk], t) * b;
            }
        }
        if (j0 < N)
            for (uint t = 0u; t < TM; t++)   // a constant trip count: unrolled, so acc stays in
                if (m0 + t < M)              // registers (a data-dependent one put it in memory: 4x slower)
                    for (uint c = 0u; c < 4u; c++) store(m0 + t, j0 + c, acc[t][c]);
    } else {
        // invocation l fetches DY's row k + l at m .. m + 3 (m0 rounded down to a multiple
        // of 4; M is one) and broadcasts it for the 8 k of a round
        uint m0 = gl_WorkGroupID.y * TM2, mc = m0 & ~3u, sub = m0 - mc;
        vec4 acc[TM2];
        for (uint t = 0u; t < TM2; t++) acc[t] = vec4(0.0);
        for (uint k = 0u; k < K; k += 8u) {
            vec4 a = k + lane < K ? tex(A4, ((k + lane) * M + mc) / 4u) : vec4(0.0);
            for (uint t = 0u; t < TM2; t++) a[t] = a[sub + t];
            for (uint kk = 0u; kk < 8u; kk++) {
                vec4 b = tex(X4, (min(k + kk, K - 1u) * N + jc) / 4u);
                for (uint t = 0u; t < TM2; t++) acc[t] += bc(a[t], kk) * b;
            }
        }
        if (j0 < N)
            for (uint t = 0u; t < TM2; t++)
                if (m0 + t < M)
                    for (uint c = 0u; c < 4u; c++) store(m0 + t, j0 + c, acc[t][c]);
    }
}

void main() {
    uint M = MODE == 2u ? p.rows : p.n;
    uint N = MODE == 0u ? p.rows : p.cols;
    uint K = MODE == 0u ? p.cols : MODE == 1u ? p.rows : p.n;
    if (FAST != 0u) {
        fast(M, N, K);
        return;
    }
    uint j0 = gl_GlobalInvocationID.x * TS, m0 = gl_GlobalInvocationID.y * TS;
    if (j0 >= N || m0 >= M) return;
    float acc[TS][TS];
    for (uint a = 0u; a < TS; a++)
        for (uint b = 0u; b < TS; b++) acc[a][b] = 0.0;
    uint mc[TS], jc[TS];
    for (uint a = 0u; a < TS; a++) mc[a] = min(m0 + a, M - 1u);
    for (uint b = 0u; b < TS; b++) jc[b] = min(j0 + b, N - 1u);
    for (uint k = 0u; k < K; k++) {
        float av[TS], bv[TS];
        for (uint a = 0u; a < TS; a++) av[a] = A(mc[a], k);
        for (uint b = 0u; b < TS; b++) bv[b] = B(jc[b], k);
        for (uint a = 0u; a < TS; a++)
            for (uint b = 0u; b < TS; b++) acc[a][b] += av[a] * bv[b];
    }
    for (uint a = 0u; a < TS; a++) {
        if (m0 + a >= M) break;
        for (uint b = 0u; b < TS; b++)
            if (j0 + b < N) store(m0 + a, j0 + b, acc[a][b]);
    }
}
