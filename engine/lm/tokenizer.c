/* plume — tokenizers from GGUF metadata: SentencePiece-style ("llama") and GPT-2 byte-level
 * BPE ("gpt2"). See tokenizer.h for the algorithms; the comments here say why each step is so.
 *
 * Both tokenizers work on a list of symbols (byte spans of the text) linked left/right, and a
 * priority queue of adjacent pairs that could merge. A pair is queued with the length it had
 * when queued; when it comes out, a pair whose sides have since merged with something else is
 * stale and skipped. That is the classic linear-ish BPE, and the order of merges (best first,
 * leftmost on ties) is what makes the result match the reference tokenizers exactly. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "plume/pretokenize.h"
#include "plume/tokenizer.h"

/* ---- a string → int32 hash map over borrowed keys ---- */

typedef struct smap {
    size_t cap;            /* power of two */
    int32_t *slot;         /* entry index or -1 */
    const char **key;
    uint32_t *klen;
    int32_t *val;
    size_t n;
} smap;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int smap_init(smap *m, size_t n) {
    m->cap = 16;
    while (m->cap < n * 2) m->cap *= 2;
    m->slot = malloc(m->cap * sizeof *m->slot);
    m->key = malloc((n ? n : 1) * sizeof *m->key);
    m->klen = malloc((n ? n : 1) * sizeof *m->klen);
    m->val = malloc((n ? n : 1) * sizeof *m->val);
    m->n = 0;
    if (!m->slot || !m->key || !m->klen || !m->val) return -1;
    memset(m->slot, 0xff, m->cap * sizeof *m->slot);
    return 0;
}

static void smap_free(smap *m) {
    free(m->slot);
    free(m->key);
    free(m->klen);
    free(m->val);
}

static int32_t smap_get(const smap *m, const char *k, size_t n) {
    for (size_t i = hash_bytes(k, n) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        int32_t e = m->slot[i];
        if (e < 0) return -1;
        if (m->klen[e] == n && !memcmp(m->key[e], k, n)) return m->val[e];
    }
}

/* Adds K → V; an existing key keeps its value unless OVERWRITE. Capacity fixed by smap_init. */
static void smap_put(smap *m, const char *k, size_t n, int32_t v, bool overwrite) {
    size_t i = hash_bytes(k, n) & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        int32_t e = m->slot[i];
        if (e < 0) break;
        if (m->klen[e] == n && !memcmp(m->key[e], k, n)) {
            if (overwrite) m->val[e] = v;
            return;
        }
    }
    m->key[m->n] = k;
    m->klen[m->n] = (uint32_t)n;
    m->val[m->n] = v;
    m->slot[i] = (int32_t)m->n++;
}

/* ---- the tokenizer ---- */

struct plume_tokenizer {
    plume_tok_kind kind;
    int32_t n_vocab;
    plume_gguf_str *text;     /* stored token texts */
    float *score;
    uint8_t *type;
    char **piece;             /* decoded bytes of each token */
    uint32_t *piece_len;
    smap vocab;               /* text → id */
    smap merges;              /* "left right" → rank (gpt2) */
    char **merge_text;
    uint64_t n_merges;
    int32_t bos, eos, unk;
    bool add_bos, add_eos, add_space_prefix;
    int32_t byte_token[256];  /* spm: the <0xXX> token of each byte; gpt2: the token of its code point */
    plume_pretok pre;         /* gpt2: how the text is cut into words */
    bool ignore_merges;       /* gpt2: a word that is a token is that token (Llama 3) */
    bool nfc;                 /* gpt2: NFC-normalize the text first (Qwen) */
    int32_t *special;         /* control, user-defined and unknown tokens, longest text first */
    size_t n_special;
    bool special_first[256];  /* a special token starts with this byte */
    int32_t *eog;             /* tokens that end generation */
    size_t n_eog;
    char *chat_template;      /* tokenizer.chat_template, or NULL */
};

void plume_tokenizer_free(plume_tokenizer *t) {
    if (!t) return;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        if (t->text) free(t->text[i].data);
        if (t->piece) free(t->piece[i]);
    }
    free(t->text);
    free(t->score);
    free(t->type);
    free(t->piece);
    free(t->piece_len);
    smap_free(&t->vocab);
    if (t->merge_text)
        for (uint64_t i = 0; i < t->n_merges; i++) free(t->merge_text[i]);
    free(t->merge_text);
    smap_free(&t->merges);
    free(t->special);
    free(t->eog);
    free(t->chat_template);
    free(t);
}

