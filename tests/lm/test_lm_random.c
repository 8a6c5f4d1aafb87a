/* The device forward pass on random-weight models that stories260K does not cover:
 * grouped-query attention with 4 query heads per kv head, an untied classifier, the
 * GPT-2 vocabulary (50257 tokens, its tokenizer metadata copied from
 * tests/data/vocab/ggml-vocab-gpt-2.gguf), F32, F16, Q8_0 and Q4_0 matrices, and NeoX-style
 * RoPE with another base. Logits are checked against the plain-C reference over the
 * same (dequantized) weights, for one sequence and for three decoded as one batch. */
#include <unistd.h>
#include "check.h"
#include "lm_gpu_util.h"
#include "lm_test_util.h"
#include "plume/gpu.h"
#include "random_model.h"

enum { NSEQ = 3, STEPS = 8 };

/* Three prompts prefilled into three sequences, then STEPS decode steps for all three in
 * one call each, every sequence fed its own reference's greedy token. Returns the largest
 * logit difference over all sequences and steps. */
static double compare_batch(plume_lm *lm, const ref_model *m, int32_t *const *prompts, const int *lens) {
    const int V = m->vocab;
    plume_error err;
    ref_state s[NSEQ];
    float *logits = malloc((size_t)NSEQ * V * sizeof *logits);
    const float *ref[NSEQ];
    plume_lm_batch *b = plume_lm_batch_create(lm, NSEQ, 64, &err);
    double worst = INFINITY;
    if (!b || !logits) goto out;
    for (int i = 0; i < NSEQ; i++) {
        if (ref_state_alloc(&s[i], m)) goto out;
        for (int t = 0; t < lens[i]; t++) ref[i] = ref_forward(m, &s[i], prompts[i][t], t);
        if (plume_lm_prefill(b, i, prompts[i], lens[i], logits + (size_t)i * V, &err)) goto out;
    }
    worst = 0;
    for (int step = 0;; step++) {
        for (int i = 0; i < NSEQ; i++) worst = fmax(worst, max_abs_diff(logits + (size_t)i * V, ref[i], V));
        if (step == STEPS) break;
        int seqs[NSEQ] = { 2, 0, 1 };  /* rows in another order than the sequences */
        int32_t next[NSEQ];
        for (int j = 0; j < NSEQ; j++) next[j] = argmax_f(ref[seqs[j]], V);
        float *rows = malloc((size_t)NSEQ * V * sizeof *rows);
        if (!rows || plume_lm_decode(b, NSEQ, seqs, next, rows, NULL, &err)) {
            free(rows);
            worst = INFINITY;
            break;
        }
        for (int j = 0; j < NSEQ; j++) {
            memcpy(logits + (size_t)seqs[j] * V, rows + (size_t)j * V, (size_t)V * sizeof *rows);
            ref[seqs[j]] = ref_forward(m, &s[seqs[j]], next[j], lens[seqs[j]] + step);
        }
        free(rows);
    }
out:
    if (worst == INFINITY) fprintf(stderr, "compare_batch: %s\n", err.msg);
    for (int i = 0; i < NSEQ; i++) ref_state_free(&s[i]);
    free(logits);
    plume_lm_batch_free(b);
    return worst;
}

