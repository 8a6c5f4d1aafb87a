#version 450
// out[j] = silu(gate[j]) * up[j], the SwiGLU feed-forward's gate.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(binding = 0) readonly buffer G { float g[]; };
layout(binding = 1) readonly buffer U { float u[]; };
layout(binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform Push { uint count; } p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.count; j += gl_NumWorkGroups.x * WG) {
        float a = g[j];
        o[j] = a / (1.0 + exp(-a)) * u[j];
    }
}
