/* `plume graph --dot`: the pipeline as Graphviz DOT. Nodes are stages (the request reader
 * and the result included), edges are slots, labelled with the slot's name and type. */
#include <string.h>
#include "engine.h"

static void quoted(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if (*s == '\n') { fputs("\\n", f); continue; }
        fputc(*s, f);
    }
    fputc('"', f);
}

static void edge(FILE *f, const plume_graph *g, int slot, const char *to) {
    const pl_slot *s = &g->slots[slot];
    fputs("  ", f);
    quoted(f, g->nodes[s->writer].name);
    fputs(" -> ", f);
    quoted(f, to);
    fprintf(f, " [label=");
    char label[512];
    snprintf(label, sizeof label, "%s (%s)", s->name, plume_type_name(s->type));
    quoted(f, label);
    fputs("];\n", f);
}

int plume_graph_write_dot(const plume_graph *g, FILE *f, plume_error *err) {
    fputs("digraph ", f);
    quoted(f, g->path);
    fputs(" {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n"
          "  edge [fontname=\"sans-serif\", fontsize=10];\n", f);
    for (size_t k = 0; k < g->n_nodes; k++) {
        const pl_node *n = &g->nodes[g->order[k]];
        char label[512];
        snprintf(label, sizeof label, "%s\n%s", n->name, n->stage->name);
        fputs("  ", f);
        quoted(f, n->name);
        fputs(" [label=", f);
        quoted(f, label);
        fputs(n->implicit ? ", shape=ellipse];\n" : "];\n", f);
    }
    fputs("  \"result\" [shape=ellipse, label=\"result\"];\n", f);
    for (size_t k = 0; k < g->n_nodes; k++) {
        const pl_node *n = &g->nodes[g->order[k]];
        for (size_t p = 0; p < n->n_in_ports; p++) {
            int s = n->in_slot[p];
            if (s < 0) continue;
            int dup = 0;  /* two ports reading one slot: one edge */
            for (size_t q = 0; q < p; q++) dup |= n->in_slot[q] == s;
            if (!dup) edge(f, g, s, n->name);
        }
    }
    for (size_t i = 0; i < g->n_outputs; i++) edge(f, g, g->outputs[i], "result");
    fputs("}\n", f);
    if (fflush(f) || ferror(f)) return plume_fail(err, "cannot write the DOT output");
    return 0;
}
