#version 450
#extension GL_GOOGLE_include_directive : require
// out[i][:] = table[rows[i].token][:] for the tokens in this part of the table
// (rows r0 .. r0 + part_rows - 1); one invocation per texel.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint TYPE = 0;
const uint CH = TYPE == TYPE_F32 ? 1u : (TYPE == TYPE_F16 ? 2u : (type_nibbles(TYPE) ? 8u : 4u));
const uint BLOCK = type_block(TYPE);
const uint TPB = BLOCK == 0u ? 1u : BLOCK / (CH * 4u);   // texels per scale

layout(binding = 0) uniform usamplerBuffer W;
layout(binding = 1) uniform samplerBuffer S;   // quantized formats' scales (scale_texel), an R32F texel view
layout(binding = 4) uniform samplerBuffer M;   // and minimums (Q4_1, Q5)
layout(binding = 5) uniform usamplerBuffer HB; // Q5's fifth bits: a word per block, laid out as the scales
                                               // (an RGBA32UI view: 4 blocks per texel)
layout(binding = 2) readonly buffer Rows { Row rows[]; };
layout(binding = 3) writeonly buffer O { float o[]; };
layout(push_constant) uniform Push {
    uint n, cols, tpr, r0, part_rows;
} p;

void main() {
    uint total = p.n * p.tpr;
    for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * WG) {
        uint i = idx / p.tpr, j = idx % p.tpr;
        uint tok = rows[i].token;
        if (tok < p.r0 || tok - p.r0 >= p.part_rows) continue;
        uint r = tok - p.r0;
        uvec4 t = texelFetch(W, int(wtexel(r, j, p.tpr)));
        uint b = j / TPB;   // the block (its scale: element 4 texel + b % 4)
        int si = BLOCK != 0u ? int(scale_texel(r, b, p.cols, max(BLOCK, 1u)) * 4u + (b & 3u)) : 0;
        float s = BLOCK != 0u ? texelFetch(S, si).r : 1.0;
        float m = type_has_min(TYPE) ? texelFetch(M, si).r : 0.0;
        uint hb = TYPE == TYPE_Q5 ? texelFetch(HB, int(scale_texel(r, b, p.cols, max(BLOCK, 1u))))[b & 3u] : 0u;
        for (uint k = 0u; k < CH; k++) {
            vec4 q = decode4(TYPE, t, k);
            if (TYPE == TYPE_Q5) q += high4(hb, k);
            vec4 v = q * s + m;
            uint c = j * CH * 4u + k * 4u;
            for (uint e = 0u; e < 4u; e++)
                if (c + e < p.cols) o[i * p.cols + c + e] = v[e];
        }
    }
}
