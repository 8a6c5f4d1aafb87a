/* Parameters: the `with:` text of a stage, checked against the types the stage declares,
 * with the declared defaults filling what the graph leaves out. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine.h"

/* Parses `text` as a value of `type`; 0 or -1. Strings and model names take any text. */
int pl_parse_param(plume_type type, const char *text, pl_arg *out) {
    memset(out, 0, sizeof *out);
    out->type = type;
    char *end = NULL;
    switch (type) {
    case PLUME_INT:
        errno = 0;
        out->i = strtoll(text, &end, 10);
        if (errno || end == text || *end) return -1;
        out->f = (double)out->i;
        return 0;
    case PLUME_FLOAT:
        errno = 0;
        out->f = strtod(text, &end);
        if (errno || end == text || *end || !isfinite(out->f)) return -1;
        return 0;
    case PLUME_BOOL: {
        static const char *yes[] = { "true", "yes", "on", "1" }, *no[] = { "false", "no", "off", "0" };
        for (int k = 0; k < 4; k++) {
            if (!strcasecmp(text, yes[k])) return out->i = 1, 0;
            if (!strcasecmp(text, no[k])) return out->i = 0, 0;
        }
        return -1;
    }
    case PLUME_STRING:
    case PLUME_MODEL:
        return 0;
    default:
        return -1;
    }
}

void pl_args_free(plume_args *args) {
    for (size_t i = 0; i < args->count; i++) free(args->items[i].s);
    free(args->items);
    args->items = NULL;
    args->count = 0;
}

/* The last setting wins, so a --set (appended after the file's `with:`) overrides it. */
static const pl_setting *find_setting(const pl_node *node, const char *name) {
    const pl_setting *found = NULL;
    for (size_t i = 0; i < node->n_with; i++)
        if (!strcmp(node->with[i].name, name)) found = &node->with[i];
    return found;
}

int pl_args_build(plume_args *args, const plume_graph *g, const pl_node *node, plume_error *err) {
    size_t n = 0;
    for (const plume_param *p = node->stage->params; p && p->name; p++) n++;
    args->items = calloc(n ? n : 1, sizeof(pl_arg));
    args->count = 0;
    if (!args->items) return plume_fail(err, "out of memory");
    for (const plume_param *p = node->stage->params; p && p->name; p++) {
        const pl_setting *set = find_setting(node, p->name);
        const char *text = set ? set->value : p->fallback;
        pl_arg *a = &args->items[args->count];
        if (!text) {
            pl_args_free(args);
            return plume_fail(err, "%s:%d:%d: stage '%s' (%s) needs parameter '%s' (%s: %s); add it under with:",
                              g->path, node->pos.line, node->pos.col, node->name, node->stage->name, p->name,
                              plume_type_name(p->type), p->doc ? p->doc : "no description");
        }
        if (pl_parse_param(p->type, text, a)) {
            const char *expect = p->type == PLUME_INT ? "an integer" : p->type == PLUME_FLOAT ? "a number"
                               : "true or false";
            /* the declared default is the best example of a valid value */
            const char *example = p->fallback ? p->fallback : p->type == PLUME_INT ? "10"
                                : p->type == PLUME_FLOAT ? "0.5" : "true";
            if (!set)  /* cannot happen: defaults are checked when the module loads */
                plume_fail(err, "stage '%s' (%s): the default of parameter '%s' is not valid", node->name,
                           node->stage->name, p->name);
            else if (set->origin)
                plume_fail(err, "--set %s: parameter '%s' of stage '%s' (%s) must be %s, not '%s'; e.g. --set %s.%s=%s",
                           set->origin, p->name, node->name, node->stage->name, expect, text, node->name, p->name,
                           example);
            else
                plume_fail(err, "%s:%d:%d: parameter '%s' of stage '%s' (%s) must be %s, not '%s'; e.g. %s: %s",
                           g->path, set->pos.line, set->pos.col, p->name, node->name, node->stage->name, expect, text,
                           p->name, example);
            pl_args_free(args);
            return -1;
        }
        if (!plume_param_in_range(p, a->f)) {
            char range[96], hint[PLUME_ERROR_MAX / 4] = "";
            plume_param_range_text(p, range, sizeof range);
            /* the declared default is in the range (the loader checks it): the best example */
            if (set && set->origin) {
                if (p->fallback) snprintf(hint, sizeof hint, "; e.g. --set %s.%s=%s", node->name, p->name, p->fallback);
                plume_fail(err, "--set %s: parameter '%s' of stage '%s' (%s) must be %s, not %s%s", set->origin,
                           p->name, node->name, node->stage->name, range, text, hint);
            } else {
                if (p->fallback) snprintf(hint, sizeof hint, "; e.g. %s: %s", p->name, p->fallback);
                plume_fail(err, "%s:%d:%d: parameter '%s' of stage '%s' (%s) must be %s, not %s%s", g->path,
                           set ? set->pos.line : node->pos.line, set ? set->pos.col : node->pos.col, p->name,
                           node->name, node->stage->name, range, text, hint);
            }
            pl_args_free(args);
            return -1;
        }
        if (p->type == PLUME_MODEL) {
            int known = 0;
            const char *names[64];
            size_t k = 0;
            for (size_t m = 0; m < g->n_models; m++) {
                if (!strcmp(g->models[m].name, text)) known = 1;
                if (k < 64) names[k++] = g->models[m].name;
            }
            if (!known) {
                const char *near = pl_closest(text, names, k);
                char where[PLUME_ERROR_MAX / 2];
                if (!set)  /* cannot happen: defaults are checked when the module loads */
                plume_fail(err, "stage '%s' (%s): the default of parameter '%s' is not valid", node->name,
                           node->stage->name, p->name);
            else if (set->origin) snprintf(where, sizeof where, "--set %s", set->origin);
                else if (set) snprintf(where, sizeof where, "%s:%d:%d", g->path, set->pos.line, set->pos.col);
                else snprintf(where, sizeof where, "%s:%d:%d", g->path, node->pos.line, node->pos.col);
                plume_fail(err, "%s: parameter '%s' of stage '%s' names model '%s', which is not declared; %s%s%s",
                           where, p->name, node->name, text, near ? "did you mean '" : "declare it under models:",
                           near ? near : "", near ? "'?" : "");
                pl_args_free(args);
                return -1;
            }
        }
        a->name = p->name;
        if (!(a->s = pl_strdup(text))) {
            pl_args_free(args);
            return plume_fail(err, "out of memory");
        }
        args->count++;
    }
    return 0;
}

static const pl_arg *find_arg(const plume_args *args, const char *name, plume_type type) {
    for (size_t i = 0; i < args->count; i++)
        if (!strcmp(args->items[i].name, name)) return &args->items[i];
    (void)type;
    return NULL;
}

long long plume_args_int(const plume_args *args, const char *name) {
    const pl_arg *a = find_arg(args, name, PLUME_INT);
    return a ? a->i : 0;
}

double plume_args_float(const plume_args *args, const char *name) {
    const pl_arg *a = find_arg(args, name, PLUME_FLOAT);
    return a ? a->f : 0.0;
}

int plume_args_bool(const plume_args *args, const char *name) {
    const pl_arg *a = find_arg(args, name, PLUME_BOOL);
    return a ? (int)a->i : 0;
}

const char *plume_args_string(const plume_args *args, const char *name) {
    const pl_arg *a = find_arg(args, name, PLUME_STRING);
    return a ? a->s : NULL;
}
