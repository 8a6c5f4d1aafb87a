/* The training loop end to end on the device:
 *   - memorization: a tiny llama (dim 32, 2 layers, the stories260K tokenizer's 512
 *     tokens) trained for 150 steps on one text: the target-token loss falls below 0.05,
 *     and greedy decoding of the saved GGUF (through plume_lm, the inference path) from
 *     the prompt reproduces the text; the F16 export reproduces it too;
 *   - determinism: two runs with one seed give bitwise identical weights; another seed
 *     does not;
 *   - exact resume: 6 steps, checkpoint (F32 GGUF + optimizer sidecar), resume, 6 more
 *     steps give bitwise the weights of 12 uninterrupted steps (with accumulation);
 *   - the schedules and bad inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "stories_gguf.h"
#include "test_files.h"
#include "plume/convert.h"
#include "plume/gguf.h"
#include "plume/gpu.h"
#include "plume/lm.h"
#include "plume/train.h"
#include "plume/tokenizer.h"

static char tmpdir[256];
static char tok_gguf[300];

static const char *TEXT = "Once upon a time, there was a little girl named Lily. She loved to play with her red "
                          "ball in the park.";

static plume_train_shape tiny_shape(void) {
    return (plume_train_shape){32, 64, 2, 4, 2, 512, 64, 10000.0f, 1e-5f, 0, 0};
}

static plume_trainer *make(const plume_train_params *p, const plume_train_example *ex, int n) {
    plume_error err;
    plume_train_shape s = tiny_shape();
    plume_trainer *t = plume_trainer_create(&s, NULL, p, &err);
    if (!t || plume_trainer_set_data(t, ex, n, &err)) {
        fprintf(stderr, "trainer: %s\n", err.msg);
        exit(1);
    }
    return t;
}

/* All weights, concatenated. */
static float *weights(plume_trainer *t, size_t *n) {
    plume_error err;
    size_t total = 0;
    for (int i = 0; i < plume_trainer_n_params(t); i++) {
        uint32_t r, c;
        plume_trainer_param(t, i, &r, &c);
        total += (size_t)r * c;
    }
    float *w = malloc(total * 4), *at = w;
    for (int i = 0; i < plume_trainer_n_params(t); i++) {
        uint32_t r, c;
        plume_trainer_param(t, i, &r, &c);
        if (plume_trainer_read(t, i, 0, at, &err)) exit(1);
        at += (size_t)r * c;
    }
    *n = total;
    return w;
}

static int steps(plume_trainer *t, int k, plume_train_stats *last) {
    plume_error err;
    for (int i = 0; i < k; i++)
        if (plume_trainer_step(t, last, &err)) {
            fprintf(stderr, "step: %s\n", err.msg);
            return -1;
        }
    return 0;
}

/* Greedy continuation of prompt[0..np) for `want` tokens with the inference path. */
static int greedy(const char *path, const int32_t *prompt, int np, int want, int32_t *out) {
    plume_error err;
    plume_lm *lm = plume_lm_acquire(path, &err);
    if (!lm) {
        fprintf(stderr, "acquire: %s\n", err.msg);
        return -1;
    }
    plume_lm_batch *b = plume_lm_batch_create(lm, 1, 0, &err);
    int vocab = plume_lm_get_info(lm)->vocab_size;
    float *logits = malloc((size_t)vocab * 4);
    int rc = !b || plume_lm_prefill(b, 0, prompt, np, logits, &err);
    int32_t next = 0;
    for (int v = 1; !rc && v < vocab; v++)
        if (logits[v] > logits[next]) next = v;
    for (int i = 0; !rc && i < want; i++) {
        out[i] = next;
        int seq = 0;
        if (i + 1 < want) rc = plume_lm_decode(b, 1, &seq, &next, NULL, &next, &err);
    }
    if (rc) fprintf(stderr, "generate: %s\n", err.msg);
    free(logits);
    plume_lm_batch_free(b);
    plume_lm_release(lm);
    return rc ? -1 : 0;
}

