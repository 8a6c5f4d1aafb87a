/* Files and folders for the tests: a scratch folder under /tmp, whole files read and written, and
 * the entries of a folder (what a command left behind). */
#ifndef PLUME_TEST_FILES_H
#define PLUME_TEST_FILES_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The whole file as a NUL-terminated string (caller frees), its length in *len when len is not
 * NULL; NULL when it does not exist or cannot be read whole. */
static inline char *read_file_len(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    long n = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    char *buf = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

static inline char *read_file(const char *path) {
    return read_file_len(path, NULL);
}

/* Writes text as the whole of path; a test that cannot write its own input stops there. */
static inline void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        perror(path);
        exit(1);
    }
}

/* A fresh folder /tmp/PREFIX-XXXXXX, its path written into dir (size bytes); a test that cannot
 * make one stops there. Returns dir. */
static inline char *make_test_dir(char *dir, size_t size, const char *prefix) {
    snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    return dir;
}

/* Removes a folder and all in it, saying so when it cannot (the test's result stands). */
static inline void remove_tree(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Number of entries in a folder, not counting . and ..; -1 when it cannot be listed. */
static inline int count_entries(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}
#endif
