/* plume experiment over 2 tiny graphs x 3 requests: the table's rows and columns, and each row's
 * values equal to `plume eval --json` on pairs this test builds itself from the run's result lines
 * and the requests' targets. --limit takes the first requests; a graph without the prediction
 * slot is refused before anything runs. */
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
        json_t *o = json_pack("{s:O, s:O}", "prediction", json_object_get(json_array_get(res, i), "output"),
                              "reference", json_object_get(json_array_get(requests, i), "target"));
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
    CHECK_STR(f ? line : NULL, "graph,BLEU,ROUGE-1,ROUGE-2,ROUGE-L,records,failed\n");
    json_t *requests = lines(req);
    const char *names[2] = { "tiny_a", "tiny_b" };
    for (int g = 0; g < 2; g++) {
        char name[64];
        double v[4];
        unsigned long records = 0, failed = 9;
        int got = f && fgets(line, sizeof line, f) ?
            sscanf(line, "\"%63[^\"]\",%lf,%lf,%lf,%lf,%lu,%lu", name, &v[0], &v[1], &v[2], &v[3], &records, &failed) : 0;
        CHECK(got == 7);
        if (got != 7) continue;
        CHECK_STR(name, names[g]);
        CHECK(records == 3 && failed == 0);
        snprintf(path, sizeof path, "%s/%s.results.jsonl", dir, names[g]);
        json_t *ref = eval_reference(path, requests, dir, names[g]);
        CHECK(ref != NULL);
        const char *keys[4] = { "bleu", "rouge1", "rouge2", "rougeL" };
        for (int m = 0; ref && m < 4; m++) CHECK_NEAR(v[m], json_number_value(json_object_get(ref, keys[m])), 1e-5);
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
    CHECK(n_lines == 4);
    snprintf(path, sizeof path, "%s/results.svg", dir);
    f = fopen(path, "r");
    int bars = 0, starts = 0;
    while (f && fgets(line, sizeof line, f)) {
        bars += strstr(line, "<title>") != NULL;
        starts += !strncmp(line, "<svg ", 5);
    }
    if (f) fclose(f);
    CHECK(bars == 8 && starts == 1);

    /* --limit 2: two records */
    CHECK(sh("%s experiment %s --data %s --limit 2 --out-dir %s > /dev/null", ga, req, dir, NULL) == 0);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    f = fopen(path, "r");
    CHECK(f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f));
    CHECK(f && strstr(line, ",2,0\n") != NULL);
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
    pipe_done();
    return check_finish("test_experiment");
}
