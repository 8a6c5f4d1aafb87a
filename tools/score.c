/* Scoring predictions against references: whole documents and continuations. */
#include "score.h"

int score_add(score_set *s, const char *pred, size_t pred_len, const char *ref, size_t ref_len,
              const char *context, size_t ctx_len, score_record *rec) {
    score_record r = { 0 };
    plume_rouge full, cont;
    if (plume_rouge_compute(pred, pred_len, ref, ref_len, s->stem, &full) ||
        plume_bleu_add(&s->full, pred, pred_len, ref, ref_len))
        return -1;
    r.r1 = 100 * full.rouge1.f;
    r.r2 = 100 * full.rouge2.f;
    r.rl = 100 * full.rougeL.f;
    if (s->sentence_bleu && (r.bleu = plume_bleu_sentence(pred, pred_len, ref, ref_len)) < 0) return -1;
    if (context) {
        int found;
        size_t p0 = plume_continuation_start(pred, pred_len, context, ctx_len, &found);
        size_t r0 = plume_continuation_start(ref, ref_len, context, ctx_len, NULL);
        if (plume_rouge_compute(pred + p0, pred_len - p0, ref + r0, ref_len - r0, s->stem, &cont) ||
            plume_bleu_add(&s->cont, pred + p0, pred_len - p0, ref + r0, ref_len - r0))
            return -1;
        r.c1 = 100 * cont.rouge1.f;
        r.c2 = 100 * cont.rouge2.f;
        r.cl = 100 * cont.rougeL.f;
        s->with_context++;
        s->context_missing += !found;
    }
    double v[6] = { r.r1, r.r2, r.rl, r.c1, r.c2, r.cl };
    for (int k = 0; k < 6; k++) s->sum[k] += v[k];
    s->n++;
    if (rec) *rec = r;
    return 0;
}

score_means score_summary(const score_set *s) {
    score_means m = { 0 };
    if (!s->n) return m;
    double n = (double)s->n, nc = s->with_context ? (double)s->with_context : 1;
    m.bleu = plume_bleu_score(&s->full, 0).score;
    m.r1 = s->sum[0] / n;
    m.r2 = s->sum[1] / n;
    m.rl = s->sum[2] / n;
    if (s->with_context) {
        m.cbleu = plume_bleu_score(&s->cont, 0).score;
        m.c1 = s->sum[3] / nc;
        m.c2 = s->sum[4] / nc;
        m.cl = s->sum[5] / nc;
    }
    return m;
}
