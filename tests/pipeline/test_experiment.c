/* plume experiment over 2 tiny graphs x 3 requests: the table's rows and columns, and each row's
 * values (whole document and continuation) equal to `plume eval --json` on pairs this test builds
 * itself from the run's result lines and the requests' targets and contexts. --limit takes the
 * first requests; a graph without the prediction slot is refused before anything runs.
 * --swap-profiles over hand-made requests of three users and one without a user: the swapped
 * requests give every user another user's profile (a derangement), the user-less request keeps its
 * own and is counted as not swappable, and the gains are the mean per-record differences that
 * `plume eval --per-record` gives on the two runs' pairs. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "pipe.h"

static const char *GRAPH_A =
    "plume: 1\n"
    "models: { writer: \"%s\" }\n"
    "stages:\n"
    "  p: { use: prompt.compose, in: { context: context }, out: { text: prompt }, with: { context_last: true } }\n"
    "  g: { use: generate.lm, in: { prompt: prompt, context: context }, out: { text: output },\n"
    "       with: { model: writer, max_tokens: 6, beams: 1 } }\n"
    "output: [output]\n";
static const char *GRAPH_B =
    "plume: 1\n"
    "models: { writer: \"%s\" }\n"
    "stages:\n"
    "  r: { use: rank.doc_bm25, in: { query: context, profile: profile }, out: { entries: ranked } }\n"
    "  p: { use: prompt.compose, in: { context: context, entries: ranked }, out: { text: prompt },\n"
    "       with: { budget_unit: tokens, model: writer, budget: 300, context_last: true } }\n"
    "  g: { use: generate.lm, in: { prompt: prompt, context: context }, out: { text: output },\n"
    "       with: { model: writer, max_tokens: 6, beams: 2 } }\n"
    "output: [output]\n";

static char plume_bin[1024];

static int sh(const char *fmt, const char *a, const char *b, const char *c, const char *d) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, plume_bin, a, b, c, d);
    return system(cmd);
}

static json_t *lines(const char *path) {
    json_t *arr = json_array();
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) json_array_append_new(arr, json_loads(line, 0, NULL));
    free(line);
    if (f) fclose(f);
    return arr;
}

/* `plume eval --json` on pairs of (output of each result line, target of each request). */
static json_t *eval_reference(const char *results, json_t *requests, const char *dir, const char *name) {
    json_t *res = lines(results);
    char pairs[1024], out[1024];
    snprintf(pairs, sizeof pairs, "%s/%s.mine.jsonl", dir, name);
    snprintf(out, sizeof out, "%s/%s.eval.json", dir, name);
    FILE *f = fopen(pairs, "w");
    for (size_t i = 0; i < json_array_size(res); i++) {
        json_t *o = json_pack("{s:O, s:O, s:O}", "prediction", json_object_get(json_array_get(res, i), "output"),
                              "reference", json_object_get(json_array_get(requests, i), "target"),
                              "context", json_object_get(json_array_get(requests, i), "context"));
        char *s = json_dumps(o, JSON_COMPACT);
        fprintf(f, "%s\n", s);
        free(s);
        json_decref(o);
    }
    fclose(f);
    json_decref(res);
    CHECK(sh("%s eval --json %s > %s", pairs, out, NULL, NULL) == 0);
    return json_load_file(out, 0, NULL);
}

/* ---- the profile swap ---- */

static const char *SWAP_GRAPH =
    "plume: 1\n"
    "stages:\n"
    "  r: { use: rank.doc_bm25, in: { query: context, profile: profile }, out: { entries: ranked } }\n"
    "  c: { use: baseline.copy, in: { context: context, entries: ranked }, out: { text: output },\n"
    "       with: { budget_chars: 60 } }\n"
    "output: [output]\n";

