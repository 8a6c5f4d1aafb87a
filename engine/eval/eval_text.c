/* Private text helpers of engine/eval (see eval_text.h): words, stopwords, sentences, snippets,
 * term vectors. Words are Unicode-aware (utf8proc) and stems come from Snowball (libstemmer). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <libstemmer.h>
#include <utf8proc.h>
#include "eval_text.h"

/* ---- interning ---- */

static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int intern_grow(ev_intern *t) {
    size_t n = t->n_slots ? t->n_slots * 2 : 64;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots) return -1;
    for (size_t id = 0; id < t->count; id++) {
        size_t k = hash_bytes(t->words[id], strlen(t->words[id])) & (n - 1);
        while (slots[k]) k = (k + 1) & (n - 1);
        slots[k] = (uint32_t)(id + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->n_slots = n;
    return 0;
}

long ev_intern_id(ev_intern *t, const char *s, size_t len, int add) {
    if (t->n_slots) {
        size_t k = hash_bytes(s, len) & (t->n_slots - 1);
        while (t->slots[k]) {
            const char *w = t->words[t->slots[k] - 1];
            if (strncmp(w, s, len) == 0 && w[len] == '\0') return (long)t->slots[k] - 1;
            k = (k + 1) & (t->n_slots - 1);
        }
    }
    if (!add) return -1;
    if (t->count >= UINT32_MAX - 1) return -1;
    if ((t->count + 1) * 2 > t->n_slots && intern_grow(t)) return -1;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **words = realloc(t->words, cap * sizeof *words);
        if (!words) return -1;
        t->words = words;
        t->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    size_t id = t->count++;
    t->words[id] = copy;
    size_t k = hash_bytes(s, len) & (t->n_slots - 1);
    while (t->slots[k]) k = (k + 1) & (t->n_slots - 1);
    t->slots[k] = (uint32_t)(id + 1);
    return (long)id;
}

void ev_intern_free(ev_intern *t) {
    for (size_t i = 0; i < t->count; i++) free(t->words[i]);
    free(t->words);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- UTF-8 ---- */

uint32_t ev_utf8_next(const char *s, size_t len, size_t *i) {
    utf8proc_int32_t c;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + *i, (utf8proc_ssize_t)(len - *i), &c);
    if (n <= 0) {
        *i += 1;
        return 0xFFFD;
    }
    *i += (size_t)n;
    return (uint32_t)c;
}

size_t ev_utf8_count(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; n++) ev_utf8_next(s, len, &i);
    return n;
}

size_t ev_utf8_prefix(const char *s, size_t len, size_t n) {
    size_t i = 0;
    for (size_t k = 0; k < n && i < len; k++) ev_utf8_next(s, len, &i);
    return i;
}

int ev_is_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* ---- words ---- */

static int is_word_char(uint32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

static int words_push(ev_words *w, char *word) {
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        char **items = realloc(w->items, cap * sizeof *items);
        if (!items) return -1;
        w->items = items;
        w->cap = cap;
    }
    w->items[w->count++] = word;
    return 0;
}

/* Case folds and composes s[start..end), writing U+2019 as an ASCII apostrophe. */
static int push_folded(ev_words *out, const char *s, size_t start, size_t end) {
    size_t n = end - start;
    char *raw = malloc(n + 1);
    if (!raw) return -1;
    size_t k = 0;
    for (size_t i = start; i < end;) {
        if (i + 2 < end && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
            (unsigned char)s[i + 2] == 0x99) {
            raw[k++] = '\'';
            i += 3;
        } else {
            raw[k++] = s[i++];
        }
    }
    raw[k] = '\0';
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)raw, (utf8proc_ssize_t)k, &folded,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    free(raw);
    if (r < 0) return r == UTF8PROC_ERROR_NOMEM ? -1 : 0;   /* a malformed word is skipped */
    if (words_push(out, (char *)folded)) {
        free(folded);
        return -1;
    }
    return 0;
}

int ev_words_split(const char *s, size_t len, ev_words *out) {
    size_t i = 0, start = 0;
    int in_word = 0;
    while (i < len) {
        size_t at = i;
        uint32_t c = ev_utf8_next(s, len, &i);
        if (is_word_char(c)) {
            if (!in_word) start = at;
            in_word = 1;
            continue;
        }
        if (in_word && (c == '\'' || c == 0x2019) && i < len) {
            size_t j = i;
            if (is_word_char(ev_utf8_next(s, len, &j))) continue;   /* inner apostrophe: don't */
        }
        if (in_word && push_folded(out, s, start, at)) return -1;
        in_word = 0;
    }
    if (in_word && push_folded(out, s, start, len)) return -1;
    return 0;
}

void ev_words_free(ev_words *w) {
    for (size_t i = 0; i < w->count; i++) free(w->items[i]);
    free(w->items);
    memset(w, 0, sizeof *w);
}

