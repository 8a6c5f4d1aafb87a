// Shared by the kernels: weight-type decoding and the per-row record.
//
// Weights are read through a uniform texel buffer viewed as RGBA32UI: one texel is 16
// bytes, i.e. 4 F32, 8 F16 or 16 int8 (repacked Q8_0) values. On lavapipe texel fetches
// run 2-3.5x faster than storage-buffer reads of the same data. Rows are padded to whole
// texels at upload (the padding is zero), so texel j of row r is at r * tpr + j.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

// The formats the kernels read (engine/gpu/gpu_weight.h's GPU_FMT_*; the ggml types are
// repacked onto them at upload):
#define TYPE_F32 0u
#define TYPE_F16 1u
#define TYPE_Q4_0 2u    // nibbles, scale * (q - 8), a scale per 32 (Q4_0)
#define TYPE_Q4_1 3u    // nibbles, scale * q + min, per 32 (Q4_1, Q4_K)
#define TYPE_Q5 4u      // nibbles + a fifth-bit word per block, scale * q + min, per 32 (Q5_0, Q5_1, Q5_K)
#define TYPE_Q8_0 8u    // int8, scale * q, per 32 (Q8_0)
#define TYPE_Q8_16 10u  // int8, scale * q, a scale per 16 (Q6_K)

// Macros, not functions, so that spec-constant expressions may use them.
#define type_nibbles(t) ((t) == TYPE_Q4_0 || (t) == TYPE_Q4_1 || (t) == TYPE_Q5)
#define type_has_min(t) ((t) == TYPE_Q4_1 || (t) == TYPE_Q5)
// values per scale (0: not quantized)
#define type_block(t) ((t) == TYPE_F32 || (t) == TYPE_F16 ? 0u : ((t) == TYPE_Q8_16 ? 16u : 32u))

// The k-th group of 4 values of texel t (k < 1, 2, 4 or 8 for F32, F16, int8, nibbles).
// int8 bytes are little-endian within each uint: byte 0 is value 0. Nibbles are repacked so
// that value e of a block is nibble e % 8 of word e / 8 (the scale is applied outside).
vec4 decode4(uint type, uvec4 t, uint k) {
    if (type == TYPE_F32) return uintBitsToFloat(t);
    if (type == TYPE_F16) {
        uvec2 h = k == 0u ? t.xy : t.zw;
        return vec4(unpackHalf2x16(h.x), unpackHalf2x16(h.y));
    }
    if (type_nibbles(type)) {
        uint u = t[k >> 1u] >> ((k & 1u) * 16u);
        return vec4((uvec4(u) >> uvec4(0u, 4u, 8u, 12u)) & 15u) - (type == TYPE_Q4_0 ? 8.0 : 0.0);
    }
    uint u = t[k];
    return vec4(ivec4(uvec4(u) << uvec4(24u, 16u, 8u, 0u)) >> 24);
}

// Q5: the fifth bits of group k of a block (values 4k .. 4k+3, bits 4k .. 4k+3 of the
// block's word hb), as the 16s to add to the nibbles.
vec4 high4(uint hb, uint k) {
    return vec4((uvec4(hb >> (4u * k)) >> uvec4(0u, 1u, 2u, 3u)) & 1u) * 16.0;
}

// Weights (and their scales) are stored with rows interleaved in groups of 8
// (engine/gpu/gpu_weight.c): element j of n per row of row r is at this index, so that
// 8 neighbouring rows' element j are 8 neighbouring texels.
uint wtexel(uint r, uint j, uint n) {
    return ((r >> 3u) * n + j) * 8u + (r & 7u);
}

// The quantized formats' scales (f32), and minimums likewise: 4 consecutive blocks of a row
// per 16-byte texel, rows interleaved like the weights, so that one fetch serves 4 blocks:
// block b (of `block` values) of row r is component b % 4 of this texel (gpu_weight.c).
uint scale_texel(uint r, uint b, uint cols, uint block) {
    return wtexel(r, b >> 2u, (cols / block + 3u) / 4u);
}

// Rotary position embedding, one arithmetic for rope, rope_backward, rope_store and decode
// attention's own rope (attention_split's ROPE), which must agree bit for bit: the cosine
// and sine of pair j's angle at position pos, pos * theta^(-2j/head_dim) * factor, where
// factor is 1, or the model's per-pair multiplier (Llama 3's 1 / rope_freqs, linear scaling's
// 1 / factor: rope_store and attention_split's FACTORS), ...
vec2 rope_cos_sin(uint j, uint pos, uint head_dim, float theta, float factor) {
    float freq = pow(theta, -2.0 * float(j) / float(head_dim)) * factor;
    float a = float(pos) * freq;
    return vec2(cos(a), sin(a));
}

// ... the places of pair j within a head, (2j, 2j + 1), or (j, j + head_dim / 2) in the
// neox style, ...
uvec2 rope_places(uint j, uint head_dim, uint neox) {
    return neox != 0u ? uvec2(j, j + head_dim / 2u) : uvec2(2u * j, 2u * j + 1u);
}

// ... and the pair x turned by that angle.
vec2 rope_turn(vec2 x, vec2 cs) {
    return vec2(x.x * cs.x - x.y * cs.y, x.x * cs.y + x.y * cs.x);
}

// One activation row's token, position and sequence (plume_gpu_row).
struct Row {
    uint token;
    uint pos;
    uint seq;
    uint pad;
};
