/* The byte-level BPE pre-tokenizers (engine/lm/pretokenize.c) on strings whose words were
 * worked out by hand from the published patterns (the models' tokenizer.json, restated in
 * pretokenize.h): contractions, digits (whole runs for gpt-2, groups of 1-3 for llama-bpe, one
 * at a time for qwen2 and smollm), whitespace runs and line breaks, non-Latin scripts, emoji.
 * Then the same rules seen through a whole vocabulary: GPT-2's tokens and merges with the
 * smollm and llama-bpe pre-tokenizers, where the digit tokens have known ids. */
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "plume/gguf.h"
#include "plume/pretokenize.h"
#include "plume/tokenizer.h"

#define MAX_WORDS 32

typedef struct words {
    const char *w[MAX_WORDS];
    size_t len[MAX_WORDS];
    int n;
} words;

static int collect(void *user, const char *word, size_t n) {
    words *ws = user;
    if (ws->n == MAX_WORDS) return -1;
    ws->w[ws->n] = word;
    ws->len[ws->n++] = n;
    return 0;
}

/* EXPECT: the words, NULL-terminated. */
static void expect_split(plume_pretok kind, const char *text, const char *const *expect) {
    words got = { .n = 0 };
    plume_error err = { { 0 } };
    CHECK_MSG(plume_pretokenize(kind, text, strlen(text), collect, &got, &err) == 0, "%s", err.msg);
    int n_want = 0;
    while (expect[n_want]) n_want++;
    bool same = got.n == n_want;
    for (int i = 0; same && i < n_want; i++)
        same = got.len[i] == strlen(expect[i]) && !memcmp(got.w[i], expect[i], got.len[i]);
    CHECK_MSG(same, "%s: '%s' splits differently", plume_pretok_name(kind), text);
    if (!same) {
        fprintf(stderr, "  got:");
        for (int i = 0; i < got.n; i++) fprintf(stderr, " [%.*s]", (int)got.len[i], got.w[i]);
        fprintf(stderr, "\n  expected:");
        for (int i = 0; i < n_want; i++) fprintf(stderr, " [%s]", expect[i]);
        fputc('\n', stderr);
    }
}

#define SPLIT(kind, text, ...) expect_split(kind, text, (const char *const[]){ __VA_ARGS__, NULL })

static void test_gpt2(void) {
    const plume_pretok k = PLUME_PRETOK_GPT2;
    SPLIT(k, "I'm don't", "I", "'m", " don", "'t");
    /* case-sensitive contractions: "'S" is punctuation then a letter */
    SPLIT(k, "HERE'S", "HERE", "'", "S");
    SPLIT(k, "a 1234567", "a", " 1234567");
    /* a run of spaces leaves its last one to the next word; at the end it stays whole */
    SPLIT(k, "Hello   world  ", "Hello", "  ", " world", "  ");
    SPLIT(k, "hi\n\nyo", "hi", "\n", "\n", "yo");
    SPLIT(k, "\tfoo", "\t", "foo");
    SPLIT(k, "hi \xf0\x9f\x98\x80\xf0\x9f\x98\x80!", "hi", " \xf0\x9f\x98\x80\xf0\x9f\x98\x80!");
}

