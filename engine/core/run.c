/* Running a graph: requests in, result lines out, batch by batch.
 *
 * Each batch is read, then its stages run as their inputs become ready: a stage starts on
 * its own thread as soon as every stage it reads from has finished, so independent stages
 * of one batch run at the same time. A stage's run() is never called twice at once (batches
 * go one after another), so a stage's state needs no lock. Results are written in input
 * order to a temporary file beside the output, which replaces the output only once complete. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <jansson.h>
#include "engine.h"
#include "plume/read_line.h"

/* ---- requests ---- */

typedef struct reader {
    plume_line_reader lines;      /* the requests file */
    const char *single;           /* one request given as text */
    int single_done;
} reader;

/* Reads the next non-blank line, at most PLUME_LINE_MAX bytes (longer: *too_long is set, and the
 * record gets the reader's error, naming the file and line). Returns 1 with the text (without
 * its newline) and origin set, 0 at the end, -1 on error. */
static int read_request(reader *rd, char **text, char **origin, int *too_long, plume_error *err) {
    *too_long = 0;
    if (rd->single) {
        if (rd->single_done) return 0;
        rd->single_done = 1;
        *text = pl_strdup(rd->single);
        *origin = pl_strdup("command line");
        if (!*text || !*origin) return free(*text), free(*origin), plume_fail(err, "out of memory");
        return 1;
    }
    for (;;) {
        char *line;
        size_t len;
        plume_error over;
        int got = plume_line_next(&rd->lines, &line, &len, &over);
        if (got == 0) return 0;
        if (got < 0 && !rd->lines.too_long) return plume_fail(err, "%s", over.msg);
        *too_long = rd->lines.too_long;
        if (!*too_long && plume_line_is_blank(line, len)) continue;
        if (len && line[len - 1] == '\n') line[--len] = '\0';
        char where[4096 + 32];
        snprintf(where, sizeof where, "%s:%zu", rd->lines.path, rd->lines.line_no);
        /* a line over the cap keeps the reader's message as its text: the record fails with it */
        *text = *too_long ? pl_strdup(over.msg) : pl_strndup(line, len);
        *origin = pl_strdup(where);
        if (!*text || !*origin) return free(*text), free(*origin), plume_fail(err, "out of memory");
        return 1;
    }
}

/* ---- results ---- */

