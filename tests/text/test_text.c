/* Text analysis: words, folding, stems, stopwords, sentences, snippets, IDF and BM25
 * against values worked out by hand. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/text.h"

static plume_words words_of(const char *s) {
    plume_words w = { 0 };
    CHECK(plume_text_words(s, strlen(s), &w) == 0);
    return w;
}

static plume_words list(const char *const *items, size_t n) {
    plume_words w = { 0 };
    for (size_t i = 0; i < n; i++) CHECK(plume_words_push(&w, items[i], strlen(items[i])) == 0);
    return w;
}

static void test_utf8(void) {
    const char *s = "na\xC3\xAFve caf\xC3\xA9";   /* "naïve café": 10 characters, 12 bytes */
    CHECK(plume_utf8_length(s, strlen(s)) == 10);
    CHECK(plume_utf8_prefix(s, strlen(s), 3) == 4);   /* "naï" */
    CHECK(plume_utf8_prefix(s, strlen(s), 100) == strlen(s));
    /* a last character cut short goes; a whole one, ASCII or a stray continuation byte stays */
    const char *cup = "ok \xE2\x98\x95";   /* U+2615, 3 bytes */
    CHECK(plume_utf8_whole(cup, 6) == 6 && plume_utf8_whole(cup, 5) == 3 && plume_utf8_whole(cup, 4) == 3);
    CHECK(plume_utf8_whole("caf\xC3\xA9", 5) == 5 && plume_utf8_whole("caf\xC3\xA9", 4) == 3);
    CHECK(plume_utf8_whole("\xF0\x9F\x98\x80", 4) == 4 && plume_utf8_whole("\xF0\x9F\x98\x80", 3) == 0);
    CHECK(plume_utf8_whole("ab", 2) == 2 && plume_utf8_whole("", 0) == 0 && plume_utf8_whole("a\x80", 2) == 2 &&
          plume_utf8_whole("a\xFF\x80", 3) == 3);
    size_t n, bad;
    char *c = plume_utf8_clean("a\xFF" "b\r\nc\rd\x01" "e", 10, &n, &bad);
    CHECK_STR(c, "a\xEF\xBF\xBD" "b\nc\nde");
    CHECK(bad == 1 && n == strlen(c));
    free(c);
}

static void test_words(void) {
    plume_words w = words_of("Don't STOP\xE2\x80\x94the Stra\xC3\x9F" "e caf\xC3\xA9's It\xE2\x80\x99s uv_ip6_addr 3.14 'quoted' x'");
    const char *expect[] = { "don't", "stop", "the", "strasse", "caf\xC3\xA9's", "it's", "uv_ip6_addr", "3", "14", "quoted", "x" };
    CHECK(w.count == sizeof expect / sizeof expect[0]);
    for (size_t i = 0; i < w.count && i < sizeof expect / sizeof expect[0]; i++) {
        CHECK_STR(plume_word(&w, i), expect[i]);
        CHECK(plume_word_len(&w, i) == strlen(expect[i]));
    }
    plume_words_free(&w);
    /* decomposed e + combining acute folds to the composed form (NFC) */
    w = words_of("CAFE\xCC\x81");
    CHECK(w.count == 1 && !strcmp(plume_word(&w, 0), "caf\xC3\xA9"));
    plume_words_free(&w);
    /* malformed bytes separate words instead of failing */
    w = words_of("ab\xFF" "cd");
    CHECK(w.count == 2);
    plume_words_free(&w);
}

static void test_stem_stop(void) {
    plume_error err = { { 0 } };
    plume_stemmer *st = plume_stemmer_new(&err);
    CHECK(st != NULL);
    if (!st) return;
    /* Snowball English reference stems (snowballstem.org's English vocabulary/output lists) */
    const char *in[] = { "running", "generously", "hopefulness", "beers", "caresses", "ponies", "relational" };
    const char *out[] = { "run", "generous", "hope", "beer", "caress", "poni", "relat" };
    /* twice: the second round comes from the stemmer's cache and must agree */
    for (size_t i = 0; i < 2 * (sizeof in / sizeof in[0]); i++) {
        size_t n;
        size_t k = i % (sizeof in / sizeof in[0]);
        const char *s = plume_stem(st, in[k], strlen(in[k]), &n);
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)n, s);
        CHECK_STR(buf, out[k]);
    }
    const char *stops[] = { "a", "the", "and", "don't", "yourselves", "about", "won't", "i" };
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) CHECK_MSG(plume_is_stopword(stops[i], strlen(stops[i])), "%s", stops[i]);
    CHECK(!plume_is_stopword("beer", 4));
    CHECK(!plume_is_stopword("th", 2));
    plume_words t = { 0 };
    const char *s = "The brewers were brewing beers, and I don't like IPAs";
    CHECK(plume_text_terms(s, strlen(s), st, 1, &t) == 0);
    const char *expect[] = { "brewer", "brew", "beer", "like", "ipa" };
    CHECK(t.count == 5);
    for (size_t i = 0; i < t.count && i < 5; i++) CHECK_STR(plume_word(&t, i), expect[i]);
    plume_words_free(&t);
    plume_stemmer_free(st);
}

