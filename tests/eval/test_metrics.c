/* ROUGE and BLEU against values worked out independently.
 *
 * The expected numbers come from tests/eval/reference.py, a separate Python restatement of
 * rouge-score (tokenize + NLTK Porter + rouge_scorer) and sacrebleu (13a + compute_bleu) that
 * uses Python's own `re` and `str` for tokenization; run `python3 tests/eval/reference.py
 * tests/eval/pairs.json` to see them again. A few are checked by hand here:
 *
 * "the cat is on the mat" vs reference "there is a cat on the mat":
 *   ROUGE-1: overlap the,cat,is,on,mat = 5; P = 5/6, R = 5/7, F = 2PR/(P+R) = 10/13 = 0.769230769
 *   ROUGE-2: pred bigrams 5, ref bigrams 6, common "on the","the mat" = 2; F = 2(2/5)(2/6)/(2/5+2/6) = 4/11
 *   ROUGE-L: LCS "cat on the mat" = 4; F = 2(4/6)(4/7)/(4/6+4/7) = 8/13 = 0.615384615
 *   BLEU:    p1 = 5/6, p2 = 2/5, p3 = 1/4 ("on the mat"), p4 = 0/3 → exp smoothing 1/(2·3);
 *            BP = exp(1 - 7/6); 100 · BP · (5/6 · 2/5 · 1/4 · 1/6)^(1/4) = 29.0592540808
 * "the the the the the the the" vs "the cat is on the mat" (clipping):
 *   ROUGE-1: min(7, 2) = 2; P = 2/7, R = 2/6, F = 4/13 = 0.307692308
 *   BLEU:    p1 = 2/7, p2 = 0/6 → 1/(2·6), p3 = 0/5 → 1/(4·5), p4 = 0/4 → 1/(8·4); BP = 1;
 *            100 · (2/7 · 1/12 · 1/20 · 1/32)^(1/4) = 7.8098498423
 * "a b c d e" vs "e d c b a": ROUGE-1 1; ROUGE-2 0; LCS 1 → ROUGE-L 1/5.
 *   BLEU: p1 = 5/5, p2..p4 = 0 → 1/(2·4), 1/(4·3), 1/(8·2): 100 · (1/8 · 1/12 · 1/16)^(1/4) = 15.9735776
 * "!!! ... ,,," vs "?? -- !!": no ROUGE token on either side (everything is punctuation) → 0;
 *   13a keeps the punctuation: "! ! ! . . . , , ," vs "? ? -- ! !": p1 = 2/9, p2 = 1/8 ("! !"),
 *   p3 = 0/7 → 1/14, p4 = 0/6 → 1/24; BP = 1: 100 · (2/9 · 1/8 · 1/14 · 1/24)^(1/4) = 9.5354140
 * "It costs $3.50, not 3,000 dollars." — 13a keeps "3.50" and "3,000" whole (digits on both sides)
 *   and splits "$"; rouge-score splits them at every non-alphanumeric character. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include <jansson.h>
#include <libstemmer.h>
#include <stdlib.h>
#include "plume/eval.h"

typedef struct pair {
    const char *pred, *ref;
    const char *rouge_tokens, *bleu_tokens;   /* of pred */
    double r1, r2, rl, sent_bleu;
} pair;

