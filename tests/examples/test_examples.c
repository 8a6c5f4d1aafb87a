/* plume examples (tools/cmd_examples.c), run as the command: hand-built result lines give
 * exactly the expected generation examples; the author pairs are exactly half same-author, each
 * label agrees with the passages' real authors, passages are the users' documents cut as
 * documented, and a held-out user never appears; one seed gives one file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "check.h"

static char dir[256], plume[1024];

static void put(const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) { perror(p); exit(1); }
    fputs(text, f);
    fclose(f);
}

/* runs `plume examples ARGS` in dir, stderr to dir/err; returns the exit status */
static int run(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd %s && %s examples %s 2>err", dir, plume, args);
    int s = system(cmd);
    return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
}

static char *slurp(const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

/* the documents of the pools, as cut to 20 characters, and their authors */
static const struct { const char *text, *author; } PASSAGES[] = {
    { "T-annx-1\nannx hi", "annx" },
    { "T-annx-2\nannx wrote", "annx" },          /* "... longerwords here" cut at the word before */
    { "T-annx-3\nannx bye", "annx" },
    { "bobx ok", "bobx" },                       /* no title: the text alone */
    { "T-bobx-1\nbobx fine", "bobx" },
    { "T-cyx-1\ncyx \xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", "cyx" },   /* 17 code points, 22 bytes: whole */
};
#define N_PASSAGES (int)(sizeof PASSAGES / sizeof PASSAGES[0])

static const char *author_of(const char *s, size_t n) {
    for (int i = 0; i < N_PASSAGES; i++)
        if (strlen(PASSAGES[i].text) == n && !memcmp(PASSAGES[i].text, s, n)) return PASSAGES[i].author;
    return NULL;
}

static const char HEAD[] = "Predict whether two passages are from the same author\npassage 1: ";

/* checks every author example of out.jsonl after `skip` generation lines; counts labels and
 * whether a vicx passage (held out) was seen */
static void check_pairs(const char *name, int skip, int *n_true, int *n_false, int *saw_vic) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    CHECK(f != NULL);
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    int k = 0;
    *n_true = *n_false = *saw_vic = 0;
    while (getline(&line, &cap, f) > 0) {
        if (k++ < skip) continue;
        json_t *o = json_loads(line, 0, NULL);
        const char *pr = json_string_value(json_object_get(o, "prompt"));
        const char *tg = json_string_value(json_object_get(o, "target_token"));
        CHECK(pr && tg && !json_object_get(o, "target"));   /* the answer is a control token, never text */
        if (!pr || !tg) { json_decref(o); continue; }
        if (strstr(pr, "vicx")) *saw_vic = 1;
        CHECK(!strncmp(pr, HEAD, strlen(HEAD)));
        const char *a = pr + strlen(HEAD), *mid = strstr(a, "\npassage 2: ");
        const char *b = mid ? mid + strlen("\npassage 2: ") : NULL, *end = b ? strstr(b, "\nsame author: ") : NULL;
        CHECK(end && !strcmp(end, "\nsame author: "));
        if (end) {
            const char *wa = author_of(a, (size_t)(mid - a)), *wb = author_of(b, (size_t)(end - b));
            if (!strstr(pr, "vicx")) CHECK_MSG(wa && wb, "unknown passage in %s", pr);
            if (wa && wb) {
                int same = !strcmp(wa, wb);
                CHECK_STR(tg, same ? "<|same_author|>" : "<|other_author|>");
                /* a same-author pair is two different documents */
                if (same) CHECK((size_t)(mid - a) != (size_t)(end - b) || memcmp(a, b, (size_t)(mid - a)));
            }
        }
        *n_true += !strcmp(tg, "<|same_author|>");
        *n_false += !strcmp(tg, "<|other_author|>");
        json_decref(o);
    }
    free(line);
    fclose(f);
}

