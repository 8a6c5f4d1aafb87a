/* plume — llama2.c checkpoint + tokenizer → GGUF.
 *
 * The checkpoint (llama2.c's "legacy" export, run.c's read_checkpoint) is a header of 7 int32
 * (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size
 * means the classifier is not shared) and then fp32 arrays grouped by kind, every layer of one
 * kind after another: token_embedding [vocab][dim], rms_att [L][dim], wq [L][dim][dim],
 * wk [L][kv_dim][dim], wv [L][kv_dim][dim], wo [L][dim][dim], rms_ffn [L][dim],
 * w1 [L][hidden][dim], w2 [L][dim][hidden], w3 [L][hidden][dim], rms_final [dim],
 * freq_cis_real and freq_cis_imag [seq_len][head_size/2] (unused: RoPE is recomputed), then
 * wcls [vocab][dim] if not shared. A row-major W[out][in] is GGUF ne = {in, out}.
 *
 * The tokenizer (run.c's build_tokenizer): int32 max_token_length, then per token float32
 * score, int32 length, bytes. llama2.c's exporter replaced SentencePiece's '▁' by ' ' and
 * wrote BOS/EOS as "\n<s>\n" / "\n</s>\n"; both are undone here so the GGUF vocabulary is the
 * original SentencePiece one, which the "llama" tokenizer then handles like llama.cpp. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plume/convert.h"
#include "plume/tokenizer.h"

typedef struct mapped {
    const uint8_t *p;
    size_t size;
} mapped;

static int map_file(const char *path, mapped *m, plume_error *err) {
    m->p = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return plume_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return plume_fail(err, "%s: not a regular, non-empty file", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return plume_fail(err, "%s: cannot map: %s", path, strerror(e));
    m->p = p;
    m->size = (size_t)st.st_size;
    return 0;
}

static void unmap_file(mapped *m) {
    if (m->p) munmap((void *)m->p, m->size);
    m->p = NULL;
}

static int32_t le_i32(const uint8_t *b) {
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

/* ---- the vocabulary ---- */

typedef struct vocab {
    char **text;
    float *score;
    int32_t *type;
    int n;
} vocab;

static void free_vocab(vocab *v) {
    if (v->text)
        for (int i = 0; i < v->n; i++) free(v->text[i]);
    free(v->text);
    free(v->score);
    free(v->type);
}

/* Token I's llama2.c bytes → SentencePiece text and type. */
static char *spm_text(const uint8_t *b, size_t len, int id, int32_t *type) {
    int hex = 0;
    if (len == 6 && !memcmp(b, "<0x", 3) && b[5] == '>') {
        unsigned v;
        char tmp[7];
        memcpy(tmp, b, 6);
        tmp[6] = '\0';
        hex = sscanf(tmp, "<0x%2X>", &v) == 1;
    }
    if (id == 0 && len == 5 && !memcmp(b, "<unk>", 5)) { *type = PLUME_TOKEN_UNKNOWN; return strdup("<unk>"); }
    if (id == 1 && ((len == 5 && !memcmp(b, "\n<s>\n", 5)) || (len == 3 && !memcmp(b, "<s>", 3)))) {
        *type = PLUME_TOKEN_CONTROL;
        return strdup("<s>");
    }
    if (id == 2 && ((len == 6 && !memcmp(b, "\n</s>\n", 6)) || (len == 4 && !memcmp(b, "</s>", 4)))) {
        *type = PLUME_TOKEN_CONTROL;
        return strdup("</s>");
    }
    *type = hex ? PLUME_TOKEN_BYTE : PLUME_TOKEN_NORMAL;
    char *s = malloc(len * 3 + 1), *o = s;
    if (!s) return NULL;
    for (size_t i = 0; i < len; i++) {
        if (b[i] == ' ') { memcpy(o, "\xe2\x96\x81", 3); o += 3; }
        else *o++ = (char)b[i];
    }
    *o = '\0';
    return s;
}

