/* The text toolkit's options, which keep the behaviour the metrics' keyword, label and summary
 * code had before they shared the toolkit: words split at '_', the extended stopword list, the
 * plain sentence rules. Each option is checked against hand-worked values, and beside the
 * default it differs from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/text.h"

static void check_words(const char *text, unsigned flags, const char *const *want, size_t n) {
    plume_words w = { 0 };
    CHECK(plume_text_words_with(text, strlen(text), flags, &w) == 0);
    CHECK_MSG(w.count == n, "\"%s\": %zu words, expected %zu", text, w.count, n);
    for (size_t i = 0; i < n && i < w.count; i++) CHECK_STR(plume_word(&w, i), want[i]);
    plume_words_free(&w);
}

static void check_spans(const char *text, const plume_spans *sp, const char *const *want, size_t n) {
    CHECK_MSG(sp->count == n, "%zu spans, expected %zu", sp->count, n);
    for (size_t i = 0; i < n && i < sp->count; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)sp->items[i].len, text + sp->items[i].start);
        CHECK_STR(buf, want[i]);
    }
}

static void check_sentences(const char *text, plume_sentence_rules rules, const char *const *want, size_t n) {
    plume_spans sp = { 0 };
    CHECK(plume_text_sentences_with(text, strlen(text), rules, &sp) == 0);
    check_spans(text, &sp, want, n);
    plume_spans_free(&sp);
}

static void test_words(void) {
    /* Case folding, inner apostrophes (' and U+2019 → '), digits split at '.', full folding ß → ss. */
    static const char *const w1[] = { "don't", "stop", "the", "caf\xc3\xa9's", "na\xc3\xafve", "3", "5", "x" };
    check_words("Don't STOP\xe2\x80\x94the caf\xc3\xa9\xe2\x80\x99s Na\xc3\xafve 3.5 'x'", PLUME_WORDS_SPLIT_CONNECTORS,
                w1, 8);
    static const char *const w2[] = { "strasse" };
    check_words("Stra\xc3\x9f" "e", PLUME_WORDS_SPLIT_CONNECTORS, w2, 1);
    /* connector punctuation: joins by default, separates with the option ('_' and U+203F ‿) */
    static const char *const joined[] = { "uv_ip6_addr", "a\xe2\x80\xbf" "b" };
    static const char *const split[] = { "uv", "ip6", "addr", "a", "b" };
    check_words("uv_ip6_addr a\xe2\x80\xbf" "b", PLUME_WORDS_DEFAULT, joined, 2);
    check_words("uv_ip6_addr a\xe2\x80\xbf" "b", PLUME_WORDS_SPLIT_CONNECTORS, split, 5);

    CHECK(plume_word_has_letter("b2b", 3) && !plume_word_has_letter("2024", 4));
    CHECK(plume_word_has_letter("\xc3\xa9t\xc3\xa9", 5) && !plume_word_has_letter("_\xe2\x80\xbf", 4));
}

static void test_stopwords(void) {
    /* in both lists */
    static const char *const both[] = { "the", "don't", "yourselves", "a", "won't" };
    for (size_t i = 0; i < sizeof both / sizeof both[0]; i++) {
        CHECK_MSG(plume_is_stopword_in(both[i], strlen(both[i]), PLUME_STOPWORDS), "%s", both[i]);
        CHECK_MSG(plume_is_stopword_in(both[i], strlen(both[i]), PLUME_STOPWORDS_EXTENDED), "%s", both[i]);
    }
    /* only in the extended one: contraction pieces, modals, a few adverbs */
    static const char *const extended[] = { "don", "t", "ll", "ain", "also", "just", "may", "must", "now", "us",
                                            "should've", "y" };
    for (size_t i = 0; i < sizeof extended / sizeof extended[0]; i++) {
        CHECK_MSG(!plume_is_stopword_in(extended[i], strlen(extended[i]), PLUME_STOPWORDS), "%s", extended[i]);
        CHECK_MSG(plume_is_stopword_in(extended[i], strlen(extended[i]), PLUME_STOPWORDS_EXTENDED), "%s", extended[i]);
    }
    CHECK(!plume_is_stopword_in("beer", 4, PLUME_STOPWORDS_EXTENDED));
    CHECK(!plume_is_stopword_in("The", 3, PLUME_STOPWORDS_EXTENDED));   /* words arrive case-folded */
    CHECK(plume_is_stopword("also", 4) == plume_is_stopword_in("also", 4, PLUME_STOPWORDS));
}

