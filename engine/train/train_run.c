/* `plume train`: JSON Lines in, a trained GGUF out. Reads the examples (jansson) and
 * tokenizes them, runs the trainer with periodic validation and checkpoints, and keeps
 * the loss curve as CSV (step,train_loss,val_loss,lr,grad_norm) and an SVG drawing. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "plume/gguf.h"
#include "plume/dist.h"
#include "plume/file.h"
#include "plume/read_line.h"
#include "plume/train.h"
#include "plume/tokenizer.h"

#define JSONL_MAX_EXAMPLES 10000000

static int load_tokenizer(const char *path, plume_tokenizer **tok, plume_error *err) {
    plume_gguf *g = NULL;
    if (plume_gguf_open(&g, path, err)) return plume_fail_prefix(err, "tokenizer: ");
    int rc = 0;
    if (!plume_gguf_find(g, "tokenizer.ggml.model"))
        rc = plume_fail(err, "%s: has no tokenizer.ggml.* metadata; hint: name a GGUF that carries a tokenizer", path);
    else rc = plume_tokenizer_from_gguf(tok, g, err);
    plume_gguf_close(g);
    return rc;
}

void plume_train_examples_free(plume_train_example *ex, int n) {
    for (int i = 0; ex && i < n; i++) free((void *)ex[i].tokens);
    free(ex);
}

static int read_jsonl(const char *path, const plume_tokenizer *tok, int add_eos, plume_train_example **out, int *n_out,
                      plume_error *err) {
    plume_line_reader lines;
    if (plume_line_open(&lines, path, PLUME_LINE_MAX, err)) return -1;
    char *line;
    size_t len;
    long lineno = 0;
    int n = 0, room = 0, rc = 0, got;
    plume_train_example *ex = NULL;
    int32_t bos = plume_tokenizer_bos(tok), eos = plume_tokenizer_eos(tok);
    while (!rc && (got = plume_line_next(&lines, &line, &len, err)) != 0) {
        if (got < 0) {
            rc = -1;
            break;
        }
        lineno = (long)lines.line_no;
        if (plume_line_is_blank(line, len)) continue;
        json_error_t je;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            rc = plume_fail(err, "%s:%ld:%d: %s; hint: one JSON object per line", path, lineno, je.column, je.text);
            break;
        }
        json_t *p = json_object_get(o, "prompt"), *t = json_object_get(o, "target"),
               *tt = json_object_get(o, "target_token");
        if (!json_is_object(o) || !json_is_string(p) || !(json_is_string(t) ^ json_is_string(tt))) {
            json_decref(o);
            rc = plume_fail(err, "%s:%ld: wants an object with a string \"prompt\" and either a string \"target\" "
                                 "or a string \"target_token\"", path, lineno);
            break;
        }
        int32_t *pi = NULL, *ti = NULL;
        size_t np = 0, nt = 0;
        if (tt) {   /* the target is one control token, named: a task's answer that no text can spell */
            int32_t id = plume_tokenizer_lookup(tok, json_string_value(tt));
            if (id < 0 || plume_tokenizer_token_type(tok, id) != PLUME_TOKEN_CONTROL) {
                rc = plume_fail(err, "%s:%ld: target_token \"%s\" is %s; hint: add it with plume bpe --control", path,
                                lineno, json_string_value(tt), id < 0 ? "not in the vocabulary" : "not a control token");
                json_decref(o);
                break;
            }
            if (!(ti = malloc(sizeof *ti))) {
                json_decref(o);
                rc = plume_fail(err, "%s:%ld: out of memory", path, lineno);
                break;
            }
            ti[0] = id;
            nt = 1;
        }
        if (plume_tokenize(tok, json_string_value(p), json_string_length(p), false, &pi, &np, err) ||
            (!tt && plume_tokenize(tok, json_string_value(t), json_string_length(t), false, &ti, &nt, err))) {
            free(ti);
            free(pi);
            json_decref(o);
            rc = plume_fail_prefix(err, "%s:%ld: ", path, lineno);
            break;
        }
        json_decref(o);
        size_t total = (bos >= 0) + np + nt + (add_eos && eos >= 0);
        int32_t *all = malloc(total * sizeof *all + 4);
        if (n == room) {
            room = room ? room * 2 : 64;
            plume_train_example *grown = n < JSONL_MAX_EXAMPLES ? realloc(ex, (size_t)room * sizeof *ex) : NULL;
            if (!grown) {
                free(all);
                all = NULL;
            } else {
                ex = grown;
            }
        }
        if (!all) {
            free(pi);
            free(ti);
            rc = plume_fail(err, "%s:%ld: out of memory (or more than %d examples)", path, lineno, JSONL_MAX_EXAMPLES);
            break;
        }
        size_t at = 0;
        if (bos >= 0) all[at++] = bos;
        memcpy(all + at, pi, np * sizeof *all);
        at += np;
        int n_prompt = (int)at;
        memcpy(all + at, ti, nt * sizeof *all);
        at += nt;
        if (add_eos && eos >= 0) all[at++] = eos;
        free(pi);
        free(ti);
        if (n_prompt < 1 || (int)at <= n_prompt) {
            free(all);
            rc = plume_fail(err, "%s:%ld: the %s is empty after tokenization; hint: every example needs a prompt "
                                 "(or a BOS) and a target", path, lineno, n_prompt < 1 ? "prompt" : "target");
            break;
        }
        ex[n++] = (plume_train_example){all, (int)at, n_prompt, NULL};
    }
    plume_line_close(&lines);
    if (!rc && n == 0) rc = plume_fail(err, "%s: no examples", path);
    if (rc) {
        plume_train_examples_free(ex, n);
        return -1;
    }
    *out = ex;
    *n_out = n;
    return 0;
}

