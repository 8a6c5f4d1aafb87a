/* plume graph GRAPH --dot: the pipeline as Graphviz DOT (`| dot -Tsvg > graph.svg`). */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "plume/plume.h"

int cmd_graph(int argc, char **argv) {
    cli_sets sets = { .count = 0 };
    const char *graph = NULL;
    int dot = 0;
    for (int i = 1; i < argc; i++) {
        int k = cli_take_set(argc, argv, &i, &sets);
        if (k < 0) return 2;
        if (k) continue;
        if (!strcmp(argv[i], "--dot")) {
            dot = 1;
            continue;
        }
        int help = !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
        if (help || argv[i][0] == '-' || graph) {
            fprintf(help ? stdout : stderr,
                    "usage: plume graph GRAPH --dot [--set STAGE.PARAM=VALUE]...\n\n"
                    "Prints the checked graph as Graphviz DOT: stages are boxes, slots are edges.\n"
                    "  plume graph graphs/default.yaml --dot | dot -Tsvg > default.svg\n");
            return help ? 0 : 2;
        }
        graph = argv[i];
    }
    if (!graph || !dot) {
        fprintf(stderr, "usage: plume graph GRAPH --dot [--set STAGE.PARAM=VALUE]...\n");
        return 2;
    }
    plume_registry *reg;
    plume_graph *g = cli_load_graph(graph, &sets, &reg);
    if (!g) return 1;
    plume_error err;
    int rc = 0;
    if (plume_graph_write_dot(g, stdout, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        rc = 1;
    }
    plume_graph_free(g);
    plume_registry_close(reg);
    return rc;
}
