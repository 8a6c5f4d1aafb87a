/* Limits on hostile input: lines and nesting far beyond what plume accepts must give an error
 * naming the place, not a crash, a hang or an allocation as large as the input. The big inputs
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
    snprintf(want, sizeof want, "%s:1: a line longer than %u bytes; is this a documents file?", path, PL_LINE_MAX);
    CHECK_STR(err.msg, want);
    remove(path);
#ifndef __SANITIZE_ADDRESS__   /* AddressSanitizer's quarantine keeps freed buffers resident */
    CHECK_MSG(max_rss_mb() < 160, "peak memory %ld MiB", max_rss_mb());
#endif
}

/* A corpus line over the cap is skipped and counted as a bad line; the others are read. */
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
    /* two short documents of one author make no example: the build refuses its empty test split */
    CHECK(plume_dataset_build(path, out, &o, &st, &err) == -1);
    CHECK_MSG(strstr(err.msg, "the test split is empty") != NULL, "%s", err.msg);
    CHECK(st.docs_read == 2 && st.lines_bad == 1);
    remove(path);
}

/* A request nested 100000 deep: jansson stops at its depth limit (2048) with the column; the
 * record fails alone. */
static void test_request_depth(void) {
    plume_error err;
    plume_registry *reg = plume_registry_open(&err);
    static const char yaml[] = "plume: 1\nstages:\n  t: { use: text.truncate, in: { text: context }, out: { text: t }, "
                               "with: { max_chars: 5 } }\noutput: [t]\n";
    plume_graph *g = reg ? plume_graph_parse(reg, yaml, sizeof yaml - 1, "limits.yaml", ".", NULL, 0, &err) : NULL;
    CHECK_MSG(g != NULL, "%s", err.msg);
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
    snprintf(dir, sizeof dir, "/tmp/plume-limits-XXXXXX");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    test_profile_line();
    test_corpus_line();
    test_request_depth();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_finish("test_limits");
}