/* GPT-2's byte ↔ code point table: printable Latin-1 bytes map to themselves, the other 68
 * bytes to U+0100.. in byte order, so every byte has a visible, non-space stand-in. */
static void gpt2_byte_map(uint32_t byte_to_cp[256]) {
    int n = 0;
    for (int b = 0; b < 256; b++) {
        bool keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        byte_to_cp[b] = keep ? (uint32_t)b : 256u + (uint32_t)n++;
    }
}

static int utf8_put(char *out, uint32_t cp) {
    return (int)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)out);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* "<0xAB>" → 0xAB, else -1. */
static int parse_byte_token(const plume_gguf_str *s) {
    if (s->len != 6 || memcmp(s->data, "<0x", 3) || s->data[5] != '>') return -1;
    int hi = hexval(s->data[3]), lo = hexval(s->data[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* The bytes a token stands for, computed once. */
static int build_piece(plume_tokenizer *t, int32_t id, const uint32_t cp_to_byte[], plume_error *err) {
    const plume_gguf_str *s = &t->text[id];
    uint8_t type = t->type[id];
    char *out = malloc(s->len * 3 + 4);   /* '▁' (3 bytes) → ' ' only shrinks; ▅ needs 3 */
    if (!out) return plume_fail(err, "tokenizer: out of memory");
    size_t n = 0;
    if (type == PLUME_TOKEN_CONTROL || type == PLUME_TOKEN_UNUSED) {
        n = 0;
    } else if (type == PLUME_TOKEN_UNKNOWN) {
        memcpy(out, "\xe2\x96\x85", 3);   /* '▅', what llama.cpp shows for <unk> */
        n = 3;
    } else if (t->kind == PLUME_TOK_SPM) {
        int b = type == PLUME_TOKEN_BYTE ? parse_byte_token(s) : -1;
        if (b >= 0) {
            out[n++] = (char)b;
        } else {
            for (uint64_t i = 0; i < s->len; i++) {
                if (i + 2 < s->len && !memcmp(s->data + i, "\xe2\x96\x81", 3)) {
                    out[n++] = ' ';
                    i += 2;
                } else {
                    out[n++] = s->data[i];
                }
            }
        }
    } else if (type == PLUME_TOKEN_USER_DEFINED) {
        memcpy(out, s->data, s->len);
        n = s->len;
    } else {
        /* gpt2: each code point is a byte's stand-in; a code point outside the table is kept. */
        const uint8_t *p = (const uint8_t *)s->data;
        utf8proc_ssize_t left = (utf8proc_ssize_t)s->len;
        while (left > 0) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t k = utf8proc_iterate(p, left, &cp);
            if (k <= 0) { out[n++] = (char)*p; p++; left--; continue; }
            if (cp >= 0 && cp < 512 && cp_to_byte[cp] < 256) out[n++] = (char)cp_to_byte[cp];
            else { memcpy(out + n, p, (size_t)k); n += (size_t)k; }
            p += k;
            left -= k;
        }
    }
    out[n] = '\0';
    t->piece[id] = out;
    t->piece_len[id] = (uint32_t)n;
    return 0;
}

static int get_opt_token_id(const plume_gguf *g, const char *key, int32_t n_vocab, int32_t *out, plume_error *err) {
    if (!plume_gguf_find(g, key)) return 0;
    int64_t v;
    if (plume_gguf_get_i64(g, key, &v, err)) return -1;
    if (v < 0 || v >= n_vocab)
        return plume_fail(err, "%s: %s is %" PRId64 ", outside the vocabulary of %d tokens", g->path, key, v, n_vocab);
    *out = (int32_t)v;
    return 0;
}

static int get_opt_bool(const plume_gguf *g, const char *key, bool *out, plume_error *err) {
    if (!plume_gguf_find(g, key)) return 0;
    return plume_gguf_get_bool(g, key, out, err);
}

/* The tokens matched whole inside a text (tokenize's special-token partition), longest first so
 * that "<|im_start|>" wins over a shorter token that is its prefix. */
typedef struct len_id { uint64_t len; int32_t id; } len_id;

static int by_length_desc(const void *a, const void *b) {
    const len_id *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static bool is_special_type(uint8_t ty) {
    return ty == PLUME_TOKEN_CONTROL || ty == PLUME_TOKEN_USER_DEFINED || ty == PLUME_TOKEN_UNKNOWN;
}

static int collect_special(plume_tokenizer *t, plume_error *err) {
    size_t n = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) n += is_special_type(t->type[i]) && t->text[i].len;
    if (!n) return 0;
    len_id *order = malloc(n * sizeof *order);
    if (!order || !(t->special = malloc(n * sizeof *t->special))) {
        free(order);
        return plume_fail(err, "tokenizer: out of memory");
    }
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (is_special_type(t->type[i]) && t->text[i].len) {
            order[t->n_special++] = (len_id){ t->text[i].len, i };
            t->special_first[(uint8_t)t->text[i].data[0]] = true;
        }
    qsort(order, n, sizeof *order, by_length_desc);
    for (size_t i = 0; i < n; i++) t->special[i] = order[i].id;
    free(order);
    return 0;
}

/* Tokens that end a turn or a text, besides EOS: the GGUF's own keys, then the conventional names
 * of the chat families (a vocabulary holding "<|eot_id|>" is a Llama 3 one, and so on). */
static const char *const eog_names[] = { "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end_of_text|>",
                                         "<|endoftext|>", "<end_of_turn>", "<|end|>" };

static int add_eog(plume_tokenizer *t, int32_t id) {
    if (id < 0) return 0;
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return 0;
    int32_t *a = realloc(t->eog, (t->n_eog + 1) * sizeof *a);
    if (!a) return -1;
    t->eog = a;
    t->eog[t->n_eog++] = id;
    return 0;
}

static int collect_eog(plume_tokenizer *t, const plume_gguf *g, plume_error *err) {
    int32_t eot = -1, eom = -1;
    if (get_opt_token_id(g, "tokenizer.ggml.eot_token_id", t->n_vocab, &eot, err) ||
        get_opt_token_id(g, "tokenizer.ggml.eom_token_id", t->n_vocab, &eom, err))
        return -1;
    if (add_eog(t, t->eos) || add_eog(t, eot) || add_eog(t, eom)) return plume_fail(err, "tokenizer: out of memory");
    for (size_t i = 0; i < sizeof eog_names / sizeof eog_names[0]; i++) {
        int32_t id = smap_get(&t->vocab, eog_names[i], strlen(eog_names[i]));
        if (id >= 0 && t->type[id] != PLUME_TOKEN_NORMAL && add_eog(t, id)) return plume_fail(err, "tokenizer: out of memory");
    }
    return 0;
}

static int read_chat_template(plume_tokenizer *t, const plume_gguf *g, plume_error *err) {
    if (!plume_gguf_find(g, "tokenizer.chat_template")) return 0;
    const char *tmpl;
    if (plume_gguf_get_str(g, "tokenizer.chat_template", &tmpl, err)) return -1;
    return (t->chat_template = strdup(tmpl)) ? 0 : plume_fail(err, "tokenizer: out of memory");
}

int plume_tokenizer_from_gguf(plume_tokenizer **out, const plume_gguf *g, plume_error *err) {
    *out = NULL;
    const char *model;
    if (plume_gguf_get_str(g, "tokenizer.ggml.model", &model, err)) return -1;
    plume_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return plume_fail(err, "tokenizer: out of memory");
    if (!strcmp(model, "llama")) t->kind = PLUME_TOK_SPM;
    else if (!strcmp(model, "gpt2")) t->kind = PLUME_TOK_GPT2;
    else {
        free(t);
        return plume_fail(err, "%s: tokenizer.ggml.model is '%s'; plume has the 'llama' (SentencePiece) and "
                          "'gpt2' (byte-level BPE) tokenizers", g->path, model);
    }
    if (t->kind == PLUME_TOK_GPT2 && plume_gguf_find(g, "tokenizer.ggml.pre")) {
        /* Byte-level BPE models differ in how they cut text into words; using another model's
         * rule would tokenize silently wrong, so an unknown one is refused. */
        const char *pre;
        if (plume_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err)) goto fail;
        if (plume_pretok_from_name(pre, &t->pre)) {
            const char *near = plume_pretok_closest(pre);
            plume_fail(err, "%s: tokenizer.ggml.pre is '%s'; plume implements the pre-tokenizers %s%s%s%s", g->path, pre,
                       plume_pretok_known_names(), near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            goto fail;
        }
        t->ignore_merges = t->pre == PLUME_PRETOK_LLAMA3;
        t->nfc = t->pre == PLUME_PRETOK_QWEN2;
    }
    const plume_gguf_str *tokens;
    uint64_t n;
    if (plume_gguf_get_arr(g, "tokenizer.ggml.tokens", PLUME_GGUF_STRING, 0, (const void **)&tokens, &n, err)) goto fail;
    if (n == 0 || n > INT32_MAX / 2) {
        plume_fail(err, "%s: tokenizer.ggml.tokens has %" PRIu64 " entries", g->path, n);
        goto fail;
    }
    t->n_vocab = (int32_t)n;
    t->text = calloc(n, sizeof *t->text);
    t->score = calloc(n, sizeof *t->score);
    t->type = calloc(n, sizeof *t->type);
    t->piece = calloc(n, sizeof *t->piece);
    t->piece_len = calloc(n, sizeof *t->piece_len);
    if (!t->text || !t->score || !t->type || !t->piece || !t->piece_len || smap_init(&t->vocab, n)) {
        plume_fail(err, "tokenizer: out of memory");
        goto fail;
    }
    for (uint64_t i = 0; i < n; i++) {
        t->text[i].data = malloc(tokens[i].len + 1);
        if (!t->text[i].data) { plume_fail(err, "tokenizer: out of memory"); goto fail; }
        memcpy(t->text[i].data, tokens[i].data, tokens[i].len + 1);
        t->text[i].len = tokens[i].len;
        t->type[i] = PLUME_TOKEN_NORMAL;
        /* A later duplicate wins, as in llama.cpp's token_to_id map. */
        smap_put(&t->vocab, t->text[i].data, t->text[i].len, (int32_t)i, true);
    }
    if (plume_gguf_find(g, "tokenizer.ggml.scores")) {
        const float *sc;
        if (plume_gguf_get_arr(g, "tokenizer.ggml.scores", PLUME_GGUF_FLOAT32, n, (const void **)&sc, NULL, err)) goto fail;
        memcpy(t->score, sc, n * sizeof *sc);
    } else if (t->kind == PLUME_TOK_SPM) {
        plume_fail(err, "%s: a 'llama' tokenizer needs tokenizer.ggml.scores", g->path);
        goto fail;
    }
    if (plume_gguf_find(g, "tokenizer.ggml.token_type")) {
        const int32_t *ty;
        if (plume_gguf_get_arr(g, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, n, (const void **)&ty, NULL, err)) goto fail;
        for (uint64_t i = 0; i < n; i++) {
            if (ty[i] < 0 || ty[i] > PLUME_TOKEN_BYTE) {
                plume_fail(err, "%s: tokenizer.ggml.token_type[%" PRIu64 "] is %d; types are 0..6", g->path, i, ty[i]);
                goto fail;
            }
            t->type[i] = (uint8_t)ty[i];
        }
    }

    t->bos = t->eos = t->unk = -1;
    if (t->kind == PLUME_TOK_SPM) {
        /* SentencePiece's fixed ids unless the file says otherwise. */
        t->unk = n > 0 ? 0 : -1;
        t->bos = n > 1 ? 1 : -1;
        t->eos = n > 2 ? 2 : -1;
        t->add_bos = true;
        t->add_space_prefix = true;
    }
    if (get_opt_token_id(g, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos, err) ||
        get_opt_token_id(g, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos, err) ||
        get_opt_token_id(g, "tokenizer.ggml.unknown_token_id", t->n_vocab, &t->unk, err) ||
        get_opt_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos, err) ||
        get_opt_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos, err) ||
        get_opt_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix, err))
        goto fail;
    if (t->add_bos && t->bos < 0) t->add_bos = false;
    if (t->add_eos && t->eos < 0) t->add_eos = false;

    uint32_t byte_to_cp[256], cp_to_byte[512];
    for (int i = 0; i < 512; i++) cp_to_byte[i] = 256;   /* "not a byte" */
    for (int b = 0; b < 256; b++) t->byte_token[b] = -1;
    if (t->kind == PLUME_TOK_SPM) {
        for (int32_t i = 0; i < t->n_vocab; i++) {
            int b = parse_byte_token(&t->text[i]);
            if (b >= 0 && t->byte_token[b] < 0) t->byte_token[b] = i;
        }
    } else {
        gpt2_byte_map(byte_to_cp);
        for (int b = 0; b < 256; b++) {
            char buf[4];
            int k = utf8_put(buf, byte_to_cp[b]);
            cp_to_byte[byte_to_cp[b]] = (uint32_t)b;
            t->byte_token[b] = smap_get(&t->vocab, buf, (size_t)k);
        }
        const plume_gguf_str *merges;
        if (plume_gguf_get_arr(g, "tokenizer.ggml.merges", PLUME_GGUF_STRING, 0, (const void **)&merges, &t->n_merges, err))
            goto fail;
        if (t->n_merges > INT32_MAX / 2) { plume_fail(err, "%s: too many merges", g->path); goto fail; }
        t->merge_text = calloc(t->n_merges ? t->n_merges : 1, sizeof *t->merge_text);
        if (!t->merge_text || smap_init(&t->merges, t->n_merges)) { plume_fail(err, "tokenizer: out of memory"); goto fail; }
        for (uint64_t i = 0; i < t->n_merges; i++) {
            /* "left right": exactly one separating space (the sides never hold a space: it is 'Ġ'). */
            const char *sp = memchr(merges[i].data, ' ', merges[i].len);
            if (!sp || sp == merges[i].data || sp == merges[i].data + merges[i].len - 1) {
                plume_fail(err, "%s: tokenizer.ggml.merges[%" PRIu64 "] is '%.60s', not 'LEFT RIGHT'", g->path, i,
                           merges[i].data);
                goto fail;
            }
            if (!(t->merge_text[i] = malloc(merges[i].len + 1))) { plume_fail(err, "tokenizer: out of memory"); goto fail; }
            memcpy(t->merge_text[i], merges[i].data, merges[i].len + 1);
            smap_put(&t->merges, t->merge_text[i], merges[i].len, (int32_t)i, false);   /* first rank wins */
        }
    }
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (build_piece(t, i, cp_to_byte, err)) goto fail;
    if (collect_special(t, err) || collect_eog(t, g, err) || read_chat_template(t, g, err)) goto fail;
    *out = t;
    return 0;