static int read_vocab(const char *path, int n_vocab, vocab *v, plume_error *err) {
    mapped m;
    memset(v, 0, sizeof *v);
    if (map_file(path, &m, err)) return -1;
    int rc = -1;
    if (m.size < 4) { plume_fail(err, "%s: truncated in the header at byte offset 0: needs 4 bytes", path); goto done; }
    int32_t max_len = le_i32(m.p);
    if (max_len <= 0 || max_len > PLUME_LLAMA2C_MAX_TOKEN_LEN) {
        plume_fail(err, "%s: max_token_length is %d; a llama2.c tokenizer.bin has 1..%d — is this the right file?",
                   path, max_len, PLUME_LLAMA2C_MAX_TOKEN_LEN);
        goto done;
    }
    v->text = calloc((size_t)n_vocab, sizeof *v->text);
    v->score = calloc((size_t)n_vocab, sizeof *v->score);
    v->type = calloc((size_t)n_vocab, sizeof *v->type);
    if (!v->text || !v->score || !v->type) { plume_fail(err, "%s: out of memory", path); goto done; }
    size_t pos = 4;
    for (int i = 0; i < n_vocab; i++) {
        if (m.size - pos < 8) {
            plume_fail(err, "%s: truncated in token %d at byte offset %zu: the model has %d tokens but the file "
                       "ends at %zu — does the tokenizer belong to this model?", path, i, pos, n_vocab, m.size);
            goto done;
        }
        memcpy(&v->score[i], m.p + pos, 4);
        int32_t len = le_i32(m.p + pos + 4);
        if (len < 0 || len > max_len) {
            plume_fail(err, "%s: token %d at byte offset %zu has length %d, outside 0..max_token_length %d",
                       path, i, pos + 4, len, max_len);
            goto done;
        }
        pos += 8;
        if (m.size - pos < (size_t)len) {
            plume_fail(err, "%s: truncated in token %d's %d bytes at byte offset %zu", path, i, len, pos);
            goto done;
        }
        v->text[i] = spm_text(m.p + pos, (size_t)len, i, &v->type[i]);
        if (!v->text[i]) { plume_fail(err, "%s: out of memory", path); goto done; }
        v->n = i + 1;
        pos += (size_t)len;
    }
    if (pos != m.size) {
        plume_fail(err, "%s: %zu bytes left after the %d tokens the model has; the tokenizer does not match the model",
                   path, m.size - pos, n_vocab);
        goto done;
    }
    rc = 0;
done:
    unmap_file(&m);
    return rc;
}

/* ---- the weights ---- */

typedef struct bufs {
    void **a;
    size_t n, cap;
} bufs;

static void *bufs_alloc(bufs *b, size_t size) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        void **a = realloc(b->a, cap * sizeof *a);
        if (!a) return NULL;
        b->a = a;
        b->cap = cap;
    }
    void *p = malloc(size ? size : 1);
    if (p) b->a[b->n++] = p;
    return p;
}

static void bufs_free(bufs *b) {
    for (size_t i = 0; i < b->n; i++) free(b->a[i]);
    free(b->a);
}

/* Adds one tensor of N_DIMS (ne innermost first) from the fp32 data at SRC, stored as TYPE
 * (F32 data is written straight from the mapping; other types are converted into a buffer). */
static int add(plume_gguf_writer *w, bufs *b, const char *name, uint32_t n_dims, int64_t ne0, int64_t ne1,
               const float *src, plume_ggml_type type, plume_convert_stats *st, plume_error *err) {
    int64_t ne[2] = { ne0, ne1 };
    size_t n = (size_t)ne0 * (size_t)(n_dims == 2 ? ne1 : 1);
    if (n_dims == 1) type = PLUME_GGML_F32;
    else if (type != PLUME_GGML_F32 && type != PLUME_GGML_F16 && ne0 % 32 != 0) type = PLUME_GGML_F16;
    const void *data = src;
    if (type != PLUME_GGML_F32) {
        uint64_t bytes;
        if (plume_ggml_nbytes(type, ne0, n, &bytes)) return plume_fail(err, "convert: %s: bad size", name);
        void *out = bufs_alloc(b, (size_t)bytes);
        if (!out) return plume_fail(err, "convert: out of memory for %s", name);
        if (plume_ggml_from_f32(type, src, out, n, err)) return -1;
        data = out;
        if (type == PLUME_GGML_Q8_0 || type == PLUME_GGML_Q4_0) st->n_quantized++;
    }
    uint64_t bytes = 0;
    plume_ggml_nbytes(type, ne0, n, &bytes);
    st->out_bytes += bytes;
    st->n_tensors++;
    return plume_gguf_writer_add_tensor(w, name, type, n_dims, ne, data, err);
}

