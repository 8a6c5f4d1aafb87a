/* plume eval FILE: corpus BLEU and mean ROUGE-1/2/L F of predictions against references.
 *
 * FILE holds JSON Lines, one object per line with a prediction and a reference string
 * ("prediction" and "reference" unless --pred/--ref name other fields); blank lines are skipped.
 * Scores are percentages, as the paper's tables print them: BLEU is sacrebleu's corpus BLEU,
 * ROUGE the mean over records of rouge-score's F-measures (see include/plume/eval.h). When the
 * records carry the request's immediate context ("context", or --context FIELD), the continuation
 * is scored too: prediction and reference each without that context at its start. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/read_line.h"
#include "commands.h"
#include "plume/eval.h"
#include "score.h"

/* A line longer than this is refused: no evaluation record is that large, a broken file may be. */

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: plume eval FILE [--pred FIELD] [--ref FIELD] [--context FIELD] [--per-record] [--json]\n"
            "                 [--no-stem]\n"
            "\n"
            "FILE is JSON Lines ('-' reads standard input); each line an object with a prediction and a\n"
            "reference string. Prints corpus BLEU (sacrebleu, 13a) and mean ROUGE-1/2/L F (rouge-score,\n"
            "Porter stemming), all as percentages.\n"
            "  --pred FIELD   field holding the prediction (default: prediction)\n"
            "  --ref FIELD    field holding the reference (default: reference)\n"
            "  --context FIELD  field holding the request's immediate context (default: context); where a\n"
            "                 record has one, the continuation (prediction and reference without it) is\n"
            "                 scored too\n"
            "  --per-record   also each record's sentence BLEU and ROUGE\n"
            "  --json         machine-readable output: one JSON object\n"
            "  --no-stem      ROUGE without the Porter stemmer (rouge-score's use_stemmer=False)\n");
}

typedef struct eval_row {
    size_t line;
    char *id;   /* the record's "id" when it is a string or number, else NULL */
    int has_context;
    score_record s;
} eval_row;

static char *record_id(json_t *obj) {
    json_t *id = json_object_get(obj, "id");
    char buf[64];
    if (json_is_string(id)) return strdup(json_string_value(id));
    if (json_is_integer(id)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(id));
        return strdup(buf);
    }
    return NULL;
}

