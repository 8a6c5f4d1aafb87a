/* Private: per-word statistics of the term profiles (keywords, SynCtx labels), shared so that
 * both count document frequencies and rank their terms the same way. */
#ifndef PLUME_EVAL_TERM_STATS_H
#define PLUME_EVAL_TERM_STATS_H
#include <stddef.h>
#include "plume/value.h"

/* One word's numbers, indexed by its id in a plume_vocab. */
typedef struct ev_term_stat {
    size_t count;        /* occurrences counted (keywords) or selected (labels) */
    size_t df, last_doc; /* documents holding the word; the last one seen, so each counts once */
    int decided, match;  /* SynCtx labels: the match test runs once per distinct word */
    double idf;
    const char *word;
} ev_term_stat;

/* Grows *stats (zeroed) so that index id exists. -1 when out of memory. */
int ev_term_stats_reserve(ev_term_stat **stats, size_t *cap, size_t id);

/* Counts document doc in s->df, once however often the word occurs in it. */
void ev_term_stat_seen_in(ev_term_stat *s, size_t doc);

/* Sorts stats[0..kept) by count, then idf (both descending), then the word bytewise, and sets out
 * to the first max_terms of them as terms weighted by their counts. -1 when out of memory. */
int ev_term_stats_emit(ev_term_stat *stats, size_t kept, size_t max_terms, plume_value *out);
#endif
