#version 450
#extension GL_GOOGLE_include_directive : require
// rope on q and k, and k, v into the KV cache, in one dispatch (three before): one
// invocation per (row, pair index), rotating that pair in every q and k head of the row
// and storing k's and v's two elements into the caches.
// The rotation is rope.comp's (common.glsl's rope_*).
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint FACTORS = 0;   // 1: multiply pair j's frequency by factors[j]

layout(binding = 0) buffer Qb { float q[]; };
layout(binding = 1) buffer Kb { float k[]; };
layout(binding = 2) readonly buffer Vb { float v[]; };
layout(binding = 3) readonly buffer Rows { Row rows[]; };
layout(binding = 4) writeonly buffer KC { float kc[]; };
layout(binding = 5) writeonly buffer VC { float vc[]; };
layout(binding = 6) readonly buffer F { float factors[]; };   // [head_dim / 2]
layout(push_constant) uniform Push {
    uint n, n_heads, n_kv_heads, head_dim, neox, ctx, n_seq;
    float theta;
} p;

void main() {
    uint half_dim = p.head_dim / 2u;
    uint total = p.n * half_dim;
    uint kv_dim = p.n_kv_heads * p.head_dim;
    for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * WG) {
        uint i = idx / half_dim, j = idx % half_dim;
        Row r = rows[i];
        // One angle for pair j of every head of the row: pow, cos and sin are each a long
        // polynomial on lavapipe, and per (head, pair) they took most of a prompt's rope.
        vec2 cs = rope_cos_sin(j, r.pos, p.head_dim, p.theta, FACTORS != 0u ? factors[j] : 1.0);
        uvec2 o = rope_places(j, p.head_dim, p.neox);
        for (uint h = 0u; h < p.n_heads; h++) {
            uvec2 at = (i * p.n_heads + h) * p.head_dim + o;
            vec2 t = rope_turn(vec2(q[at.x], q[at.y]), cs);
            q[at.x] = t.x;
            q[at.y] = t.y;
        }
        bool store = r.pos < p.ctx && r.seq < p.n_seq;
        for (uint kh = 0u; kh < p.n_kv_heads; kh++) {
            uvec2 at = i * kv_dim + kh * p.head_dim + o;
            vec2 t = rope_turn(vec2(k[at.x], k[at.y]), cs);
            k[at.x] = t.x;
            k[at.y] = t.y;
            if (store) {
                uvec2 c = (r.seq * p.ctx + r.pos) * kv_dim + kh * p.head_dim + o;
                kc[c.x] = t.x;
                kc[c.y] = t.y;
                vc[c.x] = v[at.x];
                vc[c.y] = v[at.y];
            }
        }
    }
}
