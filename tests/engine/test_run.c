/* Runs: batch order, failing records, concurrent stages, atomic output. */
#include <signal.h>
#include <sys/stat.h>
#include <jansson.h>
#include "check.h"
#include "engine_test.h"

static plume_registry *reg;
static char path_buf[8][700];

static const char *in_dir(int slot, const char *name) {
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", test_dir, name);
    return path_buf[slot];
}

static plume_graph *graph(const char *yaml) {
    plume_error err = { "" };
    plume_graph *g = plume_graph_parse(reg, yaml, strlen(yaml), "t.yaml", test_dir, NULL, 0, &err);
    CHECK_MSG(g != NULL, "%s", err.msg);
    return g;
}

/* ---- batches come back in input order, each record in a batch of the right size ---- */
static void test_batch_order(void) {
    plume_graph *g = graph("plume: 1\nstages:\n  c: { use: test.count, in: { text: context }, out: { n: size } }\n");
    if (!g) return;
    plume_run_options opt = plume_run_defaults();
    char data[600];
    snprintf(data, sizeof data, "%s/requests.jsonl", getenv("PLUME_TEST_DATA"));
    opt.data = data;
    opt.out = in_dir(0, "order.jsonl");
    opt.batch = 4;
    plume_run_report rep;
    plume_error err;
    CHECK(plume_run(g, &opt, &rep, &err) == 0);
    CHECK(rep.records == 15 && rep.failed == 0);
    /* The ids, in file order (independently read from the requests file), against the results. */
    FILE *in = fopen(data, "r"), *out = fopen(opt.out, "r");
    char a[8192], b[8192];
    int line = 0;
    while (in && out && fgets(a, sizeof a, in)) {
        CHECK(fgets(b, sizeof b, out) != NULL);
        json_t *req = json_loads(a, 0, NULL), *res = json_loads(b, 0, NULL);
        CHECK(req && res);
        if (req && res) {
            CHECK_STR(json_string_value(json_object_get(res, "id")), json_string_value(json_object_get(req, "id")));
            /* 15 records in batches of 4: 4, 4, 4, 3 */
            CHECK_NEAR(json_number_value(json_object_get(res, "size")), line < 12 ? 4 : 3, 0);
        }
        json_decref(req);
        json_decref(res);
        line++;
    }
    CHECK(line == 15);
    CHECK(out && !fgets(b, sizeof b, out));  /* no extra line */
    if (in) fclose(in);
    if (out) fclose(out);
    plume_graph_free(g);
}

/* ---- a record that fails does not stop the others ---- */
static void test_failures(void) {
    plume_graph *g = graph("plume: 1\n"
                           "stages:\n"
                           "  f: { use: test.fail_if, in: { text: context }, out: { text: kept }, with: { word: yeast } }\n"
                           "  n: { use: text.truncate, in: { text: kept }, out: { text: short }, with: { max_chars: 4 } }\n");
    if (!g) return;
    const char *data = in_dir(1, "mixed.jsonl");
    write_file(data,
               "{\"id\": \"r1\", \"context\": \"hops and malt\"}\n"
               "{\"id\": \"r2\", \"context\": }\n"
               "\n"
               "{\"id\": \"r3\", \"context\": \"wild yeast\"}\n"
               "{\"id\": \"r4\", \"user\": \"u\"}\n"
               "[1, 2]\n"
               "{\"id\": \"r6\", \"context\": \"caf\xc3\xa9 au lait\", \"profile\": [{\"id\": 7, \"text\": \"x\", \"time\": \"soon\"}]}\n"
               "{\"id\": \"r7\", \"context\": \"caf\xc3\xa9 au lait\"}\n");
    plume_run_options opt = plume_run_defaults();
    opt.data = data;
    opt.out = in_dir(2, "mixed.out.jsonl");
    opt.batch = 3;
    plume_run_report rep;
    plume_error err;
    CHECK(plume_run(g, &opt, &rep, &err) == 0);
    CHECK(rep.records == 7);
    CHECK(rep.failed == 5);
    char *text = read_file(opt.out), want[4096];
    snprintf(want, sizeof want,
             "{\"id\":\"r1\",\"kept\":\"hops and malt\",\"short\":\"hops\"}\n"
             "{\"id\":null,\"error\":\"%s:2:25: malformed request: unexpected token near '}'\"}\n"
             "{\"id\":\"r3\",\"error\":\"stage 'f': the text of record r3 contains 'yeast'\"}\n"
             "{\"id\":\"r4\",\"error\":\"%s:5: the request has no \\\"context\\\"\"}\n"
             "{\"id\":null,\"error\":\"%s:6: a request must be a JSON object {\\\"id\\\", \\\"context\\\", ...}\"}\n"
             "{\"id\":\"r6\",\"error\":\"%s:7: profile[0].time must be a number (seconds since 1970)\"}\n"
             "{\"id\":\"r7\",\"kept\":\"caf\xc3\xa9 au lait\",\"short\":\"caf\xc3\xa9\"}\n",
             data, data, data, data);
    CHECK_STR(text, want);
    free(text);
    plume_graph_free(g);
}

