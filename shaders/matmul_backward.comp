#version 450
// Training matmuls over plain F32 buffers, one invocation per output element, each a
// sequential dot product (a fixed order, so results are bitwise reproducible; no atomics).
// W is rows x cols row-major (maps cols inputs to rows outputs), X is n x cols, DY n x rows.
//   MODE 0 (forward):  Y[i][r]   (+)= sum_c W[r][c] X[i][c]     grid (r, i)
//   MODE 1 (input):    DX[i][c]  (+)= sum_r DY[i][r] W[r][c]    grid (c, i)
//   MODE 2 (weight):   DW[r][c]   += sum_i DY[i][r] X[i][c]     grid (c, r)
// The training weights change every step, so they stay plain F32 storage buffers rather
// than the repacked texel weights of the inference matmul.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint MODE = 0;

layout(binding = 0) readonly buffer Wt { float w[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) readonly buffer DY { float dy[]; };
layout(binding = 3) buffer O { float o[]; };
layout(push_constant) uniform Push {
    uint rows, cols, n, accumulate;
} p;

void main() {
    uint a = gl_GlobalInvocationID.x, b = gl_GlobalInvocationID.y;
    if (MODE == 0u) {
        if (a >= p.rows || b >= p.n) return;
        float s = 0.0;
        for (uint c = 0u; c < p.cols; c++) s += w[a * p.cols + c] * x[b * p.cols + c];
        uint at = b * p.rows + a;
        o[at] = p.accumulate != 0u ? o[at] + s : s;
    } else if (MODE == 1u) {
        if (a >= p.cols || b >= p.n) return;
        float s = 0.0;
        for (uint r = 0u; r < p.rows; r++) s += dy[b * p.rows + r] * w[r * p.cols + a];
        uint at = b * p.cols + a;
        o[at] = p.accumulate != 0u ? o[at] + s : s;
    } else {
        if (a >= p.cols || b >= p.rows) return;
        float s = 0.0;
        for (uint i = 0u; i < p.n; i++) s += dy[i * p.rows + b] * x[i * p.cols + a];
        o[b * p.cols + a] += s;
    }
}
