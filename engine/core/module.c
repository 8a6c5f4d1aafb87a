#define _GNU_SOURCE  /* dladdr */
/* Modules: shared objects that export one `plume_module_v1` descriptor.
 *
 * The registry opens every module it is given (dlopen), checks that the descriptor was built
 * for this ABI and that its stages are well formed, and indexes the stages by name. Built-in
 * modules live next to libplume itself (found with dladdr), so the build tree and an
 * installed tree work alike without a configured path. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "engine.h"

typedef struct pl_module {
    char *path;                   /* as canonicalized by realpath */
    void *handle;
    const plume_module *desc;
} pl_module;

typedef struct pl_entry {
    const plume_stage *stage;
    size_t module;
} pl_entry;

/* A stage that an earlier module's stage of the same name hides (PLUME_MODULE_PATH is loaded
 * before the built-in folder, so a plugin can replace a built-in stage: on purpose, or not). */
typedef struct pl_shadow {
    const char *name;             /* the stage's name (owned by the hidden module) */
    size_t winner, loser;         /* module indices */
} pl_shadow;

struct plume_registry {
    pl_module *modules;
    size_t n_modules, cap_modules;
    pl_entry *stages;
    size_t n_stages, cap_stages;
    char **problems;
    size_t n_problems, cap_problems;
    pl_shadow *shadows;
    size_t n_shadows, cap_shadows;
};

char *pl_strdup(const char *s) {
    return pl_strndup(s, strlen(s));
}

char *pl_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

plume_registry *plume_registry_new(plume_error *err) {
    plume_registry *reg = calloc(1, sizeof *reg);
    if (!reg) plume_fail(err, "out of memory creating the module registry");
    return reg;
}

void plume_registry_close(plume_registry *reg) {
    if (!reg) return;
    for (size_t i = 0; i < reg->n_modules; i++) {
        /* Under a leak checker, keep modules mapped so their frames stay symbolized. */
        if (reg->modules[i].handle && !getenv("PLUME_NO_DLCLOSE")) dlclose(reg->modules[i].handle);
        free(reg->modules[i].path);
    }
    for (size_t i = 0; i < reg->n_problems; i++) free(reg->problems[i]);
    free(reg->modules);
    free(reg->stages);
    free(reg->problems);
    free(reg->shadows);
    free(reg);
}

static void add_problem(plume_registry *reg, const char *msg) {
    if (pl_grow((void **)&reg->problems, reg->n_problems, &reg->cap_problems, sizeof(char *))) return;
    char *m = pl_strdup(msg);
    if (m) reg->problems[reg->n_problems++] = m;
}

static char builtin_dir[PATH_MAX];
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

/* dladdr on one of libplume's own functions names the file libplume was loaded from;
 * the modules are in plume/modules beside it, in the build tree and once installed. */
static void find_builtin_dir(void) {
    Dl_info info;
    if (!dladdr((void *)plume_registry_open, &info) || !info.dli_fname) return;
    char lib[PATH_MAX];
    if (!realpath(info.dli_fname, lib)) return;
    char *slash = strrchr(lib, '/');
    if (!slash) return;
    *slash = '\0';
    int n = snprintf(builtin_dir, sizeof builtin_dir, "%s/%s", lib, PLUME_MODULE_RELDIR);
    if (n < 0 || (size_t)n >= sizeof builtin_dir) builtin_dir[0] = '\0';
}

const char *plume_builtin_module_dir(void) {
    pthread_once(&builtin_once, find_builtin_dir);
    return builtin_dir[0] ? builtin_dir : NULL;
}

static int valid_slot_type(plume_type t) {
    return t == PLUME_TEXT || t == PLUME_DOCS || t == PLUME_TERMS || t == PLUME_NUMBER;
}

static int valid_param_type(plume_type t) {
    return t == PLUME_INT || t == PLUME_FLOAT || t == PLUME_BOOL || t == PLUME_STRING || t == PLUME_MODEL;
}