static uint32_t file_type_of(plume_ggml_type t) {
    /* llama.cpp's general.file_type (LLAMA_FTYPE_*): ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7 */
    switch (t) {
    case PLUME_GGML_F16: return 1;
    case PLUME_GGML_Q4_0: return 2;
    case PLUME_GGML_Q8_0: return 7;
    default: return 0;
    }
}

int plume_convert_llama2c(const char *model_path, const char *tokenizer_path, const char *out_path,
                          plume_ggml_type type, plume_convert_stats *stats, plume_error *err) {
    plume_convert_stats st_local;
    plume_convert_stats *st = stats ? stats : &st_local;
    memset(st, 0, sizeof *st);
    if (type != PLUME_GGML_F32 && type != PLUME_GGML_F16 && type != PLUME_GGML_Q8_0 && type != PLUME_GGML_Q4_0)
        return plume_fail(err, "convert: output type %s is not one of f32, f16, q8_0, q4_0", plume_ggml_type_name(type));
    mapped m;
    if (map_file(model_path, &m, err)) return -1;
    vocab voc = { 0 };
    bufs b = { 0 };
    plume_gguf_writer *w = NULL;
    int rc = -1;

    if (m.size < 28) {
        plume_fail(err, "%s: truncated in the header at byte offset 0: needs 28 bytes (7 int32), the file has %zu",
                   model_path, m.size);
        goto done;
    }
    int32_t h[7];
    for (int i = 0; i < 7; i++) h[i] = le_i32(m.p + 4 * i);
    int64_t D = h[0], H = h[1], L = h[2], NH = h[3], NKV = h[4], V = h[5] < 0 ? -(int64_t)h[5] : h[5], S = h[6];
    int shared = h[5] > 0;
    static const char *const names[7] = { "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len" };
    const int64_t vals[7] = { D, H, L, NH, NKV, V, S };
    const int64_t caps[7] = { PLUME_LLAMA2C_MAX_DIM, PLUME_LLAMA2C_MAX_DIM * 8, PLUME_LLAMA2C_MAX_LAYERS,
                              PLUME_LLAMA2C_MAX_DIM, PLUME_LLAMA2C_MAX_DIM, PLUME_LLAMA2C_MAX_VOCAB, PLUME_LLAMA2C_MAX_SEQ };
    for (int i = 0; i < 7; i++)
        if (vals[i] <= 0 || vals[i] > caps[i]) {
            plume_fail(err, "%s: header field %s (byte offset %d) is %d, outside 1..%" PRId64
                       "; is this a llama2.c checkpoint (legacy version 0 export)?", model_path, names[i], 4 * i,
                       h[i], caps[i]);
            goto done;
        }
    if (D % NH || NH % NKV || (D / NH) % 2) {
        plume_fail(err, "%s: dim %" PRId64 " must be a multiple of n_heads %" PRId64 " with an even head size, and "
                   "n_heads a multiple of n_kv_heads %" PRId64, model_path, D, NH, NKV);
        goto done;
    }
    int64_t HS = D / NH, KV = HS * NKV;
    /* Element counts of each group, in file order; int64 cannot overflow with the caps above. */
    const int64_t n_emb = V * D, n_norm = L * D, n_q = L * D * D, n_k = L * KV * D, n_ff = L * H * D,
                  n_freq = S * (HS / 2);
    int64_t total = n_emb + n_norm + n_q + 2 * n_k + n_q + n_norm + 3 * n_ff + D + 2 * n_freq + (shared ? 0 : n_emb);
    if ((uint64_t)total * 4 + 28 != m.size) {
        plume_fail(err, "%s: the header (dim %" PRId64 ", hidden %" PRId64 ", %" PRId64 " layers, %" PRId64 " heads, %" PRId64
                   " kv heads, vocab %" PRId64 "%s, seq_len %" PRId64 ") implies %" PRId64 " bytes but the file has %zu%s",
                   model_path, D, H, L, NH, NKV, V, shared ? "" : " unshared", S, total * 4 + 28, m.size,
                   (uint64_t)total * 4 + 28 > m.size ? ": it is truncated" : ": it is not a llama2.c version-0 checkpoint");
        goto done;
    }
    st->dim = (int)D; st->hidden_dim = (int)H; st->n_layers = (int)L; st->n_heads = (int)NH;
    st->n_kv_heads = (int)NKV; st->vocab_size = (int)V; st->seq_len = (int)S; st->shared_classifier = shared;

    if (read_vocab(tokenizer_path, (int)V, &voc, err)) goto done;

    w = plume_gguf_writer_new();
    if (!w) { plume_fail(err, "convert: out of memory"); goto done; }
    const char *base = strrchr(model_path, '/');
    base = base ? base + 1 : model_path;
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot && !strcmp(dot, ".bin")) *dot = '\0';
    if (plume_gguf_writer_set_str(w, "general.architecture", "llama", err) ||
        plume_gguf_writer_set_str(w, "general.name", name, err) ||
        plume_gguf_writer_set_u32(w, "general.file_type", file_type_of(type), err) ||
        plume_gguf_writer_set_u32(w, "llama.context_length", (uint32_t)S, err) ||
        plume_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)D, err) ||
        plume_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)H, err) ||
        plume_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)L, err) ||
        plume_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)NH, err) ||
        plume_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)NKV, err) ||
        plume_gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)HS, err) ||
        plume_gguf_writer_set_f32(w, "llama.rope.freq_base", 10000.0f, err) ||
        /* run.c's rmsnorm adds 1e-5 */
        plume_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, err) ||
        plume_gguf_writer_set_u32(w, "llama.vocab_size", (uint32_t)V, err) ||
        plume_gguf_writer_set_str(w, "plume.rope.style", "normal", err) ||
        plume_gguf_writer_set_str(w, "plume.converted_from", "llama2.c", err) ||
        plume_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err) ||
        plume_gguf_writer_set_arr(w, "tokenizer.ggml.tokens", PLUME_GGUF_STRING, (uint64_t)V, voc.text, err) ||
        plume_gguf_writer_set_arr(w, "tokenizer.ggml.scores", PLUME_GGUF_FLOAT32, (uint64_t)V, voc.score, err) ||
        plume_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, (uint64_t)V, voc.type, err) ||
        plume_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0, err) ||
        plume_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, err) ||
        plume_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, err) ||
        plume_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true, err) ||
        plume_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", false, err) ||
        plume_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", true, err))
        goto done;

    const float *f = (const float *)(const void *)(m.p + 28);
    const float *emb = f, *rms_att = emb + n_emb, *wq = rms_att + n_norm, *wk = wq + n_q, *wv = wk + n_k,
                *wo = wv + n_k, *rms_ffn = wo + n_q, *w1 = rms_ffn + n_norm, *w2 = w1 + n_ff, *w3 = w2 + n_ff,
                *rms_final = w3 + n_ff, *wcls = rms_final + D + 2 * n_freq;
    if (add(w, &b, "token_embd.weight", 2, D, V, emb, type, st, err)) goto done;
    for (int64_t l = 0; l < L; l++) {
        char tn[64];
#define ADD(suffix, nd, ne0, ne1, src) \
        do { snprintf(tn, sizeof tn, "blk.%" PRId64 ".%s", l, suffix); \
             if (add(w, &b, tn, nd, ne0, ne1, src, type, st, err)) goto done; } while (0)
        ADD("attn_norm.weight", 1, D, 1, rms_att + l * D);
        ADD("attn_q.weight", 2, D, D, wq + l * D * D);
        ADD("attn_k.weight", 2, D, KV, wk + l * KV * D);
        ADD("attn_v.weight", 2, D, KV, wv + l * KV * D);
        ADD("attn_output.weight", 2, D, D, wo + l * D * D);
        ADD("ffn_norm.weight", 1, D, 1, rms_ffn + l * D);
        ADD("ffn_gate.weight", 2, D, H, w1 + l * H * D);
        ADD("ffn_down.weight", 2, H, D, w2 + l * D * H);
        ADD("ffn_up.weight", 2, D, H, w3 + l * H * D);
#undef ADD
    }
    if (add(w, &b, "output_norm.weight", 1, D, 1, rms_final, type, st, err)) goto done;
    if (!shared && add(w, &b, "output.weight", 2, D, V, wcls, type, st, err)) goto done;
    if (plume_gguf_writer_write(w, out_path, err)) goto done;
    rc = 0;
done:
    plume_gguf_writer_free(w);
    bufs_free(&b);
    free_vocab(&voc);
    unmap_file(&m);
    return rc;
}
