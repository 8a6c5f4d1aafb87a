/* Graph checks: everything that can be known before a record runs.
 *
 * In order: models (their files exist), stages (known, or loadable from the path given),
 * ports and parameters (declared, typed), slots (one writer each, read only once written,
 * same type on both ends), and the order (no cycle). The first problem is reported with
 * the file:line:column where it was written and, where one is close, the name that was
 * probably meant. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "engine.h"

#define LIST_MAX 256

static int fail_pos(const plume_graph *g, pl_pos p, plume_error *err, const char *msg) {
    return plume_fail(err, "%s:%d:%d: %s", g->path, p.line, p.col, msg);
}

/* "; did you mean 'x'?" or "; <otherwise>" */
static void hint(char *buf, size_t size, const char *name, const char *const *cands, size_t n, const char *otherwise) {
    const char *near = pl_closest(name, cands, n);
    if (near) snprintf(buf, size, "; did you mean '%s'?", near);
    else if (otherwise) snprintf(buf, size, "; %s", otherwise);
    else buf[0] = '\0';
}

static void port_list(char *buf, size_t size, const plume_port *ports) {
    size_t used = 0;
    buf[0] = '\0';
    for (const plume_port *p = ports; p && p->name; p++) {
        int n = snprintf(buf + used, size - used, "%s%s (%s)", used ? ", " : "", p->name, plume_type_name(p->type));
        if (n < 0 || (size_t)n >= size - used) break;
        used += (size_t)n;
    }
    if (!used) snprintf(buf, size, "none");
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Where a missing model's path came from, when the graph wrote it with ${VAR}: the variable
 * to set is what the user needs to know, not only the default's text. Empty when none. */
static void variable_hint(char *buf, size_t size, const char *written) {
    buf[0] = '\0';
    const char *ref = strstr(written, "${");
    if (!ref) return;
    size_t len = strcspn(ref + 2, ":}");
    char name[256];
    if (len == 0 || len >= sizeof name) return;
    memcpy(name, ref + 2, len);
    name[len] = '\0';
    const char *value = getenv(name);
    int n = 0;
    if (value && *value)
        n = snprintf(buf, size, "; the path comes from %s (set to '%s' in the environment): point %s at a GGUF "
                     "file", name, value, name);
    else if (ref[2 + len] == ':')
        n = snprintf(buf, size, "; the path is the default of %s, which is not set: set %s=FILE.gguf to use "
                     "another model", written, name);
    if (n < 0 || (size_t)n >= size) buf[0] = '\0';
}

static int check_models(plume_graph *g, plume_error *err) {
    const char *data = plume_data_dir();
    for (size_t i = 0; i < g->n_models; i++) {
        pl_model *m = &g->models[i];
        char alt[4096];
        const char *found = NULL;
        if (file_exists(m->path)) found = m->path;
        else if (m->path[0] != '/' && snprintf(alt, sizeof alt, "%s/%s", g->dir, m->path) < (int)sizeof alt &&
                 file_exists(alt))
            found = alt;
        /* an installed plume: the shipped graphs name models/x.gguf, installed in share/plume/models */
        else if (m->path[0] != '/' && data &&
                 snprintf(alt, sizeof alt, "%s/%s", data, m->path) < (int)sizeof alt && file_exists(alt))
            found = alt;
        if (!found) {
            char hint[PLUME_ERROR_MAX];
            variable_hint(hint, sizeof hint, m->written ? m->written : "");
            pl_pos p = m->path_pos;
            if (m->path[0] == '/')
                return plume_fail(err, "%s:%d:%d: model '%s': file '%s' does not exist%s", g->path, p.line, p.col,
                                  m->name, m->path, hint);
            return plume_fail(err, "%s:%d:%d: model '%s': file '%s' does not exist (looked in the current folder%s%s "
                              "and in %s)%s", g->path, p.line, p.col, m->name, m->path, data ? ", in " : "",
                              data ? g->dir : "", data ? data : g->dir, hint);
        }
        if (!(m->resolved = pl_strdup(found))) return plume_fail(err, "out of memory");
    }
    return 0;
}

static int resolve_stage(plume_graph *g, pl_node *n, plume_error *err) {
    char msg[PLUME_ERROR_MAX];
    if (n->implicit) {   /* the engine's own request stage, whatever the registry holds */
        n->stage = &pl_request_stage;
        n->module_path = "libplume";
        return 0;
    }
    const char *colon = strrchr(n->use, ':');
    if (colon && colon != n->use && colon[1]) {
        /* use: FILE:stage — the file is relative to the graph's folder. */
        char path[4096], *file = pl_strndup(n->use, (size_t)(colon - n->use));
        if (!file) return plume_fail(err, "out of memory");
        const char *rel = file;
        while (rel[0] == '.' && rel[1] == '/') rel += 2;  /* "./x.so": say dir/x.so in messages */
        if (file[0] == '/') snprintf(path, sizeof path, "%s", file);
        else if (!strcmp(g->dir, ".")) snprintf(path, sizeof path, "./%s", rel);
        else snprintf(path, sizeof path, "%s/%s", g->dir, rel);
        free(file);
        if (pl_registry_load_pinned(g->reg, path, colon + 1, &n->stage, &n->module_path, err)) {
            pl_pos p = n->use_pos;
            return plume_fail_prefix(err, "%s:%d:%d: stage '%s': ", g->path, p.line, p.col, n->name);
        }
        return 0;
    }
    n->stage = plume_registry_find(g->reg, n->use, &n->module_path);
    const char *hidden = n->stage ? plume_registry_hidden(g->reg, n->use) : NULL;
    if (hidden) {  /* a plugin that took a built-in's name: say which file wins, and how to get the other */
        pl_progress_break();
        fprintf(stderr, "plume: warning: %s:%d:%d: stage '%s' uses '%s' from %s, which hides the '%s' of %s "
                "(PLUME_MODULE_PATH is searched first); write use: %s:%s to run the hidden one\n", g->path,
                n->use_pos.line, n->use_pos.col, n->name, n->use, n->module_path, n->use, hidden, hidden, n->use);
    }
    if (n->stage) return 0;
    char h[400];
    const char *near = plume_registry_suggest(g->reg, n->use);
    size_t problems = plume_registry_problem_count(g->reg);
    if (near) snprintf(h, sizeof h, "; did you mean '%s'?", near);
    else if (problems)
        snprintf(h, sizeof h, "; `plume modules` lists the stages there are (%zu module file%s failed to load)",
                 problems, problems == 1 ? "" : "s");
    else snprintf(h, sizeof h, "; `plume modules` lists the stages there are");
    snprintf(msg, sizeof msg, "stage '%s' uses unknown stage '%s'%s", n->name, n->use, h);
    return fail_pos(g, n->use_pos, err, msg);
}

/* Maps each wire of in: (or out:) to a declared port. */
static int match_ports(plume_graph *g, pl_node *n, int output, plume_error *err) {
    const plume_port *ports = output ? n->stage->outputs : n->stage->inputs;
    pl_wire *wires = output ? n->out : n->in;
    size_t nw = output ? n->n_out : n->n_in;
    const char *kind = output ? "output" : "input";
    const char *names[LIST_MAX];
    size_t np = 0;
    for (const plume_port *p = ports; p && p->name && np < LIST_MAX; p++) names[np++] = p->name;
    int *map = malloc((np ? np : 1) * sizeof(int));
    if (!map) return plume_fail(err, "out of memory");
    for (size_t i = 0; i < np; i++) map[i] = -1;
    if (output) n->out_slot = map, n->n_out_ports = np;
    else n->in_slot = map, n->n_in_ports = np;
    for (size_t w = 0; w < nw; w++) {
        size_t k = 0;
        while (k < np && strcmp(names[k], wires[w].port)) k++;
        char msg[PLUME_ERROR_MAX], h[400], list[300];
        if (k == np) {
            port_list(list, sizeof list, ports);
            char otherwise[360];
            snprintf(otherwise, sizeof otherwise, "its %ss are: %s", kind, list);
            hint(h, sizeof h, wires[w].port, names, np, otherwise);
            snprintf(msg, sizeof msg, "stage '%s' (%s) has no %s port '%s'%s", n->name, n->stage->name, kind,
                     wires[w].port, h);
            return fail_pos(g, wires[w].port_pos, err, msg);
        }
        if (map[k] != -1) {
            snprintf(msg, sizeof msg, "%s port '%s' of stage '%s' is wired twice", kind, wires[w].port, n->name);
            return fail_pos(g, wires[w].port_pos, err, msg);
        }
        map[k] = (int)w;  /* a wire index for now; slot indices come later */
    }
    if (!output)
        for (size_t k = 0; k < np; k++)
            if (map[k] == -1 && !(ports[k].flags & PLUME_PORT_OPTIONAL)) {
                char msg[PLUME_ERROR_MAX];
                snprintf(msg, sizeof msg, "stage '%s' (%s) leaves input '%s' (%s) unwired; wire it under in:, "
                         "e.g. in: { %s: SLOT }", n->name, n->stage->name, ports[k].name,
                         plume_type_name(ports[k].type), ports[k].name);
                return fail_pos(g, n->pos, err, msg);
            }
    return 0;
}

static int check_params(plume_graph *g, pl_node *n, plume_error *err) {
    const char *names[LIST_MAX];
    size_t np = 0;
    for (const plume_param *p = n->stage->params; p && p->name && np < LIST_MAX; p++) names[np++] = p->name;
    for (size_t i = 0; i < n->n_with; i++) {
        const pl_setting *s = &n->with[i];
        size_t k = 0;
        while (k < np && strcmp(names[k], s->name)) k++;
        if (k < np) continue;
        char h[400], list[300] = "", msg[PLUME_ERROR_MAX];
        size_t used = 0;
        for (size_t j = 0; j < np; j++) {
            int c = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", names[j]);
            if (c < 0 || (size_t)c >= sizeof list - used) break;
            used += (size_t)c;
        }
        char otherwise[360];
        if (np) snprintf(otherwise, sizeof otherwise, "its parameters are: %s", list);
        else snprintf(otherwise, sizeof otherwise, "it takes no parameters");
        hint(h, sizeof h, s->name, names, np, otherwise);
        if (s->origin)
            return plume_fail(err, "--set %s: stage '%s' (%s) has no parameter '%s'%s", s->origin, n->name,
                              n->stage->name, s->name, h);
        snprintf(msg, sizeof msg, "stage '%s' (%s) has no parameter '%s'%s", n->name, n->stage->name, s->name, h);
        return fail_pos(g, s->key_pos, err, msg);
    }
    n->host.graph = g;
    n->host.node = n->name;
    return pl_args_build(&n->args, g, n, err);
}

static int add_slot(plume_graph *g, const char *name, plume_type type, int writer, pl_pos pos) {
    pl_slot *s = realloc(g->slots, (g->n_slots + 1) * sizeof(pl_slot));
    if (!s) return -1;
    g->slots = s;
    s[g->n_slots] = (pl_slot){ NULL, type, writer, pos };
    if (name && !(s[g->n_slots].name = pl_strdup(name))) return -1;
    return (int)g->n_slots++;
}

static int find_slot(const plume_graph *g, const char *name) {
    for (size_t i = 0; i < g->n_slots; i++)
        if (g->slots[i].name && !strcmp(g->slots[i].name, name)) return (int)i;
    return -1;
}

static size_t slot_names(const plume_graph *g, const char **names) {
    size_t k = 0;
    for (size_t i = 0; i < g->n_slots && k < LIST_MAX; i++)
        if (g->slots[i].name) names[k++] = g->slots[i].name;
    return k;
}

/* A slot read by stage `reader` (or listed under output: when reader is NULL) that no stage writes
 * and the request does not provide: the error where the graph names it, with the closest slot. */
static int fail_never_written(const plume_graph *g, const pl_wire *wire, const char *reader, plume_error *err) {
    const char *names[LIST_MAX];
    size_t ns = slot_names(g, names);
    char h[400], msg[PLUME_ERROR_MAX];
    hint(h, sizeof h, wire->slot, names, ns, "no stage writes it and the request does not provide it");
    if (reader)
        snprintf(msg, sizeof msg, "stage '%s' reads slot '%s', which is never written%s", reader, wire->slot, h);
    else
        snprintf(msg, sizeof msg, "output: lists slot '%s', which is never written%s", wire->slot, h);
    return fail_pos(g, wire->slot_pos, err, msg);
}

static int wire_outputs(plume_graph *g, size_t ni, plume_error *err) {
    pl_node *n = &g->nodes[ni];
    for (size_t k = 0; k < n->n_out_ports; k++) {
        const plume_port *port = &n->stage->outputs[k];
        int w = n->out_slot[k];
        if (w < 0) {  /* unwired: an anonymous slot the stage may fill and nobody reads */
            int s = add_slot(g, NULL, port->type, (int)ni, n->pos);
            if (s < 0) return plume_fail(err, "out of memory");
            n->out_slot[k] = s;
            continue;
        }
        const pl_wire *wire = n->implicit ? NULL : &n->out[w];
        const char *slot = wire ? wire->slot : port->name;
        pl_pos pos = wire ? wire->slot_pos : (pl_pos){ 0, 0 };
        if (!strcmp(slot, "error")) {
            char msg[PLUME_ERROR_MAX];
            snprintf(msg, sizeof msg, "stage '%s' writes slot 'error', a name result lines keep for a failed "
                     "record's message; choose another name", n->name);
            return fail_pos(g, pos, err, msg);
        }
        int prev = find_slot(g, slot);
        if (prev >= 0) {
            char msg[PLUME_ERROR_MAX];
            const pl_slot *ps = &g->slots[prev];
            if (g->nodes[ps->writer].implicit)
                snprintf(msg, sizeof msg, "stage '%s' writes slot '%s', which the request already provides; "
                         "write to another slot name", n->name, slot);
            else
                snprintf(msg, sizeof msg, "slot '%s' is written twice: by stage '%s' here and by stage '%s' at "
                         "line %d, column %d; a slot has one writer, so rename one of them", slot, n->name,
                         g->nodes[ps->writer].name, ps->pos.line, ps->pos.col);
            return fail_pos(g, pos, err, msg);
        }
        int s = add_slot(g, slot, port->type, (int)ni, pos);
        if (s < 0) return plume_fail(err, "out of memory");
        n->out_slot[k] = s;
    }
    return 0;
}

static int add_dep(pl_node *n, int dep) {
    for (size_t i = 0; i < n->n_deps; i++)
        if (n->deps[i] == dep) return 0;
    int *d = realloc(n->deps, (n->n_deps + 1) * sizeof(int));
    if (!d) return -1;
    n->deps = d;
    d[n->n_deps++] = dep;
    return 0;
}

static int wire_inputs(plume_graph *g, size_t ni, plume_error *err) {
    pl_node *n = &g->nodes[ni];
    for (size_t k = 0; k < n->n_in_ports; k++) {
        const plume_port *port = &n->stage->inputs[k];
        int w = n->in_slot[k];
        if (w < 0) continue;
        const pl_wire *wire = &n->in[w];
        int s = find_slot(g, wire->slot);
        if (s < 0) return fail_never_written(g, wire, n->name, err);
        const pl_slot *slot = &g->slots[s];
        if (slot->type != port->type) {
            char msg[PLUME_ERROR_MAX];
            snprintf(msg, sizeof msg, "type mismatch: slot '%s' holds %s (written by stage '%s'), but input '%s' "
                     "of stage '%s' (%s) takes %s; read a %s slot, or put a stage in between that turns %s into %s",
                     wire->slot, plume_type_name(slot->type), g->nodes[slot->writer].name, port->name, n->name,
                     n->stage->name, plume_type_name(port->type), plume_type_name(port->type),
                     plume_type_name(slot->type), plume_type_name(port->type));
            return fail_pos(g, wire->slot_pos, err, msg);
        }
        n->in_slot[k] = s;
        if (add_dep(n, slot->writer)) return plume_fail(err, "out of memory");
    }
    /* Every stage waits for the request reader, even one that reads no request slot,
     * so a record's id is known (and its bad request line rejected) before any stage runs. */
    if (!n->implicit && add_dep(n, 0)) return plume_fail(err, "out of memory");
    return 0;
}

/* Kahn's algorithm; on a cycle, walks it and names its stages in data-flow order. */
static int order_nodes(plume_graph *g, plume_error *err) {
    size_t n = g->n_nodes;
    g->order = malloc(n * sizeof(int));
    char *done = calloc(n, 1);
    if (!g->order || !done) {
        free(done);
        return plume_fail(err, "out of memory");
    }
    size_t count = 0;
    for (int progress = 1; progress && count < n;) {
        progress = 0;
        for (size_t i = 0; i < n; i++) {
            if (done[i]) continue;
            size_t d = 0;
            while (d < g->nodes[i].n_deps && done[g->nodes[i].deps[d]]) d++;
            if (d < g->nodes[i].n_deps) continue;
            done[i] = 1;
            g->order[count++] = (int)i;
            progress = 1;
        }
    }
    if (count == n) {
        free(done);
        return 0;
    }
    /* Walk from the first stuck node along unfinished dependencies until a node repeats. */
    int *path = malloc((n + 1) * sizeof(int));
    size_t *seen_at = malloc(n * sizeof(size_t));
    if (!path || !seen_at) {
        free(path);
        free(seen_at);
        free(done);
        return plume_fail(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) seen_at[i] = (size_t)-1;
    size_t start = 0;
    while (done[start]) start++;
    size_t len = 0;
    int cur = (int)start;
    while (seen_at[cur] == (size_t)-1) {
        seen_at[cur] = len;
        path[len++] = cur;
        const pl_node *nd = &g->nodes[cur];
        size_t d = 0;
        while (done[nd->deps[d]]) d++;  /* a stuck node has an unfinished dependency */
        cur = nd->deps[d];
    }
    /* The cycle is path[seen_at[cur] .. len-1], in reverse data-flow order; print it forwards,
     * starting from the stage declared first. */
    size_t first = seen_at[cur], clen = len - first, best = first;
    for (size_t i = first; i < len; i++)
        if (path[i] < path[best]) best = i;
    char msg[PLUME_ERROR_MAX] = "stages ";
    size_t used = strlen(msg);
    for (size_t step = 0; step <= clen; step++) {
        size_t idx = first + (best - first + clen - (step % clen)) % clen;
        int c = snprintf(msg + used, sizeof msg - used, "%s'%s'", step ? " -> " : "", g->nodes[path[idx]].name);
        if (c < 0 || (size_t)c >= sizeof msg - used) break;
        used += (size_t)c;
    }
    snprintf(msg + used, sizeof msg - used, " form a cycle: each reads a slot the one before it writes; "
             "break the loop by reading a slot computed earlier");
    pl_pos p = g->nodes[path[best]].pos;
    free(path);
    free(seen_at);
    free(done);
    return fail_pos(g, p, err, msg);
}

static int pick_outputs(plume_graph *g, plume_error *err) {
    g->outputs = malloc((g->n_slots ? g->n_slots : 1) * sizeof(int));
    if (!g->outputs) return plume_fail(err, "out of memory");
    if (!g->sink) {
        for (size_t i = 0; i < g->n_slots; i++)
            if (g->slots[i].name && !g->nodes[g->slots[i].writer].implicit) g->outputs[g->n_outputs++] = (int)i;
        return 0;
    }
    for (size_t i = 0; i < g->sink->n_in; i++) {
        const pl_wire *w = &g->sink->in[i];
        int s = find_slot(g, w->slot);
        if (s < 0) return fail_never_written(g, w, NULL, err);
        if (s == g->id_slot) continue;  /* every line has the id anyway */
        size_t k = 0;
        while (k < g->n_outputs && g->outputs[k] != s) k++;
        if (k == g->n_outputs) g->outputs[g->n_outputs++] = s;
    }
    return 0;
}

int pl_graph_check(plume_graph *g, plume_error *err) {
    if (check_models(g, err)) return -1;
    for (size_t i = 0; i < g->n_nodes; i++) {
        pl_node *n = &g->nodes[i];
        if (resolve_stage(g, n, err) || match_ports(g, n, 0, err) || match_ports(g, n, 1, err)) return -1;
        if (n->implicit)  /* the request reader writes each of its outputs to the slot of the same name */
            for (size_t k = 0; k < n->n_out_ports; k++) n->out_slot[k] = 0;
        if (check_params(g, n, err)) return -1;
    }
    for (size_t i = 0; i < g->n_nodes; i++)
        if (wire_outputs(g, i, err)) return -1;
    g->id_slot = find_slot(g, "id");
    for (size_t i = 0; i < g->n_nodes; i++)
        if (wire_inputs(g, i, err)) return -1;
    if (order_nodes(g, err)) return -1;
    return pick_outputs(g, err);
}

size_t plume_graph_stage_count(const plume_graph *g) {
    return g->n_nodes - 1;
}

const char *plume_graph_stage_name(const plume_graph *g, size_t i) {
    /* in run order, without the request reader (always first) */
    return i + 1 < g->n_nodes ? g->nodes[g->order[i + 1]].name : NULL;
}

size_t plume_graph_output_count(const plume_graph *g) {
    return g->n_outputs;
}

const char *plume_graph_output(const plume_graph *g, size_t i) {
    return i < g->n_outputs ? g->slots[g->outputs[i]].name : NULL;
}
