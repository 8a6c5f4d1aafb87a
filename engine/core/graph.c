/* Graphs: YAML in, a list of nodes out, every value remembering where it was written.
 *
 *     plume: 1
 *     models:  { NAME: { path: FILE } }
 *     stages:  { NAME: { use: STAGE, in: { PORT: SLOT }, out: { PORT: SLOT }, with: { PARAM: VALUE } } }
 *     output:  [ SLOT, ... ]            # optional
 *
 * libyaml's document API keeps each node's line and column, which every later error uses.
 * Scalars get ${VAR} / ${VAR:-default} substituted here; --set overrides are appended as
 * settings after the file's own, so they win. The checks are in graph_check.c. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "engine.h"

#define GRAPH_FILE_MAX (16u << 20)

typedef struct parse_ctx {
    yaml_document_t doc;
    plume_graph *g;
    plume_error *err;
} parse_ctx;

static pl_pos pos_of(const yaml_node_t *n) {
    return (pl_pos){ (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
}

static int fail_at(parse_ctx *c, const yaml_node_t *n, const char *fmt, const char *a, const char *b,
                   const char *hint) {
    char what[PLUME_ERROR_MAX / 2];
    snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "");
    pl_pos p = pos_of(n);
    if (hint) return plume_fail(c->err, "%s:%d:%d: %s; %s", c->g->path, p.line, p.col, what, hint);
    return plume_fail(c->err, "%s:%d:%d: %s", c->g->path, p.line, p.col, what);
}

static const char *kind_name(const yaml_node_t *n) {
    return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

/* ${VAR} and ${VAR:-default}: the environment, or the default when VAR is unset or empty. */
static char *substitute(parse_ctx *c, const yaml_node_t *n) {
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length, cap = len + 64, used = 0;
    char *out = malloc(cap);
    if (!out) return plume_fail(c->err, "out of memory"), NULL;
    for (size_t i = 0; i < len;) {
        const char *piece = s + i;
        size_t plen = 1;
        char name[256];
        if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            const char *close = memchr(s + i, '}', len - i);
            if (!close) {
                free(out);
                fail_at(c, n, "'${' without a closing '}' in \"%s\"", (const char *)n->data.scalar.value, NULL,
                        "write ${NAME} or ${NAME:-default}");
                return NULL;
            }
            const char *body = s + i + 2;
            size_t blen = (size_t)(close - body);
            const char *dflt = NULL;
            size_t dlen = 0, nlen = blen;
            for (size_t k = 0; k + 1 < blen; k++)
                if (body[k] == ':' && body[k + 1] == '-') {
                    nlen = k;
                    dflt = body + k + 2;
                    dlen = blen - k - 2;
                    break;
                }
            if (nlen == 0 || nlen >= sizeof name) {
                free(out);
                fail_at(c, n, "bad variable reference in \"%s\"", (const char *)n->data.scalar.value, NULL,
                        "write ${NAME} or ${NAME:-default}");
                return NULL;
            }
            memcpy(name, body, nlen);
            name[nlen] = '\0';
            const char *val = getenv(name);
            if (val && *val) {
                piece = val;
                plen = strlen(val);
            } else if (dflt) {
                piece = dflt;
                plen = dlen;
            } else {
                char hint[PLUME_ERROR_MAX / 2];
                snprintf(hint, sizeof hint, "set it in the environment or give a default: ${%s:-VALUE}", name);
                free(out);
                fail_at(c, n, "environment variable '%s' is not set", name, NULL, hint);
                return NULL;
            }
            i = (size_t)(close - s) + 1;
        } else {
            i++;
        }
        if (used + plen + 1 > cap) {
            if (plen > GRAPH_FILE_MAX || used > GRAPH_FILE_MAX) {
                free(out);
                return fail_at(c, n, "value too long after substitution", NULL, NULL, NULL), NULL;
            }
            cap = (used + plen + 1) * 2;
            char *p = realloc(out, cap);
            if (!p) {
                free(out);
                return plume_fail(c->err, "out of memory"), NULL;
            }
            out = p;
        }
        memcpy(out + used, piece, plen);
        used += plen;
    }
    out[used] = '\0';
    return out;
}

static yaml_node_t *node_at(parse_ctx *c, int id) {
    return yaml_document_get_node(&c->doc, id);
}

static char *key_text(const yaml_node_t *k) {
    return pl_strndup((const char *)k->data.scalar.value, k->data.scalar.length);
}

/* Checks a node is a mapping whose keys are scalars, each given once (YAML parsers,
 * libyaml included, let a repeated key through; here the second one would silently win). */