fail:
    plume_tokenizer_free(t);
    return -1;
}

plume_tok_kind plume_tokenizer_kind(const plume_tokenizer *t) { return t->kind; }
int32_t plume_tokenizer_n_vocab(const plume_tokenizer *t) { return t->n_vocab; }
int32_t plume_tokenizer_bos(const plume_tokenizer *t) { return t->bos; }
int32_t plume_tokenizer_eos(const plume_tokenizer *t) { return t->eos; }
bool plume_tokenizer_adds_bos(const plume_tokenizer *t) { return t->add_bos; }
bool plume_tokenizer_adds_eos(const plume_tokenizer *t) { return t->add_eos; }

const char *plume_tokenizer_token_text(const plume_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab ? t->text[id].data : NULL;
}

plume_token_type plume_tokenizer_token_type(const plume_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab ? (plume_token_type)t->type[id] : PLUME_TOKEN_UNDEFINED;
}

float plume_tokenizer_token_score(const plume_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab ? t->score[id] : 0.0f;
}

bool plume_tokenizer_is_eog(const plume_tokenizer *t, int32_t id) {
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return true;
    return false;
}

size_t plume_tokenizer_eog(const plume_tokenizer *t, const int32_t **ids) {
    *ids = t->eog;
    return t->n_eog;
}

