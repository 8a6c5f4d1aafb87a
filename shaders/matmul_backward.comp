#version 450
// Training matmuls over plain F32 buffers. W is rows x cols row-major (maps cols inputs
// to rows outputs), X is n x cols, DY is n x rows:
//   MODE 0 (forward):  Y[i][r]   (+)= sum_c X[i][c] W[r][c]
//   MODE 1 (input):    DX[i][c]  (+)= sum_r DY[i][r] W[r][c]
//   MODE 2 (weight):   DW[r][c]   += sum_i DY[i][r] X[i][c]
// All three are OUT[m][j] = sum_k A(m, k) B(j, k) with strided A and B; each invocation
// computes a TM x TN register tile, summing k in increasing order (a fixed order: bitwise
// reproducible, no atomics, no shared memory, no barriers — barriers are slow on lavapipe).
// The training weights change every step, so they stay plain F32 storage buffers rather
// than the repacked texel weights of the inference matmul.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 16;
layout(constant_id = 1) const uint MODE = 0;
const uint TM = 4u, TN = 4u;

layout(binding = 0) readonly buffer Wt { float w[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) readonly buffer DY { float dy[]; };
layout(binding = 3) buffer O { float o[]; };
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

void main() {
    uint M = MODE == 2u ? p.rows : p.n;
    uint N = MODE == 0u ? p.rows : p.cols;
    uint K = MODE == 0u ? p.cols : MODE == 1u ? p.rows : p.n;
    uint j0 = gl_GlobalInvocationID.x * TN, m0 = gl_GlobalInvocationID.y * TM;
    if (j0 >= N || m0 >= M) return;
    float acc[TM][TN];
    for (uint a = 0u; a < TM; a++)
        for (uint b = 0u; b < TN; b++) acc[a][b] = 0.0;
    uint mc[TM], jc[TN];
    for (uint a = 0u; a < TM; a++) mc[a] = min(m0 + a, M - 1u);
    for (uint b = 0u; b < TN; b++) jc[b] = min(j0 + b, N - 1u);
    for (uint k = 0u; k < K; k++) {
        float av[TM], bv[TN];
        for (uint a = 0u; a < TM; a++) av[a] = A(mc[a], k);
        for (uint b = 0u; b < TN; b++) bv[b] = B(jc[b], k);
        for (uint a = 0u; a < TM; a++)
            for (uint b = 0u; b < TN; b++) acc[a][b] += av[a] * bv[b];
    }
    bool add = MODE == 2u || p.accumulate != 0u;
    for (uint a = 0u; a < TM; a++) {
        if (m0 + a >= M) break;
        for (uint b = 0u; b < TN; b++) {
            if (j0 + b >= N) break;
            uint at = (m0 + a) * N + j0 + b;
            o[at] = add ? o[at] + acc[a][b] : acc[a][b];
        }
    }
}