static void test_llama3(void) {
    const plume_pretok k = PLUME_PRETOK_LLAMA3;
    /* (?i:...): contractions in any case */
    SPLIT(k, "I'M HERE'S we'll", "I", "'M", " HERE", "'S", " we", "'ll");
    /* Unicode case folding: LONG S (U+017F) folds to 's', so "'ſ" is a contraction too */
    SPLIT(k, "x'\xc5\xbfm", "x", "'\xc5\xbf", "m");
    /* digits in groups of three from the left; a space before a digit is its own word */
    SPLIT(k, "1234567", "123", "456", "7");
    SPLIT(k, "ied 4 \xc2\xbd months", "ied", " ", "4", " ", "\xc2\xbd", " months");   /* ½ is \p{N} */
    SPLIT(k, "3.14", "3", ".", "14");
    /* Arabic-Indic digits are \p{N} too */
    SPLIT(k, "\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6", "\xd9\xa3\xd9\xa4\xd9\xa5", "\xd9\xa6");
    /* any one character but a line break, a letter or a digit may lead a word: a tab, a comma;
     * a space and a quote are both such characters, and only one may lead: ' "' is punctuation */
    SPLIT(k, "\tfoo,bar", "\tfoo", ",bar");
    SPLIT(k, "a \"bar", "a", " \"", "bar");
    /* whitespace up to its last line break is one word; the spaces after it lead the next word */
    SPLIT(k, "a \n\n b", "a", " \n\n", " b");
    SPLIT(k, "hi\n\nyo", "hi", "\n\n", "yo");
    SPLIT(k, "Hello   world  ", "Hello", "  ", " world", "  ");
    /* punctuation takes the line breaks after it */
    SPLIT(k, "ok!!!\n\nx", "ok", "!!!\n\n", "x");
    SPLIT(k, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80",
          "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", " \xd0\xbc\xd0\xb8\xd1\x80");   /* привет мир */
    SPLIT(k, "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c", "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c");
    SPLIT(k, "hi \xf0\x9f\x98\x80\xf0\x9f\x98\x80!", "hi", " \xf0\x9f\x98\x80\xf0\x9f\x98\x80!");
    /* an invalid byte is "other": it joins the punctuation run */
    SPLIT(k, "a\xff!", "a", "\xff!");
}

static void test_qwen2(void) {
    const plume_pretok k = PLUME_PRETOK_QWEN2;
    SPLIT(k, "1234", "1", "2", "3", "4");
    SPLIT(k, "x2 12", "x", "2", " ", "1", "2");
    SPLIT(k, "WE'LL go", "WE", "'LL", " go");
    SPLIT(k, "abc 12", "abc", " ", "1", "2");
    SPLIT(k, "hi\n\nyo", "hi", "\n\n", "yo");
    SPLIT(k, "a \n\n b", "a", " \n\n", " b");
}

static void test_smollm(void) {
    const plume_pretok k = PLUME_PRETOK_SMOLLM;
    /* digits come out first, one by one; gpt-2's pattern runs on the text between them, so a
     * space before a digit ends its piece of text and stays a word of its own */
    SPLIT(k, "abc 123", "abc", " ", "1", "2", "3");
    /* Hugging Face's own Digits(individual_digits) test gives "Hey " "1" "2" "3" " friend!" for
     * this string; the byte-level pattern then cuts "Hey " and " friend!" */
    SPLIT(k, "Hey 123 friend!", "Hey", " ", "1", "2", "3", " friend", "!");
    SPLIT(k, "a1b", "a", "1", "b");
    SPLIT(k, "I'm 2 cool", "I", "'m", " ", "2", " cool");
    SPLIT(k, "HERE'S", "HERE", "'", "S");
    SPLIT(k, "hi\n\nyo", "hi", "\n", "\n", "yo");
}

static void test_names(void) {
    plume_pretok k;
    CHECK(plume_pretok_from_name("llama-bpe", &k) == 0 && k == PLUME_PRETOK_LLAMA3);
    CHECK(plume_pretok_from_name("llama3", &k) == 0 && k == PLUME_PRETOK_LLAMA3);
    CHECK(plume_pretok_from_name("qwen2", &k) == 0 && k == PLUME_PRETOK_QWEN2);
    CHECK(plume_pretok_from_name("smollm", &k) == 0 && k == PLUME_PRETOK_SMOLLM);
    CHECK(plume_pretok_from_name("gpt-2", &k) == 0 && k == PLUME_PRETOK_GPT2);
    CHECK(plume_pretok_from_name("deepseek-llm", &k) == -1);
}

