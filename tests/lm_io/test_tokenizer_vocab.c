/* The two tokenizers against published reference tokenizations: llama.cpp's vocabulary test
 * files (tests/data/vocab, see SOURCE.md there). NAME.gguf.inp holds test strings separated by
 * "\n__ggml_vocab_test__\n" (the file ends with one), line i of NAME.gguf.out the ids the
 * original model's tokenizer gives for string i without BOS. Every string must give exactly
 * those ids, and decoding them must give the string back byte for byte:
 *   - gpt2 is byte-level, so decoding is exact by construction;
 *   - llama (SPM) adds a dummy-prefix space; decoding drops one leading space at the start,
 *     which is exact for these strings because the space was added, never the input's own. */
#include <stdlib.h>
#include "check.h"
#include "test_files.h"
#include "plume/gguf.h"
#include "plume/tokenizer.h"

static void print_ids(const char *label, const int32_t *ids, size_t n) {
    fprintf(stderr, "  %s:", label);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
}

/* GGUF: the vocabulary file (NULL: DATA/vocab/NAME); the reference strings and ids are always
 * DATA/vocab/NAME.inp and .out. */
static void run_vocab_file(const char *data, const char *name, const char *gguf, plume_tok_kind kind, int32_t n_vocab) {
    char path[1024], inp_path[1100], out_path[1100];
    snprintf(path, sizeof path, "%s/vocab/%s", data, name);
    snprintf(inp_path, sizeof inp_path, "%s.inp", path);
    snprintf(out_path, sizeof out_path, "%s.out", path);
    if (gguf) snprintf(path, sizeof path, "%s", gguf);
    plume_error err = { { 0 } };
    plume_gguf *g = NULL;
    plume_tokenizer *t = NULL;
    CHECK_MSG(plume_gguf_open(&g, path, &err) == 0, "%s", err.msg);
    if (!g) return;
    CHECK_MSG(plume_tokenizer_from_gguf(&t, g, &err) == 0, "%s", err.msg);
    plume_gguf_close(g);   /* the tokenizer must not need the file any more */
    if (!t) return;
    CHECK(plume_tokenizer_kind(t) == kind);
    CHECK(plume_tokenizer_n_vocab(t) == n_vocab);

    size_t inp_len, out_len;
    char *inp = read_file_len(inp_path, &inp_len), *out = read_file_len(out_path, &out_len);
    CHECK(inp && out);
    if (!inp || !out) { free(inp); free(out); plume_tokenizer_free(t); return; }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *piece = inp, *line = out;
    int cases = 0;
    for (;;) {
        char *end = strstr(piece, sep);
        if (!end) break;   /* the file ends with a separator: nothing after it */
        size_t plen = (size_t)(end - piece);
        char *eol = strchr(line, '\n');
        CHECK_MSG(eol != NULL, "%s: fewer .out lines than test strings", name);
        if (!eol) break;
        *eol = '\0';
        int32_t want[512];
        size_t n_want = 0;
        for (char *p = line; *p;) {
            char *q;
            long v = strtol(p, &q, 10);
            if (q == p) { p++; continue; }
            if (n_want < 512) want[n_want++] = (int32_t)v;
            p = q;
        }
        int32_t *got = NULL;
        size_t n_got = 0;
        CHECK_MSG(plume_tokenize(t, piece, plen, false, &got, &n_got, &err) == 0, "%s", err.msg);
        bool same = got && n_got == n_want && (n_got == 0 || !memcmp(got, want, n_got * sizeof *got));
        CHECK_MSG(same, "%s: test string %d '%.*s' tokenizes differently", name, cases, (int)plen, piece);
        if (!same && got) { print_ids("got     ", got, n_got); print_ids("expected", want, n_want); }
        char *back = NULL;
        size_t back_len = 0;
        CHECK_MSG(plume_detokenize(t, want, n_want, &back, &back_len, &err) == 0, "%s", err.msg);
        CHECK_MSG(back && back_len == plen && !memcmp(back, piece, plen),
                  "%s: test string %d '%.*s' decodes to '%s'", name, cases, (int)plen, piece, back ? back : "");
        free(back);
        free(got);
        cases++;
        piece = end + strlen(sep);
        line = eol + 1;
    }
    CHECK_MSG(cases == 46, "%s: %d test strings, expected 46", name, cases);
    free(inp);
    free(out);
    plume_tokenizer_free(t);
}

