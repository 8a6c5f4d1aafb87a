#version 450
#extension GL_GOOGLE_include_directive : require
// Causal attention with grouped-query heads over the KV cache, one workgroup per
// (head, row). Each invocation walks its own share of the positions (t = lane, lane + WG,
// ...) with a private online softmax (running max m, sum l, weighted sum acc); the
// invocations' states are merged once at the end with subgroup operations. So the loop
// over positions needs no cross-lane communication at all.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
layout(constant_id = 1) const uint HD = 64;   // head_dim
#include "reduce.glsl"

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer KC { float kc[]; };
layout(binding = 2) readonly buffer VC { float vc[]; };
layout(binding = 3) readonly buffer Rows { Row rows[]; };
layout(binding = 4) writeonly buffer O { float o[]; };
// The caches again, through texel views, where head_dim % 4 == 0 (KVT = 1): on lavapipe
// texel fetches of 4 floats are several times faster than scalar storage-buffer loads.
layout(binding = 5) uniform usamplerBuffer KT;
layout(binding = 6) uniform usamplerBuffer VT;
layout(constant_id = 2) const uint KVT = 0;
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
    uint h = gl_WorkGroupID.x, i = gl_WorkGroupID.y;
    uint lid = gl_LocalInvocationID.x;
    uint qbase = (i * p.n_heads + h) * HD;
    Row r = rows[i];
    bool ok = r.seq < p.n_seq && r.pos < p.ctx;
    uint last = ok ? r.pos : 0u;
    for (uint d4 = 0u; d4 < HD4; d4++) {
        for (uint e = 0u; e < 4u; e++) qv[d4][e] = 4u * d4 + e < HD ? q[qbase + 4u * d4 + e] * p.scale : 0.0;
        acc[d4] = vec4(0.0);
    }
    float m = -1e30, l = 0.0;   // -1e30, not -inf: exp(-1e30 - s) is an exact 0
    uint kvoff = (h / p.group) * HD;
    if (ok) {
        for (uint t = lid; t <= last; t += WG) {
            uint base = (r.seq * p.ctx + t) * p.kv_dim + kvoff;
            float s = 0.0;
            for (uint d4 = 0u; d4 < HD4; d4++) s += dot(qv[d4], load4(false, base, d4));
            float mn = max(m, s);
            float corr = exp(m - mn), e = exp(s - mn);
            l = l * corr + e;
            for (uint d4 = 0u; d4 < HD4; d4++) acc[d4] = acc[d4] * corr + e * load4(true, base, d4);
            m = mn;
        }
    }
    float M = wg_max(m);
    float f = exp(m - M);
    float L = wg_sum(l * f);
    float inv = ok && L > 0.0 ? 1.0 / L : 0.0;
    for (uint d4 = 0u; d4 < HD4; d4++)
        for (uint e = 0u; e < 4u; e++) {
            float a = wg_sum(acc[d4][e] * f);
            if (lid == 0u && 4u * d4 + e < HD) o[qbase + 4u * d4 + e] = a * inv;
        }
}