static json_t *value_json(const plume_value *v) {
    switch (v->type) {
    case PLUME_TEXT:
        return json_stringn(v->as.text.str, v->as.text.len);
    case PLUME_NUMBER:
        return json_real(v->as.number);
    case PLUME_DOCS: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->as.docs.count; i++) {
            const plume_doc *d = &v->as.docs.items[i];
            json_t *o = json_pack("{s:s?,s:s?,s:s?,s:f,s:f}", "id", d->id, "title", d->title, "text", d->text,
                                  "time", d->time, "score", d->score);
            if (!o || json_array_append_new(a, o)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case PLUME_TERMS: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->as.terms.count; i++) {
            json_t *o = json_pack("{s:s?,s:f}", "word", v->as.terms.items[i].word, "weight",
                                  v->as.terms.items[i].weight);
            if (!o || json_array_append_new(a, o)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    default:
        return json_null();
    }
}

/* One line: {"id": ..., each output slot ..., "error": ...}. A failed record carries only its id and error. */
static int write_result(pl_writer *w, pl_run *run, pl_record *rec, plume_error *err) {
    const plume_graph *g = run->graph;
    json_t *o = json_object();
    if (!o) return plume_fail(err, "out of memory");
    const plume_value *id = g->id_slot >= 0 ? &rec->slots[g->id_slot] : NULL;
    json_object_set_new(o, "id", id && id->type == PLUME_TEXT ? json_stringn(id->as.text.str, id->as.text.len)
                                                               : json_null());
    for (size_t i = 0; !rec->error && i < g->n_outputs; i++) {
        const pl_slot *s = &g->slots[g->outputs[i]];
        if (rec->slots[g->outputs[i]].type == PLUME_NONE) continue;   /* left empty: no value, not null */
        json_t *v = value_json(&rec->slots[g->outputs[i]]);
        if (!v) {  /* jansson refuses text that is not UTF-8 */
            char msg[512];
            snprintf(msg, sizeof msg, "slot '%s' cannot be written as JSON: text that is not UTF-8, or a number "
                     "that is not finite", s->name);
            for (size_t k = 0; k < i; k++) json_object_del(o, g->slots[g->outputs[k]].name);
            pl_record_fail(run, rec, NULL, msg);
            break;
        }
        json_object_set_new(o, s->name, v);
    }
    if (rec->error) json_object_set_new(o, "error", json_string(rec->error));
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!line) return plume_fail(err, "out of memory writing result of %s", rec->origin);
    int bad = fputs(line, w->f) < 0 || fputc('\n', w->f) == EOF;
    free(line);
    if (bad) return plume_fail(err, "%s: cannot write the results: %s", w->path ? w->path : "stdout", strerror(errno));
    return 0;
}

/* ---- scheduling one batch ---- */

typedef struct sched {
    pl_run run;
    plume_graph *g;
    void **states;
    pl_stage_stats *stats;
    int **dependents;             /* per node: the nodes that wait for it */
    size_t *n_dependents;
    /* per batch */
    pl_record **recs;
    size_t n_recs;
    pthread_cond_t cond;          /* signalled when a node finishes (uses run.lock) */
    int *finished;                /* queue of nodes that finished, not yet handled */
    size_t n_finished;
    pthread_t *threads;
    char *threaded;
    char *started;                /* per node: create() succeeded (destroy() is owed) */
} sched;

typedef struct job {
    sched *s;
    int node;
} job;

static void run_node(sched *s, int ni) {
    pl_node *node = &s->g->nodes[ni];
    pl_record **view = malloc((s->n_recs ? s->n_recs : 1) * sizeof *view);
    size_t count = 0;
    if (!view) {
        for (size_t r = 0; r < s->n_recs; r++) pl_record_fail(&s->run, s->recs[r], node->name, "out of memory");
        return;
    }
    pthread_mutex_lock(&s->run.lock);
    for (size_t r = 0; r < s->n_recs; r++)
        if (!s->recs[r]->error) view[count++] = s->recs[r];
    pthread_mutex_unlock(&s->run.lock);
    if (count) {
        plume_batch b = { &s->run, node, view, count };
        plume_error err = { "" };
        double t0 = pl_now();
        pl_crash_enter(ni, PL_CRASH_RUN);
        int rc = node->stage->run(s->states[ni], &b, &err);
        pl_crash_leave();
        s->stats[ni].seconds += pl_now() - t0;
        s->stats[ni].calls++;
        s->stats[ni].records += count;
        if (rc) {
            const char *msg = err.msg[0] ? err.msg : "failed without saying why";
            for (size_t r = 0; r < count; r++) pl_record_fail(&s->run, view[r], node->implicit ? NULL : node->name, msg);
        }
    }
    free(view);
}

static void *job_main(void *arg) {
    job *j = arg;
    run_node(j->s, j->node);
    pthread_mutex_lock(&j->s->run.lock);
    j->s->finished[j->s->n_finished++] = j->node;
    pthread_cond_signal(&j->s->cond);
    pthread_mutex_unlock(&j->s->run.lock);
    return NULL;
}

/* A thread of its own for one stage: with crash reports on, it gets an alternate signal stack,
 * so that a stage overflowing its stack is reported too. */
static void *job_thread(void *arg) {
    void *alt = pl_crash_thread_begin();
    job_main(arg);
    pl_crash_thread_end(alt);
    return NULL;
}

static void launch(sched *s, job *jobs, int ni) {
    jobs[ni] = (job){ s, ni };
    if (pthread_create(&s->threads[ni], NULL, job_thread, &jobs[ni]) == 0) {
        s->threaded[ni] = 1;
        return;
    }
    s->threaded[ni] = 0;  /* no thread to be had: run it here, in order, which is still correct */
    job_main(&jobs[ni]);
}

static int run_batch(sched *s, plume_error *err) {
    size_t n = s->g->n_nodes;
    size_t *pending = malloc(n * sizeof(size_t));
    job *jobs = malloc(n * sizeof(job));
    if (!pending || !jobs) {
        free(pending);
        free(jobs);
        return plume_fail(err, "out of memory");
    }
    int *ready = malloc(n * sizeof(int));
    if (!ready) {
        free(pending);
        free(jobs);
        return plume_fail(err, "out of memory");
    }
    s->n_finished = 0;
    size_t n_ready = 0, running = 0, handled = 0, head = 0;
    for (size_t i = 0; i < n; i++) pending[i] = s->g->nodes[i].n_deps;
    for (size_t i = 0; i < n; i++)
        if (!pending[i]) ready[n_ready++] = (int)i;
    for (;;) {
        /* A lone ready stage with nothing else running (a chain, the common case) runs here;
         * only stages that can overlap get threads of their own. */
        if (n_ready == 1 && running == 0) {
            s->threaded[ready[0]] = 0;
            job_main(&(job){ s, ready[0] });
            running++;
        } else {
            for (size_t k = 0; k < n_ready; k++) launch(s, jobs, ready[k]);
            running += n_ready;
        }
        n_ready = 0;
        if (handled == n) break;
        pthread_mutex_lock(&s->run.lock);
        while (head == s->n_finished) pthread_cond_wait(&s->cond, &s->run.lock);
        int f = s->finished[head++];
        pthread_mutex_unlock(&s->run.lock);
        if (s->threaded[f]) pthread_join(s->threads[f], NULL);
        handled++;
        running--;
        for (size_t k = 0; k < s->n_dependents[f]; k++) {
            int d = s->dependents[f][k];
            if (--pending[d] == 0) ready[n_ready++] = d;
        }
    }
    free(ready);
    free(pending);
    free(jobs);
    return 0;
}

/* ---- the run ---- */

plume_run_options plume_run_defaults(void) {
    plume_run_options o;
    memset(&o, 0, sizeof o);
    o.batch = 8;
    return o;
}

static void free_records(sched *s, pl_record *recs, size_t n) {
    for (size_t r = 0; r < n; r++) {
        for (size_t k = 0; recs[r].slots && k < s->g->n_slots; k++) plume_value_clear(&recs[r].slots[k]);
        free(recs[r].slots);
        free(recs[r].line);
        free(recs[r].origin);
        if (recs[r].error != pl_oom_error) free(recs[r].error);
    }
    memset(recs, 0, n * sizeof *recs);
}

static size_t count_lines(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = 0;
    int c, last = '\n';
    while ((c = getc(f)) != EOF) {
        if (c == '\n') n++;
        last = c;
    }
    if (last != '\n') n++;
    fclose(f);
    return n;
}

void pl_run_print_stats(const plume_graph *g, const pl_stage_stats *stats, FILE *f, double total, int ranks) {
    /* Columns as wide as the longest stage and kind names, so the table stays aligned. */
    int wn = (int)strlen("stage"), wu = (int)strlen("uses");
    for (size_t i = 0; i < g->n_nodes; i++) {
        int a = (int)strlen(g->nodes[i].name), b = (int)strlen(g->nodes[i].stage->name);
        if (a > wn) wn = a;
        if (b > wu) wu = b;
    }
    fprintf(f, "%-*s  %-*s %7s %9s %12s %6s\n", wn, "stage", wu, "uses", "batches", "seconds", "ms/record", "share");
    for (size_t k = 0; k < g->n_nodes; k++) {
        int i = g->order[k];
        const pl_node *n = &g->nodes[i];
        const pl_stage_stats *st = &stats[i];
        fprintf(f, "%-*s  %-*s %7zu %9.3f %12.3f %5.1f%%\n", wn, n->name, wu, n->stage->name, st->calls, st->seconds,
                st->records ? 1e3 * st->seconds / (double)st->records : 0.0,
                total > 0 ? 100.0 * st->seconds / (total * ranks) : 0.0);
    }
    if (ranks > 1)  /* the seconds are summed over the ranks, the share is of all ranks' wall time */
        fprintf(f, "(batches and seconds summed over %d MPI ranks, shares of %d x the wall time; stages of one batch "
                "overlap, so the shares can add up to more than 100%%; wall time %.3f s)\n", ranks, ranks, total);
    else
        fprintf(f, "(stages of one batch overlap, so the shares can add up to more than 100%%; wall time %.3f s)\n",
                total);
}

/* ---- one local run, step by step ---- */

/* Everything a local run holds, so that each step below reads one concern at a time. */
typedef struct local_run {
    plume_graph *g;
    const plume_run_options *opt;
    size_t batch;                 /* records per batch */
    size_t total;                 /* requests this run expects, for the progress bar */
    FILE *requests;               /* the requests file (NULL: one request given as text) */
    reader rd;
    sched s;
    pl_record *recs;              /* the batch's records; s.recs points at those that run */
    pl_writer w;
    int writer_ok;                /* w is open and owes a commit or an abort */
    pl_resume resume;             /* the results an interrupted run kept (--resume) */
    char *partial;                /* OUT.partial, where kept results wait */
    size_t index;                 /* requests read so far: request i belongs to shard i mod shards */
    plume_run_report rep;
} local_run;

/* The options that cannot work, refused before anything is opened. */
static int check_options(const plume_run_options *opt, size_t batch, plume_error *err) {
    if (batch > PL_BATCH_MAX) return plume_fail(err, "--batch %zu is more than %d records", batch, PL_BATCH_MAX);
    if (!opt->data && !opt->request) return plume_fail(err, "no requests: give a requests file (--data)");
    if (opt->shards > 1 && opt->shard >= opt->shards)
        return plume_fail(err, "shard %zu of %zu: shards are numbered 0..%zu", opt->shard, opt->shards,
                          opt->shards - 1);
    if (opt->checkpoint && !opt->out) return plume_fail(err, "checkpointing needs the results file (--out)");
    return 0;
}

/* The requests: a file, or one request given as text; and how many this shard expects. */
static int open_requests(local_run *lr, plume_error *err) {
    const plume_run_options *opt = lr->opt;
    lr->rd = (reader){ .single = opt->data ? NULL : opt->request };
    lr->requests = opt->data ? fopen(opt->data, "rb") : NULL;
    if (opt->data && !lr->requests)
        return plume_fail(err, "%s: cannot open the requests: %s", opt->data, strerror(errno));
    if (lr->requests) plume_line_attach(&lr->rd.lines, lr->requests, opt->data, PLUME_LINE_MAX);
    lr->total = opt->progress && opt->data ? count_lines(opt->data) : 1;
    if (opt->shards > 1) lr->total = (lr->total + opt->shards - 1 - opt->shard) / opt->shards;  /* this shard's part */
    return 0;
}

/* The scheduler's tables (per node: state, statistics, the nodes that wait for it, its thread)
 * and the records of one batch. */
static int build_sched(local_run *lr, plume_error *err) {
    sched *s = &lr->s;
    size_t n = lr->g->n_nodes;
    s->g = lr->g;
    s->run.graph = lr->g;
    pthread_mutex_init(&s->run.lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->states = calloc(n, sizeof(void *));
    s->stats = calloc(n, sizeof(pl_stage_stats));
    s->dependents = calloc(n, sizeof(int *));
    s->n_dependents = calloc(n, sizeof(size_t));
    s->finished = calloc(n, sizeof(int));
    s->threads = calloc(n, sizeof(pthread_t));
    s->threaded = calloc(n, 1);
    s->started = calloc(n, 1);
    lr->recs = calloc(lr->batch, sizeof(pl_record));
    s->recs = calloc(lr->batch, sizeof(pl_record *));
    if (!s->states || !s->stats || !s->dependents || !s->n_dependents || !s->finished || !s->threads ||
        !s->threaded || !s->started || !lr->recs || !s->recs)
        return plume_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(s->dependents[i] = calloc(n, sizeof(int)))) return plume_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < lr->g->nodes[i].n_deps; d++) {
            int on = lr->g->nodes[i].deps[d];
            s->dependents[on][s->n_dependents[on]++] = (int)i;
        }
    return 0;
}

