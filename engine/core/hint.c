/* Hints: "did you mean 'rank.bm25'?" — the closest known name by edit distance. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine.h"

/* Optimal string alignment distance: insertions, deletions, substitutions, and swaps of two
 * neighbouring letters ("wiht" -> "with" is one edit), the usual typos. */
size_t plume_edit_distance(const char *a, const char *b, size_t cap) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 256 || lb > 256) return cap;  /* names are short; a long one is no typo */
    if ((la > lb ? la - lb : lb - la) >= cap) return cap;
    size_t prev2[257], prev[257], row[257];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        row[0] = i;
        size_t best = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < v) v = prev[j] + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            row[j] = v;
            if (v < best) best = v;
        }
        if (best >= cap) return cap;
        memcpy(prev2, prev, (lb + 1) * sizeof(size_t));
        memcpy(prev, row, (lb + 1) * sizeof(size_t));
    }
    return prev[lb] < cap ? prev[lb] : cap;
}

/* Close means: at most a third of the name's length changed (and at least one edit allowed),
 * so 'rank.bm52' suggests 'rank.bm25' but 'x' does not suggest 'y'. */
const char *pl_closest(const char *name, const char *const *candidates, size_t n) {
    size_t len = strlen(name);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i]) continue;
        size_t d = plume_edit_distance(name, candidates[i], best_d);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}

double pl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
