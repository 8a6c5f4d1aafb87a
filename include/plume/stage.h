/* plume — the module ABI: what a stage plugin exports and what it may call.
 *
 * A module is a shared object with one exported descriptor, `plume_module_v1`,
 * made by the PLUME_MODULE() macro. The descriptor names the module and lists
 * its stages; each stage is a struct literal (as an FFmpeg filter is) with its
 * ports, its parameters and three functions: create → run (per batch) → destroy.
 * Everything is static metadata, so `plume modules` can describe a stage
 * without running it.
 *
 * A third-party stage builds against the installed headers alone:
 *     cc -shared -fPIC $(pkg-config --cflags plume) my.c -o my.so
 * and is used from a graph as `use: ./my.so:synthesize.mine`. */
#ifndef PLUME_STAGE_H
#define PLUME_STAGE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below, or the meaning of a field, changes.
 * The loader refuses a module whose descriptor carries another number. */
#define PLUME_ABI_VERSION 2

/* Port flags. */
#define PLUME_PORT_OPTIONAL 1u   /* an input that may be left unwired: it reads as PLUME_NONE */

typedef struct plume_port {
    const char *name;
    plume_type type;     /* PLUME_TEXT, PLUME_DOCS, PLUME_TERMS or PLUME_NUMBER */
    const char *doc;
    unsigned flags;
} plume_port;

typedef struct plume_param {
    const char *name;
    plume_type type;       /* PLUME_INT, PLUME_FLOAT, PLUME_BOOL, PLUME_STRING or PLUME_MODEL */
    const char *fallback;  /* default, as YAML text; NULL: the parameter is required */
    const char *doc;
    /* The values an int or float parameter may take, both ends included (as FFmpeg's AVOption
     * min and max). The engine refuses any other value, naming the graph's line, before the
     * stage's create() is called, so create() need not check it again; the loader refuses a
     * module whose default lies outside. Both 0: any value (the only meaning for a bool,
     * string or model). Write them with the macros below. */
    double min, max;
} plume_param;

/* The range of a plume_param, written after its doc:
 *     { "beams", PLUME_INT, "4", "beam search width", PLUME_RANGE(1, 64) },
 *     { "n", PLUME_INT, "5", "how many documents to keep", PLUME_AT_LEAST(0) },
 *     { "sep", PLUME_STRING, " ", "put between two pieces", PLUME_NO_RANGE }, */
#define PLUME_UNBOUNDED            ((double)INFINITY)
#define PLUME_RANGE(lo_, hi_)      (double)(lo_), (double)(hi_)
#define PLUME_AT_LEAST(lo_)        (double)(lo_), PLUME_UNBOUNDED
#define PLUME_AT_MOST(hi_)         (-PLUME_UNBOUNDED), (double)(hi_)
#define PLUME_NO_RANGE             0.0, 0.0

/* Opaque handles the runtime passes to a stage. */
typedef struct plume_args  plume_args;   /* a stage instance's parameter values */
typedef struct plume_host  plume_host;   /* what the runtime owns: models, logging */
typedef struct plume_batch plume_batch;  /* the records a run() call works on */

typedef struct plume_stage {
    const char *name;      /* "module.stage", e.g. "retrieve.bm25" */
    const char *doc;       /* one paragraph; the paper's name, if any, in it */
    const plume_port *inputs;    /* each list ends with a {0} entry; NULL for none */
    const plume_port *outputs;
    const plume_param *params;
    size_t state_size;     /* bytes the runtime allocates (zeroed) for one instance */
    /* Called once per graph node before any record. Returns 0, or -1 with err set. May be NULL. */
    int  (*create)(void *state, const plume_args *args, plume_host *host, plume_error *err);
    /* Called for each batch. A failure of one record: plume_batch_fail() and go on.
     * Returning -1 (err set) fails every record of the batch that has no error yet. */
    int  (*run)(void *state, plume_batch *batch, plume_error *err);
    /* Frees what create() and run() allocated inside state. May be NULL. */
    void (*destroy)(void *state);
} plume_stage;

typedef struct plume_module {
    uint32_t abi_version;     /* PLUME_ABI_VERSION when built */
    uint32_t stage_size;      /* sizeof(plume_stage) when built: a second guard */
    const char *name;         /* "retrieve" */
    const char *version;      /* the module's own version, free-form */
    const plume_stage *const *stages;  /* NULL-terminated */
} plume_module;

#define PLUME_MODULE_SYMBOL "plume_module_v1"

#if defined(__GNUC__)
#define PLUME_EXPORT __attribute__((visibility("default")))
#else
#define PLUME_EXPORT
#endif

/* PLUME_MODULE("retrieve", "1.0", &retrieve_bm25, &retrieve_recent); */
#define PLUME_MODULE(name_, version_, ...)                                          \
    static const plume_stage *const plume_module_stages_[] = { __VA_ARGS__, NULL }; \
    PLUME_EXPORT extern const plume_module plume_module_v1;                         \
    const plume_module plume_module_v1 = {                                          \
        PLUME_ABI_VERSION, (uint32_t)sizeof(plume_stage), name_, version_,          \
        plume_module_stages_ }

/* ---- parameters (values already checked against the declared type) ---- */
PLUME_API long long   plume_args_int(const plume_args *args, const char *name);
PLUME_API double      plume_args_float(const plume_args *args, const char *name);
PLUME_API int         plume_args_bool(const plume_args *args, const char *name);
PLUME_API const char *plume_args_string(const plume_args *args, const char *name);  /* also PLUME_MODEL names */

/* ---- the batch ---- */
PLUME_API size_t      plume_batch_count(const plume_batch *batch);
PLUME_API const char *plume_batch_id(const plume_batch *batch, size_t record);
/* Input port i (declaration order) of a record; type PLUME_NONE for an unwired optional input. */
PLUME_API const plume_value *plume_batch_in(const plume_batch *batch, size_t record, size_t port);
/* Output port i of a record: fill it with the value setters. */
PLUME_API plume_value *plume_batch_out(plume_batch *batch, size_t record, size_t port);
/* Marks one record failed; its later stages are skipped and its result line carries the message. */
PLUME_API void plume_batch_fail(plume_batch *batch, size_t record, const char *fmt, ...) PLUME_PRINTF(3, 4);
PLUME_API int  plume_batch_failed(const plume_batch *batch, size_t record);
/* The request a record came from: its JSON text as read, and (if origin is not NULL) where it
 * was read, "FILE:LINE". Only the request reader (io.request) needs this. */
PLUME_API const char *plume_batch_request(const plume_batch *batch, size_t record, const char **origin);

/* ---- the host ---- */
typedef enum plume_log_level { PLUME_LOG_ERROR, PLUME_LOG_WARN, PLUME_LOG_INFO, PLUME_LOG_DEBUG } plume_log_level;
PLUME_API void plume_host_log(plume_host *host, plume_log_level level, const char *fmt, ...) PLUME_PRINTF(3, 4);
/* The file path of a model declared in the graph's `models:` section, or NULL. */
PLUME_API const char *plume_host_model_path(plume_host *host, const char *model_name);

#ifdef __cplusplus
}
#endif
#endif