static int expect_mapping(parse_ctx *c, const yaml_node_t *n, const char *what) {
    if (n->type != YAML_MAPPING_NODE) return fail_at(c, n, "%s must be a mapping, not %s", what, kind_name(n), NULL);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key);
        if (!k || k->type != YAML_SCALAR_NODE)
            return fail_at(c, k ? k : n, "a key in %s is not a plain name", what, NULL, NULL);
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *e = node_at(c, q->key);
            if (e->data.scalar.length == k->data.scalar.length &&
                !memcmp(e->data.scalar.value, k->data.scalar.value, k->data.scalar.length)) {
                char hint[64];
                snprintf(hint, sizeof hint, "it was first given on line %d", (int)e->start_mark.line + 1);
                return fail_at(c, k, "'%s' appears twice in %s", (const char *)k->data.scalar.value, what, hint);
            }
        }
    }
    return 0;
}

static int key_is(const yaml_node_t *k, const char *s) {
    return k->data.scalar.length == strlen(s) && !memcmp(k->data.scalar.value, s, k->data.scalar.length);
}

static int unknown_key(parse_ctx *c, const yaml_node_t *k, const char *where, const char *const *known, size_t n) {
    char *name = key_text(k);
    if (!name) return plume_fail(c->err, "out of memory");
    const char *near = pl_closest(name, known, n);
    char hint[256] = "", list[160] = "";
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", known[i]);
    }
    if (near) snprintf(hint, sizeof hint, "did you mean '%s'?", near);
    else snprintf(hint, sizeof hint, "known keys: %s", list);
    fail_at(c, k, "unknown key '%s' in %s", name, where, hint);
    free(name);
    return -1;
}

/* A scalar value after substitution; anything else is an error. */
static char *scalar_value(parse_ctx *c, const yaml_node_t *n, const char *what) {
    if (n->type != YAML_SCALAR_NODE) {
        fail_at(c, n, "%s must be a single value, not %s", what, kind_name(n), NULL);
        return NULL;
    }
    return substitute(c, n);
}

static int parse_models(parse_ctx *c, const yaml_node_t *n) {
    if (expect_mapping(c, n, "models:")) return -1;
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    c->g->models = calloc(count ? count : 1, sizeof(pl_model));
    if (!c->g->models) return plume_fail(c->err, "out of memory");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        pl_model *m = &c->g->models[c->g->n_models++];
        m->pos = pos_of(k);
        if (!(m->name = key_text(k))) return plume_fail(c->err, "out of memory");
        for (size_t i = 0; i + 1 < c->g->n_models; i++)
            if (!strcmp(c->g->models[i].name, m->name))
                return fail_at(c, k, "model '%s' is declared twice", m->name, NULL, "give each model its own name");
        const yaml_node_t *pv = v;
        if (v->type == YAML_MAPPING_NODE) {
            if (expect_mapping(c, v, "a model")) return -1;
            pv = NULL;
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
                yaml_node_t *mk = node_at(c, q->key);
                static const char *const keys[] = { "path" };
                if (!key_is(mk, "path")) return unknown_key(c, mk, "a model", keys, 1);
                pv = node_at(c, q->value);
            }
            if (!pv) return fail_at(c, v, "model '%s' has no path", m->name, NULL, "write { path: FILE.gguf }");
        }
        m->path_pos = pos_of(pv);
        if (!(m->path = scalar_value(c, pv, "a model's path"))) return -1;
        if (!(m->written = pl_strndup((const char *)pv->data.scalar.value, pv->data.scalar.length)))
            return plume_fail(c->err, "out of memory");
    }
    return 0;
}

static int parse_wires(parse_ctx *c, const yaml_node_t *n, const char *what, pl_wire **out, size_t *count) {
    if (expect_mapping(c, n, what)) return -1;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    *out = calloc(cnt ? cnt : 1, sizeof(pl_wire));
    if (!*out) return plume_fail(c->err, "out of memory");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        pl_wire *w = &(*out)[(*count)++];
        w->port_pos = pos_of(k);
        w->slot_pos = pos_of(v);
        if (!(w->port = key_text(k))) return plume_fail(c->err, "out of memory");
        if (!(w->slot = scalar_value(c, v, "a slot name"))) return -1;
        if (!*w->slot) return fail_at(c, v, "port '%s' is wired to an empty slot name", w->port, NULL, NULL);
    }
    return 0;
}

