/* Beam search bookkeeping, independent of where the log-probabilities come from.
 *
 * The scorer owns n_beams slots (for the language model: KV caches). Live
 * hypotheses sit in slots; after each step the n_beams best extensions are kept,
 * ranked by cumulative log-probability (all live hypotheses have the same length,
 * so length normalisation would not change that order). When several children
 * share a parent, the first keeps the parent's slot and the others take slots of
 * hypotheses that had no child, after a copy: a slot is never both the source of
 * a copy and the destination of another in the same reassignment, so no copy
 * reads a cache that an earlier copy overwrote.
 *
 * A hypothesis ends at EOS or when scorer->finished says so; its score is its
 * log-probability divided by (new tokens, EOS included)^length_penalty. The search
 * stops when n_beams hypotheses have ended and no live one scores better than the
 * worst of them, or at max_tokens, where the live hypotheses join the ended ones. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plume/lm.h"

#define BEAM_MAX 64

typedef struct hypo {
    int32_t *tokens;      /* [max_tokens] */
    int n;
    double logprob;
    int slot;
} hypo;

typedef struct ended {
    int32_t *tokens;
    int n;                /* EOS excluded */
    double logprob, score;
    int finished;
} ended;

typedef struct candidate {
    double logprob;       /* cumulative, after this token */
    int parent;           /* index into live hypotheses */
    int32_t token;
} candidate;

static int cmp_candidate(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    if (x->logprob > y->logprob) return -1;
    if (x->logprob < y->logprob) return 1;
    if (x->parent != y->parent) return x->parent - y->parent;
    return (x->token > y->token) - (x->token < y->token);
}

static double length_score(double logprob, int len, float penalty) {
    if (penalty == 0 || len <= 0) return logprob;
    return logprob / pow((double)len, penalty);
}

/* Adds a hypothesis to the ended list, keeping the n_beams best by score. */
static int add_ended(ended *list, int *n_list, int cap, const int32_t *tokens, int n, double logprob,
                     double score, int finished) {
    int at = *n_list;
    if (at == cap) {
        int worst = 0;
        for (int i = 1; i < cap; i++)
            if (list[i].score < list[worst].score) worst = i;
        if (list[worst].score >= score) return 0;
        free(list[worst].tokens);
        list[worst] = list[--*n_list];
        at = *n_list;
    }
    int32_t *copy = malloc((size_t)(n > 0 ? n : 1) * sizeof *copy);
    if (!copy) return -1;
    if (n > 0) memcpy(copy, tokens, (size_t)n * sizeof *copy);
    list[at] = (ended){ copy, n, logprob, score, finished };
    ++*n_list;
    return 0;
}

static double worst_score(const ended *list, int n) {
    double w = INFINITY;
    for (int i = 0; i < n; i++)
        if (list[i].score < w) w = list[i].score;
    return w;
}

/* The k largest entries of row (ids ascending on ties), written to ids. */
static int top_k_ids(const float *row, int vocab, int k, int32_t *ids) {
    int n = 0;
    for (int v = 0; v < vocab; v++) {
        float x = row[v];
        if (!(x > -INFINITY)) continue;  /* impossible tokens, and NaN */
        if (n == k && !(x > row[ids[k - 1]])) continue;
        int at = n < k ? n++ : k - 1;
        while (at > 0 && x > row[ids[at - 1]]) {
            ids[at] = ids[at - 1];
            at--;
        }
        ids[at] = v;
    }
    return n;
}

