/* Fuzz targets import_stackexchange, import_git, import_mbox: bytes as an importer's input file
 * → PLUME_FUZZ_IMPORT, the importer named by the build (corpus lines to /dev/null). An importer
 * skips bad records and counts them; it fails only when the file cannot be read or (Stack Exchange)
 * its document type declares entities, so on any other bytes it must return 0 with read >= written,
 * and every document it writes must fit the --max-doc-bytes cap (here 4096 bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "plume/corpus.h"
#include "fuzz.h"

#define FUZZ_DOC_CAP 4096

int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

/* Each corpus line: title + text within the cap. */
static void check_caps(const char *lines, size_t len) {
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(lines + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - lines) : len;
        json_t *o = json_loadb(lines + i, e - i, 0, NULL);
        if (!o) abort();
        size_t n = json_string_length(json_object_get(o, "title")) + json_string_length(json_object_get(o, "text"));
        json_decref(o);
        if (n > FUZZ_DOC_CAP) {
            fprintf(stderr, "a document of %zu bytes passed the %d-byte cap\n", n, FUZZ_DOC_CAP);
            abort();
        }
        i = e + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0;
    const char *path = fuzz_file(data, size);
    if (!path) return 0;
    plume_import_stats st = { .max_doc_bytes = FUZZ_DOC_CAP };
    plume_error err = { { 0 } };
    char *lines = NULL;
    size_t len = 0;
    FILE *sink = open_memstream(&lines, &len);
    if (!sink) abort();
    int rc = PLUME_FUZZ_IMPORT(path, sink, &st, &err);
    fclose(sink);
    if (rc != 0 && !strstr(err.msg, "the document type declares entities")) {
        fprintf(stderr, "import failed on a readable file: %s\n", err.msg);
        abort();
    }
    if (rc != 0 && (st.read || len)) abort();   /* a refused file is refused before any row */
    if (st.written > st.read) abort();
    check_caps(lines, len);
    free(lines);
    fuzz_file_close();
    return 0;
}