/* A declared range must be one the engine can check, and hold the parameter's own default. */
static int check_range(const char *path, const plume_stage *s, const plume_param *p, const pl_arg *fallback,
                       plume_error *err) {
    if (p->min == 0 && p->max == 0) return 0;
    if (p->type != PLUME_INT && p->type != PLUME_FLOAT)
        return plume_fail(err, "%s: stage '%s', parameter '%s' is a %s but declares a range (min %g, max %g); "
                          "only int and float parameters have one", path, s->name, p->name, plume_type_name(p->type),
                          p->min, p->max);
    if (!(p->min <= p->max))  /* NaN fails too */
        return plume_fail(err, "%s: stage '%s', parameter '%s' declares the range min %g, max %g: min must not "
                          "be more than max", path, s->name, p->name, p->min, p->max);
    if (fallback && !plume_param_in_range(p, fallback->f)) {
        char range[96];
        return plume_fail(err, "%s: stage '%s', parameter '%s': its default %s is outside its range (%s)", path,
                          s->name, p->name, p->fallback, plume_param_range_text(p, range, sizeof range));
    }
    return 0;
}

/* A module is foreign code: check what the runtime will rely on before indexing it. */
static int check_stage(const char *path, const plume_stage *s, plume_error *err) {
    if (!s->name || !*s->name) return plume_fail(err, "%s: a stage has no name", path);
    if (!s->run) return plume_fail(err, "%s: stage '%s' has no run function", path, s->name);
    const plume_port *lists[2] = { s->inputs, s->outputs };
    for (int k = 0; k < 2; k++)
        for (const plume_port *p = lists[k]; p && p->name; p++)
            if (!valid_slot_type(p->type))
                return plume_fail(err, "%s: stage '%s', port '%s' has type %d, not a slot type "
                                  "(text, docs, terms or number)", path, s->name, p->name, (int)p->type);
    for (const plume_param *p = s->params; p && p->name; p++) {
        if (!valid_param_type(p->type))
            return plume_fail(err, "%s: stage '%s', parameter '%s' has type %d, not a parameter type "
                              "(int, float, bool, string or model)", path, s->name, p->name, (int)p->type);
        pl_arg a;
        if (p->fallback && pl_parse_param(p->type, p->fallback, &a))
            return plume_fail(err, "%s: stage '%s', parameter '%s': its default '%s' is not a valid %s",
                              path, s->name, p->name, p->fallback, plume_type_name(p->type));
        if (check_range(path, s, p, p->fallback ? &a : NULL, err)) return -1;
    }
    return 0;
}

static const plume_module *open_module(const char *path, void **handle, plume_error *err) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return plume_fail(err, "%s: cannot load: %s", path, dlerror()), NULL;
    const plume_module *m = dlsym(h, PLUME_MODULE_SYMBOL);
    if (!m) {
        dlclose(h);
        plume_fail(err, "%s: no '%s' symbol; is it a plume module? (declare its stages with PLUME_MODULE())",
                   path, PLUME_MODULE_SYMBOL);
        return NULL;
    }
    if (m->abi_version != PLUME_ABI_VERSION) {
        plume_fail(err, "%s: module ABI version %u, but this plume speaks version %d; "
                   "rebuild the module against this plume's headers", path, (unsigned)m->abi_version,
                   PLUME_ABI_VERSION);
        dlclose(h);
        return NULL;
    }
    if (m->stage_size != sizeof(plume_stage)) {
        plume_fail(err, "%s: module built with a plume_stage of %u bytes, this plume's is %zu; "
                   "rebuild the module against this plume's headers", path, (unsigned)m->stage_size,
                   sizeof(plume_stage));
        dlclose(h);
        return NULL;
    }
    if (!m->name || !m->stages) {
        dlclose(h);
        return plume_fail(err, "%s: the module descriptor has no name or no stage list", path), NULL;
    }
    for (size_t i = 0; m->stages[i]; i++)
        if (check_stage(path, m->stages[i], err)) {
            dlclose(h);
            return NULL;
        }
    *handle = h;
    return m;
}

