#version 450
#extension GL_GOOGLE_include_directive : require
// Backward of the rotary embedding, in place on the gradient: the forward is a rotation
// by angle a per pair, so the gradient rotates by -a (the transpose). Same pairing and
// angles as rope.comp (neox = 0: (2j, 2j+1); neox = 1: (j, j + head_dim/2)).
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
        vec2 cs = rope_cos_sin(j, rows[i].pos, p.head_dim, p.theta);
        float c = cs.x, s = cs.y;
        uint base = i * p.n_heads * p.head_dim + h * p.head_dim;
        uvec2 o = base + rope_places(j, p.head_dim, p.neox);
        uint i0 = o.x, i1 = o.y;
        float g0 = x[i0], g1 = x[i1];
        x[i0] = g0 * c + g1 * s;
        x[i1] = -g0 * s + g1 * c;
    }
}
