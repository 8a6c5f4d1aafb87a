#version 450
#extension GL_GOOGLE_include_directive : require
// out[i] = a token drawn from row i of the logits x by draws[i]: plume_sampler's draw
// (engine/lm/sampler.c) for 1 <= top_k <= KMAX, on the device, so that a sampling step
// reads back 4 bytes per row instead of the logits, and the host sorts nothing.
// One workgroup per row, in five steps:
//  0. a lower bound on the top_k-th largest logit, the least of top_k chunk maxima (they
//     are top_k distinct logits), and the logits at or above it (where they fit in
//     LIST_CAP) copied to a list in id order: the steps after walk that short list, not
//     the row (a row of 32000 logits keeps a few hundred for top_k 40);
//  1. the top_k-th largest logit, by radix select: four passes, each settling one byte
//     of an order-preserving key with a 256-bin histogram;
//  2. the top_k candidates: every logit above that threshold and, of those equal to it,
//     the lowest ids (each invocation walks a contiguous share, so the shares are in id
//     order and a prefix count of ties decides);
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
shared uint share_count[WG];     // each invocation's count in a prefix count (prefix_count)
shared uint share_total;
shared uint list_n;              // the list's length
shared uint n_above;
shared float cand_l[KMAX];
shared uint cand_id[KMAX];
shared uint rank_of[KMAX];       // rank_of[i]: the candidate in place i
shared float weight[KMAX];
// Step 0's list: 8 KB, so that with the rest this stays within the 16 KB of shared memory
// every Vulkan device has.
const uint LIST_CAP = 1024u;
shared float list_l[LIST_CAP];
shared uint list_id[LIST_CAP];

// An order-preserving key: a > b as floats iff key(a) > key(b). -0 is +0 (equal as floats,
// so ties go by id as on the CPU); NaN sorts below everything.
uint key_of(float v) {
    if (isnan(v)) return 0u;
    uint b = v == 0.0 ? 0u : floatBitsToUint(v);
    return (b & 0x80000000u) != 0u ? ~b : b | 0x80000000u;
}

// key_of for 4 logits at once, in vector operations (the row scans' common path).
uvec4 keys_of(vec4 v) {
    uvec4 b = mix(floatBitsToUint(v), uvec4(0u), equal(v, vec4(0.0)));
    uvec4 k = mix(b | 0x80000000u, ~b, notEqual(b & 0x80000000u, uvec4(0u)));
    return mix(k, uvec4(0u), isnan(v));
}

// What a scan does with each logit at or above the lower bound.
const uint LIST_COUNT = 0u, LIST_WRITE = 1u, HISTOGRAM = 2u, TIES_COUNT = 3u, COLLECT = 4u;
uint mode;
uint lower;           // step 0's bound, a key: the logits below it are never candidates
uint shift;           // HISTOGRAM: the byte being settled
uint threshold;       // the top_k-th largest key
uint before, seen;    // a prefix count: the invocations before this one, and this one so far
uint k;               // candidates: top_k, within 1..min(KMAX, dim)
bool from_list;       // scans walk list_l and list_id instead of the row

void visit(float v, uint key, uint j) {
    if (key < lower) return;
    if (mode == LIST_COUNT) {
        seen++;
    } else if (mode == LIST_WRITE) {
        list_l[before + seen] = v;
        list_id[before + seen] = j;
        seen++;
    } else if (mode == HISTOGRAM) {
        // the keys that agree with the threshold on the bytes settled so far
        uint settled = shift == 24u ? 0u : ~0u << (shift + 8u);
        if ((key & settled) == (sel_key & settled)) atomicAdd(hist[(key >> shift) & 255u], 1u);
    } else if (mode == TIES_COUNT) {
        if (key == threshold) seen++;
    } else if (key > threshold) {
        uint at = atomicAdd(n_above, 1u);
        cand_l[at] = v;
        cand_id[at] = j;
    } else if (key == threshold) {
        if (before + seen < sel_need) {
            uint at = k - sel_need + before + seen;
            cand_l[at] = v;
            cand_id[at] = j;
        }
        seen++;
    }
}

// This invocation's contiguous share of the row (a whole number of texels) or the list.
void scan(uint base) {
    uint lid = gl_LocalInvocationID.x;
    if (from_list) {
        uint n = list_n, per = (n + WG - 1u) / WG;
        uint lo = min(lid * per, n), hi = min(lo + per, n);
        for (uint i = lo; i < hi; i++) visit(list_l[i], key_of(list_l[i]), list_id[i]);
        return;
    }
    uint per = (p.dim + 4u * WG - 1u) / (4u * WG) * 4u;
    uint lo = min(lid * per, p.dim), hi = min(lo + per, p.dim);
    for (uint j = lo; j < hi; j += 4u) {
        if (XVEC != 0u) {
            vec4 v = uintBitsToFloat(texelFetch(X4, int((base + j) / 4u)));
            uvec4 keys = keys_of(v);
            // most texels hold no logit at or above the bound: skip them whole
            if (any(greaterThanEqual(keys, uvec4(lower))))
                for (uint e = 0u; e < 4u; e++) visit(v[e], keys[e], j + e);
        } else {
            for (uint e = 0u; e < 4u && j + e < hi; e++) visit(x[base + j + e], key_of(x[base + j + e]), j + e);
        }
    }
}

// A scan in mode m that counts (seen), then each invocation's count of the invocations
// before it (before) and the workgroup's total (share_total).
void prefix_count(uint base, uint m) {
    mode = m;
    seen = 0u;
    scan(base);
    uint lid = gl_LocalInvocationID.x;
    share_count[lid] = seen;
    barrier();
    before = 0u;
    for (uint i = 0u; i < lid; i++) before += share_count[i];
    if (lid == WG - 1u) share_total = before + seen;
    barrier();
    seen = 0u;
}

// Step 0's bound: the least of the maxima of chunks of c texels (at least k chunks,
// each a run of logits of its own), or 0 where the row is too short for such chunks.
uint lower_bound(uint base) {
    uint c = p.dim / (4u * k);
    if (XVEC == 0u || c == 0u) return 0u;
    uint texels = p.dim / 4u, chunks = (texels + c - 1u) / c, least = 0xffffffffu;
    for (uint q = gl_LocalInvocationID.x; q < chunks; q += WG) {
        uint most = 0u;
        for (uint t = q * c; t < min(q * c + c, texels); t++) {
            uvec4 keys = keys_of(uintBitsToFloat(texelFetch(X4, int(base / 4u + t))));
            most = max(most, max(max(keys.x, keys.y), max(keys.z, keys.w)));
        }
        least = min(least, most);
    }
    least = subgroupMin(least);
    if (gl_NumSubgroups == 1u) return least;
    if (subgroupElect()) share_count[gl_SubgroupID] = least;
    barrier();
    least = share_count[0];
    for (uint i = 1u; i < gl_NumSubgroups; i++) least = min(least, share_count[i]);
    barrier();
    return least;
}

void main() {
    uint row = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x, base = row * p.dim;
    Draw d = draws[row];
    k = clamp(d.top_k, 1u, min(KMAX, p.dim));   // the host checks 1 <= top_k <= KMAX

    // 0. the lower bound, and the list where it fits
    from_list = false;
    lower = lower_bound(base);
    prefix_count(base, LIST_COUNT);
    if (share_total <= LIST_CAP) {
        mode = LIST_WRITE;
        scan(base);
        from_list = true;
        if (lid == 0u) list_n = share_total;
        barrier();
    }

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
    prefix_count(base, TIES_COUNT);
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
