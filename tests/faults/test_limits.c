/* Limits on hostile input: lines and nesting far beyond what plume accepts must give an error
 * naming the place, not a crash, a hang or an allocation as large as the input. Every kind of
 * JSON Lines input is tried with a line over the cap: a profile, a corpus, requests, results
 * given to plume examples (training examples: tests/train/test_train_config.c). The big inputs
 * are sparse files (ftruncate), so they cost no disk. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include "check.h"
#include "plume/corpus.h"
#include "engine.h"
#include "plume/plume.h"
#include "plume/read_line.h"
#include "run_cmd.h"
#include "test_files.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

static char dir[64];

static const char *in_dir(const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* A file of PREFIX followed by zero bytes up to SIZE (a hole: nothing is written). */
static void sparse_file(const char *path, const char *prefix, off_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, prefix, strlen(prefix)) != (ssize_t)strlen(prefix) || ftruncate(fd, size) || close(fd)) {
        perror(path);
        exit(1);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#ifndef __SANITIZE_ADDRESS__
static long max_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}
#endif

/* A profile file whose one line is 200 MiB: refused at the 64 MiB cap, not read whole (getline
 * would have grown a 256 MiB buffer). */
static void test_profile_line(void) {
    const char *path = in_dir("huge.jsonl");
    sparse_file(path, "{\"id\": \"a\", \"text\": \"", (off_t)200 << 20);
    plume_value docs = { 0 };
    plume_error err;
    CHECK(plume_docs_read_jsonl(path, &docs, &err) == -1);
    char want[512];
    snprintf(want, sizeof want, "%s:1: a line longer than %zu bytes", path, PLUME_LINE_MAX);
    CHECK_STR(err.msg, want);
    remove(path);
#ifndef __SANITIZE_ADDRESS__   /* AddressSanitizer's quarantine keeps freed buffers resident */
    CHECK_MSG(max_rss_mb() < 160, "peak memory %ld MiB", max_rss_mb());
#endif
}

/* A corpus line over the cap stops the build with its file and line: it is no document, and a
 * skipped line would hide the damage. */
static void test_corpus_line(void) {
    const char *path = in_dir("corpus.jsonl");
    sparse_file(path, "{\"id\": \"1\", \"author\": \"a\", \"time\": 1, \"text\": \"x\"}\n{\"id\": \"", (off_t)70 << 20);
    FILE *f = fopen(path, "ab");
    fputs("\n{\"id\": \"2\", \"author\": \"a\", \"time\": 2, \"text\": \"y\"}\n", f);
    fclose(f);
    plume_dataset_options o = plume_dataset_defaults();
    plume_dataset_stats st;
    plume_error err;
    char out[128];
    snprintf(out, sizeof out, "%s/ds", dir);
    {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", out);
        CHECK(system(cmd) == 0);
    }
    CHECK(plume_dataset_build(path, out, &o, &st, &err) == -1);
    char want[512];
    snprintf(want, sizeof want, "%s:2: a line longer than %zu bytes", path, PLUME_LINE_MAX);
    CHECK_STR(err.msg, want);
    remove(path);
}

/* A one-stage graph that keeps the first 5 characters of each request's context: the records
 * that come through are easy to tell from the one that fails. NULL (checked) when it does not load;
 * *reg is open either way, or NULL. */
static plume_graph *truncate_graph(plume_registry **reg, plume_error *err) {
    static const char yaml[] = "plume: 1\nstages:\n  t: { use: text.truncate, in: { text: context }, out: { text: t }, "
                               "with: { max_chars: 5 } }\noutput: [t]\n";
    *reg = plume_registry_open(err);
    plume_graph *g = *reg ? plume_graph_parse(*reg, yaml, sizeof yaml - 1, "limits.yaml", ".", NULL, 0, err) : NULL;
    CHECK_MSG(g != NULL, "%s", err->msg);
    return g;
}

/* A requests file whose second line is 70 MiB: that record fails with the file and line, the
 * records around it run. */
static void test_request_line(void) {
    plume_error err;
    plume_registry *reg;
    plume_graph *g = truncate_graph(&reg, &err);
    char path[256], out[256];
    snprintf(path, sizeof path, "%s", in_dir("requests.jsonl"));
    snprintf(out, sizeof out, "%s", in_dir("results.jsonl"));
    sparse_file(path, "{\"id\": \"a\", \"context\": \"first request\"}\n{\"id\": \"b\", \"context\": \"", (off_t)70 << 20);
    FILE *f = fopen(path, "ab");
    fputs("\n{\"id\": \"c\", \"context\": \"third request\"}\n", f);
    fclose(f);
    plume_run_options opt = plume_run_defaults();
    opt.data = path;
    opt.out = out;
    plume_run_report rep;
    CHECK_MSG(g && plume_run(g, &opt, &rep, &err) == 0, "%s", err.msg);
    CHECK(rep.records == 3 && rep.failed == 1);
    f = fopen(out, "rb");
    char line[3][1024] = { "", "", "" };
    for (int i = 0; f && i < 3; i++) CHECK(fgets(line[i], sizeof line[i], f) != NULL);
    if (f) fclose(f);
    char want[1024];
    snprintf(want, sizeof want, "{\"id\":null,\"error\":\"%s:2: a line longer than %zu bytes\"}\n", path,
             PLUME_LINE_MAX);
    CHECK_STR(line[0], "{\"id\":\"a\",\"t\":\"first\"}\n");
    CHECK_STR(line[1], want);
    CHECK_STR(line[2], "{\"id\":\"c\",\"t\":\"third\"}\n");
    remove(path);
    remove(out);
    plume_graph_free(g);
    plume_registry_close(reg);
}