static void test_memorize(void) {
    plume_error err;
    plume_gguf *g = NULL;
    plume_tokenizer *tok = NULL;
    if (plume_gguf_open(&g, tok_gguf, &err) || plume_tokenizer_from_gguf(&tok, g, &err)) {
        fprintf(stderr, "tokenizer: %s\n", err.msg);
        exit(1);
    }
    plume_gguf_close(g);
    int32_t *ids;
    size_t n;
    if (plume_tokenize(tok, TEXT, strlen(TEXT), true, &ids, &n, &err)) exit(1);
    const int np = 4;
    plume_train_example ex = {ids, (int)n, np, NULL};
    plume_train_params p;
    plume_train_params_default(&p);
    p.lr = 1e-2;
    p.min_lr = 1e-3;
    p.warmup = 10;
    p.decay = PLUME_DECAY_COSINE;
    p.steps = 150;
    p.batch = 1;
    p.seq_len = (int)n - 1;
    p.weight_decay = 0.0;
    plume_trainer *t = make(&p, &ex, 1);
    plume_train_stats st, first;
    CHECK(steps(t, 1, &first) == 0);
    CHECK(steps(t, p.steps - 1, &st) == 0);
    printf("memorize: %zu tokens, loss %.4f at step 1, %.4f at step %d\n", n, first.loss, st.loss, st.step);
    CHECK(first.loss > 5.0);    /* about log(512) = 6.2 at the start */
    CHECK_MSG(st.loss < 0.05, "loss after %d steps: %g (bound 0.05)", st.step, st.loss);
    double ev;
    CHECK(plume_trainer_eval(t, &ex, 1, &ev, &err) == 0);
    CHECK_MSG(ev < 0.05, "eval loss %g", ev);

    char path[400], path16[400], path8[400];
    snprintf(path, sizeof path, "%s/mem.gguf", tmpdir);
    snprintf(path16, sizeof path16, "%s/mem-f16.gguf", tmpdir);
    snprintf(path8, sizeof path8, "%s/mem-q8.gguf", tmpdir);
    CHECK(plume_trainer_save(t, path, PLUME_GGML_F32, tok_gguf, &err) == 0);
    CHECK(plume_trainer_save(t, path16, PLUME_GGML_F16, tok_gguf, &err) == 0);
    CHECK(plume_trainer_save(t, path8, PLUME_GGML_Q8_0, tok_gguf, &err) == 0);
    int want = (int)n - np;
    int32_t *out = calloc((size_t)want, sizeof *out);
    for (int k = 0; k < 2; k++) {
        memset(out, 0, (size_t)want * sizeof *out);
        CHECK(greedy(k ? path16 : path, ids, np, want, out) == 0);
        char *text;
        size_t len;
        int32_t *all = malloc(n * sizeof *all);
        memcpy(all, ids, (size_t)np * sizeof *all);
        memcpy(all + np, out, (size_t)want * sizeof *all);
        if (plume_detokenize(tok, all, n, &text, &len, &err) == 0) {
            CHECK_STR(text, TEXT);
            free(text);
        } else {
            CHECK(0);
        }
        free(all);
    }
    /* the Q8_0 export loads and is smaller */
    FILE *f32 = fopen(path, "rb"), *f8 = fopen(path8, "rb");
    if (f32 && f8) {
        fseek(f32, 0, SEEK_END);
        fseek(f8, 0, SEEK_END);
        CHECK(ftell(f8) < ftell(f32) / 2);
    }
    if (f32) fclose(f32);
    if (f8) fclose(f8);
    CHECK(greedy(path8, ids, np, 4, out) == 0);
    free(out);
    free(ids);
    plume_tokenizer_free(tok);
    plume_trainer_free(t);
    remove(path);
    remove(path16);
    remove(path8);
}

/* Six short examples over a 512-token vocabulary. */
static int32_t data_tok[6][12];
static plume_train_example data[6];
static void make_data(void) {
    for (int e = 0; e < 6; e++) {
        int n = 6 + e;
        data_tok[e][0] = 1;
        for (int j = 1; j < n; j++) data_tok[e][j] = (int32_t)((e * 37 + j * 11) % 500 + 3);
        data[e] = (plume_train_example){data_tok[e], n, 1 + e % 3, NULL};
    }
}

static plume_train_params small_params(uint64_t seed) {
    plume_train_params p;
    plume_train_params_default(&p);
    p.lr = 3e-3;
    p.warmup = 3;
    p.decay = PLUME_DECAY_LINEAR;
    p.steps = 12;
    p.batch = 2;
    p.accum = 2;
    p.seq_len = 8;
    p.clip = 0.5;
    p.seed = seed;
    return p;
}

