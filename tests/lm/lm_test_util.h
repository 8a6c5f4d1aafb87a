/* Small helpers shared by the tests in tests/lm. */
#ifndef PLUME_TEST_LM_UTIL_H
#define PLUME_TEST_LM_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plume/lm.h"

/* The shipped stories260K model (models/, under PLUME_SOURCE_DIR), or NULL after saying why. */
static inline plume_lm *acquire_stories260k(void) {
    char path[1024];
    const char *src = getenv("PLUME_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/models/stories260K.gguf", src ? src : ".");
    plume_error err;
    plume_lm *lm = plume_lm_acquire(path, &err);
    if (!lm) fprintf(stderr, "%s\n", err.msg);
    return lm;
}

static inline const char *test_data_dir(void) {
    const char *d = getenv("PLUME_TEST_DATA");
    return d && *d ? d : "tests/data";
}

/* A reference logits file (llama.cpp's, tests/data/reference): exactly n floats, in a malloc'd
 * array; NULL when it is missing, shorter or longer. */
static inline float *read_reference_floats(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    float *v = malloc(n * sizeof *v);
    size_t got = v ? fread(v, sizeof *v, n, f) : 0;
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != n || extra) {
        free(v);
        return NULL;
    }
    return v;
}

/* The text of the first ``` fenced block of a SOURCE.md, without its last newline. */
static inline char *read_published_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *a = strstr(buf, "```\n");
    if (!a) return NULL;
    a += 4;
    char *b = strstr(a, "\n```");
    if (!b) return NULL;
    size_t len = (size_t)(b - a);
    char *out = malloc(len + 1);
    if (!out) return NULL;
    memcpy(out, a, len);
    out[len] = 0;
    return out;
}
#endif
