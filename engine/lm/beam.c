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
#include "beam.h"

/* EOS, or one of the other ids that end a text as EOS does (end-of-turn tokens). */
static int ends_hypothesis(const plume_beam_params *pr, int32_t token) {
    if (token == pr->eos && token >= 0) return 1;
    for (int i = 0; i < pr->n_more_eos; i++)
        if (pr->more_eos[i] == token) return 1;
    return 0;
}

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

struct lm_beam {
    plume_beam_params p;
    int per;                      /* candidates per parent: one more than B, so at least B
                                     non-EOS candidates each */
    int t;                        /* steps taken */
    int n_live, n_ended, over;
    hypo live[BEAM_MAX], next[BEAM_MAX];
    ended done[BEAM_MAX];
    float *logprobs;              /* [B][V] */
    candidate *cand;              /* [B * per] */
    int32_t *ids;                 /* [per] */
};

void lm_beam_free(lm_beam *s) {
    if (!s) return;
    for (int i = 0; i < s->n_ended; i++) free(s->done[i].tokens);
    for (int i = 0; i < BEAM_MAX; i++) {
        free(s->live[i].tokens);
        free(s->next[i].tokens);
    }
    free(s->logprobs);
    free(s->cand);
    free(s->ids);
    free(s);
}

lm_beam *lm_beam_create(const plume_beam_params *pr, plume_error *err) {
    const int B = pr->n_beams, V = pr->vocab_size, T = pr->max_tokens;
    if (B < 1 || B > BEAM_MAX) {
        plume_fail(err, "beam search: %d beams is out of range (1..%d)", B, BEAM_MAX);
        return NULL;
    }
    if (V < 1 || T < 1) {
        plume_fail(err, "beam search: vocabulary %d and max_tokens %d must be positive", V, T);
        return NULL;
    }
    lm_beam *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->p = *pr;
    s->per = B + 1;
    s->n_live = 1;  /* the prompt alone, in slot 0 */
    s->logprobs = malloc((size_t)B * (size_t)V * sizeof *s->logprobs);
    s->cand = malloc((size_t)B * s->per * sizeof *s->cand);
    s->ids = malloc((size_t)s->per * sizeof *s->ids);
    if (!s->logprobs || !s->cand || !s->ids) goto oom;
    for (int i = 0; i < B; i++) {
        s->live[i].tokens = malloc((size_t)T * sizeof(int32_t));
        s->next[i].tokens = malloc((size_t)T * sizeof(int32_t));
        if (!s->live[i].tokens || !s->next[i].tokens) goto oom;
    }
    return s;
oom:
    lm_beam_free(s);
    plume_fail(err, "beam search: out of memory (%d beams, vocabulary %d, %d tokens)", B, V, T);
    return NULL;
}

float *lm_beam_logprobs(lm_beam *s) {
    return s->logprobs;
}

int lm_beam_pending(const lm_beam *s, int *slots, int32_t *last) {
    if (s->over || s->t >= s->p.max_tokens) return 0;
    for (int i = 0; i < s->n_live; i++) {
        slots[i] = s->live[i].slot;
        last[i] = s->live[i].n ? s->live[i].tokens[s->live[i].n - 1] : -1;
    }
    return s->n_live;
}

const int32_t *lm_beam_pending_tokens(const lm_beam *s, int i, int *n) {
    *n = s->live[i].n;
    return s->live[i].tokens;
}

