/* libplume internals shared by the runtime's files: the graph as loaded and checked,
 * and the record/batch structures a run works on. Not installed. */
#ifndef PLUME_ENGINE_H
#define PLUME_ENGINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "plume/plume.h"

/* The name of the implicit first node that turns a request line into slots. */
#define PL_REQUEST_NODE "request"
/* The engine's own request stage (request_stage.c): turns a request line into the request's slots. */
extern const plume_stage pl_request_stage;
#define PL_BATCH_MAX 65536
/* The longest result line read back (--resume, merging shards): a result carries several slots,
 * each up to a request line's size, so it may be longer than any request line. */
#define PL_RESULT_LINE_MAX ((size_t)1 << 30)

typedef struct pl_pos {
    int line, col;                /* 1-based; 0: no position (e.g. from --set) */
} pl_pos;

/* `in: { port: slot }` or `out: { port: slot }` of one stage. */
typedef struct pl_wire {
    char *port, *slot;
    pl_pos port_pos, slot_pos;
} pl_wire;

/* `with: { name: value }` or one --set; origin is NULL for the graph file, else the --set text. */
typedef struct pl_setting {
    char *name, *value;
    pl_pos pos, key_pos;          /* of the value, of the name */
    const char *origin;
} pl_setting;

/* A parameter value, checked against its declared type. */
typedef struct pl_arg {
    const char *name;
    plume_type type;
    long long i;
    double f;
    char *s;                      /* the text as given (the model name for PLUME_MODEL) */
} pl_arg;

struct plume_args {
    pl_arg *items;
    size_t count;
};

typedef struct pl_model {
    char *name, *path, *resolved;
    char *written;                /* the path as the graph writes it, before ${VAR} substitution */
    pl_pos pos, path_pos;
} pl_model;

struct plume_host {
    struct plume_graph *graph;
    const char *node;             /* the node name, for log lines */
};

typedef struct pl_node {
    char *name;
    pl_pos pos;
    char *use;
    pl_pos use_pos;
    int implicit;                 /* the request reader the engine adds */
    const plume_stage *stage;
    const char *module_path;
    pl_wire *in, *out;
    size_t n_in, n_out;
    pl_setting *with;
    size_t n_with;
    /* resolved by the checks */
    int *in_slot;                 /* per declared input port: slot index, or -1 (unwired optional) */
    int *out_slot;                /* per declared output port: slot index (unwired: an anonymous slot) */
    size_t n_in_ports, n_out_ports;
    plume_args args;
    plume_host host;
    int *deps;                    /* nodes this one waits for */
    size_t n_deps;
} pl_node;

typedef struct pl_slot {
    char *name;                   /* NULL for the anonymous slot of an unwired output */
    plume_type type;
    int writer;                   /* node index */
    pl_pos pos;                   /* where the writer names it */
} pl_slot;

struct plume_graph {
    plume_registry *reg;
    char *path, *dir;
    pl_model *models;
    size_t n_models;
    pl_node *nodes;               /* nodes[0] is the request reader */
    size_t n_nodes;
    pl_slot *slots;
    size_t n_slots;
    int *order;                   /* a topological order of the nodes */
    int *outputs;                 /* slot indices written to results */
    size_t n_outputs;
    pl_pos output_pos;
    struct pl_node *sink;         /* the `output:` names, kept as in: wires for their positions */
    int id_slot;                  /* the slot "id", or -1 */
};

/* graph_check.c: everything after parsing. Returns 0 or -1 with err. */
int pl_graph_check(plume_graph *g, plume_error *err);
/* args.c */
int pl_args_build(plume_args *args, const plume_graph *g, const pl_node *node, plume_error *err);
void pl_args_free(plume_args *args);
int pl_parse_param(plume_type type, const char *text, pl_arg *out);
/* hint.c: the closest candidate within a small distance, or NULL. */
const char *pl_closest(const char *name, const char *const *candidates, size_t n);
/* module.c */
int pl_registry_load_pinned(plume_registry *reg, const char *path, const char *stage_name,
                            const plume_stage **stage, const char **module_path, plume_error *err);
/* util */
/* grow.c: makes room for one more item of `size` bytes in *items (count used of *cap), doubling
 * the capacity (8 at first). 0, or -1 when out of memory with *items unchanged. */
int pl_grow(void **items, size_t count, size_t *cap, size_t size);
char *pl_strdup(const char *s);
char *pl_strndup(const char *s, size_t n);
double pl_now(void);

/* ---- a run ---- */

typedef struct pl_record {
    char *line;                   /* the request's JSON text */
    char *origin;                 /* "FILE:LINE" */
    plume_value *slots;
    char *error;                  /* the first failure, or NULL */
} pl_record;

typedef struct pl_run pl_run;

struct plume_batch {
    pl_run *run;
    pl_node *node;
    pl_record **recs;
    size_t count;
};