static void test_sentences(void) {
    /* Abbreviations and initials do not end one; ?! runs and closing quotes stay with it; a blank
     * line ends one. Both rule sets agree here. */
    const char *t = "Mr. Smith met J. Doe today. \"Really?!\" she said... It rained\n\nNew part here";
    static const char *const s1[] = { "Mr. Smith met J. Doe today.", "\"Really?!\"", "she said...", "It rained",
                                      "New part here" };
    check_sentences(t, PLUME_SENTENCES_PLAIN, s1, 5);
    check_sentences(t, PLUME_SENTENCES_DEFAULT, s1, 5);

    /* Where they differ: the default keeps "approx." (its longer list), a lower-case initial, and
     * a sentence whose next word is lower-case; the plain rules end all three. */
    const char *u = "It costs approx. three. See j. doe. it ends.";
    static const char *const plain[] = { "It costs approx.", "three.", "See j.", "doe.", "it ends." };
    static const char *const full[] = { "It costs approx. three.", "See j. doe. it ends." };
    check_sentences(u, PLUME_SENTENCES_PLAIN, plain, 5);
    check_sentences(u, PLUME_SENTENCES_DEFAULT, full, 2);
    /* a period followed by '!' is a single period for the plain rules: "No.!" is an abbreviation */
    const char *v = "No.! Go.";
    static const char *const v_plain[] = { "No.! Go." };
    static const char *const v_full[] = { "No.!", "Go." };
    check_sentences(v, PLUME_SENTENCES_PLAIN, v_plain, 1);
    check_sentences(v, PLUME_SENTENCES_DEFAULT, v_full, 2);
}

static void test_snippets(void) {
    /* Snippets of at least 30 code points: sentences appended until the piece is long enough. */
    const char *u = "One two three. Four five. Six seven eight nine ten eleven. End.";
    plume_spans sp = { 0 };
    CHECK(plume_text_snippets_with(u, strlen(u), 30, PLUME_SENTENCES_PLAIN, &sp) == 0);
    static const char *const s2[] = { "One two three. Four five. Six seven eight nine ten eleven.", "End." };
    check_spans(u, &sp, s2, 2);
    plume_spans_free(&sp);
    CHECK(plume_text_snippets_with(u, strlen(u), 20, PLUME_SENTENCES_PLAIN, &sp) == 0);
    static const char *const s3[] = { "One two three. Four five.", "Six seven eight nine ten eleven.", "End." };
    check_spans(u, &sp, s3, 3);
    plume_spans_free(&sp);
}

static void test_utf8_idf(void) {
    size_t i = 0;
    const char *s = "h\xc3\xa9\xff";
    CHECK(plume_utf8_next(s, 4, &i) == 'h' && i == 1);
    CHECK(plume_utf8_next(s, 4, &i) == 0xE9 && i == 3);
    CHECK(plume_utf8_next(s, 4, &i) == 0xFFFD && i == 4);   /* a malformed byte: one byte, U+FFFD */
    CHECK_NEAR(plume_idf(10, 2), log(5.0), 1e-12);
    CHECK_NEAR(plume_idf(10, 0), 0.0, 0);
}

int main(void) {
    test_words();
    test_stopwords();
    test_sentences();
    test_snippets();
    test_utf8_idf();
    return check_finish("test_text_options");
}
