#version 450
#extension GL_GOOGLE_include_directive : require
// out[i] = the lowest index of the largest x[i][j]: one workgroup per row.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
#include "reduce.glsl"

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) writeonly buffer O { uint o[]; };
layout(push_constant) uniform Push { uint dim; } p;

void main() {
    uint base = gl_WorkGroupID.x * p.dim;
    float best = uintBitsToFloat(0xff800000u);   // -inf
    uint at = 0xffffffffu;
    // Ascending j with a strict '>' keeps the lowest index among equal values; NaN never wins.
    for (uint j = gl_LocalInvocationID.x; j < p.dim; j += WG) {
        float v = x[base + j];
        if (v > best || (at == 0xffffffffu && v == best)) {
            best = v;
            at = j;
        }
    }
    float m = wg_max(best);
    uint idx = wg_min_u(best == m ? at : 0xffffffffu);
    if (gl_LocalInvocationID.x == 0u) o[gl_WorkGroupID.x] = idx == 0xffffffffu ? 0u : idx;
}