plume_pretok plume_tokenizer_pre(const plume_tokenizer *t) { return t->pre; }

const char *plume_tokenizer_chat_template(const plume_tokenizer *t) { return t->chat_template; }

int32_t plume_tokenizer_lookup(const plume_tokenizer *t, const char *text) {
    return smap_get(&t->vocab, text, strlen(text));
}

/* ---- the shared symbol list and pair queue ---- */

typedef struct sym {
    const char *text;
    size_t n;            /* 0 once merged into its left neighbour */
    int prev, next;
} sym;

typedef struct pair {
    int left, right;
    float score;         /* spm: higher first; gpt2: -rank, so also higher first */
    size_t size;         /* bytes of left+right when queued: a mismatch later means stale */
} pair;

typedef struct heap {
    pair *a;
    size_t n, cap;
} heap;

/* a comes out before b: better score, then the leftmost. */
static bool pair_before(const pair *a, const pair *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static int heap_push(heap *h, pair p) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        pair *a = realloc(h->a, cap * sizeof *a);
        if (!a) return -1;
        h->a = a;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0 && pair_before(&p, &h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = p;
    return 0;
}

static pair heap_pop(heap *h) {
    pair top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && pair_before(&h->a[c + 1], &h->a[c])) c++;
        if (!pair_before(&h->a[c], &last)) break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n) h->a[i] = last;
    return top;
}

