/* Starting and stopping a graph's stages: create() in the graph's order, destroy() for each
 * one that started. `plume run` does this around its batches; `plume check` does it alone,
 * so that a stage refusing its parameters or its model is caught before any record runs. */
#include <stdlib.h>
#include "engine.h"

int pl_stages_create(plume_graph *g, void **states, char *started, plume_error *err) {
    for (size_t k = 0; k < g->n_nodes; k++) {
        int i = g->order[k];
        pl_node *n = &g->nodes[i];
        states[i] = calloc(1, n->stage->state_size ? n->stage->state_size : 1);
        if (!states[i]) return plume_fail(err, "out of memory creating stage '%s'", n->name);
        if (n->stage->create) {
            plume_error e = { "" };
            pl_crash_enter(i, PL_CRASH_CREATE);
            int rc = n->stage->create(states[i], &n->args, &n->host, &e);
            pl_crash_leave();
            if (rc)
                return plume_fail(err, "%s:%d:%d: stage '%s' (%s) could not start: %s", g->path, n->pos.line,
                                  n->pos.col, n->name, n->stage->name, e.msg[0] ? e.msg : "no reason given");
        }
        started[i] = 1;
    }
    return 0;
}

void pl_stages_destroy(plume_graph *g, void **states, const char *started) {
    for (size_t i = 0; i < g->n_nodes; i++) {
        if (states[i] && started[i] && g->nodes[i].stage->destroy) {
            pl_crash_enter((int)i, PL_CRASH_DESTROY);
            g->nodes[i].stage->destroy(states[i]);
            pl_crash_leave();
        }
        free(states[i]);
        states[i] = NULL;
    }
}

int plume_graph_start_stages(plume_graph *g, plume_error *err) {
    void **states = calloc(g->n_nodes, sizeof *states);
    char *started = calloc(g->n_nodes, 1);
    pl_crash_arm(g);
    int rc = states && started ? pl_stages_create(g, states, started, err) : plume_fail(err, "out of memory");
    if (states && started) pl_stages_destroy(g, states, started);
    pl_crash_disarm();
    free(states);
    free(started);
    return rc;
}