/* ---- independent stages of a batch run at the same time ---- */
static void test_concurrency(void) {
    /* m1 and m2 read only the context: they can overlap, and test.meet succeeds only if they do. */
    plume_graph *g = graph("plume: 1\n"
                           "stages:\n"
                           "  m1: { use: test.meet, in: { text: context }, out: { text: one }, with: { timeout_ms: 10000 } }\n"
                           "  m2: { use: test.meet, in: { text: context }, out: { text: two }, with: { timeout_ms: 10000 } }\n");
    if (!g) return;
    plume_run_options opt = plume_run_defaults();
    opt.request = "{\"id\": \"c1\", \"context\": \"same time\"}";
    opt.out = in_dir(3, "meet.jsonl");
    plume_run_report rep;
    plume_error err;
    CHECK(plume_run(g, &opt, &rep, &err) == 0);
    char *text = read_file(opt.out);
    CHECK_STR(text, "{\"id\":\"c1\",\"one\":\"same time\",\"two\":\"same time\"}\n");
    free(text);
    plume_graph_free(g);

    /* The control: m2 reads m1's output, so they cannot overlap, and m1 times out. */
    g = graph("plume: 1\n"
              "stages:\n"
              "  m1: { use: test.meet, in: { text: context }, out: { text: one }, with: { timeout_ms: 200 } }\n"
              "  m2: { use: test.meet, in: { text: one }, out: { text: two }, with: { timeout_ms: 200 } }\n");
    if (!g) return;
    CHECK(plume_run(g, &opt, &rep, &err) == 0);
    CHECK(rep.failed == 1);
    text = read_file(opt.out);
    CHECK_STR(text, "{\"id\":\"c1\",\"error\":\"stage 'm1': no other stage ran at the same time (waited 200 ms)\"}\n");
    free(text);
    plume_graph_free(g);
}

/* ---- the output is replaced whole or not at all ---- */
static volatile sig_atomic_t cancel;
static void on_usr1(int sig) {
    (void)sig;
    cancel = 1;
}