/* Output buffer of ids. */
typedef struct ids {
    int32_t *a;
    size_t n, cap;
} ids;

static int ids_push(ids *v, int32_t id) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int32_t *a = realloc(v->a, cap * sizeof *a);
        if (!a) return -1;
        v->a = a;
        v->cap = cap;
    }
    v->a[v->n++] = id;
    return 0;
}

/* Length of the UTF-8 sequence a lead byte announces (a stray continuation byte counts as 1). */
static size_t utf8_len(uint8_t c) {
    static const uint8_t len[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4 };
    return len[c >> 4];
}

/* Links the symbols of TEXT[0..n) split at UTF-8 character boundaries. */
static int split_chars(const char *text, size_t n, sym **out, int *count) {
    sym *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return -1;
    int k = 0;
    for (size_t off = 0; off < n; k++) {
        size_t len = utf8_len((uint8_t)text[off]);
        if (len > n - off) len = n - off;
        s[k] = (sym){ text + off, len, k - 1, off + len < n ? k + 1 : -1 };
        off += len;
    }
    *out = s;
    *count = k;
    return 0;
}

/* ---- SentencePiece ("llama") ---- */

static int spm_try_pair(const plume_tokenizer *t, const sym *s, int left, int right, heap *h) {
    if (left < 0 || right < 0) return 0;
    /* The two symbols are adjacent in the text, so their concatenation is one span. */
    size_t size = s[left].n + s[right].n;
    int32_t id = smap_get(&t->vocab, s[left].text, size);
    if (id < 0) return 0;
    return heap_push(h, (pair){ left, right, t->score[id], size });
}