/* Five requests: ann twice, bob, cal, and one without a user. Each user writes about one thing. */
static const char *SWAP_REQUESTS =
    "{\"id\":\"a1\",\"user\":\"ann\",\"context\":\"Re: the garden\",\"target\":\"Re: the garden\\nThe tomatoes "
    "are ripe and the basil grows well in the sun.\",\"profile\":[{\"id\":\"pa1\",\"text\":\"The tomatoes and "
    "basil in my garden need sun and water.\"},{\"id\":\"pa2\",\"text\":\"Garden beds of basil, ripe "
    "tomatoes.\"}]}\n"
    "{\"id\":\"b1\",\"user\":\"bob\",\"context\":\"Re: the build\",\"target\":\"Re: the build\\nThe compiler "
    "fails on the linker flags again.\",\"profile\":[{\"id\":\"pb1\",\"text\":\"The build broke: the compiler "
    "and linker flags disagree.\"}]}\n"
    "{\"id\":\"a2\",\"user\":\"ann\",\"context\":\"Re: more garden\",\"target\":\"Re: more garden\\nRipe "
    "tomatoes again, and basil.\",\"profile\":[{\"id\":\"pa3\",\"text\":\"Basil and ripe tomatoes from the "
    "garden.\"}]}\n"
    "{\"id\":\"c1\",\"user\":\"cal\",\"context\":\"Re: the match\",\"target\":\"Re: the match\\nThe striker "
    "scored twice in the second half.\",\"profile\":[{\"id\":\"pc1\",\"text\":\"Our striker scored in the "
    "second half of the match.\"}]}\n"
    "{\"id\":\"x1\",\"context\":\"Re: nobody\",\"target\":\"Re: nobody\\nNo user here.\",\"profile\":[{\"id\":"
    "\"px1\",\"text\":\"No user here at all.\"}]}\n";

/* The per-record continuation ROUGE-L of a pairs file, from `plume eval --per-record --json`. */
static int eval_per_record(const char *pairs, const char *dir, const char *name, double *out, size_t n) {
    char json_path[1024];
    snprintf(json_path, sizeof json_path, "%s/%s.per-record.json", dir, name);
    if (sh("%s eval --per-record --json %s > %s", pairs, json_path, NULL, NULL) != 0) return -1;
    json_t *o = json_load_file(json_path, 0, NULL), *list = json_object_get(o, "per_record");
    int rc = json_array_size(list) == n ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        out[i] = json_number_value(json_object_get(json_object_get(json_array_get(list, i), "continuation"), "rougeL"));
    json_decref(o);
    return rc;
}

