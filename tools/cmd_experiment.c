/* plume experiment GRAPH... --data FILE.jsonl: the paper's results table.
 *
 * Every graph runs over the same requests (the first --limit of FILE); each must write its
 * prediction in a slot named `output` (--pred names another). Each run's predictions are scored
 * against the requests' targets, as `plume eval` scores them: corpus BLEU (sacrebleu) and the mean
 * ROUGE-1/2/L F (rouge-score), percentages. A record that failed counts as an empty prediction,
 * so a graph cannot look better by failing its hard records; the failures are counted in the
 * table. Written to --out-dir: NAME.results.jsonl (the run), NAME.pairs.jsonl (id, prediction,
 * reference: `plume eval NAME.pairs.jsonl` gives the row again), results.md, results.csv and
 * results.svg (a bar chart of the four metrics per graph). The Markdown table goes to stdout. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "plume/eval.h"
#include "plume/plume.h"

#define EXP_MAX_LINE ((size_t)64 << 20)
#define EXP_MAX_GRAPHS 64

typedef struct exp_row {
    char *name;
    size_t records, failed;
    double bleu, r1, r2, rl;
} exp_row;

static void experiment_usage(FILE *f) {
    fprintf(f,
            "usage: plume experiment GRAPH... --data REQUESTS.jsonl [--limit N] [--out-dir DIR] [--pred SLOT]\n"
            "                        [--batch N]\n"
            "\n"
            "Runs every graph over the same requests and scores each against the requests' targets:\n"
            "corpus BLEU and mean ROUGE-1/2/L F, as `plume eval` does. Prints the table (Markdown) and\n"
            "writes DIR/results.md, results.csv, results.svg, and per graph NAME.results.jsonl and\n"
            "NAME.pairs.jsonl. A graph's row is named after its file (graphs/rankdoc_bm25.yaml:\n"
            "rankdoc_bm25).\n"
            "  --limit N     the first N requests only\n"
            "  --out-dir DIR where the files go (default: experiment)\n"
            "  --pred SLOT   the slot holding each graph's prediction (default: output)\n"
            "  --batch N     records per batch (default 8)\n");
}

/* A line of a JSON Lines file, or NULL at the end; *too_long set for a line over the cap. */
static char *read_line(FILE *f, char **buf, size_t *cap, size_t *len, int *too_long) {
    ssize_t got = getline(buf, cap, f);
    *too_long = 0;
    if (got < 0) return NULL;
    *len = (size_t)got;
    if (*len > EXP_MAX_LINE) *too_long = 1;
    return *buf;
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

/* The requests' targets in order (one per non-blank line, "" when the line has none or is not
 * JSON: the run reports that record as failed). With limit > 0 the first `limit` non-blank lines
 * are also copied to `copy`, the request file every graph reads. */
static int read_targets(const char *path, size_t limit, const char *copy, char ***targets, size_t *n) {
    FILE *f = fopen(path, "r"), *out = NULL;
    if (!f) {
        fprintf(stderr, "plume experiment: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (copy && !(out = fopen(copy, "w"))) {
        fprintf(stderr, "plume experiment: %s: %s\n", copy, strerror(errno));
        fclose(f);
        return -1;
    }
    char *buf = NULL, **list = NULL;
    size_t cap = 0, len = 0, count = 0, lcap = 0, line_no = 0;
    int too_long, rc = 0;
    while ((!limit || count < limit) && read_line(f, &buf, &cap, &len, &too_long)) {
        line_no++;
        if (too_long) {
            fprintf(stderr, "%s:%zu: line of %zu bytes is longer than the %zu MiB limit\n", path, line_no, len,
                    EXP_MAX_LINE >> 20);
            rc = -1;
            break;
        }
        if (blank(buf, len)) continue;
        if (count == lcap) {
            size_t nc = lcap ? lcap * 2 : 256;
            char **nl = realloc(list, nc * sizeof *nl);
            if (!nl) {
                rc = -1;
                fprintf(stderr, "plume experiment: out of memory reading %s\n", path);
                break;
            }
            list = nl;
            lcap = nc;
        }
        json_t *obj = json_loadb(buf, len, 0, NULL);
        json_t *t = json_is_object(obj) ? json_object_get(obj, "target") : NULL;
        list[count] = strdup(json_is_string(t) ? json_string_value(t) : "");
        json_decref(obj);
        if (!list[count]) {
            rc = -1;
            fprintf(stderr, "plume experiment: out of memory reading %s\n", path);
            break;
        }
        count++;
        if (out && fwrite(buf, 1, len, out) != len) {
            fprintf(stderr, "plume experiment: %s: %s\n", copy, strerror(errno));
            rc = -1;
            break;
        }
        if (out && len && buf[len - 1] != '\n') fputc('\n', out);
    }
    free(buf);
    fclose(f);
    if (out && fclose(out) != 0) {
        fprintf(stderr, "plume experiment: %s: %s\n", copy, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && count == 0) {
        fprintf(stderr, "plume experiment: %s: no requests\n", path);
        rc = -1;
    }
    *targets = list;
    *n = count;
    return rc;
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

/* Scores one run: its result lines against the targets, in order; writes the pairs file. */
static int score_run(const char *results, const char *pairs, const char *pred, char **targets, size_t n_targets,
                     exp_row *row) {
    FILE *f = fopen(results, "r"), *out = fopen(pairs, "w");
    if (!f || !out) {
        fprintf(stderr, "plume experiment: %s: %s\n", !f ? results : pairs, strerror(errno));
        if (f) fclose(f);
        if (out) fclose(out);
        return -1;
    }
    char *buf = NULL;
    size_t cap = 0, len = 0, k = 0, line_no = 0;
    int too_long, rc = 0;
    plume_bleu_stats corpus = { 0 };
    double s1 = 0, s2 = 0, sl = 0;
    row->failed = 0;
    while (rc == 0 && read_line(f, &buf, &cap, &len, &too_long)) {
        line_no++;
        if (too_long || blank(buf, len)) continue;
        if (k >= n_targets) {
            fprintf(stderr, "%s:%zu: more result lines than the %zu requests\n", results, line_no, n_targets);
            rc = -1;
            break;
        }
        json_error_t jerr;
        json_t *obj = json_loadb(buf, len, 0, &jerr);
        json_t *p = json_is_object(obj) ? json_object_get(obj, pred) : NULL;
        const char *text = "";
        size_t tl = 0;
        if (json_is_string(p)) {
            text = json_string_value(p);
            tl = json_string_length(p);
        } else {
            row->failed++;
            if (!json_object_get(obj, "error"))
                fprintf(stderr, "%s:%zu: no text slot '%s' (hint: the graph must write its prediction to '%s', "
                                "or give --pred SLOT)\n", results, line_no, pred, pred);
        }
        const char *ref = targets[k];
        size_t rl = strlen(ref);
        plume_rouge r;
        if (plume_rouge_compute(text, tl, ref, rl, 1, &r) || plume_bleu_add(&corpus, text, tl, ref, rl)) {
            fprintf(stderr, "plume experiment: out of memory scoring %s\n", results);
            rc = -1;
        } else {
            s1 += r.rouge1.f;
            s2 += r.rouge2.f;
            sl += r.rougeL.f;
            json_t *id = json_is_object(obj) ? json_object_get(obj, "id") : NULL;
            json_t *pair = json_pack("{s:O?, s:s%, s:s}", "id", id, "prediction", text, tl, "reference", ref);
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
    free(buf);
    fclose(f);
    if (fclose(out) != 0) rc = -1;
    if (rc == 0 && k != n_targets) {
        fprintf(stderr, "%s: %zu result lines for %zu requests\n", results, k, n_targets);
        rc = -1;
    }
    if (rc == 0) {
        plume_bleu b = plume_bleu_score(&corpus, 0);
        row->records = k;
        row->bleu = b.score;
        row->r1 = 100 * s1 / (double)k;
        row->r2 = 100 * s2 / (double)k;
        row->rl = 100 * sl / (double)k;
    }
    return rc;
}

static void write_markdown(FILE *f, const exp_row *rows, size_t n) {
    fprintf(f, "| graph | BLEU | ROUGE-1 | ROUGE-2 | ROUGE-L | records | failed |\n");
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "| %s | %.2f | %.2f | %.2f | %.2f | %zu | %zu |\n", rows[i].name, rows[i].bleu, rows[i].r1,
                rows[i].r2, rows[i].rl, rows[i].records, rows[i].failed);
}

static void write_csv(FILE *f, const exp_row *rows, size_t n) {
    fprintf(f, "graph,BLEU,ROUGE-1,ROUGE-2,ROUGE-L,records,failed\n");
    for (size_t i = 0; i < n; i++) {
        /* names come from file names: quote them so a comma or quote cannot shift the columns */
        fputc('"', f);
        for (const char *c = rows[i].name; *c; c++) {
            if (*c == '"') fputc('"', f);
            fputc(*c, f);
        }
        fprintf(f, "\",%.6f,%.6f,%.6f,%.6f,%zu,%zu\n", rows[i].bleu, rows[i].r1, rows[i].r2, rows[i].rl,
                rows[i].records, rows[i].failed);
    }
}

static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Grouped bars: one group per graph, one bar per metric, a y axis in percent. */
static void write_svg(FILE *f, const exp_row *rows, size_t n) {
    static const char *metric[4] = { "BLEU", "ROUGE-1", "ROUGE-2", "ROUGE-L" };
    static const char *color[4] = { "#4e79a7", "#f28e2b", "#59a14f", "#e15759" };
    double top = 0;
    for (size_t i = 0; i < n; i++) {
        double v[4] = { rows[i].bleu, rows[i].r1, rows[i].r2, rows[i].rl };
        for (int m = 0; m < 4; m++)
            if (v[m] > top) top = v[m];
    }
    /* the axis ends at the next multiple of 10 (at least 10) */
    double axis = 10;
    while (axis < top) axis += 10;
    const double left = 60, right = 20, plot_top = 40, plot_h = 300, bar = 14, gap = 24;
    const double group = 4 * bar + gap, width = left + right + (double)n * group + gap;
    const double height = plot_top + plot_h + 120;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", width < 400 ? 400 : width, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    for (int t = 0; t <= 5; t++) {   /* gridlines and tick labels */
        double v = axis * t / 5, y = plot_top + plot_h - plot_h * t / 5;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y,
                width - right, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n", left - 6, y + 4, v);
    }
    fprintf(f, "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" text-anchor=\"middle\">score (%%)</text>\n",
            plot_top + plot_h / 2, plot_top + plot_h / 2);
    for (size_t i = 0; i < n; i++) {
        double v[4] = { rows[i].bleu, rows[i].r1, rows[i].r2, rows[i].rl };
        double x0 = left + gap + (double)i * group;
        for (int m = 0; m < 4; m++) {
            double h = v[m] > 0 ? plot_h * v[m] / axis : 0;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x0 + m * bar,
                    plot_top + plot_h - h, bar - 1, h, color[m]);
            xml_text(f, rows[i].name);
            fprintf(f, " %s %.2f</title></rect>\n", metric[m], v[m]);
        }
        double cx = x0 + 2 * bar, cy = plot_top + plot_h + 12;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" transform=\"rotate(35 %.1f %.1f)\">", cx, cy, cx, cy);
        xml_text(f, rows[i].name);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left,
            plot_top + plot_h, width - right, plot_top + plot_h);
    for (int m = 0; m < 4; m++) {   /* legend */
        double x = left + m * 90;
        fprintf(f, "<rect x=\"%.1f\" y=\"12\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x, color[m]);
        fprintf(f, "<text x=\"%.1f\" y=\"22\">%s</text>\n", x + 16, metric[m]);
    }
    fprintf(f, "</svg>\n");
}

/* Writes one output file through `write`, reporting an error. */
static int write_file(const char *dir, const char *name, void (*write)(FILE *, const exp_row *, size_t),
                      const exp_row *rows, size_t n) {
    char *path = join_path(dir, name, "");
    FILE *f = path ? fopen(path, "w") : NULL;
    int rc = 0;
    if (!f) {
        fprintf(stderr, "plume experiment: %s: %s\n", path ? path : name, strerror(errno));
        rc = -1;
    } else {
        write(f, rows, n);
        if (ferror(f) | (fclose(f) != 0)) {
            fprintf(stderr, "plume experiment: %s: write error\n", path);
            rc = -1;
        }
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
    size_t n_graphs = 0, limit = 0, batch = 8;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            experiment_usage(stdout);
            return 0;
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
    char **targets = NULL, *requests = limit ? join_path(out_dir, "requests", ".jsonl") : NULL;
    size_t n_targets = 0, n_rows = 0;
    int status = 0;
    plume_error err = { { 0 } };
    plume_registry *reg = NULL;
    if ((limit && !requests) || read_targets(data, limit, requests, &targets, &n_targets)) {
        status = 1;
        goto done;
    }
    if (!(reg = plume_registry_open(&err))) {
        fprintf(stderr, "plume experiment: %s\n", err.msg);
        status = 1;
        goto done;
    }
    /* load every graph first: a typo in the last one should not cost the runs of the others */
    plume_graph *loaded[EXP_MAX_GRAPHS] = { 0 };
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
    for (size_t g = 0; g < n_graphs && status == 0; g++) {
        exp_row *row = &rows[n_rows];
        if (!(row->name = graph_name(graphs[g]))) {
            status = 1;
            break;
        }
        n_rows++;
        char *results = join_path(out_dir, row->name, ".results.jsonl");
        char *pairs = join_path(out_dir, row->name, ".pairs.jsonl");
        plume_run_options opt = plume_run_defaults();
        opt.data = requests ? requests : data;
        opt.out = results;
        opt.batch = batch;
        opt.progress = isatty(2);
        plume_run_report rep = { 0 };
        if (!results || !pairs) {
            fprintf(stderr, "plume experiment: out of memory\n");
            status = 1;
        } else if (plume_run(loaded[g], &opt, &rep, &err)) {
            fprintf(stderr, "%s: %s\n", graphs[g], err.msg);
            status = 1;
        } else if (score_run(results, pairs, pred, targets, n_targets, row)) {
            status = 1;
        } else {
            fprintf(stderr, "%s: %zu records, %zu failed, %.1f s\n", row->name, row->records, row->failed,
                    rep.seconds);
        }
        free(results);
        free(pairs);
    }
    for (size_t g = 0; g < n_graphs; g++) plume_graph_free(loaded[g]);
    if (status == 0) {
        write_markdown(stdout, rows, n_rows);
        if (write_file(out_dir, "results.md", write_markdown, rows, n_rows) ||
            write_file(out_dir, "results.csv", write_csv, rows, n_rows) ||
            write_file(out_dir, "results.svg", write_svg, rows, n_rows))
            status = 1;
    }
done:
    plume_registry_close(reg);
    for (size_t i = 0; i < n_targets; i++) free(targets[i]);
    free(targets);
    free(requests);
    for (size_t i = 0; i < n_rows; i++) free(rows[i].name);
    return status;
}
