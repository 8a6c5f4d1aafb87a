/* plume perplexity: how well a model predicts a text, as llama.cpp's llama-perplexity reports
 * it, so that users can judge a model or a quantization on their own text.
 *
 *   plume perplexity -m MODEL FILE       the text of FILE ("-": standard input), tokenized
 *                                        as the model says (BOS where it adds one)
 *   plume perplexity -m MODEL --ids 1,2,3  these token ids, as given
 *   [-c N]   window: at most N tokens of context per evaluation (default the model's context)
 *   [--json] print {"ppl": P, "nll": [...], "n_tokens": T, "model": PATH}
 *
 * Every token after the first is scored once: nll[i] = -log p(token i+1 | the tokens before
 * it in its window), in nats, in order; ppl = exp(mean nll). The tokens are cut into windows
 * of N that overlap by one token (a window starts with the last token of the one before), and
 * each window is evaluated from an empty cache, so a text longer than the context needs no
 * positions the model was not trained for. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "plume/lm.h"

#define MAX_TEXT (64u << 20)   /* bytes of text read at most */

static void usage(FILE *f) {
    fprintf(f,
            "usage: plume perplexity -m MODEL (FILE | --ids 1,2,3) [-c N] [--json]\n"
            "  -m, --model FILE  a GGUF model\n"
            "  FILE              the text to score (\"-\": standard input)\n"
            "  --ids LIST        comma-separated token ids instead of a text\n"
            "  -c, --ctx N       tokens per evaluation window (default: the model's context length)\n"
            "  --json            print {\"ppl\", \"nll\" (per token, nats), \"n_tokens\", \"model\"}\n");
}

/* "1,2,3" into a malloc'd array; NULL with a message naming the bad place. */
static int32_t *parse_ids(const char *s, int *n_out) {
    size_t cap = 16, n = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    const char *p = s;
    while (ids) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end && *end != ',')) {
            fprintf(stderr, "plume perplexity: --ids: '%.*s' at character %zu is not a token id (expected "
                            "non-negative integers separated by commas)\n",
                    (int)strcspn(p, ","), p, (size_t)(p - s) + 1);
            free(ids);
            return NULL;
        }
        if (n == cap) {
            int32_t *t = cap < (1u << 26) ? realloc(ids, 2 * cap * sizeof *ids) : NULL;
            if (!t) break;
            ids = t;
            cap *= 2;
        }
        ids[n++] = (int32_t)v;
        if (!*end) {
            *n_out = (int)n;
            return ids;
        }
        p = end + 1;
    }
    fprintf(stderr, "plume perplexity: --ids: out of memory\n");
    free(ids);
    return NULL;
}

/* The text of path; one with a NUL byte is not text. NULL with a message. */
static char *read_text(const char *path) {
    size_t n;
    char *s = cli_read_whole("plume perplexity", "", path, MAX_TEXT, &n);
    if (!s) return NULL;
    if (strlen(s) != n) {
        fprintf(stderr, "plume perplexity: %s holds a NUL byte at %zu; it is not text\n", path, strlen(s));
        free(s);
        return NULL;
    }
    return s;
}

/* -log softmax(row)[target], in double. */
static double nll_of(const float *row, int V, int target) {
    double mx = row[0];
    for (int v = 1; v < V; v++) mx = row[v] > mx ? row[v] : mx;
    double sum = 0;
    for (int v = 0; v < V; v++) sum += exp((double)row[v] - mx);
    return mx + log(sum) - (double)row[target];
}

/* Scores ids[1..n) in windows of `window` tokens overlapping by one; nll gets n - 1 values. */
static int score(plume_lm *lm, const int32_t *ids, int n, int window, double *nll, plume_error *err) {
    const int V = plume_lm_get_info(lm)->vocab_size;
    plume_lm_batch *b = plume_lm_batch_create(lm, 1, window, err);
    float *logits = b ? malloc((size_t)window * V * sizeof *logits) : NULL;
    int rc = b && logits ? 0 : -1;
    if (b && !logits) plume_fail(err, "out of memory for %d x %d logits", window, V);
    for (int start = 0; !rc && start + 1 < n; start += window - 1) {
        int m = n - start < window ? n - start : window;
        plume_lm_batch_reset(b, 0);
        rc = plume_lm_prefill_all(b, 0, ids + start, m, logits, err);
        for (int i = 0; !rc && i + 1 < m; i++) nll[start + i] = nll_of(logits + (size_t)i * V, V, ids[start + i + 1]);
    }
    free(logits);
    plume_lm_batch_free(b);
    return rc;
}