static int spm_emit_bytes(const plume_tokenizer *t, const char *p, size_t n, ids *out) {
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)p[i];
        int32_t id = t->byte_token[b];
        if (id < 0) id = smap_get(&t->vocab, p + i, 1);
        if (id < 0) id = t->unk;
        if (id >= 0 && ids_push(out, id)) return -1;
    }
    return 0;
}

static int spm_tokenize(const plume_tokenizer *t, const char *text, size_t len, bool prefix, ids *out) {
    if (len == 0) return 0;   /* '' → [] as SentencePiece does, no dummy prefix */
    /* Dummy prefix, then every ' ' becomes '▁' (3 bytes). */
    size_t spaces = 0;
    for (size_t i = 0; i < len; i++) spaces += text[i] == ' ';
    size_t cap = (len + 1) + (spaces + 1) * 2;
    char *buf = malloc(cap);
    if (!buf) return -1;
    size_t n = 0;
    if (prefix) { memcpy(buf, "\xe2\x96\x81", 3); n = 3; }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') { memcpy(buf + n, "\xe2\x96\x81", 3); n += 3; }
        else buf[n++] = text[i];
    }
    sym *s;
    int count;
    heap h = { 0 };
    int rc = -1;
    if (split_chars(buf, n, &s, &count)) { free(buf); return -1; }
    for (int i = 1; i < count; i++)
        if (spm_try_pair(t, s, i - 1, i, &h)) goto done;
    while (h.n) {
        pair p = heap_pop(&h);
        sym *l = &s[p.left], *r = &s[p.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != p.size) continue;   /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = p.left;
        if (spm_try_pair(t, s, l->prev, p.left, &h) || spm_try_pair(t, s, p.left, l->next, &h)) goto done;
    }
    /* Every merged symbol is a token by construction; a lone character may not be: bytes then. */
    for (int i = 0; i < count && count > 0; i = s[i].next) {
        int32_t id = smap_get(&t->vocab, s[i].text, s[i].n);
        if (id >= 0 ? ids_push(out, id) : spm_emit_bytes(t, s[i].text, s[i].n, out)) goto done;
        if (s[i].next < 0) break;
    }
    rc = 0;
done:
    free(h.a);
    free(s);
    free(buf);
    return rc;
}

/* ---- GPT-2 byte-level BPE ---- */

typedef struct gpt2_ctx {
    const plume_tokenizer *t;
    const char *text;
    const size_t *off;    /* byte offset of each code point, off[n] = length */
    uint32_t byte_to_cp[256];
    ids *out;
} gpt2_ctx;

