/* Small helpers shared by the tests in tests/lm. */
#ifndef PLUME_TEST_LM_UTIL_H
#define PLUME_TEST_LM_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *test_data_dir(void) {
    const char *d = getenv("PLUME_TEST_DATA");
    return d && *d ? d : "tests/data";
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
