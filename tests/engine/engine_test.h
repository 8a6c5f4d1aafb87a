/* Helpers for the engine tests: a temporary folder, files (test_files.h), and a registry with the test plugins. */
#ifndef PLUME_ENGINE_TEST_H
#define PLUME_ENGINE_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plume/plume.h"
#include "test_files.h"

static char test_dir[256];

/* A fresh folder under /tmp, removed by test_cleanup(). */
static inline const char *test_tmpdir(void) {
    return make_test_dir(test_dir, sizeof test_dir, "plume-test");
}

static inline void test_cleanup(void) {
    if (test_dir[0]) remove_tree(test_dir);
}

/* Runs graph g on one request (its JSON text) into the results file out. The file's text (caller
 * frees), or NULL with the error in *err when the run fails. */
static inline char *run_request(plume_graph *g, const char *request, const char *out, plume_error *err) {
    plume_run_options opt = plume_run_defaults();
    opt.request = request;
    opt.out = out;
    plume_run_report rep;
    if (plume_run(g, &opt, &rep, err)) return NULL;
    return read_file(out);
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

#endif
