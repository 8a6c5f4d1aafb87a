/* SynCtxInd, the paper's context-independent synthesis: the profile's most frequent
 * distinctive words. Filters, in the paper's words: stopwords, words seen once, IDF < 1.5.
 *
 * Choices the paper leaves open, made here and stated in eval.h:
 *   - words are case-folded Unicode words (plume_text_words_with, '_' separating words) and
 *     the extended stopword list drops the function words; a keyword must hold a letter
 *     (numbers are not "important words");
 *   - a document is its title and its text; df counts documents holding the word;
 *   - idf = ln(N / df), natural log, N = number of profile documents. So with N <= 4 even a word
 *     in one document has idf = ln N < 1.5 and nothing passes: a profile that small gives no terms;
 *   - ties in frequency go to the higher idf, then to the word in byte order (deterministic). */
#include <stdlib.h>
#include <string.h>
#include "plume/eval.h"
#include "plume/text.h"
#include "term_stats.h"

/* Counts the words of one document into stats (growing with the table); df once per document. */
static int count_doc(const char *s, size_t doc, plume_vocab *tab, ev_term_stat **stats, size_t *cap) {
    plume_words w = { 0 };
    if (plume_text_words_with(s, strlen(s), PLUME_WORDS_SPLIT_CONNECTORS, &w)) goto oom;
    for (size_t i = 0; i < w.count; i++) {
        long id = plume_vocab_id(tab, plume_word(&w, i), plume_word_len(&w, i), 1);
        if (id < 0 || ev_term_stats_reserve(stats, cap, (size_t)id)) goto oom;
        ev_term_stat *k = &(*stats)[id];
        k->count++;
        ev_term_stat_seen_in(k, doc);
    }
    plume_words_free(&w);
    return 0;
oom:
    plume_words_free(&w);
    return -1;
}

int plume_keywords_profile(const plume_doc *docs, size_t n, const plume_keyword_opts *opts, plume_value *out,
                           plume_error *err) {
    static const plume_keyword_opts defaults = PLUME_KEYWORD_OPTS_DEFAULT;
    if (!opts) opts = &defaults;
    plume_vocab *tab = plume_vocab_new();
    ev_term_stat *stats = NULL;
    size_t cap = 0;
    int rc = -1;
    if (!tab) goto oom;
    for (size_t d = 0; d < n; d++) {
        if (count_doc(docs[d].title ? docs[d].title : "", d, tab, &stats, &cap) ||
            count_doc(docs[d].text ? docs[d].text : "", d, tab, &stats, &cap)) {
            plume_fail(err, "keywords: out of memory counting profile document %zu", d);
            goto done;
        }
    }
    /* Keep the survivors of the three filters, compacted to the front. */
    size_t kept = 0;
    for (size_t id = 0; id < plume_vocab_size(tab); id++) {
        ev_term_stat k = stats[id];
        k.word = plume_vocab_word(tab, id);
        k.idf = plume_idf(n, k.df);
        size_t len = strlen(k.word);
        if (plume_is_stopword_in(k.word, len, PLUME_STOPWORDS_EXTENDED) || !plume_word_has_letter(k.word, len)) continue;
        if (k.count < opts->min_count) continue;
        if (k.idf < opts->min_idf) continue;
        stats[kept++] = k;
    }
    if (ev_term_stats_emit(stats, kept, opts->max_terms, out)) goto oom;
    rc = 0;
    goto done;
oom:
    plume_fail(err, "keywords: out of memory");
done:
    free(stats);
    plume_vocab_free(tab);
    return rc;
}