static void swap_test(void) {
    char graph[512], req[512], dir[512], path[1024], line[4096];
    snprintf(graph, sizeof graph, "%s", pipe_tmp("copy.yaml"));
    snprintf(req, sizeof req, "%s", pipe_tmp("swap.jsonl"));
    snprintf(dir, sizeof dir, "%s", pipe_tmp("swap"));
    pipe_write(graph, SWAP_GRAPH);
    pipe_write(req, SWAP_REQUESTS);
    CHECK(sh("%s experiment %s --data %s --out-dir %s --swap-profiles --swap-seed 7 > /dev/null 2>&1", graph, req, dir,
             NULL) == 0);

    /* the swapped requests: same ids, contexts and targets; each user's profile now another user's */
    json_t *own = lines(req);
    snprintf(path, sizeof path, "%s/requests.swapped.jsonl", dir);
    json_t *swapped = lines(path);
    CHECK(json_array_size(swapped) == 5);
    const char *sent_to[3] = { NULL, NULL, NULL };   /* ann, bob, cal: whose profile each got */
    const char *names[3] = { "ann", "bob", "cal" };
    for (size_t i = 0; i < json_array_size(swapped) && i < 5; i++) {
        json_t *o = json_array_get(own, i), *w = json_array_get(swapped, i);
        CHECK(json_equal(json_object_get(o, "id"), json_object_get(w, "id")));
        CHECK(json_equal(json_object_get(o, "target"), json_object_get(w, "target")));
        CHECK(json_equal(json_object_get(o, "context"), json_object_get(w, "context")));
        const char *user = json_string_value(json_object_get(o, "user"));
        json_t *profile = json_object_get(w, "profile");
        if (!user) {   /* not swappable: its own profile */
            CHECK(json_equal(profile, json_object_get(o, "profile")));
            continue;
        }
        /* the donor: the request whose profile this is */
        const char *donor = NULL;
        for (size_t j = 0; j < json_array_size(own); j++)
            if (json_equal(profile, json_object_get(json_array_get(own, j), "profile")))
                donor = json_string_value(json_object_get(json_array_get(own, j), "user"));
        CHECK(donor && strcmp(donor, user) != 0);   /* never the user's own */
        for (int u = 0; u < 3; u++)
            if (!strcmp(user, names[u])) {
                CHECK(!sent_to[u] || (donor && !strcmp(sent_to[u], donor)));   /* one donor per user */
                sent_to[u] = donor;
            }
    }
    /* a permutation of the three users: every user is somebody's donor */
    for (int u = 0; u < 3; u++) {
        int hit = 0;
        for (int v = 0; v < 3; v++) hit += sent_to[v] && !strcmp(sent_to[v], names[u]);
        CHECK(hit == 1);
    }

    /* the CSV's gain columns against plume eval's per-record continuation scores */
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "r");
    char header[1024];
    CHECK(f && fgets(header, sizeof header, f) && fgets(line, sizeof line, f));
    if (f) fclose(f);
    CHECK(strstr(header, ",swapped_records,not_swappable,swap_failed,swap_cont_ROUGE-1,swap_cont_ROUGE-L,"
                         "gain_cont_ROUGE-1,gain_cont_ROUGE-1_p_t,gain_cont_ROUGE-1_p_sign,gain_cont_ROUGE-L,"
                         "gain_cont_ROUGE-L_p_t,gain_cont_ROUGE-L_p_sign,identical_outputs\n") != NULL);
    double col[22] = { 0 };
    char *p = strchr(line, ',');
    int n_col = 0;
    while (p && n_col < 22) {
        col[n_col++] = strtod(p + 1, NULL);
        p = strchr(p + 1, ',');
    }
    CHECK(n_col == 22);
    CHECK(col[4] == 5 && col[10] == 4 && col[11] == 1);   /* records; swapped 4, not swappable 1 */
    double a[5], b[5];
    char pairs[1024];
    snprintf(pairs, sizeof pairs, "%s/copy.pairs.jsonl", dir);
    CHECK(eval_per_record(pairs, dir, "own", a, 5) == 0);
    snprintf(pairs, sizeof pairs, "%s/copy.swapped.pairs.jsonl", dir);
    CHECK(eval_per_record(pairs, dir, "swapped", b, 5) == 0);
    double gain = 0, own_mean = 0, swap_mean = 0;
    for (int i = 0; i < 4; i++) {   /* the user-less request is the last: left out */
        gain += (a[i] - b[i]) / 4;
        own_mean += a[i] / 4;
        swap_mean += b[i] / 4;
    }
    CHECK_NEAR(col[14], swap_mean, 1e-5);
    CHECK_NEAR(col[18], gain, 1e-5);
    CHECK(gain > 10);   /* copying the user's own earlier text beats copying another user's */
    (void)own_mean;
    json_decref(own);
    json_decref(swapped);
}

