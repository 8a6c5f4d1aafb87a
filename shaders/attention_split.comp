#version 450
#extension GL_GOOGLE_include_directive : require
// Decode attention, first pass (flash-decoding): the positions 0..pos of each row are cut
// into splits of `chunk` positions; invocation i of the grid's x holds the pair
// (row i / n_heads, head i % n_heads) and workgroup y its split, and walks those positions
// alone with a private online softmax (running max m, sum l, weighted sum acc). It writes
// that partial state to `part`; attention_merge.comp combines the splits. With one split
// (DIRECT = 1, the choice on CPU devices, where 8 lanes x 12 heads already fill the cores)
// it writes the normalized output to `part` instead, and no merge pass runs.
// Nothing is shared across invocations: no subgroup reductions (on lavapipe each one is a
// loop over the lanes, and the old per-dimension merge of 64 of them cost more than the
// whole walk over 130 positions) and no barriers. Neighbouring invocations are the heads
// of one row, so at each step they read neighbouring slices of the same K and V rows.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;
layout(constant_id = 1) const uint HD = 64;   // head_dim
layout(constant_id = 2) const uint KVT = 0;   // 1: read the caches through texel views
layout(constant_id = 3) const uint DIRECT = 0;   // 1: one split; write the output itself
// 1 (decoding, every row a different sequence): rope_store.comp's work here, so that a
// decode step needs no dispatch for it: q and the row's own k are rotated by this
// invocation, the row's k and v are used for its own position straight from the k and v
// buffers, and the first head of each KV group (in the split that holds the position)
// stores them into the caches. No other invocation reads that cache slot in this dispatch.
layout(constant_id = 4) const uint ROPE = 0;
layout(constant_id = 5) const uint FACTORS = 0;   // ROPE: rope_store.comp's per-pair frequency factors

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) buffer KC { float kc[]; };   // written only with ROPE, at the row's position
layout(binding = 2) buffer VC { float vc[]; };
layout(binding = 3) readonly buffer Rows { Row rows[]; };
layout(binding = 4) writeonly buffer Part { float part[]; };
layout(binding = 5) uniform usamplerBuffer KT;
layout(binding = 6) uniform usamplerBuffer VT;
layout(binding = 7) readonly buffer Kb { float kr[]; };   // ROPE: this step's k and v, n x kv_dim
layout(binding = 8) readonly buffer Vb { float vr[]; };
layout(binding = 9) readonly buffer F { float factors[]; };   // FACTORS: [head_dim / 2]
layout(push_constant) uniform Push {
    uint n_heads, group, ctx, kv_dim, n_seq;
    float scale;
    uint n, chunk;
    float theta;
    uint neox, head_dim;   // head_dim = HD; rope_store.comp's runtime value, for its exact arithmetic
} p;

const uint HD4 = (HD + 3u) / 4u;
vec4 qv[HD4];
vec4 acc[HD4];
float qf[HD], kf[HD];   // ROPE: q and k of the row, rotated

// ROPE: the head at `at` of q (into qf) or of this step's k (into kf) rotated for position
// pos, with rope_store.comp's arithmetic (common.glsl). Each reads only its own buffer.
void rotate(bool is_k, uint at, uint pos) {
    for (uint j = 0u; j < HD / 2u; j++) {
        uvec2 o = rope_places(j, HD, p.neox);   // HD: places known when the loop is unrolled
        vec2 cs = rope_cos_sin(j, pos, p.head_dim, p.theta, FACTORS != 0u ? factors[j] : 1.0);
        if (is_k) {
            vec2 t = rope_turn(vec2(kr[at + o.x], kr[at + o.y]), cs);
            kf[o.x] = t.x;
            kf[o.y] = t.y;
        } else {
            vec2 t = rope_turn(vec2(q[at + o.x], q[at + o.y]), cs);
            qf[o.x] = t.x;
            qf[o.y] = t.y;
        }
    }
}

vec4 load4(bool v_cache, uint base, uint d4) {
    if (KVT != 0u) return uintBitsToFloat(v_cache ? texelFetch(VT, int(base / 4u + d4)) : texelFetch(KT, int(base / 4u + d4)));
    vec4 r = vec4(0.0);
    for (uint e = 0u; e < 4u; e++)
        if (4u * d4 + e < HD) r[e] = v_cache ? vc[base + 4u * d4 + e] : kc[base + 4u * d4 + e];
    return r;
}

