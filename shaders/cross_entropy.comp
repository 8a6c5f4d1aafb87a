#version 450
// Fused softmax + cross-entropy + gradient over the vocabulary, one invocation per row
// (a sequential pass over the row: fast on lavapipe, and a fixed summation order).
// For row i with target t = tg[i].target and weight w = tg[i].weight (0 where the token
// is padding or part of the prompt; otherwise 1 / the number of target tokens of the step):
//   loss[i] = w * (logsumexp(z) - z[t]),  z[c] <- w * (softmax(z)[c] - [c == t])  (in place).
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

struct Target { uint target; float weight; };
layout(binding = 0) buffer Z { float z[]; };
layout(binding = 1) readonly buffer T { Target tg[]; };
layout(binding = 2) writeonly buffer L { float loss[]; };
layout(push_constant) uniform Push { uint n, vocab; } p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.n) return;
    uint base = i * p.vocab;
    float w = tg[i].weight;
    uint t = min(tg[i].target, p.vocab - 1u);
    float m = -1e30;
    for (uint c = 0u; c < p.vocab; c++) m = max(m, z[base + c]);
    float s = 0.0;
    for (uint c = 0u; c < p.vocab; c++) s += exp(z[base + c] - m);
    float lse = m + log(s);
    loss[i] = w != 0.0 ? w * (lse - z[base + t]) : 0.0;
    for (uint c = 0u; c < p.vocab; c++) {
        float g = exp(z[base + c] - lse) - (c == t ? 1.0 : 0.0);
        z[base + c] = w * g;
    }
}
