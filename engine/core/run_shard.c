/* `plume run` over several processes: shards of the requests, and merging their results.
 *
 * Request i (counted from 0 in the requests file) belongs to shard i mod N. Round-robin
 * rather than N contiguous blocks: every shard can start at once without counting the file
 * first, and the shards get equal shares of any slow stretch of the file. Shard r writes
 * its results, in order, to OUT.shard-r-of-N; result i of the whole run is then line
 * i / N of shard i mod N, so the merge interleaves the shard files line by line.
 *
 * In an MPI job (plume/dist.h) plume_run does all of it: each rank runs its shard with
 * checkpointing (OUT.shard-r-of-N.partial is on the disk after every batch, so a rank that
 * dies or is killed leaves its whole lines), the ranks vote on success, rank 0 merges into
 * OUT atomically and removes the shard files, and the counts and --stats are reduced over
 * the ranks. A failed job leaves OUT as it was; the same mpirun command with --resume
 * completes each shard from its file (plume_run's resume, per shard) and merges. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"
#include "plume/read_line.h"
#include "plume/dist.h"

char *plume_run_shard_path(const char *out, size_t shard, size_t shards) {
    size_t n = strlen(out) + 64;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s.shard-%zu-of-%zu", out, shard, shards);
    return p;
}

#define PL_MERGE_MAX_SHARDS 65536

int plume_run_merge(const char *out, size_t shards, plume_error *err) {
    if (shards < 1 || shards > PL_MERGE_MAX_SHARDS)
        return plume_fail(err, "merging %zu shards: the number of shards must be 1..%d", shards, PL_MERGE_MAX_SHARDS);
    FILE **in = calloc(shards, sizeof *in);
    plume_line_reader *lines = calloc(shards, sizeof *lines);
    char **names = calloc(shards, sizeof *names);
    pl_writer w = { 0 };
    int rc = 0, writing = 0;
    if (!in || !lines || !names) {
        rc = plume_fail(err, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < shards && !rc; r++) {
        if (!(names[r] = plume_run_shard_path(out, r, shards))) rc = plume_fail(err, "out of memory");
        else if (!(in[r] = fopen(names[r], "rb")))
            rc = plume_fail(err, "%s: cannot open this shard's results: %s; hint: run the job again with --resume "
                            "to finish the shards", names[r], strerror(errno));
        else plume_line_attach(&lines[r], in[r], names[r], PL_RESULT_LINE_MAX);
    }
    if (rc || (rc = pl_writer_open(&w, out, err))) goto done;
    writing = 1;
    /* line i from shard i mod N until one ends; then every shard must have ended with it */
    size_t i = 0, ended = 0;
    for (;; i++) {
        size_t r = i % shards;
        char *line;
        size_t len;
        int got = plume_line_next(&lines[r], &line, &len, err);
        if (got <= 0) {
            if (got < 0) rc = -1;
            ended = r;
            break;
        }
        if (line[len - 1] != '\n') {
            rc = plume_fail(err, "%s:%zu: the last line is cut short; hint: run the job again with --resume",
                            names[r], i / shards + 1);
            break;
        }
        if (fwrite(line, 1, len, w.f) != len) {
            rc = plume_fail(err, "%s: cannot write the results: %s", out, strerror(errno));
            break;
        }
    }
    for (size_t r = 0; r < shards && !rc; r++) {
        char *line;
        size_t len;
        int got = r == ended ? 0 : plume_line_next(&lines[r], &line, &len, err);
        if (got < 0) rc = -1;
        else if (got > 0)
            rc = plume_fail(err, "%s has more results than its share (shard %zu ended after %zu lines): the shard "
                            "files are not of one run; hint: run the job again without --resume", names[r], ended,
                            i / shards);
    }
    if (!rc) rc = pl_writer_commit(&w, err);
    writing = 0;
    if (!rc)
        for (size_t r = 0; r < shards; r++) unlink(names[r]);   /* their lines are in OUT now */
