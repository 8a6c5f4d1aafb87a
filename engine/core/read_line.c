/* The one capped line reader (see plume/read_line.h). */
#include <stdlib.h>
#include "plume/read_line.h"

ssize_t plume_read_line(FILE *f, char **buf, size_t *cap, size_t max, int *too_long) {
    size_t len = 0;
    int c, any = 0;
    *too_long = 0;
    if (!*buf || *cap < 2) {
        char *p = realloc(*buf, 256);
        if (!p) return -2;
        *buf = p;
        *cap = 256;
    }
    while ((c = getc_unlocked(f)) != EOF) {
        any = 1;
        if (len >= max) {
            *too_long = 1;             /* keep reading to the end of the line, storing nothing */
        } else {
            if (len + 2 > *cap) {
                size_t n = *cap * 2 > max + 1 ? max + 1 : *cap * 2;
                if (n < len + 2) n = len + 2;
                char *p = realloc(*buf, n);
                if (!p) return -2;
                *buf = p;
                *cap = n;
            }
            (*buf)[len++] = (char)c;
        }
        if (c == '\n') break;
    }
    if (!any) return -1;
    (*buf)[len] = '\0';
    return (ssize_t)len;
}