void main() {
    uint np = p.n * p.n_heads, i = gl_GlobalInvocationID.x, s = gl_WorkGroupID.y;
    if (i >= np) return;
    uint h = i % p.n_heads;
    Row r = rows[i / p.n_heads];
    uint t0 = s * p.chunk;
    // A row past the caches, or a split past the row's position: nothing to write (the
    // merge counts the splits from the same pos).
    if (r.seq >= p.n_seq || r.pos >= p.ctx || t0 > r.pos) {
        if (DIRECT != 0u)
            for (uint d = 0u; d < HD; d++) part[i * HD + d] = 0.0;
        return;
    }
    uint t1 = min(t0 + p.chunk, r.pos + 1u);
    uint kvoff = (h / p.group) * HD, row = i / p.n_heads;
    if (ROPE != 0u) rotate(false, i * HD, r.pos);
    for (uint d4 = 0u; d4 < HD4; d4++) {
        for (uint e = 0u; e < 4u; e++) {
            uint d = 4u * d4 + e;
            float qd = 0.0;
            if (d < HD) qd = ROPE != 0u ? qf[d] : q[i * HD + d];
            qv[d4][e] = qd * p.scale;
        }
        acc[d4] = vec4(0.0);
    }
    // ROPE: the row's own position (the last of the split that holds it) comes from k and
    // v, not the cache, which this dispatch writes.
    bool own = ROPE != 0u && t1 == r.pos + 1u;
    float m = -1e30, l = 0.0;   // -1e30, not -inf: exp(-1e30 - s) is an exact 0
    for (uint t = t0; t < (own ? t1 - 1u : t1); t++) {
        uint base = (r.seq * p.ctx + t) * p.kv_dim + kvoff;
        float sc = 0.0;
        for (uint d4 = 0u; d4 < HD4; d4++) sc += dot(qv[d4], load4(false, base, d4));
        float mn = max(m, sc);
        float corr = exp(m - mn), e = exp(sc - mn);
        l = l * corr + e;
        for (uint d4 = 0u; d4 < HD4; d4++) acc[d4] = acc[d4] * corr + e * load4(true, base, d4);
        m = mn;
    }
    if (own) {
        uint at = row * p.kv_dim + kvoff;
        rotate(true, at, r.pos);
        float sc = 0.0;
        for (uint d4 = 0u; d4 < HD4; d4++) {
            vec4 kv4 = vec4(0.0);
            for (uint e = 0u; e < 4u; e++)
                if (4u * d4 + e < HD) kv4[e] = kf[4u * d4 + e];
            sc += dot(qv[d4], kv4);
        }
        float mn = max(m, sc);
        float corr = exp(m - mn), e = exp(sc - mn);
        l = l * corr + e;
        for (uint d4 = 0u; d4 < HD4; d4++) {
            vec4 vv = vec4(0.0);
            for (uint c = 0u; c < 4u; c++)
                if (4u * d4 + c < HD) vv[c] = vr[at + 4u * d4 + c];
            acc[d4] = acc[d4] * corr + e * vv;
        }
        m = mn;
        if (h % p.group == 0u) {
            uint slot = (r.seq * p.ctx + r.pos) * p.kv_dim + kvoff;
            for (uint d = 0u; d < HD; d++) {
                kc[slot + d] = kf[d];
                vc[slot + d] = vr[at + d];
            }
        }
    }
    if (DIRECT != 0u) {
        float inv = l > 0.0 ? 1.0 / l : 0.0;
        for (uint d4 = 0u; d4 < HD4; d4++)
            for (uint e = 0u; e < 4u; e++)
                if (4u * d4 + e < HD) part[i * HD + 4u * d4 + e] = acc[d4][e] * inv;
        return;
    }
    uint slot = s * np + i;
    part[2u * slot] = m;
    part[2u * slot + 1u] = l;
    uint abase = 2u * p.n * p.n_heads * ((p.ctx + p.chunk - 1u) / p.chunk) + slot * HD;
    for (uint d4 = 0u; d4 < HD4; d4++)
        for (uint e = 0u; e < 4u; e++)
            if (4u * d4 + e < HD) part[abase + 4u * d4 + e] = acc[d4][e];
}
