/* `plume run --shard R/N` and `--merge N`, by hand, without MPI: three shards of a requests
 * file run separately and merged give the one-process results byte for byte (round-robin:
 * request i in shard i mod 3, so the shards hold 5 requests each of 15); the shard files go
 * once merged; a merge refuses shard files that cannot be of one run, and a missing or cut
 * shard, leaving the output as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "mpi_test.h"

#define LIMIT 120

int main(void) {
    const char *data = getenv("PLUME_TEST_DATA");
    if (!data) {
        fprintf(stderr, "run through ctest: PLUME_TEST_DATA is needed\n");
        return 1;
    }
    char requests[600];
    snprintf(requests, sizeof requests, "%s/requests.jsonl", data);
    mt_dir("run-shard");
    const char *graph = mt_path("cut.yaml"), *ref = mt_path("ref.jsonl"), *out = mt_path("out.jsonl");
    CHECK(mt_write(graph, "plume: 1\nstages:\n  cut: { use: text.truncate, in: { text: context }, out: { text: head },"
                          " with: { max_chars: 12 } }\noutput: [head, user]\n") == 0);
    char *log = NULL;
    const char *one[] = { mt_plume(), "run", graph, "--data", requests, "--out", ref, "--batch", "2", NULL };
    int rc = mt_run(LIMIT, &log, one);
    CHECK_MSG(rc == 0, "%d: %s", rc, log);
    free(log);
    char *want = mt_read(ref);
    CHECK(want && mt_lines(want) == 15);

    for (int r = 0; r < 3; r++) {
        char shard[16];
        snprintf(shard, sizeof shard, "%d/3", r);
        const char *part[] = { mt_plume(), "run", graph, "--data", requests, "--out", out, "--batch", "2", "--shard",
                               shard, NULL };
        rc = mt_run(LIMIT, &log, part);
        CHECK_MSG(rc == 0, "--shard %s: %d: %s", shard, rc, log);
        free(log);
    }
    char *s1 = mt_read(mt_path("out.jsonl.shard-1-of-3"));
    /* shard 1: requests 1, 4, 7, 10, 13 (beer-2, beer-5, beer-3-r1, beer-1-r2, beer-4-r2) */
    CHECK_MSG(s1 && mt_lines(s1) == 5 && strstr(s1, "\"beer-2\"") && strstr(s1, "\"beer-5\"") &&
              strstr(s1, "\"beer-3-r1\"") && strstr(s1, "\"beer-1-r2\"") && strstr(s1, "\"beer-4-r2\"") &&
              !strstr(s1, "\"beer-1\""), "%s", s1 ? s1 : "(none)");

    /* a shard cut short (a line without its newline): refused, nothing changes */
    char *cut = s1 ? strdup(s1) : NULL;
    if (cut) cut[strlen(cut) - 1] = '\0';
    CHECK(cut && mt_write(mt_path("out.jsonl.shard-1-of-3"), cut) == 0);
    const char *merge[] = { mt_plume(), "run", "--merge", "3", "--out", out, NULL };
    rc = mt_run(LIMIT, &log, merge);
    CHECK_MSG(rc == 1 && strstr(log, "out.jsonl.shard-1-of-3:5: the last line is cut short"), "%d: %s", rc, log);
    free(log);
    CHECK(access(out, F_OK) != 0);
    /* a shard with a line too many: not of one run */
    size_t n = s1 ? strlen(s1) : 0;
    char *extra = malloc(2 * n + 1);
    if (extra && s1) {
        memcpy(extra, s1, n);
        memcpy(extra + n, s1, n + 1);
    }
    CHECK(extra && mt_write(mt_path("out.jsonl.shard-1-of-3"), extra) == 0);
    rc = mt_run(LIMIT, &log, merge);
    CHECK_MSG(rc == 1 && strstr(log, "more results than its share"), "%d: %s", rc, log);
    free(log);
    CHECK(access(out, F_OK) != 0);
    /* the right shard back: merged in input order, the shard files gone */
    CHECK(s1 && mt_write(mt_path("out.jsonl.shard-1-of-3"), s1) == 0);
    rc = mt_run(LIMIT, &log, merge);
    CHECK_MSG(rc == 0, "%d: %s", rc, log);
    free(log);
    char *got = mt_read(out);
    CHECK_STR(got, want);
    CHECK(mt_entries() == 3);   /* cut.yaml, ref.jsonl, out.jsonl */
    /* a missing shard */
    rc = mt_run(LIMIT, &log, merge);
    CHECK_MSG(rc == 1 && strstr(log, "out.jsonl.shard-0-of-3: cannot open this shard's results"), "%d: %s", rc, log);
    free(log);
    free(got);
    free(s1);
    free(cut);
    free(extra);
    free(want);
    mt_cleanup();
    return check_finish("test_run_shard");
}
