/* Checkpoints: the weights as a llama GGUF (plume/gguf.h's writer; F32 for resuming,
 * F16 or Q8_0 as exports) and the optimizer sidecar (step and AdamW's moments), and
 * starting a trainer from a GGUF.
 *
 * Sidecar layout (little-endian): "PLUMEOPT", u32 version (1), u32 step, u64 seed,
 * u32 n_params, then per parameter: u32 name length, name, u32 count, count f32 of m,
 * count f32 of v. Written to PATH.tmp then renamed, so a crash leaves the old one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/gguf.h"
#include "plume/file.h"
#include "trainer.h"

#define OPT_MAGIC "PLUMEOPT"
#define OPT_VERSION 1u

int trainer_load_gguf(plume_trainer *t, const char *path, plume_error *err) {
    plume_gguf *g = NULL;
    plume_llama_hparams hp;
    if (plume_gguf_open(&g, path, err)) return -1;
    if (plume_llama_read_hparams(g, &hp, err)) goto fail;
    plume_train_shape *s = &t->shape;
    *s = (plume_train_shape){(int)hp.n_embd, (int)hp.n_ff, (int)hp.n_layer, (int)hp.n_head, (int)hp.n_head_kv,
                             (int)hp.n_vocab, (int)hp.n_ctx, hp.rope_freq_base, hp.rms_eps, hp.tied_output ? 1 : 0,
                             hp.rope_style == PLUME_ROPE_NEOX};
    if (hp.arch != PLUME_ARCH_LLAMA || hp.qkv_bias || hp.rope_freqs || hp.rope_freq_scale != 1.0f ||
        hp.head_dim * hp.n_head != hp.n_embd) {
        plume_fail(err, "%s: the trainer implements the plain llama architecture; this %s model (biases, rope "
                        "factors or scaling, or a head size apart from n_embd / n_head) cannot be trained",
                   path, hp.arch_name);
        goto fail;
    }
    if (hp.n_rot != hp.n_embd / hp.n_head) {
        plume_fail(err, "%s: partial rotary embeddings (rope.dimension_count %u) cannot be trained", path, hp.n_rot);
        goto fail;
    }
    if (trainer_check_shape(s, err)) {
        plume_fail_prefix(err, "%s: ", path);
        goto fail;
    }
    if (trainer_alloc_params(t, err)) goto fail;
    for (int i = 0; i < t->n_params; i++) {
        tparam *p = &t->params[i];
        const plume_gguf_tensor *tt = plume_gguf_find_tensor(g, p->name);
        if (!tt || tt->n_elements != p->count) {
            plume_fail(err, "%s: tensor '%s' is missing or does not hold %u values", path, p->name, p->count);
            goto fail;
        }
        float *f = malloc((size_t)p->count * 4);
        if (!f) {
            plume_fail(err, "%s: out of memory reading '%s'", path, p->name);
            goto fail;
        }
        int rc = plume_ggml_to_f32(tt->type, tt->data, f, p->count, err) ||
                 plume_gpu_upload(p->w, 0, f, (uint64_t)p->count * 4, err);
        free(f);
        if (rc) {
            plume_fail_prefix(err, "%s: tensor '%s': ", path, p->name);
            goto fail;
        }
    }
    plume_gguf_close(g);
    return 0;
fail:
    plume_gguf_close(g);
    return -1;
}

/* The tokenizer.* keys of the GGUF at PATH, copied into w. */
static int copy_tokenizer(plume_gguf_writer *w, const char *path, plume_error *err) {
    plume_gguf *g = NULL;
    if (plume_gguf_open(&g, path, err)) return plume_fail_prefix(err, "tokenizer: ");
    int rc = 0, found = 0;
    for (uint64_t i = 0; !rc && i < g->n_kv; i++)
        if (!strncmp(g->kv[i].key.data, "tokenizer.", 10)) {
            found = 1;
            rc = plume_gguf_writer_set(w, g->kv[i].key.data, &g->kv[i].value, err);
        }
    plume_gguf_close(g);
    if (!rc && !found) return plume_fail(err, "%s: no tokenizer.* metadata to copy; hint: name a GGUF that has a "
                                              "tokenizer", path);
    return rc;
}

