/* The io module: where records come from. */
#include "plume/stage.h"

extern const plume_stage io_request, io_docs_file;

PLUME_MODULE("io", "1.0", &io_request, &io_docs_file);
