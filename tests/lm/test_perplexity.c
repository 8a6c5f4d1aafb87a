/* `plume perplexity --ids ... --json` on every model of tests/data/reference against the
 * negative log-likelihoods its llama.cpp reference logits imply: nll[i] = logsumexp(row i) -
 * row i [token i+1], in double, over MODEL.logits.f32 (F32 files) or
 * MODEL.dequant-f32.logits.f32 (quantized files, llama.cpp's exact arithmetic on the same
 * weights). Plume's logits are within 2.1e-6 of those (test_reference_models), so an NLL
 * moves by at most twice that: the tolerance is 1e-4, and the perplexity is checked against
 * exp(mean). Windows: with -c 5 the 16 tokens are scored in windows 0-4, 4-8, 8-12, 12-15,
 * each from an empty cache: the first window's four NLLs equal the full run's, the later
 * ones see less context and differ.
 * A text file: its tokens (as plume_lm_tokenize gives them, BOS first where the model adds
 * one) are scored as --ids would score them. Bad input: ids outside the vocabulary, a
 * malformed list, one token, a missing file, no model; each exits non-zero with a message
 * naming the problem. */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "lm_test_util.h"
#include "run_cmd.h"
#include "plume/lm.h"

#define TOL 1e-4

static double ref_nll(const float *row, int V, int target) {
    double mx = row[0], sum = 0;
    for (int v = 1; v < V; v++) mx = row[v] > mx ? row[v] : mx;
    for (int v = 0; v < V; v++) sum += exp((double)row[v] - mx);
    return mx + log(sum) - row[target];
}

/* Runs perplexity on STEM's ids with extra options; the parsed JSON or NULL. */
static json_t *perplexity(const char *plume, const char *dir, const char *stem, const char *ids, const char *opts) {
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' perplexity -m '%s/%s.gguf' --ids %s --json %s 2>&1", plume, dir, stem, ids, opts);
    int st = run_cmd(cmd, &out);
    CHECK_MSG(st == 0, "%s: exit %d: %s", cmd, st, out ? out : "");
    json_error_t jerr;
    json_t *j = st == 0 && out ? json_loads(out, 0, &jerr) : NULL;
    CHECK_MSG(st != 0 || j, "%s: not JSON: %s", cmd, out ? out : "");
    free(out);
    return j;
}

static void check_model(const char *plume, const char *dir, const char *stem, int quantized) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s.json", dir, stem);
    json_error_t jerr;
    json_t *meta = json_load_file(path, 0, &jerr);
    CHECK_MSG(meta != NULL, "%s: %s", path, jerr.text);
    if (!meta) return;
    const json_t *tids = json_object_get(meta, "token_ids");
    int n = (int)json_array_size(tids), V = (int)json_integer_value(json_object_get(meta, "n_vocab"));
    int ids[64];
    char list[1024] = "";
    for (int i = 0; i < n && i < 64; i++) {
        ids[i] = (int)json_integer_value(json_array_get(tids, i));
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? "," : "", ids[i]);
    }
    json_decref(meta);
    snprintf(path, sizeof path, "%s/%s%s.logits.f32", dir, stem, quantized ? ".dequant-f32" : "");
    float *logits = read_reference_floats(path, (size_t)n * V);
    CHECK_MSG(logits != NULL && n > 1, "%s", path);
    if (!logits || n < 2) return;

    json_t *j = perplexity(plume, dir, stem, list, "");
    const json_t *nll = json_object_get(j, "nll");
    CHECK_MSG(j && (int)json_array_size(nll) == n - 1, "%s: %zu NLLs for %d tokens", stem, json_array_size(nll), n);
    double worst = 0, sum = 0;
    for (int i = 0; j && i + 1 < n && i < (int)json_array_size(nll); i++) {
        double want = ref_nll(logits + (size_t)i * V, V, ids[i + 1]);
        sum += want;
        double d = fabs(json_real_value(json_array_get(nll, i)) - want);
        worst = d > worst ? d : worst;
    }
    CHECK_MSG(worst <= TOL, "%s: NLL differs from the reference's by %g", stem, worst);
    double ppl = json_real_value(json_object_get(j, "ppl"));
    CHECK_MSG(fabs(ppl - exp(sum / (n - 1))) <= TOL * ppl, "%s: ppl %g, the reference implies %g", stem, ppl,
              exp(sum / (n - 1)));
    printf("%-28s ppl %.6f (reference %.6f), max NLL difference %.3g\n", stem, ppl, exp(sum / (n - 1)), worst);

    /* Windows of 5 tokens overlapping by one: the first window's 4 NLLs are the full run's,
     * later ones see less context and differ, and there are still n - 1 of them. */
    json_t *w = perplexity(plume, dir, stem, list, "-c 5");
    const json_t *wn = json_object_get(w, "nll");
    CHECK_MSG(w && (int)json_array_size(wn) == n - 1, "%s -c 5: %zu NLLs", stem, json_array_size(wn));
    if (w && j && (int)json_array_size(wn) == n - 1) {
        int first_same = 1, later_differ = 0;
        for (int i = 0; i < 4; i++)
            first_same &= fabs(json_real_value(json_array_get(wn, i)) - json_real_value(json_array_get(nll, i))) <= 1e-6;
        for (int i = 4; i < n - 1; i++)
            later_differ |= fabs(json_real_value(json_array_get(wn, i)) - json_real_value(json_array_get(nll, i))) > 1e-4;
        CHECK_MSG(first_same && later_differ, "%s -c 5: first window same %d, later ones differ %d", stem, first_same,
                  later_differ);
    }
    json_decref(w);
    json_decref(j);
    free(logits);
}

