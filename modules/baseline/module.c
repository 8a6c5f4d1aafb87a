/* The baseline module: model-free writers that anchor every results table. */
#include "plume/stage.h"

extern const plume_stage baseline_copy;

PLUME_MODULE("baseline", "1.0", &baseline_copy);
