/* Byte-level BPE training: the merges learned from a tiny corpus, worked out by hand;
 * the tokenizer that engine/lm/tokenizer.c builds from the written GGUF; round trips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "plume/gguf.h"
#include "plume/train.h"
#include "plume/tokenizer.h"

static char dir[256];

static plume_tokenizer *load(const char *path) {
    plume_error err;
    plume_gguf *g = NULL;
    plume_tokenizer *t = NULL;
    if (plume_gguf_open(&g, path, &err) || plume_tokenizer_from_gguf(&t, g, &err)) {
        fprintf(stderr, "load: %s\n", err.msg);
        t = NULL;
    }
    plume_gguf_close(g);
    return t;
}

/* "the cat the hat the bat": pre-tokens the, Ġcat, Ġthe x2, Ġhat, Ġbat (Ġ = the space's
 * stand-in). Pair counts: (a,t) 3, (t,h) 3, (h,e) 3, (Ġ,t) 2, the rest 1. Ties go to the
 * smaller left id: 'a' (97) < 'h' (104) < 't' (116), so:
 *   1. a t -> at (256)     then (h,e) 3, (t,h) 3: 'h' first
 *   2. h e -> he (257)     then (t,he) 3
 *   3. t he -> the (258)   then (Ġ,the) 2
 *   4. Ġ the -> Ġthe (259) then every pair occurs once < min_frequency 2: stop.
 * <|endoftext|> is 260. */
static void test_hand_checked(void) {
    plume_error err;
    char path[400];
    snprintf(path, sizeof path, "%s/tiny.gguf", dir);
    const char *text = "the cat the hat the bat";
    size_t len = strlen(text);
    plume_bpe_stats st;
    CHECK(plume_bpe_train(&text, &len, 1, 1000, 2, NULL, 0, path, &st, &err) == 0);
    CHECK(st.n_merges == 4 && st.vocab_size == 261 && st.n_words == 5);
    plume_gguf *g = NULL;
    CHECK(plume_gguf_open(&g, path, &err) == 0);
    const void *data = NULL;
    uint64_t n = 0;
    CHECK(g && plume_gguf_get_arr(g, "tokenizer.ggml.merges", PLUME_GGUF_STRING, 0, &data, &n, &err) == 0);
    const char *want[] = {"a t", "h e", "t he", "\xc4\xa0 the"};
    CHECK(n == 4);
    for (uint64_t i = 0; data && i < n && i < 4; i++) CHECK_STR(((const plume_gguf_str *)data)[i].data, want[i]);
    plume_gguf_close(g);
    plume_tokenizer *t = load(path);
    CHECK(t != NULL);
    if (!t) return;
    CHECK(plume_tokenizer_n_vocab(t) == 261 && plume_tokenizer_bos(t) == 260 && plume_tokenizer_eos(t) == 260);
    int32_t *ids;
    size_t k;
    CHECK(plume_tokenize(t, "the cat", 7, false, &ids, &k, &err) == 0);
    int32_t expect[] = {258, 32, 99, 256};   /* the, Ġ, c, at */
    CHECK(k == 4 && memcmp(ids, expect, sizeof expect) == 0);
    free(ids);
    CHECK(plume_tokenize(t, "the that", 8, true, &ids, &k, &err) == 0);
    int32_t expect2[] = {260, 258, 32, 116, 104, 256};  /* BOS, the, Ġ, t, h, at: no "h e" pair in " that" */
    CHECK(k == 6 && memcmp(ids, expect2, sizeof expect2) == 0);
    free(ids);
    plume_tokenizer_free(t);
    remove(path);
    size_t l2 = 3;
    const char *t2 = "abc";
    CHECK(plume_bpe_train(&t2, &l2, 1, 100, 2, NULL, 0, path, NULL, &err) == -1 && strstr(err.msg, "257"));
}

static void test_round_trip(void) {
    plume_error err;
    char path[400], corpus_path[400];
    snprintf(path, sizeof path, "%s/rt.gguf", dir);
    const char *data = getenv("PLUME_TEST_DATA");
    snprintf(corpus_path, sizeof corpus_path, "%s/train/tiny.jsonl", data ? data : "tests/data");
    FILE *f = fopen(corpus_path, "rb");
    static char corpus[1 << 16];
    size_t len = f ? fread(corpus, 1, sizeof corpus - 1, f) : 0;
    if (f) fclose(f);
    CHECK(len > 500);
    const char *texts[1] = {corpus};
    plume_bpe_stats st;
    CHECK(plume_bpe_train(texts, &len, 1, 400, 2, NULL, 0, path, &st, &err) == 0);
    CHECK(st.vocab_size > 300 && st.vocab_size <= 400);
    plume_tokenizer *t = load(path);
    CHECK(t != NULL);
    if (!t) return;
    const char *samples[] = {corpus, "Lily saw a cat.", "naïve café — 日本語 😀\n\ttabs  and   spaces ",
                             "it's 12345 they'll", "\xff\xfe invalid bytes \xc3", ""};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        size_t sl = i == 0 ? len : strlen(samples[i]);
        int32_t *ids = NULL;
        size_t k = 0;
        char *back = NULL;
        size_t bl = 0;
        CHECK(plume_tokenize(t, samples[i], sl, false, &ids, &k, &err) == 0);
        CHECK(plume_detokenize(t, ids, k, &back, &bl, &err) == 0);
        CHECK_MSG(back && bl == sl && memcmp(back, samples[i], sl) == 0, "round trip of sample %zu", i);
        if (i == 0) {
            printf("corpus: %zu bytes -> %zu tokens with %d merges\n", sl, k, st.n_merges);
            CHECK(k < sl / 2);   /* the merges compress the text they were learned from */
        }
        free(ids);
        free(back);
    }
    plume_tokenizer_free(t);
    remove(path);
}

