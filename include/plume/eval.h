/* plume — evaluation metrics and the model-free writing aids built on the same text analysis.
 *
 * Metrics follow two reference packages exactly, so plume's numbers can be compared with
 * published ones:
 *   ROUGE   Google's `rouge-score` (RougeScorer(["rouge1","rouge2","rougeL"], use_stemmer=True)):
 *           lower-case, every character outside [a-z0-9] becomes a space, tokens split on white
 *           space, tokens longer than 3 characters stemmed by NLTK's PorterStemmer() in its default
 *           NLTK_EXTENSIONS mode. F-measures in [0, 1].
 *   BLEU    `sacrebleu` with its defaults: the 13a tokenizer, case kept, 4-grams, 'exp' smoothing.
 *           Corpus BLEU sums the statistics of all segments (effective order off); sentence BLEU is
 *           sacrebleu's sentence_bleu() (effective order on). Scores in [0, 100] as sacrebleu prints.
 *
 * The writing aids (the paper's SynCtxInd, SumCtxInd and the weak labels of SynCtx and SumCtx)
 * live here too because they share the word analysis and the IDF of this file's section 3.
 * Every function here is reentrant except where a handle says otherwise (plume_wordnet). */
#ifndef PLUME_EVAL_H
#define PLUME_EVAL_H

#include <stddef.h>
#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. ROUGE ==== */

typedef struct plume_rouge_score {
    double precision, recall, f;   /* rouge-score's Score(precision, recall, fmeasure) */
} plume_rouge_score;

typedef struct plume_rouge {
    plume_rouge_score rouge1, rouge2, rougeL;
} plume_rouge;

/* The rouge-score tokens of text, joined by single spaces into a NUL-terminated string
 * (stem: apply the Porter stemmer as use_stemmer=True does). NULL when out of memory. */
PLUME_API char *plume_rouge_tokenize(const char *text, size_t len, int stem);
/* ROUGE-1, -2 and -L of a prediction against a reference (rouge-score's score(target, prediction)).
 * 0, or -1 when out of memory. */
PLUME_API int plume_rouge_compute(const char *prediction, size_t pred_len,
                                  const char *reference, size_t ref_len, int stem, plume_rouge *out);

/* NLTK's PorterStemmer().stem() of one lower-case ASCII word, written to out (NUL-terminated,
 * at most len + 1 bytes: a stem is never longer than its word plus one). Returns the stem's length. */
PLUME_API size_t plume_porter_stem(const char *word, size_t len, char *out);

/* ==== 2. BLEU ==== */

#define PLUME_BLEU_ORDER 4

/* Sufficient statistics of one or more segments; corpus BLEU adds them up. */
typedef struct plume_bleu_stats {
    double sys_len, ref_len;
    double correct[PLUME_BLEU_ORDER], total[PLUME_BLEU_ORDER];
} plume_bleu_stats;

typedef struct plume_bleu {
    double score;                          /* 0..100 */
    double precisions[PLUME_BLEU_ORDER];   /* 0..100, after smoothing */
    double bp;                             /* brevity penalty */
    double sys_len, ref_len;
} plume_bleu;

/* sacrebleu's 13a tokenization of text (after rstrip), tokens joined by single spaces.
 * NULL when out of memory. */
PLUME_API char *plume_bleu_tokenize(const char *text, size_t len);
/* Adds the statistics of one (hypothesis, reference) segment to *acc. 0, or -1 out of memory. */
PLUME_API int plume_bleu_add(plume_bleu_stats *acc, const char *hyp, size_t hyp_len,
                             const char *ref, size_t ref_len);
/* BLEU from statistics: effective_order 0 for corpus BLEU, 1 for sentence BLEU; 'exp' smoothing. */
PLUME_API plume_bleu plume_bleu_score(const plume_bleu_stats *stats, int effective_order);
/* Sentence BLEU of one pair (sacrebleu.sentence_bleu(hyp, [ref]).score). -1 when out of memory. */
PLUME_API double plume_bleu_sentence(const char *hyp, size_t hyp_len, const char *ref, size_t ref_len);

/* ==== 3. Writing aids: keywords, weak labels, extractive summaries ==== */

/* SynCtxInd: the profile's unigrams (case-folded words holding a letter) minus stopwords, words
 * seen fewer than min_count times over the whole profile, and words with idf < min_idf, where
 * idf = ln(N / df), N the number of profile documents (title + text each) and df how many hold
 * the word. Sorted by frequency (descending), then idf (descending), then the word (bytewise);
 * at most max_terms. out becomes a terms list, weight = frequency. The paper: min_count 2,
 * min_idf 1.5, max_terms 20. 0, or -1 with err set. */
typedef struct plume_keyword_opts {
    size_t max_terms;   /* 20 */
    size_t min_count;   /* 2: "words seen once" are dropped */
    double min_idf;     /* 1.5 */
} plume_keyword_opts;
#define PLUME_KEYWORD_OPTS_DEFAULT { 20, 2, 1.5 }
PLUME_API int plume_keywords_profile(const plume_doc *docs, size_t n, const plume_keyword_opts *opts,
                                     plume_value *out, plume_error *err);

