/* Every stage of modules/eval, synthesize, summarize and prompt on fixed inputs, with the exact
 * outputs worked out by hand (the reasoning is next to each expectation). */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "harness.h"
#include "plume/eval.h"

extern const plume_stage eval_metrics, synthesize_ctx_independent, synthesize_weak_labels,
    summarize_ctx_independent, summarize_weak_labels, prompt_compose;

static void set_text(plume_value *v, const char *s) { plume_value_set_text(v, s, strlen(s)); }

static void set_docs(plume_value *v, const char *const (*docs)[2], size_t n) {
    plume_value_set_docs(v);
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%zu", i);
        plume_doc d = { id, (char *)docs[i][0], (char *)docs[i][1], 0, 0 };
        plume_docs_push(v, &d);
    }
}

static void clear_all(plume_value *v, size_t n) {
    for (size_t i = 0; i < n; i++) plume_value_clear(&v[i]);
}

/* Checks a terms value against "word:weight" expectations. */
static void check_terms(const plume_value *v, const char *const *want, size_t n) {
    CHECK(v->type == PLUME_TERMS);
    CHECK_MSG(v->as.terms.count == n, "got %zu terms, expected %zu", v->as.terms.count, n);
    for (size_t i = 0; i < n && i < v->as.terms.count; i++) {
        char got[128];
        snprintf(got, sizeof got, "%s:%g", v->as.terms.items[i].word, v->as.terms.items[i].weight);
        CHECK_STR(got, want[i]);
    }
}

/* ---- eval.metrics ---- */
static void test_metrics(void) {
    plume_value in[3 * 2] = { 0 }, out[3 * 4] = { 0 };
    char msg[3][512];
    plume_error err;
    set_text(&in[0], "the cat is on the mat");
    set_text(&in[1], "there is a cat on the mat");
    set_text(&in[2], "police killed the gunman");
    set_text(&in[3], "the gunman killed police");
    plume_value_set_number(&in[4], 3);   /* wrong type: this record fails, the others go on */
    set_text(&in[5], "x");
    CHECK(harness_run(&eval_metrics, NULL, 3, in, out, msg, &err) == 0);
    /* Values of tests/eval/test_metrics.c, as percentages: 10/13, 4/11, 8/13 and sentence BLEU. */
    CHECK_NEAR(out[0].as.number, 100.0 * 10 / 13, 1e-9);
    CHECK_NEAR(out[1].as.number, 100.0 * 4 / 11, 1e-9);
    CHECK_NEAR(out[2].as.number, 100.0 * 8 / 13, 1e-9);
    CHECK_NEAR(out[3].as.number, 29.059254080792, 1e-7);
    /* "police killed the gunman" vs "the gunman killed police": unigrams all match; one bigram
     * ("the gunman") of 3; LCS 2 ("the gunman") of 4. */
    CHECK_NEAR(out[4].as.number, 100.0, 1e-9);
    CHECK_NEAR(out[5].as.number, 100.0 / 3, 1e-9);
    CHECK_NEAR(out[6].as.number, 50.0, 1e-9);
    CHECK_NEAR(out[7].as.number, 37.991784282580, 1e-7);
    CHECK(out[8].type == PLUME_NONE);
    CHECK_STR(msg[0], "");
    CHECK_STR(msg[2], "eval.metrics: prediction and reference must be text (got number and text)");
    /* stem: false — rouge-score without the stemmer: "killed"/"police" still match exactly. */
    clear_all(out, 12);
    const char *nostem[] = { "stem=false", NULL };
    set_text(&in[0], "organizations");
    set_text(&in[1], "organization");
    CHECK(harness_run(&eval_metrics, nostem, 1, in, out, msg, &err) == 0);
    CHECK_NEAR(out[0].as.number, 0.0, 0);   /* unstemmed: different words */
    clear_all(out, 12);
    CHECK(harness_run(&eval_metrics, NULL, 1, in, out, msg, &err) == 0);
    CHECK_NEAR(out[0].as.number, 100.0, 1e-9);   /* both stem to "organ" */
    clear_all(out, 12);
    clear_all(in, 6);
}

/* ---- synthesize.ctx_independent (SynCtxInd) ----
 * N = 10 documents, so idf = ln(10/df): df 1 → 2.303, df 2 → 1.609 (kept), df 3 → 1.204 (dropped). */
