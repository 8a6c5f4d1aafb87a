#version 450
// AdamW (decoupled weight decay), one invocation per parameter:
//   g = grad * gscale (the global-norm clip factor),
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
//   w -= lr * ((m / bc1) / (sqrt(v / bc2) + eps) + wd * w),  bc = 1 - beta^step.
// MODE 1: partial sums of squares instead: sq[k] = sum of grad[j]^2 over the 256 values
// of chunk k, in order; the host adds the partials in order (a reproducible global norm).
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint MODE = 0;

layout(binding = 0) buffer Wt { float w[]; };
layout(binding = 1) readonly buffer G { float grad[]; };
layout(binding = 2) buffer M { float m[]; };
layout(binding = 3) buffer V { float v[]; };
layout(binding = 4) writeonly buffer SQ { float sq[]; };
layout(push_constant) uniform Push {
    uint count;
    float lr, b1, b2, eps, wd, gscale, bc1, bc2;
} p;

void main() {
    uint j = gl_GlobalInvocationID.x;
    if (MODE == 1u) {
        uint start = j * 256u;
        if (start >= p.count) return;
        float s = 0.0;
        for (uint e = start; e < min(start + 256u, p.count); e++) s += grad[e] * grad[e];
        sq[j] = s;
        return;
    }
    if (j >= p.count) return;
    float g = grad[j] * p.gscale;
    float mm = p.b1 * m[j] + (1.0 - p.b1) * g;
    float vv = p.b2 * v[j] + (1.0 - p.b2) * g * g;
    m[j] = mm;
    v[j] = vv;
    w[j] -= p.lr * ((mm / p.bc1) / (sqrt(vv / p.bc2) + p.eps) + p.wd * w[j]);
}