/* WordNet synonyms, read from the database files of Debian's `wordnet` package.
 * A handle reads its data files through one buffer: use one handle per thread. */
typedef struct plume_wordnet plume_wordnet;
/* dir: the folder holding index.noun, data.noun, noun.exc, ... (NULL: /usr/share/wordnet).
 * NULL with err set when a file is missing or malformed. */
PLUME_API plume_wordnet *plume_wordnet_open(const char *dir, plume_error *err);
PLUME_API void plume_wordnet_close(plume_wordnet *wn);
/* 1 when a and b (lower-case words) share a synset in any part of speech, each word first
 * reduced to its base forms (exception lists, then WordNet's detachment rules); 0 otherwise;
 * -1 when out of memory or a data file is malformed (err set). */
PLUME_API int plume_wordnet_synonyms(plume_wordnet *wn, const char *a, const char *b, plume_error *err);

/* SynCtx weak labels: words of the ranked entries that match a word of the target by identical
 * Snowball stem or as a WordNet synonym (wn may be NULL: stems only); stopwords and words with
 * idf < min_idf skipped, idf = ln(N / df) over idf_docs (the profile, or the entries when
 * idf_docs is NULL). Sorted by how often selected (occurrences in the entries), then idf, then the
 * word; at most max_terms. out: terms, weight = that count. 0, or -1 with err set. */
PLUME_API int plume_synctx_labels(const plume_doc *entries, size_t n_entries, const char *target,
                                  const plume_doc *idf_docs, size_t n_idf_docs, plume_wordnet *wn,
                                  const plume_keyword_opts *opts, plume_value *out, plume_error *err);

/* SumCtxInd: an extractive summary of docs. Sentences are ranked by TextRank (damping 0.85)
 * over the cosine similarity of their term-frequency vectors (Snowball stems of non-stopwords);
 * the best are taken greedily while they fit budget_chars code points (joined by one space), and
 * given in their original order. out becomes text. 0, or -1 with err set. */
PLUME_API int plume_summary_extract(const plume_doc *docs, size_t n, size_t budget_chars,
                                    plume_value *out, plume_error *err);

/* SumCtx weak label: for each snippet of target (sentences joined up to snippet_chars code
 * points), the most similar snippet of the entries not used yet (cosine of term-frequency vectors
 * of Snowball stems of non-stopwords; ties go to the earlier snippet; a similarity of 0 picks
 * nothing); the picks joined by one space, in target order. out becomes text. 0, or -1 with err. */
PLUME_API int plume_sumctx_label(const plume_doc *entries, size_t n_entries, const char *target,
                                 size_t snippet_chars, plume_value *out, plume_error *err);

/* ==== 4. Paired comparisons: is one system better than another on the same records? ==== */

/* A paired comparison of two scores per record (a[i] against b[i], e.g. a pipeline with the user's
 * own profile against the same pipeline with another user's profile). Two tests of the mean
 * difference, both two-sided:
 *   t_p     Student's paired t-test: t = mean(d) / (sd(d) / sqrt(n)), n - 1 degrees of freedom;
 *           1 when every difference is the same (sd 0 and mean 0), 0 when sd is 0 and mean is not;
 *   sign_p  the exact sign test: the count of positive differences among the non-zero ones against
 *           Binomial(nonzero, 1/2), ties (d = 0) left out; 1 when every difference is zero.
 * n < 2 gives t_p = sign_p = 1 (nothing to test). */
typedef struct plume_paired {
    size_t n;                  /* records compared */
    double mean_a, mean_b;     /* the two means */
    double mean_diff;          /* mean(a - b) */
    double sd_diff;            /* the sample standard deviation of a - b (n - 1) */
    double t;                  /* the t statistic (0 when sd_diff is 0) */
    double t_p;
    size_t positive, negative; /* records with a > b, a < b */
    double sign_p;
} plume_paired;
PLUME_API plume_paired plume_paired_compare(const double *a, const double *b, size_t n);
/* P(|T| >= |t|) for Student's t with df degrees of freedom (df > 0): the two-sided p-value. */
PLUME_API double plume_student_t_p(double t, double df);
/* The two-sided exact binomial p-value of k successes in n trials with p = 1/2:
 * min(1, 2 * P(X <= min(k, n - k))). */
PLUME_API double plume_sign_test_p(size_t k, size_t n);

/* ==== 5. The continuation: a document without its immediate context ==== */

/* Where the continuation of `text` begins once the request's immediate context is taken off its
 * start: the paper's full-document scores copy the context into both prediction and target, so it
 * dominates them; scoring the continuation alone shows what a generator added. The context matches
 * when it is a byte prefix of text, or else when it is one with white space runs compared as equal
 * (a run matches a run of any white space characters, leading white space ignored). Returns the
 * offset in text; *found (if not NULL) says whether the context matched. When it does not, the
 * offset is 0: the whole text counts as the continuation. */
PLUME_API size_t plume_continuation_start(const char *text, size_t len, const char *context, size_t ctx_len,
                                          int *found);

#ifdef __cplusplus
}
#endif
#endif
