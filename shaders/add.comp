#version 450
// x[j] += y[j]: the residual connection; with BIAS = 1, x[j] += y[j % period]: a bias row
// added to every row of x.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint BIAS = 0;

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint count, period; } p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.count; j += gl_NumWorkGroups.x * WG)
        x[j] += y[BIAS != 0u ? j % p.period : j];
}