static const pair pairs[] = {
    { "the cat sat on the mat", "the cat sat on the mat",
      "the cat sat on the mat", "the cat sat on the mat",
      1.000000000000, 1.000000000000, 1.000000000000, 100.000000000000 },
    { "the cat is on the mat", "there is a cat on the mat",
      "the cat is on the mat", "the cat is on the mat",
      0.769230769231, 0.363636363636, 0.615384615385, 29.059254080792 },
    { "", "the cat sat",
      "", "",
      0.000000000000, 0.000000000000, 0.000000000000, 0.000000000000 },
    { "the cat", "",
      "the cat", "the cat",
      0.000000000000, 0.000000000000, 0.000000000000, 0.000000000000 },
    { "", "",
      "", "",
      0.000000000000, 0.000000000000, 0.000000000000, 0.000000000000 },
    { "!!! ... ,,,", "?? -- !!",
      "", "! ! ! . . . , , ,",
      0.000000000000, 0.000000000000, 0.000000000000, 9.535414040914 },
    { "the the the the the the the", "the cat is on the mat",
      "the the the the the the the", "the the the the the the the",
      0.307692307692, 0.000000000000, 0.307692307692, 7.809849842301 },
    { "Running runners ran quickly.", "The runner runs quick!",
      "run runner ran quickli", "Running runners ran quickly .",
      0.500000000000, 0.000000000000, 0.250000000000, 0.000000000000 },
    { "Caf\xc3""\xa9"" na\xc3""\xaf""ve r\xc3""\xa9""sum\xc3""\xa9""", "cafe naive resume",
      "caf na ve r sum", "Caf\xc3""\xa9"" na\xc3""\xaf""ve r\xc3""\xa9""sum\xc3""\xa9""",
      0.000000000000, 0.000000000000, 0.000000000000, 0.000000000000 },
    { "\xc4""\xb0""stanbul \xe2""\x84""\xaa""ELVIN", "i stanbul kelvin",
      "i stanbul kelvin", "\xc4""\xb0""stanbul \xe2""\x84""\xaa""ELVIN",
      1.000000000000, 1.000000000000, 1.000000000000, 0.000000000000 },
    { "It costs $3.50, not 3,000 dollars.", "It costs 3.50 dollars, not $3,000.",
      "it cost 3 50 not 3 000 dollar", "It costs $ 3.50 , not 3,000 dollars .",
      1.000000000000, 0.714285714286, 0.875000000000, 16.515821590069 },
    { "well-known 1990-1995 results", "well known 1990 - 1995 results",
      "well known 1990 1995 result", "well-known 1990 - 1995 results",
      1.000000000000, 1.000000000000, 1.000000000000, 54.751825350695 },
    { "AT&amp;T &quot;quoted&quot; &lt;tag&gt;", "AT&T \"quoted\" <tag>",
      "at amp t quot quot quot lt tag gt", "AT & T \" quoted \" < tag >",
      0.615384615385, 0.181818181818, 0.615384615385, 100.000000000000 },
    { "hyphen-\nated line\nbreak", "hyphenated line break",
      "hyphen ate line break", "hyphenated line break",
      0.857142857143, 0.400000000000, 0.857142857143, 100.000000000000 },
    { "<skipped> some text", "some text",
      "skip some text", "some text",
      0.800000000000, 0.666666666667, 0.800000000000, 100.000000000000 },
    { "Mr. Smith's dog, Rex, barked.", "Mr Smith's dog Rex barked",
      "mr smith s dog rex bark", "Mr . Smith's dog , Rex , barked .",
      1.000000000000, 1.000000000000, 1.000000000000, 11.990148380914 },
    { "The committee approved the new budget on Tuesday after a long debate.", "After a long debate, the committee finally approved the budget on Tuesday.",
      "the committe approv the new budget on tuesday after a long debat", "The committee approved the new budget on Tuesday after a long debate .",
      0.916666666667, 0.636363636364, 0.583333333333, 21.513244466366 },
    { "a b c d e", "e d c b a",
      "a b c d e", "a b c d e",
      1.000000000000, 0.000000000000, 0.200000000000, 15.973577606157 },
    { "police killed the gunman", "the gunman killed police",
      "polic kill the gunman", "police killed the gunman",
      1.000000000000, 0.333333333333, 0.500000000000, 37.991784282580 },
    { "organization organizations organized", "organize organizing organizer",
      "organ organ organ", "organization organizations organized",
      1.000000000000, 1.000000000000, 1.000000000000, 0.000000000000 },
    { "trailing spaces   \t  ", "trailing spaces",
      "trail space", "trailing spaces",
      1.000000000000, 1.000000000000, 1.000000000000, 100.000000000000 },
    { "Hello, world.", "hello world",
      "hello world", "Hello , world .",
      1.000000000000, 1.000000000000, 1.000000000000, 15.973577606157 },
    { "one\xc2""\xa0""two three", "one two three",
      "one two three", "one two three",
      1.000000000000, 1.000000000000, 1.000000000000, 100.000000000000 },
    { "flies dies ties spied", "fly die tie spy",
      "fli die tie spi", "flies dies ties spied",
      0.500000000000, 0.333333333333, 0.500000000000, 0.000000000000 },
};
#define N_PAIRS (sizeof pairs / sizeof pairs[0])

