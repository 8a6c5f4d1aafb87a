/* Random llama GGUF files and re-typed copies (see random_model.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "random_model.h"
#include "../splitmix64.h"

/* uniform in [-a, a] */
static float uniform(uint64_t *s, float a) {
    return ((float)(splitmix64_next(s) >> 40) / 16777216.0f * 2.0f - 1.0f) * a;
}

/* Keeps every tensor's bytes alive until the writer has written them. */
typedef struct blobs {
    void **p;
    int n, cap;
} blobs;

static void *keep(blobs *b, void *p) {
    if (!p) return NULL;
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 64;
        void **q = realloc(b->p, (size_t)cap * sizeof *q);
        if (!q) {
            free(p);
            return NULL;
        }
        b->p = q;
        b->cap = cap;
    }
    return b->p[b->n++] = p;
}

static void free_blobs(blobs *b) {
    for (int i = 0; i < b->n; i++) free(b->p[i]);
    free(b->p);
}

/* Adds a rows x cols tensor (rows == 0: a vector of cols) from f32 values, stored as type. */
static int add_f32(plume_gguf_writer *w, blobs *b, const char *name, plume_ggml_type type, int rows, int cols,
                   float *f, plume_error *err) {
    int64_t ne[2] = { cols, rows };
    uint64_t n = (uint64_t)cols * (uint64_t)(rows ? rows : 1), bytes;
    if (rows == 0 || (plume_ggml_block_elems(type) > 1 && cols % (int)plume_ggml_block_elems(type))) type = PLUME_GGML_F32;
    if (type == PLUME_GGML_F32)
        return plume_gguf_writer_add_tensor(w, name, type, rows ? 2 : 1, ne, f, err);
    if (plume_ggml_nbytes(type, cols, n, &bytes)) return plume_fail(err, "%s: bad shape for its type", name);
    void *q = keep(b, malloc(bytes));
    if (!q) return plume_fail(err, "%s: out of memory", name);
    if (type != PLUME_GGML_F16 && type != PLUME_GGML_BF16 && type != PLUME_GGML_Q8_0 && type != PLUME_GGML_Q4_0) {
        /* No quantizer for this type in plume: random blocks (for speed measurements, whose
         * figures do not depend on the values), the f16 scale d small, minimums zero. */
        const size_t bb = plume_ggml_block_bytes(type), nb = (size_t)(bytes / bb);
        uint8_t *blk = q;
        uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
        for (size_t i = 0; i < bytes; i++) blk[i] = (uint8_t)(splitmix64_next(&rng) >> 56);
        const uint16_t d = plume_f32_to_f16(0.001f);
        const size_t at = type == PLUME_GGML_Q6_K ? 208 : 0;
        const int has_min = type == PLUME_GGML_Q4_1 || type == PLUME_GGML_Q5_1 || type == PLUME_GGML_Q4_K ||
                            type == PLUME_GGML_Q5_K;
        for (size_t k = 0; k < nb; k++, blk += bb) {
            blk[at] = (uint8_t)(d & 0xff), blk[at + 1] = (uint8_t)(d >> 8);
            if (has_min) blk[2] = blk[3] = 0;
        }
        return plume_gguf_writer_add_tensor(w, name, type, 2, ne, q, err);
    }
    if (plume_ggml_from_f32(type, f, q, n, err)) return -1;
    return plume_gguf_writer_add_tensor(w, name, type, 2, ne, q, err);
}

static float *random_tensor(blobs *b, uint64_t *rng, size_t n, float center, float a) {
    float *f = keep(b, malloc(n * sizeof *f));
    if (f)
        for (size_t i = 0; i < n; i++) f[i] = center + uniform(rng, a);
    return f;
}

static int copy_tokenizer(plume_gguf_writer *w, const char *path, int *vocab, plume_error *err) {
    plume_gguf *g = NULL;
    if (plume_gguf_open(&g, path, err)) return -1;
    int rc = 0;
    for (uint64_t i = 0; !rc && i < g->n_kv; i++)
        if (!strncmp(g->kv[i].key.data, "tokenizer.", 10))
            rc = plume_gguf_writer_set(w, g->kv[i].key.data, &g->kv[i].value, err);
    const plume_gguf_kv *tokens = plume_gguf_find(g, "tokenizer.ggml.tokens");
    if (!rc && (!tokens || tokens->value.type != PLUME_GGUF_ARRAY))
        rc = plume_fail(err, "%s: no tokenizer.ggml.tokens array", path);
    if (!rc) *vocab = (int)tokens->value.v.arr.n;
    plume_gguf_close(g);
    return rc;
}

