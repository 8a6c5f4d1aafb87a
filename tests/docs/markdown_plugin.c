/* A module whose descriptions hold what Markdown treats specially (a '|' in a table cell, a
 * backslash, a backtick and a newline in a default), parameters with each kind of range, and a
 * stage that declares nothing at all, for the test of `plume modules --markdown`
 * (modules_markdown.sh, against markdown_plugin.md). It is only described, never run. */
#include <plume/stage.h>

static const plume_port tricky_inputs[] = {
    { "text", PLUME_TEXT, "the text to read", 0 },
    { "extra", PLUME_DOCS, "more documents | or none", PLUME_PORT_OPTIONAL },
    { 0 },
};
static const plume_port tricky_outputs[] = { { "count", PLUME_NUMBER, "how many", 0 }, { 0 } };
static const plume_param tricky_params[] = {
    { "sep", PLUME_STRING, "\n|", "put between the parts (a\\b is a backslash)", PLUME_NO_RANGE },
    { "quote", PLUME_STRING, "a`b\"c", "a default with a backtick and a quote", PLUME_NO_RANGE },
    { "n", PLUME_INT, "5", "how many", PLUME_RANGE(1, 64) },
    { "least", PLUME_INT, "0", "no upper end", PLUME_AT_LEAST(0) },
    { "weight", PLUME_FLOAT, "0.5", "no lower end", PLUME_AT_MOST(0.75) },
    { "any", PLUME_FLOAT, "-1.5", "no range", PLUME_NO_RANGE },
    { "writer", PLUME_MODEL, NULL, "the model", PLUME_NO_RANGE },
    { 0 },
};

static int tricky_run(void *state, plume_batch *batch, plume_error *err) {
    (void)state, (void)batch, (void)err;
    return 0;
}

static const plume_stage doc_tricky = {
    .name = "doc.tricky",
    .doc = "Counts a|b pairs. Li et al. 2023 is not the end of a sentence; a \\ is a backslash.",
    .inputs = tricky_inputs, .outputs = tricky_outputs, .params = tricky_params,
    .run = tricky_run,
};

static const plume_stage doc_bare = { .name = "doc.bare", .run = tricky_run };

PLUME_MODULE("doc", "0.1", &doc_tricky, &doc_bare);
