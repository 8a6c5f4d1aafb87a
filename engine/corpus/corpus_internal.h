/* Helpers the importers share inside libplume. */
#ifndef PLUME_CORPUS_INTERNAL_H
#define PLUME_CORPUS_INTERNAL_H
#include <stddef.h>
#include "plume/corpus.h"

/* The largest input an importer reads whole (git log, mbox): 1 GiB. */
#define CORPUS_MAX_FILE ((size_t)1 << 30)
#define CORPUS_MAX_LINE PLUME_LINE_MAX   /* one corpus document line, as a request line */

/* The file's bytes, NUL-terminated; *len their count. NULL with err set. */
char *corpus_read_file(const char *path, size_t cap, size_t *len, plume_error *err);
#endif