static const pl_entry *find_entry(const plume_registry *reg, const char *name) {
    for (size_t i = 0; i < reg->n_stages; i++)
        if (!strcmp(reg->stages[i].stage->name, name)) return &reg->stages[i];
    return NULL;
}

/* Loads a file (or finds it already loaded); returns its index or -1. */
static long load_file(plume_registry *reg, const char *path, plume_error *err) {
    char real[PATH_MAX];
    if (!realpath(path, real)) return plume_fail(err, "%s: cannot open: %s", path, strerror(errno));
    for (size_t i = 0; i < reg->n_modules; i++)
        if (!strcmp(reg->modules[i].path, real)) return (long)i;
    void *h = NULL;
    const plume_module *m = open_module(real, &h, err);
    if (!m) return -1;
    char *copy = pl_strdup(real);
    if (!copy || pl_grow((void **)&reg->modules, reg->n_modules, &reg->cap_modules, sizeof(pl_module))) {
        free(copy);
        dlclose(h);
        return plume_fail(err, "out of memory loading %s", real);
    }
    size_t idx = reg->n_modules++;
    reg->modules[idx] = (pl_module){ copy, h, m };
    for (size_t i = 0; m->stages[i]; i++) {
        const pl_entry *first = find_entry(reg, m->stages[i]->name);
        if (first) {  /* the first one wins; remember the hidden one, so the user can be told */
            if (first->module != idx &&
                !pl_grow((void **)&reg->shadows, reg->n_shadows, &reg->cap_shadows, sizeof(pl_shadow)))
                reg->shadows[reg->n_shadows++] = (pl_shadow){ m->stages[i]->name, first->module, idx };
            continue;
        }
        if (pl_grow((void **)&reg->stages, reg->n_stages, &reg->cap_stages, sizeof(pl_entry)))
            return plume_fail(err, "out of memory loading %s", real);
        reg->stages[reg->n_stages++] = (pl_entry){ m->stages[i], idx };
    }
    return (long)idx;
}

int plume_registry_load(plume_registry *reg, const char *path, plume_error *err) {
    return load_file(reg, path, err) < 0 ? -1 : 0;
}

/* An explicit `use: FILE:stage`: that file's stage, even if another module has the same name. */
int pl_registry_load_pinned(plume_registry *reg, const char *path, const char *stage_name,
                            const plume_stage **stage, const char **module_path, plume_error *err) {
    long idx = load_file(reg, path, err);
    if (idx < 0) return -1;
    const pl_module *m = &reg->modules[idx];
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; m->desc->stages[i]; i++) {
        if (!strcmp(m->desc->stages[i]->name, stage_name)) {
            *stage = m->desc->stages[i];
            *module_path = m->path;
            return 0;
        }
        int n = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", m->desc->stages[i]->name);
        if (n > 0 && (size_t)n < sizeof names - used) used += (size_t)n;
    }
    return plume_fail(err, "%s has no stage '%s'; it has: %s", path, stage_name, names);
}

static int ends_with_so(const char *name) {
    size_t n = strlen(name);
    return n > 3 && !strcmp(name + n - 3, ".so");
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every *.so of a folder in name order, so which module wins a name clash is stable. */
static void load_dir(plume_registry *reg, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;  /* a PLUME_MODULE_PATH entry that does not exist is not an error */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with_so(e->d_name) || n >= 4096) continue;
        if (pl_grow((void **)&names, n, &cap, sizeof(char *))) break;
        if (!(names[n] = pl_strdup(e->d_name))) break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        plume_error err;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (load_file(reg, path, &err) < 0) add_problem(reg, err.msg);
        free(names[i]);
    }
    free(names);
}

/* The stages compiled into libplume (the request stage), as a module whose file is libplume
 * itself: listed and explained by `plume modules` like any other. */
static const plume_stage *const engine_stages[] = { &pl_request_stage, NULL };
static const plume_module engine_module = { PLUME_ABI_VERSION, (uint32_t)sizeof(plume_stage), "engine", "1.0",
                                            engine_stages };

