/* plume generate: text from a prompt with a GGUF llama model on the Vulkan device.
 *
 *   plume generate -m MODEL -p PROMPT [-p PROMPT ...] [-f FILE] [-n N] [--temp T] [--top-k K]
 *                  [--top-p P] [--seed S] [--beams B] [--stop STR ...] [--no-bos]
 *                  [--chat [--system TEXT]]
 *
 * With --chat each prompt is a user's message, written in the model's chat template
 * (tokenizer.chat_template: the Llama 3 and ChatML families) with the assistant's turn
 * opened, and generation stops at the end of that turn.
 * One prompt streams its continuation to stdout as it is decided; several prompts are
 * decoded together as one batch and printed in order, each after a "--- i" line.
 * Timing goes to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "commands.h"
#include "plume/lm.h"

#define MAX_PROMPTS 64
#define MAX_STOPS 16

static void usage(FILE *f) {
    fprintf(f,
            "usage: plume generate -m MODEL -p PROMPT [-p PROMPT ...] [options]\n"
            "  -m, --model FILE    a llama GGUF file (F32, F16 or Q8_0 weights)\n"
            "  -p, --prompt TEXT   the text to continue (repeat for a batch)\n"
            "  -f, --file FILE     a prompt read from FILE (\"-\": standard input)\n"
            "  -n, --tokens N      new tokens at most (default 256)\n"
            "  --temp T            temperature; 0 = greedy (default 0)\n"
            "  --top-k K           sample among the K most likely tokens (default 0: all)\n"
            "  --top-p P           sample among the smallest set of mass P (default 1: all)\n"
            "  --seed S            random seed (default 1)\n"
            "  --beams B           beam search with B beams (the paper decodes with 4)\n"
            "  --length-penalty A  beam score = log-prob / tokens^A (default 1)\n"
            "  --stop STR          stop at STR (repeatable; STR is not printed)\n"
            "  --no-bos            do not start the prompt with BOS\n"
            "  --chat              the prompt is a user's message: write it in the model's chat\n"
            "                      template (Llama 3 or ChatML family) and answer as the assistant\n"
            "  --system TEXT       with --chat, a system message first\n"
            "  --ignore-eos        keep going past the end-of-text token\n");
}

static int on_text(void *user, int i, const char *piece) {
    (void)user;
    (void)i;
    fputs(piece, stdout);
    fflush(stdout);
    return 0;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int parse_num(const char *flag, const char *v, double lo, double hi, double *out) {
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "plume generate: %s wants a number in %g..%g, got '%s'\n", flag, lo, hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

/* Loads the model, generates, prints; the exit status. */
/* --chat: each prompt becomes the model's chat template around a user message (after the
 * system message, if any); the template writes its own BOS and control tokens. */
static int wrap_chat(plume_lm *lm, const char *system, const char **prompts, char **wrapped, int n,
                     plume_gen_params *p) {
    plume_error err;
    for (int i = 0; i < n; i++) {
        plume_chat_message m[2] = { { "system", system }, { "user", prompts[i] } };
        int first = system ? 0 : 1;
        if (!(wrapped[i] = plume_lm_chat_render(lm, m + first, 2 - first, 1, &err))) {
            fprintf(stderr, "plume generate: --chat: %s\n", err.msg);
            return -1;
        }
        prompts[i] = wrapped[i];
    }
    p->parse_special = 1;
    p->add_bos = 0;
    return 0;
}

