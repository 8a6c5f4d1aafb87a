#version 450
// Reads a texel buffer once (grid-stride, coalesced) and folds it into one word per
// invocation, so the read cannot be optimized away: the device's read bandwidth.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(binding = 0) uniform usamplerBuffer W;
layout(binding = 1) writeonly buffer O { uint o[]; };
layout(push_constant) uniform Push { uint texels; } p;

void main() {
    uvec4 acc = uvec4(0u);
    uint stride = gl_NumWorkGroups.x * WG;
    for (uint i = gl_GlobalInvocationID.x; i < p.texels; i += stride) acc ^= texelFetch(W, int(i));
    o[gl_GlobalInvocationID.x] = acc.x ^ acc.y ^ acc.z ^ acc.w;
}
