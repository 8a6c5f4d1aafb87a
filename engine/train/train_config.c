/* The `plume train` configuration: a YAML file read with libyaml's document API, every
 * key checked against the table below, every error as FILE:LINE:COLUMN with a hint. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "plume/train.h"

typedef struct cfg_ctx {
    yaml_document_t *doc;
    const char *path;
    char *dir;              /* the config's folder, for relative paths */
    plume_error *err;
} cfg_ctx;

static int fail_at(cfg_ctx *x, const yaml_node_t *n, const char *fmt, const char *a, const char *b) {
    char what[512];
    snprintf(what, sizeof what, fmt, a, b ? b : "");
    return plume_fail(x->err, "%s:%lu:%lu: %s", x->path, (unsigned long)n->start_mark.line + 1,
                      (unsigned long)n->start_mark.column + 1, what);
}

static const char *scalar(cfg_ctx *x, const yaml_node_t *n, const char *key) {
    if (n->type != YAML_SCALAR_NODE) {
        fail_at(x, n, "'%s' wants a single value, not a list or mapping", key, NULL);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static int get_num(cfg_ctx *x, const yaml_node_t *n, const char *key, double lo, double hi, double *out) {
    const char *s = scalar(x, n, key);
    if (!s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= lo && v <= hi)) {
        char range[128];
        snprintf(range, sizeof range, "a number in %g..%g, got '%.60s'", lo, hi, s);
        return fail_at(x, n, "'%s' wants %s", key, range);
    }
    *out = v;
    return 0;
}

static int get_int(cfg_ctx *x, const yaml_node_t *n, const char *key, int lo, int hi, int *out) {
    double v;
    if (get_num(x, n, key, lo, hi, &v)) return -1;
    if (v != (double)(int)v) return fail_at(x, n, "'%s' wants a whole number", key, NULL);
    *out = (int)v;
    return 0;
}

static int get_bool(cfg_ctx *x, const yaml_node_t *n, const char *key, int *out) {
    const char *s = scalar(x, n, key);
    if (!s) return -1;
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1")) *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0")) *out = 0;
    else return fail_at(x, n, "'%s' wants true or false, got '%.60s'", key, s);
    return 0;
}

/* A path, made relative to the config's folder unless absolute. */
static int get_path(cfg_ctx *x, const yaml_node_t *n, const char *key, char **out) {
    const char *s = scalar(x, n, key);
    if (!s) return -1;
    if (!*s) return fail_at(x, n, "'%s' is empty; hint: give a file name", key, NULL);
    size_t len = strlen(s) + strlen(x->dir) + 2;
    char *p = malloc(len);
    if (!p) return plume_fail(x->err, "%s: out of memory", x->path);
    if (s[0] == '/' || !x->dir[0]) snprintf(p, len, "%s", s);
    else snprintf(p, len, "%s/%s", x->dir, s);
    free(*out);
    *out = p;
    return 0;
}

typedef int (*key_fn)(cfg_ctx *x, const yaml_node_t *v, const char *key, plume_train_config *c);

typedef struct key_def {
    const char *name;
    key_fn fn;
} key_def;

/* Walks mapping N, calling the handler of each key; unknown keys are errors. */
static int walk(cfg_ctx *x, const yaml_node_t *n, const char *where, const key_def *keys, plume_train_config *c) {
    if (n->type != YAML_MAPPING_NODE) return fail_at(x, n, "'%s' wants a mapping of keys%s", where, NULL);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, p->key), *v = yaml_document_get_node(x->doc, p->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE) return fail_at(x, n, "a key of '%s' is not a plain name%s", where, NULL);
        const char *name = (const char *)k->data.scalar.value;
        const key_def *d = keys;
        while (d->name && strcmp(d->name, name)) d++;
        if (!d->name) {
            char known[400] = "";
            for (const key_def *e = keys; e->name; e++) {
                strncat(known, e->name, sizeof known - strlen(known) - 3);
                if (e[1].name) strncat(known, ", ", sizeof known - strlen(known) - 1);
            }
            char what[160];
            snprintf(what, sizeof what, "%.60s' in '%.60s", name, where);
            return fail_at(x, k, "unknown key '%s'; hint: known keys are %s", what, known);
        }
        if (d->fn(x, v, name, c)) return -1;
    }
    return 0;
}

