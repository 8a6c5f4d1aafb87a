/* The ranking stages' shared parts: port and parameter tables, ordering, the character budget.
 *
 * Every ranking stage reads the immediate context (query) and the profile (the user's earlier
 * documents), scores each profile document, and writes them as ranked entries: best first,
 * ties broken by time (newer first) then id (byte order), so a run is deterministic; the
 * entries' texts are then cut to budget_chars characters in all. */
#ifndef PLUME_RANK_H
#define PLUME_RANK_H

#include "plume/lm.h"
#include "plume/stage.h"
#include "plume/text.h"

/* Port and parameter tables every ranking stage shares. */
extern const plume_port rank_inputs[];            /* query (text), profile (docs) */
extern const plume_port rank_inputs_optional_query[];
extern const plume_port rank_outputs[];           /* entries (docs) */
#define RANK_BUDGET_PARAM { "budget_chars", PLUME_INT, "2500", \
    "characters of entry text kept in all: entries are taken in rank order and the last one is " \
    "truncated so the total is exactly this (0: no limit)", PLUME_AT_LEAST(0) }
#define RANK_K1_PARAM { "k1", PLUME_FLOAT, "1.2", "BM25 term-frequency saturation", PLUME_AT_LEAST(0) }
#define RANK_B_PARAM  { "b", PLUME_FLOAT, "0.75", "BM25 length normalization", PLUME_RANGE(0, 1) }

/* Sorts order[0..n) (indices into docs) by score desc, time desc, id asc. */
void rank_order(const plume_doc *docs, const double *scores, size_t *order, size_t n);
/* Writes docs in order[] to out with their scores, cutting texts to budget_chars characters in
 * all (0: no cut). Returns 0, or -1 when out of memory. */
int rank_emit(plume_value *out, const plume_doc *docs, const double *scores, const size_t *order, size_t n,
              long long budget_chars);
/* Scores docs, orders and emits them: the part of run() every stage shares. score() fills
 * scores[0..n) for one record and returns 0, or -1 with a message in err. */
typedef int (*rank_score_fn)(void *state, const char *query, size_t query_len, const plume_doc *docs, size_t n,
                             double *scores, plume_error *err);
int rank_run(void *state, plume_batch *batch, long long budget_chars, rank_score_fn score);

/* The analysis BM25 uses on both sides: words, stopwords dropped, Snowball stems. */
int rank_terms(plume_stemmer *st, const char *s, size_t len, plume_words *out);

/* ---- dense scoring (dense_common.c) ---- */
/* The encoder of a dense stage: the model named by its `model` parameter, and the embedding
 * cache file named by its `embed_cache` parameter ("" for none). */
typedef struct rank_encoder {
    plume_lm *lm;
    plume_host *host;
    int file;          /* 1: attached to a cache file, to detach at close */
} rank_encoder;
#define RANK_EMBED_CACHE_PARAM { "embed_cache", PLUME_STRING, "", \
    "a file that keeps the encoder's embeddings between runs (read at the start, written whole at the end; " \
    "a file of another model is replaced, a file that is not an embedding cache is refused); \"\": none", \
    PLUME_NO_RANGE }
/* Acquires the model and binds its cache file. 0, or -1 with err set (nothing held). */
int rank_encoder_open(rank_encoder *enc, const plume_args *args, plume_host *host, const char *stage, plume_error *err);
/* Writes the cache file (a failure is logged as a warning: the run's results stand) and
 * releases the model. */
void rank_encoder_close(rank_encoder *enc);

/* The texts a dense stage embeds for one record's profile (malloc'd strings it owns). */
typedef struct rank_texts { char **items; size_t count, cap; } rank_texts;
/* Appends text, taking it over (freed here when it cannot be appended). 0, or -1 when out of memory. */
int rank_texts_take(rank_texts *t, char *text);
void rank_texts_free(rank_texts *t);
/* Fills out with the texts a stage embeds for these profile documents. 0, or -1 when out of memory. */
typedef int (*rank_texts_fn)(void *state, const plume_doc *docs, size_t n, rank_texts *out);
/* Embeds the queries and profile texts of every record of the batch in one plume_lm_embed
 * call, so that the forward passes are shared by the whole batch and each record's scoring
 * then finds its texts in the cache. Records whose inputs are not a text and docs are left
 * out. A failure here is not reported: scoring record by record meets it again and fails
 * that record alone. */
void rank_dense_prefetch(plume_lm *lm, plume_batch *batch, void *state, rank_texts_fn texts);
/* scores[i] = cosine similarity of the embeddings of query and texts[i] (0 when either text is
 * empty), all embedded in one call. 0, or -1 with err set. */
int rank_dense_scores(plume_lm *lm, const char *query, const char *const *texts, size_t n, double *scores,
                      plume_error *err);
/* A document's searchable text, "title\ntext" (or either alone), malloc'd; NULL when out of memory. */
char *rank_doc_text(const plume_doc *d);

#endif
