/* plume experiment GRAPH... --data FILE.jsonl: the paper's results table, and whether each
 * pipeline personalizes.
 *
 * Every graph runs over the same requests (the first --limit of FILE); each must write its
 * prediction in a slot named `output` (--pred names another). Each run's predictions are scored
 * against the requests' targets, as `plume eval` scores them: corpus BLEU (sacrebleu) and the mean
 * ROUGE-1/2/L F (rouge-score), percentages, over the whole document and over the continuation (the
 * prediction and the target each without the request's immediate context). A record that failed
 * counts as an empty prediction, so a graph cannot look better by failing its hard records; the
 * failures are counted in the table.
 *
 * --swap-profiles runs every graph a second time with each request's profile replaced by another
 * user's (experiment.h: a seeded derangement of the users), and reports per graph the gain in
 * continuation ROUGE-1 and ROUGE-L (own minus swapped) with a paired t-test and a sign test.
 *
 * Written to --out-dir: NAME.results.jsonl (the run), NAME.pairs.jsonl (id, prediction, reference,
 * context: `plume eval NAME.pairs.jsonl` gives the row again), with the swap NAME.swapped.results.jsonl
 * and NAME.swapped.pairs.jsonl, then results.md, results.csv and results.svg. The Markdown goes to
 * stdout. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plume/read_line.h"
#include "cli.h"
#include "commands.h"
#include "experiment.h"
#include "plume/plume.h"

#define EXP_MAX_GRAPHS 64

static void experiment_usage(FILE *f) {
    fprintf(f,
            "usage: plume experiment GRAPH... --data REQUESTS.jsonl [--limit N] [--out-dir DIR] [--pred SLOT]\n"
            "                        [--batch N] [--swap-profiles] [--swap-seed S]\n"
            "\n"
            "Runs every graph over the same requests and scores each against the requests' targets:\n"
            "corpus BLEU and mean ROUGE-1/2/L F, as `plume eval` does, over the whole document and over\n"
            "the continuation (prediction and target without the request's immediate context). Prints the\n"
            "table (Markdown) and writes DIR/results.md, results.csv, results.svg, and per graph\n"
            "NAME.results.jsonl and NAME.pairs.jsonl. A graph's row is named after its file\n"
            "(graphs/rankdoc_bm25.yaml: rankdoc_bm25).\n"
            "  --limit N          the first N requests only\n"
            "  --out-dir DIR      where the files go (default: experiment)\n"
            "  --pred SLOT        the slot holding each graph's prediction (default: output)\n"
            "  --batch N          records per batch (default 8)\n"
            "  --swap-profiles    the personalization control: run every graph again with each request's\n"
            "                     profile swapped for another user's (a fixed derangement of the users), and\n"
            "                     report the gain (own minus swapped) in continuation ROUGE-1 and ROUGE-L\n"
            "                     with a paired t-test and a sign test\n"
            "  --swap-seed S      the derangement's seed (default 1)\n");
}

/* The row name: the file name without folder and .yaml/.yml. */
static char *graph_name(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".yaml")) n -= 5;
    else if (n > 4 && !strcmp(b + n - 4, ".yml")) n -= 4;
    return strndup(b, n);
}