static int gpt2_try_pair(const plume_tokenizer *t, const sym *s, int left, int right, heap *h, char *key) {
    if (left < 0 || right < 0) return 0;
    memcpy(key, s[left].text, s[left].n);
    key[s[left].n] = ' ';
    memcpy(key + s[left].n + 1, s[right].text, s[right].n);
    int32_t rank = smap_get(&t->merges, key, s[left].n + 1 + s[right].n);
    if (rank < 0) return 0;
    return heap_push(h, (pair){ left, right, -(float)rank, s[left].n + s[right].n });
}

/* One pre-token: map its bytes to their stand-in code points, then merge by rank. */
static int gpt2_word(void *vctx, size_t a, size_t b) {
    gpt2_ctx *c = vctx;
    const plume_tokenizer *t = c->t;
    size_t lo = c->off[a], hi = c->off[b], nb = hi - lo;
    char *mapped = malloc(nb * 2 + 1), *key = malloc(nb * 2 + 2);
    sym *s = malloc((nb ? nb : 1) * sizeof *s);
    heap h = { 0 };
    int rc = -1;
    if (!mapped || !key || !s) goto done;
    size_t m = 0;
    for (size_t i = 0; i < nb; i++) {
        size_t k = (size_t)utf8_put(mapped + m, c->byte_to_cp[(uint8_t)c->text[lo + i]]);
        s[i] = (sym){ mapped + m, k, (int)i - 1, i + 1 < nb ? (int)i + 1 : -1 };
        m += k;
    }
    mapped[m] = '\0';
    if (t->ignore_merges) {
        /* Llama 3's tokenizer takes a pre-token that is a whole vocabulary entry as it is, even
         * where merging by rank would split it differently. */
        int32_t whole = smap_get(&t->vocab, mapped, m);
        if (whole >= 0) {
            rc = ids_push(c->out, whole);
            goto done;
        }
    }
    int count = (int)nb;
    for (int i = 1; i < count; i++)
        if (gpt2_try_pair(t, s, i - 1, i, &h, key)) goto done;
    while (h.n) {
        pair p = heap_pop(&h);
        sym *l = &s[p.left], *r = &s[p.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != p.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = p.left;
        if (gpt2_try_pair(t, s, l->prev, p.left, &h, key) || gpt2_try_pair(t, s, p.left, l->next, &h, key)) goto done;
    }
    for (int i = 0; i < count; i = s[i].next) {
        int32_t id = smap_get(&t->vocab, s[i].text, s[i].n);
        if (id >= 0) {
            if (ids_push(c->out, id)) goto done;
        } else {
            /* A merge result missing from the vocabulary: fall back to the single-byte tokens. */
            for (size_t j = 0; j < s[i].n;) {
                size_t k = utf8_len((uint8_t)s[i].text[j]);
                int32_t bid = smap_get(&t->vocab, s[i].text + j, k);
                if (bid >= 0 && ids_push(c->out, bid)) goto done;
                j += k;
            }
        }
        if (s[i].next < 0) break;
    }
    rc = 0;
done:
    free(h.a);
    free(s);
    free(key);
    free(mapped);
    return rc;
}

static int gpt2_tokenize(const plume_tokenizer *t, const char *text, size_t len, ids *out) {
    if (len == 0) return 0;
    char *normal = NULL;
    if (t->nfc) {
        /* Qwen's tokenizer normalizes to NFC before anything else; its merges were learnt so. */
        utf8proc_uint8_t *nfc = NULL;
        if (utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE) >= 0) {
            normal = (char *)nfc;
            text = normal;
            len = strlen(normal);
        }
        /* invalid UTF-8 is not normalized: it goes on byte by byte as it is */
    }
    int32_t *cp;
    size_t *off, n = pretok_decode(text, len, &cp, &off);
    int rc = -1;
    if (n != (size_t)-1) {
        gpt2_ctx ctx = { .t = t, .text = text, .off = off, .out = out };
        gpt2_byte_map(ctx.byte_to_cp);
        rc = pretok_split(t->pre, cp, n, gpt2_word, &ctx) ? -1 : 0;
        free(cp);
        free(off);
    }
    free(normal);
    return rc;
}

/* The special token that starts at TEXT[0..len), the longest one, or -1. */
static int32_t match_special(const plume_tokenizer *t, const char *text, size_t len, bool parse_special,
                             size_t *match_len) {
    if (!t->special_first[(uint8_t)text[0]]) return -1;
    for (size_t i = 0; i < t->n_special; i++) {   /* longest first */
        int32_t id = t->special[i];
        if (!parse_special && t->type[id] != PLUME_TOKEN_USER_DEFINED) continue;
        size_t k = t->text[id].len;
        if (k <= len && !memcmp(text, t->text[id].data, k)) {
            *match_len = k;
            return id;
        }
    }
    return -1;
}

