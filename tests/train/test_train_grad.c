/* The whole model's gradient: a tiny llama (2 layers, dim 16, 4 heads over 2 KV heads,
 * untied and tied classifiers) on the device, against central finite differences of the
 * mean target-token cross-entropy computed with the reference forward pass
 * (tests/lm/ref_forward.c, one token at a time, double accumulation).
 * Two examples in one micro-batch, one shorter than seq_len (padding) and with prompts
 * of different lengths (the mask). Step h = 1e-3 on float weights; tolerance
 * |gpu - fd| <= 1e-3 + 3e-2 |fd|, several entries of every tensor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "plume/convert.h"
#include "plume/gguf.h"
#include "plume/gpu.h"
#include "plume/train.h"
#include "ref_forward.h"

static uint64_t rs = 12345;
static float frand(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0 * 2 - 1);
}

static const int32_t ex0[] = {1, 5, 9, 2, 17, 4, 4, 11, 3};  /* longer than seq_len + 1: cut */
static const int32_t ex1[] = {1, 7, 20, 13, 6};
static const plume_train_example examples[2] = {{ex0, 9, 3, NULL}, {ex1, 5, 2, NULL}};
enum { SEQ = 6 };

/* What a sequence of SEQ tokens keeps of an example (train.h): all of it when it fits, else
 * the prompt's start and the target, the prompt's end dropped first. ex0 (prompt 3, target 6)
 * keeps BOS + its 6 target tokens. */
static int view(const plume_train_example *e, int32_t *dst, int *prompt) {
    int keep = SEQ + 1, target = e->n_tokens - e->n_prompt;
    if (e->n_tokens <= keep) {
        memcpy(dst, e->tokens, (size_t)e->n_tokens * sizeof *dst);
        *prompt = e->n_prompt;
        return e->n_tokens;
    }
    int head = keep - target < 1 ? 1 : keep - target > e->n_prompt ? e->n_prompt : keep - target;
    for (int j = 0; j < keep; j++) dst[j] = j < head ? e->tokens[j] : e->tokens[e->n_prompt + j - head];
    *prompt = head;
    return keep;
}

/* Mean cross-entropy of the target tokens under the reference forward. */
static double ref_loss(const ref_model *m, ref_state *s) {
    double sum = 0;
    int count = 0;
    for (int e = 0; e < 2; e++) {
        int32_t tok[SEQ + 1];
        int np, n = view(&examples[e], tok, &np);
        for (int j = 0; j + 1 < n; j++) {
            float *z = ref_forward(m, s, tok[j], j);
            if (j + 1 < np) continue;
            double mx = z[0], l = 0;
            for (int v = 1; v < m->vocab; v++) mx = fmax(mx, z[v]);
            for (int v = 0; v < m->vocab; v++) l += exp(z[v] - mx);
            sum += mx + log(l) - z[tok[j + 1]];
            count++;
        }
    }
    return sum / count;
}

/* Where parameter NAME lives in the reference model. */
static float *ref_slot(ref_model *m, const char *name) {
    const size_t d = (size_t)m->dim, h = (size_t)m->hidden_dim, kv = d / (size_t)m->n_heads * (size_t)m->n_kv_heads;
    int l = -1;
    char suffix[64] = "";
    if (sscanf(name, "blk.%d.%63s", &l, suffix) != 2) l = -1;
    if (!strcmp(name, "token_embd.weight")) return m->tok_embd;
    if (!strcmp(name, "output_norm.weight")) return m->out_norm;
    if (!strcmp(name, "output.weight")) return m->wcls;
    if (!strcmp(suffix, "attn_norm.weight")) return m->attn_norm + l * d;
    if (!strcmp(suffix, "ffn_norm.weight")) return m->ffn_norm + l * d;
    if (!strcmp(suffix, "attn_q.weight")) return m->wq + l * d * d;
    if (!strcmp(suffix, "attn_k.weight")) return m->wk + l * kv * d;
    if (!strcmp(suffix, "attn_v.weight")) return m->wv + l * kv * d;
    if (!strcmp(suffix, "attn_output.weight")) return m->wo + l * d * d;
    if (!strcmp(suffix, "ffn_gate.weight")) return m->w1 + l * h * d;
    if (!strcmp(suffix, "ffn_down.weight")) return m->w2 + l * d * h;
    if (!strcmp(suffix, "ffn_up.weight")) return m->w3 + l * h * d;
    return NULL;
}

