/* The dataset builder on a hand-built corpus: every example, profile, split and statistic below is
 * worked out by hand from the recipe (thresholds scaled down so the corpus stays small). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "check.h"
#include "plume/corpus.h"

static char *rep(char c, int n) {
    static char bufs[16][128];
    static int k;
    char *b = bufs[k++ % 16];
    memset(b, c, (size_t)n);
    b[n] = '\0';
    return b;
}

static void line(FILE *f, const char *id, const char *author, long t, const char *title, const char *text) {
    fprintf(f, "{\"id\":\"%s\",\"author\":\"%s\",\"time\":%ld,\"title\":\"%s\",\"text\":\"%s\"}\n", id, author, t, title, text);
}

static json_t *load_split(const char *dir, const char *name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.jsonl", dir, name);
    json_t *arr = json_array();
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "%s missing", path);
    char buf[65536];
    while (f && fgets(buf, sizeof buf, f)) {
        json_error_t e;
        json_t *o = json_loads(buf, 0, &e);
        CHECK(o != NULL);
        if (o) json_array_append_new(arr, o);
    }
    if (f) fclose(f);
    return arr;
}

static const char *s(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "(missing)";
}

/* The request's id, user and profile ids ("a1 a2 ...") as one string, to compare in one go. */
static void check_request(json_t *r, const char *id, const char *user, const char *profile_ids) {
    CHECK_STR(s(r, "id"), id);
    CHECK_STR(s(r, "user"), user);
    char ids[512] = "";
    json_t *p = json_object_get(r, "profile");
    for (size_t i = 0; i < json_array_size(p); i++) {
        if (i) strcat(ids, " ");
        strncat(ids, s(json_array_get(p, i), "id"), 16);
    }
    CHECK_STR(ids, profile_ids);
}

