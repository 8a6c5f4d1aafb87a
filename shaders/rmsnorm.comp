#version 450
#extension GL_GOOGLE_include_directive : require
// y[i] = x[i] * w / sqrt(mean(x[i]^2) + eps): one workgroup (normally one subgroup) per row.
// With ADD = 1 the residual comes first: x[i] += r[i] (written back), then the norm of the
// sum, so a residual add and the next norm are one dispatch.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
layout(constant_id = 1) const uint ADD = 0;
#include "reduce.glsl"

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer Wt { float w[]; };
layout(binding = 2) buffer Y { float y[]; };   // may be the same buffer as X (ADD = 0)
layout(binding = 3) readonly buffer R { float r[]; };
layout(push_constant) uniform Push {
    uint dim;
    float eps;
} p;

void main() {
    uint base = gl_WorkGroupID.x * p.dim;
    uint lid = gl_LocalInvocationID.x;
    float ss = 0.0;
    for (uint i = lid; i < p.dim; i += WG) {
        float v = x[base + i];
        if (ADD != 0u) {
            v += r[base + i];
            x[base + i] = v;   // read back below by this same invocation
        }
        ss += v * v;
    }
    ss = wg_sum(ss);
    float scale = inversesqrt(ss / float(p.dim) + p.eps);
    for (uint i = lid; i < p.dim; i += WG) y[base + i] = x[base + i] * scale * w[i];
}