int plume_trainer_save(plume_trainer *t, const char *path, int type, const char *tokenizer, plume_error *err) {
    if (type != PLUME_GGML_F32 && type != PLUME_GGML_F16 && type != PLUME_GGML_Q8_0)
        return plume_fail(err, "%s: weights can be saved as F32 (0), F16 (1) or Q8_0 (8), not type %d", path, type);
    const plume_train_shape *s = &t->shape;
    plume_gguf_writer *w = plume_gguf_writer_new();
    void **data = calloc((size_t)t->n_params, sizeof *data);
    float *f = NULL;
    int rc = -1;
    if (!w || !data) {
        plume_fail(err, "%s: out of memory", path);
        goto done;
    }
    const char *tok_from = tokenizer ? tokenizer : t->init_path;
    if (plume_gguf_writer_set_str(w, "general.architecture", "llama", err) ||
        plume_gguf_writer_set_str(w, "general.name", "plume-train", err) ||
        plume_gguf_writer_set_u32(w, "llama.context_length", (uint32_t)s->ctx_len, err) ||
        plume_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)s->dim, err) ||
        plume_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)s->hidden_dim, err) ||
        plume_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)s->n_layers, err) ||
        plume_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)s->n_heads, err) ||
        plume_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)s->n_kv_heads, err) ||
        plume_gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)(s->dim / s->n_heads), err) ||
        plume_gguf_writer_set_f32(w, "llama.rope.freq_base", s->rope_base, err) ||
        plume_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", s->norm_eps, err) ||
        plume_gguf_writer_set_u32(w, "llama.vocab_size", (uint32_t)s->vocab_size, err) ||
        plume_gguf_writer_set_str(w, "plume.rope.style", s->rope_neox ? "neox" : "normal", err) ||
        plume_gguf_writer_set_u32(w, "plume.train.step", (uint32_t)t->step, err) ||
        (tok_from && copy_tokenizer(w, tok_from, err)))
        goto done;
    for (int i = 0; i < t->n_params; i++) {
        tparam *p = &t->params[i];
        if (!(f = malloc((size_t)p->count * 4))) {
            plume_fail(err, "%s: out of memory", path);
            goto done;
        }
        if (plume_trainer_read(t, i, 0, f, err)) goto done;
        plume_ggml_type ty = PLUME_GGML_F32;
        if (p->rows > 1 && type != PLUME_GGML_F32)
            ty = type == PLUME_GGML_Q8_0 && p->cols % PLUME_QK8_0 == 0 ? PLUME_GGML_Q8_0 : PLUME_GGML_F16;
        uint64_t bytes;
        if (plume_ggml_nbytes(ty, p->cols, p->count, &bytes) || !(data[i] = malloc(bytes)) ||
            plume_ggml_from_f32(ty, f, data[i], p->count, err)) {
            plume_fail(err, "%s: cannot convert '%s' to %s", path, p->name, plume_ggml_type_name(ty));
            goto done;
        }
        free(f);
        f = NULL;
        int64_t ne[2] = {p->cols, p->rows};
        if (plume_gguf_writer_add_tensor(w, p->name, ty, p->rows > 1 ? 2 : 1, ne, data[i], err)) goto done;
    }
    rc = plume_gguf_writer_write(w, path, err);
done:
    free(f);
    for (int i = 0; data && i < t->n_params; i++) free(data[i]);
    free(data);
    plume_gguf_writer_free(w);
    return rc;
}

/* ---- the optimizer sidecar -------------------------------------------------------- */

static int put(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }
static int get(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -1; }

