/* A test-only stand-in for the engine: implements the plume_args / plume_batch / plume_host
 * accessors of include/plume/stage.h over plain arrays, so a stage can be run on fixed inputs
 * before graph loading exists. Test executables that link it use these definitions. */
#ifndef PLUME_TEST_HARNESS_H
#define PLUME_TEST_HARNESS_H
#include "plume/stage.h"

/* Runs stage on n records: create (with params given as "name=value" strings, NULL-terminated;
 * the rest take their fallbacks), run once, destroy. in: n × (number of inputs) values, record
 * major; out: n × (number of outputs) values, zeroed by the caller, filled by the stage.
 * fail_msg (n entries, may be NULL): "" or the record's failure. Returns create's or run's result;
 * on create failure err holds the message. */
int harness_run(const plume_stage *stage, const char *const *params, size_t n, const plume_value *in,
                plume_value *out, char (*fail_msg)[512], plume_error *err);
#endif
