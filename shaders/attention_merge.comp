#version 450
#extension GL_GOOGLE_include_directive : require
// Decode attention, second pass: combines the splits' partial softmax states written by
// attention_split.comp. Invocation g is output element (pair g / HD, dimension g % HD):
//   M = max_s m_s,  L = sum_s l_s exp(m_s - M),  o = sum_s acc_s exp(m_s - M) / L.
// The partial states are read through an R32F texel view: on lavapipe a storage-buffer
// load whose address differs across lanes is a scalar loop, several times slower.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint HD = 64;   // head_dim

layout(binding = 0) readonly buffer Rows { Row rows[]; };
layout(binding = 1) uniform samplerBuffer Part;
layout(binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform Push {
    uint n_heads, ctx, n_seq, n, chunk;
} p;

void main() {
    uint np = p.n * p.n_heads, g = gl_GlobalInvocationID.x;
    if (g >= np * HD) return;
    uint i = g / HD, d = g % HD;
    Row r = rows[i / p.n_heads];
    if (r.seq >= p.n_seq || r.pos >= p.ctx) {
        o[g] = 0.0;
        return;
    }
    uint splits = (p.ctx + p.chunk - 1u) / p.chunk;
    uint used = r.pos / p.chunk + 1u;
    float M = -1e30;
    for (uint s = 0u; s < used; s++) M = max(M, texelFetch(Part, int(2u * (s * np + i))).r);
    float L = 0.0, a = 0.0;
    uint abase = 2u * np * splits;
    for (uint s = 0u; s < used; s++) {
        uint slot = s * np + i;
        float f = exp(texelFetch(Part, int(2u * slot)).r - M);
        L += texelFetch(Part, int(2u * slot + 1u)).r * f;
        a += texelFetch(Part, int(abase + slot * HD + d)).r * f;
    }
    o[g] = L > 0.0 ? a / L : 0.0;
}
