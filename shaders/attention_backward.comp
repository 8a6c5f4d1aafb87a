#version 450
// Backward of causal grouped-query attention for training batches laid out as
// sequences of T rows: row i is position i % T of sequence i / T, and K and V are the
// batch's own [n][kv_dim] projections (so the forward is plume_gpu_attention with ctx = T).
// With s_t = scale q.k_t, p_t = softmax(s)_t, o = sum_t p_t v_t and upstream do:
//   D = do.o,  dp_t = do.v_t,  ds_t = p_t (dp_t - D),
//   dq = scale sum_t ds_t k_t,  dk_t += scale ds_t q,  dv_t += p_t do.
// MODE 0: one invocation per (row i, head h): lse (an online softmax, one pass) and D
//         into LD, then dq.
// MODE 1: one invocation per (key row j, kv head g): dk, dv summed over the later rows of
//         its sequence and the heads of its group in a fixed order (no atomics).
// As in attention_rows.comp, a workgroup's invocations hold neighbouring rows of one
// head, so at each step they all read the same row of K and V (MODE 0) or of Q and dO
// (MODE 1), from cache; TEX = 1 reads those through 16-byte texel views (head_dim and the
// row widths multiples of 4), which lavapipe fetches far faster than scalar loads.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;
layout(constant_id = 1) const uint MODE = 0;
layout(constant_id = 2) const uint HD = 16;
layout(constant_id = 3) const uint TEX = 0;

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { float k[]; };
layout(binding = 2) readonly buffer V { float v[]; };
layout(binding = 3) readonly buffer O { float o[]; };
layout(binding = 4) readonly buffer DO { float dout[]; };
layout(binding = 5) buffer LD { float ld[]; };     // [n][n_heads][2]: lse, D
layout(binding = 6) writeonly buffer DQ { float dq[]; };
layout(binding = 7) writeonly buffer DK { float dk[]; };
layout(binding = 8) writeonly buffer DV { float dv[]; };
layout(binding = 9) uniform usamplerBuffer QT;     // texel views of Q, K, V, dO
layout(binding = 10) uniform usamplerBuffer KT;
layout(binding = 11) uniform usamplerBuffer VT;
layout(binding = 12) uniform usamplerBuffer DOT;
layout(push_constant) uniform Push {
    uint n, n_heads, group, seq_len, kv_dim;
    float scale;
} p;

const uint HD4 = (HD + 3u) / 4u;

// 4 values of row `base` (a float index, a multiple of 4 when TEX) of buffer `which`
// (0 Q, 1 K, 2 V, 3 dO) from d4 * 4 on, 0 past head_dim
vec4 load4(uint which, uint base, uint d4) {
    if (TEX != 0u) {
        int at = int(base / 4u + d4);
        if (which == 0u) return uintBitsToFloat(texelFetch(QT, at));
        if (which == 1u) return uintBitsToFloat(texelFetch(KT, at));
        if (which == 2u) return uintBitsToFloat(texelFetch(VT, at));
        return uintBitsToFloat(texelFetch(DOT, at));
    }
    vec4 r = vec4(0.0);
    for (uint e = 0u; e < 4u; e++) {
        uint d = 4u * d4 + e, at = base + d;
        if (d < HD) r[e] = which == 0u ? q[at] : which == 1u ? k[at] : which == 2u ? v[at] : dout[at];
    }
    return r;
}

vec4 x0[HD4];   // MODE 0: q;  MODE 1: k_j
vec4 x1[HD4];   // MODE 0: dO; MODE 1: v_j
vec4 a0[HD4];   // MODE 0: dq; MODE 1: dk
vec4 a1[HD4];   //             MODE 1: dv

