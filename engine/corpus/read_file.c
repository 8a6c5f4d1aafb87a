/* Reading a whole input file, with a size cap so a wrong path cannot exhaust memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "corpus_internal.h"

char *corpus_read_file(const char *path, size_t cap, size_t *len, plume_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        plume_fail(err, "%s: cannot open: %s (hint: check the path)", path, strerror(errno));
        return NULL;
    }
    size_t n = 0, alloc = 1 << 16;
    char *buf = malloc(alloc);
    while (buf) {
        if (n + 1 >= alloc) {
            if (alloc >= cap) {
                plume_fail(err, "%s: larger than the %zu MiB an importer reads (hint: split the input)", path, cap >> 20);
                free(buf);
                buf = NULL;
                break;
            }
            size_t na = alloc * 2 > cap ? cap : alloc * 2;
            char *p = realloc(buf, na);
            if (!p) {
                free(buf);
                buf = NULL;
                plume_fail(err, "%s: out of memory reading it", path);
                break;
            }
            buf = p;
            alloc = na;
        }
        size_t got = fread(buf + n, 1, alloc - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                plume_fail(err, "%s: read error: %s", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (!buf && err && !err->msg[0]) plume_fail(err, "%s: out of memory reading it", path);
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}