/* Control tokens: the hand-checked corpus with two of them. Merging stops 2 tokens earlier (the
 * vocabulary is 263 at most: 256 bytes, 4 merges, 2 control tokens, <|endoftext|>), they take ids
 * 260 and 261 as CONTROL, and text spelling them is tokenized as text, never as them. */
static void test_control_tokens(void) {
    plume_error err;
    char path[400];
    snprintf(path, sizeof path, "%s/control.gguf", dir);
    const char *text = "the cat the hat the bat";
    size_t len = strlen(text);
    const char *control[2] = { "<|same_author|>", "<|other_author|>" };
    plume_bpe_stats st;
    CHECK(plume_bpe_train(&text, &len, 1, 1000, 2, control, 2, path, &st, &err) == 0);
    CHECK(st.n_merges == 4 && st.vocab_size == 263);
    plume_tokenizer *t = load(path);
    CHECK(t != NULL);
    if (t) {
        CHECK(plume_tokenizer_lookup(t, "<|same_author|>") == 260 && plume_tokenizer_lookup(t, "<|other_author|>") == 261);
        CHECK(plume_tokenizer_token_type(t, 260) == PLUME_TOKEN_CONTROL &&
              plume_tokenizer_token_type(t, 261) == PLUME_TOKEN_CONTROL);
        CHECK(plume_tokenizer_bos(t) == 262 && plume_tokenizer_eos(t) == 262);
        int32_t *ids = NULL;
        size_t k = 0;
        CHECK(plume_tokenize(t, control[0], strlen(control[0]), false, &ids, &k, &err) == 0);
        CHECK(k > 1);   /* spelled out in text, it is bytes and merges, not the control id */
        for (size_t i = 0; i < k; i++) CHECK(ids[i] < 256);
        free(ids);
        size_t plen = 99;
        const char *piece = plume_token_piece(t, -1, 260, &plen);
        CHECK(piece && plen == 0);   /* decoding shows nothing for it */
        plume_tokenizer_free(t);
    }
    /* a training example names a control token as its whole target: BOS, prompt, that id, EOS */
    char data[400];
    snprintf(data, sizeof data, "%s/ex.jsonl", dir);
    FILE *f = fopen(data, "w");
    fputs("{\"prompt\": \"the cat\", \"target_token\": \"<|other_author|>\"}\n", f);
    fclose(f);
    plume_train_example *ex = NULL;
    int n = 0;
    CHECK(plume_train_read_jsonl(data, path, 1, &ex, &n, &err) == 0);
    int32_t want[] = { 262, 258, 32, 99, 256, 261, 262 };   /* BOS, the, Ġ, c, at, <|other_author|>, EOS */
    CHECK(n == 1 && ex && ex[0].n_tokens == 7 && ex[0].n_prompt == 5 && !memcmp(ex[0].tokens, want, sizeof want));
    plume_train_examples_free(ex, n);
    /* a name that is not a control token, or both target forms: refused with the file and line */
    const char *bad[3] = { "{\"prompt\": \"a\", \"target_token\": \"<|nope|>\"}\n",
                           "{\"prompt\": \"a\", \"target_token\": \"at\"}\n",
                           "{\"prompt\": \"a\", \"target\": \"b\", \"target_token\": \"<|same_author|>\"}\n" };
    const char *why[3] = { "not in the vocabulary", "not a control token", "either" };
    for (int i = 0; i < 3; i++) {
        f = fopen(data, "w");
        fputs("{\"prompt\": \"x\", \"target\": \"y\"}\n", f);
        fputs(bad[i], f);
        fclose(f);
        char where[440];
        snprintf(where, sizeof where, "%s:2: ", data);
        CHECK(plume_train_read_jsonl(data, path, 1, &ex, &n, &err) == -1);
        CHECK_MSG(strstr(err.msg, where) && strstr(err.msg, why[i]), "%s", err.msg);
    }
    remove(data);
    remove(path);
    /* too small a vocabulary for the control tokens; a duplicate; <|endoftext|> itself */
    CHECK(plume_bpe_train(&text, &len, 1, 258, 2, control, 2, path, NULL, &err) == -1 && strstr(err.msg, "259"));
    const char *twice[2] = { "<|a|>", "<|a|>" };
    CHECK(plume_bpe_train(&text, &len, 1, 1000, 2, twice, 2, path, NULL, &err) == -1 && strstr(err.msg, "twice"));
    const char *eot[1] = { "<|endoftext|>" };
    CHECK(plume_bpe_train(&text, &len, 1, 1000, 2, eot, 1, path, NULL, &err) == -1 && strstr(err.msg, "always"));
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/plume-bpe-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_hand_checked();
    test_control_tokens();
    test_round_trip();
    rmdir(dir);
    return check_finish("test_bpe");
}
