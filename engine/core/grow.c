/* The growth of the engine's item arrays (registry entries, value lists). */
#include <stdlib.h>
#include "engine.h"

int pl_grow(void **items, size_t count, size_t *cap, size_t size) {
    if (count < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, ncap * size);
    if (!p) return -1;
    *items = p;
    *cap = ncap;
    return 0;
}
