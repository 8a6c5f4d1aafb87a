/* plume — files: folders made on the way, and outputs written whole or not at all.
 *
 * Part of libplume's runtime, but about files only (no graph), so the device layer (its tuning
 * cache) and the importers use it as the runtime does. plume/plume.h includes it. */
#ifndef PLUME_FILE_H
#define PLUME_FILE_H

#include <stdio.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mkdir -p: creates every missing folder of path (mode 0777 less the umask). 0, or -1 with
 * errno set by the mkdir that failed. */
PLUME_API int plume_make_dirs(const char *path);
/* A file written whole or not at all. The bytes go to a temporary file in the output's folder
 * (with no name at all where the file system allows, so a killed process leaves nothing);
 * plume_output_commit puts it on the disk (fflush, fsync) and renames it over `path`, and only
 * then does `path` change. plume_output_abort, or any failure, removes the temporary file and
 * leaves `path` as it was. A NULL path or "-" writes to standard output (nothing to rename).
 *
 *     plume_output_file o;
 *     if (plume_output_open(&o, "out.jsonl", &err)) return -1;
 *     fprintf(o.f, ...);
 *     return bad ? (plume_output_abort(&o), -1) : plume_output_commit(&o, &err);
 *
 * Test hook: with PLUME_TEST_STOP_BEFORE_COMMIT=SUFFIX in the environment, the process stops
 * itself (SIGSTOP) in plume_output_commit of a file whose path ends with SUFFIX, before the last
 * bytes are flushed, so a test can kill it at a known point mid-write
 * (tests/faults/test_atomic_writes.c). */
typedef struct plume_output_file {
    FILE *f;       /* write here */
    char *path;    /* the output (a copy); NULL: standard output */
    char *tmp;     /* the temporary file's name (the name it will get, while it has none) */
    int anon;      /* the temporary file has no name yet (O_TMPFILE) */
} plume_output_file;
PLUME_API int  plume_output_open(plume_output_file *o, const char *path, plume_error *err);
PLUME_API int  plume_output_commit(plume_output_file *o, plume_error *err);
PLUME_API void plume_output_abort(plume_output_file *o);

#ifdef __cplusplus
}
#endif
#endif
