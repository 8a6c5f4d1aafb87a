#include <stdlib.h>
#include <string.h>
#include "term_stats.h"

int ev_term_stats_reserve(ev_term_stat **stats, size_t *cap, size_t id) {
    if (id < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    while (nc <= id) nc *= 2;
    ev_term_stat *ns = realloc(*stats, nc * sizeof *ns);
    if (!ns) return -1;
    memset(ns + *cap, 0, (nc - *cap) * sizeof *ns);
    *stats = ns;
    *cap = nc;
    return 0;
}

void ev_term_stat_seen_in(ev_term_stat *s, size_t doc) {
    if (s->df == 0 || s->last_doc != doc) {
        s->df++;
        s->last_doc = doc;
    }
}

/* Ties in count go to the rarer word across documents, then to byte order, so the order is total. */
static int by_rank(const void *a, const void *b) {
    const ev_term_stat *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    if (x->idf != y->idf) return x->idf > y->idf ? -1 : 1;
    return strcmp(x->word, y->word);
}

int ev_term_stats_emit(ev_term_stat *stats, size_t kept, size_t max_terms, plume_value *out) {
    if (kept > 1) qsort(stats, kept, sizeof *stats, by_rank);  /* stats may be NULL when nothing was kept */
    if (plume_value_set_terms(out)) return -1;
    for (size_t i = 0; i < kept && i < max_terms; i++)
        if (plume_terms_push(out, stats[i].word, (double)stats[i].count)) return -1;
    return 0;
}