/* The Llama 3 vocabulary: $PLUME_LLAMA3_VOCAB, else DATA/vocab/ggml-vocab-llama-bpe.gguf when someone
 * put it there; NULL when neither. */
static const char *llama3_vocab(const char *data) {
    static char path[1024];
    const char *env = getenv("PLUME_LLAMA3_VOCAB");
    if (env && *env) return env;
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-llama-bpe.gguf", data);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fclose(f);
    return path;
}

static void run_vocab(const char *data, const char *name, plume_tok_kind kind, int32_t n_vocab) {
    run_vocab_file(data, name, NULL, kind, n_vocab);
}

/* The tokenizer of a vocabulary GGUF; NULL (a failed check) when it does not load. */
static plume_tokenizer *open_vocab(const char *path) {
    plume_error err = { { 0 } };
    plume_gguf *g = NULL;
    plume_tokenizer *t = NULL;
    if (plume_gguf_open(&g, path, &err) || plume_tokenizer_from_gguf(&t, g, &err)) CHECK_MSG(0, "%s", err.msg);
    plume_gguf_close(g);
    return t;
}

/* Hand-checked facts about the vocabularies, independent of the reference files. */
static void spm_facts(const char *data) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-llama-spm.gguf", data);
    plume_error err = { { 0 } };
    plume_tokenizer *t = open_vocab(path);
    if (!t) return;
    CHECK(plume_tokenizer_bos(t) == 1);
    CHECK(plume_tokenizer_eos(t) == 2);
    CHECK_STR(plume_tokenizer_token_text(t, 1), "<s>");
    CHECK_STR(plume_tokenizer_token_text(t, 13), "<0x0A>");   /* byte 0x0A is id 3 + 10 */
    CHECK(plume_tokenizer_token_type(t, 13) == PLUME_TOKEN_BYTE);
    CHECK(plume_tokenizer_lookup(t, "\xe2\x96\x81the") >= 0);
    size_t n;
    const char *p = plume_token_piece(t, 5, 13, &n);
    CHECK(p && n == 1 && p[0] == '\n');
    p = plume_token_piece(t, 1, 1, &n);   /* <s> is a control token: no text */
    CHECK(p && n == 0);
    /* With add_special, BOS comes first; "" gives BOS alone. */
    int32_t *ids = NULL;
    CHECK(plume_tokenize(t, "", 0, true, &ids, &n, &err) == 0 && n == 1 && ids[0] == 1);
    free(ids);
    CHECK(plume_tokenize(t, "Hello", 5, true, &ids, &n, &err) == 0 && n >= 2 && ids[0] == 1);
    char *back = NULL;
    CHECK(plume_detokenize(t, ids, n, &back, NULL, &err) == 0 && back && !strcmp(back, "Hello"));
    free(back);
    free(ids);
    int32_t bad = 99999;
    CHECK(plume_detokenize(t, &bad, 1, &back, NULL, &err) == -1 && strstr(err.msg, "99999"));
    plume_tokenizer_free(t);
}

/* Tokenizes TEXT with FLAGS; the ids are compared with WANT (n_want of them), or when PREFIX, only
 * the first n_want. */
static void expect_ids(const plume_tokenizer *t, const char *text, unsigned flags, const int32_t *want, size_t n_want,
                       bool prefix) {
    int32_t *got = NULL;
    size_t n = 0;
    plume_error err = { { 0 } };
    CHECK_MSG(plume_tokenize_with(t, text, strlen(text), flags, &got, &n, &err) == 0, "%s", err.msg);
    bool same = got && (prefix ? n >= n_want : n == n_want) && !memcmp(got, want, n_want * sizeof *got);
    CHECK_MSG(same, "'%s' (flags %u) tokenizes differently", text, flags);
    if (!same && got) print_ids("got", got, n);
    free(got);
}

static bool contains(const plume_tokenizer *t, const char *text, unsigned flags, int32_t id) {
    int32_t *got = NULL;
    size_t n = 0;
    plume_error err = { { 0 } };
    bool found = false;
    if (plume_tokenize_with(t, text, strlen(text), flags, &got, &n, &err) == 0)
        for (size_t i = 0; i < n; i++) found |= got[i] == id;
    free(got);
    return found;
}

/* Special tokens, by the ids the models' model cards and chat dumps show: Qwen's <|im_start|> 151644,
 * <|im_end|> 151645, "user" 872, "\n" 198, <think> 151667 (user-defined); Llama 2's <s> 1, "▁Hello" 15043. */
