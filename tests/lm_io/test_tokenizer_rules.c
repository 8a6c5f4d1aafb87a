/* The tokenizers' merge rules on tiny hand-made vocabularies, with the expected ids worked out
 * by hand below, and clear errors for damaged tokenizer metadata. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "plume/gguf.h"
#include "plume/tokenizer.h"

static char tmpdir[256];

/* Writes W to a temporary file and builds a tokenizer from it: 0, or -1 with err. */
static int load(plume_gguf_writer *w, plume_tokenizer **t, plume_error *err) {
    char path[600];
    snprintf(path, sizeof path, "%s/tok.gguf", tmpdir);
    *t = NULL;
    if (plume_gguf_writer_write(w, path, err)) return -1;
    plume_gguf *g = NULL;
    int rc = plume_gguf_open(&g, path, err);
    if (!rc) rc = plume_tokenizer_from_gguf(t, g, err);
    plume_gguf_close(g);
    unlink(path);
    return rc;
}

static void expect_ids(plume_tokenizer *t, const char *text, const int32_t *want, size_t n_want) {
    int32_t *ids = NULL;
    size_t n = 0;
    plume_error err = { { 0 } };
    CHECK_MSG(plume_tokenize(t, text, strlen(text), false, &ids, &n, &err) == 0, "%s", err.msg);
    bool same = ids && n == n_want && (n == 0 || !memcmp(ids, want, n * sizeof *ids));
    CHECK_MSG(same, "'%s' tokenizes differently", text);
    if (!same && ids) {
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
        fputc('\n', stderr);
    }
    char *back = NULL;
    CHECK(plume_detokenize(t, want, n_want, &back, NULL, &err) == 0);
    CHECK_STR(back, text);
    free(back);
    free(ids);
}

/* SPM: <unk> <s> </s>, the 256 byte tokens (ids 3..258), then
 *   259 "▁" -1, 260 "a" -2, 261 "b" -2, 262 "ab" 5, 263 "ba" 5, 264 "▁a" 1, 265 "▁b" 7. */
static plume_gguf_writer *spm_vocab(void) {
    static char bytes[256][8];
    const char *tok[266];
    float score[266];
    int32_t type[266];
    tok[0] = "<unk>"; tok[1] = "<s>"; tok[2] = "</s>";
    type[0] = PLUME_TOKEN_UNKNOWN; type[1] = type[2] = PLUME_TOKEN_CONTROL;
    score[0] = score[1] = score[2] = 0;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        tok[3 + b] = bytes[b];
        type[3 + b] = PLUME_TOKEN_BYTE;
        score[3 + b] = 0;
    }
    const char *rest[7] = { "\xe2\x96\x81", "a", "b", "ab", "ba", "\xe2\x96\x81" "a", "\xe2\x96\x81" "b" };
    const float rs[7] = { -1, -2, -2, 5, 5, 1, 7 };
    for (int i = 0; i < 7; i++) {
        tok[259 + i] = rest[i];
        score[259 + i] = rs[i];
        type[259 + i] = PLUME_TOKEN_NORMAL;
    }
    plume_error err = { { 0 } };
    plume_gguf_writer *w = plume_gguf_writer_new();
    plume_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.tokens", PLUME_GGUF_STRING, 266, tok, &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.scores", PLUME_GGUF_FLOAT32, 266, score, &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, 266, type, &err);
    return w;
}

static void test_spm(void) {
    plume_error err = { { 0 } };
    plume_gguf_writer *w = spm_vocab();
    plume_tokenizer *t = NULL;
    CHECK_MSG(load(w, &t, &err) == 0, "%s", err.msg);
    plume_gguf_writer_free(w);
    if (!t) return;
    /* "ab" → ▁ a b: pairs "▁a" (1) and "ab" (5); the better score wins, not the leftmost pair. */
    expect_ids(t, "ab", (const int32_t[]){ 259, 262 }, 2);
    /* "xbab" → ▁ x b a b: "ba" (5, left) and "ab" (5, right) tie; the leftmost merges first;
     * 'x' has no token: its byte token <0x78> = 3 + 0x78 = 123. */
    expect_ids(t, "xbab", (const int32_t[]){ 259, 123, 263, 261 }, 4);
    /* "bab" → ▁ b a b: "▁b" (7) first; "ba" is then stale; "ab" (5) merges: ▁b ab. */
    expect_ids(t, "bab", (const int32_t[]){ 265, 262 }, 2);
    /* "é" (c3 a9) has no token: two byte tokens. A space inside the text is '▁'. */
    expect_ids(t, "\xc3\xa9 a", (const int32_t[]){ 259, 3 + 0xc3, 3 + 0xa9, 264 }, 4);
    expect_ids(t, "", NULL, 0);
    /* Defaults without the optional keys: BOS 1, EOS 2, add_bos on. */
    CHECK(plume_tokenizer_bos(t) == 1 && plume_tokenizer_eos(t) == 2 && plume_tokenizer_adds_bos(t));
    plume_tokenizer_free(t);

    /* add_space_prefix off, add_eos on: "ab" → a b → ab, then EOS. */
    w = spm_vocab();
    plume_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", false, &err);
    plume_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", true, &err);
    CHECK(load(w, &t, &err) == 0);
    plume_gguf_writer_free(w);
    if (t) {
        int32_t *ids = NULL;
        size_t n = 0;
        CHECK(plume_tokenize(t, "ab", 2, true, &ids, &n, &err) == 0 && n == 3 && ids[0] == 1 && ids[1] == 262 && ids[2] == 2);
        free(ids);
        plume_tokenizer_free(t);
    }
}