static int parse_with(parse_ctx *c, const yaml_node_t *n, pl_node *node) {
    if (expect_mapping(c, n, "with:")) return -1;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    node->with = calloc(cnt ? cnt : 1, sizeof(pl_setting));
    if (!node->with) return plume_fail(c->err, "out of memory");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        pl_setting *s = &node->with[node->n_with++];
        s->pos = pos_of(v);
        s->key_pos = pos_of(k);
        if (!(s->name = key_text(k))) return plume_fail(c->err, "out of memory");
        if (!(s->value = scalar_value(c, v, "a parameter"))) return -1;
    }
    return 0;
}

static int parse_stage(parse_ctx *c, const yaml_node_t *k, const yaml_node_t *v, pl_node *node) {
    node->pos = pos_of(k);
    if (!(node->name = key_text(k))) return plume_fail(c->err, "out of memory");
    if (!strcmp(node->name, PL_REQUEST_NODE))
        return fail_at(c, k, "'%s' is the name of the request reader", PL_REQUEST_NODE, NULL,
                       "give this stage another name");
    if (expect_mapping(c, v, "a stage")) return -1;
    static const char *const keys[] = { "use", "in", "out", "with" };
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *pk = node_at(c, p->key), *pv = node_at(c, p->value);
        int rc;
        if (key_is(pk, "use")) {
            node->use_pos = pos_of(pv);
            rc = (node->use = scalar_value(c, pv, "use:")) ? 0 : -1;
        } else if (key_is(pk, "in")) {
            rc = parse_wires(c, pv, "in:", &node->in, &node->n_in);
        } else if (key_is(pk, "out")) {
            rc = parse_wires(c, pv, "out:", &node->out, &node->n_out);
        } else if (key_is(pk, "with")) {
            rc = parse_with(c, pv, node);
        } else {
            char where[300];
            snprintf(where, sizeof where, "stage '%s'", node->name);
            rc = unknown_key(c, pk, where, keys, 4);
        }
        if (rc) return -1;
    }
    if (!node->use) return fail_at(c, k, "stage '%s' has no use:", node->name, NULL,
                                   "name the stage kind it runs, e.g. use: text.join (`plume modules` lists them)");
    return 0;
}

static int parse_stages(parse_ctx *c, const yaml_node_t *n) {
    if (expect_mapping(c, n, "stages:")) return -1;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    plume_graph *g = c->g;
    g->nodes = calloc(cnt + 1, sizeof(pl_node));
    if (!g->nodes) return plume_fail(c->err, "out of memory");
    /* nodes[0]: the request reader, which provides the request's own slots. */
    pl_node *req = &g->nodes[g->n_nodes++];
    req->implicit = 1;
    if (!(req->name = pl_strdup(PL_REQUEST_NODE)) || !(req->use = pl_strdup(pl_request_stage.name)))
        return plume_fail(c->err, "out of memory");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        for (size_t i = 1; i < g->n_nodes; i++)
            if (k->data.scalar.length == strlen(g->nodes[i].name) &&
                !memcmp(k->data.scalar.value, g->nodes[i].name, k->data.scalar.length))
                return fail_at(c, k, "stage '%s' is declared twice", g->nodes[i].name, NULL,
                               "give each stage its own name");
        if (parse_stage(c, k, v, &g->nodes[g->n_nodes++])) return -1;
    }
    return 0;
}

static int parse_output(parse_ctx *c, const yaml_node_t *n) {
    c->g->output_pos = pos_of(n);
    if (n->type != YAML_SEQUENCE_NODE) return fail_at(c, n, "output: must be a list of slots, not %s", kind_name(n),
                                                      NULL, "write output: [slot, ...]");
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    /* Names are kept in a pseudo-node's in: wires so the checks can point at each one. */
    pl_node *sink = calloc(1, sizeof *sink);
    if (!sink) return plume_fail(c->err, "out of memory");
    sink->in = calloc(cnt ? cnt : 1, sizeof(pl_wire));
    if (!sink->in) {
        free(sink);
        return plume_fail(c->err, "out of memory");
    }
    c->g->sink = sink;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = node_at(c, *it);
        pl_wire *w = &sink->in[sink->n_in++];
        w->slot_pos = pos_of(v);
        if (!(w->slot = scalar_value(c, v, "an output slot"))) return -1;
    }
    return 0;
}

