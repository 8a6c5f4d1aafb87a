/* Learning a GPT-2 byte-level BPE tokenizer from text (`plume bpe`).
 *
 * The classic algorithm (Sennrich et al.; GPT-2's byte-level variant):
 *   1. split the corpus into pre-tokens with GPT-2's pre-tokenizer (the same code that
 *      tokenizes later, engine/lm/tokenizer.c) and count each distinct pre-token;
 *   2. start from the 256 byte tokens (token b is byte b, stored as GPT-2's printable
 *      stand-in code point);
 *   3. repeatedly count every adjacent pair of symbols inside the pre-tokens (weighted by
 *      the pre-token's count), merge the most frequent pair everywhere (left to right) and
 *      add it as a new token, until the vocabulary is full or the best pair occurs fewer
 *      than min_frequency times. Ties go to the pair with the smaller left token id, then
 *      the smaller right id, so the result is a function of the corpus alone.
 * Merge rank = creation order, which is what tokenizer.c applies (lowest rank first). The
 * special token <|endoftext|> comes last and serves as BOS and EOS. */
#include <stdlib.h>
#include <string.h>
#include "plume/gguf.h"
#include "plume/train.h"
#include "plume/tokenizer.h"

#define BPE_MAX_VOCAB (1 << 20)
#define BPE_MAX_CONTROL 256

typedef struct bword {
    int32_t *sym;
    int n;
    uint64_t count;
} bword;

typedef struct bpe {
    bword *words;
    int n_words, cap_words;
    /* word text -> index (open addressing over a power-of-two table) */
    char **keys;
    size_t *key_len;
    int *slot;
    size_t n_slots;
    int failed;
} bpe;

