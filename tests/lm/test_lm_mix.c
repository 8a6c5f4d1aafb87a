/* Mixing a sparse distribution into the next token's (plume_lm_batch_set_mix, plume_gen_params.mix)
 * with the shipped stories260K model:
 *   - the logits a prefill and a decode read back are the mixture: softmax(mixed) equals
 *     (1 - w) softmax(plain) + w q, the plain logits coming from a twin sequence without a mix;
 *   - a mix is used once; bad mixes are refused with what is wrong;
 *   - generation calls the mixer before every step with the prompt and the tokens so far, and a
 *     mixture that puts 0.99999 on one token makes greedy decoding, beam search, device top-k
 *     draws and host top-p draws all write that token. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "lm_test_util.h"
#include "plume/gpu.h"
#include "plume/lm.h"

static void softmax(const float *x, int n, double *p) {
    double mx = -INFINITY, s = 0;
    for (int j = 0; j < n; j++) mx = fmax(mx, x[j]);
    for (int j = 0; j < n; j++) s += (p[j] = exp(x[j] - mx));
    for (int j = 0; j < n; j++) p[j] /= s;
}

/* max relative error of softmax(mixed) against the mixture of softmax(plain) and q */
static double mixture_error(const float *plain, const float *mixed, int V, const plume_mix *m) {
    double *p = malloc(V * sizeof *p), *want = malloc(V * sizeof *want), total = 0, worst = 0;
    softmax(plain, V, p);
    for (int i = 0; i < m->n; i++) total += m->probs[i];
    for (int j = 0; j < V; j++) want[j] = (1 - m->weight) * p[j];
    for (int i = 0; i < m->n; i++) want[m->tokens[i]] += m->weight * m->probs[i] / total;
    softmax(mixed, V, p);
    for (int j = 0; j < V; j++) worst = fmax(worst, fabs(p[j] - want[j]) / fmax(want[j], 1e-7));
    free(p);
    free(want);
    return worst;
}

static void test_logits(plume_lm *lm) {
    plume_error err;
    const int V = plume_lm_get_info(lm)->vocab_size;
    int32_t prompt[64];
    int n = plume_lm_tokenize(lm, "Once upon a time, there was a little girl", 1, prompt, 64, &err);
    CHECK(n > 3);
    plume_lm_batch *b = plume_lm_batch_create(lm, 2, 0, &err);
    CHECK(b != NULL);
    if (!b || n <= 3) return;
    float *l0 = malloc(2 * (size_t)V * sizeof *l0), *l1 = l0 + V;
    int32_t toks[3] = { 300, 17, 401 };
    float probs[3] = { 2, 1, 1 };   /* normalized to 0.5, 0.25, 0.25 */
    plume_mix m = { 3, toks, probs, 0.4f };
    CHECK(plume_lm_batch_set_mix(b, 1, &m, &err) == 0);
    CHECK(plume_lm_prefill(b, 0, prompt, n, l0, &err) == 0);
    CHECK(plume_lm_prefill(b, 1, prompt, n, l1, &err) == 0);
    CHECK_MSG(mixture_error(l0, l1, V, &m) < 1e-4, "prefill: %g", mixture_error(l0, l1, V, &m));
    /* one decode of both sequences, the mix on sequence 0 this time */
    int seqs[2] = { 0, 1 };
    int32_t next[2] = { 300, 300 };
    m.weight = 0.75f;
    CHECK(plume_lm_batch_set_mix(b, 0, &m, &err) == 0);
    CHECK(plume_lm_decode(b, 2, seqs, next, l0, NULL, &err) == 0);
    CHECK_MSG(mixture_error(l1, l0, V, &m) < 1e-4, "decode: %g", mixture_error(l1, l0, V, &m));
    /* used once: the next step of both is plain, and the two sequences agree again */
    int32_t again[2] = { 17, 17 };
    CHECK(plume_lm_decode(b, 2, seqs, again, l0, NULL, &err) == 0);
    CHECK(memcmp(l0, l1, (size_t)V * sizeof *l0) == 0);
    /* bad mixes */
    int32_t twice[2] = { 5, 5 }, outside[1] = { V };
    float one[2] = { 1, 1 }, zero[1] = { 0 };
    plume_mix bad[4] = { { 2, twice, one, 0.5f }, { 1, outside, one, 0.5f }, { 1, toks, one, 1.0f },
                         { 1, toks, zero, 0.5f } };
    const char *why[4] = { "twice", "out of range", "out of range", "out of range" };
    for (int i = 0; i < 4; i++) {
        CHECK(plume_lm_batch_set_mix(b, 0, &bad[i], &err) == -1);
        CHECK_MSG(strstr(err.msg, why[i]) != NULL, "%s", err.msg);
    }
    CHECK(plume_lm_batch_set_mix(b, 2, &m, &err) == -1 && strstr(err.msg, "does not exist"));
    plume_mix too_many = { PLUME_MIX_MAX + 1, toks, probs, 0.5f };
    CHECK(plume_lm_batch_set_mix(b, 0, &too_many, &err) == -1);
    free(l0);
    plume_lm_batch_free(b);
}

