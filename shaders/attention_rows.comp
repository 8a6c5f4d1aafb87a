#version 450
#extension GL_GOOGLE_include_directive : require
// Causal attention for many rows at once (prompt processing): one invocation per
// (row, head), walking positions 0..pos with a private online softmax. Neighbouring
// invocations hold neighbouring rows of the same head, so they read the same K and V rows
// at nearly the same time (from cache), and nothing is merged across invocations: no
// subgroup operations, no barriers. attention.comp, which splits one row's positions
// across a subgroup, serves decoding, where there are too few rows to fill the lanes.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;
layout(constant_id = 1) const uint HD = 64;   // head_dim
layout(constant_id = 2) const uint KVT = 0;   // 1: read the caches through texel views

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer KC { float kc[]; };
layout(binding = 2) readonly buffer VC { float vc[]; };
layout(binding = 3) readonly buffer Rows { Row rows[]; };
layout(binding = 4) writeonly buffer O { float o[]; };
layout(binding = 5) uniform usamplerBuffer KT;
layout(binding = 6) uniform usamplerBuffer VT;
layout(push_constant) uniform Push {
    uint n_heads, group, ctx, kv_dim, n_seq;
    float scale;
    uint n;
} p;

const uint HD4 = (HD + 3u) / 4u;
vec4 qv[HD4];
vec4 acc[HD4];

vec4 load4(bool v_cache, uint base, uint d4) {
    if (KVT != 0u) return uintBitsToFloat(v_cache ? texelFetch(VT, int(base / 4u + d4)) : texelFetch(KT, int(base / 4u + d4)));
    vec4 r = vec4(0.0);
    for (uint e = 0u; e < 4u; e++)
        if (4u * d4 + e < HD) r[e] = v_cache ? vc[base + 4u * d4 + e] : kc[base + 4u * d4 + e];
    return r;
}

void main() {
    uint h = gl_WorkGroupID.x, i = gl_WorkGroupID.y * WG + gl_LocalInvocationID.x;
    if (i >= p.n) return;
    uint qbase = (i * p.n_heads + h) * HD;
    Row r = rows[i];
    bool ok = r.seq < p.n_seq && r.pos < p.ctx;
    for (uint d4 = 0u; d4 < HD4; d4++) {
        for (uint e = 0u; e < 4u; e++) qv[d4][e] = 4u * d4 + e < HD ? q[qbase + 4u * d4 + e] * p.scale : 0.0;
        acc[d4] = vec4(0.0);
    }
    float m = -1e30, l = 0.0;
    uint kvoff = (h / p.group) * HD;
    uint end = ok ? r.pos + 1u : 0u;
    for (uint t = 0u; t < end; t++) {
        uint base = (r.seq * p.ctx + t) * p.kv_dim + kvoff;
        float s = 0.0;
        for (uint d4 = 0u; d4 < HD4; d4++) s += dot(qv[d4], load4(false, base, d4));
        float mn = max(m, s);
        float corr = exp(m - mn), e = exp(s - mn);
        l = l * corr + e;
        for (uint d4 = 0u; d4 < HD4; d4++) acc[d4] = acc[d4] * corr + e * load4(true, base, d4);
        m = mn;
    }
    float inv = l > 0.0 ? 1.0 / l : 0.0;
    for (uint d4 = 0u; d4 < HD4; d4++)
        for (uint e = 0u; e < 4u; e++)
            if (4u * d4 + e < HD) o[qbase + 4u * d4 + e] = acc[d4][e] * inv;
}
