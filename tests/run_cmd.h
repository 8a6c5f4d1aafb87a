/* Running the built `plume` (or any command) from a test: its exit status and all it wrote. */
#ifndef PLUME_TEST_RUN_CMD_H
#define PLUME_TEST_RUN_CMD_H
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Runs cmd through the shell; returns its exit status (-1 if it did not exit) and, in *out, its
 * standard output as a malloc'd string (NULL when out of memory). */
static inline int run_cmd(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    *out = NULL;
    if (!p) return -1;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - 1 - n, p)) > 0) {
        n += got;
        if (n + 1 == cap) {   /* full: grow, so long outputs are read whole */
            char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    if (buf) buf[n] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* run_cmd into a buffer of the caller's: out keeps the first size - 1 bytes of the output. */
static inline int run_cmd_into(const char *cmd, char *out, size_t size) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
#endif
