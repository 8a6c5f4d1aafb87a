/* The ranking stages driven through the test harness: BM25 scores against hand-worked values,
 * deterministic ties, the exact character budget, the refusals of the dense stages without a model. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "harness.h"
#include "plume/text.h"

extern const plume_stage rank_doc_bm25, rank_doc_dense, rank_snippet, rank_doc_by_snippet, rank_recent;

typedef struct { const char *id, *title, *text; double time; } doc_in;

/* A one-record batch with query (port 0) and profile (port 1). */
static plume_batch *one_request(const char *query, const doc_in *docs, size_t n) {
    plume_batch *b = harness_batch_new(1);
    if (query) plume_value_set_text(&b->in[0][0], query, strlen(query));
    plume_value_set_docs(&b->in[0][1]);
    for (size_t i = 0; i < n; i++) {
        plume_doc d = { (char *)docs[i].id, (char *)docs[i].title, (char *)docs[i].text, docs[i].time, 0 };
        plume_docs_push(&b->in[0][1], &d);
    }
    return b;
}

static const plume_value *entries(const plume_batch *b) { return &b->out[0][0]; }

static void check_order(const plume_batch *b, const char *const *ids, size_t n) {
    const plume_value *e = entries(b);
    CHECK_MSG(e->type == PLUME_DOCS && e->as.docs.count == n, "%zu entries, expected %zu", e->as.docs.count, n);
    for (size_t i = 0; i < n && i < e->as.docs.count; i++) CHECK_STR(e->as.docs.items[i].id, ids[i]);
}

static void test_bm25(void) {
    /* After analysis (case folding, stopwords dropped, Snowball stems):
     *   d1 = beer hop beer (|D| 3), d2 = wine grape (2), d3 = beer malt (2); query = beer hop.
     * These are the three documents of test_text's BM25 case; with k1 = 1.2, b = 0.75, avgdl = 7/3:
     *   d1 = ln(1.6) * 4.4 / 3.457142857 + ln(8/3) * 2.2 / 2.457142857 = 0.598186437 + 0.878184332 = 1.476370768
     *   d3 = ln(1.6) * 2.2 / 2.071428571 = 0.499176268
     *   d2 = 0 */
    const doc_in docs[] = {
        { "d2", "", "Wine grapes", 200 },
        { "d1", "Beer", "hops beer", 100 },   /* the title counts: "Beer" + "hops beer" */
        { "d3", "", "The beer and the malt", 300 },
    };
    plume_batch *b = one_request("Beers with hops", docs, 3);
    plume_args a;
    harness_args_init(&a, &rank_doc_bm25);
    plume_error err = { { 0 } };
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == 0);
    const char *order[] = { "d1", "d3", "d2" };
    check_order(b, order, 3);
    if (entries(b)->as.docs.count == 3) {
        CHECK_NEAR(entries(b)->as.docs.items[0].score, 1.476370768, 1e-8);
        CHECK_NEAR(entries(b)->as.docs.items[1].score, 0.499176268, 1e-8);
        CHECK_NEAR(entries(b)->as.docs.items[2].score, 0.0, 0);
        CHECK_STR(entries(b)->as.docs.items[0].title, "Beer");
        CHECK_STR(entries(b)->as.docs.items[0].text, "hops beer");
        CHECK_NEAR(entries(b)->as.docs.items[1].time, 300, 0);
    }
    CHECK(!plume_batch_failed(b, 0));
    harness_batch_free(b);

    /* a different k1 changes the scores as the formula says: k1 = 0 makes tf irrelevant,
     * so d1 = idf(beer) + idf(hop) = ln 1.6 + ln(8/3) = 1.450832882 and d3 = ln 1.6 = 0.470003629 */
    b = one_request("Beers with hops", docs, 3);
    harness_set(&a, "k1", "0");
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == 0);
    if (entries(b)->as.docs.count == 3) {
        CHECK_NEAR(entries(b)->as.docs.items[0].score, 1.450832882, 1e-8);
        CHECK_NEAR(entries(b)->as.docs.items[1].score, 0.470003629, 1e-8);
    }
    harness_batch_free(b);

    /* out-of-range parameters are refused before create, by their declared ranges */
    harness_args_init(&a, &rank_doc_bm25);
    harness_set(&a, "b", "2");
    b = one_request("x", docs, 1);
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == -1);
    CHECK_STR(err.msg, "parameter 'b' of rank.doc_bm25 must be from 0 to 1, not 2");
    harness_set(&a, "b", "0.75");
    harness_set(&a, "k1", "-0.1");
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == -1);
    CHECK_STR(err.msg, "parameter 'k1' of rank.doc_bm25 must be 0 or more, not -0.1");
    harness_batch_free(b);
}

