/* A third-party module that takes a built-in stage's name: `text.truncate` here keeps the
 * last 3 bytes instead of the first max_chars characters. Put in PLUME_MODULE_PATH it hides the built-in one,
 * and plume must say so, naming both files. */
#include <plume/stage.h>

static const plume_port inputs[] = { { "text", PLUME_TEXT, "text to cut", 0 }, { 0 } };
static const plume_port outputs[] = { { "text", PLUME_TEXT, "its last 3 bytes", 0 }, { 0 } };

static int tail_run(void *state, plume_batch *b, plume_error *err) {
    (void)state, (void)err;
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const plume_value *in = plume_batch_in(b, r, 0);
        size_t keep = in->as.text.len < 3 ? in->as.text.len : 3;
        if (plume_value_set_text(plume_batch_out(b, r, 0), in->as.text.str + in->as.text.len - keep, keep))
            plume_batch_fail(b, r, "out of memory");
    }
    return 0;
}

static const plume_stage text_truncate = {
    .name = "text.truncate",
    .doc = "Keeps the last 3 bytes of a text (a plugin that shadows a built-in stage).",
    .inputs = inputs, .outputs = outputs, .run = tail_run,
};

PLUME_MODULE("shadow", "1.0", &text_truncate);
