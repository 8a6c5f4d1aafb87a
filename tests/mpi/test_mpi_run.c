/* `mpirun -n 2 plume run` on one machine (both ranks on the one device, lavapipe in CI):
 *   - the shipped default graph (retrieval, summary, keywords, prompt, beam-search generation
 *     with the shipped plume-email model, metrics) over 15 requests gives byte-identical results to
 *     one process, merged in input order by rank 0, with no shard file left behind; the
 *     counts and the --stats table are reduced over the ranks (rank 0 alone reports);
 *   - a rank that crashes (fault.crash, SIGSEGV, in its third batch) leaves its shard's
 *     finished batches on the disk and the output as it was; the same command with --resume
 *     keeps them, runs the rest, and gives the one-process results;
 *   - refusals: the --context form under mpirun. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "test_env.h"
#include "mpi_test.h"

#define LIMIT 120   /* seconds for one command: far above the few it takes, below ctest's limit */

static char requests[600], graph[600];

/* How many times needle occurs in hay. */
static int occurrences(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_identical(void) {
    const char *one = mt_path("one.jsonl"), *two = mt_path("two.jsonl");
    char *log = NULL;
    const char *single[] = { mt_plume(), "run", graph, "--data", requests, "--out", one, "--batch", "4",
                             "--no-progress", NULL };
    int rc = mt_run(LIMIT, &log, single);
    CHECK_MSG(rc == 0, "plume run: %d: %s", rc, log);
    free(log);
    int before = mt_entries();
    const char *ranks[] = { PLUME_MPIEXEC, "-n", "2", mt_plume(), "run", graph, "--data", requests, "--out", two,
                            "--batch", "4", "--no-progress", "--stats", NULL };
    rc = mt_run(LIMIT, &log, ranks);
    CHECK_MSG(rc == 0, "mpirun -n 2 plume run: %d: %s", rc, log);
    char *a = mt_read(one), *b = mt_read(two);
    CHECK(a && mt_lines(a) == 15);
    CHECK_STR(b, a);   /* byte for byte */
    CHECK(mt_entries() == before + 1);   /* two.jsonl, and no shard file left */
    /* rank 0 alone reports the totals over both ranks */
    CHECK_MSG(log && occurrences(log, "15 records, 0 failed") == 1, "%s", log);
    CHECK_MSG(log && strstr(log, "summed over 2 MPI ranks, shares of 2 x the wall time"), "%s", log);
    /* --stats: 8 + 7 requests in batches of 4 are 2 + 2 batches of each stage */
    const char *row = log ? strstr(log, "\ngenerate ") : NULL;
    unsigned batches = 0;
    CHECK_MSG(row && sscanf(row, " generate generate.lm %u", &batches) == 1 && batches == 4, "%s", row ? row : log);
    free(a);
    free(b);
    free(log);
}

static void test_crash_resume(void) {
    /* The request id is the crash's trigger: beer-5-r1 is request 9, the fifth of shard 1 (odd
     * requests), in its third batch of two; shard 0 never meets it. */
    const char *g = mt_path("crash.yaml"), *ref = mt_path("ref.jsonl"), *out = mt_path("out.jsonl");
    CHECK(mt_write(g, "plume: 1\nstages:\n  c: { use: fault.crash, in: { text: id }, out: { text: seen }, "
                      "with: { word: beer-5-r1 } }\noutput: [seen, context]\n") == 0);
    char *log = NULL;
    const char *single[] = { mt_plume(), "run", g, "--data", requests, "--out", ref, "--batch", "2", "--no-progress",
                             "--set", "c.word=no-such-id", NULL };
    int rc = mt_run(LIMIT, &log, single);
    CHECK_MSG(rc == 0, "plume run: %d: %s", rc, log);
    free(log);
    CHECK(mt_write(out, "OLD RESULTS\n") == 0);
    const char *crash[] = { PLUME_MPIEXEC, "-n", "2", mt_plume(), "run", g, "--data", requests, "--out", out,
                            "--batch", "2", "--no-progress", NULL };
    rc = mt_run(LIMIT, &log, crash);
    CHECK_MSG(rc != 0 && rc != -1, "mpirun with a crashing rank: %d: %s", rc, log);
    free(log);
    char *text = mt_read(out);
    CHECK_STR(text, "OLD RESULTS\n");   /* the output is as it was */
    free(text);
    /* rank 1's two finished batches were on the disk before it died */
    char *part = mt_read(mt_path("out.jsonl.shard-1-of-2.partial"));
    CHECK_MSG(part && mt_lines(part) == 4, "%s", part ? part : "(no shard-1 partial results)");
    CHECK(part && strstr(part, "\"beer-4\"") && !strstr(part, "beer-5-r1"));
    free(part);

    const char *again[] = { PLUME_MPIEXEC, "-n", "2", mt_plume(), "run", g, "--data", requests, "--out", out,
                            "--batch", "2", "--no-progress", "--resume", "--set", "c.word=no-such-id", NULL };
    rc = mt_run(LIMIT, &log, again);
    CHECK_MSG(rc == 0 && strstr(log, "earlier results kept"), "mpirun ... --resume: %d: %s", rc, log);
    free(log);
    char *want = mt_read(ref), *got = mt_read(out);
    CHECK_STR(got, want);
    free(want);
    free(got);
    CHECK(access(mt_path("out.jsonl.shard-0-of-2"), F_OK) != 0 && access(mt_path("out.jsonl.shard-1-of-2"), F_OK) != 0);
    CHECK(access(mt_path("out.jsonl.shard-0-of-2.partial"), F_OK) != 0 &&
          access(mt_path("out.jsonl.shard-1-of-2.partial"), F_OK) != 0);
}

static void test_refusals(void) {
    char *log = NULL;
    const char *ctx[] = { PLUME_MPIEXEC, "-n", "2", mt_plume(), "run", graph, "--context", "Hello", NULL };
    int rc = mt_run(LIMIT, &log, ctx);
    CHECK_MSG(rc == 1 && strstr(log, "needs a requests file (--data) and a results file (--out)"), "%d: %s", rc, log);
    free(log);
}

int main(void) {
    const char *data = ctest_env("PLUME_TEST_DATA"), *src = ctest_env("PLUME_SOURCE_DIR");
    snprintf(requests, sizeof requests, "%s/requests.jsonl", data);
    snprintf(graph, sizeof graph, "%s/graphs/default.yaml", src);
    char model[600];
    snprintf(model, sizeof model, "%s/models/plume-email.gguf", src);
    setenv("PLUME_MODEL", model, 1);
    setenv("PLUME_MAX_TOKENS", "8", 1);   /* a short continuation: the point is the sharding */
    setenv("PLUME_MODULE_PATH", TEST_FAULT_DIR, 1);
    mt_mpi_env();
    mt_dir("mpi-run");
    test_identical();
    test_crash_resume();
    test_refusals();
    mt_cleanup();
    return check_finish("test_mpi_run");
}