int lm_beam_advance(lm_beam *s, int (*copy)(void *user, int dst, int src, plume_error *err),
                    int (*finished)(void *user, const int32_t *tokens, int n), void *user, plume_error *err) {
    const plume_beam_params *pr = &s->p;
    const int B = pr->n_beams, V = pr->vocab_size;
    hypo *live = s->live, *next = s->next;
    int children[BEAM_MAX], slot_taken[BEAM_MAX];

    int n_cand = 0;
    for (int i = 0; i < s->n_live; i++) {
        const float *row = s->logprobs + (size_t)i * V;
        int k = top_k_ids(row, V, s->per, s->ids);
        for (int j = 0; j < k; j++)
            s->cand[n_cand++] = (candidate){ live[i].logprob + row[s->ids[j]], i, s->ids[j] };
    }
    qsort(s->cand, (size_t)n_cand, sizeof *s->cand, cmp_candidate);

    int n_next = 0;
    for (int c = 0; c < n_cand && n_next < B; c++) {
        const candidate *cd = &s->cand[c];
        const hypo *h = &live[cd->parent];
        if (ends_hypothesis(pr, cd->token)) {
            double sc = length_score(cd->logprob, h->n + 1, pr->length_penalty);
            if (add_ended(s->done, &s->n_ended, B, h->tokens, h->n, cd->logprob, sc, 1)) goto oom;
            continue;
        }
        hypo *x = &next[n_next];
        memcpy(x->tokens, h->tokens, (size_t)h->n * sizeof(int32_t));
        x->tokens[h->n] = cd->token;
        x->n = h->n + 1;
        x->logprob = cd->logprob;
        x->slot = cd->parent;  /* for now: the parent's index */
        if (finished && finished(user, x->tokens, x->n)) {
            double sc = length_score(x->logprob, x->n, pr->length_penalty);
            if (add_ended(s->done, &s->n_ended, B, x->tokens, x->n, x->logprob, sc, 1)) goto oom;
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
        if (copy(user, free_slot, live[p].slot, err)) return -1;
        next[j].slot = free_slot;
    }
    for (int j = 0; j < n_next; j++) {
        hypo tmp = live[j];
        live[j] = next[j];
        next[j] = tmp;
    }
    s->n_live = n_next;
    s->t++;
    if (n_next == 0) s->over = 1;

    /* Done when B hypotheses ended and the best live one cannot catch up. */
    if (s->n_ended == B && s->n_live > 0) {
        double best_live = length_score(live[0].logprob, live[0].n, pr->length_penalty);
        if (best_live <= worst_score(s->done, s->n_ended)) s->over = 1;
    }
    return 0;
oom:
    return plume_fail(err, "beam search: out of memory");
}

int lm_beam_result(lm_beam *s, plume_beam_result *best, plume_error *err) {
    const plume_beam_params *pr = &s->p;
    memset(best, 0, sizeof *best);
    if (!s->over)  /* stopped by max_tokens: the live hypotheses compete, unfinished */
        for (int i = 0; i < s->n_live; i++)
            if (add_ended(s->done, &s->n_ended, pr->n_beams, s->live[i].tokens, s->live[i].n, s->live[i].logprob,
                          length_score(s->live[i].logprob, s->live[i].n, pr->length_penalty), 0))
                return plume_fail(err, "beam search: out of memory");
    s->n_live = 0;
    s->over = 1;
    if (s->n_ended == 0)
        return plume_fail(err, "beam search: every hypothesis was impossible (all log-probabilities -inf)");
    int w = 0;
    for (int i = 1; i < s->n_ended; i++)
        if (s->done[i].score > s->done[w].score) w = i;
    best->tokens = s->done[w].tokens;
    best->n_tokens = s->done[w].n;
    best->logprob = s->done[w].logprob;
    best->score = s->done[w].score;
    best->finished = s->done[w].finished;
    s->done[w] = s->done[--s->n_ended];
    return 0;
}

int plume_beam_search(const plume_beam_scorer *sc, const plume_beam_params *pr, plume_beam_result *best,
                      plume_error *err) {
    memset(best, 0, sizeof *best);
    lm_beam *s = lm_beam_create(pr, err);
    if (!s) return -1;
    int slots[BEAM_MAX], n, rc = 0;
    int32_t last[BEAM_MAX];
    while (!rc && (n = lm_beam_pending(s, slots, last)) > 0)
        rc = sc->step(sc->user, n, slots, last, s->logprobs, err) ||
             lm_beam_advance(s, sc->copy, sc->finished, sc->user, err);
    rc = rc || lm_beam_result(s, best, err);
    lm_beam_free(s);
    return rc ? -1 : 0;
}