static char *join_path(const char *dir, const char *name, const char *suffix) {
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

/* One run's per-record scores, for the paired comparison. */
typedef struct run_scores {
    double *c1, *cl;     /* continuation ROUGE-1 and ROUGE-L per request */
    char **pred;         /* each request's prediction (NULL: the record failed) */
} run_scores;

static void run_scores_free(run_scores *s, size_t n) {
    for (size_t i = 0; s->pred && i < n; i++) free(s->pred[i]);
    free(s->c1);
    free(s->cl);
    free(s->pred);
    memset(s, 0, sizeof *s);
}

/* Scores one run: its result lines against the requests, in order; writes the pairs file.
 * Fills *means, *failed, *context_missing and the per-record scores. */
static int score_run(const char *results, const char *pairs, const char *pred, const exp_requests *rq,
                     score_means *means, size_t *failed, size_t *context_missing, run_scores *per) {
    plume_output_file pairs_out;
    FILE *f = fopen(results, "r"), *out = f ? cli_output_open(&pairs_out, "plume experiment", pairs) : NULL;
    per->c1 = calloc(rq->n, sizeof *per->c1);
    per->cl = calloc(rq->n, sizeof *per->cl);
    per->pred = calloc(rq->n, sizeof *per->pred);
    if (!f || !out || !per->c1 || !per->cl || !per->pred) {
        if (!f) fprintf(stderr, "plume experiment: %s: %s\n", results, strerror(errno));
        else if (out) fprintf(stderr, "plume experiment: out of memory scoring %s\n", results);
        if (f) fclose(f);
        if (out) cli_output_close(&pairs_out, "plume experiment", 0);
        return -1;
    }
    plume_line_reader lines;
    plume_line_attach(&lines, f, results, PLUME_LINE_MAX);
    char *buf;
    size_t len, k = 0, line_no = 0;
    plume_error err;
    int rc = 0, got;
    score_set set = { .stem = 1 };
    *failed = 0;
    while (rc == 0 && (got = plume_line_next(&lines, &buf, &len, &err)) != 0) {
        line_no = lines.line_no;
        if (got < 0) {   /* said, not skipped: a skipped line would shift every later pair */
            fprintf(stderr, "plume experiment: %s\n", err.msg);
            rc = -1;
            break;
        }
        if (plume_line_is_blank(buf, len)) continue;
        if (k >= rq->n) {
            fprintf(stderr, "%s:%zu: more result lines than the %zu requests\n", results, line_no, rq->n);
            rc = -1;
            break;
        }
        json_t *obj = json_loadb(buf, len, 0, NULL);
        json_t *p = json_is_object(obj) ? json_object_get(obj, pred) : NULL;
        const char *text = "";
        size_t tl = 0;
        if (json_is_string(p)) {
            text = json_string_value(p);
            tl = json_string_length(p);
            if (!(per->pred[k] = strndup(text, tl))) rc = -1;
        } else {
            (*failed)++;
            if (!json_object_get(obj, "error"))
                fprintf(stderr, "%s:%zu: no text slot '%s' (hint: the graph must write its prediction to '%s', "
                                "or give --pred SLOT)\n", results, line_no, pred, pred);
        }
        const char *ref = rq->target[k], *ctx = rq->context[k];
        score_record rec;
        if (rc || score_add(&set, text, tl, ref, strlen(ref), ctx, strlen(ctx), &rec)) {
            fprintf(stderr, "plume experiment: out of memory scoring %s\n", results);
            rc = -1;
        } else {
            per->c1[k] = rec.c1;
            per->cl[k] = rec.cl;
            json_t *id = json_is_object(obj) ? json_object_get(obj, "id") : NULL;
            json_t *pair = json_pack("{s:O?, s:s%, s:s, s:s}", "id", id, "prediction", text, tl, "reference", ref,
                                     "context", ctx);
            char *line = pair ? json_dumps(pair, JSON_COMPACT) : NULL;
            if (!line || fprintf(out, "%s\n", line) < 0) {
                fprintf(stderr, "plume experiment: %s: cannot write\n", pairs);
                rc = -1;
            }
            free(line);
            json_decref(pair);
        }
        json_decref(obj);
        k++;
    }
    plume_line_close(&lines);
    fclose(f);
    if (cli_output_close(&pairs_out, "plume experiment", rc == 0)) rc = -1;
    if (rc == 0 && k != rq->n) {
        fprintf(stderr, "%s: %zu result lines for %zu requests\n", results, k, rq->n);
        rc = -1;
    }
    if (rc == 0) {
        *means = score_summary(&set);
        *context_missing = set.context_missing;
    }
    return rc;
}

/* Runs one graph over `data` into DIR/NAME{infix}.results.jsonl and scores it. */
static int run_and_score(plume_graph *graph, const char *graph_path, const char *data, const char *out_dir,
                         const char *name, const char *infix, const char *pred, size_t batch, const exp_requests *rq,
                         score_means *means, size_t *failed, size_t *context_missing, run_scores *per) {
    size_t n = strlen(name) + strlen(infix) + 1;
    char *stem = malloc(n);
    if (stem) snprintf(stem, n, "%s%s", name, infix);
    char *results = stem ? join_path(out_dir, stem, ".results.jsonl") : NULL;
    char *pairs = stem ? join_path(out_dir, stem, ".pairs.jsonl") : NULL;
    plume_run_options opt = plume_run_defaults();
    opt.data = data;
    opt.out = results;
    opt.batch = batch;
    opt.progress = isatty(2);
    plume_run_report rep = { 0 };
    plume_error err = { { 0 } };
    plume_embed_counts before, after;
    plume_lm_embed_counts(&before);
    int rc = 0;
    if (!results || !pairs) {
        fprintf(stderr, "plume experiment: out of memory\n");
        rc = -1;
    } else if (plume_run(graph, &opt, &rep, &err)) {
        fprintf(stderr, "%s: %s\n", graph_path, err.msg);
        rc = -1;
    } else if (score_run(results, pairs, pred, rq, means, failed, context_missing, per)) {
        rc = -1;
    } else {
        fprintf(stderr, "%s: %zu records, %zu failed, %.1f s\n", stem, rq->n, *failed, rep.seconds);
        plume_lm_embed_counts(&after);
        cli_print_embed_counts(stderr, stem, &before, &after);
    }
    free(stem);
    free(results);
    free(pairs);
    return rc;
}

/* The personalization gain of one graph: own against swapped, over the swappable requests. */
static int compare_swap(exp_row *row, const exp_requests *rq, const run_scores *own, const run_scores *swap) {
    size_t m = 0;
    double *a1 = malloc((rq->n + 1) * sizeof *a1), *b1 = malloc((rq->n + 1) * sizeof *b1),
           *al = malloc((rq->n + 1) * sizeof *al), *bl = malloc((rq->n + 1) * sizeof *bl);
    int rc = a1 && b1 && al && bl ? 0 : -1;
    row->identical = 0;
    for (size_t i = 0; rc == 0 && i < rq->n; i++) {
        if (rq->swap_from[i] < 0) continue;
        a1[m] = own->c1[i];
        b1[m] = swap->c1[i];
        al[m] = own->cl[i];
        bl[m] = swap->cl[i];
        m++;
        row->identical += own->pred[i] && swap->pred[i] && !strcmp(own->pred[i], swap->pred[i]);
    }
    if (rc == 0) {
        row->gain_r1 = plume_paired_compare(a1, b1, m);
        row->gain_rl = plume_paired_compare(al, bl, m);
    } else {
        fprintf(stderr, "plume experiment: out of memory\n");
    }
    free(a1);
    free(b1);
    free(al);
    free(bl);
    return rc;
}

/* Writes one report file through `write`, reporting an error. */
static int write_file(const char *dir, const char *name,
                      void (*write)(FILE *, const exp_report *, const exp_row *, size_t), const exp_report *rep,
                      const exp_row *rows, size_t n) {
    char *path = join_path(dir, name, "");
    plume_output_file out;
    FILE *f = path ? cli_output_open(&out, "plume experiment", path) : NULL;
    int rc = 0;
    if (!f) {
        if (!path) fprintf(stderr, "plume experiment: %s: out of memory\n", name);
        rc = -1;
    } else {
        write(f, rep, rows, n);
        if (cli_output_close(&out, "plume experiment", 1)) rc = -1;
    }
    free(path);
    return rc;
}

static int parse_count(const char *v, size_t lo, size_t hi, size_t *out, const char *opt) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi) {
        fprintf(stderr, "plume experiment: %s '%s' is not a number from %zu to %zu\n", opt, v, lo, hi);
        return -1;
    }
    *out = (size_t)x;
    return 0;
}

