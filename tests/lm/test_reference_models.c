/* Every GGUF in tests/data/reference (tiny random-weight models written and quantized by
 * llama.cpp's own tools, see its SOURCE.md) against the logits llama.cpp computed for it.
 *
 * For each MODEL.gguf the test reads MODEL.json (the 16 token ids, the vocabulary size, the
 * greedy continuation), runs the 16 ids as one prompt and compares every row of logits:
 *   - F32 files with MODEL.logits.f32, llama.cpp's exact F32 arithmetic;
 *   - quantized files with MODEL.dequant-f32.logits.f32, llama.cpp's F32 run over this file's
 *     weights dequantized (llama.cpp's own quantized run also rounds the activations to 8 bits,
 *     which plume does not do, so its logits differ from exact arithmetic by up to 0.07).
 * Then it decodes 16 tokens greedily, one step at a time, and checks the ids against the
 * greedy ids of the same reference (json "greedy", or "dequantized_f32_reference").
 *
 * Tolerance: 1e-4 absolute on logits of about +-1 (the fixtures' README measured 7e-7 for an
 * independent float64 implementation; plume accumulates in float32 on the device, in other
 * orders than llama.cpp). The folder is enumerated, so files added later are checked too. */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "lm_test_util.h"
#include "plume/lm.h"

#define TOL 1e-4

/* n integers of a JSON array into out; the count, or -1 when it is not an array of integers. */
static int int_array(const json_t *a, int32_t *out, int max) {
    if (!json_is_array(a) || (int)json_array_size(a) > max) return -1;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *v = json_array_get(a, i);
        if (!json_is_integer(v)) return -1;
        out[i] = (int32_t)json_integer_value(v);
    }
    return (int)json_array_size(a);
}

static int has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Checks one model; returns the largest logit difference (or a negative number when it could
 * not run). */
static double check_model(const char *dir, const char *gguf_name) {
    char stem[256], path[2048], json_path[2048], logits_path[2048];
    snprintf(stem, sizeof stem, "%.200s", gguf_name);
    stem[strlen(stem) - 5] = 0;   /* without ".gguf" */
    snprintf(path, sizeof path, "%s/%s", dir, gguf_name);
    snprintf(json_path, sizeof json_path, "%s/%s.json", dir, stem);
    json_error_t jerr;
    json_t *j = json_load_file(json_path, 0, &jerr);
    CHECK_MSG(j != NULL, "%s: %s", json_path, jerr.text);
    if (!j) return -1;
    /* Quantized files are compared with llama.cpp's exact arithmetic over their dequantized weights. */
    snprintf(logits_path, sizeof logits_path, "%s/%s.dequant-f32.logits.f32", dir, stem);
    const json_t *deq = json_object_get(j, "dequantized_f32_reference");
    int quantized = file_exists(logits_path);
    if (!quantized) snprintf(logits_path, sizeof logits_path, "%s/%s.logits.f32", dir, stem);
    int32_t ids[64], greedy[64];
    int n = int_array(json_object_get(j, "token_ids"), ids, 64);
    int n_greedy = quantized ? int_array(json_object_get(deq, "greedy_ids"), greedy, 64)
                             : int_array(json_object_get(json_object_get(j, "greedy"), "ids"), greedy, 64);
    int V = (int)json_integer_value(json_object_get(j, "n_vocab"));
    json_decref(j);
    CHECK_MSG(n > 0 && n_greedy > 0 && V > 0, "%s: token_ids, greedy ids or n_vocab missing", json_path);
    if (n <= 0 || n_greedy <= 0 || V <= 0) return -1;
    float *want = read_reference_floats(logits_path, (size_t)n * V);
    CHECK_MSG(want != NULL, "%s: missing or not %d x %d floats", logits_path, n, V);
    if (!want) return -1;

    plume_error err = {0};
    double worst = -1;
    float *got = malloc((size_t)n * V * sizeof *got);
    plume_lm *lm = plume_lm_acquire(path, &err);
    CHECK_MSG(lm != NULL, "%s", err.msg);
    plume_lm_batch *b = lm ? plume_lm_batch_create(lm, 1, n + n_greedy, &err) : NULL;
    CHECK_MSG(!lm || b, "%s", err.msg);
    if (b && got) {
        CHECK_MSG(plume_lm_get_info(lm)->vocab_size == V, "%s: vocabulary %d, the reference says %d", path,
                  plume_lm_get_info(lm)->vocab_size, V);
        int rc = plume_lm_prefill_all(b, 0, ids, n, got, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        if (rc == 0) {
            worst = 0;
            int worst_row = 0;
            for (size_t i = 0; i < (size_t)n * V; i++) {
                double d = fabs((double)got[i] - want[i]);
                if (!(d <= worst)) {
                    worst = d;
                    worst_row = (int)(i / (size_t)V);
                }
            }
            CHECK_MSG(worst <= TOL, "%s: logits differ from %s by %g (row %d)", path, logits_path, worst, worst_row);
            /* Greedy continuation, one decode step at a time from the last prompt row's argmax. */
            int32_t next = 0;
            for (int v = 1; v < V; v++)
                if (got[(size_t)(n - 1) * V + v] > got[(size_t)(n - 1) * V + next]) next = v;
            int same = 0;
            for (int s = 0; s < n_greedy && next == greedy[s]; s++) {
                same++;
                int seq = 0;
                int32_t tok = next;
                if (s + 1 < n_greedy && plume_lm_decode(b, 1, &seq, &tok, NULL, &next, &err)) {
                    CHECK_MSG(0, "%s: decode: %s", path, err.msg);
                    break;
                }
            }
            CHECK_MSG(same == n_greedy, "%s: greedy ids agree for %d of %d steps", path, same, n_greedy);
        }
    }
    printf("%-40s %s max |logit - reference| %.3g\n", gguf_name, quantized ? "dequantized" : "f32        ", worst);
    plume_lm_batch_free(b);
    plume_lm_release(lm);
    free(got);
    free(want);
    return worst;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    const char *data = getenv("PLUME_TEST_DATA");
    char dir[1536];
    snprintf(dir, sizeof dir, "%s/reference", data ? data : "tests/data");
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d) return check_finish("test_reference_models");
    char *names[256];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 256;)
        if (has_suffix(e->d_name, ".gguf") && strlen(e->d_name) < 200) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    CHECK_MSG(n >= 1, "%s holds no models", dir);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double w = check_model(dir, names[i]);
        if (w > worst) worst = w;
        free(names[i]);
    }
    printf("%d models, largest logit difference %.3g (tolerance %g)\n", n, worst, TOL);
    return check_finish("test_reference_models");
}
