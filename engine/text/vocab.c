/* A word → id table (open addressing, FNV-1a) and document frequencies with the IDF formulas. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "plume/text.h"

struct plume_vocab {
    plume_words words;   /* id → word */
    uint64_t *hashes;    /* id → its hash, so growing the table and probing need no strlen/memcmp */
    size_t hash_cap;
    long *slots;         /* hash slot → id, -1 empty */
    size_t n_slots;      /* a power of two, kept at least twice the number of words */
};

static uint64_t fnv1a(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

plume_vocab *plume_vocab_new(void) {
    plume_vocab *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->n_slots = 256;
    v->slots = malloc(v->n_slots * sizeof *v->slots);
    if (!v->slots) {
        free(v);
        return NULL;
    }
    for (size_t i = 0; i < v->n_slots; i++) v->slots[i] = -1;
    return v;
}

void plume_vocab_free(plume_vocab *v) {
    if (!v) return;
    plume_words_free(&v->words);
    free(v->hashes);
    free(v->slots);
    free(v);
}

size_t plume_vocab_size(const plume_vocab *v) { return v->words.count; }

const char *plume_vocab_word(const plume_vocab *v, size_t id) {
    return id < v->words.count ? plume_word(&v->words, id) : NULL;
}

static int rehash(plume_vocab *v) {
    if (v->n_slots > SIZE_MAX / 2 / sizeof(long)) return -1;
    size_t n = v->n_slots * 2;
    long *slots = malloc(n * sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < n; i++) slots[i] = -1;
    for (size_t id = 0; id < v->words.count; id++) {
        size_t h = (size_t)v->hashes[id] & (n - 1);
        while (slots[h] >= 0) h = (h + 1) & (n - 1);
        slots[h] = (long)id;
    }
    free(v->slots);
    v->slots = slots;
    v->n_slots = n;
    return 0;
}

long plume_vocab_id(plume_vocab *v, const char *word, size_t len, int add) {
    uint64_t full = fnv1a(word, len);
    size_t h = (size_t)full & (v->n_slots - 1);
    while (v->slots[h] >= 0) {
        size_t id = (size_t)v->slots[h];
        if (v->hashes[id] == full && plume_word_len(&v->words, id) == len &&
            memcmp(plume_word(&v->words, id), word, len) == 0)
            return (long)id;
        h = (h + 1) & (v->n_slots - 1);
    }
    if (!add) return -1;
    if (v->words.count == v->hash_cap) {
        size_t ncap = v->hash_cap ? v->hash_cap * 2 : 256;
        uint64_t *p = realloc(v->hashes, ncap * sizeof *p);
        if (!p) return -1;
        v->hashes = p;
        v->hash_cap = ncap;
    }
    if (plume_words_push(&v->words, word, len)) return -1;
    long id = (long)v->words.count - 1;
    v->hashes[id] = full;
    v->slots[h] = id;
    if (v->words.count * 2 > v->n_slots && rehash(v)) {
        v->words.count--;   /* keep the table consistent: forget the word we could not index */
        v->words.buf_len = v->words.off[v->words.count];
        v->slots[h] = -1;
        return -1;
    }
    return id;
}

int plume_df_init(plume_df *d) {
    memset(d, 0, sizeof *d);
    d->vocab = plume_vocab_new();
    return d->vocab ? 0 : -1;
}

void plume_df_free(plume_df *d) {
    plume_vocab_free(d->vocab);
    free(d->df);
    memset(d, 0, sizeof *d);
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int plume_df_add(plume_df *d, const plume_words *doc_terms) {
    /* the document's word ids, sorted, so each distinct word is counted once */
    size_t n = doc_terms->count;
    long *ids = n ? malloc(n * sizeof *ids) : NULL;
    if (n && !ids) return -1;
    for (size_t i = 0; i < n; i++) {
        ids[i] = plume_vocab_id(d->vocab, plume_word(doc_terms, i), plume_word_len(doc_terms, i), 1);
        if (ids[i] < 0) {
            free(ids);
            return -1;
        }
    }
    size_t need = plume_vocab_size(d->vocab);
    if (need > d->df_cap) {
        size_t ncap = d->df_cap ? d->df_cap : 256;
        while (ncap < need) ncap *= 2;
        size_t *p = realloc(d->df, ncap * sizeof *p);
        if (!p) {
            free(ids);
            return -1;
        }
        memset(p + d->df_cap, 0, (ncap - d->df_cap) * sizeof *p);
        d->df = p;
        d->df_cap = ncap;
    }
    if (n) qsort(ids, n, sizeof *ids, cmp_long);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || ids[i] != ids[i - 1]) d->df[ids[i]]++;
    free(ids);
    d->n_docs++;
    return 0;
}

size_t plume_df_count(const plume_df *d, const char *word) {
    long id = plume_vocab_id(d->vocab, word, strlen(word), 0);
    return id < 0 ? 0 : d->df[id];
}

double plume_idf(size_t n_docs, size_t df) {
    if (n_docs == 0 || df == 0) return 0.0;
    return log((double)n_docs / (double)df);
}

double plume_idf_bm25(size_t n_docs, size_t df) {
    return log(1.0 + ((double)n_docs - (double)df + 0.5) / ((double)df + 0.5));
}

double plume_df_idf(const plume_df *d, const char *word) {
    return plume_idf(d->n_docs, plume_df_count(d, word));
}
