/* The architecture variants the llama.cpp fixtures (test_reference_models) do not cover, on
 * random-weight GGUFs written here, against the plain-C reference (ref_forward.c) over the
 * same weights:
 *   - qwen3: per-head q/k RMS norms, a head size (32) apart from dim / n_heads (16), so q is
 *     wider than the residual stream, grouped-query attention, an untied classifier;
 *   - llama with q/k/v biases (llama.cpp adds them where a llama file has them), linear rope
 *     scaling (factor 4) and Llama 3 rope_freqs together, a tied classifier.
 * Every row of a 12-token prompt (one prefill) and 4 decode steps are compared. */
#include <stdlib.h>
#include <unistd.h>
#include "arch_hparams.h"
#include "check.h"
#include "plume/gguf.h"
#include "plume/lm.h"
#include "ref_forward.h"

enum { D = 64, F = 96, L = 2, H = 4, KH = 2, V = 300, CTX = 64, PROMPT = 12, STEPS = 4 };

static uint64_t rng = 88172645463325252ull;
static float uniform(void) {   /* xorshift64, in [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

/* Tensors live until the file is written: one arena. */
static float arena[1 << 20];
static size_t used;

static void add(plume_gguf_writer *w, const char *name, int64_t ne0, int64_t ne1, float scale, float offset) {
    plume_error err = {0};
    float *t = arena + used;
    used += (size_t)(ne0 * ne1);
    for (int64_t i = 0; i < ne0 * ne1; i++) t[i] = offset + scale * uniform();
    int64_t ne[2] = {ne0, ne1};
    if (plume_gguf_writer_add_tensor(w, name, PLUME_GGML_F32, ne1 > 1 ? 2 : 1, ne, t, &err))
        fprintf(stderr, "%s\n", err.msg);
}

static int write_model(const char *path, int qwen3) {
    plume_error err = {0};
    plume_gguf_writer *w = plume_gguf_writer_new();
    const char *a = qwen3 ? "qwen3" : "llama";
    const int hd = qwen3 ? 32 : D / H, Q = hd * H, KV = hd * KH;
    char key[128];
    used = 0;
    plume_gguf_writer_set_str(w, "general.architecture", a, &err);
#define U32(k, v) (snprintf(key, sizeof key, "%s." k, a), plume_gguf_writer_set_u32(w, key, (v), &err))
#define F32(k, v) (snprintf(key, sizeof key, "%s." k, a), plume_gguf_writer_set_f32(w, key, (v), &err))
    const arch_hparams hp = { CTX, D, F, L, H, KH, V, qwen3 ? 1e6f : 5e5f };
    write_arch_hparams(w, a, &hp, &err);
    if (qwen3) {
        U32("attention.key_length", (uint32_t)hd);
        U32("attention.value_length", (uint32_t)hd);
    } else {
        snprintf(key, sizeof key, "%s.rope.scaling.type", a);
        plume_gguf_writer_set_str(w, key, "linear", &err);
        F32("rope.scaling.factor", 4.0f);
    }
    add(w, "token_embd.weight", D, V, 0.5f, 0.0f);
    add(w, "output_norm.weight", D, 1, 0.1f, 1.0f);
    if (qwen3) add(w, "output.weight", D, V, 0.2f, 0.0f);
    else add(w, "rope_freqs.weight", hd / 2, 1, 0.0f, 1.0f);
    if (!qwen3)   /* factors between 1 and 9, as Llama 3's go from 1 to 32 */
        for (int i = 0; i < hd / 2; i++) arena[used - (size_t)(hd / 2) + (size_t)i] = 1.0f + (float)(i * i) / 6.0f;
    for (int l = 0; l < L; l++) {
        char n[64];
#define T(s, ne0, ne1, scale, offset) (snprintf(n, sizeof n, "blk.%d." s, l), add(w, n, ne0, ne1, scale, offset))
        T("attn_norm.weight", D, 1, 0.1f, 1.0f);
        T("attn_q.weight", D, Q, 0.3f, 0.0f);
        T("attn_k.weight", D, KV, 0.3f, 0.0f);
        T("attn_v.weight", D, KV, 0.2f, 0.0f);
        T("attn_output.weight", Q, D, 0.2f, 0.0f);
        T("ffn_norm.weight", D, 1, 0.1f, 1.0f);
        T("ffn_gate.weight", D, F, 0.2f, 0.0f);
        T("ffn_up.weight", D, F, 0.2f, 0.0f);
        T("ffn_down.weight", F, D, 0.2f, 0.0f);
        if (qwen3) {
            T("attn_q_norm.weight", hd, 1, 0.3f, 1.0f);
            T("attn_k_norm.weight", hd, 1, 0.3f, 1.0f);
        } else {
            T("attn_q.bias", Q, 1, 0.5f, 0.0f);
            T("attn_k.bias", KV, 1, 0.5f, 0.0f);
            T("attn_v.bias", KV, 1, 0.5f, 0.0f);
        }
    }
    int rc = plume_gguf_writer_write(w, path, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    plume_gguf_writer_free(w);
    return rc;
}

static double max_diff(const float *a, const float *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void check_variant(const char *dir, int qwen3) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.gguf", dir, qwen3 ? "qwen3" : "llama-bias-scaled");
    CHECK(write_model(path, qwen3) == 0);
    plume_error err = {0};
    plume_lm *lm = plume_lm_acquire(path, &err);
    CHECK_MSG(lm != NULL, "%s", err.msg);
    ref_model m;
    CHECK(ref_load_gguf(&m, path) == 0);
    if (!lm) return;
    CHECK(m.head_dim == (qwen3 ? 32 : 16) && m.has_qk_norm == qwen3 && m.has_bias == !qwen3 &&
          m.has_factors == !qwen3 && m.rope_neox == qwen3);
    CHECK(plume_lm_get_info(lm)->head_dim == (qwen3 ? 32 : 16));
    ref_state s;
    CHECK(ref_state_alloc(&s, &m) == 0);
    int32_t tokens[PROMPT + STEPS];
    for (int i = 0; i < PROMPT + STEPS; i++) tokens[i] = (int32_t)((i * 37 + 11) % V);
    float *got = malloc((size_t)PROMPT * V * sizeof *got);
    plume_lm_batch *b = plume_lm_batch_create(lm, 1, CTX, &err);
    CHECK_MSG(b && got && plume_lm_prefill_all(b, 0, tokens, PROMPT, got, &err) == 0, "%s", err.msg);
    double worst = 0, scale = 0;
    for (int t = 0; t < PROMPT; t++) {
        const float *ref = ref_forward(&m, &s, tokens[t], t);
        worst = fmax(worst, max_diff(got + (size_t)t * V, ref, V));
        for (int v = 0; v < V; v++) scale = fmax(scale, fabs(ref[v]));
    }
    for (int step = 0; b && step < STEPS; step++) {
        int seq = 0, t = PROMPT + step;
        if (plume_lm_decode(b, 1, &seq, &tokens[t], got, NULL, &err)) {
            CHECK_MSG(0, "%s", err.msg);
            break;
        }
        worst = fmax(worst, max_diff(got, ref_forward(&m, &s, tokens[t], t), V));
    }
    printf("%s: max |logit - reference| %.3g (max |logit| %.3g)\n", qwen3 ? "qwen3" : "llama with biases, linear "
           "scaling and rope_freqs", worst, scale);
    /* float32 on the device against double accumulation: logits of a few units agree to 1e-4 */
    CHECK_MSG(worst <= 1e-4 * fmax(1.0, scale) && scale > 0.5, "%s: %g (scale %g)", path, worst, scale);
    plume_lm_batch_free(b);
    free(got);
    ref_state_free(&s);
    ref_free(&m);
    plume_lm_release(lm);
    unlink(path);
}

int main(void) {
    char dir[] = "/tmp/plume-lm-arch-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    check_variant(dir, 1);
    check_variant(dir, 0);
    rmdir(dir);
    return check_finish("test_lm_arch");
}
