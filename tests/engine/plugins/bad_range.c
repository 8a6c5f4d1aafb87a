/* A module whose parameter table declares a range the engine cannot honour; the loader must
 * refuse it and name the file, the stage and the parameter. Built three times, BAD_RANGE
 * choosing the fault: 1, a default outside the range; 2, min above max; 3, a range on a string. */
#include "plume/stage.h"

static int noop_run(void *state, plume_batch *b, plume_error *err) { return 0; }

static const plume_param params[] = {
#if BAD_RANGE == 1
    { "beams", PLUME_INT, "0", "beam search width", PLUME_RANGE(1, 64) },
#elif BAD_RANGE == 2
    { "share", PLUME_FLOAT, "0.5", "a fraction", PLUME_RANGE(1, 0) },
#else
    { "sep", PLUME_STRING, " ", "a separator", PLUME_RANGE(1, 2) },
#endif
    { 0 } };

static const plume_stage noop = {
    .name = "bad.range", .doc = "Never loads.", .params = params, .run = noop_run };

PLUME_MODULE("bad", "1.0", &noop);
