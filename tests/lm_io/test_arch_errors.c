/* The architecture checks of plume_llama_read_hparams (engine/lm/gguf.c) on small GGUF files
 * written here: a good llama, qwen2 and qwen3 file is read with the right head size, rope
 * style, biases and norms; then one change at a time that plume must refuse by name rather
 * than compute a wrong answer: a tensor the model does not use, a tensor it needs and lacks,
 * an ARCH.* key it does not implement, an unknown rope-scaling type, experts, unequal key and
 * value sizes, a bias on only some projections. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch_hparams.h"
#include "check.h"
#include "plume/gguf.h"

static char tmpdir[256];

enum { E = 32, F = 64, L = 2, H = 4, KH = 2, V = 40 };

typedef struct variant {
    const char *arch;
    int head_dim;            /* 0: E / H, no key_length key */
    const char *drop;        /* a tensor left out */
    const char *extra;       /* a tensor added (shape {E}) */
    const char *key;         /* a key added ... */
    const char *str_value;   /* ... as a string, or */
    float f32_value;         /* ... as a float (str_value NULL, u32_value 0) */
    uint32_t u32_value;      /* ... as a u32 */
    uint32_t value_length;   /* ARCH.attention.value_length when not 0 */
    int q_bias_only;         /* llama: attn_q.bias without k and v's */
} variant;

static float zeros[E * V > F * E ? E * V : F * E];

static void add(plume_gguf_writer *w, const variant *v, const char *name, int64_t ne0, int64_t ne1) {
    plume_error err = {0};
    if (v->drop && !strcmp(v->drop, name)) return;
    int64_t ne[2] = {ne0, ne1};
    if (plume_gguf_writer_add_tensor(w, name, PLUME_GGML_F32, ne1 > 1 ? 2 : 1, ne, zeros, &err))
        fprintf(stderr, "%s\n", err.msg);
}

