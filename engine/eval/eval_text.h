/* Private text helpers of engine/eval: an interning table, case-folded words, stopwords,
 * sentences, snippets and term vectors. Hidden from libplume's users.
 *
 * Overlap: include/plume/text.h (the corpus part, written in parallel) provides the same kinds of
 * functions for every stage; when both are merged these should be replaced by text.h's, keeping
 * the metric tokenizers (rouge.c, bleu.c), which follow their reference packages, as they are. */
#ifndef PLUME_EVAL_TEXT_H
#define PLUME_EVAL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* ---- interning: string → dense id ---- */
typedef struct ev_intern {
    char **words;       /* words[id] */
    size_t count, cap;
    uint32_t *slots;    /* open addressing: id + 1, 0 empty */
    size_t n_slots;
} ev_intern;
/* The id of s[0..len), adding it when add; -1 when absent (and !add) or out of memory. */
long ev_intern_id(ev_intern *t, const char *s, size_t len, int add);
void ev_intern_free(ev_intern *t);

/* ---- UTF-8 ---- */
/* Decodes the code point at s[*i] (advancing *i); a malformed byte reads as U+FFFD. */
uint32_t ev_utf8_next(const char *s, size_t len, size_t *i);
size_t ev_utf8_count(const char *s, size_t len);
/* Bytes of the longest prefix of s[0..len) holding at most n code points. */
size_t ev_utf8_prefix(const char *s, size_t len, size_t n);
int ev_is_space(uint32_t c);   /* Python's str.isspace() */

/* ---- words ---- */
typedef struct ev_words {
    char **items;
    size_t count, cap;
} ev_words;
/* Appends the case-folded (NFC) words of s: runs of letters, marks and digits, with an
 * apostrophe (' or U+2019, kept as ') between two such characters. 0, or -1 out of memory. */
int ev_words_split(const char *s, size_t len, ev_words *out);
void ev_words_free(ev_words *w);
int ev_has_letter(const char *word);
int ev_is_stopword(const char *word);

/* Snowball English stems (libstemmer). */
typedef struct ev_stemmer ev_stemmer;
ev_stemmer *ev_stemmer_new(void);
const char *ev_stem(ev_stemmer *st, const char *word);   /* valid until the next call; NULL OOM */
void ev_stemmer_free(ev_stemmer *st);

/* ---- sentences and snippets: byte spans of a text ---- */
typedef struct ev_span { size_t start, len; } ev_span;
typedef struct ev_spans { ev_span *items; size_t count, cap; } ev_spans;
/* Sentences: ends after . ! ? (and closing quotes/brackets) followed by white space, except after
 * a single capital letter or a known abbreviation; also at blank lines. Trimmed; empty ones skipped. */
int ev_sentences(const char *s, size_t len, ev_spans *out);
/* Snippets: consecutive sentences (the text between them kept) until >= min_chars code points. */
int ev_snippets(const char *s, size_t len, size_t min_chars, ev_spans *out);
void ev_spans_free(ev_spans *sp);

/* ---- term-frequency vectors over interned stems of non-stopword words ---- */
typedef struct ev_tf { uint32_t *ids; double *counts; size_t n; double norm; } ev_tf;
int ev_tf_build(const char *s, size_t len, ev_stemmer *st, ev_intern *vocab, ev_tf *out);
double ev_tf_cosine(const ev_tf *a, const ev_tf *b);
void ev_tf_free(ev_tf *tf);

/* idf = ln(n / df) */
double ev_idf(size_t n_docs, size_t df);



/* ---- WordNet (wordnet.c) ---- */
struct plume_wordnet;
/* Adds to set every word (lower case) of every synset of every base form of word, in all four
 * parts of speech. 0, or -1 with err set (out of memory, damaged database). */
struct plume_error;
int ev_wordnet_collect(struct plume_wordnet *wn, const char *word, ev_intern *set, struct plume_error *err);
/* 1 when word or one of its base forms (any part of speech) is in set. -1 out of memory. */
int ev_wordnet_in_set(struct plume_wordnet *wn, const char *word, const ev_intern *set);
#endif
