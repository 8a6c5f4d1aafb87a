#version 450
// x[j] += y[j]: the residual connection.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint count; } p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.count; j += gl_NumWorkGroups.x * WG) x[j] += y[j];
}
