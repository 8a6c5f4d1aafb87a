/* plume — text analysis shared by the engine, the built-in modules and third-party modules.
 *
 * Everything here works on UTF-8 byte strings given as (pointer, length) and counts
 * "characters" as Unicode code points, the unit the paper's thresholds use (150-character
 * context, 250-character snippets, 2,500-character budget).
 *
 *   words      Unicode-aware tokenization + case folding (utf8proc): runs of letters, digits
 *              and combining marks, with inner apostrophes kept ("don't"), NFC + case folded.
 *   stemming   Snowball English (libstemmer). A stemmer is not thread-safe: one per user.
 *   stopwords  a fixed English list (and an extended one), matched against case-folded words.
 *   sentences  split on . ! ? (outside abbreviations, initials and numbers) followed by space,
 *              and on blank lines.
 *   snippets   the paper's snippet: sentences appended until the piece reaches 250 characters
 *              or the document ends.
 *   vocab/df   a word → id table (interning) and document frequencies, with the two IDF formulas.
 *   bm25       an Okapi BM25 index over a small document set, built per request.
 *
 * This is the one text toolkit: the stages and the metrics (eval.h) use it alike. Only the
 * tokenizers that must reproduce rouge-score and sacrebleu exactly, and rouge-score's Porter
 * stemmer, live apart, in engine/eval. Where two users needed different behaviour, the function
 * takes an option (plume_text_words_with, plume_is_stopword_in, plume_text_sentences_with). */
#ifndef PLUME_TEXT_H
#define PLUME_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- UTF-8 ---- */

/* Number of code points in s[0..len) (a malformed byte counts as one). */
PLUME_API size_t plume_utf8_length(const char *s, size_t len);
/* Bytes taken by the first n code points of s[0..len) (len if it has fewer): never splits a character. */
PLUME_API size_t plume_utf8_prefix(const char *s, size_t len, size_t n);
/* Bytes of s[0..len) less a last character cut short: a lead byte followed by fewer continuation
 * bytes than it announces, as a text cut at a byte limit or between byte tokens ends (len when
 * the last character is whole, or is no character at all). */
PLUME_API size_t plume_utf8_whole(const char *s, size_t len);
/* The code point at s[*i] (*i < len), advancing *i past it; a malformed byte reads as U+FFFD and
 * advances one byte. */
PLUME_API uint32_t plume_utf8_next(const char *s, size_t len, size_t *i);
/* A NUL-terminated copy of s[0..len) that is valid UTF-8: each malformed byte becomes U+FFFD,
 * NUL bytes and C0 controls other than \t \n are dropped, "\r\n" and lone '\r' become '\n'.
 * *out_len (may be NULL) gets the byte length; *n_bad (may be NULL) the number of bytes replaced.
 * NULL when out of memory. */
PLUME_API char *plume_utf8_clean(const char *s, size_t len, size_t *out_len, size_t *n_bad);

/* ---- a list of words in one buffer ---- */
typedef struct plume_words {
    char *buf;       /* the words, each NUL-terminated, one after the other */
    size_t *off;     /* off[i]: where word i starts in buf */
    size_t count;
    size_t buf_len, buf_cap, off_cap;
} plume_words;

static inline const char *plume_word(const plume_words *w, size_t i) { return w->buf + w->off[i]; }
/* Its length in bytes, without a strlen(). */
static inline size_t plume_word_len(const plume_words *w, size_t i) {
    return (i + 1 < w->count ? w->off[i + 1] : w->buf_len) - w->off[i] - 1;
}
PLUME_API int  plume_words_push(plume_words *w, const char *word, size_t len);  /* 0, or -1 out of memory */
PLUME_API void plume_words_reset(plume_words *w);   /* empties it, keeps the memory */
PLUME_API void plume_words_free(plume_words *w);

/* Appends the case-folded words of s[0..len) to out. 0, or -1 when out of memory. */
PLUME_API int plume_text_words(const char *s, size_t len, plume_words *out);
/* The same, with options (flags, or-ed): */
enum {
    PLUME_WORDS_DEFAULT = 0,
    /* Connector punctuation ('_', U+203F, ...) separates words instead of joining them, so
     * "uv_ip6_addr" is "uv", "ip6", "addr". The profile keywords (plume_keywords_profile), the
     * SynCtx labels and the summaries' term vectors split so. */
    PLUME_WORDS_SPLIT_CONNECTORS = 1,
};
PLUME_API int plume_text_words_with(const char *s, size_t len, unsigned flags, plume_words *out);
/* 1 when the word holds a letter (Unicode categories Lu, Ll, Lt, Lm, Lo): "b2b" does, "2024" not. */
PLUME_API int plume_word_has_letter(const char *word, size_t len);

/* ---- stemming and stopwords ---- */
typedef struct plume_stemmer plume_stemmer;
PLUME_API plume_stemmer *plume_stemmer_new(plume_error *err);   /* Snowball English */
/* The stem of a case-folded word, valid until the next call on this stemmer; *out_len its bytes.
 * NULL when out of memory. */
PLUME_API const char *plume_stem(plume_stemmer *st, const char *word, size_t len, size_t *out_len);
PLUME_API void plume_stemmer_free(plume_stemmer *st);

/* 1 when the case-folded word is an English stopword ("the", "and", "don't", ...). */
PLUME_API int plume_is_stopword(const char *word, size_t len);
/* Which list: PLUME_STOPWORDS, the function words and their contractions (176 words, what the
 * ranking stages drop), or PLUME_STOPWORDS_EXTENDED, which adds the pieces a tokenizer that splits
 * "don't" leaves ("don", "t", "ll", ...), modal verbs ("may", "must", ...) and "also", "just",
 * "now", "us" (217 words, NLTK's English list and more: what the keywords and summaries drop). */
