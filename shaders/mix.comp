#version 450
#extension GL_GOOGLE_include_directive : require
// Mixes a sparse distribution q into each row's next-token distribution, in place:
//   softmax(x') = (1 - w) softmax(x) + w q,   q given on at most K distinct tokens.
// Only the listed tokens change: x'[t] = logaddexp(x[t], lse + log(w q_t / (1 - w))), with
// lse = log sum_j exp(x[j]); every other logit keeps its value, so argmax, the device sampler
// and a host that reads the logits back all see the mixture without knowing of it.
// One workgroup per row. M holds per row [count, w, then K pairs (token, q)] as 32-bit words;
// a row with count 0 is left untouched, bit for bit.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
#include "reduce.glsl"

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer M { uint m[]; };
layout(push_constant) uniform Push { uint dim; uint k; } p;

void main() {
    uint row = gl_WorkGroupID.x, base = row * p.dim, mb = row * (2u + 2u * p.k);
    uint count = min(m[mb], p.k);
    if (count == 0u) return;   // the same for the whole workgroup: no barrier is skipped by some only
    float w = uintBitsToFloat(m[mb + 1u]);
    float mx = uintBitsToFloat(0xff800000u);   // -inf
    for (uint j = gl_LocalInvocationID.x; j < p.dim; j += WG) mx = max(mx, x[base + j]);
    mx = wg_max(mx);
    float s = 0.0;
    for (uint j = gl_LocalInvocationID.x; j < p.dim; j += WG) s += exp(x[base + j] - mx);
    float lse = mx + log(wg_sum(s));
    // every invocation has read the row (its sums are in), so the writes below race with no read
    float shift = lse + log(w / (1.0 - w));
    for (uint i = gl_LocalInvocationID.x; i < count; i += WG) {
        uint t = m[mb + 2u + 2u * i];
        float q = uintBitsToFloat(m[mb + 3u + 2u * i]);
        if (t >= p.dim || !(q > 0.0)) continue;
        float a = x[base + t], b = shift + log(q), hi = max(a, b);
        x[base + t] = hi + log(exp(a - hi) + exp(b - hi));
    }
}
