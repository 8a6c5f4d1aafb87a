/* The one capped line reader (see plume/read_line.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

int plume_line_open(plume_line_reader *r, const char *path, size_t max, plume_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(r, 0, sizeof *r);
        return plume_fail(err, "%s: cannot open: %s", path, strerror(errno));
    }
    plume_line_attach(r, f, path, max);
    r->owns_file = 1;
    return 0;
}

void plume_line_attach(plume_line_reader *r, FILE *f, const char *path, size_t max) {
    memset(r, 0, sizeof *r);
    r->f = f;
    r->path = path;
    r->max = max;
}

int plume_line_next(plume_line_reader *r, char **line, size_t *len, plume_error *err) {
    errno = 0;
    ssize_t got = plume_read_line(r->f, &r->buf, &r->cap, r->max, &r->too_long);
    if (got == -2) return plume_fail(err, "%s:%zu: out of memory reading a line", r->path, r->line_no + 1);
    if (got == -1) {
        if (ferror(r->f))
            return plume_fail(err, "%s:%zu: read error: %s", r->path, r->line_no + 1,
                              strerror(errno ? errno : EIO));
        return 0;
    }
    r->line_no++;
    *line = r->buf;
    *len = (size_t)got;
    if (r->too_long)
        return plume_fail(err, "%s:%zu: a line longer than %zu bytes", r->path, r->line_no, r->max);
    return 1;
}

void plume_line_close(plume_line_reader *r) {
    if (r->owns_file && r->f) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

int plume_line_is_blank(const char *line, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') return 0;
    return 1;
}