/* GPT-2's vocabulary rewritten with tokenizer.ggml.pre = PRE. */
static plume_tokenizer *gpt2_with_pre(const char *data, const char *pre) {
    char path[1024], out[1100];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-gpt-2.gguf", data);
    const char *base = getenv("TMPDIR");
    snprintf(out, sizeof out, "%s/plume-pretok-%d.gguf", base && *base ? base : "/tmp", (int)getpid());
    plume_error err = { { 0 } };
    plume_gguf *g = NULL;
    plume_tokenizer *t = NULL;
    if (plume_gguf_open(&g, path, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return NULL;
    }
    const plume_gguf_str *tok, *merges;
    const int32_t *type;
    uint64_t n_tok, n_merges;
    CHECK(plume_gguf_get_arr(g, "tokenizer.ggml.tokens", PLUME_GGUF_STRING, 0, (const void **)&tok, &n_tok, &err) == 0);
    CHECK(plume_gguf_get_arr(g, "tokenizer.ggml.merges", PLUME_GGUF_STRING, 0, (const void **)&merges, &n_merges, &err) == 0);
    CHECK(plume_gguf_get_arr(g, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, n_tok, (const void **)&type, NULL, &err) == 0);
    const char **tok_s = malloc(n_tok * sizeof *tok_s), **merge_s = malloc(n_merges * sizeof *merge_s);
    for (uint64_t i = 0; i < n_tok; i++) tok_s[i] = tok[i].data;
    for (uint64_t i = 0; i < n_merges; i++) merge_s[i] = merges[i].data;
    plume_gguf_writer *w = plume_gguf_writer_new();
    plume_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", &err);
    plume_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre, &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.tokens", PLUME_GGUF_STRING, n_tok, tok_s, &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, n_tok, type, &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.merges", PLUME_GGUF_STRING, n_merges, merge_s, &err);
    int rc = plume_gguf_writer_write(w, out, &err);
    plume_gguf_writer_free(w);
    free(tok_s);
    free(merge_s);
    plume_gguf_close(g);
    g = NULL;
    if (!rc) rc = plume_gguf_open(&g, out, &err);
    if (!rc) rc = plume_tokenizer_from_gguf(&t, g, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    plume_gguf_close(g);
    unlink(out);
    return t;
}

static void expect_ids(const plume_tokenizer *t, const char *text, const int32_t *want, size_t n_want) {
    int32_t *ids = NULL;
    size_t n = 0;
    plume_error err = { { 0 } };
    CHECK_MSG(plume_tokenize(t, text, strlen(text), false, &ids, &n, &err) == 0, "%s", err.msg);
    bool same = ids && n == n_want && !memcmp(ids, want, n * sizeof *ids);
    CHECK_MSG(same, "'%s' tokenizes differently", text);
    if (!same && ids) {
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
        fputc('\n', stderr);
    }
    free(ids);
}

/* GPT-2's byte tokens: printable ASCII c is id c - 33 ('!' is 0), so '1' is 16. GPT-2 merges
 * "12345" into "123" + "45"; one digit at a time (smollm), every digit is its own token; in groups
 * of three (llama-bpe), "123" + "45", and "1234567" is "123" "456" "7". */
static void test_with_vocab(const char *data) {
    plume_tokenizer *t = gpt2_with_pre(data, "smollm");
    if (t) {
        CHECK(plume_tokenizer_pre(t) == PLUME_PRETOK_SMOLLM);
        expect_ids(t, "12345", (const int32_t[]){ 16, 17, 18, 19, 20 }, 5);
        plume_tokenizer_free(t);
    }
    t = gpt2_with_pre(data, "llama-bpe");
    if (t) {
        int32_t t123 = plume_tokenizer_lookup(t, "123"), t45 = plume_tokenizer_lookup(t, "45"),
                t456 = plume_tokenizer_lookup(t, "456");
        CHECK(t123 >= 0 && t45 >= 0 && t456 >= 0);
        expect_ids(t, "12345", (const int32_t[]){ t123, t45 }, 2);
        expect_ids(t, "1234567", (const int32_t[]){ t123, t456, 22 }, 3);
        plume_tokenizer_free(t);
    }
}

int main(void) {
    const char *data = getenv("PLUME_TEST_DATA");
    if (!data) data = "tests/data";
    test_gpt2();
    test_llama3();
    test_qwen2();
    test_smollm();
    test_names();
    test_with_vocab(data);
    return check_finish("test_pretokenize");
}
