/* text.truncate: at most N characters (Unicode code points), cut on a UTF-8 boundary,
 * as the paper cuts the ranked entries to 2,500 characters. */
#include "plume/stage.h"
#include "plume/text.h"

typedef struct truncate {
    long long max_chars;
} truncate;

static const plume_port inputs[] = {
    { "text", PLUME_TEXT, "text to cut", 0 },
    { 0 }
};

static const plume_port outputs[] = {
    { "text", PLUME_TEXT, "its first max_chars characters (all of it when shorter)", 0 },
    { 0 }
};

static const plume_param params[] = {
    { "max_chars", PLUME_INT, "2500", "how many characters (code points, not bytes) to keep", PLUME_AT_LEAST(0) },
    { 0 }
};

static int truncate_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    truncate *s = state;
    s->max_chars = plume_args_int(args, "max_chars");
    return 0;
}

static int truncate_run(void *state, plume_batch *b, plume_error *err) {
    const truncate *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const plume_value *in = plume_batch_in(b, r, 0);
        size_t keep = plume_utf8_prefix(in->as.text.str, in->as.text.len, (size_t)s->max_chars);
        if (plume_value_set_text(plume_batch_out(b, r, 0), in->as.text.str, keep)) plume_batch_fail(b, r, "out of memory");
    }
    return 0;
}

const plume_stage text_truncate = {
    .name = "text.truncate",
    .doc = "Keeps the first max_chars characters of a text. Characters are Unicode code points, and the cut "
           "never splits a UTF-8 sequence.",
    .inputs = inputs,
    .outputs = outputs,
    .params = params,
    .state_size = sizeof(truncate),
    .create = truncate_create,
    .run = truncate_run,
};