static void special_tokens(const char *data) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-qwen2.gguf", data);
    plume_tokenizer *t = open_vocab(path);
    if (t) {
        const char *chat = "<|im_start|>user\nHi<|im_end|>";
        expect_ids(t, chat, PLUME_TOKENIZE_PARSE_SPECIAL, (const int32_t[]){ 151644, 872, 198 }, 3, true);
        CHECK(contains(t, chat, PLUME_TOKENIZE_PARSE_SPECIAL, 151645));
        /* not asked: the markers are text, and decode back to it */
        CHECK(!contains(t, chat, 0, 151644) && !contains(t, chat, 0, 151645));
        int32_t *ids = NULL;
        size_t n = 0;
        char *back = NULL;
        plume_error err = { { 0 } };
        CHECK(plume_tokenize_with(t, chat, strlen(chat), 0, &ids, &n, &err) == 0 &&
              plume_detokenize(t, ids, n, &back, NULL, &err) == 0 && back && !strcmp(back, chat));
        free(ids);
        free(back);
        /* user-defined tokens are matched either way, and decode to their text */
        CHECK(contains(t, "a<think>b", 0, 151667));
        CHECK(contains(t, "a<think>b", PLUME_TOKENIZE_PARSE_SPECIAL, 151667));
        size_t k;
        const char *p = plume_token_piece(t, -1, 151667, &k);
        CHECK(p && k == 7 && !memcmp(p, "<think>", 7));
        /* the longest special token wins where two start at one place: <|im_end|> is not <|im_e... */
        expect_ids(t, "<|im_end|><|endoftext|>", PLUME_TOKENIZE_PARSE_SPECIAL, (const int32_t[]){ 151645, 151643 }, 2,
                   false);
        /* end of generation: EOS (<|im_end|>), <|endoftext|>; not an ordinary word */
        CHECK(plume_tokenizer_is_eog(t, 151645) && plume_tokenizer_is_eog(t, 151643) && !plume_tokenizer_is_eog(t, 872));
        CHECK(plume_tokenizer_chat_template(t) && strstr(plume_tokenizer_chat_template(t), "<|im_start|>"));
        /* Qwen normalizes to NFC: e + COMBINING ACUTE is é */
        int32_t *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        CHECK(plume_tokenize(t, "caf\xc3\xa9", 5, false, &a, &na, &err) == 0 &&
              plume_tokenize(t, "cafe\xcc\x81", 6, false, &b, &nb, &err) == 0 && na == nb &&
              !memcmp(a, b, na * sizeof *a));
        free(a);
        free(b);
        plume_tokenizer_free(t);
    }
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-llama-spm.gguf", data);
    if ((t = open_vocab(path))) {
        expect_ids(t, "<s>Hello", PLUME_TOKENIZE_PARSE_SPECIAL, (const int32_t[]){ 1, 15043 }, 2, false);
        CHECK(!contains(t, "<s>Hello", 0, 1));
        /* after a special token SentencePiece starts a new text: its dummy-prefix space again */
        expect_ids(t, "Hello</s>Hello", PLUME_TOKENIZE_PARSE_SPECIAL, (const int32_t[]){ 15043, 2, 15043 }, 3, false);
        CHECK(plume_tokenizer_is_eog(t, 2) && !plume_tokenizer_is_eog(t, 1));
        plume_tokenizer_free(t);
    }
    const char *llama3 = llama3_vocab(data);
    if (llama3 && (t = open_vocab(llama3))) {
        /* Meta's own test (llama3 repository, test_tokenizer.py) */
        expect_ids(t, "This is a test sentence.", PLUME_TOKENIZE_ADD_SPECIAL,
                   (const int32_t[]){ 128000, 2028, 374, 264, 1296, 11914, 13 }, 7, false);
        expect_ids(t, "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", PLUME_TOKENIZE_PARSE_SPECIAL,
                   (const int32_t[]){ 128006, 882, 128007, 271 }, 4, true);
        CHECK(plume_tokenizer_is_eog(t, 128009) && plume_tokenizer_is_eog(t, 128001));
        plume_tokenizer_free(t);
    }
}

