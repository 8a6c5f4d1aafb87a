/* The default graph (graphs/default.yaml) end to end over a few email requests and a malformed
 * line: every good record has the prediction (context + continuation) and all four metrics, equal
 * to eval.h's on that prediction and the request's target; the bad line fails alone, named. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "test_files.h"
#include "pipe.h"
#include "plume/eval.h"

int main(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/graphs/default.yaml", getenv("PLUME_SOURCE_DIR"));
    char *yaml = read_file(path);
    CHECK(yaml != NULL);
    if (!yaml) return check_finish("test_e2e");
    /* small decoding for the test's time; the graph reads these from the environment */
    setenv("PLUME_MODEL", pipe_model_path(), 1);
    setenv("PLUME_MAX_TOKENS", "8", 1);
    setenv("PLUME_BEAMS", "2", 1);
    setenv("PLUME_PROMPT_TOKENS", "160", 1);   /* stories260K's context is 512 tokens */
    const char *req = pipe_email_requests(3);
    FILE *f = fopen(req, "a");
    fputs("{\"id\": \"broken\", \"context\": [1, 2\n", f);
    fclose(f);
    /* the targets, read here from the request file */
    json_t *targets = json_array();
    f = fopen(req, "r");
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        json_array_append_new(targets, json_string(o ? json_string_value(json_object_get(o, "target")) : ""));
        json_decref(o);
    }
    free(line);
    fclose(f);
    json_t *res = pipe_run(yaml, req, 8);
    CHECK(res && json_array_size(res) == 4);
    for (size_t i = 0; res && i < 3; i++) {
        json_t *r = json_array_get(res, i);
        const char *out = json_string_value(json_object_get(r, "output"));
        CHECK_MSG(out && !json_object_get(r, "error"), "record %zu", i);
        if (!out) continue;
        const char *tgt = json_string_value(json_array_get(targets, i));
        /* the prediction starts with the immediate context, which the target starts with too */
        json_t *o = NULL;
        f = fopen(req, "r");
        line = NULL;
        for (size_t k = 0; k <= i; k++) getline(&line, &cap, f);
        o = json_loads(line, 0, NULL);
        free(line);
        fclose(f);
        const char *ctx = json_string_value(json_object_get(o, "context"));
        CHECK(ctx && !strncmp(out, ctx, strlen(ctx)) && strlen(out) > strlen(ctx));
        json_decref(o);
        plume_rouge rg;
        CHECK(plume_rouge_compute(out, strlen(out), tgt, strlen(tgt), 1, &rg) == 0);
        const char *keys[4] = { "rouge1", "rouge2", "rougeL", "bleu" };
        double want[4] = { 100 * rg.rouge1.f, 100 * rg.rouge2.f, 100 * rg.rougeL.f,
                           plume_bleu_sentence(out, strlen(out), tgt, strlen(tgt)) };
        for (int m = 0; m < 4; m++) {
            json_t *v = json_object_get(r, keys[m]);
            CHECK_MSG(json_is_number(v), "record %zu has no %s", i, keys[m]);
            CHECK_NEAR(json_number_value(v), want[m], 1e-9);
        }
    }
    const char *e = res ? json_string_value(json_object_get(json_array_get(res, 3), "error")) : NULL;
    CHECK_MSG(e && strstr(e, "email.jsonl:4"), "%s", e ? e : "(no error)");
    CHECK(res && !json_object_get(json_array_get(res, 3), "output"));
    json_decref(res);
    json_decref(targets);
    free(yaml);
    pipe_done();
    return check_finish("test_e2e");
}
