/* The io module: documents from files. (Requests are read by the engine itself: its request
 * stage is built into libplume.) */
#include "plume/stage.h"

extern const plume_stage io_docs_file;

PLUME_MODULE("io", "1.0", &io_docs_file);