static int add_engine_module(plume_registry *reg, plume_error *err) {
    Dl_info info;
    char real[PATH_MAX];
    const char *lib = dladdr((void *)plume_registry_open, &info) && info.dli_fname && realpath(info.dli_fname, real)
                          ? real
                          : "libplume";
    char *copy = pl_strdup(lib);
    if (!copy || pl_grow((void **)&reg->modules, reg->n_modules, &reg->cap_modules, sizeof(pl_module)) ||
        pl_grow((void **)&reg->stages, reg->n_stages, &reg->cap_stages, sizeof(pl_entry))) {
        free(copy);
        return plume_fail(err, "out of memory creating the module registry");
    }
    size_t idx = reg->n_modules++;
    reg->modules[idx] = (pl_module){ copy, NULL, &engine_module };
    reg->stages[reg->n_stages++] = (pl_entry){ &pl_request_stage, idx };
    return 0;
}

plume_registry *plume_registry_open(plume_error *err) {
    plume_registry *reg = plume_registry_new(err);
    if (!reg) return NULL;
    /* first, so that no plugin takes the request stage's name */
    if (add_engine_module(reg, err)) {
        plume_registry_close(reg);
        return NULL;
    }
    const char *env = getenv("PLUME_MODULE_PATH");
    if (env && *env) {
        char *copy = pl_strdup(env), *save = NULL;
        if (!copy) {
            plume_registry_close(reg);
            plume_fail(err, "out of memory");
            return NULL;
        }
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) load_dir(reg, dir);
        free(copy);
    }
    const char *builtin = plume_builtin_module_dir();
    if (builtin) load_dir(reg, builtin);
    return reg;
}

size_t plume_registry_count(const plume_registry *reg) {
    return reg->n_stages;
}

const plume_stage *plume_registry_stage(const plume_registry *reg, size_t i, const char **module_path) {
    if (i >= reg->n_stages) return NULL;
    if (module_path) *module_path = reg->modules[reg->stages[i].module].path;
    return reg->stages[i].stage;
}

const plume_stage *plume_registry_find(const plume_registry *reg, const char *name, const char **module_path) {
    for (size_t i = 0; i < reg->n_stages; i++)
        if (!strcmp(reg->stages[i].stage->name, name)) return plume_registry_stage(reg, i, module_path);
    return NULL;
}

const char *plume_registry_suggest(const plume_registry *reg, const char *name) {
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < reg->n_stages; i++) {
        const char *cand = reg->stages[i].stage->name;
        size_t d = plume_edit_distance(name, cand, 64);
        if (d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    return best && pl_closest(name, &best, 1) ? best : NULL;
}

size_t plume_registry_problem_count(const plume_registry *reg) {
    return reg->n_problems;
}

const char *plume_registry_problem(const plume_registry *reg, size_t i) {
    return i < reg->n_problems ? reg->problems[i] : NULL;
}

const plume_module *plume_registry_module_of(const plume_registry *reg, const plume_stage *stage) {
    for (size_t i = 0; i < reg->n_modules; i++)
        for (size_t k = 0; reg->modules[i].desc->stages[k]; k++)
            if (reg->modules[i].desc->stages[k] == stage) return reg->modules[i].desc;
    return NULL;
}

size_t plume_registry_shadow_count(const plume_registry *reg) {
    return reg->n_shadows;
}

const char *plume_registry_shadow(const plume_registry *reg, size_t i, const char **winner, const char **hidden) {
    if (i >= reg->n_shadows) return NULL;
    if (winner) *winner = reg->modules[reg->shadows[i].winner].path;
    if (hidden) *hidden = reg->modules[reg->shadows[i].loser].path;
    return reg->shadows[i].name;
}

const char *plume_registry_hidden(const plume_registry *reg, const char *name) {
    for (size_t i = 0; i < reg->n_shadows; i++)
        if (!strcmp(reg->shadows[i].name, name)) return reg->modules[reg->shadows[i].loser].path;
    return NULL;
}
