/* Beam search over a hand-made scorer whose next-token distribution depends on the
 * whole history held in the slot. The scorer keeps each slot's history itself
 * (appending the newest token on each step, copying on fork), so a wrong slot
 * reassignment changes the scores and the answer. Tokens: 0 EOS, 1 a, 2 b, 3 c.
 *
 *   []      a .5   b .4   c .1
 *   [a]     a .35  b .35  c .3
 *   [b]     EOS .3 a .35  b .35
 *   [a a]   EOS .1 c .9
 *   [a b], [a c], [a a c], anything else: EOS 1
 *
 * Greedy (1 beam): a, a (first of the tie), c, EOS: a a c, p = .5 * .35 * .9 = .1575.
 * 2 beams, no length penalty: after step 2 the beams are a a (.175) and a b (.175,
 * in a copied slot); step 3 ends a b with EOS (.175) and keeps a a c (.1575), which
 * ends at step 4 with .1575 < .175: the answer is a b, p = .175.
 * 2 beams, length penalty 1 (divide by new tokens, EOS included): a b scores
 * ln(.175)/3 = -0.581, a a c ln(.1575)/4 = -0.462: the answer is a a c. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "plume/lm.h"

enum { V = 4, SLOTS = 8, MAXLEN = 16 };

typedef struct scorer_state {
    int32_t hist[SLOTS][MAXLEN];
    int len[SLOTS];
    int copies, steps;
} scorer_state;

static void dist(const int32_t *h, int n, double *p) {
    for (int i = 0; i < V; i++) p[i] = 0;
    if (n == 0) { p[1] = .5; p[2] = .4; p[3] = .1; }
    else if (n == 1 && h[0] == 1) { p[1] = .35; p[2] = .35; p[3] = .3; }
    else if (n == 1 && h[0] == 2) { p[0] = .3; p[1] = .35; p[2] = .35; }
    else if (n == 2 && h[0] == 1 && h[1] == 1) { p[0] = .1; p[3] = .9; }
    else p[0] = 1;
}

static int step(void *user, int n, const int *slots, const int32_t *last, float *logprobs, plume_error *err) {
    scorer_state *st = user;
    st->steps++;
    for (int i = 0; i < n; i++) {
        int s = slots[i];
        if (s < 0 || s >= SLOTS) return plume_fail(err, "bad slot %d", s);
        if (last[i] >= 0) {
            if (st->len[s] >= MAXLEN) return plume_fail(err, "slot %d overflows", s);
            st->hist[s][st->len[s]++] = last[i];
        }
        double p[V];
        dist(st->hist[s], st->len[s], p);
        for (int v = 0; v < V; v++) logprobs[i * V + v] = p[v] > 0 ? (float)log(p[v]) : -INFINITY;
    }
    return 0;
}

static int copy(void *user, int dst, int src, plume_error *err) {
    scorer_state *st = user;
    st->copies++;
    for (int i = 0; i < st->len[src]; i++) st->hist[dst][i] = st->hist[src][i];
    st->len[dst] = st->len[src];
    return 0;
}

static int run(int beams, float penalty, plume_beam_result *r, scorer_state *st) {
    *st = (scorer_state){ 0 };
    plume_beam_scorer sc = { st, step, copy, NULL };
    plume_beam_params pr = { beams, V, 10, 0, penalty, NULL, 0 };
    plume_error err;
    int rc = plume_beam_search(&sc, &pr, r, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    return rc;
}

int main(void) {
    plume_beam_result r;
    scorer_state st;

    CHECK(run(1, 0.0f, &r, &st) == 0);
    CHECK(r.n_tokens == 3 && r.tokens[0] == 1 && r.tokens[1] == 1 && r.tokens[2] == 3);
    CHECK_NEAR(r.logprob, log(.1575), 1e-5);
    CHECK(r.finished == 1);
    CHECK(st.copies == 0);
    free(r.tokens);

    CHECK(run(2, 0.0f, &r, &st) == 0);
    CHECK(r.n_tokens == 2 && r.tokens[0] == 1 && r.tokens[1] == 2);
    CHECK_NEAR(r.logprob, log(.175), 1e-5);
    CHECK(st.copies >= 1);  /* a b forked from a */
    free(r.tokens);

    CHECK(run(2, 1.0f, &r, &st) == 0);
    CHECK(r.n_tokens == 3 && r.tokens[0] == 1 && r.tokens[1] == 1 && r.tokens[2] == 3);
    CHECK_NEAR(r.score, log(.1575) / 4, 1e-5);
    free(r.tokens);

    /* more beams than distinct paths: still the best full sequence */
    CHECK(run(4, 0.0f, &r, &st) == 0);
    CHECK(r.n_tokens == 2 && r.tokens[0] == 1 && r.tokens[1] == 2);
    free(r.tokens);

    /* max_tokens cuts: one token allowed, the best single token, unfinished */
    *(&st) = (scorer_state){ 0 };
    plume_beam_scorer sc = { &st, step, copy, NULL };
    plume_beam_params pr = { 2, V, 1, 0, 0.0f, NULL, 0 };
    plume_error err;
    CHECK(plume_beam_search(&sc, &pr, &r, &err) == 0);
    CHECK(r.n_tokens == 1 && r.tokens[0] == 1 && r.finished == 0);
    free(r.tokens);

    /* c declared an end-of-turn token: greedy takes a, a, then c (.9) ends it as EOS would:
     * the tokens are a a, finished, with p = .5 * .35 * .9 (c's probability counted, as EOS's is) */
    st = (scorer_state){ 0 };
    const int32_t end_of_turn[1] = { 3 };
    plume_beam_params eot = { 1, V, 10, 0, 0.0f, end_of_turn, 1 };
    CHECK(plume_beam_search(&sc, &eot, &r, &err) == 0);
    CHECK(r.n_tokens == 2 && r.tokens[0] == 1 && r.tokens[1] == 1 && r.finished == 1);
    CHECK_NEAR(r.logprob, log(.5 * .35 * .9), 1e-5);
    free(r.tokens);

    pr.n_beams = 0;
    CHECK(plume_beam_search(&sc, &pr, &r, &err) == -1);
    return check_finish("test_beam");
}
