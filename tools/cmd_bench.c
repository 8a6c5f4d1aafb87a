/* plume bench: how fast a model runs on this device.
 *
 *   plume bench -m MODEL [--json] [--prompt 128] [--decode 16] [--batch 8] [--rounds 1] [--bandwidth-mb 256]
 *
 * Prompt processing (one prefill of --prompt tokens), decoding at batch 1 and at batch
 * --batch (greedy, the argmax computed on the device), and beside them the bandwidth
 * decoding achieves (weight bytes read per step x steps per second) against the
 * device's streaming read bandwidth (the gpu layer's measure) and the host's memcpy.
 * Each phase runs once untimed first, so pipeline creation is not counted.
 * Beside wall-clock rates it gives tokens per CPU-second of this process (all threads,
 * the device's included on a CPU device such as lavapipe) and the load average: on a
 * shared machine the wall clock says more about the other jobs than about plume.
 * With --rounds N the three timed phases run N times in turn and each rate is the median
 * of its N, with the range beside it; the batch-N-over-batch-1 ratio is taken within each
 * round, so that a drift of the machine's speed between rounds (seen at ±30% from one
 * minute to the next on a shared host) touches both sides of it alike.
 * The tokens are pseudo-random ids: speed does not depend on what they say. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "commands.h"
#include "plume/lm.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* CPU seconds of this process, all threads: lavapipe's worker threads count too. */
static double cpu_s(void) {
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

#define MAX_ROUNDS 64

/* A phase's rates: tokens per wall second and per CPU second. */
typedef struct {
    double t0, c0, per_s, per_cpu_s;
} phase;

static void phase_start(phase *p) {
    p->t0 = now_s();
    p->c0 = cpu_s();
}

static void phase_stop(phase *p, double tokens) {
    double dt = now_s() - p->t0, dc = cpu_s() - p->c0;
    p->per_s = dt > 0 ? tokens / dt : 0;
    p->per_cpu_s = dc > 0 ? tokens / dc : 0;
}

/* Median, lowest and highest of n values (sorted in place; n >= 1). */
typedef struct {
    double med, lo, hi;
} spread;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static spread spread_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    spread s = {n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0], v[n - 1]};
    return s;
}

static void usage(FILE *f) {
    fprintf(f, "usage: plume bench -m MODEL [--json] [--prompt N] [--decode N] [--batch N] [--rounds N] [--bandwidth-mb M]\n"
               "  --prompt N        prompt tokens to prefill (default 128)\n"
               "  --decode N        decode steps timed at each batch size (default 16)\n"
               "  --batch N         the larger decode batch (default 8)\n"
               "  --rounds N        time every phase N times in turn; medians and ranges (default 1)\n"
               "  --bandwidth-mb M  bytes read by the bandwidth measures (default 256)\n"
               "  --json            one JSON object instead of the table\n");
}

static int int_arg(const char *flag, const char *v, int lo, int hi, int *out) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || x < lo || x > hi) {
        fprintf(stderr, "plume bench: %s wants an integer in %d..%d, got '%s'\n", flag, lo, hi, v ? v : "");
        return -1;
    }
    *out = (int)x;
    return 0;
}

