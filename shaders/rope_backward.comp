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
    uint total = p.n * half_dim;
    for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * WG) {
        uint i = idx / half_dim, j = idx % half_dim;
        // one angle for pair j of every head (see rope_store.comp)
        vec2 cs = rope_cos_sin(j, rows[i].pos, p.head_dim, p.theta, 1.0);
        float c = cs.x, s = cs.y;
        uvec2 o = rope_places(j, p.head_dim, p.neox);
        for (uint h = 0u; h < p.n_heads; h++) {
            uvec2 at = (i * p.n_heads + h) * p.head_dim + o;
            float g0 = x[at.x], g1 = x[at.y];
            x[at.x] = g0 * c + g1 * s;
            x[at.y] = -g0 * s + g1 * c;
        }
    }
}
