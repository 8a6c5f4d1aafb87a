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
layout(push_constant) uniform Push {
    uint n_heads, group, ctx, kv_dim, n_seq;
    float scale;
} p;

float qv[HD];
float acc[HD];

void main() {
    uint h = gl_WorkGroupID.x, i = gl_WorkGroupID.y;
    uint lid = gl_LocalInvocationID.x;
    uint qbase = (i * p.n_heads + h) * HD;
    Row r = rows[i];
    bool ok = r.seq < p.n_seq && r.pos < p.ctx;
    uint last = ok ? r.pos : 0u;
    for (uint d = 0u; d < HD; d++) {
        qv[d] = q[qbase + d] * p.scale;
        acc[d] = 0.0;
    }
    float m = -1e30, l = 0.0;   // -1e30, not -inf: exp(-1e30 - s) is an exact 0
    uint kvoff = (h / p.group) * HD;
    if (ok) {
        for (uint t = lid; t <= last; t += WG) {
            uint base = (r.seq * p.ctx + t) * p.kv_dim + kvoff;
            float s = 0.0;
            for (uint d = 0u; d < HD; d++) s += qv[d] * kc[base + d];
            float mn = max(m, s);
            float corr = exp(m - mn), e = exp(s - mn);
            l = l * corr + e;
            for (uint d = 0u; d < HD; d++) acc[d] = acc[d] * corr + e * vc[base + d];
            m = mn;
        }
    }
    float M = wg_max(m);
    float f = exp(m - M);
    float L = wg_sum(l * f);
    float inv = ok && L > 0.0 ? 1.0 / L : 0.0;
    for (uint d = 0u; d < HD; d++) {
        float a = wg_sum(acc[d] * f);
        if (lid == 0u) o[qbase + d] = a * inv;
    }
}
