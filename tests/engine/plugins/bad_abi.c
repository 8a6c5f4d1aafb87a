/* A module that claims another ABI version: the loader must refuse it and name the file. */
#include "plume/stage.h"

static int noop_run(void *state, plume_batch *b, plume_error *err) { return 0; }

static const plume_stage noop = { .name = "bad.noop", .doc = "Never loads.", .run = noop_run };
static const plume_stage *const stages[] = { &noop, NULL };

PLUME_EXPORT extern const plume_module plume_module_v1;
const plume_module plume_module_v1 = { PLUME_ABI_VERSION + 998, (uint32_t)sizeof(plume_stage), "bad", "1.0", stages };
