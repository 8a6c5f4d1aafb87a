#version 450
#extension GL_GOOGLE_include_directive : require
// kcache[seq][pos][:] = k[i][:], vcache likewise, for each activation row i.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(binding = 0) readonly buffer K { float k[]; };
layout(binding = 1) readonly buffer V { float v[]; };
layout(binding = 2) readonly buffer Rows { Row rows[]; };
layout(binding = 3) writeonly buffer KC { float kc[]; };
layout(binding = 4) writeonly buffer VC { float vc[]; };
layout(push_constant) uniform Push {
    uint n, kv_dim, ctx, n_seq;
} p;

void main() {
    uint total = p.n * p.kv_dim;
    for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * WG) {
        uint i = idx / p.kv_dim, d = idx % p.kv_dim;
        Row r = rows[i];
        if (r.pos >= p.ctx || r.seq >= p.n_seq) continue;
        uint at = (r.seq * p.ctx + r.pos) * p.kv_dim + d;
        kc[at] = k[idx];
        vc[at] = v[idx];
    }
}
