/* Fuzz targets import_stackexchange, import_git, import_mbox: bytes as an importer's input file
 * → PLUME_FUZZ_IMPORT, the importer named by the build (corpus lines to /dev/null). An importer
 * skips bad records and counts them; it fails only when the file cannot be read, so on any bytes
 * it must return 0 with read >= written. */
#include <stdio.h>
#include <stdlib.h>
#include "corpus.h"
#include "fuzz.h"

static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    if (!(sink = fopen("/dev/null", "w"))) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0;
    const char *path = fuzz_file(data, size);
    if (!path) return 0;
    plume_import_stats st = { 0 };
    plume_error err;
    if (PLUME_FUZZ_IMPORT(path, sink, &st, &err) != 0) {
        fprintf(stderr, "import failed on a readable file: %s\n", err.msg);
        abort();
    }
    if (st.written > st.read) abort();
    fuzz_file_close();
    return 0;
}