int main(void) {
    snprintf(plume_bin, sizeof plume_bin, "%s/bin/plume", getenv("PLUME_BUILD_DIR"));
    const char *req = pipe_email_requests(3);
    char ga[512], gb[512], gc[512], dir[512], yaml[2048];
    snprintf(ga, sizeof ga, "%s", pipe_tmp("tiny_a.yaml"));
    snprintf(gb, sizeof gb, "%s", pipe_tmp("tiny_b.yaml"));
    snprintf(gc, sizeof gc, "%s", pipe_tmp("no_output.yaml"));
    snprintf(dir, sizeof dir, "%s", pipe_tmp("exp"));
    snprintf(yaml, sizeof yaml, GRAPH_A, pipe_model_path());
    pipe_write(ga, yaml);
    snprintf(yaml, sizeof yaml, GRAPH_B, pipe_model_path());
    pipe_write(gb, yaml);
    CHECK(sh("%s experiment %s %s --data %s --out-dir %s > /dev/null", ga, gb, req, dir) == 0);

    char path[1024];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "r");
    char line[1024];
    CHECK(f && fgets(line, sizeof line, f));
    CHECK_STR(f ? line : NULL, "graph,BLEU,ROUGE-1,ROUGE-2,ROUGE-L,records,failed,cont_BLEU,cont_ROUGE-1,"
                               "cont_ROUGE-2,cont_ROUGE-L\n");
    json_t *requests = lines(req);
    const char *names[2] = { "tiny_a", "tiny_b" };
    for (int g = 0; g < 2; g++) {
        char name[64];
        double v[4], c[4];
        unsigned long records = 0, failed = 9;
        int got = f && fgets(line, sizeof line, f) ?
            sscanf(line, "\"%63[^\"]\",%lf,%lf,%lf,%lf,%lu,%lu,%lf,%lf,%lf,%lf", name, &v[0], &v[1], &v[2], &v[3],
                   &records, &failed, &c[0], &c[1], &c[2], &c[3]) : 0;
        CHECK(got == 11);
        if (got != 11) continue;
        CHECK_STR(name, names[g]);
        CHECK(records == 3 && failed == 0);
        snprintf(path, sizeof path, "%s/%s.results.jsonl", dir, names[g]);
        json_t *ref = eval_reference(path, requests, dir, names[g]);
        CHECK(ref != NULL);
        const char *keys[4] = { "bleu", "rouge1", "rouge2", "rougeL" };
        json_t *cont = ref ? json_object_get(ref, "continuation") : NULL;
        CHECK(cont != NULL);
        for (int m = 0; ref && m < 4; m++) CHECK_NEAR(v[m], json_number_value(json_object_get(ref, keys[m])), 1e-5);
        for (int m = 0; cont && m < 4; m++) CHECK_NEAR(c[m], json_number_value(json_object_get(cont, keys[m])), 1e-5);
        json_decref(ref);
    }
    CHECK(f && !fgets(line, sizeof line, f));   /* two rows, no more */
    if (f) fclose(f);

    /* the Markdown table (also printed) and the chart: one bar per graph and metric */
    snprintf(path, sizeof path, "%s/results.md", dir);
    f = fopen(path, "r");
    int n_lines = 0;
    while (f && fgets(line, sizeof line, f)) n_lines++;
    if (f) fclose(f);
    CHECK(n_lines == 6);   /* what the table was made from, a blank line, header, rule, 2 rows */
    snprintf(path, sizeof path, "%s/results.svg", dir);
    f = fopen(path, "r");
    int dots = 0, starts = 0, titled = 0;
    while (f && fgets(line, sizeof line, f)) {
        dots += !strncmp(line, "<circle ", 8);
        starts += !strncmp(line, "<svg ", 5);
        titled += strstr(line, "plume experiment: ") && strstr(line, req);
    }
    if (f) fclose(f);
    CHECK(dots == 8 && starts == 1 && titled == 1);   /* one dot per graph and panel (4 metrics); a title */

    /* --limit 2: two records */
    CHECK(sh("%s experiment %s --data %s --limit 2 --out-dir %s > /dev/null", ga, req, dir, NULL) == 0);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    f = fopen(path, "r");
    CHECK(f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f));
    CHECK(f && strstr(line, ",2,0,") != NULL);
    if (f) fclose(f);

    /* --out-dir whose parent folders do not exist yet: made, like mkdir -p */
    char nested[600];
    snprintf(nested, sizeof nested, "%s/new/deeper", dir);
    CHECK(sh("%s experiment %s --data %s --limit 1 --out-dir %s > /dev/null", ga, req, nested, NULL) == 0);
    snprintf(path, sizeof path, "%s/results.csv", nested);
    CHECK(access(path, R_OK) == 0);

    /* a graph whose output list lacks the prediction slot: refused, exit 1, before running */
    snprintf(yaml, sizeof yaml, "plume: 1\nstages: {}\noutput: [context]\n");
    pipe_write(gc, yaml);
    CHECK(sh("%s experiment %s %s --data %s --out-dir %s 2> /dev/null > /dev/null", ga, gc, req, dir) == 256);
    json_decref(requests);
    swap_test();
    pipe_done();
    return check_finish("test_experiment");
}