/* ---- model ---- */
static int k_init(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_path(x, v, k, &c->init); }
static int k_dim(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_int(x, v, k, 2, 65536, &c->shape.dim); }
static int k_hidden(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_int(x, v, k, 1, 262144, &c->shape.hidden_dim); }
static int k_layers(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_int(x, v, k, 1, 1024, &c->shape.n_layers); }
static int k_heads(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_int(x, v, k, 1, 1024, &c->shape.n_heads); }
static int k_kv(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_int(x, v, k, 1, 1024, &c->shape.n_kv_heads); }
static int k_vocab(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_int(x, v, k, 2, 1 << 22, &c->shape.vocab_size); }
static int k_ctx(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_int(x, v, k, 2, 1 << 20, &c->shape.ctx_len); }
static int k_tied(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_bool(x, v, k, &c->shape.tied); }
static int k_rope(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) {
    double d;
    if (get_num(x, v, k, 1, 1e9, &d)) return -1;
    c->shape.rope_base = (float)d;
    return 0;
}
static int k_neps(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) {
    double d;
    if (get_num(x, v, k, 1e-12, 1, &d)) return -1;
    c->shape.norm_eps = (float)d;
    return 0;
}
static const key_def shape_keys[] = {
    {"dim", k_dim}, {"hidden_dim", k_hidden}, {"layers", k_layers}, {"heads", k_heads}, {"kv_heads", k_kv},
    {"vocab", k_vocab}, {"context", k_ctx}, {"tied", k_tied}, {"rope_base", k_rope}, {"norm_eps", k_neps}, {NULL, NULL}};
static int k_shape(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) {
    c->has_shape = 1;
    return walk(x, v, k, shape_keys, c);
}
static const key_def model_keys[] = {{"init", k_init}, {"shape", k_shape}, {NULL, NULL}};
static int k_model(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return walk(x, v, k, model_keys, c); }

/* ---- data ---- */
static int k_trainf(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_path(x, v, k, &c->train_data); }
static int k_valf(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_path(x, v, k, &c->val_data); }
static int k_eos(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_bool(x, v, k, &c->add_eos); }
static int k_pack(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_bool(x, v, k, &c->pack); }
static const key_def data_keys[] = {{"train", k_trainf}, {"validation", k_valf}, {"add_eos", k_eos}, {"pack", k_pack},
                                    {NULL, NULL}};
static int k_data(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return walk(x, v, k, data_keys, c); }