int main(void) {
    char dir[] = "/tmp/plume-dataset-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char corpus[4200];
    snprintf(corpus, sizeof corpus, "%s/corpus.jsonl", dir);
    FILE *f = fopen(corpus, "w");
    /* Lines out of order on purpose: the builder sorts per author by time. */
    line(f, "a9", "ann", 800, "", rep('s', 30));
    line(f, "a1", "ann", 100, "", "hi");
    line(f, "b4", "bob", 40, "", rep('o', 30));
    line(f, "a2", "ann", 200, "T2", rep('x', 30));
    line(f, "a3", "ann", 300, "", rep('y', 25));
    line(f, "a4", "ann", 400, "T2", rep('x', 30));   /* a duplicate of a2: removed */
    fputs("{not json\n", f);                          /* two bad lines, skipped */
    fputs("{\"id\":\"zz\",\"time\":1,\"text\":\"no author\"}\n", f);
    line(f, "a5", "ann", 500, "", rep('z', 21));
    line(f, "a6", "ann", 600, "", rep('w', 20));      /* 20 characters: not longer than 20 */
    line(f, "a7", "ann", 700, "Hello", rep('v', 40)); /* "Hello\n" + 40 = 46 characters */
    line(f, "a8", "ann", 800, "", rep('u', 50));
    line(f, "b1", "bob", 10, "", rep('p', 30));
    line(f, "b2", "bob", 20, "", rep('q', 30));
    line(f, "b3", "bob", 30, "", rep('r', 30));
    line(f, "c1", "cat", 1, "", rep('g', 30));
    line(f, "c2", "cat", 2, "", rep('h', 30));
    line(f, "c3", "cat", 3, "", rep('i', 30));
    line(f, "d1", "dan", 1, "", rep('k', 5));
    line(f, "d2", "dan", 2, "", rep('l', 5));
    line(f, "d3", "dan", 3, "", rep('m', 30));
    line(f, "d4", "dan", 4, "", rep('n', 30));
    line(f, "e1", "eve", 5, "E", "first");
    line(f, "e2", "eve", 6, "", "second");
    line(f, "e3", "eve", 7, "Ti", rep('x', 19));     /* "Ti\n" + 19 = 22 characters */
    line(f, "e4", "eve", 8, "", rep('f', 21));
    fclose(f);

    plume_dataset_options o = plume_dataset_defaults();
    o.min_chars = 20;
    o.min_profile = 2;
    o.min_examples = 2;
    o.max_examples = 3;
    o.context_chars = 10;
    o.train = 0.5;
    o.val = 0.25;
    o.seed = 7;
    plume_dataset_stats st;
    plume_error err = { { 0 } };
    CHECK_MSG(plume_dataset_build(corpus, dir, &o, &st, &err) == 0, "%s", err.msg);

    /* Examples (longer than 20 characters, at least 2 strictly earlier documents):
     *   ann: a1 hi, a2, a3, a5, a6, a7, a8 (800), a9 (800); a4 is a2's duplicate.
     *        a3 (profile a1 a2), a5 (a1 a2 a3), a7 (a1 a2 a3 a5 a6), a8 and a9 (both a1 a2 a3 a5 a6 a7:
     *        a8 and a9 share a time, so neither is in the other's profile); a6 is only 20 characters.
     *        5 examples > max 3: the 3 most recent kept (a7 a8 a9), 2 dropped.
     *   bob: b3 (b1 b2), b4 (b1 b2 b3).   dan: d3 (d1 d2), d4 (d1 d2 d3).
     *   eve: e3 (e1 e2), e4 (e1 e2 e3).   cat: only c3 → fewer than 2 examples: dropped.
     * Split: kept authors in name order [ann bob dan eve], Fisher-Yates with splitmix64(seed 7)
     * (j = next % i for i = 4, 3, 2; computed with the same steps in Python) → [bob dan ann eve];
     * train = round(0.5 * 4) = 2: bob, dan; val = round(0.25 * 4) = 1: ann; test: eve. */
    CHECK(st.docs_read == 24);
    CHECK(st.lines_bad == 2);
    CHECK(st.duplicates == 1);
    CHECK(st.authors == 5 && st.authors_kept == 4);
    CHECK(st.examples_dropped_cap == 2);
    /* Not examples: not longer than 20 characters a1 a6, d1 d2, e1 ("E\nfirst") e2 = 6; long enough
     * but fewer than 2 earlier documents a2, b1 b2, c1 c2 = 5 (6 + 5 + 12 examples = 23 documents).
     * cat is left out with 3 documents, fewer than min_examples + min_profile = 4. */
    CHECK(st.docs_short == 6 && st.docs_few_earlier == 5);
    CHECK(st.authors_few_docs == 1 && st.authors_few_examples == 0);

    json_t *train = load_split(dir, "train"), *val = load_split(dir, "val"), *test = load_split(dir, "test");
    CHECK(json_array_size(train) == 4 && json_array_size(val) == 3 && json_array_size(test) == 2);
    if (json_array_size(train) == 4) {
        check_request(json_array_get(train, 0), "b3", "bob", "b1 b2");
        check_request(json_array_get(train, 1), "b4", "bob", "b1 b2 b3");
        check_request(json_array_get(train, 2), "d3", "dan", "d1 d2");
        check_request(json_array_get(train, 3), "d4", "dan", "d1 d2 d3");
    }
    if (json_array_size(val) == 3) {
        json_t *a7 = json_array_get(val, 0);
        check_request(a7, "a7", "ann", "a1 a2 a3 a5 a6");
        check_request(json_array_get(val, 1), "a8", "ann", "a1 a2 a3 a5 a6 a7");
        check_request(json_array_get(val, 2), "a9", "ann", "a1 a2 a3 a5 a6 a7");
        /* the context is the first 10 characters of "Hello\n" + text; the target the whole of it */
        CHECK_STR(s(a7, "context"), "Hello\nvvvv");
        char target[64];
        snprintf(target, sizeof target, "Hello\n%s", rep('v', 40));
        CHECK_STR(s(a7, "target"), target);
        json_t *p1 = json_array_get(json_object_get(a7, "profile"), 1);
        CHECK_STR(s(p1, "title"), "T2");
        CHECK_STR(s(p1, "text"), rep('x', 30));
        CHECK(json_integer_value(json_object_get(p1, "time")) == 200);
    }
    if (json_array_size(test) == 2) {
        check_request(json_array_get(test, 0), "e3", "eve", "e1 e2");
        check_request(json_array_get(test, 1), "e4", "eve", "e1 e2 e3");
        CHECK_STR(s(json_array_get(test, 0), "context"), "Ti\nxxxxxxx");
    }
    /* Table 1: train 4 examples of 30 characters, profiles 2 3 2 3 → 2.5;
     * val: targets 46, 50, 30 → 42, profiles 5 6 6 → 17/3; test: 22, 21 → 21.5, profiles 2 3 → 2.5 */
    CHECK(st.split[0].users == 2 && st.split[0].examples == 4);
    CHECK_NEAR(st.split[0].avg_target_chars, 30.0, 1e-12);
    CHECK_NEAR(st.split[0].avg_profile, 2.5, 1e-12);
    CHECK(st.split[1].users == 1 && st.split[1].examples == 3);
    CHECK_NEAR(st.split[1].avg_target_chars, 42.0, 1e-12);
    CHECK_NEAR(st.split[1].avg_profile, 17.0 / 3.0, 1e-12);
    CHECK(st.split[2].users == 1 && st.split[2].examples == 2);
    CHECK_NEAR(st.split[2].avg_target_chars, 21.5, 1e-12);
    CHECK_NEAR(st.split[2].avg_profile, 2.5, 1e-12);

    /* the same seed gives the same files, byte for byte */
    char again[4200], cmd[9000];
    snprintf(again, sizeof again, "%s/again", dir);
    mkdir(again, 0700);
    plume_dataset_stats st2;
    CHECK(plume_dataset_build(corpus, again, &o, &st2, &err) == 0);
    snprintf(cmd, sizeof cmd, "cmp -s %s/val.jsonl %s/val.jsonl && cmp -s %s/train.jsonl %s/train.jsonl", dir, again, dir, again);
    CHECK(system(cmd) == 0);

    /* max_profile 2 keeps the two most recent earlier documents: a7 → a5 a6, a9 → a6 a7 */
    snprintf(again, sizeof again, "%s/short", dir);
    mkdir(again, 0700);
    o.max_profile = 2;
    CHECK(plume_dataset_build(corpus, again, &o, &st2, &err) == 0);
    json_t *v2 = load_split(again, "val");
    if (json_array_size(v2) == 3) {
        check_request(json_array_get(v2, 0), "a7", "ann", "a5 a6");
        check_request(json_array_get(v2, 2), "a9", "ann", "a6 a7");
    }
    CHECK_NEAR(st2.split[1].avg_profile, 2.0, 1e-12);
    CHECK(st2.split[0].examples == 4);   /* the examples themselves do not change */
    json_decref(v2);
    o.max_profile = 0;

    /* the paper's context: 150 characters of title + newline + text, counted in characters */
    char *c = plume_dataset_context("T\xC3\xADtulo", "abc", 8);
    CHECK_STR(c, "T\xC3\xADtulo\na");   /* T í t u l o, newline, a */
    free(c);
    c = plume_dataset_context("", "only text", 4);
    CHECK_STR(c, "only");
    free(c);

    /* the rule that keeps an author out: at min_chars 29, eve's 4 documents are enough for 2 examples
     * with 2 earlier ones each, but e3 (22) and e4 (21) are too short; cat still has too few; and
     * round(0.5 * 3) = 2 train and round(0.25 * 3) = 1 val authors leave none for test */
    snprintf(again, sizeof again, "%s/long", dir);
    mkdir(again, 0700);
    o.min_chars = 29;
    CHECK(plume_dataset_build(corpus, again, &o, &st2, &err) == -1);   /* 3 authors: 2 train, 1 val, no test */
    CHECK(st2.authors_few_docs == 1 && st2.authors_few_examples == 1 && st2.authors_kept == 3);
    CHECK_MSG(strstr(err.msg, "the test split is empty: 3 authors have 2 examples") != NULL, "%s", err.msg);
    o.min_chars = 20;

    /* an empty test split is an error, and no file is written: at min_examples 3 only ann (5
     * examples) is kept; bob, cat, dan and eve have 3 or 4 documents, fewer than 3 + 2; and
     * train = round(0.5 * 1) = 1 author leaves none for test */
    snprintf(again, sizeof again, "%s/empty", dir);
    mkdir(again, 0700);
    o.min_examples = 3;
    CHECK(plume_dataset_build(corpus, again, &o, &st2, &err) == -1);
    CHECK_MSG(strstr(err.msg, "the test split is empty: 1 authors have 3 examples, and --train 0.50 and --val 0.25") != NULL,
              "%s", err.msg);
    CHECK(st2.authors_kept == 1 && st2.authors_few_docs == 4 && st2.authors_few_examples == 0);
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", again);
    CHECK_MSG(system(cmd) == 0, "%s should stay empty", again);
    /* with no author kept, the message names the rules: ann has 8 documents but 5 examples */
    o.min_examples = 6;
    o.max_examples = 6;
    CHECK(plume_dataset_build(corpus, again, &o, &st2, &err) == -1);
    CHECK_MSG(strstr(err.msg, "no author has 6 examples. Of 5 authors, 4 have fewer than 8 documents") != NULL, "%s", err.msg);
    o = plume_dataset_defaults();

    /* bad options and a missing corpus are refused with a message */
    o.max_examples = 1;
    CHECK(plume_dataset_build(corpus, dir, &o, &st, &err) == -1 && strstr(err.msg, "max_examples") != NULL);
    o = plume_dataset_defaults();
    CHECK(plume_dataset_build("/nonexistent.jsonl", dir, &o, &st, &err) == -1 && strstr(err.msg, "/nonexistent.jsonl") != NULL);

    json_decref(train);
    json_decref(val);
    json_decref(test);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_finish("test_dataset");
}