int cmd_experiment(int argc, char **argv) {
    const char *graphs[EXP_MAX_GRAPHS], *data = NULL, *out_dir = "experiment", *pred = "output";
    size_t n_graphs = 0, limit = 0, batch = 8, seed = 1;
    int swap = 0;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            experiment_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--swap-profiles")) {
            swap = 1;
        } else if ((v = cli_value(argc, argv, &i, "--data", &missing))) {
            data = v;
        } else if ((v = cli_value(argc, argv, &i, "--out-dir", &missing))) {
            out_dir = v;
        } else if ((v = cli_value(argc, argv, &i, "--pred", &missing))) {
            pred = v;
        } else if ((v = cli_value(argc, argv, &i, "--limit", &missing))) {
            if (parse_count(v, 0, (size_t)1 << 30, &limit, "--limit")) return 2;
        } else if ((v = cli_value(argc, argv, &i, "--batch", &missing))) {
            if (parse_count(v, 1, 65536, &batch, "--batch")) return 2;
        } else if ((v = cli_value(argc, argv, &i, "--swap-seed", &missing))) {
            if (parse_count(v, 0, (size_t)1 << 62, &seed, "--swap-seed")) return 2;
        } else if (missing) {
            fprintf(stderr, "plume experiment: %s needs a value\n", argv[i]);
            return 2;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "plume experiment: unknown option '%s'\n", argv[i]);
            experiment_usage(stderr);
            return 2;
        } else if (n_graphs == EXP_MAX_GRAPHS) {
            fprintf(stderr, "plume experiment: at most %d graphs\n", EXP_MAX_GRAPHS);
            return 2;
        } else {
            graphs[n_graphs++] = argv[i];
        }
    }
    if (!n_graphs || !data) {
        fprintf(stderr, "plume experiment: %s\n", !n_graphs ? "no GRAPH given" : "--data REQUESTS.jsonl is required");
        experiment_usage(stderr);
        return 2;
    }
    if (plume_make_dirs(out_dir) != 0) {
        fprintf(stderr, "plume experiment: cannot create %s: %s\n", out_dir, strerror(errno));
        return 1;
    }
    exp_row rows[EXP_MAX_GRAPHS];
    memset(rows, 0, sizeof rows);
    exp_requests rq = { 0 };
    char *requests = limit ? join_path(out_dir, "requests", ".jsonl") : NULL;
    char *swapped = swap ? join_path(out_dir, "requests.swapped", ".jsonl") : NULL;
    size_t n_rows = 0;
    int status = 0;
    plume_error err = { { 0 } };
    plume_registry *reg = NULL;
    plume_graph *loaded[EXP_MAX_GRAPHS] = { 0 };
    if ((limit && !requests) || (swap && !swapped) || exp_requests_read(data, limit, requests, &rq) ||
        (swap && exp_requests_swap(data, swapped, (uint64_t)seed, &rq))) {
        status = 1;
        goto done;
    }
    if (swap && rq.users < 2)
        fprintf(stderr, "plume experiment: %s: %zu user%s, so no profile can be swapped: the gain is not measured\n",
                data, rq.users, rq.users == 1 ? "" : "s");
    else if (swap && rq.not_swappable)
        fprintf(stderr, "plume experiment: %s: %zu request%s without a user keep their profile and are left out of "
                        "the comparison\n", data, rq.not_swappable, rq.not_swappable == 1 ? "" : "s");
    if (!(reg = plume_registry_open(&err))) {
        fprintf(stderr, "plume experiment: %s\n", err.msg);
        status = 1;
        goto done;
    }
    /* load every graph first: a typo in the last one should not cost the runs of the others */
    for (size_t g = 0; g < n_graphs; g++) {
        if (!(loaded[g] = plume_graph_load(reg, graphs[g], NULL, 0, &err))) {
            fprintf(stderr, "%s\n", err.msg);
            status = 1;
        } else {
            size_t no = plume_graph_output_count(loaded[g]), k = 0;
            while (k < no && strcmp(plume_graph_output(loaded[g], k), pred)) k++;
            if (no && k == no) {
                fprintf(stderr, "%s: the graph's output: does not list '%s' (hint: write the prediction to a slot "
                                "named '%s' and list it, or give --pred SLOT)\n", graphs[g], pred, pred);
                status = 1;
            }
        }
        for (size_t h = 0; h < g && status == 0; h++) {
            char *a = graph_name(graphs[g]), *b = graph_name(graphs[h]);
            if (a && b && !strcmp(a, b)) {
                fprintf(stderr, "plume experiment: %s and %s would both be row '%s' (hint: rename one file)\n",
                        graphs[h], graphs[g], a);
                status = 1;
            }
            free(a);
            free(b);
        }
    }
    const char *run_data = requests ? requests : data;
    for (size_t g = 0; g < n_graphs && status == 0; g++) {
        exp_row *row = &rows[n_rows];
        if (!(row->name = graph_name(graphs[g]))) {
            status = 1;
            break;
        }
        n_rows++;
        run_scores own = { 0 }, other = { 0 };
        size_t swap_missing = 0;
        if (run_and_score(loaded[g], graphs[g], run_data, out_dir, row->name, "", pred, batch, &rq, &row->own,
                          &row->failed, &row->context_missing, &own))
            status = 1;
        row->records = rq.n;
        if (status == 0 && swap) {
            if (run_and_score(loaded[g], graphs[g], swapped, out_dir, row->name, ".swapped", pred, batch, &rq,
                              &row->swap, &row->swap_failed, &swap_missing, &other) ||
                compare_swap(row, &rq, &own, &other))
                status = 1;
            row->swapped = status == 0;
        }
        run_scores_free(&own, rq.n);
        run_scores_free(&other, rq.n);
    }
    if (status == 0) {
        exp_report rep = { .data = data, .model = getenv("PLUME_MODEL"), .requests = rq.n, .swapped = swap,
                           .seed = (uint64_t)seed, .users = rq.users, .not_swappable = rq.not_swappable };
        exp_write_markdown(stdout, &rep, rows, n_rows);
        if (write_file(out_dir, "results.md", exp_write_markdown, &rep, rows, n_rows) ||
            write_file(out_dir, "results.csv", exp_write_csv, &rep, rows, n_rows) ||
            write_file(out_dir, "results.svg", exp_write_svg, &rep, rows, n_rows))
            status = 1;
    }
done:
    for (size_t g = 0; g < n_graphs; g++) plume_graph_free(loaded[g]);
    plume_registry_close(reg);
    exp_requests_free(&rq);
    free(requests);
    free(swapped);
    for (size_t i = 0; i < n_rows; i++) free(rows[i].name);
    return status;
}