static char *span_str(const char *s, plume_span sp) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)sp.len, s + sp.start);
    return buf;
}

static void test_sentences(void) {
    const char *s = "  Hello there. Mr. Smith went to\nWashington. It cost $3.50 in total! Really? yes e.g. this.\n"
                    "\nNew para (J. Doe said \"hi.\") End";
    plume_spans sp = { 0 };
    CHECK(plume_text_sentences(s, strlen(s), &sp) == 0);
    const char *expect[] = { "Hello there.", "Mr. Smith went to\nWashington.", "It cost $3.50 in total!", "Really?",
                             "yes e.g. this.", "New para (J. Doe said \"hi.\")", "End" };
    CHECK(sp.count == 7);
    for (size_t i = 0; i < sp.count && i < 7; i++) CHECK_STR(span_str(s, sp.items[i]), expect[i]);
    plume_spans_free(&sp);

    /* snippets at 20 characters: "Hello there." (12) + "Mr. Smith ..." reaches 20 → one snippet;
     * "It cost $3.50 in total!" (23) alone; "Really?" (7) + "yes e.g. this." → 7+1+14 = 22;
     * "New para ..." (28) alone; "End" is what is left when the text ends. */
    CHECK(plume_text_snippets(s, strlen(s), 20, &sp) == 0);
    const char *snip[] = { "Hello there. Mr. Smith went to\nWashington.", "It cost $3.50 in total!", "Really? yes e.g. this.",
                           "New para (J. Doe said \"hi.\")", "End" };
    CHECK(sp.count == 5);
    for (size_t i = 0; i < sp.count && i < 5; i++) CHECK_STR(span_str(s, sp.items[i]), snip[i]);
    plume_spans_free(&sp);

    /* the paper's 250: a text shorter than that is one snippet */
    CHECK(plume_text_snippets(s, strlen(s), PLUME_SNIPPET_CHARS, &sp) == 0);
    CHECK(sp.count == 1);
    CHECK(sp.count == 1 && sp.items[0].start == 2 && sp.items[0].start + sp.items[0].len == strlen(s));
    plume_spans_free(&sp);
    CHECK(plume_text_sentences("", 0, &sp) == 0 && sp.count == 0);
    plume_spans_free(&sp);
}

static void test_idf(void) {
    plume_df df;
    CHECK(plume_df_init(&df) == 0);
    const char *d0[] = { "beer", "hops", "beer" }, *d1[] = { "wine" }, *d2[] = { "beer" }, *d3[] = { "malt" };
    plume_words w0 = list(d0, 3), w1 = list(d1, 1), w2 = list(d2, 1), w3 = list(d3, 1);
    CHECK(plume_df_add(&df, &w0) == 0 && plume_df_add(&df, &w1) == 0 && plume_df_add(&df, &w2) == 0 && plume_df_add(&df, &w3) == 0);
    CHECK(df.n_docs == 4);
    CHECK(plume_df_count(&df, "beer") == 2);   /* twice in d0 counts once */
    CHECK(plume_df_count(&df, "ale") == 0);
    CHECK_NEAR(plume_df_idf(&df, "beer"), 0.69314718056, 1e-9);   /* ln(4/2) */
    CHECK_NEAR(plume_df_idf(&df, "wine"), 1.38629436112, 1e-9);   /* ln(4/1) */
    CHECK_NEAR(plume_df_idf(&df, "ale"), 0.0, 0);
    CHECK_NEAR(plume_idf_bm25(4, 2), 0.69314718056, 1e-9);        /* ln(1 + 2.5/2.5) = ln 2 */
    plume_words_free(&w0); plume_words_free(&w1); plume_words_free(&w2); plume_words_free(&w3);
    plume_df_free(&df);

    /* the vocabulary survives growth past its first table */
    plume_vocab *v = plume_vocab_new();
    char w[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(w, sizeof w, "w%d", i);
        CHECK(plume_vocab_id(v, w, strlen(w), 1) == i);
    }
    CHECK(plume_vocab_id(v, "w4321", 5, 0) == 4321);
    CHECK(plume_vocab_id(v, "nope", 4, 0) == -1);
    CHECK_STR(plume_vocab_word(v, 77), "w77");
    plume_vocab_free(v);
}

