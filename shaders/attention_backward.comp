#version 450
// Backward of causal grouped-query attention for training batches laid out as
// sequences of T rows: row i is position i % T of sequence i / T, and K and V are the
// batch's own [n][kv_dim] projections (so the forward is plume_gpu_attention with ctx = T).
// With s_t = scale q.k_t, p_t = softmax(s)_t, o = sum_t p_t v_t and upstream do:
//   D = do.o,  dp_t = do.v_t,  ds_t = p_t (dp_t - D),
//   dq = scale sum_t ds_t k_t,  dk_t += scale ds_t q,  dv_t += p_t do.
// MODE 0: one invocation per (row i, head h): lse and D into LD, then dq.
// MODE 1: one invocation per (key row j, kv head g): dk, dv summed over the later rows of
//         its sequence and the heads of its group in a fixed order (no atomics).
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint MODE = 0;
layout(constant_id = 2) const uint HD = 16;

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { float k[]; };
layout(binding = 2) readonly buffer V { float v[]; };
layout(binding = 3) readonly buffer O { float o[]; };
layout(binding = 4) readonly buffer DO { float dout[]; };
layout(binding = 5) buffer LD { float ld[]; };     // [n][n_heads][2]: lse, D
layout(binding = 6) buffer DQ { float dq[]; };
layout(binding = 7) buffer DK { float dk[]; };
layout(binding = 8) buffer DV { float dv[]; };
layout(push_constant) uniform Push {
    uint n, n_heads, group, seq_len, kv_dim;
    float scale;
} p;

float a[HD];
float b[HD];

void main() {
    uint id = gl_GlobalInvocationID.x;
    uint qdim = p.n_heads * HD;
    if (MODE == 0u) {
        if (id >= p.n * p.n_heads) return;
        uint i = id / p.n_heads, h = id % p.n_heads;
        uint row0 = i - i % p.seq_len;
        uint koff = (h / p.group) * HD, qoff = i * qdim + h * HD;
        float m = -1e30;
        for (uint j = row0; j <= i; j++) {
            float s = 0.0;
            for (uint d = 0u; d < HD; d++) s += q[qoff + d] * k[j * p.kv_dim + koff + d];
            m = max(m, s * p.scale);
        }
        float l = 0.0;
        for (uint j = row0; j <= i; j++) {
            float s = 0.0;
            for (uint d = 0u; d < HD; d++) s += q[qoff + d] * k[j * p.kv_dim + koff + d];
            l += exp(s * p.scale - m);
        }
        float lse = m + log(l);
        float D = 0.0;
        for (uint d = 0u; d < HD; d++) {
            D += dout[qoff + d] * o[qoff + d];
            a[d] = 0.0;
        }
        for (uint j = row0; j <= i; j++) {
            float s = 0.0, dp = 0.0;
            for (uint d = 0u; d < HD; d++) {
                s += q[qoff + d] * k[j * p.kv_dim + koff + d];
                dp += dout[qoff + d] * v[j * p.kv_dim + koff + d];
            }
            float ds = exp(s * p.scale - lse) * (dp - D) * p.scale;
            for (uint d = 0u; d < HD; d++) a[d] += ds * k[j * p.kv_dim + koff + d];
        }
        for (uint d = 0u; d < HD; d++) dq[qoff + d] = a[d];
        ld[id * 2u] = lse;
        ld[id * 2u + 1u] = D;
    } else {
        uint n_kv = p.kv_dim / HD;
        if (id >= p.n * n_kv) return;
        uint j = id / n_kv, g = id % n_kv;
        uint end = j - j % p.seq_len + p.seq_len;
        uint koff = j * p.kv_dim + g * HD;
        for (uint d = 0u; d < HD; d++) {
            a[d] = 0.0;
            b[d] = 0.0;
        }
        for (uint i = j; i < end && i < p.n; i++) {
            for (uint h = g * p.group; h < (g + 1u) * p.group; h++) {
                uint qoff = i * qdim + h * HD;
                float s = 0.0, dp = 0.0;
                for (uint d = 0u; d < HD; d++) {
                    s += q[qoff + d] * k[koff + d];
                    dp += dout[qoff + d] * v[koff + d];
                }
                uint li = (i * p.n_heads + h) * 2u;
                float pr = exp(s * p.scale - ld[li]);
                float ds = pr * (dp - ld[li + 1u]) * p.scale;
                for (uint d = 0u; d < HD; d++) {
                    a[d] += ds * q[qoff + d];
                    b[d] += pr * dout[qoff + d];
                }
            }
        }
        for (uint d = 0u; d < HD; d++) {
            dk[koff + d] = a[d];
            dv[koff + d] = b[d];
        }
    }
}
