/* plume-eval.so: evaluation stages. */
#include "plume/stage.h"

extern const plume_stage eval_metrics;
PLUME_MODULE("eval", "1.0", &eval_metrics);