/* Random byte strings (invalid UTF-8 included) and random mixes of awkward characters: no
 * crash, and decode(encode(s)) == s. SPM cannot give back two kinds of input, as in llama.cpp:
 * a literal U+2581 '▁' (the space marker, decoded as ' '), and invalid UTF-8 whose lead byte
 * swallows the first byte of a following '▁' (the text is split after spaces become '▁').
 * So for SPM only valid UTF-8 without '▁' must round-trip; random bytes must not crash. */
static void fuzz(const char *data, const char *name, bool is_spm) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab/%s", data, name);
    plume_error err = { { 0 } };
    plume_tokenizer *t = open_vocab(path);
    if (!t) return;
    static const char *const bits[] = { " ", "  ", "\t", "\n", "a", "Z", "9", "'s", "'ll", "\xc3\xa9", "\xe4\xb8\xad",
                                        "\xf0\x9f\x98\x80", "\xe2\x80\x83", "!", "...", "\xc2\xa0", "\xff", "\x80", "\xe2\x96" };
    uint32_t s = 42;
    int bad = 0;
    for (int iter = 0; iter < 400; iter++) {
        char buf[256];
        size_t n = 0;
        s = s * 1664525u + 1013904223u;
        size_t want = (s >> 16) % 60;
        while (n < want) {
            s = s * 1664525u + 1013904223u;
            if (iter % 2) {
                buf[n++] = (char)(s >> 24);
            } else {
                size_t n_bits = sizeof bits / sizeof bits[0] - (is_spm ? 3 : 0);   /* the last 3 are invalid */
                const char *b = bits[(s >> 16) % n_bits];
                size_t k = strlen(b);
                if (n + k >= sizeof buf) break;
                memcpy(buf + n, b, k);
                n += k;
            }
        }
        if (is_spm)   /* break up any literal U+2581 */
            for (size_t i = 0; i + 2 < n; i++)
                if ((uint8_t)buf[i] == 0xe2 && (uint8_t)buf[i + 1] == 0x96 && (uint8_t)buf[i + 2] == 0x81) buf[i + 2] = 'x';
        int32_t *ids = NULL;
        size_t n_ids = 0;
        char *back = NULL;
        size_t back_len = 0;
        bool exact = !is_spm || iter % 2 == 0;
        if (plume_tokenize(t, buf, n, false, &ids, &n_ids, &err) ||
            plume_detokenize(t, ids, n_ids, &back, &back_len, &err) ||
            (exact && (back_len != n || memcmp(back, buf, n)))) {
            if (bad++ < 3) fprintf(stderr, "%s: fuzz string %d (%zu bytes) does not round-trip\n", name, iter, n);
        }
        free(ids);
        free(back);
    }
    CHECK_MSG(bad == 0, "%s: %d of 400 random strings fail", name, bad);
    plume_tokenizer_free(t);
}

int main(void) {
    const char *data = getenv("PLUME_TEST_DATA");
    if (!data) data = "tests/data";
    run_vocab(data, "ggml-vocab-llama-spm.gguf", PLUME_TOK_SPM, 32000);
    run_vocab(data, "ggml-vocab-gpt-2.gguf", PLUME_TOK_GPT2, 50257);
    run_vocab(data, "ggml-vocab-qwen2.gguf", PLUME_TOK_GPT2, 151936);
    /* The Llama 3 vocabulary is not in the repository: the Meta Llama 3 Community License binds
     * whoever redistributes it (see tests/data/vocab/SOURCE.md). Its reference strings and ids
     * are (llama.cpp's, MIT); point PLUME_LLAMA3_VOCAB at ggml-vocab-llama-bpe.gguf, or put it in
     * tests/data/vocab (git ignores it there), to check it. */
    const char *llama3 = llama3_vocab(data);
    if (llama3)
        run_vocab_file(data, "ggml-vocab-llama-bpe.gguf", llama3, PLUME_TOK_GPT2, 128256);
    else
        printf("test_tokenizer_vocab: llama-bpe reference SKIPPED: no ggml-vocab-llama-bpe.gguf (the repository "
               "does not ship it; set PLUME_LLAMA3_VOCAB to its path or copy it into %s/vocab)\n", data);
    spm_facts(data);
    special_tokens(data);
    fuzz(data, "ggml-vocab-llama-spm.gguf", true);
    fuzz(data, "ggml-vocab-gpt-2.gguf", false);
    fuzz(data, "ggml-vocab-qwen2.gguf", false);
    return check_finish("test_tokenizer_vocab");
}
