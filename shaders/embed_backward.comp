#version 450
#extension GL_GOOGLE_include_directive : require
// The token embedding over a plain F32 table E [vocab][dim]:
//   MODE 0 (forward):  out[i][c] = E[rows[i].token][c]           one invocation per (c, i)
//   MODE 1 (backward): dE[v][c] += sum_{i: token_i = v} d[i][c]   one invocation per (c, v),
//                      rows visited in increasing order: a fixed-order sum instead of atomics.
//                      The rows of each token come from a counting sort made on the host
//                      (plume_train_token_index): ix[v] .. ix[v+1] index ix[vocab + 1 + j].
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint MODE = 0;

layout(binding = 0) buffer E { float e[]; };
layout(binding = 1) readonly buffer Rows { Row rows[]; };
layout(binding = 2) buffer D { float d[]; };
layout(binding = 3) readonly buffer Ix { uint ix[]; };
layout(push_constant) uniform Push {
    uint n, dim, vocab;
} p;

void main() {
    uint c = gl_GlobalInvocationID.x, b = gl_GlobalInvocationID.y;
    if (c >= p.dim) return;
    if (MODE == 0u) {
        if (b >= p.n) return;
        uint tok = min(rows[b].token, p.vocab - 1u);
        d[b * p.dim + c] = e[tok * p.dim + c];
    } else {
        if (b >= p.vocab) return;
        float s = 0.0;
        for (uint j = ix[b]; j < ix[b + 1u]; j++) s += d[ix[p.vocab + 1u + j] * p.dim + c];
        e[b * p.dim + c] += s;
    }
}
