/* A test-only stand-in for the engine's side of the module ABI: parameter values and a
 * batch of records, enough to drive a stage's create → run → destroy without graphs.
 * (The engine's own implementation lives in libplume; an executable's definitions take
 * precedence over a shared library's, so these stay usable once it lands.) */
#ifndef PLUME_TEST_HARNESS_H
#define PLUME_TEST_HARNESS_H
#include "plume/stage.h"

#define HARNESS_MAX_PARAMS 16
#define HARNESS_MAX_PORTS 8

struct plume_args {
    const plume_stage *stage;
    const char *names[HARNESS_MAX_PARAMS], *values[HARNESS_MAX_PARAMS];
    size_t n;
};

struct plume_batch {
    size_t n;
    char **ids;
    plume_value (*in)[HARNESS_MAX_PORTS];
    plume_value (*out)[HARNESS_MAX_PORTS];
    char **fail;   /* NULL or the record's error */
};

/* Parameters: harness_set(&a, "k1", "1.5"); a value not set reads as the stage's fallback. */
void harness_args_init(plume_args *a, const plume_stage *stage);
void harness_set(plume_args *a, const char *name, const char *value);

plume_batch *harness_batch_new(size_t n);
void harness_batch_free(plume_batch *b);

/* create → run → destroy of one stage on one batch; returns run()'s (or create()'s) status. */
int harness_run(const plume_stage *stage, const plume_args *args, plume_batch *b, plume_error *err);
#endif