static void free_sched(local_run *lr) {
    sched *s = &lr->s;
    for (size_t i = 0; s->dependents && i < lr->g->n_nodes; i++) free(s->dependents[i]);
    free(s->states);
    free(s->stats);
    free(s->dependents);
    free(s->n_dependents);
    free(s->finished);
    free(s->threads);
    free(s->threaded);
    free(s->started);
    free(s->recs);
    free(lr->recs);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->run.lock);
}

/* The results file, and what an earlier run kept in it: resumed lines are copied first and put
 * on the disk before the first batch, so a crash keeps them; a checkpointed run writes into
 * OUT.partial from the start. */
static int open_output(local_run *lr, plume_error *err) {
    const plume_run_options *opt = lr->opt;
    if (opt->resume && !opt->out)
        return plume_fail(err, "resuming needs the results file (--out) of the run to resume");
    if (pl_writer_open(&lr->w, opt->out, err)) return -1;
    lr->writer_ok = 1;
    if (opt->resume && pl_resume_load(&lr->resume, opt->out, lr->w.f, err)) return -1;
    if (opt->checkpoint) {
        if (!(lr->partial = pl_partial_path(opt->out))) return plume_fail(err, "out of memory");
        if (pl_writer_publish(&lr->w, lr->partial, err)) return -1;
    }
    if (opt->out && !lr->partial && !(lr->partial = pl_partial_path(opt->out))) return plume_fail(err, "out of memory");
    if (lr->resume.count && pl_writer_sync(&lr->w, err)) return -1;
    pl_crash_results(&lr->w, lr->partial);
    pl_crash_kept(lr->resume.count);
    lr->rep.resumed = lr->resume.count;
    return 0;
}

