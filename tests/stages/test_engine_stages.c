/* The stages of test_stages.c run the way they run in production: from their module files,
 * wired by a YAML graph (plume_graph_parse), fed a request line, through plume_run, with the
 * engine's own plume_args/plume_batch (test_stages.c uses harness.c's stand-ins, which can feed
 * values a request cannot carry, like a number where text is due). The expected values are
 * the hand-worked ones of test_stages.c and tests/eval/test_metrics.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "check.h"
#include "plume/plume.h"

static const char graph_yaml[] =
    "plume: 1\n"
    "stages:\n"
    "  sum:    { use: summarize.ctx_independent, in: { entries: profile }, out: { text: summary },\n"
    "            with: { budget_chars: 60 } }\n"
    "  words:  { use: synthesize.ctx_independent, in: { profile: profile }, out: { terms: words } }\n"
    "  prompt: { use: prompt.compose, in: { context: context, summary: summary }, out: { text: prompt } }\n"
    "  score:  { use: eval.metrics, in: { prediction: context, reference: target },\n"
    "            out: { rouge1: r1, rouge2: r2, rougeL: rl, bleu: bleu } }\n"
    "output: [summary, words, prompt, r1, r2, rl, bleu]\n";

/* The documents of test_stages.c's test_summary, whose TextRank order is worked out there. */
static const char request[] =
    "{\"id\": \"r1\", \"user\": \"u\", \"context\": \"the cat is on the mat\", "
    "\"target\": \"there is a cat on the mat\", \"profile\": ["
    "{\"id\": \"d0\", \"title\": \"\", \"text\": \"Beer brewing needs hops and malt. The weather was cold.\"}, "
    "{\"id\": \"d1\", \"title\": \"\", \"text\": \"Good beer needs fresh hops. Hops and malt make beer.\"}, "
    "{\"id\": \"d2\", \"title\": \"\", \"text\": \"My cat sleeps.\"}]}";

int main(void) {
    plume_error err;
    plume_registry *reg = plume_registry_open(&err);
    plume_graph *g = reg ? plume_graph_parse(reg, graph_yaml, sizeof graph_yaml - 1, "stages.yaml", ".", NULL, 0,
                                             &err) : NULL;
    CHECK_MSG(g != NULL, "%s", err.msg);
    if (!g) return check_finish("test_engine_stages");
    char out[] = "/tmp/plume-engine-stages-XXXXXX";
    int fd = mkstemp(out);
    CHECK(fd >= 0);
    plume_run_options opt = plume_run_defaults();
    opt.request = request;
    opt.out = out;
    plume_run_report rep;
    CHECK_MSG(plume_run(g, &opt, &rep, &err) == 0, "%s", err.msg);
    CHECK(rep.records == 1 && rep.failed == 0);
    json_error_t je;
    json_t *o = json_load_file(out, 0, &je);
    CHECK_MSG(json_is_object(o), "%s", je.text);
    CHECK_STR(json_string_value(json_object_get(o, "id")), "r1");
    /* budget 60: S0 (34 chars) + S3 (1 + 24) = 59, in their original order */
    CHECK_STR(json_string_value(json_object_get(o, "summary")),
              "Beer brewing needs hops and malt. Hops and malt make beer.");
    CHECK_STR(json_string_value(json_object_get(o, "prompt")),
              "Finish the passage in the user voice\n"
              "passage start: the cat is on the mat\n"
              "summary: Beer brewing needs hops and malt. Hops and malt make beer.");
    /* ROUGE F of "the cat is on the mat" against "there is a cat on the mat" (test_metrics.c) */
    CHECK_NEAR(json_number_value(json_object_get(o, "r1")), 100.0 * 10 / 13, 1e-9);
    CHECK_NEAR(json_number_value(json_object_get(o, "r2")), 100.0 * 4 / 11, 1e-9);
    CHECK_NEAR(json_number_value(json_object_get(o, "rl")), 100.0 * 8 / 13, 1e-9);
    CHECK_NEAR(json_number_value(json_object_get(o, "bleu")), 29.059254080792, 1e-7);
    /* Three documents: "hops" (3 times over the profile: in d0 and d1), "beer" (4: in d0, d1),
     * "malt" (2: d0, d1) have idf ln(3/2) = 0.405 < 1.5, so none is kept; every other word is seen
     * once (min_count 2). SynCtxInd gives no words for this profile. */
    json_t *words = json_object_get(o, "words");
    CHECK(json_is_array(words) && json_array_size(words) == 0);
    json_decref(o);

    /* The same request without a target: scores against nothing would all read 0, as if measured;
     * eval.metrics leaves them empty and the result line has no r1, r2, rl or bleu at all. */
    static const char untargeted[] = "{\"id\": \"r2\", \"context\": \"the cat is on the mat\"}";
    opt.request = untargeted;
    CHECK_MSG(plume_run(g, &opt, &rep, &err) == 0, "%s", err.msg);
    CHECK(rep.records == 1 && rep.failed == 0);
    o = json_load_file(out, 0, &je);
    CHECK_MSG(json_is_object(o), "%s", je.text);
    CHECK_STR(json_string_value(json_object_get(o, "id")), "r2");
    CHECK_STR(json_string_value(json_object_get(o, "prompt")),
              "Finish the passage in the user voice\npassage start: the cat is on the mat");
    CHECK(!json_object_get(o, "r1") && !json_object_get(o, "r2") && !json_object_get(o, "rl") &&
          !json_object_get(o, "bleu"));
    json_decref(o);
    if (fd >= 0) close(fd);
    remove(out);
    plume_graph_free(g);
    plume_registry_close(reg);
    return check_finish("test_engine_stages");
}
