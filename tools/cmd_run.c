/* plume run GRAPH --data requests.jsonl --out results.jsonl [--batch N] [--stats] [--set ...]
 * plume run GRAPH --context "..." [--profile profile.jsonl] [--user U] [--id ID]   (one request, to stdout) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "cli.h"
#include "commands.h"
#include "plume/dist.h"
#include "plume/plume.h"

static volatile sig_atomic_t interrupted;

/* The first Ctrl-C asks the run to stop after the batch at hand (the output stays as it was, the
 * results so far are kept in OUT.partial for --resume); a second one stops the process at once. */
static void on_interrupt(int sig) {
    if (interrupted) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    interrupted = 1;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: plume run GRAPH --data REQUESTS.jsonl [--out RESULTS.jsonl] [options]\n"
            "       plume run GRAPH --context TEXT [--profile PROFILE.jsonl] [--user U] [--id ID] [options]\n\n"
            "Runs every request through the graph and writes one result line per request, in input order.\n"
            "The output file is replaced only when the run completes; without --out, results go to stdout.\n\n"
            "  --data FILE      requests, one JSON object per line: {\"id\", \"user\", \"context\",\n"
            "                   \"profile\": [{\"id\", \"title\", \"text\", \"time\"}], \"target\"}\n"
            "  --out FILE       where the results go (written atomically)\n"
            "  --context TEXT   run one request with this immediate context instead of --data\n"
            "  --profile FILE   its profile: one document {\"id\",\"title\",\"text\",\"time\"} per line\n"
            "  --user U, --id ID, --target TEXT   the rest of that one request\n"
            "  --batch N        records per batch (default 8)\n"
            "  --set STAGE.PARAM=VALUE   override a parameter (repeatable)\n"
            "  --resume         after an interrupted or crashed run: keep the results it wrote to\n"
            "                   RESULTS.jsonl.partial, skip their requests, run the rest\n"
            "  --stats          print the time spent in each stage, and the texts the dense rankers\n"
            "                   looked up against those they embedded anew\n"
            "  --shard R/N      run only requests i with i mod N = R (from 0) into RESULTS.jsonl.shard-R-of-N;\n"
            "                   --merge N then joins the N shard files into RESULTS.jsonl, in input order.\n"
            "                   Under `mpirun -n N` this happens by itself: rank R runs shard R, rank 0 merges\n"
            "  --merge N        join RESULTS.jsonl.shard-*-of-N into RESULTS.jsonl (needs only --out)\n"
            "  --no-progress    no progress bar (it is shown only when stderr is a terminal)\n\n"
            "Exit status: 0 all records succeeded, 1 some failed (their lines carry \"error\") or the run\n"
            "could not finish, 2 usage error, 130 interrupted. A stage that crashes is named with its module\n"
            "file and batch, the finished batches are kept in RESULTS.jsonl.partial for --resume, and plume\n"
            "dies of the same signal (exit status 128 + N from a shell: 139 for SIGSEGV).\n");
}

/* The one request of the --context form, as the JSON line a requests file would hold. */
static char *single_request(const char *id, const char *user, const char *context, const char *target,
                            const char *profile_path, plume_error *err) {
    plume_value docs = { 0 };
    if (profile_path && plume_docs_read_jsonl(profile_path, &docs, err)) return NULL;
    json_t *profile = json_array();
    for (size_t i = 0; profile && docs.type == PLUME_DOCS && i < docs.as.docs.count; i++) {
        const plume_doc *d = &docs.as.docs.items[i];
        json_array_append_new(profile, json_pack("{s:s,s:s,s:s,s:f}", "id", d->id, "title", d->title, "text",
                                                 d->text, "time", d->time));
    }
    plume_value_clear(&docs);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", id, "user", user, "context", context, "target", target,
                          "profile", profile);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) plume_fail(err, "cannot build the request: --context and the profile must be UTF-8 text");
    return text;
}