/* Reads the next batch: up to lr->batch requests of this shard that an earlier run has not
 * answered already. *got: the records read; *more = 0 once the requests are exhausted. */
static int read_batch(local_run *lr, size_t *got, int *more, plume_error *err) {
    const plume_run_options *opt = lr->opt;
    *got = 0;
    while (*got < lr->batch) {
        pl_record *r = &lr->recs[*got];
        int too_long;
        int k = read_request(&lr->rd, &r->line, &r->origin, &too_long, err);
        if (k <= 0) {
            *more = 0;
            return k < 0 ? -1 : 0;
        }
        if (opt->shards > 1 && lr->index++ % opt->shards != opt->shard) {   /* another shard's */
            free(r->line);
            free(r->origin);
            r->line = r->origin = NULL;
            continue;
        }
        if (!too_long && lr->resume.next < lr->resume.count) {   /* answered by the run resumed */
            int skip = pl_resume_skip(&lr->resume, r->line, r->origin, err);
            free(r->line);
            free(r->origin);
            r->line = r->origin = NULL;
            if (skip < 0) {
                *more = 0;
                return -1;
            }
            continue;
        }
        lr->s.recs[(*got)++] = r;
        if (!(r->slots = calloc(lr->g->n_slots, sizeof(plume_value)))) return plume_fail(err, "out of memory");
        if (too_long) pl_record_fail(&lr->s.run, r, NULL, r->line);   /* the line holds the reader's message */
    }
    return 0;
}

