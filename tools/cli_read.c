/* Reading a whole input file, or standard input, for the commands that take a text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

cli_read_status cli_read_whole(const char *path, size_t max_bytes, char **text, size_t *len) {
    *text = NULL;
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return CLI_READ_CANNOT_OPEN;
    cli_read_status st = CLI_READ_OK;
    size_t cap = 4096, n = 0, got;
    char *s = malloc(cap);
    if (!s) st = CLI_READ_NO_MEMORY;
    /* The buffer keeps one byte free for the NUL: filling it to cap - 1 means there may be more. */
    while (s && (got = fread(s + n, 1, cap - 1 - n, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            if (cap >= max_bytes) {
                st = CLI_READ_TOO_LARGE;
                break;
            }
            char *t = realloc(s, cap * 2);
            if (!t) {
                st = CLI_READ_NO_MEMORY;
                break;
            }
            s = t;
            cap *= 2;
        }
    }
    if (st == CLI_READ_OK && ferror(f)) st = CLI_READ_FAILED;
    if (f != stdin) fclose(f);
    if (st != CLI_READ_OK) {
        free(s);
        return st;
    }
    s[n] = '\0';
    *text = s;
    if (len) *len = n;
    return CLI_READ_OK;
}