/* Tokenizes text that holds no special token. FIRST: the start of the text or right after a special
 * token, where SentencePiece puts its dummy-prefix space. */
static int tokenize_plain(const plume_tokenizer *t, const char *text, size_t len, bool first, ids *out) {
    if (t->kind == PLUME_TOK_SPM) return spm_tokenize(t, text, len, first && t->add_space_prefix, out);
    return gpt2_tokenize(t, text, len, out);
}

int plume_tokenize_with(const plume_tokenizer *t, const char *text, size_t len, unsigned flags, int32_t **out_ids,
                        size_t *n_ids, plume_error *err) {
    ids v = { 0 };
    *out_ids = NULL;
    *n_ids = 0;
    bool parse_special = flags & PLUME_TOKENIZE_PARSE_SPECIAL, add_special = flags & PLUME_TOKENIZE_ADD_SPECIAL;
    int rc = 0;
    if (add_special && t->add_bos) rc |= ids_push(&v, t->bos);
    /* User-defined tokens are always whole tokens; control tokens only when asked: text from a
     * user that happens to read "<|im_end|>" must not end a chat turn. */
    size_t start = 0;
    bool first = true;
    for (size_t i = 0; i < len && !rc;) {
        size_t k = 0;
        int32_t id = t->n_special ? match_special(t, text + i, len - i, parse_special, &k) : -1;
        if (id < 0) {
            i++;
            continue;
        }
        if (i > start) rc |= tokenize_plain(t, text + start, i - start, first, &v);
        rc |= ids_push(&v, id);
        first = true;
        i += k;
        start = i;
    }
    if (!rc && start < len) rc |= tokenize_plain(t, text + start, len - start, first, &v);
    if (add_special && t->add_eos) rc |= ids_push(&v, t->eos);
    if (rc) {
        free(v.a);
        return plume_fail(err, "tokenizer: out of memory tokenizing %zu bytes", len);
    }
    if (!v.a && !(v.a = malloc(sizeof *v.a))) return plume_fail(err, "tokenizer: out of memory");
    *out_ids = v.a;
    *n_ids = v.n;
    return 0;
}

int plume_tokenize(const plume_tokenizer *t, const char *text, size_t len, bool add_special, int32_t **out_ids,
                   size_t *n_ids, plume_error *err) {
    return plume_tokenize_with(t, text, len, add_special ? PLUME_TOKENIZE_ADD_SPECIAL : 0, out_ids, n_ids, err);
}

const char *plume_token_piece(const plume_tokenizer *t, int32_t prev, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        return NULL;
    }
    const char *p = t->piece[id];
    size_t n = t->piece_len[id];
    /* The dummy prefix: the text's first word carries a space that the input did not have. */
    if (t->kind == PLUME_TOK_SPM && t->add_space_prefix && (prev < 0 || prev == t->bos) && n && p[0] == ' ') {
        p++;
        n--;
    }
    if (len) *len = n;
    return p;
}

int plume_detokenize(const plume_tokenizer *t, const int32_t *id, size_t n_ids, char **text, size_t *len,
                     plume_error *err) {
    *text = NULL;
    size_t total = 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (id[i] < 0 || id[i] >= t->n_vocab)
            return plume_fail(err, "detokenize: token %zu is id %d, outside the vocabulary of %d", i, id[i], t->n_vocab);
        total += t->piece_len[id[i]];
    }
    char *s = malloc(total + 1);
    if (!s) return plume_fail(err, "detokenize: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < n_ids; i++) {
        size_t k;
        /* Only the text's start, or right after BOS, drops the dummy prefix. */
        const char *p = plume_token_piece(t, i ? id[i - 1] : -1, id[i], &k);
        memcpy(s + n, p, k);
        n += k;
    }
    s[n] = '\0';
    *text = s;
    if (len) *len = n;
    return 0;
}

/* ---- GPT-2 pre-tokenization alone (for engine/train/bpe_train.c) ---- */

int plume_gpt2_pretokenize(const char *text, size_t len, int (*emit)(void *user, const char *word, size_t n),
                           void *user, plume_error *err) {
    return plume_pretokenize(PLUME_PRETOK_GPT2, text, len, emit, user, err);
}

void plume_gpt2_byte_map(uint32_t byte_to_cp[256]) {
    gpt2_byte_map(byte_to_cp);
}
