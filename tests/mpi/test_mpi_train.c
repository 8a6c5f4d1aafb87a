/* `mpirun -n 2 plume train`: data-parallel training on one machine, both ranks on the one
 * device, against one process with the same configuration (the same global batch):
 *   - batch 4, accumulation 2: each rank takes one whole micro-batch of the step, so the sum of
 *     the two ranks' gradients is the very float addition one process makes when it
 *     accumulates its two micro-batches: the weights, the optimizer state and the loss curve
 *     (with validation, split over the ranks) are bitwise those of one process;
 *   - batch 4, accumulation 1: each rank takes 2 of the 4 sequences, so the sums over the
 *     sequences run in another order: after 3 steps every weight is within 1e-5 of one
 *     process's (AdamW's steps are ~lr = 3e-3 each; rounding differs at ~1e-7 relative) and
 *     the losses within 1e-5;
 *   - rank 0 alone reports (and writes: the files are those of one writer, compared above). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/gguf.h"
#include "mpi_test.h"

#define LIMIT 200
#define TOLERANCE 1e-5

static char tok[600], train[600], val[600];

static const char *config(const char *name, int batch, int accum, int steps, const char *out) {
    char text[4096];
    snprintf(text, sizeof text,
             "plume: 1\nmodel:\n  shape: {dim: 64, hidden_dim: 172, layers: 2, heads: 4, kv_heads: 2, context: 128}\n"
             "tokenizer: %s\ndata:\n  train: %s\n  validation: %s\ntrain:\n  lr: 0.003\n  warmup: 2\n"
             "  decay: cosine\n  steps: %d\n  batch: %d\n  accumulation: %d\n  seq_len: 48\n  seed: 7\n"
             "  eval_every: 2\n  checkpoint_every: 3\nout: %s\n",
             tok, train, val, steps, batch, accum, out);
    const char *path = mt_path(name);
    CHECK(mt_write(path, text) == 0);
    return path;
}

/* Trains CONFIG alone and under mpirun -n 2; returns 0 when both ran. */
static int both(const char *one_cfg, const char *two_cfg) {
    char *log = NULL;
    const char *one[] = { mt_plume(), "train", one_cfg, NULL };
    int rc = mt_run(LIMIT, &log, one);
    CHECK_MSG(rc == 0, "plume train: %d: %s", rc, log);
    free(log);
    const char *two[] = { PLUME_MPIEXEC, "-n", "2", mt_plume(), "train", two_cfg, NULL };
    int rc2 = mt_run(LIMIT, &log, two);
    CHECK_MSG(rc2 == 0, "mpirun -n 2 plume train: %d: %s", rc2, log);
    /* rank 0 alone reports */
    CHECK_MSG(log && strstr(log, "data-parallel over 2 MPI ranks") && strstr(log, "plume train: ") &&
              strstr(strstr(log, "data-parallel over") + 1, "plume train: a new") == NULL, "%s", log);
    free(log);
    return rc || rc2 ? -1 : 0;
}

static void same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    for (int ca = 0, cb = 0; same && ca != EOF;) {
        ca = getc(fa);
        cb = getc(fb);
        same = ca == cb;
    }
    CHECK_MSG(same, "%s and %s differ", a, b);
    if (fa) fclose(fa);
    if (fb) fclose(fb);
}