static int parse_root(parse_ctx *c, const yaml_node_t *root) {
    if (!root) return plume_fail(c->err, "%s: the file is empty; a graph starts with 'plume: 1'", c->g->path);
    if (expect_mapping(c, root, "a graph")) return -1;
    static const char *const keys[] = { "plume", "models", "stages", "output" };
    const yaml_node_t *version = NULL, *stages = NULL;
    /* a training configuration (plume train) has 'train:' and no 'stages:': say so, rather than
     * suggest 'models' for its 'model:' */
    const yaml_node_t *train_key = NULL;
    int has_stages = 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key);
        if (k && k->type == YAML_SCALAR_NODE && key_is(k, "train")) train_key = k;
        if (k && k->type == YAML_SCALAR_NODE && key_is(k, "stages")) has_stages = 1;
    }
    if (train_key && !has_stages)
        return fail_at(c, train_key, "this is a training configuration, not a graph", NULL, NULL,
                       "run it with plume train (graphs are in graphs/, training configurations in configs/)");
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        if (key_is(k, "plume")) version = v;
        else if (key_is(k, "models")) { if (parse_models(c, v)) return -1; }
        else if (key_is(k, "stages")) stages = v;
        else if (key_is(k, "output")) continue;  /* after the stages */
        else return unknown_key(c, k, "the graph", keys, 4);
    }
    if (!version) return fail_at(c, root, "the graph has no 'plume:' version", NULL, NULL, "start the file with 'plume: 1'");
    if (version->type != YAML_SCALAR_NODE || strcmp((const char *)version->data.scalar.value, "1"))
        return fail_at(c, version, "graph format version must be 1", NULL, NULL, "write 'plume: 1'");
    if (!stages) return fail_at(c, root, "the graph has no 'stages:'", NULL, NULL, "add stages: { NAME: { use: STAGE, ... } }");
    if (parse_stages(c, stages)) return -1;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
        if (key_is(node_at(c, p->key), "output") && parse_output(c, node_at(c, p->value))) return -1;
    return 0;
}

/* "stage.param=value" → a setting appended to that stage. */
static int apply_set(plume_graph *g, const char *set, plume_error *err) {
    const char *eq = strchr(set, '='), *dot = strchr(set, '.');
    if (!eq || !dot || dot > eq || dot == set || eq == dot + 1)
        return plume_fail(err, "--set %s: expected STAGE.PARAM=VALUE, e.g. --set rank.budget_chars=2000", set);
    size_t nlen = (size_t)(dot - set);
    pl_node *node = NULL;
    const char *names[256];
    size_t k = 0;
    for (size_t i = 1; i < g->n_nodes; i++) {
        if (strlen(g->nodes[i].name) == nlen && !memcmp(g->nodes[i].name, set, nlen)) node = &g->nodes[i];
        if (k < 256) names[k++] = g->nodes[i].name;
    }
    if (!node) {
        char *name = pl_strndup(set, nlen);
        const char *near = name ? pl_closest(name, names, k) : NULL;
        plume_fail(err, "--set %s: the graph has no stage '%s'%s%s%s", set, name ? name : "",
                   near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
        free(name);
        return -1;
    }
    pl_setting *w = realloc(node->with, (node->n_with + 1) * sizeof(pl_setting));
    if (!w) return plume_fail(err, "out of memory");
    node->with = w;
    pl_setting *s = &w[node->n_with];
    memset(s, 0, sizeof *s);
    s->name = pl_strndup(dot + 1, (size_t)(eq - dot - 1));
    s->value = pl_strdup(eq + 1);
    s->origin = set;
    if (!s->name || !s->value) {
        free(s->name);
        free(s->value);
        return plume_fail(err, "out of memory");
    }
    node->n_with++;
    return 0;
}

/* libyaml's scanner spends time proportional to the flow nesting depth on every token, so a file
 * of nothing but '[' takes time quadratic in its size (100 000 of them: half a minute; a 16 MB
 * file: hours). A graph nests four levels. A first pass over the parser's events (which come as
 * the scanner goes, so nothing deep is scanned) refuses deeper nesting before that cost grows. */
#define GRAPH_DEPTH_MAX 32

static int check_depth(const char *yaml, size_t len, const char *name, plume_error *err) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return plume_fail(err, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    int depth = 0, rc = 0;
    yaml_event_t ev;
    while (yaml_parser_parse(&p, &ev)) {   /* a syntax error ends the pass: the load reports it */
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > GRAPH_DEPTH_MAX)
                rc = plume_fail(err, "%s:%zu:%zu: lists and mappings nested more than %d deep; a graph needs 4",
                                name, ev.start_mark.line + 1, ev.start_mark.column + 1, GRAPH_DEPTH_MAX);
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc || t == YAML_DOCUMENT_END_EVENT || t == YAML_STREAM_END_EVENT) break;   /* the load reads one document */
    }
    yaml_parser_delete(&p);
    return rc;
}

