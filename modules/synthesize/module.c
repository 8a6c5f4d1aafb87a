/* plume-synthesize.so: key elements of the user's writing (the paper's synthesis step). */
#include "plume/stage.h"

extern const plume_stage synthesize_ctx_independent, synthesize_weak_labels, synthesize_ctx;
PLUME_MODULE("synthesize", "1.0", &synthesize_ctx_independent, &synthesize_weak_labels, &synthesize_ctx);
