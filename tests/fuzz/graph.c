/* Fuzz target: YAML graph text → plume_graph_parse (parsing, ${VAR} substitution, every
 * check) with the built-in modules loaded, then the DOT writer on what parses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "plume/plume.h"

static plume_registry *reg;

static int contains(const uint8_t *data, size_t size, const char *s) {
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= size; i++)
        if (!memcmp(data + i, s, k)) return 1;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    plume_error err;
    if (!(reg = plume_registry_open(&err))) {
        fprintf(stderr, "fuzz_graph: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A graph may name a module file to dlopen; the graph's folder does not exist, but an
     * absolute path would load real code, which is not the parser under test. */
    if (contains(data, size, ".so")) return 0;
    plume_error err;
    plume_graph *g = plume_graph_parse(reg, (const char *)data, size, "fuzz.yaml", "/nonexistent-plume-fuzz",
                                       NULL, 0, &err);
    if (!g) {
        if (!err.msg[0]) abort();   /* every failure says why */
        return 0;
    }
    FILE *dot = fopen("/dev/null", "w");
    if (dot) {
        plume_graph_write_dot(g, dot, &err);
        fclose(dot);
    }
    for (size_t i = 0; i < plume_graph_stage_count(g); i++)
        if (!plume_graph_stage_name(g, i)) abort();
    plume_graph_free(g);
    return 0;
}
