/* Helpers for the engine tests: temporary folders, files, and a registry with the test plugins. */
#ifndef PLUME_ENGINE_TEST_H
#define PLUME_ENGINE_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plume/plume.h"

static char test_dir[256];

/* A fresh folder under /tmp, removed by test_cleanup(). */
static inline const char *test_tmpdir(void) {
    snprintf(test_dir, sizeof test_dir, "/tmp/plume-test-XXXXXX");
    if (!mkdtemp(test_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    return test_dir;
}

static inline void test_cleanup(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
    if (test_dir[0] && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", test_dir);
}

static inline void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        perror(path);
        exit(1);
    }
}

/* The whole file (caller frees), or NULL when it does not exist. */
static inline char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Built-in modules plus the test plugins (through PLUME_MODULE_PATH, as a user would). */
static inline plume_registry *test_registry(void) {
    setenv("PLUME_MODULE_PATH", TEST_PLUGIN_DIR, 1);
    plume_error err;
    plume_registry *reg = plume_registry_open(&err);
    if (!reg) {
        fprintf(stderr, "registry: %s\n", err.msg);
        exit(1);
    }
    return reg;
}

/* Number of entries in a folder, not counting . and .. */
static inline int count_entries(const char *dir) {
    char cmd[512];
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