static void test_pairs(void) {
    plume_bleu_stats corpus = { 0 };
    for (size_t i = 0; i < N_PAIRS; i++) {
        const pair *p = &pairs[i];
        char *rt = plume_rouge_tokenize(p->pred, strlen(p->pred), 1);
        CHECK_STR(rt, p->rouge_tokens);
        free(rt);
        char *bt = plume_bleu_tokenize(p->pred, strlen(p->pred));
        CHECK_STR(bt, p->bleu_tokens);
        free(bt);
        plume_rouge r;
        CHECK(plume_rouge_compute(p->pred, strlen(p->pred), p->ref, strlen(p->ref), 1, &r) == 0);
        CHECK_NEAR(r.rouge1.f, p->r1, 1e-9);
        CHECK_NEAR(r.rouge2.f, p->r2, 1e-9);
        CHECK_NEAR(r.rougeL.f, p->rl, 1e-9);
        CHECK_NEAR(plume_bleu_sentence(p->pred, strlen(p->pred), p->ref, strlen(p->ref)), p->sent_bleu, 1e-7);
        CHECK(plume_bleu_add(&corpus, p->pred, strlen(p->pred), p->ref, strlen(p->ref)) == 0);
    }
    /* Corpus statistics, summed over all pairs by reference.py:
     * [sys_len, ref_len, correct 1..4, total 1..4] = [115, 109, 72, 34, 18, 10, 115, 93, 71, 53] */
    CHECK_NEAR(corpus.sys_len, 115, 0);
    CHECK_NEAR(corpus.ref_len, 109, 0);
    CHECK_NEAR(corpus.correct[0], 72, 0);
    CHECK_NEAR(corpus.correct[3], 10, 0);
    CHECK_NEAR(corpus.total[1], 93, 0);
    CHECK_NEAR(corpus.total[3], 53, 0);
    plume_bleu b = plume_bleu_score(&corpus, 0);
    /* BP = 1 (115 >= 109); 100 · (72/115 · 34/93 · 18/71 · 10/53)^(1/4) = 32.347612193721 */
    CHECK_NEAR(b.score, 32.347612193721, 1e-7);
    CHECK_NEAR(b.bp, 1.0, 0);
    CHECK_NEAR(b.precisions[0], 100.0 * 72 / 115, 1e-9);
}

/* Corpus BLEU without effective order: a corpus too short for 4-grams scores 0, as sacrebleu's
 * corpus_bleu does, while sentence BLEU (effective order) does not. */
static void test_effective_order(void) {
    plume_bleu_stats s = { 0 };
    CHECK(plume_bleu_add(&s, "a b c", 5, "a b c", 5) == 0);
    CHECK_NEAR(plume_bleu_score(&s, 0).score, 0.0, 1e-12);
    CHECK_NEAR(plume_bleu_score(&s, 1).score, 100.0, 1e-9);
    /* Brevity penalty: hyp "a b" vs ref "a b c d": p1 = 1, p2 = 1; BP = exp(1 - 4/2) = e^-1. */
    CHECK_NEAR(plume_bleu_sentence("a b", 3, "a b c d", 7), 100.0 * exp(-1.0), 1e-9);
}

/* NLTK PorterStemmer() outputs (the examples of Porter's paper as NLTK gives them, and the
 * places where NLTK departs from the paper). */
