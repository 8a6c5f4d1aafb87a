#version 450
#extension GL_GOOGLE_include_directive : require
// Rotary position embedding in place: one invocation per rotated pair.
// neox = 0 rotates (2j, 2j+1), neox = 1 rotates (j, j + head_dim/2); angle pos * theta^(-2j/head_dim).
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer Rows { Row rows[]; };
layout(push_constant) uniform Push {
    uint n, n_heads, head_dim, neox;
    float theta;
} p;

void main() {
    uint half_dim = p.head_dim / 2u;
    uint per_row = p.n_heads * half_dim;
    uint total = p.n * per_row;
    for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * WG) {
        uint i = idx / per_row, rem = idx % per_row;
        uint h = rem / half_dim, j = rem % half_dim;
        float freq = pow(p.theta, -2.0 * float(j) / float(p.head_dim));
        float a = float(rows[i].pos) * freq;
        float c = cos(a), s = sin(a);
        uint base = i * p.n_heads * p.head_dim + h * p.head_dim;
        uint i0 = p.neox != 0u ? base + j : base + 2u * j;
        uint i1 = p.neox != 0u ? base + j + half_dim : base + 2u * j + 1u;
        float x0 = x[i0], x1 = x[i1];
        x[i0] = x0 * c - x1 * s;
        x[i1] = x0 * s + x1 * c;
    }
}