static void bad(const char *plume, const char *args, int want_status, const char *piece) {
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' perplexity %s 2>&1", plume, args);
    int st = run_cmd(cmd, &out);
    CHECK_MSG(st == want_status && out && strstr(out, piece), "plume perplexity %s: exit %d, output '%s'", args, st,
              out ? out : "");
    free(out);
}

int main(void) {
    const char *build = getenv("PLUME_BUILD_DIR"), *data = getenv("PLUME_TEST_DATA");
    CHECK(build && data);
    if (!build || !data) return check_finish("test_perplexity");
    char plume[1024], dir[1024], m[2048];
    snprintf(plume, sizeof plume, "%s/bin/plume", build);
    snprintf(dir, sizeof dir, "%s/reference", data);
    /* every model of the folder (files added later too); quantized ones have a dequantized run */
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    int n_models = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || len > 200 || strcmp(e->d_name + len - 5, ".gguf")) continue;
        char stem[256], deq[2048];
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 5), e->d_name);
        snprintf(deq, sizeof deq, "%s/%s.dequant-f32.logits.f32", dir, stem);
        FILE *f = fopen(deq, "rb");
        if (f) fclose(f);
        check_model(plume, dir, stem, f != NULL);
        n_models++;
    }
    if (d) closedir(d);
    CHECK_MSG(n_models >= 1, "%s holds no models", dir);

    /* A text file against the same tokens given as ids (llama-gqa: a SentencePiece vocabulary). */
    {
        char text_path[] = "/tmp/plume-ppl-text-XXXXXX", model[2048], cmd[4096], *out = NULL, list[4096] = "";
        int fd = mkstemp(text_path);
        const char *text = "the cat sat on the mat and then it went to sleep";
        CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        if (fd >= 0) close(fd);
        snprintf(model, sizeof model, "%s/llama-gqa-F32.gguf", dir);
        plume_error err = {0};
        plume_lm *lm = plume_lm_acquire(model, &err);
        CHECK_MSG(lm != NULL, "%s", err.msg);
        int32_t ids[256];
        int n = lm ? plume_lm_tokenize(lm, text, -1, ids, 256, &err) : -1;
        CHECK_MSG(n > 3 && n <= 256 && ids[0] == 1, "%s", err.msg);   /* BOS first: the file adds it */
        for (int i = 0; i < n && i < 256; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? "," : "", ids[i]);
        plume_lm_release(lm);
        snprintf(cmd, sizeof cmd, "'%s' perplexity -m '%s' '%s' --json 2>&1", plume, model, text_path);
        int st = run_cmd(cmd, &out);
        json_error_t jerr;
        json_t *from_text = st == 0 && out ? json_loads(out, 0, &jerr) : NULL;
        CHECK_MSG(from_text && json_integer_value(json_object_get(from_text, "n_tokens")) == n, "%s: %s", cmd,
                  out ? out : "");
        free(out);
        json_t *from_ids = perplexity(plume, dir, "llama-gqa-F32", list, "");
        CHECK(from_ids && from_text &&
              json_real_value(json_object_get(from_ids, "ppl")) == json_real_value(json_object_get(from_text, "ppl")));
        json_decref(from_text);
        json_decref(from_ids);
        unlink(text_path);
    }

    snprintf(m, sizeof m, "-m '%s/qwen2-Q8_0.gguf'", dir);
    char args[4096];
    snprintf(args, sizeof args, "%s --ids 1,2,1000", m);
    bad(plume, args, 2, "token id 1000 (at position 3) is outside the vocabulary of 1000");
    snprintf(args, sizeof args, "%s --ids 1,,2", m);
    bad(plume, args, 2, "at character 3 is not a token id");
    snprintf(args, sizeof args, "%s --ids 5,-1", m);
    bad(plume, args, 2, "'-1' at character 3");
    snprintf(args, sizeof args, "%s --ids 7", m);
    bad(plume, args, 2, "needs at least two");
    snprintf(args, sizeof args, "%s /nonexistent/text.txt", m);
    bad(plume, args, 1, "cannot open /nonexistent/text.txt");
    snprintf(args, sizeof args, "%s --ids 1,2 -c 1", m);
    bad(plume, args, 2, "-c 1");
    bad(plume, "--ids 1,2", 2, "give a model");
    bad(plume, "-m /nonexistent/m.gguf --ids 1,2", 1, "/nonexistent/m.gguf");
    return check_finish("test_perplexity");
}
