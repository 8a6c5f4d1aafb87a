/* Snowball English stemming (libstemmer) and the English stopword list. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libstemmer.h>
#include "plume/text.h"

/* Stems are cached per stemmer: a request's profile repeats its vocabulary many times over, and
 * a table look-up is far cheaper than running the Snowball algorithm again. */
#define STEM_CACHE_MAX 200000   /* words; past this the cache starts again, so memory stays bounded */

struct plume_stemmer {
    struct sb_stemmer *sb;
    plume_vocab *cache;     /* word → id */
    plume_words stems;      /* id → stem */
};

plume_stemmer *plume_stemmer_new(plume_error *err) {
    plume_stemmer *st = calloc(1, sizeof *st);
    if (!st) {
        plume_fail(err, "stemmer: out of memory");
        return NULL;
    }
    st->sb = sb_stemmer_new("english", "UTF_8");
    if (!st->sb) {
        free(st);
        plume_fail(err, "stemmer: libstemmer has no English UTF-8 stemmer (hint: check the libstemmer0d package)");
        return NULL;
    }
    return st;
}

const char *plume_stem(plume_stemmer *st, const char *word, size_t len, size_t *out_len) {
    if (st->cache) {
        long id = plume_vocab_id(st->cache, word, len, 0);
        if (id >= 0) {
            const char *stem = plume_word(&st->stems, (size_t)id);
            *out_len = strlen(stem);
            return stem;
        }
    }
    if (len > INT_MAX) return NULL;
    const sb_symbol *s = sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)len);
    if (!s) return NULL;
    *out_len = (size_t)sb_stemmer_length(st->sb);
    if (!st->cache || plume_vocab_size(st->cache) >= STEM_CACHE_MAX) {
        plume_vocab_free(st->cache);
        plume_words_reset(&st->stems);
        st->cache = plume_vocab_new();
    }
    /* a failed cache insert only costs speed; the vocabulary and the stems stay in step */
    if (st->cache && plume_words_push(&st->stems, (const char *)s, *out_len) == 0 &&
        plume_vocab_id(st->cache, word, len, 1) != (long)st->stems.count - 1) {
        plume_vocab_free(st->cache);
        plume_words_reset(&st->stems);
        st->cache = NULL;
    }
    return (const char *)s;
}

void plume_stemmer_free(plume_stemmer *st) {
    if (!st) return;
    plume_vocab_free(st->cache);
    plume_words_free(&st->stems);
    sb_stemmer_delete(st->sb);
    free(st);
}

/* English function words: pronouns, determiners, auxiliaries, prepositions, conjunctions and
 * their contractions. Sorted in byte order for bsearch (test_text looks every entry up, which fails if unsorted). */
static const char *const stopwords[] = {
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "aren't", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "can't", "cannot", "could", "couldn't", "did", "didn't", "do", "does",
    "doesn't", "doing", "don't", "down", "during", "each", "few", "for", "from", "further", "had",
    "hadn't", "has", "hasn't", "have", "haven't", "having", "he", "he'd", "he'll", "he's", "her",
    "here", "here's", "hers", "herself", "him", "himself", "his", "how", "how's", "i", "i'd",
    "i'll", "i'm", "i've", "if", "in", "into", "is", "isn't", "it", "it's", "its", "itself",
    "let's", "me", "more", "most", "mustn't", "my", "myself", "no", "nor", "not", "of", "off",
    "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out", "over", "own",
    "same", "shan't", "she", "she'd", "she'll", "she's", "should", "shouldn't", "so", "some",
    "such", "than", "that", "that's", "the", "their", "theirs", "them", "themselves", "then",
    "there", "there's", "these", "they", "they'd", "they'll", "they're", "they've", "this",
    "those", "through", "to", "too", "under", "until", "up", "very", "was", "wasn't", "we",
    "we'd", "we'll", "we're", "we've", "were", "weren't", "what", "what's", "when", "when's",
    "where", "where's", "which", "while", "who", "who's", "whom", "why", "why's", "will", "with",
    "won't", "would", "wouldn't", "you", "you'd", "you'll", "you're", "you've", "your", "yours",
    "yourself", "yourselves",
};

typedef struct { const char *s; size_t len; } key;

static int cmp_stop(const void *a, const void *b) {
    const key *k = a;
    const char *w = *(const char *const *)b;
    size_t wl = strlen(w);
    int c = memcmp(k->s, w, k->len < wl ? k->len : wl);
    if (c) return c;
    return (k->len > wl) - (k->len < wl);
}

int plume_is_stopword(const char *word, size_t len) {
    key k = { word, len };
    return bsearch(&k, stopwords, sizeof stopwords / sizeof stopwords[0], sizeof stopwords[0], cmp_stop) != NULL;
}

int plume_text_terms(const char *s, size_t len, plume_stemmer *st, int drop_stopwords, plume_words *out) {
    plume_words words = { 0 };
    int rc = plume_text_words(s, len, &words);
    for (size_t i = 0; rc == 0 && i < words.count; i++) {
        const char *w = plume_word(&words, i);
        size_t wl = strlen(w);
        if (drop_stopwords && plume_is_stopword(w, wl)) continue;
        if (st) {
            size_t sl;
            const char *stem = plume_stem(st, w, wl, &sl);
            if (!stem) rc = -1;
            else rc = plume_words_push(out, stem, sl);
        } else {
            rc = plume_words_push(out, w, wl);
        }
    }
    plume_words_free(&words);
    return rc;
}
