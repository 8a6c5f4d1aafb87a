#version 450
// Backward of out = silu(g) * u: dg = dout * u * sig(g) * (1 + g * (1 - sig(g))),
// du = dout * silu(g). One invocation per element.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(binding = 0) readonly buffer G { float g[]; };
layout(binding = 1) readonly buffer U { float u[]; };
layout(binding = 2) readonly buffer DO { float dout[]; };
layout(binding = 3) writeonly buffer DG { float dg[]; };
layout(binding = 4) writeonly buffer DU { float du[]; };
layout(push_constant) uniform Push { uint count; } p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.count; j += gl_NumWorkGroups.x * WG) {
        float a = g[j], sg = 1.0 / (1.0 + exp(-a));
        dg[j] = dout[j] * u[j] * sg * (1.0 + a * (1.0 - sg));
        du[j] = dout[j] * a * sg;
    }
}