static void test_porter(void) {
    static const char *const cases[][2] = {
        { "caresses", "caress" }, { "ponies", "poni" }, { "ties", "tie" }, { "caress", "caress" },
        { "cats", "cat" }, { "feed", "feed" }, { "agreed", "agre" }, { "disabled", "disabl" },
        { "matting", "mat" }, { "mating", "mate" }, { "meeting", "meet" }, { "milling", "mill" },
        { "messing", "mess" }, { "meetings", "meet" }, { "happy", "happi" }, { "enjoy", "enjoy" },
        { "sky", "sky" }, { "skies", "sky" }, { "dying", "die" }, { "generously", "gener" },
        { "relational", "relat" }, { "conditional", "condit" }, { "rational", "ration" },
        { "valenci", "valenc" }, { "digitizer", "digit" }, { "conformabli", "conform" },
        { "radicalli", "radic" }, { "differentli", "differ" }, { "vileli", "vile" },
        { "analogousli", "analog" }, { "vietnamization", "vietnam" }, { "predication", "predic" },
        { "operator", "oper" }, { "feudalism", "feudal" }, { "decisiveness", "decis" },
        { "hopefulness", "hope" }, { "callousness", "callous" }, { "formaliti", "formal" },
        { "sensitiviti", "sensit" }, { "sensibiliti", "sensibl" }, { "triplicate", "triplic" },
        { "formative", "form" }, { "formalize", "formal" }, { "electriciti", "electr" },
        { "electrical", "electr" }, { "hopeful", "hope" }, { "goodness", "good" }, { "revival", "reviv" },
        { "allowance", "allow" }, { "inference", "infer" }, { "airliner", "airlin" },
        { "gyroscopic", "gyroscop" }, { "adjustable", "adjust" }, { "defensible", "defens" },
        { "irritant", "irrit" }, { "replacement", "replac" }, { "adjustment", "adjust" },
        { "dependent", "depend" }, { "adoption", "adopt" }, { "homologou", "homolog" },
        { "communism", "commun" }, { "activate", "activ" }, { "angulariti", "angular" },
        { "homologous", "homolog" }, { "effective", "effect" }, { "bowdlerize", "bowdler" },
        { "probate", "probat" }, { "rate", "rate" }, { "cease", "ceas" }, { "controll", "control" },
        { "roll", "roll" }, { "spied", "spi" }, { "died", "die" }, { "flies", "fli" }, { "fully", "fulli" },
        { "archaeology", "archaeolog" }, { "geology", "geolog" }, { "running", "run" }, { "1990s", "1990" },
        { "committee", "committe" }, { "news", "news" }, { "proceed", "proceed" }, { "is", "is" },
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = plume_porter_stem(cases[i][0], strlen(cases[i][0]), out);
        CHECK_STR(out, cases[i][1]);
        CHECK(n == strlen(cases[i][1]));
    }
}

/* libstemmer's "porter" (Porter's published algorithm) as an independent check: it must agree with
 * plume_porter_stem on every word above except where NLTK departs from the paper, listed here with
 * both results. Over the 83,171 lower-case WordNet lemmas longer than 3 letters the two differ on
 * 1,177 (1.4%): y → i after a vowel (764, "enjoy"), "logi" (240, "geology"), "-ed/-ing" words whose
 * stem is vowel-consonant (NLTK's *o extension, "aged" → "age"), "bli" (42, "bubbly") and "ied" (3). */
static void test_porter_vs_snowball(void) {
    static const char *const departures[][3] = {   /* word, NLTK, libstemmer porter */
        { "ties", "tie", "ti" },       { "enjoy", "enjoy", "enjoi" },     { "skies", "sky", "ski" },
        { "dying", "die", "dy" },      { "died", "die", "di" },           { "archaeology", "archaeolog", "archaeologi" },
        { "geology", "geolog", "geologi" }, { "news", "news", "new" },   { "proceed", "proceed", "proce" },
        { "aged", "age", "ag" },       { "bubbly", "bubbl", "bubbli" },   { "annoyed", "annoy", "annoi" },
    };
    static const char *const agree[] = {
        "caresses", "ponies", "caress", "cats", "feed", "agreed", "disabled", "matting", "mating", "meeting",
        "milling", "messing", "meetings", "happy", "sky", "generously", "relational", "conditional", "rational",
        "valenci", "digitizer", "conformabli", "radicalli", "differentli", "vileli", "analogousli",
        "vietnamization", "predication", "operator", "feudalism", "decisiveness", "hopefulness", "callousness",
        "formaliti", "sensitiviti", "sensibiliti", "triplicate", "formative", "formalize", "electriciti",
        "electrical", "hopeful", "goodness", "revival", "allowance", "inference", "airliner", "gyroscopic",
        "adjustable", "defensible", "irritant", "replacement", "adjustment", "dependent", "adoption",
        "homologou", "communism", "activate", "angulariti", "homologous", "effective", "bowdlerize", "probate",
        "rate", "cease", "controll", "roll", "spied", "flies", "fully", "running", "committee",
    };
    struct sb_stemmer *sb = sb_stemmer_new("porter", "UTF_8");
    CHECK(sb != NULL);
    if (!sb) return;
    char out[64];
    for (size_t i = 0; i < sizeof agree / sizeof agree[0]; i++) {
        plume_porter_stem(agree[i], strlen(agree[i]), out);
        CHECK_STR(out, (const char *)sb_stemmer_stem(sb, (const sb_symbol *)agree[i], (int)strlen(agree[i])));
    }
    for (size_t i = 0; i < sizeof departures / sizeof departures[0]; i++) {
        const char *w = departures[i][0];
        plume_porter_stem(w, strlen(w), out);
        CHECK_STR(out, departures[i][1]);
        CHECK_STR((const char *)sb_stemmer_stem(sb, (const sb_symbol *)w, (int)strlen(w)), departures[i][2]);
    }
    sb_stemmer_delete(sb);
}

