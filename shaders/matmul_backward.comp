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
// VEC = 1: read 4 values per load through vec4 views of the same buffers; the host sets
// it where every row stride involved is a multiple of 4 (MODE 0: cols; MODE 1, 2: rows
// and cols), so each vec4 lies inside one row.
layout(constant_id = 2) const uint VEC = 0;
const uint TM = 4u, TN = 4u;

layout(binding = 0) readonly buffer Wt { float w[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) readonly buffer DY { float dy[]; };
layout(binding = 3) buffer O { float o[]; };
layout(binding = 0) readonly buffer Wt4 { vec4 w4[]; };
layout(binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(binding = 2) readonly buffer DY4 { vec4 dy4[]; };
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
    if (VEC != 0u && MODE == 0u) {
        // k runs along both rows: 4 k at a time, summed in increasing k within each output
        for (uint k = 0u; k < K; k += 4u) {
            vec4 av[TM], bv[TN];
            for (uint a = 0u; a < TM; a++) av[a] = x4[(mc[a] * p.cols + k) / 4u];
            for (uint b = 0u; b < TN; b++) bv[b] = w4[(jc[b] * p.cols + k) / 4u];
            for (uint a = 0u; a < TM; a++)
                for (uint b = 0u; b < TN; b++) {
                    float s = acc[a][b];
                    s += av[a].x * bv[b].x;
                    s += av[a].y * bv[b].y;
                    s += av[a].z * bv[b].z;
                    s += av[a].w * bv[b].w;
                    acc[a][b] = s;
                }
        }
    } else if (VEC != 0u) {
        // MODE 1: B(j0..j0+3, k) is one vec4 of W's row k; MODE 2: A(m0..m0+3, k) is one
        // vec4 of DY's row k and B(j0..j0+3, k) one of X's row k (m0, j0 multiples of 4)
        for (uint k = 0u; k < K; k++) {
            vec4 bv = MODE == 1u ? w4[(k * p.cols + j0) / 4u] : x4[(k * p.cols + j0) / 4u];
            float av[TM];
            if (MODE == 2u) {
                vec4 a4 = dy4[(k * p.rows + m0) / 4u];
                av[0] = a4.x; av[1] = a4.y; av[2] = a4.z; av[3] = a4.w;
            } else {
                for (uint a = 0u; a < TM; a++) av[a] = dy[mc[a] * p.rows + k];
            }
            for (uint a = 0u; a < TM; a++) {
                acc[a][0] += av[a] * bv.x;
                acc[a][1] += av[a] * bv.y;
                acc[a][2] += av[a] * bv.z;
                acc[a][3] += av[a] * bv.w;
            }
        }
    } else {
        for (uint k = 0u; k < K; k++) {
            float av[TM], bv[TN];
            for (uint a = 0u; a < TM; a++) av[a] = A(mc[a], k);
            for (uint b = 0u; b < TN; b++) bv[b] = B(jc[b], k);
            for (uint a = 0u; a < TM; a++)
                for (uint b = 0u; b < TN; b++) acc[a][b] += av[a] * bv[b];
        }
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
