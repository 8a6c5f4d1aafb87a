#version 450
#extension GL_GOOGLE_include_directive : require
// rope on q and k, and k, v into the KV cache, in one dispatch (three before): one
// invocation per rotated pair of q or k; a k pair also stores the same two elements of v.
// The rotation is rope.comp's (common.glsl's rope_*).
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(binding = 0) buffer Qb { float q[]; };
layout(binding = 1) buffer Kb { float k[]; };
layout(binding = 2) readonly buffer Vb { float v[]; };
layout(binding = 3) readonly buffer Rows { Row rows[]; };
layout(binding = 4) writeonly buffer KC { float kc[]; };
layout(binding = 5) writeonly buffer VC { float vc[]; };
layout(push_constant) uniform Push {
    uint n, n_heads, n_kv_heads, head_dim, neox, ctx, n_seq;
    float theta;
} p;

void main() {
    uint half_dim = p.head_dim / 2u;
    uint heads = p.n_heads + p.n_kv_heads;
    uint per_row = heads * half_dim;
    uint total = p.n * per_row;
    uint kv_dim = p.n_kv_heads * p.head_dim;
    for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * WG) {
        uint i = idx / per_row, rem = idx % per_row;
        uint h = rem / half_dim, j = rem % half_dim;
        Row r = rows[i];
        vec2 cs = rope_cos_sin(j, r.pos, p.head_dim, p.theta);
        uvec2 o = rope_places(j, p.head_dim, p.neox);
        uint o0 = o.x, o1 = o.y;
        if (h < p.n_heads) {
            uint base = (i * p.n_heads + h) * p.head_dim;
            vec2 t = rope_turn(vec2(q[base + o0], q[base + o1]), cs);
            q[base + o0] = t.x;
            q[base + o1] = t.y;
        } else {
            uint kh = h - p.n_heads;
            uint base = i * kv_dim + kh * p.head_dim;
            vec2 t = rope_turn(vec2(k[base + o0], k[base + o1]), cs);
            float y0 = t.x, y1 = t.y;
            k[base + o0] = y0;
            k[base + o1] = y1;
            if (r.pos < p.ctx && r.seq < p.n_seq) {
                uint at = (r.seq * p.ctx + r.pos) * kv_dim + kh * p.head_dim;
                kc[at + o0] = y0;
                kc[at + o1] = y1;
                vc[at + o0] = v[base + o0];
                vc[at + o1] = v[base + o1];
            }
        }
    }
}