static int run(const char *model, const char **prompts, int n_prompts, plume_gen_params *p, int chat,
               const char *system) {
    if (n_prompts == 1) p->on_text = on_text;

    plume_error err;
    double t0 = now_s();
    plume_lm *lm = plume_lm_acquire(model, &err);
    if (!lm) {
        fprintf(stderr, "plume generate: %s\n", err.msg);
        return 1;
    }
    char *wrapped[MAX_PROMPTS] = { 0 };
    if (chat && wrap_chat(lm, system, prompts, wrapped, n_prompts, p)) {
        for (int i = 0; i < n_prompts; i++) free(wrapped[i]);
        plume_lm_release(lm);
        return 1;
    }
    double t1 = now_s();
    plume_gen_result *out = calloc((size_t)n_prompts, sizeof *out);
    int rc = 1;
    if (!out) {
        fprintf(stderr, "plume generate: out of memory\n");
    } else if (plume_lm_generate(lm, prompts, n_prompts, p, out, &err)) {
        fprintf(stderr, "plume generate: %s\n", err.msg);
    } else {
        double t2 = now_s();
        int total = 0;
        for (int i = 0; i < n_prompts; i++) {
            if (n_prompts > 1) printf("--- %d\n%s\n", i, out[i].text);  /* one prompt streamed it */
            total += out[i].n_tokens;
        }
        if (n_prompts == 1) printf("\n");
        fprintf(stderr, "[%s: loaded in %.2f s; %d new tokens in %.2f s, %.2f tokens/s; stopped by %s]\n",
                plume_lm_get_info(lm)->weight_type, t1 - t0, total, t2 - t1, total / (t2 - t1 > 0 ? t2 - t1 : 1),
                out[0].stop_reason);
        rc = 0;
    }
    for (int i = 0; out && i < n_prompts; i++) plume_gen_result_free(&out[i]);
    free(out);
    for (int i = 0; i < n_prompts; i++) free(wrapped[i]);
    plume_lm_release(lm);
    return rc;
}

int cmd_generate(int argc, char **argv) {
    const char *model = NULL, *prompts[MAX_PROMPTS], *stops[MAX_STOPS], *system = NULL;
    int chat = 0;
    char *owned[MAX_PROMPTS];
    int n_prompts = 0, n_stops = 0, n_owned = 0, rc = 2;
    plume_gen_params p;
    plume_gen_params_default(&p);
    p.sampling.seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && v) {
            model = v, i++;
        } else if ((!strcmp(a, "-p") || !strcmp(a, "--prompt") || !strcmp(a, "-f") || !strcmp(a, "--file")) &&
                   v) {
            if (n_prompts == MAX_PROMPTS) {
                fprintf(stderr, "plume generate: at most %d prompts\n", MAX_PROMPTS);
                goto done;
            }
            if (a[1] == 'f' || a[2] == 'f') {
                if (!(owned[n_owned] = cli_read_whole("plume generate", "the prompt file", v, 16u << 20, NULL))) goto done;
                prompts[n_prompts++] = owned[n_owned++];
            } else {
                prompts[n_prompts++] = v;
            }
            i++;
        } else if (!strcmp(a, "--stop") && v) {
            if (n_stops == MAX_STOPS) {
                fprintf(stderr, "plume generate: at most %d stop strings\n", MAX_STOPS);
                goto done;
            }
            stops[n_stops++] = v, i++;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--tokens")) {
            if (parse_num(a, v, 1, 1 << 20, &x)) goto done;
            p.max_tokens = (int)x, i++;
        } else if (!strcmp(a, "--temp")) {
            if (parse_num(a, v, 0, 100, &x)) goto done;
            p.sampling.temperature = (float)x, i++;
        } else if (!strcmp(a, "--top-k")) {
            if (parse_num(a, v, 0, 1 << 24, &x)) goto done;
            p.sampling.top_k = (int)x, i++;
        } else if (!strcmp(a, "--top-p")) {
            if (parse_num(a, v, 0, 1, &x)) goto done;
            p.sampling.top_p = (float)x, i++;
        } else if (!strcmp(a, "--seed")) {
            if (parse_num(a, v, 0, 1e18, &x)) goto done;
            p.sampling.seed = (uint64_t)x, i++;
        } else if (!strcmp(a, "--beams")) {
            if (parse_num(a, v, 1, 64, &x)) goto done;
            p.beams = (int)x, i++;
        } else if (!strcmp(a, "--length-penalty")) {
            if (parse_num(a, v, 0, 10, &x)) goto done;
            p.length_penalty = (float)x, i++;
        } else if (!strcmp(a, "--no-bos")) {
            p.add_bos = 0;
        } else if (!strcmp(a, "--chat")) {
            chat = 1;
        } else if (!strcmp(a, "--system") && v) {
            system = v, i++;
        } else if (!strcmp(a, "--ignore-eos")) {
            p.ignore_eos = 1;
        } else {
            fprintf(stderr, "plume generate: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            goto done;
        }
    }
    if (!model || n_prompts == 0) {
        usage(stderr);
        goto done;
    }
    if (system && !chat) {
        fprintf(stderr, "plume generate: --system needs --chat\n");
        goto done;
    }
    p.stop = stops;
    p.n_stop = n_stops;
    rc = run(model, prompts, n_prompts, &p, chat, system);
done:
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    return rc;
}
