/* plume-generate.so: the generator stage. */
#include "plume/stage.h"

extern const plume_stage generate_lm;
PLUME_MODULE("generate", "1.0", &generate_lm);
