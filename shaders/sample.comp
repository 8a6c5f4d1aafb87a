#version 450
#extension GL_GOOGLE_include_directive : require
// out[i] = a token drawn from row i of the logits x by draws[i]: plume_sampler's draw
// (engine/lm/sampler.c) for 1 <= top_k <= KMAX, on the device, so that a sampling step
// reads back 4 bytes per row instead of the logits, and the host sorts nothing.
// One workgroup per row, in four steps:
//  1. the top_k-th largest logit, by radix select: four passes over the row, each
//     settling one byte of an order-preserving key with a 256-bin histogram;
//  2. the top_k candidates: every logit above that threshold and, of those equal to it,
//     the lowest ids (each invocation scans a contiguous share of the row, so the shares
//     are in id order and a prefix count of ties decides);
//  3. the candidates ranked by logit descending, then id ascending, as the CPU sorts;
//  4. one invocation weighs them, w = exp((l - max) * inv_t), keeps top-p's prefix, and
//     takes the first whose running weight exceeds r times the kept weight: the CPU's
//     arithmetic in the CPU's order, so the two differ only where exp() rounds apart.
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
// 1 (dim % 4 == 0): x read through the texel view X4 (see argmax.comp for why).
layout(constant_id = 1) const uint XVEC = 0;
const uint KMAX = 256u;   // PLUME_GPU_SAMPLE_TOP_K_MAX in gpu.h

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) writeonly buffer O { uint o[]; };
layout(binding = 2) uniform usamplerBuffer X4;
struct Draw {
    float inv_t;   // 1 / temperature
    uint top_k;
    float top_p;   // >= 1: no top-p
    float r;       // the uniform draw in [0, 1)
};
layout(binding = 3) readonly buffer D { Draw draws[]; };
layout(push_constant) uniform Push { uint dim; } p;

shared uint hist[256];
shared uint sel_key, sel_need;   // the threshold's key bits settled so far; ties still to take
shared uint share_ties[WG];      // each invocation's count of logits equal to the threshold
shared uint n_above;
shared float cand_l[KMAX];
shared uint cand_id[KMAX];
shared uint rank_of[KMAX];       // rank_of[i]: the candidate in place i
shared float weight[KMAX];

// An order-preserving key: a > b as floats iff key(a) > key(b). -0 is +0 (equal as floats,
// so ties go by id as on the CPU); NaN sorts below everything.
uint key_of(float v) {
    if (isnan(v)) return 0u;
    uint b = v == 0.0 ? 0u : floatBitsToUint(v);
    return (b & 0x80000000u) != 0u ? ~b : b | 0x80000000u;
}

// What a scan of the row does with each logit.
const uint HISTOGRAM = 0u, COUNT_TIES = 1u, COLLECT = 2u;
uint mode;
uint shift, ties_before, ties_seen, threshold;
uint k;   // candidates: top_k, within 1..min(KMAX, dim)

void visit(float v, uint j) {
    uint key = key_of(v);
    if (mode == HISTOGRAM) {
        // the keys that agree with the threshold on the bytes settled so far
        uint settled = shift == 24u ? 0u : ~0u << (shift + 8u);
        if ((key & settled) == (sel_key & settled)) atomicAdd(hist[(key >> shift) & 255u], 1u);
    } else if (mode == COUNT_TIES) {
        if (key == threshold) ties_seen++;
    } else if (key > threshold) {
        uint at = atomicAdd(n_above, 1u);
        cand_l[at] = v;
        cand_id[at] = j;
    } else if (key == threshold) {
        if (ties_before + ties_seen < sel_need) {
            uint at = k - sel_need + ties_before + ties_seen;
            cand_l[at] = v;
            cand_id[at] = j;
        }
        ties_seen++;
    }
}

// This invocation's share of the row: [lo, hi), a whole number of texels.
void scan(uint base) {
    uint per = (p.dim + 4u * WG - 1u) / (4u * WG) * 4u;
    uint lo = min(gl_LocalInvocationID.x * per, p.dim), hi = min(lo + per, p.dim);
    for (uint j = lo; j < hi; j += 4u) {
        if (XVEC != 0u) {
            vec4 v = uintBitsToFloat(texelFetch(X4, int((base + j) / 4u)));
            for (uint e = 0u; e < 4u; e++) visit(v[e], j + e);
        } else {
            for (uint e = 0u; e < 4u && j + e < hi; e++) visit(x[base + j + e], j + e);
        }
    }
}

void main() {
    uint row = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x, base = row * p.dim;
    Draw d = draws[row];
    k = clamp(d.top_k, 1u, min(KMAX, p.dim));   // the host checks 1 <= top_k <= KMAX

    // 1. radix select, the most significant byte first
    if (lid == 0u) {
        sel_key = 0u;
        sel_need = k;
        n_above = 0u;
    }
    for (shift = 24u;; shift -= 8u) {
        for (uint b = lid; b < 256u; b += WG) hist[b] = 0u;
        barrier();
        mode = HISTOGRAM;
        scan(base);
        barrier();
        if (lid == 0u) {
            // the bin, from the top, where the count reaches the number still needed
            uint above = 0u, b = 255u;
            for (;; b--) {
                if (above + hist[b] >= sel_need || b == 0u) break;
                above += hist[b];
            }
            sel_key |= b << shift;
            sel_need -= above;
        }
        barrier();
        if (shift == 0u) break;
    }
    threshold = sel_key;

    // 2. the candidates: above the threshold in any order, then sel_need ties by id
    mode = COUNT_TIES;
    ties_seen = 0u;
    scan(base);
    share_ties[lid] = ties_seen;
    barrier();
    ties_before = 0u;
    for (uint i = 0u; i < lid; i++) ties_before += share_ties[i];
    ties_seen = 0u;
    mode = COLLECT;
    scan(base);
    barrier();

    // 3. rank: the candidates before candidate c
    for (uint c = lid; c < k; c += WG) {
        float l = cand_l[c];
        uint id = cand_id[c], r = 0u;
        for (uint e = 0u; e < k; e++) {
            float m = cand_l[e];
            r += m > l || (m == l && cand_id[e] < id) ? 1u : 0u;
        }
        rank_of[r] = c;
    }
    barrier();

    // 4. the draw (sampler.c, draw_among)
    if (lid != 0u) return;
    float top = cand_l[rank_of[0]], total = 0.0;
    for (uint i = 0u; i < k; i++) {
        weight[i] = exp((cand_l[rank_of[i]] - top) * d.inv_t);
        total += weight[i];
    }
    uint keep = k;
    float kept = total;
    if (d.top_p > 0.0 && d.top_p < 1.0) {
        float run = 0.0;
        for (uint i = 0u; i < k; i++) {
            run += weight[i];
            if (run >= d.top_p * total) {
                keep = i + 1u;
                kept = run;
                break;
            }
        }
    }
    float target = d.r * kept, run = 0.0;
    uint pick = keep - 1u;   // where rounding left the target above the kept weight
    for (uint i = 0u; i < keep; i++) {
        run += weight[i];
        if (target < run) {
            pick = i;
            break;
        }
    }
    o[row] = cand_id[rank_of[pick]];
}