int main(void) {
    const char *bd = getenv("PLUME_BUILD_DIR");
    snprintf(plume, sizeof plume, "%s/bin/plume", bd ? bd : "build");
    snprintf(dir, sizeof dir, "/tmp/plume-test-examples-XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }

    /* results of a pipeline run: the continuation is the target after its context */
    put("results.jsonl",
        "{\"id\":\"r1\",\"prompt\":\"P1\",\"context\":\"Hello wor\",\"target\":\"Hello world, bye.\"}\n"
        "\n"
        "{\"id\":\"r2\",\"prompt\":\"P2 \\u00fc\",\"context\":\"abc\",\"target\":\"xyz abc\"}\n"
        "{\"id\":\"r3\",\"prompt\":\"P3\",\"context\":\"same\",\"target\":\"same\"}\n"
        "{\"id\":\"r4\",\"prompt\":\"P4\",\"context\":\"C\",\"target\":\"C\\nrest \\\"q\\\"\"}\n");
    /* the train requests: annx's d1 and a1 repeat across requests (one passage each), cyx has one
     * document, vicx is also in the holdout file */
    put("train.jsonl",
        "{\"id\":\"a1\",\"user\":\"annx\",\"context\":\"T\",\"profile\":[{\"id\":\"d1\",\"title\":\"T-annx-1\",\"text\":\"annx hi\"}],"
        "\"target\":\"T-annx-2\\nannx wrote longerwords here\"}\n"
        "{\"id\":\"a2\",\"user\":\"annx\",\"context\":\"T\",\"profile\":[{\"id\":\"d1\",\"title\":\"T-annx-1\",\"text\":\"annx hi\"},"
        "{\"id\":\"a1\",\"title\":\"T-annx-2\",\"text\":\"annx wrote longerwords here\"}],\"target\":\"T-annx-3\\nannx bye\"}\n"
        "{\"id\":\"b1\",\"user\":\"bobx\",\"context\":\"T\",\"profile\":[{\"id\":7,\"title\":\"\",\"text\":\"bobx ok\"}],"
        "\"target\":\"T-bobx-1\\nbobx fine\"}\n"
        "{\"id\":\"c1\",\"user\":\"cyx\",\"context\":\"T\",\"profile\":[],\"target\":\"T-cyx-1\\ncyx \\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}\n"
        "{\"id\":\"v1\",\"user\":\"vicx\",\"context\":\"v\",\"profile\":[{\"id\":\"v0\",\"text\":\"vicx secret\"}],\"target\":\"vicx more\"}\n");
    put("holdout.jsonl", "{\"id\":\"h1\",\"user\":\"vicx\",\"context\":\"x\"}\n");

    /* generation only: exactly these lines (r3 has nothing after its context) */
    CHECK(run("results.jsonl --ratio 0 -o gen.jsonl") == 0);
    char *gen = slurp("gen.jsonl");
    CHECK_STR(gen, "{\"prompt\":\"P1\",\"target\":\"ld, bye.\"}\n"
                   "{\"prompt\":\"P2 \\u00FC\",\"target\":\"xyz abc\"}\n"   /* jansson escapes in upper case */
                   "{\"prompt\":\"P4\",\"target\":\"\\nrest \\\"q\\\"\"}\n");

    /* ratio 1: 3 generation examples -> 2 x round(1.5) = 4 pairs, after the same 3 lines */
    CHECK(run("results.jsonl --requests train.jsonl --holdout holdout.jsonl --passage-chars 20 -o one.jsonl") == 0);
    char *one = slurp("one.jsonl");
    CHECK(one && gen && !strncmp(one, gen, strlen(gen)));
    int t, fl, vic;
    check_pairs("one.jsonl", 3, &t, &fl, &vic);
    CHECK(t == 2 && fl == 2 && !vic);

    /* ratio 10: 30 pairs, exactly 15 + 15, labels true to the authors, vicx never drawn */
    CHECK(run("results.jsonl --requests train.jsonl --holdout holdout.jsonl --passage-chars 20 --ratio 10 --seed 1 -o a.jsonl") == 0);
    check_pairs("a.jsonl", 3, &t, &fl, &vic);
    CHECK(t == 15 && fl == 15);
    CHECK(!vic);
    /* without the holdout, the same draw does reach vicx: the holdout is what keeps it out */
    CHECK(run("results.jsonl --requests train.jsonl --passage-chars 20 --ratio 10 --seed 1 -o open.jsonl") == 0);
    check_pairs("open.jsonl", 3, &t, &fl, &vic);
    CHECK(t == 15 && fl == 15 && vic);

    /* one seed, one file; another seed, other pairs */
    CHECK(run("results.jsonl --requests train.jsonl --holdout holdout.jsonl --passage-chars 20 --ratio 10 --seed 1 -o b.jsonl") == 0);
    CHECK(run("results.jsonl --requests train.jsonl --holdout holdout.jsonl --passage-chars 20 --ratio 10 --seed 2 -o c.jsonl") == 0);
    char *a = slurp("a.jsonl"), *b = slurp("b.jsonl"), *c = slurp("c.jsonl");
    CHECK(a && b && !strcmp(a, b));
    CHECK(a && c && strcmp(a, c));

    /* plain text: every train user's document once (d1 and a1 repeat), in pieces of at most 16
     * code points cut at white space where there is some in the second half; vicx held out */
    CHECK(run("--requests train.jsonl --holdout holdout.jsonl --text-chars 16 -o text.jsonl") == 0);
    char *text = slurp("text.jsonl");
    CHECK_STR(text, "{\"prompt\":\"\",\"target\":\"T-annx-1\\nannx hi\"}\n"
                    "{\"prompt\":\"\",\"target\":\"T-annx-2\\nannx\"}\n"
                    "{\"prompt\":\"\",\"target\":\"wrote longerword\"}\n"   /* no white space to cut at */
                    "{\"prompt\":\"\",\"target\":\"s here\"}\n"
                    "{\"prompt\":\"\",\"target\":\"T-annx-3\\nannx\"}\n"
                    "{\"prompt\":\"\",\"target\":\"bye\"}\n"
                    "{\"prompt\":\"\",\"target\":\"bobx ok\"}\n"
                    "{\"prompt\":\"\",\"target\":\"T-bobx-1\\nbobx\"}\n"
                    "{\"prompt\":\"\",\"target\":\"fine\"}\n"
                    "{\"prompt\":\"\",\"target\":\"T-cyx-1\\ncyx\"}\n"
                    "{\"prompt\":\"\",\"target\":\"\\u00E9\\u00E9\\u00E9\\u00E9\\u00E9\"}\n");
    free(text);
    /* with results too: the generation examples first, then the text */
    CHECK(run("results.jsonl --requests train.jsonl --holdout holdout.jsonl --ratio 0 --text-chars 16 -o both.jsonl") == 0);
    text = slurp("both.jsonl");
    CHECK(text && gen && !strncmp(text, gen, strlen(gen)) && strstr(text, "\"target\":\"bye\"") && !strstr(text, "vicx"));
    free(text);
    CHECK(run("--text-chars 16 -o x.jsonl") == 2);   /* the text comes from --requests */
    CHECK(run("--requests train.jsonl --text-chars 3 -o x.jsonl") == 2);

    /* --pair: slots as prompt and target; terms joined by ", "; an empty label skipped */
    put("aids.jsonl",
        "{\"id\":\"r1\",\"sp\":\"Summarize\\nx\",\"sl\":\"the label\",\"wp\":\"Words\",\"wl\":[{\"word\":\"cat\",\"weight\":2},{\"word\":\"hat\",\"weight\":1}]}\n"
        "{\"id\":\"r2\",\"sp\":\"S2\",\"sl\":\"\",\"wp\":\"W2\",\"wl\":[]}\n");
    CHECK(run("aids.jsonl --pair sp=sl --pair wp=wl --ratio 0 -o aid-out.jsonl") == 0);
    text = slurp("aid-out.jsonl");
    CHECK_STR(text, "{\"prompt\":\"Summarize\\nx\",\"target\":\"the label\"}\n"
                    "{\"prompt\":\"Words\",\"target\":\"cat, hat\"}\n");
    free(text);
    CHECK(run("aids.jsonl --pair sp=nope --ratio 0 -o aid-out.jsonl") == 1);
    char *perr = slurp("err");
    CHECK(perr && strstr(perr, "aids.jsonl:1: slot \"nope\" is missing"));
    free(perr);
    CHECK(run("aids.jsonl --pair sp --ratio 0 -o aid-out.jsonl") == 2);

    /* a failed record and a missing field stop the run, naming the line; no output is left */
    put("bad.jsonl", "{\"id\":\"r1\",\"prompt\":\"P\",\"context\":\"c\",\"target\":\"cx\"}\n{\"id\":\"r2\",\"error\":\"stage 'rank': boom\"}\n");
    CHECK(run("bad.jsonl --ratio 0 -o bad-out.jsonl") == 1);
    char *err = slurp("err");
    CHECK(err && strstr(err, "bad.jsonl:2: the record failed in the run: stage 'rank': boom"));
    free(err);
    CHECK(slurp("bad-out.jsonl") == NULL);
    put("bad2.jsonl", "{\"id\":\"r1\",\"prompt\":\"P\",\"context\":\"c\"}\n");
    CHECK(run("bad2.jsonl --ratio 0 -o bad-out.jsonl") == 1);
    err = slurp("err");
    CHECK(err && strstr(err, "bad2.jsonl:1: field \"target\" is missing"));
    free(err);
    /* author pairs need --requests */
    CHECK(run("results.jsonl -o x.jsonl") == 2);

    free(gen); free(one); free(a); free(b); free(c);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_finish("test_examples");
}