int plume_train_read_jsonl(const char *path, const char *tokenizer_gguf, int add_eos, plume_train_example **ex, int *n,
                           plume_error *err) {
    plume_tokenizer *tok = NULL;
    if (load_tokenizer(tokenizer_gguf, &tok, err)) return -1;
    int rc = read_jsonl(path, tok, add_eos, ex, n, err);
    plume_tokenizer_free(tok);
    return rc;
}

/* ---- the loss curve ---------------------------------------------------------------- */

typedef struct curve {
    int n, cap;
    int *step;
    double *train, *val;
} curve;

static void curve_add(curve *c, int step, double train, double val) {
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 256;
        int *s = realloc(c->step, (size_t)cap * sizeof *s);
        if (s) c->step = s;
        double *t = realloc(c->train, (size_t)cap * sizeof *t);
        if (t) c->train = t;
        double *v = realloc(c->val, (size_t)cap * sizeof *v);
        if (v) c->val = v;
        if (!s || !t || !v) return;  /* the drawing loses points, the CSV keeps them */
        c->cap = cap;
    }
    c->step[c->n] = step;
    c->train[c->n] = train;
    c->val[c->n] = val;
    c->n++;
}

static void curve_free(curve *c) {
    free(c->step);
    free(c->train);
    free(c->val);
}

/* loss.csv, kept whole in memory and written whole with each checkpoint, so the file on disk
 * always describes the saved model: a run killed between checkpoints leaves the CSV of the last
 * checkpoint, and resuming from it repeats no step. */
#define CSV_HEADER "step,train_loss,val_loss,lr,grad_norm\n"
typedef struct csv_text { char *s; size_t len, cap; int oom; } csv_text;

static void csv_put(csv_text *t, const char *line) {
    size_t n = strlen(line);
    if (t->oom) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (t->len + n + 1 > cap) cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, line, n + 1);
    t->len += n;
}

/* Reads an earlier run's CSV back (when resuming): its whole rows up to the checkpoint's step,
 * into the text and the curve. */
static void csv_read(csv_text *t, curve *c, const char *path, int upto) {
    csv_put(t, CSV_HEADER);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char buf[256];
    while (fgets(buf, sizeof buf, f)) {
        int s;
        double tl, v = NAN;
        char vs[64] = "";
        size_t n = strlen(buf);
        if (!n || buf[n - 1] != '\n') break;   /* a row cut short (an older version wrote as it went) */
        if (sscanf(buf, "%d,%lf,%63[^,]", &s, &tl, vs) >= 2 && s <= upto) {
            if (vs[0]) v = strtod(vs, NULL);
            curve_add(c, s, tl, v);
            csv_put(t, buf);
        }
    }
    fclose(f);
}