/* GPT-2: tokens 0 "a", 1 "b", 2 "Ġ" (the stand-in for ' '), 3 "ab", 4 "Ġa", 5 "Ġab", 6 "bb",
 * 7 "<|endoftext|>" (control); merges by rank: "a b" 0, "Ġ a" 1, "Ġa b" 2, "b b" 3. */
static plume_gguf_writer *gpt2_vocab(void) {
    const char *tok[8] = { "a", "b", "\xc4\xa0", "ab", "\xc4\xa0" "a", "\xc4\xa0" "ab", "bb", "<|endoftext|>" };
    int32_t type[8] = { 1, 1, 1, 1, 1, 1, 1, PLUME_TOKEN_CONTROL };
    const char *merges[4] = { "a b", "\xc4\xa0 a", "\xc4\xa0" "a b", "b b" };
    plume_error err = { { 0 } };
    plume_gguf_writer *w = plume_gguf_writer_new();
    plume_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.tokens", PLUME_GGUF_STRING, 8, tok, &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, 8, type, &err);
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.merges", PLUME_GGUF_STRING, 4, merges, &err);
    plume_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 7, &err);
    return w;
}

static void test_gpt2(void) {
    plume_error err = { { 0 } };
    plume_gguf_writer *w = gpt2_vocab();
    plume_tokenizer *t = NULL;
    CHECK_MSG(load(w, &t, &err) == 0, "%s", err.msg);
    plume_gguf_writer_free(w);
    if (!t) return;
    /* "ab ab" → words "ab", " ab". " ab" → Ġ a b: "a b" (rank 0) beats "Ġ a" (rank 1), leaving
     * Ġ ab, and "Ġ ab" is no merge: [2, 3], not [5]. */
    expect_ids(t, "ab ab", (const int32_t[]){ 3, 2, 3 }, 3);
    /* "bbb": "b b" twice at equal rank: the leftmost first → bb b. */
    expect_ids(t, "bbb", (const int32_t[]){ 6, 1 }, 2);
    /* " a" alone → Ġ a → "Ġ a" (rank 1) → Ġa. */
    expect_ids(t, " a", (const int32_t[]){ 4 }, 1);
    /* No BOS for gpt2 by default; EOS is control: it decodes to nothing. */
    CHECK(!plume_tokenizer_adds_bos(t) && plume_tokenizer_eos(t) == 7);
    size_t n;
    CHECK(plume_token_piece(t, -1, 7, &n) && n == 0);
    CHECK(plume_token_piece(t, -1, 99, &n) == NULL);
    plume_tokenizer_free(t);
}

static void expect_bad(plume_gguf_writer *w, const char *needle, const char *what) {
    plume_error err = { { 0 } };
    plume_tokenizer *t = NULL;
    CHECK_MSG(load(w, &t, &err) == -1 && t == NULL, "%s: expected an error", what);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, needle);
    plume_tokenizer_free(t);
    plume_gguf_writer_free(w);
}

static void test_bad(void) {
    plume_error err = { { 0 } };
    plume_gguf_writer *w = plume_gguf_writer_new();
    plume_gguf_writer_set_u32(w, "x", 1, &err);
    expect_bad(w, "'tokenizer.ggml.model' is missing", "no model");
    w = spm_vocab();
    plume_gguf_writer_set_str(w, "tokenizer.ggml.model", "bert", &err);
    expect_bad(w, "'bert'", "unknown model");
    w = spm_vocab();
    float two[2] = { 0, 0 };
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.scores", PLUME_GGUF_FLOAT32, 2, two, &err);
    expect_bad(w, "has 2 elements, expected 266", "short scores");
    w = spm_vocab();
    int32_t types[266];
    for (int i = 0; i < 266; i++) types[i] = 1;
    types[100] = 9;
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, 266, types, &err);
    expect_bad(w, "token_type[100] is 9", "bad token type");
    w = spm_vocab();
    plume_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 999, &err);
    expect_bad(w, "outside the vocabulary", "bos out of range");
    w = spm_vocab();
    plume_gguf_writer_set_str(w, "tokenizer.ggml.tokens", "not an array", &err);
    expect_bad(w, "expected an array of STRING", "tokens not an array");
    w = gpt2_vocab();
    const char *bad_merge[1] = { "ab" };
    plume_gguf_writer_set_arr(w, "tokenizer.ggml.merges", PLUME_GGUF_STRING, 1, bad_merge, &err);
    expect_bad(w, "not 'LEFT RIGHT'", "malformed merge");
    w = gpt2_vocab();
    plume_gguf_writer_set_str(w, "tokenizer.ggml.pre", "deepseek-llm", &err);
    expect_bad(w, "tokenizer.ggml.pre is 'deepseek-llm'; plume implements the pre-tokenizers gpt-2", "another BPE pre-tokenizer");
    w = gpt2_vocab();
    plume_gguf_writer_set_str(w, "tokenizer.ggml.pre", "llama_bpe", &err);
    expect_bad(w, "'llama_bpe'; plume implements the pre-tokenizers gpt-2 (or gpt2), llama-bpe (or llama3, llama-v3), qwen2, "
               "smollm (did you mean 'llama-bpe'?)", "a misspelt pre-tokenizer");
    w = gpt2_vocab();
    const uint32_t eot = 99;
    plume_gguf_writer_set_u32(w, "tokenizer.ggml.eot_token_id", eot, &err);
    expect_bad(w, "tokenizer.ggml.eot_token_id is 99, outside the vocabulary of 8", "eot out of range");
    w = gpt2_vocab();
    plume_gguf_writer_set_u32(w, "tokenizer.chat_template", 3, &err);
    expect_bad(w, "tokenizer.chat_template", "chat template not a string");
}

int main(void) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/plume-tok-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_spm();
    test_gpt2();
    test_bad();
    rmdir(tmpdir);
    return check_finish("test_tokenizer_rules");
}