int ev_has_letter(const char *word) {
    size_t len = strlen(word);
    for (size_t i = 0; i < len;) {
        uint32_t c = ev_utf8_next(word, len, &i);
        if (c < 0x80 ? ((c | 32) >= 'a' && (c | 32) <= 'z')
                     : utf8proc_category((utf8proc_int32_t)c) <= UTF8PROC_CATEGORY_LO &&
                           utf8proc_category((utf8proc_int32_t)c) >= UTF8PROC_CATEGORY_LU)
            return 1;
    }
    return 0;
}

/* English function words, byte-sorted for bsearch (test_eval_text checks the order). */
static const char *const stopwords[] = {
    "a", "about", "above", "after", "again", "against", "ain", "all", "also", "am", "an", "and",
    "any", "are", "aren", "aren't", "as", "at", "be", "because", "been", "before", "being",
    "below", "between", "both", "but", "by", "can", "can't", "cannot", "could", "couldn",
    "couldn't", "d", "did", "didn", "didn't", "do", "does", "doesn", "doesn't", "doing", "don",
    "don't", "down", "during", "each", "few", "for", "from", "further", "had", "hadn", "hadn't",
    "has", "hasn", "hasn't", "have", "haven", "haven't", "having", "he", "he'd", "he'll", "he's",
    "her", "here", "here's", "hers", "herself", "him", "himself", "his", "how", "how's", "i",
    "i'd", "i'll", "i'm", "i've", "if", "in", "into", "is", "isn", "isn't", "it", "it's", "its",
    "itself", "just", "let's", "ll", "m", "ma", "may", "me", "might", "mightn", "mightn't", "more",
    "most", "must", "mustn", "mustn't", "my", "myself", "needn", "needn't", "no", "nor", "not",
    "now", "o", "of", "off", "on", "once", "only", "or", "other", "ought", "our", "ours",
    "ourselves", "out", "over", "own", "re", "s", "same", "shall", "shan", "shan't", "she",
    "she'd", "she'll", "she's", "should", "should've", "shouldn", "shouldn't", "so", "some",
    "such", "t", "than", "that", "that'll", "that's", "the", "their", "theirs", "them",
    "themselves", "then", "there", "there's", "these", "they", "they'd", "they'll", "they're",
    "they've", "this", "those", "through", "to", "too", "under", "until", "up", "us", "ve", "very",
    "was", "wasn", "wasn't", "we", "we'd", "we'll", "we're", "we've", "were", "weren", "weren't",
    "what", "what's", "when", "when's", "where", "where's", "which", "while", "who", "who's",
    "whom", "why", "why's", "will", "with", "won", "won't", "would", "wouldn", "wouldn't", "y",
    "you", "you'd", "you'll", "you're", "you've", "your", "yours", "yourself", "yourselves",
};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ev_is_stopword(const char *word) {
    return bsearch(&word, stopwords, sizeof stopwords / sizeof stopwords[0], sizeof stopwords[0], cmp_str) != NULL;
}

/* ---- stemming ---- */

struct ev_stemmer { struct sb_stemmer *sb; };

ev_stemmer *ev_stemmer_new(void) {
    ev_stemmer *st = malloc(sizeof *st);
    if (!st) return NULL;
    st->sb = sb_stemmer_new("english", "UTF_8");
    if (!st->sb) {
        free(st);
        return NULL;
    }
    return st;
}

const char *ev_stem(ev_stemmer *st, const char *word) {
    return (const char *)sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)strlen(word));
}

void ev_stemmer_free(ev_stemmer *st) {
    if (!st) return;
    sb_stemmer_delete(st->sb);
    free(st);
}

/* ---- sentences ---- */

static int spans_push(ev_spans *sp, size_t start, size_t len) {
    if (sp->count == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 16;
        ev_span *items = realloc(sp->items, cap * sizeof *items);
        if (!items) return -1;
        sp->items = items;
        sp->cap = cap;
    }
    sp->items[sp->count++] = (ev_span){ start, len };
    return 0;
}

void ev_spans_free(ev_spans *sp) {
    free(sp->items);
    memset(sp, 0, sizeof *sp);
}

static int ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims s[start..end) and appends it when something is left. */
static int push_trimmed(ev_spans *out, const char *s, size_t start, size_t end) {
    while (start < end && ascii_space(s[start])) start++;
    while (end > start && ascii_space(s[end - 1])) end--;
    return end > start ? spans_push(out, start, end - start) : 0;
}

static const char *const abbreviations[] = {
    "co", "dr", "e.g", "etc", "fig", "i.e", "inc", "jr", "ltd", "mr", "mrs", "ms", "no", "prof",
    "sr", "st", "vs",
};

