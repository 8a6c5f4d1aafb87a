/* Reading a whole input file, or standard input, for the commands that take a text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

typedef enum read_status { READ_OK, READ_TOO_LARGE, READ_FAILED, READ_NO_MEMORY } read_status;

/* The whole of the open stream f into *text, at most max_bytes - 2 bytes. */
static read_status read_stream(FILE *f, size_t max_bytes, char **text, size_t *len) {
    *text = NULL;
    read_status st = READ_OK;
    size_t cap = 4096, n = 0, got;
    char *s = malloc(cap);
    if (!s) st = READ_NO_MEMORY;
    /* The buffer keeps one byte free for the NUL: filling it to cap - 1 means there may be more. */
    while (s && (got = fread(s + n, 1, cap - 1 - n, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            if (cap >= max_bytes) {
                st = READ_TOO_LARGE;
                break;
            }
            char *t = realloc(s, cap * 2);
            if (!t) {
                st = READ_NO_MEMORY;
                break;
            }
            s = t;
            cap *= 2;
        }
    }
    if (st == READ_OK && ferror(f)) st = READ_FAILED;
    if (st != READ_OK) {
        free(s);
        return st;
    }
    s[n] = '\0';
    *text = s;
    *len = n;
    return READ_OK;
}

char *cli_read_whole(const char *command, const char *what, const char *path, size_t max_bytes, size_t *len) {
    const char *space = *what ? " " : "";
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "%s: cannot open %s%s%s: %s\n", command, what, space, path, strerror(errno));
        return NULL;
    }
    char *text;
    size_t n;
    read_status st = read_stream(f, max_bytes, &text, &n);
    if (f != stdin) fclose(f);
    switch (st) {
    case READ_OK:
        if (len) *len = n;
        return text;
    case READ_TOO_LARGE:
        fprintf(stderr, "%s: %s%s%s is larger than %zu MiB\n", command, what, space, path, max_bytes >> 20);
        break;
    case READ_FAILED:
        fprintf(stderr, "%s: cannot read %s%s%s\n", command, what, space, path);
        break;
    case READ_NO_MEMORY:
        fprintf(stderr, "%s: out of memory reading %s%s%s\n", command, what, space, path);
        break;
    }
    return NULL;
}
