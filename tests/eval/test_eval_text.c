/* engine/eval's private text helpers (compiled in from eval_text.c): words, stopwords,
 * sentences, snippets, term vectors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "eval/eval_text.h"

static void check_words(const char *text, const char *const *want, size_t n) {
    ev_words w = { 0 };
    CHECK(ev_words_split(text, strlen(text), &w) == 0);
    CHECK_MSG(w.count == n, "\"%s\": %zu words, expected %zu", text, w.count, n);
    for (size_t i = 0; i < n && i < w.count; i++) CHECK_STR(w.items[i], want[i]);
    ev_words_free(&w);
}

static void check_spans(const char *text, const ev_spans *sp, const char *const *want, size_t n) {
    CHECK_MSG(sp->count == n, "%zu spans, expected %zu", sp->count, n);
    for (size_t i = 0; i < n && i < sp->count; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)sp->items[i].len, text + sp->items[i].start);
        CHECK_STR(buf, want[i]);
    }
}

int main(void) {
    /* Case folding (utf8proc), inner apostrophes (' and U+2019 → '), digits split at '.'. */
    static const char *const w1[] = { "don't", "stop", "the", "café's", "naïve", "3", "5", "x", "strasse" };
    check_words("Don't STOP\xe2\x80\x94the caf\xc3\xa9\xe2\x80\x99s Na\xc3\xafve 3.5 'x'", w1, 8);
    check_words("Stra\xc3\x9f" "e", w1 + 8, 1);   /* full case folding: ß → ss */

    CHECK(ev_is_stopword("the") && ev_is_stopword("don't") && ev_is_stopword("yourselves"));
    CHECK(!ev_is_stopword("beer") && !ev_is_stopword("The"));   /* words arrive case-folded */
    CHECK(ev_has_letter("b2b") && !ev_has_letter("2024") && ev_has_letter("\xc3\xa9t\xc3\xa9"));

    /* Sentences: abbreviations and initials do not end one; ?! runs and closing quotes stay with it;
     * a blank line ends one. */
    const char *t = "Mr. Smith met J. Doe today. \"Really?!\" she said... It rained\n\nNew part here";
    ev_spans sp = { 0 };
    CHECK(ev_sentences(t, strlen(t), &sp) == 0);
    static const char *const s1[] = { "Mr. Smith met J. Doe today.", "\"Really?!\"", "she said...", "It rained",
                                      "New part here" };
    check_spans(t, &sp, s1, 5);
    ev_spans_free(&sp);

    /* Snippets of at least 30 code points: sentences appended until the piece is long enough. */
    const char *u = "One two three. Four five. Six seven eight nine ten eleven. End.";
    CHECK(ev_snippets(u, strlen(u), 30, &sp) == 0);
    static const char *const s2[] = { "One two three. Four five. Six seven eight nine ten eleven.", "End." };
    check_spans(u, &sp, s2, 2);
    ev_spans_free(&sp);
    CHECK(ev_snippets(u, strlen(u), 20, &sp) == 0);
    static const char *const s3[] = { "One two three. Four five.", "Six seven eight nine ten eleven.", "End." };
    check_spans(u, &sp, s3, 3);
    ev_spans_free(&sp);

    /* Term vectors: stopwords out, Snowball stems, counts; cosine by hand. */
    ev_stemmer *st = ev_stemmer_new();
    CHECK(st != NULL);
    ev_intern vocab = { 0 };
    ev_tf a, b;
    const char *x = "The dogs barked and the dog ran", *y = "A dog runs";
    CHECK(ev_tf_build(x, strlen(x), st, &vocab, &a) == 0);   /* dog:2 bark:1 ran:1 */
    CHECK(ev_tf_build(y, strlen(y), st, &vocab, &b) == 0);   /* dog:1 run:1 */
    CHECK(a.n == 3 && b.n == 2);
    CHECK_NEAR(a.norm, sqrt(6.0), 1e-12);
    CHECK_NEAR(ev_tf_cosine(&a, &b), 2.0 / (sqrt(6.0) * sqrt(2.0)), 1e-12);   /* only "dog" shared: 2·1 */
    ev_tf_free(&a);
    ev_tf_free(&b);
    ev_intern_free(&vocab);
    ev_stemmer_free(st);

    CHECK_NEAR(ev_idf(10, 2), log(5.0), 1e-12);
    CHECK_NEAR(ev_idf(10, 0), 0.0, 0);
    CHECK(ev_utf8_count("h\xc3\xa9llo", 6) == 5);
    CHECK(ev_utf8_prefix("h\xc3\xa9llo", 6, 2) == 3);
    return check_finish("test_eval_text");
}
