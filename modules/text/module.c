/* The text module: small stages that glue pipelines together (join, cut, take, join documents). */
#include "plume/stage.h"

extern const plume_stage text_join, text_truncate, docs_take, docs_join_stage;

PLUME_MODULE("text", "1.0", &text_join, &text_truncate, &docs_take, &docs_join_stage);
