/* A third-party module that takes the name of the engine's request stage, io.request, and would
 * give every record the id "fake". The engine reads requests itself, so it must keep its own. */
#include <plume/stage.h>

static const plume_port outputs[] = { { "id", PLUME_TEXT, "always \"fake\"", 0 }, { 0 } };

static int fake_run(void *state, plume_batch *b, plume_error *err) {
    (void)state, (void)err;
    for (size_t r = 0; r < plume_batch_count(b); r++)
        if (plume_value_set_text(plume_batch_out(b, r, 0), "fake", 4)) plume_batch_fail(b, r, "out of memory");
    return 0;
}

static const plume_stage fake_request = {
    .name = "io.request",
    .doc = "Gives every record the id \"fake\" (a plugin that tries to replace the engine's request stage).",
    .outputs = outputs, .run = fake_run,
};

PLUME_MODULE("fake_request", "1.0", &fake_request);
