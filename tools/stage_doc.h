/* What `plume modules` derives from a stage's static description, shared by its text and
 * Markdown outputs: a parameter's default as one would type it in YAML, and a graph line that
 * uses the stage. */
#ifndef PLUME_TOOLS_STAGE_DOC_H
#define PLUME_TOOLS_STAGE_DOC_H
#include <stdio.h>
#include "plume/stage.h"

/* Writes a parameter's default (YAML text) as it would be typed in a graph: strings and model
 * names quoted, with control characters, quotes and backslashes escaped. */
void stage_doc_default(FILE *f, plume_type type, const char *fallback);

/* Writes a graph line that uses the stage, without indentation or newline:
 * `my_NAME: { use: STAGE, in: { PORT: SLOT }, out: { PORT: NEW_SLOT }, with: { REQUIRED: VALUE } }`.
 * Optional inputs and parameters with a default are left out. */
void stage_doc_example(FILE *f, const plume_stage *s);

/* The last part of a module's file path (the file name a listing shows, whatever the folder). */
const char *stage_doc_file_name(const char *path);

#endif