/* The mixer of the generation tests: all mass on one token; it checks the history it is given. */
typedef struct mixer {
    int32_t token;
    float prob;
    int calls, bad_history, n_prompt;
    int one_path;   /* sampling: the history so far is all the token (beams keep other hypotheses too) */
} mixer;

static int mix_one(void *user, int i, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                   plume_mix *mix) {
    mixer *x = user;
    (void)prompt;
    x->calls++;
    if (i != 0 || n_prompt != x->n_prompt) x->bad_history++;
    for (int k = 0; x->one_path && k < n_gen; k++)
        if (gen[k] != x->token) x->bad_history++;   /* every earlier step chose the token */
    *mix = (plume_mix){ 1, &x->token, &x->prob, 0.99999f };
    return 0;
}

static int mix_fail(void *user, int i, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                    plume_mix *mix) {
    (void)user, (void)i, (void)prompt, (void)n_prompt, (void)gen, (void)n_gen, (void)mix;
    return -1;
}

static void test_generate(plume_lm *lm) {
    plume_error err;
    const char *prompt = "Once upon a time";
    int32_t ids[16];
    int n_prompt = plume_lm_tokenize(lm, prompt, -1, ids, 16, &err);
    const char *mode[4] = { "greedy", "beams", "top-k on the device", "top-p on the host" };
    for (int k = 0; k < 4; k++) {
        plume_gen_params p;
        plume_gen_params_default(&p);
        p.max_tokens = 12;
        if (k == 1) p.beams = 4;
        if (k == 2) p.sampling = (plume_sampling){ 1.0f, 40, 1.0f, 7 };
        if (k == 3) p.sampling = (plume_sampling){ 1.0f, 0, 0.95f, 7 };
        mixer x = { 300, 1.0f, 0, 0, n_prompt, k != 1 };
        p.mix = mix_one;
        p.mix_user = &x;
        plume_gen_result r;
        CHECK(plume_lm_generate(lm, &prompt, 1, &p, &r, &err) == 0);
        int all = r.n_tokens == 12;
        for (int i = 0; i < r.n_tokens; i++) all &= r.tokens[i] == 300;
        CHECK_MSG(all, "%s: %d tokens, not all the mixed-in one", mode[k], r.n_tokens);
        CHECK_MSG(x.calls >= 12 && x.bad_history == 0, "%s: %d calls, %d bad histories", mode[k], x.calls,
                  x.bad_history);
        plume_gen_result_free(&r);
    }
    /* a mixer that fails fails the generation, naming the prompt */
    plume_gen_params p;
    plume_gen_params_default(&p);
    p.max_tokens = 4;
    p.mix = mix_fail;
    plume_gen_result r;
    CHECK(plume_lm_generate(lm, &prompt, 1, &p, &r, &err) == -1 && strstr(err.msg, "mixture of prompt 0"));
    /* without a mixer the model writes something else: the checks above are the mixture's doing */
    p.mix = NULL;
    CHECK(plume_lm_generate(lm, &prompt, 1, &p, &r, &err) == 0);
    int plain_first = r.n_tokens ? r.tokens[0] : -1;
    plume_gen_result_free(&r);
    CHECK(plain_first != 300);
}

int main(void) {
    plume_lm *lm = acquire_stories260k();
    if (!lm) return 1;
    test_logits(lm);
    test_generate(lm);
    plume_lm_release(lm);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_lm_mix");
}