static void test_ties(void) {
    /* identical texts score the same: newer first, then id in byte order; the same for score 0 */
    const doc_in docs[] = {
        { "b", "", "stout", 10 }, { "a", "", "stout", 10 }, { "c", "", "stout", 20 },
        { "z", "", "lager", 5 }, { "y", "", "lager", 5 }, { "x", "", "lager", 7 },
    };
    for (int round = 0; round < 2; round++) {
        plume_batch *b = one_request("stout", docs, 6);
        plume_args a;
        harness_args_init(&a, &rank_doc_bm25);
        plume_error err = { { 0 } };
        CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == 0);
        const char *order[] = { "c", "a", "b", "x", "y", "z" };
        check_order(b, order, 6);
        harness_batch_free(b);
    }
    /* rank.recent: newest first, equal times by id; the query may be absent */
    plume_batch *b = one_request(NULL, docs, 6);
    plume_args a;
    harness_args_init(&a, &rank_recent);
    plume_error err = { { 0 } };
    CHECK(harness_run(&rank_recent, &a, b, &err) == 0);
    const char *order[] = { "c", "a", "b", "x", "y", "z" };
    check_order(b, order, 6);
    harness_batch_free(b);
}

static void test_budget(void) {
    /* d1 "Beer hops beer" ranks first (14 characters), then d3 (21): a budget of 20 keeps d1 whole
     * and the first 6 characters of d3; d2 is left out. */
    const doc_in docs[] = {
        { "d2", "", "Wine grapes", 200 }, { "d1", "", "Beer hops beer", 100 }, { "d3", "", "The beer and the malt", 300 },
    };
    plume_batch *b = one_request("beer hops", docs, 3);
    plume_args a;
    harness_args_init(&a, &rank_doc_bm25);
    harness_set(&a, "budget_chars", "20");
    plume_error err = { { 0 } };
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == 0);
    const char *order[] = { "d1", "d3" };
    check_order(b, order, 2);
    if (entries(b)->as.docs.count == 2) {
        CHECK_STR(entries(b)->as.docs.items[0].text, "Beer hops beer");
        CHECK_STR(entries(b)->as.docs.items[1].text, "The be");
    }
    harness_batch_free(b);

    /* characters, not bytes: "Ünïcödé ünïcödé" is 15 characters; a budget of 9 keeps 9 of them */
    const doc_in u[] = { { "u", "", "\xC3\x9Cn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9 \xC3\xBCn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9", 1 } };
    b = one_request("x", u, 1);
    harness_set(&a, "budget_chars", "9");
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == 0);
    if (entries(b)->as.docs.count == 1) {
        CHECK_STR(entries(b)->as.docs.items[0].text, "\xC3\x9Cn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9 \xC3\xBC");   /* Ü n ï c ö d é, space, ü */
        CHECK(plume_utf8_length(entries(b)->as.docs.items[0].text, strlen(entries(b)->as.docs.items[0].text)) == 9);
    }
    harness_batch_free(b);

    /* exactly filled by whole entries: the next entry is not added as an empty one */
    b = one_request("beer hops", docs, 3);
    harness_set(&a, "budget_chars", "14");
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == 0);
    const char *one[] = { "d1" };
    check_order(b, one, 1);
    harness_batch_free(b);

    /* the default budget is the paper's 2,500 characters: 40 entries of 100 characters keep 25 */
    doc_in many[40];
    char ids[40][8], text[101];
    memset(text, 'a', 100);
    text[100] = '\0';
    for (int i = 0; i < 40; i++) {
        snprintf(ids[i], sizeof ids[i], "m%02d", i);
        many[i] = (doc_in){ ids[i], "", text, (double)i };
    }
    b = one_request(NULL, many, 40);
    harness_args_init(&a, &rank_recent);
    CHECK(harness_run(&rank_recent, &a, b, &err) == 0);
    CHECK(entries(b)->as.docs.count == 25);
    size_t total = 0;
    for (size_t i = 0; i < entries(b)->as.docs.count; i++) total += strlen(entries(b)->as.docs.items[i].text);
    CHECK(total == 2500);
    CHECK_STR(entries(b)->as.docs.items[0].id, "m39");
    harness_batch_free(b);
}