static double host_memcpy_gbps(size_t bytes) {
    char *a = malloc(bytes), *b = malloc(bytes);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memset(a, 1, bytes);
    memset(b, 2, bytes);
    memcpy(b, a, bytes);  /* warm */
    const int reps = 4;
    double t0 = now_s();
    for (int i = 0; i < reps; i++) {
        a[i] = (char)i;
        memcpy(b, a, bytes);
    }
    double t = now_s() - t0;
    volatile char sink = b[bytes / 2];
    (void)sink;
    free(a);
    free(b);
    return (double)bytes * reps / t / 1e9;
}

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL;
    int json = 0, n_prompt = 128, n_decode = 16, batch = 8, mb = 256, rounds = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && v) model = v, i++;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--prompt")) rc = int_arg(a, v, 1, 1 << 16, &n_prompt), i++;
        else if (!strcmp(a, "--decode")) rc = int_arg(a, v, 1, 1 << 16, &n_decode), i++;
        else if (!strcmp(a, "--batch")) rc = int_arg(a, v, 1, 64, &batch), i++;
        else if (!strcmp(a, "--rounds")) rc = int_arg(a, v, 1, MAX_ROUNDS, &rounds), i++;
        else if (!strcmp(a, "--bandwidth-mb")) rc = int_arg(a, v, 1, 16384, &mb), i++;
        else {
            fprintf(stderr, "plume bench: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (rc) return 2;
    }
    if (!model) {
        usage(stderr);
        return 2;
    }

    plume_error err;
    plume_lm *lm = plume_lm_acquire(model, &err);
    if (!lm) {
        fprintf(stderr, "plume bench: %s\n", err.msg);
        return 1;
    }
    const plume_lm_info *in = plume_lm_get_info(lm);
    int V = in->vocab_size, rc = 1;
    if (n_prompt + n_decode + 2 > in->ctx_len) {
        fprintf(stderr, "plume bench: %d prompt + %d decode tokens exceed the context length %d\n", n_prompt,
                n_decode, in->ctx_len);
        plume_lm_release(lm);
        return 2;
    }
    int32_t *tokens = malloc((size_t)n_prompt * sizeof *tokens), *amax = malloc((size_t)batch * sizeof *amax);
    int32_t *tok = malloc((size_t)batch * sizeof *tok);
    int *seqs = malloc((size_t)batch * sizeof *seqs);
    plume_lm_batch *b1 = NULL, *bn = NULL;
    double load[3] = {0, 0, 0};
    /* per round: prompt, batch 1, batch N, each per s and per CPU-s; batch N over batch 1;
     * the device's streaming read, the host's memcpy, and batch 1's share of the first */
    double rate[6][MAX_ROUNDS], ratio[MAX_ROUNDS], bw[3][MAX_ROUNDS];
    const double wb = (double)in->weight_bytes;
    if (getloadavg(load, 3) < 1) load[0] = -1;   /* not available: printed as -1 */
    if (!tokens || !amax || !tok || !seqs) {
        fprintf(stderr, "plume bench: out of memory\n");
        goto out;
    }
    uint32_t h = 2463534242u;
    for (int i = 0; i < n_prompt; i++) {
        h ^= h << 13, h ^= h >> 17, h ^= h << 5;
        tokens[i] = (int32_t)(h % (uint32_t)V);
    }
    if (!(b1 = plume_lm_batch_create(lm, 1, n_prompt + n_decode + 2, &err))) goto fail;
    if (!(bn = plume_lm_batch_create(lm, batch, n_decode + 2, &err))) goto fail;
    if (plume_lm_prefill(b1, 0, tokens, n_prompt, NULL, &err)) goto fail;  /* untimed */
    for (int r = 0; r < rounds; r++) {
        phase pp = {0}, tg1 = {0}, tgn = {0};
        /* prompt */
        plume_lm_batch_reset(b1, 0);
        phase_start(&pp);
        if (plume_lm_prefill(b1, 0, tokens, n_prompt, NULL, &err)) goto fail;
        phase_stop(&pp, n_prompt);
        /* decode, batch 1, after the prompt */
        seqs[0] = 0;
        tok[0] = tokens[n_prompt - 1];
        if (plume_lm_decode(b1, 1, seqs, tok, NULL, amax, &err)) goto fail;  /* untimed */
        phase_start(&tg1);
        for (int s = 0; s < n_decode; s++) {
            tok[0] = amax[0];
            if (plume_lm_decode(b1, 1, seqs, tok, NULL, amax, &err)) goto fail;
        }
        phase_stop(&tg1, n_decode);
        /* decode, batch N, N different sequences */
        for (int i = 0; i < batch; i++) {
            plume_lm_batch_reset(bn, i);
            seqs[i] = i;
            tok[i] = tokens[i % n_prompt];
        }
        if (plume_lm_decode(bn, batch, seqs, tok, NULL, amax, &err)) goto fail;  /* untimed */
        phase_start(&tgn);
        for (int s = 0; s < n_decode; s++) {
            memcpy(tok, amax, (size_t)batch * sizeof *tok);
            if (plume_lm_decode(bn, batch, seqs, tok, NULL, amax, &err)) goto fail;
        }
        phase_stop(&tgn, (double)n_decode * batch);
        rate[0][r] = pp.per_s, rate[1][r] = pp.per_cpu_s;
        rate[2][r] = tg1.per_s, rate[3][r] = tg1.per_cpu_s;
        rate[4][r] = tgn.per_s, rate[5][r] = tgn.per_cpu_s;
        ratio[r] = tg1.per_s > 0 ? tgn.per_s / tg1.per_s : 0;
        /* The bandwidths in every round too, so that the share of the roofline compares
         * figures of the same minutes (this machine's speed drifts). */
        if (plume_lm_device_bandwidth(lm, (uint64_t)mb << 20, 3, &bw[0][r], &err)) goto fail;
        bw[1][r] = host_memcpy_gbps((size_t)mb << 20);
        /* decoding one token reads every weight once: the streaming read bounds it */
        bw[2][r] = bw[0][r] > 0 ? wb * tg1.per_s / 1e9 / bw[0][r] : 0;
    }
    plume_lm_batch_free(b1);
    b1 = NULL;
    plume_lm_batch_free(bn);
    bn = NULL;
    spread sp[6], sr = spread_of(ratio, rounds), sd = spread_of(bw[0], rounds), sh = spread_of(bw[1], rounds),
                  sroof = spread_of(bw[2], rounds);
    const double dev = sd.med, host = sh.med, roofline = sroof.med;
    for (int k = 0; k < 6; k++) sp[k] = spread_of(rate[k], rounds);
    const spread *pp = &sp[0], *ppc = &sp[1], *tg1 = &sp[2], *tg1c = &sp[3], *tgn = &sp[4], *tgnc = &sp[5];

    if (json) {
        printf("{\"model\": ");
        json_str(in->path);
        printf(", \"device\": ");
        json_str(plume_lm_device_name(lm));
        printf(", \"weight_type\": \"%s\", \"weight_bytes\": %.0f, \"dim\": %d, \"layers\": %d, \"vocab\": %d,\n"
               " \"prompt_tokens\": %d, \"prompt_tokens_per_s\": %.3f, \"decode_steps\": %d,\n"
               " \"decode_b1_tokens_per_s\": %.3f, \"decode_b1_gb_per_s\": %.3f, \"batch\": %d,\n"
               " \"decode_batch_tokens_per_s\": %.3f, \"decode_batch_gb_per_s\": %.3f,\n"
               " \"device_read_gb_per_s\": %.3f, \"host_memcpy_gb_per_s\": %.3f, \"decode_b1_roofline_share\": %.4f,\n"
               " \"prompt_tokens_per_cpu_s\": %.3f, \"decode_b1_tokens_per_cpu_s\": %.3f,"
               " \"decode_batch_tokens_per_cpu_s\": %.3f, \"load_average\": %.2f,\n"
               " \"rounds\": %d, \"decode_batch_over_b1\": %.3f,\n"
               " \"range\": {\"prompt_tokens_per_s\": [%.3f, %.3f], \"decode_b1_tokens_per_s\": [%.3f, %.3f],"
               " \"decode_batch_tokens_per_s\": [%.3f, %.3f], \"decode_batch_over_b1\": [%.3f, %.3f],"
               " \"decode_b1_roofline_share\": [%.4f, %.4f]}}\n",
               in->weight_type, wb, in->dim, in->n_layers, V, n_prompt, pp->med, n_decode, tg1->med,
               wb * tg1->med / 1e9, batch, tgn->med, wb * tgn->med / batch / 1e9, dev, host, roofline, ppc->med,
               tg1c->med, tgnc->med, load[0], rounds, sr.med, pp->lo, pp->hi, tg1->lo, tg1->hi, tgn->lo, tgn->hi, sr.lo,
               sr.hi, sroof.lo, sroof.hi);
    } else {
        printf("model   %s\n        %s, dim %d, %d layers, %d heads (%d kv), FFN %d, vocab %d, %.1f MB of weights "
               "read per step\ndevice  %s\n\n",
               in->path, in->weight_type, in->dim, in->n_layers, in->n_heads, in->n_kv_heads, in->hidden_dim, V,
               wb / 1e6, plume_lm_device_name(lm));
        printf("%-28s %10s %14s %22s%s\n", "test", "tokens/s", "tokens/CPU-s", "weight bandwidth GB/s",
               rounds > 1 ? "   tokens/s range" : "");
        char label[64], range[64] = "";
        if (rounds > 1) snprintf(range, sizeof range, "   %.2f-%.2f", pp->lo, pp->hi);
        printf("%-28s %10.2f %14.2f %22s%s\n", "prompt", pp->med, ppc->med, "", range);
        if (rounds > 1) snprintf(range, sizeof range, "   %.2f-%.2f", tg1->lo, tg1->hi);
        printf("%-28s %10.2f %14.2f %22.2f%s\n", "decode, batch 1", tg1->med, tg1c->med, wb * tg1->med / 1e9, range);
        snprintf(label, sizeof label, "decode, batch %d", batch);
        if (rounds > 1) snprintf(range, sizeof range, "   %.2f-%.2f", tgn->lo, tgn->hi);
        printf("%-28s %10.2f %14.2f %22.2f%s\n", label, tgn->med, tgnc->med, wb * tgn->med / batch / 1e9, range);
        snprintf(label, sizeof label, "batch %d / batch 1", batch);
        if (rounds > 1) snprintf(range, sizeof range, "   %.2f-%.2f", sr.lo, sr.hi);
        printf("%-28s %9.2fx %14s %22s%s\n", label, sr.med, "", "", range);
        printf("%-28s %10s %14s %22.2f\n", "device streaming read", "", "", dev);
        printf("%-28s %10s %14s %22.2f\n", "host memcpy", "", "", host);
        if (rounds > 1) snprintf(range, sizeof range, "   %.0f-%.0f%%", 100 * sroof.lo, 100 * sroof.hi);
        printf("%-28s %10s %14s %21.0f%%%s\n", "batch 1 / streaming read", "", "", 100 * roofline, range);
        printf("\n(prompt: %d tokens in one prefill; decode: %d steps after one untimed step; %s;\n"
               " load average %.2f when it started: tokens/CPU-s x cores is what an idle machine could give)\n",
               n_prompt, n_decode, rounds > 1 ? "medians of the rounds, the ratio taken within each" : "one round",
               load[0]);
    }
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "plume bench: %s\n", err.msg);
out:
    plume_lm_batch_free(b1);
    plume_lm_batch_free(bn);
    free(tokens);
    free(amax);
    free(tok);
    free(seqs);
    plume_lm_release(lm);
    return rc;
}