/* Writes the variant to PATH: 0 or -1. */
static int build(const variant *v, const char *path) {
    plume_error err = {0};
    plume_gguf_writer *w = plume_gguf_writer_new();
    const char *a = v->arch;
    char key[128];
    const int hd = v->head_dim ? v->head_dim : E / H, Q = hd * H, KV = hd * KH;
    plume_gguf_writer_set_str(w, "general.architecture", a, &err);
    plume_gguf_writer_set_str(w, "general.name", "test", &err);
#define U32(k, val) (snprintf(key, sizeof key, "%s." k, a), plume_gguf_writer_set_u32(w, key, (val), &err))
#define F32(k, val) (snprintf(key, sizeof key, "%s." k, a), plume_gguf_writer_set_f32(w, key, (val), &err))
    const arch_hparams hp = { 64, E, F, L, H, KH, V, 1e6f };
    write_arch_hparams(w, a, &hp, &err);
    if (v->head_dim) U32("attention.key_length", (uint32_t)v->head_dim);
    if (v->value_length) U32("attention.value_length", v->value_length);
    if (v->key) {
        if (v->str_value) plume_gguf_writer_set_str(w, v->key, v->str_value, &err);
        else if (v->u32_value) plume_gguf_writer_set_u32(w, v->key, v->u32_value, &err);
        else plume_gguf_writer_set_f32(w, v->key, v->f32_value, &err);
    }
    add(w, v, "token_embd.weight", E, V);
    add(w, v, "output_norm.weight", E, 1);
    for (int l = 0; l < L; l++) {
        char n[64];
#define T(s, ne0, ne1) (snprintf(n, sizeof n, "blk.%d." s, l), add(w, v, n, ne0, ne1))
        T("attn_norm.weight", E, 1);
        T("attn_q.weight", E, Q);
        T("attn_k.weight", E, KV);
        T("attn_v.weight", E, KV);
        T("attn_output.weight", Q, E);
        T("ffn_norm.weight", E, 1);
        T("ffn_gate.weight", E, F);
        T("ffn_up.weight", E, F);
        T("ffn_down.weight", F, E);
        if (!strcmp(a, "qwen2") || v->q_bias_only) T("attn_q.bias", Q, 1);
        if (!strcmp(a, "qwen2")) {
            T("attn_k.bias", KV, 1);
            T("attn_v.bias", KV, 1);
        }
        if (!strcmp(a, "qwen3")) {
            T("attn_q_norm.weight", hd, 1);
            T("attn_k_norm.weight", hd, 1);
        }
    }
    if (v->extra) add(w, v, v->extra, E, 1);
    int rc = plume_gguf_writer_write(w, path, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    plume_gguf_writer_free(w);
    return rc;
}

/* Reads the variant back: 0 with hp filled, or -1 with the message in msg. */
static int read_back(const variant *v, plume_llama_hparams *hp, char *msg, size_t cap) {
    char path[512];
    snprintf(path, sizeof path, "%s/arch.gguf", tmpdir);
    plume_error err = {0};
    plume_gguf *g = NULL;
    int rc = build(v, path) || plume_gguf_open(&g, path, &err) || plume_llama_read_hparams(g, hp, &err) ? -1 : 0;
    snprintf(msg, cap, "%s", err.msg);
    plume_gguf_close(g);
    unlink(path);
    return rc;
}

/* The variant must be refused with a message holding every one of the given pieces. */
static void refused(const variant *v, const char *what, const char *piece1, const char *piece2) {
    plume_llama_hparams hp;
    char msg[1024];
    int rc = read_back(v, &hp, msg, sizeof msg);
    CHECK_MSG(rc == -1 && strstr(msg, piece1) && (!piece2 || strstr(msg, piece2)), "%s: rc %d, message '%s'", what,
              rc, msg);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/plume-arch-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    plume_llama_hparams hp;
    char msg[1024];

    /* Good files. */
    variant llama = {.arch = "llama"};
    CHECK_MSG(read_back(&llama, &hp, msg, sizeof msg) == 0, "%s", msg);
    CHECK(hp.arch == PLUME_ARCH_LLAMA && hp.head_dim == E / H && hp.rope_style == PLUME_ROPE_NORMAL && !hp.qkv_bias &&
          !hp.qk_norm && hp.tied_output && !hp.rope_freqs && hp.rope_freq_scale == 1.0f);
    variant qwen2 = {.arch = "qwen2"};
    CHECK_MSG(read_back(&qwen2, &hp, msg, sizeof msg) == 0, "%s", msg);
    CHECK(hp.arch == PLUME_ARCH_QWEN2 && hp.rope_style == PLUME_ROPE_NEOX && hp.qkv_bias && !hp.qk_norm &&
          hp.rms_eps == 1e-6f && hp.rope_freq_base == 1e6f);
    /* qwen3: a head size (16) apart from n_embd / n_head (8), from key_length */
    variant qwen3 = {.arch = "qwen3", .head_dim = 16};
    CHECK_MSG(read_back(&qwen3, &hp, msg, sizeof msg) == 0, "%s", msg);
    CHECK(hp.arch == PLUME_ARCH_QWEN3 && hp.head_dim == 16 && hp.n_rot == 16 && hp.qk_norm && !hp.qkv_bias &&
          hp.rope_style == PLUME_ROPE_NEOX);
    /* linear rope scaling is implemented: the frequencies are divided by the factor */
    variant linear = {.arch = "llama", .key = "llama.rope.scaling.type", .str_value = "linear"};
    CHECK_MSG(read_back(&linear, &hp, msg, sizeof msg) == 0 && hp.rope_freq_scale == 1.0f, "%s", msg);

    /* Refusals, each naming what is wrong. */
    variant unused = {.arch = "llama", .extra = "blk.0.attn_output.bias"};
    refused(&unused, "an unused tensor", "'blk.0.attn_output.bias'", "not used");
    variant beyond = {.arch = "llama", .extra = "blk.7.attn_norm.weight"};
    refused(&beyond, "a tensor of a layer past block_count", "'blk.7.attn_norm.weight'", "not used");
    variant stray = {.arch = "qwen2", .extra = "rope_freqs.weight"};
    refused(&stray, "rope_freqs in a qwen2 file", "'rope_freqs.weight'", "qwen2");
    variant nobias = {.arch = "qwen2", .drop = "blk.1.attn_k.bias"};
    refused(&nobias, "a missing qwen2 bias", "'blk.1.attn_k.bias'", "missing");
    variant nonorm = {.arch = "qwen3", .head_dim = 16, .drop = "blk.0.attn_q_norm.weight"};
    refused(&nonorm, "a missing qwen3 norm", "'blk.0.attn_q_norm.weight'", "missing");
    variant some_bias = {.arch = "llama", .q_bias_only = 1};
    refused(&some_bias, "a bias on q alone", "attn_q/k/v.bias", NULL);
    variant yarn = {.arch = "llama", .key = "llama.rope.scaling.type", .str_value = "yarn"};
    refused(&yarn, "an unknown rope scaling type", "llama.rope.scaling.type", "'yarn'");
    variant l3 = {.arch = "llama", .key = "llama.rope.scaling.type", .str_value = "llama3"};
    refused(&l3, "llama3 scaling without its factors", "rope_freqs.weight", NULL);
    variant softcap = {.arch = "llama", .key = "llama.attn_logit_softcapping", .f32_value = 50.0f};
    refused(&softcap, "logit soft-capping", "'llama.attn_logit_softcapping'", "not implemented");
    variant window = {.arch = "qwen2", .key = "qwen2.attention.sliding_window", .u32_value = 4096};
    refused(&window, "a sliding window", "'qwen2.attention.sliding_window'", NULL);
    variant experts = {.arch = "qwen2", .key = "qwen2.expert_count", .u32_value = 8};
    refused(&experts, "experts", "qwen2.expert_count", "mixture-of-experts");
    variant attn_factor = {.arch = "llama", .key = "llama.rope.scaling.attn_factor", .f32_value = 0.5f};
    refused(&attn_factor, "a rope attention factor", "llama.rope.scaling.attn_factor", NULL);
    variant kv_len = {.arch = "qwen3", .head_dim = 16, .value_length = 8};
    refused(&kv_len, "value_length != key_length", "value_length 8", "key_length 16");
    variant gemma = {.arch = "gemma2"};
    refused(&gemma, "another architecture", "'gemma2'", "qwen3");
    /* a neutral attn_factor (1) is accepted */
    variant one = {.arch = "llama", .key = "llama.rope.scaling.attn_factor", .f32_value = 1.0f};
    CHECK_MSG(read_back(&one, &hp, msg, sizeof msg) == 0, "%s", msg);

    rmdir(tmpdir);
    return check_finish("test_arch_errors");
}
