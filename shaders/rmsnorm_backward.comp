#version 450
// Backward of y = x * s * w, s = 1/sqrt(mean(x^2) + eps), for n rows of dim:
//   MODE 0: one invocation per row i:
//           dx[i][c] (+)= s w[c] dy[i][c] - x[i][c] s^3 / dim * sum_k dy[i][k] w[k] x[i][k]
//           and rstd[i] = s for MODE 1.
//   MODE 1: one invocation per column c:  dw[c] += sum_i dy[i][c] x[i][c] rstd[i]  (rows in order)
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint MODE = 0;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer Wt { float w[]; };
layout(binding = 2) readonly buffer DY { float dy[]; };
layout(binding = 3) buffer DX { float dx[]; };
layout(binding = 4) buffer RS { float rstd[]; };
layout(binding = 5) buffer DW { float dw[]; };
layout(push_constant) uniform Push {
    uint n, dim, accumulate;
    float eps;
} p;

void main() {
    uint id = gl_GlobalInvocationID.x;
    if (MODE == 0u) {
        if (id >= p.n) return;
        uint base = id * p.dim;
        float ss = 0.0, dot = 0.0;
        for (uint c = 0u; c < p.dim; c++) {
            float v = x[base + c];
            ss += v * v;
            dot += dy[base + c] * w[c] * v;
        }
        float s = inversesqrt(ss / float(p.dim) + p.eps);
        float k = s * s * s * dot / float(p.dim);
        for (uint c = 0u; c < p.dim; c++) {
            float g = s * w[c] * dy[base + c] - x[base + c] * k;
            dx[base + c] = p.accumulate != 0u ? dx[base + c] + g : g;
        }
        rstd[id] = s;
    } else {
        if (id >= p.dim) return;
        float s = 0.0;
        for (uint i = 0u; i < p.n; i++) s += dy[i * p.dim + id] * x[i * p.dim + id] * rstd[i];
        dw[id] += s;
    }
}