static int write_csv(const csv_text *t, const char *path, plume_error *err) {
    if (t->oom) return plume_fail(err, "%s: out of memory keeping the loss curve", path);
    plume_output_file out;
    if (plume_output_open(&out, path, err)) return -1;
    if (fwrite(t->s, 1, t->len, out.f) != t->len) {
        int e = errno;
        plume_output_abort(&out);
        return plume_fail(err, "%s: cannot write it: %s", path, strerror(e));
    }
    return plume_output_commit(&out, err);
}

static int write_svg(const curve *c, const char *path, plume_error *err) {
    plume_output_file out;
    if (plume_output_open(&out, path, err)) return -1;
    FILE *f = out.f;
    const double W = 640, H = 400, L = 60, R = 20, T = 30, B = 45;
    double lo = INFINITY, hi = -INFINITY;
    int s0 = c->n ? c->step[0] : 0, s1 = c->n ? c->step[c->n - 1] : 1;
    for (int i = 0; i < c->n; i++) {
        lo = fmin(lo, c->train[i]);
        hi = fmax(hi, c->train[i]);
        if (!isnan(c->val[i])) {
            lo = fmin(lo, c->val[i]);
            hi = fmax(hi, c->val[i]);
        }
    }
    if (!(hi > lo)) {
        lo = isfinite(lo) ? lo - 1 : 0;
        hi = lo + 2;
    }
    if (s1 <= s0) s1 = s0 + 1;
#define X(s) (L + ((s) - s0) * (W - L - R) / (double)(s1 - s0))
#define Y(v) (T + (hi - (v)) * (H - T - B) / (hi - lo))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%g\" y=\"18\">loss (target tokens, cross-entropy) by step</text>\n", L);
    fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
    fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L, T, L, H - B);
    for (int k = 0; k <= 4; k++) {
        double v = lo + (hi - lo) * k / 4;
        fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.3g</text>\n", L - 4, Y(v) + 4, v);
        int s = s0 + (int)((double)(s1 - s0) * k / 4);
        fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%d</text>\n", X(s), H - B + 16, s);
    }
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"");
    for (int i = 0; i < c->n; i++) fprintf(f, "%.1f,%.1f ", X(c->step[i]), Y(c->train[i]));
    fprintf(f, "\"/>\n<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" points=\"");
    for (int i = 0; i < c->n; i++)
        if (!isnan(c->val[i])) fprintf(f, "%.1f,%.1f ", X(c->step[i]), Y(c->val[i]));
    fprintf(f, "\"/>\n<text x=\"%g\" y=\"%g\" fill=\"#1f77b4\">train</text>\n", W - R - 110, T + 12);
    fprintf(f, "<text x=\"%g\" y=\"%g\" fill=\"#ff7f0e\">validation</text>\n</svg>\n", W - R - 70, T + 12);
#undef X
#undef Y
    return plume_output_commit(&out, err);
}

/* ---- the run ------------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

/* In an MPI job: 0 when rc is 0 on every rank, else -1 on all (err says which rank failed,
 * where it was not this one). */
static int all_ranks(int rc, const char *what, plume_error *err) {
    int bad;
    if (plume_dist_all_ok(rc == 0, &bad)) return 0;
    if (rc == 0) plume_fail(err, "%s failed on rank %d of %d (its message is above)", what, bad, plume_dist_size());
    return -1;
}

typedef struct run_files {
    char *gguf, *optim, *csv, *svg, *f16, *q8;
} run_files;

/* Rank 0 writes (every rank holds the same weights, checked here); the others wait to hear
 * whether it could. */
static int checkpoint(plume_trainer *t, const plume_train_config *c, const run_files *fl, const curve *cv,
                      const csv_text *csv, plume_error *err) {
    int rc = plume_trainer_check_replicas(t, err);
    if (rc) return rc;
    if (plume_dist_rank() == 0)
        rc = plume_trainer_save(t, fl->gguf, PLUME_GGML_F32, c->tokenizer, err) ||
             plume_trainer_save_state(t, fl->optim, err) || write_svg(cv, fl->svg, err) ||
             write_csv(csv, fl->csv, err);
    return all_ranks(rc, "writing the checkpoint", err);
}

