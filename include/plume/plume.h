/* plume — the runtime: module registry, graphs, runs.
 *
 * A program that runs pipelines uses this header; a module that provides stages
 * needs only stage.h. The usual sequence:
 *
 *     plume_error err;
 *     plume_registry *reg = plume_registry_open(&err);          // built-in + PLUME_MODULE_PATH
 *     plume_graph *g = plume_graph_load(reg, "g.yaml", NULL, 0, &err);   // parse + check
 *     plume_run_options opt = plume_run_defaults();
 *     opt.data = "requests.jsonl"; opt.out = "results.jsonl";
 *     plume_run_report rep;
 *     int rc = plume_run(g, &opt, &rep, &err);   // -1: nothing written; 0: done (rep.failed may be > 0)
 *     plume_graph_free(g);
 *     plume_registry_close(reg);
 */
#ifndef PLUME_PLUME_H
#define PLUME_PLUME_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include "error.h"
#include "file.h"
#include "stage.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- modules ---- */

typedef struct plume_registry plume_registry;

/* Loads every module of PLUME_MODULE_PATH (colon-separated folders, searched first, so a
 * module there can replace a built-in stage) and of the built-in folder. A module that fails
 * to load does not fail the registry: it is listed by plume_registry_problem(). NULL only
 * when out of memory. */
PLUME_API plume_registry *plume_registry_open(plume_error *err);
/* An empty registry: nothing loaded, for tests and embedders. */
PLUME_API plume_registry *plume_registry_new(plume_error *err);
PLUME_API void plume_registry_close(plume_registry *reg);
/* The folder of the built-in modules: <dir of libplume.so>/plume/modules. */
PLUME_API const char *plume_builtin_module_dir(void);
/* The folder of plume's shared data, <prefix>/share/plume once installed (found relative to
 * libplume.so, so a moved prefix still works): graphs/ (the shipped graphs) and models/ (the
 * default model). NULL when there is none (a build tree). */
PLUME_API const char *plume_data_dir(void);
/* Loads one module file (a second load of the same file is a no-op). Its stages are added
 * unless a stage of that name is already known. Returns 0, or -1 with err naming the file. */
PLUME_API int plume_registry_load(plume_registry *reg, const char *path, plume_error *err);
/* Every stage, in load order; *module_path (if not NULL) gets the file that provides it. */
PLUME_API size_t plume_registry_count(const plume_registry *reg);
PLUME_API const plume_stage *plume_registry_stage(const plume_registry *reg, size_t i, const char **module_path);
PLUME_API const plume_stage *plume_registry_find(const plume_registry *reg, const char *name, const char **module_path);
/* The module descriptor that provides a stage of the registry (its name and version). */
PLUME_API const plume_module *plume_registry_module_of(const plume_registry *reg, const plume_stage *stage);
/* The stage name closest to `name` by edit distance, or NULL when none is close. */
PLUME_API const char *plume_registry_suggest(const plume_registry *reg, const char *name);
/* Module files that failed to load, with the reason. */
PLUME_API size_t plume_registry_problem_count(const plume_registry *reg);
PLUME_API const char *plume_registry_problem(const plume_registry *reg, size_t i);
/* Stages hidden by a stage of the same name loaded before them (PLUME_MODULE_PATH comes before
 * the built-in folder; the first one loaded wins). Shadow i: returns the stage name, with the
 * file that wins and the file whose stage is hidden. */
PLUME_API size_t plume_registry_shadow_count(const plume_registry *reg);
PLUME_API const char *plume_registry_shadow(const plume_registry *reg, size_t i, const char **winner,
                                            const char **hidden);
/* The file of the module whose stage `name` is hidden by another, or NULL. */
PLUME_API const char *plume_registry_hidden(const plume_registry *reg, const char *name);

/* ---- parameter ranges (plume_param.min and max) ---- */

/* 1 when the parameter declares a range (an int or float with min and max not both 0). */
PLUME_API int plume_param_has_range(const plume_param *p);
/* 1 when value lies in the parameter's range, ends included (always, when it declares none). */
PLUME_API int plume_param_in_range(const plume_param *p, double value);
/* The range in words, as an error or `plume modules` says it: "from 1 to 64", "0 or more",
 * "at most 10"; "" when it declares none. Returns buf. */
PLUME_API const char *plume_param_range_text(const plume_param *p, char *buf, size_t size);

/* ---- graphs ---- */

typedef struct plume_graph plume_graph;

/* Parses a YAML graph, substitutes ${VAR} and ${VAR:-default}, applies the overrides
 * (each "stage.param=value", as `--set` gives them), resolves every stage (explicit module
 * paths are relative to the graph's folder), and checks the whole graph: stages, parameters,
 * models, slot wiring, types, cycles. Nothing runs. Returns NULL with err as
 * "FILE:LINE:COLUMN: what; hint". */
PLUME_API plume_graph *plume_graph_load(plume_registry *reg, const char *path,
                                        const char *const *sets, size_t n_sets, plume_error *err);