/* The largest difference between the F32 tensors of two GGUFs with the same tensors. */
static double max_weight_diff(const char *a, const char *b) {
    plume_gguf *ga = NULL, *gb = NULL;
    plume_error err;
    if (plume_gguf_open(&ga, a, &err) || plume_gguf_open(&gb, b, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        plume_gguf_close(ga);
        return INFINITY;
    }
    double worst = ga->n_tensors == gb->n_tensors && ga->n_tensors > 0 ? 0 : INFINITY;
    for (uint64_t i = 0; i < ga->n_tensors && isfinite(worst); i++) {
        const plume_gguf_tensor *x = &ga->tensors[i], *y = plume_gguf_find_tensor(gb, x->name);
        if (!y || x->type != PLUME_GGML_F32 || y->type != PLUME_GGML_F32 || x->n_elements != y->n_elements) {
            worst = INFINITY;
            break;
        }
        const float *fx = x->data, *fy = y->data;
        for (uint64_t k = 0; k < x->n_elements; k++) worst = fmax(worst, fabs((double)fx[k] - fy[k]));
    }
    plume_gguf_close(ga);
    plume_gguf_close(gb);
    return worst;
}

/* Compares two loss.csv files value by value (step,train,val,lr,norm). */
static void near_curves(const char *a, const char *b, double tol) {
    FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
    char la[256], lb[256];
    int rows = 0;
    CHECK(fa && fb);
    while (fa && fb && fgets(la, sizeof la, fa)) {
        CHECK(fgets(lb, sizeof lb, fb) != NULL);
        if (rows++ == 0) continue;   /* the header */
        char *pa = la, *pb = lb;
        for (int col = 0; col < 5; col++) {
            char *ea, *eb;
            double va = strtod(pa, &ea), vb = strtod(pb, &eb);
            if (ea == pa || eb == pb) {   /* an empty validation column: empty in both */
                CHECK_MSG((ea == pa) == (eb == pb), "%s: row %d column %d: %s vs %s", b, rows, col, la, lb);
            } else {
                CHECK_MSG(fabs(va - vb) <= tol * fmax(1.0, fabs(va)), "%s: row %d column %d: %.9g vs %.9g", b, rows,
                          col, va, vb);
            }
            pa = strchr(ea, ',');
            pb = strchr(eb, ',');
            if (!pa || !pb) break;
            pa++;
            pb++;
        }
    }
    CHECK(rows >= 4);
    if (fa) fclose(fa);
    if (fb) fclose(fb);
}

int main(void) {
    const char *data = getenv("PLUME_TEST_DATA");
    if (!data) {
        fprintf(stderr, "run through ctest: PLUME_TEST_DATA is needed\n");
        return 1;
    }
    mt_mpi_env();
    mt_dir("mpi-train");
    snprintf(tok, sizeof tok, "%s", mt_path("tok.gguf"));
    snprintf(train, sizeof train, "%s/train/tiny.jsonl", data);
    snprintf(val, sizeof val, "%s/train/tiny-val.jsonl", data);
    char bin[600], tokbin[600], *log = NULL;
    snprintf(bin, sizeof bin, "%s/stories260K/stories260K.bin", data);
    snprintf(tokbin, sizeof tokbin, "%s/stories260K/tok512.bin", data);
    const char *convert[] = { mt_plume(), "convert", "llama2c", bin, tokbin, "-o", tok, NULL };
    int rc = mt_run(LIMIT, &log, convert);
    CHECK_MSG(rc == 0, "plume convert: %d: %s", rc, log);
    free(log);

    /* whole micro-batches per rank: bitwise */
    if (both(config("a1.yaml", 4, 2, 4, mt_path("a1")), config("a2.yaml", 4, 2, 4, mt_path("a2"))) == 0) {
        same_file(mt_path("a1/model.gguf"), mt_path("a2/model.gguf"));
        same_file(mt_path("a1/model.optim"), mt_path("a2/model.optim"));
        same_file(mt_path("a1/loss.csv"), mt_path("a2/loss.csv"));
    }
    /* half a micro-batch per rank: within the tolerance */
    if (both(config("b1.yaml", 4, 1, 3, mt_path("b1")), config("b2.yaml", 4, 1, 3, mt_path("b2"))) == 0) {
        double d = max_weight_diff(mt_path("b1/model.gguf"), mt_path("b2/model.gguf"));
        printf("batch 4, accumulation 1: largest weight difference %.3g\n", d);
        CHECK_MSG(d <= TOLERANCE, "weights differ by %g", d);
        near_curves(mt_path("b1/loss.csv"), mt_path("b2/loss.csv"), TOLERANCE);
    }
    mt_cleanup();
    return check_finish("test_mpi_train");
}