static void test_bm25(void) {
    /* Three documents, already analysed; k1 = 1.2, b = 0.75; N = 3, avgdl = (3 + 2 + 2) / 3 = 7/3.
     *   D0 = beer hops beer   |D0| = 3
     *   D1 = wine grape       |D1| = 2
     *   D2 = beer malt        |D2| = 2
     * idf(beer) = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln 1.6      = 0.470003629
     * idf(hops) = ln(1 + (3 - 1 + 0.5) / (1 + 0.5)) = ln(8/3)     = 0.980829253
     * Query "beer hops beer" (distinct terms: beer, hops).
     * D0: beer tf 2: 2 * 2.2 / (2 + 1.2 * (0.25 + 0.75 * 3 / (7/3))) = 4.4 / 3.457142857 = 1.272727273
     *     hops tf 1: 1 * 2.2 / (1 + 1.457142857)                     = 2.2 / 2.457142857 = 0.895348837
     *     score = 0.470003629 * 1.272727273 + 0.980829253 * 0.895348837 = 0.598186437 + 0.878184332 = 1.476370768
     * D1: no query term: 0
     * D2: beer tf 1: 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / (7/3))) = 2.2 / 2.071428571 = 1.062068966
     *     score = 0.470003629 * 1.062068966 = 0.499176268 */
    const char *a[] = { "beer", "hops", "beer" }, *b[] = { "wine", "grape" }, *c[] = { "beer", "malt" };
    plume_words docs[3] = { list(a, 3), list(b, 2), list(c, 2) };
    plume_error err = { { 0 } };
    plume_bm25 *idx = plume_bm25_build(docs, 3, 1.2, 0.75, &err);
    CHECK(idx != NULL);
    plume_words q = list(a, 3);
    double s[3];
    CHECK(plume_bm25_score(idx, &q, s) == 0);
    CHECK_NEAR(s[0], 1.476370768, 1e-8);
    CHECK_NEAR(s[1], 0.0, 0);
    CHECK_NEAR(s[2], 0.499176268, 1e-8);
    plume_words_free(&q);
    /* a query with no known word scores everything 0 */
    const char *z[] = { "stout" };
    q = list(z, 1);
    CHECK(plume_bm25_score(idx, &q, s) == 0);
    CHECK(s[0] == 0 && s[1] == 0 && s[2] == 0);
    plume_words_free(&q);
    plume_bm25_free(idx);
    CHECK(plume_bm25_build(docs, 3, 1.2, 1.5, &err) == NULL);
    CHECK(strstr(err.msg, "b = 1.5") != NULL);
    for (int i = 0; i < 3; i++) plume_words_free(&docs[i]);
    /* no documents at all is a valid (empty) index */
    idx = plume_bm25_build(NULL, 0, 1.2, 0.75, &err);
    CHECK(idx != NULL);
    plume_bm25_free(idx);
}

/* Random bytes (a fixed LCG, so the run is deterministic): no crash, spans inside the text,
 * every word valid UTF-8 and non-empty, snippets covering the sentences in order. */
static void test_random_bytes(void) {
    unsigned long long x = 12345;
    char buf[600];
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(round * 2);
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            /* mostly text-like bytes, with punctuation, newlines and high bytes mixed in */
            static const char pool[] = "ab .!?\n\n'\xC3\xA9\xE2\x80\x99Z9_-\xFF\x80";
            buf[i] = (x >> 33) % 4 ? pool[(x >> 40) % (sizeof pool - 1)] : (char)(x >> 48);
        }
        plume_words w = { 0 };
        CHECK(plume_text_words(buf, n, &w) == 0);
        for (size_t i = 0; i < w.count; i++) {
            const char *word = plume_word(&w, i);
            size_t wl = strlen(word), cl;
            char *c = plume_utf8_clean(word, wl, &cl, NULL);
            CHECK(wl > 0 && c && cl == wl && !memcmp(c, word, wl));
            free(c);
        }
        plume_words_free(&w);
        plume_spans sp = { 0 }, sn = { 0 };
        CHECK(plume_text_sentences(buf, n, &sp) == 0);
        CHECK(plume_text_snippets(buf, n, 40, &sn) == 0);
        for (size_t i = 0; i < sp.count; i++) CHECK(sp.items[i].len > 0 && sp.items[i].start + sp.items[i].len <= n);
        CHECK(sn.count <= sp.count);
        if (sp.count) CHECK(sn.count > 0 && sn.items[0].start == sp.items[0].start &&
                            sn.items[sn.count - 1].start + sn.items[sn.count - 1].len == sp.items[sp.count - 1].start + sp.items[sp.count - 1].len);
        plume_spans_free(&sp);
        plume_spans_free(&sn);
    }
}

int main(void) {
    test_random_bytes();
    test_utf8();
    test_words();
    test_stem_stop();
    test_sentences();
    test_idf();
    test_bm25();
    return check_finish("test_text");
}
