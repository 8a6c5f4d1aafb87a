/* bench_rank CORPUS.jsonl [N ...]: how long the ranking stages take on one request whose profile
 * holds N documents (taken from a real corpus, cycled when it has fewer), so the cost of building
 * the per-request index is measured at the sizes a profile of thousands of documents reaches.
 * Not a test: tools/bench_rank.sh runs it. Uses the test harness to drive the stages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "harness.h"

extern const plume_stage rank_doc_bm25, rank_doc_by_snippet, rank_recent;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* CPU time: the build machine is shared, wall time is noisy */
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_rank CORPUS.jsonl [N ...]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    json_t *docs = json_array();
    char *line = NULL;
    size_t cap = 0;
    size_t total_chars = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (o) {
            total_chars += strlen(json_string_value(json_object_get(o, "text")));
            json_array_append_new(docs, o);
        }
    }
    free(line);
    fclose(f);
    size_t nd = json_array_size(docs);
    if (!nd) {
        fprintf(stderr, "%s: no documents\n", argv[1]);
        return 1;
    }
    printf("corpus %s: %zu documents, %.0f bytes of text on average\n", argv[1], nd, (double)total_chars / (double)nd);
    printf("| profile docs | rank.recent CPU ms | rank.doc_bm25 CPU ms | rank.doc_by_snippet CPU ms |\n|---|---|---|---|\n");
    const char *query = json_string_value(json_object_get(json_array_get(docs, 0), "text"));
    char q[200];
    snprintf(q, sizeof q, "%.150s", query);
    int n_sizes = argc > 2 ? argc - 2 : 4;
    const char *def[] = { "100", "1000", "5000", "20000" };
    for (int k = 0; k < n_sizes; k++) {
        size_t n = (size_t)atol(argc > 2 ? argv[2 + k] : def[k]);
        plume_batch *b = harness_batch_new(1);
        plume_value_set_text(&b->in[0][0], q, strlen(q));
        plume_value_set_docs(&b->in[0][1]);
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_array_get(docs, i % nd);
            char id[32];
            snprintf(id, sizeof id, "d%zu", i);
            plume_doc d = { id, (char *)json_string_value(json_object_get(o, "title")),
                            (char *)json_string_value(json_object_get(o, "text")),
                            (double)json_integer_value(json_object_get(o, "time")), 0 };
            plume_docs_push(&b->in[0][1], &d);
        }
        const plume_stage *st[] = { &rank_recent, &rank_doc_bm25, &rank_doc_by_snippet };
        double ms[3];
        for (int s = 0; s < 3; s++) {
            plume_args a;
            harness_args_init(&a, st[s]);
            plume_error err = { { 0 } };
            /* best of 3 runs, each a full create → run → destroy on the one request */
            ms[s] = 1e30;
            for (int rep = 0; rep < 3; rep++) {
                plume_value_clear(&b->out[0][0]);
                double t0 = now();
                if (harness_run(st[s], &a, b, &err) || plume_batch_failed(b, 0)) {
                    fprintf(stderr, "%s failed: %s\n", st[s]->name, err.msg);
                    return 1;
                }
                double t = (now() - t0) * 1e3;
                if (t < ms[s]) ms[s] = t;
            }
        }
        printf("| %zu | %.2f | %.2f | %.2f |\n", n, ms[0], ms[1], ms[2]);
        harness_batch_free(b);
    }
    json_decref(docs);
    return 0;
}