int plume_trainer_save_state(plume_trainer *t, const char *path, plume_error *err) {
    plume_output_file out;   /* whole or not at all: a killed run keeps its previous checkpoint */
    if (plume_output_open(&out, path, err)) return -1;
    FILE *f = out.f;
    uint32_t ver = OPT_VERSION, step = (uint32_t)t->step, np = (uint32_t)t->n_params;
    uint64_t seed = t->p.seed;
    int rc = put(f, OPT_MAGIC, 8) || put(f, &ver, 4) || put(f, &step, 4) || put(f, &seed, 8) || put(f, &np, 4);
    float *buf = NULL;
    for (int i = 0; !rc && i < t->n_params; i++) {
        tparam *p = &t->params[i];
        uint32_t nl = (uint32_t)strlen(p->name);
        free(buf);
        if (!(buf = malloc((size_t)p->count * 4))) {
            rc = -1;
            break;
        }
        rc = put(f, &nl, 4) || put(f, p->name, nl) || put(f, &p->count, 4);
        rc = rc || plume_gpu_download(p->m, 0, buf, (uint64_t)p->count * 4, err) || put(f, buf, (size_t)p->count * 4);
        rc = rc || plume_gpu_download(p->v, 0, buf, (uint64_t)p->count * 4, err) || put(f, buf, (size_t)p->count * 4);
    }
    free(buf);
    if (rc) {
        int e = errno;
        plume_output_abort(&out);
        plume_fail(err, "%s: writing the optimizer state failed: %s", path, strerror(e));
        return -1;
    }
    return plume_output_commit(&out, err);
}

int plume_trainer_load_state(plume_trainer *t, const char *path, plume_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return plume_fail(err, "%s: cannot read: %s", path, strerror(errno));
    char magic[8];
    uint32_t ver, step, np;
    uint64_t seed;
    float *buf = NULL;
    int rc = -1;
    if (get(f, magic, 8) || memcmp(magic, OPT_MAGIC, 8) || get(f, &ver, 4) || ver != OPT_VERSION) {
        plume_fail(err, "%s: byte 0: not a plume optimizer state (magic %s, version %u)", path, OPT_MAGIC,
                   OPT_VERSION);
        goto done;
    }
    if (get(f, &step, 4) || get(f, &seed, 8) || get(f, &np, 4)) {
        plume_fail(err, "%s: byte 12: the header is cut short", path);
        goto done;
    }
    if (np != (uint32_t)t->n_params) {
        plume_fail(err, "%s: holds %u parameters, the model has %d; hint: resume from the GGUF saved with it", path,
                   np, t->n_params);
        goto done;
    }
    if (seed != t->p.seed || step > 100000000u) {
        plume_fail(err, "%s: saved with seed %llu at step %u; this run has seed %llu (resuming needs the same seed)",
                   path, (unsigned long long)seed, step, (unsigned long long)t->p.seed);
        goto done;
    }
    for (int i = 0; i < t->n_params; i++) {
        tparam *p = &t->params[i];
        uint32_t nl, count;
        char name[64];
        long at = ftell(f);
        if (get(f, &nl, 4) || nl >= sizeof name || get(f, name, nl) || (name[nl] = 0, strcmp(name, p->name)) ||
            get(f, &count, 4) || count != p->count) {
            plume_fail(err, "%s: byte %ld: parameter %d is not '%s' of %u values", path, at, i, p->name, p->count);
            goto done;
        }
        free(buf);
        if (!(buf = malloc((size_t)count * 4))) {
            plume_fail(err, "%s: out of memory", path);
            goto done;
        }
        if (get(f, buf, (size_t)count * 4) || plume_gpu_upload(p->m, 0, buf, (uint64_t)count * 4, err) ||
            get(f, buf, (size_t)count * 4) || plume_gpu_upload(p->v, 0, buf, (uint64_t)count * 4, err)) {
            plume_fail(err, "%s: byte %ld: the moments of '%s' are cut short", path, at, p->name);
            goto done;
        }
    }
    t->step = (int)step;
    rc = 0;
done:
    free(buf);
    fclose(f);
    return rc;
}