/* 300 random texts (punctuation, entities, "<skipped>", "-\n", Unicode white space and letters,
 * emoji, ...) with the tokens Python's `re` gives under rouge-score's and sacrebleu's rules, and
 * 200 random sentence pairs with their scores: tests/eval/random_cases.jsonl, written by
 * reference.gen_random_cases() with a fixed seed. This checks the byte-level emulation of the
 * regular expressions against the regular expressions themselves. */
static void test_random_cases(void) {
    const char *src = getenv("PLUME_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/eval/random_cases.jsonl", src ? src : ".");
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f) return;
    char *line = NULL;
    size_t cap = 0, n_text = 0, n_pair = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        CHECK_MSG(o != NULL, "%s: %s", path, jerr.text);
        if (!o) continue;
        json_t *text = json_object_get(o, "text");
        if (text) {
            const char *t = json_string_value(text);
            size_t len = json_string_length(text);
            char *rt = plume_rouge_tokenize(t, len, 1), *bt = plume_bleu_tokenize(t, len);
            CHECK_STR(rt, json_string_value(json_object_get(o, "rouge")));
            CHECK_STR(bt, json_string_value(json_object_get(o, "bleu13a")));
            free(rt);
            free(bt);
            n_text++;
        } else {
            const char *p = json_string_value(json_object_get(o, "pred")), *r = json_string_value(json_object_get(o, "ref"));
            plume_rouge sc;
            CHECK(plume_rouge_compute(p, strlen(p), r, strlen(r), 1, &sc) == 0);
            CHECK_NEAR(sc.rouge1.f, json_number_value(json_object_get(o, "r1")), 1e-12);
            CHECK_NEAR(sc.rouge2.f, json_number_value(json_object_get(o, "r2")), 1e-12);
            CHECK_NEAR(sc.rougeL.f, json_number_value(json_object_get(o, "rl")), 1e-12);
            CHECK_NEAR(plume_bleu_sentence(p, strlen(p), r, strlen(r)), json_number_value(json_object_get(o, "bleu")),
                       1e-9);
            n_pair++;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    CHECK(n_text == 300 && n_pair == 200);
}

/* Malformed UTF-8 separates tokens and never crashes either tokenizer. */
static void test_malformed(void) {
    const char bad[] = "ab\xff" "cd\xc3 ef\xe2\x82";
    char *rt = plume_rouge_tokenize(bad, sizeof bad - 1, 0);
    CHECK_STR(rt, "ab cd ef");
    free(rt);
    char *bt = plume_bleu_tokenize(bad, sizeof bad - 1);
    CHECK(bt != NULL);
    free(bt);
}

int main(void) {
    CHECK(N_PAIRS >= 20);
    test_pairs();
    test_effective_order();
    test_porter();
    test_porter_vs_snowball();
    test_random_cases();
    test_malformed();
    return check_finish("test_metrics");
}