static void test_determinism_and_resume(void) {
    plume_error err;
    plume_train_params p = small_params(7);
    plume_trainer *a = make(&p, data, 6), *b = make(&p, data, 6);
    plume_train_stats sa, sb;
    CHECK(steps(a, 12, &sa) == 0 && steps(b, 12, &sb) == 0);
    size_t na, nb;
    float *wa = weights(a, &na), *wb = weights(b, &nb);
    CHECK_MSG(na == nb && memcmp(wa, wb, na * 4) == 0, "two runs with one seed differ");
    CHECK(sa.loss == sb.loss && sa.grad_norm == sb.grad_norm);
    plume_train_params q = small_params(8);
    plume_trainer *c = make(&q, data, 6);
    CHECK(steps(c, 12, &sb) == 0);
    size_t nc;
    float *wc = weights(c, &nc);
    CHECK_MSG(memcmp(wa, wc, na * 4) != 0, "another seed gives the same weights");
    free(wc);
    plume_trainer_free(c);

    /* interrupted: 6 steps, checkpoint, a fresh trainer from the checkpoint, 6 more */
    char gg[400], st[400];
    snprintf(gg, sizeof gg, "%s/ck.gguf", tmpdir);
    snprintf(st, sizeof st, "%s/ck.optim", tmpdir);
    plume_trainer *d = make(&p, data, 6);
    CHECK(steps(d, 6, NULL) == 0);
    CHECK(plume_trainer_save(d, gg, PLUME_GGML_F32, NULL, &err) == 0);
    CHECK(plume_trainer_save_state(d, st, &err) == 0);
    plume_trainer_free(d);
    plume_trainer *r = plume_trainer_create(NULL, gg, &p, &err);
    CHECK(r != NULL);
    if (r) {
        CHECK(plume_trainer_load_state(r, st, &err) == 0);
        CHECK(plume_trainer_step_count(r) == 6);
        CHECK(plume_trainer_set_data(r, data, 6, &err) == 0);
        CHECK(steps(r, 6, NULL) == 0);
        size_t nr;
        float *wr = weights(r, &nr);
        CHECK_MSG(nr == na && memcmp(wa, wr, na * 4) == 0, "resumed run differs from the uninterrupted one");
        free(wr);
        /* a sidecar from another seed is refused */
        plume_train_params q2 = small_params(9);
        plume_trainer *x = plume_trainer_create(NULL, gg, &q2, &err);
        CHECK(x && plume_trainer_load_state(x, st, &err) == -1 && strstr(err.msg, "seed"));
        plume_trainer_free(x);
        plume_trainer_free(r);
    }
    /* damaged sidecar */
    FILE *f = fopen(st, "r+b");
    if (f) {
        fseek(f, 40, SEEK_SET);
        fputc(0x7f, f);
        fclose(f);
        plume_trainer *y = plume_trainer_create(NULL, gg, &p, &err);
        CHECK(y && plume_trainer_load_state(y, st, &err) == -1);
        if (y) printf("damaged sidecar: %s\n", err.msg);
        plume_trainer_free(y);
    }
    remove(gg);
    remove(st);
    free(wa);
    free(wb);
    plume_trainer_free(a);
    plume_trainer_free(b);
}

/* Accumulation: batch 1 x 2 micro-batches equals batch 2 x 1 (the loss is averaged over the
 * step's target tokens either way); only the order of float sums differs. */
static void test_accumulation(void) {
    plume_train_params p = small_params(5), q = small_params(5);
    p.batch = 2;
    p.accum = 1;
    q.batch = 1;
    q.accum = 2;
    plume_trainer *a = make(&p, data, 6), *b = make(&q, data, 6);
    plume_train_stats sa, sb;
    CHECK(steps(a, 1, &sa) == 0 && steps(b, 1, &sb) == 0);
    CHECK(sa.tokens == sb.tokens && sa.tokens > 0);
    CHECK_NEAR(sa.loss, sb.loss, 1e-6 * sa.loss);
    CHECK_NEAR(sa.grad_norm, sb.grad_norm, 1e-5 * sa.grad_norm);
    size_t na, nb;
    float *wa = weights(a, &na), *wb = weights(b, &nb);
    double worst = 0;
    for (size_t i = 0; i < na && na == nb; i++) worst = fmax(worst, fabs((double)wa[i] - wb[i]));
    CHECK_MSG(na == nb && worst < 1e-6, "one step with accumulation differs by %g", worst);
    free(wa);
    free(wb);
    plume_trainer_free(a);
    plume_trainer_free(b);
}