static void test_atomic(void) {
    char data[600];
    snprintf(data, sizeof data, "%s/requests.jsonl", getenv("PLUME_TEST_DATA"));
    const char *out = in_dir(4, "atomic.jsonl");
    write_file(out, "OLD RESULTS\n");
    int entries = count_entries(test_dir);
    plume_run_report rep;
    plume_error err;

    /* Interrupted during the second batch (as by Ctrl-C): the old results must stay, the two
     * finished batches are kept whole in OUT.partial (for --resume, see tests/faults), and no
     * temporary file is left. */
    signal(SIGUSR1, on_usr1);
    plume_graph *g = graph("plume: 1\nstages:\n  i: { use: test.interrupt, in: { text: context }, out: { text: t }, "
                           "with: { at_batch: 2 } }\n");
    plume_run_options opt = plume_run_defaults();
    opt.data = data;
    opt.out = out;
    opt.batch = 4;
    opt.cancel = &cancel;
    CHECK(g && plume_run(g, &opt, &rep, &err) == -1);
    char want_msg[1200];
    snprintf(want_msg, sizeof want_msg, "interrupted after 8 records; the output file was left as it was, and the 8 "
             "results so far are in %s.partial: run again with --resume to finish", out);
    CHECK_STR(err.msg, want_msg);
    char *text = read_file(out);
    CHECK_STR(text, "OLD RESULTS\n");
    free(text);
    CHECK(count_entries(test_dir) == entries + 1);  /* OUT.partial, and no temporary file left behind */
    char partial[1200];
    snprintf(partial, sizeof partial, "%s.partial", out);
    text = read_file(partial);
    size_t n_lines = 0;
    for (const char *p = text; p && *p; p++) n_lines += *p == '\n';
    CHECK(n_lines == 8 && text && text[strlen(text) - 1] == '\n');
    free(text);
    unlink(partial);
    plume_graph_free(g);
    cancel = 0;

    /* A stage that cannot start: nothing written. */
    g = graph("plume: 1\nstages:\n  x: { use: test.no_start, in: { text: context }, out: { text: t } }\n");
    opt.cancel = NULL;
    CHECK(g && plume_run(g, &opt, &rep, &err) == -1);
    CHECK_STR(err.msg, "t.yaml:3:3: stage 'x' (test.no_start) could not start: this stage never starts");
    text = read_file(out);
    CHECK_STR(text, "OLD RESULTS\n");
    free(text);
    plume_graph_free(g);

    /* Declared ranges are checked when the graph loads, so create() never sees a value outside
     * them; values at the bounds pass and reach create(). */
    const char *outside = "plume: 1\nstages:\n  x: { use: test.no_start, in: { text: context }, out: { text: t }, "
                          "with: { share: 1.01 } }\n";
    CHECK(plume_graph_parse(reg, outside, strlen(outside), "t.yaml", test_dir, NULL, 0, &err) == NULL);
    CHECK_STR(err.msg, "t.yaml:3:84: parameter 'share' of stage 'x' (test.no_start) must be from 0 to 1, not 1.01; "
                       "e.g. share: 0.5");
    g = graph("plume: 1\nstages:\n  x: { use: test.no_start, in: { text: context }, out: { text: t }, "
              "with: { share: 1, tries: 1 } }\n");
    CHECK(g && plume_run(g, &opt, &rep, &err) == -1);
    CHECK_STR(err.msg, "t.yaml:3:3: stage 'x' (test.no_start) could not start: this stage never starts");
    plume_graph_free(g);
    g = graph("plume: 1\nstages:\n  x: { use: test.no_start, in: { text: context }, out: { text: t }, "
              "with: { share: 0 } }\n");
    CHECK(g && plume_run(g, &opt, &rep, &err) == -1);
    CHECK_STR(err.msg, "t.yaml:3:3: stage 'x' (test.no_start) could not start: this stage never starts");
    plume_graph_free(g);

    /* Requests that cannot be read (a folder): nothing written. */
    g = graph("plume: 1\nstages:\n  c: { use: test.count, in: { text: context }, out: { n: size } }\n");
    opt.data = test_dir;
    CHECK(g && plume_run(g, &opt, &rep, &err) == -1);
    char want[1200];
    snprintf(want, sizeof want, "%s:1: read error: Is a directory", test_dir);
    CHECK_STR(err.msg, want);
    text = read_file(out);
    CHECK_STR(text, "OLD RESULTS\n");
    free(text);
    CHECK(count_entries(test_dir) == entries);

    /* An output folder that does not exist. */
    opt.data = data;
    opt.out = in_dir(5, "missing/out.jsonl");
    CHECK(g && plume_run(g, &opt, &rep, &err) == -1);
    snprintf(want, sizeof want, "%s: cannot create a temporary file in %s/missing: No such file or directory; does "
             "the folder exist, and is it writable?", opt.out, test_dir);
    CHECK_STR(err.msg, want);

    /* A read-only folder (root writes anyway, so only checked as another user). */
    if (geteuid() != 0) {
        const char *ro = in_dir(6, "ro");
        mkdir(ro, 0555);
        opt.out = in_dir(7, "ro/out.jsonl");
        CHECK(plume_run(g, &opt, &rep, &err) == -1);
        CHECK(strstr(err.msg, "Permission denied") != NULL);
        CHECK(count_entries(ro) == 0);
        rmdir(ro);
    }
    /* The same run with a writable output replaces the old results whole. */
    opt.out = out;
    CHECK(plume_run(g, &opt, &rep, &err) == 0);
    text = read_file(out);
    CHECK(text && strncmp(text, "{\"id\":\"beer-1\",\"size\":4.0}\n", 27) == 0);
    size_t lines = 0;
    for (char *p = text; p && *p; p++) lines += *p == '\n';
    CHECK(lines == 15);
    free(text);
    CHECK(count_entries(test_dir) == entries);

    /* --stats: one row per stage, the request reader included */
    FILE *stats = tmpfile();
    opt.stats = stats;
    CHECK(plume_run(g, &opt, &rep, &err) == 0);
    rewind(stats);
    char row[512];
    int rows = 0, found = 0;
    while (fgets(row, sizeof row, stats)) {
        rows++;
        found += !strncmp(row, "c  ", 3) && strstr(row, "test.count") && strstr(row, "      4 ");
    }
    CHECK(rows == 4);   /* header, request, c, footnote */
    CHECK(found == 1);  /* stage c ran 4 batches (4, 4, 4, 3) */
    fclose(stats);
    plume_graph_free(g);
}

int main(void) {
    test_tmpdir();
    reg = test_registry();
    test_batch_order();
    test_failures();
    test_concurrency();
    test_atomic();
    plume_registry_close(reg);
    test_cleanup();
    return check_finish("test_run");
}
