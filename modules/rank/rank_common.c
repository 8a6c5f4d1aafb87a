/* Ordering, budget and the shared run loop of the ranking stages. */
#include <stdlib.h>
#include <string.h>
#include "rank.h"

const plume_port rank_inputs[] = {
    { "query", PLUME_TEXT, "the immediate context: the start of the document being written", 0 },
    { "profile", PLUME_DOCS, "the user's earlier documents (or any candidates) to rank", 0 },
    { 0 },
};
const plume_port rank_inputs_optional_query[] = {
    { "query", PLUME_TEXT, "the immediate context (not used by this stage; may be left unwired)", PLUME_PORT_OPTIONAL },
    { "profile", PLUME_DOCS, "the user's earlier documents (or any candidates) to rank", 0 },
    { 0 },
};
const plume_port rank_outputs[] = {
    { "entries", PLUME_DOCS, "the ranked entries, best first, with their scores, cut to budget_chars", 0 },
    { 0 },
};

/* qsort has no context argument: the sort runs on (index, score, doc) triples instead. */
typedef struct keyed { size_t i; double score; const plume_doc *doc; } keyed;

static int cmp_keyed(const void *pa, const void *pb) {
    const keyed *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->doc->time != b->doc->time) return a->doc->time > b->doc->time ? -1 : 1;
    int c = strcmp(a->doc->id, b->doc->id);
    if (c) return c;
    return (a->i > b->i) - (a->i < b->i);   /* equal ids: keep input order */
}

void rank_order(const plume_doc *docs, const double *scores, size_t *order, size_t n) {
    keyed *k = malloc((n ? n : 1) * sizeof *k);
    if (!k) {
        /* cannot sort without memory: fall back to input order, which is at least deterministic */
        for (size_t i = 0; i < n; i++) order[i] = i;
        return;
    }
    for (size_t i = 0; i < n; i++) k[i] = (keyed){ i, scores[i], &docs[i] };
    qsort(k, n, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < n; i++) order[i] = k[i].i;
    free(k);
}

int rank_emit(plume_value *out, const plume_doc *docs, const double *scores, const size_t *order, size_t n,
              long long budget_chars) {
    plume_value_set_docs(out);
    size_t left = budget_chars > 0 ? (size_t)budget_chars : (size_t)-1;
    for (size_t k = 0; k < n && left > 0; k++) {
        const plume_doc *d = &docs[order[k]];
        const char *text = d->text ? d->text : "";
        size_t bytes = strlen(text), chars = plume_utf8_length(text, bytes);
        char *cut = NULL;
        if (chars > left) {
            /* the last entry: keep exactly the characters the budget has left */
            size_t keep = plume_utf8_prefix(text, bytes, left);
            if (!(cut = malloc(keep + 1))) return -1;
            memcpy(cut, text, keep);
            cut[keep] = '\0';
            chars = left;
        }
        plume_doc e = { d->id, d->title, cut ? cut : (char *)text, d->time, scores[order[k]] };
        int rc = plume_docs_push(out, &e);
        free(cut);
        if (rc) return -1;
        if (budget_chars > 0) left -= chars;
    }
    return 0;
}

int rank_terms(plume_stemmer *st, const char *s, size_t len, plume_words *out) {
    return plume_text_terms(s, len, st, 1, out);
}

int rank_run(void *state, plume_batch *batch, long long budget_chars, rank_score_fn score) {
    size_t n_rec = plume_batch_count(batch);
    for (size_t r = 0; r < n_rec; r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *q = plume_batch_in(batch, r, 0);
        const plume_value *p = plume_batch_in(batch, r, 1);
        if (p->type != PLUME_DOCS) {
            plume_batch_fail(batch, r, "the profile input holds %s, not docs (hint: wire the request's profile slot)",
                             plume_type_name(p->type));
            continue;
        }
        const char *query = q->type == PLUME_TEXT ? q->as.text.str : "";
        size_t query_len = q->type == PLUME_TEXT ? q->as.text.len : 0;
        size_t n = p->as.docs.count;
        double *scores = malloc((n ? n : 1) * sizeof *scores);
        size_t *order = malloc((n ? n : 1) * sizeof *order);
        plume_error err = { { 0 } };
        if (!scores || !order) {
            plume_batch_fail(batch, r, "out of memory ranking %zu profile documents", n);
        } else if (score(state, query, query_len, p->as.docs.items, n, scores, &err)) {
            plume_batch_fail(batch, r, "%s", err.msg);
        } else {
            rank_order(p->as.docs.items, scores, order, n);
            if (rank_emit(plume_batch_out(batch, r, 0), p->as.docs.items, scores, order, n, budget_chars))
                plume_batch_fail(batch, r, "out of memory writing %zu ranked entries", n);
        }
        free(scores);
        free(order);
    }
    return 0;
}
