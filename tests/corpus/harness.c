/* Test-only implementation of the parameter and batch accessors of include/plume/stage.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "plume/plume.h"

void harness_args_init(plume_args *a, const plume_stage *stage) {
    memset(a, 0, sizeof *a);
    a->stage = stage;
}

void harness_set(plume_args *a, const char *name, const char *value) {
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->names[i], name)) {
            a->values[i] = value;
            return;
        }
    if (a->n < HARNESS_MAX_PARAMS) {
        a->names[a->n] = name;
        a->values[a->n++] = value;
    }
}

static const char *lookup(const plume_args *a, const char *name) {
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->names[i], name)) return a->values[i];
    for (const plume_param *p = a->stage->params; p && p->name; p++)
        if (!strcmp(p->name, name)) return p->fallback;
    fprintf(stderr, "harness: stage %s has no parameter %s\n", a->stage->name, name);
    abort();
}

long long plume_args_int(const plume_args *args, const char *name) { return strtoll(lookup(args, name), NULL, 10); }
double plume_args_float(const plume_args *args, const char *name) { return strtod(lookup(args, name), NULL); }
int plume_args_bool(const plume_args *args, const char *name) { return !strcmp(lookup(args, name), "true"); }
const char *plume_args_string(const plume_args *args, const char *name) { return lookup(args, name); }

plume_batch *harness_batch_new(size_t n) {
    plume_batch *b = calloc(1, sizeof *b);
    b->n = n;
    b->ids = calloc(n, sizeof *b->ids);
    b->in = calloc(n, sizeof *b->in);
    b->out = calloc(n, sizeof *b->out);
    b->fail = calloc(n, sizeof *b->fail);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "r%zu", i);
        b->ids[i] = strdup(id);
    }
    return b;
}

void harness_batch_free(plume_batch *b) {
    for (size_t i = 0; i < b->n; i++) {
        for (int p = 0; p < HARNESS_MAX_PORTS; p++) {
            plume_value_clear(&b->in[i][p]);
            plume_value_clear(&b->out[i][p]);
        }
        free(b->ids[i]);
        free(b->fail[i]);
    }
    free(b->ids);
    free(b->in);
    free(b->out);
    free(b->fail);
    free(b);
}

size_t plume_batch_count(const plume_batch *b) { return b->n; }
const char *plume_batch_id(const plume_batch *b, size_t r) { return b->ids[r]; }
const plume_value *plume_batch_in(const plume_batch *b, size_t r, size_t port) { return &b->in[r][port]; }
plume_value *plume_batch_out(plume_batch *b, size_t r, size_t port) { return &b->out[r][port]; }
int plume_batch_failed(const plume_batch *b, size_t r) { return b->fail[r] != NULL; }

void plume_batch_fail(plume_batch *b, size_t r, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(b->fail[r]);
    b->fail[r] = strdup(msg);
}

void plume_host_log(plume_host *host, plume_log_level level, const char *fmt, ...) {}
const char *plume_host_model_path(plume_host *host, const char *model_name) { return NULL; }

int harness_run(const plume_stage *stage, const plume_args *args, plume_batch *b, plume_error *err) {
    /* as the engine does before create(): every numeric value inside its declared range */
    for (const plume_param *p = stage->params; p && p->name; p++) {
        if (!plume_param_has_range(p)) continue;
        const char *text = lookup(args, p->name);
        if (!plume_param_in_range(p, strtod(text, NULL))) {
            char range[96];
            return plume_fail(err, "parameter '%s' of %s must be %s, not %s", p->name, stage->name,
                              plume_param_range_text(p, range, sizeof range), text);
        }
    }
    void *state = calloc(1, stage->state_size ? stage->state_size : 1);
    int rc = stage->create ? stage->create(state, args, NULL, err) : 0;
    if (rc == 0) {
        rc = stage->run(state, b, err);
        if (stage->destroy) stage->destroy(state);
    }
    free(state);
    return rc;
}
