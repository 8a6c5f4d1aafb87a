/* Fuzz target: arbitrary bytes through the two reference vocabularies of tests/data/vocab
 * (llama SPM and GPT-2 byte-level BPE). Defined round trips are checked:
 *   GPT-2: decode(encode(s)) == s for every byte string;
 *   SPM:   the same for valid UTF-8 without U+2581 (see tests/lm_io/test_tokenizer_vocab.c for
 *          the two inputs SPM cannot give back, as in llama.cpp).
 * The first input byte picks add_special (BOS/EOS), which the round trip must not care about,
 * and whether control tokens are parsed: through the Qwen vocabulary (qwen2 pre-tokenizer, NFC,
 * special and user-defined tokens), which must not crash. Every pre-tokenizer must cut the bytes
 * into non-empty words that join back into them. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "plume/gguf.h"
#include "plume/tokenizer.h"

static plume_tokenizer *spm, *gpt2, *qwen;

static plume_tokenizer *load(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab/%s", fuzz_test_data(), name);
    plume_error err;
    plume_gguf *g = NULL;
    plume_tokenizer *t = NULL;
    if (plume_gguf_open(&g, path, &err) || plume_tokenizer_from_gguf(&t, g, &err)) {
        fprintf(stderr, "fuzz_tokenizer: %s\n", err.msg);
        abort();
    }
    plume_gguf_close(g);
    return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    spm = load("ggml-vocab-llama-spm.gguf");
    gpt2 = load("ggml-vocab-gpt-2.gguf");
    qwen = load("ggml-vocab-qwen2.gguf");
    return 0;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), no U+2581. */
static bool spm_round_trips(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if (c >= 0xc2 && c <= 0xdf) { k = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { k = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { k = 4; cp = c & 0x07; }
        else return false;
        if (i + k > n) return false;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff) ||
            cp == 0x2581)
            return false;
        i += k;
    }
    return true;
}

static void check(const plume_tokenizer *t, const uint8_t *s, size_t n, bool add_special, bool exact) {
    plume_error err;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    char *back = NULL;
    size_t len = 0;
    if (plume_tokenize(t, (const char *)s, n, add_special, &ids, &n_ids, &err)) {
        fprintf(stderr, "tokenize failed: %s\n", err.msg);
        abort();
    }
    if (plume_detokenize(t, ids, n_ids, &back, &len, &err)) {
        fprintf(stderr, "detokenize failed: %s\n", err.msg);
        abort();
    }
    if (exact && (len != n || memcmp(back, s, n))) {
        fprintf(stderr, "%s: %zu bytes do not round-trip (%zu back)\n",
                plume_tokenizer_kind(t) == PLUME_TOK_SPM ? "spm" : "gpt2", n, len);
        abort();
    }
    free(ids);
    free(back);
}

typedef struct joined {
    const uint8_t *s;
    size_t n, at;
} joined;

static int follow(void *user, const char *word, size_t n) {
    joined *j = user;
    if (n == 0 || j->at + n > j->n || memcmp(j->s + j->at, word, n)) return -1;
    j->at += n;
    return 0;
}

static void check_pretokenizers(const uint8_t *s, size_t n) {
    static const plume_pretok kinds[] = { PLUME_PRETOK_GPT2, PLUME_PRETOK_LLAMA3, PLUME_PRETOK_QWEN2, PLUME_PRETOK_SMOLLM };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        joined j = { s, n, 0 };
        plume_error err;
        if (plume_pretokenize(kinds[k], (const char *)s, n, follow, &j, &err) || j.at != n) {
            fprintf(stderr, "%s: the words of %zu bytes do not join back into them\n", plume_pretok_name(kinds[k]), n);
            abort();
        }
    }
}

static void check_special(const uint8_t *s, size_t n, bool parse_special) {
    plume_error err;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    char *back = NULL;
    if (plume_tokenize_with(qwen, (const char *)s, n, parse_special ? PLUME_TOKENIZE_PARSE_SPECIAL : 0, &ids, &n_ids, &err) ||
        plume_detokenize(qwen, ids, n_ids, &back, NULL, &err)) {
        fprintf(stderr, "qwen: %s\n", err.msg);
        abort();
    }
    free(ids);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4096) return 0;   /* merges are quadratic in a word's length; keep runs fast */
    bool add_special = data[0] & 1, parse_special = data[0] & 2;
    data++, size--;
    check(gpt2, data, size, add_special, true);
    check(spm, data, size, add_special, spm_round_trips(data, size));
    check_pretokenizers(data, size);
    check_special(data, size, parse_special);
    return 0;
}