int cmd_run(int argc, char **argv) {
    cli_sets sets = { .count = 0 };
    const char *graph = NULL, *id = "cli", *user = "", *context = NULL, *target = "", *profile = NULL;
    plume_run_options opt = plume_run_defaults();
    int stats = 0, progress = isatty(2);
    long merge = 0;
    for (int i = 1; i < argc; i++) {
        int missing = 0, k = cli_take_set(argc, argv, &i, &sets);
        const char *v;
        if (k < 0) return 2;
        if (k) continue;
        if ((v = cli_value(argc, argv, &i, "--data", &missing))) opt.data = v;
        else if ((v = cli_value(argc, argv, &i, "--out", &missing))) opt.out = v;
        else if ((v = cli_value(argc, argv, &i, "--context", &missing))) context = v;
        else if ((v = cli_value(argc, argv, &i, "--profile", &missing))) profile = v;
        else if ((v = cli_value(argc, argv, &i, "--user", &missing))) user = v;
        else if ((v = cli_value(argc, argv, &i, "--id", &missing))) id = v;
        else if ((v = cli_value(argc, argv, &i, "--target", &missing))) target = v;
        else if ((v = cli_value(argc, argv, &i, "--batch", &missing))) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 65536) {
                fprintf(stderr, "plume: --batch takes a number of records from 1 to 65536, not '%s'\n", v);
                return 2;
            }
            opt.batch = (size_t)n;
        } else if ((v = cli_value(argc, argv, &i, "--shard", &missing))) {
            unsigned long r, n;
            int used = 0;
            if (sscanf(v, "%lu/%lu%n", &r, &n, &used) != 2 || v[used] || n < 1 || n > 65536 || r >= n) {
                fprintf(stderr, "plume: --shard takes R/N with 0 <= R < N <= 65536, not '%s'\n", v);
                return 2;
            }
            opt.shard = r;
            opt.shards = n;
        } else if ((v = cli_value(argc, argv, &i, "--merge", &missing))) {
            char *end;
            merge = strtol(v, &end, 10);
            if (*end || merge < 1 || merge > 65536) {
                fprintf(stderr, "plume: --merge takes the number of shards, 1 to 65536, not '%s'\n", v);
                return 2;
            }
        } else if (missing) return 2;
        else if (!strcmp(argv[i], "--stats")) stats = 1;
        else if (!strcmp(argv[i], "--resume")) opt.resume = 1;
        else if (!strcmp(argv[i], "--no-progress")) progress = 0;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && !graph) graph = argv[i];
        else {
            fprintf(stderr, "plume: run: unknown argument '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (merge) {
        plume_error merr;
        if (!opt.out) {
            fprintf(stderr, "plume: --merge needs --out: the results file the shards were written for\n");
            return 2;
        }
        if (plume_run_merge(opt.out, (size_t)merge, &merr)) {
            fprintf(stderr, "plume: %s\n", merr.msg);
            return 1;
        }
        return 0;
    }
    if (opt.shards > 1 && (!opt.out || !opt.data)) {
        fprintf(stderr, "plume: --shard needs --data and --out\n");
        return 2;
    }
    if (opt.resume && !opt.out) {
        fprintf(stderr, "plume: --resume needs --out: the results file of the run to finish\n");
        return 2;
    }
    if (!graph || (!opt.data == !context)) {
        fprintf(stderr, "plume: run needs a GRAPH and either --data FILE or --context TEXT\n\n");
        usage(stderr);
        return 2;
    }
    plume_error err;
    char *request = NULL;
    char *shard_out = NULL;
    if (opt.shards > 1) {   /* this shard's results go beside the output, for --merge */
        if (!(shard_out = plume_run_shard_path(opt.out, opt.shard, opt.shards))) {
            fprintf(stderr, "plume: out of memory\n");
            return 1;
        }
        opt.out = shard_out;
    }
    /* In an MPI job every rank speaks for itself; rank 0 alone reports the totals. */
    int rank = plume_dist_rank(), size = plume_dist_size();
    char who[64] = "plume";
    if (size > 1) snprintf(who, sizeof who, "plume (rank %d of %d)", rank, size);
    if (context && !(request = single_request(id, user, context, target, profile, &err))) {
        fprintf(stderr, "plume: %s\n", err.msg);
        return 1;
    }
    opt.request = request;
    opt.progress = progress && opt.data;
    opt.stats = stats ? stderr : NULL;
    /* Ctrl-C finishes the batch at hand, then stops without touching the output file. */
    opt.cancel = &interrupted;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    plume_registry *reg = plume_registry_open(&err);
    if (!reg) {
        fprintf(stderr, "%s: %s\n", who, err.msg);
        free(request);
        free(shard_out);
        return 1;
    }
    int rc = 1;
    plume_graph *g = plume_graph_load(reg, graph, sets.items, sets.count, &err);
    if (!g) {
        fprintf(stderr, "%s\n", err.msg);
    } else {
        plume_run_report rep;
        plume_embed_counts before, after;
        plume_lm_embed_counts(&before);
        if (plume_run(g, &opt, &rep, &err)) {
            fprintf(stderr, "%s: %s\n", who, err.msg);
            if (interrupted) rc = 130;   /* as a shell reports a process stopped by SIGINT */
        } else {
            plume_lm_embed_counts(&after);
            if (stats) cli_print_embed_counts(stderr, size > 1 ? who : "plume", &before, &after);
            if (rep.resumed && rank == 0) fprintf(stderr, "plume: %zu earlier results kept\n", rep.resumed);
            if ((opt.out || rep.failed) && rank == 0)
                fprintf(stderr, "plume: %zu record%s, %zu failed, %.2f s%s%s\n", rep.records,
                        rep.records == 1 ? "" : "s", rep.failed, rep.seconds, opt.out ? " -> " : "",
                        opt.out ? opt.out : "");
            rc = rep.failed ? 1 : 0;
        }
    }
    plume_graph_free(g);
    plume_registry_close(reg);
    free(request);
    free(shard_out);
    return rc;
}
