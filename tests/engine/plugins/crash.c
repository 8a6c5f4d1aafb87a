/* Two third-party stages that go wrong on purpose, built outside plume's tree as a user's
 * plugin is (cc -shared -fPIC $(pkg-config --cflags plume) crash.c -o crash.so):
 *   example.crash  copies its text, and crashes (a write through a null pointer) on the record
 *                  whose id is `at` (or in create() when `at` is "create"): plume must name it,
 *                  and keep the batches finished before it;
 *   example.picky  copies its text; its create() refuses a `level` above 10, which `plume check`
 *                  must report as a run would. */
#include <stdlib.h>
#include <string.h>
#include <plume/stage.h>

typedef struct crash {
    const char *at;
} crash;

static const plume_port inputs[] = { { "text", PLUME_TEXT, "any text", 0 }, { 0 } };
static const plume_port outputs[] = { { "text", PLUME_TEXT, "the same text", 0 }, { 0 } };
static const plume_param crash_params[] = {
    { "at", PLUME_STRING, "", "the id of the record to crash on; \"create\": crash in create()",
      PLUME_NO_RANGE },
    { 0 } };
static const plume_param picky_params[] = {
    { "level", PLUME_INT, "1", "1 to 10; more is refused (by create(), not by a declared range)", PLUME_NO_RANGE },
    { 0 } };

static int copy_text(plume_batch *b, size_t r) {
    const plume_value *in = plume_batch_in(b, r, 0);
    return plume_value_set_text(plume_batch_out(b, r, 0), in->as.text.str, in->as.text.len);
}

static int crash_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    (void)host, (void)err;
    ((crash *)state)->at = plume_args_string(args, "at");
    if (!strcmp(((crash *)state)->at, "create")) {
        volatile int *nowhere = NULL;
        *nowhere = 1;
    }
    return 0;
}

static int crash_run(void *state, plume_batch *b, plume_error *err) {
    (void)err;
    const crash *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const char *id = plume_batch_id(b, r);
        if (id && !strcmp(id, s->at)) {
            volatile int *nowhere = NULL;
            *nowhere = 1;   /* the bug this plugin exists to have */
        }
        if (copy_text(b, r)) plume_batch_fail(b, r, "out of memory");
    }
    return 0;
}

static int picky_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    (void)state, (void)host;
    long long level = plume_args_int(args, "level");
    if (level < 1 || level > 10) return plume_fail(err, "level %lld is outside 1..10", level);
    return 0;
}

static int picky_run(void *state, plume_batch *b, plume_error *err) {
    (void)state, (void)err;
    for (size_t r = 0; r < plume_batch_count(b); r++)
        if (copy_text(b, r)) plume_batch_fail(b, r, "out of memory");
    return 0;
}

static const plume_stage example_crash = {
    .name = "example.crash",
    .doc = "Copies its text, and crashes on the record whose id is `at` (a test of crash reports).",
    .inputs = inputs, .outputs = outputs, .params = crash_params,
    .state_size = sizeof(crash), .create = crash_create, .run = crash_run,
};

static const plume_stage example_picky = {
    .name = "example.picky",
    .doc = "Copies its text; create() refuses a level outside 1..10 (a test of `plume check`).",
    .inputs = inputs, .outputs = outputs, .params = picky_params,
    .create = picky_create, .run = picky_run,
};

PLUME_MODULE("mishaps", "1.0", &example_crash, &example_picky);
