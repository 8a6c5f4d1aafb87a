/* plume-prompt.so: the generator's input, laid out as the paper lays it out. */
#include "plume/stage.h"

extern const plume_stage prompt_compose;
PLUME_MODULE("prompt", "1.0", &prompt_compose);