/* Examples a and b give the same positive loss and the same gradient (of the first
 * parameter, the embedding), bit for bit. */
static void check_same_gradient(plume_trainer *t, const plume_train_example *a, const plume_train_example *b,
                                const char *what) {
    plume_error err;
    double la = 0, lb = 0;
    uint32_t r, c;
    plume_trainer_param(t, 0, &r, &c);
    float *ga = malloc((size_t)r * c * 4), *gb = malloc((size_t)r * c * 4);
    CHECK(plume_trainer_gradients(t, a, 1, &la, &err) == 0 && plume_trainer_read(t, 0, 1, ga, &err) == 0);
    CHECK(plume_trainer_gradients(t, b, 1, &lb, &err) == 0 && plume_trainer_read(t, 0, 1, gb, &err) == 0);
    CHECK_MSG(la == lb && la > 0, "%s: losses %.9g and %.9g", what, la, lb);
    CHECK_MSG(memcmp(ga, gb, (size_t)r * c * 4) == 0, "%s: the gradients differ", what);
    free(ga);
    free(gb);
}

/* A long example keeps the start of its prompt and its whole target: its gradient is the
 * gradient of that shorter example, bit for bit. */
static void test_long_prompt(void) {
    plume_train_params p = small_params(4);
    p.batch = 1;
    p.seq_len = 6;
    plume_trainer *t = make(&p, data, 1);
    const int32_t longer[] = {1, 40, 41, 42, 43, 44, 45, 46, 47, 50, 51, 52};   /* prompt 9, target 3 */
    const int32_t shorter[] = {1, 40, 41, 42, 50, 51, 52};                       /* prompt 4, target 3 */
    plume_train_example a = {longer, 12, 9, NULL}, b = {shorter, 7, 4, NULL};
    check_same_gradient(t, &a, &b, "a long prompt");
    plume_trainer_free(t);
}

/* A row that names its targets (a packed row): naming what the prompt rule would gives
 * the same loss and gradient bit for bit; naming one token alone gives that token's
 * cross-entropy, which two prompt lengths of the rule give independently: with targets
 * p..n-1 the loss is their mean, with p+1..n-1 the mean of one fewer. The step's training
 * path (set_data + step) sees the same total of targets as the examples name. */
static void test_named_targets(void) {
    plume_error err;
    plume_train_params p = small_params(4);
    p.batch = 2;
    p.seq_len = 10;
    plume_trainer *t = make(&p, data, 1);
    const int32_t toks[] = {1, 40, 41, 42, 43, 50, 51, 52, 53};
    const int n = 9, prompt = 4;
    uint8_t rule[9], one[9] = {0};
    for (int j = 0; j < n; j++) rule[j] = (uint8_t)(j >= prompt);
    plume_train_example plain = {toks, n, prompt, NULL}, named = {toks, n, 1, rule};
    check_same_gradient(t, &plain, &named, "targets named as the prompt rule would");
    for (int at = prompt; at < n - 1; at++) {
        plume_train_example from = {toks, n, at, NULL}, after = {toks, n, at + 1, NULL}, single = {toks, n, 1, one};
        double l_from, l_after, l_one;
        memset(one, 0, sizeof one);
        one[at] = 1;
        CHECK(plume_trainer_eval(t, &from, 1, &l_from, &err) == 0 && plume_trainer_eval(t, &after, 1, &l_after, &err) == 0 &&
              plume_trainer_eval(t, &single, 1, &l_one, &err) == 0);
        double want = l_from * (n - at) - l_after * (n - at - 1);
        CHECK_MSG(fabs(l_one - want) < 1e-4 * (1 + fabs(want)), "token %d: %.7g, from the rule %.7g", at, l_one, want);
    }
    /* no target named at all: an evaluation has nothing to average */
    memset(one, 0, sizeof one);
    plume_train_example none = {toks, n, 1, one};
    double l;
    CHECK(plume_trainer_eval(t, &none, 1, &l, &err) == -1);
    /* training on the named row takes the same step as on the plain example */
    plume_trainer *u = make(&p, &plain, 1), *v = make(&p, &named, 1);
    plume_train_stats su, sv;
    CHECK(plume_trainer_step(u, &su, &err) == 0 && plume_trainer_step(v, &sv, &err) == 0);
    CHECK_MSG(su.loss == sv.loss && su.tokens == sv.tokens && su.tokens == (long)p.batch * p.accum * (n - prompt), "losses %.9g, %.9g; targets %ld, %ld",
              su.loss, sv.loss, su.tokens, sv.tokens);
    size_t nu, nv;
    float *wu = weights(u, &nu), *wv = weights(v, &nv);
    CHECK(nu == nv && memcmp(wu, wv, nu * sizeof *wu) == 0);
    free(wu);
    free(wv);
    plume_trainer_free(u);
    plume_trainer_free(v);
    plume_trainer_free(t);
}