static const char *const profile[10][2] = {
    { "Beer notes", "the beer and the hops, hops, hops. common 2024 2024" },
    { "", "Beer beer BEER malt malt common unique" },
    { "", "malt common common common zebra" },
    { "", "zebra alpha alpha bravo bravo charlie charlie delta delta" },
    { "", "echo echo foxtrot foxtrot golf golf hotel hotel" },
    { "", "india india juliet juliet kilo kilo lima lima" },
    { "", "mike mike november november oscar oscar" },
    { "", "papa papa quebec quebec romeo romeo" },
    { "", "sierra sierra tango tango" },
    { "", "uniform uniform victor victor" },
};

static void test_synctx_independent(void) {
    plume_value in[1] = { 0 }, out[1] = { 0 };
    plume_error err;
    set_docs(&in[0], profile, 10);
    /* Filters, each met once:
     *   stopword:  "the" (2 times, df 1: would pass the others), "and"
     *   seen once: "notes" (a title word), "unique"
     *   idf < 1.5: "common" (5 times, df 3 → 1.204), the most frequent word of all
     *   no letter: "2024" (2 times, df 1)
     * Order: beer 5 (case folded: Beer, beer, BEER, title "Beer"); hops 3 (idf 2.303) before malt 3
     * (idf 1.609); then the 22 phonetic words, 2 each, df 1, by byte order; zebra 2 (df 2, idf 1.609)
     * last among the 2s. At most 20: beer, hops, malt + the first 17 of alpha..victor. */
    static const char *const want_all[] = {
        "beer:5", "hops:3", "malt:3", "alpha:2", "bravo:2", "charlie:2", "delta:2", "echo:2", "foxtrot:2",
        "golf:2", "hotel:2", "india:2", "juliet:2", "kilo:2", "lima:2", "mike:2", "november:2", "oscar:2",
        "papa:2", "quebec:2", "romeo:2", "sierra:2", "tango:2", "uniform:2", "victor:2", "zebra:2",
    };
    CHECK(harness_run(&synthesize_ctx_independent, NULL, 1, in, out, NULL, &err) == 0);
    check_terms(&out[0], want_all, 20);
    clear_all(out, 1);
    const char *all[] = { "max_terms=100", NULL };
    CHECK(harness_run(&synthesize_ctx_independent, all, 1, in, out, NULL, &err) == 0);
    check_terms(&out[0], want_all, 26);
    clear_all(out, 1);
    /* min_count=1 lets the words seen once in: "notes" and "unique" (df 1) join the 1s at the end. */
    const char *once[] = { "max_terms=100", "min_count=1", NULL };
    CHECK(harness_run(&synthesize_ctx_independent, once, 1, in, out, NULL, &err) == 0);
    CHECK(out[0].as.terms.count == 28);
    CHECK_STR(out[0].as.terms.items[26].word, "notes");
    CHECK_STR(out[0].as.terms.items[27].word, "unique");
    clear_all(out, 1);
    /* min_idf=1.2 lets "common" (5, idf 1.204) in: tied with beer (5, idf 1.609) on frequency,
     * it comes second on idf. */
    const char *low[] = { "min_idf=1.2", NULL };
    CHECK(harness_run(&synthesize_ctx_independent, low, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.terms.items[0].word, "beer");
    CHECK_STR(out[0].as.terms.items[1].word, "common");
    clear_all(out, 1);
    /* A profile of 4 documents: ln(4/1) = 1.386 < 1.5, so nothing passes (stated in README). */
    plume_value small = { 0 };
    set_docs(&small, profile, 4);
    CHECK(harness_run(&synthesize_ctx_independent, NULL, 1, &small, out, NULL, &err) == 0);
    CHECK(out[0].type == PLUME_TERMS && out[0].as.terms.count == 0);
    clear_all(out, 1);
    plume_value_clear(&small);
    clear_all(in, 1);
}

/* ---- synthesize.weak_labels (SynCtx labels) ----
 * idf over the 5 entries (profile unwired): ln(5/1) = 1.609 passes, ln(5/2) = 0.916 does not. */
static const char *const entries5[5][2] = {
    { "", "The brewer poured a bitter beer for the hound." },
    { "", "Dogs barked; the dog chased a dog." },
    { "", "Beer again, more beer." },
    { "", "A quiet afternoon with tea, tea and more tea." },
    { "", "Cars and automobiles everywhere." },
};

static void test_synctx_labels(void) {
    plume_value in[3] = { 0 }, out[1] = { 0 };
    char msg[1][512];
    plume_error err;
    set_docs(&in[0], entries5, 5);
    set_text(&in[1], "My dogs love beer, cars and tea; the afternoon was quiet!");
    /* Target stems: dog, love, beer, car, tea, afternoon, quiet.
     *   stem matches: tea (3), dog (2), dogs, cars, afternoon, quiet (1 each);
     *   "beer" matches but is in 2 entries: idf 0.916 < 1.5, skipped;
     *   WordNet: hound (synset {cad, bounder, blackguard, dog, hound, heel}), automobiles (base
     *   "automobile", synset {car, auto, automobile, machine, motorcar}), chased (base "chase",
     *   verb synset {chase, chase_after, trail, tail, tag, give_chase, dog, go_after, track});
     *   stopwords (the, a, for, and, with, again, more) never count.
     * All have df 1 (equal idf), so: count, then word. */
    static const char *const want[] = { "tea:3", "dog:2", "afternoon:1", "automobiles:1", "cars:1",
                                        "chased:1", "dogs:1", "hound:1", "quiet:1" };
    CHECK(harness_run(&synthesize_weak_labels, NULL, 1, in, out, msg, &err) == 0);
    check_terms(&out[0], want, 9);
    clear_all(out, 1);
    static const char *const want_stems[] = { "tea:3", "dog:2", "afternoon:1", "cars:1", "dogs:1", "quiet:1" };
    const char *nosyn[] = { "synonyms=false", NULL };
    CHECK(harness_run(&synthesize_weak_labels, nosyn, 1, in, out, msg, &err) == 0);
    check_terms(&out[0], want_stems, 6);
    clear_all(out, 1);
    /* idf over a wired profile (the 10 documents above) instead: only "beer" is in it (df 2, idf
     * ln(10/2) = 1.609, passes now); the other matches are absent from it, have no idf, and are
     * skipped. beer is selected 3 times (once in the first entry, twice in the third). */
    set_docs(&in[2], profile, 10);
    CHECK(harness_run(&synthesize_weak_labels, NULL, 1, in, out, msg, &err) == 0);
    static const char *const want_profile[] = { "beer:3" };
    check_terms(&out[0], want_profile, 1);
    clear_all(out, 1);
    /* A missing WordNet folder fails at create, naming the file. */
    const char *badwn[] = { "wordnet=/nonexistent/wn", NULL };
    CHECK(harness_run(&synthesize_weak_labels, badwn, 1, in, out, msg, &err) == -1);
    CHECK_MSG(strstr(err.msg, "/nonexistent/wn/index.noun") != NULL, "%s", err.msg);
    clear_all(in, 3);
}

static void test_wordnet(void) {
    plume_error err;
    plume_wordnet *wn = plume_wordnet_open(NULL, &err);
    CHECK_MSG(wn != NULL, "%s", err.msg);
    if (!wn) return;
    CHECK(plume_wordnet_synonyms(wn, "dog", "hound", &err) == 1);
    CHECK(plume_wordnet_synonyms(wn, "car", "automobile", &err) == 1);
    CHECK(plume_wordnet_synonyms(wn, "cars", "automobiles", &err) == 1);   /* base forms by rule */
    CHECK(plume_wordnet_synonyms(wn, "mice", "mouse", &err) == 1);         /* noun.exc: mice mouse */
    CHECK(plume_wordnet_synonyms(wn, "happy", "felicitous", &err) == 1);   /* adjective synset */
    CHECK(plume_wordnet_synonyms(wn, "car", "banana", &err) == 0);
    CHECK(plume_wordnet_synonyms(wn, "xyzzyq", "xyzzyq", &err) == 0);       /* not in WordNet */
    plume_wordnet_close(wn);
}

/* ---- summarize.ctx_independent (SumCtxInd) ---- */
static void test_summary(void) {
    static const char *const docs[3][2] = {
        { "", "Beer brewing needs hops and malt. The weather was cold." },
        { "", "Good beer needs fresh hops. Hops and malt make beer." },
        { "", "My cat sleeps." },
    };
    /* Sentences and their stems (stopwords dropped):
     *   S0 "Beer brewing needs hops and malt." {beer brew need hop malt}  34 chars
     *   S1 "The weather was cold."             {weather cold}             21
     *   S2 "Good beer needs fresh hops."       {good beer need fresh hop} 27
     *   S3 "Hops and malt make beer."          {hop malt make beer}       24
     *   S4 "My cat sleeps."                    {cat sleep}                14
     * cos(S0,S2) = 3/5, cos(S0,S3) = 3/(√5·2) = 0.671, cos(S2,S3) = 2/(√5·2) = 0.447; S1, S4 alone.
     * TextRank (d = 0.85): S0 0.2197 > S3 0.1956 > S2 0.1847 > S1 = S4 = 0.15/5 = 0.03.
     * budget 60: S0 (34) + S3 (1+24) = 59; S2 would make 87; S1 81; S4 74: all skipped. */
    plume_value in[1] = { 0 }, out[1] = { 0 };
    plume_error err;
    set_docs(&in[0], docs, 3);
    const char *b60[] = { "budget_chars=60", NULL };
    CHECK(harness_run(&summarize_ctx_independent, b60, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Beer brewing needs hops and malt. Hops and malt make beer.");
    clear_all(out, 1);
    /* budget 75: S0 + S3 = 59; S2 → 87 no; S1 (tied with S4, earlier first) → 81 no; S4 → 74 yes. */
    const char *b75[] = { "budget_chars=75", NULL };
    CHECK(harness_run(&summarize_ctx_independent, b75, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Beer brewing needs hops and malt. Hops and malt make beer. My cat sleeps.");
    clear_all(out, 1);
    /* budget 10: no sentence fits. */
    const char *b10[] = { "budget_chars=10", NULL };
    CHECK(harness_run(&summarize_ctx_independent, b10, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "");
    clear_all(out, 1);
    const char *b0[] = { "budget_chars=0", NULL };
    CHECK(harness_run(&summarize_ctx_independent, b0, 1, in, out, NULL, &err) == -1);
    CHECK_STR(err.msg, "parameter 'budget_chars' of summarize.ctx_independent must be 1 or more, not 0");
    clear_all(in, 1);
}

/* ---- summarize.weak_labels (SumCtx labels) ---- */
static void test_sumctx_labels(void) {
    static const char *const ents[3][2] = {
        { "", "Cats sleep all day. Dogs bark at night." },
        { "", "The market fell sharply. Investors sold stocks." },
        { "", "Dogs bark." },
    };
    plume_value in[2] = { 0 }, out[1] = { 0 };
    plume_error err;
    set_docs(&in[0], ents, 3);
    /* snippet_chars=1: one sentence per snippet. Target snippets:
     *   "Investors were selling stocks."  {investor sell stock} best: "Investors sold stocks."
     *        {investor sold stock}: 2/3 (Snowball leaves "sold" unstemmed)
     *   "My dogs bark loudly."            {dog bark loud}: "Dogs bark." {dog bark} 2/(√3·√2) = 0.816
     *        beats "Dogs bark at night." {dog bark night} 2/3
     *   "Dogs bark at night."             "Dogs bark at night." is still free: cosine 1.
     *   "Weather is nice."                nothing shares a stem: no pick. */
    set_text(&in[1], "Investors were selling stocks. My dogs bark loudly. Dogs bark at night. Weather is nice.");
    const char *one[] = { "snippet_chars=1", NULL };
    CHECK(harness_run(&summarize_weak_labels, one, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Investors sold stocks. Dogs bark. Dogs bark at night.");
    clear_all(out, 1);
    /* Not-yet-used: the same sentence twice picks the best snippet, then the next best. */
    set_text(&in[1], "Dogs bark at night. Dogs bark at night. Dogs bark at night.");
    CHECK(harness_run(&summarize_weak_labels, one, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Dogs bark at night. Dogs bark.");
    clear_all(out, 1);
    /* Default 250-character snippets: each entry is one snippet, and so is the target
     * {dog:3 bark:3 night:3}. Entry 0 {cat sleep day dog bark night}: 9/(√27·√6) = 0.707;
     * entry 2 {dog bark}: 6/(√27·√2) = 0.816 wins; entry 1 shares nothing. One snippet, one pick. */
    CHECK(harness_run(&summarize_weak_labels, NULL, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Dogs bark.");
    clear_all(out, 1);
    clear_all(in, 2);
}

/* ---- prompt.compose ---- */
static void test_prompt(void) {
    static const char *const ents[2][2] = { { "Trip", "We drove north." }, { "", "Rain all day long." } };
    plume_value in[4] = { 0 }, out[1] = { 0 };
    plume_error err;
    set_text(&in[0], "I went to the store");
    set_text(&in[1], "Beer notes summary.");
    plume_terms_push(&in[2], "beer", 5);
    plume_terms_push(&in[2], "hops", 3);
    plume_terms_push(&in[2], "malt", 3);
    set_docs(&in[3], ents, 2);
    /* Characters: instruction line 36+1, "passage start: I went to the store" 34 → head 71;
     * summary part 1+9+19 = 29; words part 1+17+16 = 34; passages part 1+15+42 = 58; total 192. */
    const char *full = "Finish the passage in the user voice\n"
                       "passage start: I went to the store\n"
                       "summary: Beer notes summary.\n"
                       "important words: beer, hops, malt\n"
                       "past passages: Trip: We drove north. | Rain all day long.";
    CHECK(strlen(full) == 192);
    CHECK(harness_run(&prompt_compose, NULL, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, full);
    clear_all(out, 1);
    const char *b192[] = { "budget=192", NULL };
    CHECK(harness_run(&prompt_compose, b192, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, full);
    clear_all(out, 1);
    /* 180: 12 over; passages body 42 → 30 chars "… | Rain a", inside "all": cut back to "… | Rain". */
    const char *b180[] = { "budget=180", NULL };
    CHECK(harness_run(&prompt_compose, b180, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Finish the passage in the user voice\npassage start: I went to the store\n"
                                  "summary: Beer notes summary.\nimportant words: beer, hops, malt\n"
                                  "past passages: Trip: We drove north. | Rain");
    clear_all(out, 1);
    /* 140: 52 over; the passages part (58, of which 16 prefix and newline) keeps 6 < 16: dropped → 134. */
    const char *b140[] = { "budget=140", NULL };
    CHECK(harness_run(&prompt_compose, b140, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Finish the passage in the user voice\npassage start: I went to the store\n"
                                  "summary: Beer notes summary.\nimportant words: beer, hops, malt");
    clear_all(out, 1);
    /* 120: passages dropped (134), 14 over: summary body 19 → 5 "Beer " → "Beer" → 119. */
    const char *b120[] = { "budget=120", NULL };
    CHECK(harness_run(&prompt_compose, b120, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Finish the passage in the user voice\npassage start: I went to the store\n"
                                  "summary: Beer\nimportant words: beer, hops, malt");
    clear_all(out, 1);
    /* 100: passages and summary dropped (105); words: "beer, hops" 99 fits. */
    const char *b100[] = { "budget=100", NULL };
    CHECK(harness_run(&prompt_compose, b100, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Finish the passage in the user voice\npassage start: I went to the store\n"
                                  "important words: beer, hops");
    clear_all(out, 1);
    /* 10: even the head (71) is over, and it is never cut. */
    const char *b10[] = { "budget=10", NULL };
    CHECK(harness_run(&prompt_compose, b10, 1, in, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "Finish the passage in the user voice\npassage start: I went to the store");
    clear_all(out, 1);
    /* Unwired optional inputs read as PLUME_NONE; no instruction. */
    plume_value only[4] = { 0 };
    set_text(&only[0], "Dear team,");
    const char *noins[] = { "instruction=", NULL };
    CHECK(harness_run(&prompt_compose, noins, 1, only, out, NULL, &err) == 0);
    CHECK_STR(out[0].as.text.str, "passage start: Dear team,");
    clear_all(out, 1);
    clear_all(only, 4);
    /* A token budget without a model to count with is refused, naming the tokenizer. */
    const char *tok[] = { "budget=100", "budget_unit=tokens", NULL };
    CHECK(harness_run(&prompt_compose, tok, 1, in, out, NULL, &err) == -1);
    CHECK(strstr(err.msg, "tokenizer") != NULL);
    clear_all(in, 4);
}

int main(void) {
    test_metrics();
    test_synctx_independent();
    test_synctx_labels();
    test_wordnet();
    test_summary();
    test_sumctx_labels();
    test_prompt();
    return check_finish("test_stages");
}
