/* Option parsing shared by the engine subcommands. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

const char *cli_value(int argc, char **argv, int *i, const char *name, int *missing) {
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n)) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n]) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "plume: %s needs a value\n", name);
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int cli_take_set(int argc, char **argv, int *i, cli_sets *sets) {
    int missing = 0;
    const char *v = cli_value(argc, argv, i, "--set", &missing);
    if (missing) return -1;
    if (!v) return 0;
    if (sets->count == CLI_SETS_MAX) {
        fprintf(stderr, "plume: more than %d --set options\n", CLI_SETS_MAX);
        return -1;
    }
    sets->items[sets->count++] = v;
    return 1;
}

plume_graph *cli_load_graph(const char *path, const cli_sets *sets, plume_registry **reg) {
    plume_error err;
    if (!(*reg = plume_registry_open(&err))) {
        fprintf(stderr, "plume: %s\n", err.msg);
        return NULL;
    }
    plume_graph *g = plume_graph_load(*reg, path, sets->items, sets->count, &err);
    if (!g) {
        fprintf(stderr, "%s\n", err.msg);
        plume_registry_close(*reg);
        *reg = NULL;
    }
    return g;
}

void cli_print_embed_counts(FILE *f, const char *who, const plume_embed_counts *before, const plume_embed_counts *after) {
    unsigned long long looked = after->looked_up - before->looked_up, made = after->embedded - before->embedded,
                       passes = after->passes - before->passes, loaded = after->loaded - before->loaded;
    if (!looked && !made) return;
    fprintf(f, "%s: embeddings: %llu texts looked up, %llu embedded anew in %llu forward pass%s", who, looked, made,
            passes, passes == 1 ? "" : "es");
    if (loaded) fprintf(f, ", %llu read from cache files", loaded);
    fputc('\n', f);
}
