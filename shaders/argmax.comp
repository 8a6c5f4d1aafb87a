#version 450
#extension GL_GOOGLE_include_directive : require
// out[i] = the lowest index of the largest x[i][j]: one workgroup per row.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
// 1 (dim % 4 == 0): x read 4 values at a time through the texel view X4. On lavapipe a
// storage-buffer read is a loop over the lanes: the 32000 logits of a step took ~280 µs.
layout(constant_id = 1) const uint XVEC = 0;
#include "reduce.glsl"

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) writeonly buffer O { uint o[]; };
layout(binding = 2) uniform usamplerBuffer X4;
layout(push_constant) uniform Push { uint dim; } p;

float best = uintBitsToFloat(0xff800000u);   // -inf
uint at = 0xffffffffu;

// Visited in ascending j within an invocation, with a strict '>': the lowest index among
// equal values stays; NaN never wins.
void visit(float v, uint j) {
    if (v > best || (at == 0xffffffffu && v == best)) {
        best = v;
        at = j;
    }
}

void main() {
    uint base = gl_WorkGroupID.x * p.dim;
    if (XVEC != 0u) {
        for (uint t = gl_LocalInvocationID.x; t < p.dim / 4u; t += WG) {
            vec4 v = uintBitsToFloat(texelFetch(X4, int(base / 4u + t)));
            for (uint e = 0u; e < 4u; e++) visit(v[e], 4u * t + e);
        }
    } else {
        for (uint j = gl_LocalInvocationID.x; j < p.dim; j += WG) visit(x[base + j], j);
    }
    float m = wg_max(best);
    uint idx = wg_min_u(best == m ? at : 0xffffffffu);
    if (gl_LocalInvocationID.x == 0u) o[gl_WorkGroupID.x] = idx == 0xffffffffu ? 0u : idx;
}
