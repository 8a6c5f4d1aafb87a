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
        uint base = i * p.n_heads * p.head_dim + h * p.head_dim;
        uvec2 o = base + rope_places(j, p.head_dim, p.neox);
        vec2 r = rope_turn(vec2(x[o.x], x[o.y]), rope_cos_sin(j, rows[i].pos, p.head_dim, p.theta));
        x[o.x] = r.x;
        x[o.y] = r.y;
    }
}