typedef enum plume_stopword_list { PLUME_STOPWORDS = 0, PLUME_STOPWORDS_EXTENDED = 1 } plume_stopword_list;
PLUME_API int plume_is_stopword_in(const char *word, size_t len, plume_stopword_list list);

/* The analysis every ranking stage uses: words, stopwords dropped when drop_stopwords,
 * then stemmed when st is not NULL. Appends to out. 0, or -1 when out of memory. */
PLUME_API int plume_text_terms(const char *s, size_t len, plume_stemmer *st, int drop_stopwords, plume_words *out);

/* ---- sentences and snippets ---- */
typedef struct plume_span { size_t start, len; } plume_span;   /* bytes into the text */
typedef struct plume_spans { plume_span *items; size_t count, cap; } plume_spans;
PLUME_API void plume_spans_free(plume_spans *sp);

/* Appends the sentences of s[0..len), trimmed of surrounding white space. 0, or -1 out of memory. */
PLUME_API int plume_text_sentences(const char *s, size_t len, plume_spans *out);
/* Which rules end a sentence at a single period:
 *   PLUME_SENTENCES_DEFAULT  not after an abbreviation (al approx cf co corp dept dr e.g eg etc fig
 *                            i.e ie inc jr ltd mr mrs ms no prof sr st vol vs) or an initial (one
 *                            letter), nor when the next word starts lower-case ("approx. three");
 *   PLUME_SENTENCES_PLAIN    not after the short list (co dr e.g etc fig i.e inc jr ltd mr mrs ms
 *                            no prof sr st vs) or a capital initial, whatever the next word; a
 *                            period followed by ! or ? counts as single. The extractive summaries
 *                            (plume_summary_extract, plume_sumctx_label) use these. */
typedef enum plume_sentence_rules { PLUME_SENTENCES_DEFAULT = 0, PLUME_SENTENCES_PLAIN = 1 } plume_sentence_rules;
PLUME_API int plume_text_sentences_with(const char *s, size_t len, plume_sentence_rules rules, plume_spans *out);
/* Appends the snippets of s[0..len): consecutive sentences joined (the original text between
 * them kept) until the snippet holds at least min_chars code points or the text ends.
 * The paper's snippets use min_chars = PLUME_SNIPPET_CHARS. 0, or -1 out of memory. */
#define PLUME_SNIPPET_CHARS 250
PLUME_API int plume_text_snippets(const char *s, size_t len, size_t min_chars, plume_spans *out);
PLUME_API int plume_text_snippets_with(const char *s, size_t len, size_t min_chars, plume_sentence_rules rules,
                                       plume_spans *out);

/* ---- vocabulary and document frequencies ---- */
typedef struct plume_vocab plume_vocab;
PLUME_API plume_vocab *plume_vocab_new(void);
/* The id of word (0, 1, 2, ... in order of first addition); -1 when absent and !add,
 * or when out of memory. */
PLUME_API long plume_vocab_id(plume_vocab *v, const char *word, size_t len, int add);
PLUME_API size_t plume_vocab_size(const plume_vocab *v);
PLUME_API const char *plume_vocab_word(const plume_vocab *v, size_t id);
PLUME_API void plume_vocab_free(plume_vocab *v);

/* Document frequencies over a set of documents, each given as its terms. */
typedef struct plume_df {
    plume_vocab *vocab;
    size_t *df;        /* df[id]: documents holding the word */
    size_t df_cap;
    size_t n_docs;
} plume_df;
PLUME_API int    plume_df_init(plume_df *d);                        /* 0, or -1 out of memory */
PLUME_API int    plume_df_add(plume_df *d, const plume_words *doc_terms);  /* counts each word once */
PLUME_API size_t plume_df_count(const plume_df *d, const char *word);
/* log(N / df) (natural log): the paper's "IDF < 1.5" filter uses this. 0 for an unseen word or N = 0. */
PLUME_API double plume_df_idf(const plume_df *d, const char *word);
PLUME_API void   plume_df_free(plume_df *d);
/* The formulas by themselves. idf = ln(n / df); idf_bm25 = ln(1 + (n - df + 0.5) / (df + 0.5)). */
PLUME_API double plume_idf(size_t n_docs, size_t df);
PLUME_API double plume_idf_bm25(size_t n_docs, size_t df);

/* ---- BM25 ---- */
/* An Okapi BM25 index over n documents, built once per request:
 *   score(D, Q) = sum over distinct terms q of Q of
 *       idf_bm25(q) * tf(q,D) * (k1 + 1) / (tf(q,D) + k1 * (1 - b + b * |D| / avgdl))
 * |D| is the number of terms of D after analysis, avgdl their mean over the index. */
typedef struct plume_bm25 plume_bm25;
/* Documents given as already-analysed terms. NULL with err set on failure. */
PLUME_API plume_bm25 *plume_bm25_build(const plume_words *docs, size_t n, double k1, double b, plume_error *err);
/* scores[0..n) for the query's terms. 0, or -1 out of memory. */
PLUME_API int  plume_bm25_score(const plume_bm25 *idx, const plume_words *query, double *scores);
PLUME_API void plume_bm25_free(plume_bm25 *idx);

#ifdef __cplusplus
}
#endif
#endif