static void test_by_snippet(void) {
    /* snippet_chars = 1: every sentence is a snippet. Snippets: "Hops." (hop), "Wine." (wine),
     * "Malt malt." (malt malt): N = 3, avgdl = 4/3. Query "hops" → hop, df 1:
     *   idf = ln(1 + 2.5 / 1.5) = 0.980829253; tf 1, |D| 1:
     *   2.2 / (1 + 1.2 * (0.25 + 0.75 * 1 / (4/3))) = 2.2 / 1.975 = 1.113924051
     *   a = 0.980829253 * 1.113924051 = 1.092569294 (its best snippet), b = 0. */
    const doc_in docs[] = { { "b", "", "Malt malt.", 50 }, { "a", "", "Hops. Wine.", 10 } };
    plume_batch *bt = one_request("hops", docs, 2);
    plume_args a;
    harness_args_init(&a, &rank_doc_by_snippet);
    harness_set(&a, "snippet_chars", "1");
    plume_error err = { { 0 } };
    CHECK(harness_run(&rank_doc_by_snippet, &a, bt, &err) == 0);
    const char *order[] = { "a", "b" };
    check_order(bt, order, 2);
    if (entries(bt)->as.docs.count == 2) {
        CHECK_NEAR(entries(bt)->as.docs.items[0].score, 1.092569294, 1e-8);
        CHECK_STR(entries(bt)->as.docs.items[0].text, "Hops. Wine.");   /* the whole document is the entry */
        CHECK_NEAR(entries(bt)->as.docs.items[1].score, 0.0, 0);
    }
    harness_batch_free(bt);
    /* with the paper's 250 characters both texts are one snippet each: the same as document BM25
     * over the texts, "Hops. Wine." = hop wine (|D| 2), "Malt malt." (2): avgdl 2,
     *   ln(1 + 1.5 / 1.5) * 2.2 / (1 + 1.2) = ln 2 = 0.693147181 */
    bt = one_request("hops", docs, 2);
    harness_args_init(&a, &rank_doc_by_snippet);
    CHECK(harness_run(&rank_doc_by_snippet, &a, bt, &err) == 0);
    if (entries(bt)->as.docs.count == 2) CHECK_NEAR(entries(bt)->as.docs.items[0].score, 0.693147181, 1e-8);
    harness_batch_free(bt);
}

static void test_refusals(void) {
    const doc_in docs[] = { { "a", "", "x", 1 } };
    const plume_stage *dense[] = { &rank_doc_dense, &rank_snippet };
    for (int i = 0; i < 2; i++) {
        plume_batch *b = one_request("x", docs, 1);
        plume_args a;
        harness_args_init(&a, dense[i]);
        harness_set(&a, "model", "writer");
        plume_error err = { { 0 } };
        CHECK(harness_run(dense[i], &a, b, &err) == -1);
        /* the harness declares no models: create() names the missing one instead of ranking without it */
        CHECK_MSG(strstr(err.msg, "model 'writer' is not declared") != NULL, "%s", err.msg);
        CHECK(entries(b)->type == PLUME_NONE);   /* nothing made up */
        harness_batch_free(b);
    }
    /* a profile of the wrong type fails that record, with a hint */
    plume_batch *b = harness_batch_new(1);
    plume_value_set_text(&b->in[0][0], "q", 1);
    plume_value_set_text(&b->in[0][1], "not docs", 8);
    plume_args a;
    harness_args_init(&a, &rank_doc_bm25);
    plume_error err = { { 0 } };
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == 0);
    CHECK(plume_batch_failed(b, 0));
    CHECK(b->fail[0] && strstr(b->fail[0], "holds text, not docs"));
    harness_batch_free(b);
    /* an empty profile gives empty entries */
    b = one_request("q", NULL, 0);
    CHECK(harness_run(&rank_doc_bm25, &a, b, &err) == 0);
    CHECK(entries(b)->type == PLUME_DOCS && entries(b)->as.docs.count == 0);
    harness_batch_free(b);
}

int main(void) {
    test_bm25();
    test_ties();
    test_budget();
    test_by_snippet();
    test_refusals();
    return check_finish("test_rank");
}