/* The batch's result lines, in input order. */
static int write_batch(local_run *lr, size_t got, plume_error *err) {
    for (size_t r = 0; r < got; r++) {
        int rc = write_result(&lr->w, &lr->s.run, &lr->recs[r], err);
        lr->rep.records++;
        if (lr->recs[r].error) lr->rep.failed++;
        if (rc) return rc;
    }
    return 0;
}

/* Every batch's lines leave the stdio buffer (a checkpoint's reach the disk too), so that a crash
 * in a later batch finds them in the file, whole; after the last batch, a resumed run checks that
 * it met every line it kept. */
static int keep_batch(local_run *lr, int more, plume_error *err) {
    const plume_run_options *opt = lr->opt;
    if (pl_writer_sync(&lr->w, err)) return -1;
    pl_crash_kept(lr->resume.count + lr->rep.records);
    if (!more && opt->resume) return pl_resume_finish(&lr->resume, opt->data ? opt->data : "the request", err);
    return 0;
}

/* Stops an interrupted run (opt->cancel set) between batches: the batch at hand was written, so
 * every line so far is whole, and kept in OUT.partial for --resume. */
static int stop_if_cancelled(local_run *lr, plume_error *err) {
    const plume_run_options *opt = lr->opt;
    if (!opt->cancel || !*opt->cancel) return 0;
    size_t kept = lr->resume.count + lr->rep.records;
    if (!opt->out) return plume_fail(err, "interrupted after %zu records; the results above are incomplete", kept);
    if ((!lr->partial && !(lr->partial = pl_partial_path(opt->out))) || pl_writer_keep_partial(&lr->w, lr->partial))
        return plume_fail(err, "interrupted after %zu records; the output file was left as it was", kept);
    lr->writer_ok = 0;
    return plume_fail(err, "interrupted after %zu records; the output file was left as it was, and the %zu results "
                      "so far are in %s: run again with --resume to finish", kept, kept, lr->partial);
}

