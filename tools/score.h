/* Scoring predictions against references, as `plume eval` and `plume experiment` both do:
 * corpus BLEU (sacrebleu) and mean ROUGE-1/2/L F (rouge-score), over the whole document and,
 * where the request's immediate context is known, over the continuation alone (prediction and
 * reference each without the context at its start: plume_continuation_start). */
#ifndef PLUME_TOOLS_SCORE_H
#define PLUME_TOOLS_SCORE_H
#include <stddef.h>
#include "plume/eval.h"

/* One record's scores, in percent. */
typedef struct score_record {
    double bleu, r1, r2, rl;        /* whole document (bleu: sentence BLEU, only with per_record) */
    double c1, c2, cl;              /* continuation (0 without a context) */
} score_record;

/* The means of a set, in percent: BLEU is corpus BLEU over the set's statistics. */
typedef struct score_means {
    double bleu, r1, r2, rl;
    double cbleu, c1, c2, cl;
} score_means;

typedef struct score_set {
    int stem;                       /* ROUGE with the Porter stemmer (rouge-score's use_stemmer) */
    int sentence_bleu;              /* also each record's sentence BLEU */
    size_t n;                       /* records added */
    size_t with_context;            /* records given a context */
    size_t context_missing;         /* ... whose prediction did not start with it */
    plume_bleu_stats full, cont;
    double sum[6];                  /* r1 r2 rl c1 c2 cl */
} score_set;

/* Scores one record and adds it to the set. context may be NULL (no continuation scores).
 * rec (if not NULL) receives the record's scores. 0, or -1 when out of memory. */
int score_add(score_set *s, const char *pred, size_t pred_len, const char *ref, size_t ref_len,
              const char *context, size_t ctx_len, score_record *rec);
score_means score_summary(const score_set *s);

#endif