/* 1 when the word ending just before s[dot] ('.') is an initial or a known abbreviation. */
static int is_abbreviation(const char *s, size_t dot) {
    size_t b = dot;
    while (b > 0 && !ascii_space(s[b - 1]) && s[b - 1] != '(' && s[b - 1] != '"') b--;
    size_t n = dot - b;
    if (n == 1 && s[b] >= 'A' && s[b] <= 'Z') return 1;
    if (n == 0 || n > 4) return 0;
    char w[5];
    for (size_t i = 0; i < n; i++) w[i] = (char)((s[b + i] >= 'A' && s[b + i] <= 'Z') ? s[b + i] + 32 : s[b + i]);
    w[n] = '\0';
    for (size_t i = 0; i < sizeof abbreviations / sizeof abbreviations[0]; i++)
        if (!strcmp(w, abbreviations[i])) return 1;
    return 0;
}

int ev_sentences(const char *s, size_t len, ev_spans *out) {
    size_t start = 0, i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '\n') {   /* a blank line ends a sentence */
            size_t j = i + 1;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r')) j++;
            if (j < len && s[j] == '\n') {
                if (push_trimmed(out, s, start, i)) return -1;
                start = i = j + 1;
                continue;
            }
        }
        if (c == '.' || c == '!' || c == '?') {
            size_t j = i;
            while (j < len && (s[j] == '.' || s[j] == '!' || s[j] == '?')) j++;
            while (j < len && (s[j] == '"' || s[j] == '\'' || s[j] == ')' || s[j] == ']')) j++;
            /* closing curly quotes (U+2019, U+201D) */
            while (j + 2 < len && (unsigned char)s[j] == 0xE2 && (unsigned char)s[j + 1] == 0x80 &&
                   ((unsigned char)s[j + 2] == 0x99 || (unsigned char)s[j + 2] == 0x9D))
                j += 3;
            int single_dot = (c == '.' && j > i && s[i + 1] != '.');
            if ((j == len || ascii_space(s[j])) && !(single_dot && is_abbreviation(s, i))) {
                if (push_trimmed(out, s, start, j)) return -1;
                start = j;
            }
            i = j;
            continue;
        }
        i++;
    }
    return push_trimmed(out, s, start, len);
}

int ev_snippets(const char *s, size_t len, size_t min_chars, ev_spans *out) {
    ev_spans sent = { 0 };
    if (ev_sentences(s, len, &sent)) return -1;
    size_t i = 0;
    while (i < sent.count) {
        size_t start = sent.items[i].start, end = start + sent.items[i].len;
        i++;
        while (i < sent.count && ev_utf8_count(s + start, end - start) < min_chars) {
            end = sent.items[i].start + sent.items[i].len;
            i++;
        }
        if (spans_push(out, start, end - start)) {
            ev_spans_free(&sent);
            return -1;
        }
    }
    ev_spans_free(&sent);
    return 0;
}

/* ---- term vectors ---- */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int ev_tf_build(const char *s, size_t len, ev_stemmer *st, ev_intern *vocab, ev_tf *out) {
    memset(out, 0, sizeof *out);
    ev_words w = { 0 };
    if (ev_words_split(s, len, &w)) return -1;
    uint32_t *ids = malloc((w.count ? w.count : 1) * sizeof *ids);
    if (!ids) goto fail;
    size_t n = 0;
    for (size_t i = 0; i < w.count; i++) {
        if (ev_is_stopword(w.items[i])) continue;
        const char *stem = ev_stem(st, w.items[i]);
        if (!stem) goto fail;
        long id = ev_intern_id(vocab, stem, strlen(stem), 1);
        if (id < 0) goto fail;
        ids[n++] = (uint32_t)id;
    }
    qsort(ids, n, sizeof *ids, cmp_u32);
    out->ids = ids;
    out->counts = malloc((n ? n : 1) * sizeof *out->counts);
    if (!out->counts) goto fail;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && out->ids[k - 1] == ids[i]) {
            out->counts[k - 1] += 1;
        } else {
            out->ids[k] = ids[i];
            out->counts[k++] = 1;
        }
    }
    out->n = k;
    double sq = 0;
    for (size_t i = 0; i < k; i++) sq += out->counts[i] * out->counts[i];
    out->norm = sqrt(sq);
    ev_words_free(&w);
    return 0;
fail:
    if (!out->ids) free(ids);
    ev_tf_free(out);
    ev_words_free(&w);
    return -1;
}

double ev_tf_cosine(const ev_tf *a, const ev_tf *b) {
    if (a->norm == 0 || b->norm == 0) return 0;
    double dot = 0;
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        if (a->ids[i] < b->ids[j]) i++;
        else if (a->ids[i] > b->ids[j]) j++;
        else dot += a->counts[i++] * b->counts[j++];
    }
    return dot / (a->norm * b->norm);
}

void ev_tf_free(ev_tf *tf) {
    free(tf->ids);
    free(tf->counts);
    memset(tf, 0, sizeof *tf);
}

double ev_idf(size_t n_docs, size_t df) {
    return (n_docs == 0 || df == 0) ? 0.0 : log((double)n_docs / (double)df);
}
