/* rank.doc_dense, rank.snippet and rank.doc_by_snippet with a model: scores are the cosine of
 * plume_lm_embed vectors (computed here from the vectors), best first, ties by time then id. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "pipe.h"
#include "plume/text.h"

#define LONG_TEXT                                                                                          \
    "Lily went to the park with her mom. They saw a big red ball under a tree. Lily wanted to play with " \
    "it, so she ran to get it. The ball was too high in the tree. Her mom helped her reach it. Then they " \
    "played all day long. At night they ate ice cream at home. The ice cream was cold and sweet. Lily "  \
    "said thank you to her mom. She went to sleep happy."

static const char *REQUEST =
    "{\"id\":\"q\",\"context\":\"Lily wanted ice cream after the park.\",\"profile\":["
    "{\"id\":\"d1\",\"title\":\"Cats\",\"text\":\"The cat sat on the mat all day.\",\"time\":100},"
    "{\"id\":\"d2\",\"title\":\"\",\"text\":\"We ate ice cream in the park.\",\"time\":50},"
    "{\"id\":\"d3\",\"title\":\"\",\"text\":\"We ate ice cream in the park.\",\"time\":70},"
    "{\"id\":\"d0\",\"title\":\"\",\"text\":\"We ate ice cream in the park.\",\"time\":70},"
    "{\"id\":\"d4\",\"title\":\"Walk\",\"text\":\"" LONG_TEXT "\",\"time\":10}]}\n";

static const char *GRAPH =
    "plume: 1\n"
    "models: { enc: \"${MODEL}\" }\n"
    "stages:\n"
    "  r: { use: %s, in: { query: context, profile: profile }, out: { entries: ranked }, with: { model: enc, budget_chars: 0 } }\n"
    "output: [ranked]\n";

static double cosine_ref(const char *a, const char *b) {
    plume_lm *lm = pipe_lm();
    int dim = plume_lm_get_info(lm)->dim;
    float *e = malloc(2 * (size_t)dim * sizeof *e);
    const char *t[2] = { a, b };
    plume_error err = { { 0 } };
    double dot = 0, na = 0, nb = 0;
    /* computed afresh, the two texts alone: not the vectors the stage left in the model's cache */
    plume_lm_embed_cache_clear(lm);
    if (plume_lm_embed(lm, t, 2, e, &err) == 0)
        for (int k = 0; k < dim; k++) {
            dot += (double)e[k] * e[dim + k];
            na += (double)e[k] * e[k];
            nb += (double)e[dim + k] * e[dim + k];
        }
    free(e);
    return na > 0 && nb > 0 ? dot / sqrt(na * nb) : 0;
}

static json_t *ranked(const char *stage, const char *requests) {
    char yaml[1024];
    snprintf(yaml, sizeof yaml, GRAPH, stage);
    json_t *res = pipe_run(yaml, requests, 8);
    json_t *r = res ? json_incref(json_object_get(json_array_get(res, 0), "ranked")) : NULL;
    json_decref(res);
    return r;
}

static const char *field(json_t *list, size_t i, const char *k) {
    return json_string_value(json_object_get(json_array_get(list, i), k));
}
static double num(json_t *list, size_t i, const char *k) {
    return json_number_value(json_object_get(json_array_get(list, i), k));
}

/* Scores descend; equal scores: newer first, then id. */
static void check_order(json_t *list) {
    for (size_t i = 1; i < json_array_size(list); i++) {
        double a = num(list, i - 1, "score"), b = num(list, i, "score");
        CHECK(a >= b);
        if (a == b) {
            double ta = num(list, i - 1, "time"), tb = num(list, i, "time");
            CHECK(ta > tb || (ta == tb && strcmp(field(list, i - 1, "id"), field(list, i, "id")) < 0));
        }
    }
}

static const char *QUERY = "Lily wanted ice cream after the park.";

static void test_doc_dense(const char *req) {
    json_t *list = ranked("rank.doc_dense", req);
    CHECK(list && json_array_size(list) == 5);
    if (!list) return;
    check_order(list);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *id = field(list, i, "id"), *title = field(list, i, "title"), *text = field(list, i, "text");
        char doc[2048];
        snprintf(doc, sizeof doc, "%s%s%s", title, title[0] ? "\n" : "", text);
        CHECK_NEAR(num(list, i, "score"), cosine_ref(QUERY, doc), 1e-5);
        (void)id;
    }
    /* the three identical texts tie: d0 and d3 (time 70, by id) come before d2 (time 50) */
    size_t pos[3] = { 9, 9, 9 };
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *id = field(list, i, "id");
        if (!strcmp(id, "d0")) pos[0] = i;
        if (!strcmp(id, "d3")) pos[1] = i;
        if (!strcmp(id, "d2")) pos[2] = i;
    }
    CHECK(pos[1] == pos[0] + 1 && pos[2] == pos[1] + 1);
    CHECK(num(list, pos[0], "score") == num(list, pos[2], "score"));
    json_decref(list);
}

static void test_snippet(const char *req) {
    json_t *list = ranked("rank.snippet", req);
    plume_spans sp = { 0 };
    plume_text_snippets(LONG_TEXT, strlen(LONG_TEXT), 250, &sp);
    CHECK(sp.count == 2);   /* the long document makes two snippets; the others one each */
    CHECK(list && json_array_size(list) == 4 + sp.count);
    if (list) {
        check_order(list);
        int seen = 0;
        for (size_t i = 0; i < json_array_size(list); i++) {
            const char *id = field(list, i, "id"), *text = field(list, i, "text");
            CHECK_NEAR(num(list, i, "score"), cosine_ref(QUERY, text), 1e-5);
            for (size_t k = 0; k < sp.count; k++) {
                char want[32];
                snprintf(want, sizeof want, "d4#%zu", k + 1);
                if (!strcmp(id, want)) {
                    seen++;
                    CHECK(strlen(text) == sp.items[k].len && !strncmp(text, LONG_TEXT + sp.items[k].start, sp.items[k].len));
                    CHECK_STR(field(list, i, "title"), "Walk");
                }
            }
        }
        CHECK(seen == (int)sp.count);
    }
    /* by snippet, densely: a document scores as its best snippet */
    json_t *docs = ranked("rank.doc_by_snippet", req);
    CHECK(docs && json_array_size(docs) == 5);
    for (size_t i = 0; docs && i < json_array_size(docs); i++) {
        if (strcmp(field(docs, i, "id"), "d4")) continue;
        double best = -1;
        for (size_t k = 0; k < sp.count; k++) {
            char s[512];
            snprintf(s, sizeof s, "%.*s", (int)sp.items[k].len, LONG_TEXT + sp.items[k].start);
            double c = cosine_ref(QUERY, s);
            if (c > best) best = c;
        }
        CHECK_NEAR(num(docs, i, "score"), best, 1e-5);
    }
    if (docs) check_order(docs);
    plume_spans_free(&sp);
    json_decref(list);
    json_decref(docs);
}

int main(void) {
    const char *req = pipe_tmp("dense.jsonl");
    CHECK(pipe_write(req, REQUEST) == 0);
    test_doc_dense(req);
    test_snippet(req);
    pipe_done();
    return check_finish("test_dense");
}
