/* plume-summarize.so: summaries of the ranked entries (model-free ones, and summarize.ctx by the model). */
#include "plume/stage.h"

extern const plume_stage summarize_ctx_independent, summarize_weak_labels, summarize_ctx;
PLUME_MODULE("summarize", "1.0", &summarize_ctx_independent, &summarize_weak_labels, &summarize_ctx);
