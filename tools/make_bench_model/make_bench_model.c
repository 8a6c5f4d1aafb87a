/* make_bench_model: writes a llama GGUF with random weights, of a given shape and type,
 * for `plume bench` (the default shape is the ~110M-parameter llama2.c model:
 * dim 768, 12 layers, 12 heads, FFN 2048, vocabulary 32000).
 *
 *   make_bench_model OUT.gguf [--dim N] [--layers N] [--heads N] [--kv-heads N] [--ffn N]
 *                    [--vocab N] [--ctx N] [--type TYPE] [--tied] [--seed N]
 *                    [--vocab-from TOKENIZER.gguf]
 * TYPE: f32, f16, q8_0, q4_0 (quantized from random floats), or q4_1, q5_0, q5_1, q4_k, q5_k,
 * q6_k (random blocks: plume has no quantizer for them; speed does not depend on the values). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "random_model.h"

static void usage(FILE *f) {
    fprintf(f, "usage: make_bench_model OUT.gguf [--dim 768] [--layers 12] [--heads 12] [--kv-heads 12]\n"
               "       [--ffn 2048] [--vocab 32000] [--ctx 1024] [--type f32|f16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k]\n"
               "       [--tied] [--seed 1]\n"
               "       [--vocab-from TOKENIZER.gguf]   (copies its tokenizer; the vocabulary follows it)\n");
}

static int int_arg(const char *flag, const char *v, int lo, int hi, int *out) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) {
        fprintf(stderr, "make_bench_model: %s wants an integer in %d..%d, got '%s'\n", flag, lo, hi, v ? v : "");
        return -1;
    }
    *out = (int)x;
    return 0;
}

int main(int argc, char **argv) {
    random_model_spec s = { 768, 2048, 12, 12, 12, 32000, 1024, PLUME_GGML_F32, 0, 0, 10000.0f, 1, NULL };
    const char *out = NULL;
    int kv_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0, seed = 1;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--dim")) rc = int_arg(a, v, 32, 65536, &s.dim), i++;
        else if (!strcmp(a, "--layers")) rc = int_arg(a, v, 1, 512, &s.n_layers), i++;
        else if (!strcmp(a, "--heads")) rc = int_arg(a, v, 1, 1024, &s.n_heads), i++;
        else if (!strcmp(a, "--kv-heads")) rc = int_arg(a, v, 1, 1024, &s.n_kv_heads), i++, kv_set = 1;
        else if (!strcmp(a, "--ffn")) rc = int_arg(a, v, 1, 1 << 20, &s.hidden_dim), i++;
        else if (!strcmp(a, "--vocab")) rc = int_arg(a, v, 2, 1 << 22, &s.vocab), i++;
        else if (!strcmp(a, "--ctx")) rc = int_arg(a, v, 1, 1 << 20, &s.ctx), i++;
        else if (!strcmp(a, "--seed")) rc = int_arg(a, v, 0, 1 << 30, &seed), i++, s.seed = (uint64_t)seed;
        else if (!strcmp(a, "--tied")) s.tied = 1;
        else if (!strcmp(a, "--vocab-from") && v) s.vocab_gguf = v, i++;
        else if (!strcmp(a, "--type") && v) {
            i++;
            if (!strcasecmp(v, "f32")) s.type = PLUME_GGML_F32;
            else if (!strcasecmp(v, "f16")) s.type = PLUME_GGML_F16;
            else if (!strcasecmp(v, "q8_0")) s.type = PLUME_GGML_Q8_0;
            else if (!strcasecmp(v, "q4_0")) s.type = PLUME_GGML_Q4_0;
            else if (!strcasecmp(v, "q4_1")) s.type = PLUME_GGML_Q4_1;
            else if (!strcasecmp(v, "q5_0")) s.type = PLUME_GGML_Q5_0;
            else if (!strcasecmp(v, "q5_1")) s.type = PLUME_GGML_Q5_1;
            else if (!strcasecmp(v, "q4_k")) s.type = PLUME_GGML_Q4_K;
            else if (!strcasecmp(v, "q5_k")) s.type = PLUME_GGML_Q5_K;
            else if (!strcasecmp(v, "q6_k")) s.type = PLUME_GGML_Q6_K;
            else {
                fprintf(stderr, "make_bench_model: --type wants f32, f16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k or "
                                "q6_k, got '%s'\n", v);
                return 2;
            }
        } else if (a[0] != '-' && !out) out = a;
        else {
            fprintf(stderr, "make_bench_model: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (rc) return 2;
    }
    if (!kv_set) s.n_kv_heads = s.n_heads;
    if (!out) {
        usage(stderr);
        return 2;
    }
    if (s.dim % s.n_heads || s.n_heads % s.n_kv_heads || (s.dim / s.n_heads) % 2) {
        fprintf(stderr, "make_bench_model: dim %d, %d heads, %d kv heads: the heads must divide dim into an even "
                        "head size and the kv heads must divide the heads\n", s.dim, s.n_heads, s.n_kv_heads);
        return 2;
    }
    plume_error err;
    if (random_model_write(&s, out, &err)) {
        fprintf(stderr, "make_bench_model: %s\n", err.msg);
        return 1;
    }
    return 0;
}
