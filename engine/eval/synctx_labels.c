/* SynCtx weak labels (the paper's context-dependent synthesis, used to train a model later):
 * the words of the ranked entries that match a word of the real document.
 *
 * A match is an identical Snowball stem, or a WordNet synonym (the entry word, or one of its
 * base forms, in a synset of a base form of a target word). The paper's third kind of match,
 * closeness in a word-embedding space, needs an embedding model and is not done here.
 * Words are split as plume_keywords_profile splits them ('_' separates words).
 * Filters: stopwords (the extended list), words without a letter, idf < min_idf (idf = ln(N / df) over idf_docs;
 * a word absent from idf_docs has no idf and is skipped), and words selected fewer than
 * min_count times. Order: selection count, then idf, then the word (bytewise). */
#include <stdlib.h>
#include <string.h>
#include "plume/eval.h"
#include "plume/text.h"
#include "term_stats.h"
#include "wordnet.h"

static int doc_words(const plume_doc *d, plume_words *w) {
    const char *title = d->title ? d->title : "", *text = d->text ? d->text : "";
    return plume_text_words_with(title, strlen(title), PLUME_WORDS_SPLIT_CONNECTORS, w) ||
                   plume_text_words_with(text, strlen(text), PLUME_WORDS_SPLIT_CONNECTORS, w)
               ? -1
               : 0;
}

/* A word the labels may select: no stopword, and a letter in it. */
static int candidate(const char *word, size_t len) {
    return !plume_is_stopword_in(word, len, PLUME_STOPWORDS_EXTENDED) && plume_word_has_letter(word, len);
}

int plume_synctx_labels(const plume_doc *entries, size_t n_entries, const char *target, const plume_doc *idf_docs,
                        size_t n_idf_docs, plume_wordnet *wn, const plume_keyword_opts *opts, plume_value *out,
                        plume_error *err) {
    static const plume_keyword_opts defaults = { 20, 1, 1.5 };
    if (!opts) opts = &defaults;
    if (!idf_docs) {
        idf_docs = entries;
        n_idf_docs = n_entries;
    }
    plume_vocab *words = plume_vocab_new(), *target_stems = plume_vocab_new(), *synonyms = plume_vocab_new();
    ev_term_stat *stats = NULL;
    size_t cap = 0;
    plume_words w = { 0 };
    plume_error stem_err;
    plume_stemmer *st = plume_stemmer_new(&stem_err);
    int rc = -1;
    if (!st) {
        plume_fail(err, "synctx labels: %s", stem_err.msg);
        goto done;
    }
    if (!words || !target_stems || !synonyms) goto oom;
    /* The target's stems and the synonyms of its words. */
    if (plume_text_words_with(target ? target : "", target ? strlen(target) : 0, PLUME_WORDS_SPLIT_CONNECTORS, &w))
        goto oom;
    for (size_t i = 0; i < w.count; i++) {
        const char *t = plume_word(&w, i);
        size_t tl = plume_word_len(&w, i), sl;
        if (!candidate(t, tl)) continue;
        const char *stem = plume_stem(st, t, tl, &sl);
        if (!stem || plume_vocab_id(target_stems, stem, sl, 1) < 0) goto oom;
        if (wn && plume_vocab_id(words, t, tl, 0) < 0) {   /* `words` doubles as "seen" here */
            if (plume_vocab_id(words, t, tl, 1) < 0) goto oom;
            if (ev_wordnet_collect(wn, t, synonyms, err)) goto done;
        }
    }
    plume_words_reset(&w);
    plume_vocab_free(words);
    if (!(words = plume_vocab_new())) goto oom;
    /* Document frequencies over idf_docs. */
    for (size_t d = 0; d < n_idf_docs; d++) {
        if (doc_words(&idf_docs[d], &w)) goto oom;
        for (size_t i = 0; i < w.count; i++) {
            long id = plume_vocab_id(words, plume_word(&w, i), plume_word_len(&w, i), 1);
            if (id < 0 || ev_term_stats_reserve(&stats, &cap, (size_t)id)) goto oom;
            ev_term_stat_seen_in(&stats[id], d);
        }
        plume_words_reset(&w);
    }
    /* Selections in the entries. */
    for (size_t d = 0; d < n_entries; d++) {
        if (doc_words(&entries[d], &w)) goto oom;
        for (size_t i = 0; i < w.count; i++) {
            const char *e = plume_word(&w, i);
            size_t el = plume_word_len(&w, i);
            long id = plume_vocab_id(words, e, el, 1);
            if (id < 0 || ev_term_stats_reserve(&stats, &cap, (size_t)id)) goto oom;
            ev_term_stat *s = &stats[id];
            if (!s->decided) {
                s->decided = 1;
                s->idf = plume_idf(n_idf_docs, s->df);
                s->match = 0;
                if (candidate(e, el) && s->df > 0 && s->idf >= opts->min_idf) {
                    size_t sl;
                    const char *stem = plume_stem(st, e, el, &sl);
                    if (!stem) goto oom;
                    s->match = plume_vocab_id(target_stems, stem, sl, 0) >= 0;
                    if (!s->match && wn) s->match = ev_wordnet_in_set(wn, e, synonyms) == 1;
                }
            }
            if (s->match) s->count++;
        }
        plume_words_reset(&w);
    }
    size_t kept = 0;
    for (size_t id = 0; id < plume_vocab_size(words); id++) {
        ev_term_stat s = stats[id];
        if (!s.match || s.count < opts->min_count) continue;
        s.word = plume_vocab_word(words, id);
        stats[kept++] = s;
    }
    if (ev_term_stats_emit(stats, kept, opts->max_terms, out)) goto oom;
    rc = 0;
    goto done;
oom:
    plume_fail(err, "synctx labels: out of memory");
done:
    plume_words_free(&w);
    plume_stemmer_free(st);
    plume_vocab_free(words);
    plume_vocab_free(target_stems);
    plume_vocab_free(synonyms);
    free(stats);
    return rc;
}