int main(void) {
    char vocab[1024], path[1024];
    snprintf(vocab, sizeof vocab, "%s/vocab/ggml-vocab-gpt-2.gguf", test_data_dir());
    const char *dir = scratch_dir();
    CHECK(dir != NULL);
    if (!dir) return check_finish("test_lm_random");
    struct {
        plume_ggml_type type;
        int neox;
        float base;
        const char *name;
        double tol;
    } cases[] = {
        { PLUME_GGML_F32, 0, 10000.0f, "F32", 2e-5 },
        { PLUME_GGML_F16, 0, 10000.0f, "F16", 2e-5 },
        { PLUME_GGML_Q8_0, 0, 10000.0f, "Q8_0", 2e-5 },
        { PLUME_GGML_Q4_0, 0, 10000.0f, "Q4_0", 2e-5 },
        { PLUME_GGML_F32, 1, 500000.0f, "F32", 2e-5 },
    };
    const char *texts[NSEQ] = { "Hello, world! plume runs llama on Vulkan.", " naïve café: 3.14159 ≈ π",
                                "def f(x):\n    return x * 2  # code" };
    plume_error err;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        random_model_spec spec = { 64, 96, 2, 8, 2, 0, 256, cases[c].type, 0, cases[c].neox, cases[c].base,
                                   (uint64_t)(11 + c), vocab };
        snprintf(path, sizeof path, "%s/random%zu.gguf", dir, c);
        CHECK(random_model_write(&spec, path, &err) == 0);
        plume_lm *lm = plume_lm_acquire(path, &err);
        CHECK_MSG(lm != NULL, "%s", err.msg);
        if (!lm) continue;
        const plume_lm_info *in = plume_lm_get_info(lm);
        CHECK(in->vocab_size == 50257 && in->n_heads == 8 && in->n_kv_heads == 2 && in->head_dim == 8);
        CHECK_STR(in->weight_type, cases[c].name);
        ref_model m;
        CHECK(ref_load_gguf(&m, path) == 0);
        CHECK(m.wcls != m.tok_embd && m.rope_neox == cases[c].neox);

        int32_t *prompts[NSEQ];
        int lens[NSEQ];
        for (int i = 0; i < NSEQ; i++) {
            prompts[i] = malloc(64 * sizeof(int32_t));
            lens[i] = plume_lm_tokenize(lm, texts[i], 1, prompts[i], 64, &err);
            CHECK(lens[i] > 3 && lens[i] <= 40);
        }
        /* GPT-2's tokenizer, as the reference tokenization in ggml-vocab-gpt-2.gguf.out shows */
        int32_t ids[16];
        int n = plume_lm_tokenize(lm, "Hello world", 0, ids, 16, &err);
        CHECK(n == 2 && ids[0] == 15496 && ids[1] == 995);
        /* -1: as the file says, and GPT-2's tokenizer adds no BOS; 1: BOS first anyway */
        CHECK(plume_lm_tokenize(lm, "Hello world", -1, ids, 16, &err) == 2 && ids[0] == 15496);
        CHECK(in->bos >= 0 && plume_lm_tokenize(lm, "Hello world", 1, ids, 16, &err) == 3 && ids[0] == in->bos);
        char *back = plume_lm_detokenize(lm, prompts[1] + (in->bos >= 0), lens[1] - (in->bos >= 0), 0, &err);
        CHECK_STR(back, texts[1]);
        free(back);

        double scale;
        double d = compare_with_reference(lm, &m, prompts[0], lens[0], 12, &scale);
        printf("random %s%s: one sequence: max |logit diff| %.3g (max |logit| %.3g)\n", cases[c].name,
               cases[c].neox ? " neox" : "", d, scale);
        CHECK_MSG(d <= cases[c].tol, "case %zu: %g", c, d);
        d = compare_batch(lm, &m, prompts, lens);
        printf("random %s%s: batch of %d: max |logit diff| %.3g\n", cases[c].name, cases[c].neox ? " neox" : "",
               NSEQ, d);
        CHECK_MSG(d <= cases[c].tol, "case %zu: %g", c, d);
        for (int i = 0; i < NSEQ; i++) free(prompts[i]);
        ref_free(&m);
        plume_lm_release(lm);
        unlink(path);
    }

    /* mixed types inside a layer (k and up in Q8_0, the rest F32): the unfused paths */
    {
        random_model_spec spec = { 64, 96, 2, 8, 2, 0, 256, PLUME_GGML_F32, 0, 0, 10000.0f, 99, vocab };
        char mixed[1100];
        snprintf(path, sizeof path, "%s/plain.gguf", dir);
        snprintf(mixed, sizeof mixed, "%s/mixed.gguf", dir);
        const char *only[] = { "attn_k.", "ffn_up.", NULL };
        CHECK(random_model_write(&spec, path, &err) == 0);
        CHECK(model_file_retype_some(path, mixed, PLUME_GGML_Q8_0, only, &err) == 0);
        plume_lm *lm = plume_lm_acquire(mixed, &err);
        CHECK(lm != NULL);
        if (lm) {
            CHECK_STR(plume_lm_get_info(lm)->weight_type, "mixed");
            ref_model m;
            CHECK(ref_load_gguf(&m, mixed) == 0);
            int32_t toks[16];
            int nt = plume_lm_tokenize(lm, texts[0], 1, toks, 16, &err);
            double scale, d = compare_with_reference(lm, &m, toks, nt < 16 ? nt : 16, 6, &scale);
            printf("random mixed: max |logit diff| %.3g\n", d);
            CHECK(d <= 2e-5);
            ref_free(&m);
            plume_lm_release(lm);
        }
        unlink(mixed);
        unlink(path);
    }

    /* errors name the problem: a missing file, a token outside the vocabulary, a full sequence */
    CHECK(plume_lm_acquire("/nonexistent/model.gguf", &err) == NULL && strstr(err.msg, "/nonexistent/model.gguf"));
    CHECK(plume_lm_acquire(vocab, &err) == NULL && strstr(err.msg, "ggml-vocab-gpt-2.gguf") &&
          strstr(err.msg, "llama"));  /* a tokenizer-only file of another architecture */
    random_model_spec tiny = { 64, 64, 1, 4, 4, 0, 8, PLUME_GGML_F32, 1, 0, 0, 5, vocab };
    snprintf(path, sizeof path, "%s/tiny.gguf", dir);
    CHECK(random_model_write(&tiny, path, &err) == 0);
    plume_lm *lm = plume_lm_acquire(path, &err);
    CHECK(lm != NULL);
    if (lm) {
        plume_lm_batch *b = plume_lm_batch_create(lm, 1, 0, &err);
        int32_t toks[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, bad = 60000;
        int seq = 0;
        CHECK(b && plume_lm_prefill(b, 0, &bad, 1, NULL, &err) == -1 && strstr(err.msg, "outside the vocabulary"));
        CHECK(b && plume_lm_prefill(b, 0, toks, 9, NULL, &err) == -1 && strstr(err.msg, "exceed"));
        CHECK(b && plume_lm_prefill(b, 0, toks, 8, NULL, &err) == 0);
        CHECK(b && plume_lm_decode(b, 1, &seq, toks, NULL, NULL, &err) == -1 && strstr(err.msg, "exceed"));
        CHECK(plume_lm_batch_create(lm, 1, 9, &err) == NULL);
        plume_lm_batch_free(b);
        plume_lm_release(lm);
    }
    /* the same file cut short: refused, saying so */
    char cut[1100];
    snprintf(cut, sizeof cut, "%s/cut.gguf", dir);
    FILE *in = fopen(path, "rb"), *o = fopen(cut, "wb");
    CHECK(in && o);
    if (in && o) {
        static char buf[1 << 20];
        size_t got = fread(buf, 1, sizeof buf, in);
        fwrite(buf, 1, got / 2, o);
    }
    if (in) fclose(in);
    if (o) fclose(o);
    CHECK(plume_lm_acquire(cut, &err) == NULL && strstr(err.msg, "cut.gguf") && strstr(err.msg, "incomplete"));
    unlink(cut);
    unlink(path);
    rmdir(dir);
    CHECK(plume_gpu_validation_count() == 0);
    return check_finish("test_lm_random");
}