done:
    if (writing) pl_writer_abort(&w);
    pl_writer_abort(&w);   /* frees what is left; a committed writer has nothing left */
    for (size_t r = 0; lines && r < shards; r++) plume_line_close(&lines[r]);
    free(lines);
    for (size_t r = 0; in && r < shards; r++)
        if (in[r]) fclose(in[r]);
    for (size_t r = 0; names && r < shards; r++) free(names[r]);
    free(in);
    free(names);
    return rc;
}

/* Every rank's counts and stage times added up (the wall time: the slowest rank's). A vote
 * precedes it, so it runs on every rank or none. */
static int reduce_report(plume_run_report *rep, pl_stage_stats *st, size_t n_nodes, plume_error *err) {
    size_t n = 3 + 3 * n_nodes;
    double *v = malloc(n * sizeof *v);
    if (!v) return plume_fail(err, "out of memory");
    v[0] = (double)rep->records;
    v[1] = (double)rep->failed;
    v[2] = (double)rep->resumed;
    for (size_t i = 0; i < n_nodes; i++) {
        v[3 + 3 * i] = st[i].seconds;
        v[4 + 3 * i] = (double)st[i].calls;
        v[5 + 3 * i] = (double)st[i].records;
    }
    int rc = plume_dist_sum_f64(v, n, err) || plume_dist_max_f64(&rep->seconds, 1, err);
    if (!rc) {
        rep->records = (size_t)v[0];
        rep->failed = (size_t)v[1];
        rep->resumed = (size_t)v[2];
        for (size_t i = 0; i < n_nodes; i++)
            st[i] = (pl_stage_stats){ v[3 + 3 * i], (size_t)v[4 + 3 * i], (size_t)v[5 + 3 * i] };
    }
    free(v);
    return rc;
}

static int run_ranks(plume_graph *g, const plume_run_options *opt, plume_run_report *report, plume_error *err) {
    int rank = plume_dist_rank(), size = plume_dist_size(), bad;
    /* the options are the same on every rank, so every rank refuses alike: no vote needed */
    if (!opt->data || !opt->out)
        return plume_fail(err, "in an MPI job of %d ranks, plume run needs a requests file (--data) and a results "
                          "file (--out): the ranks each run a share of the requests and rank 0 merges them", size);
    plume_run_options o = *opt;
    o.shard = (size_t)rank;
    o.shards = (size_t)size;
    o.checkpoint = 1;
    o.stats = NULL;
    o.progress = opt->progress && rank == 0;
    char *shard_out = plume_run_shard_path(opt->out, o.shard, o.shards);
    pl_stage_stats *st = calloc(g->n_nodes ? g->n_nodes : 1, sizeof *st);
    plume_run_report rep = { 0, 0, 0, 0 };
    int rc = shard_out && st ? 0 : plume_fail(err, "out of memory");
    o.out = shard_out;
    if (!rc) rc = pl_run_local(g, &o, &rep, st, err);
    if (!plume_dist_all_ok(rc == 0, &bad)) {
        if (rc == 0)
            plume_fail(err, "rank %d of %d failed (its message is above); the results of this rank are kept in %s: "
                       "run the same command again with --resume to finish", bad, size, shard_out);
        rc = -1;
        goto done;
    }
    if (reduce_report(&rep, st, g->n_nodes, err)) {   /* cannot fail on one rank alone but MPI's own */
        rc = -1;
        goto done;
    }
    if (rank == 0) rc = plume_run_merge(opt->out, o.shards, err);
    if (!plume_dist_all_ok(rc == 0, &bad)) {
        if (rc == 0) plume_fail(err, "rank 0 could not merge the results (its message is above)");
        rc = -1;
        goto done;
    }
    if (rank == 0 && opt->stats) pl_run_print_stats(g, st, opt->stats, rep.seconds, size);
    if (report) *report = rep;
done:
    free(shard_out);
    free(st);
    return rc;
}

int plume_run(plume_graph *g, const plume_run_options *opt, plume_run_report *report, plume_error *err) {
    if (report) memset(report, 0, sizeof *report);
    if (plume_dist_size() > 1 && opt->shards == 0) return run_ranks(g, opt, report, err);
    return pl_run_local(g, opt, report, NULL, err);
}