/* The same from YAML text; `name` stands for the file in messages, `dir` resolves relative paths. */
PLUME_API plume_graph *plume_graph_parse(plume_registry *reg, const char *yaml, size_t len, const char *name,
                                         const char *dir, const char *const *sets, size_t n_sets, plume_error *err);
PLUME_API void plume_graph_free(plume_graph *graph);
/* Stages as declared (the request reader not included), in the order they run. */
PLUME_API size_t plume_graph_stage_count(const plume_graph *graph);
PLUME_API const char *plume_graph_stage_name(const plume_graph *graph, size_t i);
/* The slots each result line carries, besides "id" and "error". */
PLUME_API size_t plume_graph_output_count(const plume_graph *graph);
PLUME_API const char *plume_graph_output(const plume_graph *graph, size_t i);
/* Graphviz DOT of the pipeline: the request, the stages, the result; edges are slots. */
PLUME_API int plume_graph_write_dot(const plume_graph *graph, FILE *out, plume_error *err);

/* ---- running ---- */

typedef struct plume_run_options {
    const char *data;      /* requests, JSON Lines; or NULL and `request` */
    const char *request;   /* one request as JSON text (the `--context` form); used when data is NULL */
    const char *out;       /* results path, written atomically; NULL: stdout */
    size_t batch;          /* records per batch (default 8, at most 65536) */
    int progress;          /* progress bar on stderr (the caller decides: stderr is a terminal) */
    FILE *stats;           /* if not NULL, time per stage is printed there at the end */
    volatile sig_atomic_t *cancel;  /* if not NULL and set (e.g. by a SIGINT handler), the run stops
                                       after writing the current batch and fails, leaving `out` as it
                                       was; the result lines written so far are kept, whole, in
                                       OUT.partial (with `out` set) */
    int resume;            /* with `out`: keep the results of OUT.partial (else of OUT), skip their
                              requests (checking their ids), run the rest; OUT.partial goes at the end */
    size_t shard, shards;  /* shards > 1: run only request i (counted from 0, blank lines not counted)
                              with i mod shards == shard; `out` gets this shard's results in order and
                              plume_run_merge interleaves the shards. In an MPI job of N ranks (see
                              plume/dist.h) plume_run does this itself when shards is 0: rank r runs
                              shard r into OUT.shard-r-of-N, checkpointed, and rank 0 merges into `out` */
    int checkpoint;        /* with `out`: the results are in OUT.partial from the start and synced to
                              the disk after every batch, so even a process that is killed leaves its
                              whole lines there for `resume`; OUT.partial becomes OUT at the end */
} plume_run_options;

typedef struct plume_run_report {
    size_t records;        /* result lines written (with resume: the kept ones not counted) */
    size_t failed;         /* of them, lines with "error" */
    double seconds;
    size_t resumed;        /* with resume: result lines kept from the earlier run */
} plume_run_report;

/* Crash reports (off by default: a library does not take over an application's signals).
 * When on, plume_run and plume_graph_start_stages install handlers for SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL and SIGABRT while they run (the previous ones are restored after): a crash
 * inside a stage prints which stage, from which module file, on which batch, keeps the result
 * lines of the finished batches in OUT.partial (for `resume`), and the process then dies of
 * the same signal. The `plume` command turns them on. */
PLUME_API void plume_set_crash_reports(int on);
/* Starts every stage of the graph (create() with its parameters, in the graph's order, as
 * plume_run does before its first batch) and stops them again (destroy()). Returns 0, or -1
 * with err naming the graph file, the stage and its reason when a stage refuses to start.
 * `plume check` calls it, so a stage's own checks (a model it cannot load, a parameter out
 * of range) are caught without running a record. */
PLUME_API int plume_graph_start_stages(plume_graph *graph, plume_error *err);
PLUME_API plume_run_options plume_run_defaults(void);
/* Creates every stage, runs every request through the graph batch by batch (independent
 * stages of a batch at the same time), writes one result line per request in input order,
 * destroys the stages. Returns 0 when every request got its result line (some may carry
 * an error: see report->failed), or -1 with err when the run could not finish; then the
 * output file is left as it was before the run (no partial file). */
PLUME_API int plume_run(plume_graph *graph, const plume_run_options *opt, plume_run_report *report,
                        plume_error *err);
/* OUT.shard-R-of-N: where shard R of N puts its results (a string to free). */
PLUME_API char *plume_run_shard_path(const char *out, size_t shard, size_t shards);
/* Joins the result files of shards 0..shards-1 (plume_run_shard_path) into `out`, in input
 * order (line i from shard i mod shards), written atomically, then removes the shard files.
 * Fails, leaving everything as it was, when a shard file is missing, a line is cut short, or
 * the line counts do not fit one requests file. */
PLUME_API int plume_run_merge(const char *out, size_t shards, plume_error *err);

/* ---- helpers for modules and tools ---- */

/* Reads a JSON Lines file of documents {"id","title","text","time"} into a docs value.
 * A bad line is an error naming file:line. Returns 0 or -1. */
PLUME_API int plume_docs_read_jsonl(const char *path, plume_value *docs, plume_error *err);

#ifdef __cplusplus
}
#endif
#endif
