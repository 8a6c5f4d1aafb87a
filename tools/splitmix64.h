/* splitmix64: a small seeded generator that gives the same numbers on every platform, for the
 * tools whose output one seed must reproduce (examples' author pairs, experiment's profile swap,
 * random bench models). */
#ifndef PLUME_TOOLS_SPLITMIX64_H
#define PLUME_TOOLS_SPLITMIX64_H
#include <stdint.h>

static inline uint64_t splitmix64_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0, without modulo bias. */
static inline uint64_t splitmix64_below(uint64_t *s, uint64_t n) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do x = splitmix64_next(s); while (x >= lim);
    return x % n;
}
#endif
