/* `plume modules --markdown`: the reference of every stage a registry holds, as Markdown
 * (docs/stages.md is this output, checked in). */
#ifndef PLUME_TOOLS_MODULES_MARKDOWN_H
#define PLUME_TOOLS_MODULES_MARKDOWN_H
#include <stdio.h>
#include "plume/plume.h"

/* Writes the reference of every stage of `reg`, in the registry's order. Module files are named
 * by their file name alone, so that the text is the same whichever folder plume runs from.
 * Returns 0, or -1 when writing to `f` failed. */
int modules_write_markdown(const plume_registry *reg, FILE *f);

#endif