/* plume examples over a results file whose first line is 70 MiB: refused, naming the line. */
static void test_examples_line(void) {
    const char *bd = getenv("PLUME_BUILD_DIR");
    char results[256], requests[256], cmd[1024];
    snprintf(results, sizeof results, "%s", in_dir("run.jsonl"));
    snprintf(requests, sizeof requests, "%s", in_dir("train.jsonl"));
    sparse_file(results, "{\"id\": \"", (off_t)70 << 20);
    static const char request[] = "{\"id\": \"a\", \"user\": \"u\", \"context\": \"c\", \"target\": \"ct\"}\n";
    sparse_file(requests, request, (off_t)sizeof request - 1);
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' examples '%s' --requests '%s' -o '%s/ex.jsonl' --ratio 0 2>&1",
             bd ? bd : "build", results, requests, dir);
    char *said = NULL;
    int status = run_cmd(cmd, &said);
    char want[512];
    snprintf(want, sizeof want, "plume examples: %s:1: a line longer than %zu bytes\n", results, PLUME_LINE_MAX);
    CHECK(status == 1);
    CHECK_STR(said ? said : "", want);
    free(said);
    remove(results);
    remove(requests);
}

/* The line reader itself, with a cap of 8 bytes (newline included): a 9-byte line is refused with
 * its place, the reader goes on with the next line; a file that is not there is named. */
static void test_line_reader(void) {
    const char *path = in_dir("lines.txt");
    FILE *f = fopen(path, "wb");
    fputs("1234567\n12345678\nok\nlast", f);
    fclose(f);
    plume_line_reader r;
    plume_error err;
    char *line, want[512];
    size_t len;
    CHECK(plume_line_open(&r, path, 8, &err) == 0);
    CHECK(plume_line_next(&r, &line, &len, &err) == 1 && len == 8 && !strcmp(line, "1234567\n") && !r.too_long);
    CHECK(plume_line_next(&r, &line, &len, &err) == -1 && r.too_long && r.line_no == 2);
    snprintf(want, sizeof want, "%s:2: a line longer than 8 bytes", path);
    CHECK_STR(err.msg, want);
    CHECK(plume_line_next(&r, &line, &len, &err) == 1 && !strcmp(line, "ok\n") && r.line_no == 3);
    CHECK(plume_line_next(&r, &line, &len, &err) == 1 && !strcmp(line, "last") && len == 4);   /* no newline */
    CHECK(plume_line_next(&r, &line, &len, &err) == 0);
    plume_line_close(&r);
    CHECK(plume_line_is_blank(" \t\r\n", 4) && !plume_line_is_blank(" x\n", 3));
    remove(path);
    CHECK(plume_line_open(&r, path, 8, &err) == -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    CHECK_STR(err.msg, want);
}

/* A request nested 100000 deep: jansson stops at its depth limit (2048) with the column; the
 * record fails alone. */
static void test_request_depth(void) {
    plume_error err;
    plume_registry *reg;
    plume_graph *g = truncate_graph(&reg, &err);
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 64);
    size_t n = (size_t)sprintf(deep, "{\"id\": \"d\", \"context\": \"c\", \"x\": ");
    for (size_t i = 0; i < depth; i++) deep[n++] = '[';
    for (size_t i = 0; i < depth; i++) deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    const char *out = in_dir("deep.jsonl");
    plume_run_options opt = plume_run_defaults();
    opt.request = deep;
    opt.out = out;
    plume_run_report rep;
    CHECK(g && plume_run(g, &opt, &rep, &err) == 0 && rep.records == 1 && rep.failed == 1);
    FILE *f = fopen(out, "rb");
    char line[1024] = "";
    CHECK(f && fgets(line, sizeof line, f));
    if (f) fclose(f);
    CHECK_STR(line, "{\"id\":null,\"error\":\"command line:2081: malformed request: maximum parsing depth reached "
                    "near '['\"}\n");
    free(deep);
    remove(out);
    plume_graph_free(g);

    /* The same nesting as a graph: refused at the 33rd level (the root mapping and 32 lists), before libyaml's scanner, whose time per
     * token grows with the depth, gets slow (this took 30 s before the cap; a 16 MB file, hours). */
    double t0 = now_s();
    char *yaml_deep = malloc(depth + 64);
    n = (size_t)sprintf(yaml_deep, "plume: 1\nstages: ");
    for (size_t i = 0; i < depth; i++) yaml_deep[n++] = '[';
    yaml_deep[n] = '\0';
    g = plume_graph_parse(reg, yaml_deep, n, "deep.yaml", ".", NULL, 0, &err);
    CHECK_STR(err.msg, "deep.yaml:2:40: lists and mappings nested more than 32 deep; a graph needs 4");
    CHECK(g == NULL && now_s() - t0 < 5.0);
    free(yaml_deep);
    plume_registry_close(reg);
}

int main(void) {
    make_test_dir(dir, sizeof dir, "plume-limits");
    test_line_reader();
    test_profile_line();
    test_corpus_line();
    test_request_line();
    test_examples_line();
    test_request_depth();
    remove_tree(dir);
    return check_finish("test_limits");
}