void main() {
    uint qdim = p.n_heads * HD;
    if (MODE == 0u) {
        uint h = gl_WorkGroupID.x, i = gl_WorkGroupID.y * WG + gl_LocalInvocationID.x;
        if (i >= p.n) return;
        uint row0 = i - i % p.seq_len, koff = (h / p.group) * HD, qoff = i * qdim + h * HD;
        float D = 0.0;
        for (uint d4 = 0u; d4 < HD4; d4++) {
            x0[d4] = load4(0u, qoff, d4);
            x1[d4] = load4(3u, qoff, d4);
            vec4 ov = vec4(0.0);
            for (uint e = 0u; e < 4u; e++)
                if (4u * d4 + e < HD) ov[e] = o[qoff + 4u * d4 + e];
            D += dot(x1[d4], ov);
            a0[d4] = vec4(0.0);
        }
        float m = -1e30, l = 0.0;
        for (uint j = row0; j <= i; j++) {
            float s = 0.0;
            for (uint d4 = 0u; d4 < HD4; d4++) s += dot(x0[d4], load4(1u, j * p.kv_dim + koff, d4));
            s *= p.scale;
            float mn = max(m, s);
            l = l * exp(m - mn) + exp(s - mn);
            m = mn;
        }
        float lse = m + log(l);
        for (uint j = row0; j <= i; j++) {
            uint base = j * p.kv_dim + koff;
            float s = 0.0, dp = 0.0;
            for (uint d4 = 0u; d4 < HD4; d4++) {
                s += dot(x0[d4], load4(1u, base, d4));
                dp += dot(x1[d4], load4(2u, base, d4));
            }
            float ds = exp(s * p.scale - lse) * (dp - D) * p.scale;
            for (uint d4 = 0u; d4 < HD4; d4++) a0[d4] += ds * load4(1u, base, d4);
        }
        for (uint d4 = 0u; d4 < HD4; d4++)
            for (uint e = 0u; e < 4u; e++)
                if (4u * d4 + e < HD) dq[qoff + 4u * d4 + e] = a0[d4][e];
        uint li = (i * p.n_heads + h) * 2u;
        ld[li] = lse;
        ld[li + 1u] = D;
    } else {
        uint g = gl_WorkGroupID.x, j = gl_WorkGroupID.y * WG + gl_LocalInvocationID.x;
        if (j >= p.n) return;
        // the workgroup walks rows i from its first row on, each invocation counting the
        // rows at or after its own j (its sequence ends where the workgroup's first does,
        // or later: then it walks further alone)
        uint j0 = min(gl_WorkGroupID.y * WG, p.n - 1u);
        uint end = j - j % p.seq_len + p.seq_len, start = max(j0, j - j % p.seq_len);
        uint koff = j * p.kv_dim + g * HD;
        for (uint d4 = 0u; d4 < HD4; d4++) {
            x0[d4] = load4(1u, koff, d4);
            x1[d4] = load4(2u, koff, d4);
            a0[d4] = vec4(0.0);
            a1[d4] = vec4(0.0);
        }
        for (uint i = start; i < end && i < p.n; i++) {
            if (i < j) continue;
            for (uint h = g * p.group; h < (g + 1u) * p.group; h++) {
                uint qoff = i * qdim + h * HD;
                float s = 0.0, dp = 0.0;
                for (uint d4 = 0u; d4 < HD4; d4++) {
                    s += dot(load4(0u, qoff, d4), x0[d4]);
                    dp += dot(load4(3u, qoff, d4), x1[d4]);
                }
                uint li = (i * p.n_heads + h) * 2u;
                float pr = exp(s * p.scale - ld[li]);
                float ds = pr * (dp - ld[li + 1u]) * p.scale;
                for (uint d4 = 0u; d4 < HD4; d4++) {
                    a0[d4] += ds * load4(0u, qoff, d4);
                    a1[d4] += pr * load4(3u, qoff, d4);
                }
            }
        }
        for (uint d4 = 0u; d4 < HD4; d4++)
            for (uint e = 0u; e < 4u; e++)
                if (4u * d4 + e < HD) {
                    dk[koff + 4u * d4 + e] = a0[d4][e];
                    dv[koff + 4u * d4 + e] = a1[d4][e];
                }
    }
}