static uint64_t fnv(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int grow_words(bpe *b) {
    size_t ns = b->n_slots ? b->n_slots * 2 : 1024;
    int *slot = malloc(ns * sizeof *slot);
    if (!slot) return -1;
    for (size_t i = 0; i < ns; i++) slot[i] = -1;
    for (int w = 0; w < b->n_words; w++) {
        size_t h = fnv(b->keys[w], b->key_len[w]) & (ns - 1);
        while (slot[h] >= 0) h = (h + 1) & (ns - 1);
        slot[h] = w;
    }
    free(b->slot);
    b->slot = slot;
    b->n_slots = ns;
    return 0;
}

static int add_word(void *user, const char *s, size_t n) {
    bpe *b = user;
    if ((size_t)(b->n_words + 1) * 2 > b->n_slots && grow_words(b)) return b->failed = -1;
    size_t h = fnv(s, n) & (b->n_slots - 1);
    while (b->slot[h] >= 0) {
        int w = b->slot[h];
        if (b->key_len[w] == n && !memcmp(b->keys[w], s, n)) {
            b->words[w].count++;
            return 0;
        }
        h = (h + 1) & (b->n_slots - 1);
    }
    if (b->n_words == b->cap_words) {
        int cap = b->cap_words ? b->cap_words * 2 : 1024;
        bword *nw = realloc(b->words, (size_t)cap * sizeof *nw);
        if (nw) b->words = nw;
        char **nk = realloc(b->keys, (size_t)cap * sizeof *nk);
        if (nk) b->keys = nk;
        size_t *nl = realloc(b->key_len, (size_t)cap * sizeof *nl);
        if (nl) b->key_len = nl;
        if (!nw || !nk || !nl) return b->failed = -1;
        b->cap_words = cap;
    }
    int w = b->n_words;
    char *k = malloc(n ? n : 1);
    int32_t *sym = malloc((n ? n : 1) * sizeof *sym);
    if (!k || !sym) {
        free(k);
        free(sym);
        return b->failed = -1;
    }
    memcpy(k, s, n);
    for (size_t i = 0; i < n; i++) sym[i] = (uint8_t)s[i];
    b->keys[w] = k;
    b->key_len[w] = n;
    b->words[w] = (bword){sym, (int)n, 1};
    b->slot[h] = w;
    b->n_words++;
    return 0;
}

static void free_bpe(bpe *b) {
    for (int w = 0; w < b->n_words; w++) {
        free(b->keys[w]);
        free(b->words[w].sym);
    }
    free(b->words);
    free(b->keys);
    free(b->key_len);
    free(b->slot);
}

/* Pair counts: open addressing keyed by (left << 32 | right). */
typedef struct pairmap {
    uint64_t *key;
    uint64_t *count;
    size_t cap;
} pairmap;

static int pm_add(pairmap *m, uint64_t k, uint64_t c) {
    size_t h = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & (m->cap - 1);
    while (m->key[h] != UINT64_MAX && m->key[h] != k) h = (h + 1) & (m->cap - 1);
    if (m->key[h] == UINT64_MAX) m->key[h] = k;
    m->count[h] += c;
    return 0;
}

int plume_bpe_train(const char *const *texts, const size_t *lens, int n_texts, int vocab_size, int min_frequency,
                    const char *const *control, int n_control, const char *out_path, plume_bpe_stats *stats,
                    plume_error *err) {
    if (n_control < 0 || n_control > BPE_MAX_CONTROL)
        return plume_fail(err, "bpe: %d control tokens; at most %d", n_control, BPE_MAX_CONTROL);
    if (vocab_size < 257 + n_control || vocab_size > BPE_MAX_VOCAB)
        return plume_fail(err, "bpe: a vocabulary of %d tokens; it needs %d..%d (256 bytes + <|endoftext|> + %d "
                               "control tokens at least)", vocab_size, 257 + n_control, BPE_MAX_VOCAB, n_control);
    for (int i = 0; i < n_control; i++) {
        if (!control[i] || !control[i][0] || !strcmp(control[i], "<|endoftext|>"))
            return plume_fail(err, "bpe: control token %d is %s", i + 1,
                              control[i] && control[i][0] ? "<|endoftext|>, which is always there" : "empty");
        for (int j = 0; j < i; j++)
            if (!strcmp(control[i], control[j])) return plume_fail(err, "bpe: control token '%s' given twice", control[i]);
    }
    if (min_frequency < 1) min_frequency = 1;
    bpe b = {0};
    int rc = -1, n_tok = 256;
    char **tok = calloc((size_t)vocab_size, sizeof *tok);
    char **merges = calloc((size_t)vocab_size, sizeof *merges);
    int n_merges = 0;
    size_t total_syms = 0;
    pairmap pm = {0};
    if (!tok || !merges || grow_words(&b)) {
        plume_fail(err, "bpe: out of memory");
        goto done;
    }
    for (int i = 0; i < n_texts; i++)
        if (plume_gpt2_pretokenize(texts[i], lens[i], add_word, &b, err) || b.failed) {
            plume_fail(err, "bpe: text %d: out of memory counting words", i);
            goto done;
        }
    uint32_t b2c[256];
    plume_gpt2_byte_map(b2c);
    for (int i = 0; i < 256; i++) {
        char buf[8] = {0};
        /* UTF-8 of the stand-in code point (< U+0200: at most 2 bytes) */
        uint32_t c = b2c[i];
        if (c < 0x80) buf[0] = (char)c;
        else {
            buf[0] = (char)(0xC0 | (c >> 6));
            buf[1] = (char)(0x80 | (c & 0x3F));
        }
        if (!(tok[i] = strdup(buf))) {
            plume_fail(err, "bpe: out of memory");
            goto done;
        }
    }
    for (int w = 0; w < b.n_words; w++) total_syms += (size_t)b.words[w].n;
    pm.cap = 1024;
    while (pm.cap < total_syms * 2) pm.cap *= 2;
    pm.key = malloc(pm.cap * sizeof *pm.key);
    pm.count = malloc(pm.cap * sizeof *pm.count);
    if (!pm.key || !pm.count) {
        plume_fail(err, "bpe: out of memory for %zu pairs", pm.cap);
        goto done;
    }
    while (n_tok < vocab_size - 1 - n_control) {
        memset(pm.key, 0xff, pm.cap * sizeof *pm.key);
        memset(pm.count, 0, pm.cap * sizeof *pm.count);
        for (int w = 0; w < b.n_words; w++)
            for (int i = 0; i + 1 < b.words[w].n; i++)
                pm_add(&pm, (uint64_t)b.words[w].sym[i] << 32 | (uint32_t)b.words[w].sym[i + 1], b.words[w].count);
        uint64_t best = UINT64_MAX, best_c = 0;
        for (size_t h = 0; h < pm.cap; h++)
            if (pm.key[h] != UINT64_MAX &&
                (pm.count[h] > best_c || (pm.count[h] == best_c && pm.key[h] < best))) {
                best = pm.key[h];
                best_c = pm.count[h];
            }
        if (best == UINT64_MAX || best_c < (uint64_t)min_frequency) break;
        int32_t l = (int32_t)(best >> 32), r = (int32_t)(best & 0xffffffffu), id = n_tok;
        size_t ll = strlen(tok[l]), rl = strlen(tok[r]);
        tok[id] = malloc(ll + rl + 1);
        merges[n_merges] = malloc(ll + rl + 2);
        if (!tok[id] || !merges[n_merges]) {
            plume_fail(err, "bpe: out of memory");
            goto done;
        }
        snprintf(tok[id], ll + rl + 1, "%s%s", tok[l], tok[r]);
        snprintf(merges[n_merges], ll + rl + 2, "%s %s", tok[l], tok[r]);
        n_merges++;
        n_tok++;
        for (int w = 0; w < b.n_words; w++) {
            bword *x = &b.words[w];
            int o = 0;
            for (int i = 0; i < x->n; i++) {
                if (i + 1 < x->n && x->sym[i] == l && x->sym[i + 1] == r) {
                    x->sym[o++] = id;
                    i++;
                } else {
                    x->sym[o++] = x->sym[i];
                }
            }
            x->n = o;
        }
    }
    /* the control tokens, then <|endoftext|>: ids no text can produce (the tokenizer never parses
     * them out of text), for markers such as a task's answers */
    int first_control = n_tok;
    for (int i = 0; i < n_control; i++)
        if (!(tok[n_tok++] = strdup(control[i]))) {
            plume_fail(err, "bpe: out of memory");
            goto done;
        }
    if (!(tok[n_tok] = strdup("<|endoftext|>"))) {
        plume_fail(err, "bpe: out of memory");
        goto done;
    }
    int special = n_tok++;
    int32_t *types = malloc((size_t)n_tok * sizeof *types);
    if (!types) {
        plume_fail(err, "bpe: out of memory");
        goto done;
    }
    for (int i = 0; i < n_tok; i++) types[i] = i >= first_control ? PLUME_TOKEN_CONTROL : PLUME_TOKEN_NORMAL;
    plume_gguf_writer *wr = plume_gguf_writer_new();
    int wrc = !wr || plume_gguf_writer_set_str(wr, "general.name", "plume-bpe", err) ||
              plume_gguf_writer_set_str(wr, "tokenizer.ggml.model", "gpt2", err) ||
              plume_gguf_writer_set_str(wr, "tokenizer.ggml.pre", "gpt-2", err) ||
              plume_gguf_writer_set_arr(wr, "tokenizer.ggml.tokens", PLUME_GGUF_STRING, (uint64_t)n_tok, tok, err) ||
              plume_gguf_writer_set_arr(wr, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, (uint64_t)n_tok, types,
                                        err) ||
              plume_gguf_writer_set_arr(wr, "tokenizer.ggml.merges", PLUME_GGUF_STRING, (uint64_t)n_merges, merges,
                                        err) ||
              plume_gguf_writer_set_u32(wr, "tokenizer.ggml.bos_token_id", (uint32_t)special, err) ||
              plume_gguf_writer_set_u32(wr, "tokenizer.ggml.eos_token_id", (uint32_t)special, err) ||
              plume_gguf_writer_set_bool(wr, "tokenizer.ggml.add_bos_token", true, err) ||
              plume_gguf_writer_write(wr, out_path, err);
    plume_gguf_writer_free(wr);
    free(types);
    if (wrc) {
        if (!wr) plume_fail(err, "bpe: out of memory");
        plume_fail_prefix(err, "bpe: ");
        goto done;
    }
    if (stats) *stats = (plume_bpe_stats){n_tok, n_merges, b.n_words};
    rc = 0;
done:
    for (int i = 0; tok && i < vocab_size; i++) free(tok[i]);
    for (int i = 0; merges && i < n_merges; i++) free(merges[i]);
    free(tok);
    free(merges);
    free(pm.key);
    free(pm.count);
    free_bpe(&b);
    return rc;
}