struct pl_run {
    plume_graph *graph;
    pthread_mutex_t lock;         /* guards pl_record.error across concurrent stages */
};

/* run.c: one process's run (plume_run is it, or, in an MPI job, run_shard.c's wrapper of it). */
typedef struct pl_stage_stats {
    double seconds;
    size_t calls, records;
} pl_stage_stats;
/* As plume_run, on this process alone; stats_out (g->n_nodes entries, may be NULL) gets the
 * time per stage of a run that finished. */
int pl_run_local(plume_graph *g, const plume_run_options *opt, plume_run_report *report, pl_stage_stats *stats_out,
                 plume_error *err);
/* The --stats table; `ranks` > 1: the seconds are sums over that many ranks. */
void pl_run_print_stats(const plume_graph *g, const pl_stage_stats *stats, FILE *f, double total, int ranks);

/* stage_life.c: create() every stage in the graph's order (states[i] zeroed, started[i] set
 * once created), and destroy() those that started. */
int pl_stages_create(plume_graph *g, void **states, char *started, plume_error *err);
void pl_stages_destroy(plume_graph *g, void **states, const char *started);

/* crash_guard.c: with plume_set_crash_reports(1), a crash while a graph is started or run
 * names the stage, its module file and the batch, and keeps the finished results (see there). */
enum { PL_CRASH_CREATE = 1, PL_CRASH_RUN, PL_CRASH_DESTROY };
void pl_crash_arm(const plume_graph *g);
void pl_crash_disarm(void);
void pl_crash_enter(int node, int phase);   /* this thread calls into stage `node` */
void pl_crash_leave(void);
void pl_crash_batch(size_t number, const char *first_request, const char *last_request);
/* The results file to keep at a crash (NULL: none), and how many whole lines it holds on the disk. */
struct pl_writer;
void pl_crash_results(const struct pl_writer *w, const char *partial);
void pl_crash_kept(size_t lines);
/* An alternate signal stack for a thread that calls into stages (NULL when not armed). */
void *pl_crash_thread_begin(void);
void pl_crash_thread_end(void *stack);

/* run_writer.c: the results file, written atomically (see there). */
typedef struct pl_writer {
    FILE *f;                      /* out.f: write the lines here */
    const char *path;             /* NULL: stdout */
    plume_output_file out;        /* the results file, written whole or not at all (output_file.c) */
    int published;                /* checkpoint mode: the file is OUT.partial already, kept on failure */
} pl_writer;
int pl_writer_open(pl_writer *w, const char *path, plume_error *err);
/* output_file.c: puts what o holds so far on the disk under the name `to` (replacing it), and
 * writing goes on into that file; plume_output_commit later renames it to the output. 0, or -1
 * with errno. */
int pl_output_move(plume_output_file *o, const char *to);
int pl_writer_publish(pl_writer *w, const char *partial, plume_error *err);
int pl_writer_sync(pl_writer *w, plume_error *err);
/* An interrupted run: the whole lines so far go to `partial`, the output stays as it was. 0 or -1. */
int pl_writer_keep_partial(pl_writer *w, const char *partial);
int pl_writer_commit(pl_writer *w, plume_error *err);
/* Nothing half-written is left (a published checkpoint stays: it holds whole lines). */
void pl_writer_abort(pl_writer *w);

/* resume.c: the results an interrupted run kept, for --resume. */
typedef struct pl_resume {
    char **ids;                   /* per earlier result line: its id, or NULL */
    size_t count, next;           /* lines kept; requests skipped so far */
    char *from;                   /* the file they came from */
    int from_partial;             /* it is OUT.partial (removed once the run completes) */
} pl_resume;
char *pl_partial_path(const char *out);
/* Copies the complete result lines of OUT.partial (else OUT; neither: nothing) to copy_to. */
int pl_resume_load(pl_resume *rs, const char *out, FILE *copy_to, plume_error *err);
/* 1: skip this request (its result was kept); 0: run it; -1: its id does not match. */
int pl_resume_skip(pl_resume *rs, const char *request, const char *origin, plume_error *err);
/* At the end of the requests: -1 if results were kept for requests that no longer exist. */
int pl_resume_finish(pl_resume *rs, const char *data, plume_error *err);
void pl_resume_free(pl_resume *rs);

/* progress.c: the progress bar, fitted to the terminal's width. pl_progress_format writes the
 * line for `columns` columns (at most columns - 1 characters) and returns its length. */
int pl_progress_format(char *out, size_t size, int columns, size_t done, size_t failed, size_t total,
                       double elapsed);
void pl_progress_draw(size_t done, size_t failed, size_t total, double elapsed, int final);
/* Ends the bar's line when one is on screen, so that the next message starts on a line of its own. */
void pl_progress_break(void);
int pl_progress_line_open(void);

extern char pl_oom_error[];   /* the error of a record whose message could not be allocated */
void pl_record_fail(pl_run *run, pl_record *rec, const char *node, const char *msg);

#endif