int cmd_perplexity(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *ids_arg = NULL;
    int json = 0, window = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) model = argv[++i];
        else if (!strcmp(a, "--ids") && i + 1 < argc) ids_arg = argv[++i];
        else if ((!strcmp(a, "-c") || !strcmp(a, "--ctx")) && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 2 || v > (1 << 20)) {
                fprintf(stderr, "plume perplexity: -c %s: the window must be a whole number of tokens, at least 2\n",
                        argv[i]);
                return 2;
            }
            window = (int)v;
        } else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "plume perplexity: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        } else if (!file) file = a;
        else {
            fprintf(stderr, "plume perplexity: one text file at a time (got %s and %s)\n", file, a);
            return 2;
        }
    }
    if (!model || (!file) == (!ids_arg)) {
        fprintf(stderr, "plume perplexity: give a model (-m) and either a text FILE or --ids\n");
        usage(stderr);
        return 2;
    }
    int n = 0;
    int32_t *ids = NULL;
    if (ids_arg && !(ids = parse_ids(ids_arg, &n))) return 2;
    plume_error err = {0};
    plume_lm *lm = plume_lm_acquire(model, &err);
    if (!lm) {
        fprintf(stderr, "plume perplexity: %s\n", err.msg);
        free(ids);
        return 1;
    }
    const plume_lm_info *info = plume_lm_get_info(lm);
    int status = 1;
    double *nll = NULL;
    if (file) {
        char *text = read_text(file);
        if (!text) goto out;
        int cap = plume_lm_tokenize(lm, text, -1, NULL, 0, &err);
        ids = cap >= 0 ? malloc((size_t)(cap > 0 ? cap : 1) * sizeof *ids) : NULL;
        n = ids ? plume_lm_tokenize(lm, text, -1, ids, cap, &err) : -1;
        free(text);
        if (n < 0) {
            fprintf(stderr, "plume perplexity: %s: %s\n", file, cap < 0 || !ids ? err.msg : "tokenizing failed");
            goto out;
        }
    }
    for (int i = 0; i < n; i++)
        if (ids[i] >= info->vocab_size) {
            fprintf(stderr, "plume perplexity: token id %d (at position %d) is outside the vocabulary of %d\n", ids[i],
                    i + 1, info->vocab_size);
            status = 2;
            goto out;
        }
    if (n < 2) {
        fprintf(stderr, "plume perplexity: %d token%s: perplexity needs at least two\n", n, n == 1 ? "" : "s");
        status = 2;
        goto out;
    }
    if (!window || window > info->ctx_len) window = info->ctx_len;
    if (!(nll = malloc((size_t)(n - 1) * sizeof *nll))) {
        fprintf(stderr, "plume perplexity: out of memory\n");
        goto out;
    }
    if (score(lm, ids, n, window, nll, &err)) {
        fprintf(stderr, "plume perplexity: %s\n", err.msg);
        goto out;
    }
    double sum = 0;
    for (int i = 0; i < n - 1; i++) sum += nll[i];
    double ppl = exp(sum / (n - 1));
    if (json) {
        json_t *o = json_object(), *a = json_array();
        for (int i = 0; i < n - 1; i++) json_array_append_new(a, json_real(nll[i]));
        json_object_set_new(o, "ppl", json_real(ppl));
        json_object_set_new(o, "nll", a);
        json_object_set_new(o, "n_tokens", json_integer(n));
        json_object_set_new(o, "model", json_string(info->path));
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!s) {
            fprintf(stderr, "plume perplexity: out of memory\n");
            goto out;
        }
        puts(s);
        free(s);
    } else {
        printf("perplexity %.4f over %d tokens (mean NLL %.6f nats; windows of %d tokens)\n", ppl, n - 1,
               sum / (n - 1), window);
    }
    status = 0;
out:
    free(nll);
    free(ids);
    plume_lm_release(lm);
    return status;
}