/* ---- train ---- */
#define NUM_KEY(fname, field, lo, hi) \
    static int fname(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { \
        return get_num(x, v, k, lo, hi, &c->params.field); }
#define INT_KEY(fname, field, lo, hi) \
    static int fname(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { \
        return get_int(x, v, k, lo, hi, &c->field); }
NUM_KEY(k_lr, lr, 1e-12, 10)
NUM_KEY(k_minlr, min_lr, 0, 10)
NUM_KEY(k_wd, weight_decay, 0, 10)
NUM_KEY(k_clip, clip, 0, 1e9)
NUM_KEY(k_b1, beta1, 0, 0.999999)
NUM_KEY(k_b2, beta2, 0, 0.999999999)
NUM_KEY(k_eps, eps, 1e-30, 1)
INT_KEY(k_warm, params.warmup, 0, 100000000)
INT_KEY(k_steps, params.steps, 1, 100000000)
INT_KEY(k_batch, params.batch, 1, 65535)
INT_KEY(k_accum, params.accum, 1, 65535)
INT_KEY(k_seq, params.seq_len, 1, 1 << 20)
INT_KEY(k_evale, eval_every, 0, 100000000)
INT_KEY(k_ckpt, checkpoint_every, 0, 100000000)
static int k_seed(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) {
    double d;
    if (get_num(x, v, k, 0, 9007199254740992.0, &d)) return -1;
    if (d != (double)(uint64_t)d) return fail_at(x, v, "'%s' wants a whole number%s", k, NULL);
    c->params.seed = (uint64_t)d;
    return 0;
}
static int k_decay(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) {
    const char *s = scalar(x, v, k);
    if (!s) return -1;
    if (plume_decay_parse(s, &c->params.decay))
        return fail_at(x, v, "'%s' is '%.60s'; hint: constant, linear, cosine or sqrt", k, s);
    return 0;
}
static const key_def train_keys[] = {
    {"lr", k_lr}, {"min_lr", k_minlr}, {"warmup", k_warm}, {"decay", k_decay}, {"steps", k_steps},
    {"batch", k_batch}, {"accumulation", k_accum}, {"seq_len", k_seq}, {"weight_decay", k_wd}, {"clip", k_clip},
    {"beta1", k_b1}, {"beta2", k_b2}, {"eps", k_eps}, {"seed", k_seed}, {"eval_every", k_evale},
    {"checkpoint_every", k_ckpt}, {NULL, NULL}};
static int k_train(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return walk(x, v, k, train_keys, c); }

/* ---- top level ---- */
static int k_version(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) {
    int ver;
    (void)c;
    if (get_int(x, v, k, 1, 1, &ver)) return -1;
    return 0;
}
static int k_tok(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_path(x, v, k, &c->tokenizer); }
static int k_out(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_path(x, v, k, &c->out); }
static int k_resume(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) { return get_bool(x, v, k, &c->resume); }
static int k_export(cfg_ctx *x, const yaml_node_t *v, const char *k, plume_train_config *c) {
    if (v->type != YAML_SEQUENCE_NODE) return fail_at(x, v, "'%s' wants a list such as [f16, q8_0]%s", k, NULL);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(x->doc, *it);
        const char *s = e ? scalar(x, e, k) : NULL;
        if (!s) return -1;
        if (!strcmp(s, "f16")) c->export_f16 = 1;
        else if (!strcmp(s, "q8_0")) c->export_q8_0 = 1;
        else return fail_at(x, e, "'%s' lists '%.60s'; hint: f16 or q8_0 (the checkpoint is F32)", k, s);
    }
    return 0;
}
static const key_def top_keys[] = {
    {"plume", k_version}, {"model", k_model}, {"tokenizer", k_tok}, {"data", k_data}, {"train", k_train},
    {"out", k_out}, {"export", k_export}, {"resume", k_resume}, {NULL, NULL}};

void plume_train_config_free(plume_train_config *c) {
    free(c->path);
    free(c->init);
    free(c->tokenizer);
    free(c->train_data);
    free(c->val_data);
    free(c->out);
    memset(c, 0, sizeof *c);
}

int plume_train_config_load(plume_train_config *c, const char *path, plume_error *err) {
    memset(c, 0, sizeof *c);
    plume_train_params_default(&c->params);
    c->add_eos = 1;
    FILE *f = fopen(path, "rb");
    if (!f) return plume_fail(err, "%s: cannot open: %s", path, strerror(errno));
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return plume_fail(err, "%s: out of memory", path);
    }
    yaml_parser_set_input_file(&parser, f);
    int rc = -1;
    if (!yaml_parser_load(&parser, &doc)) {
        plume_fail(err, "%s:%lu:%lu: YAML: %s%s%s", path, (unsigned long)parser.problem_mark.line + 1,
                   (unsigned long)parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
                   parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        fclose(f);
        return -1;
    }
    char *dir = strdup(path);
    cfg_ctx x = {&doc, path, dir, err};
    if (!dir || !(c->path = strdup(path))) {
        plume_fail(err, "%s: out of memory", path);
        goto done;
    }
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else dir[0] = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        plume_fail(err, "%s:1:1: the file is empty; hint: docs/training.md (Configuration) lists the keys", path);
        goto done;
    }
    if (walk(&x, root, "the file", top_keys, c)) goto done;
    /* what must be there, and what must agree */
    if (!c->has_shape && !c->init) {
        fail_at(&x, root, "no model: give model.shape (a new model) or model.init (a GGUF to start from)%s%s", "", NULL);
        goto done;
    }
    if (c->has_shape && c->init) {
        fail_at(&x, root, "model.shape and model.init are both given; hint: keep one%s%s", "", NULL);
        goto done;
    }
    if (c->has_shape && (!c->shape.dim || !c->shape.hidden_dim || !c->shape.n_layers || !c->shape.n_heads ||
                         !c->shape.ctx_len)) {
        fail_at(&x, root, "model.shape needs dim, hidden_dim, layers, heads and context%s%s", "", NULL);
        goto done;
    }
    if (c->has_shape && !c->shape.n_kv_heads) c->shape.n_kv_heads = c->shape.n_heads;
    if (!c->tokenizer && c->init && !(c->tokenizer = strdup(c->init))) {
        plume_fail(err, "%s: out of memory", path);
        goto done;
    }
    if (!c->tokenizer) {
        fail_at(&x, root, "no tokenizer: give 'tokenizer: FILE.gguf' (a GGUF to take the tokenizer from)%s%s", "", NULL);
        goto done;
    }
    if (!c->train_data) {
        fail_at(&x, root, "no training data: give data.train (JSON Lines of {\"prompt\", \"target\"})%s%s", "", NULL);
        goto done;
    }
    if (!c->out) {
        fail_at(&x, root, "no output folder: give 'out: FOLDER'%s%s", "", NULL);
        goto done;
    }
    rc = 0;
done:
    free(dir);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    if (rc) plume_train_config_free(c);
    return rc;
}
