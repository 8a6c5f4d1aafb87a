/* `plume eval` end to end: the 24 pairs of test_metrics.c as JSON Lines (tests/eval/pairs.jsonl),
 * field renaming, per-record output, and errors that name file:line. Expected means come from
 * reference.py over pairs.json: ROUGE-1 67.7754884005, ROUGE-2 48.4559884560, ROUGE-L 58.7664072039;
 * corpus BLEU 32.347612193721. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "run_cmd.h"
#include "test_env.h"

static char plume_bin[1024], pairs[1024];

/* Runs a shell command; returns its exit status and its stdout+stderr in out (truncated). */
static int run(const char *cmd, char *out, size_t cap) {
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    return run_cmd_into(full, out, cap);
}

static char *write_temp(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/plume-eval-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) {
        close(fd);
        return NULL;
    }
    close(fd);
    return path;
}

static double num(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

int main(void) {
    const char *bd = ctest_env("PLUME_BUILD_DIR"), *sd = ctest_env("PLUME_SOURCE_DIR");
    snprintf(plume_bin, sizeof plume_bin, "%s/bin/plume", bd);
    snprintf(pairs, sizeof pairs, "%s/tests/eval/pairs.jsonl", sd);
    static char out[1 << 16];
    char cmd[4096];

    snprintf(cmd, sizeof cmd, "%s eval %s --json --per-record", plume_bin, pairs);
    CHECK(run(cmd, out, sizeof out) == 0);
    json_error_t jerr;
    json_t *o = json_loads(out, 0, &jerr);
    CHECK_MSG(o != NULL, "output is not JSON: %s", out);
    if (o) {
        CHECK(json_integer_value(json_object_get(o, "records")) == 24);
        CHECK_NEAR(num(o, "bleu"), 32.347612193721, 1e-6);
        CHECK_NEAR(num(o, "rouge1"), 67.7754884005, 1e-6);
        CHECK_NEAR(num(o, "rouge2"), 48.4559884560, 1e-6);
        CHECK_NEAR(num(o, "rougeL"), 58.7664072039, 1e-6);
        json_t *rows = json_object_get(o, "per_record");
        CHECK(json_array_size(rows) == 24);
        json_t *r1 = json_array_get(rows, 1);   /* "the cat is on the mat" */
        CHECK_STR(json_string_value(json_object_get(r1, "id")), "p01");
        CHECK(json_integer_value(json_object_get(r1, "line")) == 2);
        CHECK_NEAR(num(r1, "bleu"), 29.059254080792, 1e-6);
        CHECK_NEAR(num(r1, "rouge1"), 100.0 * 10 / 13, 1e-6);
        json_decref(o);
    }

    /* Human output. */
    snprintf(cmd, sizeof cmd, "%s eval %s", plume_bin, pairs);
    CHECK(run(cmd, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "BLEU     32.35") && strstr(out, "ROUGE-1  67.78") && strstr(out, "ROUGE-2  48.46") &&
                  strstr(out, "ROUGE-L  58.77"),
              "%s", out);

    /* Other field names, a blank line skipped, standard input. */
    snprintf(cmd, sizeof cmd,
             "printf '{\"hyp\": \"a b c d\", \"gold\": \"a b c d\"}\\n\\n{\"hyp\": \"x\", \"gold\": \"y\"}\\n' | "
             "%s eval - --pred hyp --ref gold --json", plume_bin);
    CHECK(run(cmd, out, sizeof out) == 0);
    o = json_loads(out, 0, &jerr);
    CHECK_MSG(o != NULL, "%s", out);
    if (o) {
        CHECK(json_integer_value(json_object_get(o, "records")) == 2);
        CHECK_NEAR(num(o, "rouge1"), 50.0, 1e-9);   /* (100 + 0) / 2 */
        /* corpus: sys 5, ref 5 (BP 1); "x" has no 2-, 3- or 4-grams, so p1 = 4/5, p2 = 3/3,
         * p3 = 2/2, p4 = 1/1 → 100 · (4/5)^(1/4) = 94.574 */
        CHECK_NEAR(num(o, "bleu"), 100.0 * pow(0.8, 0.25), 1e-6);
        json_decref(o);
    }

    /* Errors name file:line and hint. */
    char *bad = write_temp("{\"prediction\": \"a\", \"reference\": \"b\"}\n\n{\"prediction\": \"a\"}\n");
    CHECK(bad != NULL);
    snprintf(cmd, sizeof cmd, "%s eval %s", plume_bin, bad);
    CHECK(run(cmd, out, sizeof out) == 1);
    char want[256];
    snprintf(want, sizeof want, "%s:3: field \"reference\" is missing (hint: --ref FIELD names another field)", bad);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    unlink(bad);
    bad = write_temp("{\"prediction\": \"a\", \"reference\": \"b\"}\n{\"prediction\": 3, \"reference\": \"b\"}\n");
    snprintf(cmd, sizeof cmd, "%s eval %s", plume_bin, bad);
    CHECK(run(cmd, out, sizeof out) == 1);
    snprintf(want, sizeof want, "%s:2: field \"prediction\" is not a string", bad);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    unlink(bad);
    bad = write_temp("{\"prediction\": \"a\", \"reference\": \"b\"}\n{\"prediction\": \"a\" \"reference\": \"b\"}\n");
    snprintf(cmd, sizeof cmd, "%s eval %s", plume_bin, bad);
    CHECK(run(cmd, out, sizeof out) == 1);
    snprintf(want, sizeof want, "%s:2:", bad);
    CHECK_MSG(strstr(out, want) != NULL && strstr(out, "not valid JSON"), "%s", out);
    unlink(bad);
    bad = write_temp("[1, 2]\n");
    snprintf(cmd, sizeof cmd, "%s eval %s", plume_bin, bad);
    CHECK(run(cmd, out, sizeof out) == 1);
    CHECK_MSG(strstr(out, ":1: expected a JSON object") != NULL, "%s", out);
    unlink(bad);
    bad = write_temp("\n\n");
    snprintf(cmd, sizeof cmd, "%s eval %s", plume_bin, bad);
    CHECK(run(cmd, out, sizeof out) == 1);
    CHECK_MSG(strstr(out, "no records") != NULL, "%s", out);
    unlink(bad);
    snprintf(cmd, sizeof cmd, "%s eval /nonexistent/file.jsonl", plume_bin);
    CHECK(run(cmd, out, sizeof out) == 1);
    CHECK_MSG(strstr(out, "/nonexistent/file.jsonl: No such file") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "%s eval %s --bogus", plume_bin, pairs);
    CHECK(run(cmd, out, sizeof out) == 2);

    /* the continuation: with a context, the scores of the same pairs with the context cut off by
     * hand; white space runs in the prediction's copy of the context still match */
    char *with_ctx = strdup(write_temp(
        "{\"prediction\": \"Re: plans\\nwe meet at noon today\", \"reference\": \"Re: plans\\nwe meet at "
        "noon\", \"context\": \"Re: plans\\nwe\"}\n"
        "{\"prediction\": \"Hi  all,\\n\\nthe cat sat on a mat\", \"reference\": \"Hi all, the cat sat on the mat\", "
        "\"context\": \"Hi all,\"}\n"));
    char *cut = strdup(write_temp(
        "{\"prediction\": \" meet at noon today\", \"reference\": \" meet at noon\"}\n"
        "{\"prediction\": \"\\n\\nthe cat sat on a mat\", \"reference\": \" the cat sat on the mat\"}\n"));
    static char out2[1 << 12];
    snprintf(cmd, sizeof cmd, "%s eval --json %s", plume_bin, with_ctx);
    CHECK(run(cmd, out, sizeof out) == 0);
    snprintf(cmd, sizeof cmd, "%s eval --json %s", plume_bin, cut);
    CHECK(run(cmd, out2, sizeof out2) == 0);
    json_t *a = json_loads(out, 0, NULL), *b = json_loads(out2, 0, NULL);
    json_t *cont = json_object_get(a, "continuation");
    CHECK(cont && num(cont, "records") == 2);
    const char *keys[4] = { "bleu", "rouge1", "rouge2", "rougeL" };
    for (int k = 0; cont && k < 4; k++) CHECK_NEAR(num(cont, keys[k]), num(b, keys[k]), 1e-9);
    CHECK(num(a, "rouge1") > num(cont, "rouge1"));   /* the shared context inflates the whole-document score */
    CHECK(json_object_get(b, "continuation") == NULL);   /* no context, no continuation scores */
    json_decref(a);
    json_decref(b);
    /* --context names the field; a context that is not a string is refused with its line */
    unlink(with_ctx);
    free(with_ctx);
    with_ctx = strdup(write_temp("{\"prediction\": \"a b\", \"reference\": \"a c\", \"start\": 7}\n"));
    snprintf(cmd, sizeof cmd, "%s eval --context start %s", plume_bin, with_ctx);
    CHECK(run(cmd, out, sizeof out) == 1);
    snprintf(want, sizeof want, "%s:1: field \"start\" is not a string", with_ctx);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    unlink(with_ctx);
    unlink(cut);
    free(with_ctx);
    free(cut);
    return check_finish("test_cmd_eval");
}