static void progress(FILE *log, int tty, int step, int steps, double loss, double lr, double rate) {
    if (tty) {
        char bar[31];
        int k = (int)(30.0 * step / steps);
        for (int i = 0; i < 30; i++) bar[i] = i < k ? '#' : '-';
        bar[30] = 0;
        fprintf(log, "\r[%s] %d/%d  loss %.4f  lr %.2e  %.2f steps/s ", bar, step, steps, loss, lr, rate);
    } else {
        fprintf(log, "step %d/%d  loss %.4f  lr %.2e  %.2f steps/s\n", step, steps, loss, lr, rate);
    }
    fflush(log);
}

int plume_train_run(const plume_train_config *c, FILE *log, plume_error *err) {
    plume_tokenizer *tok = NULL;
    plume_train_example *train = NULL, *val = NULL;
    int n_train = 0, n_val = 0, rc = -1;
    plume_trainer *t = NULL;
    csv_text csv = {0};
    curve cv = {0};
    run_files fl = {join(c->out, "model.gguf"), join(c->out, "model.optim"), join(c->out, "loss.csv"),
                    join(c->out, "loss.svg"), join(c->out, "model-f16.gguf"), join(c->out, "model-q8_0.gguf")};
    /* In an MPI job every rank trains (data-parallel, see plume_trainer_step); rank 0 alone
     * prints and writes files. Until the trainer runs, every rank does the same reading, so
     * they fail alike; a vote after the start catches what can fail on one alone (the device). */
    int rank = plume_dist_rank(), ranks = plume_dist_size();
    if (rank != 0) log = NULL;
    int tty = log && isatty(fileno(log));
    if (!fl.gguf || !fl.optim || !fl.csv || !fl.svg || !fl.f16 || !fl.q8) {
        plume_fail(err, "out of memory");
        goto done;
    }
    if (load_tokenizer(c->tokenizer, &tok, err) || read_jsonl(c->train_data, tok, c->add_eos, &train, &n_train, err) ||
        (c->val_data && read_jsonl(c->val_data, tok, c->add_eos, &val, &n_val, err)))
        goto done;
    if (c->pack) {
        plume_train_example *rows = NULL;
        int n_rows = 0;
        if (plume_train_pack(train, n_train, c->params.seq_len, c->params.seed, &rows, &n_rows, err)) {
            plume_fail_prefix(err, "%s: ", c->train_data);
            goto done;
        }
        plume_train_examples_free(train, n_train);
        train = rows;
        n_train = n_rows;
    }
    int made = rank != 0 || plume_make_dirs(c->out) == 0;
    if (!made) plume_fail(err, "%s: cannot create the output folder: %s", c->out, strerror(errno));
    if (all_ranks(made ? 0 : -1, "creating the output folder", err)) goto done;
    int started = -1;   /* -1 until every step below has succeeded */
    int resumed = c->resume && file_exists(fl.gguf) && file_exists(fl.optim);
    if (resumed) {
        t = plume_trainer_create(NULL, fl.gguf, &c->params, err);
        if (!t || plume_trainer_load_state(t, fl.optim, err)) goto started;
    } else if (c->has_shape) {
        plume_train_shape s = c->shape;
        if (!s.vocab_size) s.vocab_size = plume_tokenizer_n_vocab(tok);
        t = plume_trainer_create(&s, NULL, &c->params, err);
    } else {
        t = plume_trainer_create(NULL, c->init, &c->params, err);
    }
    if (!t) goto started;
    if (plume_trainer_shape(t)->vocab_size < plume_tokenizer_n_vocab(tok)) {
        plume_fail(err, "%s: the tokenizer has %d tokens but the model only %d; hint: model.shape.vocab",
                   c->tokenizer, plume_tokenizer_n_vocab(tok), plume_trainer_shape(t)->vocab_size);
        goto started;
    }
    if (plume_trainer_set_data(t, train, n_train, err)) {
        plume_fail_prefix(err, "%s: ", c->train_data);
        goto started;
    }
    if (resumed) csv_read(&csv, &cv, fl.csv, plume_trainer_step_count(t));
    else csv_put(&csv, CSV_HEADER);
    started = 0;
started:
    if (all_ranks(started, "starting the trainer", err)) goto done;
    const plume_train_shape *s = plume_trainer_shape(t);
    if (log)
        fprintf(log, "plume train: %s model dim %d, %d layers, %d/%d heads, vocab %d; %d training %s%s%s; "
                     "%d steps of %d x %d x %d tokens%s",
                resumed ? "resuming the" : c->has_shape ? "a new" : "fine-tuning the", s->dim, s->n_layers,
                s->n_heads, s->n_kv_heads, s->vocab_size, n_train, c->pack ? "rows (packed)" : "examples",
                n_val ? ", validation " : "", n_val ? "set" : "", c->params.steps, c->params.accum, c->params.batch, c->params.seq_len,
                resumed ? " (continuing)" : "");
    if (log && ranks > 1) fprintf(log, "; data-parallel over %d MPI ranks", ranks);
    if (log) fputc('\n', log);
    double t0 = now_s();
    int first = plume_trainer_step_count(t);
    while (plume_trainer_step_count(t) < c->params.steps) {
        plume_train_stats st;
        if (plume_trainer_step(t, &st, err)) goto done;
        double vl = NAN;
        int last = st.step == c->params.steps;
        if (n_val && ((c->eval_every > 0 && st.step % c->eval_every == 0) || last)) {
            if (plume_trainer_eval(t, val, n_val, &vl, err)) {
                plume_fail_prefix(err, "%s: ", c->val_data);
                goto done;
            }
        }
        if (rank == 0) {
            char row[200], vs[40] = "";
            if (!isnan(vl)) snprintf(vs, sizeof vs, "%.6f", vl);
            snprintf(row, sizeof row, "%d,%.6f,%s,%.6g,%.6g\n", st.step, st.loss, vs, st.lr, st.grad_norm);
            csv_put(&csv, row);
        }
        curve_add(&cv, st.step, st.loss, vl);
        double rate = (st.step - first) / (now_s() - t0 + 1e-9);
        int every = c->params.steps / 20 > 0 ? c->params.steps / 20 : 1;
        if (log && (tty || st.step % every == 0 || last || !isnan(vl))) progress(log, tty, st.step, c->params.steps,
                                                                                st.loss, st.lr, rate);
        if (log && !isnan(vl)) fprintf(log, "%svalidation loss %.4f at step %d\n", tty ? "\n" : "", vl, st.step);
        if (c->checkpoint_every > 0 && st.step % c->checkpoint_every == 0 && !last &&
            checkpoint(t, c, &fl, &cv, &csv, err))
            goto done;
    }
    double secs = now_s() - t0;
    if (log && tty) fputc('\n', log);
    if (checkpoint(t, c, &fl, &cv, &csv, err)) goto done;
    int exported = rank != 0 ||
                   !((c->export_f16 && plume_trainer_save(t, fl.f16, PLUME_GGML_F16, c->tokenizer, err)) ||
                     (c->export_q8_0 && plume_trainer_save(t, fl.q8, PLUME_GGML_Q8_0, c->tokenizer, err)));
    if (all_ranks(exported ? 0 : -1, "exporting the model", err)) goto done;
    if (log) {
        int done_steps = plume_trainer_step_count(t) - first;
        fprintf(log, "plume train: %d steps in %.1f s (%.2f steps/s); wrote %s, %s, %s, %s%s%s%s%s\n", done_steps,
                secs, done_steps / (secs + 1e-9), fl.gguf, fl.optim, fl.csv, fl.svg, c->export_f16 ? ", " : "",
                c->export_f16 ? fl.f16 : "", c->export_q8_0 ? ", " : "", c->export_q8_0 ? fl.q8 : "");
    }
    rc = 0;
done:
    free(csv.s);
    curve_free(&cv);
    plume_trainer_free(t);
    plume_train_examples_free(train, n_train);
    plume_train_examples_free(val, n_val);
    plume_tokenizer_free(tok);
    free(fl.gguf); free(fl.optim); free(fl.csv); free(fl.svg); free(fl.f16); free(fl.q8);
    return rc;
}