plume_graph *plume_graph_parse(plume_registry *reg, const char *yaml, size_t len, const char *name,
                               const char *dir, const char *const *sets, size_t n_sets, plume_error *err) {
    plume_graph *g = calloc(1, sizeof *g);
    if (!g) return plume_fail(err, "out of memory"), NULL;
    g->reg = reg;
    g->id_slot = -1;
    g->path = pl_strdup(name);
    g->dir = pl_strdup(dir && *dir ? dir : ".");
    if (!g->path || !g->dir) {
        plume_graph_free(g);
        return plume_fail(err, "out of memory"), NULL;
    }
    if (check_depth(yaml, len, name, err)) {
        plume_graph_free(g);
        return NULL;
    }
    parse_ctx c = { .g = g, .err = err };
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        plume_graph_free(g);
        return plume_fail(err, "out of memory"), NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &c.doc)) {
        plume_fail(err, "%s:%zu:%zu: YAML syntax error: %s%s%s", name, parser.problem_mark.line + 1,
                   parser.problem_mark.column + 1, parser.problem ? parser.problem : "unknown",
                   parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        plume_graph_free(g);
        return NULL;
    }
    yaml_parser_delete(&parser);
    int rc = parse_root(&c, yaml_document_get_root_node(&c.doc));
    yaml_document_delete(&c.doc);
    for (size_t i = 0; rc == 0 && i < n_sets; i++) rc = apply_set(g, sets[i], err);
    if (rc == 0) rc = pl_graph_check(g, err);
    if (rc) {
        plume_graph_free(g);
        return NULL;
    }
    return g;
}

plume_graph *plume_graph_load(plume_registry *reg, const char *path, const char *const *sets, size_t n_sets,
                              plume_error *err) {
    const char *data = plume_data_dir();
    char shipped[4096];
    FILE *f = fopen(path, "rb");
    /* A bare name that is not here (`plume run default.yaml` from any folder): the installed graphs. */
    if (!f && errno == ENOENT && !strchr(path, '/') && data &&
        snprintf(shipped, sizeof shipped, "%s/graphs/%s", data, path) < (int)sizeof shipped) {
        if ((f = fopen(shipped, "rb"))) path = shipped;
        else if (errno == ENOENT)
            return plume_fail(err, "%s: cannot open the graph: no such file here, nor among the installed graphs "
                              "in %s/graphs", path, data), NULL;
    }
    if (!f) return plume_fail(err, "%s: cannot open the graph: %s", path, strerror(errno)), NULL;
    char *buf = malloc(GRAPH_FILE_MAX + 1);
    size_t len = buf ? fread(buf, 1, GRAPH_FILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || len > GRAPH_FILE_MAX) {
        free(buf);
        if (!buf) plume_fail(err, "out of memory");
        else if (bad) plume_fail(err, "%s: cannot read the graph", path);
        else plume_fail(err, "%s: larger than %u bytes; is it a graph?", path, GRAPH_FILE_MAX);
        return NULL;
    }
    char *copy = pl_strdup(path);
    if (!copy) {
        free(buf);
        return plume_fail(err, "out of memory"), NULL;
    }
    plume_graph *g = plume_graph_parse(reg, buf, len, path, dirname(copy), sets, n_sets, err);
    free(copy);
    free(buf);
    return g;
}

static void free_wires(pl_wire *w, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(w[i].port);
        free(w[i].slot);
    }
    free(w);
}

void plume_graph_free(plume_graph *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n_models; i++) {
        free(g->models[i].name);
        free(g->models[i].path);
        free(g->models[i].resolved);
        free(g->models[i].written);
    }
    free(g->models);
    for (size_t i = 0; i < g->n_nodes; i++) {
        pl_node *n = &g->nodes[i];
        free(n->name);
        free(n->use);
        free_wires(n->in, n->n_in);
        free_wires(n->out, n->n_out);
        for (size_t k = 0; k < n->n_with; k++) {
            free(n->with[k].name);
            free(n->with[k].value);
        }
        free(n->with);
        free(n->in_slot);
        free(n->out_slot);
        free(n->deps);
        pl_args_free(&n->args);
    }
    free(g->nodes);
    for (size_t i = 0; i < g->n_slots; i++) free(g->slots[i].name);
    free(g->slots);
    free(g->order);
    free(g->outputs);
    if (g->sink) {
        free_wires(g->sink->in, g->sink->n_in);
        free(g->sink);
    }
    free(g->path);
    free(g->dir);
    free(g);
}
