/* SynCtx weak labels (the paper's context-dependent synthesis, used to train a model later):
 * the words of the ranked entries that match a word of the real document.
 *
 * A match is an identical Snowball stem, or a WordNet synonym (the entry word, or one of its
 * base forms, in a synset of a base form of a target word). The paper's third kind of match,
 * closeness in a word-embedding space, needs an embedding model and is not done here.
 * Filters: stopwords, words without a letter, idf < min_idf (idf = ln(N / df) over idf_docs;
 * a word absent from idf_docs has no idf and is skipped), and words selected fewer than
 * min_count times. Order: selection count, then idf, then the word (bytewise). */
#include <stdlib.h>
#include <string.h>
#include "plume/eval.h"
#include "eval_text.h"

typedef struct label_stat {
    size_t count;        /* occurrences selected */
    size_t df, last_doc; /* over idf_docs */
    int decided, match;  /* the match test runs once per distinct word */
    double idf;
    const char *word;
} label_stat;

static int cmp_label(const void *a, const void *b) {
    const label_stat *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    if (x->idf != y->idf) return x->idf > y->idf ? -1 : 1;
    return strcmp(x->word, y->word);
}

/* Grows stats so that index id exists (zeroed). */
static int ensure(label_stat **stats, size_t *cap, size_t id) {
    if (id < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    while (nc <= id) nc *= 2;
    label_stat *ns = realloc(*stats, nc * sizeof *ns);
    if (!ns) return -1;
    memset(ns + *cap, 0, (nc - *cap) * sizeof *ns);
    *stats = ns;
    *cap = nc;
    return 0;
}

static int doc_words(const plume_doc *d, ev_words *w) {
    const char *title = d->title ? d->title : "", *text = d->text ? d->text : "";
    return ev_words_split(title, strlen(title), w) || ev_words_split(text, strlen(text), w) ? -1 : 0;
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
    ev_intern words = { 0 }, target_stems = { 0 }, synonyms = { 0 };
    label_stat *stats = NULL;
    size_t cap = 0;
    ev_words w = { 0 };
    ev_stemmer *st = ev_stemmer_new();
    int rc = -1;
    if (!st) {
        plume_fail(err, "synctx labels: cannot start the Snowball English stemmer (out of memory?)");
        goto done;
    }
    /* The target's stems and the synonyms of its words. */
    if (ev_words_split(target ? target : "", target ? strlen(target) : 0, &w)) goto oom;
    for (size_t i = 0; i < w.count; i++) {
        const char *t = w.items[i];
        if (ev_is_stopword(t) || !ev_has_letter(t)) continue;
        const char *stem = ev_stem(st, t);
        if (!stem || ev_intern_id(&target_stems, stem, strlen(stem), 1) < 0) goto oom;
        if (wn && ev_intern_id(&words, t, strlen(t), 0) < 0) {   /* `words` doubles as "seen" here */
            if (ev_intern_id(&words, t, strlen(t), 1) < 0) goto oom;
            if (ev_wordnet_collect(wn, t, &synonyms, err)) goto done;
        }
    }
    ev_words_free(&w);
    ev_intern_free(&words);
    /* Document frequencies over idf_docs. */
    for (size_t d = 0; d < n_idf_docs; d++) {
        if (doc_words(&idf_docs[d], &w)) goto oom;
        for (size_t i = 0; i < w.count; i++) {
            long id = ev_intern_id(&words, w.items[i], strlen(w.items[i]), 1);
            if (id < 0 || ensure(&stats, &cap, (size_t)id)) goto oom;
            if (stats[id].df == 0 || stats[id].last_doc != d) {
                stats[id].df++;
                stats[id].last_doc = d;
            }
        }
        ev_words_free(&w);
    }
    /* Selections in the entries. */
    for (size_t d = 0; d < n_entries; d++) {
        if (doc_words(&entries[d], &w)) goto oom;
        for (size_t i = 0; i < w.count; i++) {
            const char *e = w.items[i];
            long id = ev_intern_id(&words, e, strlen(e), 1);
            if (id < 0 || ensure(&stats, &cap, (size_t)id)) goto oom;
            label_stat *s = &stats[id];
            if (!s->decided) {
                s->decided = 1;
                s->idf = ev_idf(n_idf_docs, s->df);
                s->match = 0;
                if (!ev_is_stopword(e) && ev_has_letter(e) && s->df > 0 && s->idf >= opts->min_idf) {
                    const char *stem = ev_stem(st, e);
                    if (!stem) goto oom;
                    s->match = ev_intern_id(&target_stems, stem, strlen(stem), 0) >= 0;
                    if (!s->match && wn) s->match = ev_wordnet_in_set(wn, e, &synonyms) == 1;
                }
            }
            if (s->match) s->count++;
        }
        ev_words_free(&w);
    }
    size_t kept = 0;
    for (size_t id = 0; id < words.count; id++) {
        label_stat s = stats[id];
        if (!s.match || s.count < opts->min_count) continue;
        s.word = words.words[id];
        stats[kept++] = s;
    }
    if (kept > 1) qsort(stats, kept, sizeof *stats, cmp_label);  /* stats may be NULL when nothing matched */
    if (plume_value_set_terms(out)) goto oom;
    for (size_t i = 0; i < kept && i < opts->max_terms; i++)
        if (plume_terms_push(out, stats[i].word, (double)stats[i].count)) goto oom;
    rc = 0;
    goto done;
oom:
    plume_fail(err, "synctx labels: out of memory");
done:
    ev_words_free(&w);
    ev_stemmer_free(st);
    ev_intern_free(&words);
    ev_intern_free(&target_stems);
    ev_intern_free(&synonyms);
    free(stats);
    return rc;
}