int plume_beam_search(const plume_beam_scorer *sc, const plume_beam_params *pr,
                      plume_beam_result *best, plume_error *err) {
    const int B = pr->n_beams, V = pr->vocab_size, T = pr->max_tokens;
    memset(best, 0, sizeof *best);
    if (B < 1 || B > BEAM_MAX)
        return plume_fail(err, "beam search: %d beams is out of range (1..%d)", B, BEAM_MAX);
    if (V < 1 || T < 1)
        return plume_fail(err, "beam search: vocabulary %d and max_tokens %d must be positive", V, T);

    int rc = -1, n_live = 1, n_ended = 0;
    const int per = B + 1;  /* one more than B, so at least B non-EOS candidates per parent */
    hypo live[BEAM_MAX], next[BEAM_MAX];
    ended done[BEAM_MAX];
    int slots[BEAM_MAX], children[BEAM_MAX], slot_taken[BEAM_MAX];
    int32_t last[BEAM_MAX];
    memset(live, 0, sizeof live);
    memset(next, 0, sizeof next);
    float *logprobs = malloc((size_t)B * (size_t)V * sizeof *logprobs);
    candidate *cand = malloc((size_t)B * per * sizeof *cand);
    int32_t *ids = malloc((size_t)per * sizeof *ids);
    if (!logprobs || !cand || !ids) goto oom;
    for (int i = 0; i < B; i++) {
        live[i].tokens = malloc((size_t)T * sizeof(int32_t));
        next[i].tokens = malloc((size_t)T * sizeof(int32_t));
        if (!live[i].tokens || !next[i].tokens) goto oom;
    }
    live[0].slot = 0;

    for (int t = 0; t < T && n_live > 0; t++) {
        for (int i = 0; i < n_live; i++) {
            slots[i] = live[i].slot;
            last[i] = live[i].n ? live[i].tokens[live[i].n - 1] : -1;
        }
        if (sc->step(sc->user, n_live, slots, last, logprobs, err)) goto out;

        int n_cand = 0;
        for (int i = 0; i < n_live; i++) {
            const float *row = logprobs + (size_t)i * V;
            int k = top_k_ids(row, V, per, ids);
            for (int j = 0; j < k; j++)
                cand[n_cand++] = (candidate){ live[i].logprob + row[ids[j]], i, ids[j] };
        }
        qsort(cand, (size_t)n_cand, sizeof *cand, cmp_candidate);

        int n_next = 0;
        for (int c = 0; c < n_cand && n_next < B; c++) {
            const hypo *h = &live[cand[c].parent];
            if (cand[c].token == pr->eos) {
                double s = length_score(cand[c].logprob, h->n + 1, pr->length_penalty);
                if (add_ended(done, &n_ended, B, h->tokens, h->n, cand[c].logprob, s, 1)) goto oom;
                continue;
            }
            hypo *x = &next[n_next];
            memcpy(x->tokens, h->tokens, (size_t)h->n * sizeof(int32_t));
            x->tokens[h->n] = cand[c].token;
            x->n = h->n + 1;
            x->logprob = cand[c].logprob;
            x->slot = cand[c].parent;  /* for now: the parent's index */
            if (sc->finished && sc->finished(sc->user, x->tokens, x->n)) {
                double s = length_score(x->logprob, x->n, pr->length_penalty);
                if (add_ended(done, &n_ended, B, x->tokens, x->n, x->logprob, s, 1)) goto oom;
                continue;
            }
            n_next++;
        }

        /* Slots: a parent's first child inherits its slot; others take free ones. */
        memset(children, 0, sizeof children);
        memset(slot_taken, 0, sizeof slot_taken);
        for (int j = 0; j < n_next; j++) {
            int p = next[j].slot;
            if (children[p]++ == 0) {
                next[j].slot = live[p].slot;
                slot_taken[live[p].slot] = 1;
            } else {
                next[j].slot = -1 - p;  /* needs a copy of parent p */
            }
        }
        for (int j = 0; j < n_next; j++) {
            if (next[j].slot >= 0) continue;
            int p = -1 - next[j].slot, free_slot = 0;
            while (slot_taken[free_slot]) free_slot++;
            slot_taken[free_slot] = 1;
            if (sc->copy(sc->user, free_slot, live[p].slot, err)) goto out;
            next[j].slot = free_slot;
        }
        for (int j = 0; j < n_next; j++) {
            hypo tmp = live[j];
            live[j] = next[j];
            next[j] = tmp;
        }
        n_live = n_next;

        /* Done when B hypotheses ended and the best live one cannot catch up. */
        if (n_ended == B && n_live > 0) {
            double best_live = length_score(live[0].logprob, live[0].n, pr->length_penalty);
            if (best_live <= worst_score(done, n_ended)) n_live = 0;
        }
    }
    for (int i = 0; i < n_live; i++)
        if (add_ended(done, &n_ended, B, live[i].tokens, live[i].n, live[i].logprob,
                      length_score(live[i].logprob, live[i].n, pr->length_penalty), 0))
            goto oom;
    if (n_ended == 0) {
        plume_fail(err, "beam search: every hypothesis was impossible (all log-probabilities -inf)");
        goto out;
    }
    int w = 0;
    for (int i = 1; i < n_ended; i++)
        if (done[i].score > done[w].score) w = i;
    best->tokens = done[w].tokens;
    best->n_tokens = done[w].n;
    best->logprob = done[w].logprob;
    best->score = done[w].score;
    best->finished = done[w].finished;
    done[w].tokens = NULL;
    rc = 0;
    goto out;
oom:
    plume_fail(err, "beam search: out of memory (%d beams, vocabulary %d, %d tokens)", B, V, T);
out:
    for (int i = 0; i < n_ended; i++) free(done[i].tokens);
    for (int i = 0; i < B; i++) {
        free(live[i].tokens);
        free(next[i].tokens);
    }
    free(logprobs);
    free(cand);
    free(ids);
    return rc;
}
