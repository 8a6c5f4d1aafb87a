/* See harness.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "plume/plume.h"

struct plume_args { const plume_stage *stage; const char *const *given; };
struct plume_batch {
    size_t n, n_in, n_out;
    const plume_value *in;
    plume_value *out;
    char (*msg)[512];
    int *failed;
    char ids[64][16];
};
struct plume_host { int unused; };

/* The value text of a parameter: given, else its fallback; abort on an undeclared name (a test bug). */
static const char *arg_text(const plume_args *a, const char *name) {
    const plume_param *decl = NULL;
    for (const plume_param *p = a->stage->params; p && p->name; p++)
        if (!strcmp(p->name, name)) decl = p;
    if (!decl) {
        fprintf(stderr, "harness: stage %s has no parameter '%s'\n", a->stage->name, name);
        abort();
    }
    size_t k = strlen(name);
    for (const char *const *g = a->given; g && *g; g++)
        if (!strncmp(*g, name, k) && (*g)[k] == '=') return *g + k + 1;
    if (!decl->fallback) {
        fprintf(stderr, "harness: required parameter '%s' of %s not given\n", name, a->stage->name);
        abort();
    }
    return decl->fallback;
}

long long plume_args_int(const plume_args *a, const char *name) { return strtoll(arg_text(a, name), NULL, 10); }
double plume_args_float(const plume_args *a, const char *name) { return strtod(arg_text(a, name), NULL); }
int plume_args_bool(const plume_args *a, const char *name) {
    const char *t = arg_text(a, name);
    return !strcmp(t, "true") || !strcmp(t, "yes") || !strcmp(t, "1");
}
const char *plume_args_string(const plume_args *a, const char *name) { return arg_text(a, name); }

size_t plume_batch_count(const plume_batch *b) { return b->n; }
const char *plume_batch_id(const plume_batch *b, size_t r) { return b->ids[r % 64]; }
const plume_value *plume_batch_in(const plume_batch *b, size_t r, size_t port) {
    if (r >= b->n || port >= b->n_in) abort();
    return &b->in[r * b->n_in + port];
}
plume_value *plume_batch_out(plume_batch *b, size_t r, size_t port) {
    if (r >= b->n || port >= b->n_out) abort();
    return &b->out[r * b->n_out + port];
}
void plume_batch_fail(plume_batch *b, size_t r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (b->msg) vsnprintf(b->msg[r], sizeof b->msg[r], fmt, ap);
    va_end(ap);
    b->failed[r] = 1;
}
int plume_batch_failed(const plume_batch *b, size_t r) { return b->failed[r]; }

void plume_host_log(plume_host *host, plume_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
const char *plume_host_model_path(plume_host *host, const char *model_name) { return NULL; }

static size_t count_ports(const plume_port *p) {
    size_t n = 0;
    while (p && p[n].name) n++;
    return n;
}

int harness_run(const plume_stage *stage, const char *const *params, size_t n, const plume_value *in,
                plume_value *out, char (*fail_msg)[512], plume_error *err) {
    if (n > 64) abort();
    plume_args args = { stage, params };
    plume_host host = { 0 };
    plume_batch batch = { n, count_ports(stage->inputs), count_ports(stage->outputs), in, out, fail_msg, NULL, { { 0 } } };
    int failed[64] = { 0 };
    batch.failed = failed;
    for (size_t r = 0; r < n; r++) {
        snprintf(batch.ids[r], sizeof batch.ids[r], "r%zu", r);
        if (fail_msg) fail_msg[r][0] = '\0';
    }
    /* as the engine does before create(): every numeric value inside its declared range */
    for (const plume_param *p = stage->params; p && p->name; p++) {
        if (!plume_param_has_range(p)) continue;
        const char *text = arg_text(&args, p->name);
        if (!plume_param_in_range(p, strtod(text, NULL))) {
            char range[96];
            return plume_fail(err, "parameter '%s' of %s must be %s, not %s", p->name, stage->name,
                              plume_param_range_text(p, range, sizeof range), text);
        }
    }
    void *state = calloc(1, stage->state_size ? stage->state_size : 1);
    if (!state) abort();
    int rc = stage->create ? stage->create(state, &args, &host, err) : 0;
    if (rc == 0) rc = stage->run(state, &batch, err);
    if (stage->destroy) stage->destroy(state);   /* also after a failed create: it must cope */
    free(state);
    return rc;
}