static void test_schedule_and_errors(void) {
    plume_train_params p;
    plume_train_params_default(&p);
    p.lr = 1.0;
    p.min_lr = 0.1;
    p.warmup = 4;
    p.steps = 14;
    CHECK_NEAR(plume_train_lr(&p, 0), 0.25, 1e-12);
    CHECK_NEAR(plume_train_lr(&p, 3), 1.0, 1e-12);
    p.decay = PLUME_DECAY_LINEAR;
    CHECK_NEAR(plume_train_lr(&p, 9), 0.55, 1e-12);   /* half way: 0.1 + 0.9 * 0.5 */
    CHECK_NEAR(plume_train_lr(&p, 14), 0.1, 1e-12);
    p.decay = PLUME_DECAY_COSINE;
    CHECK_NEAR(plume_train_lr(&p, 9), 0.55, 1e-12);
    CHECK_NEAR(plume_train_lr(&p, 4), 1.0, 1e-12);
    p.decay = PLUME_DECAY_SQRT;
    CHECK_NEAR(plume_train_lr(&p, 15), 0.5, 1e-12);   /* sqrt(4 / 16) */
    CHECK_NEAR(plume_train_lr(&p, 1000), 0.1, 1e-12); /* floored at min_lr */
    plume_decay d;
    CHECK(plume_decay_parse("sqrt", &d) == 0 && d == PLUME_DECAY_SQRT);
    CHECK(plume_decay_parse("exp", &d) == -1);

    plume_error err;
    plume_train_shape bad = tiny_shape();
    bad.n_kv_heads = 3;
    plume_train_params_default(&p);
    p.seq_len = 8;
    CHECK(plume_trainer_create(&bad, NULL, &p, &err) == NULL && strstr(err.msg, "shape"));
    plume_train_shape s = tiny_shape();
    p.seq_len = 65;
    CHECK(plume_trainer_create(&s, NULL, &p, &err) == NULL && strstr(err.msg, "seq_len"));
    p.seq_len = 8;
    plume_trainer *t = plume_trainer_create(&s, NULL, &p, &err);
    CHECK(t != NULL);
    if (t) {
        int32_t toks[3] = {1, 600, 2};
        plume_train_example e = {toks, 3, 1, NULL};
        CHECK(plume_trainer_set_data(t, &e, 1, &err) == -1 && strstr(err.msg, "vocabulary"));
        toks[1] = 5;
        e.n_prompt = 3;
        CHECK(plume_trainer_set_data(t, &e, 1, &err) == -1 && strstr(err.msg, "example 0"));
        CHECK(plume_trainer_step(t, NULL, &err) == -1 && strstr(err.msg, "no training data"));
        plume_trainer_free(t);
    }
    CHECK(plume_trainer_create(NULL, "/nonexistent.gguf", &p, &err) == NULL);
}

int main(void) {
    make_test_dir(tmpdir, sizeof tmpdir, "plume-train");
    snprintf(tok_gguf, sizeof tok_gguf, "%s/tok.gguf", tmpdir);
    /* the tokenizer comes from stories260K converted to GGUF */
    if (convert_stories260k(tok_gguf)) return 1;
    make_data();
    test_schedule_and_errors();
    test_determinism_and_resume();
    test_accumulation();
    test_long_prompt();
    test_named_targets();
    test_memorize();
    remove(tok_gguf);
    rmdir(tmpdir);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_train_loop");
}