/* Batch after batch: read, run the stages, write, keep; cancellation and progress in between. */
static int run_batches(local_run *lr, plume_error *err) {
    const plume_run_options *opt = lr->opt;
    double t0 = pl_now();
    size_t batches = 0;
    int rc = 0;
    for (int more = 1; more && rc == 0;) {
        size_t got;
        rc = read_batch(lr, &got, &more, err);
        lr->s.n_recs = got;
        batches++;
        if (got) pl_crash_batch(batches, lr->recs[0].origin, lr->recs[got - 1].origin);
        if (rc == 0 && got) rc = run_batch(&lr->s, err);
        if (rc == 0) rc = write_batch(lr, got, err);
        pl_crash_batch(batches, NULL, NULL);   /* the origins go with the records */
        free_records(&lr->s, lr->recs, got);
        if (rc == 0) rc = keep_batch(lr, more, err);
        if (rc == 0) rc = stop_if_cancelled(lr, err);
        if (opt->progress && rc == 0)  /* the total counted blank lines too: the last update says what was read */
            pl_progress_draw(lr->rep.records, lr->rep.failed,
                             more && lr->total > lr->rep.records ? lr->total : lr->rep.records, pl_now() - t0, !more);
    }
    lr->rep.seconds = pl_now() - t0;
    return rc;
}

/* After the batches: the output is committed (rc 0) or dropped, never kept by a crash from here;
 * a completed resume removes the OUT.partial it came from; the statistics are given. */
static int settle_output(local_run *lr, int rc, pl_stage_stats *stats_out, plume_error *err) {
    const plume_run_options *opt = lr->opt;
    pl_crash_results(NULL, NULL);
    if (rc == 0) rc = pl_writer_commit(&lr->w, err);
    else if (lr->writer_ok) pl_writer_abort(&lr->w);
    lr->writer_ok = 0;
    /* finished: the partial results are in OUT now (a checkpoint's OUT.partial became OUT) */
    if (rc == 0 && lr->resume.from_partial && !opt->checkpoint) unlink(lr->resume.from);
    if (rc == 0 && opt->stats) pl_run_print_stats(lr->g, lr->s.stats, opt->stats, lr->rep.seconds, 1);
    if (rc == 0 && stats_out) memcpy(stats_out, lr->s.stats, lr->g->n_nodes * sizeof *stats_out);
    return rc;
}

/* Whatever the run still holds, on success or failure: stages stopped, files closed. */
static void close_local_run(local_run *lr, int rc) {
    if (lr->opt->progress) pl_progress_break();   /* an interrupted or failed run: its message gets its own line */
    if (rc && lr->writer_ok) pl_writer_abort(&lr->w);
    pl_resume_free(&lr->resume);
    free(lr->partial);
    pl_crash_results(NULL, NULL);
    if (lr->s.states && lr->s.started) pl_stages_destroy(lr->g, lr->s.states, lr->s.started);
    pl_crash_disarm();
    plume_line_close(&lr->rd.lines);
    if (lr->requests) fclose(lr->requests);
    free_sched(lr);
}

int pl_run_local(plume_graph *g, const plume_run_options *opt, plume_run_report *report, pl_stage_stats *stats_out,
                 plume_error *err) {
    local_run lr;
    memset(&lr, 0, sizeof lr);
    lr.g = g;
    lr.opt = opt;
    lr.batch = opt->batch ? opt->batch : 8;
    if (report) *report = lr.rep;
    if (check_options(opt, lr.batch, err) || open_requests(&lr, err)) return -1;
    int rc = build_sched(&lr, err);
    if (rc == 0) {
        pl_crash_arm(g);
        rc = pl_stages_create(g, lr.s.states, lr.s.started, err);
    }
    if (rc == 0) rc = open_output(&lr, err);
    if (rc == 0) {
        rc = run_batches(&lr, err);
        rc = settle_output(&lr, rc, stats_out, err);
    }
    close_local_run(&lr, rc);
    if (report) {
        *report = lr.rep;
        if (rc) report->records = 0;
    }
    pl_writer_abort(&lr.w);   /* frees what is left; a committed writer has nothing left */
    return rc;
}