static void check_model(int tied) {
    plume_error err;
    plume_train_shape shape = {16, 32, 2, 4, 2, 23, 8, 10000.0f, 1e-5f, tied, 0};
    plume_train_params p;
    plume_train_params_default(&p);
    p.batch = 2;
    p.seq_len = SEQ;
    plume_trainer *t = plume_trainer_create(&shape, NULL, &p, &err);
    if (!t) {
        fprintf(stderr, "trainer: %s\n", err.msg);
        CHECK(0);
        return;
    }
    ref_model m = {0};
    m.dim = 16; m.hidden_dim = 32; m.n_layers = 2; m.n_heads = 4; m.n_kv_heads = 2; m.vocab = 23; m.seq_len = 8;
    m.rope_base = 10000.0f; m.norm_eps = 1e-5f; m.rope_neox = 0;
    ref_state s;
    if (ref_alloc(&m, tied) || ref_state_alloc(&s, &m)) exit(1);
    /* larger weights than the init, so the gradients are well above the float noise */
    for (int i = 0; i < plume_trainer_n_params(t); i++) {
        uint32_t r, c;
        const char *name = plume_trainer_param(t, i, &r, &c);
        float *w = ref_slot(&m, name);
        CHECK_MSG(w != NULL, "no reference slot for %s", name);
        if (!w) continue;
        for (uint32_t j = 0; j < r * c; j++) w[j] = r == 1 ? 1.0f + 0.3f * frand() : 0.4f * frand();
        if (plume_trainer_write(t, i, w, &err)) fprintf(stderr, "write: %s\n", err.msg);
    }
    double loss;
    if (plume_trainer_gradients(t, examples, 2, &loss, &err)) {
        fprintf(stderr, "gradients: %s\n", err.msg);
        CHECK(0);
        return;
    }
    double want = ref_loss(&m, &s);
    CHECK_NEAR(loss, want, 1e-4 * want);
    double worst = 0;
    int checked = 0;
    for (int i = 0; i < plume_trainer_n_params(t); i++) {
        uint32_t r, c;
        const char *name = plume_trainer_param(t, i, &r, &c);
        float *w = ref_slot(&m, name), *g = malloc((size_t)r * c * 4);
        if (!w || plume_trainer_read(t, i, 1, g, &err)) exit(1);
        for (int k = 0; k < 8; k++) {
            uint32_t j = (uint32_t)((k * 2654435761u + (uint32_t)i * 40503u) % (r * c));
            if (!strcmp(name, "token_embd.weight") && k < 4) j = (uint32_t)(ex0[3 + k] * 16 + k);  /* used rows */
            float keep = w[j], h = 1e-3f;
            w[j] = keep + h;
            double a = ref_loss(&m, &s);
            w[j] = keep - h;
            double b = ref_loss(&m, &s);
            w[j] = keep;
            double fd = (a - b) / (2.0 * h);
            double e = fabs(g[j] - fd) / (1e-3 + 3e-2 * fabs(fd));
            if (e > 1) fprintf(stderr, "%s[%u]: gpu %.6g, finite differences %.6g\n", name, j, g[j], fd);
            worst = fmax(worst, e);
            checked++;
        }
        free(g);
    }
    CHECK_MSG(worst <= 1, "%s: worst gradient error %.3g of the tolerance over %d entries",
              tied ? "tied" : "untied", worst, checked);
    printf("%s: loss %.6f (reference %.6f), worst gradient error %.3f of the tolerance over %d entries\n",
           tied ? "tied" : "untied", loss, want, worst, checked);
    ref_state_free(&s);
    ref_free(&m);
    plume_trainer_free(t);
}

/* Starting from a GGUF: stories260K (published weights; tied classifier, 5 layers, head
 * size 8) converted to GGUF, loaded by the trainer; its loss on a token sequence equals
 * the reference forward's over the llama2.c checkpoint itself. Then a few steps lower it. */
static void check_init_from_gguf(void) {
    plume_error err;
    const char *data = getenv("PLUME_TEST_DATA");
    char bin[300], tok[300], gg[64];
    snprintf(bin, sizeof bin, "%s/stories260K/stories260K.bin", data ? data : "tests/data");
    snprintf(tok, sizeof tok, "%s/stories260K/tok512.bin", data ? data : "tests/data");
    snprintf(gg, sizeof gg, "/tmp/plume-train-init-%d.gguf", (int)getpid());
    if (plume_convert_llama2c(bin, tok, gg, PLUME_GGML_F32, NULL, &err)) {
        fprintf(stderr, "convert: %s\n", err.msg);
        CHECK(0);
        return;
    }
    plume_train_params p;
    plume_train_params_default(&p);
    p.batch = 1;
    p.seq_len = 12;
    p.lr = 1e-3;
    plume_trainer *t = plume_trainer_create(NULL, gg, &p, &err);
    CHECK(t != NULL);
    if (!t) {
        fprintf(stderr, "trainer: %s\n", err.msg);
        remove(gg);
        return;
    }
    const plume_train_shape *s = plume_trainer_shape(t);
    CHECK(s->dim == 64 && s->n_layers == 5 && s->n_heads == 8 && s->n_kv_heads == 4 && s->tied == 1 &&
          s->vocab_size == 512);
    int32_t toks[13];
    for (int i = 0; i < 13; i++) toks[i] = i == 0 ? 1 : (int32_t)((i * 97 + 13) % 509 + 3);
    plume_train_example ex = {toks, 13, 4, NULL};
    double loss;
    CHECK(plume_trainer_eval(t, &ex, 1, &loss, &err) == 0);
    ref_model m;
    ref_state st;
    if (ref_load_llama2c(&m, bin) || ref_state_alloc(&st, &m)) exit(1);
    double sum = 0;
    for (int j = 0; j < 12; j++) {
        float *z = ref_forward(&m, &st, toks[j], j);
        if (j + 1 < 4) continue;
        double mx = z[0], l = 0;
        for (int v = 1; v < m.vocab; v++) mx = fmax(mx, z[v]);
        for (int v = 0; v < m.vocab; v++) l += exp(z[v] - mx);
        sum += mx + log(l) - z[toks[j + 1]];
    }
    double want = sum / 9;
    printf("stories260K from GGUF: loss %.6f, reference %.6f\n", loss, want);
    CHECK_NEAR(loss, want, 1e-4 * want);
    CHECK(plume_trainer_set_data(t, &ex, 1, &err) == 0);
    plume_train_stats stt;
    for (int i = 0; i < 5; i++) CHECK(plume_trainer_step(t, &stt, &err) == 0);
    double after;
    CHECK(plume_trainer_eval(t, &ex, 1, &after, &err) == 0);
    CHECK_MSG(after < loss - 0.1, "fine-tuning 5 steps: loss %g -> %g", loss, after);
    ref_state_free(&st);
    ref_free(&m);
    plume_trainer_free(t);
    remove(gg);
}

int main(void) {
    check_model(0);
    check_model(1);
    check_init_from_gguf();
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_train_grad");
}
