/* A module that needs a function nobody provides (as one built against a newer libplume, or
 * linked without one of its libraries): dlopen(RTLD_NOW) must refuse it with the symbol's name. */
#include "plume/stage.h"

void plume_fault_no_such_function(void);

static const plume_port text_in[] = { { "text", PLUME_TEXT, "any text", 0 }, { 0 } };

static int run(void *state, plume_batch *b, plume_error *err) {
    plume_fault_no_such_function();
    return 0;
}

static const plume_stage missing = {
    .name = "missing.call", .doc = "Calls a function that does not exist.", .inputs = text_in, .run = run,
};

PLUME_MODULE("missing", "1.0", &missing);
