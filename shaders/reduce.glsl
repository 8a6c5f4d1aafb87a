// Workgroup reductions that cost no barrier when the workgroup is one subgroup (the
// usual case: plume sizes these workgroups to the device's subgroup size). On lavapipe a
// barrier() is a coroutine switch, 5-10x slower than subgroup operations. Needs WG (the
// workgroup size, a specialization constant) defined before inclusion.
shared float red_f[WG];
shared uint red_u[WG];

float wg_sum(float v) {
    v = subgroupAdd(v);
    if (gl_NumSubgroups == 1u) return v;
    barrier();
    if (subgroupElect()) red_f[gl_SubgroupID] = v;
    barrier();
    float s = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; i++) s += red_f[i];
    return s;
}

float wg_max(float v) {
    v = subgroupMax(v);
    if (gl_NumSubgroups == 1u) return v;
    barrier();
    if (subgroupElect()) red_f[gl_SubgroupID] = v;
    barrier();
    float s = red_f[0];
    for (uint i = 1u; i < gl_NumSubgroups; i++) s = max(s, red_f[i]);
    return s;
}

uint wg_min_u(uint v) {
    v = subgroupMin(v);
    if (gl_NumSubgroups == 1u) return v;
    barrier();
    if (subgroupElect()) red_u[gl_SubgroupID] = v;
    barrier();
    uint s = red_u[0];
    for (uint i = 1u; i < gl_NumSubgroups; i++) s = min(s, red_u[i]);
    return s;
}