int random_model_write(const random_model_spec *s, const char *path, plume_error *err) {
    plume_gguf_writer *w = plume_gguf_writer_new();
    blobs b = { 0 };
    uint64_t rng = s->seed;
    int vocab = s->vocab, rc = -1;
    char name[96];
    if (!w) return plume_fail(err, "out of memory");
    if (s->vocab_gguf && copy_tokenizer(w, s->vocab_gguf, &vocab, err)) goto out;
    const int d = s->dim, h = s->hidden_dim, kv = s->dim / s->n_heads * s->n_kv_heads;
    if (plume_gguf_writer_set_str(w, "general.architecture", "llama", err) ||
        plume_gguf_writer_set_str(w, "general.name", "plume random llama", err) ||
        plume_gguf_writer_set_u32(w, "llama.context_length", (uint32_t)s->ctx, err) ||
        plume_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)d, err) ||
        plume_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)s->n_layers, err) ||
        plume_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)h, err) ||
        plume_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)s->n_heads, err) ||
        plume_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)s->n_kv_heads, err) ||
        plume_gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)(d / s->n_heads), err) ||
        plume_gguf_writer_set_u32(w, "llama.vocab_size", (uint32_t)vocab, err) ||
        plume_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, err) ||
        plume_gguf_writer_set_f32(w, "llama.rope.freq_base", s->rope_base > 0 ? s->rope_base : 10000.0f, err) ||
        (s->neox && plume_gguf_writer_set_str(w, "plume.rope.style", "neox", err)))
        goto out;

    /* scales that keep activations near unit size: matrices uniform with variance 1/in */
    const float ad = sqrtf(3.0f / (float)d), ah = sqrtf(3.0f / (float)h);
    float *f;
#define ADD(nm, rows, cols, center, a) \
    do { \
        if (!(f = random_tensor(&b, &rng, (size_t)(cols) * (size_t)((rows) ? (rows) : 1), center, a))) goto oom; \
        if (add_f32(w, &b, nm, s->type, rows, cols, f, err)) goto out; \
    } while (0)
    ADD("token_embd.weight", vocab, d, 0.0f, 1.0f);
    for (int l = 0; l < s->n_layers; l++) {
#define LAYER(sfx, rows, cols, center, a) \
        snprintf(name, sizeof name, "blk.%d.%s", l, sfx); \
        ADD(name, rows, cols, center, a)
        LAYER("attn_norm.weight", 0, d, 1.0f, 0.1f);
        LAYER("attn_q.weight", d, d, 0.0f, ad);
        LAYER("attn_k.weight", kv, d, 0.0f, ad);
        LAYER("attn_v.weight", kv, d, 0.0f, ad);
        LAYER("attn_output.weight", d, d, 0.0f, ad);
        LAYER("ffn_norm.weight", 0, d, 1.0f, 0.1f);
        LAYER("ffn_gate.weight", h, d, 0.0f, ad);
        LAYER("ffn_down.weight", d, h, 0.0f, ah);
        LAYER("ffn_up.weight", h, d, 0.0f, ad);
#undef LAYER
    }
    ADD("output_norm.weight", 0, d, 1.0f, 0.1f);
    if (!s->tied) ADD("output.weight", vocab, d, 0.0f, ad);
#undef ADD
    rc = plume_gguf_writer_write(w, path, err);
    goto out;
oom:
    plume_fail(err, "%s: out of memory for the random weights", path);
out:
    plume_gguf_writer_free(w);
    free_blobs(&b);
    return rc;
}

static int matches(const char *name, const char *const *only) {
    if (!only) return 1;
    for (; *only; only++)
        if (strstr(name, *only)) return 1;
    return 0;
}

/* type < 0: keep every tensor's type, else retype the 2-D tensors whose names contain one of
 * `only` (NULL: all); key != NULL: set that key to value. */
static int model_file_copy(const char *src, const char *dst, int type, const char *const *only, const char *key,
                           uint32_t value, plume_error *err) {
    plume_gguf *g = NULL;
    plume_gguf_writer *w = NULL;
    blobs b = { 0 };
    int rc = -1;
    if (plume_gguf_open(&g, src, err)) return -1;
    if (!(w = plume_gguf_writer_new())) {
        plume_fail(err, "out of memory");
        goto out;
    }
    for (uint64_t i = 0; i < g->n_kv; i++) {
        if (!strcmp(g->kv[i].key.data, "general.alignment")) continue;
        if (plume_gguf_writer_set(w, g->kv[i].key.data, &g->kv[i].value, err)) goto out;
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const plume_gguf_tensor *t = &g->tensors[i];
        if (t->n_dims != 2 || type < 0 || !matches(t->name, only)) {
            if (plume_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, err)) goto out;
            continue;
        }
        float *f = keep(&b, malloc(t->n_elements * sizeof *f));
        if (!f) {
            plume_fail(err, "%s: out of memory", t->name);
            goto out;
        }
        if (plume_ggml_to_f32(t->type, t->data, f, t->n_elements, err) ||
            add_f32(w, &b, t->name, (plume_ggml_type)type, (int)t->ne[1], (int)t->ne[0], f, err))
            goto out;
    }
    if (key && plume_gguf_writer_set_u32(w, key, value, err)) goto out;
    rc = plume_gguf_writer_write(w, dst, err);
out:
    plume_gguf_writer_free(w);
    free_blobs(&b);
    plume_gguf_close(g);
    return rc;
}

int model_file_retype(const char *src, const char *dst, plume_ggml_type type, plume_error *err) {
    return model_file_copy(src, dst, (int)type, NULL, NULL, 0, err);
}

int model_file_retype_some(const char *src, const char *dst, plume_ggml_type type, const char *const *only,
                           plume_error *err) {
    return model_file_copy(src, dst, (int)type, only, NULL, 0, err);
}

int model_file_set_u32(const char *src, const char *dst, const char *key, uint32_t value, plume_error *err) {
    return model_file_copy(src, dst, -1, NULL, key, value, err);
}
