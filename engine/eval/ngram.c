/* n-gram overlap by sorting: each side's n-grams sorted, then merged, so repeated n-grams are
 * clipped by the other side's count (ROUGE's intersection, BLEU's clipped matches). */
#include <stdlib.h>
#include <string.h>
#include "ngram.h"

int ev_tokens_push(ev_tokens *t, plume_vocab *tab, const char *s, size_t len) {
    long id = plume_vocab_id(tab, s, len, 1);
    if (id < 0) return -1;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        uint32_t *ids = realloc(t->ids, cap * sizeof *ids);
        if (!ids) return -1;
        t->ids = ids;
        t->cap = cap;
    }
    t->ids[t->n++] = (uint32_t)id;
    return 0;
}

void ev_tokens_free(ev_tokens *t) {
    free(t->ids);
    memset(t, 0, sizeof *t);
}

#define MAX_N 4
typedef struct gram { uint32_t id[MAX_N]; } gram;

static int cmp_gram(const void *a, const void *b) {
    const gram *x = a, *y = b;
    for (int i = 0; i < MAX_N; i++)
        if (x->id[i] != y->id[i]) return x->id[i] < y->id[i] ? -1 : 1;
    return 0;
}

/* The sorted n-grams of t; *count gets how many. NULL only when out of memory. */
static gram *grams_of(const ev_tokens *t, size_t n, size_t *count) {
    *count = t->n >= n ? t->n - n + 1 : 0;
    gram *g = calloc(*count ? *count : 1, sizeof *g);
    if (!g) return NULL;
    for (size_t i = 0; i < *count; i++)
        for (size_t k = 0; k < n; k++) g[i].id[k] = t->ids[i + k];
    qsort(g, *count, sizeof *g, cmp_gram);
    return g;
}

long ev_ngram_overlap(const ev_tokens *a, const ev_tokens *b, size_t n) {
    if (n == 0 || n > MAX_N) return 0;
    size_t na, nb;
    gram *ga = grams_of(a, n, &na), *gb = grams_of(b, n, &nb);
    if (!ga || !gb) {
        free(ga);
        free(gb);
        return -1;
    }
    /* Sorted merge: equal runs pair up one for one, which is min(count_a, count_b) per n-gram. */
    long match = 0;
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        int c = cmp_gram(&ga[i], &gb[j]);
        if (c < 0) i++;
        else if (c > 0) j++;
        else {
            match++;
            i++;
            j++;
        }
    }
    free(ga);
    free(gb);
    return match;
}