int cmd_eval(int argc, char **argv) {
    const char *path = NULL, *pred_field = "prediction", *ref_field = "reference", *ctx_field = "context";
    int per_record = 0, as_json = 0, stem = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            eval_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--pred") || !strcmp(a, "--ref") || !strcmp(a, "--context")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "plume eval: %s needs a field name\n", a);
                return 2;
            }
            if (!strcmp(a, "--pred")) pred_field = argv[++i];
            else if (!strcmp(a, "--ref")) ref_field = argv[++i];
            else ctx_field = argv[++i];
        } else if (!strcmp(a, "--per-record")) {
            per_record = 1;
        } else if (!strcmp(a, "--json")) {
            as_json = 1;
        } else if (!strcmp(a, "--no-stem")) {
            stem = 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "plume eval: unknown option '%s'\n", a);
            eval_usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "plume eval: one FILE only ('%s' and '%s' given)\n", path, a);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path) {
        eval_usage(stderr);
        return 2;
    }
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "plume eval: %s: %s\n", path, strerror(errno));
        return 1;
    }

    eval_row *rows = NULL;
    size_t n_rows = 0, cap_rows = 0, line_no = 0;
    score_set set = { .stem = stem, .sentence_bleu = per_record };
    plume_line_reader lines;
    plume_line_attach(&lines, f, path, PLUME_LINE_MAX);
    char *line;
    size_t len;
    plume_error err;
    int status = 0, got;
    while ((got = plume_line_next(&lines, &line, &len, &err)) != 0) {
        line_no = lines.line_no;
        if (got < 0) {
            fprintf(stderr, "plume eval: %s\n", err.msg);
            status = 1;
            break;
        }
        if (plume_line_is_blank(line, len)) continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, len, 0, &jerr);
        if (!obj) {
            if (jerr.column > 0)
                fprintf(stderr, "%s:%zu:%d: not valid JSON: %s\n", path, line_no, jerr.column, jerr.text);
            else
                fprintf(stderr, "%s:%zu: not valid JSON: %s\n", path, line_no, jerr.text);
            status = 1;
            break;
        }
        if (!json_is_object(obj)) {
            fprintf(stderr, "%s:%zu: expected a JSON object with \"%s\" and \"%s\" strings\n", path, line_no,
                    pred_field, ref_field);
            json_decref(obj);
            status = 1;
            break;
        }
        json_t *jp = json_object_get(obj, pred_field), *jr = json_object_get(obj, ref_field);
        const char *missing = !json_is_string(jp) ? pred_field : !json_is_string(jr) ? ref_field : NULL;
        if (missing) {
            json_t *m = missing == pred_field ? jp : jr;
            fprintf(stderr, "%s:%zu: field \"%s\" is %s (hint: --%s FIELD names another field)\n", path, line_no,
                    missing, m ? "not a string" : "missing", missing == pred_field ? "pred" : "ref");
            json_decref(obj);
            status = 1;
            break;
        }
        const char *p = json_string_value(jp), *r = json_string_value(jr);
        size_t pl = json_string_length(jp), rl = json_string_length(jr);
        json_t *jc = json_object_get(obj, ctx_field);
        if (jc && !json_is_string(jc)) {
            fprintf(stderr, "%s:%zu: field \"%s\" is not a string (hint: --context FIELD names another field)\n",
                    path, line_no, ctx_field);
            json_decref(obj);
            status = 1;
            break;
        }
        score_record rec;
        if (score_add(&set, p, pl, r, rl, jc ? json_string_value(jc) : NULL, jc ? json_string_length(jc) : 0, &rec)) {
            fprintf(stderr, "%s:%zu: out of memory\n", path, line_no);
            json_decref(obj);
            status = 1;
            break;
        }
        if (n_rows == cap_rows) {
            size_t nc = cap_rows ? cap_rows * 2 : 256;
            eval_row *nr = realloc(rows, nc * sizeof *nr);
            if (!nr) {
                fprintf(stderr, "%s:%zu: out of memory\n", path, line_no);
                json_decref(obj);
                status = 1;
                break;
            }
            rows = nr;
            cap_rows = nc;
        }
        rows[n_rows++] = (eval_row){ line_no, per_record ? record_id(obj) : NULL, jc != NULL, rec };
        json_decref(obj);
    }
    if (status == 0 && n_rows == 0) {
        fprintf(stderr, "plume eval: %s: no records (expected JSON Lines with \"%s\" and \"%s\")\n", path,
                pred_field, ref_field);
        status = 1;
    }
    if (status == 0 && set.with_context && set.with_context < n_rows)
        fprintf(stderr, "plume eval: %s: %zu of %zu records have no \"%s\": the continuation scores cover the %zu "
                        "that do\n", path, n_rows - set.with_context, n_rows, ctx_field, set.with_context);
    if (status == 0 && set.context_missing)
        fprintf(stderr, "plume eval: %s: %zu predictions do not start with their context: scored whole as "
                        "continuations\n", path, set.context_missing);
    if (status == 0) {
        plume_bleu b = plume_bleu_score(&set.full, 0);
        score_means m = score_summary(&set);
        if (as_json) {
            json_t *out = json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "records", (json_int_t)n_rows, "bleu",
                                    m.bleu, "rouge1", m.r1, "rouge2", m.r2, "rougeL", m.rl, "bleu_bp", b.bp);
            if (out && set.with_context) {
                json_t *c = json_pack("{s:I, s:f, s:f, s:f, s:f}", "records", (json_int_t)set.with_context, "bleu",
                                      m.cbleu, "rouge1", m.c1, "rouge2", m.c2, "rougeL", m.cl);
                if (c) json_object_set_new(out, "continuation", c);
            }
            if (out && per_record) {
                json_t *list = json_array();
                for (size_t i = 0; list && i < n_rows; i++) {
                    const score_record *r = &rows[i].s;
                    json_t *row = json_pack("{s:I, s:f, s:f, s:f, s:f}", "line", (json_int_t)rows[i].line, "bleu",
                                            r->bleu, "rouge1", r->r1, "rouge2", r->r2, "rougeL", r->rl);
                    if (row && rows[i].has_context) {
                        json_t *c = json_pack("{s:f, s:f, s:f}", "rouge1", r->c1, "rouge2", r->c2, "rougeL", r->cl);
                        if (c) json_object_set_new(row, "continuation", c);
                    }
                    if (row && rows[i].id) json_object_set_new(row, "id", json_string(rows[i].id));
                    if (row) json_array_append_new(list, row);
                }
                if (list) json_object_set_new(out, "per_record", list);
            }
            char *s = out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
            if (s) printf("%s\n", s);
            else {
                fprintf(stderr, "plume eval: out of memory\n");
                status = 1;
            }
            free(s);
            json_decref(out);
        } else {
            if (per_record) {
                printf("%-8s %-16s %8s %8s %8s %8s", "line", "id", "BLEU", "ROUGE-1", "ROUGE-2", "ROUGE-L");
                if (set.with_context) printf(" %8s %8s %8s", "c.R-1", "c.R-2", "c.R-L");
                printf("\n");
                for (size_t i = 0; i < n_rows; i++) {
                    const score_record *r = &rows[i].s;
                    printf("%-8zu %-16s %8.2f %8.2f %8.2f %8.2f", rows[i].line, rows[i].id ? rows[i].id : "-", r->bleu,
                           r->r1, r->r2, r->rl);
                    if (rows[i].has_context) printf(" %8.2f %8.2f %8.2f", r->c1, r->c2, r->cl);
                    else if (set.with_context) printf(" %8s %8s %8s", "-", "-", "-");
                    printf("\n");
                }
                printf("\n");
            }
            printf("records  %zu\n", n_rows);
            printf("BLEU     %.2f  (corpus, sacrebleu 13a; BP %.3f, ratio %.3f)\n", m.bleu, b.bp,
                   b.ref_len > 0 ? b.sys_len / b.ref_len : 0.0);
            printf("ROUGE-1  %.2f  (mean F, rouge-score%s)\n", m.r1, stem ? ", Porter stemming" : "");
            printf("ROUGE-2  %.2f\n", m.r2);
            printf("ROUGE-L  %.2f\n", m.rl);
            if (set.with_context) {
                printf("\ncontinuation (prediction and reference without the context; %zu records)\n", set.with_context);
                printf("BLEU     %.2f\n", m.cbleu);
                printf("ROUGE-1  %.2f\n", m.c1);
                printf("ROUGE-2  %.2f\n", m.c2);
                printf("ROUGE-L  %.2f\n", m.cl);
            }
        }
    }
    for (size_t i = 0; i < n_rows; i++) free(rows[i].id);
    free(rows);
    plume_line_close(&lines);
    if (f != stdin) fclose(f);
    return status;
}
