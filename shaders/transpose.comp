#version 450
// out[c][r] = in[r][c] for an in of rows x cols floats. The training forward matmul reads
// its weight transposed (see matmul_backward.comp); a transpose costs rows x cols moves,
// the matmul n times as many multiply-adds.
// Grid: x over blocks of WG output columns (r), y over output rows (c).
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(binding = 0) readonly buffer In { float src[]; };
layout(binding = 1) writeonly buffer Out { float dst[]; };
layout(push_constant) uniform Push { uint rows, cols; } p;

void main() {
    uint r = gl_GlobalInvocationID.x, c = gl_WorkGroupID.y;
    if (r < p.rows) dst[c * p.rows + r] = src[r * p.cols + c];
}
